/* ef_sla_topo.c: the sla contract's operator topologies: the tree an operator
 * publishes (method topology) and the query that lays its SLAs' reserved
 * bandwidth over it (topology/{PUB}); see ef_sla.h. */
#include <stdlib.h>
#include <string.h>

#include "base/ef_cjson.h"
#include "contracts/ef_sla_int.h"

static const char *const ef_sla_topo_layers[] = {"core", "aggregation", "edge", "customer", "server"};
enum { EF_TL_CORE = 0, EF_TL_AGG = 1, EF_TL_EDGE = 2, EF_TL_CUSTOMER = 3, EF_TL_SERVER = 4 };

static int ef_sla_topo_layer(const char *s)
{
    for (size_t k = 0; k < EF_ARRAY_LEN(ef_sla_topo_layers); k++)
        if (!strcmp(s, ef_sla_topo_layers[k])) return (int)k;
    return -1;
}

/* A node name: a NAME of at most EF_SLA_TOPO_NAME_MAX chars without '-'. */
static bool ef_sla_topo_name_ok(const char *s, size_t len)
{
    return len <= EF_SLA_TOPO_NAME_MAX && strlen(s) == len && ef_sla_name_ok(s) && !strchr(s, '-');
}

static int ef_sla_topo_find(const json_t *nodes, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(nodes, i), "name")), name)) return (int)i;
    return -1;
}

/* One node of args (index i) appended to out (the nodes so far, layers in lay). */
static int ef_sla_topo_node(const json_t *v, size_t i, json_t *out, int *lay)
{
    static const char *const f[] = {"name", "layer", "parent", "kbps", "latency_us", NULL};
    const json_t *jn = json_object_get(v, "name"), *jl = json_object_get(v, "layer"), *jp = json_object_get(v, "parent");
    const char *name = json_string_value(jn), *layer = json_string_value(jl), *parent = json_string_value(jp);
    if (!json_is_object(v) || ef_args_only(v, f) || !name || !layer || (jp && !parent)) return EF_EARGS;
    if (!ef_sla_topo_name_ok(name, json_string_length(jn)) || (lay[i] = ef_sla_topo_layer(layer)) < 0) return EF_EARGS;
    if (ef_sla_topo_find(out, i, name) >= 0) return EF_ETOPO;
    json_t *o = json_pack("{s:s, s:s}", "name", name, "layer", layer);
    if (!o || json_array_append_new(out, o)) return EF_ENOMEM;
    if (i == 0) /* the root: core, no link */
        return jp || lay[0] != EF_TL_CORE || json_object_get(v, "kbps") || json_object_get(v, "latency_us") ? EF_ETOPO
                                                                                                           : 0;
    uint64_t kbps, lat;
    if (!jp || ef_args_u64(v, "kbps", &kbps) || kbps < 1 || kbps > EF_SLA_TOPO_KBPS_MAX ||
        ef_args_u64(v, "latency_us", &lat) || lat > EF_SLA_TOPO_LAT_MAX)
        return EF_EARGS;
    int p = ef_sla_topo_find(out, i, parent); /* named before: so a tree, no cycle */
    if (p < 0 || lay[p] >= EF_TL_CUSTOMER || lay[i] == EF_TL_CORE || (lay[i] != EF_TL_SERVER && lay[i] < lay[p]))
        return EF_ETOPO;
    json_object_set_new(o, "parent", json_string(parent));
    json_object_set_new(o, "kbps", json_integer((json_int_t)kbps));
    json_object_set_new(o, "latency_us", json_integer((json_int_t)lat));
    return 0;
}

int ef_sla_topo_parse(const json_t *nodes, json_t **out)
{
    *out = NULL;
    size_t n = json_array_size(nodes);
    if (!json_is_array(nodes) || n < 1 || n > EF_SLA_TOPO_NODES_MAX) return EF_EARGS;
    int lay[EF_SLA_TOPO_NODES_MAX];
    json_t *a = json_array();
    int rc = a ? 0 : EF_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) rc = ef_sla_topo_node(json_array_get(nodes, i), i, a, lay);
    if (rc) {
        json_decref(a);
        return rc;
    }
    *out = a;
    return 0;
}

static size_t ef_sla_topo_key(uint8_t k[1 + EF_PUB_SIZE], const ef_pub *op)
{
    k[0] = 't';
    memcpy(k + 1, op->b, EF_PUB_SIZE);
    return 1 + EF_PUB_SIZE;
}

int ef_sla_topo_put(ef_ctx *ctx, const ef_pub *op, const json_t *nodes)
{
    uint8_t k[1 + EF_PUB_SIZE];
    json_t *rec = json_pack("{s:I, s:O}", "height", (json_int_t)ef_ctx_height(ctx), "nodes", nodes);
    ef_wr w;
    ef_wr_init(&w);
    int rc = rec ? ef_cj_encode(&w, rec) : EF_ENOMEM;
    if (rc == 0) rc = w.err ? w.err : ef_ctx_put(ctx, k, ef_sla_topo_key(k, op), w.buf, w.len);
    ef_wr_free(&w);
    json_decref(rec);
    return rc;
}

/* The operator's stored topology record {height, nodes}, or EF_ENOTFOUND. */
static int ef_sla_topo_get(ef_ctx *ctx, const ef_pub *op, json_t **out)
{
    uint8_t k[1 + EF_PUB_SIZE];
    const uint8_t *v;
    size_t n;
    *out = NULL;
    int rc = ef_ctx_get(ctx, k, ef_sla_topo_key(k, op), &v, &n);
    if (rc) return rc;
    if (ef_cj_decode(out, v, n) || !json_is_array(json_object_get(*out, "nodes"))) {
        json_decref(*out);
        *out = NULL;
        return EF_EDB;
    }
    return 0;
}

struct ef_sla_topo_ids {
    uint64_t ids[EF_SLA_QUERY_MAX];
    size_t n;
};

/* Keeps the newest EF_SLA_QUERY_MAX ids of an index scan. */
static int ef_sla_topo_ids_fn(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    struct ef_sla_topo_ids *l = arg;
    (void)val;
    (void)val_len;
    if (key_len < 9) return EF_EDB;
    if (l->n == EF_SLA_QUERY_MAX) {
        memmove(l->ids, l->ids + 1, (EF_SLA_QUERY_MAX - 1) * sizeof l->ids[0]);
        l->n--;
    }
    l->ids[l->n++] = ef_get_u64be(key + key_len - 8);
    return 0;
}

/* Adds SLA s's min_kbps to every link of links named on its path. */
static void ef_sla_topo_add(json_t *links, const ef_sla_rec *s)
{
    for (uint32_t p = 0; p < s->path_len; p++)
        for (size_t i = 0; i < json_array_size(links); i++) {
            json_t *l = json_array_get(links, i);
            if (strcmp(json_string_value(json_object_get(l, "name")), s->path[p])) continue;
            json_int_t r = json_integer_value(json_object_get(l, "reserved_kbps"));
            json_object_set_new(l, "reserved_kbps", json_integer(r + (json_int_t)s->rules.min_kbps));
            json_array_append_new(json_object_get(l, "slas"), json_integer((json_int_t)s->id));
            break;
        }
}

/* links: one per non-root node, named PARENT-CHILD, nothing reserved yet. */
static json_t *ef_sla_topo_links(const json_t *nodes)
{
    json_t *links = json_array();
    for (size_t i = 1; links && i < json_array_size(nodes); i++) {
        const json_t *nd = json_array_get(nodes, i);
        const char *c = json_string_value(json_object_get(nd, "name"));
        const char *p = json_string_value(json_object_get(nd, "parent"));
        char name[2 * EF_SLA_TOPO_NAME_MAX + 2];
        if (!c || !p) {
            json_decref(links);
            return NULL;
        }
        snprintf(name, sizeof name, "%s-%s", p, c);
        json_array_append_new(links, json_pack("{s:s, s:s, s:s, s:O, s:O, s:I, s:[]}", "name", name, "parent", p,
                                               "child", c, "kbps", json_object_get(nd, "kbps"), "latency_us",
                                               json_object_get(nd, "latency_us"), "reserved_kbps", (json_int_t)0,
                                               "slas"));
    }
    return links;
}

int ef_sla_q_topology(ef_ctx *ctx, const char *p, json_t **out)
{
    ef_pub op;
    json_t *rec = NULL, *links = NULL;
    struct ef_sla_topo_ids *l = NULL;
    ef_sla_rec *s = NULL;
    if (strlen(p) != 2 * EF_PUB_SIZE || ef_unhex(op.b, EF_PUB_SIZE, p)) return EF_EINVAL;
    int rc = ef_sla_topo_get(ctx, &op, &rec);
    if (rc) goto out;
    links = ef_sla_topo_links(json_object_get(rec, "nodes"));
    l = calloc(1, sizeof *l);
    s = malloc(sizeof *s);
    if (!links || !l || !s) {
        rc = links ? EF_ENOMEM : EF_EDB;
        goto out;
    }
    uint8_t pre[1 + EF_PUB_SIZE];
    pre[0] = 'p';
    memcpy(pre + 1, op.b, EF_PUB_SIZE);
    if ((rc = ef_ctx_scan(ctx, pre, sizeof pre, ef_sla_topo_ids_fn, l))) goto out;
    for (size_t i = 0; i < l->n; i++) {
        if ((rc = ef_sla_get(ctx, l->ids[i], s))) goto out;
        /* confirm makes an SLA active with its slice and path */
        if (s->state == EF_SLA_ACTIVE) ef_sla_topo_add(links, s);
    }
    *out = json_pack("{s:o, s:O, s:O, s:O}", "operator", ef_sla_pub_json(&op), "height",
                     json_object_get(rec, "height"), "nodes", json_object_get(rec, "nodes"), "links", links);
    rc = *out ? 0 : EF_ENOMEM;
out:
    json_decref(rec);
    json_decref(links);
    free(l);
    free(s);
    return rc;
}
