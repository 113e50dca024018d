/* ef_nsctl.c: a domain's slice control for the nslice contract; see ef_nsctl.h. */
#include "agents/ef_nsctl.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ef_log.h"

#define NC_LOG "nsctl"
#define NC_ID_MAX 32

typedef struct nc_inst {
    bool used;
    char id[NC_ID_MAX + 1];
    char ap[EF_SLICE_NODE_NAME_MAX + 1], dst[EF_SLICE_NODE_NAME_MAX + 1];
    uint64_t version, kbps;
    uint16_t port;
    char db_id[EF_SLICE_ID_MAX + 1];   /* "ID-vV" may be longer than a slice id: hashed below */
    ef_slice_path path;
} nc_inst;

struct ef_nsctl {
    pthread_mutex_t mu;
    ef_slice_db *db;
    ef_slicenet *net;
    ef_nsctl_cfg cfg;
    ef_nsctl_hooks hooks;
    nc_inst *v;
    ef_nsctl_stats st;
};

int ef_nsctl_open(ef_nsctl **out, ef_slice_db *db, ef_slicenet *net, const ef_nsctl_cfg *cfg,
                  const ef_nsctl_hooks *hooks)
{
    *out = NULL;
    if (!db || !net || !cfg || !hooks || !hooks->submit) return EF_EINVAL;
    uint16_t base = cfg->port_base ? cfg->port_base : 41000;
    if ((uint32_t)base + EF_NSCTL_MAX > 65535u) return EF_EINVAL;
    ef_nsctl *c = calloc(1, sizeof *c);
    if (!c || !(c->v = calloc(EF_NSCTL_MAX, sizeof *c->v))) {
        free(c);
        return EF_ENOMEM;
    }
    pthread_mutex_init(&c->mu, NULL);
    c->db = db;
    c->net = net;
    c->cfg = *cfg;
    c->cfg.port_base = base;
    if (!c->cfg.max_latency_us) c->cfg.max_latency_us = 10000000;
    c->hooks = *hooks;
    *out = c;
    return 0;
}

static void nc_drop(ef_nsctl *c, const char *db_id)
{
    int rc = ef_slicenet_unstitch(c->net, db_id);
    if (rc && rc != EF_ENOTFOUND) EF_LOGW(NC_LOG, "unstitch %s: %s", db_id, ef_strerror(rc));
    rc = ef_slice_release(c->db, db_id);
    if (rc && rc != EF_ENOTFOUND) EF_LOGW(NC_LOG, "release %s: %s", db_id, ef_strerror(rc));
}

void ef_nsctl_close(ef_nsctl *c)
{
    if (!c) return;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < EF_NSCTL_MAX; i++)
        if (c->v[i].used) nc_drop(c, c->v[i].db_id);
    pthread_mutex_unlock(&c->mu);
    pthread_mutex_destroy(&c->mu);
    free(c->v);
    free(c);
}

/* The slot (hence the UDP port) of an instance: from its ref, the end-to-end
 * slice's id (FNV-1a, not a security property: only so that every domain's
 * control puts one end-to-end slice's parts on the same port, and a restarted
 * control on the port it had), the next free one on a collision. */
static size_t nc_slot(ef_nsctl *c, const char *ref, const char *id)
{
    const char *key = ref && *ref ? ref : id;
    uint32_t h = 2166136261u;
    for (const char *p = key; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
    for (size_t k = 0; k < EF_NSCTL_MAX; k++) {
        size_t slot = (h + k) % EF_NSCTL_MAX;
        if (!c->v[slot].used) return slot;
    }
    return EF_NSCTL_MAX;
}

static nc_inst *nc_find(ef_nsctl *c, const char *id)
{
    for (size_t i = 0; i < EF_NSCTL_MAX; i++)
        if (c->v[i].used && !strcmp(c->v[i].id, id)) return &c->v[i];
    return NULL;
}

/* the database's id of version v: "ID-vV" (slice ids are at most 32 bytes) */
static int nc_db_id(char out[EF_SLICE_ID_MAX + 1], const char *id, uint64_t v)
{
    int n = snprintf(out, EF_SLICE_ID_MAX + 1, "%.20s-v%llu", id, (unsigned long long)v);
    return n > 0 && n <= EF_SLICE_ID_MAX ? 0 : EF_ETOOBIG;
}

static int nc_submit(ef_nsctl *c, const char *method, json_t *args)
{
    char err[24] = "";
    int rc = args ? c->hooks.submit(c->hooks.arg, method, args, err) : EF_ENOMEM;
    if (rc) EF_LOGW(NC_LOG, "nslice.%s refused: %s", method, err[0] ? err : ef_strerror(rc));
    json_decref(args);
    return rc;
}

static void nc_fail(ef_nsctl *c, const char *id, uint64_t v, int why)
{
    (void)nc_submit(c, "fail", json_pack("{s:s, s:I, s:s}", "id", id, "version", (json_int_t)v, "reason",
                                         ef_errname(why)));
    if (v == 1) c->st.failed++;
    else c->st.change_failed++;
}

/* Reserves and stitches db_id for (ap, dst, kbps) on port, records reserve v;
 * on failure nothing of it is left. */
static int nc_make(ef_nsctl *c, const char *id, uint64_t v, const char *db_id, const char *ap, const char *dst,
                   uint64_t kbps, uint16_t port, ef_slice_path *path, bool record)
{
    ef_sla_rules r = {.min_kbps = kbps, .max_latency_us = c->cfg.max_latency_us};
    int rc = ef_slice_reserve(c->db, db_id, ap, dst, &r, path);
    if (rc) return rc;
    if (record)
        rc = nc_submit(c, "reserve", json_pack("{s:s, s:I, s:I, s:o}", "id", id, "version", (json_int_t)v, "kbps",
                                               (json_int_t)kbps, "path", ef_slice_path_json(c->db, path)));
    if (rc == 0) {
        rc = ef_slicenet_stitch(c->net, db_id, kbps, path, port, NULL);
        if (rc) rc = EF_ENFORCE;
    } else {
        rc = EF_ESTATE;   /* the ledger refused: nothing to record */
    }
    if (rc) {
        (void)ef_slicenet_unstitch(c->net, db_id);
        (void)ef_slice_release(c->db, db_id);
    }
    return rc;
}

/* How an instance is taken up: from its request (reserve recorded, then
 * activate), from a reservation the ledger already holds (only activate is
 * recorded), or adopted as the ledger shows it running (nothing recorded). */
enum { NC_FROM_REQUEST, NC_FROM_RESERVED, NC_ADOPT };

/* Takes up instance d (an nslice event's data or the ledger's record) at
 * version v, kbps. 0, or an error with nothing held. */
static int nc_start(ef_nsctl *c, const json_t *d, uint64_t v, uint64_t kbps, int how)
{
    const char *id = json_string_value(json_object_get(d, "id")), *ap = json_string_value(json_object_get(d, "ap")),
               *dst = json_string_value(json_object_get(d, "dst"));
    if (!id || !ap || !dst || !kbps || !v || strlen(id) > NC_ID_MAX || strlen(ap) > EF_SLICE_NODE_NAME_MAX ||
        strlen(dst) > EF_SLICE_NODE_NAME_MAX || nc_find(c, id))
        return EF_EINVAL;
    size_t slot = nc_slot(c, json_string_value(json_object_get(d, "ref")), id);
    if (slot == EF_NSCTL_MAX) {
        if (how != NC_ADOPT) nc_fail(c, id, v, EF_EFULL);
        return EF_EFULL;
    }
    nc_inst *s = &c->v[slot];
    memset(s, 0, sizeof *s);
    snprintf(s->id, sizeof s->id, "%s", id);
    snprintf(s->ap, sizeof s->ap, "%s", ap);
    snprintf(s->dst, sizeof s->dst, "%s", dst);
    s->version = v;
    s->kbps = kbps;
    s->port = (uint16_t)(c->cfg.port_base + slot);
    int rc = nc_db_id(s->db_id, id, v);
    if (rc == 0) rc = nc_make(c, id, v, s->db_id, ap, dst, s->kbps, s->port, &s->path, how == NC_FROM_REQUEST);
    if (rc == 0) s->used = true;
    if (rc == 0 && how == NC_ADOPT) {
        c->st.adopted++;
        return 0;
    }
    if (rc == 0 && nc_submit(c, "activate", json_pack("{s:s, s:I}", "id", id, "version", (json_int_t)v)) == 0) {
        c->st.activated++;
        return 0;
    }
    if (rc == 0) {   /* activate refused: undo */
        nc_drop(c, s->db_id);
        s->used = false;
        rc = EF_ESTATE;
    }
    if (rc != EF_ESTATE && how != NC_ADOPT) nc_fail(c, id, v, rc);
    memset(s, 0, sizeof *s);
    return rc;
}

static void nc_requested(ef_nsctl *c, const json_t *d)
{
    json_int_t kbps = json_integer_value(json_object_get(d, "kbps"));
    if (kbps > 0) (void)nc_start(c, d, 1, (uint64_t)kbps, NC_FROM_REQUEST);
}

/* Make before break to version v at kbps; reserved: the ledger holds v's
 * reservation already (only the switch is recorded). */
static void nc_switch(ef_nsctl *c, nc_inst *s, uint64_t v, uint64_t kbps, bool reserved)
{
    char db_id[EF_SLICE_ID_MAX + 1];
    ef_slice_path path;
    int rc = nc_db_id(db_id, s->id, v);
    /* make: the new version while the running one is held */
    if (rc == 0) rc = nc_make(c, s->id, v, db_id, s->ap, s->dst, kbps, s->port, &path, !reserved);
    if (rc == 0 && nc_submit(c, "activate", json_pack("{s:s, s:I}", "id", s->id, "version", (json_int_t)v)) != 0) {
        nc_drop(c, db_id);
        rc = EF_ESTATE;
    }
    if (rc) {
        if (rc != EF_ESTATE) nc_fail(c, s->id, v, rc);
        return;
    }
    /* break: the old version, only after the ledger switched */
    nc_drop(c, s->db_id);
    snprintf(s->db_id, sizeof s->db_id, "%s", db_id);
    s->version = v;
    s->kbps = kbps;
    s->path = path;
    c->st.switched++;
}

static void nc_change(ef_nsctl *c, const json_t *d)
{
    const char *id = json_string_value(json_object_get(d, "id"));
    json_int_t v = json_integer_value(json_object_get(d, "new_version")),
               kbps = json_integer_value(json_object_get(d, "new_kbps"));
    nc_inst *s = id ? nc_find(c, id) : NULL;
    if (!s || v <= 0 || kbps <= 0 || (uint64_t)v != s->version + 1) return;
    nc_switch(c, s, (uint64_t)v, (uint64_t)kbps, false);
}

static void nc_release(ef_nsctl *c, const char *id)
{
    nc_inst *s = nc_find(c, id);
    if (s) {
        nc_drop(c, s->db_id);
        memset(s, 0, sizeof *s);
    }
    if (nc_submit(c, "release", json_pack("{s:s}", "id", id)) == 0) c->st.released++;
}

static void nc_decommission(ef_nsctl *c, const json_t *d)
{
    const char *id = json_string_value(json_object_get(d, "id"));
    if (id && nc_find(c, id)) nc_release(c, id);
}

static uint64_t nc_u(const json_t *o, const char *f)
{
    json_int_t v = json_integer_value(json_object_get(o, f));
    return v > 0 ? (uint64_t)v : 0;
}

/* One instance record of the ledger: what the control must hold for it, and
 * the step it owes. */
static void nc_resume_one(ef_nsctl *c, const json_t *inst)
{
    const char *id = json_string_value(json_object_get(inst, "id"));
    const char *l = json_string_value(json_object_get(inst, "lifecycle"));
    if (!id || !l || nc_find(c, id)) return;
    uint64_t v = nc_u(inst, "version"), kbps = nc_u(inst, "kbps");
    if (!strcmp(l, "requested")) {
        (void)nc_start(c, inst, 1, kbps, NC_FROM_REQUEST);
    } else if (!strcmp(l, "reserved")) {
        (void)nc_start(c, inst, 1, kbps, NC_FROM_RESERVED);
    } else if (!strcmp(l, "decommissioning")) {
        nc_release(c, id);
    } else if (!strcmp(l, "active") || !strcmp(l, "modified") || !strcmp(l, "readjusted")) {
        int rc = nc_start(c, inst, v, kbps, NC_ADOPT);
        if (rc) {
            EF_LOGW(NC_LOG, "cannot take up running %s v%llu again: %s", id, (unsigned long long)v, ef_strerror(rc));
            return;
        }
        const json_t *pend = json_object_get(inst, "pending");
        nc_inst *s = nc_find(c, id);
        uint64_t pv = nc_u(pend, "version"), pk = nc_u(pend, "kbps");
        if (s && pend && pv == v + 1 && pk)
            nc_switch(c, s, pv, pk, json_is_true(json_object_get(pend, "reserved")));
    }
}

void ef_nsctl_resume(ef_nsctl *c, const json_t *instances)
{
    if (!c || !json_is_array(instances)) return;
    pthread_mutex_lock(&c->mu);
    size_t i;
    const json_t *inst;
    json_array_foreach(instances, i, inst) nc_resume_one(c, inst);
    pthread_mutex_unlock(&c->mu);
}

void ef_nsctl_on_event(ef_nsctl *c, const char *name, const json_t *data)
{
    if (!c || !name || !json_is_object(data)) return;
    pthread_mutex_lock(&c->mu);
    if (!strcmp(name, "nslice_requested")) nc_requested(c, data);
    else if (!strcmp(name, "nslice_change_requested")) nc_change(c, data);
    else if (!strcmp(name, "nslice_decommissioning")) nc_decommission(c, data);
    pthread_mutex_unlock(&c->mu);
}

json_t *ef_nsctl_json(ef_nsctl *c)
{
    json_t *arr = json_array();
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; arr && i < EF_NSCTL_MAX; i++) {
        nc_inst *s = &c->v[i];
        if (!s->used) continue;
        json_t *j = json_pack("{s:s, s:I, s:I, s:i, s:s, s:o, s:s, s:s}", "id", s->id, "version",
                              (json_int_t)s->version, "kbps", (json_int_t)s->kbps, "port", (int)s->port, "db_id",
                              s->db_id, "path", ef_slice_path_json(c->db, &s->path), "ap", s->ap, "dst", s->dst);
        int ai = ef_slice_node_index(c->db, s->ap), di = ef_slice_node_index(c->db, s->dst);
        if (j && ai >= 0 && di >= 0) {
            const char *an = ef_slicenet_ns(c->net, ai), *dn = ef_slicenet_ns(c->net, di);
            json_object_set_new(j, "ap_ip", json_string(ef_slicenet_ip(c->net, ai)));
            json_object_set_new(j, "dst_ip", json_string(ef_slicenet_ip(c->net, di)));
            if (an) json_object_set_new(j, "ap_ns", json_string(an));
            if (dn) json_object_set_new(j, "dst_ns", json_string(dn));
        }
        json_array_append_new(arr, j);
    }
    pthread_mutex_unlock(&c->mu);
    return arr ? json_pack("{s:o, s:b}", "instances", arr, "enforcing", ef_slicenet_enforcing(c->net)) : NULL;
}

void ef_nsctl_stats_get(ef_nsctl *c, ef_nsctl_stats *out)
{
    pthread_mutex_lock(&c->mu);
    *out = c->st;
    pthread_mutex_unlock(&c->mu);
}
