/* test_proc.c: ef_proc_cmd's exit statuses and argument limits; ef_proc_netns_exists on bad names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "agents/ef_proc.h"

static void test_cmd_status(void **state)
{
    (void)state;
    assert_int_equal(ef_proc_cmd(0, "true", (char *)NULL), 0);
    assert_int_equal(ef_proc_cmd(1, "false", (char *)NULL), 1);
    assert_int_equal(ef_proc_cmd(1, "/bin/sh", "-c", "exit 7", (char *)NULL), 7);
    assert_int_equal(ef_proc_cmd(1, "/bin/sh", "-c", "kill -TERM $$", (char *)NULL), 128 + 15);
    assert_int_equal(ef_proc_cmd(1, "/nonexistent/edgefed-cmd", (char *)NULL), 127);
    /* arguments arrive one by one, unsplit and unexpanded */
    assert_int_equal(ef_proc_cmd(1, "test", "a b", "=", "a b", (char *)NULL), 0);
    assert_int_equal(ef_proc_cmd(1, "test", "$HOME", "=", "$HOME", (char *)NULL), 0);
    /* a failure not quiet is logged, the status the same */
    assert_int_equal(ef_proc_cmd(0, "false", (char *)NULL), 1);
}

static void test_cmd_limits(void **state)
{
    (void)state;
    const char *a[EF_PROC_ARGV_MAX + 1];
    for (size_t i = 0; i < EF_PROC_ARGV_MAX + 1; i++) a[i] = "x";
    /* EF_PROC_ARGV_MAX - 1 arguments run; one more is refused */
#define T_ARGS8(b) a[b], a[b + 1], a[b + 2], a[b + 3], a[b + 4], a[b + 5], a[b + 6], a[b + 7]
    _Static_assert(EF_PROC_ARGV_MAX == 64, "the argument lists below have 63 and 64 entries");
    assert_int_equal(ef_proc_cmd(1, "true", T_ARGS8(0), T_ARGS8(8), T_ARGS8(16), T_ARGS8(24), T_ARGS8(32),
                                 T_ARGS8(40), T_ARGS8(48), a[56], a[57], a[58], a[59], a[60], a[61], (char *)NULL),
                     0);
    assert_int_equal(ef_proc_cmd(1, "true", T_ARGS8(0), T_ARGS8(8), T_ARGS8(16), T_ARGS8(24), T_ARGS8(32),
                                 T_ARGS8(40), T_ARGS8(48), a[56], a[57], a[58], a[59], a[60], a[61], a[62],
                                 (char *)NULL),
                     EF_EINVAL);
#undef T_ARGS8
}

static void test_netns_exists(void **state)
{
    (void)state;
    assert_false(ef_proc_netns_exists(NULL));
    assert_false(ef_proc_netns_exists(""));
    assert_false(ef_proc_netns_exists("."));
    assert_false(ef_proc_netns_exists(".."));
    assert_false(ef_proc_netns_exists("../netns"));
    assert_false(ef_proc_netns_exists("edgefed-no-such-netns"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmd_status),
        cmocka_unit_test(test_cmd_limits),
        cmocka_unit_test(test_netns_exists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
