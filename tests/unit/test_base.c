/* test_base.c: codec round trips and rejections, hashing, signatures, Merkle proofs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "base/ef_merkle.h"

static void encode_sample(ef_wr *w)
{
    ef_wr_u8(w, 0xab);
    ef_wr_u16(w, 0xbeef);
    ef_wr_u32(w, 0xdeadbeef);
    ef_wr_u64(w, 0x0123456789abcdefULL);
    ef_wr_i64(w, -5);
    ef_wr_bool(w, true);
    ef_wr_bytes(w, "hello", 5);
    ef_wr_str(w, "edge");
}

static int decode_sample(const uint8_t *p, size_t n)
{
    ef_rd r;
    uint8_t a; uint16_t b; uint32_t c; uint64_t d; int64_t e; bool f;
    const uint8_t *g; size_t gn; char s[16];
    ef_rd_init(&r, p, n);
    ef_rd_u8(&r, &a); ef_rd_u16(&r, &b); ef_rd_u32(&r, &c); ef_rd_u64(&r, &d);
    ef_rd_i64(&r, &e); ef_rd_bool(&r, &f); ef_rd_bytes(&r, &g, &gn, 16); ef_rd_str(&r, s, sizeof s);
    int rc = ef_rd_finish(&r);
    if (rc) return rc;
    assert_int_equal(a, 0xab); assert_int_equal(b, 0xbeef); assert_int_equal(c, 0xdeadbeef);
    assert_true(d == 0x0123456789abcdefULL); assert_true(e == -5); assert_true(f);
    assert_int_equal(gn, 5); assert_memory_equal(g, "hello", 5); assert_string_equal(s, "edge");
    return 0;
}

static void test_codec_round_trip_and_rejects(void **state)
{
    (void)state;
    ef_wr w;
    ef_wr_init(&w);
    encode_sample(&w);
    assert_int_equal(w.err, 0);
    assert_int_equal(decode_sample(w.buf, w.len), 0);
    /* little-endian on the wire */
    assert_int_equal(w.buf[1], 0xef);
    assert_int_equal(w.buf[2], 0xbe);
    /* every truncation fails */
    for (size_t n = 0; n < w.len; n++) assert_int_equal(decode_sample(w.buf, n), EF_ETRUNC);
    /* any extension fails */
    uint8_t ext[256];
    memcpy(ext, w.buf, w.len);
    ext[w.len] = 0;
    assert_int_equal(decode_sample(ext, w.len + 1), EF_ETRAILING);
    /* a non-canonical bool fails */
    memcpy(ext, w.buf, w.len);
    ext[1 + 2 + 4 + 8 + 8] = 2;
    assert_int_equal(decode_sample(ext, w.len), EF_ENONCANON);
    /* a length over the maximum fails */
    memcpy(ext, w.buf, w.len);
    ext[1 + 2 + 4 + 8 + 8 + 1] = 17;
    assert_int_equal(decode_sample(ext, w.len), EF_ETOOBIG);
    ef_wr_free(&w);
}

static void test_writer_max(void **state)
{
    (void)state;
    ef_wr w;
    ef_wr_init(&w);
    w.max = 6;
    assert_int_equal(ef_wr_u32(&w, 1), 0);
    assert_int_equal(ef_wr_u32(&w, 1), EF_ETOOBIG);
    assert_int_equal(ef_wr_u8(&w, 1), EF_ETOOBIG); /* sticky */
    size_t n;
    assert_null(ef_wr_take(&w, &n));
    ef_wr_free(&w);
}

static void test_hex(void **state)
{
    (void)state;
    uint8_t b[3] = {0x00, 0xab, 0xff}, c[3];
    char h[7];
    ef_hex(h, b, 3);
    assert_string_equal(h, "00abff");
    assert_int_equal(ef_unhex(c, 3, h), 0);
    assert_memory_equal(b, c, 3);
    assert_int_equal(ef_unhex(c, 3, "00abf"), EF_EINVAL);
    assert_int_equal(ef_unhex(c, 3, "00abfg"), EF_EINVAL);
}

static void test_sign_verify_tamper(void **state)
{
    (void)state;
    ef_keypair kp, other;
    ef_keypair_generate(&kp);
    ef_keypair_generate(&other);
    uint8_t msg[2000];
    for (size_t i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)i;
    size_t lens[] = {0, 1, 100, 1024, 1025, 2000};
    for (size_t k = 0; k < EF_ARRAY_LEN(lens); k++) {
        size_t n = lens[k];
        ef_sig sig;
        ef_sign(&sig, &kp, EF_TAG_TX, msg, n);
        assert_true(ef_verify(&sig, &kp.pub, EF_TAG_TX, msg, n));
        assert_false(ef_verify(&sig, &kp.pub, EF_TAG_VOTE, msg, n));   /* other domain */
        assert_false(ef_verify(&sig, &other.pub, EF_TAG_TX, msg, n));  /* other key */
        if (n) {
            msg[n / 2] ^= 1;
            assert_false(ef_verify(&sig, &kp.pub, EF_TAG_TX, msg, n));
            msg[n / 2] ^= 1;
        }
        for (int bit = 0; bit < 512; bit += 37) {
            ef_sig bad = sig;
            bad.b[bit / 8] ^= (uint8_t)(1 << (bit % 8));
            assert_false(ef_verify(&bad, &kp.pub, EF_TAG_TX, msg, n));
        }
    }
}

static void test_hash_domains(void **state)
{
    (void)state;
    ef_hash a, b;
    ef_hash_tagged(&a, EF_TAG_TX, "x", 1);
    ef_hash_tagged(&b, EF_TAG_BLOCK, "x", 1);
    assert_false(ef_hash_eq(&a, &b));
    ef_hasher h;
    ef_hasher_init(&h, EF_TAG_TX);
    ef_hasher_update(&h, "x", 1);
    ef_hasher_final(&h, &b);
    assert_true(ef_hash_eq(&a, &b));
}

static void test_merkle(void **state)
{
    (void)state;
    ef_hash items[40];
    for (int i = 0; i < 40; i++) ef_hash_tagged(&items[i], EF_TAG_TX, &i, sizeof i);
    ef_hash empty;
    ef_merkle_root(&empty, items, 0);
    assert_true(ef_hash_is_zero(&empty));
    for (size_t n = 1; n <= 40; n++) {
        ef_hash root;
        ef_merkle_root(&root, items, n);
        for (size_t i = 0; i < n; i++) {
            ef_merkle_proof p;
            assert_int_equal(ef_merkle_prove(&p, items, n, i), 0);
            assert_true(ef_merkle_verify(&root, &items[i], &p));
            /* wrong item, wrong index, tampered sibling, wrong count: all fail */
            assert_false(ef_merkle_verify(&root, &items[(i + 1) % 40], &p));
            ef_merkle_proof q = p;
            q.index = (i + 1) % n;
            if (n > 1) assert_false(ef_merkle_verify(&root, &items[i], &q));
            if (p.len) {
                q = p;
                q.path[0].b[3] ^= 0x10;
                assert_false(ef_merkle_verify(&root, &items[i], &q));
            }
            q = p;
            q.count = i; /* index outside the tree */
            assert_false(ef_merkle_verify(&root, &items[i], &q));
            q = p;
            q.len = p.len ? p.len - 1 : 1; /* a path of the wrong length */
            assert_false(ef_merkle_verify(&root, &items[i], &q));
            /* proof encoding round trip */
            ef_wr w;
            ef_wr_init(&w);
            assert_int_equal(ef_merkle_proof_encode(&w, &p), 0);
            ef_rd r;
            ef_rd_init(&r, w.buf, w.len);
            assert_int_equal(ef_merkle_proof_decode(&r, &q), 0);
            assert_int_equal(ef_rd_finish(&r), 0);
            assert_memory_equal(&p, &q, sizeof p);
            ef_wr_free(&w);
        }
        /* a leaf is never an inner node: root of 2 items differs from a leaf hash */
        if (n == 2) {
            ef_hash pair_as_leaf;
            ef_hash_pair(&pair_as_leaf, EF_TAG_MERKLE_LEAF, &items[0], &items[1]);
            assert_false(ef_hash_eq(&pair_as_leaf, &root));
        }
    }
}

int main(void)
{
    assert_int_equal(ef_crypto_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codec_round_trip_and_rejects),
        cmocka_unit_test(test_writer_max),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_sign_verify_tamper),
        cmocka_unit_test(test_hash_domains),
        cmocka_unit_test(test_merkle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
