/* fz_vset.h: the fixed four-validator set (seeds 0x40..0x43, power 1) the consensus fuzz targets share. */
#ifndef EF_FZ_VSET_H
#define EF_FZ_VSET_H

#include <string.h>

#include "base/ef_crypto.h"
#include "consensus/ef_cvset.h"

static inline void fz_vset4(ef_vset *vs)
{
    vs->len = 4;
    for (int i = 0; i < 4; i++) {
        uint8_t seed[EF_SEED_SIZE];
        ef_keypair kp;
        memset(seed, 0x40 + i, sizeof seed);
        ef_keypair_from_seed(&kp, seed);
        vs->v[i].pub = kp.pub;
        vs->v[i].power = 1;
    }
}

#endif
