/* ef_federation.c: the federation contract (reverse auction, deployment, payment); see ef_federation.h. */
#include "contracts/ef_federation.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ef_cjson.h"
#include "base/ef_codec.h"
#include "base/ef_err.h"
#include "contracts/ef_bank.h"
#include "contracts/ef_registry.h"

#define FED_PUBHEX_LEN (2 * EF_PUB_SIZE)
#define FED_KEY_LEN 96

static const char *const fed_state_names[EF_FED_STATE_COUNT_] = {
    "open", "awarded", "deployed", "connected", "expired", "cancelled", "terminated",
};

const char *ef_fed_state_name(ef_fed_state s)
{
    if ((int)s < 0 || s >= EF_FED_STATE_COUNT_) return "?";
    return fed_state_names[s];
}

int ef_fed_state_parse(const char *s)
{
    for (int i = 0; i < EF_FED_STATE_COUNT_; i++)
        if (!strcmp(s, fed_state_names[i])) return i;
    return -1;
}

/* ---------------------------------------------------------------- helpers */

static void fed_pubhex(char out[FED_PUBHEX_LEN + 1], const ef_pub *pub)
{
    ef_hex(out, pub->b, EF_PUB_SIZE);
}

static void fed_svc_key(char out[FED_KEY_LEN], uint64_t id)
{
    snprintf(out, FED_KEY_LEN, "svc/%016" PRIx64, id);
}

static void fed_st_key(char out[FED_KEY_LEN], ef_fed_state s, uint64_t id)
{
    snprintf(out, FED_KEY_LEN, "st/%s/%016" PRIx64, ef_fed_state_name(s), id);
}

static void fed_idx_key(char out[FED_KEY_LEN], const char *pubhex, uint64_t id)
{
    snprintf(out, FED_KEY_LEN, "idx/%s/%016" PRIx64, pubhex, id);
}

static void fed_op_key(char out[FED_KEY_LEN], const char *pubhex)
{
    snprintf(out, FED_KEY_LEN, "op/%s", pubhex);
}

/* Characters allowed in names, addresses, subnets and service names: they end up
 * in orchestrator commands (ip link, addresses), so nothing a shell or a command
 * line could misread. Names may also hold spaces. */
static bool fed_str_ok(const char *s, bool spaces)
{
    if (!*s) return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == ':' || c == '-' || c == '_' || c == '/' || (spaces && c == ' ');
        if (!ok) return false;
    }
    return true;
}

static int fed_get_str(const json_t *obj, const char *field, size_t max, bool spaces, const char **out)
{
    int rc = ef_args_str(obj, field, out, max);
    if (rc) return rc;
    if (!fed_str_ok(*out, spaces)) return EF_EARGS;
    return 0;
}

/* Optional u64 field: *present says whether it was there. */
static int fed_opt_u64(const json_t *obj, const char *field, uint64_t *out, bool *present)
{
    *present = json_object_get(obj, field) != NULL;
    if (!*present) return 0;
    return ef_args_u64(obj, field, out);
}

static uint64_t fed_u64(const json_t *rec, const char *field)
{
    json_t *v = json_object_get(rec, field);
    EF_ASSERT(json_is_integer(v) && json_integer_value(v) >= 0);
    return (uint64_t)json_integer_value(v);
}

static const char *fed_str(const json_t *rec, const char *field)
{
    json_t *v = json_object_get(rec, field);
    EF_ASSERT(json_is_string(v));
    return json_string_value(v);
}

static int fed_set_u64(json_t *obj, const char *field, uint64_t v)
{
    if (v > (uint64_t)INT64_MAX) return EF_EOVERFLOW;
    return json_object_set_new(obj, field, json_integer((json_int_t)v)) ? EF_ENOMEM : 0;
}

static int fed_set_str(json_t *obj, const char *field, const char *s)
{
    return json_object_set_new(obj, field, json_string(s)) ? EF_ENOMEM : 0;
}

static int fed_set(json_t *obj, const char *field, json_t *v)
{
    return json_object_set(obj, field, v) ? EF_ENOMEM : 0;
}

/* Parses an ENDPOINT object into a new normalised copy in *out. need_tunnel makes
 * vni and subnet required. */
static int fed_endpoint(const json_t *args, const char *field, bool need_tunnel, json_t **out)
{
    static const char *const fields[] = {"address", "port", "vni", "subnet", "overlay_ip", "app_port", NULL};
    const json_t *ep = json_object_get(args, field);
    const char *address, *subnet = NULL, *overlay_ip = NULL;
    uint64_t port, vni = 0, app_port = 0;
    bool has_vni, has_app;
    int rc;

    *out = NULL;
    if (!json_is_object(ep)) return EF_EARGS;
    if ((rc = ef_args_only(ep, fields))) return rc;
    if ((rc = fed_get_str(ep, "address", EF_FED_ADDR_MAX, false, &address))) return rc;
    if ((rc = ef_args_u64(ep, "port", &port))) return rc;
    if (port < 1 || port > 65535) return EF_EARGS;
    if ((rc = fed_opt_u64(ep, "vni", &vni, &has_vni))) return rc;
    if (has_vni && (vni < 1 || vni > EF_FED_VNI_MAX)) return EF_EARGS;
    if ((rc = fed_opt_u64(ep, "app_port", &app_port, &has_app))) return rc;
    if (has_app && (app_port < 1 || app_port > 65535)) return EF_EARGS;
    if (json_object_get(ep, "subnet") &&
        (rc = fed_get_str(ep, "subnet", EF_FED_ADDR_MAX, false, &subnet)))
        return rc;
    if (json_object_get(ep, "overlay_ip") &&
        (rc = fed_get_str(ep, "overlay_ip", EF_FED_ADDR_MAX, false, &overlay_ip)))
        return rc;
    if (need_tunnel && (!has_vni || !subnet)) return EF_EARGS;

    json_t *o = json_object();
    if (!o) return EF_ENOMEM;
    rc = fed_set_str(o, "address", address);
    if (!rc) rc = fed_set_u64(o, "port", port);
    if (!rc && has_vni) rc = fed_set_u64(o, "vni", vni);
    if (!rc && subnet) rc = fed_set_str(o, "subnet", subnet);
    if (!rc && overlay_ip) rc = fed_set_str(o, "overlay_ip", overlay_ip);
    if (!rc && has_app) rc = fed_set_u64(o, "app_port", app_port);
    if (rc) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return 0;
}

static int fed_requirements(const json_t *args, json_t **out)
{
    static const char *const fields[] = {"service", "instance", "cpu_milli", "mem_mb", NULL};
    const json_t *rq = json_object_get(args, "requirements");
    const char *service, *instance = NULL;
    uint64_t cpu = 0, mem = 0;
    bool has_cpu, has_mem;
    int rc;

    *out = NULL;
    if (!json_is_object(rq)) return EF_EARGS;
    if ((rc = ef_args_only(rq, fields))) return rc;
    if ((rc = fed_get_str(rq, "service", EF_FED_SERVICE_MAX, false, &service))) return rc;
    if (json_object_get(rq, "instance") &&
        (rc = fed_get_str(rq, "instance", EF_FED_INSTANCE_MAX, false, &instance)))
        return rc;
    if ((rc = fed_opt_u64(rq, "cpu_milli", &cpu, &has_cpu))) return rc;
    if ((rc = fed_opt_u64(rq, "mem_mb", &mem, &has_mem))) return rc;

    json_t *o = json_object();
    if (!o) return EF_ENOMEM;
    rc = fed_set_str(o, "service", service);
    if (!rc && instance) rc = fed_set_str(o, "instance", instance);
    if (!rc && has_cpu) rc = fed_set_u64(o, "cpu_milli", cpu);
    if (!rc && has_mem) rc = fed_set_u64(o, "mem_mb", mem);
    if (rc) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return 0;
}

/* The sender must be a registered federation operator. */
static int fed_require_operator(ef_ctx *ctx, const char *pubhex)
{
    char key[FED_KEY_LEN];
    const uint8_t *val;
    size_t len;
    fed_op_key(key, pubhex);
    int rc = ef_ctx_get(ctx, key, strlen(key), &val, &len);
    if (rc == EF_ENOTFOUND) return EF_EPERM;
    return rc;
}

static int fed_load(ef_ctx *ctx, uint64_t id, json_t **rec)
{
    char key[FED_KEY_LEN];
    fed_svc_key(key, id);
    return ef_ctx_get_json(ctx, key, rec);
}

static int fed_store(ef_ctx *ctx, uint64_t id, const json_t *rec)
{
    char key[FED_KEY_LEN];
    fed_svc_key(key, id);
    return ef_ctx_put_json(ctx, key, rec);
}

static ef_fed_state fed_rec_state(const json_t *rec)
{
    int s = ef_fed_state_parse(fed_str(rec, "state"));
    EF_ASSERT(s >= 0);
    return (ef_fed_state)s;
}

/* Moves the record to state `to`, keeping the by-state index in step. */
static int fed_set_state(ef_ctx *ctx, json_t *rec, uint64_t id, ef_fed_state to)
{
    char key[FED_KEY_LEN];
    int rc;
    fed_st_key(key, fed_rec_state(rec), id);
    if ((rc = ef_ctx_del(ctx, key, strlen(key))) && rc != EF_ENOTFOUND) return rc;
    fed_st_key(key, to, id);
    if ((rc = ef_ctx_put(ctx, key, strlen(key), "", 0))) return rc;
    return fed_set_str(rec, "state", ef_fed_state_name(to));
}

static int fed_index(ef_ctx *ctx, const char *pubhex, uint64_t id, const char *role)
{
    char key[FED_KEY_LEN];
    fed_idx_key(key, pubhex, id);
    return ef_ctx_put(ctx, key, strlen(key), role, strlen(role));
}

/* Loads service args.id and checks that its state is one of `allowed` (a bit mask of
 * 1 << state). On success the caller owns *rec. */
static int fed_load_args(ef_ctx *ctx, const json_t *args, unsigned allowed, uint64_t *id, json_t **rec)
{
    int rc;
    *rec = NULL;
    if ((rc = ef_args_u64(args, "id", id))) return rc;
    if ((rc = fed_load(ctx, *id, rec))) return rc;
    if (!(allowed & (1u << fed_rec_state(*rec)))) {
        json_decref(*rec);
        *rec = NULL;
        return EF_ESTATE;
    }
    return 0;
}

/* Releases what is left in the service's escrow to the consumer; *refunded gets it. */
static int fed_refund_rest(ef_ctx *ctx, const json_t *rec, uint64_t *refunded)
{
    uint64_t escrow = fed_u64(rec, "escrow"), left = 0;
    ef_pub consumer;
    int rc;
    *refunded = 0;
    if ((rc = ef_bank_escrow_left(ctx, escrow, &left))) return rc;
    if (left == 0) return 0;
    if ((rc = ef_unhex(consumer.b, EF_PUB_SIZE, fed_str(rec, "consumer")))) return rc;
    if ((rc = ef_bank_escrow_release(ctx, escrow, &consumer, left))) return rc;
    *refunded = left;
    return 0;
}

static int fed_add_u64(json_t *rec, const char *field, uint64_t add)
{
    json_t *v = json_object_get(rec, field);
    uint64_t cur = v ? (uint64_t)json_integer_value(v) : 0;
    if (cur + add < cur) return EF_EOVERFLOW;
    return fed_set_u64(rec, field, cur + add);
}

/* Marks the end of a service: who ended it, when, and what came back. */
static int fed_end(ef_ctx *ctx, json_t *rec, const char *by, uint64_t refunded)
{
    char who[FED_PUBHEX_LEN + 1];
    int rc;
    if (!by) {
        fed_pubhex(who, ef_ctx_sender(ctx));
        by = who;
    }
    if ((rc = fed_set_u64(rec, "ended_ms", ef_ctx_time_ms(ctx)))) return rc;
    if ((rc = fed_set_str(rec, "ended_by", by))) return rc;
    return fed_add_u64(rec, "refunded", refunded);
}

/* Winds a service up: refunds what is left in escrow to the consumer, moves it
 * to state `to` and marks its end (by: as in fed_end). *refunded gets the refund. */
static int fed_wind_up(ef_ctx *ctx, json_t *rec, uint64_t id, ef_fed_state to, const char *by, uint64_t *refunded)
{
    int rc;
    if ((rc = fed_refund_rest(ctx, rec, refunded))) return rc;
    if ((rc = fed_set_state(ctx, rec, id, to))) return rc;
    return fed_end(ctx, rec, by, *refunded);
}

/* Emits event `name` with ev, which it takes (NULL, a failed json_pack: EF_ENOMEM). */
static int fed_emit(ef_ctx *ctx, const char *name, json_t *ev)
{
    if (!ev) return EF_ENOMEM;
    int rc = ef_ctx_emit(ctx, name, ev);
    json_decref(ev);
    return rc;
}

/* The event of a service wound up with its deposit returned: expired or cancelled. */
static int fed_emit_refund(ef_ctx *ctx, const char *name, const json_t *rec, uint64_t id, uint64_t refunded)
{
    return fed_emit(ctx, name, json_pack("{s:I, s:O, s:I}", "id", (json_int_t)id, "consumer",
                                         json_object_get(rec, "consumer"), "refunded", (json_int_t)refunded));
}

/* The award: lowest price, ties to the earliest bid (array order is chain order). */
static int fed_award(ef_ctx *ctx, json_t *rec, uint64_t id)
{
    json_t *bids = json_object_get(rec, "bids");
    size_t n = json_array_size(bids), best = 0;
    int rc;
    EF_ASSERT(n > 0);
    for (size_t i = 1; i < n; i++)
        if (fed_u64(json_array_get(bids, i), "price") < fed_u64(json_array_get(bids, best), "price"))
            best = i;
    json_t *win = json_array_get(bids, best);
    uint64_t now = ef_ctx_time_ms(ctx);
    uint64_t window = fed_u64(rec, "deploy_window_ms");
    if (now + window < now) return EF_EOVERFLOW;

    if ((rc = fed_set_state(ctx, rec, id, EF_FED_AWARDED))) return rc;
    if ((rc = fed_set(rec, "winner", json_object_get(win, "provider")))) return rc;
    if ((rc = fed_set(rec, "price", json_object_get(win, "price")))) return rc;
    if ((rc = fed_set(rec, "provider_endpoint", json_object_get(win, "endpoint")))) return rc;
    if ((rc = fed_set_u64(rec, "awarded_ms", now))) return rc;
    if ((rc = fed_set_u64(rec, "deploy_deadline_ms", now + window))) return rc;

    return fed_emit(ctx, "awarded", json_pack("{s:I, s:O, s:O, s:O, s:O, s:O, s:O, s:I, s:I}",
                           "id", (json_int_t)id,
                           "consumer", json_object_get(rec, "consumer"),
                           "winner", json_object_get(win, "provider"),
                           "price", json_object_get(win, "price"),
                           "endpoint", json_object_get(win, "endpoint"),
                           "consumer_endpoint", json_object_get(rec, "endpoint"),
                           "requirements", json_object_get(rec, "requirements"),
                           "bids", (json_int_t)n,
                           "deploy_deadline_ms", (json_int_t)(now + window)));
}

/* ---------------------------------------------------------------- methods */

static int fed_register_op(ef_ctx *ctx, const ef_pub *pub, const char *name, const char *location)
{
    char pubhex[FED_PUBHEX_LEN + 1], key[FED_KEY_LEN];
    const uint8_t *val;
    size_t len;
    ef_role role = EF_ROLE_NONE;
    int rc;

    if (!fed_str_ok(name, true) || strlen(name) > EF_FED_NAME_MAX) return EF_EARGS;
    if (!fed_str_ok(location, false) || strlen(location) > EF_FED_LOCATION_MAX) return EF_EARGS;
    char domain[EF_DOMAIN_MAX + 1];
    if ((rc = ef_registry_role(ctx, pub, &role, domain))) return rc == EF_ENOTFOUND ? EF_EPERM : rc;
    if (role == EF_ROLE_NONE) return EF_EPERM;
    fed_pubhex(pubhex, pub);
    fed_op_key(key, pubhex);
    rc = ef_ctx_get(ctx, key, strlen(key), &val, &len);
    if (rc == 0) return EF_EEXIST;
    if (rc != EF_ENOTFOUND) return rc;

    json_t *op = json_pack("{s:s, s:s, s:s, s:I}", "operator", pubhex, "name", name,
                           "location", location, "height", (json_int_t)ef_ctx_height(ctx));
    if (!op) return EF_ENOMEM;
    rc = ef_ctx_put_json(ctx, key, op);
    json_object_del(op, "height");
    if (!rc) rc = ef_ctx_emit(ctx, "operator_registered", op);
    json_decref(op);
    return rc;
}

static int fed_m_register(ef_ctx *ctx, const json_t *args)
{
    static const char *const fields[] = {"name", "location", NULL};
    const char *name, *location;
    int rc;
    if ((rc = ef_args_only(args, fields))) return rc;
    if ((rc = ef_args_str(args, "name", &name, EF_FED_NAME_MAX))) return rc;
    if ((rc = ef_args_str(args, "location", &location, EF_FED_LOCATION_MAX))) return rc;
    return fed_register_op(ctx, ef_ctx_sender(ctx), name, location);
}

static int fed_m_announce(ef_ctx *ctx, const json_t *args)
{
    static const char *const fields[] = {"requirements", "endpoint", "offers", "bid_window_ms",
                                         "deploy_window_ms", "max_price", "deposit", NULL};
    char pubhex[FED_PUBHEX_LEN + 1], key[FED_KEY_LEN];
    uint64_t offers, bid_window, deploy_window, max_price, deposit, id = 1, escrow;
    json_t *req = NULL, *ep = NULL, *rec = NULL;
    int rc;

    if ((rc = ef_args_only(args, fields))) goto out;
    if ((rc = fed_requirements(args, &req))) goto out;
    if ((rc = fed_endpoint(args, "endpoint", true, &ep))) goto out;
    if ((rc = ef_args_u64(args, "offers", &offers))) goto out;
    if ((rc = ef_args_u64(args, "bid_window_ms", &bid_window))) goto out;
    if ((rc = ef_args_u64(args, "deploy_window_ms", &deploy_window))) goto out;
    if ((rc = ef_args_u64(args, "max_price", &max_price))) goto out;
    if ((rc = ef_args_u64(args, "deposit", &deposit))) goto out;
    rc = EF_EINVAL;
    if (offers < 1 || offers > EF_FED_BIDS_MAX) goto out;
    if (bid_window < 1 || bid_window > EF_FED_WINDOW_MAX_MS) goto out;
    if (deploy_window < 1 || deploy_window > EF_FED_WINDOW_MAX_MS) goto out;
    if (max_price < 1 || deposit < max_price || deposit > (uint64_t)INT64_MAX) goto out;

    fed_pubhex(pubhex, ef_ctx_sender(ctx));
    if ((rc = fed_require_operator(ctx, pubhex))) goto out;

    const uint8_t *nv;
    size_t nv_len;
    rc = ef_ctx_get(ctx, "next_id", 7, &nv, &nv_len);
    if (rc == 0) {
        if (nv_len != 8 || (id = ef_get_u64le(nv)) < 1) {
            rc = EF_EDB;
            goto out;
        }
    } else if (rc != EF_ENOTFOUND) {
        goto out;
    }
    if ((rc = ef_bank_escrow_lock(ctx, deposit, &escrow))) goto out;

    uint64_t now = ef_ctx_time_ms(ctx);
    rec = json_pack("{s:I, s:s, s:s, s:O, s:O, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:[], s:I, s:I}",
                    "id", (json_int_t)id, "state", "open", "consumer", pubhex,
                    "requirements", req, "endpoint", ep,
                    "offers", (json_int_t)offers, "max_price", (json_int_t)max_price,
                    "deposit", (json_int_t)deposit, "escrow", (json_int_t)escrow,
                    "announced_ms", (json_int_t)now,
                    "announced_height", (json_int_t)ef_ctx_height(ctx),
                    "deadline_ms", (json_int_t)(now + bid_window),
                    "deploy_window_ms", (json_int_t)deploy_window, "bids",
                    "paid", (json_int_t)0, "refunded", (json_int_t)0);
    if (!rec) {
        rc = EF_ENOMEM;
        goto out;
    }
    fed_st_key(key, EF_FED_OPEN, id);
    if ((rc = ef_ctx_put(ctx, key, strlen(key), "", 0))) goto out;
    if ((rc = fed_store(ctx, id, rec))) goto out;
    if ((rc = fed_index(ctx, pubhex, id, "consumer"))) goto out;
    uint8_t nbuf[8];
    ef_put_u64le(nbuf, id + 1);
    if ((rc = ef_ctx_put(ctx, "next_id", 7, nbuf, sizeof nbuf))) goto out;

    rc = fed_emit(ctx, "announced",
                  json_pack("{s:I, s:s, s:O, s:O, s:I, s:I, s:I, s:I, s:I}",
                            "id", (json_int_t)id, "consumer", pubhex, "requirements", req, "endpoint", ep,
                            "offers", (json_int_t)offers, "max_price", (json_int_t)max_price,
                            "deposit", (json_int_t)deposit, "deadline_ms", (json_int_t)(now + bid_window),
                            "deploy_window_ms", (json_int_t)deploy_window));
out:
    json_decref(rec);
    json_decref(req);
    json_decref(ep);
    return rc;
}

static int fed_m_bid(ef_ctx *ctx, const json_t *args)
{
    static const char *const fields[] = {"id", "price", "endpoint", NULL};
    char pubhex[FED_PUBHEX_LEN + 1];
    uint64_t id, price;
    json_t *rec = NULL, *ep = NULL, *bid = NULL;
    int rc;

    if ((rc = ef_args_only(args, fields))) goto out;
    if ((rc = ef_args_u64(args, "price", &price))) goto out;
    if ((rc = fed_endpoint(args, "endpoint", false, &ep))) goto out;
    if ((rc = fed_load_args(ctx, args, 1u << EF_FED_OPEN, &id, &rec))) goto out;
    fed_pubhex(pubhex, ef_ctx_sender(ctx));
    if ((rc = fed_require_operator(ctx, pubhex))) goto out;
    rc = EF_EPERM;
    if (!strcmp(pubhex, fed_str(rec, "consumer"))) goto out;
    rc = EF_ELATE;
    if (ef_ctx_time_ms(ctx) >= fed_u64(rec, "deadline_ms")) goto out;
    json_t *bids = json_object_get(rec, "bids");
    for (size_t i = 0; i < json_array_size(bids); i++) {
        rc = EF_EDUP;
        if (!strcmp(pubhex, fed_str(json_array_get(bids, i), "provider"))) goto out;
    }
    rc = EF_EPRICE;
    if (price > fed_u64(rec, "max_price")) goto out;
    rc = EF_EINVAL;
    if (price < 1) goto out;
    rc = EF_EFULL;
    if (json_array_size(bids) >= EF_FED_BIDS_MAX) goto out;

    bid = json_pack("{s:s, s:I, s:O, s:I, s:I}", "provider", pubhex, "price", (json_int_t)price,
                    "endpoint", ep, "time_ms", (json_int_t)ef_ctx_time_ms(ctx),
                    "height", (json_int_t)ef_ctx_height(ctx));
    rc = EF_ENOMEM;
    if (!bid || json_array_append(bids, bid)) goto out;
    size_t n = json_array_size(bids);
    if ((rc = fed_index(ctx, pubhex, id, "bidder"))) goto out;
    if ((rc = fed_emit(ctx, "bid", json_pack("{s:I, s:s, s:I, s:O, s:I}", "id", (json_int_t)id, "provider", pubhex,
                                             "price", (json_int_t)price, "endpoint", ep, "bids", (json_int_t)n))))
        goto out;
    if (n >= fed_u64(rec, "offers") && (rc = fed_award(ctx, rec, id))) goto out;
    rc = fed_store(ctx, id, rec);
out:
    json_decref(bid);
    json_decref(rec);
    json_decref(ep);
    return rc;
}

static int fed_m_close(ef_ctx *ctx, const json_t *args)
{
    static const char *const fields[] = {"id", NULL};
    uint64_t id, refunded;
    json_t *rec = NULL;
    int rc;

    if ((rc = ef_args_only(args, fields))) goto out;
    if ((rc = fed_load_args(ctx, args, 1u << EF_FED_OPEN, &id, &rec))) goto out;
    rc = EF_EAGAIN;
    if (ef_ctx_time_ms(ctx) < fed_u64(rec, "deadline_ms")) goto out;
    if (json_array_size(json_object_get(rec, "bids")) > 0) {
        if ((rc = fed_award(ctx, rec, id))) goto out;
    } else {
        if ((rc = fed_wind_up(ctx, rec, id, EF_FED_EXPIRED, "deadline", &refunded))) goto out;
        if ((rc = fed_emit_refund(ctx, "expired", rec, id, refunded))) goto out;
    }
    rc = fed_store(ctx, id, rec);
out:
    json_decref(rec);
    return rc;
}

static int fed_m_confirm_deployment(ef_ctx *ctx, const json_t *args)
{
    static const char *const fields[] = {"id", "endpoint", NULL};
    char pubhex[FED_PUBHEX_LEN + 1];
    uint64_t id;
    json_t *rec = NULL, *ep = NULL;
    int rc;

    if ((rc = ef_args_only(args, fields))) goto out;
    if ((rc = fed_endpoint(args, "endpoint", false, &ep))) goto out;
    if ((rc = fed_load_args(ctx, args, ~0u, &id, &rec))) goto out;
    fed_pubhex(pubhex, ef_ctx_sender(ctx));
    json_t *winner = json_object_get(rec, "winner");
    rc = EF_EPERM;
    if (fed_rec_state(rec) == EF_FED_OPEN || !json_is_string(winner) ||
        strcmp(pubhex, json_string_value(winner)))
        goto out;
    rc = EF_ESTATE;
    if (fed_rec_state(rec) != EF_FED_AWARDED) goto out;
    rc = EF_ELATE;
    if (ef_ctx_time_ms(ctx) >= fed_u64(rec, "deploy_deadline_ms")) goto out;
    if ((rc = fed_set_state(ctx, rec, id, EF_FED_DEPLOYED))) goto out;
    if ((rc = fed_set(rec, "deployed_endpoint", ep))) goto out;
    if ((rc = fed_set_u64(rec, "deployed_ms", ef_ctx_time_ms(ctx)))) goto out;
    if ((rc = fed_emit(ctx, "deployed", json_pack("{s:I, s:O, s:s, s:O}", "id", (json_int_t)id, "consumer",
                                                  json_object_get(rec, "consumer"), "provider", pubhex,
                                                  "endpoint", ep))))
        goto out;
    rc = fed_store(ctx, id, rec);
out:
    json_decref(rec);
    json_decref(ep);
    return rc;
}

/* Checks that the sender is the consumer of rec. */
static int fed_require_consumer(ef_ctx *ctx, const json_t *rec)
{
    char pubhex[FED_PUBHEX_LEN + 1];
    fed_pubhex(pubhex, ef_ctx_sender(ctx));
    return strcmp(pubhex, fed_str(rec, "consumer")) ? EF_EPERM : 0;
}

static int fed_m_confirm_connectivity(ef_ctx *ctx, const json_t *args)
{
    static const char *const fields[] = {"id", NULL};
    uint64_t id, price, refunded;
    ef_pub provider;
    json_t *rec = NULL;
    int rc;

    if ((rc = ef_args_only(args, fields))) goto out;
    if ((rc = fed_load_args(ctx, args, ~0u, &id, &rec))) goto out;
    if ((rc = fed_require_consumer(ctx, rec))) goto out;
    rc = EF_ESTATE;
    if (fed_rec_state(rec) != EF_FED_DEPLOYED) goto out;
    price = fed_u64(rec, "price");
    if ((rc = ef_unhex(provider.b, EF_PUB_SIZE, fed_str(rec, "winner")))) goto out;
    if ((rc = ef_bank_escrow_release(ctx, fed_u64(rec, "escrow"), &provider, price))) goto out;
    if ((rc = fed_refund_rest(ctx, rec, &refunded))) goto out;
    if ((rc = fed_set_state(ctx, rec, id, EF_FED_CONNECTED))) goto out;
    if ((rc = fed_set_u64(rec, "connected_ms", ef_ctx_time_ms(ctx)))) goto out;
    if ((rc = fed_set_u64(rec, "paid", price))) goto out;
    if ((rc = fed_add_u64(rec, "refunded", refunded))) goto out;
    if ((rc = fed_emit(ctx, "connected",
                       json_pack("{s:I, s:O, s:O, s:I, s:I}", "id", (json_int_t)id, "consumer",
                                 json_object_get(rec, "consumer"), "provider", json_object_get(rec, "winner"),
                                 "paid", (json_int_t)price, "refunded", (json_int_t)refunded))))
        goto out;
    rc = fed_store(ctx, id, rec);
out:
    json_decref(rec);
    return rc;
}

static int fed_m_cancel(ef_ctx *ctx, const json_t *args)
{
    static const char *const fields[] = {"id", NULL};
    uint64_t id, refunded;
    json_t *rec = NULL;
    int rc;

    if ((rc = ef_args_only(args, fields))) goto out;
    if ((rc = fed_load_args(ctx, args, ~0u, &id, &rec))) goto out;
    if ((rc = fed_require_consumer(ctx, rec))) goto out;
    rc = EF_ESTATE;
    if (fed_rec_state(rec) != EF_FED_AWARDED) goto out;
    rc = EF_EAGAIN;
    if (ef_ctx_time_ms(ctx) < fed_u64(rec, "deploy_deadline_ms")) goto out;
    if ((rc = fed_wind_up(ctx, rec, id, EF_FED_CANCELLED, NULL, &refunded))) goto out;
    if ((rc = fed_emit_refund(ctx, "cancelled", rec, id, refunded))) goto out;
    rc = fed_store(ctx, id, rec);
out:
    json_decref(rec);
    return rc;
}

static int fed_m_terminate(ef_ctx *ctx, const json_t *args)
{
    static const char *const fields[] = {"id", "reason", NULL};
    char pubhex[FED_PUBHEX_LEN + 1];
    const char *reason = "";
    uint64_t id, refunded;
    json_t *rec = NULL;
    int rc;

    if ((rc = ef_args_only(args, fields))) goto out;
    if (json_object_get(args, "reason") &&
        (rc = fed_get_str(args, "reason", EF_FED_REASON_MAX, true, &reason)))
        goto out;
    if ((rc = fed_load_args(ctx, args, ~0u, &id, &rec))) goto out;
    fed_pubhex(pubhex, ef_ctx_sender(ctx));
    json_t *winner = json_object_get(rec, "winner");
    bool party = !strcmp(pubhex, fed_str(rec, "consumer")) ||
                 (json_is_string(winner) && !strcmp(pubhex, json_string_value(winner)));
    rc = EF_EPERM;
    if (!party) goto out;
    ef_fed_state before = fed_rec_state(rec);
    rc = EF_ESTATE;
    if (before != EF_FED_AWARDED && before != EF_FED_DEPLOYED && before != EF_FED_CONNECTED) goto out;
    if ((rc = fed_wind_up(ctx, rec, id, EF_FED_TERMINATED, NULL, &refunded))) goto out;
    if ((rc = fed_set_str(rec, "reason", reason))) goto out;
    if ((rc = fed_emit(ctx, "terminated", json_pack("{s:I, s:s, s:s, s:I, s:s}", "id", (json_int_t)id, "by", pubhex,
                                                    "state_before", ef_fed_state_name(before), "refunded",
                                                    (json_int_t)refunded, "reason", reason))))
        goto out;
    rc = fed_store(ctx, id, rec);
out:
    json_decref(rec);
    return rc;
}

/* ---------------------------------------------------------------- queries */

typedef struct fed_ids {
    uint64_t ring[EF_FED_QUERY_MAX];
    size_t count;                 /* total seen; the ring keeps the newest */
    size_t skip;                  /* prefix length before the ID16 */
} fed_ids;

static int fed_collect_id(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    fed_ids *ids = arg;
    char hex[17];
    (void)val;
    (void)val_len;
    if (key_len != ids->skip + 16) return 0;
    memcpy(hex, key + ids->skip, 16);
    hex[16] = 0;
    char *end;
    uint64_t id = strtoull(hex, &end, 16);
    if (*end) return 0;
    ids->ring[ids->count % EF_FED_QUERY_MAX] = id;
    ids->count++;
    return 0;
}

static json_t *fed_summary(const json_t *rec)
{
    json_t *s = json_object();
    static const char *const keep[] = {"id", "state", "consumer", "requirements", "offers", "max_price",
                                       "deadline_ms", "winner", "price", "paid", NULL};
    if (!s) return NULL;
    for (size_t i = 0; keep[i]; i++) {
        json_t *v = json_object_get(rec, keep[i]);
        if (v && json_object_set(s, keep[i], v)) goto fail;
    }
    if (json_object_set_new(s, "bids", json_integer((json_int_t)json_array_size(json_object_get(rec, "bids")))))
        goto fail;
    return s;
fail:
    json_decref(s);
    return NULL;
}

static int fed_q_services(ef_ctx *ctx, const char *state, json_t **out)
{
    char prefix[FED_KEY_LEN];
    fed_ids *ids = calloc(1, sizeof(*ids));
    json_t *arr = NULL;
    int rc;

    if (!ids) return EF_ENOMEM;
    if (state) {
        if (ef_fed_state_parse(state) < 0) {
            rc = EF_EINVAL;
            goto out;
        }
        snprintf(prefix, sizeof prefix, "st/%s/", state);
    } else {
        snprintf(prefix, sizeof prefix, "svc/");
    }
    ids->skip = strlen(prefix);
    if ((rc = ef_ctx_scan(ctx, prefix, strlen(prefix), fed_collect_id, ids))) goto out;
    rc = EF_ENOMEM;
    if (!(arr = json_array())) goto out;
    size_t n = EF_MIN(ids->count, (size_t)EF_FED_QUERY_MAX);
    for (size_t i = 0; i < n; i++) {
        uint64_t id = ids->ring[(ids->count - n + i) % EF_FED_QUERY_MAX];
        json_t *rec;
        if ((rc = fed_load(ctx, id, &rec))) goto out;
        json_t *s = fed_summary(rec);
        json_decref(rec);
        rc = EF_ENOMEM;
        if (!s || json_array_append_new(arr, s)) goto out;
    }
    *out = arr;
    arr = NULL;
    rc = 0;
out:
    json_decref(arr);
    free(ids);
    return rc;
}

typedef struct fed_roles {
    json_t *arr;
    size_t skip;
    int err;
} fed_roles;

static int fed_collect_role(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    fed_roles *r = arg;
    char hex[17], role[16];
    if (key_len != r->skip + 16 || val_len >= sizeof role) return 0;
    memcpy(hex, key + r->skip, 16);
    hex[16] = 0;
    memcpy(role, val, val_len);
    role[val_len] = 0;
    json_t *o = json_pack("{s:I, s:s}", "id", (json_int_t)strtoull(hex, NULL, 16), "role", role);
    if (!o || json_array_append_new(r->arr, o)) {
        r->err = EF_ENOMEM;
        return 1;
    }
    return json_array_size(r->arr) >= EF_FED_QUERY_MAX ? 1 : 0;
}

static int fed_q_operator(ef_ctx *ctx, const char *pubhex, json_t **out)
{
    char key[FED_KEY_LEN];
    ef_pub pub;
    json_t *op = NULL;
    fed_roles r = {0};
    int rc;

    if (strlen(pubhex) != FED_PUBHEX_LEN || ef_unhex(pub.b, EF_PUB_SIZE, pubhex)) return EF_EINVAL;
    char norm[FED_PUBHEX_LEN + 1];
    fed_pubhex(norm, &pub);
    fed_op_key(key, norm);
    if ((rc = ef_ctx_get_json(ctx, key, &op))) return rc;
    rc = EF_ENOMEM;
    if (!(r.arr = json_array())) goto out;
    snprintf(key, sizeof key, "idx/%s/", norm);
    r.skip = strlen(key);
    if ((rc = ef_ctx_scan(ctx, key, strlen(key), fed_collect_role, &r))) goto out;
    if ((rc = r.err)) goto out;
    rc = EF_ENOMEM;
    if (json_object_set_new(op, "services", r.arr)) {
        r.arr = NULL;
        goto out;
    }
    r.arr = NULL;
    *out = op;
    op = NULL;
    rc = 0;
out:
    json_decref(r.arr);
    json_decref(op);
    return rc;
}

static int fed_collect_op(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    fed_roles *r = arg;
    (void)key;
    (void)key_len;
    json_t *o;
    int rc = ef_cj_decode(&o, val, val_len);
    if (rc || json_array_append_new(r->arr, o)) {
        r->err = rc == 0 || rc == EF_ENOMEM ? EF_ENOMEM : EF_EDB;
        return 1;
    }
    return json_array_size(r->arr) >= EF_FED_QUERY_MAX ? 1 : 0;
}

static int fed_query(ef_ctx *ctx, const char *path, json_t **out)
{
    *out = NULL;
    if (!strncmp(path, "service/", 8)) {
        char *end;
        const char *p = path + 8;
        if (*p < '0' || *p > '9') return EF_EINVAL;
        uint64_t id = strtoull(p, &end, 10);
        if (*end) return EF_EINVAL;
        return fed_load(ctx, id, out);
    }
    if (!strcmp(path, "services")) return fed_q_services(ctx, NULL, out);
    if (!strncmp(path, "services?state=", 15)) return fed_q_services(ctx, path + 15, out);
    if (!strncmp(path, "services/", 9)) return fed_q_services(ctx, path + 9, out);
    if (!strncmp(path, "operator/", 9)) return fed_q_operator(ctx, path + 9, out);
    if (!strcmp(path, "operators")) {
        fed_roles r = {.arr = json_array()};
        if (!r.arr) return EF_ENOMEM;
        int rc = ef_ctx_scan(ctx, "op/", 3, fed_collect_op, &r);
        if (!rc) rc = r.err;
        if (rc) {
            json_decref(r.arr);
            return rc;
        }
        *out = r.arr;
        return 0;
    }
    return EF_ENOTFOUND;
}

/* Genesis params (optional): {"operators": [{"operator": PUB, "name": STR, "location": STR}]}
 * registers operators up front; each must already be known to the registry. */
static int fed_genesis(ef_ctx *ctx, const json_t *params)
{
    static const char *const top[] = {"operators", NULL};
    static const char *const fields[] = {"operator", "name", "location", NULL};
    if (!params) return 0;
    if (ef_args_only(params, top)) return EF_ECONFIG;
    json_t *ops = json_object_get(params, "operators");
    if (!ops) return 0;
    if (!json_is_array(ops)) return EF_ECONFIG;
    for (size_t i = 0; i < json_array_size(ops); i++) {
        json_t *o = json_array_get(ops, i);
        ef_pub pub;
        const char *name, *location;
        if (ef_args_only(o, fields) || ef_args_pub(o, "operator", &pub) ||
            ef_args_str(o, "name", &name, EF_FED_NAME_MAX) ||
            ef_args_str(o, "location", &location, EF_FED_LOCATION_MAX))
            return EF_ECONFIG;
        int rc = fed_register_op(ctx, &pub, name, location);
        if (rc) return rc == EF_EARGS || rc == EF_EPERM || rc == EF_EEXIST ? EF_ECONFIG : rc;
    }
    return 0;
}

static const ef_method fed_methods[] = {
    {"register", fed_m_register},
    {"announce", fed_m_announce},
    {"bid", fed_m_bid},
    {"close", fed_m_close},
    {"confirm_deployment", fed_m_confirm_deployment},
    {"confirm_connectivity", fed_m_confirm_connectivity},
    {"cancel", fed_m_cancel},
    {"terminate", fed_m_terminate},
};

const ef_contract ef_federation_contract = {
    .name = "federation",
    .methods = fed_methods,
    .methods_len = EF_ARRAY_LEN(fed_methods),
    .query = fed_query,
    .genesis = fed_genesis,
};
