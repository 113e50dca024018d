/* ef_state.c: state keys, the state-hash accumulator, raw puts and the undo log,
 * the validator set in state, and the store's metadata (see ef_state.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/ef_codec.h"
#include "ledger/ef_store_int.h"

int ef_mdb_err(int rc)
{
    switch (rc) {
    case 0: return 0;
    case MDB_NOTFOUND: return EF_ENOTFOUND;
    case MDB_MAP_FULL: return EF_EFULL;
    case ENOMEM: return EF_ENOMEM;
    case EIO: return EF_EIO;
    default: return EF_EDB;
    }
}

void ef_be64(uint8_t out[8], uint64_t v)
{
    for (int i = 0; i < 8; i++) out[i] = (uint8_t)(v >> (56 - 8 * i));
}

void ef_be32(uint8_t out[4], uint32_t v)
{
    for (int i = 0; i < 4; i++) out[i] = (uint8_t)(v >> (24 - 8 * i));
}

int ef_state_key(uint8_t *out, const char *ns, const void *key, size_t key_len)
{
    size_t n = strlen(ns);
    if (n > EF_CONTRACT_NAME_MAX || key_len > EF_CTX_KEY_MAX) return -1;
    memcpy(out, ns, n);
    out[n] = 0;
    if (key_len) memcpy(out + n + 1, key, key_len);
    return (int)(n + 1 + key_len);
}

void ef_state_term(uint8_t term[32], const uint8_t *key, size_t key_len,
                   const void *val, size_t val_len)
{
    ef_hasher h;
    ef_hash out;
    uint8_t kl[4];
    ef_put_u32le(kl, (uint32_t)key_len);
    ef_hasher_init(&h, EF_TAG_STATE);
    ef_hasher_update(&h, kl, 4);
    ef_hasher_update(&h, key, key_len);
    ef_hasher_update(&h, val, val_len);
    ef_hasher_final(&h, &out);
    memcpy(term, out.b, 32);
}

void ef_acc_add(uint8_t *acc, const uint8_t *t)
{
    unsigned c = 0;
    for (int i = 0; i < 32; i++) {
        c += (unsigned)acc[i] + t[i];
        acc[i] = (uint8_t)c;
        c >>= 8;
    }
}

/* acc = acc - t (mod 2^256) */
static void ef_acc_sub(uint8_t *acc, const uint8_t *t)
{
    int b = 0;
    for (int i = 0; i < 32; i++) {
        int d = (int)acc[i] - t[i] - b;
        b = d < 0;
        acc[i] = (uint8_t)(d + (b ? 256 : 0));
    }
}

static int ef_state_put_int(MDB_txn *txn, MDB_dbi db, uint8_t *acc, const uint8_t *key, size_t key_len,
                            const void *val, size_t val_len, ef_ctx *ctx)
{
    MDB_val k = {key_len, (void *)key}, old;
    uint8_t term[32];
    int rc = mdb_get(txn, db, &k, &old);
    if (rc != 0 && rc != MDB_NOTFOUND) return ef_mdb_err(rc);
    if (ctx && ctx->undo) {
        /* log only the first write of a key in this transaction */
        bool seen = false;
        for (unsigned i = 0; i < ctx->undo_len && !seen; i++)
            seen = ctx->undo[i].key_len == key_len && !memcmp(ctx->undo[i].key, key, key_len);
        if (!seen) {
            EF_ASSERT(ctx->undo_len < EF_CTX_WRITES_MAX);
            ef_undo *u = &ctx->undo[ctx->undo_len];
            memcpy(u->key, key, key_len);
            u->key_len = key_len;
            u->existed = rc == 0;
            u->old = NULL;
            u->old_len = 0;
            if (rc == 0) {
                u->old = malloc(old.mv_size ? old.mv_size : 1);
                if (!u->old) return EF_ENOMEM;
                memcpy(u->old, old.mv_data, old.mv_size);
                u->old_len = old.mv_size;
            }
            ctx->undo_len++;
        }
    }
    if (rc == 0) {
        ef_state_term(term, key, key_len, old.mv_data, old.mv_size);
        ef_acc_sub(acc, term);
    }
    if (!val) {
        if (rc == MDB_NOTFOUND) return 0;
        return ef_mdb_err(mdb_del(txn, db, &k, NULL));
    }
    MDB_val v = {val_len, (void *)val};
    rc = mdb_put(txn, db, &k, &v, 0);
    if (rc) return ef_mdb_err(rc);
    ef_state_term(term, key, key_len, val, val_len);
    ef_acc_add(acc, term);
    return 0;
}

int ef_state_put(MDB_txn *txn, MDB_dbi db, uint8_t *acc, const uint8_t *key, size_t key_len,
                 const void *val, size_t val_len)
{
    return ef_state_put_int(txn, db, acc, key, key_len, val, val_len, NULL);
}

int ef_state_put_u(ef_ctx *ctx, const uint8_t *key, size_t key_len, const void *val, size_t val_len)
{
    return ef_state_put_int(ctx->txn, ctx->s->db_state, ctx->acc, key, key_len, val, val_len, ctx);
}

int ef_state_rollback(ef_ctx *ctx)
{
    int rc = 0;
    for (unsigned i = ctx->undo_len; i-- > 0;) {
        ef_undo *u = &ctx->undo[i];
        MDB_val k = {u->key_len, u->key}, v = {u->old_len, u->old};
        int r = u->existed ? mdb_put(ctx->txn, ctx->s->db_state, &k, &v, 0)
                           : mdb_del(ctx->txn, ctx->s->db_state, &k, NULL);
        if (r && r != MDB_NOTFOUND && !rc) rc = ef_mdb_err(r);
    }
    return rc;
}

void ef_state_undo_free(ef_ctx *ctx)
{
    for (unsigned i = 0; i < ctx->undo_len; i++) free(ctx->undo[i].old);
    ctx->undo_len = 0;
}

int ef_state_vset(MDB_txn *txn, MDB_dbi db, uint64_t height, ef_vset *out)
{
    uint8_t key[EF_STATE_KEY_MAX], hb[8];
    MDB_cursor *c;
    MDB_val k, v;
    int plen = (int)sizeof EF_NS_VSET;   /* "$v" + NUL */
    out->len = 0;
    int rc = mdb_cursor_open(txn, db, &c);
    if (rc) return ef_mdb_err(rc);
    /* the first key after height, then one back */
    int n;
    if (height == UINT64_MAX) {
        n = plen;
        memcpy(key, EF_NS_VSET, (size_t)plen);
        key[plen] = 0xff;
        n = plen + 1;
    } else {
        ef_be64(hb, height + 1);
        n = ef_state_key(key, EF_NS_VSET, hb, 8);
    }
    k.mv_size = (size_t)n;
    k.mv_data = key;
    rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    if (rc == 0) rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
    else if (rc == MDB_NOTFOUND) rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
    if (rc) goto out;
    if (k.mv_size != (size_t)plen + 8 || memcmp(k.mv_data, EF_NS_VSET, (size_t)plen)) {
        rc = MDB_NOTFOUND;
        goto out;
    }
    ef_rd r;
    ef_rd_init(&r, v.mv_data, v.mv_size);
    ef_vset_decode(&r, out);
    if (ef_rd_finish(&r)) {
        mdb_cursor_close(c);
        return EF_EDB;
    }
out:
    mdb_cursor_close(c);
    return ef_mdb_err(rc);
}

/* --- metadata --- */

int ef_store_meta_get(MDB_txn *txn, ef_store *s, const char *name, void *out, size_t n)
{
    MDB_val k = {strlen(name), (void *)name}, v;
    int rc = mdb_get(txn, s->db_meta, &k, &v);
    if (rc) return ef_mdb_err(rc);
    if (v.mv_size != n) return EF_EDB;
    memcpy(out, v.mv_data, n);
    return 0;
}

int ef_store_meta_read(MDB_txn *txn, ef_store *s, ef_store_info *out)
{
    uint8_t b8[8];
    memset(out, 0, sizeof *out);
    int rc = ef_store_meta_get(txn, s, "height", b8, 8);
    if (rc == EF_ENOTFOUND) return 0;   /* not initialised */
    if (rc) return rc;
    out->height = ef_get_u64le(b8);
    if ((rc = ef_store_meta_get(txn, s, "time", b8, 8))) return rc;
    out->last_time_ms = ef_get_u64le(b8);
    if ((rc = ef_store_meta_get(txn, s, "hash", out->last_hash.b, EF_HASH_SIZE))) return rc;
    if ((rc = ef_store_meta_get(txn, s, "state", out->state_hash.b, EF_HASH_SIZE))) return rc;
    if ((rc = ef_store_meta_get(txn, s, "genesis", out->genesis_hash.b, EF_HASH_SIZE))) return rc;
    MDB_val k = {5, "chain"}, v;
    if ((rc = mdb_get(txn, s->db_meta, &k, &v))) return ef_mdb_err(rc);
    if (v.mv_size == 0 || v.mv_size > EF_CHAIN_ID_MAX) return EF_EDB;
    memcpy(out->chain_id, v.mv_data, v.mv_size);
    out->chain_id[v.mv_size] = 0;
    out->initialised = true;
    return 0;
}

int ef_store_meta_write(MDB_txn *txn, ef_store *s, const ef_block_header *h, const ef_hash *hash,
                        const uint8_t acc[32], const ef_hash *genesis_hash)
{
    uint8_t hb[8], tb[8];
    ef_put_u64le(hb, h->height);
    ef_put_u64le(tb, h->time_ms);
    struct { const char *k; const void *v; size_t n; } f[] = {
        {"height", hb, 8}, {"time", tb, 8}, {"hash", hash->b, EF_HASH_SIZE},
        {"state", acc, 32}, {"chain", h->chain_id, strlen(h->chain_id)},
        {"genesis", genesis_hash ? genesis_hash->b : NULL, EF_HASH_SIZE},
    };
    for (size_t i = 0; i < EF_ARRAY_LEN(f); i++) {
        if (!f[i].v) continue;
        MDB_val k = {strlen(f[i].k), (void *)f[i].k}, v = {f[i].n, (void *)f[i].v};
        int rc = mdb_put(txn, s->db_meta, &k, &v, 0);
        if (rc) return ef_mdb_err(rc);
    }
    return 0;
}
