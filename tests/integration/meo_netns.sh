#!/usr/bin/env bash
# meo_netns.sh (root): the MEO netns driver: a topology of MEC namespaces joined over veth to a
# bridge; deploy, VXLAN tunnel on both sides, app-to-app traffic through the tunnel (from the
# consumer's namespace to the provider's overlay address), teardown; afterwards no tunnel
# device, no process and, after destroy, no namespace is left.
set -u
: "${EDGEFED:?}" "${EF_TEST_TMP:=/tmp}"
if [ "$(id -u)" != 0 ]; then
    echo "meo_netns.sh: SKIP: needs root (network namespaces, veth, VXLAN)"
    exit 77
fi
mkdir -p "$EF_TEST_TMP"
p="efmt$$"; p=${p:0:10}
dir=$(mktemp -d "$EF_TEST_TMP/meo-netns-XXXXXX")
out="$dir/out"
prov_pid=""; cons_pid=""
cleanup() {
    [ -n "$cons_pid" ] && kill "$cons_pid" 2>/dev/null && wait "$cons_pid" 2>/dev/null
    [ -n "$prov_pid" ] && kill "$prov_pid" 2>/dev/null && wait "$prov_pid" 2>/dev/null
    "$EDGEFED" meo topo destroy --prefix "$p" --n 3 >/dev/null 2>&1
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM
fail() { echo "meo_netns.sh: FAIL: $*"; cat "$out" 2>/dev/null; exit 1; }
vxlans() { ip -n "$1" -o link show type vxlan | wc -l; }

"$EDGEFED" meo topo create --prefix "$p" --n 3 --octet 88 || fail "topo create"
for i in 0 1 2; do ip netns list | grep -qw "$p$i" || fail "namespace $p$i missing"; done
ip netns exec "${p}0" ping -c1 -W2 10.88.0.2 >/dev/null || fail "underlay: ${p}0 cannot reach ${p}1"
# Creating it again is refused and leaves the existing namespaces alone.
"$EDGEFED" meo topo create --prefix "$p" --n 3 --octet 88 2>/dev/null && fail "second topo create succeeded"
ip netns exec "${p}0" ping -c1 -W2 10.88.0.2 >/dev/null || fail "second topo create broke the topology"
# The root namespace got nothing: no veth named like ours.
ip -o link show | grep -q " h0@" && fail "a veth leaked into the root namespace"

# 1. selftest rounds between ${p}0 (consumer) and ${p}1 (provider).
"$EDGEFED" meo selftest --driver netns --netns "${p}0,${p}1" --underlay 10.88.0.1,10.88.0.2 --rounds 5 >"$out" 2>&1 \
    || fail "selftest exited $?"
cat "$out"
[ "$(grep -c '^round [0-9]*: deploy' "$out")" = 5 ] || fail "not 5 rounds"
grep -q "check after the provider stopped the app: timed out" "$out" || fail "check passed with the app down"
[ "$(vxlans "${p}0")" = 0 ] && [ "$(vxlans "${p}1")" = 0 ] || fail "VXLAN devices left after teardown"

# 2. A service kept up (REST baseline, provider in ${p}2), inspected from outside.
key=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
echo "${p}0 $key" >"$dir/creds"
echo "mec2 10.88.0.3:7400 ${p}0 $key" >"$dir/registry"
ip netns exec "${p}2" "$EDGEFED" soa provider --listen 10.88.0.3:7400 --name mec2 --credentials "$dir/creds" \
    --driver netns --netns "${p}2" --underlay 10.88.0.3 >"$dir/prov.log" 2>&1 &
prov_pid=$!
for _ in $(seq 100); do ip netns exec "${p}0" "$EDGEFED" app call http://10.88.0.3:7400/health >/dev/null 2>&1 && break; sleep 0.1; done
"$EDGEFED" soa consumer --registry "$dir/registry" --name "${p}0" --service tun-1 --driver netns --netns "${p}0" \
    --underlay 10.88.0.1 --keep >"$out" 2>&1 &
cons_pid=$!
for _ in $(seq 200); do grep -q "^up;" "$out" && break; sleep 0.05; done
grep -q "^up;" "$out" || fail "consumer did not federate"
cat "$out"
ovl=$(sed -n 's/^  provider .* ip=\([0-9.]*\) app=\([0-9]*\)$/\1:\2/p' "$out")
[ -n "$ovl" ] || fail "no provider endpoint printed"
# The tunnel exists on both sides, pointing at the peer's underlay address.
ip -n "${p}0" -d link show type vxlan | grep -q "remote 10.88.0.3" || fail "consumer VXLAN missing"
ip -n "${p}2" -d link show type vxlan | grep -q "remote 10.88.0.1" || fail "provider VXLAN missing"
# App-to-app: from the consumer's namespace to the provider's overlay address, which is only
# routed through the VXLAN device.
ip -n "${p}0" route get "${ovl%:*}" | grep -q "dev efv" || fail "overlay not routed through the tunnel"
ip netns exec "${p}0" "$EDGEFED" app call "http://$ovl/" --expect tun-1 --count 3 >"$dir/call" 2>&1 \
    || { cat "$dir/call"; fail "app-to-app call through the tunnel"; }
# The consumer's own app (loopback of ${p}0) relays to the provider's app: app to app.
lport=$(ip netns exec "${p}0" ss -Hltn | awk '{print $4}' | sed -n 's/^127\.0\.0\.1:\([0-9]*\)$/\1/p' | head -1)
[ -n "$lport" ] || fail "no consumer app listening in ${p}0"
ip netns exec "${p}0" "$EDGEFED" app call "http://127.0.0.1:$lport/relay?to=$ovl" --expect tun-1 >"$dir/call" 2>&1 \
    || { cat "$dir/call"; fail "consumer app does not reach the provider's app"; }
grep -q '"mec":"mec2"' "$dir/call" || fail "relayed answer is not from mec2's app"
# The third namespace (not part of this federation) cannot reach it.
ip netns exec "${p}1" "$EDGEFED" app call "http://$ovl/" --timeout-ms 500 >/dev/null 2>&1 && fail "reachable without the tunnel"
# Release: both tunnels and the app go.
kill "$cons_pid"; wait "$cons_pid"; rc=$?; cons_pid=""
[ $rc = 0 ] || fail "consumer release exited $rc"
grep -q "^released tun-1" "$out" || fail "not released"
[ "$(vxlans "${p}0")" = 0 ] && [ "$(vxlans "${p}2")" = 0 ] || fail "VXLAN devices left after release"
kill "$prov_pid"; wait "$prov_pid"; prov_pid=""
sleep 0.3
[ -z "$(ip netns pids "${p}2")" ] || fail "processes left in ${p}2: $(ip netns pids "${p}2")"
[ -z "$(ip netns pids "${p}1")" ] || fail "processes left in ${p}1"

# 3. Destroy: no namespace left; destroy again is fine (idempotent).
"$EDGEFED" meo topo destroy --prefix "$p" --n 3 || fail "topo destroy"
"$EDGEFED" meo topo destroy --prefix "$p" --n 3 || fail "second topo destroy"
ip netns list | grep -q "^$p" && fail "namespaces left: $(ip netns list | grep "^$p")"
echo "meo_netns.sh: OK"
