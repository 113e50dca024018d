#!/usr/bin/env bash
# testnet_hierarchy.sh: `edgefed testnet init --hierarchy` lays out two private
# domain ledgers (committees elected from their devices) and a federation ledger
# whose validators v0, v1 relay the domains' checkpoints; `testnet up --dir D`
# starts the whole tree, the relayers register both domains and anchor their
# checkpoints (a rotation included), `testnet status` and `check` cover every
# ledger, `testnet down --dir D` stops every node. Real processes.
source "$(dirname "$0")/lib/testnet.bash"
D="$TMP/tree"
trap 'rc=$?; "$EDGEFED" testnet down --dir "$D" >/dev/null 2>&1 || true; (exit $rc); ef_cleanup' EXIT

"$EDGEFED" testnet init --dir "$D" --hierarchy --domains 2 --devices 5 --committee 4 --epoch-heights 12 \
    --base-port "$BASE_PORT" --relayer-period-ms 500 >"$TMP/init.out" || fail "init: $(cat "$TMP/init.out")"
jq -e '(.domains | map(.name)) == ["a", "b"] and .federation.validators == 4 and .committee == 4' \
    "$D/hierarchy.json" >/dev/null || fail "hierarchy.json: $(cat "$D/hierarchy.json")"
for x in a b; do
    [ "$(jq -r .chain_id "$D/$x/testnet.json")" = "domain-$x" ] || fail "chain of $x"
    [ "$(jq '.nodes | length' "$D/$x/testnet.json")" = 5 ] || fail "devices of $x"
    jq -e '.api.private' "$D/$x/v0/config.json" >/dev/null || fail "domain $x is not private"
done
jq -e '.agents.relayer.domain == "a" and .agents.relayer.register' "$D/fed/v0/config.json" >/dev/null ||
    fail "no relayer of a on fed/v0"
jq -e '.agents.relayer.domain == "b"' "$D/fed/v1/config.json" >/dev/null || fail "no relayer of b on fed/v1"
# a hierarchy takes the tree commands only
krc=0
"$EDGEFED" testnet kill --dir "$D" --node v0 2>/dev/null || krc=$?
[ $krc = 2 ] || fail "kill on a hierarchy was not refused ($krc)"
log "laid out: $(head -n 4 "$TMP/init.out" | tail -n 1)"

"$EDGEFED" testnet up --dir "$D" >/dev/null || fail "up"
FAPI=http://$(jq -r '.nodes[0].http' "$D/fed/testnet.json")
for x in a b; do
    ok=0
    for i in $(seq 1 300); do
        s=$(curl -sf "$FAPI/state/anchor/domain/$x") && [ "$(jq .committee_since <<<"$s")" -gt 1 ] && { ok=1; break; }
        sleep 0.2
    done
    [ $ok = 1 ] || fail "domain $x: no rotation anchored: $(curl -s "$FAPI/state/anchor/domain/$x")"
    log "domain $x anchored at height $(jq .height <<<"$s"), its rotated committee tracked from $(jq .committee_since <<<"$s")"
done
"$EDGEFED" testnet status --dir "$D" >"$TMP/status" || fail "status"
for x in a b; do
    grep -q "^anchor: domain $x anchored at height [1-9]" "$TMP/status" || fail "status: $(cat "$TMP/status")"
    grep -q "^committee: domain $x in epoch [1-9][0-9]* since height [0-9]* (.* phase), 4 members" "$TMP/status" ||
        fail "status: $(cat "$TMP/status")"
done
[ "$(grep -c '^== ' "$TMP/status")" = 3 ] || fail "status lists $(grep -c '^== ' "$TMP/status") ledgers"
"$EDGEFED" testnet check --dir "$D" >"$TMP/check" || fail "check: $(cat "$TMP/check")"
[ "$(grep -c '^agree:' "$TMP/check")" = 3 ] || fail "check: $(cat "$TMP/check")"
max=0
for f in "$D"/*/*/node.pid; do
    r=$(awk '/^VmRSS:/ {print $2}' "/proc/$(cat "$f")/status" 2>/dev/null || echo 0)
    [ "${r:-0}" -gt "$max" ] && max=$r
done
log "status and check cover the 3 ledgers; largest node RSS $max kB"

pids=$(cat "$D"/*/*/node.pid)
"$EDGEFED" testnet down --dir "$D" >/dev/null || fail "down"
# (a zombie waiting for its reaper is gone too)
for p in $pids; do
    st=$(awk '/^State:/ {print $2}' "/proc/$p/status" 2>/dev/null || true)
    [ -z "$st" ] || [ "$st" = Z ] || fail "node $p still running after down ($st)"
done
log "down: all $(wc -w <<<"$pids") nodes stopped"
log "PASS"
