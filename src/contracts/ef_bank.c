/* ef_bank.c: the bank contract: balances, transfers, escrows (see ef_bank.h). */
#include "contracts/ef_bank.h"

#include <stdlib.h>
#include <string.h>

#include "base/ef_codec.h"

/* State (namespace "bank"):
 *   "b" + raw[32] pub     -> u64 balance (absent = 0; removed at 0)
 *   "supply"              -> u64 money created at genesis
 *   "locked"              -> u64 money held in escrows
 *   "next_escrow"         -> u64 next escrow id (ids start at 1)
 *   "e" + u64 BE id       -> escrow: str owner contract, raw[32] payer,
 *                            raw[32] payee (zero: none), u64 amount, u64 left
 * Invariant: sum of balances + locked == supply. */

#define EF_BANK_NAME "bank"

typedef struct ef_escrow {
    char owner[EF_CONTRACT_NAME_MAX + 1];
    ef_pub payer;
    ef_pub payee;
    uint64_t amount;
    uint64_t left;
} ef_escrow;

static int ef_bank_u64_get(ef_ctx *ctx, const void *key, size_t key_len, uint64_t *out)
{
    const uint8_t *v;
    size_t n;
    *out = 0;
    int rc = ef_ctx_get_in(ctx, EF_BANK_NAME, key, key_len, &v, &n);
    if (rc == EF_ENOTFOUND) return 0;
    if (rc) return rc;
    if (n != 8) return EF_EDB;
    *out = ef_get_u64le(v);
    return 0;
}

/* ctx must be in the bank's namespace */
static int ef_bank_u64_put(ef_ctx *ctx, const void *key, size_t key_len, uint64_t v)
{
    uint8_t b[8];
    if (v == 0) return ef_ctx_del(ctx, key, key_len);
    ef_put_u64le(b, v);
    return ef_ctx_put(ctx, key, key_len, b, 8);
}

static void ef_bank_bal_key(uint8_t key[1 + EF_PUB_SIZE], const ef_pub *pub)
{
    key[0] = 'b';
    memcpy(key + 1, pub->b, EF_PUB_SIZE);
}

int ef_bank_balance(ef_ctx *ctx, const ef_pub *pub, uint64_t *out)
{
    uint8_t key[1 + EF_PUB_SIZE];
    ef_bank_bal_key(key, pub);
    return ef_bank_u64_get(ctx, key, sizeof key, out);
}

/* Adds (sign > 0) or removes amount from pub's balance; ctx in the bank namespace. */
static int ef_bank_adjust(ef_ctx *ctx, const ef_pub *pub, uint64_t amount, bool add)
{
    uint8_t key[1 + EF_PUB_SIZE];
    uint64_t bal;
    ef_bank_bal_key(key, pub);
    int rc = ef_bank_u64_get(ctx, key, sizeof key, &bal);
    if (rc) return rc;
    if (add) {
        if (bal > UINT64_MAX - amount) return EF_EOVERFLOW;
        bal += amount;
    } else {
        if (bal < amount) return EF_EFUNDS;
        bal -= amount;
    }
    return ef_bank_u64_put(ctx, key, sizeof key, bal);
}

static json_t *ef_pub_json(const ef_pub *p)
{
    char hex[2 * EF_PUB_SIZE + 1];
    ef_hex(hex, p->b, EF_PUB_SIZE);
    return json_stringn_nocheck(hex, 2 * EF_PUB_SIZE);
}

struct ef_bank_move {
    const ef_pub *from, *to;
    uint64_t amount;
};

static int ef_bank_move_fn(ef_ctx *ctx, void *arg)
{
    struct ef_bank_move *m = arg;
    int rc = ef_bank_adjust(ctx, m->from, m->amount, false);
    if (rc) return rc;
    if ((rc = ef_bank_adjust(ctx, m->to, m->amount, true))) return rc;
    /* built by hand, not json_pack: this is the hottest event */
    json_t *ev = json_object();
    if (ev) {
        json_object_set_new_nocheck(ev, "from", ef_pub_json(m->from));
        json_object_set_new_nocheck(ev, "to", ef_pub_json(m->to));
        json_object_set_new_nocheck(ev, "amount", json_integer((json_int_t)m->amount));
    }
    rc = ev ? ef_ctx_emit(ctx, "transfer", ev) : EF_ENOMEM;
    json_decref(ev);
    return rc;
}

int ef_bank_transfer(ef_ctx *ctx, const ef_pub *from, const ef_pub *to, uint64_t amount)
{
    if (ef_ctx_read_only(ctx)) return EF_EPERM;
    if (memcmp(from->b, ef_ctx_sender(ctx)->b, EF_PUB_SIZE)) return EF_EPERM;
    if (amount > INT64_MAX) return EF_EOVERFLOW;
    struct ef_bank_move m = {from, to, amount};
    return ef_ctx_call_as(ctx, EF_BANK_NAME, ef_bank_move_fn, &m);
}

/* --- escrows --- */

static void ef_escrow_key(uint8_t key[9], uint64_t id)
{
    key[0] = 'e';
    for (int i = 0; i < 8; i++) key[1 + i] = (uint8_t)(id >> (56 - 8 * i));
}

static int ef_escrow_get(ef_ctx *ctx, uint64_t id, ef_escrow *e)
{
    uint8_t key[9];
    const uint8_t *v;
    size_t n;
    memset(e, 0, sizeof *e);
    ef_escrow_key(key, id);
    int rc = ef_ctx_get_in(ctx, EF_BANK_NAME, key, sizeof key, &v, &n);
    if (rc) return rc;
    ef_rd r;
    ef_rd_init(&r, v, n);
    ef_rd_str(&r, e->owner, sizeof e->owner);
    ef_rd_raw(&r, e->payer.b, EF_PUB_SIZE);
    ef_rd_raw(&r, e->payee.b, EF_PUB_SIZE);
    ef_rd_u64(&r, &e->amount);
    ef_rd_u64(&r, &e->left);
    return ef_rd_finish(&r) ? EF_EDB : 0;
}

static int ef_escrow_put(ef_ctx *ctx, uint64_t id, const ef_escrow *e)
{
    uint8_t key[9];
    ef_wr w;
    ef_escrow_key(key, id);
    ef_wr_init(&w);
    ef_wr_str(&w, e->owner);
    ef_wr_raw(&w, e->payer.b, EF_PUB_SIZE);
    ef_wr_raw(&w, e->payee.b, EF_PUB_SIZE);
    ef_wr_u64(&w, e->amount);
    ef_wr_u64(&w, e->left);
    int rc = w.err ? w.err : ef_ctx_put(ctx, key, sizeof key, w.buf, w.len);
    ef_wr_free(&w);
    return rc;
}

struct ef_bank_lock {
    const char *owner;
    const ef_pub *payee;
    uint64_t amount;
    uint64_t id;
};

static int ef_bank_lock_fn(ef_ctx *ctx, void *arg)
{
    struct ef_bank_lock *l = arg;
    uint64_t id, locked;
    int rc = ef_bank_adjust(ctx, ef_ctx_sender(ctx), l->amount, false);
    if (rc) return rc;
    if ((rc = ef_bank_u64_get(ctx, "next_escrow", 11, &id))) return rc;
    if (id == 0) id = 1;
    if ((rc = ef_bank_u64_put(ctx, "next_escrow", 11, id + 1))) return rc;
    if ((rc = ef_bank_u64_get(ctx, "locked", 6, &locked))) return rc;
    if ((rc = ef_bank_u64_put(ctx, "locked", 6, locked + l->amount))) return rc;
    ef_escrow e;
    memset(&e, 0, sizeof e);
    snprintf(e.owner, sizeof e.owner, "%s", l->owner);
    e.payer = *ef_ctx_sender(ctx);
    if (l->payee) e.payee = *l->payee;
    e.amount = e.left = l->amount;
    if ((rc = ef_escrow_put(ctx, id, &e))) return rc;
    l->id = id;
    json_t *ev = json_pack("{s:I, s:s, s:o, s:I}", "id", (json_int_t)id, "owner", l->owner,
                           "payer", ef_pub_json(&e.payer), "amount", (json_int_t)l->amount);
    if (ev && l->payee) json_object_set_new(ev, "payee", ef_pub_json(l->payee));
    rc = ev ? ef_ctx_emit(ctx, "escrow_lock", ev) : EF_ENOMEM;
    json_decref(ev);
    return rc;
}

static int ef_bank_lock_as(ef_ctx *ctx, const char *owner, const ef_pub *payee, uint64_t amount,
                           uint64_t *escrow_id)
{
    *escrow_id = 0;
    if (ef_ctx_read_only(ctx)) return EF_EPERM;
    if (amount == 0) return EF_EINVAL;
    if (amount > INT64_MAX) return EF_EOVERFLOW;
    struct ef_bank_lock l = {owner, payee, amount, 0};
    int rc = ef_ctx_call_as(ctx, EF_BANK_NAME, ef_bank_lock_fn, &l);
    if (rc == 0) *escrow_id = l.id;
    return rc;
}

int ef_bank_escrow_lock(ef_ctx *ctx, uint64_t amount, uint64_t *escrow_id)
{
    return ef_bank_lock_as(ctx, ef_ctx_contract(ctx), NULL, amount, escrow_id);
}

struct ef_bank_add {
    uint64_t id;
    uint64_t amount;
};

static int ef_bank_add_fn(ef_ctx *ctx, void *arg)
{
    struct ef_bank_add *a = arg;
    ef_escrow e;
    uint64_t locked;
    int rc = ef_escrow_get(ctx, a->id, &e);
    if (rc) return rc;
    if (e.amount > (uint64_t)INT64_MAX - a->amount || e.left > (uint64_t)INT64_MAX - a->amount)
        return EF_EOVERFLOW;
    if ((rc = ef_bank_adjust(ctx, ef_ctx_sender(ctx), a->amount, false))) return rc;
    e.amount += a->amount;
    e.left += a->amount;
    if ((rc = ef_escrow_put(ctx, a->id, &e))) return rc;
    if ((rc = ef_bank_u64_get(ctx, "locked", 6, &locked))) return rc;
    if ((rc = ef_bank_u64_put(ctx, "locked", 6, locked + a->amount))) return rc;
    json_t *ev = json_pack("{s:I, s:o, s:I, s:I}", "id", (json_int_t)a->id, "payer",
                           ef_pub_json(ef_ctx_sender(ctx)), "amount", (json_int_t)a->amount,
                           "left", (json_int_t)e.left);
    rc = ev ? ef_ctx_emit(ctx, "escrow_add", ev) : EF_ENOMEM;
    json_decref(ev);
    return rc;
}

int ef_bank_escrow_add(ef_ctx *ctx, uint64_t escrow_id, uint64_t amount)
{
    ef_escrow e;
    if (ef_ctx_read_only(ctx)) return EF_EPERM;
    if (amount == 0) return EF_EINVAL;
    if (amount > INT64_MAX) return EF_EOVERFLOW;
    int rc = ef_escrow_get(ctx, escrow_id, &e);
    if (rc) return rc;
    if (strcmp(e.owner, ef_ctx_contract(ctx))) return EF_EPERM;
    struct ef_bank_add a = {escrow_id, amount};
    return ef_ctx_call_as(ctx, EF_BANK_NAME, ef_bank_add_fn, &a);
}

struct ef_bank_release {
    uint64_t id;
    const ef_pub *to;
    uint64_t amount;
};

static int ef_bank_release_fn(ef_ctx *ctx, void *arg)
{
    struct ef_bank_release *r = arg;
    ef_escrow e;
    uint64_t locked;
    int rc = ef_escrow_get(ctx, r->id, &e);
    if (rc) return rc;
    if (e.left < r->amount) return EF_EFUNDS;
    e.left -= r->amount;
    if ((rc = ef_escrow_put(ctx, r->id, &e))) return rc;
    if ((rc = ef_bank_u64_get(ctx, "locked", 6, &locked))) return rc;
    EF_ASSERT(locked >= r->amount);
    if ((rc = ef_bank_u64_put(ctx, "locked", 6, locked - r->amount))) return rc;
    if ((rc = ef_bank_adjust(ctx, r->to, r->amount, true))) return rc;
    json_t *ev = json_pack("{s:I, s:o, s:I, s:I}", "id", (json_int_t)r->id, "to", ef_pub_json(r->to),
                           "amount", (json_int_t)r->amount, "left", (json_int_t)e.left);
    rc = ev ? ef_ctx_emit(ctx, "escrow_release", ev) : EF_ENOMEM;
    json_decref(ev);
    return rc;
}

int ef_bank_escrow_release(ef_ctx *ctx, uint64_t escrow_id, const ef_pub *to, uint64_t amount)
{
    ef_escrow e;
    if (ef_ctx_read_only(ctx)) return EF_EPERM;
    int rc = ef_escrow_get(ctx, escrow_id, &e);
    if (rc) return rc;
    if (strcmp(e.owner, ef_ctx_contract(ctx))) return EF_EPERM;
    if (amount == 0) return EF_EINVAL;
    struct ef_bank_release r = {escrow_id, to, amount};
    return ef_ctx_call_as(ctx, EF_BANK_NAME, ef_bank_release_fn, &r);
}

int ef_bank_escrow_left(ef_ctx *ctx, uint64_t escrow_id, uint64_t *out)
{
    ef_escrow e;
    *out = 0;
    int rc = ef_escrow_get(ctx, escrow_id, &e);
    if (rc == 0) *out = e.left;
    return rc;
}

/* --- methods --- */

static int ef_bank_m_transfer(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"to", "amount", NULL};
    ef_pub to;
    uint64_t amount;
    if (ef_args_only(args, f) || ef_args_pub(args, "to", &to) || ef_args_u64(args, "amount", &amount) ||
        amount == 0)
        return EF_EARGS;
    return ef_bank_transfer(ctx, ef_ctx_sender(ctx), &to, amount);
}

/* escrow {"payee": PUB, "amount": N}: the sender locks money for payee */
static int ef_bank_m_escrow(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"payee", "amount", NULL};
    ef_pub payee;
    uint64_t amount, id;
    if (ef_args_only(args, f) || ef_args_pub(args, "payee", &payee) ||
        ef_args_u64(args, "amount", &amount) || amount == 0)
        return EF_EARGS;
    return ef_bank_lock_as(ctx, EF_BANK_NAME, &payee, amount, &id);
}

/* release {"escrow": ID, "amount": N} by the payer: pays the payee;
 * refund  {"escrow": ID, "amount": N} by the payee: returns to the payer. */
static int ef_bank_settle(ef_ctx *ctx, const json_t *args, bool refund)
{
    static const char *const f[] = {"escrow", "amount", NULL};
    uint64_t id, amount;
    ef_escrow e;
    if (ef_args_only(args, f) || ef_args_u64(args, "escrow", &id) ||
        ef_args_u64(args, "amount", &amount) || amount == 0)
        return EF_EARGS;
    int rc = ef_escrow_get(ctx, id, &e);
    if (rc) return rc;
    if (strcmp(e.owner, EF_BANK_NAME)) return EF_EPERM;
    const ef_pub *who = refund ? &e.payee : &e.payer;
    if (memcmp(who->b, ef_ctx_sender(ctx)->b, EF_PUB_SIZE)) return EF_EPERM;
    struct ef_bank_release r = {id, refund ? &e.payer : &e.payee, amount};
    return ef_bank_release_fn(ctx, &r);
}

static int ef_bank_m_release(ef_ctx *ctx, const json_t *args) { return ef_bank_settle(ctx, args, false); }
static int ef_bank_m_refund(ef_ctx *ctx, const json_t *args) { return ef_bank_settle(ctx, args, true); }

static const ef_method ef_bank_methods[] = {
    {"transfer", ef_bank_m_transfer},
    {"escrow", ef_bank_m_escrow},
    {"release", ef_bank_m_release},
    {"refund", ef_bank_m_refund},
};

static int ef_bank_genesis(ef_ctx *ctx, const json_t *params)
{
    const char *key;
    json_t *v;
    uint64_t supply = 0;
    json_t *bal = json_object_get(params, "balances");
    json_object_foreach(bal, key, v) {
        ef_pub pub;
        if (ef_unhex(pub.b, EF_PUB_SIZE, key) || !json_is_integer(v) || json_integer_value(v) < 0)
            return EF_ECONFIG;
        uint64_t amount = (uint64_t)json_integer_value(v);
        if (amount > (uint64_t)INT64_MAX - supply) return EF_EOVERFLOW;
        supply += amount;
        int rc = ef_bank_adjust(ctx, &pub, amount, true);
        if (rc) return rc;
    }
    return ef_bank_u64_put(ctx, "supply", 6, supply);
}

static int ef_bank_query(ef_ctx *ctx, const char *path, json_t **out)
{
    *out = NULL;
    if (!strncmp(path, "balance/", 8)) {
        ef_pub pub;
        uint64_t bal;
        if (ef_unhex(pub.b, EF_PUB_SIZE, path + 8)) return EF_EINVAL;
        int rc = ef_bank_balance(ctx, &pub, &bal);
        if (rc) return rc;
        *out = json_pack("{s:s, s:I}", "account", path + 8, "balance", (json_int_t)bal);
    } else if (!strncmp(path, "escrow/", 7)) {
        char *end;
        uint64_t id = strtoull(path + 7, &end, 10);
        ef_escrow e;
        if (*end || end == path + 7) return EF_EINVAL;
        int rc = ef_escrow_get(ctx, id, &e);
        if (rc) return rc;
        *out = json_pack("{s:I, s:s, s:o, s:I, s:I}", "id", (json_int_t)id, "owner", e.owner,
                         "payer", ef_pub_json(&e.payer), "amount", (json_int_t)e.amount,
                         "left", (json_int_t)e.left);
        static const ef_pub zero;
        if (*out && memcmp(e.payee.b, zero.b, EF_PUB_SIZE))
            json_object_set_new(*out, "payee", ef_pub_json(&e.payee));
    } else if (!strcmp(path, "supply")) {
        uint64_t supply, locked;
        int rc = ef_bank_u64_get(ctx, "supply", 6, &supply);
        if (rc || (rc = ef_bank_u64_get(ctx, "locked", 6, &locked))) return rc;
        *out = json_pack("{s:I, s:I}", "supply", (json_int_t)supply, "locked", (json_int_t)locked);
    } else {
        return EF_ENOTFOUND;
    }
    return *out ? 0 : EF_ENOMEM;
}

static const char *const ef_bank_genesis_fields[] = {"balances", NULL};

/* ef_contract.account: an account holding money may send. */
static int ef_bank_account(ef_ctx *ctx, const ef_pub *pub)
{
    uint64_t bal;
    int rc = ef_bank_balance(ctx, pub, &bal);
    if (rc) return rc;
    return bal > 0 ? 0 : EF_ENOTFOUND;
}

const ef_contract ef_bank_contract = {
    .name = EF_BANK_NAME,
    .methods = ef_bank_methods,
    .methods_len = EF_ARRAY_LEN(ef_bank_methods),
    .query = ef_bank_query,
    .genesis = ef_bank_genesis,
    .genesis_fields = ef_bank_genesis_fields,
    .account = ef_bank_account,
};
