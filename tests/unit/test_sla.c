/* test_sla.c: the sla contract through the real store and executor: the receipt
 * codec; the whole state machine (offer, activation with escrow, confirm, fail,
 * expiry, claims, operator receipts, contradiction, regulator rulings, double
 * receipts, close) with exact balances; every rejected call with its own code
 * and nothing changed; and seeded random call sequences checking that money is
 * conserved and that no epoch is settled twice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/ef_receipt.h"
#include "contracts/ef_sla.h"
#include "ef_test_mkt.h"

#define OP 0                  /* an operator (validator) */
#define OP2 1                 /* another operator */
#define CUST m_dev(0)         /* a customer (member) */
#define CUST2 m_dev(1)
#define CTRL m_dev(4)         /* OP's controller key (member) */
#define REG(i) m_dev(5 + (i)) /* three regulators */
#define NREG 3
#define BOND 100000
#define PRICE 1000
#define EPOCH_MS 1000         /* one block per epoch (m_commit adds 1000 ms) */

/* Monitor keys: never accounts on the chain. */
static ef_keypair mon_cust, mon_edge, mon_other;

static const ef_sla_rules RULES = {.min_kbps = 1000, .max_latency_us = 20000, .max_loss_ppm = 10000};
/* penalty ppm: bandwidth 50%, latency 30%, loss 20% */
#define PENALTY "{\"min_kbps\":500000,\"max_latency_us\":300000,\"max_loss_ppm\":200000}"

/* m_open with NREG of the devices made regulators (validators with role regulator). */
static void s_open(mchain *c)
{
    memset(c, 0, sizeof *c);
    assert_int_equal(ef_crypto_init(), 0);
    const char *tmp = getenv("EF_TEST_TMP");
    if (!tmp) tmp = "/tmp";
    char mk[300];
    snprintf(mk, sizeof mk, "mkdir -p '%s'", tmp);
    assert_int_equal(system(mk), 0);
    snprintf(c->dir, sizeof c->dir, "%s/slatest-%d-XXXXXX", tmp, (int)getpid());
    assert_non_null(mkdtemp(c->dir));
    for (int i = 0; i < M_NACC; i++) {
        uint8_t seed[EF_SEED_SIZE] = {0};
        seed[0] = (uint8_t)(i + 1);
        seed[1] = 0x5a;
        ef_keypair_from_seed(&c->kp[i], seed);
        ef_hex(c->hex[i], c->kp[i].pub.b, EF_PUB_SIZE);
    }
    json_t *g = json_pack("{s:s, s:I, s:[], s:[], s:{}}", "chain_id", M_CHAIN, "time_ms", (json_int_t)1000,
                          "validators", "members", "balances");
    for (int i = 0; i < M_NCOMP; i++) {
        char dom[16];
        snprintf(dom, sizeof dom, "co%d", i);
        json_array_append_new(json_object_get(g, "validators"), json_pack("{s:s, s:s}", "pub", c->hex[i], "domain", dom));
    }
    for (int i = 0; i < NREG; i++)
        json_array_append_new(json_object_get(g, "validators"),
                              json_pack("{s:s, s:s, s:s}", "pub", c->hex[REG(i)], "domain", "reg", "role", "regulator"));
    for (int i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "dev%d", i);
        json_array_append_new(json_object_get(g, "members"),
                              json_pack("{s:s, s:s, s:s}", "pub", c->hex[m_dev(i)], "domain", "co0", "name", name));
    }
    for (int i = 0; i < M_NACC; i++)
        json_object_set_new(json_object_get(g, "balances"), c->hex[i], json_integer(M_BALANCE));
    char *text = json_dumps(g, JSON_COMPACT);
    json_decref(g);
    ef_genesis gen;
    char err[200] = "";
    int rc = ef_genesis_parse(&gen, text, strlen(text), err, sizeof err);
    if (rc) fprintf(stderr, "genesis: %s\n", err);
    assert_int_equal(rc, 0);
    free(text);
    assert_int_equal(ef_store_open(&c->s, c->dir, &(ef_store_opts){EF_CONTRACTS_BUILTIN, .no_sync = true}), 0);
    assert_int_equal(ef_store_init_genesis(c->s, &gen), 0);
    ef_genesis_free(&gen);
    c->now_ms = 2000;
    uint8_t seed[EF_SEED_SIZE] = {0x77};
    ef_keypair_from_seed(&mon_cust, seed);
    seed[0] = 0x78;
    ef_keypair_from_seed(&mon_edge, seed);
    seed[0] = 0x79;
    ef_keypair_from_seed(&mon_other, seed);
}

/* As m_tx with room for many receipts in the args. */
static int s_tx(mchain *c, int who, const char *method, const char *fmt, ...)
{
    char *args = malloc(EF_TX_ARGS_MAX + 1);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, EF_TX_ARGS_MAX + 1, fmt, ap);
    va_end(ap);
    ef_tx t;
    memset(&t, 0, sizeof t);
    snprintf(t.chain_id, sizeof t.chain_id, "%s", M_CHAIN);
    t.sender = c->kp[who].pub;
    t.nonce = c->nonce[who]++;
    snprintf(t.contract, sizeof t.contract, "sla");
    snprintf(t.method, sizeof t.method, "%s", method);
    t.args = (const uint8_t *)args;
    t.args_len = strlen(args);
    assert_int_equal(ef_tx_sign(&t, &c->kp[who]), 0);
    ef_wr w;
    ef_wr_init(&w);
    assert_int_equal(ef_tx_encode(&w, &t), 0);
    c->enc[c->n] = ef_wr_take(&w, &c->len[c->n]);
    c->n++;
    free(args);
    m_commit(c);
    return c->code[0];
}

static json_int_t bal(mchain *c, int who) { return m_qint(c, "bank", "balance", "balance/%s", c->hex[who]); }

static char mon_hex_buf[3][65];
static const char *hexpub(const ef_keypair *kp, int slot)
{
    ef_hex(mon_hex_buf[slot], kp->pub.b, EF_PUB_SIZE);
    return mon_hex_buf[slot];
}

/* A receipt hex (verdict from RULES) for sla/epoch with the given values. */
static void rcpt(char *out, uint64_t sla, uint64_t epoch, uint64_t kbps, uint64_t sent, uint64_t recv, uint64_t p99,
                 const ef_keypair *kp)
{
    ef_receipt r;
    memset(&r, 0, sizeof r);
    snprintf(r.chain_id, sizeof r.chain_id, "%s", M_CHAIN);
    r.sla = sla;
    r.epoch = epoch;
    r.kbps = kbps;
    r.pkts_sent = sent;
    r.pkts_recv = recv;
    r.lat_p50_us = p99 / 2;
    r.lat_p99_us = p99;
    r.lat_max_us = p99 + 5;
    ef_hash_tagged(&r.samples, EF_TAG_RECEIPT, &epoch, sizeof epoch);
    assert_int_equal(ef_receipt_make(&r, &RULES, kp), 0);
    assert_int_equal(ef_receipt_hex(out, EF_RECEIPT_HEX_MAX + 1, &r), 0);
}

/* A good epoch, and a breached one (bandwidth and latency). */
static void good(char *out, uint64_t sla, uint64_t e, const ef_keypair *kp) { rcpt(out, sla, e, 5000, 1000, 1000, 9000, kp); }
static void bad(char *out, uint64_t sla, uint64_t e, const ef_keypair *kp) { rcpt(out, sla, e, 10, 1000, 1000, 90000, kp); }

static void bond(mchain *c, int op, uint64_t amount)
{
    assert_int_equal(s_tx(c, op, "post_bond", "{\"amount\":%llu}", (unsigned long long)amount), 0);
}

static int offer_rc(mchain *c, int op, uint64_t cheat, uint64_t max_epochs, uint64_t confirm, uint64_t claim_ms,
                    uint64_t dispute)
{
    return s_tx(c, op, "offer",
                "{\"area\":[\"ap1\",\"ap2\"],\"rules\":{\"min_kbps\":1000,\"max_latency_us\":20000,"
                "\"max_loss_ppm\":10000},\"price\":%d,\"epoch_ms\":%d,\"max_epochs\":%llu,\"penalty\":" PENALTY
                ",\"cheat_penalty\":%llu,\"confirm_blocks\":%llu,\"claim_window_ms\":%llu,"
                "\"dispute_window_blocks\":%llu}",
                PRICE, EPOCH_MS, (unsigned long long)max_epochs, (unsigned long long)cheat,
                (unsigned long long)confirm, (unsigned long long)claim_ms, (unsigned long long)dispute);
}

/* An offer with cheat penalty 5000, up to 16 epochs. */
static uint64_t offer_w(mchain *c, int op, uint64_t confirm, uint64_t claim_ms, uint64_t dispute)
{
    assert_int_equal(offer_rc(c, op, 5000, 16, confirm, claim_ms, dispute), 0);
    return (uint64_t)m_event_int(c, 0, "offered", "offer");
}

static uint64_t offer(mchain *c, int op) { return offer_w(c, op, 20, 10000, 2); }

static int activate_rc(mchain *c, int cust, uint64_t off, uint64_t epochs, const char *ap)
{
    return s_tx(c, cust, "activate", "{\"offer\":%llu,\"epochs\":%llu,\"ap\":\"%s\",\"dst\":\"srv:9000\",\"monitor\":\"%s\"}",
                (unsigned long long)off, (unsigned long long)epochs, ap, hexpub(&mon_cust, 0));
}

static uint64_t activate(mchain *c, int cust, uint64_t off, uint64_t epochs)
{
    assert_int_equal(activate_rc(c, cust, off, epochs, "ap1"), 0);
    return (uint64_t)m_event_int(c, 0, "activated", "sla");
}

static int confirm_rc(mchain *c, int who, uint64_t sla)
{
    return s_tx(c, who, "confirm", "{\"sla\":%llu,\"slice\":\"s-%llu\",\"path\":[\"l1\",\"l2\"],\"edge_monitor\":\"%s\"}",
                (unsigned long long)sla, (unsigned long long)sla, hexpub(&mon_edge, 1));
}

static json_t *sla_q(mchain *c, uint64_t sla) { return m_query(c, "sla", "sla/%llu", (unsigned long long)sla); }

static const char *ep_status(json_t *s, size_t e)
{
    return json_string_value(json_array_get(json_object_get(s, "epoch_status"), e));
}

static void wait_blocks(mchain *c, int n)
{
    for (int i = 0; i < n; i++) m_commit(c);
}

/* Escrow, bank supply and the SLA's own books agree. */
static void check_sla_books(mchain *c, uint64_t sla)
{
    json_t *s = sla_q(c, sla);
    json_int_t esc = json_integer_value(json_object_get(s, "escrow"));
    json_int_t paid = json_integer_value(json_object_get(s, "paid"));
    json_int_t ref = json_integer_value(json_object_get(s, "refunded"));
    json_int_t left = json_integer_value(json_object_get(s, "left"));
    assert_int_equal(esc, paid + ref + left);
    json_decref(s);
    m_check_supply(c);
}

/* --- receipts --- */

static void test_receipt_codec(void **state)
{
    (void)state;
    assert_int_equal(ef_crypto_init(), 0);
    ef_keypair kp, other;
    ef_keypair_generate(&kp);
    ef_keypair_generate(&other);
    ef_receipt r = {.chain_id = "c1", .sla = 7, .epoch = 3, .kbps = 999, .pkts_sent = 1000, .pkts_recv = 990,
                    .lat_p50_us = 10, .lat_p99_us = 25000, .lat_max_us = 30000}, d;
    assert_int_equal(ef_receipt_make(&r, &RULES, &kp), 0);
    assert_int_equal(r.loss_ppm, 10000);
    assert_int_equal(r.verdict, EF_VERDICT_KBPS | EF_VERDICT_LATENCY);   /* loss 10000 is not over 10000 */
    ef_wr w;
    ef_wr_init(&w);
    assert_int_equal(ef_receipt_encode(&w, &r), 0);
    assert_int_equal(w.len, 226 + 2);
    assert_int_equal(ef_receipt_decode(&d, w.buf, w.len), 0);
    assert_true(ef_receipt_same(&r, &d));
    assert_int_equal(ef_receipt_verify(&d, &kp.pub), 0);
    assert_int_equal(ef_receipt_verify(&d, &other.pub), EF_ESIGNER);
    d.kbps = 1000;   /* tampered */
    assert_int_equal(ef_receipt_verify(&d, NULL), EF_EBADSIG);
    /* offsets of the table in ef_receipt.h */
    assert_int_equal(ef_get_u64le(w.buf + 29 + 2), 7);
    assert_int_equal(ef_get_u64le(w.buf + 37 + 2), 3);
    assert_int_equal(ef_get_u32le(w.buf + 69 + 2), 10000);
    assert_int_equal(w.buf[129 + 2], 3);
    assert_int_equal(ef_receipt_decode(&d, w.buf, w.len - 1), EF_ETRUNC);
    uint8_t *b = malloc(w.len + 1);
    memcpy(b, w.buf, w.len);
    b[w.len] = 0;
    assert_int_equal(ef_receipt_decode(&d, b, w.len + 1), EF_ETRAILING);
    b[129 + 2] = 0x0b;   /* a reserved verdict bit */
    assert_int_equal(ef_receipt_decode(&d, b, w.len), EF_ENONCANON);
    b[129 + 2] = 3;
    b[69 + 2] ^= 1;      /* loss not what the counts give */
    assert_int_equal(ef_receipt_decode(&d, b, w.len), EF_EINVAL);
    b[69 + 2] ^= 1;
    b[10] ^= 1;          /* domain tag */
    assert_int_equal(ef_receipt_decode(&d, b, w.len), EF_EPROTO);
    b[10] ^= 1;
    assert_int_equal(ef_receipt_decode(&d, b, w.len), 0);
    free(b);
    ef_wr_free(&w);
    char hex[EF_RECEIPT_HEX_MAX + 1];
    assert_int_equal(ef_receipt_hex(hex, sizeof hex, &r), 0);
    assert_int_equal(ef_receipt_decode_hex(&d, hex), 0);
    assert_int_equal(ef_receipt_decode_hex(&d, "zz"), EF_EINVAL);
    assert_int_equal(ef_receipt_decode_hex(&d, ""), EF_EINVAL);
    ef_receipt bad_r = r;
    bad_r.pkts_recv = 1001;
    assert_int_equal(ef_receipt_make(&bad_r, &RULES, &kp), EF_EINVAL);
    bad_r = r;
    bad_r.lat_p50_us = 26000;
    assert_int_equal(ef_receipt_make(&bad_r, &RULES, &kp), EF_EINVAL);
    bad_r = r;
    bad_r.pkts_sent = bad_r.pkts_recv = EF_RECEIPT_PKTS_MAX + 1;
    assert_int_equal(ef_receipt_make(&bad_r, &RULES, &kp), EF_ETOOBIG);
    assert_int_equal(ef_sla_payout(1000, (uint32_t[3]){500000, 300000, 200000}, 7), 0);
    assert_int_equal(ef_sla_payout(1000, (uint32_t[3]){500000, 300000, 200000}, 2), 700);
    assert_int_equal(ef_sla_payout(999, (uint32_t[3]){500000, 300000, 200000}, 1), 500);   /* penalty rounds down */
    assert_int_equal(ef_sla_payout(INT64_MAX, (uint32_t[3]){1000000, 1000000, 1000000}, 7), 0);
}

/* --- the state machine --- */

static void test_sla_session(void **state)
{
    (void)state;
    mchain *c = calloc(1, sizeof *c);
    s_open(c);
    json_int_t op0 = bal(c, OP), cu0 = bal(c, CUST);
    bond(c, OP, BOND);
    uint64_t off = offer(c, OP);
    uint64_t sla = activate(c, CUST, off, 4);
    assert_int_equal(bal(c, CUST), cu0 - 4 * PRICE);
    json_t *ev = m_event(c, 0, "activated");
    assert_int_equal(json_integer_value(json_object_get(ev, "deadline_height")), m_height(c) + 20);
    assert_string_equal(json_string_value(json_object_get(ev, "ap")), "ap1");
    json_decref(ev);
    json_t *b = m_query(c, "sla", "bond/%s", c->hex[OP]);
    assert_int_equal(json_integer_value(json_object_get(b, "reserved")), 5000);
    json_decref(b);
    /* the controller confirms for the operator */
    assert_int_equal(confirm_rc(c, CTRL, sla), EF_EPERM);
    assert_int_equal(s_tx(c, OP, "set_controller", "{\"controller\":\"%s\"}", c->hex[CTRL]), 0);
    assert_int_equal(confirm_rc(c, CTRL, sla), 0);
    json_int_t start = m_event_int(c, 0, "confirmed", "start_ms");
    assert_int_equal(m_event_int(c, 0, "confirmed", "end_ms"), start + 4 * EPOCH_MS);
    json_t *s = sla_q(c, sla);
    assert_string_equal(json_string_value(json_object_get(s, "state")), "active");
    json_decref(s);
    char r0[EF_RECEIPT_HEX_MAX + 1], r1[sizeof r0], r2[sizeof r0];
    good(r0, sla, 0, &mon_cust);
    bad(r1, sla, 1, &mon_cust);
    /* one block later epoch 0 is over, epoch 1 not yet */
    assert_int_equal(s_tx(c, CTRL, "claim", "{\"sla\":%llu,\"receipts\":[\"%s\"]}", (unsigned long long)sla, r1),
                     EF_EAGAIN);
    wait_blocks(c, 3);
    /* epochs 0 (good) and 1 (breached: bandwidth + latency, 80% penalty) in one claim */
    assert_int_equal(s_tx(c, OP, "claim", "{\"sla\":%llu,\"receipts\":[\"%s\",\"%s\"]}", (unsigned long long)sla, r0, r1),
                     0);
    assert_int_equal(m_event_int(c, 0, "paid", "to_operator"), PRICE + 200);
    assert_int_equal(m_event_int(c, 0, "paid", "to_customer"), 800);
    assert_int_equal(s_tx(c, OP, "claim", "{\"sla\":%llu,\"receipts\":[\"%s\"]}", (unsigned long long)sla, r0),
                     EF_EDUP);
    s = sla_q(c, sla);
    assert_string_equal(ep_status(s, 0), "paid");
    assert_string_equal(ep_status(s, 1), "breached");
    assert_string_equal(ep_status(s, 2), "open");
    json_decref(s);
    check_sla_books(c, sla);
    /* close: not before the claim window ends */
    assert_int_equal(s_tx(c, CUST, "close", "{\"sla\":%llu}", (unsigned long long)sla), EF_EAGAIN);
    wait_blocks(c, 12);
    good(r2, sla, 2, &mon_cust);
    assert_int_equal(s_tx(c, OP, "claim", "{\"sla\":%llu,\"receipts\":[\"%s\"]}", (unsigned long long)sla, r2),
                     EF_ELATE);
    assert_int_equal(s_tx(c, CUST2, "close", "{\"sla\":%llu}", (unsigned long long)sla), 0);
    assert_int_equal(m_event_int(c, 0, "closed", "refunded_epochs"), 2);
    assert_int_equal(s_tx(c, CUST2, "close", "{\"sla\":%llu}", (unsigned long long)sla), EF_ESTATE);
    /* the operator got 1200, the customer paid 4000 and got 800 + 2000 back */
    assert_int_equal(bal(c, CUST), cu0 - 1200);
    assert_int_equal(s_tx(c, OP, "withdraw_bond", "{\"amount\":%d}", BOND + 1), EF_EFUNDS);
    assert_int_equal(s_tx(c, OP, "withdraw_bond", "{\"amount\":%d}", BOND), 0);
    assert_int_equal(bal(c, OP), op0 + 1200);
    check_sla_books(c, sla);
    json_t *all = m_query(c, "sla", "all");
    assert_int_equal(json_array_size(all), 1);
    json_decref(all);
    json_t *live = m_query(c, "sla", "slas");
    assert_int_equal(json_array_size(live), 0);
    json_decref(live);
    m_close(c);
    free(c);
}

static void test_sla_nullify(void **state)
{
    (void)state;
    mchain *c = calloc(1, sizeof *c);
    s_open(c);
    json_int_t cu0 = bal(c, CUST);
    bond(c, OP, BOND);
    uint64_t off = offer(c, OP);
    /* the controller reports failure: full refund, reservation released */
    uint64_t a = activate(c, CUST, off, 3);
    assert_int_equal(s_tx(c, OP, "fail", "{\"sla\":%llu,\"reason\":\"no path with 1000 kbps\"}", (unsigned long long)a), 0);
    assert_int_equal(m_event_int(c, 0, "nullified", "refunded"), 3 * PRICE);
    assert_int_equal(bal(c, CUST), cu0);
    assert_int_equal(s_tx(c, OP, "fail", "{\"sla\":%llu,\"reason\":\"again\"}", (unsigned long long)a), EF_ESTATE);
    assert_int_equal(confirm_rc(c, OP, a), EF_ESTATE);
    /* the controller misses the deadline (3 blocks) */
    uint64_t b = activate(c, CUST, off, 2);
    assert_int_equal(s_tx(c, CUST2, "expire", "{\"sla\":%llu}", (unsigned long long)b), EF_EAGAIN);
    wait_blocks(c, 19);
    assert_int_equal(confirm_rc(c, OP, b), EF_ELATE);
    assert_int_equal(s_tx(c, CUST2, "expire", "{\"sla\":%llu}", (unsigned long long)b), 0);
    assert_int_equal(bal(c, CUST), cu0);
    json_t *s = sla_q(c, b);
    assert_string_equal(json_string_value(json_object_get(s, "state")), "nullified");
    assert_string_equal(json_string_value(json_object_get(s, "reason")), "expired");
    json_decref(s);
    assert_int_equal(s_tx(c, CUST2, "expire", "{\"sla\":%llu}", (unsigned long long)b), EF_ESTATE);
    json_t *bj = m_query(c, "sla", "bond/%s", c->hex[OP]);
    assert_int_equal(json_integer_value(json_object_get(bj, "reserved")), 0);
    json_decref(bj);
    m_check_supply(c);
    m_close(c);
    free(c);
}

/* Every rejected call, each with its own code; nothing changes. */
static void test_sla_rejects(void **state)
{
    (void)state;
    mchain *c = calloc(1, sizeof *c);
    s_open(c);
    /* offers: no bond, bad args, bond short, overflow */
    assert_int_equal(offer_rc(c, OP, 0, 16, 3, 10000, 2), EF_ENOTFOUND);
    bond(c, OP, BOND);
    assert_int_equal(offer_rc(c, OP, BOND + 1, 16, 3, 10000, 2), EF_EFUNDS);
    assert_int_equal(offer_rc(c, OP, 0, 0, 3, 10000, 2), EF_EARGS);
    assert_int_equal(offer_rc(c, OP, 0, EF_SLA_EPOCHS_MAX + 1, 3, 10000, 2), EF_EARGS);
    assert_int_equal(offer_rc(c, OP, 0, 16, 0, 10000, 2), EF_EARGS);
    assert_int_equal(s_tx(c, OP, "offer", "{\"area\":[\"ap1\"]}"), EF_EARGS);
    assert_int_equal(s_tx(c, OP, "post_bond", "{\"amount\":0}"), EF_EARGS);
    assert_int_equal(s_tx(c, OP2, "withdraw_bond", "{\"amount\":1}"), EF_ENOTFOUND);
    assert_int_equal(s_tx(c, OP, "set_controller", "{\"controller\":\"%s\"}", c->hex[OP]), EF_EINVAL);
    uint64_t off = offer_w(c, OP, 100, 1000000, 2);
    /* withdraw: wrong party, then twice */
    uint64_t off2 = offer(c, OP);
    assert_int_equal(s_tx(c, OP2, "withdraw", "{\"offer\":%llu}", (unsigned long long)off2), EF_EPERM);
    assert_int_equal(s_tx(c, OP, "withdraw", "{\"offer\":%llu}", (unsigned long long)off2), 0);
    assert_int_equal(s_tx(c, OP, "withdraw", "{\"offer\":%llu}", (unsigned long long)off2), EF_ESTATE);
    assert_int_equal(s_tx(c, OP, "withdraw", "{\"offer\":99}"), EF_ENOTFOUND);
    /* reads: open offers only; unknown or malformed paths refused */
    json_t *offers = m_query(c, "sla", "offers");
    assert_int_equal(json_array_size(offers), 1);
    json_decref(offers);
    json_t *q = NULL;
    assert_int_equal(ef_store_query(c->s, "sla", "sla/1", &q), EF_ENOTFOUND);
    assert_int_equal(ef_store_query(c->s, "sla", "sla/x", &q), EF_EINVAL);
    assert_int_equal(ef_store_query(c->s, "sla", "bond/zz", &q), EF_EINVAL);
    assert_int_equal(ef_store_query(c->s, "sla", "epoch/1", &q), EF_EINVAL);
    assert_int_equal(ef_store_query(c->s, "sla", "nosuch", &q), EF_ENOTFOUND);
    assert_null(q);
    /* activate */
    json_int_t cu0 = bal(c, CUST);
    assert_int_equal(activate_rc(c, CUST, off2, 2, "ap1"), EF_ESTATE);
    assert_int_equal(activate_rc(c, CUST, 99, 2, "ap1"), EF_ENOTFOUND);
    assert_int_equal(activate_rc(c, OP, off, 2, "ap1"), EF_EPERM);
    assert_int_equal(activate_rc(c, CUST, off, 2, "ap9"), EF_EAREA);
    assert_int_equal(activate_rc(c, CUST, off, 17, "ap1"), EF_EINVAL);
    assert_int_equal(activate_rc(c, CUST, off, 2, "bad ap"), EF_EARGS);
    assert_int_equal(bal(c, CUST), cu0);
    /* money short: a bond over the operator's balance; an operator whose
     * unreserved bond is below the cheat penalty */
    assert_int_equal(s_tx(c, OP, "post_bond", "{\"amount\":%lld}", (long long)M_BALANCE), EF_EFUNDS);
    bond(c, OP2, 6000);
    uint64_t off_b = offer(c, OP2);
    assert_int_equal(activate_rc(c, CUST, off_b, 1, "ap1"), 0);
    assert_int_equal(activate_rc(c, CUST, off_b, 1, "ap1"), EF_EFUNDS);
    uint64_t sla = activate(c, CUST, off, 4);
    /* confirm: wrong party, bad args */
    assert_int_equal(confirm_rc(c, OP2, sla), EF_EPERM);
    assert_int_equal(confirm_rc(c, CUST, sla), EF_EPERM);
    assert_int_equal(s_tx(c, OP, "confirm", "{\"sla\":%llu,\"slice\":\"s\",\"path\":[],\"edge_monitor\":\"%s\"}",
                          (unsigned long long)sla, hexpub(&mon_edge, 1)),
                     EF_EARGS);
    assert_int_equal(s_tx(c, OP, "fail", "{\"sla\":%llu,\"reason\":\"\"}", (unsigned long long)sla), EF_EARGS);
    assert_int_equal(s_tx(c, CUST, "fail", "{\"sla\":%llu,\"reason\":\"x\"}", (unsigned long long)sla), EF_EPERM);
    /* claims before activation */
    char r[EF_RECEIPT_HEX_MAX + 1];
    good(r, sla, 0, &mon_cust);
    assert_int_equal(s_tx(c, OP, "claim", "{\"sla\":%llu,\"receipts\":[\"%s\"]}", (unsigned long long)sla, r), EF_ESTATE);
    assert_int_equal(s_tx(c, OP, "close", "{\"sla\":%llu}", (unsigned long long)sla), EF_ESTATE);
    assert_int_equal(confirm_rc(c, OP, sla), 0);
    assert_int_equal(confirm_rc(c, OP, sla), EF_ESTATE);
    wait_blocks(c, 5);
    /* claim: every receipt misbehaviour */
#define CLAIM(who, hex) s_tx(c, who, "claim", "{\"sla\":%llu,\"receipts\":[\"%s\"]}", (unsigned long long)sla, hex)
    assert_int_equal(CLAIM(CUST, r), EF_EPERM);
    assert_int_equal(CLAIM(OP, "abcd"), EF_EARGS);
    assert_int_equal(s_tx(c, OP, "claim", "{\"sla\":%llu,\"receipts\":[]}", (unsigned long long)sla), EF_EARGS);
    char x[EF_RECEIPT_HEX_MAX + 1];
    good(x, sla + 1, 0, &mon_cust);
    assert_int_equal(CLAIM(OP, x), EF_EOTHERSLA);
    good(x, sla, 4, &mon_cust);
    assert_int_equal(CLAIM(OP, x), EF_EEPOCH);
    good(x, sla, 0, &mon_edge);
    assert_int_equal(CLAIM(OP, x), EF_ESIGNER);
    good(x, sla, 0, &mon_other);
    assert_int_equal(CLAIM(OP, x), EF_ESIGNER);
    /* a forged signature: flip a bit of the signature */
    snprintf(x, sizeof x, "%s", r);
    x[strlen(x) - 1] = x[strlen(x) - 1] == '0' ? '1' : '0';
    assert_int_equal(CLAIM(OP, x), EF_EBADSIG);
    /* another chain */
    {
        ef_receipt rr;
        assert_int_equal(ef_receipt_decode_hex(&rr, r), 0);
        snprintf(rr.chain_id, sizeof rr.chain_id, "other-chain");
        assert_int_equal(ef_receipt_make(&rr, &RULES, &mon_cust), 0);
        assert_int_equal(ef_receipt_hex(x, sizeof x, &rr), 0);
        assert_int_equal(CLAIM(OP, x), EF_ECHAIN);
        /* a verdict byte that the values do not give (honestly signed) */
        snprintf(rr.chain_id, sizeof rr.chain_id, "%s", M_CHAIN);
        rr.verdict = EF_VERDICT_LOSS;
        assert_int_equal(ef_receipt_make(&rr, NULL, &mon_cust), 0);
        assert_int_equal(ef_receipt_hex(x, sizeof x, &rr), 0);
        assert_int_equal(CLAIM(OP, x), EF_EVERDICT);
    }
    /* the same epoch twice in one call: all or nothing */
    assert_int_equal(s_tx(c, OP, "claim", "{\"sla\":%llu,\"receipts\":[\"%s\",\"%s\"]}", (unsigned long long)sla, r, r),
                     EF_EDUP);
    json_t *s = sla_q(c, sla);
    assert_string_equal(ep_status(s, 0), "open");
    assert_int_equal(json_integer_value(json_object_get(s, "paid")), 0);
    json_decref(s);
    /* operator receipts: customer monitor's key is not the edge's */
    assert_int_equal(s_tx(c, OP, "submit_operator_receipt", "{\"sla\":%llu,\"receipts\":[\"%s\"]}",
                          (unsigned long long)sla, r),
                     EF_ESIGNER);
    /* contradict: wrong party, nothing proposed */
    assert_int_equal(s_tx(c, OP, "contradict", "{\"sla\":%llu,\"receipt\":\"%s\"}", (unsigned long long)sla, r),
                     EF_EPERM);
    assert_int_equal(s_tx(c, CUST, "contradict", "{\"sla\":%llu,\"receipt\":\"%s\"}", (unsigned long long)sla, r),
                     EF_ESTATE);
    /* rule: not a regulator, not contested, epoch out of range, bad verdict */
    assert_int_equal(s_tx(c, OP, "rule", "{\"sla\":%llu,\"epoch\":0,\"verdict\":0}", (unsigned long long)sla), EF_EPERM);
    assert_int_equal(s_tx(c, REG(0), "rule", "{\"sla\":%llu,\"epoch\":0,\"verdict\":0}", (unsigned long long)sla),
                     EF_ESTATE);
    assert_int_equal(s_tx(c, REG(0), "rule", "{\"sla\":%llu,\"epoch\":9,\"verdict\":0}", (unsigned long long)sla),
                     EF_EEPOCH);
    assert_int_equal(s_tx(c, REG(0), "rule", "{\"sla\":%llu,\"epoch\":0,\"verdict\":8}", (unsigned long long)sla),
                     EF_EARGS);
    assert_int_equal(s_tx(c, OP, "claim", "{\"sla\":%llu,\"receipts\":[\"%s\"],\"x\":1}", (unsigned long long)sla, r),
                     EF_EARGS);
    assert_int_equal(CLAIM(OP, r), 0);
#undef CLAIM
    check_sla_books(c, sla);
    m_close(c);
    free(c);
}

static void test_sla_dispute(void **state)
{
    (void)state;
    mchain *c = calloc(1, sizeof *c);
    s_open(c);
    bond(c, OP, BOND);
    uint64_t off = offer_w(c, OP, 20, 10000, 4);
    uint64_t sla = activate(c, CUST, off, 4);
    json_int_t op0 = bal(c, OP), cu0 = bal(c, CUST);
    assert_int_equal(confirm_rc(c, OP, sla), 0);
    wait_blocks(c, 5);
    char o0[EF_RECEIPT_HEX_MAX + 1], o1[sizeof o0], o2[sizeof o0], o3[sizeof o0], c1[sizeof o0], c2[sizeof o0];
    good(o0, sla, 0, &mon_edge);   /* withheld by the customer, never contradicted */
    good(o1, sla, 1, &mon_edge);   /* the customer agrees */
    good(o2, sla, 2, &mon_edge);   /* the customer says breached: regulators */
    good(o3, sla, 3, &mon_edge);   /* contradicted too late */
    good(c1, sla, 1, &mon_cust);
    bad(c2, sla, 2, &mon_cust);
    assert_int_equal(s_tx(c, OP, "submit_operator_receipt", "{\"sla\":%llu,\"receipts\":[\"%s\",\"%s\",\"%s\",\"%s\"]}",
                          (unsigned long long)sla, o0, o1, o2, o3),
                     0);
    json_int_t until = m_event_int(c, 0, "proposed", "contradict_until");
    assert_int_equal(until, (json_int_t)m_height(c) + 4);
    assert_int_equal(s_tx(c, OP, "submit_operator_receipt", "{\"sla\":%llu,\"receipts\":[\"%s\"]}",
                          (unsigned long long)sla, o0),
                     EF_EDUP);
    assert_int_equal(s_tx(c, CUST, "contradict", "{\"sla\":%llu,\"receipt\":\"%s\"}", (unsigned long long)sla, c1), 0);
    assert_int_equal(m_event_int(c, 0, "paid", "to_operator"), PRICE);
    assert_int_equal(s_tx(c, CUST, "contradict", "{\"sla\":%llu,\"receipt\":\"%s\"}", (unsigned long long)sla, c1),
                     EF_EDUP);
    assert_int_equal(s_tx(c, CUST, "contradict", "{\"sla\":%llu,\"receipt\":\"%s\"}", (unsigned long long)sla, c2), 0);
    assert_int_equal(m_event_int(c, 0, "disputed", "customer_verdict"), 3);
    assert_int_equal(m_event_int(c, 0, "disputed", "operator_verdict"), 0);
    /* a claim cannot settle a contested epoch */
    assert_int_equal(s_tx(c, OP, "claim", "{\"sla\":%llu,\"receipts\":[\"%s\"]}", (unsigned long long)sla, c2),
                     EF_ESTATE);
    char c3[EF_RECEIPT_HEX_MAX + 1];
    bad(c3, sla, 3, &mon_cust);
    assert_int_equal(s_tx(c, CUST, "contradict", "{\"sla\":%llu,\"receipt\":\"%s\"}", (unsigned long long)sla, c3),
                     EF_ELATE);
    json_t *s = sla_q(c, sla);
    assert_string_equal(ep_status(s, 0), "proposed");
    assert_string_equal(ep_status(s, 1), "paid");
    assert_string_equal(ep_status(s, 2), "disputed");
    json_decref(s);
    /* close waits for the regulators */
    wait_blocks(c, 12);
    assert_int_equal(s_tx(c, CUST, "close", "{\"sla\":%llu}", (unsigned long long)sla), EF_ESTATE);
    /* regulators: 2 of 3 decide. A three-way split (0, 1, 2) decides nothing
     * until one regulator moves its vote (to 1: bandwidth breached). */
#define RULE(g, v) s_tx(c, REG(g), "rule", "{\"sla\":%llu,\"epoch\":2,\"verdict\":%d}", (unsigned long long)sla, v)
    assert_int_equal(RULE(0, 0), 0);
    assert_null(m_event(c, 0, "ruled"));
    assert_int_equal(RULE(0, 0), EF_EDUP);
    assert_int_equal(RULE(1, 1), 0);
    assert_null(m_event(c, 0, "ruled"));
    assert_int_equal(RULE(2, 2), 0);
    assert_null(m_event(c, 0, "ruled"));
    json_t *ep = m_query(c, "sla", "epoch/%llu/2", (unsigned long long)sla);
    assert_int_equal(json_object_size(json_object_get(ep, "votes")), 3);
    assert_string_equal(json_string_value(json_object_get(ep, "status")), "disputed");
    assert_int_equal(json_integer_value(json_object_get(ep, "customer_verdict")), 3);
    json_decref(ep);
    json_t *mine = m_query(c, "sla", "customer/%s", c->hex[CUST]);
    assert_int_equal(json_array_size(mine), 1);
    json_decref(mine);
    assert_int_equal(RULE(2, 1), 0);
    assert_int_equal(m_event_int(c, 0, "ruled", "votes"), 2);
    assert_int_equal(m_event_int(c, 0, "ruled", "verdict"), 1);
    assert_int_equal(m_event_int(c, 0, "ruled", "to_operator"), 500);
    assert_int_equal(m_event_int(c, 0, "ruled", "regulators"), 3);
    assert_int_equal(RULE(0, 1), EF_ESTATE);
#undef RULE
    /* close: epochs 0 and 3 paid by the operator's receipt, nothing open */
    assert_int_equal(s_tx(c, CUST, "close", "{\"sla\":%llu}", (unsigned long long)sla), 0);
    json_t *paid = m_event(c, 0, "paid");
    assert_string_equal(json_string_value(json_object_get(paid, "by")), "operator_receipt");
    assert_int_equal(json_array_size(json_object_get(paid, "epochs")), 2);
    json_decref(paid);
    assert_int_equal(m_event_int(c, 0, "closed", "refunded_epochs"), 0);
    assert_int_equal(bal(c, OP), op0 + 3 * PRICE + 500);
    assert_int_equal(bal(c, CUST), cu0 + 500);
    s = sla_q(c, sla);
    assert_string_equal(ep_status(s, 0), "paid");
    assert_string_equal(ep_status(s, 2), "ruled");
    json_decref(s);
    check_sla_books(c, sla);
    m_close(c);
    free(c);
}

/* Close while a contradiction window is still open: EF_EAGAIN. */
static void test_sla_close_waits_window(void **state)
{
    (void)state;
    mchain *c = calloc(1, sizeof *c);
    s_open(c);
    bond(c, OP, BOND);
    assert_int_equal(offer_rc(c, OP, 0, 4, 3, 3000, 50), 0);
    uint64_t off = (uint64_t)m_event_int(c, 0, "offered", "offer");
    uint64_t sla = activate(c, CUST, off, 1);
    assert_int_equal(confirm_rc(c, OP, sla), 0);
    wait_blocks(c, 2);
    char o[EF_RECEIPT_HEX_MAX + 1];
    bad(o, sla, 0, &mon_edge);
    assert_int_equal(s_tx(c, OP, "submit_operator_receipt", "{\"sla\":%llu,\"receipts\":[\"%s\"]}",
                          (unsigned long long)sla, o),
                     0);
    wait_blocks(c, 4);
    assert_int_equal(s_tx(c, CUST, "close", "{\"sla\":%llu}", (unsigned long long)sla), EF_EAGAIN);
    wait_blocks(c, 50);
    assert_int_equal(s_tx(c, CUST, "close", "{\"sla\":%llu}", (unsigned long long)sla), 0);
    assert_int_equal(m_event_int(c, 0, "paid", "to_operator"), 200);
    check_sla_books(c, sla);
    m_close(c);
    free(c);
}

static void test_sla_double(void **state)
{
    (void)state;
    mchain *c = calloc(1, sizeof *c);
    s_open(c);
    bond(c, OP, BOND);
    uint64_t off = offer(c, OP);   /* cheat penalty 5000 */
    uint64_t sla = activate(c, CUST, off, 3);
    assert_int_equal(confirm_rc(c, OP, sla), 0);
    wait_blocks(c, 4);
    json_int_t op0 = bal(c, OP), cu0 = bal(c, CUST);
    char a[EF_RECEIPT_HEX_MAX + 1], b[sizeof a], d[sizeof a];
#define DOUBLE(x, y) s_tx(c, CUST2, "report_double", "{\"a\":\"%s\",\"b\":\"%s\"}", x, y)
    /* the customer's monitor signs a good and a bad receipt for epoch 0 */
    good(a, sla, 0, &mon_cust);
    bad(b, sla, 0, &mon_cust);
    assert_int_equal(DOUBLE(a, a), EF_ENOTDOUBLE);
    good(d, sla, 1, &mon_cust);
    assert_int_equal(DOUBLE(a, d), EF_ENOTDOUBLE);
    good(d, sla, 0, &mon_edge);
    assert_int_equal(DOUBLE(a, d), EF_ENOTDOUBLE);
    good(d, sla, 0, &mon_other);
    char e[EF_RECEIPT_HEX_MAX + 1];
    bad(e, sla, 0, &mon_other);
    assert_int_equal(DOUBLE(d, e), EF_ESIGNER);
    assert_int_equal(DOUBLE(a, b), 0);
    json_t *ch = m_event(c, 0, "cheat");
    assert_string_equal(json_string_value(json_object_get(ch, "side")), "customer");
    json_decref(ch);
    assert_int_equal(m_event_int(c, 0, "cheat", "penalty"), PRICE);
    assert_int_equal(DOUBLE(b, a), EF_ERECORDED);
    assert_int_equal(bal(c, OP), op0 + PRICE);
    json_t *s = sla_q(c, sla);
    assert_string_equal(ep_status(s, 0), "forfeit");
    json_decref(s);
    /* the operator cannot be paid for it again */
    assert_int_equal(s_tx(c, OP, "claim", "{\"sla\":%llu,\"receipts\":[\"%s\"]}", (unsigned long long)sla, a), EF_EDUP);
    /* the edge monitor double-signs epoch 1: the bond reservation goes to the customer */
    good(a, sla, 1, &mon_edge);
    bad(b, sla, 1, &mon_edge);
    assert_int_equal(DOUBLE(a, b), 0);
    assert_int_equal(m_event_int(c, 0, "cheat", "penalty"), 5000);
    assert_int_equal(bal(c, CUST), cu0 + 5000);
    json_t *bj = m_query(c, "sla", "bond/%s", c->hex[OP]);
    assert_int_equal(json_integer_value(json_object_get(bj, "bond")), BOND - 5000);
    assert_int_equal(json_integer_value(json_object_get(bj, "reserved")), 0);
    json_decref(bj);
    /* once per SLA: a second proof (another epoch) records but pays nothing */
    good(a, sla, 2, &mon_edge);
    bad(b, sla, 2, &mon_edge);
    assert_int_equal(DOUBLE(a, b), 0);
    assert_int_equal(m_event_int(c, 0, "cheat", "penalty"), 0);
    /* a tampered signature */
    good(a, sla, 2, &mon_cust);
    bad(b, sla, 2, &mon_cust);
    b[strlen(b) - 3] = b[strlen(b) - 3] == '0' ? '1' : '0';
    assert_int_equal(DOUBLE(a, b), EF_EBADSIG);
#undef DOUBLE
    m_check_supply(c);
    m_close(c);
    free(c);
}

/* One settlement of many epochs after the flow ends, in few transactions. */
static void test_sla_bulk_claim(void **state)
{
    (void)state;
    mchain *c = calloc(1, sizeof *c);
    s_open(c);
    bond(c, OP, BOND);
    assert_int_equal(s_tx(c, OP, "offer",
                          "{\"area\":[\"ap1\"],\"rules\":{\"min_kbps\":1000,\"max_latency_us\":20000,"
                          "\"max_loss_ppm\":10000},\"price\":%d,\"epoch_ms\":10,\"max_epochs\":200,\"penalty\":" PENALTY
                          ",\"cheat_penalty\":0,\"confirm_blocks\":3,\"claim_window_ms\":100000,"
                          "\"dispute_window_blocks\":2}",
                          PRICE),
                     0);
    uint64_t off = (uint64_t)m_event_int(c, 0, "offered", "offer");
    uint64_t sla = activate(c, CUST, off, 96);
    json_int_t op0 = bal(c, OP);
    assert_int_equal(confirm_rc(c, OP, sla), 0);
    wait_blocks(c, 2);   /* 96 epochs of 10 ms end within one block */
    char *args = malloc(EF_TX_ARGS_MAX);
    double block_ms = 0;
    for (int t = 0; t < 4; t++) {
        size_t n = 0;
        for (int i = 0; i < EF_SLA_CLAIM_MAX; i++) {
            char r[EF_RECEIPT_HEX_MAX + 1];
            good(r, sla, (uint64_t)(t * EF_SLA_CLAIM_MAX + i), &mon_cust);
            n += (size_t)snprintf(args + n, EF_TX_ARGS_MAX - n, "%s\"%s\"", i ? "," : "", r);
        }
        assert_true(n < EF_TX_ARGS_MAX - 100);
        assert_int_equal(s_tx(c, OP, "claim", "{\"sla\":%llu,\"receipts\":[%s]}", (unsigned long long)sla, args), 0);
        block_ms += c->last_block_ms;
    }
    free(args);
    printf("bulk claim: 96 receipts in 4 transactions, %.1f ms of block propose+commit (%.0f receipts/s)\n", block_ms,
           96 / (block_ms / 1e3));
    assert_int_equal(bal(c, OP), op0 + 96 * PRICE);
    check_sla_books(c, sla);
    m_close(c);
    free(c);
}

/* --- random runs --- */

#define R_SLAS 4
#define R_STEPS 260

typedef struct rrun {
    uint64_t sla[R_SLAS];
    int cust[R_SLAS];
    uint64_t epochs[R_SLAS];
    uint64_t settled[R_SLAS];   /* bit per epoch, from paid events */
    json_int_t paid_total;      /* to operators + to customers by paid events */
} rrun;

/* successful calls per step kind over all random runs (so a run that never
 * reaches a state fails instead of passing vacuously) */
static int r_ok[9];

static uint64_t r_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Records every epoch that the events of the last tx settled; fails on a second. */
static void r_track(mchain *c, rrun *rr, int k)
{
    json_t *arr = json_loads(c->events[0] ? c->events[0] : "[]", 0, NULL);
    for (size_t i = 0; arr && i < json_array_size(arr); i++) {
        json_t *e = json_array_get(arr, i);
        if (strcmp(json_string_value(json_object_get(e, "name")), "paid")) continue;
        json_t *d = json_object_get(e, "data");
        json_t *eps = json_object_get(d, "epochs");
        assert_int_equal(json_integer_value(json_object_get(d, "sla")), rr->sla[k]);
        for (size_t j = 0; j < json_array_size(eps); j++) {
            uint64_t ep = (uint64_t)json_integer_value(json_array_get(eps, j));
            assert_true(ep < rr->epochs[k]);
            assert_false(rr->settled[k] & (1ull << ep));   /* never twice */
            rr->settled[k] |= 1ull << ep;
        }
        rr->paid_total += json_integer_value(json_object_get(d, "to_operator")) +
                          json_integer_value(json_object_get(d, "to_customer"));
    }
    json_decref(arr);
}

static void r_step(mchain *c, rrun *rr, uint64_t *seed)
{
    int k = (int)(r_next(seed) % R_SLAS);
    unsigned long long id = (unsigned long long)rr->sla[k];
    uint64_t ep = r_next(seed) % (rr->epochs[k] + 1);   /* sometimes out of range */
    char a[EF_RECEIPT_HEX_MAX + 1], b[sizeof a];
    const ef_keypair *mon = r_next(seed) % 4 ? &mon_cust : &mon_edge;
    if (r_next(seed) % 2) good(a, id, ep, mon);
    else bad(a, id, ep, mon);
    int who = (int)(r_next(seed) % 5);
    int party = who <= 1 ? OP : who == 2 ? rr->cust[k] : who == 3 ? REG((int)(r_next(seed) % NREG)) : CTRL;
    int kind = (int)(r_next(seed) % 9);
    switch (kind) {
    case 0: confirm_rc(c, r_next(seed) % 4 ? OP : CUST, rr->sla[k]); break;
    case 1: s_tx(c, party, "claim", "{\"sla\":%llu,\"receipts\":[\"%s\"]}", id, a); break;
    case 2: s_tx(c, OP, "submit_operator_receipt", "{\"sla\":%llu,\"receipts\":[\"%s\"]}", id, a); break;
    case 3: s_tx(c, rr->cust[k], "contradict", "{\"sla\":%llu,\"receipt\":\"%s\"}", id, a); break;
    case 4: {
        /* one draw per statement: argument evaluation order is unspecified */
        int voter = who ? REG((int)(r_next(seed) % NREG)) : OP;
        unsigned long long v = r_next(seed) % 3;
        s_tx(c, voter, "rule", "{\"sla\":%llu,\"epoch\":%llu,\"verdict\":%llu}", id, (unsigned long long)ep, v);
        break;
    }
    case 5:
        bad(b, id, ep, mon);
        s_tx(c, CUST2, "report_double", "{\"a\":\"%s\",\"b\":\"%s\"}", a, r_next(seed) % 2 ? b : a);
        break;
    case 6: s_tx(c, party, "close", "{\"sla\":%llu}", id); break;
    case 7:
        if (r_next(seed) % 2) s_tx(c, party, "expire", "{\"sla\":%llu}", id);
        else s_tx(c, party, "fail", "{\"sla\":%llu,\"reason\":\"r\"}", id);
        break;
    default: m_commit(c); return;
    }
    if (c->code[0] == 0) r_ok[kind]++;
    r_track(c, rr, k);
}

static void r_run(uint64_t seed)
{
    mchain *c = calloc(1, sizeof *c);
    rrun rr;
    memset(&rr, 0, sizeof rr);
    s_open(c);
    bond(c, OP, BOND);
    assert_int_equal(s_tx(c, OP, "set_controller", "{\"controller\":\"%s\"}", c->hex[CTRL]), 0);
    /* a long claim window (open all run) and a short one (closes mid-run) */
    assert_int_equal(offer_rc(c, OP, 3000, 16, 6, 400000, 80), 0);
    uint64_t off_long = (uint64_t)m_event_int(c, 0, "offered", "offer");
    assert_int_equal(offer_rc(c, OP, 3000, 16, 6, 60000, 20), 0);
    uint64_t off_short = (uint64_t)m_event_int(c, 0, "offered", "offer");
    for (int k = 0; k < R_SLAS; k++) {
        uint64_t off = k % 2 ? off_short : off_long;
        rr.cust[k] = m_dev(k % 4);
        rr.epochs[k] = 1 + r_next(&seed) % 6;
        rr.sla[k] = activate(c, rr.cust[k], off, rr.epochs[k]);
    }
    /* most are confirmed at once; the rest race the random steps */
    for (int k = 0; k < R_SLAS; k++)
        if (r_next(&seed) % 4) assert_int_equal(confirm_rc(c, OP, rr.sla[k]), 0);
    for (int i = 0; i < R_STEPS; i++) r_step(c, &rr, &seed);
    wait_blocks(c, 420);
    /* the end: rule what is contested, close what can be */
    for (int k = 0; k < R_SLAS; k++) {
        for (uint64_t e = 0; e < rr.epochs[k]; e++)
            for (int g = 0; g < NREG; g++) {
                if (s_tx(c, REG(g), "rule", "{\"sla\":%llu,\"epoch\":%llu,\"verdict\":1}", (unsigned long long)rr.sla[k],
                         (unsigned long long)e) == 0)
                    r_ok[4]++;
                r_track(c, &rr, k);
            }
        s_tx(c, CUST2, "expire", "{\"sla\":%llu}", (unsigned long long)rr.sla[k]);
        s_tx(c, CUST2, "close", "{\"sla\":%llu}", (unsigned long long)rr.sla[k]);
        r_track(c, &rr, k);
        json_t *s = sla_q(c, rr.sla[k]);
        const char *st = json_string_value(json_object_get(s, "state"));
        assert_true(!strcmp(st, "closed") || !strcmp(st, "nullified"));
        assert_int_equal(json_integer_value(json_object_get(s, "left")), 0);
        if (!strcmp(st, "closed")) assert_int_equal(rr.settled[k], (1ull << rr.epochs[k]) - 1);
        json_decref(s);
        check_sla_books(c, rr.sla[k]);
    }
    json_t *bj = m_query(c, "sla", "bond/%s", c->hex[OP]);
    assert_int_equal(json_integer_value(json_object_get(bj, "reserved")), 0);
    json_decref(bj);
    m_check_supply(c);
    m_close(c);
    free(c);
}

/* --- topology --- */

#define TOPO_NODES                                                                                                 \
    "[{\"name\":\"core\",\"layer\":\"core\"},"                                                                     \
    "{\"name\":\"srv\",\"layer\":\"server\",\"parent\":\"core\",\"kbps\":100000,\"latency_us\":200},"             \
    "{\"name\":\"agg1\",\"layer\":\"aggregation\",\"parent\":\"core\",\"kbps\":40000,\"latency_us\":500},"        \
    "{\"name\":\"edge1\",\"layer\":\"edge\",\"parent\":\"agg1\",\"kbps\":20000,\"latency_us\":1000},"             \
    "{\"name\":\"ap1\",\"layer\":\"customer\",\"parent\":\"edge1\",\"kbps\":20000,\"latency_us\":2000}]"

static json_t *link_of(json_t *t, const char *name)
{
    json_t *links = json_object_get(t, "links");
    for (size_t i = 0; i < json_array_size(links); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(links, i), "name")), name))
            return json_array_get(links, i);
    return NULL;
}

static json_int_t link_reserved(mchain *c, int op, const char *name)
{
    json_t *t = m_query(c, "sla", "topology/%s", c->hex[op]);
    json_t *l = link_of(t, name);
    assert_non_null(l);
    json_int_t r = json_integer_value(json_object_get(l, "reserved_kbps"));
    json_decref(t);
    return r;
}

static void test_sla_topology(void **state)
{
    (void)state;
    mchain *c = calloc(1, sizeof *c);
    s_open(c);
    json_t *none = NULL;
    char q[200];
    snprintf(q, sizeof q, "topology/%s", c->hex[OP]);
    assert_int_equal(ef_store_query(c->s, "sla", q, &none), EF_ENOTFOUND);
    assert_int_equal(ef_store_query(c->s, "sla", "topology/zz", &none), EF_EINVAL);
    /* no bond yet */
    assert_int_equal(s_tx(c, OP, "topology", "{\"nodes\":" TOPO_NODES "}"), EF_ENOTFOUND);
    bond(c, OP, BOND);
    assert_int_equal(s_tx(c, OP, "topology", "{\"nodes\":" TOPO_NODES "}"), 0);
    assert_int_equal(m_event_int(c, 0, "topology", "nodes"), 5);
    json_int_t h = m_event_int(c, 0, "topology", "height");
    json_t *t = m_query(c, "sla", "topology/%s", c->hex[OP]);
    assert_int_equal(json_integer_value(json_object_get(t, "height")), h);
    assert_int_equal(json_array_size(json_object_get(t, "nodes")), 5);
    assert_int_equal(json_array_size(json_object_get(t, "links")), 4);
    json_t *l = link_of(t, "agg1-edge1");
    assert_non_null(l);
    assert_int_equal(json_integer_value(json_object_get(l, "kbps")), 20000);
    assert_int_equal(json_integer_value(json_object_get(l, "latency_us")), 1000);
    assert_int_equal(json_integer_value(json_object_get(l, "reserved_kbps")), 0);
    json_decref(t);

    /* refusals, nothing changed */
    static const char *const bad_args[] = {
        "{\"nodes\":" TOPO_NODES ",\"x\":1}",
        "{\"nodes\":[]}",
        "{\"nodes\":{}}",
        "{}",
        "{\"nodes\":[{\"name\":\"core\",\"layer\":\"core\",\"colour\":\"red\"}]}",
        "{\"nodes\":[{\"name\":\"co-re\",\"layer\":\"core\"}]}",
        "{\"nodes\":[{\"name\":\"a234567890123456\",\"layer\":\"core\"}]}",
        "{\"nodes\":[{\"name\":\"core\",\"layer\":\"spine\"}]}",
        "{\"nodes\":[{\"name\":\"core\",\"layer\":\"core\"},{\"name\":\"e\",\"layer\":\"edge\",\"parent\":\"core\","
        "\"kbps\":0,\"latency_us\":1}]}",
        "{\"nodes\":[{\"name\":\"core\",\"layer\":\"core\"},{\"name\":\"e\",\"layer\":\"edge\",\"parent\":\"core\","
        "\"kbps\":10}]}",
        "{\"nodes\":[{\"name\":\"core\",\"layer\":\"core\"},{\"name\":\"e\",\"layer\":\"edge\","
        "\"kbps\":10,\"latency_us\":1}]}",
        "{\"nodes\":" TOPO_NODES ",\"operator\":\"nothex\"}",
    };
    for (size_t i = 0; i < EF_ARRAY_LEN(bad_args); i++) {
        int rc = s_tx(c, OP, "topology", "%s", bad_args[i]);
        if (rc != EF_EARGS) fprintf(stderr, "args %zu: %s\n", i, ef_strerror(rc));
        assert_int_equal(rc, EF_EARGS);
    }
    static const char *const not_tree[] = {
        /* a name twice */
        "[{\"name\":\"core\",\"layer\":\"core\"},{\"name\":\"core\",\"layer\":\"edge\",\"parent\":\"core\","
        "\"kbps\":10,\"latency_us\":1}]",
        /* parent named after (or a cycle) */
        "[{\"name\":\"core\",\"layer\":\"core\"},{\"name\":\"a\",\"layer\":\"edge\",\"parent\":\"b\","
        "\"kbps\":10,\"latency_us\":1},{\"name\":\"b\",\"layer\":\"edge\",\"parent\":\"a\",\"kbps\":10,"
        "\"latency_us\":1}]",
        /* root not core, a second root */
        "[{\"name\":\"e\",\"layer\":\"edge\"}]",
        "[{\"name\":\"core\",\"layer\":\"core\"},{\"name\":\"c2\",\"layer\":\"core\",\"parent\":\"core\","
        "\"kbps\":10,\"latency_us\":1}]",
        /* a layer going up, a child under a customer */
        "[{\"name\":\"core\",\"layer\":\"core\"},{\"name\":\"e\",\"layer\":\"edge\",\"parent\":\"core\","
        "\"kbps\":10,\"latency_us\":1},{\"name\":\"a\",\"layer\":\"aggregation\",\"parent\":\"e\",\"kbps\":10,"
        "\"latency_us\":1}]",
        "[{\"name\":\"core\",\"layer\":\"core\"},{\"name\":\"c\",\"layer\":\"customer\",\"parent\":\"core\","
        "\"kbps\":10,\"latency_us\":1},{\"name\":\"d\",\"layer\":\"customer\",\"parent\":\"c\",\"kbps\":10,"
        "\"latency_us\":1}]",
    };
    for (size_t i = 0; i < EF_ARRAY_LEN(not_tree); i++)
        assert_int_equal(s_tx(c, OP, "topology", "{\"nodes\":%s}", not_tree[i]), EF_ETOPO);
    /* bounded size: EF_SLA_TOPO_NODES_MAX + 1 nodes */
    char *big = malloc(EF_TX_ARGS_MAX);
    size_t n = (size_t)snprintf(big, EF_TX_ARGS_MAX, "{\"nodes\":[{\"name\":\"c\",\"layer\":\"core\"}");
    for (int i = 1; i <= EF_SLA_TOPO_NODES_MAX; i++)
        n += (size_t)snprintf(big + n, EF_TX_ARGS_MAX - n,
                              ",{\"name\":\"n%d\",\"layer\":\"edge\",\"parent\":\"c\",\"kbps\":1,\"latency_us\":0}",
                              i);
    snprintf(big + n, EF_TX_ARGS_MAX - n, "]}");
    assert_int_equal(s_tx(c, OP, "topology", "%s", big), EF_EARGS);
    free(big);
    /* another party, or the controller before it is named */
    assert_int_equal(s_tx(c, CTRL, "topology", "{\"nodes\":" TOPO_NODES ",\"operator\":\"%s\"}", c->hex[OP]),
                     EF_EPERM);
    assert_int_equal(s_tx(c, CUST, "topology", "{\"nodes\":" TOPO_NODES "}"), EF_ENOTFOUND);
    t = m_query(c, "sla", "topology/%s", c->hex[OP]);
    assert_int_equal(json_integer_value(json_object_get(t, "height")), h);
    json_decref(t);

    /* the controller republishes for the operator */
    assert_int_equal(s_tx(c, OP, "set_controller", "{\"controller\":\"%s\"}", c->hex[CTRL]), 0);
    assert_int_equal(s_tx(c, CTRL, "topology", "{\"nodes\":" TOPO_NODES ",\"operator\":\"%s\"}", c->hex[OP]), 0);
    assert_true(m_qint(c, "sla", "height", "topology/%s", c->hex[OP]) > h);

    /* reserved per link: pending SLAs hold nothing, confirmed ones their min_kbps on their path */
    uint64_t off = offer(c, OP);
    uint64_t a = activate(c, CUST, off, 4), b = activate(c, CUST2, off, 4);
    assert_int_equal(link_reserved(c, OP, "edge1-ap1"), 0);
    assert_int_equal(s_tx(c, CTRL, "confirm",
                          "{\"sla\":%llu,\"slice\":\"sla-a\",\"path\":[\"edge1-ap1\",\"agg1-edge1\",\"core-agg1\","
                          "\"core-srv\"],\"edge_monitor\":\"%s\"}",
                          (unsigned long long)a, hexpub(&mon_edge, 1)),
                     0);
    assert_int_equal(link_reserved(c, OP, "edge1-ap1"), RULES.min_kbps);
    assert_int_equal(link_reserved(c, OP, "core-srv"), RULES.min_kbps);
    assert_int_equal(s_tx(c, CTRL, "confirm",
                          "{\"sla\":%llu,\"slice\":\"sla-b\",\"path\":[\"core-agg1\",\"core-srv\"],"
                          "\"edge_monitor\":\"%s\"}",
                          (unsigned long long)b, hexpub(&mon_edge, 1)),
                     0);
    assert_int_equal(link_reserved(c, OP, "core-srv"), 2 * RULES.min_kbps);
    assert_int_equal(link_reserved(c, OP, "agg1-edge1"), RULES.min_kbps);
    t = m_query(c, "sla", "topology/%s", c->hex[OP]);
    assert_int_equal(json_array_size(json_object_get(link_of(t, "core-srv"), "slas")), 2);
    json_decref(t);
    /* a nullified SLA holds nothing */
    uint64_t d = activate(c, CUST, off, 1);
    assert_int_equal(s_tx(c, CTRL, "fail", "{\"sla\":%llu,\"reason\":\"no path\"}", (unsigned long long)d), 0);
    assert_int_equal(link_reserved(c, OP, "core-srv"), 2 * RULES.min_kbps);
    m_check_supply(c);
    m_close(c);
    free(c);
}

static void test_sla_random(void **state)
{
    (void)state;
    const char *env = getenv("EF_SLA_SEEDS");
    int n = env ? atoi(env) : 12;
    for (int i = 0; i < n; i++) r_run(0x5eed0000u + (uint64_t)i * 7919u);
    printf("random: ok confirm %d claim %d propose %d contradict %d rule %d double %d close %d null %d\n", r_ok[0],
           r_ok[1], r_ok[2], r_ok[3], r_ok[4], r_ok[5], r_ok[6], r_ok[7]);
    for (int k = 1; k < 8; k++) assert_true(r_ok[k] > 0);   /* confirm may race to nothing */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_receipt_codec), cmocka_unit_test(test_sla_session),
        cmocka_unit_test(test_sla_nullify),   cmocka_unit_test(test_sla_rejects),
        cmocka_unit_test(test_sla_dispute),   cmocka_unit_test(test_sla_close_waits_window),
        cmocka_unit_test(test_sla_double),    cmocka_unit_test(test_sla_bulk_claim),
        cmocka_unit_test(test_sla_random),    cmocka_unit_test(test_sla_topology),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
