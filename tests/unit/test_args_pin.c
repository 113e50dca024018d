/* test_args_pin.c: pins what a transaction's args mean. Every contract method
 * receives ef_tx_args_parse's object, parsed by the system's jansson; a jansson
 * that accepted, refused or read one of these texts differently would make nodes
 * with different builds compute different results and fork the chain. Each
 * vector is the args text and what it must give: refused (EF_EARGS), the
 * canonical encoding (base/ef_cjson.h) of the object, or for reals, which have
 * no canonical encoding, the IEEE-754 bits of member "a" (contracts must not
 * use them, but a parse that differs must still be seen). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/ef_cjson.h"
#include "base/ef_codec.h"
#include "ledger/ef_tx.h"

typedef struct pin {
    const char *text;
    size_t len;          /* 0: strlen(text) */
    const char *want;    /* NULL: EF_EARGS; "real:BITS"; else the canonical encoding in hex */
} pin;

#define A1 "06010000000100000061030100000000000000"   /* {"a": 1} */

static const pin pins[] = {
    /* the shape: an object, whitespace free, nothing after it */
    {"{}", 0, "0600000000"},
    {"{\"a\":1}", 0, A1},
    {" \t\r\n{ \"a\" : 1 }\n", 0, A1},
    {"{\"b\":1,\"a\":2}", 0, "060200000001000000610302000000000000000100000062030100000000000000"},
    {"{\"a\":1,\"a\":2}", 0, NULL},
    {"[]", 0, NULL},
    {"1", 0, NULL},
    {"\"x\"", 0, NULL},
    {"", 0, NULL},
    {"{\"a\":1} x", 0, NULL},
    {"{\"a\":1}{}", 0, NULL},
    {"{\"a\":1}\0", 8, NULL},
    {"\xef\xbb\xbf{}", 0, NULL},
    {"{a:1}", 0, NULL},
    {"{\"a\":1,}", 0, NULL},
    {"{\"a\":[1,]}", 0, NULL},
    {"{\"a\":'x'}", 0, NULL},
    {"{\"a\":tru}", 0, NULL},
    {"{\"a\":true,\"b\":false,\"c\":null}", 0, "0603000000010000006102010000006201010000006300"},
    {"{\"\":0}", 0, "060100000000000000030000000000000000"},
    {"{\"a\":[[[]]],\"b\":{\"c\":{}}}", 0,
     "060200000001000000610501000000050100000005000000000100000062060100000001000000630600000000"},
    /* integers: int64, no leading zeros, -0 is 0 */
    {"{\"a\":9223372036854775807}", 0, "0601000000010000006103ffffffffffffff7f"},
    {"{\"a\":9223372036854775808}", 0, NULL},
    {"{\"a\":-9223372036854775808}", 0, "06010000000100000061030000000000000080"},
    {"{\"a\":-9223372036854775809}", 0, NULL},
    {"{\"a\":123456789012345678901234567890}", 0, NULL},
    {"{\"a\":-0}", 0, "06010000000100000061030000000000000000"},
    {"{\"a\":01}", 0, NULL},
    {"{\"a\":-}", 0, NULL},
    /* reals: parsed, never canonical */
    {"{\"a\":1.5}", 0, "real:3ff8000000000000"},
    {"{\"a\":1e2}", 0, "real:4059000000000000"},
    {"{\"a\":0.1}", 0, "real:3fb999999999999a"},
    {"{\"a\":-0.0}", 0, "real:8000000000000000"},
    {"{\"a\":1e-400}", 0, "real:0000000000000000"},
    {"{\"a\":4.9e-324}", 0, "real:0000000000000001"},
    {"{\"a\":1.7976931348623157e308}", 0, "real:7fefffffffffffff"},
    {"{\"a\":1E400}", 0, NULL},
    {"{\"a\":.5}", 0, NULL},
    {"{\"a\":NaN}", 0, NULL},
    {"{\"a\":Infinity}", 0, NULL},
    /* strings: escapes, UTF-8 only, no NUL, no raw control characters */
    {"{\"a\":\"\\/\\b\\f\\n\\r\\t\\\"\\\\\"}", 0, "0601000000010000006104080000002f080c0a0d09225c"},
    {"{\"a\":\"\\u20AC\"}", 0, "060100000001000000610403000000e282ac"},
    {"{\"a\":\"\\ud83d\\ude00\"}", 0, "060100000001000000610404000000f09f9880"},
    {"{\"a\":\"\xf0\x9f\x98\x80\"}", 0, "060100000001000000610404000000f09f9880"},
    {"{\"a\":\"\\u00e9\",\"\xc3\xa9\":1}", 0, "060200000001000000610402000000c3a902000000c3a9030100000000000000"},
    {"{\"a\":\"\\u0000\"}", 0, NULL},
    {"{\"a\\u0000\":1}", 0, NULL},
    {"{\"a\":\"\\ud83d\"}", 0, NULL},
    {"{\"a\":\"\\ude00\"}", 0, NULL},
    {"{\"a\":\"\xff\"}", 0, NULL},
    {"{\"a\":\"\xc0\x80\"}", 0, NULL},
    {"{\"a\":\"\xed\xa0\x80\"}", 0, NULL},
    {"{\"a\":\"\xf4\x90\x80\x80\"}", 0, NULL},
    {"{\"a\":\"\\x41\"}", 0, NULL},
    {"{\"a\":\"\\U20AC\"}", 0, NULL},
    {"{\"a\":\"\t\"}", 0, NULL},
};

static void check(const pin *p, size_t i)
{
    ef_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.args = (const uint8_t *)p->text;
    tx.args_len = p->len ? p->len : strlen(p->text);
    json_t *a = (json_t *)1;
    int rc = ef_tx_args_parse(&tx, &a);
    char got[512] = "refused";
    if (rc == 0) {
        assert_non_null(a);
        ef_wr w;
        ef_wr_init(&w);
        if (ef_cj_encode(&w, a) == 0) {
            assert_true(2 * w.len < sizeof got);
            ef_hex(got, w.buf, w.len);
        } else {
            double d = json_real_value(json_object_get(a, "a"));
            uint64_t bits;
            memcpy(&bits, &d, sizeof bits);
            snprintf(got, sizeof got, "real:%016llx", (unsigned long long)bits);
        }
        ef_wr_free(&w);
        json_decref(a);
    } else {
        assert_int_equal(rc, EF_EARGS);
        assert_null(a);
    }
    const char *want = p->want ? p->want : "refused";
    if (strcmp(got, want)) {
        fprintf(stderr, "vector %zu (%.*s): got %s, want %s\n", i, (int)tx.args_len, p->text, got, want);
        fail();
    }
}

static void test_args_pinned(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof pins / sizeof *pins; i++) check(&pins[i], i);
}

/* Deep nesting: jansson's own depth limit (2048) refuses the deeper texts, and
 * the canonical encoder refuses anything over EF_CJ_DEPTH_MAX, so no such value
 * reaches a hash whatever jansson allows. */
static void test_args_depth(void **state)
{
    (void)state;
    static char text[2 * 3000 + 16];
    for (size_t depth = 1; depth <= 3000; depth = depth < 64 ? depth + 1 : depth * 2) {
        size_t n = 0;
        text[n++] = '{';
        memcpy(text + n, "\"a\":", 4);
        n += 4;
        for (size_t k = 1; k < depth; k++) text[n++] = '[';
        text[n++] = '1';
        for (size_t k = 1; k < depth; k++) text[n++] = ']';
        text[n++] = '}';
        ef_tx tx;
        memset(&tx, 0, sizeof tx);
        tx.args = (const uint8_t *)text;
        tx.args_len = n;
        json_t *a;
        int rc = ef_tx_args_parse(&tx, &a);
        if (depth > 2048) assert_int_equal(rc, EF_EARGS);
        if (rc) continue;
        ef_wr w;
        ef_wr_init(&w);
        int e = ef_cj_encode(&w, a);
        assert_int_equal(e == 0, depth <= EF_CJ_DEPTH_MAX);
        ef_wr_free(&w);
        json_decref(a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_args_pinned),
        cmocka_unit_test(test_args_depth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
