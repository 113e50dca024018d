/* test_vset.c: validator set order, quorum, encoding round trip and rejections. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ledger/ef_vset.h"

static ef_pub pub_n(uint8_t n)
{
    ef_pub p;
    memset(p.b, 0, sizeof p.b);
    p.b[0] = n;
    return p;
}

static void test_vset_order_quorum(void **state)
{
    (void)state;
    ef_vset vs;
    ef_vset_init(&vs);
    ef_pub a = pub_n(3), b = pub_n(1), c = pub_n(2), d = pub_n(9);
    assert_int_equal(ef_vset_add(&vs, &a, 1), 0);
    assert_int_equal(ef_vset_add(&vs, &b, 1), 0);
    assert_int_equal(ef_vset_add(&vs, &c, 1), 0);
    assert_int_equal(ef_vset_add(&vs, &c, 1), EF_EDUP);
    assert_int_equal(ef_vset_add(&vs, &d, 0), EF_EINVAL);
    assert_true(ef_vset_valid(&vs));
    assert_int_equal(ef_vset_index(&vs, &b), 0);
    assert_int_equal(ef_vset_index(&vs, &c), 1);
    assert_int_equal(ef_vset_index(&vs, &a), 2);
    assert_int_equal(ef_vset_index(&vs, &d), -1);
    assert_int_equal(ef_vset_total_power(&vs), 3);
    assert_int_equal(ef_vset_quorum(&vs), 3);   /* 2 of 3 is exactly 2/3: not enough */
    assert_int_equal(ef_vset_add(&vs, &d, 1), 0);
    assert_int_equal(ef_vset_quorum(&vs), 3);   /* 3 of 4 */
    assert_int_equal(ef_vset_remove(&vs, &d), 0);
    assert_int_equal(ef_vset_remove(&vs, &d), EF_ENOTFOUND);
    for (uint8_t i = 10; vs.len < EF_VSET_MAX; i++) {
        ef_pub p = pub_n(i);
        assert_int_equal(ef_vset_add(&vs, &p, 100), 0);
    }
    assert_int_equal(ef_vset_add(&vs, &d, 1), EF_EFULL);
    uint64_t t = ef_vset_total_power(&vs), q = ef_vset_quorum(&vs);
    assert_true(3 * q > 2 * t && 3 * (q - 1) <= 2 * t);
}

static int decode_all(const uint8_t *p, size_t n, ef_vset *vs)
{
    ef_rd r;
    ef_rd_init(&r, p, n);
    ef_vset_decode(&r, vs);
    return ef_rd_finish(&r);
}

static void test_vset_codec(void **state)
{
    (void)state;
    ef_vset vs, back;
    ef_vset_init(&vs);
    for (uint8_t i = 1; i <= 4; i++) {
        ef_pub p = pub_n(i);
        assert_int_equal(ef_vset_add(&vs, &p, i), 0);
    }
    ef_wr w;
    ef_wr_init(&w);
    assert_int_equal(ef_vset_encode(&w, &vs), 0);
    assert_int_equal(w.len, 4 + 4 * 40);
    assert_int_equal(decode_all(w.buf, w.len, &back), 0);
    assert_int_equal(back.len, 4);
    assert_memory_equal(back.v, vs.v, 4 * sizeof vs.v[0]);
    ef_hash h1, h2;
    ef_vset_hash(&h1, &vs);
    ef_vset_hash(&h2, &back);
    assert_true(ef_hash_eq(&h1, &h2));
    for (size_t n = 0; n < w.len; n++) assert_int_not_equal(decode_all(w.buf, n, &back), 0);
    uint8_t ext[256];
    memcpy(ext, w.buf, w.len);
    ext[w.len] = 0;
    assert_int_equal(decode_all(ext, w.len + 1, &back), EF_ETRAILING);
    /* swap two keys: out of order */
    memcpy(ext, w.buf, w.len);
    ext[4] = 2;
    ext[44] = 1;
    assert_int_equal(decode_all(ext, w.len, &back), EF_ENONCANON);
    /* duplicate key */
    memcpy(ext, w.buf, w.len);
    ext[44] = 1;
    assert_int_equal(decode_all(ext, w.len, &back), EF_ENONCANON);
    /* zero power */
    memcpy(ext, w.buf, w.len);
    ext[4 + 32] = 0;
    assert_int_equal(decode_all(ext, w.len, &back), EF_EINVAL);
    /* empty set */
    uint8_t zero[4] = {0};
    assert_int_equal(decode_all(zero, 4, &back), EF_EINVAL);
    /* any changed power changes the hash */
    vs.v[0].power++;
    ef_vset_hash(&h2, &vs);
    assert_false(ef_hash_eq(&h1, &h2));
    ef_wr_free(&w);
}

int main(void)
{
    ef_crypto_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vset_order_quorum),
        cmocka_unit_test(test_vset_codec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
