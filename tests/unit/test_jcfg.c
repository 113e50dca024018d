/* test_jcfg.c: the JSON config field readers: defaults kept, required, types, ranges, reasons, known names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "base/ef_jcfg.h"

static json_t *doc(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    assert_non_null(j);
    return j;
}

static void t_str(void **state)
{
    (void)state;
    json_t *o = doc("{\"a\":\"abc\",\"n\":5}");
    char out[4] = "def", why[EF_JCFG_REASON_MAX];
    assert_int_equal(ef_jcfg_str(o, "missing", false, out, sizeof out, why, sizeof why), 0);
    assert_string_equal(out, "def");
    assert_int_equal(ef_jcfg_str(o, "missing", true, out, sizeof out, why, sizeof why), EF_ECONFIG);
    assert_string_equal(why, "missing: missing");
    assert_int_equal(ef_jcfg_str(o, "a", true, out, sizeof out, NULL, 0), 0);
    assert_string_equal(out, "abc");
    char small[3] = "x";
    assert_int_equal(ef_jcfg_str(o, "a", false, small, sizeof small, why, sizeof why), EF_ECONFIG);
    assert_string_equal(small, "x");
    assert_string_equal(why, "a: not a string of at most 2 bytes");
    assert_int_equal(ef_jcfg_str(o, "n", false, out, sizeof out, NULL, 0), EF_ECONFIG);
    assert_int_equal(ef_jcfg_str(NULL, "a", false, out, sizeof out, NULL, 0), 0);
    json_decref(o);
}

static void t_int(void **state)
{
    (void)state;
    json_t *o = doc("{\"u\":7,\"neg\":-1,\"big\":9223372036854775807,\"real\":1.0,\"s\":\"7\"}");
    char why[EF_JCFG_REASON_MAX];
    uint64_t u = 1;
    uint32_t u32 = 2;
    size_t sz = 3;
    assert_int_equal(ef_jcfg_u64(o, "missing", false, 0, 10, &u, NULL, 0), 0);
    assert_true(u == 1);
    assert_int_equal(ef_jcfg_u64(o, "u", true, 0, 10, &u, NULL, 0), 0);
    assert_true(u == 7);
    assert_int_equal(ef_jcfg_u32(o, "u", false, 7, 7, &u32, NULL, 0), 0);
    assert_int_equal(u32, 7);
    assert_int_equal(ef_jcfg_size(o, "u", false, 8, 100, &sz, why, sizeof why), EF_ECONFIG);
    assert_int_equal(sz, 3);
    assert_string_equal(why, "u: not an integer in 8..100");
    assert_int_equal(ef_jcfg_u32(o, "u", false, 0, 6, &u32, NULL, 0), EF_ECONFIG);
    assert_int_equal(ef_jcfg_u64(o, "neg", false, 0, EF_JCFG_INT_MAX, &u, NULL, 0), EF_ECONFIG);
    assert_int_equal(ef_jcfg_u64(o, "real", false, 0, EF_JCFG_INT_MAX, &u, NULL, 0), EF_ECONFIG);
    assert_int_equal(ef_jcfg_u64(o, "s", false, 0, EF_JCFG_INT_MAX, &u, NULL, 0), EF_ECONFIG);
    assert_int_equal(ef_jcfg_u64(o, "big", false, 0, EF_JCFG_INT_MAX, &u, NULL, 0), 0);
    assert_true(u == EF_JCFG_INT_MAX);
    assert_int_equal(ef_jcfg_u32(o, "missing", true, 0, 1, &u32, why, sizeof why), EF_ECONFIG);
    assert_string_equal(why, "missing: missing");
    json_decref(o);
}

static void t_bool_only(void **state)
{
    (void)state;
    json_t *o = doc("{\"b\":false,\"n\":0}");
    char why[EF_JCFG_REASON_MAX];
    bool b = true;
    assert_int_equal(ef_jcfg_bool(o, "missing", false, &b, NULL, 0), 0);
    assert_true(b);
    assert_int_equal(ef_jcfg_bool(o, "b", true, &b, NULL, 0), 0);
    assert_false(b);
    b = true;
    assert_int_equal(ef_jcfg_bool(o, "n", false, &b, why, sizeof why), EF_ECONFIG);
    assert_true(b);
    assert_string_equal(why, "n: not a boolean");
    static const char *const both[] = {"b", "n", NULL}, *const one[] = {"b", NULL};
    assert_int_equal(ef_jcfg_only(o, both, NULL, 0), 0);
    assert_int_equal(ef_jcfg_only(o, one, why, sizeof why), EF_ECONFIG);
    assert_string_equal(why, "unknown field \"n\"");
    json_t *arr = doc("[1]");
    assert_int_equal(ef_jcfg_only(arr, both, why, sizeof why), EF_ECONFIG);
    assert_string_equal(why, "not an object");
    json_decref(arr);
    assert_int_equal(ef_jcfg_fail(why, sizeof why, "x=%d", 5), EF_ECONFIG);
    assert_string_equal(why, "x=5");
    assert_int_equal(ef_jcfg_fail(NULL, 0, "x"), EF_ECONFIG);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_str),
        cmocka_unit_test(t_int),
        cmocka_unit_test(t_bool_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
