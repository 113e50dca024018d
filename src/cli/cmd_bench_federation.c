/* cmd_bench_federation.c: `edgefed bench federation`: seed 001's experiment, ledger MEF vs the REST baseline. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "agents/ef_soa.h"
#include "base/ef_err.h"
#include "base/ef_fs.h"
#include "base/ef_log.h"
#include "cli/cli.h"
#include "cli/cli_admin.h"
#include "cli/cli_fedrun.h"
#include "cli/cli_soa_bench.h"

static const char *const bf_usage =
    "usage: edgefed bench federation [--n 2,10,15,25,30] [--runs 20] [--driver netns|process]\n"
    "                                [--out DIR] [--ref DIR] [--no-soa] [--keep] [--timeout S]\n"
    "\n"
    "Seed 001's experiment. For each N: N MEC systems, each its own validator node\n"
    "(validators = N) with a MEF agent; consumers:providers = 80:20 (providers =\n"
    "max(1, N/5)); every consumer announces at once (off the same committed block),\n"
    "waits for min(2, providers) offers, and the service is terminated once paid so the\n"
    "next run starts (RUNS runs). Federation time = announce to app-to-app traffic,\n"
    "split into announce->offers, award, deployment, connection; mean and sd over\n"
    "every consumer x run. CPU (vCPU = share of one core) and RSS of every validator\n"
    "process, sampled each second from the first announcement to the last result.\n"
    "Then the REST baseline (edgefed soa bench: same drivers, same pricing, no ledger)\n"
    "for the same N and RUNS. Writes federation.json and federation.md to DIR (default\n"
    "./bench-out), side by side with the Besu figures of the seed from\n"
    "DIR/besu-federation-times.csv and besu-validator-resources.csv (--ref, default\n"
    "../shared/reference).\n"
    "  --driver  netns (default when root) or process\n"
    "  --timeout seconds allowed per N for all runs (default 60 + 10 x runs)\n"
    "  --keep    keep the ledger runs' directories (node logs, traces, stores)\n";

typedef struct bf_stat {
    double sum, sum2;
    size_t n;
} bf_stat;

static void bf_add(bf_stat *s, double v)
{
    s->sum += v;
    s->sum2 += v * v;
    s->n++;
}
static double bf_mean(const bf_stat *s) { return s->n ? s->sum / (double)s->n : 0.0; }
static double bf_sd(const bf_stat *s)
{
    if (s->n < 2) return 0.0;
    double m = bf_mean(s), v = (s->sum2 - (double)s->n * m * m) / (double)(s->n - 1);
    return v > 0 ? sqrt(v) : 0.0;
}
static json_t *bf_stat_json(const bf_stat *s)
{
    return json_pack("{s:f, s:f, s:I}", "mean_ms", bf_mean(s), "sd_ms", bf_sd(s), "n", (json_int_t)s->n);
}

/* A reference CSV row by n_mec: the columns as doubles (NaN if missing). */
static int bf_ref_row(const char *dir, const char *file, unsigned n, double *cols, int max)
{
    char path[600], line[512];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int got = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] < '0' || line[0] > '9') continue;
        char *p = line, *end;
        if (strtoul(p, &end, 10) != n) continue;
        p = end;
        while (*p == ',' && got < max) {
            cols[got++] = strtod(p + 1, &end);
            p = end;
        }
        break;
    }
    fclose(f);
    return got;
}

static const char *const bf_steps[] = {"announce_to_offers", "award", "deployment", "connection", "federation"};
#define BF_STEPS 5

/* Work counters of every node ({"height", "work":{...}} per node), from its admin
 * socket; sums[] gets height, then the BF_WORK fields, summed over the nodes. */
static const char *const bf_work_keys[] = {"cons_received", "cons_verified", "frames_in", "frames_out",
                                           "bytes_in", "bytes_out", "writes_out"};
#define BF_WORK 7

static void bf_work(const ef_fedrun *fr, double sums[1 + BF_WORK], double heights[EF_FEDRUN_NODES_MAX])
{
    static ef_admin_reader rd;   /* 1 MiB: not on the stack */
    memset(sums, 0, sizeof(double) * (1 + BF_WORK));
    for (size_t i = 0; i < fr->n; i++) {
        heights[i] = 0;
        int fd = ef_admin_connect(fr->nodes[i].home);
        if (fd < 0) continue;
        rd.fd = fd;
        rd.len = rd.off = 0;
        char *line;
        if (!ef_admin_write(fd, "status\n", 7) && !ef_admin_readline(&rd, &line) && !strncmp(line, "status ", 7)) {
            json_t *st = json_loads(line + 7, 0, NULL);
            json_t *w = json_object_get(st, "work");
            heights[i] = (double)json_integer_value(json_object_get(st, "height"));
            sums[0] += heights[i];
            for (int k = 0; k < BF_WORK; k++)
                sums[1 + k] += (double)json_integer_value(json_object_get(w, bf_work_keys[k]));
            json_decref(st);
        }
        close(fd);
    }
}

/* One N on the ledger. Fills out (an object). 0 or an error. */
static bool bf_keep;   /* --keep: leave the work directories (traces, logs, stores) */

static int bf_ledger(unsigned n, unsigned runs, bool netns, const char *work, int timeout_s, json_t *out)
{
    unsigned providers = n / 5 ? n / 5 : 1, consumers = n - providers;
    char dir[EF_FEDRUN_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/ledger-n%u", work, n);
    ef_fedrun *fr = calloc(1, sizeof *fr);
    ef_fedrun_cfg cfg = {
        .n = n, .consumers = consumers, .netns = netns, .dir = dir, .runs = runs,
        .offers = providers < 2 ? providers : 2, .bid_window_ms = 20000, .deploy_window_ms = 60000,
        .max_price = 1000, .hold = false, .base_port = 32000 + (unsigned)(getpid() % 50) * 300,
    };
    bf_stat st[BF_STEPS] = {0}, rss = {0}, cpu = {0};
    double rss_max = 0;
    size_t ok = 0, failed = 0;
    json_t *results = NULL, *report = NULL;
    int rc = EF_ENOMEM;
    if (!fr) goto out;
    if ((rc = ef_fedrun_init(fr, &cfg))) goto out;
    if ((rc = ef_fedrun_up(fr))) goto out;

    /* wait for the first announcement, then sample CPU and RSS each second */
    uint64_t deadline = ef_now_wall_ms() + (uint64_t)timeout_s * 1000;
    json_t *trace = json_array();
    while (ef_now_wall_ms() < deadline && json_array_size(trace) == 0) {
        ef_fedrun_trace_poll(fr, trace);
        usleep(20 * 1000);
    }
    json_decref(trace);
    double work0[1 + BF_WORK], work1[1 + BF_WORK], h0[EF_FEDRUN_NODES_MAX], h1[EF_FEDRUN_NODES_MAX];
    bf_work(fr, work0, h0);
    uint64_t prev_ticks[EF_FEDRUN_NODES_MAX] = {0}, prev_ms = ef_now_wall_ms();
    for (size_t i = 0; i < fr->n; i++) {
        uint64_t r;
        ef_fedrun_proc(fr, i, &r, &prev_ticks[i]);
    }
    long tck = sysconf(_SC_CLK_TCK);
    size_t want = (size_t)consumers * runs;
    for (;;) {
        usleep(1000 * 1000);
        uint64_t now = ef_now_wall_ms();
        for (size_t i = 0; i < fr->n; i++) {
            uint64_t r, t;
            if (ef_fedrun_proc(fr, i, &r, &t)) continue;
            bf_add(&rss, (double)r / 1024.0);
            if (r / 1024.0 > rss_max) rss_max = (double)r / 1024.0;
            if (now > prev_ms)
                bf_add(&cpu, (double)(t - prev_ticks[i]) / (double)tck / ((double)(now - prev_ms) / 1000.0));
            prev_ticks[i] = t;
        }
        prev_ms = now;
        json_decref(results);
        results = ef_fedrun_results(fr);
        size_t done = 0;
        for (size_t i = 0; i < json_array_size(results); i++)
            if (!strcmp(json_string_value(json_object_get(json_array_get(results, i), "role")), "consumer")) done++;
        if (done >= want || now >= deadline) break;
    }
    for (size_t i = 0; i < json_array_size(results); i++) {
        json_t *r = json_array_get(results, i);
        if (strcmp(json_string_value(json_object_get(r, "role")), "consumer")) continue;
        json_t *steps = json_object_get(r, "steps_us");
        if (strcmp(json_string_value(json_object_get(r, "outcome")), "connected") || !steps) {
            failed++;
            continue;
        }
        ok++;
        for (int k = 0; k < BF_STEPS; k++)
            bf_add(&st[k], (double)json_integer_value(json_object_get(steps, bf_steps[k])) / 1000.0);
    }
    failed += want > ok + failed ? want - ok - failed : 0;   /* never finished */
    bf_work(fr, work1, h1);
    ef_fedrun_down(fr);
    int crc = ef_fedrun_check(fr, &report);
    json_t *stepj = json_object();
    for (int k = 0; k < BF_STEPS; k++) json_object_set_new(stepj, bf_steps[k], bf_stat_json(&st[k]));
    json_object_set_new(out, "consumers", json_integer(consumers));
    json_object_set_new(out, "providers", json_integer(providers));
    json_object_set_new(out, "offers_wanted", json_integer(cfg.offers));
    json_object_set_new(out, "samples_ok", json_integer((json_int_t)ok));
    json_object_set_new(out, "samples_failed", json_integer((json_int_t)failed));
    json_object_set_new(out, "steps", stepj);
    json_object_set_new(out, "validator_cpu_vcpu",
                        json_pack("{s:f, s:f}", "mean", bf_mean(&cpu), "sd", bf_sd(&cpu)));
    json_object_set_new(out, "validator_rss_mb",
                        json_pack("{s:f, s:f, s:f}", "mean", bf_mean(&rss), "sd", bf_sd(&rss), "max", rss_max));
    /* work per committed height per node over the measured window: robust to load */
    double heights = (work1[0] - work0[0]) / (double)fr->n;
    json_t *wj = json_object();
    json_object_set_new(wj, "heights", json_real(heights));
    json_object_set_new(wj, "heights_per_run", json_real(heights / (double)runs));
    for (int k = 0; k < BF_WORK && heights > 0; k++)
        json_object_set_new(wj, bf_work_keys[k], json_real((work1[1 + k] - work0[1 + k]) / (double)fr->n / heights));
    json_object_set_new(out, "per_height_per_node", wj);
    json_object_set_new(out, "ledger_check_ok", json_boolean(crc == 0));
    if (report) json_object_set_new(out, "ledger_height", json_incref(json_object_get(report, "height")));
    rc = 0;
out:
    if (fr && fr->up) ef_fedrun_down(fr);
    if (rc == 0 && failed == 0 && !bf_keep && ef_fs_remove_tree(dir))
        fprintf(stderr, "bench: could not remove %s\n", dir);
    json_decref(results);
    json_decref(report);
    free(fr);
    return rc;
}

static int bf_soa(unsigned n, unsigned runs, bool netns, const char *work, json_t *out)
{
    char dir[EF_FEDRUN_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/soa-n%u", work, n);
    mkdir(dir, 0700);
    ef_soa_bench_cfg cfg = {.n_mec = n, .runs = runs, .driver = netns ? "netns" : "process", .work_dir = dir,
                            .base_port = (uint16_t)(7100 + (getpid() % 50) * 40)};
    ef_soa_bench_result r;
    memset(&r, 0, sizeof r);
    int rc = ef_soa_bench_run(&cfg, &r);
    if (rc) return rc;
    json_t *steps = json_object();
    const ef_soa_stat *s[BF_STEPS] = {&r.offers, &r.award, &r.deploy, &r.connect, &r.total};
    for (int k = 0; k < BF_STEPS; k++)
        json_object_set_new(steps, bf_steps[k], json_pack("{s:f, s:f}", "mean_ms", s[k]->mean_ms, "sd_ms", s[k]->sd_ms));
    json_object_set_new(out, "steps", steps);
    json_object_set_new(out, "samples", json_integer((json_int_t)r.n_samples));
    json_object_set_new(out, "samples_failed", json_integer((json_int_t)r.n_failed));
    ef_soa_bench_free(&r);
    if (ef_fs_remove_tree(dir)) fprintf(stderr, "bench: could not remove %s\n", dir);
    return 0;
}

static double bf_get(const json_t *o, const char *step, const char *what)
{
    return json_real_value(json_object_get(json_object_get(json_object_get(o, "steps"), step), what));
}

int ef_cmd_bench_federation(int argc, char **argv)
{
    static const char *const opts[] = {"n=", "runs=", "driver=", "out=", "ref=", "no-soa", "keep", "timeout=", NULL};
    int checked = ef_cli_check(argc, argv, bf_usage, opts, 0);
    if (checked >= 0) return checked;
    if (ef_cli_wants_help(argc, argv)) {
        fputs(bf_usage, stdout);
        return 0;
    }
    bool root = geteuid() == 0;
    const char *ns_list = ef_cli_opt(argc, argv, "n", "2,10,15,25,30");
    unsigned runs = (unsigned)atoi(ef_cli_opt(argc, argv, "runs", "20"));
    const char *driver = ef_cli_opt(argc, argv, "driver", root ? "netns" : "process");
    const char *outdir = ef_cli_opt(argc, argv, "out", "bench-out");
    const char *refdir = ef_cli_opt(argc, argv, "ref", "../shared/reference");
    bool soa = !ef_cli_flag(argc, argv, "no-soa");
    bf_keep = ef_cli_flag(argc, argv, "keep");
    int timeout_s = atoi(ef_cli_opt(argc, argv, "timeout", "0"));
    if (!timeout_s) timeout_s = 60 + 10 * (int)runs;
    bool netns = !strcmp(driver, "netns");
    if (runs < 1 || (!netns && strcmp(driver, "process")) || (netns && !root)) {
        fputs(bf_usage, stderr);
        return 2;
    }
    unsigned ns[16];
    size_t nn = 0;
    for (const char *p = ns_list; *p && nn < 16;) {
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        if (end == p || v < 2 || v > EF_FEDRUN_NODES_MAX) {
            fputs(bf_usage, stderr);
            return 2;
        }
        ns[nn++] = (unsigned)v;
        p = *end == ',' ? end + 1 : end;
    }
    mkdir(outdir, 0755);
    char work[64];
    snprintf(work, sizeof work, "/tmp/edgefed-benchfed-XXXXXX");
    if (!mkdtemp(work)) return 1;

    json_t *doc = json_pack("{s:s, s:I, s:s, s:[]}", "bench", "federation", "runs", (json_int_t)runs, "driver",
                            driver, "results");
    printf("edgefed bench federation: driver %s, %u runs per N, work dir %s\n", driver, runs, work);
    for (size_t i = 0; i < nn; i++) {
        unsigned n = ns[i];
        json_t *row = json_pack("{s:I}", "n_mec", (json_int_t)n), *led = json_object(), *rest = json_object();
        printf("N = %u: ledger ...\n", n);
        fflush(stdout);
        int rc = bf_ledger(n, runs, netns, work, timeout_s, led);
        if (rc) json_object_set_new(led, "error", json_string(ef_strerror(rc)));
        json_object_set_new(row, "ledger", led);
        if (soa) {
            printf("N = %u: REST baseline ...\n", n);
            fflush(stdout);
            rc = bf_soa(n, runs, netns, work, rest);
            if (rc) json_object_set_new(rest, "error", json_string(ef_strerror(rc)));
        }
        json_object_set_new(row, "soa", rest);
        double cols[8];
        json_t *besu = NULL;
        if (bf_ref_row(refdir, "besu-federation-times.csv", n, cols, 8) >= 5)
            besu = json_pack("{s:f, s:f, s:f}", "clique_s", cols[2], "qbft_s", cols[3], "soa_s", cols[4]);
        if (besu && bf_ref_row(refdir, "besu-validator-resources.csv", n, cols, 8) >= 4) {
            json_object_set_new(besu, "clique_cpu_vcpu", json_real(cols[0] / 100.0));
            json_object_set_new(besu, "clique_mem_mb", json_real(cols[1]));
            json_object_set_new(besu, "qbft_cpu_vcpu", json_real(cols[2] / 100.0));
            json_object_set_new(besu, "qbft_mem_mb", json_real(cols[3]));
        }
        if (besu) json_object_set_new(row, "besu", besu);
        double fed = bf_get(led, "federation", "mean_ms"), sfed = bf_get(rest, "federation", "mean_ms");
        if (soa && sfed > 0) json_object_set_new(row, "ledger_overhead_ms", json_real(fed - sfed));
        printf("N = %u: ledger %.1f ms (sd %.1f), REST %.1f ms, overhead %.1f ms; validator %.3f vCPU, %.1f MB\n", n,
               fed, bf_get(led, "federation", "sd_ms"), sfed, fed - sfed,
               json_real_value(json_object_get(json_object_get(led, "validator_cpu_vcpu"), "mean")),
               json_real_value(json_object_get(json_object_get(led, "validator_rss_mb"), "mean")));
        const json_t *wk = json_object_get(led, "per_height_per_node");
        printf("N = %u: %.1f heights per run; per height per node: %.1f consensus messages received, %.1f "
               "signatures checked, %.1f frames sent in %.1f writes, %.0f bytes sent\n", n,
               json_real_value(json_object_get(wk, "heights_per_run")),
               json_real_value(json_object_get(wk, "cons_received")),
               json_real_value(json_object_get(wk, "cons_verified")),
               json_real_value(json_object_get(wk, "frames_out")), json_real_value(json_object_get(wk, "writes_out")),
               json_real_value(json_object_get(wk, "bytes_out")));
        json_array_append_new(json_object_get(doc, "results"), row);
        fflush(stdout);
    }

    char path[600];
    snprintf(path, sizeof path, "%s/federation.json", outdir);
    if (json_dump_file(doc, path, JSON_INDENT(2) | JSON_SORT_KEYS)) fprintf(stderr, "bench: cannot write %s\n", path);
    snprintf(path, sizeof path, "%s/federation.md", outdir);
    FILE *md = fopen(path, "w");
    if (md) {
        fprintf(md, "# edgefed bench federation (driver %s, %u runs per N)\n\n", driver, runs);
        fprintf(md, "Federation time = announce to app-to-app traffic, mean (sd) over every consumer x run, ms.\n"
                    "Besu columns: seed 001 (5 s block period), seconds.\n\n");
        fprintf(md, "| N | C:P | ledger total | offers | award | deployment | connection | REST total | overhead |"
                    " Besu QBFT | Besu Clique | Besu REST | Besu overhead (QBFT) |\n"
                    "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        json_t *row;
        size_t i;
        json_array_foreach(json_object_get(doc, "results"), i, row) {
            json_t *led = json_object_get(row, "ledger"), *rest = json_object_get(row, "soa"),
                   *besu = json_object_get(row, "besu");
            fprintf(md, "| %lld | %lld:%lld | %.1f (%.1f) | %.1f | %.1f | %.1f | %.1f | %.1f (%.1f) | %.1f |",
                    json_integer_value(json_object_get(row, "n_mec")),
                    json_integer_value(json_object_get(led, "consumers")),
                    json_integer_value(json_object_get(led, "providers")), bf_get(led, "federation", "mean_ms"),
                    bf_get(led, "federation", "sd_ms"), bf_get(led, "announce_to_offers", "mean_ms"),
                    bf_get(led, "award", "mean_ms"), bf_get(led, "deployment", "mean_ms"),
                    bf_get(led, "connection", "mean_ms"), bf_get(rest, "federation", "mean_ms"),
                    bf_get(rest, "federation", "sd_ms"),
                    json_real_value(json_object_get(row, "ledger_overhead_ms")));
            if (besu)
                fprintf(md, " %.2f s | %.2f s | %.2f s | %.2f s |\n",
                        json_real_value(json_object_get(besu, "qbft_s")),
                        json_real_value(json_object_get(besu, "clique_s")),
                        json_real_value(json_object_get(besu, "soa_s")),
                        json_real_value(json_object_get(besu, "qbft_s")) -
                            json_real_value(json_object_get(besu, "soa_s")));
            else
                fprintf(md, " n/a | n/a | n/a | n/a |\n");
        }
        fprintf(md, "\nPer validator process (node incl. its MEF agent), sampled each second during the runs:\n\n"
                    "| N | vCPU mean (sd) | RSS MB mean (max) | failed samples | ledger checks | Besu QBFT vCPU | Besu QBFT MB |\n"
                    "|---|---|---|---|---|---|---|\n");
        json_array_foreach(json_object_get(doc, "results"), i, row) {
            json_t *led = json_object_get(row, "ledger"), *besu = json_object_get(row, "besu");
            json_t *cpu = json_object_get(led, "validator_cpu_vcpu"), *rss = json_object_get(led, "validator_rss_mb");
            fprintf(md, "| %lld | %.4f (%.4f) | %.1f (%.1f) | %lld | %s |",
                    json_integer_value(json_object_get(row, "n_mec")), json_real_value(json_object_get(cpu, "mean")),
                    json_real_value(json_object_get(cpu, "sd")), json_real_value(json_object_get(rss, "mean")),
                    json_real_value(json_object_get(rss, "max")),
                    json_integer_value(json_object_get(led, "samples_failed")),
                    json_is_true(json_object_get(led, "ledger_check_ok")) ? "ok" : "FAILED");
            if (besu)
                fprintf(md, " %.3f | %.0f |\n", json_real_value(json_object_get(besu, "qbft_cpu_vcpu")),
                        json_real_value(json_object_get(besu, "qbft_mem_mb")));
            else
                fprintf(md, " n/a | n/a |\n");
        }
        fprintf(md, "\nWork per committed height per validator node over the runs (counts: they do not\n"
                    "depend on the machine's load as times do):\n\n"
                    "| N | heights per run | consensus messages received | signatures checked | frames sent "
                    "| socket writes | bytes sent |\n"
                    "|---|---|---|---|---|---|---|\n");
        json_array_foreach(json_object_get(doc, "results"), i, row) {
            json_t *w = json_object_get(json_object_get(row, "ledger"), "per_height_per_node");
            fprintf(md, "| %lld | %.1f | %.1f | %.1f | %.1f | %.1f | %.0f |\n",
                    json_integer_value(json_object_get(row, "n_mec")),
                    json_real_value(json_object_get(w, "heights_per_run")),
                    json_real_value(json_object_get(w, "cons_received")),
                    json_real_value(json_object_get(w, "cons_verified")),
                    json_real_value(json_object_get(w, "frames_out")),
                    json_real_value(json_object_get(w, "writes_out")),
                    json_real_value(json_object_get(w, "bytes_out")));
        }
        fclose(md);
    }
    printf("wrote %s/federation.json and %s/federation.md\n", outdir, outdir);
    json_decref(doc);
    if (rmdir(work)) printf("work files left in %s\n", work);
    return 0;
}
