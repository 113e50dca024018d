/* test_api.c: the HTTP API against a real LMDB store whose blocks a small writer
 * thread commits through the ledger (propose + commit, as a one-validator node
 * without networking would): every endpoint, bad input refused without changing
 * anything, commit waits, the event stream and its resumption, signed private
 * reads, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ledger/ef_proof.h"
#include "api/ef_api.h"
#include "api/ef_api_store.h"
#include "api/ef_client.h"
#include "base/ef_codec.h"
#include "base/ef_log.h"
#include "ef_test_ledger.h"
#include "contracts/ef_contracts.h"

/* ------------------------------------------------------------------------
 * The backend: reads from the store; submit checks a transaction as a mempool
 * would and queues it; a writer thread commits the queue as blocks. */

#define T_QUEUE_MAX 256

typedef struct t_node {
    ef_store *store;
    ef_keypair proposer;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    uint8_t *q[T_QUEUE_MAX];
    size_t qlen[T_QUEUE_MAX];
    size_t n;
    bool hold;              /* the writer commits nothing while set */
    bool stop;
    uint64_t time_ms;
    pthread_t writer;
    ef_api *apis[2];        /* servers to notify on commit */
} t_node;

static uint64_t tn_height(void *ctx) { return ef_store_height(((t_node *)ctx)->store); }
static atomic_int tn_status_calls;
static atomic_uint_fast64_t tn_status_ver = 1;
static int tn_status(void *ctx, json_t **out)
{
    atomic_fetch_add(&tn_status_calls, 1);
    return ef_api_store_status(((t_node *)ctx)->store, out);
}
static uint64_t tn_status_version(void *ctx)
{
    return atomic_load(&tn_status_ver) * 1000003u + ef_store_height(((t_node *)ctx)->store);
}
static int tn_block(void *ctx, uint64_t h, bool full, json_t **out)
{
    return ef_api_store_block(((t_node *)ctx)->store, h, full, out);
}
static int tn_tx(void *ctx, const ef_hash *h, json_t **out) { return ef_api_store_tx(((t_node *)ctx)->store, h, out); }
static int tn_query(void *ctx, const char *c, const char *p, json_t **out)
{
    return ef_store_query(((t_node *)ctx)->store, c, p, out);
}
static int tn_account(void *ctx, const ef_pub *p, json_t **out)
{
    return ef_api_store_account(((t_node *)ctx)->store, p, out);
}
static bool tn_is_member(void *ctx, const ef_pub *p, const char *d)
{
    return ef_api_store_is_member(((t_node *)ctx)->store, p, d);
}

static int tn_submit(void *ctx, const uint8_t *enc, size_t len, ef_hash *hash)
{
    t_node *tn = ctx;
    ef_tx tx;
    if (len > EF_TX_ENC_MAX) return EF_ETOOBIG;
    int rc = ef_tx_decode(&tx, enc, len);
    if (rc) return rc;
    rc = ef_tx_check_stateless(&tx, T_CHAIN, enc, len);
    if (rc) return rc;
    ef_tx_hash_enc(hash, enc, len);
    uint64_t next;
    rc = ef_store_nonce(tn->store, &tx.sender, &next);
    if (rc) return rc;
    pthread_mutex_lock(&tn->mu);
    for (size_t i = 0; i < tn->n; i++) {
        ef_tx q;
        ef_hash qh;
        ef_tx_hash_enc(&qh, tn->q[i], tn->qlen[i]);
        if (ef_hash_eq(&qh, hash)) { rc = EF_EDUP; break; }
        if (ef_tx_decode(&q, tn->q[i], tn->qlen[i]) == 0 && ef_hash_eq((ef_hash *)&q.sender, (ef_hash *)&tx.sender))
            next++;
    }
    if (rc == 0 && tx.nonce != next) rc = EF_ENONCE;
    if (rc == 0 && tn->n == T_QUEUE_MAX) rc = EF_EFULL;
    if (rc == 0) {
        tn->q[tn->n] = malloc(len);
        memcpy(tn->q[tn->n], enc, len);
        tn->qlen[tn->n++] = len;
        pthread_cond_broadcast(&tn->cond);
    }
    pthread_mutex_unlock(&tn->mu);
    return rc;
}

static int tn_metrics(void *ctx, ef_api_metrics *m)
{
    t_node *tn = ctx;
    pthread_mutex_lock(&tn->mu);
    m->mempool_txs = tn->n;
    pthread_mutex_unlock(&tn->mu);
    m->lat_counts[ef_api_lat_bucket(3.0)] = 2;
    m->lat_count = 2;
    m->lat_sum_ms = 6.0;
    m->rejected_len = 1;
    snprintf(m->rejected[0].reason, sizeof m->rejected[0].reason, "bad_frame");
    m->rejected[0].count = 7;
    return 0;
}

static void *tn_writer(void *arg)
{
    t_node *tn = arg;
    pthread_mutex_lock(&tn->mu);
    while (!tn->stop) {
        if (tn->n == 0 || tn->hold) {
            pthread_cond_wait(&tn->cond, &tn->mu);
            continue;
        }
        size_t n = tn->n;
        ef_txbuf c[T_QUEUE_MAX];
        for (size_t i = 0; i < n; i++) c[i] = (ef_txbuf){tn->q[i], tn->qlen[i]};
        tn->time_ms += 10;
        uint8_t *blk = NULL;
        size_t blen = 0;
        int rc = ef_ledger_propose(tn->store, c, n, tn->time_ms, &tn->proposer.pub, NULL, NULL, &blk, &blen);
        if (rc == 0) rc = ef_ledger_commit(tn->store, blk, blen, NULL, 0);
        free(blk);
        EF_ASSERT(rc == 0);
        for (size_t i = 0; i < n; i++) free(tn->q[i]);
        tn->n = 0;
        uint64_t h = ef_store_height(tn->store);
        for (int i = 0; i < 2; i++)
            if (tn->apis[i]) ef_api_notify_commit(tn->apis[i], h);
    }
    pthread_mutex_unlock(&tn->mu);
    return NULL;
}

static int tn_proof(void *ctx, const ef_hash *h, json_t **out)
{
    t_node *tn = ctx;
    return ef_api_store_proof(tn->store, h, out);
}

static void tn_backend(ef_api_backend *be, t_node *tn)
{
    memset(be, 0, sizeof *be);
    be->ctx = tn;
    be->height = tn_height;
    be->status = tn_status;
    be->block = tn_block;
    be->tx = tn_tx;
    be->query = tn_query;
    be->account = tn_account;
    be->submit = tn_submit;
    be->metrics = tn_metrics;
    be->is_member = tn_is_member;
    be->status_version = tn_status_version;
    be->proof = tn_proof;
}

/* ------------------------------------------------------------------------
 * Fixture: a store with genesis (validator key 0, accounts 0..3 with 1000 each),
 * the writer, a public API and a private API on the same store. */

typedef struct t_env {
    char dir[512];
    ef_genesis g;
    t_node tn;
    ef_api *api, *priv;
    char url[64], purl[64];
    ef_client *cl;
} t_env;

static t_env *env;

static int setup(void **state)
{
    (void)state;
    env = calloc(1, sizeof *env);
    t_tmpdir(env->dir, sizeof env->dir, "api");
    t_genesis(&env->g, 1, 4, 1000);
    assert_int_equal(ef_store_open(&env->tn.store, env->dir, &(ef_store_opts){EF_CONTRACTS_BUILTIN, .no_sync = true}), 0);
    assert_int_equal(ef_store_init_genesis(env->tn.store, &env->g), 0);
    t_key(&env->tn.proposer, 0);
    env->tn.time_ms = 2000;
    pthread_mutex_init(&env->tn.mu, NULL);
    pthread_cond_init(&env->tn.cond, NULL);
    ef_api_backend be;
    tn_backend(&be, &env->tn);
    assert_int_equal(ef_api_start(&env->api, &(ef_api_config){.listen = "127.0.0.1:0"}, &be), 0);
    assert_int_equal(ef_api_start(&env->priv, &(ef_api_config){.listen = "127.0.0.1:0", .private_reads = true,
                                                               .chain_id = T_CHAIN}, &be), 0);
    env->tn.apis[0] = env->api;
    env->tn.apis[1] = env->priv;
    assert_int_equal(pthread_create(&env->tn.writer, NULL, tn_writer, &env->tn), 0);
    snprintf(env->url, sizeof env->url, "http://127.0.0.1:%u", ef_api_port(env->api));
    snprintf(env->purl, sizeof env->purl, "http://127.0.0.1:%u", ef_api_port(env->priv));
    assert_int_equal(ef_client_new(&env->cl, env->url, NULL, 10000), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pthread_mutex_lock(&env->tn.mu);
    env->tn.stop = true;
    env->tn.hold = false;
    pthread_cond_broadcast(&env->tn.cond);
    pthread_mutex_unlock(&env->tn.mu);
    pthread_join(env->tn.writer, NULL);
    ef_client_free(env->cl);
    ef_api_stop(env->api);
    ef_api_stop(env->priv);
    for (size_t i = 0; i < env->tn.n; i++) free(env->tn.q[i]);
    ef_store_close(env->tn.store);
    ef_genesis_free(&env->g);
    t_rmdir(env->dir);
    free(env);
    return 0;
}

/* GET path as JSON; asserts the status; returns the body (caller decrefs). */
static json_t *t_get(ef_client *cl, const char *path, long want)
{
    long status = 0;
    json_t *j = NULL;
    assert_int_equal(ef_client_json(cl, "GET", path, NULL, &status, &j), 0);
    if (status != want) fprintf(stderr, "GET %s: %ld (want %ld)\n", path, status, want);
    assert_int_equal(status, want);
    return j;
}

/* POST raw bytes to /txs...; returns the status and the JSON answer in *out. */
static long t_post(const char *target, const char *ctype, const void *body, size_t len, json_t **out)
{
    long status = 0;
    char *resp = NULL;
    size_t rlen = 0;
    assert_int_equal(ef_client_request(env->cl, "POST", target, ctype, body, len, &status, &resp, &rlen), 0);
    if (out) *out = json_loadb(resp, rlen, 0, NULL);
    free(resp);
    return status;
}

/* METHOD path answers status `want`, with a body containing `has` if not NULL. */
static void t_expect_answer(const char *method, const char *path, long want, const char *has)
{
    long status = 0;
    char *body = NULL;
    size_t blen = 0;
    assert_int_equal(ef_client_request(env->cl, method, path, NULL, NULL, 0, &status, &body, &blen), 0);
    assert_int_equal(status, want);
    if (has) assert_non_null(strstr(body, has));
    free(body);
}

/* Starts another API server (cfg) on the test node; the caller stops it. */
static ef_api *t_api_start(const ef_api_config *cfg)
{
    ef_api_backend be;
    tn_backend(&be, &env->tn);
    ef_api *a = NULL;
    assert_int_equal(ef_api_start(&a, cfg, &be), 0);
    return a;
}

static void t_expect_code(json_t *j, const char *code)
{
    assert_non_null(j);
    const char *c = json_string_value(json_object_get(j, "code"));
    if (!c || strcmp(c, code)) fprintf(stderr, "answer %s, want code %s\n", json_dumps(j, 0), code);
    assert_non_null(c);
    assert_string_equal(c, code);
    assert_non_null(json_string_value(json_object_get(j, "error")));
}

static char *t_hexdup(const uint8_t *p, size_t n)
{
    char *h = malloc(2 * n + 1);
    ef_hex(h, p, n);
    return h;
}

/* Submits {"tx": hex} with wait=commit; asserts 200 and result code; returns the hash. */
static void t_send_commit(const uint8_t *tx, size_t len, const char *want_code, ef_hash *hash)
{
    long status;
    json_t *j = NULL;
    assert_int_equal(ef_client_submit(env->cl, tx, len, true, 10000, &status, &j), 0);
    assert_int_equal(status, 200);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "committed");
    assert_string_equal(json_string_value(json_object_get(j, "code")), want_code);
    if (hash) assert_int_equal(ef_unhex(hash->b, EF_HASH_SIZE, json_string_value(json_object_get(j, "hash"))), 0);
    json_decref(j);
}

static uint64_t t_nonce(const ef_keypair *kp)
{
    char path[128], hex[65];
    snprintf(path, sizeof path, "/accounts/%s", t_hex(&kp->pub, hex));
    json_t *a = t_get(env->cl, path, 200);
    uint64_t n = (uint64_t)json_integer_value(json_object_get(a, "nonce"));
    json_decref(a);
    return n;
}

/* One raw HTTP exchange over a socket; returns the status code of the answer. */
static int t_raw(uint16_t port, const char *req, size_t len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t off = 0;
    while (off < len) {
        ssize_t w = send(fd, req + off, len - off, MSG_NOSIGNAL);
        if (w <= 0) break;            /* the server may answer and close early */
        off += (size_t)w;
    }
    char buf[256] = {0};
    ssize_t r = recv(fd, buf, sizeof buf - 1, 0);
    close(fd);
    int code = 0;
    if (r > 12) sscanf(buf, "HTTP/1.%*d %d", &code);
    return code;
}

/* ------------------------------------------------------------------ tests */

static void test_api_reads(void **state)
{
    (void)state;
    ef_keypair a1, a2;
    t_key(&a1, 1);
    t_key(&a2, 2);
    char hex[65], args[256], path[256];
    snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":25}", t_hex(&a2.pub, hex));
    size_t len;
    uint8_t *tx = t_tx(&a1, t_nonce(&a1), "bank", "transfer", args, &len);
    ef_hash h;
    t_send_commit(tx, len, "OK", &h);
    free(tx);

    json_t *st = t_get(env->cl, "/status", 200);
    assert_string_equal(json_string_value(json_object_get(st, "chain_id")), T_CHAIN);
    uint64_t height = (uint64_t)json_integer_value(json_object_get(st, "height"));
    assert_true(height >= 1);
    json_t *vals = json_object_get(st, "validators");
    assert_int_equal(json_array_size(vals), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(vals, 0), "role")), "validator");
    json_decref(st);

    char hh[65];
    ef_hex(hh, h.b, EF_HASH_SIZE);
    snprintf(path, sizeof path, "/txs/%s", hh);
    json_t *t = t_get(env->cl, path, 200);
    assert_string_equal(json_string_value(json_object_get(t, "contract")), "bank");
    assert_string_equal(json_string_value(json_object_get(t, "code")), "OK");
    uint64_t th = (uint64_t)json_integer_value(json_object_get(t, "height"));
    json_t *ev = json_array_get(json_object_get(t, "events"), 0);
    assert_string_equal(json_string_value(json_object_get(ev, "name")), "transfer");
    json_decref(t);

    /* its proof: decodes, its paths lead to the header's roots (this test's
     * writer commits blocks without certificates) */
    snprintf(path, sizeof path, "/proofs/tx/%s", hh);
    json_t *pj = t_get(env->cl, path, 200);
    assert_int_equal(json_integer_value(json_object_get(pj, "height")), th);
    assert_string_equal(json_string_value(json_object_get(pj, "tx_hash")), hh);
    assert_true(json_is_false(json_object_get(pj, "certified")));
    {
        const char *ph = json_string_value(json_object_get(pj, "proof"));
        size_t pn = strlen(ph) / 2;
        uint8_t *pb = malloc(pn);
        assert_int_equal(ef_unhex(pb, pn, ph), 0);
        ef_proof *pf = malloc(sizeof *pf);
        assert_int_equal(ef_proof_decode(pf, pb, pn), 0);
        assert_int_equal(ef_proof_check(pf), 0);
        assert_true(ef_hash_eq(&pf->tx_hash, &h));
        free(pf);
        free(pb);
    }
    json_decref(pj);
    t = t_get(env->cl, "/proofs/tx/00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 404);
    t_expect_code(t, "ENOTFOUND");
    json_decref(t);
    t = t_get(env->cl, "/proofs/tx/xyz", 400);
    json_decref(t);

    snprintf(path, sizeof path, "/blocks/%llu", (unsigned long long)th);
    json_t *b = t_get(env->cl, path, 200);
    assert_int_equal(json_integer_value(json_object_get(b, "height")), th);
    json_t *btx = json_array_get(json_object_get(b, "txs"), 0);
    assert_string_equal(json_string_value(json_object_get(btx, "hash")), hh);
    assert_string_equal(json_string_value(json_object_get(btx, "code")), "OK");
    json_decref(b);

    /* GET /blocks/{h}/checkpoint needs the block's certificate, which this test's
     * writer does not store (relayer.sh reads real ones); bad heights and sub-paths */
    snprintf(path, sizeof path, "/blocks/%llu/checkpoint", (unsigned long long)th);
    t = t_get(env->cl, path, 404);
    t_expect_code(t, "ENOTFOUND");
    json_decref(t);
    json_decref(t_get(env->cl, "/blocks/0/checkpoint", 404));
    json_decref(t_get(env->cl, "/blocks/99999/checkpoint", 404));
    json_decref(t_get(env->cl, "/blocks/x1/checkpoint", 400));
    json_decref(t_get(env->cl, "/blocks//checkpoint", 400));
    json_decref(t_get(env->cl, "/blocks/1/nosuch", 404));

    json_t *bl = t_get(env->cl, "/blocks?from=0&to=99", 200);
    assert_int_equal(json_array_size(json_object_get(bl, "blocks")), height + 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(bl, "blocks"), 0), "txs")), 0);
    json_decref(bl);
    json_decref(t_get(env->cl, "/blocks", 200));

    snprintf(path, sizeof path, "/accounts/%s", t_hex(&a2.pub, hex));
    json_t *acc = t_get(env->cl, path, 200);
    assert_true(json_integer_value(json_object_get(acc, "balance")) >= 1025);
    assert_string_equal(json_string_value(json_object_get(acc, "role")), "none");
    json_decref(acc);
    snprintf(path, sizeof path, "/state/bank/balance/%s", hex);
    json_t *q = t_get(env->cl, path, 200);
    assert_true(json_integer_value(json_object_get(q, "balance")) >= 1025);
    json_decref(q);
    json_decref(t_get(env->cl, "/state/bank/supply", 200));
    json_decref(t_get(env->cl, "/state/registry/validators", 200));

    /* errors */
    t = t_get(env->cl, "/txs/00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 404);
    t_expect_code(t, "ENOTFOUND");
    json_decref(t);
    t = t_get(env->cl, "/txs/xyz", 400);
    t_expect_code(t, "EINVAL");
    json_decref(t);
    t = t_get(env->cl, "/blocks/99999", 404);
    t_expect_code(t, "ENOTFOUND");
    json_decref(t);
    json_decref(t_get(env->cl, "/blocks/-1", 400));
    json_decref(t_get(env->cl, "/blocks/18446744073709551616", 400));
    json_decref(t_get(env->cl, "/blocks?from=5&to=1", 400));
    json_decref(t_get(env->cl, "/blocks?from=0&to=100", 400));
    json_decref(t_get(env->cl, "/blocks?from=1000&to=1099", 200));
    json_decref(t_get(env->cl, "/blocks?from=abc", 400));
    json_decref(t_get(env->cl, "/accounts/1234", 400));
    t = t_get(env->cl, "/state/nosuch/x", 404);
    t_expect_code(t, "ENOCONTRACT");
    json_decref(t);
    json_decref(t_get(env->cl, "/state/", 400));
    json_decref(t_get(env->cl, "/nope", 404));

    long status;
    char *body = NULL;
    size_t blen;
    t_expect_answer("DELETE", "/status", 405, NULL);
    t_expect_answer("GET", "/txs", 405, NULL);

    /* explorer files and metrics */
    t_expect_answer("GET", "/", 200, "edgefed explorer");
    t_expect_answer("GET", "/ui/explorer.js", 200, "EventSource");
    t_expect_answer("GET", "/ui/nope.js", 404, NULL);
    assert_int_equal(ef_client_request(env->cl, "GET", "/metrics", NULL, NULL, 0, &status, &body, &blen), 0);
    assert_int_equal(status, 200);
    char line[64];
    snprintf(line, sizeof line, "\nedgefed_height %llu\n", (unsigned long long)ef_store_height(env->tn.store));
    assert_non_null(strstr(body, line));
    assert_non_null(strstr(body, "edgefed_commit_latency_seconds_bucket{le=\"0.005\"} 2\n"));
    assert_non_null(strstr(body, "edgefed_commit_latency_seconds_count 2\n"));
    assert_non_null(strstr(body, "edgefed_rejected_total{reason=\"bad_frame\"} 7\n"));
    assert_non_null(strstr(body, "edgefed_process_resident_memory_bytes "));
    assert_non_null(strstr(body, "edgefed_http_rejected_total{code=\"ENOTFOUND\"}"));
    free(body);
}

static void test_api_bad_submissions_change_nothing(void **state)
{
    (void)state;
    ef_keypair a1, a2;
    t_key(&a1, 1);
    t_key(&a2, 2);
    uint64_t height = ef_store_height(env->tn.store);
    uint64_t nonce = t_nonce(&a1);
    char hex[65], args[256];
    snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":5}", t_hex(&a2.pub, hex));
    size_t len;
    uint8_t *tx = t_tx(&a1, nonce, "bank", "transfer", args, &len);
    char *thex = t_hexdup(tx, len);
    json_t *j;
    char body[512];

    assert_int_equal(t_post("/txs", "application/json", "{\"tx\": ", 7, &j), 400);       /* malformed JSON */
    t_expect_code(j, "EINVAL");
    json_decref(j);
    assert_int_equal(t_post("/txs", "application/json", "{\"tx\": 5}", 9, &j), 400);     /* wrong type */
    json_decref(j);
    assert_int_equal(t_post("/txs", "application/json", "[1,2]", 5, &j), 400);
    json_decref(j);
    snprintf(body, sizeof body, "{\"tx\":\"%.40s\",\"extra\":1}", thex);                  /* unknown field */
    assert_int_equal(t_post("/txs", "application/json", body, strlen(body), &j), 400);
    json_decref(j);
    assert_int_equal(t_post("/txs", "application/json", "{\"tx\":\"abc\"}", 12, &j), 400); /* odd hex */
    json_decref(j);
    assert_int_equal(t_post("/txs", "application/json", "{\"tx\":\"zz\"}", 11, &j), 400);  /* not hex */
    json_decref(j);
    assert_int_equal(t_post("/txs", "application/json", "{\"tx\":\"0011\"}", 13, &j), 400); /* truncated tx */
    t_expect_code(j, "ETRUNC");
    json_decref(j);
    size_t depth = 100000;                                                                /* deep nesting */
    char *deep = malloc(2 * depth);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    assert_int_equal(t_post("/txs", "application/json", deep, 2 * depth, &j), 400);
    t_expect_code(j, "EINVAL");
    json_decref(j);
    free(deep);
    assert_int_equal(t_post("/txs", "text/plain", "x", 1, &j), 415);
    json_decref(j);
    assert_int_equal(t_post("/txs?wait=later", "application/json", "{}", 2, &j), 400);
    json_decref(j);
    assert_int_equal(t_post("/txs?wait=commit&timeout_ms=0", "application/json", "{}", 2, &j), 400);
    json_decref(j);

    /* bad signature: flip a bit of the signature */
    uint8_t *bad = malloc(len);
    memcpy(bad, tx, len);
    bad[len - 1] ^= 1;
    assert_int_equal(t_post("/txs", "application/octet-stream", bad, len, &j), 422);
    t_expect_code(j, "EBADSIG");
    json_decref(j);
    /* altered body (amount) with the old signature */
    memcpy(bad, tx, len);
    bad[len - 70] ^= 0x01;
    long st = t_post("/txs", "application/octet-stream", bad, len, &j);
    assert_true(st == 422 || st == 400);
    json_decref(j);
    free(bad);

    /* oversize body, announced and chunked */
    size_t big = EF_API_BODY_MAX + 100;
    char *huge = malloc(big);
    memset(huge, 'a', big);
    memcpy(huge, "{\"tx\":\"", 7);
    assert_int_equal(t_post("/txs", "application/json", huge, big, &j), 413);
    t_expect_code(j, "ETOOBIG");
    json_decref(j);
    size_t rl = 64 + big + 64;
    char *raw = malloc(rl);
    int hl = snprintf(raw, rl, "POST /txs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                               "Transfer-Encoding: chunked\r\n\r\n%zx\r\n", big);
    memcpy(raw + hl, huge, big);
    memcpy(raw + hl + big, "\r\n0\r\n\r\n", 7);
    assert_int_equal(t_raw(ef_api_port(env->api), raw, (size_t)hl + big + 7), 413);
    free(raw);
    free(huge);

    /* oversize headers: libmicrohttpd's own 431 */
    size_t hb = EF_API_HEADER_MEM + 1000;
    char *hreq = malloc(hb + 128);
    int n = snprintf(hreq, hb + 128, "GET /status HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(hreq + n, 'b', hb);
    memcpy(hreq + n + hb, "\r\n\r\n", 4);
    int code = t_raw(ef_api_port(env->api), hreq, (size_t)n + hb + 4);
    assert_true(code == 431 || code == 413 || code == 400);
    free(hreq);

    /* nothing changed */
    assert_int_equal(ef_store_height(env->tn.store), height);
    assert_int_equal(t_nonce(&a1), nonce);

    /* the good one goes through; sending it again is a replay */
    t_send_commit(tx, len, "OK", NULL);
    height = ef_store_height(env->tn.store);
    assert_int_equal(t_nonce(&a1), nonce + 1);
    snprintf(body, sizeof body, "{\"tx\":\"%s\"}", thex);
    assert_int_equal(t_post("/txs", "application/json", body, strlen(body), &j), 409);
    t_expect_code(j, "ENONCE");
    json_decref(j);
    /* a transaction for another chain */
    ef_tx other;
    assert_int_equal(ef_tx_decode(&other, tx, len), 0);
    strcpy(other.chain_id, "other-chain");
    other.nonce = nonce + 1;
    assert_int_equal(ef_tx_sign(&other, &a1), 0);
    ef_wr w;
    ef_wr_init(&w);
    assert_int_equal(ef_tx_encode(&w, &other), 0);
    assert_int_equal(t_post("/txs", "application/octet-stream", w.buf, w.len, &j), 422);
    t_expect_code(j, "ECHAIN");
    json_decref(j);
    ef_wr_free(&w);
    assert_int_equal(ef_store_height(env->tn.store), height);
    assert_int_equal(t_nonce(&a1), nonce + 1);
    free(thex);
    free(tx);
}

typedef struct t_waiter {
    uint8_t *tx;
    size_t len;
    long status;
    json_t *resp;
    char url[64];
} t_waiter;

static void *t_wait_thread(void *arg)
{
    t_waiter *w = arg;
    ef_client *cl;
    EF_ASSERT(ef_client_new(&cl, w->url, NULL, 20000) == 0);
    EF_ASSERT(ef_client_submit(cl, w->tx, w->len, true, 15000, &w->status, &w->resp) == 0);
    ef_client_free(cl);
    return NULL;
}

static void test_api_wait_does_not_block_others(void **state)
{
    (void)state;
    ef_keypair a3;
    t_key(&a3, 3);
    char hex[65], args[256];
    snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":1}", t_hex(&a3.pub, hex));
    t_waiter w = {0};
    snprintf(w.url, sizeof w.url, "%s", env->url);
    w.tx = t_tx(&a3, t_nonce(&a3), "bank", "transfer", args, &w.len);
    pthread_mutex_lock(&env->tn.mu);
    env->tn.hold = true;
    pthread_mutex_unlock(&env->tn.mu);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, t_wait_thread, &w), 0);
    /* while it waits, other requests are served quickly */
    for (int i = 0; i < 20; i++) {
        uint64_t t0 = ef_now_mono_us();
        json_decref(t_get(env->cl, "/status", 200));
        assert_true(ef_now_mono_us() - t0 < 2000000);
    }
    for (int i = 0; i < 200 && !strstr("", "x"); i++) {   /* until the tx is queued */
        pthread_mutex_lock(&env->tn.mu);
        size_t n = env->tn.n;
        pthread_mutex_unlock(&env->tn.mu);
        if (n) break;
        usleep(10000);
    }
    /* a short wait times out with 504 and the hash */
    ef_keypair a2;
    t_key(&a2, 2);
    size_t len2;
    uint8_t *tx2 = t_tx(&a2, t_nonce(&a2), "bank", "transfer", args, &len2);
    long status;
    json_t *j = NULL;
    assert_int_equal(ef_client_submit(env->cl, tx2, len2, true, 300, &status, &j), 0);
    assert_int_equal(status, 504);
    t_expect_code(j, "ETIMEOUT");
    assert_non_null(json_string_value(json_object_get(j, "hash")));
    json_decref(j);
    free(tx2);
    pthread_mutex_lock(&env->tn.mu);
    env->tn.hold = false;
    pthread_cond_broadcast(&env->tn.cond);
    pthread_mutex_unlock(&env->tn.mu);
    pthread_join(th, NULL);
    assert_int_equal(w.status, 200);
    assert_string_equal(json_string_value(json_object_get(w.resp, "code")), "OK");
    json_decref(w.resp);
    free(w.tx);
}

/* A server that stops while a request waits for a commit answers it 503. */
static void test_api_stop_answers_waiters(void **state)
{
    (void)state;
    ef_api *a = t_api_start(&(ef_api_config){.listen = "127.0.0.1:0"});
    ef_keypair a3, a2;
    t_key(&a3, 3);
    t_key(&a2, 2);
    char hex[65], args[256];
    snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":1}", t_hex(&a2.pub, hex));
    t_waiter w = {0};
    snprintf(w.url, sizeof w.url, "http://127.0.0.1:%u", ef_api_port(a));
    w.tx = t_tx(&a3, t_nonce(&a3), "bank", "transfer", args, &w.len);
    pthread_mutex_lock(&env->tn.mu);
    env->tn.hold = true;
    pthread_mutex_unlock(&env->tn.mu);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, t_wait_thread, &w), 0);
    for (int i = 0; i < 200; i++) {                  /* until it is queued and waiting */
        pthread_mutex_lock(&env->tn.mu);
        size_t n = env->tn.n;
        pthread_mutex_unlock(&env->tn.mu);
        if (n) break;
        usleep(10000);
    }
    usleep(50000);
    ef_api_stop(a);
    pthread_join(th, NULL);
    assert_int_equal(w.status, 503);
    t_expect_code(w.resp, "ECLOSED");
    json_decref(w.resp);
    free(w.tx);
    pthread_mutex_lock(&env->tn.mu);                 /* let the queued transfer commit */
    env->tn.hold = false;
    pthread_cond_broadcast(&env->tn.cond);
    pthread_mutex_unlock(&env->tn.mu);
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&env->tn.mu);
        size_t n = env->tn.n;
        pthread_mutex_unlock(&env->tn.mu);
        if (!n) break;
        usleep(10000);
    }
}

typedef struct t_events {
    int blocks, events, ids;
    char last_id[32];
    int stop_after_blocks;
    uint64_t first_height;
} t_events;

static int t_on_event(void *arg, const char *type, const char *id, const char *data)
{
    t_events *e = arg;
    if (getenv("T_DEBUG")) fprintf(stderr, "event type=%s id=%s data=%s\n", type, id, data);
    snprintf(e->last_id, sizeof e->last_id, "%s", id);
    json_t *d = json_loads(data, 0, NULL);
    if (!strcmp(type, "block")) {
        if (e->blocks == 0) e->first_height = (uint64_t)json_integer_value(json_object_get(d, "height"));
        e->blocks++;
    } else if (!strcmp(type, "event")) {
        EF_ASSERT(!strcmp(json_string_value(json_object_get(d, "contract")), "bank"));
        EF_ASSERT(!strcmp(json_string_value(json_object_get(d, "name")), "transfer"));
        e->events++;
    } else if (!*type) {
        e->ids++;
    }
    json_decref(d);
    if (e->stop_after_blocks > 0 && e->blocks >= e->stop_after_blocks) return 1;
    if (e->stop_after_blocks < 0 && (uint64_t)atoll(id) >= (uint64_t)-e->stop_after_blocks) return 1;
    return 0;
}

static void test_api_events_replay_filter_resume(void **state)
{
    (void)state;
    /* commit a few more blocks with transfers */
    ef_keypair a1, a2;
    t_key(&a1, 1);
    t_key(&a2, 2);
    char hex[65], args[256];
    snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":2}", t_hex(&a2.pub, hex));
    for (int i = 0; i < 3; i++) {
        size_t len;
        uint8_t *tx = t_tx(&a1, t_nonce(&a1), "bank", "transfer", args, &len);
        t_send_commit(tx, len, "OK", NULL);
        free(tx);
    }
    uint64_t top = ef_store_height(env->tn.store);
    /* all blocks from 1 */
    t_events e = {.stop_after_blocks = (int)top};
    long status;
    assert_int_equal(ef_client_events(env->cl, "/events?from=1&kind=block", NULL, t_on_event, &e, &status), 1);
    assert_int_equal(status, 200);
    assert_int_equal(e.blocks, (int)top);
    assert_int_equal(e.first_height, 1);
    /* only bank transfers; id-only messages for blocks without one */
    t_events f = {.stop_after_blocks = -(int)top};
    assert_int_equal(ef_client_events(env->cl, "/events?from=1&kind=event&contract=bank&event=transfer,escrow", NULL,
                                      t_on_event, &f, &status), 1);
    assert_int_equal(f.blocks, 0);
    assert_true(f.events >= 4);
    assert_int_equal((uint64_t)atoll(f.last_id), top);
    /* resume with Last-Event-ID: only blocks after it */
    t_events r = {.stop_after_blocks = 2};
    char last[32];
    snprintf(last, sizeof last, "%llu", (unsigned long long)(top - 2));
    assert_int_equal(ef_client_events(env->cl, "/events?kind=block", last, t_on_event, &r, &status), 1);
    assert_int_equal(r.first_height, top - 1);
    /* live: a stream from the next height sees a block committed after it opened */
    json_decref(t_get(env->cl, "/events?kind=nope", 400));
    json_decref(t_get(env->cl, "/events?from=x", 400));
}

typedef struct t_live {
    char url[64];
    uint64_t from;
    t_events e;
    int rc;
} t_live;

static void *t_live_thread(void *arg)
{
    t_live *l = arg;
    ef_client *cl;
    EF_ASSERT(ef_client_new(&cl, l->url, NULL, 0) == 0);
    char path[64];
    long status;
    snprintf(path, sizeof path, "/events?from=%llu", (unsigned long long)l->from);
    l->rc = ef_client_events(cl, path, NULL, t_on_event, &l->e, &status);
    ef_client_free(cl);
    return NULL;
}

static void test_api_events_live(void **state)
{
    (void)state;
    t_live l = {.from = ef_store_height(env->tn.store) + 1, .e = {.stop_after_blocks = 1}};
    snprintf(l.url, sizeof l.url, "%s", env->url);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, t_live_thread, &l), 0);
    usleep(200000);
    ef_keypair a1, a2;
    t_key(&a1, 1);
    t_key(&a2, 2);
    char hex[65], args[256];
    snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":3}", t_hex(&a2.pub, hex));
    size_t len;
    uint8_t *tx = t_tx(&a1, t_nonce(&a1), "bank", "transfer", args, &len);
    t_send_commit(tx, len, "OK", NULL);
    free(tx);
    pthread_join(th, NULL);
    assert_int_equal(l.rc, 1);
    assert_int_equal(l.e.first_height, l.from);
}

/* A signed request with explicit headers over a raw socket. */
static int t_signed_raw(uint16_t port, const ef_keypair *kp, const char *target, uint64_t t, bool corrupt,
                        char *sig_out)
{
    char key[65], sig[129], req[1024];
    assert_int_equal(ef_api_auth_sign(key, sig, kp, "GET", target, t), 0);
    if (corrupt) sig[0] = sig[0] == 'a' ? 'b' : 'a';
    if (sig_out && sig_out[0]) memcpy(sig, sig_out, 129);   /* reuse a given signature */
    if (sig_out) memcpy(sig_out, sig, 129);
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s: %s\r\n%s: %llu\r\n%s: %s\r\n\r\n",
                     target, EF_API_HDR_KEY, key, EF_API_HDR_TIME, (unsigned long long)t, EF_API_HDR_SIG, sig);
    return t_raw(port, req, (size_t)n);
}

static void test_api_private_reads(void **state)
{
    (void)state;
    uint16_t port = ef_api_port(env->priv);
    ef_keypair member, outsider;
    t_key(&member, 0);      /* the validator: registered in the registry */
    t_key(&outsider, 3);    /* holds money, but has no role */
    ef_client *anon, *mem, *out;
    assert_int_equal(ef_client_new(&anon, env->purl, NULL, 5000), 0);
    assert_int_equal(ef_client_new(&mem, env->purl, &member, 5000), 0);
    assert_int_equal(ef_client_new(&out, env->purl, &outsider, 5000), 0);
    const char *paths[] = {"/status", "/blocks/1", "/blocks?from=0&to=1", "/metrics", "/events?from=1",
                           "/state/bank/supply", "/accounts/00"};
    for (size_t i = 0; i < EF_ARRAY_LEN(paths); i++) {
        json_t *j = t_get(anon, paths[i], 403);
        t_expect_code(j, "EPERM");
        json_decref(j);
        json_decref(t_get(out, paths[i], 403));
    }
    json_t *st = t_get(mem, "/status", 200);
    assert_string_equal(json_string_value(json_object_get(st, "chain_id")), T_CHAIN);
    json_decref(st);
    json_decref(t_get(mem, "/blocks?from=0&to=1", 200));
    json_decref(t_get(mem, "/state/bank/supply", 200));
    /* the page itself is static and public */
    long status;
    char *body;
    size_t blen;
    assert_int_equal(ef_client_request(anon, "GET", "/", NULL, NULL, 0, &status, &body, &blen), 0);
    assert_int_equal(status, 200);
    free(body);
    /* POST needs a signature too */
    assert_int_equal(t_post("/txs", "application/json", "{}", 2, NULL), 400);   /* public API: parses */
    ef_client *saved = env->cl;
    env->cl = anon;
    json_t *j;
    assert_int_equal(t_post("/txs", "application/json", "{}", 2, &j), 403);
    json_decref(j);
    env->cl = saved;

    /* raw signatures: good once, replay refused, stale, future, corrupt. At
     * times no client of this process signs with (the clients take theirs
     * from ef_now_wall_ms_unique, which then moves past now + 10): a signature
     * of the same request at the same time is the same bytes, a replay. */
    uint64_t now = ef_now_wall_ms_unique();
    for (int i = 0; i < 10; i++) (void)ef_now_wall_ms_unique();
    char sig[129] = "";
    assert_int_equal(t_signed_raw(port, &member, "/status", now, false, sig), 200);
    assert_int_equal(t_signed_raw(port, &member, "/status", now, false, sig), 403);          /* replay */
    assert_int_equal(t_signed_raw(port, &member, "/status", now - 2 * EF_API_SIG_WINDOW_MS, false, NULL), 403);
    assert_int_equal(t_signed_raw(port, &member, "/status", now + 2 * EF_API_SIG_WINDOW_MS, false, NULL), 403);
    assert_int_equal(t_signed_raw(port, &member, "/status", now + 1, true, NULL), 403);      /* bad sig */
    /* a signature for one path does not open another */
    char sig2[129] = "";
    assert_int_equal(t_signed_raw(port, &member, "/status", now + 2, false, sig2), 200);
    char key[65], req[1024];
    ef_hex(key, member.pub.b, EF_PUB_SIZE);
    int n = snprintf(req, sizeof req, "GET /metrics HTTP/1.1\r\nHost: x\r\n%s: %s\r\n%s: %llu\r\n%s: %s\r\n\r\n",
                     EF_API_HDR_KEY, key, EF_API_HDR_TIME, (unsigned long long)(now + 3), EF_API_HDR_SIG, sig2);
    assert_int_equal(t_raw(port, req, (size_t)n), 403);
    n = snprintf(req, sizeof req, "GET /status HTTP/1.1\r\nHost: x\r\n%s: zz\r\n%s: 1\r\n%s: 00\r\n\r\n",
                 EF_API_HDR_KEY, EF_API_HDR_TIME, EF_API_HDR_SIG);
    assert_int_equal(t_raw(port, req, (size_t)n), 403);

    /* Two tools sharing one member key: the other's signature of the same
     * request in the same millisecond is refused as a replay, and the client
     * signs again a millisecond later and is answered. The signing clock is
     * pushed 50 ms ahead so that the client's next time is known: u + 1. */
    uint64_t u = 0;
    for (int i = 0; i < 50; i++) u = ef_now_wall_ms_unique();
    assert_int_equal(t_signed_raw(port, &member, "/state/bank/supply", u + 1, false, NULL), 200); /* the other tool */
    json_decref(t_get(mem, "/state/bank/supply", 200));
    /* u + 1 was taken; the client's second try used u + 2 */
    assert_int_equal(t_signed_raw(port, &member, "/state/bank/supply", u + 1, false, NULL), 403);
    assert_int_equal(t_signed_raw(port, &member, "/state/bank/supply", u + 2, false, NULL), 403);
    assert_int_equal(t_signed_raw(port, &member, "/state/bank/supply", u + 3, false, NULL), 200);
    ef_client_free(anon);
    ef_client_free(mem);
    ef_client_free(out);
}

/* METHOD target with "Authorization: Bearer token" over a raw socket; returns the
 * status and asserts the error code in the body is code (NULL: no check). */
static int t_token_req(uint16_t port, const char *method, const char *target, const char *token, const char *code)
{
    char req[1024];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     "Authorization: Bearer %s\r\nContent-Length: 0\r\n\r\n", method, target, token);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    assert_int_equal(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
    char buf[4096] = {0};
    size_t got = 0;
    for (ssize_t r; got < sizeof buf - 1 && (r = recv(fd, buf + got, sizeof buf - 1 - got, 0)) > 0;) got += (size_t)r;
    close(fd);
    int status = 0;
    if (got > 12) sscanf(buf, "HTTP/1.%*d %d", &status);
    if (code) {
        char want[64];
        snprintf(want, sizeof want, "\"code\":\"%s\"", code);
        if (!strstr(buf, want)) fail_msg("%s %s: want %s in %s", method, target, want, buf);
    }
    return status;
}

/* Read tokens: a member's opens reads (not writes) until it expires; a forged,
 * truncated, expired, future, overlong, other chain's or outsider's is refused
 * with its own code; the format and offline checks of ef_api_token_check. */
static void test_api_read_token(void **state)
{
    (void)state;
    uint16_t port = ef_api_port(env->priv);
    ef_keypair member, outsider;
    t_key(&member, 0);
    t_key(&outsider, 3);
    uint64_t now = ef_now_wall_ms();
    char tok[EF_API_TOKEN_HEX_MAX + 1], bad[EF_API_TOKEN_HEX_MAX + 1];
    int n = ef_api_token_make(tok, sizeof tok, &member, T_CHAIN, now, 60000);
    assert_true(n > 0 && (size_t)n == strlen(tok));
    ef_api_token t;
    assert_int_equal(ef_api_token_check(&t, tok, T_CHAIN, now), 0);
    assert_memory_equal(t.pub.b, member.pub.b, EF_PUB_SIZE);
    assert_int_equal(t.expires_ms, now + 60000);
    assert_int_equal(t_token_req(port, "GET", "/status", tok, NULL), 200);
    assert_int_equal(t_token_req(port, "GET", "/status", tok, NULL), 200);      /* reusable: no replay table */
    assert_int_equal(t_token_req(port, "GET", "/state/bank/supply", tok, NULL), 200);
    assert_int_equal(t_token_req(port, "POST", "/txs", tok, "EPERM"), 403);     /* reads only */
    /* the outsider's own token: signed well, not a member */
    assert_true(ef_api_token_make(bad, sizeof bad, &outsider, T_CHAIN, now, 60000) > 0);
    assert_int_equal(t_token_req(port, "GET", "/status", bad, "EPERM"), 403);
    /* another chain's */
    assert_true(ef_api_token_make(bad, sizeof bad, &member, "other-chain", now, 60000) > 0);
    assert_int_equal(t_token_req(port, "GET", "/status", bad, "ECHAIN"), 403);
    assert_int_equal(ef_api_token_check(&t, bad, T_CHAIN, now), EF_ECHAIN);
    /* expired, and issued too far ahead */
    assert_true(ef_api_token_make(bad, sizeof bad, &member, T_CHAIN, now - 120000, 60000) > 0);
    assert_int_equal(t_token_req(port, "GET", "/status", bad, "ELATE"), 403);
    assert_true(ef_api_token_make(bad, sizeof bad, &member, T_CHAIN, now + 2 * EF_API_TOKEN_SKEW_MS, 60000) > 0);
    assert_int_equal(t_token_req(port, "GET", "/status", bad, "ELATE"), 403);
    /* every flipped hex digit (version, chain, key, times, signature) is refused */
    for (size_t i = 0; i < strlen(tok); i++) {
        memcpy(bad, tok, strlen(tok) + 1);
        bad[i] = bad[i] == '0' ? '1' : '0';
        assert_int_not_equal(ef_api_token_check(&t, bad, T_CHAIN, now), 0);
        assert_true(t.expires_ms == 0);                                         /* zeroed on failure */
    }
    memcpy(bad, tok, strlen(tok) + 1);
    bad[strlen(tok) - 1] = bad[strlen(tok) - 1] == '0' ? '1' : '0';           /* the signature's last digit */
    assert_int_equal(t_token_req(port, "GET", "/status", bad, "EBADSIG"), 403);
    bad[strlen(tok) - 2] = 0;                                                  /* truncated */
    assert_int_equal(t_token_req(port, "GET", "/status", bad, "EINVAL"), 403);
    assert_int_equal(t_token_req(port, "GET", "/status", "zz", "EINVAL"), 403);
    snprintf(bad, sizeof bad, "%s00", tok);                                   /* trailing byte */
    assert_int_equal(ef_api_token_check(&t, bad, T_CHAIN, now), EF_EINVAL);
    /* a lifetime over the maximum, signed by the member: made by hand */
    assert_int_equal(ef_api_token_make(bad, sizeof bad, &member, T_CHAIN, now, EF_API_TOKEN_TTL_MAX_MS + 1), EF_EINVAL);
    assert_int_equal(ef_api_token_make(bad, sizeof bad, &member, T_CHAIN, now, 0), EF_EINVAL);
    assert_int_equal(ef_api_token_make(bad, sizeof bad, &member, "", now, 1000), EF_EINVAL);
    ef_wr w;
    ef_wr_init(&w);
    ef_wr_u8(&w, EF_API_TOKEN_VERSION);
    ef_wr_str(&w, T_CHAIN);
    ef_wr_raw(&w, member.pub.b, EF_PUB_SIZE);
    ef_wr_u64(&w, now);
    ef_wr_u64(&w, now + EF_API_TOKEN_TTL_MAX_MS + 1);
    ef_sig sig;
    ef_sign(&sig, &member, EF_TAG_READ_TOKEN, w.buf, w.len);
    assert_int_equal(ef_wr_raw(&w, sig.b, EF_SIG_SIZE), 0);
    ef_hex(bad, w.buf, w.len);
    ef_wr_free(&w);
    assert_int_equal(ef_api_token_check(&t, bad, T_CHAIN, 0), 0);             /* well formed and signed */
    assert_int_equal(t_token_req(port, "GET", "/status", bad, "ELATE"), 403);  /* but lives too long */
    /* the member's token still reads after all the refusals */
    assert_int_equal(t_token_req(port, "GET", "/status", tok, NULL), 200);
}

static void test_api_status_cache(void **state)
{
    (void)state;
    json_decref(t_get(env->cl, "/status", 200));
    int calls = atomic_load(&tn_status_calls);
    json_t *a = t_get(env->cl, "/status", 200), *b = t_get(env->cl, "/status", 200);
    assert_int_equal(atomic_load(&tn_status_calls), calls);           /* same version: reused */
    assert_true(json_equal(a, b));
    atomic_fetch_add(&tn_status_ver, 1);
    json_t *c = t_get(env->cl, "/status", 200);
    assert_int_equal(atomic_load(&tn_status_calls), calls + 1);       /* new version: rebuilt */
    assert_string_equal(json_string_value(json_object_get(c, "chain_id")), T_CHAIN);
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

/* A connection to 127.0.0.1:port from 127.0.0.from (from 1: the usual address;
 * others count as other clients for conn_per_ip). */
static int t_connect_from(uint16_t port, unsigned from)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in src = {.sin_family = AF_INET};
    src.sin_addr.s_addr = htonl(INADDR_LOOPBACK - 1 + from);
    assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof src), 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static int t_connect(uint16_t port) { return t_connect_from(port, 1); }

/* Connections over conn_max wait (in the listen backlog) until a slot frees; an
 * idle connection is closed after idle_s, which frees one. */
static void test_api_connection_limits(void **state)
{
    (void)state;
    ef_api *a = t_api_start(&(ef_api_config){.listen = "127.0.0.1:0", .conn_max = 2, .idle_s = 1});
    uint16_t port = ef_api_port(a);
    int c1 = t_connect(port), c2 = t_connect(port);
    usleep(100000);
    uint64_t t0 = ef_now_mono_us();
    int c3 = t_connect(port);
    const char req[] = "GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    assert_int_equal(send(c3, req, sizeof req - 1, MSG_NOSIGNAL), (ssize_t)(sizeof req - 1));
    char buf[256] = {0};
    assert_true(recv(c3, buf, sizeof buf - 1, 0) > 12);     /* served only once an idle one closed */
    uint64_t waited = ef_now_mono_us() - t0;
    assert_non_null(strstr(buf, " 200 "));
    assert_true(waited > 500000 && waited < 4500000);
    assert_true(recv(c1, buf, sizeof buf, 0) <= 0);         /* the idle ones were closed */
    assert_true(recv(c2, buf, sizeof buf, 0) <= 0);
    close(c1);
    close(c2);
    close(c3);
    ef_api_stop(a);
}

/* Status code of a response read from an open socket (first line only). */
static int t_read_status(int fd)
{
    char buf[128] = {0};
    ssize_t r = recv(fd, buf, sizeof buf - 1, 0);
    int code = 0;
    if (r > 12) sscanf(buf, "HTTP/1.%*d %d", &code);
    return code;
}

/* conn_per_ip: a third connection from one address is closed at once while
 * another address is served; request_s: a request trickling in a byte every
 * 200 ms (which restarts the idle timeout each time) is cut at the deadline. */
static void test_api_per_ip_and_deadline(void **state)
{
    (void)state;
    ef_api *a = t_api_start(&(ef_api_config){.listen = "127.0.0.1:0", .conn_per_ip = 2,
                                             .request_s = 1, .idle_s = 30});
    uint16_t port = ef_api_port(a);
    const char part[] = "GET /status HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    uint64_t t0 = ef_now_mono_us();
    int c1 = t_connect_from(port, 2), c2 = t_connect_from(port, 2);
    assert_int_equal(send(c1, part, sizeof part - 1, MSG_NOSIGNAL), (ssize_t)(sizeof part - 1));
    assert_int_equal(send(c2, part, sizeof part - 1, MSG_NOSIGNAL), (ssize_t)(sizeof part - 1));
    usleep(100000);
    int c3 = t_connect_from(port, 2);
    char buf[256];
    assert_true(recv(c3, buf, sizeof buf, 0) <= 0);          /* over the per-address limit */
    assert_true(ef_now_mono_us() - t0 < 900000);
    int c4 = t_connect_from(port, 3);                        /* another address is served */
    const char req[] = "GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    assert_int_equal(send(c4, req, sizeof req - 1, MSG_NOSIGNAL), (ssize_t)(sizeof req - 1));
    assert_int_equal(t_read_status(c4), 200);
    bool open1 = true;
    uint64_t closed_us = 0;
    while (open1 && ef_now_mono_us() - t0 < 4000000) {       /* c1 trickles; c2 stays quiet */
        usleep(200000);
        if (send(c1, "a", 1, MSG_NOSIGNAL) != 1) open1 = false;
        char b;
        ssize_t r = recv(c1, &b, 1, MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno != EAGAIN)) open1 = false;
        if (!open1) closed_us = ef_now_mono_us() - t0;
    }
    assert_false(open1);
    assert_true(closed_us > 800000 && closed_us < 2500000);
    assert_true(recv(c2, buf, sizeof buf, 0) <= 0);          /* the quiet one too */
    close(c1);
    close(c2);
    close(c3);
    close(c4);
    ef_api_stop(a);
}

/* Last-Event-ID is a height or HEIGHT:POSITION, nothing else. */
static void test_api_event_ids(void **state)
{
    (void)state;
    const char *bad[] = {"x", "1:", ":1", "1:x", "1:2:3", "-1", "18446744073709551615"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long status = 0;
        t_events e = {.stop_after_blocks = 1};
        ef_client_events(env->cl, "/events?kind=block", bad[i], t_on_event, &e, &status);
        assert_int_equal(status, 400);
    }
    /* "h:0" (the block message of h delivered): the stream goes on with block h's
     * events, then h + 1's block message */
    uint64_t top = ef_store_height(env->tn.store);
    char last[32];
    snprintf(last, sizeof last, "%llu:0", (unsigned long long)(top - 1));
    t_events r = {.stop_after_blocks = 1};
    long status = 0;
    assert_int_equal(ef_client_events(env->cl, "/events", last, t_on_event, &r, &status), 1);
    assert_int_equal(status, 200);
    assert_int_equal(r.first_height, top);
}

typedef struct t_follow {
    char url[64];
    char target[96];
    char last_id[EF_CLIENT_ID_MAX];
    uint64_t heights[16];
    atomic_int n;
    int want;
    volatile bool stop;
    int rc;
} t_follow;

static int t_follow_cb(void *arg, const char *type, const char *id, const char *data)
{
    (void)id;
    t_follow *f = arg;
    if (strcmp(type, "block")) return 0;
    json_t *d = json_loads(data, 0, NULL);
    int i = atomic_load(&f->n);
    if (i < 16) f->heights[i] = (uint64_t)json_integer_value(json_object_get(d, "height"));
    json_decref(d);
    atomic_store(&f->n, i + 1);
    return i + 1 >= f->want ? 1 : 0;
}

static void *t_follow_thread(void *arg)
{
    t_follow *f = arg;
    ef_client *cl;
    long status;
    EF_ASSERT(ef_client_new(&cl, f->url, NULL, 0) == 0);
    f->rc = ef_client_follow(cl, f->target, f->last_id, t_follow_cb, f, &f->stop, &status);
    ef_client_free(cl);
    return NULL;
}

static void t_commit_one(uint64_t amount)
{
    ef_keypair a1, a2;
    t_key(&a1, 1);
    t_key(&a2, 2);
    char hex[65], args[256];
    snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":%llu}", t_hex(&a2.pub, hex), (unsigned long long)amount);
    size_t len;
    uint8_t *tx = t_tx(&a1, t_nonce(&a1), "bank", "transfer", args, &len);
    t_send_commit(tx, len, "OK", NULL);
    free(tx);
}

/* A follower loses its server (stopped, blocks commit meanwhile, started again on
 * the same port) and still gets every block once, in order. */
static void test_api_follow_across_restart(void **state)
{
    (void)state;
    ef_api *a = t_api_start(&(ef_api_config){.listen = "127.0.0.1:0"});
    char listen[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%u", ef_api_port(a));
    uint64_t h = ef_store_height(env->tn.store);
    t_follow f = {.want = 4};
    snprintf(f.url, sizeof f.url, "http://%s", listen);
    snprintf(f.target, sizeof f.target, "/events?kind=block&from=%llu", (unsigned long long)(h + 1));
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, t_follow_thread, &f), 0);
    t_commit_one(1);
    for (int i = 0; i < 100 && atomic_load(&f.n) < 1; i++) usleep(20000);
    assert_int_equal(atomic_load(&f.n), 1);
    ef_api_stop(a);                      /* the node's API goes away ... */
    t_commit_one(2);                     /* ... blocks commit meanwhile ... */
    t_commit_one(3);
    usleep(300000);
    a = t_api_start(&(ef_api_config){.listen = listen});   /* ... it is back */
    t_commit_one(4);
    for (int i = 0; i < 500 && atomic_load(&f.n) < 4; i++) usleep(20000);
    f.stop = true;
    pthread_join(th, NULL);
    assert_int_equal(f.rc, 1);
    assert_int_equal(atomic_load(&f.n), 4);
    for (int i = 0; i < 4; i++) assert_int_equal(f.heights[i], h + 1 + (uint64_t)i);
    ef_api_stop(a);
}


/* EF_API_SSE_MAX streams are served at once; one more gets 503; closing one frees
 * its slot. (The streams come from four addresses: conn_per_ip is below
 * EF_API_SSE_MAX.) */
static void test_api_stream_limit(void **state)
{
    (void)state;
    uint16_t port = ef_api_port(env->api);
    const char req[] = "GET /events HTTP/1.1\r\nHost: x\r\n\r\n";
    int fds[EF_API_SSE_MAX + 1];
    _Static_assert(EF_API_SSE_MAX / 4 < EF_API_CONN_PER_IP, "streams fit four addresses");
    for (int i = 0; i < EF_API_SSE_MAX; i++) {
        fds[i] = t_connect_from(port, 2 + (unsigned)i % 4);
        assert_int_equal(send(fds[i], req, sizeof req - 1, MSG_NOSIGNAL), (ssize_t)(sizeof req - 1));
        assert_int_equal(t_read_status(fds[i]), 200);
    }
    fds[EF_API_SSE_MAX] = t_connect_from(port, 6);
    send(fds[EF_API_SSE_MAX], req, sizeof req - 1, MSG_NOSIGNAL);
    assert_int_equal(t_read_status(fds[EF_API_SSE_MAX]), 503);
    close(fds[EF_API_SSE_MAX]);
    json_decref(t_get(env->cl, "/status", 200));             /* other requests still served */
    close(fds[0]);
    int code = 0;
    for (int tries = 0; tries < 50 && code != 200; tries++) {   /* the server notices the close */
        usleep(100000);
        int fd = t_connect_from(port, 6);
        send(fd, req, sizeof req - 1, MSG_NOSIGNAL);
        code = t_read_status(fd);
        close(fd);
    }
    assert_int_equal(code, 200);
    for (int i = 1; i < EF_API_SSE_MAX; i++) close(fds[i]);
}

/* A private API restricted to one domain: the validator of domain d0 reads on a
 * d0 node, not on a d9 node. */
static void test_api_private_domain(void **state)
{
    (void)state;
    ef_api_backend be;
    tn_backend(&be, &env->tn);
    ef_api *d0 = NULL, *d9 = NULL;
    assert_int_equal(ef_api_start(&d0, &(ef_api_config){.listen = "127.0.0.1:0", .private_reads = true, .domain = "d0"}, &be), 0);
    assert_int_equal(ef_api_start(&d9, &(ef_api_config){.listen = "127.0.0.1:0", .private_reads = true, .domain = "d9"}, &be), 0);
    ef_keypair member;
    t_key(&member, 0);
    char u0[64], u9[64];
    snprintf(u0, sizeof u0, "http://127.0.0.1:%u", ef_api_port(d0));
    snprintf(u9, sizeof u9, "http://127.0.0.1:%u", ef_api_port(d9));
    ef_client *c0, *c9;
    assert_int_equal(ef_client_new(&c0, u0, &member, 5000), 0);
    assert_int_equal(ef_client_new(&c9, u9, &member, 5000), 0);
    json_decref(t_get(c0, "/status", 200));
    json_t *j = t_get(c9, "/status", 403);
    t_expect_code(j, "EPERM");
    json_decref(j);
    ef_client_free(c0);
    ef_client_free(c9);
    ef_api_stop(d0);
    ef_api_stop(d9);
    ef_api *bad = NULL;
    assert_int_equal(ef_api_start(&bad, &(ef_api_config){.listen = "127.0.0.1:0", .private_reads = true, .domain = ""}, &be),
                     EF_EINVAL);
}

static void test_api_config_errors(void **state)
{
    (void)state;
    ef_api_backend be;
    tn_backend(&be, &env->tn);
    ef_api *a = NULL;
    assert_int_equal(ef_api_start(&a, &(ef_api_config){.listen = "nonsense"}, &be), EF_EINVAL);
    assert_int_equal(ef_api_start(&a, &(ef_api_config){.listen = "127.0.0.1:99999"}, &be), EF_EINVAL);
    char taken[64];
    snprintf(taken, sizeof taken, "127.0.0.1:%u", ef_api_port(env->api));
    assert_int_equal(ef_api_start(&a, &(ef_api_config){.listen = taken}, &be), EF_ENET);
    be.is_member = NULL;
    assert_int_equal(ef_api_start(&a, &(ef_api_config){.listen = "127.0.0.1:0", .private_reads = true}, &be),
                     EF_EINVAL);
    assert_null(a);
    assert_int_equal(ef_api_http_status(EF_ENOTFOUND), 404);
    assert_int_equal(ef_api_http_status(EF_EBADSIG), 422);
    assert_int_equal(ef_api_http_status(EF_ENONCE), 409);
    /* the mempool's refusals, each its own code and status */
    assert_int_equal(ef_api_http_status(EF_ENOACCOUNT), 403);
    assert_int_equal(ef_api_http_status(EF_EGAP), 409);
    assert_int_equal(ef_api_http_status(EF_EQUOTA), 429);
    assert_int_equal(ef_api_http_status(EF_EFULL), 503);
    assert_int_equal(ef_api_http_status(EF_EEVICTED), 503);
    assert_string_equal(ef_errname(EF_ENOACCOUNT), "ENOACCOUNT");
    assert_string_equal(ef_errname(EF_EGAP), "EGAP");
    assert_string_equal(ef_errname(EF_EQUOTA), "EQUOTA");
    assert_string_equal(ef_errname(EF_EEXPIRED), "EEXPIRED");
    assert_string_equal(ef_errname(EF_EEVICTED), "EEVICTED");
    assert_int_equal(ef_api_lat_bucket(0.5), 0);
    assert_int_equal(ef_api_lat_bucket(1e9), EF_API_LAT_BUCKETS - 1);
}

int main(void)
{
    ef_crypto_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api_reads),
        cmocka_unit_test(test_api_bad_submissions_change_nothing),
        cmocka_unit_test(test_api_wait_does_not_block_others),
        cmocka_unit_test(test_api_stop_answers_waiters),
        cmocka_unit_test(test_api_events_replay_filter_resume),
        cmocka_unit_test(test_api_events_live),
        cmocka_unit_test(test_api_private_reads),
        cmocka_unit_test(test_api_read_token),
        cmocka_unit_test(test_api_follow_across_restart),
        cmocka_unit_test(test_api_private_domain),
        cmocka_unit_test(test_api_stream_limit),
        cmocka_unit_test(test_api_status_cache),
        cmocka_unit_test(test_api_connection_limits),
        cmocka_unit_test(test_api_per_ip_and_deadline),
        cmocka_unit_test(test_api_event_ids),
        cmocka_unit_test(test_api_config_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
