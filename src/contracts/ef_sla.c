/* ef_sla.c: the sla contract's methods: offers, activation, confirmation,
 * receipts, claims, disputes, rulings, cheating proofs, close (see ef_sla.h). */
#include "contracts/ef_sla.h"

#include <stdlib.h>
#include <string.h>

#include "contracts/ef_bank.h"
#include "contracts/ef_registry.h"
#include "contracts/ef_sla_int.h"

#define EF_SLA_CONTRACT_NAME "sla"

/* --- small helpers --- */

static bool ef_pub_eq(const ef_pub *a, const ef_pub *b) { return !memcmp(a->b, b->b, EF_PUB_SIZE); }

static int ef_sla_emit(ef_ctx *ctx, const char *name, json_t *ev)
{
    int rc = ev ? ef_ctx_emit(ctx, name, ev) : EF_ENOMEM;
    json_decref(ev);
    return rc;
}

uint64_t ef_sla_payout(uint64_t price, const uint32_t penalty_ppm[3], uint8_t v)
{
    uint64_t ppm = 0;
    for (int i = 0; i < 3; i++)
        if (v & (1u << i)) ppm += penalty_ppm[i];
    if (ppm > EF_SLA_PPM) ppm = EF_SLA_PPM;
    /* floor(price * ppm / 1e6) without overflow: ppm <= 1e6 */
    uint64_t penalty = price / EF_SLA_PPM * ppm + price % EF_SLA_PPM * ppm / EF_SLA_PPM;
    return price - penalty;
}

static int ef_sla_name_arg(const json_t *args, const char *field, char out[EF_SLA_NAME_MAX + 1])
{
    const char *s;
    if (ef_args_str(args, field, &s, EF_SLA_NAME_MAX) || !ef_sla_name_ok(s)) return EF_EARGS;
    snprintf(out, EF_SLA_NAME_MAX + 1, "%s", s);
    return 0;
}

/* A u64 field in lo..hi. */
static int ef_sla_u64_in(const json_t *o, const char *field, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (ef_args_u64(o, field, out) || *out < lo || *out > hi) return EF_EARGS;
    return 0;
}

/* An array of NAMEs, 1..max entries, no duplicates. */
static int ef_sla_names_arg(const json_t *args, const char *field, char (*out)[EF_SLA_NAME_MAX + 1], size_t max,
                            size_t *n)
{
    const json_t *a = json_object_get(args, field);
    *n = 0;
    if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > max) return EF_EARGS;
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (!s || strlen(s) != json_string_length(json_array_get(a, i)) || !ef_sla_name_ok(s)) return EF_EARGS;
        for (size_t k = 0; k < i; k++)
            if (!strcmp(out[k], s)) return EF_EARGS;
        snprintf(out[i], EF_SLA_NAME_MAX + 1, "%s", s);
    }
    *n = json_array_size(a);
    return 0;
}

/* --- offer arguments --- */

static int ef_sla_rules_arg(const json_t *args, ef_sla_rules *r)
{
    static const char *const f[] = {"min_kbps", "max_latency_us", "max_loss_ppm", NULL};
    const json_t *o = json_object_get(args, "rules");
    uint64_t loss;
    if (!json_is_object(o) || ef_args_only(o, f) || ef_sla_u64_in(o, "min_kbps", 1, INT64_MAX, &r->min_kbps) ||
        ef_sla_u64_in(o, "max_latency_us", 1, INT64_MAX, &r->max_latency_us) ||
        ef_sla_u64_in(o, "max_loss_ppm", 0, EF_SLA_PPM, &loss))
        return EF_EARGS;
    r->max_loss_ppm = (uint32_t)loss;
    return 0;
}

static int ef_sla_penalty_arg(const json_t *args, uint32_t ppm[3])
{
    static const char *const f[] = {"min_kbps", "max_latency_us", "max_loss_ppm", NULL};
    const json_t *o = json_object_get(args, "penalty");
    if (!json_is_object(o) || ef_args_only(o, f)) return EF_EARGS;
    for (int i = 0; i < 3; i++) {
        uint64_t v;
        if (ef_sla_u64_in(o, f[i], 0, EF_SLA_PPM, &v)) return EF_EARGS;
        ppm[i] = (uint32_t)v;
    }
    return 0;
}

static int ef_sla_offer_parse_(const json_t *args, ef_sla_offer *o)
{
    static const char *const f[] = {"area", "rules", "price", "epoch_ms", "max_epochs", "penalty", "cheat_penalty",
                                    "confirm_blocks", "claim_window_ms", "dispute_window_blocks", NULL};
    if (!json_is_object(args) || ef_args_only(args, f) ||
        ef_sla_names_arg(args, "area", o->area, EF_SLA_AREA_MAX, &o->area_len) || ef_sla_rules_arg(args, &o->rules) ||
        ef_sla_penalty_arg(args, o->penalty_ppm) || ef_sla_u64_in(args, "price", 1, INT64_MAX, &o->price) ||
        ef_sla_u64_in(args, "epoch_ms", 1, EF_SLA_EPOCH_MS_MAX, &o->epoch_ms) ||
        ef_sla_u64_in(args, "max_epochs", 1, EF_SLA_EPOCHS_MAX, &o->max_epochs) ||
        ef_sla_u64_in(args, "cheat_penalty", 0, INT64_MAX, &o->cheat_penalty) ||
        ef_sla_u64_in(args, "confirm_blocks", 1, EF_SLA_WINDOW_MAX, &o->confirm_blocks) ||
        ef_sla_u64_in(args, "claim_window_ms", 1, EF_SLA_CLAIM_MS_MAX, &o->claim_window_ms) ||
        ef_sla_u64_in(args, "dispute_window_blocks", 1, EF_SLA_WINDOW_MAX, &o->dispute_window_blocks))
        return EF_EARGS;
    if (o->price > (uint64_t)INT64_MAX / o->max_epochs) return EF_EOVERFLOW;
    return 0;
}

int ef_sla_offer_parse(const json_t *args, ef_sla_offer *out)
{
    memset(out, 0, sizeof *out);
    int rc = ef_sla_offer_parse_(args, out);
    if (rc) memset(out, 0, sizeof *out);
    return rc;
}

/* --- parties --- */

/* The sender is the operator or the controller it named. */
static int ef_sla_op_side(ef_ctx *ctx, const ef_pub *op)
{
    const ef_pub *s = ef_ctx_sender(ctx);
    if (ef_pub_eq(s, op)) return 0;
    ef_sla_bond b;
    int rc = ef_sla_bond_get(ctx, op, &b);
    if (rc == EF_ENOTFOUND) return EF_EPERM;
    if (rc) return rc;
    return b.has_controller && ef_pub_eq(s, &b.controller) ? 0 : EF_EPERM;
}

/* How many regulators the validator set of this height holds, and whether the
 * sender is one of them. */
static int ef_sla_regulators(ef_ctx *ctx, uint32_t *n, bool *sender_is)
{
    ef_vset *vs = malloc(sizeof *vs);
    if (!vs) return EF_ENOMEM;
    *n = 0;
    *sender_is = false;
    int rc = ef_ctx_vset(ctx, ef_ctx_height(ctx), vs);
    for (uint32_t i = 0; rc == 0 && i < vs->len; i++) {
        ef_role role;
        if ((rc = ef_registry_role(ctx, &vs->v[i].pub, &role, NULL))) break;
        if (role != EF_ROLE_REGULATOR) continue;
        (*n)++;
        if (ef_pub_eq(&vs->v[i].pub, ef_ctx_sender(ctx))) *sender_is = true;
    }
    free(vs);
    return rc;
}

static int ef_sla_load_arg(ef_ctx *ctx, const json_t *args, ef_sla_rec *r)
{
    uint64_t id;
    if (ef_args_u64(args, "sla", &id)) return EF_EARGS;
    return ef_sla_get(ctx, id, r);
}

static void *ef_sla_alloc(void) { return malloc(sizeof(ef_sla_rec)); }

/* --- bond --- */

static int ef_sla_bond_event(ef_ctx *ctx, const char *name, const ef_pub *op, uint64_t amount, const ef_sla_bond *b)
{
    return ef_sla_emit(ctx, name,
                       json_pack("{s:o, s:I, s:I, s:I}", "operator", ef_sla_pub_json(op), "amount",
                                 (json_int_t)amount, "bond", (json_int_t)b->bond, "reserved",
                                 (json_int_t)b->reserved));
}

static int ef_sla_m_post_bond(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"amount", NULL};
    uint64_t amount;
    ef_sla_bond b;
    const ef_pub *op = ef_ctx_sender(ctx);
    if (ef_args_only(args, f) || ef_sla_u64_in(args, "amount", 1, INT64_MAX, &amount)) return EF_EARGS;
    int rc = ef_sla_bond_get(ctx, op, &b);
    if (rc && rc != EF_ENOTFOUND) return rc;
    if (rc == EF_ENOTFOUND) rc = ef_bank_escrow_lock(ctx, amount, &b.escrow_id);
    else if (b.bond > (uint64_t)INT64_MAX - amount) rc = EF_EOVERFLOW;
    else rc = ef_bank_escrow_add(ctx, b.escrow_id, amount);
    if (rc) return rc;
    b.bond += amount;
    if ((rc = ef_sla_bond_put(ctx, op, &b))) return rc;
    return ef_sla_bond_event(ctx, "bond", op, amount, &b);
}

static int ef_sla_m_withdraw_bond(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"amount", NULL};
    uint64_t amount;
    ef_sla_bond b;
    const ef_pub *op = ef_ctx_sender(ctx);
    if (ef_args_only(args, f) || ef_sla_u64_in(args, "amount", 1, INT64_MAX, &amount)) return EF_EARGS;
    int rc = ef_sla_bond_get(ctx, op, &b);
    if (rc) return rc;
    if (amount > b.bond - b.reserved) return EF_EFUNDS;
    if ((rc = ef_bank_escrow_release(ctx, b.escrow_id, op, amount))) return rc;
    b.bond -= amount;
    if ((rc = ef_sla_bond_put(ctx, op, &b))) return rc;
    return ef_sla_bond_event(ctx, "bond_withdrawn", op, amount, &b);
}

static int ef_sla_m_set_controller(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"controller", NULL};
    ef_pub c;
    ef_sla_bond b;
    const ef_pub *op = ef_ctx_sender(ctx);
    if (ef_args_only(args, f) || ef_args_pub(args, "controller", &c)) return EF_EARGS;
    if (ef_pub_eq(&c, op)) return EF_EINVAL;
    int rc = ef_sla_bond_get(ctx, op, &b);
    if (rc) return rc;
    b.has_controller = 1;
    b.controller = c;
    if ((rc = ef_sla_bond_put(ctx, op, &b))) return rc;
    return ef_sla_emit(ctx, "controller_set",
                       json_pack("{s:o, s:o}", "operator", ef_sla_pub_json(op), "controller", ef_sla_pub_json(&c)));
}

/* --- topology --- */

static int ef_sla_m_topology(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"nodes", "operator", NULL};
    ef_pub op = *ef_ctx_sender(ctx);
    ef_sla_bond b;
    json_t *nodes = NULL;
    if (ef_args_only(args, f) || (json_object_get(args, "operator") && ef_args_pub(args, "operator", &op)))
        return EF_EARGS;
    int rc = ef_sla_topo_parse(json_object_get(args, "nodes"), &nodes);
    if (rc) return rc;
    if ((rc = ef_sla_op_side(ctx, &op))) goto out;
    if ((rc = ef_sla_bond_get(ctx, &op, &b))) goto out;
    if ((rc = ef_sla_topo_put(ctx, &op, nodes))) goto out;
    rc = ef_sla_emit(ctx, "topology",
                     json_pack("{s:o, s:I, s:I}", "operator", ef_sla_pub_json(&op), "nodes",
                               (json_int_t)json_array_size(nodes), "height", (json_int_t)ef_ctx_height(ctx)));
out:
    json_decref(nodes);
    return rc;
}

/* --- offers --- */

static int ef_sla_m_offer(ef_ctx *ctx, const json_t *args)
{
    ef_sla_offer_rec r;
    ef_sla_bond b;
    memset(&r, 0, sizeof r);
    int rc = ef_sla_offer_parse(args, &r.o);
    if (rc) return rc;
    r.op = *ef_ctx_sender(ctx);
    if ((rc = ef_sla_bond_get(ctx, &r.op, &b))) return rc;
    if (b.bond < r.o.cheat_penalty) return EF_EFUNDS;
    if ((rc = ef_sla_next_id(ctx, "N", &r.id))) return rc;
    r.height = ef_ctx_height(ctx);
    if ((rc = ef_sla_offer_put(ctx, &r))) return rc;
    json_t *ev = ef_sla_offer_json(&r);
    if (ev) json_object_del(ev, "state");
    return ef_sla_emit(ctx, "offered", ev);
}

static int ef_sla_m_withdraw(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"offer", NULL};
    uint64_t id;
    ef_sla_offer_rec r;
    if (ef_args_only(args, f) || ef_args_u64(args, "offer", &id)) return EF_EARGS;
    int rc = ef_sla_offer_get(ctx, id, &r);
    if (rc) return rc;
    if (!ef_pub_eq(&r.op, ef_ctx_sender(ctx))) return EF_EPERM;
    if (r.withdrawn) return EF_ESTATE;
    r.withdrawn = 1;
    if ((rc = ef_sla_offer_put(ctx, &r))) return rc;
    return ef_sla_emit(ctx, "withdrawn",
                       json_pack("{s:I, s:o}", "offer", (json_int_t)id, "operator", ef_sla_pub_json(&r.op)));
}

/* --- activation --- */

static bool ef_sla_in_area(const ef_sla_offer *o, const char *ap)
{
    for (size_t i = 0; i < o->area_len; i++)
        if (!strcmp(o->area[i], ap)) return true;
    return false;
}

static void ef_sla_from_offer(ef_sla_rec *s, const ef_sla_offer_rec *r)
{
    s->offer = r->id;
    s->op = r->op;
    s->rules = r->o.rules;
    memcpy(s->penalty_ppm, r->o.penalty_ppm, sizeof s->penalty_ppm);
    s->price = r->o.price;
    s->epoch_ms = r->o.epoch_ms;
    s->reserved = r->o.cheat_penalty;
    s->claim_window_ms = r->o.claim_window_ms;
    s->dispute_window_blocks = r->o.dispute_window_blocks;
}

static int ef_sla_index(ef_ctx *ctx, const ef_sla_rec *s)
{
    uint8_t k[1 + EF_PUB_SIZE + 8];
    int rc = ef_ctx_put(ctx, k, ef_sla_key_pub_id(k, 'p', &s->op, s->id), "", 0);
    if (rc) return rc;
    return ef_ctx_put(ctx, k, ef_sla_key_pub_id(k, 'q', &s->cust, s->id), "", 0);
}

static int ef_sla_activated_event(ef_ctx *ctx, const ef_sla_rec *s)
{
    json_t *ev = json_pack("{s:I, s:I, s:o, s:o, s:s, s:s, s:I, s:o, s:o, s:I, s:I, s:o, s:I, s:I}", "sla",
                           (json_int_t)s->id, "offer", (json_int_t)s->offer, "operator", ef_sla_pub_json(&s->op),
                           "customer", ef_sla_pub_json(&s->cust), "ap", s->ap, "dst", s->dst, "epochs",
                           (json_int_t)s->epochs, "rules", ef_sla_rules_json(&s->rules), "penalty",
                           ef_sla_penalty_json(s->penalty_ppm), "price", (json_int_t)s->price, "epoch_ms",
                           (json_int_t)s->epoch_ms, "monitor", ef_sla_pub_json(&s->monitor), "escrow",
                           (json_int_t)s->escrow, "deadline_height", (json_int_t)s->deadline_height);
    return ef_sla_emit(ctx, "activated", ev);
}

static int ef_sla_activate_args(ef_ctx *ctx, const json_t *args, ef_sla_rec *s, ef_sla_offer_rec *o)
{
    static const char *const f[] = {"offer", "epochs", "ap", "dst", "monitor", NULL};
    uint64_t offer;
    if (ef_args_only(args, f) || ef_args_u64(args, "offer", &offer) ||
        ef_sla_u64_in(args, "epochs", 1, EF_SLA_EPOCHS_MAX, &s->epochs) || ef_sla_name_arg(args, "ap", s->ap) ||
        ef_sla_name_arg(args, "dst", s->dst) || ef_args_pub(args, "monitor", &s->monitor))
        return EF_EARGS;
    int rc = ef_sla_offer_get(ctx, offer, o);
    if (rc) return rc;
    if (ef_pub_eq(&o->op, ef_ctx_sender(ctx))) return EF_EPERM;
    if (o->withdrawn) return EF_ESTATE;
    if (!ef_sla_in_area(&o->o, s->ap)) return EF_EAREA;
    if (s->epochs > o->o.max_epochs) return EF_EINVAL;
    return 0;
}

/* Reserves the offer's cheat penalty of the operator's bond. */
static int ef_sla_reserve(ef_ctx *ctx, const ef_pub *op, uint64_t amount)
{
    ef_sla_bond b;
    int rc = ef_sla_bond_get(ctx, op, &b);
    if (rc == EF_ENOTFOUND) return EF_EFUNDS;
    if (rc) return rc;
    if (b.bond - b.reserved < amount) return EF_EFUNDS;
    b.reserved += amount;
    return ef_sla_bond_put(ctx, op, &b);
}

/* Gives back what is still reserved for s (at close or nullification). */
static int ef_sla_unreserve(ef_ctx *ctx, ef_sla_rec *s)
{
    ef_sla_bond b;
    if (s->reserved == 0) return 0;
    int rc = ef_sla_bond_get(ctx, &s->op, &b);
    if (rc) return rc == EF_ENOTFOUND ? EF_EDB : rc;
    if (b.reserved < s->reserved) return EF_EDB;
    b.reserved -= s->reserved;
    s->reserved = 0;
    return ef_sla_bond_put(ctx, &s->op, &b);
}

static int ef_sla_m_activate(ef_ctx *ctx, const json_t *args)
{
    ef_sla_rec *s = ef_sla_alloc();
    ef_sla_offer_rec o;
    if (!s) return EF_ENOMEM;
    memset(s, 0, sizeof *s);
    int rc = ef_sla_activate_args(ctx, args, s, &o);
    if (rc) goto out;
    ef_sla_from_offer(s, &o);
    s->cust = *ef_ctx_sender(ctx);
    s->escrow = s->price * s->epochs;   /* price * max_epochs <= INT64_MAX: checked at offer */
    if ((rc = ef_sla_reserve(ctx, &s->op, s->reserved))) goto out;
    if ((rc = ef_bank_escrow_lock(ctx, s->escrow, &s->escrow_id))) goto out;
    if ((rc = ef_sla_next_id(ctx, "M", &s->id))) goto out;
    s->state = EF_SLA_PENDING;
    s->activated = ef_ctx_height(ctx);
    s->deadline_height = s->activated + o.o.confirm_blocks;
    if ((rc = ef_sla_put(ctx, s)) || (rc = ef_sla_index(ctx, s))) goto out;
    rc = ef_sla_activated_event(ctx, s);
out:
    free(s);
    return rc;
}

/* --- confirmation, failure, expiry --- */

static int ef_sla_confirm_args(const json_t *args, ef_sla_rec *s)
{
    static const char *const f[] = {"sla", "slice", "path", "edge_monitor", NULL};
    size_t n;
    if (ef_args_only(args, f) || ef_sla_name_arg(args, "slice", s->slice) ||
        ef_sla_names_arg(args, "path", s->path, EF_SLA_PATH_MAX, &n) ||
        ef_args_pub(args, "edge_monitor", &s->edge))
        return EF_EARGS;
    s->path_len = (uint32_t)n;
    return 0;
}

static int ef_sla_confirmed_event(ef_ctx *ctx, const ef_sla_rec *s)
{
    json_t *path = json_array();
    for (uint32_t i = 0; path && i < s->path_len; i++) json_array_append_new(path, json_string(s->path[i]));
    return ef_sla_emit(ctx, "confirmed",
                       json_pack("{s:I, s:o, s:o, s:s, s:o, s:o, s:I, s:I, s:I, s:I}", "sla", (json_int_t)s->id,
                                 "operator", ef_sla_pub_json(&s->op), "customer", ef_sla_pub_json(&s->cust),
                                 "slice", s->slice, "path", path, "edge_monitor", ef_sla_pub_json(&s->edge),
                                 "start_ms", (json_int_t)s->start_ms, "end_ms", (json_int_t)s->end_ms,
                                 "epoch_ms", (json_int_t)s->epoch_ms, "epochs", (json_int_t)s->epochs));
}

static int ef_sla_m_confirm(ef_ctx *ctx, const json_t *args)
{
    ef_sla_rec *s = ef_sla_alloc(), *a = ef_sla_alloc();
    int rc = EF_ENOMEM;
    if (!s || !a) goto out;
    memset(a, 0, sizeof *a);
    if ((rc = ef_sla_confirm_args(args, a))) goto out;
    if ((rc = ef_sla_load_arg(ctx, args, s))) goto out;
    if ((rc = ef_sla_op_side(ctx, &s->op))) goto out;
    if (s->state != EF_SLA_PENDING) { rc = EF_ESTATE; goto out; }
    if (ef_ctx_height(ctx) > s->deadline_height) { rc = EF_ELATE; goto out; }
    memcpy(s->slice, a->slice, sizeof s->slice);
    memcpy(s->path, a->path, sizeof s->path);
    s->path_len = a->path_len;
    s->edge = a->edge;
    s->state = EF_SLA_ACTIVE;
    s->start_ms = ef_ctx_time_ms(ctx);
    s->end_ms = s->start_ms + s->epochs * s->epoch_ms;
    if ((rc = ef_sla_put(ctx, s))) goto out;
    rc = ef_sla_confirmed_event(ctx, s);
out:
    free(s);
    free(a);
    return rc;
}

static int ef_sla_nullify(ef_ctx *ctx, ef_sla_rec *s, const char *reason)
{
    int rc = ef_bank_escrow_release(ctx, s->escrow_id, &s->cust, s->escrow);
    if (rc) return rc;
    s->refunded = s->escrow;
    s->state = EF_SLA_NULLIFIED;
    snprintf(s->reason, sizeof s->reason, "%s", reason);
    if ((rc = ef_sla_unreserve(ctx, s)) || (rc = ef_sla_put(ctx, s))) return rc;
    return ef_sla_emit(ctx, "nullified",
                       json_pack("{s:I, s:o, s:o, s:s, s:I}", "sla", (json_int_t)s->id, "operator",
                                 ef_sla_pub_json(&s->op), "customer", ef_sla_pub_json(&s->cust), "reason", reason,
                                 "refunded", (json_int_t)s->escrow));
}

static bool ef_sla_reason_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > EF_SLA_REASON_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e) return false;
    return true;
}

static int ef_sla_m_fail(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"sla", "reason", NULL};
    const char *reason;
    if (ef_args_only(args, f) || ef_args_str(args, "reason", &reason, EF_SLA_REASON_MAX) ||
        !ef_sla_reason_ok(reason))
        return EF_EARGS;
    ef_sla_rec *s = ef_sla_alloc();
    if (!s) return EF_ENOMEM;
    int rc = ef_sla_load_arg(ctx, args, s);
    if (rc == 0) rc = ef_sla_op_side(ctx, &s->op);
    if (rc == 0 && s->state != EF_SLA_PENDING) rc = EF_ESTATE;
    if (rc == 0) rc = ef_sla_nullify(ctx, s, reason);
    free(s);
    return rc;
}

static int ef_sla_m_expire(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"sla", NULL};
    if (ef_args_only(args, f)) return EF_EARGS;
    ef_sla_rec *s = ef_sla_alloc();
    if (!s) return EF_ENOMEM;
    int rc = ef_sla_load_arg(ctx, args, s);
    if (rc == 0 && s->state != EF_SLA_PENDING) rc = EF_ESTATE;
    if (rc == 0 && ef_ctx_height(ctx) <= s->deadline_height) rc = EF_EAGAIN;
    if (rc == 0) rc = ef_sla_nullify(ctx, s, "expired");
    free(s);
    return rc;
}

/* --- receipts and payment --- */

/* What one call pays, released from the escrow at the end. */
typedef struct ef_sla_pay {
    uint64_t to_op, to_cust;
    json_t *epochs, *verdicts;
} ef_sla_pay;

static int ef_sla_pay_init(ef_sla_pay *p)
{
    memset(p, 0, sizeof *p);
    p->epochs = json_array();
    p->verdicts = json_array();
    return p->epochs && p->verdicts ? 0 : EF_ENOMEM;
}

static void ef_sla_pay_free(ef_sla_pay *p)
{
    json_decref(p->epochs);
    json_decref(p->verdicts);
}

/* Settles epoch e of s with verdict v (status st); forfeit pays in full. */
static void ef_sla_settle(ef_sla_rec *s, ef_sla_pay *p, uint64_t e, uint8_t v, uint8_t st)
{
    EF_ASSERT(e < s->epochs);
    uint64_t op = st == EF_EP_FORFEIT ? s->price : ef_sla_payout(s->price, s->penalty_ppm, v);
    s->st[e] = st;
    s->vd[e] = v;
    p->to_op += op;
    p->to_cust += s->price - op;
    json_array_append_new(p->epochs, json_integer((json_int_t)e));
    json_array_append_new(p->verdicts, json_integer(v));
}

/* Releases what p pays, records it in s (the caller puts s) and emits paid. */
static int ef_sla_pay_finish(ef_ctx *ctx, ef_sla_rec *s, ef_sla_pay *p, const char *by)
{
    int rc;
    if (json_array_size(p->epochs) == 0) return 0;
    if (!json_array_size(p->verdicts) || json_array_size(p->epochs) != json_array_size(p->verdicts))
        return EF_ENOMEM;
    if (p->to_op && (rc = ef_bank_escrow_release(ctx, s->escrow_id, &s->op, p->to_op))) return rc;
    if (p->to_cust && (rc = ef_bank_escrow_release(ctx, s->escrow_id, &s->cust, p->to_cust))) return rc;
    s->paid += p->to_op;
    s->refunded += p->to_cust;
    EF_ASSERT(s->paid + s->refunded <= s->escrow);
    return ef_sla_emit(ctx, "paid",
                       json_pack("{s:I, s:s, s:O, s:O, s:I, s:I}", "sla", (json_int_t)s->id, "by", by, "epochs",
                                 p->epochs, "verdicts", p->verdicts, "to_operator", (json_int_t)p->to_op,
                                 "to_customer", (json_int_t)p->to_cust));
}

/* Decodes and checks one receipt hex of s signed by `signer`, at this block. */
static int ef_sla_receipt_check(ef_ctx *ctx, const ef_sla_rec *s, const char *hex, const ef_pub *signer,
                                ef_receipt *r)
{
    int rc = ef_receipt_decode_hex(r, hex);
    if (rc == EF_EPROTO || rc == EF_ENONCANON) return rc;
    if (rc) return EF_EARGS;
    if (strcmp(r->chain_id, ef_ctx_chain_id(ctx))) return EF_ECHAIN;
    if (r->sla != s->id) return EF_EOTHERSLA;
    if (r->epoch >= s->epochs) return EF_EEPOCH;
    if ((rc = ef_receipt_verify(r, signer))) return rc;   /* EF_ESIGNER, EF_EBADSIG */
    if (r->verdict != ef_receipt_verdict(r, &s->rules)) return EF_EVERDICT;
    uint64_t now = ef_ctx_time_ms(ctx);
    if (now < s->start_ms + (r->epoch + 1) * s->epoch_ms) return EF_EAGAIN;
    if (now >= s->end_ms + s->claim_window_ms) return EF_ELATE;
    return 0;
}

static bool ef_sla_settled(uint8_t st)
{
    return st == EF_EP_PAID || st == EF_EP_RULED || st == EF_EP_FORFEIT || st == EF_EP_REFUNDED ||
           st == EF_EP_PAID_OP;
}

static int ef_sla_receipts_arg(const json_t *args, const json_t **arr)
{
    *arr = json_object_get(args, "receipts");
    if (!json_is_array(*arr) || json_array_size(*arr) == 0 || json_array_size(*arr) > EF_SLA_CLAIM_MAX)
        return EF_EARGS;
    for (size_t i = 0; i < json_array_size(*arr); i++)
        if (!json_is_string(json_array_get(*arr, i))) return EF_EARGS;
    return 0;
}

/* Loads the SLA of args for an operator-side receipt call. */
static int ef_sla_load_active_op(ef_ctx *ctx, const json_t *args, ef_sla_rec *s)
{
    int rc = ef_sla_load_arg(ctx, args, s);
    if (rc == 0) rc = ef_sla_op_side(ctx, &s->op);
    if (rc == 0 && s->state != EF_SLA_ACTIVE) rc = EF_ESTATE;
    return rc;
}

static int ef_sla_claim_one(ef_ctx *ctx, ef_sla_rec *s, ef_sla_pay *p, const char *hex)
{
    ef_receipt r;
    int rc = ef_sla_receipt_check(ctx, s, hex, &s->monitor, &r);
    if (rc) return rc;
    uint8_t st = s->st[r.epoch];
    if (ef_sla_settled(st)) return EF_EDUP;
    if (st == EF_EP_CONTESTED) return EF_ESTATE;
    ef_sla_settle(s, p, r.epoch, r.verdict, EF_EP_PAID);
    return 0;
}

static int ef_sla_m_claim(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"sla", "receipts", NULL};
    const json_t *arr;
    ef_sla_pay p;
    if (ef_args_only(args, f) || ef_sla_receipts_arg(args, &arr)) return EF_EARGS;
    ef_sla_rec *s = ef_sla_alloc();
    if (!s) return EF_ENOMEM;
    int rc = ef_sla_pay_init(&p);
    if (rc == 0) rc = ef_sla_load_active_op(ctx, args, s);
    for (size_t i = 0; rc == 0 && i < json_array_size(arr); i++)
        rc = ef_sla_claim_one(ctx, s, &p, json_string_value(json_array_get(arr, i)));
    if (rc == 0) rc = ef_sla_pay_finish(ctx, s, &p, "customer_receipt");
    if (rc == 0) rc = ef_sla_put(ctx, s);
    ef_sla_pay_free(&p);
    free(s);
    return rc;
}

static int ef_sla_propose_one(ef_ctx *ctx, ef_sla_rec *s, const char *hex, json_t *epochs, json_t *verdicts)
{
    ef_receipt r;
    int rc = ef_sla_receipt_check(ctx, s, hex, &s->edge, &r);
    if (rc) return rc;
    if (s->st[r.epoch] != EF_EP_OPEN) return EF_EDUP;
    ef_sla_dispute d = {.op_verdict = r.verdict,
                        .contradict_until = ef_ctx_height(ctx) + s->dispute_window_blocks};
    if ((rc = ef_sla_dispute_put(ctx, s->id, r.epoch, &d))) return rc;
    s->st[r.epoch] = EF_EP_PROPOSED;
    s->vd[r.epoch] = r.verdict;
    json_array_append_new(epochs, json_integer((json_int_t)r.epoch));
    json_array_append_new(verdicts, json_integer(r.verdict));
    return 0;
}

static int ef_sla_m_submit_operator_receipt(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"sla", "receipts", NULL};
    const json_t *arr;
    if (ef_args_only(args, f) || ef_sla_receipts_arg(args, &arr)) return EF_EARGS;
    ef_sla_rec *s = ef_sla_alloc();
    json_t *epochs = json_array(), *verdicts = json_array();
    int rc = s && epochs && verdicts ? ef_sla_load_active_op(ctx, args, s) : EF_ENOMEM;
    for (size_t i = 0; rc == 0 && i < json_array_size(arr); i++)
        rc = ef_sla_propose_one(ctx, s, json_string_value(json_array_get(arr, i)), epochs, verdicts);
    if (rc == 0) rc = ef_sla_put(ctx, s);
    if (rc == 0)
        rc = ef_sla_emit(ctx, "proposed",
                         json_pack("{s:I, s:O, s:O, s:I}", "sla", (json_int_t)s->id, "epochs", epochs, "verdicts",
                                   verdicts, "contradict_until",
                                   (json_int_t)(ef_ctx_height(ctx) + s->dispute_window_blocks)));
    json_decref(epochs);
    json_decref(verdicts);
    free(s);
    return rc;
}

static int ef_sla_contradict_one(ef_ctx *ctx, ef_sla_rec *s, ef_sla_pay *p, const char *hex, bool *disputed,
                                 ef_sla_dispute *d, uint64_t *epoch)
{
    ef_receipt r;
    int rc = ef_sla_receipt_check(ctx, s, hex, &s->monitor, &r);
    if (rc == EF_ELATE) rc = 0;   /* the contradiction window decides, below */
    if (rc) return rc;
    uint8_t st = s->st[r.epoch];
    if (ef_sla_settled(st)) return EF_EDUP;
    if (st != EF_EP_PROPOSED) return EF_ESTATE;
    if ((rc = ef_sla_dispute_get(ctx, s->id, r.epoch, d))) return rc == EF_ENOTFOUND ? EF_EDB : rc;
    if (ef_ctx_height(ctx) > d->contradict_until) return EF_ELATE;
    *epoch = r.epoch;
    d->cust_verdict = r.verdict;
    *disputed = r.verdict != d->op_verdict;
    if (!*disputed) {
        ef_sla_settle(s, p, r.epoch, r.verdict, EF_EP_PAID);
        return 0;
    }
    s->st[r.epoch] = EF_EP_CONTESTED;
    return ef_sla_dispute_put(ctx, s->id, r.epoch, d);
}

static int ef_sla_m_contradict(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"sla", "receipt", NULL};
    const char *hex;
    ef_sla_pay p;
    ef_sla_dispute d;
    bool disputed = false;
    uint64_t epoch = 0;
    if (ef_args_only(args, f) || ef_args_str(args, "receipt", &hex, EF_RECEIPT_HEX_MAX)) return EF_EARGS;
    ef_sla_rec *s = ef_sla_alloc();
    if (!s) return EF_ENOMEM;
    int rc = ef_sla_pay_init(&p);
    if (rc == 0) rc = ef_sla_load_arg(ctx, args, s);
    if (rc == 0 && !ef_pub_eq(&s->cust, ef_ctx_sender(ctx))) rc = EF_EPERM;
    if (rc == 0 && s->state != EF_SLA_ACTIVE) rc = EF_ESTATE;
    if (rc == 0) rc = ef_sla_contradict_one(ctx, s, &p, hex, &disputed, &d, &epoch);
    if (rc == 0) rc = ef_sla_pay_finish(ctx, s, &p, "customer_receipt");
    if (rc == 0) rc = ef_sla_put(ctx, s);
    if (rc == 0 && disputed)
        rc = ef_sla_emit(ctx, "disputed",
                         json_pack("{s:I, s:I, s:I, s:I}", "sla", (json_int_t)s->id, "epoch", (json_int_t)epoch,
                                   "operator_verdict", (json_int_t)d.op_verdict, "customer_verdict",
                                   (json_int_t)d.cust_verdict));
    ef_sla_pay_free(&p);
    free(s);
    return rc;
}

/* --- rulings --- */

static int ef_sla_rule_args(const json_t *args, uint64_t *epoch, uint64_t *verdict)
{
    static const char *const f[] = {"sla", "epoch", "verdict", NULL};
    if (ef_args_only(args, f) || ef_args_u64(args, "epoch", epoch) ||
        ef_sla_u64_in(args, "verdict", 0, EF_VERDICT_ALL, verdict))
        return EF_EARGS;
    return 0;
}

/* Records the sender's vote in d's tally: a first vote, or a changed one (the
 * old verdict loses it); EF_EDUP if the sender already voted this verdict. */
static int ef_sla_vote_record(ef_ctx *ctx, uint64_t sla, uint64_t epoch, uint8_t verdict, ef_sla_dispute *d)
{
    uint8_t k[17 + EF_PUB_SIZE];
    const uint8_t *v;
    size_t n, kn = ef_sla_key_ep(k, 'v', sla, epoch, ef_ctx_sender(ctx));
    int rc = ef_ctx_get(ctx, k, kn, &v, &n);
    if (rc == 0) {
        if (n != 1 || v[0] > EF_VERDICT_ALL || d->votes[v[0]] == 0) return EF_EDB;
        if (v[0] == verdict) return EF_EDUP;
        d->votes[v[0]]--;
    } else if (rc != EF_ENOTFOUND) {
        return rc;
    }
    d->votes[verdict]++;
    return ef_ctx_put(ctx, k, kn, &verdict, 1);
}

static int ef_sla_ruled(ef_ctx *ctx, ef_sla_rec *s, uint64_t epoch, uint8_t v, uint32_t votes, uint32_t regs)
{
    ef_sla_pay p;
    int rc = ef_sla_pay_init(&p);
    if (rc) goto out;
    ef_sla_settle(s, &p, epoch, v, EF_EP_RULED);
    uint64_t to_op = p.to_op, to_cust = p.to_cust;
    if ((rc = ef_sla_pay_finish(ctx, s, &p, "ruling"))) goto out;
    rc = ef_sla_emit(ctx, "ruled",
                     json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "sla", (json_int_t)s->id, "epoch",
                               (json_int_t)epoch, "verdict", (json_int_t)v, "votes", (json_int_t)votes,
                               "regulators", (json_int_t)regs, "to_operator", (json_int_t)to_op, "to_customer",
                               (json_int_t)to_cust));
out:
    ef_sla_pay_free(&p);
    return rc;
}

static int ef_sla_rule_vote(ef_ctx *ctx, ef_sla_rec *s, uint64_t epoch, uint8_t v, uint32_t regs)
{
    ef_sla_dispute d;
    int rc = ef_sla_dispute_get(ctx, s->id, epoch, &d);
    if (rc) return rc == EF_ENOTFOUND ? EF_EDB : rc;
    if ((rc = ef_sla_vote_record(ctx, s->id, epoch, v, &d))) return rc;
    uint32_t votes = d.votes[v];
    if ((rc = ef_sla_dispute_put(ctx, s->id, epoch, &d))) return rc;
    rc = ef_sla_emit(ctx, "rule_vote",
                     json_pack("{s:I, s:I, s:o, s:I, s:I, s:I}", "sla", (json_int_t)s->id, "epoch",
                               (json_int_t)epoch, "regulator", ef_sla_pub_json(ef_ctx_sender(ctx)), "verdict",
                               (json_int_t)v, "votes", (json_int_t)votes, "regulators", (json_int_t)regs));
    if (rc == 0 && 2 * (uint64_t)votes > regs) rc = ef_sla_ruled(ctx, s, epoch, v, votes, regs);
    return rc;
}

static int ef_sla_m_rule(ef_ctx *ctx, const json_t *args)
{
    uint64_t epoch, verdict;
    uint32_t regs;
    bool is_reg;
    if (ef_sla_rule_args(args, &epoch, &verdict)) return EF_EARGS;
    ef_sla_rec *s = ef_sla_alloc();
    if (!s) return EF_ENOMEM;
    int rc = ef_sla_load_arg(ctx, args, s);
    if (rc == 0) rc = ef_sla_regulators(ctx, &regs, &is_reg);
    if (rc == 0 && !is_reg) rc = EF_EPERM;
    if (rc == 0 && epoch >= s->epochs) rc = EF_EEPOCH;
    if (rc == 0 && (s->state != EF_SLA_ACTIVE || s->st[epoch] != EF_EP_CONTESTED)) rc = EF_ESTATE;
    if (rc == 0) rc = ef_sla_rule_vote(ctx, s, epoch, (uint8_t)verdict, regs);
    if (rc == 0) rc = ef_sla_put(ctx, s);
    free(s);
    return rc;
}

/* --- cheating proofs --- */

static int ef_sla_double_args(ef_ctx *ctx, const json_t *args, ef_receipt *a, ef_receipt *b)
{
    static const char *const f[] = {"a", "b", NULL};
    const char *ha, *hb;
    if (ef_args_only(args, f) || ef_args_str(args, "a", &ha, EF_RECEIPT_HEX_MAX) ||
        ef_args_str(args, "b", &hb, EF_RECEIPT_HEX_MAX))
        return EF_EARGS;
    int rc = ef_receipt_decode_hex(a, ha);
    if (rc == 0) rc = ef_receipt_decode_hex(b, hb);
    if (rc == EF_EPROTO || rc == EF_ENONCANON) return rc;
    if (rc) return EF_EARGS;
    if (strcmp(a->chain_id, ef_ctx_chain_id(ctx)) || strcmp(b->chain_id, ef_ctx_chain_id(ctx))) return EF_ECHAIN;
    if (a->sla != b->sla || a->epoch != b->epoch || !ef_pub_eq(&a->signer, &b->signer) || ef_receipt_same(a, b))
        return EF_ENOTDOUBLE;
    if ((rc = ef_receipt_verify(a, NULL)) || (rc = ef_receipt_verify(b, NULL))) return rc;
    return 0;
}

/* Records the proof once per (SLA, epoch, signer). */
static int ef_sla_proof_record(ef_ctx *ctx, const ef_receipt *a)
{
    uint8_t k[17 + EF_PUB_SIZE];
    const uint8_t *v;
    size_t n, kn = ef_sla_key_ep(k, 'x', a->sla, a->epoch, &a->signer);
    int rc = ef_ctx_get(ctx, k, kn, &v, &n);
    if (rc == 0) return EF_ERECORDED;
    if (rc != EF_ENOTFOUND) return rc;
    return ef_ctx_put(ctx, k, kn, "", 0);
}

/* The edge monitor cheated: the SLA's bond reservation goes to the customer. */
static int ef_sla_slash(ef_ctx *ctx, ef_sla_rec *s, uint64_t *penalty)
{
    ef_sla_bond b;
    *penalty = s->reserved;
    if (!s->reserved) return 0;
    int rc = ef_sla_bond_get(ctx, &s->op, &b);
    if (rc) return rc == EF_ENOTFOUND ? EF_EDB : rc;
    if (b.reserved < s->reserved || b.bond < s->reserved) return EF_EDB;
    if ((rc = ef_bank_escrow_release(ctx, b.escrow_id, &s->cust, s->reserved))) return rc;
    b.reserved -= s->reserved;
    b.bond -= s->reserved;
    s->reserved = 0;
    return ef_sla_bond_put(ctx, &s->op, &b);
}

static int ef_sla_cheat(ef_ctx *ctx, ef_sla_rec *s, const ef_receipt *a)
{
    bool cust = ef_pub_eq(&a->signer, &s->monitor);
    uint64_t penalty = 0;
    ef_sla_pay p;
    int rc = ef_sla_pay_init(&p);
    if (rc) goto out;
    if (cust && !ef_sla_settled(s->st[a->epoch])) {
        ef_sla_settle(s, &p, a->epoch, s->vd[a->epoch], EF_EP_FORFEIT);
        penalty = p.to_op;
        rc = ef_sla_pay_finish(ctx, s, &p, "forfeit");
    } else if (!cust) {
        rc = ef_sla_slash(ctx, s, &penalty);
    }
    if (rc == 0) rc = ef_sla_put(ctx, s);
    if (rc == 0)
        rc = ef_sla_emit(ctx, "cheat",
                         json_pack("{s:I, s:I, s:o, s:s, s:I, s:o}", "sla", (json_int_t)s->id, "epoch",
                                   (json_int_t)a->epoch, "monitor", ef_sla_pub_json(&a->signer), "side",
                                   cust ? "customer" : "operator", "penalty", (json_int_t)penalty, "to",
                                   ef_sla_pub_json(cust ? &s->op : &s->cust)));
out:
    ef_sla_pay_free(&p);
    return rc;
}

static int ef_sla_m_report_double(ef_ctx *ctx, const json_t *args)
{
    ef_receipt a, b;
    int rc = ef_sla_double_args(ctx, args, &a, &b);
    if (rc) return rc;
    ef_sla_rec *s = ef_sla_alloc();
    if (!s) return EF_ENOMEM;
    rc = ef_sla_get(ctx, a.sla, s);
    if (rc == 0 && s->state != EF_SLA_ACTIVE) rc = EF_ESTATE;
    if (rc == 0 && a.epoch >= s->epochs) rc = EF_EEPOCH;
    if (rc == 0 && !ef_pub_eq(&a.signer, &s->monitor) && !ef_pub_eq(&a.signer, &s->edge)) rc = EF_ESIGNER;
    if (rc == 0) rc = ef_sla_proof_record(ctx, &a);
    if (rc == 0) rc = ef_sla_cheat(ctx, s, &a);
    free(s);
    return rc;
}

/* --- close --- */

/* Checks every epoch can be closed now; pays the uncontradicted proposals and
 * refunds the open epochs into p (paid) and q (refunded). */
static int ef_sla_close_epochs(ef_ctx *ctx, ef_sla_rec *s, ef_sla_pay *p, ef_sla_pay *q)
{
    for (uint64_t e = 0; e < s->epochs; e++) {
        ef_sla_dispute d;
        if (s->st[e] == EF_EP_CONTESTED) return EF_ESTATE;
        if (s->st[e] != EF_EP_PROPOSED) continue;
        int rc = ef_sla_dispute_get(ctx, s->id, e, &d);
        if (rc) return rc == EF_ENOTFOUND ? EF_EDB : rc;
        if (ef_ctx_height(ctx) <= d.contradict_until) return EF_EAGAIN;
        ef_sla_settle(s, p, e, d.op_verdict, EF_EP_PAID_OP);
    }
    for (uint64_t e = 0; e < s->epochs; e++)
        if (s->st[e] == EF_EP_OPEN) ef_sla_settle(s, q, e, 0, EF_EP_REFUNDED);
    /* a refunded epoch pays nothing to the operator */
    q->to_cust += q->to_op;
    q->to_op = 0;
    return 0;
}

static int ef_sla_closed_event(ef_ctx *ctx, const ef_sla_rec *s, size_t refunded_epochs)
{
    return ef_sla_emit(ctx, "closed",
                       json_pack("{s:I, s:o, s:o, s:I, s:I, s:I}", "sla", (json_int_t)s->id, "operator",
                                 ef_sla_pub_json(&s->op), "customer", ef_sla_pub_json(&s->cust), "paid_total",
                                 (json_int_t)s->paid, "refunded_total", (json_int_t)s->refunded,
                                 "refunded_epochs", (json_int_t)refunded_epochs));
}

static int ef_sla_close(ef_ctx *ctx, ef_sla_rec *s)
{
    ef_sla_pay p, q;
    int rc = ef_sla_pay_init(&p);
    int rq = ef_sla_pay_init(&q);
    if (rc == 0) rc = rq;
    if (rc == 0) rc = ef_sla_close_epochs(ctx, s, &p, &q);
    if (rc == 0) rc = ef_sla_pay_finish(ctx, s, &p, "operator_receipt");
    if (rc == 0) rc = ef_sla_pay_finish(ctx, s, &q, "refund");
    if (rc == 0) rc = ef_sla_unreserve(ctx, s);
    if (rc == 0) {
        EF_ASSERT(s->paid + s->refunded == s->escrow);
        s->state = EF_SLA_CLOSED;
        rc = ef_sla_put(ctx, s);
    }
    if (rc == 0) rc = ef_sla_closed_event(ctx, s, json_array_size(q.epochs));
    ef_sla_pay_free(&p);
    ef_sla_pay_free(&q);
    return rc;
}

static int ef_sla_m_close(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"sla", NULL};
    if (ef_args_only(args, f)) return EF_EARGS;
    ef_sla_rec *s = ef_sla_alloc();
    if (!s) return EF_ENOMEM;
    int rc = ef_sla_load_arg(ctx, args, s);
    if (rc == 0 && s->state != EF_SLA_ACTIVE) rc = EF_ESTATE;
    if (rc == 0 && ef_ctx_time_ms(ctx) < s->end_ms + s->claim_window_ms) rc = EF_EAGAIN;
    if (rc == 0) rc = ef_sla_close(ctx, s);
    free(s);
    return rc;
}

static const ef_method ef_sla_methods[] = {
    {"post_bond", ef_sla_m_post_bond},
    {"withdraw_bond", ef_sla_m_withdraw_bond},
    {"set_controller", ef_sla_m_set_controller},
    {"offer", ef_sla_m_offer},
    {"withdraw", ef_sla_m_withdraw},
    {"activate", ef_sla_m_activate},
    {"confirm", ef_sla_m_confirm},
    {"fail", ef_sla_m_fail},
    {"expire", ef_sla_m_expire},
    {"claim", ef_sla_m_claim},
    {"submit_operator_receipt", ef_sla_m_submit_operator_receipt},
    {"contradict", ef_sla_m_contradict},
    {"rule", ef_sla_m_rule},
    {"report_double", ef_sla_m_report_double},
    {"close", ef_sla_m_close},
    {"topology", ef_sla_m_topology},
};

const ef_contract ef_sla_contract = {
    .name = EF_SLA_CONTRACT_NAME,
    .methods = ef_sla_methods,
    .methods_len = EF_ARRAY_LEN(ef_sla_methods),
    .query = ef_sla_query,
};
