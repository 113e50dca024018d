#!/usr/bin/env python3
"""flood.py: the mempool flood of tests/integration/node_mempool.sh.

Fresh Ed25519 keys (no account: neither registered nor funded) sign bank
transfers with future nonces (1..K: never executable, they wait for nonce 0
forever) and, for one key in ten, nonce 0; they are submitted at a fixed rate
through the validators' admin sockets (`submit HEX`), round robin, until the
duration ends. Transactions are built as docs/signing.md says (Ed25519 over
0x10 || body; BLAKE2b-256 hash). Prints one JSON line: how many were sent, how
many admitted, and the rejections by error name.

Exit 77 if the python `cryptography` package is missing (the test is skipped).
"""
import argparse
import hashlib
import json
import os
import socket
import struct
import sys
import threading
import time

try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives import serialization
except ImportError:
    print("flood.py: python3 cryptography missing", file=sys.stderr)
    sys.exit(77)


def s_(b):
    return struct.pack("<I", len(b)) + b


def build_tx(sk, pub, chain, nonce, args):
    body = (s_(chain.encode()) + pub + struct.pack("<Q", nonce) + s_(b"bank") + s_(b"transfer") + s_(args))
    assert len(body) <= 1024
    sig = sk.sign(b"\x10" + body)
    return body + sig


class Conn:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.lock = threading.Lock()
        self.admitted = 0
        self.rejected = {}
        self.replies = 0
        self.th = threading.Thread(target=self.reader, daemon=True)
        self.th.start()

    def reader(self):
        buf = b""
        while True:
            try:
                d = self.sock.recv(65536)
            except OSError:
                return
            if not d:
                return
            buf += d
            *lines, buf = buf.split(b"\n")
            with self.lock:
                for ln in lines:
                    w = ln.decode().split()
                    if not w:
                        continue
                    if w[0] == "admitted":
                        self.admitted += 1
                        self.replies += 1
                    elif w[0] == "rejected":
                        self.rejected[w[2]] = self.rejected.get(w[2], 0) + 1
                        self.replies += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sock", action="append", required=True)
    ap.add_argument("--chain", required=True)
    ap.add_argument("--rate", type=float, default=2000.0, help="transactions per second, in all")
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--future", type=int, default=8, help="future nonces per key (1..K)")
    ap.add_argument("--stop-file", help="stop early once this file exists")
    a = ap.parse_args()

    conns = [Conn(p) for p in a.sock]
    to = os.urandom(32).hex()
    args = ('{"to":"%s","amount":1}' % to).encode()
    sent = 0
    t0 = time.monotonic()
    key_i = 0
    batch = []
    while True:
        now = time.monotonic()
        if now - t0 >= a.duration or (a.stop_file and os.path.exists(a.stop_file)):
            break
        due = int((now - t0) * a.rate)
        while sent < due:
            if not batch:
                sk = Ed25519PrivateKey.from_private_bytes(os.urandom(32))
                pub = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
                nonces = [0] if key_i % 10 == 9 else list(range(1, a.future + 1))
                batch = [build_tx(sk, pub, a.chain, n, args) for n in nonces]
                key_i += 1
            tx = batch.pop()
            c = conns[sent % len(conns)]
            c.sock.sendall(b"submit " + tx.hex().encode() + b"\n")
            sent += 1
        time.sleep(0.005)
    # wait (a little) for the admission replies
    t1 = time.monotonic()
    while time.monotonic() - t1 < 5 and sum(c.replies for c in conns) < sent:
        time.sleep(0.05)
    rej = {}
    adm = 0
    for c in conns:
        with c.lock:
            adm += c.admitted
            for k, v in c.rejected.items():
                rej[k] = rej.get(k, 0) + v
    print(json.dumps({"sent": sent, "keys": key_i, "admitted": adm, "rejected": rej,
                      "seconds": round(time.monotonic() - t0, 2)}))


if __name__ == "__main__":
    main()
