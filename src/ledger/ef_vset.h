/* ef_vset.h: the validator set: who signs blocks at a height, with what voting power.
 *
 * A set is a list of (public key, power) sorted by public key (memcmp order),
 * without duplicates, with 1..EF_VSET_MAX entries and each power in
 * 1..EF_VSET_POWER_MAX (so the total always fits in a uint64_t). The ledger reads
 * it from the registry contract (ef_store_vset); the consensus engine uses it to
 * count votes. A block header carries ef_vset_hash() of the set that signs it.
 *
 * Encoding (canonical, see ef_codec.h):
 *
 *   offset   size   meaning
 *   0        4      u32 len, 1..EF_VSET_MAX
 *   4        40*len len entries, each: raw[32] public key, u64 power
 *
 * Decoding rejects len 0 or > EF_VSET_MAX (EF_EINVAL / EF_ETOOBIG), keys not in
 * strictly ascending order (EF_ENONCANON) and powers out of range (EF_EINVAL).
 *
 * Threading: plain values; no shared state.
 */
#ifndef EF_VSET_H
#define EF_VSET_H

#include <stdbool.h>
#include <stdint.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"

#define EF_VSET_MAX 128
/* a change decided in block h takes effect at height h + EF_VSET_DELAY */
#define EF_VSET_DELAY 2
#define EF_VSET_POWER_MAX (UINT64_C(1) << 48)
#define EF_VSET_ENC_MAX (4 + EF_VSET_MAX * (EF_PUB_SIZE + 8))

typedef struct {
    ef_pub pub;
    uint64_t power;
} ef_validator;

typedef struct {
    uint32_t len;
    ef_validator v[EF_VSET_MAX];
} ef_vset;

/* Empties vs. */
void ef_vset_init(ef_vset *vs);
/* Inserts pub with power, keeping the order. Returns 0, EF_EDUP if pub is there,
 * EF_EFULL if the set has EF_VSET_MAX entries, EF_EINVAL if power is 0 or over
 * EF_VSET_POWER_MAX. */
int ef_vset_add(ef_vset *vs, const ef_pub *pub, uint64_t power);
/* Removes pub. Returns 0 or EF_ENOTFOUND. */
int ef_vset_remove(ef_vset *vs, const ef_pub *pub);
/* Position of pub in vs->v, or -1 if absent (binary search). */
int ef_vset_index(const ef_vset *vs, const ef_pub *pub);
/* Sum of the powers. */
uint64_t ef_vset_total_power(const ef_vset *vs);
/* The smallest power strictly more than 2/3 of the total: floor(2T/3) + 1. A
 * set of votes is a quorum when its power is >= this. */
uint64_t ef_vset_quorum(const ef_vset *vs);
/* true if vs obeys the rules above (sorted, unique, bounded, non-empty). */
bool ef_vset_valid(const ef_vset *vs);
/* out = BLAKE2b(EF_TAG_VSET || encoding). vs must be valid. */
void ef_vset_hash(ef_hash *out, const ef_vset *vs);
/* Appends the encoding. Returns 0, EF_EINVAL if vs is not valid, or the writer's error. */
int ef_vset_encode(ef_wr *w, const ef_vset *vs);
/* Reads one set (the caller calls ef_rd_finish if the set is the whole input).
 * On failure *vs is emptied and the reader's error returned. */
int ef_vset_decode(ef_rd *r, ef_vset *vs);

#endif
