/* test_committee.c: the committee contract through the real store and executor:
 * an election equal to a reference computation written here with libsodium
 * alone (not base/ef_beacon.c), the same on two independent chains; the
 * scheduled validator set at the right height; every refused call with its own
 * code and nothing changed; a member that did not reveal is recorded, sits out
 * the next election and is replaced; devices admitted and removed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>

#include "agents/ef_committee_agent.h"
#include "base/ef_beacon.h"
#include "contracts/ef_committee.h"
#include "ef_test_mkt.h"

/* companies 0..2 are the genesis validators (epoch 0's committee) */
#define ADMIN m_dev(7)
#define NDEVS 6               /* devices 0..5 eligible at genesis; 6 is not */
#define K 3
static int L = 8;             /* epoch heights (c_open sets them) */
static int C = 3;             /* commit heights */

/* The proposer of the next block: a validator of its height (the committee
 * rotates, so m_commit's fixed proposer would not do). */
static void k_commit(mchain *c)
{
    ef_vset vs;
    assert_int_equal(ef_store_vset(c->s, m_height(c) + 1, &vs), 0);
    ef_txbuf *cand = calloc(c->n ? c->n : 1, sizeof *cand);
    int *st = calloc(c->n ? c->n : 1, sizeof *st);
    for (size_t i = 0; i < c->n; i++) cand[i] = (ef_txbuf){c->enc[i], c->len[i]};
    uint8_t *blk;
    size_t blen;
    assert_int_equal(ef_ledger_propose(c->s, cand, c->n, c->now_ms, &vs.v[0].pub, NULL, st, &blk, &blen), 0);
    for (size_t i = 0; i < c->n; i++) assert_int_equal(st[i], 0);
    assert_int_equal(ef_ledger_commit(c->s, blk, blen, NULL, 0), 0);
    free(blk);
    c->now_ms += 1000;
    m_clear_results(c);
    for (size_t i = 0; i < c->n; i++) {
        ef_hash h;
        ef_tx_loc loc = {0};
        ef_tx_hash_enc(&h, c->enc[i], c->len[i]);
        assert_int_equal(ef_store_tx_lookup(c->s, &h, &loc), 0);
        c->code[i] = loc.code;
        c->events[i] = loc.events_json;
        free(c->enc[i]);
    }
    c->n = 0;
    free(cand);
    free(st);
}

static int k_tx(mchain *c, int who, const char *method, const char *fmt, ...)
{
    char args[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    m_add(c, who, "committee", method, "%s", args);
    k_commit(c);
    return c->code[0];
}

static void c_open_ex(mchain *c, int l, int cc)
{
    L = l;
    C = cc;
    /* m_open makes the keys from fixed seeds: the same ones here, for the params */
    ef_keypair kp[M_NACC];
    char hex[M_NACC][65], params[2048];
    assert_int_equal(ef_crypto_init(), 0);
    for (int i = 0; i < M_NACC; i++) {
        uint8_t seed[EF_SEED_SIZE] = {0};
        seed[0] = (uint8_t)(i + 1);
        seed[1] = 0x3c;
        ef_keypair_from_seed(&kp[i], seed);
        ef_hex(hex[i], kp[i].pub.b, EF_PUB_SIZE);
    }
    int n = snprintf(params, sizeof params,
                     "{\"committee\":{\"admin\":\"%s\",\"size\":%d,\"epoch_heights\":%d,\"commit_heights\":%d,"
                     "\"devices\":[",
                     hex[ADMIN], K, L, C);
    for (int i = 0; i < NDEVS; i++)
        n += snprintf(params + n, sizeof params - (size_t)n, "%s\"%s\"", i ? "," : "", hex[m_dev(i)]);
    snprintf(params + n, sizeof params - (size_t)n, "]}}");
    m_open(c, params);
}

static void c_open(mchain *c) { c_open_ex(c, 8, 3); }

/* ---- the reference: the rules of ef_committee.h / ef_beacon.h, with libsodium only ---- */

static void ref_commitment(uint8_t out[32], uint64_t epoch, const uint8_t pub[32], const uint8_t secret[32])
{
    uint8_t buf[1 + 8 + 32 + 32];
    buf[0] = 0x60;
    for (int i = 0; i < 8; i++) buf[1 + i] = (uint8_t)(epoch >> (8 * i));
    memcpy(buf + 9, pub, 32);
    memcpy(buf + 41, secret, 32);
    crypto_generichash(out, 32, buf, sizeof buf, NULL, 0);
}

typedef struct { uint8_t pub[32], secret[32]; } ref_reveal;
typedef struct { uint8_t pub[32], rank[32]; } ref_cand;

static int ref_reveal_cmp(const void *a, const void *b) { return memcmp(a, b, 32); }
static int ref_cand_cmp(const void *a, const void *b)
{
    const ref_cand *x = a, *y = b;
    int k = memcmp(x->rank, y->rank, 32);
    return k ? k : memcmp(x->pub, y->pub, 32);
}

/* seed over the reveals (sorted here) and the anchor; the committee: the k of
 * smallest BLAKE2b(0x62 || seed || pub) among cands. */
static void ref_elect(uint8_t seed[32], uint64_t epoch, const uint8_t anchor[32], ref_reveal *rv, size_t nrv,
                      ref_cand *cands, size_t ncand)
{
    qsort(rv, nrv, sizeof *rv, ref_reveal_cmp);
    crypto_generichash_state st;
    uint8_t head[1 + 8 + 32 + 4];
    head[0] = 0x61;
    for (int i = 0; i < 8; i++) head[1 + i] = (uint8_t)(epoch >> (8 * i));
    memcpy(head + 9, anchor, 32);
    for (int i = 0; i < 4; i++) head[41 + i] = (uint8_t)(nrv >> (8 * i));
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, head, sizeof head);
    for (size_t i = 0; i < nrv; i++) {
        crypto_generichash_update(&st, rv[i].pub, 32);
        crypto_generichash_update(&st, rv[i].secret, 32);
    }
    crypto_generichash_final(&st, seed, 32);
    for (size_t i = 0; i < ncand; i++) {
        uint8_t buf[1 + 64];
        buf[0] = 0x62;
        memcpy(buf + 1, seed, 32);
        memcpy(buf + 33, cands[i].pub, 32);
        crypto_generichash(cands[i].rank, 32, buf, sizeof buf, NULL, 0);
    }
    qsort(cands, ncand, sizeof *cands, ref_cand_cmp);
}

/* ---- helpers ---- */

static void secret_of(mchain *c, int who, uint64_t epoch, uint8_t out[32])
{
    ef_beacon_secret(out, &c->kp[who], M_CHAIN, epoch);
}

static void hex32(char out[65], const uint8_t b[32]) { ef_hex(out, b, 32); }

static bool m_in_hex(const json_t *arr, const char *hex)
{
    for (size_t i = 0; i < json_array_size(arr); i++)
        if (!strcmp(json_string_value(json_array_get(arr, i)), hex)) return true;
    return false;
}

static void q_commit(mchain *c, int who, uint64_t epoch)
{
    uint8_t s[32], cm[32];
    char hx[65];
    secret_of(c, who, epoch, s);
    ref_commitment(cm, epoch, c->kp[who].pub.b, s);
    hex32(hx, cm);
    m_add(c, who, "committee", "commit", "{\"epoch\":%llu,\"commitment\":\"%s\"}", (unsigned long long)epoch, hx);
}

static void q_reveal(mchain *c, int who, uint64_t epoch)
{
    uint8_t s[32];
    char hx[65];
    secret_of(c, who, epoch, s);
    hex32(hx, s);
    m_add(c, who, "committee", "reveal", "{\"epoch\":%llu,\"secret\":\"%s\"}", (unsigned long long)epoch, hx);
}

static int idx_of_hex(mchain *c, const char *hex)
{
    for (int i = 0; i < M_NACC; i++)
        if (!strcmp(c->hex[i], hex)) return i;
    fail_msg("unknown key %s", hex);
    return -1;
}

/* the current committee as account indices; returns its size */
static int committee_now(mchain *c, int out[64], uint64_t *epoch, uint64_t *start)
{
    json_t *cur = m_query(c, "committee", "current");
    json_t *arr = json_object_get(cur, "committee");
    int n = (int)json_array_size(arr);
    for (int i = 0; i < n; i++) out[i] = idx_of_hex(c, json_string_value(json_array_get(arr, (size_t)i)));
    if (epoch) *epoch = (uint64_t)json_integer_value(json_object_get(cur, "epoch"));
    if (start) *start = (uint64_t)json_integer_value(json_object_get(cur, "start"));
    json_decref(cur);
    return n;
}

static void commit_until(mchain *c, uint64_t height)
{
    while (m_height(c) < height) k_commit(c);
}

/* Runs one epoch: members listed in `commit` commit at its start, those in
 * `reveal` reveal at the first reveal height, elect at elect_from. Returns the
 * elect height. */
static uint64_t run_epoch(mchain *c, const bool *commit, const bool *reveal)
{
    int mem[64];
    uint64_t epoch, start;
    int n = committee_now(c, mem, &epoch, &start);
    commit_until(c, start - 1);
    size_t q = 0;
    for (int i = 0; i < n; i++)
        if (commit[i]) q_commit(c, mem[i], epoch), q++;
    k_commit(c);
    for (size_t i = 0; i < q; i++) assert_int_equal(c->code[i], 0);
    commit_until(c, start + C - 1);
    q = 0;
    for (int i = 0; i < n; i++)
        if (reveal[i]) q_reveal(c, mem[i], epoch), q++;
    k_commit(c);
    for (size_t i = 0; i < q; i++) assert_int_equal(c->code[i], 0);
    commit_until(c, start + L - 3);
    assert_int_equal(k_tx(c, m_dev(0), "elect", "{\"epoch\":%llu}", (unsigned long long)epoch), 0);
    /* the event carries the new committee and its first height */
    json_t *ev = m_event(c, 0, "committee_elected");
    assert_non_null(ev);
    json_t *rec = m_query(c, "committee", "epoch/%llu", (unsigned long long)epoch);
    assert_true(json_equal(json_object_get(ev, "committee"), json_object_get(rec, "next_committee")));
    assert_true(json_equal(json_object_get(ev, "seed"), json_object_get(rec, "seed")));
    assert_int_equal(json_integer_value(json_object_get(ev, "start")), m_height(c) + EF_VSET_DELAY);
    assert_int_equal(json_integer_value(json_object_get(ev, "epoch")), epoch + 1);
    json_decref(rec);
    json_decref(ev);
    return m_height(c);
}

static const bool ALL[64] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};

/* the reference election for the epoch just finished (its record is epoch/E) */
static void check_reference(mchain *c, uint64_t epoch)
{
    json_t *rec = m_query(c, "committee", "epoch/%llu", (unsigned long long)epoch);
    /* anchor: the hash of the block at anchor_height, from the store */
    uint64_t ah = (uint64_t)json_integer_value(json_object_get(rec, "anchor_height"));
    ef_block_header hdr;
    ef_hash anchor;
    assert_int_equal(ef_store_header(c->s, ah, &hdr), 0);
    ef_block_header_hash(&anchor, &hdr);
    char hx[65];
    hex32(hx, anchor.b);
    assert_string_equal(hx, json_string_value(json_object_get(rec, "anchor_hash")));
    /* reveals: the secrets each revealer derives */
    ref_reveal rv[64];
    size_t nrv = 0;
    json_t *v;
    size_t i;
    json_array_foreach(json_object_get(rec, "revealed"), i, v) {
        int who = idx_of_hex(c, json_string_value(v));
        memcpy(rv[nrv].pub, c->kp[who].pub.b, 32);
        secret_of(c, who, epoch, rv[nrv].secret);
        nrv++;
    }
    /* candidates: the devices not excluded from this election (those who just
     * missed are excluded through epoch + 1) */
    json_t *devs = m_query(c, "committee", "devices");
    ref_cand cands[64];
    size_t nc = 0;
    json_array_foreach(devs, i, v) {
        if ((uint64_t)json_integer_value(json_object_get(v, "excluded_until")) >= epoch + 1) continue;
        assert_int_equal(ef_unhex(cands[nc].pub, 32, json_string_value(json_object_get(v, "device"))), 0);
        nc++;
    }
    json_decref(devs);
    uint8_t seed[32];
    ref_elect(seed, epoch, anchor.b, rv, nrv, cands, nc);
    hex32(hx, seed);
    assert_string_equal(hx, json_string_value(json_object_get(rec, "seed")));
    /* the committee: the K first, in key order */
    size_t k = nc < K ? nc : K;
    qsort(cands, k, sizeof *cands, ref_reveal_cmp);
    json_t *next = json_object_get(rec, "next_committee");
    assert_int_equal(json_array_size(next), k);
    for (size_t j = 0; j < k; j++) {
        char ph[65];
        hex32(ph, cands[j].pub);
        assert_string_equal(ph, json_string_value(json_array_get(next, j)));
    }
    /* the scheduled validator set from elected_at + 2, the old one before */
    uint64_t at = (uint64_t)json_integer_value(json_object_get(rec, "elected_at"));
    ef_vset vs, old;
    assert_int_equal(ef_store_vset(c->s, at + EF_VSET_DELAY, &vs), 0);
    assert_int_equal(vs.len, k);
    for (size_t j = 0; j < k; j++) assert_memory_equal(vs.v[j].pub.b, cands[j].pub, 32);
    assert_int_equal(ef_store_vset(c->s, at + 1, &old), 0);
    json_t *was = json_object_get(rec, "committee");
    assert_int_equal(old.len, json_array_size(was));
    json_decref(rec);
}

/* ---- tests ---- */

static void test_election_reference(void **state)
{
    (void)state;
    mchain *c = calloc(1, sizeof *c);
    c_open(c);
    json_t *cfg = m_query(c, "committee", "config");
    assert_int_equal(json_integer_value(json_object_get(cfg, "size")), K);
    json_decref(cfg);
    json_t *devs = m_query(c, "committee", "devices");
    assert_int_equal(json_array_size(devs), M_NCOMP + NDEVS);
    json_decref(devs);
    int mem[64];
    uint64_t epoch, start;
    assert_int_equal(committee_now(c, mem, &epoch, &start), M_NCOMP);
    assert_int_equal(epoch, 0);
    assert_int_equal(start, 1);
    for (int e = 0; e < 4; e++) {
        uint64_t at = run_epoch(c, ALL, ALL);
        check_reference(c, (uint64_t)e);
        json_t *rec = m_query(c, "committee", "epoch/%d", e);
        assert_int_equal(json_array_size(json_object_get(rec, "missed")), 0);
        assert_int_equal(json_integer_value(json_object_get(rec, "elected_at")), at);
        json_decref(rec);
        assert_int_equal(committee_now(c, mem, &epoch, &start), K);
        assert_int_equal(epoch, e + 1);
        assert_int_equal(start, at + EF_VSET_DELAY);
        assert_int_equal(at, (uint64_t)(1 + (uint64_t)e * L) + L - EF_VSET_DELAY); /* on time */
    }
    json_t *hist = m_query(c, "committee", "epochs");
    assert_int_equal(json_array_size(hist), 4);
    json_decref(hist);
    m_close(c);
    free(c);
}

/* Two chains fed the same transactions elect the same committees (and reach
 * the same state). */
static void test_election_deterministic(void **state)
{
    (void)state;
    mchain *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    c_open(a);
    c_open(b);
    for (int e = 0; e < 3; e++) {
        run_epoch(a, ALL, ALL);
        run_epoch(b, ALL, ALL);
        json_t *ra = m_query(a, "committee", "epoch/%d", e), *rb = m_query(b, "committee", "epoch/%d", e);
        assert_true(json_equal(ra, rb));
        json_decref(ra);
        json_decref(rb);
    }
    ef_store_info ia, ib;
    assert_int_equal(ef_store_info_get(a->s, &ia), 0);
    assert_int_equal(ef_store_info_get(b->s, &ib), 0);
    assert_memory_equal(ia.state_hash.b, ib.state_hash.b, 32);
    m_close(a);
    m_close(b);
    free(a);
    free(b);
}

/* everything the contract answers, as one JSON text */
static char *snapshot(mchain *c)
{
    json_t *all = json_pack("{s:o, s:o, s:o, s:o}", "current", m_query(c, "committee", "current"), "devices",
                            m_query(c, "committee", "devices"), "epochs", m_query(c, "committee", "epochs"),
                            "config", m_query(c, "committee", "config"));
    json_object_del(json_object_get(all, "current"), "height");
    json_object_del(json_object_get(all, "current"), "phase");
    char *s = json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(all);
    return s;
}

/* one call that must fail with want and change nothing the contract holds */
static void refused(mchain *c, int want, const char *what, int who, const char *method, const char *fmt, ...)
{
    char args[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    char *before = snapshot(c);
    int rc = k_tx(c, who, method, "%s", args);
    if (rc != want) fail_msg("%s: %s, want %s", what, ef_errname(rc), ef_errname(want));
    char *after = snapshot(c);
    if (strcmp(before, after)) fail_msg("%s changed the state:\n%s\n%s", what, before, after);
    free(before);
    free(after);
}

static void test_refused(void **state)
{
    (void)state;
    mchain *c = calloc(1, sizeof *c);
    c_open_ex(c, 40, 20);
    uint8_t s0[32], cm0[32];
    char sx[65], cx[65], bad[65];
    secret_of(c, 0, 0, s0);
    ref_commitment(cm0, 0, c->kp[0].pub.b, s0);
    hex32(sx, s0);
    hex32(cx, cm0);
    memset(bad, 'a', 64);
    bad[64] = 0;
    /* height 1..3: the commit window of epoch 0 */
    refused(c, EF_EPERM, "non-admin admits", m_dev(0), "admit", "{\"device\":\"%s\"}", c->hex[m_dev(6)]);
    refused(c, EF_EPERM, "a validator admits", 0, "admit", "{\"device\":\"%s\"}", c->hex[m_dev(6)]);
    refused(c, EF_EPERM, "non-admin removes", m_dev(0), "remove", "{\"device\":\"%s\"}", c->hex[m_dev(1)]);
    refused(c, EF_EINELIGIBLE, "admit of a key with no account", ADMIN, "admit", "{\"device\":\"%s\"}",
            c->hex[M_OUTSIDER]);
    refused(c, EF_EEXIST, "admit twice", ADMIN, "admit", "{\"device\":\"%s\"}", c->hex[m_dev(0)]);
    refused(c, EF_ENOTFOUND, "remove of no device", ADMIN, "remove", "{\"device\":\"%s\"}", c->hex[m_dev(6)]);
    refused(c, EF_EARGS, "admit, unknown field", ADMIN, "admit", "{\"device\":\"%s\",\"x\":1}", c->hex[m_dev(6)]);
    refused(c, EF_EARGS, "admit, bad key", ADMIN, "admit", "{\"device\":\"zz\"}");
    refused(c, EF_ENOTCOMMITTEE, "non-member commits", m_dev(0), "commit", "{\"epoch\":0,\"commitment\":\"%s\"}", cx);
    refused(c, EF_EWINDOW, "commit for another epoch", 0, "commit", "{\"epoch\":1,\"commitment\":\"%s\"}", cx);
    refused(c, EF_EARGS, "commit, no commitment", 0, "commit", "{\"epoch\":0}");
    refused(c, EF_EWINDOW, "reveal in the commit window", 0, "reveal", "{\"epoch\":0,\"secret\":\"%s\"}", sx);
    refused(c, EF_EWINDOW, "elect in the commit window", m_dev(0), "elect", "{\"epoch\":0}");
    assert_true(m_height(c) < (uint64_t)C);
    assert_int_equal(k_tx(c, 0, "commit", "{\"epoch\":0,\"commitment\":\"%s\"}", cx), 0);
    assert_true(m_height(c) <= (uint64_t)C);
    refused(c, EF_EDUP, "commit twice", 0, "commit", "{\"epoch\":0,\"commitment\":\"%s\"}", bad);
    /* reveal window: heights C+1 .. L-2 */
    commit_until(c, (uint64_t)C);
    refused(c, EF_EWINDOW, "commit in the reveal window", 1, "commit", "{\"epoch\":0,\"commitment\":\"%s\"}", cx);
    refused(c, EF_EWINDOW, "admit in the reveal window", ADMIN, "admit", "{\"device\":\"%s\"}", c->hex[m_dev(6)]);
    refused(c, EF_EREVEAL, "reveal not matching", 0, "reveal", "{\"epoch\":0,\"secret\":\"%s\"}", bad);
    refused(c, EF_ENOCOMMIT, "reveal without commit", 1, "reveal", "{\"epoch\":0,\"secret\":\"%s\"}", sx);
    refused(c, EF_ENOTCOMMITTEE, "non-member reveals", m_dev(0), "reveal", "{\"epoch\":0,\"secret\":\"%s\"}", sx);
    assert_int_equal(k_tx(c, 0, "reveal", "{\"epoch\":0,\"secret\":\"%s\"}", sx), 0);
    refused(c, EF_EDUP, "reveal twice", 0, "reveal", "{\"epoch\":0,\"secret\":\"%s\"}", sx);
    refused(c, EF_EWINDOW, "elect in the reveal window", m_dev(0), "elect", "{\"epoch\":0}");
    commit_until(c, (uint64_t)L - 2);   /* the next block, L - 1 = 1 + L - 2, may elect */
    refused(c, EF_EWINDOW, "reveal after the window", 0, "reveal", "{\"epoch\":0,\"secret\":\"%s\"}", sx);
    refused(c, EF_EWINDOW, "elect of another epoch", m_dev(0), "elect", "{\"epoch\":1}");
    assert_int_equal(k_tx(c, m_dev(0), "elect", "{\"epoch\":0}"), 0);
    refused(c, EF_EWINDOW, "elect twice", m_dev(1), "elect", "{\"epoch\":0}");
    m_close(c);

    /* a chain without a committee */
    m_open(c, NULL);
    assert_int_equal(k_tx(c, 0, "elect", "{\"epoch\":0}"), EF_ESTATE);
    json_t *out = NULL;
    assert_int_equal(ef_store_query(c->s, "committee", "current", &out), EF_ENOTFOUND);
    m_close(c);
    free(c);
}

/* Bad genesis params are refused. */
static void test_genesis_params(void **state)
{
    (void)state;
    assert_int_equal(ef_crypto_init(), 0);
    ef_keypair kp, other;
    uint8_t seed[32] = {7};
    ef_keypair_from_seed(&kp, seed);
    seed[0] = 8;
    ef_keypair_from_seed(&other, seed);
    char hx[65], ox[65];
    ef_hex(hx, kp.pub.b, 32);
    ef_hex(ox, other.pub.b, 32);
    struct { const char *admin, *fmt; } bad[] = {
        {hx, "{\"admin\":\"%s\",\"size\":0,\"epoch_heights\":8}"},
        {hx, "{\"admin\":\"%s\",\"size\":65,\"epoch_heights\":8}"},
        {hx, "{\"admin\":\"%s\",\"size\":3,\"epoch_heights\":3}"},
        {hx, "{\"admin\":\"%s\",\"size\":3,\"epoch_heights\":8,\"commit_heights\":6}"},
        {hx, "{\"admin\":\"%s\",\"size\":3,\"epoch_heights\":8,\"penalty_epochs\":0}"},
        {hx, "{\"admin\":\"%s\",\"size\":3,\"epoch_heights\":8,\"bogus\":1}"},
        {hx, "{\"admin\":\"%s\",\"size\":3,\"epoch_heights\":8,\"devices\":[\"zz\"]}"},
        {ox, "{\"admin\":\"%s\",\"size\":3,\"epoch_heights\":8}"},   /* admin: no account */
        {hx, "{\"admin\":\"%s\",\"size\":3,\"epoch_heights\":8,\"devices\":[\"%s\"]}"}, /* device: none */
    };
    for (size_t i = 0; i < EF_ARRAY_LEN(bad); i++) {
        char params[512], dir[256];
        snprintf(params, sizeof params, bad[i].fmt, bad[i].admin, ox);
        json_t *p = json_loads(params, 0, NULL);
        assert_non_null(p);
        json_t *g = json_pack("{s:s, s:[{s:s, s:s}], s:{s:o}}", "chain_id", "x", "validators", "pub", hx,
                              "domain", "a", "params", "committee", p);
        char *text = json_dumps(g, JSON_COMPACT);
        json_decref(g);
        ef_genesis gen;
        assert_int_equal(ef_genesis_parse(&gen, text, strlen(text), NULL, 0), 0);
        free(text);
        const char *tmp = getenv("EF_TEST_TMP");
        snprintf(dir, sizeof dir, "%s/cmgen-%d-XXXXXX", tmp ? tmp : "/tmp", (int)getpid());
        assert_non_null(mkdtemp(dir));
        ef_store *s;
        assert_int_equal(ef_store_open(&s, dir, &(ef_store_opts){EF_CONTRACTS_BUILTIN, .no_sync = true}), 0);
        int rc = ef_store_init_genesis(s, &gen);
        if (rc == 0) fail_msg("bad params %zu accepted: %s", i, params);
        ef_store_close(s);
        ef_genesis_free(&gen);
        assert_int_equal(ef_fs_remove_tree(dir), 0);
    }
}

/* A member that does not commit, one that commits and does not reveal: both
 * recorded, out of the next committee, eligible again the epoch after. */
static void test_down_member_replaced(void **state)
{
    (void)state;
    mchain *c = calloc(1, sizeof *c);
    c_open(c);
    int mem[64];
    /* epoch 0: one member is down (no commit), one commits but never reveals */
    bool commit0[3] = {true, true, false}, reveal0[3] = {true, false, false};
    assert_int_equal(committee_now(c, mem, NULL, NULL), 3);
    int lazy = mem[1], down = mem[2];   /* in key order */
    run_epoch(c, commit0, reveal0);
    check_reference(c, 0);
    json_t *rec = m_query(c, "committee", "epoch/0");
    json_t *missed = json_object_get(rec, "missed");
    assert_int_equal(json_array_size(missed), 2);
    assert_int_equal(json_array_size(json_object_get(rec, "revealed")), 1);
    assert_int_equal(json_array_size(json_object_get(rec, "committed")), 2);
    json_decref(rec);
    int n = committee_now(c, mem, NULL, NULL);
    assert_int_equal(n, K);
    for (int i = 0; i < n; i++) assert_true(mem[i] != lazy && mem[i] != down);
    json_t *devs = m_query(c, "committee", "devices");
    size_t i;
    json_t *v;
    int seen = 0;
    json_array_foreach(devs, i, v) {
        const char *d = json_string_value(json_object_get(v, "device"));
        if (!strcmp(d, c->hex[lazy]) || !strcmp(d, c->hex[down])) {
            assert_int_equal(json_integer_value(json_object_get(v, "missed")), 1);
            assert_int_equal(json_integer_value(json_object_get(v, "excluded_until")), 1);
            /* out of epoch 1's election only: candidates again for epoch 2 */
            assert_true(json_is_true(json_object_get(v, "eligible")));
            seen++;
        }
    }
    assert_int_equal(seen, 2);
    json_decref(devs);
    /* the admin admits device 6 and removes device 5 in epoch 1's commit window */
    uint64_t epoch, start;
    committee_now(c, mem, &epoch, &start);
    commit_until(c, start - 1);
    assert_int_equal(k_tx(c, ADMIN, "admit", "{\"device\":\"%s\"}", c->hex[m_dev(6)]), 0);
    assert_int_equal(k_tx(c, ADMIN, "remove", "{\"device\":\"%s\"}", c->hex[m_dev(5)]), 0);
    /* epoch 1: everyone lives; the excluded pair may come back at the next election */
    bool all3[3] = {true, true, true};
    run_epoch(c, all3, all3);
    check_reference(c, 1);
    devs = m_query(c, "committee", "devices");
    bool has6 = false, has5 = false;
    json_array_foreach(devs, i, v) {
        const char *d = json_string_value(json_object_get(v, "device"));
        has6 |= !strcmp(d, c->hex[m_dev(6)]);
        has5 |= !strcmp(d, c->hex[m_dev(5)]);
        assert_true(json_is_true(json_object_get(v, "eligible")));   /* for epoch 2: nobody excluded */
    }
    assert_true(has6 && !has5);
    json_decref(devs);
    m_close(c);
    free(c);
}

/* beacon helpers agree with the reference */
static void test_beacon(void **state)
{
    (void)state;
    assert_int_equal(ef_crypto_init(), 0);
    ef_keypair kp, kp2;
    uint8_t sd[32] = {1, 2, 3};
    ef_keypair_from_seed(&kp, sd);
    sd[0] = 9;
    ef_keypair_from_seed(&kp2, sd);
    uint8_t s1[32], s2[32], s3[32], ref[32];
    ef_beacon_secret(s1, &kp, "chain-a", 5);
    ef_beacon_secret(s2, &kp, "chain-a", 5);
    assert_memory_equal(s1, s2, 32);
    ef_beacon_secret(s3, &kp, "chain-a", 6);
    assert_memory_not_equal(s1, s3, 32);
    ef_beacon_secret(s3, &kp, "chain-b", 5);
    assert_memory_not_equal(s1, s3, 32);
    ef_beacon_secret(s3, &kp2, "chain-a", 5);
    assert_memory_not_equal(s1, s3, 32);
    ef_hash h;
    ef_beacon_commitment(&h, 5, &kp.pub, s1);
    ref_commitment(ref, 5, kp.pub.b, s1);
    assert_memory_equal(h.b, ref, 32);
    ef_beacon_commitment(&h, 5, &kp2.pub, s1);   /* bound to the member */
    assert_memory_not_equal(h.b, ref, 32);
}

/* The device agents alone drive the epochs: each of the 12 accounts' agents
 * sees every committed block and sends what it decides; the chain rotates, no
 * member misses, every committee is the reference's; a member whose agent is
 * stopped is replaced at the next election. */
typedef struct ag_who {
    mchain *c;
    int who;
    bool down;
} ag_who;

static int ag_submit(void *arg, const char *method, const char *args_json)
{
    ag_who *w = arg;
    if (w->down) return 0;
    m_add(w->c, w->who, "committee", method, "%s", args_json);
    return 0;
}

static void test_agents_drive_epochs(void **state)
{
    (void)state;
    mchain *c = calloc(1, sizeof *c);
    c_open(c);
    ef_cagent *ag[M_NACC];
    ag_who who[M_NACC];
    ef_cagent_config cfg;
    assert_int_equal(ef_cagent_config_parse(&cfg, NULL, NULL, 0), 0);
    json_t *bad = json_pack("{s:i}", "bogus", 1);
    char err[128] = "";
    assert_int_equal(ef_cagent_config_parse(&cfg, bad, err, sizeof err), EF_ECONFIG);
    json_decref(bad);
    bad = json_pack("{s:i}", "resend_heights", 0);
    assert_int_equal(ef_cagent_config_parse(&cfg, bad, err, sizeof err), EF_ECONFIG);
    json_decref(bad);
    assert_int_equal(ef_cagent_config_parse(&cfg, NULL, NULL, 0), 0);
    for (int i = 0; i < M_NACC; i++) {
        who[i] = (ag_who){c, i, false};
        assert_int_equal(ef_cagent_open(&ag[i], &cfg, &c->kp[i], M_CHAIN, c->s, ag_submit, &who[i]), 0);
    }
    uint64_t epoch = 0, victim_epoch = 0;
    int victim = -1;
    for (int guard = 0; guard < 400 && epoch < 6; guard++) {
        k_commit(c);
        uint64_t h = m_height(c);
        for (int i = 0; i < M_NACC; i++) ef_cagent_on_block(ag[i], h);
        int mem[64];
        uint64_t e, start;
        int n = committee_now(c, mem, &e, &start);
        if (e != epoch) {
            check_reference(c, e - 1);
            epoch = e;
            /* at epoch 3 stop one member's agent, before it commits */
            if (e == 3) {
                victim = mem[n - 1];
                who[victim].down = true;
                victim_epoch = e;
            }
        }
    }
    assert_true(epoch >= 6);
    for (uint64_t e = 0; e < epoch; e++) {
        json_t *rec = m_query(c, "committee", "epoch/%llu", (unsigned long long)e);
        json_t *missed = json_object_get(rec, "missed");
        if (e == victim_epoch) {
            assert_int_equal(json_array_size(missed), 1);
            assert_string_equal(json_string_value(json_array_get(missed, 0)), c->hex[victim]);
            assert_false(m_in_hex(json_object_get(rec, "next_committee"), c->hex[victim]));
        } else if (!m_in_hex(json_object_get(rec, "committee"), c->hex[victim])) {
            assert_int_equal(json_array_size(missed), 0);
        }
        /* each election on time: the agents never let one slip */
        assert_int_equal(json_integer_value(json_object_get(rec, "elected_at")),
                         json_integer_value(json_object_get(rec, "start")) + L - EF_VSET_DELAY);
        json_decref(rec);
    }
    ef_cagent_stats st;
    ef_cagent_stats_get(ag[0], &st);
    assert_true(st.commits >= 1 && st.reveals >= 1 && st.elects >= 1);
    for (int i = 0; i < M_NACC; i++) ef_cagent_close(ag[i]);
    m_close(c);
    free(c);
}

/* Seeded random runs: members up or down, some committing without revealing,
 * the admin admitting and removing devices in the commit window, junk calls
 * from anyone; after every election the record obeys the rules: missed is the
 * committee minus the revealers, the new committee is the reference's (every
 * candidate ranked) and is the validator set from its start. */
static uint64_t rnd_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void test_random_runs(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        mchain *c = calloc(1, sizeof *c);
        c_open(c);
        uint64_t x = seed * 0x9e3779b97f4a7c15ull;
        bool admitted[M_NACC] = {false};
        for (int i = 0; i < M_NCOMP; i++) admitted[i] = true;
        for (int i = 0; i < NDEVS; i++) admitted[m_dev(i)] = true;
        for (int e = 0; e < 8; e++) {
            int mem[64];
            uint64_t epoch, start;
            int n = committee_now(c, mem, &epoch, &start);
            assert_int_equal(epoch, (uint64_t)e);
            commit_until(c, start - 1);
            /* the admin's changes, then junk, in the commit window */
            if (rnd_next(&x) % 2) {
                int d = m_dev((int)(rnd_next(&x) % 7));
                int rc = k_tx(c, ADMIN, admitted[d] ? "remove" : "admit", "{\"device\":\"%s\"}", c->hex[d]);
                assert_int_equal(rc, 0);
                admitted[d] = !admitted[d];
            }
            int who = (int)(rnd_next(&x) % M_NACC);
            if (who != M_OUTSIDER) {
                int rc = k_tx(c, who, "reveal", "{\"epoch\":%llu,\"secret\":\"%064x\"}", (unsigned long long)epoch, 7);
                assert_true(rc == EF_ENOTCOMMITTEE || rc == EF_EWINDOW);
            }
            bool cm[64], rv[64];
            for (int i = 0; i < n; i++) {
                uint64_t r = rnd_next(&x) % 10;
                cm[i] = r >= 2;            /* 20%: down */
                rv[i] = cm[i] && r >= 3;   /* 10%: commits, never reveals */
            }
            run_epoch(c, cm, rv);
            check_reference(c, epoch);
            json_t *rec = m_query(c, "committee", "epoch/%llu", (unsigned long long)epoch);
            json_t *missed = json_object_get(rec, "missed"), *revealed = json_object_get(rec, "revealed");
            assert_int_equal(json_array_size(missed) + json_array_size(revealed), (size_t)n);
            for (int i = 0; i < n; i++) {
                bool m = m_in_hex(missed, c->hex[mem[i]]);
                assert_true(m == !rv[i]);
                assert_true(m_in_hex(revealed, c->hex[mem[i]]) == rv[i]);
                if (m) assert_false(m_in_hex(json_object_get(rec, "next_committee"), c->hex[mem[i]]));
            }
            /* nobody outside the devices is ever elected */
            json_t *next = json_object_get(rec, "next_committee");
            for (size_t i = 0; i < json_array_size(next); i++)
                assert_true(admitted[idx_of_hex(c, json_string_value(json_array_get(next, i)))]);
            json_decref(rec);
        }
        m_close(c);
        free(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_beacon),
        cmocka_unit_test(test_election_reference),
        cmocka_unit_test(test_election_deterministic),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_genesis_params),
        cmocka_unit_test(test_down_member_replaced),
        cmocka_unit_test(test_agents_drive_epochs),
        cmocka_unit_test(test_random_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
