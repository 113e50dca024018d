/* cmd_edge.c: `edgefed en serve` (the edge-node agent: voucher-gated compute
 * service and watch service) and `edgefed device run` (one device session). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/ef_edge.h"
#include "agents/ef_httpc.h"
#include "base/ef_codec.h"
#include "cli/cli.h"
#include "cli/cli_api.h"
#include "cli/cli_market.h"

static int ef_edge_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!s || !*s || *s < '0' || *s > '9') return EF_EINVAL;
    *out = strtoull(s, &end, 10);
    return *end ? EF_EINVAL : 0;
}

static const char *ef_en_usage =
    "usage: edgefed en serve --key KEYFILE --listen IP:PORT --price N [--watch-ms MS] [--api URL]\n"
    "  Runs an edge node's agent for the company whose key is KEYFILE (the payee of its\n"
    "  channels): POST /task?channel=ID with an X-Voucher header is served only if the\n"
    "  voucher covers every task so far plus this one at N per task (checked off the\n"
    "  ledger); POST /close?channel=ID redeems the best voucher and closes; every MS\n"
    "  (default 200, 0 = off) the watch service redeems for channels whose payer started\n"
    "  a close. Runs until SIGINT or SIGTERM, then prints its counters.\n";

int ef_cmd_en(int argc, char **argv)
{
    static const char *const spec[] = {"key=", "listen=", "price=", "watch-ms=", "api=", NULL};
    if (argc < 2 || strcmp(argv[1], "serve")) {
        if (argc >= 2 && ef_cli_wants_help(argc, argv)) {
            fputs(ef_en_usage, stdout);
            return 0;
        }
        fputs(ef_en_usage, stderr);
        return 2;
    }
    int checked = ef_cli_check(argc - 1, argv + 1, ef_en_usage, spec, 0);
    if (checked >= 0) return checked;
    argc--;
    argv++;
    ef_edge_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    const char *key = ef_cli_opt(argc, argv, "key", NULL), *listen = ef_cli_opt(argc, argv, "listen", NULL);
    uint64_t watch = 200;
    if (!key || !listen || ef_httpc_parse_hostport(listen, &cfg.ip, &cfg.port) ||
        ef_edge_u64(ef_cli_opt(argc, argv, "price", NULL), &cfg.price) || cfg.price == 0 ||
        (ef_cli_opt(argc, argv, "watch-ms", NULL) && ef_edge_u64(ef_cli_opt(argc, argv, "watch-ms", NULL), &watch))) {
        fputs(ef_en_usage, stderr);
        return 2;
    }
    cfg.watch_ms = (uint32_t)watch;
    int rc = ef_key_load(&cfg.key, key);
    if (rc) {
        fprintf(stderr, "edgefed en serve: cannot read key %s: %s\n", key, ef_strerror(rc));
        return 1;
    }
    const char *api = ef_cli_api_url(argc, argv);
    char apath[16];
    if (ef_httpc_parse_url(api, &cfg.api_ip, &cfg.api_port, apath, sizeof apath)) {
        fprintf(stderr, "edgefed en serve: the API URL must be http://A.B.C.D:PORT: %s\n", api);
        return 2;
    }
    json_t *st;
    if ((rc = ef_cli_get(api, "/status", &st))) {
        fprintf(stderr, "edgefed en serve: %s/status: %s\n", api, ef_strerror(rc));
        return 1;
    }
    snprintf(cfg.chain_id, sizeof cfg.chain_id, "%s", json_string_value(json_object_get(st, "chain_id")));
    json_decref(st);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);   /* before the agent's threads start */
    ef_edge *e;
    if ((rc = ef_edge_start(&e, &cfg))) {
        fprintf(stderr, "edgefed en serve: cannot serve on %s: %s\n", listen, ef_strerror(rc));
        return 1;
    }
    char hex[2 * EF_PUB_SIZE + 1];
    ef_hex(hex, cfg.key.pub.b, EF_PUB_SIZE);
    printf("edge node agent of %s on http://%s, price %llu per task, chain %s\n", hex, listen,
           (unsigned long long)cfg.price, cfg.chain_id);
    fflush(stdout);
    int sig;
    sigwait(&set, &sig);
    ef_edge_stats s;
    ef_edge_get_stats(e, &s);
    ef_edge_stop(e);
    printf("stopped: %llu tasks, %llu rejected, %llu redeems (%llu by the watch service), %llu channels\n",
           (unsigned long long)s.tasks, (unsigned long long)s.rejected, (unsigned long long)s.redeems,
           (unsigned long long)s.watch_redeems, (unsigned long long)s.channels);
    return 0;
}

static const char *ef_device_usage =
    "usage: edgefed device run --key KEYFILE --x X --y Y --service S [--tasks N] [--task-bytes B]\n"
    "                          [--cpu-milli N] [--mem-mb N] [--max-dist D] [--max-price P] [--ttl BLOCKS]\n"
    "                          [--payer-close] [--api URL]\n"
    "  One device session: asks the ledger for a match at (X, Y) (the contract picks the EN),\n"
    "  opens a channel with the EN's company for N tasks (default 10) at the EN's price,\n"
    "  sends each task (B random bytes, default 4096) to the EN agent with a voucher and\n"
    "  checks each answer, has the EN redeem and close (--payer-close: starts the close\n"
    "  itself, so the EN's watch service must redeem within the challenge window), and\n"
    "  ends the match. Exit 0 if every task was checked and the EN was paid N * price.\n"
    "  A device that moves runs again with its new location and gets a new match.\n";

int ef_cmd_device(int argc, char **argv)
{
    static const char *const spec[] = {"key=", "x=", "y=", "service=", "tasks=", "task-bytes=", "cpu-milli=",
                                       "mem-mb=", "max-dist=", "max-price=", "ttl=", "payer-close", "api=", NULL};
    if (argc < 2 || strcmp(argv[1], "run")) {
        if (argc >= 2 && ef_cli_wants_help(argc, argv)) {
            fputs(ef_device_usage, stdout);
            return 0;
        }
        fputs(ef_device_usage, stderr);
        return 2;
    }
    int checked = ef_cli_check(argc - 1, argv + 1, ef_device_usage, spec, 0);
    if (checked >= 0) return checked;
    argc--;
    argv++;
    ef_dev_opts o = {.tasks = 10, .task_bytes = 4096, .cpu_milli = 100, .mem_mb = 64, .max_dist = 10000,
                     .max_price = 1000, .ttl = 500, .challenge_wait_ms = 30000};
    uint64_t x, y;
    const char *key = ef_cli_opt(argc, argv, "key", NULL);
    o.service = ef_cli_opt(argc, argv, "service", NULL);
    struct { const char *name; uint64_t *dst; } opt[] = {
        {"tasks", &o.tasks}, {"task-bytes", &o.task_bytes}, {"cpu-milli", &o.cpu_milli}, {"mem-mb", &o.mem_mb},
        {"max-dist", &o.max_dist}, {"max-price", &o.max_price}, {"ttl", &o.ttl}};
    bool bad = !key || !o.service || ef_edge_u64(ef_cli_opt(argc, argv, "x", NULL), &x) ||
               ef_edge_u64(ef_cli_opt(argc, argv, "y", NULL), &y) || x > UINT32_MAX || y > UINT32_MAX;
    for (size_t i = 0; !bad && i < EF_ARRAY_LEN(opt); i++) {
        const char *v = ef_cli_opt(argc, argv, opt[i].name, NULL);
        if (v && ef_edge_u64(v, opt[i].dst)) bad = true;
    }
    if (bad || o.tasks == 0 || o.task_bytes > EF_EDGE_BODY_MAX) {
        fputs(ef_device_usage, stderr);
        return 2;
    }
    o.x = (uint32_t)x;
    o.y = (uint32_t)y;
    o.payer_close = ef_cli_flag(argc, argv, "payer-close");
    o.api = ef_cli_api_url(argc, argv);
    int rc = ef_key_load(&o.key, key);
    if (rc) {
        fprintf(stderr, "edgefed device run: cannot read key %s: %s\n", key, ef_strerror(rc));
        return 1;
    }
    ef_dev_result r;
    rc = ef_dev_session(&o, &r, stdout);
    if (rc) {
        fprintf(stderr, "edgefed device run: session failed: %s\n", ef_strerror(rc));
        return 1;
    }
    printf("session: match %llu, EN %llu, channel %llu, %llu tasks checked, %llu paid, %llu refunded, "
           "%llu ledger transactions\n",
           (unsigned long long)r.match, (unsigned long long)r.en, (unsigned long long)r.channel,
           (unsigned long long)r.verified, (unsigned long long)r.paid, (unsigned long long)r.refunded,
           (unsigned long long)r.txs);
    return 0;
}
