# testnet.bash: helpers shared by the node integration tests (sourced, not a test).
# Each test gets $TMP (removed on success, copied to $EF_TEST_OUT on failure) and a
# trap that takes down every node and namespace the test started.
set -euo pipefail
: "${EDGEFED:?EDGEFED must point to the edgefed binary}"
name=$(basename "$0" .sh)
TMP="${EF_TEST_TMP:-/tmp}/$name.$$"
OUT="${EF_TEST_OUT:-/tmp}/$name"
mkdir -p "$TMP"
NET="$TMP/net"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export EDGEFED_LOG=${EDGEFED_LOG:-info}
# this test's own ports: P2P from BASE_PORT, HTTP from BASE_PORT + 100 (ports.bash)
source "$(dirname "${BASH_SOURCE[0]}")/ports.bash"
ef_port_claim || exit 1

ef_cleanup() {
    local rc=$?
    "$EDGEFED" testnet down --dir "$NET" >/dev/null 2>&1 || true
    jobs -p | xargs -r kill 2>/dev/null || true
    ef_port_release
    if [ $rc -ne 0 ]; then
        mkdir -p "$OUT"
        cp -r "$TMP"/. "$OUT"/ 2>/dev/null || true
        echo "FAILED ($rc); logs in $OUT" >&2
        for f in "$NET"/*/node.log; do echo "== $f (tail)" >&2; tail -n 15 "$f" >&2 || true; done
    else
        rm -rf "$TMP"
    fi
    exit $rc
}
trap ef_cleanup EXIT

log() { echo "[$(date +%T)] $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# status field of a node ("" if unreachable)
node_field() {
    "$EDGEFED" status --home "$NET/$1" 2>/dev/null |
        python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])" 2>/dev/null || echo ""
}
height() { local h; h=$(node_field "$1" height); echo "${h:-0}"; }
# rejected-input counter of a node
rejected() {
    "$EDGEFED" status --home "$NET/$1" 2>/dev/null |
        python3 -c "import json,sys; print(json.load(sys.stdin)['rejected'].get('$2',0))" 2>/dev/null || echo 0
}

# wait_height NODE H [SECONDS]: until NODE has committed H
wait_height() {
    local t=0 lim=${3:-30}
    while [ "$(height "$1")" -lt "$2" ]; do
        sleep 0.5; t=$((t + 1))
        [ $t -lt $((lim * 2)) ] || fail "$1 did not reach height $2 in ${lim}s (at $(height "$1"))"
    done
}

# no node may have recorded equivocation evidence, and every node must agree
check_safety() {
    "$EDGEFED" testnet check --dir "$NET" || fail "block hashes differ between nodes"
    for d in "$NET"/v*; do
        local n; n=$(basename "$d")
        [ "$(rejected "$n" cons_evidence)" = "0" ] || fail "$n saw equivocation"
    done
}

# stops the network and fails if any node log shows a sanitizer report or a crash
down_and_check_logs() {
    "$EDGEFED" testnet down --dir "$NET" >/dev/null
    if grep -l "Sanitizer\|runtime error\|assertion failed" "$NET"/*/node.log 2>/dev/null; then
        grep -h -A20 "Sanitizer\|runtime error\|assertion failed" "$NET"/*/node.log | head -60 >&2
        fail "a node reported a sanitizer error or an assertion"
    fi
}

# signed_heights NODE FROM TO PUB: the heights in [FROM, TO] whose commit
# certificate (as NODE serves it, GET /blocks summaries) holds PUB's signature
signed_heights() {
    local node=$1 from=$2 to=$3 pub=$4 url a b
    url=http://$(python3 -c "import json; print([n['http'] for n in json.load(open('$NET/testnet.json'))['nodes'] if n['name']=='$node'][0])")
    for ((a = from; a <= to; a += 100)); do
        b=$((a + 99 < to ? a + 99 : to))
        "$EDGEFED" query "/blocks?from=$a&to=$b" --api "$url" |
            python3 -c "import json,sys; print('\n'.join(str(x['height']) for x in json.load(sys.stdin)['blocks'] if '$pub' in x.get('signers', [])))"
    done | grep -v '^$' || true
}
