/* fuzz_prov_args.c: libFuzzer target for the prov contract's record arguments.
 * Input: byte 0 picks the method, byte 1 the sender (one of 8 registered keys or
 * an outsider), the rest is the JSON args text, in which "$K0".."$K8" stand for
 * the keys' public keys and a "sig" of "$SIG" for the sender's correct signature
 * of the release, so the fuzzer gets past the signature check. Each input runs
 * as a committed transaction on a ledger that already holds joined things and
 * released data; the result must be OK or one of the contract's documented errors,
 * and a refused call must not add a record (an OK one adds at most one). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/ef_codec.h"
#include "base/ef_fs.h"
#include "contracts/ef_contracts.h"
#include "contracts/ef_prov.h"
#include "ledger/ef_genesis.h"
#include "ledger/ef_ledger.h"
#include "ledger/ef_store.h"
#include "ledger/ef_tx.h"
#include "fz_tx1.h"

#define FZ_CHAIN "fz-prov"
#define FZ_KEYS 9          /* 0..7 members, 8 an outsider */
#define FZ_RESET_EVERY 4000

static ef_store *fz_s;
static ef_keypair fz_val, fz_k[FZ_KEYS];
static char fz_dir[256];
static uint64_t fz_time, fz_runs;
static const char *const fz_methods[] = {"join", "leave", "release", "use", "orchestrate"};

static void fz_key(ef_keypair *kp, uint32_t n)
{
    uint8_t seed[EF_SEED_SIZE] = {0};
    ef_put_u32le(seed, n + 1);
    ef_keypair_from_seed(kp, seed);
}

static int fz_run(const ef_keypair *kp, const char *method, const char *args)
{
    int refused;
    fz_time += 1000;
    int rc = fz_tx1(fz_s, FZ_CHAIN, kp, &fz_val.pub, fz_time, "prov", method, args, &refused);
    /* the outsider is no account of the chain: its tx is not executable at all */
    EF_ASSERT(!refused || (refused == EF_ENOACCOUNT && kp == &fz_k[FZ_KEYS - 1]));
    return rc;
}

static uint64_t fz_records(void)
{
    json_t *st = NULL;
    EF_ASSERT(ef_store_query(fz_s, "prov", "stats", &st) == 0);
    uint64_t n = (uint64_t)json_integer_value(json_object_get(st, "records"));
    json_decref(st);
    return n;
}

static void fz_open(void)
{
    if (fz_s) {
        ef_store_close(fz_s);
        EF_ASSERT(ef_fs_remove_tree(fz_dir) == 0);
    }
    snprintf(fz_dir, sizeof fz_dir, "/tmp/fuzz_prov_args.%d.XXXXXX", (int)getpid());
    EF_ASSERT(mkdtemp(fz_dir));
    char hex[65];
    json_t *members = json_array();
    for (int i = 0; i < FZ_KEYS - 1; i++) {
        ef_hex(hex, fz_k[i].pub.b, EF_PUB_SIZE);
        json_array_append_new(members, json_pack("{s:s, s:s}", "pub", hex, "domain", "d0"));
    }
    ef_hex(hex, fz_val.pub.b, EF_PUB_SIZE);
    json_t *doc = json_pack("{s:s, s:I, s:[{s:s, s:s}], s:o}", "chain_id", FZ_CHAIN, "time_ms", (json_int_t)1000,
                            "validators", "pub", hex, "domain", "d0", "members", members);
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
    /* a device d0 (key 1), a container c0 on it (key 2), a left device gone (key 3),
     * a released datum x0 by c0 */
    char a[600], k0[65], k1[65], k2[65], k3[65], sig[129], hh[65];
    ef_hex(k0, fz_k[0].pub.b, EF_PUB_SIZE);
    ef_hex(k1, fz_k[1].pub.b, EF_PUB_SIZE);
    ef_hex(k2, fz_k[2].pub.b, EF_PUB_SIZE);
    ef_hex(k3, fz_k[3].pub.b, EF_PUB_SIZE);
    snprintf(a, sizeof a, "{\"id\":\"d0\",\"kind\":\"device\",\"owner\":\"%s\",\"key\":\"%s\"}", k0, k1);
    EF_ASSERT(fz_run(&fz_k[1], "join", a) == 0);
    snprintf(a, sizeof a, "{\"id\":\"c0\",\"kind\":\"container\",\"owner\":\"%s\",\"key\":\"%s\",\"host\":\"d0\"}", k0, k2);
    EF_ASSERT(fz_run(&fz_k[2], "join", a) == 0);
    snprintf(a, sizeof a, "{\"id\":\"gone\",\"kind\":\"device\",\"owner\":\"%s\",\"key\":\"%s\"}", k0, k3);
    EF_ASSERT(fz_run(&fz_k[3], "join", a) == 0);
    EF_ASSERT(fz_run(&fz_k[3], "leave", "{\"id\":\"gone\"}") == 0);
    ef_hash h;
    ef_prov_blob_hash(&h, "v", 1);
    ef_hex(hh, h.b, EF_HASH_SIZE);
    EF_ASSERT(ef_prov_data_sign(sig, &fz_k[2], FZ_CHAIN, "x0", "a0", "c0", &h, 1, "text/plain") == 0);
    snprintf(a, sizeof a, "{\"entity\":\"x0\",\"activity\":\"a0\",\"producer\":\"c0\",\"hash\":\"%s\",\"size\":1,"
             "\"media_type\":\"text/plain\",\"sig\":\"%s\"}", hh, sig);
    EF_ASSERT(fz_run(&fz_k[2], "release", a) == 0);
}

/* Replaces "$K0".."$K8" by the keys' hex. */
static char *fz_subst(const char *in, size_t n)
{
    size_t cap = n * 22 + 1, o = 0;
    char *out = malloc(cap);
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '$' && i + 2 < n + 0 && in[i + 1] == 'K' && in[i + 2] >= '0' && in[i + 2] < '0' + FZ_KEYS) {
            ef_hex(out + o, fz_k[in[i + 2] - '0'].pub.b, EF_PUB_SIZE);
            o += 2 * EF_PUB_SIZE;
            i += 2;
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = 0;
    return out;
}

/* For a release with "sig":"$SIG": the sender's signature of the given fields. */
static char *fz_sign(char *text, const ef_keypair *kp)
{
    json_t *j = json_loads(text, 0, NULL);
    const char *sig = json_string_value(json_object_get(j, "sig"));
    if (!j || !sig || strcmp(sig, "$SIG")) {
        json_decref(j);
        return text;
    }
    const char *ent = json_string_value(json_object_get(j, "entity")),
               *act = json_string_value(json_object_get(j, "activity")),
               *prod = json_string_value(json_object_get(j, "producer")),
               *media = json_string_value(json_object_get(j, "media_type")),
               *hx = json_string_value(json_object_get(j, "hash"));
    json_t *size = json_object_get(j, "size");
    ef_hash h;
    char s[129];
    if (ent && act && prod && media && hx && json_is_integer(size) && ef_unhex(h.b, EF_HASH_SIZE, hx) == 0 &&
        ef_prov_data_sign(s, kp, FZ_CHAIN, ent, act, prod, &h, (uint64_t)json_integer_value(size), media) == 0) {
        json_object_set_new(j, "sig", json_string(s));
        char *t = json_dumps(j, JSON_COMPACT);
        if (t) {
            free(text);
            text = t;
        }
    }
    json_decref(j);
    return text;
}

static void fz_cleanup(void)
{
    if (!fz_s) return;
    ef_store_close(fz_s);
    fz_s = NULL;
    if (ef_fs_remove_tree(fz_dir)) fprintf(stderr, "fuzz_prov_args: cannot remove %s\n", fz_dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        EF_ASSERT(ef_crypto_init() == 0);
        uint8_t seed[EF_SEED_SIZE];
        memset(seed, 0x55, sizeof seed);
        ef_keypair_from_seed(&fz_val, seed);
        for (int i = 0; i < FZ_KEYS; i++) fz_key(&fz_k[i], (uint32_t)(100 + i));
        init = 1;
        atexit(fz_cleanup);
    }
    if (size < 2 || size > 4096) return 0;
    if (!fz_s || ++fz_runs % FZ_RESET_EVERY == 0) fz_open();
    const char *method = fz_methods[data[0] % EF_ARRAY_LEN(fz_methods)];
    const ef_keypair *kp = &fz_k[data[1] % FZ_KEYS];
    if (memchr(data + 2, 0, size - 2)) return 0;   /* args are text */
    char *args = fz_subst((const char *)data + 2, size - 2);
    if (!args) return 0;
    args = fz_sign(args, kp);
    if (strlen(args) > EF_TX_ARGS_MAX) {
        free(args);
        return 0;
    }
    uint64_t before = fz_records();
    int rc = fz_run(kp, method, args);
    uint64_t after = fz_records();
    free(args);
    static const int ok[] = {0, EF_ENOACCOUNT, EF_EARGS, EF_EPERM, EF_ENOTJOINED, EF_ENOTRELEASED, EF_ENOIDENT, EF_EBADSIG,
                             EF_EEXIST, EF_ESTATE};
    bool known = false;
    for (size_t i = 0; i < EF_ARRAY_LEN(ok); i++) known |= rc == ok[i];
    if (!known) {
        fprintf(stderr, "prov.%s: unexpected result %s\n", method, ef_errname(rc));
        EF_ASSERT(known);
    }
    EF_ASSERT(after == before || (rc == 0 && after == before + 1));
    return 0;
}
