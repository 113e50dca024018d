#!/usr/bin/env bash
# api_events_resume.sh: a real EventSource client (npm eventsource, run by node)
# follows GET /events of a real node under transaction load through a proxy that
# cuts the connection mid-stream several times; it resumes by itself with
# Last-Event-ID and ends up with exactly the messages of the committed blocks, no
# gap and no duplicate (tests/browser/events_resume_test.mjs).
set -euo pipefail
: "${EDGEFED:?}" "${EF_SRC:?}" "${EF_TEST_TMP:=/tmp}" "${EF_TEST_OUT:=/tmp}"
E=$EDGEFED
B=$EF_SRC/tests/browser
command -v node >/dev/null || { echo "api_events_resume.sh: FAIL: node missing (scripts/setup installs it)" >&2; exit 1; }
[ -d "$B/node_modules/eventsource" ] || { echo "api_events_resume.sh: FAIL: run scripts/setup (npm install in tests/browser)" >&2; exit 1; }
mkdir -p "$EF_TEST_TMP" "$EF_TEST_OUT"
T=$(mktemp -d "$EF_TEST_TMP/api_events_resume.XXXXXX")
cleanup() {
  "$E" testnet down --dir "$T/net" >/dev/null 2>&1 || true
  jobs -p | xargs -r kill 2>/dev/null || true
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$T"; fi
}
trap cleanup EXIT
fail() { echo "api_events_resume.sh: FAIL: $*" >&2; for f in "$T"/net/*/node.log; do echo "--- $f" >&2; tail -n 20 "$f" >&2 || true; done; exit 1; }

# this test's own ports: P2P from $port, HTTP from $port + 100, others from $port + 200
source "$(dirname "$0")/lib/ports.bash"
ef_port_claim || exit 1
port=$BASE_PORT
"$E" testnet init --dir "$T/net" --validators 4 --base-port "$port" --accounts 32 >/dev/null
"$E" testnet up --dir "$T/net" >/dev/null
API=http://$(jq -r '.nodes[0].http' "$T/net/testnet.json")
for i in $(seq 1 100); do curl -sf "$API/status" >/dev/null && break; sleep 0.2; done
# load: bank transfers (one event each) for the whole test, so blocks carry many events
"$E" load --dir "$T/net" --rate 300 --duration 90 --accounts 32 > "$T/load.txt" 2>&1 &
for i in $(seq 1 100); do
  [ "$(curl -sf "$API/status" | jq .height)" -ge 8 ] && break; sleep 0.2
done
h=$(curl -sf "$API/status" | jq .height)
# from block 1: old blocks replayed from the store, then live ones as they commit
EF_API_URL=$API EF_FROM=1 EF_UNTIL=$((h + 60)) EF_SEED=${EF_SEED:-$$} \
  timeout 200 node "$B/events_resume_test.mjs" || fail "the event stream lost or repeated messages"
echo "api_events_resume.sh: all ok"
