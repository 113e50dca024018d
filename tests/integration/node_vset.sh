#!/usr/bin/env bash
# node_vset.sh: the validators admit a fifth validator through the registry (more
# than 2/3 vote for it); the set changes at the height the registry says, every
# node follows, and the new validator's votes count: with one of the original four
# stopped, the chain moves only because the newcomer signs.
source "$(dirname "$0")/lib/testnet.bash"

"$EDGEFED" testnet init --dir "$NET" --validators 4 --observers 1 --base-port "$BASE_PORT" --accounts 8 >/dev/null
"$EDGEFED" testnet up --dir "$NET"
wait_height v0 1 30
chain=$(python3 -c "import json; print(json.load(open('$NET/v0/config.json'))['chain_id'])")
o0=$(python3 -c "import json; print([n['pub'] for n in json.load(open('$NET/testnet.json'))['nodes'] if n['name']=='o0'][0])")

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
# the change takes effect two heights after the deciding vote: make blocks come
"$EDGEFED" load --dir "$NET" --rate 50 --duration 2 --accounts 8 >/dev/null
n=$("$EDGEFED" status --home "$NET/v3" | python3 -c "import json,sys; print(len(json.load(sys.stdin)['validators']))")
[ "$n" = 5 ] || fail "v3 sees $n validators, expected 5"
log "validator set is now 5 on v3"

# o0 started as an observer: restart it so that it signs
"$EDGEFED" testnet kill --dir "$NET" --node o0 --signal TERM
"$EDGEFED" testnet start --dir "$NET" --node o0 >/dev/null
[ "$(node_field o0 validator)" = "True" ] || fail "o0 is not a validator after its admission"
log "stop v3: 4 of 5 remain, a quorum only with o0's votes"
"$EDGEFED" testnet kill --dir "$NET" --node v3
h0=$(height v0)
"$EDGEFED" load --dir "$NET" --rate 50 --duration 3 --accounts 8 --nodes v0,v1,v2 --acked "$TMP/acked" >/dev/null
c=$(wc -l < "$TMP/acked")
[ "$c" -ge 100 ] || fail "only $c transactions committed with o0 as the fourth signer"
log "$c committed, height $h0 -> $(height v0)"
check_safety
down_and_check_logs
log "PASS"
