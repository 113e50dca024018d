#!/usr/bin/env bash
# demo_slices.sh: `edgefed demo slices` end to end with real processes, network
# namespaces and htb (root): the end-to-end slice active on the federation on
# the proofs of both parts, traffic through both domains' networks at its
# target, a degradation measured below target, the re-adjustment proven, the
# rate restored, the orchestrator restarted without redoing a step,
# decommissioning proven, the peak RSS printed (under 32 MB in a release build;
# a sanitizer build uses several times more). Then, on the ledgers the
# demo left running (--keep), the domain slice control restarted: stopped
# while an instance runs and its owner asks for a re-adjustment, started
# again it takes the instance up from the ledger (nothing re-reserved) and
# switches the pending change make-before-break; each step recorded once.
# (A sub-slice claimed without a valid proof is refused: slices_proof.sh.)
source "$(dirname "$0")/lib/testnet.bash"
[ "$(id -u)" = 0 ] || { echo "demo_slices.sh: needs root (network namespaces)"; exit 77; }
for t in ip tc nft; do command -v "$t" >/dev/null || { echo "demo_slices.sh: no $t"; exit 77; }; done
D="$TMP/demo"
CTL=
trap 'rc=$?; [ -n "$CTL" ] && kill "$CTL" 2>/dev/null; for n in a b fed; do "$EDGEFED" testnet down --dir "$D/$n" >/dev/null 2>&1 || true; done; (exit $rc); ef_cleanup' EXIT

out="$TMP/demo.out"
"$EDGEFED" demo slices --dir "$D" --base-port "$BASE_PORT" --keep >"$out" 2>&1 || { cat "$out" >&2; fail "demo slices exited $?"; }
cat "$out"
for want in "ACTIVE there [0-9]* ms later, on the proofs of both parts: part a nslice_activated: tx [0-9a-f]*\.\. at domain a height [0-9]* (certified; anchored at [0-9]*); part b nslice_activated" \
            "one flow, classified in both domains" "target 5000 met" "degradation injected in domain a" \
            "measured below target from epoch" "part a re-adjusted make-before-break .* nslice_readjusted: tx [0-9a-f]*\.\. at domain a" \
            "rate restored in epoch" "orchestrator restarted: it took e2e-1 up" "no step redone" \
            "e2e-1 decommissioned .* part a nslice_decommissioned: tx .* part b nslice_decommissioned: tx" \
            "every node of each ledger holds the same blocks" "peak RSS: domain a nodes" "demo slices: OK"; do
    grep -q "$want" "$out" || fail "demo slices: no '$want'"
done
grep -qE '^\[ *[0-9]+\.[0-9]{3} s\] ' "$out" || fail "steps without times"
grep -q "NOT enforced" "$out" && fail "root with tc and nft, but the demo ran in process mode"
log "demo slices ok ($(grep -c '^\[' "$out") steps)"

# the domain slice control restarted, on domain a's ledger
api() { echo "http://$(jq -r '.nodes[0].http' "$D/$1/testnet.json")"; }
AAPI=$(api a)
ADM="$D/a/v0/node.key"; OWN="$D/a/o0/node.key"
q() { "$EDGEFED" query "$1" --api "$AAPI" --key "$OWN"; }
TID=$(q /state/nslice/templates | jq -r '.[0].id')
[ ${#TID} = 64 ] || fail "no template on domain a"
send() { "$EDGEFED" tx send --api "$AAPI" --key "$1" --sign-request --contract nslice --method "$2" --args "$3" --wait; }
start_ctl() {
    "$EDGEFED" nslice controller --key "$ADM" --node "$AAPI" --topology "$D/topology-a.json" --process \
        --state "$TMP/ctl.json" 2>>"$TMP/ctl.log" &
    CTL=$!
    for i in $(seq 1 100); do [ -s "$TMP/ctl.json" ] && return 0; sleep 0.1; done
    fail "the controller did not start"
}
inst() { q /state/nslice/instance/r-1; }
start_ctl
send "$OWN" request "{\"id\":\"r-1\",\"template\":\"$TID\",\"ref\":\"r-1\",\"ap\":\"cam2\",\"dst\":\"gwa\",\"kbps\":3000}" >/dev/null ||
    fail "request r-1"
for i in $(seq 1 100); do [ "$(inst | jq -r .lifecycle)" = active ] && break; sleep 0.1; done
[ "$(inst | jq -r .lifecycle)" = active ] || fail "r-1 not activated by the controller: $(inst)"
port1=$(jq '.instances[] | select(.id == "r-1") | .port' "$TMP/ctl.json")
kill "$CTL"; wait "$CTL" 2>/dev/null || true; CTL=
send "$OWN" readjust '{"id":"r-1","kbps":4000}' >/dev/null || fail "readjust r-1"
[ "$(inst | jq -r '"\(.version)/\(.pending.version)"')" = "1/2" ] || fail "no change pending while the control is down"
start_ctl
for i in $(seq 1 100); do [ "$(inst | jq -r .version)" = 2 ] && break; sleep 0.1; done
s=$(inst)
[ "$(jq -r '"\(.version)/\(.kbps)/\(.lifecycle)"' <<<"$s")" = "2/4000/readjusted" ] || fail "the pending change was not taken after the restart: $s"
steps=$(jq -r '[.history[].step] | join(",")' <<<"$s")
[ "$steps" = "nslice_requested,nslice_reserved,nslice_activated,nslice_change_requested,nslice_reserved,nslice_readjusted" ] ||
    fail "steps redone or lost across the restart: $steps"
[ "$(jq '.instances[] | select(.id == "r-1") | "\(.version)/\(.port)"' -r "$TMP/ctl.json")" = "2/$port1" ] ||
    fail "the restarted control does not hold version 2 on its port: $(cat "$TMP/ctl.json")"
grep -q "1 instances taken up" "$TMP/ctl.log" || fail "no take-up logged: $(cat "$TMP/ctl.log")"
log "controller restarted: r-1 taken up at version 1, its pending re-adjustment switched once ($steps)"
send "$OWN" decommission '{"id":"r-1"}' >/dev/null || fail "decommission r-1"
for i in $(seq 1 100); do [ "$(inst | jq -r .lifecycle)" = decommissioned ] && break; sleep 0.1; done
[ "$(inst | jq -r .lifecycle)" = decommissioned ] || fail "r-1 not released: $(inst)"
[ "$(jq '.instances | length' "$TMP/ctl.json")" = 0 ] || fail "the control still holds r-1"
log "r-1 decommissioned and released"
