#!/usr/bin/env bash
# browser_slices.sh: the explorer's network-slice card in Debian's chromium
# (playwright-core), on the ledgers slices_proof.sh sets up: on domain a's node
# the template (its content-hash id) and the instance with its lifecycle,
# administrative and operational states and history; on the federation the
# end-to-end slice with both parts and each part's proofs (domain transaction,
# height, anchored or certified, verified). Screenshots go to
# $EF_TEST_OUT/browser/slices-*.png.
set -euo pipefail
: "${EDGEFED:?}" "${EF_SRC:?}"
MODULES=${EF_BROWSER_MODULES:-$EF_SRC/tests/browser/node_modules}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "browser_slices.sh: FAIL: $CHROMIUM missing (scripts/setup installs chromium)" >&2; exit 1; }
[ -d "$MODULES/playwright-core" ] || { echo "browser_slices.sh: FAIL: run scripts/setup" >&2; exit 1; }
EF_SLICES_BROWSER=1 EF_BROWSER_MODULES=$MODULES CHROMIUM=$CHROMIUM exec bash "$(dirname "$0")/slices_proof.sh"
