/* ef_test_mkt.h: a small chain for the market and channel tests (header-only):
 * NCOMP companies (validators), NDEV devices (members), batches of transactions
 * per block through the real store and executor. Needs cmocka first. */
#ifndef EF_TEST_MKT_H
#define EF_TEST_MKT_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "base/ef_fs.h"
#include "contracts/ef_contracts.h"
#include "ledger/ef_genesis.h"
#include "ledger/ef_ledger.h"
#include "ledger/ef_store.h"
#include "ledger/ef_tx.h"

#define M_CHAIN "mkt-test"
#define M_NCOMP 3
#define M_NDEV 8
#define M_NACC (M_NCOMP + M_NDEV + 1)   /* + one account unknown to the registry */
#define M_OUTSIDER (M_NCOMP + M_NDEV)
#define M_BALANCE 1000000000ll
#define M_BATCH_MAX 1024

typedef struct mchain {
    char dir[256];
    ef_store *s;
    ef_keypair kp[M_NACC];
    char hex[M_NACC][2 * EF_PUB_SIZE + 1];
    uint64_t nonce[M_NACC];
    uint64_t now_ms;
    /* the pending batch */
    uint8_t *enc[M_BATCH_MAX];
    size_t len[M_BATCH_MAX];
    size_t n;
    /* results of the last committed batch */
    int code[M_BATCH_MAX];
    char *events[M_BATCH_MAX];
    double last_block_ms;
} mchain;

static inline int m_dev(int i) { return M_NCOMP + i; }

/* params: JSON text of genesis "params" (or NULL). */
static inline void m_open(mchain *c, const char *params)
{
    memset(c, 0, sizeof *c);
    assert_int_equal(ef_crypto_init(), 0);
    const char *tmp = getenv("EF_TEST_TMP");
    if (!tmp) tmp = "/tmp";
    char mk[300];
    snprintf(mk, sizeof mk, "mkdir -p '%s'", tmp);
    assert_int_equal(system(mk), 0);
    snprintf(c->dir, sizeof c->dir, "%s/mkttest-%d-XXXXXX", tmp, (int)getpid());
    assert_non_null(mkdtemp(c->dir));
    for (int i = 0; i < M_NACC; i++) {
        uint8_t seed[EF_SEED_SIZE] = {0};
        seed[0] = (uint8_t)(i + 1);
        seed[1] = 0x3c;
        ef_keypair_from_seed(&c->kp[i], seed);
        ef_hex(c->hex[i], c->kp[i].pub.b, EF_PUB_SIZE);
    }
    json_t *g = json_pack("{s:s, s:I, s:[], s:[], s:{}}", "chain_id", M_CHAIN, "time_ms", (json_int_t)1000,
                          "validators", "members", "balances");
    for (int i = 0; i < M_NCOMP; i++) {
        char dom[16];
        snprintf(dom, sizeof dom, "co%d", i);
        json_array_append_new(json_object_get(g, "validators"), json_pack("{s:s, s:s}", "pub", c->hex[i], "domain", dom));
    }
    for (int i = 0; i < M_NDEV; i++) {
        char name[16];
        snprintf(name, sizeof name, "dev%d", i);
        json_array_append_new(json_object_get(g, "members"),
                              json_pack("{s:s, s:s, s:s}", "pub", c->hex[m_dev(i)], "domain", "co0", "name", name));
    }
    for (int i = 0; i < M_NACC; i++)
        json_object_set_new(json_object_get(g, "balances"), c->hex[i], json_integer(M_BALANCE));
    if (params) {
        json_t *p = json_loads(params, 0, NULL);
        assert_non_null(p);
        json_object_set_new(g, "params", p);
    }
    char *text = json_dumps(g, JSON_COMPACT);
    json_decref(g);
    ef_genesis gen;
    char err[200] = "";
    int rc = ef_genesis_parse(&gen, text, strlen(text), err, sizeof err);
    if (rc) fprintf(stderr, "genesis: %s\n", err);
    assert_int_equal(rc, 0);
    free(text);
    assert_int_equal(ef_store_open(&c->s, c->dir, &(ef_store_opts){EF_CONTRACTS_BUILTIN, .no_sync = true}), 0);
    assert_int_equal(ef_store_init_genesis(c->s, &gen), 0);
    ef_genesis_free(&gen);
    c->now_ms = 2000;
}

static inline void m_clear_results(mchain *c)
{
    for (size_t i = 0; i < M_BATCH_MAX; i++) {
        free(c->events[i]);
        c->events[i] = NULL;
    }
}

static inline void m_close(mchain *c)
{
    m_clear_results(c);
    ef_store_close(c->s);
    assert_int_equal(ef_fs_remove_tree(c->dir), 0);
}

/* Queues a transaction of account who (printf-style args). */
static inline void m_add(mchain *c, int who, const char *contract, const char *method, const char *fmt, ...)
{
    char args[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    assert_true(c->n < M_BATCH_MAX);
    ef_tx t;
    memset(&t, 0, sizeof t);
    snprintf(t.chain_id, sizeof t.chain_id, "%s", M_CHAIN);
    t.nonce = c->nonce[who]++;
    snprintf(t.contract, sizeof t.contract, "%s", contract);
    snprintf(t.method, sizeof t.method, "%s", method);
    t.args = (const uint8_t *)args;
    t.args_len = strlen(args);
    assert_int_equal(ef_tx_seal(&t, &c->kp[who], &c->enc[c->n], &c->len[c->n]), 0);
    c->n++;
}

static inline double m_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Commits the queued transactions as one block (possibly empty); their codes
 * and events land in c->code / c->events. */
static inline void m_commit(mchain *c)
{
    ef_txbuf *cand = calloc(c->n ? c->n : 1, sizeof *cand);
    int *st = calloc(c->n ? c->n : 1, sizeof *st);
    for (size_t i = 0; i < c->n; i++) cand[i] = (ef_txbuf){c->enc[i], c->len[i]};
    uint8_t *blk;
    size_t blen;
    double t0 = m_now_ms();
    assert_int_equal(ef_ledger_propose(c->s, cand, c->n, c->now_ms, &c->kp[0].pub, NULL, st, &blk, &blen), 0);
    for (size_t i = 0; i < c->n; i++) assert_int_equal(st[i], 0);
    assert_int_equal(ef_ledger_commit(c->s, blk, blen, NULL, 0), 0);
    c->last_block_ms = m_now_ms() - t0;
    free(blk);
    c->now_ms += 1000;
    m_clear_results(c);
    for (size_t i = 0; i < c->n; i++) {
        ef_hash h;
        ef_tx_loc loc = {0};
        ef_tx_hash_enc(&h, c->enc[i], c->len[i]);
        assert_int_equal(ef_store_tx_lookup(c->s, &h, &loc), 0);
        c->code[i] = loc.code;
        c->events[i] = loc.events_json;
        free(c->enc[i]);
    }
    c->n = 0;
    free(cand);
    free(st);
}

/* One transaction in its own block; returns its code (events in c->events[0]). */
static inline int m_tx(mchain *c, int who, const char *contract, const char *method, const char *fmt, ...)
{
    char args[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    m_add(c, who, contract, method, "%s", args);
    m_commit(c);
    return c->code[0];
}

/* The data of event `name` in the events of batch entry i (new ref), or NULL. */
static inline json_t *m_event(mchain *c, size_t i, const char *name)
{
    json_t *arr = json_loads(c->events[i] ? c->events[i] : "[]", 0, NULL);
    json_t *out = NULL;
    for (size_t k = 0; arr && k < json_array_size(arr); k++) {
        json_t *e = json_array_get(arr, k);
        if (!strcmp(json_string_value(json_object_get(e, "name")), name)) {
            out = json_incref(json_object_get(e, "data"));
            break;
        }
    }
    json_decref(arr);
    return out;
}

static inline json_int_t m_event_int(mchain *c, size_t i, const char *name, const char *field)
{
    json_t *d = m_event(c, i, name);
    assert_non_null(d);
    json_int_t v = json_integer_value(json_object_get(d, field));
    json_decref(d);
    return v;
}

/* A query answer (new ref); asserts it exists. */
static inline json_t *m_query(mchain *c, const char *contract, const char *fmt, ...)
{
    char path[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    json_t *out = NULL;
    int rc = ef_store_query(c->s, contract, path, &out);
    if (rc) fprintf(stderr, "query %s/%s: %s\n", contract, path, ef_strerror(rc));
    assert_int_equal(rc, 0);
    return out;
}

static inline json_int_t m_qint(mchain *c, const char *contract, const char *field, const char *fmt, ...)
{
    char path[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    json_t *j = m_query(c, contract, "%s", path);
    json_t *v = json_object_get(j, field);
    assert_true(json_is_integer(v));
    json_int_t r = json_integer_value(v);
    json_decref(j);
    return r;
}

static inline uint64_t m_height(mchain *c)
{
    ef_store_info info;
    assert_int_equal(ef_store_info_get(c->s, &info), 0);
    return info.height;
}

/* Sum of every test account's balance plus what the bank holds locked must be
 * the supply created at genesis. */
static inline void m_check_supply(mchain *c)
{
    json_int_t sum = 0;
    for (int i = 0; i < M_NACC; i++) sum += m_qint(c, "bank", "balance", "balance/%s", c->hex[i]);
    json_int_t locked = m_qint(c, "bank", "locked", "supply");
    json_int_t supply = m_qint(c, "bank", "supply", "supply");
    assert_int_equal(supply, (json_int_t)M_NACC * M_BALANCE);
    assert_int_equal(sum + locked, supply);
}

#endif
