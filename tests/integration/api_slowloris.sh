#!/usr/bin/env bash
# api_slowloris.sh: the HTTP API of a real node stays up under a slowloris attack
# and a connection hog. An attacker on 127.0.0.2 opens 300 connections and trickles
# one header byte per second into each (every byte would reset an idle timer); a
# hog on 127.0.0.4 opens 120 keep-alive connections and keeps them busy. With the
# default limits (conn_per_ip 32, request_s 10) each address gets at most 32
# connections, an honest client on 127.0.0.3 gets GET /status answered within 1 s
# throughout, and every trickling connection is closed at the 10 s request
# deadline although it never went idle.
set -euo pipefail
: "${EDGEFED:?}" "${EF_TEST_TMP:=/tmp}" "${EF_TEST_OUT:=/tmp}"
E=$EDGEFED
mkdir -p "$EF_TEST_TMP" "$EF_TEST_OUT"
T=$(mktemp -d "$EF_TEST_TMP/api_slowloris.XXXXXX")
cleanup() {
  "$E" testnet down --dir "$T/net" >/dev/null 2>&1 || true
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$T"; fi
}
trap cleanup EXIT
fail() { echo "api_slowloris.sh: FAIL: $*" >&2; for f in "$T"/net/*/node.log; do echo "--- $f" >&2; tail -n 20 "$f" >&2 || true; done; exit 1; }

# this test's own ports: P2P from $port, HTTP from $port + 100, others from $port + 200
source "$(dirname "$0")/lib/ports.bash"
ef_port_claim || exit 1
port=$BASE_PORT
"$E" testnet init --dir "$T/net" --validators 1 --base-port "$port" --accounts 2 >/dev/null
"$E" testnet up --dir "$T/net" >/dev/null
HP=$(jq -r '.nodes[0].http' "$T/net/testnet.json" | cut -d: -f2)
for i in $(seq 1 100); do curl -sf "http://127.0.0.1:$HP/status" >/dev/null && break; sleep 0.2; done
pid=$(cat "$T/net/v0/pid" 2>/dev/null || true)

python3 - "$HP" <<'PY' || fail "see above"
import json, socket, sys, time
port = int(sys.argv[1])
PER_IP, DEADLINE, IDLE = 32, 10.0, 30.0

def conn(src):
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(2)
    s.connect(('127.0.0.1', port))
    return s

def alive(s):
    """False once the server closed s (EOF or reset)."""
    s.setblocking(False)
    try:
        d = s.recv(4096)
        return d != b''            # a closed connection reads b''
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        s.setblocking(True)

def status(src):
    """GET /status from src on a fresh connection; seconds to the answer."""
    t = time.monotonic()
    s = conn(src)
    s.settimeout(5)
    s.sendall(b'GET /status HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n')
    buf = b''
    while True:
        d = s.recv(65536)
        if not d: break
        buf += d
    s.close()
    head, _, body = buf.partition(b'\r\n\r\n')
    assert head.startswith(b'HTTP/1.1 200'), head[:100]
    json.loads(body)
    return time.monotonic() - t

# the attacker: 300 connections, each a request line and then one header byte a second
t0 = time.monotonic()
slow = []
for i in range(300):
    try:
        s = conn('127.0.0.2')
        s.sendall(b'GET /status HTTP/1.1\r\nHost: api\r\nX-Slow: ')
        slow.append(s)
    except OSError:
        pass                       # refused outright: as good as closed
# the hog: 120 keep-alive connections, each with a request answered and kept open
hog = []
for i in range(120):
    try:
        s = conn('127.0.0.4')
        s.sendall(b'GET /status HTTP/1.1\r\nHost: api\r\n\r\n')
        hog.append(s)
    except OSError:
        pass
time.sleep(1.0)
open_slow = [s for s in slow if alive(s)]
open_hog = [s for s in hog if alive(s)]
print('attacker connections still open after 1 s: %d of %d; hog: %d of %d'
      % (len(open_slow), len(slow), len(open_hog), len(hog)))
assert 0 < len(open_slow) <= PER_IP, 'per-address limit not applied to the attacker'
assert 0 < len(open_hog) <= PER_IP, 'per-address limit not applied to the hog'

worst = 0.0
closed_at = {}
while time.monotonic() - t0 < DEADLINE + 4:
    now = time.monotonic() - t0
    for s in open_slow:            # one more header byte into each open one
        if id(s) in closed_at: continue
        try:
            s.sendall(b'a')
        except OSError:
            closed_at[id(s)] = now
            continue
        if not alive(s): closed_at[id(s)] = now
    for s in open_hog:             # the hog keeps its connections busy
        try:
            s.sendall(b'GET /status HTTP/1.1\r\nHost: api\r\n\r\n')
            alive(s)
        except OSError:
            pass
    d = status('127.0.0.3')
    worst = max(worst, d)
    assert d < 1.0, 'GET /status took %.2f s at t=%.1f s' % (d, now)
    time.sleep(max(0.0, 1.0 - d))
print('honest GET /status: slowest answer %.3f s' % worst)
still = [s for s in open_slow if id(s) not in closed_at]
assert not still, '%d trickling connections outlived the request deadline' % len(still)
times = sorted(closed_at.values())
print('trickling connections closed between t=%.1f s and t=%.1f s (deadline %.0f s, idle timeout %.0f s)'
      % (times[0], times[-1], DEADLINE, IDLE))
assert times[0] >= DEADLINE - 1.5 and times[-1] <= DEADLINE + 3, 'closed at the wrong time'
PY
m=$(curl -sf "http://127.0.0.1:$HP/metrics") || fail "metrics"
n=$(grep '^edgefed_http_deadline_closed_total ' <<<"$m" | cut -d' ' -f2)
[ "${n:-0}" -ge 1 ] || fail "metrics: edgefed_http_deadline_closed_total ${n:-missing}"
curl -sf "http://127.0.0.1:$HP/status" | jq -e .height >/dev/null || fail "node unhealthy after the attack"
echo "api_slowloris.sh: deadline-closed connections counted: $n"
echo "api_slowloris.sh: all ok"
