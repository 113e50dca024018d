#!/usr/bin/env bash
# demo_prov.sh: `edgefed demo prov` (seed 004) exits 0 after the pipeline on a
# 4-validator testnet; it shows the tampered blob refused; the lineage it writes
# as PROV-JSON is read by Debian's python3-prov with the lineage's element and
# relation counts, the SVG is XML with one PROV shape per node, the DOT is what
# Graphviz reads; nothing is left running.
set -euo pipefail
: "${EDGEFED:?}" "${EF_TEST_TMP:=/tmp}"
PY=/usr/bin/python3
mkdir -p "$EF_TEST_TMP"
T=$(mktemp -d "$EF_TEST_TMP/demo_prov.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "demo_prov.sh: FAIL: $*" >&2; cat "$T/demo.log" >&2 2>/dev/null || true; exit 1; }
"$PY" -c 'import prov.model' 2>/dev/null || fail "python3-prov is not installed: run scripts/setup"
# this test's own ports (ports.bash)
source "$(dirname "$0")/lib/ports.bash"
ef_port_claim || exit 1
"$EDGEFED" demo prov --dir "$T/work" --out "$T/out" --base-port "$BASE_PORT" > "$T/demo.log" 2>&1 || fail "demo prov exited $?"
grep -q "edgefed demo prov: OK" "$T/demo.log" || fail "no OK"
grep -q "REFUSED data tampered-1" "$T/demo.log" || fail "tampered blob not refused"
grep -q "lineage of data:result-1: [0-9]* nodes" "$T/demo.log" || fail "no lineage printed"
grep -Eq "^  \[ *[0-9]+\.[0-9]{3} s\] pipeline done" "$T/demo.log" || fail "steps without times"
for f in result-1.prov.json result-1.svg result-1.dot result-1.lineage.json; do
  [ -s "$T/out/$f" ] || fail "$f not written"
done
"$PY" - "$T/out" <<'PYEOF' || fail "python3-prov / SVG check"
import json, sys, xml.dom.minidom
from prov.model import ProvDocument, ProvElement, ProvRelation
out = sys.argv[1]
doc = ProvDocument.deserialize(content=open(out + '/result-1.prov.json').read(), format='json')
recs = doc.get_records()
els = len([r for r in recs if isinstance(r, ProvElement)])
rels = len([r for r in recs if isinstance(r, ProvRelation)])
lin = json.load(open(out + '/result-1.lineage.json'))
assert (els, rels) == (len(lin['nodes']), len(lin['steps'])), ((els, rels), len(lin['nodes']), len(lin['steps']))
svg = xml.dom.minidom.parse(out + '/result-1.svg')
shapes = sum(1 for tag in ('ellipse', 'rect', 'polygon') for e in svg.getElementsByTagName(tag)
             if e.getAttribute('class') in ('entity', 'activity', 'agent'))
assert shapes == len(lin['nodes']), (shapes, len(lin['nodes']))
print('demo_prov.sh: python3-prov reads result-1.prov.json: %d elements, %d relations = the lineage' % (els, rels))
PYEOF
if command -v dot >/dev/null; then dot -Tsvg "$T/out/result-1.dot" -o "$T/g.svg" || fail "graphviz rejects the DOT"; fi
[ -d "$T/work" ] || fail "working directory removed although --dir was given"
if pgrep -f -- "$T/work" >/dev/null; then fail "processes left: $(pgrep -af -- "$T/work")"; fi
echo "demo_prov.sh: OK"
