/* test_store.c: genesis, propose/check/commit, queries, tx index, nonces,
 * rejection of bad blocks, reopen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ef_test_ledger.h"
#include "contracts/ef_contracts.h"

static void test_store_genesis_and_transfer(void **state)
{
    (void)state;
    char dir[512];
    ef_genesis g;
    ef_store *s = t_store_new(dir, sizeof dir, "store", &g, 1, 3, 1000);
    assert_int_equal(ef_store_init_genesis(s, &g), 0);   /* same genesis: fine */
    ef_store_info info;
    assert_int_equal(ef_store_info_get(s, &info), 0);
    assert_true(info.initialised);
    assert_int_equal(info.height, 0);
    assert_string_equal(info.chain_id, T_CHAIN);

    ef_keypair v0, a1, a2;
    t_key(&v0, 0);
    t_key(&a1, 1);
    t_key(&a2, 2);
    char hex[65], args[256];
    snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":250}", t_hex(&a2.pub, hex));
    uint8_t *txs[3];
    size_t lens[3];
    txs[0] = t_tx(&a1, 0, "bank", "transfer", args, &lens[0]);
    txs[1] = t_tx(&a1, 1, "bank", "transfer", "{\"to\":\"zz\",\"amount\":1}", &lens[1]); /* fails: args */
    snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":999999}", t_hex(&a2.pub, hex));
    txs[2] = t_tx(&a1, 2, "bank", "transfer", args, &lens[2]);   /* fails: funds */
    assert_int_equal(t_block(s, &v0.pub, txs, lens, 3, 2000), 0);
    assert_int_equal(ef_store_height(s), 1);

    json_t *q;
    char path[100];
    snprintf(path, sizeof path, "balance/%s", t_hex(&a2.pub, hex));
    assert_int_equal(ef_store_query(s, "bank", path, &q), 0);
    assert_int_equal(json_integer_value(json_object_get(q, "balance")), 1250);
    json_decref(q);
    snprintf(path, sizeof path, "balance/%s", t_hex(&a1.pub, hex));
    assert_int_equal(ef_store_query(s, "bank", path, &q), 0);
    assert_int_equal(json_integer_value(json_object_get(q, "balance")), 750);
    json_decref(q);
    assert_int_equal(ef_store_query(s, "nosuch", "x", &q), EF_ENOCONTRACT);

    uint64_t nonce;
    assert_int_equal(ef_store_nonce(s, &a1.pub, &nonce), 0);
    assert_int_equal(nonce, 3);
    assert_int_equal(ef_store_nonce(s, &a2.pub, &nonce), 0);
    assert_int_equal(nonce, 0);

    ef_hash h;
    ef_tx_loc loc;
    ef_tx_hash_enc(&h, txs[0], lens[0]);
    assert_int_equal(ef_store_tx_lookup(s, &h, &loc), 0);
    assert_int_equal(loc.height, 1);
    assert_int_equal(loc.index, 0);
    assert_int_equal(loc.code, 0);
    assert_non_null(strstr(loc.events_json, "\"transfer\""));
    free(loc.events_json);
    ef_tx_hash_enc(&h, txs[1], lens[1]);
    assert_int_equal(ef_store_tx_lookup(s, &h, &loc), 0);
    assert_int_equal(loc.code, EF_EARGS);
    assert_string_equal(loc.events_json, "[]");
    free(loc.events_json);
    ef_tx_hash_enc(&h, txs[2], lens[2]);
    assert_int_equal(ef_store_tx_lookup(s, &h, &loc), 0);
    assert_int_equal(loc.code, EF_EFUNDS);
    assert_int_equal(loc.index, 2);
    free(loc.events_json);

    /* a replay is skipped by propose, and a block holding it is rejected */
    uint8_t *blk;
    size_t blen;
    int st[1];
    ef_txbuf c = {txs[0], lens[0]};
    assert_int_equal(ef_ledger_propose(s, &c, 1, 3000, &v0.pub, NULL, st, &blk, &blen), 0);
    assert_int_equal(st[0], EF_ENONCE);
    ef_block b;
    assert_int_equal(ef_block_decode(&b, blk, blen), 0);
    assert_int_equal(b.txs_len, 0);
    ef_block_free(&b);
    free(blk);

    /* block hash chain and vset */
    ef_block_header h0, h1;
    assert_int_equal(ef_store_header(s, 0, &h0), 0);
    assert_int_equal(ef_store_header(s, 1, &h1), 0);
    ef_block_header_hash(&h, &h0);
    assert_true(ef_hash_eq(&h, &h1.prev_hash));
    ef_vset vs;
    assert_int_equal(ef_store_vset(s, 1, &vs), 0);
    assert_int_equal(vs.len, 1);
    ef_vset_hash(&h, &vs);
    assert_true(ef_hash_eq(&h, &h1.vset_hash));
    assert_int_equal(ef_store_vset(s, 1 + EF_VSET_DELAY + 1, &vs), EF_EAGAIN);
    assert_int_equal(ef_store_info_get(s, &info), 0);
    assert_true(ef_hash_eq(&info.state_hash, &h1.state_hash));

    /* reopen: same state */
    ef_store_close(s);
    assert_int_equal(ef_store_open(&s, dir, &(ef_store_opts){EF_CONTRACTS_BUILTIN}), 0);
    ef_store_info info2;
    assert_int_equal(ef_store_info_get(s, &info2), 0);
    assert_int_equal(info2.height, 1);
    assert_true(ef_hash_eq(&info.state_hash, &info2.state_hash));
    assert_true(ef_hash_eq(&info.last_hash, &info2.last_hash));
    ef_store_close(s);
    for (int i = 0; i < 3; i++) free(txs[i]);
    ef_genesis_free(&g);
    t_rmdir(dir);
}

/* Checking a block: every kind of wrong block is refused with its own code. */
static void test_store_check_rejects(void **state)
{
    (void)state;
    char dir[512];
    ef_genesis g;
    ef_store *s = t_store_new(dir, sizeof dir, "check", &g, 2, 3, 1000);
    ef_keypair v0, a2, out;
    t_key(&v0, 0);
    t_key(&a2, 2);
    t_key(&out, 99);
    char hex[65], args[256];
    snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":5}", t_hex(&v0.pub, hex));
    size_t tl;
    uint8_t *tx = t_tx(&a2, 0, "bank", "transfer", args, &tl);
    ef_txbuf c = {tx, tl};
    uint8_t *blk;
    size_t blen;
    assert_int_equal(ef_ledger_propose(s, &c, 1, 5000, &out.pub, NULL, NULL, &blk, &blen), EF_ENOTVAL);
    assert_int_equal(ef_ledger_propose(s, &c, 1, 5000, &v0.pub, NULL, NULL, &blk, &blen), 0);
    ef_ledger_abort_pending(s);
    assert_int_equal(ef_ledger_check(s, blk, blen, NULL), 0);
    ef_ledger_abort_pending(s);

    ef_block b;
    assert_int_equal(ef_block_decode(&b, blk, blen), 0);
    ef_txbuf tb = {b.txs[0].enc, b.txs[0].len};
    struct { void (*mut)(ef_block_header *); int want; } cases[8];
    (void)cases;
    ef_block_header hdr;
    ef_wr w;
#define REENCODE(expr, want)                                              \
    do {                                                                  \
        hdr = b.hdr;                                                      \
        expr;                                                             \
        ef_wr_init(&w);                                                   \
        assert_int_equal(ef_block_encode(&w, &hdr, &tb, 1), 0);          \
        assert_int_equal(ef_ledger_check(s, w.buf, w.len, NULL), want);   \
        ef_wr_free(&w);                                                   \
    } while (0)
    REENCODE(hdr.height = 2, EF_EHEIGHT);
    REENCODE(hdr.prev_hash.b[0] ^= 1, EF_EPREV);
    REENCODE(hdr.time_ms = 1000, EF_ESTATE);
    REENCODE(snprintf(hdr.chain_id, sizeof hdr.chain_id, "other"), EF_ECHAIN);
    REENCODE(hdr.proposer = out.pub, EF_ENOTVAL);
    REENCODE(hdr.vset_hash.b[0] ^= 1, EF_EROOT);
    REENCODE(hdr.next_vset_hash.b[0] ^= 1, EF_EROOT);
    REENCODE(hdr.txs_root.b[0] ^= 1, EF_EROOT);
    REENCODE(hdr.results_root.b[0] ^= 1, EF_EROOT);
    REENCODE(hdr.state_hash.b[0] ^= 1, EF_EROOT);
    REENCODE((void)0, 0);
    ef_ledger_abort_pending(s);
    /* a tx with a flipped signature bit */
    uint8_t *bad = malloc(tl);
    memcpy(bad, tx, tl);
    bad[tl - 1] ^= 1;
    ef_txbuf bb = {bad, tl};
    hdr = b.hdr;
    ef_tx_hash_enc(&hdr.txs_root, bad, tl);
    ef_merkle_root(&hdr.txs_root, &hdr.txs_root, 1);
    ef_wr_init(&w);
    assert_int_equal(ef_block_encode(&w, &hdr, &bb, 1), 0);
    assert_int_equal(ef_ledger_check(s, w.buf, w.len, NULL), EF_EBADSIG);
    /* and the commit of it too */
    assert_int_equal(ef_ledger_commit(s, w.buf, w.len, NULL, 0), EF_EBADSIG);
    ef_wr_free(&w);
    assert_int_equal(ef_store_height(s), 0);
    /* commit of the good one, with a certificate */
    assert_int_equal(ef_ledger_commit(s, blk, blen, (const uint8_t *)"cert", 4), 0);
    uint8_t *cert;
    size_t cl;
    assert_int_equal(ef_store_cert(s, 1, &cert, &cl), 0);
    assert_int_equal(cl, 4);
    assert_memory_equal(cert, "cert", 4);
    free(cert);
    assert_int_equal(ef_store_cert(s, 0, &cert, &cl), EF_ENOTFOUND);
    /* the same block again: wrong height now */
    assert_int_equal(ef_ledger_check(s, blk, blen, NULL), EF_EHEIGHT);
    uint8_t *copy;
    size_t copy_len;
    assert_int_equal(ef_store_block(s, 1, &copy, &copy_len), 0);
    assert_int_equal(copy_len, blen);
    assert_memory_equal(copy, blk, blen);
    free(copy);
    free(bad);
    ef_block_free(&b);
    free(blk);
    free(tx);
    ef_store_close(s);
    ef_genesis_free(&g);
    t_rmdir(dir);
}

static int hook_calls;
static bool hook_trust(void *arg, const ef_hash *h)
{
    (void)arg;
    (void)h;
    hook_calls++;
    return true;
}

/* Propose, check and commit reuse the pending block; a different block is
 * re-executed, and commit_ex consults the hooks for its signatures. */
static void test_store_pending_and_hooks(void **state)
{
    (void)state;
    char dir[512];
    ef_genesis g;
    ef_store *s = t_store_new(dir, sizeof dir, "pending", &g, 2, 3, 1000);
    ef_keypair v0, v1, a2;
    t_key(&v0, 0);
    t_key(&v1, 1);
    t_key(&a2, 2);
    size_t tl;
    uint8_t *tx = t_tx(&a2, 0, "bank", "transfer", "{}", &tl);
    ef_txbuf c = {tx, tl};
    uint8_t *b0, *b1;
    size_t l0, l1;
    ef_ledger_hooks hooks = {hook_trust, NULL};
    assert_int_equal(ef_ledger_propose(s, &c, 1, 5000, &v0.pub, &hooks, NULL, &b0, &l0), 0);
    assert_int_equal(hook_calls, 1);
    assert_int_equal(ef_ledger_propose(s, &c, 1, 5000, &v1.pub, NULL, NULL, &b1, &l1), 0);  /* b1 pending */
    /* b0 is not pending any more: checking it verifies again (through the hooks) */
    assert_int_equal(ef_ledger_check(s, b0, l0, &hooks), 0);
    assert_int_equal(hook_calls, 2);
    assert_int_equal(ef_ledger_check(s, b0, l0, &hooks), 0);   /* pending: no work */
    assert_int_equal(hook_calls, 2);
    assert_int_equal(ef_ledger_commit_ex(s, b1, l1, NULL, 0, &hooks), 0);
    assert_int_equal(hook_calls, 3);
    assert_int_equal(ef_store_height(s), 1);
    ef_block_header h;
    assert_int_equal(ef_store_header(s, 1, &h), 0);
    assert_memory_equal(h.proposer.b, v1.pub.b, EF_PUB_SIZE);
    assert_int_equal(ef_ledger_commit(s, b0, l0, NULL, 0), EF_EHEIGHT);
    free(b0);
    free(b1);
    free(tx);
    ef_store_close(s);
    ef_genesis_free(&g);
    t_rmdir(dir);
}

int main(void)
{
    ef_crypto_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_genesis_and_transfer),
        cmocka_unit_test(test_store_check_rejects),
        cmocka_unit_test(test_store_pending_and_hooks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
