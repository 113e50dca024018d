/* ef_ledger.c: proposing, checking and committing blocks (see ef_ledger.h). The
 * top of the store: uses ef_exec.c, ef_store.c and ef_state.c (see the order in
 * ef_store_int.h). */
#include <stdlib.h>
#include <string.h>

#include "base/ef_codec.h"
#include "base/ef_log.h"
#include "base/ef_merkle.h"
#include "ledger/ef_store_int.h"

/* a header's next_vset_hash is computed before its block executes */
_Static_assert(EF_VSET_DELAY >= 2, "the set of height+1 must be fixed before block height runs");

void ef_ledger_abort_pending(ef_store *s)
{
    ef_store_pending_drop(s);
}

/* Starts a write transaction on the last committed block: reads its metadata and
 * the accumulator. */
static int ef_ledger_begin(ef_store *s, MDB_txn **txn, ef_store_info *info)
{
    if (s->failed) return EF_EIO;
    ef_ledger_abort_pending(s);
    int rc = ef_mdb_err(mdb_txn_begin(s->env, NULL, 0, txn));
    if (rc) return rc;
    rc = ef_store_meta_read(*txn, s, info);
    if (rc == 0 && !info->initialised) rc = EF_ESTATE;
    if (rc) {
        mdb_txn_abort(*txn);
        *txn = NULL;
    }
    return rc;
}

static bool ef_sig_known(const ef_ledger_hooks *hooks, const ef_hash *h)
{
    return hooks && hooks->sig_verified && hooks->sig_verified(hooks->arg, h);
}

/* Chain, names, sizes, and the signature unless the hooks vouch for it. */
static int ef_ledger_stateless(const ef_block_tx *bt, const char *chain_id, const ef_ledger_hooks *hooks)
{
    if (ef_sig_known(hooks, &bt->hash)) {
        if (strcmp(bt->tx.chain_id, chain_id)) return EF_ECHAIN;
        return 0;   /* it decoded, so names and sizes are fine */
    }
    return ef_tx_check_stateless(&bt->tx, chain_id, bt->enc, bt->len);
}

int ef_ledger_propose(ef_store *s, const ef_txbuf *cands, size_t n, uint64_t time_ms,
                      const ef_pub *proposer, const ef_ledger_hooks *hooks, int *status,
                      uint8_t **block_out, size_t *block_len)
{
    MDB_txn *txn = NULL;
    ef_store_info info;
    ef_block_header hdr;
    ef_vset vs;
    ef_block_tx *bts = NULL;
    ef_hash *tx_hashes = NULL, *res_hashes = NULL;
    ef_txbuf *inc = NULL;
    uint8_t acc[32];
    size_t ninc = 0;
    ef_wr w;
    int rc;
    *block_out = NULL;
    *block_len = 0;
    ef_wr_init(&w);
    if ((rc = ef_ledger_begin(s, &txn, &info))) return rc;
    memcpy(acc, info.state_hash.b, 32);

    memset(&hdr, 0, sizeof hdr);
    hdr.version = EF_BLOCK_VERSION;
    memcpy(hdr.chain_id, info.chain_id, sizeof hdr.chain_id);
    hdr.height = info.height + 1;
    hdr.time_ms = time_ms > info.last_time_ms ? time_ms : info.last_time_ms + 1;
    hdr.prev_hash = info.last_hash;
    hdr.proposer = *proposer;
    if ((rc = ef_state_vset(txn, s->db_state, hdr.height, &vs))) goto out;
    if (ef_vset_index(&vs, proposer) < 0) {
        rc = EF_ENOTVAL;
        goto out;
    }
    ef_vset_hash(&hdr.vset_hash, &vs);
    /* the set of height+1 is already fixed (EF_VSET_DELAY >= 2), whatever this
     * block's transactions schedule */
    if ((rc = ef_state_vset(txn, s->db_state, hdr.height + 1, &vs))) goto out;
    ef_vset_hash(&hdr.next_vset_hash, &vs);

    size_t cap = n < EF_BLOCK_TXS_MAX ? n : EF_BLOCK_TXS_MAX;
    if (cap) {
        bts = calloc(cap, sizeof *bts);
        tx_hashes = calloc(cap, sizeof *tx_hashes);
        res_hashes = calloc(cap, sizeof *res_hashes);
        inc = calloc(cap, sizeof *inc);
        if (!bts || !tx_hashes || !res_hashes || !inc) {
            rc = EF_ENOMEM;
            goto out;
        }
    }
    /* header, u32 count, then 4 + len per tx */
    size_t bytes = EF_BLOCK_HEADER_MAX + 4;
    for (size_t i = 0; i < n; i++) {
        int st;
        if (ninc == EF_BLOCK_TXS_MAX || bytes + 4 + cands[i].len > EF_BLOCK_BYTES_MAX) {
            st = EF_EFULL;
            goto next;
        }
        ef_block_tx *bt = &bts[ninc];
        bt->enc = cands[i].enc;
        bt->len = cands[i].len;
        if ((st = ef_tx_decode(&bt->tx, bt->enc, bt->len))) goto next;
        ef_tx_hash_enc(&bt->hash, bt->enc, bt->len);
        if ((st = ef_ledger_stateless(bt, hdr.chain_id, hooks))) goto next;
        st = ef_exec_tx(s, txn, &hdr, (uint32_t)ninc, bt, acc, &res_hashes[ninc]);
        if (st == EF_ENONCE || st == EF_ENOACCOUNT) goto next;
        if (st) {
            rc = st;   /* fatal storage error */
            goto out;
        }
        tx_hashes[ninc] = bt->hash;
        inc[ninc] = cands[i];
        bytes += 4 + cands[i].len;
        ninc++;
    next:
        if (status) status[i] = st;
    }
    ef_merkle_root(&hdr.txs_root, tx_hashes, ninc);
    ef_merkle_root(&hdr.results_root, res_hashes, ninc);
    memcpy(hdr.state_hash.b, acc, 32);
    if ((rc = ef_block_encode(&w, &hdr, inc, ninc))) goto out;
    *block_out = ef_wr_take(&w, block_len);
    if (!*block_out) {
        rc = EF_ENOMEM;
        goto out;
    }
    s->pending = txn;
    txn = NULL;
    ef_block_header_hash(&s->pending_hash, &hdr);
    s->pending_hdr = hdr;
out:
    if (txn) mdb_txn_abort(txn);
    free(bts);
    free(tx_hashes);
    free(res_hashes);
    free(inc);
    ef_wr_free(&w);
    return rc;
}

static int ef_ledger_check_int(ef_store *s, const uint8_t *block, size_t len,
                               const ef_ledger_hooks *hooks)
{
    MDB_txn *txn = NULL;
    ef_store_info info;
    ef_block b;
    ef_vset vs;
    ef_hash hash, root, *res_hashes = NULL;
    uint8_t acc[32];
    int rc;

    if ((rc = ef_block_decode(&b, block, len))) return rc;
    ef_block_header_hash(&hash, &b.hdr);
    if (s->pending && ef_hash_eq(&hash, &s->pending_hash)) {
        ef_block_free(&b);
        return 0;
    }
    if ((rc = ef_ledger_begin(s, &txn, &info))) goto out;
    memcpy(acc, info.state_hash.b, 32);
    const ef_block_header *h = &b.hdr;
    if (strcmp(h->chain_id, info.chain_id)) { rc = EF_ECHAIN; goto out; }
    if (h->height != info.height + 1) { rc = EF_EHEIGHT; goto out; }
    if (!ef_hash_eq(&h->prev_hash, &info.last_hash)) { rc = EF_EPREV; goto out; }
    if (h->time_ms <= info.last_time_ms) { rc = EF_ESTATE; goto out; }
    if ((rc = ef_state_vset(txn, s->db_state, h->height, &vs))) goto out;
    if (ef_vset_index(&vs, &h->proposer) < 0) { rc = EF_ENOTVAL; goto out; }
    ef_vset_hash(&root, &vs);
    if (!ef_hash_eq(&root, &h->vset_hash)) { rc = EF_EROOT; goto out; }
    if ((rc = ef_state_vset(txn, s->db_state, h->height + 1, &vs))) goto out;
    ef_vset_hash(&root, &vs);
    if (!ef_hash_eq(&root, &h->next_vset_hash)) { rc = EF_EROOT; goto out; }
    ef_block_txs_root(&root, &b);
    if (!ef_hash_eq(&root, &h->txs_root)) { rc = EF_EROOT; goto out; }
    if (b.txs_len) {
        res_hashes = malloc(b.txs_len * sizeof *res_hashes);
        if (!res_hashes) { rc = EF_ENOMEM; goto out; }
    }
    for (uint32_t i = 0; i < b.txs_len; i++) {
        if ((rc = ef_ledger_stateless(&b.txs[i], h->chain_id, hooks))) goto out;
        if ((rc = ef_exec_tx(s, txn, h, i, &b.txs[i], acc, &res_hashes[i]))) goto out;
    }
    ef_merkle_root(&root, res_hashes, b.txs_len);
    if (!ef_hash_eq(&root, &h->results_root)) { rc = EF_EROOT; goto out; }
    if (memcmp(acc, h->state_hash.b, 32)) { rc = EF_EROOT; goto out; }
    s->pending = txn;
    txn = NULL;
    s->pending_hash = hash;
    s->pending_hdr = b.hdr;
out:
    if (txn) mdb_txn_abort(txn);
    free(res_hashes);
    ef_block_free(&b);
    return rc;
}

int ef_ledger_check(ef_store *s, const uint8_t *block, size_t len, const ef_ledger_hooks *hooks)
{
    if (s->failed) return EF_EIO;
    return ef_ledger_check_int(s, block, len, hooks);
}

int ef_ledger_commit(ef_store *s, const uint8_t *block, size_t len,
                     const uint8_t *cert, size_t cert_len)
{
    return ef_ledger_commit_ex(s, block, len, cert, cert_len, NULL);
}

int ef_ledger_commit_ex(ef_store *s, const uint8_t *block, size_t len, const uint8_t *cert,
                        size_t cert_len, const ef_ledger_hooks *hooks)
{
    uint8_t k[8];
    int rc;
    if (s->failed) return EF_EIO;
    if (cert_len > EF_CERT_MAX || (!cert && cert_len)) return EF_ETOOBIG;
    if ((rc = ef_ledger_check_int(s, block, len, hooks))) return rc;
    EF_ASSERT(s->pending);
    MDB_txn *txn = s->pending;
    const ef_block_header *h = &s->pending_hdr;
    ef_be64(k, h->height);
    MDB_val key = {8, k}, val = {len, (void *)block};
    if ((rc = ef_mdb_err(mdb_put(txn, s->db_blocks, &key, &val, MDB_APPEND)))) goto fail;
    if (cert_len) {
        MDB_val cv = {cert_len, (void *)cert};
        if ((rc = ef_mdb_err(mdb_put(txn, s->db_certs, &key, &cv, 0)))) goto fail;
    }
    if ((rc = ef_store_meta_write(txn, s, h, &s->pending_hash, h->state_hash.b, NULL))) goto fail;
    s->pending = NULL;
    rc = mdb_txn_commit(txn);
    if (rc) {
        EF_LOGE("store", "commit of block %llu failed: %s", (unsigned long long)h->height,
                mdb_strerror(rc));
        s->failed = EF_EIO;
        return EF_EIO;
    }
    ef_hash hash = s->pending_hash;
    uint64_t height = h->height;
    memset(&s->pending_hash, 0, sizeof s->pending_hash);
    if (s->on_commit) s->on_commit(s->on_commit_arg, height, &hash);
    return 0;
fail:
    ef_ledger_abort_pending(s);
    return rc;
}
