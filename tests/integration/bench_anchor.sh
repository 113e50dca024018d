#!/usr/bin/env bash
# bench_anchor.sh: `edgefed bench hierarchy-anchor` on a small size runs through
# (every checkpoint accepted, proofs verified) and writes its JSON and markdown.
set -euo pipefail
: "${EDGEFED:?}" "${EF_TEST_TMP:?}"
mkdir -p "$EF_TEST_TMP"
dir=$(mktemp -d "$EF_TEST_TMP/bench-anchor.XXXXXX")
trap 'rm -rf "$dir"' EXIT
"$EDGEFED" bench hierarchy-anchor --domains 3,7 --rounds 2 --proofs 20 --dir "$dir/stores" --out "$dir/out" >"$dir/log"
python3 - "$dir/out/hierarchy-anchor.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert [r["domains"] for r in d["runs"]] == [3, 7], d
assert all(r["checkpoints"] == 2 * r["domains"] and r["checkpoints_per_s_exec"] > 0 for r in d["runs"]), d
assert d["proof"]["us_per_proof_with_cert"] > 0 and d["proof"]["proof_bytes"] > 0, d
PY
grep -q "checkpoints/s" "$dir/out/hierarchy-anchor.md"
echo "bench_anchor: OK"
