/* test_slice.c: the slice resource database (agents/ef_slice.h): topology
 * loading and its refusals, paths, reservation, release and make-before-break
 * modify, checked against a brute-force reference on random trees and random
 * request sequences (never oversubscribed, the same answers, everything
 * released at the end). EF_SLICE_SEEDS (default 40) sets the number of runs.
 * Also the monitor's epoch arithmetic (agents/ef_slicemon.h) and the JIT
 * controller (agents/ef_jit.h) on process-mode enforcement with a recording
 * submit hook. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "agents/ef_jit.h"
#include "agents/ef_proc.h"
#include "agents/ef_slice.h"
#include "agents/ef_slicemon.h"
#include "agents/ef_slicenet.h"
#include "base/ef_codec.h"

static const char *const t_small =
    "{\"nodes\": ["
    "{\"name\":\"core\",\"layer\":\"core\"},"
    "{\"name\":\"srv\",\"layer\":\"server\",\"parent\":\"core\",\"kbps\":100000,\"latency_us\":100},"
    "{\"name\":\"agg1\",\"layer\":\"aggregation\",\"parent\":\"core\",\"kbps\":50000,\"latency_us\":500},"
    "{\"name\":\"agg2\",\"layer\":\"aggregation\",\"parent\":\"core\",\"kbps\":50000,\"latency_us\":500},"
    "{\"name\":\"edge1\",\"layer\":\"edge\",\"parent\":\"agg1\",\"kbps\":20000,\"latency_us\":1000},"
    "{\"name\":\"edge2\",\"layer\":\"edge\",\"parent\":\"agg2\",\"kbps\":20000,\"latency_us\":1000},"
    "{\"name\":\"car1\",\"layer\":\"customer\",\"parent\":\"edge1\",\"kbps\":10000,\"latency_us\":2000},"
    "{\"name\":\"car2\",\"layer\":\"customer\",\"parent\":\"edge1\",\"kbps\":10000,\"latency_us\":2000},"
    "{\"name\":\"car3\",\"layer\":\"customer\",\"parent\":\"edge2\",\"kbps\":10000,\"latency_us\":2000}]}";

static ef_slice_db *t_db(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    ef_slice_db *db = NULL;
    char err[256];
    int rc = ef_slice_db_parse(&db, j, err, sizeof err);
    json_decref(j);
    if (rc) fail_msg("topology refused: %s", err);
    return db;
}

static ef_sla_rules t_rules(uint64_t kbps, uint64_t lat)
{
    ef_sla_rules r = {.min_kbps = kbps, .max_latency_us = lat, .max_loss_ppm = 0};
    return r;
}

static void test_paths_and_reservations(void **state)
{
    (void)state;
    ef_slice_db *db = t_db(t_small);
    assert_int_equal(ef_slice_nodes(db), 9);
    ef_slice_path p;
    char s[256];
    ef_sla_rules r = t_rules(4000, 10000);
    assert_int_equal(ef_slice_path_find(db, "car1", "srv", &r, &p, NULL), 0);
    assert_int_equal(ef_slice_path_str(db, &p, s, sizeof s), 0);
    assert_string_equal(s, "edge1-car1,agg1-edge1,core-agg1,core-srv");
    assert_int_equal(p.latency_us, 3600);
    assert_int_equal(p.free_kbps, 10000);
    assert_int_equal(ef_slice_path_find(db, "car1", "car3", &r, &p, NULL), 0);
    assert_int_equal(ef_slice_path_str(db, &p, s, sizeof s), 0);
    assert_string_equal(s, "edge1-car1,agg1-edge1,core-agg1,core-agg2,agg2-edge2,edge2-car3");
    assert_int_equal(ef_slice_path_find(db, "car1", "car2", &r, &p, NULL), 0);
    assert_int_equal(ef_slice_path_str(db, &p, s, sizeof s), 0);
    assert_string_equal(s, "edge1-car1,edge1-car2");
    assert_int_equal(p.up[0], 1);
    assert_int_equal(p.up[1], 0);
    /* latency */
    r = t_rules(1000, 3599);
    assert_int_equal(ef_slice_path_find(db, "car1", "srv", &r, &p, NULL), EF_ELATENCY);
    assert_int_equal(ef_slice_reserve(db, "s0", "car1", "srv", &r, NULL), EF_ELATENCY);
    /* capacity: car1's access link holds 10000 */
    r = t_rules(6000, 10000);
    assert_int_equal(ef_slice_reserve(db, "s1", "car1", "srv", &r, &p), 0);
    assert_int_equal(ef_slice_reserve(db, "s1", "car2", "srv", &r, NULL), EF_EEXIST);
    int at = -2;
    assert_int_equal(ef_slice_path_find(db, "car1", "srv", &r, &p, &at), EF_ENOCAP);
    assert_int_equal(at, ef_slice_node_index(db, "car1"));
    assert_int_equal(ef_slice_reserve(db, "s2", "car1", "srv", &r, NULL), EF_ENOCAP);
    /* edge1's uplink (20000) holds s1 and then s2 from car2, but not a third 6000+ */
    assert_int_equal(ef_slice_reserve(db, "s2", "car2", "srv", &r, NULL), 0);
    r = t_rules(9000, 10000);
    assert_int_equal(ef_slice_reserve(db, "s3", "car3", "car2", &r, NULL), EF_ENOCAP);  /* car2's access: 4000 free */
    ef_slice_link l;
    assert_int_equal(ef_slice_link_get(db, ef_slice_node_index(db, "edge1"), &l), 0);
    assert_string_equal(l.name, "agg1-edge1");
    assert_int_equal(l.reserved_kbps, 12000);
    /* make before break: s1 moves from car1->srv to car1->car2 at 3000: the
     * shared access link car1 holds 6000 + 3000 <= 10000 for a moment: fine;
     * car2's access has 4000 free: fine */
    r = t_rules(3000, 10000);
    assert_int_equal(ef_slice_modify(db, "s1", "car1", "car2", &r, &p), 0);
    assert_int_equal(ef_slice_link_get(db, ef_slice_node_index(db, "edge1"), &l), 0);
    assert_int_equal(l.reserved_kbps, 6000);
    assert_int_equal(ef_slice_link_get(db, ef_slice_node_index(db, "car2"), &l), 0);
    assert_int_equal(l.reserved_kbps, 9000);
    /* a move that only fits if the old were released first is refused, old kept */
    r = t_rules(8000, 10000);
    assert_int_equal(ef_slice_modify(db, "s1", "car1", "srv", &r, NULL), EF_ENOCAP);
    uint64_t kbps;
    assert_int_equal(ef_slice_get(db, "s1", &kbps, &p), 0);
    assert_int_equal(kbps, 3000);
    assert_int_equal(ef_slice_path_str(db, &p, s, sizeof s), 0);
    assert_string_equal(s, "edge1-car1,edge1-car2");
    assert_int_equal(ef_slice_check(db, s, sizeof s), 0);
    /* refusals */
    r = t_rules(1, 10000);
    assert_int_equal(ef_slice_reserve(db, "x", "car1", "car1", &r, NULL), EF_EINVAL);
    assert_int_equal(ef_slice_reserve(db, "x", "car1", "nowhere", &r, NULL), EF_ENOTFOUND);
    assert_int_equal(ef_slice_reserve(db, "bad id", "car1", "srv", &r, NULL), EF_EINVAL);
    assert_int_equal(ef_slice_reserve(db, "", "car1", "srv", &r, NULL), EF_EINVAL);
    r = t_rules(0, 10000);
    assert_int_equal(ef_slice_reserve(db, "x", "car1", "srv", &r, NULL), EF_EINVAL);
    assert_int_equal(ef_slice_release(db, "nope"), EF_ENOTFOUND);
    assert_int_equal(ef_slice_modify(db, "nope", "car1", "srv", &r, NULL), EF_EINVAL);
    r = t_rules(1, 10000);
    assert_int_equal(ef_slice_modify(db, "nope", "car1", "srv", &r, NULL), EF_ENOTFOUND);
    json_t *j = ef_slice_db_json(db);
    assert_int_equal(json_array_size(json_object_get(j, "slices")), 2);
    assert_int_equal(json_array_size(json_object_get(j, "links")), 8);
    json_decref(j);
    assert_int_equal(ef_slice_release(db, "s1"), 0);
    assert_int_equal(ef_slice_release(db, "s1"), EF_ENOTFOUND);
    assert_int_equal(ef_slice_release(db, "s2"), 0);
    assert_int_equal(ef_slice_count(db), 0);
    for (size_t i = 1; i < ef_slice_nodes(db); i++) {
        assert_int_equal(ef_slice_link_get(db, (int)i, &l), 0);
        assert_int_equal(l.reserved_kbps, 0);
    }
    assert_int_equal(ef_slice_link_get(db, 0, &l), EF_EINVAL);
    ef_slice_db_free(db);
}

static void test_bad_topologies(void **state)
{
    (void)state;
    /* this module's error codes (-55..-64 belong to other branches: a gap here, never NULL) */
    assert_string_equal(ef_errname(EF_ENOCAP), "ENOCAP");
    assert_string_equal(ef_errname(EF_ELATENCY), "ELATENCY");
    assert_string_equal(ef_errname(EF_ETOPO), "ETOPO");
    assert_string_equal(ef_errname(EF_ENFORCE), "ENFORCE");
    assert_string_equal(ef_errname(EF_EWITHHELD), "EWITHHELD");
    for (int k = 55; k <= 64; k++) {
        assert_non_null(ef_errname(-k));
        assert_non_null(ef_strerror(-k));
    }
    assert_string_equal(ef_errname(-EF_ERR_COUNT_), "EUNKNOWN");
    static const char *const bad[] = {
        "[]",
        "{\"nodes\": []}",
        "{\"nodes\": [], \"x\": 1}",
        "{\"nodes\": [{\"name\":\"core\",\"layer\":\"edge\"}]}",
        "{\"nodes\": [{\"name\":\"core\",\"layer\":\"core\",\"parent\":\"x\"}]}",
        "{\"nodes\": [{\"name\":\"core\",\"layer\":\"core\",\"kbps\":5}]}",
        "{\"nodes\": [{\"name\":\"co-re\",\"layer\":\"core\"}]}",
        "{\"nodes\": [{\"name\":\"abcdefghijklmnop\",\"layer\":\"core\"}]}",
        "{\"nodes\": [{\"name\":\"c\",\"layer\":\"core\",\"colour\":1}]}",
        "{\"nodes\": [{\"name\":\"c\",\"layer\":\"core\"},{\"name\":\"c\",\"layer\":\"edge\",\"parent\":\"c\","
        "\"kbps\":1,\"latency_us\":1}]}",
        "{\"nodes\": [{\"name\":\"c\",\"layer\":\"core\"},{\"name\":\"e\",\"layer\":\"edge\",\"parent\":\"x\","
        "\"kbps\":1,\"latency_us\":1}]}",
        "{\"nodes\": [{\"name\":\"c\",\"layer\":\"core\"},{\"name\":\"e\",\"layer\":\"edge\",\"parent\":\"c\","
        "\"kbps\":0,\"latency_us\":1}]}",
        "{\"nodes\": [{\"name\":\"c\",\"layer\":\"core\"},{\"name\":\"e\",\"layer\":\"edge\",\"parent\":\"c\","
        "\"latency_us\":1}]}",
        "{\"nodes\": [{\"name\":\"c\",\"layer\":\"core\"},{\"name\":\"e\",\"layer\":\"edge\",\"parent\":\"c\","
        "\"kbps\":1,\"latency_us\":-1}]}",
        "{\"nodes\": [{\"name\":\"c\",\"layer\":\"core\"},{\"name\":\"e\",\"layer\":\"edge\"}]}",
        "{\"nodes\": [{\"name\":\"c\",\"layer\":\"core\"},{\"name\":\"e\",\"layer\":\"edge\",\"parent\":\"c\","
        "\"kbps\":1,\"latency_us\":1},{\"name\":\"a\",\"layer\":\"aggregation\",\"parent\":\"e\",\"kbps\":1,"
        "\"latency_us\":1}]}",
        "{\"nodes\": [{\"name\":\"c\",\"layer\":\"core\"},{\"name\":\"u\",\"layer\":\"customer\",\"parent\":\"c\","
        "\"kbps\":1,\"latency_us\":1},{\"name\":\"v\",\"layer\":\"customer\",\"parent\":\"u\",\"kbps\":1,"
        "\"latency_us\":1}]}",
        "{\"nodes\": [{\"name\":\"c\",\"layer\":\"core\"},{\"name\":\"d\",\"layer\":\"core\",\"parent\":\"c\","
        "\"kbps\":1,\"latency_us\":1}]}",
        "{\"nodes\": [{\"name\":\"c\",\"layer\":\"router\"}]}",
    };
    for (size_t i = 0; i < EF_ARRAY_LEN(bad); i++) {
        json_t *j = json_loads(bad[i], 0, NULL);
        assert_non_null(j);
        ef_slice_db *db = (ef_slice_db *)1;
        char err[256] = "";
        int rc = ef_slice_db_parse(&db, j, err, sizeof err);
        json_decref(j);
        if (rc != EF_ETOPO) fail_msg("case %zu accepted (%d): %s", i, rc, bad[i]);
        assert_null(db);
        assert_true(strlen(err) > 10);
    }
    /* a chain deeper than paths allow */
    json_t *nodes = json_array();
    json_array_append_new(nodes, json_pack("{s:s, s:s}", "name", "n0", "layer", "core"));
    for (int i = 1; i <= EF_SLICE_PATH_MAX / 2 + 1; i++) {
        char name[16], parent[16];
        snprintf(name, sizeof name, "n%d", i);
        snprintf(parent, sizeof parent, "n%d", i - 1);
        json_array_append_new(nodes, json_pack("{s:s, s:s, s:s, s:i, s:i}", "name", name, "layer", "aggregation",
                                               "parent", parent, "kbps", 10, "latency_us", 1));
    }
    json_t *topo = json_pack("{s:o}", "nodes", nodes);
    ef_slice_db *db;
    char err[256];
    assert_int_equal(ef_slice_db_parse(&db, topo, err, sizeof err), EF_ETOPO);
    json_decref(topo);
    /* files */
    assert_int_equal(ef_slice_db_load(&db, "/nonexistent/topo.json", err, sizeof err), EF_EIO);
    const char *tmp = getenv("EF_TEST_TMP");
    char path[512];
    snprintf(path, sizeof path, "%s/test_slice_topo.%d.json", tmp ? tmp : "/tmp", (int)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"nodes\": [", f);
    fclose(f);
    assert_int_equal(ef_slice_db_load(&db, path, err, sizeof err), EF_ETOPO);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(t_small, f);
    fclose(f);
    assert_int_equal(ef_slice_db_load(&db, path, err, sizeof err), 0);
    assert_int_equal(ef_slice_nodes(db), 9);
    ef_slice_db_free(db);
    remove(path);
}

/* ---- the brute-force reference ---- */

#define R_NODES 48
#define R_SLICES 64

typedef struct r_model {
    size_t n;
    int parent[R_NODES];
    uint64_t cap[R_NODES], lat[R_NODES];
    struct {
        bool live;
        uint64_t kbps;
        int links[R_NODES];
        size_t len;
    } s[R_SLICES];
} r_model;

static uint64_t r_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Breadth-first search over the undirected edges, the path as link ids (link
 * of edge {p, c} is c) in order from a to b. */
static size_t r_path(const r_model *m, int a, int b, int *links)
{
    int prev[R_NODES], q[R_NODES];
    size_t qh = 0, qt = 0;
    for (size_t i = 0; i < m->n; i++) prev[i] = -2;
    prev[a] = -1;
    q[qt++] = a;
    while (qh < qt) {
        int u = q[qh++];
        for (size_t v = 0; v < m->n; v++) {
            bool adj = m->parent[v] == u || m->parent[u] == (int)v;
            if (adj && prev[v] == -2) {
                prev[v] = u;
                q[qt++] = (int)v;
            }
        }
    }
    int rev[R_NODES];
    size_t len = 0;
    for (int v = b; prev[v] != -1; v = prev[v]) {
        int u = prev[v];
        rev[len++] = m->parent[v] == u ? v : u;
    }
    for (size_t i = 0; i < len; i++) links[i] = rev[len - 1 - i];
    return len;
}

static uint64_t r_reserved(const r_model *m, int link)
{
    uint64_t sum = 0;
    for (size_t s = 0; s < R_SLICES; s++)
        if (m->s[s].live)
            for (size_t i = 0; i < m->s[s].len; i++) sum += m->s[s].links[i] == link ? m->s[s].kbps : 0;
    return sum;
}

/* What the database must answer for kbps/lat on a..b given the current reservations. */
static int r_eval(const r_model *m, int a, int b, uint64_t kbps, uint64_t lat, int *links, size_t *len)
{
    if (a == b) return EF_EINVAL;
    *len = r_path(m, a, b, links);
    uint64_t total = 0;
    for (size_t i = 0; i < *len; i++)
        if (m->cap[links[i]] - r_reserved(m, links[i]) < kbps) return EF_ENOCAP;
    for (size_t i = 0; i < *len; i++) total += m->lat[links[i]];
    return total > lat ? EF_ELATENCY : 0;
}

static void r_compare(ef_slice_db *db, const r_model *m)
{
    char err[256];
    if (ef_slice_check(db, err, sizeof err)) fail_msg("invariant: %s", err);
    for (size_t i = 1; i < m->n; i++) {
        ef_slice_link l;
        assert_int_equal(ef_slice_link_get(db, (int)i, &l), 0);
        uint64_t want = r_reserved(m, (int)i);
        if (l.reserved_kbps != want || l.reserved_kbps > l.kbps)
            fail_msg("link %s: reserved %llu, reference %llu, capacity %llu", l.name,
                     (unsigned long long)l.reserved_kbps, (unsigned long long)want, (unsigned long long)l.kbps);
    }
}

static void r_run(uint64_t seed, unsigned *accepted, unsigned *refused, unsigned *modified)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    r_model m;
    memset(&m, 0, sizeof m);
    m.n = 2 + r_next(&x) % (R_NODES - 2);
    json_t *nodes = json_array();
    char names[R_NODES][16];
    int layer[R_NODES];
    static const char *const layers[] = {"core", "aggregation", "edge", "customer"};
    for (size_t i = 0; i < m.n; i++) {
        snprintf(names[i], sizeof names[i], "n%zu", i);
        if (i == 0) {
            m.parent[0] = -1;
            layer[0] = 0;
            json_array_append_new(nodes, json_pack("{s:s, s:s}", "name", names[0], "layer", "core"));
            continue;
        }
        int p;
        do p = (int)(r_next(&x) % i);
        while (layer[p] == 3);   /* customers have no children */
        layer[i] = layer[p] + 1 + (int)(r_next(&x) % (unsigned)(3 - layer[p] + 1));
        if (layer[i] > 3) layer[i] = 3;
        m.parent[i] = p;
        m.cap[i] = 1 + r_next(&x) % 100;
        m.lat[i] = r_next(&x) % 50;
        json_array_append_new(nodes, json_pack("{s:s, s:s, s:s, s:I, s:I}", "name", names[i], "layer",
                                               layers[layer[i]], "parent", names[p], "kbps", (json_int_t)m.cap[i],
                                               "latency_us", (json_int_t)m.lat[i]));
    }
    json_t *topo = json_pack("{s:o}", "nodes", nodes);
    ef_slice_db *db;
    char err[256];
    if (ef_slice_db_parse(&db, topo, err, sizeof err)) fail_msg("seed %llu: %s", (unsigned long long)seed, err);
    json_decref(topo);
    for (int op = 0; op < 400; op++) {
        unsigned kind = (unsigned)(r_next(&x) % 10);
        size_t s = r_next(&x) % R_SLICES;
        char id[16];
        snprintf(id, sizeof id, "s%zu", s);
        int a = (int)(r_next(&x) % m.n), b = (int)(r_next(&x) % m.n);
        uint64_t kbps = 1 + r_next(&x) % 40, lat = r_next(&x) % 600;
        ef_sla_rules rules = t_rules(kbps, lat);
        int links[R_NODES];
        size_t len = 0;
        ef_slice_path p;
        if (kind < 5) {   /* reserve */
            int want = a == b ? EF_EINVAL : m.s[s].live ? EF_EEXIST : r_eval(&m, a, b, kbps, lat, links, &len);
            int got = ef_slice_reserve(db, id, names[a], names[b], &rules, &p);
            if (got != want)
                fail_msg("seed %llu op %d: reserve %s %s->%s %llu/%llu: got %d, want %d", (unsigned long long)seed,
                         op, id, names[a], names[b], (unsigned long long)kbps, (unsigned long long)lat, got, want);
            if (got == 0) {
                assert_int_equal(p.len, len);
                for (size_t i = 0; i < len; i++) assert_int_equal(p.link[i], links[i]);
                m.s[s].live = true;
                m.s[s].kbps = kbps;
                m.s[s].len = len;
                memcpy(m.s[s].links, links, len * sizeof links[0]);
                (*accepted)++;
            } else (*refused)++;
        } else if (kind < 8) {   /* release */
            int got = ef_slice_release(db, id);
            assert_int_equal(got, m.s[s].live ? 0 : EF_ENOTFOUND);
            m.s[s].live = false;
        } else {   /* modify: the old one counts as held */
            int want = !m.s[s].live ? (a == b ? EF_EINVAL : EF_ENOTFOUND) : r_eval(&m, a, b, kbps, lat, links, &len);
            int got = ef_slice_modify(db, id, names[a], names[b], &rules, &p);
            if (got != want)
                fail_msg("seed %llu op %d: modify %s: got %d, want %d", (unsigned long long)seed, op, id, got, want);
            if (got == 0) {
                m.s[s].kbps = kbps;
                m.s[s].len = len;
                memcpy(m.s[s].links, links, len * sizeof links[0]);
                (*modified)++;
            }
        }
        r_compare(db, &m);
    }
    for (size_t s = 0; s < R_SLICES; s++) {
        char id[16];
        snprintf(id, sizeof id, "s%zu", s);
        assert_int_equal(ef_slice_release(db, id), m.s[s].live ? 0 : EF_ENOTFOUND);
        m.s[s].live = false;
    }
    r_compare(db, &m);
    assert_int_equal(ef_slice_count(db), 0);
    ef_slice_db_free(db);
}

static void test_random_against_reference(void **state)
{
    (void)state;
    const char *env = getenv("EF_SLICE_SEEDS");
    unsigned seeds = env ? (unsigned)atoi(env) : 40, acc = 0, ref = 0, mod = 0;
    for (unsigned s = 1; s <= seeds; s++) r_run(s, &acc, &ref, &mod);
    fprintf(stderr, "test_slice: %u seeds: %u reservations accepted, %u refused, %u modified\n", seeds, acc, ref,
            mod);
    /* the runs must exercise both outcomes */
    assert_true(acc > seeds * 10);
    assert_true(ref > seeds * 10);
    assert_true(mod > seeds);
}

static void test_monitor_epoch(void **state)
{
    (void)state;
    ef_slicemon_epoch ep;
    uint32_t d[5] = {500, 100, 300, 200, 400};
    /* 1000 ms epoch, 5 of 8 packets of 1000 bytes: 40 kbit/s, loss 3/8 */
    ef_slicemon_close_epoch(&ep, 3, d, 5, 5000, 5, 8, 5, 1, 1000);
    assert_int_equal(ep.epoch, 3);
    assert_int_equal(ep.kbps, 40);
    assert_int_equal(ep.sent, 8);
    assert_int_equal(ep.recv, 5);
    assert_int_equal(ep.loss_ppm, 375000);
    assert_int_equal(ep.p50_us, 300);
    assert_int_equal(ep.p99_us, 400);
    assert_int_equal(ep.max_us, 500);
    /* no fin: the highest sequence decides; an edge monitor's copies scale */
    ef_slicemon_close_epoch(&ep, 0, NULL, 0, 2000, 2, UINT64_MAX, 10, 1, 1000);
    assert_int_equal(ep.sent, 10);
    assert_int_equal(ep.p99_us, 0);
    ef_slicemon_close_epoch(&ep, 0, NULL, 0, 1000, 3, 25, 21, 10, 1000);   /* copies of seq 0, 10, 20 */
    assert_int_equal(ep.sent, 3);
    assert_int_equal(ep.recv, 3);
    assert_int_equal(ep.kbps, 80);
    /* more received than sent (duplicates) is clamped */
    ef_slicemon_close_epoch(&ep, 0, NULL, 0, 0, 9, 4, 4, 1, 1000);
    assert_int_equal(ep.recv, 4);
    assert_int_equal(ep.loss_ppm, 0);
    json_t *j = ef_slicemon_epoch_json(7, &ep);
    assert_int_equal(json_integer_value(json_object_get(j, "sla")), 7);
    assert_null(json_object_get(j, "receipt"));
    json_decref(j);
}

/* ---- the controller with a recording hook ---- */

typedef struct t_hook {
    char method[8][16];
    json_t *args[8];
    int n;
    int answer;
} t_hook;

static int t_submit(void *arg, const char *method, const json_t *args, char err[24])
{
    t_hook *h = arg;
    if (h->n < 8) {
        snprintf(h->method[h->n], sizeof h->method[0], "%s", method);
        h->args[h->n++] = json_deep_copy(args);
    }
    snprintf(err, 24, "%s", h->answer ? ef_errname(h->answer) : "OK");
    return h->answer;
}

/* The ledger as the query hook sees it: SLA 8 is active with slice
 * sla8-udp45002 on car3's path to srv (what a replay would stitch). */
static json_t *t_query(void *arg, uint64_t sla)
{
    (void)arg;
    if (sla != 8) return json_pack("{s:s}", "state", "closed");
    return json_pack("{s:s, s:s, s:[s,s,s,s], s:I, s:I}", "state", "active", "slice", "sla8-udp45002", "path",
                     "edge2-car3", "agg2-edge2", "core-agg2", "core-srv", "start_ms", (json_int_t)5000, "end_ms",
                     (json_int_t)5300);
}

static char t_monhex[65];

static json_t *t_event(uint64_t sla, const char *op, const char *ap, uint64_t kbps)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:{s:I, s:I, s:I}, s:I, s:I, s:s}", "sla", (json_int_t)sla, "operator", op,
                     "ap", ap, "dst", "srv", "rules", "min_kbps", (json_int_t)kbps, "max_latency_us", (json_int_t)10000,
                     "max_loss_ppm", (json_int_t)0, "epoch_ms", (json_int_t)100, "epochs", (json_int_t)3, "monitor",
                     t_monhex);
}

static void test_controller(void **state)
{
    (void)state;
    ef_slice_db *db = t_db(t_small);
    ef_slicenet *net;
    ef_slicenet_cfg nc = {.mode = "process"};
    assert_int_equal(ef_slicenet_open(&net, db, &nc), 0);
    assert_false(ef_slicenet_enforcing(net));
    assert_int_equal(ef_slicenet_loss(net, 1, 1000, 5), EF_ESTATE);
    ef_keypair op, other, edge, mon;
    ef_keypair_generate(&mon);
    ef_hex(t_monhex, mon.pub.b, 32);
    ef_keypair_generate(&op);
    ef_keypair_generate(&other);
    ef_keypair_generate(&edge);
    char ophex[65], otherhex[65];
    ef_hex(ophex, op.pub.b, 32);
    ef_hex(otherhex, other.pub.b, 32);
    t_hook h = {0};
    ef_jit_hooks hooks = {.submit = t_submit, .query = t_query, .arg = &h};
    ef_jit_cfg cfg = {.op = op.pub, .edge_monitor = edge.pub, .port_base = 45000, .require_handover = true,
                      .handover_grace_ms = 50, .chain_id = "c1"};
    ef_jit *jit;
    assert_int_equal(ef_jit_open(&jit, db, net, &cfg, &hooks), 0);
    /* another operator's SLA: ignored */
    json_t *ev = t_event(1, otherhex, "car1", 1000);
    ef_jit_on_event(jit, 5, "activated", ev);
    json_decref(ev);
    assert_int_equal(h.n, 0);
    /* ours: confirmed with slice id, port and path */
    ev = t_event(2, ophex, "car1", 6000);
    ef_jit_on_event(jit, 6, "activated", ev);
    json_decref(ev);
    assert_int_equal(h.n, 1);
    assert_string_equal(h.method[0], "confirm");
    assert_string_equal(json_string_value(json_object_get(h.args[0], "slice")), "sla2-udp45000");
    assert_int_equal(json_array_size(json_object_get(h.args[0], "path")), 4);
    assert_int_equal(ef_slice_count(db), 1);
    assert_int_equal(ef_slicenet_count(net), 1);
    /* a second one on car1's access link (10000) does not fit: fail with ENOCAP */
    ev = t_event(3, ophex, "car1", 6000);
    ef_jit_on_event(jit, 7, "activated", ev);
    json_decref(ev);
    assert_string_equal(h.method[1], "fail");
    assert_non_null(strstr(json_string_value(json_object_get(h.args[1], "reason")), "ENOCAP: link edge1-car1"));
    /* unknown node: fail with ENOTFOUND */
    ev = t_event(4, ophex, "car9", 10);
    ef_jit_on_event(jit, 8, "activated", ev);
    json_decref(ev);
    assert_string_equal(h.method[2], "fail");
    assert_non_null(strstr(json_string_value(json_object_get(h.args[2], "reason")), "ENOTFOUND"));
    /* a confirm the ledger refuses releases at once */
    h.answer = EF_ELATE;
    ev = t_event(5, ophex, "car2", 1000);
    ef_jit_on_event(jit, 9, "activated", ev);
    json_decref(ev);
    h.answer = 0;
    assert_string_equal(h.method[3], "confirm");
    assert_int_equal(ef_slice_count(db), 1);
    json_t *js = ef_jit_json(jit);
    assert_int_equal(json_array_size(json_object_get(js, "slas")), 1);
    assert_false(json_is_true(json_object_get(js, "enforcing")));
    json_decref(js);
    /* closed by another operator's event: nothing; ours: released */
    ev = json_pack("{s:I, s:s}", "sla", (json_int_t)2, "operator", otherhex);
    ef_jit_on_event(jit, 10, "closed", ev);
    json_decref(ev);
    assert_int_equal(ef_slice_count(db), 1);
    ev = json_pack("{s:I, s:s}", "sla", (json_int_t)2, "operator", ophex);
    ef_jit_on_event(jit, 11, "closed", ev);
    json_decref(ev);
    assert_int_equal(ef_slice_count(db), 0);
    assert_int_equal(ef_slicenet_count(net), 0);
    char err[256];
    assert_int_equal(ef_slice_check(db, err, sizeof err), 0);
    /* hand-over: SLA 6 confirmed at 1000 ms, 3 epochs of 100 ms, receipts due 50 ms after each epoch */
    ev = t_event(6, ophex, "car2", 1000);
    ef_jit_on_event(jit, 12, "activated", ev);
    json_decref(ev);
    ev = json_pack("{s:I, s:s, s:I, s:I}", "sla", (json_int_t)6, "operator", ophex, "start_ms", (json_int_t)1000,
                   "end_ms", (json_int_t)1300);
    ef_jit_on_event(jit, 13, "confirmed", ev);
    json_decref(ev);
    assert_int_equal(ef_slice_count(db), 1);
    ef_receipt r = {.chain_id = "c1", .sla = 6, .epoch = 0, .kbps = 2000, .pkts_sent = 10, .pkts_recv = 10};
    ef_sla_rules rules = {.min_kbps = 1000, .max_latency_us = 10000};
    assert_int_equal(ef_receipt_make(&r, &rules, &other), 0);
    assert_int_equal(ef_jit_receipt(jit, &r), EF_ESIGNER);
    assert_int_equal(ef_receipt_make(&r, &rules, &mon), 0);
    assert_int_equal(ef_jit_tick(jit, 1149), 0);        /* epoch 0 not yet due */
    assert_int_equal(ef_jit_tick(jit, 1150), 1);        /* due and missing: stopped */
    assert_int_equal(ef_slice_count(db), 0);
    assert_int_equal(ef_slicenet_count(net), 0);
    js = ef_jit_json(jit);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(js, "slas"), 0), "state")),
                        "stopped");
    json_decref(js);
    assert_int_equal(ef_jit_tick(jit, 5000), 0);        /* once */
    /* another SLA whose receipts come in time runs to its end */
    ev = t_event(7, ophex, "car2", 1000);
    ef_jit_on_event(jit, 14, "activated", ev);
    json_decref(ev);
    ev = json_pack("{s:I, s:s, s:I, s:I}", "sla", (json_int_t)7, "operator", ophex, "start_ms", (json_int_t)1000,
                   "end_ms", (json_int_t)1300);
    ef_jit_on_event(jit, 15, "confirmed", ev);
    json_decref(ev);
    r.sla = 7;
    for (uint64_t e = 0; e < 2; e++) {
        r.epoch = e;
        assert_int_equal(ef_receipt_make(&r, &rules, &mon), 0);
        assert_int_equal(ef_jit_receipt(jit, &r), 0);
    }
    r.epoch = 3;
    assert_int_equal(ef_receipt_make(&r, &rules, &mon), 0);
    assert_int_equal(ef_jit_receipt(jit, &r), EF_EEPOCH);
    snprintf(r.chain_id, sizeof r.chain_id, "c2");
    r.epoch = 0;
    assert_int_equal(ef_receipt_make(&r, &rules, &mon), 0);
    assert_int_equal(ef_jit_receipt(jit, &r), EF_ECHAIN);
    assert_int_equal(ef_jit_tick(jit, 9000), 0);
    assert_int_equal(ef_slice_count(db), 1);
    /* make-before-break re-adjustment of SLA 7 (car2 -> srv, 1000 kbit/s) */
    ef_sla_rules up = {.min_kbps = 3000, .max_latency_us = 10000};
    assert_int_equal(ef_jit_modify(jit, 7, NULL, NULL, &up), 0);
    ef_slice_link lk;
    assert_int_equal(ef_slice_link_get(db, ef_slice_node_index(db, "car2"), &lk), 0);
    assert_int_equal(lk.reserved_kbps, 3000);
    assert_int_equal(ef_slicenet_count(net), 1);
    up.min_kbps = 20000;   /* over car2's access link: refused, the old slice kept */
    assert_int_equal(ef_jit_modify(jit, 7, NULL, NULL, &up), EF_ENOCAP);
    assert_int_equal(ef_slice_link_get(db, ef_slice_node_index(db, "car2"), &lk), 0);
    assert_int_equal(lk.reserved_kbps, 3000);
    up.min_kbps = 2000;   /* moved to another attachment point */
    assert_int_equal(ef_jit_modify(jit, 7, "car3", NULL, &up), 0);
    assert_int_equal(ef_slice_link_get(db, ef_slice_node_index(db, "car2"), &lk), 0);
    assert_int_equal(lk.reserved_kbps, 0);
    assert_int_equal(ef_slice_link_get(db, ef_slice_node_index(db, "car3"), &lk), 0);
    assert_int_equal(lk.reserved_kbps, 2000);
    assert_int_equal(ef_slicenet_count(net), 1);
    assert_int_equal(ef_jit_modify(jit, 6, NULL, NULL, &up), EF_ENOTFOUND);   /* stopped */
    assert_int_equal(ef_jit_modify(jit, 99, NULL, NULL, &up), EF_ENOTFOUND);
    /* a replay after a restart: confirm refused with ESTATE; an SLA the ledger
     * shows active with this very slice is adopted, another is released */
    h.answer = EF_ESTATE;
    ev = t_event(8, ophex, "car3", 500);
    ef_jit_on_event(jit, 17, "activated", ev);
    json_decref(ev);
    ev = t_event(9, ophex, "car3", 500);
    ef_jit_on_event(jit, 18, "activated", ev);
    json_decref(ev);
    h.answer = 0;
    js = ef_jit_json(jit);
    bool adopted = false;
    size_t ji;
    json_t *jx;
    json_array_foreach(json_object_get(js, "slas"), ji, jx) {
        uint64_t id = (uint64_t)json_integer_value(json_object_get(jx, "sla"));
        assert_true(id != 9);
        if (id == 8) {
            adopted = true;
            assert_string_equal(json_string_value(json_object_get(jx, "state")), "confirmed");
            assert_int_equal(json_integer_value(json_object_get(jx, "start_ms")), 5000);
        }
    }
    assert_true(adopted);
    json_decref(js);
    assert_int_equal(ef_slice_link_get(db, ef_slice_node_index(db, "car3"), &lk), 0);
    assert_int_equal(lk.reserved_kbps, 2000 + 500);   /* SLA 7 (moved there) and the adopted 8 */
    ev = json_pack("{s:I, s:s}", "sla", (json_int_t)8, "operator", ophex);
    ef_jit_on_event(jit, 19, "closed", ev);
    json_decref(ev);
    ev = json_pack("{s:I, s:s}", "sla", (json_int_t)6, "operator", ophex);
    ef_jit_on_event(jit, 16, "closed", ev);   /* stopped: nothing left to release */
    json_decref(ev);
    assert_int_equal(ef_slice_count(db), 1);
    assert_int_equal(ef_slice_check(db, err, sizeof err), 0);
    ef_jit_stats st;
    ef_jit_stats_get(jit, &st);
    assert_int_equal(st.confirmed, 3);
    assert_int_equal(st.failed, 2);
    assert_int_equal(st.withheld, 1);
    assert_int_equal(st.adopted, 1);
    for (int i = 0; i < h.n; i++) json_decref(h.args[i]);
    ef_jit_close(jit);
    ef_slicenet_close(net);
    ef_slice_db_free(db);
}

/* As root with tc and nft: the same controller on real namespaces; the
 * commands of stitch, modify (make before break), loss and unstitch must all
 * be accepted, and close removes every namespace. Skipped otherwise. */
static void test_controller_netns(void **state)
{
    (void)state;
    if (geteuid() != 0 || access("/usr/sbin/tc", X_OK) || access("/usr/sbin/nft", X_OK)) {
        fprintf(stderr, "test_controller_netns: skipped (needs root, tc, nft)\n");
        return;
    }
    ef_slice_db *db = t_db(t_small);
    ef_slicenet *net;
    char prefix[16];
    snprintf(prefix, sizeof prefix, "efut%u", (unsigned)getpid() % 10000000u);
    ef_slicenet_cfg nc = {.mode = "netns", .prefix = prefix, .octet = (uint8_t)(60 + getpid() % 30)};
    assert_int_equal(ef_slicenet_open(&net, db, &nc), 0);
    assert_true(ef_slicenet_enforcing(net));
    ef_slicenet *dup;
    assert_int_equal(ef_slicenet_open(&dup, db, &nc), EF_EEXIST);   /* namespaces exist: nothing touched */
    ef_keypair op, edge;
    ef_keypair_generate(&op);
    ef_keypair_generate(&edge);
    char ophex[65];
    ef_hex(ophex, op.pub.b, 32);
    t_hook h = {0};
    ef_jit_hooks hooks = {.submit = t_submit, .arg = &h};
    ef_jit_cfg cfg = {.op = op.pub, .edge_monitor = edge.pub, .port_base = 46000};
    ef_jit *jit;
    assert_int_equal(ef_jit_open(&jit, db, net, &cfg, &hooks), 0);
    json_t *ev = t_event(1, ophex, "car1", 3000);
    ef_jit_on_event(jit, 1, "activated", ev);
    json_decref(ev);
    assert_string_equal(h.method[0], "confirm");
    assert_int_equal(ef_slicenet_count(net), 1);
    ef_sla_rules up = {.min_kbps = 5000, .max_latency_us = 10000};
    assert_int_equal(ef_jit_modify(jit, 1, NULL, NULL, &up), 0);
    assert_int_equal(ef_jit_modify(jit, 1, "car2", NULL, &up), 0);
    assert_int_equal(ef_slicenet_count(net), 1);
    assert_int_equal(ef_slicenet_loss(net, ef_slice_node_index(db, "edge1"), 46000, 5), 0);
    assert_int_equal(ef_slicenet_loss(net, ef_slice_node_index(db, "edge1"), 46000, 0), 0);
    ev = json_pack("{s:I, s:s}", "sla", (json_int_t)1, "operator", ophex);
    ef_jit_on_event(jit, 2, "nullified", ev);
    json_decref(ev);
    assert_int_equal(ef_slicenet_count(net), 0);
    assert_int_equal(ef_slice_count(db), 0);
    for (int i = 0; i < h.n; i++) json_decref(h.args[i]);
    ef_jit_close(jit);
    char ns0[64];
    snprintf(ns0, sizeof ns0, "%s-0", prefix);
    assert_true(ef_proc_netns_exists(ns0));
    ef_slicenet_close(net);
    assert_false(ef_proc_netns_exists(ns0));
    ef_slice_db_free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths_and_reservations),
        cmocka_unit_test(test_bad_topologies),
        cmocka_unit_test(test_random_against_reference),
        cmocka_unit_test(test_monitor_epoch),
        cmocka_unit_test(test_controller),
        cmocka_unit_test(test_controller_netns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
