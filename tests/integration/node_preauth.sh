#!/usr/bin/env bash
# node_preauth.sh: a few hundred connections that present a validator's public key
# (it is in genesis.json) but never prove it, each announcing a maximum-size first
# frame and trickling bytes, cost a real node almost nothing: its VmRSS stays
# under 32 MB during the attack, each is closed at the frame header
# (net_preauth_oversize), the validators keep committing transactions, and slow
# handshakes are closed at the deadline (net_handshake_timeout).
source "$(dirname "$0")/lib/testnet.bash"
# A sanitized build starts near 32 MB (shadow memory, redzones) and keeps freed
# memory in a quarantine: there the quarantine is small and the bound is on the
# growth.
asan=0
if grep -qa __asan_init "$EDGEFED"; then
    asan=1
    export ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=4"
fi

"$EDGEFED" testnet init --dir "$NET" --validators 4 --base-port "$BASE_PORT" --accounts 8 >/dev/null
for v in v0 v1 v2 v3; do "$EDGEFED" testnet start --dir "$NET" --node "$v" >/dev/null; done
wait_height v0 1 30
addr=$(python3 -c "import json; print(json.load(open('$NET/v0/config.json'))['listen'])")
chain=$(python3 -c "import json; print(json.load(open('$NET/v0/config.json'))['chain_id'])")
# v3's public key, as anyone can read it from the genesis
pub=$(python3 -c "import json; print(json.load(open('$NET/genesis.json'))['validators'][3]['pub'])")
pid=$(cat "$NET/v0/node.pid")
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0; }

rss0=$(rss)
limit=32768
[ $asan = 0 ] || limit=$((rss0 + 16384))
log "v0 (pid $pid) VmRSS before: $rss0 kB; limit during the attack: $limit kB"

# 300 connections from 40 loopback addresses, each: hello with v3's key, a frame
# header announcing EF_FRAME_MAX, then 16 KiB every 20 ms for 8 s, reopened when
# closed; meanwhile transactions keep flowing between the honest validators.
"$EDGEFED" p2p-probe --addr "$addr" --chain "$chain" --kind preauth-flood --pub "$pub" \
    --conns 300 --sources 40 --seconds 8 --chunk 16384 --interval-ms 20 --rate 400 \
    >"$TMP/flood.out" &
flood=$!
"$EDGEFED" load --dir "$NET" --rate 50 --duration 6 --accounts 8 --acked "$TMP/acked" >/dev/null &
load=$!
max=$rss0
while kill -0 "$flood" 2>/dev/null; do
    r=$(rss); [ "$r" -gt "$max" ] && max=$r
    sleep 0.1
done
wait "$flood" || fail "p2p-probe preauth-flood failed"
wait "$load" || fail "load failed during the attack"
read -r _ opened _ closed _ sent <"$TMP/flood.out"
log "flood: opened $opened connections, $closed closed by v0, $sent bytes sent"
log "v0 VmRSS during the attack: max $max kB (before $rss0 kB)"
[ "$max" -lt "$limit" ] || fail "v0 VmRSS reached $max kB during the attack (limit $limit kB)"
[ "$opened" -ge 300 ] || fail "the probe opened only $opened connections"
[ "$closed" -ge $((opened - 300)) ] || fail "v0 closed only $closed of $opened connections"
c=$(rejected v0 net_preauth_oversize)
[ "$c" -ge 300 ] || fail "net_preauth_oversize is $c, expected >= 300"
log "v0 counted net_preauth_oversize = $c, net_preauth_limit = $(rejected v0 net_preauth_limit)"
[ "$(rejected v0 net_bad_mac)" = "0" ] || fail "v0 read an unauthenticated frame to its end (bad_mac)"
n=$(wc -l <"$TMP/acked")
[ "$n" -ge 150 ] || fail "only $n transactions committed during the attack"
log "committed during the attack: $n transactions"

# slow handshakes: an auth frame announced at its exact size, one byte a second
"$EDGEFED" p2p-probe --addr "$addr" --chain "$chain" --kind preauth-flood --pub "$pub" \
    --conns 8 --sources 1 --seconds 8 --frame 81 --chunk 1 --interval-ms 1000 >"$TMP/slow.out"
read -r _ opened _ closed _ <"$TMP/slow.out"
c=$(rejected v0 net_handshake_timeout)
log "slow handshakes: opened $opened, closed $closed; v0 counted net_handshake_timeout = $c"
[ "$c" -ge 8 ] || fail "net_handshake_timeout is $c, expected >= 8"
[ "$closed" -ge 8 ] || fail "v0 closed only $closed slow handshakes"

npeers() { "$EDGEFED" status --home "$NET/v0" | python3 -c "import json,sys; print(len(json.load(sys.stdin)['peers']))"; }
for i in $(seq 20); do [ "$(npeers)" = "3" ] && break; sleep 0.5; done
[ "$(npeers)" = "3" ] || fail "v0 has $(npeers) peers after the attack, expected 3"
check_safety
down_and_check_logs
log "PASS"
