#!/usr/bin/env bash
# demo_sla.sh: `edgefed demo sla` end to end, in the mode the machine allows
# (network namespaces with htb and nftables as root, else loopback) and in
# --process mode: exit 0, every step printed with its time, the slice stitched,
# four epochs receipted, the claim, the breached epoch with its penalty, the
# regulators' ruling, the slice released, money conserved.
set -uo pipefail
: "${EDGEFED:?}" "${EF_TEST_TMP:=/tmp}"
mkdir -p "$EF_TEST_TMP"
out=$(mktemp "$EF_TEST_TMP/demo_sla.XXXXXX")
trap 'rm -f "$out"' EXIT
fail() { echo "demo_sla.sh: FAIL: $*" >&2; cat "$out" >&2; exit 1; }
# this test's own ports (ports.bash)
source "$(dirname "$0")/lib/ports.bash"
ef_port_claim || exit 1
check() { # check MODE_ARGS...
  "$EDGEFED" demo sla --base-port "$BASE_PORT" "$@" >"$out" 2>&1 || fail "demo sla $* exited $?"
  for want in "stitched and confirmed on the ledger" "epoch 0: slice" "epoch 3: slice" "A claims epochs 0, 1 and 3" \
              "epoch 1.s verdict [1-7] costs its penalty" "the car withholds its receipt for epoch 2" "epoch 2 is disputed" \
              "epoch 2 ruled" "epochs \[[a-z]*, breached, ruled, [a-z]*\]" "released the slice" "balances conserved" \
              "every node holds the same blocks" "demo sla: OK"; do
    grep -q "$want" "$out" || fail "demo sla $*: no '$want'"
  done
  grep -qE '^\[ *[0-9]+\.[0-9]{3} s\] ' "$out" || fail "steps without times"
  echo "demo_sla.sh: ok: demo sla $* ($(grep -c '^\[' "$out") steps; $(grep -o 'stitched and confirmed on the ledger [0-9]* ms' "$out"))"
}
check
check --process
grep -q "bandwidth NOT enforced" "$out" || fail "process mode not labelled"
