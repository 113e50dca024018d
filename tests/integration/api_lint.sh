#!/usr/bin/env bash
# api_lint.sh: docs/api.yaml is a valid OpenAPI description by the Redocly CLI's
# strict recommended rules (tests/openapi/redocly.yaml; a warning fails), the lint
# fails on a copy with a rule broken (so it can fail), and every route the API
# serves (the table in src/api/ef_api.c) is documented there.
set -euo pipefail
: "${EF_SRC:?}" "${EF_TEST_TMP:=/tmp}"
fail() { echo "api_lint.sh: FAIL: $*" >&2; exit 1; }
R=$EF_SRC/tests/browser/node_modules/.bin/redocly
[ -x "$R" ] || fail "$R missing: run scripts/setup (npm install in tests/browser)"
T=$(mktemp -d "$EF_TEST_TMP/api-lint.XXXXXX")
trap 'rm -rf "$T"' EXIT
cfg=$EF_SRC/tests/openapi/redocly.yaml
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true

"$R" lint "$EF_SRC/docs/api.yaml" --config "$cfg" --format=stylish >"$T/out" 2>&1 || { cat "$T/out" >&2; fail "docs/api.yaml does not lint"; }
echo "api_lint: docs/api.yaml lints clean"

# control: the first operation without its operationId must fail the lint
awk 'done || !/^      operationId:/ {print; next} {done=1}' "$EF_SRC/docs/api.yaml" >"$T/broken.yaml"
cmp -s "$EF_SRC/docs/api.yaml" "$T/broken.yaml" && fail "the control copy is unchanged"
if "$R" lint "$T/broken.yaml" --config "$cfg" --format=stylish >"$T/out2" 2>&1; then fail "the lint passed a description with an operation missing its operationId"; fi
grep -q "operation-operationId" "$T/out2" || fail "the control failed for another reason: $(cat "$T/out2")"

# every route of the server is a documented path (a prefix route: some path under it)
python3 - "$EF_SRC/src/api/ef_api.c" "$EF_SRC/docs/api.yaml" <<'PY'
import re, sys
src = open(sys.argv[1]).read()
table = src[src.index("ef_api_routes[] = {"):]
table = table[:table.index("};")]
routes = re.findall(r'\{"(GET|POST|PUT|DELETE)",\s*"([^"]+)",\s*\w+,\s*([^}]*)\}', table)
paths = re.findall(r'^  (/[^:]*):\s*$', open(sys.argv[2]).read(), re.M)
if len(routes) < 5: sys.exit("api_lint: could not read the route table (%d routes)" % len(routes))
missing = []
for method, path, flags in routes:
    prefix = "PREFIX" in flags
    ok = any(p == path or (prefix and p.startswith(path)) or (prefix and p.startswith(path.rstrip("/") + "/"))
             or (prefix and p == path.rstrip("/")) for p in paths)
    if not ok: missing.append(method + " " + path)
if missing: sys.exit("api_lint: routes not in docs/api.yaml: " + ", ".join(missing))
print("api_lint: all %d routes are documented" % len(routes))
PY
