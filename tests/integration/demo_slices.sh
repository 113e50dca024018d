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
# And the orchestrator down while an end-to-end slice is requested, again
# while it is decommissioned, and while a domain records a part's step:
# started again it resumes from the ledgers' state (each stream followed from
# the height it read first, never block 1), takes each step it owes and
# claims each domain step exactly once; --replay (from block 1) redoes
# nothing either.
# (A sub-slice claimed without a valid proof is refused: slices_proof.sh.)
source "$(dirname "$0")/lib/testnet.bash"
[ "$(id -u)" = 0 ] || { echo "demo_slices.sh: needs root (network namespaces)"; exit 77; }
for t in ip tc nft; do command -v "$t" >/dev/null || { echo "demo_slices.sh: no $t"; exit 77; }; done
D="$TMP/demo"
CTL=; CTLB=; ORC=
trap 'rc=$?; for p in $CTL $CTLB $ORC; do kill "$p" 2>/dev/null; done; for n in a b fed; do "$EDGEFED" testnet down --dir "$D/$n" >/dev/null 2>&1 || true; done; (exit $rc); ef_cleanup' EXIT

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

# the orchestrator down while e2e-2 is requested and again while it is decommissioned
BAPI=$(api b); FAPI=$(api fed)
TIDB=$("$EDGEFED" query /state/nslice/templates --api "$BAPI" --key "$D/b/o0/node.key" | jq -r '.[0].id')
start_ctlb() {
    "$EDGEFED" nslice controller --key "$D/b/v0/node.key" --node "$BAPI" --topology "$D/topology-b.json" --process \
        --state "$TMP/ctlb.json" 2>>"$TMP/ctlb.log" &
    CTLB=$!
}
start_ctlb
for i in $(seq 1 100); do [ -s "$TMP/ctlb.json" ] && break; sleep 0.1; done
OA=$(jq -r '.nodes[] | select(.name == "o0") | .pub' "$D/a/testnet.json")
OB=$(jq -r '.nodes[] | select(.name == "o0") | .pub' "$D/b/testnet.json")
FKEY="$D/fed/o0/node.key"
fsend() { "$EDGEFED" tx send --api "$FAPI" --key "$FKEY" --contract e2e --method "$1" --args "$2" --wait; }
start_orch() {
    rm -f "$TMP/orch.json"
    "$EDGEFED" nslice orchestrator --federation "$FAPI" --key "$FKEY" \
        --domain "a=$AAPI,$D/a/o0/node.key,$TID" --domain "b=$BAPI,$D/b/o0/node.key,$TIDB" \
        --state "$TMP/orch.json" 2>>"$TMP/orch.log" &
    ORC=$!
}
stop_orch() { kill "$ORC"; wait "$ORC" 2>/dev/null || true; ORC=; }
# waits (15 s at most) for end-to-end slice $1 to be $2, then checks it holds
# exactly $3 claims ($4 says what is shown); its record in $s
await_e2e() {
    for i in $(seq 1 150); do [ "$(curl -sf "$FAPI/state/e2e/slice/$1" | jq -r .state)" = "$2" ] && break; sleep 0.1; done
    s=$(curl -sf "$FAPI/state/e2e/slice/$1")
    [ "$(jq -r .state <<<"$s")" = "$2" ] || fail "$1 not $2 ($4): $s"
    [ "$(jq '[.a.claims[], .b.claims[]] | length' <<<"$s")" = "$3" ] || fail "$1: not exactly $3 claims ($4): $s"
}
# e2e.request $1: 2000 kbit/s from cam1 in a to srv in b
request_e2e() {
    fsend request "{\"id\":\"$1\",\"a\":{\"domain\":\"a\",\"ap\":\"cam1\",\"dst\":\"gwa\",\"owner\":\"$OA\"},\"b\":{\"domain\":\"b\",\"ap\":\"gwb\",\"dst\":\"srv\",\"owner\":\"$OB\"},\"kbps\":2000,\"max_latency_us\":50000}" >/dev/null ||
        fail "e2e.request $1"
}
request_e2e e2e-2
sleep 1
[ "$(curl -sf "$FAPI/state/e2e/slice/e2e-2" | jq -r .state)" = requested ] || fail "e2e-2 moved without an orchestrator"
start_orch
await_e2e e2e-2 active 2 "requested while the orchestrator was down: the two activations after its start"
# taken up from the federation's record (e2e-2 requested; e2e-1 decommissioned is not)
grep -q "1 slices taken up" "$TMP/orch.log" || fail "the orchestrator did not take e2e-2 up: $(cat "$TMP/orch.log")"
stop_orch
fsend decommission '{"id":"e2e-2"}' >/dev/null || fail "e2e.decommission e2e-2"
start_orch
await_e2e e2e-2 decommissioned 4 "decommissioned while the orchestrator was down: 2 activations + 2 decommissions"
[ "$(grep -c "1 slices taken up" "$TMP/orch.log")" = 2 ] || fail "the orchestrator did not take e2e-2 up again: $(cat "$TMP/orch.log")"
stop_orch
[ "$(jq '.instances | length' "$TMP/ctlb.json")" = 0 ] || fail "domain b's control still holds a part"
log "orchestrator down at the request and at the decommissioning of e2e-2: each step taken after its restart, each claim once"

# a domain step while the orchestrator is down: e2e-3's part b activated by
# domain b's control (down until then) after the orchestrator stopped; started
# again the orchestrator finds the step in the instance's history and claims it
kill "$CTLB"; wait "$CTLB" 2>/dev/null || true; CTLB=
e3() { curl -sf "$FAPI/state/e2e/slice/e2e-3"; }
ib() { "$EDGEFED" query /state/nslice/instance/e2e-3-b --api "$BAPI" --key "$D/b/o0/node.key" 2>/dev/null; }
request_e2e e2e-3
start_orch
for i in $(seq 1 150); do [ "$(e3 | jq -r .a.step)" = active ] && [ "$(ib | jq -r .lifecycle)" = requested ] && break; sleep 0.1; done
[ "$(e3 | jq -r .a.step)/$(ib | jq -r .lifecycle)" = active/requested ] || fail "e2e-3: part a not proven or part b not requested: $(e3) $(ib)"
stop_orch
start_ctlb
for i in $(seq 1 100); do [ "$(ib | jq -r .lifecycle)" = active ] && break; sleep 0.1; done
[ "$(ib | jq -r .lifecycle)" = active ] || fail "e2e-3-b not activated by domain b's restarted control: $(ib)"
sleep 0.5
[ "$(e3 | jq -r .b.step)" = none ] || fail "e2e-3-b proven without an orchestrator: $(e3)"
start_orch
await_e2e e2e-3 active 2 "part b activated while the orchestrator was down: claimed after its start"
grep -q "1 slices taken up, 1 domain steps caught up, 1 claimed" "$TMP/orch.log" || fail "no catch-up logged: $(cat "$TMP/orch.log")"
steps=$(ib | jq -r '[.history[].step] | join(",")')
[ "$steps" = "nslice_requested,nslice_reserved,nslice_activated" ] || fail "e2e-3-b: steps redone: $steps"
stop_orch
# every start followed each ledger from the block after the height it read, not block 1
froms=$(grep -oE "federation from block [0-9]+, a from [0-9]+, b from [0-9]+" "$TMP/orch.log")
[ "$(wc -l <<<"$froms")" = 4 ] || fail "not 4 orchestrator starts logged: $froms"
for n in $(grep -oE "[0-9]+" <<<"$froms"); do [ "$n" -gt 1 ] || fail "an orchestrator start replayed from block $n: $froms"; done
# --replay: every ledger from block 1, nothing redone
nonce() { curl -sf "$FAPI/accounts/$(jq -r '.nodes[] | select(.name == "o0") | .pub' "$D/fed/testnet.json")" | jq .nonce; }
n0=$(nonce)
rm -f "$TMP/orch.json"
"$EDGEFED" nslice orchestrator --federation "$FAPI" --key "$FKEY" \
    --domain "a=$AAPI,$D/a/o0/node.key,$TID" --domain "b=$BAPI,$D/b/o0/node.key,$TIDB" \
    --state "$TMP/orch.json" --replay 2>>"$TMP/orch.log" &
ORC=$!
for i in $(seq 1 100); do [ -s "$TMP/orch.json" ] && break; sleep 0.1; done
sleep 2
stop_orch
grep -q "federation from block 1, a from 1, b from 1" "$TMP/orch.log" || fail "--replay did not follow from block 1: $(tail -n 3 "$TMP/orch.log")"
[ "$(nonce)" = "$n0" ] && [ "$(e3 | jq '[.a.claims[], .b.claims[]] | length')" = 2 ] || fail "--replay redid a step: $(e3)"
log "orchestrator down while domain b activated e2e-3's part: the step caught up from the instance's history, claimed once; each restart followed from the height it read; --replay redid nothing"
