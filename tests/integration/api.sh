#!/usr/bin/env bash
# api.sh: the HTTP API of a running 4-validator testnet (one observer; v3 serves a
# private API for domain dom-0): every endpoint, the CLI over it, bad input refused with the right
# 4xx and changing nothing, signed reads on the private node, the event stream.
set -euo pipefail
: "${EDGEFED:?}" "${EF_TEST_TMP:=/tmp}" "${EF_TEST_OUT:=/tmp}"
E=$EDGEFED
mkdir -p "$EF_TEST_TMP" "$EF_TEST_OUT"
T=$(mktemp -d "$EF_TEST_TMP/api.XXXXXX")
cleanup() {
  "$E" testnet down --dir "$T/net" >/dev/null 2>&1 || true
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$T"; fi
}
trap cleanup EXIT
fail() { echo "api.sh: FAIL: $*" >&2; for f in "$T"/net/*/node.log; do echo "--- $f" >&2; tail -n 20 "$f" >&2 || true; done; exit 1; }
pass() { echo "api.sh: ok: $*"; }

# status code and body of one curl request: code FILE METHOD URL [curl args...]
code() { local out=$1 m=$2 u=$3; shift 3; curl -s -o "$out" -w '%{http_code}' -X "$m" "$@" "$u"; }
expect() { # expect WANT_STATUS WANT_CODE METHOD PATH [curl args...]
  local want=$1 wcode=$2 m=$3 p=$4; shift 4
  local got; got=$(code "$T/body" "$m" "$API$p" "$@")
  [ "$got" = "$want" ] || fail "$m $p: HTTP $got, want $want: $(head -c 300 "$T/body")"
  if [ "$wcode" != - ]; then
    local c; c=$(jq -r .code "$T/body" 2>/dev/null || true)
    [ "$c" = "$wcode" ] || fail "$m $p: code '$c', want $wcode: $(head -c 300 "$T/body")"
    jq -e '.error | type == "string"' "$T/body" >/dev/null || fail "$m $p: no error text"
  fi
}

# this test's own ports: P2P from $port, HTTP from $port + 100, others from $port + 200
source "$(dirname "$0")/lib/ports.bash"
ef_port_claim || exit 1
port=$BASE_PORT
"$E" testnet init --dir "$T/net" --validators 4 --observers 1 --base-port "$port" --accounts 4 >/dev/null
# v3 serves a private API for domain dom-0: only signed requests of dom-0's accounts
# (validator v0 and observer o0 are of dom-0; v1..v3 of dom-1..dom-3)
jq '. + {"api": {"private": true, "domain": "dom-0"}}' "$T/net/v3/config.json" > "$T/c.json" \
  && mv "$T/c.json" "$T/net/v3/config.json"
# an API that could open more connections than the store has reader slots: refused at start
cp "$T/net/v3/config.json" "$T/v3.config.json"
jq '.api.conn_max = 2000' "$T/v3.config.json" > "$T/net/v3/config.json"
if timeout 20 "$E" node --home "$T/net/v3" >"$T/big.out" 2>&1; then fail "a node with api.conn_max 2000 started"; fi
grep -q "conn_max 2000 is over 960" "$T/big.out" || fail "no conn_max error: $(head -c 300 "$T/big.out")"
mv "$T/v3.config.json" "$T/net/v3/config.json"
pass "api.conn_max over the store's reader slots refused at start"
"$E" testnet up --dir "$T/net" >/dev/null
API=http://$(jq -r '.nodes[0].http' "$T/net/testnet.json")
API1=http://$(jq -r '.nodes[1].http' "$T/net/testnet.json")
PRIV=http://$(jq -r '.nodes[3].http' "$T/net/testnet.json")
OBS="$T/net/o0/node.key"        # a registered member (observer) with a balance
VAL="$T/net/v0/node.key"        # dom-0's validator
OTHER="$T/net/v1/node.key"      # registered, but of dom-1
"$E" keygen --out "$T/outsider.key" >/dev/null
for i in $(seq 1 100); do curl -sf "$API/status" >/dev/null && break; sleep 0.2; done
export EDGEFED_API=$API

# ---- reads and a committed transaction
st=$("$E" query /status) || fail "query /status"
chain=$(jq -r .chain_id <<<"$st")
[ "$(jq '.validators | length' <<<"$st")" = 4 ] || fail "status: 4 validators expected: $st"
pass "GET /status: chain $chain, 4 validators"
OBSPUB=$(jq -r '.nodes[4].pub' "$T/net/testnet.json")
V1PUB=$(jq -r '.nodes[1].pub' "$T/net/testnet.json")
nonce0=$("$E" query "/accounts/$OBSPUB" | jq .nonce)
bal0=$("$E" query "/accounts/$OBSPUB" | jq .balance)
out=$("$E" tx send --key "$OBS" --contract bank --method transfer --args "{\"to\":\"$V1PUB\",\"amount\":77}" --wait) \
  || fail "tx send --wait: $out"
H=$(jq -r .hash <<<"$out"); HT=$(jq .height <<<"$out")
[ "$(jq -r .code <<<"$out")" = OK ] || fail "tx result: $out"
pass "tx send --wait: $H committed at height $HT"
for i in 0 1 2; do
  url=http://$(jq -r ".nodes[$i].http" "$T/net/testnet.json")
  for k in $(seq 1 150); do curl -sf "$url/txs/$H" >/dev/null && break; sleep 0.1; done
  [ "$(curl -sf "$url/txs/$H" | jq -r '.height, .code' | tr '\n' ' ')" = "$HT OK " ] || fail "tx on node $i"
done
pass "GET /txs/{hash} on every node: height $HT, OK"
b=$("$E" query "/blocks/$HT") || fail "/blocks/$HT"
[ "$(jq -r --arg h "$H" '[.txs[] | select(.hash == $h)] | length' <<<"$b")" = 1 ] || fail "block lacks tx"
[ "$(jq '.signers | length' <<<"$b")" -ge 3 ] || fail "block $HT: commit signers: $(jq -c .signers <<<"$b")"
pass "GET /blocks/$HT: tx inside, $(jq '.signers | length' <<<"$b") certificate signers"
r=$("$E" query "/blocks?from=0&to=$HT")
[ "$(jq '.blocks | length' <<<"$r")" = $((HT + 1)) ] || fail "range: $(jq -c '.blocks|length' <<<"$r")"
acc=$("$E" query "/accounts/$OBSPUB")
[ "$(jq .nonce <<<"$acc")" = $((nonce0 + 1)) ] && [ "$(jq .balance <<<"$acc")" = $((bal0 - 77)) ] \
  && [ "$(jq -r .role <<<"$acc")" = member ] || fail "account: $acc"
[ "$("$E" query "/state/bank/balance/$OBSPUB" | jq .balance)" = $((bal0 - 77)) ] || fail "state query"
"$E" query /state/registry/validators >/dev/null || fail "registry query"
"$E" query /state/bank/supply >/dev/null || fail "supply query"
st=$("$E" query /status); top=$(jq .txs_counted_to <<<"$st")
sum=$("$E" query "/blocks?from=0&to=$top" | jq '[.blocks[].txs] | add')
[ "$(jq .txs_total <<<"$st")" = "$sum" ] || fail "txs_total $(jq .txs_total <<<"$st") != sum of block tx counts $sum"
pass "GET /blocks range, /accounts, /state/bank, /state/registry; txs_total = sum over blocks ($sum)"
m=$("$E" query /metrics)
for k in edgefed_height edgefed_round edgefed_txs_committed_total edgefed_mempool_txs edgefed_peers \
         'edgefed_commit_latency_seconds_bucket{le="+Inf"}' edgefed_commit_latency_seconds_count \
         edgefed_process_resident_memory_bytes; do
  grep -q "^$k " <<<"$m" || fail "metrics lack $k"
done
[ "$(grep '^edgefed_peers ' <<<"$m" | cut -d' ' -f2)" -ge 3 ] || fail "metrics: peers"
command -v promtool >/dev/null || fail "promtool missing (scripts/setup installs Debian's prometheus)"
lint=$(promtool check metrics <<<"$m" 2>&1) || fail "promtool check metrics: $lint"
# the control: promtool must refuse a broken exposition (a counter without _total, a bad line)
printf '# TYPE edgefed_bad counter\nedgefed_bad 1\nnot a metric line\n' | promtool check metrics >/dev/null 2>&1 &&
  fail "promtool passed a broken exposition"
pass "GET /metrics (Prometheus text; promtool check metrics finds no problem)"
# (read whole, then grep: under pipefail, grep -q leaving early makes curl fail on a big body)
page=$(curl -sf "$API/") || fail "explorer page: GET failed"
grep -q "edgefed explorer" <<<"$page" || fail "explorer page"
js=$(curl -sf "$API/ui/explorer.js") || fail "explorer script: GET failed"
grep -q EventSource <<<"$js" || fail "explorer script"
pass "GET / and /ui/explorer.js"
ev=$("$E" query "/events?from=1&kind=event&contract=bank&event=transfer" --events 1) || fail "events"
[ "$(jq -r '.type, .data.name' <<<"$ev" | tr '\n' ' ')" = "event transfer " ] || fail "event: $ev"
blk=$("$E" query "/events?from=$HT&kind=block" --events 1)
[ "$(jq .data.height <<<"$blk")" = "$HT" ] || fail "block event: $blk"
pass "GET /events: replayed contract event and block"

# ---- bad input: right status, nothing changes
mp0=$("$E" query /status | jq .mempool_txs)
nonce1=$("$E" query "/accounts/$OBSPUB" | jq .nonce)
good=$("$E" tx send --key "$OBS" --contract bank --method transfer --args "{\"to\":\"$V1PUB\",\"amount\":1}" --dry-run)
J='-H Content-Type:application/json'
expect 400 EINVAL POST /txs $J --data '{"tx": '
expect 400 EINVAL POST /txs $J --data '{"tx": 12}'
expect 400 EINVAL POST /txs $J --data '["tx"]'
expect 400 EINVAL POST /txs $J --data "{\"tx\":\"$good\",\"x\":1}"
expect 400 EINVAL POST /txs $J --data '{"tx":"abc"}'
expect 400 ETRUNC POST /txs $J --data '{"tx":"00ff"}'
expect 415 EINVAL POST /txs -H Content-Type:text/plain --data x
head -c 300000 /dev/zero | tr '\0' a > "$T/big"
expect 413 ETOOBIG POST /txs $J --data-binary @"$T/big"
badsig=${good:0:${#good}-2}$(printf '%02x' $(( (0x${good: -2} + 1) % 256 )))
expect 422 EBADSIG POST /txs $J --data "{\"tx\":\"$badsig\"}"
expect 405 EINVAL DELETE /status
expect 405 EINVAL GET /txs
expect 404 ENOTFOUND GET /nope
expect 404 ENOTFOUND GET "/txs/$(printf '%064d' 0)"
expect 400 EINVAL GET /txs/123
expect 400 EINVAL GET /blocks/x
expect 404 ENOTFOUND GET /blocks/999999
expect 400 ETOOBIG GET "/blocks?from=0&to=1000"
expect 400 EINVAL GET /accounts/zz
expect 404 ENOCONTRACT GET /state/nosuch/x
expect 400 EINVAL GET "/events?kind=x"
# a replay of the committed transaction
replay=$("$E" tx send --key "$OBS" --contract bank --method transfer --args "{\"to\":\"$V1PUB\",\"amount\":77}" \
         --nonce "$nonce0" --dry-run)
expect 409 ENONCE POST /txs $J --data "{\"tx\":\"$replay\"}"
other=$("$E" tx send --key "$OBS" --contract bank --method transfer --args "{\"to\":\"$V1PUB\",\"amount\":1}" \
        --chain other-chain --nonce "$nonce1" --dry-run)
expect 422 ECHAIN POST /txs $J --data "{\"tx\":\"$other\"}"
sleep 0.5
[ "$("$E" query "/accounts/$OBSPUB" | jq .nonce)" = "$nonce1" ] || fail "bad input changed the nonce"
[ "$("$E" query /status | jq .mempool_txs)" = "$mp0" ] || fail "bad input entered the mempool"
pass "malformed JSON, wrong types, oversize, bad signature, replay, other chain: right 4xx, nothing changed"
# the good one still goes through (raw binary body this time)
printf '%s' "$good" | xxd -r -p > "$T/good.bin"
expect 200 - POST "/txs?wait=commit" -H Content-Type:application/octet-stream --data-binary @"$T/good.bin"
[ "$(jq -r .code "$T/body")" = OK ] || fail "raw submit: $(cat "$T/body")"
expect 409 ENONCE POST /txs -H Content-Type:application/octet-stream --data-binary @"$T/good.bin"
pass "raw binary POST /txs?wait=commit, then its replay refused"

# ---- the private node (v3): members only, signed, no replays
API_SAVE=$API; API=$PRIV
for p in /status /blocks/1 "/txs/$H" /metrics "/accounts/$OBSPUB" /state/bank/supply "/events?from=1"; do
  expect 403 EPERM GET "$p"
done
expect 403 EPERM POST /txs $J --data "{\"tx\":\"$good\"}"
"$E" query /status --api "$PRIV" --key "$OBS" | jq -e '.chain_id' >/dev/null || fail "member read refused"
[ "$("$E" query "/txs/$H" --api "$PRIV" --key "$VAL" | jq -r .code)" = OK ] || fail "validator read refused"
if "$E" query /status --api "$PRIV" --key "$T/outsider.key" 2>"$T/err"; then fail "outsider read allowed"; fi
grep -q 403 "$T/err" || fail "outsider: $(cat "$T/err")"
if "$E" query /status --api "$PRIV" --key "$OTHER" 2>"$T/err"; then fail "other domain's read allowed"; fi
grep -q 403 "$T/err" || fail "other domain: $(cat "$T/err")"
mapfile -t hdr < <("$E" query /status --key "$OBS" --headers)
expect 200 - GET /status -H "${hdr[0]}" -H "${hdr[1]}" -H "${hdr[2]}"
expect 403 EDUP GET /status -H "${hdr[0]}" -H "${hdr[1]}" -H "${hdr[2]}"            # replay
mapfile -t hdr < <("$E" query /status --key "$OBS" --headers)
expect 403 EBADSIG GET /metrics -H "${hdr[0]}" -H "${hdr[1]}" -H "${hdr[2]}"       # signed for another path
old=$(( $(date +%s%3N) - 120000 ))
expect 403 ELATE GET /status -H "${hdr[0]}" -H "X-Edgefed-Time: $old" -H "${hdr[2]}"  # stale
expect 403 EINVAL GET /status -H "X-Edgefed-Key: zz" -H "X-Edgefed-Time: 1" -H "X-Edgefed-Sig: 00"
expect 200 - GET /
API=$API_SAVE
pass "private node: unsigned, outsider, other-domain, replayed, stale and misdirected requests get 403; dom-0 members read"
echo "api.sh: all ok"
