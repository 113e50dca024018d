#!/usr/bin/env bash
# node_crash.sh: a validator is killed with SIGKILL at random moments, again and
# again, while transactions flow; afterwards every transaction that was
# acknowledged as committed is on every node, all nodes hold the same blocks, and
# no node ever saw a validator sign two different things (equivocation evidence).
source "$(dirname "$0")/lib/testnet.bash"

"$EDGEFED" testnet init --dir "$NET" --validators 4 --base-port "$BASE_PORT" --accounts 32 >/dev/null
"$EDGEFED" testnet up --dir "$NET"
wait_height v0 1 30

KILLS=${EF_CRASH_KILLS:-6}
"$EDGEFED" load --dir "$NET" --rate 150 --duration $((KILLS * 2 + 2)) --accounts 32 --drain 5 \
    --acked "$TMP/acked" > "$TMP/load.out" 2>&1 &
load_pid=$!
for i in $(seq 1 "$KILLS"); do
    sleep "0.$(( (RANDOM % 9) + 1 ))"
    log "kill -9 v1 (#$i) at height $(height v0)"
    "$EDGEFED" testnet kill --dir "$NET" --node v1 --signal KILL
    sleep 0.3
    "$EDGEFED" testnet start --dir "$NET" --node v1 >/dev/null
done
wait "$load_pid" || fail "load generator failed: $(cat "$TMP/load.out")"
cat "$TMP/load.out"
n=$(wc -l < "$TMP/acked")
[ "$n" -ge 100 ] || fail "only $n transactions acknowledged"
h=$(height v0)
for v in v1 v2 v3; do wait_height "$v" "$h" 60; done
check_safety
"$EDGEFED" testnet txcheck --dir "$NET" --acked "$TMP/acked"
grep -q "up at height" "$NET/v1/node.log" || fail "v1 never restarted"
log "v1 restarted $(grep -c 'up at height' "$NET/v1/node.log") times; $n acknowledged transactions on every node"
down_and_check_logs
log "PASS"
