/* cmd_chain.c: `edgefed chain`: the ledger on its own, in one process, with no
 * consensus: creates accounts, transfers, an escrow, a rejected overdraft and a
 * replay, commits blocks locally and prints the chain with hashes and balances. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "base/ef_log.h"
#include "cli/cli.h"
#include "contracts/ef_contracts.h"
#include "ledger/ef_genesis.h"
#include "ledger/ef_ledger.h"
#include "ledger/ef_store.h"

static const char *ef_chain_usage =
    "usage: edgefed chain --dir DIR [--reset] [--quiet]\n"
    "  a local, single-process demo of the ledger (no consensus, one validator):\n"
    "  in a new DIR it creates keys (DIR/keys), a genesis (DIR/genesis.json) and a\n"
    "  store (DIR/store), then commits blocks with transfers, an escrow (lock,\n"
    "  release, refund), a failing overdraft, a member registration and a replay\n"
    "  attempt, and prints the chain: each block's hash, previous hash, state hash,\n"
    "  transactions and results, then the balances and the total supply.\n"
    "  On a DIR that already holds a chain it only prints it. --reset starts over.\n";

#define EF_CHAIN_ID "edgefed-local"
#define EF_DEMO_ACCOUNTS 5

static const char *const ef_demo_names[EF_DEMO_ACCOUNTS] = {"validator", "alice", "bob", "carol", "dave"};

typedef struct ef_demo {
    char dir[512];
    ef_keypair kp[EF_DEMO_ACCOUNTS];
    uint64_t nonce[EF_DEMO_ACCOUNTS];
    ef_store *s;
    bool quiet;
} ef_demo;

static const char *ef_demo_name_of(const ef_demo *d, const char *hex)
{
    char h[2 * EF_PUB_SIZE + 1];
    for (int i = 0; i < EF_DEMO_ACCOUNTS; i++) {
        ef_hex(h, d->kp[i].pub.b, EF_PUB_SIZE);
        if (hex && !strcmp(h, hex)) return ef_demo_names[i];
    }
    return NULL;
}

/* Copies args into out (cap bytes, truncated), with each demo account's key
 * written as its name, for reading. */
static void ef_demo_names_in(const ef_demo *d, char *out, size_t cap, const char *args, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < cap;) {
        const char *name = NULL;
        if (len - i >= 2 * EF_PUB_SIZE) {
            char h[2 * EF_PUB_SIZE + 1];
            memcpy(h, args + i, 2 * EF_PUB_SIZE);
            h[2 * EF_PUB_SIZE] = 0;
            name = ef_demo_name_of(d, h);
        }
        if (name) {
            size_t n = strlen(name);
            if (o + n + 1 >= cap) break;
            memcpy(out + o, name, n);
            o += n;
            i += 2 * EF_PUB_SIZE;
        } else {
            out[o++] = args[i++];
        }
    }
    out[o] = 0;
}

static void ef_short(char out[17], const uint8_t *b)
{
    ef_hex(out, b, 8);
}

/* Prints one block: header, then each tx with its result and events. */
static int ef_chain_print_block(ef_demo *d, uint64_t height)
{
    uint8_t *enc;
    size_t len;
    ef_block b;
    int rc = ef_store_block(d->s, height, &enc, &len);
    if (rc) return rc;
    if ((rc = ef_block_decode(&b, enc, len))) {
        free(enc);
        return rc;
    }
    ef_hash hash;
    char hx[2 * EF_HASH_SIZE + 1], prev[17], state[17], txr[17];
    ef_block_header_hash(&hash, &b.hdr);
    ef_hex(hx, hash.b, EF_HASH_SIZE);
    ef_short(prev, b.hdr.prev_hash.b);
    ef_short(state, b.hdr.state_hash.b);
    ef_short(txr, b.hdr.txs_root.b);
    printf("block %llu  hash %s\n", (unsigned long long)height, hx);
    printf("  prev %s..  txs_root %s..  state %s..  time %llu  txs %u\n", prev, txr, state,
           (unsigned long long)b.hdr.time_ms, b.txs_len);
    for (uint32_t i = 0; i < b.txs_len; i++) {
        ef_block_tx *t = &b.txs[i];
        ef_tx_loc loc;
        char th[17], sh[2 * EF_PUB_SIZE + 1];
        ef_short(th, t->hash.b);
        ef_hex(sh, t->tx.sender.b, EF_PUB_SIZE);
        const char *who = ef_demo_name_of(d, sh);
        if (ef_store_tx_lookup(d->s, &t->hash, &loc)) continue;
        char args[256];
        ef_demo_names_in(d, args, sizeof args, (const char *)t->tx.args, t->tx.args_len);
        printf("  tx %u %s..  %s #%llu  %s.%s %s\n", i, th, who ? who : "?", (unsigned long long)t->tx.nonce,
               t->tx.contract, t->tx.method, args);
        if (loc.code) {
            printf("     -> failed: %s (%s)\n", ef_strerror(loc.code), ef_errname(loc.code));
        } else {
            json_t *evs = json_loads(loc.events_json, 0, NULL);
            size_t k;
            json_t *ev;
            printf("     -> ok");
            json_array_foreach(evs, k, ev) {
                printf("%s %s", k ? "," : ":", json_string_value(json_object_get(ev, "name")));
                json_t *id = json_object_get(json_object_get(ev, "data"), "id");
                if (id) printf(" id=%lld", (long long)json_integer_value(id));
            }
            printf("\n");
            json_decref(evs);
        }
        free(loc.events_json);
    }
    ef_block_free(&b);
    free(enc);
    return 0;
}

static void ef_chain_print(ef_demo *d)
{
    ef_store_info info;
    if (ef_store_info_get(d->s, &info)) return;
    printf("\nchain %s: %llu blocks after genesis\n\n", info.chain_id, (unsigned long long)info.height);
    for (uint64_t h = 0; h <= info.height; h++) ef_chain_print_block(d, h);
    printf("\nbalances:\n");
    uint64_t sum = 0;
    for (int i = 0; i < EF_DEMO_ACCOUNTS; i++) {
        char path[128], hex[2 * EF_PUB_SIZE + 1];
        json_t *q;
        ef_hex(hex, d->kp[i].pub.b, EF_PUB_SIZE);
        snprintf(path, sizeof path, "balance/%s", hex);
        if (ef_store_query(d->s, "bank", path, &q)) continue;
        uint64_t bal = (uint64_t)json_integer_value(json_object_get(q, "balance"));
        sum += bal;
        printf("  %-9s %.16s..  %llu\n", ef_demo_names[i], hex, (unsigned long long)bal);
        json_decref(q);
    }
    json_t *q;
    if (ef_store_query(d->s, "bank", "supply", &q) == 0) {
        long long supply = json_integer_value(json_object_get(q, "supply"));
        long long locked = json_integer_value(json_object_get(q, "locked"));
        printf("  in escrow %lld; balances + escrow = %llu; supply %lld (%s)\n", locked,
               (unsigned long long)(sum + (uint64_t)locked), supply,
               sum + (uint64_t)locked == (uint64_t)supply ? "conserved" : "MISMATCH");
        json_decref(q);
    }
    ef_hash full;
    int rc = ef_store_verify_state(d->s, &full);
    char sh[2 * EF_HASH_SIZE + 1];
    ef_hex(sh, info.state_hash.b, EF_HASH_SIZE);
    printf("state hash %s (%s)\n", sh, rc ? "DOES NOT match a full rehash" : "matches a full rehash");
}

/* Signs a tx from account `who` with the next nonce. */
static uint8_t *ef_demo_tx(ef_demo *d, int who, const char *contract, const char *method,
                           const char *args, size_t *len)
{
    ef_tx tx;
    memset(&tx, 0, sizeof tx);
    snprintf(tx.chain_id, sizeof tx.chain_id, EF_CHAIN_ID);
    tx.sender = d->kp[who].pub;
    tx.nonce = d->nonce[who]++;
    snprintf(tx.contract, sizeof tx.contract, "%s", contract);
    snprintf(tx.method, sizeof tx.method, "%s", method);
    tx.args = (const uint8_t *)args;
    tx.args_len = strlen(args);
    ef_wr w;
    ef_wr_init(&w);
    if (ef_tx_sign(&tx, &d->kp[who]) || ef_tx_encode(&w, &tx)) {
        ef_wr_free(&w);
        return NULL;
    }
    return ef_wr_take(&w, len);
}

/* Proposes a block from txs and commits it; prints what was skipped. */
static int ef_demo_block(ef_demo *d, uint8_t **txs, size_t *lens, size_t n, const char *what)
{
    ef_txbuf c[8];
    int st[8];
    EF_ASSERT(n <= 8);
    for (size_t i = 0; i < n; i++) c[i] = (ef_txbuf){txs[i], lens[i]};
    uint8_t *blk;
    size_t blen;
    uint64_t t0 = ef_now_mono_us();
    int rc = ef_ledger_propose(d->s, c, n, ef_now_wall_ms(), &d->kp[0].pub, NULL, st, &blk, &blen);
    if (rc) {
        fprintf(stderr, "edgefed chain: propose: %s\n", ef_strerror(rc));
        return rc;
    }
    rc = ef_ledger_commit(d->s, blk, blen, NULL, 0);
    free(blk);
    if (rc) {
        fprintf(stderr, "edgefed chain: commit: %s\n", ef_strerror(rc));
        return rc;
    }
    if (!d->quiet)
        printf("committed block %llu (%s) in %.2f ms\n", (unsigned long long)ef_store_height(d->s), what,
               (double)(ef_now_mono_us() - t0) / 1000.0);
    for (size_t i = 0; i < n; i++)
        if (st[i]) printf("  (candidate %zu not included: %s, %s)\n", i, ef_strerror(st[i]), ef_errname(st[i]));
    for (size_t i = 0; i < n; i++) free(txs[i]);
    return 0;
}

static int ef_demo_run(ef_demo *d)
{
    char a[4][2 * EF_PUB_SIZE + 1], args[512];
    for (int i = 1; i < EF_DEMO_ACCOUNTS; i++) ef_hex(a[i - 1], d->kp[i].pub.b, EF_PUB_SIZE);
    const char *alice = a[0], *bob = a[1], *carol = a[2], *dave = a[3];
    (void)alice;
    uint8_t *t[8];
    size_t l[8];
    int rc;

    /* 1: transfers */
    snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":100}", bob);
    t[0] = ef_demo_tx(d, 1, "bank", "transfer", args, &l[0]);
    snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":50}", carol);
    t[1] = ef_demo_tx(d, 2, "bank", "transfer", args, &l[1]);
    if ((rc = ef_demo_block(d, t, l, 2, "alice pays bob 100, bob pays carol 50"))) return rc;

    /* 2: an escrow for carol; an overdraft by bob (fails, changes nothing but his nonce) */
    snprintf(args, sizeof args, "{\"payee\":\"%s\",\"amount\":200}", carol);
    t[0] = ef_demo_tx(d, 1, "bank", "escrow", args, &l[0]);
    snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":100000}", carol);
    t[1] = ef_demo_tx(d, 2, "bank", "transfer", args, &l[1]);
    if ((rc = ef_demo_block(d, t, l, 2, "alice locks 200 for carol; bob overdraws"))) return rc;

    /* 3: alice releases 150 to carol, carol refunds the other 50 */
    t[0] = ef_demo_tx(d, 1, "bank", "release", "{\"escrow\":1,\"amount\":150}", &l[0]);
    t[1] = ef_demo_tx(d, 3, "bank", "refund", "{\"escrow\":1,\"amount\":50}", &l[1]);
    if ((rc = ef_demo_block(d, t, l, 2, "escrow 1: 150 released to carol, 50 refunded to alice"))) return rc;

    /* 4: the validator registers dave as a member; a replay of alice's first tx is refused */
    snprintf(args, sizeof args, "{\"account\":\"%s\",\"domain\":\"local\",\"name\":\"dave\"}", dave);
    t[0] = ef_demo_tx(d, 0, "registry", "register_member", args, &l[0]);
    d->nonce[1] = 0;
    snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":100}", bob);
    t[1] = ef_demo_tx(d, 1, "bank", "transfer", args, &l[1]);   /* same bytes as block 1's */
    d->nonce[1] = 3;
    snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":25}", dave);
    t[2] = ef_demo_tx(d, 3, "bank", "transfer", args, &l[2]);
    return ef_demo_block(d, t, l, 3, "dave registered; a replay refused; carol pays dave 25");
}

static int ef_demo_keys(ef_demo *d, bool create)
{
    char path[700];
    snprintf(path, sizeof path, "%s/keys", d->dir);
    if (create && mkdir(path, 0700) && errno != EEXIST) return EF_EIO;
    for (int i = 0; i < EF_DEMO_ACCOUNTS; i++) {
        snprintf(path, sizeof path, "%s/keys/%s.key", d->dir, ef_demo_names[i]);
        int rc = ef_key_load(&d->kp[i], path);
        if (rc && create) {
            ef_keypair_generate(&d->kp[i]);
            rc = ef_key_save(path, &d->kp[i]);
        }
        if (rc) return rc;
    }
    return 0;
}

int ef_cmd_chain(int argc, char **argv)
{
    static const char *const opts[] = {"dir=", "reset", "quiet", NULL};
    int checked = ef_cli_check(argc, argv, ef_chain_usage, opts, 0);
    if (checked >= 0) return checked;
    const char *dir;
    int early = ef_cli_required(argc, argv, ef_chain_usage, "dir", &dir);
    if (early >= 0) return early;
    ef_demo d;
    memset(&d, 0, sizeof d);
    snprintf(d.dir, sizeof d.dir, "%s", dir);
    d.quiet = ef_cli_flag(argc, argv, "quiet");
    char path[700];
    if (mkdir(dir, 0700) && errno != EEXIST) {
        fprintf(stderr, "edgefed chain: cannot create %s\n", dir);
        return 1;
    }
    snprintf(path, sizeof path, "%s/store", dir);
    if (ef_cli_flag(argc, argv, "reset")) {
        char f[800];
        snprintf(f, sizeof f, "%s/data.mdb", path);
        unlink(f);
        snprintf(f, sizeof f, "%s/lock.mdb", path);
        unlink(f);
    }
    int rc = ef_store_open(&d.s, path, &(ef_store_opts){EF_CONTRACTS_BUILTIN});
    if (rc) {
        fprintf(stderr, "edgefed chain: cannot open store %s: %s\n", path, ef_strerror(rc));
        return 1;
    }
    ef_store_info info;
    int status = 1;
    if ((rc = ef_store_info_get(d.s, &info))) goto out;
    if (info.initialised) {
        if ((rc = ef_demo_keys(&d, false))) {
            fprintf(stderr, "edgefed chain: cannot read keys in %s/keys: %s\n", dir, ef_strerror(rc));
            goto out;
        }
        ef_chain_print(&d);
        status = 0;
        goto out;
    }
    if ((rc = ef_demo_keys(&d, true))) {
        fprintf(stderr, "edgefed chain: cannot write keys: %s\n", ef_strerror(rc));
        goto out;
    }
    /* genesis: one validator, alice 1000, bob 500, carol 0, all members of "local" */
    char hex[EF_DEMO_ACCOUNTS][2 * EF_PUB_SIZE + 1];
    for (int i = 0; i < EF_DEMO_ACCOUNTS; i++) ef_hex(hex[i], d.kp[i].pub.b, EF_PUB_SIZE);
    json_t *doc = json_pack("{s:s, s:I, s:[{s:s, s:s}], s:[{s:s,s:s,s:s},{s:s,s:s,s:s},{s:s,s:s,s:s}],"
                            " s:{s:I, s:I}}",
                            "chain_id", EF_CHAIN_ID, "time_ms", (json_int_t)ef_now_wall_ms() - 1000,
                            "validators", "pub", hex[0], "domain", "local",
                            "members", "pub", hex[1], "domain", "local", "name", "alice",
                            "pub", hex[2], "domain", "local", "name", "bob",
                            "pub", hex[3], "domain", "local", "name", "carol",
                            "balances", hex[1], (json_int_t)1000, hex[2], (json_int_t)500);
    char *text = json_dumps(doc, JSON_INDENT(2));
    json_decref(doc);
    snprintf(path, sizeof path, "%s/genesis.json", dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fputc('\n', f);
        fclose(f);
    }
    ef_genesis g;
    char err[256];
    rc = ef_genesis_parse(&g, text, strlen(text), err, sizeof err);
    free(text);
    if (rc) {
        fprintf(stderr, "edgefed chain: %s\n", err);
        goto out;
    }
    rc = ef_store_init_genesis(d.s, &g);
    ef_genesis_free(&g);
    if (rc) {
        fprintf(stderr, "edgefed chain: genesis: %s\n", ef_strerror(rc));
        goto out;
    }
    printf("genesis written to %s; keys in %s/keys\n", path, dir);
    if ((rc = ef_demo_run(&d))) goto out;
    ef_chain_print(&d);
    status = 0;
out:
    ef_store_close(d.s);
    return status;
}
