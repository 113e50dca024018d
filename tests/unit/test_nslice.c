/* test_nslice.c: the nslice contract on an in-process domain ledger: template
 * codec and ids, publication rights, a modified template, an unknown template,
 * an unauthorised change, every refused call with its own code and nothing
 * changed, the whole lifecycle with TS 28.541 states, and a seeded random run of
 * re-adjustments driving the agents' resource database (agents/ef_slice.h)
 * together with the contract against a reference model: the running slice
 * always holds its reservation, and nothing stays reserved after release. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agents/ef_nsctl.h"
#include "agents/ef_slice.h"
#include "agents/ef_slicenet.h"
#include "contracts/ef_nslice.h"
#include "ef_test_slices.h"

#define ADMIN 0   /* the domain administrator: validator 0, runs the slice control */
#define OWNER 4
#define OTHER 5

static void dom_open(tc_chain *c, const char *chain, uint8_t tag)
{
    tc_key(&c->kp[0], 1, tag);   /* the admin key before tc_open fills it */
    char hex[65];
    ef_hex(hex, c->kp[0].pub.b, EF_PUB_SIZE);
    tc_open(c, chain, 4, 6, tag, json_pack("{s:{s:s}}", "nslice", "admin", hex));
}

static void tmpl(ef_nslice_template *t, const char *name, uint64_t lo, uint64_t hi)
{
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->kbps_min = lo;
    t->kbps_max = hi;
    t->max_latency_us = 20000;
    t->max_loss_ppm = 1000;
    snprintf(t->description, sizeof t->description, "video surveillance uplink");
}

static uint8_t *tmpl_bytes(const ef_nslice_template *t, size_t *n, ef_hash *id)
{
    ef_wr w;
    ef_wr_init(&w);
    assert_int_equal(ef_nslice_template_encode(&w, t), 0);
    uint8_t *b = ef_wr_take(&w, n);
    ef_nslice_template_id(id, b, *n);
    return b;
}

static int publish(tc_chain *c, int who, const uint8_t *b, size_t n, const ef_hash *id)
{
    return tc_tx(c, who, "nslice", "publish",
                 json_pack("{s:o, s:o}", "template", tc_hexj(b, n), "id", tc_hexj(id->b, EF_HASH_SIZE)));
}

static json_t *inst(tc_chain *c, const char *id)
{
    json_t *j = tc_query(c, "nslice", "instance/%s", id);
    assert_non_null(j);
    return j;
}

static const char *sf(const json_t *o, const char *f) { return json_string_value(json_object_get(o, f)); }

/* a call refused with code want, and the instance (and templates) as before */
static void refused(tc_chain *c, const char *id, int want, int who, const char *method, json_t *args)
{
    json_t *before = id ? inst(c, id) : NULL, *tb = tc_query(c, "nslice", "templates");
    int rc = tc_tx(c, who, "nslice", method, args);
    if (rc != want) fail_msg("%s: %s (%d), wanted %s", method, ef_errname(rc), rc, ef_errname(want));
    json_t *after = id ? inst(c, id) : NULL, *ta = tc_query(c, "nslice", "templates");
    if (id) assert_true(json_equal(before, after));
    assert_true(json_equal(tb, ta));
    json_decref(before);
    json_decref(after);
    json_decref(tb);
    json_decref(ta);
}

static void test_template_codec(void **state)
{
    (void)state;
    ef_nslice_template t, d;
    ef_hash id, id2;
    size_t n;
    tmpl(&t, "video-hd", 1000, 50000);
    uint8_t *b = tmpl_bytes(&t, &n, &id);
    assert_int_equal(ef_nslice_template_decode(&d, b, n), 0);
    assert_memory_equal(&d, &t, sizeof t);
    for (size_t l = 0; l < n; l++) assert_int_not_equal(ef_nslice_template_decode(&d, b, l), 0);
    /* any changed byte changes the id (or the bytes no longer decode) */
    for (size_t i = 0; i < n; i++) {
        b[i] ^= 0x01;
        ef_nslice_template_id(&id2, b, n);
        assert_false(ef_hash_eq(&id, &id2));
        b[i] ^= 0x01;
    }
    /* the id is not a hash of anything else: the tag matters */
    ef_hash_tagged(&id2, EF_TAG_DATA, b, n);
    assert_false(ef_hash_eq(&id, &id2));
    free(b);
    /* rules */
    ef_wr w;
    ef_wr_init(&w);
    tmpl(&t, "bad name", 1, 2);
    assert_int_equal(ef_nslice_template_encode(&w, &t), EF_EINVAL);
    tmpl(&t, "x", 3, 2);
    assert_int_equal(ef_nslice_template_encode(&w, &t), EF_EINVAL);
    tmpl(&t, "x", 0, 2);
    assert_int_equal(ef_nslice_template_encode(&w, &t), EF_EINVAL);
    ef_wr_free(&w);
    json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I}", "name", "t1", "kbps_min", (json_int_t)1, "kbps_max", (json_int_t)10, "max_latency_us",
                          (json_int_t)5, "max_loss_ppm", (json_int_t)0);
    assert_int_equal(ef_nslice_template_from_json(&t, j), 0);
    json_object_set_new(j, "extra", json_true());
    assert_int_equal(ef_nslice_template_from_json(&t, j), EF_EARGS);
    json_decref(j);
}

static json_t *req_args(const char *id, const ef_hash *tid, const char *ref, uint64_t kbps)
{
    return json_pack("{s:s, s:o, s:s, s:s, s:s, s:I}", "id", id, "template", tc_hexj(tid->b, EF_HASH_SIZE), "ref",
                     ref, "ap", "cam1", "dst", "srv", "kbps", (json_int_t)kbps);
}

static json_t *path1(void) { return json_pack("[s, s]", "edge1-cam1", "core-edge1"); }

static void test_templates_and_rights(void **state)
{
    (void)state;
    tc_chain c;
    dom_open(&c, "dom-t", 0x31);
    ef_nslice_template t;
    ef_hash id, id2, bogus;
    size_t n, n2;
    tmpl(&t, "video-hd", 1000, 50000);
    uint8_t *b = tmpl_bytes(&t, &n, &id);
    /* only the administrator publishes */
    refused(&c, NULL, EF_EPERM, OWNER, "publish",
            json_pack("{s:o, s:o}", "template", tc_hexj(b, n), "id", tc_hexj(id.b, EF_HASH_SIZE)));
    /* a modified template: bytes that are not the ones the id names */
    b[n - 1] ^= 0x01;   /* a description byte: still decodes */
    refused(&c, NULL, EF_ETEMPLATE, ADMIN, "publish",
            json_pack("{s:o, s:o}", "template", tc_hexj(b, n), "id", tc_hexj(id.b, EF_HASH_SIZE)));
    b[n - 1] ^= 0x01;
    /* bytes that do not decode */
    refused(&c, NULL, EF_EARGS, ADMIN, "publish",
            json_pack("{s:o, s:o}", "template", tc_hexj(b, n - 1), "id", tc_hexj(id.b, EF_HASH_SIZE)));
    refused(&c, NULL, EF_EARGS, ADMIN, "publish", json_pack("{s:s, s:o}", "template", "zz", "id",
                                                             tc_hexj(id.b, EF_HASH_SIZE)));
    assert_int_equal(publish(&c, ADMIN, b, n, &id), 0);
    assert_true(tc_event(&c, "template_published"));
    /* immutable: the same again, or another template of the same name */
    refused(&c, NULL, EF_EEXIST, ADMIN, "publish",
            json_pack("{s:o, s:o}", "template", tc_hexj(b, n), "id", tc_hexj(id.b, EF_HASH_SIZE)));
    tmpl(&t, "video-hd", 1000, 90000);
    uint8_t *b2 = tmpl_bytes(&t, &n2, &id2);
    refused(&c, NULL, EF_EEXIST, ADMIN, "publish",
            json_pack("{s:o, s:o}", "template", tc_hexj(b2, n2), "id", tc_hexj(id2.b, EF_HASH_SIZE)));
    json_t *q = tc_query(&c, "nslice", "templates");
    assert_int_equal(json_array_size(q), 1);
    json_decref(q);
    char hx[65];
    ef_hex(hx, id.b, EF_HASH_SIZE);
    q = tc_query(&c, "nslice", "template/%s", hx);
    assert_non_null(q);
    assert_string_equal(sf(q, "name"), "video-hd");
    /* the stored bytes hash to the id: anyone can check */
    uint8_t back[EF_NSLICE_TEMPLATE_MAX];
    const char *h = sf(q, "hex");
    assert_int_equal(ef_unhex(back, strlen(h) / 2, h), 0);
    ef_hash re;
    ef_nslice_template_id(&re, back, strlen(h) / 2);
    assert_true(ef_hash_eq(&re, &id));
    json_decref(q);

    /* instances: an unknown template, out of bounds, bad args */
    memset(&bogus, 0x42, sizeof bogus);
    refused(&c, NULL, EF_ENOTEMPLATE, OWNER, "request", req_args("i1", &bogus, "e2e-1", 2000));
    refused(&c, NULL, EF_ENOTEMPLATE, OWNER, "request", req_args("i1", &id2, "e2e-1", 2000));  /* never published */
    refused(&c, NULL, EF_EBOUNDS, OWNER, "request", req_args("i1", &id, "e2e-1", 999));
    refused(&c, NULL, EF_EBOUNDS, OWNER, "request", req_args("i1", &id, "e2e-1", 50001));
    json_t *a = req_args("i1", &id, "e2e-1", 2000);
    json_object_set_new(a, "dst", json_string("cam1"));
    refused(&c, NULL, EF_EARGS, OWNER, "request", a);
    a = req_args("i1", &id, "e2e-1", 2000);
    json_object_set_new(a, "color", json_string("red"));
    refused(&c, NULL, EF_EARGS, OWNER, "request", a);
    assert_null(tc_query(&c, "nslice", "instance/i1"));
    assert_int_equal(tc_tx(&c, OWNER, "nslice", "request", req_args("i1", &id, "e2e-1", 2000)), 0);
    json_t *i = inst(&c, "i1");
    assert_string_equal(sf(i, "lifecycle"), "requested");
    assert_string_equal(sf(i, "admin"), "locked");
    assert_string_equal(sf(i, "oper"), "disabled");
    assert_string_equal(sf(i, "owner"), c.hex[OWNER]);
    json_decref(i);
    refused(&c, "i1", EF_EEXIST, OTHER, "request", req_args("i1", &id, "e2e-2", 2000));

    /* the slice control's steps are the admin's: the owner may not, others are no party */
    json_t *ra = json_pack("{s:s, s:I, s:I, s:o}", "id", "i1", "version", (json_int_t)1, "kbps", (json_int_t)2000, "path", path1());
    refused(&c, "i1", EF_EPERM, OWNER, "reserve", json_deep_copy(ra));
    refused(&c, "i1", EF_ENOTOWNER, OTHER, "reserve", json_deep_copy(ra));
    refused(&c, "i1", EF_ESTATE, ADMIN, "activate", json_pack("{s:s, s:I}", "id", "i1", "version", (json_int_t)1));
    json_object_set_new(ra, "kbps", json_integer(3000));
    refused(&c, "i1", EF_EBOUNDS, ADMIN, "reserve", json_deep_copy(ra));
    json_object_set_new(ra, "kbps", json_integer(2000));
    json_object_set_new(ra, "version", json_integer(2));
    refused(&c, "i1", EF_ESTATE, ADMIN, "reserve", json_deep_copy(ra));
    json_object_set_new(ra, "version", json_integer(1));
    assert_int_equal(tc_tx(&c, ADMIN, "nslice", "reserve", ra), 0);
    assert_true(tc_event(&c, "nslice_reserved"));
    refused(&c, "i1", EF_ESTATE, OWNER, "modify", json_pack("{s:s, s:I}", "id", "i1", "kbps", (json_int_t)3000));
    assert_int_equal(tc_tx(&c, ADMIN, "nslice", "activate", json_pack("{s:s, s:I}", "id", "i1", "version", (json_int_t)1)), 0);
    i = inst(&c, "i1");
    assert_string_equal(sf(i, "lifecycle"), "active");
    assert_string_equal(sf(i, "admin"), "unlocked");
    assert_string_equal(sf(i, "oper"), "enabled");
    json_decref(i);

    /* an unauthorised modify of a running slice */
    refused(&c, "i1", EF_ENOTOWNER, OTHER, "modify", json_pack("{s:s, s:I}", "id", "i1", "kbps", (json_int_t)3000));
    refused(&c, "i1", EF_ENOTOWNER, OTHER, "readjust", json_pack("{s:s, s:I}", "id", "i1", "kbps", (json_int_t)3000));
    refused(&c, "i1", EF_ENOTOWNER, OTHER, "decommission", json_pack("{s:s}", "id", "i1"));
    refused(&c, "i1", EF_ENOTOWNER, OTHER, "lock", json_pack("{s:s}", "id", "i1"));
    refused(&c, "i1", EF_EBOUNDS, OWNER, "modify", json_pack("{s:s, s:I}", "id", "i1", "kbps", (json_int_t)60000));
    refused(&c, "i1", EF_EBOUNDS, OWNER, "modify", json_pack("{s:s, s:I}", "id", "i1", "kbps", (json_int_t)2000));
    refused(&c, "i1", EF_ENOTFOUND, OWNER, "modify", json_pack("{s:s, s:I}", "id", "nosuch", "kbps", (json_int_t)3000));
    /* locked: no change accepted, the slice keeps running */
    assert_int_equal(tc_tx(&c, OWNER, "nslice", "lock", json_pack("{s:s}", "id", "i1")), 0);
    refused(&c, "i1", EF_ELOCKED, OWNER, "modify", json_pack("{s:s, s:I}", "id", "i1", "kbps", (json_int_t)3000));
    refused(&c, "i1", EF_ESTATE, OWNER, "lock", json_pack("{s:s}", "id", "i1"));
    assert_int_equal(tc_tx(&c, ADMIN, "nslice", "unlock", json_pack("{s:s}", "id", "i1")), 0);

    /* make-before-break: a modify, reserved while version 1 still runs, switched */
    assert_int_equal(tc_tx(&c, OWNER, "nslice", "modify", json_pack("{s:s, s:I}", "id", "i1", "kbps", (json_int_t)3000)), 0);
    refused(&c, "i1", EF_ESTATE, OWNER, "readjust", json_pack("{s:s, s:I}", "id", "i1", "kbps", (json_int_t)4000));
    refused(&c, "i1", EF_ESTATE, OWNER, "decommission", json_pack("{s:s}", "id", "i1"));
    refused(&c, "i1", EF_ESTATE, ADMIN, "activate", json_pack("{s:s, s:I}", "id", "i1", "version", (json_int_t)2));
    assert_int_equal(tc_tx(&c, ADMIN, "nslice", "reserve",
                           json_pack("{s:s, s:I, s:I, s:[s]}", "id", "i1", "version", (json_int_t)2, "kbps", (json_int_t)3000, "path",
                                     "core-cam1")),
                     0);
    i = inst(&c, "i1");
    assert_int_equal(json_integer_value(json_object_get(i, "kbps")), 2000);   /* still version 1 */
    assert_int_equal(json_integer_value(json_object_get(i, "version")), 1);
    json_decref(i);
    assert_int_equal(tc_tx(&c, ADMIN, "nslice", "activate", json_pack("{s:s, s:I}", "id", "i1", "version", (json_int_t)2)), 0);
    assert_true(tc_event(&c, "nslice_modified") && tc_event(&c, "released_path"));
    i = inst(&c, "i1");
    assert_string_equal(sf(i, "lifecycle"), "modified");
    assert_int_equal(json_integer_value(json_object_get(i, "kbps")), 3000);
    assert_null(json_object_get(i, "pending"));
    json_decref(i);
    /* a failed re-adjustment leaves the running slice as it was */
    assert_int_equal(tc_tx(&c, ADMIN, "nslice", "readjust", json_pack("{s:s, s:I}", "id", "i1", "kbps", (json_int_t)9000)), 0);
    json_t *before = inst(&c, "i1");
    assert_int_equal(tc_tx(&c, ADMIN, "nslice", "fail",
                           json_pack("{s:s, s:I, s:s}", "id", "i1", "version", (json_int_t)3, "reason", "ENOCAP")),
                     0);
    assert_true(tc_event(&c, "nslice_change_failed"));
    i = inst(&c, "i1");
    assert_int_equal(json_integer_value(json_object_get(i, "kbps")), 3000);
    assert_int_equal(json_integer_value(json_object_get(i, "version")), 2);
    assert_string_equal(sf(i, "lifecycle"), "modified");
    assert_true(json_equal(json_object_get(i, "path"), json_object_get(before, "path")));
    json_decref(before);
    json_decref(i);
    /* decommissioning */
    refused(&c, "i1", EF_ESTATE, ADMIN, "release", json_pack("{s:s}", "id", "i1"));
    assert_int_equal(tc_tx(&c, OWNER, "nslice", "decommission", json_pack("{s:s}", "id", "i1")), 0);
    i = inst(&c, "i1");
    assert_string_equal(sf(i, "admin"), "shutting_down");
    json_decref(i);
    refused(&c, "i1", EF_EPERM, OWNER, "release", json_pack("{s:s}", "id", "i1"));
    assert_int_equal(tc_tx(&c, ADMIN, "nslice", "release", json_pack("{s:s}", "id", "i1")), 0);
    i = inst(&c, "i1");
    assert_string_equal(sf(i, "lifecycle"), "decommissioned");
    assert_string_equal(sf(i, "admin"), "locked");
    assert_string_equal(sf(i, "oper"), "disabled");
    assert_null(json_object_get(i, "path"));
    json_decref(i);
    refused(&c, "i1", EF_ESTATE, OWNER, "modify", json_pack("{s:s, s:I}", "id", "i1", "kbps", (json_int_t)4000));
    /* a failed instantiation */
    assert_int_equal(tc_tx(&c, OWNER, "nslice", "request", req_args("i2", &id, "e2e-2", 2000)), 0);
    assert_int_equal(tc_tx(&c, ADMIN, "nslice", "fail",
                           json_pack("{s:s, s:I, s:s}", "id", "i2", "version", (json_int_t)1, "reason", "ENOCAP")),
                     0);
    i = inst(&c, "i2");
    assert_string_equal(sf(i, "lifecycle"), "failed");
    json_decref(i);
    q = tc_query(&c, "nslice", "instances");
    assert_int_equal(json_array_size(q), 2);
    json_decref(q);
    free(b);
    free(b2);
    tc_close(&c);
}

/* ---- make-before-break against a reference model ---- */

static const char *mbb_topo =
    "{\"nodes\": [{\"name\": \"core\", \"layer\": \"core\"},"
    "{\"name\": \"edge1\", \"layer\": \"edge\", \"parent\": \"core\", \"kbps\": 20000, \"latency_us\": 100},"
    "{\"name\": \"cam1\", \"layer\": \"customer\", \"parent\": \"edge1\", \"kbps\": 12000, \"latency_us\": 100},"
    "{\"name\": \"cam2\", \"layer\": \"customer\", \"parent\": \"edge1\", \"kbps\": 12000, \"latency_us\": 100},"
    "{\"name\": \"srv\", \"layer\": \"server\", \"parent\": \"core\", \"kbps\": 20000, \"latency_us\": 100}]}";

static uint64_t rnd_s;
static uint64_t rnd(void)
{
    rnd_s ^= rnd_s << 13;
    rnd_s ^= rnd_s >> 7;
    rnd_s ^= rnd_s << 17;
    return rnd_s;
}

static uint64_t link_reserved(ef_slice_db *db, const char *child)
{
    ef_slice_link l;
    assert_int_equal(ef_slice_link_get(db, ef_slice_node_index(db, child), &l), 0);
    return l.reserved_kbps;
}

static void test_mbb_random(void **state)
{
    (void)state;
    tc_chain c;
    dom_open(&c, "dom-mbb", 0x32);
    ef_nslice_template t;
    ef_hash id;
    size_t n;
    tmpl(&t, "mbb", 500, 12000);
    uint8_t *b = tmpl_bytes(&t, &n, &id);
    assert_int_equal(publish(&c, ADMIN, b, n, &id), 0);
    free(b);
    json_t *topo = json_loads(mbb_topo, 0, NULL);
    ef_slice_db *db;
    char err[200];
    assert_int_equal(ef_slice_db_parse(&db, topo, err, sizeof err), 0);
    json_decref(topo);
    ef_sla_rules r = {.min_kbps = 4000, .max_latency_us = 20000};
    /* the slice: cam1 -> srv, version 1 under id "s1-v1" in the database */
    assert_int_equal(tc_tx(&c, OWNER, "nslice", "request", req_args("s1", &id, "e2e-s1", 4000)), 0);
    ef_slice_path p;
    assert_int_equal(ef_slice_reserve(db, "s1-v1", "cam1", "srv", &r, &p), 0);
    assert_int_equal(tc_tx(&c, ADMIN, "nslice", "reserve",
                           json_pack("{s:s, s:I, s:I, s:o}", "id", "s1", "version", (json_int_t)1, "kbps", (json_int_t)4000, "path",
                                     ef_slice_path_json(db, &p))),
                     0);
    assert_int_equal(tc_tx(&c, ADMIN, "nslice", "activate", json_pack("{s:s, s:I}", "id", "s1", "version", (json_int_t)1)), 0);
    /* model */
    uint64_t m_version = 1, m_kbps = 4000, comp_kbps = 0;
    int ok = 0, nocap = 0, enforce_fail = 0, comp = 0;
    rnd_s = 0x9e3779b97f4a7c15ull ^ (uint64_t)(getenv("EF_SEED") ? strtoull(getenv("EF_SEED"), NULL, 0) : 15);
    for (int step = 0; step < 120; step++) {
        /* a competing load on edge1-cam2/core-edge1 comes and goes */
        if (rnd() % 4 == 0) {
            if (comp_kbps) {
                assert_int_equal(ef_slice_release(db, "comp"), 0);
                comp_kbps = 0;
            } else {
                ef_sla_rules cr = {.min_kbps = 1000 + rnd() % 10000, .max_latency_us = 20000};
                if (ef_slice_reserve(db, "comp", "cam2", "srv", &cr, NULL) == 0) comp_kbps = cr.min_kbps;
                comp++;
            }
        }
        uint64_t want = 500 + rnd() % 11500;
        if (want == m_kbps) continue;
        const char *method = rnd() % 2 ? "readjust" : "modify";
        int who = rnd() % 2 ? OWNER : ADMIN;
        assert_int_equal(tc_tx(&c, who, "nslice", method, json_pack("{s:s, s:I}", "id", "s1", "kbps", want)), 0);
        uint64_t v = m_version + 1;
        char old_id[32], new_id[32];
        snprintf(old_id, sizeof old_id, "s1-v%llu", (unsigned long long)m_version);
        snprintf(new_id, sizeof new_id, "s1-v%llu", (unsigned long long)v);
        ef_sla_rules nr = {.min_kbps = want, .max_latency_us = 20000};
        /* make: the new version reserved while the old one is held */
        int rc = ef_slice_reserve(db, new_id, "cam1", "srv", &nr, &p);
        if (rc == 0) {
            assert_int_equal(tc_tx(&c, ADMIN, "nslice", "reserve",
                                   json_pack("{s:s, s:I, s:I, s:o}", "id", "s1", "version", (json_int_t)v, "kbps",
                                             (json_int_t)want, "path", ef_slice_path_json(db, &p))),
                             0);
            /* both held: the running version is never without its reservation */
            uint64_t k;
            assert_int_equal(ef_slice_get(db, old_id, &k, NULL), 0);
            assert_int_equal(k, m_kbps);
            assert_int_equal(link_reserved(db, "cam1"), m_kbps + want);
        }
        bool enforce_ok = rnd() % 5 != 0;   /* an enforcement failure now and then */
        if (rc == 0 && enforce_ok) {
            assert_int_equal(tc_tx(&c, ADMIN, "nslice", "activate",
                                   json_pack("{s:s, s:I}", "id", "s1", "version", (json_int_t)v)),
                             0);
            /* break: only after the ledger switched */
            assert_int_equal(ef_slice_release(db, old_id), 0);
            m_version = v;
            m_kbps = want;
            ok++;
        } else {
            if (rc == 0) assert_int_equal(ef_slice_release(db, new_id), 0);
            else assert_int_equal(rc, EF_ENOCAP);
            assert_int_equal(tc_tx(&c, ADMIN, "nslice", "fail",
                                   json_pack("{s:s, s:I, s:s}", "id", "s1", "version", (json_int_t)v, "reason",
                                             rc ? "ENOCAP" : "ENFORCE")),
                             0);
            /* the change is dropped: the next one is numbered v again */
            if (rc) nocap++;
            else enforce_fail++;
        }
        /* the ledger, the database and the model agree */
        json_t *i = inst(&c, "s1");
        assert_int_equal(json_integer_value(json_object_get(i, "kbps")), m_kbps);
        assert_null(json_object_get(i, "pending"));
        uint64_t lv = (uint64_t)json_integer_value(json_object_get(i, "version"));
        json_decref(i);
        uint64_t k;
        char cur_id[32];
        snprintf(cur_id, sizeof cur_id, "s1-v%llu", (unsigned long long)m_version);
        assert_int_equal(lv, m_version);
        assert_int_equal(ef_slice_get(db, cur_id, &k, NULL), 0);
        assert_int_equal(k, m_kbps);
        assert_int_equal(ef_slice_count(db), 1 + (comp_kbps ? 1 : 0));
        assert_int_equal(link_reserved(db, "cam1"), m_kbps);          /* no double reservation */
        assert_int_equal(link_reserved(db, "edge1"), m_kbps + comp_kbps);
        assert_int_equal(ef_slice_check(db, err, sizeof err), 0);
    }
    fprintf(stderr, "mbb: %d switched, %d no capacity, %d enforcement failures, %d competing loads\n", ok, nocap,
            enforce_fail, comp);
    assert_true(ok > 0 && nocap > 0 && enforce_fail > 0);
    /* decommission releases everything */
    assert_int_equal(tc_tx(&c, OWNER, "nslice", "decommission", json_pack("{s:s}", "id", "s1")), 0);
    char cur_id[32];
    snprintf(cur_id, sizeof cur_id, "s1-v%llu", (unsigned long long)m_version);
    assert_int_equal(ef_slice_release(db, cur_id), 0);
    assert_int_equal(tc_tx(&c, ADMIN, "nslice", "release", json_pack("{s:s}", "id", "s1")), 0);
    assert_int_equal(link_reserved(db, "cam1"), 0);
    ef_slice_db_free(db);
    tc_close(&c);
}

/* ---- the domain's slice control (agents/ef_nsctl.h) on the ledger's events ---- */

typedef struct drv {
    tc_chain *c;
    json_t *queue;
} drv;

static void drv_queue(drv *d)
{
    json_t *evs = json_loads(d->c->events, 0, NULL);
    size_t i;
    json_t *e;
    json_array_foreach(evs, i, e) json_array_append(d->queue, e);
    json_decref(evs);
}

static int drv_submit(void *arg, const char *method, const json_t *args, char err[24])
{
    drv *d = arg;
    int rc = tc_tx(d->c, ADMIN, "nslice", method, json_deep_copy(args));
    if (rc) snprintf(err, 24, "%s", ef_errname(rc));
    else drv_queue(d);
    return rc;
}

/* an owner's call, then every event fed to the controller until none is left */
static int drv_call(drv *d, ef_nsctl *n, const char *method, json_t *args)
{
    int rc = tc_tx(d->c, OWNER, "nslice", method, args);
    if (rc == 0) drv_queue(d);
    while (json_array_size(d->queue)) {
        json_t *e = json_incref(json_array_get(d->queue, 0));
        json_array_remove(d->queue, 0);
        if (!strcmp(sf(e, "contract"), "nslice")) ef_nsctl_on_event(n, sf(e, "name"), json_object_get(e, "data"));
        json_decref(e);
    }
    return rc;
}

/* A domain ledger with template tname published (its id in id), mbb_topo's
 * resource database, enforcement in process mode and a slice control on them
 * whose steps are queued in d. */
typedef struct ctlfx {
    tc_chain c;
    ef_hash id;
    ef_slice_db *db;
    ef_slicenet *net;
    drv d;
    ef_nsctl *ctl;
} ctlfx;

/* (Re)starts the fixture's slice control. */
static ef_nsctl *ctlfx_start(ctlfx *x)
{
    assert_int_equal(ef_nsctl_open(&x->ctl, x->db, x->net, &(ef_nsctl_cfg){0}, &(ef_nsctl_hooks){drv_submit, &x->d}),
                     0);
    return x->ctl;
}

static void ctlfx_open(ctlfx *x, const char *chain, uint8_t seed, const char *tname)
{
    ef_nslice_template t;
    size_t n;
    char err[200];
    memset(x, 0, sizeof *x);
    dom_open(&x->c, chain, seed);
    tmpl(&t, tname, 500, 12000);
    uint8_t *b = tmpl_bytes(&t, &n, &x->id);
    assert_int_equal(publish(&x->c, ADMIN, b, n, &x->id), 0);
    free(b);
    json_t *topo = json_loads(mbb_topo, 0, NULL);
    assert_int_equal(ef_slice_db_parse(&x->db, topo, err, sizeof err), 0);
    json_decref(topo);
    assert_int_equal(ef_slicenet_open(&x->net, x->db, &(ef_slicenet_cfg){.mode = "process"}), 0);
    x->d = (drv){&x->c, json_array()};
    ctlfx_start(x);
}

/* Checks the database's invariants and closes everything. */
static void ctlfx_close(ctlfx *x)
{
    char err[200];
    assert_int_equal(ef_slice_check(x->db, err, sizeof err), 0);
    ef_nsctl_close(x->ctl);
    ef_slicenet_close(x->net);
    ef_slice_db_free(x->db);
    json_decref(x->d.queue);
    tc_close(&x->c);
}

static void test_controller(void **state)
{
    (void)state;
    ctlfx x;
    ctlfx_open(&x, "dom-ctl", 0x33, "ctl");
    char err[200];
    uint64_t k;
    /* instantiated: reserved, enforced, active */
    json_t *a = req_args("c1", &x.id, "e2e-c", 4000);
    json_object_set_new(a, "ap", json_string("cam1"));
    assert_int_equal(drv_call(&x.d, x.ctl, "request", a), 0);
    json_t *i = inst(&x.c, "c1");
    assert_string_equal(sf(i, "lifecycle"), "active");
    assert_string_equal(sf(i, "oper"), "enabled");
    json_decref(i);
    assert_int_equal(ef_slice_get(x.db, "c1-v1", &k, NULL), 0);
    assert_int_equal(k, 4000);
    assert_int_equal(ef_slicenet_count(x.net), 1);
    /* re-adjusted make-before-break */
    assert_int_equal(drv_call(&x.d, x.ctl, "readjust", json_pack("{s:s, s:I}", "id", "c1", "kbps", (json_int_t)6000)),
                     0);
    i = inst(&x.c, "c1");
    assert_string_equal(sf(i, "lifecycle"), "readjusted");
    assert_int_equal(json_integer_value(json_object_get(i, "kbps")), 6000);
    json_decref(i);
    assert_int_equal(ef_slice_get(x.db, "c1-v1", &k, NULL), EF_ENOTFOUND);
    assert_int_equal(ef_slice_get(x.db, "c1-v2", &k, NULL), 0);
    assert_int_equal(link_reserved(x.db, "cam1"), 6000);
    assert_int_equal(ef_slicenet_count(x.net), 1);
    /* a re-adjustment the access link cannot carry next to the running one: refused, slice as it was */
    assert_int_equal(drv_call(&x.d, x.ctl, "readjust", json_pack("{s:s, s:I}", "id", "c1", "kbps", (json_int_t)11000)),
                     0);
    i = inst(&x.c, "c1");
    assert_int_equal(json_integer_value(json_object_get(i, "kbps")), 6000);
    assert_int_equal(json_integer_value(json_object_get(i, "version")), 2);
    assert_null(json_object_get(i, "pending"));
    json_decref(i);
    assert_int_equal(link_reserved(x.db, "cam1"), 6000);
    /* a second slice fits, a third does not: failed with nothing held */
    a = req_args("c2", &x.id, "e2e-d", 11000);
    json_object_set_new(a, "ap", json_string("cam2"));
    assert_int_equal(drv_call(&x.d, x.ctl, "request", a), 0);
    a = req_args("c3", &x.id, "e2e-e", 5000);
    json_object_set_new(a, "ap", json_string("cam2"));
    assert_int_equal(drv_call(&x.d, x.ctl, "request", a), 0);
    i = inst(&x.c, "c3");
    assert_string_equal(sf(i, "lifecycle"), "failed");
    json_decref(i);
    assert_int_equal(ef_slice_count(x.db), 2);
    /* decommissioned: everything of c1 released */
    assert_int_equal(drv_call(&x.d, x.ctl, "decommission", json_pack("{s:s}", "id", "c1")), 0);
    i = inst(&x.c, "c1");
    assert_string_equal(sf(i, "lifecycle"), "decommissioned");
    json_decref(i);
    assert_int_equal(link_reserved(x.db, "cam1"), 0);
    assert_int_equal(ef_slice_count(x.db), 1);
    ef_nsctl_stats st;
    ef_nsctl_stats_get(x.ctl, &st);
    assert_int_equal(st.activated, 2);
    assert_int_equal(st.switched, 1);
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.change_failed, 1);
    assert_int_equal(st.released, 1);
    json_t *j = ef_nsctl_json(x.ctl);
    assert_int_equal(json_array_size(json_object_get(j, "instances")), 1);
    json_decref(j);
    assert_int_equal(ef_slice_check(x.db, err, sizeof err), 0);
    ef_nsctl_close(x.ctl);
    x.ctl = NULL;
    assert_int_equal(ef_slice_count(x.db), 0);   /* stopped: everything it held released */
    ctlfx_close(&x);
}


/* the steps of instance id's history, comma-joined */
static void steps_of(tc_chain *c, const char *id, char *out, size_t cap)
{
    json_t *i = inst(c, id);
    size_t k, n = 0;
    json_t *h;
    out[0] = 0;
    json_array_foreach(json_object_get(i, "history"), k, h) n += (size_t)snprintf(out + n, cap - n, "%s%s", k ? "," : "", sf(h, "step"));
    json_decref(i);
}

static void take_events(json_t *into, tc_chain *c)
{
    json_t *evs = json_loads(c->events, 0, NULL);
    json_array_extend(into, evs);
    json_decref(evs);
}

/* A restarted slice control (ef_nsctl_resume): what the ledger shows running is
 * taken up without a transaction, each step owed is taken once, none redone;
 * the events missed while it was down, replayed, change nothing. */
static void test_controller_resume(void **state)
{
    (void)state;
    ctlfx x;
    ctlfx_open(&x, "dom-res", 0x35, "res");
    char steps[512];
    json_t *a = req_args("r1", &x.id, "e2e-r1", 3000);
    assert_int_equal(drv_call(&x.d, x.ctl, "request", a), 0);
    a = req_args("r3", &x.id, "e2e-r3", 2000);
    json_object_set_new(a, "ap", json_string("cam2"));
    assert_int_equal(drv_call(&x.d, x.ctl, "request", a), 0);
    json_t *before = ef_nsctl_json(x.ctl);
    ef_nsctl_close(x.ctl);   /* down: everything it held released */
    x.ctl = NULL;
    assert_int_equal(ef_slice_count(x.db), 0);
    /* while it is down: a request, a re-adjustment, a decommission */
    json_t *missed = json_array();
    a = req_args("r2", &x.id, "e2e-r2", 1000);
    json_object_set_new(a, "ap", json_string("cam2"));
    assert_int_equal(tc_tx(&x.c, OWNER, "nslice", "request", a), 0);
    take_events(missed, &x.c);
    assert_int_equal(tc_tx(&x.c, OWNER, "nslice", "readjust", json_pack("{s:s, s:I}", "id", "r1", "kbps", (json_int_t)5000)), 0);
    take_events(missed, &x.c);
    assert_int_equal(tc_tx(&x.c, OWNER, "nslice", "decommission", json_pack("{s:s}", "id", "r3")), 0);
    take_events(missed, &x.c);
    /* up again: resumed from the ledger's records */
    ctlfx_start(&x);
    json_t *recs = json_pack("[o, o, o]", inst(&x.c, "r1"), inst(&x.c, "r2"), inst(&x.c, "r3"));
    ef_nsctl_resume(x.ctl, recs);
    json_decref(recs);
    json_array_clear(x.d.queue);   /* the control's own steps: fed below with the missed ones */
    ef_nsctl_stats st;
    ef_nsctl_stats_get(x.ctl, &st);
    assert_int_equal(st.adopted, 1);
    assert_int_equal(st.switched, 1);
    assert_int_equal(st.activated, 1);
    assert_int_equal(st.released, 1);
    steps_of(&x.c, "r1", steps, sizeof steps);
    assert_string_equal(steps, "nslice_requested,nslice_reserved,nslice_activated,nslice_change_requested,"
                               "nslice_reserved,nslice_readjusted");
    steps_of(&x.c, "r2", steps, sizeof steps);
    assert_string_equal(steps, "nslice_requested,nslice_reserved,nslice_activated");
    steps_of(&x.c, "r3", steps, sizeof steps);
    assert_string_equal(steps, "nslice_requested,nslice_reserved,nslice_activated,nslice_decommissioning,"
                               "nslice_decommissioned");
    uint64_t k;
    assert_int_equal(ef_slice_get(x.db, "r1-v2", &k, NULL), 0);
    assert_int_equal(k, 5000);
    assert_int_equal(ef_slice_get(x.db, "r1-v1", &k, NULL), EF_ENOTFOUND);
    assert_int_equal(ef_slice_get(x.db, "r2-v1", &k, NULL), 0);
    assert_int_equal(ef_slice_count(x.db), 2);
    /* r1 on the port it had (the port follows the end-to-end id) */
    json_t *after = ef_nsctl_json(x.ctl);
    size_t pi, qi;
    json_t *p, *q;
    json_array_foreach(json_object_get(before, "instances"), pi, p) json_array_foreach(json_object_get(after, "instances"), qi, q) if (
        !strcmp(sf(p, "id"), sf(q, "id"))) assert_int_equal(json_integer_value(json_object_get(p, "port")),
                                                            json_integer_value(json_object_get(q, "port")));
    json_decref(after);
    json_decref(before);
    /* the missed events replayed: nothing more happens */
    uint64_t h = x.c.nonce[ADMIN];
    size_t i;
    json_t *e;
    json_array_foreach(missed, i, e) if (!strcmp(sf(e, "contract"), "nslice")) ef_nsctl_on_event(x.ctl, sf(e, "name"), json_object_get(e, "data"));
    json_decref(missed);
    assert_int_equal(x.c.nonce[ADMIN], h);   /* no step recorded */
    assert_int_equal(ef_slice_count(x.db), 2);
    ctlfx_close(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_template_codec),
        cmocka_unit_test(test_templates_and_rights),
        cmocka_unit_test(test_mbb_random),
        cmocka_unit_test(test_controller),
        cmocka_unit_test(test_controller_resume),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
