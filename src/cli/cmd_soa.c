/* cmd_soa.c: `edgefed soa provider|consumer|bench`: the REST federation baseline (no ledger). */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "agents/ef_httpc.h"
#include "agents/ef_soa.h"
#include "base/ef_log.h"
#include "cli/cli.h"
#include "cli/cli_bench.h"
#include "cli/cli_soa_bench.h"

#define EF_SOA_CLI_SIZES_MAX 16

static const char *const ef_soa_usage_text =
            "usage: edgefed soa provider --listen ADDR:PORT --name MEC --credentials FILE [--location CODE]\n"
            "                            [--base N] [--tod F0,..,F23] [--utc-offset-min M]\n"
            "                            [--driver process|netns] [--netns NS] [--underlay IP]\n"
            "                            [--app-ports A-B] [--app PATH] [--exit-with-parent]\n"
            "       edgefed soa consumer --registry FILE --name MEC --service ID [--kind K]\n"
            "                            [--driver process|netns] [--netns NS] [--underlay IP] [--keep]\n"
            "       edgefed soa bench [--n 2,10,15,25,30] [--runs 20] [--driver process|netns] [--out DIR]\n"
            "\n"
            "The REST baseline of seed 001 (\"SOA\"): no ledger; MEC systems know each other in\n"
            "advance and authenticate with pre-shared keys (HMAC, see src/agents/ef_soa.h).\n"
            "provider: answers price quotes (base tariff of its location x time-of-day factor)\n"
            "  and deploy/teardown requests with its MEO driver. FILE lines: CLIENT_ID HEXKEY.\n"
            "consumer: asks every provider of the registry (lines: NAME A.B.C.D:PORT CLIENT_ID\n"
            "  HEXKEY) for a quote, picks the cheapest, has it deploy, connects, checks\n"
            "  app-to-app traffic, prints each step's time, then releases the service (with\n"
            "  --keep: after SIGINT/SIGTERM).\n"
            "bench: for each N, N MEC systems (80:20 consumers:providers), all consumers\n"
            "  federating at once, RUNS rounds; mean and sd of each step; writes soa.json and\n"
            "  soa.md to DIR (default ./bench-out).\n";

static int ef_soa_meo_open(ef_meo **meo, int argc, char **argv, const char *name)
{
    const char *driver = ef_cli_opt(argc, argv, "driver", "process");
    const char *ports = ef_cli_opt(argc, argv, "app-ports", NULL);
    unsigned a = 0, b = 0;
    if (ports && (sscanf(ports, "%u-%u", &a, &b) != 2 || a < 1024 || b > 65535 || a > b)) return EF_EINVAL;
    ef_meo_config mc = {.mec_name = name,
                        .netns = ef_cli_opt(argc, argv, "netns", NULL),
                        .underlay_ip = ef_cli_opt(argc, argv, "underlay", NULL),
                        .app_path = ef_cli_opt(argc, argv, "app", NULL),
                        .port_min = (uint16_t)a,
                        .port_max = (uint16_t)b};
    return ef_meo_open(meo, driver, &mc);
}

static void ef_soa_block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    pthread_sigmask(SIG_BLOCK, set, NULL);
}

/* Blocks SIGTERM/SIGINT (into set) and opens the MEO driver of MEC system name;
 * NULL (said on stderr, for role) if the driver cannot be opened. */
static ef_meo *ef_soa_start(sigset_t *set, int argc, char **argv, const char *name, const char *role)
{
    ef_soa_block_signals(set);
    ef_meo *meo = NULL;
    int err = ef_soa_meo_open(&meo, argc, argv, name);
    if (err) fprintf(stderr, "soa %s: MEO driver: %s\n", role, ef_strerror(err));
    return err ? NULL : meo;
}

/* Waits for SIGTERM/SIGINT (blocked in set), or for the parent to go when watch. */
static void ef_soa_wait_stop(sigset_t *set, int watch)
{
    pid_t parent = getppid();
    struct timespec tick = {.tv_sec = 0, .tv_nsec = 200 * 1000000L};
    for (;;) {
        int sig = sigtimedwait(set, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT) return;
        if (watch && getppid() != parent) return;
    }
}

static int ef_soa_provider_cmd(int argc, char **argv)
{
    static const char *const opts[] = {"listen=", "name=", "credentials=", "location=", "base=", "tod=", "utc-offset-min=", "exit-with-parent", "driver=", "netns=", "underlay=", "app-ports=", "app=", NULL};
    int checked = ef_cli_check(argc, argv, ef_soa_usage_text, opts, 0);
    if (checked >= 0) return checked;
    const char *listen = ef_cli_opt(argc, argv, "listen", NULL);
    const char *name = ef_cli_opt(argc, argv, "name", NULL);
    const char *credf = ef_cli_opt(argc, argv, "credentials", NULL);
    const char *loc = ef_cli_opt(argc, argv, "location", "ES");
    ef_soa_provider_cfg pc = {0};
    if (!listen || !name || !credf || ef_httpc_parse_hostport(listen, &pc.listen_ip, &pc.listen_port)) {
        fputs(ef_soa_usage_text, stderr);
        return 2;
    }
    if (ef_pricing_default(&pc.pricing, loc)) {
        fprintf(stderr, "soa provider: unknown location %s\n", loc);
        return 2;
    }
    const char *base = ef_cli_opt(argc, argv, "base", NULL);
    const char *tod = ef_cli_opt(argc, argv, "tod", NULL);
    const char *off = ef_cli_opt(argc, argv, "utc-offset-min", NULL);
    if (base) pc.pricing.base_per_hour = strtoull(base, NULL, 10);
    if (off) pc.pricing.utc_offset_min = (int32_t)strtol(off, NULL, 10);
    if ((tod && ef_pricing_parse_tod(pc.pricing.tod_permille, tod)) || ef_pricing_valid(&pc.pricing)) {
        fprintf(stderr, "soa provider: bad pricing options\n");
        return 2;
    }
    static ef_soa_cred creds[EF_SOA_PEERS_MAX];
    int n = ef_soa_read_creds(credf, creds, EF_SOA_PEERS_MAX);
    if (n < 0) {
        fprintf(stderr, "soa provider: %s: %s\n", credf, ef_strerror(n));
        return 1;
    }
    sigset_t set;
    ef_meo *meo = ef_soa_start(&set, argc, argv, name, "provider");
    if (!meo) return 1;
    int err;
    pc.name = name;
    pc.creds = creds;
    pc.n_creds = (size_t)n;
    pc.meo = meo;
    ef_soa_provider *p;
    if ((err = ef_soa_provider_start(&p, &pc))) {
        fprintf(stderr, "soa provider: cannot serve on %s: %s\n", listen, ef_strerror(err));
        ef_meo_close(meo);
        return 1;
    }
    sodium_memzero(creds, sizeof creds);
    printf("soa provider %s (%s, %s driver) listening on %s, %d consumers\n", name, loc, ef_meo_driver(meo), listen, n);
    fflush(stdout);
    ef_soa_wait_stop(&set, ef_cli_flag(argc, argv, "exit-with-parent"));
    ef_soa_provider_stop(p);
    ef_meo_close(meo);
    return 0;
}

static int ef_soa_consumer_cmd(int argc, char **argv)
{
    static const char *const opts[] = {"registry=", "name=", "service=", "kind=", "keep", "driver=", "netns=", "underlay=", "app-ports=", "app=", NULL};
    int checked = ef_cli_check(argc, argv, ef_soa_usage_text, opts, 0);
    if (checked >= 0) return checked;
    const char *reg = ef_cli_opt(argc, argv, "registry", NULL);
    const char *name = ef_cli_opt(argc, argv, "name", NULL);
    const char *sid = ef_cli_opt(argc, argv, "service", NULL);
    const char *kind = ef_cli_opt(argc, argv, "kind", "vr-game");
    if (!reg || !name || !sid) {
        fputs(ef_soa_usage_text, stderr);
        return 2;
    }
    static ef_soa_peer peers[EF_SOA_PEERS_MAX];
    int n = ef_soa_read_registry(reg, peers, EF_SOA_PEERS_MAX);
    if (n <= 0) {
        fprintf(stderr, "soa consumer: %s: %s\n", reg, n ? ef_strerror(n) : "no providers");
        return 1;
    }
    sigset_t set;
    ef_meo *meo = ef_soa_start(&set, argc, argv, name, "consumer");
    if (!meo) return 1;
    ef_soa_consumer_cfg cc = {.netns = ef_cli_opt(argc, argv, "netns", NULL), .peers = peers,
                              .n_peers = (size_t)n, .meo = meo};
    ef_soa_result r;
    int err = ef_soa_federate(&cc, sid, kind, &r);
    if (err) {
        fprintf(stderr, "soa consumer: federation %s failed: %s\n", sid, ef_strerror(err));
        ef_meo_close(meo);
        return 1;
    }
    char cs[EF_MEO_EP_STR_MAX], ps[EF_MEO_EP_STR_MAX];
    (void)ef_meo_ep_format(cs, sizeof cs, &r.cons_ep);
    (void)ef_meo_ep_format(ps, sizeof ps, &r.prov_ep);
    printf("service %s federated with %s at %" PRIu64 "/h (%zu offers)\n", sid, r.provider, r.price, r.offers);
    printf("  announce->offers %8.2f ms\n  award            %8.2f ms\n  deployment       %8.2f ms\n"
           "  connection       %8.2f ms\n  total            %8.2f ms\n",
           r.offers_us / 1000.0, r.award_us / 1000.0, r.deploy_us / 1000.0, r.connect_us / 1000.0,
           r.total_us / 1000.0);
    printf("  consumer %s\n  provider %s\n", cs, ps);
    fflush(stdout);
    if (ef_cli_flag(argc, argv, "keep")) {
        printf("up; SIGINT or SIGTERM releases it\n");
        fflush(stdout);
        ef_soa_wait_stop(&set, 0);
    }
    err = ef_soa_release(&cc, r.winner, sid);
    if (err) fprintf(stderr, "soa consumer: release %s: %s\n", sid, ef_strerror(err));
    else printf("released %s\n", sid);
    ef_meo_close(meo);
    return err ? 1 : 0;
}

static json_t *ef_soa_stat_json(ef_soa_stat s)
{
    return json_pack("{s:f,s:f}", "mean_ms", s.mean_ms, "sd_ms", s.sd_ms);
}

static int ef_soa_bench_cmd(int argc, char **argv)
{
    static const char *const opts[] = {"n=", "runs=", "driver=", "out=", NULL};
    int checked = ef_cli_check(argc, argv, ef_soa_usage_text, opts, 0);
    if (checked >= 0) return checked;
    const char *sizes = ef_cli_opt(argc, argv, "n", "2,10,15,25,30");
    long runs = strtol(ef_cli_opt(argc, argv, "runs", "20"), NULL, 10);
    const char *driver = ef_cli_opt(argc, argv, "driver", geteuid() == 0 ? "netns" : "process");
    const char *outdir = ef_cli_opt(argc, argv, "out", "bench-out");
    unsigned ns[EF_SOA_CLI_SIZES_MAX];
    size_t nn = 0;
    for (const char *s = sizes; *s && nn < EF_SOA_CLI_SIZES_MAX;) {
        char *e;
        long v = strtol(s, &e, 10);
        if (e == s || v < 2 || v > EF_SOA_PEERS_MAX) { fputs(ef_soa_usage_text, stderr); return 2; }
        ns[nn++] = (unsigned)v;
        s = *e == ',' ? e + 1 : e;
        if (*e && *e != ',') { fputs(ef_soa_usage_text, stderr); return 2; }
    }
    if (runs < 1 || runs > 1000 || nn == 0 || ef_bench_mkdir(outdir)) {
        fputs(ef_soa_usage_text, stderr);
        return 2;
    }
    json_t *jres = json_array();
    FILE *md = ef_bench_open(outdir, "soa", "md");
    if (!md || !jres) {
        if (md) fclose(md);
        json_decref(jres);
        return 1;
    }
    fprintf(md, "# REST baseline (SOA), %s driver, %ld runs\n\n", driver, runs);
    fprintf(md, "| N | consumers:providers | announce->offers ms | award ms | deployment ms | connection ms | "
                "total ms (mean +- sd) | failed |\n|---|---|---|---|---|---|---|---|\n");
    int status = 0;
    for (size_t i = 0; i < nn; i++) {
        ef_soa_bench_cfg bc = {.n_mec = ns[i], .runs = (unsigned)runs, .driver = driver, .work_dir = outdir};
        ef_soa_bench_result r;
        int err = ef_soa_bench_run(&bc, &r);
        if (err) {
            fprintf(stderr, "soa bench: N=%u: %s\n", ns[i], ef_strerror(err));
            status = 1;
            break;
        }
        printf("N=%2u (%u:%u) offers %.2f+-%.2f award %.3f deploy %.2f+-%.2f connect %.2f+-%.2f "
               "total %.2f+-%.2f ms, %zu/%zu failed\n",
               r.n_mec, r.n_consumers, r.n_providers, r.offers.mean_ms, r.offers.sd_ms, r.award.mean_ms,
               r.deploy.mean_ms, r.deploy.sd_ms, r.connect.mean_ms, r.connect.sd_ms, r.total.mean_ms, r.total.sd_ms,
               r.n_failed, r.n_samples);
        fprintf(md, "| %u | %u:%u | %.2f +- %.2f | %.3f | %.2f +- %.2f | %.2f +- %.2f | %.2f +- %.2f | %zu/%zu |\n",
                r.n_mec, r.n_consumers, r.n_providers, r.offers.mean_ms, r.offers.sd_ms, r.award.mean_ms,
                r.deploy.mean_ms, r.deploy.sd_ms, r.connect.mean_ms, r.connect.sd_ms, r.total.mean_ms, r.total.sd_ms,
                r.n_failed, r.n_samples);
        json_array_append_new(jres, json_pack("{s:i,s:i,s:i,s:i,s:I,s:I,s:o,s:o,s:o,s:o,s:o}", "n", r.n_mec,
                                              "consumers", r.n_consumers, "providers", r.n_providers, "runs", r.runs,
                                              "samples", (json_int_t)r.n_samples, "failed", (json_int_t)r.n_failed,
                                              "announce_to_offers", ef_soa_stat_json(r.offers), "award",
                                              ef_soa_stat_json(r.award), "deployment", ef_soa_stat_json(r.deploy),
                                              "connection", ef_soa_stat_json(r.connect), "total",
                                              ef_soa_stat_json(r.total)));
        if (r.n_failed) status = 1;
        ef_soa_bench_free(&r);
    }
    fclose(md);
    json_t *doc = json_pack("{s:s,s:s,s:I,s:o}", "bench", "soa", "driver", driver, "runs", (json_int_t)runs,
                            "results", jres);
    if (ef_bench_write_json(outdir, "soa", doc)) status = 1;
    json_decref(doc);
    printf("wrote %s/soa.json and %s/soa.md\n", outdir, outdir);
    return status;
}

int ef_cmd_soa(int argc, char **argv)
{
    if (argc < 2 || ef_cli_wants_help(argc, argv)) {
        fputs(ef_soa_usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "provider")) return ef_soa_provider_cmd(argc - 1, argv + 1);
    if (!strcmp(argv[1], "consumer")) return ef_soa_consumer_cmd(argc - 1, argv + 1);
    if (!strcmp(argv[1], "bench")) return ef_soa_bench_cmd(argc - 1, argv + 1);
    fputs(ef_soa_usage_text, stderr);
    return 2;
}
