#!/usr/bin/env bash
# browser_committee.sh: the explorer's committee epochs on a private domain
# ledger in Debian's chromium (playwright-core), signed in with a member's read
# token; a page without a token, with an expired, a forged or a non-member's one
# is refused with the node's reason. Runs committee_token.sh with the browser.
# The screenshot goes to $EF_TEST_OUT/browser/committee.png.
set -euo pipefail
: "${EDGEFED:?}" "${EF_SRC:?}"
MODULES=${EF_BROWSER_MODULES:-$EF_SRC/tests/browser/node_modules}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "browser_committee.sh: FAIL: $CHROMIUM missing (scripts/setup installs chromium)" >&2; exit 1; }
[ -d "$MODULES/playwright-core" ] || { echo "browser_committee.sh: FAIL: run scripts/setup" >&2; exit 1; }
EF_COMMITTEE_BROWSER=1 EF_BROWSER_MODULES=$MODULES CHROMIUM=$CHROMIUM exec bash "$(dirname "$0")/committee_token.sh"
