#!/usr/bin/env bash
# ledger_cli.sh: the ledger's CLI end to end: keygen, genesis, tx sign/decode
# (a tampered tx is caught), the local chain demo, --help everywhere.
set -euo pipefail
: "${EDGEFED:?}" "${EF_TEST_TMP:?}"
dir=$(mktemp -d "$EF_TEST_TMP/ledger-cli.XXXXXX")
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

for c in genesis tx chain bench "tx sign" "tx decode" "bench apply"; do
  $EDGEFED $c --help | grep -q usage || fail "$c --help"
done

v=$($EDGEFED keygen --out "$dir/v.key")
a=$($EDGEFED keygen --out "$dir/a.key")
[[ ${#v} == 64 && ${#a} == 64 ]] || fail "keygen output"

$EDGEFED genesis --chain-id test-1 --validator "$v:mec-a" --validator "$dir/a.key:mec-b:2" \
  --balance "$a=1000" --member "$v:mec-a:x" --out "$dir/genesis.json" >/dev/null 2>&1 && fail "a validator cannot also be a member"
$EDGEFED genesis --chain-id test-1 --validator "$v:mec-a" --validator "$dir/a.key:mec-b:2" \
  --balance "$a=1000" --out "$dir/genesis.json" >/dev/null
grep -q '"chain_id": "test-1"' "$dir/genesis.json" || fail "genesis chain id"
grep -q "\"$a\": 1000" "$dir/genesis.json" || fail "genesis balance"
grep -q '"power": 2' "$dir/genesis.json" || fail "genesis power"
$EDGEFED genesis --chain-id 'bad id' --validator "$v:x" --out "$dir/g2.json" 2>/dev/null && fail "bad chain id accepted"

out=$($EDGEFED tx sign --key "$dir/a.key" --chain-id test-1 --nonce 0 --contract bank --method transfer \
      --args "{\"to\":\"$v\",\"amount\":5}" --out "$dir/tx.hex")
hex=$(echo "$out" | sed -n 1p)
hash=$(echo "$out" | sed -n 2p)
[[ ${#hash} == 64 ]] || fail "tx hash"
[[ "$(cat "$dir/tx.hex")" == "$hex" ]] || fail "--out file"
dec=$($EDGEFED tx decode "$hex" --chain-id test-1)
echo "$dec" | grep -q "\"hash\": \"$hash\"" || fail "decode hash"
echo "$dec" | grep -q '"signature_valid": true' || fail "signature"
echo "$dec" | grep -q '"check": "ok"' || fail "stateless check"
echo "$dec" | grep -q '"amount": 5' || fail "args"
$EDGEFED tx decode "@$dir/tx.hex" | grep -q "\"sender\": \"$a\"" || fail "decode @file"
$EDGEFED tx decode "$hex" --chain-id other | grep -q '"check": "ECHAIN"' || fail "wrong chain"
# flip one bit in the nonce: still decodes, the signature no longer verifies
n=$(( ${#hex} ))
pre=$((4 + 6 + 32)) # u32 len + "test-1" + sender, in bytes
tampered="${hex:0:$((2*pre))}01${hex:$((2*pre+2))}"
[[ ${#tampered} == "$n" ]] || fail "tamper length"
$EDGEFED tx decode "$tampered" | grep -q '"signature_valid": false' || fail "tampered tx verifies"
$EDGEFED tx decode "${hex}00" >/dev/null 2>&1 && fail "extended tx decodes"
$EDGEFED tx decode "${hex:0:$((n-2))}" >/dev/null 2>&1 && fail "truncated tx decodes"
$EDGEFED tx sign --key "$dir/a.key" --chain-id test-1 --nonce 0 --contract bank --method transfer \
  --args '[1]' >/dev/null 2>&1 && fail "non-object args accepted"

demo=$($EDGEFED chain --dir "$dir/chain")
echo "$demo" | grep -q "chain edgefed-local: 4 blocks" || fail "demo blocks"
echo "$demo" | grep -q "(conserved)" || fail "supply not conserved"
echo "$demo" | grep -q "matches a full rehash" || fail "state hash"
echo "$demo" | grep -q "failed: insufficient funds" || fail "overdraft shown"
echo "$demo" | grep -q "ENONCE" || fail "replay refused"
again=$($EDGEFED chain --dir "$dir/chain")
[[ "$(echo "$again" | grep '^block 4')" == "$(echo "$demo" | grep '^block 4')" ]] || fail "reopened chain differs"
echo "ok"
