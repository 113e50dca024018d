/* ef_cvset.c: validator-set arithmetic for consensus (quorums, proposer, lookup). */
#include "consensus/ef_cvset.h"

#include <string.h>

#define EF_CVSET_TOTAL_LIMIT (1ULL << 62)

int ef_cvset_check(const ef_vset *vs)
{
    if (!vs || vs->len == 0 || vs->len > EF_VSET_MAX) return EF_ECONFIG;
    uint64_t total = 0;
    for (uint32_t i = 0; i < vs->len; i++) {
        if (vs->v[i].power == 0 || vs->v[i].power >= EF_CVSET_TOTAL_LIMIT) return EF_ECONFIG;
        total += vs->v[i].power;
        if (total >= EF_CVSET_TOTAL_LIMIT) return EF_ECONFIG;
        for (uint32_t j = 0; j < i; j++)
            if (!memcmp(&vs->v[i].pub, &vs->v[j].pub, sizeof(ef_pub))) return EF_ECONFIG;
    }
    return 0;
}

int ef_cvset_index(const ef_vset *vs, const ef_pub *pub)
{
    for (uint32_t i = 0; i < vs->len && i < EF_VSET_MAX; i++)
        if (!memcmp(&vs->v[i].pub, pub, sizeof(ef_pub))) return (int)i;
    return -1;
}

uint64_t ef_cvset_total(const ef_vset *vs)
{
    uint64_t total = 0;
    for (uint32_t i = 0; i < vs->len && i < EF_VSET_MAX; i++) total += vs->v[i].power;
    return total;
}

bool ef_cvset_is_quorum(const ef_vset *vs, uint64_t power)
{
    /* power > 2/3 total  <=>  3 * power > 2 * total (no overflow below 2^62) */
    return 3 * power > 2 * ef_cvset_total(vs);
}

bool ef_cvset_is_third(const ef_vset *vs, uint64_t power)
{
    return 3 * power > ef_cvset_total(vs);
}

uint32_t ef_cvset_proposer(const ef_vset *vs, uint64_t height, uint32_t round)
{
    EF_ASSERT(vs->len > 0);
    return (uint32_t)((height + round) % vs->len);
}
