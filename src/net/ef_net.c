/* ef_net.c: P2P transport over libuv TCP: connections, handshake timers, dialling
 * with back-off, bounded send queues, counters. */
#include "net/ef_net.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ef_log.h"

#define EF_NET_READ_CHUNK (64u << 10)
#define EF_NET_IDLE_MS 15000            /* close a peer silent this long */
#define EF_NET_TICK_MS 1000

typedef struct ef_slot {
    ef_net *net;
    ef_pub pub;
    struct sockaddr_in addr;
    char addr_s[EF_NET_ADDR_MAX];
    uint32_t backoff_ms;
    uv_timer_t timer;
    ef_conn *dialing;               /* our outgoing connection, if any */
} ef_slot;

struct ef_conn {
    ef_net *net;
    uv_tcp_t tcp;
    uv_timer_t hs_timer;
    uv_connect_t connreq;
    ef_sess sess;
    ef_slot *slot;                  /* set for connections we dialled */
    bool dialer, started, authed, closing;
    bool preauth;                   /* incoming, unauthenticated: counted in net->npreauth */
    uint32_t ip;                    /* remote IPv4 address (network order), 0 if unknown */
    size_t pre_held;                /* its share of st.preauth_bytes */
    int handles;                    /* open uv handles */
    size_t queued;                  /* bytes sealed (in out or handed to uv_write), not yet written */
    ef_wr out;                      /* frames sealed this loop iteration, written together
                                       (one write per peer per iteration: ef_net_flush_cb) */
    uint64_t last_rx_ms;
    void *data;
    char addr[EF_NET_ADDR_MAX];
    ef_conn *next, *prev;
};

struct ef_net {
    ef_net_cfg cfg;
    uv_tcp_t server;
    uv_timer_t tick;
    uv_idle_t flush;                /* writes what the callbacks sealed (see ef_net_flush_cb) */
    bool listening, stopping;
    int handles;                    /* server, tick, slot timers */
    int port;
    ef_slot *slots[EF_NET_PEERS_MAX];
    size_t nslots;
    ef_conn *conns;
    size_t nconns;
    size_t npreauth;                /* incoming unauthenticated connections */
    ef_net_stats st;
    /* rate limit of refusal log lines: the current one-second window */
    uint64_t refusal_window_ms;
    unsigned refusals_logged, refusals_unlogged;
    uint8_t rdbuf[EF_NET_READ_CHUNK];
};

typedef struct ef_wreq {
    uv_write_t req;
    ef_conn *c;
    uint8_t *data;
    size_t len;
} ef_wreq;

static void ef_net_maybe_free(ef_net *n)
{
    if (n->stopping && n->handles == 0 && n->conns == NULL) free(n);
}

static void ef_net_handle_closed(uv_handle_t *h)
{
    ef_net *n = h->data;
    n->handles--;
    ef_net_maybe_free(n);
}

static void ef_slot_timer_closed(uv_handle_t *h)
{
    ef_slot *s = h->data;
    ef_net *n = s->net;
    free(s);
    n->handles--;
    ef_net_maybe_free(n);
}

static void ef_slot_schedule(ef_slot *s, uint32_t ms);

static int ef_conn_flush_out(ef_conn *c);

static void ef_conn_handle_closed(uv_handle_t *h)
{
    ef_conn *c = h->data;
    if (--c->handles > 0) return;
    ef_net *n = c->net;
    if (c->prev) c->prev->next = c->next;
    else n->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    n->nconns--;
    ef_sess_free(&c->sess);
    ef_wr_free(&c->out);
    free(c);
    ef_net_maybe_free(n);
}

/* Logs that an unauthenticated connection was refused, at most
 * EF_NET_REFUSALS_LOGGED_PER_S lines a second: a flood of connections must not
 * become a flood of log lines (each refusal is counted in st.closed anyway). */
static void ef_net_log_refusal(ef_net *n, const ef_conn *c, int reason)
{
    uint64_t now = uv_now(n->cfg.loop);
    if (now - n->refusal_window_ms >= 1000) {
        if (n->refusals_unlogged)
            EF_LOGI("net", "%u more connections refused in the last %llu ms (counted, not logged)",
                    n->refusals_unlogged, (unsigned long long)(now - n->refusal_window_ms));
        n->refusal_window_ms = now;
        n->refusals_logged = n->refusals_unlogged = 0;
    }
    if (n->refusals_logged >= EF_NET_REFUSALS_LOGGED_PER_S) {
        n->refusals_unlogged++;
        return;
    }
    n->refusals_logged++;
    EF_LOGI("net", "connection %s refused: %s", c->addr, ef_net_reason_name(reason));
}

/* c authenticated or is closing: it no longer counts as unauthenticated. */
static void ef_conn_preauth_done(ef_net *n, ef_conn *c)
{
    if (c->preauth) {
        c->preauth = false;
        n->npreauth--;
    }
    n->st.preauth_bytes -= c->pre_held;
    c->pre_held = 0;
}

/* After bytes from an unauthenticated peer: what its session holds now. */
static void ef_conn_preauth_account(ef_net *n, ef_conn *c)
{
    if (c->authed || c->closing || c->sess.state == EF_SESS_OPEN || c->sess.state == EF_SESS_DEAD)
        return;
    size_t held = ef_sess_buffered(&c->sess);
    EF_ASSERT(held <= EF_PREAUTH_BUF);
    n->st.preauth_bytes = n->st.preauth_bytes - c->pre_held + held;
    c->pre_held = held;
    n->st.preauth_bytes_peak = EF_MAX(n->st.preauth_bytes_peak, n->st.preauth_bytes);
    n->st.preauth_heap_peak = EF_MAX(n->st.preauth_heap_peak, (uint64_t)ef_sess_heap(&c->sess));
}

void ef_net_close_conn(ef_net *n, ef_conn *c, int reason)
{
    if (c->closing) return;
    /* what was sealed this iteration leaves first (a goodbye, the last votes) */
    if (reason != EF_NR_IO && c->out.len) (void)ef_conn_flush_out(c);
    if (c->closing) return;
    c->closing = true;
    ef_conn_preauth_done(n, c);
    if (reason >= 0 && reason < EF_NR_COUNT_) n->st.closed[reason]++;
    if (c->authed) {
        n->st.peers--;
        EF_LOGI("net", "peer %02x%02x.. %s closed: %s", c->sess.peer.b[0], c->sess.peer.b[1],
                c->addr, ef_net_reason_name(reason));
        if (n->cfg.on_peer) n->cfg.on_peer(n->cfg.arg, c, false);
    } else if (reason >= 0 && reason != EF_NR_IO) {
        ef_net_log_refusal(n, c, reason);
    }
    if (c->slot && c->slot->dialing == c) {
        c->slot->dialing = NULL;
        if (!n->stopping) {
            ef_slot *s = c->slot;
            ef_slot_schedule(s, s->backoff_ms);
            s->backoff_ms = EF_MIN(s->backoff_ms * 2, (uint32_t)EF_NET_BACKOFF_MAX_MS);
        }
    }
    uv_close((uv_handle_t *)&c->tcp, ef_conn_handle_closed);
    uv_close((uv_handle_t *)&c->hs_timer, ef_conn_handle_closed);
}

static void ef_conn_write_done(uv_write_t *req, int status)
{
    ef_wreq *w = (ef_wreq *)req;
    ef_conn *c = w->c;
    c->queued -= w->len;
    if (status == 0) {
        c->net->st.bytes_out += w->len;
    } else if (!c->closing) {
        ef_net_close_conn(c->net, c, EF_NR_IO);
    }
    free(w->data);
    free(w);
}

/* One uv_write of wr's bytes (taking the buffer), counted in c->queued here if
 * count (else they already are); a write libuv refuses closes the connection. */
static int ef_conn_write(ef_conn *c, ef_wr *wr, bool count)
{
    ef_wreq *w = calloc(1, sizeof *w);
    if (!w) return EF_ENOMEM;
    w->c = c;
    w->data = ef_wr_take(wr, &w->len);
    if (count) c->queued += w->len;
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)w->len);
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, ef_conn_write_done);
    if (rc) {
        c->queued -= w->len;
        free(w->data);
        free(w);
        ef_net_close_conn(c->net, c, EF_NR_IO);
        return EF_ENET;
    }
    c->net->st.writes_out++;
    return 0;
}

/* Hands the frames sealed for c this iteration to libuv (one write; their bytes
 * are already counted in c->queued). */
static int ef_conn_flush_out(ef_conn *c)
{
    if (c->out.len == 0) return 0;
    if (c->out.err) return c->out.err;
    return ef_conn_write(c, &c->out, false);
}

/* An idle handle: it runs in the same loop iteration as the timer callbacks that
 * sealed frames, before the loop polls (an active idle handle also keeps the poll
 * from blocking), and right after the I/O callbacks of the iteration before; a
 * check handle would hold frames sealed in timers until the next I/O event. */
static void ef_net_flush_cb(uv_idle_t *h)
{
    ef_net *n = h->data;
    for (ef_conn *c = n->conns, *next; c; c = next) {
        next = c->next;
        if (!c->closing) (void)ef_conn_flush_out(c);
    }
    uv_idle_stop(h);
}

/* Hands wr's bytes to libuv (taking the buffer), after what was sealed before
 * them (the session's frames must reach the peer in the order they were sealed). */
static int ef_conn_flush(ef_conn *c, ef_wr *wr)
{
    if (wr->len == 0) return 0;
    int rc0 = ef_conn_flush_out(c);
    if (rc0) return rc0;
    if (wr->err) return wr->err;
    return ef_conn_write(c, wr, true);
}

static ef_conn *ef_net_find_authed(ef_net *n, const ef_pub *pub, const ef_conn *except)
{
    for (ef_conn *o = n->conns; o; o = o->next)
        if (o != except && o->authed && !o->closing && !memcmp(o->sess.peer.b, pub->b, 32))
            return o;
    return NULL;
}

/* The handshake finished: settle duplicates, tell the node. */
static void ef_conn_authed(ef_conn *c)
{
    ef_net *n = c->net;
    c->authed = true;
    ef_conn_preauth_done(n, c);
    n->st.peers++;
    uv_timer_stop(&c->hs_timer);
    ef_conn *o = ef_net_find_authed(n, &c->sess.peer, c);
    if (o) {
        /* Keep the connection dialled by the smaller key; if both were dialled by
         * the same side (a restart), keep the newer one. */
        bool me_smaller = memcmp(n->cfg.kp->pub.b, c->sess.peer.b, 32) < 0;
        bool keep_c = (c->dialer == o->dialer) || (c->dialer == me_smaller);
        ef_net_close_conn(n, keep_c ? o : c, EF_NR_DUPLICATE);
        if (!keep_c) return;
    }
    if (c->slot) c->slot->backoff_ms = EF_NET_BACKOFF_MIN_MS;
    EF_LOGI("net", "peer %02x%02x.. %s up (%s)", c->sess.peer.b[0], c->sess.peer.b[1], c->addr,
            c->dialer ? "out" : "in");
    if (n->cfg.on_peer) n->cfg.on_peer(n->cfg.arg, c, true);
}

static int ef_conn_allow(void *arg, const ef_pub *pub)
{
    ef_conn *c = arg;
    return c->net->cfg.allow(c->net->cfg.arg, pub);
}

static int ef_conn_on_msg(void *arg, uint8_t type, const uint8_t *p, size_t len)
{
    ef_conn *c = arg;
    if (!c->authed && !c->closing) ef_conn_authed(c);
    if (c->closing) return EF_ECLOSED;
    c->net->st.frames_in++;
    int rc = c->net->cfg.on_msg(c->net->cfg.arg, c, type, p, len);
    if (!rc && c->closing) return EF_ECLOSED;
    return rc;
}

static const ef_sess_ops ef_conn_ops = {ef_conn_allow, ef_conn_on_msg};

static void ef_conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    ef_conn *c = h->data;
    *buf = uv_buf_init((char *)c->net->rdbuf, sizeof c->net->rdbuf);
}

static void ef_conn_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    ef_conn *c = stream->data;
    ef_net *n = c->net;
    if (c->closing) return;
    if (nread < 0) {
        ef_net_close_conn(n, c, EF_NR_IO);
        return;
    }
    if (nread == 0) return;
    n->st.bytes_in += (uint64_t)nread;
    c->last_rx_ms = uv_now(n->cfg.loop);
    ef_wr out;
    ef_wr_init(&out);
    int rc = ef_sess_feed(&c->sess, (const uint8_t *)buf->base, (size_t)nread, &ef_conn_ops, c, &out);
    if (!c->closing && out.len) ef_conn_flush(c, &out);
    ef_wr_free(&out);
    if (c->closing) return;
    ef_conn_preauth_account(n, c);
    if (rc) {
        ef_net_close_conn(n, c, c->sess.fail_reason);
        return;
    }
    if (!c->authed && ef_sess_is_open(&c->sess)) ef_conn_authed(c);
}

static void ef_conn_hs_timeout(uv_timer_t *t)
{
    ef_conn *c = t->data;
    if (!c->authed) ef_net_close_conn(c->net, c, EF_NR_HS_TIMEOUT);
}

static ef_conn *ef_conn_new(ef_net *n, bool dialer)
{
    ef_conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->net = n;
    c->dialer = dialer;
    ef_wr_init(&c->out);
    uv_tcp_init(n->cfg.loop, &c->tcp);
    uv_timer_init(n->cfg.loop, &c->hs_timer);
    c->handles = 2;
    c->tcp.data = c;
    c->hs_timer.data = c;
    c->connreq.data = c;
    c->next = n->conns;
    if (n->conns) n->conns->prev = c;
    n->conns = c;
    n->nconns++;
    snprintf(c->addr, sizeof c->addr, "?");
    return c;
}

/* c->addr = the peer's address ("ip:port"), for the log; c->ip. */
static void ef_conn_name(ef_conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (!uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) && ss.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        c->ip = a->sin_addr.s_addr;
        char ip[32];
        uv_ip4_name(a, ip, sizeof ip);
        snprintf(c->addr, sizeof c->addr, "%s:%u", ip, ntohs(a->sin_port));
    }
}

/* The TCP connection is up: send our hello, start reading and the handshake timer. */
static void ef_conn_start(ef_conn *c)
{
    ef_net *n = c->net;
    ef_conn_name(c);
    uv_tcp_nodelay(&c->tcp, 1);
    uv_tcp_keepalive(&c->tcp, 1, 5);
    c->started = true;
    c->last_rx_ms = uv_now(n->cfg.loop);
    ef_wr out;
    ef_wr_init(&out);
    int rc = ef_sess_init(&c->sess, n->cfg.kp, &n->cfg.netid, c->dialer, &out);
    if (!rc) rc = ef_conn_flush(c, &out);
    ef_wr_free(&out);
    if (rc) {
        ef_net_close_conn(n, c, EF_NR_IO);
        return;
    }
    uv_timer_start(&c->hs_timer, ef_conn_hs_timeout, n->cfg.handshake_ms, 0);
    if (uv_read_start((uv_stream_t *)&c->tcp, ef_conn_alloc, ef_conn_read))
        ef_net_close_conn(n, c, EF_NR_IO);
}

static void ef_conn_connected(uv_connect_t *req, int status)
{
    ef_conn *c = req->data;
    if (c->closing) return;
    if (status < 0) {
        EF_LOGD("net", "dial %s: %s", c->slot ? c->slot->addr_s : "?", uv_strerror(status));
        ef_net_close_conn(c->net, c, -1);
        return;
    }
    ef_conn_start(c);
}

static void ef_slot_fire(uv_timer_t *t)
{
    ef_slot *s = t->data;
    ef_net *n = s->net;
    if (n->stopping || s->dialing) return;
    if (ef_net_find_authed(n, &s->pub, NULL)) { /* connected the other way: check later */
        ef_slot_schedule(s, EF_NET_BACKOFF_MAX_MS);
        return;
    }
    if (n->nconns >= EF_NET_CONNS_MAX) {
        ef_slot_schedule(s, EF_NET_BACKOFF_MAX_MS);
        return;
    }
    ef_conn *c = ef_conn_new(n, true);
    if (!c) {
        ef_slot_schedule(s, EF_NET_BACKOFF_MAX_MS);
        return;
    }
    c->slot = s;
    s->dialing = c;
    snprintf(c->addr, sizeof c->addr, "%s", s->addr_s);
    n->st.dials++;
    if (uv_tcp_connect(&c->connreq, &c->tcp, (const struct sockaddr *)&s->addr, ef_conn_connected))
        ef_net_close_conn(n, c, -1);
}

static void ef_slot_schedule(ef_slot *s, uint32_t ms)
{
    uv_timer_start(&s->timer, ef_slot_fire, ms, 0);
}

static void ef_net_on_connection(uv_stream_t *server, int status)
{
    ef_net *n = server->data;
    if (status < 0 || n->stopping) return;
    ef_conn *c = ef_conn_new(n, false);
    if (!c) return;
    if (uv_accept(server, (uv_stream_t *)&c->tcp)) {
        ef_net_close_conn(n, c, -1);
        return;
    }
    n->st.accepts++;
    ef_conn_name(c);
    if (n->nconns > EF_NET_CONNS_MAX) {
        ef_net_close_conn(n, c, EF_NR_TOO_MANY);
        return;
    }
    /* Bound the unauthenticated: per source address refuse, in all evict the oldest. */
    size_t same = 0;
    ef_conn *oldest = NULL;
    for (ef_conn *o = n->conns; o; o = o->next) {
        if (o == c || !o->preauth || o->closing) continue;
        if (o->ip == c->ip) same++;
        oldest = o; /* the list is newest first */
    }
    if (same >= EF_NET_PREAUTH_PER_ADDR) {
        ef_net_close_conn(n, c, EF_NR_PREAUTH_LIMIT);
        return;
    }
    if (n->npreauth >= EF_NET_PREAUTH_MAX && oldest) ef_net_close_conn(n, oldest, EF_NR_PREAUTH_LIMIT);
    c->preauth = true;
    n->npreauth++;
    ef_conn_start(c);
}

/* Once a second: close peers that went silent (a dead link without RST). */
static void ef_net_tick(uv_timer_t *t)
{
    ef_net *n = t->data;
    uint64_t now = uv_now(n->cfg.loop);
    for (ef_conn *c = n->conns, *next; c; c = next) {
        next = c->next;
        if (c->authed && !c->closing && now - c->last_rx_ms > EF_NET_IDLE_MS)
            ef_net_close_conn(n, c, EF_NR_TIMEOUT);
    }
}

static int ef_parse_addr(struct sockaddr_in *out, const char *addr)
{
    char host[EF_NET_ADDR_MAX];
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= sizeof host) return EF_EINVAL;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = 0;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535) return EF_EINVAL;
    if (uv_ip4_addr(host, (int)port, out)) return EF_EINVAL;
    return 0;
}

int ef_net_start(ef_net **out, const ef_net_cfg *cfg)
{
    EF_ASSERT(out && cfg && cfg->loop && cfg->kp && cfg->allow && cfg->on_msg);
    *out = NULL;
    ef_net *n = calloc(1, sizeof *n);
    if (!n) return EF_ENOMEM;
    n->cfg = *cfg;
    if (!n->cfg.sendq_bytes_max) n->cfg.sendq_bytes_max = EF_NET_SENDQ_BYTES_DEFAULT;
    if (!n->cfg.handshake_ms) n->cfg.handshake_ms = EF_NET_HANDSHAKE_MS;
    n->cfg.listen = NULL; /* not kept */
    if (cfg->listen) {
        struct sockaddr_in a;
        if (ef_parse_addr(&a, cfg->listen)) {
            free(n);
            return EF_EINVAL;
        }
        uv_tcp_init(cfg->loop, &n->server);
        n->server.data = n;
        n->handles++;
        int rc = uv_tcp_bind(&n->server, (const struct sockaddr *)&a, 0);
        if (!rc) rc = uv_listen((uv_stream_t *)&n->server, 128, ef_net_on_connection);
        if (rc) {
            EF_LOGE("net", "cannot listen on %s: %s", cfg->listen, uv_strerror(rc));
            n->stopping = true;
            uv_close((uv_handle_t *)&n->server, ef_net_handle_closed);
            return EF_ENET;
        }
        struct sockaddr_storage ss;
        int len = sizeof ss;
        if (!uv_tcp_getsockname(&n->server, (struct sockaddr *)&ss, &len))
            n->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        n->listening = true;
    }
    uv_timer_init(cfg->loop, &n->tick);
    n->tick.data = n;
    n->handles++;
    uv_idle_init(cfg->loop, &n->flush);
    n->flush.data = n;
    n->handles++;
    uv_timer_start(&n->tick, ef_net_tick, EF_NET_TICK_MS, EF_NET_TICK_MS);
    *out = n;
    return 0;
}

int ef_net_port(const ef_net *n) { return n->port; }

int ef_net_add_peer(ef_net *n, const ef_pub *pub, const char *addr)
{
    if (n->nslots >= EF_NET_PEERS_MAX) return EF_EFULL;
    if (strlen(addr) >= EF_NET_ADDR_MAX) return EF_EINVAL;
    ef_slot *s = calloc(1, sizeof *s);
    if (!s) return EF_ENOMEM;
    if (ef_parse_addr(&s->addr, addr)) {
        free(s);
        return EF_EINVAL;
    }
    s->net = n;
    s->pub = *pub;
    snprintf(s->addr_s, sizeof s->addr_s, "%s", addr);
    s->backoff_ms = EF_NET_BACKOFF_MIN_MS;
    uv_timer_init(n->cfg.loop, &s->timer);
    s->timer.data = s;
    n->handles++;
    n->slots[n->nslots++] = s;
    ef_slot_schedule(s, 0);
    return 0;
}

void ef_net_stop(ef_net *n)
{
    if (!n || n->stopping) return;
    n->stopping = true;
    for (ef_conn *c = n->conns, *next; c; c = next) {
        next = c->next;
        ef_net_close_conn(n, c, -1);
    }
    for (size_t i = 0; i < n->nslots; i++)
        uv_close((uv_handle_t *)&n->slots[i]->timer, ef_slot_timer_closed);
    n->nslots = 0;
    if (n->listening) uv_close((uv_handle_t *)&n->server, ef_net_handle_closed);
    uv_close((uv_handle_t *)&n->tick, ef_net_handle_closed);
    uv_close((uv_handle_t *)&n->flush, ef_net_handle_closed);
}

int ef_net_send(ef_net *n, ef_conn *c, uint8_t type, const void *payload, size_t len,
                bool droppable)
{
    if (c->closing || !c->authed) return EF_ECLOSED;
    if (len > EF_P2P_PAYLOAD_MAX) return EF_ETOOBIG;
    size_t size = len + 1 + EF_FRAME_OVERHEAD;
    if (droppable && c->queued + size > n->cfg.sendq_bytes_max / 2) {
        n->st.dropped++;
        return EF_EFULL;
    }
    if (c->queued + size > n->cfg.sendq_bytes_max) {
        ef_net_close_conn(n, c, EF_NR_SENDQ_FULL);
        return EF_ECLOSED;
    }
    if (size > EF_NET_BATCH_FRAME_MAX) {
        /* a large frame (a block, a batch of transactions) goes out on its own,
         * after what was sealed before it: batching it saves nothing, and its
         * bytes would be copied into a growing buffer (at saturation the copies
         * of blocks for every peer cost a node several MB of its RSS budget) */
        ef_wr wr;
        ef_wr_init(&wr);
        int rc = ef_sess_seal(&c->sess, type, payload, len, &wr);
        if (!rc) rc = ef_conn_flush(c, &wr);
        ef_wr_free(&wr);
        if (!rc) n->st.frames_out++;
        return rc;
    }
    /* a small one (a vote, a status) is sealed now (the session's order) and
     * written with the others of this loop iteration: a node that answers several
     * messages in one iteration makes one write per peer instead of one per frame */
    size_t before = c->out.len;
    int rc = ef_sess_seal(&c->sess, type, payload, len, &c->out);
    if (rc) return rc;
    c->queued += c->out.len - before;
    n->st.frames_out++;
    if (c->out.len >= EF_NET_BATCH_BYTES_MAX) return ef_conn_flush_out(c);
    if (!uv_is_active((uv_handle_t *)&n->flush)) uv_idle_start(&n->flush, ef_net_flush_cb);
    return 0;
}

int ef_net_broadcast(ef_net *n, uint8_t type, const void *payload, size_t len, bool droppable,
                     const ef_conn *except)
{
    int sent = 0;
    for (ef_conn *c = n->conns, *next; c; c = next) {
        next = c->next;
        if (c == except || !c->authed || c->closing) continue;
        if (!ef_net_send(n, c, type, payload, len, droppable)) sent++;
    }
    return sent;
}

const ef_pub *ef_conn_pub(const ef_conn *c) { return &c->sess.peer; }
void *ef_conn_data(const ef_conn *c) { return c->data; }
void ef_conn_set_data(ef_conn *c, void *data) { c->data = data; }
const char *ef_conn_addr(const ef_conn *c) { return c->addr; }

size_t ef_net_conns(ef_net *n, ef_conn **out, size_t max)
{
    size_t k = 0;
    for (ef_conn *c = n->conns; c; c = c->next) {
        if (!c->authed || c->closing) continue;
        if (k < max) out[k] = c;
        k++;
    }
    return k;
}

void ef_net_get_stats(const ef_net *n, ef_net_stats *out)
{
    *out = n->st;
    out->preauth_conns = (uint32_t)n->npreauth;
}
