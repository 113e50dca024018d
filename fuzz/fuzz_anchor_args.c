/* fuzz_anchor_args.c: libFuzzer target for the anchor contract's arguments.
 * Input: byte 0 picks the method (register_domain, checkpoint, report, unfreeze),
 * byte 1 the sender (one of 3 federation validators or a member), the rest is the
 * JSON args text, in which placeholders stand for real bytes so that the fuzzer
 * gets past the decoders and signatures: "$H" / "$C" the header of the next height
 * of simulated domain "d" and its certificate (whole committee), "$A" / "$B" a
 * conflicting header of the last anchored height and its certificate, "$X" / "$Y"
 * another header of the next height and its certificate, "$N" the
 * committee of the height after the next (a rotation at height 5), "$V" the
 * initial committee, "$G" a genesis hash, "$K" a key. Each input runs as a
 * committed transaction; the result must be OK or one of the contract's
 * documented errors, and a refused call must leave the domain's record as it was. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/ef_codec.h"
#include "base/ef_fs.h"
#include "contracts/ef_contracts.h"
#include "ledger/ef_cert.h"
#include "ledger/ef_genesis.h"
#include "ledger/ef_ledger.h"
#include "ledger/ef_store.h"
#include "ledger/ef_tx.h"
#include "fz_tx1.h"

#define FZ_CHAIN "fz-anchor"
#define FZ_DCHAIN "fz-domain"
#define FZ_ACC 4            /* 0..2 validators, 3 a member */
#define FZ_POOL 8           /* the domain's keys: 0..3 sign heights < 5, 4..7 from 5 */
#define FZ_ROT 5
#define FZ_RESET_EVERY 3000

static ef_store *fz_s;
static ef_keypair fz_k[FZ_ACC], fz_pool[FZ_POOL];
static char fz_dir[256];
static uint64_t fz_time, fz_runs;
static const char *const fz_methods[] = {"register_domain", "checkpoint", "report", "unfreeze"};

static void fz_key(ef_keypair *kp, uint32_t n, uint8_t tag)
{
    uint8_t seed[EF_SEED_SIZE] = {0};
    ef_put_u32le(seed, n + 1);
    seed[4] = tag;
    ef_keypair_from_seed(kp, seed);
}

static void fz_set(ef_vset *vs, uint64_t h)
{
    ef_vset_init(vs);
    int base = h < FZ_ROT ? 0 : 4;
    for (int i = 0; i < 4; i++) EF_ASSERT(ef_vset_add(vs, &fz_pool[base + i].pub, 1) == 0);
}

static char *fz_hex(const void *p, size_t n)
{
    char *h = malloc(2 * n + 1);
    EF_ASSERT(h);
    ef_hex(h, p, n);
    return h;
}

static char *fz_vset_hex(const ef_vset *vs)
{
    ef_wr w;
    ef_wr_init(&w);
    EF_ASSERT(ef_vset_encode(&w, vs) == 0);
    char *h = fz_hex(w.buf, w.len);
    ef_wr_free(&w);
    return h;
}

/* Header hex and certificate hex of domain height h (alt: a conflicting one). */
static void fz_header(uint64_t h, uint32_t alt, char **hdr, char **cert)
{
    ef_block_header hd;
    ef_vset vs, nx;
    memset(&hd, 0, sizeof hd);
    hd.version = EF_BLOCK_VERSION;
    snprintf(hd.chain_id, sizeof hd.chain_id, "%s", FZ_DCHAIN);
    hd.height = h;
    hd.time_ms = 1000 * h;
    uint8_t seed[12];
    ef_put_u64le(seed, h);
    ef_put_u32le(seed + 8, alt);
    ef_hash_tagged(&hd.state_hash, EF_TAG_STATE, seed, sizeof seed);
    fz_set(&vs, h);
    fz_set(&nx, h + 1);
    ef_vset_hash(&hd.vset_hash, &vs);
    ef_vset_hash(&hd.next_vset_hash, &nx);
    hd.proposer = vs.v[0].pub;
    ef_wr w;
    ef_wr_init(&w);
    EF_ASSERT(ef_block_header_encode(&w, &hd) == 0);
    *hdr = fz_hex(w.buf, w.len);
    ef_wr_free(&w);
    ef_hash hash;
    ef_block_header_hash(&hash, &hd);
    ef_cert *c = calloc(1, sizeof *c);
    EF_ASSERT(c);
    c->height = h;
    c->value_id = hash;
    for (uint32_t i = 0; i < vs.len; i++)
        for (int k = 0; k < FZ_POOL; k++)
            if (!memcmp(fz_pool[k].pub.b, vs.v[i].pub.b, EF_PUB_SIZE)) {
                c->sigs[c->count].index = (uint16_t)i;
                ef_cert_sign(&c->sigs[c->count].sig, &fz_pool[k], FZ_DCHAIN, h, 0, &hash);
                c->count++;
            }
    uint8_t *cb;
    size_t cn;
    EF_ASSERT(ef_cert_encode(c, &cb, &cn) == 0);
    free(c);
    *cert = fz_hex(cb, cn);
    free(cb);
}

static char *fz_domain(void)
{
    json_t *d = NULL;
    if (ef_store_query(fz_s, "anchor", "domain/d", &d)) return NULL;
    char *t = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(d);
    return t;
}

static uint64_t fz_height(void)
{
    json_t *d = NULL;
    if (ef_store_query(fz_s, "anchor", "domain/d", &d)) return 0;
    uint64_t h = (uint64_t)json_integer_value(json_object_get(d, "height"));
    json_decref(d);
    return h;
}

static int fz_run(const ef_keypair *kp, const char *method, const char *args)
{
    int refused;
    fz_time += 1000;
    int rc = fz_tx1(fz_s, FZ_CHAIN, kp, &fz_k[0].pub, fz_time, "anchor", method, args, &refused);
    EF_ASSERT(refused == 0);
    return rc;
}

static void fz_open(void)
{
    if (fz_s) {
        ef_store_close(fz_s);
        EF_ASSERT(ef_fs_remove_tree(fz_dir) == 0);
    }
    snprintf(fz_dir, sizeof fz_dir, "/tmp/fuzz_anchor_args.%d.XXXXXX", (int)getpid());
    EF_ASSERT(mkdtemp(fz_dir));
    char hex[65];
    json_t *vals = json_array();
    for (int i = 0; i < 3; i++) {
        ef_hex(hex, fz_k[i].pub.b, EF_PUB_SIZE);
        json_array_append_new(vals, json_pack("{s:s, s:s}", "pub", hex, "domain", "op"));
    }
    ef_hex(hex, fz_k[3].pub.b, EF_PUB_SIZE);
    json_t *doc = json_pack("{s:s, s:I, s:o, s:[{s:s, s:s}]}", "chain_id", FZ_CHAIN, "time_ms", (json_int_t)1000,
                            "validators", vals, "members", "pub", hex, "domain", "op");
    char *text = json_dumps(doc, 0);
    ef_genesis g;
    char err[200];
    EF_ASSERT(ef_genesis_parse(&g, text, strlen(text), err, sizeof err) == 0);
    EF_ASSERT(ef_store_open(&fz_s, fz_dir, &(ef_store_opts){EF_CONTRACTS_BUILTIN, .no_sync = true}) == 0);
    EF_ASSERT(ef_store_init_genesis(fz_s, &g) == 0);
    ef_genesis_free(&g);
    free(text);
    json_decref(doc);
    fz_time = 1000;
    /* domain d registered, anchored at 1 */
    ef_vset vs;
    fz_set(&vs, 1);
    char *vh = fz_vset_hex(&vs), a[4096], *h, *c;
    ef_hash gh;
    ef_hash_tagged(&gh, EF_TAG_BLOCK, "g", 1);
    char ghx[65], kx[65];
    ef_hex(ghx, gh.b, EF_HASH_SIZE);
    ef_hex(kx, fz_k[0].pub.b, EF_PUB_SIZE);
    snprintf(a, sizeof a, "{\"name\":\"d\",\"chain_id\":\"%s\",\"genesis_hash\":\"%s\",\"committee\":\"%s\",\"admin\":\"%s\"}",
             FZ_DCHAIN, ghx, vh, kx);
    EF_ASSERT(fz_run(&fz_k[0], "register_domain", a) == 0);
    free(vh);
    fz_header(1, 0, &h, &c);
    snprintf(a, sizeof a, "{\"domain\":\"d\",\"header\":\"%s\",\"cert\":\"%s\"}", h, c);
    EF_ASSERT(fz_run(&fz_k[1], "checkpoint", a) == 0);
    free(h);
    free(c);
}

/* Replaces the placeholders (see the top). */
static char *fz_subst(const char *in, size_t n)
{
    uint64_t top = fz_height();
    char *hh = NULL, *hc = NULL, *ah = NULL, *ac = NULL, *xh = NULL, *xc = NULL;
    fz_header(top + 1, 0, &hh, &hc);
    fz_header(top ? top : 1, 9, &ah, &ac);
    fz_header(top + 1, 8, &xh, &xc);
    ef_vset vs, v0;
    fz_set(&vs, top + 2);
    fz_set(&v0, 1);
    char *nx = fz_vset_hex(&vs), *vx = fz_vset_hex(&v0), gx[65], kx[65];
    ef_hash gh;
    ef_hash_tagged(&gh, EF_TAG_BLOCK, "g2", 2);
    ef_hex(gx, gh.b, EF_HASH_SIZE);
    ef_hex(kx, fz_k[1].pub.b, EF_PUB_SIZE);
    struct { char c; const char *v; } map[] = {{'H', hh}, {'C', hc}, {'A', ah}, {'B', ac},
                                               {'N', nx}, {'V', vx}, {'G', gx}, {'K', kx},
                                               {'X', xh}, {'Y', xc}};
    size_t cap = n + 1, o = 0;
    for (size_t i = 0; i + 1 < n; i++)
        if (in[i] == '$') cap += 20000;
    char *out = malloc(cap);
    EF_ASSERT(out);
    for (size_t i = 0; i < n; i++) {
        bool done = false;
        if (in[i] == '$' && i + 1 < n)
            for (size_t k = 0; k < EF_ARRAY_LEN(map) && !done; k++)
                if (in[i + 1] == map[k].c) {
                    size_t l = strlen(map[k].v);
                    memcpy(out + o, map[k].v, l);
                    o += l;
                    i++;
                    done = true;
                }
        if (!done) out[o++] = in[i];
    }
    out[o] = 0;
    free(hh);
    free(hc);
    free(ah);
    free(ac);
    free(xh);
    free(xc);
    free(nx);
    free(vx);
    return out;
}

static void fz_cleanup(void)
{
    if (!fz_s) return;
    ef_store_close(fz_s);
    fz_s = NULL;
    if (ef_fs_remove_tree(fz_dir)) fprintf(stderr, "fuzz_anchor_args: cannot remove %s\n", fz_dir);
}

static bool fz_documented(int rc)
{
    static const int ok[] = {0, EF_EARGS, EF_EINVAL, EF_ENOTFOUND, EF_EFROZEN, EF_ESTALE, EF_ERECORDED,
                             EF_EROTATION, EF_ECOMMITTEE, EF_ECERT, EF_EBADSIG, EF_EHEIGHT, EF_ECHAIN,
                             EF_ETRUNC, EF_ETRAILING, EF_ETOOBIG, EF_ENONCANON, EF_EEXIST, EF_ENOTVAL,
                             EF_ESTATE, EF_EDUP, EF_ELIMIT};
    for (size_t i = 0; i < EF_ARRAY_LEN(ok); i++)
        if (rc == ok[i]) return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        EF_ASSERT(ef_crypto_init() == 0);
        for (uint32_t i = 0; i < FZ_ACC; i++) fz_key(&fz_k[i], i, 0x71);
        for (uint32_t i = 0; i < FZ_POOL; i++) fz_key(&fz_pool[i], i, 0x72);
        fz_open();
        atexit(fz_cleanup);
        init = 1;
    }
    if (size < 2 || size > 8192) return 0;
    if (++fz_runs % FZ_RESET_EVERY == 0) fz_open();
    const char *method = fz_methods[data[0] % EF_ARRAY_LEN(fz_methods)];
    const ef_keypair *kp = &fz_k[data[1] % FZ_ACC];
    if (memchr(data + 2, 0, size - 2)) return 0;   /* an embedded NUL: the text would be cut */
    char *args = fz_subst((const char *)data + 2, size - 2);
    char *before = fz_domain();
    int rc = fz_run(kp, method, args);
    if (rc == 1) {
        free(args);
        free(before);
        return 0;
    }
    if (getenv("FZ_ANCHOR_VERBOSE")) fprintf(stderr, "fuzz_anchor_args: %s -> %s\n", method, ef_errname(rc));
    if (!fz_documented(rc)) {
        fprintf(stderr, "fuzz_anchor_args: %s returned %s for %s\n", method, ef_errname(rc), args);
        EF_ASSERT(0);
    }
    if (rc) {
        char *after = fz_domain();
        EF_ASSERT((!before && !after) || (before && after && !strcmp(before, after)));
        free(after);
    }
    free(before);
    free(args);
    return 0;
}
