#!/usr/bin/env bash
# layering.sh: the build enforces the layers. A ledger source that includes a
# contracts header does not compile; one that calls into contracts through a
# hand-written declaration does not link; the same build of a source using only
# the ledger's allowed layers succeeds (so the failures are the layering's).
set -euo pipefail
: "${EF_BUILD:?}"
out=$(mktemp -d "${TMPDIR:-/tmp}/ef-layering.XXXXXX")
trap 'rm -rf "$out"' EXIT

build() { cmake --build "$EF_BUILD" --target "$1" >"$out/$1.log" 2>&1; }

build ef_probe_right || { cat "$out/ef_probe_right.log"; echo "FAIL: the control probe does not build"; exit 1; }

if build ef_probe_wrong_include; then
    echo "FAIL: a ledger source including contracts/ef_contracts.h compiled"; exit 1
fi
grep -q "contracts/ef_contracts.h" "$out/ef_probe_wrong_include.log" &&
    grep -Eq "No such file|file not found" "$out/ef_probe_wrong_include.log" ||
    { cat "$out/ef_probe_wrong_include.log"; echo "FAIL: wrong include failed for another reason"; exit 1; }

if build ef_probe_wrong_call; then
    echo "FAIL: a ledger source calling into contracts linked"; exit 1
fi
grep -Eq "undefined (reference|symbol).*ef_contracts_builtin_len" "$out/ef_probe_wrong_call.log" ||
    { cat "$out/ef_probe_wrong_call.log"; echo "FAIL: wrong call failed for another reason"; exit 1; }
echo "layering: wrong include refused, wrong call refused, control builds"
