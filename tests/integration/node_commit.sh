#!/usr/bin/env bash
# node_commit.sh: 4 validators commit transactions; every node holds identical
# block hashes at every height; an observer follows the chain by catch-up.
source "$(dirname "$0")/lib/testnet.bash"

"$EDGEFED" testnet init --dir "$NET" --validators 4 --observers 1 --base-port "$BASE_PORT" --accounts 16 >/dev/null
"$EDGEFED" testnet up --dir "$NET"
wait_height v0 1 30
log "network up"
"$EDGEFED" load --dir "$NET" --rate 200 --duration 4 --accounts 16 --acked "$TMP/acked" | tee "$TMP/load.out"
committed=$(wc -l < "$TMP/acked")
[ "$committed" -ge 700 ] || fail "only $committed of ~800 transactions committed"
log "$committed transactions acknowledged as committed"
h=$(height v0)
for n in v1 v2 v3 o0; do wait_height "$n" "$h" 20; done
check_safety
"$EDGEFED" testnet txcheck --dir "$NET" --acked "$TMP/acked"
# the observer never votes but holds the same chain
[ "$(node_field o0 validator)" = "False" ] || fail "o0 should be an observer"
"$EDGEFED" testnet status --dir "$NET"
down_and_check_logs
log "PASS"
