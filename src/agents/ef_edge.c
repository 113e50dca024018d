/* ef_edge.c: the edge-node agent: voucher-gated compute service, redeem, watch service (see ef_edge.h). */
#include "agents/ef_edge.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agents/ef_httpc.h"
#include "base/ef_codec.h"
#include "base/ef_log.h"
#include "ledger/ef_tx.h"

#define EF_EDGE_API_TIMEOUT_MS 15000

typedef struct ef_edge_ch {
    uint64_t id;
    ef_pub payer;
    uint64_t deposit;
    uint64_t served;        /* sum of the prices of the tasks admitted */
    bool has_best;
    ef_voucher best;
    bool closed;
} ef_edge_ch;

struct ef_edge {
    ef_edge_cfg cfg;
    char pub_hex[2 * EF_PUB_SIZE + 1];
    struct MHD_Daemon *mhd;
    pthread_mutex_t mu;          /* the book and the stats */
    pthread_mutex_t submit_mu;   /* one ledger submission at a time (nonces) */
    ef_edge_ch ch[EF_EDGE_CHANNELS_MAX];
    size_t nch;
    ef_edge_stats st;
    pthread_t watch;
    bool watching;
    pthread_cond_t stop_cv;
    bool stop;
};

/* --- the node's API --- */

static int ef_edge_get(ef_edge *e, const char *path, json_t **out)
{
    ef_httpc_resp r;
    *out = NULL;
    int rc = ef_httpc_request(&r, NULL, e->cfg.api_ip, e->cfg.api_port, "GET", path, NULL, NULL, 0,
                              EF_EDGE_API_TIMEOUT_MS);
    if (rc) return rc;
    if (r.status == 404) rc = EF_ENOTFOUND;
    else if (r.status != 200) rc = EF_EPROTO;
    else if (!(*out = json_loadb(r.body, r.body_len, 0, NULL))) rc = EF_EPROTO;
    ef_httpc_resp_free(&r);
    return rc;
}

/* Builds, signs and submits a transaction, waiting for its commit; returns 0 if
 * it committed with result OK, EF_ESTATE (its error logged) otherwise. */
static int ef_edge_submit(ef_edge *e, const char *contract, const char *method, const char *args)
{
    char path[128];
    json_t *acc = NULL, *resp = NULL;
    pthread_mutex_lock(&e->submit_mu);
    snprintf(path, sizeof path, "/accounts/%s", e->pub_hex);
    int rc = ef_edge_get(e, path, &acc);
    if (rc) goto out;
    ef_tx tx;
    memset(&tx, 0, sizeof tx);
    snprintf(tx.chain_id, sizeof tx.chain_id, "%.*s", (int)(sizeof tx.chain_id - 1), e->cfg.chain_id);
    tx.nonce = (uint64_t)json_integer_value(json_object_get(acc, "nonce"));
    snprintf(tx.contract, sizeof tx.contract, "%s", contract);
    snprintf(tx.method, sizeof tx.method, "%s", method);
    tx.args = (const uint8_t *)args;
    tx.args_len = strlen(args);
    ef_httpc_resp r;
    rc = ef_httpc_submit_tx(&r, e->cfg.api_ip, e->cfg.api_port, &tx, &e->cfg.key, EF_EDGE_API_TIMEOUT_MS + 5000);
    if (rc) goto out;
    resp = json_loadb(r.body, r.body_len, 0, NULL);
    const char *code = json_string_value(json_object_get(resp, "code"));
    if (r.status != 200 || !code || strcmp(code, "OK")) {
        ef_log(EF_LOG_WARN, "edge", "%s.%s refused: HTTP %d %.200s", contract, method, r.status, r.body);
        rc = EF_ESTATE;
    }
    ef_httpc_resp_free(&r);
out:
    pthread_mutex_unlock(&e->submit_mu);
    json_decref(acc);
    json_decref(resp);
    return rc;
}

/* --- the voucher book --- */

static ef_edge_ch *ef_edge_find(ef_edge *e, uint64_t id)
{
    for (size_t i = 0; i < e->nch; i++)
        if (e->ch[i].id == id) return &e->ch[i];
    return NULL;
}

/* Reads channel id from the ledger: must be this payee's and open. */
static int ef_edge_fetch(ef_edge *e, uint64_t id, ef_pub *payer, uint64_t *deposit)
{
    char path[64];
    json_t *j;
    snprintf(path, sizeof path, "/state/channel/channel/%llu", (unsigned long long)id);
    int rc = ef_edge_get(e, path, &j);
    if (rc) return rc;
    const char *payee = json_string_value(json_object_get(j, "payee"));
    const char *state = json_string_value(json_object_get(j, "state"));
    if (!payee || strcmp(payee, e->pub_hex) || !state || strcmp(state, "open") ||
        ef_unhex(payer->b, EF_PUB_SIZE, json_string_value(json_object_get(j, "payer"))))
        rc = EF_ENOTFOUND;
    else
        *deposit = (uint64_t)json_integer_value(json_object_get(j, "deposit"));
    json_decref(j);
    return rc;
}

int ef_edge_admit(ef_edge *e, uint64_t channel, const ef_voucher *v)
{
    if (strcmp(v->chain_id, e->cfg.chain_id)) return EF_ECHAIN;
    if (v->channel != channel) return EF_EINVAL;
    pthread_mutex_lock(&e->mu);
    ef_edge_ch *c = ef_edge_find(e, channel);
    bool known = c != NULL;
    pthread_mutex_unlock(&e->mu);
    ef_pub payer;
    uint64_t deposit = 0;
    if (!known) {
        int rc = ef_edge_fetch(e, channel, &payer, &deposit);
        if (rc) return rc == EF_ENOTFOUND ? EF_ENOTFOUND : rc;
    }
    pthread_mutex_lock(&e->mu);
    int rc = 0;
    c = ef_edge_find(e, channel);
    if (!c) {
        if (e->nch == EF_EDGE_CHANNELS_MAX) {
            rc = EF_EFULL;
            goto out;
        }
        c = &e->ch[e->nch++];
        memset(c, 0, sizeof *c);
        c->id = channel;
        c->payer = payer;
        c->deposit = deposit;
        e->st.channels++;
    }
    if (c->closed) rc = EF_ENOTFOUND;
    else if ((rc = ef_voucher_verify(v, &c->payer))) {
    } else if (c->has_best && v->nonce <= c->best.nonce) rc = EF_ENONCE;
    else if (v->amount < c->served + e->cfg.price) rc = EF_EFUNDS;     /* does not cover this task */
    else if (v->amount > c->deposit) rc = EF_EFUNDS;                   /* overdraft */
    if (rc == 0) {
        c->best = *v;
        c->has_best = true;
        c->served += e->cfg.price;
        e->st.tasks++;
        e->st.vouchers++;
    } else {
        e->st.rejected++;
    }
out:
    pthread_mutex_unlock(&e->mu);
    return rc;
}

int ef_edge_redeem(ef_edge *e, uint64_t channel, bool close)
{
    char hex[2 * EF_VOUCHER_ENC_MAX + 1], args[2 * EF_VOUCHER_ENC_MAX + 96];
    pthread_mutex_lock(&e->mu);
    ef_edge_ch *c = ef_edge_find(e, channel);
    int rc = c && c->has_best ? ef_voucher_hex(hex, sizeof hex, &c->best) : EF_ENOTFOUND;
    pthread_mutex_unlock(&e->mu);
    if (rc) return rc;
    snprintf(args, sizeof args, "{\"channel\":%llu,\"voucher\":\"%s\",\"close\":%s}", (unsigned long long)channel,
             hex, close ? "true" : "false");
    rc = ef_edge_submit(e, "channel", "redeem", args);
    pthread_mutex_lock(&e->mu);
    if (rc == 0) {
        e->st.redeems++;
        if (close && (c = ef_edge_find(e, channel))) c->closed = true;
    }
    pthread_mutex_unlock(&e->mu);
    return rc;
}

void ef_edge_work(ef_hash *out, const void *body, size_t len)
{
    size_t rounds = 1 + len / 1024;
    ef_hash_tagged(out, EF_TAG_DATA, body, len);
    for (size_t i = 1; i < rounds; i++) {
        ef_hash prev = *out;
        ef_hash_tagged(out, EF_TAG_DATA, prev.b, sizeof prev.b);
    }
}

/* --- HTTP --- */

typedef struct ef_edge_req {
    uint8_t *body;
    size_t len;
    bool too_big;
} ef_edge_req;

static enum MHD_Result ef_edge_reply(struct MHD_Connection *c, unsigned status, json_t *j)
{
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!body) return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result ef_edge_err(struct MHD_Connection *c, unsigned status, int code, const char *why)
{
    return ef_edge_reply(c, status, json_pack("{s:s, s:s}", "error", why, "code", ef_errname(code)));
}

static int ef_edge_channel_arg(struct MHD_Connection *c, uint64_t *id)
{
    const char *s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "channel");
    char *end;
    if (!s || !*s || *s < '0' || *s > '9') return EF_EINVAL;
    *id = strtoull(s, &end, 10);
    return *end || *id == 0 ? EF_EINVAL : 0;
}

static enum MHD_Result ef_edge_task(ef_edge *e, struct MHD_Connection *c, ef_edge_req *q)
{
    uint64_t id;
    ef_voucher v;
    if (q->too_big) return ef_edge_err(c, MHD_HTTP_CONTENT_TOO_LARGE, EF_ETOOBIG, "task body too big");
    if (ef_edge_channel_arg(c, &id)) return ef_edge_err(c, MHD_HTTP_BAD_REQUEST, EF_EINVAL, "need ?channel=ID");
    const char *vh = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Voucher");
    if (!vh) return ef_edge_err(c, MHD_HTTP_PAYMENT_REQUIRED, EF_EARGS, "no X-Voucher header");
    int rc = ef_voucher_decode_hex(&v, vh);
    if (rc == 0) rc = ef_edge_admit(e, id, &v);
    else {
        pthread_mutex_lock(&e->mu);
        e->st.rejected++;
        pthread_mutex_unlock(&e->mu);
    }
    if (rc) {
        const char *why = rc == EF_EFUNDS ? "voucher does not cover the task or exceeds the deposit"
                        : rc == EF_ENONCE ? "voucher not newer than the one held"
                        : rc == EF_ENOTFOUND ? "not an open channel of this edge node's company"
                        : rc == EF_EPERM ? "voucher not signed by the channel's payer" : ef_strerror(rc);
        return ef_edge_err(c, MHD_HTTP_PAYMENT_REQUIRED, rc, why);
    }
    ef_hash h;
    ef_edge_work(&h, q->body ? q->body : (const uint8_t *)"", q->len);
    char hex[2 * EF_HASH_SIZE + 1];
    ef_hex(hex, h.b, EF_HASH_SIZE);
    pthread_mutex_lock(&e->mu);
    ef_edge_ch *ch = ef_edge_find(e, id);
    uint64_t served = ch ? ch->served : 0;
    pthread_mutex_unlock(&e->mu);
    return ef_edge_reply(c, MHD_HTTP_OK, json_pack("{s:s, s:I, s:I, s:I, s:I}", "result", hex, "channel",
                                                   (json_int_t)id, "nonce", (json_int_t)v.nonce, "paid",
                                                   (json_int_t)v.amount, "served", (json_int_t)served));
}

static enum MHD_Result ef_edge_handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                      const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    ef_edge *e = cls;
    ef_edge_req *q = *con_cls;
    if (!q) {
        q = calloc(1, sizeof *q);
        if (!q) return MHD_NO;
        *con_cls = q;
        return MHD_YES;
    }
    if (*upload_size) {
        if (q->len + *upload_size > EF_EDGE_BODY_MAX) q->too_big = true;
        else {
            uint8_t *nb = realloc(q->body, q->len + *upload_size);
            if (!nb) return MHD_NO;
            q->body = nb;
            memcpy(q->body + q->len, upload, *upload_size);
            q->len += *upload_size;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (!strcmp(method, "POST") && !strcmp(url, "/task")) return ef_edge_task(e, c, q);
    if (!strcmp(method, "POST") && !strcmp(url, "/close")) {
        uint64_t id;
        if (ef_edge_channel_arg(c, &id)) return ef_edge_err(c, MHD_HTTP_BAD_REQUEST, EF_EINVAL, "need ?channel=ID");
        int rc = ef_edge_redeem(e, id, true);
        if (rc) return ef_edge_err(c, rc == EF_ENOTFOUND ? MHD_HTTP_NOT_FOUND : MHD_HTTP_BAD_GATEWAY, rc,
                                   rc == EF_ENOTFOUND ? "no voucher held for this channel" : "redeem failed");
        pthread_mutex_lock(&e->mu);
        ef_edge_ch *ch = ef_edge_find(e, id);
        uint64_t amount = ch ? ch->best.amount : 0;
        pthread_mutex_unlock(&e->mu);
        return ef_edge_reply(c, MHD_HTTP_OK, json_pack("{s:s, s:I}", "code", "OK", "redeemed", (json_int_t)amount));
    }
    if (!strcmp(method, "GET") && !strcmp(url, "/health"))
        return ef_edge_reply(c, MHD_HTTP_OK, json_pack("{s:s, s:s}", "status", "ok", "pub", e->pub_hex));
    if (!strcmp(method, "GET") && !strcmp(url, "/stats")) {
        ef_edge_stats s;
        ef_edge_get_stats(e, &s);
        return ef_edge_reply(c, MHD_HTTP_OK,
                             json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "tasks", (json_int_t)s.tasks, "rejected",
                                       (json_int_t)s.rejected, "vouchers", (json_int_t)s.vouchers, "redeems",
                                       (json_int_t)s.redeems, "watch_redeems", (json_int_t)s.watch_redeems,
                                       "channels", (json_int_t)s.channels));
    }
    return ef_edge_err(c, MHD_HTTP_NOT_FOUND, EF_ENOTFOUND, "not found");
}

static void ef_edge_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
    (void)cls;
    (void)c;
    (void)t;
    ef_edge_req *q = *con_cls;
    if (q) {
        free(q->body);
        free(q);
    }
    *con_cls = NULL;
}

/* --- the watch service --- */

static void ef_edge_watch_once(ef_edge *e)
{
    char path[128];
    json_t *arr;
    snprintf(path, sizeof path, "/state/channel/payee/%s", e->pub_hex);
    if (ef_edge_get(e, path, &arr)) return;
    size_t i;
    json_t *j;
    json_array_foreach(arr, i, j) {
        const char *state = json_string_value(json_object_get(j, "state"));
        uint64_t id = (uint64_t)json_integer_value(json_object_get(j, "channel"));
        uint64_t nonce = (uint64_t)json_integer_value(json_object_get(j, "nonce"));
        if (!state) continue;
        pthread_mutex_lock(&e->mu);
        ef_edge_ch *c = ef_edge_find(e, id);
        bool act = c && c->has_best && c->best.nonce > nonce && !strcmp(state, "closing");
        /* no more tasks on a channel that is closing or closed */
        if (c && (!strcmp(state, "closed") || !strcmp(state, "closing"))) c->closed = true;
        pthread_mutex_unlock(&e->mu);
        if (!act) continue;
        ef_log(EF_LOG_INFO, "edge", "channel %llu: payer started a close; redeeming the best voucher",
               (unsigned long long)id);
        if (ef_edge_redeem(e, id, false) == 0) {
            pthread_mutex_lock(&e->mu);
            e->st.watch_redeems++;
            pthread_mutex_unlock(&e->mu);
        }
    }
    json_decref(arr);
}

static void *ef_edge_watch_main(void *arg)
{
    ef_edge *e = arg;
    pthread_mutex_lock(&e->mu);
    while (!e->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)(e->cfg.watch_ms % 1000) * 1000000L;
        ts.tv_sec += e->cfg.watch_ms / 1000 + ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&e->stop_cv, &e->mu, &ts);
        if (e->stop) break;
        pthread_mutex_unlock(&e->mu);
        ef_edge_watch_once(e);
        pthread_mutex_lock(&e->mu);
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

int ef_edge_start(ef_edge **out, const ef_edge_cfg *cfg)
{
    *out = NULL;
    if (cfg->port == 0 || cfg->api_port == 0 || cfg->price == 0 || !cfg->chain_id[0]) return EF_EINVAL;
    ef_edge *e = calloc(1, sizeof *e);
    if (!e) return EF_ENOMEM;
    e->cfg = *cfg;
    ef_hex(e->pub_hex, cfg->key.pub.b, EF_PUB_SIZE);
    pthread_mutex_init(&e->mu, NULL);
    pthread_mutex_init(&e->submit_mu, NULL);
    pthread_cond_init(&e->stop_cv, NULL);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(cfg->port), .sin_addr.s_addr = htonl(cfg->ip)};
    e->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG,
                              cfg->port, NULL, NULL, ef_edge_handle, e, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                              MHD_OPTION_NOTIFY_COMPLETED, ef_edge_done, e, MHD_OPTION_CONNECTION_LIMIT,
                              (unsigned)EF_EDGE_CONN_MAX, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                              MHD_OPTION_THREAD_STACK_SIZE, (size_t)(256u * 1024u), MHD_OPTION_END);
    if (!e->mhd) {
        free(e);
        return EF_ENET;
    }
    if (cfg->watch_ms) {
        if (pthread_create(&e->watch, NULL, ef_edge_watch_main, e)) {
            MHD_stop_daemon(e->mhd);
            free(e);
            return EF_ENOMEM;
        }
        e->watching = true;
    }
    *out = e;
    return 0;
}

void ef_edge_stop(ef_edge *e)
{
    if (!e) return;
    pthread_mutex_lock(&e->mu);
    e->stop = true;
    pthread_cond_broadcast(&e->stop_cv);
    pthread_mutex_unlock(&e->mu);
    if (e->watching) pthread_join(e->watch, NULL);
    MHD_stop_daemon(e->mhd);
    pthread_mutex_destroy(&e->mu);
    pthread_mutex_destroy(&e->submit_mu);
    pthread_cond_destroy(&e->stop_cv);
    free(e);
}

void ef_edge_get_stats(ef_edge *e, ef_edge_stats *out)
{
    pthread_mutex_lock(&e->mu);
    *out = e->st;
    pthread_mutex_unlock(&e->mu);
}
