#!/usr/bin/env bash
# bench_hierarchy.sh: `edgefed bench hierarchy` on a small size runs the same
# harness on both ledgers of a hierarchy it lays out (the private domain ledger
# and the federation, whose relayer anchors the domain meanwhile), writes the
# JSON and the markdown with both columns beside the paper's, and stops every
# node it started.
set -euo pipefail
: "${EDGEFED:?}" "${EF_TEST_TMP:?}"
mkdir -p "$EF_TEST_TMP"
dir=$(mktemp -d "$EF_TEST_TMP/bench-hierarchy.XXXXXX")
trap 'rm -rf "$dir"' EXIT
# the bench exits 1 when a node is over 32 MB: a sanitizer build's shadow memory
# is, so there only that refusal is allowed (and the RSS figures are its own)
asan=0
grep -qa __asan_init "$EDGEFED" && asan=1
# this test's own ports (ports.bash)
source "$(dirname "$0")/lib/ports.bash"
ef_port_claim || exit 1
rc=0
"$EDGEFED" bench hierarchy --queries 50 --records 10 --burst 200 --accounts 11 --epoch-heights 12 \
    --base-port "$BASE_PORT" --dir "$dir/run" --out "$dir/out" >"$dir/log" 2>&1 || rc=$?
if [ $rc != 0 ] && ! { [ $asan = 1 ] && [ $rc = 1 ] && grep -q "OVER the 32 MB aim" "$dir/log"; }; then
    cat "$dir/log" >&2; echo "FAIL: bench hierarchy exited $rc" >&2; exit 1
fi
python3 - "$dir/out/hierarchy.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("domain_ledger", "federation_ledger"):
    r = d[k]
    assert r["query_ms"]["n"] == 50 and 0 < r["query_ms"]["p50"] <= r["query_ms"]["p99"], (k, r)
    assert r["record_ms"]["n"] == 10 and 0 < r["record_ms"]["p50"] <= r["record_ms"]["p99"], (k, r)
    assert r["burst_local"]["txs"] == 200 and r["burst_local"]["tx_per_s"] > 0, (k, r)
    assert r["burst_http"]["txs"] == 200 and r["burst_http"]["tx_per_s"] > 0, (k, r)
    assert len(r["nodes"]) == 4 and all(n["peak_rss_kb"] > 0 for n in r["nodes"]), (k, r)
assert d["domain_ledger"]["private_reads"] and not d["federation_ledger"]["private_reads"], d
assert d["domain_ledger"]["chain_id"] == "domain-a" and d["federation_ledger"]["chain_id"] == "federation", d
assert d["paper_table2"]["pow"]["tx_per_s"] == 127, d
PY
grep -q "| edgefed domain ledger | edgefed federation ledger | paper, BFT domain ledger | paper, PoW" "$dir/out/hierarchy.md"
for f in "$dir"/run/net/*/*/node.pid; do
    st=$(awk '/^State:/ {print $2}' "/proc/$(cat "$f")/status" 2>/dev/null || true)
    [ -z "$st" ] || [ "$st" = Z ] || { echo "FAIL: node of $f still running" >&2; exit 1; }
done
grep "peak node RSS" "$dir/log"
echo "bench_hierarchy: OK"
