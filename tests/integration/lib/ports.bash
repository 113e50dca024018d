# ports.bash: one range of ports per test (sourced, not a test), so that a test
# never listens where another test, a test run of another build or checkout on
# this machine, or a straggler of an earlier test already does.
#
# Slot k is the range P = 20000 + 300 k .. P + 299 (k < 40: all below the ephemeral
# ports, 32768..): P2P ports from P, HTTP ports from P + 100 (a node's HTTP port is
# its P2P port + 100, as testnet init lays them out), anything else from P + 200.
# A slot is claimed under a lock in $EF_PORT_DIR by writing the claiming shell's
# pid into it; a slot whose owner has exited is free again, so a test killed
# before its trap ran leaves nothing behind. ef_port_claim sets BASE_PORT.
EF_PORT_DIR=${EF_PORT_DIR:-/tmp/edgefed-test-ports}
EF_PORT_SLOTS=40
EF_PORT_SPAN=300

# true if a TCP port in P .. P + EF_PORT_SPAN - 1 is listening now
ef_port_range_busy() {
    ss -Hltn 2>/dev/null | awk -v lo="$1" -v hi="$(($1 + EF_PORT_SPAN))" '
        { n = split($4, a, ":"); p = a[n] + 0; if (p >= lo && p < hi) busy = 1 }
        END { exit busy ? 0 : 1 }'
}

ef_port_claim() {
    mkdir -p "$EF_PORT_DIR"
    local lock slot owner try
    exec {lock}>"$EF_PORT_DIR/.lock"
    flock "$lock"
    BASE_PORT=
    for try in $(seq 0 $((EF_PORT_SLOTS - 1))); do   # 7 and 40 coprime: every slot once
        slot=$((($$ + try * 7) % EF_PORT_SLOTS))
        owner=$(cat "$EF_PORT_DIR/$slot" 2>/dev/null || true)
        [ -n "$owner" ] && kill -0 "$owner" 2>/dev/null && continue
        ef_port_range_busy $((20000 + slot * EF_PORT_SPAN)) && continue
        echo $$ >"$EF_PORT_DIR/$slot"
        BASE_PORT=$((20000 + slot * EF_PORT_SPAN))
        EF_PORT_SLOT=$slot
        break
    done
    flock -u "$lock"
    exec {lock}>&-
    [ -n "$BASE_PORT" ] || { echo "ports.bash: no free port range" >&2; return 1; }
}

# gives the slot back at once (not needed for correctness: an exited owner frees it)
ef_port_release() {
    [ -n "${EF_PORT_SLOT:-}" ] || return 0
    [ "$(cat "$EF_PORT_DIR/$EF_PORT_SLOT" 2>/dev/null)" = "$$" ] && rm -f "$EF_PORT_DIR/$EF_PORT_SLOT"
    EF_PORT_SLOT=
}
