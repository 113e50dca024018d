/* fz_tx1.h: the contract fuzz targets' way to run one input: contract.method(args)
 * from kp as the only transaction of a block, committed without a certificate. */
#ifndef EF_FZ_TX1_H
#define EF_FZ_TX1_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ef_err.h"
#include "ledger/ef_ledger.h"
#include "ledger/ef_store.h"
#include "ledger/ef_tx.h"

/* Returns the transaction's result code, or 1 if args are over EF_TX_ARGS_MAX
 * (not a transaction at all). If the block builder refuses the transaction as
 * not executable, nothing is committed, *refused holds its status and that
 * status is returned. */
static inline int fz_tx1(ef_store *s, const char *chain, const ef_keypair *kp, const ef_pub *proposer,
                         uint64_t time_ms, const char *contract, const char *method, const char *args, int *refused)
{
    *refused = 0;
    ef_tx tx;
    memset(&tx, 0, sizeof tx);
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", chain);
    EF_ASSERT(ef_store_nonce(s, &kp->pub, &tx.nonce) == 0);
    snprintf(tx.contract, sizeof tx.contract, "%s", contract);
    snprintf(tx.method, sizeof tx.method, "%s", method);
    tx.args = (const uint8_t *)args;
    tx.args_len = strlen(args);
    if (tx.args_len > EF_TX_ARGS_MAX) return 1;
    uint8_t *enc;
    size_t len;
    EF_ASSERT(ef_tx_seal(&tx, kp, &enc, &len) == 0);
    ef_txbuf c = {.enc = enc, .len = len};
    int st = 0;
    uint8_t *blk = NULL;
    size_t blen;
    EF_ASSERT(ef_ledger_propose(s, &c, 1, time_ms, proposer, NULL, &st, &blk, &blen) == 0);
    if (st) {
        ef_ledger_abort_pending(s);
        free(blk);
        free(enc);
        *refused = st;
        return st;
    }
    EF_ASSERT(ef_ledger_commit(s, blk, blen, NULL, 0) == 0);
    free(blk);
    ef_hash h;
    ef_tx_hash_enc(&h, enc, len);
    free(enc);
    ef_tx_loc loc;
    EF_ASSERT(ef_store_tx_lookup(s, &h, &loc) == 0);
    free(loc.events_json);
    return loc.code;
}

#endif
