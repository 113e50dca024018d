/* cmd_demo_sla.c: `edgefed demo sla` (seed 003, AJIT): two operators and two
 * regulators on the ledger, one tree of switches, a connected car that buys a
 * stringent SLA for a short window while best-effort traffic saturates its
 * path; the JIT controller stitches the slice, monitors on both sides receipt
 * every epoch, the operator claims, an injected fault costs a penalty, a
 * withheld receipt goes to the regulators, the slice is released and money is
 * conserved. */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
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
#include "cli/cli.h"
#include "cli/cli_demo.h"
#include "cli/cli_market.h"

static const char *const demo_usage =
    "usage: edgefed demo sla [--dir DIR] [--base-port P] [--process] [--keep]\n"
    "\n"
    "Starts a local ledger of real node processes: operators A and B and two regulators\n"
    "as validators, a connected car as an observer. A and B post bonds and offer SLAs;\n"
    "A's JIT controller holds one tree of switches (core, aggregation, edge, cars at the\n"
    "leaves). The car activates the cheapest offer covering its attachment point for 4\n"
    "epochs of 3 s (6 Mbit/s guaranteed, 50 ms, 2 % loss) while a 30 Mbit/s best-effort\n"
    "flood saturates its path (20 Mbit/s links). The controller stitches the slice; the\n"
    "car's monitor and A's edge monitor (separate keys) sign a receipt per epoch; a fault\n"
    "(10 % loss after the edge switch) breaches epochs 1 and 2; A claims 0, 1 and 3 with\n"
    "the car's receipts (1 with its penalty), the car withholds epoch 2, A submits its own\n"
    "receipt, the car contradicts, the regulators rule; the SLA closes, the slice is\n"
    "released, balances are conserved. Each step is printed with its time.\n"
    "  As root with ip, tc and nft the tree is network namespaces and the slice is\n"
    "  enforced with htb, the fault is an nftables random drop; otherwise (or with\n"
    "  --process) everything runs on loopback, bandwidth is NOT enforced and the fault\n"
    "  is emulated by the sender.\n"
    "  --dir       working directory (default: a new /tmp/edgefed-sla-XXXXXX, removed\n"
    "              after a successful run)\n"
    "  --base-port P2P ports from P, HTTP from P+100 (default from the process id)\n"
    "  --keep      leave the nodes running (stop: edgefed testnet down --dir DIR/net)\n"
    "Exit status 0 only if every step succeeded and the checks hold.\n";

static const char *const demo_topology =
    "{\"nodes\": [\n"
    "  {\"name\": \"core\",  \"layer\": \"core\"},\n"
    "  {\"name\": \"srv\",   \"layer\": \"server\",      \"parent\": \"core\",  \"kbps\": 100000, \"latency_us\": 200},\n"
    "  {\"name\": \"agg1\",  \"layer\": \"aggregation\", \"parent\": \"core\",  \"kbps\": 40000,  \"latency_us\": 500},\n"
    "  {\"name\": \"agg2\",  \"layer\": \"aggregation\", \"parent\": \"core\",  \"kbps\": 40000,  \"latency_us\": 500},\n"
    "  {\"name\": \"edge1\", \"layer\": \"edge\",        \"parent\": \"agg1\",  \"kbps\": 20000,  \"latency_us\": 1000},\n"
    "  {\"name\": \"edge2\", \"layer\": \"edge\",        \"parent\": \"agg2\",  \"kbps\": 20000,  \"latency_us\": 1000},\n"
    "  {\"name\": \"car1\",  \"layer\": \"customer\",    \"parent\": \"edge1\", \"kbps\": 20000,  \"latency_us\": 2000},\n"
    "  {\"name\": \"car2\",  \"layer\": \"customer\",    \"parent\": \"edge1\", \"kbps\": 20000,  \"latency_us\": 2000},\n"
    "  {\"name\": \"car3\",  \"layer\": \"customer\",    \"parent\": \"edge2\", \"kbps\": 20000,  \"latency_us\": 2000}\n"
    "]}\n";

#define DEMO_EPOCHS 4
#define DEMO_EPOCH_MS 3000
#define DEMO_PRICE 1000
#define DEMO_MIN_KBPS 6000
#define DEMO_MAX_LAT_US 50000   /* the offer's rule and the monitors' judgement: one figure */
#define DEMO_STR_(x) #x
#define DEMO_STR(x) DEMO_STR_(x)
#define DEMO_SEND_KBPS 7000
#define DEMO_BE_KBPS 30000
#define DEMO_BE_PORT 39002
#define DEMO_FAULT_PCT 10

static json_t *demo_sla_get(const char *api, uint64_t id)
{
    char path[64];
    json_t *j = NULL;
    snprintf(path, sizeof path, "/state/sla/sla/%llu", (unsigned long long)id);
    return ef_cli_get(api, path, &j) ? NULL : j;
}

static json_t *demo_wait_line(const char *path, uint64_t e, uint32_t timeout_ms)
{
    for (uint32_t w = 0; w < timeout_ms; w += 50) {
        json_t *j = ef_demo_epoch_line(path, e);
        if (j) return j;
        usleep(50000);
    }
    return NULL;
}

#define DEMO_CALL(key, method, ...)                                                                       \
    do {                                                                                                  \
        char args_[2048];                                                                                 \
        snprintf(args_, sizeof args_, __VA_ARGS__);                                                       \
        if ((rc = ef_cli_call(api, key, "sla", method, args_, err))) {                                    \
            fprintf(stderr, "demo sla: %s failed: %s (%s)\n", method, ef_strerror(rc), err);              \
            goto out;                                                                                     \
        }                                                                                                 \
    } while (0)

int ef_demo_sla(int argc, char **argv)
{
    ef_demo_opts opts;
    int checked = ef_demo_opts_parse(argc, argv, demo_usage, &opts);
    if (checked >= 0) return checked;
    unsigned port = opts.port;
    bool netns = opts.netns;
    if (!port) port = 21000 + (unsigned)(getpid() % 110) * 40;
    char dir[PATH_MAX], exe[PATH_MAX], net[PATH_MAX + 8];
    if (ef_demo_workdir(opts.dir, "sla", dir, sizeof dir, exe, sizeof exe)) return 1;
    snprintf(net, sizeof net, "%s/net", dir);
    ef_demo_clock_start();
    int ret = 1, rc;
    char err[24] = "";
    json_t *tn = NULL, *st = NULL, *s = NULL, *cust[DEMO_EPOCHS] = {0}, *edg[DEMO_EPOCHS] = {0};
    pid_t ctl = -1, procs[5] = {-1, -1, -1, -1, -1};
    char log[PATH_MAX + 64], path[PATH_MAX + 64], ports[16];
    snprintf(log, sizeof log, "%s/commands.log", dir);
    snprintf(ports, sizeof ports, "%u", port);

    /* 1. the ledger: A, B, two regulators; the car an observer */
    if (ef_fs_mkdirs(dir, 0700) ||
        ef_proc_cmd_log(log, exe, "testnet", "init", "--dir", net, "--validators", "4", "--observers", "1",
                        "--base-port", ports, "--accounts", "0", "--empty-block-ms", "100", NULL)) {
        fprintf(stderr, "demo sla: testnet init failed (see %s)\n", log);
        goto out;
    }
    snprintf(path, sizeof path, "%s/genesis.json", net);
    json_t *g = json_load_file(path, 0, NULL);
    if (!g) goto out;
    for (size_t i = 2; i < 4; i++) {
        json_t *v = json_array_get(json_object_get(g, "validators"), i);
        json_object_set_new(v, "role", json_string("regulator"));
        json_object_set_new(v, "domain", json_string("regulators"));
    }
    rc = json_dump_file(g, path, JSON_INDENT(2));
    json_decref(g);
    if (rc || ef_proc_cmd_log(log, exe, "testnet", "up", "--dir", net, NULL)) {
        fprintf(stderr, "demo sla: testnet up failed (see %s)\n", log);
        goto out;
    }
    snprintf(path, sizeof path, "%s/testnet.json", net);
    tn = json_load_file(path, 0, NULL);
    if (!tn) goto out;
    json_t *nodes = json_object_get(tn, "nodes");
    char api[96];
    snprintf(api, sizeof api, "http://%s", json_string_value(json_object_get(json_array_get(nodes, 0), "http")));
    enum { A = 0, B = 1, R1 = 2, R2 = 3, CAR = 4, NK = 5 };
    static const char *const who[NK] = {"operator A", "operator B", "regulator 1", "regulator 2", "car"};
    ef_keypair key[NK], mon, edge;
    char pub[NK][2 * EF_PUB_SIZE + 1], monpub[2 * EF_PUB_SIZE + 1], edgepub[2 * EF_PUB_SIZE + 1];
    for (int i = 0; i < NK; i++) {
        const char *name = json_string_value(json_object_get(json_array_get(nodes, (size_t)i), "name"));
        snprintf(path, sizeof path, "%s/%s/node.key", net, name ? name : "?");
        if (ef_key_load(&key[i], path)) goto out;
        ef_hex(pub[i], key[i].pub.b, EF_PUB_SIZE);
    }
    ef_keypair_generate(&mon);
    ef_keypair_generate(&edge);
    ef_hex(monpub, mon.pub.b, EF_PUB_SIZE);
    ef_hex(edgepub, edge.pub.b, EF_PUB_SIZE);
    char monkey[PATH_MAX + 64], edgekey[PATH_MAX + 64], topo[PATH_MAX + 64], state[PATH_MAX + 64];
    snprintf(monkey, sizeof monkey, "%s/car-monitor.key", dir);
    snprintf(edgekey, sizeof edgekey, "%s/a-edge-monitor.key", dir);
    snprintf(topo, sizeof topo, "%s/topology.json", dir);
    snprintf(state, sizeof state, "%s/controller-state.json", dir);
    FILE *tf = fopen(topo, "w");
    if (!tf || ef_key_save(monkey, &mon) || ef_key_save(edgekey, &edge)) {
        if (tf) fclose(tf);
        goto out;
    }
    fputs(demo_topology, tf);
    fclose(tf);
    for (int i = 0; i < 100 && ef_cli_get(api, "/status", &st); i++) usleep(100000);
    if (!st) goto out;
    char chain[72];
    snprintf(chain, sizeof chain, "%s", json_string_value(json_object_get(st, "chain_id")));
    ef_demo_step("ledger up: operators A (v0) and B (v1), regulators (v2, v3; watcher validators), the car (observer); "
              "API %s", api);
    int64_t before[NK], supply = 0;
    for (int i = 0; i < NK; i++) supply += before[i] = ef_demo_balance(api, pub[i]);

    /* 2. bonds and offers */
    static const char *const offer_fmt =
        "{\"area\":[%s],\"rules\":{\"min_kbps\":%d,\"max_latency_us\":%d,\"max_loss_ppm\":20000},"
        "\"price\":%d,\"epoch_ms\":%d,\"max_epochs\":8,\"penalty\":{\"min_kbps\":500000,\"max_latency_us\":300000,"
        "\"max_loss_ppm\":200000},\"cheat_penalty\":2000,\"confirm_blocks\":100,\"claim_window_ms\":4000,"
        "\"dispute_window_blocks\":10}";
    DEMO_CALL(&key[A], "post_bond", "{\"amount\":20000}");
    DEMO_CALL(&key[B], "post_bond", "{\"amount\":20000}");
    DEMO_CALL(&key[A], "offer", offer_fmt, "\"car1\",\"car2\"", DEMO_MIN_KBPS, DEMO_MAX_LAT_US, DEMO_PRICE, DEMO_EPOCH_MS);
    DEMO_CALL(&key[B], "offer", offer_fmt, "\"car1\",\"car3\"", DEMO_MIN_KBPS, DEMO_MAX_LAT_US, DEMO_PRICE * 3 / 2, DEMO_EPOCH_MS);
    ef_demo_step("A and B posted bonds of 20000 and offer: %d kbit/s, 50 ms, 2 %% loss, %d ms epochs; A at %d per "
              "epoch for car1,car2; B at %d for car1,car3",
              DEMO_MIN_KBPS, DEMO_EPOCH_MS, DEMO_PRICE, DEMO_PRICE * 3 / 2);

    /* 3. A's controller */
    char prefix[32], octet[8], pbase[8];
    snprintf(prefix, sizeof prefix, "efds%u", (unsigned)getpid() % 10000000u);
    snprintf(octet, sizeof octet, "%u", 150 + (unsigned)getpid() % 50);
    snprintf(pbase, sizeof pbase, "%u", 40000 + ((unsigned)getpid() % 100) * 40);
    snprintf(path, sizeof path, "%s/%s/node.key", net,
             json_string_value(json_object_get(json_array_get(nodes, 0), "name")));
    {
        char *cargv[] = {exe, "sla", "controller", "--key", path, "--topology", topo, netns ? "--netns" : "--process",
                         "--edge-monitor", edgepub, "--node", api, "--prefix", prefix, "--octet", octet,
                         "--port-base", pbase, "--state", state, "--log", log, NULL};
        char clog[PATH_MAX + 64];
        snprintf(clog, sizeof clog, "%s/controller.log", dir);
        if ((rc = ef_demo_spawn(&ctl, clog, cargv))) goto out;
        struct stat sb;
        for (int i = 0; i < 300 && stat(state, &sb) != 0; i++) usleep(50000);
        if (stat(state, &sb) != 0) {
            fprintf(stderr, "demo sla: the controller did not start (see %s)\n", clog);
            goto out;
        }
    }
    ef_demo_step("A's JIT controller up: %s (%s)", netns ? "one network namespace per switch and car, a veth pair "
                                                        "per link, htb on each link at its capacity"
                                                      : "PROCESS MODE: loopback only, bandwidth NOT enforced",
              netns ? "enforced" : "no root/ip/tc/nft or --process");
    usleep(300000);

    /* 4. the car picks and activates */
    json_t *offers = NULL;
    if (ef_cli_get(api, "/state/sla/offers", &offers)) goto out;
    uint64_t best = 0, best_price = UINT64_MAX;
    size_t oi;
    json_t *o;
    json_array_foreach(offers, oi, o) {
        bool covers = false;
        size_t ai;
        json_t *a;
        json_array_foreach(json_object_get(o, "area"), ai, a) covers |= !strcmp(json_string_value(a), "car1");
        uint64_t pr = (uint64_t)json_integer_value(json_object_get(o, "price"));
        if (covers && pr < best_price) {
            best_price = pr;
            best = (uint64_t)json_integer_value(json_object_get(o, "offer"));
        }
    }
    json_decref(offers);
    if (!best) goto out;
    uint64_t t_act = ef_now_mono_us();
    DEMO_CALL(&key[CAR], "activate", "{\"offer\":%llu,\"epochs\":%d,\"ap\":\"car1\",\"dst\":\"srv\",\"monitor\":\"%s\"}",
              (unsigned long long)best, DEMO_EPOCHS, monpub);
    ef_demo_step("the car needs a stringent link for %d s: activates offer %llu (the cheapest covering car1), %d epochs, "
              "%d locked in escrow",
              DEMO_EPOCHS * DEMO_EPOCH_MS / 1000, (unsigned long long)best, DEMO_EPOCHS, DEMO_EPOCHS * DEMO_PRICE);
    for (int i = 0; i < 200; i++) {
        json_decref(s);
        s = demo_sla_get(api, 1);
        const char *stt = s ? json_string_value(json_object_get(s, "state")) : NULL;
        if (stt && strcmp(stt, "pending")) break;
        usleep(25000);
    }
    if (!s || strcmp(json_string_value(json_object_get(s, "state")), "active")) {
        fprintf(stderr, "demo sla: the SLA was not confirmed\n");
        goto out;
    }
    char pathstr[512] = "";
    size_t pi;
    json_t *pl;
    json_array_foreach(json_object_get(s, "path"), pi, pl) {
        size_t n = strlen(pathstr);
        snprintf(pathstr + n, sizeof pathstr - n, "%s%s", pi ? "," : "", json_string_value(pl));
    }
    const char *slice = json_string_value(json_object_get(s, "slice"));
    uint64_t start = (uint64_t)json_integer_value(json_object_get(s, "start_ms"));
    uint64_t end = (uint64_t)json_integer_value(json_object_get(s, "end_ms"));
    ef_demo_step("slice %s stitched and confirmed on the ledger %.0f ms after the activation was sent: %d kbit/s "
              "reserved on %s",
              slice, (double)(ef_now_mono_us() - t_act) / 1000.0, DEMO_MIN_KBPS, pathstr);
    const char *dash = strstr(slice, "-udp");
    unsigned sport = dash ? (unsigned)atoi(dash + 4) : 0;
    /* the controller writes its state file after its confirm commits: wait for it */
    json_t *cs = NULL, *sl = NULL;
    for (int i = 0; i < 200 && !sl; i++) {
        if (i) usleep(25000);
        json_decref(cs);
        cs = json_load_file(state, 0, NULL);
        sl = json_array_get(json_object_get(cs, "slas"), 0);
    }
    if (!sport || !sl) {
        fprintf(stderr, "demo sla: the controller's state (%s) does not show the slice\n", state);
        json_decref(cs);
        goto out;
    }
    char car_ns[64], srv_ns[64], edge_ns[64], car_ip[48], edge_ip[48];
    snprintf(car_ns, sizeof car_ns, "%s", netns ? json_string_value(json_object_get(sl, "ap_ns")) : "");
    snprintf(srv_ns, sizeof srv_ns, "%s", netns ? json_string_value(json_object_get(sl, "dst_ns")) : "");
    snprintf(edge_ns, sizeof edge_ns, "%s", netns ? json_string_value(json_object_get(sl, "edge_ns")) : "");
    snprintf(car_ip, sizeof car_ip, "%s", json_string_value(json_object_get(sl, "ap_ip")));
    snprintf(edge_ip, sizeof edge_ip, "%s", json_string_value(json_object_get(sl, "edge_ip")));
    json_decref(cs);

    {
        char svgp[PATH_MAX + 64];
        snprintf(svgp, sizeof svgp, "%s/slice-tree.svg", dir);
        if (ef_proc_cmd_log(log, exe, "slice", "svg", "--state", state, "--out", svgp, NULL) == 0 &&
            (opts.dir || opts.keep))
            ef_demo_step("the tree with what is reserved on each link: %s", svgp);
    }

    /* 5. traffic and the monitors */
    char sp[16], ep[16], bp[16], st_ms[24], epms[16], eps[16], dst[80], cpy[80], be_dst[80], rate[16], berate[16],
        minkb[16];
    char cust_out[PATH_MAX + 64], edge_out[PATH_MAX + 64], be_out[PATH_MAX + 64], mlog[PATH_MAX + 64];
    snprintf(sp, sizeof sp, "%u", sport);
    snprintf(ep, sizeof ep, "%u", netns ? sport : sport + 5000);   /* loopback: another port for the edge */
    snprintf(bp, sizeof bp, "%u", DEMO_BE_PORT + (unsigned)getpid() % 1000);
    snprintf(st_ms, sizeof st_ms, "%llu", (unsigned long long)start);
    snprintf(epms, sizeof epms, "%d", DEMO_EPOCH_MS);
    snprintf(eps, sizeof eps, "%d", DEMO_EPOCHS);
    snprintf(dst, sizeof dst, "%s:%s", car_ip, sp);
    snprintf(cpy, sizeof cpy, "%s:%s", edge_ip, ep);
    snprintf(be_dst, sizeof be_dst, "%s:%s", car_ip, bp);
    snprintf(rate, sizeof rate, "%d", DEMO_SEND_KBPS);
    snprintf(berate, sizeof berate, "%d", DEMO_BE_KBPS);
    snprintf(minkb, sizeof minkb, "%d", DEMO_MIN_KBPS);
    snprintf(cust_out, sizeof cust_out, "%s/car-monitor.jsonl", dir);
    snprintf(edge_out, sizeof edge_out, "%s/edge-monitor.jsonl", dir);
    snprintf(be_out, sizeof be_out, "%s/best-effort.jsonl", dir);
    snprintf(mlog, sizeof mlog, "%s/traffic.log", dir);
    char *ns_opt = "--netns";
    char *m1[] = {exe, "slice", "monitor", ns_opt, netns ? car_ns : "1", "--port", sp, "--sla", "1", "--start-ms",
                  st_ms, "--epoch-ms", epms, "--epochs", eps, "--key", monkey, "--chain", chain, "--min-kbps", minkb,
                  "--max-latency-us", DEMO_STR(DEMO_MAX_LAT_US), "--max-loss-ppm", "20000", "--out", cust_out, NULL};
    char *m2[] = {exe, "slice", "monitor", ns_opt, netns ? edge_ns : "1", "--port", ep, "--sla", "1", "--start-ms",
                  st_ms, "--epoch-ms", epms, "--epochs", eps, "--scale", "10", "--key", edgekey, "--chain", chain,
                  "--min-kbps", minkb, "--max-latency-us", DEMO_STR(DEMO_MAX_LAT_US), "--max-loss-ppm", "20000", "--out", edge_out,
                  NULL};
    char *m3[] = {exe, "slice", "monitor", ns_opt, netns ? car_ns : "0", "--port", bp, "--sla", "0", "--start-ms",
                  st_ms, "--epoch-ms", epms, "--epochs", eps, "--grace-ms", "1000", "--out", be_out, NULL};
    char *s1[] = {exe, "slice", "send", ns_opt, netns ? srv_ns : "0", "--dst", be_dst, "--rate-kbps", berate, "--sla",
                  "0", "--start-ms", st_ms, "--epoch-ms", epms, "--epochs", eps, NULL};
    char *s2[] = {exe, "slice", "send", ns_opt, netns ? srv_ns : "1", "--dst", dst, "--copy", cpy, "--copy-every",
                  "10", "--rate-kbps", rate, "--sla", "1", "--start-ms", st_ms, "--epoch-ms", epms, "--epochs", eps,
                  netns ? NULL : "--fault-epochs", "1,2", "--fault-pct", "10", NULL};
    char **all[] = {m1, m2, m3, s1, s2};
    for (int i = 0; i < 5; i++) {
        if (!netns)   /* no --netns NS (argv[3], argv[4]) on loopback */
            for (size_t k = 3; (all[i][k] = all[i][k + 2]) != NULL; k++) {}
        if ((rc = ef_demo_spawn(&procs[i], mlog, all[i]))) goto out;
        if (i == 2) usleep(200000);
    }
    ef_demo_step("traffic: the car's app sends %d kbit/s into the slice (from srv to car1, udp %u); a %d kbit/s "
              "best-effort flood shares the whole path; the car's monitor (key %.8s) and A's edge monitor at "
              "edge1 (key %.8s, 1 in 10 packets copied to it) count every epoch",
              DEMO_SEND_KBPS, sport, DEMO_BE_KBPS, monpub, edgepub);

    /* 6. epochs */
    /* at the start of epoch e: the fault changes; then epoch e - 1 is reported */
    for (int e = 0; e <= DEMO_EPOCHS; e++) {
        if (e < DEMO_EPOCHS)
            while (ef_now_wall_ms() < start + (uint64_t)e * DEMO_EPOCH_MS) usleep(5000);
        if (netns && (e == 1 || e == 3)) {
            char pct[8];
            snprintf(pct, sizeof pct, "%d", e == 1 ? DEMO_FAULT_PCT : 0);
            if (ef_proc_cmd_log(log, exe, "slice", "loss", "--netns", edge_ns, "--port", sp, "--pct", pct, NULL)) {
                fprintf(stderr, "demo sla: loss injection failed (see %s)\n", log);
                goto out;
            }
            if (e == 1)
                ef_demo_step("fault: %d %% loss injected at edge1, after its monitor's tap (nftables random drop on udp "
                          "%u), for epochs 1 and 2", DEMO_FAULT_PCT, sport);
            else ef_demo_step("fault removed at the start of epoch 3");
        } else if (!netns && e == 1)
            ef_demo_step("fault: the sender drops %d %% of the slice's packets in epochs 1 and 2 (EMULATED: process "
                      "mode has no nftables; the edge monitor's copies still go)",
                      DEMO_FAULT_PCT);
        if (e == 0) continue;
        int p = e - 1;
        cust[p] = demo_wait_line(cust_out, (uint64_t)p, DEMO_EPOCH_MS * 2 + 5000);
        edg[p] = demo_wait_line(edge_out, (uint64_t)p, 3000);
        json_t *be = demo_wait_line(be_out, (uint64_t)p, 3000);
        if (!cust[p] || !edg[p]) {
            json_decref(be);
            fprintf(stderr, "demo sla: epoch %d: no receipt from a monitor (see %s)\n", p, mlog);
            goto out;
        }
        ef_demo_step("epoch %d: slice %lld kbit/s, loss %lld ppm, p99 %lld us (car's receipt, verdict %lld); "
                  "edge monitor: %lld kbit/s, loss %lld ppm (verdict %lld); best effort beside it %lld kbit/s",
                  p, (long long)json_integer_value(json_object_get(cust[p], "kbps")),
                  (long long)json_integer_value(json_object_get(cust[p], "loss_ppm")),
                  (long long)json_integer_value(json_object_get(cust[p], "p99_us")),
                  (long long)json_integer_value(json_object_get(cust[p], "verdict")),
                  (long long)json_integer_value(json_object_get(edg[p], "kbps")),
                  (long long)json_integer_value(json_object_get(edg[p], "loss_ppm")),
                  (long long)json_integer_value(json_object_get(edg[p], "verdict")),
                  (long long)json_integer_value(json_object_get(be, "kbps")));
        json_decref(be);
    }
    for (int i = 0; i < 5; i++) {
        (void)ef_proc_stop(procs[i], 2000);
        procs[i] = -1;
    }
    while (ef_now_wall_ms() < end + 300) usleep(20000);

    /* 7. settlement */
    const char *rc0 = json_string_value(json_object_get(cust[0], "receipt")),
               *rc1 = json_string_value(json_object_get(cust[1], "receipt")),
               *rc2 = json_string_value(json_object_get(cust[2], "receipt")),
               *rc3 = json_string_value(json_object_get(cust[3], "receipt")),
               *re2 = json_string_value(json_object_get(edg[2], "receipt"));
    if (!rc0 || !rc1 || !rc2 || !rc3 || !re2) goto out;
    int64_t a0 = ef_demo_balance(api, pub[A]);
    DEMO_CALL(&key[A], "claim", "{\"sla\":1,\"receipts\":[\"%s\",\"%s\",\"%s\"]}", rc0, rc1, rc3);
    ef_demo_step("A claims epochs 0, 1 and 3 with the car's signed receipts in one transaction: +%lld (epoch 1's "
              "verdict %lld costs its penalty)",
              (long long)(ef_demo_balance(api, pub[A]) - a0), (long long)json_integer_value(json_object_get(cust[1], "verdict")));
    ef_demo_step("the car withholds its receipt for epoch 2");
    DEMO_CALL(&key[A], "submit_operator_receipt", "{\"sla\":1,\"receipts\":[\"%s\"]}", re2);
    ef_demo_step("A submits its edge monitor's receipt for epoch 2 (verdict %lld); the car has 10 blocks to contradict",
              (long long)json_integer_value(json_object_get(edg[2], "verdict")));
    DEMO_CALL(&key[CAR], "contradict", "{\"sla\":1,\"receipt\":\"%s\"}", rc2);
    json_t *epj = NULL;
    if (ef_cli_get(api, "/state/sla/epoch/1/2", &epj)) goto out;
    ef_demo_step("the car contradicts with its monitor's receipt (verdict %lld): epoch 2 is %s",
              (long long)json_integer_value(json_object_get(cust[2], "verdict")),
              json_string_value(json_object_get(epj, "status")));
    json_decref(epj);
    int verdict = (int)json_integer_value(json_object_get(cust[2], "verdict"));
    DEMO_CALL(&key[R1], "rule", "{\"sla\":1,\"epoch\":2,\"verdict\":%d}", verdict);
    DEMO_CALL(&key[R2], "rule", "{\"sla\":1,\"epoch\":2,\"verdict\":%d}", verdict);
    if (ef_cli_get(api, "/state/sla/epoch/1/2", &epj)) goto out;
    ef_demo_step("regulators 1 and 2 compare the two receipts (the car's monitor counts the loss after edge1, "
              "which A's edge monitor cannot see) and rule verdict %d: epoch 2 %s",
              verdict, json_string_value(json_object_get(epj, "status")));
    json_decref(epj);
    for (int i = 0; i < 200; i++) {
        char args[64];
        snprintf(args, sizeof args, "{\"sla\":1}");
        if ((rc = ef_cli_call(api, &key[CAR], "sla", "close", args, err)) == 0) break;
        if (strcmp(err, "EAGAIN")) {
            fprintf(stderr, "demo sla: close: %s (%s)\n", ef_strerror(rc), err);
            goto out;
        }
        usleep(100000);
    }
    if (rc) goto out;
    json_decref(s);
    s = demo_sla_get(api, 1);
    char epochs_s[256] = "";
    json_t *x;
    json_array_foreach(json_object_get(s, "epoch_status"), pi, x) {
        size_t n = strlen(epochs_s);
        snprintf(epochs_s + n, sizeof epochs_s - n, "%s%s", pi ? ", " : "", json_string_value(x));
    }
    ef_demo_step("SLA 1 closed after its claim window: epochs [%s]; %lld paid to A, %lld back to the car",
              epochs_s, (long long)json_integer_value(json_object_get(s, "paid")),
              (long long)json_integer_value(json_object_get(s, "refunded")));
    for (int i = 0; i < 100; i++) {
        json_t *c2 = json_load_file(state, 0, NULL);
        size_t n = c2 ? json_array_size(json_object_get(c2, "slas")) : 1;
        json_decref(c2);
        if (n == 0) break;
        usleep(50000);
        if (i == 99) {
            fprintf(stderr, "demo sla: the controller did not release the slice\n");
            goto out;
        }
    }
    ef_demo_step("A's controller released the slice: nothing reserved on any link%s",
              netns ? ", htb classes and filters removed" : "");

    /* 8. money */
    int64_t after_sum = 0;
    printf("            %-12s %14s %14s %8s\n", "account", "before", "after", "change");
    for (int i = 0; i < NK; i++) {
        int64_t a = ef_demo_balance(api, pub[i]);
        after_sum += a;
        printf("            %-12s %14lld %14lld %+8lld\n", who[i], (long long)before[i], (long long)a,
               (long long)(a - before[i]));
    }
    json_t *sup;
    if (ef_cli_get(api, "/state/bank/supply", &sup)) goto out;
    int64_t locked = (int64_t)json_integer_value(json_object_get(sup, "locked"));
    int64_t gsupply = (int64_t)json_integer_value(json_object_get(sup, "supply"));
    json_decref(sup);
    if (after_sum + locked != supply || supply != gsupply || locked != 40000) {
        fprintf(stderr, "demo sla: money not conserved: %lld + %lld locked != %lld\n", (long long)after_sum,
                (long long)locked, (long long)supply);
        goto out;
    }
    ef_demo_step("balances conserved: %lld before, %lld after + %lld locked (the two bonds)", (long long)supply,
              (long long)after_sum, (long long)locked);
    if (ef_proc_cmd_log(log, exe, "testnet", "check", "--dir", net, NULL)) {
        fprintf(stderr, "demo sla: nodes disagree\n");
        goto out;
    }
    ef_demo_step("every node holds the same blocks");
    ret = 0;
out:
    for (int i = 0; i < 5; i++) (void)ef_proc_stop(procs[i], 2000);
    if (ctl > 0) {
        (void)ef_proc_stop(ctl, 10000);
        if (ret == 0) ef_demo_step("controller stopped%s", netns ? ": its namespaces are removed" : "");
    }
    for (int e = 0; e < DEMO_EPOCHS; e++) {
        json_decref(cust[e]);
        json_decref(edg[e]);
    }
    json_decref(s);
    json_decref(st);
    json_decref(tn);
    if (!opts.keep || ret) (void)ef_proc_cmd_log(log, exe, "testnet", "down", "--dir", net, NULL);
    if (opts.keep && ret == 0) printf("left running in %s (stop: edgefed testnet down --dir %s)\n", dir, net);
    else if (ret == 0 && !opts.dir && ef_fs_remove_tree(dir)) fprintf(stderr, "demo sla: cannot remove %s\n", dir);
    else if (ret) fprintf(stderr, "demo sla: FAILED; files in %s\n", dir);
    printf("%s\n", ret ? "demo sla: FAILED" : "demo sla: OK");
    return ret;
}
