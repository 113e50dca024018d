/* test_mempool.c: admission checks, nonce order, bounds, reaping, removal after
 * commit; the account rule, the nonce gap, the per-sender cap, expiry by age and
 * eviction of gapped transactions when full. */
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
static bool no_account[4];          /* senders the account callback refuses */
static int account_calls;
static uint64_t clock_ms;           /* the pool's clock in these tests */

static int test_account(void *arg, const ef_pub *sender)
{
    (void)arg;
    account_calls++;
    for (int i = 0; i < 4; i++)
        if (!memcmp(sender->b, keys[i].pub.b, 32)) return no_account[i] ? EF_ENOACCOUNT : 0;
    return EF_ENOACCOUNT;
}

static uint64_t test_clock(void *arg)
{
    (void)arg;
    return clock_ms;
}

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
static int last_reason;

static void test_drop(void *arg, const ef_hash *h, int reason)
{
    (void)arg;
    drops++;
    last_drop = *h;
    last_reason = reason;
}

static ef_mempool *new_pool_cfg(size_t count_max, size_t bytes_max, size_t sender_max, uint64_t gap_max,
                                uint64_t ttl_ms)
{
    ef_mempool_cfg cfg = {
        .chain_id = CHAIN, .count_max = count_max, .bytes_max = bytes_max,
        .nonce = test_nonce, .on_drop = test_drop, .account = test_account,
        .sender_max = sender_max, .gap_max = gap_max, .ttl_ms = ttl_ms,
        .now_ms = test_clock,
    };
    ef_mempool *mp;
    assert_int_equal(ef_mempool_new(&mp, &cfg), 0);
    drops = 0;
    return mp;
}

static ef_mempool *new_pool(size_t count_max, size_t bytes_max)
{
    return new_pool_cfg(count_max, bytes_max, 0, 0, 0);
}

static bool reaped(ef_mempool *mp, const enc *e)
{
    ef_txbuf out[64];
    size_t k = ef_mempool_reap(mp, out, 64, 1 << 20);
    for (size_t i = 0; i < k; i++) {
        ef_hash h;
        ef_tx_hash_enc(&h, out[i].enc, out[i].len);
        if (ef_hash_eq(&h, &e->h)) return true;
    }
    return false;
}

static void setup_keys(void)
{
    for (int i = 0; i < 4; i++) {
        uint8_t seed[32] = {(uint8_t)(i + 1)};
        ef_keypair_from_seed(&keys[i], seed);
        committed_next[i] = 0;
        no_account[i] = false;
    }
    clock_ms = 1000;
    account_calls = 0;
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
    enc far = make_tx(2, 5 + EF_MEMPOOL_GAP_DEFAULT + 1, CHAIN, "{}");
    assert_int_equal(ef_mempool_add(mp, far.p, far.n, NULL), EF_EGAP);
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
    assert_int_equal(last_reason, EF_ENONCE);
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

/* A sender the chain does not know (the account callback says EF_ENOACCOUNT) is
 * refused, whatever its nonce, and nothing is pooled; a known one is asked once. */
static void test_no_account(void **st)
{
    (void)st;
    setup_keys();
    no_account[3] = true;
    ef_mempool *mp = new_pool(0, 0);
    enc x0 = make_tx(3, 0, CHAIN, "{}"), x9 = make_tx(3, 9, CHAIN, "{}");
    ef_hash h;
    assert_int_equal(ef_mempool_add(mp, x0.p, x0.n, &h), EF_ENOACCOUNT);
    assert_true(ef_hash_eq(&h, &x0.h));
    assert_int_equal(ef_mempool_add(mp, x9.p, x9.n, NULL), EF_ENOACCOUNT);
    ef_mempool_stats s;
    ef_mempool_get_stats(mp, &s);
    assert_int_equal(s.count, 0);
    assert_int_equal(s.senders, 0);
    assert_int_equal(s.verified, 0);   /* refused before the signature is checked */
    assert_int_equal(s.rejected, 2);
    /* a known sender: asked once, then its pooled state answers */
    account_calls = 0;
    enc a0 = make_tx(0, 0, CHAIN, "{}"), a1 = make_tx(0, 1, CHAIN, "{}");
    assert_int_equal(ef_mempool_add(mp, a0.p, a0.n, NULL), 0);
    assert_int_equal(ef_mempool_add(mp, a1.p, a1.n, NULL), 0);
    assert_int_equal(account_calls, 1);
    free(x0.p); free(x9.p); free(a0.p); free(a1.p);
    ef_mempool_free(mp);
}

/* A nonce may be at most gap_max beyond the sender's first missing nonce (its
 * committed next plus the run pooled from it); a gapped tx is not reaped. */
static void test_nonce_gap(void **st)
{
    (void)st;
    setup_keys();
    committed_next[0] = 5;
    ef_mempool *mp = new_pool_cfg(0, 0, 0, 4, 0);
    enc far = make_tx(0, 5 + 5, CHAIN, "{}");
    assert_int_equal(ef_mempool_add(mp, far.p, far.n, NULL), EF_EGAP);
    enc edge = make_tx(0, 5 + 4, CHAIN, "{}");
    assert_int_equal(ef_mempool_add(mp, edge.p, edge.n, NULL), 0);
    assert_false(reaped(mp, &edge));
    ef_mempool_stats s;
    ef_mempool_get_stats(mp, &s);
    assert_int_equal(s.gapped, 1);
    /* the run 5, 6 moves the first missing nonce to 7: up to 11 now */
    enc r5 = make_tx(0, 5, CHAIN, "{}"), r6 = make_tx(0, 6, CHAIN, "{}");
    assert_int_equal(ef_mempool_add(mp, r5.p, r5.n, NULL), 0);
    assert_int_equal(ef_mempool_add(mp, r6.p, r6.n, NULL), 0);
    enc g11 = make_tx(0, 11, CHAIN, "{}"), g12 = make_tx(0, 12, CHAIN, "{}");
    assert_int_equal(ef_mempool_add(mp, g12.p, g12.n, NULL), EF_EGAP);
    assert_int_equal(ef_mempool_add(mp, g11.p, g11.n, NULL), 0);
    assert_true(reaped(mp, &r6));
    assert_false(reaped(mp, &g11));
    /* filling 7 and 8 makes 9 ready, 11 still waits for 10 */
    enc r7 = make_tx(0, 7, CHAIN, "{}"), r8 = make_tx(0, 8, CHAIN, "{}");
    assert_int_equal(ef_mempool_add(mp, r7.p, r7.n, NULL), 0);
    assert_int_equal(ef_mempool_add(mp, r8.p, r8.n, NULL), 0);
    assert_true(reaped(mp, &edge));
    assert_false(reaped(mp, &g11));
    ef_mempool_get_stats(mp, &s);
    assert_int_equal(s.gapped, 1);
    /* removing a ready tx in the middle makes the ones after it gapped */
    assert_int_equal(ef_mempool_remove(mp, &r7.h), 0);
    assert_false(reaped(mp, &r8));
    ef_mempool_get_stats(mp, &s);
    assert_int_equal(s.gapped, 3);   /* 8, 9, 11 */
    free(far.p); free(edge.p); free(r5.p); free(r6.p); free(g11.p); free(g12.p); free(r7.p); free(r8.p);
    ef_mempool_free(mp);
}

/* At most sender_max pooled per sender (EF_EQUOTA); other senders unaffected. */
static void test_sender_cap(void **st)
{
    (void)st;
    setup_keys();
    ef_mempool *mp = new_pool_cfg(0, 0, 3, 0, 0);
    for (uint64_t n = 0; n < 3; n++) {
        enc e = make_tx(0, n, CHAIN, "{}");
        assert_int_equal(ef_mempool_add(mp, e.p, e.n, NULL), 0);
        free(e.p);
    }
    enc e3 = make_tx(0, 3, CHAIN, "{}");
    assert_int_equal(ef_mempool_add(mp, e3.p, e3.n, NULL), EF_EQUOTA);
    enc b0 = make_tx(1, 0, CHAIN, "{}");
    assert_int_equal(ef_mempool_add(mp, b0.p, b0.n, NULL), 0);
    assert_int_equal(ef_mempool_count(mp), 4);
    /* once one commits there is room again */
    enc a0 = make_tx(0, 0, CHAIN, "{}");
    ef_block_tx bt;
    memset(&bt, 0, sizeof bt);
    assert_int_equal(ef_tx_decode(&bt.tx, a0.p, a0.n), 0);
    bt.enc = a0.p;
    bt.len = a0.n;
    bt.hash = a0.h;
    ef_block b;
    memset(&b, 0, sizeof b);
    b.txs = &bt;
    b.txs_len = 1;
    ef_mempool_committed(mp, &b);
    assert_int_equal(ef_mempool_add(mp, e3.p, e3.n, NULL), 0);
    assert_true(reaped(mp, &e3));
    free(e3.p); free(b0.p); free(a0.p);
    ef_mempool_free(mp);
}

/* A transaction pooled for ttl_ms leaves, ready or gapped, and its submitter is
 * told (EF_EEXPIRED); what it leaves behind is re-classified. */
static void test_expire(void **st)
{
    (void)st;
    setup_keys();
    ef_mempool *mp = new_pool_cfg(0, 0, 0, 0, 1000);
    enc a0 = make_tx(0, 0, CHAIN, "{}"), g5 = make_tx(1, 5, CHAIN, "{}");
    assert_int_equal(ef_mempool_add(mp, a0.p, a0.n, NULL), 0);   /* t = 1000 */
    assert_int_equal(ef_mempool_add(mp, g5.p, g5.n, NULL), 0);
    clock_ms = 1600;
    enc a1 = make_tx(0, 1, CHAIN, "{}");
    assert_int_equal(ef_mempool_add(mp, a1.p, a1.n, NULL), 0);   /* t = 1600 */
    assert_true(reaped(mp, &a1));
    clock_ms = 1999;
    assert_int_equal(ef_mempool_expire(mp), 0);
    clock_ms = 2000;
    assert_int_equal(ef_mempool_expire(mp), 2);
    assert_int_equal(drops, 2);
    assert_int_equal(last_reason, EF_EEXPIRED);
    assert_false(ef_mempool_has(mp, &a0.h));
    assert_false(ef_mempool_has(mp, &g5.h));
    /* a1 waits for nonce 0 again: gapped, not reaped */
    assert_true(ef_mempool_has(mp, &a1.h));
    assert_false(reaped(mp, &a1));
    ef_mempool_stats s;
    ef_mempool_get_stats(mp, &s);
    assert_int_equal(s.expired, 2);
    assert_int_equal(s.gapped, 1);
    /* an add runs the expiry too */
    clock_ms = 2600;
    enc b0 = make_tx(2, 0, CHAIN, "{}");
    assert_int_equal(ef_mempool_add(mp, b0.p, b0.n, NULL), 0);
    assert_false(ef_mempool_has(mp, &a1.h));
    assert_int_equal(ef_mempool_count(mp), 1);
    free(a0.p); free(g5.p); free(a1.p); free(b0.p);
    ef_mempool_free(mp);
}

/* Full: a ready tx evicts gapped ones, oldest first (EF_EEVICTED); a gapped tx
 * never evicts; a ready tx is never evicted; if the gapped ones would not make
 * room nothing is evicted. */
static void test_full_evicts_gapped(void **st)
{
    (void)st;
    setup_keys();
    ef_mempool *mp = new_pool_cfg(4, 0, 0, 0, 0);
    enc g1_3 = make_tx(1, 3, CHAIN, "{}"), g1_4 = make_tx(1, 4, CHAIN, "{}");
    enc g2_2 = make_tx(2, 2, CHAIN, "{}"), a0 = make_tx(0, 0, CHAIN, "{}");
    assert_int_equal(ef_mempool_add(mp, g1_3.p, g1_3.n, NULL), 0);   /* oldest gapped */
    assert_int_equal(ef_mempool_add(mp, a0.p, a0.n, NULL), 0);
    assert_int_equal(ef_mempool_add(mp, g1_4.p, g1_4.n, NULL), 0);
    assert_int_equal(ef_mempool_add(mp, g2_2.p, g2_2.n, NULL), 0);
    /* a gapped tx finds it full */
    enc g3_1 = make_tx(3, 1, CHAIN, "{}");
    assert_int_equal(ef_mempool_add(mp, g3_1.p, g3_1.n, NULL), EF_EFULL);
    assert_int_equal(drops, 0);
    /* a ready one evicts the oldest gapped */
    enc r3_0 = make_tx(3, 0, CHAIN, "{}");
    assert_int_equal(ef_mempool_add(mp, r3_0.p, r3_0.n, NULL), 0);
    assert_int_equal(drops, 1);
    assert_int_equal(last_reason, EF_EEVICTED);
    assert_true(ef_hash_eq(&last_drop, &g1_3.h));
    assert_true(reaped(mp, &r3_0));
    /* sender 1's ready tx evicts sender 1's own gapped one (freeing the sender
     * entry on the way) and then g2_2 is the only gapped one left */
    enc r1_0 = make_tx(1, 0, CHAIN, "{}");
    assert_int_equal(ef_mempool_add(mp, r1_0.p, r1_0.n, NULL), 0);
    assert_true(ef_hash_eq(&last_drop, &g1_4.h));
    assert_true(reaped(mp, &r1_0));
    enc r0_1 = make_tx(0, 1, CHAIN, "{}");
    assert_int_equal(ef_mempool_add(mp, r0_1.p, r0_1.n, NULL), 0);
    assert_true(ef_hash_eq(&last_drop, &g2_2.h));
    assert_int_equal(drops, 3);
    ef_mempool_stats s;
    ef_mempool_get_stats(mp, &s);
    assert_int_equal(s.count, 4);
    assert_int_equal(s.gapped, 0);
    assert_int_equal(s.evicted, 3);
    /* all ready now: a ready tx is refused, none is evicted */
    enc r2_0 = make_tx(2, 0, CHAIN, "{}");
    assert_int_equal(ef_mempool_add(mp, r2_0.p, r2_0.n, NULL), EF_EFULL);
    assert_int_equal(drops, 3);
    assert_true(ef_mempool_has(mp, &a0.h) && ef_mempool_has(mp, &r0_1.h) &&
                ef_mempool_has(mp, &r1_0.h) && ef_mempool_has(mp, &r3_0.h));
    free(g1_3.p); free(g1_4.p); free(g2_2.p); free(a0.p); free(g3_1.p); free(r3_0.p);
    free(r1_0.p); free(r0_1.p); free(r2_0.p);
    ef_mempool_free(mp);

    /* by bytes: a big gapped tx; a ready one needing more room than all the gapped
     * ones free is refused and evicts nothing */
    char big[2001];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    char args[2100];
    snprintf(args, sizeof args, "{\"m\":\"%s\"}", big);
    enc small = make_tx(0, 0, CHAIN, "{}"), gbig = make_tx(1, 1, CHAIN, args);
    enc gsmall = make_tx(2, 1, CHAIN, "{}");
    mp = new_pool_cfg(0, gbig.n + small.n + gsmall.n, 0, 0, 0);
    assert_int_equal(ef_mempool_add(mp, small.p, small.n, NULL), 0);
    assert_int_equal(ef_mempool_add(mp, gsmall.p, gsmall.n, NULL), 0);
    assert_int_equal(ef_mempool_add(mp, gbig.p, gbig.n, NULL), 0);
    enc rbig = make_tx(3, 0, CHAIN, args);
    char args2[2600], pad[401];
    memset(pad, 'y', sizeof pad - 1);
    pad[sizeof pad - 1] = 0;
    snprintf(args2, sizeof args2, "{\"m\":\"%s\",\"n\":\"%s\"}", big, pad);
    enc rhuge = make_tx(3, 0, CHAIN, args2);   /* more than both gapped ones */
    assert_true(small.n + rhuge.n > gbig.n + small.n + gsmall.n);
    assert_int_equal(ef_mempool_add(mp, rhuge.p, rhuge.n, NULL), EF_EFULL);
    assert_int_equal(drops, 0);
    assert_int_equal(ef_mempool_add(mp, rbig.p, rbig.n, NULL), 0);   /* evicts gsmall then gbig */
    assert_int_equal(drops, 2);
    assert_false(ef_mempool_has(mp, &gbig.h));
    assert_true(ef_mempool_has(mp, &small.h));
    free(small.p); free(gbig.p); free(gsmall.p); free(rbig.p); free(rhuge.p);
    ef_mempool_free(mp);
}

static void test_many(void **st)
{
    (void)st;
    setup_keys();
    ef_mempool *mp = new_pool_cfg(0, 0, 1000, 0, 0);
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
        cmocka_unit_test(test_no_account),
        cmocka_unit_test(test_nonce_gap),
        cmocka_unit_test(test_sender_cap),
        cmocka_unit_test(test_expire),
        cmocka_unit_test(test_full_evicts_gapped),
        cmocka_unit_test(test_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
