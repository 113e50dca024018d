#!/usr/bin/env bash
# cli_args.sh: every command and subcommand refuses what it does not know (an
# unknown option, a flag given a value, an option missing its value, an extra
# argument, an unknown subcommand or scenario) with exit 2, a message naming it
# and the usage, and does nothing else; --help still exits 0.
set -uo pipefail
: "${EDGEFED:?}" "${EF_TEST_TMP:?}"
dir=$(mktemp -d "$EF_TEST_TMP/cli-args.XXXXXX")
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# refused WHAT ARGS...: exit 2, stderr names WHAT and holds a usage line, stdout empty
refused() {
    local what=$1; shift
    local out err rc
    out=$(cd "$dir" && "$EDGEFED" "$@" 2>"$dir/err"); rc=$?
    err=$(cat "$dir/err")
    [ "$rc" = 2 ] || fail "'edgefed $*' exited $rc, expected 2"
    grep -qF -- "$what" <<<"$err" || fail "'edgefed $*' did not say '$what': $err"
    grep -q "usage:" <<<"$err" || fail "'edgefed $*' printed no usage"
    [ -z "$out" ] || fail "'edgefed $*' printed on stdout: $out"
}

for c in "version" "keygen --out $dir/k" "genesis" "chain --dir $dir/c" "node --home $dir" "status --home $dir" \
         "submit --home $dir f" "query /status" "tx sign" "tx decode 00" "tx send" "testnet init --dir $dir/t" \
         "testnet up --dir $dir/t" "testnet status --dir $dir/t" "testnet down --dir $dir/t" \
         "testnet kill --dir $dir/t --node v0" "testnet link --dir $dir/t --node v0 up" \
         "bench apply" "bench ledger" "bench federation" "bench consensus" \
         "app serve --listen 127.0.0.1:1" "app call http://127.0.0.1:1/" "meo selftest" "meo topo create --prefix x --n 1" \
         "soa provider" "soa consumer" "soa bench" "mef quote" "demo federation" "sim" "p2p-probe" "bench sla"; do
    # shellcheck disable=SC2086
    refused "unknown option '--no-such-option'" $c --no-such-option
    # shellcheck disable=SC2086
    "$EDGEFED" $c --help >/dev/null 2>&1 || fail "'edgefed $c --help' did not exit 0"
done
# the edge market's commands (docs/market.md)
for c in "market register" "market update" "market retire" "market match" "market end" "market expire" \
         "channel open" "channel top-up" "channel redeem" "channel start-close" "channel settle" \
         "voucher make" "voucher check 00" "en serve" "device run" "demo market" "bench market"; do
    # shellcheck disable=SC2086
    refused "unknown option '--no-such-option'" $c --no-such-option
    # shellcheck disable=SC2086
    "$EDGEFED" $c --help >/dev/null 2>&1 || fail "'edgefed $c --help' did not exit 0"
done
# the sla contract's commands (docs/sla.md)
for c in "sla post-bond" "sla withdraw-bond" "sla set-controller" "sla offer" "sla withdraw" "sla activate" \
         "sla confirm" "sla fail" "sla expire" "sla claim" "sla submit" "sla dispute" "sla contradict" "sla rule" \
         "sla report-double" "sla close" "sla topology" "sla show" "sla list" "sla receipt make" "sla receipt verify 00" \
         "sla controller" "slice check" "slice send" "slice monitor" "slice loss" "slice svg" "demo sla"; do
    # shellcheck disable=SC2086
    refused "unknown option '--no-such-option'" $c --no-such-option
    # shellcheck disable=SC2086
    "$EDGEFED" $c --help >/dev/null 2>&1 || fail "'edgefed $c --help' did not exit 0"
done
refused "unknown subcommand 'nosuch'" sla nosuch
refused "unknown subcommand 'nosuch'" slice nosuch
refused "unexpected argument 'extra'" sla receipt verify 00 extra
refused "unknown option '--no-such-option'" demo federation --n=3 --no-such-option=1
refused "option '--keep' takes no value" demo federation --keep=yes
refused "option '--n' needs a value" demo federation --n
refused "unexpected argument 'extra'" demo federation extra
refused "unexpected argument 'extra'" keygen --out "$dir/k" extra
refused "unexpected argument 'extra'" testnet up --dir "$dir/t" extra
refused "unknown scenario 'nosuch'" demo nosuch
refused "options go after a scenario's name" demo --n 3
refused "unknown subcommand 'nosuch'" testnet nosuch --dir "$dir/t"
refused "unknown subcommand 'nosuch'" tx nosuch
refused "unknown command 'nosuch'" nosuch
refused "--log must be" node --home "$dir" --log loud
# cross-domain proofs and the anchor's benchmark (docs/hierarchy.md)
for c in "proof get" "proof verify" "bench hierarchy-anchor"; do
    # shellcheck disable=SC2086
    refused "unknown option '--no-such-option'" $c --no-such-option
    # shellcheck disable=SC2086
    "$EDGEFED" $c --help >/dev/null 2>&1 || fail "'edgefed $c --help' did not exit 0"
done
# the relayer and the hierarchy demo (docs/hierarchy.md)
for c in "relayer" "demo hierarchy"; do
    # shellcheck disable=SC2086
    refused "unknown option '--no-such-option'" $c --no-such-option
    # shellcheck disable=SC2086
    "$EDGEFED" $c --help >/dev/null 2>&1 || fail "'edgefed $c --help' did not exit 0"
done
refused "are required" relayer --domain-node http://127.0.0.1:1 --federation http://127.0.0.1:2 --key k
"$EDGEFED" keygen --out "$dir/rk" >/dev/null 2>&1 || fail "keygen"
refused "bad configuration" relayer --domain-node localhost:1 --federation http://127.0.0.1:2 --key "$dir/rk" --domain a
refused "--period-ms" relayer --domain-node http://127.0.0.1:1 --federation http://127.0.0.1:2 --key k --domain a --period-ms x
refused "unexpected argument 'extra'" demo hierarchy extra
refused "unknown subcommand 'nosuch'" proof nosuch
# read tokens of private ledgers (docs/api.md)
for c in "token make" "token check 00"; do
    # shellcheck disable=SC2086
    refused "unknown option '--no-such-option'" $c --no-such-option
    # shellcheck disable=SC2086
    "$EDGEFED" $c --help >/dev/null 2>&1 || fail "'edgefed $c --help' did not exit 0"
done
refused "unknown subcommand 'nosuch'" token nosuch
refused "usage:" token make --chain c
refused "--ttl must be" token make --key k --chain c --ttl 0
refused "--ttl must be" token make --key k --chain c --ttl 999999
refused "usage:" token make --key k --chain c --explorer
refused "unexpected argument 'b'" token check a b
# a whole hierarchy laid out by testnet (docs/hierarchy.md)
refused "unknown option '--no-such-option'" testnet init --dir "$dir/h" --hierarchy --no-such-option
refused "unknown option '--validators'" testnet init --dir "$dir/h" --hierarchy --validators 4
refused "--domains 1..8" testnet init --dir "$dir/h" --hierarchy --domains 0
refused "--domains 1..8" testnet init --dir "$dir/h" --hierarchy --devices 11
refused "--domains 1..8" testnet init --dir "$dir/h" --hierarchy --domains 5 --federation-validators 4
refused "--domains 1..8" testnet init --dir "$dir/h" --hierarchy --relayer-period-ms 5
[ ! -e "$dir/h" ] || fail "a refused testnet init --hierarchy left $dir/h"
"$EDGEFED" testnet init --help | grep -q -- "--hierarchy" || fail "testnet init --help does not show --hierarchy"
refused "unexpected argument 'b'" proof verify --federation http://127.0.0.1:1 --domain d a b
refused "--domains wants" bench hierarchy-anchor --domains 0
# end-to-end slices' benchmark (docs/slices.md)
refused "unknown option '--no-such-option'" bench slices --no-such-option
refused "--runs wants" bench slices --runs 0
"$EDGEFED" bench slices --help >/dev/null 2>&1 || fail "'edgefed bench slices --help' did not exit 0"
# slice templates offline (docs/slices.md)
refused "unknown option '--no-such-option'" nslice template --no-such-option
refused "are required" nslice template --name t --kbps-min 1
refused "not a valid template" nslice template --name "bad name" --kbps-min 1 --kbps-max 2 --max-latency-us 3
refused "unknown subcommand 'nosuch'" nslice nosuch
refused "unexpected argument 'b'" nslice id a b
tj=$("$EDGEFED" nslice template --name cam --kbps-min 1000 --kbps-max 9000 --max-latency-us 20000) ||
    fail "nslice template refused a valid template"
th=$(sed -E 's/.*"template":"([0-9a-f]+)".*/\1/' <<<"$tj"); tid=$(sed -E 's/.*"id":"([0-9a-f]+)".*/\1/' <<<"$tj")
"$EDGEFED" nslice id "$th" | grep -q "\"id\":\"$tid\"" || fail "nslice id does not give the template's id"
"$EDGEFED" nslice id 00 >/dev/null 2>&1 && fail "nslice id accepted bytes that are no template"
# the slice agents on real nodes and their demo (docs/slices.md)
for c in "nslice controller" "nslice orchestrator" "demo slices"; do
    # shellcheck disable=SC2086
    refused "unknown option '--no-such-option'" $c --no-such-option
    # shellcheck disable=SC2086
    "$EDGEFED" $c --help >/dev/null 2>&1 || fail "'edgefed $c --help' did not exit 0"
done
refused "give one of --netns and --process" nslice controller --key k --node http://127.0.0.1:1 --topology t
refused "are required" nslice controller --process
refused "--octet is" nslice controller --key k --node http://127.0.0.1:1 --topology t --process --octet 300
refused "two --domain are required" nslice orchestrator --federation http://127.0.0.1:1 --key k
refused "bad --domain" nslice orchestrator --federation http://127.0.0.1:1 --key k --domain a=http://x
refused "unexpected argument 'extra'" demo slices extra
refused "--base-port is 1024..65000" demo slices --base-port 80
refused "--base-port is 1024..65000" demo sla --base-port x
refused "option '--replay' takes no value" nslice orchestrator --replay=1
[ ! -e "$dir/k" ] || fail "a refused keygen wrote its key"
[ ! -e "$dir/c" ] || fail "a refused chain created its directory"
"$EDGEFED" demo --help | grep -q "federation" || fail "demo --help does not list the federation scenario"
echo "cli_args: OK"
