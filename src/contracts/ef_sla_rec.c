/* ef_sla_rec.c: the sla contract's records: encoding, storage, JSON views (see ef_sla_int.h). */
#include <string.h>

#include "contracts/ef_sla_int.h"

static const char *const ef_sla_state_names[] = {"?", "pending", "active", "nullified", "closed"};

const char *ef_sla_state_name(uint8_t state)
{
    return state >= 1 && state <= 4 ? ef_sla_state_names[state] : "?";
}

const char *ef_sla_epoch_name(uint8_t status, uint8_t verdict)
{
    switch (status) {
    case EF_EP_OPEN: return "open";
    case EF_EP_PAID: case EF_EP_PAID_OP: return verdict ? "breached" : "paid";
    case EF_EP_PROPOSED: return "proposed";
    case EF_EP_CONTESTED: return "disputed";
    case EF_EP_RULED: return "ruled";
    case EF_EP_FORFEIT: return "forfeit";
    case EF_EP_REFUNDED: return "refunded";
    default: return "?";
    }
}

size_t ef_sla_key_id(uint8_t *k, char pre, uint64_t id)
{
    k[0] = (uint8_t)pre;
    ef_put_u64be(k + 1, id);
    return 9;
}

size_t ef_sla_key_ep(uint8_t *k, char pre, uint64_t sla, uint64_t epoch, const ef_pub *pub)
{
    k[0] = (uint8_t)pre;
    ef_put_u64be(k + 1, sla);
    ef_put_u64be(k + 9, epoch);
    if (!pub) return 17;
    memcpy(k + 17, pub->b, EF_PUB_SIZE);
    return 17 + EF_PUB_SIZE;
}

size_t ef_sla_key_pub_id(uint8_t *k, char pre, const ef_pub *pub, uint64_t id)
{
    k[0] = (uint8_t)pre;
    memcpy(k + 1, pub->b, EF_PUB_SIZE);
    ef_put_u64be(k + 1 + EF_PUB_SIZE, id);
    return 1 + EF_PUB_SIZE + 8;
}

static int ef_sla_put_wr(ef_ctx *ctx, const uint8_t *k, size_t kn, ef_wr *w)
{
    int rc = w->err ? w->err : ef_ctx_put(ctx, k, kn, w->buf, w->len);
    ef_wr_free(w);
    return rc;
}

int ef_sla_next_id(ef_ctx *ctx, const char *key, uint64_t *id)
{
    const uint8_t *v;
    size_t n;
    *id = 1;
    int rc = ef_ctx_get(ctx, key, 1, &v, &n);
    if (rc == 0 && n == 8) *id = ef_get_u64le(v);
    else if (rc != EF_ENOTFOUND) return rc ? rc : EF_EDB;
    uint8_t nb[8];
    ef_put_u64le(nb, *id + 1);
    return ef_ctx_put(ctx, key, 1, nb, 8);
}

static void ef_sla_wr_terms(ef_wr *w, const ef_sla_rules *r, const uint32_t ppm[3])
{
    ef_wr_u64(w, r->min_kbps);
    ef_wr_u64(w, r->max_latency_us);
    ef_wr_u32(w, r->max_loss_ppm);
    for (int i = 0; i < 3; i++) ef_wr_u32(w, ppm[i]);
}

static void ef_sla_rd_terms(ef_rd *rd, ef_sla_rules *r, uint32_t ppm[3])
{
    ef_rd_u64(rd, &r->min_kbps);
    ef_rd_u64(rd, &r->max_latency_us);
    ef_rd_u32(rd, &r->max_loss_ppm);
    for (int i = 0; i < 3; i++) ef_rd_u32(rd, &ppm[i]);
}

int ef_sla_offer_put(ef_ctx *ctx, const ef_sla_offer_rec *r)
{
    uint8_t k[9];
    ef_wr w;
    ef_wr_init(&w);
    ef_wr_u64(&w, r->id);
    ef_wr_raw(&w, r->op.b, EF_PUB_SIZE);
    ef_wr_u8(&w, r->withdrawn);
    ef_wr_u64(&w, r->height);
    ef_wr_u32(&w, (uint32_t)r->o.area_len);
    for (size_t i = 0; i < r->o.area_len; i++) ef_wr_str(&w, r->o.area[i]);
    ef_sla_wr_terms(&w, &r->o.rules, r->o.penalty_ppm);
    ef_wr_u64(&w, r->o.price);
    ef_wr_u64(&w, r->o.epoch_ms);
    ef_wr_u64(&w, r->o.max_epochs);
    ef_wr_u64(&w, r->o.cheat_penalty);
    ef_wr_u64(&w, r->o.confirm_blocks);
    ef_wr_u64(&w, r->o.claim_window_ms);
    ef_wr_u64(&w, r->o.dispute_window_blocks);
    int rc = ef_sla_put_wr(ctx, k, ef_sla_key_id(k, 'o', r->id), &w);
    if (rc) return rc;
    ef_sla_key_id(k, 'O', r->id);
    return r->withdrawn ? ef_ctx_del(ctx, k, sizeof k) : ef_ctx_put(ctx, k, sizeof k, "", 0);
}

int ef_sla_offer_get(ef_ctx *ctx, uint64_t id, ef_sla_offer_rec *r)
{
    uint8_t k[9];
    const uint8_t *v;
    size_t n;
    uint32_t area_len = 0;
    memset(r, 0, sizeof *r);
    int rc = ef_ctx_get(ctx, k, ef_sla_key_id(k, 'o', id), &v, &n);
    if (rc) return rc;
    ef_rd rd;
    ef_rd_init(&rd, v, n);
    ef_rd_u64(&rd, &r->id);
    ef_rd_raw(&rd, r->op.b, EF_PUB_SIZE);
    ef_rd_u8(&rd, &r->withdrawn);
    ef_rd_u64(&rd, &r->height);
    ef_rd_u32(&rd, &area_len);
    if (area_len > EF_SLA_AREA_MAX) return EF_EDB;
    r->o.area_len = area_len;
    for (size_t i = 0; i < area_len; i++) ef_rd_str(&rd, r->o.area[i], sizeof r->o.area[i]);
    ef_sla_rd_terms(&rd, &r->o.rules, r->o.penalty_ppm);
    ef_rd_u64(&rd, &r->o.price);
    ef_rd_u64(&rd, &r->o.epoch_ms);
    ef_rd_u64(&rd, &r->o.max_epochs);
    ef_rd_u64(&rd, &r->o.cheat_penalty);
    ef_rd_u64(&rd, &r->o.confirm_blocks);
    ef_rd_u64(&rd, &r->o.claim_window_ms);
    ef_rd_u64(&rd, &r->o.dispute_window_blocks);
    return ef_rd_finish(&rd) ? EF_EDB : 0;
}

static void ef_sla_wr_body(ef_wr *w, const ef_sla_rec *r)
{
    ef_wr_u64(w, r->id);
    ef_wr_u64(w, r->offer);
    ef_wr_raw(w, r->op.b, EF_PUB_SIZE);
    ef_wr_raw(w, r->cust.b, EF_PUB_SIZE);
    ef_wr_raw(w, r->monitor.b, EF_PUB_SIZE);
    ef_wr_raw(w, r->edge.b, EF_PUB_SIZE);
    ef_wr_str(w, r->ap);
    ef_wr_str(w, r->dst);
    ef_wr_str(w, r->slice);
    ef_wr_str(w, r->reason);
    ef_wr_u32(w, r->path_len);
    for (uint32_t i = 0; i < r->path_len; i++) ef_wr_str(w, r->path[i]);
    ef_sla_wr_terms(w, &r->rules, r->penalty_ppm);
    ef_wr_u64(w, r->price);
    ef_wr_u64(w, r->epoch_ms);
    ef_wr_u64(w, r->epochs);
    ef_wr_u64(w, r->reserved);
    ef_wr_u64(w, r->claim_window_ms);
    ef_wr_u64(w, r->dispute_window_blocks);
    ef_wr_u8(w, r->state);
    ef_wr_u64(w, r->activated);
    ef_wr_u64(w, r->deadline_height);
    ef_wr_u64(w, r->start_ms);
    ef_wr_u64(w, r->end_ms);
    ef_wr_u64(w, r->escrow_id);
    ef_wr_u64(w, r->escrow);
    ef_wr_u64(w, r->paid);
    ef_wr_u64(w, r->refunded);
    ef_wr_bytes(w, r->st, r->epochs);
    ef_wr_bytes(w, r->vd, r->epochs);
}

int ef_sla_put(ef_ctx *ctx, const ef_sla_rec *r)
{
    EF_ASSERT(r->epochs >= 1 && r->epochs <= EF_SLA_EPOCHS_MAX && r->path_len <= EF_SLA_PATH_MAX);
    EF_ASSERT(r->paid + r->refunded <= r->escrow);
    uint8_t k[9];
    ef_wr w;
    ef_wr_init(&w);
    ef_sla_wr_body(&w, r);
    int rc = ef_sla_put_wr(ctx, k, ef_sla_key_id(k, 's', r->id), &w);
    if (rc) return rc;
    ef_sla_key_id(k, 'S', r->id);
    bool live = r->state == EF_SLA_PENDING || r->state == EF_SLA_ACTIVE;
    return live ? ef_ctx_put(ctx, k, sizeof k, "", 0) : ef_ctx_del(ctx, k, sizeof k);
}

static int ef_sla_rd_epochs(ef_rd *rd, uint8_t *out, uint64_t epochs)
{
    const uint8_t *p;
    size_t n;
    if (ef_rd_bytes(rd, &p, &n, EF_SLA_EPOCHS_MAX)) return rd->err;
    if (n != epochs) return ef_rd_fail(rd, EF_EDB);
    memcpy(out, p, n);
    return 0;
}

static void ef_sla_rd_body(ef_rd *rd, ef_sla_rec *r)
{
    ef_rd_u64(rd, &r->id);
    ef_rd_u64(rd, &r->offer);
    ef_rd_raw(rd, r->op.b, EF_PUB_SIZE);
    ef_rd_raw(rd, r->cust.b, EF_PUB_SIZE);
    ef_rd_raw(rd, r->monitor.b, EF_PUB_SIZE);
    ef_rd_raw(rd, r->edge.b, EF_PUB_SIZE);
    ef_rd_str(rd, r->ap, sizeof r->ap);
    ef_rd_str(rd, r->dst, sizeof r->dst);
    ef_rd_str(rd, r->slice, sizeof r->slice);
    ef_rd_str(rd, r->reason, sizeof r->reason);
    ef_rd_u32(rd, &r->path_len);
    if (r->path_len > EF_SLA_PATH_MAX) {
        ef_rd_fail(rd, EF_EDB);
        return;
    }
    for (uint32_t i = 0; i < r->path_len; i++) ef_rd_str(rd, r->path[i], sizeof r->path[i]);
    ef_sla_rd_terms(rd, &r->rules, r->penalty_ppm);
    ef_rd_u64(rd, &r->price);
    ef_rd_u64(rd, &r->epoch_ms);
    ef_rd_u64(rd, &r->epochs);
    ef_rd_u64(rd, &r->reserved);
    ef_rd_u64(rd, &r->claim_window_ms);
    ef_rd_u64(rd, &r->dispute_window_blocks);
    ef_rd_u8(rd, &r->state);
    ef_rd_u64(rd, &r->activated);
    ef_rd_u64(rd, &r->deadline_height);
    ef_rd_u64(rd, &r->start_ms);
    ef_rd_u64(rd, &r->end_ms);
    ef_rd_u64(rd, &r->escrow_id);
    ef_rd_u64(rd, &r->escrow);
    ef_rd_u64(rd, &r->paid);
    ef_rd_u64(rd, &r->refunded);
    ef_sla_rd_epochs(rd, r->st, r->epochs);
    ef_sla_rd_epochs(rd, r->vd, r->epochs);
}

int ef_sla_get(ef_ctx *ctx, uint64_t id, ef_sla_rec *r)
{
    uint8_t k[9];
    const uint8_t *v;
    size_t n;
    memset(r, 0, sizeof *r);
    int rc = ef_ctx_get(ctx, k, ef_sla_key_id(k, 's', id), &v, &n);
    if (rc) return rc;
    ef_rd rd;
    ef_rd_init(&rd, v, n);
    ef_sla_rd_body(&rd, r);
    if (ef_rd_finish(&rd) || r->state < 1 || r->state > 4) return EF_EDB;
    return 0;
}

int ef_sla_bond_get(ef_ctx *ctx, const ef_pub *op, ef_sla_bond *b)
{
    uint8_t k[1 + EF_PUB_SIZE];
    const uint8_t *v;
    size_t n;
    memset(b, 0, sizeof *b);
    k[0] = 'b';
    memcpy(k + 1, op->b, EF_PUB_SIZE);
    int rc = ef_ctx_get(ctx, k, sizeof k, &v, &n);
    if (rc) return rc;
    ef_rd rd;
    ef_rd_init(&rd, v, n);
    ef_rd_u64(&rd, &b->escrow_id);
    ef_rd_u64(&rd, &b->bond);
    ef_rd_u64(&rd, &b->reserved);
    ef_rd_u8(&rd, &b->has_controller);
    ef_rd_raw(&rd, b->controller.b, EF_PUB_SIZE);
    return ef_rd_finish(&rd) || b->reserved > b->bond ? EF_EDB : 0;
}

int ef_sla_bond_put(ef_ctx *ctx, const ef_pub *op, const ef_sla_bond *b)
{
    EF_ASSERT(b->reserved <= b->bond);
    uint8_t k[1 + EF_PUB_SIZE];
    ef_wr w;
    k[0] = 'b';
    memcpy(k + 1, op->b, EF_PUB_SIZE);
    ef_wr_init(&w);
    ef_wr_u64(&w, b->escrow_id);
    ef_wr_u64(&w, b->bond);
    ef_wr_u64(&w, b->reserved);
    ef_wr_u8(&w, b->has_controller);
    ef_wr_raw(&w, b->controller.b, EF_PUB_SIZE);
    return ef_sla_put_wr(ctx, k, sizeof k, &w);
}

int ef_sla_dispute_get(ef_ctx *ctx, uint64_t sla, uint64_t epoch, ef_sla_dispute *d)
{
    uint8_t k[17];
    const uint8_t *v;
    size_t n;
    memset(d, 0, sizeof *d);
    int rc = ef_ctx_get(ctx, k, ef_sla_key_ep(k, 'e', sla, epoch, NULL), &v, &n);
    if (rc) return rc;
    ef_rd rd;
    ef_rd_init(&rd, v, n);
    ef_rd_u8(&rd, &d->op_verdict);
    ef_rd_u8(&rd, &d->cust_verdict);
    ef_rd_u64(&rd, &d->contradict_until);
    for (int i = 0; i < 8; i++) ef_rd_u32(&rd, &d->votes[i]);
    return ef_rd_finish(&rd) ? EF_EDB : 0;
}

int ef_sla_dispute_put(ef_ctx *ctx, uint64_t sla, uint64_t epoch, const ef_sla_dispute *d)
{
    uint8_t k[17];
    ef_wr w;
    ef_wr_init(&w);
    ef_wr_u8(&w, d->op_verdict);
    ef_wr_u8(&w, d->cust_verdict);
    ef_wr_u64(&w, d->contradict_until);
    for (int i = 0; i < 8; i++) ef_wr_u32(&w, d->votes[i]);
    return ef_sla_put_wr(ctx, k, ef_sla_key_ep(k, 'e', sla, epoch, NULL), &w);
}

/* --- JSON views --- */

json_t *ef_sla_pub_json(const ef_pub *p)
{
    char hex[2 * EF_PUB_SIZE + 1];
    ef_hex(hex, p->b, EF_PUB_SIZE);
    return json_string(hex);
}

json_t *ef_sla_rules_json(const ef_sla_rules *r)
{
    return json_pack("{s:I, s:I, s:I}", "min_kbps", (json_int_t)r->min_kbps, "max_latency_us",
                     (json_int_t)r->max_latency_us, "max_loss_ppm", (json_int_t)r->max_loss_ppm);
}

json_t *ef_sla_penalty_json(const uint32_t ppm[3])
{
    return json_pack("{s:I, s:I, s:I}", "min_kbps", (json_int_t)ppm[0], "max_latency_us", (json_int_t)ppm[1],
                     "max_loss_ppm", (json_int_t)ppm[2]);
}

static json_t *ef_sla_names_json(const char (*names)[EF_SLA_NAME_MAX + 1], size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) json_array_append_new(a, json_string(names[i]));
    return a;
}

json_t *ef_sla_offer_json(const ef_sla_offer_rec *r)
{
    const ef_sla_offer *o = &r->o;
    return json_pack("{s:I, s:o, s:s, s:I, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "offer",
                     (json_int_t)r->id, "operator", ef_sla_pub_json(&r->op), "state",
                     r->withdrawn ? "withdrawn" : "open", "height", (json_int_t)r->height, "area",
                     ef_sla_names_json(o->area, o->area_len), "rules", ef_sla_rules_json(&o->rules), "penalty",
                     ef_sla_penalty_json(o->penalty_ppm), "price", (json_int_t)o->price, "epoch_ms",
                     (json_int_t)o->epoch_ms, "max_epochs", (json_int_t)o->max_epochs, "cheat_penalty",
                     (json_int_t)o->cheat_penalty, "confirm_blocks", (json_int_t)o->confirm_blocks,
                     "claim_window_ms", (json_int_t)o->claim_window_ms, "dispute_window_blocks",
                     (json_int_t)o->dispute_window_blocks);
}

static void ef_sla_json_epochs(json_t *j, const ef_sla_rec *r)
{
    json_t *st = json_array(), *vd = json_array();
    for (uint64_t i = 0; st && vd && i < r->epochs; i++) {
        json_array_append_new(st, json_string(ef_sla_epoch_name(r->st[i], r->vd[i])));
        json_array_append_new(vd, json_integer(r->vd[i]));
    }
    json_object_set_new(j, "epoch_status", st ? st : json_null());
    json_object_set_new(j, "verdicts", vd ? vd : json_null());
}

static void ef_sla_json_confirmed(json_t *j, const ef_sla_rec *r)
{
    json_object_set_new(j, "slice", json_string(r->slice));
    json_object_set_new(j, "path", ef_sla_names_json(r->path, r->path_len));
    json_object_set_new(j, "edge_monitor", ef_sla_pub_json(&r->edge));
    json_object_set_new(j, "start_ms", json_integer((json_int_t)r->start_ms));
    json_object_set_new(j, "end_ms", json_integer((json_int_t)r->end_ms));
    json_object_set_new(j, "claim_until_ms", json_integer((json_int_t)(r->end_ms + r->claim_window_ms)));
}

json_t *ef_sla_json(const ef_sla_rec *r, bool with_epochs)
{
    json_t *j = json_pack("{s:I, s:I, s:o, s:o, s:s, s:s, s:I, s:I, s:I, s:o, s:o, s:I, s:o, s:s, s:I, s:I}",
                          "sla", (json_int_t)r->id, "offer", (json_int_t)r->offer, "operator",
                          ef_sla_pub_json(&r->op), "customer", ef_sla_pub_json(&r->cust), "ap", r->ap, "dst",
                          r->dst, "epochs", (json_int_t)r->epochs, "epoch_ms", (json_int_t)r->epoch_ms, "price",
                          (json_int_t)r->price, "rules", ef_sla_rules_json(&r->rules), "penalty",
                          ef_sla_penalty_json(r->penalty_ppm), "bond_reserved", (json_int_t)r->reserved,
                          "monitor", ef_sla_pub_json(&r->monitor), "state", ef_sla_state_name(r->state),
                          "activated", (json_int_t)r->activated, "deadline_height",
                          (json_int_t)r->deadline_height);
    if (!j) return NULL;
    json_object_set_new(j, "escrow", json_integer((json_int_t)r->escrow));
    json_object_set_new(j, "paid", json_integer((json_int_t)r->paid));
    json_object_set_new(j, "refunded", json_integer((json_int_t)r->refunded));
    json_object_set_new(j, "left", json_integer((json_int_t)(r->escrow - r->paid - r->refunded)));
    if (r->slice[0]) ef_sla_json_confirmed(j, r);
    if (r->reason[0]) json_object_set_new(j, "reason", json_string(r->reason));
    if (with_epochs) ef_sla_json_epochs(j, r);
    return j;
}

bool ef_sla_name_ok(const char *s)
{
    size_t n = strnlen(s, EF_SLA_NAME_MAX + 1);
    if (n == 0 || n > EF_SLA_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == ':' || c == '-';
        if (!ok) return false;
    }
    return true;
}
