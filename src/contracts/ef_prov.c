/* ef_prov.c: the prov contract: BCOR-checked identity, data and orchestration
 * records as PROV elements and relations; lineage and PROV-JSON export (see ef_prov.h). */
#include "contracts/ef_prov.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/ef_cjson.h"
#include "base/ef_err.h"
#include "contracts/ef_registry.h"

/* State (namespace "prov"), values JSON values in the canonical encoding
 * (ef_ctx_put_json, ef_cjson) unless said:
 *   "th/" ID             thing {"id","kind","owner","key","host","state":"joined"|"left","gen"}
 *   "da/" ID             datum {"id","activity","producer","hash","size","media_type","sig",
 *                         "receiver","seq"}
 *   "us/" ACT "/" ENT    use of ENT by ACT {"by","contract","seq"}
 *   "pl/" ID             placement of container ID {"host","activity","by"}
 *   "oa/" ACT            args of the orchestrate call that recorded ACT (idempotency)
 *   "r/" SEQ16           record {"seq","type","tx","height","time_ms","elements":[...],
 *                         "relations":[...]} (SEQ16: 16 lower-case hex digits)
 *   "el/" QNAME          one byte: 'e' entity, 'a' activity, 'g' agent (declared),
 *                        then its attributes (canonical encoding)
 *   "rf/" SEQ16          record SEQ prepared for exports (prov_put_frag)
 *   "ix/" QNAME "/" SEQ16  record SEQ has a relation from QNAME (or a reverse one to it)
 *   "iu/" QNAME "/" SEQ16  record SEQ has a `used` of entity QNAME
 *   "stats"              {"records","elements","entities","activities","agents","relations"}
 * An element in a record: {"id","kind":"entity"|"activity"|"agent","attrs":{...}}.
 * A relation: {"id","kind","from","to","attrs":{...}[,"rev":true]}; "rev" makes
 * lineage follow it from its target too (identity and placement records). */

#define PROV_NAME "prov"
#define PROV_KEY_MAX EF_CTX_KEY_MAX
#define PROV_QNAME_MAX 80
#define PROV_DERIVE_MAX 32     /* wasDerivedFrom relations one release records at most */
#define PROV_LINEAGE_MAX 20000 /* steps one lineage answer holds at most */

/* ---------------------------------------------------------------- helpers */

bool ef_prov_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > EF_PROV_ID_MAX) return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

static bool prov_chars_ok(const char *s, const char *extra)
{
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr(extra, c)))
            return false;
    }
    return true;
}

static int prov_arg_id(const json_t *args, const char *field, const char **out)
{
    if (ef_args_str(args, field, out, EF_PROV_ID_MAX) || !ef_prov_id_ok(*out)) return EF_EARGS;
    return 0;
}

static int prov_opt_str(const json_t *args, const char *field, size_t max, const char *extra, const char **out)
{
    *out = NULL;
    if (!json_object_get(args, field)) return 0;
    if (ef_args_str(args, field, out, max) || !**out || !prov_chars_ok(*out, extra)) return EF_EARGS;
    return 0;
}

static void prov_hexpub(char out[2 * EF_PUB_SIZE + 1], const ef_pub *p)
{
    ef_hex(out, p->b, EF_PUB_SIZE);
}

static int prov_get(ef_ctx *ctx, const char *key, json_t **out)
{
    return ef_ctx_get_json(ctx, key, out);
}

static const char *prov_s(const json_t *o, const char *f)
{
    const char *s = json_string_value(json_object_get(o, f));
    return s ? s : "";
}

static uint64_t prov_u(const json_t *o, const char *f)
{
    json_t *v = json_object_get(o, f);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? (uint64_t)json_integer_value(v) : 0;
}

/* xsd:dateTime (UTC, milliseconds) of a block time. */
static void prov_time(char out[32], uint64_t ms)
{
    if (ms > 253402300799999ULL) ms = 253402300799999ULL;  /* year 9999 at most */
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(out, 32, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", (unsigned)(tm.tm_year + 1900) % 10000u,
             (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u,
             (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u, (unsigned)(ms % 1000));
}

static json_t *prov_qn(const char *qname)
{
    return json_pack("{s:s, s:s}", "$", qname, "type", "prov:QUALIFIED_NAME");
}

/* The sender must be an account of the registry (a member of this ledger's domain). */
static int prov_require_member(ef_ctx *ctx)
{
    ef_role role;
    int rc = ef_registry_role(ctx, ef_ctx_sender(ctx), &role, NULL);
    if (rc) return rc;
    return role == EF_ROLE_NONE ? EF_EPERM : 0;
}

static int prov_thing(ef_ctx *ctx, const char *id, json_t **out)
{
    char key[PROV_KEY_MAX];
    snprintf(key, sizeof key, "th/%s", id);
    return prov_get(ctx, key, out);
}

/* A thing that must exist and be joined: EF_ENOIDENT, EF_ENOTJOINED, or 0 with *out. */
static int prov_joined(ef_ctx *ctx, const char *id, json_t **out)
{
    int rc = prov_thing(ctx, id, out);
    if (rc == EF_ENOTFOUND) return EF_ENOIDENT;
    if (rc) return rc;
    if (strcmp(prov_s(*out, "state"), "joined")) {
        json_decref(*out);
        *out = NULL;
        return EF_ENOTJOINED;
    }
    return 0;
}

static bool prov_sender_is(ef_ctx *ctx, const char *pubhex)
{
    char hex[2 * EF_PUB_SIZE + 1];
    prov_hexpub(hex, ef_ctx_sender(ctx));
    return !strcmp(hex, pubhex);
}

/* ---------------------------------------------------------------- records */

typedef struct prov_rec {
    json_t *rec, *els, *rels;
    int nrel;
    char tx[2 * EF_HASH_SIZE + 1];
    char time[32];
} prov_rec;

static int prov_rec_init(prov_rec *r, ef_ctx *ctx, const char *type)
{
    memset(r, 0, sizeof *r);
    ef_hex(r->tx, ef_ctx_tx_hash(ctx)->b, EF_HASH_SIZE);
    prov_time(r->time, ef_ctx_time_ms(ctx));
    r->els = json_array();
    r->rels = json_array();
    r->rec = json_pack("{s:s, s:s, s:I, s:I, s:O, s:O}", "type", type, "tx", r->tx, "height",
                       (json_int_t)ef_ctx_height(ctx), "time_ms", (json_int_t)ef_ctx_time_ms(ctx),
                       "elements", r->els, "relations", r->rels);
    return r->rec && r->els && r->rels ? 0 : EF_ENOMEM;
}

static void prov_rec_free(prov_rec *r)
{
    json_decref(r->rec);
    json_decref(r->els);
    json_decref(r->rels);
}

/* Declares element id of kind in the record; attrs is stolen (NULL: none). */
static int prov_rec_el(prov_rec *r, const char *id, const char *kind, json_t *attrs)
{
    if (!attrs) attrs = json_object();
    json_t *e = json_pack("{s:s, s:s, s:o}", "id", id, "kind", kind, "attrs", attrs);
    return e && !json_array_append_new(r->els, e) ? 0 : EF_ENOMEM;
}

/* Adds a relation; attrs stolen (NULL: none); its id is tx:TXHASH.N. */
static int prov_rec_rel(prov_rec *r, const char *kind, const char *from, const char *to, json_t *attrs, bool rev)
{
    char id[2 * EF_HASH_SIZE + 16];
    snprintf(id, sizeof id, "tx:%s.%d", r->tx, r->nrel++);
    if (!attrs) attrs = json_object();
    if (!attrs) return EF_ENOMEM;
    json_object_set_new(attrs, "ef:tx", json_string(r->tx));
    json_t *x = json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", id, "kind", kind, "from", from, "to", to,
                          "attrs", attrs);
    if (x && rev) json_object_set_new(x, "rev", json_true());
    return x && !json_array_append_new(r->rels, x) ? 0 : EF_ENOMEM;
}

static int prov_put_mark(ef_ctx *ctx, const char *prefix, const char *qname, uint64_t seq)
{
    char key[PROV_KEY_MAX];
    int n = snprintf(key, sizeof key, "%s%s/%016" PRIx64, prefix, qname, seq);
    if (n < 0 || (size_t)n >= sizeof key) return EF_ELIMIT;
    return ef_ctx_put(ctx, key, (size_t)n, "1", 1);
}

/* PROV-JSON member names of each relation kind: its from and to. */
static const struct {
    const char *kind, *from, *to;
} prov_rel_kinds[] = {
    {"wasGeneratedBy", "prov:entity", "prov:activity"},
    {"used", "prov:activity", "prov:entity"},
    {"wasAssociatedWith", "prov:activity", "prov:agent"},
    {"wasAttributedTo", "prov:entity", "prov:agent"},
    {"actedOnBehalfOf", "prov:delegate", "prov:responsible"},
    {"wasDerivedFrom", "prov:generatedEntity", "prov:usedEntity"},
};

static int prov_rel_kind(const char *kind)
{
    for (size_t i = 0; i < EF_ARRAY_LEN(prov_rel_kinds); i++)
        if (!strcmp(kind, prov_rel_kinds[i].kind)) return (int)i;
    return -1;
}

/* "el/" QNAME: one kind byte ('e', 'a', 'g'), then the element's attributes in
 * the canonical encoding (ef_cjson; the union over its declarations, first value wins). */
static int prov_put_el(ef_ctx *ctx, const char *key, size_t key_len, char kind, const json_t *attrs)
{
    if (!attrs) return EF_EINVAL;
    ef_wr w;
    ef_wr_init(&w);
    ef_wr_u8(&w, (uint8_t)kind);
    int rc = ef_cj_encode(&w, attrs);
    if (rc == 0) rc = w.err ? w.err : ef_ctx_put(ctx, key, key_len, w.buf, w.len);
    ef_wr_free(&w);
    return rc;
}

/* The PROV-JSON object of relation x of record seq (new reference). */
static json_t *prov_rel_obj(const json_t *x, uint64_t seq, uint64_t height)
{
    int k = prov_rel_kind(prov_s(x, "kind"));
    if (k < 0) return NULL;
    json_t *o = json_deep_copy(json_object_get(x, "attrs"));
    if (!o) return NULL;
    json_object_set_new(o, prov_rel_kinds[k].from, json_string(prov_s(x, "from")));
    json_object_set_new(o, prov_rel_kinds[k].to, json_string(prov_s(x, "to")));
    json_object_set_new(o, "ef:height", json_integer((json_int_t)height));
    json_object_set_new(o, "ef:record", json_integer((json_int_t)seq));
    return o;
}

/* "rf/" SEQ16: the record prepared for exports (ef_codec):
 *   u64 height | u32 n | n x (u8 relation kind | str id | bytes PROV-JSON object,
 *   canonical encoding) | u32 m | m x str element qname
 * so an export decodes small objects instead of whole records. State holds only
 * the project's canonical bytes (they are hashed); JSON text is made at export. */
static int prov_put_frag(ef_ctx *ctx, const prov_rec *r, uint64_t seq, uint64_t height)
{
    ef_wr w;
    ef_wr_init(&w);
    size_t i;
    json_t *v;
    ef_wr_u64(&w, height);
    int rc = ef_wr_u32(&w, (uint32_t)json_array_size(r->rels));
    json_array_foreach(r->rels, i, v) {
        json_t *o = prov_rel_obj(v, seq, height);
        if (!o) {
            rc = EF_ENOMEM;
            break;
        }
        ef_wr cw;
        ef_wr_init(&cw);
        rc = ef_cj_encode(&cw, o);
        json_decref(o);
        if (rc == 0 && cw.err) rc = cw.err;
        if (rc == 0) {
            ef_wr_u8(&w, (uint8_t)prov_rel_kind(prov_s(v, "kind")));
            ef_wr_str(&w, prov_s(v, "id"));
            rc = ef_wr_bytes(&w, cw.buf, cw.len);
        }
        ef_wr_free(&cw);
        if (rc) break;
    }
    if (rc == 0) rc = ef_wr_u32(&w, (uint32_t)json_array_size(r->els));
    json_array_foreach(r->els, i, v) if (rc == 0) rc = ef_wr_str(&w, prov_s(v, "id"));
    if (rc == 0) {
        char key[PROV_KEY_MAX];
        int n = snprintf(key, sizeof key, "rf/%016" PRIx64, seq);
        rc = ef_ctx_put(ctx, key, (size_t)n, w.buf, w.len);
    }
    ef_wr_free(&w);
    return rc;
}

/* Appends the record: numbers it, counts new elements and the relations, writes the
 * lineage indexes and emits prov_record. */
static int prov_rec_commit(ef_ctx *ctx, prov_rec *r)
{
    json_t *st = NULL;
    int rc = prov_get(ctx, "stats", &st);
    if (rc == EF_ENOTFOUND) {
        st = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i}", "records", 0, "elements", 0, "entities", 0,
                       "activities", 0, "agents", 0, "relations", 0);
        rc = st ? 0 : EF_ENOMEM;
    }
    if (rc) return rc;
    uint64_t seq = prov_u(st, "records") + 1;
    uint64_t els = prov_u(st, "elements"), ent = prov_u(st, "entities"), act = prov_u(st, "activities"),
             agt = prov_u(st, "agents");
    size_t i;
    json_t *v;
    json_array_foreach(r->els, i, v) {
        char key[PROV_KEY_MAX];
        const char *kind = prov_s(v, "kind");
        int n = snprintf(key, sizeof key, "el/%s", prov_s(v, "id"));
        const uint8_t *val;
        size_t vlen;
        json_t *attrs = json_object_get(v, "attrs");
        rc = ef_ctx_get(ctx, key, (size_t)n, &val, &vlen);
        if (rc == 0) {
            /* declared before: attributes this declaration adds are merged in */
            if (json_object_size(attrs) == 0) continue;
            if (vlen < 1) {
                rc = EF_EDB;
                goto out;
            }
            char k0 = (char)val[0];
            json_t *cur = NULL;
            if (ef_cj_decode(&cur, val + 1, vlen - 1)) {
                rc = EF_EDB;
                goto out;
            }
            bool changed = false;
            const char *ak;
            json_t *av;
            json_object_foreach(attrs, ak, av) {
                if (json_object_get(cur, ak)) continue;
                json_object_set(cur, ak, av);
                changed = true;
            }
            rc = changed ? prov_put_el(ctx, key, (size_t)n, k0, cur) : 0;
            json_decref(cur);
            if (rc) goto out;
            continue;
        }
        if (rc != EF_ENOTFOUND) goto out;
        char k = kind[0] == 'e' ? 'e' : kind[1] == 'c' ? 'a' : 'g';
        if ((rc = prov_put_el(ctx, key, (size_t)n, k, attrs))) goto out;
        els++;
        if (k == 'e') ent++;
        else if (k == 'a') act++;
        else agt++;
    }
    if ((rc = prov_put_frag(ctx, r, seq, ef_ctx_height(ctx)))) goto out;
    json_array_foreach(r->rels, i, v) {
        if ((rc = prov_put_mark(ctx, "ix/", prov_s(v, "from"), seq))) goto out;
        if (json_is_true(json_object_get(v, "rev")) && (rc = prov_put_mark(ctx, "ix/", prov_s(v, "to"), seq)))
            goto out;
        if (!strcmp(prov_s(v, "kind"), "used") && (rc = prov_put_mark(ctx, "iu/", prov_s(v, "to"), seq)))
            goto out;
    }
    json_object_set_new(st, "records", json_integer((json_int_t)seq));
    json_object_set_new(st, "elements", json_integer((json_int_t)els));
    json_object_set_new(st, "entities", json_integer((json_int_t)ent));
    json_object_set_new(st, "activities", json_integer((json_int_t)act));
    json_object_set_new(st, "agents", json_integer((json_int_t)agt));
    json_object_set_new(st, "relations",
                        json_integer((json_int_t)(prov_u(st, "relations") + json_array_size(r->rels))));
    if ((rc = ef_ctx_put_json(ctx, "stats", st))) goto out;
    json_object_set_new(r->rec, "seq", json_integer((json_int_t)seq));
    char key[PROV_KEY_MAX];
    snprintf(key, sizeof key, "r/%016" PRIx64, seq);
    if ((rc = ef_ctx_put_json(ctx, key, r->rec))) goto out;
    json_t *ev = json_pack("{s:I, s:O, s:s}", "seq", (json_int_t)seq, "type", json_object_get(r->rec, "type"),
                           "tx", r->tx);
    rc = ev ? ef_ctx_emit(ctx, "prov_record", ev) : EF_ENOMEM;
    json_decref(ev);
out:
    json_decref(st);
    return rc;
}

/* ---------------------------------------------------------------- methods */

/* join {"id","kind","owner","key"[,"host"]} */
static int prov_m_join(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"id", "kind", "owner", "key", "host", NULL};
    const char *id, *kind, *host = NULL;
    ef_pub owner, key;
    if (ef_args_only(args, f) || prov_arg_id(args, "id", &id) || ef_args_str(args, "kind", &kind, 16) ||
        ef_args_pub(args, "owner", &owner) || ef_args_pub(args, "key", &key))
        return EF_EARGS;
    bool container = !strcmp(kind, "container");
    if (!container && strcmp(kind, "device")) return EF_EARGS;
    if (container != (json_object_get(args, "host") != NULL)) return EF_EARGS;  /* host: containers only */
    if (container && (prov_arg_id(args, "host", &host) || !strcmp(host, id))) return EF_EARGS;
    int rc = prov_require_member(ctx);
    if (rc) return rc;
    if (memcmp(ef_ctx_sender(ctx)->b, key.b, EF_PUB_SIZE)) return EF_EPERM;   /* for itself */
    char ownerhex[2 * EF_PUB_SIZE + 1], keyhex[2 * EF_PUB_SIZE + 1];
    prov_hexpub(ownerhex, &owner);
    prov_hexpub(keyhex, &key);
    json_t *h = NULL, *t = NULL;
    if (host) {
        if ((rc = prov_joined(ctx, host, &h))) return rc;
        bool dev = !strcmp(prov_s(h, "kind"), "device");
        json_decref(h);
        if (!dev) return EF_ESTATE;
    }
    uint64_t gen = 1;
    rc = prov_thing(ctx, id, &t);
    if (rc == 0) {
        bool same = !strcmp(prov_s(t, "kind"), kind) && !strcmp(prov_s(t, "owner"), ownerhex) &&
                    !strcmp(prov_s(t, "key"), keyhex) && !strcmp(prov_s(t, "host"), host ? host : "");
        bool joined = !strcmp(prov_s(t, "state"), "joined");
        gen = prov_u(t, "gen") + 1;
        json_decref(t);
        if (joined) return same ? 0 : EF_EEXIST;   /* identical repeat / contradiction */
    } else if (rc != EF_ENOTFOUND) {
        return rc;
    }
    t = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "id", id, "kind", kind, "owner", ownerhex, "key", keyhex,
                  "host", host ? host : "", "state", "joined", "gen", (json_int_t)gen);
    if (!t) return EF_ENOMEM;
    char tkey[PROV_KEY_MAX];
    snprintf(tkey, sizeof tkey, "th/%s", id);
    rc = ef_ctx_put_json(ctx, tkey, t);
    json_decref(t);
    if (rc) return rc;

    prov_rec r;
    char qthing[PROV_QNAME_MAX], qact[PROV_QNAME_MAX], qowner[PROV_QNAME_MAX], qhost[PROV_QNAME_MAX];
    snprintf(qthing, sizeof qthing, "thing:%s", id);
    snprintf(qact, sizeof qact, "act:%s/join/%" PRIu64, id, gen);
    snprintf(qowner, sizeof qowner, "acct:%s", ownerhex);
    if ((rc = prov_rec_init(&r, ctx, "identity-create"))) goto out;
    json_t *ta = json_pack("{s:o, s:s, s:s, s:I}", "prov:type", prov_qn(container ? "ef:Container" : "ef:Device"),
                           "ef:key", keyhex, "ef:owner", ownerhex, "ef:generation", (json_int_t)gen);
    if (ta && host) json_object_set_new(ta, "ef:host", json_string(host));
    if ((rc = prov_rec_el(&r, qthing, "agent", ta))) goto out;
    if ((rc = prov_rec_el(&r, qact, "activity",
                          json_pack("{s:o, s:s, s:s, s:I}", "prov:type", prov_qn("ef:Identify"), "prov:startTime",
                                    r.time, "prov:endTime", r.time, "ef:height", (json_int_t)ef_ctx_height(ctx)))))
        goto out;
    if ((rc = prov_rec_el(&r, qowner, "agent", json_pack("{s:o}", "prov:type", prov_qn("ef:Account"))))) goto out;
    if ((rc = prov_rec_rel(&r, "wasAssociatedWith", qact, qthing,
                           json_pack("{s:o}", "prov:role", prov_qn("ef:identified")), true)))
        goto out;
    if ((rc = prov_rec_rel(&r, "actedOnBehalfOf", qthing, qowner, json_pack("{s:s}", "prov:activity", qact), false)))
        goto out;
    if (host) {
        snprintf(qhost, sizeof qhost, "thing:%s", host);
        if ((rc = prov_rec_el(&r, qhost, "agent", NULL))) goto out;
        if ((rc = prov_rec_rel(&r, "wasAssociatedWith", qact, qhost,
                               json_pack("{s:o}", "prov:role", prov_qn("ef:host")), false)))
            goto out;
    }
    rc = prov_rec_commit(ctx, &r);
out:
    prov_rec_free(&r);
    return rc;
}

/* leave {"id"} */
static int prov_m_leave(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"id", NULL};
    const char *id;
    if (ef_args_only(args, f) || prov_arg_id(args, "id", &id)) return EF_EARGS;
    int rc = prov_require_member(ctx);
    if (rc) return rc;
    json_t *t;
    rc = prov_thing(ctx, id, &t);
    if (rc == EF_ENOTFOUND) return EF_ENOTJOINED;   /* never joined */
    if (rc) return rc;
    if (!prov_sender_is(ctx, prov_s(t, "key")) && !prov_sender_is(ctx, prov_s(t, "owner"))) {
        rc = EF_EPERM;
        goto done;
    }
    if (strcmp(prov_s(t, "state"), "joined")) {
        rc = EF_ENOTJOINED;                          /* leave twice */
        goto done;
    }
    uint64_t gen = prov_u(t, "gen");
    json_object_set_new(t, "state", json_string("left"));
    char tkey[PROV_KEY_MAX];
    snprintf(tkey, sizeof tkey, "th/%s", id);
    if ((rc = ef_ctx_put_json(ctx, tkey, t))) goto done;
    prov_rec r;
    char qthing[PROV_QNAME_MAX], qact[PROV_QNAME_MAX];
    snprintf(qthing, sizeof qthing, "thing:%s", id);
    snprintf(qact, sizeof qact, "act:%s/leave/%" PRIu64, id, gen);
    if ((rc = prov_rec_init(&r, ctx, "identity-delete"))) goto rec;
    if ((rc = prov_rec_el(&r, qthing, "agent", NULL))) goto rec;
    if ((rc = prov_rec_el(&r, qact, "activity",
                          json_pack("{s:o, s:s, s:s, s:I}", "prov:type", prov_qn("ef:Terminate"), "prov:startTime",
                                    r.time, "prov:endTime", r.time, "ef:height", (json_int_t)ef_ctx_height(ctx)))))
        goto rec;
    if ((rc = prov_rec_rel(&r, "wasAssociatedWith", qact, qthing,
                           json_pack("{s:o}", "prov:role", prov_qn("ef:terminated")), true)))
        goto rec;
    rc = prov_rec_commit(ctx, &r);
rec:
    prov_rec_free(&r);
done:
    json_decref(t);
    return rc;
}

int ef_prov_data_msg(ef_wr *w, const char *chain_id, const char *entity, const char *activity,
                     const char *producer, const ef_hash *hash, uint64_t size, const char *media_type)
{
    ef_wr_str(w, chain_id);
    ef_wr_str(w, entity);
    ef_wr_str(w, activity);
    ef_wr_str(w, producer);
    ef_wr_raw(w, hash->b, EF_HASH_SIZE);
    ef_wr_u64(w, size);
    return ef_wr_str(w, media_type);
}

int ef_prov_data_sign(char sig_hex[2 * EF_SIG_SIZE + 1], const ef_keypair *kp, const char *chain_id,
                      const char *entity, const char *activity, const char *producer, const ef_hash *hash,
                      uint64_t size, const char *media_type)
{
    ef_wr w;
    ef_wr_init(&w);
    int rc = ef_prov_data_msg(&w, chain_id, entity, activity, producer, hash, size, media_type);
    if (rc == 0) {
        ef_sig sig;
        ef_sign(&sig, kp, EF_TAG_DATA, w.buf, w.len);
        ef_hex(sig_hex, sig.b, EF_SIG_SIZE);
    }
    ef_wr_free(&w);
    return rc;
}

void ef_prov_blob_hash(ef_hash *out, const void *data, size_t len)
{
    ef_hash_tagged(out, EF_TAG_DATA, data, len);
}

struct prov_used_scan { json_t *ents; };

static int prov_collect_used(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    struct prov_used_scan *sc = arg;
    (void)val;
    (void)val_len;
    const uint8_t *slash = memrchr(key, '/', key_len);
    if (!slash) return EF_EDB;
    json_array_append_new(sc->ents, json_stringn((const char *)slash + 1, key_len - (size_t)(slash + 1 - key)));
    return json_array_size(sc->ents) >= PROV_DERIVE_MAX ? 1 : 0;
}

/* release {"entity","activity","producer","hash","size","media_type","sig"[,"receiver"]} */
static int prov_m_release(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"entity", "activity", "producer", "hash", "size", "media_type", "sig",
                                    "receiver", NULL};
    const char *ent, *act, *prod, *media, *sighex, *recv = NULL;
    ef_hash hash;
    uint64_t size;
    ef_sig sig;
    if (ef_args_only(args, f) || prov_arg_id(args, "entity", &ent) || prov_arg_id(args, "activity", &act) ||
        prov_arg_id(args, "producer", &prod) || ef_args_hash(args, "hash", &hash) ||
        ef_args_u64(args, "size", &size) || ef_args_str(args, "media_type", &media, EF_PROV_MEDIA_MAX) ||
        !media[0] || !prov_chars_ok(media, ".+/-_") || ef_args_str(args, "sig", &sighex, 2 * EF_SIG_SIZE) ||
        ef_unhex(sig.b, EF_SIG_SIZE, sighex) || size > (uint64_t)INT64_MAX)
        return EF_EARGS;
    if (json_object_get(args, "receiver") && prov_arg_id(args, "receiver", &recv)) return EF_EARGS;
    int rc = prov_require_member(ctx);
    if (rc) return rc;
    json_t *p = NULL, *d = NULL;
    if ((rc = prov_joined(ctx, prod, &p))) return rc;    /* unknown producer / producer left */
    ef_pub pk;
    if (ef_unhex(pk.b, EF_PUB_SIZE, prov_s(p, "key"))) {
        rc = EF_EDB;
        goto done;
    }
    if (!prov_sender_is(ctx, prov_s(p, "key"))) {
        rc = EF_EPERM;
        goto done;
    }
    ef_wr w;
    ef_wr_init(&w);
    rc = ef_prov_data_msg(&w, ef_ctx_chain_id(ctx), ent, act, prod, &hash, size, media);
    bool ok = rc == 0 && ef_verify(&sig, &pk, EF_TAG_DATA, w.buf, w.len);
    ef_wr_free(&w);
    if (rc) goto done;
    if (!ok) {
        rc = EF_EBADSIG;
        goto done;
    }
    char hashhex[2 * EF_HASH_SIZE + 1];
    ef_hex(hashhex, hash.b, EF_HASH_SIZE);
    char dkey[PROV_KEY_MAX];
    snprintf(dkey, sizeof dkey, "da/%s", ent);
    rc = prov_get(ctx, dkey, &d);
    if (rc == 0) {
        bool same = !strcmp(prov_s(d, "activity"), act) && !strcmp(prov_s(d, "producer"), prod) &&
                    !strcmp(prov_s(d, "hash"), hashhex) && prov_u(d, "size") == size &&
                    !strcmp(prov_s(d, "media_type"), media) && !strcmp(prov_s(d, "receiver"), recv ? recv : "");
        rc = same ? 0 : EF_EEXIST;
        goto done;
    }
    if (rc != EF_ENOTFOUND) goto done;

    /* the inputs the generating activity used so far: the entity derives from them */
    struct prov_used_scan sc = {json_array()};
    char pre[PROV_KEY_MAX];
    int pn = snprintf(pre, sizeof pre, "us/%s/", act);
    if (!sc.ents) {
        rc = EF_ENOMEM;
        goto done;
    }
    if ((rc = ef_ctx_scan(ctx, pre, (size_t)pn, prov_collect_used, &sc)) < 0) {
        json_decref(sc.ents);
        goto done;
    }

    json_t *st = NULL;
    prov_get(ctx, "stats", &st);
    uint64_t seq = prov_u(st, "records") + 1;
    json_decref(st);
    d = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:I}", "id", ent, "activity", act, "producer", prod,
                  "hash", hashhex, "size", (json_int_t)size, "media_type", media, "sig", sighex, "receiver",
                  recv ? recv : "", "seq", (json_int_t)seq);
    if (!d) {
        rc = EF_ENOMEM;
        json_decref(sc.ents);
        goto done;
    }
    rc = ef_ctx_put_json(ctx, dkey, d);

    prov_rec r;
    char qent[PROV_QNAME_MAX], qact[PROV_QNAME_MAX], qprod[PROV_QNAME_MAX];
    snprintf(qent, sizeof qent, "data:%s", ent);
    snprintf(qact, sizeof qact, "act:%s", act);
    snprintf(qprod, sizeof qprod, "thing:%s", prod);
    if (rc == 0) rc = prov_rec_init(&r, ctx, "data");
    else memset(&r, 0, sizeof r);
    json_t *ea = json_pack("{s:o, s:s, s:I, s:s, s:s}", "prov:type", prov_qn("ef:Data"), "ef:hash", hashhex,
                           "ef:size", (json_int_t)size, "ef:mediaType", media, "ef:signature", sighex);
    if (ea && recv) json_object_set_new(ea, "ef:receiver", json_string(recv));
    if (rc == 0) rc = prov_rec_el(&r, qent, "entity", ea);
    else json_decref(ea);
    if (rc == 0) rc = prov_rec_el(&r, qact, "activity", json_pack("{s:o}", "prov:type", prov_qn("ef:Process")));
    if (rc == 0) rc = prov_rec_el(&r, qprod, "agent", NULL);
    if (rc == 0)
        rc = prov_rec_rel(&r, "wasGeneratedBy", qent, qact,
                          json_pack("{s:s, s:I}", "prov:time", r.time, "ef:height", (json_int_t)ef_ctx_height(ctx)),
                          false);
    if (rc == 0) rc = prov_rec_rel(&r, "wasAttributedTo", qent, qprod, NULL, false);
    if (rc == 0)
        rc = prov_rec_rel(&r, "wasAssociatedWith", qact, qprod,
                          json_pack("{s:o}", "prov:role", prov_qn("ef:producer")), false);
    size_t i;
    json_t *u;
    json_array_foreach(sc.ents, i, u) {
        char qused[PROV_QNAME_MAX];
        snprintf(qused, sizeof qused, "data:%s", json_string_value(u));
        if (rc == 0) rc = prov_rec_el(&r, qused, "entity", NULL);
        if (rc == 0)
            rc = prov_rec_rel(&r, "wasDerivedFrom", qent, qused, json_pack("{s:s}", "prov:activity", qact), false);
    }
    json_decref(sc.ents);
    if (rc == 0) rc = prov_rec_commit(ctx, &r);
    prov_rec_free(&r);
done:
    json_decref(p);
    json_decref(d);
    return rc;
}

/* use {"entity","activity","by"[,"contract"]} */
static int prov_m_use(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"entity", "activity", "by", "contract", NULL};
    const char *ent, *act, *by, *contract = NULL;
    if (ef_args_only(args, f) || prov_arg_id(args, "entity", &ent) || prov_arg_id(args, "activity", &act) ||
        prov_arg_id(args, "by", &by) || prov_opt_str(args, "contract", EF_CONTRACT_NAME_MAX, "_", &contract))
        return EF_EARGS;
    int rc = prov_require_member(ctx);
    if (rc) return rc;
    json_t *b = NULL, *d = NULL, *u = NULL;
    if ((rc = prov_joined(ctx, by, &b))) return rc;
    if (!prov_sender_is(ctx, prov_s(b, "key"))) {
        rc = EF_EPERM;
        goto done;
    }
    char dkey[PROV_KEY_MAX], ukey[PROV_KEY_MAX];
    snprintf(dkey, sizeof dkey, "da/%s", ent);
    rc = prov_get(ctx, dkey, &d);
    if (rc == EF_ENOTFOUND) rc = EF_ENOTRELEASED;       /* use before release */
    if (rc) goto done;
    const char *recv = prov_s(d, "receiver");
    if (recv[0] && strcmp(recv, act)) {
        rc = EF_EPERM;                                    /* released to another activity */
        goto done;
    }
    snprintf(ukey, sizeof ukey, "us/%s/%s", act, ent);
    rc = prov_get(ctx, ukey, &u);
    if (rc == 0) {
        bool same = !strcmp(prov_s(u, "by"), by) && !strcmp(prov_s(u, "contract"), contract ? contract : "");
        rc = same ? 0 : EF_EEXIST;
        goto done;
    }
    if (rc != EF_ENOTFOUND) goto done;
    u = json_pack("{s:s, s:s}", "by", by, "contract", contract ? contract : "");
    if (!u) {
        rc = EF_ENOMEM;
        goto done;
    }
    if ((rc = ef_ctx_put_json(ctx, ukey, u))) goto done;
    prov_rec r;
    char qent[PROV_QNAME_MAX], qact[PROV_QNAME_MAX], qby[PROV_QNAME_MAX];
    snprintf(qent, sizeof qent, "data:%s", ent);
    snprintf(qact, sizeof qact, "act:%s", act);
    snprintf(qby, sizeof qby, "thing:%s", by);
    json_t *aa = json_pack("{s:o}", "prov:type", prov_qn("ef:Process"));
    if (aa && contract) json_object_set_new(aa, "ef:contract", json_string(contract));
    if ((rc = prov_rec_init(&r, ctx, "orch-use"))) {
        json_decref(aa);
        goto rec;
    }
    if ((rc = prov_rec_el(&r, qact, "activity", aa))) goto rec;
    if ((rc = prov_rec_el(&r, qent, "entity", NULL))) goto rec;
    if ((rc = prov_rec_el(&r, qby, "agent", NULL))) goto rec;
    if ((rc = prov_rec_rel(&r, "used", qact, qent,
                           json_pack("{s:s, s:I}", "prov:time", r.time, "ef:height", (json_int_t)ef_ctx_height(ctx)),
                           false)))
        goto rec;
    if ((rc = prov_rec_rel(&r, "wasAssociatedWith", qact, qby,
                           json_pack("{s:o}", "prov:role", prov_qn("ef:consumer")), false)))
        goto rec;
    rc = prov_rec_commit(ctx, &r);
rec:
    prov_rec_free(&r);
done:
    json_decref(b);
    json_decref(d);
    json_decref(u);
    return rc;
}

/* orchestrate {"action","activity",...} */
static int prov_m_orchestrate(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"action", "activity", "container", "host", "contract", "method",
                                    "on_behalf_of", "ref", NULL};
    const char *action, *act, *cont = NULL, *host = NULL, *contract = NULL, *method = NULL, *ref = NULL;
    ef_pub behalf;
    bool has_behalf = json_object_get(args, "on_behalf_of") != NULL;
    if (ef_args_only(args, f) || ef_args_str(args, "action", &action, 16) || prov_arg_id(args, "activity", &act) ||
        prov_opt_str(args, "ref", EF_PROV_REF_MAX, "._:/-", &ref) ||
        (has_behalf && ef_args_pub(args, "on_behalf_of", &behalf)))
        return EF_EARGS;
    bool deploy = !strcmp(action, "deploy"), teardown = !strcmp(action, "teardown"),
         exec = !strcmp(action, "execute"), connect = !strcmp(action, "connect"),
         disconnect = !strcmp(action, "disconnect"), tunnel = connect || disconnect;
    if (!deploy && !teardown && !exec && !tunnel) return EF_EARGS;
    if (tunnel) {
        /* a tunnel to a deployed container: what it is goes in ref */
        if (json_object_get(args, "contract") || json_object_get(args, "method") || json_object_get(args, "host") ||
            prov_arg_id(args, "container", &cont) || !ref)
            return EF_EARGS;
    } else if (exec) {
        if (json_object_get(args, "container") || json_object_get(args, "host") ||
            prov_opt_str(args, "contract", EF_CONTRACT_NAME_MAX, "_", &contract) || !contract ||
            prov_opt_str(args, "method", EF_METHOD_NAME_MAX, "_", &method) || !method)
            return EF_EARGS;
    } else {
        if (json_object_get(args, "contract") || json_object_get(args, "method") ||
            prov_arg_id(args, "container", &cont) || (deploy != (json_object_get(args, "host") != NULL)) ||
            (deploy && prov_arg_id(args, "host", &host)))
            return EF_EARGS;
    }
    int rc = prov_require_member(ctx);
    if (rc) return rc;
    char sender[2 * EF_PUB_SIZE + 1];
    prov_hexpub(sender, ef_ctx_sender(ctx));
    json_t *prev = NULL, *c = NULL, *h = NULL, *pl = NULL;
    char okey[PROV_KEY_MAX], plkey[PROV_KEY_MAX];
    snprintf(okey, sizeof okey, "oa/%s", act);
    rc = prov_get(ctx, okey, &prev);
    if (rc == 0) {
        /* an activity is recorded once: the identical call again is a no-op */
        json_t *mine = json_deep_copy(args);
        if (mine) json_object_set_new(mine, "by", json_string(sender));
        bool same = mine && json_equal(mine, prev);
        json_decref(mine);
        rc = same ? 0 : EF_EEXIST;
        goto done;
    }
    if (rc != EF_ENOTFOUND) goto done;
    if (cont && !tunnel) {
        snprintf(plkey, sizeof plkey, "pl/%s", cont);
        rc = prov_thing(ctx, cont, &c);
        if (rc == 0) {
            /* a joined container: only its owner (the orchestrator agent) places it */
            if (!prov_sender_is(ctx, prov_s(c, "owner"))) {
                rc = EF_EPERM;
                goto done;
            }
            if (strcmp(prov_s(c, "kind"), "container")) {
                rc = EF_ESTATE;
                goto done;
            }
        } else if (rc != EF_ENOTFOUND) {
            goto done;
        }
        rc = prov_get(ctx, plkey, &pl);
        if (rc && rc != EF_ENOTFOUND) goto done;
        if (deploy) {
            if (rc == 0) {
                rc = EF_EEXIST;                             /* placed already */
                goto done;
            }
            if ((rc = prov_joined(ctx, host, &h))) goto done;
            if (strcmp(prov_s(h, "kind"), "device")) {
                rc = EF_ESTATE;
                goto done;
            }
            json_decref(pl);
            pl = json_pack("{s:s, s:s, s:s}", "host", host, "activity", act, "by", sender);
            if (!pl) {
                rc = EF_ENOMEM;
                goto done;
            }
            if ((rc = ef_ctx_put_json(ctx, plkey, pl))) goto done;
        } else {
            if (rc == EF_ENOTFOUND) {
                rc = EF_ESTATE;                             /* never placed */
                goto done;
            }
            if (strcmp(prov_s(pl, "by"), sender)) {
                rc = EF_EPERM;
                goto done;
            }
            host = prov_s(pl, "host");
            if ((rc = ef_ctx_del(ctx, plkey, strlen(plkey)))) goto done;
        }
    }
    json_t *mine = json_deep_copy(args);
    if (!mine) {
        rc = EF_ENOMEM;
        goto done;
    }
    json_object_set_new(mine, "by", json_string(sender));
    rc = ef_ctx_put_json(ctx, okey, mine);
    json_decref(mine);
    if (rc) goto done;

    prov_rec r;
    char qact[PROV_QNAME_MAX], qs[PROV_QNAME_MAX], qc[PROV_QNAME_MAX], qh[PROV_QNAME_MAX], qb[PROV_QNAME_MAX];
    snprintf(qact, sizeof qact, "act:%s", act);
    snprintf(qs, sizeof qs, "acct:%s", sender);
    const char *ptype = deploy ? "ef:Deploy" : teardown ? "ef:Teardown" : connect ? "ef:Connect"
                        : disconnect ? "ef:Disconnect" : "ef:Execute";
    const char *rtype = deploy ? "orch-deploy" : teardown ? "orch-teardown" : connect ? "orch-connect"
                        : disconnect ? "orch-disconnect" : "orch-execute";
    json_t *aa = json_pack("{s:o, s:s, s:I}", "prov:type", prov_qn(ptype), "prov:startTime", "", "ef:height",
                           (json_int_t)ef_ctx_height(ctx));
    if ((rc = prov_rec_init(&r, ctx, rtype))) {
        json_decref(aa);
        goto rec;
    }
    if (!aa) {
        rc = EF_ENOMEM;
        goto rec;
    }
    json_object_set_new(aa, "prov:startTime", json_string(r.time));
    if (contract) json_object_set_new(aa, "ef:contract", json_string(contract));
    if (method) json_object_set_new(aa, "ef:method", json_string(method));
    if (ref) json_object_set_new(aa, "ef:ref", json_string(ref));
    if ((rc = prov_rec_el(&r, qact, "activity", aa))) goto rec;
    if ((rc = prov_rec_el(&r, qs, "agent", json_pack("{s:o}", "prov:type", prov_qn("ef:Account"))))) goto rec;
    if ((rc = prov_rec_rel(&r, "wasAssociatedWith", qact, qs, json_pack("{s:o}", "prov:role", prov_qn("ef:orchestrator")),
                           false)))
        goto rec;
    if (cont) {
        snprintf(qc, sizeof qc, "thing:%s", cont);
        if ((rc = prov_rec_el(&r, qc, "agent", NULL))) goto rec;
        if ((rc = prov_rec_rel(&r, "wasAssociatedWith", qact, qc,
                               json_pack("{s:o}", "prov:role", prov_qn(tunnel ? "ef:tunnelled" : "ef:container")), true)))
            goto rec;
        if (host) {
            snprintf(qh, sizeof qh, "thing:%s", host);
            if ((rc = prov_rec_el(&r, qh, "agent", NULL))) goto rec;
            if ((rc = prov_rec_rel(&r, "wasAssociatedWith", qact, qh, json_pack("{s:o}", "prov:role", prov_qn("ef:host")),
                                   false)))
                goto rec;
        }
    }
    if (has_behalf) {
        char bhex[2 * EF_PUB_SIZE + 1];
        prov_hexpub(bhex, &behalf);
        snprintf(qb, sizeof qb, "acct:%s", bhex);
        if (strcmp(qb, qs)) {
            if ((rc = prov_rec_el(&r, qb, "agent", json_pack("{s:o}", "prov:type", prov_qn("ef:Account"))))) goto rec;
            if ((rc = prov_rec_rel(&r, "actedOnBehalfOf", qs, qb, json_pack("{s:s}", "prov:activity", qact), false)))
                goto rec;
        }
    }
    rc = prov_rec_commit(ctx, &r);
rec:
    prov_rec_free(&r);
done:
    json_decref(prev);
    json_decref(c);
    json_decref(h);
    json_decref(pl);
    return rc;
}

static const ef_method prov_methods[] = {
    {"join", prov_m_join},
    {"leave", prov_m_leave},
    {"release", prov_m_release},
    {"use", prov_m_use},
    {"orchestrate", prov_m_orchestrate},
};

/* ---------------------------------------------------------------- export */

static json_t *prov_doc_new(void)
{
    json_t *doc = json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:s}}", "prefix", "ef", "urn:edgefed:ns#", "thing",
                            "urn:edgefed:thing:", "data", "urn:edgefed:data:", "act", "urn:edgefed:act:", "acct",
                            "urn:edgefed:acct:", "tx", "urn:edgefed:tx:");
    if (!doc) return NULL;
    json_object_set_new(doc, "entity", json_object());
    json_object_set_new(doc, "activity", json_object());
    json_object_set_new(doc, "agent", json_object());
    for (size_t i = 0; i < EF_ARRAY_LEN(prov_rel_kinds); i++) json_object_set_new(doc, prov_rel_kinds[i].kind, json_object());
    return doc;
}

/* Drops the empty sections (python prov reads them either way; smaller output). */
static void prov_doc_finish(json_t *doc)
{
    static const char *const secs[] = {"entity", "activity", "agent"};
    for (size_t i = 0; i < EF_ARRAY_LEN(secs); i++)
        if (json_object_size(json_object_get(doc, secs[i])) == 0) json_object_del(doc, secs[i]);
    for (size_t i = 0; i < EF_ARRAY_LEN(prov_rel_kinds); i++)
        if (json_object_size(json_object_get(doc, prov_rel_kinds[i].kind)) == 0)
            json_object_del(doc, prov_rel_kinds[i].kind);
}

/* Merges element e into the document: new attributes are added, present ones kept. */
static int prov_doc_el(json_t *doc, const json_t *e)
{
    json_t *sec = json_object_get(doc, prov_s(e, "kind"));
    if (!sec) return EF_EDB;
    const char *id = prov_s(e, "id");
    json_t *cur = json_object_get(sec, id);
    if (!cur) {
        cur = json_object();
        if (!cur || json_object_set_new(sec, id, cur)) return EF_ENOMEM;
    }
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(e, "attrs"), k, v)
        if (!json_object_get(cur, k)) json_object_set(cur, k, v);
    return 0;
}

static int prov_doc_rel(json_t *doc, const json_t *x, const json_t *rec)
{
    json_t *o = prov_rel_obj(x, prov_u(rec, "seq"), prov_u(rec, "height"));
    if (!o) return EF_EDB;
    return json_object_set_new(json_object_get(doc, prov_s(x, "kind")), prov_s(x, "id"), o) ? EF_ENOMEM : 0;
}

static int prov_doc_record(json_t *doc, const json_t *rec)
{
    size_t i;
    json_t *v;
    int rc;
    json_array_foreach(json_object_get(rec, "elements"), i, v)
        if ((rc = prov_doc_el(doc, v))) return rc;
    json_array_foreach(json_object_get(rec, "relations"), i, v)
        if ((rc = prov_doc_rel(doc, v, rec))) return rc;
    return 0;
}

typedef struct prov_walk {
    uint64_t from, to;   /* heights */
    json_t *doc;         /* export into, or */
    json_t *arr;         /* collect records into */
    uint64_t n;
    int err;
} prov_walk;

static int prov_walk_rec(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    prov_walk *w = arg;
    (void)key;
    (void)key_len;
    json_t *rec = NULL;
    if (ef_cj_decode(&rec, val, val_len)) return EF_EDB;
    uint64_t h = prov_u(rec, "height");
    int rc = 0;
    if (h > w->to) rc = 1;
    else if (h >= w->from) {
        if (++w->n > EF_PROV_QUERY_MAX) rc = EF_ELIMIT;
        else if (w->doc) rc = prov_doc_record(w->doc, rec);
        else rc = json_array_append(w->arr, rec) ? EF_ENOMEM : 0;
    }
    json_decref(rec);
    return rc;
}

static int prov_load_rec(ef_ctx *ctx, uint64_t seq, json_t **out)
{
    char key[PROV_KEY_MAX];
    snprintf(key, sizeof key, "r/%016" PRIx64, seq);
    return prov_get(ctx, key, out);
}

static int prov_rec_height(ef_ctx *ctx, uint64_t seq, uint64_t *h)
{
    json_t *rec;
    int rc = prov_load_rec(ctx, seq, &rec);
    if (rc) return rc == EF_ENOTFOUND ? EF_EDB : rc;
    *h = prov_u(rec, "height");
    json_decref(rec);
    return 0;
}

/* The records of blocks w->from..w->to: records are numbered in block order, so
 * the first one is found by binary search and the rest read in sequence (a range
 * costs its own records, not those before it). */
static int prov_walk_range(ef_ctx *ctx, prov_walk *w)
{
    json_t *st = NULL;
    int rc = prov_get(ctx, "stats", &st);
    if (rc == EF_ENOTFOUND) return 0;
    if (rc) return rc;
    uint64_t n = prov_u(st, "records"), lo = 1, hi = n + 1;
    json_decref(st);
    while (lo < hi) {   /* first seq whose height >= from */
        uint64_t mid = lo + (hi - lo) / 2, h;
        if ((rc = prov_rec_height(ctx, mid, &h))) return rc;
        if (h < w->from) lo = mid + 1;
        else hi = mid;
    }
    for (uint64_t seq = lo; seq <= n; seq++) {
        char key[PROV_KEY_MAX];
        int kn = snprintf(key, sizeof key, "r/%016" PRIx64, seq);
        const uint8_t *v;
        size_t vlen;
        if ((rc = ef_ctx_get(ctx, key, (size_t)kn, &v, &vlen))) return rc == EF_ENOTFOUND ? EF_EDB : rc;
        rc = prov_walk_rec(w, (const uint8_t *)key, (size_t)kn, v, vlen);
        if (rc) return rc < 0 ? rc : 0;
    }
    return 0;
}

/* ---------------------------------------------------------------- lineage */

typedef struct prov_lin {
    ef_ctx *ctx;
    json_t *nodes;     /* qname -> kind */
    json_t *queue;     /* qnames to visit */
    json_t *seen_rel;  /* relation id -> true */
    json_t *seen_rec;  /* "seq:node" visited */
    json_t *steps;     /* array */
    json_t *recs;      /* seq (as string) -> record, for the export */
    const char *node;  /* being visited */
    bool users;        /* visiting the root's users (`used` relations to it) */
    int err;
} prov_lin;

static const char *prov_el_kind(ef_ctx *ctx, const char *qname)
{
    char key[PROV_KEY_MAX];
    int n = snprintf(key, sizeof key, "el/%s", qname);
    const uint8_t *v;
    size_t vlen;
    if (n < 0 || (size_t)n >= sizeof key || ef_ctx_get(ctx, key, (size_t)n, &v, &vlen) || vlen < 1) return NULL;
    return v[0] == 'e' ? "entity" : v[0] == 'a' ? "activity" : "agent";
}

static int prov_lin_add_node(prov_lin *l, const char *qname, bool enqueue)
{
    if (json_object_get(l->nodes, qname)) return 0;
    const char *kind = prov_el_kind(l->ctx, qname);
    if (!kind) return EF_EDB;
    if (json_object_set_new(l->nodes, qname, json_string(kind))) return EF_ENOMEM;
    if (enqueue && json_array_append_new(l->queue, json_string(qname))) return EF_ENOMEM;
    return 0;
}

static int prov_lin_rec(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    prov_lin *l = arg;
    (void)val;
    (void)val_len;
    if (key_len < 16) return EF_EDB;
    char hex[17];
    memcpy(hex, key + key_len - 16, 16);
    hex[16] = 0;
    uint64_t seq = strtoull(hex, NULL, 16);
    char sk[24];
    snprintf(sk, sizeof sk, "%" PRIu64, seq);
    json_t *rec = json_object_get(l->recs, sk);
    if (!rec) {
        int rc = prov_load_rec(l->ctx, seq, &rec);
        if (rc) return rc == EF_ENOTFOUND ? EF_EDB : rc;
        if (json_object_set_new(l->recs, sk, rec)) return EF_ENOMEM;
    }
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(rec, "relations"), i, x) {
        const char *from = prov_s(x, "from"), *to = prov_s(x, "to"), *other;
        if (l->users) {
            if (strcmp(prov_s(x, "kind"), "used") || strcmp(to, l->node)) continue;
            other = from;
        } else if (!strcmp(from, l->node)) {
            other = to;
        } else if (json_is_true(json_object_get(x, "rev")) && !strcmp(to, l->node)) {
            other = from;
        } else {
            continue;
        }
        const char *rid = prov_s(x, "id");
        if (json_object_get(l->seen_rel, rid)) continue;
        if (json_array_size(l->steps) >= PROV_LINEAGE_MAX) return EF_ELIMIT;
        json_object_set_new(l->seen_rel, rid, json_true());
        json_t *step = json_pack("{s:s, s:s, s:s, s:s, s:O, s:O, s:O, s:I}", "id", rid, "kind", prov_s(x, "kind"),
                                 "from", from, "to", to, "tx", json_object_get(rec, "tx"), "height",
                                 json_object_get(rec, "height"), "time_ms", json_object_get(rec, "time_ms"), "record",
                                 (json_int_t)seq);
        if (!step || json_array_append_new(l->steps, step)) return EF_ENOMEM;
        int rc = prov_lin_add_node(l, other, !l->users);
        if (rc) return rc;
    }
    return 0;
}

static int prov_lin_scan(prov_lin *l, const char *prefix, const char *node)
{
    char pre[PROV_KEY_MAX];
    int n = snprintf(pre, sizeof pre, "%s%s/", prefix, node);
    if (n < 0 || (size_t)n >= sizeof pre) return EF_EINVAL;
    l->node = node;
    int rc = ef_ctx_scan(l->ctx, pre, (size_t)n, prov_lin_rec, l);
    return rc < 0 ? rc : 0;
}

/* Computes the lineage of root: *out = {"root","nodes","steps"}; *recs (optional)
 * the records the steps come from (seq -> record). */
static int prov_lineage(ef_ctx *ctx, const char *root, json_t **out, json_t **recs)
{
    prov_lin l = {.ctx = ctx, .nodes = json_object(), .queue = json_array(), .seen_rel = json_object(),
                  .steps = json_array(), .recs = json_object()};
    int rc = EF_ENOMEM;
    *out = NULL;
    if (!l.nodes || !l.queue || !l.seen_rel || !l.steps || !l.recs) goto out;
    if (strlen(root) >= PROV_QNAME_MAX || !prov_el_kind(ctx, root)) {
        rc = EF_ENOTFOUND;
        goto out;
    }
    if ((rc = prov_lin_add_node(&l, root, true))) goto out;
    for (size_t i = 0; i < json_array_size(l.queue); i++) {
        char node[PROV_QNAME_MAX];
        snprintf(node, sizeof node, "%s", json_string_value(json_array_get(l.queue, i)));
        if ((rc = prov_lin_scan(&l, "ix/", node))) goto out;
    }
    l.users = true;
    if ((rc = prov_lin_scan(&l, "iu/", root))) goto out;
    json_t *nodes = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(l.nodes, k, v)
        json_array_append_new(nodes, json_pack("{s:s, s:O}", "id", k, "kind", v));
    *out = json_pack("{s:s, s:o, s:O}", "root", root, "nodes", nodes, "steps", l.steps);
    rc = *out ? 0 : EF_ENOMEM;
    if (rc == 0 && recs) {
        *recs = l.recs;
        l.recs = NULL;
    }
out:
    json_decref(l.nodes);
    json_decref(l.queue);
    json_decref(l.seen_rel);
    json_decref(l.steps);
    json_decref(l.recs);
    return rc;
}

/* PROV-JSON of a lineage: the nodes' declarations and the steps' relations. */
static int prov_lineage_doc(ef_ctx *ctx, const char *root, json_t **out)
{
    json_t *lin = NULL, *recs = NULL, *doc = prov_doc_new(), *nodes = json_object();
    int rc = doc && nodes ? prov_lineage(ctx, root, &lin, &recs) : EF_ENOMEM;
    if (rc) goto out;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(lin, "nodes"), i, v) json_object_set(nodes, prov_s(v, "id"), json_true());
    json_array_foreach(json_object_get(lin, "steps"), i, v) {
        char sk[24];
        snprintf(sk, sizeof sk, "%" PRIu64, prov_u(v, "record"));
        json_t *rec = json_object_get(recs, sk);
        size_t j;
        json_t *x;
        json_array_foreach(json_object_get(rec, "elements"), j, x)
            if (json_object_get(nodes, prov_s(x, "id")) && (rc = prov_doc_el(doc, x))) goto out;
        json_array_foreach(json_object_get(rec, "relations"), j, x)
            if (!strcmp(prov_s(x, "id"), prov_s(v, "id")) && (rc = prov_doc_rel(doc, x, rec))) goto out;
    }
    /* a root with no step is still declared */
    json_t *root_kind = json_object_get(json_object_get(doc, prov_el_kind(ctx, root)), root);
    if (!root_kind) json_object_set_new(json_object_get(doc, prov_el_kind(ctx, root)), root, json_object());
    prov_doc_finish(doc);
    *out = doc;
    doc = NULL;
out:
    json_decref(lin);
    json_decref(recs);
    json_decref(doc);
    json_decref(nodes);
    return rc;
}

/* ---------------------------------------------------------------- queries */

static int prov_range(const char *s, uint64_t *from, uint64_t *to)
{
    char *end;
    if (*s < '0' || *s > '9') return EF_EINVAL;
    *from = strtoull(s, &end, 10);
    if (*end != '/' || end[1] < '0' || end[1] > '9') return EF_EINVAL;
    *to = strtoull(end + 1, &end, 10);
    if (*end || *from > *to) return EF_EINVAL;
    return 0;
}

static int prov_query_text(ef_ctx *ctx, const char *path, char **out, size_t *len);

static int prov_query(ef_ctx *ctx, const char *path, json_t **out)
{
    *out = NULL;
    int rc;
    if (!strcmp(path, "stats") || !strcmp(path, "")) {
        rc = prov_get(ctx, "stats", out);
        if (rc == EF_ENOTFOUND) {
            *out = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i}", "records", 0, "elements", 0, "entities", 0,
                             "activities", 0, "agents", 0, "relations", 0);
            rc = *out ? 0 : EF_ENOMEM;
        }
        return rc;
    }
    if (!strncmp(path, "thing/", 6) || !strncmp(path, "data/", 5)) {
        const char *id = strchr(path, '/') + 1;
        char key[PROV_KEY_MAX];
        if (!ef_prov_id_ok(id)) return EF_EINVAL;
        snprintf(key, sizeof key, "%s/%s", path[0] == 't' ? "th" : "da", id);
        return prov_get(ctx, key, out);
    }
    if (!strncmp(path, "lineage/", 8)) return prov_lineage(ctx, path + 8, out, NULL);
    if (!strncmp(path, "export/lineage/", 15)) return prov_lineage_doc(ctx, path + 15, out);
    if (!strcmp(path, "export") || !strncmp(path, "export/range/", 13)) {
        char *text = NULL;
        size_t len = 0;
        if ((rc = prov_query_text(ctx, path, &text, &len))) return rc;
        *out = json_loadb(text, len, 0, NULL);
        free(text);
        return *out ? 0 : EF_ENOMEM;
    }
    prov_walk w = {.from = 0, .to = UINT64_MAX};
    bool records = !strncmp(path, "records/", 8);
    if (records || !strncmp(path, "export/range/", 13)) {
        if (prov_range(path + (records ? 8 : 13), &w.from, &w.to)) return EF_EINVAL;
    } else if (strcmp(path, "export")) {
        return EF_ENOTFOUND;
    }
    if (records) w.arr = json_array();
    else w.doc = prov_doc_new();
    if (!w.arr && !w.doc) return EF_ENOMEM;
    if (w.from == 0 && w.to == UINT64_MAX) {
        rc = ef_ctx_scan(ctx, "r/", 2, prov_walk_rec, &w);   /* everything, in key order */
    } else {
        rc = prov_walk_range(ctx, &w);
    }
    if (rc < 0) {
        json_decref(w.arr);
        json_decref(w.doc);
        return rc;
    }
    if (w.doc) prov_doc_finish(w.doc);
    *out = records ? w.arr : w.doc;
    return 0;
}

const ef_contract ef_prov_contract = {
    .name = PROV_NAME,
    .methods = prov_methods,
    .methods_len = EF_ARRAY_LEN(prov_methods),
    .query = prov_query,
    .query_text = prov_query_text,
};

/* ---------------------------------------------------------------- pictures */

typedef struct { char *buf; size_t len, cap; bool err; } prov_sb;

static void prov_sb_add(prov_sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void prov_sb_add(prov_sb *b, const char *fmt, ...)
{
    if (b->err) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->buf ? b->buf + b->len : NULL, b->buf ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->err = true;
            return;
        }
        if (b->buf && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
        char *nb = realloc(b->buf, cap);
        if (!nb) {
            b->err = true;
            return;
        }
        b->buf = nb;
        b->cap = cap;
    }
}

static char *prov_sb_take(prov_sb *b)
{
    if (b->err) {
        free(b->buf);
        return NULL;
    }
    return b->buf;
}

char *ef_prov_lineage_dot(const json_t *lin)
{
    prov_sb b = {0};
    prov_sb_add(&b, "digraph lineage {\n  rankdir=BT;\n  node [fontname=\"Helvetica\", fontsize=10];\n");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(lin, "nodes"), i, v) {
        const char *kind = prov_s(v, "kind");
        const char *shape = !strcmp(kind, "entity") ? "ellipse, style=filled, fillcolor=\"#FFFC87\""
                            : !strcmp(kind, "activity") ? "box, style=filled, fillcolor=\"#9FB1FC\""
                                                        : "house, style=filled, fillcolor=\"#FED37F\"";
        prov_sb_add(&b, "  \"%s\" [shape=%s];\n", prov_s(v, "id"), shape);
    }
    json_array_foreach(json_object_get(lin, "steps"), i, v)
        prov_sb_add(&b, "  \"%s\" -> \"%s\" [label=\"%s\\nh%" PRIu64 "\", fontsize=8];\n", prov_s(v, "from"),
                    prov_s(v, "to"), prov_s(v, "kind"), prov_u(v, "height"));
    prov_sb_add(&b, "}\n");
    return prov_sb_take(&b);
}

static void prov_xml(prov_sb *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '<') prov_sb_add(b, "&lt;");
        else if (*s == '>') prov_sb_add(b, "&gt;");
        else if (*s == '&') prov_sb_add(b, "&amp;");
        else if (*s == '"') prov_sb_add(b, "&quot;");
        else prov_sb_add(b, "%c", *s);
    }
}

/* Short label: acct:<64 hex> shortened to its first 12 digits. */
static void prov_label(char out[PROV_QNAME_MAX], const char *id)
{
    if (!strncmp(id, "acct:", 5) && strlen(id) > 17) snprintf(out, PROV_QNAME_MAX, "%.17s...", id);
    else snprintf(out, PROV_QNAME_MAX, "%s", id);
}

char *ef_prov_lineage_svg(const json_t *lin)
{
    /* layers: the root at 0, each node one deeper than the first step reaching it */
    json_t *nodes = json_object_get(lin, "nodes"), *steps = json_object_get(lin, "steps");
    size_t n = json_array_size(nodes);
    int *depth = calloc(n ? n : 1, sizeof *depth), *col = calloc(n ? n : 1, sizeof *col);
    if (!depth || !col) {
        free(depth);
        free(col);
        return NULL;
    }
    const char *root = prov_s(lin, "root");
    for (size_t i = 0; i < n; i++) depth[i] = strcmp(prov_s(json_array_get(nodes, i), "id"), root) ? -1 : 0;
    for (bool changed = true; changed;) {
        changed = false;
        size_t i;
        json_t *s;
        json_array_foreach(steps, i, s) {
            int df = -1, dt = -1;
            size_t fi = 0, ti = 0;
            for (size_t k = 0; k < n; k++) {
                const char *id = prov_s(json_array_get(nodes, k), "id");
                if (!strcmp(id, prov_s(s, "from"))) df = depth[fi = k];
                if (!strcmp(id, prov_s(s, "to"))) dt = depth[ti = k];
            }
            if (df >= 0 && dt < 0) { depth[ti] = df + 1; changed = true; }
            else if (dt >= 0 && df < 0) { depth[fi] = dt + 1; changed = true; }
        }
    }
    int maxd = 0, per[256] = {0}, maxw = 1;
    for (size_t i = 0; i < n; i++) {
        if (depth[i] < 0) depth[i] = 0;
        if (depth[i] > 255) depth[i] = 255;
        col[i] = per[depth[i]]++;
        if (depth[i] > maxd) maxd = depth[i];
        if (per[depth[i]] > maxw) maxw = per[depth[i]];
    }
    const int W = 190, H = 90;
    prov_sb b = {0};
    prov_sb_add(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"Helvetica\" "
                "font-size=\"10\">\n<defs><marker id=\"arr\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
                "markerWidth=\"6\" markerHeight=\"6\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\"/></marker></defs>\n",
                maxw * W + 20, (maxd + 1) * H + 20);
    size_t i;
    json_t *s;
    json_array_foreach(steps, i, s) {
        int x1 = 0, y1 = 0, x2 = 0, y2 = 0;
        for (size_t k = 0; k < n; k++) {
            const char *id = prov_s(json_array_get(nodes, k), "id");
            int cx = 10 + col[k] * W + W / 2 - 5, cy = 10 + depth[k] * H + 20;
            if (!strcmp(id, prov_s(s, "from"))) { x1 = cx; y1 = cy; }
            if (!strcmp(id, prov_s(s, "to"))) { x2 = cx; y2 = cy; }
        }
        prov_sb_add(&b, "<line class=\"rel\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#555\" "
                    "marker-end=\"url(#arr)\"/>\n<text x=\"%d\" y=\"%d\" font-size=\"8\" fill=\"#333\">",
                    x1, y1 + (y2 > y1 ? 20 : -20), x2, y2 + (y2 > y1 ? -20 : 20), (x1 + x2) / 2 + 3, (y1 + y2) / 2);
        prov_xml(&b, prov_s(s, "kind"));
        prov_sb_add(&b, "</text>\n");
    }
    for (size_t k = 0; k < n; k++) {
        json_t *v = json_array_get(nodes, k);
        const char *kind = prov_s(v, "kind");
        int x = 10 + col[k] * W, y = 10 + depth[k] * H;
        if (!strcmp(kind, "entity"))
            prov_sb_add(&b, "<ellipse class=\"entity\" cx=\"%d\" cy=\"%d\" rx=\"85\" ry=\"20\" fill=\"#FFFC87\" "
                        "stroke=\"#808080\"/>\n", x + W / 2 - 5, y + 20);
        else if (!strcmp(kind, "activity"))
            prov_sb_add(&b, "<rect class=\"activity\" x=\"%d\" y=\"%d\" width=\"170\" height=\"40\" fill=\"#9FB1FC\" "
                        "stroke=\"#0000FF\"/>\n", x + 5, y);
        else
            prov_sb_add(&b, "<polygon class=\"agent\" points=\"%d,%d %d,%d %d,%d %d,%d %d,%d\" fill=\"#FED37F\" "
                        "stroke=\"#000\"/>\n", x + 5, y + 12, x + W / 2 - 5, y, x + 175, y + 12, x + 175, y + 40,
                        x + 5, y + 40);
        char label[PROV_QNAME_MAX];
        prov_label(label, prov_s(v, "id"));
        prov_sb_add(&b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", x + W / 2 - 5, y + 24);
        prov_xml(&b, label);
        prov_sb_add(&b, "</text>\n");
    }
    prov_sb_add(&b, "</svg>\n");
    free(depth);
    free(col);
    return prov_sb_take(&b);
}

/* ---------------------------------------------------------------- text export */

/* The whole-record and block-range PROV-JSON exports, written as text from the
 * prepared records ("rf/") and element declarations ("el/"): no whole record is
 * parsed. Keys (qualified names, relation ids) are of [A-Za-z0-9._:/-] only, so
 * they need no escaping; every value is jansson's output (sorted keys). */
typedef struct prov_tx {
    ef_ctx *ctx;
    prov_sb rel[EF_ARRAY_LEN(prov_rel_kinds)], el[3];
    json_t *want;      /* range: element qnames to declare, in first-use order */
    uint64_t to, n;
    int err;
} prov_tx;

/* Appends "key":VALUE, VALUE the JSON text of the canonical bytes cj (n bytes). */
static int prov_sb_member(prov_sb *b, const char *key, const void *cj, size_t n)
{
    json_t *v = NULL;
    if (ef_cj_decode(&v, cj, n)) return EF_EDB;
    char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(v);
    if (!text) return EF_ENOMEM;
    prov_sb_add(b, "%s\"%s\":%s", b->len ? "," : "", key, text);
    free(text);
    return 0;
}

static int prov_tx_el(prov_tx *t, const char *qname, const uint8_t *v, size_t vlen)
{
    if (vlen < 1) return EF_EDB;
    int k = v[0] == 'e' ? 0 : v[0] == 'a' ? 1 : v[0] == 'g' ? 2 : -1;
    if (k < 0) return EF_EDB;
    return prov_sb_member(&t->el[k], qname, v + 1, vlen - 1);
}

/* One "rf/" value; returns 1 past the range's end. */
static int prov_tx_rec(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    prov_tx *t = arg;
    (void)key;
    (void)key_len;
    ef_rd r;
    ef_rd_init(&r, val, val_len);
    uint64_t h;
    uint32_t n, m;
    ef_rd_u64(&r, &h);
    if (h > t->to) return 1;
    if (++t->n > EF_PROV_QUERY_MAX) return EF_ELIMIT;
    ef_rd_u32(&r, &n);
    for (uint32_t i = 0; i < n && !r.err; i++) {
        uint8_t kind;
        char id[PROV_QNAME_MAX + 8];
        const uint8_t *text;
        size_t tl;
        ef_rd_u8(&r, &kind);
        ef_rd_str(&r, id, sizeof id);
        ef_rd_bytes(&r, &text, &tl, EF_CTX_VALUE_MAX);
        if (r.err) break;
        if (kind >= EF_ARRAY_LEN(prov_rel_kinds)) return EF_EDB;
        int mrc = prov_sb_member(&t->rel[kind], id, text, tl);
        if (mrc) return mrc;
    }
    ef_rd_u32(&r, &m);
    for (uint32_t i = 0; i < m && !r.err; i++) {
        char q[PROV_QNAME_MAX + 8];
        ef_rd_str(&r, q, sizeof q);
        if (!r.err && t->want && !json_object_get(t->want, q) && json_object_set_new(t->want, q, json_true()))
            return EF_ENOMEM;
    }
    return ef_rd_finish(&r) ? EF_EDB : 0;
}

static int prov_tx_el_scan(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    prov_tx *t = arg;
    char q[PROV_QNAME_MAX + 8];
    if (key_len < 3 || key_len - 3 >= sizeof q) return EF_EDB;
    memcpy(q, key + 3, key_len - 3);
    q[key_len - 3] = 0;
    return prov_tx_el(t, q, val, val_len);
}

static int prov_export_text(ef_ctx *ctx, uint64_t from, uint64_t to, bool all, char **out, size_t *len)
{
    prov_tx t = {.ctx = ctx, .to = to, .want = all ? NULL : json_object()};
    int rc = 0;
    *out = NULL;
    *len = 0;
    if (!all && !t.want) return EF_ENOMEM;
    if (all) {
        rc = ef_ctx_scan(ctx, "rf/", 3, prov_tx_rec, &t);
        if (rc >= 0) rc = ef_ctx_scan(ctx, "el/", 3, prov_tx_el_scan, &t);
    } else {
        /* the first record of block `from` by binary search over the record numbers */
        json_t *st = NULL;
        rc = prov_get(ctx, "stats", &st);
        uint64_t n = rc == 0 ? prov_u(st, "records") : 0, lo = 1, hi = n + 1;
        json_decref(st);
        if (rc == EF_ENOTFOUND) rc = 0;
        while (rc == 0 && lo < hi) {
            uint64_t mid = lo + (hi - lo) / 2, h;
            if ((rc = prov_rec_height(ctx, mid, &h))) break;
            if (h < from) lo = mid + 1;
            else hi = mid;
        }
        for (uint64_t seq = lo; rc == 0 && seq <= n; seq++) {
            char key[PROV_KEY_MAX];
            int kn = snprintf(key, sizeof key, "rf/%016" PRIx64, seq);
            const uint8_t *v;
            size_t vlen;
            if ((rc = ef_ctx_get(ctx, key, (size_t)kn, &v, &vlen))) {
                if (rc == EF_ENOTFOUND) rc = EF_EDB;
                break;
            }
            rc = prov_tx_rec(&t, (const uint8_t *)key, (size_t)kn, v, vlen);
            if (rc == 1) rc = 0, seq = n;   /* past the range */
        }
        const char *q;
        json_t *x;
        json_object_foreach(t.want, q, x) {
            if (rc) break;
            char key[PROV_KEY_MAX];
            int kn = snprintf(key, sizeof key, "el/%s", q);
            const uint8_t *v;
            size_t vlen;
            if ((rc = ef_ctx_get(ctx, key, (size_t)kn, &v, &vlen))) {
                if (rc == EF_ENOTFOUND) rc = EF_EDB;
                break;
            }
            rc = prov_tx_el(&t, q, v, vlen);
        }
    }
    if (rc > 0) rc = 0;
    prov_sb doc = {0};
    if (rc == 0) {
        static const char *const secs[] = {"entity", "activity", "agent"};
        prov_sb_add(&doc, "{\"prefix\":{\"ef\":\"urn:edgefed:ns#\",\"thing\":\"urn:edgefed:thing:\","
                          "\"data\":\"urn:edgefed:data:\",\"act\":\"urn:edgefed:act:\",\"acct\":\"urn:edgefed:acct:\","
                          "\"tx\":\"urn:edgefed:tx:\"}");
        for (int k = 0; k < 3; k++)
            if (t.el[k].len) prov_sb_add(&doc, ",\"%s\":{%.*s}", secs[k], (int)t.el[k].len, t.el[k].buf);
        for (size_t k = 0; k < EF_ARRAY_LEN(prov_rel_kinds); k++)
            if (t.rel[k].len)
                prov_sb_add(&doc, ",\"%s\":{%.*s}", prov_rel_kinds[k].kind, (int)t.rel[k].len, t.rel[k].buf);
        prov_sb_add(&doc, "}");
        for (int k = 0; k < 3; k++) rc = t.el[k].err ? EF_ENOMEM : rc;
        for (size_t k = 0; k < EF_ARRAY_LEN(prov_rel_kinds); k++) rc = t.rel[k].err ? EF_ENOMEM : rc;
        if (doc.err) rc = EF_ENOMEM;
    }
    for (int k = 0; k < 3; k++) free(t.el[k].buf);
    for (size_t k = 0; k < EF_ARRAY_LEN(prov_rel_kinds); k++) free(t.rel[k].buf);
    json_decref(t.want);
    if (rc) {
        free(doc.buf);
        return rc;
    }
    *out = doc.buf;
    *len = doc.len;
    return 0;
}

static int prov_query_text(ef_ctx *ctx, const char *path, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (!strcmp(path, "export")) return prov_export_text(ctx, 0, UINT64_MAX, true, out, len);
    if (!strncmp(path, "export/range/", 13)) {
        uint64_t from, to;
        if (prov_range(path + 13, &from, &to)) return EF_EINVAL;
        return prov_export_text(ctx, from, to, false, out, len);
    }
    return EF_ENOMETHOD;   /* not a text query: the JSON query answers it */
}
