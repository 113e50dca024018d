/* ef_pricing.c: a provider's pricing policy: base tariff for its location x time-of-day factor. */
#include "agents/ef_pricing.h"

#include <stdbool.h>
#include <string.h>

typedef struct ef_pricing_loc {
    const char *code;
    uint64_t base_per_hour;  /* typical retail electricity price, EUR/MWh */
    int32_t utc_offset_min;  /* standard time */
} ef_pricing_loc;

static const ef_pricing_loc ef_pricing_locs[] = {
    {"ES", 250, 60},  {"DE", 400, 60}, {"FR", 260, 60}, {"IT", 330, 60}, {"PT", 230, 0},
    {"NL", 350, 60},  {"UK", 380, 0},  {"US", 160, -300}, {"PL", 280, 60}, {"SE", 200, 60},
};

/* night 0.70 (00-06), morning 1.20 (07-09), day 1.00 (10-16), peak 1.40 (17-20), late 0.90 (21-23) */
static const uint16_t ef_pricing_day_profile[24] = {
    700, 700, 700, 700, 700, 700, 700, 1200, 1200, 1200, 1000, 1000,
    1000, 1000, 1000, 1000, 1000, 1400, 1400, 1400, 1400, 900, 900, 900,
};

size_t ef_pricing_location_count(void) { return EF_ARRAY_LEN(ef_pricing_locs); }

const char *ef_pricing_location(size_t i)
{
    return i < EF_ARRAY_LEN(ef_pricing_locs) ? ef_pricing_locs[i].code : NULL;
}

int ef_pricing_default(ef_pricing *p, const char *location)
{
    EF_ASSERT(p);
    memset(p, 0, sizeof *p);
    if (!location) return EF_ENOTFOUND;
    for (size_t i = 0; i < EF_ARRAY_LEN(ef_pricing_locs); i++) {
        if (strcmp(location, ef_pricing_locs[i].code)) continue;
        memcpy(p->location, ef_pricing_locs[i].code, strlen(ef_pricing_locs[i].code) + 1);
        p->base_per_hour = ef_pricing_locs[i].base_per_hour;
        p->utc_offset_min = ef_pricing_locs[i].utc_offset_min;
        memcpy(p->tod_permille, ef_pricing_day_profile, sizeof p->tod_permille);
        return 0;
    }
    return EF_ENOTFOUND;
}

int ef_pricing_valid(const ef_pricing *p)
{
    if (!p || p->base_per_hour == 0) return EF_EINVAL;
    if (p->utc_offset_min < -720 || p->utc_offset_min > 840) return EF_EINVAL;
    if (!memchr(p->location, 0, sizeof p->location)) return EF_EINVAL;
    for (int h = 0; h < 24; h++)
        if (p->tod_permille[h] == 0 || p->tod_permille[h] > EF_PRICING_TOD_PERMILLE_MAX) return EF_EINVAL;
    return 0;
}

unsigned ef_pricing_local_hour(const ef_pricing *p, uint64_t unix_ms)
{
    EF_ASSERT(p);
    const int64_t day_min = 24 * 60;
    int64_t min_of_day = (int64_t)((unix_ms / 60000u) % (uint64_t)day_min);
    int64_t local = ((min_of_day + p->utc_offset_min) % day_min + day_min) % day_min;
    return (unsigned)(local / 60);
}

int ef_pricing_quote(const ef_pricing *p, uint64_t unix_ms, uint64_t *price)
{
    EF_ASSERT(price);
    *price = 0;
    int err = ef_pricing_valid(p);
    if (err) return err;
    uint64_t f = p->tod_permille[ef_pricing_local_hour(p, unix_ms)];
    uint64_t prod;
    if (__builtin_mul_overflow(p->base_per_hour, f, &prod)) return EF_EOVERFLOW;
    *price = prod / 1000u;
    if (*price == 0) *price = 1;  /* a quote is never free */
    return 0;
}

/* Parses one decimal factor "D[.DDD]" (no sign, at most 3 decimals) into permille. */
static bool ef_pricing_parse_factor(const char *s, size_t n, uint16_t *out)
{
    uint32_t whole = 0, frac = 0;
    size_t i = 0, digits = 0, fdigits = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
        whole = whole * 10 + (uint32_t)(s[i] - '0');
        if (whole > 100) return false;
    }
    if (digits == 0) return false;
    if (i < n) {
        if (s[i] != '.') return false;
        for (i++; i < n; i++, fdigits++) {
            if (s[i] < '0' || s[i] > '9' || fdigits == 3) return false;
            frac = frac * 10 + (uint32_t)(s[i] - '0');
        }
        if (fdigits == 0) return false;
    }
    for (; fdigits < 3; fdigits++) frac *= 10;
    uint32_t v = whole * 1000 + frac;
    if (v == 0 || v > EF_PRICING_TOD_PERMILLE_MAX) return false;
    *out = (uint16_t)v;
    return true;
}

int ef_pricing_parse_tod(uint16_t tod_permille[24], const char *s)
{
    EF_ASSERT(tod_permille);
    uint16_t tmp[24];
    if (!s) return EF_EINVAL;
    for (int h = 0; h < 24; h++) {
        const char *end = strchr(s, ',');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        if ((h < 23) != (end != NULL)) return EF_EINVAL;
        if (!ef_pricing_parse_factor(s, n, &tmp[h])) return EF_EINVAL;
        s = end ? end + 1 : s + n;
    }
    memcpy(tod_permille, tmp, sizeof tmp);
    return 0;
}
