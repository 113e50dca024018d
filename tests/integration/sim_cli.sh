#!/usr/bin/env bash
# sim_cli.sh: `edgefed sim` exit codes, the planted bug is reported with a replay
# command, and that command replays the same violation.
set -euo pipefail
: "${EDGEFED:?}"
out=$(mktemp -d "${TMPDIR:-/tmp}/ef-sim-cli.XXXXXX")
trap 'rm -rf "$out"' EXIT

"$EDGEFED" sim --help | grep -q -- "--planted-bug"
set +e
"$EDGEFED" sim --validators 4 --byzantine 9 >/dev/null 2>&1; rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "bad usage gave $rc, want 2"; exit 1; }

"$EDGEFED" sim --validators 4 --byzantine 1 --seeds 1-20 --heights 5 --loss 0.1 --dup 0.05 \
    --partition 1 --crash 1 > "$out/clean.txt"
grep -q "failed=0" "$out/clean.txt"
grep -q "no violations" "$out/clean.txt"

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
