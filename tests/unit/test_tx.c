/* test_tx.c: transaction encoding round trip; every truncation, extension and bit
 * flip is rejected; wrong chain, oversize and bad signature have their own codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ef_test_ledger.h"

static void test_tx_round_trip(void **state)
{
    (void)state;
    ef_keypair kp;
    t_key(&kp, 7);
    size_t len;
    uint8_t *enc = t_tx(&kp, 42, "bank", "transfer", "{\"to\":\"ab\",\"amount\":5}", &len);
    ef_tx tx;
    assert_int_equal(ef_tx_decode(&tx, enc, len), 0);
    assert_string_equal(tx.chain_id, T_CHAIN);
    assert_memory_equal(tx.sender.b, kp.pub.b, EF_PUB_SIZE);
    assert_true(tx.nonce == 42);
    assert_string_equal(tx.contract, "bank");
    assert_string_equal(tx.method, "transfer");
    assert_int_equal(tx.args_len, strlen("{\"to\":\"ab\",\"amount\":5}"));
    assert_true(ef_tx_verify(&tx));
    assert_true(ef_tx_verify_enc(&tx, enc, len));
    assert_int_equal(ef_tx_check_stateless(&tx, T_CHAIN, enc, len), 0);
    assert_int_equal(ef_tx_check_stateless(&tx, T_CHAIN, NULL, 0), 0);
    ef_wr w;
    ef_wr_init(&w);
    assert_int_equal(ef_tx_encode(&w, &tx), 0);
    assert_int_equal(w.len, len);
    assert_memory_equal(w.buf, enc, len);
    ef_hash h1, h2;
    ef_tx_hash_enc(&h1, enc, len);
    assert_int_equal(ef_tx_hash(&h2, &tx), 0);
    assert_true(ef_hash_eq(&h1, &h2));
    json_t *j = ef_tx_to_json(&tx);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "args"), "amount")), 5);
    json_decref(j);
    ef_wr_free(&w);
    free(enc);
}

static void test_tx_rejects_every_change(void **state)
{
    (void)state;
    ef_keypair kp;
    t_key(&kp, 3);
    size_t len;
    uint8_t *enc = t_tx(&kp, 1, "registry", "vote_validator", "{\"proposal\":1}", &len);
    ef_tx tx;
    for (size_t n = 0; n < len; n++) assert_int_not_equal(ef_tx_decode(&tx, enc, n), 0);
    uint8_t *ext = malloc(len + 1);
    memcpy(ext, enc, len);
    ext[len] = 0;
    assert_int_equal(ef_tx_decode(&tx, ext, len + 1), EF_ETRAILING);
    /* every single bit flip: the decode fails, or the stateless check does */
    for (size_t i = 0; i < len * 8; i++) {
        memcpy(ext, enc, len);
        ext[i / 8] ^= (uint8_t)(1u << (i % 8));
        int rc = ef_tx_decode(&tx, ext, len);
        if (rc == 0) rc = ef_tx_check_stateless(&tx, T_CHAIN, ext, len);
        assert_int_not_equal(rc, 0);
    }
    free(ext);
    free(enc);
}

static void test_tx_error_codes(void **state)
{
    (void)state;
    ef_keypair kp, other;
    t_key(&kp, 1);
    t_key(&other, 2);
    ef_tx tx;
    memset(&tx, 0, sizeof tx);
    snprintf(tx.chain_id, sizeof tx.chain_id, "c1");
    tx.sender = kp.pub;
    snprintf(tx.contract, sizeof tx.contract, "bank");
    snprintf(tx.method, sizeof tx.method, "transfer");
    tx.args = (const uint8_t *)"{}";
    tx.args_len = 2;
    assert_int_equal(ef_tx_sign(&tx, &other), EF_EINVAL);   /* not the sender's key */
    assert_int_equal(ef_tx_sign(&tx, &kp), 0);
    assert_int_equal(ef_tx_check_stateless(&tx, "c1", NULL, 0), 0);
    assert_int_equal(ef_tx_check_stateless(&tx, "c2", NULL, 0), EF_ECHAIN);
    tx.nonce = 1;   /* changed after signing */
    assert_int_equal(ef_tx_check_stateless(&tx, "c1", NULL, 0), EF_EBADSIG);
    tx.nonce = 0;
    tx.sig.b[10] ^= 4;
    assert_int_equal(ef_tx_check_stateless(&tx, "c1", NULL, 0), EF_EBADSIG);
    tx.sig.b[10] ^= 4;
    tx.sender = other.pub;   /* someone else's name on my signature */
    assert_int_equal(ef_tx_check_stateless(&tx, "c1", NULL, 0), EF_EBADSIG);
    tx.sender = kp.pub;
    /* oversize arguments */
    uint8_t *big = malloc(EF_TX_ARGS_MAX + 1);
    memset(big, ' ', EF_TX_ARGS_MAX + 1);
    tx.args = big;
    tx.args_len = EF_TX_ARGS_MAX + 1;
    ef_wr w;
    ef_wr_init(&w);
    assert_int_equal(ef_tx_encode(&w, &tx), EF_ETOOBIG);
    assert_int_equal(ef_tx_check_stateless(&tx, "c1", NULL, 0), EF_ETOOBIG);
    tx.args_len = EF_TX_ARGS_MAX;   /* the maximum itself is fine */
    assert_int_equal(ef_tx_sign(&tx, &kp), 0);
    ef_wr_free(&w);
    ef_wr_init(&w);
    assert_int_equal(ef_tx_encode(&w, &tx), 0);
    assert_true(w.len <= EF_TX_ENC_MAX);
    ef_tx back;
    assert_int_equal(ef_tx_decode(&back, w.buf, w.len), 0);
    assert_int_equal(ef_tx_check_stateless(&back, "c1", w.buf, w.len), 0);
    /* hand-made encoding with args one byte over the maximum */
    ef_wr_free(&w);
    ef_wr_init(&w);
    ef_wr_str(&w, "c1");
    ef_wr_raw(&w, kp.pub.b, 32);
    ef_wr_u64(&w, 0);
    ef_wr_str(&w, "bank");
    ef_wr_str(&w, "transfer");
    ef_wr_bytes(&w, big, EF_TX_ARGS_MAX + 1);
    ef_wr_raw(&w, tx.sig.b, 64);
    assert_int_equal(ef_tx_decode(&back, w.buf, w.len), EF_ETOOBIG);
    ef_wr_free(&w);
    /* names: charset and emptiness */
    tx.args = (const uint8_t *)"{}";
    tx.args_len = 2;
    snprintf(tx.contract, sizeof tx.contract, "Bank");
    ef_wr_init(&w);
    assert_int_equal(ef_tx_encode(&w, &tx), EF_EINVAL);
    ef_wr_free(&w);
    snprintf(tx.contract, sizeof tx.contract, "bank");
    tx.chain_id[0] = 0;
    ef_wr_init(&w);
    assert_int_equal(ef_tx_encode(&w, &tx), EF_EINVAL);
    ef_wr_free(&w);
    /* an embedded NUL in a name is non-canonical */
    ef_wr_init(&w);
    ef_wr_str(&w, "c1");
    ef_wr_raw(&w, kp.pub.b, 32);
    ef_wr_u64(&w, 0);
    ef_wr_bytes(&w, "ba\0k", 4);
    ef_wr_str(&w, "transfer");
    ef_wr_bytes(&w, "{}", 2);
    ef_wr_raw(&w, tx.sig.b, 64);
    assert_int_equal(ef_tx_decode(&back, w.buf, w.len), EF_ENONCANON);
    ef_wr_free(&w);
    free(big);
}

int main(void)
{
    ef_crypto_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tx_round_trip),
        cmocka_unit_test(test_tx_rejects_every_change),
        cmocka_unit_test(test_tx_error_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
