/* cmd_demo_prov.c: `edgefed demo prov` (seed 004): on a 4-validator testnet, the
 * sensor -> collector -> analyser pipeline runs as separate processes passing data
 * by hash-addressed fetches, a tampered blob is refused by its consumer, and the
 * lineage of the result is printed and written as PROV-JSON, DOT and SVG. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agents/ef_proc.h"
#include "api/ef_client.h"
#include "base/ef_fs.h"
#include "base/ef_log.h"
#include "cli/cli.h"
#include "cli/cli_demo.h"
#include "cli/cli_prov.h"
#include "cli/cli_testnet.h"
#include "contracts/ef_prov.h"

static const char *const demo_usage =
    "usage: edgefed demo prov [--dir DIR] [--out DIR] [--readings N] [--base-port P] [--keep]\n"
    "  Trusted orchestration provenance (seed 004): a 4-validator testnet; a gateway\n"
    "  device and three containers (sensor, collector, analyser) identify themselves;\n"
    "  the sensor releases N readings (default 3), signed hashes on the ledger and the\n"
    "  bytes in its blob server; the collector and the analyser fetch their inputs by\n"
    "  hash, check them against the ledger, record their use and release their output;\n"
    "  a tampered reading is refused by its consumer. Then the lineage of the result,\n"
    "  with the block and transaction of every step, is printed and written as\n"
    "  PROV-JSON (result-1.prov.json, read by W3C PROV tools), DOT and SVG.\n"
    "  --dir    working directory (default: a new /tmp/edgefed-demo-prov-XXXXXX,\n"
    "           removed after a successful run unless --keep)\n"
    "  --out    where the pictures and exports go (default: DIR/out if --dir or --keep\n"
    "           is given, else a new /tmp/edgefed-prov-out-XXXXXX that is kept)\n"
    "  --base-port  P2P ports from P, blob servers from P+50, HTTP from P+100 (default:\n"
    "           a free range chosen from the process id)\n"
    "  --keep   leave the testnet running (stop it with edgefed testnet down --dir DIR/net)\n"
    "  exits 0 only if every step succeeded and the tampered blob was refused.\n";

static uint64_t demo_t0;

static void demo_step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void demo_step(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("  [%7.3f s] ", (double)(ef_now_wall_ms() - demo_t0) / 1000.0);
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
}

static bool demo_port_free(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

/* A base port P with P..P+3 (P2P), P+100..P+103 (HTTP), P+50..P+51 (blobs) free. */
static unsigned demo_base_port(void)
{
    static const unsigned off[] = {0, 1, 2, 3, 50, 51, 100, 101, 102, 103};
    for (unsigned t = 0; t < 60; t++) {
        /* below the ephemeral ports (32768..60999), between prov.sh's slots */
        unsigned p = 29220 + ((unsigned)getpid() + t * 13) % 43 * 40;
        bool ok = true;
        for (size_t i = 0; ok && i < EF_ARRAY_LEN(off); i++) ok = demo_port_free(p + off[i]);
        if (ok) return p;
    }
    return 0;
}

static int demo_write(const char *dir, const char *name, const void *data, size_t len, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", dir, name);
    return ef_prov_cli_write_file(path, data, len);
}

typedef struct {
    char bin[512], dir[TN_PATH_MAX], net[TN_PATH_MAX + 8], api[80];
    ef_client *cl;
    ef_keypair val, k[5];   /* orch, gw, sensor, collector, analyser */
    char pub[5][2 * EF_PUB_SIZE + 1];
} demo_ctx;

enum { K_ORCH, K_GW, K_SENSOR, K_COLL, K_ANAL };
static const char *const demo_names[] = {"orch", "gateway", "sensor", "collector", "analyser"};

static int demo_tx(demo_ctx *d, const ef_keypair *kp, const char *contract, const char *method, json_t *args,
                   const char *what)
{
    char err[512];
    json_t *resp = NULL;
    int rc = args ? ef_prov_cli_tx(d->cl, kp, contract, method, args, err, sizeof err, &resp) : EF_ENOMEM;
    if (rc) printf("  FAILED: %s: %s\n", what, args ? err : "out of memory");
    else
        demo_step("%s: block %" PRId64 " tx %.16s", what, (int64_t)json_integer_value(json_object_get(resp, "height")),
                  json_string_value(json_object_get(resp, "hash")));
    json_decref(resp);
    json_decref(args);
    return rc;
}

/* Runs `edgefed ARGS...` to completion (output inherited); its exit status. */
static int demo_run(demo_ctx *d, char **args)
{
    char *argv[EF_PROC_ARGV_MAX];
    int k = 0;
    argv[k++] = d->bin;
    for (int i = 0; args[i] && k < EF_PROC_ARGV_MAX - 1; i++) argv[k++] = args[i];
    argv[k] = NULL;
    pid_t pid = fork();
    if (pid < 0) return EF_EIO;
    if (pid == 0) {
        execv(d->bin, argv);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid) return EF_EIO;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static int demo_spawn(demo_ctx *d, char **args, pid_t *pid, int keep_stdout)
{
    char *argv[EF_PROC_ARGV_MAX];
    int k = 0;
    argv[k++] = d->bin;
    for (int i = 0; args[i] && k < EF_PROC_ARGV_MAX - 1; i++) argv[k++] = args[i];
    argv[k] = NULL;
    return ef_proc_spawn(pid, NULL, argv, keep_stdout);
}

static int demo_wait(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid) return EF_EIO;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

int ef_demo_prov(int argc, char **argv)
{
    static const char *const opts[] = {"dir=", "out=", "readings=", "base-port=", "keep", NULL};
    int rc0 = ef_cli_check(argc, argv, demo_usage, opts, 0);
    if (rc0 >= 0) return rc0;
    long readings = strtol(ef_cli_opt(argc, argv, "readings", "3"), NULL, 10);
    bool keep = ef_cli_flag(argc, argv, "keep");
    long base_port = strtol(ef_cli_opt(argc, argv, "base-port", "0"), NULL, 10);
    if (readings < 1 || readings > 50 || (base_port && (base_port < 1024 || base_port > 65000)))
        return fputs(demo_usage, stderr), 2;
    demo_ctx *d = calloc(1, sizeof *d);
    if (!d) return 1;
    int status = 1, rc;
    bool up = false, own_dir = false;
    pid_t serve_s = 0, serve_c = 0, pc = 0, pa = 0;
    json_t *lin = NULL;
    char *body = NULL, *dot = NULL, *svg = NULL;
    char out[TN_PATH_MAX + 8];
    ssize_t bl = readlink("/proc/self/exe", d->bin, sizeof d->bin - 1);
    d->bin[bl > 0 ? bl : 0] = 0;
    const char *dir = ef_cli_opt(argc, argv, "dir", NULL);
    if (dir) {
        snprintf(d->dir, sizeof d->dir, "%s", dir);
        mkdir(d->dir, 0755);
    } else {
        snprintf(d->dir, sizeof d->dir, "/tmp/edgefed-demo-prov-XXXXXX");
        if (!mkdtemp(d->dir)) goto out;
        own_dir = true;
    }
    const char *outopt = ef_cli_opt(argc, argv, "out", NULL);
    if (outopt) snprintf(out, sizeof out, "%s", outopt);
    else if (!own_dir || keep) snprintf(out, sizeof out, "%s/out", d->dir);
    else {
        snprintf(out, sizeof out, "/tmp/edgefed-prov-out-XXXXXX");
        if (!mkdtemp(out)) goto out;
    }
    mkdir(out, 0755);
    snprintf(d->net, sizeof d->net, "%s/net", d->dir);
    unsigned port = base_port ? (unsigned)base_port : demo_base_port();
    if (!port) {
        printf("edgefed demo prov: no free ports\n");
        goto out;
    }
    demo_t0 = ef_now_wall_ms();
    char t0s[32];
    snprintf(t0s, sizeof t0s, "%" PRIu64, demo_t0);
    setenv("EDGEFED_DEMO_T0_MS", t0s, 1);
    printf("edgefed demo prov: trusted orchestration provenance (seed 004), 4 validators, working directory %s\n",
           d->dir);

    /* 1. the ledger */
    char ports[16];
    snprintf(ports, sizeof ports, "%u", port);
    char *init[] = {"testnet", "init", "--dir", d->net, "--validators", "4", "--base-port", ports, NULL};
    char *upa[] = {"testnet", "up", "--dir", d->net, NULL};
    if (ef_proc_cmd(1, d->bin, init[0], init[1], init[2], init[3], init[4], init[5], init[6], init[7], NULL) ||
        ef_proc_cmd(1, d->bin, upa[0], upa[1], upa[2], upa[3], NULL)) {
        printf("  FAILED: testnet init/up in %s\n", d->net);
        goto out;
    }
    up = true;
    ef_testnet tn;
    if (ef_testnet_load(&tn, d->net)) goto out;
    snprintf(d->api, sizeof d->api, "http://%s", tn.nodes[0].http);
    if (ef_client_new(&d->cl, d->api, NULL, 0)) goto out;
    for (int i = 0; i < 100; i++) {
        long st = 0;
        json_t *j = NULL;
        if (ef_client_json(d->cl, "GET", "/status", NULL, &st, &j) == 0 && st == 200) {
            json_decref(j);
            break;
        }
        json_decref(j);
        usleep(100 * 1000);
    }
    demo_step("4 validators up, API %s", d->api);

    /* 2. accounts: members of dom-0, registered by its validator */
    char path[TN_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/v0/node.key", d->net);
    if (ef_key_load(&d->val, path)) goto out;
    for (int i = 0; i < 5; i++) {
        ef_keypair_generate(&d->k[i]);
        ef_hex(d->pub[i], d->k[i].pub.b, EF_PUB_SIZE);
        snprintf(path, sizeof path, "%s/%s.key", d->dir, demo_names[i]);
        if (ef_key_save(path, &d->k[i])) goto out;
        char what[96];
        snprintf(what, sizeof what, "registry: %s (%.12s...) becomes a member of dom-0", demo_names[i], d->pub[i]);
        if (demo_tx(d, &d->val, "registry", "register_member",
                    json_pack("{s:s, s:s, s:s}", "account", d->pub[i], "domain", "dom-0", "name", demo_names[i]), what))
            goto out;
    }
    const char *orch = d->pub[K_ORCH];
    /* 3. join device: identify (PROV-ID-create) */
    if (demo_tx(d, &d->k[K_GW], "prov", "join",
                json_pack("{s:s, s:s, s:s, s:s}", "id", "gateway", "kind", "device", "owner", orch, "key", d->pub[K_GW]),
                "JOIN device gateway (owner: the orchestrator)"))
        goto out;

    /* 4. the pipeline: blob servers, then the three containers as processes */
    char bs[TN_PATH_MAX + 16], bc[TN_PATH_MAX + 16], ba[TN_PATH_MAX + 16], ls[32], lc[32], us[48], uc[48];
    snprintf(bs, sizeof bs, "%s/blobs-sensor", d->dir);
    snprintf(bc, sizeof bc, "%s/blobs-collector", d->dir);
    snprintf(ba, sizeof ba, "%s/blobs-analyser", d->dir);
    mkdir(bs, 0755);
    mkdir(bc, 0755);
    mkdir(ba, 0755);
    snprintf(ls, sizeof ls, "127.0.0.1:%u", port + 50);
    snprintf(lc, sizeof lc, "127.0.0.1:%u", port + 51);
    snprintf(us, sizeof us, "http://%s", ls);
    snprintf(uc, sizeof uc, "http://%s", lc);
    char *s1[] = {"prov", "serve", "--dir", bs, "--listen", ls, "--exit-with-parent", NULL};
    char *s2[] = {"prov", "serve", "--dir", bc, "--listen", lc, "--exit-with-parent", NULL};
    if (demo_spawn(d, s1, &serve_s, 0) || demo_spawn(d, s2, &serve_c, 0)) goto out;
    usleep(300 * 1000);
    demo_step("blob servers up: sensor %s, collector %s (GET /blobs/HASH)", ls, lc);
    char inputs[1024] = "", keyp[3][TN_PATH_MAX + 32], cnt[16];
    for (long i = 1; i <= readings; i++) {
        size_t n = strlen(inputs);
        snprintf(inputs + n, sizeof inputs - n, "%sreading-%ld", i > 1 ? "," : "", i);
    }
    snprintf(cnt, sizeof cnt, "%ld", readings);
    for (int i = 0; i < 3; i++) snprintf(keyp[i], sizeof keyp[i], "%s/%s.key", d->dir, demo_names[K_SENSOR + i]);
    char *an[] = {"prov", "pipeline", "step", "--api", d->api, "--key", keyp[2], "--id", "analyser", "--owner",
                  (char *)orch, "--host", "gateway", "--dir", ba, "--activity", "analyse-1", "--inputs", "joint-1",
                  "--fetch", uc, "--output", "result-1", "--op", "analyse", NULL};
    char *co[] = {"prov", "pipeline", "step", "--api", d->api, "--key", keyp[1], "--id", "collector", "--owner",
                  (char *)orch, "--host", "gateway", "--dir", bc, "--activity", "collect-1", "--inputs", inputs,
                  "--fetch", us, "--output", "joint-1", "--op", "collect", "--receiver", "analyse-1", NULL};
    char *se[] = {"prov", "pipeline", "sense", "--api", d->api, "--key", keyp[0], "--id", "sensor", "--owner",
                  (char *)orch, "--host", "gateway", "--dir", bs, "--count", cnt, "--receiver", "collect-1", NULL};
    demo_step("starting the analyser and the collector (they wait for their inputs), then the sensor");
    if (demo_spawn(d, an, &pa, 1) || demo_spawn(d, co, &pc, 1)) goto out;
    if ((rc = demo_run(d, se))) {
        printf("  FAILED: the sensor exited %d\n", rc);
        goto out;
    }
    rc = demo_wait(pc);
    pc = 0;
    if (rc) {
        printf("  FAILED: the collector exited %d\n", rc);
        goto out;
    }
    rc = demo_wait(pa);
    pa = 0;
    if (rc) {
        printf("  FAILED: the analyser exited %d\n", rc);
        goto out;
    }
    demo_step("pipeline done: result-1 released by the analyser");

    /* 5. a tampered reading: the collector refuses it, nothing is recorded */
    char *se2[] = {"prov", "pipeline", "sense", "--api", d->api, "--key", keyp[0], "--id", "sensor", "--owner",
                   (char *)orch, "--host", "gateway", "--dir", bs, "--count", "1", "--prefix", "tampered", NULL};
    if (demo_run(d, se2)) goto out;
    {
        long st = 0;
        json_t *dj = NULL, *s0 = NULL, *s1j = NULL;
        (void)ef_client_json(d->cl, "GET", "/state/prov/data/tampered-1", NULL, &st, &dj);
        char h[2 * EF_HASH_SIZE + 1];
        snprintf(h, sizeof h, "%s", json_string_value(json_object_get(dj, "hash")) ? json_string_value(json_object_get(dj, "hash")) : "");
        json_decref(dj);
        char bp[TN_PATH_MAX + 100];
        snprintf(bp, sizeof bp, "%s/%s", bs, h);
        const char *evil = "{\"sensor\":\"sensor\",\"seq\":1,\"temp_mC\":99999}";
        rc = h[0] ? ef_prov_cli_write_file(bp, evil, strlen(evil)) : EF_ENOTFOUND;
        if (rc) goto out;
        demo_step("someone rewrites the blob of tampered-1 (%.16s...) on the sensor's server", h);
        (void)ef_client_json(d->cl, "GET", "/state/prov/stats", NULL, &st, &s0);
        char *co2[] = {"prov", "pipeline", "step", "--api", d->api, "--key", keyp[1], "--id", "collector", "--owner",
                       (char *)orch, "--host", "gateway", "--dir", bc, "--activity", "collect-2", "--inputs",
                       "tampered-1", "--fetch", us, "--output", "joint-2", "--op", "collect", NULL};
        int crc = demo_run(d, co2);
        (void)ef_client_json(d->cl, "GET", "/state/prov/stats", NULL, &st, &s1j);
        bool same = json_equal(json_object_get(s0, "records"), json_object_get(s1j, "records"));
        json_decref(s0);
        json_decref(s1j);
        if (crc == 0 || !same) {
            printf("  FAILED: the tampered blob was %s\n", crc == 0 ? "used" : "refused but something was recorded");
            goto out;
        }
        demo_step("the collector REFUSED tampered-1 (bytes do not match the ledger's hash); nothing recorded");
    }

    /* 6. the lineage of the result: printed, PROV-JSON, DOT, SVG */
    {
        long st = 0;
        size_t len = 0;
        if (ef_client_json(d->cl, "GET", "/state/prov/lineage/data:result-1", NULL, &st, &lin) || st != 200 || !lin) {
            printf("  FAILED: lineage of data:result-1 (HTTP %ld)\n", st);
            goto out;
        }
        demo_step("lineage of data:result-1 (back to the identities, with the block and tx of each step):");
        ef_prov_cli_print_lineage(stdout, lin);
        if (ef_client_request(d->cl, "GET", "/state/prov/export/lineage/data:result-1", NULL, NULL, 0, &st, &body,
                              &len) ||
            st != 200) {
            printf("  FAILED: PROV-JSON export (HTTP %ld)\n", st);
            goto out;
        }
        /* the export holds exactly the lineage's nodes and steps */
        json_t *doc = json_loadb(body, len, 0, NULL);
        size_t els = 0, rels = 0;
        const char *k;
        json_t *v;
        json_object_foreach(doc, k, v) {
            if (!strcmp(k, "prefix")) continue;
            if (!strcmp(k, "entity") || !strcmp(k, "activity") || !strcmp(k, "agent")) els += json_object_size(v);
            else rels += json_object_size(v);
        }
        json_decref(doc);
        if (els != json_array_size(json_object_get(lin, "nodes")) ||
            rels != json_array_size(json_object_get(lin, "steps"))) {
            printf("  FAILED: the export has %zu elements and %zu relations, the lineage %zu and %zu\n", els, rels,
                   json_array_size(json_object_get(lin, "nodes")), json_array_size(json_object_get(lin, "steps")));
            goto out;
        }
        char p1[TN_PATH_MAX + 64], p2[TN_PATH_MAX + 64], p3[TN_PATH_MAX + 64], p4[TN_PATH_MAX + 64];
        char *ltext = json_dumps(lin, JSON_COMPACT);
        dot = ef_prov_lineage_dot(lin);
        svg = ef_prov_lineage_svg(lin);
        rc = !ltext || !dot || !svg;
        if (!rc) rc = demo_write(out, "result-1.prov.json", body, len, p1, sizeof p1);
        if (!rc) rc = demo_write(out, "result-1.svg", svg, strlen(svg), p2, sizeof p2);
        if (!rc) rc = demo_write(out, "result-1.dot", dot, strlen(dot), p3, sizeof p3);
        if (!rc) rc = demo_write(out, "result-1.lineage.json", ltext, strlen(ltext), p4, sizeof p4);
        free(ltext);
        if (rc) {
            printf("  FAILED: cannot write into %s\n", out);
            goto out;
        }
        demo_step("written: %s (W3C PROV-JSON, %zu elements, %zu relations)", p1, els, rels);
        demo_step("written: %s (the lineage as a picture), %s (Graphviz DOT)", p2, p3);
    }
    status = 0;
out:
    if (pa) ef_proc_stop(pa, 1000);
    if (pc) ef_proc_stop(pc, 1000);
    if (serve_s) ef_proc_stop(serve_s, 1000);
    if (serve_c) ef_proc_stop(serve_c, 1000);
    ef_client_free(d->cl);
    if (up && !keep) {
        char *down[] = {"testnet", "down", "--dir", d->net, NULL};
        if (ef_proc_cmd(1, d->bin, down[0], down[1], down[2], down[3], NULL)) status = 1;
    } else if (up) {
        printf("the testnet stays up (--keep): %s testnet down --dir %s\n", d->bin, d->net);
    }
    if (status == 0 && own_dir && !keep && ef_fs_remove_tree(d->dir))
        fprintf(stderr, "edgefed demo prov: could not remove %s\n", d->dir);
    else if (status)
        printf("  files kept in %s\n", d->dir);
    printf("%s\n", status ? "edgefed demo prov: FAILED" : "edgefed demo prov: OK");
    json_decref(lin);
    free(body);
    free(dot);
    free(svg);
    free(d);
    return status;
}
