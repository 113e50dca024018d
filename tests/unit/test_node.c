/* test_node.c: a one-validator node in this process, driven through the interface
 * the API and the agents use: thread-safe submit (blocking and with callbacks),
 * signed calls by the node's key, commit listeners, status; then a restart on the
 * same data directory resumes at the same height. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <pthread.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "base/ef_fs.h"
#include "contracts/ef_contracts.h"
#include "ledger/ef_mempool.h"
#include "node/ef_node.h"

static char dir[256];
static ef_keypair node_kp, user_kp;

static void write_file(const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const char *extra_timeouts = "";

static void setup_dir(void)
{
    const char *base = getenv("EF_TEST_TMP") ? getenv("EF_TEST_TMP") : "/tmp";
    mkdir(base, 0700);
    snprintf(dir, sizeof dir, "%s/test_node.%d", base, (int)getpid());
    mkdir(dir, 0700);
    ef_keypair_generate(&node_kp);
    ef_keypair_generate(&user_kp);
    char p[512], nh[65], uh[65], g[1024], c[1024];
    snprintf(p, sizeof p, "%s/node.key", dir);
    assert_int_equal(ef_key_save(p, &node_kp), 0);
    ef_hex(nh, node_kp.pub.b, 32);
    ef_hex(uh, user_kp.pub.b, 32);
    snprintf(g, sizeof g,
             "{\"chain_id\":\"unit-node\",\"validators\":[{\"pub\":\"%s\",\"domain\":\"d\"}],"
             "\"balances\":{\"%s\":1000,\"%s\":1000}}",
             nh, nh, uh);
    write_file("genesis.json", g);
    snprintf(c, sizeof c,
             "{\"chain_id\":\"unit-node\",\"key\":\"node.key\",\"genesis\":\"genesis.json\","
             "\"listen\":\"127.0.0.1:0\",\"admin_socket\":\"admin.sock\","
             "\"timeouts\":{\"propose_ms\":200%s},\"agents\":{\"note\":\"reserved\"}}",
             extra_timeouts);
    write_file("config.json", c);
}

typedef struct run_ctx {
    ef_node *n;
    int rc;
} run_ctx;

static void *run_thread(void *arg)
{
    run_ctx *r = arg;
    r->rc = ef_node_run(r->n);
    return NULL;
}

typedef struct seen {
    pthread_mutex_t mu;
    int commits;
    uint64_t last_height;
    size_t txs;
    int codes[64];
    int cb_admitted, cb_committed;
    uint64_t committed_height;
    ef_hash committed_hash;
} seen;

static void on_commit(void *arg, const ef_node_commit *c)
{
    seen *s = arg;
    pthread_mutex_lock(&s->mu);
    s->commits++;
    s->last_height = c->height;
    for (uint32_t i = 0; i < c->block->txs_len && s->txs < 64; i++) {
        s->codes[s->txs++] = c->results[i].code;
        assert_non_null(c->results[i].events_json);
    }
    pthread_mutex_unlock(&s->mu);
}

static void on_tx(void *arg, const ef_hash *h, int stage, int code, uint64_t height)
{
    seen *s = arg;
    pthread_mutex_lock(&s->mu);
    if (stage == EF_NODE_TX_ADMITTED && code == 0) s->cb_admitted++;
    if (stage == EF_NODE_TX_COMMITTED) {
        s->cb_committed++;
        s->committed_height = height;
        s->committed_hash = *h;
    }
    pthread_mutex_unlock(&s->mu);
}

/* A signed bank transfer from the user account. */
static uint8_t *user_tx(uint64_t nonce, size_t *len)
{
    ef_tx tx;
    memset(&tx, 0, sizeof tx);
    snprintf(tx.chain_id, sizeof tx.chain_id, "unit-node");
    tx.sender = user_kp.pub;
    tx.nonce = nonce;
    snprintf(tx.contract, sizeof tx.contract, "bank");
    snprintf(tx.method, sizeof tx.method, "transfer");
    char args[160], nh[65];
    ef_hex(nh, node_kp.pub.b, 32);
    int n = snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":5}", nh);
    tx.args = (const uint8_t *)args;
    tx.args_len = (size_t)n;
    assert_int_equal(ef_tx_sign(&tx, &user_kp), 0);
    ef_wr w;
    ef_wr_init(&w);
    assert_int_equal(ef_tx_encode(&w, &tx), 0);
    return ef_wr_take(&w, len);
}

static bool wait_for(seen *s, int *field, int want)
{
    for (int i = 0; i < 400; i++) {
        pthread_mutex_lock(&s->mu);
        int v = *field;
        pthread_mutex_unlock(&s->mu);
        if (v >= want) return true;
        usleep(25000);
    }
    return false;
}

static void test_node_interface(void **st)
{
    (void)st;
    setup_dir();
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/config.json", dir);
    ef_node_config cfg;
    assert_int_equal(ef_node_config_load(&cfg, path, err, sizeof err), 0);
    assert_non_null(json_object_get(cfg.doc, "agents"));
    cfg.contracts = ef_contracts_builtin;
    cfg.contracts_len = ef_contracts_builtin_len;
    ef_node *n;
    assert_int_equal(ef_node_open(&n, &cfg), 0);
    ef_node_config_free(&cfg);
    seen s;
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.mu, NULL);
    assert_int_equal(ef_node_on_commit(n, on_commit, &s), 0);
    run_ctx r = {n, -1};
    pthread_t th;
    pthread_create(&th, NULL, run_thread, &r);

    /* blocking submit from this (non-loop) thread */
    size_t len;
    uint8_t *tx0 = user_tx(0, &len);
    ef_hash h0;
    assert_int_equal(ef_node_submit_wait(n, tx0, len, &h0), 0);
    /* the same tx again: a duplicate while pooled, a replay once committed */
    int again_rc = ef_node_submit_wait(n, tx0, len, NULL);
    assert_true(again_rc == EF_EDUP || again_rc == EF_ENONCE);
    free(tx0);
    /* a corrupted signature (on a nonce not yet used: the cheap checks come first) */
    uint8_t *txb = user_tx(7, &len);
    txb[len - 3] ^= 1;
    assert_int_equal(ef_node_submit_wait(n, txb, len, NULL), EF_EBADSIG);
    free(txb);
    /* callback submit, with commit notification */
    uint8_t *tx1 = user_tx(1, &len);
    assert_int_equal(ef_node_submit(n, tx1, len, on_tx, &s), 0);
    free(tx1);
    /* a call signed by the node's own key */
    char nh[65], args[128];
    ef_hex(nh, user_kp.pub.b, 32);
    snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":1}", nh);
    assert_int_equal(ef_node_submit_call(n, "bank", "transfer", args, on_tx, &s), 0);
    assert_int_equal(ef_node_submit_call(n, "bank", "transfer", args, on_tx, &s), 0);
    assert_int_equal(ef_node_submit_call(n, "Bad Name", "x", NULL, NULL, NULL), EF_EINVAL);
    assert_true(wait_for(&s, &s.cb_committed, 3));
    assert_int_equal(s.cb_admitted, 3);
    pthread_mutex_lock(&s.mu);
    assert_true(s.txs >= 4);
    for (size_t i = 0; i < s.txs; i++) assert_int_equal(s.codes[i], 0);
    pthread_mutex_unlock(&s.mu);

    /* the store sees them; the status snapshot agrees */
    ef_tx_loc loc;
    assert_int_equal(ef_store_tx_lookup(ef_node_store(n), &h0, &loc), 0);
    free(loc.events_json);
    ef_node_status *stt = malloc(sizeof *stt);
    ef_node_get_status(n, stt);
    assert_true(stt->height >= 1);
    assert_true(stt->validator);
    assert_int_equal(stt->vset.len, 1);
    assert_string_equal(stt->chain_id, "unit-node");
    uint64_t height = stt->height;
    json_t *js = ef_node_status_json(n);
    assert_non_null(js);
    assert_int_equal(json_integer_value(json_object_get(js, "height")), (json_int_t)height);
    json_decref(js);
    free(stt);

    ef_node_stop(n);
    pthread_join(th, NULL);
    assert_int_equal(r.rc, 0);
    ef_node_close(n);

    /* restart on the same data: same height, nonces remembered (replay refused) */
    assert_int_equal(ef_node_config_load(&cfg, path, err, sizeof err), 0);
    cfg.contracts = ef_contracts_builtin;
    cfg.contracts_len = ef_contracts_builtin_len;
    assert_int_equal(ef_node_open(&n, &cfg), 0);
    ef_node_config_free(&cfg);
    r.n = n;
    pthread_create(&th, NULL, run_thread, &r);
    usleep(100000);
    ef_node_status st2;
    ef_node_get_status(n, &st2);
    assert_true(st2.height >= height);
    uint8_t *again = user_tx(1, &len);
    assert_int_equal(ef_node_submit_wait(n, again, len, NULL), EF_ENONCE);
    free(again);
    ef_node_stop(n);
    pthread_join(th, NULL);
    ef_node_close(n);
    /* after close, submissions are refused rather than lost silently: covered by
     * EF_ECLOSED in ef_node_submit while stopping */
    assert_int_equal(ef_fs_remove_tree(dir), 0);
    pthread_mutex_destroy(&s.mu);
}

static void test_config_errors(void **st)
{
    (void)st;
    const char *base = getenv("EF_TEST_TMP") ? getenv("EF_TEST_TMP") : "/tmp";
    char p[512], err[256];
    snprintf(p, sizeof p, "%s/test_node_cfg.%d.json", base, (int)getpid());
    const char *bad[] = {
        "{\"chain_id\":\"x\",\"key\":\"k\",\"genesis\":\"g\",\"nonsense\":1}",
        "{\"key\":\"k\",\"genesis\":\"g\"}",
        "{\"chain_id\":\"x\",\"key\":\"k\",\"genesis\":\"g\",\"peers\":[{\"pub\":\"zz\",\"addr\":\"1.2.3.4:5\"}]}",
        "{\"chain_id\":\"x\",\"key\":\"k\",\"genesis\":\"g\",\"limits\":{\"block_txs\":0}}",
        "{\"chain_id\":\"x\",\"key\":\"k\",\"genesis\":\"g\",\"limits\":{\"mempool_ttl\":5}}",
        "{\"chain_id\":\"x\",\"key\":\"k\",\"genesis\":\"g\",\"limits\":{\"mempool_nonce_gap\":0}}",
        "{\"chain_id\":\"x\",\"key\":\"k\",\"genesis\":\"g\",\"limits\":{\"mempool_sender_txs\":0}}",
        "{\"chain_id\":\"x\",\"key\":\"k\",\"genesis\":\"g\",\"limits\":{\"mempool_ttl_s\":0}}",
        "[1,2]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fputs(bad[i], f);
        fclose(f);
        ef_node_config cfg;
        assert_int_equal(ef_node_config_load(&cfg, p, err, sizeof err), EF_ECONFIG);
    }
    /* the mempool's knobs: defaults, and read when given */
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("{\"chain_id\":\"x\",\"key\":\"k\",\"genesis\":\"g\"}", f);
    fclose(f);
    ef_node_config cfg;
    assert_int_equal(ef_node_config_load(&cfg, p, err, sizeof err), 0);
    assert_int_equal(cfg.mempool_sender_txs, EF_MEMPOOL_SENDER_DEFAULT);
    assert_int_equal(cfg.mempool_nonce_gap, EF_MEMPOOL_GAP_DEFAULT);
    assert_int_equal(cfg.mempool_ttl_s, EF_MEMPOOL_TTL_MS_DEFAULT / 1000);
    ef_node_config_free(&cfg);
    f = fopen(p, "w");
    assert_non_null(f);
    fputs("{\"chain_id\":\"x\",\"key\":\"k\",\"genesis\":\"g\",\"limits\":{\"mempool_sender_txs\":5,"
          "\"mempool_nonce_gap\":3,\"mempool_ttl_s\":7}}", f);
    fclose(f);
    assert_int_equal(ef_node_config_load(&cfg, p, err, sizeof err), 0);
    assert_int_equal(cfg.mempool_sender_txs, 5);
    assert_int_equal(cfg.mempool_nonce_gap, 3);
    assert_int_equal(cfg.mempool_ttl_s, 7);
    ef_node_config_free(&cfg);
    unlink(p);
}

/* With empty_block_ms, blocks come at that interval without any transaction. */
static void test_empty_blocks(void **st)
{
    (void)st;
    extra_timeouts = ",\"empty_block_ms\":50";
    setup_dir();
    extra_timeouts = "";
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/config.json", dir);
    ef_node_config cfg;
    assert_int_equal(ef_node_config_load(&cfg, path, err, sizeof err), 0);
    assert_int_equal(cfg.empty_block_ms, 50);
    cfg.contracts = ef_contracts_builtin;
    cfg.contracts_len = ef_contracts_builtin_len;
    ef_node *n;
    assert_int_equal(ef_node_open(&n, &cfg), 0);
    ef_node_config_free(&cfg);
    run_ctx r = {n, -1};
    pthread_t th;
    pthread_create(&th, NULL, run_thread, &r);
    ef_node_status s;
    for (int i = 0; i < 200; i++) {
        ef_node_get_status(n, &s);
        if (s.height >= 4) break;
        usleep(25000);
    }
    assert_true(s.height >= 4);
    ef_node_stop(n);
    pthread_join(th, NULL);
    ef_node_close(n);
    assert_int_equal(ef_fs_remove_tree(dir), 0);
}

int main(void)
{
    ef_crypto_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_node_interface),
        cmocka_unit_test(test_empty_blocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
