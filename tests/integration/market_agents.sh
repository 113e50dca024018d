#!/usr/bin/env bash
# market_agents.sh: the edge market with real processes: a 4-validator testnet
# (3 companies + 1 more validator, 2 observer devices), 6 ENs of 3 companies each
# served by an `edgefed en serve` agent, devices running `edgefed device run`:
# matched by the ledger, tasks paid by vouchers and checked, one session closed
# by the EN, one by the payer (the EN's watch service redeems within the
# challenge window), a moved device matched anew, tasks without a covering
# voucher refused with 402, every balance conserved.
set -euo pipefail
: "${EDGEFED:?}" "${EF_TEST_TMP:=/tmp}" "${EF_TEST_OUT:=/tmp}"
E=$EDGEFED
mkdir -p "$EF_TEST_TMP" "$EF_TEST_OUT"
T=$(mktemp -d "$EF_TEST_TMP/market_agents.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  "$E" testnet down --dir "$T/net" >/dev/null 2>&1 || true
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$T"; fi
}
trap cleanup EXIT
fail() { echo "market_agents.sh: FAIL: $*" >&2; for f in "$T"/en*.log "$T"/net/v0/node.log; do echo "--- $f" >&2; tail -n 20 "$f" >&2 || true; done; exit 1; }
pass() { echo "market_agents.sh: ok: $*"; }

# this test's own ports: P2P from $port, HTTP from $port + 100, others from $port + 200
source "$(dirname "$0")/lib/ports.bash"
ef_port_claim || exit 1
port=$BASE_PORT
"$E" testnet init --dir "$T/net" --validators 4 --observers 2 --base-port "$port" --accounts 0 --empty-block-ms 100 >/dev/null
jq '.params = {"channel": {"challenge_blocks": 8}}' "$T/net/genesis.json" > "$T/g.json" && mv "$T/g.json" "$T/net/genesis.json"
"$E" testnet up --dir "$T/net" >/dev/null
API=http://$(jq -r '.nodes[0].http' "$T/net/testnet.json")
for i in $(seq 1 100); do curl -sf "$API/status" >/dev/null && break; sleep 0.2; done
export EDGEFED_API=$API
pub() { jq -r ".nodes[$1].pub" "$T/net/testnet.json"; }
key() { echo "$T/net/$(jq -r ".nodes[$1].name" "$T/net/testnet.json")/node.key"; }
bal() { curl -sf "$API/state/bank/balance/$1" | jq .balance; }
total() { local s=0; for i in 0 1 2 3 4 5; do s=$((s + $(bal "$(pub $i)"))); done; echo $s; }
supply=$(curl -sf "$API/state/bank/supply" | jq .supply)
[ "$(total)" = "$supply" ] || fail "genesis balances do not add up"

# ---- 6 ENs of 3 companies, two per company, each with its agent
#        EN  company  x      y      price
ens="1 0 1000 1000 3
2 0 9000 1000 2
3 1 1200 1000 4
4 1 9000 9000 3
5 2 1000 9000 2
6 2 5000 5000 5"
while read -r en co x y price; do
  lp=$((port + 200 + en - 1))
  "$E" market register --key "$(key "$co")" --x "$x" --y "$y" --cpu-milli 4000 --mem-mb 4096 --slots 4 \
    --services hash --price "$price" --endpoint "http://127.0.0.1:$lp" --wait >"$T/out" || fail "register EN $en: $(cat "$T/out")"
  "$E" en serve --key "$(key "$co")" --listen "127.0.0.1:$lp" --price "$price" --watch-ms 100 >"$T/en$en.log" 2>&1 &
  pids+=($!)
done <<<"$ens"
for en in 1 2 3 4 5 6; do
  for i in $(seq 1 50); do curl -sf "http://127.0.0.1:$((port + 199 + en))/health" >/dev/null && break; sleep 0.1; done
  curl -sf "http://127.0.0.1:$((port + 199 + en))/health" >/dev/null || fail "EN agent $en not up"
done
pass "6 ENs of 3 companies registered, their agents serving"

# ---- device 1 near (1100, 1000): EN 1 (100 m, price 3) and EN 3 (100 m, price 4) tie on distance -> EN 1
D1=$(key 4); D2=$(key 5)
"$E" device run --key "$D1" --x 1100 --y 1000 --service hash --tasks 20 --task-bytes 3000 >"$T/d1" 2>&1 || fail "device 1: $(cat "$T/d1")"
grep -q "match 1 -> EN 1 " "$T/d1" || fail "device 1 not matched to EN 1: $(cat "$T/d1")"
grep -q "20/20 tasks answered and checked" "$T/d1" || fail "device 1 tasks: $(cat "$T/d1")"
grep -q "60 paid to the EN's company, 0 back" "$T/d1" || fail "device 1 payment: $(cat "$T/d1")"
pass "device 1: matched to EN 1 (tie on distance broken by price), 20 tasks paid by vouchers and checked, EN closed: 60 paid"

# ---- device 1 moves to (8800, 1200): a new match, EN 2
"$E" device run --key "$D1" --x 8800 --y 1200 --service hash --tasks 5 >"$T/d1b" 2>&1 || fail "device 1 moved: $(cat "$T/d1b")"
grep -q "match 2 -> EN 2 " "$T/d1b" || fail "moved device not matched to EN 2: $(cat "$T/d1b")"
pass "device 1 moved: new match to EN 2"

# ---- device 2 closes itself; EN 6's watch service must redeem within the window
"$E" device run --key "$D2" --x 5100 --y 5100 --service hash --tasks 7 --payer-close >"$T/d2" 2>&1 || fail "device 2: $(cat "$T/d2")"
grep -q "match 3 -> EN 6 " "$T/d2" || fail "device 2 not matched to EN 6: $(cat "$T/d2")"
grep -q "35 paid to the EN's company, 0 back" "$T/d2" || fail "device 2 payment: $(cat "$T/d2")"
curl -sf "http://127.0.0.1:$((port + 205))/stats" | jq -e '.watch_redeems == 1' >/dev/null \
  || fail "EN 6 watch service: $(curl -s "http://127.0.0.1:$((port + 205))/stats")"
pass "device 2 started the close itself: EN 6's watch service redeemed 35 within the challenge window"

# ---- a task without a covering voucher is refused (402), nothing served
"$E" channel open --key "$D2" --payee "$(pub 0)" --amount 10 --ttl 300 --wait >/dev/null || fail "open"
ch=$(curl -sf "$API/state/channel/payer/$(pub 5)" | jq '.[-1].channel')
chain=$(curl -sf "$API/status" | jq -r .chain_id)
low=$("$E" voucher make --key "$D2" --chain "$chain" --channel "$ch" --nonce 1 --amount 2)
over=$("$E" voucher make --key "$D2" --chain "$chain" --channel "$ch" --nonce 1 --amount 11)
forged=$("$E" voucher make --key "$D1" --chain "$chain" --channel "$ch" --nonce 1 --amount 3)
for v in "$low" "$over" "$forged" "00"; do
  c=$(curl -s -o "$T/r" -w '%{http_code}' -X POST -H "X-Voucher: $v" --data-binary x "http://127.0.0.1:$((port + 200))/task?channel=$ch")
  [ "$c" = 402 ] || fail "task with a bad voucher: HTTP $c $(cat "$T/r")"
done
c=$(curl -s -o "$T/r" -w '%{http_code}' -X POST --data-binary x "http://127.0.0.1:$((port + 200))/task?channel=$ch")
[ "$c" = 402 ] || fail "task without a voucher: HTTP $c"
good=$("$E" voucher make --key "$D2" --chain "$chain" --channel "$ch" --nonce 1 --amount 3)
c=$(curl -s -o "$T/r" -w '%{http_code}' -X POST -H "X-Voucher: $good" --data-binary x "http://127.0.0.1:$((port + 200))/task?channel=$ch")
[ "$c" = 200 ] || fail "task with a covering voucher: HTTP $c $(cat "$T/r")"
c=$(curl -s -o "$T/r" -w '%{http_code}' -X POST -H "X-Voucher: $good" --data-binary x "http://127.0.0.1:$((port + 200))/task?channel=$ch")
[ "$c" = 402 ] || fail "replayed voucher: HTTP $c"
pass "EN agent: vouchers below the price, over the deposit, forged, malformed, missing or replayed refused with 402"

# ---- money: every balance adds up, nothing left locked but the last channel's 10
[ "$(total)" = $((supply - 10)) ] || fail "balances $(total) + 10 locked != supply $supply"
[ "$(curl -sf "$API/state/bank/supply" | jq .locked)" = 10 ] || fail "locked"
[ "$(curl -sf "$API/state/market/stats/$(pub 2)" | jq .matches_won)" = 1 ] || fail "stats company 2"
[ "$(curl -sf "$API/state/market/en/1" | jq .slots_used)" = 0 ] || fail "EN 1 slot not released"
"$E" testnet check --dir "$T/net" >/dev/null || fail "nodes disagree"
pass "balances + locked = supply; slots released; every node has the same blocks"
