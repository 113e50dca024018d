#!/usr/bin/env bash
# browser_market.sh: the explorer's edge-market section in Debian's chromium
# (playwright-core): after `edgefed demo market --keep` (6 ENs of 3 companies, 4
# matches) and one channel left open with part redeemed, the map, the match list
# with its audit fields and the open channel are checked, and a new match shows up
# live. The screenshot goes to $EF_TEST_OUT/browser/market.png.
set -euo pipefail
: "${EDGEFED:?}" "${EF_SRC:?}" "${EF_TEST_TMP:=/tmp}" "${EF_TEST_OUT:=/tmp}"
E=$EDGEFED
B=$EF_SRC/tests/browser
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "browser_market.sh: FAIL: $CHROMIUM missing (scripts/setup installs chromium)" >&2; exit 1; }
[ -d "$B/node_modules/playwright-core" ] || { echo "browser_market.sh: FAIL: run scripts/setup" >&2; exit 1; }
mkdir -p "$EF_TEST_TMP" "$EF_TEST_OUT/browser"
T=$(mktemp -d "$EF_TEST_TMP/browser_market.XXXXXX")
cleanup() {
  "$E" testnet down --dir "$T/net" >/dev/null 2>&1 || true
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$T"; fi
}
trap cleanup EXIT
# this test's own ports: P2P from $port, HTTP from $port + 100, others from $port + 200
source "$(dirname "$0")/lib/ports.bash"
ef_port_claim || exit 1
port=$BASE_PORT
"$E" demo market --keep --dir "$T" --base-port "$port" --tasks 5 >"$T/demo.out" 2>&1 || { cat "$T/demo.out" >&2; exit 1; }
API=http://$(jq -r '.nodes[0].http' "$T/net/testnet.json")
export EDGEFED_API=$API
key() { echo "$T/net/$(jq -r ".nodes[$1].name" "$T/net/testnet.json")/node.key"; }
PAYEE=$(jq -r '.nodes[1].pub' "$T/net/testnet.json")
chain=$(curl -sf "$API/status" | jq -r .chain_id)
"$E" channel open --key "$(key 4)" --payee "$PAYEE" --amount 100 --ttl 1000 --wait >/dev/null
ch=$(curl -sf "$API/state/channel/channels" | jq '.[-1].channel')
v=$("$E" voucher make --key "$(key 4)" --chain "$chain" --channel "$ch" --nonce 1 --amount 40)
"$E" channel redeem --key "$(key 1)" --channel "$ch" --voucher "$v" --wait >/dev/null
EF_API_URL=$API EF_ENS=6 EF_COMPANIES=3 EF_MATCHES=4 EF_CHANNEL="$ch:100:40" EF_TEST_OUT="$EF_TEST_OUT/browser" \
EF_MATCH_CMD="'$E' market match --api '$API' --key '$(key 5)' --x 9000 --y 8900 --service hash --cpu-milli 1 --mem-mb 1 --slots 1 --max-dist 5000 --max-price 10 --ttl 100 --wait" \
CHROMIUM=$CHROMIUM timeout 180 node "$B/market_test.js"
ls "$EF_TEST_OUT/browser/market.png" >/dev/null
echo "browser_market.sh: all ok"
