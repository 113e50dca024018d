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
port=
for try in $(seq 0 40); do
  p=$((30000 + (($$ + try * 47) % 100) * 20))   # below the ephemeral range
  busy=0
  for o in 0 1 2 3 4 5 6 100 101 102 103 104 105 106 200 201 202 203 204 205; do
    ss -Htan 2>/dev/null | awk '{print $4}' | grep -q ":$((p + o))\$" && busy=1
  done
  [ $busy = 0 ] && { port=$p; break; }
done
[ -n "$port" ] || { echo "no free ports" >&2; exit 1; }
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
