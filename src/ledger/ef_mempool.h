/* ef_mempool.h: the pool of transactions waiting for a block.
 *
 * Admission (ef_mempool_add) decodes a transaction, checks it without state
 * (chain id, names, sizes, and the Ed25519 signature: verified here once, so a
 * block holding a pooled transaction skips re-verifying it, see
 * ef_mempool_sig_verified), then against the sender's next nonce from the
 * ledger: a nonce below it is a replay (EF_ENONCE), a nonce more than
 * EF_MEMPOOL_NONCE_AHEAD above it is refused (EF_ENONCE), a transaction already
 * pooled, or a second one for the same sender and nonce, is a duplicate (EF_EDUP).
 * The pool is bounded by count and bytes (EF_EFULL when either would be passed).
 *
 * Reaping (ef_mempool_reap) returns candidates for a proposal: for each sender,
 * in order of the sender's first waiting transaction, the run of its transactions
 * with consecutive nonces from its next nonce; bounded by count and bytes.
 *
 * After a block commits, ef_mempool_committed removes its transactions and
 * re-checks the senders it touched: their next nonce advances and any pooled
 * transaction below it (a replay of a committed nonce) is dropped.
 *
 * Threading: one thread (the node's loop). Ownership: the pool copies admitted
 * encodings; reaped ef_txbuf entries borrow them until the next call that changes
 * the pool.
 */
#ifndef EF_MEMPOOL_H
#define EF_MEMPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/ef_crypto.h"
#include "ledger/ef_block.h"
#include "ledger/ef_tx.h"

#define EF_MEMPOOL_COUNT_DEFAULT 50000
#define EF_MEMPOOL_BYTES_DEFAULT (32u << 20)
#define EF_MEMPOOL_NONCE_AHEAD 1024      /* nonces accepted beyond the next one */

typedef struct ef_mempool ef_mempool;

/* The sender's next nonce from the committed state (ef_store_nonce). */
typedef int (*ef_mempool_nonce_fn)(void *arg, const ef_pub *sender, uint64_t *next);

typedef struct ef_mempool_cfg {
    const char *chain_id;         /* copied */
    size_t count_max;             /* 0 = EF_MEMPOOL_COUNT_DEFAULT */
    size_t bytes_max;             /* 0 = EF_MEMPOOL_BYTES_DEFAULT (encoded bytes) */
    ef_mempool_nonce_fn nonce;
    void *nonce_arg;
    /* Optional: called when a pooled transaction leaves without being committed
     * because a block consumed its nonce (reason EF_ENONCE: another transaction of
     * the sender with that nonce committed). Not called for ef_mempool_remove. */
    void (*on_drop)(void *arg, const ef_hash *tx_hash, int reason);
    void *drop_arg;
} ef_mempool_cfg;

typedef struct ef_mempool_stats {
    size_t count, bytes, senders;
    uint64_t added, rejected, removed_committed, removed_stale, verified;
} ef_mempool_stats;

/* Returns 0, EF_EINVAL (bad chain id), EF_ENOMEM. */
int ef_mempool_new(ef_mempool **out, const ef_mempool_cfg *cfg);
void ef_mempool_free(ef_mempool *mp);

/* Admits one encoded transaction (copied). *hash_out (may be NULL) gets its hash
 * even on failure if it decoded. Returns 0, a decoding error, EF_ECHAIN,
 * EF_EINVAL, EF_ETOOBIG, EF_EBADSIG, EF_ENONCE, EF_EDUP, EF_EFULL, EF_ENOMEM, or
 * the nonce callback's error. */
int ef_mempool_add(ef_mempool *mp, const uint8_t *enc, size_t len, ef_hash *hash_out);

/* true if the transaction with this hash is pooled (its signature was verified on
 * admission). Used as ef_ledger_hooks.sig_verified. */
bool ef_mempool_sig_verified(void *mp, const ef_hash *tx_hash);
/* true if pooled. */
bool ef_mempool_has(const ef_mempool *mp, const ef_hash *tx_hash);

/* Fills out[0..max_count) with candidates (borrowed), at most max_bytes encoded
 * bytes in all. Returns the number filled. */
size_t ef_mempool_reap(ef_mempool *mp, ef_txbuf *out, size_t max_count, size_t max_bytes);

/* Removes the block's transactions and re-checks the senders it touched. */
void ef_mempool_committed(ef_mempool *mp, const ef_block *b);
/* Drops one transaction (e.g. the ledger refused it for good). 0 or EF_ENOTFOUND. */
int ef_mempool_remove(ef_mempool *mp, const ef_hash *tx_hash);

void ef_mempool_get_stats(const ef_mempool *mp, ef_mempool_stats *out);
size_t ef_mempool_count(const ef_mempool *mp);

#endif
