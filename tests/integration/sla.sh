#!/usr/bin/env bash
# sla.sh: the sla contract on a running one-validator testnet through the CLI
# only: the validator is the operator (bond, offer, confirm, claim), an
# observer the customer (activate); monitor keys made with keygen sign receipts
# offline (edgefed sla receipt make), checked offline (receipt verify), then
# claimed in one call of two receipts and one from a file; a double claim and a
# foreign monitor's receipt refused; a nullified SLA refunded in full; close
# after the claim window; balances exact and no money left locked.
set -euo pipefail
: "${EDGEFED:?}" "${EF_TEST_TMP:=/tmp}" "${EF_TEST_OUT:=/tmp}"
E=$EDGEFED
mkdir -p "$EF_TEST_TMP" "$EF_TEST_OUT"
T=$(mktemp -d "$EF_TEST_TMP/sla.XXXXXX")
cleanup() {
  "$E" testnet down --dir "$T/net" >/dev/null 2>&1 || true
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$T"; fi
}
trap cleanup EXIT
fail() { echo "sla.sh: FAIL: $*" >&2; for f in "$T"/net/*/node.log; do echo "--- $f" >&2; tail -n 20 "$f" >&2 || true; done; exit 1; }
pass() { echo "sla.sh: ok: $*"; }

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
pub() { jq -r ".nodes[$1].pub" "$T/net/testnet.json"; }
key() { echo "$T/net/$(jq -r ".nodes[$1].name" "$T/net/testnet.json")/node.key"; }
OP=$(key 0); OPPUB=$(pub 0)
CU=$(key 1); CUPUB=$(pub 1)
MON=$("$E" keygen --out "$T/mon.key"); EDGE=$("$E" keygen --out "$T/edge.key"); OTHER=$("$E" keygen --out "$T/other.key")
bal() { curl -sf "$API/state/bank/balance/$1" | jq .balance; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
expect_err() { # expect_err CODE CMD...: the command fails and names CODE
  local code=$1; shift
  if "$@" >"$T/out" 2>&1; then fail "'$*' succeeded, expected $code"; fi
  grep -q "$code" "$T/out" || fail "'$*': expected $code: $(cat "$T/out")"
}

PRICE=1000
# ---- the operator posts a bond and an offer
"$E" sla post-bond --key "$OP" --amount 50000 --wait >"$T/out" || fail "post-bond: $(cat "$T/out")"
"$E" sla offer --key "$OP" --area ap1,ap2 --min-kbps 1000 --max-latency-us 20000 --max-loss-ppm 10000 \
  --price $PRICE --epoch-ms 500 --max-epochs 8 --penalty-kbps-ppm 500000 --penalty-latency-ppm 300000 \
  --penalty-loss-ppm 200000 --cheat-penalty 5000 --confirm-blocks 200 --claim-window-ms 4000 \
  --dispute-window-blocks 5 --wait >"$T/out" || fail "offer: $(cat "$T/out")"
[ "$(curl -sf "$API/state/sla/offers" | jq length)" = 1 ] || fail "offers: $(curl -s "$API/state/sla/offers")"
pass "bond 50000 posted, offer 1 listed"

# ---- the customer activates: 3 epochs locked in escrow
b_op=$(bal "$OPPUB"); b_cu=$(bal "$CUPUB")
expect_err EAREA "$E" sla activate --key "$CU" --offer 1 --epochs 3 --ap ap9 --dst srv --monitor "$MON" --wait
"$E" sla activate --key "$CU" --offer 1 --epochs 3 --ap ap1 --dst "10.0.0.9:5000" --monitor "$MON" --wait \
  >"$T/out" || fail "activate: $(cat "$T/out")"
s=$(curl -sf "$API/state/sla/sla/1")
[ "$(jq -r .state <<<"$s")" = pending ] || fail "not pending: $s"
[ "$(bal "$CUPUB")" = $((b_cu - 3 * PRICE)) ] || fail "escrow not taken from the customer"
[ "$(curl -sf "$API/state/bank/supply" | jq .locked)" = $((50000 + 3 * PRICE)) ] || fail "locked: $(curl -s "$API/state/bank/supply")"
pass "activated: SLA 1 pending, 3000 in escrow (wrong attachment point refused: EAREA)"

# ---- the operator confirms the slice (the customer cannot)
expect_err EPERM "$E" sla confirm --key "$CU" --sla 1 --slice s1 --path l1,l2 --edge-monitor "$EDGE" --wait
"$E" sla confirm --key "$OP" --sla 1 --slice s1 --path core-agg1,agg1-edge1 --edge-monitor "$EDGE" --wait \
  >"$T/out" || fail "confirm: $(cat "$T/out")"
s=$(curl -sf "$API/state/sla/sla/1")
[ "$(jq -r .state <<<"$s")" = active ] || fail "not active: $s"
end_ms=$(jq .end_ms <<<"$s")
pass "confirmed: slice s1 on 2 links, ends at $end_ms"

# ---- receipts signed offline by the customer's monitor
mk() { # mk KEY EPOCH KBPS P99
  "$E" sla receipt make --key "$1" --chain "$CHAIN" --sla 1 --epoch "$2" --kbps "$3" --sent 5000 --recv 4990 \
    --p50-us 800 --p99-us "$4" --max-us 30000 --samples-file "$T/mon.key" \
    --min-kbps 1000 --max-latency-us 20000 --max-loss-ppm 10000
}
mk "$T/mon.key" 0 4000 5000 >"$T/r0"
mk "$T/mon.key" 1 500 5000 >"$T/r1"      # bandwidth breached: 50% penalty
mk "$T/mon.key" 2 4000 5000 >"$T/r2"
mk "$T/other.key" 2 4000 5000 >"$T/x2"
"$E" sla receipt verify "$(cat "$T/r1")" --signer "$MON" --chain "$CHAIN" --sla 1 >"$T/out" || fail "verify: $(cat "$T/out")"
[ "$(jq .verdict "$T/out")" = 1 ] || fail "verdict: $(cat "$T/out")"
if "$E" sla receipt verify "$(cat "$T/x2")" --signer "$MON" >/dev/null 2>&1; then fail "foreign receipt verified"; fi
pass "receipts made and verified offline (epoch 1 breached: verdict 1; another key refused)"

# wait for the last epoch to end on the ledger's clock
while [ "$(now_ms)" -le $((end_ms + 300)) ]; do sleep 0.1; done
expect_err ESIGNER "$E" sla claim --key "$OP" --sla 1 --receipts "$(cat "$T/x2")" --wait
"$E" sla claim --key "$OP" --sla 1 --receipts "$(cat "$T/r0"),$(cat "$T/r1")" --wait >"$T/out" \
  || fail "claim: $(cat "$T/out")"
cp "$T/r2" "$T/file"
"$E" sla claim --key "$OP" --sla 1 --receipts-file "$T/file" --wait >"$T/out" || fail "claim from file: $(cat "$T/out")"
expect_err EDUP "$E" sla claim --key "$OP" --sla 1 --receipts "$(cat "$T/r0")" --wait
s=$(curl -sf "$API/state/sla/sla/1")
[ "$(jq -c .epoch_status <<<"$s")" = '["paid","breached","paid"]' ] || fail "epochs: $s"
[ "$(jq .paid <<<"$s")" = $((3 * PRICE - 500)) ] || fail "paid: $s"
[ "$(bal "$OPPUB")" = $((b_op + 3 * PRICE - 500)) ] || fail "operator balance $(bal "$OPPUB")"
[ "$(bal "$CUPUB")" = $((b_cu - 3 * PRICE + 500)) ] || fail "customer balance $(bal "$CUPUB")"
pass "claimed 3 epochs in 2 calls: operator +2500, customer refunded 500 (double claim: EDUP; foreign monitor: ESIGNER)"

# ---- close after the claim window
expect_err EAGAIN "$E" sla close --key "$CU" --sla 1 --wait
ok=0
for i in $(seq 1 60); do
  if "$E" sla close --key "$CU" --sla 1 --wait >"$T/out" 2>&1; then ok=1; break; fi
  grep -q EAGAIN "$T/out" || fail "close: $(cat "$T/out")"
  sleep 0.2
done
[ $ok = 1 ] || fail "close never allowed"
[ "$(curl -sf "$API/state/sla/sla/1" | jq -r .state)" = closed ] || fail "not closed"
[ "$(curl -sf "$API/state/sla/bond/$OPPUB" | jq .reserved)" = 0 ] || fail "bond still reserved"
pass "closed after the claim window (EAGAIN before), bond reservation released"

# ---- a nullified SLA: the controller finds no path
b_cu=$(bal "$CUPUB")
"$E" sla activate --key "$CU" --offer 1 --epochs 2 --ap ap2 --dst srv --monitor "$MON" --wait >/dev/null || fail "activate 2"
"$E" sla fail --key "$OP" --sla 2 --reason "no path with 1000 kbps" --wait >"$T/out" || fail "fail: $(cat "$T/out")"
[ "$(curl -sf "$API/state/sla/sla/2" | jq -r .state)" = nullified ] || fail "not nullified"
[ "$(bal "$CUPUB")" = "$b_cu" ] || fail "not refunded"
pass "SLA 2 nullified by the operator, customer refunded in full"

# ---- reads, withdraw, money
"$E" sla show --sla 1 >"$T/out" || fail "show"
[ "$(jq -r .slice "$T/out")" = s1 ] || fail "show: $(cat "$T/out")"
"$E" sla show --sla 1 --epoch 1 >"$T/out" || fail "show epoch"
[ "$(jq -r .status "$T/out")" = breached ] || fail "show epoch: $(cat "$T/out")"
[ "$("$E" sla list --all | jq length)" = 2 ] || fail "list --all"
[ "$("$E" sla list --customer "$CUPUB" | jq length)" = 2 ] || fail "list --customer"
[ "$("$E" sla list | jq length)" = 0 ] || fail "live list not empty"
"$E" sla withdraw --key "$OP" --offer 1 --wait >/dev/null || fail "withdraw"
expect_err ESTATE "$E" sla activate --key "$CU" --offer 1 --epochs 1 --ap ap1 --dst srv --monitor "$MON" --wait
"$E" sla withdraw-bond --key "$OP" --amount 50000 --wait >/dev/null || fail "withdraw-bond"
[ "$(curl -sf "$API/state/bank/supply" | jq .locked)" = 0 ] || fail "money still locked: $(curl -s "$API/state/bank/supply")"
pass "show, list, withdraw (then activate: ESTATE), bond back, nothing locked"
