/* test_anchor.c: the anchor contract through the real store and executor, fed with
 * headers of simulated domains (their own Ed25519 keys, real certificates made
 * with ledger/ef_cert.h) and of a real domain chain (a second store whose blocks
 * carry certificates of its validators): registration rights, every refused
 * checkpoint with its own code and nothing changed, rotations through
 * next_vset_hash, freezing on conflicting certified headers, unfreezing by more
 * than 2/3 of the federation's validators, a seeded random run of several
 * domains with rotations and equivocating committees checked against a reference
 * model, and cross-domain proofs (ledger/ef_proof.h) checked by another contract
 * through ef_anchor_verify_proof: valid ones pass, every altered byte fails, an
 * unanchored header fails, another domain fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "api/ef_api.h"
#include "api/ef_api_store.h"
#include "base/ef_fs.h"
#include "contracts/ef_anchor.h"
#include "contracts/ef_contracts.h"
#include "ledger/ef_cert.h"
#include "ledger/ef_genesis.h"
#include "ledger/ef_ledger.h"
#include "ledger/ef_proof.h"
#include "ledger/ef_store.h"
#include "ledger/ef_tx.h"

/* ------------------------------------------------------------------ */
/* a probe contract: checks proofs through ef_anchor_verify_proof        */

static int hex_arg(const json_t *args, const char *f, uint8_t **out, size_t *n)
{
    const char *s = json_string_value(json_object_get(args, f));
    if (!s || strlen(s) % 2) return EF_EARGS;
    *n = strlen(s) / 2;
    *out = malloc(*n ? *n : 1);
    if (ef_unhex(*out, *n, s)) {
        free(*out);
        return EF_EARGS;
    }
    return 0;
}

/* check {domain, proof}: the tx result is ef_anchor_verify_proof's code. */
static int probe_check(ef_ctx *ctx, const json_t *args)
{
    uint8_t *p;
    size_t n;
    ef_proof pf;
    const char *dom = json_string_value(json_object_get(args, "domain"));
    if (!dom || hex_arg(args, "proof", &p, &n)) return EF_EARGS;
    int rc = ef_anchor_verify_proof(ctx, dom, p, n, &pf);
    if (rc == 0) {
        json_t *ev = json_pack("{s:I, s:I, s:s}", "height", (json_int_t)pf.hdr.height, "code", (json_int_t)pf.code,
                               "method", pf.tx_dec.method);
        rc = ef_ctx_emit(ctx, "proven", ev);
        json_decref(ev);
    }
    free(p);
    return rc;
}

/* flips {domain, proof}: the proof verifies, and no proof with one byte of it
 * changed (xor 0x01, then xor 0x80) does; EF_EINVAL (event "passed" {index}) if
 * one does. Also every truncation fails. */
static int probe_flips(ef_ctx *ctx, const json_t *args)
{
    uint8_t *p;
    size_t n;
    ef_proof pf;
    const char *dom = json_string_value(json_object_get(args, "domain"));
    if (!dom || hex_arg(args, "proof", &p, &n)) return EF_EARGS;
    int rc = ef_anchor_verify_proof(ctx, dom, p, n, &pf);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        static const uint8_t masks[] = {0x01, 0x80};
        for (size_t m = 0; m < 2 && rc == 0; m++) {
            p[i] ^= masks[m];
            if (ef_anchor_verify_proof(ctx, dom, p, n, &pf) == 0) {
                json_t *ev = json_pack("{s:I}", "index", (json_int_t)i);
                ef_ctx_emit(ctx, "passed", ev);
                json_decref(ev);
                rc = EF_EINVAL;
            }
            p[i] ^= masks[m];
        }
    }
    for (size_t l = 0; rc == 0 && l < n; l += 7)
        if (ef_anchor_verify_proof(ctx, dom, p, l, &pf) == 0) rc = EF_EINVAL;
    free(p);
    return rc;
}

static const ef_method probe_methods[] = {{"check", probe_check}, {"flips", probe_flips}};
static const ef_contract probe_contract = {.name = "probe", .methods = probe_methods, .methods_len = 2};

/* ------------------------------------------------------------------ */
/* the federation chain: 3 validators (co0..co2) and one member          */

#define F_CHAIN "fed-test"
#define F_NVAL 3
#define F_MEMBER 3
#define F_NACC 4
#define F_BATCH_MAX 64

typedef struct fchain {
    char dir[256];
    ef_store *s;
    const ef_contract *table[EF_STORE_CONTRACTS_MAX];
    ef_keypair kp[F_NACC];
    char hex[F_NACC][2 * EF_PUB_SIZE + 1];
    uint64_t nonce[F_NACC];
    uint64_t now_ms;
    uint8_t *enc[F_BATCH_MAX];
    size_t len[F_BATCH_MAX];
    size_t n;
    int code[F_BATCH_MAX];
    char *events[F_BATCH_MAX];
} fchain;

static void t_tmpdir(char *dir, size_t cap, const char *what)
{
    const char *tmp = getenv("EF_TEST_TMP");
    if (!tmp) tmp = "/tmp";
    char mk[300];
    snprintf(mk, sizeof mk, "mkdir -p '%s'", tmp);
    assert_int_equal(system(mk), 0);
    snprintf(dir, cap, "%s/%s-%d-XXXXXX", tmp, what, (int)getpid());
    assert_non_null(mkdtemp(dir));
}

static void t_key(ef_keypair *kp, uint8_t a, uint8_t b)
{
    uint8_t seed[EF_SEED_SIZE] = {0};
    seed[0] = a;
    seed[1] = b;
    ef_keypair_from_seed(kp, seed);
}

/* A store from a genesis with the given validators (keys, power 1) and members. */
static ef_store *t_store(const char *dir, const char *chain, const ef_contract *const *table, size_t table_len,
                         const ef_keypair *vals, size_t nval, const ef_keypair *members, size_t nmem)
{
    char hex[2 * EF_PUB_SIZE + 1];
    json_t *g = json_pack("{s:s, s:I, s:[], s:[], s:{}}", "chain_id", chain, "time_ms", (json_int_t)1000,
                          "validators", "members", "balances");
    for (size_t i = 0; i < nval; i++) {
        char dom[16];
        snprintf(dom, sizeof dom, "co%zu", i);
        ef_hex(hex, vals[i].pub.b, EF_PUB_SIZE);
        json_array_append_new(json_object_get(g, "validators"), json_pack("{s:s, s:s}", "pub", hex, "domain", dom));
        json_object_set_new(json_object_get(g, "balances"), hex, json_integer(1000000));
    }
    for (size_t i = 0; i < nmem; i++) {
        char name[16];
        snprintf(name, sizeof name, "dev%zu", i);
        ef_hex(hex, members[i].pub.b, EF_PUB_SIZE);
        json_array_append_new(json_object_get(g, "members"),
                              json_pack("{s:s, s:s, s:s}", "pub", hex, "domain", "co0", "name", name));
        json_object_set_new(json_object_get(g, "balances"), hex, json_integer(1000000));
    }
    char *text = json_dumps(g, JSON_COMPACT);
    json_decref(g);
    ef_genesis gen;
    char err[200] = "";
    int rc = ef_genesis_parse(&gen, text, strlen(text), err, sizeof err);
    if (rc) fprintf(stderr, "genesis: %s\n", err);
    assert_int_equal(rc, 0);
    free(text);
    ef_store *s;
    assert_int_equal(ef_store_open(&s, dir, &(ef_store_opts){.contracts = table, .contracts_len = table_len,
                                                             .no_sync = true}),
                     0);
    assert_int_equal(ef_store_init_genesis(s, &gen), 0);
    ef_genesis_free(&gen);
    return s;
}

static void f_open(fchain *c)
{
    memset(c, 0, sizeof *c);
    assert_int_equal(ef_crypto_init(), 0);
    t_tmpdir(c->dir, sizeof c->dir, "anchortest");
    for (int i = 0; i < F_NACC; i++) {
        t_key(&c->kp[i], (uint8_t)(i + 1), 0xa7);
        ef_hex(c->hex[i], c->kp[i].pub.b, EF_PUB_SIZE);
    }
    size_t n = 0;
    for (size_t i = 0; i < ef_contracts_builtin_len; i++) c->table[n++] = ef_contracts_builtin[i];
    c->table[n++] = &probe_contract;
    c->s = t_store(c->dir, F_CHAIN, c->table, n, c->kp, F_NVAL, &c->kp[F_MEMBER], 1);
    c->now_ms = 2000;
}

static void f_clear(fchain *c)
{
    for (size_t i = 0; i < F_BATCH_MAX; i++) {
        free(c->events[i]);
        c->events[i] = NULL;
    }
}

static void f_close(fchain *c)
{
    f_clear(c);
    ef_store_close(c->s);
    assert_int_equal(ef_fs_remove_tree(c->dir), 0);
}

/* Queues method of contract with args (a JSON object, stolen). */
static void f_add(fchain *c, int who, const char *contract, const char *method, json_t *args)
{
    char *text = json_dumps(args, JSON_COMPACT);
    json_decref(args);
    assert_non_null(text);
    assert_true(c->n < F_BATCH_MAX);
    ef_tx t;
    memset(&t, 0, sizeof t);
    snprintf(t.chain_id, sizeof t.chain_id, "%s", F_CHAIN);
    t.sender = c->kp[who].pub;
    t.nonce = c->nonce[who]++;
    snprintf(t.contract, sizeof t.contract, "%s", contract);
    snprintf(t.method, sizeof t.method, "%s", method);
    t.args = (const uint8_t *)text;
    t.args_len = strlen(text);
    assert_true(t.args_len <= EF_TX_ARGS_MAX);
    assert_int_equal(ef_tx_sign(&t, &c->kp[who]), 0);
    ef_wr w;
    ef_wr_init(&w);
    assert_int_equal(ef_tx_encode(&w, &t), 0);
    c->enc[c->n] = ef_wr_take(&w, &c->len[c->n]);
    c->n++;
    free(text);
}

static void f_commit(fchain *c)
{
    ef_txbuf cand[F_BATCH_MAX];
    int st[F_BATCH_MAX];
    for (size_t i = 0; i < c->n; i++) cand[i] = (ef_txbuf){c->enc[i], c->len[i]};
    uint8_t *blk;
    size_t blen;
    assert_int_equal(ef_ledger_propose(c->s, cand, c->n, c->now_ms, &c->kp[0].pub, NULL, st, &blk, &blen), 0);
    for (size_t i = 0; i < c->n; i++) assert_int_equal(st[i], 0);
    assert_int_equal(ef_ledger_commit(c->s, blk, blen, NULL, 0), 0);
    free(blk);
    c->now_ms += 1000;
    f_clear(c);
    for (size_t i = 0; i < c->n; i++) {
        ef_hash h;
        ef_tx_loc loc = {0};
        ef_tx_hash_enc(&h, c->enc[i], c->len[i]);
        assert_int_equal(ef_store_tx_lookup(c->s, &h, &loc), 0);
        c->code[i] = loc.code;
        c->events[i] = loc.events_json;
        free(c->enc[i]);
    }
    c->n = 0;
}

static int f_tx(fchain *c, int who, const char *method, json_t *args)
{
    f_add(c, who, "anchor", method, args);
    f_commit(c);
    return c->code[0];
}

static bool f_has_event(fchain *c, size_t i, const char *name)
{
    return c->events[i] && strstr(c->events[i], name) != NULL;
}

static json_t *f_query(fchain *c, const char *fmt, ...)
{
    char path[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    json_t *out = NULL;
    int rc = ef_store_query(c->s, "anchor", path, &out);
    if (rc) return NULL;
    return out;
}

/* ------------------------------------------------------------------ */
/* simulated domains: headers and certificates with real keys            */

#define S_POOL 12

typedef struct sdom {
    char name[16];
    char chain[32];
    ef_keypair pool[S_POOL];
    ef_hash genesis;
    /* epochs: committee e signs heights [start[e], start[e+1]) */
    ef_vset sets[64];
    uint64_t start[64];
    int nsets;
    /* the honest chain: hash of each height (0 = genesis) */
    ef_hash hash[1024];
    uint64_t built;                 /* highest height built */
} sdom;

static const ef_vset *s_set(const sdom *d, uint64_t h)
{
    int e = 0;
    while (e + 1 < d->nsets && d->start[e + 1] <= h) e++;
    return &d->sets[e];
}

static const ef_keypair *s_key(const sdom *d, const ef_pub *pub)
{
    for (int i = 0; i < S_POOL; i++)
        if (!memcmp(d->pool[i].pub.b, pub->b, EF_PUB_SIZE)) return &d->pool[i];
    return NULL;
}

/* A committee of the pool members whose bit is in mask, powers from pw. */
static void s_committee(ef_vset *vs, const sdom *d, unsigned mask, const uint64_t *pw)
{
    ef_vset_init(vs);
    for (int i = 0; i < S_POOL; i++)
        if (mask & (1u << i)) assert_int_equal(ef_vset_add(vs, &d->pool[i].pub, pw ? pw[i] : 1), 0);
}

static void s_init(sdom *d, int id, unsigned mask0)
{
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "dom%d", id);
    snprintf(d->chain, sizeof d->chain, "chain-%d", id);
    for (int i = 0; i < S_POOL; i++) t_key(&d->pool[i], (uint8_t)(i + 1), (uint8_t)(0x40 + id));
    ef_hash_tagged(&d->genesis, EF_TAG_BLOCK, d->chain, strlen(d->chain));
    d->hash[0] = d->genesis;
    s_committee(&d->sets[0], d, mask0, NULL);
    d->start[0] = 1;
    d->nsets = 1;
}

/* Adds a rotation: committee vs signs from height h on (h after every start). */
static void s_rotate(sdom *d, uint64_t h, const ef_vset *vs)
{
    assert_true(d->nsets < 64 && h > d->start[d->nsets - 1] && h > d->built + 1);
    d->sets[d->nsets] = *vs;
    d->start[d->nsets] = h;
    d->nsets++;
}

/* The header of height h; alt != 0 gives a conflicting one (another state). */
static void s_header(sdom *d, uint64_t h, uint32_t alt, ef_block_header *hd)
{
    memset(hd, 0, sizeof *hd);
    hd->version = EF_BLOCK_VERSION;
    snprintf(hd->chain_id, sizeof hd->chain_id, "%s", d->chain);
    hd->height = h;
    hd->time_ms = 1000 + h * 1000;
    while (d->built + 1 < h) {     /* the honest chain up to h - 1 */
        ef_block_header p;
        s_header(d, d->built + 1, 0, &p);
    }
    hd->prev_hash = d->hash[h - 1];
    uint8_t seed[12];
    ef_put_u64le(seed, h);
    ef_put_u32le(seed + 8, alt);
    ef_hash_tagged(&hd->state_hash, EF_TAG_STATE, seed, sizeof seed);
    ef_hash_tagged(&hd->txs_root, EF_TAG_MERKLE_NODE, seed, sizeof seed);
    ef_hash_tagged(&hd->results_root, EF_TAG_RESULT, seed, sizeof seed);
    ef_vset_hash(&hd->vset_hash, s_set(d, h));
    ef_vset_hash(&hd->next_vset_hash, s_set(d, h + 1));
    hd->proposer = s_set(d, h)->v[0].pub;
    if (alt == 0 && h == d->built + 1) {
        assert_true(h < 1024);
        ef_block_header_hash(&d->hash[h], hd);
        d->built = h;
    }
}

/* A certificate of hash at height h by the members of vs whose index bit is in
 * mask, signing with keys of `signers` (normally vs itself). */
static void s_cert(const sdom *d, const ef_vset *vs, const ef_vset *signers, uint64_t mask, uint64_t h,
                   const ef_hash *hash, uint8_t **out, size_t *n)
{
    ef_cert *c = calloc(1, sizeof *c);
    c->height = h;
    c->round = 0;
    c->value_id = *hash;
    for (uint32_t i = 0; i < vs->len; i++) {
        if (!(mask & (1ull << i))) continue;
        const ef_keypair *kp = s_key(d, &signers->v[i < signers->len ? i : 0].pub);
        assert_non_null(kp);
        c->sigs[c->count].index = (uint16_t)i;
        ef_cert_sign(&c->sigs[c->count].sig, kp, d->chain, h, 0, hash);
        c->count++;
    }
    assert_int_equal(ef_cert_encode(c, out, n), 0);
    free(c);
}

static json_t *hexj(const void *p, size_t n)
{
    char *h = malloc(2 * n + 1);
    ef_hex(h, p, n);
    json_t *j = json_string(h);
    free(h);
    return j;
}

static json_t *vset_hexj(const ef_vset *vs)
{
    ef_wr w;
    ef_wr_init(&w);
    assert_int_equal(ef_vset_encode(&w, vs), 0);
    json_t *j = hexj(w.buf, w.len);
    ef_wr_free(&w);
    return j;
}

static json_t *hdr_hexj(const ef_block_header *h)
{
    ef_wr w;
    ef_wr_init(&w);
    assert_int_equal(ef_block_header_encode(&w, h), 0);
    json_t *j = hexj(w.buf, w.len);
    ef_wr_free(&w);
    return j;
}

static json_t *register_args(const char *name, const char *chain, const ef_hash *genesis, const ef_vset *vs,
                             const ef_pub *admin)
{
    return json_pack("{s:s, s:s, s:o, s:o, s:o}", "name", name, "chain_id", chain, "genesis_hash",
                     hexj(genesis->b, EF_HASH_SIZE), "committee", vset_hexj(vs), "admin", hexj(admin->b, EF_PUB_SIZE));
}

static uint64_t all_mask(const ef_vset *vs)
{
    return vs->len >= 64 ? ~0ull : (1ull << vs->len) - 1;
}

/* Checkpoint args for height h of d (alt header if alt), certified by the
 * members of the committee in mask; with the committee of h+1 if with_next. */
static json_t *ckpt_args(sdom *d, uint64_t h, uint32_t alt, uint64_t mask, bool with_next)
{
    ef_block_header hd;
    ef_hash hash;
    uint8_t *cert;
    size_t cn;
    s_header(d, h, alt, &hd);
    ef_block_header_hash(&hash, &hd);
    const ef_vset *vs = s_set(d, h);
    s_cert(d, vs, vs, mask, h, &hash, &cert, &cn);
    json_t *a = json_pack("{s:s, s:o, s:o}", "domain", d->name, "header", hdr_hexj(&hd), "cert", hexj(cert, cn));
    free(cert);
    if (with_next) json_object_set_new(a, "committee", vset_hexj(s_set(d, h + 1)));
    return a;
}

static void d_expect(fchain *c, const char *name, uint64_t height, bool frozen)
{
    json_t *j = f_query(c, "domain/%s", name);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "height")), height);
    assert_int_equal(json_is_true(json_object_get(j, "frozen")), frozen);
    json_decref(j);
}

static const char *d_str(fchain *c, const char *name, const char *field, char *buf, size_t cap)
{
    json_t *j = f_query(c, "domain/%s", name);
    assert_non_null(j);
    snprintf(buf, cap, "%s", json_string_value(json_object_get(j, field)));
    json_decref(j);
    return buf;
}

/* ------------------------------------------------------------------ */

static void test_register_rights(void **state)
{
    (void)state;
    fchain c;
    sdom d;
    f_open(&c);
    s_init(&d, 1, 0xf);
    /* a member is not a federation validator */
    assert_int_equal(f_tx(&c, F_MEMBER, "register_domain", register_args(d.name, d.chain, &d.genesis, &d.sets[0],
                                                                          &c.kp[F_MEMBER].pub)),
                     EF_ENOTVAL);
    assert_null(f_query(&c, "domain/%s", d.name));
    /* bad args: unknown field, bad name, empty committee */
    json_t *a = register_args(d.name, d.chain, &d.genesis, &d.sets[0], &c.kp[0].pub);
    json_object_set_new(a, "extra", json_integer(1));
    assert_int_equal(f_tx(&c, 0, "register_domain", a), EF_EARGS);
    assert_int_equal(f_tx(&c, 0, "register_domain", register_args("Bad Name", d.chain, &d.genesis, &d.sets[0],
                                                                   &c.kp[0].pub)),
                     EF_EARGS);
    a = register_args(d.name, d.chain, &d.genesis, &d.sets[0], &c.kp[0].pub);
    json_object_set_new(a, "committee", json_string("00000000"));
    assert_int_equal(f_tx(&c, 0, "register_domain", a), EF_EINVAL);
    /* a validator registers; name and chain id are unique */
    assert_int_equal(f_tx(&c, 0, "register_domain", register_args(d.name, d.chain, &d.genesis, &d.sets[0],
                                                                   &c.kp[0].pub)),
                     0);
    assert_true(f_has_event(&c, 0, "domain_registered"));
    d_expect(&c, d.name, 0, false);
    assert_int_equal(f_tx(&c, 1, "register_domain", register_args(d.name, "other-chain", &d.genesis, &d.sets[0],
                                                                   &c.kp[1].pub)),
                     EF_EEXIST);
    assert_int_equal(f_tx(&c, 1, "register_domain", register_args("other", d.chain, &d.genesis, &d.sets[0],
                                                                   &c.kp[1].pub)),
                     EF_EEXIST);
    json_t *l = f_query(&c, "domains");
    assert_int_equal(json_array_size(l), 1);
    json_decref(l);
    f_close(&c);
}

static void test_checkpoint_rejections(void **state)
{
    (void)state;
    fchain c;
    sdom d, other;
    f_open(&c);
    s_init(&d, 2, 0xf);       /* committee of 4, power 1 each: quorum 3 */
    s_init(&other, 3, 0xf);   /* another domain's keys */
    ef_vset rot;
    s_committee(&rot, &d, 0xf0, NULL);
    s_rotate(&d, 6, &rot);    /* pool 4..7 sign from height 6 */
    assert_int_equal(f_tx(&c, 0, "register_domain", register_args(d.name, d.chain, &d.genesis, &d.sets[0],
                                                                   &c.kp[0].pub)),
                     0);
    char hh[80], ch[80];
    d_str(&c, d.name, "committee_hash", ch, sizeof ch);

    /* unregistered domain */
    json_t *a = ckpt_args(&d, 1, 0, 0xf, false);
    json_object_set_new(a, "domain", json_string("nosuch"));
    assert_int_equal(f_tx(&c, 0, "checkpoint", a), EF_ENOTFOUND);
    /* another chain's header under this domain's name */
    a = ckpt_args(&other, 1, 0, 0xf, false);
    json_object_set_new(a, "domain", json_string(d.name));
    assert_int_equal(f_tx(&c, 0, "checkpoint", a), EF_ECHAIN);
    /* under 2/3: 2 of 4 */
    assert_int_equal(f_tx(&c, 0, "checkpoint", ckpt_args(&d, 2, 0, 0x3, false)), EF_ECERT);
    /* the wrong committee's certificate: signed by another domain's keys under
     * this committee's indices */
    {
        ef_block_header hd;
        ef_hash hash;
        uint8_t *cert;
        size_t cn;
        s_header(&d, 2, 0, &hd);
        ef_block_header_hash(&hash, &hd);
        sdom *od = &other;
        /* certificate made with other's keys for d's header */
        ef_cert *ce = calloc(1, sizeof *ce);
        ce->height = 2;
        ce->value_id = hash;
        for (int i = 0; i < 4; i++) {
            ce->sigs[i].index = (uint16_t)i;
            ef_cert_sign(&ce->sigs[i].sig, &od->pool[i], d.chain, 2, 0, &hash);
        }
        ce->count = 4;
        assert_int_equal(ef_cert_encode(ce, &cert, &cn), 0);
        free(ce);
        a = json_pack("{s:s, s:o, s:o}", "domain", d.name, "header", hdr_hexj(&hd), "cert", hexj(cert, cn));
        free(cert);
        assert_int_equal(f_tx(&c, 0, "checkpoint", a), EF_EBADSIG);
    }
    /* a certificate for another height / another header */
    {
        json_t *a2 = ckpt_args(&d, 2, 0, 0xf, false);
        json_t *a3 = ckpt_args(&d, 3, 0, 0xf, false);
        json_object_set(a2, "cert", json_object_get(a3, "cert"));
        json_decref(a3);
        assert_int_equal(f_tx(&c, 0, "checkpoint", a2), EF_EHEIGHT);
    }
    /* bad hex, truncated header */
    a = ckpt_args(&d, 2, 0, 0xf, false);
    json_object_set_new(a, "header", json_string("zz"));
    assert_int_equal(f_tx(&c, 0, "checkpoint", a), EF_EARGS);
    a = ckpt_args(&d, 2, 0, 0xf, false);
    json_object_set_new(a, "header", json_string("0200"));
    assert_int_equal(f_tx(&c, 0, "checkpoint", a), EF_ETRUNC);
    d_expect(&c, d.name, 0, false);   /* nothing changed */

    /* a good one at 3 (3 of 4 sign), then stale (2) and duplicate (3) */
    assert_int_equal(f_tx(&c, 0, "checkpoint", ckpt_args(&d, 3, 0, 0x7, false)), 0);
    assert_true(f_has_event(&c, 0, "checkpoint"));
    d_expect(&c, d.name, 3, false);
    assert_int_equal(f_tx(&c, 0, "checkpoint", ckpt_args(&d, 2, 0, 0xf, false)), EF_ESTALE);
    assert_int_equal(f_tx(&c, 0, "checkpoint", ckpt_args(&d, 3, 0, 0xf, false)), EF_ERECORDED);
    /* a committee passed where the header names no change */
    assert_int_equal(f_tx(&c, 0, "checkpoint", ckpt_args(&d, 4, 0, 0xf, true)), EF_EARGS);
    d_expect(&c, d.name, 3, false);

    /* skipped rotation: 7 is signed by the new committee, which the anchor was
     * never shown */
    assert_int_equal(f_tx(&c, 0, "checkpoint", ckpt_args(&d, 7, 0, 0xf, false)), EF_EROTATION);
    /* the rotation header (5: next_vset_hash = new committee) without the
     * committee, with a wrong one, then right */
    assert_int_equal(f_tx(&c, 0, "checkpoint", ckpt_args(&d, 5, 0, 0xf, false)), EF_ECOMMITTEE);
    a = ckpt_args(&d, 5, 0, 0xf, false);
    json_object_set_new(a, "committee", vset_hexj(&d.sets[0]));
    assert_int_equal(f_tx(&c, 0, "checkpoint", a), EF_ECOMMITTEE);
    d_expect(&c, d.name, 3, false);
    assert_string_equal(d_str(&c, d.name, "committee_hash", hh, sizeof hh), ch);
    assert_int_equal(f_tx(&c, 0, "checkpoint", ckpt_args(&d, 5, 0, 0xf, true)), 0);
    d_expect(&c, d.name, 5, false);
    assert_string_not_equal(d_str(&c, d.name, "committee_hash", hh, sizeof hh), ch);
    /* now the old committee's certificate for 7 fails, the new one's passes */
    {
        ef_block_header hd;
        ef_hash hash;
        uint8_t *cert;
        size_t cn;
        s_header(&d, 7, 0, &hd);
        ef_block_header_hash(&hash, &hd);
        /* old keys (pool 0..3) at the new committee's indices */
        s_cert(&d, &rot, &d.sets[0], 0xf, 7, &hash, &cert, &cn);
        a = json_pack("{s:s, s:o, s:o}", "domain", d.name, "header", hdr_hexj(&hd), "cert", hexj(cert, cn));
        free(cert);
        assert_int_equal(f_tx(&c, 0, "checkpoint", a), EF_EBADSIG);
    }
    assert_int_equal(f_tx(&c, 0, "checkpoint", ckpt_args(&d, 7, 0, 0xe, false)), 0);
    d_expect(&c, d.name, 7, false);
    json_t *k = f_query(&c, "checkpoints/%s", d.name);
    assert_int_equal(json_array_size(k), 4);   /* 0 (genesis), 3, 5, 7 */
    json_decref(k);
    k = f_query(&c, "checkpoints/%s/5", d.name);
    assert_non_null(k);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(k, "header"), "height")), 5);
    json_decref(k);
    f_close(&c);
}

static void test_freeze_and_unfreeze(void **state)
{
    (void)state;
    fchain c;
    sdom d;
    f_open(&c);
    s_init(&d, 4, 0xf);
    assert_int_equal(f_tx(&c, 0, "register_domain", register_args(d.name, d.chain, &d.genesis, &d.sets[0],
                                                                   &c.kp[0].pub)),
                     0);
    assert_int_equal(f_tx(&c, 1, "checkpoint", ckpt_args(&d, 2, 0, 0xf, false)), 0);
    /* a conflicting header for 2 certified by a minority is not evidence */
    assert_int_equal(f_tx(&c, 1, "checkpoint", ckpt_args(&d, 2, 1, 0x3, false)), EF_ECERT);
    d_expect(&c, d.name, 2, false);
    /* unfreeze of a domain not frozen */
    assert_int_equal(f_tx(&c, 0, "unfreeze", json_pack("{s:s}", "domain", d.name)), EF_ESTATE);
    /* certified by the committee: frozen, evidence kept */
    assert_int_equal(f_tx(&c, F_MEMBER, "checkpoint", ckpt_args(&d, 2, 1, 0xf, false)), 0);
    assert_true(f_has_event(&c, 0, "domain_frozen"));
    d_expect(&c, d.name, 2, true);
    json_t *ev = f_query(&c, "evidence/%s", d.name);
    assert_int_equal(json_array_size(ev), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ev, 0), "height")), 2);
    json_decref(ev);
    /* frozen: checkpoints refused */
    assert_int_equal(f_tx(&c, 1, "checkpoint", ckpt_args(&d, 3, 0, 0xf, false)), EF_EFROZEN);
    /* unfreeze: not by a member, once per validator, and 2 of 3 (not > 2/3) do not */
    assert_int_equal(f_tx(&c, F_MEMBER, "unfreeze", json_pack("{s:s}", "domain", d.name)), EF_ENOTVAL);
    assert_int_equal(f_tx(&c, 0, "unfreeze", json_pack("{s:s}", "domain", d.name)), 0);
    assert_int_equal(f_tx(&c, 0, "unfreeze", json_pack("{s:s}", "domain", d.name)), EF_EDUP);
    assert_int_equal(f_tx(&c, 1, "unfreeze", json_pack("{s:s}", "domain", d.name)), 0);
    assert_false(f_has_event(&c, 0, "domain_unfrozen"));
    d_expect(&c, d.name, 2, true);
    assert_int_equal(f_tx(&c, 2, "unfreeze", json_pack("{s:s}", "domain", d.name)), 0);
    assert_true(f_has_event(&c, 0, "domain_unfrozen"));
    d_expect(&c, d.name, 2, false);
    /* tracking resumes from the anchored header */
    assert_int_equal(f_tx(&c, 1, "checkpoint", ckpt_args(&d, 3, 0, 0xf, false)), 0);
    d_expect(&c, d.name, 3, false);

    /* two conflicting headers of a new height in one block: the second freezes */
    f_add(&c, 0, "anchor", "checkpoint", ckpt_args(&d, 4, 0, 0xf, false));
    f_add(&c, 1, "anchor", "checkpoint", ckpt_args(&d, 4, 7, 0xf, false));
    f_commit(&c);
    assert_int_equal(c.code[0], 0);
    assert_int_equal(c.code[1], 0);
    assert_true(f_has_event(&c, 1, "domain_frozen"));
    d_expect(&c, d.name, 4, true);
    /* the second freeze needs its own votes */
    for (int v = 0; v < F_NVAL; v++) assert_int_equal(f_tx(&c, v, "unfreeze", json_pack("{s:s}", "domain", d.name)), 0);
    d_expect(&c, d.name, 4, false);

    /* report: two certified headers of a height not yet anchored */
    {
        json_t *a = ckpt_args(&d, 6, 1, 0xf, false), *b = ckpt_args(&d, 6, 2, 0xf, false);
        json_t *r = json_pack("{s:s, s:O, s:O, s:O, s:O}", "domain", d.name, "header_a", json_object_get(a, "header"),
                              "cert_a", json_object_get(a, "cert"), "header_b", json_object_get(b, "header"),
                              "cert_b", json_object_get(b, "cert"));
        json_t *same = json_pack("{s:s, s:O, s:O, s:O, s:O}", "domain", d.name, "header_a",
                                 json_object_get(a, "header"), "cert_a", json_object_get(a, "cert"), "header_b",
                                 json_object_get(a, "header"), "cert_b", json_object_get(a, "cert"));
        json_t *weak = ckpt_args(&d, 6, 2, 0x1, false);
        json_t *rw = json_pack("{s:s, s:O, s:O, s:O, s:O}", "domain", d.name, "header_a",
                               json_object_get(a, "header"), "cert_a", json_object_get(a, "cert"), "header_b",
                               json_object_get(weak, "header"), "cert_b", json_object_get(weak, "cert"));
        json_decref(a);
        json_decref(b);
        json_decref(weak);
        assert_int_equal(f_tx(&c, F_MEMBER, "report", same), EF_EINVAL);
        assert_int_equal(f_tx(&c, F_MEMBER, "report", rw), EF_ECERT);
        d_expect(&c, d.name, 4, false);
        assert_int_equal(f_tx(&c, F_MEMBER, "report", r), 0);
        d_expect(&c, d.name, 4, true);
    }
    ev = f_query(&c, "evidence/%s", d.name);
    assert_int_equal(json_array_size(ev), 3);
    json_decref(ev);

    /* a certified header of a higher height whose time is not after the anchored
     * one's (anchored: 4, at 5000 ms): frozen too */
    for (int v = 0; v < F_NVAL; v++) assert_int_equal(f_tx(&c, v, "unfreeze", json_pack("{s:s}", "domain", d.name)), 0);
    d_expect(&c, d.name, 4, false);
    {
        ef_block_header hd;
        ef_hash hash;
        uint8_t *cert;
        size_t cn;
        s_header(&d, 7, 0, &hd);
        hd.time_ms = 5000;
        ef_block_header_hash(&hash, &hd);
        s_cert(&d, &d.sets[0], &d.sets[0], 0xf, 7, &hash, &cert, &cn);
        json_t *a = json_pack("{s:s, s:o, s:o}", "domain", d.name, "header", hdr_hexj(&hd), "cert", hexj(cert, cn));
        free(cert);
        assert_int_equal(f_tx(&c, F_MEMBER, "checkpoint", a), 0);
        assert_true(f_has_event(&c, 0, "domain_frozen"));
    }
    d_expect(&c, d.name, 4, true);
    ev = f_query(&c, "evidence/%s", d.name);
    assert_int_equal(json_array_size(ev), 4);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ev, 3), "height")), 7);
    json_decref(ev);
    f_close(&c);
}

/* ------------------------------------------------------------------ */
/* randomized: several domains, rotations, equivocation, a reference model */

typedef struct model {
    uint64_t height;
    ef_hash hash;
    ef_hash committee;       /* tracked */
    uint64_t since;
    bool frozen;
    uint64_t freezes;
    int votes;               /* unfreeze votes for the current freeze */
    bool voted[F_NVAL];
    ef_hash anchored[1024];  /* zero = not anchored */
    ef_hash anchored_by[1024];
} model;

static uint64_t rnd_state;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

static uint64_t power_of(const ef_vset *vs, uint64_t mask)
{
    uint64_t p = 0;
    for (uint32_t i = 0; i < vs->len; i++)
        if (mask & (1ull << i)) p += vs->v[i].power;
    return p;
}

/* What the contract must answer to a checkpoint of (h, alt, mask, with_next). */
static int model_ckpt(model *m, sdom *d, uint64_t h, uint32_t alt, uint64_t mask, bool with_next, bool apply)
{
    ef_block_header hd;
    ef_hash hash, sh;
    s_header(d, h, alt, &hd);
    ef_block_header_hash(&hash, &hd);
    const ef_vset *vs = s_set(d, h);
    ef_vset_hash(&sh, vs);
    bool quorum = power_of(vs, mask) >= ef_vset_quorum(vs);
    if (m->frozen) return EF_EFROZEN;
    if (h <= m->height) {
        if (ef_hash_is_zero(&m->anchored[h])) return EF_ESTALE;
        if (ef_hash_eq(&m->anchored[h], &hash)) return EF_ERECORDED;
        if (with_next) return EF_EARGS;
        if (!ef_hash_eq(&m->anchored_by[h], &sh)) return EF_EROTATION;
        if (!quorum) return EF_ECERT;
        if (apply) {
            m->frozen = true;
            m->freezes++;
            m->votes = 0;
            memset(m->voted, 0, sizeof m->voted);
        }
        return 0;
    }
    if (!ef_hash_eq(&sh, &m->committee)) return EF_EROTATION;
    if (!quorum) return EF_ECERT;
    bool rot = !ef_hash_eq(&hd.next_vset_hash, &m->committee);
    if (rot && !with_next) return EF_ECOMMITTEE;
    if (!rot && with_next) return EF_EARGS;
    if (apply) {
        if (rot) {
            m->committee = hd.next_vset_hash;
            m->since = h + 1;
        }
        m->height = h;
        m->hash = hash;
        m->anchored[h] = hash;
        m->anchored_by[h] = sh;
    }
    return 0;
}

/* What the contract must answer to a report of two headers (alt a, alt b) of
 * height h certified by masks ma, mb. */
static int model_report(model *m, sdom *d, uint64_t h, uint64_t ma, uint64_t mb, bool apply)
{
    ef_hash sh;
    const ef_vset *vs = s_set(d, h);
    ef_vset_hash(&sh, vs);
    if (m->frozen) return EF_EFROZEN;
    if (!ef_hash_eq(&sh, &m->committee)) return EF_EROTATION;
    if (power_of(vs, ma) < ef_vset_quorum(vs) || power_of(vs, mb) < ef_vset_quorum(vs)) return EF_ECERT;
    if (h < m->since) return EF_EINVAL;
    if (apply) {
        m->frozen = true;
        m->freezes++;
        m->votes = 0;
        memset(m->voted, 0, sizeof m->voted);
    }
    return 0;
}

static json_t *report_args(sdom *d, uint64_t h, uint64_t ma, uint64_t mb)
{
    json_t *a = ckpt_args(d, h, 11, ma, false), *b = ckpt_args(d, h, 12, mb, false);
    json_t *r = json_pack("{s:s, s:O, s:O, s:O, s:O}", "domain", d->name, "header_a", json_object_get(a, "header"),
                          "cert_a", json_object_get(a, "cert"), "header_b", json_object_get(b, "header"), "cert_b",
                          json_object_get(b, "cert"));
    json_decref(a);
    json_decref(b);
    return r;
}

static int counts[64], g_freezes, g_rotations, g_reports_ok;

static void random_run(uint64_t seed, int steps)
{
    enum { ND = 3 };
    fchain c;
    f_open(&c);
    static sdom d[ND];
    static model m[ND];
    rnd_state = seed ? seed : 1;
    fprintf(stderr, "test_random_domains: seed %llu (EF_TEST_SEED=%llu replays it)\n", (unsigned long long)seed,
            (unsigned long long)seed);
    for (int i = 0; i < ND; i++) {
        s_init(&d[i], 10 + i, 0xf);
        /* rotations: every 4..11 heights, a committee of 4..7 pool members with
         * powers 1..3 */
        uint64_t h = 1;
        while (d[i].nsets < 40) {
            h += 4 + rnd() % 8;
            if (h >= 900) break;
            unsigned mask = 0;
            int size = 4 + (int)(rnd() % 4);
            while (__builtin_popcount(mask) < size) mask |= 1u << (rnd() % S_POOL);
            uint64_t pw[S_POOL];
            for (int k = 0; k < S_POOL; k++) pw[k] = 1 + rnd() % 3;
            ef_vset vs;
            s_committee(&vs, &d[i], mask, pw);
            s_rotate(&d[i], h, &vs);
        }
        memset(&m[i], 0, sizeof m[i]);
        ef_vset_hash(&m[i].committee, &d[i].sets[0]);
        m[i].since = 1;
        m[i].anchored[0] = d[i].genesis;
        assert_int_equal(f_tx(&c, i % F_NVAL, "register_domain",
                              register_args(d[i].name, d[i].chain, &d[i].genesis, &d[i].sets[0], &c.kp[0].pub)),
                         0);
    }
    for (int step = 0; step < steps; step++) {
        /* a block of 1..4 transactions, each checked against the model in order */
        int nb = 1 + (int)(rnd() % 4);
        int want[8];
        int dom[8];
        size_t q = 0;
        for (int t = 0; t < nb; t++) {
            int i = (int)(rnd() % ND);
            model *mm = &m[i];
            sdom *dd = &d[i];
            int kind = (int)(rnd() % 100);
            if (mm->frozen && kind < 60) {
                /* a validator votes to unfreeze */
                int v = (int)(rnd() % F_NVAL);
                want[q] = mm->voted[v] ? EF_EDUP : 0;
                if (!mm->voted[v]) {
                    mm->voted[v] = true;
                    if (++mm->votes == F_NVAL) mm->frozen = false;   /* 3 of 3 > 2/3; 2 of 3 is not */
                }
                dom[q++] = i;
                f_add(&c, v, "anchor", "unfreeze", json_pack("{s:s}", "domain", dd->name));
                continue;
            }
            if (kind >= 96) {
                /* an equivocating committee reported: two headers of a height ahead */
                uint64_t h = mm->height + 1 + rnd() % 3;
                const ef_vset *vs = s_set(dd, h);
                uint64_t ma = all_mask(vs), mb = all_mask(vs);
                if (rnd() % 4 == 0) mb &= rnd();
                if (mb == 0) mb = 1;
                want[q] = model_report(mm, dd, h, ma, mb, true);
                g_reports_ok += want[q] == 0;
                dom[q++] = i;
                f_add(&c, (int)(rnd() % F_NACC), "anchor", "report", report_args(dd, h, ma, mb));
                continue;
            }
            uint64_t h;
            uint32_t alt = 0;
            if (kind < 8 && mm->height > 0) {
                h = 1 + rnd() % mm->height;          /* stale, duplicate or conflict */
                if (rnd() % 2) alt = 1 + (uint32_t)(rnd() % 3);   /* equivocation */
            } else {
                h = mm->height + 1 + rnd() % 4;      /* forward, maybe across a rotation */
                if (rnd() % 10 == 0) alt = 5;        /* a fork at a new height */
            }
            if (h >= 1000) continue;
            const ef_vset *vs = s_set(dd, h);
            uint64_t mask = all_mask(vs);
            if (rnd() % 6 == 0) mask &= rnd();       /* maybe under 2/3 */
            if (mask == 0) mask = 1;
            ef_block_header hd;
            s_header(dd, h, 0, &hd);
            bool rot_here = !ef_hash_eq(&hd.vset_hash, &hd.next_vset_hash);
            bool with_next = rot_here ? rnd() % 8 != 0 : rnd() % 20 == 0;
            want[q] = model_ckpt(mm, dd, h, alt, mask, with_next, true);
            dom[q++] = i;
            f_add(&c, (int)(rnd() % F_NACC), "anchor", "checkpoint", ckpt_args(dd, h, alt, mask, with_next));
        }
        size_t queued = c.n;
        assert_int_equal(queued, q);
        f_commit(&c);
        for (size_t t = 0; t < queued; t++) {
            if (c.code[t] != want[t])
                fprintf(stderr, "step %d tx %zu (domain %d): got %s want %s\n", step, t, dom[t],
                        ef_errname(c.code[t]), ef_errname(want[t]));
            assert_int_equal(c.code[t], want[t]);
            counts[-want[t]]++;
        }
        for (int i = 0; i < ND; i++) {
            json_t *j = f_query(&c, "domain/%s", d[i].name);
            char hx[65];
            assert_int_equal(json_integer_value(json_object_get(j, "height")), m[i].height);
            assert_int_equal(json_is_true(json_object_get(j, "frozen")), m[i].frozen);
            assert_int_equal(json_integer_value(json_object_get(j, "freezes")), m[i].freezes);
            assert_int_equal(json_integer_value(json_object_get(j, "committee_since")), m[i].since);
            ef_hex(hx, m[i].committee.b, EF_HASH_SIZE);
            assert_string_equal(json_string_value(json_object_get(j, "committee_hash")), hx);
            if (m[i].height) {
                ef_hex(hx, m[i].hash.b, EF_HASH_SIZE);
                assert_string_equal(json_string_value(json_object_get(j, "header_hash")), hx);
            }
            json_decref(j);
        }
    }
    for (int i = 0; i < ND; i++) {
        g_freezes += (int)m[i].freezes;
        g_rotations += m[i].since > 1;
    }
    f_close(&c);
}

static void test_random_domains(void **state)
{
    (void)state;
    memset(counts, 0, sizeof counts);
    g_freezes = g_rotations = g_reports_ok = 0;
    const char *seed_env = getenv("EF_TEST_SEED");
    if (seed_env) {
        random_run(strtoull(seed_env, NULL, 10), 400);
    } else {
        for (uint64_t k = 0; k < 3; k++) random_run(0x5eed1234u + k * 7919, 200);
    }
    fprintf(stderr, "outcomes: ok %d, stale %d, duplicate %d, rotation %d, committee %d, cert %d, frozen %d, "
                    "dup vote %d, args %d, not a pair %d\n",
            counts[0], counts[-EF_ESTALE], counts[-EF_ERECORDED], counts[-EF_EROTATION], counts[-EF_ECOMMITTEE],
            counts[-EF_ECERT], counts[-EF_EFROZEN], counts[-EF_EDUP], counts[-EF_EARGS], counts[-EF_EINVAL]);
    /* every path was taken */
    assert_true(counts[0] > 0 && counts[-EF_ESTALE] > 0 && counts[-EF_EROTATION] > 0 && counts[-EF_ECERT] > 0 &&
                counts[-EF_EFROZEN] > 0 && counts[-EF_ECOMMITTEE] > 0 && counts[-EF_ERECORDED] > 0);
    fprintf(stderr, "freezes %d (by report %d), domains that rotated %d\n", g_freezes, g_reports_ok, g_rotations);
    assert_true(g_freezes > 0 && g_rotations > 0 && g_reports_ok > 0);
}

/* ------------------------------------------------------------------ */
/* proofs from a real domain chain                                      */

typedef struct dchain {
    char dir[256];
    ef_store *s;
    ef_keypair val[5];           /* 0..3 the genesis validators, 4 a candidate */
    ef_keypair user;
    uint64_t nonce;              /* the user's */
    uint64_t vnonce[5];
    uint64_t now_ms;
    uint8_t *enc[8];             /* the queued transactions */
    size_t len[8];
    size_t n;
    int code[8];                 /* results of the last block */
} dchain;

static void d_open(dchain *dc, const char *chain, uint8_t tag)
{
    memset(dc, 0, sizeof *dc);
    t_tmpdir(dc->dir, sizeof dc->dir, "anchordom");
    for (int i = 0; i < 5; i++) t_key(&dc->val[i], (uint8_t)(i + 1), tag);
    t_key(&dc->user, 9, tag);
    dc->s = t_store(dc->dir, chain, ef_contracts_builtin, ef_contracts_builtin_len, dc->val, 4, &dc->user, 1);
    dc->now_ms = 5000;
}

/* Queues a transaction of kp (nonce given); its hash in *out if not NULL. */
static void d_queue(dchain *dc, const ef_keypair *kp, uint64_t nonce, const char *contract, const char *method,
                    const char *args, ef_hash *out)
{
    ef_store_info info;
    assert_int_equal(ef_store_info_get(dc->s, &info), 0);
    assert_true(dc->n < 8);
    ef_tx t;
    memset(&t, 0, sizeof t);
    snprintf(t.chain_id, sizeof t.chain_id, "%s", info.chain_id);
    t.sender = kp->pub;
    t.nonce = nonce;
    snprintf(t.contract, sizeof t.contract, "%s", contract);
    snprintf(t.method, sizeof t.method, "%s", method);
    t.args = (const uint8_t *)args;
    t.args_len = strlen(args);
    assert_int_equal(ef_tx_sign(&t, kp), 0);
    ef_wr w;
    ef_wr_init(&w);
    assert_int_equal(ef_tx_encode(&w, &t), 0);
    dc->enc[dc->n] = ef_wr_take(&w, &dc->len[dc->n]);
    if (out) ef_tx_hash_enc(out, dc->enc[dc->n], dc->len[dc->n]);
    dc->n++;
}

/* Commits the queued transactions as one block with a certificate of every
 * member of the set that signs its height (round 0). */
static void d_commit(dchain *dc)
{
    ef_store_info info;
    assert_int_equal(ef_store_info_get(dc->s, &info), 0);
    ef_txbuf cand[8];
    for (size_t i = 0; i < dc->n; i++) cand[i] = (ef_txbuf){dc->enc[i], dc->len[i]};
    uint8_t *blk;
    size_t blen;
    int st[8];
    assert_int_equal(ef_ledger_propose(dc->s, cand, dc->n, dc->now_ms, &dc->val[0].pub, NULL, st, &blk, &blen), 0);
    for (size_t i = 0; i < dc->n; i++) assert_int_equal(st[i], 0);
    ef_hash bh;
    assert_int_equal(ef_block_hash_enc(&bh, blk, blen), 0);
    ef_vset vs;
    uint64_t h = info.height + 1;
    assert_int_equal(ef_store_vset(dc->s, h, &vs), 0);
    ef_cert *ce = calloc(1, sizeof *ce);
    ce->height = h;
    ce->value_id = bh;
    for (uint32_t i = 0; i < vs.len; i++) {
        const ef_keypair *kp = NULL;
        for (int k = 0; k < 5; k++)
            if (!memcmp(dc->val[k].pub.b, vs.v[i].pub.b, EF_PUB_SIZE)) kp = &dc->val[k];
        assert_non_null(kp);
        ce->sigs[ce->count].index = (uint16_t)i;
        ef_cert_sign(&ce->sigs[ce->count].sig, kp, info.chain_id, h, 0, &bh);
        ce->count++;
    }
    uint8_t *cert;
    size_t cn;
    assert_int_equal(ef_cert_encode(ce, &cert, &cn), 0);
    free(ce);
    assert_int_equal(ef_ledger_commit(dc->s, blk, blen, cert, cn), 0);
    free(cert);
    free(blk);
    for (size_t i = 0; i < dc->n; i++) {
        ef_hash th;
        ef_tx_loc loc = {0};
        ef_tx_hash_enc(&th, dc->enc[i], dc->len[i]);
        assert_int_equal(ef_store_tx_lookup(dc->s, &th, &loc), 0);
        dc->code[i] = loc.code;
        free(loc.events_json);
        free(dc->enc[i]);
    }
    dc->n = 0;
    dc->now_ms += 1000;
}

/* A block of n bank transfers by the user; the hashes of its txs in out. */
static void d_block(dchain *dc, int n, ef_hash *out)
{
    char to[65];
    ef_hex(to, dc->val[0].pub.b, EF_PUB_SIZE);
    for (int i = 0; i < n; i++) {
        char args[200];
        snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":%d}", to, 10 + i);
        d_queue(dc, &dc->user, dc->nonce++, "bank", "transfer", args, &out[i]);
    }
    d_commit(dc);
}

static void d_close(dchain *dc)
{
    ef_store_close(dc->s);
    assert_int_equal(ef_fs_remove_tree(dc->dir), 0);
}

/* checkpoint args of block h of a real domain chain. */
static json_t *d_ckpt(dchain *dc, const char *name, uint64_t h)
{
    ef_block_header hd;
    uint8_t *cert;
    size_t cn;
    assert_int_equal(ef_store_header(dc->s, h, &hd), 0);
    assert_int_equal(ef_store_cert(dc->s, h, &cert, &cn), 0);
    json_t *a = json_pack("{s:s, s:o, s:o}", "domain", name, "header", hdr_hexj(&hd), "cert", hexj(cert, cn));
    free(cert);
    return a;
}

static int f_probe(fchain *c, const char *method, const char *domain, const uint8_t *p, size_t n)
{
    f_add(c, F_MEMBER, "probe", method, json_pack("{s:s, s:o}", "domain", domain, "proof", hexj(p, n)));
    f_commit(c);
    return c->code[0];
}

static void d_register(fchain *c, dchain *dc, const char *name)
{
    ef_store_info info;
    ef_vset vs;
    assert_int_equal(ef_store_info_get(dc->s, &info), 0);
    assert_int_equal(ef_store_vset(dc->s, 1, &vs), 0);
    assert_int_equal(f_tx(c, 0, "register_domain", register_args(name, info.chain_id, &info.genesis_hash, &vs,
                                                                  &c->kp[0].pub)),
                     0);
}

static void test_proof_codec(void **state)
{
    (void)state;
    dchain dc;
    ef_hash txh[5];
    assert_int_equal(ef_crypto_init(), 0);
    d_open(&dc, "dom-codec", 0x51);
    d_block(&dc, 5, txh);
    uint8_t *p;
    size_t n;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(ef_proof_build(dc.s, &txh[i], i % 2 == 0, &p, &n), 0);
        const char *seed_out = getenv("EF_PROOF_SEED_OUT");   /* the fuzz corpus seed */
        if (seed_out && i == 0) {
            FILE *f = fopen(seed_out, "wb");
            assert_non_null(f);
            assert_int_equal(fwrite(p, 1, n, f), n);
            fclose(f);
        }
        ef_proof pf;
        assert_int_equal(ef_proof_decode(&pf, p, n), 0);
        assert_int_equal(ef_proof_check(&pf), 0);
        assert_true(ef_hash_eq(&pf.tx_hash, &txh[i]));
        assert_int_equal(pf.tx_path.index, (uint64_t)i);
        assert_int_equal(pf.tx_path.count, 5);
        assert_int_equal(pf.code, 0);
        assert_string_equal(pf.tx_dec.method, "transfer");
        assert_int_equal(pf.cert_len > 0, i % 2 == 0);
        /* re-encoding gives the same bytes */
        uint8_t *q;
        size_t qn;
        assert_int_equal(ef_proof_encode(&q, &qn, pf.hdr_enc, pf.hdr_len, pf.tx, pf.tx_len, &pf.tx_path, pf.code,
                                         pf.events, pf.events_len, &pf.res_path, pf.cert, pf.cert_len),
                         0);
        assert_int_equal(qn, n);
        assert_memory_equal(q, p, n);
        free(q);
        /* standalone verification with the domain's validator set */
        ef_vset vs;
        assert_int_equal(ef_store_vset(dc.s, 1, &vs), 0);
        assert_int_equal(ef_proof_verify(&pf, p, n, &vs, i % 2 == 0), 0);
        json_t *j = ef_proof_to_json(&pf);
        assert_int_equal(json_integer_value(json_object_get(j, "height")), 1);
        json_decref(j);
        if (i % 2) assert_int_equal(ef_proof_verify(&pf, p, n, &vs, true), EF_ECERT);
        /* truncations and a trailing byte */
        for (size_t l = 0; l < n; l++) assert_int_not_equal(ef_proof_decode(&pf, p, l), 0);
        uint8_t *ext = malloc(n + 1);
        memcpy(ext, p, n);
        ext[n] = 0;
        assert_int_equal(ef_proof_decode(&pf, ext, n + 1), EF_ETRAILING);
        free(ext);
        free(p);
    }
    ef_hash none = {{0}};
    assert_int_equal(ef_proof_build(dc.s, &none, false, &p, &n), EF_ENOTFOUND);
    d_close(&dc);
}

static void test_proofs_through_anchor(void **state)
{
    (void)state;
    fchain c;
    dchain a, b;
    ef_hash ta[3], tb[3], ta2[2];
    f_open(&c);
    d_open(&a, "dom-a", 0x61);
    d_open(&b, "dom-b", 0x62);
    d_block(&a, 3, ta);   /* height 1 */
    d_block(&a, 2, ta2);  /* height 2 */
    d_block(&b, 3, tb);
    d_register(&c, &a, "doma");
    d_register(&c, &b, "domb");
    /* anchor dom-a at 1 only */
    assert_int_equal(f_tx(&c, 0, "checkpoint", d_ckpt(&a, "doma", 1)), 0);
    d_expect(&c, "doma", 1, false);

    uint8_t *p, *pc, *p2, *p2c, *pb;
    size_t n, nc, n2, n2c, nb;
    assert_int_equal(ef_proof_build(a.s, &ta[1], false, &p, &n), 0);      /* anchored, no cert */
    assert_int_equal(ef_proof_build(a.s, &ta[2], true, &pc, &nc), 0);     /* anchored, with cert */
    assert_int_equal(ef_proof_build(a.s, &ta2[0], false, &p2, &n2), 0);   /* unanchored, no cert */
    assert_int_equal(ef_proof_build(a.s, &ta2[1], true, &p2c, &n2c), 0);  /* unanchored, certified */
    assert_int_equal(ef_proof_build(b.s, &tb[0], true, &pb, &nb), 0);

    /* valid ones */
    assert_int_equal(f_probe(&c, "check", "doma", p, n), 0);
    assert_true(f_has_event(&c, 0, "proven"));
    assert_int_equal(f_probe(&c, "check", "doma", pc, nc), 0);
    assert_int_equal(f_probe(&c, "check", "doma", p2c, n2c), 0);   /* certified by the tracked committee */
    /* an unanchored header without a certificate */
    assert_int_equal(f_probe(&c, "check", "doma", p2, n2), EF_EUNANCHORED);
    /* another domain: dom-b's proof under doma, doma's under domb */
    assert_int_equal(f_probe(&c, "check", "doma", pb, nb), EF_ECHAIN);
    assert_int_equal(f_probe(&c, "check", "domb", p, n), EF_ECHAIN);
    assert_int_equal(f_probe(&c, "check", "domb", pb, nb), 0);     /* certified by domb's committee */
    assert_int_equal(f_probe(&c, "check", "nosuch", p, n), EF_ENOTFOUND);
    /* every altered byte fails, with and without a certificate */
    assert_int_equal(f_probe(&c, "flips", "doma", p, n), 0);
    assert_int_equal(f_probe(&c, "flips", "doma", pc, nc), 0);
    assert_int_equal(f_probe(&c, "flips", "doma", p2c, n2c), 0);

    /* dom-a's block 2 anchored: the plain proof now verifies */
    assert_int_equal(f_tx(&c, 0, "checkpoint", d_ckpt(&a, "doma", 2)), 0);
    assert_int_equal(f_probe(&c, "check", "doma", p2, n2), 0);
    /* a header that is not the anchored one at its height: a proof from a fork
     * of dom-a (same chain id, another block 1) */
    {
        dchain fork;
        ef_hash tf[1];
        d_open(&fork, "dom-a", 0x63);   /* other validators */
        d_block(&fork, 1, tf);
        uint8_t *pf;
        size_t nf;
        assert_int_equal(ef_proof_build(fork.s, &tf[0], false, &pf, &nf), 0);
        assert_int_equal(f_probe(&c, "check", "doma", pf, nf), EF_EUNANCHORED);
        free(pf);
        assert_int_equal(ef_proof_build(fork.s, &tf[0], true, &pf, &nf), 0);
        assert_int_equal(f_probe(&c, "check", "doma", pf, nf), EF_EUNANCHORED);   /* committee unknown */
        free(pf);
        d_close(&fork);
    }
    /* the CLI: `edgefed proof get` from dom-a's API, `edgefed proof verify`
     * against the federation's API */
    const char *bin = getenv("EDGEFED");
    if (bin) {
        ef_api *fapi = NULL, *dapi = NULL;
        ef_api_backend fbe, dbe;
        ef_api_store_backend(&fbe, c.s);
        ef_api_store_backend(&dbe, a.s);
        assert_int_equal(ef_api_start(&fapi, &(ef_api_config){.listen = "127.0.0.1:0"}, &fbe), 0);
        assert_int_equal(ef_api_start(&dapi, &(ef_api_config){.listen = "127.0.0.1:0"}, &dbe), 0);
        char cmd[1024], file[300], bad[300], hh[65];
        snprintf(file, sizeof file, "%s/proof.json", c.dir);
        snprintf(bad, sizeof bad, "%s/bad.hex", c.dir);
        ef_hex(hh, ta2[1].b, EF_HASH_SIZE);
        snprintf(cmd, sizeof cmd, "'%s' proof get %s --api http://127.0.0.1:%u --out '%s'", bin, hh,
                 ef_api_port(dapi), file);
        assert_int_equal(system(cmd), 0);
        snprintf(cmd, sizeof cmd, "'%s' proof verify --federation http://127.0.0.1:%u --domain doma '%s' >/dev/null",
                 bin, ef_api_port(fapi), file);
        assert_int_equal(system(cmd), 0);
        /* from stdin, as hex */
        FILE *f = fopen(bad, "w");
        assert_non_null(f);
        for (size_t i = 0; i < n2c; i++) fprintf(f, "%02x", p2c[i]);
        fclose(f);
        snprintf(cmd, sizeof cmd, "'%s' proof verify --federation http://127.0.0.1:%u --domain doma - < '%s' >/dev/null",
                 bin, ef_api_port(fapi), bad);
        assert_int_equal(system(cmd), 0);
        /* another domain, one altered byte, an unknown domain: exit 1 */
        snprintf(cmd, sizeof cmd, "'%s' proof verify --federation http://127.0.0.1:%u --domain domb '%s' 2>/dev/null",
                 bin, ef_api_port(fapi), file);
        assert_int_equal(WEXITSTATUS(system(cmd)), 1);
        snprintf(cmd, sizeof cmd, "'%s' proof verify --federation http://127.0.0.1:%u --domain nosuch '%s' 2>/dev/null",
                 bin, ef_api_port(fapi), file);
        assert_int_equal(WEXITSTATUS(system(cmd)), 1);
        p2c[n2c / 2] ^= 1;
        f = fopen(bad, "w");
        for (size_t i = 0; i < n2c; i++) fprintf(f, "%02x", p2c[i]);
        fclose(f);
        p2c[n2c / 2] ^= 1;
        snprintf(cmd, sizeof cmd, "'%s' proof verify --federation http://127.0.0.1:%u --domain doma '%s' 2>/dev/null",
                 bin, ef_api_port(fapi), bad);
        assert_int_equal(WEXITSTATUS(system(cmd)), 1);
        /* usage errors: exit 2 */
        snprintf(cmd, sizeof cmd, "'%s' proof verify --domain doma '%s' 2>/dev/null", bin, file);
        assert_int_equal(WEXITSTATUS(system(cmd)), 2);
        snprintf(cmd, sizeof cmd, "'%s' proof verify --federation x --domain doma --what '%s' 2>/dev/null", bin, file);
        assert_int_equal(WEXITSTATUS(system(cmd)), 2);
        ef_api_stop(fapi);
        ef_api_stop(dapi);
    }
    free(p);
    free(pc);
    free(p2);
    free(p2c);
    free(pb);
    d_close(&a);
    d_close(&b);
    f_close(&c);
}

/* A real domain chain rotates its validator set (the registry admits a fifth
 * validator: decided in block 2, it signs from block 4); the anchor follows it
 * only through the checkpoint of block 3, whose next_vset_hash names the new set,
 * and then takes block 4 certified by the new set; a proof of a tx in block 5,
 * certified by the new set and not anchored, verifies. */
static void test_real_rotation(void **state)
{
    (void)state;
    fchain c;
    dchain a;
    f_open(&c);
    d_open(&a, "dom-r", 0x64);
    d_register(&c, &a, "domr");
    char args[256], cand[65];
    ef_hex(cand, a.val[4].pub.b, EF_PUB_SIZE);
    snprintf(args, sizeof args, "{\"account\":\"%s\",\"domain\":\"dx\",\"role\":\"validator\",\"action\":\"add\"}",
             cand);
    d_queue(&a, &a.val[0], a.vnonce[0]++, "registry", "propose_validator", args, NULL);
    d_commit(&a);                                    /* block 1: proposal 1, one vote */
    assert_int_equal(a.code[0], 0);
    d_queue(&a, &a.val[1], a.vnonce[1]++, "registry", "vote_validator", "{\"proposal\":1}", NULL);
    d_queue(&a, &a.val[2], a.vnonce[2]++, "registry", "vote_validator", "{\"proposal\":1}", NULL);
    d_commit(&a);                                    /* block 2: passed */
    assert_int_equal(a.code[0], 0);
    assert_int_equal(a.code[1], 0);
    ef_hash t3[1], t4[1], t5[1];
    d_block(&a, 1, t3);                              /* block 3: old set, next = new set */
    d_block(&a, 1, t4);                              /* block 4: signed by the new set */
    d_block(&a, 1, t5);
    ef_vset old_vs, new_vs;
    assert_int_equal(ef_store_vset(a.s, 3, &old_vs), 0);
    assert_int_equal(ef_store_vset(a.s, 4, &new_vs), 0);
    assert_int_equal(old_vs.len, 4);
    assert_int_equal(new_vs.len, 5);

    assert_int_equal(f_tx(&c, 0, "checkpoint", d_ckpt(&a, "domr", 2)), 0);
    assert_int_equal(f_tx(&c, 0, "checkpoint", d_ckpt(&a, "domr", 4)), EF_EROTATION);   /* skipped */
    assert_int_equal(f_tx(&c, 0, "checkpoint", d_ckpt(&a, "domr", 3)), EF_ECOMMITTEE);  /* no committee */
    json_t *x = d_ckpt(&a, "domr", 3);
    json_object_set_new(x, "committee", vset_hexj(&old_vs));
    assert_int_equal(f_tx(&c, 0, "checkpoint", x), EF_ECOMMITTEE);                      /* the wrong one */
    x = d_ckpt(&a, "domr", 3);
    json_object_set_new(x, "committee", vset_hexj(&new_vs));
    assert_int_equal(f_tx(&c, 0, "checkpoint", x), 0);
    assert_true(f_has_event(&c, 0, "\"rotated\":true"));
    json_t *d = f_query(&c, "domain/domr");
    assert_int_equal(json_integer_value(json_object_get(d, "committee_since")), 4);
    assert_int_equal(json_array_size(json_object_get(d, "committee")), 5);
    json_decref(d);
    assert_int_equal(f_tx(&c, 0, "checkpoint", d_ckpt(&a, "domr", 4)), 0);
    d_expect(&c, "domr", 4, false);

    uint8_t *p;
    size_t n;
    assert_int_equal(ef_proof_build(a.s, &t5[0], true, &p, &n), 0);
    assert_int_equal(f_probe(&c, "check", "domr", p, n), 0);     /* certified by the new set */
    free(p);
    assert_int_equal(ef_proof_build(a.s, &t3[0], true, &p, &n), 0);
    assert_int_equal(f_probe(&c, "check", "domr", p, n), 0);     /* anchored, old set's certificate */
    free(p);
    d_close(&a);
    f_close(&c);
}

/* The ledger's certificate check (moved from consensus so contracts use it): a
 * real certificate of a domain block verifies; bad inputs are errors, never
 * assertions. */
static void test_cert_in_ledger(void **state)
{
    (void)state;
    dchain a;
    ef_hash t[1];
    assert_int_equal(ef_crypto_init(), 0);
    d_open(&a, "dom-c", 0x65);
    d_block(&a, 1, t);
    ef_block_header hd;
    ef_hash bh, other;
    ef_vset vs, empty;
    uint8_t *cert;
    size_t cn;
    assert_int_equal(ef_store_header(a.s, 1, &hd), 0);
    ef_block_header_hash(&bh, &hd);
    assert_int_equal(ef_store_vset(a.s, 1, &vs), 0);
    assert_int_equal(ef_store_cert(a.s, 1, &cert, &cn), 0);
    assert_int_equal(ef_cert_verify(cert, cn, "dom-c", 1, &bh, &vs), 0);
    assert_int_equal(ef_cert_verify(cert, cn, "", 1, &bh, &vs), EF_EINVAL);
    assert_int_equal(ef_cert_verify(cert, cn, "dom-other", 1, &bh, &vs), EF_EBADSIG);
    assert_int_equal(ef_cert_verify(cert, cn, "dom-c", 2, &bh, &vs), EF_EHEIGHT);
    other = bh;
    other.b[0] ^= 1;
    assert_int_equal(ef_cert_verify(cert, cn, "dom-c", 1, &other, &vs), EF_EINVAL);
    ef_vset_init(&empty);
    assert_int_equal(ef_cert_verify(cert, cn, "dom-c", 1, &bh, &empty), EF_EINVAL);
    /* two of four signers are not a quorum */
    ef_cert *c = malloc(sizeof *c);
    assert_int_equal(ef_cert_decode(c, cert, cn), 0);
    c->count = 2;
    uint8_t *c2;
    size_t c2n;
    assert_int_equal(ef_cert_encode(c, &c2, &c2n), 0);
    assert_int_equal(ef_cert_verify(c2, c2n, "dom-c", 1, &bh, &vs), EF_ECERT);
    free(c2);
    free(c);
    free(cert);
    d_close(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_rights),
        cmocka_unit_test(test_checkpoint_rejections),
        cmocka_unit_test(test_freeze_and_unfreeze),
        cmocka_unit_test(test_random_domains),
        cmocka_unit_test(test_proof_codec),
        cmocka_unit_test(test_proofs_through_anchor),
        cmocka_unit_test(test_real_rotation),
        cmocka_unit_test(test_cert_in_ledger),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
