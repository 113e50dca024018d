#!/usr/bin/env bash
# slices_proof.sh: the nslice and e2e contracts with real node processes: two
# domain ledgers (1 validator, the domain administrator, and 1 observer, the
# slice's owner, each) and a federation ledger (1 validator). Each domain
# publishes a template (edgefed nslice template) and instantiates its part of
# end-to-end slice e2e-1 (request, reserve, activate); the federation takes the
# slice as active only once both parts are claimed with their proofs (GET
# /proofs/tx with the consensus certificate, checked by the anchor against the
# registered committees); a proof of the other domain and a proof of the wrong
# event are refused, and the slice's record is unchanged by them. Then part a
# is re-adjusted make-before-break and proven, and both parts are decommissioned
# and proven.
source "$(dirname "$0")/lib/testnet.bash"
FED="$TMP/fed"; NB="$TMP/netb"
trap 'rc=$?; "$EDGEFED" testnet down --dir "$FED" >/dev/null 2>&1 || true; "$EDGEFED" testnet down --dir "$NB" >/dev/null 2>&1 || true; (exit $rc); ef_cleanup' EXIT

"$EDGEFED" testnet init --dir "$NET" --validators 1 --observers 1 --chain dom-sa --base-port "$BASE_PORT" \
    --accounts 2 >/dev/null
"$EDGEFED" testnet init --dir "$NB" --validators 1 --observers 1 --chain dom-sb --base-port $((BASE_PORT + 5)) \
    --accounts 2 >/dev/null
"$EDGEFED" testnet init --dir "$FED" --validators 1 --chain fed-s --base-port $((BASE_PORT + 10)) \
    --accounts 1 >/dev/null
# the domain administrator of each domain ledger: its validator
for d in "$NET" "$NB"; do
    admin=$(jq -r '.nodes[] | select(.name == "v0") | .pub' "$d/testnet.json")
    jq --arg a "$admin" '.params = {"nslice": {"admin": $a}}' "$d/genesis.json" >"$d/genesis.tmp"
    mv "$d/genesis.tmp" "$d/genesis.json"
done
for d in "$NET" "$NB" "$FED"; do "$EDGEFED" testnet up --dir "$d"; done
api() { echo "http://$(jq -r '.nodes[] | select(.name == "v0") | .http' "$1/testnet.json")"; }
AAPI=$(api "$NET"); BAPI=$(api "$NB"); FAPI=$(api "$FED")
for u in "$AAPI" "$BAPI" "$FAPI"; do
    for i in $(seq 1 150); do curl -sf "$u/status" >/dev/null && break; sleep 0.2; done
done
log "two domains and the federation up"
send() { "$EDGEFED" tx send --api "$1" --key "$2" --contract "$3" --method "$4" --args "$5" --wait; }
FKEY="$FED/v0/node.key"
FPUB=$(jq -r '.nodes[] | select(.name == "v0") | .pub' "$FED/testnet.json")

# proof of tx $2 on domain API $1 with its certificate, into file $3
proof() {
    for i in $(seq 1 50); do
        "$EDGEFED" proof get "$2" --api "$1" --out "$3" && jq -e .certified "$3" >/dev/null && return 0
        sleep 0.2
    done
    fail "no certified proof of $2"
}

# one domain: register on the anchor, publish, instantiate part $3 of e2e-1
T=$("$EDGEFED" nslice template --name cam-uplink --kbps-min 1000 --kbps-max 20000 --max-latency-us 30000) ||
    fail "nslice template"
TID=$(jq -r .id <<<"$T")
domain() {
    local dir=$1 name=$2 ap=$3 dst=$4 u
    u=$(api "$dir")
    curl -sf "$u/state/registry/validators/1" >"$TMP/vset-$name.json" || fail "$name validators"
    curl -sf "$u/blocks/0" >"$TMP/b0-$name.json" || fail "$name block 0"
    python3 - "$TMP" "$name" "$(jq -r .chain_id "$dir/genesis.json")" "$FPUB" <<'PY'
import json, struct, sys
t, name, chain, admin = sys.argv[1:5]
vs = json.load(open(f"{t}/vset-{name}.json"))["validators"]
vs.sort(key=lambda v: bytes.fromhex(v["pub"]))
committee = struct.pack("<I", len(vs)) + b"".join(bytes.fromhex(v["pub"]) + struct.pack("<Q", v["power"]) for v in vs)
gen = json.load(open(f"{t}/b0-{name}.json"))["hash"]
json.dump({"name": name, "chain_id": chain, "genesis_hash": gen, "committee": committee.hex(), "admin": admin},
          open(f"{t}/register-{name}.json", "w"))
PY
    out=$(send "$FAPI" "$FKEY" anchor register_domain "$(cat "$TMP/register-$name.json")") || fail "register $name: $out"
    local adm="$dir/v0/node.key" own="$dir/o0/node.key"
    out=$(send "$u" "$adm" nslice publish "$T") || fail "$name publish: $out"
    out=$(send "$u" "$own" nslice request "{\"id\":\"p-$name\",\"template\":\"$TID\",\"ref\":\"e2e-1\",\"ap\":\"$ap\",\"dst\":\"$dst\",\"kbps\":4000}") ||
        fail "$name request: $out"
    echo "$(jq -r .hash <<<"$out")" >"$TMP/req-$name"
    out=$(send "$u" "$adm" nslice reserve "{\"id\":\"p-$name\",\"version\":1,\"kbps\":4000,\"path\":[\"l1\"]}") ||
        fail "$name reserve: $out"
    out=$(send "$u" "$adm" nslice activate "{\"id\":\"p-$name\",\"version\":1}") || fail "$name activate: $out"
    echo "$(jq -r .hash <<<"$out")" >"$TMP/act-$name"
    [ "$(curl -sf "$u/state/nslice/instance/p-$name" | jq -r '.lifecycle + "/" + .admin + "/" + .oper')" = \
      "active/unlocked/enabled" ] || fail "$name instance not active"
    proof "$u" "$(cat "$TMP/act-$name")" "$TMP/act-$name.json"
    proof "$u" "$(cat "$TMP/req-$name")" "$TMP/req-$name.json"
}
domain "$NET" doma cam1 gw
domain "$NB" domb gw srv
log "both parts active on their domain ledgers, domains registered"

OA=$(jq -r '.nodes[] | select(.name == "o0") | .pub' "$NET/testnet.json")
OB=$(jq -r '.nodes[] | select(.name == "o0") | .pub' "$NB/testnet.json")
out=$(send "$FAPI" "$FKEY" e2e request "{\"id\":\"e2e-1\",\"a\":{\"domain\":\"doma\",\"ap\":\"cam1\",\"dst\":\"gw\",\"owner\":\"$OA\"},\"b\":{\"domain\":\"domb\",\"ap\":\"gw\",\"dst\":\"srv\",\"owner\":\"$OB\"},\"kbps\":4000,\"max_latency_us\":50000}") ||
    fail "e2e request: $out"
claim() { send "$FAPI" "$FKEY" e2e claim "{\"id\":\"e2e-1\",\"part\":\"$1\",\"proof\":\"$(jq -r .proof "$2")\"}"; }
before=$(curl -sf "$FAPI/state/e2e/slice/e2e-1")
out=$(claim a "$TMP/act-domb.json") && fail "a proof of the other domain passed: $out"
[ "$(jq -r .code <<<"$out")" = ECHAIN ] || fail "other domain: $out"
out=$(claim a "$TMP/req-doma.json") && fail "a proof of the request passed: $out"
[ "$(jq -r .code <<<"$out")" = EEVENT ] || fail "wrong event: $out"
[ "$(curl -sf "$FAPI/state/e2e/slice/e2e-1")" = "$before" ] || fail "a refused claim changed the slice"
out=$(claim a "$TMP/act-doma.json") || fail "claim a: $out"
[ "$(curl -sf "$FAPI/state/e2e/slice/e2e-1" | jq -r .state)" = requested ] || fail "active on one part"
out=$(claim b "$TMP/act-domb.json") || fail "claim b: $out"
s=$(curl -sf "$FAPI/state/e2e/slice/e2e-1")
[ "$(jq -r .state <<<"$s")" = active ] || fail "not active on both proofs: $s"
log "e2e-1 active on the federation: part a proven at domain height $(jq '.a.claims[0].height' <<<"$s"), part b at $(jq '.b.claims[0].height' <<<"$s")"

# part a re-adjusted make-before-break on its domain (v2 reserved while v1 runs,
# then switched), proven on the federation; then both parts decommissioned, proven
ADM="$NET/v0/node.key"; OWN="$NET/o0/node.key"
out=$(send "$AAPI" "$OWN" nslice readjust '{"id":"p-doma","kbps":6000}') || fail "readjust: $out"
out=$(send "$AAPI" "$ADM" nslice reserve '{"id":"p-doma","version":2,"kbps":6000,"path":["l1"]}') || fail "reserve v2: $out"
[ "$(curl -sf "$AAPI/state/nslice/instance/p-doma" | jq -r '"\(.version)/\(.kbps)"')" = "1/4000" ] ||
    fail "version 1 not running while version 2 is reserved"
out=$(send "$AAPI" "$ADM" nslice activate '{"id":"p-doma","version":2}') || fail "switch: $out"
proof "$AAPI" "$(jq -r .hash <<<"$out")" "$TMP/adj.json"
out=$(claim a "$TMP/adj.json") || fail "claim re-adjustment: $out"
s=$(curl -sf "$FAPI/state/e2e/slice/e2e-1")
[ "$(jq -r '"\(.readjustments)/\(.a.kbps)/\(.a.version)"' <<<"$s")" = "1/6000/2" ] || fail "re-adjustment not proven: $s"
log "part a re-adjusted to 6000 kbit/s, proven"

# browser_slices.sh: the explorers of domain a (templates, instances and their
# states) and of the federation (the slice's parts and each part's proofs), with
# part a's activation height anchored by a checkpoint and the re-adjustment's
# header trusted by the committee's certificate
if [ "${EF_SLICES_BROWSER:-0}" = 1 ]; then
    HA=$(jq '.a.claims[0].height' <<<"$s")
    ck=$(curl -sf "$AAPI/blocks/$HA/checkpoint") || fail "checkpoint of $HA"
    out=$(send "$FAPI" "$FKEY" anchor checkpoint "$(jq -c '{domain: "doma", header, cert}' <<<"$ck")") ||
        fail "anchor checkpoint: $out"
    mkdir -p "${EF_TEST_OUT:-/tmp}/browser"
    EF_DOMAIN_URL=$AAPI EF_FED_URL=$FAPI EF_TEMPLATE=$TID EF_SLICE=e2e-1 EF_TEST_OUT="${EF_TEST_OUT:-/tmp}/browser" \
    EF_SLICE_JSON="$(curl -sf "$FAPI/state/e2e/slice/e2e-1")" EF_ANCHORED=$HA \
    NODE_PATH=$EF_BROWSER_MODULES timeout 180 node "$EF_SRC/tests/browser/slices_test.js" || fail "browser"
    log "explorer: templates, instances with their states, the slice's parts with each proof"
fi
out=$(send "$FAPI" "$FKEY" e2e decommission '{"id":"e2e-1"}') || fail "decommission: $out"
for p in a b; do
    d=$NET; [ $p = b ] && d=$NB
    u=$(api "$d")
    out=$(send "$u" "$d/o0/node.key" nslice decommission "{\"id\":\"p-dom$p\"}") || fail "decommission $p: $out"
    out=$(send "$u" "$d/v0/node.key" nslice release "{\"id\":\"p-dom$p\"}") || fail "release $p: $out"
    proof "$u" "$(jq -r .hash <<<"$out")" "$TMP/dec-$p.json"
    out=$(claim $p "$TMP/dec-$p.json") || fail "claim decommissioned $p: $out"
done
[ "$(curl -sf "$FAPI/state/e2e/slice/e2e-1" | jq -r .state)" = decommissioned ] || fail "not decommissioned"
log "e2e-1 decommissioned, both parts proven"
