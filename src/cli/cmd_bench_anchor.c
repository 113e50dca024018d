/* cmd_bench_anchor.c: `edgefed bench hierarchy-anchor`: how many domain
 * checkpoints per second the federation ledger's anchor contract verifies (100
 * and 1,000 simulated domains, each with its own committee of 4 Ed25519 keys and
 * real certificates), and how long one cross-domain proof takes to verify. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "base/ef_fs.h"
#include "cli/cli.h"
#include "cli/cli_bench.h"
#include "contracts/ef_contracts.h"
#include "ledger/ef_cert.h"
#include "ledger/ef_genesis.h"
#include "ledger/ef_ledger.h"
#include "ledger/ef_proof.h"
#include "ledger/ef_store.h"
#include "ledger/ef_tx.h"

#define BA_VALS 4          /* federation validators (and senders) */
#define BA_COMMITTEE 4     /* members of each domain's committee */
#define BA_DOMAINS_MAX EF_BLOCK_TXS_MAX

static const char *const ba_usage =
    "usage: edgefed bench hierarchy-anchor [--domains N,N,...] [--rounds N] [--proofs N] [--dir DIR] [--out DIR]\n"
    "  A federation ledger (one store, 4 validators, the real executor and anchor\n"
    "  contract) registers N simulated domains (default 100,1000), each with its own\n"
    "  committee of 4 keys, then takes --rounds (default 5) rounds of one checkpoint\n"
    "  per domain: a domain header and its certificate signed by the whole committee,\n"
    "  all of a round in one block. Times the block's execution as a validator runs\n"
    "  it (decoding, transaction signatures, certificate verification, state writes)\n"
    "  and its commit: checkpoints per second. Then a real domain chain commits a\n"
    "  certified block of 100 transactions and --proofs (default 2000) proofs of\n"
    "  them are verified (decode, Merkle paths, certificate of 4): microseconds per\n"
    "  proof. Writes DIR/hierarchy-anchor.json and .md (--out, default ./bench-out);\n"
    "  stores go under --dir (default a temporary folder, removed).\n";

static double ba_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void ba_key(ef_keypair *kp, uint32_t a, uint8_t b)
{
    uint8_t seed[EF_SEED_SIZE] = {0};
    ef_put_u32le(seed, a);
    seed[4] = b;
    ef_keypair_from_seed(kp, seed);
}

static char *ba_hex(const void *p, size_t n)
{
    char *h = malloc(2 * n + 1);
    if (h) ef_hex(h, p, n);
    return h;
}

/* A store with BA_VALS validators (keys 1..BA_VALS, tag b) and optional members. */
static int ba_store(ef_store **s, const char *dir, const char *chain, uint8_t b, const ef_keypair *members,
                    size_t nmem, bool sync)
{
    char hex[2 * EF_PUB_SIZE + 1];
    json_t *g = json_pack("{s:s, s:I, s:[], s:[], s:{}}", "chain_id", chain, "time_ms", (json_int_t)1000,
                          "validators", "members", "balances");
    for (uint32_t i = 0; i < BA_VALS; i++) {
        ef_keypair kp;
        char dom[16];
        ba_key(&kp, i + 1, b);
        ef_hex(hex, kp.pub.b, EF_PUB_SIZE);
        snprintf(dom, sizeof dom, "op%u", i);
        json_array_append_new(json_object_get(g, "validators"), json_pack("{s:s, s:s}", "pub", hex, "domain", dom));
    }
    for (size_t i = 0; i < nmem; i++) {
        char name[16];
        ef_hex(hex, members[i].pub.b, EF_PUB_SIZE);
        snprintf(name, sizeof name, "m%zu", i);
        json_array_append_new(json_object_get(g, "members"),
                              json_pack("{s:s, s:s, s:s}", "pub", hex, "domain", "op0", "name", name));
        json_object_set_new(json_object_get(g, "balances"), hex, json_integer(1000000000));
    }
    char *text = json_dumps(g, JSON_COMPACT);
    json_decref(g);
    ef_genesis gen;
    char err[200] = "";
    int rc = ef_genesis_parse(&gen, text, strlen(text), err, sizeof err);
    free(text);
    if (rc) {
        fprintf(stderr, "bench hierarchy-anchor: genesis: %s\n", err);
        return rc;
    }
    rc = ef_store_open(s, dir, &(ef_store_opts){EF_CONTRACTS_BUILTIN, .no_sync = !sync});
    if (rc == 0) rc = ef_store_init_genesis(*s, &gen);
    ef_genesis_free(&gen);
    return rc;
}

static uint8_t *ba_tx(const char *chain, const ef_keypair *kp, uint64_t nonce, const char *contract,
                      const char *method, const char *args, size_t *len)
{
    ef_tx t;
    memset(&t, 0, sizeof t);
    snprintf(t.chain_id, sizeof t.chain_id, "%s", chain);
    t.sender = kp->pub;
    t.nonce = nonce;
    snprintf(t.contract, sizeof t.contract, "%s", contract);
    snprintf(t.method, sizeof t.method, "%s", method);
    t.args = (const uint8_t *)args;
    t.args_len = strlen(args);
    ef_wr w;
    ef_wr_init(&w);
    if (ef_tx_sign(&t, kp) || ef_tx_encode(&w, &t)) {
        ef_wr_free(&w);
        return NULL;
    }
    return ef_wr_take(&w, len);
}

typedef struct ba_block {
    uint8_t *enc[BA_DOMAINS_MAX];
    size_t len[BA_DOMAINS_MAX];
    size_t n;
} ba_block;

static void ba_block_free(ba_block *b)
{
    for (size_t i = 0; i < b->n; i++) free(b->enc[i]);
    b->n = 0;
}

/* Runs the block: propose (execution, as each validator does) and commit; the
 * times in ms; every tx must succeed. */
static int ba_run(ef_store *s, ba_block *b, uint64_t *now_ms, const ef_pub *proposer, double *exec_ms,
                  double *commit_ms)
{
    ef_txbuf *c = calloc(b->n ? b->n : 1, sizeof *c);
    int *st = calloc(b->n ? b->n : 1, sizeof *st);
    uint8_t *blk = NULL;
    size_t blen = 0;
    int rc = c && st ? 0 : EF_ENOMEM;
    for (size_t i = 0; !rc && i < b->n; i++) c[i] = (ef_txbuf){b->enc[i], b->len[i]};
    double t0 = ba_now_ms();
    if (!rc) rc = ef_ledger_propose(s, c, b->n, *now_ms, proposer, NULL, st, &blk, &blen);
    double t1 = ba_now_ms();
    if (!rc) rc = ef_ledger_commit(s, blk, blen, NULL, 0);
    double t2 = ba_now_ms();
    *now_ms += 1000;
    for (size_t i = 0; !rc && i < b->n; i++)
        if (st[i]) rc = st[i];
    /* the results: every tx executed without error */
    for (size_t i = 0; !rc && i < b->n; i++) {
        ef_hash h;
        ef_tx_loc loc = {0};
        ef_tx_hash_enc(&h, b->enc[i], b->len[i]);
        rc = ef_store_tx_lookup(s, &h, &loc);
        if (!rc && loc.code) {
            fprintf(stderr, "bench hierarchy-anchor: tx %zu failed: %s\n", i, ef_strerror(loc.code));
            rc = loc.code;
        }
        free(loc.events_json);
    }
    *exec_ms = t1 - t0;
    *commit_ms = t2 - t1;
    free(blk);
    free(c);
    free(st);
    return rc;
}

/* One size: D domains, rounds of checkpoints. Fills a JSON run. */
static int ba_size(const char *dir, uint32_t D, int rounds, json_t **out)
{
    ef_store *s = NULL;
    ef_keypair vals[BA_VALS];
    uint64_t nonce[BA_VALS] = {0}, now_ms = 2000;
    ba_block *b = calloc(1, sizeof *b);
    ef_vset *vs = malloc(sizeof *vs);
    ef_keypair (*keys)[BA_COMMITTEE] = calloc(D, sizeof *keys);
    ef_hash *prev = calloc(D, sizeof *prev);
    double exec_total = 0, commit_total = 0, gen_total = 0, exec_min = 1e300;
    int rc = b && vs && keys && prev ? 0 : EF_ENOMEM;
    if (rc) goto out;
    for (uint32_t i = 0; i < BA_VALS; i++) ba_key(&vals[i], i + 1, 0xfe);
    if ((rc = ba_store(&s, dir, "federation", 0xfe, NULL, 0, true))) goto out;
    /* register */
    double g0 = ba_now_ms();
    for (uint32_t d = 0; d < D; d++) {
        char name[32], chain[32];
        snprintf(name, sizeof name, "d%u", d);
        snprintf(chain, sizeof chain, "dom-%u", d);
        ef_vset_init(vs);
        for (int k = 0; k < BA_COMMITTEE; k++) {
            ba_key(&keys[d][k], 1000 + d * BA_COMMITTEE + (uint32_t)k, 0x11);
            ef_vset_add(vs, &keys[d][k].pub, 1);
        }
        ef_wr w;
        ef_wr_init(&w);
        ef_vset_encode(&w, vs);
        ef_hash_tagged(&prev[d], EF_TAG_BLOCK, chain, strlen(chain));   /* the genesis hash */
        char *ch = ba_hex(w.buf, w.len), *gh = ba_hex(prev[d].b, EF_HASH_SIZE),
             *ah = ba_hex(vals[d % BA_VALS].pub.b, EF_PUB_SIZE);
        ef_wr_free(&w);
        json_t *a = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", name, "chain_id", chain, "genesis_hash", gh,
                              "committee", ch, "admin", ah);
        char *args = json_dumps(a, JSON_COMPACT);
        json_decref(a);
        free(ch);
        free(gh);
        free(ah);
        uint32_t v = d % BA_VALS;
        b->enc[b->n] = ba_tx("federation", &vals[v], nonce[v]++, "anchor", "register_domain", args, &b->len[b->n]);
        free(args);
        if (!b->enc[b->n]) {
            rc = EF_ENOMEM;
            goto out;
        }
        b->n++;
    }
    double e, c;
    if ((rc = ba_run(s, b, &now_ms, &vals[0].pub, &e, &c))) goto out;
    ba_block_free(b);
    double reg_ms = ba_now_ms() - g0;
    /* rounds */
    for (int r = 0; r < rounds; r++) {
        double t0 = ba_now_ms();
        for (uint32_t d = 0; d < D; d++) {
            char chain[32];
            snprintf(chain, sizeof chain, "dom-%u", d);
            ef_vset_init(vs);
            for (int k = 0; k < BA_COMMITTEE; k++) ef_vset_add(vs, &keys[d][k].pub, 1);
            ef_block_header h;
            memset(&h, 0, sizeof h);
            h.version = EF_BLOCK_VERSION;
            snprintf(h.chain_id, sizeof h.chain_id, "%s", chain);
            h.height = (uint64_t)r + 1;
            h.time_ms = 1000 * h.height + 1000;
            h.prev_hash = prev[d];
            uint8_t seed[8];
            ef_put_u64le(seed, h.height);
            ef_hash_tagged(&h.state_hash, EF_TAG_STATE, seed, 8);
            ef_hash_tagged(&h.txs_root, EF_TAG_MERKLE_NODE, seed, 8);
            ef_hash_tagged(&h.results_root, EF_TAG_RESULT, seed, 8);
            ef_vset_hash(&h.vset_hash, vs);
            h.next_vset_hash = h.vset_hash;
            h.proposer = vs->v[0].pub;
            ef_hash hash;
            ef_block_header_hash(&hash, &h);
            prev[d] = hash;
            ef_cert *ce = calloc(1, sizeof *ce);
            if (!ce) {
                rc = EF_ENOMEM;
                goto out;
            }
            ce->height = h.height;
            ce->value_id = hash;
            for (uint32_t i = 0; i < vs->len; i++) {
                const ef_keypair *kp = NULL;
                for (int k = 0; k < BA_COMMITTEE; k++)
                    if (!memcmp(keys[d][k].pub.b, vs->v[i].pub.b, EF_PUB_SIZE)) kp = &keys[d][k];
                ce->sigs[ce->count].index = (uint16_t)i;
                ef_cert_sign(&ce->sigs[ce->count].sig, kp, chain, h.height, 0, &hash);
                ce->count++;
            }
            uint8_t *cert;
            size_t cn;
            rc = ef_cert_encode(ce, &cert, &cn);
            free(ce);
            if (rc) goto out;
            ef_wr w;
            ef_wr_init(&w);
            ef_block_header_encode(&w, &h);
            char *hh = ba_hex(w.buf, w.len), *chx = ba_hex(cert, cn), name[32];
            ef_wr_free(&w);
            free(cert);
            snprintf(name, sizeof name, "d%u", d);
            json_t *a = json_pack("{s:s, s:s, s:s}", "domain", name, "header", hh, "cert", chx);
            char *args = json_dumps(a, JSON_COMPACT);
            json_decref(a);
            free(hh);
            free(chx);
            uint32_t v = d % BA_VALS;
            b->enc[b->n] = ba_tx("federation", &vals[v], nonce[v]++, "anchor", "checkpoint", args, &b->len[b->n]);
            free(args);
            if (!b->enc[b->n]) {
                rc = EF_ENOMEM;
                goto out;
            }
            b->n++;
        }
        gen_total += ba_now_ms() - t0;
        if ((rc = ba_run(s, b, &now_ms, &vals[0].pub, &e, &c))) goto out;
        ba_block_free(b);
        exec_total += e;
        commit_total += c;
        if (e < exec_min) exec_min = e;
    }
    double n = (double)D * rounds;
    *out = json_pack("{s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f}", "domains", (json_int_t)D, "rounds",
                     (json_int_t)rounds, "checkpoints", (json_int_t)(D * (uint32_t)rounds), "checkpoints_per_s_exec",
                     n / (exec_total / 1000), "checkpoints_per_s_exec_commit", n / ((exec_total + commit_total) / 1000),
                     "us_per_checkpoint", exec_total * 1000 / n, "block_exec_ms_mean", exec_total / rounds,
                     "block_exec_ms_min", exec_min, "register_ms", reg_ms);
    json_object_set_new(*out, "generate_ms_per_round", json_real(gen_total / rounds));
    json_object_set_new(*out, "commit_ms_mean", json_real(commit_total / rounds));
    printf("  %5u domains: %.0f checkpoints/s verified (execution), %.0f with commit; %.1f us each; "
           "a round's block %.1f ms\n",
           D, n / (exec_total / 1000), n / ((exec_total + commit_total) / 1000), exec_total * 1000 / n,
           exec_total / rounds);
out:
    if (s) ef_store_close(s);
    free(b);
    free(vs);
    free(keys);
    free(prev);
    return rc;
}

/* A real domain chain, one certified block of 100 transfers, proofs verified. */
static int ba_proofs(const char *dir, int iters, json_t **out)
{
    ef_store *s = NULL;
    ef_keypair user, vals[BA_VALS];
    ba_block *b = calloc(1, sizeof *b);
    ef_vset vs;
    uint8_t *blk = NULL, *cert = NULL, *p = NULL;
    size_t blen = 0, cn = 0, pn = 0;
    ef_proof *pf = malloc(sizeof *pf);
    int rc = b && pf ? 0 : EF_ENOMEM;
    if (rc) goto out;
    ba_key(&user, 99, 0x22);
    for (uint32_t i = 0; i < BA_VALS; i++) ba_key(&vals[i], i + 1, 0x22);
    if ((rc = ba_store(&s, dir, "domain-x", 0x22, &user, 1, false))) goto out;
    char to[2 * EF_PUB_SIZE + 1];
    ef_hex(to, vals[0].pub.b, EF_PUB_SIZE);
    for (int i = 0; i < 100; i++) {
        char args[200];
        snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":%d}", to, i + 1);
        b->enc[b->n] = ba_tx("domain-x", &user, (uint64_t)i, "bank", "transfer", args, &b->len[b->n]);
        if (!b->enc[b->n]) {
            rc = EF_ENOMEM;
            goto out;
        }
        b->n++;
    }
    ef_txbuf c[100];
    for (size_t i = 0; i < b->n; i++) c[i] = (ef_txbuf){b->enc[i], b->len[i]};
    if ((rc = ef_ledger_propose(s, c, b->n, 5000, &vals[0].pub, NULL, NULL, &blk, &blen))) goto out;
    ef_hash bh;
    if ((rc = ef_block_hash_enc(&bh, blk, blen)) || (rc = ef_store_vset(s, 1, &vs))) goto out;
    ef_cert *ce = calloc(1, sizeof *ce);
    if (!ce) {
        rc = EF_ENOMEM;
        goto out;
    }
    ce->height = 1;
    ce->value_id = bh;
    for (uint32_t i = 0; i < vs.len; i++)
        for (int k = 0; k < BA_VALS; k++)
            if (!memcmp(vals[k].pub.b, vs.v[i].pub.b, EF_PUB_SIZE)) {
                ce->sigs[ce->count].index = (uint16_t)i;
                ef_cert_sign(&ce->sigs[ce->count].sig, &vals[k], "domain-x", 1, 0, &bh);
                ce->count++;
            }
    rc = ef_cert_encode(ce, &cert, &cn);
    free(ce);
    if (rc || (rc = ef_ledger_commit(s, blk, blen, cert, cn))) goto out;
    ef_hash th;
    ef_tx_hash_enc(&th, b->enc[57], b->len[57]);
    if ((rc = ef_proof_build(s, &th, true, &p, &pn))) goto out;
    double t0 = ba_now_ms();
    for (int i = 0; i < iters && !rc; i++) rc = ef_proof_verify(pf, p, pn, &vs, true);
    double t1 = ba_now_ms();
    for (int i = 0; i < iters && !rc; i++) {
        rc = ef_proof_decode(pf, p, pn);
        if (!rc) rc = ef_proof_check(pf);
    }
    double t2 = ba_now_ms();
    if (rc) goto out;
    /* the floor: one bare Ed25519 verification (libsodium) */
    uint8_t msg[128] = {0};
    ef_sig sig;
    ef_sign(&sig, &user, EF_TAG_VOTE, msg, sizeof msg);
    int bad = 0;
    double t3 = ba_now_ms();
    for (int i = 0; i < iters; i++) bad += !ef_verify(&sig, &user.pub, EF_TAG_VOTE, msg, sizeof msg);
    double t4 = ba_now_ms();
    if (bad) {
        rc = EF_EBADSIG;
        goto out;
    }
    *out = json_pack("{s:I, s:I, s:I, s:f, s:f, s:f}", "proof_bytes", (json_int_t)pn, "block_txs", (json_int_t)100,
                     "iterations", (json_int_t)iters, "us_per_proof_with_cert", (t1 - t0) * 1000 / iters,
                     "us_per_proof_paths_only", (t2 - t1) * 1000 / iters, "us_per_ed25519_verify",
                     (t4 - t3) * 1000 / iters);
    printf("  proof of 1 tx in a block of 100 (%zu bytes): %.1f us to verify with its certificate of 4, "
           "%.1f us decode and paths only\n",
           pn, (t1 - t0) * 1000 / iters, (t2 - t1) * 1000 / iters);
out:
    if (s) ef_store_close(s);
    if (b) ba_block_free(b);
    free(b);
    free(blk);
    free(cert);
    free(p);
    free(pf);
    return rc;
}

int ef_bench_anchor(int argc, char **argv)
{
    static const char *const opts[] = {"domains=", "rounds=", "proofs=", "dir=", "out=", NULL};
    int checked = ef_cli_check(argc, argv, ba_usage, opts, 0);
    if (checked >= 0) return checked;
    const char *dlist = ef_cli_opt(argc, argv, "domains", "100,1000");
    int rounds = atoi(ef_cli_opt(argc, argv, "rounds", "5"));
    int proofs = atoi(ef_cli_opt(argc, argv, "proofs", "2000"));
    const char *out = ef_cli_opt(argc, argv, "out", "bench-out");
    const char *dir_opt = ef_cli_opt(argc, argv, "dir", NULL);
    uint32_t sizes[16];
    int nsizes = 0;
    for (const char *q = dlist; *q && nsizes < 16;) {
        char *end;
        long v = strtol(q, &end, 10);
        if (end == q || v < 1 || v > BA_DOMAINS_MAX || (*end && *end != ',')) {
            fprintf(stderr, "bench hierarchy-anchor: --domains wants counts 1..%d separated by commas\n",
                    BA_DOMAINS_MAX);
            fputs(ba_usage, stderr);
            return 2;
        }
        sizes[nsizes++] = (uint32_t)v;
        q = *end ? end + 1 : end;
    }
    if (rounds < 1 || rounds > 1000 || proofs < 1 || proofs > 10000000 || nsizes == 0) {
        fputs(ba_usage, stderr);
        return 2;
    }
    char base[512];
    if (dir_opt) {
        snprintf(base, sizeof base, "%s", dir_opt);
        if (ef_fs_mkdirs(base, 0755)) {
            fprintf(stderr, "bench hierarchy-anchor: cannot create %s\n", base);
            return 1;
        }
    } else {
        snprintf(base, sizeof base, "/tmp/edgefed-bench-anchor-XXXXXX");
        if (!mkdtemp(base)) {
            perror("bench hierarchy-anchor: mkdtemp");
            return 1;
        }
    }
    printf("bench hierarchy-anchor: federation ledger of %d validators, committees of %d, %d rounds\n", BA_VALS,
           BA_COMMITTEE, rounds);
    json_t *runs = json_array(), *pj = NULL;
    int rc = 0;
    for (int i = 0; i < nsizes && !rc; i++) {
        char d[600];
        snprintf(d, sizeof d, "%s/fed-%u", base, sizes[i]);
        json_t *r = NULL;
        if ((rc = ef_fs_mkdirs(d, 0755)) == 0 && (rc = ba_size(d, sizes[i], rounds, &r)) == 0)
            json_array_append_new(runs, r);
    }
    if (!rc) {
        char d[600];
        snprintf(d, sizeof d, "%s/domain", base);
        if ((rc = ef_fs_mkdirs(d, 0755)) == 0) rc = ba_proofs(d, proofs, &pj);
    }
    if (!dir_opt && ef_fs_remove_tree(base)) fprintf(stderr, "bench hierarchy-anchor: cannot remove %s\n", base);
    if (rc) {
        fprintf(stderr, "bench hierarchy-anchor: failed: %s\n", ef_strerror(rc));
        json_decref(runs);
        return 1;
    }
    json_t *doc = json_pack("{s:s, s:I, s:I, s:I, s:o, s:o}", "bench", "hierarchy-anchor", "validators",
                            (json_int_t)BA_VALS, "committee", (json_int_t)BA_COMMITTEE, "rounds", (json_int_t)rounds,
                            "runs", runs, "proof", pj);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    json_object_set_new(doc, "cpus", json_integer(ncpu));
    double load = -1;
    FILE *lf = fopen("/proc/loadavg", "r");
    if (lf) {
        if (fscanf(lf, "%lf", &load) != 1) load = -1;
        fclose(lf);
    }
    json_object_set_new(doc, "load_avg_1min_after", json_real(load));
    int ret = 1;
    if (ef_bench_mkdir(out) || ef_bench_write_json(out, "hierarchy-anchor", doc)) goto done;
    FILE *md = ef_bench_open(out, "hierarchy-anchor", "md");
    if (!md) goto done;
    fprintf(md, "# edgefed bench hierarchy-anchor\n\n"
                "The federation ledger's anchor contract verifying domain checkpoints: one store, the real executor,\n"
                "%d federation validators; every simulated domain has its own committee of %d Ed25519 keys and\n"
                "each checkpoint carries a header and a certificate signed by the whole committee. A round is one\n"
                "block holding one checkpoint per domain; its execution is what every validator does to check it\n"
                "(transaction signatures, certificate verification, state writes). %d rounds, %ld CPUs\n"
                "(1-minute load average %.1f when it ended: other processes share them).\n\n"
                "| domains | checkpoints | checkpoints/s (execution) | checkpoints/s (with commit) | us per checkpoint | block exec (ms) |\n"
                "|---|---|---|---|---|---|\n",
            BA_VALS, BA_COMMITTEE, rounds, ncpu, load);
    size_t i;
    json_t *r;
    json_array_foreach(runs, i, r)
        fprintf(md, "| %lld | %lld | %.0f | %.0f | %.1f | %.1f |\n", json_integer_value(json_object_get(r, "domains")),
                json_integer_value(json_object_get(r, "checkpoints")),
                json_real_value(json_object_get(r, "checkpoints_per_s_exec")),
                json_real_value(json_object_get(r, "checkpoints_per_s_exec_commit")),
                json_real_value(json_object_get(r, "us_per_checkpoint")),
                json_real_value(json_object_get(r, "block_exec_ms_mean")));
    fprintf(md, "\nProof of one transaction in a certified block of 100 (%lld bytes): %.1f us to verify with its\n"
                "certificate of 4 signatures; %.1f us for decoding and the two Merkle paths alone. One bare\n"
                "Ed25519 verification takes %.1f us here; a checkpoint needs 5 (its transaction's and 4 of the\n"
                "certificate).\n",
            json_integer_value(json_object_get(pj, "proof_bytes")),
            json_real_value(json_object_get(pj, "us_per_proof_with_cert")),
            json_real_value(json_object_get(pj, "us_per_proof_paths_only")),
            json_real_value(json_object_get(pj, "us_per_ed25519_verify")));
    fclose(md);
    printf("bench hierarchy-anchor: wrote %s/hierarchy-anchor.json and hierarchy-anchor.md\n", out);
    ret = 0;
done:
    json_decref(doc);
    return ret;
}
