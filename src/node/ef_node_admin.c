/* ef_node_admin.c: the node's local admin socket (a Unix stream socket, mode
 * 0600), a node extension (ef_node_admin.h): submit transactions, read status,
 * block hashes and tx locations. It is how `edgefed submit`, `edgefed status`, the
 * load generator and the integration tests talk to a node, with or without the
 * HTTP API.
 *
 * Protocol: one request per line, one or more reply lines, all ASCII.
 *   submit HEX            -> "admitted HASH" | "rejected HASH ERRNAME"
 *                            later, for an admitted tx:
 *                            "committed HASH HEIGHT CODE" | "dropped HASH ERRNAME"
 *   status                -> "status JSON" (ef_node_status_json, one line)
 *   hashes FROM TO        -> "hash H HEX" for each committed H in FROM..TO (at most
 *                            EF_ADMIN_HASHES_MAX), then "end"
 *   tx HASH               -> "tx HASH HEIGHT CODE" | "tx HASH none"
 *   nonce PUB             -> "nonce PUB N" (the account's next nonce, committed state)
 *   anything else         -> "error UNKNOWN"
 * Lines are at most EF_NODE_ADMIN_LINE_MAX bytes; a longer one closes the client.
 * At most EF_NODE_ADMIN_CLIENTS_MAX clients at once. Replies to one client come
 * in order, except that "committed"/"dropped" lines come when they happen.
 * Reply lines are gathered per client and written once per loop iteration (a
 * prepare handle, just before the loop waits for I/O) or when EF_ADMIN_OUTBUF_MAX
 * bytes are pending: one write for a whole block's commit notices, not one each.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "base/ef_codec.h"
#include "base/ef_log.h"
#include "node/ef_node_admin.h"

#define EF_NODE_ADMIN_LINE_MAX (2 * EF_TX_ENC_MAX + 64)
#define EF_NODE_ADMIN_CLIENTS_MAX 64
#define EF_ADMIN_HASHES_MAX 10000
#define EF_ADMIN_OUTQ_MAX (8u << 20)   /* bytes queued to one client before it is closed */
#define EF_ADMIN_OUTBUF_MAX (64u << 10) /* reply bytes gathered before a write is forced */

typedef struct ef_admin_client {
    struct ef_admin *adm;
    uv_pipe_t pipe;
    char *buf;
    size_t len;
    size_t queued;
    char *out;                 /* reply lines not yet handed to uv_write */
    size_t out_len, out_cap;
    int refs;                  /* waiters pointing here, plus 1 while open */
    bool closed;
    struct ef_admin_client *next, *prev;
} ef_admin_client;

typedef struct ef_admin {
    ef_node *node;
    char path[EF_NODE_PATH_MAX]; /* the socket, removed on stop */
    uv_pipe_t server;
    ef_admin_client *clients;
    size_t nclients;
    uv_prepare_t flush;        /* writes every client's gathered replies */
    int handles;               /* open handles (server, flush); a is freed at 0 */
} ef_admin;

typedef struct ef_admin_wreq {
    uv_write_t req;
    ef_admin_client *c;
    size_t len;
    char data[];
} ef_admin_wreq;

static void admin_client_unref(ef_admin_client *c)
{
    if (--c->refs > 0) return;
    free(c->buf);
    free(c->out);
    free(c);
}

static void admin_client_closed(uv_handle_t *h)
{
    admin_client_unref(h->data);
}

static void admin_client_close(ef_admin_client *c)
{
    if (c->closed) return;
    c->closed = true;
    c->out_len = 0;
    ef_admin *a = c->adm;
    if (c->prev) c->prev->next = c->next;
    else a->clients = c->next;
    if (c->next) c->next->prev = c->prev;
    a->nclients--;
    uv_close((uv_handle_t *)&c->pipe, admin_client_closed);
}

static void admin_write_done(uv_write_t *req, int status)
{
    ef_admin_wreq *w = (ef_admin_wreq *)req;
    ef_admin_client *c = w->c;
    c->queued -= w->len;
    if (status < 0 && !c->closed) admin_client_close(c);
    admin_client_unref(c);
    free(w);
}

static void admin_send(ef_admin_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hands the gathered replies to libuv (one write). */
static void admin_flush(ef_admin_client *c)
{
    if (c->closed || c->out_len == 0) return;
    ef_admin_wreq *w = malloc(sizeof *w + c->out_len);
    if (!w) return;
    memcpy(w->data, c->out, c->out_len);
    w->c = c;
    w->len = c->out_len;
    c->out_len = 0;
    uv_buf_t b = uv_buf_init(w->data, (unsigned)w->len);
    c->refs++;
    c->queued += w->len;
    if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, admin_write_done)) {
        c->queued -= w->len;
        c->refs--;
        free(w);
        admin_client_close(c);
    }
}

static void admin_flush_all(uv_prepare_t *h)
{
    ef_admin *a = h->data;
    for (ef_admin_client *c = a->clients; c; c = c->next) admin_flush(c);
}

static void admin_send(ef_admin_client *c, const char *fmt, ...)
{
    if (c->closed) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (c->queued + c->out_len + (size_t)n > EF_ADMIN_OUTQ_MAX) {
        admin_client_close(c);
        return;
    }
    if (c->out_len + (size_t)n + 1 > c->out_cap) {
        size_t cap = EF_MAX(c->out_cap * 2, c->out_len + (size_t)n + 1);
        cap = EF_MAX(cap, (size_t)4096);
        char *o = realloc(c->out, cap);
        if (!o) return;
        c->out = o;
        c->out_cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(c->out + c->out_len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    c->out_len += (size_t)n;
    if (c->out_len >= EF_ADMIN_OUTBUF_MAX) admin_flush(c);
}

static void admin_tx_cb(void *arg, const ef_hash *h, int stage, int code, uint64_t height)
{
    ef_admin_client *c = arg;
    char hex[2 * EF_HASH_SIZE + 1];
    ef_hex(hex, h->b, EF_HASH_SIZE);
    if (stage == EF_NODE_TX_ADMITTED) {
        if (code == 0) {
            admin_send(c, "admitted %s\n", hex);
            return; /* the waiter keeps the reference */
        }
        admin_send(c, "rejected %s %s\n", hex, ef_errname(code));
    } else if (stage == EF_NODE_TX_COMMITTED) {
        admin_send(c, "committed %s %llu %d\n", hex, (unsigned long long)height, code);
    } else {
        admin_send(c, "dropped %s %s\n", hex, ef_errname(code));
    }
    admin_client_unref(c);
}

static void admin_line(ef_admin_client *c, char *line)
{
    ef_node *n = c->adm->node;
    if (!strncmp(line, "submit ", 7)) {
        const char *hex = line + 7;
        size_t hl = strlen(hex);
        if (hl % 2 || hl / 2 > EF_TX_ENC_MAX || hl == 0) {
            admin_send(c, "rejected - %s\n", ef_errname(hl ? EF_ETOOBIG : EF_EINVAL));
            return;
        }
        uint8_t *tx = malloc(hl / 2);
        if (!tx) return;
        if (ef_unhex(tx, hl / 2, hex)) {
            admin_send(c, "rejected - %s\n", ef_errname(EF_EINVAL));
            free(tx);
            return;
        }
        c->refs++;
        ef_node_submit_local(n, tx, hl / 2, admin_tx_cb, c, NULL);
        free(tx);
    } else if (!strcmp(line, "status")) {
        json_t *j = ef_node_status_json(n);
        char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
        admin_send(c, "status %s\n", s ? s : "{}");
        free(s);
        json_decref(j);
    } else if (!strncmp(line, "hashes ", 7)) {
        unsigned long long from, to;
        if (sscanf(line + 7, "%llu %llu", &from, &to) != 2) {
            admin_send(c, "error ARGS\n");
            return;
        }
        if (to > from + EF_ADMIN_HASHES_MAX) to = from + EF_ADMIN_HASHES_MAX;
        for (unsigned long long h = from; h <= to; h++) {
            ef_block_header hdr;
            if (ef_store_header(ef_node_store(n), h, &hdr)) break;
            ef_hash bh;
            ef_block_header_hash(&bh, &hdr);
            char hex[2 * EF_HASH_SIZE + 1];
            ef_hex(hex, bh.b, EF_HASH_SIZE);
            admin_send(c, "hash %llu %s\n", h, hex);
        }
        admin_send(c, "end\n");
    } else if (!strncmp(line, "tx ", 3)) {
        ef_hash h;
        if (ef_unhex(h.b, EF_HASH_SIZE, line + 3)) {
            admin_send(c, "error ARGS\n");
            return;
        }
        ef_tx_loc loc;
        if (ef_store_tx_lookup(ef_node_store(n), &h, &loc) == 0) {
            admin_send(c, "tx %s %llu %d\n", line + 3, (unsigned long long)loc.height, loc.code);
            free(loc.events_json);
        } else {
            admin_send(c, "tx %s none\n", line + 3);
        }
    } else if (!strncmp(line, "nonce ", 6)) {
        ef_pub pub;
        uint64_t next = 0;
        if (ef_unhex(pub.b, EF_PUB_SIZE, line + 6) || ef_store_nonce(ef_node_store(n), &pub, &next)) {
            admin_send(c, "error ARGS\n");
            return;
        }
        admin_send(c, "nonce %s %llu\n", line + 6, (unsigned long long)next);
    } else {
        admin_send(c, "error UNKNOWN\n");
    }
}

static void admin_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    (void)suggested;
    static char rbuf[65536]; /* one loop thread: reads are sequential */
    *b = uv_buf_init(rbuf, sizeof rbuf);
}

static void admin_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    ef_admin_client *c = s->data;
    if (c->closed) return;
    if (nread < 0) {
        admin_client_close(c);
        return;
    }
    c->refs++; /* admin_line may close c */
    for (ssize_t i = 0; i < nread && !c->closed; i++) {
        char ch = b->base[i];
        if (ch == '\n') {
            c->buf[c->len] = 0;
            if (c->len && c->buf[c->len - 1] == '\r') c->buf[c->len - 1] = 0;
            admin_line(c, c->buf);
            c->len = 0;
        } else if (c->len + 1 >= EF_NODE_ADMIN_LINE_MAX) {
            admin_client_close(c);
        } else {
            c->buf[c->len++] = ch;
        }
    }
    admin_client_unref(c);
}

static void admin_on_conn(uv_stream_t *server, int status)
{
    ef_admin *a = server->data;
    if (status < 0) return;
    ef_admin_client *c = calloc(1, sizeof *c);
    if (!c) return;
    c->buf = malloc(EF_NODE_ADMIN_LINE_MAX);
    c->adm = a;
    c->refs = 1;
    uv_pipe_init(server->loop, &c->pipe, 0);
    c->pipe.data = c;
    c->next = a->clients;
    if (a->clients) a->clients->prev = c;
    a->clients = c;
    a->nclients++;
    if (!c->buf || uv_accept(server, (uv_stream_t *)&c->pipe) ||
        a->nclients > EF_NODE_ADMIN_CLIENTS_MAX ||
        uv_read_start((uv_stream_t *)&c->pipe, admin_alloc, admin_read))
        admin_client_close(c);
}

static void admin_handle_closed(uv_handle_t *h)
{
    ef_admin *a = h->data;
    if (--a->handles == 0) free(a);
}

static void admin_stop(void *state)
{
    ef_admin *a = state;
    if (!a) return;
    while (a->clients) admin_client_close(a->clients);
    uv_prepare_stop(&a->flush);
    uv_close((uv_handle_t *)&a->flush, admin_handle_closed);
    uv_close((uv_handle_t *)&a->server, admin_handle_closed);
    unlink(a->path);
}

static int admin_start(ef_node *n, const ef_node_config *cfg, void **state)
{
    *state = NULL;
    if (!cfg->admin_socket[0]) return 0;
    ef_admin *a = calloc(1, sizeof *a);
    if (!a) return EF_ENOMEM;
    a->node = n;
    snprintf(a->path, sizeof a->path, "%s", cfg->admin_socket);
    unlink(a->path); /* a stale socket from a killed node */
    uv_loop_t *loop = ef_node_loop(n);
    uv_pipe_init(loop, &a->server, 0);
    a->server.data = a;
    uv_prepare_init(loop, &a->flush);
    a->flush.data = a;
    uv_prepare_start(&a->flush, admin_flush_all);
    a->handles = 2;
    mode_t old = umask(0077);
    int rc = uv_pipe_bind(&a->server, a->path);
    umask(old);
    if (!rc) rc = uv_listen((uv_stream_t *)&a->server, 16, admin_on_conn);
    if (rc) {
        EF_LOGE("node", "admin socket %s: %s", a->path, uv_strerror(rc));
        admin_stop(a); /* not started: the node will not call stop */
        return EF_EIO;
    }
    *state = a;
    return 0;
}

const ef_node_ext ef_node_admin_ext = {
    .name = "admin",
    .start = admin_start,
    .stop = admin_stop,
};
