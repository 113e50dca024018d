/* ef_e2eorch.c: the end-to-end slice orchestrator; see ef_e2eorch.h. */
#include "agents/ef_e2eorch.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ef_log.h"

#define EO_LOG "e2eorch"
#define EO_ID_MAX 29   /* + "-a" fits an nslice id */

typedef struct eo_part {
    char domain[33];
    char inst[EO_ID_MAX + 3];
    uint64_t kbps, below_since_ms;
    bool readjusting;
} eo_part;

typedef struct eo_slice {
    bool used;
    char id[EO_ID_MAX + 1];
    uint64_t kbps;
    eo_part part[2];
} eo_slice;

struct ef_e2eorch {
    ef_e2eorch_cfg cfg;
    ef_e2eorch_hooks hooks;
    eo_slice s[EF_E2EORCH_SLICES_MAX];
    ef_e2eorch_stats st;
};

int ef_e2eorch_open(ef_e2eorch **out, const ef_e2eorch_cfg *cfg, const ef_e2eorch_hooks *hooks)
{
    *out = NULL;
    if (!cfg || !hooks || !hooks->fed_submit || !hooks->dom_submit || !hooks->proof ||
        cfg->ndomains > EF_E2EORCH_DOMAINS_MAX)
        return EF_EINVAL;
    ef_e2eorch *o = calloc(1, sizeof *o);
    if (!o) return EF_ENOMEM;
    o->cfg = *cfg;
    if (!o->cfg.headroom_pct) o->cfg.headroom_pct = 25;
    if (!o->cfg.degrade_ms) o->cfg.degrade_ms = 1000;
    o->hooks = *hooks;
    *out = o;
    return 0;
}

void ef_e2eorch_close(ef_e2eorch *o) { free(o); }

static const char *eo_s(const json_t *o, const char *f)
{
    const char *s = json_string_value(json_object_get(o, f));
    return s ? s : "";
}

static eo_slice *eo_find(ef_e2eorch *o, const char *id)
{
    for (size_t i = 0; i < EF_E2EORCH_SLICES_MAX; i++)
        if (o->s[i].used && !strcmp(o->s[i].id, id)) return &o->s[i];
    return NULL;
}

static const char *eo_template(ef_e2eorch *o, const char *domain)
{
    for (size_t i = 0; i < o->cfg.ndomains; i++)
        if (!strcmp(o->cfg.domains[i].name, domain)) return o->cfg.domains[i].template_id;
    return NULL;
}

static int eo_dom(ef_e2eorch *o, const char *domain, const char *method, json_t *args)
{
    char err[24] = "";
    int rc = args ? o->hooks.dom_submit(o->hooks.arg, domain, method, args, err) : EF_ENOMEM;
    if (rc) EF_LOGW(EO_LOG, "%s: nslice.%s refused: %s", domain, method, err[0] ? err : ef_strerror(rc));
    json_decref(args);
    return rc;
}

static int eo_fed(ef_e2eorch *o, const char *method, json_t *args)
{
    char err[24] = "";
    int rc = args ? o->hooks.fed_submit(o->hooks.arg, method, args, err) : EF_ENOMEM;
    if (rc) EF_LOGW(EO_LOG, "e2e.%s refused: %s", method, err[0] ? err : ef_strerror(rc));
    json_decref(args);
    return rc;
}

/* The ledger's record at path on domain (NULL: the federation) through the
 * query hook; NULL if there is no hook, no record or no answer. */
static json_t *eo_query(ef_e2eorch *o, const char *domain, const char *path)
{
    return o->hooks.query ? o->hooks.query(o->hooks.arg, domain, path) : NULL;
}

/* The part's nslice instance on its domain (a new reference, or NULL). */
static json_t *eo_instance(ef_e2eorch *o, const eo_part *pt)
{
    char path[80];
    snprintf(path, sizeof path, "/state/nslice/instance/%s", pt->inst);
    return eo_query(o, pt->domain, path);
}

static bool eo_running(const json_t *inst)
{
    const char *l = json_string_value(json_object_get(inst, "lifecycle"));
    return l && (!strcmp(l, "active") || !strcmp(l, "modified") || !strcmp(l, "readjusted"));
}

/* The domain steps the orchestrator claims on the federation. */
static const char *const eo_claimable[] = {"nslice_activated", "nslice_readjusted", "nslice_modified",
                                           "nslice_decommissioned", "nslice_failed"};

static bool eo_is_claimable(const char *name)
{
    for (size_t i = 0; i < EF_ARRAY_LEN(eo_claimable); i++)
        if (!strcmp(name, eo_claimable[i])) return true;
    return false;
}

/* true if the federation's record of slice id already holds the claim of tx_hash */
static bool eo_claimed(ef_e2eorch *o, const char *id, int p, const char *tx_hash)
{
    char path[80];
    snprintf(path, sizeof path, "/state/e2e/slice/%s", id);
    json_t *rec = eo_query(o, NULL, path);
    bool found = false;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(json_object_get(rec, p ? "b" : "a"), "claims"), i, c) found |=
        !strcmp(eo_s(c, "tx_hash"), tx_hash);
    json_decref(rec);
    return found;
}

static void eo_requested(ef_e2eorch *o, const json_t *d)
{
    const char *id = eo_s(d, "id");
    json_int_t kbps = json_integer_value(json_object_get(d, "kbps"));
    if (!*id || strlen(id) > EO_ID_MAX || kbps <= 0 || eo_find(o, id)) return;
    const char *ta = eo_template(o, eo_s(json_object_get(d, "a"), "domain")),
               *tb = eo_template(o, eo_s(json_object_get(d, "b"), "domain"));
    if (!ta || !tb) return;   /* not ours to orchestrate */
    eo_slice *s = NULL;
    for (size_t i = 0; i < EF_E2EORCH_SLICES_MAX && !s; i++)
        if (!o->s[i].used) s = &o->s[i];
    if (!s) return;
    memset(s, 0, sizeof *s);
    s->used = true;
    snprintf(s->id, sizeof s->id, "%s", id);
    s->kbps = (uint64_t)kbps;
    o->st.requested++;
    for (int p = 0; p < 2; p++) {
        const json_t *pj = json_object_get(d, p ? "b" : "a");
        eo_part *pt = &s->part[p];
        snprintf(pt->domain, sizeof pt->domain, "%s", eo_s(pj, "domain"));
        snprintf(pt->inst, sizeof pt->inst, "%s-%c", id, p ? 'b' : 'a');
        pt->kbps = s->kbps;
        json_int_t pk = json_integer_value(json_object_get(pj, "kbps"));
        if (pk > 0) pt->kbps = (uint64_t)pk;
        json_t *inst = eo_instance(o, pt);
        bool exists = inst != NULL;
        json_decref(inst);
        if (exists) continue;   /* requested before (a replay, or a restart) */
        (void)eo_dom(o, pt->domain, "request",
                     json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "id", pt->inst, "template", p ? tb : ta, "ref", id,
                               "ap", eo_s(pj, "ap"), "dst", eo_s(pj, "dst"), "kbps", (json_int_t)s->kbps));
    }
}

static void eo_decommission(ef_e2eorch *o, eo_slice *s)
{
    for (int p = 0; p < 2; p++) {
        if (o->hooks.query) {
            json_t *inst = eo_instance(o, &s->part[p]);
            bool act = eo_running(inst) && !json_object_get(inst, "pending");
            json_decref(inst);
            if (!act) continue;   /* decommissioning already, or not running */
        }
        (void)eo_dom(o, s->part[p].domain, "decommission", json_pack("{s:s}", "id", s->part[p].inst));
    }
}

/* A re-adjustment of part p requested when its proven version was v (0:
 * unknown): the domain's nslice.readjust with the headroom. */
static void eo_readjust(ef_e2eorch *o, eo_slice *s, int p, json_int_t v)
{
    eo_part *pt = &s->part[p];
    uint64_t base = pt->kbps;
    if (o->hooks.query) {
        /* acted on already (the instance moved past the version the request
         * saw, or its change is under way): nothing to send */
        json_t *inst = eo_instance(o, pt);
        bool act = eo_running(inst) && !json_object_get(inst, "pending") &&
                   (v <= 0 || json_integer_value(json_object_get(inst, "version")) == v);
        json_int_t ik = json_integer_value(json_object_get(inst, "kbps"));
        if (ik > 0) base = (uint64_t)ik;
        json_decref(inst);
        if (!act) return;
    }
    uint64_t kbps = base + base * o->cfg.headroom_pct / 100;
    (void)eo_dom(o, pt->domain, "readjust", json_pack("{s:s, s:I}", "id", pt->inst, "kbps", (json_int_t)kbps));
}

void ef_e2eorch_on_fed_event(ef_e2eorch *o, const char *name, const json_t *data)
{
    if (!o || !name || !json_is_object(data)) return;
    if (!strcmp(name, "e2e_requested")) {
        eo_requested(o, data);
        return;
    }
    eo_slice *s = eo_find(o, eo_s(data, "id"));
    if (!s) return;
    if (!strcmp(name, "e2e_readjust_requested")) {
        eo_readjust(o, s, !strcmp(eo_s(data, "part"), "b"), json_integer_value(json_object_get(data, "version")));
    } else if (!strcmp(name, "e2e_decommission_requested")) {
        eo_decommission(o, s);
    } else if (!strcmp(name, "e2e_decommissioned") || !strcmp(name, "e2e_failed")) {
        s->used = false;
    }
}

void ef_e2eorch_on_domain_event(ef_e2eorch *o, const char *domain, const char *name, const json_t *data,
                                const char *tx_hash)
{
    if (!o || !domain || !name || !json_is_object(data) || !tx_hash) return;
    eo_slice *s = eo_is_claimable(name) ? eo_find(o, eo_s(data, "ref")) : NULL;
    if (!s) return;
    int p = -1;
    for (int k = 0; k < 2; k++)
        if (!strcmp(s->part[k].domain, domain) && !strcmp(s->part[k].inst, eo_s(data, "id"))) p = k;
    if (p < 0) return;
    if (eo_claimed(o, s->id, p, tx_hash)) return;   /* a replayed step, proven before */
    char *hex = NULL;
    int rc = o->hooks.proof(o->hooks.arg, domain, tx_hash, &hex);
    if (rc) {
        EF_LOGW(EO_LOG, "%s: proof of %s: %s", domain, tx_hash, ef_strerror(rc));
        o->st.claim_refused++;
        return;
    }
    rc = eo_fed(o, "claim", json_pack("{s:s, s:s, s:s}", "id", s->id, "part", p ? "b" : "a", "proof", hex));
    free(hex);
    if (rc) {
        o->st.claim_refused++;
        return;
    }
    o->st.claimed++;
    json_int_t kbps = json_integer_value(json_object_get(data, "kbps"));
    if (kbps > 0) s->part[p].kbps = (uint64_t)kbps;
    if (strcmp(name, "nslice_activated")) {
        s->part[p].readjusting = false;
        s->part[p].below_since_ms = 0;
    }
}

void ef_e2eorch_rate(ef_e2eorch *o, const char *id, int part, uint64_t kbps, uint64_t now_ms)
{
    eo_slice *s = o && id ? eo_find(o, id) : NULL;
    if (!s || part < 0 || part > 1) return;
    eo_part *pt = &s->part[part];
    if (kbps >= s->kbps) {
        pt->below_since_ms = 0;
        return;
    }
    if (!pt->below_since_ms) {
        pt->below_since_ms = now_ms ? now_ms : 1;
        return;
    }
    if (pt->readjusting || now_ms - pt->below_since_ms < o->cfg.degrade_ms) return;
    if (eo_fed(o, "readjust", json_pack("{s:s, s:s, s:s}", "id", s->id, "part", part ? "b" : "a", "reason",
                                        "degraded")) == 0) {
        pt->readjusting = true;
        o->st.readjust_requested++;
    }
}

/* true if claims (a part's on the federation) hold the step name of version at
 * domain height, or a step at a later height (an older step is done with) */
static bool eo_step_claimed(const json_t *claims, const char *name, json_int_t version, json_int_t height)
{
    size_t i;
    json_t *c;
    json_array_foreach(claims, i, c) {
        json_int_t ch = json_integer_value(json_object_get(c, "height"));
        if (ch > height || (ch == height && !strcmp(eo_s(c, "event"), name) &&
                            json_integer_value(json_object_get(c, "version")) == version))
            return true;
    }
    return false;
}

/* The step name of part p recorded at domain height, as the domain's event
 * stream would have delivered it: found in that block's transactions
 * (GET /blocks/HEIGHT) and handed to ef_e2eorch_on_domain_event. */
static void eo_catch_up(ef_e2eorch *o, eo_slice *s, int p, const char *name, json_int_t height)
{
    char path[48];
    snprintf(path, sizeof path, "/blocks/%lld", (long long)height);
    json_t *blk = eo_query(o, s->part[p].domain, path), *tx, *ev;
    size_t i, k;
    bool found = false;
    json_array_foreach(json_object_get(blk, "txs"), i, tx) {
        if (strcmp(eo_s(tx, "code"), "OK")) continue;
        json_array_foreach(json_object_get(tx, "events"), k, ev) {
            const json_t *data = json_object_get(ev, "data");
            if (strcmp(eo_s(ev, "contract"), "nslice") || strcmp(eo_s(ev, "name"), name) ||
                strcmp(eo_s(data, "id"), s->part[p].inst))
                continue;
            found = true;
            o->st.caught_up++;
            ef_e2eorch_on_domain_event(o, s->part[p].domain, name, data, eo_s(tx, "hash"));
        }
    }
    if (!found) EF_LOGW(EO_LOG, "%s: %s of %s at height %lld: not in the block", s->part[p].domain, name,
                        s->part[p].inst, (long long)height);
    json_decref(blk);
}

/* Part p of s as its domain records it: its rate, and the steps of its
 * history the federation does not hold yet, claimed in order. */
static void eo_take_up_part(ef_e2eorch *o, eo_slice *s, int p, const json_t *fpart)
{
    json_t *inst = eo_instance(o, &s->part[p]);
    json_int_t ik = json_integer_value(json_object_get(inst, "kbps"));
    if (ik > 0) s->part[p].kbps = (uint64_t)ik;
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(inst, "history"), i, h) {
        const char *name = eo_s(h, "step");
        json_int_t v = json_integer_value(json_object_get(h, "version")),
                   height = json_integer_value(json_object_get(h, "height"));
        if (eo_is_claimable(name) && height > 0 && !eo_step_claimed(json_object_get(fpart, "claims"), name, v, height))
            eo_catch_up(o, s, p, name, height);
    }
    json_decref(inst);
}

void ef_e2eorch_adopt(ef_e2eorch *o, const json_t *rec)
{
    const char *st = eo_s(rec, "state");
    if (!o || (strcmp(st, "requested") && strcmp(st, "active") && strcmp(st, "decommissioning"))) return;
    eo_requested(o, rec);   /* requests only a part its domain does not have */
    eo_slice *s = eo_find(o, eo_s(rec, "id"));
    if (!s) return;
    o->st.adopted++;
    if (!o->hooks.query) {
        if (!strcmp(st, "decommissioning")) eo_decommission(o, s);
        return;
    }
    for (int p = 0; p < 2 && eo_find(o, s->id) == s; p++) eo_take_up_part(o, s, p, json_object_get(rec, p ? "b" : "a"));
    if (eo_find(o, s->id) != s) return;
    /* what the federation asks for and the domains have not done yet */
    char path[80];
    snprintf(path, sizeof path, "/state/e2e/slice/%s", s->id);
    json_t *now = eo_query(o, NULL, path);
    const char *nst = eo_s(now, "state");
    if (!strcmp(nst, "decommissioning")) eo_decommission(o, s);
    else if (!strcmp(nst, "decommissioned") || !strcmp(nst, "failed")) s->used = false;
    for (int p = 0; p < 2 && !strcmp(nst, "active"); p++) {
        const json_t *rq = json_object_get(json_object_get(now, p ? "b" : "a"), "readjust");
        if (!json_is_object(rq)) continue;
        s->part[p].readjusting = true;   /* cleared by its claim */
        eo_readjust(o, s, p, json_integer_value(json_object_get(rq, "version")));
    }
    json_decref(now);
}

json_t *ef_e2eorch_json(ef_e2eorch *o)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < EF_E2EORCH_SLICES_MAX; i++) {
        const eo_slice *s = &o->s[i];
        if (!s->used) continue;
        json_t *j = json_pack("{s:s, s:I}", "id", s->id, "kbps", (json_int_t)s->kbps);
        for (int p = 0; j && p < 2; p++)
            json_object_set_new(j, p ? "b" : "a",
                                json_pack("{s:s, s:s, s:I, s:b}", "domain", s->part[p].domain, "instance",
                                          s->part[p].inst, "kbps", (json_int_t)s->part[p].kbps, "readjusting",
                                          s->part[p].readjusting));
        json_array_append_new(arr, j);
    }
    return arr ? json_pack("{s:o}", "slices", arr) : NULL;
}

void ef_e2eorch_stats_get(ef_e2eorch *o, ef_e2eorch_stats *out) { *out = o->st; }
