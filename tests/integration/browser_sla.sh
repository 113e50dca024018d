#!/usr/bin/env bash
# browser_sla.sh: the explorer's SLA section in Debian's chromium
# (playwright-core) on a one-validator testnet: SLA 1 with epochs receipted,
# breached, disputed and open, SLA 2 nullified; the list, states, epoch colours
# and paid amounts are checked, and a claim made while the page is open shows
# up live; the operator's published tree (docs/examples/slice-tree.json) is drawn
# as an SVG with every link, SLA 1's confirmed path highlighted with its
# reserved kbit/s. The screenshot goes to $EF_TEST_OUT/browser/sla.png.
set -euo pipefail
: "${EDGEFED:?}" "${EF_SRC:?}" "${EF_TEST_TMP:=/tmp}" "${EF_TEST_OUT:=/tmp}"
E=$EDGEFED
B=$EF_SRC/tests/browser
MODULES=${EF_BROWSER_MODULES:-$B/node_modules}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "browser_sla.sh: FAIL: $CHROMIUM missing (scripts/setup installs chromium)" >&2; exit 1; }
[ -d "$MODULES/playwright-core" ] || { echo "browser_sla.sh: FAIL: run scripts/setup" >&2; exit 1; }
mkdir -p "$EF_TEST_TMP" "$EF_TEST_OUT/browser"
T=$(mktemp -d "$EF_TEST_TMP/browser_sla.XXXXXX")
cleanup() {
  "$E" testnet down --dir "$T/net" >/dev/null 2>&1 || true
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$T"; fi
}
trap cleanup EXIT
fail() { echo "browser_sla.sh: FAIL: $*" >&2; exit 1; }
# this test's own ports: P2P from $port, HTTP from $port + 100, others from $port + 200
source "$(dirname "$0")/lib/ports.bash"
ef_port_claim || exit 1
port=$BASE_PORT
"$E" testnet init --dir "$T/net" --validators 1 --observers 1 --base-port "$port" --empty-block-ms 100 >/dev/null
"$E" testnet up --dir "$T/net" >/dev/null
API=http://$(jq -r '.nodes[0].http' "$T/net/testnet.json")
for i in $(seq 1 100); do curl -sf "$API/status" >/dev/null && break; sleep 0.2; done
export EDGEFED_API=$API
CHAIN=$(curl -sf "$API/status" | jq -r .chain_id)
key() { echo "$T/net/$(jq -r ".nodes[$1].name" "$T/net/testnet.json")/node.key"; }
OP=$(key 0); CU=$(key 1)
MON=$("$E" keygen --out "$T/mon.key"); EDGE=$("$E" keygen --out "$T/edge.key")
run() { "$@" --wait >"$T/out" 2>&1 || fail "$*: $(cat "$T/out")"; }
run "$E" sla post-bond --key "$OP" --amount 10000
run "$E" sla offer --key "$OP" --area ap1 --min-kbps 1000 --max-latency-us 20000 --max-loss-ppm 10000 \
  --price 1000 --epoch-ms 300 --max-epochs 8 --penalty-kbps-ppm 500000 --penalty-latency-ppm 300000 \
  --penalty-loss-ppm 200000 --cheat-penalty 1000 --confirm-blocks 200 --claim-window-ms 600000 --dispute-window-blocks 100000
run "$E" sla activate --key "$CU" --offer 1 --epochs 4 --ap ap1 --dst srv --monitor "$MON"
run "$E" sla topology --key "$OP" --file "$EF_SRC/docs/examples/slice-tree.json"
run "$E" sla confirm --key "$OP" --sla 1 --slice s1 --path edge1-car1,agg1-edge1,core-agg1,core-srv --edge-monitor "$EDGE"
run "$E" sla activate --key "$CU" --offer 1 --epochs 2 --ap ap1 --dst srv --monitor "$MON"
run "$E" sla fail --key "$OP" --sla 2 --reason "no capacity"
end=$(curl -sf "$API/state/sla/sla/1" | jq .end_ms)
while [ $(( $(date +%s%N) / 1000000 )) -le $((end + 300)) ]; do sleep 0.1; done
mk() { "$E" sla receipt make --key "$1" --chain "$CHAIN" --sla 1 --epoch "$2" --kbps "$3" --sent 10 --recv 10 \
         --p50-us 100 --p99-us 200 --max-us 300 --min-kbps 1000 --max-latency-us 20000 --max-loss-ppm 10000; }
run "$E" sla claim --key "$OP" --sla 1 --receipts "$(mk "$T/mon.key" 0 5000),$(mk "$T/mon.key" 1 10)"
run "$E" sla submit --key "$OP" --sla 1 --receipts "$(mk "$T/edge.key" 2 5000)"
run "$E" sla contradict --key "$CU" --sla 1 --receipt "$(mk "$T/mon.key" 2 10)"
[ "$(curl -sf "$API/state/sla/sla/1" | jq -c .epoch_status)" = '["paid","breached","disputed","open"]' ] \
  || fail "epochs: $(curl -s "$API/state/sla/sla/1")"
OPPUB=$(curl -sf "$API/state/sla/sla/1" | jq -r .operator)
[ "$(curl -sf "$API/state/sla/topology/$OPPUB" | jq -c '[.links[] | select(.reserved_kbps > 0) | .name] | sort')" = \
  '["agg1-edge1","core-agg1","core-srv","edge1-car1"]' ] || fail "topology: $(curl -s "$API/state/sla/topology/$OPPUB")"
EF_API_URL=$API EF_TEST_OUT="$EF_TEST_OUT/browser" CHROMIUM=$CHROMIUM NODE_PATH=$MODULES \
EF_SLA_WANT='{"1":{"state":"active","epochs":["paid","breached","disputed","open"],"paid":1500},"2":{"state":"nullified","epochs":["open","open"],"paid":0}}' \
EF_TOPO_WANT='{"links":10,"reserved":{"edge1-car1":"1000/20000","agg1-edge1":"1000/20000","core-agg1":"1000/40000","core-srv":"1000/100000"},"free":{"edge1-car2":"0/20000","agg2-edge3":"0/20000"}}' \
EF_SLA_LIVE=1:3 EF_CLAIM_CMD="'$E' sla claim --api '$API' --key '$OP' --sla 1 --receipts $(mk "$T/mon.key" 3 5000) --wait" \
timeout 180 node "$B/sla_test.js"
ls "$EF_TEST_OUT/browser/sla.png" >/dev/null
echo "browser_sla.sh: all ok"
