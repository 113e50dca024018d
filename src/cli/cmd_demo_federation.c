/* cmd_demo_federation.c: `edgefed demo federation` (seed 001): a local federation of MEC systems runs one
 * service federation end to end. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "api/ef_client.h"
#include "base/ef_err.h"
#include "base/ef_fs.h"
#include "base/ef_log.h"
#include "cli/cli.h"
#include "cli/cli_demo.h"
#include "cli/cli_fedrun.h"

static const char *const demo_usage =
    "usage: edgefed demo federation [--n N] [--driver netns|process] [--dir DIR] [--keep] [--timeout S]\n"
    "\n"
    "Starts a local federation of N MEC systems (default 3, at least 3), each its own\n"
    "validator node running a MEF agent: mec-0 is the consumer, the others providers in\n"
    "different locations (base tariff x time-of-day factor). Then one service federation\n"
    "runs end to end on the ledger: the consumer announces (tunnel endpoint, offers\n"
    "wanted = N-1, max price, deposit in escrow), the providers bid, the contract awards\n"
    "the cheapest, the winner deploys the service app and its tunnel end, the consumer\n"
    "connects and checks app-to-app traffic, and confirming it pays the provider from\n"
    "escrow. Each step is printed with its time. Then every node is stopped and the\n"
    "stores are checked (same block hash everywhere, total of balances unchanged).\n"
    "\n"
    "  --driver   netns (default when root: each MEC system a network namespace, VXLAN\n"
    "             tunnel between them over their veth underlay) or process (default\n"
    "             otherwise: the app as a local process)\n"
    "  --dir      working directory (default: a new /tmp/edgefed-demo-XXXXXX, removed\n"
    "             after a successful run)\n"
    "  --keep     leave the federation running (nodes, app, tunnel, explorer); stop it\n"
    "             later with: edgefed testnet down --dir DIR\n"
    "  --timeout  seconds to wait for the federation (default 120)\n"
    "Exit status 0 only if the federation reached app-to-app traffic and payment and\n"
    "the checks hold.\n";

static volatile sig_atomic_t demo_stop;
static void demo_on_signal(int sig)
{
    (void)sig;
    demo_stop = 1;
}

static const char *demo_mec(const ef_fedrun *fr, const char *pub)
{
    int i = ef_fedrun_node_by_pub(fr, pub);
    return i >= 0 ? fr->nodes[i].mec : "?";
}

/* The orchestrator agent (role ef:orchestrator) of activity act in a PROV-JSON export, or "". */
static const char *demo_prov_agent(const json_t *doc, const char *act)
{
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(doc, "wasAssociatedWith"), k, v) {
        const char *role = json_string_value(json_object_get(json_object_get(v, "prov:role"), "$"));
        const char *a = json_string_value(json_object_get(v, "prov:activity"));
        if (role && a && !strcmp(role, "ef:orchestrator") && !strcmp(a, act))
            return json_string_value(json_object_get(v, "prov:agent"));
    }
    return "";
}

/* The activity of PROV type ptype (e.g. "ef:Deploy") whose orchestrator is agent, or NULL. */
static const char *demo_prov_act(const json_t *doc, const char *ptype, const char *agent, const json_t **attrs)
{
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(doc, "activity"), k, v) {
        const char *t = json_string_value(json_object_get(json_object_get(v, "prov:type"), "$"));
        if (t && !strcmp(t, ptype) && !strcmp(demo_prov_agent(doc, k), agent)) {
            *attrs = v;
            return k;
        }
    }
    return NULL;
}

/* The provenance trail of the federation on the prov contract (seed 004): the
 * award recorded by the consumer naming the winner, the deployment recorded by the
 * winner, the tunnel recorded by the consumer. Prints it; true if complete. */
static bool demo_prov_trail(const ef_fedrun *fr, const json_t *cres, const char *dir)
{
    const char *winner = json_string_value(json_object_get(cres, "winner"));
    const char *cons = NULL;
    for (size_t i = 0; i < fr->n; i++)
        if (fr->nodes[i].consumer) cons = fr->nodes[i].pub;
    if (!winner || !cons) return false;
    char url[80], qc[80], qw[80];
    snprintf(url, sizeof url, "http://%s", fr->nodes[0].http);
    snprintf(qc, sizeof qc, "acct:%s", cons);
    snprintf(qw, sizeof qw, "acct:%s", winner);
    ef_client *cl = NULL;
    if (ef_client_new(&cl, url, NULL, 5000)) return false;
    const char *award = NULL, *deploy = NULL, *tunnel = NULL;
    const json_t *aa = NULL, *da = NULL, *ta = NULL;
    json_t *doc = NULL, *st = NULL;
    char *body = NULL;
    size_t len = 0;
    /* the records go in with the federation's own transactions; allow a few blocks */
    for (int tries = 0; tries < 50; tries++) {
        long status = 0;
        free(body);
        body = NULL;
        json_decref(doc);
        doc = NULL;
        if (ef_client_request(cl, "GET", "/state/prov/export", NULL, NULL, 0, &status, &body, &len) == 0 &&
            status == 200)
            doc = json_loadb(body, len, 0, NULL);
        award = doc ? demo_prov_act(doc, "ef:Execute", qc, &aa) : NULL;
        deploy = doc ? demo_prov_act(doc, "ef:Deploy", qw, &da) : NULL;
        tunnel = doc ? demo_prov_act(doc, "ef:Connect", qc, &ta) : NULL;
        if (award && deploy && tunnel) break;
        usleep(100 * 1000);
    }
    long status = 0;
    (void)ef_client_json(cl, "GET", "/state/prov/stats", NULL, &status, &st);
    ef_client_free(cl);
    const char *aref = award ? json_string_value(json_object_get(aa, "ef:ref")) : NULL;
    bool names_winner = aref && strstr(aref, winner);
    printf("  provenance (prov contract): %lld records, %lld elements, %lld relations\n",
           json_integer_value(json_object_get(st, "records")), json_integer_value(json_object_get(st, "elements")),
           json_integer_value(json_object_get(st, "relations")));
    printf("    award      %-30s by %.17s... (consumer %s), ref %s\n", award ? award : "MISSING", qc, demo_mec(fr, cons),
           aref ? aref : "-");
    printf("    deployment %-30s by %.17s... (winner %s), ref %s\n", deploy ? deploy : "MISSING", qw,
           demo_mec(fr, winner), da ? json_string_value(json_object_get(da, "ef:ref")) : "-");
    printf("    tunnel     %-30s by %.17s... (consumer %s), ref %s\n", tunnel ? tunnel : "MISSING", qc,
           demo_mec(fr, cons), ta ? json_string_value(json_object_get(ta, "ef:ref")) : "-");
    bool ok = award && deploy && tunnel && names_winner;
    if (doc && dir) {
        char path[600];
        snprintf(path, sizeof path, "%s/provenance.json", dir);
        FILE *f = fopen(path, "wb");
        if (f) {
            fwrite(body, 1, len, f);
            fclose(f);
            printf("    PROV-JSON export: %s\n", path);
        }
    }
    printf("  provenance trail: consumer, winner, deployment, tunnel: %s\n", ok ? "complete" : "INCOMPLETE");
    json_decref(doc);
    json_decref(st);
    free(body);
    return ok;
}

/* One trace line, human readable. */
static void demo_print(const ef_fedrun *fr, const json_t *t, uint64_t t0_ms)
{
    const char *step = json_string_value(json_object_get(t, "step"));
    uint64_t wall = (uint64_t)json_integer_value(json_object_get(t, "wall_ms"));
    json_int_t id = json_integer_value(json_object_get(t, "id"));
    const char *mec = json_string_value(json_object_get(t, "mec"));
    double rel = wall >= t0_ms ? (double)(wall - t0_ms) / 1000.0 : 0.0;
    char what[256] = "";
    if (!step || !mec) return;
    if (!strcmp(step, "announce_sent"))
        snprintf(what, sizeof what, "announces a service extension (instance %s, VXLAN VNI %lld)",
                 json_string_value(json_object_get(t, "instance")), json_integer_value(json_object_get(t, "vni")));
    else if (!strcmp(step, "announced"))
        snprintf(what, sizeof what, "announcement committed: service %lld, waiting for %lld offers", (long long)id,
                 json_integer_value(json_object_get(t, "offers")));
    else if (!strcmp(step, "bid_sent"))
        snprintf(what, sizeof what, "bids %lld/h on service %lld", json_integer_value(json_object_get(t, "price")),
                 (long long)id);
    else if (!strcmp(step, "no_bid"))
        snprintf(what, sizeof what, "does not bid: its price %lld/h is over the maximum",
                 json_integer_value(json_object_get(t, "price")));
    else if (!strcmp(step, "offer"))
        snprintf(what, sizeof what, "offer %lld committed: %s at %lld/h",
                 json_integer_value(json_object_get(t, "bids")),
                 demo_mec(fr, json_string_value(json_object_get(t, "provider"))),
                 json_integer_value(json_object_get(t, "price")));
    else if (!strcmp(step, "awarded"))
        snprintf(what, sizeof what, "AWARD by the contract: %s at %lld/h (lowest of %lld offers)",
                 demo_mec(fr, json_string_value(json_object_get(t, "winner"))),
                 json_integer_value(json_object_get(t, "price")), json_integer_value(json_object_get(t, "bids")));
    else if (!strcmp(step, "won"))
        snprintf(what, sizeof what, "won service %lld: deploying the app and its tunnel end", (long long)id);
    else if (!strcmp(step, "deployed_here"))
        snprintf(what, sizeof what, "app up (%.1f ms), tunnel end up (%.1f ms); confirming deployment",
                 json_integer_value(json_object_get(t, "deploy_us")) / 1000.0,
                 json_integer_value(json_object_get(t, "connect_us")) / 1000.0);
    else if (!strcmp(step, "deployment_confirmed"))
        snprintf(what, sizeof what, "deployment confirmed on the ledger (app at %s:%lld%s); connecting",
                 fr->cfg.netns ? json_string_value(json_object_get(json_object_get(t, "endpoint"), "overlay_ip"))
                               : "127.0.0.1",
                 json_integer_value(json_object_get(json_object_get(t, "endpoint"), "app_port")),
                 fr->cfg.netns ? ", through the VXLAN tunnel" : "");
    else if (!strcmp(step, "traffic_ok"))
        snprintf(what, sizeof what, "APP-TO-APP TRAFFIC flows (tunnel %.1f ms, check %.1f ms); confirming",
                 json_integer_value(json_object_get(t, "connect_us")) / 1000.0,
                 json_integer_value(json_object_get(t, "check_us")) / 1000.0);
    else if (!strcmp(step, "paid"))
        snprintf(what, sizeof what, "PAYMENT: %lld released from escrow to the provider, %lld refunded",
                 json_integer_value(json_object_get(t, "paid")), json_integer_value(json_object_get(t, "refunded")));
    else if (!strcmp(step, "payment_received"))
        snprintf(what, sizeof what, "received %lld", json_integer_value(json_object_get(t, "paid")));
    else
        snprintf(what, sizeof what, "%s (service %lld)", step, (long long)id);
    printf("  [%7.3f s] %-10s %s\n", rel, mec, what);
    fflush(stdout);
}

int ef_demo_federation(int argc, char **argv)
{
    static const char *const opts[] = {"n=", "driver=", "dir=", "keep", "timeout=", NULL};
    int rc0 = ef_cli_check(argc, argv, demo_usage, opts, 0);
    if (rc0 >= 0) return rc0;
    bool root = geteuid() == 0;
    unsigned n = (unsigned)atoi(ef_cli_opt(argc, argv, "n", "3"));
    const char *driver = ef_cli_opt(argc, argv, "driver", root ? "netns" : "process");
    bool keep = ef_cli_flag(argc, argv, "keep");
    int timeout_s = atoi(ef_cli_opt(argc, argv, "timeout", "120"));
    if (n < 3 || n > 16 || (strcmp(driver, "netns") && strcmp(driver, "process")) || timeout_s < 1) {
        fputs(demo_usage, stderr);
        return 2;
    }
    if (!strcmp(driver, "netns") && !root) {
        fprintf(stderr, "edgefed demo: the netns driver needs root; use --driver process\n");
        return 2;
    }
    char dir[EF_FEDRUN_PATH_MAX];
    const char *dir_opt = ef_cli_opt(argc, argv, "dir", NULL);
    bool own_dir = !dir_opt;
    if (dir_opt) {
        snprintf(dir, sizeof dir, "%s", dir_opt);
    } else {
        snprintf(dir, sizeof dir, "/tmp/edgefed-demo-XXXXXX");
        if (!mkdtemp(dir)) {
            perror("edgefed demo: mkdtemp");
            return 1;
        }
    }
    signal(SIGINT, demo_on_signal);
    signal(SIGTERM, demo_on_signal);

    ef_fedrun *fr = calloc(1, sizeof *fr);
    json_t *trace = json_array(), *report = NULL, *results = NULL;
    int status = 1;
    uint64_t t_start = ef_now_wall_ms();
    ef_fedrun_cfg cfg = {
        .n = n, .consumers = 1, .netns = !strcmp(driver, "netns"), .dir = dir, .runs = 1,
        .offers = n - 1, .bid_window_ms = 15000, .deploy_window_ms = 60000, .max_price = 1000,
        .hold = true, .base_port = 31000 + (unsigned)(getpid() % 100) * 200,
    };
    printf("edgefed demo: %u MEC systems, each a validator node with a MEF agent; driver %s\n", n, driver);
    printf("  working directory %s\n", dir);
    if (!fr || ef_fedrun_init(fr, &cfg)) goto out;
    for (size_t i = 0; i < fr->n; i++)
        printf("  %-10s %-8s %s  node %s%s%s\n", fr->nodes[i].mec, fr->nodes[i].consumer ? "consumer" : "provider",
               fr->nodes[i].location, fr->nodes[i].name, cfg.netns ? " in netns " : "", cfg.netns ? fr->nodes[i].ns : "");
    printf("starting the nodes ...\n");
    fflush(stdout);
    if (ef_fedrun_up(fr)) goto out;
    printf("  [%7.3f s] %u validators up; operators registering; the consumer announces once all are registered\n",
           (double)(ef_now_wall_ms() - t_start) / 1000.0, n);

    /* follow the steps until the consumer's result (or timeout / Ctrl-C) */
    uint64_t t0 = 0, deadline = ef_now_wall_ms() + (uint64_t)timeout_s * 1000;
    json_t *cres = NULL;
    while (!demo_stop && ef_now_wall_ms() < deadline) {
        size_t before = json_array_size(trace);
        ef_fedrun_trace_poll(fr, trace);
        for (size_t i = before; i < json_array_size(trace); i++) {
            json_t *t = json_array_get(trace, i);
            if (!t0) t0 = (uint64_t)json_integer_value(json_object_get(t, "wall_ms"));
            demo_print(fr, t, t0);
        }
        json_decref(results);
        results = ef_fedrun_results(fr);
        size_t have = 0;
        for (size_t i = 0; i < json_array_size(results); i++) {
            json_t *r = json_array_get(results, i);
            if (!strcmp(json_string_value(json_object_get(r, "role")), "consumer")) cres = r;
            have++;
        }
        /* the consumer's and the winner's results are both in */
        if (cres && (have >= 2 || strcmp(json_string_value(json_object_get(cres, "outcome")), "connected"))) break;
        cres = NULL;
        usleep(100 * 1000);
    }
    usleep(300 * 1000);   /* the last trace lines */
    {
        size_t before = json_array_size(trace);
        ef_fedrun_trace_poll(fr, trace);
        for (size_t i = before; i < json_array_size(trace); i++) demo_print(fr, json_array_get(trace, i), t0);
    }
    if (!cres) {
        printf("edgefed demo: %s before the federation finished; node logs in %s/v*/node.log\n",
               demo_stop ? "interrupted" : "timed out", dir);
        goto out;
    }
    const char *outcome = json_string_value(json_object_get(cres, "outcome"));
    json_t *steps = json_object_get(cres, "steps_us");
    printf("\nresult: %s\n", outcome);
    if (!strcmp(outcome, "connected") && steps) {
        printf("  award:    %s at %lld/h, lowest of %lld offers\n",
               demo_mec(fr, json_string_value(json_object_get(cres, "winner"))),
               json_integer_value(json_object_get(cres, "price")), json_integer_value(json_object_get(cres, "bids")));
        printf("  payment:  %lld from %s to %s, through escrow\n", json_integer_value(json_object_get(cres, "paid")),
               fr->nodes[0].mec, demo_mec(fr, json_string_value(json_object_get(cres, "winner"))));
        printf("  federation time (announce to app-to-app traffic): %.3f s\n",
               json_integer_value(json_object_get(steps, "federation")) / 1e6);
        printf("    announce to offers %.3f s, award %.3f s, deployment %.3f s, connection %.3f s\n",
               json_integer_value(json_object_get(steps, "announce_to_offers")) / 1e6,
               json_integer_value(json_object_get(steps, "award")) / 1e6,
               json_integer_value(json_object_get(steps, "deployment")) / 1e6,
               json_integer_value(json_object_get(steps, "connection")) / 1e6);
    }
    bool trail = demo_prov_trail(fr, cres, dir);
    printf("  explorer: http://%s/\n", fr->nodes[0].http);
    if (keep) {
        printf("\nthe federation stays up (--keep). Stop it with: %s testnet down --dir %s\n", fr->binary, dir);
        status = strcmp(outcome, "connected") || !trail ? 1 : 0;
        json_decref(trace);
        json_decref(results);
        free(fr);
        return status;
    }
    printf("\nstopping the nodes (agents tear down the app and the tunnels) ...\n");
    ef_fedrun_down(fr);
    int rc = ef_fedrun_check(fr, &report);
    if (report) {
        printf("  ledger: every node has block %lld with the same hash: %s\n",
               json_integer_value(json_object_get(report, "height")),
               json_is_true(json_object_get(report, "same_hash")) ? "yes" : "NO");
        printf("  total of balances: %lld before, %lld after: %s\n",
               json_integer_value(json_object_get(report, "total_before")),
               json_integer_value(json_object_get(report, "total_after")),
               json_integer_value(json_object_get(report, "total_before")) ==
                       json_integer_value(json_object_get(report, "total_after"))
                   ? "unchanged"
                   : "CHANGED");
        json_t *svc = json_array_get(json_object_get(report, "services"), 0);
        if (svc)
            printf("  service %lld on the ledger: state %s, paid %lld\n", json_integer_value(json_object_get(svc, "id")),
                   json_string_value(json_object_get(svc, "state")), json_integer_value(json_object_get(svc, "paid")));
    }
    status = !rc && !strcmp(outcome, "connected") && trail ? 0 : 1;
    printf("%s\n", status ? "edgefed demo: FAILED" : "edgefed demo: OK");
out:
    if (fr && fr->up) ef_fedrun_down(fr);
    if (status == 0 && own_dir) {
        if (ef_fs_remove_tree(dir)) fprintf(stderr, "edgefed demo: could not remove %s\n", dir);
    } else if (status) {
        printf("  logs kept in %s\n", dir);
    }
    json_decref(report);
    json_decref(trace);
    json_decref(results);
    free(fr);
    return status;
}
