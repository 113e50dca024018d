#!/usr/bin/env bash
# meo_process.sh: the MEO process driver: the service app alone (serve, call, a call to a stopped
# app fails), then deploy, connect, check and teardown rounds, a failing check once the app is
# down, and nothing left listening afterwards.
set -u
: "${EDGEFED:?}" "${EF_TEST_TMP:=/tmp}"
mkdir -p "$EF_TEST_TMP"
out=$(mktemp "$EF_TEST_TMP/meo-process-XXXXXX")
app_pid=""
cleanup() {
    [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null && wait "$app_pid" 2>/dev/null
    rm -f "$out"
}
trap cleanup EXIT INT TERM
fail() { echo "meo_process.sh: FAIL: $*"; cat "$out"; exit 1; }
listening() { ss -Hltn "sport = :$1" | grep -q .; }

# this test's own ports (ports.bash)
source "$(dirname "$0")/lib/ports.bash"
ef_port_claim || exit 1
# 1. The app by itself.
port=$BASE_PORT
"$EDGEFED" app serve --listen "127.0.0.1:$port" --name svc-x --kind echo --mec m1 >"$out" 2>&1 &
app_pid=$!
for _ in $(seq 100); do listening "$port" && break; sleep 0.05; done
"$EDGEFED" app call "http://127.0.0.1:$port/" --expect svc-x --count 3 >"$out" 2>&1 || fail "app call"
grep -q '"count":3' "$out" || fail "counter did not reach 3"
"$EDGEFED" app call "http://127.0.0.1:$port/" --expect other >"$out" 2>&1 && fail "wrong service accepted"
"$EDGEFED" app call "http://127.0.0.1:$port/nope" >"$out" 2>&1 && fail "404 accepted"
kill "$app_pid"; wait "$app_pid" 2>/dev/null; app_pid=""
"$EDGEFED" app call "http://127.0.0.1:$port/" --timeout-ms 500 >"$out" 2>&1 && fail "stopped app still answers"
"$EDGEFED" app call "http://localhost:$port/" >"$out" 2>&1; [ $? = 2 ] || fail "bad URL not a usage error"

# 2. The driver: prepare, deploy, connect both sides, check, teardown (5 rounds), then a
#    check against a stopped app must fail.
"$EDGEFED" meo selftest --driver process --rounds 5 --ports $((BASE_PORT + 200))-$((BASE_PORT + 299)) >"$out" 2>&1 || fail "selftest exited $?"
cat "$out"
[ "$(grep -c '^round [0-9]*: deploy' "$out")" = 5 ] || fail "not 5 rounds"
grep -q "check after the provider stopped the app: timed out" "$out" || fail "check passed with the app down"
grep -q "^median over 5 rounds (process)" "$out" || fail "no medians"
# 3. Teardown left nothing: no app listening on the selftest's provider ports.
sleep 0.3
# (only the ports the selftest used: other processes on this machine may hold ports near them)
ports=$(grep -o 'app=[0-9][0-9]*' "$out" | cut -d= -f2 | grep -v '^0$' | sort -u)
[ -n "$ports" ] || fail "no provider app ports in the selftest's output"
for p in $ports; do listening "$p" && fail "an app still listens on $p: $(ss -Hltnp "sport = :$p")"; done
echo "meo_process.sh: OK"
