#!/usr/bin/env bash
# hierarchy_proof.sh: a domain ledger (4 validator processes) and a federation
# ledger (1 validator process): a transaction committed on the domain, its proof
# fetched from the domain node (GET /proofs/tx, with the certificate consensus
# made), the domain registered on the federation's anchor and the block
# checkpointed with the header and certificate the proof carries, then
# `edgefed proof verify` checks the proof against the federation's API: valid by
# the checkpoint; a later, unanchored block's proof valid by its certificate of
# the tracked committee; an altered proof and the wrong domain refused.
source "$(dirname "$0")/lib/testnet.bash"
FED="$TMP/fed"
trap 'rc=$?; "$EDGEFED" testnet down --dir "$FED" >/dev/null 2>&1 || true; (exit $rc); ef_cleanup' EXIT

"$EDGEFED" testnet init --dir "$NET" --validators 4 --observers 1 --chain dom-x --base-port "$BASE_PORT" \
    --accounts 2 >/dev/null
"$EDGEFED" testnet init --dir "$FED" --validators 1 --chain fed-x --base-port $((BASE_PORT + 10)) \
    --accounts 1 >/dev/null
"$EDGEFED" testnet up --dir "$NET"
"$EDGEFED" testnet up --dir "$FED"
DAPI=http://$(jq -r '.nodes[0].http' "$NET/testnet.json")
FAPI=http://$(jq -r '.nodes[0].http' "$FED/testnet.json")
wait_height v0 1 30
for i in $(seq 1 100); do curl -sf "$FAPI/status" >/dev/null && break; sleep 0.2; done
log "domain and federation up"

OBS="$NET/o0/node.key"
V1PUB=$(jq -r '.nodes[1].pub' "$NET/testnet.json")
send() { "$EDGEFED" tx send --api "$1" --key "$2" --contract "$3" --method "$4" --args "$5" --wait; }
out=$(send "$DAPI" "$OBS" bank transfer "{\"to\":\"$V1PUB\",\"amount\":5}") || fail "domain tx: $out"
H=$(jq -r .hash <<<"$out"); HT=$(jq .height <<<"$out")
log "domain tx $H at height $HT"
# the certificate is stored with the block once the node has committed it
for i in $(seq 1 50); do
    "$EDGEFED" proof get "$H" --api "$DAPI" --out "$TMP/proof.json" && jq -e .certified "$TMP/proof.json" >/dev/null && break
    sleep 0.2
done
jq -e '.certified and .code == 0 and .method == "transfer"' "$TMP/proof.json" >/dev/null || fail "proof: $(cat "$TMP/proof.json")"

# register the domain (committee of height 1, genesis hash) and checkpoint the block
curl -sf "$DAPI/state/registry/validators/1" >"$TMP/vset.json" || fail "domain validators"
curl -sf "$DAPI/blocks/0" >"$TMP/b0.json" || fail "domain block 0"
V0PUB=$(jq -r '.nodes[0].pub' "$FED/testnet.json")
python3 - "$TMP" "$V0PUB" <<'PY'
import json, struct, sys
t, admin = sys.argv[1], sys.argv[2]
vs = json.load(open(t + "/vset.json"))["validators"]
vs.sort(key=lambda v: bytes.fromhex(v["pub"]))
committee = struct.pack("<I", len(vs)) + b"".join(bytes.fromhex(v["pub"]) + struct.pack("<Q", v["power"]) for v in vs)
gen = json.load(open(t + "/b0.json"))["hash"]
json.dump({"name": "dom", "chain_id": "dom-x", "genesis_hash": gen, "committee": committee.hex(), "admin": admin},
          open(t + "/register.json", "w"))
def parts(path):
    b = bytes.fromhex(json.load(open(path))["proof"]); o = 2
    u32 = lambda o: struct.unpack_from("<I", b, o)[0]
    hl = u32(o); hdr = b[o + 4:o + 4 + hl]; o += 4 + hl
    o += 4 + u32(o)                      # tx
    o += 16; o += 4 + 32 * u32(o)        # tx path
    o += 8                               # code
    o += 4 + u32(o)                      # events
    o += 16; o += 4 + 32 * u32(o)        # result path
    cl = u32(o); cert = b[o + 4:o + 4 + cl]
    return hdr.hex(), cert.hex()
hdr, cert = parts(t + "/proof.json")
json.dump({"domain": "dom", "header": hdr, "cert": cert}, open(t + "/checkpoint.json", "w"))
PY
FKEY="$FED/v0/node.key"
out=$(send "$FAPI" "$FKEY" anchor register_domain "$(cat "$TMP/register.json")") || fail "register_domain: $out"
out=$(send "$FAPI" "$FKEY" anchor checkpoint "$(cat "$TMP/checkpoint.json")") || fail "checkpoint: $out"
out=$(send "$FAPI" "$FKEY" anchor checkpoint "$(cat "$TMP/checkpoint.json")") && fail "a duplicate checkpoint passed: $out"
[ "$(jq -r .code <<<"$out")" = ERECORDED ] || fail "duplicate: $out"
d=$(curl -sf "$FAPI/state/anchor/domain/dom") || fail "anchor domain"
[ "$(jq .height <<<"$d")" = "$HT" ] || fail "anchored height: $d"
log "domain registered and anchored at $HT"

# the proof against the federation
v=$("$EDGEFED" proof verify --federation "$FAPI" --domain dom "$TMP/proof.json") || fail "proof verify"
jq -e '.valid and .trusted_by == "checkpoint"' <<<"$v" >/dev/null || fail "verify: $v"
# a later block, not anchored: valid by the certificate of the tracked committee
out=$(send "$DAPI" "$OBS" bank transfer "{\"to\":\"$V1PUB\",\"amount\":6}") || fail "domain tx 2: $out"
H2=$(jq -r .hash <<<"$out")
for i in $(seq 1 50); do
    "$EDGEFED" proof get "$H2" --api "$DAPI" --out "$TMP/proof2.json" && jq -e .certified "$TMP/proof2.json" >/dev/null && break
    sleep 0.2
done
v=$("$EDGEFED" proof verify --federation "$FAPI" --domain dom - <"$TMP/proof2.json") || fail "proof 2 verify"
jq -e '.valid and (.trusted_by | startswith("certificate"))' <<<"$v" >/dev/null || fail "verify 2: $v"
# refused: another domain name, an altered byte (the transferred amount)
"$EDGEFED" proof verify --federation "$FAPI" --domain nosuch "$TMP/proof.json" 2>/dev/null && fail "unknown domain passed"
python3 - "$TMP" <<'PY'
import json, sys
t = sys.argv[1]
b = bytearray.fromhex(json.load(open(t + "/proof.json"))["proof"])
i = b.find(b'"amount":5')
assert i > 0
b[i + 9] = ord("9")
open(t + "/altered.hex", "w").write(b.hex())
PY
"$EDGEFED" proof verify --federation "$FAPI" --domain dom "$TMP/altered.hex" 2>"$TMP/err" && fail "an altered proof passed"
grep -q INVALID "$TMP/err" || fail "altered: $(cat "$TMP/err")"
log "proofs: anchored valid, certified valid, altered and unknown domain refused"

# browser_anchor.sh: the explorer of the federation shows the domain, and the
# checkpoint of the later block live
if [ "${EF_ANCHOR_BROWSER:-0}" = 1 ]; then
    python3 - "$TMP" <<'PY'
import json, struct, sys
t = sys.argv[1]
b = bytes.fromhex(json.load(open(t + "/proof2.json"))["proof"]); o = 2
u32 = lambda o: struct.unpack_from("<I", b, o)[0]
hl = u32(o); hdr = b[o + 4:o + 4 + hl]; o += 4 + hl
o += 4 + u32(o); o += 16; o += 4 + 32 * u32(o); o += 8; o += 4 + u32(o); o += 16; o += 4 + 32 * u32(o)
cl = u32(o); cert = b[o + 4:o + 4 + cl]
json.dump({"domain": "dom", "header": hdr.hex(), "cert": cert.hex()}, open(t + "/checkpoint2.json", "w"))
PY
    H2T=$(jq .height "$TMP/proof2.json")
    mkdir -p "${EF_TEST_OUT:-/tmp}/browser"
    EF_API_URL=$FAPI EF_DOMAIN=dom EF_HEIGHT=$HT EF_HEIGHT2=$H2T EF_TEST_OUT="${EF_TEST_OUT:-/tmp}/browser" \
    EF_CKPT_CMD="'$EDGEFED' tx send --api '$FAPI' --key '$FKEY' --contract anchor --method checkpoint --args '$(cat "$TMP/checkpoint2.json")' --wait" \
    NODE_PATH=$EF_BROWSER_MODULES timeout 180 node "$EF_SRC/tests/browser/anchor_test.js" || fail "browser"
    [ "$(curl -sf "$FAPI/state/anchor/domain/dom" | jq .height)" = "$H2T" ] || fail "the live checkpoint did not anchor"
    log "explorer: domain listed, checkpoints shown, the new checkpoint live"
fi
"$EDGEFED" testnet down --dir "$FED" >/dev/null
down_and_check_logs
log "PASS"
