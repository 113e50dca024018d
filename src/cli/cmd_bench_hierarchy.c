/* cmd_bench_hierarchy.c: `edgefed bench hierarchy`: the paper's Table II (seed
 * 000) for a domain ledger: a committee of 4 devices, elected and rotated by the
 * committee contract while the benchmark runs. Query latency, record latency
 * (submitted to committed) p50/p99, transactions per second, CPU and peak RSS
 * per node, side by side with the paper's figures. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "agents/ef_proc.h"
#include "api/ef_client.h"
#include "base/ef_codec.h"
#include "base/ef_fs.h"
#include "cli/cli.h"
#include "cli/cli_bench.h"
#include "cli/cli_market.h"
#include "cli/cli_testnet.h"
#include "ledger/ef_tx.h"

#define BH_NODES 4
#define BH_ACCOUNTS_MAX 200
#define BH_RSS_LIMIT_KB (32 * 1024)
#define BH_SUBMITTERS BH_NODES   /* burst threads, one per node's API */

/* The paper's Table II (Tendermint domain ledger vs PoW Ethereum) and text. */
#define BH_PAPER_QUERY_MS 18.0
#define BH_PAPER_RECORD_MS 1600.0
#define BH_PAPER_TPS 625.0
#define BH_PAPER_POW_QUERY_MS 110.0
#define BH_PAPER_POW_RECORD_MS 4500.0
#define BH_PAPER_POW_TPS 127.0
#define BH_PAPER_RSS_MB 80.0
#define BH_PAPER_CPU_CORES 0.33

static const char *const bh_usage =
    "usage: edgefed bench hierarchy [--queries N] [--records N] [--burst N] [--accounts K]\n"
    "                               [--epoch-heights L] [--base-port P] [--dir DIR] [--out DIR]\n"
    "  Starts a domain ledger of 4 device processes whose committee of 4 the committee\n"
    "  contract elects every L heights (default 40; rotations happen during the run), then:\n"
    "  --queries (default 1000) state reads (GET /accounts/{key}) one after another, p50/p99;\n"
    "  --records (default 200) transfers one after another, each timed from submission to\n"
    "  its commit (p50/p99); --burst (default 4000) transfers from K (default 100, <= 200)\n"
    "  accounts submitted at once (transactions per second until the last commits), with\n"
    "  each node's CPU over the burst; every node's peak RSS (limit 32 MB). Writes\n"
    "  DIR/hierarchy.json and hierarchy.md (--out, default ./bench-out) with the paper's\n"
    "  Table II beside.\n";

static double bh_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int bh_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double bh_pct(double *v, size_t n, double p)
{
    qsort(v, n, sizeof *v, bh_cmp);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

typedef struct bh {
    char net[PATH_MAX + 8];
    char api[96];
    char apis[BH_NODES][96];
    char chain[64];
    char dev_pub[2 * EF_PUB_SIZE + 1];
    ef_client *cl;
    long pid[BH_NODES];
} bh;

static long bh_pid(const char *net, int i)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/v%d/node.pid", net, i);
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1) pid = 0;
        fclose(f);
    }
    return pid;
}

/* utime + stime of pid in clock ticks; -1 if unreadable. */
static long bh_cpu_ticks(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    unsigned long ut = 0, st = 0;
    /* fields after the command: state(3) ... utime(14) stime(15) */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) return -1;
    return (long)(ut + st);
}

static long bh_rss_peak_kb(long pid)
{
    char path[64], line[128];
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    long kb = 0, v;
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &v) == 1) kb = v;
    fclose(f);
    return kb;
}

static uint8_t *bh_transfer(bh *b, const ef_keypair *kp, uint64_t nonce, size_t *len)
{
    char args[160];
    snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":1}", b->dev_pub);
    ef_tx tx;
    memset(&tx, 0, sizeof tx);
    snprintf(tx.chain_id, sizeof tx.chain_id, "%.32s", b->chain);
    tx.sender = kp->pub;
    tx.nonce = nonce;
    snprintf(tx.contract, sizeof tx.contract, "bank");
    snprintf(tx.method, sizeof tx.method, "transfer");
    tx.args = (const uint8_t *)args;
    tx.args_len = strlen(args);
    if (ef_tx_sign(&tx, kp)) return NULL;
    ef_wr w;
    ef_wr_init(&w);
    uint8_t *enc = ef_tx_encode(&w, &tx) ? NULL : ef_wr_take(&w, len);
    ef_wr_free(&w);
    return enc;
}

static uint64_t bh_nonce(bh *b, const ef_pub *pub)
{
    char path[128], hex[2 * EF_PUB_SIZE + 1];
    json_t *j;
    ef_hex(hex, pub->b, EF_PUB_SIZE);
    snprintf(path, sizeof path, "/accounts/%s", hex);
    if (ef_cli_get(b->api, path, &j)) return 0;
    uint64_t n = (uint64_t)json_integer_value(json_object_get(j, "nonce"));
    json_decref(j);
    return n;
}

static json_t *bh_committee(bh *b)
{
    json_t *j = NULL;
    (void)ef_cli_get(b->api, "/state/committee/current", &j);
    return j;
}

/* One burst thread: submits its share of the pre-signed transactions to one node. */
typedef struct bh_sub {
    const char *api;
    uint8_t **enc;
    size_t *len;
    size_t n;
    int rc;
} bh_sub;

static void *bh_sub_run(void *arg)
{
    bh_sub *w = arg;
    ef_client *cl = NULL;
    w->rc = ef_client_new(&cl, w->api, NULL, 30000);
    for (size_t i = 0; i < w->n && !w->rc; i++) {
        long status = 0;
        json_t *r = NULL;
        int rc = ef_client_submit(cl, w->enc[i], w->len[i], false, 0, &status, &r);
        json_decref(r);
        if (rc || (status != 202 && status != 200)) {
            fprintf(stderr, "bench hierarchy: burst submit failed (%s, HTTP %ld)\n", ef_strerror(rc), status);
            w->rc = rc ? rc : EF_EPROTO;
        }
    }
    if (cl) ef_client_free(cl);
    return NULL;
}

int ef_bench_hierarchy(int argc, char **argv)
{
    static const char *const spec[] = {"queries=", "records=", "burst=", "accounts=", "epoch-heights=",
                                       "base-port=", "dir=", "out=", NULL};
    int checked = ef_cli_check(argc, argv, bh_usage, spec, 0);
    if (checked >= 0) return checked;
    long nq = atol(ef_cli_opt(argc, argv, "queries", "1000"));
    long nrec = atol(ef_cli_opt(argc, argv, "records", "200"));
    long burst = atol(ef_cli_opt(argc, argv, "burst", "4000"));
    long nacc = atol(ef_cli_opt(argc, argv, "accounts", "100"));
    long epoch_h = atol(ef_cli_opt(argc, argv, "epoch-heights", "40"));
    unsigned port = (unsigned)atoi(ef_cli_opt(argc, argv, "base-port", "0"));
    const char *out = ef_cli_opt(argc, argv, "out", "bench-out");
    const char *dir_opt = ef_cli_opt(argc, argv, "dir", NULL);
    if (nq < 2 || nrec < 2 || burst < 1 || nacc < 2 || nacc > BH_ACCOUNTS_MAX || epoch_h < 4 || epoch_h > 1000000 ||
        burst / (nacc - 1) + 1 > 64 || (port && (port < 1024 || port > 65000))) {
        fprintf(stderr, "edgefed bench hierarchy: bad options (a burst needs at most 64 transactions per "
                        "account: --burst <= 64 x (--accounts - 1))\n");
        fputs(bh_usage, stderr);
        return 2;
    }
    if (!port) port = 20000 + (unsigned)(getpid() % 120) * 40;
    char dir[PATH_MAX], exe[PATH_MAX], path[PATH_MAX + 64], log[PATH_MAX + 16];
    if (dir_opt) snprintf(dir, sizeof dir, "%s", dir_opt);
    else {
        snprintf(dir, sizeof dir, "/tmp/edgefed-bench-hierarchy-XXXXXX");
        if (!mkdtemp(dir)) return 1;
    }
    ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (el <= 0) return 1;
    exe[el] = 0;
    bh *b = calloc(1, sizeof *b);
    double *lat = calloc((size_t)(nq > nrec ? nq : nrec), sizeof *lat);
    ef_keypair *acc = calloc((size_t)nacc, sizeof *acc);
    json_t *doc = json_object(), *tn = NULL, *c0 = NULL, *c1 = NULL;
    int ret = 1;
    bool burst_ok = false;
    char ports[24], accs[24], eh[24];
    if (!b || !lat || !acc || !doc) goto out;
    snprintf(b->net, sizeof b->net, "%s/net", dir);
    snprintf(log, sizeof log, "%s/commands.log", dir);
    snprintf(ports, sizeof ports, "%u", port);
    snprintf(accs, sizeof accs, "%ld", nacc);
    snprintf(eh, sizeof eh, "%ld", epoch_h);
    if (ef_fs_mkdirs(dir, 0700) ||
        ef_proc_cmd_log(log, exe, "testnet", "init", "--dir", b->net, "--committee", "4", "--devices", "4",
                        "--epoch-heights", eh, "--base-port", ports, "--accounts", accs, NULL) ||
        ef_proc_cmd_log(log, exe, "testnet", "up", "--dir", b->net, NULL))
        goto out;
    snprintf(path, sizeof path, "%s/testnet.json", b->net);
    if (!(tn = json_load_file(path, 0, NULL))) goto out;
    json_t *n0 = json_array_get(json_object_get(tn, "nodes"), 0);
    for (int i = 0; i < BH_NODES; i++)
        snprintf(b->apis[i], sizeof b->apis[i], "http://%s",
                 json_string_value(json_object_get(json_array_get(json_object_get(tn, "nodes"), (size_t)i), "http")));
    snprintf(b->api, sizeof b->api, "http://%s", json_string_value(json_object_get(n0, "http")));
    snprintf(b->dev_pub, sizeof b->dev_pub, "%s", json_string_value(json_object_get(n0, "pub")));
    for (int i = 0; i < BH_NODES; i++) b->pid[i] = bh_pid(b->net, i);
    for (long i = 0; i < nacc; i++) ef_load_key(&acc[i], (unsigned)i);
    json_t *st = NULL;
    for (int i = 0; i < 100 && ef_cli_get(b->api, "/status", &st); i++) usleep(100000);
    if (!st) goto out;
    snprintf(b->chain, sizeof b->chain, "%s", json_string_value(json_object_get(st, "chain_id")));
    json_decref(st);
    if (ef_client_new(&b->cl, b->api, NULL, 30000)) goto out;
    c0 = bh_committee(b);
    printf("bench hierarchy: domain ledger of 4 devices up (%s), committee epoch %lld\n", b->api,
           json_integer_value(json_object_get(c0, "epoch")));
    fflush(stdout);

    /* queries: a state read each */
    char target[128];
    snprintf(target, sizeof target, "/accounts/%s", b->dev_pub);
    for (long i = 0; i < nq; i++) {
        long status = 0;
        char *resp = NULL;
        size_t rl;
        double t0 = bh_now_ms();
        int rc = ef_client_request(b->cl, "GET", target, NULL, NULL, 0, &status, &resp, &rl);
        lat[i] = bh_now_ms() - t0;
        free(resp);
        if (rc || status != 200) {
            fprintf(stderr, "bench hierarchy: query failed (%s, HTTP %ld)\n", ef_strerror(rc), status);
            goto out;
        }
    }
    double q50 = bh_pct(lat, (size_t)nq, 0.5), q99 = bh_pct(lat, (size_t)nq, 0.99);
    printf("query: p50 %.2f ms, p99 %.2f ms (%ld reads)\n", q50, q99, nq);
    fflush(stdout);

    /* records: one transfer at a time, submitted to committed */
    for (long i = 0; i < nrec; i++) {
        size_t len;
        uint8_t *enc = bh_transfer(b, &acc[0], (uint64_t)i, &len);
        long status = 0;
        json_t *r = NULL;
        double t0 = bh_now_ms();
        int rc = enc ? ef_client_submit(b->cl, enc, len, true, 30000, &status, &r) : EF_ENOMEM;
        lat[i] = bh_now_ms() - t0;
        const char *code = json_string_value(json_object_get(r, "code"));
        bool ok = rc == 0 && status == 200 && code && !strcmp(code, "OK");
        json_decref(r);
        free(enc);
        if (!ok) {
            fprintf(stderr, "bench hierarchy: record %ld failed (%s, HTTP %ld, %s)\n", i, ef_strerror(rc), status,
                    code ? code : "-");
            goto out;
        }
    }
    double r50 = bh_pct(lat, (size_t)nrec, 0.5), r99 = bh_pct(lat, (size_t)nrec, 0.99);
    printf("record: p50 %.2f ms, p99 %.2f ms (%ld transfers, submitted to committed)\n", r50, r99, nrec);
    fflush(stdout);

    /* burst: accounts 1.. submit at once; rate until the last commits */
    /* the transactions signed first; account a goes to thread a % BH_SUBMITTERS,
     * so each sender's nonces arrive in order at one node */
    long sent = 0, cnt[BH_ACCOUNTS_MAX] = {0}, cpu0[BH_NODES];
    double t0 = 0, t_sub = 0, t_all = 0;
    bh_sub subs[BH_SUBMITTERS];
    memset(subs, 0, sizeof subs);
    for (int t = 0; t < BH_SUBMITTERS; t++) {
        subs[t].api = b->apis[t];
        subs[t].enc = calloc((size_t)burst, sizeof *subs[t].enc);
        subs[t].len = calloc((size_t)burst, sizeof *subs[t].len);
        if (!subs[t].enc || !subs[t].len) goto burst_out;
    }
    for (long a = 1; sent < burst; a = a + 1 < nacc ? a + 1 : 1) {
        bh_sub *w = &subs[a % BH_SUBMITTERS];
        if (!(w->enc[w->n] = bh_transfer(b, &acc[a], (uint64_t)cnt[a], &w->len[w->n]))) goto burst_out;
        w->n++;
        cnt[a]++;
        sent++;
    }
    for (int i = 0; i < BH_NODES; i++) cpu0[i] = bh_cpu_ticks(b->pid[i]);
    t0 = bh_now_ms();
    pthread_t th[BH_SUBMITTERS];
    int started = 0;
    for (; started < BH_SUBMITTERS; started++)
        if (pthread_create(&th[started], NULL, bh_sub_run, &subs[started])) break;
    bool sub_ok = started == BH_SUBMITTERS;
    for (int t = 0; t < started; t++) {
        pthread_join(th[t], NULL);
        if (subs[t].rc) sub_ok = false;
    }
    t_sub = bh_now_ms() - t0;
    if (!sub_ok) goto burst_out;
    /* every account's committed nonce reaches what it sent */
    for (long a = 1; a < nacc; a++)
        while ((long)bh_nonce(b, &acc[a].pub) < cnt[a]) {
            if (bh_now_ms() - t0 > 120000) {
                fprintf(stderr, "bench hierarchy: burst did not commit in 120 s\n");
                goto out;
            }
            usleep(5000);
        }
    t_all = bh_now_ms() - t0;
    burst_ok = true;
burst_out:
    for (int t = 0; t < BH_SUBMITTERS; t++) {
        for (size_t i = 0; subs[t].enc && i < subs[t].n; i++) free(subs[t].enc[i]);
        free(subs[t].enc);
        free(subs[t].len);
    }
    if (!burst_ok) goto out;
    double tps = (double)sent / (t_all / 1000);
    long hz = sysconf(_SC_CLK_TCK);
    double cpu[BH_NODES], cpu_max = 0;
    long rss[BH_NODES], rss_max = 0;
    for (int i = 0; i < BH_NODES; i++) {
        long t1 = bh_cpu_ticks(b->pid[i]);
        cpu[i] = (cpu0[i] < 0 || t1 < 0) ? -1 : (double)(t1 - cpu0[i]) / (double)hz / (t_all / 1000);
        if (cpu[i] > cpu_max) cpu_max = cpu[i];
        rss[i] = bh_rss_peak_kb(b->pid[i]);
        if (rss[i] > rss_max) rss_max = rss[i];
    }
    printf("burst: %ld transfers in %.0f ms (submitted in %.0f ms): %.0f tx/s\n", sent, t_all, t_sub, tps);
    for (int i = 0; i < BH_NODES; i++)
        printf("  v%d: CPU %.2f cores during the burst, peak RSS %.1f MB\n", i, cpu[i], (double)rss[i] / 1024);
    c1 = bh_committee(b);
    long long e0 = json_integer_value(json_object_get(c0, "epoch")), e1 = json_integer_value(json_object_get(c1, "epoch"));
    printf("committee: epoch %lld -> %lld during the run (%lld live rotations)\n", e0, e1, e1 - e0);
    bool rss_ok = rss_max > 0 && rss_max < BH_RSS_LIMIT_KB;
    printf("peak node RSS %.1f MB: %s the 32 MB aim\n", (double)rss_max / 1024, rss_ok ? "under" : "OVER");

    json_t *nodes = json_array();
    for (int i = 0; i < BH_NODES; i++) {
        char name[8];
        snprintf(name, sizeof name, "v%d", i);
        json_array_append_new(nodes, json_pack("{s:s, s:f, s:I}", "node", name, "cpu_cores_burst", cpu[i],
                                               "peak_rss_kb", (json_int_t)rss[i]));
    }
    json_object_set_new(doc, "domain", json_pack("{s:i, s:i, s:I, s:I, s:I}", "devices", BH_NODES, "committee", 4,
                                                 "epoch_heights", (json_int_t)epoch_h, "epochs_start", (json_int_t)e0,
                                                 "epochs_end", (json_int_t)e1));
    json_object_set_new(doc, "query_ms", json_pack("{s:f, s:f, s:I}", "p50", q50, "p99", q99, "n", (json_int_t)nq));
    json_object_set_new(doc, "record_ms", json_pack("{s:f, s:f, s:I}", "p50", r50, "p99", r99, "n", (json_int_t)nrec));
    json_object_set_new(doc, "burst", json_pack("{s:I, s:I, s:f, s:f, s:f}", "txs", (json_int_t)sent, "accounts",
                                                (json_int_t)(nacc - 1), "ms", t_all, "submit_ms", t_sub, "tx_per_s", tps));
    json_object_set_new(doc, "nodes", nodes);
    json_object_set_new(doc, "peak_rss_kb_max", json_integer(rss_max));
    json_object_set_new(doc, "rss_under_32mb", json_boolean(rss_ok));
    json_object_set_new(doc, "paper_table2", json_pack("{s:{s:f, s:f, s:f}, s:{s:f, s:f, s:f}, s:f, s:f}",
                                                       "bft_domain", "query_ms", BH_PAPER_QUERY_MS, "record_ms",
                                                       BH_PAPER_RECORD_MS, "tx_per_s", BH_PAPER_TPS, "pow",
                                                       "query_ms", BH_PAPER_POW_QUERY_MS, "record_ms",
                                                       BH_PAPER_POW_RECORD_MS, "tx_per_s", BH_PAPER_POW_TPS,
                                                       "bft_validator_rss_mb", BH_PAPER_RSS_MB,
                                                       "bft_validator_cpu_cores", BH_PAPER_CPU_CORES));
    if (ef_bench_mkdir(out) || ef_bench_write_json(out, "hierarchy", doc)) goto out;
    FILE *md = ef_bench_open(out, "hierarchy", "md");
    if (!md) goto out;
    fprintf(md, "# edgefed bench hierarchy\n\n"
                "A domain ledger of 4 device processes on loopback (one machine, 2 shared cores); its committee of 4 "
                "is elected by the committee contract every %ld heights, %lld live rotations during the run. "
                "Paper: seed 000, Table II (a Tendermint domain ledger of Raspberry Pis; PoW Ethereum beside).\n\n"
                "| | edgefed domain ledger | paper, BFT domain ledger | paper, PoW |\n|---|---|---|---|\n"
                "| query latency | p50 %.2f ms, p99 %.2f ms | %.0f ms | %.0f ms |\n"
                "| record latency (submit to commit) | p50 %.1f ms, p99 %.1f ms | %.1f s | %.1f s |\n"
                "| throughput | %.0f tx/s | %.0f tx/s | %.0f tx/s |\n"
                "| memory per validator | peak RSS %.1f MB (max of 4) | 80 MB | 1.2 GB |\n"
                "| CPU per validator | %.2f cores (max of 4, during the burst) | ~0.33 core | 1 core |\n\n",
            epoch_h, e1 - e0, q50, q99, BH_PAPER_QUERY_MS, BH_PAPER_POW_QUERY_MS, r50, r99,
            BH_PAPER_RECORD_MS / 1000, BH_PAPER_POW_RECORD_MS / 1000, tps, BH_PAPER_TPS, BH_PAPER_POW_TPS,
            (double)rss_max / 1024, cpu_max);
    fprintf(md, "Query: GET /accounts/{key} one after another (%ld). Record: a bank transfer submitted with "
                "?wait=commit, one after another (%ld). Throughput: %ld transfers from %ld accounts submitted at "
                "once over HTTP, signed beforehand, by %d threads, one per node (submission took %.0f ms of the %.0f ms), rate until the last committed. The paper's "
                "hardware (Raspberry Pi) is slower than this machine; its network was real.\n",
            nq, nrec, sent, nacc - 1, BH_SUBMITTERS, t_sub, t_all);
    fclose(md);
    printf("bench hierarchy: wrote %s/hierarchy.json and hierarchy.md\n", out);
    ret = rss_ok ? 0 : 1;
out:
    if (b && b->cl) ef_client_free(b->cl);
    json_decref(tn);
    json_decref(c0);
    json_decref(c1);
    json_decref(doc);
    if (b) (void)ef_proc_cmd_log(log, exe, "testnet", "down", "--dir", b->net, NULL);
    if (ret == 0 && !dir_opt && ef_fs_remove_tree(dir)) fprintf(stderr, "bench hierarchy: cannot remove %s\n", dir);
    if (ret) fprintf(stderr, "bench hierarchy: FAILED; files in %s\n", dir);
    free(b);
    free(lat);
    free(acc);
    return ret;
}
