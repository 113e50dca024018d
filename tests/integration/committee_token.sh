#!/usr/bin/env bash
# committee_token.sh: read tokens on a private domain ledger (8 device nodes, a
# committee of 4 rotating every L heights; real processes). A member's token
# (edgefed token make) reads the committee's epochs; no token, a non-member's,
# a forged, an expired and another chain's token are refused with their own
# codes; a token does not write; an event stream opened with a token ends at its
# expiry. browser_committee.sh runs this with EF_COMMITTEE_BROWSER=1: the
# explorer's committee card in chromium, signed in with the token.
source "$(dirname "$0")/lib/testnet.bash"

L=16
"$EDGEFED" testnet init --dir "$NET" --committee 4 --devices 8 --epoch-heights $L --base-port "$BASE_PORT" \
    --accounts 0 >/dev/null
"$EDGEFED" testnet up --dir "$NET" >/dev/null
API=http://$(jq -r '.nodes[0].http' "$NET/testnet.json")
CHAIN=$(jq -r '.chain_id' "$NET/testnet.json")
ADMIN="$NET/admin.key"
wait_height v0 1 30
for i in $(seq 1 100); do "$EDGEFED" query /status --api "$API" --key "$ADMIN" >/dev/null 2>&1 && break; sleep 0.2; done

# get PATH TOKEN: prints "STATUS CODE" (CODE: the error's code, or OK)
get() {
    local body st
    body=$(curl -s -o - -w '\n%{http_code}' -H "Authorization: Bearer $2" "$API$1")
    st=$(tail -n1 <<<"$body")
    printf '%s %s\n' "$st" "$(head -n -1 <<<"$body" | jq -r 'if type == "object" then (.code // "OK") else "OK" end' 2>/dev/null || echo '?')"
}

TOK=$("$EDGEFED" token make --key "$ADMIN" --api "$API") || fail "token make"
"$EDGEFED" token check "$TOK" --chain "$CHAIN" | jq -e '.valid_now' >/dev/null || fail "token check"
[ "$(get /state/committee/current "$TOK")" = "200 OK" ] || fail "member token: $(get /state/committee/current "$TOK")"
[ "$(get /state/committee/epochs "$TOK")" = "200 OK" ] || fail "member token epochs"
log "a member's token reads the committee (chain $CHAIN)"

# refusals, each with its code; nothing is served
st=$(curl -s -o "$TMP/r" -w '%{http_code}' "$API/state/committee/current")
[ "$st" = 403 ] && jq -e '.code == "EPERM"' "$TMP/r" >/dev/null || fail "unsigned read: $st $(cat "$TMP/r")"
"$EDGEFED" keygen --out "$TMP/outsider.key" >/dev/null
OUTSIDER=$("$EDGEFED" token make --key "$TMP/outsider.key" --chain "$CHAIN")
[ "$(get /state/committee/current "$OUTSIDER")" = "403 EPERM" ] || fail "outsider: $(get /state/committee/current "$OUTSIDER")"
"$EDGEFED" token make --key "$TMP/outsider.key" --api "$API" >/dev/null 2>"$TMP/err" && fail "an outsider made a token through the node"
FORGED=${TOK%?}$( [ "${TOK: -1}" = 0 ] && echo 1 || echo 0 )
[ "$(get /status "$FORGED")" = "403 EBADSIG" ] || fail "forged: $(get /status "$FORGED")"
OTHER=$("$EDGEFED" token make --key "$ADMIN" --chain other-chain)
[ "$(get /status "$OTHER")" = "403 ECHAIN" ] || fail "other chain: $(get /status "$OTHER")"
SHORT=$("$EDGEFED" token make --key "$ADMIN" --chain "$CHAIN" --ttl 1)
[ "$(get /status "$SHORT")" = "200 OK" ] || fail "short token before expiry"
sleep 1.2
[ "$(get /status "$SHORT")" = "403 ELATE" ] || fail "expired: $(get /status "$SHORT")"
"$EDGEFED" token check "$SHORT" >/dev/null && fail "token check passed an expired token"
st=$(curl -s -o "$TMP/r" -w '%{http_code}' -H "Authorization: Bearer $TOK" -H 'Content-Type: application/json' \
     -d '{"tx":"00"}' "$API/txs")
[ "$st" = 403 ] && jq -e '.code == "EPERM"' "$TMP/r" >/dev/null || fail "a token wrote: $st $(cat "$TMP/r")"
log "refused: no token (EPERM), non-member (EPERM), forged (EBADSIG), other chain (ECHAIN), expired (ELATE), a write (EPERM)"

# an event stream opened with a 3 s token ends at its expiry, not at curl's 20 s limit
SSE=$("$EDGEFED" token make --key "$ADMIN" --chain "$CHAIN" --ttl 3)
t0=$(date +%s%N)
timeout 20 curl -sN -H "Authorization: Bearer $SSE" "$API/events?kind=block" >"$TMP/sse" || fail "stream did not end by itself"
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
grep -q '^event: block' "$TMP/sse" || fail "the stream sent no block"
[ "$dt" -lt 6000 ] || fail "the stream outlived its token by far: ${dt} ms"
log "an event stream with a 3 s token ended after $dt ms"

# the epochs as the explorer shows them, once a rotation has happened
q() { curl -sf -H "Authorization: Bearer $TOK" "$API$1"; }
for i in $(seq 1 300); do
    [ "$(q /state/committee/current | jq .epoch)" -ge 2 ] && break
    sleep 0.2
done
[ "$(q /state/committee/current | jq .epoch)" -ge 2 ] || fail "epoch 2 not reached"
q /state/committee/epochs | jq -e 'length >= 2 and all(.[]; (.committee | length) == 4 and (.seed | length) == 64)' \
    >/dev/null || fail "epochs: $(q /state/committee/epochs)"
log "epoch $(q /state/committee/current | jq .epoch) current, $(q /state/committee/epochs | jq length) finished"

if [ "${EF_COMMITTEE_BROWSER:-0}" = 1 ]; then
    mkdir -p "${EF_TEST_OUT:-/tmp}/browser"
    NM=$("$EDGEFED" token make --key "$TMP/outsider.key" --chain "$CHAIN")
    EX=$("$EDGEFED" token make --key "$ADMIN" --chain "$CHAIN" --ttl 1)
    sleep 1.2
    EF_API_URL=$API EF_TOKEN=$TOK EF_TOKEN_EXPIRED=$EX EF_TOKEN_FORGED=$FORGED EF_TOKEN_OUTSIDER=$NM \
    EF_ADMIN_KEY=$ADMIN EDGEFED=$EDGEFED EF_TEST_OUT="${EF_TEST_OUT:-/tmp}/browser" \
    NODE_PATH=$EF_BROWSER_MODULES timeout 240 node "$EF_SRC/tests/browser/committee_test.js" || fail "browser"
    log "explorer: committee epochs for the member, refusals for the others"
fi
max=0
for f in "$NET"/*/node.pid; do
    r=$(awk '/^VmRSS:/ {print $2}' "/proc/$(cat "$f")/status" 2>/dev/null || echo 0)
    [ "${r:-0}" -gt "$max" ] && max=$r
done
log "largest node RSS: $max kB"
down_and_check_logs
log "PASS"
