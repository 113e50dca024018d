/* ef_state.h: the bottom of the store (internal, ledger only): state keys, the
 * state-hash accumulator, raw puts with the undo log, the validator set in
 * state, the store's metadata, and LMDB helpers. Calls no other file of the
 * store (see the order in ef_store_int.h). The layout of the state and meta
 * tables and the definition of the state hash are in ef_store.h. */
#ifndef EF_STATE_H
#define EF_STATE_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ef_block.h"
#include "ledger/ef_ctx.h"
#include "ledger/ef_store.h"
#include "ledger/ef_vset.h"

#define EF_NS_NONCE "$n"
#define EF_NS_VSET "$v"
/* namespace (<= 16) + NUL + key (<= EF_CTX_KEY_MAX) */
#define EF_STATE_KEY_MAX (EF_CONTRACT_NAME_MAX + 1 + EF_CTX_KEY_MAX)

/* --- LMDB and key encoding helpers --- */
/* An LMDB return code as an ef_err (MDB_NOTFOUND is EF_ENOTFOUND, MDB_MAP_FULL EF_EFULL). */
int ef_mdb_err(int rc);
/* Big-endian, so that LMDB's byte order of keys is numeric order. */
void ef_be64(uint8_t out[8], uint64_t v);
void ef_be32(uint8_t out[4], uint32_t v);
/* Builds ns '\0' key into out (EF_STATE_KEY_MAX); returns its length, or -1 if a part is too long. */
int ef_state_key(uint8_t *out, const char *ns, const void *key, size_t key_len);

/* --- the state-hash accumulator --- */
/* term = BLAKE2b(EF_TAG_STATE || u32 key_len || key || val): (key, val)'s term in the state hash. */
void ef_state_term(uint8_t term[32], const uint8_t *key, size_t key_len,
                   const void *val, size_t val_len);
/* acc = acc + t (mod 2^256), both 32-byte little-endian integers. */
void ef_acc_add(uint8_t *acc, const uint8_t *t);

/* --- raw state access and the undo log --- */
/* Raw state access inside txn, maintaining acc (32 bytes). val NULL = delete. */
int ef_state_put(MDB_txn *txn, MDB_dbi db, uint8_t *acc, const uint8_t *key, size_t key_len,
                 const void *val, size_t val_len);
/* As ef_state_put on ctx's txn and accumulator, recording the old value in ctx's
 * undo log if ctx->undo (only a key's first write in the transaction). */
int ef_state_put_u(ef_ctx *ctx, const uint8_t *key, size_t key_len, const void *val, size_t val_len);
/* Puts back every value ctx's undo log recorded, newest first (the accumulator is
 * not touched: the caller restores it). Returns 0 or the first LMDB error. */
int ef_state_rollback(ef_ctx *ctx);
/* Frees the undo log's copies and empties it. */
void ef_state_undo_free(ef_ctx *ctx);

/* --- the validator set in state --- */
/* vset effective at height inside txn. Returns 0, EF_ENOTFOUND, or EF_EDB. */
int ef_state_vset(MDB_txn *txn, MDB_dbi db, uint64_t height, ef_vset *out);

/* --- the store's metadata (the "meta" table, see ef_store.h) --- */
/* Reads field name, exactly n bytes, into out: 0, EF_ENOTFOUND, or EF_EDB. */
int ef_store_meta_get(MDB_txn *txn, ef_store *s, const char *name, void *out, size_t n);
/* Reads the metadata in txn (out->initialised false before genesis). */
int ef_store_meta_read(MDB_txn *txn, ef_store *s, ef_store_info *out);
/* Writes the metadata for a newly committed block (genesis_hash NULL: keep it). */
int ef_store_meta_write(MDB_txn *txn, ef_store *s, const ef_block_header *h, const ef_hash *hash,
                        const uint8_t acc[32], const ef_hash *genesis_hash);

#endif
