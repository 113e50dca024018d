/* test_consensus_bytes.c: golden vectors of the consensus bytes (docs/consensus-bytes.md).
 * The canonical encoding of JSON values (base/ef_cjson.h) is pinned byte for byte,
 * and a fixed genesis plus a fixed block of transactions signed with the key of
 * seed 00..1f is executed through the real ledger and contracts, pinning the tx
 * hashes, the block hash, the results root and the state hash. Any change to the
 * bytes that are hashed fails here loudly; such a change forks the chain and needs
 * a new chain (and new vectors, with the reason in the commit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <lmdb.h>
#include <sodium.h>

#include "base/ef_cjson.h"
#include "contracts/ef_bank.h"
#include "contracts/ef_federation.h"
#include "contracts/ef_registry.h"
#include "ef_test_ledger.h"

/* Compares bytes with a pinned hex string; prints what it got if they differ. */
static void pin(const char *what, const void *p, size_t n, const char *want_hex)
{
    char *got = malloc(2 * n + 1);
    assert_non_null(got);
    ef_hex(got, p, n);
    bool same = !strcmp(got, want_hex);
    if (!same) fprintf(stderr, "%s:\n  got  %s\n  want %s\n", what, got, want_hex);
    free(got);
    if (!same) fail();
}

static void unhex_alloc(const char *hex, uint8_t **out, size_t *n)
{
    *n = strlen(hex) / 2;
    *out = malloc(*n ? *n : 1);
    assert_non_null(*out);
    assert_int_equal(ef_unhex(*out, *n, hex), 0);
}

/* --- the canonical encoding of JSON values --- */

static const struct { const char *json; const char *hex; } cj_vectors[] = {
    /* nested objects with unsorted keys: keys sorted by bytes, at every level */
    {"{\"b\":1,\"a\":[],\"c\":{\"z\":null,\"y\":true,\"x\":false}}",
     "0603000000" "0100000061" "0500000000" "0100000062" "030100000000000000"
     "0100000063" "0603000000" "010000007801" "010000007902" "010000007a00"},
    /* unicode: é € 😀 written as escapes (one a surrogate pair) are the UTF-8 bytes */
    {"\"\\u00e9\\u20ac\\ud83d\\ude00\"", "0409000000c3a9e282acf09f9880"},
    {"\"é€😀\"", "0409000000c3a9e282acf09f9880"},
    /* big and negative integers: always 8 bytes, two's complement */
    {"[9223372036854775807, -9223372036854775808, -1, 0]",
     "0504000000" "03ffffffffffffff7f" "030000000000000080" "03ffffffffffffffff" "030000000000000000"},
    /* keys in byte order: "B" < "a" < "aa" < "z" < "é" */
    {"{\"é\":1,\"z\":2,\"B\":3,\"aa\":4,\"a\":5}",
     "0605000000" "0100000042030300000000000000" "0100000061030500000000000000"
     "020000006161030400000000000000" "010000007a030200000000000000" "02000000c3a9030100000000000000"},
    /* empty containers, nesting, scalars, a NUL inside a string */
    {"[]", "0500000000"},
    {"{}", "0600000000"},
    {"[[[]], {}, \"\"]", "0503000000" "050100000005000000000600000000" "0400000000"},
    {"\"a\\u0000b\"", "0403000000610062"},
    {"null", "00"},
    {"false", "01"},
    {"true", "02"},
    /* whitespace and escapes of the text do not matter, only the value */
    {" { \"k\" : \"\\u0041\" ,\"j\":[ 1 ] } ", "0602000000" "010000006a" "0501000000030100000000000000"
                                            "010000006b" "040100000041"},
};

static void test_cj_golden_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < EF_ARRAY_LEN(cj_vectors); i++) {
        json_error_t je;
        json_t *v = json_loads(cj_vectors[i].json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
        assert_non_null(v);
        ef_wr w;
        ef_wr_init(&w);
        assert_int_equal(ef_cj_encode(&w, v), 0);
        pin(cj_vectors[i].json, w.buf, w.len, cj_vectors[i].hex);
        /* decode gives the same value, and its encoding the same bytes */
        json_t *d;
        assert_int_equal(ef_cj_decode(&d, w.buf, w.len), 0);
        assert_true(json_equal(v, d));
        ef_wr w2;
        ef_wr_init(&w2);
        assert_int_equal(ef_cj_encode(&w2, d), 0);
        assert_int_equal(w2.len, w.len);
        assert_memory_equal(w2.buf, w.buf, w.len);
        /* every truncation is rejected */
        for (size_t n = 0; n < w.len; n++) {
            json_t *t = (json_t *)1;
            assert_int_not_equal(ef_cj_decode(&t, w.buf, n), 0);
            assert_null(t);
        }
        ef_wr_free(&w2);
        ef_wr_free(&w);
        json_decref(d);
        json_decref(v);
    }
}

static void test_cj_refuses_what_has_no_canonical_form(void **state)
{
    (void)state;
    const char *reals[] = {"1.5", "[1.0]", "{\"a\":{\"b\":1e3}}", "-0.0"};
    for (size_t i = 0; i < EF_ARRAY_LEN(reals); i++) {
        json_t *v = json_loads(reals[i], JSON_DECODE_ANY, NULL);
        assert_non_null(v);
        ef_wr w;
        ef_wr_init(&w);
        assert_int_equal(ef_cj_encode(&w, v), EF_EINVAL);
        assert_int_equal(w.err, EF_EINVAL);
        ef_wr_free(&w);
        json_decref(v);
    }
    /* a key with a NUL, a string that is not UTF-8 */
    json_t *o = json_object();
    assert_int_equal(json_object_setn_new_nocheck(o, "a\0b", 3, json_true()), 0);
    json_t *s = json_stringn_nocheck("\xc0\x80", 2);
    json_t *bad[] = {o, s};
    for (size_t i = 0; i < EF_ARRAY_LEN(bad); i++) {
        ef_wr w;
        ef_wr_init(&w);
        assert_int_equal(ef_cj_encode(&w, bad[i]), EF_EINVAL);
        ef_wr_free(&w);
        json_decref(bad[i]);
    }
    /* nesting: EF_CJ_DEPTH_MAX containers encode, one more does not */
    json_t *deep = json_array();
    for (int d = 1; d < EF_CJ_DEPTH_MAX; d++) {
        json_t *a = json_array();
        json_array_append_new(a, deep);
        deep = a;
    }
    ef_wr w;
    ef_wr_init(&w);
    assert_int_equal(ef_cj_encode(&w, deep), 0);
    json_t *d2;
    assert_int_equal(ef_cj_decode(&d2, w.buf, w.len), 0);
    json_decref(d2);
    ef_wr_free(&w);
    json_t *deeper = json_array();
    json_array_append_new(deeper, deep);
    ef_wr_init(&w);
    assert_int_equal(ef_cj_encode(&w, deeper), EF_EINVAL);
    ef_wr_free(&w);
    json_decref(deeper);
    /* and the decoder refuses the bytes such a value would have */
    uint8_t buf[5 * (EF_CJ_DEPTH_MAX + 1)];
    for (int i = 0; i <= EF_CJ_DEPTH_MAX; i++) {
        buf[5 * i] = EF_CJ_ARRAY;
        ef_put_u32le(buf + 5 * i + 1, i == EF_CJ_DEPTH_MAX ? 0 : 1);
    }
    json_t *t;
    assert_int_equal(ef_cj_decode(&t, buf, sizeof buf), EF_ETOOBIG);
    assert_int_equal(ef_cj_decode(&t, buf + 5, sizeof buf - 5), 0);
    json_decref(t);
}

static void test_cj_decoder_rejects(void **state)
{
    (void)state;
    static const struct { const char *hex; int err; } bad[] = {
        {"", EF_ETRUNC},
        {"07", EF_EINVAL},                                   /* unknown tag */
        {"0000", EF_ETRAILING},                              /* bytes after the value */
        {"030000", EF_ETRUNC},                               /* short integer */
        {"0402000000c080", EF_EINVAL},                       /* overlong NUL */
        {"0403000000eda080", EF_EINVAL},                     /* a surrogate */
        {"0404000000f4908080", EF_EINVAL},                   /* above U+10FFFF */
        {"0401000000ff", EF_EINVAL},
        {"05ffffffff", EF_ETOOBIG},                          /* count over the bytes left */
        {"0601000000" "0100000061", EF_ETRUNC},              /* key without a value */
        {"0602000000" "010000006200" "010000006100", EF_ENONCANON},   /* keys out of order */
        {"0602000000" "010000006100" "010000006100", EF_ENONCANON},   /* a key twice */
        {"0602000000" "02000000616100" "010000006100", EF_ENONCANON}, /* "aa" before "a" */
        {"0601000000" "010000000000", EF_EINVAL},            /* NUL in a key */
        {"0601000000" "01000000ff00", EF_EINVAL},            /* key not UTF-8 */
    };
    for (size_t i = 0; i < EF_ARRAY_LEN(bad); i++) {
        uint8_t *b;
        size_t n;
        unhex_alloc(bad[i].hex, &b, &n);
        json_t *v = (json_t *)1;
        int rc = ef_cj_decode(&v, b, n);
        if (rc != bad[i].err) fprintf(stderr, "%s: %s\n", bad[i].hex, ef_strerror(rc));
        assert_int_equal(rc, bad[i].err);
        assert_null(v);
        free(b);
    }
    /* ef_rd records where: the second key of an object out of order is at 11 */
    uint8_t *b;
    size_t n;
    unhex_alloc("0602000000010000006200010000006100", &b, &n);
    ef_rd r;
    json_t *v;
    ef_rd_init(&r, b, n);
    assert_int_equal(ef_cj_decode_rd(&r, &v), EF_ENONCANON);
    assert_int_equal(r.err_off, 11);
    free(b);
}

/* --- the ledger: a fixed genesis and block --- */

#define G_CHAIN "edgefed-golden"
#define G_PEER "1111111111111111111111111111111111111111111111111111111111111111"

/* pub of seed 00..1f (docs/signing.md) */
#define G_PUB "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"

#define G_GENESIS                                                                        \
    "{\"chain_id\":\"" G_CHAIN "\",\"time_ms\":1000,"                                   \
    "\"validators\":[{\"pub\":\"" G_PUB "\",\"domain\":\"mec-a\",\"power\":1}],"         \
    "\"balances\":{\"" G_PUB "\":1000}}"

/* The key of seed 00 01 .. 1f. */
static void g_key(ef_keypair *kp)
{
    uint8_t seed[EF_SEED_SIZE];
    for (int i = 0; i < EF_SEED_SIZE; i++) seed[i] = (uint8_t)i;
    ef_keypair_from_seed(kp, seed);
}

static uint8_t *g_tx(const ef_keypair *kp, uint64_t nonce, const char *contract, const char *method,
                     const char *args, size_t *len)
{
    ef_tx tx;
    memset(&tx, 0, sizeof tx);
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", G_CHAIN);
    tx.sender = kp->pub;
    tx.nonce = nonce;
    snprintf(tx.contract, sizeof tx.contract, "%s", contract);
    snprintf(tx.method, sizeof tx.method, "%s", method);
    tx.args = (const uint8_t *)args;
    tx.args_len = strlen(args);
    assert_int_equal(ef_tx_sign(&tx, kp), 0);
    ef_wr w;
    ef_wr_init(&w);
    assert_int_equal(ef_tx_encode(&w, &tx), 0);
    return ef_wr_take(&w, len);
}

static const struct { const char *contract, *method, *args; int code; const char *hash; } g_txs[] = {
    {"bank", "transfer", "{\"to\":\"" G_PEER "\",\"amount\":250}", 0,
     "6a5611ebd928beab6a109d90ba834e992ba770711cb9c3dc80af4e0bbc01041e"},
    {"registry", "register_member", "{\"account\":\"" G_PEER "\",\"domain\":\"mec-a\",\"name\":\"ue-\\u00e9\"}", 0,
     "9ecb2c4fe4ea726f2a8319576fd10f9e063739834b35cbcc8ba04dbca1b6c51b"},
    {"federation", "register", "{\"location\":\"lab/1\",\"name\":\"MEC A\"}", 0,
     "03ee108ef8bed795956e8ed6f1eb4a4b7c6b1ba5b6ad85b65997a4867566d411"},
    {"bank", "transfer", "{\"to\":\"" G_PEER "\",\"amount\":999999}", EF_EFUNDS,
     "26a049ea1b89d370f4e34f4e5b106abcb17aa0ad1b7960f2ef7ee9332bb55739"},
};

#define G_GENESIS_HASH "3411f72e72fcb373d49e1e0cd9f3de519cd0e4b5c20e84e754ee116e1807710e"
#define G_GENESIS_STATE "1d6b6ca93b03cafda7786275919e63a5863821250662487dac9edd165a632a34"
#define G_BLOCK_HASH "765d12a6fedad35b7cd71f63af2f07ce9216b84c44f6d63cb8178c17d33ae4f8"
#define G_TXS_ROOT "9033be8c884e8730622b4725b5be1555e719ec075fc226e291cf01242fb55adb"
#define G_RESULTS_ROOT "973b9713a41aef1a383e0d38f19448d1e5dd4279c71456c43bdeb545d447f59c"
#define G_STATE_HASH "edf079053636b599785039148983b9c8407f7923a089f58a75cf4b5ce808661d"
/* the registry's record of G_PEER, as stored (and hashed into the state) */
#define G_MEMBER_RECORD "060300000006000000646f6d61696e04050000006d65632d61040000006e616d65040500000075652dc3a904000000726f6c6504060000006d656d626572"

/* The result hash rebuilt by hand: BLAKE2b-256(0x12 || i64 code || u32 n || events). */
static void g_result_hash(uint8_t out[32], int64_t code, const uint8_t *ev, size_t n)
{
    crypto_generichash_state st;
    uint8_t head[1 + 8 + 4];
    head[0] = 0x12;
    ef_put_u64le(head + 1, (uint64_t)code);
    ef_put_u32le(head + 9, (uint32_t)n);
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, head, sizeof head);
    crypto_generichash_update(&st, ev, n);
    crypto_generichash_final(&st, out, 32);
}

static void test_ledger_golden_vectors(void **state)
{
    (void)state;
    char dir[512], err[200];
    ef_genesis g;
    ef_store *s;
    t_tmpdir(dir, sizeof dir, "golden");
    assert_int_equal(ef_genesis_parse(&g, G_GENESIS, strlen(G_GENESIS), err, sizeof err), 0);
    assert_int_equal(ef_store_open(&s, dir, &(ef_store_opts){EF_CONTRACTS_BUILTIN, .no_sync = true}), 0);
    assert_int_equal(ef_store_init_genesis(s, &g), 0);
    ef_store_info info;
    assert_int_equal(ef_store_info_get(s, &info), 0);
    pin("genesis block hash", info.last_hash.b, EF_HASH_SIZE, G_GENESIS_HASH);
    pin("genesis state hash", info.state_hash.b, EF_HASH_SIZE, G_GENESIS_STATE);

    ef_keypair kp;
    g_key(&kp);
    char pubhex[65];
    pin("public key", kp.pub.b, EF_PUB_SIZE, G_PUB);
    ef_hex(pubhex, kp.pub.b, EF_PUB_SIZE);

    enum { N = EF_ARRAY_LEN(g_txs) };
    uint8_t *txs[N];
    size_t lens[N];
    for (size_t i = 0; i < N; i++) {
        txs[i] = g_tx(&kp, i, g_txs[i].contract, g_txs[i].method, g_txs[i].args, &lens[i]);
        ef_hash h;
        ef_tx_hash_enc(&h, txs[i], lens[i]);
        pin(g_txs[i].args, h.b, EF_HASH_SIZE, g_txs[i].hash);
    }
    assert_int_equal(t_block(s, &kp.pub, txs, lens, N, 2000), 0);

    assert_int_equal(ef_store_info_get(s, &info), 0);
    assert_int_equal(info.height, 1);
    ef_block_header hdr;
    assert_int_equal(ef_store_header(s, 1, &hdr), 0);
    pin("block hash", info.last_hash.b, EF_HASH_SIZE, G_BLOCK_HASH);
    pin("txs root", hdr.txs_root.b, EF_HASH_SIZE, G_TXS_ROOT);
    pin("results root", hdr.results_root.b, EF_HASH_SIZE, G_RESULTS_ROOT);
    pin("state hash", hdr.state_hash.b, EF_HASH_SIZE, G_STATE_HASH);
    assert_memory_equal(info.state_hash.b, hdr.state_hash.b, EF_HASH_SIZE);
    /* the state hash is the one a full scan of the state gives */
    ef_hash full;
    assert_int_equal(ef_store_verify_state(s, &full), 0);
    assert_memory_equal(full.b, hdr.state_hash.b, EF_HASH_SIZE);

    /* the results root rebuilt by hand from each result's canonical events */
    ef_hash results[N];
    for (size_t i = 0; i < N; i++) {
        int code;
        char *evs;
        assert_int_equal(ef_store_result(s, 1, (uint32_t)i, &code, &evs), 0);
        if (code != g_txs[i].code) fprintf(stderr, "tx %zu: %s\n", i, ef_strerror(code));
        assert_int_equal(code, g_txs[i].code);
        json_t *ev = json_loads(evs, 0, NULL);
        assert_non_null(ev);
        ef_wr w;
        ef_wr_init(&w);
        assert_int_equal(ef_cj_encode(&w, ev), 0);
        g_result_hash(results[i].b, code, w.buf, w.len);
        ef_hash lib;
        ef_result_hash(&lib, code, w.buf, w.len);
        assert_memory_equal(lib.b, results[i].b, EF_HASH_SIZE);
        if (i == 0) {
            /* the transfer event, byte by byte (ef_cjson.h) */
            char want[1024];
            /* the hex strings are ASCII: their bytes are the hex of the hex */
            char from[129], to[129];
            ef_hex(from, pubhex, 64);
            ef_hex(to, G_PEER, 64);
            snprintf(want, sizeof want,
                     "0501000000" "0603000000"
                     "08000000" "636f6e7472616374" "040400000062616e6b"
                     "04000000" "64617461" "0603000000"
                     "06000000" "616d6f756e74" "03fa00000000000000"
                     "04000000" "66726f6d" "0440000000%s"
                     "02000000" "746f" "0440000000%s"
                     "04000000" "6e616d65" "04080000007472616e73666572", from, to);
            pin("transfer events", w.buf, w.len, want);
        }
        if (code) pin("failed tx events", w.buf, w.len, "0500000000");
        ef_wr_free(&w);
        json_decref(ev);
        free(evs);
    }
    ef_hash root;
    ef_merkle_root(&root, results, N);
    assert_memory_equal(root.b, hdr.results_root.b, EF_HASH_SIZE);

    /* a JSON value in the state is stored as its canonical bytes */
    uint8_t key[1 + EF_PUB_SIZE], *val;
    size_t val_len;
    key[0] = 'a';
    assert_int_equal(ef_unhex(key + 1, EF_PUB_SIZE, G_PEER), 0);
    assert_int_equal(ef_store_state_get(s, "registry", key, sizeof key, &val, &val_len), 0);
    pin("registry record", val, val_len, G_MEMBER_RECORD);
    json_t *rec;
    assert_int_equal(ef_cj_decode(&rec, val, val_len), 0);
    assert_string_equal(json_string_value(json_object_get(rec, "name")), "ue-\xc3\xa9");
    json_decref(rec);
    free(val);

    for (size_t i = 0; i < N; i++) free(txs[i]);
    ef_store_close(s);
    ef_genesis_free(&g);
    t_rmdir(dir);
}

/* --- what has no canonical form never reaches a hash --- */

/* probe.keep {...}: stores its args as a JSON value and emits them as an event */
static int probe_keep(ef_ctx *ctx, const json_t *args)
{
    int rc = ef_ctx_put_json(ctx, "kept", args);
    if (rc) return rc;
    return ef_ctx_emit(ctx, "kept", args);
}

/* probe.emit {...}: emits its args only */
static int probe_emit(ef_ctx *ctx, const json_t *args)
{
    return ef_ctx_emit(ctx, "seen", args);
}

static const ef_method probe_methods[] = {{"keep", probe_keep}, {"emit", probe_emit}};
static const ef_contract probe_contract = {.name = "probe", .methods = probe_methods, .methods_len = 2};
static const ef_contract *const probe_contracts[] = {&ef_registry_contract, &ef_bank_contract, &probe_contract};

/* Runs one block with the given probe txs (method, args) on a fresh store; fills
 * the codes, the state hash and the results root. */
static void probe_block(const char *const *methods, const char *const *args, size_t n, int *codes,
                        ef_hash *state_hash, ef_hash *results_root)
{
    char dir[512], err[200];
    ef_genesis g;
    ef_store *s;
    t_tmpdir(dir, sizeof dir, "golden-probe");
    assert_int_equal(ef_genesis_parse(&g, G_GENESIS, strlen(G_GENESIS), err, sizeof err), 0);
    ef_store_opts o = {.contracts = probe_contracts, .contracts_len = 3, .no_sync = true};
    assert_int_equal(ef_store_open(&s, dir, &o), 0);
    assert_int_equal(ef_store_init_genesis(s, &g), 0);
    ef_keypair kp;
    g_key(&kp);
    uint8_t *txs[8];
    size_t lens[8];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++) txs[i] = g_tx(&kp, i, "probe", methods[i], args[i], &lens[i]);
    assert_int_equal(t_block(s, &kp.pub, txs, lens, n, 2000), 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ef_store_result(s, 1, (uint32_t)i, &codes[i], NULL), 0);
        free(txs[i]);
    }
    ef_block_header hdr;
    assert_int_equal(ef_store_header(s, 1, &hdr), 0);
    *state_hash = hdr.state_hash;
    *results_root = hdr.results_root;
    ef_store_close(s);
    ef_genesis_free(&g);
    t_rmdir(dir);
}

static void test_reals_fail_the_tx(void **state)
{
    (void)state;
    const char *methods[] = {"keep", "emit", "keep"};
    const char *args[] = {"{\"x\":1.5}", "{\"y\":[2.0]}", "{\"z\":1}"};
    int codes[3];
    ef_hash sh, rr;
    probe_block(methods, args, 3, codes, &sh, &rr);
    assert_int_equal(codes[0], EF_EINVAL);   /* state value with a real */
    assert_int_equal(codes[1], EF_EINVAL);   /* event data with a real */
    assert_int_equal(codes[2], 0);
    /* the failed ones changed nothing but their nonces: the state is that of a
     * block where they fail for another reason (no such method) */
    const char *methods2[] = {"nosuch", "nosuch", "keep"};
    int codes2[3];
    ef_hash sh2, rr2;
    probe_block(methods2, args, 3, codes2, &sh2, &rr2);
    assert_int_equal(codes2[0], EF_ENOMETHOD);
    assert_int_equal(codes2[2], 0);
    assert_memory_equal(sh.b, sh2.b, EF_HASH_SIZE);
}

/* The value, not the text of the args, decides the state and the results: key
 * order, whitespace and escapes give the same state hash and results root. */
static void test_text_form_does_not_matter(void **state)
{
    (void)state;
    const char *methods[] = {"keep"};
    const char *a1[] = {"{\"b\":{\"y\":-1,\"x\":\"\\u00e9\"},\"a\":[]}"};
    const char *a2[] = {" { \"a\" : [ ] , \"b\" : { \"x\" : \"é\" , \"y\" : -1 } } "};
    int c1, c2;
    ef_hash s1, r1, s2, r2;
    probe_block(methods, a1, 1, &c1, &s1, &r1);
    probe_block(methods, a2, 1, &c2, &s2, &r2);
    assert_int_equal(c1, 0);
    assert_int_equal(c2, 0);
    assert_memory_equal(s1.b, s2.b, EF_HASH_SIZE);
    assert_memory_equal(r1.b, r2.b, EF_HASH_SIZE);
}

static void test_genesis_with_a_real_is_refused(void **state)
{
    (void)state;
    const char *doc = "{\"chain_id\":\"x\",\"validators\":[{\"pub\":\"" G_PUB "\",\"domain\":\"a\"}],"
                      "\"params\":{\"bank\":{\"fee\":0.5}}}";
    ef_genesis g;
    char err[200];
    assert_int_equal(ef_genesis_parse(&g, doc, strlen(doc), err, sizeof err), EF_ECONFIG);
    assert_non_null(strstr(err, "real numbers"));
    assert_null(g.doc);
}

/* A store written with other consensus bytes (no "format", as every store before
 * the canonical encoding, or another number) is refused with EF_ECONFIG and left
 * as it is; one of this format reopens. */
static void test_store_of_another_format_is_refused(void **state)
{
    (void)state;
    char dir[512], err[200];
    ef_genesis g;
    ef_store *s;
    t_tmpdir(dir, sizeof dir, "golden-format");
    assert_int_equal(ef_genesis_parse(&g, G_GENESIS, strlen(G_GENESIS), err, sizeof err), 0);
    ef_store_opts o = {EF_CONTRACTS_BUILTIN, .no_sync = true};
    assert_int_equal(ef_store_open(&s, dir, &o), 0);
    assert_int_equal(ef_store_init_genesis(s, &g), 0);
    ef_store_close(s);
    assert_int_equal(ef_store_open(&s, dir, &o), 0);   /* same format: fine */
    ef_store_close(s);
    for (int variant = 0; variant < 2; variant++) {
        MDB_env *env;
        MDB_txn *txn;
        MDB_dbi dbi;
        assert_int_equal(mdb_env_create(&env), 0);
        assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
        assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
        assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
        assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
        MDB_val k = {6, "format"};
        uint8_t one[4] = {1, 0, 0, 0};
        MDB_val v = {4, one};
        if (variant == 0) assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
        else assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
        assert_int_equal(mdb_txn_commit(txn), 0);
        mdb_env_close(env);
        assert_int_equal(ef_store_open(&s, dir, &o), EF_ECONFIG);
        assert_null(s);
    }
    ef_genesis_free(&g);
    t_rmdir(dir);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cj_golden_vectors),
        cmocka_unit_test(test_cj_refuses_what_has_no_canonical_form),
        cmocka_unit_test(test_cj_decoder_rejects),
        cmocka_unit_test(test_ledger_golden_vectors),
        cmocka_unit_test(test_reals_fail_the_tx),
        cmocka_unit_test(test_text_form_does_not_matter),
        cmocka_unit_test(test_genesis_with_a_real_is_refused),
        cmocka_unit_test(test_store_of_another_format_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
