/* ef_merkle.c: RFC 6962-shaped Merkle trees and inclusion proofs. */
#include "ef_merkle.h"

#include <string.h>

#include "ef_codec.h"

static size_t ef_merkle_split(size_t n)
{
    size_t k = 1;
    while (k << 1 < n) k <<= 1;
    return k;
}

static void ef_merkle_leaf(ef_hash *out, const ef_hash *item)
{
    ef_hash_tagged(out, EF_TAG_MERKLE_LEAF, item->b, EF_HASH_SIZE);
}

static void ef_merkle_subtree(ef_hash *out, const ef_hash *items, size_t n)
{
    EF_ASSERT(n > 0);
    if (n == 1) {
        ef_merkle_leaf(out, items);
        return;
    }
    size_t k = ef_merkle_split(n);
    ef_hash l, r;
    ef_merkle_subtree(&l, items, k);
    ef_merkle_subtree(&r, items + k, n - k);
    ef_hash_pair(out, EF_TAG_MERKLE_NODE, &l, &r);
}

void ef_merkle_root(ef_hash *root, const ef_hash *items, size_t n)
{
    if (n == 0) {
        memset(root, 0, sizeof *root);
        return;
    }
    ef_merkle_subtree(root, items, n);
}

/* Appends the path of items[m] within items[0..n) to proof, root level last. */
static void ef_merkle_path(ef_merkle_proof *proof, const ef_hash *items, size_t n, size_t m)
{
    if (n <= 1) return;
    size_t k = ef_merkle_split(n);
    ef_hash sib;
    if (m < k) {
        ef_merkle_path(proof, items, k, m);
        ef_merkle_subtree(&sib, items + k, n - k);
    } else {
        ef_merkle_path(proof, items + k, n - k, m - k);
        ef_merkle_subtree(&sib, items, k);
    }
    EF_ASSERT(proof->len < EF_MERKLE_DEPTH_MAX);
    proof->path[proof->len++] = sib;
}

int ef_merkle_prove(ef_merkle_proof *proof, const ef_hash *items, size_t n, size_t index)
{
    memset(proof, 0, sizeof *proof);
    if (index >= n) return EF_EINVAL;
    proof->index = index;
    proof->count = n;
    ef_merkle_path(proof, items, n, index);
    return 0;
}

bool ef_merkle_verify(const ef_hash *root, const ef_hash *item, const ef_merkle_proof *proof)
{
    if (proof->count == 0 || proof->index >= proof->count || proof->len > EF_MERKLE_DEPTH_MAX)
        return false;
    uint64_t fn = proof->index, sn = proof->count - 1;
    ef_hash r;
    ef_merkle_leaf(&r, item);
    for (uint32_t i = 0; i < proof->len; i++) {
        if (sn == 0) return false;
        if ((fn & 1) || fn == sn) {
            ef_hash_pair(&r, EF_TAG_MERKLE_NODE, &proof->path[i], &r);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            ef_hash_pair(&r, EF_TAG_MERKLE_NODE, &r, &proof->path[i]);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && ef_hash_eq(&r, root);
}

int ef_merkle_proof_encode(ef_wr *w, const ef_merkle_proof *proof)
{
    ef_wr_u64(w, proof->index);
    ef_wr_u64(w, proof->count);
    ef_wr_u32(w, proof->len);
    for (uint32_t i = 0; i < proof->len; i++) ef_wr_raw(w, proof->path[i].b, EF_HASH_SIZE);
    return w->err;
}

int ef_merkle_proof_decode(ef_rd *r, ef_merkle_proof *proof)
{
    memset(proof, 0, sizeof *proof);
    ef_rd_u64(r, &proof->index);
    ef_rd_u64(r, &proof->count);
    ef_rd_u32(r, &proof->len);
    if (r->err) return r->err;
    if (proof->len > EF_MERKLE_DEPTH_MAX) return ef_rd_fail(r, EF_ETOOBIG);
    for (uint32_t i = 0; i < proof->len; i++) ef_rd_raw(r, proof->path[i].b, EF_HASH_SIZE);
    return r->err;
}
