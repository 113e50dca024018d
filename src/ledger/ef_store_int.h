/* ef_store_int.h: the store's internals (not a public interface): the store and
 * context structs, and the declarations the store's files share.
 *
 * The store is five files; each calls only the files below it (checked with nm,
 * no cycle):
 *
 *   ef_ledger.c   propose, check, commit blocks        -> exec, store, state
 *   ef_exec.c     execute one transaction              -> ctx, store, state
 *   ef_store.c    open/close, genesis, reads           -> ctx, state
 *   ef_ctx.c      the execution context, args helpers  -> state
 *   ef_state.c    state keys and hash, puts and undo,  (none)
 *                 vset in state, metadata (ef_state.h)
 */
#ifndef EF_STORE_INT_H
#define EF_STORE_INT_H

#include <lmdb.h>
#include <stdatomic.h>

#include "ledger/ef_ledger.h"
#include "ledger/ef_state.h"
#include "ledger/ef_store.h"

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
    size_t resident_budget;     /* ef_store_set_resident_budget; 0 = never trim */
    int statm_fd;               /* /proc/self/statm, or -1 */
    _Atomic unsigned long resident_floor; /* file-backed resident bytes after the last release */
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
    unsigned reads;                /* state reads, for on_reads */
    /* called every EF_CTX_TRIM_READS state reads when set (the store holds its map's
     * resident pages to a budget with it: ef_store_trim) */
    bool (*on_reads)(ef_store *s);
    bool genesis;                  /* no per-transaction limits at genesis */
    /* undo log of this transaction's writes (a tx that fails is rolled back from
     * it; cheaper than an LMDB nested transaction, which allocates megabytes) */
    ef_undo *undo;                 /* NULL: no logging (genesis) */
    unsigned undo_len;
    json_t *events;                /* array of {"contract","name","data"}, or NULL */
    uint8_t *vbuf;                 /* copy of the last value read */
    size_t vcap;
};

/* --- ef_ctx.c --- */
/* The contract called name in s's table, or NULL. */
const ef_contract *ef_store_contract(const ef_store *s, const char *name);
/* A context on txn for a block with header hdr (acc NULL when read_only). The caller
 * then sets what the call needs (contract, sender, events, undo, ...). */
void ef_ctx_setup(ef_ctx *ctx, ef_store *s, MDB_txn *txn, const ef_block_header *hdr,
                  uint8_t *acc, bool read_only);
/* Frees the context's value buffer and events (not the undo log). */
void ef_ctx_cleanup(ef_ctx *ctx);
/* The rule "who may send" (ef_ctx.h) for pub on the state of txn as the block
 * hdr sees it: 0 (may send), EF_ENOACCOUNT, or a storage error. */
int ef_ctx_account(ef_store *s, MDB_txn *txn, const ef_block_header *hdr, const ef_pub *pub);

/* --- ef_store.c --- */
/* Aborts the pending block's write transaction, if any (ef_ledger_abort_pending). */
void ef_store_pending_drop(ef_store *s);

/* --- ef_exec.c --- */
/* Executes one decoded transaction as position index of the block hdr in txn:
 * checks and consumes the nonce (EF_ENONCE, nothing changed, if wrong), checks
 * that the sender may send (EF_ENOACCOUNT, nothing changed, if not), runs the
 * method with its writes logged in the store's undo log (rolled back, and acc
 * restored, if it fails), writes the result and the tx index entry, and sets
 * *result_hash. Returns 0 (whatever the method returned), EF_ENONCE,
 * EF_ENOACCOUNT, or a fatal
 * storage error (EF_EDB, EF_EFULL, EF_EIO, EF_ENOMEM; also when the method
 * returned EF_EDB, EF_EIO or EF_ENOMEM, which would make nodes disagree). */
int ef_exec_tx(ef_store *s, MDB_txn *txn, const ef_block_header *hdr, uint32_t index,
               const ef_block_tx *bt, uint8_t acc[32], ef_hash *result_hash);

#endif
