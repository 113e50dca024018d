/* ef_block.h: block headers, blocks, transaction results, and their hashes.
 *
 * Header encoding (canonical, see ef_codec.h):
 *
 *   offset   size   meaning
 *   0        2      u16 version = EF_BLOCK_VERSION
 *   2        4+c    str chain_id (as in ef_tx.h)
 *   6+c      8      u64 height (0 = genesis)
 *   14+c     8      u64 time_ms, Unix milliseconds, strictly above the parent's
 *   22+c     32     raw prev_hash: hash of block height-1 (zero for genesis)
 *   54+c     32     raw txs_root: Merkle root (ef_merkle.h) of the tx hashes, in order
 *   86+c     32     raw results_root: Merkle root of each tx's result hash
 *   118+c    32     raw state_hash: the state after this block (ef_store.h says how)
 *   150+c    32     raw vset_hash: ef_vset_hash of the set that signs this block
 *   182+c    32     raw next_vset_hash: ef_vset_hash of the set that signs block
 *                   height+1 (known when this block is built: a change decided
 *                   in block h takes effect at h + EF_VSET_DELAY >= h + 2)
 *   214+c    32     raw proposer public key (zero for genesis)
 *   total 246 + c bytes
 *
 * next_vset_hash lets a light client (the anchor contract, ef_anchor.h) that
 * trusts the set of height h learn, from the certified header h alone, the set of
 * h+1: a committee rotation is proven by the header of the height before it.
 * Version 2 added it (version 1 headers, 214 + c bytes, are not read).
 *
 * block hash = BLAKE2b(EF_TAG_BLOCK || header encoding). The header commits to
 * the transactions through txs_root, so the hash covers the whole block.
 *
 * Block encoding: the header, then
 *
 *   4        u32 n, 0..EF_BLOCK_TXS_MAX
 *   n x      bytes: one full transaction encoding (ef_tx.h), each <= EF_TX_ENC_MAX
 *
 * and the whole block is at most EF_BLOCK_BYTES_MAX bytes.
 *
 * Result of a transaction: its code (0 or a negative ef_err; a failed tx changed no
 * state but consumed its nonce) and its events, the JSON array
 * [{"contract":C,"name":N,"data":{...}},...] ([] on failure), hashed in its
 * canonical binary encoding (base/ef_cjson.h), never as JSON text:
 * result hash = BLAKE2b(EF_TAG_RESULT || i64 code || bytes events), events being
 * ef_cj_encode(array); no events is the 5 bytes 05 00 00 00 00
 * (docs/consensus-bytes.md).
 *
 * The commit certificate of a block is stored next to it as opaque bytes (at most
 * EF_CERT_MAX); the consensus engine defines and verifies it.
 *
 * Ownership: ef_block_decode borrows from the encoding (tx args and enc point into
 * it) and allocates the tx array; free with ef_block_free. Threading: plain values.
 */
#ifndef EF_BLOCK_H
#define EF_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "ledger/ef_tx.h"

#define EF_BLOCK_VERSION 2
#define EF_BLOCK_TXS_MAX 4096
#define EF_BLOCK_BYTES_MAX (4u << 20)
#define EF_BLOCK_HEADER_MAX (246 + EF_CHAIN_ID_MAX)
#define EF_CERT_MAX (64u << 10)
/* the canonical encoding of a tx's events: array head, and per event at most its
 * data plus the object head, three keys, the contract and method names */
#define EF_EVENTS_ENC_MAX (5 + EF_CTX_EVENTS_MAX * (EF_CTX_EVENT_DATA_MAX + 128))

typedef struct ef_block_header {
    uint16_t version;
    char chain_id[EF_CHAIN_ID_MAX + 1];
    uint64_t height;
    uint64_t time_ms;
    ef_hash prev_hash;
    ef_hash txs_root;
    ef_hash results_root;
    ef_hash state_hash;
    ef_hash vset_hash;
    ef_hash next_vset_hash;
    ef_pub proposer;
} ef_block_header;

typedef struct ef_block_tx {
    ef_tx tx;              /* decoded; args borrowed from the block encoding */
    const uint8_t *enc;    /* the tx's full encoding, borrowed */
    size_t len;
    ef_hash hash;          /* ef_tx_hash_enc(enc) */
} ef_block_tx;

typedef struct ef_block {
    ef_block_header hdr;
    uint32_t txs_len;
    ef_block_tx *txs;      /* owned: txs_len entries */
} ef_block;

int ef_block_header_encode(ef_wr *w, const ef_block_header *h);
/* Reads a header (no finish). Rejects a wrong version (EF_EINVAL) or chain id. */
int ef_block_header_decode_rd(ef_rd *r, ef_block_header *h);
/* Decodes a header occupying all of p[0..n). */
int ef_block_header_decode(ef_block_header *h, const uint8_t *p, size_t n);
/* out = BLAKE2b(EF_TAG_BLOCK || header encoding). */
void ef_block_header_hash(ef_hash *out, const ef_block_header *h);
/* The hash of an encoded block (its header prefix), without a full decode.
 * Returns 0 or a decoding error (out zeroed). */
int ef_block_hash_enc(ef_hash *out, const uint8_t *p, size_t n);

/* Appends header + txs. Returns 0, EF_ETOOBIG over EF_BLOCK_TXS_MAX or
 * EF_BLOCK_BYTES_MAX, EF_EINVAL for a bad header, or the writer's error. */
int ef_block_encode(ef_wr *w, const ef_block_header *h, const ef_txbuf *txs, size_t n);
/* Decodes a whole block; every tx must decode canonically (not verified: no
 * signatures, roots or state are checked here). On failure *b is empty. */
int ef_block_decode(ef_block *b, const uint8_t *p, size_t n);
void ef_block_free(ef_block *b);

/* Merkle root of the tx hashes of b. */
void ef_block_txs_root(ef_hash *out, const ef_block *b);
/* out = BLAKE2b(EF_TAG_RESULT || i64 code || bytes events), events the canonical
 * encoding (ef_cjson.h) of the tx's events array. */
void ef_result_hash(ef_hash *out, int code, const uint8_t *events, size_t events_len);

/* JSON view of a header (hashes in hex, plus "hash"). New reference or NULL. */
json_t *ef_block_header_to_json(const ef_block_header *h);

#endif
