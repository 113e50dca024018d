#!/usr/bin/env bash
# browser.sh: Debian's chromium, headless, driven by playwright-core, opens the
# explorer of a running 4-validator testnet, sees the height grow, submits
# transactions through the API, sees them appear and opens their detail; the
# screenshots go to $EF_TEST_OUT/browser/.
set -euo pipefail
: "${EDGEFED:?}" "${EF_SRC:?}" "${EF_TEST_TMP:=/tmp}" "${EF_TEST_OUT:=/tmp}"
E=$EDGEFED
B=$EF_SRC/tests/browser
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "browser.sh: FAIL: $CHROMIUM missing (scripts/setup installs chromium)" >&2; exit 1; }
[ -d "$B/node_modules/playwright-core" ] || { echo "browser.sh: FAIL: run scripts/setup (npm install in tests/browser)" >&2; exit 1; }
mkdir -p "$EF_TEST_TMP" "$EF_TEST_OUT/browser"
T=$(mktemp -d "$EF_TEST_TMP/browser.XXXXXX")
cleanup() {
  "$E" testnet down --dir "$T/net" >/dev/null 2>&1 || true
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$T"; fi
}
trap cleanup EXIT

# this test's own ports: P2P from $port, HTTP from $port + 100, others from $port + 200
source "$(dirname "$0")/lib/ports.bash"
ef_port_claim || exit 1
port=$BASE_PORT
"$E" testnet init --dir "$T/net" --validators 4 --observers 1 --base-port "$port" --accounts 4 >/dev/null
"$E" testnet up --dir "$T/net" >/dev/null
API=http://$(jq -r '.nodes[0].http' "$T/net/testnet.json")
for i in $(seq 1 100); do curl -sf "$API/status" >/dev/null && break; sleep 0.2; done
KEY=$T/net/o0/node.key
TO=$(jq -r '.nodes[1].pub' "$T/net/testnet.json")
# a first block, so the page opens on a chain with history
"$E" tx send --api "$API" --key "$KEY" --contract bank --method transfer --args "{\"to\":\"$TO\",\"amount\":1}" --wait >/dev/null
n=$("$E" query "/accounts/$(jq -r '.nodes[4].pub' "$T/net/testnet.json")" --api "$API" | jq .nonce)
tx1=$("$E" tx send --api "$API" --key "$KEY" --contract bank --method transfer --args "{\"to\":\"$TO\",\"amount\":2}" --nonce "$n" --dry-run)
tx2=$("$E" tx send --api "$API" --key "$KEY" --contract bank --method transfer --args "{\"to\":\"$TO\",\"amount\":3}" --nonce $((n + 1)) --dry-run)
EF_API_URL=$API EF_TX_HEXES="$tx1,$tx2" EF_TEST_OUT="$EF_TEST_OUT/browser" CHROMIUM=$CHROMIUM \
  timeout 180 node "$B/explorer_test.js"
ls "$EF_TEST_OUT/browser/explorer.png" >/dev/null
echo "browser.sh: all ok"
