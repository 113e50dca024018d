#!/usr/bin/env bash
# demo_hierarchy.sh: `edgefed demo hierarchy` end to end with real node processes
# (two private committee-run domain ledgers of 8 devices, a federation ledger of 4
# validators whose v0 and v1 run the relayers): exits 0, and prints every step.
set -euo pipefail
: "${EDGEFED:?}" "${EF_TEST_TMP:?}"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
dir=$(mktemp -d "$EF_TEST_TMP/demo-hierarchy.XXXXXX")
out="$dir/out.txt"
# this test's own ports (ports.bash)
source "$(dirname "$0")/lib/ports.bash"
ef_port_claim || exit 1
if ! "$EDGEFED" demo hierarchy --dir "$dir/run" --base-port "$BASE_PORT" >"$out" 2>&1; then
    cat "$out" >&2
    for f in "$dir"/run/*/*/node.log; do echo "== $f (tail)" >&2; tail -n 20 "$f" >&2 || true; done
    echo "FAIL: demo hierarchy exited non-zero; files in $dir" >&2
    exit 1
fi
cat "$out"
for want in "registered on the anchor" "checkpoints flowing" "rotated its committee" "VALID against the anchor" \
            "presented as one of domain b: refused" "FROZEN" "UNFROZEN" "checkpoints of a resumed" \
            "proofs of a verify again" "anchored it, over its last" "peak RSS" "demo hierarchy: OK"; do
    grep -qF "$want" "$out" || { echo "FAIL: the demo did not print '$want'" >&2; exit 1; }
done
if grep -l "Sanitizer\|runtime error\|assertion failed" "$dir"/run/*/*/node.log 2>/dev/null; then
    echo "FAIL: a node reported a sanitizer error or an assertion" >&2; exit 1
fi
rm -rf "$dir"
