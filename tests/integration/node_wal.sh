#!/usr/bin/env bash
# node_wal.sh: damage in the middle of a validator's write-ahead record of its own
# votes is not cut away silently: the node refuses to start (it could otherwise
# sign a vote conflicting with one it already sent), `edgefed wal check` says
# damaged, `edgefed wal recover` keeps a copy and cuts to the intact records, and
# the node then rejoins and the chain stays consistent.
source "$(dirname "$0")/lib/testnet.bash"

"$EDGEFED" testnet init --dir "$NET" --validators 4 --base-port "$BASE_PORT" --accounts 16 >/dev/null
"$EDGEFED" testnet up --dir "$NET" >/dev/null
wait_height v0 1 30
WAL="$NET/v1/data/wal"

"$EDGEFED" load --dir "$NET" --rate 100 --duration 30 --accounts 16 > "$TMP/load.out" 2>&1 &
records=0
for try in $(seq 1 40); do
    sleep "0.$(( (RANDOM % 5) + 1 ))"
    "$EDGEFED" testnet kill --dir "$NET" --node v1 --signal KILL
    records=$("$EDGEFED" wal check --home "$NET/v1" | sed -n 's/.* \([0-9]*\) intact records.*/\1/p')
    [ "${records:-0}" -ge 2 ] && break
    "$EDGEFED" testnet start --dir "$NET" --node v1 >/dev/null
done
[ "${records:-0}" -ge 2 ] || fail "never caught v1 with 2 WAL records"
log "v1 killed with $records WAL records; damaging the first"
cp "$WAL" "$TMP/wal.before"
python3 - "$WAL" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
b[12 + 3] ^= 0xff          # inside the first record's payload
open(p, 'wb').write(bytes(b))
PY
cp "$WAL" "$TMP/wal.damaged"
set +e
"$EDGEFED" wal check --home "$NET/v1" > "$TMP/check.out"; rc=$?
set -e
[ "$rc" = 1 ] || fail "wal check on a damaged WAL exited $rc: $(cat "$TMP/check.out")"
grep -q "damaged" "$TMP/check.out" || fail "wal check: $(cat "$TMP/check.out")"

: > "$NET/v1/node.log"
"$EDGEFED" testnet start --dir "$NET" --node v1 >/dev/null 2>&1 || true
for i in $(seq 1 40); do
    grep -q "damaged" "$NET/v1/node.log" && break
    sleep 0.25
done
grep -q "damaged and is not the last" "$NET/v1/node.log" || fail "v1 log does not say the WAL is damaged"
sleep 1
[ -z "$(node_field v1 height)" ] || fail "v1 runs on a damaged WAL"
cmp -s "$WAL" "$TMP/wal.damaged" || fail "the node changed the damaged WAL"
log "v1 refused to start: $(grep -m1 damaged "$NET/v1/node.log" | cut -c1-120)"

"$EDGEFED" wal recover --home "$NET/v1" > "$TMP/recover.out"
copy=$(ls "$WAL".damaged-* | head -1)
cmp -s "$copy" "$TMP/wal.damaged" || fail "the recovery copy differs from the damaged WAL"
[ "$(stat -c %s "$WAL")" -lt "$(stat -c %s "$TMP/wal.damaged")" ] || fail "WAL not cut"
"$EDGEFED" wal check --home "$NET/v1" >/dev/null || fail "WAL still damaged after recover"

h=$(height v0)
wait_height v0 $((h + 2)) 30     # the others have moved past the height v1 was at
"$EDGEFED" testnet start --dir "$NET" --node v1 >/dev/null
wait "$!" 2>/dev/null || true
h=$(height v0)
wait_height v1 "$h" 60
check_safety
log "v1 recovered and caught up to $h; no equivocation"
down_and_check_logs
log "PASS"
