#!/usr/bin/env bash
# market.sh: the market and channel contracts on a running 4-validator testnet
# (validators = companies, observers = devices) through the CLI only: ENs
# registered by three companies, a device matched to the nearest one, the
# collusion case refused, a channel opened, vouchers made and checked offline,
# the latest one redeemed with close, balances conserved, a foreign company
# unable to touch another's EN, every new read of /state/market and
# /state/channel answering.
set -euo pipefail
: "${EDGEFED:?}" "${EF_TEST_TMP:=/tmp}" "${EF_TEST_OUT:=/tmp}"
E=$EDGEFED
mkdir -p "$EF_TEST_TMP" "$EF_TEST_OUT"
T=$(mktemp -d "$EF_TEST_TMP/market.XXXXXX")
cleanup() {
  "$E" testnet down --dir "$T/net" >/dev/null 2>&1 || true
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$T"; fi
}
trap cleanup EXIT
fail() { echo "market.sh: FAIL: $*" >&2; for f in "$T"/net/*/node.log; do echo "--- $f" >&2; tail -n 20 "$f" >&2 || true; done; exit 1; }
pass() { echo "market.sh: ok: $*"; }

# this test's own ports: P2P from $port, HTTP from $port + 100, others from $port + 200
source "$(dirname "$0")/lib/ports.bash"
ef_port_claim || exit 1
port=$BASE_PORT
"$E" testnet init --dir "$T/net" --validators 4 --observers 2 --base-port "$port" --empty-block-ms 100 >/dev/null
jq '.params = {"channel": {"challenge_blocks": 40}}' "$T/net/genesis.json" > "$T/g.json" && mv "$T/g.json" "$T/net/genesis.json"
"$E" testnet up --dir "$T/net" >/dev/null
API=http://$(jq -r '.nodes[0].http' "$T/net/testnet.json")
for i in $(seq 1 100); do curl -sf "$API/status" >/dev/null && break; sleep 0.2; done
export EDGEFED_API=$API
CHAIN=$(curl -sf "$API/status" | jq -r .chain_id)
pub() { jq -r ".nodes[$1].pub" "$T/net/testnet.json"; }
key() { echo "$T/net/$(jq -r ".nodes[$1].name" "$T/net/testnet.json")/node.key"; }
CO0=$(key 0); CO1=$(key 1); CO2=$(key 2)
DEV=$(key 4); DEVPUB=$(pub 4)
bal() { curl -sf "$API/state/bank/balance/$1" | jq .balance; }

# ---- three companies register ENs (a ring around (5000, 5000))
reg() { # reg KEY X Y PRICE
  "$E" market register --key "$1" --x "$2" --y "$3" --cpu-milli 4000 --mem-mb 4096 --slots 2 \
    --services hash,resize --price "$4" --endpoint "http://127.0.0.1:9999" --wait >"$T/out" || fail "register: $(cat "$T/out")"
}
reg "$CO0" 5000 5300 4   # EN 1: 300 m away
reg "$CO1" 5200 5000 2   # EN 2: 200 m away
reg "$CO2" 5000 4800 3   # EN 3: 200 m away, dearer than EN 2
reg "$CO0" 9000 9000 1   # EN 4: far
[ "$(curl -sf "$API/state/market/ens" | jq length)" = 4 ] || fail "ens: $(curl -s "$API/state/market/ens")"
[ "$(curl -sf "$API/state/market/company/$(pub 0)" | jq length)" = 2 ] || fail "company query"
[ "$(curl -sf "$API/state/market/cell/5/5" | jq length)" = 2 ] || fail "cell query: $(curl -s "$API/state/market/cell/5/5")"
pass "3 companies registered 4 ENs (queries ens, company, cell)"

# a device cannot register; a company cannot retire another's EN
if "$E" market register --key "$DEV" --x 1 --y 1 --cpu-milli 1 --mem-mb 1 --slots 1 --services hash --price 1 \
     --endpoint e --wait >"$T/out" 2>&1; then fail "a device registered an EN"; fi
grep -q ENOTVAL "$T/out" || fail "device register: $(cat "$T/out")"
if "$E" market retire --key "$CO1" --en 1 --wait >"$T/out" 2>&1; then fail "foreign retire accepted"; fi
grep -q EPERM "$T/out" || fail "foreign retire: $(cat "$T/out")"
pass "device register refused (ENOTVAL), foreign retire refused (EPERM)"

# ---- the collusion case: a proxy recommending EN 1 cannot get it recorded
if "$E" market match --key "$DEV" --x 5000 --y 5000 --service hash --cpu-milli 500 --mem-mb 256 --slots 1 \
     --max-dist 2000 --max-price 5 --ttl 200 --en 1 --wait >"$T/out" 2>&1; then fail "rule-breaking match recorded"; fi
grep -q EPERM "$T/out" || fail "collusion: $(cat "$T/out")"
[ "$(curl -sf "$API/state/market/matches" | jq length)" = 0 ] || fail "a match was recorded"
pass "a match naming an EN other than the rule's is refused and nothing is recorded"

# ---- the device's match: nearest (200 m), then cheaper (EN 2 over EN 3)
"$E" market match --key "$DEV" --x 5000 --y 5000 --service hash --cpu-milli 500 --mem-mb 256 --slots 1 \
  --max-dist 2000 --max-price 5 --ttl 200 --wait >"$T/out" || fail "match: $(cat "$T/out")"
m=$(curl -sf "$API/state/market/match/1")
[ "$(jq .en <<<"$m")" = 2 ] || fail "match chose $(jq .en <<<"$m"), want EN 2: $m"
[ "$(jq .dist2 <<<"$m")" = 40000 ] || fail "dist2: $m"
[ "$(jq .eligible <<<"$m")" = 3 ] || fail "eligible: $m"
[ "$(jq -r .state <<<"$m")" = active ] || fail "state: $m"
[ "$(curl -sf "$API/state/market/device/$DEVPUB" | jq length)" = 1 ] || fail "device query"
[ "$(curl -sf "$API/state/market/en/2" | jq .slots_used)" = 1 ] || fail "slot not reserved"
[ "$(curl -sf "$API/state/market/stats/$(pub 1)" | jq .matches_won)" = 1 ] || fail "stats: $(curl -s "$API/state/market/stats/$(pub 1)")"
pass "match 1: EN 2 at distance^2 40000 among 3 eligible, slot reserved, stats updated"

# ---- a channel with EN 2's company, paid by vouchers
PAYEE=$(pub 1)
b_dev=$(bal "$DEVPUB"); b_co=$(bal "$PAYEE")
"$E" channel open --key "$DEV" --payee "$PAYEE" --amount 1000 --ttl 500 --wait >"$T/out" || fail "open: $(cat "$T/out")"
[ "$(curl -sf "$API/state/channel/channel/1" | jq -r .state)" = open ] || fail "channel not open"
for n in 1 2 3; do
  "$E" voucher make --key "$DEV" --chain "$CHAIN" --channel 1 --nonce $n --amount $((n * 100)) >"$T/v$n" || fail "voucher make"
done
"$E" voucher check "$(cat "$T/v3")" --payer "$DEVPUB" --chain "$CHAIN" --channel 1 --min-amount 300 >/dev/null \
  || fail "voucher check of a good voucher"
if "$E" voucher check "$(cat "$T/v3")" --payer "$PAYEE" >/dev/null 2>&1; then fail "voucher check: wrong payer accepted"; fi
pass "vouchers made and checked offline (right payer accepted, wrong one refused)"
"$E" channel redeem --key "$CO1" --channel 1 --voucher "$(cat "$T/v2")" --wait >"$T/out" || fail "redeem v2: $(cat "$T/out")"
if "$E" channel redeem --key "$CO1" --channel 1 --voucher "$(cat "$T/v1")" --wait >"$T/out" 2>&1; then fail "stale voucher"; fi
grep -q ENONCE "$T/out" || fail "stale voucher: $(cat "$T/out")"
if "$E" channel redeem --key "$CO2" --channel 1 --voucher "$(cat "$T/v3")" --wait >"$T/out" 2>&1; then fail "not the payee"; fi
grep -q EPERM "$T/out" || fail "not the payee: $(cat "$T/out")"
"$E" channel redeem --key "$CO1" --channel 1 --voucher "$(cat "$T/v3")" --close --wait >"$T/out" || fail "redeem v3: $(cat "$T/out")"
ch=$(curl -sf "$API/state/channel/channel/1")
[ "$(jq -r .state <<<"$ch")" = closed ] || fail "channel: $ch"
[ "$(jq .redeemed <<<"$ch")" = 300 ] && [ "$(jq .refunded <<<"$ch")" = 700 ] || fail "channel amounts: $ch"
[ "$(bal "$PAYEE")" = $((b_co + 300)) ] || fail "payee balance $(bal "$PAYEE"), want $((b_co + 300))"
[ "$(bal "$DEVPUB")" = $((b_dev - 300)) ] || fail "payer balance $(bal "$DEVPUB"), want $((b_dev - 300))"
[ "$(curl -sf "$API/state/bank/supply" | jq .locked)" = 0 ] || fail "money still locked"
[ "$(curl -sf "$API/state/channel/payee/$PAYEE" | jq length)" = 1 ] || fail "payee query"
pass "channel: stale voucher refused (ENONCE), other company refused (EPERM), latest redeemed with close: 300 paid, 700 back"

# ---- end of the session frees the slot
"$E" market end --key "$DEV" --match 1 --wait >"$T/out" || fail "end: $(cat "$T/out")"
[ "$(curl -sf "$API/state/market/en/2" | jq .slots_used)" = 0 ] || fail "slot not released"
[ "$(curl -sf "$API/state/market/match/1" | jq -r .state)" = ended ] || fail "match not ended"
[ "$(curl -sf "$API/state/market/stats" | jq length)" = 3 ] || fail "stats list"
curl -sf "$API/state/market/params" | jq -e '.cell_m > 0' >/dev/null || fail "params"
curl -sf "$API/state/channel/params" | jq -e '.challenge_blocks > 0' >/dev/null || fail "channel params"
pass "session ended, slot released; stats and params answer"
# ---- the other methods: update, expire, top-up, start-close, settle
"$E" market update --key "$CO0" --en 4 --price 7 --slots 3 --wait >"$T/out" || fail "update: $(cat "$T/out")"
[ "$(curl -sf "$API/state/market/en/4" | jq '.price, .slots' | tr '\n' ' ')" = "7 3 " ] || fail "update not applied"
"$E" market match --key "$DEV" --x 9000 --y 9000 --service hash --cpu-milli 1 --mem-mb 1 --slots 1 \
  --max-dist 100 --max-price 9 --ttl 2 --wait >/dev/null || fail "short match"
sleep 1   # empty blocks pass the expiry height
"$E" market expire --key "$(key 3)" --wait >"$T/out" || fail "expire: $(cat "$T/out")"
[ "$(curl -sf "$API/state/market/match/2" | jq -r .state)" = expired ] || fail "match 2 not expired: $(curl -s "$API/state/market/match/2")"
[ "$(curl -sf "$API/state/market/en/4" | jq .slots_used)" = 0 ] || fail "expiry did not release"
pass "update (price, slots), expiry released by expire (anyone)"
"$E" channel open --key "$DEV" --payee "$PAYEE" --amount 100 --ttl 500 --wait >/dev/null || fail "open 2"
"$E" channel top-up --key "$DEV" --channel 2 --amount 50 --wait >"$T/out" || fail "top-up: $(cat "$T/out")"
[ "$(curl -sf "$API/state/channel/channel/2" | jq .deposit)" = 150 ] || fail "top-up not applied"
"$E" voucher make --key "$DEV" --chain "$CHAIN" --channel 2 --nonce 1 --amount 120 >"$T/w1"
"$E" channel start-close --key "$DEV" --channel 2 --wait >"$T/out" || fail "start-close: $(cat "$T/out")"
if "$E" channel settle --key "$(key 3)" --channel 2 --wait >"$T/out" 2>&1; then fail "settle inside the window"; fi
grep -q EAGAIN "$T/out" || fail "early settle: $(cat "$T/out")"
"$E" channel redeem --key "$CO1" --channel 2 --voucher "$(cat "$T/w1")" --wait >/dev/null || fail "redeem in the window"
close_at=$(curl -sf "$API/state/channel/channel/2" | jq .close_at)
for i in $(seq 1 100); do [ "$(curl -sf "$API/status" | jq .height)" -ge "$close_at" ] && break; sleep 0.1; done
"$E" channel settle --key "$(key 3)" --channel 2 --wait >"$T/out" || fail "settle: $(cat "$T/out")"
ch=$(curl -sf "$API/state/channel/channel/2")
[ "$(jq -r .state <<<"$ch") $(jq .redeemed <<<"$ch") $(jq .refunded <<<"$ch")" = "closed 120 30" ] || fail "channel 2: $ch"
pass "top-up, start-close, settle refused inside the window (EAGAIN), redeem in it, settle after: 120 paid, 30 back"
"$E" testnet check --dir "$T/net" >/dev/null || fail "nodes disagree"
pass "every node has the same blocks"
