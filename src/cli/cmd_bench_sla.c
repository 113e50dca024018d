/* cmd_bench_sla.c: `edgefed bench sla` (seed 003): activation latency with
 * stitching, slice creation under packet loss (the paper's Figure 3, a CDF as
 * SVG), receipts verified and claimed per second, the ledger cost of settling
 * 1000 epochs. */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "agents/ef_proc.h"
#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "base/ef_fs.h"
#include "base/ef_log.h"
#include "base/ef_receipt.h"
#include "cli/cli.h"
#include "cli/cli_bench.h"
#include "cli/cli_market.h"

static const char *const bench_usage =
    "usage: edgefed bench sla [--out DIR] [--activations N] [--requests N] [--process]\n"
    "\n"
    "Starts a ledger of 4 validators and a customer (each in its own network namespace\n"
    "as root, else on loopback), an operator's JIT controller on a tree of switches\n"
    "(slices enforced with htb as root; --process or without root: not enforced), and\n"
    "measures:\n"
    "  activation latency: activate sent to the slice confirmed on the ledger,\n"
    "    stitching included, over N activations (default 100): p50, p90, mean;\n"
    "  slice creation under loss: N requests (default 70) at 0, 1 and 5 % of the\n"
    "    ledger's TCP packets dropped (nftables in every validator's namespace; root\n"
    "    only), as a CDF (sla_creation_cdf.svg);\n"
    "  receipts verified per second (offline) and claimed per second (24 per\n"
    "    transaction), and the ledger cost of settling 1000 epochs.\n"
    "Writes sla.json, sla.md and the SVG to DIR (default bench-out).\n";

typedef struct bench_ctx {
    const char *api;
    ef_keypair op, cu, mon;
    char monpub[2 * EF_PUB_SIZE + 1];
    char chain[72];
    char log[PATH_MAX + 64];
    char state[PATH_MAX + 64];
    uint64_t next_sla;
} bench_ctx;

static int bench_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double bench_pct(const double *sorted, size_t n, double p)
{
    if (!n) return 0;
    size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return sorted[i < n ? i : n - 1];
}

/* Activates offer and waits until the SLA is active: the latency in ms, and
 * the controller's reserve + stitch time in *stitch_ms; < 0 on failure. */
static double bench_activate(bench_ctx *b, uint64_t offer, unsigned epochs, const char *ap, double *stitch_ms)
{
    char args[256], err[24], path[64];
    snprintf(args, sizeof args, "{\"offer\":%llu,\"epochs\":%u,\"ap\":\"%s\",\"dst\":\"srv\",\"monitor\":\"%s\"}",
             (unsigned long long)offer, epochs, ap, b->monpub);
    uint64_t t0 = ef_now_mono_us();
    if (ef_cli_call(b->api, &b->cu, "sla", "activate", args, err)) {
        fprintf(stderr, "bench sla: activate: %s\n", err);
        return -1;
    }
    uint64_t id = ++b->next_sla;
    snprintf(path, sizeof path, "/state/sla/sla/%llu", (unsigned long long)id);
    for (int i = 0; i < 12000; i++) {
        json_t *j = NULL;
        if (ef_cli_get(b->api, path, &j) == 0) {
            const char *st = json_string_value(json_object_get(j, "state"));
            bool active = st && !strcmp(st, "active"), other = st && strcmp(st, "pending");
            json_decref(j);
            if (active) {
                double ms = (double)(ef_now_mono_us() - t0) / 1000.0;
                *stitch_ms = 0;
                /* the controller writes its state once its confirm call returns */
                for (int w = 0; w < 200 && *stitch_ms == 0; w++) {
                    json_t *s = json_load_file(b->state, 0, NULL);
                    size_t k;
                    json_t *x;
                    json_array_foreach(json_object_get(s, "slas"), k, x)
                        if ((uint64_t)json_integer_value(json_object_get(x, "sla")) == id)
                            *stitch_ms = (double)json_integer_value(json_object_get(x, "stitch_us")) / 1000.0;
                    json_decref(s);
                    if (*stitch_ms == 0) usleep(5000);
                }
                return ms;
            }
            if (other) {
                fprintf(stderr, "bench sla: SLA %llu is %s\n", (unsigned long long)id, st);
                return -1;
            }
        }
        usleep(2000);
    }
    return -1;
}

/* nftables drop of pct % of the TCP packets entering namespace ns (0: none). */
static int bench_loss(bench_ctx *b, const char *ns, unsigned pct)
{
    const char *ip = ef_proc_ip_path(), *nft = access("/usr/sbin/nft", X_OK) == 0 ? "/usr/sbin/nft" : "nft";
    char p[16];
    snprintf(p, sizeof p, "%u", pct);
    if (ef_proc_cmd_log(b->log, ip, "netns", "exec", ns, nft, "add", "table", "inet", "efbench", NULL) ||
        ef_proc_cmd_log(b->log, ip, "netns", "exec", ns, nft, "add", "chain", "inet", "efbench", "lossin",
                        "{ type filter hook input priority 0 ; }", NULL) ||
        ef_proc_cmd_log(b->log, ip, "netns", "exec", ns, nft, "flush", "chain", "inet", "efbench", "lossin", NULL))
        return EF_ENFORCE;
    if (pct && ef_proc_cmd_log(b->log, ip, "netns", "exec", ns, nft, "add", "rule", "inet", "efbench", "lossin",
                               "meta", "l4proto", "tcp", "numgen", "random", "mod", "100", "<", p, "drop", NULL))
        return EF_ENFORCE;
    return 0;
}

int ef_bench_sla(int argc, char **argv)
{
    static const char *const spec[] = {"out=", "activations=", "requests=", "process", NULL};
    int checked = ef_cli_check(argc, argv, bench_usage, spec, 0);
    if (checked >= 0) return checked;
    const char *outdir = ef_cli_opt(argc, argv, "out", "bench-out");
    long nact = atol(ef_cli_opt(argc, argv, "activations", "100")), nreq = atol(ef_cli_opt(argc, argv, "requests", "70"));
    if (nact < 1 || nact > 1000 || nreq < 1 || nreq > 1000) {
        fputs(bench_usage, stderr);
        return 2;
    }
    bool root = geteuid() == 0 && access("/usr/sbin/nft", X_OK) == 0 && access("/usr/sbin/tc", X_OK) == 0;
    bool enforce = root && !ef_cli_flag(argc, argv, "process");
    char dir[PATH_MAX], exe[PATH_MAX], net[PATH_MAX + 8], path[PATH_MAX + 64];
    snprintf(dir, sizeof dir, "/tmp/edgefed-bench-sla-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (el <= 0) return 1;
    exe[el] = 0;
    snprintf(net, sizeof net, "%s/net", dir);
    bench_ctx b;
    memset(&b, 0, sizeof b);
    snprintf(b.log, sizeof b.log, "%s/commands.log", dir);
    snprintf(b.state, sizeof b.state, "%s/state.json", dir);
    int ret = 1;
    pid_t ctl = -1;
    json_t *tn = NULL, *res = json_object();
    double *act = calloc((size_t)nact, sizeof(double)), *stitch = calloc((size_t)nact, sizeof(double));
    double *cr[3] = {calloc((size_t)nreq, sizeof(double)), calloc((size_t)nreq, sizeof(double)),
                     calloc((size_t)nreq, sizeof(double))};
    /* the controller's own part of each creation (request seen -> reserved and
     * stitched): what the paper's Figure 3 times, requests sent to its controller */
    double *cc[3] = {calloc((size_t)nreq, sizeof(double)), calloc((size_t)nreq, sizeof(double)),
                     calloc((size_t)nreq, sizeof(double))};
    size_t ncr[3] = {0, 0, 0};
    char ports[16];
    snprintf(ports, sizeof ports, "%u", 22000 + (unsigned)(getpid() % 100) * 40);
    if (!act || !stitch || !cr[0] || !cr[1] || !cr[2] || !cc[0] || !cc[1] || !cc[2] || ef_fs_mkdirs(outdir, 0755))
        goto out;
    if (ef_proc_cmd_log(b.log, exe, "testnet", "init", "--dir", net, "--validators", "4", "--observers", "1",
                        "--base-port", ports, "--empty-block-ms", "100", root ? "--netns" : NULL, NULL) ||
        ef_proc_cmd_log(b.log, exe, "testnet", "up", "--dir", net, NULL)) {
        fprintf(stderr, "bench sla: testnet failed (see %s)\n", b.log);
        goto out;
    }
    snprintf(path, sizeof path, "%s/testnet.json", net);
    if (!(tn = json_load_file(path, 0, NULL))) goto out;
    json_t *nodes = json_object_get(tn, "nodes");
    char api[96];
    snprintf(api, sizeof api, "http://%s", json_string_value(json_object_get(json_array_get(nodes, 0), "http")));
    b.api = api;
    char opkey[PATH_MAX + 64];
    snprintf(opkey, sizeof opkey, "%s/%s/node.key", net,
             json_string_value(json_object_get(json_array_get(nodes, 0), "name")));
    snprintf(path, sizeof path, "%s/%s/node.key", net,
             json_string_value(json_object_get(json_array_get(nodes, 4), "name")));
    if (ef_key_load(&b.op, opkey) || ef_key_load(&b.cu, path)) goto out;
    ef_keypair_generate(&b.mon);
    ef_hex(b.monpub, b.mon.pub.b, EF_PUB_SIZE);
    json_t *st = NULL;
    for (int i = 0; i < 200 && ef_cli_get(api, "/status", &st); i++) usleep(100000);
    if (!st) goto out;
    snprintf(b.chain, sizeof b.chain, "%s", json_string_value(json_object_get(st, "chain_id")));
    json_decref(st);
    char err[24];
    static const char *const offer_fmt =
        "{\"area\":[\"car1\",\"car2\",\"car3\",\"car4\"],\"rules\":{\"min_kbps\":50,\"max_latency_us\":50000,"
        "\"max_loss_ppm\":20000},\"price\":1,\"epoch_ms\":%d,\"max_epochs\":%d,\"penalty\":{\"min_kbps\":500000,"
        "\"max_latency_us\":300000,\"max_loss_ppm\":200000},\"cheat_penalty\":0,\"confirm_blocks\":100000,"
        "\"claim_window_ms\":600000,\"dispute_window_blocks\":10}";
    char args[1024];
    snprintf(args, sizeof args, offer_fmt, 60000, 1);
    if (ef_cli_call(api, &b.op, "sla", "post_bond", "{\"amount\":1000}", err) ||
        ef_cli_call(api, &b.op, "sla", "offer", args, err))
        goto out;
    snprintf(args, sizeof args, offer_fmt, 5, 1000);
    if (ef_cli_call(api, &b.op, "sla", "offer", args, err)) goto out;
    /* the controller */
    snprintf(path, sizeof path, "%s/topology.json", dir);
    {
        FILE *f = fopen(path, "w");
        if (!f) goto out;
        fputs("{\"nodes\": [{\"name\":\"core\",\"layer\":\"core\"},"
              "{\"name\":\"srv\",\"layer\":\"server\",\"parent\":\"core\",\"kbps\":1000000,\"latency_us\":200},"
              "{\"name\":\"agg1\",\"layer\":\"aggregation\",\"parent\":\"core\",\"kbps\":400000,\"latency_us\":500},"
              "{\"name\":\"edge1\",\"layer\":\"edge\",\"parent\":\"agg1\",\"kbps\":200000,\"latency_us\":1000},"
              "{\"name\":\"edge2\",\"layer\":\"edge\",\"parent\":\"agg1\",\"kbps\":200000,\"latency_us\":1000},"
              "{\"name\":\"car1\",\"layer\":\"customer\",\"parent\":\"edge1\",\"kbps\":100000,\"latency_us\":2000},"
              "{\"name\":\"car2\",\"layer\":\"customer\",\"parent\":\"edge1\",\"kbps\":100000,\"latency_us\":2000},"
              "{\"name\":\"car3\",\"layer\":\"customer\",\"parent\":\"edge2\",\"kbps\":100000,\"latency_us\":2000},"
              "{\"name\":\"car4\",\"layer\":\"customer\",\"parent\":\"edge2\",\"kbps\":100000,\"latency_us\":2000}]}\n",
              f);
        fclose(f);
    }
    char edgepub[2 * EF_PUB_SIZE + 1], prefix[32], octet[8], clog[PATH_MAX + 64];
    ef_keypair edge;
    ef_keypair_generate(&edge);
    ef_hex(edgepub, edge.pub.b, EF_PUB_SIZE);
    snprintf(prefix, sizeof prefix, "efbs%u", (unsigned)getpid() % 10000000u);
    snprintf(octet, sizeof octet, "%u", 200 + (unsigned)getpid() % 50);
    snprintf(clog, sizeof clog, "%s/controller.log", dir);
    {
        char *cargv[] = {exe, "sla", "controller", "--key", opkey, "--topology", path,
                         enforce ? "--netns" : "--process", "--edge-monitor", edgepub, "--node", api, "--prefix",
                         prefix, "--octet", octet, "--state", b.state, NULL};
        fflush(stderr);
        int saved = dup(2), fd = open(clog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (saved < 0 || fd < 0) goto out;
        dup2(fd, 2);
        int rc = ef_proc_spawn(&ctl, NULL, cargv, 0);
        dup2(saved, 2);
        close(saved);
        close(fd);
        if (rc) goto out;
        struct stat sb;
        for (int i = 0; i < 400 && stat(b.state, &sb) != 0; i++) usleep(50000);
        if (stat(b.state, &sb) != 0) goto out;
    }
    usleep(500000);
    printf("bench sla: 4 validators + 1 customer (%s), controller %s\n", root ? "network namespaces" : "loopback",
           enforce ? "enforcing with htb in namespaces" : "in process mode (NOT enforcing)");

    /* 1. activation latency */
    static const char *const aps[] = {"car1", "car2", "car3", "car4"};
    for (long i = 0; i < nact; i++) {
        act[i] = bench_activate(&b, 1, 1, aps[i % 4], &stitch[i]);
        if (act[i] < 0) goto out;
    }
    qsort(act, (size_t)nact, sizeof(double), bench_cmp);
    qsort(stitch, (size_t)nact, sizeof(double), bench_cmp);
    double mean = 0;
    for (long i = 0; i < nact; i++) mean += act[i] / (double)nact;
    json_object_set_new(res, "activation_ms",
                        json_pack("{s:i, s:f, s:f, s:f, s:f, s:f, s:f}", "n", (int)nact, "p50",
                                  bench_pct(act, (size_t)nact, 50), "p90", bench_pct(act, (size_t)nact, 90), "mean",
                                  mean, "max", act[nact - 1], "stitch_p50", bench_pct(stitch, (size_t)nact, 50),
                                  "stitch_p90", bench_pct(stitch, (size_t)nact, 90)));
    printf("activation (activate sent -> slice confirmed, stitching included), %ld: p50 %.1f ms, p90 %.1f ms, mean "
           "%.1f ms; reserve+stitch p50 %.1f ms, p90 %.1f ms (paper: 16.9 s mean)\n",
           nact, bench_pct(act, (size_t)nact, 50), bench_pct(act, (size_t)nact, 90), mean,
           bench_pct(stitch, (size_t)nact, 50), bench_pct(stitch, (size_t)nact, 90));

    /* 2. slice creation at 0, 1, 5 % loss */
    static const unsigned loss[3] = {0, 1, 5};
    static const char *const label[3] = {"0 % loss", "1 % loss", "5 % loss"};
    json_t *lj = json_array();
    for (int s = 0; s < 3; s++) {
        if (loss[s] && !root) break;
        for (size_t v = 0; root && v < 5; v++)
            if (bench_loss(&b, json_string_value(json_object_get(json_array_get(nodes, v), "netns")), loss[s]))
                goto out;
        for (long i = 0; i < nreq; i++) {
            double sm, ms = bench_activate(&b, 1, 1, aps[i % 4], &sm);
            if (ms < 0) goto out;
            cc[s][ncr[s]] = sm;
            cr[s][ncr[s]++] = ms;
        }
        qsort(cr[s], ncr[s], sizeof(double), bench_cmp);
        qsort(cc[s], ncr[s], sizeof(double), bench_cmp);
        json_array_append_new(lj, json_pack("{s:i, s:i, s:f, s:f, s:f, s:f, s:f}", "loss_pct", (int)loss[s], "n",
                                            (int)ncr[s], "p50", bench_pct(cr[s], ncr[s], 50), "p90",
                                            bench_pct(cr[s], ncr[s], 90), "max", cr[s][ncr[s] - 1], "controller_p50",
                                            bench_pct(cc[s], ncr[s], 50), "controller_p90", bench_pct(cc[s], ncr[s], 90)));
        printf("slice creation at %u %% TCP loss on the ledger's nodes, %zu requests: p50 %.1f ms, p90 %.1f ms, max "
               "%.1f ms through the ledger; the controller's reserve + stitch p50 %.1f ms, p90 %.1f ms\n", loss[s],
               ncr[s], bench_pct(cr[s], ncr[s], 50), bench_pct(cr[s], ncr[s], 90), cr[s][ncr[s] - 1],
               bench_pct(cc[s], ncr[s], 50), bench_pct(cc[s], ncr[s], 90));
    }
    for (size_t v = 0; root && v < 5; v++)
        (void)bench_loss(&b, json_string_value(json_object_get(json_array_get(nodes, v), "netns")), 0);
    if (!root) printf("slice creation at 1 and 5 %% loss: skipped (needs root and nftables)\n");
    json_object_set_new(res, "creation_ms", lj);
    char svg[PATH_MAX + 64];
    snprintf(svg, sizeof svg, "%s/sla_creation_cdf.svg", outdir);
    ef_bench_cdf_svg(svg, cr, ncr, label, 3, "slice creation latency (ms): activate sent to slice confirmed");

    /* 3. receipts: verified per second offline; 1000 epochs settled on the ledger */
    {
        ef_receipt r;
        memset(&r, 0, sizeof r);
        snprintf(r.chain_id, sizeof r.chain_id, "%.64s", b.chain);
        r.sla = 1;
        r.kbps = 100;
        r.pkts_sent = r.pkts_recv = 100;
        r.lat_p50_us = r.lat_p99_us = r.lat_max_us = 100;
        ef_sla_rules rules = {.min_kbps = 50, .max_latency_us = 50000, .max_loss_ppm = 20000};
        if (ef_receipt_make(&r, &rules, &b.mon)) goto out;
        uint64_t t0 = ef_now_mono_us(), n = 0;
        while (ef_now_mono_us() - t0 < 500000) {
            for (int k = 0; k < 100; k++) n += ef_receipt_verify(&r, &b.mon.pub) == 0;
        }
        double vps = (double)n / ((double)(ef_now_mono_us() - t0) / 1e6);
        double sm;
        if (bench_activate(&b, 2, 1000, "car1", &sm) < 0) goto out;   /* 1000 epochs of 5 ms */
        uint64_t sla = b.next_sla;
        json_t *sj = NULL;
        snprintf(path, sizeof path, "/state/sla/sla/%llu", (unsigned long long)sla);
        if (ef_cli_get(api, path, &sj)) goto out;
        uint64_t end = (uint64_t)json_integer_value(json_object_get(sj, "end_ms"));
        json_decref(sj);
        while (ef_now_wall_ms() < end + 500) usleep(50000);
        size_t txs = 0, bytes = 0;
        uint64_t c0 = ef_now_mono_us();
        char *big = malloc(64 * 1024);
        if (!big) goto out;
        for (uint64_t e0 = 0; e0 < 1000; e0 += 24) {
            size_t used = (size_t)snprintf(big, 64 * 1024, "{\"sla\":%llu,\"receipts\":[", (unsigned long long)sla);
            for (uint64_t e = e0; e < e0 + 24 && e < 1000; e++) {
                r.sla = sla;
                r.epoch = e;
                if (ef_receipt_make(&r, &rules, &b.mon)) break;
                char hex[EF_RECEIPT_HEX_MAX + 1];
                if (ef_receipt_hex(hex, sizeof hex, &r)) break;
                used += (size_t)snprintf(big + used, 64 * 1024 - used, "%s\"%s\"", e > e0 ? "," : "", hex);
            }
            used += (size_t)snprintf(big + used, 64 * 1024 - used, "]}");
            if (ef_cli_call(api, &b.op, "sla", "claim", big, err)) {
                fprintf(stderr, "bench sla: claim: %s\n", err);
                free(big);
                goto out;
            }
            txs++;
            bytes += used;
        }
        free(big);
        double cps = 1000.0 / ((double)(ef_now_mono_us() - c0) / 1e6);
        json_object_set_new(res, "receipts", json_pack("{s:f, s:f, s:i, s:i}", "verified_per_s", vps,
                                                       "claimed_per_s", cps, "settle_1000_txs", (int)txs,
                                                       "settle_1000_args_bytes", (int)bytes));
        printf("receipts: %.0f verified/s (offline, one core), %.0f claimed/s on the ledger (24 per transaction, "
               "each waited for); settling 1000 epochs: %zu transactions, %zu bytes of arguments\n",
               vps, cps, txs, bytes);
    }
    json_object_set_new(res, "mode", json_string(enforce ? "netns+htb" : "process (not enforcing)"));
    json_object_set_new(res, "ledger", json_string(root ? "4 validators in network namespaces" : "4 validators on loopback"));
    snprintf(path, sizeof path, "%s/sla.json", outdir);
    json_dump_file(res, path, JSON_INDENT(2));
    snprintf(path, sizeof path, "%s/sla.md", outdir);
    FILE *md = fopen(path, "w");
    if (md) {
        json_t *a = json_object_get(res, "activation_ms"), *rc = json_object_get(res, "receipts");
        fprintf(md, "# bench sla\n\n%s, controller %s.\n\n| figure | value | paper |\n|---|---|---|\n",
                json_string_value(json_object_get(res, "ledger")), json_string_value(json_object_get(res, "mode")));
        fprintf(md, "| activation p50 / p90 / mean (ms, stitching included, n=%ld) | %.1f / %.1f / %.1f | 16.9 s mean |\n",
                nact, json_real_value(json_object_get(a, "p50")), json_real_value(json_object_get(a, "p90")),
                json_real_value(json_object_get(a, "mean")));
        size_t k;
        json_t *x;
        json_array_foreach(json_object_get(res, "creation_ms"), k, x)
            fprintf(md, "| slice creation at %lld %% loss p50 / p90 (ms, n=%lld): through the ledger (activate sent -> "
                        "confirmed); the controller's reserve + stitch | %.1f / %.1f; %.1f / %.1f | Fig. 3 |\n",
                    (long long)json_integer_value(json_object_get(x, "loss_pct")),
                    (long long)json_integer_value(json_object_get(x, "n")), json_real_value(json_object_get(x, "p50")),
                    json_real_value(json_object_get(x, "p90")), json_real_value(json_object_get(x, "controller_p50")),
                    json_real_value(json_object_get(x, "controller_p90")));
        fprintf(md, "| receipts verified / claimed per second | %.0f / %.0f | |\n| settling 1000 epochs | %lld txs, "
                    "%lld bytes of args | |\n\nCDF: sla_creation_cdf.svg\n",
                json_real_value(json_object_get(rc, "verified_per_s")), json_real_value(json_object_get(rc, "claimed_per_s")),
                (long long)json_integer_value(json_object_get(rc, "settle_1000_txs")),
                (long long)json_integer_value(json_object_get(rc, "settle_1000_args_bytes")));
        fclose(md);
    }
    printf("bench sla: wrote %s/sla.json, sla.md, sla_creation_cdf.svg\n", outdir);
    ret = 0;
out:
    if (ctl > 0) (void)ef_proc_stop(ctl, 15000);
    (void)ef_proc_cmd_log(b.log, exe, "testnet", "down", "--dir", net, NULL);
    if (ret) fprintf(stderr, "bench sla: FAILED; files in %s\n", dir);
    else if (ef_fs_remove_tree(dir)) fprintf(stderr, "bench sla: cannot remove %s\n", dir);
    json_decref(tn);
    json_decref(res);
    free(act);
    free(stitch);
    for (int s = 0; s < 3; s++) free(cc[s]);
    for (int s = 0; s < 3; s++) free(cr[s]);
    return ret;
}
