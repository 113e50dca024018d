/* test_block.c: block and header encoding round trips; every truncation, extension
 * and bit flip of a valid block is rejected (by the decoder or the full check). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ef_test_ledger.h"

static void test_block_round_trip(void **state)
{
    (void)state;
    ef_keypair kp;
    t_key(&kp, 1);
    ef_block_header h;
    memset(&h, 0, sizeof h);
    h.version = EF_BLOCK_VERSION;
    snprintf(h.chain_id, sizeof h.chain_id, "%s", T_CHAIN);
    h.height = 7;
    h.time_ms = 123456789;
    for (int i = 0; i < 32; i++) {
        h.prev_hash.b[i] = (uint8_t)i;
        h.state_hash.b[i] = (uint8_t)(i * 3);
        h.proposer.b[i] = (uint8_t)(255 - i);
    }
    size_t l1, l2;
    uint8_t *t1 = t_tx(&kp, 0, "bank", "transfer", "{}", &l1);
    uint8_t *t2 = t_tx(&kp, 1, "bank", "transfer", "{\"a\":1}", &l2);
    ef_txbuf txs[2] = {{t1, l1}, {t2, l2}};
    ef_hash th[2];
    ef_tx_hash_enc(&th[0], t1, l1);
    ef_tx_hash_enc(&th[1], t2, l2);
    ef_merkle_root(&h.txs_root, th, 2);
    ef_wr w;
    ef_wr_init(&w);
    assert_int_equal(ef_block_encode(&w, &h, txs, 2), 0);
    ef_block b;
    assert_int_equal(ef_block_decode(&b, w.buf, w.len), 0);
    assert_memory_equal(&b.hdr, &h, sizeof h);
    assert_int_equal(b.txs_len, 2);
    assert_int_equal(b.txs[1].len, l2);
    assert_memory_equal(b.txs[1].enc, t2, l2);
    assert_true(ef_hash_eq(&b.txs[0].hash, &th[0]));
    assert_true(b.txs[1].tx.nonce == 1);
    ef_hash root, hh1, hh2;
    ef_block_txs_root(&root, &b);
    assert_true(ef_hash_eq(&root, &h.txs_root));
    ef_block_header_hash(&hh1, &h);
    assert_int_equal(ef_block_hash_enc(&hh2, w.buf, w.len), 0);
    assert_true(ef_hash_eq(&hh1, &hh2));
    /* header alone */
    ef_wr hw;
    ef_wr_init(&hw);
    assert_int_equal(ef_block_header_encode(&hw, &h), 0);
    assert_int_equal(hw.len, 246 + strlen(T_CHAIN));
    ef_block_header h2;
    assert_int_equal(ef_block_header_decode(&h2, hw.buf, hw.len), 0);
    assert_memory_equal(&h2, &h, sizeof h);
    for (size_t n = 0; n < hw.len; n++) assert_int_not_equal(ef_block_header_decode(&h2, hw.buf, n), 0);
    /* each header field changes the hash */
    h2 = h;
    h2.time_ms++;
    ef_block_header_hash(&hh2, &h2);
    assert_false(ef_hash_eq(&hh1, &hh2));
    h2 = h;
    h2.next_vset_hash.b[31] ^= 1;
    ef_block_header_hash(&hh2, &h2);
    assert_false(ef_hash_eq(&hh1, &hh2));
    json_t *j = ef_block_header_to_json(&h);
    assert_int_equal(json_integer_value(json_object_get(j, "height")), 7);
    json_decref(j);
    /* wrong version */
    h2 = h;
    h2.version = 1;
    ef_wr_reset(&hw);
    assert_int_equal(ef_block_header_encode(&hw, &h2), EF_EINVAL);
    /* truncations and extension of the block */
    ef_block_free(&b);
    for (size_t n = 0; n < w.len; n++) assert_int_not_equal(ef_block_decode(&b, w.buf, n), 0);
    uint8_t *ext = malloc(w.len + 1);
    memcpy(ext, w.buf, w.len);
    ext[w.len] = 0;
    assert_int_equal(ef_block_decode(&b, ext, w.len + 1), EF_ETRAILING);
    free(ext);
    /* too many txs */
    ef_wr w2;
    ef_wr_init(&w2);
    ef_txbuf *many = calloc(EF_BLOCK_TXS_MAX + 1, sizeof *many);
    for (int i = 0; i <= EF_BLOCK_TXS_MAX; i++) many[i] = txs[0];
    assert_int_equal(ef_block_encode(&w2, &h, many, EF_BLOCK_TXS_MAX + 1), EF_ETOOBIG);
    ef_wr_free(&w2);
    /* a count field claiming more txs than the input holds */
    ef_wr_init(&w2);
    ef_block_header_encode(&w2, &h);
    ef_wr_u32(&w2, EF_BLOCK_TXS_MAX);
    assert_int_equal(ef_block_decode(&b, w2.buf, w2.len), EF_ETRUNC);
    ef_wr_free(&w2);
    free(many);
    ef_wr_free(&hw);
    ef_wr_free(&w);
    free(t1);
    free(t2);
}

/* Every bit flip of a valid next block is refused by ef_ledger_check. */
static void test_block_bit_flips_rejected(void **state)
{
    (void)state;
    char dir[512];
    ef_genesis g;
    ef_store *s = t_store_new(dir, sizeof dir, "blockflip", &g, 1, 3, 1000);
    ef_keypair v0, a1;
    t_key(&v0, 0);
    t_key(&a1, 1);
    char args[200], hex[65];
    snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":3}", t_hex(&v0.pub, hex));
    size_t l1, l2;
    uint8_t *t1 = t_tx(&a1, 0, "bank", "transfer", args, &l1);
    uint8_t *t2 = t_tx(&a1, 1, "bank", "transfer", args, &l2);
    ef_txbuf c[2] = {{t1, l1}, {t2, l2}};
    uint8_t *blk;
    size_t blen;
    assert_int_equal(ef_ledger_propose(s, c, 2, 5000, &v0.pub, NULL, NULL, &blk, &blen), 0);
    ef_ledger_abort_pending(s);
    uint8_t *m = malloc(blen);
    size_t bits = blen * 8;
    size_t time_off = 2 + 4 + strlen(T_CHAIN) + 8, time_ok = 0;
    for (size_t i = 0; i < bits; i++) {
        memcpy(m, blk, blen);
        m[i / 8] ^= (uint8_t)(1u << (i % 8));
        int rc = ef_ledger_check(s, m, blen, NULL);
        if (rc == 0 && i / 8 >= time_off && i / 8 < time_off + 8) {
            /* the time field is free (above the parent's): a flip there is another
             * valid block, with another hash, which a certificate of the original
             * does not cover */
            ef_hash h1, h2;
            assert_int_equal(ef_block_hash_enc(&h1, blk, blen), 0);
            assert_int_equal(ef_block_hash_enc(&h2, m, blen), 0);
            assert_false(ef_hash_eq(&h1, &h2));
            time_ok++;
            continue;
        }
        if (rc == 0) fprintf(stderr, "bit %zu accepted\n", i);
        assert_int_not_equal(rc, 0);
    }
    assert_true(time_ok > 0 && time_ok < 64);
    for (size_t n = 0; n < blen; n++) assert_int_not_equal(ef_ledger_check(s, blk, n, NULL), 0);
    assert_int_equal(ef_ledger_check(s, blk, blen, NULL), 0);
    assert_int_equal(ef_ledger_commit(s, blk, blen, NULL, 0), 0);
    assert_int_equal(ef_store_height(s), 1);
    free(m);
    free(blk);
    free(t1);
    free(t2);
    ef_store_close(s);
    ef_genesis_free(&g);
    t_rmdir(dir);
}

int main(void)
{
    ef_crypto_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_round_trip),
        cmocka_unit_test(test_block_bit_flips_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
