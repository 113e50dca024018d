/* test_channel.c: payment channels through the real store and executor: the
 * session (open, vouchers, redeem, close), every voucher misbehaviour rejected
 * with its own code and nothing changed, the challenge window, the refund after
 * expiry, and random channel runs against a model of every balance with the
 * bank's supply conserved. Also the voucher codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/ef_voucher.h"
#include "contracts/ef_channel.h"
#include "ef_test_mkt.h"

#define PAYEE 0            /* a company */
#define PAYER m_dev(0)     /* a device */

static void voucher_hex(char *out, const char *chain, uint64_t channel, uint64_t nonce, uint64_t amount,
                        const ef_keypair *kp)
{
    ef_voucher v;
    memset(&v, 0, sizeof v);
    snprintf(v.chain_id, sizeof v.chain_id, "%s", chain);
    v.channel = channel;
    v.nonce = nonce;
    v.amount = amount;
    assert_int_equal(ef_voucher_sign(&v, kp), 0);
    assert_int_equal(ef_voucher_hex(out, 2 * EF_VOUCHER_ENC_MAX + 1, &v), 0);
}

/* A voucher built by hand (any domain, any amount), signed by kp. */
static void raw_voucher_hex(char *out, const char *domain, uint64_t channel, uint64_t nonce, uint64_t amount,
                            const ef_keypair *kp)
{
    ef_wr w;
    ef_sig sig;
    ef_wr_init(&w);
    ef_wr_str(&w, domain);
    ef_wr_str(&w, M_CHAIN);
    ef_wr_u64(&w, channel);
    ef_wr_u64(&w, nonce);
    ef_wr_u64(&w, amount);
    ef_sign(&sig, kp, EF_TAG_VOUCHER, w.buf, w.len);
    ef_wr_raw(&w, kp->pub.b, EF_PUB_SIZE);
    ef_wr_raw(&w, sig.b, EF_SIG_SIZE);
    assert_int_equal(w.err, 0);
    ef_hex(out, w.buf, w.len);
    ef_wr_free(&w);
}

static json_int_t bal(mchain *c, int who) { return m_qint(c, "bank", "balance", "balance/%s", c->hex[who]); }

static uint64_t open_channel(mchain *c, int payer, int payee, uint64_t amount, uint64_t expiry)
{
    assert_int_equal(m_tx(c, payer, "channel", "open", "{\"payee\":\"%s\",\"amount\":%llu,\"expiry\":%llu}",
                          c->hex[payee], (unsigned long long)amount, (unsigned long long)expiry), 0);
    return (uint64_t)m_event_int(c, 0, "channel_open", "channel");
}

static void test_voucher_codec(void **state)
{
    (void)state;
    assert_int_equal(ef_crypto_init(), 0);
    ef_keypair kp, other;
    ef_keypair_generate(&kp);
    ef_keypair_generate(&other);
    ef_voucher v = {.chain_id = "c1", .channel = 7, .nonce = 3, .amount = 99}, d;
    assert_int_equal(ef_voucher_sign(&v, &kp), 0);
    ef_wr w;
    ef_wr_init(&w);
    assert_int_equal(ef_voucher_encode(&w, &v), 0);
    assert_true(w.len <= EF_VOUCHER_ENC_MAX);
    assert_int_equal(ef_voucher_decode(&d, w.buf, w.len), 0);
    assert_int_equal(d.channel, 7);
    assert_int_equal(d.amount, 99);
    assert_string_equal(d.chain_id, "c1");
    assert_int_equal(ef_voucher_verify(&d, &kp.pub), 0);
    assert_int_equal(ef_voucher_verify(&d, &other.pub), EF_EPERM);
    d.amount = 100;   /* tampered */
    assert_int_equal(ef_voucher_verify(&d, NULL), EF_EBADSIG);
    assert_int_equal(ef_voucher_decode(&d, w.buf, w.len - 1), EF_ETRUNC);
    uint8_t *longer = malloc(w.len + 1);
    memcpy(longer, w.buf, w.len);
    longer[w.len] = 0;
    assert_int_equal(ef_voucher_decode(&d, longer, w.len + 1), EF_ETRAILING);
    free(longer);
    ef_wr_free(&w);
    v.amount = (uint64_t)INT64_MAX + 1;
    assert_int_equal(ef_voucher_sign(&v, &kp), EF_EINVAL);
    char hex[2 * EF_VOUCHER_ENC_MAX + 1];
    raw_voucher_hex(hex, "edgefed/voucher/0", 1, 1, 1, &kp);
    assert_int_equal(ef_voucher_decode_hex(&d, hex), EF_EPROTO);
    raw_voucher_hex(hex, EF_VOUCHER_DOMAIN, 1, 1, UINT64_MAX, &kp);
    assert_int_equal(ef_voucher_decode_hex(&d, hex), EF_EOVERFLOW);
    assert_int_equal(ef_voucher_decode_hex(&d, "zz"), EF_EINVAL);
}

static void test_channel_session(void **state)
{
    (void)state;
    mchain *c = calloc(1, sizeof *c);
    m_open(c, NULL);
    uint64_t h = m_height(c) + 1;
    json_int_t b_payer = bal(c, PAYER), b_payee = bal(c, PAYEE);
    uint64_t id = open_channel(c, PAYER, PAYEE, 1000, h + 100);
    assert_int_equal(id, 1);
    assert_int_equal(bal(c, PAYER), b_payer - 1000);
    char v1[2 * EF_VOUCHER_ENC_MAX + 1], v2[sizeof v1], v3[sizeof v1];
    voucher_hex(v1, M_CHAIN, id, 1, 100, &c->kp[PAYER]);
    voucher_hex(v2, M_CHAIN, id, 2, 250, &c->kp[PAYER]);
    voucher_hex(v3, M_CHAIN, id, 3, 400, &c->kp[PAYER]);
    /* the latest voucher supersedes the earlier ones */
    assert_int_equal(m_tx(c, PAYEE, "channel", "redeem", "{\"channel\":1,\"voucher\":\"%s\"}", v2), 0);
    assert_int_equal(m_event_int(c, 0, "channel_redeem", "paid"), 250);
    assert_int_equal(bal(c, PAYEE), b_payee + 250);
    assert_int_equal(m_tx(c, PAYEE, "channel", "redeem", "{\"channel\":1,\"voucher\":\"%s\"}", v1), EF_ENONCE);
    assert_int_equal(m_tx(c, PAYEE, "channel", "redeem", "{\"channel\":1,\"voucher\":\"%s\"}", v2), EF_ENONCE);
    /* top-up, then the last voucher with close: the rest goes back */
    assert_int_equal(m_tx(c, PAYER, "channel", "top_up", "{\"channel\":1,\"amount\":500}"), 0);
    assert_int_equal(m_qint(c, "channel", "deposit", "channel/1"), 1500);
    assert_int_equal(m_tx(c, PAYEE, "channel", "redeem", "{\"channel\":1,\"voucher\":\"%s\",\"close\":true}", v3), 0);
    assert_int_equal(m_event_int(c, 0, "channel_closed", "refunded"), 1100);
    assert_int_equal(bal(c, PAYEE), b_payee + 400);
    assert_int_equal(bal(c, PAYER), b_payer - 400);
    json_t *ch = m_query(c, "channel", "channel/1");
    assert_string_equal(json_string_value(json_object_get(ch, "state")), "closed");
    assert_int_equal(json_integer_value(json_object_get(ch, "left")), 0);
    json_decref(ch);
    assert_int_equal(m_tx(c, PAYEE, "channel", "redeem", "{\"channel\":1,\"voucher\":\"%s\"}", v3), EF_ESTATE);
    assert_int_equal(m_tx(c, PAYER, "channel", "top_up", "{\"channel\":1,\"amount\":5}"), EF_ESTATE);
    /* ids are never reused */
    assert_int_equal(open_channel(c, PAYER, PAYEE, 10, h + 100), 2);
    json_t *open = m_query(c, "channel", "channels");
    assert_int_equal(json_array_size(open), 1);
    json_decref(open);
    json_t *mine = m_query(c, "channel", "payer/%s", c->hex[PAYER]);
    assert_int_equal(json_array_size(mine), 2);
    json_decref(mine);
    m_check_supply(c);
    m_close(c);
    free(c);
}

/* A channel opened for a market match pays for that session: only the match's
 * device and EN company may open it, the match must be active, and closing the
 * channel ends the match (its slot back to the EN): three transactions in all. */
static void test_channel_for_match(void **state)
{
    (void)state;
    mchain *c = calloc(1, sizeof *c);
    m_open(c, "{\"market\":{\"cell_m\":100,\"ring_max\":4}}");
    assert_int_equal(m_tx(c, PAYEE, "market", "register",
                          "{\"x\":500,\"y\":500,\"cpu_milli\":1000,\"mem_mb\":1000,\"slots\":1,"
                          "\"services\":[\"hash\"],\"price\":5,\"endpoint\":\"http://a:1\"}"), 0);
    uint64_t h = m_height(c) + 1;
    const char *req = "{\"x\":510,\"y\":500,\"service\":\"hash\",\"cpu_milli\":100,\"mem_mb\":10,\"slots\":1,"
                      "\"max_dist\":300,\"max_price\":9,\"expiry\":%llu}";
    assert_int_equal(m_tx(c, PAYER, "market", "match", req, (unsigned long long)(h + 100)), 0);
    assert_int_equal(m_qint(c, "market", "slots_used", "en/1"), 1);
    const char *open = "{\"payee\":\"%s\",\"amount\":100,\"expiry\":%llu,\"match\":%d}";
    /* another payee, another payer, no such match: refused, nothing changes */
    assert_int_equal(m_tx(c, PAYER, "channel", "open", open, c->hex[1], (unsigned long long)(h + 50), 1), EF_EPERM);
    assert_int_equal(m_tx(c, m_dev(1), "channel", "open", open, c->hex[PAYEE], (unsigned long long)(h + 50), 1),
                     EF_EPERM);
    assert_int_equal(m_tx(c, PAYER, "channel", "open", open, c->hex[PAYEE], (unsigned long long)(h + 50), 9),
                     EF_ENOTFOUND);
    assert_int_equal(m_tx(c, PAYER, "channel", "open", open, c->hex[PAYEE], (unsigned long long)(h + 50), 0),
                     EF_EARGS);
    assert_int_equal(m_tx(c, PAYER, "channel", "open", open, c->hex[PAYEE], (unsigned long long)(h + 50), 1), 0);
    uint64_t id = (uint64_t)m_event_int(c, 0, "channel_open", "channel");
    assert_int_equal(m_qint(c, "channel", "match", "channel/%llu", (unsigned long long)id), 1);
    char v[2 * EF_VOUCHER_ENC_MAX + 1];
    voucher_hex(v, M_CHAIN, id, 1, 40, &c->kp[PAYER]);
    assert_int_equal(m_tx(c, PAYEE, "channel", "redeem", "{\"channel\":%llu,\"voucher\":\"%s\",\"close\":true}",
                          (unsigned long long)id, v), 0);
    json_t *ended = m_event(c, 0, "match_ended");
    assert_non_null(ended);
    json_decref(ended);
    json_t *m = m_query(c, "market", "match/1");
    assert_string_equal(json_string_value(json_object_get(m, "state")), "ended");
    json_decref(m);
    assert_int_equal(m_qint(c, "market", "slots_used", "en/1"), 0);
    /* a channel for an ended match cannot be opened */
    assert_int_equal(m_tx(c, PAYER, "channel", "open", open, c->hex[PAYEE], (unsigned long long)(h + 50), 1),
                     EF_ESTATE);
    m_check_supply(c);
    m_close(c);
    free(c);
}

/* Every voucher misbehaviour: its own code; balances and channel unchanged. */
static void test_channel_misbehaviour(void **state)
{
    (void)state;
    mchain *c = calloc(1, sizeof *c);
    m_open(c, NULL);
    uint64_t h = m_height(c) + 1;
    uint64_t id = open_channel(c, PAYER, PAYEE, 1000, h + 100);
    (void)open_channel(c, PAYER, 1, 1000, h + 100);   /* channel 2, another payee */
    char good[2 * EF_VOUCHER_ENC_MAX + 1], v[sizeof good];
    voucher_hex(good, M_CHAIN, id, 5, 300, &c->kp[PAYER]);
    assert_int_equal(m_tx(c, PAYEE, "channel", "redeem", "{\"channel\":1,\"voucher\":\"%s\"}", good), 0);
    json_t *before = m_query(c, "channel", "channel/1");
    json_int_t b_payer = bal(c, PAYER), b_payee = bal(c, PAYEE);

    struct { const char *what; int code; } cases[] = {
        {"overdraft", EF_EFUNDS},     {"replay", EF_ENONCE},       {"stale nonce", EF_ENONCE},
        {"lower amount", EF_ENONCE},  {"other chain", EF_ECHAIN},  {"other channel", EF_EINVAL},
        {"wrong signer", EF_EPERM},   {"bad signature", EF_EBADSIG}, {"overflow", EF_EOVERFLOW},
        {"wrong domain", EF_EPROTO},  {"not a voucher", EF_EARGS}, {"not the payee", EF_EPERM},
        {"truncated", EF_EARGS},
    };
    for (size_t i = 0; i < EF_ARRAY_LEN(cases); i++) {
        int who = PAYEE;
        switch (i) {
        case 0: voucher_hex(v, M_CHAIN, id, 6, 1001, &c->kp[PAYER]); break;
        case 1: strcpy(v, good); break;
        case 2: voucher_hex(v, M_CHAIN, id, 4, 500, &c->kp[PAYER]); break;
        case 3: voucher_hex(v, M_CHAIN, id, 6, 299, &c->kp[PAYER]); break;
        case 4: voucher_hex(v, "another-chain", id, 6, 400, &c->kp[PAYER]); break;
        case 5: voucher_hex(v, M_CHAIN, 2, 6, 400, &c->kp[PAYER]); break;
        case 6: voucher_hex(v, M_CHAIN, id, 6, 400, &c->kp[m_dev(1)]); break;
        case 7:
            voucher_hex(v, M_CHAIN, id, 6, 400, &c->kp[PAYER]);
            v[strlen(v) - 1] = v[strlen(v) - 1] == '0' ? '1' : '0';
            break;
        case 8: raw_voucher_hex(v, EF_VOUCHER_DOMAIN, id, 6, (uint64_t)INT64_MAX + 5, &c->kp[PAYER]); break;
        case 9: raw_voucher_hex(v, "edgefed/voucher/2", id, 6, 400, &c->kp[PAYER]); break;
        case 10: strcpy(v, "00ff"); break;
        case 11: voucher_hex(v, M_CHAIN, id, 6, 400, &c->kp[PAYER]); who = 1; break;
        case 12: voucher_hex(v, M_CHAIN, id, 6, 400, &c->kp[PAYER]); v[strlen(v) - 2] = 0; break;
        }
        int rc = m_tx(c, who, "channel", "redeem", "{\"channel\":1,\"voucher\":\"%s\"}", v);
        if (rc != cases[i].code) fprintf(stderr, "case %s: %s\n", cases[i].what, ef_errname(rc));
        assert_int_equal(rc, cases[i].code);
        json_t *after = m_query(c, "channel", "channel/1");
        assert_true(json_equal(before, after));
        json_decref(after);
        assert_int_equal(bal(c, PAYER), b_payer);
        assert_int_equal(bal(c, PAYEE), b_payee);
    }
    json_decref(before);
    /* other calls */
    assert_int_equal(m_tx(c, PAYER, "channel", "open", "{\"payee\":\"%s\",\"amount\":10,\"expiry\":%llu}",
                          c->hex[PAYER], (unsigned long long)(h + 50)), EF_EINVAL);
    assert_int_equal(m_tx(c, PAYER, "channel", "open", "{\"payee\":\"%s\",\"amount\":10,\"expiry\":1}",
                          c->hex[PAYEE]), EF_EINVAL);
    assert_int_equal(m_tx(c, PAYER, "channel", "open", "{\"payee\":\"%s\",\"amount\":%lld,\"expiry\":%llu}",
                          c->hex[PAYEE], M_BALANCE, (unsigned long long)(h + 50)), EF_EFUNDS);
    assert_int_equal(m_tx(c, PAYER, "channel", "open", "{\"payee\":\"%s\",\"amount\":0,\"expiry\":%llu}",
                          c->hex[PAYEE], (unsigned long long)(h + 50)), EF_EARGS);
    assert_int_equal(m_tx(c, PAYEE, "channel", "top_up", "{\"channel\":1,\"amount\":5}"), EF_EPERM);
    assert_int_equal(m_tx(c, PAYER, "channel", "top_up", "{\"channel\":1,\"amount\":%lld}", (long long)INT64_MAX),
                     EF_EOVERFLOW);
    assert_int_equal(m_tx(c, PAYER, "channel", "top_up", "{\"channel\":1,\"amount\":5,\"expiry\":3}"), EF_EINVAL);
    assert_int_equal(m_tx(c, PAYER, "channel", "top_up", "{\"channel\":9,\"amount\":5}"), EF_ENOTFOUND);
    assert_int_equal(m_tx(c, PAYEE, "channel", "start_close", "{\"channel\":1}"), EF_EPERM);
    assert_int_equal(m_tx(c, PAYER, "channel", "settle", "{\"channel\":1}"), EF_EAGAIN);
    assert_int_equal(m_tx(c, PAYER, "channel", "redeem", "{\"channel\":1,\"voucher\":\"%s\",\"x\":1}", good), EF_EARGS);
    m_check_supply(c);
    m_close(c);
    free(c);
}

static void test_channel_challenge_window(void **state)
{
    (void)state;
    mchain *c = calloc(1, sizeof *c);
    m_open(c, "{\"channel\":{\"challenge_blocks\":5}}");
    uint64_t h = m_height(c) + 1;
    json_int_t b_payer = bal(c, PAYER), b_payee = bal(c, PAYEE);
    uint64_t id = open_channel(c, PAYER, PAYEE, 1000, h + 1000);
    char v[2 * EF_VOUCHER_ENC_MAX + 1];
    voucher_hex(v, M_CHAIN, id, 1, 700, &c->kp[PAYER]);
    /* the payer starts a close hoping the payee is away */
    assert_int_equal(m_tx(c, PAYER, "channel", "start_close", "{\"channel\":1}"), 0);
    json_int_t close_at = m_event_int(c, 0, "channel_closing", "close_at");
    assert_int_equal(close_at, (json_int_t)m_height(c) + 5);
    assert_int_equal(m_tx(c, PAYER, "channel", "start_close", "{\"channel\":1}"), EF_ESTATE);
    assert_int_equal(m_tx(c, PAYER, "channel", "top_up", "{\"channel\":1,\"amount\":1}"), EF_ESTATE);
    /* within the window: settle refused, the payee's voucher honoured */
    assert_int_equal(m_tx(c, M_OUTSIDER, "channel", "settle", "{\"channel\":1}"), EF_EAGAIN);
    assert_true((json_int_t)m_height(c) + 1 < close_at);
    assert_int_equal(m_tx(c, PAYEE, "channel", "redeem", "{\"channel\":1,\"voucher\":\"%s\"}", v), 0);
    while ((json_int_t)m_height(c) + 1 < close_at)
        assert_int_equal(m_tx(c, M_OUTSIDER, "channel", "settle", "{\"channel\":1}"), EF_EAGAIN);
    assert_int_equal(m_tx(c, M_OUTSIDER, "channel", "settle", "{\"channel\":1}"), 0);
    assert_int_equal(bal(c, PAYEE), b_payee + 700);
    assert_int_equal(bal(c, PAYER), b_payer - 700);

    /* a payee that comes back after the window is too late */
    id = open_channel(c, PAYER, PAYEE, 1000, h + 1000);
    voucher_hex(v, M_CHAIN, id, 1, 300, &c->kp[PAYER]);
    assert_int_equal(m_tx(c, PAYER, "channel", "start_close", "{\"channel\":%llu}", (unsigned long long)id), 0);
    for (int i = 0; i < 5; i++) m_commit(c);
    assert_int_equal(m_tx(c, PAYEE, "channel", "redeem", "{\"channel\":%llu,\"voucher\":\"%s\"}",
                          (unsigned long long)id, v), EF_ELATE);
    assert_int_equal(m_tx(c, PAYER, "channel", "settle", "{\"channel\":%llu}", (unsigned long long)id), 0);
    assert_int_equal(bal(c, PAYER), b_payer - 700);
    m_check_supply(c);
    m_close(c);
    free(c);
}

static void test_channel_expiry_refund(void **state)
{
    (void)state;
    mchain *c = calloc(1, sizeof *c);
    m_open(c, NULL);
    json_int_t b_payer = bal(c, PAYER);
    uint64_t h = m_height(c) + 1;
    uint64_t id = open_channel(c, PAYER, PAYEE, 800, h + 3);
    char v[2 * EF_VOUCHER_ENC_MAX + 1];
    voucher_hex(v, M_CHAIN, id, 1, 100, &c->kp[PAYER]);
    assert_int_equal(m_tx(c, PAYER, "channel", "settle", "{\"channel\":1}"), EF_EAGAIN);
    m_commit(c);
    /* height h + 3 = expiry: too late to redeem, settle refunds everything */
    assert_int_equal(m_tx(c, PAYEE, "channel", "redeem", "{\"channel\":1,\"voucher\":\"%s\"}", v), EF_ELATE);
    assert_int_equal(m_tx(c, PAYER, "channel", "start_close", "{\"channel\":1}"), EF_ELATE);
    assert_int_equal(m_tx(c, M_OUTSIDER, "channel", "settle", "{\"channel\":1}"), 0);
    assert_int_equal(m_event_int(c, 0, "channel_closed", "refunded"), 800);
    assert_int_equal(bal(c, PAYER), b_payer);
    assert_int_equal(m_tx(c, M_OUTSIDER, "channel", "settle", "{\"channel\":1}"), EF_ESTATE);
    m_check_supply(c);
    m_close(c);
    free(c);
}

/* --- random runs against a model of every balance --- */

static uint64_t crng;
static uint64_t crnd(void)
{
    crng ^= crng << 13;
    crng ^= crng >> 7;
    crng ^= crng << 17;
    return crng;
}

typedef struct rch {
    int payer, payee;
    json_int_t deposit, redeemed, refunded, best;   /* best: the payee's best voucher amount */
    uint64_t nonce, best_nonce, expiry, close_at;
    int state;   /* 1 open, 2 closing, 3 closed */
} rch;

static void test_channel_random_conservation(void **state)
{
    (void)state;
    mchain *c = calloc(1, sizeof *c);
    m_open(c, "{\"channel\":{\"challenge_blocks\":3}}");
    rch ch[200];
    size_t nch = 0;
    json_int_t balance[M_NACC];
    for (int i = 0; i < M_NACC; i++) balance[i] = M_BALANCE;
    crng = 77;
    size_t ok = 0, refused = 0;
    for (int step = 0; step < 600; step++) {
        uint64_t h = m_height(c) + 1;
        uint64_t op = crnd() % 100;
        int code;
        if (op < 10 || nch == 0) {
            if (nch == EF_ARRAY_LEN(ch)) continue;
            rch n = {0};
            n.payer = m_dev((int)(crnd() % M_NDEV));
            n.payee = (int)(crnd() % M_NCOMP);
            n.deposit = (json_int_t)(crnd() % 5000 + 1);
            n.expiry = h + crnd() % 200 + 20;
            n.state = 1;
            code = m_tx(c, n.payer, "channel", "open", "{\"payee\":\"%s\",\"amount\":%lld,\"expiry\":%llu}",
                        c->hex[n.payee], (long long)n.deposit, (unsigned long long)n.expiry);
            assert_int_equal(code, 0);
            assert_int_equal(m_event_int(c, 0, "channel_open", "channel"), (json_int_t)nch + 1);
            balance[n.payer] -= n.deposit;
            ch[nch++] = n;
        } else {
            size_t k = crnd() % nch;
            rch *x = &ch[k];
            uint64_t end = x->state == 2 ? x->close_at : x->expiry;
            if (op < 60) {   /* the payer hands a voucher; the payee redeems it (or one it had) */
                json_int_t amount = x->redeemed + (json_int_t)(crnd() % 1500) - 100;
                if (amount < 0) amount = 0;
                uint64_t nonce = x->nonce + crnd() % 3;   /* sometimes stale */
                char v[2 * EF_VOUCHER_ENC_MAX + 1];
                if (nonce == 0) nonce = 1;
                voucher_hex(v, M_CHAIN, k + 1, nonce, (uint64_t)amount, &c->kp[x->payer]);
                bool close = crnd() % 8 == 0;
                code = m_tx(c, x->payee, "channel", "redeem", "{\"channel\":%zu,\"voucher\":\"%s\",\"close\":%s}",
                            k + 1, v, close ? "true" : "false");
                int want = x->state == 3 ? EF_ESTATE : h >= end ? EF_ELATE
                         : (nonce <= x->nonce || amount < x->redeemed) ? EF_ENONCE
                         : amount > x->deposit ? EF_EFUNDS : 0;
                assert_int_equal(code, want);
                if (code == 0) {
                    balance[x->payee] += amount - x->redeemed;
                    x->redeemed = amount;
                    x->nonce = nonce;
                    if (close) {
                        x->refunded = x->deposit - x->redeemed;
                        balance[x->payer] += x->refunded;
                        x->state = 3;
                    }
                }
            } else if (op < 75) {
                json_int_t amount = (json_int_t)(crnd() % 3000 + 1);
                code = m_tx(c, x->payer, "channel", "top_up", "{\"channel\":%zu,\"amount\":%lld}", k + 1,
                            (long long)amount);
                int want = x->state != 1 ? EF_ESTATE : h >= x->expiry ? EF_ELATE : 0;
                assert_int_equal(code, want);
                if (code == 0) {
                    x->deposit += amount;
                    balance[x->payer] -= amount;
                }
            } else if (op < 85) {
                code = m_tx(c, x->payer, "channel", "start_close", "{\"channel\":%zu}", k + 1);
                int want = x->state != 1 ? EF_ESTATE : h >= x->expiry ? EF_ELATE : 0;
                assert_int_equal(code, want);
                if (code == 0) {
                    x->state = 2;
                    x->close_at = h + 3;
                }
            } else {
                code = m_tx(c, m_dev((int)(crnd() % M_NDEV)), "channel", "settle", "{\"channel\":%zu}", k + 1);
                int want = x->state == 3 ? EF_ESTATE : h < end ? EF_EAGAIN : 0;
                assert_int_equal(code, want);
                if (code == 0) {
                    x->refunded = x->deposit - x->redeemed;
                    balance[x->payer] += x->refunded;
                    x->state = 3;
                }
            }
            if (code) refused++;
            else ok++;
        }
        if (step % 50 == 49) {
            m_check_supply(c);
            for (int i = 0; i < M_NACC; i++) assert_int_equal(bal(c, i), balance[i]);
        }
    }
    /* every channel: deposit = redeemed + refunded + left, and its escrow holds left */
    for (size_t k = 0; k < nch; k++) {
        json_t *j = m_query(c, "channel", "channel/%zu", k + 1);
        json_int_t dep = json_integer_value(json_object_get(j, "deposit"));
        json_int_t red = json_integer_value(json_object_get(j, "redeemed"));
        json_int_t ref = json_integer_value(json_object_get(j, "refunded"));
        json_int_t left = json_integer_value(json_object_get(j, "left"));
        assert_int_equal(dep, ch[k].deposit);
        assert_int_equal(red, ch[k].redeemed);
        assert_int_equal(dep, red + ref + left);
        assert_int_equal(m_qint(c, "bank", "left", "escrow/%lld",
                                (long long)json_integer_value(json_object_get(j, "escrow"))), left);
        json_decref(j);
    }
    m_check_supply(c);
    fprintf(stderr, "random channels: %zu channels, %zu calls accepted, %zu refused; supply conserved\n", nch, ok,
            refused);
    assert_true(ok > 100 && refused > 50);
    m_close(c);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_voucher_codec),
        cmocka_unit_test(test_channel_session),
        cmocka_unit_test(test_channel_for_match),
        cmocka_unit_test(test_channel_misbehaviour),
        cmocka_unit_test(test_channel_challenge_window),
        cmocka_unit_test(test_channel_expiry_refund),
        cmocka_unit_test(test_channel_random_conservation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
