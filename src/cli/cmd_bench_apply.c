/* cmd_bench_apply.c: `edgefed bench apply`: how many transactions a node applies
 * per second on one core (full block check: decoding, signature verification,
 * nonces, execution, roots, state hash; then the durable commit), against the bare
 * Ed25519 verification rate of the same signatures measured in the same run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "base/ef_fs.h"
#include "base/ef_log.h"
#include "cli/cli.h"
#include "cli/cli_bench.h"
#include "contracts/ef_contracts.h"
#include "ledger/ef_genesis.h"
#include "ledger/ef_ledger.h"
#include "ledger/ef_store.h"

#define EF_BENCH_ACCOUNTS 1000
#define EF_BENCH_REPS_MAX 15
_Static_assert(EF_BENCH_REPS_MAX <= EF_BENCH_MEDIAN_MAX, "medians over the repetitions");

static const char *ef_bench_apply_usage =
    "usage: edgefed bench apply [--txs N] [--block B] [--reps R] [--no-sync] [--out DIR]\n"
    "  N transfer transactions (default 20000) from 1000 accounts, in blocks of B\n"
    "  (default 1000), applied R times (default 3) to a fresh store each time:\n"
    "  ef_ledger_check (with signature verification) then ef_ledger_commit (synced\n"
    "  unless --no-sync). The bare Ed25519 verify rate of the same N signatures is\n"
    "  measured in the same repetition, block by block just before each block is\n"
    "  applied (so both see the same load). Prints medians and apply/verify; writes\n"
    "  DIR/apply.json and DIR/apply.md (DIR default ./bench-out).\n";

/* CPU time of this thread: what "one core" spends, whatever else the machine runs */
static uint64_t ef_cpu_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

static bool ef_bench_trust(void *arg, const ef_hash *h)
{
    (void)arg;
    (void)h;
    return true;
}

static void ef_rm_store(const char *dir)
{
    char p[800];
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/lock.mdb", dir);
    unlink(p);
    rmdir(dir);
}

int ef_bench_apply(int argc, char **argv)
{
    static const char *const opts[] = {"txs=", "block=", "reps=", "no-sync", "out=", NULL};
    int checked = ef_cli_check(argc, argv, ef_bench_apply_usage, opts, 0);
    if (checked >= 0) return checked;
    if (ef_cli_wants_help(argc, argv)) {
        fputs(ef_bench_apply_usage, stdout);
        return 0;
    }
    long ntx = strtol(ef_cli_opt(argc, argv, "txs", "20000"), NULL, 10);
    long bsz = strtol(ef_cli_opt(argc, argv, "block", "1000"), NULL, 10);
    int reps = (int)strtol(ef_cli_opt(argc, argv, "reps", "3"), NULL, 10);
    bool sync = !ef_cli_flag(argc, argv, "no-sync");
    const char *out = ef_cli_opt(argc, argv, "out", "bench-out");
    if (ntx < 1 || ntx > 10000000 || bsz < 1 || bsz > EF_BLOCK_TXS_MAX || reps < 1 || reps > EF_BENCH_REPS_MAX) {
        fputs(ef_bench_apply_usage, stderr);
        return 2;
    }
    int status = 1;
    char tmp[] = "/tmp/edgefed-bench-XXXXXX";
    if (!mkdtemp(tmp)) {
        fprintf(stderr, "edgefed bench apply: cannot make a temporary directory\n");
        return 1;
    }
    /* accounts and genesis */
    ef_keypair *kp = calloc(EF_BENCH_ACCOUNTS, sizeof *kp);
    uint8_t **enc = calloc((size_t)ntx, sizeof *enc);
    size_t *len = calloc((size_t)ntx, sizeof *len);
    ef_tx *txs = calloc((size_t)ntx, sizeof *txs);
    long nblocks = (ntx + bsz - 1) / bsz;
    uint8_t **blocks = calloc((size_t)nblocks, sizeof *blocks);
    size_t *blens = calloc((size_t)nblocks, sizeof *blens);
    ef_txbuf *cands = calloc((size_t)bsz, sizeof *cands);
    ef_store *s = NULL;
    ef_genesis g;
    memset(&g, 0, sizeof g);
    if (!kp || !enc || !len || !txs || !blocks || !blens || !cands) goto out;
    json_t *doc = json_pack("{s:s, s:[], s:{}}", "chain_id", "bench", "validators", "balances");
    for (int i = 0; i < EF_BENCH_ACCOUNTS; i++) {
        uint8_t seed[EF_SEED_SIZE] = {0};
        char hex[2 * EF_PUB_SIZE + 1];
        ef_put_u32le(seed, (uint32_t)i + 1);
        ef_keypair_from_seed(&kp[i], seed);
        ef_hex(hex, kp[i].pub.b, EF_PUB_SIZE);
        if (i == 0)
            json_array_append_new(json_object_get(doc, "validators"), json_pack("{s:s, s:s}", "pub", hex, "domain", "bench"));
        json_object_set_new(json_object_get(doc, "balances"), hex, json_integer(1000000000));
    }
    char *text = json_dumps(doc, 0);
    json_decref(doc);
    char err[200];
    int rc = ef_genesis_parse(&g, text, strlen(text), err, sizeof err);
    free(text);
    if (rc) {
        fprintf(stderr, "edgefed bench apply: %s\n", err);
        goto out;
    }

    /* the transactions: transfers, signed up front (not measured) */
    fprintf(stderr, "signing %ld transactions...\n", ntx);
    for (long i = 0; i < ntx; i++) {
        ef_tx tx;
        char args[160], hex[2 * EF_PUB_SIZE + 1];
        int from = (int)(i % EF_BENCH_ACCOUNTS), to = (int)((i * 7919 + 13) % EF_BENCH_ACCOUNTS);
        ef_hex(hex, kp[to].pub.b, EF_PUB_SIZE);
        snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":%ld}", hex, 1 + i % 100);
        memset(&tx, 0, sizeof tx);
        snprintf(tx.chain_id, sizeof tx.chain_id, "bench");
        tx.sender = kp[from].pub;
        tx.nonce = (uint64_t)(i / EF_BENCH_ACCOUNTS);
        snprintf(tx.contract, sizeof tx.contract, "bank");
        snprintf(tx.method, sizeof tx.method, "transfer");
        tx.args = (const uint8_t *)args;
        tx.args_len = strlen(args);
        ef_wr w;
        ef_wr_init(&w);
        if (ef_tx_sign(&tx, &kp[from]) || ef_tx_encode(&w, &tx)) goto out;
        enc[i] = ef_wr_take(&w, &len[i]);
        if (!enc[i] || ef_tx_decode(&txs[i], enc[i], len[i])) goto out;
    }

    /* the blocks, built once by a proposer */
    char dir[700];
    snprintf(dir, sizeof dir, "%s/proposer", tmp);
    if ((rc = ef_store_open(&s, dir, &(ef_store_opts){EF_CONTRACTS_BUILTIN, .no_sync = true})) || (rc = ef_store_init_genesis(s, &g))) {
        fprintf(stderr, "edgefed bench apply: store: %s\n", ef_strerror(rc));
        goto out;
    }
    ef_ledger_hooks trust = {ef_bench_trust, NULL};
    for (long b = 0; b < nblocks; b++) {
        long first = b * bsz, n = EF_MIN(bsz, ntx - first);
        for (long i = 0; i < n; i++) cands[i] = (ef_txbuf){enc[first + i], len[first + i]};
        if ((rc = ef_ledger_propose(s, cands, (size_t)n, 1000 + (uint64_t)b, &kp[0].pub, &trust, NULL,
                                    &blocks[b], &blens[b])) ||
            (rc = ef_ledger_commit(s, blocks[b], blens[b], NULL, 0))) {
            fprintf(stderr, "edgefed bench apply: building block %ld: %s\n", b, ef_strerror(rc));
            goto out;
        }
    }
    ef_block chk;
    if (ef_block_decode(&chk, blocks[nblocks - 1], blens[nblocks - 1]) == 0) {
        long want = ntx - (nblocks - 1) * bsz;
        bool ok = (long)chk.txs_len == want;
        ef_block_free(&chk);
        if (!ok) {
            fprintf(stderr, "edgefed bench apply: a block did not take every transaction\n");
            goto out;
        }
    }
    ef_store_close(s);
    s = NULL;
    ef_rm_store(dir);

    double verify_rate[EF_BENCH_REPS_MAX], apply_rate[EF_BENCH_REPS_MAX], ratio[EF_BENCH_REPS_MAX],
        check_ms[EF_BENCH_REPS_MAX], commit_ms[EF_BENCH_REPS_MAX], exec_us[EF_BENCH_REPS_MAX],
        ratio_cpu[EF_BENCH_REPS_MAX];
    for (int r = 0; r < reps; r++) {
        /* apply: check + commit each block on a fresh store */
        snprintf(dir, sizeof dir, "%s/node%d", tmp, r);
        if ((rc = ef_store_open(&s, dir, &(ef_store_opts){EF_CONTRACTS_BUILTIN, .no_sync = !sync})) ||
            (rc = ef_store_init_genesis(s, &g))) {
            fprintf(stderr, "edgefed bench apply: store: %s\n", ef_strerror(rc));
            goto out;
        }
        uint64_t tc = 0, tm = 0;
        uint64_t tx0 = 0;
        /* per block: first the bare verification of its signatures, then its
         * application, so both see the same machine load */
        uint64_t tv = 0, tvc = 0, tac = 0;
        for (long b = 0; b < nblocks; b++) {
            long first = b * bsz, n = EF_MIN(bsz, ntx - first), good = 0;
            uint64_t v0 = ef_now_mono_us(), vc0 = ef_cpu_us();
            for (long i = first; i < first + n; i++)
                good += ef_verify(&txs[i].sig, &txs[i].sender, EF_TAG_TX, enc[i], len[i] - EF_SIG_SIZE);
            tv += ef_now_mono_us() - v0;
            tvc += ef_cpu_us() - vc0;
            if (good != n) {
                fprintf(stderr, "edgefed bench apply: %ld signatures failed\n", n - good);
                goto out;
            }
            /* execution alone (signatures taken as verified), then dropped */
            uint64_t x0 = ef_now_mono_us();
            if ((rc = ef_ledger_check(s, blocks[b], blens[b], &trust))) goto out;
            tx0 += ef_now_mono_us() - x0;
            ef_ledger_abort_pending(s);
            uint64_t a = ef_now_mono_us(), ac = ef_cpu_us();
            if ((rc = ef_ledger_check(s, blocks[b], blens[b], NULL))) {
                fprintf(stderr, "edgefed bench apply: check of block %ld: %s\n", b, ef_strerror(rc));
                goto out;
            }
            uint64_t m = ef_now_mono_us();
            if ((rc = ef_ledger_commit(s, blocks[b], blens[b], NULL, 0))) {
                fprintf(stderr, "edgefed bench apply: commit of block %ld: %s\n", b, ef_strerror(rc));
                goto out;
            }
            uint64_t e = ef_now_mono_us();
            tac += ef_cpu_us() - ac;
            tc += m - a;
            tm += e - m;
        }
        ef_store_close(s);
        s = NULL;
        ef_rm_store(dir);
        double as = (double)(tc + tm) / 1e6, vs = (double)tv / 1e6;
        exec_us[r] = (double)tx0 / (double)ntx;
        ratio_cpu[r] = (double)tvc / (double)tac;
        verify_rate[r] = (double)ntx / vs;
        apply_rate[r] = (double)ntx / as;
        ratio[r] = apply_rate[r] / verify_rate[r];
        check_ms[r] = (double)tc / 1000.0;
        commit_ms[r] = (double)tm / 1000.0;
        fprintf(stderr, "rep %d: verify %.0f/s, apply %.0f/s (check %.1f ms, commit %.1f ms; execution alone %.1f us/tx), ratio %.2f (cpu time %.2f)\n",
                r + 1, verify_rate[r], apply_rate[r], check_ms[r], commit_ms[r], exec_us[r], ratio[r], ratio_cpu[r]);
    }
    double mv = ef_bench_median(verify_rate, reps), ma = ef_bench_median(apply_rate, reps), mr = ef_bench_median(ratio, reps);
    printf("bench apply: %ld transfers in blocks of %ld, %d repetitions, commits %s\n", ntx, bsz, reps,
           sync ? "synced" : "not synced");
    printf("  bare Ed25519 verify:  %.0f signatures/s (median)\n", mv);
    printf("  applied:              %.0f transactions/s (median; check with signatures + commit)\n", ma);
    printf("  apply / verify:       %.1f%% (median of per-repetition ratios; aim >= 70%%)\n", 100 * mr);
    double mx = ef_bench_median(exec_us, reps), mrc = ef_bench_median(ratio_cpu, reps);
    printf("  apply / verify, CPU:  %.1f%% (the same, in thread CPU time: commit's fsync wait not counted)\n", 100 * mrc);
    printf("  execution alone:      %.1f us/tx (median; a block's check with signatures taken as verified)\n", mx);

    if (ef_bench_mkdir(out)) goto out;
    json_t *res = json_pack("{s:s, s:I, s:I, s:i, s:b, s:f, s:f, s:f, s:[]}", "bench", "apply", "txs", (json_int_t)ntx,
                            "block_txs", (json_int_t)bsz, "reps", reps, "synced", sync,
                            "verify_per_s_median", mv, "apply_per_s_median", ma, "ratio_median", mr, "runs");
    json_object_set_new(res, "exec_us_per_tx_median", json_real(mx));
    json_object_set_new(res, "ratio_cpu_median", json_real(mrc));
    for (int r = 0; r < reps; r++)
        json_array_append_new(json_object_get(res, "runs"),
                              json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "verify_per_s", verify_rate[r],
                                        "apply_per_s", apply_rate[r], "ratio", ratio[r], "ratio_cpu", ratio_cpu[r],
                                        "check_ms", check_ms[r], "commit_ms", commit_ms[r], "exec_us_per_tx", exec_us[r]));
    (void)ef_bench_write_json(out, "apply", res);
    json_decref(res);
    FILE *f = ef_bench_open(out, "apply", "md");
    if (f) {
        fprintf(f, "# edgefed bench apply\n\n%ld transfers, blocks of %ld, %d repetitions, commits %s.\n\n", ntx, bsz,
                reps, sync ? "synced" : "not synced");
        fprintf(f, "| rep | bare verify (sig/s) | applied (tx/s) | check (ms) | commit (ms) | execution alone (us/tx) | apply/verify |\n");
        fprintf(f, "|---|---|---|---|---|---|---|\n");
        for (int r = 0; r < reps; r++)
            fprintf(f, "| %d | %.0f | %.0f | %.1f | %.1f | %.1f | %.1f%% |\n", r + 1, verify_rate[r], apply_rate[r],
                    check_ms[r], commit_ms[r], exec_us[r], 100 * ratio[r]);
        fprintf(f, "| **median** | **%.0f** | **%.0f** | | | **%.1f** | **%.1f%%** |\n", mv, ma, mx, 100 * mr);
        fprintf(f, "\nWall-clock rates; verification and application are measured block by block in the same\n"
                   "repetition. In thread CPU time (fsync wait excluded) apply/verify is %.1f%% (median).\n", 100 * mrc);
        fclose(f);
    }
    printf("  written: %s/apply.json, %s/apply.md\n", out, out);
    status = 0;
out:
    if (s) ef_store_close(s);
    if (ef_fs_remove_tree(tmp)) fprintf(stderr, "edgefed bench apply: could not remove %s\n", tmp);
    for (long i = 0; enc && i < ntx; i++) free(enc[i]);
    for (long b = 0; blocks && b < nblocks; b++) free(blocks[b]);
    free(kp);
    free(enc);
    free(len);
    free(txs);
    free(blocks);
    free(blens);
    free(cands);
    ef_genesis_free(&g);
    if (status) fprintf(stderr, "edgefed bench apply: failed\n");
    return status;
}
