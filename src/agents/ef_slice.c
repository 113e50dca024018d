/* ef_slice.c: the slice resource database (tree topology, paths, reservations); see ef_slice.h. */
#include "agents/ef_slice.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ef_jcfg.h"

typedef struct ef_slice_node {
    char name[EF_SLICE_NODE_NAME_MAX + 1];
    ef_slice_layer layer;
    int parent;              /* -1 for the root */
    int depth;
    size_t children;
} ef_slice_node;

typedef struct ef_slice_rec {
    char id[EF_SLICE_ID_MAX + 1];
    uint64_t kbps;
    ef_slice_path path;
} ef_slice_rec;

struct ef_slice_db {
    pthread_mutex_t mu;
    size_t n;
    ef_slice_node node[EF_SLICE_NODES_MAX];
    ef_slice_link link[EF_SLICE_NODES_MAX];   /* link[i] = uplink of node i; link[0] unused */
    ef_slice_rec *slices;
    size_t nslices, cap;
};

static const char *const ef_slice_layers[] = {"core", "aggregation", "edge", "customer", "server"};

const char *ef_slice_layer_name(ef_slice_layer l)
{
    return (unsigned)l < EF_ARRAY_LEN(ef_slice_layers) ? ef_slice_layers[l] : "?";
}

static bool ef_slice_name_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == ':'))
            return false;
    }
    return true;
}

static bool ef_slice_id_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > EF_SLICE_ID_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == ':' || c == '-'))
            return false;
    }
    return true;
}

static int ef_slice_find_node(const ef_slice_db *db, const char *name)
{
    for (size_t i = 0; i < db->n; i++)
        if (!strcmp(db->node[i].name, name)) return (int)i;
    return -1;
}

/* ---- load ---- */

static int ef_slice_parse_node(ef_slice_db *db, const json_t *v, size_t i, char *err, size_t cap)
{
    static const char *const fields[] = {"name", "layer", "parent", "kbps", "latency_us", NULL};
    char jerr[160];
    ef_slice_node *nd = &db->node[i];
    char layer[16], parent[EF_SLICE_NODE_NAME_MAX + 2];
    if (!json_is_object(v) || ef_jcfg_only(v, fields, jerr, sizeof jerr) ||
        ef_jcfg_str(v, "name", true, nd->name, sizeof nd->name, jerr, sizeof jerr) ||
        ef_jcfg_str(v, "layer", true, layer, sizeof layer, jerr, sizeof jerr))
        return ef_jcfg_fail(err, cap, "topology: nodes[%zu]: needs only name (1..%d chars), layer, parent, kbps, "
                                      "latency_us",
                            i, EF_SLICE_NODE_NAME_MAX),
               EF_ETOPO;
    if (!ef_slice_name_ok(nd->name, EF_SLICE_NODE_NAME_MAX))
        return ef_jcfg_fail(err, cap, "topology: nodes[%zu]: name '%s' is not 1..%d of [A-Za-z0-9_.:]", i, nd->name,
                            EF_SLICE_NODE_NAME_MAX),
               EF_ETOPO;
    if (ef_slice_find_node(db, nd->name) >= 0)
        return ef_jcfg_fail(err, cap, "topology: node '%s' named twice", nd->name), EF_ETOPO;
    int l = -1;
    for (size_t k = 0; k < EF_ARRAY_LEN(ef_slice_layers); k++)
        if (!strcmp(layer, ef_slice_layers[k])) l = (int)k;
    if (l < 0)
        return ef_jcfg_fail(err, cap, "topology: node '%s': layer '%s' is not core, aggregation, edge, customer or "
                                      "server",
                            nd->name, layer),
               EF_ETOPO;
    nd->layer = (ef_slice_layer)l;
    json_t *pj = json_object_get(v, "parent");
    if (i == 0) {
        if (pj || nd->layer != EF_SLICE_CORE || json_object_get(v, "kbps") || json_object_get(v, "latency_us"))
            return ef_jcfg_fail(err, cap, "topology: the first node '%s' is the root: layer core, no parent, no "
                                          "link",
                                nd->name),
                   EF_ETOPO;
        nd->parent = -1;
        return 0;
    }
    if (ef_jcfg_str(v, "parent", true, parent, sizeof parent, jerr, sizeof jerr))
        return ef_jcfg_fail(err, cap, "topology: node '%s' needs a parent (only the first node is the root)",
                            nd->name),
               EF_ETOPO;
    int p = ef_slice_find_node(db, parent);
    if (p < 0)
        return ef_jcfg_fail(err, cap, "topology: node '%s': parent '%s' is not named before it", nd->name, parent),
               EF_ETOPO;
    ef_slice_node *pn = &db->node[p];
    if (pn->layer >= EF_SLICE_CUSTOMER)
        return ef_jcfg_fail(err, cap, "topology: node '%s': a %s ('%s') has no children", nd->name,
                            ef_slice_layer_name(pn->layer), pn->name),
               EF_ETOPO;
    if (nd->layer == EF_SLICE_CORE || (nd->layer != EF_SLICE_SERVER && nd->layer < pn->layer))
        return ef_jcfg_fail(err, cap, "topology: node '%s': a %s below a %s", nd->name, ef_slice_layer_name(nd->layer),
                            ef_slice_layer_name(pn->layer)),
               EF_ETOPO;
    ef_slice_link *lk = &db->link[i];
    if (ef_jcfg_u64(v, "kbps", true, 1, EF_SLICE_KBPS_MAX, &lk->kbps, jerr, sizeof jerr) ||
        ef_jcfg_u64(v, "latency_us", true, 0, EF_SLICE_LAT_MAX, &lk->latency_us, jerr, sizeof jerr))
        return ef_jcfg_fail(err, cap, "topology: node '%s': its link needs kbps 1..%llu and latency_us 0..%llu",
                            nd->name, (unsigned long long)EF_SLICE_KBPS_MAX, (unsigned long long)EF_SLICE_LAT_MAX),
               EF_ETOPO;
    nd->parent = p;
    nd->depth = pn->depth + 1;
    pn->children++;
    lk->parent = p;
    lk->child = (int)i;
    lk->reserved_kbps = 0;
    snprintf(lk->name, sizeof lk->name, "%s-%s", pn->name, nd->name);
    return 0;
}

int ef_slice_db_parse(ef_slice_db **out, const json_t *topo, char *err, size_t cap)
{
    *out = NULL;
    static const char *const top[] = {"nodes", NULL};
    char jerr[160];
    json_t *nodes = json_is_object(topo) ? json_object_get(topo, "nodes") : NULL;
    if (!nodes || ef_jcfg_only(topo, top, jerr, sizeof jerr) || !json_is_array(nodes) ||
        json_array_size(nodes) == 0 || json_array_size(nodes) > EF_SLICE_NODES_MAX)
        return ef_jcfg_fail(err, cap, "topology: needs only \"nodes\": an array of 1..%d nodes", EF_SLICE_NODES_MAX),
               EF_ETOPO;
    ef_slice_db *db = calloc(1, sizeof *db);
    if (!db) return EF_ENOMEM;
    pthread_mutex_init(&db->mu, NULL);
    size_t i;
    json_t *v;
    json_array_foreach(nodes, i, v) {
        db->n = i;
        int rc = ef_slice_parse_node(db, v, i, err, cap);
        if (rc) {
            ef_slice_db_free(db);
            return rc;
        }
    }
    db->n = json_array_size(nodes);
    /* the longest path crosses at most 2 * depth links */
    for (i = 0; i < db->n; i++)
        if (2 * db->node[i].depth > EF_SLICE_PATH_MAX) {
            ef_jcfg_fail(err, cap, "topology: node '%s' is %d links deep (paths of at most %d links)",
                         db->node[i].name, db->node[i].depth, EF_SLICE_PATH_MAX);
            ef_slice_db_free(db);
            return EF_ETOPO;
        }
    *out = db;
    return 0;
}

int ef_slice_db_load(ef_slice_db **out, const char *path, char *err, size_t cap)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return ef_jcfg_fail(err, cap, "topology: cannot open %s", path), EF_EIO;
    char *buf = malloc(EF_SLICE_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, EF_SLICE_FILE_MAX + 1, f) : 0;
    fclose(f);
    if (!buf) return EF_ENOMEM;
    if (n > EF_SLICE_FILE_MAX) {
        free(buf);
        return ef_jcfg_fail(err, cap, "topology: %s is over %u bytes", path, EF_SLICE_FILE_MAX), EF_ETOPO;
    }
    json_error_t je;
    json_t *j = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &je);
    free(buf);
    if (!j) return ef_jcfg_fail(err, cap, "topology: %s: line %d: %s", path, je.line, je.text), EF_ETOPO;
    int rc = ef_slice_db_parse(out, j, err, cap);
    json_decref(j);
    return rc;
}

void ef_slice_db_free(ef_slice_db *db)
{
    if (!db) return;
    pthread_mutex_destroy(&db->mu);
    free(db->slices);
    free(db);
}

/* ---- reads ---- */

size_t ef_slice_nodes(const ef_slice_db *db) { return db->n; }

int ef_slice_node_index(const ef_slice_db *db, const char *name)
{
    return name ? ef_slice_find_node(db, name) : -1;
}

const char *ef_slice_node_name(const ef_slice_db *db, int i)
{
    return i >= 0 && (size_t)i < db->n ? db->node[i].name : "?";
}

ef_slice_layer ef_slice_node_layer(const ef_slice_db *db, int i)
{
    return i >= 0 && (size_t)i < db->n ? db->node[i].layer : EF_SLICE_CORE;
}

int ef_slice_node_parent(const ef_slice_db *db, int i)
{
    return i >= 0 && (size_t)i < db->n ? db->node[i].parent : -1;
}

int ef_slice_link_get(ef_slice_db *db, int i, ef_slice_link *out)
{
    if (i < 1 || (size_t)i >= db->n) return EF_EINVAL;
    pthread_mutex_lock(&db->mu);
    *out = db->link[i];
    pthread_mutex_unlock(&db->mu);
    return 0;
}

/* ---- paths ---- */

/* The tree path from a to b: up from a to the lowest common ancestor, then down
 * to b. Under mu. */
static void ef_slice_tree_path(const ef_slice_db *db, int a, int b, ef_slice_path *p)
{
    int down[EF_SLICE_PATH_MAX];
    size_t nd = 0;
    memset(p, 0, sizeof *p);
    while (db->node[a].depth > db->node[b].depth) {
        p->up[p->len] = 1;
        p->link[p->len++] = a;
        a = db->node[a].parent;
    }
    while (db->node[b].depth > db->node[a].depth) {
        down[nd++] = b;
        b = db->node[b].parent;
    }
    while (a != b) {
        p->up[p->len] = 1;
        p->link[p->len++] = a;
        a = db->node[a].parent;
        down[nd++] = b;
        b = db->node[b].parent;
    }
    while (nd) {
        p->up[p->len] = 0;
        p->link[p->len++] = down[--nd];
    }
}

/* Fills p and checks it against the free capacity now (for modify the old
 * slice is still held, so nothing of it is counted free). Under mu. */
static int ef_slice_eval(ef_slice_db *db, int a, int b, const ef_sla_rules *rules, ef_slice_path *p, int *at)
{
    ef_slice_tree_path(db, a, b, p);
    p->free_kbps = UINT64_MAX;
    int first_short = -1;
    for (size_t i = 0; i < p->len; i++) {
        const ef_slice_link *l = &db->link[p->link[i]];
        p->latency_us += l->latency_us;
        uint64_t free = l->kbps - l->reserved_kbps;
        if (free < p->free_kbps) p->free_kbps = free;
        if (free < rules->min_kbps && first_short < 0) first_short = p->link[i];
    }
    if (at) *at = first_short;
    if (first_short >= 0) return EF_ENOCAP;
    if (p->latency_us > rules->max_latency_us) return EF_ELATENCY;
    return 0;
}

static int ef_slice_args(const ef_slice_db *db, const char *ap, const char *dst, const ef_sla_rules *rules, int *a,
                         int *b)
{
    if (!ap || !dst || !rules || rules->min_kbps == 0 || rules->min_kbps > EF_SLICE_KBPS_MAX) return EF_EINVAL;
    *a = ef_slice_find_node(db, ap);
    *b = ef_slice_find_node(db, dst);
    if (*a < 0 || *b < 0) return EF_ENOTFOUND;
    return *a == *b ? EF_EINVAL : 0;
}

int ef_slice_path_find(ef_slice_db *db, const char *ap, const char *dst, const ef_sla_rules *rules,
                       ef_slice_path *out, int *at)
{
    int a, b;
    if (at) *at = -1;
    memset(out, 0, sizeof *out);
    int rc = ef_slice_args(db, ap, dst, rules, &a, &b);
    if (rc) return rc;
    pthread_mutex_lock(&db->mu);
    rc = ef_slice_eval(db, a, b, rules, out, at);
    pthread_mutex_unlock(&db->mu);
    return rc;
}

static ef_slice_rec *ef_slice_find(ef_slice_db *db, const char *id)
{
    for (size_t i = 0; i < db->nslices; i++)
        if (!strcmp(db->slices[i].id, id)) return &db->slices[i];
    return NULL;
}

static void ef_slice_apply(ef_slice_db *db, const ef_slice_path *p, uint64_t kbps, bool add)
{
    for (size_t i = 0; i < p->len; i++) {
        ef_slice_link *l = &db->link[p->link[i]];
        if (add) {
            EF_ASSERT(l->kbps - l->reserved_kbps >= kbps);
            l->reserved_kbps += kbps;
        } else {
            EF_ASSERT(l->reserved_kbps >= kbps);
            l->reserved_kbps -= kbps;
        }
    }
}

int ef_slice_reserve(ef_slice_db *db, const char *id, const char *ap, const char *dst, const ef_sla_rules *rules,
                     ef_slice_path *path)
{
    int a, b;
    if (!ef_slice_id_ok(id)) return EF_EINVAL;
    int rc = ef_slice_args(db, ap, dst, rules, &a, &b);
    if (rc) return rc;
    ef_slice_path p;
    pthread_mutex_lock(&db->mu);
    if (ef_slice_find(db, id)) rc = EF_EEXIST;
    else if (db->nslices == EF_SLICE_SLICES_MAX) rc = EF_EFULL;
    else rc = ef_slice_eval(db, a, b, rules, &p, NULL);
    if (rc == 0 && db->nslices == db->cap) {
        size_t nc = db->cap ? db->cap * 2 : 16;
        ef_slice_rec *ns = realloc(db->slices, nc * sizeof *ns);
        if (!ns) rc = EF_ENOMEM;
        else {
            db->slices = ns;
            db->cap = nc;
        }
    }
    if (rc == 0) {
        ef_slice_rec *r = &db->slices[db->nslices++];
        memset(r, 0, sizeof *r);
        snprintf(r->id, sizeof r->id, "%s", id);
        r->kbps = rules->min_kbps;
        r->path = p;
        ef_slice_apply(db, &p, r->kbps, true);
        if (path) *path = p;
    }
    pthread_mutex_unlock(&db->mu);
    return rc;
}

int ef_slice_release(ef_slice_db *db, const char *id)
{
    if (!id) return EF_EINVAL;
    pthread_mutex_lock(&db->mu);
    ef_slice_rec *r = ef_slice_find(db, id);
    if (r) {
        ef_slice_apply(db, &r->path, r->kbps, false);
        *r = db->slices[--db->nslices];
    }
    pthread_mutex_unlock(&db->mu);
    return r ? 0 : EF_ENOTFOUND;
}

int ef_slice_modify(ef_slice_db *db, const char *id, const char *ap, const char *dst, const ef_sla_rules *rules,
                    ef_slice_path *path)
{
    int a, b;
    if (!id) return EF_EINVAL;
    int rc = ef_slice_args(db, ap, dst, rules, &a, &b);
    if (rc) return rc;
    ef_slice_path p;
    pthread_mutex_lock(&db->mu);
    ef_slice_rec *r = ef_slice_find(db, id);
    if (!r) rc = EF_ENOTFOUND;
    else rc = ef_slice_eval(db, a, b, rules, &p, NULL);   /* the old one still held: make... */
    if (rc == 0) {
        ef_slice_apply(db, &p, rules->min_kbps, true);
        ef_slice_apply(db, &r->path, r->kbps, false);      /* ...before break */
        r->path = p;
        r->kbps = rules->min_kbps;
        if (path) *path = p;
    }
    pthread_mutex_unlock(&db->mu);
    return rc;
}

int ef_slice_get(ef_slice_db *db, const char *id, uint64_t *kbps, ef_slice_path *path)
{
    if (!id) return EF_EINVAL;
    pthread_mutex_lock(&db->mu);
    ef_slice_rec *r = ef_slice_find(db, id);
    if (r) {
        if (kbps) *kbps = r->kbps;
        if (path) *path = r->path;
    }
    pthread_mutex_unlock(&db->mu);
    return r ? 0 : EF_ENOTFOUND;
}

size_t ef_slice_count(ef_slice_db *db)
{
    pthread_mutex_lock(&db->mu);
    size_t n = db->nslices;
    pthread_mutex_unlock(&db->mu);
    return n;
}

int ef_slice_path_str(const ef_slice_db *db, const ef_slice_path *path, char *out, size_t cap)
{
    size_t used = 0;
    if (cap) out[0] = 0;
    for (size_t i = 0; i < path->len; i++) {
        int n = snprintf(out + used, cap - used, "%s%s", i ? "," : "", db->link[path->link[i]].name);
        if (n < 0 || (size_t)n >= cap - used) return EF_ETOOBIG;
        used += (size_t)n;
    }
    return 0;
}

json_t *ef_slice_path_json(const ef_slice_db *db, const ef_slice_path *path)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < path->len; i++) json_array_append_new(a, json_string(db->link[path->link[i]].name));
    return a;
}

json_t *ef_slice_db_json(ef_slice_db *db)
{
    json_t *nodes = json_array(), *links = json_array(), *slices = json_array();
    pthread_mutex_lock(&db->mu);
    for (size_t i = 0; i < db->n; i++) {
        const ef_slice_node *nd = &db->node[i];
        json_t *o = json_pack("{s:s, s:s}", "name", nd->name, "layer", ef_slice_layer_name(nd->layer));
        if (o && nd->parent >= 0) json_object_set_new(o, "parent", json_string(db->node[nd->parent].name));
        json_array_append_new(nodes, o);
        if (i == 0) continue;
        const ef_slice_link *l = &db->link[i];
        json_array_append_new(links, json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "name", l->name, "parent",
                                               db->node[l->parent].name, "child", nd->name, "kbps",
                                               (json_int_t)l->kbps, "latency_us", (json_int_t)l->latency_us,
                                               "reserved_kbps", (json_int_t)l->reserved_kbps));
    }
    for (size_t i = 0; i < db->nslices; i++)
        json_array_append_new(slices, json_pack("{s:s, s:I, s:o, s:I}", "id", db->slices[i].id, "kbps",
                                                (json_int_t)db->slices[i].kbps, "path",
                                                ef_slice_path_json(db, &db->slices[i].path), "latency_us",
                                                (json_int_t)db->slices[i].path.latency_us));
    pthread_mutex_unlock(&db->mu);
    return json_pack("{s:o, s:o, s:o}", "nodes", nodes, "links", links, "slices", slices);
}

json_t *ef_slice_topology_json(ef_slice_db *db)
{
    json_t *nodes = json_array();
    pthread_mutex_lock(&db->mu);
    for (size_t i = 0; nodes && i < db->n; i++) {
        const ef_slice_node *nd = &db->node[i];
        json_t *o = json_pack("{s:s, s:s}", "name", nd->name, "layer", ef_slice_layer_name(nd->layer));
        if (o && nd->parent >= 0) {
            json_object_set_new(o, "parent", json_string(db->node[nd->parent].name));
            json_object_set_new(o, "kbps", json_integer((json_int_t)db->link[i].kbps));
            json_object_set_new(o, "latency_us", json_integer((json_int_t)db->link[i].latency_us));
        }
        if (!o || json_array_append_new(nodes, o)) {
            json_decref(nodes);
            nodes = NULL;
        }
    }
    pthread_mutex_unlock(&db->mu);
    return nodes ? json_pack("{s:o}", "nodes", nodes) : NULL;
}

int ef_slice_check(ef_slice_db *db, char *err, size_t cap)
{
    uint64_t sum[EF_SLICE_NODES_MAX] = {0};
    int rc = 0;
    pthread_mutex_lock(&db->mu);
    for (size_t s = 0; s < db->nslices; s++)
        for (size_t i = 0; i < db->slices[s].path.len; i++) sum[db->slices[s].path.link[i]] += db->slices[s].kbps;
    for (size_t i = 1; i < db->n && rc == 0; i++) {
        const ef_slice_link *l = &db->link[i];
        if (l->reserved_kbps != sum[i] || l->reserved_kbps > l->kbps) {
            ef_jcfg_fail(err, cap, "link %s: reserved %llu, slices hold %llu, capacity %llu", l->name,
                         (unsigned long long)l->reserved_kbps, (unsigned long long)sum[i],
                         (unsigned long long)l->kbps);
            rc = EF_ECORRUPT;
        }
    }
    pthread_mutex_unlock(&db->mu);
    return rc;
}
