/* test_prov.c: the prov contract: the BCOR state machine (the seed's Table II),
 * every allowed and refused transition table-driven, random sequences against a
 * reference model, signatures, permissions, lineage and deterministic exports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "contracts/ef_contracts.h"
#include "contracts/ef_prov.h"
#include "ef_test_ledger.h"

#define T_NKEYS 8

typedef struct {
    char dir[512];
    ef_store *s;
    ef_keypair val;           /* the validator (domain d0) */
    ef_keypair k[T_NKEYS];    /* members: things' keys and owners */
    ef_keypair stranger;      /* not in the registry */
} t_env;

static void t_env_open(t_env *e)
{
    memset(e, 0, sizeof *e);
    t_tmpdir(e->dir, sizeof e->dir, "prov");
    char hex[65];
    t_key(&e->val, 0);
    json_t *members = json_array();
    for (int i = 0; i < T_NKEYS; i++) {
        t_key(&e->k[i], (uint32_t)(10 + i));
        json_array_append_new(members, json_pack("{s:s, s:s, s:s}", "pub", t_hex(&e->k[i].pub, hex), "domain", "d0",
                                                 "name", "m"));
    }
    t_key(&e->stranger, 99);
    json_t *doc = json_pack("{s:s, s:I, s:[{s:s, s:s}], s:o}", "chain_id", T_CHAIN, "time_ms", (json_int_t)1000,
                            "validators", "pub", t_hex(&e->val.pub, hex), "domain", "d0", "members", members);
    char *text = json_dumps(doc, 0);
    ef_genesis g;
    char err[200];
    assert_int_equal(ef_genesis_parse(&g, text, strlen(text), err, sizeof err), 0);
    assert_int_equal(ef_store_open(&e->s, e->dir, &(ef_store_opts){EF_CONTRACTS_BUILTIN, .no_sync = true}), 0);
    assert_int_equal(ef_store_init_genesis(e->s, &g), 0);
    ef_genesis_free(&g);
    free(text);
    json_decref(doc);
}

static void t_env_close(t_env *e)
{
    ef_store_close(e->s);
    t_rmdir(e->dir);
}

static int t_call(t_env *e, const ef_keypair *kp, const char *method, json_t *args)
{
    char *text = json_dumps(args, JSON_COMPACT);
    json_decref(args);
    int rc = t_run(e->s, &e->val.pub, kp, "prov", method, text);
    free(text);
    return rc;
}

/* As t_call, but for a sender the chain's rule may refuse (t_try: nothing is committed). */
static int t_try_call(t_env *e, const ef_keypair *kp, const char *method, json_t *args)
{
    char *text = json_dumps(args, JSON_COMPACT);
    json_decref(args);
    int rc = t_try(e->s, &e->val.pub, kp, "prov", method, text);
    free(text);
    return rc;
}

static int t_join(t_env *e, const ef_keypair *sender, const char *id, const char *kind, const ef_pub *owner,
                  const ef_pub *key, const char *host)
{
    char oh[65], kh[65];
    json_t *a = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "kind", kind, "owner", t_hex(owner, oh), "key",
                          t_hex(key, kh));
    if (host) json_object_set_new(a, "host", json_string(host));
    return t_call(e, sender, "join", a);
}

static int t_leave(t_env *e, const ef_keypair *sender, const char *id)
{
    return t_call(e, sender, "leave", json_pack("{s:s}", "id", id));
}

/* release of blob by producer (sender), signed by signer (NULL: a bad signature) */
static int t_release(t_env *e, const ef_keypair *sender, const ef_keypair *signer, const char *ent, const char *act,
                     const char *prod, const char *blob, const char *recv)
{
    ef_hash h;
    char hh[65], sig[129];
    ef_prov_blob_hash(&h, blob, strlen(blob));
    ef_hex(hh, h.b, EF_HASH_SIZE);
    if (signer) {
        assert_int_equal(ef_prov_data_sign(sig, signer, T_CHAIN, ent, act, prod, &h, strlen(blob), "text/plain"), 0);
    } else {
        assert_int_equal(ef_prov_data_sign(sig, sender, T_CHAIN, ent, act, prod, &h, strlen(blob) + 1, "text/plain"), 0);
    }
    json_t *a = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s}", "entity", ent, "activity", act, "producer", prod,
                          "hash", hh, "size", (json_int_t)strlen(blob), "media_type", "text/plain", "sig", sig);
    if (recv) json_object_set_new(a, "receiver", json_string(recv));
    return t_call(e, sender, "release", a);
}

static int t_use(t_env *e, const ef_keypair *sender, const char *ent, const char *act, const char *by)
{
    return t_call(e, sender, "use", json_pack("{s:s, s:s, s:s}", "entity", ent, "activity", act, "by", by));
}

static json_t *t_q(t_env *e, const char *path)
{
    json_t *j = NULL;
    if (ef_store_query(e->s, "prov", path, &j)) return NULL;
    return j;
}

static uint64_t t_records(t_env *e)
{
    json_t *st = t_q(e, "stats");
    assert_non_null(st);
    uint64_t n = (uint64_t)json_integer_value(json_object_get(st, "records"));
    json_decref(st);
    return n;
}

/* "absent", "joined:G" or "left:G" */
static const char *t_thing_state(t_env *e, const char *id)
{
    static char buf[64];
    char path[100];
    snprintf(path, sizeof path, "thing/%s", id);
    json_t *t = t_q(e, path);
    if (!t) return "absent";
    snprintf(buf, sizeof buf, "%s:%lld", json_string_value(json_object_get(t, "state")),
             (long long)json_integer_value(json_object_get(t, "gen")));
    json_decref(t);
    return buf;
}

/* ------------------------------------------------------------ Table II: things */

enum { S_ABSENT, S_JOINED, S_LEFT };
enum { OP_JOIN_SAME, OP_JOIN_OTHER_OWNER, OP_LEAVE, OP_LEAVE_BY_OWNER, OP_LEAVE_BY_STRANGER, OP_JOIN_BY_OTHER_KEY };

static const struct {
    int from;
    int op;
    int rc;
    const char *after;   /* thing state after */
    int records;         /* records added */
} t_thing_table[] = {
    /* join device/container: identify (store PROV-ID-create) */
    {S_ABSENT, OP_JOIN_SAME, 0, "joined:1", 1},
    {S_ABSENT, OP_JOIN_OTHER_OWNER, 0, "joined:1", 1},
    {S_JOINED, OP_JOIN_SAME, 0, "joined:1", 0},                    /* identical repeat: idempotent */
    {S_JOINED, OP_JOIN_OTHER_OWNER, EF_EEXIST, "joined:1", 0},     /* contradiction */
    {S_LEFT, OP_JOIN_SAME, 0, "joined:2", 1},                      /* rejoin: next generation */
    {S_LEFT, OP_JOIN_OTHER_OWNER, 0, "joined:2", 1},
    {S_ABSENT, OP_JOIN_BY_OTHER_KEY, EF_EPERM, "absent", 0},       /* only for itself */
    {S_LEFT, OP_JOIN_BY_OTHER_KEY, EF_EPERM, "left:1", 0},
    /* leave: IF joined(thing) terminate (store PROV-ID-delete) */
    {S_ABSENT, OP_LEAVE, EF_ENOTJOINED, "absent", 0},
    {S_JOINED, OP_LEAVE, 0, "left:1", 1},
    {S_JOINED, OP_LEAVE_BY_OWNER, 0, "left:1", 1},
    {S_LEFT, OP_LEAVE, EF_ENOTJOINED, "left:1", 0},                /* leave twice */
    {S_LEFT, OP_LEAVE_BY_OWNER, EF_ENOTJOINED, "left:1", 0},
    {S_JOINED, OP_LEAVE_BY_STRANGER, EF_EPERM, "joined:1", 0},
    {S_ABSENT, OP_LEAVE_BY_STRANGER, EF_ENOTJOINED, "absent", 0},
};

static void test_prov_table2_things(void **state)
{
    (void)state;
    static const char *const kinds[] = {"device", "container"};
    t_env e;
    t_env_open(&e);
    /* the host of the containers */
    assert_int_equal(t_join(&e, &e.k[7], "host0", "device", &e.k[0].pub, &e.k[7].pub, NULL), 0);
    for (size_t kind = 0; kind < 2; kind++) {
        for (size_t i = 0; i < EF_ARRAY_LEN(t_thing_table); i++) {
            char id[32];
            snprintf(id, sizeof id, "%s-%zu", kinds[kind], i);
            const ef_keypair *me = &e.k[1 + (i % 5)];
            const char *host = kind ? "host0" : NULL;
            if (t_thing_table[i].from != S_ABSENT)
                assert_int_equal(t_join(&e, me, id, kinds[kind], &e.k[0].pub, &me->pub, host), 0);
            if (t_thing_table[i].from == S_LEFT) assert_int_equal(t_leave(&e, me, id), 0);
            uint64_t before = t_records(&e);
            json_t *snap = t_q(&e, "export");
            int rc = -999;
            switch (t_thing_table[i].op) {
            case OP_JOIN_SAME: rc = t_join(&e, me, id, kinds[kind], &e.k[0].pub, &me->pub, host); break;
            case OP_JOIN_OTHER_OWNER: rc = t_join(&e, me, id, kinds[kind], &e.k[6].pub, &me->pub, host); break;
            case OP_LEAVE: rc = t_leave(&e, me, id); break;
            case OP_LEAVE_BY_OWNER: rc = t_leave(&e, &e.k[0], id); break;
            case OP_LEAVE_BY_STRANGER: rc = t_leave(&e, &e.k[6], id); break;
            case OP_JOIN_BY_OTHER_KEY: rc = t_join(&e, &e.k[6], id, kinds[kind], &e.k[0].pub, &me->pub, host); break;
            }
            if (rc != t_thing_table[i].rc)
                fail_msg("%s row %zu: rc %s, want %s", kinds[kind], i, ef_errname(rc), ef_errname(t_thing_table[i].rc));
            assert_string_equal(t_thing_state(&e, id), t_thing_table[i].after);
            assert_int_equal(t_records(&e), before + (uint64_t)t_thing_table[i].records);
            if (t_thing_table[i].records == 0) {
                json_t *now = t_q(&e, "export");
                assert_true(json_equal(snap, now));   /* refused or idempotent: nothing changed */
                json_decref(now);
            }
            json_decref(snap);
        }
    }
    t_env_close(&e);
}

/* a container needs a joined device as host; a device has no host; only members record */
static void test_prov_table2_container_host(void **state)
{
    (void)state;
    t_env e;
    t_env_open(&e);
    const ef_pub *own = &e.k[0].pub;
    assert_int_equal(t_join(&e, &e.k[1], "c1", "container", own, &e.k[1].pub, "nohost"), EF_ENOIDENT);
    assert_int_equal(t_join(&e, &e.k[2], "h-left", "device", own, &e.k[2].pub, NULL), 0);
    assert_int_equal(t_leave(&e, &e.k[2], "h-left"), 0);
    assert_int_equal(t_join(&e, &e.k[1], "c1", "container", own, &e.k[1].pub, "h-left"), EF_ENOTJOINED);
    assert_int_equal(t_join(&e, &e.k[3], "c-host", "container", own, &e.k[3].pub, "h-left"), EF_ENOTJOINED);
    assert_int_equal(t_join(&e, &e.k[4], "h1", "device", own, &e.k[4].pub, NULL), 0);
    assert_int_equal(t_join(&e, &e.k[3], "c-host", "container", own, &e.k[3].pub, "h1"), 0);
    assert_int_equal(t_join(&e, &e.k[1], "c1", "container", own, &e.k[1].pub, "c-host"), EF_ESTATE);
    assert_int_equal(t_join(&e, &e.k[1], "c1", "container", own, &e.k[1].pub, NULL), EF_EARGS);
    assert_int_equal(t_join(&e, &e.k[1], "d1", "device", own, &e.k[1].pub, "h1"), EF_EARGS);
    assert_int_equal(t_join(&e, &e.k[1], "bad/id", "device", own, &e.k[1].pub, NULL), EF_EARGS);
    assert_int_equal(t_join(&e, &e.k[1], "d1", "sensor", own, &e.k[1].pub, NULL), EF_EARGS);
    /* not a member of this ledger: not even an account, so not executable at all */
    char sh[65], oh2[65];
    assert_int_equal(t_try_call(&e, &e.stranger, "join",
                                json_pack("{s:s, s:s, s:s, s:s}", "id", "d1", "kind", "device", "owner",
                                          t_hex(own, oh2), "key", t_hex(&e.stranger.pub, sh))),
                     EF_ENOACCOUNT);
    assert_int_equal(t_join(&e, &e.k[1], "c1", "container", own, &e.k[1].pub, "h1"), 0);
    assert_string_equal(t_thing_state(&e, "c1"), "joined:1");
    assert_string_equal(t_thing_state(&e, "d1"), "absent");
    t_env_close(&e);
}

/* ------------------------------------------------------------ Table II: data */

static void test_prov_table2_data(void **state)
{
    (void)state;
    t_env e;
    t_env_open(&e);
    const ef_pub *own = &e.k[0].pub;
    ef_keypair *sens = &e.k[1], *coll = &e.k[2], *gone = &e.k[3];
    assert_int_equal(t_join(&e, sens, "sensor", "device", own, &sens->pub, NULL), 0);
    assert_int_equal(t_join(&e, coll, "collector", "device", own, &coll->pub, NULL), 0);
    assert_int_equal(t_join(&e, gone, "gone", "device", own, &gone->pub, NULL), 0);
    assert_int_equal(t_leave(&e, gone, "gone"), 0);

    static const struct {
        const char *what;
        int sender, signer;   /* index into k; -1 = bad signature */
        const char *ent, *act, *prod, *blob, *recv;
        int rc, records;
    } rel[] = {
        {"unknown producer", 4, 4, "x1", "sense", "nobody", "v", NULL, EF_ENOIDENT, 0},
        {"producer left", 3, 3, "x1", "sense", "gone", "v", NULL, EF_ENOTJOINED, 0},
        {"bad signature", 1, -1, "x1", "sense", "sensor", "v", NULL, EF_EBADSIG, 0},
        {"signed by another key", 1, 2, "x1", "sense", "sensor", "v", NULL, EF_EBADSIG, 0},
        {"sender not the producer", 2, 1, "x1", "sense", "sensor", "v", NULL, EF_EPERM, 0},
        {"leave data: released", 1, 1, "x1", "sense", "sensor", "v", NULL, 0, 1},
        {"identical repeat", 1, 1, "x1", "sense", "sensor", "v", NULL, 0, 0},
        {"same id, other bytes", 1, 1, "x1", "sense", "sensor", "w", NULL, EF_EEXIST, 0},
        {"to a receiver", 1, 1, "x2", "sense", "sensor", "v2", "collect", 0, 1},
    };
    for (size_t i = 0; i < EF_ARRAY_LEN(rel); i++) {
        uint64_t before = t_records(&e);
        json_t *snap = t_q(&e, "export");
        const ef_keypair *signer = rel[i].signer < 0 ? NULL : &e.k[rel[i].signer];
        int rc = t_release(&e, &e.k[rel[i].sender], signer, rel[i].ent, rel[i].act, rel[i].prod, rel[i].blob,
                           rel[i].recv);
        if (rc != rel[i].rc) fail_msg("release %s: rc %s, want %s", rel[i].what, ef_errname(rc), ef_errname(rel[i].rc));
        assert_int_equal(t_records(&e), before + (uint64_t)rel[i].records);
        if (!rel[i].records) {
            json_t *now = t_q(&e, "export");
            assert_true(json_equal(snap, now));
            json_decref(now);
        }
        json_decref(snap);
    }

    static const struct {
        const char *what;
        int sender;
        const char *ent, *act, *by;
        int rc, records;
    } use[] = {
        {"use before release", 2, "x9", "collect", "collector", EF_ENOTRELEASED, 0},
        {"unknown consumer", 2, "x1", "collect", "nobody", EF_ENOIDENT, 0},
        {"consumer left", 3, "x1", "collect", "gone", EF_ENOTJOINED, 0},
        {"not the consumer's key", 1, "x1", "collect", "collector", EF_EPERM, 0},
        {"released to another activity", 2, "x2", "other", "collector", EF_EPERM, 0},
        {"join data: orchestration record", 2, "x1", "collect", "collector", 0, 1},
        {"identical repeat", 2, "x1", "collect", "collector", 0, 0},
        {"same use by another thing", 1, "x1", "collect", "sensor", EF_EEXIST, 0},
        {"to its receiver", 2, "x2", "collect", "collector", 0, 1},
    };
    for (size_t i = 0; i < EF_ARRAY_LEN(use); i++) {
        uint64_t before = t_records(&e);
        json_t *snap = t_q(&e, "export");
        int rc = t_use(&e, &e.k[use[i].sender], use[i].ent, use[i].act, use[i].by);
        if (rc != use[i].rc) fail_msg("use %s: rc %s, want %s", use[i].what, ef_errname(rc), ef_errname(use[i].rc));
        assert_int_equal(t_records(&e), before + (uint64_t)use[i].records);
        if (!use[i].records) {
            json_t *now = t_q(&e, "export");
            assert_true(json_equal(snap, now));
            json_decref(now);
        }
        json_decref(snap);
    }
    /* malformed arguments */
    assert_int_equal(t_call(&e, sens, "release", json_pack("{s:s}", "entity", "x3")), EF_EARGS);
    assert_int_equal(t_call(&e, coll, "use", json_pack("{s:s, s:s, s:s, s:i}", "entity", "x1", "activity", "a", "by",
                                                        "collector", "extra", 1)),
                     EF_EARGS);
    t_env_close(&e);
}

/* ------------------------------------------------------------ random vs model */

#define M_THINGS 3
#define M_DATA 4
#define M_ACTS 2

typedef struct {
    int state[M_THINGS];   /* S_ABSENT, S_JOINED, S_LEFT */
    int gen[M_THINGS];
    int owner[M_THINGS];   /* owner variant at the current generation */
    int dprod[M_DATA];     /* producer of datum (-1: not released) */
    int dvar[M_DATA];      /* hash variant */
    int used_by[M_ACTS][M_DATA];  /* -1: not used */
    uint64_t records;
} t_model;

static uint32_t t_rand(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(*s >> 33);
}

static void test_prov_random_vs_model(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        t_env e;
        t_env_open(&e);
        t_model m;
        memset(&m, 0, sizeof m);
        for (int d = 0; d < M_DATA; d++) m.dprod[d] = -1;
        memset(m.used_by, 0xff, sizeof m.used_by);
        uint64_t rs = seed;
        for (int step = 0; step < 150; step++) {
            int op = (int)(t_rand(&rs) % 4), t = (int)(t_rand(&rs) % M_THINGS), d = (int)(t_rand(&rs) % M_DATA),
                a = (int)(t_rand(&rs) % M_ACTS), v = (int)(t_rand(&rs) % 2);
            char tid[16], did[16], aid[16], blob[16];
            snprintf(tid, sizeof tid, "t%d", t);
            snprintf(did, sizeof did, "d%d", d);
            snprintf(aid, sizeof aid, "a%d", a);
            const ef_keypair *key = &e.k[1 + t];
            int rc, want;
            bool rec = false;
            switch (op) {
            case 0: /* join with owner variant v */
                rc = t_join(&e, key, tid, "device", &e.k[5 + v].pub, &key->pub, NULL);
                if (m.state[t] == S_JOINED) want = m.owner[t] == v ? 0 : EF_EEXIST;
                else {
                    want = 0;
                    rec = true;
                    m.state[t] = S_JOINED;
                    m.gen[t]++;
                    m.owner[t] = v;
                }
                break;
            case 1: /* leave */
                rc = t_leave(&e, key, tid);
                if (m.state[t] != S_JOINED) want = EF_ENOTJOINED;
                else {
                    want = 0;
                    rec = true;
                    m.state[t] = S_LEFT;
                }
                break;
            case 2: { /* release datum d by thing t, bytes variant v; one in 8 badly signed */
                bool bad = t_rand(&rs) % 8 == 0;
                snprintf(blob, sizeof blob, "blob-%d-%d", d, v);
                /* each datum's generating activity is fixed (so a repeat can be identical) */
                char gact[16];
                snprintf(gact, sizeof gact, "g%d", d);
                rc = t_release(&e, key, bad ? NULL : key, did, gact, tid, blob, NULL);
                if (m.state[t] == S_ABSENT) want = EF_ENOIDENT;
                else if (m.state[t] == S_LEFT) want = EF_ENOTJOINED;
                else if (bad) want = EF_EBADSIG;
                else if (m.dprod[d] >= 0) want = (m.dprod[d] == t && m.dvar[d] == v) ? 0 : EF_EEXIST;
                else {
                    want = 0;
                    rec = true;
                    m.dprod[d] = t;
                    m.dvar[d] = v;
                }
                break;
            }
            default: /* use of datum d at activity a by thing t */
                rc = t_use(&e, key, did, aid, tid);
                if (m.state[t] == S_ABSENT) want = EF_ENOIDENT;
                else if (m.state[t] == S_LEFT) want = EF_ENOTJOINED;
                else if (m.dprod[d] < 0) want = EF_ENOTRELEASED;
                else if (m.used_by[a][d] >= 0) want = m.used_by[a][d] == t ? 0 : EF_EEXIST;
                else {
                    want = 0;
                    rec = true;
                    m.used_by[a][d] = t;
                }
                break;
            }
            if (rec) m.records++;
            if (rc != want)
                fail_msg("seed %llu step %d op %d thing %d datum %d: rc %s, model %s", (unsigned long long)seed, step,
                         op, t, d, ef_errname(rc), ef_errname(want));
            assert_int_equal(t_records(&e), m.records);
        }
        for (int t = 0; t < M_THINGS; t++) {
            char tid[16], want[32];
            snprintf(tid, sizeof tid, "t%d", t);
            if (m.state[t] == S_ABSENT) snprintf(want, sizeof want, "absent");
            else snprintf(want, sizeof want, "%s:%d", m.state[t] == S_JOINED ? "joined" : "left", m.gen[t]);
            assert_string_equal(t_thing_state(&e, tid), want);
        }
        t_env_close(&e);
    }
}

/* ------------------------------------------------------------ orchestration */

static void test_prov_orchestrate(void **state)
{
    (void)state;
    t_env e;
    t_env_open(&e);
    ef_keypair *orch = &e.k[0], *dev = &e.k[1], *cont = &e.k[2];
    char oh[65];
    t_hex(&orch->pub, oh);
    assert_int_equal(t_join(&e, dev, "edge1", "device", &orch->pub, &dev->pub, NULL), 0);
    json_t *dep = json_pack("{s:s, s:s, s:s, s:s, s:s}", "action", "deploy", "activity", "deploy-svc1", "container",
                            "app1", "host", "edge1", "ref", "federation/svc/1");
    assert_int_equal(t_call(&e, orch, "orchestrate", json_incref(dep)), 0);
    uint64_t n = t_records(&e);
    assert_int_equal(t_call(&e, orch, "orchestrate", json_incref(dep)), 0);          /* identical repeat */
    assert_int_equal(t_records(&e), n);
    /* the same activity with other details, and a second placement */
    assert_int_equal(t_call(&e, orch, "orchestrate",
                            json_pack("{s:s, s:s, s:s, s:s}", "action", "deploy", "activity", "deploy-svc1",
                                      "container", "app1", "host", "nohost")),
                     EF_EEXIST);
    assert_int_equal(t_call(&e, orch, "orchestrate",
                            json_pack("{s:s, s:s, s:s, s:s}", "action", "deploy", "activity", "deploy-2", "container",
                                      "app1", "host", "edge1")),
                     EF_EEXIST);
    assert_int_equal(t_call(&e, orch, "orchestrate",
                            json_pack("{s:s, s:s, s:s, s:s}", "action", "deploy", "activity", "deploy-3", "container",
                                      "app2", "host", "nohost")),
                     EF_ENOIDENT);
    /* the container joins on its host; then only its owner places or tears it down */
    assert_int_equal(t_join(&e, cont, "app1", "container", &orch->pub, &cont->pub, "edge1"), 0);
    assert_int_equal(t_call(&e, &e.k[3], "orchestrate",
                            json_pack("{s:s, s:s, s:s}", "action", "teardown", "activity", "td-1", "container", "app1")),
                     EF_EPERM);
    assert_int_equal(t_call(&e, orch, "orchestrate",
                            json_pack("{s:s, s:s, s:s}", "action", "teardown", "activity", "td-1", "container", "app1")),
                     0);
    assert_int_equal(t_call(&e, orch, "orchestrate",
                            json_pack("{s:s, s:s, s:s}", "action", "teardown", "activity", "td-2", "container", "app1")),
                     EF_ESTATE);   /* not placed any more */
    /* a tunnel to the deployment, recorded by another party (the consumer's agent) */
    assert_int_equal(t_call(&e, &e.k[5], "orchestrate",
                            json_pack("{s:s, s:s, s:s}", "action", "connect", "activity", "tun-1", "container", "app1")),
                     EF_EARGS);   /* no ref */
    assert_int_equal(t_call(&e, &e.k[5], "orchestrate",
                            json_pack("{s:s, s:s, s:s, s:s, s:s}", "action", "connect", "activity", "tun-1", "container",
                                      "app1", "host", "edge1", "ref", "vxlan:4097/10.0.0.1:4789")),
                     EF_EARGS);   /* a tunnel has no host */
    assert_int_equal(t_call(&e, &e.k[5], "orchestrate",
                            json_pack("{s:s, s:s, s:s, s:s}", "action", "connect", "activity", "tun-1", "container",
                                      "app1", "ref", "vxlan:4097/10.0.0.1:4789")),
                     0);
    assert_int_equal(t_call(&e, &e.k[5], "orchestrate",
                            json_pack("{s:s, s:s, s:s, s:s}", "action", "disconnect", "activity", "untun-1", "container",
                                      "app1", "ref", "vxlan:4097")),
                     0);
    assert_int_equal(t_call(&e, &e.k[4], "orchestrate",
                            json_pack("{s:s, s:s, s:s, s:s, s:s}", "action", "execute", "activity", "award-1", "contract",
                                      "federation", "method", "close", "on_behalf_of", oh)),
                     0);
    assert_int_equal(t_call(&e, &e.k[4], "orchestrate",
                            json_pack("{s:s, s:s, s:s}", "action", "execute", "activity", "x", "contract", "federation")),
                     EF_EARGS);
    assert_int_equal(t_try_call(&e, &e.stranger, "orchestrate",
                                json_pack("{s:s, s:s, s:s, s:s}", "action", "execute", "activity", "y", "contract",
                                          "federation", "method", "close")),
                     EF_ENOACCOUNT);
    /* the lineage of the container reaches the deployment, its host and the orchestrator */
    json_t *lin = t_q(&e, "lineage/thing:app1");
    assert_non_null(lin);
    char *text = json_dumps(lin, JSON_COMPACT);
    assert_non_null(strstr(text, "act:deploy-svc1"));
    assert_non_null(strstr(text, "thing:edge1"));
    assert_non_null(strstr(text, "act:app1/join/1"));
    assert_non_null(strstr(text, "act:tun-1"));
    assert_non_null(strstr(text, "act:untun-1"));
    char qo[80];
    snprintf(qo, sizeof qo, "acct:%s", oh);
    assert_non_null(strstr(text, qo));
    free(text);
    json_decref(lin);
    json_decref(dep);
    t_env_close(&e);
}

/* ------------------------------------------------------------ lineage, export */

/* sensor -> collector -> analyser, as in the seed's Fig. 2 */
static void t_pipeline(t_env *e)
{
    const ef_pub *own = &e->k[0].pub;
    ef_keypair *gw = &e->k[1], *sens = &e->k[2], *coll = &e->k[3], *anal = &e->k[4];
    assert_int_equal(t_join(e, gw, "gateway", "device", own, &gw->pub, NULL), 0);
    assert_int_equal(t_join(e, sens, "sensor", "container", own, &sens->pub, "gateway"), 0);
    assert_int_equal(t_join(e, coll, "collector", "container", own, &coll->pub, "gateway"), 0);
    assert_int_equal(t_join(e, anal, "analyser", "container", own, &anal->pub, "gateway"), 0);
    assert_int_equal(t_release(e, sens, sens, "reading-1", "sense-1", "sensor", "21.5C", "collect-1"), 0);
    assert_int_equal(t_release(e, sens, sens, "reading-2", "sense-2", "sensor", "21.7C", "collect-1"), 0);
    assert_int_equal(t_use(e, coll, "reading-1", "collect-1", "collector"), 0);
    assert_int_equal(t_use(e, coll, "reading-2", "collect-1", "collector"), 0);
    assert_int_equal(t_release(e, coll, coll, "joint-1", "collect-1", "collector", "21.5C,21.7C", NULL), 0);
    assert_int_equal(t_use(e, anal, "joint-1", "analyse-1", "analyser"), 0);
    assert_int_equal(t_release(e, anal, anal, "result-1", "analyse-1", "analyser", "mean=21.6C", NULL), 0);
}

static int t_count(const json_t *doc, const char *sec)
{
    return (int)json_object_size(json_object_get(doc, sec));
}

static void test_prov_lineage_and_export(void **state)
{
    (void)state;
    t_env e, f;
    t_env_open(&e);
    t_pipeline(&e);
    json_t *lin = t_q(&e, "lineage/data:result-1");
    assert_non_null(lin);
    char *text = json_dumps(lin, JSON_COMPACT);
    /* back through the joint data to both readings, the containers and their host */
    const char *want[] = {"data:joint-1", "data:reading-1", "data:reading-2", "act:analyse-1", "act:collect-1",
                          "act:sense-1", "thing:sensor", "thing:gateway", "act:gateway/join/1"};
    for (size_t i = 0; i < EF_ARRAY_LEN(want); i++)
        if (!strstr(text, want[i])) fail_msg("lineage lacks %s", want[i]);
    free(text);
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(lin, "steps"), i, s) {
        assert_int_equal(strlen(json_string_value(json_object_get(s, "tx"))), 64);
        assert_true(json_integer_value(json_object_get(s, "height")) >= 1);
    }
    /* the lineage export holds exactly the lineage's nodes and steps */
    json_t *ld = t_q(&e, "export/lineage/data:result-1");
    assert_non_null(ld);
    assert_int_equal(t_count(ld, "entity") + t_count(ld, "activity") + t_count(ld, "agent"),
                     (int)json_array_size(json_object_get(lin, "nodes")));
    int rels = 0;
    const char *k;
    json_t *v;
    json_object_foreach(ld, k, v)
        if (strcmp(k, "prefix") && strcmp(k, "entity") && strcmp(k, "activity") && strcmp(k, "agent"))
            rels += (int)json_object_size(v);
    assert_int_equal(rels, (int)json_array_size(json_object_get(lin, "steps")));
    /* a reading's lineage has its users too */
    json_t *rl = t_q(&e, "lineage/data:reading-1");
    text = json_dumps(rl, JSON_COMPACT);
    assert_non_null(strstr(text, "act:collect-1"));
    assert_null(strstr(text, "data:result-1"));
    free(text);
    json_decref(rl);
    char *dot = ef_prov_lineage_dot(lin), *svg = ef_prov_lineage_svg(lin);
    assert_non_null(strstr(dot, "\"data:result-1\" [shape=ellipse"));
    assert_non_null(strstr(svg, "<ellipse class=\"entity\""));
    assert_non_null(strstr(svg, "<polygon class=\"agent\""));
    free(dot);
    free(svg);
    assert_null(t_q(&e, "lineage/data:nothing"));

    /* whole export: the counts are the ledger's */
    json_t *doc = t_q(&e, "export"), *st = t_q(&e, "stats");
    assert_int_equal(t_count(doc, "entity"), json_integer_value(json_object_get(st, "entities")));
    assert_int_equal(t_count(doc, "activity"), json_integer_value(json_object_get(st, "activities")));
    assert_int_equal(t_count(doc, "agent"), json_integer_value(json_object_get(st, "agents")));
    rels = 0;
    json_object_foreach(doc, k, v)
        if (strcmp(k, "prefix") && strcmp(k, "entity") && strcmp(k, "activity") && strcmp(k, "agent"))
            rels += (int)json_object_size(v);
    assert_int_equal(rels, json_integer_value(json_object_get(st, "relations")));
    /* a height range */
    json_t *r = t_q(&e, "export/range/2/4");
    assert_non_null(r);
    /* a range holds exactly the records of its blocks (found by binary search) */
    json_t *all = t_q(&e, "records/0/1000000");
    for (uint64_t from = 0; from < 20; from += 3) {
        char path[64];
        snprintf(path, sizeof path, "records/%llu/%llu", (unsigned long long)from, (unsigned long long)from + 4);
        json_t *part = t_q(&e, path);
        size_t want = 0, k;
        json_t *x;
        json_array_foreach(all, k, x) {
            json_int_t h = json_integer_value(json_object_get(x, "height"));
            if (h >= (json_int_t)from && h <= (json_int_t)from + 4) want++;
        }
        assert_int_equal(json_array_size(part), want);
        json_array_foreach(part, k, x) {
            json_int_t h = json_integer_value(json_object_get(x, "height"));
            assert_true(h >= (json_int_t)from && h <= (json_int_t)from + 4);
        }
        json_decref(part);
    }
    assert_int_equal(json_array_size(all), json_integer_value(json_object_get(st, "records")));
    json_decref(all);
    assert_null(t_q(&e, "export/range/4/2"));
    assert_null(t_q(&e, "export/range/x/2"));

    /* deterministic: the same transactions on another ledger give the same bytes */
    t_env_open(&f);
    t_pipeline(&f);
    json_t *doc2 = t_q(&f, "export");
    char *a = json_dumps(doc, JSON_COMPACT), *b = json_dumps(doc2, JSON_COMPACT);
    assert_string_equal(a, b);
    free(a);
    free(b);
    /* the text the API serves: the same bytes from both ledgers, the same document */
    char *ta, *tb;
    size_t la, lb;
    assert_int_equal(ef_store_query_text(e.s, "prov", "export", &ta, &la), 0);
    assert_int_equal(ef_store_query_text(f.s, "prov", "export", &tb, &lb), 0);
    assert_int_equal(la, lb);
    assert_memory_equal(ta, tb, la);
    json_t *parsed = json_loadb(ta, la, 0, NULL);
    assert_true(json_equal(parsed, doc));
    json_decref(parsed);
    free(ta);
    free(tb);
    assert_int_equal(ef_store_query_text(e.s, "prov", "stats", &ta, &la), EF_ENOMETHOD);
    assert_int_equal(ef_store_query_text(e.s, "bank", "supply", &ta, &la), EF_ENOMETHOD);
    json_decref(doc2);
    json_decref(doc);
    json_decref(st);
    json_decref(r);
    json_decref(ld);
    json_decref(lin);
    t_env_close(&f);
    t_env_close(&e);
}

/* several records of one sender in one block (as under load) */
static void test_prov_many_in_one_block(void **state)
{
    (void)state;
    t_env e;
    t_env_open(&e);
    uint8_t *txs[8];
    size_t lens[8];
    for (int i = 0; i < 8; i++) {
        char args[200];
        snprintf(args, sizeof args, "{\"action\":\"execute\",\"activity\":\"x%d\",\"contract\":\"federation\","
                 "\"method\":\"award\",\"ref\":\"bench/1\"}", i);
        txs[i] = t_tx(&e.k[i % 2], (uint64_t)(i / 2), "prov", "orchestrate", args, &lens[i]);
    }
    assert_int_equal(t_block(e.s, &e.val.pub, txs, lens, 8, 5000), 0);
    for (int i = 0; i < 8; i++) {
        ef_hash h;
        ef_tx_loc loc;
        ef_tx_hash_enc(&h, txs[i], lens[i]);
        assert_int_equal(ef_store_tx_lookup(e.s, &h, &loc), 0);
        free(loc.events_json);
        assert_int_equal(loc.code, 0);
        free(txs[i]);
    }
    assert_int_equal(t_records(&e), 8);
    t_env_close(&e);
}

int main(void)
{
    if (ef_crypto_init()) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prov_table2_things),
        cmocka_unit_test(test_prov_table2_container_host),
        cmocka_unit_test(test_prov_table2_data),
        cmocka_unit_test(test_prov_random_vs_model),
        cmocka_unit_test(test_prov_orchestrate),
        cmocka_unit_test(test_prov_lineage_and_export),
        cmocka_unit_test(test_prov_many_in_one_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
