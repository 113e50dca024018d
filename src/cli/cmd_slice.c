/* cmd_slice.c: `edgefed slice check|send|monitor|loss` (the slice tools of seed
 * 003: topology and path check, slice traffic, the per-epoch SLA monitor, loss
 * injection) and `edgefed sla controller` (the JIT controller agent following a
 * node's event stream). */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "agents/ef_httpc.h"
#include "agents/ef_jit.h"
#include "agents/ef_proc.h"
#include "agents/ef_slice.h"
#include "agents/ef_slicemon.h"
#include "agents/ef_slicenet.h"
#include "api/ef_client.h"
#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "base/ef_log.h"
#include "cli/cli.h"
#include "cli/cli_api.h"
#include "cli/cli_market.h"

/* A decimal option: 0 and *out, or 2 after printing why. */
static int ef_sl_u64(int argc, char **argv, const char *name, bool required, uint64_t lo, uint64_t hi, uint64_t *out)
{
    const char *v = ef_cli_opt(argc, argv, name, NULL);
    if (!v) {
        if (!required) return 0;
        fprintf(stderr, "edgefed: --%s is required\n", name);
        return 2;
    }
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (!*v || *v < '0' || *v > '9' || *end || errno || x < lo || x > hi) {
        fprintf(stderr, "edgefed: --%s needs an integer in %llu..%llu, not '%s'\n", name, (unsigned long long)lo,
                (unsigned long long)hi, v);
        return 2;
    }
    *out = x;
    return 0;
}

static int ef_sl_usage(const char *usage, int rc)
{
    fputs(usage, stderr);
    return rc;
}

/* ---- check ---- */

static const char *const ef_sl_check_usage =
    "usage: edgefed slice check --topology FILE [--ap NODE --dst NODE --min-kbps N --max-latency-us N]\n"
    "  Loads a topology (docs/sla-slices.md) and prints it as JSON (nodes, links); with\n"
    "  --ap/--dst, the path between them and whether the rules fit it (exit 1 if not).\n";

static int ef_sl_check(int argc, char **argv)
{
    static const char *const spec[] = {"topology=", "ap=", "dst=", "min-kbps=", "max-latency-us=", NULL};
    int c = ef_cli_check(argc, argv, ef_sl_check_usage, spec, 0);
    if (c >= 0) return c;
    const char *topo = ef_cli_opt(argc, argv, "topology", NULL), *ap = ef_cli_opt(argc, argv, "ap", NULL),
               *dst = ef_cli_opt(argc, argv, "dst", NULL);
    ef_sla_rules r = {.min_kbps = 1, .max_latency_us = EF_SLICE_LAT_MAX * EF_SLICE_PATH_MAX};
    if (!topo || (!ap != !dst) || ef_sl_u64(argc, argv, "min-kbps", false, 1, EF_SLICE_KBPS_MAX, &r.min_kbps) ||
        ef_sl_u64(argc, argv, "max-latency-us", false, 1, UINT32_MAX, &r.max_latency_us))
        return ef_sl_usage(ef_sl_check_usage, 2);
    ef_slice_db *db;
    char err[256];
    int rc = ef_slice_db_load(&db, topo, err, sizeof err);
    if (rc) {
        fprintf(stderr, "edgefed slice check: %s\n", err);
        return 1;
    }
    json_t *out;
    int ret = 0;
    if (ap) {
        ef_slice_path p;
        int at;
        rc = ef_slice_path_find(db, ap, dst, &r, &p, &at);
        out = json_pack("{s:s, s:s, s:o, s:I, s:I, s:s}", "ap", ap, "dst", dst, "path", ef_slice_path_json(db, &p),
                        "latency_us", (json_int_t)p.latency_us, "free_kbps",
                        (json_int_t)(p.len ? p.free_kbps : 0), "fits", rc ? ef_errname(rc) : "OK");
        ret = rc ? 1 : 0;
    } else out = ef_slice_db_json(db);
    char *text = out ? json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    if (text) printf("%s\n", text);
    free(text);
    json_decref(out);
    ef_slice_db_free(db);
    return ret;
}

/* ---- send ---- */

static volatile bool ef_sl_stop;
static void ef_sl_on_signal(int sig)
{
    (void)sig;
    ef_sl_stop = true;
}

static void ef_sl_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = ef_sl_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

static const char *const ef_sl_send_usage =
    "usage: edgefed slice send --dst IP:PORT --rate-kbps N --sla N --start-ms MS --epoch-ms N --epochs N\n"
    "                          [--netns NS] [--pkt-bytes N] [--copy IP:PORT --copy-every N]\n"
    "                          [--fault-epochs E,E --fault-pct N]\n"
    "  Sends UDP at N kbit/s of payload (packets stamped with SLA, epoch, sequence\n"
    "  and send time) from wall time MS for the epochs given, from inside network\n"
    "  namespace NS; --copy sends every N-th packet also to the operator's edge\n"
    "  monitor. Prints what it sent as JSON. Targets: without --netns loopback only;\n"
    "  inside a slice namespace, the tree's own addresses (it has no other route).\n"
    "  --fault-*: EMULATED loss for process mode (no nftables there): in those epochs\n"
    "  N % of the packets to --dst are counted as sent but not sent (copies to the\n"
    "  edge monitor still go).\n";

static int ef_sl_send(int argc, char **argv)
{
    static const char *const spec[] = {"dst=", "rate-kbps=", "sla=", "start-ms=", "epoch-ms=", "epochs=", "netns=",
                                       "pkt-bytes=", "copy=", "copy-every=", "fault-epochs=", "fault-pct=", NULL};
    int c = ef_cli_check(argc, argv, ef_sl_send_usage, spec, 0);
    if (c >= 0) return c;
    ef_slicemon_send_cfg cfg = {.netns = ef_cli_opt(argc, argv, "netns", NULL), .pkt_bytes = 1200, .stop = &ef_sl_stop};
    uint64_t pkt = 1200, every = 0, fpct = 0;
    const char *fe = ef_cli_opt(argc, argv, "fault-epochs", NULL);
    if (fe) {
        char *copy_fe = strdup(fe), *save = NULL;
        for (char *t = copy_fe ? strtok_r(copy_fe, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save)) {
            char *end;
            unsigned long v = strtoul(t, &end, 10);
            if (*end || v >= 64) {
                free(copy_fe);
                return ef_sl_usage(ef_sl_send_usage, 2);
            }
            cfg.fault_epochs |= 1ull << v;
        }
        free(copy_fe);
    }
    const char *dst = ef_cli_opt(argc, argv, "dst", NULL), *copy = ef_cli_opt(argc, argv, "copy", NULL);
    if (!dst || ef_httpc_parse_hostport(dst, &cfg.dst_ip, &cfg.dst_port) ||
        (copy && ef_httpc_parse_hostport(copy, &cfg.copy_ip, &cfg.copy_port)) ||
        ef_sl_u64(argc, argv, "rate-kbps", true, 1, EF_SLICE_KBPS_MAX, &cfg.rate_kbps) ||
        ef_sl_u64(argc, argv, "sla", true, 0, INT64_MAX, &cfg.sla) ||
        ef_sl_u64(argc, argv, "start-ms", true, 0, INT64_MAX, &cfg.start_ms) ||
        ef_sl_u64(argc, argv, "epoch-ms", true, 1, 86400000, &cfg.epoch_ms) ||
        ef_sl_u64(argc, argv, "epochs", true, 1, EF_SLICEMON_EPOCHS_MAX, &cfg.epochs) ||
        ef_sl_u64(argc, argv, "pkt-bytes", false, EF_SLICEMON_PKT_MIN, EF_SLICEMON_PKT_MAX, &pkt) ||
        ef_sl_u64(argc, argv, "copy-every", false, 1, 1000000, &every) || (!copy != !every) ||
        ef_sl_u64(argc, argv, "fault-pct", false, 0, 100, &fpct) || (!fe != !ef_cli_opt(argc, argv, "fault-pct", NULL)))
        return ef_sl_usage(ef_sl_send_usage, 2);
    cfg.pkt_bytes = (uint32_t)pkt;
    cfg.copy_every = (uint32_t)every;
    cfg.fault_pct = (uint32_t)fpct;
    if (cfg.netns && !ef_proc_netns_exists(cfg.netns)) {
        fprintf(stderr, "edgefed slice send: no network namespace '%s'\n", cfg.netns);
        return 1;
    }
    /* a load generator: from the caller's namespace only to loopback; inside a
     * slice namespace its routes (the tree's own) decide */
    if (!cfg.netns && ((cfg.dst_ip >> 24) != 127 || (cfg.copy_every && (cfg.copy_ip >> 24) != 127))) {
        fprintf(stderr, "edgefed slice send: without --netns only loopback (127.0.0.0/8) targets\n");
        return ef_sl_usage(ef_sl_send_usage, 2);
    }
    ef_sl_signals();
    ef_slicemon_send_stats st;
    int rc = ef_slicemon_send(&cfg, &st);
    if (rc) {
        fprintf(stderr, "edgefed slice send: %s\n", ef_strerror(rc));
        return 1;
    }
    printf("{\"pkts\": %llu, \"bytes\": %llu, \"copies\": %llu, \"send_errors\": %llu}\n", (unsigned long long)st.pkts,
           (unsigned long long)st.bytes, (unsigned long long)st.copies, (unsigned long long)st.send_errors);
    return 0;
}

/* ---- monitor ---- */

static const char *const ef_sl_mon_usage =
    "usage: edgefed slice monitor --port P --sla N --start-ms MS --epoch-ms N --epochs N [--netns NS]\n"
    "                             [--scale N] [--grace-ms N] [--out FILE] [--handover-dir DIR [--withhold E,E]]\n"
    "                             [--key KEYFILE --chain ID --min-kbps N --max-latency-us N --max-loss-ppm N]\n"
    "  Receives the slice's UDP traffic on port P inside NS and, per epoch, prints one\n"
    "  JSON line (kbps, sent, recv, loss_ppm, p50/p99/max delay in us) and appends it\n"
    "  to FILE. With --key (the monitor's key) each line carries the signed SLA receipt\n"
    "  (hex) for the SLA's rules. --scale N: the edge monitor's copies are every N-th\n"
    "  packet. --grace-ms: how long after its end an epoch stays open for late packets\n"
    "  (default 300). --handover-dir: hand each signed receipt over to the operator's\n"
    "  controller as DIR/sla<ID>-epoch<E>.hex; --withhold: not those epochs.\n";

typedef struct ef_sl_mon {
    FILE *out;
    uint64_t sla;
    const char *handover;      /* directory, or NULL */
    uint64_t withhold;         /* bit e: do not hand epoch e over */
} ef_sl_mon;

/* The receipt of ep into dir/sla<ID>-epoch<E>.hex (written whole, then renamed). */
static void ef_sl_handover(const ef_sl_mon *m, const ef_slicemon_epoch *ep)
{
    char hex[EF_RECEIPT_HEX_MAX + 1], path[1024], tmp[1100];
    if (!ep->signed_ || ef_receipt_hex(hex, sizeof hex, &ep->receipt)) return;
    snprintf(path, sizeof path, "%s/sla%llu-epoch%llu.hex", m->handover, (unsigned long long)m->sla,
             (unsigned long long)ep->epoch);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return;
    fprintf(f, "%s\n", hex);
    if (fclose(f) == 0) (void)rename(tmp, path);
}

static void ef_sl_on_epoch(void *arg, const ef_slicemon_epoch *ep)
{
    ef_sl_mon *m = arg;
    json_t *j = ef_slicemon_epoch_json(m->sla, ep);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (text) {
        printf("%s\n", text);
        fflush(stdout);
        if (m->out) {
            fprintf(m->out, "%s\n", text);
            fflush(m->out);
        }
    }
    free(text);
    json_decref(j);
    if (m->handover && !(ep->epoch < 64 && (m->withhold >> ep->epoch & 1))) ef_sl_handover(m, ep);
}

static int ef_sl_monitor(int argc, char **argv)
{
    static const char *const spec[] = {"port=", "sla=", "start-ms=", "epoch-ms=", "epochs=", "netns=", "scale=",
                                       "out=", "key=", "chain=", "min-kbps=", "max-latency-us=", "max-loss-ppm=",
                                       "grace-ms=", "handover-dir=", "withhold=", NULL};
    int c = ef_cli_check(argc, argv, ef_sl_mon_usage, spec, 0);
    if (c >= 0) return c;
    ef_slicemon_recv_cfg cfg = {.netns = ef_cli_opt(argc, argv, "netns", NULL), .scale = 1, .stop = &ef_sl_stop};
    uint64_t port = 0, scale = 1, loss = 0, grace = 300;
    const char *keyf = ef_cli_opt(argc, argv, "key", NULL), *outp = ef_cli_opt(argc, argv, "out", NULL);
    if (ef_sl_u64(argc, argv, "port", true, 1, 65535, &port) ||
        ef_sl_u64(argc, argv, "sla", true, 0, INT64_MAX, &cfg.sla) ||
        ef_sl_u64(argc, argv, "start-ms", true, 0, INT64_MAX, &cfg.start_ms) ||
        ef_sl_u64(argc, argv, "epoch-ms", true, 1, 86400000, &cfg.epoch_ms) ||
        ef_sl_u64(argc, argv, "epochs", true, 1, EF_SLICEMON_EPOCHS_MAX, &cfg.epochs) ||
        ef_sl_u64(argc, argv, "scale", false, 1, 1000000, &scale) ||
        ef_sl_u64(argc, argv, "grace-ms", false, 1, 60000, &grace) ||
        ef_sl_u64(argc, argv, "min-kbps", keyf != NULL, 1, INT64_MAX, &cfg.rules.min_kbps) ||
        ef_sl_u64(argc, argv, "max-latency-us", keyf != NULL, 1, INT64_MAX, &cfg.rules.max_latency_us) ||
        ef_sl_u64(argc, argv, "max-loss-ppm", keyf != NULL, 0, 1000000, &loss) ||
        (keyf && !ef_cli_opt(argc, argv, "chain", NULL)))
        return ef_sl_usage(ef_sl_mon_usage, 2);
    cfg.port = (uint16_t)port;
    cfg.scale = (uint32_t)scale;
    cfg.grace_ms = (uint32_t)grace;
    cfg.rules.max_loss_ppm = (uint32_t)loss;
    ef_keypair kp;
    if (keyf) {
        if (ef_key_load(&kp, keyf)) {
            fprintf(stderr, "edgefed slice monitor: cannot read key %s\n", keyf);
            return 1;
        }
        cfg.key = &kp;
        cfg.chain_id = ef_cli_opt(argc, argv, "chain", NULL);
        if (strlen(cfg.chain_id) == 0 || strlen(cfg.chain_id) > EF_RECEIPT_CHAIN_MAX)
            return ef_sl_usage(ef_sl_mon_usage, 2);
    }
    if (cfg.netns && !ef_proc_netns_exists(cfg.netns)) {
        fprintf(stderr, "edgefed slice monitor: no network namespace '%s'\n", cfg.netns);
        return 1;
    }
    ef_sl_mon m = {.sla = cfg.sla, .handover = ef_cli_opt(argc, argv, "handover-dir", NULL)};
    const char *wh = ef_cli_opt(argc, argv, "withhold", NULL);
    if (wh) {
        char *copy = strdup(wh), *save = NULL;
        for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save)) {
            char *end;
            unsigned long v = strtoul(t, &end, 10);
            if (*end || v >= 64) {
                free(copy);
                return ef_sl_usage(ef_sl_mon_usage, 2);
            }
            m.withhold |= 1ull << v;
        }
        free(copy);
        if (!m.handover) return ef_sl_usage(ef_sl_mon_usage, 2);
    }
    if (outp && !(m.out = fopen(outp, "a"))) {
        fprintf(stderr, "edgefed slice monitor: cannot open %s\n", outp);
        return 1;
    }
    cfg.on_epoch = ef_sl_on_epoch;
    cfg.arg = &m;
    ef_sl_signals();
    int rc = ef_slicemon_recv(&cfg);
    if (m.out) fclose(m.out);
    if (rc) fprintf(stderr, "edgefed slice monitor: %s\n", ef_strerror(rc));
    return rc ? 1 : 0;
}

/* ---- loss ---- */

static const char *const ef_sl_loss_usage =
    "usage: edgefed slice loss --netns NS --port P --pct N [--log FILE]\n"
    "  Drops N % (0..100; 0 removes the rule) of the UDP packets to port P that node NS\n"
    "  forwards: nftables `udp dport P numgen random mod 100 < N drop` (root; the slice\n"
    "  namespaces only). This is the injected fault: netem is not available here.\n";

static int ef_sl_loss(int argc, char **argv)
{
    static const char *const spec[] = {"netns=", "port=", "pct=", "log=", NULL};
    int c = ef_cli_check(argc, argv, ef_sl_loss_usage, spec, 0);
    if (c >= 0) return c;
    uint64_t port = 0, pct = 0;
    const char *ns = ef_cli_opt(argc, argv, "netns", NULL);
    if (!ns || ef_sl_u64(argc, argv, "port", true, 1, 65535, &port) ||
        ef_sl_u64(argc, argv, "pct", true, 0, 100, &pct))
        return ef_sl_usage(ef_sl_loss_usage, 2);
    int rc = ef_slicenet_loss_ns(ns, (uint16_t)port, (unsigned)pct, ef_cli_opt(argc, argv, "log", NULL));
    if (rc) {
        fprintf(stderr, "edgefed slice loss: %s\n", ef_strerror(rc));
        return 1;
    }
    return 0;
}

/* ---- svg ---- */

static const char *const ef_sl_svg_usage =
    "usage: edgefed slice svg (--state FILE | --topology FILE) --out FILE.svg\n"
    "  Draws the tree (core at the top, customers at the bottom) with every link's\n"
    "  reserved and total kbit/s, the links of live slices in colour: from a\n"
    "  controller's --state file (what it holds now) or a topology (nothing reserved).\n";

/* The tree of db (ef_slice_db_json's shape) as SVG into f. */
static void ef_sl_svg_write(FILE *f, const json_t *db, const json_t *slas)
{
    const json_t *nodes = json_object_get(db, "nodes"), *links = json_object_get(db, "links");
    size_t n = json_array_size(nodes);
    if (n == 0 || n > EF_SLICE_NODES_MAX) return;
    int parent[EF_SLICE_NODES_MAX], depth[EF_SLICE_NODES_MAX], maxd = 0;
    double x[EF_SLICE_NODES_MAX];
    size_t leaves = 0;
    for (size_t i = 0; i < n; i++) {
        const char *pn = json_string_value(json_object_get(json_array_get(nodes, i), "parent"));
        parent[i] = -1;
        for (size_t k = 0; pn && k < i; k++)
            if (!strcmp(pn, json_string_value(json_object_get(json_array_get(nodes, k), "name")))) parent[i] = (int)k;
        depth[i] = parent[i] < 0 ? 0 : depth[parent[i]] + 1;
        if (depth[i] > maxd) maxd = depth[i];
    }
    /* x: leaves in depth-first order, a parent over the middle of its children */
    int order[EF_SLICE_NODES_MAX], stack[EF_SLICE_NODES_MAX], no = 0, sp = 0;
    stack[sp++] = 0;
    while (sp) {
        int u = stack[--sp];
        order[no++] = u;
        for (int c = (int)n - 1; c >= 1; c--)
            if (parent[c] == u) stack[sp++] = c;
    }
    for (int k = no - 1; k >= 0; k--) {
        int u = order[k];
        double sum = 0;
        int nc = 0;
        for (size_t c = 1; c < n; c++)
            if (parent[c] == u) {
                sum += x[c];
                nc++;
            }
        x[u] = nc ? sum / nc : 0;
    }
    for (int k = 0; k < no; k++) {
        int u = order[k];
        bool leaf = true;
        for (size_t c = 1; c < n && leaf; c++) leaf = parent[c] != u;
        if (leaf) x[u] = (double)leaves++;
    }
    for (int k = no - 1; k >= 0; k--) {
        int u = order[k];
        double sum = 0;
        int nc = 0;
        for (size_t c = 1; c < n; c++)
            if (parent[c] == u) {
                sum += x[c];
                nc++;
            }
        if (nc) x[u] = sum / nc;
    }
    double W = 120.0 * (double)(leaves ? leaves : 1) + 80, H = 110.0 * maxd + 120;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" "
               "font-size=\"11\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, H);
#define EF_SL_X(i) (60.0 + 120.0 * x[i])
#define EF_SL_Y(i) (40.0 + 110.0 * depth[i])
    for (size_t i = 1; i < n; i++) {
        if (parent[i] < 0) continue;
        const json_t *l = json_array_get(links, i - 1);
        long long res = (long long)json_integer_value(json_object_get(l, "reserved_kbps")),
                  cap = (long long)json_integer_value(json_object_get(l, "kbps"));
        const char *lname = json_string_value(json_object_get(l, "name"));
        bool used = false;
        size_t k, m;
        json_t *sl, *pl;
        json_array_foreach(slas, k, sl) json_array_foreach(json_object_get(sl, "path"), m, pl) used |=
            lname && !strcmp(json_string_value(pl), lname);
        double w = 1.5 + (cap ? 6.0 * (double)res / (double)cap : 0);
        fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" stroke-width=\"%.1f\"/>\n",
                EF_SL_X(parent[i]), EF_SL_Y(parent[i]), EF_SL_X(i), EF_SL_Y(i), used ? "#d6604d" : "#999", w);
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\" fill=\"#333\">%lld/%lld</text>\n",
                (EF_SL_X(parent[i]) + EF_SL_X(i)) / 2 + 4, (EF_SL_Y(parent[i]) + EF_SL_Y(i)) / 2, res, cap);
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *nd = json_array_get(nodes, i);
        fprintf(f, "<circle cx=\"%.0f\" cy=\"%.0f\" r=\"14\" fill=\"#4393c3\"/>\n<text x=\"%.0f\" y=\"%.0f\" "
                   "text-anchor=\"middle\">%s (%s)</text>\n",
                EF_SL_X(i), EF_SL_Y(i), EF_SL_X(i), EF_SL_Y(i) + 28, json_string_value(json_object_get(nd, "name")),
                json_string_value(json_object_get(nd, "layer")));
    }
#undef EF_SL_X
#undef EF_SL_Y
    fprintf(f, "<text x=\"10\" y=\"%.0f\" fill=\"#333\">links: reserved/capacity kbit/s; red: on a live slice; width: "
               "share reserved</text>\n</svg>\n",
            H - 10);
}

static int ef_sl_svg(int argc, char **argv)
{
    static const char *const spec[] = {"state=", "topology=", "out=", NULL};
    int c = ef_cli_check(argc, argv, ef_sl_svg_usage, spec, 0);
    if (c >= 0) return c;
    const char *st = ef_cli_opt(argc, argv, "state", NULL), *topo = ef_cli_opt(argc, argv, "topology", NULL),
               *out = ef_cli_opt(argc, argv, "out", NULL);
    if (!out || !st == !topo) return ef_sl_usage(ef_sl_svg_usage, 2);
    json_t *doc = NULL, *db = NULL, *slas = NULL;
    char err[256];
    if (st) {
        json_error_t je;
        if (!(doc = json_load_file(st, 0, &je)) || !json_is_object(json_object_get(doc, "db"))) {
            fprintf(stderr, "edgefed slice svg: %s is not a controller state file\n", st);
            json_decref(doc);
            return 1;
        }
        db = json_object_get(doc, "db");
        slas = json_object_get(doc, "slas");
    } else {
        ef_slice_db *d;
        if (ef_slice_db_load(&d, topo, err, sizeof err)) {
            fprintf(stderr, "edgefed slice svg: %s\n", err);
            return 1;
        }
        doc = ef_slice_db_json(d);
        ef_slice_db_free(d);
        db = doc;
    }
    FILE *f = fopen(out, "w");
    if (!f) {
        fprintf(stderr, "edgefed slice svg: cannot write %s\n", out);
        json_decref(doc);
        return 1;
    }
    ef_sl_svg_write(f, db, slas);
    int bad = fclose(f);
    json_decref(doc);
    return bad ? 1 : 0;
}

static const char *const ef_sl_usage_all =
    "usage: edgefed slice SUBCOMMAND [options]   (edgefed slice SUBCOMMAND --help)\n\n"
    "  check     load a topology, print it, or a path and whether an SLA fits it\n"
    "  send      slice traffic: UDP stamped with SLA, epoch, sequence, send time\n"
    "  monitor   count one slice's traffic per epoch and sign the SLA receipts\n"
    "  loss      inject loss at a node (nftables random drop)\n"
    "  svg       draw the tree with the bandwidth reserved on every link\n"
    "The controller that stitches slices: edgefed sla controller --help\n";

int ef_cmd_slice(int argc, char **argv)
{
    if (argc < 2 || (argv[1][0] == '-' && ef_cli_wants_help(argc, argv))) {
        fputs(ef_sl_usage_all, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "check")) return ef_sl_check(argc - 1, argv + 1);
    if (!strcmp(argv[1], "send")) return ef_sl_send(argc - 1, argv + 1);
    if (!strcmp(argv[1], "monitor")) return ef_sl_monitor(argc - 1, argv + 1);
    if (!strcmp(argv[1], "loss")) return ef_sl_loss(argc - 1, argv + 1);
    if (!strcmp(argv[1], "svg")) return ef_sl_svg(argc - 1, argv + 1);
    fprintf(stderr, "edgefed slice: unknown subcommand '%s'\n", argv[1]);
    return ef_sl_usage(ef_sl_usage_all, 2);
}

/* ---- the controller ---- */

static const char *const ef_ctl_usage =
    "usage: edgefed sla controller --key KEYFILE --topology FILE (--netns | --process) --edge-monitor PUB\n"
    "                              [--node URL] [--operator PUB] [--prefix P] [--octet N] [--port-base N]\n"
    "                              [--state FILE] [--log FILE] [--from H] [--handover-dir DIR]\n"
    "  The JIT controller of an operator: follows the node's sla events (GET /events);\n"
    "  on an activation of the operator's SLA it reserves a path meeting the rules in\n"
    "  the topology, stitches the slice and sends sla.confirm (slice id, path, the edge\n"
    "  monitor's key), or sla.fail with the reason; releases on close or nullification.\n"
    "  --netns: (root) every node a network namespace P-I (P default efsl + pid), every\n"
    "           link a veth pair in 10.N.x.y (N default 177), slices enforced with htb;\n"
    "  --process: nothing is built and bandwidth is NOT enforced (logic only).\n"
    "  KEYFILE signs the transactions: the operator's key or the controller key it named\n"
    "  (sla set-controller). --operator: whose SLAs (default: KEYFILE's). --state: the\n"
    "  controller's state (slices, ports, namespaces, addresses) as JSON, rewritten at\n"
    "  every change; written once the network is up. --log: every command run.\n"
    "  --handover-dir DIR: the customer's monitor hands its signed receipt of each\n"
    "  epoch over there (slice monitor --handover-dir); one that is not there 1 s after\n"
    "  its epoch's end stops the service (slice released, EWITHHELD in the log).\n"
    "  By default it first takes over the operator's SLAs the ledger shows active\n"
    "  (a restart stitches them again on their ports), then follows from the next\n"
    "  block. --from H: start at block H instead, with nothing taken over; --from 1\n"
    "  replays the chain and adopts the SLAs still active with the slices it had.\n"
    "  On start it publishes the topology on the ledger (sla.topology; a refusal is\n"
    "  only a warning). Runs until SIGTERM/SIGINT,\n"
    "  then releases every slice and removes the namespaces.\n";

typedef struct ef_ctl {
    pthread_mutex_t mu;        /* held while an event is handled */
    ef_jit *jit;
    const char *url;
    ef_keypair key;
    const char *state;
    volatile bool stop;
    volatile bool done;
    int follow_rc;
    long status;
    char target[160];
} ef_ctl;

static void ef_ctl_write_state(ef_ctl *c)
{
    if (!c->state) return;
    json_t *j = ef_jit_json(c->jit);
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s.tmp", c->state);
    if (j && json_dump_file(j, tmp, JSON_INDENT(2)) == 0 && rename(tmp, c->state) == 0) {}
    else EF_LOGW("controller", "cannot write %s", c->state);
    json_decref(j);
}

static void ef_ctl_on_change(void *arg) { ef_ctl_write_state(arg); }

static json_t *ef_ctl_query(void *arg, uint64_t sla)
{
    ef_ctl *c = arg;
    char path[64];
    json_t *j = NULL;
    snprintf(path, sizeof path, "/state/sla/sla/%llu", (unsigned long long)sla);
    return ef_cli_get(c->url, path, &j) ? NULL : j;
}

static int ef_ctl_submit(void *arg, const char *method, const json_t *args, char err[24])
{
    ef_ctl *c = arg;
    char *text = json_dumps(args, JSON_COMPACT);
    if (!text) return EF_ENOMEM;
    int rc = ef_cli_call(c->url, &c->key, "sla", method, text, err);
    free(text);
    return rc;
}

static int ef_ctl_event(void *arg, const char *type, const char *id, const char *data)
{
    ef_ctl *c = arg;
    (void)id;
    if (c->stop) return 1;
    if (strcmp(type, "event") || !*data) return 0;
    json_t *m = json_loads(data, 0, NULL);
    if (!m) return 0;
    const char *contract = json_string_value(json_object_get(m, "contract"));
    const char *name = json_string_value(json_object_get(m, "name"));
    pthread_mutex_lock(&c->mu);
    if (!c->stop && contract && !strcmp(contract, "sla") && name)
        ef_jit_on_event(c->jit, (uint64_t)json_integer_value(json_object_get(m, "height")), name,
                        json_object_get(m, "data"));
    pthread_mutex_unlock(&c->mu);
    json_decref(m);
    return c->stop ? 1 : 0;
}

static void *ef_ctl_follow(void *arg)
{
    ef_ctl *c = arg;
    ef_client *cl;
    if (ef_client_new(&cl, c->url, NULL, 0)) {
        c->follow_rc = EF_ENOMEM;
        c->done = true;
        return NULL;
    }
    char last[EF_CLIENT_ID_MAX] = "";
    c->follow_rc = ef_client_follow(cl, c->target, last, ef_ctl_event, c, &c->stop, &c->status);
    ef_client_free(cl);
    c->done = true;
    return NULL;
}

/* Hands every receipt in dir over to the controller (idempotent). */
static void ef_ctl_scan(ef_ctl *c, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 5 || strcmp(de->d_name + n - 4, ".hex")) continue;
        char path[1024], hex[EF_RECEIPT_HEX_MAX + 8];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        char *got = fgets(hex, sizeof hex, f);
        fclose(f);
        if (!got) continue;
        hex[strcspn(hex, "\r\n")] = 0;
        ef_receipt r;
        if (ef_receipt_decode_hex(&r, hex) == 0) (void)ef_jit_receipt(c->jit, &r);
    }
    closedir(d);
}

/* Without --from: takes over every SLA of the operator the ledger shows active
 * (a restarted controller stitches them again on their ports) and sets *from to
 * the block after the one the reads saw, so no later event is missed; events
 * of blocks the state already included are harmless (an SLA held already is
 * skipped, a close releases). */
static int ef_ctl_resume(ef_ctl *c, const ef_jit_cfg *jc, uint64_t *from)
{
    json_t *st = NULL, *list = NULL;
    if (ef_cli_get(c->url, "/status", &st)) return EF_ENET;
    json_int_t h = json_integer_value(json_object_get(st, "height"));
    json_decref(st);
    char hex[2 * EF_PUB_SIZE + 1], path[128];
    ef_hex(hex, jc->op.b, EF_PUB_SIZE);
    snprintf(path, sizeof path, "/state/sla/operator/%s", hex);
    int rc = ef_cli_get(c->url, path, &list);
    if (rc == EF_ENOTFOUND) rc = 0;   /* the operator has no SLA yet */
    if (rc) return rc;
    size_t i, resumed = 0;
    json_t *rec;
    json_array_foreach(list, i, rec) {
        const char *state = json_string_value(json_object_get(rec, "state"));
        if (!state || strcmp(state, "active") || !json_is_string(json_object_get(rec, "slice"))) continue;
        int r = ef_jit_resume(c->jit, rec);
        if (r == 0) resumed++;
        else
            fprintf(stderr, "edgefed sla controller: SLA %lld is active but cannot be taken over: %s\n",
                    (long long)json_integer_value(json_object_get(rec, "sla")), ef_strerror(r));
    }
    json_decref(list);
    if (resumed) fprintf(stderr, "edgefed sla controller: took over %zu active SLA(s) from the ledger\n", resumed);
    *from = (uint64_t)(h > 0 ? h : 0) + 1;
    return 0;
}

int ef_cmd_sla_controller(int argc, char **argv)
{
    static const char *const spec[] = {"key=", "topology=", "netns", "process", "edge-monitor=", "node=", "api=",
                                       "operator=", "prefix=", "octet=", "port-base=", "state=", "log=", "from=",
                                       "handover-dir=", NULL};
    int chk = ef_cli_check(argc, argv, ef_ctl_usage, spec, 0);
    if (chk >= 0) return chk;
    const char *keyf = ef_cli_opt(argc, argv, "key", NULL), *topo = ef_cli_opt(argc, argv, "topology", NULL),
               *edge = ef_cli_opt(argc, argv, "edge-monitor", NULL), *opk = ef_cli_opt(argc, argv, "operator", NULL);
    bool netns = ef_cli_flag(argc, argv, "netns"), process = ef_cli_flag(argc, argv, "process");
    uint64_t octet = 177, port_base = 40000, from = 0;
    ef_jit_cfg jc;
    memset(&jc, 0, sizeof jc);
    if (!keyf || !topo || !edge || netns == process || ef_unhex(jc.edge_monitor.b, EF_PUB_SIZE, edge) ||
        (opk && ef_unhex(jc.op.b, EF_PUB_SIZE, opk)) || ef_sl_u64(argc, argv, "octet", false, 1, 254, &octet) ||
        ef_sl_u64(argc, argv, "port-base", false, 1024, 65535 - EF_JIT_SLAS_MAX, &port_base) ||
        ef_sl_u64(argc, argv, "from", false, 1, INT64_MAX, &from)) {
        if (netns == process) fprintf(stderr, "edgefed sla controller: give one of --netns and --process\n");
        return ef_sl_usage(ef_ctl_usage, 2);
    }
    ef_ctl *c = calloc(1, sizeof *c);
    if (!c) return 1;
    pthread_mutex_init(&c->mu, NULL);
    c->url = ef_cli_opt(argc, argv, "node", NULL);
    if (!c->url) c->url = ef_cli_api_url(argc, argv);
    c->state = ef_cli_opt(argc, argv, "state", NULL);
    int ret = 1;
    ef_slice_db *db = NULL;
    ef_slicenet *net = NULL;
    char err[256], prefix[64];
    if (ef_key_load(&c->key, keyf)) {
        fprintf(stderr, "edgefed sla controller: cannot read key %s\n", keyf);
        goto out;
    }
    if (!opk) jc.op = c->key.pub;
    const char *handover = ef_cli_opt(argc, argv, "handover-dir", NULL);
    if (handover) {
        json_t *st = NULL;
        if (ef_cli_get(c->url, "/status", &st)) {
            fprintf(stderr, "edgefed sla controller: cannot read %s/status\n", c->url);
            goto out;
        }
        jc.require_handover = true;
        snprintf(jc.chain_id, sizeof jc.chain_id, "%.64s", json_string_value(json_object_get(st, "chain_id")));
        json_decref(st);
    }
    jc.port_base = (uint16_t)port_base;
    int rc = ef_slice_db_load(&db, topo, err, sizeof err);
    if (rc) {
        fprintf(stderr, "edgefed sla controller: %s\n", err);
        goto out;
    }
    snprintf(prefix, sizeof prefix, "%s", ef_cli_opt(argc, argv, "prefix", ""));
    if (!prefix[0]) snprintf(prefix, sizeof prefix, "efsl%u", (unsigned)getpid() % 10000000u);
    ef_slicenet_cfg nc = {.mode = netns ? "netns" : "process", .prefix = prefix, .octet = (uint8_t)octet,
                          .log = ef_cli_opt(argc, argv, "log", NULL)};
    if ((rc = ef_slicenet_open(&net, db, &nc))) {
        fprintf(stderr, "edgefed sla controller: cannot build the network: %s%s\n", ef_strerror(rc),
                rc == EF_EPERM ? " (--netns needs root; --process runs without)" : "");
        goto out;
    }
    ef_jit_hooks hooks = {.submit = ef_ctl_submit, .on_change = ef_ctl_on_change, .query = ef_ctl_query, .arg = c};
    if ((rc = ef_jit_open(&c->jit, db, net, &jc, &hooks))) {
        fprintf(stderr, "edgefed sla controller: %s\n", ef_strerror(rc));
        goto out;
    }
    char perr[24] = "";
    if ((rc = ef_jit_publish_topology(c->jit, perr)))
        fprintf(stderr, "edgefed sla controller: topology not published (%s %s): the explorer cannot draw it\n",
                ef_strerror(rc), perr);
    if (!from && (rc = ef_ctl_resume(c, &jc, &from))) {
        fprintf(stderr, "edgefed sla controller: cannot take over the active SLAs: %s\n", ef_strerror(rc));
        goto out;
    }
    snprintf(c->target, sizeof c->target, "/events?contract=sla&kind=event&from=%llu", (unsigned long long)from);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    ef_ctl_write_state(c);
    pthread_t th;
    if (pthread_create(&th, NULL, ef_ctl_follow, c)) goto out;
    fprintf(stderr, "edgefed sla controller: %s mode%s, %zu nodes, following %s%s\n", nc.mode,
            netns ? "" : " (bandwidth NOT enforced)", ef_slice_nodes(db), c->url, c->target);
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 200000000};
    while (!c->done) {
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT) break;
        if (handover) {
            ef_ctl_scan(c, handover);
            (void)ef_jit_tick(c->jit, ef_now_wall_ms());
        }
    }
    c->stop = true;
    if (c->done && c->follow_rc != EF_ECLOSED)
        fprintf(stderr, "edgefed sla controller: the event stream ended: %s (HTTP %ld)\n", ef_strerror(c->follow_rc),
                c->status);
    else ret = 0;
    /* no event is being handled once mu is ours; the follower may stay blocked in
     * its stream until exit */
    pthread_mutex_lock(&c->mu);
    ef_jit_stats st;
    ef_jit_stats_get(c->jit, &st);
    fprintf(stderr, "edgefed sla controller: %llu activations, %llu confirmed, %llu failed, %llu released, %llu "
                    "stopped for a withheld receipt, %llu adopted\n",
            (unsigned long long)st.activations, (unsigned long long)st.confirmed, (unsigned long long)st.failed,
            (unsigned long long)st.released, (unsigned long long)st.withheld, (unsigned long long)st.adopted);
    ef_slicenet_forget_all(net);   /* removing the namespaces removes every class and filter */
    ef_jit_close(c->jit);
    c->jit = NULL;
    ef_slicenet_close(net);
    net = NULL;
    if (c->done) pthread_join(th, NULL);
    else pthread_detach(th);
    if (c->state) remove(c->state);
    ef_slice_db_free(db);
    fflush(stderr);
    _exit(ret);   /* the follower may still hold its connection: do not unwind under it */
out:
    ef_jit_close(c->jit);
    ef_slicenet_close(net);
    ef_slice_db_free(db);
    free(c);
    return ret;
}
