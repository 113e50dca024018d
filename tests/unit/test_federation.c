/* test_federation.c: the federation contract through the real store and executor: the
 * happy path, every misbehaviour, ties, expiry, cancel and terminate refunds, queries,
 * and the total of balances unchanged by all of it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "base/ef_fs.h"
#include "contracts/ef_bank.h"
#include "contracts/ef_federation.h"
#include "contracts/ef_registry.h"
#include "ledger/ef_genesis.h"
#include "ledger/ef_ledger.h"
#include "ledger/ef_store.h"
#include "ledger/ef_tx.h"

/* Accounts: V validator (proposes), C consumer, P1..P3 providers, Y known to the
 * registry but never a federation operator, X unknown to the registry. */
enum { V, C, P1, P2, P3, Y, X, NACC };
static const char *const acc_names[NACC] = {"v", "c", "p1", "p2", "p3", "y", "x"};
#define START_BALANCE 100000
#define T0 1700000000000ull

typedef struct chain {
    char dir[256];
    ef_store *s;
    ef_keypair kp[NACC];
    char hex[NACC][2 * EF_PUB_SIZE + 1];
    uint64_t nonce[NACC];
    uint64_t now_ms;          /* time of the next block */
    char *events;             /* events JSON of the last tx (malloc'd) */
} chain;

static void rm_rf(const char *dir)
{
    assert_int_equal(ef_fs_remove_tree(dir), 0);
}

/* Creates the chain in a new directory; fed_params (JSON text or NULL) becomes the
 * genesis params of the federation contract. Returns ef_store_init_genesis's code. */
static int chain_open(chain *c, const char *fed_params)
{
    assert_int_equal(ef_crypto_init(), 0);
    const char *tmp = getenv("EF_TEST_TMP");
    if (!tmp) tmp = "/tmp";
    char mk[300];
    snprintf(mk, sizeof mk, "mkdir -p '%s'", tmp);
    assert_int_equal(system(mk), 0);
    snprintf(c->dir, sizeof c->dir, "%s/fedtest-%d-XXXXXX", tmp, (int)getpid());
    assert_non_null(mkdtemp(c->dir));
    for (int i = 0; i < NACC; i++) {
        uint8_t seed[EF_SEED_SIZE] = {0};
        seed[0] = (uint8_t)(i + 1);
        seed[1] = 0xfe;
        ef_keypair_from_seed(&c->kp[i], seed);
        ef_hex(c->hex[i], c->kp[i].pub.b, EF_PUB_SIZE);
    }
    json_t *g = json_pack("{s:s, s:I, s:[{s:s, s:s}], s:[], s:{}}", "chain_id", "fedtest", "time_ms",
                          (json_int_t)(T0 - 1000), "validators", "pub", c->hex[V], "domain", "mec-v",
                          "members", "balances");
    for (int i = C; i < X; i++)
        json_array_append_new(json_object_get(g, "members"),
                              json_pack("{s:s, s:s, s:s}", "pub", c->hex[i], "domain", "mec-v", "name", acc_names[i]));
    for (int i = 0; i < NACC; i++)
        json_object_set_new(json_object_get(g, "balances"), c->hex[i], json_integer(START_BALANCE));
    if (fed_params) {
        json_t *fp = json_loads(fed_params, 0, NULL);
        assert_non_null(fp);
        json_object_set_new(g, "params", json_pack("{s:o}", "federation", fp));
    }
    char *text = json_dumps(g, JSON_COMPACT);
    json_decref(g);
    ef_genesis gen;
    char err[200] = "";
    int rc = ef_genesis_parse(&gen, text, strlen(text), err, sizeof err);
    if (rc) fprintf(stderr, "genesis: %s\n", err);
    assert_int_equal(rc, 0);
    free(text);
    static const ef_contract *const contracts[] = {&ef_registry_contract, &ef_bank_contract,
                                                   &ef_federation_contract};
    ef_store_opts opts = {.contracts = contracts, .contracts_len = 3, .no_sync = true};
    assert_int_equal(ef_store_open(&c->s, c->dir, &opts), 0);
    rc = ef_store_init_genesis(c->s, &gen);
    ef_genesis_free(&gen);
    c->now_ms = T0;
    return rc;
}

static int chain_setup(void **state)
{
    chain *c = calloc(1, sizeof *c);
    assert_non_null(c);
    assert_int_equal(chain_open(c, NULL), 0);
    *state = c;
    return 0;
}

static int chain_teardown(void **state)
{
    chain *c = *state;
    ef_store_close(c->s);
    rm_rf(c->dir);
    free(c->events);
    free(c);
    return 0;
}

/* Runs one transaction in its own block at c->now_ms (then advances 1 s); returns
 * its result code; its events are left in c->events. */
static int tx(chain *c, int who, const char *method, const char *fmt, ...)
{
    char args[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);

    ef_tx t = {0};
    snprintf(t.chain_id, sizeof t.chain_id, "fedtest");
    t.sender = c->kp[who].pub;
    t.nonce = c->nonce[who];
    snprintf(t.contract, sizeof t.contract, "federation");
    snprintf(t.method, sizeof t.method, "%s", method);
    t.args = (const uint8_t *)args;
    t.args_len = strlen(args);
    assert_int_equal(ef_tx_sign(&t, &c->kp[who]), 0);
    ef_wr w;
    ef_wr_init(&w);
    assert_int_equal(ef_tx_encode(&w, &t), 0);
    size_t enc_len;
    uint8_t *enc = ef_wr_take(&w, &enc_len);
    ef_wr_free(&w);
    ef_txbuf cand = {enc, enc_len};
    int status = 1;
    uint8_t *block;
    size_t block_len;
    assert_int_equal(ef_ledger_propose(c->s, &cand, 1, c->now_ms, &c->kp[V].pub, NULL, &status, &block,
                                       &block_len), 0);
    assert_int_equal(status, 0);
    assert_int_equal(ef_ledger_commit(c->s, block, block_len, NULL, 0), 0);
    free(block);
    c->nonce[who]++;
    c->now_ms += 1000;

    ef_hash h;
    ef_tx_hash_enc(&h, enc, enc_len);
    free(enc);
    ef_tx_loc loc = {0};
    assert_int_equal(ef_store_tx_lookup(c->s, &h, &loc), 0);
    free(c->events);
    c->events = loc.events_json;
    return loc.code;
}

/* The events of the last tx include one called name; its data in *data (new ref) if asked. */
static bool has_event(chain *c, const char *name, json_t **data)
{
    json_t *arr = json_loads(c->events, 0, NULL);
    bool found = false;
    assert_non_null(arr);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *e = json_array_get(arr, i);
        if (!strcmp(json_string_value(json_object_get(e, "name")), name)) {
            found = true;
            if (data) *data = json_incref(json_object_get(e, "data"));
            break;
        }
    }
    json_decref(arr);
    return found;
}

/* The last tx emitted event `name` (an end of service) refunding `refunded`. */
static void expect_refund(chain *c, const char *name, json_int_t refunded)
{
    json_t *d = NULL;
    assert_true(has_event(c, name, &d));
    assert_int_equal(json_integer_value(json_object_get(d, "refunded")), refunded);
    json_decref(d);
}

/* The last tx awarded the service to account `who`. */
static void expect_winner(chain *c, int who)
{
    json_t *d = NULL;
    assert_true(has_event(c, "awarded", &d));
    assert_string_equal(json_string_value(json_object_get(d, "winner")), c->hex[who]);
    json_decref(d);
}

static size_t n_events(chain *c)
{
    json_t *arr = json_loads(c->events, 0, NULL);
    size_t n = json_array_size(arr);
    json_decref(arr);
    return n;
}

static uint64_t balance(chain *c, int who)
{
    char path[100];
    json_t *v = NULL;
    snprintf(path, sizeof path, "balance/%s", c->hex[who]);
    int rc = ef_store_query(c->s, "bank", path, &v);
    if (rc == EF_ENOTFOUND) return 0;
    assert_int_equal(rc, 0);
    json_t *b = json_is_object(v) ? json_object_get(v, "balance") : v;
    assert_true(json_is_integer(b));
    uint64_t out = (uint64_t)json_integer_value(b);
    json_decref(v);
    return out;
}

static uint64_t total(chain *c)
{
    uint64_t t = 0;
    for (int i = 0; i < NACC; i++) t += balance(c, i);
    return t;
}

static json_t *service(chain *c, uint64_t id)
{
    char path[64];
    json_t *v = NULL;
    snprintf(path, sizeof path, "service/%llu", (unsigned long long)id);
    assert_int_equal(ef_store_query(c->s, "federation", path, &v), 0);
    return v;
}

static const char *svc_state(chain *c, uint64_t id)
{
    static char st[32];
    json_t *v = service(c, id);
    snprintf(st, sizeof st, "%s", json_string_value(json_object_get(v, "state")));
    json_decref(v);
    return st;
}

static uint64_t svc_u64(chain *c, uint64_t id, const char *field)
{
    json_t *v = service(c, id);
    uint64_t out = (uint64_t)json_integer_value(json_object_get(v, field));
    json_decref(v);
    return out;
}

#define EP_C "{\"address\":\"10.77.0.1\",\"port\":4789,\"vni\":4097,\"subnet\":\"100.65.0.0/30\",\"overlay_ip\":\"100.65.0.1\"}"
#define EP_P "{\"address\":\"10.77.0.2\",\"port\":4789}"
#define EP_D "{\"address\":\"10.77.0.2\",\"port\":4789,\"vni\":4097,\"subnet\":\"100.65.0.0/30\",\"overlay_ip\":\"100.65.0.2\",\"app_port\":20001}"

static void register_all(chain *c)
{
    assert_int_equal(tx(c, C, "register", "{\"name\":\"MEC consumer\",\"location\":\"ES\"}"), 0);
    assert_true(has_event(c, "operator_registered", NULL));
    assert_int_equal(tx(c, P1, "register", "{\"name\":\"p1\",\"location\":\"DE\"}"), 0);
    assert_int_equal(tx(c, P2, "register", "{\"name\":\"p2\",\"location\":\"FR\"}"), 0);
    assert_int_equal(tx(c, P3, "register", "{\"name\":\"p3\",\"location\":\"IT\"}"), 0);
}

/* Announces as C: offers k, bid window, deploy window, max price, deposit; returns the id. */
static uint64_t announce(chain *c, int k, uint64_t bid_ms, uint64_t deploy_ms, uint64_t max, uint64_t deposit)
{
    int rc = tx(c, C, "announce",
                "{\"requirements\":{\"service\":\"video\",\"cpu_milli\":500},\"endpoint\":" EP_C
                ",\"offers\":%d,\"bid_window_ms\":%llu,\"deploy_window_ms\":%llu,\"max_price\":%llu,\"deposit\":%llu}",
                k, (unsigned long long)bid_ms, (unsigned long long)deploy_ms, (unsigned long long)max,
                (unsigned long long)deposit);
    assert_int_equal(rc, 0);
    json_t *d = NULL;
    assert_true(has_event(c, "announced", &d));
    uint64_t id = (uint64_t)json_integer_value(json_object_get(d, "id"));
    assert_string_equal(json_string_value(json_object_get(d, "consumer")), c->hex[C]);
    json_decref(d);
    return id;
}

/* A call that must fail with `want` and change neither the service record nor any balance. */
#define REJECT(c, id, want, who, method, ...)                                                     \
    do {                                                                                          \
        json_t *before_ = (id) ? service(c, id) : NULL;                                           \
        uint64_t bal_[NACC];                                                                      \
        for (int i_ = 0; i_ < NACC; i_++) bal_[i_] = balance(c, i_);                              \
        assert_int_equal(tx(c, who, method, __VA_ARGS__), want);                                  \
        assert_int_equal(n_events(c), 0);                                                         \
        for (int i_ = 0; i_ < NACC; i_++) assert_true(balance(c, i_) == bal_[i_]);                \
        if (before_) {                                                                            \
            json_t *after_ = service(c, id);                                                      \
            assert_true(json_equal(before_, after_));                                             \
            json_decref(after_);                                                                  \
            json_decref(before_);                                                                 \
        }                                                                                         \
    } while (0)

static void test_happy_path(void **state)
{
    chain *c = *state;
    uint64_t sum0 = total(c);
    register_all(c);
    uint64_t id = announce(c, 2, 60000, 60000, 500, 800);
    assert_string_equal(svc_state(c, id), "open");
    assert_true(balance(c, C) == START_BALANCE - 800);   /* deposit in escrow */

    assert_int_equal(tx(c, P1, "bid", "{\"id\":%llu,\"price\":300,\"endpoint\":" EP_P "}", (unsigned long long)id), 0);
    assert_true(has_event(c, "bid", NULL));
    assert_false(has_event(c, "awarded", NULL));
    assert_int_equal(tx(c, P2, "bid", "{\"id\":%llu,\"price\":200,\"endpoint\":" EP_P "}", (unsigned long long)id), 0);
    json_t *aw = NULL;
    assert_true(has_event(c, "awarded", &aw));   /* k-th offer: awarded in the same tx */
    assert_string_equal(json_string_value(json_object_get(aw, "winner")), c->hex[P2]);
    assert_int_equal(json_integer_value(json_object_get(aw, "price")), 200);
    assert_int_equal(json_integer_value(json_object_get(aw, "bids")), 2);
    assert_non_null(json_object_get(aw, "consumer_endpoint"));
    json_decref(aw);
    assert_string_equal(svc_state(c, id), "awarded");
    /* a third offer after the award */
    REJECT(c, id, EF_ESTATE, P3, "bid", "{\"id\":%llu,\"price\":100,\"endpoint\":" EP_P "}", (unsigned long long)id);

    /* only the winner confirms deployment */
    REJECT(c, id, EF_EPERM, P1, "confirm_deployment", "{\"id\":%llu,\"endpoint\":" EP_D "}", (unsigned long long)id);
    REJECT(c, id, EF_EPERM, C, "confirm_deployment", "{\"id\":%llu,\"endpoint\":" EP_D "}", (unsigned long long)id);
    /* connectivity before deployment */
    REJECT(c, id, EF_ESTATE, C, "confirm_connectivity", "{\"id\":%llu}", (unsigned long long)id);
    assert_int_equal(tx(c, P2, "confirm_deployment", "{\"id\":%llu,\"endpoint\":" EP_D "}", (unsigned long long)id), 0);
    assert_true(has_event(c, "deployed", NULL));
    REJECT(c, id, EF_ESTATE, P2, "confirm_deployment", "{\"id\":%llu,\"endpoint\":" EP_D "}", (unsigned long long)id);

    /* only the consumer confirms connectivity */
    REJECT(c, id, EF_EPERM, P2, "confirm_connectivity", "{\"id\":%llu}", (unsigned long long)id);
    REJECT(c, id, EF_EPERM, P1, "confirm_connectivity", "{\"id\":%llu}", (unsigned long long)id);
    assert_int_equal(tx(c, C, "confirm_connectivity", "{\"id\":%llu}", (unsigned long long)id), 0);
    json_t *cn = NULL;
    assert_true(has_event(c, "connected", &cn));
    assert_int_equal(json_integer_value(json_object_get(cn, "paid")), 200);
    assert_int_equal(json_integer_value(json_object_get(cn, "refunded")), 600);
    json_decref(cn);
    assert_true(balance(c, C) == START_BALANCE - 200);
    assert_true(balance(c, P2) == START_BALANCE + 200);
    assert_true(balance(c, P1) == START_BALANCE);
    assert_string_equal(svc_state(c, id), "connected");
    REJECT(c, id, EF_ESTATE, C, "confirm_connectivity", "{\"id\":%llu}", (unsigned long long)id);

    /* terminate: not by a third party; by the provider; once */
    REJECT(c, id, EF_EPERM, P1, "terminate", "{\"id\":%llu}", (unsigned long long)id);
    assert_int_equal(tx(c, P2, "terminate", "{\"id\":%llu,\"reason\":\"end of service\"}", (unsigned long long)id), 0);
    assert_true(has_event(c, "terminated", NULL));
    assert_string_equal(svc_state(c, id), "terminated");
    REJECT(c, id, EF_ESTATE, C, "terminate", "{\"id\":%llu}", (unsigned long long)id);
    assert_true(balance(c, C) == START_BALANCE - 200);
    assert_true(total(c) == sum0);

    /* queries */
    json_t *v = NULL;
    assert_int_equal(ef_store_query(c->s, "federation", "services?state=terminated", &v), 0);
    assert_int_equal(json_array_size(v), 1);
    json_decref(v);
    assert_int_equal(ef_store_query(c->s, "federation", "services/open", &v), 0);
    assert_int_equal(json_array_size(v), 0);
    json_decref(v);
    assert_int_equal(ef_store_query(c->s, "federation", "services", &v), 0);
    assert_int_equal(json_array_size(v), 1);
    json_decref(v);
    char path[100];
    snprintf(path, sizeof path, "operator/%s", c->hex[P2]);
    assert_int_equal(ef_store_query(c->s, "federation", path, &v), 0);
    assert_string_equal(json_string_value(json_object_get(v, "location")), "FR");
    assert_int_equal(json_array_size(json_object_get(v, "services")), 1);
    json_decref(v);
    assert_int_equal(ef_store_query(c->s, "federation", "operators", &v), 0);
    assert_int_equal(json_array_size(v), 4);
    json_decref(v);
    assert_int_equal(ef_store_query(c->s, "federation", "services?state=bogus", &v), EF_EINVAL);
    assert_int_equal(ef_store_query(c->s, "federation", "service/99", &v), EF_ENOTFOUND);
}

static void test_misbehaviour(void **state)
{
    chain *c = *state;
    uint64_t sum0 = total(c);
    /* registration */
    REJECT(c, 0, EF_EPERM, X, "register", "{\"name\":\"x\",\"location\":\"ES\"}");
    REJECT(c, 0, EF_EARGS, Y, "register", "{\"name\":\"y\",\"location\":\"ES\",\"extra\":1}");
    REJECT(c, 0, EF_EARGS, Y, "register", "{\"name\":\"y\"}");
    REJECT(c, 0, EF_EARGS, Y, "register", "{\"name\":\"y;rm\",\"location\":\"ES\"}");
    register_all(c);
    REJECT(c, 0, EF_EEXIST, C, "register", "{\"name\":\"again\",\"location\":\"ES\"}");

    /* announce */
    REJECT(c, 0, EF_EPERM, Y, "announce",
           "{\"requirements\":{\"service\":\"v\"},\"endpoint\":" EP_C ",\"offers\":1,\"bid_window_ms\":1000,"
           "\"deploy_window_ms\":1000,\"max_price\":10,\"deposit\":10}");
    REJECT(c, 0, EF_EINVAL, C, "announce",
           "{\"requirements\":{\"service\":\"v\"},\"endpoint\":" EP_C ",\"offers\":1,\"bid_window_ms\":1000,"
           "\"deploy_window_ms\":1000,\"max_price\":10,\"deposit\":9}");
    REJECT(c, 0, EF_EINVAL, C, "announce",
           "{\"requirements\":{\"service\":\"v\"},\"endpoint\":" EP_C ",\"offers\":0,\"bid_window_ms\":1000,"
           "\"deploy_window_ms\":1000,\"max_price\":10,\"deposit\":10}");
    REJECT(c, 0, EF_EFUNDS, C, "announce",
           "{\"requirements\":{\"service\":\"v\"},\"endpoint\":" EP_C ",\"offers\":1,\"bid_window_ms\":1000,"
           "\"deploy_window_ms\":1000,\"max_price\":10,\"deposit\":%d}", START_BALANCE + 1);
    /* endpoint without the tunnel fields; unknown requirement */
    REJECT(c, 0, EF_EARGS, C, "announce",
           "{\"requirements\":{\"service\":\"v\"},\"endpoint\":" EP_P ",\"offers\":1,\"bid_window_ms\":1000,"
           "\"deploy_window_ms\":1000,\"max_price\":10,\"deposit\":10}");
    REJECT(c, 0, EF_EARGS, C, "announce",
           "{\"requirements\":{\"service\":\"v\",\"gpu\":1},\"endpoint\":" EP_C ",\"offers\":1,\"bid_window_ms\":1000,"
           "\"deploy_window_ms\":1000,\"max_price\":10,\"deposit\":10}");
    REJECT(c, 0, EF_EARGS, C, "announce", "not json");

    uint64_t id = announce(c, 3, 120000, 10000, 500, 500);
    /* bids */
    REJECT(c, id, EF_ENOTFOUND, P1, "bid", "{\"id\":%llu,\"price\":100,\"endpoint\":" EP_P "}", (unsigned long long)id + 1);
    REJECT(c, id, EF_EPERM, X, "bid", "{\"id\":%llu,\"price\":100,\"endpoint\":" EP_P "}", (unsigned long long)id);
    REJECT(c, id, EF_EPERM, Y, "bid", "{\"id\":%llu,\"price\":100,\"endpoint\":" EP_P "}", (unsigned long long)id);
    REJECT(c, id, EF_EPERM, C, "bid", "{\"id\":%llu,\"price\":100,\"endpoint\":" EP_P "}", (unsigned long long)id);
    REJECT(c, id, EF_EPRICE, P1, "bid", "{\"id\":%llu,\"price\":501,\"endpoint\":" EP_P "}", (unsigned long long)id);
    REJECT(c, id, EF_EINVAL, P1, "bid", "{\"id\":%llu,\"price\":0,\"endpoint\":" EP_P "}", (unsigned long long)id);
    REJECT(c, id, EF_EARGS, P1, "bid", "{\"id\":%llu,\"price\":-5,\"endpoint\":" EP_P "}", (unsigned long long)id);
    REJECT(c, id, EF_EARGS, P1, "bid", "{\"id\":%llu,\"price\":5,\"endpoint\":{\"address\":\"a b\",\"port\":1}}",
           (unsigned long long)id);
    REJECT(c, id, EF_EARGS, P1, "bid", "{\"id\":%llu,\"price\":5,\"endpoint\":{\"address\":\"a\",\"port\":70000}}",
           (unsigned long long)id);
    assert_int_equal(tx(c, P1, "bid", "{\"id\":%llu,\"price\":400,\"endpoint\":" EP_P "}", (unsigned long long)id), 0);
    REJECT(c, id, EF_EDUP, P1, "bid", "{\"id\":%llu,\"price\":300,\"endpoint\":" EP_P "}", (unsigned long long)id);
    /* close before the deadline; deployment before any award; cancel while open */
    REJECT(c, id, EF_EAGAIN, P3, "close", "{\"id\":%llu}", (unsigned long long)id);
    REJECT(c, id, EF_EPERM, P1, "confirm_deployment", "{\"id\":%llu,\"endpoint\":" EP_D "}", (unsigned long long)id);
    REJECT(c, id, EF_ESTATE, C, "cancel", "{\"id\":%llu}", (unsigned long long)id);
    REJECT(c, id, EF_ESTATE, C, "terminate", "{\"id\":%llu}", (unsigned long long)id);
    /* late bid: block time at or past the deadline */
    c->now_ms = svc_u64(c, id, "deadline_ms");
    REJECT(c, id, EF_ELATE, P2, "bid", "{\"id\":%llu,\"price\":100,\"endpoint\":" EP_P "}", (unsigned long long)id);
    /* close with fewer than k offers: award to what arrived (anyone may close) */
    assert_int_equal(tx(c, X, "close", "{\"id\":%llu}", (unsigned long long)id), 0);
    expect_winner(c, P1);
    REJECT(c, id, EF_ESTATE, X, "close", "{\"id\":%llu}", (unsigned long long)id);
    /* the consumer terminates before deployment: full refund */
    assert_int_equal(tx(c, C, "terminate", "{\"id\":%llu}", (unsigned long long)id), 0);
    expect_refund(c, "terminated", 500);
    assert_true(balance(c, C) == START_BALANCE);
    assert_true(total(c) == sum0);
}

static void test_tie_earliest_wins(void **state)
{
    chain *c = *state;
    register_all(c);
    uint64_t id = announce(c, 3, 60000, 60000, 500, 500);
    assert_int_equal(tx(c, P1, "bid", "{\"id\":%llu,\"price\":200,\"endpoint\":" EP_P "}", (unsigned long long)id), 0);
    assert_int_equal(tx(c, P3, "bid", "{\"id\":%llu,\"price\":100,\"endpoint\":" EP_P "}", (unsigned long long)id), 0);
    assert_int_equal(tx(c, P2, "bid", "{\"id\":%llu,\"price\":100,\"endpoint\":" EP_P "}", (unsigned long long)id), 0);
    expect_winner(c, P3);
}

static void test_expiry_refund(void **state)
{
    chain *c = *state;
    uint64_t sum0 = total(c);
    register_all(c);
    uint64_t id = announce(c, 2, 5000, 5000, 300, 1000);
    assert_true(balance(c, C) == START_BALANCE - 1000);
    REJECT(c, id, EF_EAGAIN, C, "close", "{\"id\":%llu}", (unsigned long long)id);
    c->now_ms += 5000;
    assert_int_equal(tx(c, P2, "close", "{\"id\":%llu}", (unsigned long long)id), 0);
    expect_refund(c, "expired", 1000);
    assert_string_equal(svc_state(c, id), "expired");
    assert_true(balance(c, C) == START_BALANCE);
    REJECT(c, id, EF_ESTATE, P1, "bid", "{\"id\":%llu,\"price\":100,\"endpoint\":" EP_P "}", (unsigned long long)id);
    REJECT(c, id, EF_ESTATE, C, "close", "{\"id\":%llu}", (unsigned long long)id);
    REJECT(c, id, EF_ESTATE, C, "terminate", "{\"id\":%llu}", (unsigned long long)id);
    assert_true(total(c) == sum0);
}

static void test_cancel_refund(void **state)
{
    chain *c = *state;
    uint64_t sum0 = total(c);
    register_all(c);
    uint64_t id = announce(c, 1, 60000, 4000, 300, 700);
    assert_int_equal(tx(c, P1, "bid", "{\"id\":%llu,\"price\":250,\"endpoint\":" EP_P "}", (unsigned long long)id), 0);
    assert_true(has_event(c, "awarded", NULL));
    REJECT(c, id, EF_EAGAIN, C, "cancel", "{\"id\":%llu}", (unsigned long long)id);
    REJECT(c, id, EF_EPERM, P1, "cancel", "{\"id\":%llu}", (unsigned long long)id);
    c->now_ms = svc_u64(c, id, "deploy_deadline_ms");
    REJECT(c, id, EF_ELATE, P1, "confirm_deployment", "{\"id\":%llu,\"endpoint\":" EP_D "}", (unsigned long long)id);
    REJECT(c, id, EF_EPERM, P2, "cancel", "{\"id\":%llu}", (unsigned long long)id);
    assert_int_equal(tx(c, C, "cancel", "{\"id\":%llu}", (unsigned long long)id), 0);
    expect_refund(c, "cancelled", 700);
    assert_string_equal(svc_state(c, id), "cancelled");
    REJECT(c, id, EF_ESTATE, C, "cancel", "{\"id\":%llu}", (unsigned long long)id);
    REJECT(c, id, EF_ESTATE, P1, "terminate", "{\"id\":%llu}", (unsigned long long)id);
    assert_true(balance(c, C) == START_BALANCE);
    assert_true(balance(c, P1) == START_BALANCE);
    assert_true(total(c) == sum0);
}

static void test_terminate_deployed_refund(void **state)
{
    chain *c = *state;
    uint64_t sum0 = total(c);
    register_all(c);
    uint64_t id1 = announce(c, 1, 60000, 60000, 300, 300);
    uint64_t id2 = announce(c, 1, 60000, 60000, 300, 600);
    assert_true(id2 == id1 + 1);
    assert_int_equal(tx(c, P1, "bid", "{\"id\":%llu,\"price\":100,\"endpoint\":" EP_P "}", (unsigned long long)id1), 0);
    assert_int_equal(tx(c, P2, "bid", "{\"id\":%llu,\"price\":150,\"endpoint\":" EP_P "}", (unsigned long long)id2), 0);
    assert_int_equal(tx(c, P1, "confirm_deployment", "{\"id\":%llu,\"endpoint\":" EP_D "}", (unsigned long long)id1), 0);
    assert_int_equal(tx(c, P2, "confirm_deployment", "{\"id\":%llu,\"endpoint\":" EP_D "}", (unsigned long long)id2), 0);
    /* the provider ends a deployed, unpaid service: the consumer gets the deposit back */
    assert_int_equal(tx(c, P1, "terminate", "{\"id\":%llu,\"reason\":\"maintenance\"}", (unsigned long long)id1), 0);
    assert_true(has_event(c, "terminated", NULL));
    assert_true(balance(c, P1) == START_BALANCE);
    assert_true(balance(c, C) == START_BALANCE - 600);
    /* the other one is paid */
    assert_int_equal(tx(c, C, "confirm_connectivity", "{\"id\":%llu}", (unsigned long long)id2), 0);
    assert_true(balance(c, P2) == START_BALANCE + 150);
    assert_true(balance(c, C) == START_BALANCE - 150);
    assert_true(total(c) == sum0);
    json_t *v = NULL;
    assert_int_equal(ef_store_query(c->s, "federation", "services?state=connected", &v), 0);
    assert_int_equal(json_array_size(v), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(v, 0), "id")), (json_int_t)id2);
    json_decref(v);
    assert_int_equal(ef_store_query(c->s, "federation", "services?state=terminated", &v), 0);
    assert_int_equal(json_array_size(v), 1);
    json_decref(v);
}

static void test_genesis_operators(void **state)
{
    (void)state;
    char params[600];
    /* operators registered at genesis can announce and bid at once */
    chain *c = calloc(1, sizeof *c);
    assert_non_null(c);
    uint8_t seed[EF_SEED_SIZE] = {0};
    ef_keypair kp;
    char hc[65], hp[65];
    seed[0] = C + 1, seed[1] = 0xfe;
    ef_keypair_from_seed(&kp, seed);
    ef_hex(hc, kp.pub.b, EF_PUB_SIZE);
    seed[0] = P1 + 1;
    ef_keypair_from_seed(&kp, seed);
    ef_hex(hp, kp.pub.b, EF_PUB_SIZE);
    snprintf(params, sizeof params,
             "{\"operators\":[{\"operator\":\"%s\",\"name\":\"c\",\"location\":\"ES\"},"
             "{\"operator\":\"%s\",\"name\":\"p1\",\"location\":\"DE\"}]}", hc, hp);
    assert_int_equal(chain_open(c, params), 0);
    uint64_t id = announce(c, 1, 60000, 60000, 100, 100);
    assert_int_equal(tx(c, P1, "bid", "{\"id\":%llu,\"price\":90,\"endpoint\":" EP_P "}", (unsigned long long)id), 0);
    assert_true(has_event(c, "awarded", NULL));
    REJECT(c, 0, EF_EEXIST, C, "register", "{\"name\":\"again\",\"location\":\"ES\"}");
    void *st = c;
    chain_teardown(&st);

    /* an operator the registry does not know, or a malformed entry: genesis fails */
    c = calloc(1, sizeof *c);
    assert_non_null(c);
    snprintf(params, sizeof params, "{\"operators\":[{\"operator\":\"%064d\",\"name\":\"z\",\"location\":\"ES\"}]}", 7);
    assert_int_equal(chain_open(c, params), EF_ECONFIG);
    st = c;
    chain_teardown(&st);
    c = calloc(1, sizeof *c);
    assert_non_null(c);
    assert_int_equal(chain_open(c, "{\"operators\":[{\"name\":\"z\"}]}"), EF_ECONFIG);
    st = c;
    chain_teardown(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_happy_path, chain_setup, chain_teardown),
        cmocka_unit_test_setup_teardown(test_misbehaviour, chain_setup, chain_teardown),
        cmocka_unit_test_setup_teardown(test_tie_earliest_wins, chain_setup, chain_teardown),
        cmocka_unit_test_setup_teardown(test_expiry_refund, chain_setup, chain_teardown),
        cmocka_unit_test_setup_teardown(test_cancel_refund, chain_setup, chain_teardown),
        cmocka_unit_test_setup_teardown(test_terminate_deployed_refund, chain_setup, chain_teardown),
        cmocka_unit_test(test_genesis_operators),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
