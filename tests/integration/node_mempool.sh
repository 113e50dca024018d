#!/usr/bin/env bash
# node_mempool.sh: a flood cannot pin the mempool. Fresh keys with no account (not
# registered, no money) submit bank transfers with future nonces (and some with
# nonce 0) to every validator at 2000 tx/s; meanwhile a funded, registered
# account's transactions must still commit, each within 2 s. Every flood
# transaction is refused (ENOACCOUNT) and counted; no mempool fills.
# Before the admission rules (edgefed main at 551e6cf) the same run ends with
# the honest transaction refused, 503 EFULL: the gapped flood fills every pool
# for good.
source "$(dirname "$0")/lib/testnet.bash"
FLOOD="$(dirname "$0")/lib/flood.py"
python3 -c "import cryptography" 2>/dev/null || { echo "SKIP: python3 cryptography missing"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: jq missing"; exit 77; }
POOL=2000                   # a small pool, so the flood would fill it in seconds
RATE=${EF_FLOOD_RATE:-2000}
LAT_MAX_MS=2000

"$EDGEFED" testnet init --dir "$NET" --validators 4 --observers 1 --base-port "$BASE_PORT" --accounts 4 >/dev/null
for d in "$NET"/v* "$NET"/o*; do
    jq ".limits = ((.limits // {}) + {\"mempool_txs\": $POOL, \"mempool_sender_txs\": 4,
        \"mempool_nonce_gap\": 8, \"mempool_ttl_s\": 10})" "$d/config.json" > "$d/c.json" && mv "$d/c.json" "$d/config.json"
done
"$EDGEFED" testnet up --dir "$NET" >/dev/null
wait_height v0 1 30
API=http://$(jq -r '.nodes[0].http' "$NET/testnet.json")
for i in $(seq 1 100); do curl -sf "$API/status" >/dev/null && break; sleep 0.2; done
chain=$(jq -r .chain_id "$NET/v0/config.json")
HONEST="$NET/o0/node.key"                       # a registered member with a balance
TO=$(jq -r '.nodes[1].pub' "$NET/testnet.json")
socks=()
for v in v0 v1 v2 v3; do
    s=$(jq -r ".admin_socket // \"admin.sock\"" "$NET/$v/config.json"); [[ $s = /* ]] || s="$NET/$v/$s"
    socks+=(--sock "$s")
done

# POST /txs[?wait=commit] of a hex transaction: prints "HTTP CODE"
post() { # HEX [QUERY]
    local http
    http=$(curl -s -o "$TMP/post.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
           -d "{\"tx\":\"$1\"}" "$API/txs${2:-}")
    echo "$http $(jq -r '.code // .status // "?"' "$TMP/post.json" 2>/dev/null || echo '?')"
}
# one honest transfer, submitted with wait=commit: prints "HTTP CODE MS" (200 OK
# once committed; a refusal's status and code, e.g. 503 EFULL)
honest() {
    local hex t0 t1 r
    hex=$("$EDGEFED" tx send --api "$API" --key "$HONEST" --contract bank --method transfer \
          --args "{\"to\":\"$TO\",\"amount\":1}" --dry-run | head -1)
    t0=$(date +%s%N)
    r=$(post "$hex" "?wait=commit")
    t1=$(date +%s%N)
    echo "$r $(( (t1 - t0) / 1000000 ))"
}

read -r http code ms < <(honest)
[ "$http $code" = "200 OK" ] || fail "honest transaction before the flood: $http $code"
log "before the flood: honest transfer committed in $ms ms"

python3 "$FLOOD" "${socks[@]}" --chain "$chain" --rate "$RATE" --duration 60 \
    --stop-file "$TMP/stop" > "$TMP/flood.json" &
flood_pid=$!
sleep 4     # without the rules the pools are full by now (4 s x 2000/s > 4 x 2000, gossip aside)
pools=$(for v in v0 v1 v2 v3; do node_field "$v" mempool_txs; done | tr '\n' ' ')
log "during the flood: mempool_txs per validator: $pools"
worst=0 all=""
for i in 1 2 3 4 5; do
    read -r http code ms < <(honest)
    all="$all $ms"
    [ "$http $code" = "200 OK" ] || { touch "$TMP/stop"; wait $flood_pid || true;
        fail "honest transaction $i during the flood: HTTP $http $code after $ms ms (mempools: $pools)"; }
    [ "$ms" -gt "$worst" ] && worst=$ms
    sleep 0.5
done
touch "$TMP/stop"
wait $flood_pid
log "during the flood: 5 honest transfers committed in$all ms (worst $worst ms)"
[ "$worst" -le "$LAT_MAX_MS" ] || fail "an honest transfer took $worst ms during the flood (max $LAT_MAX_MS)"

f=$(cat "$TMP/flood.json")
log "flood: $f"
sent=$(jq .sent <<<"$f"); adm=$(jq .admitted <<<"$f"); noacct=$(jq '.rejected.ENOACCOUNT // 0' <<<"$f")
[ "$sent" -ge $((RATE * 4)) ] || fail "the flood sent only $sent transactions"
[ "$adm" = 0 ] || fail "$adm flood transactions were admitted"
[ "$noacct" -ge $((sent * 9 / 10)) ] || fail "only $noacct of $sent flood transactions refused ENOACCOUNT"
for v in v0 v1 v2 v3; do
    p=$(node_field "$v" mempool_txs)
    [ "$p" -lt 100 ] || fail "$v holds $p transactions after the flood"
    c=$(rejected "$v" tx_ENOACCOUNT)
    [ "$c" -ge $((sent / 8)) ] || fail "$v counted $c ENOACCOUNT refusals"
done
metrics=$(curl -sf "$API/metrics") || fail "GET /metrics failed"
grep -q 'edgefed_rejected_total{reason="tx_ENOACCOUNT"}' <<<"$metrics" || fail "metrics: no tx_ENOACCOUNT"
log "every validator refused and counted its share (tx_ENOACCOUNT on v0: $(rejected v0 tx_ENOACCOUNT))"

# the honest account's own limits (config: gap 8, 4 pending, 10 s to live)
PUB=$(jq -r '.nodes[4].pub' "$NET/testnet.json")
N=$(curl -sf "$API/accounts/$PUB" | jq .nonce)
sign() { "$EDGEFED" tx sign --key "$HONEST" --chain-id "$chain" --nonce "$1" --contract bank --method transfer \
             --args "{\"to\":\"$TO\",\"amount\":1}" | head -1; }
declare -A signed
for k in 1 2 3 4 5 9; do signed[$k]=$(sign $((N + k))); done    # signed first: the posts are quick
r=$(post "${signed[9]}"); [ "$r" = "409 EGAP" ] || fail "nonce 9 ahead: $r"
for k in 1 2 3; do
    r=$(post "${signed[$k]}"); [ "$r" = "202 accepted" ] || fail "gapped nonce +$k: $r"
done
# the fourth waits for its commit: it learns of its expiry, not of a 504 at 30 s
t_wait=$(date +%s%N)
curl -s -o "$TMP/wait.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
     -d "{\"tx\":\"${signed[4]}\"}" "$API/txs?wait=commit&timeout_ms=30000" > "$TMP/wait.code" &
wait_pid=$!
for i in $(seq 1 40); do [ "$(node_field v0 mempool_txs)" = 4 ] && break; sleep 0.05; done
r=$(post "${signed[5]}"); [ "$r" = "429 EQUOTA" ] || fail "a fifth pending transaction: $r"
# (the status snapshot is published once a second; the 4 live for 10 s)
for i in $(seq 1 16); do [ "$(node_field v0 mempool_txs)" = 4 ] && break; sleep 0.25; done
[ "$(node_field v0 mempool_txs)" = 4 ] || fail "v0 holds $(node_field v0 mempool_txs), not the 4 gapped transactions"
log "nonce 9 ahead: 409 EGAP; 4 gapped admitted; a fifth: 429 EQUOTA"
for i in $(seq 1 100); do
    left=0; for v in v0 v1 v2 v3; do left=$((left + $(node_field "$v" mempool_txs))); done
    [ "$left" = 0 ] && break; sleep 0.25
done
[ "$left" = 0 ] || fail "$left gapped transactions still pooled well after their 10 s"
wait $wait_pid || true
wait_ms=$(( ($(date +%s%N) - t_wait) / 1000000 ))
[ "$(cat "$TMP/wait.code") $(jq -r '.code + " " + .status' "$TMP/wait.json")" = "409 EEXPIRED dropped" ] ||
    fail "wait=commit on an expired transaction: HTTP $(cat "$TMP/wait.code") $(cat "$TMP/wait.json")"
[ "$wait_ms" -lt 20000 ] || fail "wait=commit learned of the expiry only after $wait_ms ms"
log "wait=commit on the gapped transaction that expired: 409 EEXPIRED dropped after $wait_ms ms (not 504 at 30 s)"
[ "$(rejected v0 tx_EEXPIRED)" -ge 4 ] || fail "v0 counted $(rejected v0 tx_EEXPIRED) expiries"
[ "$(curl -sf "$API/accounts/$PUB" | jq .nonce)" = "$N" ] || fail "an expired transaction committed"
for c in tx_EGAP tx_EQUOTA tx_EEXPIRED; do
    metrics=$(curl -sf "$API/metrics") || fail "GET /metrics failed"
    grep -q "edgefed_rejected_total{reason=\"$c\"}" <<<"$metrics" || fail "metrics: no $c"
done
log "the gapped transactions expired on every validator (v0 counted tx_EEXPIRED $(rejected v0 tx_EEXPIRED))"
check_safety
down_and_check_logs
log "PASS"
