/* cmd_bench_hierarchy.c: `edgefed bench hierarchy`: the paper's Table II (seed
 * 000) on this machine, one harness for both levels of a hierarchy laid out by
 * `testnet init --hierarchy`: a private domain ledger (a committee of 4
 * devices, elected and rotated by the committee contract while the benchmark
 * runs) and the federation ledger (4 validators, one relaying the domain's
 * checkpoints all the while). Query latency, record latency (submitted to
 * committed) p50/p99, transactions per second, CPU and peak RSS per node, side
 * by side with the paper's figures (a BFT domain ledger, a PoW federation). */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <jansson.h>

#include "agents/ef_proc.h"
#include "api/ef_client.h"
#include "base/ef_codec.h"
#include "base/ef_fs.h"
#include "cli/cli.h"
#include "cli/cli_admin.h"
#include "cli/cli_bench.h"
#include "cli/cli_demo.h"
#include "cli/cli_testnet.h"
#include "ledger/ef_tx.h"

#define BH_NODES 4
#define BH_ACCOUNTS_MAX 200
#define BH_RSS_LIMIT_KB (32 * 1024)
#define BH_SUBMITTERS BH_NODES   /* burst threads, one per node's API */

/* The paper's Table II (Tendermint domain ledger vs PoW Ethereum) and text. */
#define BH_PAPER_QUERY_MS 18.0
#define BH_PAPER_RECORD_MS 1600.0
#define BH_PAPER_TPS 625.0
#define BH_PAPER_POW_QUERY_MS 110.0
#define BH_PAPER_POW_RECORD_MS 4500.0
#define BH_PAPER_POW_TPS 127.0
#define BH_PAPER_RSS_MB 80.0
#define BH_PAPER_CPU_CORES 0.33
#define BH_PAPER_POW_RSS_MB 1200.0
#define BH_PAPER_POW_CPU_CORES 1.0

static const char *const bh_usage =
    "usage: edgefed bench hierarchy [--queries N] [--records N] [--burst N] [--accounts K]\n"
    "                               [--epoch-heights L] [--base-port P] [--dir DIR] [--out DIR]\n"
    "  Lays out and starts (testnet init --hierarchy --domains 1) a domain ledger of 4\n"
    "  device processes whose committee of 4 the committee contract elects every L heights\n"
    "  (default 40; rotations happen during the run) and a federation ledger of 4 validators,\n"
    "  v0 relaying the domain's checkpoints to the anchor throughout. Then, on each ledger in\n"
    "  turn (the domain, then the federation), the same harness:\n"
    "  --queries (default 1000) state reads (GET /accounts/{key}; signed by a member on the\n"
    "  private domain ledger, plain on the public federation) one after another, p50/p99;\n"
    "  --records (default 200) transfers one after another, each timed from submission to\n"
    "  its commit (p50/p99); twice --burst (default 4000) transfers from K (default 100,\n"
    "  <= 200) accounts submitted at once, through each node's admin socket and then over\n"
    "  signed HTTP (transactions per second until the last commits), with each node's CPU\n"
    "  over the burst; every node's peak RSS (limit 32 MB: exit 1 over it). Writes\n"
    "  DIR/hierarchy.json and hierarchy.md (--out, default ./bench-out) with the paper's\n"
    "  Table II beside.\n";

static double bh_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A private ledger's request signature covers method, target and the time in
 * ms, and the node refuses a replayed one: one key sends at most one identical
 * request per millisecond. bh_pace waits until the wall-clock ms is past *last;
 * bh_paced, after a request, sets *last to the ms it ended in (the request was
 * signed at or before it). */
static uint64_t bh_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void bh_pace(const uint64_t *last)
{
    while (bh_wall_ms() <= *last) usleep(50);
}

static void bh_paced(uint64_t *last) { *last = bh_wall_ms(); }

/* true if TCP port p on 127.0.0.1 can be bound now */
static bool bh_port_free(unsigned p)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* A base port whose P2P (P..P+3 the domain, P+10..P+13 the federation) and
 * HTTP (the same at +100) ports are free, below the ephemeral range; 0 if none
 * is found. */
static unsigned bh_pick_port(void)
{
    for (unsigned k = 0; k < 120; k++) {
        unsigned p = 20000 + ((unsigned)getpid() + 7 * k) % 120 * 100;
        bool ok = true;
        for (unsigned i = 0; i < 2 * BH_NODES && ok; i++) {
            unsigned q = p + (i < BH_NODES ? i : 10 + i - BH_NODES);
            ok = bh_port_free(q) && bh_port_free(q + 100);
        }
        if (ok) return p;
    }
    return 0;
}

static int bh_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double bh_pct(double *v, size_t n, double p)
{
    qsort(v, n, sizeof *v, bh_cmp);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

typedef struct bh {
    const char *what;            /* "domain" or "federation" */
    bool private_reads;          /* the domain ledger: reads signed by a member */
    char net[PATH_MAX + 8];
    char api[96];
    char apis[BH_NODES][96];
    char homes[BH_NODES][PATH_MAX + 16];
    char chain[64];
    char dev_pub[2 * EF_PUB_SIZE + 1];
    ef_client *cl;               /* signed by member on the private domain ledger */
    ef_keypair member;           /* device v0's key */
    uint64_t last_ms;            /* bh_pace for cl */
    long pid[BH_NODES];
} bh;

static long bh_pid(const char *net, int i)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/v%d/node.pid", net, i);
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1) pid = 0;
        fclose(f);
    }
    return pid;
}

/* utime + stime of pid in clock ticks; -1 if unreadable. */
static long bh_cpu_ticks(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    unsigned long ut = 0, st = 0;
    /* fields after the command: state(3) ... utime(14) stime(15) */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) return -1;
    return (long)(ut + st);
}

static uint8_t *bh_transfer(bh *b, const ef_keypair *kp, uint64_t nonce, size_t *len)
{
    char args[160];
    snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":1}", b->dev_pub);
    ef_tx tx;
    memset(&tx, 0, sizeof tx);
    snprintf(tx.chain_id, sizeof tx.chain_id, "%.32s", b->chain);
    tx.sender = kp->pub;
    tx.nonce = nonce;
    snprintf(tx.contract, sizeof tx.contract, "bank");
    snprintf(tx.method, sizeof tx.method, "transfer");
    tx.args = (const uint8_t *)args;
    tx.args_len = strlen(args);
    if (ef_tx_sign(&tx, kp)) return NULL;
    ef_wr w;
    ef_wr_init(&w);
    uint8_t *enc = ef_tx_encode(&w, &tx) ? NULL : ef_wr_take(&w, len);
    ef_wr_free(&w);
    return enc;
}

/* GET path, signed by the member key (the domain ledger is private); NULL if
 * the answer is not 200 JSON. */
static json_t *bh_get(bh *b, const char *path)
{
    long status = 0;
    json_t *j = NULL;
    bh_pace(&b->last_ms);
    int rc = ef_client_json(b->cl, "GET", path, NULL, &status, &j);
    bh_paced(&b->last_ms);
    if (rc || status != 200) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static uint64_t bh_nonce(bh *b, const ef_pub *pub)
{
    char path[128], hex[2 * EF_PUB_SIZE + 1];
    ef_hex(hex, pub->b, EF_PUB_SIZE);
    snprintf(path, sizeof path, "/accounts/%s", hex);
    json_t *j = bh_get(b, path);
    uint64_t n = (uint64_t)json_integer_value(json_object_get(j, "nonce"));
    json_decref(j);
    return n;
}

static json_t *bh_committee(bh *b) { return bh_get(b, "/state/committee/current"); }

/* Block time (ms) from the election block of each finished epoch to the first
 * block of the committee it elected, into v (at most cap); returns how many. */
static size_t bh_rotations(bh *b, double *v, size_t cap)
{
    json_t *eps = bh_get(b, "/state/committee/epochs");
    size_t n = 0, i;
    json_t *e;
    json_array_foreach(eps, i, e) {
        if (n == cap) break;
        long long at = json_integer_value(json_object_get(e, "elected_at"));
        char path[96];
        snprintf(path, sizeof path, "/blocks?from=%lld&to=%lld", at, at + EF_VSET_DELAY);
        json_t *bl = bh_get(b, path);
        json_t *blocks = json_object_get(bl, "blocks");
        long long t0 = -1, t1 = -1;
        size_t k;
        json_t *x;
        json_array_foreach(blocks, k, x) {
            long long h = json_integer_value(json_object_get(x, "height"));
            if (h == at) t0 = json_integer_value(json_object_get(x, "time_ms"));
            if (h == at + EF_VSET_DELAY) t1 = json_integer_value(json_object_get(x, "time_ms"));
        }
        if (t0 >= 0 && t1 >= t0) v[n++] = (double)(t1 - t0);
        json_decref(bl);
    }
    json_decref(eps);
    return n;
}

/* One burst thread: submits its share of the pre-signed transactions to one
 * node, over signed HTTP or through the node's local admin socket. */
typedef struct bh_sub {
    const char *api;
    const char *home;
    bool local;
    ef_keypair key;              /* the node's device key: each thread signs with its own */
    uint8_t **enc;
    size_t *len;
    size_t n;
    size_t admitted;             /* local: "admitted" replies so far */
    int rc;
} bh_sub;

#define BH_TX_ENC_MAX 512        /* a transfer's encoding is far smaller */
#define BH_ADMIN_CHUNK 256       /* submit lines written before their replies are read */

/* Reads one reply line: "admitted" counts in w->admitted, "committed ... 0" in
 * *committed; anything else (rejected, dropped, a failed transfer) fails. */
static int bh_admin_line(bh_sub *w, ef_admin_reader *r, size_t *committed)
{
    char *line;
    if (ef_admin_readline(r, &line)) return w->rc = EF_ECLOSED;
    if (!strncmp(line, "admitted ", 9)) w->admitted++;
    else if (!strncmp(line, "committed ", 10) && strlen(line) > 2 && !strcmp(line + strlen(line) - 2, " 0"))
        (*committed)++;
    else {
        fprintf(stderr, "bench hierarchy: burst through %s: %s\n", w->home, line);
        return w->rc = EF_EPROTO;
    }
    return 0;
}

static void *bh_sub_local(bh_sub *w)
{
    size_t committed = 0, admitted = 0;
    int fd = ef_admin_connect(w->home);
    ef_admin_reader *r = malloc(sizeof *r);
    char *buf = malloc(BH_ADMIN_CHUNK * (8 + 2 * BH_TX_ENC_MAX + 1));
    if (fd < 0 || !r || !buf) {
        w->rc = fd < 0 ? EF_ENET : EF_ENOMEM;
        goto out;
    }
    r->fd = fd;
    r->len = r->off = 0;
    for (size_t i = 0; i < w->n && !w->rc; i += BH_ADMIN_CHUNK) {
        size_t m = EF_MIN((size_t)BH_ADMIN_CHUNK, w->n - i), bl = 0;
        for (size_t j = 0; j < m; j++) {
            if (w->len[i + j] > BH_TX_ENC_MAX) {
                w->rc = EF_ETOOBIG;
                goto out;
            }
            memcpy(buf + bl, "submit ", 7);
            bl += 7;
            ef_hex(buf + bl, w->enc[i + j], w->len[i + j]);
            bl += 2 * w->len[i + j];
            buf[bl++] = '\n';
        }
        if (ef_admin_write(fd, buf, bl)) w->rc = EF_EIO;
        for (size_t j = 0; j < m && !w->rc;) {
            if (bh_admin_line(w, r, &committed)) break;
            if (w->admitted > admitted) j++, admitted = w->admitted;
        }
    }
    /* then the commit notices of the rest */
    while (!w->rc && committed < w->n)
        if (bh_admin_line(w, r, &committed)) break;
out:
    if (fd >= 0) close(fd);
    free(r);
    free(buf);
    return NULL;
}

static void *bh_sub_run(void *arg)
{
    bh_sub *w = arg;
    if (w->local) return bh_sub_local(w);
    ef_client *cl = NULL;
    w->rc = ef_client_new(&cl, w->api, &w->key, 30000);
    uint64_t last = 0;
    for (size_t i = 0; i < w->n && !w->rc; i++) {
        long status = 0;
        bh_pace(&last);
        json_t *r = NULL;
        int rc = ef_client_submit(cl, w->enc[i], w->len[i], false, 0, &status, &r);
        bh_paced(&last);
        if (rc || (status != 202 && status != 200)) {
            const char *e = json_string_value(json_object_get(r, "error"));
            fprintf(stderr, "bench hierarchy: burst submit %zu to %s failed (%s, HTTP %ld: %s)\n", i, w->api,
                    ef_strerror(rc), status, e ? e : "-");
            w->rc = rc ? rc : EF_EPROTO;
        }
        json_decref(r);
    }
    if (cl) ef_client_free(cl);
    return NULL;
}

typedef struct bh_burst_res {
    long sent;
    double ms, submit_ms, tps;
    double cpu[BH_NODES], cpu_max;
} bh_burst_res;

/* burst transfers from accounts 1..nacc-1 (cnt[a]: account a's next nonce,
 * advanced), signed first, account a through node a % BH_NODES so each sender's
 * nonces arrive in order at one node; all submitted at once, timed until the
 * last commits. 0 or an error. */
static int bh_burst(bh *b, const ef_keypair *acc, long nacc, long burst, long *cnt, bool local, bh_burst_res *res)
{
    char path[PATH_MAX + 64];
    long cpu0[BH_NODES];
    bh_sub subs[BH_SUBMITTERS];
    int rc = EF_ENOMEM;
    memset(subs, 0, sizeof subs);
    memset(res, 0, sizeof *res);
    for (int t = 0; t < BH_SUBMITTERS; t++) {
        subs[t].api = b->apis[t];
        subs[t].home = b->homes[t];
        subs[t].local = local;
        snprintf(path, sizeof path, "%s/v%d/node.key", b->net, t);
        if (ef_key_load(&subs[t].key, path)) goto out;
        subs[t].enc = calloc((size_t)burst, sizeof *subs[t].enc);
        subs[t].len = calloc((size_t)burst, sizeof *subs[t].len);
        if (!subs[t].enc || !subs[t].len) goto out;
    }
    for (long a = 1; res->sent < burst; a = a + 1 < nacc ? a + 1 : 1) {
        bh_sub *w = &subs[a % BH_SUBMITTERS];
        if (!(w->enc[w->n] = bh_transfer(b, &acc[a], (uint64_t)cnt[a], &w->len[w->n]))) goto out;
        w->n++;
        cnt[a]++;
        res->sent++;
    }
    for (int i = 0; i < BH_NODES; i++) cpu0[i] = bh_cpu_ticks(b->pid[i]);
    double t0 = bh_now_ms();
    pthread_t th[BH_SUBMITTERS];
    int started = 0;
    for (; started < BH_SUBMITTERS; started++)
        if (pthread_create(&th[started], NULL, bh_sub_run, &subs[started])) break;
    rc = started == BH_SUBMITTERS ? 0 : EF_ENOMEM;
    for (int t = 0; t < started; t++) {
        pthread_join(th[t], NULL);
        if (subs[t].rc && !rc) rc = subs[t].rc;
    }
    res->submit_ms = bh_now_ms() - t0;
    if (rc) goto out;
    /* every account's committed nonce reaches what it sent */
    for (long a = 1; a < nacc; a++)
        while ((long)bh_nonce(b, &acc[a].pub) < cnt[a]) {
            if (bh_now_ms() - t0 > 120000) {
                fprintf(stderr, "bench hierarchy: burst did not commit in 120 s\n");
                rc = EF_ETIMEOUT;
                goto out;
            }
            usleep(5000);
        }
    res->ms = bh_now_ms() - t0;
    res->tps = (double)res->sent / (res->ms / 1000);
    long hz = sysconf(_SC_CLK_TCK);
    for (int i = 0; i < BH_NODES; i++) {
        long t1 = bh_cpu_ticks(b->pid[i]);
        res->cpu[i] = (cpu0[i] < 0 || t1 < 0) ? -1 : (double)(t1 - cpu0[i]) / (double)hz / (res->ms / 1000);
        if (res->cpu[i] > res->cpu_max) res->cpu_max = res->cpu[i];
    }
out:
    for (int t = 0; t < BH_SUBMITTERS; t++) {
        for (size_t i = 0; subs[t].enc && i < subs[t].n; i++) free(subs[t].enc[i]);
        free(subs[t].enc);
        free(subs[t].len);
    }
    return rc;
}

static void bh_burst_print(const char *how, const bh_burst_res *r)
{
    printf("burst (%s): %ld transfers in %.0f ms (submitted in %.0f ms): %.0f tx/s; CPU per node", how, r->sent, r->ms,
           r->submit_ms, r->tps);
    for (int i = 0; i < BH_NODES; i++) printf(" %.2f", r->cpu[i]);
    printf(" cores\n");
    fflush(stdout);
}

static json_t *bh_burst_json(const bh_burst_res *r, long accounts)
{
    json_t *cpu = json_array();
    for (int i = 0; i < BH_NODES; i++) json_array_append_new(cpu, json_real(r->cpu[i]));
    return json_pack("{s:I, s:I, s:f, s:f, s:f, s:o}", "txs", (json_int_t)r->sent, "accounts", (json_int_t)accounts,
                     "ms", r->ms, "submit_ms", r->submit_ms, "tx_per_s", r->tps, "cpu_cores_per_node", cpu);
}

/* One ledger's row of Table II. */
typedef struct bh_res {
    double q50, q99, r50, r99;
    bh_burst_res bl, bhttp;
    long rss[BH_NODES], rss_max;
} bh_res;

/* Opens ledger b (D/NAME of a hierarchy): its nodes, pids, chain, a client
 * (signed by device v0's key on a private ledger). 0 or an error. */
static int bh_open(bh *b)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/testnet.json", b->net);
    json_t *tn = json_load_file(path, 0, NULL);
    if (!tn) return EF_EIO;
    json_t *nodes = json_object_get(tn, "nodes"), *n0 = json_array_get(nodes, 0);
    int rc = json_array_size(nodes) >= BH_NODES ? 0 : EF_EIO;
    for (int i = 0; i < BH_NODES && !rc; i++) {
        snprintf(b->apis[i], sizeof b->apis[i], "http://%s",
                 json_string_value(json_object_get(json_array_get(nodes, (size_t)i), "http")) ?: "");
        b->pid[i] = bh_pid(b->net, i);
        snprintf(b->homes[i], sizeof b->homes[i], "%.*s/v%d", PATH_MAX, b->net, i);
    }
    if (!rc) {
        snprintf(b->api, sizeof b->api, "http://%s", json_string_value(json_object_get(n0, "http")) ?: "");
        snprintf(b->dev_pub, sizeof b->dev_pub, "%s", json_string_value(json_object_get(n0, "pub")) ?: "");
        snprintf(path, sizeof path, "%s/v0/node.key", b->net);
        rc = ef_key_load(&b->member, path);
    }
    json_decref(tn);
    if (!rc) rc = ef_client_new(&b->cl, b->api, b->private_reads ? &b->member : NULL, 30000);
    json_t *st = NULL;
    for (int i = 0; i < 100 && !rc && !(st = bh_get(b, "/status")); i++) usleep(100000);
    if (!rc && !st) rc = EF_ETIMEOUT;
    if (!rc) snprintf(b->chain, sizeof b->chain, "%s", json_string_value(json_object_get(st, "chain_id")) ?: "");
    json_decref(st);
    return rc;
}

/* The harness, on ledger b: nq queries, nrec records (account 0's nonces from
 * 0), two bursts (local socket, HTTP) from accounts 1..nacc-1; peak RSS. */
static int bh_measure(bh *b, const ef_keypair *acc, long nacc, long nq, long nrec, long burst, double *lat,
                      bh_res *res)
{
    memset(res, 0, sizeof *res);
    /* queries: a state read each */
    char target[128];
    snprintf(target, sizeof target, "/accounts/%s", b->dev_pub);
    for (long i = 0; i < nq; i++) {
        long status = 0;
        char *resp = NULL;
        size_t rl;
        bh_pace(&b->last_ms);
        double t0 = bh_now_ms();
        int rc = ef_client_request(b->cl, "GET", target, NULL, NULL, 0, &status, &resp, &rl);
        lat[i] = bh_now_ms() - t0;
        bh_paced(&b->last_ms);
        free(resp);
        if (rc || status != 200) {
            fprintf(stderr, "bench hierarchy: %s query failed (%s, HTTP %ld)\n", b->what, ef_strerror(rc), status);
            return rc ? rc : EF_EPROTO;
        }
    }
    res->q50 = bh_pct(lat, (size_t)nq, 0.5);
    res->q99 = bh_pct(lat, (size_t)nq, 0.99);
    printf("%s query: p50 %.2f ms, p99 %.2f ms (%ld reads%s)\n", b->what, res->q50, res->q99, nq,
           b->private_reads ? ", each signed by a member" : "");
    fflush(stdout);

    /* records: one transfer at a time, submitted to committed */
    for (long i = 0; i < nrec; i++) {
        size_t len;
        uint8_t *enc = bh_transfer(b, &acc[0], (uint64_t)i, &len);
        long status = 0;
        json_t *r = NULL;
        bh_pace(&b->last_ms);
        double t0 = bh_now_ms();
        int rc = enc ? ef_client_submit(b->cl, enc, len, true, 30000, &status, &r) : EF_ENOMEM;
        lat[i] = bh_now_ms() - t0;
        bh_paced(&b->last_ms);
        const char *code = json_string_value(json_object_get(r, "code"));
        bool ok = rc == 0 && status == 200 && code && !strcmp(code, "OK");
        if (!ok)
            fprintf(stderr, "bench hierarchy: %s record %ld failed (%s, HTTP %ld, %s)\n", b->what, i, ef_strerror(rc),
                    status, code ? code : "-");
        json_decref(r);
        free(enc);
        if (!ok) return rc ? rc : EF_EPROTO;
    }
    res->r50 = bh_pct(lat, (size_t)nrec, 0.5);
    res->r99 = bh_pct(lat, (size_t)nrec, 0.99);
    printf("%s record: p50 %.2f ms, p99 %.2f ms (%ld transfers, submitted to committed)\n", b->what, res->r50, res->r99,
           nrec);
    fflush(stdout);

    /* bursts: through each node's local socket (what the ledger takes), then
     * over HTTP (what clients get through the API) */
    long cnt[BH_ACCOUNTS_MAX] = {0};
    int rc = bh_burst(b, acc, nacc, burst, cnt, true, &res->bl);
    if (rc) return rc;
    printf("%s ", b->what);
    bh_burst_print("local socket", &res->bl);
    if ((rc = bh_burst(b, acc, nacc, burst, cnt, false, &res->bhttp))) return rc;
    printf("%s ", b->what);
    bh_burst_print(b->private_reads ? "signed HTTP" : "HTTP", &res->bhttp);
    for (int i = 0; i < BH_NODES; i++) {
        res->rss[i] = ef_demo_pid_hwm_kb((int)b->pid[i]);
        if (res->rss[i] > res->rss_max) res->rss_max = res->rss[i];
        printf("  %s v%d: peak RSS %.1f MB\n", b->what, i, (double)res->rss[i] / 1024);
    }
    return 0;
}

static json_t *bh_res_json(const bh *b, const bh_res *r, long nq, long nrec, long nacc)
{
    json_t *nodes = json_array();
    for (int i = 0; i < BH_NODES; i++) {
        char name[8];
        snprintf(name, sizeof name, "v%d", i);
        json_array_append_new(nodes, json_pack("{s:s, s:f, s:I}", "node", name, "cpu_cores_burst", r->bl.cpu[i],
                                               "peak_rss_kb", (json_int_t)r->rss[i]));
    }
    return json_pack("{s:s, s:b, s:{s:f, s:f, s:I}, s:{s:f, s:f, s:I}, s:o, s:o, s:o, s:I}", "chain_id", b->chain,
                     "private_reads", b->private_reads, "query_ms", "p50", r->q50, "p99", r->q99, "n", (json_int_t)nq,
                     "record_ms", "p50", r->r50, "p99", r->r99, "n", (json_int_t)nrec, "burst_local",
                     bh_burst_json(&r->bl, nacc - 1), "burst_http", bh_burst_json(&r->bhttp, nacc - 1), "nodes", nodes,
                     "peak_rss_kb_max", (json_int_t)r->rss_max);
}

/* The anchor's record of domain a on the federation: checkpoints so far (-1 if unknown). */
static long long bh_anchored(bh *fed)
{
    json_t *a = bh_get(fed, "/state/anchor/domain/a");
    long long n = a ? json_integer_value(json_object_get(a, "checkpoints")) : -1;
    json_decref(a);
    return n;
}

int ef_bench_hierarchy(int argc, char **argv)
{
    static const char *const spec[] = {"queries=", "records=", "burst=", "accounts=", "epoch-heights=",
                                       "base-port=", "dir=", "out=", NULL};
    int checked = ef_cli_check(argc, argv, bh_usage, spec, 0);
    if (checked >= 0) return checked;
    long nq = atol(ef_cli_opt(argc, argv, "queries", "1000"));
    long nrec = atol(ef_cli_opt(argc, argv, "records", "200"));
    long burst = atol(ef_cli_opt(argc, argv, "burst", "4000"));
    long nacc = atol(ef_cli_opt(argc, argv, "accounts", "100"));
    long epoch_h = atol(ef_cli_opt(argc, argv, "epoch-heights", "40"));
    unsigned port = (unsigned)atoi(ef_cli_opt(argc, argv, "base-port", "0"));
    const char *out = ef_cli_opt(argc, argv, "out", "bench-out");
    const char *dir_opt = ef_cli_opt(argc, argv, "dir", NULL);
    if (nq < 2 || nrec < 2 || burst < 1 || nacc < 2 || nacc > BH_ACCOUNTS_MAX || epoch_h < 12 || epoch_h > 1000000 ||
        burst / (nacc - 1) + 1 > 64 || (port && (port < 1024 || port > 64800))) {
        fprintf(stderr, "edgefed bench hierarchy: bad options (--epoch-heights >= 12; a burst needs at most 64 "
                        "transactions per account: --burst <= 64 x (--accounts - 1))\n");
        fputs(bh_usage, stderr);
        return 2;
    }
    if (!port && !(port = bh_pick_port())) {
        fprintf(stderr, "edgefed bench hierarchy: no free port range; give --base-port\n");
        return 1;
    }
    char dir[PATH_MAX], exe[PATH_MAX], log[PATH_MAX + 16], tree[PATH_MAX + 8];
    if (dir_opt) snprintf(dir, sizeof dir, "%s", dir_opt);
    else {
        snprintf(dir, sizeof dir, "/tmp/edgefed-bench-hierarchy-XXXXXX");
        if (!mkdtemp(dir)) return 1;
    }
    ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (el <= 0) return 1;
    exe[el] = 0;
    bh *b = calloc(2, sizeof *b), *dom = b, *fed = b ? b + 1 : NULL;
    double *lat = calloc((size_t)(nq > nrec ? nq : nrec), sizeof *lat);
    ef_keypair *acc = calloc((size_t)nacc, sizeof *acc);
    json_t *doc = json_object(), *c0 = NULL, *c1 = NULL;
    int ret = 1;
    bool laid = false;
    char ports[24], accs[24], eh[24];
    bh_res rd, rf;
    if (!b || !lat || !acc || !doc) goto out;
    snprintf(tree, sizeof tree, "%s/net", dir);
    snprintf(log, sizeof log, "%s/commands.log", dir);
    snprintf(ports, sizeof ports, "%u", port);
    snprintf(accs, sizeof accs, "%ld", nacc);
    snprintf(eh, sizeof eh, "%ld", epoch_h);
    dom->what = "domain";
    dom->private_reads = true;
    snprintf(dom->net, sizeof dom->net, "%.*s/a", PATH_MAX - 16, tree);
    fed->what = "federation";
    snprintf(fed->net, sizeof fed->net, "%.*s/fed", PATH_MAX - 16, tree);
    if (ef_fs_mkdirs(dir, 0700)) goto out;
    laid = true;
    if (ef_proc_cmd_log(log, exe, "testnet", "init", "--dir", tree, "--hierarchy", "--domains", "1", "--devices", "4",
                        "--committee", "4", "--epoch-heights", eh, "--base-port", ports, "--accounts", accs, NULL) ||
        ef_proc_cmd_log(log, exe, "testnet", "up", "--dir", tree, NULL) || bh_open(dom) || bh_open(fed)) {
        fprintf(stderr, "bench hierarchy: cannot lay out and start the hierarchy (see %s)\n", log);
        goto out;
    }
    for (long i = 0; i < nacc; i++) ef_load_key(&acc[i], (unsigned)i);
    c0 = bh_committee(dom);
    long long ck0 = -1;
    for (int i = 0; i < 100 && (ck0 = bh_anchored(fed)) < 1; i++) usleep(100000);
    double load0 = -1;
    (void)getloadavg(&load0, 1);
    printf("bench hierarchy: domain ledger of 4 devices up (%s), committee epoch %lld; federation ledger of 4 "
           "validators up (%s), domain a registered, %lld checkpoints anchored\n", dom->api,
           json_integer_value(json_object_get(c0, "epoch")), fed->api, ck0);
    fflush(stdout);
    if (ck0 < 1) {
        fprintf(stderr, "bench hierarchy: the relayer did not register and anchor domain a\n");
        goto out;
    }
    if (bh_measure(dom, acc, nacc, nq, nrec, burst, lat, &rd) || bh_measure(fed, acc, nacc, nq, nrec, burst, lat, &rf))
        goto out;
    long long ck1 = bh_anchored(fed);
    c1 = bh_committee(dom);
    long long e0 = json_integer_value(json_object_get(c0, "epoch")), e1 = json_integer_value(json_object_get(c1, "epoch"));
    double rot[256];
    size_t nrot = bh_rotations(dom, rot, EF_ARRAY_LEN(rot));
    double rot50 = nrot ? bh_pct(rot, nrot, 0.5) : -1, rotmax = nrot ? bh_pct(rot, nrot, 1.0) : -1;
    printf("committee: epoch %lld -> %lld during the run (%lld live rotations); election block to the new "
           "committee's first block: p50 %.0f ms, max %.0f ms\n", e0, e1, e1 - e0, rot50, rotmax);
    printf("anchor: %lld checkpoints of domain a anchored on the federation during the run (%lld in all)\n",
           ck1 - ck0, ck1);
    long rss_max = rd.rss_max > rf.rss_max ? rd.rss_max : rf.rss_max;
    bool rss_ok = rd.rss_max > 0 && rf.rss_max > 0 && rss_max < BH_RSS_LIMIT_KB;
    printf("peak node RSS: domain %.1f MB, federation %.1f MB: %s the 32 MB aim\n", (double)rd.rss_max / 1024,
           (double)rf.rss_max / 1024, rss_ok ? "under" : "OVER");

    json_object_set_new(doc, "domain", json_pack("{s:i, s:i, s:I, s:I, s:I}", "devices", BH_NODES, "committee", 4,
                                                 "epoch_heights", (json_int_t)epoch_h, "epochs_start", (json_int_t)e0,
                                                 "epochs_end", (json_int_t)e1));
    json_object_set_new(doc, "federation", json_pack("{s:i, s:I}", "validators", BH_NODES,
                                                     "checkpoints_during_run", (json_int_t)(ck1 - ck0)));
    json_object_set_new(doc, "rotation_ms", json_pack("{s:f, s:f, s:I}", "p50", rot50, "max", rotmax, "n",
                                                      (json_int_t)nrot));
    json_object_set_new(doc, "domain_ledger", bh_res_json(dom, &rd, nq, nrec, nacc));
    json_object_set_new(doc, "federation_ledger", bh_res_json(fed, &rf, nq, nrec, nacc));
    json_object_set_new(doc, "load_average_start", json_real(load0));
    json_object_set_new(doc, "peak_rss_kb_max", json_integer(rss_max));
    json_object_set_new(doc, "rss_under_32mb", json_boolean(rss_ok));
    json_object_set_new(doc, "paper_table2", json_pack("{s:{s:f, s:f, s:f}, s:{s:f, s:f, s:f}, s:f, s:f, s:f, s:f}",
                                                       "bft_domain", "query_ms", BH_PAPER_QUERY_MS, "record_ms",
                                                       BH_PAPER_RECORD_MS, "tx_per_s", BH_PAPER_TPS, "pow",
                                                       "query_ms", BH_PAPER_POW_QUERY_MS, "record_ms",
                                                       BH_PAPER_POW_RECORD_MS, "tx_per_s", BH_PAPER_POW_TPS,
                                                       "bft_validator_rss_mb", BH_PAPER_RSS_MB,
                                                       "bft_validator_cpu_cores", BH_PAPER_CPU_CORES,
                                                       "pow_miner_rss_mb", BH_PAPER_POW_RSS_MB,
                                                       "pow_miner_cpu_cores", BH_PAPER_POW_CPU_CORES));
    if (ef_bench_mkdir(out) || ef_bench_write_json(out, "hierarchy", doc)) goto out;
    FILE *md = ef_bench_open(out, "hierarchy", "md");
    if (!md) goto out;
    fprintf(md, "# edgefed bench hierarchy\n\n"
                "Both levels of a hierarchy on loopback (one machine, 2 shared cores), laid out by `edgefed testnet "
                "init --hierarchy --domains 1`: a private domain ledger of 4 device processes whose committee of 4 "
                "the committee contract elects every %ld heights (%lld live rotations during the run), and the "
                "federation ledger of 4 validators, whose v0 relayed the domain's checkpoints all the while (%lld "
                "anchored during the run). The same harness ran on each, the domain first. Paper: seed 000, Table II "
                "(a Tendermint domain ledger of Raspberry Pis; a PoW Ethereum network as the inter-domain "
                "ledger).\n\n"
                "| | edgefed domain ledger | edgefed federation ledger | paper, BFT domain ledger | paper, PoW "
                "inter-domain ledger |\n|---|---|---|---|---|\n"
                "| query latency | p50 %.2f ms, p99 %.2f ms | p50 %.2f ms, p99 %.2f ms | %.0f ms | %.0f ms |\n"
                "| record latency (submit to commit) | p50 %.1f ms, p99 %.1f ms | p50 %.1f ms, p99 %.1f ms | %.1f s "
                "| %.1f s |\n"
                "| throughput (local socket) | %.0f tx/s | %.0f tx/s | %.0f tx/s | %.0f tx/s |\n"
                "| throughput (HTTP) | %.0f tx/s (signed) | %.0f tx/s | | |\n"
                "| memory per validator | peak RSS %.1f MB (max of 4) | peak RSS %.1f MB (max of 4, v0 with the "
                "relayer) | %.0f MB | %.1f GB |\n"
                "| CPU per validator | %.2f cores (max of 4, local burst) | %.2f cores (max of 4, local burst) | "
                "~%.2f core | %.0f core |\n"
                "| committee rotation (election block to the new committee's first block) | p50 %.0f ms, max %.0f ms "
                "(%zu rotations) | - | - | - |\n\n",
            epoch_h, e1 - e0, ck1 - ck0, rd.q50, rd.q99, rf.q50, rf.q99, BH_PAPER_QUERY_MS, BH_PAPER_POW_QUERY_MS,
            rd.r50, rd.r99, rf.r50, rf.r99, BH_PAPER_RECORD_MS / 1000, BH_PAPER_POW_RECORD_MS / 1000, rd.bl.tps,
            rf.bl.tps, BH_PAPER_TPS, BH_PAPER_POW_TPS, rd.bhttp.tps, rf.bhttp.tps, (double)rd.rss_max / 1024,
            (double)rf.rss_max / 1024, BH_PAPER_RSS_MB, BH_PAPER_POW_RSS_MB / 1024, rd.bl.cpu_max, rf.bl.cpu_max,
            BH_PAPER_CPU_CORES, BH_PAPER_POW_CPU_CORES, rot50, rotmax, nrot);
    fprintf(md, "Query: GET /accounts/{key}, one after another (%ld): on the domain ledger signed by a member (it is "
                "private: the node checks the Ed25519 signature and the membership of every read), on the "
                "federation ledger plain (it is public). Record: a bank transfer submitted with ?wait=commit, one "
                "after another (%ld). Throughput: %ld transfers from %ld accounts, signed beforehand, submitted at "
                "once by %d threads, one per node, and timed until the last committed: first through each node's "
                "local admin socket (domain %.0f ms, federation %.0f ms), then over the HTTP API (domain %.0f ms, "
                "signed with each node's device key, a key sending at most one request per ms, the replay rule of "
                "signed requests; federation %.0f ms). The federation differs from the domain here by its genesis "
                "(no committee contract; an empty block every 200 ms), its public API and the relayer on v0; both "
                "are the same BFT engine, where the paper's inter-domain ledger was PoW. The paper's hardware "
                "(Raspberry Pi) is slower than this machine; its network was real. Load average when the run "
                "started: %.1f (the 2 cores are shared with other work, and all 8 nodes run throughout, so "
                "latencies vary between runs).\n",
            nq, nrec, rd.bl.sent, nacc - 1, BH_SUBMITTERS, rd.bl.ms, rf.bl.ms, rd.bhttp.ms, rf.bhttp.ms, load0);
    fclose(md);
    printf("bench hierarchy: wrote %s/hierarchy.json and hierarchy.md\n", out);
    ret = rss_ok ? 0 : 1;
out:
    for (int i = 0; b && i < 2; i++)
        if (b[i].cl) ef_client_free(b[i].cl);
    json_decref(c0);
    json_decref(c1);
    json_decref(doc);
    if (laid) (void)ef_proc_cmd_log(log, exe, "testnet", "down", "--dir", tree, NULL);
    if (ret == 0 && !dir_opt && ef_fs_remove_tree(dir)) fprintf(stderr, "bench hierarchy: cannot remove %s\n", dir);
    if (ret) fprintf(stderr, "bench hierarchy: FAILED; files in %s\n", dir);
    free(b);
    free(lat);
    free(acc);
    return ret;
}
