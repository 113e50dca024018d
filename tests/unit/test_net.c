/* test_net.c: the P2P session protocol in memory, and two (three) endpoints over
 * real loopback TCP in one libuv loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "base/ef_log.h"
#include "net/ef_net.h"
#include "net/ef_wire.h"

/* ---- in-memory sessions ---- */

typedef struct side {
    ef_keypair kp;
    ef_sess s;
    const ef_pub *allowed;   /* the one key this side accepts */
    int msgs;
    uint8_t last_type;
    uint8_t last[64];
    size_t last_len;
} side;

static int side_allow(void *arg, const ef_pub *pub)
{
    side *sd = arg;
    return memcmp(pub->b, sd->allowed->b, 32) ? EF_EAUTH : 0;
}

static int side_msg(void *arg, uint8_t type, const uint8_t *p, size_t len)
{
    side *sd = arg;
    sd->msgs++;
    sd->last_type = type;
    sd->last_len = EF_MIN(len, sizeof sd->last);
    memcpy(sd->last, p, sd->last_len);
    return 0;
}

static const ef_sess_ops side_ops = {side_allow, side_msg};

/* Sets up dialer a and acceptor b; returns their hellos in wa/wb. */
static void pair_init(side *a, side *b, ef_wr *wa, ef_wr *wb)
{
    memset(a, 0, sizeof *a);
    memset(b, 0, sizeof *b);
    ef_keypair_generate(&a->kp);
    ef_keypair_generate(&b->kp);
    a->allowed = &b->kp.pub;
    b->allowed = &a->kp.pub;
    ef_hash net;
    ef_wire_netid(&net, "test-chain");
    ef_wr_init(wa);
    ef_wr_init(wb);
    assert_int_equal(ef_sess_init(&a->s, &a->kp, &net, true, wa), 0);
    assert_int_equal(ef_sess_init(&b->s, &b->kp, &net, false, wb), 0);
}

/* Delivers what each wrote to the other until both are quiet. */
static void pump(side *a, side *b, ef_wr *wa, ef_wr *wb, int *rca, int *rcb)
{
    *rca = *rcb = 0;
    for (int i = 0; i < 4 && (wa->len || wb->len); i++) {
        ef_wr ta, tb;
        ef_wr_init(&ta);
        ef_wr_init(&tb);
        if (wa->len && b->s.state != EF_SESS_DEAD) *rcb = ef_sess_feed(&b->s, wa->buf, wa->len, &side_ops, b, &tb);
        if (wb->len && a->s.state != EF_SESS_DEAD) *rca = ef_sess_feed(&a->s, wb->buf, wb->len, &side_ops, a, &ta);
        ef_wr_free(wa);
        ef_wr_free(wb);
        *wa = ta;
        *wb = tb;
    }
}

static void pair_open(side *a, side *b)
{
    ef_wr wa, wb;
    int ra, rb;
    pair_init(a, b, &wa, &wb);
    pump(a, b, &wa, &wb, &ra, &rb);
    assert_int_equal(ra, 0);
    assert_int_equal(rb, 0);
    assert_true(ef_sess_is_open(&a->s));
    assert_true(ef_sess_is_open(&b->s));
    ef_wr_free(&wa);
    ef_wr_free(&wb);
}

static void pair_free(side *a, side *b)
{
    ef_sess_free(&a->s);
    ef_sess_free(&b->s);
}

static void test_sess_roundtrip(void **st)
{
    (void)st;
    side a, b;
    pair_open(&a, &b);
    ef_wr w, o;
    ef_wr_init(&w);
    ef_wr_init(&o);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ef_sess_seal(&a.s, EF_P2P_STATUS, "hello", 5, &w), 0);
    /* Deliver byte by byte: framing must reassemble. */
    for (size_t i = 0; i < w.len; i++)
        assert_int_equal(ef_sess_feed(&b.s, w.buf + i, 1, &side_ops, &b, &o), 0);
    assert_int_equal(b.msgs, 3);
    assert_int_equal(b.last_type, EF_P2P_STATUS);
    assert_int_equal(b.last_len, 5);
    assert_memory_equal(b.last, "hello", 5);
    /* And the other way. */
    ef_wr_reset(&w);
    assert_int_equal(ef_sess_seal(&b.s, EF_P2P_TXS, "xy", 2, &w), 0);
    assert_int_equal(ef_sess_feed(&a.s, w.buf, w.len, &side_ops, &a, &o), 0);
    assert_int_equal(a.msgs, 1);
    assert_int_equal(o.len, 0);
    ef_wr_free(&w);
    ef_wr_free(&o);
    pair_free(&a, &b);
}

static void test_sess_unknown_key(void **st)
{
    (void)st;
    side a, b;
    ef_wr wa, wb;
    int ra, rb;
    pair_init(&a, &b, &wa, &wb);
    ef_keypair other;
    ef_keypair_generate(&other);
    b.allowed = &other.pub; /* b does not know a */
    pump(&a, &b, &wa, &wb, &ra, &rb);
    assert_int_equal(rb, EF_EAUTH);
    assert_int_equal(b.s.fail_reason, EF_NR_UNKNOWN_KEY);
    assert_int_equal(b.msgs, 0);
    ef_wr_free(&wa);
    ef_wr_free(&wb);
    pair_free(&a, &b);
}

static void test_sess_wrong_net_and_garbage(void **st)
{
    (void)st;
    side a, b;
    ef_wr wa, wb, o;
    pair_init(&a, &b, &wa, &wb);
    ef_wr_init(&o);
    uint8_t hello[EF_HELLO_SIZE];
    memcpy(hello, wa.buf, sizeof hello);
    hello[10] ^= 1; /* network id */
    assert_int_equal(ef_sess_feed(&b.s, hello, sizeof hello, &side_ops, &b, &o), EF_EPROTO);
    assert_int_equal(b.s.fail_reason, EF_NR_WRONG_NET);
    pair_free(&a, &b);
    ef_wr_free(&wa);
    ef_wr_free(&wb);

    pair_init(&a, &b, &wa, &wb);
    uint8_t junk[EF_HELLO_SIZE];
    memset(junk, 'G', sizeof junk);
    assert_int_equal(ef_sess_feed(&b.s, junk, sizeof junk, &side_ops, &b, &o), EF_EPROTO);
    assert_int_equal(b.s.fail_reason, EF_NR_MALFORMED);
    /* A dead session refuses everything after. */
    assert_int_equal(ef_sess_feed(&b.s, junk, 1, &side_ops, &b, &o), EF_ECLOSED);
    pair_free(&a, &b);
    ef_wr_free(&wa);
    ef_wr_free(&wb);
    ef_wr_free(&o);
}

static void test_sess_bad_frames(void **st)
{
    (void)st;
    side a, b;
    ef_wr w, o;
    ef_wr_init(&w);
    ef_wr_init(&o);

    /* Oversize length prefix: rejected before any payload arrives. */
    pair_open(&a, &b);
    uint8_t hdr[4];
    ef_put_u32le(hdr, EF_FRAME_MAX + 1);
    assert_int_equal(ef_sess_feed(&b.s, hdr, 4, &side_ops, &b, &o), EF_ETOOBIG);
    assert_int_equal(b.s.fail_reason, EF_NR_OVERSIZE);
    pair_free(&a, &b);

    /* Too short to hold a tag. */
    pair_open(&a, &b);
    uint8_t tiny[8] = {3, 0, 0, 0, 1, 2, 3};
    assert_int_equal(ef_sess_feed(&b.s, tiny, 7, &side_ops, &b, &o), EF_EPROTO);
    assert_int_equal(b.s.fail_reason, EF_NR_MALFORMED);
    pair_free(&a, &b);

    /* A flipped ciphertext bit: bad MAC. */
    pair_open(&a, &b);
    assert_int_equal(ef_sess_seal(&a.s, EF_P2P_STATUS, "abc", 3, &w), 0);
    w.buf[6] ^= 0x40;
    assert_int_equal(ef_sess_feed(&b.s, w.buf, w.len, &side_ops, &b, &o), EF_EAUTH);
    assert_int_equal(b.s.fail_reason, EF_NR_BAD_MAC);
    assert_int_equal(b.msgs, 0);
    pair_free(&a, &b);

    /* A replayed frame (same counter twice): bad MAC on the second. */
    pair_open(&a, &b);
    ef_wr_reset(&w);
    assert_int_equal(ef_sess_seal(&a.s, EF_P2P_STATUS, "abc", 3, &w), 0);
    assert_int_equal(ef_sess_feed(&b.s, w.buf, w.len, &side_ops, &b, &o), 0);
    assert_int_equal(ef_sess_feed(&b.s, w.buf, w.len, &side_ops, &b, &o), EF_EAUTH);
    assert_int_equal(b.s.fail_reason, EF_NR_BAD_MAC);
    pair_free(&a, &b);

    /* An unknown message type, well sealed. */
    pair_open(&a, &b);
    ef_wr_reset(&w);
    assert_int_equal(ef_sess_seal(&a.s, 99, "x", 1, &w), 0);
    assert_int_equal(ef_sess_feed(&b.s, w.buf, w.len, &side_ops, &b, &o), EF_EPROTO);
    assert_int_equal(b.s.fail_reason, EF_NR_MALFORMED);
    pair_free(&a, &b);
    ef_wr_free(&w);
    ef_wr_free(&o);
}

static void test_sess_bad_auth(void **st)
{
    (void)st;
    side a, b;
    ef_wr wa, wb, o;
    pair_init(&a, &b, &wa, &wb);
    ef_wr_init(&o);
    /* b receives a's hello and answers with its own auth frame. */
    ef_wr tb;
    ef_wr_init(&tb);
    assert_int_equal(ef_sess_feed(&b.s, wa.buf, wa.len, &side_ops, &b, &tb), 0);
    /* a gets b's hello, and we forge a's auth frame: a message that is not AUTH. */
    ef_wr ta;
    ef_wr_init(&ta);
    assert_int_equal(ef_sess_feed(&a.s, wb.buf, wb.len, &side_ops, &a, &ta), 0);
    ef_wr forged;
    ef_wr_init(&forged);
    uint8_t zero_sig[EF_SIG_SIZE] = {0};
    a.s.tx_ctr = 0;
    assert_int_equal(ef_sess_seal(&a.s, EF_P2P_AUTH, zero_sig, sizeof zero_sig, &forged), 0);
    assert_int_equal(ef_sess_feed(&b.s, forged.buf, forged.len, &side_ops, &b, &o), EF_EAUTH);
    assert_int_equal(b.s.fail_reason, EF_NR_BAD_AUTH);
    ef_wr_free(&forged);
    ef_wr_free(&ta);
    ef_wr_free(&tb);
    ef_wr_free(&wa);
    ef_wr_free(&wb);
    ef_wr_free(&o);
    pair_free(&a, &b);
}

/* Before the peer has proven its key nothing but the handshake is buffered: a
 * frame header announcing more than the auth frame closes the session at once,
 * the session never allocates, and an honest auth frame followed by messages in
 * the same read still opens and delivers them. */
static void test_sess_preauth(void **st)
{
    (void)st;
    side a, b;
    ef_wr wa, wb, o;
    ef_wr_init(&o);
    const uint32_t bad_lens[] = {EF_AUTH_FRAME_N + 1, 4096, EF_FRAME_MAX};
    for (size_t i = 0; i < sizeof bad_lens / sizeof bad_lens[0]; i++) {
        pair_init(&a, &b, &wa, &wb);
        /* the hello byte by byte: held in the fixed buffer, nothing on the heap */
        for (size_t k = 0; k < wa.len; k++) {
            assert_int_equal(ef_sess_feed(&b.s, wa.buf + k, 1, &side_ops, &b, &o), 0);
            assert_true(ef_sess_buffered(&b.s) <= EF_PREAUTH_BUF);
            assert_int_equal(ef_sess_heap(&b.s), 0);
        }
        assert_int_equal(b.s.state, EF_SESS_AUTH);
        uint8_t hdr[4 + 64];
        memset(hdr, 0xab, sizeof hdr);
        ef_put_u32le(hdr, bad_lens[i]);
        assert_int_equal(ef_sess_feed(&b.s, hdr, 2, &side_ops, &b, &o), 0);
        assert_int_equal(ef_sess_feed(&b.s, hdr + 2, sizeof hdr - 2, &side_ops, &b, &o), EF_ETOOBIG);
        assert_int_equal(b.s.fail_reason, EF_NR_PREAUTH_OVERSIZE);
        assert_int_equal(ef_sess_heap(&b.s), 0);
        assert_int_equal(b.msgs, 0);
        pair_free(&a, &b);
        ef_wr_free(&wa);
        ef_wr_free(&wb);
    }

    /* shorter than the auth frame: bad auth (under a tag's size: malformed) */
    pair_init(&a, &b, &wa, &wb);
    assert_int_equal(ef_sess_feed(&b.s, wa.buf, wa.len, &side_ops, &b, &o), 0);
    uint8_t shorter[4];
    ef_put_u32le(shorter, EF_AUTH_FRAME_N - 1);
    assert_int_equal(ef_sess_feed(&b.s, shorter, 4, &side_ops, &b, &o), EF_EAUTH);
    assert_int_equal(b.s.fail_reason, EF_NR_BAD_AUTH);
    pair_free(&a, &b);
    ef_wr_free(&wa);
    ef_wr_free(&wb);

    /* honest: a's hello, auth frame and two messages in one buffer */
    pair_init(&a, &b, &wa, &wb);
    ef_wr ta;
    ef_wr_init(&ta);
    assert_int_equal(ef_sess_feed(&a.s, wb.buf, wb.len, &side_ops, &a, &ta), 0);
    assert_int_equal(ta.len, 4 + EF_AUTH_FRAME_N);
    assert_int_equal(ef_sess_seal(&a.s, EF_P2P_STATUS, "one", 3, &ta), 0);
    assert_int_equal(ef_sess_seal(&a.s, EF_P2P_TXS, "two", 3, &ta), 0);
    assert_int_equal(ef_wr_raw(&wa, ta.buf, ta.len), 0);
    assert_int_equal(ef_sess_feed(&b.s, wa.buf, wa.len, &side_ops, &b, &o), 0);
    assert_true(ef_sess_is_open(&b.s));
    assert_int_equal(b.msgs, 2);
    assert_memory_equal(b.last, "two", 3);
    assert_int_equal(ef_sess_buffered(&b.s), 0);
    ef_wr_free(&ta);
    pair_free(&a, &b);
    ef_wr_free(&wa);
    ef_wr_free(&wb);
    ef_wr_free(&o);
}

/* ---- three endpoints over loopback TCP ---- */

typedef struct node {
    ef_keypair kp;
    ef_net *net;
    const ef_pub *allowed[2];
    int ups, downs, msgs;
    uint8_t last[64];
    size_t last_len;
    ef_conn *peer;
} node;

static int node_allow(void *arg, const ef_pub *pub)
{
    node *nd = arg;
    for (int i = 0; i < 2; i++)
        if (nd->allowed[i] && !memcmp(pub->b, nd->allowed[i]->b, 32)) return 0;
    return EF_EAUTH;
}

static void node_peer(void *arg, ef_conn *c, bool up)
{
    node *nd = arg;
    if (up) {
        nd->ups++;
        nd->peer = c;
    } else {
        nd->downs++;
        if (nd->peer == c) nd->peer = NULL;
    }
}

static int node_msg(void *arg, ef_conn *c, uint8_t type, const uint8_t *p, size_t len)
{
    node *nd = arg;
    (void)c;
    if (type == EF_P2P_BLOCK_REQ) return EF_EPERM; /* the test's "rejected" message */
    nd->msgs++;
    nd->last_len = EF_MIN(len, sizeof nd->last);
    memcpy(nd->last, p, nd->last_len);
    return 0;
}

static void node_start_hs(node *nd, uv_loop_t *loop, const char *listen, uint32_t handshake_ms)
{
    ef_net_cfg cfg = {0};
    cfg.handshake_ms = handshake_ms;
    cfg.loop = loop;
    cfg.kp = &nd->kp;
    ef_wire_netid(&cfg.netid, "test-chain");
    cfg.listen = listen;
    cfg.allow = node_allow;
    cfg.on_peer = node_peer;
    cfg.on_msg = node_msg;
    cfg.arg = nd;
    assert_int_equal(ef_net_start(&nd->net, &cfg), 0);
}

static void node_start(node *nd, uv_loop_t *loop, const char *listen)
{
    node_start_hs(nd, loop, listen, 0);
}

/* Runs the loop until cond holds or ~5 s pass. */
#define RUN_UNTIL(loop, cond)                                                      \
    do {                                                                           \
        uint64_t t0_ = uv_now(loop);                                               \
        while (!(cond) && uv_now(loop) - t0_ < 5000) uv_run(loop, UV_RUN_ONCE);    \
        assert_true(cond);                                                         \
    } while (0)

static void noop_tick(uv_timer_t *t) { (void)t; }

static void test_net_loopback(void **st)
{
    (void)st;
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_timer_t tick; /* keeps uv_run(ONCE) from blocking forever */
    uv_timer_init(&loop, &tick);
    uv_timer_start(&tick, noop_tick, 10, 10);

    node a = {0}, b = {0}, c = {0};
    ef_keypair_generate(&a.kp);
    ef_keypair_generate(&b.kp);
    ef_keypair_generate(&c.kp);
    a.allowed[0] = &b.kp.pub;   /* a accepts only b */
    b.allowed[0] = &a.kp.pub;
    c.allowed[0] = &a.kp.pub;   /* c tries a, which does not know it */
    node_start(&a, &loop, "127.0.0.1:0");
    node_start(&b, &loop, "127.0.0.1:0");
    node_start(&c, &loop, NULL);
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", ef_net_port(a.net));
    assert_int_equal(ef_net_add_peer(b.net, &a.kp.pub, addr), 0);
    RUN_UNTIL(&loop, a.peer && b.peer);
    /* a now also dials b: it sees the connection exists, and at most a duplicate
     * is settled; one connection survives. */
    snprintf(addr, sizeof addr, "127.0.0.1:%d", ef_net_port(b.net));
    assert_int_equal(ef_net_add_peer(a.net, &b.kp.pub, addr), 0);
    for (int i = 0; i < 20; i++) uv_run(&loop, UV_RUN_ONCE);
    RUN_UNTIL(&loop, a.peer && b.peer);
    ef_conn *tmp[4];
    assert_int_equal(ef_net_conns(a.net, tmp, 4), 1);

    /* Messages both ways. */
    assert_int_equal(ef_net_send(b.net, b.peer, EF_P2P_STATUS, "ping", 4, false), 0);
    RUN_UNTIL(&loop, a.msgs == 1);
    assert_memory_equal(a.last, "ping", 4);
    assert_int_equal(ef_net_broadcast(a.net, EF_P2P_TXS, "pong", 4, true, NULL), 1);
    RUN_UNTIL(&loop, b.msgs == 1);
    assert_memory_equal(b.last, "pong", 4);

    /* An unknown key is refused and counted. */
    snprintf(addr, sizeof addr, "127.0.0.1:%d", ef_net_port(a.net));
    assert_int_equal(ef_net_add_peer(c.net, &a.kp.pub, addr), 0);
    ef_net_stats sa;
    RUN_UNTIL(&loop, (ef_net_get_stats(a.net, &sa), sa.closed[EF_NR_UNKNOWN_KEY] >= 1));
    assert_int_equal(c.ups, 0);

    /* A message the node rejects closes the connection (counted); b redials. */
    int ups_before = a.ups;
    assert_int_equal(ef_net_send(b.net, b.peer, EF_P2P_BLOCK_REQ, "x", 1, false), 0);
    RUN_UNTIL(&loop, (ef_net_get_stats(a.net, &sa), sa.closed[EF_NR_REJECTED] == 1));
    RUN_UNTIL(&loop, a.ups > ups_before && a.peer && b.peer);
    assert_int_equal(ef_net_send(b.net, b.peer, EF_P2P_STATUS, "again", 5, false), 0);
    RUN_UNTIL(&loop, a.msgs == 2);

    ef_net_stop(a.net);
    ef_net_stop(b.net);
    ef_net_stop(c.net);
    uv_close((uv_handle_t *)&tick, NULL);
    while (uv_run(&loop, UV_RUN_DEFAULT)) {}
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* More connections from one address than EF_NET_PREAUTH_PER_ADDR (and than
 * EF_NET_CONNS_MAX): the extra ones are refused with the right reason, counted,
 * and logged at a bounded rate (not a line each). */
static void test_net_conn_flood(void **st)
{
    (void)st;
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_timer_t tick;
    uv_timer_init(&loop, &tick);
    uv_timer_start(&tick, noop_tick, 10, 10);
    node a = {0};
    ef_keypair_generate(&a.kp);
    node_start(&a, &loop, "127.0.0.1:0");

    char logpath[] = "/tmp/ef-test-net-log.XXXXXX";
    int logfd = mkstemp(logpath);
    assert_true(logfd >= 0);
    int saved = dup(2);
    dup2(logfd, 2);
    int level = ef_log_level();
    ef_log_set_level(EF_LOG_INFO);

    enum { FLOOD = EF_NET_CONNS_MAX + 100 };
    static int fds[FLOOD];
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)ef_net_port(a.net))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    uint64_t t0 = uv_now(&loop);
    for (int i = 0; i < FLOOD; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_true(fds[i] >= 0);
        int rc = connect(fds[i], (struct sockaddr *)&sa, sizeof sa);
        assert_true(rc == 0 || errno == EINPROGRESS);
        if (i % 32 == 0) uv_run(&loop, UV_RUN_NOWAIT);
    }
    ef_net_stats ns;
    RUN_UNTIL(&loop, (ef_net_get_stats(a.net, &ns),
                      ns.closed[EF_NR_PREAUTH_LIMIT] >= FLOOD - EF_NET_PREAUTH_PER_ADDR));
    uint64_t secs = (uv_now(&loop) - t0) / 1000 + 1;
    assert_int_equal(ns.closed[EF_NR_SENDQ_FULL], 0);
    assert_true(ns.preauth_conns <= EF_NET_PREAUTH_PER_ADDR);

    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    ef_log_set_level(level);
    FILE *f = fopen(logpath, "r");
    assert_non_null(f);
    char line[512];
    unsigned refused = 0;
    while (fgets(line, sizeof line, f)) {
        assert_null(strstr(line, "sendq_full"));
        if (strstr(line, "refused: preauth_limit")) refused++;
    }
    fclose(f);
    close(logfd);
    unlink(logpath);
    assert_true(refused >= 1);
    assert_true(refused <= EF_NET_REFUSALS_LOGGED_PER_S * secs);

    for (int i = 0; i < FLOOD; i++) close(fds[i]);
    ef_net_stop(a.net);
    uv_close((uv_handle_t *)&tick, NULL);
    while (uv_run(&loop, UV_RUN_DEFAULT)) {}
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- unauthenticated floods over loopback TCP ---- */

static long vmrss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

/* An attacking connection: it presents a known public key in its hello, but
 * holds no secret key, so it never gets past the auth frame. */
typedef struct att {
    int fd;
    bool connecting, dead;
    uint64_t opened_ms, closed_ms;
} att;

static void att_open(att *t, uv_loop_t *loop, int port, uint32_t src_host)
{
    memset(t, 0, sizeof *t);
    t->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(t->fd >= 0);
    struct sockaddr_in src = {.sin_family = AF_INET};
    src.sin_addr.s_addr = htonl(src_host);
    assert_int_equal(bind(t->fd, (struct sockaddr *)&src, sizeof src), 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(t->fd, (struct sockaddr *)&to, sizeof to);
    assert_true(rc == 0 || errno == EINPROGRESS);
    t->connecting = true;
    t->opened_ms = uv_now(loop);
}

/* One step: once connected send prefix; then up to chunk bytes of junk; notice
 * the node closing. */
static void att_step(att *t, uv_loop_t *loop, const uint8_t *prefix, size_t plen,
                     const uint8_t *junk, size_t chunk)
{
    if (t->dead) return;
    struct pollfd p = {t->fd, t->connecting ? POLLOUT : POLLIN, 0};
    poll(&p, 1, 0);
    bool dead = false;
    if (t->connecting) {
        if (!(p.revents & (POLLOUT | POLLERR | POLLHUP))) return;
        int err = 0;
        socklen_t el = sizeof err;
        getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err || send(t->fd, prefix, plen, MSG_NOSIGNAL) != (ssize_t)plen) dead = true;
        t->connecting = false;
    } else {
        if (p.revents & (POLLIN | POLLERR | POLLHUP)) {
            uint8_t sink[1024];
            ssize_t k = recv(t->fd, sink, sizeof sink, MSG_DONTWAIT);
            if (k == 0 || (k < 0 && errno != EAGAIN)) dead = true;
        }
        if (!dead && chunk) {
            ssize_t k = send(t->fd, junk, chunk, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (k < 0 && errno != EAGAIN) dead = true;
        }
    }
    if (dead) {
        t->dead = true;
        t->closed_ms = uv_now(loop);
    }
}

/* hello with pub and a random ephemeral key, then a frame header announcing n */
static size_t att_prefix(uint8_t *out, const ef_pub *pub, uint32_t n)
{
    ef_hash net;
    ef_wire_netid(&net, "test-chain");
    memcpy(out, "EFN1", 4);
    out[4] = EF_WIRE_VERSION;
    memcpy(out + 5, net.b, 32);
    ef_random(out + 37, 32);
    memcpy(out + 69, pub->b, 32);
    ef_put_u32le(out + EF_HELLO_SIZE, n);
    return EF_HELLO_SIZE + 4;
}

/* A few hundred connections present a validator's public key, announce
 * EF_FRAME_MAX-long frames and trickle bytes: each is closed at the header
 * (preauth_oversize) or by the caps, the node's memory barely moves, and an
 * honest peer connects and exchanges messages meanwhile. */
static void test_net_preauth_flood(void **st)
{
    (void)st;
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_timer_t tick;
    uv_timer_init(&loop, &tick);
    uv_timer_start(&tick, noop_tick, 5, 5);
    node a = {0}, b = {0};
    ef_keypair val; /* the validator whose public key the attacker presents */
    ef_keypair_generate(&val);
    ef_keypair_generate(&a.kp);
    ef_keypair_generate(&b.kp);
    a.allowed[0] = &val.pub;
    a.allowed[1] = &b.kp.pub;
    b.allowed[0] = &a.kp.pub;
    node_start(&a, &loop, "127.0.0.1:0");
    node_start(&b, &loop, "127.0.0.1:0");
    int port = ef_net_port(a.net);
    int level = ef_log_level();
    ef_log_set_level(EF_LOG_WARN);

    enum { ATT = 300, SOURCES = 40, ROUNDS = 64, CHUNK = 4096 };
    static att t[ATT];
    static uint8_t junk[CHUNK];
    ef_random(junk, sizeof junk);
    uint8_t prefix[EF_HELLO_SIZE + 4];
    size_t plen = att_prefix(prefix, &val.pub, EF_FRAME_MAX);
    for (int i = 0; i < 20; i++) uv_run(&loop, UV_RUN_NOWAIT);
    long rss0 = vmrss_kb(), rss_max = rss0;
    assert_true(rss0 > 0);

    for (int i = 0; i < ATT; i++) {
        att_open(&t[i], &loop, port, 0x7f000002u + (uint32_t)(i % SOURCES));
        if (i % 16 == 0) uv_run(&loop, UV_RUN_NOWAIT);
    }
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    assert_int_equal(ef_net_add_peer(b.net, &a.kp.pub, addr), 0);
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < ATT; i++) att_step(&t[i], &loop, prefix, plen, junk, CHUNK);
        uv_run(&loop, UV_RUN_ONCE);
        uv_run(&loop, UV_RUN_NOWAIT);
        long rss = vmrss_kb();
        if (rss > rss_max) rss_max = rss;
    }
    /* the honest peer got through during the attack */
    RUN_UNTIL(&loop, a.peer && b.peer);
    assert_int_equal(ef_net_send(b.net, b.peer, EF_P2P_STATUS, "ping", 4, false), 0);
    RUN_UNTIL(&loop, a.msgs == 1);
    assert_memory_equal(a.last, "ping", 4);
    assert_int_equal(ef_net_send(a.net, a.peer, EF_P2P_STATUS, "pong", 4, false), 0);
    RUN_UNTIL(&loop, b.msgs == 1);

    ef_net_stats ns;
    RUN_UNTIL(&loop, (ef_net_get_stats(a.net, &ns),
                      ns.closed[EF_NR_PREAUTH_OVERSIZE] + ns.closed[EF_NR_PREAUTH_LIMIT] >= ATT));
    long rss = vmrss_kb();
    if (rss > rss_max) rss_max = rss;
    print_message("preauth flood: %d connections, VmRSS %ld kB -> max %ld kB (+%ld kB); "
                  "oversize %llu, limit %llu; buffered peak %llu bytes\n",
                  ATT, rss0, rss_max, rss_max - rss0,
                  (unsigned long long)ns.closed[EF_NR_PREAUTH_OVERSIZE],
                  (unsigned long long)ns.closed[EF_NR_PREAUTH_LIMIT],
                  (unsigned long long)ns.preauth_bytes_peak);
    assert_true(ns.closed[EF_NR_PREAUTH_OVERSIZE] >= EF_NET_PREAUTH_MAX / 2);
    assert_int_equal(ns.closed[EF_NR_BAD_MAC], 0);
    assert_int_equal(ns.closed[EF_NR_OVERSIZE], 0);
    assert_true(ns.preauth_bytes_peak <= (uint64_t)EF_NET_PREAUTH_MAX * EF_PREAUTH_BUF);
    assert_int_equal(ns.preauth_heap_peak, 0);
    assert_true(rss_max - rss0 < 8 * 1024); /* on main: 256 x 256 KiB buffered */
    assert_int_equal(ns.peers, 1);

    ef_log_set_level(level);
    for (int i = 0; i < ATT; i++) close(t[i].fd);
    ef_net_stop(a.net);
    ef_net_stop(b.net);
    uv_close((uv_handle_t *)&tick, NULL);
    while (uv_run(&loop, UV_RUN_DEFAULT)) {}
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* Slow handshakes: a connection that announces an auth frame and trickles it is
 * closed at the deadline (handshake_timeout); at most EF_NET_PREAUTH_PER_ADDR are
 * held per address and EF_NET_PREAUTH_MAX in all (the oldest evicted), each
 * holding at most EF_PREAUTH_BUF bytes. */
static void test_net_preauth_deadline(void **st)
{
    (void)st;
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_timer_t tick;
    uv_timer_init(&loop, &tick);
    uv_timer_start(&tick, noop_tick, 5, 5);
    node a = {0};
    ef_keypair val;
    ef_keypair_generate(&val);
    ef_keypair_generate(&a.kp);
    a.allowed[0] = &val.pub;
    enum { DEADLINE_MS = 1500 };
    node_start_hs(&a, &loop, "127.0.0.1:0", DEADLINE_MS);
    int port = ef_net_port(a.net);
    int level = ef_log_level();
    ef_log_set_level(EF_LOG_WARN);
    uint8_t prefix[EF_HELLO_SIZE + 4];
    size_t plen = att_prefix(prefix, &val.pub, EF_AUTH_FRAME_N);
    uint8_t junk[1] = {0x55};

    /* one address: EF_NET_PREAUTH_PER_ADDR held, the rest refused */
    enum { ONE = EF_NET_PREAUTH_PER_ADDR + 4 };
    att t1[ONE];
    for (int i = 0; i < ONE; i++) att_open(&t1[i], &loop, port, 0x7f000005u);
    ef_net_stats ns;
    RUN_UNTIL(&loop, (ef_net_get_stats(a.net, &ns), ns.closed[EF_NR_PREAUTH_LIMIT] == ONE - EF_NET_PREAUTH_PER_ADDR));
    for (int r = 0; r < 20; r++) {
        for (int i = 0; i < ONE; i++) att_step(&t1[i], &loop, prefix, plen, junk, r == 10);
        uv_run(&loop, UV_RUN_ONCE);
    }
    ef_net_get_stats(a.net, &ns);
    assert_int_equal(ns.preauth_conns, EF_NET_PREAUTH_PER_ADDR);
    assert_true(ns.preauth_bytes > 0);
    assert_true(ns.preauth_bytes <= (uint64_t)EF_NET_PREAUTH_PER_ADDR * EF_PREAUTH_BUF);
    /* ... until the deadline, trickling a byte every 100 ms (the 81 would take 8 s) */
    uint64_t last = 0;
    while ((ef_net_get_stats(a.net, &ns), ns.closed[EF_NR_HS_TIMEOUT] < EF_NET_PREAUTH_PER_ADDR) &&
           uv_now(&loop) - t1[0].opened_ms < 3 * DEADLINE_MS) {
        bool now = uv_now(&loop) - last >= 100;
        if (now) last = uv_now(&loop);
        for (int i = 0; i < ONE; i++) att_step(&t1[i], &loop, prefix, plen, junk, now);
        uv_run(&loop, UV_RUN_ONCE);
    }
    assert_int_equal(ns.closed[EF_NR_BAD_AUTH], 0);
    assert_int_equal(ns.closed[EF_NR_HS_TIMEOUT], EF_NET_PREAUTH_PER_ADDR);
    assert_int_equal(ns.preauth_conns, 0);
    assert_int_equal(ns.preauth_bytes, 0);
    for (int r = 0; r < 20; r++) {
        for (int i = 0; i < ONE; i++) att_step(&t1[i], &loop, prefix, plen, junk, 0);
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    int held = 0;
    for (int i = 0; i < ONE; i++) {
        if (!t1[i].dead || t1[i].closed_ms - t1[i].opened_ms < 500) continue;
        held++;
        assert_true(t1[i].closed_ms - t1[i].opened_ms >= DEADLINE_MS - 50);
        assert_true(t1[i].closed_ms - t1[i].opened_ms < DEADLINE_MS + 1000);
    }
    assert_int_equal(held, EF_NET_PREAUTH_PER_ADDR);
    for (int i = 0; i < ONE; i++) close(t1[i].fd);

    /* many addresses: never more than EF_NET_PREAUTH_MAX held, the oldest evicted */
    enum { MANY = EF_NET_PREAUTH_MAX + 24, SRC = MANY / EF_NET_PREAUTH_PER_ADDR + 1 };
    static att t2[MANY];
    uint64_t limit0 = ns.closed[EF_NR_PREAUTH_LIMIT];
    uint32_t peak = 0;
    for (int i = 0; i < MANY; i++) {
        att_open(&t2[i], &loop, port, 0x7f000010u + (uint32_t)(i % SRC));
        uv_run(&loop, UV_RUN_NOWAIT);
        ef_net_get_stats(a.net, &ns);
        peak = EF_MAX(peak, ns.preauth_conns);
    }
    RUN_UNTIL(&loop, (ef_net_get_stats(a.net, &ns), peak = EF_MAX(peak, ns.preauth_conns),
                      ns.closed[EF_NR_PREAUTH_LIMIT] - limit0 == MANY - EF_NET_PREAUTH_MAX));
    assert_int_equal(peak, EF_NET_PREAUTH_MAX);
    assert_int_equal(ns.preauth_conns, EF_NET_PREAUTH_MAX);
    /* the evicted are the oldest ones */
    for (int r = 0; r < 10; r++) {
        for (int i = 0; i < MANY; i++) att_step(&t2[i], &loop, prefix, plen, junk, 0);
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    for (int i = 0; i < MANY; i++) assert_int_equal(t2[i].dead, i < MANY - EF_NET_PREAUTH_MAX);
    for (int i = 0; i < MANY; i++) close(t2[i].fd);

    ef_log_set_level(level);
    ef_net_stop(a.net);
    uv_close((uv_handle_t *)&tick, NULL);
    while (uv_run(&loop, UV_RUN_DEFAULT)) {}
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    ef_crypto_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sess_roundtrip),
        cmocka_unit_test(test_sess_unknown_key),
        cmocka_unit_test(test_sess_wrong_net_and_garbage),
        cmocka_unit_test(test_sess_bad_frames),
        cmocka_unit_test(test_sess_bad_auth),
        cmocka_unit_test(test_sess_preauth),
        cmocka_unit_test(test_net_loopback),
        cmocka_unit_test(test_net_conn_flood),
        cmocka_unit_test(test_net_preauth_flood),
        cmocka_unit_test(test_net_preauth_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
