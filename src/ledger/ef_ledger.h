/* ef_ledger.h: proposing, checking and committing blocks against the store.
 *
 * The node calls, for each height h = last committed + 1:
 *   - as proposer: ef_ledger_propose() to build a block from mempool candidates;
 *   - on receiving a proposal: ef_ledger_check() to validate it fully before voting;
 *   - once the consensus engine decides it: ef_ledger_commit() with its certificate.
 * Catch-up (blocks fetched from a peer) calls ef_ledger_commit() directly (it checks
 * the block itself; the caller verifies the certificate with the consensus code).
 *
 * Cost: executing a block happens once per node per block in the common case: a
 * block that propose built or check validated stays "pending" (an open LMDB write
 * transaction holding its state changes); committing the same block (same hash)
 * only adds the block, certificate and metadata and commits. Any other
 * propose/check/commit aborts the pending block and starts afresh. (ef_ledger_check
 * of the pending block itself returns 0 at once.)
 *
 * Execution of a transaction (in block order):
 *   1. nonce must equal the sender's next nonce (else the block is invalid:
 *      EF_ENONCE; propose skips such candidates);
 *   2. the sender must be an account (ef_ctx.h, "who may send"; else the block is
 *      invalid: EF_ENOACCOUNT; propose skips such candidates);
 *   3. the nonce is consumed;
 *   4. the contract's method runs; its writes are logged and undone if it fails,
 *      its events kept only if it returns 0; its code (0 or an ef_err) is the result.
 *   5. the result is stored (code and events) and the tx indexed by hash.
 *   Unknown contract or method fails the tx (EF_ENOCONTRACT, EF_ENOMETHOD), malformed
 *   args fail it (EF_EARGS): the tx is still included and its nonce consumed.
 *
 * Threading: all of these from the one writer thread (ef_store.h).
 */
#ifndef EF_LEDGER_H
#define EF_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ef_block.h"
#include "ledger/ef_store.h"
#include "ledger/ef_tx.h"

typedef struct ef_ledger_hooks {
    /* If set and it returns true for a tx hash, that transaction's signature is
     * taken as already verified (e.g. by the mempool) and is not checked again. */
    bool (*sig_verified)(void *arg, const ef_hash *tx_hash);
    void *arg;
} ef_ledger_hooks;

/* Builds the next block from candidates (encoded txs, in the order to try) on top of
 * the last committed block. Candidates that do not decode, fail the stateless
 * check (signature verified unless hooks say so) or carry a nonce other than the
 * sender's next (counting earlier candidates in this block) are skipped; the rest
 * are executed and included until EF_BLOCK_TXS_MAX or EF_BLOCK_BYTES_MAX is
 * reached. time_ms is raised to parent time + 1 if it is not above it.
 *   status: NULL or n entries, set per candidate to 0 (included), EF_EFULL (block
 *           full, try again later), EF_ENONCE (nonce gap: later; or replay: drop,
 *           compare with ef_store_nonce), EF_ENOACCOUNT (the sender may not send:
 *           drop), or the decoding/stateless error (drop).
 *   *block_out: malloc'd block encoding (caller frees), *block_len its size.
 * The built block becomes the pending block. Returns 0, EF_ESTATE (no genesis),
 * EF_ENOTVAL (proposer not in the set for this height), EF_EDB/EF_EIO/EF_ENOMEM. */
int ef_ledger_propose(ef_store *s, const ef_txbuf *cands, size_t n, uint64_t time_ms,
                      const ef_pub *proposer, const ef_ledger_hooks *hooks, int *status,
                      uint8_t **block_out, size_t *block_len);

/* Fully validates a proposed next block: decoding, chain id (EF_ECHAIN), height =
 * last + 1 (EF_EHEIGHT), prev hash (EF_EPREV), time above the parent's (EF_ESTATE),
 * proposer in the validator set of that height (EF_ENOTVAL), vset_hash and
 * next_vset_hash (the sets of height and height+1; EF_EROOT),
 * each tx's stateless check (EF_EBADSIG, ...), nonce (EF_ENONCE) and sender
 * account (EF_ENOACCOUNT), txs_root,
 * results_root and state_hash recomputed by execution (EF_EROOT). Returns 0 if
 * valid (the block becomes pending), or the first error. Changes no durable state. */
EF_MUST_USE int ef_ledger_check(ef_store *s, const uint8_t *block, size_t len,
                                const ef_ledger_hooks *hooks);

/* Commits the next block and its certificate (cert may be NULL/0 for tests and the
 * local demo; at most EF_CERT_MAX bytes): if it is the pending block this is cheap,
 * otherwise it is fully checked first (signatures included) as ef_ledger_check.
 * The block, the certificate, every state change, tx index entries, nonces and
 * metadata commit in ONE synced LMDB transaction. Returns 0 or the check's error,
 * or EF_EDB / EF_EIO (then the store is sticky-failed). Calls the on-commit hook. */
int ef_ledger_commit(ef_store *s, const uint8_t *block, size_t len,
                     const uint8_t *cert, size_t cert_len);

/* As ef_ledger_commit, with hooks for the case where the block is not the pending
 * one (e.g. a catch-up block, or a proposal of an earlier round): signatures the
 * hooks vouch for are not verified again. hooks may be NULL. */
int ef_ledger_commit_ex(ef_store *s, const uint8_t *block, size_t len, const uint8_t *cert,
                        size_t cert_len, const ef_ledger_hooks *hooks);

/* Drops the pending block, if any (e.g. when a round fails). */
void ef_ledger_abort_pending(ef_store *s);

#endif
