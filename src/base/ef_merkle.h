/* ef_merkle.h: Merkle trees over a list of hashes, with inclusion proofs.
 *
 * The tree shape is RFC 6962's (split at the largest power of two below n), so
 * no leaf is duplicated and no two lists share a root. Leaves and inner nodes are
 * domain-separated: leaf = H(EF_TAG_MERKLE_LEAF || item), node = H(EF_TAG_MERKLE_NODE
 * || left || right). The root of an empty list is the all-zero hash.
 */
#ifndef EF_MERKLE_H
#define EF_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ef_crypto.h"

#define EF_MERKLE_DEPTH_MAX 48   /* 2^48 leaves is far past any block */

typedef struct ef_merkle_proof {
    uint64_t index;                     /* leaf position */
    uint64_t count;                     /* leaves in the tree */
    uint32_t len;                       /* number of sibling hashes */
    ef_hash path[EF_MERKLE_DEPTH_MAX];  /* siblings, leaf level first */
} ef_merkle_proof;

/* root of items[0..n). */
void ef_merkle_root(ef_hash *root, const ef_hash *items, size_t n);
/* Proof that items[index] is in the tree of items[0..n). EF_EINVAL if index >= n. */
int ef_merkle_prove(ef_merkle_proof *proof, const ef_hash *items, size_t n, size_t index);
/* true only if item is at proof->index of a tree of proof->count items with this root. */
EF_MUST_USE bool ef_merkle_verify(const ef_hash *root, const ef_hash *item,
                                  const ef_merkle_proof *proof);

/* Encoding: u64 index, u64 count, u32 len, len x raw[32]. */
struct ef_wr;
struct ef_rd;
int ef_merkle_proof_encode(struct ef_wr *w, const ef_merkle_proof *proof);
int ef_merkle_proof_decode(struct ef_rd *r, ef_merkle_proof *proof);

#endif
