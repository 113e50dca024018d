/* fuzz_slice_topo.c: libFuzzer target for the slice topology loader
 * (ef_slice_db_parse): the input is the topology's JSON text. Whatever it holds,
 * the loader returns 0 with a tree (one root, every parent before its child,
 * reserved 0, paths within EF_SLICE_PATH_MAX) or EF_ETOPO with a reason and no
 * database; an accepted topology printed back (ef_slice_db_json) loads again
 * with the same nodes and links, and a reserve/release round trip between the
 * first and last node leaves nothing reserved. */
#include <stdlib.h>
#include <string.h>

#include "agents/ef_slice.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!j) return 0;
    ef_slice_db *db = (ef_slice_db *)1;
    char err[256] = "";
    int rc = ef_slice_db_parse(&db, j, err, sizeof err);
    json_decref(j);
    if (rc) {
        EF_ASSERT(rc == EF_ETOPO && db == NULL && err[0]);
        return 0;
    }
    size_t n = ef_slice_nodes(db);
    EF_ASSERT(n >= 1 && n <= EF_SLICE_NODES_MAX && ef_slice_node_parent(db, 0) == -1);
    for (size_t i = 1; i < n; i++) {
        int p = ef_slice_node_parent(db, (int)i);
        EF_ASSERT(p >= 0 && (size_t)p < i);
        ef_slice_link l;
        EF_ASSERT(ef_slice_link_get(db, (int)i, &l) == 0 && l.reserved_kbps == 0 && l.kbps >= 1);
    }
    /* print back: the same nodes and links (the "links" and "slices" keys are output only) */
    json_t *out = ef_slice_db_json(db), *nodes = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(out, "nodes"), i, v) {
        json_t *o = json_pack("{s:O, s:O}", "name", json_object_get(v, "name"), "layer", json_object_get(v, "layer"));
        if (i > 0) {
            ef_slice_link l;
            EF_ASSERT(ef_slice_link_get(db, (int)i, &l) == 0);
            json_object_set(o, "parent", json_object_get(v, "parent"));
            json_object_set_new(o, "kbps", json_integer((json_int_t)l.kbps));
            json_object_set_new(o, "latency_us", json_integer((json_int_t)l.latency_us));
        }
        json_array_append_new(nodes, o);
    }
    json_t *again = json_pack("{s:o}", "nodes", nodes);
    ef_slice_db *db2;
    EF_ASSERT(ef_slice_db_parse(&db2, again, err, sizeof err) == 0 && ef_slice_nodes(db2) == n);
    json_decref(again);
    json_decref(out);
    ef_slice_db_free(db2);
    if (n >= 2) {
        ef_sla_rules r = {.min_kbps = 1, .max_latency_us = UINT64_MAX};
        ef_slice_path p;
        const char *a = ef_slice_node_name(db, 0), *b = ef_slice_node_name(db, (int)n - 1);
        if (ef_slice_reserve(db, "fz", a, b, &r, &p) == 0) {
            EF_ASSERT(p.len >= 1 && p.len <= EF_SLICE_PATH_MAX);
            EF_ASSERT(ef_slice_release(db, "fz") == 0);
        }
        EF_ASSERT(ef_slice_check(db, err, sizeof err) == 0);
    }
    ef_slice_db_free(db);
    return 0;
}
