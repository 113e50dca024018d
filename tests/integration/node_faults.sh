#!/usr/bin/env bash
# node_faults.sh: one of four validators killed: the rest keep committing; two of
# four killed: commits stop and nothing diverges; restarted: they catch up and
# commits resume.
source "$(dirname "$0")/lib/testnet.bash"

"$EDGEFED" testnet init --dir "$NET" --validators 4 --base-port "$BASE_PORT" --accounts 16 >/dev/null
"$EDGEFED" testnet up --dir "$NET"
wait_height v0 1 30
"$EDGEFED" load --dir "$NET" --rate 100 --duration 2 --accounts 16 >/dev/null

log "kill v3 (1 of 4)"
"$EDGEFED" testnet kill --dir "$NET" --node v3
h0=$(height v0)
"$EDGEFED" load --dir "$NET" --rate 100 --duration 4 --accounts 16 --nodes v0,v1,v2 --acked "$TMP/acked1" | tee "$TMP/load1"
n1=$(wc -l < "$TMP/acked1")
[ "$n1" -ge 300 ] || fail "with 3 of 4 up only $n1 of ~400 transactions committed"
h1=$(height v0)
[ "$h1" -gt "$h0" ] || fail "no progress with 3 of 4 validators"
log "3 of 4: $n1 committed, height $h0 -> $h1"

log "kill v2 (2 of 4)"
"$EDGEFED" testnet kill --dir "$NET" --node v2
sleep 1
h2=$(height v0)
"$EDGEFED" load --dir "$NET" --rate 50 --duration 3 --accounts 16 --nodes v0,v1 --acked "$TMP/acked2" --drain 1 >/dev/null || true
sleep 1
h3=$(height v0); h3b=$(height v1)
n2=$(wc -l < "$TMP/acked2")
[ "$n2" -eq 0 ] || fail "$n2 transactions committed with only 2 of 4 validators"
[ "$h3" -le $((h2 + 1)) ] || fail "height moved $h2 -> $h3 with 2 of 4 validators"
log "2 of 4: commits stopped at height $h3 / $h3b"
check_safety

log "restart v2 and v3"
"$EDGEFED" testnet start --dir "$NET" --node v2
"$EDGEFED" testnet start --dir "$NET" --node v3
# the restarted catch up; the transfers sent while stalled now commit
wait_height v2 "$h3" 30
wait_height v3 "$h3" 30
wait_height v0 $((h3 + 1)) 30
t=0; while [ "$(node_field v0 mempool_txs)" != "0" ]; do sleep 0.5; t=$((t+1)); [ $t -lt 60 ] || fail "pending transfers never committed"; done
log "the transfers sent while stalled committed (height $(height v0))"
"$EDGEFED" load --dir "$NET" --rate 100 --duration 3 --accounts 16 --acked "$TMP/acked3" >/dev/null
n3=$(wc -l < "$TMP/acked3")
[ "$n3" -ge 250 ] || fail "after restart only $n3 committed"
h=$(height v0)
wait_height v2 "$h" 30
wait_height v3 "$h" 30
log "resumed: $n3 committed, all at height >= $h"
check_safety
cat "$TMP/acked1" "$TMP/acked3" > "$TMP/acked"
"$EDGEFED" testnet txcheck --dir "$NET" --acked "$TMP/acked"
down_and_check_logs
log "PASS"
