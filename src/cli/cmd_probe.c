/* cmd_probe.c: `edgefed p2p-probe`: sends hostile input to a node's P2P port, for
 * the integration tests (and for anyone checking a node's defences by hand). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "cli/cli.h"
#include "consensus/ef_msg.h"
#include "ledger/ef_tx.h"
#include "net/ef_wire.h"

static int probe_connect(const char *addr)
{
    char host[64];
    const char *c = strrchr(addr, ':');
    if (!c || (size_t)(c - addr) >= sizeof host) return -1;
    memcpy(host, addr, (size_t)(c - addr));
    host[c - addr] = 0;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(c + 1))};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) return -1;
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

int ef_cmd_p2p_probe(int argc, char **argv)
{
    const char *usage =
        "usage: edgefed p2p-probe --addr IP:PORT --chain ID --kind KIND [--key FILE]\n"
        "  KIND: garbage      101 random bytes instead of a hello\n"
        "        unknown-key  a valid handshake with a fresh key the node does not know\n"
        "        oversize     after a handshake (with --key), a frame longer than the maximum\n"
        "        badmac       after a handshake, a frame with a flipped ciphertext bit\n"
        "        badsig-tx    after a handshake, a transaction with a bad signature\n"
        "        cons-nonval  after a handshake as a non-validator, a consensus message\n"
        "        cons-badsig  after a handshake (with a validator's --key), a prevote for\n"
        "                     --height H whose signature is wrong\n"
        "        equivocate   after a handshake (with a validator's --key), two precommits\n"
        "                     of that validator for one height (--height H, or the node's\n"
        "                     height + 1 from its STATUS) and round (--round R, default 0)\n"
        "                     for two different values: a double vote, both signed\n"
        "  Prints \"closed\" if the node closed the connection, \"open\" otherwise.\n";
    if (ef_cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    const char *addr = ef_cli_opt(argc, argv, "addr", NULL);
    const char *chain = ef_cli_opt(argc, argv, "chain", NULL);
    const char *kind = ef_cli_opt(argc, argv, "kind", NULL);
    const char *keyf = ef_cli_opt(argc, argv, "key", NULL);
    if (!addr || !chain || !kind) {
        fputs(usage, stderr);
        return 2;
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
            ef_msg m;
            memset(&m, 0, sizeof m);
            m.type = EF_MSG_PREVOTE;
            snprintf(m.chain, sizeof m.chain, "%s", chain);
            m.height = strtoull(ef_cli_opt(argc, argv, "height", "1"), NULL, 10);
            m.round = 0;
            m.has_value = false;
            uint8_t *enc = NULL;
            size_t el = 0;
            if (ef_msg_sign_encode(&m, &kp, &enc, &el) == 0) {
                enc[el - 1] ^= 0x10;
                ef_sess_seal(&s, EF_P2P_CONSENSUS, enc, el, &w);
            }
            free(enc);
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
