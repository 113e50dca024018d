/* ef_jit.c: the JIT controller: sla events to reserved, stitched and confirmed slices; see ef_jit.h. */
#include "agents/ef_jit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ef_codec.h"
#include "base/ef_log.h"

#define EF_JIT_LOG "jit"
#define EF_JIT_EPOCHS_MAX 4096       /* epochs tracked per SLA (as EF_SLA_EPOCHS_MAX) */

typedef struct ef_jit_sla {
    bool used, confirmed;
    uint64_t sla;
    char slice[EF_SLICE_ID_MAX + 1];
    char eid[EF_SLICE_ID_MAX + 1];   /* its enforcement's id (slice, or slice~GEN after a modify) */
    unsigned gen;
    char ap[EF_SLICE_NODE_NAME_MAX + 1], dst[EF_SLICE_NODE_NAME_MAX + 1];
    uint16_t port;
    uint64_t kbps, start_ms, end_ms;
    uint64_t stitch_us;         /* reserve + stitch */
    ef_slice_path path;
    ef_pub monitor;             /* the customer's monitor (activation) */
    uint64_t epoch_ms, epochs;
    bool stopped;               /* service stopped: a receipt was withheld */
    uint64_t withheld_epoch;
    uint8_t handed[EF_JIT_EPOCHS_MAX / 8];   /* receipts handed over, one bit per epoch */
} ef_jit_sla;

struct ef_jit {
    pthread_mutex_t mu;
    ef_slice_db *db;
    ef_slicenet *net;
    ef_jit_cfg cfg;
    ef_jit_hooks hooks;
    ef_jit_sla *slas;           /* EF_JIT_SLAS_MAX slots; slot i uses port port_base + i */
    ef_jit_stats st;
};

int ef_jit_open(ef_jit **out, ef_slice_db *db, ef_slicenet *net, const ef_jit_cfg *cfg, const ef_jit_hooks *hooks)
{
    *out = NULL;
    if (!db || !net || !cfg || !hooks || !hooks->submit) return EF_EINVAL;
    uint16_t base = cfg->port_base ? cfg->port_base : 40000;
    if ((uint32_t)base + EF_JIT_SLAS_MAX > 65535u) return EF_EINVAL;
    ef_jit *j = calloc(1, sizeof *j);
    if (!j || !(j->slas = calloc(EF_JIT_SLAS_MAX, sizeof *j->slas))) {
        free(j);
        return EF_ENOMEM;
    }
    pthread_mutex_init(&j->mu, NULL);
    j->db = db;
    j->net = net;
    j->cfg = *cfg;
    j->cfg.port_base = base;
    j->hooks = *hooks;
    *out = j;
    return 0;
}

/* Unstitches and releases; the record stays (stopped) or goes (drop). */
static void ef_jit_release(ef_jit *j, ef_jit_sla *s)
{
    if (s->stopped) return;
    int rc = ef_slicenet_unstitch(j->net, s->eid);
    if (rc && rc != EF_ENOTFOUND)
        EF_LOGW(EF_JIT_LOG, "SLA %llu: unstitch %s: %s", (unsigned long long)s->sla, s->slice, ef_strerror(rc));
    rc = ef_slice_release(j->db, s->slice);
    if (rc) EF_LOGW(EF_JIT_LOG, "SLA %llu: release %s: %s", (unsigned long long)s->sla, s->slice, ef_strerror(rc));
    else j->st.released++;
}

static void ef_jit_drop(ef_jit *j, ef_jit_sla *s)
{
    ef_jit_release(j, s);
    memset(s, 0, sizeof *s);
}

void ef_jit_close(ef_jit *jit)
{
    if (!jit) return;
    pthread_mutex_lock(&jit->mu);
    for (size_t i = 0; i < EF_JIT_SLAS_MAX; i++)
        if (jit->slas[i].used) ef_jit_drop(jit, &jit->slas[i]);
    pthread_mutex_unlock(&jit->mu);
    pthread_mutex_destroy(&jit->mu);
    free(jit->slas);
    free(jit);
}

static ef_jit_sla *ef_jit_find(ef_jit *j, uint64_t sla)
{
    for (size_t i = 0; i < EF_JIT_SLAS_MAX; i++)
        if (j->slas[i].used && j->slas[i].sla == sla) return &j->slas[i];
    return NULL;
}

static bool ef_jit_ours(const ef_jit *j, const json_t *data)
{
    const char *op = json_string_value(json_object_get(data, "operator"));
    ef_pub p;
    return op && ef_unhex(p.b, EF_PUB_SIZE, op) == 0 && !memcmp(p.b, j->cfg.op.b, EF_PUB_SIZE);
}

static void ef_jit_fail(ef_jit *j, uint64_t sla, const char *reason)
{
    char err[24] = "";
    json_t *args = json_pack("{s:I, s:s}", "sla", (json_int_t)sla, "reason", reason);
    int rc = args ? j->hooks.submit(j->hooks.arg, "fail", args, err) : EF_ENOMEM;
    json_decref(args);
    j->st.failed++;
    if (rc) EF_LOGW(EF_JIT_LOG, "SLA %llu: fail not accepted: %s %s", (unsigned long long)sla, ef_strerror(rc), err);
    else EF_LOGI(EF_JIT_LOG, "SLA %llu: failed: %s", (unsigned long long)sla, reason);
}

/* After a restart the controller replays the stream: an SLA that is already
 * active with the very slice this replay stitched (same id, so same port, and
 * same path) is adopted instead of released. */
static bool ef_jit_adopt(ef_jit *j, ef_jit_sla *s)
{
    json_t *rec = j->hooks.query ? j->hooks.query(j->hooks.arg, s->sla) : NULL;
    const char *st = json_string_value(json_object_get(rec, "state")),
               *slice = json_string_value(json_object_get(rec, "slice"));
    json_t *mine = ef_slice_path_json(j->db, &s->path);
    bool ok = st && !strcmp(st, "active") && slice && !strcmp(slice, s->slice) &&
              json_equal(mine, json_object_get(rec, "path"));
    if (ok) {
        s->confirmed = true;
        s->start_ms = (uint64_t)json_integer_value(json_object_get(rec, "start_ms"));
        s->end_ms = (uint64_t)json_integer_value(json_object_get(rec, "end_ms"));
    }
    json_decref(mine);
    json_decref(rec);
    return ok;
}

/* The rules of an activation event or an SLA record. */
static ef_sla_rules ef_jit_rules(const json_t *d)
{
    json_t *rules = json_object_get(d, "rules");
    return (ef_sla_rules){.min_kbps = (uint64_t)json_integer_value(json_object_get(rules, "min_kbps")),
                          .max_latency_us = (uint64_t)json_integer_value(json_object_get(rules, "max_latency_us")),
                          .max_loss_ppm = (uint32_t)json_integer_value(json_object_get(rules, "max_loss_ppm"))};
}

/* A fresh record in slot s for SLA sla on port (its slice id "slaSLA-udpPORT"),
 * from an activation event or an SLA record d. */
static void ef_jit_fill(ef_jit_sla *s, uint64_t sla, uint16_t port, const char *ap, const char *dst,
                        const ef_sla_rules *r, const json_t *d)
{
    memset(s, 0, sizeof *s);
    s->sla = sla;
    s->port = port;
    snprintf(s->slice, sizeof s->slice, "sla%llu-udp%u", (unsigned long long)sla, (unsigned)port);
    snprintf(s->eid, sizeof s->eid, "%s", s->slice);
    snprintf(s->ap, sizeof s->ap, "%s", ap);
    snprintf(s->dst, sizeof s->dst, "%s", dst);
    s->kbps = r->min_kbps;
    s->epoch_ms = (uint64_t)json_integer_value(json_object_get(d, "epoch_ms"));
    s->epochs = (uint64_t)json_integer_value(json_object_get(d, "epochs"));
    const char *mon = json_string_value(json_object_get(d, "monitor"));
    if (!mon || ef_unhex(s->monitor.b, EF_PUB_SIZE, mon)) memset(&s->monitor, 0, sizeof s->monitor);
}

static void ef_jit_activated(ef_jit *j, const json_t *d)
{
    uint64_t sla = (uint64_t)json_integer_value(json_object_get(d, "sla"));
    const char *ap = json_string_value(json_object_get(d, "ap")), *dst = json_string_value(json_object_get(d, "dst"));
    ef_sla_rules r = ef_jit_rules(d);
    j->st.activations++;
    if (!sla || !ap || !dst || ef_jit_find(j, sla)) return;
    char reason[128];
    size_t slot = EF_JIT_SLAS_MAX;
    for (size_t i = 0; i < EF_JIT_SLAS_MAX && slot == EF_JIT_SLAS_MAX; i++)
        if (!j->slas[i].used) slot = i;
    if (slot == EF_JIT_SLAS_MAX) {
        ef_jit_fail(j, sla, "EFULL: the controller holds its maximum of slices");
        return;
    }
    uint64_t t0 = ef_now_mono_us();
    ef_jit_sla *s = &j->slas[slot];
    ef_jit_fill(s, sla, (uint16_t)(j->cfg.port_base + slot), ap, dst, &r, d);
    int at = -1;
    int rc = ef_slice_path_find(j->db, ap, dst, &r, &s->path, &at);
    if (rc == 0) rc = ef_slice_reserve(j->db, s->slice, ap, dst, &r, &s->path);
    if (rc) {
        if (rc == EF_ENOCAP && at > 0) {
            ef_slice_link l;
            if (ef_slice_link_get(j->db, at, &l) == 0)
                snprintf(reason, sizeof reason, "ENOCAP: link %s has %llu of %llu kbit/s free, %llu needed", l.name,
                         (unsigned long long)(l.kbps - l.reserved_kbps), (unsigned long long)l.kbps,
                         (unsigned long long)r.min_kbps);
        } else if (rc == EF_ELATENCY)
            snprintf(reason, sizeof reason, "ELATENCY: the path %s..%s has %llu us, at most %llu allowed", ap, dst,
                     (unsigned long long)s->path.latency_us, (unsigned long long)r.max_latency_us);
        else if (rc == EF_ENOTFOUND)
            snprintf(reason, sizeof reason, "ENOTFOUND: %s or %s is not in the topology", ap, dst);
        else snprintf(reason, sizeof reason, "%s: no slice %s..%s", ef_errname(rc), ap, dst);
        if (rc == EF_ENOCAP && at <= 0) snprintf(reason, sizeof reason, "ENOCAP: no capacity %s..%s", ap, dst);
        memset(s, 0, sizeof *s);
        ef_jit_fail(j, sla, reason);
        return;
    }
    rc = ef_slicenet_stitch(j->net, s->eid, s->kbps, &s->path, s->port, NULL);
    if (rc) {
        (void)ef_slice_release(j->db, s->slice);
        memset(s, 0, sizeof *s);
        snprintf(reason, sizeof reason, "ENFORCE: the network refused the slice (%s)", ef_errname(rc));
        ef_jit_fail(j, sla, reason);
        return;
    }
    s->used = true;
    uint64_t took = ef_now_mono_us() - t0;
    char hex[2 * EF_PUB_SIZE + 1], err[24] = "";
    ef_hex(hex, j->cfg.edge_monitor.b, EF_PUB_SIZE);
    json_t *args = json_pack("{s:I, s:s, s:o, s:s}", "sla", (json_int_t)sla, "slice", s->slice, "path",
                             ef_slice_path_json(j->db, &s->path), "edge_monitor", hex);
    rc = args ? j->hooks.submit(j->hooks.arg, "confirm", args, err) : EF_ENOMEM;
    json_decref(args);
    if (rc && !strcmp(err, "ESTATE") && ef_jit_adopt(j, s)) {
        EF_LOGI(EF_JIT_LOG, "SLA %llu: already active with slice %s (a replay after a restart): adopted",
                (unsigned long long)sla, s->slice);
        j->st.adopted++;
        return;
    }
    if (rc) {
        EF_LOGW(EF_JIT_LOG, "SLA %llu: confirm refused (%s %s): released", (unsigned long long)sla, ef_strerror(rc),
                err);
        ef_jit_drop(j, s);
        return;
    }
    j->st.confirmed++;
    j->st.last_stitch_us = took;
    s->stitch_us = took;
    char path[512];
    if (ef_slice_path_str(j->db, &s->path, path, sizeof path)) path[0] = 0;
    EF_LOGI(EF_JIT_LOG, "SLA %llu: slice %s confirmed, %llu kbit/s on %s (%llu us stitching)",
            (unsigned long long)sla, s->slice, (unsigned long long)s->kbps, path, (unsigned long long)took);
}

int ef_jit_resume(ef_jit *jit, const json_t *rec)
{
    uint64_t sla = (uint64_t)json_integer_value(json_object_get(rec, "sla"));
    const char *st = json_string_value(json_object_get(rec, "state")),
               *slice = json_string_value(json_object_get(rec, "slice")),
               *ap = json_string_value(json_object_get(rec, "ap")), *dst = json_string_value(json_object_get(rec, "dst"));
    if (!sla || !st || strcmp(st, "active") || !slice || !ap || !dst || !ef_jit_ours(jit, rec)) return EF_ESTATE;
    unsigned long long id;
    unsigned port;
    int used = 0;
    char canon[EF_SLICE_ID_MAX + 1];
    if (sscanf(slice, "sla%llu-udp%u%n", &id, &port, &used) != 2 || slice[used] || id != sla || port > 65535)
        return EF_EINVAL;
    snprintf(canon, sizeof canon, "sla%llu-udp%u", id, port);
    if (strcmp(canon, slice)) return EF_EINVAL;   /* not a slice id this controller would have made */
    ef_sla_rules r = ef_jit_rules(rec);
    pthread_mutex_lock(&jit->mu);
    int rc = 0;
    size_t slot = port >= jit->cfg.port_base ? port - jit->cfg.port_base : EF_JIT_SLAS_MAX;
    if (ef_jit_find(jit, sla)) rc = EF_EEXIST;
    else if (slot >= EF_JIT_SLAS_MAX) rc = EF_EINVAL;
    else if (jit->slas[slot].used) rc = EF_EEXIST;
    ef_jit_sla *s = rc ? NULL : &jit->slas[slot];
    if (s) {
        ef_jit_fill(s, sla, (uint16_t)port, ap, dst, &r, rec);   /* the same slice id: it was parsed from it */
        /* a tree has one path between two nodes: the one found now is the one
         * confirmed, unless the topology changed */
        int at = -1;
        rc = ef_slice_path_find(jit->db, ap, dst, &r, &s->path, &at);
        json_t *mine = rc ? NULL : ef_slice_path_json(jit->db, &s->path);
        if (rc == 0 && !json_equal(mine, json_object_get(rec, "path"))) rc = EF_ETOPO;
        json_decref(mine);
        if (rc == 0) rc = ef_slice_reserve(jit->db, s->slice, ap, dst, &r, &s->path);
        if (rc == 0 && (rc = ef_slicenet_stitch(jit->net, s->eid, s->kbps, &s->path, s->port, NULL)))
            (void)ef_slice_release(jit->db, s->slice);
        if (rc) {
            memset(s, 0, sizeof *s);
        } else {
            s->used = s->confirmed = true;
            s->start_ms = (uint64_t)json_integer_value(json_object_get(rec, "start_ms"));
            s->end_ms = (uint64_t)json_integer_value(json_object_get(rec, "end_ms"));
            jit->st.adopted++;
            EF_LOGI(EF_JIT_LOG, "SLA %llu: active on the ledger with slice %s: resumed", (unsigned long long)sla, slice);
        }
    }
    pthread_mutex_unlock(&jit->mu);
    if (rc == 0 && jit->hooks.on_change) jit->hooks.on_change(jit->hooks.arg);
    return rc;
}

void ef_jit_on_event(ef_jit *jit, uint64_t height, const char *name, const json_t *data)
{
    (void)height;
    if (!name || !json_is_object(data)) return;
    bool changed = false;
    pthread_mutex_lock(&jit->mu);
    uint64_t sla = (uint64_t)json_integer_value(json_object_get(data, "sla"));
    if (!strcmp(name, "activated") && ef_jit_ours(jit, data)) {
        ef_jit_activated(jit, data);
        changed = true;
    } else if (!strcmp(name, "confirmed") && ef_jit_ours(jit, data)) {
        ef_jit_sla *s = ef_jit_find(jit, sla);
        if (s) {
            s->confirmed = true;
            s->start_ms = (uint64_t)json_integer_value(json_object_get(data, "start_ms"));
            s->end_ms = (uint64_t)json_integer_value(json_object_get(data, "end_ms"));
            changed = true;
        }
    } else if ((!strcmp(name, "nullified") || !strcmp(name, "closed")) && ef_jit_ours(jit, data)) {
        ef_jit_sla *s = ef_jit_find(jit, sla);
        if (s) {
            EF_LOGI(EF_JIT_LOG, "SLA %llu %s: slice %s released", (unsigned long long)sla, name, s->slice);
            ef_jit_drop(jit, s);
            changed = true;
        }
    }
    pthread_mutex_unlock(&jit->mu);
    if (changed && jit->hooks.on_change) jit->hooks.on_change(jit->hooks.arg);
}

static void ef_jit_node(json_t *o, const char *key, ef_jit *j, const char *name)
{
    int i = ef_slice_node_index(j->db, name);
    char k[32];
    const char *ns = ef_slicenet_ns(j->net, i);
    snprintf(k, sizeof k, "%s_ns", key);
    if (ns) json_object_set_new(o, k, json_string(ns));
    snprintf(k, sizeof k, "%s_ip", key);
    json_object_set_new(o, k, json_string(ef_slicenet_ip(j->net, i)));
}

json_t *ef_jit_json(ef_jit *jit)
{
    json_t *arr = json_array();
    pthread_mutex_lock(&jit->mu);
    for (size_t i = 0; i < EF_JIT_SLAS_MAX; i++) {
        const ef_jit_sla *s = &jit->slas[i];
        if (!s->used) continue;
        json_t *o = json_pack("{s:I, s:s, s:i, s:o, s:I, s:s, s:s, s:s}", "sla", (json_int_t)s->sla, "slice",
                              s->slice, "port", (int)s->port, "path", ef_slice_path_json(jit->db, &s->path), "kbps",
                              (json_int_t)s->kbps, "ap", s->ap, "dst", s->dst, "state",
                              s->confirmed ? "confirmed" : "stitched");
        if (!o) continue;
        json_object_set_new(o, "stitch_us", json_integer((json_int_t)s->stitch_us));
        if (s->stopped) {
            json_object_set_new(o, "state", json_string("stopped"));
            json_object_set_new(o, "withheld_epoch", json_integer((json_int_t)s->withheld_epoch));
        }
        if (s->confirmed) {
            json_object_set_new(o, "start_ms", json_integer((json_int_t)s->start_ms));
            json_object_set_new(o, "end_ms", json_integer((json_int_t)s->end_ms));
        }
        ef_jit_node(o, "ap", jit, s->ap);
        ef_jit_node(o, "dst", jit, s->dst);
        int ap = ef_slice_node_index(jit->db, s->ap), edge = ef_slice_node_parent(jit->db, ap);
        ef_jit_node(o, "edge", jit, ef_slice_node_name(jit->db, edge));
        json_object_set_new(o, "edge", json_string(ef_slice_node_name(jit->db, edge)));
        json_array_append_new(arr, o);
    }
    pthread_mutex_unlock(&jit->mu);
    return json_pack("{s:o, s:o, s:b}", "slas", arr, "db", ef_slice_db_json(jit->db), "enforcing",
                     ef_slicenet_enforcing(jit->net));
}

int ef_jit_modify(ef_jit *jit, uint64_t sla, const char *ap, const char *dst, const ef_sla_rules *rules)
{
    pthread_mutex_lock(&jit->mu);
    ef_jit_sla *s = ef_jit_find(jit, sla);
    int rc = 0;
    if (!s || s->stopped) rc = EF_ENOTFOUND;
    char nap[EF_SLICE_NODE_NAME_MAX + 1], ndst[EF_SLICE_NODE_NAME_MAX + 1], eid[EF_SLICE_ID_MAX + 8];
    ef_slice_path np;
    if (rc == 0) {
        snprintf(nap, sizeof nap, "%s", ap ? ap : s->ap);
        snprintf(ndst, sizeof ndst, "%s", dst ? dst : s->dst);
        snprintf(eid, sizeof eid, "%.24s~%u", s->slice, s->gen + 1);
        if (strlen(eid) > EF_SLICE_ID_MAX) rc = EF_EINVAL;
    }
    ef_sla_rules old = {.min_kbps = s ? s->kbps : 0, .max_latency_us = UINT32_MAX};
    /* make: the database holds old and new for a moment; the network gets the
     * new class and filter (a lower-priority filter until the old one goes) */
    if (rc == 0) rc = ef_slice_modify(jit->db, s->slice, nap, ndst, rules, &np);
    if (rc == 0 && (rc = ef_slicenet_stitch(jit->net, eid, rules->min_kbps, &np, s->port, NULL))) {
        int back = ef_slice_modify(jit->db, s->slice, s->ap, s->dst, &old, NULL);   /* the old fits: it was freed */
        EF_ASSERT(back == 0);
    }
    if (rc == 0) {   /* ...before break */
        int urc = ef_slicenet_unstitch(jit->net, s->eid);
        if (urc) EF_LOGW(EF_JIT_LOG, "SLA %llu: unstitch %s: %s", (unsigned long long)sla, s->eid, ef_strerror(urc));
        snprintf(s->eid, sizeof s->eid, "%s", eid);
        s->gen++;
        s->path = np;
        s->kbps = rules->min_kbps;
        snprintf(s->ap, sizeof s->ap, "%s", nap);
        snprintf(s->dst, sizeof s->dst, "%s", ndst);
    }
    pthread_mutex_unlock(&jit->mu);
    if (rc == 0 && jit->hooks.on_change) jit->hooks.on_change(jit->hooks.arg);
    return rc;
}

int ef_jit_receipt(ef_jit *jit, const ef_receipt *r)
{
    int rc = 0;
    pthread_mutex_lock(&jit->mu);
    ef_jit_sla *s = ef_jit_find(jit, r->sla);
    if (!s || !s->confirmed) rc = EF_ENOTFOUND;
    else if (jit->cfg.chain_id[0] && strcmp(jit->cfg.chain_id, r->chain_id)) rc = EF_ECHAIN;
    else if (r->epoch >= s->epochs || r->epoch >= EF_JIT_EPOCHS_MAX) rc = EF_EEPOCH;
    else if ((rc = ef_receipt_verify(r, &s->monitor)) == 0)
        s->handed[r->epoch / 8] |= (uint8_t)(1u << (r->epoch % 8));
    pthread_mutex_unlock(&jit->mu);
    return rc;
}

size_t ef_jit_tick(ef_jit *jit, uint64_t now_ms)
{
    size_t stopped = 0;
    bool changed = false;
    pthread_mutex_lock(&jit->mu);
    uint64_t grace = jit->cfg.handover_grace_ms ? jit->cfg.handover_grace_ms : 1000;
    for (size_t i = 0; jit->cfg.require_handover && i < EF_JIT_SLAS_MAX; i++) {
        ef_jit_sla *s = &jit->slas[i];
        if (!s->used || !s->confirmed || s->stopped || !s->epoch_ms) continue;
        /* epoch e's receipt is due grace after its end, while the service still runs */
        for (uint64_t e = 0; e + 1 < s->epochs && e < EF_JIT_EPOCHS_MAX; e++) {
            if (now_ms < s->start_ms + (e + 1) * s->epoch_ms + grace) break;
            if (s->handed[e / 8] >> (e % 8) & 1) continue;
            EF_LOGW(EF_JIT_LOG, "SLA %llu: the customer's receipt for epoch %llu was not handed over (%s): "
                                "service stopped, slice %s released",
                    (unsigned long long)s->sla, (unsigned long long)e, ef_errname(EF_EWITHHELD), s->slice);
            ef_jit_release(jit, s);
            s->stopped = true;
            s->withheld_epoch = e;
            jit->st.withheld++;
            stopped++;
            changed = true;
            break;
        }
    }
    pthread_mutex_unlock(&jit->mu);
    if (changed && jit->hooks.on_change) jit->hooks.on_change(jit->hooks.arg);
    return stopped;
}

int ef_jit_publish_topology(ef_jit *jit, char err[24])
{
    char hex[2 * EF_PUB_SIZE + 1];
    ef_hex(hex, jit->cfg.op.b, EF_PUB_SIZE);
    json_t *args = ef_slice_topology_json(jit->db);
    int rc = args && !json_object_set_new(args, "operator", json_string(hex)) ? 0 : EF_ENOMEM;
    if (rc == 0) rc = jit->hooks.submit(jit->hooks.arg, "topology", args, err);
    else snprintf(err, 24, "ENOMEM");
    json_decref(args);
    return rc;
}

void ef_jit_stats_get(ef_jit *jit, ef_jit_stats *out)
{
    pthread_mutex_lock(&jit->mu);
    *out = jit->st;
    pthread_mutex_unlock(&jit->mu);
}
