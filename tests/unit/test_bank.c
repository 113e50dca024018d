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
            /* only an account may send (ef_ctx.h): key 0 is registered (the
             * validator), the others are accounts while they hold money */
            if (a != 0 && bal[a] == 0) { j--; continue; }
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
                if (a != 0 && bal[a] == 0) { j--; continue; }
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

/* Who may send (ef_ctx.h): a sender must be registered (registry) or hold money
 * (bank). A stranger's transaction is not executable: propose skips it
 * (EF_ENOACCOUNT, its nonce not consumed), a block holding one is invalid
 * (ef_ledger_check, here built by a node whose contracts have no account rule),
 * ef_store_account (the mempool's check) says the same on the committed state,
 * and money received earlier in the same block makes an account. */
static void test_sender_must_be_an_account(void **state)
{
    (void)state;
    char dir[512], dir2[512];
    ef_genesis g;
    /* key 0: validator (registered) and funded; key 1: funded only */
    ef_store *s = t_store_new(dir, sizeof dir, "acct", &g, 1, 2, 100);
    ef_keypair val, rich, stranger;
    t_key(&val, 0);
    t_key(&rich, 1);
    t_key(&stranger, 40);
    assert_int_equal(ef_store_account(s, &val.pub), 0);
    assert_int_equal(ef_store_account(s, &rich.pub), 0);
    assert_int_equal(ef_store_account(s, &stranger.pub), EF_ENOACCOUNT);

    char args[256], hex[65];
    snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":1}", t_hex(&val.pub, hex));
    assert_int_equal(t_try(s, &val.pub, &stranger, "bank", "transfer", args), EF_ENOACCOUNT);
    assert_int_equal(t_try(s, &val.pub, &stranger, "nosuch", "x", "{}"), EF_ENOACCOUNT);
    assert_int_equal(t_try(s, &val.pub, &rich, "bank", "transfer", args), 0);

    /* the same block, built where no contract has an account rule, holds the
     * stranger's tx; a node with the rule refuses the block */
    enum { T_OPEN_MAX = 16 };
    assert_true(ef_contracts_builtin_len <= T_OPEN_MAX);
    ef_contract open_c[T_OPEN_MAX];
    const ef_contract *open_table[T_OPEN_MAX];
    for (size_t i = 0; i < ef_contracts_builtin_len; i++) {
        open_c[i] = *ef_contracts_builtin[i];
        open_c[i].account = NULL;
        open_table[i] = &open_c[i];
    }
    ef_store *s2;
    t_tmpdir(dir2, sizeof dir2, "acct-open");
    assert_int_equal(ef_store_open(&s2, dir2, &(ef_store_opts){.contracts = open_table, .contracts_len = ef_contracts_builtin_len, .no_sync = true}), 0);
    assert_int_equal(ef_store_init_genesis(s2, &g), 0);
    assert_int_equal(ef_store_account(s2, &stranger.pub), 0);
    size_t len;
    uint8_t *tx = t_tx(&stranger, 0, "bank", "transfer", args, &len);
    ef_txbuf c = {tx, len};
    uint8_t *blk;
    size_t blen;
    int st;
    assert_int_equal(ef_ledger_propose(s2, &c, 1, 5000, &val.pub, NULL, &st, &blk, &blen), 0);
    assert_int_equal(st, 0);
    assert_int_equal(ef_ledger_check(s, blk, blen, NULL), EF_ENOACCOUNT);
    assert_int_equal(ef_ledger_commit(s, blk, blen, NULL, 0), EF_ENOACCOUNT);
    assert_int_equal(ef_store_height(s), 0);
    free(blk);
    free(tx);

    /* rich pays the stranger, then in the same block the stranger sends: included */
    uint8_t *txs[3];
    size_t lens[3];
    snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":5}", t_hex(&stranger.pub, hex));
    txs[0] = t_tx(&rich, 0, "bank", "transfer", args, &lens[0]);
    snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":5}", t_hex(&val.pub, hex));
    txs[1] = t_tx(&stranger, 0, "bank", "transfer", args, &lens[1]);
    /* ...and, its money gone, its next tx in that block is skipped */
    txs[2] = t_tx(&stranger, 1, "bank", "nosuch", "{}", &lens[2]);
    ef_txbuf cs[3] = {{txs[0], lens[0]}, {txs[1], lens[1]}, {txs[2], lens[2]}};
    int sts[3];
    assert_int_equal(ef_ledger_propose(s, cs, 3, 6000, &val.pub, NULL, sts, &blk, &blen), 0);
    assert_int_equal(sts[0], 0);
    assert_int_equal(sts[1], 0);
    assert_int_equal(sts[2], EF_ENOACCOUNT);
    assert_int_equal(ef_ledger_commit(s, blk, blen, NULL, 0), 0);
    free(blk);
    uint64_t next;
    assert_int_equal(ef_store_nonce(s, &stranger.pub, &next), 0);
    assert_int_equal(next, 1);
    assert_int_equal(t_balance(s, &val.pub), 105);
    assert_int_equal(ef_store_account(s, &stranger.pub), EF_ENOACCOUNT);
    for (int i = 0; i < 3; i++) free(txs[i]);

    ef_store_close(s);
    ef_store_close(s2);
    ef_genesis_free(&g);
    t_rmdir(dir);
    t_rmdir(dir2);
}

int main(void)
{
    ef_crypto_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bank_random_conserves_supply),
        cmocka_unit_test(test_bank_overdraft_changes_nothing),
        cmocka_unit_test(test_sender_must_be_an_account),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
