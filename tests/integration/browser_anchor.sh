#!/usr/bin/env bash
# browser_anchor.sh: the explorer's anchored-domains card in Debian's chromium
# (playwright-core), on the federation ledger hierarchy_proof.sh sets up: the
# domain listed with its anchored height, its checkpoints in the detail, a new
# checkpoint shown live. The screenshot goes to $EF_TEST_OUT/browser/anchor.png.
set -euo pipefail
: "${EDGEFED:?}" "${EF_SRC:?}"
MODULES=${EF_BROWSER_MODULES:-$EF_SRC/tests/browser/node_modules}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "browser_anchor.sh: FAIL: $CHROMIUM missing (scripts/setup installs chromium)" >&2; exit 1; }
[ -d "$MODULES/playwright-core" ] || { echo "browser_anchor.sh: FAIL: run scripts/setup" >&2; exit 1; }
EF_ANCHOR_BROWSER=1 EF_BROWSER_MODULES=$MODULES CHROMIUM=$CHROMIUM exec bash "$(dirname "$0")/hierarchy_proof.sh"
