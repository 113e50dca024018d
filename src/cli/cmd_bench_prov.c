/* cmd_bench_prov.c: `edgefed bench prov` (seed 004): provenance records committed
 * per second by 4 validator processes; lineage query latency of a 10-step chain in
 * a ledger holding N (default 1,000,000) records; PROV-JSON export of E (default
 * 100,000) records. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "agents/ef_proc.h"
#include "api/ef_client.h"
#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "base/ef_fs.h"
#include "base/ef_log.h"
#include "cli/cli.h"
#include "cli/cli_bench.h"
#include "cli/cli_load.h"
#include "cli/cli_prov.h"
#include "cli/cli_testnet.h"
#include "contracts/ef_contracts.h"
#include "contracts/ef_prov.h"
#include "ledger/ef_genesis.h"
#include "ledger/ef_ledger.h"
#include "ledger/ef_store.h"

#define BP_CHAIN "bench-prov"
#define BP_MEMBERS 128        /* genesis runs in one ctx: at most EF_CTX_WRITES_MAX writes */
#define BP_BLOCK 4096         /* txs per block while filling */
#define BP_CHAIN_STEPS 10
#define BP_LINEAGE_QUERIES 200
#define BP_EXPORT_REPS 3

static const char *bp_usage =
    "usage: edgefed bench prov [--out DIR] [--duration S] [--accounts K] [--records N] [--export E]\n"
    "                          [--skip-commit] [--tmp DIR]\n"
    "  1. commit: a local testnet of 4 validator processes (this binary; use the release\n"
    "     build), saturated for S seconds (default 10, after 2 s warm-up) with prov\n"
    "     orchestration records (orchestrate execute) from K member accounts (default\n"
    "     64), at most W in flight each (default 16): records committed per second,\n"
    "     commit latency p50/p99, peak RSS per node. (K x W bounds the block size: a\n"
    "     block of 4096 records can outlast the consensus timeouts on a loaded machine.)\n"
    "  2. lineage: an in-process store filled with N records (default 1000000; blocks of\n"
    "     4096, signatures vouched, no fsync) with a 10-step data chain in the middle\n"
    "     (release, use, release, ...): latency p50/p99 of the lineage query of the\n"
    "     chain's last datum over 200 queries.\n"
    "  3. export: PROV-JSON of a block range holding about E records (default 100000)\n"
    "     at the end of that ledger, to bytes: records per second (median of 3).\n"
    "  Writes DIR/prov.json and DIR/prov.md (default ./bench-out).\n";

static int bp_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ------------------------------------------------------------ 1. commit */

static int bp_exec_args(void *arg, unsigned acct, const char *acct_hex, uint64_t nonce, char *buf, size_t cap)
{
    (void)acct_hex;
    unsigned run = *(const unsigned *)arg;
    return snprintf(buf, cap,
                    "{\"action\":\"execute\",\"activity\":\"b%u-%u-%" PRIu64 "\",\"contract\":\"federation\","
                    "\"method\":\"award\",\"ref\":\"bench/%u\"}",
                    run, acct, nonce, acct);
}

static long bp_hwm_kb(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    long kb = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) kb = atol(line + 6);
    fclose(f);
    return kb;
}

static uint64_t bp_records(const char *http)
{
    char url[96];
    snprintf(url, sizeof url, "http://%s", http);
    ef_client *cl = NULL;
    if (ef_client_new(&cl, url, NULL, 10000)) return 0;
    long st = 0;
    json_t *j = NULL;
    uint64_t n = 0;
    if (ef_client_json(cl, "GET", "/state/prov/stats", NULL, &st, &j) == 0 && st == 200)
        n = (uint64_t)json_integer_value(json_object_get(j, "records"));
    json_decref(j);
    ef_client_free(cl);
    return n;
}

static int bp_commit(const char *self, const char *tmpbase, double duration, unsigned accounts, unsigned window,
                     json_t *out)
{
    char dir[600], acc[16], port[16];
    snprintf(dir, sizeof dir, "%s/ef-bench-prov.%d", tmpbase, (int)getpid());
    snprintf(acc, sizeof acc, "%u", accounts);
    snprintf(port, sizeof port, "%d", 24600 + (int)(getpid() % 50) * 20);
    setenv("EDGEFED_LOG", "warn", 1);
    printf("1. commit: 4 validators, testnet in %s\n", dir);
    fflush(stdout);
    if (ef_fs_remove_tree(dir) ||
        ef_proc_cmd(1, self, "testnet", "init", "--dir", dir, "--validators", "4", "--accounts", acc, "--base-port",
                    port, (char *)NULL) ||
        ef_proc_cmd(1, self, "testnet", "up", "--dir", dir, (char *)NULL)) {
        fprintf(stderr, "edgefed bench prov: testnet failed to start\n");
        return 1;
    }
    ef_testnet *tn = calloc(1, sizeof *tn);
    int rc = tn ? ef_testnet_load(tn, dir) : EF_ENOMEM;
    sleep(2);
    /* the load accounts become members of dom-0 (prov records only come from members) */
    if (rc == 0) {
        char home[TN_PATH_MAX + 40], url[96];
        ef_keypair v0;
        ef_client *cl = NULL;
        snprintf(home, sizeof home, "%s/v0/node.key", tn->dir);
        snprintf(url, sizeof url, "http://%s", tn->nodes[0].http);
        rc = ef_key_load(&v0, home);
        if (rc == 0) rc = ef_client_new(&cl, url, NULL, 0);
        printf("   registering %u load accounts as members ...\n", accounts);
        fflush(stdout);
        for (unsigned i = 0; rc == 0 && i < accounts; i++) {
            ef_keypair kp;
            char hex[2 * EF_PUB_SIZE + 1], err[256];
            ef_load_key(&kp, i);
            ef_hex(hex, kp.pub.b, EF_PUB_SIZE);
            json_t *args = json_pack("{s:s, s:s, s:s}", "account", hex, "domain", "dom-0", "name", "load");
            rc = ef_prov_cli_tx(cl, &v0, "registry", "register_member", args, err, sizeof err, NULL);
            if (rc) fprintf(stderr, "edgefed bench prov: register load account %u: %s\n", i, err);
            json_decref(args);
        }
        ef_client_free(cl);
    }
    unsigned run = (unsigned)getpid();
    ef_load_cfg cfg = {.tn = tn, .accounts = accounts, .rate = 0, .window = window, .duration_s = duration,
                       .warmup_s = 2, .drain_s = 10, .contract = "prov", .method = "orchestrate",
                       .args_fn = bp_exec_args, .args_arg = &run};
    ef_load_result r = {0};
    uint64_t before = rc ? 0 : bp_records(tn->nodes[0].http);
    if (rc == 0) rc = ef_load_run(&cfg, &r);
    uint64_t after = rc ? 0 : bp_records(tn->nodes[0].http);
    double hwm = 0;
    for (size_t i = 0; rc == 0 && i < tn->len; i++) {
        double mb = (double)bp_hwm_kb(ef_testnet_pid(&tn->nodes[i])) / 1024.0;
        if (mb > hwm) hwm = mb;
    }
    if (ef_proc_cmd(1, self, "testnet", "down", "--dir", dir, (char *)NULL) || ef_fs_remove_tree(dir))
        fprintf(stderr, "edgefed bench prov: could not take down and remove %s\n", dir);
    free(tn);
    if (rc) {
        fprintf(stderr, "edgefed bench prov: load failed: %s\n", ef_strerror(rc));
        return 1;
    }
    printf("   %.0f records/s committed (saturated, %u accounts), p50 %.1f ms, p99 %.1f ms; "
           "%llu records on the ledger from the run (%llu sent, %llu admitted, %llu txs acknowledged, %llu rejected, first %s); peak RSS %.1f MB\n",
           r.tps, accounts, r.lat_p50_ms, r.lat_p99_ms, (unsigned long long)(after - before), (unsigned long long)r.sent, (unsigned long long)r.admitted,
           (unsigned long long)r.committed, (unsigned long long)r.rejected, r.first_reject[0] ? r.first_reject : "-", hwm);
    json_object_set_new(out, "commit", json_pack("{s:i, s:f, s:f, s:f, s:I, s:I, s:I, s:f, s:f}", "validators", 4,
                                                 "records_per_s", r.tps, "p50_ms", r.lat_p50_ms, "p99_ms",
                                                 r.lat_p99_ms, "records_added", (json_int_t)(after - before),
                                                 "committed_txs", (json_int_t)r.committed, "rejected",
                                                 (json_int_t)r.rejected, "rss_mb_peak", hwm, "duration_s", duration));
    return 0;
}

/* ------------------------------------------------------------ 2. + 3. in-process */

typedef struct {
    ef_store *s;
    ef_keypair val, k[BP_MEMBERS];
    char hex[BP_MEMBERS][2 * EF_PUB_SIZE + 1];
    uint64_t nonce[BP_MEMBERS];
    uint64_t time_ms;
    uint8_t **txs;
    size_t *lens, n;
} bp_ledger;

static bool bp_trust(void *arg, const ef_hash *h)
{
    (void)arg;
    (void)h;
    return true;
}

static int bp_add(bp_ledger *L, unsigned a, const char *method, const char *args)
{
    ef_tx tx;
    memset(&tx, 0, sizeof tx);
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", BP_CHAIN);
    tx.sender = L->k[a].pub;
    tx.nonce = L->nonce[a]++;
    snprintf(tx.contract, sizeof tx.contract, "prov");
    snprintf(tx.method, sizeof tx.method, "%s", method);
    tx.args = (const uint8_t *)args;
    tx.args_len = strlen(args);
    /* signatures are vouched for (this part measures queries, not the commit path) */
    ef_wr w;
    ef_wr_init(&w);
    int rc = ef_tx_encode(&w, &tx);
    if (rc) {
        ef_wr_free(&w);
        return rc;
    }
    L->txs[L->n] = ef_wr_take(&w, &L->lens[L->n]);
    L->n++;
    return 0;
}

static int bp_flush(bp_ledger *L)
{
    if (!L->n) return 0;
    ef_txbuf *c = calloc(L->n, sizeof *c);
    int *st = calloc(L->n, sizeof *st);
    if (!c || !st) return EF_ENOMEM;
    for (size_t i = 0; i < L->n; i++) {
        c[i].enc = L->txs[i];
        c[i].len = L->lens[i];
    }
    uint8_t *blk = NULL;
    size_t blen;
    ef_ledger_hooks hooks = {.sig_verified = bp_trust};
    L->time_ms += 1000;
    int rc = ef_ledger_propose(L->s, c, L->n, L->time_ms, &L->val.pub, &hooks, st, &blk, &blen);
    for (size_t i = 0; rc == 0 && i < L->n; i++)
        if (st[i]) rc = st[i];
    if (rc == 0) rc = ef_ledger_commit_ex(L->s, blk, blen, NULL, 0, &hooks);
    free(blk);
    for (size_t i = 0; i < L->n; i++) free(L->txs[i]);
    L->n = 0;
    free(c);
    free(st);
    return rc;
}

static int bp_open(bp_ledger *L, const char *dir)
{
    uint8_t seed[EF_SEED_SIZE] = {0};
    seed[0] = 0xb0;
    ef_keypair_from_seed(&L->val, seed);
    json_t *members = json_array();
    for (unsigned i = 0; i < BP_MEMBERS; i++) {
        memset(seed, 0, sizeof seed);
        ef_put_u32le(seed, i + 1);
        seed[31] = 0xb1;
        ef_keypair_from_seed(&L->k[i], seed);
        ef_hex(L->hex[i], L->k[i].pub.b, EF_PUB_SIZE);
        json_array_append_new(members, json_pack("{s:s, s:s}", "pub", L->hex[i], "domain", "d0"));
    }
    char vh[65];
    ef_hex(vh, L->val.pub.b, EF_PUB_SIZE);
    json_t *doc = json_pack("{s:s, s:I, s:[{s:s, s:s}], s:o}", "chain_id", BP_CHAIN, "time_ms", (json_int_t)1000,
                            "validators", "pub", vh, "domain", "d0", "members", members);
    char *text = json_dumps(doc, 0);
    json_decref(doc);
    ef_genesis g;
    char err[200];
    int rc = text ? ef_genesis_parse(&g, text, strlen(text), err, sizeof err) : EF_ENOMEM;
    free(text);
    if (rc) return rc;
    rc = ef_store_open(&L->s, dir, &(ef_store_opts){EF_CONTRACTS_BUILTIN, .no_sync = true,
                                                     .map_size = UINT64_C(16) << 30});
    if (rc == 0) rc = ef_store_init_genesis(L->s, &g);
    ef_genesis_free(&g);
    L->time_ms = 1000;
    L->txs = calloc(BP_BLOCK, sizeof *L->txs);
    L->lens = calloc(BP_BLOCK, sizeof *L->lens);
    return rc ? rc : (L->txs && L->lens ? 0 : EF_ENOMEM);
}

/* n filler records (orchestrate execute, round-robin over the members). */
static int bp_fill(bp_ledger *L, uint64_t n, uint64_t *done, uint64_t total, uint64_t t0)
{
    char args[256];
    for (uint64_t i = 0; i < n; i++) {
        unsigned a = (unsigned)(*done % BP_MEMBERS);
        snprintf(args, sizeof args,
                 "{\"action\":\"execute\",\"activity\":\"f%" PRIu64 "\",\"contract\":\"federation\",\"method\":"
                 "\"award\",\"ref\":\"bench/fill\"}",
                 *done);
        int rc = bp_add(L, a, "orchestrate", args);
        if (rc == 0 && L->n == BP_BLOCK) rc = bp_flush(L);
        if (rc) return rc;
        (*done)++;
        if (*done % 100000 == 0) {
            printf("   %" PRIu64 " of %" PRIu64 " records (%.0f s)\n", *done, total,
                   (double)(ef_now_mono_us() - t0) / 1e6);
            fflush(stdout);
        }
    }
    return bp_flush(L);
}

/* The 10-step chain: a device releases d0 by a0; a1 uses d0 and releases d1; ... */
static int bp_chain(bp_ledger *L)
{
    char args[1024], oh[65];
    snprintf(oh, sizeof oh, "%s", L->hex[1]);
    snprintf(args, sizeof args, "{\"id\":\"dev\",\"kind\":\"device\",\"owner\":\"%s\",\"key\":\"%s\"}", oh, L->hex[0]);
    int rc = bp_add(L, 0, "join", args);
    for (int i = 0; rc == 0 && i < BP_CHAIN_STEPS; i++) {
        char ent[16], act[16], prev[16], sig[129], hh[65], blob[32];
        snprintf(ent, sizeof ent, "d%d", i);
        snprintf(act, sizeof act, "a%d", i);
        snprintf(blob, sizeof blob, "datum %d", i);
        if (i > 0) {
            snprintf(prev, sizeof prev, "d%d", i - 1);
            snprintf(args, sizeof args, "{\"entity\":\"%s\",\"activity\":\"%s\",\"by\":\"dev\"}", prev, act);
            if ((rc = bp_add(L, 0, "use", args))) break;
        }
        ef_hash h;
        ef_prov_blob_hash(&h, blob, strlen(blob));
        ef_hex(hh, h.b, EF_HASH_SIZE);
        if ((rc = ef_prov_data_sign(sig, &L->k[0], BP_CHAIN, ent, act, "dev", &h, strlen(blob), "text/plain"))) break;
        snprintf(args, sizeof args,
                 "{\"entity\":\"%s\",\"activity\":\"%s\",\"producer\":\"dev\",\"hash\":\"%s\",\"size\":%zu,"
                 "\"media_type\":\"text/plain\",\"sig\":\"%s\"}",
                 ent, act, hh, strlen(blob), sig);
        rc = bp_add(L, 0, "release", args);
    }
    return rc ? rc : bp_flush(L);
}

int ef_bench_prov(int argc, char **argv)
{
    static const char *const opts[] = {"out=", "duration=", "accounts=", "window=", "records=", "export=",
                                       "skip-commit", "tmp=", NULL};
    int rc0 = ef_cli_check(argc, argv, bp_usage, opts, 0);
    if (rc0 >= 0) return rc0;
    const char *out = ef_cli_opt(argc, argv, "out", "bench-out");
    double duration = atof(ef_cli_opt(argc, argv, "duration", "10"));
    unsigned accounts = (unsigned)atoi(ef_cli_opt(argc, argv, "accounts", "64"));
    unsigned window = (unsigned)atoi(ef_cli_opt(argc, argv, "window", "16"));
    uint64_t records = strtoull(ef_cli_opt(argc, argv, "records", "1000000"), NULL, 10);
    uint64_t exp = strtoull(ef_cli_opt(argc, argv, "export", "100000"), NULL, 10);
    const char *tmpbase = ef_cli_opt(argc, argv, "tmp", "/tmp");
    if (duration <= 0 || accounts < 2 || accounts > 200 || window < 1 || window > 1024 || records < 1000 || exp < 1 || exp > records)
        return fputs(bp_usage, stderr), 2;
    if (ef_bench_mkdir(out)) return 1;
    char self[512];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    self[sl > 0 ? sl : 0] = 0;
    signal(SIGPIPE, SIG_IGN);
    json_t *res = json_pack("{s:s}", "bench", "prov");
    double la[3] = {0};
    getloadavg(la, 3);
    json_object_set_new(res, "loadavg_1min_start", json_real(la[0]));
    int rc = 0;
    if (!ef_cli_flag(argc, argv, "skip-commit") && bp_commit(self, tmpbase, duration, accounts, window, res)) rc = 1;

    /* 2. lineage in a big ledger */
    char dir[600];
    snprintf(dir, sizeof dir, "%s/ef-bench-prov-store.%d", tmpbase, (int)getpid());
    bp_ledger *L = calloc(1, sizeof *L);
    printf("2. lineage: filling an in-process ledger with %" PRIu64 " records (%s)\n", records, dir);
    fflush(stdout);
    uint64_t t0 = ef_now_mono_us(), done = 0;
    int lrc = L ? (ef_fs_remove_tree(dir) ? EF_EIO : bp_open(L, dir)) : EF_ENOMEM;
    uint64_t half = records / 2 > BP_CHAIN_STEPS * 2 ? records / 2 : 0;
    if (lrc == 0) lrc = bp_fill(L, half, &done, records, t0);
    if (lrc == 0) lrc = bp_chain(L);
    json_t *st = NULL;
    uint64_t have = 0;
    if (lrc == 0 && ef_store_query(L->s, "prov", "stats", &st) == 0)
        have = (uint64_t)json_integer_value(json_object_get(st, "records"));
    json_decref(st);
    if (lrc == 0 && records > have) lrc = bp_fill(L, records - have, &done, records, t0);
    double fill_s = (double)(ef_now_mono_us() - t0) / 1e6;
    st = NULL;
    if (lrc == 0 && ef_store_query(L->s, "prov", "stats", &st) == 0)
        have = (uint64_t)json_integer_value(json_object_get(st, "records"));
    json_decref(st);
    if (lrc) {
        fprintf(stderr, "edgefed bench prov: filling the ledger failed: %s\n", ef_strerror(lrc));
        rc = 1;
        goto done;
    }
    printf("   %" PRIu64 " records in %.1f s (%.0f records/s in-process, signatures vouched)\n", have, fill_s,
           (double)have / fill_s);
    double lat[BP_LINEAGE_QUERIES];
    size_t steps = 0, nodes = 0;
    for (int q = 0; q < BP_LINEAGE_QUERIES; q++) {
        json_t *lin = NULL;
        uint64_t a = ef_now_mono_us();
        lrc = ef_store_query(L->s, "prov", "lineage/data:d9", &lin);
        lat[q] = (double)(ef_now_mono_us() - a) / 1000.0;
        if (lrc) break;
        steps = json_array_size(json_object_get(lin, "steps"));
        nodes = json_array_size(json_object_get(lin, "nodes"));
        json_decref(lin);
    }
    if (lrc) {
        fprintf(stderr, "edgefed bench prov: lineage query failed: %s\n", ef_strerror(lrc));
        rc = 1;
        goto done;
    }
    qsort(lat, BP_LINEAGE_QUERIES, sizeof lat[0], bp_cmp);
    double lp50 = lat[BP_LINEAGE_QUERIES / 2], lp99 = lat[BP_LINEAGE_QUERIES * 99 / 100];
    printf("   lineage of data:d9 (%d-step chain; %zu nodes, %zu relations): p50 %.3f ms, p99 %.3f ms over %d "
           "queries\n",
           BP_CHAIN_STEPS, nodes, steps, lp50, lp99, BP_LINEAGE_QUERIES);
    json_object_set_new(res, "lineage",
                        json_pack("{s:I, s:i, s:I, s:I, s:f, s:f, s:i, s:f}", "ledger_records", (json_int_t)have,
                                  "chain_steps", BP_CHAIN_STEPS, "nodes", (json_int_t)nodes, "relations",
                                  (json_int_t)steps, "p50_ms", lp50, "p99_ms", lp99, "queries", BP_LINEAGE_QUERIES,
                                  "fill_s", fill_s));

    /* 3. export of the last blocks holding about E records */
    {
        ef_store_info info;
        if (ef_store_info_get(L->s, &info)) {
            rc = 1;
            goto done;
        }
        uint64_t blocks = (exp + BP_BLOCK - 1) / BP_BLOCK, to = info.height, from = to >= blocks ? to - blocks + 1 : 1;
        char path[96];
        snprintf(path, sizeof path, "records/%" PRIu64 "/%" PRIu64, from, to);
        json_t *recs = NULL;
        uint64_t nrec = 0, ra = ef_now_mono_us();
        if (ef_store_query(L->s, "prov", path, &recs) == 0) nrec = json_array_size(recs);
        double read_s = (double)(ef_now_mono_us() - ra) / 1e6;
        json_decref(recs);
        printf("   reading the %" PRIu64 " stored records of blocks %" PRIu64 "..%" PRIu64 ": %.3f s\n", nrec, from, to,
               read_s);
        snprintf(path, sizeof path, "export/range/%" PRIu64 "/%" PRIu64, from, to);
        double secs[BP_EXPORT_REPS];
        size_t bytes = 0;
        for (int r = 0; r < BP_EXPORT_REPS; r++) {
            char *text = NULL;
            size_t tl = 0;
            uint64_t a = ef_now_mono_us();
            lrc = ef_store_query_text(L->s, "prov", path, &text, &tl);   /* the bytes the API serves */
            secs[r] = (double)(ef_now_mono_us() - a) / 1e6;
            bytes = tl;
            free(text);
            if (lrc) break;
        }
        if (lrc) {
            fprintf(stderr, "edgefed bench prov: export failed: %s\n", ef_strerror(lrc));
            rc = 1;
            goto done;
        }
        double med = ef_bench_median(secs, BP_EXPORT_REPS);
        printf("3. export: blocks %" PRIu64 "..%" PRIu64 " (%" PRIu64 " records, the end of a %" PRIu64
               "-record ledger) to PROV-JSON: %.3f s (median of %d), %.0f records/s, %zu bytes\n",
               from, to, nrec, have, med, BP_EXPORT_REPS, (double)nrec / med, bytes);
        json_object_set_new(res, "export",
                            json_pack("{s:I, s:I, s:I, s:f, s:f, s:I}", "records", (json_int_t)nrec, "from",
                                      (json_int_t)from, "to", (json_int_t)to, "seconds_median", med,
                                      "records_per_s", (double)nrec / med, "bytes", (json_int_t)bytes));
    }
done:
    if (L && L->s) ef_store_close(L->s);
    if (L) {
        free(L->txs);
        free(L->lens);
    }
    free(L);
    if (ef_fs_remove_tree(dir)) fprintf(stderr, "edgefed bench prov: could not remove %s\n", dir);
    getloadavg(la, 3);
    json_object_set_new(res, "loadavg_1min_end", json_real(la[0]));
    if (ef_bench_write_json(out, "prov", res)) rc = 1;
    FILE *f = ef_bench_open(out, "prov", "md");
    if (f) {
        json_t *c = json_object_get(res, "commit"), *l = json_object_get(res, "lineage"),
               *e = json_object_get(res, "export");
        fprintf(f, "# edgefed bench prov\n\nSeed 004's provenance records on this machine (%ld cores, load average "
                   "%.1f at the end).\n\n| figure | measured | aim |\n|---|---|---|\n",
                sysconf(_SC_NPROCESSORS_ONLN), la[0]);
        if (c)
            fprintf(f, "| records committed per second, 4 validators (saturated; p50 / p99 commit latency) | %.0f "
                       "(%.0f / %.0f ms) | >= 4,000 |\n",
                    json_real_value(json_object_get(c, "records_per_s")), json_real_value(json_object_get(c, "p50_ms")),
                    json_real_value(json_object_get(c, "p99_ms")));
        if (l)
            fprintf(f, "| lineage of a %d-step chain in a ledger of %lld records, p50 (p99) | %.3f ms (%.3f ms) | <= 5 "
                       "ms |\n",
                    BP_CHAIN_STEPS, json_integer_value(json_object_get(l, "ledger_records")),
                    json_real_value(json_object_get(l, "p50_ms")), json_real_value(json_object_get(l, "p99_ms")));
        if (e)
            fprintf(f, "| PROV-JSON export of %lld records | %.0f records/s (%.2f s, %lld bytes) | >= 50,000 |\n",
                    json_integer_value(json_object_get(e, "records")),
                    json_real_value(json_object_get(e, "records_per_s")),
                    json_real_value(json_object_get(e, "seconds_median")), json_integer_value(json_object_get(e, "bytes")));
        fclose(f);
    }
    json_decref(res);
    printf("wrote %s/prov.json and %s/prov.md\n", out, out);
    return rc;
}
