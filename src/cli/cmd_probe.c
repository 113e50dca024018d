/* cmd_probe.c: `edgefed p2p-probe`: sends hostile input to a node's P2P port, for
 * the integration tests (and for anyone checking a node's defences by hand). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "cli/cli.h"
#include "consensus/ef_msg.h"
#include "ledger/ef_tx.h"
#include "net/ef_wire.h"

static int probe_parse(struct sockaddr_in *sa, const char *addr)
{
    char host[64];
    const char *c = strrchr(addr, ':');
    if (!c || (size_t)(c - addr) >= sizeof host) return -1;
    memcpy(host, addr, (size_t)(c - addr));
    host[c - addr] = 0;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)atoi(c + 1));
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static int probe_connect(const char *addr)
{
    struct sockaddr_in sa;
    if (probe_parse(&sa, addr)) return -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
        close(fd);
        return -1;
    }
    return fd;
}

static int probe_send(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
        if (k <= 0) return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Waits up to ms for the peer to close; true if it did. */
static bool probe_closed(int fd, int ms)
{
    uint8_t buf[4096];
    for (int t = 0; t < ms; t += 50) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) > 0) {
            ssize_t k = recv(fd, buf, sizeof buf, 0);
            if (k <= 0) return true;
        }
    }
    return false;
}

/* the node's height, from the STATUS it sends once the session is open */
typedef struct probe_peer {
    bool have_status;
    uint64_t height;
} probe_peer;

static int probe_allow(void *arg, const ef_pub *pub) { (void)arg; (void)pub; return 0; }
static int probe_msg(void *arg, uint8_t t, const uint8_t *p, size_t n)
{
    probe_peer *pp = arg;
    if (pp && t == EF_P2P_STATUS && n >= 8) {
        pp->height = ef_get_u64le(p);
        pp->have_status = true;
    }
    return 0;
}
static const ef_sess_ops probe_ops = {probe_allow, probe_msg};

/* Reads frames for up to ms until the node's STATUS came; true if it did. */
static bool probe_wait_status(int fd, ef_sess *s, probe_peer *pp, int ms)
{
    uint8_t buf[4096];
    ef_wr out;
    ef_wr_init(&out);
    for (int t = 0; t < ms && !pp->have_status; t += 50) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        ssize_t k = recv(fd, buf, sizeof buf, 0);
        if (k <= 0 || ef_sess_feed(s, buf, (size_t)k, &probe_ops, pp, &out)) break;
        ef_wr_reset(&out);
    }
    ef_wr_free(&out);
    return pp->have_status;
}

/* Completes a real handshake with key kp; returns 0 when the session is open. */
static int probe_handshake(int fd, ef_sess *s, const ef_keypair *kp, const char *chain,
                           probe_peer *pp)
{
    ef_hash net;
    ef_wire_netid(&net, chain);
    ef_wr out;
    ef_wr_init(&out);
    ef_sess_init(s, kp, &net, true, &out);
    int rc = probe_send(fd, out.buf, out.len);
    ef_wr_reset(&out);
    uint8_t buf[4096];
    for (int i = 0; rc == 0 && i < 100 && !ef_sess_is_open(s); i++) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        ssize_t k = recv(fd, buf, sizeof buf, 0);
        if (k <= 0) { rc = -1; break; }
        if (ef_sess_feed(s, buf, (size_t)k, &probe_ops, pp, &out)) { rc = -1; break; }
        if (out.len && probe_send(fd, out.buf, out.len)) rc = -1;
        ef_wr_reset(&out);
    }
    ef_wr_free(&out);
    return rc == 0 && ef_sess_is_open(s) ? 0 : -1;
}

static uint64_t probe_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One attacking connection of preauth-flood. */
typedef struct probe_fconn {
    int fd;                 /* -1: not open */
    bool connecting;
} probe_fconn;

/* preauth-flood: conns connections that each send a hello presenting pub (a
 * validator's public key: no proof of possession yet), then a frame header
 * announcing `frame` bytes, then `chunk` bytes every interval_ms, for `seconds`.
 * A connection the node closes is reopened (at most rate a second). With
 * sources > 0 the connections come from 127.0.0.2 .. 127.0.0.(sources + 1).
 * Prints "opened O closed C sent B". */
static int probe_flood(const struct sockaddr_in *to, const char *chain, const ef_pub *pub,
                       int conns, int seconds, uint32_t frame, size_t chunk, int interval_ms,
                       int sources, int rate)
{
    probe_fconn *pc = calloc((size_t)conns, sizeof *pc);
    struct pollfd *pf = calloc((size_t)conns, sizeof *pf);
    uint8_t *junk = calloc(1, chunk ? chunk : 1);
    if (!pc || !pf || !junk) {
        free(pc);
        free(pf);
        free(junk);
        return 1;
    }
    ef_random(junk, chunk);
    uint8_t prefix[EF_HELLO_SIZE + 4];
    ef_hash net;
    ef_wire_netid(&net, chain);
    memcpy(prefix, "EFN1", 4);
    prefix[4] = EF_WIRE_VERSION;
    memcpy(prefix + 5, net.b, 32);
    ef_random(prefix + 37, 32);            /* an ephemeral key nobody will use */
    memcpy(prefix + 69, pub->b, 32);
    ef_put_u32le(prefix + EF_HELLO_SIZE, frame);
    for (int i = 0; i < conns; i++) pc[i].fd = -1;
    uint64_t opened = 0, closed = 0, sent = 0;
    uint64_t start = probe_now_ms(), end = start + (uint64_t)seconds * 1000;
    uint64_t sec_start = start;
    int budget = rate;
    uint8_t sink[4096];
    for (uint64_t now = start; now < end; now = probe_now_ms()) {
        if (now - sec_start >= 1000) {
            sec_start = now;
            budget = rate;
        }
        for (int i = 0; i < conns; i++) {
            probe_fconn *c = &pc[i];
            if (c->fd >= 0 || budget <= 0) continue;
            int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            if (fd < 0) break;
            if (sources > 0) {
                struct sockaddr_in src = {.sin_family = AF_INET};
                src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(i % sources));
                if (bind(fd, (struct sockaddr *)&src, sizeof src)) {
                    close(fd);
                    continue;
                }
            }
            int rc = connect(fd, (const struct sockaddr *)to, sizeof *to);
            if (rc && errno != EINPROGRESS) {
                close(fd);
                continue;
            }
            c->fd = fd;
            c->connecting = true;
            opened++;
            budget--;
        }
        for (int i = 0; i < conns; i++) {
            pf[i].fd = pc[i].fd;
            pf[i].events = pc[i].connecting ? POLLOUT : POLLIN;
            pf[i].revents = 0;
        }
        poll(pf, (nfds_t)conns, 0);
        for (int i = 0; i < conns; i++) {
            probe_fconn *c = &pc[i];
            if (c->fd < 0) continue;
            bool dead = false;
            if (c->connecting && (pf[i].revents & (POLLOUT | POLLERR | POLLHUP))) {
                int err = 0;
                socklen_t el = sizeof err;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
                if (err || send(c->fd, prefix, sizeof prefix, MSG_NOSIGNAL | MSG_DONTWAIT) !=
                               (ssize_t)sizeof prefix)
                    dead = true;
                else
                    c->connecting = false;
            } else if (!c->connecting) {
                if (pf[i].revents & (POLLIN | POLLERR | POLLHUP)) {
                    ssize_t k = recv(c->fd, sink, sizeof sink, MSG_DONTWAIT);
                    if (k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) dead = true;
                }
                if (!dead && chunk) {
                    ssize_t k = send(c->fd, junk, chunk, MSG_NOSIGNAL | MSG_DONTWAIT);
                    if (k > 0) sent += (uint64_t)k;
                    else if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK) dead = true;
                }
            }
            if (dead) {
                close(c->fd);
                c->fd = -1;
                c->connecting = false;
                closed++;
            }
        }
        struct timespec ts = {interval_ms / 1000, (long)(interval_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < conns; i++)
        if (pc[i].fd >= 0) close(pc[i].fd);
    printf("opened %llu closed %llu sent %llu\n", (unsigned long long)opened,
           (unsigned long long)closed, (unsigned long long)sent);
    free(pc);
    free(pf);
    free(junk);
    return 0;
}

int ef_cmd_p2p_probe(int argc, char **argv)
{
    const char *usage =
        "usage: edgefed p2p-probe --addr IP:PORT --chain ID --kind KIND [--key FILE] [--height H] [--round R]\n"
        "       [--pub HEX] [--conns N] [--seconds S] [--frame N] [--chunk B] [--interval-ms MS]\n"
        "       [--sources K] [--rate R]\n"
        "  KIND: garbage      101 random bytes instead of a hello\n"
        "        unknown-key  a valid handshake with a fresh key the node does not know\n"
        "        oversize     after a handshake (with --key), a frame longer than the maximum\n"
        "        badmac       after a handshake, a frame with a flipped ciphertext bit\n"
        "        badsig-tx    after a handshake, a transaction with a bad signature\n"
        "        cons-nonval  after a handshake as a non-validator, a consensus message\n"
        "        cons-badsig  after a handshake (with a validator's --key), two prevotes\n"
        "                     (nil, then a value) for --height H and --round R (0) whose\n"
        "                     signatures are wrong\n"
        "        preauth-flood  --conns N connections (300) that present --pub HEX (a\n"
        "                     validator's public key) or --key's, announce a --frame\n"
        "                     bytes long (EF_FRAME_MAX) first frame and send --chunk\n"
        "                     bytes (4096) every --interval-ms (20) for --seconds (8),\n"
        "                     reopening what the node closes (at most --rate a second,\n"
        "                     500), from 127.0.0.2 .. 127.0.0.(--sources + 1) if given;\n"
        "                     prints \"opened O closed C sent B\"\n"
        "        equivocate   after a handshake (with a validator's --key), two precommits\n"
        "                     of that validator for one height (--height H, or the node's\n"
        "                     height + 1 from its STATUS) and round (--round R, default 0)\n"
        "                     for two different values: a double vote, both signed\n"
        "  Prints \"closed\" if the node closed the connection, \"open\" otherwise.\n";
    static const char *const spec[] = {"addr=", "chain=", "kind=", "key=", "height=", "pub=",
                                       "conns=", "seconds=", "frame=", "chunk=", "interval-ms=",
                                       "sources=", "rate=", "round=", NULL};
    int checked = ef_cli_check(argc, argv, usage, spec, 0);
    if (checked >= 0) return checked;
    const char *addr = ef_cli_opt(argc, argv, "addr", NULL);
    const char *chain = ef_cli_opt(argc, argv, "chain", NULL);
    const char *kind = ef_cli_opt(argc, argv, "kind", NULL);
    const char *keyf = ef_cli_opt(argc, argv, "key", NULL);
    if (!addr || !chain || !kind) {
        fputs(usage, stderr);
        return 2;
    }
    if (!strcmp(kind, "preauth-flood")) {
        struct sockaddr_in to;
        ef_pub pub;
        ef_keypair fk;
        const char *pubhex = ef_cli_opt(argc, argv, "pub", NULL);
        if (probe_parse(&to, addr)) {
            fprintf(stderr, "edgefed p2p-probe: bad --addr %s\n", addr);
            return 2;
        }
        if (pubhex) {
            if (strlen(pubhex) != 64 || ef_unhex(pub.b, 32, pubhex)) {
                fprintf(stderr, "edgefed p2p-probe: --pub wants 64 hex digits\n");
                return 2;
            }
        } else if (keyf) {
            if (ef_key_load(&fk, keyf)) {
                fprintf(stderr, "edgefed p2p-probe: cannot load %s\n", keyf);
                return 1;
            }
            pub = fk.pub;
        } else {
            ef_keypair_generate(&fk);
            pub = fk.pub;
        }
        long conns = strtol(ef_cli_opt(argc, argv, "conns", "300"), NULL, 10);
        long secs = strtol(ef_cli_opt(argc, argv, "seconds", "8"), NULL, 10);
        unsigned long frame = strtoul(ef_cli_opt(argc, argv, "frame", "0"), NULL, 10);
        long chunk = strtol(ef_cli_opt(argc, argv, "chunk", "4096"), NULL, 10);
        long ival = strtol(ef_cli_opt(argc, argv, "interval-ms", "20"), NULL, 10);
        long sources = strtol(ef_cli_opt(argc, argv, "sources", "0"), NULL, 10);
        long rate = strtol(ef_cli_opt(argc, argv, "rate", "500"), NULL, 10);
        if (conns < 1 || conns > 4096 || secs < 1 || secs > 3600 || frame > UINT32_MAX ||
            chunk < 0 || chunk > (1 << 20) || ival < 1 || ival > 10000 || sources < 0 ||
            sources > 250 || rate < 1) {
            fputs(usage, stderr);
            return 2;
        }
        return probe_flood(&to, chain, &pub, (int)conns, (int)secs,
                           frame ? (uint32_t)frame : EF_FRAME_MAX, (size_t)chunk, (int)ival,
                           (int)sources, (int)rate);
    }
    int fd = probe_connect(addr);
    if (fd < 0) {
        fprintf(stderr, "edgefed p2p-probe: cannot connect to %s\n", addr);
        return 1;
    }
    ef_keypair kp;
    if (keyf) {
        if (ef_key_load(&kp, keyf)) {
            fprintf(stderr, "edgefed p2p-probe: cannot load %s\n", keyf);
            close(fd);
            return 1;
        }
    } else {
        ef_keypair_generate(&kp);
    }
    ef_sess s;
    memset(&s, 0, sizeof s);
    bool closed;
    int rc = 0;
    if (!strcmp(kind, "garbage")) {
        uint8_t junk[EF_HELLO_SIZE];
        ef_random(junk, sizeof junk);
        probe_send(fd, junk, sizeof junk);
        closed = probe_closed(fd, 3000);
    } else if (!strcmp(kind, "unknown-key")) {
        ef_keypair_generate(&kp);
        closed = probe_handshake(fd, &s, &kp, chain, NULL) != 0 || probe_closed(fd, 3000);
    } else {
        probe_peer pp = {0};
        if (probe_handshake(fd, &s, &kp, chain, &pp)) {
            fprintf(stderr, "edgefed p2p-probe: handshake refused (is --key a known key?)\n");
            ef_sess_free(&s);
            close(fd);
            return 1;
        }
        ef_wr w;
        ef_wr_init(&w);
        if (!strcmp(kind, "oversize")) {
            uint8_t hdr[4];
            ef_put_u32le(hdr, EF_FRAME_MAX + 1);
            ef_wr_raw(&w, hdr, 4);
            uint8_t filler[4096] = {0};
            ef_wr_raw(&w, filler, sizeof filler);
        } else if (!strcmp(kind, "badmac")) {
            ef_sess_seal(&s, EF_P2P_STATUS, "0123456789abcdef0123456789abcdef01234567", 40, &w);
            w.buf[10] ^= 0x20;
        } else if (!strcmp(kind, "cons-badsig")) {
            /* A vote from its signer's own session counts at once and has its
             * signature checked only when others are to rely on it; a second,
             * conflicting vote of that signer is checked on arrival. So two
             * prevotes (nil, then a value), both with broken signatures: the
             * second is refused as a bad signature whatever happens to the first. */
            uint64_t h = strtoull(ef_cli_opt(argc, argv, "height", "1"), NULL, 10);
            uint32_t round = (uint32_t)strtoul(ef_cli_opt(argc, argv, "round", "0"), NULL, 10);
            for (int i = 0; i < 2; i++) {
                ef_msg m;
                memset(&m, 0, sizeof m);
                m.type = EF_MSG_PREVOTE;
                snprintf(m.chain, sizeof m.chain, "%s", chain);
                m.height = h;
                m.round = round;
                m.has_value = i == 1;
                if (m.has_value) ef_random(m.value_id.b, sizeof m.value_id.b);
                uint8_t *enc = NULL;
                size_t el = 0;
                if (ef_msg_sign_encode(&m, &kp, &enc, &el) == 0) {
                    enc[el - 1] ^= 0x10;
                    ef_sess_seal(&s, EF_P2P_CONSENSUS, enc, el, &w);
                }
                free(enc);
            }
        } else if (!strcmp(kind, "equivocate")) {
            /* two precommits of --key's validator for one height and round, for two
             * different values: a double vote, each correctly signed */
            const char *hs = ef_cli_opt(argc, argv, "height", NULL);
            uint64_t h = hs ? strtoull(hs, NULL, 10) : 0;
            if (!hs && probe_wait_status(fd, &s, &pp, 3000)) h = pp.height + 1;
            uint32_t round = (uint32_t)strtoul(ef_cli_opt(argc, argv, "round", "0"), NULL, 10);
            for (int i = 0; i < 2 && h > 0 && !rc; i++) {
                ef_msg m;
                memset(&m, 0, sizeof m);
                m.type = EF_MSG_PRECOMMIT;
                snprintf(m.chain, sizeof m.chain, "%s", chain);
                m.height = h;
                m.round = round;
                m.has_value = true;
                ef_random(m.value_id.b, sizeof m.value_id.b);
                uint8_t *enc = NULL;
                size_t el = 0;
                if (ef_msg_sign_encode(&m, &kp, &enc, &el) == 0)
                    ef_sess_seal(&s, EF_P2P_CONSENSUS, enc, el, &w);
                else
                    rc = 2;
                free(enc);
            }
            if (h == 0) {
                fprintf(stderr, "edgefed p2p-probe: no --height and no STATUS from the node\n");
                rc = 1;
            } else if (!rc) {
                fprintf(stderr, "edgefed p2p-probe: double precommit at height %llu round %u\n",
                        (unsigned long long)h, round);
            }
        } else if (!strcmp(kind, "badsig-tx") || !strcmp(kind, "cons-nonval")) {
            ef_tx tx;
            memset(&tx, 0, sizeof tx);
            snprintf(tx.chain_id, sizeof tx.chain_id, "%s", chain);
            tx.sender = kp.pub;
            snprintf(tx.contract, sizeof tx.contract, "bank");
            snprintf(tx.method, sizeof tx.method, "transfer");
            tx.args = (const uint8_t *)"{}";
            tx.args_len = 2;
            (void)ef_tx_sign(&tx, &kp);
            tx.sig.b[5] ^= 1;
            ef_wr txw;
            ef_wr_init(&txw);
            (void)ef_tx_encode(&txw, &tx);
            ef_wr pl;
            ef_wr_init(&pl);
            if (!strcmp(kind, "badsig-tx")) {
                ef_wr_u32(&pl, 1);
                ef_wr_bytes(&pl, txw.buf, txw.len);
                ef_sess_seal(&s, EF_P2P_TXS, pl.buf, pl.len, &w);
            } else {
                ef_sess_seal(&s, EF_P2P_CONSENSUS, txw.buf, txw.len, &w);
            }
            ef_wr_free(&pl);
            ef_wr_free(&txw);
        } else {
            fputs(usage, stderr);
            rc = 2;
        }
        if (!rc) probe_send(fd, w.buf, w.len);
        ef_wr_free(&w);
        closed = probe_closed(fd, 3000);
    }
    ef_sess_free(&s);
    close(fd);
    if (rc) return rc;
    printf("%s\n", closed ? "closed" : "open");
    return 0;
}
