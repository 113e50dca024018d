#!/usr/bin/env bash
# slice_netns.sh: a real slice (root, network namespaces): the JIT controller
# builds the tree of docs/examples/slice-tree.json (a namespace per node, a veth
# pair per link, htb with each link's capacity), an activation is stitched (htb
# class + u32 filter on every link of the path) and confirmed; then a best-effort
# flood of 30 Mbit/s shares the slice's whole path (20 Mbit/s links). The slice
# must hold its guaranteed rate: every whole epoch's receipt from the
# customer's monitor shows kbps >= 95 % of min_kbps (the stated tolerance) and
# loss <= 1 %, while the same traffic outside a slice, against the same flood,
# gets much less (measured first). Injected loss (nftables random drop at the
# edge switch, 10 %) shows in the customer's receipt and not in the edge
# monitor's. With the controller killed (namespaces removed), a new SLA is
# nullified at its deadline with a full refund. Skipped (77) without root,
# network namespaces, tc or nft.
set -uo pipefail
skip() { echo "SKIP: slice_netns.sh: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces); not root here"
ip netns list >/dev/null 2>&1 || skip "'ip netns' is not usable here"
command -v tc >/dev/null 2>&1 || [ -x /usr/sbin/tc ] || skip "no tc (iproute2: scripts/setup)"
command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ] || skip "no nft (nftables: scripts/setup)"
ip netns add "efprobe$$" 2>/dev/null || skip "cannot create a network namespace"
ip netns del "efprobe$$"
set -e
: "${EDGEFED:?}" "${EF_TEST_TMP:=/tmp}" "${EF_SRC:=$(cd "$(dirname "$0")/../.." && pwd)}"
E=$EDGEFED
mkdir -p "$EF_TEST_TMP"
T=$(mktemp -d "$EF_TEST_TMP/slice_netns.XXXXXX")
PREFIX=efsn$(( $$ % 10000000 ))
OCTET=$(( 100 + $$ % 100 ))
CTL=
cleanup() {
  [ -n "$CTL" ] && kill "$CTL" 2>/dev/null && wait "$CTL" 2>/dev/null || true
  jobs -p | xargs -r kill 2>/dev/null || true
  "$E" testnet down --dir "$T/net" >/dev/null 2>&1 || true
  for ns in $(ip netns list | awk '{print $1}' | grep "^$PREFIX-" || true); do ip netns del "$ns" || true; done
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$T"; fi
}
trap cleanup EXIT
fail() { echo "slice_netns.sh: FAIL: $*" >&2; tail -n 30 "$T/ctl.log" >&2 2>/dev/null || true; exit 1; }
pass() { echo "slice_netns.sh: ok: $*"; }

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
OP=$T/net/$(jq -r '.nodes[0].name' "$T/net/testnet.json")/node.key
CU=$T/net/$(jq -r '.nodes[1].name' "$T/net/testnet.json")/node.key
CUPUB=$(jq -r '.nodes[1].pub' "$T/net/testnet.json")
MON=$("$E" keygen --out "$T/mon.key"); EDGE=$("$E" keygen --out "$T/edge.key")
bal() { curl -sf "$API/state/bank/balance/$1" | jq .balance; }
sla() { curl -sf "$API/state/sla/sla/$1"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
wait_state() {
  for i in $(seq 1 $(($3 * 10))); do [ "$(sla "$1" | jq -r .state)" = "$2" ] && return 0; sleep 0.1; done
  fail "SLA $1 not $2: $(sla "$1")"
}
MIN=8000; EPMS=2000; N=4
"$E" sla post-bond --key "$OP" --amount 50000 --wait >/dev/null || fail "post-bond"
"$E" sla offer --key "$OP" --area car1,car2 --min-kbps $MIN --max-latency-us 20000 --max-loss-ppm 20000 \
  --price 1000 --epoch-ms $EPMS --max-epochs 8 --penalty-kbps-ppm 500000 --penalty-latency-ppm 300000 \
  --penalty-loss-ppm 200000 --cheat-penalty 1000 --confirm-blocks 20 --claim-window-ms 3000 \
  --dispute-window-blocks 5 --wait >/dev/null || fail "offer"

"$E" sla controller --key "$OP" --topology "$EF_SRC/docs/examples/slice-tree.json" --netns --prefix "$PREFIX" \
  --octet "$OCTET" --edge-monitor "$EDGE" --state "$T/state.json" --log "$T/commands.log" --node "$API" \
  2>"$T/ctl.log" &
CTL=$!
for i in $(seq 1 200); do [ -s "$T/state.json" ] && break; sleep 0.1; done
[ -s "$T/state.json" ] || fail "controller did not build the network"
[ "$(jq .enforcing "$T/state.json")" = true ] || fail "not enforcing"
[ "$(ip netns list | grep -c "^$PREFIX-")" = 11 ] || fail "namespaces: $(ip netns list)"
pass "controller built 11 namespaces ($PREFIX-0..10), 10 veth links with htb"

ns_of() { echo "$PREFIX-$(jq -r --arg n "$1" '[.db.nodes[].name] | index($n)' "$T/state.json")"; }
ip_of() { local i; i=$(jq -r --arg n "$1" '[.db.nodes[].name] | index($n)' "$T/state.json"); echo "10.$OCTET.$i.2"; }
SRV_NS=$(ns_of srv); CAR_NS=$(ns_of car1); CAR_IP=$(ip_of car1)

# ---- control: the same 8400 kbit/s outside a slice against the flood
t0=$(( $(now_ms) + 800 ))
"$E" slice monitor --netns "$CAR_NS" --port 39001 --sla 0 --start-ms $t0 --epoch-ms 3000 --epochs 1 --grace-ms 1000 >"$T/ctl_flow.jsonl" &
m=$!
"$E" slice monitor --netns "$CAR_NS" --port 39002 --sla 0 --start-ms $t0 --epoch-ms 3000 --epochs 1 --grace-ms 1000 >/dev/null &
mb=$!
sleep 0.3
"$E" slice send --netns "$SRV_NS" --dst "$CAR_IP:39002" --rate-kbps 30000 --sla 0 --start-ms $t0 --epoch-ms 3000 --epochs 1 >/dev/null &
"$E" slice send --netns "$SRV_NS" --dst "$CAR_IP:39001" --rate-kbps 8400 --sla 0 --start-ms $t0 --epoch-ms 3000 --epochs 1 >/dev/null
wait $m $mb
unsliced=$(jq .kbps "$T/ctl_flow.jsonl")
pass "without a slice, 8400 kbit/s against a 30 Mbit/s flood on 20 Mbit/s links got $unsliced kbit/s"

# ---- the slice
b_cu=$(bal "$CUPUB")
"$E" sla activate --key "$CU" --offer 1 --epochs $N --ap car1 --dst srv --monitor "$MON" --wait >/dev/null || fail "activate"
wait_state 1 active 15
s=$(sla 1)
P=$(jq -r .slice <<<"$s" | sed 's/.*-udp//')
[ -n "$P" ] && [ "$P" -gt 0 ] || fail "no port in the slice id: $s"
start=$(jq .start_ms <<<"$s")
for i in $(seq 1 30); do [ "$(jq '.slas | length' "$T/state.json")" = 1 ] && break; sleep 0.1; done
EDGE_NS=$(jq -r '.slas[0].edge_ns' "$T/state.json"); EDGE_IP=$(jq -r '.slas[0].edge_ip' "$T/state.json")
classes=$(tc -n "$CAR_NS" class show dev uplink)
grep -q "prio 0 rate" <<<"$classes" || fail "no htb class on car1's uplink: $classes"
pass "SLA 1 stitched and confirmed: slice $(jq -r .slice <<<"$s") on $(jq -c .path <<<"$s"), htb class of $MIN kbit/s on each hop"

rules=(--min-kbps $MIN --max-latency-us 20000 --max-loss-ppm 20000)
"$E" slice monitor --netns "$CAR_NS" --port "$P" --sla 1 --start-ms "$start" --epoch-ms $EPMS --epochs $N \
  --key "$T/mon.key" --chain "$CHAIN" "${rules[@]}" >"$T/cust.jsonl" &
M1=$!
"$E" slice monitor --netns "$EDGE_NS" --port "$P" --sla 1 --start-ms "$start" --epoch-ms $EPMS --epochs $N --scale 4 \
  --key "$T/edge.key" --chain "$CHAIN" "${rules[@]}" >"$T/edge.jsonl" &
M2=$!
"$E" slice monitor --netns "$CAR_NS" --port 39002 --sla 0 --start-ms "$start" --epoch-ms $EPMS --epochs $N \
  --grace-ms 1000 >"$T/be.jsonl" &
M3=$!
sleep 0.3
"$E" slice send --netns "$SRV_NS" --dst "$CAR_IP:39002" --rate-kbps 30000 --sla 0 --start-ms "$start" \
  --epoch-ms $EPMS --epochs $N >/dev/null &
"$E" slice send --netns "$SRV_NS" --dst "$CAR_IP:$P" --copy "$EDGE_IP:$P" --copy-every 4 --rate-kbps 8400 --sla 1 \
  --start-ms "$start" --epoch-ms $EPMS --epochs $N >/dev/null &
# the last epoch: 10 % loss injected at the edge switch, after its monitor's tap
while [ "$(now_ms)" -lt $((start + (N - 1) * EPMS)) ]; do sleep 0.05; done
"$E" slice loss --netns "$EDGE_NS" --port "$P" --pct 10 --log "$T/commands.log" || fail "loss injection"
wait $M1 $M2 $M3
"$E" slice loss --netns "$EDGE_NS" --port "$P" --pct 0 || fail "loss removal"
[ "$(wc -l <"$T/cust.jsonl")" = $N ] || fail "customer epochs: $(cat "$T/cust.jsonl")"
lo=$((MIN * 95 / 100))
for e in 1 2; do
  line=$(sed -n "$((e + 1))p" "$T/cust.jsonl")
  k=$(jq .kbps <<<"$line"); l=$(jq .loss_ppm <<<"$line"); be=$(sed -n "$((e + 1))p" "$T/be.jsonl" | jq .kbps)
  [ "$k" -ge $lo ] || fail "epoch $e: slice got $k kbit/s < $lo (95 % of $MIN) under the flood (best effort $be): $line"
  [ "$l" -le 10000 ] || fail "epoch $e: slice lost $l ppm: $line"
  pass "epoch $e: slice $k kbit/s (>= $lo), loss $l ppm, p99 $(jq .p99_us <<<"$line") us; best effort beside it $be kbit/s"
done
[ "$unsliced" -lt $lo ] || fail "the control flow outside a slice was not squeezed ($unsliced): the flood did not saturate"
last=$(tail -1 "$T/cust.jsonl"); elast=$(tail -1 "$T/edge.jsonl")
cl=$(jq .loss_ppm <<<"$last"); el=$(jq .loss_ppm <<<"$elast")
[ "$cl" -ge 50000 ] && [ "$cl" -le 160000 ] || fail "injected 10 % loss, customer saw $cl ppm: $last"
[ "$el" -le 20000 ] || fail "the edge monitor (before the drop) saw $el ppm: $elast"
[ $(( $(jq .verdict <<<"$last") & 4 )) = 4 ] || fail "loss breach not in the verdict: $last"
r=$(jq -r .receipt <<<"$last")
"$E" sla receipt verify "$r" --signer "$MON" --chain "$CHAIN" --sla 1 --epoch $((N - 1)) >/dev/null || fail "receipt verify"
pass "injected 10 % loss in epoch $((N - 1)): customer's receipt $cl ppm (verdict $(jq .verdict <<<"$last"): loss bit set), edge monitor's $el ppm"

# ---- controller failure: killed, namespaces gone, the next SLA expires with a full refund
kill "$CTL"; wait "$CTL" 2>/dev/null || true; CTL=
[ "$(ip netns list | grep -c "^$PREFIX-" || true)" = 0 ] || fail "namespaces left: $(ip netns list)"
b_cu=$(bal "$CUPUB")
"$E" sla activate --key "$CU" --offer 1 --epochs 2 --ap car2 --dst srv --monitor "$MON" --wait >/dev/null || fail "activate 2"
ok=0
for i in $(seq 1 100); do
  if "$E" sla expire --key "$CU" --sla 2 --wait >"$T/out" 2>&1; then ok=1; break; fi
  grep -q EAGAIN "$T/out" || fail "expire: $(cat "$T/out")"
  sleep 0.2
done
[ $ok = 1 ] || fail "never expired"
[ "$(sla 2 | jq -r .state)" = nullified ] || fail "not nullified"
[ "$(bal "$CUPUB")" = "$b_cu" ] || fail "not refunded in full"
pass "controller killed (its namespaces removed): SLA 2 nullified at its deadline, refunded in full"
