/* test_crash.c: crash safety. A child process applies blocks to a synced store
 * and is killed with SIGKILL at random moments, hundreds of times; after each
 * kill the store reopens exactly at a block boundary, with the state (recomputed
 * from scratch) equal to a clean replay's at that height. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "ef_test_ledger.h"
#include "contracts/ef_contracts.h"

#define NBLOCKS 30
#define TXS_PER_BLOCK 20
#define NACCT 10
#define KILLS_DEFAULT 300

typedef struct {
    uint8_t *enc[NBLOCKS + 1];
    size_t len[NBLOCKS + 1];
    ef_hash state[NBLOCKS + 1];
    ef_hash hash[NBLOCKS + 1];
} t_ref;

static t_ref ref;
static ef_genesis gen;

/* The clean replay: builds NBLOCKS blocks of transfers and escrows. */
static void t_build_ref(void)
{
    char dir[512];
    t_tmpdir(dir, sizeof dir, "crashref");
    ef_store *s;
    assert_int_equal(ef_store_open(&s, dir, &(ef_store_opts){EF_CONTRACTS_BUILTIN, .no_sync = true}), 0);
    assert_int_equal(ef_store_init_genesis(s, &gen), 0);
    ef_store_info info;
    assert_int_equal(ef_store_info_get(s, &info), 0);
    ref.state[0] = info.state_hash;
    ref.hash[0] = info.last_hash;
    assert_int_equal(ef_store_block(s, 0, &ref.enc[0], &ref.len[0]), 0);
    ef_keypair kp[NACCT];
    uint64_t nonce[NACCT] = {0};
    for (int i = 0; i < NACCT; i++) t_key(&kp[i], (uint32_t)i);
    srand(7);
    for (int h = 1; h <= NBLOCKS; h++) {
        uint8_t *txs[TXS_PER_BLOCK];
        size_t lens[TXS_PER_BLOCK];
        ef_txbuf c[TXS_PER_BLOCK];
        for (int j = 0; j < TXS_PER_BLOCK; j++) {
            int a = rand() % NACCT, b = rand() % NACCT;
            char args[200], hex[65];
            snprintf(args, sizeof args, "{\"%s\":\"%s\",\"amount\":%d}", j % 4 ? "to" : "payee",
                     t_hex(&kp[b].pub, hex), 1 + rand() % 50);
            txs[j] = t_tx(&kp[a], nonce[a]++, "bank", j % 4 ? "transfer" : "escrow", args, &lens[j]);
            c[j] = (ef_txbuf){txs[j], lens[j]};
        }
        int st[TXS_PER_BLOCK];
        assert_int_equal(ef_ledger_propose(s, c, TXS_PER_BLOCK, 1000 + (uint64_t)h * 1000, &kp[0].pub,
                                           NULL, st, &ref.enc[h], &ref.len[h]), 0);
        for (int j = 0; j < TXS_PER_BLOCK; j++) assert_int_equal(st[j], 0);
        assert_int_equal(ef_ledger_commit(s, ref.enc[h], ref.len[h], (const uint8_t *)"cert", 4), 0);
        assert_int_equal(ef_store_info_get(s, &info), 0);
        ref.state[h] = info.state_hash;
        ref.hash[h] = info.last_hash;
        for (int j = 0; j < TXS_PER_BLOCK; j++) free(txs[j]);
    }
    ef_store_close(s);
    t_rmdir(dir);
}

/* The child: opens the synced store and applies the remaining blocks. */
static void t_child(const char *dir)
{
    ef_store *s;
    if (ef_store_open(&s, dir, &(ef_store_opts){EF_CONTRACTS_BUILTIN})) _exit(3);
    if (!ef_store_height(s) && ef_store_init_genesis(s, &gen)) _exit(4);
    for (uint64_t h = ef_store_height(s) + 1; h <= NBLOCKS; h++)
        if (ef_ledger_commit(s, ref.enc[h], ref.len[h], (const uint8_t *)"cert", 4)) _exit(5);
    ef_store_close(s);
    _exit(0);
}

static uint64_t t_check(const char *dir)
{
    ef_store *s;
    ef_store_info info;
    ef_hash full;
    assert_int_equal(ef_store_open(&s, dir, &(ef_store_opts){EF_CONTRACTS_BUILTIN}), 0);
    assert_int_equal(ef_store_info_get(s, &info), 0);
    if (!info.initialised) {   /* killed before genesis committed: an empty store */
        ef_store_close(s);
        return 0;
    }
    uint64_t h = info.height;
    assert_true(h <= NBLOCKS);
    assert_true(ef_hash_eq(&info.last_hash, &ref.hash[h]));
    assert_true(ef_hash_eq(&info.state_hash, &ref.state[h]));
    assert_int_equal(ef_store_verify_state(s, &full), 0);
    assert_true(ef_hash_eq(&full, &ref.state[h]));
    /* the block and its certificate are there, the next one is not */
    uint8_t *b;
    size_t bl;
    assert_int_equal(ef_store_block(s, h, &b, &bl), 0);
    assert_int_equal(bl, ref.len[h]);
    assert_memory_equal(b, ref.enc[h], bl);
    free(b);
    assert_int_equal(ef_store_block(s, h + 1, &b, &bl), EF_ENOTFOUND);
    if (h) {
        assert_int_equal(ef_store_cert(s, h, &b, &bl), 0);
        free(b);
    }
    ef_store_close(s);
    return h;
}

static void test_crash_sigkill(void **state)
{
    (void)state;
    int kills = getenv("EF_CRASH_KILLS") ? atoi(getenv("EF_CRASH_KILLS")) : KILLS_DEFAULT;
    t_genesis(&gen, 1, NACCT, 1000000);
    t_build_ref();
    char dir[512];
    t_tmpdir(dir, sizeof dir, "crash");
    unsigned seed = (unsigned)time(NULL);
    if (getenv("EF_SEED")) seed = (unsigned)atoi(getenv("EF_SEED"));
    srand(seed);
    fprintf(stderr, "crash test: seed %u, %d kills\n", seed, kills);
    int killed_mid = 0, completed = 0, advanced = 0;
    uint64_t prev_h = 0;
    uint64_t delay_max_us = 60000;   /* a block takes ~20 ms under ASan */
    for (int i = 0; i < kills; i++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) t_child(dir);
        struct timespec ts = {0, (long)(rand() % (int)delay_max_us) * 1000};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFEXITED(status)) {
            if (WEXITSTATUS(status) != 0) fprintf(stderr, "child exit %d\n", WEXITSTATUS(status));
            assert_int_equal(WEXITSTATUS(status), 0);
        } else {
            killed_mid++;
        }
        uint64_t h = t_check(dir);
        if (h > prev_h) advanced++;
        prev_h = h;
        if (h == NBLOCKS) {
            /* all applied: start over so later kills land mid-chain again */
            completed++;
            t_rmdir(dir);
            t_tmpdir(dir, sizeof dir, "crash");
        }
    }
    fprintf(stderr, "crash test: %d killed while running, %d runs made progress, %d complete runs\n",
            killed_mid, advanced, completed);
    assert_true(advanced > kills / 10);
    assert_true(killed_mid > kills / 2);
    t_rmdir(dir);
    for (int h = 0; h <= NBLOCKS; h++) free(ref.enc[h]);
    ef_genesis_free(&gen);
}

int main(void)
{
    ef_crypto_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crash_sigkill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
