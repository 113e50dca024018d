/* test_mempool.c: admission checks, nonce order, bounds, reaping, removal after commit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "ledger/ef_mempool.h"
#include "ledger/ef_tx.h"

#define CHAIN "mp-test"

static uint64_t committed_next[4]; /* next nonce per test sender index */
static ef_keypair keys[4];

static int test_nonce(void *arg, const ef_pub *sender, uint64_t *next)
{
    (void)arg;
    for (int i = 0; i < 4; i++)
        if (!memcmp(sender->b, keys[i].pub.b, 32)) {
            *next = committed_next[i];
            return 0;
        }
    *next = 0;
    return 0;
}

typedef struct enc { uint8_t *p; size_t n; ef_hash h; } enc;

static enc make_tx(int who, uint64_t nonce, const char *chain, const char *args)
{
    ef_tx tx;
    memset(&tx, 0, sizeof tx);
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", chain);
    tx.sender = keys[who].pub;
    tx.nonce = nonce;
    snprintf(tx.contract, sizeof tx.contract, "bank");
    snprintf(tx.method, sizeof tx.method, "transfer");
    tx.args = (const uint8_t *)args;
    tx.args_len = strlen(args);
    assert_int_equal(ef_tx_sign(&tx, &keys[who]), 0);
    ef_wr w;
    ef_wr_init(&w);
    assert_int_equal(ef_tx_encode(&w, &tx), 0);
    enc e;
    e.p = ef_wr_take(&w, &e.n);
    ef_tx_hash_enc(&e.h, e.p, e.n);
    return e;
}

static int drops;
static ef_hash last_drop;

static void test_drop(void *arg, const ef_hash *h, int reason)
{
    (void)arg;
    assert_int_equal(reason, EF_ENONCE);
    drops++;
    last_drop = *h;
}

static ef_mempool *new_pool(size_t count_max, size_t bytes_max)
{
    ef_mempool_cfg cfg = {CHAIN, count_max, bytes_max, test_nonce, NULL, test_drop, NULL};
    ef_mempool *mp;
    assert_int_equal(ef_mempool_new(&mp, &cfg), 0);
    return mp;
}

static void setup_keys(void)
{
    for (int i = 0; i < 4; i++) {
        uint8_t seed[32] = {(uint8_t)(i + 1)};
        ef_keypair_from_seed(&keys[i], seed);
        committed_next[i] = 0;
    }
}

static void test_admission(void **st)
{
    (void)st;
    setup_keys();
    ef_mempool *mp = new_pool(0, 0);
    enc a0 = make_tx(0, 0, CHAIN, "{}");
    ef_hash h;
    assert_int_equal(ef_mempool_add(mp, a0.p, a0.n, &h), 0);
    assert_true(ef_hash_eq(&h, &a0.h));
    assert_true(ef_mempool_sig_verified(mp, &a0.h));
    /* duplicate */
    assert_int_equal(ef_mempool_add(mp, a0.p, a0.n, NULL), EF_EDUP);
    /* same nonce, other content */
    enc a0b = make_tx(0, 0, CHAIN, "{\"x\":1}");
    assert_int_equal(ef_mempool_add(mp, a0b.p, a0b.n, NULL), EF_EDUP);
    /* other chain */
    enc other = make_tx(1, 0, "elsewhere", "{}");
    assert_int_equal(ef_mempool_add(mp, other.p, other.n, NULL), EF_ECHAIN);
    /* bad signature: flip a bit of the signature */
    enc bad = make_tx(1, 0, CHAIN, "{}");
    bad.p[bad.n - 1] ^= 1;
    assert_int_equal(ef_mempool_add(mp, bad.p, bad.n, NULL), EF_EBADSIG);
    /* truncated */
    assert_true(ef_mempool_add(mp, bad.p, bad.n - 3, NULL) < 0);
    /* replay: nonce below the committed next */
    committed_next[2] = 5;
    enc old = make_tx(2, 4, CHAIN, "{}");
    assert_int_equal(ef_mempool_add(mp, old.p, old.n, NULL), EF_ENONCE);
    enc far = make_tx(2, 5 + EF_MEMPOOL_NONCE_AHEAD, CHAIN, "{}");
    assert_int_equal(ef_mempool_add(mp, far.p, far.n, NULL), EF_ENONCE);
    assert_int_equal(ef_mempool_count(mp), 1);
    ef_mempool_stats s;
    ef_mempool_get_stats(mp, &s);
    assert_int_equal(s.added, 1);
    assert_int_equal(s.verified, 1);
    free(a0.p); free(a0b.p); free(other.p); free(bad.p); free(old.p); free(far.p);
    ef_mempool_free(mp);
}

static void test_bounds(void **st)
{
    (void)st;
    setup_keys();
    ef_mempool *mp = new_pool(3, 0);
    for (uint64_t n = 0; n < 3; n++) {
        enc e = make_tx(0, n, CHAIN, "{}");
        assert_int_equal(ef_mempool_add(mp, e.p, e.n, NULL), 0);
        free(e.p);
    }
    enc e = make_tx(0, 3, CHAIN, "{}");
    assert_int_equal(ef_mempool_add(mp, e.p, e.n, NULL), EF_EFULL);
    free(e.p);
    ef_mempool_free(mp);

    /* by bytes: room for two of these */
    enc x = make_tx(1, 0, CHAIN, "{}");
    mp = new_pool(0, 2 * x.n + 10);
    assert_int_equal(ef_mempool_add(mp, x.p, x.n, NULL), 0);
    enc y = make_tx(1, 1, CHAIN, "{}");
    assert_int_equal(ef_mempool_add(mp, y.p, y.n, NULL), 0);
    enc z = make_tx(1, 2, CHAIN, "{}");
    assert_int_equal(ef_mempool_add(mp, z.p, z.n, NULL), EF_EFULL);
    free(x.p); free(y.p); free(z.p);
    ef_mempool_free(mp);
}

static void test_reap_order_and_commit(void **st)
{
    (void)st;
    setup_keys();
    ef_mempool *mp = new_pool(0, 0);
    /* sender 0: nonces 2, 0, 1 (out of order); sender 1: nonce 1 only (gap); sender 2: 0 */
    enc a2 = make_tx(0, 2, CHAIN, "{}"), a0 = make_tx(0, 0, CHAIN, "{}"), a1 = make_tx(0, 1, CHAIN, "{}");
    enc b1 = make_tx(1, 1, CHAIN, "{}"), c0 = make_tx(2, 0, CHAIN, "{}");
    assert_int_equal(ef_mempool_add(mp, a2.p, a2.n, NULL), 0);
    assert_int_equal(ef_mempool_add(mp, b1.p, b1.n, NULL), 0);
    assert_int_equal(ef_mempool_add(mp, a0.p, a0.n, NULL), 0);
    assert_int_equal(ef_mempool_add(mp, c0.p, c0.n, NULL), 0);
    assert_int_equal(ef_mempool_add(mp, a1.p, a1.n, NULL), 0);
    ef_txbuf out[8];
    size_t k = ef_mempool_reap(mp, out, 8, 1 << 20);
    assert_int_equal(k, 4); /* a0 a1 a2 c0; b1 waits for nonce 0 */
    ef_hash h;
    ef_tx_hash_enc(&h, out[0].enc, out[0].len);
    assert_true(ef_hash_eq(&h, &a0.h));
    ef_tx_hash_enc(&h, out[2].enc, out[2].len);
    assert_true(ef_hash_eq(&h, &a2.h));
    ef_tx_hash_enc(&h, out[3].enc, out[3].len);
    assert_true(ef_hash_eq(&h, &c0.h));
    /* bounded by count */
    assert_int_equal(ef_mempool_reap(mp, out, 2, 1 << 20), 2);
    /* bounded by bytes */
    assert_int_equal(ef_mempool_reap(mp, out, 8, a0.n + 1), 1);

    /* commit a block with a0, a1 and a different tx of sender 2 at nonce 0 (so the
     * pooled c0 becomes a replay and must go). */
    enc c0x = make_tx(2, 0, CHAIN, "{\"y\":2}");
    enc *inblock[3] = {&a0, &a1, &c0x};
    ef_block_tx btx[3];
    memset(btx, 0, sizeof btx);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ef_tx_decode(&btx[i].tx, inblock[i]->p, inblock[i]->n), 0);
        btx[i].enc = inblock[i]->p;
        btx[i].len = inblock[i]->n;
        btx[i].hash = inblock[i]->h;
    }
    ef_block b;
    memset(&b, 0, sizeof b);
    b.txs = btx;
    b.txs_len = 3;
    drops = 0;
    ef_mempool_committed(mp, &b);
    assert_int_equal(drops, 1); /* c0, replaced by c0x: its submitter is told */
    assert_true(ef_hash_eq(&last_drop, &c0.h));
    assert_false(ef_mempool_has(mp, &a0.h));
    assert_false(ef_mempool_has(mp, &c0.h));
    assert_true(ef_mempool_has(mp, &a2.h));
    assert_true(ef_mempool_has(mp, &b1.h));
    assert_int_equal(ef_mempool_count(mp), 2);
    k = ef_mempool_reap(mp, out, 8, 1 << 20);
    assert_int_equal(k, 1); /* a2 */
    /* a committed nonce cannot come back */
    assert_int_equal(ef_mempool_add(mp, a1.p, a1.n, NULL), EF_ENONCE);
    assert_int_equal(ef_mempool_remove(mp, &b1.h), 0);
    assert_int_equal(ef_mempool_remove(mp, &b1.h), EF_ENOTFOUND);
    free(a0.p); free(a1.p); free(a2.p); free(b1.p); free(c0.p); free(c0x.p);
    ef_mempool_free(mp);
}

static void test_many(void **st)
{
    (void)st;
    setup_keys();
    ef_mempool *mp = new_pool(0, 0);
    /* thousands of txs: exercises map growth and deletion */
    enum { N = 3000 };
    static enc es[N];
    for (int i = 0; i < N; i++) {
        es[i] = make_tx(i % 4, (uint64_t)(i / 4), CHAIN, "{}");
        assert_int_equal(ef_mempool_add(mp, es[i].p, es[i].n, NULL), 0);
    }
    for (int i = 0; i < N; i += 2) assert_int_equal(ef_mempool_remove(mp, &es[i].h), 0);
    for (int i = 0; i < N; i++) assert_int_equal(ef_mempool_has(mp, &es[i].h), i % 2 == 1);
    for (int i = 0; i < N; i++) free(es[i].p);
    ef_mempool_free(mp);
}

int main(void)
{
    ef_crypto_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_admission),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_reap_order_and_commit),
        cmocka_unit_test(test_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
