/* ef_pricing.h: a provider's pricing policy: base tariff for its location x time-of-day factor.
 *
 * Seed 001 models providers "in different countries" whose offers derive from
 * the local electricity tariff adjusted by a time-of-day factor. A policy is
 *
 *   price_per_hour = base_per_hour * tod_permille[local_hour] / 1000
 *
 * where local_hour is the provider's local hour (UTC + utc_offset_min) at the
 * quote time. Prices are integer ledger units per hour (the bank's unit), so the
 * MEF agent (on the ledger) and the REST baseline quote identically for the same
 * time. Integer arithmetic only; overflow is an error, never a wrap.
 *
 * Threading: pure functions over caller-owned structs; thread-safe.
 */
#ifndef EF_PRICING_H
#define EF_PRICING_H

#include <stddef.h>
#include <stdint.h>

#include "base/ef_err.h"

#define EF_PRICING_LOC_MAX 8           /* location code incl. NUL, e.g. "ES" */
#define EF_PRICING_TOD_PERMILLE_MAX 10000  /* a factor of at most 10.0 */

typedef struct ef_pricing {
    char location[EF_PRICING_LOC_MAX]; /* informational: the location code */
    uint64_t base_per_hour;            /* units per hour at factor 1.0; > 0 */
    int32_t utc_offset_min;            /* -720 .. +840 */
    uint16_t tod_permille[24];         /* factor per local hour, 1 .. EF_PRICING_TOD_PERMILLE_MAX */
} ef_pricing;

/* Fills *p with the built-in policy for a location code: the base tariff is the
 * location's typical retail electricity price in EUR/MWh (so e.g. "DE" 400,
 * "ES" 250, "FR" 260, "IT" 330, "PT" 230, "NL" 350, "UK" 380, "US" 160, "PL" 280,
 * "SE" 200), its UTC offset (standard time), and a shared day profile: night
 * (00-06) 0.70, morning (07-09) 1.20, day (10-16) 1.00, evening peak (17-20)
 * 1.40, late (21-23) 0.90. EF_ENOTFOUND for an unknown code (*p zeroed). */
int ef_pricing_default(ef_pricing *p, const char *location) EF_MUST_USE;

/* Number of built-in locations, and the i-th code (NULL if i is out of range):
 * lets a harness give N providers N (cycling) locations. */
size_t ef_pricing_location_count(void);
const char *ef_pricing_location(size_t i);

/* Checks the field rules above. 0 or EF_EINVAL. */
int ef_pricing_valid(const ef_pricing *p) EF_MUST_USE;

/* The provider's local hour (0..23) at wall time unix_ms. */
unsigned ef_pricing_local_hour(const ef_pricing *p, uint64_t unix_ms);

/* Price per hour at wall time unix_ms into *price. EF_EINVAL for an invalid
 * policy, EF_EOVERFLOW if the product does not fit 64 bits (then *price = 0). */
int ef_pricing_quote(const ef_pricing *p, uint64_t unix_ms, uint64_t *price) EF_MUST_USE;

/* Parses a 24-value comma-separated time-of-day profile of decimal factors
 * ("0.7,0.7,...,0.9", up to 3 decimals each) into tod_permille. 0 or EF_EINVAL. */
int ef_pricing_parse_tod(uint16_t tod_permille[24], const char *s) EF_MUST_USE;

#endif
