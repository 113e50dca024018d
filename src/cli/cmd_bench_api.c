/* cmd_bench_api.c: `edgefed bench api`: latency (p50, p99) and throughput of
 * GET /status and GET /txs/{hash} under concurrent load, measured with wrk. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/ef_client.h"
#include "base/ef_codec.h"
#include "base/ef_log.h"
#include "cli/cli.h"
#include "cli/cli_bench.h"
#include "cli/cli_api.h"
#include "cli/cli_testnet.h"
#include "ledger/ef_tx.h"

#define EF_BENCH_RUNS_MAX 8

typedef struct ef_wrk_result {
    char endpoint[96];
    unsigned connections;
    double p50_ms, p75_ms, p90_ms, p99_ms;
    double rps;
    unsigned long long requests;
    unsigned long long errors;      /* non-2xx answers and socket errors */
} ef_wrk_result;

/* "350.12us" / "1.20ms" / "2.00s" -> ms; negative if not understood. */
static double ef_wrk_ms(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s) return -1;
    if (!strncmp(end, "us", 2)) return v / 1000.0;
    if (!strncmp(end, "ms", 2)) return v;
    if (!strncmp(end, "s", 1)) return v * 1000.0;
    return -1;
}

/* Runs wrk against url and parses its --latency report. Returns 0, or EF_EIO if wrk
 * could not run or its report was not understood. */
static int ef_wrk_run(const char *url, unsigned threads, unsigned conns, unsigned secs, ef_wrk_result *r)
{
    char t[16], c[16], d[16];
    snprintf(t, sizeof t, "-t%u", threads < conns ? threads : conns);
    snprintf(c, sizeof c, "-c%u", conns);
    snprintf(d, sizeof d, "-d%us", secs);
    int fds[2];
    if (pipe(fds)) return EF_EIO;
    pid_t pid = fork();
    if (pid < 0) return EF_EIO;
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execlp("wrk", "wrk", t, c, d, "--latency", "--timeout", "5s", url, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    char line[512];
    int found = 0;
    unsigned long long non2xx = 0, sock = 0;
    while (f && fgets(line, sizeof line, f)) {
        char pct[8], val[32];
        unsigned long long a, b, cc, dd;
        if (sscanf(line, " %7[0-9]%% %31s", pct, val) == 2) {
            double ms = ef_wrk_ms(val);
            if (!strcmp(pct, "50")) { r->p50_ms = ms; found |= 1; }
            else if (!strcmp(pct, "75")) r->p75_ms = ms;
            else if (!strcmp(pct, "90")) r->p90_ms = ms;
            else if (!strcmp(pct, "99")) { r->p99_ms = ms; found |= 2; }
        } else if (sscanf(line, "Requests/sec: %lf", &r->rps) == 1) {
            found |= 4;
        } else if (sscanf(line, " %llu requests in", &r->requests) == 1) {
        } else if (sscanf(line, " Non-2xx or 3xx responses: %llu", &non2xx) == 1) {
        } else if (sscanf(line, " Socket errors: connect %llu, read %llu, write %llu, timeout %llu", &a, &b,
                          &cc, &dd) == 4) {
            sock = a + b + cc + dd;
        }
    }
    if (f) fclose(f);
    int status = 0;
    waitpid(pid, &status, 0);
    r->errors = non2xx + sock;
    r->connections = conns;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || found != 7) return EF_EIO;
    return 0;
}

/* A committed transaction's hash: the newest block with transactions, searching
 * back from the top (at most 2000 blocks). */
static int ef_bench_find_tx(ef_client *cl, char hash[65])
{
    long status;
    json_t *st = NULL;
    if (ef_client_json(cl, "GET", "/status", NULL, &status, &st) || status != 200) {
        json_decref(st);
        return EF_ENET;
    }
    long long top = json_integer_value(json_object_get(st, "height"));
    json_decref(st);
    for (long long h = top; h > 0 && h > top - 2000; h--) {
        char path[64];
        json_t *b = NULL;
        snprintf(path, sizeof path, "/blocks/%lld", h);
        if (ef_client_json(cl, "GET", path, NULL, &status, &b) || status != 200) {
            json_decref(b);
            continue;
        }
        const char *hx = json_string_value(json_object_get(json_array_get(json_object_get(b, "txs"), 0), "hash"));
        if (hx && strlen(hx) == 64) {
            memcpy(hash, hx, 65);
            json_decref(b);
            return 0;
        }
        json_decref(b);
    }
    return EF_ENOTFOUND;
}


/* Runs this binary with args (NULL-terminated) and waits; returns its exit status. */
static int ef_bench_self(char *const args[])
{
    char self[512];
    ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
    if (k <= 0) return -1;
    self[k] = 0;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, 1);
        execv(self, args);
        _exit(127);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
}

/* Commits n transfers from load account 0 (waiting for the last) so the chain
 * holds transactions to look up. Returns 0 or an error. */
static int ef_bench_fill(ef_client *cl, const char *chain, int n)
{
    ef_keypair kp, to;
    ef_load_key(&kp, 0);
    ef_keypair_generate(&to);
    char hex[2 * EF_PUB_SIZE + 1], args[160];
    ef_hex(hex, to.pub.b, EF_PUB_SIZE);
    snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":1}", hex);
    for (int i = 0; i < n; i++) {
        ef_tx tx;
        memset(&tx, 0, sizeof tx);
        snprintf(tx.chain_id, sizeof tx.chain_id, "%s", chain);
        tx.sender = kp.pub;
        tx.nonce = (uint64_t)i;
        strcpy(tx.contract, "bank");
        strcpy(tx.method, "transfer");
        tx.args = (const uint8_t *)args;
        tx.args_len = strlen(args);
        ef_wr w;
        ef_wr_init(&w);
        int rc = ef_tx_sign(&tx, &kp);
        if (rc == 0) rc = ef_tx_encode(&w, &tx);
        long status = 0;
        json_t *j = NULL;
        if (rc == 0) rc = ef_client_submit(cl, w.buf, w.len, i == n - 1, 20000, &status, &j);
        ef_wr_free(&w);
        json_decref(j);
        if (rc) return rc;
        if (status != 202 && status != 200) return EF_EPROTO;
    }
    return 0;
}

/* A testnet of nval validators in a new directory under TMPDIR; *api gets the
 * HTTP address of its first node. Returns 0 or an error (printed). */
static int ef_bench_testnet(char *dir, size_t dir_cap, unsigned nval, char *api, size_t api_cap)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, dir_cap, "%s/ef-bench-api-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) return EF_EIO;
    char net[600], nv[16], port[16];
    snprintf(net, sizeof net, "%s/net", dir);
    snprintf(nv, sizeof nv, "%u", nval);
    snprintf(port, sizeof port, "%d", 27000 + (int)(getpid() % 100) * 20);
    char *init[] = {"edgefed", "testnet", "init", "--dir", net, "--validators", nv, "--base-port", port,
                    "--accounts", "1", NULL};
    char *up[] = {"edgefed", "testnet", "up", "--dir", net, NULL};
    if (ef_bench_self(init) || ef_bench_self(up)) {
        fprintf(stderr, "edgefed bench api: cannot start a testnet in %s\n", net);
        return EF_EIO;
    }
    ef_testnet *tn = calloc(1, sizeof *tn);
    if (!tn) return EF_ENOMEM;
    int rc = ef_testnet_load(tn, net);
    if (rc == 0) snprintf(api, api_cap, "http://%s", tn->nodes[0].http);
    free(tn);
    return rc;
}

static void ef_bench_testnet_down(const char *dir)
{
    char net[600];
    snprintf(net, sizeof net, "%s/net", dir);
    char *down[] = {"edgefed", "testnet", "down", "--dir", net, NULL};
    ef_bench_self(down);
    char *rm[] = {"rm", "-rf", (char *)dir, NULL};
    pid_t pid = fork();
    if (pid == 0) {
        execvp("rm", rm);
        _exit(127);
    }
    if (pid > 0) waitpid(pid, NULL, 0);
}

static int ef_bench_write(const char *dir, const char *url, unsigned secs, unsigned threads,
                          const ef_wrk_result *rs, size_t n, unsigned nval, double rss_mb, double load_before)
{
    if (ef_bench_mkdir(dir)) return EF_EIO;
    json_t *runs = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(runs, json_pack("{s:s, s:I, s:f, s:f, s:f, s:f, s:f, s:I, s:I}", "endpoint",
                                              rs[i].endpoint, "connections", (json_int_t)rs[i].connections,
                                              "p50_ms", rs[i].p50_ms, "p75_ms", rs[i].p75_ms, "p90_ms",
                                              rs[i].p90_ms, "p99_ms", rs[i].p99_ms, "requests_per_s", rs[i].rps,
                                              "requests", (json_int_t)rs[i].requests, "errors",
                                              (json_int_t)rs[i].errors));
    double load[1] = {load_before};
    json_t *doc = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:f, s:f, s:o}", "bench", "api", "tool", "wrk",
                            "url", url, "duration_s", (json_int_t)secs, "wrk_threads", (json_int_t)threads,
                            "cpus", (json_int_t)sysconf(_SC_NPROCESSORS_ONLN), "loadavg_1m", load[0],
                            "aim_p50_ms", 1.0, "runs", runs);
    if (nval) json_object_set_new(doc, "testnet_validators", json_integer(nval));
    json_object_set_new(doc, "node_rss_mb", json_real(rss_mb));
    int rc = ef_bench_write_json(dir, "api", doc) ? EF_EIO : 0;
    json_decref(doc);
    if (rc) return rc;
    FILE *f = ef_bench_open(dir, "api", "md");
    if (!f) return EF_EIO;
    fprintf(f, "# edgefed bench api\n\nwrk, %u s per run, %u wrk threads, %ld CPUs, 1-minute load average %.2f "
               "before the runs; node at %s.\nAim: p50 <= 1 ms.\n\n",
            secs, threads, sysconf(_SC_NPROCESSORS_ONLN), load[0], url);
    if (nval) fprintf(f, "The node is validator 0 of a local testnet of %u validators (all on this machine).\n", nval);
    if (rss_mb >= 0) fprintf(f, "Node RSS after the runs: %.1f MB.\n", rss_mb);
    fputc('\n', f);
    fprintf(f, "| endpoint | connections | p50 ms | p90 ms | p99 ms | requests/s | errors |\n"
               "|---|---:|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "| `%s` | %u | %.3f | %.3f | %.3f | %.0f | %llu |\n", rs[i].endpoint, rs[i].connections,
                rs[i].p50_ms, rs[i].p90_ms, rs[i].p99_ms, rs[i].rps, rs[i].errors);
    fclose(f);
    return 0;
}

int ef_bench_api(int argc, char **argv)
{
    const char *usage =
        "usage: edgefed bench api [--api URL [--tx HASH] | --validators N] [--duration S]\n"
        "                         [--connections C] [--threads T] [--out DIR]\n"
        "  Measures GET /status and GET /txs/{hash} of a node with wrk, first with\n"
        "  one connection, then with C concurrent ones (default 32), S seconds each\n"
        "  (default 5), T wrk threads (default 2). Prints p50/p99 latency and requests/s\n"
        "  and writes DIR/api.json and DIR/api.md (default ./bench-out).\n"
        "  Without --api it starts a local testnet of N validators (default 4), commits\n"
        "  20 transfers, measures its first node and takes the testnet down again.\n"
        "  --api URL  a running node instead; it must hold a committed transaction, else\n"
        "             pass --tx\n"
        "  The aim is p50 <= 1 ms. Exit status 0 if every run completed without errors.\n";
    if (ef_cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    const char *api_opt = ef_cli_opt(argc, argv, "api", NULL);
    char own_url[128] = "", own_dir[512] = "";
    unsigned nval = (unsigned)strtoul(ef_cli_opt(argc, argv, "validators", "4"), NULL, 10);
    if (!api_opt && (nval < 1 || nval > 16)) {
        fputs(usage, stderr);
        return 2;
    }
    if (!api_opt) {
        if (ef_bench_testnet(own_dir, sizeof own_dir, nval, own_url, sizeof own_url)) {
            if (own_dir[0]) ef_bench_testnet_down(own_dir);
            return 1;
        }
    }
    const char *url = api_opt ? api_opt : own_url;
    const char *out = ef_cli_opt(argc, argv, "out", "bench-out");
    unsigned secs = (unsigned)strtoul(ef_cli_opt(argc, argv, "duration", "5"), NULL, 10);
    unsigned conns = (unsigned)strtoul(ef_cli_opt(argc, argv, "connections", "32"), NULL, 10);
    unsigned threads = (unsigned)strtoul(ef_cli_opt(argc, argv, "threads", "2"), NULL, 10);
    if (!secs || !conns || !threads || conns > 1000 || secs > 600) {
        fputs(usage, stderr);
        return 2;
    }
    char hash[65] = "";
    const char *tx = ef_cli_opt(argc, argv, "tx", NULL);
    ef_client *cl = NULL;
    if (ef_client_new(&cl, url, NULL, 10000)) {
        fprintf(stderr, "edgefed bench api: bad URL %s\n", url);
        return 2;
    }
    int rc = 0;
    if (!api_opt) {
        long status = 0;
        json_t *st = NULL;
        for (int i = 0; i < 100; i++) {        /* wait for the node's API */
            if (ef_client_json(cl, "GET", "/status", NULL, &status, &st) == 0 && status == 200) break;
            json_decref(st);
            st = NULL;
            usleep(100000);
        }
        const char *chain = json_string_value(json_object_get(st, "chain_id"));
        rc = chain ? ef_bench_fill(cl, chain, 20) : EF_ENET;
        json_decref(st);
        if (rc) fprintf(stderr, "edgefed bench api: cannot commit transactions: %s\n", ef_strerror(rc));
    }
    if (rc == 0 && tx) {
        if (strlen(tx) != 64) { fputs(usage, stderr); ef_client_free(cl); return 2; }
        memcpy(hash, tx, 65);
    } else if (rc == 0) {
        rc = ef_bench_find_tx(cl, hash);
        if (rc) fprintf(stderr, "edgefed bench api: no committed transaction found at %s (%s); pass --tx\n",
                        url, ef_strerror(rc));
    }
    ef_client_free(cl);
    if (rc) {
        if (own_dir[0]) ef_bench_testnet_down(own_dir);
        return 1;
    }
    ef_wrk_result rs[EF_BENCH_RUNS_MAX];
    size_t n = 0;
    const char *paths[2] = {"/status", NULL};
    char txpath[80];
    snprintf(txpath, sizeof txpath, "/txs/%s", hash);
    paths[1] = txpath;
    unsigned levels[2] = {1, conns};
    int ret = 0;
    double load_before = -1;
    if (getloadavg(&load_before, 1) < 1) load_before = -1;    /* the machine's other work */
    printf("bench api: %s, wrk %u s per run\n", url, secs);
    printf("  %-22s %5s %9s %9s %9s %11s %7s\n", "endpoint", "conns", "p50 ms", "p90 ms", "p99 ms", "req/s", "errors");
    for (size_t p = 0; p < 2; p++) {
        for (size_t l = 0; l < 2; l++) {
            if (l == 1 && conns == 1) continue;
            ef_wrk_result *r = &rs[n];
            memset(r, 0, sizeof *r);
            snprintf(r->endpoint, sizeof r->endpoint, "GET %s", p == 0 ? "/status" : "/txs/{hash}");
            char full[400];
            snprintf(full, sizeof full, "%s%s", url, paths[p]);
            rc = ef_wrk_run(full, threads, levels[l], secs, r);
            if (rc) {
                fprintf(stderr, "edgefed bench api: wrk failed on %s (is wrk installed? scripts/setup)\n", full);
                if (own_dir[0]) ef_bench_testnet_down(own_dir);
                return 1;
            }
            printf("  %-22s %5u %9.3f %9.3f %9.3f %11.0f %7llu\n", r->endpoint, r->connections, r->p50_ms,
                   r->p90_ms, r->p99_ms, r->rps, r->errors);
            if (r->errors) ret = 1;
            n++;
        }
    }
    /* the node's resident memory after the load, from its own metrics */
    double rss_mb = -1;
    if (ef_client_new(&cl, url, NULL, 10000) == 0) {
        long status;
        char *body = NULL;
        size_t blen;
        if (ef_client_request(cl, "GET", "/metrics", NULL, NULL, 0, &status, &body, &blen) == 0) {
            const char *m = strstr(body, "\nedgefed_process_resident_memory_bytes ");
            if (m) rss_mb = strtod(m + 39, NULL) / (1024.0 * 1024.0);
        }
        free(body);
        ef_client_free(cl);
    }
    if (own_dir[0]) ef_bench_testnet_down(own_dir);
    if (rss_mb >= 0) printf("node RSS after the runs: %.1f MB\n", rss_mb);
    rc = ef_bench_write(out, api_opt ? url : "own testnet", secs, threads, rs, n, api_opt ? 0 : nval, rss_mb,
                        load_before);
    if (rc) {
        fprintf(stderr, "edgefed bench api: cannot write to %s: %s\n", out, ef_strerror(rc));
        return 1;
    }
    double worst = 0;
    for (size_t i = 0; i < n; i++) worst = rs[i].p50_ms > worst ? rs[i].p50_ms : worst;
    printf("worst p50 %.3f ms (aim <= 1 ms: %s); wrote %s/api.json and %s/api.md\n", worst,
           worst <= 1.0 ? "met" : "missed", out, out);
    return ret;
}
