#!/usr/bin/env bash
# node_vset.sh: the validators admit a fifth validator through the registry (more
# than 2/3 vote for it); the set changes at the height the registry says, every
# node follows, and the newcomer, started as an observer, signs from that height
# on without a restart: with one of the original four stopped, the chain moves
# only because it signs, and its signature is in those certificates. Then the
# validators remove it by vote: from the removal's height its signature is in no
# certificate, and it keeps following the chain as an observer.
source "$(dirname "$0")/lib/testnet.bash"

"$EDGEFED" testnet init --dir "$NET" --validators 4 --observers 1 --base-port "$BASE_PORT" --accounts 8 >/dev/null
"$EDGEFED" testnet up --dir "$NET"
wait_height v0 1 30
chain=$(python3 -c "import json; print(json.load(open('$NET/v0/config.json'))['chain_id'])")
tn() { python3 -c "import json; print([n['$2'] for n in json.load(open('$NET/testnet.json'))['nodes'] if n['name']=='$1'][0])"; }
o0=$(tn o0 pub)
api() { "$EDGEFED" query "$2" --api "http://$(tn "$1" http)"; }
effective() { api v0 "/state/registry/proposal/$1" | python3 -c "import json,sys; p = json.load(sys.stdin); print(p['effective_at'] if p['status'] == 'passed' else 0)"; }
restarts() { grep -c " up at height " "$NET/o0/node.log"; }

sign() { # KEYNODE METHOD ARGS
    "$EDGEFED" tx sign --key "$NET/$1/node.key" --chain-id "$chain" --nonce 0 --contract registry \
        --method "$2" --args "$3" | head -1
}
sign v0 propose_validator "{\"account\":\"$o0\",\"domain\":\"dom-0\",\"role\":\"validator\",\"action\":\"add\"}" > "$TMP/p.tx"
"$EDGEFED" submit --home "$NET/v0" --wait "$TMP/p.tx" | tee "$TMP/p.out"
grep -q "^committed .* 0$" "$TMP/p.out" || fail "the proposal did not execute"
for v in v1 v2; do
    sign "$v" vote_validator '{"proposal":1}' > "$TMP/$v.tx"
    "$EDGEFED" submit --home "$NET/$v" --wait "$TMP/$v.tx" | tee "$TMP/$v.out"
    grep -q "^committed .* 0$" "$TMP/$v.out" || fail "the vote of $v did not execute"
done
add_at=$(effective 1)
[ "$add_at" -gt 0 ] || fail "the admission did not pass"
log "o0 admitted from height $add_at"
# the change takes effect two heights after the deciding vote: make blocks come
"$EDGEFED" load --dir "$NET" --rate 50 --duration 2 --accounts 8 >/dev/null
wait_height v0 "$add_at" 30
n=$("$EDGEFED" status --home "$NET/v3" | python3 -c "import json,sys; print(len(json.load(sys.stdin)['validators']))")
[ "$n" = 5 ] || fail "v3 sees $n validators, expected 5"
log "validator set is now 5 on v3"

# o0 started as an observer and is not restarted: it must sign from add_at on
[ "$(node_field o0 validator)" = "True" ] || fail "o0 is not a validator after its admission"
[ "$(restarts)" = 1 ] || fail "o0 was restarted"
log "stop v3: 4 of 5 remain, a quorum only with o0's votes"
"$EDGEFED" testnet kill --dir "$NET" --node v3
h0=$(height v0)
"$EDGEFED" load --dir "$NET" --rate 50 --duration 3 --accounts 8 --nodes v0,v1,v2 --acked "$TMP/acked" >/dev/null
c=$(wc -l < "$TMP/acked")
[ "$c" -ge 100 ] || fail "only $c transactions committed with o0 as the fourth signer"
h1=$(height v0)
[ "$h1" -gt "$h0" ] || fail "no block with v3 stopped"
k=$(signed_heights v0 $((h0 + 1)) "$h1" "$o0" | wc -l)
[ "$k" = $((h1 - h0)) ] || fail "o0 signed $k of blocks $((h0 + 1))..$h1 (v3 stopped), expected all"
log "$c committed, height $h0 -> $h1, o0 signed every one of those blocks, never restarted"

# removal by vote: o0 stops signing at the removal's height and follows as an observer
"$EDGEFED" testnet start --dir "$NET" --node v3 >/dev/null
wait_height v3 "$h1" 30
send() { # KEYNODE METHOD ARGS
    "$EDGEFED" tx send --api "http://$(tn "$1" http)" --key "$NET/$1/node.key" --contract registry \
        --method "$2" --args "$3" --wait > "$TMP/send.out" 2>&1 || { cat "$TMP/send.out"; fail "$1 $2 failed"; }
}
send v0 propose_validator "{\"account\":\"$o0\",\"domain\":\"dom-0\",\"role\":\"validator\",\"action\":\"remove\"}"
for v in v1 v2 v3; do send "$v" vote_validator '{"proposal":2}'; done
rm_at=$(effective 2)
[ "$rm_at" -gt 0 ] || fail "the removal did not pass"
log "o0 removed from height $rm_at"
"$EDGEFED" load --dir "$NET" --rate 50 --duration 2 --accounts 8 --nodes v0,v1,v2,v3 >/dev/null
top=$(height v0)
[ "$top" -gt "$rm_at" ] || fail "no block after the removal's height"
k=$(signed_heights v0 "$rm_at" "$top" "$o0" | wc -l)
[ "$k" = 0 ] || fail "o0 signed $k blocks from its removal at $rm_at to $top"
[ "$(signed_heights v0 "$add_at" $((rm_at - 1)) "$o0" | wc -l)" -ge 1 ] || fail "o0 never signed while a validator"
wait_height o0 "$top" 30
[ "$(node_field o0 validator)" = "False" ] || fail "o0 still says it is a validator"
[ "$(restarts)" = 1 ] || fail "o0 was restarted"
log "o0 signs none of blocks $rm_at..$top and follows the chain at $(height o0)"
check_safety
down_and_check_logs
log "PASS"
