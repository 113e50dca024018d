#!/usr/bin/env bash
# sim_cli.sh: `edgefed sim` exit codes, the planted bugs are reported with a replay
# command, and that command replays the same violation; the disk model (power
# losses) runs clean and its figures are printed.
set -euo pipefail
: "${EDGEFED:?}"
out=$(mktemp -d "${TMPDIR:-/tmp}/ef-sim-cli.XXXXXX")
trap 'rm -rf "$out"' EXIT

"$EDGEFED" sim --help | grep -q -- "--planted-bug"
set +e
"$EDGEFED" sim --validators 4 --byzantine 9 >/dev/null 2>&1; rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "bad usage gave $rc, want 2"; exit 1; }
for bad in "--power-loss 1.5" "--power-loss -1" "--power-loss x" "--power-loss" "--power-los 1" \
           "--planted-bug nope" "extra"; do
    set +e
    # shellcheck disable=SC2086
    "$EDGEFED" sim --seeds 1 $bad >/dev/null 2>"$out/err.txt"; rc=$?
    set -e
    [ "$rc" -eq 2 ] || { echo "sim $bad gave $rc, want 2"; exit 1; }
    grep -q "usage: edgefed sim" "$out/err.txt"
done
"$EDGEFED" sim --help | grep -q -- "--power-loss"

"$EDGEFED" sim --validators 4 --byzantine 1 --seeds 1-20 --heights 5 --loss 0.1 --dup 0.05 \
    --partition 1 --crash 1 > "$out/clean.txt"
grep -q "failed=0" "$out/clean.txt"
grep -q "no violations" "$out/clean.txt"

# power losses (every crash one) lose and tear unsynced WAL writes: still clean,
# and the summary counts them
"$EDGEFED" sim --validators 4 --byzantine 1 --seeds 1-30 --heights 5 --loss 0.1 --crash 6 \
    --power-loss 1 > "$out/power.txt"
cat "$out/power.txt"
grep -q "failed=0" "$out/power.txt"
grep -q "power-loss=1" "$out/power.txt"
grep -q "process_crashes=0 " "$out/power.txt"
pl=$(sed -n 's/.* power_losses=\([0-9]*\) (with unsynced writes \([0-9]*\)).*/\1 \2/p' "$out/power.txt")
read -r n_power n_unsynced <<< "$pl"
[ "${n_power:-0}" -gt 30 ] && [ "${n_unsynced:-0}" -gt 0 ] || { echo "power losses not injected: '$pl'"; exit 1; }

set +e
"$EDGEFED" sim --validators 4 --byzantine 1 --seeds 1-1000 --heights 10 --loss 0.3 --partition 2 \
    --planted-bug ignore-lock --max-failures 1 > "$out/bug.txt"; rc=$?
set -e
cat "$out/bug.txt"
[ "$rc" -eq 1 ] || { echo "planted bug not reported (exit $rc)"; exit 1; }
grep -q "VIOLATION seed" "$out/bug.txt"
replay=$(grep -m1 "replay: edgefed sim" "$out/bug.txt" | sed 's/^ *replay: edgefed //')
want=$(grep -m1 "VIOLATION seed" "$out/bug.txt" | sed 's/^VIOLATION seed [0-9]*: //')
set +e
# shellcheck disable=SC2086
"$EDGEFED" $replay > "$out/replay.txt"; rc=$?
set -e
[ "$rc" -eq 1 ] || { echo "replay did not fail (exit $rc)"; exit 1; }
got=$(grep -m1 "VIOLATION seed" "$out/replay.txt" | sed 's/^VIOLATION seed [0-9]*: //')
[ "$got" = "$want" ] || { echo "replay differs: '$got' vs '$want'"; exit 1; }

# sending before the WAL is synced: a power loss makes honest validators
# double-sign, the checker reports it, and the replay command reproduces it
set +e
"$EDGEFED" sim --validators 4 --byzantine 1 --seeds 1-200 --heights 10 --crash 2 --power-loss 1 \
    --planted-bug skip-wal-sync --max-failures 1 > "$out/nosync.txt"; rc=$?
set -e
cat "$out/nosync.txt"
[ "$rc" -eq 1 ] || { echo "skip-wal-sync not reported (exit $rc)"; exit 1; }
grep -q "VIOLATION seed.*signed two different" "$out/nosync.txt"
replay=$(grep -m1 "replay: edgefed sim" "$out/nosync.txt" | sed 's/^ *replay: edgefed //')
echo "$replay" | grep -q -- "--power-loss 1 --planted-bug skip-wal-sync"
want=$(grep -m1 "VIOLATION seed" "$out/nosync.txt" | sed 's/^VIOLATION seed [0-9]*: //')
set +e
# shellcheck disable=SC2086
"$EDGEFED" $replay > "$out/replay2.txt"; rc=$?
set -e
[ "$rc" -eq 1 ] || { echo "skip-wal-sync replay did not fail (exit $rc)"; exit 1; }
got=$(grep -m1 "VIOLATION seed" "$out/replay2.txt" | sed 's/^VIOLATION seed [0-9]*: //')
[ "$got" = "$want" ] || { echo "replay differs: '$got' vs '$want'"; exit 1; }
# the same seed without the bug is clean
# shellcheck disable=SC2086
"$EDGEFED" ${replay% --planted-bug skip-wal-sync} | grep -q "no violations"
# jail: the double-signers' evidence is recorded and they leave the set
"$EDGEFED" sim --validators 4 --byzantine 1 --byzantine-kind equivocate --jail --seeds 1-20 --heights 30 \
    --loss 0.05 > "$out/jail.txt"
cat "$out/jail.txt"
grep -q "no violations" "$out/jail.txt"
grep -q "jail: evidence_recorded=[1-9][0-9]* jailed=20$" "$out/jail.txt" || { echo "not every equivocator jailed"; exit 1; }
set +e
"$EDGEFED" sim --byzantine-kind sometimes >/dev/null 2>&1; rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "bad --byzantine-kind gave $rc, want 2"; exit 1; }
echo "sim_cli: ok"
