/* ef_ctx.c: the execution context (ef_ctx.h): what a contract's method sees and
 * how it reads and writes state, the contract table lookup, and the argument
 * helpers. Uses only ef_state.c (see the order in ef_store_int.h). */
#include <stdlib.h>
#include <string.h>

#include "base/ef_cjson.h"
#include "base/ef_codec.h"
#include "base/ef_jcfg.h"
#include "ledger/ef_store_int.h"

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

int ef_ctx_account(ef_store *s, MDB_txn *txn, const ef_block_header *hdr, const ef_pub *pub)
{
    bool ruled = false;
    for (size_t i = 0; i < s->contracts_len; i++) {
        const ef_contract *c = s->contracts[i];
        if (!c->account) continue;
        ruled = true;
        ef_ctx ctx;
        ef_ctx_setup(&ctx, s, txn, hdr, NULL, true);
        ctx.contract = c->name;
        ctx.sender = *pub;
        int rc = c->account(&ctx, pub);
        ef_ctx_cleanup(&ctx);
        if (rc == 0) return 0;
        if (rc != EF_ENOTFOUND) return rc > 0 ? EF_EINVAL : rc;
    }
    return ruled ? EF_ENOACCOUNT : 0;
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

/* Every EF_CTX_TRIM_READS state reads, ctx->on_reads (the store's ef_store_trim)
 * holds the map's resident pages to the store's budget: one query or transaction
 * that reads thousands of records (a device's match list) would otherwise fault in
 * tens of MB of the map before the next trim after a transaction or a commit. */
#define EF_CTX_TRIM_READS 64

static void ef_ctx_note_read(ef_ctx *ctx)
{
    if (++ctx->reads % EF_CTX_TRIM_READS == 0 && ctx->on_reads) (void)ctx->on_reads(ctx->s);
}

static int ef_ctx_get_full(ef_ctx *ctx, const uint8_t *key, size_t key_len,
                           const uint8_t **val, size_t *val_len)
{
    MDB_val k = {key_len, (void *)key}, v;
    *val = NULL;
    *val_len = 0;
    ef_ctx_note_read(ctx);
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
        ef_ctx_note_read(ctx);
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
    rc = ef_cj_decode(out, v, n);
    if (rc == EF_ENOMEM) return rc;
    return rc ? EF_EDB : 0;   /* not a canonical JSON value: the store is damaged */
}

int ef_ctx_put_json(ef_ctx *ctx, const char *key, const json_t *val)
{
    ef_wr w;
    ef_wr_init(&w);
    w.max = EF_CTX_VALUE_MAX;
    int rc = ef_cj_encode(&w, val);
    if (rc == EF_ETOOBIG) rc = EF_ELIMIT;
    if (rc == 0) rc = ef_ctx_put(ctx, key, strlen(key), w.buf, w.len);
    ef_wr_free(&w);
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
    *out = 0;
    return ef_jcfg_u64(args, field, true, 0, EF_JCFG_INT_MAX, out, NULL, 0) ? EF_EARGS : 0;
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
    return ef_jcfg_only(args, fields, NULL, 0) ? EF_EARGS : 0;
}
