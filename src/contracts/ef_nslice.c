/* ef_nslice.c: the network-slice contract: templates, instances, lifecycle,
 * make-before-break changes (see ef_nslice.h). */
#include "contracts/ef_nslice.h"

#include <stdlib.h>
#include <string.h>

#include "base/ef_cjson.h"
#include "contracts/ef_registry.h"

#define NS_NAME "nslice"

/* ---- names and templates ---- */

static bool ns_chars_ok(const char *s, size_t max, const char *extra)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > max) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr(extra, c);
        if (!ok || c == 0) return false;
    }
    return true;
}

static bool ns_name_ok(const char *s) { return ns_chars_ok(s, EF_NSLICE_NAME_MAX, "._:-"); }
bool ef_nslice_node_ok(const char *s) { return ns_chars_ok(s, EF_NSLICE_NODE_MAX, "_.:"); }
static bool ns_link_ok(const char *s) { return ns_chars_ok(s, EF_NSLICE_LINK_MAX, "_.:-"); }

static bool ns_desc_ok(const char *s)
{
    size_t n = strlen(s);
    if (n > EF_NSLICE_DESC_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e) return false;
    return true;
}

static bool ns_template_ok(const ef_nslice_template *t)
{
    return ns_name_ok(t->name) && t->kbps_min >= 1 && t->kbps_min <= t->kbps_max &&
           t->kbps_max <= EF_NSLICE_KBPS_MAX && t->max_latency_us >= 1 && t->max_latency_us <= EF_NSLICE_LAT_MAX &&
           t->max_loss_ppm <= 1000000 && ns_desc_ok(t->description);
}

int ef_nslice_template_encode(ef_wr *w, const ef_nslice_template *t)
{
    if (!ns_template_ok(t)) return EF_EINVAL;
    ef_wr_u16(w, EF_NSLICE_TEMPLATE_VERSION);
    ef_wr_str(w, t->name);
    ef_wr_u64(w, t->kbps_min);
    ef_wr_u64(w, t->kbps_max);
    ef_wr_u64(w, t->max_latency_us);
    ef_wr_u32(w, t->max_loss_ppm);
    return ef_wr_str(w, t->description);
}

int ef_nslice_template_decode(ef_nslice_template *t, const uint8_t *p, size_t len)
{
    ef_rd r;
    uint16_t version = 0;
    memset(t, 0, sizeof *t);
    ef_rd_init(&r, p, len);
    ef_rd_u16(&r, &version);
    ef_rd_str(&r, t->name, sizeof t->name);
    ef_rd_u64(&r, &t->kbps_min);
    ef_rd_u64(&r, &t->kbps_max);
    ef_rd_u64(&r, &t->max_latency_us);
    ef_rd_u32(&r, &t->max_loss_ppm);
    ef_rd_str(&r, t->description, sizeof t->description);
    int rc = ef_rd_finish(&r);
    if (rc == 0 && (version != EF_NSLICE_TEMPLATE_VERSION || !ns_template_ok(t))) rc = EF_EINVAL;
    if (rc) memset(t, 0, sizeof *t);
    return rc;
}

void ef_nslice_template_id(ef_hash *id, const uint8_t *p, size_t len)
{
    ef_hash_tagged(id, EF_TAG_NSLICE_TEMPLATE, p, len);
}

int ef_nslice_template_from_json(ef_nslice_template *t, const json_t *j)
{
    static const char *const f[] = {"name", "kbps_min", "kbps_max", "max_latency_us", "max_loss_ppm",
                                    "description", NULL};
    const char *name, *desc = "";
    uint64_t loss;
    memset(t, 0, sizeof *t);
    if (ef_args_only(j, f) || ef_args_str(j, "name", &name, EF_NSLICE_NAME_MAX) ||
        ef_args_u64(j, "kbps_min", &t->kbps_min) || ef_args_u64(j, "kbps_max", &t->kbps_max) ||
        ef_args_u64(j, "max_latency_us", &t->max_latency_us) || ef_args_u64(j, "max_loss_ppm", &loss) ||
        (json_object_get(j, "description") && ef_args_str(j, "description", &desc, EF_NSLICE_DESC_MAX)))
        return EF_EARGS;
    if (loss > 1000000) return EF_EINVAL;
    t->max_loss_ppm = (uint32_t)loss;
    snprintf(t->name, sizeof t->name, "%s", name);
    snprintf(t->description, sizeof t->description, "%s", desc);
    return ns_template_ok(t) ? 0 : EF_EINVAL;
}

/* ---- state helpers ---- */

static json_t *ns_hexj(const void *b, size_t n)
{
    char hex[2 * 64 + 1];
    EF_ASSERT(n <= 64);
    ef_hex(hex, b, n);
    return json_string(hex);
}

static int ns_admin(ef_ctx *ctx, ef_pub *admin)
{
    json_t *cfg;
    int rc = ef_ctx_get_json(ctx, "cfg", &cfg);
    if (rc == EF_ENOTFOUND) return EF_ESTATE;
    if (rc) return rc;
    if (ef_unhex(admin->b, EF_PUB_SIZE, json_string_value(json_object_get(cfg, "admin")))) rc = EF_EDB;
    json_decref(cfg);
    return rc;
}

static bool ns_is(const ef_ctx *ctx, const ef_pub *pub) { return !memcmp(ef_ctx_sender(ctx)->b, pub->b, EF_PUB_SIZE); }

static void ns_tkey(uint8_t key[1 + EF_HASH_SIZE], const ef_hash *id)
{
    key[0] = 't';
    memcpy(key + 1, id->b, EF_HASH_SIZE);
}

/* The template of id: 0, EF_ENOTFOUND, EF_EDB. */
static int ns_template_get(ef_ctx *ctx, const ef_hash *id, ef_nslice_template *t, uint64_t *at,
                           const uint8_t **bytes, size_t *bytes_len)
{
    uint8_t key[1 + EF_HASH_SIZE];
    const uint8_t *v;
    size_t n;
    ns_tkey(key, id);
    int rc = ef_ctx_get(ctx, key, sizeof key, &v, &n);
    if (rc) return rc;
    if (n < 8 || ef_nslice_template_decode(t, v, n - 8)) return EF_EDB;
    if (at) *at = ef_get_u64le(v + n - 8);
    if (bytes) *bytes = v, *bytes_len = n - 8;
    return 0;
}

static int ns_ikey(char *key, size_t cap, const char *id)
{
    int n = snprintf(key, cap, "i%s", id);
    return n > 0 && (size_t)n < cap ? n : -1;
}

static int ns_inst_get(ef_ctx *ctx, const char *id, json_t **out)
{
    char key[2 + EF_NSLICE_NAME_MAX];
    *out = NULL;
    if (!ns_name_ok(id) || ns_ikey(key, sizeof key, id) < 0) return EF_ENOTFOUND;
    return ef_ctx_get_json(ctx, key, out);
}

static int ns_inst_put(ef_ctx *ctx, const json_t *inst)
{
    char key[2 + EF_NSLICE_NAME_MAX];
    if (ns_ikey(key, sizeof key, json_string_value(json_object_get(inst, "id"))) < 0) return EF_EDB;
    return ef_ctx_put_json(ctx, key, inst);
}

static uint64_t ns_u(const json_t *o, const char *f)
{
    json_int_t v = json_integer_value(json_object_get(o, f));
    return v < 0 ? 0 : (uint64_t)v;
}

static const char *ns_s(const json_t *o, const char *f)
{
    const char *s = json_string_value(json_object_get(o, f));
    return s ? s : "";
}

static bool ns_running(const json_t *inst)
{
    const char *l = ns_s(inst, "lifecycle");
    return !strcmp(l, "active") || !strcmp(l, "modified") || !strcmp(l, "readjusted");
}

static void ns_states(json_t *inst, const char *lifecycle, const char *admin, const char *oper)
{
    json_object_set_new(inst, "lifecycle", json_string(lifecycle));
    if (admin) json_object_set_new(inst, "admin", json_string(admin));
    if (oper) json_object_set_new(inst, "oper", json_string(oper));
}

/* Appends a step to the instance's history (the last EF_NSLICE_HISTORY_MAX),
 * stores it and emits event `name` with the lifecycle fields and extra's. */
static int ns_step(ef_ctx *ctx, json_t *inst, const char *name, json_t *extra)
{
    json_t *hist = json_object_get(inst, "history");
    json_object_set_new(inst, "updated_at", json_integer((json_int_t)ef_ctx_height(ctx)));
    json_t *ev = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O}", "id", json_object_get(inst, "id"), "ref",
                           json_object_get(inst, "ref"), "version", json_object_get(inst, "version"), "kbps",
                           json_object_get(inst, "kbps"), "template", json_object_get(inst, "template"),
                           "lifecycle", json_object_get(inst, "lifecycle"), "admin", json_object_get(inst, "admin"),
                           "oper", json_object_get(inst, "oper"));
    if (!ev || !json_is_array(hist)) {
        json_decref(ev);
        json_decref(extra);
        return ev ? EF_EDB : EF_ENOMEM;
    }
    json_object_set(ev, "owner", json_object_get(inst, "owner"));
    json_object_set(ev, "ap", json_object_get(inst, "ap"));
    json_object_set(ev, "dst", json_object_get(inst, "dst"));
    if (json_object_get(inst, "path")) json_object_set(ev, "path", json_object_get(inst, "path"));
    if (extra) json_object_update(ev, extra);
    json_decref(extra);
    json_t *h = json_pack("{s:s, s:I, s:O, s:O}", "step", name, "height", (json_int_t)ef_ctx_height(ctx), "version",
                          json_object_get(ev, "version"), "kbps", json_object_get(ev, "kbps"));
    json_array_append_new(hist, h);
    while (json_array_size(hist) > EF_NSLICE_HISTORY_MAX) json_array_remove(hist, 0);
    int rc = ns_inst_put(ctx, inst);
    if (rc == 0) rc = ef_ctx_emit(ctx, name, ev);
    json_decref(ev);
    return rc;
}

/* ---- genesis ---- */

static int ef_nslice_genesis(ef_ctx *ctx, const json_t *params)
{
    static const char *const f[] = {"admin", NULL};
    ef_pub admin;
    ef_role role;
    if (!params) return 0;   /* no slices on this chain */
    if (ef_args_only(params, f) || ef_args_pub(params, "admin", &admin)) return EF_ECONFIG;
    int rc = ef_registry_role(ctx, &admin, &role, NULL);
    if (rc) return rc;
    if (role == EF_ROLE_NONE) return EF_ECONFIG;
    json_t *cfg = json_pack("{s:o}", "admin", ns_hexj(admin.b, EF_PUB_SIZE));
    if (!cfg) return EF_ENOMEM;
    rc = ef_ctx_put_json(ctx, "cfg", cfg);
    json_decref(cfg);
    return rc;
}

/* ---- templates ---- */

static int ns_m_publish(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"template", "id", NULL};
    ef_pub admin;
    ef_hash id, got;
    ef_nslice_template t;
    const char *hex;
    uint8_t buf[EF_NSLICE_TEMPLATE_MAX + 8];
    if (ef_args_only(args, f) || ef_args_hash(args, "id", &id) ||
        ef_args_str(args, "template", &hex, 2 * EF_NSLICE_TEMPLATE_MAX))
        return EF_EARGS;
    size_t n = strlen(hex) / 2;
    if (strlen(hex) % 2 || ef_unhex(buf, n, hex)) return EF_EARGS;
    int rc = ns_admin(ctx, &admin);
    if (rc) return rc;
    if (!ns_is(ctx, &admin)) return EF_EPERM;
    if (ef_nslice_template_decode(&t, buf, n)) return EF_EARGS;
    ef_nslice_template_id(&got, buf, n);
    if (!ef_hash_eq(&got, &id)) return EF_ETEMPLATE;
    uint8_t key[1 + EF_HASH_SIZE];
    const uint8_t *v;
    size_t vn;
    ns_tkey(key, &id);
    char nkey[2 + EF_NSLICE_NAME_MAX];
    snprintf(nkey, sizeof nkey, "n%s", t.name);
    if ((rc = ef_ctx_get(ctx, key, sizeof key, &v, &vn)) != EF_ENOTFOUND) return rc ? rc : EF_EEXIST;
    if ((rc = ef_ctx_get(ctx, nkey, strlen(nkey), &v, &vn)) != EF_ENOTFOUND) return rc ? rc : EF_EEXIST;
    ef_put_u64le(buf + n, ef_ctx_height(ctx));
    if ((rc = ef_ctx_put(ctx, key, sizeof key, buf, n + 8))) return rc;
    if ((rc = ef_ctx_put(ctx, nkey, strlen(nkey), id.b, EF_HASH_SIZE))) return rc;
    json_t *ev = json_pack("{s:o, s:s, s:I, s:I}", "id", ns_hexj(id.b, EF_HASH_SIZE), "name", t.name, "kbps_min",
                           (json_int_t)t.kbps_min, "kbps_max", (json_int_t)t.kbps_max);
    rc = ev ? ef_ctx_emit(ctx, "template_published", ev) : EF_ENOMEM;
    json_decref(ev);
    return rc;
}

/* ---- instances ---- */

static int ns_m_request(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"id", "template", "ref", "ap", "dst", "kbps", NULL};
    const char *id, *ref, *ap, *dst;
    ef_hash tid;
    uint64_t kbps;
    ef_pub admin;
    ef_nslice_template t;
    json_t *inst;
    if (ef_args_only(args, f) || ef_args_str(args, "id", &id, EF_NSLICE_NAME_MAX) ||
        ef_args_hash(args, "template", &tid) || ef_args_str(args, "ref", &ref, EF_NSLICE_NAME_MAX) ||
        ef_args_str(args, "ap", &ap, EF_NSLICE_NODE_MAX) || ef_args_str(args, "dst", &dst, EF_NSLICE_NODE_MAX) ||
        ef_args_u64(args, "kbps", &kbps) || !ns_name_ok(id) || !ns_name_ok(ref) || !ef_nslice_node_ok(ap) ||
        !ef_nslice_node_ok(dst) || !strcmp(ap, dst))
        return EF_EARGS;
    int rc = ns_admin(ctx, &admin);
    if (rc) return rc;
    rc = ns_template_get(ctx, &tid, &t, NULL, NULL, NULL);
    if (rc == EF_ENOTFOUND) return EF_ENOTEMPLATE;
    if (rc) return rc;
    if (kbps < t.kbps_min || kbps > t.kbps_max) return EF_EBOUNDS;
    rc = ns_inst_get(ctx, id, &inst);
    json_decref(inst);
    if (rc != EF_ENOTFOUND) return rc ? rc : EF_EEXIST;
    inst = json_pack("{s:s, s:o, s:o, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:I, s:[]}", "id", id, "owner",
                     ns_hexj(ef_ctx_sender(ctx)->b, EF_PUB_SIZE), "template", ns_hexj(tid.b, EF_HASH_SIZE), "ref",
                     ref, "ap", ap, "dst", dst, "kbps", (json_int_t)kbps, "version", (json_int_t)1, "lifecycle",
                     "requested", "admin", "locked", "oper", "disabled", "created_at",
                     (json_int_t)ef_ctx_height(ctx), "history");
    if (!inst) return EF_ENOMEM;
    rc = ns_step(ctx, inst, "nslice_requested", NULL);
    json_decref(inst);
    return rc;
}

enum { NS_OWNER_OR_ADMIN, NS_ADMIN_ONLY };

/* Loads instance args.id and checks the sender's party; extra fields beyond
 * "id" are the caller's (f). */
static int ns_load(ef_ctx *ctx, const json_t *args, const char *const *f, int who, json_t **inst, ef_pub *admin)
{
    const char *id;
    *inst = NULL;
    if (ef_args_only(args, f) || ef_args_str(args, "id", &id, EF_NSLICE_NAME_MAX)) return EF_EARGS;
    int rc = ns_admin(ctx, admin);
    if (rc) return rc;
    if ((rc = ns_inst_get(ctx, id, inst))) return rc;
    ef_pub owner;
    if (ef_unhex(owner.b, EF_PUB_SIZE, ns_s(*inst, "owner"))) rc = EF_EDB;
    else if (!ns_is(ctx, admin) && !ns_is(ctx, &owner)) rc = EF_ENOTOWNER;
    else if (who == NS_ADMIN_ONLY && !ns_is(ctx, admin)) rc = EF_EPERM;
    if (rc) {
        json_decref(*inst);
        *inst = NULL;
    }
    return rc;
}

static int ns_path_arg(const json_t *args, json_t **out)
{
    json_t *p = json_object_get(args, "path");
    size_t i, n = json_array_size(p);
    json_t *v;
    *out = NULL;
    if (!json_is_array(p) || n < 1 || n > EF_NSLICE_PATH_MAX) return EF_EARGS;
    json_array_foreach(p, i, v) if (!ns_link_ok(json_string_value(v))) return EF_EARGS;
    *out = p;
    return 0;
}

static int ns_m_reserve(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"id", "version", "kbps", "path", NULL};
    json_t *inst, *path;
    ef_pub admin;
    uint64_t version, kbps;
    if (ef_args_u64(args, "version", &version) || ef_args_u64(args, "kbps", &kbps) || ns_path_arg(args, &path))
        return EF_EARGS;
    int rc = ns_load(ctx, args, f, NS_ADMIN_ONLY, &inst, &admin);
    if (rc) return rc;
    json_t *pend = json_object_get(inst, "pending");
    if (version == 1 && !strcmp(ns_s(inst, "lifecycle"), "requested")) {
        if (kbps != ns_u(inst, "kbps")) rc = EF_EBOUNDS;
        else {
            json_object_set(inst, "path", path);
            ns_states(inst, "reserved", NULL, NULL);
            rc = ns_step(ctx, inst, "nslice_reserved", NULL);
        }
    } else if (pend && version == ns_u(pend, "version") && !json_is_true(json_object_get(pend, "reserved"))) {
        if (kbps != ns_u(pend, "kbps")) rc = EF_EBOUNDS;
        else {
            json_object_set_new(pend, "reserved", json_true());
            json_object_set(pend, "path", path);
            /* both versions held: the event names the new one */
            rc = ns_step(ctx, inst, "nslice_reserved",
                         json_pack("{s:I, s:I, s:O, s:O, s:s}", "version", (json_int_t)version, "kbps",
                                   (json_int_t)kbps, "path", path, "held_path", json_object_get(inst, "path"),
                                   "kind", ns_s(pend, "kind")));
        }
    } else {
        rc = EF_ESTATE;
    }
    json_decref(inst);
    return rc;
}

static int ns_m_activate(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"id", "version", NULL};
    json_t *inst;
    ef_pub admin;
    uint64_t version;
    if (ef_args_u64(args, "version", &version)) return EF_EARGS;
    int rc = ns_load(ctx, args, f, NS_ADMIN_ONLY, &inst, &admin);
    if (rc) return rc;
    json_t *pend = json_object_get(inst, "pending");
    if (version == 1 && !strcmp(ns_s(inst, "lifecycle"), "reserved")) {
        ns_states(inst, "active", "unlocked", "enabled");
        rc = ns_step(ctx, inst, "nslice_activated", NULL);
    } else if (pend && version == ns_u(pend, "version") && json_is_true(json_object_get(pend, "reserved"))) {
        /* the switch: the new version is current, the old one released */
        json_t *extra = json_pack("{s:O, s:O}", "released_version", json_object_get(inst, "version"),
                                  "released_path", json_object_get(inst, "path"));
        const char *kind = !strcmp(ns_s(pend, "kind"), "readjust") ? "readjusted" : "modified";
        json_object_set(inst, "version", json_object_get(pend, "version"));
        json_object_set(inst, "kbps", json_object_get(pend, "kbps"));
        json_object_set(inst, "path", json_object_get(pend, "path"));
        json_object_del(inst, "pending");   /* pend is invalid from here */
        ns_states(inst, kind, NULL, "enabled");
        rc = ns_step(ctx, inst, !strcmp(kind, "readjusted") ? "nslice_readjusted" : "nslice_modified", extra);
    } else {
        rc = EF_ESTATE;
    }
    json_decref(inst);
    return rc;
}

static int ns_m_fail(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"id", "version", "reason", NULL};
    json_t *inst;
    ef_pub admin;
    uint64_t version;
    const char *reason;
    if (ef_args_u64(args, "version", &version) || ef_args_str(args, "reason", &reason, EF_NSLICE_NAME_MAX) ||
        !ns_name_ok(reason))
        return EF_EARGS;
    int rc = ns_load(ctx, args, f, NS_ADMIN_ONLY, &inst, &admin);
    if (rc) return rc;
    json_t *pend = json_object_get(inst, "pending");
    const char *l = ns_s(inst, "lifecycle");
    if (version == 1 && (!strcmp(l, "requested") || !strcmp(l, "reserved"))) {
        json_t *extra = json_pack("{s:s, s:b}", "reason", reason, "released", !strcmp(l, "reserved"));
        json_object_del(inst, "path");
        ns_states(inst, "failed", "locked", "disabled");
        rc = ns_step(ctx, inst, "nslice_failed", extra);
    } else if (pend && version == ns_u(pend, "version")) {
        /* the change is dropped; the running version is untouched */
        json_t *extra = json_pack("{s:s, s:I, s:O, s:b}", "reason", reason, "failed_version", (json_int_t)version,
                                  "failed_kbps", json_object_get(pend, "kbps"), "released",
                                  json_is_true(json_object_get(pend, "reserved")));
        json_object_del(inst, "pending");
        rc = ns_step(ctx, inst, "nslice_change_failed", extra);
    } else {
        rc = EF_ESTATE;
    }
    json_decref(inst);
    return rc;
}

static int ns_change(ef_ctx *ctx, const json_t *args, const char *kind)
{
    static const char *const f[] = {"id", "kbps", NULL};
    json_t *inst;
    ef_pub admin;
    ef_hash tid;
    ef_nslice_template t;
    uint64_t kbps;
    if (ef_args_u64(args, "kbps", &kbps)) return EF_EARGS;
    int rc = ns_load(ctx, args, f, NS_OWNER_OR_ADMIN, &inst, &admin);
    if (rc) return rc;
    if (!ns_running(inst)) rc = EF_ESTATE;
    else if (!strcmp(ns_s(inst, "admin"), "locked")) rc = EF_ELOCKED;
    else if (json_object_get(inst, "pending")) rc = EF_ESTATE;
    else if (ef_unhex(tid.b, EF_HASH_SIZE, ns_s(inst, "template"))) rc = EF_EDB;
    else if ((rc = ns_template_get(ctx, &tid, &t, NULL, NULL, NULL))) rc = rc == EF_ENOTFOUND ? EF_EDB : rc;
    else if (kbps < t.kbps_min || kbps > t.kbps_max || kbps == ns_u(inst, "kbps")) rc = EF_EBOUNDS;
    if (rc == 0) {
        uint64_t v = ns_u(inst, "version") + 1;
        json_object_set_new(inst, "pending", json_pack("{s:I, s:s, s:I, s:b, s:o}", "version", (json_int_t)v, "kind",
                                                       kind, "kbps", (json_int_t)kbps, "reserved", 0, "by",
                                                       ns_hexj(ef_ctx_sender(ctx)->b, EF_PUB_SIZE)));
        rc = ns_step(ctx, inst, "nslice_change_requested",
                     json_pack("{s:s, s:I, s:I}", "kind", kind, "new_version", (json_int_t)v, "new_kbps",
                               (json_int_t)kbps));
    }
    json_decref(inst);
    return rc;
}

static int ns_m_modify(ef_ctx *ctx, const json_t *args) { return ns_change(ctx, args, "modify"); }
static int ns_m_readjust(ef_ctx *ctx, const json_t *args) { return ns_change(ctx, args, "readjust"); }

static int ns_lock(ef_ctx *ctx, const json_t *args, bool lock)
{
    static const char *const f[] = {"id", NULL};
    json_t *inst;
    ef_pub admin;
    int rc = ns_load(ctx, args, f, NS_OWNER_OR_ADMIN, &inst, &admin);
    if (rc) return rc;
    bool locked = !strcmp(ns_s(inst, "admin"), "locked");
    if (!ns_running(inst) || locked == lock) rc = EF_ESTATE;
    else {
        json_object_set_new(inst, "admin", json_string(lock ? "locked" : "unlocked"));
        rc = ns_step(ctx, inst, lock ? "nslice_locked" : "nslice_unlocked", NULL);
    }
    json_decref(inst);
    return rc;
}

static int ns_m_lock(ef_ctx *ctx, const json_t *args) { return ns_lock(ctx, args, true); }
static int ns_m_unlock(ef_ctx *ctx, const json_t *args) { return ns_lock(ctx, args, false); }

static int ns_m_decommission(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"id", NULL};
    json_t *inst;
    ef_pub admin;
    int rc = ns_load(ctx, args, f, NS_OWNER_OR_ADMIN, &inst, &admin);
    if (rc) return rc;
    if (!ns_running(inst) || json_object_get(inst, "pending")) rc = EF_ESTATE;
    else {
        ns_states(inst, "decommissioning", "shutting_down", NULL);
        rc = ns_step(ctx, inst, "nslice_decommissioning", NULL);
    }
    json_decref(inst);
    return rc;
}

static int ns_m_release(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"id", NULL};
    json_t *inst;
    ef_pub admin;
    int rc = ns_load(ctx, args, f, NS_ADMIN_ONLY, &inst, &admin);
    if (rc) return rc;
    if (strcmp(ns_s(inst, "lifecycle"), "decommissioning")) rc = EF_ESTATE;
    else {
        json_t *extra = json_pack("{s:O}", "released_path", json_object_get(inst, "path"));
        json_object_del(inst, "path");
        ns_states(inst, "decommissioned", "locked", "disabled");
        rc = ns_step(ctx, inst, "nslice_decommissioned", extra);
    }
    json_decref(inst);
    return rc;
}

/* ---- queries ---- */

static json_t *ns_template_json(const ef_nslice_template *t, const ef_hash *id, uint64_t at)
{
    return json_pack("{s:o, s:s, s:I, s:I, s:I, s:I, s:s, s:I}", "id", ns_hexj(id->b, EF_HASH_SIZE), "name", t->name,
                     "kbps_min", (json_int_t)t->kbps_min, "kbps_max", (json_int_t)t->kbps_max, "max_latency_us",
                     (json_int_t)t->max_latency_us, "max_loss_ppm", (json_int_t)t->max_loss_ppm, "description",
                     t->description, "published_at", (json_int_t)at);
}

static int ns_q_tmpl(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    ef_nslice_template t;
    ef_hash id;
    if (key_len != 1 + EF_HASH_SIZE || val_len < 8 || ef_nslice_template_decode(&t, val, val_len - 8)) return EF_EDB;
    memcpy(id.b, key + 1, EF_HASH_SIZE);
    json_t *j = ns_template_json(&t, &id, ef_get_u64le(val + val_len - 8));
    return json_array_append_new(arg, j) ? EF_ENOMEM : 0;
}

static int ns_q_inst(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    json_t *d;
    (void)key;
    (void)key_len;
    if (ef_cj_decode(&d, val, val_len)) return EF_EDB;
    json_t *j = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:b}", "id", json_object_get(d, "id"), "ref",
                          json_object_get(d, "ref"), "template", json_object_get(d, "template"), "lifecycle",
                          json_object_get(d, "lifecycle"), "admin", json_object_get(d, "admin"), "oper",
                          json_object_get(d, "oper"), "kbps", json_object_get(d, "kbps"), "version",
                          json_object_get(d, "version"), "pending", json_object_get(d, "pending") != NULL);
    json_decref(d);
    if (!j) return EF_ENOMEM;
    json_array_append_new(arg, j);
    return json_array_size(arg) >= 10000 ? 1 : 0;
}

static int ef_nslice_query(ef_ctx *ctx, const char *path, json_t **out)
{
    ef_pub admin;
    *out = NULL;
    int rc = ns_admin(ctx, &admin);
    bool list = !strcmp(path, "templates") || !strcmp(path, "instances");
    if (rc == EF_ESTATE && list) return (*out = json_array()) ? 0 : EF_ENOMEM;   /* off here: nothing */
    if (rc) return rc == EF_ESTATE ? EF_ENOTFOUND : rc;
    if (!strcmp(path, "config")) return ef_ctx_get_json(ctx, "cfg", out);
    if (!strcmp(path, "templates") || !strcmp(path, "instances")) {
        json_t *arr = json_array();
        if (!arr) return EF_ENOMEM;
        rc = path[0] == 't' ? ef_ctx_scan(ctx, "t", 1, ns_q_tmpl, arr) : ef_ctx_scan(ctx, "i", 1, ns_q_inst, arr);
        if (rc) json_decref(arr);
        else *out = arr;
        return rc;
    }
    if (!strncmp(path, "template/", 9)) {
        ef_hash id;
        ef_nslice_template t;
        uint64_t at;
        const uint8_t *b;
        size_t bn;
        if (strlen(path + 9) != 2 * EF_HASH_SIZE || ef_unhex(id.b, EF_HASH_SIZE, path + 9)) return EF_EINVAL;
        if ((rc = ns_template_get(ctx, &id, &t, &at, &b, &bn))) return rc;
        json_t *j = ns_template_json(&t, &id, at);
        char *hex = malloc(2 * bn + 1);
        if (!j || !hex) {
            json_decref(j);
            free(hex);
            return EF_ENOMEM;
        }
        ef_hex(hex, b, bn);
        json_object_set_new(j, "hex", json_string(hex));
        free(hex);
        *out = j;
        return 0;
    }
    if (!strncmp(path, "instance/", 9)) return ns_inst_get(ctx, path + 9, out);
    return EF_ENOTFOUND;
}

static const ef_method ef_nslice_methods[] = {
    {"publish", ns_m_publish},   {"request", ns_m_request}, {"reserve", ns_m_reserve},
    {"activate", ns_m_activate}, {"fail", ns_m_fail},       {"modify", ns_m_modify},
    {"readjust", ns_m_readjust}, {"lock", ns_m_lock},       {"unlock", ns_m_unlock},
    {"decommission", ns_m_decommission}, {"release", ns_m_release},
};

const ef_contract ef_nslice_contract = {
    .name = NS_NAME,
    .methods = ef_nslice_methods,
    .methods_len = EF_ARRAY_LEN(ef_nslice_methods),
    .query = ef_nslice_query,
    .genesis = ef_nslice_genesis,
};
