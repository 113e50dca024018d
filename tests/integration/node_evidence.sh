#!/usr/bin/env bash
# node_evidence.sh: one validator double-signs on a real 4-validator testnet (v3 is
# stopped and a test tool sends two conflicting precommits signed with its key to
# the other three over P2P). The nodes that see it report it on their own; the
# registry records it once (the other reports fail with ERECORDED), emits an
# equivocation event and jails v3 two heights later. The chain goes on with three;
# v3, restarted, follows as an observer and its signature is in no later
# certificate. Reports by hand: the same evidence again, a forged one, one from a
# non-validator are refused and change nothing.
source "$(dirname "$0")/lib/testnet.bash"

"$EDGEFED" testnet init --dir "$NET" --validators 4 --observers 1 --base-port "$BASE_PORT" --accounts 4 >/dev/null
"$EDGEFED" testnet up --dir "$NET"
wait_height v0 1 30
chain=$(python3 -c "import json; print(json.load(open('$NET/v0/config.json'))['chain_id'])")
tn() { python3 -c "import json; print([n['$2'] for n in json.load(open('$NET/testnet.json'))['nodes'] if n['name']=='$1'][0])"; }
v3=$(tn v3 pub)
api() { "$EDGEFED" query "$2" --api "http://$(tn "$1" http)"; }
counter() { # total of a node counter over v0..v2
    local t=0 c
    for v in v0 v1 v2; do c=$(rejected "$v" "$1"); t=$((t + c)); done
    echo "$t"
}
evidence_count() { api v0 /state/registry/evidence | python3 -c "import json,sys; print(len(json.load(sys.stdin)))"; }

# make some blocks with v3 signing
"$EDGEFED" load --dir "$NET" --rate 20 --duration 1 --accounts 4 >/dev/null
[ "$(evidence_count)" = 0 ] || fail "evidence before any double vote"
hk=$(height v0)
log "stop v3 at height $hk; the tool double-signs with its key"
"$EDGEFED" testnet kill --dir "$NET" --node v3 --signal TERM
for try in 1 2 3 4 5; do
    # The chain is idle at height h on all three: the votes are for h + 2, which
    # each engine keeps until that height starts, so that every node sees them
    # before anything is decided there (votes for h + 1 would start the height,
    # and the first report could commit it before the others got the votes).
    h=$(height v0)
    for v in v1 v2; do wait_height "$v" "$h" 10; done
    for v in v0 v1 v2; do
        "$EDGEFED" p2p-probe --addr "$(tn "$v" p2p)" --chain "$chain" --kind equivocate \
            --key "$NET/v3/node.key" --height $((h + 2)) >/dev/null
    done
    "$EDGEFED" load --dir "$NET" --rate 20 --duration 1 --accounts 4 --nodes v0,v1,v2 >/dev/null
    for i in $(seq 1 40); do
        [ "$(evidence_count)" -ge 1 ] && break
        sleep 0.5
    done
    [ "$(evidence_count)" -ge 1 ] && break
    log "no evidence recorded yet (try $try)"
done
[ "$(evidence_count)" = 1 ] || fail "evidence recorded $(evidence_count) times, expected once"
api v0 /state/registry/evidence > "$TMP/ev.json"
cat "$TMP/ev.json"
read -r off jailed rec eff typ < <(python3 -c "
import json; e = json.load(open('$TMP/ev.json'))[0]
print(e['offender'], e['jailed'], e['recorded_at'], e['effective_at'], e['type'])")
[ "$off" = "$v3" ] || fail "evidence names $off, not v3"
[ "$jailed" = True ] && [ "$typ" = precommit ] || fail "evidence not a jailing precommit record"
[ "$eff" = $((rec + 2)) ] || fail "jailed at $eff, recorded at $rec: expected two heights later"
log "evidence recorded at height $rec, v3 out from height $eff"

# every report that reached a block: one recorded, the others ERECORDED
for i in $(seq 1 40); do
    [ $(( $(counter evidence_recorded) + $(counter evidence_known) )) -ge "$(counter evidence_reported)" ] && break
    sleep 0.5
done
reported=$(counter evidence_reported)
[ "$reported" -ge 2 ] || fail "only $reported of the three nodes reported the double vote"
[ "$(counter evidence_recorded)" = 1 ] || fail "$(counter evidence_recorded) reports recorded, expected 1"
[ "$(counter evidence_known)" = $((reported - 1)) ] || fail "duplicates: $(counter evidence_known), expected $((reported - 1))"
log "$reported nodes reported it: 1 recorded, $((reported - 1)) refused as already recorded"

# the event
"$EDGEFED" query "/events?from=1&kind=event&contract=registry&event=equivocation" \
    --api "http://$(tn v0 http)" --events 1 > "$TMP/event.txt"
grep -q "$v3" "$TMP/event.txt" || fail "no equivocation event naming v3"

# v3 leaves the set at its height; the chain goes on with three
"$EDGEFED" load --dir "$NET" --rate 20 --duration 2 --accounts 4 --nodes v0,v1,v2 >/dev/null
wait_height v0 $((eff + 1)) 30
n=$(api v0 "/state/registry/validators/$eff" | python3 -c "import json,sys; print(' '.join(v['pub'] for v in json.load(sys.stdin)['validators']))")
case " $n " in *" $v3 "*) fail "v3 still in the set of height $eff" ;; esac
[ "$(echo "$n" | wc -w)" = 3 ] || fail "set of height $eff: $n"
[ "$(api v0 "/state/registry/account/$v3" | python3 -c "import json,sys; print(json.load(sys.stdin)['role'])")" = member ] ||
    fail "v3's role is not member after jailing"

# bad reports change nothing: the same evidence again, a forged signature, a non-validator
a=$(python3 -c "import json; print(json.load(open('$TMP/ev.json'))[0]['a'])")
b=$(python3 -c "import json; print(json.load(open('$TMP/ev.json'))[0]['b'])")
bad=$(python3 -c "import json; b = json.load(open('$TMP/ev.json'))[0]['b']; print(b[:-2] + '%02x' % ((int(b[-2:], 16) + 1) % 256))")
send() { # KEYNODE ARGS -> prints the result's code name (the command fails when refused)
    { "$EDGEFED" tx send --api "http://$(tn v0 http)" --key "$NET/$1/node.key" --contract registry \
        --method report_evidence --args "$2" --wait 2>&1 || true; } | tee -a "$TMP/send.txt" | python3 -c "
import json,sys
t = sys.stdin.read()
print(json.loads(t[t.index('{'):]).get('code') if '{' in t else t.strip())"
}
before=$(api v0 /state/registry/evidence | md5sum)
r1=$(send v1 "{\"a\":\"$a\",\"b\":\"$b\"}")
r2=$(send v1 "{\"a\":\"$a\",\"b\":\"$bad\"}")
r3=$(send o0 "{\"a\":\"$a\",\"b\":\"$b\"}")
r4=$(send v1 "{\"a\":\"$a\",\"b\":\"$a\"}")
log "again: $r1; forged: $r2; from an observer: $r3; one vote twice: $r4"
[ "$r1" = ERECORDED ] || fail "the same evidence again gave $r1"
[ "$r2" = EBADSIG ] || fail "a forged vote gave $r2"
[ "$r3" = ENOTVAL ] || fail "a report by a non-validator gave $r3"
[ "$r4" = EINVAL ] || fail "one vote twice gave $r4"
[ "$(api v0 /state/registry/evidence | md5sum)" = "$before" ] || fail "a refused report changed the evidence"

# v3 comes back: it follows the chain as an observer and signs nothing
log "restart v3"
"$EDGEFED" testnet start --dir "$NET" --node v3 >/dev/null
"$EDGEFED" load --dir "$NET" --rate 20 --duration 2 --accounts 4 --nodes v0,v1,v2 >/dev/null
top=$(height v0)
wait_height v3 "$top" 30
[ "$(node_field v3 validator)" = False ] || fail "v3 says it is a validator"
late=$(signed_heights v0 "$eff" "$top" "$v3" | wc -l)
[ "$late" = 0 ] || fail "v3 signed $late blocks after it was jailed: $(signed_heights v0 "$eff" "$top" "$v3" | head -5 | tr '\n' ' ')"
signed=$(signed_heights v0 1 "$hk" "$v3" | wc -l)
[ "$signed" -ge 1 ] || fail "v3 signed none of blocks 1..$hk before it was stopped (the check would prove nothing)"
log "v3 signed $signed of blocks 1..$hk, none of $eff..$top"
"$EDGEFED" testnet check --dir "$NET" || fail "block hashes differ between nodes"
for d in "$NET"/v* "$NET"/o*; do   # peak resident set of each node (a figure; ASan builds are bigger)
    p=$(cat "$d/node.pid" 2>/dev/null || true)
    [ -n "$p" ] && log "$(basename "$d") peak RSS $(awk '/VmHWM/ {print $2, $3}' "/proc/$p/status" 2>/dev/null)"
done
down_and_check_logs
log "PASS"
