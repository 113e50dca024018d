/* ef_cvset.h: the validator set as the consensus engine sees it (type from the ledger). */
#ifndef EF_CVSET_H
#define EF_CVSET_H

#include <stdbool.h>
#include <stdint.h>

#include "base/ef_crypto.h"
#include "ledger/ef_vset.h"   /* the type itself belongs to the ledger */

/* Helpers the engine, the certificate check and the simulator share. Pure
 * functions; thread-safe. Powers are summed in 64 bits; a set whose total power
 * overflows (or is zero) is rejected by ef_cvset_check. */

/* 0 if vs is usable by consensus: 1 <= len <= EF_VSET_MAX, every power > 0, no
 * duplicate key, total power fits (< 2^62). EF_ECONFIG otherwise. */
int ef_cvset_check(const ef_vset *vs);
/* Index of pub in vs, or -1. */
int ef_cvset_index(const ef_vset *vs, const ef_pub *pub);
uint64_t ef_cvset_total(const ef_vset *vs);
/* true if power is a quorum: strictly more than 2/3 of the total (2f+1 of 3f+1). */
bool ef_cvset_is_quorum(const ef_vset *vs, uint64_t power);
/* true if power is more than 1/3 of the total (f+1 of 3f+1: at least one honest). */
bool ef_cvset_is_third(const ef_vset *vs, uint64_t power);
/* Round-robin proposer of (height, round): index (height + round) mod len. */
uint32_t ef_cvset_proposer(const ef_vset *vs, uint64_t height, uint32_t round);

#endif
