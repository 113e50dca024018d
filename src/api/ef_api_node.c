/* ef_api_node.c: the HTTP API inside a node: backend over the node and the
 * extension that starts and stops the server with it. */
#include "api/ef_api_node.h"

#include <stdlib.h>
#include <string.h>

#include "api/ef_api_store.h"
#include "base/ef_codec.h"
#include "base/ef_log.h"

#include <pthread.h>
#include <time.h>

/* The backend's context: the node, and what lets a submission that is waiting
 * for the node's loop give up when the API stops (the loop thread itself stops
 * the API, so it cannot also answer a submission then). */
typedef struct ef_api_node {
    ef_node *n;
    ef_api *api;
    pthread_mutex_t mu;
    pthread_cond_t cond;           /* a submission was answered, or stopping */
    bool stopping;
    unsigned refs;                 /* the extension + each live submission; under mu */
    /* the /status caches, under their own lock: mu is taken by the node's loop
     * (submission callbacks), status_mu only by connection threads */
    pthread_mutex_t status_mu;
    json_t *status_cache;          /* the store's part of /status ... */
    uint64_t status_height;        /* ... as of this height */
    uint64_t version;              /* ef_an_status_version's last answer ... */
    uint64_t version_seq, version_height;   /* ... for this snapshot and store height */
    /* the last EF_API_DROPS_KEPT submissions the node dropped, a ring, under mu */
    struct { ef_hash hash; int reason; } drops[EF_API_DROPS_KEPT];
    size_t drops_next;
} ef_api_node;

static void ef_an_unref(ef_api_node *an)
{
    pthread_mutex_lock(&an->mu);
    bool last = --an->refs == 0;
    pthread_mutex_unlock(&an->mu);
    if (!last) return;
    json_decref(an->status_cache);
    pthread_cond_destroy(&an->cond);
    pthread_mutex_destroy(&an->status_mu);
    pthread_mutex_destroy(&an->mu);
    free(an);
}

/* One submission: shared by the HTTP thread and the node's callback; freed by
 * whichever lets go last. */
typedef struct ef_an_sub {
    ef_api_node *an;
    int refs;                      /* under an->mu */
    bool done;
    int rc;
    ef_hash hash;
} ef_an_sub;

static ef_node *ef_an_node(void *ctx) { return ((ef_api_node *)ctx)->n; }

/* The node counts committed transactions itself (from the store at start). */
static uint64_t ef_an_txs_total(void *ctx, uint64_t *height)
{
    const ef_node_status *st = ef_node_status_hold(ef_an_node(ctx));
    uint64_t n = st->txs_committed;
    *height = st->height;
    ef_node_status_release(st);
    return n;
}

/* The store's height as of the last ef_an_store_status, without a read
 * transaction: the snapshot's height says when it is stale (the store commits
 * before the node publishes the new height). */
static uint64_t ef_an_cached_height(ef_api_node *an)
{
    pthread_mutex_lock(&an->status_mu);
    uint64_t h = an->status_cache ? an->status_height : 0;
    pthread_mutex_unlock(&an->status_mu);
    return h;
}

/* A hash of everything /status shows from the node's snapshot and the store's
 * height: the server reuses its last /status answer while it is unchanged. The
 * snapshot is held, not copied, and never under the node's lock, so a flood of
 * /status requests costs the node's loop nothing (the last hash is remembered
 * per snapshot, so most requests do not even hash). */
static uint64_t ef_an_status_version(void *ctx)
{
    ef_api_node *an = ctx;
    const ef_node_status *st = ef_node_status_hold(an->n);
    uint64_t sh = ef_an_cached_height(an);
    pthread_mutex_lock(&an->status_mu);
    bool known = an->version_seq == st->seq && an->version_height == sh && an->version;
    uint64_t v = an->version;
    pthread_mutex_unlock(&an->status_mu);
    if (known) {
        ef_node_status_release(st);
        return v;
    }
    ef_hasher h;
    ef_hasher_init(&h, EF_TAG_DATA);
    uint64_t f[] = {sh, st->height, st->round, (uint64_t)st->step,
                    st->catching_up, st->validator, st->peers_len, st->mempool_txs, st->mempool_bytes,
                    st->blocks_committed};
    ef_hasher_update(&h, f, sizeof f);
    ef_hasher_update(&h, st->peers, st->peers_len * sizeof st->peers[0]);
    ef_hasher_update(&h, st->peer_heights, st->peers_len * sizeof st->peer_heights[0]);
    ef_hasher_update(&h, st->moniker, strnlen(st->moniker, sizeof st->moniker));
    ef_hash out;
    ef_hasher_final(&h, &out);
    v = ef_get_u64le(out.b);
    v = v ? v : 1;
    pthread_mutex_lock(&an->status_mu);
    an->version_seq = st->seq;
    an->version_height = sh;
    an->version = v;
    pthread_mutex_unlock(&an->status_mu);
    ef_node_status_release(st);
    return v;
}
static ef_store *ef_an_store(void *ctx) { return ef_node_store(ef_an_node(ctx)); }

static uint64_t ef_an_height(void *ctx) { return ef_store_height(ef_an_store(ctx)); }

/* The store's view (validators with roles and last signatures) plus the node's
 * snapshot (round, peers, mempool, who we are). */
/* The store's part of the status (validators, roles, certificate signers) changes
 * only with the height: it is computed once per block and copied after. */
static int ef_an_store_status(ef_api_node *an, json_t **out)
{
    ef_store *s = ef_node_store(an->n);
    uint64_t h = ef_store_height(s);
    pthread_mutex_lock(&an->status_mu);
    if (an->status_cache && an->status_height == h) {
        *out = json_deep_copy(an->status_cache);
        pthread_mutex_unlock(&an->status_mu);
        return *out ? 0 : EF_ENOMEM;
    }
    pthread_mutex_unlock(&an->status_mu);
    json_t *o = NULL;
    int rc = ef_api_store_status(s, &o);
    if (rc) return rc;
    uint64_t oh = (uint64_t)json_integer_value(json_object_get(o, "height"));
    pthread_mutex_lock(&an->status_mu);
    if (!an->status_cache || oh > an->status_height) {
        json_decref(an->status_cache);
        an->status_cache = json_deep_copy(o);
        an->status_height = an->status_cache ? oh : 0;
    }
    pthread_mutex_unlock(&an->status_mu);
    *out = o;
    return 0;
}

static int ef_an_status(void *ctx, json_t **out)
{
    ef_node *n = ef_an_node(ctx);
    json_t *o = NULL;
    int rc = ef_an_store_status(ctx, &o);
    if (rc) return rc;
    const ef_node_status *st = ef_node_status_hold(n);
    char hex[2 * EF_PUB_SIZE + 1];
    ef_hex(hex, st->key.b, EF_PUB_SIZE);
    json_object_set_new(o, "node_key", json_string(hex));
    json_object_set_new(o, "moniker", json_string(st->moniker));
    json_object_set_new(o, "validator", json_boolean(st->validator));
    json_object_set_new(o, "round", json_integer((json_int_t)st->round));
    json_object_set_new(o, "step", json_integer(st->step));
    json_object_set_new(o, "catching_up", json_boolean(st->catching_up));
    json_object_set_new(o, "peers", json_integer((json_int_t)st->peers_len));
    json_object_set_new(o, "mempool_txs", json_integer((json_int_t)st->mempool_txs));
    json_object_set_new(o, "mempool_bytes", json_integer((json_int_t)st->mempool_bytes));
    json_object_set_new(o, "blocks_committed", json_integer((json_int_t)st->blocks_committed));
    json_t *peers = json_array();
    for (size_t i = 0; i < st->peers_len && peers; i++) {
        ef_hex(hex, st->peers[i].b, EF_PUB_SIZE);
        json_array_append_new(peers, json_pack("{s:s, s:I}", "key", hex, "height",
                                               (json_int_t)st->peer_heights[i]));
    }
    json_object_set_new(o, "peer_list", peers ? peers : json_array());
    /* each validator: connected if it is us or one of our peers */
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(o, "validators"), i, v) {
        const char *key = json_string_value(json_object_get(v, "key"));
        ef_pub pub;
        if (!key || ef_unhex(pub.b, EF_PUB_SIZE, key)) continue;
        bool up = !memcmp(pub.b, st->key.b, EF_PUB_SIZE);
        for (size_t k = 0; k < st->peers_len && !up; k++)
            if (!memcmp(pub.b, st->peers[k].b, EF_PUB_SIZE)) up = true;
        json_object_set_new(v, "connected", json_boolean(up));
    }
    ef_node_status_release(st);
    *out = o;
    return 0;
}

static int ef_an_block(void *ctx, uint64_t h, bool full, json_t **out)
{
    return ef_api_store_block(ef_an_store(ctx), h, full, out);
}
static int ef_an_tx(void *ctx, const ef_hash *h, json_t **out) { return ef_api_store_tx(ef_an_store(ctx), h, out); }
static int ef_an_proof(void *ctx, const ef_hash *h, json_t **out)
{
    return ef_api_store_proof(ef_an_store(ctx), h, out);
}
static int ef_an_checkpoint(void *ctx, uint64_t h, json_t **out)
{
    return ef_api_store_checkpoint(ef_an_store(ctx), h, out);
}
static int ef_an_query_text(void *ctx, const char *c, const char *p, char **out, size_t *len)
{
    return ef_store_query_text(ef_an_store(ctx), c, p, out, len);
}

static int ef_an_query(void *ctx, const char *c, const char *p, json_t **out)
{
    return ef_store_query(ef_an_store(ctx), c, p, out);
}
static int ef_an_account(void *ctx, const ef_pub *p, json_t **out)
{
    return ef_api_store_account(ef_an_store(ctx), p, out);
}
static bool ef_an_is_member(void *ctx, const ef_pub *p, const char *d)
{
    return ef_api_store_is_member(ef_an_store(ctx), p, d);
}

/* On the node's loop thread: first the admission result, then (if admitted) one
 * final COMMITTED or DROPPED call. */
static void ef_an_sub_cb(void *arg, const ef_hash *h, int stage, int code, uint64_t height)
{
    (void)height;
    ef_an_sub *sub = arg;
    ef_api_node *an = sub->an;
    bool last = stage != EF_NODE_TX_ADMITTED || code != 0;
    pthread_mutex_lock(&an->mu);
    if (stage == EF_NODE_TX_DROPPED && code) {
        an->drops[an->drops_next].hash = *h;
        an->drops[an->drops_next].reason = code;
        an->drops_next = (an->drops_next + 1) % EF_API_DROPS_KEPT;
    }
    if (stage == EF_NODE_TX_ADMITTED) {
        sub->rc = code;
        sub->hash = *h;
        sub->done = true;
        pthread_cond_broadcast(&an->cond);
    }
    bool free_it = last && --sub->refs == 0;
    pthread_mutex_unlock(&an->mu);
    if (free_it) {
        free(sub);
        ef_an_unref(an);
    }
}

static int ef_an_dropped(void *ctx, const ef_hash *hash)
{
    ef_api_node *an = ctx;
    int why = 0;
    pthread_mutex_lock(&an->mu);
    for (size_t i = 0; i < EF_API_DROPS_KEPT && !why; i++)
        if (an->drops[i].reason && !memcmp(an->drops[i].hash.b, hash->b, EF_HASH_SIZE)) why = an->drops[i].reason;
    pthread_mutex_unlock(&an->mu);
    return why;
}

static int ef_an_submit(void *ctx, const uint8_t *tx, size_t len, ef_hash *hash)
{
    ef_api_node *an = ctx;
    ef_an_sub *sub = calloc(1, sizeof *sub);
    if (!sub) return EF_ENOMEM;
    sub->an = an;
    sub->refs = 2;
    pthread_mutex_lock(&an->mu);
    an->refs++;
    pthread_mutex_unlock(&an->mu);
    int rc = ef_node_submit(an->n, tx, len, ef_an_sub_cb, sub);
    if (rc) {
        free(sub);
        ef_an_unref(an);
        return rc;
    }
    pthread_mutex_lock(&an->mu);
    while (!sub->done && !an->stopping) pthread_cond_wait(&an->cond, &an->mu);
    rc = sub->done ? sub->rc : EF_ECLOSED;
    if (sub->done) *hash = sub->hash;
    bool free_it = --sub->refs == 0;
    pthread_mutex_unlock(&an->mu);
    if (free_it) {
        free(sub);
        ef_an_unref(an);
    }
    return rc;
}

static int ef_an_metrics(void *ctx, ef_api_metrics *m)
{
    const ef_node_status *st = ef_node_status_hold(ef_an_node(ctx));
    m->height = st->height;
    m->round = st->round;
    m->txs_committed = st->txs_committed;
    m->blocks_committed = st->blocks_committed;
    m->mempool_txs = st->mempool_txs;
    m->mempool_bytes = st->mempool_bytes;
    m->peers = st->peers_len;
    _Static_assert(EF_NODE_LAT_BUCKETS == EF_API_LAT_BUCKETS, "same latency buckets");
    memcpy(m->lat_counts, st->lat_counts, sizeof m->lat_counts);
    m->lat_count = st->lat_count;
    m->lat_sum_ms = st->lat_sum_ms;
    m->rejected_len = EF_MIN(st->rejected_len, (size_t)EF_API_REJECT_MAX);
    for (size_t i = 0; i < m->rejected_len; i++) {
        snprintf(m->rejected[i].reason, sizeof m->rejected[i].reason, "%s", st->rejected[i].reason);
        m->rejected[i].count = st->rejected[i].count;
    }
    ef_node_status_release(st);
    return 0;
}

static void ef_api_node_backend_ctx(ef_api_backend *be, ef_api_node *an)
{
    memset(be, 0, sizeof *be);
    be->ctx = an;
    be->height = ef_an_height;
    be->status = ef_an_status;
    be->block = ef_an_block;
    be->tx = ef_an_tx;
    be->query = ef_an_query;
    be->query_text = ef_an_query_text;
    be->account = ef_an_account;
    be->submit = ef_an_submit;
    be->dropped = ef_an_dropped;
    be->metrics = ef_an_metrics;
    be->is_member = ef_an_is_member;
    be->status_version = ef_an_status_version;
    be->txs_total = ef_an_txs_total;
    be->proof = ef_an_proof;
    be->checkpoint = ef_an_checkpoint;
}

/* --- the extension --- */

static void ef_an_on_commit(void *arg, const ef_node_commit *c)
{
    ef_api_notify_commit(arg, c->height);
}

static int ef_an_uint(const json_t *sec, const char *k, unsigned *out)
{
    json_t *v = json_object_get(sec, k);
    if (!v) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000)
        return EF_ECONFIG;
    *out = (unsigned)json_integer_value(v);
    return 0;
}

static int ef_an_start(ef_node *n, const ef_node_config *cfg, void **state)
{
    *state = NULL;
    if (!cfg->http_listen[0]) return 0;
    ef_api_config ac = {.listen = cfg->http_listen, .chain_id = cfg->chain_id[0] ? cfg->chain_id : NULL};
    json_t *sec = cfg->doc ? json_object_get(cfg->doc, "api") : NULL;
    if (sec) {
        const char *k;
        json_t *v;
        if (!json_is_object(sec)) goto bad;
        json_object_foreach(sec, k, v) {
            if (strcmp(k, "private") && strcmp(k, "domain") && strcmp(k, "conn_max") &&
                strcmp(k, "conn_per_ip") && strcmp(k, "idle_s") && strcmp(k, "request_s") &&
                strcmp(k, "wait_ms_max"))
                goto bad;
        }
        json_t *p = json_object_get(sec, "private");
        if (p && !json_is_boolean(p)) goto bad;
        ac.private_reads = json_is_true(p);
        json_t *d = json_object_get(sec, "domain");
        if (d && (!json_is_string(d) || !ac.private_reads)) goto bad;
        ac.domain = json_string_value(d);
        if (ef_an_uint(sec, "conn_max", &ac.conn_max) || ef_an_uint(sec, "idle_s", &ac.idle_s) ||
            ef_an_uint(sec, "conn_per_ip", &ac.conn_per_ip) || ef_an_uint(sec, "request_s", &ac.request_s) ||
            ef_an_uint(sec, "wait_ms_max", &ac.wait_ms_max))
            goto bad;
        if (ac.conn_max > EF_STORE_READERS_MAX - EF_STORE_READERS_NODE) {
            EF_LOGE("api", "api.conn_max %u is over %u: every connection may hold one of the store's %u reader slots",
                    ac.conn_max, EF_STORE_READERS_MAX - EF_STORE_READERS_NODE, EF_STORE_READERS_MAX);
            return EF_ECONFIG;
        }
    }
    ef_api_node *an = calloc(1, sizeof *an);
    if (!an) return EF_ENOMEM;
    an->n = n;
    an->refs = 1;
    pthread_mutex_init(&an->mu, NULL);
    pthread_mutex_init(&an->status_mu, NULL);
    pthread_cond_init(&an->cond, NULL);
    ef_api_backend be;
    ef_api_node_backend_ctx(&be, an);
    int rc = ef_api_start(&an->api, &ac, &be);
    if (rc) {
        EF_LOGE("api", "cannot start the HTTP API on %s: %s", cfg->http_listen, ef_strerror(rc));
        goto fail;
    }
    rc = ef_node_on_commit(n, ef_an_on_commit, an->api);
    if (rc) {
        ef_api_stop(an->api);
        goto fail;
    }
    *state = an;
    return 0;
fail:
    pthread_cond_destroy(&an->cond);
    pthread_mutex_destroy(&an->status_mu);
    pthread_mutex_destroy(&an->mu);
    free(an);
    return rc;
bad:
    EF_LOGE("api", "bad \"api\" section in the node config (fields: private, domain (with private), "
                   "conn_max, conn_per_ip, idle_s, request_s, wait_ms_max)");
    return EF_ECONFIG;
}

/* On the loop thread: release submissions waiting for the loop, then stop the
 * server (which waits for its connection threads). Submissions still owned by
 * the node are freed by their final callback (the node calls it with DROPPED
 * when it shuts down). */
static void ef_an_stop(void *state)
{
    ef_api_node *an = state;
    if (!an) return;
    pthread_mutex_lock(&an->mu);
    an->stopping = true;
    pthread_cond_broadcast(&an->cond);
    pthread_mutex_unlock(&an->mu);
    ef_api_stop(an->api);
    an->api = NULL;
    ef_an_unref(an);      /* freed now, or by the last pending submission's callback */
}

const ef_node_ext ef_api_node_ext = {
    .name = "api",
    .start = ef_an_start,
    .stop = ef_an_stop,
};
