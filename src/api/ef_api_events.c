/* ef_api_events.c: GET /events, the server-sent stream of blocks and contract events. */
#include "api/ef_api_int.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "base/ef_log.h"

#define EF_API_SSE_BLOCK 16384      /* bytes libmicrohttpd asks of a stream at a time */

/* One open stream: its filters, the next height to send and the bytes not yet
 * taken by libmicrohttpd. */
typedef struct ef_sse {
    ef_api *api;
    int fd;                                /* the client's socket, to notice it leaving */
    uint64_t next;                         /* next height to send */
    bool skip;                             /* resuming mid-block (Last-Event-ID "h:pos"): */
    uint64_t skip_height, skip_pos;        /* block h's positions up to pos were delivered */
    bool want_blocks, want_events;
    char contract[32];                     /* "" = any */
    size_t names_len;                      /* 0 = any */
    char names[EF_API_FILTER_MAX][48];
    char *buf;                             /* pending bytes */
    size_t len, off, cap;
    uint64_t last_write_ms;
    uint64_t until_ms;                     /* opened with a read token: its expiry (Unix ms) */
} ef_sse;

static int ef_sse_append(ef_sse *s, const char *text, size_t n)
{
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n) cap *= 2;
        char *nb = realloc(s->buf, cap);
        if (!nb) return EF_ENOMEM;
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, text, n);
    s->len += n;
    return 0;
}

/* Appends one message "[event: type\n]id: id\n[data: json\n]\n" (steals j). */
static int ef_sse_message(ef_sse *s, const char *type, const char *id, json_t *j)
{
    char head[96];
    int rc = 0;
    char *data = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (j && !data) return EF_ENOMEM;
    if (type) {
        int n = snprintf(head, sizeof head, "event: %s\n", type);
        rc = rc ? rc : ef_sse_append(s, head, (size_t)n);
    }
    int n = snprintf(head, sizeof head, "id: %s\n", id);
    rc = rc ? rc : ef_sse_append(s, head, (size_t)n);
    if (data) {
        rc = rc ? rc : ef_sse_append(s, "data: ", 6);
        rc = rc ? rc : ef_sse_append(s, data, strlen(data));
        rc = rc ? rc : ef_sse_append(s, "\n", 1);
    }
    rc = rc ? rc : ef_sse_append(s, "\n", 1);
    free(data);
    return rc;
}

static bool ef_sse_name_match(const ef_sse *s, const char *name)
{
    if (s->names_len == 0) return true;
    for (size_t i = 0; i < s->names_len; i++)
        if (!strcmp(s->names[i], name)) return true;
    return false;
}

/* Queues the messages of block h that pass the filters, each with its id "h:pos"
 * (pos 0 the block itself, 1.. its contract events in order, counted before
 * filtering), skipping positions up to s->skip_pos if h is s->skip_height (a
 * resume mid-block). If none is queued, one message with only "id: h" says the
 * block is done. */
static int ef_sse_block(ef_sse *s, uint64_t h)
{
    ef_api *api = s->api;
    json_t *b = NULL;
    int rc = api->be.block(api->be.ctx, h, s->want_events, &b);   /* summaries need no txs */
    if (rc) return rc;
    bool resume = s->skip && s->skip_height == h;
    uint64_t skip_pos = resume ? s->skip_pos : 0;
    size_t sent = 0;
    char id[48];
    json_t *txs = json_object_get(b, "txs");
    if (s->want_blocks && !resume) {
        json_t *sum = json_pack("{s:I, s:O?, s:O?, s:O?, s:I}", "height", (json_int_t)h,
                                "hash", json_object_get(b, "hash"), "time_ms", json_object_get(b, "time_ms"),
                                "proposer", json_object_get(b, "proposer"), "txs",
                                (json_int_t)(json_is_array(txs) ? json_array_size(txs) : (size_t)json_integer_value(txs)));
        if (!sum) { rc = EF_ENOMEM; goto out; }
        snprintf(id, sizeof id, "%llu:0", (unsigned long long)h);
        if ((rc = ef_sse_message(s, "block", id, sum))) goto out;
        sent++;
    }
    uint64_t pos = 0;
    size_t i;
    json_t *tx;
    json_array_foreach(txs, i, tx) {
        if (!s->want_events) break;
        const char *contract = json_string_value(json_object_get(tx, "contract"));
        bool tx_match = contract && (!s->contract[0] || !strcmp(s->contract, contract));
        size_t k;
        json_t *ev;
        json_array_foreach(json_object_get(tx, "events"), k, ev) {
            pos++;
            if (!tx_match || pos <= skip_pos) continue;
            const char *name = json_string_value(json_object_get(ev, "name"));
            if (!name || !ef_sse_name_match(s, name)) continue;
            json_t *m = json_pack("{s:I, s:O?, s:I, s:s, s:s, s:O?}", "height", (json_int_t)h,
                                  "tx", json_object_get(tx, "hash"), "index", (json_int_t)i,
                                  "contract", contract, "name", name,
                                  "data", json_object_get(ev, "data"));
            if (!m) { rc = EF_ENOMEM; goto out; }
            snprintf(id, sizeof id, "%llu:%llu", (unsigned long long)h, (unsigned long long)pos);
            if ((rc = ef_sse_message(s, "event", id, m))) goto out;
            sent++;
        }
    }
    if (sent == 0) {
        snprintf(id, sizeof id, "%llu", (unsigned long long)h);
        rc = ef_sse_message(s, NULL, id, NULL);      /* id only */
    }
    s->skip = false;
out:
    json_decref(b);
    return rc;
}

/* true if the client closed its end (while the stream waits for blocks, MHD
 * would only notice at the next write, up to a keepalive later). */
static bool ef_sse_peer_gone(const ef_sse *s)
{
    if (s->fd < 0) return false;
    struct pollfd p = {.fd = s->fd, .events = POLLIN | POLLRDHUP};
    if (poll(&p, 1, 0) <= 0) return false;
    if (p.revents & (POLLHUP | POLLRDHUP | POLLERR)) return true;
    char c;
    return (p.revents & POLLIN) && recv(s->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

static ssize_t ef_sse_read(void *cls, uint64_t pos, char *dst, size_t max)
{
    (void)pos;
    ef_sse *s = cls;
    ef_api *api = s->api;
    while (s->off == s->len) {
        s->off = s->len = 0;
        pthread_mutex_lock(&api->mu);
        bool stopping = api->stopping;
        uint64_t known = api->height;
        pthread_mutex_unlock(&api->mu);
        if (stopping) return MHD_CONTENT_READER_END_OF_STREAM;
        if (s->until_ms && ef_now_wall_ms() >= s->until_ms) return MHD_CONTENT_READER_END_OF_STREAM;
        uint64_t top = api->be.height(api->be.ctx);
        if (top < known) top = known;
        if (s->next <= top) {
            int rc = ef_sse_block(s, s->next);
            if (rc == EF_ENOTFOUND && s->next < top) {
                s->next++;     /* a height the store no longer holds: skip it */
                continue;
            }
            if (rc == EF_ENOTFOUND) goto nap;
            if (rc) {
                EF_LOGW(EF_API_LOG, "event stream: block %llu: %s", (unsigned long long)s->next,
                        ef_strerror(rc));
                return MHD_CONTENT_READER_END_WITH_ERROR;
            }
            s->next++;
            s->last_write_ms = ef_api_now_ms();
            continue;
        }
    nap:;
        if (ef_sse_peer_gone(s)) return MHD_CONTENT_READER_END_WITH_ERROR;
        uint64_t now = ef_api_now_ms();
        if (now - s->last_write_ms >= EF_API_SSE_KEEPALIVE_MS) {
            if (ef_sse_append(s, ": keepalive\n\n", 13)) return MHD_CONTENT_READER_END_WITH_ERROR;
            s->last_write_ms = now;
            break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += EF_API_POLL_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
        pthread_mutex_lock(&api->mu);
        while (!api->stopping && api->height < s->next) {
            if (pthread_cond_timedwait(&api->cond, &api->mu, &ts) == ETIMEDOUT) break;
        }
        pthread_mutex_unlock(&api->mu);
    }
    size_t n = EF_MIN(max, s->len - s->off);
    memcpy(dst, s->buf + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

static void ef_sse_free(void *cls)
{
    ef_sse *s = cls;
    pthread_mutex_lock(&s->api->mu);
    s->api->sse_open--;
    pthread_cond_broadcast(&s->api->cond);        /* ef_api_stop may be waiting */
    pthread_mutex_unlock(&s->api->mu);
    free(s->buf);
    free(s);
}

/* Last-Event-ID: "h" (all of block h was delivered) or "h:pos" (block h up to
 * position pos). Sets where the stream starts; EF_EINVAL if malformed. */
static int ef_sse_parse_id(const char *id, ef_sse *s)
{
    char hs[24];
    const char *colon = strchr(id, ':');
    size_t n = colon ? (size_t)(colon - id) : strlen(id);
    uint64_t h, pos;
    if (n == 0 || n >= sizeof hs) return EF_EINVAL;
    memcpy(hs, id, n);
    hs[n] = 0;
    if (!ef_api_parse_u64(hs, &h)) return EF_EINVAL;
    if (!colon) {
        if (h == UINT64_MAX) return EF_EINVAL;
        s->next = h + 1;
        return 0;
    }
    if (!ef_api_parse_u64(colon + 1, &pos)) return EF_EINVAL;
    s->next = h;
    s->skip = true;
    s->skip_height = h;
    s->skip_pos = pos;
    return 0;
}

enum MHD_Result ef_api_events(ef_api *api, struct MHD_Connection *c, const char *rest,
                              ef_api_req *req)
{
    (void)rest;
    const char *fs = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "from");
    const char *ls = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
    const char *cs = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "contract");
    const char *es = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "event");
    const char *ks = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "kind");
    ef_sse *s = calloc(1, sizeof *s);
    if (!s) return ef_api_reply_err(api, c, 503, EF_ENOMEM, "out of memory");
    s->api = api;
    s->until_ms = ef_api_req_token_expiry(req);
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    s->fd = ci ? ci->connect_fd : -1;
    s->want_blocks = s->want_events = true;
    if (ks && !strcmp(ks, "block")) s->want_events = false;
    else if (ks && !strcmp(ks, "event")) s->want_blocks = false;
    else if (ks && strcmp(ks, "all")) goto bad_kind;
    uint64_t v;
    if (ls && *ls) {
        if (ef_sse_parse_id(ls, s)) goto bad_from;
    } else if (fs) {
        if (!ef_api_parse_u64(fs, &v)) goto bad_from;
        s->next = v;
    } else {
        s->next = api->be.height(api->be.ctx) + 1;
    }
    if (cs) {
        if (strlen(cs) >= sizeof s->contract) goto bad_filter;
        strcpy(s->contract, cs);
    }
    if (es) {
        const char *p = es;
        while (*p) {
            const char *e = strchr(p, ',');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            if (n == 0 || n >= sizeof s->names[0] || s->names_len == EF_API_FILTER_MAX) goto bad_filter;
            memcpy(s->names[s->names_len], p, n);
            s->names[s->names_len++][n] = 0;
            p += n;
            if (*p == ',') p++;
        }
    }
    pthread_mutex_lock(&api->mu);
    bool full = api->sse_open >= EF_API_SSE_MAX;
    if (!full) api->sse_open++;
    pthread_mutex_unlock(&api->mu);
    if (full) {
        free(s);
        return ef_api_reply_err(api, c, 503, EF_EFULL, "too many event streams open");
    }
    s->last_write_ms = 0;     /* send a first keepalive at once if nothing is due */
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, EF_API_SSE_BLOCK,
                                                               ef_sse_read, s, ef_sse_free);
    if (!r) {
        ef_sse_free(s);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    return ef_api_queue(api, c, 200, r);
bad_kind:
    free(s);
    return ef_api_reply_err(api, c, 400, EF_EINVAL, "kind must be all, block or event");
bad_from:
    free(s);
    return ef_api_reply_err(api, c, 400, EF_EINVAL,
                            "from must be a height, Last-Event-ID a height or HEIGHT:POSITION");
bad_filter:
    free(s);
    return ef_api_reply_err(api, c, 400, EF_EINVAL, "bad contract or event filter");
}
