/* ef_api.c: the HTTP API server on libmicrohttpd: routing, limits, errors, signed
 * reads, commit waits and the chain's JSON endpoints (the event stream is in
 * ef_api_events.c, the Prometheus metrics in ef_api_metrics.c). */
#include "api/ef_api_int.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/ef_codec.h"
#include "base/ef_log.h"

#define EF_API_REPLAY_KEY 16        /* signature bytes remembered per entry */
#define EF_API_STACK_SIZE (1u << 20) /* per connection thread; jansson nests up to 2048 deep */
#define EF_API_STOP_GRACE_MS 500L    /* waiters and streams get this long to finish on stop */

struct ef_api_replay {
    uint8_t sig[EF_API_REPLAY_KEY];
    uint64_t expire_ms;
};

/* One request: allocated when its URI arrives, freed when it completes. */
struct ef_api_req {
    char target[EF_API_PATH_MAX + 1];   /* request target as sent, for signatures */
    bool target_too_long;
    bool started;
    bool body_too_big;
    bool waited;                        /* counted in waits_unsent until completed */
    uint64_t token_expires_ms;          /* read with a token: when it expires (else 0) */
    uint8_t *body;
    size_t body_len;
};

/* One open connection, from libmicrohttpd's "started" notice to its "closed" one
 * (which comes before it closes the socket, so fd is never another's). */
struct ef_api_conn {
    int fd;
    uint64_t since_ms;                  /* opened, or its last answer completed */
    bool receiving;                     /* a request may be arriving: the deadline runs */
    bool cut;                           /* closed at the deadline */
    ef_api_conn *prev, *next;
};

/* ---------------------------------------------------------------- helpers */

unsigned ef_api_http_status(int err)
{
    switch (err) {
    case EF_OK: return 200;
    case EF_EINVAL: case EF_ETRUNC: case EF_ETRAILING: case EF_ENONCANON: case EF_EARGS:
        return 400;
    case EF_EPERM: case EF_EAUTH: case EF_ENOACCOUNT: return 403;
    case EF_ENOTFOUND: case EF_ENOCONTRACT: case EF_ENOMETHOD: return 404;
    case EF_ENONCE: case EF_EDUP: case EF_EEXIST: case EF_ESTATE: case EF_EGAP: case EF_ERECORDED:
    case EF_EEXPIRED: return 409;
    case EF_ETOOBIG: case EF_ELIMIT: return 413;
    case EF_EBADSIG: case EF_ECHAIN: case EF_EHEIGHT: case EF_EFUNDS: return 422;
    case EF_EQUOTA: return 429;
    case EF_EFULL: case EF_EAGAIN: case EF_ECLOSED: case EF_EEVICTED: return 503;
    case EF_ETIMEOUT: return 504;
    default: return 500;
    }
}

uint64_t ef_api_now_ms(void) { return ef_now_mono_us() / 1000; }

bool ef_api_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || strlen(s) > 20) return false;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return false;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static void ef_api_count(ef_api *api, unsigned status)
{
    unsigned cls = status / 100;
    if (cls >= 1 && cls <= 5) atomic_fetch_add(&api->http_status[cls], 1);
}

enum MHD_Result ef_api_queue(ef_api *api, struct MHD_Connection *c, unsigned status,
                             struct MHD_Response *r)
{
    if (!r) return MHD_NO;
    ef_api_count(api, status);
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

enum MHD_Result ef_api_reply_owned(ef_api *api, struct MHD_Connection *c, unsigned status,
                                   const char *ctype, char *body, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    return ef_api_queue(api, c, status, r);
}

/* Replies with a JSON value; steals the reference. */
static enum MHD_Result ef_api_reply_json(ef_api *api, struct MHD_Connection *c, unsigned status,
                                         json_t *j)
{
    /* JSON_ENCODE_ANY: a contract's query may answer a bare number or string */
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    if (!text) {
        static const char oom[] = "{\"error\":\"out of memory\",\"code\":\"ENOMEM\"}";
        struct MHD_Response *r = MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
        if (!r) return MHD_NO;
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        enum MHD_Result ret = MHD_queue_response(c, 503, r);
        MHD_destroy_response(r);
        return ret;
    }
    return ef_api_reply_owned(api, c, status, "application/json", text, strlen(text));
}

enum MHD_Result ef_api_reply_err(ef_api *api, struct MHD_Connection *c, unsigned status,
                                 int err, const char *fmt, ...)
{
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (!status) status = ef_api_http_status(err);
    int idx = err < 0 ? -err : 0;
    if (idx > 0 && idx < EF_ERR_COUNT_) atomic_fetch_add(&api->rejected[idx], 1);
    json_t *j = json_pack("{s:s, s:s}", "error", text, "code", ef_errname(err));
    return ef_api_reply_json(api, c, status, j);
}

/* --------------------------------------------------------- signed requests */

int ef_api_auth_message(char *out, size_t cap, const char *method, const char *target,
                        uint64_t time_ms)
{
    EF_ASSERT(out && method && target);
    int n = snprintf(out, cap, "%s\n%s\n%llu", method, target, (unsigned long long)time_ms);
    if (n < 0 || (size_t)n >= cap) return EF_ETOOBIG;
    return n;
}

int ef_api_auth_sign(char key_hex[2 * EF_PUB_SIZE + 1], char sig_hex[2 * EF_SIG_SIZE + 1],
                     const ef_keypair *kp, const char *method, const char *target,
                     uint64_t time_ms)
{
    char msg[EF_API_PATH_MAX + 64];
    if (strlen(target) > EF_API_PATH_MAX) return EF_ETOOBIG;
    int n = ef_api_auth_message(msg, sizeof msg, method, target, time_ms);
    if (n < 0) return n;
    ef_sig sig;
    ef_sign(&sig, kp, EF_TAG_HTTP, msg, (size_t)n);
    ef_hex(key_hex, kp->pub.b, EF_PUB_SIZE);
    ef_hex(sig_hex, sig.b, EF_SIG_SIZE);
    return 0;
}

/* Remembers sig until expire_ms; EF_EDUP if it is already remembered, EF_EFULL if
 * the table is full of unexpired entries. Caller holds api->mu. */
static int ef_api_replay_add(ef_api *api, const ef_sig *sig, uint64_t now_ms, uint64_t expire_ms)
{
    size_t w = 0;
    bool dup = false;
    for (size_t i = 0; i < api->replay_len; i++) {
        ef_api_replay *e = &api->replay[i];
        if (e->expire_ms < now_ms) continue;              /* drop expired */
        if (!memcmp(e->sig, sig->b, EF_API_REPLAY_KEY)) dup = true;
        api->replay[w++] = *e;
    }
    api->replay_len = w;
    if (dup) return EF_EDUP;
    if (api->replay_len == EF_API_REPLAY_MAX) return EF_EFULL;
    ef_api_replay *e = &api->replay[api->replay_len++];
    memcpy(e->sig, sig->b, EF_API_REPLAY_KEY);
    e->expire_ms = expire_ms;
    return 0;
}

/* Checks a read token ("Authorization: Bearer HEX", value bearer): format,
 * signature, chain, lifetime, then membership now. Returns 0 (and notes the
 * expiry in req), or replies 403 and returns the error. */
static int ef_api_check_token(ef_api *api, struct MHD_Connection *c, const char *method,
                              ef_api_req *req, const char *bearer, enum MHD_Result *reply)
{
    const char *why;
    ef_api_token t;
    int err;
    if (strcmp(method, "GET")) {
        err = EF_EPERM;
        why = "a read token authorises reads (GET) only";
        goto refuse;
    }
    if (!api->chain_id[0]) {
        err = EF_EPERM;
        why = "this node accepts no read tokens; sign the request";
        goto refuse;
    }
    err = ef_api_token_check(&t, bearer, api->chain_id, ef_now_wall_ms());
    switch (err) {
    case 0: break;
    case EF_EBADSIG: why = "read token: the signature does not verify"; goto refuse;
    case EF_ECHAIN: why = "read token: made for another chain"; goto refuse;
    case EF_ELATE: why = "read token: expired (or not yet valid); make a new one"; goto refuse;
    default: why = "read token: malformed"; goto refuse;
    }
    if (!api->be.is_member(api->be.ctx, &t.pub, api->domain[0] ? api->domain : NULL)) {
        err = EF_EPERM;
        why = "read token: its key is not a member of this ledger";
        goto refuse;
    }
    req->token_expires_ms = t.expires_ms;
    return 0;
refuse:
    *reply = ef_api_reply_err(api, c, 403, err, "%s", why);
    return err;
}

/* Checks a private ledger's request signature, or its read token. Returns 0, or
 * replies (403/503) and returns the error. */
static int ef_api_check_auth(ef_api *api, struct MHD_Connection *c, const char *method,
                             ef_api_req *req, enum MHD_Result *reply)
{
    const char *az = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (az && !strncasecmp(az, "Bearer ", 7)) {
        const char *b = az + 7;
        while (*b == ' ') b++;
        return ef_api_check_token(api, c, method, req, b, reply);
    }
    const char *kh = MHD_lookup_connection_value(c, MHD_HEADER_KIND, EF_API_HDR_KEY);
    const char *th = MHD_lookup_connection_value(c, MHD_HEADER_KIND, EF_API_HDR_TIME);
    const char *sh = MHD_lookup_connection_value(c, MHD_HEADER_KIND, EF_API_HDR_SIG);
    ef_pub pub;
    ef_sig sig;
    uint64_t t;
    int err = EF_EPERM;
    const char *why;
    if (!kh || !th || !sh) {
        why = "private ledger: request must be signed (" EF_API_HDR_KEY ", " EF_API_HDR_TIME
              ", " EF_API_HDR_SIG ")";
        goto refuse;
    }
    if (strlen(kh) != 2 * EF_PUB_SIZE || ef_unhex(pub.b, EF_PUB_SIZE, kh) ||
        strlen(sh) != 2 * EF_SIG_SIZE || ef_unhex(sig.b, EF_SIG_SIZE, sh) ||
        !ef_api_parse_u64(th, &t)) {
        err = EF_EINVAL;
        why = "malformed signature headers";
        goto refuse;
    }
    uint64_t now = ef_now_wall_ms();
    if (t + EF_API_SIG_WINDOW_MS < now || t > now + EF_API_SIG_WINDOW_MS) {
        err = EF_ELATE;
        why = "request time outside the signature window";
        goto refuse;
    }
    if (req->target_too_long) {
        err = EF_ETOOBIG;
        why = "request target too long to sign";
        goto refuse;
    }
    char msg[EF_API_PATH_MAX + 64];
    int n = ef_api_auth_message(msg, sizeof msg, method, req->target, t);
    if (n < 0 || !ef_verify(&sig, &pub, EF_TAG_HTTP, msg, (size_t)n)) {
        err = EF_EBADSIG;
        why = "request signature does not verify";
        goto refuse;
    }
    /* membership before the replay table, so outsiders cannot fill it */
    if (!api->be.is_member || !api->be.is_member(api->be.ctx, &pub, api->domain[0] ? api->domain : NULL)) {
        err = EF_EPERM;
        why = "not a member of this ledger";
        goto refuse;
    }
    pthread_mutex_lock(&api->mu);
    int rc = ef_api_replay_add(api, &sig, now, t + EF_API_SIG_WINDOW_MS);
    pthread_mutex_unlock(&api->mu);
    if (rc == EF_EDUP) {
        err = EF_EDUP;
        why = "replayed request signature";
        goto refuse;
    }
    if (rc == EF_EFULL) {
        *reply = ef_api_reply_err(api, c, 503, EF_EFULL, "too many signed requests, retry later");
        return rc;
    }
    return 0;
refuse:
    *reply = ef_api_reply_err(api, c, 403, err, "%s", why);
    return err;
}

uint64_t ef_api_req_token_expiry(const ef_api_req *req) { return req->token_expires_ms; }

/* ------------------------------------------------------------- endpoints */

static enum MHD_Result ef_api_get_json(ef_api *api, struct MHD_Connection *c, int rc, json_t *j,
                                       const char *what)
{
    if (rc) {
        json_decref(j);
        return ef_api_reply_err(api, c, 0, rc, "%s: %s", what, ef_strerror(rc));
    }
    return ef_api_reply_json(api, c, 200, j);
}

uint64_t ef_api_txs(ef_api *api, uint64_t *counted)
{
    if (api->be.txs_total) return api->be.txs_total(api->be.ctx, counted);
    *counted = atomic_load(&api->txs_counted);
    return atomic_load(&api->txs_total);
}

/* GET /status */
static enum MHD_Result ef_api_status(ef_api *api, struct MHD_Connection *c, const char *rest,
                                     ef_api_req *req)
{
    (void)rest;
    (void)req;
    uint64_t counted;
    uint64_t txs = ef_api_txs(api, &counted);
    uint64_t version = api->be.status_version ? api->be.status_version(api->be.ctx) : 0;
    if (api->be.status_version) {             /* unchanged since the last answer? */
        char *copy = NULL;
        size_t len = 0;
        pthread_mutex_lock(&api->mu);
        if (api->status_text && api->status_version == version && api->status_txs == txs) {
            copy = malloc(api->status_len);
            len = api->status_len;
            if (copy) memcpy(copy, api->status_text, len);
        }
        pthread_mutex_unlock(&api->mu);
        if (copy) return ef_api_reply_owned(api, c, 200, "application/json", copy, len);
    }
    json_t *j = NULL;
    int rc = api->be.status(api->be.ctx, &j);
    if (rc) return ef_api_get_json(api, c, rc, j, "status");
    if (json_is_object(j)) {
        json_object_set_new(j, "txs_total", json_integer((json_int_t)txs));
        json_object_set_new(j, "txs_counted_to", json_integer((json_int_t)counted));
    }
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!text) return MHD_NO;
    size_t len = strlen(text);
    if (api->be.status_version) {
        char *keep = malloc(len);
        if (keep) {
            memcpy(keep, text, len);
            pthread_mutex_lock(&api->mu);
            free(api->status_text);
            api->status_text = keep;
            api->status_len = len;
            api->status_version = version;
            api->status_txs = txs;
            pthread_mutex_unlock(&api->mu);
        }
    }
    return ef_api_reply_owned(api, c, 200, "application/json", text, len);
}

static enum MHD_Result ef_api_block(ef_api *api, struct MHD_Connection *c, const char *hs)
{
    uint64_t h;
    const char *sub = strchr(hs, '/');
    if (sub) {   /* GET /blocks/{height}/checkpoint */
        char num[24];
        size_t nl = (size_t)(sub - hs);
        if (strcmp(sub, "/checkpoint")) return ef_api_reply_err(api, c, 404, EF_ENOTFOUND, "no such endpoint");
        if (nl == 0 || nl >= sizeof num) return ef_api_reply_err(api, c, 400, EF_EINVAL, "height must be a decimal number");
        memcpy(num, hs, nl);
        num[nl] = 0;
        if (!ef_api_parse_u64(num, &h))
            return ef_api_reply_err(api, c, 400, EF_EINVAL, "height must be a decimal number");
        if (!api->be.checkpoint)
            return ef_api_reply_err(api, c, 404, EF_ENOTFOUND, "this server has no checkpoints");
        json_t *j = NULL;
        int rc = api->be.checkpoint(api->be.ctx, h, &j);
        return ef_api_get_json(api, c, rc, j, "checkpoint");
    }
    if (!ef_api_parse_u64(hs, &h))
        return ef_api_reply_err(api, c, 400, EF_EINVAL, "height must be a decimal number");
    json_t *j = NULL;
    int rc = api->be.block(api->be.ctx, h, true, &j);
    return ef_api_get_json(api, c, rc, j, "block");
}

static enum MHD_Result ef_api_block_list(ef_api *api, struct MHD_Connection *c)
{
    const char *fs = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "from");
    const char *ts = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "to");
    uint64_t top = api->be.height(api->be.ctx), from, to;
    if (ts) {
        if (!ef_api_parse_u64(ts, &to))
            return ef_api_reply_err(api, c, 400, EF_EINVAL, "'to' must be a decimal number");
    } else {
        to = top;
    }
    if (fs) {
        if (!ef_api_parse_u64(fs, &from))
            return ef_api_reply_err(api, c, 400, EF_EINVAL, "'from' must be a decimal number");
    } else {
        from = to >= 19 ? to - 19 : 0;
    }
    if (from > to) return ef_api_reply_err(api, c, 400, EF_EINVAL, "'from' is above 'to'");
    if (to - from >= EF_API_RANGE_MAX)
        return ef_api_reply_err(api, c, 400, EF_ETOOBIG, "at most %d blocks per request",
                                EF_API_RANGE_MAX);
    if (to > top) to = top;
    json_t *list = json_array();
    for (uint64_t h = from; h <= to && from <= top; h++) {
        json_t *b = NULL;
        int rc = api->be.block(api->be.ctx, h, false, &b);
        if (rc == EF_ENOTFOUND) continue;   /* below a pruned or missing base */
        if (rc) {
            json_decref(list);
            return ef_api_reply_err(api, c, 0, rc, "block %llu: %s", (unsigned long long)h,
                                    ef_strerror(rc));
        }
        json_array_append_new(list, b);
    }
    return ef_api_reply_json(api, c, 200,
                             json_pack("{s:o, s:I}", "blocks", list, "height", (json_int_t)top));
}

/* GET /blocks?from=&to= and GET /blocks/{height}: one prefix route for both, so
 * that another method on any path starting /blocks is 405 (and GET /blocksX 404). */
static enum MHD_Result ef_api_blocks(ef_api *api, struct MHD_Connection *c, const char *rest,
                                     ef_api_req *req)
{
    (void)req;
    if (!*rest) return ef_api_block_list(api, c);
    if (*rest == '/') return ef_api_block(api, c, rest + 1);
    return ef_api_reply_err(api, c, 404, EF_ENOTFOUND, "no such endpoint");
}

/* GET /txs/{hash} */
static enum MHD_Result ef_api_tx(ef_api *api, struct MHD_Connection *c, const char *hs,
                                 ef_api_req *req)
{
    (void)req;
    ef_hash h;
    if (strlen(hs) != 2 * EF_HASH_SIZE || ef_unhex(h.b, EF_HASH_SIZE, hs))
        return ef_api_reply_err(api, c, 400, EF_EINVAL, "transaction hash must be 64 hex digits");
    json_t *j = NULL;
    int rc = api->be.tx(api->be.ctx, &h, &j);
    return ef_api_get_json(api, c, rc, j, "transaction");
}

/* GET /accounts/{key} */
static enum MHD_Result ef_api_account(ef_api *api, struct MHD_Connection *c, const char *ks,
                                      ef_api_req *req)
{
    (void)req;
    ef_pub pub;
    if (strlen(ks) != 2 * EF_PUB_SIZE || ef_unhex(pub.b, EF_PUB_SIZE, ks))
        return ef_api_reply_err(api, c, 400, EF_EINVAL, "account key must be 64 hex digits");
    json_t *j = NULL;
    int rc = api->be.account(api->be.ctx, &pub, &j);
    return ef_api_get_json(api, c, rc, j, "account");
}

/* GET /proofs/tx/{hash} */
static enum MHD_Result ef_api_proof(ef_api *api, struct MHD_Connection *c, const char *hs, ef_api_req *req)
{
    (void)req;
    ef_hash h;
    if (!api->be.proof) return ef_api_reply_err(api, c, 404, EF_ENOTFOUND, "this server has no proofs");
    if (strlen(hs) != 2 * EF_HASH_SIZE || ef_unhex(h.b, EF_HASH_SIZE, hs))
        return ef_api_reply_err(api, c, 400, EF_EINVAL, "transaction hash must be 64 hex digits");
    json_t *j = NULL;
    int rc = api->be.proof(api->be.ctx, &h, &j);
    return ef_api_get_json(api, c, rc, j, "proof");
}

struct ef_api_qarg {
    const char *key, *value;
};

static enum MHD_Result ef_api_first_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct ef_api_qarg *qa = cls;
    (void)kind;
    qa->key = key;
    qa->value = value;
    return MHD_NO;   /* the first one only */
}

/* GET /state/{contract}/{path} */
static enum MHD_Result ef_api_state(ef_api *api, struct MHD_Connection *c, const char *rest,
                                    ef_api_req *req)
{
    (void)req;
    char contract[EF_API_PATH_MAX + 1];
    const char *slash = strchr(rest, '/');
    size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
    if (n == 0 || n > 16)
        return ef_api_reply_err(api, c, 400, EF_EINVAL, "contract name must be 1..16 bytes");
    memcpy(contract, rest, n);
    contract[n] = 0;
    const char *path = slash ? slash + 1 : "";
    /* a query string reaches the contract as part of its path ("services?state=open"):
     * libmicrohttpd strips it from the URL, so put the first argument back */
    char full[EF_API_PATH_MAX + 1];
    struct ef_api_qarg qa = {NULL, NULL};
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, ef_api_first_arg, &qa);
    if (qa.key) {
        if ((size_t)snprintf(full, sizeof full, "%s?%s=%s", path, qa.key, qa.value ? qa.value : "") >= sizeof full)
            return ef_api_reply_err(api, c, 400, EF_EINVAL, "path too long");
        path = full;
    }
    if (api->be.query_text) {
        /* a contract's own JSON text (its exports): served as it is */
        char *text = NULL;
        size_t len = 0;
        int trc = api->be.query_text(api->be.ctx, contract, path, &text, &len);
        if (trc == 0) return ef_api_reply_owned(api, c, 200, "application/json", text, len);
        if (trc != EF_ENOMETHOD) return ef_api_get_json(api, c, trc, NULL, "query");
    }
    json_t *j = NULL;
    int rc = api->be.query(api->be.ctx, contract, path, &j);
    return ef_api_get_json(api, c, rc, j, "query");
}

/* POST /txs: decode the body, submit, and optionally wait for the commit. */
static enum MHD_Result ef_api_post_tx(ef_api *api, struct MHD_Connection *c, const char *rest,
                                      ef_api_req *req)
{
    (void)rest;
    const char *ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    const char *wait = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "wait");
    const char *tms = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "timeout_ms");
    uint64_t timeout_ms = api->wait_ms_max;
    if (wait && strcmp(wait, "commit"))
        return ef_api_reply_err(api, c, 400, EF_EINVAL, "wait must be 'commit'");
    if (tms && (!ef_api_parse_u64(tms, &timeout_ms) || timeout_ms == 0 || timeout_ms > api->wait_ms_max))
        return ef_api_reply_err(api, c, 400, EF_EINVAL, "timeout_ms must be 1..%u", api->wait_ms_max);

    uint8_t *raw = NULL;
    size_t raw_len = 0;
    bool raw_owned = false;
    if (ctype && !strncmp(ctype, "application/octet-stream", 24)) {
        raw = req->body;
        raw_len = req->body_len;
    } else if (!ctype || !strncmp(ctype, "application/json", 16)) {
        json_error_t jerr;
        json_t *j = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
        if (!j) return ef_api_reply_err(api, c, 400, EF_EINVAL, "malformed JSON: %s", jerr.text);
        json_t *tx = json_object_get(j, "tx");
        if (!json_is_object(j) || json_object_size(j) != 1 || !json_is_string(tx)) {
            json_decref(j);
            return ef_api_reply_err(api, c, 400, EF_EINVAL,
                                    "body must be {\"tx\": HEX} with no other field");
        }
        const char *hex = json_string_value(tx);
        size_t hl = json_string_length(tx);
        if (hl == 0 || hl % 2 || strlen(hex) != hl) {
            json_decref(j);
            return ef_api_reply_err(api, c, 400, EF_EINVAL, "tx must be an even number of hex digits");
        }
        raw_len = hl / 2;
        raw = malloc(raw_len);
        if (!raw) {
            json_decref(j);
            return ef_api_reply_err(api, c, 503, EF_ENOMEM, "out of memory");
        }
        raw_owned = true;
        int rc = ef_unhex(raw, raw_len, hex);
        json_decref(j);
        if (rc) {
            free(raw);
            return ef_api_reply_err(api, c, 400, EF_EINVAL, "tx must be hex digits");
        }
    } else {
        return ef_api_reply_err(api, c, 415, EF_EINVAL,
                                "content type must be application/json or application/octet-stream");
    }

    /* Take a waiter slot before submitting, so a refused wait changes nothing. */
    uint64_t seen = 0;
    if (wait) {
        pthread_mutex_lock(&api->mu);
        bool full = api->waits_open >= EF_API_WAIT_MAX;
        if (!full) {
            api->waits_open++;
            api->waits_unsent++;
            req->waited = true;
        }
        pthread_mutex_unlock(&api->mu);
        if (full) {
            if (raw_owned) free(raw);
            return ef_api_reply_err(api, c, 503, EF_EFULL, "too many requests waiting for commits");
        }
    }
    ef_hash hash;
    int rc = api->be.submit(api->be.ctx, raw, raw_len, &hash);
    if (raw_owned) free(raw);
    char hh[2 * EF_HASH_SIZE + 1];
    enum MHD_Result out;
    if (rc) {
        out = ef_api_reply_err(api, c, 0, rc, "transaction refused: %s", ef_strerror(rc));
        goto done;
    }
    ef_hex(hh, hash.b, EF_HASH_SIZE);
    if (!wait) {
        out = ef_api_reply_json(api, c, 202, json_pack("{s:s, s:s}", "hash", hh, "status", "accepted"));
        goto done;
    }
    uint64_t deadline = ef_api_now_ms() + timeout_ms;
    for (;;) {
        pthread_mutex_lock(&api->mu);
        seen = api->height;
        pthread_mutex_unlock(&api->mu);
        json_t *j = NULL;
        rc = api->be.tx(api->be.ctx, &hash, &j);
        if (rc == 0) {
            json_object_set_new(j, "status", json_string("committed"));
            out = ef_api_reply_json(api, c, 200, j);
            goto done;
        }
        if (rc != EF_ENOTFOUND) {
            out = ef_api_reply_err(api, c, 0, rc, "transaction lookup: %s", ef_strerror(rc));
            goto done;
        }
        int why = api->be.dropped ? api->be.dropped(api->be.ctx, &hash) : 0;
        if (why) {
            /* it left this node's pool uncommitted: no commit will come from here */
            atomic_fetch_add(&api->rejected[-why], 1);
            char why_text[128];
            snprintf(why_text, sizeof why_text, "dropped from the node's pool uncommitted: %s", ef_strerror(why));
            out = ef_api_reply_json(api, c, ef_api_http_status(why),
                                    json_pack("{s:s, s:s, s:s, s:s}", "error", why_text, "code", ef_errname(why),
                                              "hash", hh, "status", "dropped"));
            goto done;
        }
        uint64_t now = ef_api_now_ms();
        if (now >= deadline) {
            atomic_fetch_add(&api->rejected[-EF_ETIMEOUT], 1);
            out = ef_api_reply_json(api, c, 504,
                                    json_pack("{s:s, s:s, s:s}", "error", "timed out waiting for commit",
                                              "code", ef_errname(EF_ETIMEOUT), "hash", hh));
            goto done;
        }
        uint64_t nap = EF_MIN(deadline - now, (uint64_t)EF_API_POLL_MS);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += (time_t)(nap / 1000);
        ts.tv_nsec += (long)(nap % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
        pthread_mutex_lock(&api->mu);
        while (!api->stopping && api->height == seen) {
            if (pthread_cond_timedwait(&api->cond, &api->mu, &ts) == ETIMEDOUT) break;
        }
        bool stopping = api->stopping;
        pthread_mutex_unlock(&api->mu);
        if (stopping) {
            out = ef_api_reply_err(api, c, 503, EF_ECLOSED, "server shutting down");
            goto done;
        }
    }
done:
    if (wait) {
        pthread_mutex_lock(&api->mu);
        api->waits_open--;
        pthread_cond_broadcast(&api->cond);       /* ef_api_stop may be waiting */
        pthread_mutex_unlock(&api->mu);
    }
    return out;
}

/* --------------------------------------------------------------- dispatch */

static enum MHD_Result ef_api_static(ef_api *api, struct MHD_Connection *c, const char *name)
{
    for (size_t i = 0; i < ef_explorer_assets_len; i++) {
        if (strcmp(ef_explorer_assets[i].name, name)) continue;
        ef_api_count(api, 200);
        return MHD_queue_response(c, 200, api->assets[i]);
    }
    return ef_api_reply_err(api, c, 404, EF_ENOTFOUND, "no such file");
}

/* GET / */
static enum MHD_Result ef_api_index(ef_api *api, struct MHD_Connection *c, const char *rest,
                                    ef_api_req *req)
{
    (void)rest;
    (void)req;
    return ef_api_static(api, c, "index.html");
}

/* GET /ui/{file} */
static enum MHD_Result ef_api_ui(ef_api *api, struct MHD_Connection *c, const char *file,
                                 ef_api_req *req)
{
    (void)req;
    return ef_api_static(api, c, file);
}

enum {
    EF_API_ROUTE_PREFIX = 1u << 0,   /* path is a prefix: the handler gets the rest of the URL */
    EF_API_ROUTE_PUBLIC = 1u << 1,   /* the explorer's files: served without a signature on a
                                      * private ledger, and to another method the path is
                                      * unknown (404), not 405 */
};

typedef struct ef_api_route {
    const char *method;
    const char *path;                /* the whole path, or its start with EF_API_ROUTE_PREFIX */
    ef_api_route_fn fn;              /* gets the URL after path ("" for a whole path) */
    unsigned flags;                  /* EF_API_ROUTE_* */
} ef_api_route;

/* Every endpoint, once. A request is answered by the first entry that matches both
 * its method and path; if some entry matches only the path, it is 405 with that
 * entry's method in Allow; otherwise 404. On a private ledger the signature is
 * checked first (ef_api_check_auth) unless the entry is EF_API_ROUTE_PUBLIC. */
static const ef_api_route ef_api_routes[] = {
    {"GET",  "/",          ef_api_index,       EF_API_ROUTE_PUBLIC},
    {"GET",  "/ui/",       ef_api_ui,          EF_API_ROUTE_PUBLIC | EF_API_ROUTE_PREFIX},
    {"GET",  "/status",    ef_api_status,      0},
    {"GET",  "/blocks",    ef_api_blocks,      EF_API_ROUTE_PREFIX},
    {"POST", "/txs",       ef_api_post_tx,     0},
    {"GET",  "/txs/",      ef_api_tx,          EF_API_ROUTE_PREFIX},
    {"GET",  "/proofs/tx/", ef_api_proof,      EF_API_ROUTE_PREFIX},
    {"GET",  "/state/",    ef_api_state,       EF_API_ROUTE_PREFIX},
    {"GET",  "/accounts/", ef_api_account,     EF_API_ROUTE_PREFIX},
    {"GET",  "/events",    ef_api_events,      0},
    {"GET",  "/metrics",   ef_api_metrics_get, 0},
};

/* Whether url is route's path; *rest is what follows the path. */
static bool ef_api_route_match(const ef_api_route *route, const char *url, const char **rest)
{
    size_t n = strlen(route->path);
    bool match = route->flags & EF_API_ROUTE_PREFIX ? !strncmp(url, route->path, n)
                                                    : !strcmp(url, route->path);
    if (match) *rest = url + n;
    return match;
}

/* 405 {"error":"method not allowed","code":"EINVAL"} with Allow: allow. */
static enum MHD_Result ef_api_not_allowed(ef_api *api, struct MHD_Connection *c, const char *allow)
{
    char *text = strdup("{\"error\":\"method not allowed\",\"code\":\"EINVAL\"}");
    if (!text) return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!r) { free(text); return MHD_NO; }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    atomic_fetch_add(&api->rejected[-EF_EINVAL], 1);
    return ef_api_queue(api, c, 405, r);
}

static enum MHD_Result ef_api_dispatch(ef_api *api, struct MHD_Connection *c, const char *url,
                                       const char *method, ef_api_req *req)
{
    const ef_api_route *found = NULL, *other = NULL;   /* path and method / path only */
    const char *rest = NULL;
    for (size_t i = 0; i < EF_ARRAY_LEN(ef_api_routes) && !found; i++) {
        const ef_api_route *route = &ef_api_routes[i];
        const char *tail;
        if (!ef_api_route_match(route, url, &tail)) continue;
        if (!strcmp(route->method, method)) {
            found = route;
            rest = tail;
        } else if (!other && !(route->flags & EF_API_ROUTE_PUBLIC)) {
            other = route;
        }
    }
    if (found && found->flags & EF_API_ROUTE_PUBLIC) return found->fn(api, c, rest, req);
    if (api->private_reads) {
        enum MHD_Result reply = MHD_NO;
        if (ef_api_check_auth(api, c, method, req, &reply)) return reply;
    }
    if (found) return found->fn(api, c, rest, req);
    if (other) return ef_api_not_allowed(api, c, other->method);
    return ef_api_reply_err(api, c, 404, EF_ENOTFOUND, "no such endpoint");
}

static void *ef_api_uri_cb(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    ef_api_req *req = calloc(1, sizeof *req);
    if (!req) return NULL;
    size_t n = strlen(uri);
    if (n > EF_API_PATH_MAX) req->target_too_long = true;
    else memcpy(req->target, uri, n + 1);
    return req;
}

/* ------------------------------------------------- connections and deadline */

static void ef_api_conn_cb(void *cls, struct MHD_Connection *c, void **socket_ctx,
                           enum MHD_ConnectionNotificationCode code)
{
    ef_api *api = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        ef_api_conn *k = calloc(1, sizeof *k);
        *socket_ctx = k;
        if (!k) return;                 /* the handler refuses its requests */
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        k->fd = ci ? ci->connect_fd : -1;
        k->since_ms = ef_api_now_ms();
        k->receiving = true;
        pthread_mutex_lock(&api->conns_mu);
        k->next = api->conns;
        if (api->conns) api->conns->prev = k;
        api->conns = k;
        pthread_mutex_unlock(&api->conns_mu);
        return;
    }
    ef_api_conn *k = *socket_ctx;
    if (!k) return;
    pthread_mutex_lock(&api->conns_mu);
    if (k->prev) k->prev->next = k->next;
    else api->conns = k->next;
    if (k->next) k->next->prev = k->prev;
    pthread_mutex_unlock(&api->conns_mu);
    free(k);
    *socket_ctx = NULL;
}

static ef_api_conn *ef_api_conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* The request on c has fully arrived (receiving = false) or its answer is done and
 * the next one may start arriving (receiving = true, the deadline restarts). */
static void ef_api_conn_receiving(ef_api *api, struct MHD_Connection *c, bool receiving)
{
    ef_api_conn *k = ef_api_conn_of(c);
    if (!k) return;
    pthread_mutex_lock(&api->conns_mu);
    k->receiving = receiving;
    k->since_ms = ef_api_now_ms();
    pthread_mutex_unlock(&api->conns_mu);
}

/* Closes (shutdown: libmicrohttpd's thread then sees the end and cleans up) every
 * connection whose request has not fully arrived request_ms after it could start. */
static void ef_api_sweep(ef_api *api)
{
    uint64_t now = ef_api_now_ms();
    pthread_mutex_lock(&api->conns_mu);
    for (ef_api_conn *k = api->conns; k; k = k->next) {
        if (!k->receiving || k->cut || k->fd < 0 || now - k->since_ms < api->request_ms) continue;
        shutdown(k->fd, SHUT_RDWR);
        k->cut = true;
        atomic_fetch_add(&api->deadline_closed, 1);
    }
    pthread_mutex_unlock(&api->conns_mu);
}

#define EF_API_KEEPER_MS 100        /* sweep period */

/* The keeper: passes commits from ef_api_notify_commit on to the waiters (so the
 * node's loop never takes api->mu, which connection threads at a low priority
 * hold), and enforces the request deadline. */
static void *ef_api_keeper_main(void *arg)
{
    ef_api *api = arg;
    uint64_t passed = 0;
    while (!atomic_load(&api->keeper_stop)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += EF_API_KEEPER_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        while (sem_timedwait(&api->keeper_wake, &ts) && errno == EINTR) {}
        uint64_t h = atomic_load(&api->commit_height);
        if (h > passed) {
            passed = h;
            pthread_mutex_lock(&api->mu);
            if (h > api->height) api->height = h;
            pthread_cond_broadcast(&api->cond);
            pthread_mutex_unlock(&api->mu);
        }
        ef_api_sweep(api);
    }
    return NULL;
}

static void ef_api_done_cb(void *cls, struct MHD_Connection *c, void **req_cls,
                           enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    ef_api *api = cls;
    ef_api_conn_receiving(api, c, true);
    ef_api_req *req = *req_cls;
    if (!req) return;
    if (req->waited) {
        pthread_mutex_lock(&api->mu);
        api->waits_unsent--;
        pthread_cond_broadcast(&api->cond);       /* ef_api_stop may be waiting */
        pthread_mutex_unlock(&api->mu);
    }
    free(req->body);
    free(req);
    *req_cls = NULL;
}

/* Lowers the calling connection thread's scheduling priority, once per thread
 * (each connection has its own): nice EF_API_NICE and SCHED_IDLE. Nice alone is
 * not enough: it only ranks threads inside the node's scheduling group, where 32
 * connections per client at nice 19 (weight 15 each) outweigh the node's loop at
 * nice 0 (weight 1024); SCHED_IDLE threads weigh 3, so a flood of requests
 * competes with other requests, not with consensus (scripts/bench-api-flood). */
static void ef_api_lower_priority(void)
{
    static _Thread_local bool lowered;
    if (lowered) return;
    lowered = true;
    pid_t tid = (pid_t)syscall(SYS_gettid);
    int cur = getpriority(PRIO_PROCESS, (id_t)tid);
    if (cur < EF_API_NICE) setpriority(PRIO_PROCESS, (id_t)tid, EF_API_NICE);
    struct sched_param sp = {0};
    (void)sched_setscheduler(tid, SCHED_IDLE, &sp);
}

/* RFC 9110 token characters (a header field name is a token). */
static bool ef_api_is_tchar(unsigned char ch)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) return true;
    return ch && strchr("!#$%&'*+-.^_`|~", ch);
}

static enum MHD_Result ef_api_check_name(void *cls, enum MHD_ValueKind kind, const char *key,
                                         const char *value)
{
    (void)kind;
    (void)value;
    bool *bad = cls;
    if (!key || !*key) *bad = true;
    for (const char *p = key; p && *p && !*bad; p++)
        if (!ef_api_is_tchar((unsigned char)*p)) *bad = true;
    return *bad ? MHD_NO : MHD_YES;
}

/* Checks what libmicrohttpd lets through but HTTP forbids, before anything else:
 * headers over EF_API_HEADER_MAX, a header name that is not a token, an HTTP/1.1
 * request without Host. Replies 431 or 400 (JSON) and returns false if one fails. */
static bool ef_api_check_headers(ef_api *api, struct MHD_Connection *c, const char *version,
                                 enum MHD_Result *reply)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if (ci && ci->header_size > EF_API_HEADER_MAX) {
        *reply = ef_api_reply_err(api, c, 431, EF_ETOOBIG, "request line and headers over %d bytes",
                                  EF_API_HEADER_MAX);
        return false;
    }
    bool bad = false;
    MHD_get_connection_values(c, MHD_HEADER_KIND, ef_api_check_name, &bad);
    if (bad) {
        *reply = ef_api_reply_err(api, c, 400, EF_EINVAL, "malformed header name");
        return false;
    }
    if (version && !strcmp(version, MHD_HTTP_VERSION_1_1) &&
        !MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST)) {
        *reply = ef_api_reply_err(api, c, 400, EF_EINVAL, "HTTP/1.1 request without a Host header");
        return false;
    }
    return true;
}

static enum MHD_Result ef_api_handler(void *cls, struct MHD_Connection *c, const char *url,
                                      const char *method, const char *version,
                                      const char *upload, size_t *upload_size, void **req_cls)
{
    ef_api *api = cls;
    ef_api_req *req = *req_cls;
    if (!req || !ef_api_conn_of(c)) return MHD_NO;   /* out of memory: close */
    ef_api_lower_priority();
    if (!req->started) {
        req->started = true;
        enum MHD_Result reply;
        if (!ef_api_check_headers(api, c, version, &reply)) return reply;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        uint64_t n;
        if (cl && ef_api_parse_u64(cl, &n) && n > EF_API_BODY_MAX) req->body_too_big = true;
        if (req->body_too_big || req->target_too_long) {
            if (req->target_too_long)
                return ef_api_reply_err(api, c, 414, EF_ETOOBIG, "request target over %d bytes",
                                        EF_API_PATH_MAX);
            return ef_api_reply_err(api, c, 413, EF_ETOOBIG, "body over %d bytes", EF_API_BODY_MAX);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (!req->body_too_big) {
            if (req->body_len + *upload_size > EF_API_BODY_MAX) {
                req->body_too_big = true;
                free(req->body);
                req->body = NULL;
                req->body_len = 0;
            } else {
                uint8_t *nb = realloc(req->body, req->body_len + *upload_size);
                if (!nb) return MHD_NO;
                memcpy(nb + req->body_len, upload, *upload_size);
                req->body = nb;
                req->body_len += *upload_size;
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    ef_api_conn_receiving(api, c, false);    /* all in: the deadline stops */
    if (req->body_too_big)
        return ef_api_reply_err(api, c, 413, EF_ETOOBIG, "body over %d bytes", EF_API_BODY_MAX);
    return ef_api_dispatch(api, c, url, method, req);
}

static void ef_api_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    if (ef_log_level() < EF_LOG_DEBUG) return;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    if (n && line[n - 1] == '\n') line[n - 1] = 0;
    EF_LOGD(EF_API_LOG, "microhttpd: %s", line);
}

/* ------------------------------------------------------ transaction count */

/* Sums the transaction counts of every committed block, once, then of each new
 * block as it commits, so /status and the explorer can show the total. */
static void *ef_api_counter_main(void *arg)
{
    ef_api *api = arg;
    for (;;) {
        pthread_mutex_lock(&api->mu);
        bool stopping = api->stopping;
        uint64_t known = api->height;
        pthread_mutex_unlock(&api->mu);
        if (stopping) break;
        uint64_t top = api->be.height(api->be.ctx);
        if (top < known) top = known;
        uint64_t h = atomic_load(&api->txs_counted);
        while (h < top) {
            json_t *b = NULL;
            int rc = api->be.block(api->be.ctx, h + 1, false, &b);
            if (rc && rc != EF_ENOTFOUND) break;     /* try again later */
            if (rc == EF_ENOTFOUND && h + 1 >= top) break;
            json_t *n = json_object_get(b, "txs");
            if (json_is_integer(n)) atomic_fetch_add(&api->txs_total, (uint64_t)json_integer_value(n));
            json_decref(b);
            atomic_store(&api->txs_counted, ++h);
            pthread_mutex_lock(&api->mu);
            stopping = api->stopping;
            pthread_mutex_unlock(&api->mu);
            if (stopping) return NULL;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_mutex_lock(&api->mu);
        while (!api->stopping && api->height <= h) {
            if (pthread_cond_timedwait(&api->cond, &api->mu, &ts) == ETIMEDOUT) break;
        }
        pthread_mutex_unlock(&api->mu);
    }
    return NULL;
}

/* -------------------------------------------------------------- lifecycle */

static int ef_api_parse_listen(const char *listen, struct sockaddr_in *sa)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon) return EF_EINVAL;
    size_t hl = (size_t)(colon - listen);
    if (hl >= sizeof host) return EF_EINVAL;
    memcpy(host, listen, hl);
    host[hl] = 0;
    uint64_t port;
    if (!ef_api_parse_u64(colon + 1, &port) || port > 65535) return EF_EINVAL;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (hl == 0 || !strcmp(host, "*")) {
        sa->sin_addr.s_addr = htonl(INADDR_ANY);
        return 0;
    }
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) || !res) return EF_EINVAL;
    sa->sin_addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
    freeaddrinfo(res);
    return 0;
}

int ef_api_start(ef_api **out, const ef_api_config *cfg, const ef_api_backend *be)
{
    EF_ASSERT(out && cfg && be);
    *out = NULL;
    if (!cfg->listen || !be->height || !be->status || !be->block || !be->tx || !be->query ||
        !be->account || !be->submit)
        return EF_EINVAL;
    if (cfg->private_reads && !be->is_member) return EF_EINVAL;
    if (cfg->domain && (!cfg->domain[0] || strlen(cfg->domain) >= sizeof ((ef_api *)0)->domain)) return EF_EINVAL;
    if (cfg->chain_id && (!cfg->chain_id[0] || strlen(cfg->chain_id) > EF_CHAIN_ID_MAX)) return EF_EINVAL;
    struct sockaddr_in sa;
    if (ef_api_parse_listen(cfg->listen, &sa)) return EF_EINVAL;
    ef_api *api = calloc(1, sizeof *api);
    if (!api) return EF_ENOMEM;
    int rc = EF_ENOMEM;
    api->be = *be;
    api->private_reads = cfg->private_reads;
    if (cfg->domain) snprintf(api->domain, sizeof api->domain, "%s", cfg->domain);
    if (cfg->chain_id) snprintf(api->chain_id, sizeof api->chain_id, "%s", cfg->chain_id);
    api->wait_ms_max = cfg->wait_ms_max ? cfg->wait_ms_max : EF_API_WAIT_MS_DEFAULT;
    api->replay = calloc(EF_API_REPLAY_MAX, sizeof *api->replay);
    if (!api->replay) goto fail_alloc;
    pthread_mutex_init(&api->mu, NULL);
    pthread_cond_init(&api->cond, NULL);
    pthread_mutex_init(&api->conns_mu, NULL);
    if (sem_init(&api->keeper_wake, 0, 0)) goto fail_sem;
    api->request_ms = 1000u * (cfg->request_s ? cfg->request_s : EF_API_REQUEST_S);
    api->height = be->height(be->ctx);
    atomic_store(&api->commit_height, api->height);
    EF_ASSERT(ef_explorer_assets_len <= EF_EXPLORER_ASSETS_MAX);
    for (size_t i = 0; i < ef_explorer_assets_len; i++) {
        const ef_explorer_asset *a = &ef_explorer_assets[i];
        api->assets[i] = MHD_create_response_from_buffer(a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
        if (!api->assets[i]) goto fail;
        MHD_add_response_header(api->assets[i], MHD_HTTP_HEADER_CONTENT_TYPE, a->ctype);
        MHD_add_response_header(api->assets[i], MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    }
    unsigned conn_max = cfg->conn_max ? cfg->conn_max : EF_API_CONN_MAX;
    unsigned idle_s = cfg->idle_s ? cfg->idle_s : EF_API_IDLE_S;
    unsigned per_ip = cfg->conn_per_ip ? cfg->conn_per_ip : EF_API_CONN_PER_IP;
    if (pthread_create(&api->keeper, NULL, ef_api_keeper_main, api)) goto fail;
    api->keeper_started = true;
    api->mhd = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, ef_api_handler, api,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_LIMIT, conn_max,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, idle_s,
        MHD_OPTION_NOTIFY_CONNECTION, ef_api_conn_cb, api,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)EF_API_HEADER_MEM,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)EF_API_STACK_SIZE,
        MHD_OPTION_URI_LOG_CALLBACK, ef_api_uri_cb, api,
        MHD_OPTION_NOTIFY_COMPLETED, ef_api_done_cb, api,
        MHD_OPTION_EXTERNAL_LOGGER, ef_api_mhd_log, api,
        MHD_OPTION_END);
    if (!api->mhd) {
        rc = EF_ENET;
        EF_LOGE(EF_API_LOG, "cannot listen on %s", cfg->listen);
        goto fail;
    }
    if (!be->txs_total && pthread_create(&api->counter, NULL, ef_api_counter_main, api) == 0)
        api->counter_started = true;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(api->mhd, MHD_DAEMON_INFO_BIND_PORT);
    api->port = info ? info->port : ntohs(sa.sin_port);
    EF_LOGI(EF_API_LOG, "listening on %s (port %u)%s%s", cfg->listen, api->port,
            api->private_reads ? ", private: signed member requests only" : "",
            api->private_reads && api->domain[0] ? ", of this domain" : "");
    *out = api;
    return 0;
fail:
    if (api->keeper_started) {
        atomic_store(&api->keeper_stop, true);
        sem_post(&api->keeper_wake);
        pthread_join(api->keeper, NULL);
    }
    for (size_t i = 0; i < EF_EXPLORER_ASSETS_MAX; i++)
        if (api->assets[i]) MHD_destroy_response(api->assets[i]);
    sem_destroy(&api->keeper_wake);
fail_sem:
    pthread_mutex_destroy(&api->conns_mu);
    pthread_cond_destroy(&api->cond);
    pthread_mutex_destroy(&api->mu);
fail_alloc:
    free(api->replay);
    free(api);
    return rc;
}

uint16_t ef_api_port(const ef_api *api)
{
    return api->port;
}

void ef_api_notify_commit(ef_api *api, uint64_t height)
{
    uint64_t h = atomic_load(&api->commit_height);
    while (height > h && !atomic_compare_exchange_weak(&api->commit_height, &h, height)) {}
    sem_post(&api->keeper_wake);
}

void ef_api_stop(ef_api *api)
{
    if (!api) return;
    /* Wake commit waiters (they answer 503) and end event streams, and give them
     * EF_API_STOP_GRACE_MS to finish before the sockets close. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += EF_API_STOP_GRACE_MS * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&api->mu);
    api->stopping = true;
    pthread_cond_broadcast(&api->cond);
    while (api->waits_unsent || api->sse_open)
        if (pthread_cond_timedwait(&api->cond, &api->mu, &ts) == ETIMEDOUT) break;
    pthread_mutex_unlock(&api->mu);
    MHD_stop_daemon(api->mhd);
    atomic_store(&api->keeper_stop, true);
    sem_post(&api->keeper_wake);
    pthread_join(api->keeper, NULL);
    if (api->counter_started) pthread_join(api->counter, NULL);
    for (size_t i = 0; i < EF_EXPLORER_ASSETS_MAX; i++)
        if (api->assets[i]) MHD_destroy_response(api->assets[i]);
    sem_destroy(&api->keeper_wake);
    pthread_mutex_destroy(&api->conns_mu);
    pthread_cond_destroy(&api->cond);
    pthread_mutex_destroy(&api->mu);
    free(api->status_text);
    free(api->replay);
    free(api);
}
