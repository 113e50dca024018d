/* test_bank.c: thousands of random transfers and escrows against a model: every
 * result as predicted, total supply constant, failed operations change nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ef_test_ledger.h"
#include "contracts/ef_contracts.h"

#define NACCT 8
#define NTX 2400
#define PER_BLOCK 60
#define START 1000
#define NESC_MAX NTX

typedef struct { int payer, payee; uint64_t left; } m_escrow;

static uint64_t t_balance(ef_store *s, const ef_pub *p)
{
    char path[100], hex[65];
    json_t *q;
    snprintf(path, sizeof path, "balance/%s", t_hex(p, hex));
    assert_int_equal(ef_store_query(s, "bank", path, &q), 0);
    uint64_t b = (uint64_t)json_integer_value(json_object_get(q, "balance"));
    json_decref(q);
    return b;
}

static void test_bank_random_conserves_supply(void **state)
{
    (void)state;
    unsigned seed = (unsigned)(getenv("EF_SEED") ? atoi(getenv("EF_SEED")) : 12345);
    srand(seed);
    char dir[512];
    ef_genesis g;
    ef_store *s = t_store_new(dir, sizeof dir, "bank", &g, 1, NACCT, START);
    ef_keypair kp[NACCT];
    uint64_t bal[NACCT], nonce[NACCT] = {0};
    for (int i = 0; i < NACCT; i++) {
        t_key(&kp[i], (uint32_t)i);
        bal[i] = START;
    }
    static m_escrow esc[NESC_MAX + 1];
    uint64_t nesc = 0, locked = 0;
    const uint64_t supply = (uint64_t)NACCT * START;

    uint8_t *txs[PER_BLOCK];
    size_t lens[PER_BLOCK];
    int want[PER_BLOCK];
    int failures = 0, escrows = 0;
    for (int done = 0; done < NTX; done += PER_BLOCK) {
        for (int j = 0; j < PER_BLOCK; j++) {
            int a = rand() % NACCT, b = rand() % NACCT, op = rand() % 10;
            /* amounts sometimes above the balance: overdrafts must fail */
            uint64_t amt = 1 + (uint64_t)rand() % (bal[a] + 50);
            char args[256], hex[65];
            const char *method;
            if (op < 5 || (op >= 7 && nesc == 0)) {
                method = "transfer";
                snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":%llu}", t_hex(&kp[b].pub, hex),
                         (unsigned long long)amt);
                if (amt > bal[a]) want[j] = EF_EFUNDS;
                else {
                    want[j] = 0;
                    bal[a] -= amt;
                    bal[b] += amt;
                }
            } else if (op < 7) {
                method = "escrow";
                snprintf(args, sizeof args, "{\"payee\":\"%s\",\"amount\":%llu}", t_hex(&kp[b].pub, hex),
                         (unsigned long long)amt);
                if (amt > bal[a]) want[j] = EF_EFUNDS;
                else {
                    want[j] = 0;
                    bal[a] -= amt;
                    locked += amt;
                    esc[++nesc] = (m_escrow){a, b, amt};
                    escrows++;
                }
            } else {
                /* release (by payer) or refund (by payee), sometimes by the wrong party
                 * or for more than is left */
                uint64_t id = 1 + (uint64_t)rand() % nesc;
                m_escrow *e = &esc[id];
                bool refund = op == 9;
                int right = refund ? e->payee : e->payer;
                if (rand() % 4 == 0) a = (right + 1) % NACCT;
                else a = right;
                amt = 1 + (uint64_t)rand() % (e->left + 10);
                method = refund ? "refund" : "release";
                snprintf(args, sizeof args, "{\"escrow\":%llu,\"amount\":%llu}", (unsigned long long)id,
                         (unsigned long long)amt);
                if (a != right) want[j] = EF_EPERM;
                else if (amt > e->left) want[j] = EF_EFUNDS;
                else {
                    want[j] = 0;
                    e->left -= amt;
                    locked -= amt;
                    bal[refund ? e->payer : e->payee] += amt;
                }
            }
            if (want[j]) failures++;
            txs[j] = t_tx(&kp[a], nonce[a]++, "bank", method, args, &lens[j]);
        }
        uint64_t h = ef_store_height(s);
        assert_int_equal(t_block(s, &kp[0].pub, txs, lens, PER_BLOCK, 0), 0);
        assert_int_equal(ef_store_height(s), h + 1);
        for (int j = 0; j < PER_BLOCK; j++) {
            ef_hash th;
            ef_tx_loc loc;
            ef_tx_hash_enc(&th, txs[j], lens[j]);
            assert_int_equal(ef_store_tx_lookup(s, &th, &loc), 0);
            if (loc.code != want[j]) fprintf(stderr, "seed %u: tx %d of block %llu\n", seed, j,
                                             (unsigned long long)h + 1);
            assert_int_equal(loc.code, want[j]);
            if (want[j]) assert_string_equal(loc.events_json, "[]");
            free(loc.events_json);
            free(txs[j]);
        }
        uint64_t sum = 0;
        for (int i = 0; i < NACCT; i++) {
            uint64_t b = t_balance(s, &kp[i].pub);
            assert_int_equal(b, bal[i]);
            sum += b;
        }
        json_t *q;
        assert_int_equal(ef_store_query(s, "bank", "supply", &q), 0);
        assert_int_equal(json_integer_value(json_object_get(q, "supply")), supply);
        assert_int_equal(json_integer_value(json_object_get(q, "locked")), locked);
        json_decref(q);
        assert_int_equal(sum + locked, supply);
    }
    assert_true(failures > NTX / 10);
    assert_true(escrows > NTX / 20);
    ef_store_close(s);
    ef_genesis_free(&g);
    t_rmdir(dir);
}

/* An overdraft leaves every balance and the state (except the nonce) untouched:
 * the state after a block of one failing tx equals the state after a block of
 * one tx with an unknown method (which also only consumes the nonce). */
static void test_bank_overdraft_changes_nothing(void **state)
{
    (void)state;
    char d1[512], d2[512];
    t_tmpdir(d1, sizeof d1, "bank1");
    t_tmpdir(d2, sizeof d2, "bank2");
    ef_store *s1, *s2;
    ef_genesis g;
    t_genesis(&g, 1, 2, 100);
    assert_int_equal(ef_store_open(&s1, d1, &(ef_store_opts){EF_CONTRACTS_BUILTIN, .no_sync = true}), 0);
    assert_int_equal(ef_store_open(&s2, d2, &(ef_store_opts){EF_CONTRACTS_BUILTIN, .no_sync = true}), 0);
    assert_int_equal(ef_store_init_genesis(s1, &g), 0);
    assert_int_equal(ef_store_init_genesis(s2, &g), 0);
    ef_keypair a, b;
    t_key(&a, 0);
    t_key(&b, 1);
    char args[256], hex[65];
    snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":101}", t_hex(&b.pub, hex));
    assert_int_equal(t_run(s1, &a.pub, &a, "bank", "transfer", args), EF_EFUNDS);
    assert_int_equal(t_run(s2, &a.pub, &a, "bank", "nosuch", "{}"), EF_ENOMETHOD);
    snprintf(args, sizeof args, "{\"payee\":\"%s\",\"amount\":101}", t_hex(&b.pub, hex));
    assert_int_equal(t_run(s1, &a.pub, &a, "bank", "escrow", args), EF_EFUNDS);
    assert_int_equal(t_run(s2, &a.pub, &a, "nosuch", "x", "{}"), EF_ENOCONTRACT);
    ef_store_info i1, i2;
    assert_int_equal(ef_store_info_get(s1, &i1), 0);
    assert_int_equal(ef_store_info_get(s2, &i2), 0);
    assert_true(ef_hash_eq(&i1.state_hash, &i2.state_hash));
    assert_int_equal(t_balance(s1, &a.pub), 100);
    assert_int_equal(t_balance(s1, &b.pub), 100);
    ef_store_close(s1);
    ef_store_close(s2);
    ef_genesis_free(&g);
    t_rmdir(d1);
    t_rmdir(d2);
}

int main(void)
{
    ef_crypto_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bank_random_conserves_supply),
        cmocka_unit_test(test_bank_overdraft_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
