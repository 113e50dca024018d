/* cmd_bench_slices.c: `edgefed bench slices`: end-to-end slice setup,
 * re-adjustment and decommissioning times through the whole seed 000 loop in
 * one process: the orchestrator (agents/ef_e2eorch.h), two domain slice
 * controls (agents/ef_nsctl.h on ef_slice, ef_slicenet in process mode), two
 * domain ledgers (nslice) and the federation ledger (anchor, e2e), every step
 * a committed, certified block and every part proven on the federation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "agents/ef_e2eorch.h"
#include "agents/ef_nsctl.h"
#include "agents/ef_slice.h"
#include "agents/ef_slicenet.h"
#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "base/ef_fs.h"
#include "base/ef_log.h"
#include "cli/cli.h"
#include "cli/cli_bench.h"
#include "cli/cli_demo.h"
#include "cli/cli_slices_bed.h"
#include "contracts/ef_contracts.h"
#include "contracts/ef_nslice.h"
#include "ledger/ef_cert.h"
#include "ledger/ef_genesis.h"
#include "ledger/ef_ledger.h"
#include "ledger/ef_proof.h"
#include "ledger/ef_store.h"
#include "ledger/ef_tx.h"

#define BS_KEYS 5   /* 0..3 validators (0 the domain admin), 4 the orchestrator */
#define BS_ORCH 4
#define BS_RUNS_MAX 10000

static const char *const bs_usage =
    "usage: edgefed bench slices [--runs N] [--out DIR] [--name NAME]\n"
    "                            [--real [--degrade-runs K] [--process] [--base-port P]]\n"
    "  Runs the seed 000 loop --runs times (default 50) in one process: an\n"
    "  end-to-end slice requested on the federation ledger, split by the\n"
    "  orchestrator into one nslice request per domain, reserved and stitched by\n"
    "  each domain's slice control, recorded on its domain ledger, proven on the\n"
    "  federation (active once both parts are); a degradation of part a, the\n"
    "  re-adjustment made before break and proven; decommissioning proven. Every\n"
    "  step is a block with its validators' certificate; no consensus rounds, no\n"
    "  network, no traffic shaping (process mode): the floor.\n"
    "  --real: then the same loop --runs times on the testbed of `edgefed demo\n"
    "  slices` (real node processes, edgefed nslice controller per domain, edgefed\n"
    "  nslice orchestrator; as root network namespaces with htb, else --process):\n"
    "  setup (e2e.request sent to active on the federation, both proofs claimed),\n"
    "  re-adjustment (e2e.readjust sent to the make-before-break switch proven),\n"
    "  decommissioning; then K times (default 5) with traffic through both parts:\n"
    "  the degradation injected to the rate measured back at target (500 ms epochs,\n"
    "  the orchestrator re-adjusting after 1500 ms below); and the peak RSS of every\n"
    "  node and agent. Prints p50/p90; writes DIR/NAME.json and .md (--out, default\n"
    "  ./bench-out; --name, default slices).\n";

static const char *const bs_topo =
    "{\"nodes\": [{\"name\": \"core\", \"layer\": \"core\"},"
    "{\"name\": \"gw\", \"layer\": \"edge\", \"parent\": \"core\", \"kbps\": 100000, \"latency_us\": 100},"
    "{\"name\": \"cam1\", \"layer\": \"customer\", \"parent\": \"gw\", \"kbps\": 50000, \"latency_us\": 100},"
    "{\"name\": \"srv\", \"layer\": \"server\", \"parent\": \"core\", \"kbps\": 100000, \"latency_us\": 100}]}";

typedef struct bs_chain {
    char dir[600], chain[32];
    ef_store *s;
    ef_keypair kp[BS_KEYS];
    char hex[BS_KEYS][2 * EF_PUB_SIZE + 1];
    uint64_t nonce[BS_KEYS], now_ms;
    ef_hash last_tx;
    char *events;
} bs_chain;

typedef struct bs {
    bs_chain f, d[2];
    const char *dname[2];
    char tmpl[2][65];
    ef_slice_db *db[2];
    ef_slicenet *net[2];
    ef_nsctl *ctl[2];
    ef_e2eorch *orch;
    json_t *queue;
    int fatal;
} bs;

static double bs_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static json_t *bs_hexj(const void *p, size_t n)
{
    char *h = malloc(2 * n + 1);
    if (!h) return NULL;
    ef_hex(h, p, n);
    json_t *j = json_string(h);
    free(h);
    return j;
}

static int bs_open(bs_chain *c, const char *base, const char *chain, uint8_t tag, bool nslice)
{
    memset(c, 0, sizeof *c);
    snprintf(c->dir, sizeof c->dir, "%s/%s", base, chain);
    snprintf(c->chain, sizeof c->chain, "%s", chain);
    if (ef_fs_mkdirs(c->dir, 0755)) return EF_EIO;
    json_t *g = json_pack("{s:s, s:I, s:[], s:[], s:{}}", "chain_id", chain, "time_ms", (json_int_t)1000,
                          "validators", "members", "balances");
    for (int i = 0; i < BS_KEYS; i++) {
        uint8_t seed[EF_SEED_SIZE] = {(uint8_t)(i + 1), tag, 0xb5};
        ef_keypair_from_seed(&c->kp[i], seed);
        ef_hex(c->hex[i], c->kp[i].pub.b, EF_PUB_SIZE);
        char name[16];
        snprintf(name, sizeof name, "n%d", i);
        json_array_append_new(json_object_get(g, i < 4 ? "validators" : "members"),
                              i < 4 ? json_pack("{s:s, s:s}", "pub", c->hex[i], "domain", name)
                                    : json_pack("{s:s, s:s, s:s}", "pub", c->hex[i], "domain", "n0", "name", name));
    }
    if (nslice) json_object_set_new(g, "params", json_pack("{s:{s:s}}", "nslice", "admin", c->hex[0]));
    char *text = json_dumps(g, JSON_COMPACT);
    json_decref(g);
    ef_genesis gen;
    char err[200];
    int rc = text ? ef_genesis_parse(&gen, text, strlen(text), err, sizeof err) : EF_ENOMEM;
    free(text);
    if (rc) return rc;
    rc = ef_store_open(&c->s, c->dir, &(ef_store_opts){EF_CONTRACTS_BUILTIN, .no_sync = true});
    if (rc == 0) rc = ef_store_init_genesis(c->s, &gen);
    ef_genesis_free(&gen);
    c->now_ms = 2000;
    return rc;
}

static void bs_close(bs_chain *c)
{
    free(c->events);
    if (c->s) ef_store_close(c->s);
}

/* One certified block holding contract.method(args) from who. 0 and the
 * result in *code, or an error of the store. */
static int bs_tx(bs_chain *c, int who, const char *contract, const char *method, const json_t *args, int *code)
{
    char *text = json_dumps(args, JSON_COMPACT);
    if (!text) return EF_ENOMEM;
    ef_tx t;
    memset(&t, 0, sizeof t);
    snprintf(t.chain_id, sizeof t.chain_id, "%s", c->chain);
    t.sender = c->kp[who].pub;
    t.nonce = c->nonce[who]++;
    snprintf(t.contract, sizeof t.contract, "%s", contract);
    snprintf(t.method, sizeof t.method, "%s", method);
    t.args = (const uint8_t *)text;
    t.args_len = strlen(text);
    ef_wr w;
    ef_wr_init(&w);
    int rc = t.args_len > EF_TX_ARGS_MAX ? EF_ETOOBIG : ef_tx_sign(&t, &c->kp[who]);
    if (rc == 0) rc = ef_tx_encode(&w, &t);
    free(text);
    if (rc) {
        ef_wr_free(&w);
        return rc;
    }
    ef_tx_hash_enc(&c->last_tx, w.buf, w.len);
    ef_store_info info;
    ef_txbuf cand = {w.buf, w.len};
    int st = 0;
    uint8_t *blk = NULL, *cert = NULL;
    size_t blen, cn;
    ef_cert *ce = NULL;
    ef_vset vs;
    ef_hash bh;
    if ((rc = ef_store_info_get(c->s, &info))) goto out;
    if ((rc = ef_ledger_propose(c->s, &cand, 1, c->now_ms, &c->kp[0].pub, NULL, &st, &blk, &blen))) goto out;
    if (st) {
        rc = st;
        goto out;
    }
    if ((rc = ef_block_hash_enc(&bh, blk, blen)) || (rc = ef_store_vset(c->s, info.height + 1, &vs))) goto out;
    if (!(ce = calloc(1, sizeof *ce))) {
        rc = EF_ENOMEM;
        goto out;
    }
    ce->height = info.height + 1;
    ce->value_id = bh;
    for (uint32_t i = 0; i < vs.len; i++)
        for (int k = 0; k < 4; k++)
            if (!memcmp(c->kp[k].pub.b, vs.v[i].pub.b, EF_PUB_SIZE)) {
                ce->sigs[ce->count].index = (uint16_t)i;
                ef_cert_sign(&ce->sigs[ce->count].sig, &c->kp[k], c->chain, ce->height, 0, &bh);
                ce->count++;
            }
    if ((rc = ef_cert_encode(ce, &cert, &cn))) goto out;
    if ((rc = ef_ledger_commit(c->s, blk, blen, cert, cn))) goto out;
    c->now_ms += 1000;
    ef_tx_loc loc = {0};
    if ((rc = ef_store_tx_lookup(c->s, &c->last_tx, &loc))) goto out;
    free(c->events);
    c->events = loc.events_json;
    *code = loc.code;
out:
    free(ce);
    free(cert);
    free(blk);
    ef_wr_free(&w);
    return rc;
}

/* the hooks: submit, queue the events */
static int bs_submit(bs *b, int src, int who, const char *contract, const char *method, const json_t *args,
                     char err[24])
{
    bs_chain *c = src < 0 ? &b->f : &b->d[src];
    int code = 0, rc = bs_tx(c, who, contract, method, args, &code);
    if (rc) {
        b->fatal = rc;
        snprintf(err, 24, "%s", ef_errname(rc));
        return rc;
    }
    if (code) {
        snprintf(err, 24, "%s", ef_errname(code));
        return code;
    }
    char tx[65];
    ef_hex(tx, c->last_tx.b, EF_HASH_SIZE);
    json_t *evs = json_loads(c->events, 0, NULL), *e;
    size_t i;
    json_array_foreach(evs, i, e) {
        json_object_set_new(e, "src", json_integer(src));
        json_object_set_new(e, "tx", json_string(tx));
        json_array_append(b->queue, e);
    }
    json_decref(evs);
    return 0;
}

static int bs_ctl0(void *a, const char *m, const json_t *x, char e[24]) { return bs_submit(a, 0, 0, "nslice", m, x, e); }
static int bs_ctl1(void *a, const char *m, const json_t *x, char e[24]) { return bs_submit(a, 1, 0, "nslice", m, x, e); }
static int bs_fed(void *a, const char *m, const json_t *x, char e[24]) { return bs_submit(a, -1, BS_ORCH, "e2e", m, x, e); }

static int bs_dom(void *a, const char *domain, const char *m, const json_t *x, char e[24])
{
    bs *b = a;
    return bs_submit(b, strcmp(domain, b->dname[0]) ? 1 : 0, BS_ORCH, "nslice", m, x, e);
}

static int bs_proof(void *a, const char *domain, const char *tx, char **hex)
{
    bs *b = a;
    ef_hash h;
    uint8_t *p;
    size_t n;
    if (ef_unhex(h.b, EF_HASH_SIZE, tx)) return EF_EINVAL;
    int rc = ef_proof_build(b->d[strcmp(domain, b->dname[0]) ? 1 : 0].s, &h, true, &p, &n);
    if (rc) return rc;
    if (!(*hex = malloc(2 * n + 1))) rc = EF_ENOMEM;
    else ef_hex(*hex, p, n);
    free(p);
    return rc;
}

static void bs_pump(bs *b)
{
    while (json_array_size(b->queue)) {
        json_t *e = json_incref(json_array_get(b->queue, 0));
        json_array_remove(b->queue, 0);
        int src = (int)json_integer_value(json_object_get(e, "src"));
        const char *name = json_string_value(json_object_get(e, "name")),
                   *contract = json_string_value(json_object_get(e, "contract"));
        json_t *data = json_object_get(e, "data");
        if (src < 0) ef_e2eorch_on_fed_event(b->orch, name, data);
        else if (contract && !strcmp(contract, "nslice")) {
            ef_nsctl_on_event(b->ctl[src], name, data);
            ef_e2eorch_on_domain_event(b->orch, b->dname[src], name, data,
                                       json_string_value(json_object_get(e, "tx")));
        }
        json_decref(e);
    }
}

static int bs_setup(bs *b, const char *base)
{
    static const char *const chains[2] = {"bench-dom-a", "bench-dom-b"};
    int rc = bs_open(&b->f, base, "bench-fed", 0x10, false), code = 0;
    b->dname[0] = "doma";
    b->dname[1] = "domb";
    for (int i = 0; i < 2 && !rc; i++) {
        if ((rc = bs_open(&b->d[i], base, chains[i], (uint8_t)(0x20 + i), true))) break;
        ef_nslice_template t = {.kbps_min = 1000, .kbps_max = 40000, .max_latency_us = 30000};
        snprintf(t.name, sizeof t.name, "bench");
        ef_wr w;
        ef_wr_init(&w);
        ef_hash id;
        if ((rc = ef_nslice_template_encode(&w, &t))) break;
        ef_nslice_template_id(&id, w.buf, w.len);
        ef_hex(b->tmpl[i], id.b, EF_HASH_SIZE);
        json_t *a = json_pack("{s:o, s:s}", "template", bs_hexj(w.buf, w.len), "id", b->tmpl[i]);
        ef_wr_free(&w);
        rc = bs_tx(&b->d[i], 0, "nslice", "publish", a, &code);
        json_decref(a);
        if (rc || (rc = code)) break;
        ef_store_info info;
        ef_vset vs;
        if ((rc = ef_store_info_get(b->d[i].s, &info)) || (rc = ef_store_vset(b->d[i].s, 1, &vs))) break;
        ef_wr_init(&w);
        if ((rc = ef_vset_encode(&w, &vs))) break;
        a = json_pack("{s:s, s:s, s:o, s:o, s:s}", "name", b->dname[i], "chain_id", info.chain_id, "genesis_hash",
                      bs_hexj(info.genesis_hash.b, EF_HASH_SIZE), "committee", bs_hexj(w.buf, w.len), "admin",
                      b->f.hex[0]);
        ef_wr_free(&w);
        rc = bs_tx(&b->f, 0, "anchor", "register_domain", a, &code);
        json_decref(a);
        if (rc || (rc = code)) break;
        char err[200];
        json_t *topo = json_loads(bs_topo, 0, NULL);
        rc = ef_slice_db_parse(&b->db[i], topo, err, sizeof err);
        json_decref(topo);
        if (rc) break;
        if ((rc = ef_slicenet_open(&b->net[i], b->db[i], &(ef_slicenet_cfg){.mode = "process"}))) break;
        rc = ef_nsctl_open(&b->ctl[i], b->db[i], b->net[i], &(ef_nsctl_cfg){0},
                           &(ef_nsctl_hooks){i ? bs_ctl1 : bs_ctl0, b});
    }
    if (rc) return rc;
    ef_e2eorch_cfg oc = {.domains = {{"doma", b->tmpl[0]}, {"domb", b->tmpl[1]}}, .ndomains = 2, .degrade_ms = 500};
    return ef_e2eorch_open(&b->orch, &oc, &(ef_e2eorch_hooks){.fed_submit = bs_fed, .dom_submit = bs_dom, .proof = bs_proof, .arg = b});
}

static void bs_teardown(bs *b)
{
    ef_e2eorch_close(b->orch);
    for (int i = 0; i < 2; i++) {
        ef_nsctl_close(b->ctl[i]);
        ef_slicenet_close(b->net[i]);
        ef_slice_db_free(b->db[i]);
        bs_close(&b->d[i]);
    }
    bs_close(&b->f);
    json_decref(b->queue);
}

/* the slice's state on the federation ("" if none) */
static void bs_state(bs *b, const char *id, char out[32], uint64_t *readj)
{
    char path[64];
    json_t *j = NULL;
    snprintf(path, sizeof path, "slice/%s", id);
    out[0] = 0;
    *readj = 0;
    if (ef_store_query(b->f.s, "e2e", path, &j)) return;
    snprintf(out, 32, "%s", json_string_value(json_object_get(j, "state")) ? json_string_value(json_object_get(j, "state")) : "");
    *readj = (uint64_t)json_integer_value(json_object_get(j, "readjustments"));
    json_decref(j);
}

static int bs_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double bs_pct(double *v, int n, double p)
{
    qsort(v, (size_t)n, sizeof *v, bs_cmp);
    int i = (int)(p * n + 0.999999) - 1;
    return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}


/* ---- on real processes: the testbed of demo slices ---- */

static bool bs_state_is(const json_t *rec, void *arg)
{
    return !strcmp(json_string_value(json_object_get(rec, "state")) ?: "", (const char *)arg);
}

static bool bs_readjusted(const json_t *rec, void *arg)
{
    (void)arg;
    return json_integer_value(json_object_get(rec, "readjustments")) >= 1;
}

typedef struct bs_real {
    double s50, s90, r50, r90, d50, d90, g50, g90, gmax;
    int runs, degrade_runs, degrade_ok;
    bool netns;
    long node_kb[3], ctl_kb[2], orch_kb;
    json_t *setup, *readj, *restore;   /* the samples, ms */
    char svg[EF_BENCH_PATH_MAX];        /* the CDFs' file, or "" */
} bs_real;

/* One degradation on slice id with traffic: from the injection to the end of
 * the first epoch measured back at target on both parts, in ms (<0: failed). */
static double bs_degrade_once(ef_slices_bed *b, const char *id)
{
    ef_slices_traffic tr;
    const uint64_t ep = 500, kbps = 5000;
    uint64_t start = ef_now_wall_ms() + 600;
    double took = -1;
    /* process mode: nothing is enforced; the sender's emulated fault stands in */
    if (ef_slices_bed_traffic(b, &tr, id, 5250, 400, start, ep, 60, b->netns ? NULL : "3,4,5,6,7,8,9")) return -1;
    int64_t ka = 0, kb = 0;
    if (ef_slices_traffic_rates(&tr, 1, 5000, &ka, &kb) || ka < (int64_t)kbps || kb < (int64_t)kbps) goto out;
    while (ef_now_wall_ms() < start + 3 * ep) usleep(5000);
    uint64_t t_deg = ef_now_wall_ms();
    if (b->netns && ef_slices_bed_squeeze(b, 2000)) goto out;
    if (ef_slices_bed_wait(b, id, bs_readjusted, NULL, 20000, NULL)) goto out;
    uint64_t t_adj = ef_now_wall_ms();
    for (uint64_t e = ef_slices_traffic_epoch(&tr, b->netns ? t_adj : start + 10 * ep) + 1; e < 60; e++) {
        if (ef_slices_traffic_rates(&tr, e, 4000, &ka, &kb)) break;
        if (ka >= (int64_t)kbps && kb >= (int64_t)kbps) {
            took = (double)(start + (e + 1) * ep - t_deg);
            break;
        }
    }
out:
    ef_slices_traffic_stop(&tr);
    if (b->netns) (void)ef_slices_bed_squeeze(b, EF_BED_LINK_KBPS);   /* the link as it was */
    return took;
}

static int bs_real_run(bs_real *r, int runs, int degrade_runs, bool netns, unsigned port)
{
    char dir[PATH_MAX - 256], exe[PATH_MAX];
    static ef_slices_bed bed;
    ef_slices_bed *b = &bed;
    double *setup = calloc((size_t)runs, sizeof *setup), *readj = calloc((size_t)runs, sizeof *readj),
           *decom = calloc((size_t)runs, sizeof *decom), *rest = calloc((size_t)degrade_runs + 1, sizeof *rest);
    int rc = setup && readj && decom && rest ? 0 : EF_ENOMEM;
    char svg[EF_BENCH_PATH_MAX];
    memcpy(svg, r->svg, sizeof svg);
    memset(r, 0, sizeof *r);
    memcpy(r->svg, svg, sizeof svg);
    r->runs = runs;
    r->degrade_runs = degrade_runs;
    r->netns = netns;
    r->setup = json_array();
    r->readj = json_array();
    r->restore = json_array();
    if (rc || ef_demo_workdir(NULL, "bench-slices", dir, sizeof dir, exe, sizeof exe)) {
        rc = rc ? rc : EF_EIO;
        goto out;
    }
    if (!port) port = 20000 + (unsigned)(getpid() % 90) * 130 + 70;
    if (ef_slices_bed_up(b, dir, exe, port, netns)) {
        rc = EF_EIO;
        goto out;
    }
    printf("bench slices --real: testbed up in %s (%s)\n", dir,
           netns ? "network namespaces, htb" : "PROCESS MODE: nothing enforced");
    fflush(stdout);
    for (int i = 0; i < runs && !rc; i++) {
        char id[32];
        snprintf(id, sizeof id, "bench-%d", i);
        double t0 = bs_now_ms();
        if ((rc = ef_slices_bed_request(b, id, 5000)) ||
            (rc = ef_slices_bed_wait(b, id, bs_state_is, "active", 30000, NULL)))
            break;
        setup[i] = bs_now_ms() - t0;
        t0 = bs_now_ms();
        if ((rc = ef_slices_bed_owner_call(b, "readjust", id, ",\"part\":\"a\",\"reason\":\"bench\"")) ||
            (rc = ef_slices_bed_wait(b, id, bs_readjusted, NULL, 30000, NULL)))
            break;
        readj[i] = bs_now_ms() - t0;
        t0 = bs_now_ms();
        if ((rc = ef_slices_bed_owner_call(b, "decommission", id, "")) ||
            (rc = ef_slices_bed_wait(b, id, bs_state_is, "decommissioned", 30000, NULL)))
            break;
        decom[i] = bs_now_ms() - t0;
        json_array_append_new(r->setup, json_real(setup[i]));
        json_array_append_new(r->readj, json_real(readj[i]));
    }
    if (rc) {
        fprintf(stderr, "bench slices --real: a run failed: %s (files in %s)\n", ef_strerror(rc), dir);
        goto down;
    }
    r->s50 = bs_pct(setup, runs, 0.5);
    r->s90 = bs_pct(setup, runs, 0.9);
    r->r50 = bs_pct(readj, runs, 0.5);
    r->r90 = bs_pct(readj, runs, 0.9);
    r->d50 = bs_pct(decom, runs, 0.5);
    r->d90 = bs_pct(decom, runs, 0.9);
    if (r->svg[0]) {   /* sorted by bs_pct */
        double *series[3] = {setup, readj, decom};
        size_t n[3] = {(size_t)runs, (size_t)runs, (size_t)runs};
        static const char *const label[3] = {"setup (request to active)", "re-adjustment (request to proven)",
                                             "decommissioning"};
        ef_bench_cdf_svg(r->svg, series, n, label, 3, "ms, real processes: request sent to the step proven on the "
                                                     "federation");
    }
    for (int i = 0; i < degrade_runs; i++) {
        char id[32];
        snprintf(id, sizeof id, "bdeg-%d", i);
        if (ef_slices_bed_request(b, id, 5000) || ef_slices_bed_wait(b, id, bs_state_is, "active", 30000, NULL)) {
            rc = EF_ESTATE;
            break;
        }
        double took = bs_degrade_once(b, id);
        if (took >= 0) {
            rest[r->degrade_ok++] = took;
            json_array_append_new(r->restore, json_real(took));
        } else {
            fprintf(stderr, "bench slices --real: degradation %d: the rate was not restored\n", i);
        }
        if (ef_slices_bed_owner_call(b, "decommission", id, "") ||
            ef_slices_bed_wait(b, id, bs_state_is, "decommissioned", 30000, NULL)) {
            rc = EF_ESTATE;
            break;
        }
    }
    if (r->degrade_ok) {
        r->g50 = bs_pct(rest, r->degrade_ok, 0.5);
        r->g90 = bs_pct(rest, r->degrade_ok, 0.9);
        r->gmax = rest[r->degrade_ok - 1];
    }
    for (int i = 0; i < 3; i++)
        for (size_t k = 0; k < b->net[i].n; k++) {
            long kb = ef_demo_node_hwm_kb(b->net[i].nodes[k].home);
            if (kb > r->node_kb[i]) r->node_kb[i] = kb;
        }
down:
    ef_slices_bed_down(b, false);
    r->ctl_kb[0] = b->ctl_hwm[0];
    r->ctl_kb[1] = b->ctl_hwm[1];
    r->orch_kb = b->orch_hwm;
    if (rc == 0 && ef_fs_remove_tree(dir)) fprintf(stderr, "bench slices --real: cannot remove %s\n", dir);
out:
    free(setup);
    free(readj);
    free(decom);
    free(rest);
    return rc;
}

int ef_bench_slices(int argc, char **argv)
{
    static const char *const opts[] = {"runs=", "out=", "name=", "real", "degrade-runs=", "process", "base-port=",
                                       NULL};
    int checked = ef_cli_check(argc, argv, bs_usage, opts, 0);
    if (checked >= 0) return checked;
    int runs = atoi(ef_cli_opt(argc, argv, "runs", "50"));
    int degrade_runs = atoi(ef_cli_opt(argc, argv, "degrade-runs", "5"));
    unsigned port = (unsigned)atoi(ef_cli_opt(argc, argv, "base-port", "0"));
    const char *out = ef_cli_opt(argc, argv, "out", "bench-out"), *name = ef_cli_opt(argc, argv, "name", "slices");
    bool real = ef_cli_flag(argc, argv, "real");
    if (runs < 1 || runs > BS_RUNS_MAX) {
        fprintf(stderr, "bench slices: --runs wants 1..%d\n", BS_RUNS_MAX);
        fputs(bs_usage, stderr);
        return 2;
    }
    if (degrade_runs < 1 || degrade_runs > 100 || (port && (port < 1024 || port > 65000)) || !name[0] ||
        strlen(name) > 64 || strchr(name, '/') ||
        (!real && (ef_cli_opt(argc, argv, "degrade-runs", NULL) || ef_cli_flag(argc, argv, "process") || port))) {
        fprintf(stderr, "bench slices: --degrade-runs wants 1..100, --base-port 1024..65000 (both with --real), "
                        "--name a file name\n");
        fputs(bs_usage, stderr);
        return 2;
    }
    if (ef_crypto_init()) return 1;
    char base[64];
    snprintf(base, sizeof base, "/tmp/edgefed-bench-slices-XXXXXX");
    if (!mkdtemp(base)) {
        perror("bench slices: mkdtemp");
        return 1;
    }
    bs *b = calloc(1, sizeof *b);
    double *setup = calloc((size_t)runs, sizeof *setup), *readj = calloc((size_t)runs, sizeof *readj),
           *decom = calloc((size_t)runs, sizeof *decom);
    int rc = b && setup && readj && decom ? 0 : EF_ENOMEM;
    if (rc == 0) {
        b->queue = json_array();
        rc = bs_setup(b, base);
    }
    printf("bench slices: %d runs; in one process: federation + 2 domain ledgers (4 validators each, certified\n"
           "blocks, no consensus rounds, no network), process-mode enforcement (nothing shaped)\n",
           runs);
    for (int r = 0; r < runs && rc == 0; r++) {
        char id[32], st[32], err[24];
        uint64_t nr;
        snprintf(id, sizeof id, "bench-%d", r);
        json_t *rq = json_pack("{s:s, s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s}, s:I, s:I}", "id", id, "a", "domain",
                               "doma", "ap", "cam1", "dst", "gw", "owner", b->d[0].hex[BS_ORCH], "b", "domain", "domb", "ap", "gw", "dst", "srv", "owner", b->d[1].hex[BS_ORCH],
                               "kbps", (json_int_t)4000, "max_latency_us", (json_int_t)50000);
        double t0 = bs_now_ms();
        rc = bs_submit(b, -1, BS_ORCH, "e2e", "request", rq, err);
        json_decref(rq);
        if (rc) break;
        bs_pump(b);
        setup[r] = bs_now_ms() - t0;
        bs_state(b, id, st, &nr);
        if (b->fatal || strcmp(st, "active")) {
            fprintf(stderr, "bench slices: run %d: slice %s after setup\n", r, st);
            rc = b->fatal ? b->fatal : EF_ESTATE;
            break;
        }
        uint64_t now = 1000000 * (uint64_t)(r + 1);
        ef_e2eorch_rate(b->orch, id, 0, 3000, now);
        t0 = bs_now_ms();
        ef_e2eorch_rate(b->orch, id, 0, 3000, now + 500);
        bs_pump(b);
        readj[r] = bs_now_ms() - t0;
        bs_state(b, id, st, &nr);
        if (b->fatal || nr != 1) {
            fprintf(stderr, "bench slices: run %d: %llu re-adjustments proven\n", r, (unsigned long long)nr);
            rc = b->fatal ? b->fatal : EF_ESTATE;
            break;
        }
        json_t *dc = json_pack("{s:s}", "id", id);
        t0 = bs_now_ms();
        rc = bs_submit(b, -1, BS_ORCH, "e2e", "decommission", dc, err);
        json_decref(dc);
        if (rc) break;
        bs_pump(b);
        decom[r] = bs_now_ms() - t0;
        bs_state(b, id, st, &nr);
        if (b->fatal || strcmp(st, "decommissioned")) {
            fprintf(stderr, "bench slices: run %d: slice %s after decommissioning\n", r, st);
            rc = b->fatal ? b->fatal : EF_ESTATE;
        }
    }
    if (b && b->queue) bs_teardown(b);
    if (ef_fs_remove_tree(base)) fprintf(stderr, "bench slices: cannot remove %s\n", base);
    int ret = 1;
    if (rc) {
        fprintf(stderr, "bench slices: failed: %s\n", ef_strerror(rc));
    } else {
        double s50 = bs_pct(setup, runs, 0.5), s90 = bs_pct(setup, runs, 0.9), r50 = bs_pct(readj, runs, 0.5),
               r90 = bs_pct(readj, runs, 0.9), d50 = bs_pct(decom, runs, 0.5), d90 = bs_pct(decom, runs, 0.9);
        printf("  setup (request to active on the federation, 2 proofs)   p50 %7.2f ms  p90 %7.2f ms  (aim p90 <= 300)\n"
               "  re-adjustment (degradation seen to proven, make-before-break) p50 %7.2f ms  p90 %7.2f ms  (aim p90 <= 300)\n"
               "  decommissioning (request to proven on both parts)       p50 %7.2f ms  p90 %7.2f ms\n",
               s50, s90, r50, r90, d50, d90);
        json_t *doc = json_pack("{s:s, s:i, s:{s:f, s:f}, s:{s:f, s:f}, s:{s:f, s:f}, s:s}", "bench", "slices", "runs",
                                runs, "setup_ms", "p50", s50, "p90", s90, "readjust_ms", "p50", r50, "p90", r90,
                                "decommission_ms", "p50", d50, "p90", d90, "setting",
                                "one process, certified blocks without consensus rounds, no network, "
                                "process-mode enforcement");
        ret = 0;
        bs_real rr;
        memset(&rr, 0, sizeof rr);
        if (real) {
            bool netns = !ef_cli_flag(argc, argv, "process") && ef_demo_can_netns();
            if (ef_bench_mkdir(out)) ret = 1;
            snprintf(rr.svg, sizeof rr.svg, "%.500s/%.64s-cdf.svg", out, name);
            if (ret || bs_real_run(&rr, runs, degrade_runs, netns, port)) ret = 1;
            else {
                printf("  real processes (%s):\n"
                       "  setup (e2e.request to active on the federation, 2 proofs) p50 %7.1f ms  p90 %7.1f ms  (aim p90 <= 300)\n"
                       "  re-adjustment (e2e.readjust to the switch proven)       p50 %7.1f ms  p90 %7.1f ms  (aim p90 <= 300)\n"
                       "  decommissioning (request to both parts proven)          p50 %7.1f ms  p90 %7.1f ms\n"
                       "  degradation to restored rate (%d of %d runs)             p50 %7.0f ms  p90 %7.0f ms\n"
                       "  peak RSS: domain nodes %.1f / %.1f MB, federation nodes %.1f MB, slice controls %.1f / %.1f MB, "
                       "orchestrator %.1f MB\n",
                       rr.netns ? "network namespaces, htb" : "PROCESS MODE: nothing enforced", rr.s50, rr.s90, rr.r50,
                       rr.r90, rr.d50, rr.d90, rr.degrade_ok, rr.degrade_runs, rr.g50, rr.g90, rr.node_kb[0] / 1024.0,
                       rr.node_kb[1] / 1024.0, rr.node_kb[2] / 1024.0, rr.ctl_kb[0] / 1024.0, rr.ctl_kb[1] / 1024.0,
                       rr.orch_kb / 1024.0);
                json_object_set_new(
                    doc, "real",
                    json_pack("{s:s, s:i, s:{s:f, s:f, s:o}, s:{s:f, s:f, s:o}, s:{s:f, s:f}, s:{s:i, s:i, s:f, s:f, "
                              "s:f, s:o}, s:{s:f, s:f, s:f, s:f, s:f, s:f}}",
                              "setting",
                              rr.netns ? "real node processes (1 validator + 1 observer per domain, 2 validators + 1 "
                                         "observer on the federation, 100 ms empty blocks), edgefed nslice controller "
                                         "per domain in network namespaces with htb, edgefed nslice orchestrator"
                                       : "real node processes, agents in process mode (nothing enforced)",
                              "runs", runs, "setup_ms", "p50", rr.s50, "p90", rr.s90, "samples", json_incref(rr.setup),
                              "readjust_ms", "p50", rr.r50, "p90", rr.r90, "samples", json_incref(rr.readj),
                              "decommission_ms", "p50", rr.d50, "p90", rr.d90, "degradation_to_restored_ms", "runs",
                              rr.degrade_runs, "restored", rr.degrade_ok, "p50", rr.g50, "p90", rr.g90, "max", rr.gmax,
                              "samples", json_incref(rr.restore), "peak_rss_mb", "domain_a_node",
                              rr.node_kb[0] / 1024.0, "domain_b_node", rr.node_kb[1] / 1024.0, "federation_node",
                              rr.node_kb[2] / 1024.0, "controller_a", rr.ctl_kb[0] / 1024.0, "controller_b",
                              rr.ctl_kb[1] / 1024.0, "orchestrator", rr.orch_kb / 1024.0));
            }
        }
        if (ret == 0 && (ef_bench_mkdir(out) || ef_bench_write_json(out, name, doc))) ret = 1;
        FILE *md = ret ? NULL : ef_bench_open(out, name, "md");
        if (md) {
            fprintf(md, "# bench slices (%d runs)\n\n## In one process (the floor)\n\n| step | p50 ms | p90 ms | aim p90 |\n|---|---|---|---|\n"
                        "| setup | %.2f | %.2f | 300 |\n| re-adjustment | %.2f | %.2f | 300 |\n"
                        "| decommissioning | %.2f | %.2f | |\n\nCertified blocks without consensus rounds, no network, "
                        "process-mode enforcement (nothing shaped): a floor, not the figure of a deployment.\n",
                    runs, s50, s90, r50, r90, d50, d90);
            if (real)
                fprintf(md, "\n## Real processes (%s)\n\n| step | p50 ms | p90 ms | aim p90 |\n|---|---|---|---|\n"
                            "| setup (e2e.request sent to active on the federation, both proofs claimed) | %.1f | %.1f | 300 |\n"
                            "| re-adjustment (e2e.readjust sent to the make-before-break switch proven) | %.1f | %.1f | 300 |\n"
                            "| decommissioning (request to both parts proven) | %.1f | %.1f | |\n"
                            "| degradation injected to the rate measured back at target (%d of %d runs; 500 ms epochs, "
                            "re-adjusted after 1500 ms below) | %.0f | %.0f | |\n\n"
                            "| peak RSS | MB |\n|---|---|\n| domain a node (highest) | %.1f |\n| domain b node | %.1f |\n"
                            "| federation node | %.1f |\n| slice control a | %.1f |\n| slice control b | %.1f |\n"
                            "| orchestrator | %.1f |\n\nCDFs of the three: %s-cdf.svg\n",
                        rr.netns ? "network namespaces, htb" : "process mode: nothing enforced", rr.s50, rr.s90, rr.r50,
                        rr.r90, rr.d50, rr.d90, rr.degrade_ok, rr.degrade_runs, rr.g50, rr.g90, rr.node_kb[0] / 1024.0,
                        rr.node_kb[1] / 1024.0, rr.node_kb[2] / 1024.0, rr.ctl_kb[0] / 1024.0, rr.ctl_kb[1] / 1024.0,
                        rr.orch_kb / 1024.0, name);
            fclose(md);
        } else {
            ret = 1;
        }
        json_decref(rr.setup);
        json_decref(rr.readj);
        json_decref(rr.restore);
        json_decref(doc);
    }
    free(setup);
    free(readj);
    free(decom);
    free(b);
    return ret;
}
