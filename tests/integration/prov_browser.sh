#!/usr/bin/env bash
# prov_browser.sh: the explorer draws provenance lineages (seed 004): after
# `edgefed demo prov --keep`, Debian's chromium (headless, playwright-core) opens
# the explorer, asks for the lineage of the pipeline's result and sees one PROV
# shape per element and one arrow per relation, step links to blocks, re-rooting on
# a click; the screenshot goes to $EF_TEST_OUT/browser/prov-lineage.png.
set -euo pipefail
: "${EDGEFED:?}" "${EF_SRC:?}" "${EF_TEST_TMP:=/tmp}" "${EF_TEST_OUT:=/tmp}"
E=$EDGEFED
B=$EF_SRC/tests/browser
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "prov_browser.sh: FAIL: $CHROMIUM missing (scripts/setup installs chromium)" >&2; exit 1; }
[ -d "$B/node_modules/playwright-core" ] || { echo "prov_browser.sh: FAIL: run scripts/setup" >&2; exit 1; }
mkdir -p "$EF_TEST_TMP" "$EF_TEST_OUT/browser"
T=$(mktemp -d "$EF_TEST_TMP/prov_browser.XXXXXX")
cleanup() {
  "$E" testnet down --dir "$T/work/net" >/dev/null 2>&1 || true
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$T"; fi
}
trap cleanup EXIT
# this test's own ports (ports.bash)
source "$(dirname "$0")/lib/ports.bash"
ef_port_claim || exit 1
"$E" demo prov --dir "$T/work" --keep --base-port "$BASE_PORT" > "$T/demo.log" 2>&1 || { cat "$T/demo.log" >&2; echo "prov_browser.sh: FAIL: demo" >&2; exit 1; }
API=http://$(jq -r '.nodes[0].http' "$T/work/net/testnet.json")
EF_API_URL=$API EF_ROOT=data:result-1 EF_TEST_OUT="$EF_TEST_OUT/browser" CHROMIUM=$CHROMIUM \
  timeout 180 node "$B/prov_test.js"
ls "$EF_TEST_OUT/browser/prov-lineage.png" >/dev/null
echo "prov_browser.sh: all ok"
