#!/usr/bin/env bash
# federation.sh: the whole MEC federation workflow with 3 MEC systems (validator node +
# MEF agent each) through `edgefed demo`: announce, bids, award, deployment, app-to-app
# traffic, payment; then the stores agree and the total of balances is unchanged.
# netns driver when root (each MEC system a namespace, VXLAN tunnel), process otherwise.
set -u
: "${EDGEFED:?}" "${EF_TEST_TMP:=/tmp}"
mkdir -p "$EF_TEST_TMP"
dir=$(mktemp -d "$EF_TEST_TMP/fed-it-XXXXXX")
out="$dir.out"
cleanup() {
    "$EDGEFED" testnet down --dir "$dir" >/dev/null 2>&1 || true
    rm -rf "$dir" "$out"
}
trap cleanup EXIT INT TERM

driver=process
[ "$(id -u)" = 0 ] && driver=netns
echo "federation.sh: driver $driver, dir $dir"
"$EDGEFED" demo federation --n 3 --driver "$driver" --dir "$dir" --timeout 150 >"$out" 2>&1
rc=$?
cat "$out"
fail() { echo "federation.sh: FAIL: $*"; for l in "$dir"/v*/node.log; do echo "== $l"; tail -n 30 "$l"; done; exit 1; }
[ $rc = 0 ] || fail "demo exited $rc"
grep -q "AWARD by the contract" "$out" || fail "no award"
grep -q "APP-TO-APP TRAFFIC flows" "$out" || fail "no app-to-app traffic"
grep -q "PAYMENT: [1-9][0-9]* released from escrow" "$out" || fail "no payment"
grep -q "with the same hash: yes" "$out" || fail "nodes disagree"
grep -q "total of balances: .* unchanged" "$out" || fail "total of balances changed"
grep -q "state connected, paid [1-9]" "$out" || fail "service not connected and paid on the ledger"
# seed 004: the agents recorded the orchestration: award (naming the winner), deployment, tunnel
grep -q "provenance trail: consumer, winner, deployment, tunnel: complete" "$out" || fail "no complete provenance trail"
# the two providers that lost must have bid too (3 MEC systems: 1 consumer, 2 providers)
[ "$(grep -c 'offer [0-9] committed' "$out")" -ge 2 ] || fail "fewer than 2 offers"
# nothing left running from this federation
if pgrep -f -- "$dir" >/dev/null; then fail "processes left: $(pgrep -af -- "$dir")"; fi
echo "federation.sh: OK"
