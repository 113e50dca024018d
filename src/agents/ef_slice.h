/* ef_slice.h: the operator's resource database for network slices: a tree
 * topology with link capacities, latencies and reservations; path computation
 * against an SLA's rules; all-or-nothing reservation, exact release and
 * make-before-break modification (the JIT controller of seed 003; seed 000's
 * multi-domain slices re-adjust through ef_slice_modify).
 *
 * Topology (a tree): one root switch (layer "core"), then switches of layers
 * "aggregation" and "edge", customers (layer "customer") at the leaves and
 * optionally servers ("server") anywhere a node may hang. Every node but the
 * root has one parent, and the link to its parent has a capacity in kbit/s and
 * a one-way latency in µs. A link is named PARENT-CHILD (what `sla confirm`
 * records as the path). Loaded from JSON:
 *
 *   {"nodes": [
 *      {"name": "core", "layer": "core"},
 *      {"name": "agg1", "layer": "aggregation", "parent": "core",
 *       "kbps": 100000, "latency_us": 500},
 *      {"name": "car1", "layer": "customer", "parent": "edge1",
 *       "kbps": 20000, "latency_us": 2000}, ...]}
 *
 * Rules checked at load (EF_ETOPO with the reason in err): 1..EF_SLICE_NODES_MAX
 * nodes, names 1..EF_SLICE_NODE_NAME_MAX of [A-Za-z0-9_.:] (no '-': it joins link
 * names), unique; exactly one root, the first node, of layer core; a parent is
 * named before its children; layers never go up (core < aggregation < edge <
 * customer; a server may hang below any switch); a customer or server has no
 * children; kbps 1..EF_SLICE_KBPS_MAX, latency_us 0..EF_SLICE_LAT_MAX; unknown
 * fields refused.
 *
 * Paths. Between two nodes of a tree there is exactly one simple path; a
 * request (ap, dst, rules) is satisfiable iff every link on it has free
 * capacity >= rules.min_kbps and the sum of its latencies <= max_latency_us.
 * (max_loss_ppm is not a property of the database: links do not lose by design;
 * the monitors measure it.) ap != dst.
 *
 * Reservations. A slice (id = a NAME of ef_sla.h, e.g. "sla-12") reserves
 * min_kbps on every link of its path, or nothing at all. Release gives back
 * exactly what the slice holds. Modify reserves the new path (with the old one
 * still held, so shared links must carry both for a moment) and only then
 * releases the old one; on failure the old slice is untouched.
 *
 * Invariant (checked by ef_slice_check): for every link, reserved = the sum of
 * the kbps of the slices whose path holds it, and reserved <= capacity.
 *
 * Threading: an ef_slice_db is guarded by its own mutex; every call is
 * thread-safe. Errors: EF_EINVAL bad argument, EF_ENOTFOUND unknown node or
 * slice, EF_EEXIST slice id in use, EF_ENOCAP a link on the path lacks free
 * capacity (*at names it), EF_ELATENCY path latency over the maximum, EF_EFULL
 * EF_SLICE_SLICES_MAX slices, EF_ETOPO, EF_EIO (file), EF_ENOMEM.
 */
#ifndef EF_SLICE_H
#define EF_SLICE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/ef_err.h"
#include "base/ef_receipt.h"   /* ef_sla_rules */

#define EF_SLICE_NODES_MAX 256
#define EF_SLICE_NODE_NAME_MAX 15          /* so PARENT-CHILD fits a 32-char NAME */
#define EF_SLICE_LINK_NAME_MAX (2 * EF_SLICE_NODE_NAME_MAX + 1)
#define EF_SLICE_ID_MAX 32                 /* as EF_SLA_NAME_MAX */
#define EF_SLICE_PATH_MAX 32               /* links on a path (as EF_SLA_PATH_MAX) */
#define EF_SLICE_SLICES_MAX 4096
#define EF_SLICE_KBPS_MAX 100000000ull     /* 100 Gbit/s */
#define EF_SLICE_LAT_MAX 10000000ull       /* 10 s */
#define EF_SLICE_FILE_MAX (1u << 20)

typedef enum ef_slice_layer {
    EF_SLICE_CORE = 0,
    EF_SLICE_AGG = 1,
    EF_SLICE_EDGE = 2,
    EF_SLICE_CUSTOMER = 3,
    EF_SLICE_SERVER = 4,
} ef_slice_layer;

/* A link: the uplink of node `child` (every node but the root has one); links
 * are numbered by their child node's index. */
typedef struct ef_slice_link {
    char name[EF_SLICE_LINK_NAME_MAX + 1];   /* PARENT-CHILD */
    int parent, child;                       /* node indices */
    uint64_t kbps, latency_us, reserved_kbps;
} ef_slice_link;

/* A path: links in order from ap to dst; dir[i] is 1 when link i is crossed
 * upwards (child to parent), 0 downwards. */
typedef struct ef_slice_path {
    int link[EF_SLICE_PATH_MAX];
    uint8_t up[EF_SLICE_PATH_MAX];
    size_t len;
    uint64_t latency_us;       /* sum over the links */
    uint64_t free_kbps;        /* smallest free capacity on the path (before this slice) */
} ef_slice_path;

typedef struct ef_slice_db ef_slice_db;

/* Parses a topology (borrowed JSON) into a new database with nothing reserved.
 * 0, EF_ETOPO (reason in err, cap bytes), EF_ENOMEM. */
EF_MUST_USE int ef_slice_db_parse(ef_slice_db **out, const json_t *topo, char *err, size_t cap);
/* As ef_slice_db_parse from a file (at most EF_SLICE_FILE_MAX bytes): EF_EIO
 * or EF_ETOPO (not JSON, or as above) with the reason in err. */
EF_MUST_USE int ef_slice_db_load(ef_slice_db **out, const char *path, char *err, size_t cap);
void ef_slice_db_free(ef_slice_db *db);   /* NULL ok */

/* Nodes: count, index by name (-1 if unknown), name and layer and parent (-1
 * for the root) of index i (< count). Links: ef_slice_link_get(db, i) for node
 * i >= 1 copies the uplink of node i (EF_EINVAL for the root or out of range). */
size_t ef_slice_nodes(const ef_slice_db *db);
int ef_slice_node_index(const ef_slice_db *db, const char *name);
const char *ef_slice_node_name(const ef_slice_db *db, int i);
ef_slice_layer ef_slice_node_layer(const ef_slice_db *db, int i);
int ef_slice_node_parent(const ef_slice_db *db, int i);
int ef_slice_link_get(ef_slice_db *db, int i, ef_slice_link *out);
const char *ef_slice_layer_name(ef_slice_layer l);

/* The path from ap to dst and whether rules fit it now (no reservation).
 * *out is filled whenever the nodes exist (also on EF_ENOCAP / EF_ELATENCY, so a
 * caller can say why). at (may be NULL) gets the index of the first link short
 * of capacity on EF_ENOCAP, else -1. */
int ef_slice_path_find(ef_slice_db *db, const char *ap, const char *dst, const ef_sla_rules *rules,
                       ef_slice_path *out, int *at);

/* Reserves rules->min_kbps on every link of the path ap..dst for slice id, all
 * or nothing. On 0 *path (may be NULL) is the path reserved. */
EF_MUST_USE int ef_slice_reserve(ef_slice_db *db, const char *id, const char *ap, const char *dst,
                                 const ef_sla_rules *rules, ef_slice_path *path);
/* Gives back exactly what slice id holds and forgets it. EF_ENOTFOUND if unknown. */
int ef_slice_release(ef_slice_db *db, const char *id);
/* Make before break: reserves the new request (ap, dst, rules) while the old
 * reservation is still held, then releases the old one. On any error the old
 * slice is as it was. */
EF_MUST_USE int ef_slice_modify(ef_slice_db *db, const char *id, const char *ap, const char *dst,
                                const ef_sla_rules *rules, ef_slice_path *path);

/* Slice id's kbps and path. EF_ENOTFOUND if unknown. */
int ef_slice_get(ef_slice_db *db, const char *id, uint64_t *kbps, ef_slice_path *path);
/* Number of slices held. */
size_t ef_slice_count(ef_slice_db *db);
/* Writes the link names of path into out as "l1,l2,..." (cap bytes). 0 or EF_ETOOBIG. */
int ef_slice_path_str(const ef_slice_db *db, const ef_slice_path *path, char *out, size_t cap);
/* The path's link names as a new JSON array. */
json_t *ef_slice_path_json(const ef_slice_db *db, const ef_slice_path *path);
/* The whole database as JSON: {"nodes": [...], "links": [{name, parent, child,
 * kbps, latency_us, reserved_kbps}], "slices": [{id, kbps, path}]}. */
json_t *ef_slice_db_json(ef_slice_db *db);

/* The topology as loaded, {"nodes": [{name, layer, parent?, kbps?, latency_us?}]}
 * in node order (the file format above; what sla.topology publishes). New
 * reference, NULL on ENOMEM. */
json_t *ef_slice_topology_json(ef_slice_db *db);

/* The invariant above: 0, or EF_ECORRUPT (with the offending link in err). */
int ef_slice_check(ef_slice_db *db, char *err, size_t cap);

#endif
