/* test_pricing.c: the provider pricing policy: tariffs, time-of-day factors, local hours, parsing, overflow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "agents/ef_pricing.h"

#define HOUR_MS (3600ull * 1000ull)
#define DAY0_MS (1763683200000ull)  /* 2025-11-21 00:00:00 UTC */

static void test_defaults(void **state)
{
    (void)state;
    ef_pricing p;
    assert_true(ef_pricing_location_count() >= 5);
    for (size_t i = 0; i < ef_pricing_location_count(); i++) {
        assert_int_equal(ef_pricing_default(&p, ef_pricing_location(i)), 0);
        assert_int_equal(ef_pricing_valid(&p), 0);
        assert_string_equal(p.location, ef_pricing_location(i));
    }
    assert_null(ef_pricing_location(ef_pricing_location_count()));
    assert_int_equal(ef_pricing_default(&p, "XX"), EF_ENOTFOUND);
    assert_int_equal(p.base_per_hour, 0);
    assert_int_equal(ef_pricing_default(&p, NULL), EF_ENOTFOUND);
}

static void test_quote_is_base_times_factor(void **state)
{
    (void)state;
    ef_pricing es;
    assert_int_equal(ef_pricing_default(&es, "ES"), 0);  /* base 250, UTC+60 min */
    uint64_t price;
    /* 02:00 UTC = 03:00 local: night 0.70 */
    assert_int_equal(ef_pricing_quote(&es, DAY0_MS + 2 * HOUR_MS, &price), 0);
    assert_int_equal(ef_pricing_local_hour(&es, DAY0_MS + 2 * HOUR_MS), 3);
    assert_int_equal(price, 175);
    /* 17:30 UTC = 18:30 local: evening peak 1.40 */
    assert_int_equal(ef_pricing_quote(&es, DAY0_MS + 17 * HOUR_MS + HOUR_MS / 2, &price), 0);
    assert_int_equal(price, 350);
    /* 11:00 UTC = 12:00 local: day 1.00 */
    assert_int_equal(ef_pricing_quote(&es, DAY0_MS + 11 * HOUR_MS, &price), 0);
    assert_int_equal(price, 250);
    /* Different locations quote differently at the same instant. */
    ef_pricing de, us;
    assert_int_equal(ef_pricing_default(&de, "DE"), 0);
    assert_int_equal(ef_pricing_default(&us, "US"), 0);
    uint64_t pde, pus;
    assert_int_equal(ef_pricing_quote(&de, DAY0_MS + 11 * HOUR_MS, &pde), 0);
    assert_int_equal(ef_pricing_quote(&us, DAY0_MS + 11 * HOUR_MS, &pus), 0);
    assert_int_equal(pde, 400);        /* 12:00 local, day 1.00 */
    assert_int_equal(pus, 160 * 7 / 10); /* 06:00 local (UTC-5), night 0.70 */
}

static void test_local_hour_wraps(void **state)
{
    (void)state;
    ef_pricing p;
    assert_int_equal(ef_pricing_default(&p, "US"), 0);
    assert_int_equal(ef_pricing_local_hour(&p, DAY0_MS + 1 * HOUR_MS), 20);  /* previous day */
    p.utc_offset_min = 840;
    assert_int_equal(ef_pricing_local_hour(&p, DAY0_MS + 12 * HOUR_MS), 2);
    p.utc_offset_min = 0;
    assert_int_equal(ef_pricing_local_hour(&p, 0), 0);
}

static void test_invalid_and_overflow(void **state)
{
    (void)state;
    ef_pricing p;
    uint64_t price = 7;
    assert_int_equal(ef_pricing_default(&p, "FR"), 0);
    p.base_per_hour = 0;
    assert_int_equal(ef_pricing_quote(&p, DAY0_MS, &price), EF_EINVAL);
    assert_int_equal(price, 0);
    assert_int_equal(ef_pricing_default(&p, "FR"), 0);
    p.tod_permille[5] = 0;
    assert_int_equal(ef_pricing_valid(&p), EF_EINVAL);
    p.tod_permille[5] = EF_PRICING_TOD_PERMILLE_MAX + 1;
    assert_int_equal(ef_pricing_valid(&p), EF_EINVAL);
    assert_int_equal(ef_pricing_default(&p, "FR"), 0);
    p.utc_offset_min = 900;
    assert_int_equal(ef_pricing_valid(&p), EF_EINVAL);
    assert_int_equal(ef_pricing_default(&p, "FR"), 0);
    p.base_per_hour = UINT64_MAX / 100;
    price = 7;
    assert_int_equal(ef_pricing_quote(&p, DAY0_MS, &price), EF_EOVERFLOW);
    assert_int_equal(price, 0);
    /* A tiny base never quotes zero. */
    p.base_per_hour = 1;
    assert_int_equal(ef_pricing_quote(&p, DAY0_MS, &price), 0);
    assert_int_equal(price, 1);
}

static void test_parse_tod(void **state)
{
    (void)state;
    uint16_t t[24];
    memset(t, 0, sizeof t);
    assert_int_equal(ef_pricing_parse_tod(t, "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1"), 0);
    for (int h = 0; h < 24; h++) assert_int_equal(t[h], 1000);
    assert_int_equal(
        ef_pricing_parse_tod(t, "0.7,0.7,0.7,0.7,0.7,0.7,0.7,1.2,1.2,1.2,1,1,1,1,1,1,1,1.4,1.4,1.4,1.4,0.9,0.9,0.125"),
        0);
    assert_int_equal(t[0], 700);
    assert_int_equal(t[17], 1400);
    assert_int_equal(t[23], 125);
    uint16_t before[24];
    memcpy(before, t, sizeof t);
    const char *bad[] = {
        "", "1", "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1",          /* 23 values */
        "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1",              /* 25 values */
        "0,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1",                /* zero */
        "1.0001,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1",           /* 4 decimals */
        "-1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1",               /* sign */
        "11,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1",               /* above 10 */
        "1.,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1",
        "1,,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1",
        "1 ,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1",
        "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(ef_pricing_parse_tod(t, bad[i]), EF_EINVAL);
        assert_memory_equal(t, before, sizeof t);  /* unchanged on failure */
    }
    assert_int_equal(ef_pricing_parse_tod(t, NULL), EF_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_quote_is_base_times_factor),
        cmocka_unit_test(test_local_hour_wraps),
        cmocka_unit_test(test_invalid_and_overflow),
        cmocka_unit_test(test_parse_tod),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
