#!/usr/bin/env bash
# committee_rotation.sh: a domain ledger of 8 device nodes (real processes) with a
# committee of 4 elected by the committee contract every L heights. The device
# agents commit and reveal on their own; the committee rotates live: each
# epoch's first block is certified by the new committee alone, and no node is
# restarted. Then an elected device is killed right after its election: it
# misses its epoch (recorded on the ledger), the three others carry the chain,
# and the next election replaces it; a member killed after its commit and
# restarted reveals within its epoch. Prints how long each rotation took.
source "$(dirname "$0")/lib/testnet.bash"

L=30
"$EDGEFED" testnet init --dir "$NET" --committee 4 --devices 8 --epoch-heights $L --base-port "$BASE_PORT" \
    --accounts 0 >/dev/null
"$EDGEFED" testnet up --dir "$NET" >/dev/null
http() { python3 -c "import json; print([n['http'] for n in json.load(open('$NET/testnet.json'))['nodes'] if n['name']=='$1'][0])"; }
name_of() { python3 -c "import json; print([n['name'] for n in json.load(open('$NET/testnet.json'))['nodes'] if n['pub']=='$1'][0])"; }
WATCH=v0
API=http://$(http v0)
# the domain ledger is private: reads are signed by a member (the admin)
q() { "$EDGEFED" query "$1" --api "${2:-$API}" --key "$NET/admin.key"; }
cur_field() { q /state/committee/current "${2:-$API}" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

# wait_epoch E [SECONDS] [API]: until the current epoch is at least E
wait_epoch() {
    local t=0 lim=${2:-90} e
    while :; do
        e=$(cur_field epoch "${3:-$API}" 2>/dev/null || echo -1)
        [ "$e" -ge "$1" ] && return 0
        sleep 0.2; t=$((t + 1))
        [ $t -lt $((lim * 5)) ] || fail "epoch $1 not reached in ${lim}s (at $e)"
    done
}

# check_rotation E: epoch E's record; the first block of epoch E+1 is certified
# by its committee only, the block before by epoch E's; prints the timing
check_rotation() {
    local e=$1 rec b
    rec=$(q "/state/committee/epoch/$e")
    start=$(echo "$rec" | python3 -c "import json,sys; r=json.load(sys.stdin); print(r['elected_at'] + 2)")
    wait_height "$WATCH" "$start" 30
    b=$(q "/blocks?from=$((start - 2))&to=$start")
    python3 - "$e" "$rec" "$b" <<'EOF' || fail "rotation after epoch $1 is wrong"
import json, sys
e, rec, blocks = int(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])['blocks']
old, new = set(rec['committee']), set(rec['next_committee'])
by_h = {b['height']: b for b in blocks}
start = rec['elected_at'] + 2
assert len(new) == 4, f"epoch {e + 1} committee has {len(new)} members"
first, last = by_h[start], by_h[start - 1]
sf, sl = set(first['signers']), set(last['signers'])
assert sf <= new and len(sf) >= 3, f"block {start} signed by {len(sf)} keys, {len(sf - new)} outside the new committee"
assert sl <= old and len(sl) >= 3, f"block {start - 1} signed by {len(sl - old)} keys outside the old committee"
dt = first['time_ms'] - by_h[start - 2]['time_ms']
print(f"rotation {e} -> {e + 1}: elected in block {start - 2}, seed {rec['seed'][:16]}..., "
      f"{len(rec['revealed'])} revealed, missed {len(rec['missed'])}; new committee "
      f"({len(new - old)} new members) certified block {start} {dt} ms after the election block")
EOF
}

"$EDGEFED" query /status --api "$API" >/dev/null 2>&1 && fail "the private domain ledger answered an unsigned read"
log "domain of 8 devices, committee 4, epochs of $L heights"
t0=$(date +%s%N)
wait_epoch 3
t1=$(date +%s%N)
log "3 rotations in $(( (t1 - t0) / 1000000 )) ms (from the first block of epoch 0)"
for e in 0 1 2; do check_rotation $e; done
# every device took part when it was a member: nobody missed
q /state/committee/epochs | python3 -c "
import json, sys
for r in json.load(sys.stdin)[:3]:
    assert not r['missed'], f\"epoch {r['epoch']}: {r['missed']} missed with every device up\"
    assert len(r['revealed']) == 4, f\"epoch {r['epoch']}: {len(r['revealed'])} revealed\"
" || fail "a live member missed an epoch"
for d in "$NET"/v* "$NET"/o*; do
    [ "$(grep -c " up at height " "$d/node.log")" = 1 ] || fail "$(basename "$d") was restarted"
done
log "every node followed the rotations without a restart"
# the election is the same on every node: each one's epoch records are identical
ref=$(q "/state/committee/epoch/2")
for n in v1 v2 v3 o0 o1 o2 o3; do
    [ "$(q "/state/committee/epoch/2" "http://$(http $n)")" = "$ref" ] || fail "$n has another epoch 2 record"
done
log "the epoch records are identical on all 8 nodes"

# kill an elected device right after its election, before its epoch's reveal window
e0=$(cur_field epoch)
wait_epoch $((e0 + 1)) 60
read -r E victim start <<<"$(q /state/committee/current | python3 -c "
import json, sys
c = json.load(sys.stdin)
print(c['epoch'], c['committee'][-1], c['start'])")"
vname=$(name_of "$victim")
"$EDGEFED" testnet kill --dir "$NET" --node "$vname"
log "killed $vname, a member of epoch $E (from height $start)"
other=v0
[ "$vname" = v0 ] && other=v1
API=http://$(http $other)
WATCH=$other
wait_epoch $((E + 1)) 120
rec=$(q "/state/committee/epoch/$E")
echo "$rec" | python3 -c "
import json, sys
r = json.load(sys.stdin)
v = '$victim'
assert v in r['committee'], 'the victim was not in the committee'
assert v not in r['revealed'], 'the killed device revealed'
assert v in r['missed'], 'the killed device is not recorded as missed'
assert v not in r['next_committee'], 'the killed device was elected again'
print(f\"epoch {r['epoch']}: {len(r['revealed'])} of 4 revealed, missed: {[m[:8] for m in r['missed']]}\")
" || fail "the down device was not replaced"
q /state/committee/devices | python3 -c "
import json, sys
d = [x for x in json.load(sys.stdin) if x['device'] == '$victim'][0]
assert d['missed'] >= 1 and d['excluded_until'] == $E + 1, d
" || fail "the device record does not show the miss"
check_rotation "$E"
log "$vname missed epoch $E and was replaced at epoch $((E + 1))"
# a member killed after its commit and restarted at once reveals the secret it
# committed to (derived from its key, never stored) within the same epoch
"$EDGEFED" testnet start --dir "$NET" --node "$vname" >/dev/null
wait_epoch $((E + 2)) 120
read -r E2 m2 <<<"$(q /state/committee/current | python3 -c "
import json, sys
c = json.load(sys.stdin)
print(c['epoch'], c['committee'][0])")"
n2=$(name_of "$m2")
t=0
until q /state/committee/current | python3 -c "import json,sys; c=json.load(sys.stdin); sys.exit(0 if c['epoch'] == $E2 and '$m2' in c['committed'] else 1)"; do
    sleep 0.1; t=$((t + 1)); [ $t -lt 200 ] || fail "$n2 did not commit in epoch $E2"
done
for other in v0 v1 v2; do [ "$other" != "$n2" ] && [ "$other" != "$vname" ] && break; done
API=http://$(http $other)
WATCH=$other
"$EDGEFED" testnet kill --dir "$NET" --node "$n2"
"$EDGEFED" testnet start --dir "$NET" --node "$n2" >/dev/null
log "restarted $n2 (member of epoch $E2) after its commit"
wait_epoch $((E2 + 1)) 120
q "/state/committee/epoch/$E2" | python3 -c "
import json, sys
r = json.load(sys.stdin)
assert '$m2' in r['revealed'], 'the restarted member did not reveal'
assert '$m2' not in r['missed']
" || fail "$n2 did not reveal after its restart"
log "$n2 revealed after its restart; epoch $E2 elected with $(q "/state/committee/epoch/$E2" | python3 -c "import json,sys; print(len(json.load(sys.stdin)['revealed']))") reveals"
# the chain goes on
h=$(height "$other")
wait_height "$other" $((h + 5)) 30
check_safety
down_and_check_logs
log "PASS"
