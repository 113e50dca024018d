/* test_net.c: the P2P session protocol in memory, and two (three) endpoints over
 * real loopback TCP in one libuv loop. */
#include <arpa/inet.h>
#include <errno.h>
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

static void node_start(node *nd, uv_loop_t *loop, const char *listen)
{
    ef_net_cfg cfg = {0};
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

/* More connections than EF_NET_CONNS_MAX: the extra ones are refused with the
 * right reason, counted, and logged at a bounded rate (not a line each). */
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
    RUN_UNTIL(&loop, (ef_net_get_stats(a.net, &ns), ns.closed[EF_NR_TOO_MANY] >= 100));
    uint64_t secs = (uv_now(&loop) - t0) / 1000 + 1;
    assert_int_equal(ns.closed[EF_NR_SENDQ_FULL], 0);

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
        if (strstr(line, "refused: too_many_conns")) refused++;
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

int main(void)
{
    ef_crypto_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sess_roundtrip),
        cmocka_unit_test(test_sess_unknown_key),
        cmocka_unit_test(test_sess_wrong_net_and_garbage),
        cmocka_unit_test(test_sess_bad_frames),
        cmocka_unit_test(test_sess_bad_auth),
        cmocka_unit_test(test_net_loopback),
        cmocka_unit_test(test_net_conn_flood),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
