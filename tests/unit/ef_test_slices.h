/* ef_test_slices.h: in-process chains for the slice tests (header-only): a chain
 * with its own validators whose every block carries their real certificate (so
 * ledger/ef_proof.h proofs of it verify against its committee), genesis params
 * given by the test, one transaction per block. */
#ifndef EF_TEST_SLICES_H
#define EF_TEST_SLICES_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "base/ef_fs.h"
#include "contracts/ef_contracts.h"
#include "ledger/ef_cert.h"
#include "ledger/ef_genesis.h"
#include "ledger/ef_ledger.h"
#include "ledger/ef_proof.h"
#include "ledger/ef_store.h"
#include "ledger/ef_tx.h"

#define TC_KEYS_MAX 8

typedef struct tc_chain {
    char dir[256];
    char chain[32];
    ef_store *s;
    int nval, nkeys;
    ef_keypair kp[TC_KEYS_MAX];   /* 0..nval-1 validators, then members */
    char hex[TC_KEYS_MAX][2 * EF_PUB_SIZE + 1];
    uint64_t nonce[TC_KEYS_MAX];
    uint64_t now_ms;
    int code;                     /* of the last transaction */
    char *events;                 /* its events (JSON text) */
    ef_hash last_tx;
} tc_chain;

static inline void tc_die(const char *what)
{
    fprintf(stderr, "ef_test_slices: %s\n", what);
    abort();
}

static inline void tc_key(ef_keypair *kp, uint8_t a, uint8_t b)
{
    uint8_t seed[EF_SEED_SIZE] = {0};
    seed[0] = a;
    seed[1] = b;
    seed[2] = 0x5c;
    ef_keypair_from_seed(kp, seed);
}

/* A chain of nval validators and nkeys - nval members, keys tagged with tag;
 * params (stolen, may be NULL) is the genesis "params" object. */
static inline void tc_open(tc_chain *c, const char *chain, int nval, int nkeys, uint8_t tag, json_t *params)
{
    memset(c, 0, sizeof *c);
    if (ef_crypto_init() || nkeys > TC_KEYS_MAX || nval > nkeys) tc_die("init");
    const char *tmp = getenv("EF_TEST_TMP");
    if (!tmp) tmp = "/tmp";
    if (ef_fs_mkdirs(tmp, 0755)) tc_die("mkdir");
    snprintf(c->dir, sizeof c->dir, "%s/slices-%s-%d-XXXXXX", tmp, chain, (int)getpid());
    if (!mkdtemp(c->dir)) tc_die("mkdtemp");
    snprintf(c->chain, sizeof c->chain, "%s", chain);
    c->nval = nval;
    c->nkeys = nkeys;
    json_t *g = json_pack("{s:s, s:I, s:[], s:[], s:{}}", "chain_id", chain, "time_ms", (json_int_t)1000,
                          "validators", "members", "balances");
    for (int i = 0; i < nkeys; i++) {
        tc_key(&c->kp[i], (uint8_t)(i + 1), tag);
        ef_hex(c->hex[i], c->kp[i].pub.b, EF_PUB_SIZE);
        char name[16];
        snprintf(name, sizeof name, "%s%d", i < nval ? "co" : "dev", i);
        if (i < nval)
            json_array_append_new(json_object_get(g, "validators"),
                                  json_pack("{s:s, s:s}", "pub", c->hex[i], "domain", name));
        else
            json_array_append_new(json_object_get(g, "members"),
                                  json_pack("{s:s, s:s, s:s}", "pub", c->hex[i], "domain", "co0", "name", name));
        json_object_set_new(json_object_get(g, "balances"), c->hex[i], json_integer(1000000));
    }
    if (params) json_object_set_new(g, "params", params);
    char *text = json_dumps(g, JSON_COMPACT);
    json_decref(g);
    ef_genesis gen;
    char err[200] = "";
    if (ef_genesis_parse(&gen, text, strlen(text), err, sizeof err)) tc_die(err);
    free(text);
    if (ef_store_open(&c->s, c->dir, &(ef_store_opts){EF_CONTRACTS_BUILTIN, .no_sync = true})) tc_die("open");
    if (ef_store_init_genesis(c->s, &gen)) tc_die("genesis");
    ef_genesis_free(&gen);
    c->now_ms = 2000;
}

static inline void tc_close(tc_chain *c)
{
    free(c->events);
    ef_store_close(c->s);
    if (ef_fs_remove_tree(c->dir)) tc_die("rm");
}

/* One block holding contract.method(args) from key who (args stolen), with a
 * certificate of every validator. Returns the tx's result code; its events in
 * c->events, its hash in c->last_tx. */
static inline int tc_tx_text(tc_chain *c, int who, const char *contract, const char *method, const char *text);

static inline int tc_tx(tc_chain *c, int who, const char *contract, const char *method, json_t *args)
{
    char *text = json_dumps(args, JSON_COMPACT);
    json_decref(args);
    if (!text) tc_die("dumps");
    int rc = tc_tx_text(c, who, contract, method, text);
    free(text);
    return rc;
}

/* As tc_tx, with the args as text, taken as they are (the fuzzers' input); 1 if
 * the text is over EF_TX_ARGS_MAX (nothing committed). */
static inline int tc_tx_text(tc_chain *c, int who, const char *contract, const char *method, const char *text)
{
    if (strlen(text) > EF_TX_ARGS_MAX) return 1;
    ef_tx t;
    memset(&t, 0, sizeof t);
    snprintf(t.chain_id, sizeof t.chain_id, "%s", c->chain);
    t.nonce = c->nonce[who]++;
    snprintf(t.contract, sizeof t.contract, "%s", contract);
    snprintf(t.method, sizeof t.method, "%s", method);
    t.args = (const uint8_t *)text;
    t.args_len = strlen(text);
    uint8_t *enc;
    size_t len;
    if (ef_tx_seal(&t, &c->kp[who], &enc, &len)) tc_die("tx");
    ef_tx_hash_enc(&c->last_tx, enc, len);
    ef_store_info info;
    if (ef_store_info_get(c->s, &info)) tc_die("info");
    ef_txbuf cand = {enc, len};
    int st;
    uint8_t *blk;
    size_t blen;
    if (ef_ledger_propose(c->s, &cand, 1, c->now_ms, &c->kp[0].pub, NULL, &st, &blk, &blen) || st) tc_die("propose");
    ef_hash bh;
    if (ef_block_hash_enc(&bh, blk, blen)) tc_die("hash");
    ef_vset vs;
    uint64_t h = info.height + 1;
    if (ef_store_vset(c->s, h, &vs)) tc_die("vset");
    ef_cert *ce = calloc(1, sizeof *ce);
    ce->height = h;
    ce->value_id = bh;
    for (uint32_t i = 0; i < vs.len; i++)
        for (int k = 0; k < c->nval; k++)
            if (!memcmp(c->kp[k].pub.b, vs.v[i].pub.b, EF_PUB_SIZE)) {
                ce->sigs[ce->count].index = (uint16_t)i;
                ef_cert_sign(&ce->sigs[ce->count].sig, &c->kp[k], c->chain, h, 0, &bh);
                ce->count++;
            }
    uint8_t *cert;
    size_t cn;
    if (ef_cert_encode(ce, &cert, &cn)) tc_die("cert");
    free(ce);
    if (ef_ledger_commit(c->s, blk, blen, cert, cn)) tc_die("commit");
    free(cert);
    free(blk);
    free(enc);
    c->now_ms += 1000;
    ef_tx_loc loc = {0};
    if (ef_store_tx_lookup(c->s, &c->last_tx, &loc)) tc_die("lookup");
    free(c->events);
    c->events = loc.events_json;
    c->code = loc.code;
    return c->code;
}

/* Input text with "$k1" and "$k2" replaced by s1 and s2 and NULs by spaces
 * (malloc'd): the fuzzers' way to put real keys and ids into fuzzed args. */
static inline char *tc_expand(const uint8_t *p, size_t n, char k1, const char *s1, char k2, const char *s2)
{
    size_t cap = n + 1;
    for (size_t i = 0; i + 1 < n; i++)
        if (p[i] == '$' && (p[i + 1] == k1 || p[i + 1] == k2)) cap += strlen(s1) + strlen(s2);
    char *o = malloc(cap), *w = o;
    if (!o) tc_die("expand");
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '$' && i + 1 < n && (p[i + 1] == k1 || p[i + 1] == k2)) {
            const char *x = p[i + 1] == k1 ? s1 : s2;
            memcpy(w, x, strlen(x));
            w += strlen(x);
            i++;
            continue;
        }
        *w++ = p[i] ? (char)p[i] : ' ';
    }
    *w = 0;
    return o;
}

static inline bool tc_event(const tc_chain *c, const char *name)
{
    char q[80];
    snprintf(q, sizeof q, "\"%s\"", name);
    return c->events && strstr(c->events, q);
}

/* GET /state/contract/path as the API would answer (NULL if not found). */
static inline json_t *tc_query(tc_chain *c, const char *contract, const char *fmt, ...)
{
    char path[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    json_t *out = NULL;
    if (ef_store_query(c->s, contract, path, &out)) return NULL;
    return out;
}

static inline json_t *tc_hexj(const void *p, size_t n)
{
    char *h = malloc(2 * n + 1);
    ef_hex(h, p, n);
    json_t *j = json_string(h);
    free(h);
    return j;
}

#endif
