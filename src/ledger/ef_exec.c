/* ef_exec.c: the execution context (ef_ctx.h) and the execution of one
 * transaction against the LMDB state, with the incremental state hash. */
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

/* term = BLAKE2b(EF_TAG_STATE || u32 key_len || key || value) */
void ef_state_term(uint8_t term[32], const uint8_t *key, size_t key_len,
                   const void *val, size_t val_len);
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

/* acc = acc + t (mod 2^256), little-endian */
void ef_acc_add(uint8_t *acc, const uint8_t *t);
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

/* Puts back every value the transaction changed, newest first. */
static int ef_ctx_rollback(ef_ctx *ctx)
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

static void ef_ctx_undo_free(ef_ctx *ctx)
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

const ef_contract *ef_store_contract(const ef_store *s, const char *name)
{
    for (size_t i = 0; i < s->contracts_len; i++)
        if (!strcmp(s->contracts[i]->name, name)) return s->contracts[i];
    return NULL;
}

/* --- the context --- */

void ef_ctx_setup(ef_ctx *ctx, ef_store *s, MDB_txn *txn, const ef_block_header *hdr,
                  uint8_t *acc, bool read_only)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->s = s;
    ctx->txn = txn;
    ctx->hdr = hdr;
    ctx->acc = acc;
    ctx->read_only = read_only;
}

void ef_ctx_cleanup(ef_ctx *ctx)
{
    free(ctx->vbuf);
    json_decref(ctx->events);
    ctx->vbuf = NULL;
    ctx->events = NULL;
}

const ef_pub *ef_ctx_sender(const ef_ctx *ctx) { return &ctx->sender; }
uint64_t ef_ctx_height(const ef_ctx *ctx) { return ctx->hdr->height; }
uint64_t ef_ctx_time_ms(const ef_ctx *ctx) { return ctx->hdr->time_ms; }
const ef_hash *ef_ctx_prev_hash(const ef_ctx *ctx) { return &ctx->hdr->prev_hash; }
const ef_hash *ef_ctx_tx_hash(const ef_ctx *ctx) { return &ctx->tx_hash; }
const char *ef_ctx_chain_id(const ef_ctx *ctx) { return ctx->hdr->chain_id; }
const char *ef_ctx_contract(const ef_ctx *ctx) { return ctx->contract; }
const char *ef_ctx_caller(const ef_ctx *ctx) { return ctx->caller; }
bool ef_ctx_read_only(const ef_ctx *ctx) { return ctx->read_only; }

static int ef_ctx_get_full(ef_ctx *ctx, const uint8_t *key, size_t key_len,
                           const uint8_t **val, size_t *val_len)
{
    MDB_val k = {key_len, (void *)key}, v;
    *val = NULL;
    *val_len = 0;
    int rc = mdb_get(ctx->txn, ctx->s->db_state, &k, &v);
    if (rc) return ef_mdb_err(rc);
    /* copy: LMDB's pointer may move under a later write in this transaction */
    if (v.mv_size + 1 > ctx->vcap) {
        size_t cap = v.mv_size + 1 < 256 ? 256 : v.mv_size + 1;
        uint8_t *b = realloc(ctx->vbuf, cap);
        if (!b) return EF_ENOMEM;
        ctx->vbuf = b;
        ctx->vcap = cap;
    }
    if (v.mv_size) memcpy(ctx->vbuf, v.mv_data, v.mv_size);
    ctx->vbuf[v.mv_size] = 0;   /* convenient for JSON text */
    *val = ctx->vbuf;
    *val_len = v.mv_size;
    return 0;
}

int ef_ctx_get_in(ef_ctx *ctx, const char *contract, const void *key, size_t key_len,
                  const uint8_t **val, size_t *val_len)
{
    uint8_t k[EF_STATE_KEY_MAX];
    *val = NULL;
    *val_len = 0;
    int n = ef_state_key(k, contract, key, key_len);
    if (n < 0) return EF_ELIMIT;
    return ef_ctx_get_full(ctx, k, (size_t)n, val, val_len);
}

int ef_ctx_get(ef_ctx *ctx, const void *key, size_t key_len, const uint8_t **val, size_t *val_len)
{
    return ef_ctx_get_in(ctx, ctx->contract, key, key_len, val, val_len);
}

static int ef_ctx_write(ef_ctx *ctx, const void *key, size_t key_len, const void *val, size_t val_len)
{
    uint8_t k[EF_STATE_KEY_MAX];
    if (ctx->read_only) return EF_EPERM;
    if (ctx->scanning) return EF_ESTATE;
    if (val && val_len > EF_CTX_VALUE_MAX) return EF_ELIMIT;
    if (ctx->writes >= EF_CTX_WRITES_MAX && !ctx->genesis) return EF_ELIMIT;
    int n = ef_state_key(k, ctx->contract, key, key_len);
    if (n < 0) return EF_ELIMIT;
    ctx->writes++;
    return ef_state_put_u(ctx, k, (size_t)n, val ? val : "", val_len);
}

int ef_ctx_put(ef_ctx *ctx, const void *key, size_t key_len, const void *val, size_t val_len)
{
    if (!val && val_len) return EF_EINVAL;
    return ef_ctx_write(ctx, key, key_len, val ? val : "", val_len);
}

int ef_ctx_del(ef_ctx *ctx, const void *key, size_t key_len)
{
    uint8_t k[EF_STATE_KEY_MAX];
    if (ctx->read_only) return EF_EPERM;
    if (ctx->scanning) return EF_ESTATE;
    if (ctx->writes >= EF_CTX_WRITES_MAX && !ctx->genesis) return EF_ELIMIT;
    int n = ef_state_key(k, ctx->contract, key, key_len);
    if (n < 0) return EF_ELIMIT;
    ctx->writes++;
    return ef_state_put_u(ctx, k, (size_t)n, NULL, 0);
}

int ef_ctx_scan(ef_ctx *ctx, const void *prefix, size_t prefix_len, ef_ctx_scan_fn fn, void *arg)
{
    uint8_t k[EF_STATE_KEY_MAX];
    MDB_cursor *c;
    MDB_val key, val;
    int n = ef_state_key(k, ctx->contract, prefix, prefix_len);
    if (n < 0) return EF_ELIMIT;
    size_t ns_len = strlen(ctx->contract) + 1;
    int rc = mdb_cursor_open(ctx->txn, ctx->s->db_state, &c);
    if (rc) return ef_mdb_err(rc);
    key.mv_size = (size_t)n;
    key.mv_data = k;
    bool was_scanning = ctx->scanning;
    ctx->scanning = true;
    rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
    while (rc == 0) {
        if (key.mv_size < (size_t)n || memcmp(key.mv_data, k, (size_t)n)) break;
        int r = fn(arg, (const uint8_t *)key.mv_data + ns_len, key.mv_size - ns_len,
                   val.mv_data, val.mv_size);
        if (r) {
            ctx->scanning = was_scanning;
            mdb_cursor_close(c);
            return r < 0 ? r : 0;
        }
        rc = mdb_cursor_get(c, &key, &val, MDB_NEXT);
    }
    ctx->scanning = was_scanning;
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : ef_mdb_err(rc);
}

int ef_ctx_get_json(ef_ctx *ctx, const char *key, json_t **out)
{
    const uint8_t *v;
    size_t n;
    *out = NULL;
    int rc = ef_ctx_get(ctx, key, strlen(key), &v, &n);
    if (rc) return rc;
    *out = json_loadb((const char *)v, n, 0, NULL);
    return *out ? 0 : EF_EDB;
}

int ef_ctx_put_json(ef_ctx *ctx, const char *key, const json_t *val)
{
    char *text = json_dumps(val, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (!text) return EF_ENOMEM;
    int rc = ef_ctx_put(ctx, key, strlen(key), text, strlen(text));
    free(text);
    return rc;
}

int ef_ctx_emit(ef_ctx *ctx, const char *name, const json_t *data)
{
    if (ctx->read_only || !ctx->events) return EF_EPERM;
    if (!json_is_object(data) || !ef_name_valid(name, EF_METHOD_NAME_MAX)) return EF_EINVAL;
    if (json_array_size(ctx->events) >= EF_CTX_EVENTS_MAX) return EF_ELIMIT;
    /* the size of data is checked when the events are serialized (ef_exec_tx) */
    /* a deep copy of data, so the caller may change it afterwards */
    json_t *ev = json_object(), *copy = json_deep_copy(data);
    if (!ev || !copy || json_object_set_new_nocheck(ev, "contract", json_string_nocheck(ctx->contract)) ||
        json_object_set_new_nocheck(ev, "name", json_string_nocheck(name)) ||
        json_object_set_new_nocheck(ev, "data", copy)) {
        if (!ev) json_decref(copy);
        json_decref(ev);
        return EF_ENOMEM;
    }
    if (json_array_append_new(ctx->events, ev)) return EF_ENOMEM;
    return 0;
}

int ef_ctx_call_as(ef_ctx *ctx, const char *name, int (*fn)(ef_ctx *, void *), void *arg)
{
    const ef_contract *c = ef_store_contract(ctx->s, name);
    if (!c) return EF_ENOCONTRACT;
    const char *saved_contract = ctx->contract, *saved_caller = ctx->caller;
    ctx->caller = ctx->contract;
    ctx->contract = c->name;
    int rc = fn(ctx, arg);
    ctx->contract = saved_contract;
    ctx->caller = saved_caller;
    return rc;
}

int ef_ctx_vset(ef_ctx *ctx, uint64_t height, ef_vset *out)
{
    return ef_state_vset(ctx->txn, ctx->s->db_state, height, out);
}

int ef_ctx_vset_schedule(ef_ctx *ctx, const ef_vset *vs)
{
    uint8_t k[EF_STATE_KEY_MAX], hb[8];
    if (ctx->read_only) return EF_EPERM;
    const ef_contract *c = ef_store_contract(ctx->s, ctx->contract);
    if (!c || !c->schedules_vset || ctx->caller) return EF_EPERM;
    if (!ef_vset_valid(vs)) return EF_EINVAL;
    if (ctx->writes >= EF_CTX_WRITES_MAX && !ctx->genesis) return EF_ELIMIT;
    ef_wr w;
    ef_wr_init(&w);
    int rc = ef_vset_encode(&w, vs);
    if (rc) goto out;
    ef_be64(hb, ctx->hdr->height + EF_VSET_DELAY);
    int n = ef_state_key(k, EF_NS_VSET, hb, 8);
    ctx->writes++;
    rc = ef_state_put_u(ctx, k, (size_t)n, w.buf, w.len);
out:
    ef_wr_free(&w);
    return rc;
}

/* --- argument helpers --- */

int ef_args_u64(const json_t *args, const char *field, uint64_t *out)
{
    json_t *v = json_object_get(args, field);
    *out = 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0) return EF_EARGS;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

int ef_args_str(const json_t *args, const char *field, const char **out, size_t max_len)
{
    json_t *v = json_object_get(args, field);
    *out = NULL;
    if (!json_is_string(v) || json_string_length(v) > max_len) return EF_EARGS;
    if (strlen(json_string_value(v)) != json_string_length(v)) return EF_EARGS; /* embedded NUL */
    *out = json_string_value(v);
    return 0;
}

int ef_args_pub(const json_t *args, const char *field, ef_pub *out)
{
    json_t *v = json_object_get(args, field);
    if (!json_is_string(v) || ef_unhex(out->b, EF_PUB_SIZE, json_string_value(v))) {
        memset(out, 0, sizeof *out);
        return EF_EARGS;
    }
    return 0;
}

int ef_args_hash(const json_t *args, const char *field, ef_hash *out)
{
    json_t *v = json_object_get(args, field);
    if (!json_is_string(v) || ef_unhex(out->b, EF_HASH_SIZE, json_string_value(v))) {
        memset(out, 0, sizeof *out);
        return EF_EARGS;
    }
    return 0;
}

int ef_args_only(const json_t *args, const char *const *fields)
{
    const char *key;
    json_t *v;
    if (!json_is_object(args)) return EF_EARGS;
    json_object_foreach((json_t *)args, key, v) {
        bool ok = false;
        for (size_t i = 0; fields[i]; i++)
            if (!strcmp(key, fields[i])) {
                ok = true;
                break;
            }
        if (!ok) return EF_EARGS;
    }
    return 0;
}

/* --- one transaction --- */

/* EF_ELIMIT if the data of an event is over EF_CTX_EVENT_DATA_MAX bytes (only
 * called when all events together are: the common case costs nothing). */
static int ef_events_check(const json_t *events)
{
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev) {
        size_t sz = json_dumpb(json_object_get(ev, "data"), NULL, 0, JSON_COMPACT | JSON_SORT_KEYS);
        if (sz == 0 || sz > EF_CTX_EVENT_DATA_MAX) return EF_ELIMIT;
    }
    return 0;
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
    ef_put_u64le(nv, next + 1);
    if ((rc = ef_state_put(txn, s->db_state, acc, nk, (size_t)nkl, nv, 8))) return rc;

    /* 2. the method; its writes are undone if it fails */
    uint8_t acc_before[32];
    memcpy(acc_before, acc, 32);
    int code;
    char *events = NULL;
    ef_ctx ctx;
    ef_ctx_setup(&ctx, s, txn, hdr, acc, false);
    const ef_contract *c = ef_store_contract(s, tx->contract);
    const ef_method *m = c ? ef_find_method(c, tx->method) : NULL;
    json_t *args = NULL;
    if (!c) {
        code = EF_ENOCONTRACT;
    } else if (!m) {
        code = EF_ENOMETHOD;
    } else if (!(args = json_loadb((const char *)tx->args, tx->args_len, JSON_REJECT_DUPLICATES, NULL)) ||
               !json_is_object(args)) {
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
            events = json_dumps(ctx.events, JSON_COMPACT | JSON_SORT_KEYS);
            if (!events) code = EF_ENOMEM;
            else if (strlen(events) > EF_CTX_EVENT_DATA_MAX) code = ef_events_check(ctx.events);
        }
        if (code && (rc = ef_ctx_rollback(&ctx))) {
            ef_ctx_undo_free(&ctx);
            json_decref(args);
            ef_ctx_cleanup(&ctx);
            return rc;
        }
        ef_ctx_undo_free(&ctx);
    }
    json_decref(args);
    ef_ctx_cleanup(&ctx);
    if (code) {
        /* ENOMEM or EDB inside a method would make nodes disagree: fatal */
        if (code == EF_ENOMEM || code == EF_EDB || code == EF_EIO) {
            free(events);
            return code;
        }
        memcpy(acc, acc_before, 32);
        free(events);
        events = NULL;
    }
    const char *ev = events ? events : "[]";
    size_t ev_len = strlen(ev);
    ef_result_hash(result_hash, code, ev, ev_len);

    /* 3. the result (appended: keys only grow) and the tx index entry */
    uint8_t rk[12], loc[12];
    ef_be64(rk, hdr->height);
    ef_be32(rk + 8, index);
    ef_put_u64le(loc, hdr->height);
    ef_put_u32le(loc + 8, index);
    ef_wr w;
    ef_wr_init(&w);
    ef_wr_i64(&w, code);
    ef_wr_bytes(&w, ev, ev_len);
    free(events);
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
    if (!rc && s->release_every && ++s->release_count >= s->release_every) {
        s->release_count = 0;
        (void)ef_store_release_pages(s);
    }
    return rc;
}
