/* test_mef.c: three MEF agents (one consumer, two providers) federate a service end to end
 * on a one-validator chain run in this process (the real store and executor), with the
 * real "process" MEO driver: announce, bids, award to the cheaper, deployment,
 * app-to-app traffic, payment; and an announcement nobody can serve expires. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "agents/ef_mef.h"
#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "base/ef_fs.h"
#include "base/ef_log.h"
#include "contracts/ef_bank.h"
#include "contracts/ef_federation.h"
#include "contracts/ef_registry.h"
#include "ledger/ef_genesis.h"
#include "ledger/ef_ledger.h"
#include "ledger/ef_store.h"
#include "ledger/ef_tx.h"

enum { V, A, B, C, NACC };
#define PENDING_MAX 256
#define START_BALANCE 100000

typedef struct mini mini;
typedef struct agent_ctx {
    mini *m;
    int who;
} agent_ctx;

/* A one-validator chain: submitted txs go into the next block (every 50 ms);
 * after each commit every agent gets the block's events, then on_block. */
struct mini {
    char dir[256];
    ef_store *s;
    ef_keypair kp[NACC];
    char hex[NACC][2 * EF_PUB_SIZE + 1];
    uint64_t nonce[NACC];
    pthread_mutex_t mu;
    uint8_t *pending[PENDING_MAX];
    size_t pending_len[PENDING_MAX];
    size_t npending;
    bool stop;
    pthread_t thr;
    ef_mef *agents[NACC];
    agent_ctx actx[NACC];
    json_t *results;         /* array of results, under mu */
};

static int mini_submit(void *arg, const char *contract, const char *method, const json_t *args)
{
    agent_ctx *ac = arg;
    mini *m = ac->m;
    char *text = json_dumps(args, JSON_COMPACT);
    if (!text) return EF_ENOMEM;
    pthread_mutex_lock(&m->mu);
    int rc = EF_EFULL;
    if (m->npending < PENDING_MAX) {
        ef_tx t = {0};
        snprintf(t.chain_id, sizeof t.chain_id, "meftest");
        t.sender = m->kp[ac->who].pub;
        t.nonce = m->nonce[ac->who];
        snprintf(t.contract, sizeof t.contract, "%s", contract);
        snprintf(t.method, sizeof t.method, "%s", method);
        t.args = (const uint8_t *)text;
        t.args_len = strlen(text);
        ef_wr w;
        ef_wr_init(&w);
        rc = ef_tx_sign(&t, &m->kp[ac->who]);
        if (!rc) rc = ef_tx_encode(&w, &t);
        if (!rc) {
            m->pending[m->npending] = ef_wr_take(&w, &m->pending_len[m->npending]);
            m->npending++;
            m->nonce[ac->who]++;
        }
        ef_wr_free(&w);
    }
    pthread_mutex_unlock(&m->mu);
    free(text);
    return rc;
}

static void mini_on_result(void *arg, const json_t *result)
{
    agent_ctx *ac = arg;
    pthread_mutex_lock(&ac->m->mu);
    json_array_append_new(ac->m->results, json_deep_copy(result));
    pthread_mutex_unlock(&ac->m->mu);
}

static void *mini_loop(void *arg)
{
    mini *m = arg;
    for (;;) {
        usleep(50 * 1000);
        pthread_mutex_lock(&m->mu);
        if (m->stop) {
            pthread_mutex_unlock(&m->mu);
            return NULL;
        }
        size_t n = m->npending;
        uint8_t *encs[PENDING_MAX];
        ef_txbuf cands[PENDING_MAX];
        for (size_t i = 0; i < n; i++) {
            encs[i] = m->pending[i];
            cands[i] = (ef_txbuf){m->pending[i], m->pending_len[i]};
        }
        m->npending = 0;
        ef_mef *ag[NACC];
        memcpy(ag, m->agents, sizeof ag);
        pthread_mutex_unlock(&m->mu);

        int status[PENDING_MAX];
        uint8_t *block;
        size_t block_len;
        EF_ASSERT(!ef_ledger_propose(m->s, cands, n, ef_now_wall_ms(), &m->kp[V].pub, NULL, status, &block,
                                     &block_len));
        EF_ASSERT(!ef_ledger_commit(m->s, block, block_len, NULL, 0));
        free(block);
        ef_store_info info;
        EF_ASSERT(!ef_store_info_get(m->s, &info));
        for (size_t i = 0; i < n; i++) {
            EF_ASSERT(status[i] == 0);
            ef_hash h;
            ef_tx_hash_enc(&h, cands[i].enc, cands[i].len);
            ef_tx_loc loc = {0};
            EF_ASSERT(!ef_store_tx_lookup(m->s, &h, &loc));
            ef_tx t;
            EF_ASSERT(!ef_tx_decode(&t, cands[i].enc, cands[i].len));
            if (loc.code) fprintf(stderr, "mini: %s.%s failed: %s\n", t.contract, t.method, ef_strerror(loc.code));
            json_t *evs = json_loads(loc.events_json, 0, NULL);
            for (size_t e = 0; e < json_array_size(evs); e++) {
                json_t *ev = json_array_get(evs, e);
                for (int a = 0; a < NACC; a++)
                    if (ag[a])
                        ef_mef_on_event(ag[a], info.height, info.last_time_ms, t.contract,
                                        json_string_value(json_object_get(ev, "name")),
                                        json_object_get(ev, "data"));
            }
            json_decref(evs);
            free(loc.events_json);
            free(encs[i]);
        }
        for (int a = 0; a < NACC; a++)
            if (ag[a]) ef_mef_on_block(ag[a], info.height, info.last_time_ms);
    }
}

static int mini_setup(void **state)
{
    mini *m = calloc(1, sizeof *m);
    assert_non_null(m);
    assert_int_equal(ef_crypto_init(), 0);
    const char *tmp = getenv("EF_TEST_TMP");
    if (!tmp) tmp = "/tmp";
    char cmd[400];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", tmp);
    assert_int_equal(system(cmd), 0);
    snprintf(m->dir, sizeof m->dir, "%s/meftest-%d-XXXXXX", tmp, (int)getpid());
    assert_non_null(mkdtemp(m->dir));
    for (int i = 0; i < NACC; i++) {
        uint8_t seed[EF_SEED_SIZE] = {0};
        seed[0] = (uint8_t)(i + 1);
        seed[1] = 0xef;
        ef_keypair_from_seed(&m->kp[i], seed);
        ef_hex(m->hex[i], m->kp[i].pub.b, EF_PUB_SIZE);
    }
    json_t *g = json_pack("{s:s, s:I, s:[{s:s, s:s}], s:[], s:{}}", "chain_id", "meftest", "time_ms",
                          (json_int_t)(ef_now_wall_ms() - 1000), "validators", "pub", m->hex[V], "domain", "v",
                          "members", "balances");
    for (int i = A; i < NACC; i++)
        json_array_append_new(json_object_get(g, "members"),
                              json_pack("{s:s, s:s, s:s}", "pub", m->hex[i], "domain", "v", "name", "mec"));
    for (int i = 0; i < NACC; i++)
        json_object_set_new(json_object_get(g, "balances"), m->hex[i], json_integer(START_BALANCE));
    char *text = json_dumps(g, JSON_COMPACT);
    json_decref(g);
    ef_genesis gen;
    char err[200] = "";
    assert_int_equal(ef_genesis_parse(&gen, text, strlen(text), err, sizeof err), 0);
    free(text);
    static const ef_contract *const contracts[] = {&ef_registry_contract, &ef_bank_contract,
                                                   &ef_federation_contract};
    ef_store_opts opts = {.contracts = contracts, .contracts_len = 3, .no_sync = true};
    assert_int_equal(ef_store_open(&m->s, m->dir, &opts), 0);
    assert_int_equal(ef_store_init_genesis(m->s, &gen), 0);
    ef_genesis_free(&gen);
    pthread_mutex_init(&m->mu, NULL);
    m->results = json_array();
    assert_int_equal(pthread_create(&m->thr, NULL, mini_loop, m), 0);
    *state = m;
    return 0;
}

static int mini_teardown(void **state)
{
    mini *m = *state;
    pthread_mutex_lock(&m->mu);
    m->stop = true;
    pthread_mutex_unlock(&m->mu);
    pthread_join(m->thr, NULL);
    for (int a = 0; a < NACC; a++) ef_mef_close(m->agents[a]);
    for (size_t i = 0; i < m->npending; i++) free(m->pending[i]);
    ef_store_close(m->s);
    assert_int_equal(ef_fs_remove_tree(m->dir), 0);
    json_decref(m->results);
    pthread_mutex_destroy(&m->mu);
    free(m);
    return 0;
}

/* Starts agent `who` from a JSON config text. Agents must start before the loop
 * dispatches to them: we take the lock so the loop sees a complete pointer. */
static void start_agent(mini *m, int who, const char *cfg_text)
{
    json_t *j = json_loads(cfg_text, 0, NULL);
    assert_non_null(j);
    ef_mef_config cfg;
    char err[256] = "";
    int rc = ef_mef_config_parse(&cfg, j, err, sizeof err);
    if (rc) fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    json_decref(j);
    const char *app = getenv("EDGEFED");
    if (app) snprintf(cfg.app_path, sizeof cfg.app_path, "%s", app);
    ef_mef_config_fix(&cfg);
    m->actx[who] = (agent_ctx){m, who};
    ef_mef_hooks hooks = {mini_submit, mini_on_result, &m->actx[who]};
    ef_mef *agent;
    assert_int_equal(ef_mef_open(&agent, &cfg, &m->kp[who].pub, &hooks), 0);
    pthread_mutex_lock(&m->mu);
    m->agents[who] = agent;
    pthread_mutex_unlock(&m->mu);
}

static uint64_t balance(mini *m, int who)
{
    char path[100];
    json_t *v = NULL;
    snprintf(path, sizeof path, "balance/%s", m->hex[who]);
    if (ef_store_query(m->s, "bank", path, &v)) return 0;
    json_t *b = json_is_object(v) ? json_object_get(v, "balance") : v;
    uint64_t out = (uint64_t)json_integer_value(b);
    json_decref(v);
    return out;
}

/* Waits until `n` results arrived (at most timeout_s). */
static size_t wait_results(mini *m, size_t n, int timeout_s)
{
    size_t have = 0;
    for (int i = 0; i < timeout_s * 20; i++) {
        pthread_mutex_lock(&m->mu);
        have = json_array_size(m->results);
        pthread_mutex_unlock(&m->mu);
        if (have >= n) break;
        usleep(50 * 1000);
    }
    return have;
}

static json_t *result_of(mini *m, const char *role)
{
    for (size_t i = 0; i < json_array_size(m->results); i++) {
        json_t *r = json_array_get(m->results, i);
        if (!strcmp(json_string_value(json_object_get(r, "role")), role)) return r;
    }
    return NULL;
}

static void test_federation_end_to_end(void **state)
{
    mini *m = *state;
    if (!getenv("EDGEFED")) skip();   /* the process driver runs `edgefed app serve` */
    /* B is cheap (flat tariff 100/h), C dear (300/h): B must win. */
    start_agent(m, B, "{\"name\":\"mec-b\",\"location\":\"ES\",\"roles\":[\"provider\"],"
                      "\"pricing\":{\"base_per_hour\":100,\"tod\":\"1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1\"},"
                      "\"meo\":{\"port_min\":23100,\"port_max\":23199}}");
    start_agent(m, C, "{\"name\":\"mec-c\",\"location\":\"DE\",\"roles\":[\"provider\"],"
                      "\"pricing\":{\"base_per_hour\":300,\"tod\":\"1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1\"},"
                      "\"meo\":{\"port_min\":23200,\"port_max\":23299}}");
    start_agent(m, A, "{\"name\":\"mec-a\",\"location\":\"FR\",\"roles\":[\"consumer\"],"
                      "\"consumer\":{\"service\":\"video\",\"offers\":2,\"max_price\":500,\"deposit\":900,"
                      "\"bid_window_ms\":20000,\"deploy_window_ms\":20000}}");
    uint64_t sum0 = balance(m, A) + balance(m, B) + balance(m, C) + balance(m, V);
    usleep(300 * 1000);   /* registrations committed */
    assert_int_equal(ef_mef_announce(m->agents[A]), 0);
    assert_int_equal(wait_results(m, 2, 40), 2);

    pthread_mutex_lock(&m->mu);
    json_t *cr = result_of(m, "consumer"), *pr = result_of(m, "provider");
    assert_non_null(cr);
    assert_non_null(pr);
    char *dump = json_dumps(cr, JSON_COMPACT);
    fprintf(stderr, "consumer result: %s\n", dump);
    free(dump);
    assert_string_equal(json_string_value(json_object_get(cr, "outcome")), "connected");
    assert_string_equal(json_string_value(json_object_get(pr, "outcome")), "connected");
    assert_string_equal(json_string_value(json_object_get(cr, "winner")), m->hex[B]);
    assert_int_equal(json_integer_value(json_object_get(cr, "price")), 100);
    assert_int_equal(json_integer_value(json_object_get(cr, "paid")), 100);
    assert_int_equal(json_integer_value(json_object_get(cr, "bids")), 2);
    json_t *steps = json_object_get(cr, "steps_us");
    assert_non_null(steps);
    assert_true(json_integer_value(json_object_get(steps, "federation")) > 0);
    pthread_mutex_unlock(&m->mu);

    usleep(200 * 1000);
    assert_true(balance(m, A) == START_BALANCE - 100);
    assert_true(balance(m, B) == START_BALANCE + 100);
    assert_true(balance(m, C) == START_BALANCE);
    assert_true(balance(m, A) + balance(m, B) + balance(m, C) + balance(m, V) == sum0);
    json_t *v = NULL;
    assert_int_equal(ef_store_query(m->s, "federation", "services?state=connected", &v), 0);
    assert_int_equal(json_array_size(v), 1);
    json_decref(v);
}

static void test_no_offer_expires(void **state)
{
    mini *m = *state;
    if (!getenv("EDGEFED")) skip();
    /* the only provider is dearer than the max price: no bid, the consumer closes
     * after the deadline and its deposit comes back */
    start_agent(m, B, "{\"name\":\"mec-b\",\"location\":\"DE\",\"roles\":[\"provider\"],"
                      "\"pricing\":{\"base_per_hour\":5000},\"meo\":{\"port_min\":23300,\"port_max\":23399}}");
    start_agent(m, A, "{\"name\":\"mec-a\",\"location\":\"FR\",\"roles\":[\"consumer\"],"
                      "\"consumer\":{\"offers\":1,\"max_price\":50,\"deposit\":70,\"bid_window_ms\":600,"
                      "\"start_after_operators\":2}}");
    assert_int_equal(wait_results(m, 1, 30), 1);
    pthread_mutex_lock(&m->mu);
    json_t *cr = result_of(m, "consumer");
    assert_non_null(cr);
    assert_string_equal(json_string_value(json_object_get(cr, "outcome")), "expired");
    pthread_mutex_unlock(&m->mu);
    usleep(200 * 1000);
    assert_true(balance(m, A) == START_BALANCE);
}

static int parse_cfg(const char *text, ef_mef_config *cfg)
{
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    char err[256] = "";
    int rc = ef_mef_config_parse(cfg, j, err, sizeof err);
    json_decref(j);
    if (rc) assert_true(strlen(err) > 0);   /* every rejection says why */
    return rc;
}

static void test_config(void **state)
{
    (void)state;
    ef_mef_config cfg;
    assert_int_equal(parse_cfg("{}", &cfg), 0);
    assert_true(cfg.consumer && cfg.provider && cfg.do_register && cfg.hold);
    assert_int_equal(cfg.offers, 1);
    assert_true(cfg.deposit == cfg.max_price);
    assert_string_equal(cfg.driver, "process");
    assert_int_equal(parse_cfg("{\"name\":\"m\",\"location\":\"DE\",\"roles\":[\"provider\"],"
                               "\"pricing\":{\"base_per_hour\":7,\"utc_offset_min\":-60},"
                               "\"consumer\":{\"offers\":3,\"max_price\":10,\"deposit\":30,\"runs\":2,"
                               "\"run_size\":4,\"start_after_operators\":5,\"hold\":false},"
                               "\"meo\":{\"driver\":\"netns\",\"netns\":\"ns1\",\"underlay_ip\":\"10.0.0.1\","
                               "\"overlay_pool\":\"100.70.0.0/18\"}}", &cfg), 0);
    assert_false(cfg.consumer);
    assert_true(cfg.provider);
    assert_false(cfg.hold);
    assert_int_equal(cfg.pricing.base_per_hour, 7);
    assert_int_equal(cfg.pricing.utc_offset_min, -60);
    assert_int_equal(cfg.meo.overlay_pool_prefix, 18);
    assert_string_equal(cfg.meo.overlay_pool, "100.70.0.0");
    assert_string_equal(cfg.meo.netns, "ns1");
    /* rejections */
    assert_int_equal(parse_cfg("[]", &cfg), EF_ECONFIG);
    assert_int_equal(parse_cfg("{\"bogus\":1}", &cfg), EF_ECONFIG);
    assert_int_equal(parse_cfg("{\"roles\":[\"broker\"]}", &cfg), EF_ECONFIG);
    assert_int_equal(parse_cfg("{\"roles\":[]}", &cfg), EF_ECONFIG);
    assert_int_equal(parse_cfg("{\"location\":\"XX\"}", &cfg), EF_ECONFIG);
    assert_int_equal(parse_cfg("{\"consumer\":{\"max_price\":10,\"deposit\":5}}", &cfg), EF_ECONFIG);
    assert_int_equal(parse_cfg("{\"consumer\":{\"offers\":0}}", &cfg), EF_ECONFIG);
    assert_int_equal(parse_cfg("{\"consumer\":{\"service\":\"a b\"}}", &cfg), EF_ECONFIG);
    assert_int_equal(parse_cfg("{\"consumer\":{\"offers\":\"2\"}}", &cfg), EF_ECONFIG);
    assert_int_equal(parse_cfg("{\"meo\":{\"driver\":\"docker\"}}", &cfg), EF_ECONFIG);
    assert_int_equal(parse_cfg("{\"meo\":{\"overlay_pool\":\"100.70.0.0\"}}", &cfg), EF_ECONFIG);
    assert_int_equal(parse_cfg("{\"pricing\":{\"tod\":\"1,2\"}}", &cfg), EF_ECONFIG);
    assert_int_equal(parse_cfg("{\"register\":\"yes\"}", &cfg), EF_ECONFIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),
        cmocka_unit_test_setup_teardown(test_federation_end_to_end, mini_setup, mini_teardown),
        cmocka_unit_test_setup_teardown(test_no_offer_expires, mini_setup, mini_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
