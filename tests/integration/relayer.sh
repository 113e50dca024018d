#!/usr/bin/env bash
# relayer.sh: a domain ledger (8 device processes, a committee of 4 rotating every
# L heights) and a federation ledger (4 validator processes), joined by
# `edgefed relayer` (a real process): it registers the domain, checkpoints flow on
# its period, every committee rotation is carried (the anchor's committee follows
# the domain's), it is killed with SIGKILL and restarted and resumes from the
# anchored height across a rotation it missed, and --once checkpoints on demand.
# The domain ledger is private: the relayer signs its reads with the admin's key.
source "$(dirname "$0")/lib/testnet.bash"

FED="$TMP/fed"
relayer_pid=
cleanup_all() {
    local rc=$?
    set +e
    [ -n "$relayer_pid" ] && kill "$relayer_pid" 2>/dev/null
    "$EDGEFED" testnet down --dir "$FED" >/dev/null 2>&1 || true
    (exit $rc)
    ef_cleanup
}
trap cleanup_all EXIT

L=24
"$EDGEFED" testnet init --dir "$NET" --committee 4 --devices 8 --epoch-heights $L --base-port "$BASE_PORT" \
    --chain domain-a --accounts 0 >/dev/null
"$EDGEFED" testnet init --dir "$FED" --validators 4 --chain federation --base-port $((BASE_PORT + 10)) \
    --accounts 0 --empty-block-ms 200 >/dev/null
# a private domain ledger: only its members read it
for c in "$NET"/*/config.json; do
    python3 - "$c" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c.setdefault("api", {})["private"] = True
json.dump(c, open(sys.argv[1], "w"), indent=2)
EOF
done
"$EDGEFED" testnet up --dir "$NET" >/dev/null
"$EDGEFED" testnet up --dir "$FED" >/dev/null
http() { python3 -c "import json; print([n['http'] for n in json.load(open('$1/testnet.json'))['nodes'] if n['name']=='$2'][0])"; }
DOM=http://$(http "$NET" v0)
FAPI=http://$(http "$FED" v0)
ADMIN="$NET/admin.key"
dq() { "$EDGEFED" query "$1" --api "$DOM" --key "$ADMIN"; }
fq() { "$EDGEFED" query "$1" --api "$FAPI"; }
anchored() { fq /state/anchor/domain/a 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])" 2>/dev/null || echo -1; }
dom_epoch() { dq /state/committee/current | python3 -c "import json,sys; print(json.load(sys.stdin)['epoch'])"; }

# until the anchored height is at least $1 ($2 seconds)
wait_anchored() {
    local t=0
    while [ "$(anchored height)" -lt "$1" ]; do
        sleep 0.2; t=$((t + 1))
        [ $t -lt $(( ${2:-30} * 5 )) ] || fail "anchored height did not reach $1 in ${2:-30}s (at $(anchored height))"
    done
}
wait_epoch() {
    local t=0
    while [ "$(dom_epoch 2>/dev/null || echo -1)" -lt "$1" ]; do
        sleep 0.2; t=$((t + 1))
        [ $t -lt $(( ${2:-60} * 5 )) ] || fail "domain epoch $1 not reached"
    done
}
RELAYER=("$EDGEFED" relayer --domain-node "$DOM" --federation "$FAPI" --key "$FED/v0/node.key" --read-key "$ADMIN"
         --domain a --period-ms 1000)
relayer() { "${RELAYER[@]}" "$@" 2>>"$TMP/relayer.log"; }
start_relayer() { "${RELAYER[@]}" "$@" 2>>"$TMP/relayer.log" & relayer_pid=$!; }
# the anchor's committee is the domain's current one
same_committee() {
    local dc ac
    dc=$(dq /state/committee/current | python3 -c "import json,sys; print(','.join(sorted(json.load(sys.stdin)['committee'])))")
    ac=$(fq /state/anchor/domain/a | python3 -c "import json,sys; print(','.join(sorted(m['pub'] for m in json.load(sys.stdin)['committee'])))")
    [ "$dc" = "$ac" ]
}
# the anchor may lead the domain's "current" by a block (the rotation header
# precedes the epoch's first block): the two agree within a few blocks
wait_same_committee() {
    local t=0
    until same_committee; do
        sleep 0.2; t=$((t + 1))
        [ $t -lt 25 ] || return 1
    done
}

wait_height v0 3 30
# an unsigned read of the private domain is refused, and the relayer's endpoint serves only hashes and signatures
if "$EDGEFED" query /blocks/2/checkpoint --api "$DOM" >/dev/null 2>&1; then fail "an unsigned read of the private domain was served"; fi
dq /blocks/2/checkpoint | python3 -c "
import json, sys
c = json.load(sys.stdin)
assert set(c) <= {'height','hash','header','cert','vset_hash','next_vset_hash','rotation','vset','committee','header_json'}, set(c)
assert c['height'] == 2 and not c['rotation'] and 'committee' not in c
assert len(c['header']) == 2 * (246 + len('domain-a')), len(c['header'])
" || fail "GET /blocks/2/checkpoint"
log "domain a (8 devices, committee 4, epochs of $L) and the federation (4 validators) up; checkpoint endpoint OK"

# 1. unregistered without --register: the relayer says so and anchors nothing
relayer --once >"$TMP/once0.json" && fail "--once on an unregistered domain succeeded"
grep -q '"result":"ENOTFOUND"' "$TMP/once0.json" || fail "unregistered: $(cat "$TMP/once0.json")"

# 2. the relayer registers the domain and checkpoints flow on its period
t0=$(date +%s%N)
start_relayer --register
wait_anchored 1 30
t1=$(date +%s%N)
log "registered and first checkpoint anchored in $(( (t1 - t0) / 1000000 )) ms"
h1=$(anchored height)
sleep 3
h2=$(anchored height)
[ "$h2" -gt "$h1" ] || fail "no periodic checkpoints ($h1 -> $h2)"
log "periodic checkpoints: anchored height $h1 -> $h2 in 3 s"

# 3. a rotation is carried: the anchor tracks the new committee from the rotation height
wait_epoch 1 60
e1_start=$(dq /state/committee/current | python3 -c "import json,sys; print(json.load(sys.stdin)['start'])")
wait_anchored "$e1_start" 30
since=$(anchored committee_since)
[ "$since" -ge "$e1_start" ] || fail "the anchor's committee is from $since, epoch 1 starts at $e1_start"
wait_same_committee || fail "the anchor's committee is not the domain's after rotation 1"
fq "/state/anchor/checkpoints/a/$((since - 1))" | python3 -c "
import json, sys
c = json.load(sys.stdin)
h = c['header']
assert h['vset_hash'] != h['next_vset_hash'], 'the rotation checkpoint does not change the committee'
" || fail "the rotation height's checkpoint"
log "rotation 0 -> 1 carried: checkpoint of height $((since - 1)) carried the committee that signs from $since"

# 4. killed and restarted: resumes from the anchored height, across a rotation it missed
kill -KILL "$relayer_pid"; wait "$relayer_pid" 2>/dev/null || true; relayer_pid=
hk=$(anchored height); ek=$(dom_epoch)
# the rotation into ek+1 may have been anchored just before the kill (its header
# precedes the epoch); the one into ek+2 happens with no relayer running
wait_epoch $((ek + 2)) 90
sleep 1
dstart=$(dq /state/committee/current | python3 -c "import json,sys; print(json.load(sys.stdin)['start'])")
[ "$(anchored committee_since)" -lt "$dstart" ] || fail "the anchor followed a rotation with no relayer running"
t0=$(date +%s%N)
start_relayer
e_now=$(dom_epoch)
start_now=$(dq /state/committee/current | python3 -c "import json,sys; print(json.load(sys.stdin)['start'])")
wait_anchored "$start_now" 30
t1=$(date +%s%N)
wait_same_committee || fail "after the restart the anchor's committee is not the domain's (epoch $e_now)"
log "relayer killed at anchored height $hk (epoch $ek); restarted after epoch $e_now began: caught up across the rotation in $(( (t1 - t0) / 1000000 )) ms"
grep -q "refused by the anchor" "$TMP/relayer.log" && fail "the anchor refused a checkpoint: $(grep refused "$TMP/relayer.log")"
kill "$relayer_pid"; wait "$relayer_pid" 2>/dev/null || true; relayer_pid=

# 5. on demand, and idempotent
relayer --once >"$TMP/once1.json" || fail "--once: $(cat "$TMP/once1.json")"
python3 - "$TMP/once1.json" <<'EOF' || fail "--once did not anchor the tip: $(cat "$TMP/once1.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["result"] == "OK" and r["anchored"] == r["domain_height"], r
EOF
cat "$TMP/once1.json"
n_before=$(fq /state/anchor/domain/a | python3 -c "import json,sys; print(json.load(sys.stdin)['checkpoints'])")
# two relayers at once: whichever is second finds the height anchored and changes nothing
relayer --once >"$TMP/once2.json" & p2=$!
relayer --once >"$TMP/once3.json" || true
wait "$p2" || true
cat "$TMP/once2.json" "$TMP/once3.json"
grep -q '"frozen":false' "$TMP/once2.json" || fail "frozen after concurrent relayers"
[ "$(anchored frozen)" = "False" ] || fail "the domain is frozen"
grep -q "refused by the anchor" "$TMP/relayer.log" && fail "the anchor refused a checkpoint: $(grep refused "$TMP/relayer.log")"
log "on demand: tip anchored; concurrent relayers: no refusal, $n_before -> $(anchored checkpoints) checkpoints"
"$EDGEFED" testnet down --dir "$FED" >/dev/null
down_and_check_logs
log "OK"
