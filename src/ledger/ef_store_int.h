/* ef_store_int.h: the store's internals, shared by ef_store.c, ef_exec.c and
 * ef_ledger.c only (not a public interface). */
#ifndef EF_STORE_INT_H
#define EF_STORE_INT_H

#include <lmdb.h>

#include "ledger/ef_ledger.h"
#include "ledger/ef_store.h"

#define EF_NS_NONCE "$n"
#define EF_NS_VSET "$v"
/* namespace (<= 16) + NUL + key (<= EF_CTX_KEY_MAX) */
#define EF_STATE_KEY_MAX (EF_CONTRACT_NAME_MAX + 1 + EF_CTX_KEY_MAX)

/* One undo record: the value a key had before a transaction's first write to it. */
typedef struct ef_undo {
    uint8_t key[EF_STATE_KEY_MAX];
    size_t key_len;
    bool existed;
    uint8_t *old;      /* malloc'd copy, old_len bytes */
    size_t old_len;
} ef_undo;

struct ef_store {
    MDB_env *env;
    MDB_dbi db_blocks, db_certs, db_txs, db_results, db_state, db_meta;
    const ef_contract *const *contracts;
    size_t contracts_len;
    bool no_sync;
    int failed;                 /* sticky: a commit failed; no more writes */
    /* the pending block: executed, not committed */
    MDB_txn *pending;
    ef_hash pending_hash;
    ef_block_header pending_hdr;
    ef_store_commit_fn on_commit;
    void *on_commit_arg;
    ef_undo *undo;              /* EF_CTX_WRITES_MAX records, reused by every tx */
    void *map_addr;             /* LMDB's map of data.mdb (found on first release_pages) */
    size_t map_len;
    size_t release_every;       /* ef_store_set_release_every; 0 = never */
    size_t release_count;       /* transactions indexed since the last release */
};

/* Execution context (ef_ctx.h). */
struct ef_ctx {
    ef_store *s;
    MDB_txn *txn;
    bool read_only;
    bool scanning;
    const ef_block_header *hdr;    /* height, time, chain, prev hash */
    ef_pub sender;
    ef_hash tx_hash;
    const char *contract;
    const char *caller;
    uint8_t *acc;                  /* state hash accumulator (32 bytes), NULL if read-only */
    unsigned writes;
    bool genesis;                  /* no per-transaction limits at genesis */
    /* undo log of this transaction's writes (a tx that fails is rolled back from
     * it; cheaper than an LMDB nested transaction, which allocates megabytes) */
    ef_undo *undo;                 /* NULL: no logging (genesis) */
    unsigned undo_len;
    json_t *events;                /* array of {"contract","name","data"}, or NULL */
    uint8_t *vbuf;                 /* copy of the last value read */
    size_t vcap;
};

int ef_mdb_err(int rc);
void ef_be64(uint8_t out[8], uint64_t v);
void ef_be32(uint8_t out[4], uint32_t v);
/* Builds ns '\0' key into out (EF_STATE_KEY_MAX); returns its length, or -1 if a part is too long. */
int ef_state_key(uint8_t *out, const char *ns, const void *key, size_t key_len);
/* Raw state access inside txn, maintaining acc (32 bytes). val NULL = delete. */
int ef_state_put(MDB_txn *txn, MDB_dbi db, uint8_t *acc, const uint8_t *key, size_t key_len,
                 const void *val, size_t val_len);
/* As ef_state_put, recording the old value in ctx's undo log if ctx->undo. */
int ef_state_put_u(ef_ctx *ctx, const uint8_t *key, size_t key_len, const void *val, size_t val_len);
/* vset effective at height inside txn. */
int ef_state_vset(MDB_txn *txn, MDB_dbi db, uint64_t height, ef_vset *out);
const ef_contract *ef_store_contract(const ef_store *s, const char *name);

void ef_ctx_setup(ef_ctx *ctx, ef_store *s, MDB_txn *txn, const ef_block_header *hdr,
                  uint8_t *acc, bool read_only);
void ef_ctx_cleanup(ef_ctx *ctx);

/* Executes one decoded transaction as position index of the block hdr in txn:
 * checks and consumes the nonce (EF_ENONCE, nothing changed, if wrong), runs the
 * method in a nested transaction, writes the tx index entry, and sets
 * *result_hash. Returns 0 (whatever the method returned), EF_ENONCE, or a fatal
 * EF_EDB/EF_ENOMEM. */
int ef_exec_tx(ef_store *s, MDB_txn *txn, const ef_block_header *hdr, uint32_t index,
               const ef_block_tx *bt, uint8_t acc[32], ef_hash *result_hash);

#endif
