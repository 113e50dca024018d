/* ef_mempool.h: the pool of transactions waiting for a block.
 *
 * Admission (ef_mempool_add) decodes a transaction, checks it without state
 * (chain id, names, sizes, and the Ed25519 signature: verified here once, so a
 * block holding a pooled transaction skips re-verifying it, see
 * ef_mempool_sig_verified), then against the committed state and the pool, in
 * this order (each refusal changes nothing):
 *   - EF_EDUP: the transaction is pooled already, or another one with the same
 *     sender and nonce;
 *   - EF_ENONCE: its nonce is below the sender's next nonce (a replay);
 *   - EF_EGAP: its nonce is more than gap_max above the sender's first missing
 *     nonce (the committed next nonce plus the run of consecutive nonces pooled
 *     from it);
 *   - EF_EQUOTA: the sender already has sender_max transactions pooled;
 *   - EF_ENOACCOUNT: the sender may not send (the account callback: the chain's
 *     rule, ef_ctx.h "who may send", which execution applies too);
 *   - EF_EFULL: the pool is at count_max or bytes_max, see "full" below.
 *
 * Ready and gapped: a pooled transaction is ready if its nonce continues the
 * sender's run from its committed next nonce (a block could take it now), gapped
 * otherwise (it waits for a missing nonce).
 *
 * Full: a ready transaction that finds the pool full evicts gapped ones, oldest
 * first, until it fits (each evicted one leaves with on_drop reason EF_EEVICTED);
 * if all the gapped ones together would not make room it is refused (EF_EFULL)
 * and nothing is evicted. A gapped transaction never evicts anything, and a ready
 * one is never evicted.
 *
 * Age: a transaction pooled for ttl_ms leaves (on_drop reason EF_EEXPIRED), ready
 * or gapped; checked on every add and commit and by ef_mempool_expire.
 *
 * Reaping (ef_mempool_reap) returns candidates for a proposal: for each sender,
 * in order of the sender's first waiting transaction, its ready transactions;
 * bounded by count and bytes.
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
#define EF_MEMPOOL_SENDER_DEFAULT 64       /* transactions pooled per sender */
#define EF_MEMPOOL_GAP_DEFAULT 16          /* nonces beyond the first missing one */
#define EF_MEMPOOL_TTL_MS_DEFAULT 120000   /* time a transaction may stay pooled */

typedef struct ef_mempool ef_mempool;

/* The sender's next nonce from the committed state (ef_store_nonce). */
typedef int (*ef_mempool_nonce_fn)(void *arg, const ef_pub *sender, uint64_t *next);
/* Whether the sender may send, on the committed state (ef_store_account): 0,
 * EF_ENOACCOUNT, or an error (refuses the transaction with it). */
typedef int (*ef_mempool_account_fn)(void *arg, const ef_pub *sender);
/* A monotonic clock in milliseconds. */
typedef uint64_t (*ef_mempool_clock_fn)(void *arg);

typedef struct ef_mempool_cfg {
    const char *chain_id;         /* copied */
    size_t count_max;             /* 0 = EF_MEMPOOL_COUNT_DEFAULT */
    size_t bytes_max;             /* 0 = EF_MEMPOOL_BYTES_DEFAULT (encoded bytes) */
    ef_mempool_nonce_fn nonce;
    void *nonce_arg;
    /* Optional: called when a pooled transaction leaves without being committed:
     * reason EF_ENONCE (another transaction of the sender with that nonce
     * committed), EF_EEXPIRED (older than ttl_ms), EF_EEVICTED (gapped, evicted
     * from the full pool for a ready one). Not called for ef_mempool_remove. */
    void (*on_drop)(void *arg, const ef_hash *tx_hash, int reason);
    void *drop_arg;
    /* Optional (NULL: every sender may send): asked once per sender, when the
     * sender has nothing pooled. */
    ef_mempool_account_fn account;
    void *account_arg;
    size_t sender_max;            /* 0 = EF_MEMPOOL_SENDER_DEFAULT */
    uint64_t gap_max;             /* 0 = EF_MEMPOOL_GAP_DEFAULT */
    uint64_t ttl_ms;              /* 0 = EF_MEMPOOL_TTL_MS_DEFAULT */
    ef_mempool_clock_fn now_ms;   /* NULL = ef_now_mono_us() / 1000 */
    void *clock_arg;
} ef_mempool_cfg;

typedef struct ef_mempool_stats {
    size_t count, bytes, senders, gapped;   /* gapped: of count, not ready */
    uint64_t added, rejected, removed_committed, removed_stale, verified;
    uint64_t expired, evicted;
} ef_mempool_stats;

/* Returns 0, EF_EINVAL (bad chain id), EF_ENOMEM. */
int ef_mempool_new(ef_mempool **out, const ef_mempool_cfg *cfg);
void ef_mempool_free(ef_mempool *mp);

/* Admits one encoded transaction (copied). *hash_out (may be NULL) gets its hash
 * even on failure if it decoded. Returns 0, a decoding error, EF_ECHAIN,
 * EF_EINVAL, EF_ETOOBIG, EF_EBADSIG, EF_ENONCE, EF_EGAP, EF_EQUOTA,
 * EF_ENOACCOUNT, EF_EDUP, EF_EFULL, EF_ENOMEM, or a callback's error. */
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

/* Drops the transactions older than ttl_ms (on_drop EF_EEXPIRED); returns how many. */
size_t ef_mempool_expire(ef_mempool *mp);

void ef_mempool_get_stats(const ef_mempool *mp, ef_mempool_stats *out);
size_t ef_mempool_count(const ef_mempool *mp);

#endif
