#!/usr/bin/env bash
# demo_market.sh: `edgefed demo market` end to end with real node processes and
# in-process EN agents: 3 companies, 6 ENs, 3 devices (one moving), the collusion
# case refused, tasks paid by vouchers, the watch service redeeming, balances
# conserved; it must exit 0 and print what it claims.
set -euo pipefail
: "${EDGEFED:?}" "${EF_TEST_TMP:=/tmp}"
mkdir -p "$EF_TEST_TMP"
out=$(mktemp "$EF_TEST_TMP/demo_market.XXXXXX")
trap 'rm -f "$out"' EXIT
# this test's own ports: P2P from $port, HTTP from $port + 100, others from $port + 200
source "$(dirname "$0")/lib/ports.bash"
ef_port_claim || exit 1
port=$BASE_PORT
if ! "$EDGEFED" demo market --tasks 30 --base-port "$port" >"$out" 2>&1; then
  cat "$out" >&2; echo "demo_market.sh: FAIL: demo exited non-zero" >&2; exit 1
fi
cat "$out"
for want in "refused (EPERM), nothing recorded" "match 1 -> EN 1 " "30/30 tasks answered and checked" \
            "the EN's watch service must redeem" "device 3 moved: a new match" "match 4 -> EN 2 " \
            "balances conserved" "every node holds the same blocks" "demo market: OK"; do
  grep -qF "$want" "$out" || { echo "demo_market.sh: FAIL: output lacks '$want'" >&2; exit 1; }
done
echo "demo_market.sh: ok"
