#!/usr/bin/env bash
# prov.sh: trusted orchestration provenance (seed 004) on a 4-validator testnet:
# the sensor -> collector -> analyser pipeline run as separate processes passing
# data by hash-addressed fetches; a tampered blob refused by its consumer with
# nothing recorded; BCOR refusals through the CLI; the lineage with the tx and
# block of every step, as DOT; every PROV-JSON export (whole, lineage, height
# range) read by Debian's python3-prov with the ledger's element and relation
# counts, and the same bytes from two nodes.
set -euo pipefail
: "${EDGEFED:?}" "${EF_TEST_TMP:=/tmp}" "${EF_TEST_OUT:=/tmp}"
E=$EDGEFED
PY=/usr/bin/python3
mkdir -p "$EF_TEST_TMP" "$EF_TEST_OUT"
T=$(mktemp -d "$EF_TEST_TMP/prov.XXXXXX")
PIDS=()
cleanup() {
  local rc=$?
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  "$E" testnet down --dir "$T/net" >/dev/null 2>&1 || true
  if [ $rc -ne 0 ]; then mkdir -p "$EF_TEST_OUT/prov"; cp -r "$T"/. "$EF_TEST_OUT/prov/" 2>/dev/null || true; fi
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$T"; fi
  exit $rc
}
trap cleanup EXIT
fail() { echo "prov.sh: FAIL: $*" >&2; for f in "$T"/net/*/node.log; do echo "--- $f" >&2; tail -n 15 "$f" >&2 || true; done; exit 1; }
pass() { echo "prov.sh: ok: $*"; }

"$PY" -c 'import prov.model' 2>/dev/null || fail "python3-prov is not installed: run scripts/setup"

# every prov command refuses what it does not know (exit 2, the option named, usage)
for c in "prov join" "prov leave" "prov release" "prov use" "prov orchestrate" "prov export" "prov lineage x" \
         "prov serve" "prov pipeline sense" "prov pipeline step" "demo prov" "bench prov"; do
  # shellcheck disable=SC2086
  if err=$("$E" $c --no-such-option 2>&1 >/dev/null); then fail "'$c --no-such-option' accepted"; fi
  # shellcheck disable=SC2086
  rc=0; "$E" $c --no-such-option >/dev/null 2>&1 || rc=$?
  [ "$rc" = 2 ] || fail "'$c --no-such-option' exited $rc, want 2"
  grep -q "no-such-option" <<<"$err" && grep -q "usage:" <<<"$err" || fail "'$c': $err"
done
"$E" prov nosuch >/dev/null 2>&1 && fail "prov nosuch accepted"
out=$("$E" prov nosuch 2>&1 || true)
grep -q "unknown subcommand 'nosuch'" <<<"$out" || fail "prov nosuch: $out"
pass "prov, demo prov and bench prov refuse unknown options and subcommands with exit 2 and usage"

# this test's own ports: P2P from $port, HTTP from $port + 100, others from $port + 200
source "$(dirname "$0")/lib/ports.bash"
ef_port_claim || exit 1
port=$BASE_PORT
"$E" testnet init --dir "$T/net" --validators 4 --base-port "$port" >/dev/null
"$E" testnet up --dir "$T/net" >/dev/null
API=http://$(jq -r '.nodes[0].http' "$T/net/testnet.json")
API1=http://$(jq -r '.nodes[1].http' "$T/net/testnet.json")
for i in $(seq 1 100); do curl -sf "$API/status" >/dev/null && break; sleep 0.2; done
export EDGEFED_API=$API
pubof() { "$E" query /status --key "$1" --headers | awk -F': ' 'NR == 1 {print $2}'; }

# ---- accounts: an orchestrator, a gateway device, three containers, registered by
# dom-0's validator as members of its domain
declare -A PUB
for n in orch gw sensor coll anal; do
  "$E" keygen --out "$T/$n.key" >/dev/null
  PUB[$n]=$(pubof "$T/$n.key")
  out=$("$E" tx send --key "$T/net/v0/node.key" --contract registry --method register_member \
        --args "{\"account\":\"${PUB[$n]}\",\"domain\":\"dom-0\",\"name\":\"$n\"}" --wait) || fail "register $n: $out"
done
"$E" keygen --out "$T/outsider.key" >/dev/null
pass "5 members registered in dom-0"

# ---- BCOR through the CLI: identify, refusals with their own errors
"$E" prov join --key "$T/gw.key" --id gateway --kind device --owner "${PUB[orch]}" >/dev/null || fail "join gateway"
"$E" prov join --key "$T/gw.key" --id gateway --kind device --owner "${PUB[orch]}" >/dev/null || fail "identical join repeat"
n0=$(curl -sf "$API/state/prov/stats" | jq .records)
[ "$n0" = 1 ] || fail "one record expected after a join and its repeat, have $n0"
expect_refused() { # CODE CMD...
  local want=$1; shift
  local out; if out=$("$@" 2>&1); then fail "accepted: $* ($out)"; fi
  grep -q "$want" <<<"$out" || fail "want $want from $*: $out"
}
expect_refused ENOTJOINED "$E" prov leave --key "$T/sensor.key" --id sensor
expect_refused EEXIST "$E" prov join --key "$T/gw.key" --id gateway --kind device --owner "${PUB[gw]}"
expect_refused ENOIDENT "$E" prov join --key "$T/sensor.key" --id sensor --kind container --owner "${PUB[orch]}" --host nohost
expect_refused ENOACCOUNT "$E" prov join --key "$T/outsider.key" --id intruder --kind device --owner "${PUB[orch]}"
expect_refused ENOTRELEASED "$E" prov use --key "$T/gw.key" --entity reading-1 --activity collect-1 --by gateway
"$E" prov join --key "$T/coll.key" --id tmpdev --kind device --owner "${PUB[orch]}" >/dev/null || fail "join tmpdev"
"$E" prov leave --key "$T/coll.key" --id tmpdev >/dev/null || fail "leave tmpdev"
expect_refused ENOTJOINED "$E" prov leave --key "$T/coll.key" --id tmpdev
"$E" prov join --key "$T/coll.key" --id tmpdev --kind device --owner "${PUB[orch]}" >/dev/null || fail "rejoin tmpdev"
[ "$(curl -sf "$API/state/prov/thing/tmpdev" | jq -r '"\(.state):\(.gen)"')" = joined:2 ] || fail "rejoin: generation 2 expected"
n1=$(curl -sf "$API/state/prov/stats" | jq .records)
[ "$n1" = 4 ] || fail "4 records expected (join gateway, tmpdev join, leave, rejoin), have $n1"
pass "BCOR: identical join idempotent; leave unjoined/twice ENOTJOINED, EEXIST, ENOIDENT, ENOACCOUNT (an outsider: not even an account), ENOTRELEASED refused, nothing recorded; rejoin gen 2"

# ---- the pipeline: separate processes, data passed by hash
mkdir -p "$T/bs" "$T/bc" "$T/ba"
BS=127.0.0.1:$((port + 50)); BC=127.0.0.1:$((port + 51))
"$E" prov serve --dir "$T/bs" --listen "$BS" > "$T/serve-s.log" 2>&1 & PIDS+=($!)
"$E" prov serve --dir "$T/bc" --listen "$BC" > "$T/serve-c.log" 2>&1 & PIDS+=($!)
for i in $(seq 1 50); do curl -sf "http://$BS/health" >/dev/null && curl -sf "http://$BC/health" >/dev/null && break; sleep 0.1; done
ORCH=${PUB[orch]}
# consumers first: they wait for their inputs to be recorded
"$E" prov pipeline step --key "$T/anal.key" --id analyser --owner "$ORCH" --host gateway --dir "$T/ba" \
  --activity analyse-1 --inputs joint-1 --fetch "http://$BC" --output result-1 --op analyse > "$T/anal.log" 2>&1 & PA=$!
"$E" prov pipeline step --key "$T/coll.key" --id collector --owner "$ORCH" --host gateway --dir "$T/bc" \
  --activity collect-1 --inputs reading-1,reading-2,reading-3 --fetch "http://$BS" --output joint-1 --op collect \
  --receiver analyse-1 > "$T/coll.log" 2>&1 & PC=$!
"$E" prov pipeline sense --key "$T/sensor.key" --id sensor --owner "$ORCH" --host gateway --dir "$T/bs" --count 3 \
  --receiver collect-1 > "$T/sense.log" 2>&1 || { cat "$T/sense.log" >&2; fail "sensor"; }
wait $PC || { cat "$T/coll.log" >&2; fail "collector"; }
wait $PA || { cat "$T/anal.log" >&2; fail "analyser"; }
grep -q "fetched joint-1 by hash" "$T/anal.log" || fail "analyser did not fetch by hash"
res=$(curl -sf "$API/state/prov/data/result-1") || fail "result-1 not recorded"
rh=$(jq -r .hash <<<"$res")
body=$(cat "$T/ba/$rh")
[ "$(jq .readings <<<"$body")" = 3 ] || fail "analyser result: $body"
pass "pipeline: sensor -> collector -> analyser as 5 processes, 3 readings; result $(jq -c . <<<"$body")"

# ---- a tampered blob is refused by its consumer, nothing recorded
"$E" prov pipeline sense --key "$T/sensor.key" --id sensor --owner "$ORCH" --host gateway --dir "$T/bs" --count 1 \
  --prefix evil --receiver collect-2 > "$T/sense2.log" 2>&1 || fail "sensor (2)"
eh=$(curl -sf "$API/state/prov/data/evil-1" | jq -r .hash)
printf '{"sensor":"sensor","seq":1,"temp_mC":99999}' > "$T/bs/$eh"
before=$(curl -sf "$API/state/prov/stats" | jq .records)
if "$E" prov pipeline step --key "$T/coll.key" --id collector --owner "$ORCH" --host gateway --dir "$T/bc" \
     --activity collect-2 --inputs evil-1 --fetch "http://$BS" --output joint-2 --op collect > "$T/coll2.log" 2>&1; then
  fail "the collector used a tampered blob"
fi
grep -q "REFUSED.*do not match the recorded hash" "$T/coll2.log" || { cat "$T/coll2.log" >&2; fail "no refusal message"; }
after=$(curl -sf "$API/state/prov/stats" | jq .records)
[ "$before" = "$after" ] || fail "records changed on a refused blob: $before -> $after"
curl -sf "$API/state/prov/data/joint-2" >/dev/null && fail "joint-2 recorded"
expect_refused "do not match" "$E" prov use --key "$T/coll.key" --entity evil-1 --activity collect-2 --by collector --fetch "http://$BS"
pass "tampered blob refused by the collector (step and prov use --fetch), no record added"

# ---- lineage: the tx and block of each step, back to the identities; DOT
lin=$("$E" prov lineage data:result-1 --format json) || fail "lineage"
for want in data:joint-1 data:reading-1 data:reading-3 act:collect-1 act:sense-reading-2 thing:sensor thing:gateway \
            act:gateway/join/1 "acct:$ORCH"; do
  jq -e --arg w "$want" '[.nodes[].id] | index($w)' <<<"$lin" >/dev/null || fail "lineage lacks $want"
done
steps=$(jq '.steps | length' <<<"$lin")
for s in $(jq -r '.steps[] | "\(.tx):\(.height)"' <<<"$lin" | sort -u | head -40); do
  tx=${s%%:*}; h=${s##*:}
  [ "$(curl -sf "$API/txs/$tx" | jq .height)" = "$h" ] || fail "step tx $tx not at block $h"
done
"$E" prov lineage data:result-1 | grep -q "wasDerivedFrom.*data:joint-1" || fail "lineage text"
"$E" prov lineage data:result-1 --format dot --out "$T/lin.dot" || fail "dot"
grep -q '"data:result-1" \[shape=ellipse' "$T/lin.dot" || fail "dot shapes"
if command -v dot >/dev/null; then dot -Tsvg "$T/lin.dot" -o "$T/lin.svg" || fail "graphviz rejects the DOT"; fi
"$E" prov lineage data:result-1 --format svg --out "$T/lin2.svg" || fail "svg"
"$PY" -c "import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])" "$T/lin2.svg" || fail "svg is not XML"
expect_refused "HTTP 404" "$E" prov lineage data:nothing
pass "lineage of result-1: $(jq '.nodes | length' <<<"$lin") nodes, $steps steps, each tx at its block; DOT and SVG"

# ---- exports read by python3-prov, counts equal to the ledger's
H=$(curl -sf "$API/status" | jq .height)
"$E" prov export --out "$T/all.json" || fail "export"
curl -sf "$API/state/prov/stats" > "$T/stats.json"
"$E" prov export --lineage data:result-1 --out "$T/lin.json" || fail "export lineage"
"$E" query /state/prov/lineage/data:result-1 > "$T/lin-q.json"
R1=$(jq '[.steps[] | select(.kind == "used") | .height] | min' <<<"$lin"); R2=$(jq '[.steps[] | select(.kind == "used") | .height] | max' <<<"$lin")
"$E" prov export --from "$R1" --to "$R2" --out "$T/range.json" || fail "export range"
curl -sf "$API/state/prov/records/$R1/$R2" > "$T/range-records.json"
"$PY" - "$T" <<'EOF' || fail "python3-prov check"
import json, sys
from prov.model import ProvDocument, ProvElement, ProvRelation
t = sys.argv[1]
def counts(path):
    doc = ProvDocument.deserialize(content=open(path).read(), format='json')
    recs = doc.get_records()
    return (len([r for r in recs if isinstance(r, ProvElement)]),
            len([r for r in recs if isinstance(r, ProvRelation)]))
st = json.load(open(t + '/stats.json'))
got = counts(t + '/all.json')
assert got == (st['elements'], st['relations']), ('whole', got, st)
assert st['elements'] == st['entities'] + st['activities'] + st['agents']
lq = json.load(open(t + '/lin-q.json'))
got = counts(t + '/lin.json')
assert got == (len(lq['nodes']), len(lq['steps'])), ('lineage', got, len(lq['nodes']), len(lq['steps']))
recs = json.load(open(t + '/range-records.json'))
els = {e['id'] for r in recs for e in r['elements']}
rels = sum(len(r['relations']) for r in recs)
got = counts(t + '/range.json')
assert got == (len(els), rels) and rels > 0, ('range', got, len(els), rels)
print('prov.sh: python3-prov: whole %d/%d, lineage %d/%d, range %d/%d (elements/relations)' %
      (st['elements'], st['relations'], len(lq['nodes']), len(lq['steps']), len(els), rels))
EOF
pass "python3-prov reads the whole, lineage and range exports; counts match stats, the lineage, the range's records"

# ---- deterministic: the same ledger, the same bytes, from another node
for i in $(seq 1 100); do [ "$(curl -sf "$API1/status" | jq .height)" -ge "$H" ] && break; sleep 0.1; done
"$E" prov export --from 0 --to "$H" --out "$T/r0.json" --api "$API" || fail "export v0"
"$E" prov export --from 0 --to "$H" --out "$T/r1.json" --api "$API1" || fail "export v1"
cmp -s "$T/r0.json" "$T/r1.json" || fail "exports of blocks 0..$H differ between v0 and v1"
"$E" prov export --from 0 --to "$H" --out "$T/r0b.json" --api "$API"
cmp -s "$T/r0.json" "$T/r0b.json" || fail "two exports of the same blocks differ"
curl -sf "$API/state/prov/export" | cmp -s - "$T/all.json" || fail "CLI export differs from the API's bytes"
expect_refused "HTTP 400" "$E" prov export --from 5 --to 2
pass "exports of blocks 0..$H identical from v0 and v1 ($(wc -c < "$T/r0.json") bytes), CLI bytes = API bytes"

"$E" testnet down --dir "$T/net" >/dev/null
if grep -l "Sanitizer\|runtime error\|assertion failed" "$T"/net/*/node.log "$T"/*.log 2>/dev/null; then
  fail "a sanitizer report or an assertion"
fi
pass "done"
