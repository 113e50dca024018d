#!/usr/bin/env bash
# sla_controller.sh: the JIT controller (`edgefed sla controller --process`:
# bandwidth NOT enforced, the logic only) on a one-validator testnet: an
# activation is stitched and confirmed with its slice id and path; slice
# traffic on loopback is measured by the customer's monitor and the operator's
# edge monitor (separate keys), whose signed receipts are claimed; a request no
# path can carry is failed by the controller (ENOCAP) and refunded in full; a
# close releases the slice; a customer monitor that withholds an epoch's receipt
# gets its service stopped (--handover-dir); with the controller down, the SLA
# expires and is refunded in full; unknown arguments are refused.
set -euo pipefail
: "${EDGEFED:?}" "${EF_TEST_TMP:=/tmp}" "${EF_SRC:=$(cd "$(dirname "$0")/../.." && pwd)}"
E=$EDGEFED
mkdir -p "$EF_TEST_TMP"
T=$(mktemp -d "$EF_TEST_TMP/sla_controller.XXXXXX")
CTL=
cleanup() {
  [ -n "$CTL" ] && kill "$CTL" 2>/dev/null && wait "$CTL" 2>/dev/null || true
  "$E" testnet down --dir "$T/net" >/dev/null 2>&1 || true
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$T"; fi
}
trap cleanup EXIT
fail() { echo "sla_controller.sh: FAIL: $*" >&2; tail -n 30 "$T/ctl.log" >&2 2>/dev/null || true; exit 1; }
pass() { echo "sla_controller.sh: ok: $*"; }

# this test's own ports: P2P from $port, HTTP from $port + 100, others from $port + 200
source "$(dirname "$0")/lib/ports.bash"
ef_port_claim || exit 1
port=$BASE_PORT
# slice ports from a base of our own so parallel runs do not collide
PB=$((41000 + ($$ % 200) * 20))

"$E" testnet init --dir "$T/net" --validators 1 --observers 1 --base-port "$port" --empty-block-ms 100 >/dev/null
"$E" testnet up --dir "$T/net" >/dev/null
API=http://$(jq -r '.nodes[0].http' "$T/net/testnet.json")
for i in $(seq 1 100); do curl -sf "$API/status" >/dev/null && break; sleep 0.2; done
export EDGEFED_API=$API
CHAIN=$(curl -sf "$API/status" | jq -r .chain_id)
OP=$T/net/$(jq -r '.nodes[0].name' "$T/net/testnet.json")/node.key
CU=$T/net/$(jq -r '.nodes[1].name' "$T/net/testnet.json")/node.key
CUPUB=$(jq -r '.nodes[1].pub' "$T/net/testnet.json")
MON=$("$E" keygen --out "$T/mon.key"); EDGE=$("$E" keygen --out "$T/edge.key")
bal() { curl -sf "$API/state/bank/balance/$1" | jq .balance; }
sla() { curl -sf "$API/state/sla/sla/$1"; }
wait_state() { # wait_state SLA STATE SECONDS
  for i in $(seq 1 $(($3 * 10))); do [ "$(sla "$1" | jq -r .state)" = "$2" ] && return 0; sleep 0.1; done
  fail "SLA $1 not $2: $(sla "$1")"
}
TOPO=$EF_SRC/docs/examples/slice-tree.json

# refused arguments
if "$E" sla controller --key "$OP" --topology "$TOPO" --process --edge-monitor "$EDGE" --bogus 2>"$T/err"; then
  fail "unknown option accepted"
fi
grep -q "unknown option '--bogus'" "$T/err" || fail "no message for --bogus: $(cat "$T/err")"
if "$E" sla controller --key "$OP" --topology "$TOPO" --process --netns --edge-monitor "$EDGE" 2>"$T/err"; then
  fail "--process and --netns together accepted"
fi
echo '{"nodes": [{"name": "core", "layer": "edge"}]}' >"$T/bad.json"
if "$E" sla controller --key "$OP" --topology "$T/bad.json" --process --edge-monitor "$EDGE" 2>"$T/err"; then
  fail "bad topology accepted"
fi
grep -q "topology" "$T/err" || fail "bad topology: $(cat "$T/err")"
pass "unknown option, two modes and a bad topology refused"

"$E" sla post-bond --key "$OP" --amount 50000 --wait >/dev/null || fail "post-bond"
offer() { # offer MIN_KBPS
  "$E" sla offer --key "$OP" --area car1,car2,car3 --min-kbps "$1" --max-latency-us 20000 --max-loss-ppm 20000 \
    --price 1000 --epoch-ms 1000 --max-epochs 8 --penalty-kbps-ppm 500000 --penalty-latency-ppm 300000 \
    --penalty-loss-ppm 200000 --cheat-penalty 1000 --confirm-blocks 20 --claim-window-ms 3000 \
    --dispute-window-blocks 5 --wait >/dev/null || fail "offer"
}
offer 4000     # offer 1: fits the tree
offer 30000    # offer 2: more than a car's access link (20000)

"$E" sla controller --key "$OP" --topology "$TOPO" --process --edge-monitor "$EDGE" --port-base "$PB" \
  --state "$T/state.json" --node "$API" 2>"$T/ctl.log" &
CTL=$!
for i in $(seq 1 100); do [ -s "$T/state.json" ] && break; sleep 0.1; done
[ -s "$T/state.json" ] || fail "controller did not start"
[ "$(jq .enforcing "$T/state.json")" = false ] || fail "process mode says it enforces"
grep -q "NOT enforced" "$T/ctl.log" || fail "process mode not labelled"
sleep 0.5

# ---- activation -> confirmed slice
b_cu=$(bal "$CUPUB")
"$E" sla activate --key "$CU" --offer 1 --epochs 3 --ap car1 --dst srv --monitor "$MON" --wait >/dev/null || fail "activate 1"
wait_state 1 active 10
s=$(sla 1)
[ "$(jq -r .slice <<<"$s")" = "sla1-udp$PB" ] || fail "slice id: $s"
[ "$(jq -c .path <<<"$s")" = '["edge1-car1","agg1-edge1","core-agg1","core-srv"]' ] || fail "path: $s"
[ "$(jq -r .edge_monitor <<<"$s")" = "$EDGE" ] || fail "edge monitor: $s"
for i in $(seq 1 30); do [ "$(jq '.slas | length' "$T/state.json")" = 1 ] && break; sleep 0.1; done
[ "$(jq -r '.db.links[] | select(.name=="agg1-edge1") | .reserved_kbps' "$T/state.json")" = 4000 ] \
  || fail "reservation: $(cat "$T/state.json")"
"$E" slice svg --state "$T/state.json" --out "$T/tree.svg" || fail "slice svg"
grep -q '<svg' "$T/tree.svg" && grep -q '4000/20000' "$T/tree.svg" && grep -q '#d6604d' "$T/tree.svg" \
  || fail "svg without the reservation: $(head -c 400 "$T/tree.svg")"
# the controller published its tree on start: the ledger's view agrees with its own
OPPUB=$(jq -r .operator <<<"$s")
topo=$(curl -sf "$API/state/sla/topology/$OPPUB") || fail "topology not published: $(cat "$T/ctl.log")"
[ "$(jq '.links | length' <<<"$topo")" = "$(jq '.db.links | length' "$T/state.json")" ] || fail "topology: $topo"
[ "$(jq -r '.links[] | select(.name=="agg1-edge1") | .reserved_kbps' <<<"$topo")" = 4000 ] \
  || fail "ledger reservation: $topo"
pass "SLA 1 confirmed by the controller: slice sla1-udp$PB on edge1-car1,agg1-edge1,core-agg1,core-srv, 4000 kbit/s reserved"

# ---- traffic, both monitors, receipts
start=$(jq .start_ms <<<"$s"); P=$PB; EP=$((PB + 5000))
"$E" slice monitor --port "$P" --sla 1 --start-ms "$start" --epoch-ms 1000 --epochs 3 --key "$T/mon.key" \
  --chain "$CHAIN" --min-kbps 4000 --max-latency-us 20000 --max-loss-ppm 20000 --out "$T/cust.jsonl" >/dev/null &
M1=$!
"$E" slice monitor --port "$EP" --sla 1 --start-ms "$start" --epoch-ms 1000 --epochs 3 --scale 4 \
  --key "$T/edge.key" --chain "$CHAIN" --min-kbps 4000 --max-latency-us 20000 --max-loss-ppm 20000 \
  --out "$T/edge.jsonl" >/dev/null &
M2=$!
sleep 0.3
"$E" slice send --dst "127.0.0.1:$P" --copy "127.0.0.1:$EP" --copy-every 4 --rate-kbps 5000 --sla 1 \
  --start-ms "$start" --epoch-ms 1000 --epochs 3 >"$T/send.json" || fail "send"
wait $M1 || fail "customer monitor"
wait $M2 || fail "edge monitor"
[ "$(wc -l <"$T/cust.jsonl")" = 3 ] || fail "customer epochs: $(cat "$T/cust.jsonl")"
[ "$(wc -l <"$T/edge.jsonl")" = 3 ] || fail "edge epochs: $(cat "$T/edge.jsonl")"
# epoch 0 began at the confirming block, before the traffic did: only 1 and 2 are whole
tail -n 2 "$T/cust.jsonl" | while read -r line; do
  k=$(jq .kbps <<<"$line"); v=$(jq .verdict <<<"$line")
  # bandwidth and loss must hold; delay on a loaded loopback is not this test's business
  [ "$k" -ge 4000 ] && [ $((v & 5)) = 0 ] || fail "customer epoch: $line"
done
r0=$(jq -r .receipt "$T/cust.jsonl" | head -1)
"$E" sla receipt verify "$r0" --signer "$MON" --chain "$CHAIN" --sla 1 >/dev/null || fail "customer receipt verify"
e0=$(jq -r .receipt "$T/edge.jsonl" | head -1)
"$E" sla receipt verify "$e0" --signer "$EDGE" --sla 1 >/dev/null || fail "edge receipt verify"
pass "3 epochs measured on loopback: customer $(jq -s -c 'map(.kbps)' "$T/cust.jsonl") kbit/s, edge (1 in 4 sampled) $(jq -s -c 'map(.kbps)' "$T/edge.jsonl"); receipts signed by separate keys"

jq -r .receipt "$T/cust.jsonl" >"$T/receipts"
end=$(jq .end_ms <<<"$s")
while [ $(( $(date +%s%N) / 1000000 )) -le $((end + 300)) ]; do sleep 0.1; done
"$E" sla claim --key "$OP" --sla 1 --receipts-file "$T/receipts" --wait >"$T/out" || fail "claim: $(cat "$T/out")"
# settled by the receipts' verdicts (a loaded loopback may breach the delay rule)
sla 1 | jq -e '.epoch_status | all(. == "paid" or . == "breached")' >/dev/null || fail "epochs: $(sla 1)"
sla 1 | jq -e '[.verdicts[1:][] | . % 2] == [0, 0]' >/dev/null || fail "bandwidth breached: $(sla 1)"
pass "claimed 3 epochs with the customer monitor's receipts: $(sla 1 | jq -c .epoch_status) (epoch 0 as measured: verdict $(head -1 "$T/cust.jsonl" | jq .verdict))"

# ---- no path: the controller fails it, full refund
b_cu=$(bal "$CUPUB")
"$E" sla activate --key "$CU" --offer 2 --epochs 2 --ap car2 --dst srv --monitor "$MON" --wait >/dev/null || fail "activate 2"
wait_state 2 nullified 10
reason=$(sla 2 | jq -r .reason)
grep -q "ENOCAP" <<<"$reason" || fail "reason: $reason"
[ "$(bal "$CUPUB")" = "$b_cu" ] || fail "SLA 2 not refunded in full"
pass "SLA 2 (30000 kbit/s) failed by the controller: '$reason'; refunded in full"

# ---- close releases the slice
for i in $(seq 1 80); do
  "$E" sla close --key "$CU" --sla 1 --wait >/dev/null 2>&1 && break
  sleep 0.1
done
wait_state 1 closed 5
for i in $(seq 1 30); do [ "$(jq '.slas | length' "$T/state.json")" = 0 ] && break; sleep 0.1; done
[ "$(jq '.slas | length' "$T/state.json")" = 0 ] || fail "slice not released: $(cat "$T/state.json")"
[ "$(jq '[.db.links[].reserved_kbps] | add' "$T/state.json")" = 0 ] || fail "reservations left"
pass "SLA 1 closed: the controller released its slice (nothing reserved)"

# ---- receipt hand-over: a withheld receipt stops the service
kill "$CTL"; wait "$CTL" 2>/dev/null || true
mkdir -p "$T/hand"
"$E" sla controller --key "$OP" --topology "$TOPO" --process --edge-monitor "$EDGE" --port-base "$PB" \
  --state "$T/state.json" --node "$API" --handover-dir "$T/hand" 2>"$T/ctl.log" &
CTL=$!
for i in $(seq 1 100); do [ -s "$T/state.json" ] && break; sleep 0.1; done
sleep 0.5
"$E" sla activate --key "$CU" --offer 1 --epochs 3 --ap car2 --dst srv --monitor "$MON" --wait >/dev/null || fail "activate 3"
wait_state 3 active 10
s=$(sla 3); start=$(jq .start_ms <<<"$s")
"$E" slice monitor --port "$PB" --sla 3 --start-ms "$start" --epoch-ms 1000 --epochs 3 --key "$T/mon.key" \
  --chain "$CHAIN" --min-kbps 4000 --max-latency-us 20000 --max-loss-ppm 20000 --handover-dir "$T/hand" \
  --withhold 1 >/dev/null &
M1=$!
"$E" slice send --dst "127.0.0.1:$PB" --rate-kbps 5000 --sla 3 --start-ms "$start" --epoch-ms 1000 --epochs 3 >/dev/null
wait $M1
[ -s "$T/hand/sla3-epoch0.hex" ] && [ ! -e "$T/hand/sla3-epoch1.hex" ] || fail "hand-over files: $(ls "$T/hand")"
for i in $(seq 1 40); do [ "$(jq -r '.slas[0].state' "$T/state.json")" = stopped ] && break; sleep 0.1; done
[ "$(jq -r '.slas[0].state' "$T/state.json")" = stopped ] || fail "service not stopped: $(cat "$T/state.json")"
[ "$(jq -r '.slas[0].withheld_epoch' "$T/state.json")" = 1 ] || fail "withheld epoch: $(cat "$T/state.json")"
[ "$(jq '[.db.links[].reserved_kbps] | add' "$T/state.json")" = 0 ] || fail "stopped slice still reserved"
grep -q EWITHHELD "$T/ctl.log" || fail "no EWITHHELD in the controller's log"
pass "receipt hand-over: epoch 0 handed over, epoch 1 withheld -> the controller stopped SLA 3's service (slice released, EWITHHELD)"

# ---- controller down: the deadline passes, expire refunds in full
kill "$CTL"; wait "$CTL" 2>/dev/null || true; CTL=
[ ! -e "$T/state.json" ] || fail "state file left"
b_cu=$(bal "$CUPUB")
"$E" sla activate --key "$CU" --offer 1 --epochs 2 --ap car3 --dst srv --monitor "$MON" --wait >/dev/null || fail "activate 4"
[ "$(bal "$CUPUB")" = $((b_cu - 2000)) ] || fail "escrow not taken"
ok=0
for i in $(seq 1 100); do
  if "$E" sla expire --key "$CU" --sla 4 --wait >"$T/out" 2>&1; then ok=1; break; fi
  grep -q EAGAIN "$T/out" || fail "expire: $(cat "$T/out")"
  sleep 0.2
done
[ $ok = 1 ] || fail "never expired"
[ "$(sla 4 | jq -r .state)" = nullified ] || fail "not nullified"
[ "$(bal "$CUPUB")" = "$b_cu" ] || fail "SLA 4 not refunded in full"
pass "controller down: SLA 4 expired at its deadline, refunded in full"

# ---- restart: a controller replaying the chain adopts the SLAs still active
start_ctl() {
  "$E" sla controller --key "$OP" --topology "$TOPO" --process --edge-monitor "$EDGE" --port-base "$PB" \
    --state "$T/state.json" --node "$API" --from 1 2>>"$T/ctl.log" &
  CTL=$!
  for i in $(seq 1 100); do [ -s "$T/state.json" ] && break; sleep 0.1; done
}
: >"$T/ctl.log"
start_ctl
sleep 2   # the replay of SLAs 1-4
"$E" sla activate --key "$CU" --offer 1 --epochs 8 --ap car1 --dst srv --monitor "$MON" --wait >/dev/null || fail "activate 5"
wait_state 5 active 10
slice5=$(sla 5 | jq -r .slice)
kill "$CTL"; wait "$CTL" 2>/dev/null || true; CTL=
start_ctl
for i in $(seq 1 60); do
  [ "$(jq -r '.slas[] | select(.sla==5) | .state' "$T/state.json" 2>/dev/null)" = confirmed ] && break; sleep 0.1
done
[ "$(jq -r '.slas[] | select(.sla==5) | .slice' "$T/state.json")" = "$slice5" ] || fail "SLA 5 not adopted: $(cat "$T/state.json")"
[ "$(jq -r '.db.links[] | select(.name=="edge1-car1") | .reserved_kbps' "$T/state.json")" = 4000 ] \
  || fail "adopted slice not reserved: $(cat "$T/state.json")"
pass "restarted with --from 1: the replay adopted SLA 5's slice $slice5 (and released what closed)"

# ---- restart without --from: the controller takes over the active SLAs from the ledger's state
kill "$CTL"; wait "$CTL" 2>/dev/null || true; CTL=
rm -f "$T/state.json"
: >"$T/ctl.log"
"$E" sla controller --key "$OP" --topology "$TOPO" --process --edge-monitor "$EDGE" --port-base "$PB" \
  --state "$T/state.json" --node "$API" 2>>"$T/ctl.log" &
CTL=$!
for i in $(seq 1 100); do
  [ "$(jq -r '.slas[] | select(.sla==5) | .state' "$T/state.json" 2>/dev/null)" = confirmed ] && break; sleep 0.1
done
[ "$(jq -r '.slas[] | select(.sla==5) | .slice' "$T/state.json")" = "$slice5" ] \
  || fail "SLA 5 not taken over: $(cat "$T/state.json") $(cat "$T/ctl.log")"
[ "$(jq -r '.db.links[] | select(.name=="edge1-car1") | .reserved_kbps' "$T/state.json")" = 4000 ] \
  || fail "taken-over slice not reserved: $(cat "$T/state.json")"
# exactly the operator's SLAs the ledger shows active (3, whose service its first
# controller stopped off the ledger, and 5), each on the slice the ledger records
held=$(jq -c '[.slas[] | .sla] | sort' "$T/state.json")
[ "$held" = "[3,5]" ] || fail "held $held, not SLAs 3 and 5: $(cat "$T/state.json")"
for id in 3 5; do
  [ "$(sla $id | jq -r .state)" = active ] || fail "SLA $id held but not active on the ledger"
  [ "$(jq -r ".slas[] | select(.sla==$id) | .slice" "$T/state.json")" = "$(sla $id | jq -r .slice)" ] \
    || fail "SLA $id held on another slice than the ledger's"
done
grep -q "took over 2 active SLA" "$T/ctl.log" || fail "no take-over in the log: $(cat "$T/ctl.log")"
pass "restarted without --from: the ledger's active SLAs 3 and 5 taken over on their slices ($slice5), nothing replayed"
