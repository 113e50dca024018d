/* cmd_bench_market.c: `edgefed bench market`: the edge market on 4 validator
 * processes: match latency (submitted to committed) and matches per second with
 * 10,000 and 100,000 registered ENs, vouchers verified per second by one EN
 * agent off the ledger, and the ledger transactions of a 1,000-task session with
 * a channel against a transfer per task. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "agents/ef_edge.h"
#include "agents/ef_httpc.h"
#include "api/ef_client.h"
#include "base/ef_codec.h"
#include "agents/ef_proc.h"
#include "base/ef_fs.h"
#include "base/ef_log.h"
#include "base/ef_voucher.h"
#include "cli/cli.h"
#include "cli/cli_bench.h"
#include "cli/cli_market.h"
#include "ledger/ef_tx.h"

#define EF_MKT_QUERY_MAX_BM 1000   /* matches the market's list query returns */

static const char *const bm_usage =
    "usage: edgefed bench market [--ens N,N,...] [--matches N] [--burst N] [--tasks N] [--vouchers N]\n"
    "                            [--base-port P] [--dir DIR] [--out DIR]\n"
    "  Starts 4 validator processes (3 companies + 1) and a device (observer), then for each\n"
    "  EN count (default 10000,100000; ENs registered up to it, ~4 per 1 km grid cell):\n"
    "  --matches (default 200) matches one after another, each timed from submission to\n"
    "  its commit (p50/p99), and --burst (default 2000) matches submitted at once (matches\n"
    "  per second until the last commits). Then one EN agent admits --vouchers (default\n"
    "  100000) vouchers of one channel (vouchers per second, one thread, no ledger), and a\n"
    "  device session of --tasks (default 1000) paid tasks is run against --tasks direct\n"
    "  transfers: ledger transactions each way. Writes DIR/market.json and market.md\n"
    "  (--out, default ./bench-out).\n";

static double bm_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int bm_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double bm_pct(double *v, size_t n, double p)
{
    qsort(v, n, sizeof *v, bm_cmp);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

typedef struct bm {
    char api[96];
    char chain[64];
    ef_keypair key[5];
    char pub[5][2 * EF_PUB_SIZE + 1];
    uint64_t nonce[5];
    ef_client *cl;
    uint64_t rng;
} bm;

static uint64_t bm_rnd(bm *b)
{
    b->rng ^= b->rng << 13;
    b->rng ^= b->rng >> 7;
    b->rng ^= b->rng << 17;
    return b->rng;
}

/* Encodes a signed tx of account i with its next nonce. */
static uint8_t *bm_tx(bm *b, int i, const char *contract, const char *method, const char *args, size_t *len)
{
    ef_tx tx;
    memset(&tx, 0, sizeof tx);
    snprintf(tx.chain_id, sizeof tx.chain_id, "%.32s", b->chain);
    tx.sender = b->key[i].pub;
    tx.nonce = b->nonce[i]++;
    snprintf(tx.contract, sizeof tx.contract, "%s", contract);
    snprintf(tx.method, sizeof tx.method, "%s", method);
    tx.args = (const uint8_t *)args;
    tx.args_len = strlen(args);
    if (ef_tx_sign(&tx, &b->key[i])) return NULL;
    ef_wr w;
    ef_wr_init(&w);
    uint8_t *enc = ef_tx_encode(&w, &tx) ? NULL : ef_wr_take(&w, len);
    ef_wr_free(&w);
    return enc;
}

/* Submits without waiting, retrying while the mempool is full. */
static int bm_submit(bm *b, const uint8_t *enc, size_t len)
{
    for (int tries = 0; tries < 2000; tries++) {
        long status = 0;
        json_t *r = NULL;
        int rc = ef_client_submit(b->cl, enc, len, false, 0, &status, &r);
        json_decref(r);
        if (rc == 0 && (status == 202 || status == 200)) return 0;
        /* 503 EFULL, or 429 EQUOTA: this sender already has its maximum pending
         * (limits.mempool_sender_txs); wait for blocks to take some */
        if (rc == 0 && status != 503 && status != 429) return EF_EPROTO;
        usleep(20000);
    }
    return EF_ETIMEOUT;
}

static uint64_t bm_account_nonce(bm *b, int i)
{
    char path[128];
    json_t *j;
    snprintf(path, sizeof path, "/accounts/%s", b->pub[i]);
    if (ef_cli_get(b->api, path, &j)) return 0;
    uint64_t n = (uint64_t)json_integer_value(json_object_get(j, "nonce"));
    json_decref(j);
    return n;
}

/* Waits until account i's committed nonce reaches want. */
static int bm_wait_nonce(bm *b, int i, uint64_t want, double timeout_ms)
{
    double end = bm_now_ms() + timeout_ms;
    while (bm_account_nonce(b, i) < want) {
        if (bm_now_ms() > end) return EF_ETIMEOUT;
        usleep(20000);
    }
    return 0;
}

/* The highest peak resident set (VmHWM, kB) of the testnet's nodes so far
 * (net/v0..v3 and o0, by their node.pid files); 0 if none could be read. */
static long bm_peak_rss_kb(const char *net)
{
    static const char *const nodes[] = {"v0", "v1", "v2", "v3", "o0"};
    long peak = 0;
    for (size_t i = 0; i < EF_ARRAY_LEN(nodes); i++) {
        char path[PATH_MAX + 32], line[128];
        snprintf(path, sizeof path, "%s/%s/node.pid", net, nodes[i]);
        FILE *f = fopen(path, "r");
        long pid = 0;
        if (f) {
            if (fscanf(f, "%ld", &pid) != 1) pid = 0;
            fclose(f);
        }
        if (pid <= 0) continue;
        snprintf(path, sizeof path, "/proc/%ld/status", pid);
        if (!(f = fopen(path, "r"))) continue;
        long kb;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "VmHWM: %ld kB", &kb) == 1 && kb > peak) peak = kb;
        fclose(f);
    }
    return peak;
}


int ef_bench_market(int argc, char **argv)
{
    static const char *const spec[] = {"ens=", "matches=", "burst=", "tasks=", "vouchers=", "base-port=", "dir=",
                                       "out=", NULL};
    int checked = ef_cli_check(argc, argv, bm_usage, spec, 0);
    if (checked >= 0) return checked;
    const char *ens_s = ef_cli_opt(argc, argv, "ens", "10000,100000");
    size_t nmatch = strtoull(ef_cli_opt(argc, argv, "matches", "200"), NULL, 10);
    size_t burst = strtoull(ef_cli_opt(argc, argv, "burst", "2000"), NULL, 10);
    uint64_t tasks = strtoull(ef_cli_opt(argc, argv, "tasks", "1000"), NULL, 10);
    uint64_t nv = strtoull(ef_cli_opt(argc, argv, "vouchers", "100000"), NULL, 10);
    unsigned port = (unsigned)atoi(ef_cli_opt(argc, argv, "base-port", "0"));
    const char *out = ef_cli_opt(argc, argv, "out", "bench-out");
    const char *dir_opt = ef_cli_opt(argc, argv, "dir", NULL);
    if (nmatch < 2 || burst < 1 || tasks < 1 || nv < 1) {
        fputs(bm_usage, stderr);
        return 2;
    }
    if (!port) port = 20000 + (unsigned)(getpid() % 120) * 40;
    char dir[PATH_MAX], exe[PATH_MAX], net[PATH_MAX + 8], path[PATH_MAX + 64];
    if (dir_opt) snprintf(dir, sizeof dir, "%s", dir_opt);
    else {
        snprintf(dir, sizeof dir, "/tmp/edgefed-bench-market-XXXXXX");
        if (!mkdtemp(dir)) return 1;
    }
    ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (el <= 0) return 1;
    exe[el] = 0;
    snprintf(net, sizeof net, "%s/net", dir);
    bm *b = calloc(1, sizeof *b);
    json_t *doc = json_object(), *runs = json_array(), *tn = NULL;
    ef_edge *agent = NULL;
    int ret = 1, rc;
    char log[PATH_MAX + 16], ports[16];
    snprintf(log, sizeof log, "%s/commands.log", dir);
    if (!b || !doc || !runs) goto out;
    b->rng = 0x2545f4914f6cdd1dull;
    snprintf(ports, sizeof ports, "%u", port);
    if (ef_fs_mkdirs(dir, 0700) || ef_proc_cmd_log(log, exe, "testnet", "init", "--dir", net, "--validators", "4",
                                                   "--observers", "1", "--base-port", ports, "--accounts", "0", NULL))
        goto out;
    snprintf(path, sizeof path, "%s/genesis.json", net);
    json_t *g = json_load_file(path, 0, NULL);
    if (!g) goto out;
    json_object_set_new(g, "params", json_pack("{s:{s:i, s:i, s:i}}", "market", "cell_m", 1000, "ring_max", 16,
                                               "cell_max", 256));
    rc = json_dump_file(g, path, JSON_INDENT(2));
    json_decref(g);
    if (rc || ef_proc_cmd_log(log, exe, "testnet", "up", "--dir", net, NULL)) goto out;
    snprintf(path, sizeof path, "%s/testnet.json", net);
    if (!(tn = json_load_file(path, 0, NULL))) goto out;
    json_t *nodes = json_object_get(tn, "nodes");
    snprintf(b->api, sizeof b->api, "http://%s", json_string_value(json_object_get(json_array_get(nodes, 0), "http")));
    for (int i = 0; i < 5; i++) {
        const char *name = json_string_value(json_object_get(json_array_get(nodes, (size_t)i), "name"));
        snprintf(path, sizeof path, "%s/%s/node.key", net, name ? name : "?");
        if (ef_key_load(&b->key[i], path)) goto out;
        ef_hex(b->pub[i], b->key[i].pub.b, EF_PUB_SIZE);
    }
    json_t *st = NULL;
    for (int i = 0; i < 100 && ef_cli_get(b->api, "/status", &st); i++) usleep(100000);
    if (!st) goto out;
    snprintf(b->chain, sizeof b->chain, "%s", json_string_value(json_object_get(st, "chain_id")));
    json_decref(st);
    if (ef_client_new(&b->cl, b->api, NULL, 30000)) goto out;
    const int DEV = 4;
    printf("bench market: 4 validators up (%s)\n", b->api);
    fflush(stdout);

    uint64_t registered = 0;
    for (const char *p = ens_s; *p;) {
        char *end;
        uint64_t target = strtoull(p, &end, 10);
        if (end == p || target < registered || target > 1000000) {
            fprintf(stderr, "bench market: bad --ens\n");
            goto out;
        }
        p = *end == ',' ? end + 1 : end;
        uint64_t side = 1000;
        while (side * side / 1000000 * 4 < target) side += 1000;
        /* register up to target (the area grows with it: ~4 ENs per cell) */
        double t0 = bm_now_ms();
        uint64_t want[3];
        for (int c = 0; c < 3; c++) want[c] = b->nonce[c] = bm_account_nonce(b, c);
        for (uint64_t k = registered; k < target; k++) {
            int c = (int)(k % 3);
            char args[320];
            snprintf(args, sizeof args,
                     "{\"x\":%llu,\"y\":%llu,\"cpu_milli\":4000,\"mem_mb\":4096,\"slots\":8,\"services\":[\"hash\"],"
                     "\"price\":%llu,\"endpoint\":\"http://127.0.0.1:1\"}",
                     (unsigned long long)(bm_rnd(b) % side), (unsigned long long)(bm_rnd(b) % side),
                     (unsigned long long)(bm_rnd(b) % 10 + 1));
            size_t len;
            uint8_t *enc = bm_tx(b, c, "market", "register", args, &len);
            if (!enc || (rc = bm_submit(b, enc, len))) {
                free(enc);
                fprintf(stderr, "bench market: register submission failed\n");
                goto out;
            }
            free(enc);
            want[c]++;
        }
        for (int c = 0; c < 3; c++)
            if (bm_wait_nonce(b, c, want[c], 600000)) goto out;
        double reg_ms = bm_now_ms() - t0;
        registered = target;
        printf("bench market: %llu ENs registered (%.1f s, %.0f/s)\n", (unsigned long long)target, reg_ms / 1000,
               (double)(target) / (reg_ms / 1000));
        fflush(stdout);
        /* sequential matches: submitted -> committed */
        b->nonce[DEV] = bm_account_nonce(b, DEV);
        double *lat = calloc(nmatch, sizeof *lat);
        if (!lat) goto out;
        json_t *s0;
        if (ef_cli_get(b->api, "/status", &s0)) goto out;
        uint64_t h = (uint64_t)json_integer_value(json_object_get(s0, "height"));
        json_decref(s0);
        uint64_t scanned_sum = 0;
        for (size_t k = 0; k < nmatch; k++) {
            char args[320];
            snprintf(args, sizeof args,
                     "{\"x\":%llu,\"y\":%llu,\"service\":\"hash\",\"cpu_milli\":10,\"mem_mb\":10,\"slots\":1,"
                     "\"max_dist\":10000,\"max_price\":10,\"expiry\":%llu}",
                     (unsigned long long)(bm_rnd(b) % side), (unsigned long long)(bm_rnd(b) % side),
                     (unsigned long long)(h + 90000));
            size_t len;
            uint8_t *enc = bm_tx(b, DEV, "market", "match", args, &len);
            long status = 0;
            json_t *r = NULL;
            double t1 = bm_now_ms();
            rc = enc ? ef_client_submit(b->cl, enc, len, true, 0, &status, &r) : EF_ENOMEM;
            lat[k] = bm_now_ms() - t1;
            const char *code = json_string_value(json_object_get(r, "code"));
            bool ok = rc == 0 && status == 200 && code && !strcmp(code, "OK");
            json_decref(r);
            free(enc);
            if (!ok) {
                fprintf(stderr, "bench market: match %zu failed (%s, HTTP %ld, %s)\n", k, ef_strerror(rc), status,
                        code ? code : "-");
                free(lat);
                goto out;
            }
        }
        json_t *ms;
        if (ef_cli_get(b->api, "/state/market/matches", &ms) == 0) {
            size_t i;
            json_t *m;
            json_array_foreach(ms, i, m) if (i < nmatch) scanned_sum += (uint64_t)json_integer_value(json_object_get(m, "scanned"));
            json_decref(ms);
        }
        double p50 = bm_pct(lat, nmatch, 0.5), p99 = bm_pct(lat, nmatch, 0.99);
        free(lat);
        /* a burst: matches per second */
        uint64_t n0 = b->nonce[DEV];
        double t2 = bm_now_ms();
        for (size_t k = 0; k < burst; k++) {
            char args[320];
            snprintf(args, sizeof args,
                     "{\"x\":%llu,\"y\":%llu,\"service\":\"hash\",\"cpu_milli\":10,\"mem_mb\":10,\"slots\":1,"
                     "\"max_dist\":10000,\"max_price\":10,\"expiry\":%llu}",
                     (unsigned long long)(bm_rnd(b) % side), (unsigned long long)(bm_rnd(b) % side),
                     (unsigned long long)(h + 90000));
            size_t len;
            uint8_t *enc = bm_tx(b, DEV, "market", "match", args, &len);
            rc = enc ? bm_submit(b, enc, len) : EF_ENOMEM;
            free(enc);
            if (rc) goto out;
        }
        if (bm_wait_nonce(b, DEV, n0 + burst, 300000)) goto out;
        double burst_s = (bm_now_ms() - t2) / 1000;
        printf("bench market: %llu ENs: match submitted->committed p50 %.1f ms, p99 %.1f ms (%zu sequential); "
               "%.0f matches/s (%zu at once); %.1f ENs scanned per match; peak node RSS %.1f MB\n",
               (unsigned long long)target, p50, p99, nmatch, (double)burst / burst_s, burst,
               (double)scanned_sum / (double)(nmatch < EF_MKT_QUERY_MAX_BM ? nmatch : EF_MKT_QUERY_MAX_BM),
               (double)bm_peak_rss_kb(net) / 1024);
        fflush(stdout);
        json_array_append_new(runs, json_pack("{s:I, s:f, s:f, s:f, s:I, s:f, s:I, s:f, s:I}", "ens", (json_int_t)target,
                                              "register_s", reg_ms / 1000, "match_p50_ms", p50, "match_p99_ms", p99,
                                              "sequential_matches", (json_int_t)nmatch, "matches_per_s",
                                              (double)burst / burst_s, "burst", (json_int_t)burst,
                                              "scanned_per_match",
                                              (double)scanned_sum / (double)(nmatch < EF_MKT_QUERY_MAX_BM ? nmatch : EF_MKT_QUERY_MAX_BM),
                                              "peak_node_rss_kb", (json_int_t)bm_peak_rss_kb(net)));
    }

    /* an EN with a real agent, far from the others, for the session */
    {
        unsigned lp = port + 200;
        char args[320], err[24];
        snprintf(args, sizeof args,
                 "{\"x\":2000000000,\"y\":2000000000,\"cpu_milli\":4000,\"mem_mb\":4096,\"slots\":4,"
                 "\"services\":[\"bench\"],\"price\":2,\"endpoint\":\"http://127.0.0.1:%u\"}", lp);
        if ((rc = ef_cli_call(b->api, &b->key[0], "market", "register", args, err))) goto out;
        ef_edge_cfg cfg = {.key = b->key[0], .ip = 0x7f000001, .port = (uint16_t)lp, .price = 2, .watch_ms = 0};
        snprintf(cfg.chain_id, sizeof cfg.chain_id, "%.64s", b->chain);
        char apath[16];
        if (ef_httpc_parse_url(b->api, &cfg.api_ip, &cfg.api_port, apath, sizeof apath) ||
            ef_edge_start(&agent, &cfg))
            goto out;
    }
    /* vouchers per second through one agent's admission (one thread, no ledger) */
    double vps = 0, bare_vps = 0;
    {
        char args[256], err[24];
        json_t *s1;
        if (ef_cli_get(b->api, "/status", &s1)) goto out;
        uint64_t h = (uint64_t)json_integer_value(json_object_get(s1, "height"));
        json_decref(s1);
        snprintf(args, sizeof args, "{\"payee\":\"%s\",\"amount\":%llu,\"expiry\":%llu}", b->pub[0],
                 (unsigned long long)(nv * 2 + 10), (unsigned long long)(h + 100000));
        if ((rc = ef_cli_call(b->api, &b->key[DEV], "channel", "open", args, err))) goto out;
        snprintf(path, sizeof path, "/state/channel/payer/%s", b->pub[DEV]);
        json_t *chs;
        if (ef_cli_get(b->api, path, &chs)) goto out;
        uint64_t ch = (uint64_t)json_integer_value(json_object_get(json_array_get(chs, json_array_size(chs) - 1), "channel"));
        json_decref(chs);
        ef_voucher *vs = calloc(nv, sizeof *vs);
        if (!vs) goto out;
        for (uint64_t i = 0; i < nv; i++) {
            snprintf(vs[i].chain_id, sizeof vs[i].chain_id, "%s", b->chain);
            vs[i].channel = ch;
            vs[i].nonce = i + 1;
            vs[i].amount = (i + 1) * 2;
            if (ef_voucher_sign(&vs[i], &b->key[DEV])) goto out;
        }
        double t0 = bm_now_ms();
        for (uint64_t i = 0; i < nv; i++)
            if ((rc = ef_edge_admit(agent, ch, &vs[i]))) {
                fprintf(stderr, "bench market: voucher %llu refused: %s\n", (unsigned long long)i, ef_strerror(rc));
                free(vs);
                goto out;
            }
        vps = (double)nv / ((bm_now_ms() - t0) / 1000);
        t0 = bm_now_ms();
        for (uint64_t i = 0; i < nv; i++)
            if (ef_voucher_verify(&vs[i], &b->key[DEV].pub)) goto out;
        bare_vps = (double)nv / ((bm_now_ms() - t0) / 1000);
        free(vs);
        printf("bench market: one EN agent admitted %llu vouchers: %.0f/s on one thread (bare Ed25519 check %.0f/s)\n",
               (unsigned long long)nv, vps, bare_vps);
        fflush(stdout);
    }
    /* a session of `tasks` tasks paid with a channel, against a transfer per task */
    ef_dev_result r;
    double direct_s = 0;
    uint64_t direct_txs = 0;
    {
        ef_dev_opts o = {.api = b->api, .key = b->key[DEV], .x = 2000000000, .y = 2000000000, .service = "bench",
                         .cpu_milli = 1, .mem_mb = 1, .max_dist = 1000, .max_price = 10, .ttl = 10000,
                         .tasks = tasks, .task_bytes = 256};
        if ((rc = ef_dev_session(&o, &r, NULL))) {
            fprintf(stderr, "bench market: session failed: %s\n", ef_strerror(rc));
            goto out;
        }
        uint64_t n0 = b->nonce[DEV] = bm_account_nonce(b, DEV);
        double t0 = bm_now_ms();
        for (uint64_t i = 0; i < tasks; i++) {
            char args[160];
            snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":2}", b->pub[0]);
            size_t len;
            uint8_t *enc = bm_tx(b, DEV, "bank", "transfer", args, &len);
            rc = enc ? bm_submit(b, enc, len) : EF_ENOMEM;
            free(enc);
            if (rc) goto out;
        }
        if (bm_wait_nonce(b, DEV, n0 + tasks, 300000)) goto out;
        direct_s = (bm_now_ms() - t0) / 1000;
        direct_txs = bm_account_nonce(b, DEV) - n0;
        printf("bench market: %llu tasks: %llu ledger transactions with a channel (match, open, redeem+close ending the match; "
               "%.2f s of tasks), %llu with a transfer per task (%.2f s)\n",
               (unsigned long long)tasks, (unsigned long long)r.txs, r.tasks_ms / 1000, (unsigned long long)direct_txs,
               direct_s);
    }
    long peak_run_kb = bm_peak_rss_kb(net);
    printf("bench market: peak node RSS over the whole run (every phase) %.1f MB\n", (double)peak_run_kb / 1024);
    json_object_set_new(doc, "validators", json_integer(4));
    json_object_set_new(doc, "peak_node_rss_kb_run", json_integer((json_int_t)peak_run_kb));
    json_object_set_new(doc, "runs", runs);
    runs = NULL;
    json_object_set_new(doc, "vouchers_per_s_agent", json_real(vps));
    json_object_set_new(doc, "vouchers_per_s_bare_verify", json_real(bare_vps));
    json_object_set_new(doc, "session", json_pack("{s:I, s:I, s:I, s:f, s:I, s:f}", "tasks", (json_int_t)tasks,
                                                  "channel_txs", (json_int_t)r.txs, "channel_txs_payment_only",
                                                  (json_int_t)(r.txs - 1), "channel_tasks_s", r.tasks_ms / 1000,
                                                  "direct_txs", (json_int_t)direct_txs, "direct_s", direct_s));
    if (ef_bench_mkdir(out) || ef_bench_write_json(out, "market", doc)) goto out;
    FILE *md = ef_bench_open(out, "market", "md");
    if (!md) goto out;
    fprintf(md, "# edgefed bench market\n\n4 validator processes on loopback, one device.\n\n"
                "| ENs | match p50 (ms) | match p99 (ms) | matches/s | ENs scanned per match | peak node RSS (MB) |\n"
                "|---|---|---|---|---|---|\n");
    size_t i;
    json_t *run;
    json_array_foreach(json_object_get(doc, "runs"), i, run)
        fprintf(md, "| %lld | %.1f | %.1f | %.0f | %.1f | %.1f |\n", json_integer_value(json_object_get(run, "ens")),
                json_real_value(json_object_get(run, "match_p50_ms")), json_real_value(json_object_get(run, "match_p99_ms")),
                json_real_value(json_object_get(run, "matches_per_s")), json_real_value(json_object_get(run, "scanned_per_match")),
                (double)json_integer_value(json_object_get(run, "peak_node_rss_kb")) / 1024);
    fprintf(md, "\nVouchers admitted by one EN agent: %.0f/s (one thread; bare Ed25519 check %.0f/s).\n\n"
                "A %llu-task session: %llu ledger transactions with a channel (match, then open and redeem+close, which pay and end the session), "
                "%llu with a transfer per task.\n\nPeak node RSS over the whole run (every phase): %.1f MB.\n",
            vps, bare_vps, (unsigned long long)tasks, (unsigned long long)r.txs, (unsigned long long)direct_txs,
            (double)peak_run_kb / 1024);
    fclose(md);
    printf("bench market: wrote %s/market.json and market.md\n", out);
    ret = 0;
out:
    ef_edge_stop(agent);
    if (b && b->cl) ef_client_free(b->cl);
    json_decref(tn);
    json_decref(runs);
    json_decref(doc);
    free(b);
    (void)ef_proc_cmd_log(log, exe, "testnet", "down", "--dir", net, NULL);
    if (ret == 0 && !dir_opt && ef_fs_remove_tree(dir)) fprintf(stderr, "bench market: cannot remove %s\n", dir);
    if (ret) fprintf(stderr, "bench market: FAILED; files in %s\n", dir);
    return ret;
}
