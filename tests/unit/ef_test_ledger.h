/* ef_test_ledger.h: helpers shared by the ledger unit tests (header-only). */
#ifndef EF_TEST_LEDGER_H
#define EF_TEST_LEDGER_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/ef_codec.h"
#include "base/ef_fs.h"
#include "contracts/ef_contracts.h"
#include "ledger/ef_genesis.h"
#include "ledger/ef_ledger.h"
#include "ledger/ef_store.h"
#include "ledger/ef_tx.h"
#include "base/ef_merkle.h"

#define T_CHAIN "test-chain"

static inline void t_key(ef_keypair *kp, uint32_t n)
{
    uint8_t seed[EF_SEED_SIZE] = {0};
    ef_put_u32le(seed, n + 1);
    ef_keypair_from_seed(kp, seed);
}

static inline char *t_hex(const ef_pub *p, char out[65])
{
    ef_hex(out, p->b, EF_PUB_SIZE);
    return out;
}

/* A fresh directory under $EF_TEST_TMP (or /tmp). */
static inline void t_tmpdir(char *out, size_t n, const char *tag)
{
    const char *base = getenv("EF_TEST_TMP");
    if (!base) base = "/tmp";
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", base);
    if (system(cmd)) abort();
    snprintf(out, n, "%s/%s-%d-XXXXXX", base, tag, (int)getpid());
    if (!mkdtemp(out)) abort();
}

static inline void t_rmdir(const char *dir)
{
    if (ef_fs_remove_tree(dir)) abort();
}

/* Genesis with nval validators (keys 0..nval-1, domain "d<i>") and each of the
 * accounts keys 0..naccts-1 holding `balance`. */
static inline void t_genesis(ef_genesis *g, int nval, int naccts, uint64_t balance)
{
    json_t *doc = json_pack("{s:s, s:I, s:[], s:{}}", "chain_id", T_CHAIN, "time_ms", (json_int_t)1000,
                            "validators", "balances");
    for (int i = 0; i < nval; i++) {
        ef_keypair kp;
        char hex[65], dom[16];
        t_key(&kp, (uint32_t)i);
        snprintf(dom, sizeof dom, "d%d", i);
        json_array_append_new(json_object_get(doc, "validators"),
                              json_pack("{s:s, s:s}", "pub", t_hex(&kp.pub, hex), "domain", dom));
    }
    for (int i = 0; i < naccts; i++) {
        ef_keypair kp;
        char hex[65];
        t_key(&kp, (uint32_t)i);
        json_object_set_new(json_object_get(doc, "balances"), t_hex(&kp.pub, hex),
                            json_integer((json_int_t)balance));
    }
    char *text = json_dumps(doc, 0);
    char err[200];
    int rc = ef_genesis_parse(g, text, strlen(text), err, sizeof err);
    if (rc) {
        fprintf(stderr, "%s\n", err);
        abort();
    }
    free(text);
    json_decref(doc);
}

/* Builds and signs a tx; returns its malloc'd encoding. */
static inline uint8_t *t_tx(const ef_keypair *kp, uint64_t nonce, const char *contract,
                            const char *method, const char *args, size_t *len)
{
    ef_tx tx;
    memset(&tx, 0, sizeof tx);
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", T_CHAIN);
    tx.sender = kp->pub;
    tx.nonce = nonce;
    snprintf(tx.contract, sizeof tx.contract, "%s", contract);
    snprintf(tx.method, sizeof tx.method, "%s", method);
    tx.args = (const uint8_t *)args;
    tx.args_len = strlen(args);
    if (ef_tx_sign(&tx, kp)) abort();
    ef_wr w;
    ef_wr_init(&w);
    if (ef_tx_encode(&w, &tx)) abort();
    return ef_wr_take(&w, len);
}

/* A fresh store (no fsync) in a new directory (into dir, cap bytes; tag names
 * it) from t_genesis(g, nval, naccts, balance). The caller closes the store,
 * frees g and removes dir. Needs cmocka (included before this header). */
static inline ef_store *t_store_new(char *dir, size_t cap, const char *tag, ef_genesis *g, int nval, int naccts,
                                    uint64_t balance)
{
    ef_store *s;
    t_tmpdir(dir, cap, tag);
    t_genesis(g, nval, naccts, balance);
    assert_int_equal(ef_store_open(&s, dir, &(ef_store_opts){EF_CONTRACTS_BUILTIN, .no_sync = true}), 0);
    assert_int_equal(ef_store_init_genesis(s, g), 0);
    return s;
}

/* Proposes a block from the given txs (all must be included) and commits it. */
static inline int t_block(ef_store *s, const ef_pub *proposer, uint8_t **txs, size_t *lens, size_t n,
                          uint64_t time_ms)
{
    ef_txbuf *c = calloc(n ? n : 1, sizeof *c);
    int *st = calloc(n ? n : 1, sizeof *st);
    for (size_t i = 0; i < n; i++) {
        c[i].enc = txs[i];
        c[i].len = lens[i];
    }
    uint8_t *blk;
    size_t blen;
    int rc = ef_ledger_propose(s, c, n, time_ms, proposer, NULL, st, &blk, &blen);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (st[i]) rc = st[i];
    if (rc == 0) rc = ef_ledger_commit(s, blk, blen, NULL, 0);
    if (rc == 0) free(blk);
    else if (blk) free(blk);
    free(c);
    free(st);
    return rc;
}

#endif

#ifndef EF_TEST_LEDGER_RUN
#define EF_TEST_LEDGER_RUN
/* Commits a block holding one tx from kp (next nonce) and returns the tx's result
 * code (or the block error, which makes a test fail loudly). */
static inline int t_run(ef_store *s, const ef_pub *proposer, const ef_keypair *kp,
                        const char *contract, const char *method, const char *args)
{
    uint64_t nonce;
    if (ef_store_nonce(s, &kp->pub, &nonce)) abort();
    size_t len;
    uint8_t *tx = t_tx(kp, nonce, contract, method, args, &len);
    ef_store_info info;
    if (ef_store_info_get(s, &info)) abort();
    int rc = t_block(s, proposer, &tx, &len, 1, info.last_time_ms + 1000);
    if (rc) {
        fprintf(stderr, "t_run: block failed: %s\n", ef_strerror(rc));
        abort();
    }
    ef_hash h;
    ef_tx_loc loc;
    ef_tx_hash_enc(&h, tx, len);
    free(tx);
    if (ef_store_tx_lookup(s, &h, &loc)) abort();
    free(loc.events_json);
    return loc.code;
}

/* Proposes a block from one tx of kp (next nonce) and returns the candidate's
 * status: 0 if the block would include it, else why not (e.g. EF_ENOACCOUNT).
 * Nothing is committed: the built block is dropped. */
static inline int t_try(ef_store *s, const ef_pub *proposer, const ef_keypair *kp,
                        const char *contract, const char *method, const char *args)
{
    uint64_t nonce;
    if (ef_store_nonce(s, &kp->pub, &nonce)) abort();
    size_t len;
    uint8_t *tx = t_tx(kp, nonce, contract, method, args, &len);
    ef_txbuf c = {tx, len};
    uint8_t *blk = NULL;
    size_t blen;
    int st = -1000;
    if (ef_ledger_propose(s, &c, 1, 0, proposer, NULL, &st, &blk, &blen)) abort();
    ef_ledger_abort_pending(s);
    free(blk);
    free(tx);
    return st;
}
#endif
