#!/usr/bin/env bash
# node_netns.sh: 4 validators, each in its own network namespace joined by a veth
# pair to a bridge (own addresses, as on separate hosts): they commit; a partition
# (one node's link down) leaves 3 committing and the cut-off node catches up when
# the link heals; a 2|2 split stops commits without divergence, and healing
# resumes them. Needs root; skipped with a message otherwise.
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: node_netns.sh needs root (network namespaces); not root here"
    exit 77
fi
if ! ip netns list >/dev/null 2>&1; then
    echo "SKIP: node_netns.sh: 'ip netns' is not usable here"
    exit 77
fi
source "$(dirname "$0")/lib/testnet.bash"

"$EDGEFED" testnet init --dir "$NET" --validators 4 --netns --accounts 16 >/dev/null
"$EDGEFED" testnet up --dir "$NET"
wait_height v0 1 30
for v in v0 v1 v2 v3; do
    ns=$(python3 -c "import json; print([n['netns'] for n in json.load(open('$NET/testnet.json'))['nodes'] if n['name']=='$v'][0])")
    ip netns list | grep -qw "$ns" || fail "namespace $ns missing"
done
"$EDGEFED" load --dir "$NET" --rate 100 --duration 2 --accounts 16 --acked "$TMP/acked" >/dev/null
log "committed $(wc -l < "$TMP/acked") across namespaces"

log "partition: v3 cut off"
"$EDGEFED" testnet link --dir "$NET" --node v3 down
h0=$(height v0)
"$EDGEFED" load --dir "$NET" --rate 100 --duration 3 --accounts 16 --nodes v0,v1,v2 --acked "$TMP/acked" >/dev/null
h1=$(height v0); h3=$(height v3)
[ "$h1" -gt "$h0" ] || fail "3 of 4 did not commit during the partition"
[ "$h3" -le "$h0" ] || fail "the cut-off v3 advanced ($h3 > $h0)"
log "v0 $h0 -> $h1 while v3 stayed at $h3"
"$EDGEFED" testnet link --dir "$NET" --node v3 up
wait_height v3 "$h1" 60
log "healed: v3 caught up to $h1"

log "partition 2|2: v2 and v3 cut off"
"$EDGEFED" testnet link --dir "$NET" --node v2 down
"$EDGEFED" testnet link --dir "$NET" --node v3 down
sleep 1
h2=$(height v0)
"$EDGEFED" load --dir "$NET" --rate 50 --duration 2 --accounts 16 --nodes v0,v1 --drain 1 --acked "$TMP/acked_split" >/dev/null || true
[ "$(wc -l < "$TMP/acked_split")" -eq 0 ] || fail "commits during a 2|2 split"
[ "$(height v0)" -le $((h2 + 1)) ] || fail "height moved during a 2|2 split"
check_safety
"$EDGEFED" testnet link --dir "$NET" --node v2 up
"$EDGEFED" testnet link --dir "$NET" --node v3 up
wait_height v0 $((h2 + 1)) 60
t=0; while [ "$(node_field v0 mempool_txs)" != "0" ]; do sleep 0.5; t=$((t+1)); [ $t -lt 120 ] || fail "split-time transfers never committed"; done
h=$(height v0)
for v in v1 v2 v3; do wait_height "$v" "$h" 60; done
log "healed: commits resumed, all at height >= $h"
check_safety
"$EDGEFED" testnet txcheck --dir "$NET" --acked "$TMP/acked"
down_and_check_logs
for v in v0 v1 v2 v3; do
    ! ip netns list | grep -q "$(python3 -c "import json; print([n['netns'] for n in json.load(open('$NET/testnet.json'))['nodes'] if n['name']=='$v'][0])")" || fail "namespace left behind"
done
log "PASS"
