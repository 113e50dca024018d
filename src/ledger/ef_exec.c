/* ef_exec.c: the execution of one transaction of a block against the LMDB state:
 * nonce, sender account, method (rolled back from the undo log if it fails),
 * result and index entry. Uses ef_state.c, ef_ctx.c and ef_store.c (see the order in ef_store_int.h). */
#include <stdlib.h>
#include <string.h>

#include "base/ef_cjson.h"
#include "base/ef_codec.h"
#include "ledger/ef_store_int.h"

/* EF_ELIMIT if the canonical encoding of the data of an event is over
 * EF_CTX_EVENT_DATA_MAX bytes (only called when all events together are: the
 * common case costs nothing). */
static int ef_events_check(const json_t *events)
{
    size_t i;
    json_t *ev;
    ef_wr w;
    ef_wr_init(&w);
    w.max = EF_CTX_EVENT_DATA_MAX;
    int rc = 0;
    json_array_foreach(events, i, ev) {
        ef_wr_reset(&w);
        rc = ef_cj_encode(&w, json_object_get(ev, "data"));
        if (rc) break;
    }
    ef_wr_free(&w);
    return rc == EF_ETOOBIG ? EF_ELIMIT : rc;
}

static const ef_method *ef_find_method(const ef_contract *c, const char *name)
{
    for (size_t i = 0; i < c->methods_len; i++)
        if (!strcmp(c->methods[i].name, name)) return &c->methods[i];
    return NULL;
}

int ef_exec_tx(ef_store *s, MDB_txn *txn, const ef_block_header *hdr, uint32_t index,
               const ef_block_tx *bt, uint8_t acc[32], ef_hash *result_hash)
{
    const ef_tx *tx = &bt->tx;
    uint8_t nk[EF_STATE_KEY_MAX], nv[8];
    MDB_val k, v;
    int rc;

    /* 1. nonce */
    int nkl = ef_state_key(nk, EF_NS_NONCE, tx->sender.b, EF_PUB_SIZE);
    k.mv_size = (size_t)nkl;
    k.mv_data = nk;
    uint64_t next = 0;
    rc = mdb_get(txn, s->db_state, &k, &v);
    if (rc == 0) {
        if (v.mv_size != 8) return EF_EDB;
        next = ef_get_u64le(v.mv_data);
    } else if (rc != MDB_NOTFOUND) {
        return ef_mdb_err(rc);
    }
    if (tx->nonce != next) return EF_ENONCE;
    /* the sender must be an account (ef_ctx.h, "who may send") */
    if ((rc = ef_ctx_account(s, txn, hdr, &tx->sender))) return rc;
    ef_put_u64le(nv, next + 1);
    if ((rc = ef_state_put(txn, s->db_state, acc, nk, (size_t)nkl, nv, 8))) return rc;

    /* 2. the method; its writes are undone if it fails */
    uint8_t acc_before[32];
    memcpy(acc_before, acc, 32);
    int code;
    ef_wr events;   /* the canonical encoding of the events (ef_block.h) */
    ef_wr_init(&events);
    ef_ctx ctx;
    ef_ctx_setup(&ctx, s, txn, hdr, acc, false);
    ctx.on_reads = ef_store_trim;
    const ef_contract *c = ef_store_contract(s, tx->contract);
    const ef_method *m = c ? ef_find_method(c, tx->method) : NULL;
    json_t *args = NULL;
    if (!c) {
        code = EF_ENOCONTRACT;
    } else if (!m) {
        code = EF_ENOMETHOD;
    } else if (ef_tx_args_parse(tx, &args)) {
        code = EF_EARGS;
    } else {
        ctx.sender = tx->sender;
        ctx.tx_hash = bt->hash;
        ctx.contract = c->name;
        ctx.events = json_array();
        ctx.undo = s->undo;
        if (!ctx.events) {
            code = EF_ENOMEM;
        } else {
            code = m->fn(&ctx, args);
            if (code > 0) code = EF_EINVAL;   /* methods return 0 or a negative code */
        }
        if (code == 0) {
            events.max = EF_EVENTS_ENC_MAX;
            code = ef_cj_encode(&events, ctx.events);
            if (code == EF_ETOOBIG) code = EF_ELIMIT;
            else if (code == 0 && events.len > EF_CTX_EVENT_DATA_MAX) code = ef_events_check(ctx.events);
        }
        if (code && (rc = ef_state_rollback(&ctx))) {
            ef_state_undo_free(&ctx);
            json_decref(args);
            ef_ctx_cleanup(&ctx);
            ef_wr_free(&events);
            return rc;
        }
        ef_state_undo_free(&ctx);
    }
    json_decref(args);
    ef_ctx_cleanup(&ctx);
    if (code) {
        /* ENOMEM or EDB inside a method would make nodes disagree: fatal */
        if (code == EF_ENOMEM || code == EF_EDB || code == EF_EIO) {
            ef_wr_free(&events);
            return code;
        }
        memcpy(acc, acc_before, 32);
        /* a failed tx has no events: the empty array */
        ef_wr_reset(&events);
        events.max = 0;
        ef_wr_u8(&events, EF_CJ_ARRAY);
        ef_wr_u32(&events, 0);
    }
    if (events.err) {
        rc = events.err;
        ef_wr_free(&events);
        return rc;
    }
    ef_result_hash(result_hash, code, events.buf, events.len);

    /* 3. the result (appended: keys only grow) and the tx index entry */
    uint8_t rk[12], loc[12];
    ef_be64(rk, hdr->height);
    ef_be32(rk + 8, index);
    ef_put_u64le(loc, hdr->height);
    ef_put_u32le(loc + 8, index);
    ef_wr w;
    ef_wr_init(&w);
    ef_wr_i64(&w, code);
    ef_wr_bytes(&w, events.buf, events.len);
    ef_wr_free(&events);
    if (w.err) {
        rc = w.err;
        ef_wr_free(&w);
        return rc;
    }
    k.mv_size = sizeof rk;
    k.mv_data = rk;
    v.mv_size = w.len;
    v.mv_data = w.buf;
    rc = ef_mdb_err(mdb_put(txn, s->db_results, &k, &v, MDB_APPEND));
    ef_wr_free(&w);
    if (rc) return rc;
    k.mv_size = EF_HASH_SIZE;
    k.mv_data = (void *)bt->hash.b;
    v.mv_size = sizeof loc;
    v.mv_data = loc;
    rc = ef_mdb_err(mdb_put(txn, s->db_txs, &k, &v, 0));
    /* index inserts land on random leaves: keep the map's resident part bounded */
    if (!rc) (void)ef_store_trim(s);
    return rc;
}
