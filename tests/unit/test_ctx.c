/* test_ctx.c: the contract framework seen from a contract: namespaces, limits,
 * rollback of a failing transaction, scans, events, call_as and escrow ownership,
 * read-only queries, and the registry-only validator-set hook. Uses a test
 * contract "probe" next to the real bank and registry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "contracts/ef_bank.h"
#include "contracts/ef_registry.h"
#include "ef_test_ledger.h"

#define T_FAIL(n) (fprintf(stderr, "limits check %d failed\n", n), EF_EINVAL)

/* probe.write {"n": N, "fail": 0|1}: writes keys k0..k(N-1), then fails if asked */
static int probe_write(ef_ctx *ctx, const json_t *args)
{
    uint64_t n, fail;
    if (ef_args_u64(args, "n", &n) || ef_args_u64(args, "fail", &fail)) return EF_EARGS;
    for (uint64_t i = 0; i < n; i++) {
        char k[32];
        snprintf(k, sizeof k, "k%03llu", (unsigned long long)i);
        int rc = ef_ctx_put(ctx, k, strlen(k), "v", 1);
        if (rc) return rc;
    }
    json_t *ev = json_pack("{s:I}", "n", (json_int_t)n);
    int rc = ef_ctx_emit(ctx, "wrote", ev);
    json_decref(ev);
    if (rc) return rc;
    return fail ? EF_ESTATE : 0;
}

static int probe_scan_fn(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    (void)val;
    (void)val_len;
    json_t *arr = arg;
    json_array_append_new(arr, json_stringn((const char *)key, key_len));
    return json_array_size(arr) >= 3 ? 1 : 0;
}

/* probe.limits: each limit answers EF_ELIMIT, and the scan sees this tx's writes */
static int probe_limits(ef_ctx *ctx, const json_t *args)
{
    (void)args;
    char key[EF_CTX_KEY_MAX + 2];
    memset(key, 'a', sizeof key);
    if (ef_ctx_put(ctx, key, EF_CTX_KEY_MAX + 1, "v", 1) != EF_ELIMIT) return T_FAIL(1);
    if (ef_ctx_put(ctx, key, EF_CTX_KEY_MAX, "v", 1) != 0) return T_FAIL(2);
    uint8_t *big = calloc(1, EF_CTX_VALUE_MAX + 1);
    int rc = ef_ctx_put(ctx, "big", 3, big, EF_CTX_VALUE_MAX + 1);
    free(big);
    if (rc != EF_ELIMIT) return T_FAIL(3);
    if (ef_ctx_put(ctx, "s2", 2, "x", 1) || ef_ctx_put(ctx, "s1", 2, "y", 1) || ef_ctx_put(ctx, "s3", 2, "z", 1) ||
        ef_ctx_put(ctx, "s4", 2, "w", 1))
        return T_FAIL(4);
    json_t *seen = json_array();
    if (ef_ctx_scan(ctx, "s", 1, probe_scan_fn, seen)) return T_FAIL(5);
    char *text = json_dumps(seen, JSON_COMPACT);
    json_decref(seen);
    rc = strcmp(text, "[\"s1\",\"s2\",\"s3\"]") ? EF_EINVAL : 0;
    free(text);
    if (rc) return rc;
    if (ef_ctx_del(ctx, "s4", 2)) return T_FAIL(6);
    const uint8_t *v;
    size_t vn;
    if (ef_ctx_get(ctx, "s4", 2, &v, &vn) != EF_ENOTFOUND) return T_FAIL(7);
    /* another contract's state is readable, not writable from here */
    ef_pub z;
    memset(&z, 0, sizeof z);
    if (ef_ctx_get_in(ctx, "bank", "supply", 6, &v, &vn) || vn != 8) return T_FAIL(8);
    /* events: EF_CTX_EVENTS_MAX, then EF_ELIMIT; oversize data fails the tx later */
    json_t *ev = json_object();
    for (int i = 0; i < EF_CTX_EVENTS_MAX; i++)
        if (ef_ctx_emit(ctx, "e", ev)) return T_FAIL(9);
    rc = ef_ctx_emit(ctx, "e", ev) == EF_ELIMIT ? 0 : EF_EINVAL;
    json_decref(ev);
    /* only the registry schedules validator sets */
    ef_vset vs;
    if (ef_ctx_vset(ctx, ef_ctx_height(ctx), &vs) || ef_ctx_vset_schedule(ctx, &vs) != EF_EPERM) return T_FAIL(10);
    return rc;
}

/* probe.many: more writes than EF_CTX_WRITES_MAX */
static int probe_many(ef_ctx *ctx, const json_t *args)
{
    (void)args;
    for (int i = 0; i <= EF_CTX_WRITES_MAX; i++) {
        int rc = ef_ctx_put(ctx, "x", 1, &i, sizeof i);
        if (rc) return rc;
    }
    return 0;
}

/* probe.bigevent: event data over EF_CTX_EVENT_DATA_MAX */
static int probe_bigevent(ef_ctx *ctx, const json_t *args)
{
    (void)args;
    char *s = malloc(EF_CTX_EVENT_DATA_MAX + 1);
    memset(s, 'x', EF_CTX_EVENT_DATA_MAX);
    s[EF_CTX_EVENT_DATA_MAX] = 0;
    json_t *ev = json_pack("{s:s}", "s", s);
    free(s);
    int rc = ef_ctx_emit(ctx, "big", ev);
    json_decref(ev);
    return rc;
}

/* probe.lock {"amount"}: the sender's money into an escrow owned by probe;
 * probe.pay {"escrow","amount","to"}: probe releases it */
static int probe_lock(ef_ctx *ctx, const json_t *args)
{
    uint64_t amount, id;
    if (ef_args_u64(args, "amount", &amount)) return EF_EARGS;
    int rc = ef_bank_escrow_lock(ctx, amount, &id);
    if (rc) return rc;
    if (strcmp(ef_ctx_contract(ctx), "probe") || ef_ctx_caller(ctx)) return EF_EINVAL;  /* switched back */
    json_t *ev = json_pack("{s:I}", "id", (json_int_t)id);
    rc = ef_ctx_emit(ctx, "locked", ev);
    json_decref(ev);
    return rc;
}

static int probe_pay(ef_ctx *ctx, const json_t *args)
{
    uint64_t id, amount;
    ef_pub to;
    if (ef_args_u64(args, "escrow", &id) || ef_args_u64(args, "amount", &amount) || ef_args_pub(args, "to", &to))
        return EF_EARGS;
    return ef_bank_escrow_release(ctx, id, &to, amount);
}

/* probe.steal {"from"}: a transfer not from the sender */
static int probe_steal(ef_ctx *ctx, const json_t *args)
{
    ef_pub from;
    if (ef_args_pub(args, "from", &from)) return EF_EARGS;
    return ef_bank_transfer(ctx, &from, ef_ctx_sender(ctx), 1);
}

static int probe_query(ef_ctx *ctx, const char *path, json_t **out)
{
    if (ef_ctx_put(ctx, "q", 1, "x", 1) != EF_EPERM) return EF_EINVAL;
    json_t *ev = json_object();
    int rc = ef_ctx_emit(ctx, "q", ev);
    json_decref(ev);
    if (rc != EF_EPERM || !ef_ctx_read_only(ctx)) return EF_EINVAL;
    const uint8_t *v;
    size_t n;
    rc = ef_ctx_get(ctx, path, strlen(path), &v, &n);
    if (rc) return rc;
    *out = json_stringn((const char *)v, n);
    return 0;
}

static const ef_method probe_methods[] = {
    {"write", probe_write}, {"limits", probe_limits}, {"many", probe_many}, {"bigevent", probe_bigevent},
    {"lock", probe_lock},   {"pay", probe_pay},       {"steal", probe_steal},
};
static const ef_contract probe_contract = {
    .name = "probe", .methods = probe_methods, .methods_len = EF_ARRAY_LEN(probe_methods), .query = probe_query,
};
static const ef_contract *const test_contracts[] = {&ef_registry_contract, &ef_bank_contract, &probe_contract};

typedef struct {
    char dir[512];
    ef_store *s;
    ef_genesis g;
    ef_keypair v, a, b;
} t_env;

static int setup(void **state)
{
    t_env *e = calloc(1, sizeof *e);
    t_tmpdir(e->dir, sizeof e->dir, "ctx");
    t_genesis(&e->g, 1, 3, 1000);
    ef_store_opts o = {.contracts = test_contracts, .contracts_len = 3, .no_sync = true};
    assert_int_equal(ef_store_open(&e->s, e->dir, &o), 0);
    assert_int_equal(ef_store_init_genesis(e->s, &e->g), 0);
    t_key(&e->v, 0);
    t_key(&e->a, 1);
    t_key(&e->b, 2);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    t_env *e = *state;
    ef_store_close(e->s);
    ef_genesis_free(&e->g);
    t_rmdir(e->dir);
    free(e);
    return 0;
}

static void test_ctx_rollback_and_limits(void **state)
{
    t_env *e = *state;
    ef_store_info before, after;
    /* a failing tx: its writes and events vanish; only the nonce moves */
    assert_int_equal(ef_store_info_get(e->s, &before), 0);
    assert_int_equal(t_run(e->s, &e->v.pub, &e->a, "probe", "write", "{\"n\":5,\"fail\":1}"), EF_ESTATE);
    uint8_t *v;
    size_t n;
    assert_int_equal(ef_store_state_get(e->s, "probe", "k000", 4, &v, &n), EF_ENOTFOUND);
    /* the same writes succeed */
    assert_int_equal(t_run(e->s, &e->v.pub, &e->a, "probe", "write", "{\"n\":5,\"fail\":0}"), 0);
    assert_int_equal(ef_store_state_get(e->s, "probe", "k004", 4, &v, &n), 0);
    free(v);
    /* overwrite then fail: old values come back */
    assert_int_equal(t_run(e->s, &e->v.pub, &e->a, "probe", "write", "{\"n\":7,\"fail\":1}"), EF_ESTATE);
    assert_int_equal(ef_store_state_get(e->s, "probe", "k005", 4, &v, &n), EF_ENOTFOUND);
    ef_hash full;
    assert_int_equal(ef_store_verify_state(e->s, &full), 0);
    assert_int_equal(ef_store_info_get(e->s, &after), 0);
    assert_true(ef_hash_eq(&full, &after.state_hash));
    assert_int_equal(t_run(e->s, &e->v.pub, &e->a, "probe", "limits", "{}"), 0);
    assert_int_equal(t_run(e->s, &e->v.pub, &e->a, "probe", "many", "{}"), EF_ELIMIT);
    assert_int_equal(t_run(e->s, &e->v.pub, &e->a, "probe", "bigevent", "{}"), EF_ELIMIT);
    assert_int_equal(t_run(e->s, &e->v.pub, &e->a, "probe", "nosuch", "{}"), EF_ENOMETHOD);
    assert_int_equal(t_run(e->s, &e->v.pub, &e->a, "probe", "write", "not json"), EF_EARGS);
    assert_int_equal(t_run(e->s, &e->v.pub, &e->a, "probe", "write", "{\"n\":1,\"n\":2,\"fail\":0}"), EF_EARGS);
    assert_int_equal(t_run(e->s, &e->v.pub, &e->a, "probe", "write", "[1]"), EF_EARGS);
    assert_int_equal(ef_store_verify_state(e->s, &full), 0);
    /* queries are read-only */
    json_t *q;
    assert_int_equal(ef_store_query(e->s, "probe", "k001", &q), 0);
    assert_string_equal(json_string_value(q), "v");
    json_decref(q);
    assert_int_equal(ef_store_query(e->s, "probe", "nokey", &q), EF_ENOTFOUND);
}

static void test_ctx_escrow_ownership(void **state)
{
    t_env *e = *state;
    char args[256], hex[65];
    assert_int_equal(t_run(e->s, &e->v.pub, &e->a, "probe", "lock", "{\"amount\":300}"), 0);
    json_t *q;
    assert_int_equal(ef_store_query(e->s, "bank", "escrow/1", &q), 0);
    assert_string_equal(json_string_value(json_object_get(q, "owner")), "probe");
    assert_int_equal(json_integer_value(json_object_get(q, "left")), 300);
    json_decref(q);
    /* the bank's own release/refund cannot touch probe's escrow */
    assert_int_equal(t_run(e->s, &e->v.pub, &e->a, "bank", "release", "{\"escrow\":1,\"amount\":1}"), EF_EPERM);
    /* probe pays out, in parts, never more than is left */
    snprintf(args, sizeof args, "{\"escrow\":1,\"amount\":200,\"to\":\"%s\"}", t_hex(&e->b.pub, hex));
    assert_int_equal(t_run(e->s, &e->v.pub, &e->b, "probe", "pay", args), 0);
    assert_int_equal(t_run(e->s, &e->v.pub, &e->b, "probe", "pay", args), EF_EFUNDS);
    snprintf(args, sizeof args, "{\"escrow\":1,\"amount\":100,\"to\":\"%s\"}", t_hex(&e->a.pub, hex));
    assert_int_equal(t_run(e->s, &e->v.pub, &e->b, "probe", "pay", args), 0);
    snprintf(args, sizeof args, "{\"escrow\":9,\"amount\":1,\"to\":\"%s\"}", hex);
    assert_int_equal(t_run(e->s, &e->v.pub, &e->b, "probe", "pay", args), EF_ENOTFOUND);
    char path[100];
    snprintf(path, sizeof path, "balance/%s", t_hex(&e->a.pub, hex));
    assert_int_equal(ef_store_query(e->s, "bank", path, &q), 0);
    assert_int_equal(json_integer_value(json_object_get(q, "balance")), 1000 - 300 + 100);
    json_decref(q);
    snprintf(path, sizeof path, "balance/%s", t_hex(&e->b.pub, hex));
    assert_int_equal(ef_store_query(e->s, "bank", path, &q), 0);
    assert_int_equal(json_integer_value(json_object_get(q, "balance")), 1000 + 200);
    json_decref(q);
    /* a contract cannot move money that is not the sender's */
    snprintf(args, sizeof args, "{\"from\":\"%s\"}", t_hex(&e->a.pub, hex));
    assert_int_equal(t_run(e->s, &e->v.pub, &e->b, "probe", "steal", args), EF_EPERM);
    assert_int_equal(ef_store_query(e->s, "bank", "supply", &q), 0);
    assert_int_equal(json_integer_value(json_object_get(q, "supply")), 3000);
    assert_int_equal(json_integer_value(json_object_get(q, "locked")), 0);
    json_decref(q);
}

int main(void)
{
    ef_crypto_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ctx_rollback_and_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ctx_escrow_ownership, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
