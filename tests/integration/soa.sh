#!/usr/bin/env bash
# soa.sh: the REST baseline end to end with 3 MEC systems (two providers, one consumer) on the
# process driver: quotes from both, the cheaper wins, deploys, app-to-app traffic, release;
# wrong credentials rejected (401/403) and answers authenticated; then the bench harness (netns
# when root).
set -u
: "${EDGEFED:?}" "${EF_TEST_TMP:=/tmp}"
mkdir -p "$EF_TEST_TMP"
dir=$(mktemp -d "$EF_TEST_TMP/soa-XXXXXX")
out="$dir/out"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM
fail() { echo "soa.sh: FAIL: $*"; cat "$out" 2>/dev/null; for f in "$dir"/*.log; do echo "== $f"; cat "$f"; done; exit 1; }
newkey() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }

# this test's own ports (ports.bash)
source "$(dirname "$0")/lib/ports.bash"
ef_port_claim || exit 1
base=$((BASE_PORT + 250))
k0=$(newkey); k1=$(newkey)
echo "mec2 $k0" >"$dir/creds0"
echo "mec2 $k1" >"$dir/creds1"
# Same location, different base tariffs: mec1 is the cheaper at any hour.
"$EDGEFED" soa provider --listen "127.0.0.1:$base" --name mec0 --location ES --base 500 --credentials "$dir/creds0" \
    --app-ports $BASE_PORT-$((BASE_PORT + 99)) >"$dir/mec0.log" 2>&1 &
pids+=($!)
"$EDGEFED" soa provider --listen "127.0.0.1:$((base + 1))" --name mec1 --location ES --base 100 --credentials "$dir/creds1" \
    --app-ports $((BASE_PORT + 100))-$((BASE_PORT + 199)) >"$dir/mec1.log" 2>&1 &
pids+=($!)
for port in $base $((base + 1)); do
    for _ in $(seq 100); do "$EDGEFED" app call "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.05; done
done
printf 'mec0 127.0.0.1:%s mec2 %s\nmec1 127.0.0.1:%s mec2 %s\n' "$base" "$k0" "$((base + 1))" "$k1" >"$dir/registry"

# 1. End to end.
"$EDGEFED" soa consumer --registry "$dir/registry" --name mec2 --service mec2-s1 >"$out" 2>&1 || fail "consumer exited $?"
cat "$out"
grep -q "federated with mec1 at [0-9]*/h (2 offers)" "$out" || fail "the cheaper provider did not win"
for step in "announce->offers" award deployment connection total; do
    grep -q "^  $step *[0-9.]* ms" "$out" || fail "no time for $step"
done
grep -q "^released mec2-s1" "$out" || fail "not released"

# 2. Wrong credentials.
now() { date +%s%3N; }
# code [curl args]: POSTs /quote to mec0 and prints the status (body defaults to x-1's).
code() {
    local has_body=0; for a in "$@"; do [ "$a" = -d ] && has_body=1; done
    [ $has_body = 1 ] || set -- "$@" -d '{"service":"x-1"}'
    curl -s -o "$dir/body" -w '%{http_code}' -X POST "http://127.0.0.1:$base/quote" "$@"
}
[ "$(code)" = 401 ] || fail "no credentials not 401"
[ "$(code -H 'X-EF-Client: nobody' -H "X-EF-Time: $(now)" -H "X-EF-Auth: $(printf '0%.0s' $(seq 64))")" = 401 ] \
    || fail "unknown client not 401"
[ "$(code -H 'X-EF-Client: mec2' -H "X-EF-Time: $(now)" -H "X-EF-Auth: $(printf '0%.0s' $(seq 64))")" = 403 ] \
    || fail "bad MAC not 403"
# A registry with a wrong key: every quote is refused, the federation fails, nothing deployed.
printf 'mec0 127.0.0.1:%s mec2 %s\n' "$base" "$(newkey)" >"$dir/badreg"
"$EDGEFED" soa consumer --registry "$dir/badreg" --name mec2 --service mec2-s2 >"$out" 2>&1 && fail "bad key federated"
grep -q "not found" "$out" || fail "bad key: expected no offers"
# 3. The MAC is standard HMAC-SHA-512-256 (first 32 bytes of HMAC-SHA-512): a request signed
#    with openssl is accepted, and the same signature over another body is refused.
if command -v openssl >/dev/null; then
    t=$(now); body='{"service":"x-2","kind":"k"}'
    mac=$(printf 'POST\n/quote\n%s\n%s' "$t" "$body" | openssl dgst -sha512 -mac HMAC -macopt "hexkey:$k0" | sed 's/.*= //' | cut -c1-64)
    [ "$(code -H 'X-EF-Client: mec2' -H "X-EF-Time: $t" -H "X-EF-Auth: $mac" -d "$body")" = 200 ] || fail "openssl-signed quote refused"
    grep -q '"provider":"mec0"' "$dir/body" || fail "quote body"
    # The same signed request again is a replay.
    [ "$(code -H 'X-EF-Client: mec2' -H "X-EF-Time: $t" -H "X-EF-Auth: $mac" -d "$body")" = 401 ] || fail "replay accepted"
    [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$base/quote" -H 'X-EF-Client: mec2' \
        -H "X-EF-Time: $t" -H "X-EF-Auth: $mac" -d '{"service":"x-3","kind":"k"}')" = 403 ] || fail "tampered body accepted"
fi
for pid in "${pids[@]}"; do kill "$pid"; wait "$pid" 2>/dev/null; done
pids=()

# 4. The bench harness with 3 MEC systems, 2 rounds (netns when root).
driver=process; [ "$(id -u)" = 0 ] && driver=netns
"$EDGEFED" soa bench --n 3 --runs 2 --driver "$driver" --out "$dir/bench" >"$out" 2>&1 || fail "bench exited $?"
cat "$out"
grep -q "^N= 3 (2:1) .* 0/4 failed" "$out" || fail "bench failures"
jq -e '.results[0].total.mean_ms > 0' "$dir/bench/soa.json" >/dev/null || fail "bench json"
grep -q "^| 3 | 2:1 |" "$dir/bench/soa.md" || fail "bench markdown"
echo "soa.sh: OK"
