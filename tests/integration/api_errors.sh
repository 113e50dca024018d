#!/usr/bin/env bash
# api_errors.sh: every refusal of the HTTP API of a real node is JSON
# ({"error": text, "code": ENAME}, Content-Type application/json), sent over raw
# sockets so that nothing tidies the requests up: an HTTP/1.1 request without Host,
# header names that are not tokens, headers over EF_API_HEADER_MAX, an over-long
# target, unknown routes and methods. The node still answers a good request after.
# (What libmicrohttpd 0.9.75 refuses before it calls the server at all stays its
# own HTML page: see docs/api.md, "Errors".)
set -euo pipefail
: "${EDGEFED:?}" "${EF_TEST_TMP:=/tmp}" "${EF_TEST_OUT:=/tmp}"
E=$EDGEFED
mkdir -p "$EF_TEST_TMP" "$EF_TEST_OUT"
T=$(mktemp -d "$EF_TEST_TMP/api_errors.XXXXXX")
cleanup() {
  "$E" testnet down --dir "$T/net" >/dev/null 2>&1 || true
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$T"; fi
}
trap cleanup EXIT
fail() { echo "api_errors.sh: FAIL: $*" >&2; for f in "$T"/net/*/node.log; do echo "--- $f" >&2; tail -n 20 "$f" >&2 || true; done; exit 1; }

# this test's own ports: P2P from $port, HTTP from $port + 100, others from $port + 200
source "$(dirname "$0")/lib/ports.bash"
ef_port_claim || exit 1
port=$BASE_PORT
"$E" testnet init --dir "$T/net" --validators 1 --base-port "$port" --accounts 2 >/dev/null
"$E" testnet up --dir "$T/net" >/dev/null
HP=$(jq -r '.nodes[0].http' "$T/net/testnet.json" | cut -d: -f2)
for i in $(seq 1 100); do curl -sf "http://127.0.0.1:$HP/status" >/dev/null && break; sleep 0.2; done

python3 - "$HP" <<'PY' || fail "see above"
import json, socket, sys
port = int(sys.argv[1])

def send(raw):
    s = socket.create_connection(('127.0.0.1', port), timeout=5)
    s.sendall(raw)
    buf = b''
    while True:
        try:
            d = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not d: break
        buf += d
        head, sep, body = buf.partition(b'\r\n\r\n')
        cl = [l for l in head.split(b'\r\n') if l.lower().startswith(b'content-length:')]
        if sep and cl and len(body) >= int(cl[0].split(b':')[1]): break
    s.close()
    head, _, body = buf.partition(b'\r\n\r\n')
    lines = head.decode('latin1').split('\r\n')
    status = int(lines[0].split()[1]) if lines[0].startswith('HTTP/') else 0
    hdrs = {l.split(':', 1)[0].strip().lower(): l.split(':', 1)[1].strip() for l in lines[1:] if ':' in l}
    return status, hdrs, body

H = b'Host: api\r\n'
cases = [
    ('HTTP/1.1 without Host', b'GET /status HTTP/1.1\r\n\r\n', 400, 'EINVAL'),
    ('space in a header name', b'GET /status HTTP/1.1\r\n' + H + b'Bad Name: x\r\n\r\n', 400, 'EINVAL'),
    ('parenthesis in a header name', b'GET /status HTTP/1.1\r\n' + H + b'Bad(x): y\r\n\r\n', 400, 'EINVAL'),
    ('slash in a header name', b'GET /status HTTP/1.1\r\n' + H + b'a/b: y\r\n\r\n', 400, 'EINVAL'),
    ('headers over 16 KiB', b'GET /status HTTP/1.1\r\n' + H + b'X-Big: ' + b'a' * 20000 + b'\r\n\r\n', 431, 'ETOOBIG'),
    ('target over 512 bytes', b'GET /' + b'a' * 600 + b' HTTP/1.1\r\n' + H + b'\r\n', 414, 'ETOOBIG'),
    ('unknown route', b'GET /nope HTTP/1.1\r\n' + H + b'Connection: close\r\n\r\n', 404, 'ENOTFOUND'),
    ('unknown route under a prefix', b'GET /blocksX HTTP/1.1\r\n' + H + b'Connection: close\r\n\r\n', 404, 'ENOTFOUND'),
    ('method not allowed', b'DELETE /status HTTP/1.1\r\n' + H + b'Connection: close\r\n\r\n', 405, 'EINVAL'),
    ('body over 256 KiB announced', b'POST /txs HTTP/1.1\r\n' + H + b'Content-Type: application/json\r\nContent-Length: 300000\r\n\r\n', 413, 'ETOOBIG'),
]
bad = 0
for name, raw, want, code in cases:
    st, hdrs, body = send(raw)
    try:
        j = json.loads(body)
        ok = (st == want and hdrs.get('content-type') == 'application/json'
              and j.get('code') == code and isinstance(j.get('error'), str) and j['error'])
    except ValueError:
        ok = False
    print('%-32s %s  HTTP %s %s %s' % (name, 'ok  ' if ok else 'FAIL', st, hdrs.get('content-type'), body[:90]))
    bad += not ok
# HTTP/1.0 needs no Host; well-formed names pass
st, hdrs, body = send(b'GET /status HTTP/1.0\r\nX-Ok_1.b~: v\r\n\r\n')
print('%-32s %s  HTTP %s' % ('HTTP/1.0 without Host', 'ok  ' if st == 200 else 'FAIL', st))
bad += st != 200 or 'chain_id' not in json.loads(body)
sys.exit(1 if bad else 0)
PY
curl -sf "http://127.0.0.1:$HP/status" | jq -e .height >/dev/null || fail "node unhealthy after the malformed requests"
echo "api_errors.sh: all ok"
