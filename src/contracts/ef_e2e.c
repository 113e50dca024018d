/* ef_e2e.c: end-to-end slices across two domains, each step proven from the
 * domains' ledgers through the anchor (see ef_e2e.h). */
#include "contracts/ef_e2e.h"

#include <stdlib.h>
#include <string.h>

#include "base/ef_cjson.h"
#include "base/ef_codec.h"
#include "contracts/ef_anchor.h"
#include "contracts/ef_nslice.h"

#define E2_NAME "e2e"

static bool e2_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > EF_E2E_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("._:-", c)))
            return false;
    }
    return true;
}

static json_t *e2_hexj(const void *b, size_t n)
{
    char hex[2 * 64 + 1];
    EF_ASSERT(n <= 64);
    ef_hex(hex, b, n);
    return json_string(hex);
}

static const char *e2_s(const json_t *o, const char *f)
{
    const char *s = json_string_value(json_object_get(o, f));
    return s ? s : "";
}

static uint64_t e2_u(const json_t *o, const char *f)
{
    json_int_t v = json_integer_value(json_object_get(o, f));
    return v < 0 ? 0 : (uint64_t)v;
}

static int e2_get(ef_ctx *ctx, const char *id, json_t **out)
{
    char key[2 + EF_E2E_NAME_MAX];
    *out = NULL;
    if (!e2_name_ok(id)) return EF_ENOTFOUND;
    snprintf(key, sizeof key, "s%s", id);
    return ef_ctx_get_json(ctx, key, out);
}

static int e2_put(ef_ctx *ctx, const json_t *rec)
{
    char key[2 + EF_E2E_NAME_MAX];
    snprintf(key, sizeof key, "s%s", e2_s(rec, "id"));
    return ef_ctx_put_json(ctx, key, rec);
}

static int e2_emit(ef_ctx *ctx, const char *name, json_t *data)
{
    int rc = data ? ef_ctx_emit(ctx, name, data) : EF_ENOMEM;
    json_decref(data);
    return rc;
}

/* A domain registered on the anchor: 0 or EF_ENOTFOUND. */
static int e2_domain(ef_ctx *ctx, const char *name)
{
    char key[2 + EF_ANCHOR_NAME_MAX];
    const uint8_t *v;
    size_t n;
    if (!name || !*name || strlen(name) > EF_ANCHOR_NAME_MAX) return EF_ENOTFOUND;
    snprintf(key, sizeof key, "d%s", name);
    return ef_ctx_get_in(ctx, "anchor", key, strlen(key), &v, &n);
}

static int e2_part_arg(const json_t *args, const char *f, json_t **out)
{
    static const char *const pf[] = {"domain", "ap", "dst", "owner", NULL};
    json_t *p = json_object_get(args, f);
    const char *d, *ap, *dst;
    ef_pub owner;
    *out = NULL;
    if (!json_is_object(p) || ef_args_only(p, pf) || ef_args_str(p, "domain", &d, EF_ANCHOR_NAME_MAX) ||
        ef_args_pub(p, "owner", &owner) ||
        ef_args_str(p, "ap", &ap, EF_NSLICE_NODE_MAX) || ef_args_str(p, "dst", &dst, EF_NSLICE_NODE_MAX) ||
        !ef_nslice_node_ok(ap) || !ef_nslice_node_ok(dst) || !strcmp(ap, dst) || !*d)
        return EF_EARGS;
    char oh[2 * EF_PUB_SIZE + 1];
    ef_hex(oh, owner.b, EF_PUB_SIZE);   /* lower case, as the nslice events carry it */
    *out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:n, s:I, s:I, s:[]}", "domain", d, "ap", ap, "dst", dst, "owner", oh,
                     "step", "none", "instance", "version", (json_int_t)0, "kbps", (json_int_t)0, "claims");
    return *out ? 0 : EF_ENOMEM;
}

static int e2_m_request(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"id", "a", "b", "kbps", "max_latency_us", NULL};
    const char *id;
    uint64_t kbps, lat;
    json_t *a = NULL, *b = NULL, *rec = NULL;
    if (ef_args_only(args, f) || ef_args_str(args, "id", &id, EF_E2E_NAME_MAX) || !e2_name_ok(id) ||
        ef_args_u64(args, "kbps", &kbps) || ef_args_u64(args, "max_latency_us", &lat) || kbps < 1 ||
        kbps > EF_E2E_KBPS_MAX || lat < 1)
        return EF_EARGS;
    int rc = e2_part_arg(args, "a", &a);
    if (rc == 0) rc = e2_part_arg(args, "b", &b);
    if (rc == 0 && !strcmp(e2_s(a, "domain"), e2_s(b, "domain"))) rc = EF_EARGS;
    if (rc == 0) rc = e2_domain(ctx, e2_s(a, "domain"));
    if (rc == 0) rc = e2_domain(ctx, e2_s(b, "domain"));
    if (rc) goto out;
    rc = e2_get(ctx, id, &rec);
    json_decref(rec);
    rec = NULL;
    if (rc != EF_ENOTFOUND) {
        rc = rc ? rc : EF_EEXIST;
        goto out;
    }
    rec = json_pack("{s:s, s:o, s:I, s:I, s:s, s:I, s:O, s:O, s:I}", "id", id, "owner",
                    e2_hexj(ef_ctx_sender(ctx)->b, EF_PUB_SIZE), "kbps", (json_int_t)kbps, "max_latency_us",
                    (json_int_t)lat, "state", "requested", "readjustments", (json_int_t)0, "a", a, "b", b,
                    "created_at", (json_int_t)ef_ctx_height(ctx));
    if (!rec) {
        rc = EF_ENOMEM;
        goto out;
    }
    if ((rc = e2_put(ctx, rec))) goto out;
    rc = e2_emit(ctx, "e2e_requested",
                 json_pack("{s:s, s:I, s:O, s:O, s:O}", "id", id, "kbps", (json_int_t)kbps, "a", a, "b", b, "owner",
                           json_object_get(rec, "owner")));
out:
    json_decref(a);
    json_decref(b);
    json_decref(rec);
    return rc;
}

static const char *const e2_lifecycle_events[] = {"nslice_reserved", "nslice_activated", "nslice_modified",
                                                  "nslice_readjusted", "nslice_decommissioned", "nslice_failed"};

/* The one nslice lifecycle event of a proven transaction's events (a new ref
 * in *ev), or EF_EEVENT. */
static int e2_lifecycle_event(const uint8_t *events, size_t len, json_t **ev)
{
    json_t *arr, *v, *found = NULL;
    size_t i, n = 0;
    *ev = NULL;
    if (ef_cj_decode(&arr, events, len)) return EF_EEVENT;
    json_array_foreach(arr, i, v) {
        if (strcmp(e2_s(v, "contract"), "nslice")) continue;
        for (size_t k = 0; k < EF_ARRAY_LEN(e2_lifecycle_events); k++)
            if (!strcmp(e2_s(v, "name"), e2_lifecycle_events[k])) {
                found = v;
                n++;
            }
    }
    if (n == 1 && json_is_object(json_object_get(found, "data"))) *ev = json_incref(found);
    json_decref(arr);
    return *ev ? 0 : EF_EEVENT;
}

static bool e2_both(const json_t *rec, const char *step)
{
    return !strcmp(e2_s(json_object_get(rec, "a"), "step"), step) &&
           !strcmp(e2_s(json_object_get(rec, "b"), "step"), step);
}

static int e2_m_claim(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"id", "part", "proof", NULL};
    const char *id, *partname, *hex;
    json_t *rec = NULL, *ev = NULL;
    uint8_t *p = NULL;
    ef_proof pf;
    if (ef_args_only(args, f) || ef_args_str(args, "id", &id, EF_E2E_NAME_MAX) ||
        ef_args_str(args, "part", &partname, 1) || (strcmp(partname, "a") && strcmp(partname, "b")) ||
        ef_args_str(args, "proof", &hex, EF_TX_ARGS_MAX) || strlen(hex) % 2 || !*hex)
        return EF_EARGS;
    size_t n = strlen(hex) / 2;
    int rc = e2_get(ctx, id, &rec);
    if (rc) return rc;
    json_t *part = json_object_get(rec, partname);
    if (!(p = malloc(n))) {
        rc = EF_ENOMEM;
        goto out;
    }
    if (ef_unhex(p, n, hex)) {
        rc = EF_EARGS;
        goto out;
    }
    if ((rc = ef_anchor_verify_proof(ctx, e2_s(part, "domain"), p, n, &pf))) goto out;
    if (strcmp(pf.tx_dec.contract, "nslice") || pf.code != 0) {
        rc = EF_EEVENT;
        goto out;
    }
    if ((rc = e2_lifecycle_event(pf.events, pf.events_len, &ev))) goto out;
    json_t *data = json_object_get(ev, "data");
    const char *name = e2_s(ev, "name");
    uint64_t version = e2_u(data, "version"), kbps = e2_u(data, "kbps");
    if (strcmp(e2_s(data, "ref"), id) || strcmp(e2_s(data, "ap"), e2_s(part, "ap")) ||
        strcmp(e2_s(data, "dst"), e2_s(part, "dst")) || strcmp(e2_s(data, "owner"), e2_s(part, "owner")) ||
        (json_is_string(json_object_get(part, "instance")) && strcmp(e2_s(data, "id"), e2_s(part, "instance")))) {
        rc = EF_EREF;
        goto out;
    }
    char txh[2 * EF_HASH_SIZE + 1];
    ef_hex(txh, pf.tx_hash.b, EF_HASH_SIZE);
    json_t *claims = json_object_get(part, "claims"), *c;
    size_t i;
    json_array_foreach(claims, i, c) if (!strcmp(e2_s(c, "tx_hash"), txh)) {
        rc = EF_EDUP;
        goto out;
    }
    const char *step = e2_s(part, "step"), *next = NULL;
    bool none = !strcmp(step, "none"), reserved = !strcmp(step, "reserved"), active = !strcmp(step, "active");
    bool readjust = false;
    if (!strcmp(name, "nslice_reserved") && version == 1 && none) next = "reserved";
    else if (!strcmp(name, "nslice_activated") && version == 1 && (none || reserved)) next = "active";
    else if ((!strcmp(name, "nslice_modified") || !strcmp(name, "nslice_readjusted")) && active &&
             version > e2_u(part, "version"))
        next = "active", readjust = true;
    else if (!strcmp(name, "nslice_decommissioned") && (reserved || active)) next = "decommissioned";
    else if (!strcmp(name, "nslice_failed") && (none || reserved)) next = "failed";
    if (!next) {
        rc = EF_EEVENT;
        goto out;
    }
    if ((!strcmp(next, "reserved") || !strcmp(next, "active")) && kbps < e2_u(rec, "kbps")) {
        rc = EF_EBOUNDS;
        goto out;
    }
    /* the step is proven: record it */
    json_object_set_new(part, "step", json_string(next));
    json_object_set(part, "instance", json_object_get(data, "id"));
    json_object_set_new(part, "version", json_integer((json_int_t)version));
    json_object_set_new(part, "kbps", json_integer((json_int_t)kbps));
    if (readjust) json_object_del(part, "readjust");   /* the request is carried out */
    char bh[2 * EF_HASH_SIZE + 1];
    ef_hex(bh, pf.block_hash.b, EF_HASH_SIZE);
    json_array_append_new(claims, json_pack("{s:s, s:I, s:I, s:I, s:s, s:s, s:I}", "event", name, "version",
                                            (json_int_t)version, "kbps", (json_int_t)kbps, "height",
                                            (json_int_t)pf.hdr.height, "block_hash", bh, "tx_hash", txh,
                                            "claimed_at", (json_int_t)ef_ctx_height(ctx)));
    while (json_array_size(claims) > EF_E2E_CLAIMS_MAX) json_array_remove(claims, 0);
    const char *state = e2_s(rec, "state"), *nstate = NULL;
    if (!strcmp(next, "failed")) nstate = "failed";
    else if (e2_both(rec, "active") && (!strcmp(state, "requested"))) nstate = "active";
    else if (e2_both(rec, "decommissioned")) nstate = "decommissioned";
    if (nstate) json_object_set_new(rec, "state", json_string(nstate));
    if (readjust) json_object_set_new(rec, "readjustments", json_integer((json_int_t)e2_u(rec, "readjustments") + 1));
    if ((rc = e2_put(ctx, rec))) goto out;
    rc = e2_emit(ctx, "e2e_claimed",
                 json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "id", id, "part", partname, "event", name,
                           "version", (json_int_t)version, "kbps", (json_int_t)kbps, "height",
                           (json_int_t)pf.hdr.height, "tx_hash", txh));
    if (rc == 0 && readjust)
        rc = e2_emit(ctx, "e2e_readjusted", json_pack("{s:s, s:s, s:I, s:I}", "id", id, "part", partname, "version",
                                                      (json_int_t)version, "kbps", (json_int_t)kbps));
    if (rc == 0 && nstate) {
        char evn[32];
        snprintf(evn, sizeof evn, "e2e_%s", nstate);
        rc = e2_emit(ctx, evn, json_pack("{s:s}", "id", id));
    }
out:
    free(p);
    json_decref(ev);
    json_decref(rec);
    return rc;
}

static int e2_owner_call(ef_ctx *ctx, const json_t *args, const char *const *f, json_t **rec)
{
    const char *id;
    *rec = NULL;
    if (ef_args_only(args, f) || ef_args_str(args, "id", &id, EF_E2E_NAME_MAX)) return EF_EARGS;
    int rc = e2_get(ctx, id, rec);
    if (rc) return rc;
    char me[2 * EF_PUB_SIZE + 1];
    ef_hex(me, ef_ctx_sender(ctx)->b, EF_PUB_SIZE);
    if (strcmp(me, e2_s(*rec, "owner"))) {
        json_decref(*rec);
        *rec = NULL;
        return EF_EPERM;
    }
    return 0;
}

static int e2_m_readjust(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"id", "part", "reason", NULL};
    const char *partname, *reason;
    json_t *rec;
    if (ef_args_str(args, "part", &partname, 1) || (strcmp(partname, "a") && strcmp(partname, "b")) ||
        ef_args_str(args, "reason", &reason, EF_E2E_NAME_MAX) || !e2_name_ok(reason))
        return EF_EARGS;
    int rc = e2_owner_call(ctx, args, f, &rec);
    if (rc) return rc;
    json_t *part = json_object_get(rec, partname);
    if (strcmp(e2_s(rec, "state"), "active")) rc = EF_ESTATE;
    else {
        /* recorded, so that an orchestrator started later finds it in the state */
        json_object_set_new(part, "readjust", json_pack("{s:O?, s:s, s:I}", "version", json_object_get(part, "version"),
                                                        "reason", reason, "requested_at",
                                                        (json_int_t)ef_ctx_height(ctx)));
        rc = e2_put(ctx, rec);
        if (rc == 0)
            rc = e2_emit(ctx, "e2e_readjust_requested",
                         json_pack("{s:s, s:s, s:s, s:O, s:O?}", "id", e2_s(rec, "id"), "part", partname, "reason",
                                   reason, "domain", json_object_get(part, "domain"), "version",
                                   json_object_get(part, "version")));
    }
    json_decref(rec);
    return rc;
}

static int e2_m_decommission(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"id", NULL};
    json_t *rec;
    int rc = e2_owner_call(ctx, args, f, &rec);
    if (rc) return rc;
    const char *st = e2_s(rec, "state");
    if (strcmp(st, "requested") && strcmp(st, "active")) rc = EF_ESTATE;
    else {
        json_object_set_new(rec, "state", json_string("decommissioning"));
        rc = e2_put(ctx, rec);
        if (rc == 0) rc = e2_emit(ctx, "e2e_decommission_requested", json_pack("{s:s}", "id", e2_s(rec, "id")));
    }
    json_decref(rec);
    return rc;
}

/* ---- queries ---- */

static int e2_q_scan(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    json_t *d;
    (void)key;
    (void)key_len;
    if (ef_cj_decode(&d, val, val_len)) return EF_EDB;
    json_t *a = json_object_get(d, "a"), *b = json_object_get(d, "b");
    json_t *j = json_pack("{s:O, s:O, s:O, s:{s:O, s:O, s:O}, s:{s:O, s:O, s:O}}", "id", json_object_get(d, "id"),
                          "state", json_object_get(d, "state"), "kbps", json_object_get(d, "kbps"), "a", "domain",
                          json_object_get(a, "domain"), "step", json_object_get(a, "step"), "version",
                          json_object_get(a, "version"), "b", "domain", json_object_get(b, "domain"), "step",
                          json_object_get(b, "step"), "version", json_object_get(b, "version"));
    json_decref(d);
    if (!j) return EF_ENOMEM;
    json_array_append_new(arg, j);
    return json_array_size(arg) >= 10000 ? 1 : 0;
}

static int ef_e2e_query(ef_ctx *ctx, const char *path, json_t **out)
{
    *out = NULL;
    if (!strcmp(path, "slices")) {
        json_t *arr = json_array();
        if (!arr) return EF_ENOMEM;
        int rc = ef_ctx_scan(ctx, "s", 1, e2_q_scan, arr);
        if (rc) json_decref(arr);
        else *out = arr;
        return rc;
    }
    if (!strncmp(path, "slice/", 6)) return e2_get(ctx, path + 6, out);
    return EF_ENOTFOUND;
}

static const ef_method ef_e2e_methods[] = {
    {"request", e2_m_request},
    {"claim", e2_m_claim},
    {"readjust", e2_m_readjust},
    {"decommission", e2_m_decommission},
};

const ef_contract ef_e2e_contract = {
    .name = E2_NAME,
    .methods = ef_e2e_methods,
    .methods_len = EF_ARRAY_LEN(ef_e2e_methods),
    .query = ef_e2e_query,
};
