/* cmd_demo_market.c: `edgefed demo market` (seed 002): companies' edge nodes on
 * the ledger, devices matched by the contract, tasks paid by vouchers. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "agents/ef_edge.h"
#include "agents/ef_httpc.h"
#include "base/ef_codec.h"
#include "agents/ef_proc.h"
#include "base/ef_fs.h"
#include "base/ef_log.h"
#include "cli/cli.h"
#include "cli/cli_demo.h"
#include "cli/cli_market.h"

static const char *const demo_usage =
    "usage: edgefed demo market [--dir DIR] [--base-port P] [--tasks N] [--keep]\n"
    "\n"
    "Starts a local ledger of real node processes: 4 validators (3 companies and the\n"
    "paper's proxy, which here owns nothing and decides nothing) and 3 observer devices.\n"
    "The companies register 6 edge nodes at known locations, each served by an EN agent\n"
    "(voucher-gated compute over HTTP). A proxy-style request for the wrong EN is refused.\n"
    "Then the devices run sessions: the contract picks the EN, the device opens a payment\n"
    "channel with the EN's company, sends N tasks (default 25) each with a voucher and\n"
    "checks every answer; one session is closed by the EN, one by the device (the EN's\n"
    "watch service redeems within the challenge window), and one device moves and is\n"
    "matched again. Balances are printed before and after and must be conserved, and\n"
    "every node must hold the same blocks. Each step is printed with its time.\n"
    "  --dir       working directory (default: a new /tmp/edgefed-market-XXXXXX, removed\n"
    "              after a successful run)\n"
    "  --base-port P2P ports from P, HTTP from P+100, EN agents from P+200 (default from\n"
    "              the process id, below 32768)\n"
    "  --keep      leave the nodes running (stop: edgefed testnet down --dir DIR); the\n"
    "              EN agents stop with the demo\n"
    "Exit status 0 only if every session succeeded and the checks hold.\n";

typedef struct demo_en {
    int company;
    uint32_t x, y;
    uint64_t price;
} demo_en;

static const demo_en demo_ens[] = {
    {0, 1000, 1000, 3}, {0, 9000, 1000, 2}, {1, 1200, 1000, 4},
    {1, 9000, 9000, 3}, {2, 1000, 9000, 2}, {2, 5000, 5000, 5},
};

int ef_demo_market(int argc, char **argv)
{
    static const char *const spec[] = {"dir=", "base-port=", "tasks=", "keep", NULL};
    int checked = ef_cli_check(argc, argv, demo_usage, spec, 0);
    if (checked >= 0) return checked;
    const char *dir_opt = ef_cli_opt(argc, argv, "dir", NULL);
    unsigned port = (unsigned)atoi(ef_cli_opt(argc, argv, "base-port", "0"));
    uint64_t tasks = strtoull(ef_cli_opt(argc, argv, "tasks", "25"), NULL, 10);
    bool keep = ef_cli_flag(argc, argv, "keep");
    if (tasks == 0 || tasks > 100000) {
        fputs(demo_usage, stderr);
        return 2;
    }
    if (!port) port = 20000 + (unsigned)(getpid() % 120) * 40;
    char dir[PATH_MAX], exe[PATH_MAX], net[PATH_MAX + 8];
    if (ef_demo_workdir(dir_opt, "market", dir, sizeof dir, exe, sizeof exe)) return 1;
    snprintf(net, sizeof net, "%s/net", dir);
    ef_demo_clock_start();
    int ret = 1, rc;
    ef_edge *agents[EF_ARRAY_LEN(demo_ens)] = {0};
    json_t *tn = NULL;

    /* 1. the ledger: 3 companies + the proxy as validators, 3 devices as observers */
    char log[PATH_MAX + 16], ports[16];
    snprintf(log, sizeof log, "%s/commands.log", dir);
    snprintf(ports, sizeof ports, "%u", port);
    if (ef_fs_mkdirs(dir, 0700) ||
        ef_proc_cmd_log(log, exe, "testnet", "init", "--dir", net, "--validators", "4", "--observers", "3",
                        "--base-port", ports, "--accounts", "0", "--empty-block-ms", "100", NULL)) {
        fprintf(stderr, "demo market: testnet init failed (see %s/commands.log)\n", dir);
        goto out;
    }
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/genesis.json", net);
    json_t *g = json_load_file(path, 0, NULL);
    if (!g) goto out;
    json_object_set_new(g, "params", json_pack("{s:{s:i}}", "channel", "challenge_blocks", 8));
    rc = json_dump_file(g, path, JSON_INDENT(2));
    json_decref(g);
    if (rc) goto out;
    if (ef_proc_cmd_log(log, exe, "testnet", "up", "--dir", net, NULL)) {
        fprintf(stderr, "demo market: testnet up failed (see %s/commands.log)\n", dir);
        goto out;
    }
    snprintf(path, sizeof path, "%s/testnet.json", net);
    tn = json_load_file(path, 0, NULL);
    if (!tn) goto out;
    json_t *nodes = json_object_get(tn, "nodes");
    char api[96];
    snprintf(api, sizeof api, "http://%s", json_string_value(json_object_get(json_array_get(nodes, 0), "http")));
    ef_keypair key[7];
    char pub[7][2 * EF_PUB_SIZE + 1];
    for (int i = 0; i < 7; i++) {
        const char *name = json_string_value(json_object_get(json_array_get(nodes, (size_t)i), "name"));
        snprintf(path, sizeof path, "%s/%s/node.key", net, name ? name : "?");
        if (ef_key_load(&key[i], path)) goto out;
        ef_hex(pub[i], key[i].pub.b, EF_PUB_SIZE);
    }
    json_t *st = NULL;
    for (int i = 0; i < 100 && ef_cli_get(api, "/status", &st); i++) usleep(100000);
    if (!st) goto out;
    char chain[64];
    snprintf(chain, sizeof chain, "%s", json_string_value(json_object_get(st, "chain_id")));
    json_decref(st);
    ef_demo_step("ledger up: 4 validators (companies A, B, C at v0..v2, the former proxy at v3), 3 devices; "
              "API %s, explorer %s/", api, api);
    int64_t before[7], supply = 0;
    for (int i = 0; i < 7; i++) supply += before[i] = ef_demo_balance(api, pub[i]);

    /* 2. edge nodes and their agents */
    char err[24];
    for (size_t i = 0; i < EF_ARRAY_LEN(demo_ens); i++) {
        const demo_en *d = &demo_ens[i];
        unsigned lp = port + 200 + (unsigned)i;
        char args[512];
        snprintf(args, sizeof args,
                 "{\"x\":%u,\"y\":%u,\"cpu_milli\":4000,\"mem_mb\":4096,\"slots\":4,\"services\":[\"hash\"],"
                 "\"price\":%llu,\"endpoint\":\"http://127.0.0.1:%u\"}",
                 d->x, d->y, (unsigned long long)d->price, lp);
        if ((rc = ef_cli_call(api, &key[d->company], "market", "register", args, err))) {
            fprintf(stderr, "demo market: register: %s %s\n", ef_strerror(rc), err);
            goto out;
        }
        ef_edge_cfg cfg = {.key = key[d->company], .ip = 0x7f000001, .port = (uint16_t)lp, .price = d->price,
                           .watch_ms = 100};
        snprintf(cfg.chain_id, sizeof cfg.chain_id, "%s", chain);
        char apath[16];
        if (ef_httpc_parse_url(api, &cfg.api_ip, &cfg.api_port, apath, sizeof apath) ||
            (rc = ef_edge_start(&agents[i], &cfg))) {
            fprintf(stderr, "demo market: EN agent on port %u: %s\n", lp, ef_strerror(rc));
            goto out;
        }
        ef_demo_step("company %c registered EN %zu at (%u, %u), price %llu per task; its agent serves "
                  "http://127.0.0.1:%u", 'A' + d->company, i + 1, d->x, d->y, (unsigned long long)d->price, lp);
    }

    /* 3. the collusion case */
    {
        json_t *s2;
        if (ef_cli_get(api, "/status", &s2)) goto out;
        uint64_t h = (uint64_t)json_integer_value(json_object_get(s2, "height"));
        json_decref(s2);
        char args[512];
        snprintf(args, sizeof args,
                 "{\"x\":1100,\"y\":1000,\"service\":\"hash\",\"cpu_milli\":100,\"mem_mb\":64,\"slots\":1,"
                 "\"max_dist\":10000,\"max_price\":100,\"expiry\":%llu,\"en\":3}", (unsigned long long)(h + 100));
        rc = ef_cli_call(api, &key[4], "market", "match", args, err);
        if (rc == 0 || strcmp(err, "EPERM")) {
            fprintf(stderr, "demo market: a rule-breaking match was not refused (%s)\n", err);
            goto out;
        }
        ef_demo_step("a proxy-style request for EN 3 (company B) where the rule gives EN 1: refused (%s), "
                  "nothing recorded", err);
    }

    /* 4. sessions */
    struct { int dev; uint32_t x, y; bool payer_close; const char *what; } sess[] = {
        {4, 1100, 1000, false, "device 1 near A's and B's ENs; the EN closes"},
        {5, 5100, 5100, true, "device 2 closes the channel itself; the EN's watch service must redeem"},
        {6, 1000, 8800, false, "device 3 at its first location"},
        {6, 8800, 1200, false, "device 3 moved: a new match"},
    };
    uint64_t txs = 0, total_tasks = 0;
    for (size_t i = 0; i < EF_ARRAY_LEN(sess); i++) {
        ef_dev_opts o = {.api = api, .key = key[sess[i].dev], .x = sess[i].x, .y = sess[i].y, .service = "hash",
                         .cpu_milli = 100, .mem_mb = 64, .max_dist = 10000, .max_price = 100, .ttl = 400,
                         .tasks = tasks, .task_bytes = 4096, .payer_close = sess[i].payer_close,
                         .challenge_wait_ms = 30000};
        ef_dev_result r;
        ef_demo_step("%s", sess[i].what);
        if ((rc = ef_dev_session(&o, &r, stdout))) {
            fprintf(stderr, "demo market: session failed: %s\n", ef_strerror(rc));
            goto out;
        }
        txs += r.txs;
        total_tasks += r.verified;
        ef_demo_step("session done: EN %llu, %llu tasks checked, %llu paid to company %c, %llu back, "
                  "%llu ledger transactions", (unsigned long long)r.en, (unsigned long long)r.verified,
                  (unsigned long long)r.paid, 'A' + demo_ens[r.en - 1].company, (unsigned long long)r.refunded,
                  (unsigned long long)r.txs);
    }
    ef_edge_stats es;
    uint64_t watch = 0;
    for (size_t i = 0; i < EF_ARRAY_LEN(demo_ens); i++) {
        ef_edge_get_stats(agents[i], &es);
        watch += es.watch_redeems;
    }
    if (watch < 1) {
        fprintf(stderr, "demo market: the watch service did not redeem\n");
        goto out;
    }

    /* 5. balances */
    static const char *const who[7] = {"company A", "company B", "company C", "proxy", "device 1", "device 2",
                                       "device 3"};
    int64_t after_sum = 0;
    printf("            %-10s %14s %14s %8s\n", "account", "before", "after", "change");
    for (int i = 0; i < 7; i++) {
        int64_t a = ef_demo_balance(api, pub[i]);
        after_sum += a;
        printf("            %-10s %14lld %14lld %+8lld\n", who[i], (long long)before[i], (long long)a,
               (long long)(a - before[i]));
    }
    json_t *sup;
    if (ef_cli_get(api, "/state/bank/supply", &sup)) goto out;
    int64_t locked = (int64_t)json_integer_value(json_object_get(sup, "locked"));
    int64_t gsupply = (int64_t)json_integer_value(json_object_get(sup, "supply"));
    json_decref(sup);
    if (after_sum + locked != supply || supply != gsupply) {
        fprintf(stderr, "demo market: money not conserved: %lld + %lld locked != %lld\n", (long long)after_sum,
                (long long)locked, (long long)supply);
        goto out;
    }
    ef_demo_step("balances conserved: %lld before, %lld after, %lld locked; %llu tasks paid with %llu ledger "
              "transactions in all (a transfer per task would take %llu)",
              (long long)supply, (long long)after_sum, (long long)locked, (unsigned long long)total_tasks,
              (unsigned long long)txs, (unsigned long long)total_tasks);
    if (ef_proc_cmd_log(log, exe, "testnet", "check", "--dir", net, NULL)) {
        fprintf(stderr, "demo market: nodes disagree\n");
        goto out;
    }
    ef_demo_step("every node holds the same blocks");
    ret = 0;
out:
    for (size_t i = 0; i < EF_ARRAY_LEN(demo_ens); i++) ef_edge_stop(agents[i]);
    json_decref(tn);
    if (!keep || ret) (void)ef_proc_cmd_log(log, exe, "testnet", "down", "--dir", net, NULL);
    if (keep && ret == 0) printf("left running in %s (stop: edgefed testnet down --dir %s)\n", dir, net);
    else if (ret == 0 && !dir_opt && ef_fs_remove_tree(dir)) fprintf(stderr, "demo market: cannot remove %s\n", dir);
    else if (ret) fprintf(stderr, "demo market: FAILED; files in %s\n", dir);
    printf("%s\n", ret ? "demo market: FAILED" : "demo market: OK");
    return ret;
}
