/* test_engine.c: consensus messages, certificates, WAL, and the engine's rules driven by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>
#include <cmocka.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "ledger/ef_cert.h"
#include "consensus/ef_engine.h"
#include "consensus/ef_msg.h"
#include "consensus/ef_wal.h"

#define CHAIN "test-chain"
#define NKEYS 10

static ef_keypair keys[NKEYS];
static ef_vset vs4;

static void setup_keys(void)
{
    for (int i = 0; i < NKEYS; i++) {
        uint8_t seed[EF_SEED_SIZE];
        memset(seed, 0x40 + i, sizeof seed);
        ef_keypair_from_seed(&keys[i], seed);
    }
    memset(&vs4, 0, sizeof vs4);
    vs4.len = 4;
    for (int i = 0; i < 4; i++) {
        vs4.v[i].pub = keys[i].pub;
        vs4.v[i].power = 1;
    }
}

/* ---- values ---- */

static uint8_t *make_value(uint64_t h, uint32_t r, char flag, size_t *len)
{
    uint8_t *v = malloc(16);
    v[0] = (uint8_t)flag;
    ef_put_u64le(v + 1, h);
    ef_put_u32le(v + 9, r);
    memset(v + 13, 0xab, 3);
    *len = 16;
    return v;
}

static int cb_get_value(void *ctx, uint64_t h, uint32_t r, uint8_t **out, size_t *len)
{
    (void)ctx;
    *out = make_value(h, r, 'V', len);
    return 0;
}

static int cb_value_id(void *ctx, const uint8_t *v, size_t len, ef_hash *id)
{
    (void)ctx;
    ef_hash_tagged(id, EF_TAG_BLOCK, v, len);
    return 0;
}

static ef_hash id_of(const uint8_t *v, size_t len)
{
    ef_hash id;
    cb_value_id(NULL, v, len, &id);
    return id;
}

/* ---- messages signed by test keys ---- */

static uint8_t *vote(int k, ef_msg_type t, uint64_t h, uint32_t r, const ef_hash *id, size_t *len,
                     const char *chain)
{
    ef_msg m = {.type = t, .height = h, .round = r, .has_value = id != NULL};
    snprintf(m.chain, sizeof m.chain, "%s", chain ? chain : CHAIN);
    if (id) m.value_id = *id;
    uint8_t *p;
    assert_int_equal(ef_msg_sign_encode(&m, &keys[k], &p, len), 0);
    return p;
}

static uint8_t *proposal(int k, uint64_t h, uint32_t r, const uint8_t *v, size_t vlen, uint32_t vr,
                         size_t *len)
{
    ef_msg m = {.type = EF_MSG_PROPOSAL, .height = h, .round = r, .valid_round = vr, .value = v,
                .value_len = vlen};
    snprintf(m.chain, sizeof m.chain, "%s", CHAIN);
    uint8_t *p;
    assert_int_equal(ef_msg_sign_encode(&m, &keys[k], &p, len), 0);
    return p;
}

/* ---- a driven engine that records its outputs ---- */

#define OUTS_MAX 256
typedef struct {
    ef_engine *e;
    ef_wal_mem *wal;
    int self;
    bool bug;
    ef_engine_out outs[OUTS_MAX];
    int nouts;
} drv;

static void drv_drain(drv *d)
{
    ef_engine_out o;
    while (ef_engine_poll(d->e, &o)) {
        if (o.kind == EF_OUT_VALIDATE)
            assert_int_equal(ef_engine_on_validity(d->e, &o.value_id, o.data[0] == 'V'), 0);
        assert_true(d->nouts < OUTS_MAX);
        d->outs[d->nouts++] = o;
    }
}

static void drv_clear(drv *d)
{
    for (int i = 0; i < d->nouts; i++) ef_engine_out_free(&d->outs[i]);
    d->nouts = 0;
}

static void drv_open(drv *d, int self, const ef_vset *vs, uint64_t h)
{
    ef_engine_cfg c;
    ef_engine_cfg_defaults(&c);
    c.chain_id = CHAIN;
    c.key = self >= 0 ? &keys[self] : NULL;
    if (!d->wal) assert_int_equal(ef_wal_mem_new(&d->wal), 0);
    c.wal = ef_wal_mem_ops(d->wal);
    c.get_value = cb_get_value;
    c.value_id = cb_value_id;
    c.bug_ignore_lock = d->bug;
    d->self = self;
    assert_int_equal(ef_engine_new(&d->e, &c), 0);
    assert_int_equal(ef_engine_start_height(d->e, h, vs), 0);
    drv_drain(d);
}

static void drv_crash(drv *d)
{
    drv_clear(d);
    ef_engine_free(d->e);
    d->e = NULL;
}

static void drv_close(drv *d)
{
    drv_crash(d);
    ef_wal_mem_free(d->wal);
    d->wal = NULL;
}

/* len is read through a pointer so that drv_msg(&d, vote(..., &len), &len) does
 * not depend on the order the arguments are evaluated in. */
static void drv_msg(drv *d, uint8_t *p, const size_t *len)
{
    assert_int_equal(ef_engine_on_message(d->e, p, *len), 0);
    free(p);
    drv_drain(d);
}

/* The last output of a kind, or NULL. */
static ef_engine_out *drv_last(drv *d, ef_out_kind kind)
{
    for (int i = d->nouts - 1; i >= 0; i--)
        if (d->outs[i].kind == kind) return &d->outs[i];
    return NULL;
}

/* The broadcast own message of (type, round), decoded into m; false if none. */
static bool drv_sent(drv *d, ef_msg_type t, uint32_t r, ef_msg *m)
{
    for (int i = d->nouts - 1; i >= 0; i--) {
        if (d->outs[i].kind != EF_OUT_BROADCAST) continue;
        ef_msg x;
        assert_int_equal(ef_msg_decode(&x, d->outs[i].data, d->outs[i].len), 0);
        if (x.type == t && x.round == r && !memcmp(&x.signer, &keys[d->self].pub, sizeof x.signer)) {
            if (m) *m = x;
            return true;
        }
    }
    return false;
}

/* ================= tests ================= */

static void test_msg_codec(void **state)
{
    (void)state;
    size_t len, vlen;
    uint8_t *v = make_value(3, 1, 'V', &vlen);
    uint8_t *p = proposal(2, 3, 1, v, vlen, 0, &len);
    ef_msg m;
    assert_int_equal(ef_msg_decode(&m, p, len), 0);
    assert_int_equal(m.type, EF_MSG_PROPOSAL);
    assert_true(m.height == 3 && m.round == 1 && m.valid_round == 0 && m.value_len == vlen);
    assert_true(ef_msg_verify(&m));
    for (size_t n = 0; n < len; n++) assert_true(ef_msg_decode(&m, p, n) != 0);
    p[len - 1] ^= 1;
    assert_int_equal(ef_msg_decode(&m, p, len), 0);
    assert_false(ef_msg_verify(&m));
    free(p);
    /* valid round must be below the round */
    ef_msg bad = {.type = EF_MSG_PROPOSAL, .height = 3, .round = 1, .valid_round = 1, .value = v,
                  .value_len = vlen};
    strcpy(bad.chain, CHAIN);
    assert_int_equal(ef_msg_sign_encode(&bad, &keys[0], &p, &len), EF_EINVAL);

    ef_hash id = id_of(v, vlen);
    p = vote(1, EF_MSG_PRECOMMIT, 3, 1, &id, &len, NULL);
    assert_int_equal(ef_msg_decode(&m, p, len), 0);
    assert_true(m.has_value && ef_hash_eq(&m.value_id, &id) && ef_msg_verify(&m));
    /* the signed bytes can be rebuilt from the parts (certificates rely on it) */
    uint8_t buf[EF_MSG_VOTE_SIGNED_MAX];
    size_t n = ef_msg_vote_signed_bytes(buf, EF_MSG_PRECOMMIT, CHAIN, 3, 1, &keys[1].pub, &id);
    assert_int_equal(n + EF_SIG_SIZE, len);
    assert_memory_equal(buf, p, n);
    free(p);
    /* a nil vote with a non-zero id is not canonical */
    p = vote(1, EF_MSG_PREVOTE, 3, 1, &id, &len, NULL);
    size_t flag_off = len - EF_SIG_SIZE - 32 - 1;
    p[flag_off] = 0;
    assert_int_equal(ef_msg_decode(&m, p, len), EF_ENONCANON);
    p[flag_off] = 2;
    assert_int_equal(ef_msg_decode(&m, p, len), EF_ENONCANON);
    free(p);
    /* unknown type, trailing byte */
    p = vote(1, EF_MSG_PREVOTE, 3, 1, NULL, &len, NULL);
    p[0] = 9;
    assert_int_equal(ef_msg_decode(&m, p, len), EF_EINVAL);
    p[0] = EF_MSG_PREVOTE;
    uint8_t *q = malloc(len + 1);
    memcpy(q, p, len);
    q[len] = 0;
    assert_int_equal(ef_msg_decode(&m, q, len + 1), EF_ETRAILING);
    free(q);
    free(p);
    free(v);
}

static uint8_t *make_cert(const int *signers, int ns, uint64_t h, uint32_t r, const ef_hash *id,
                          size_t *len)
{
    ef_cert *c = calloc(1, sizeof *c);
    c->height = h;
    c->round = r;
    c->value_id = *id;
    for (int i = 0; i < ns; i++) {
        size_t vl;
        uint8_t *p = vote(signers[i], EF_MSG_PRECOMMIT, h, r, id, &vl, NULL);
        c->sigs[i].index = (uint16_t)signers[i];
        memcpy(&c->sigs[i].sig, p + vl - EF_SIG_SIZE, EF_SIG_SIZE);
        free(p);
    }
    c->count = (uint16_t)ns;
    uint8_t *out;
    assert_int_equal(ef_cert_encode(c, &out, len), 0);
    free(c);
    return out;
}

static void test_cert(void **state)
{
    (void)state;
    ef_hash id, other;
    memset(&id, 7, sizeof id);
    memset(&other, 8, sizeof other);
    size_t len;
    int three[] = {0, 2, 3}, two[] = {1, 3};
    uint8_t *c = make_cert(three, 3, 5, 2, &id, &len);
    assert_int_equal(len, 46 + 66 * 3);
    assert_int_equal(ef_cert_verify(c, len, CHAIN, 5, &id, &vs4), 0);
    assert_int_equal(ef_cert_verify(c, len, CHAIN, 6, &id, &vs4), EF_EHEIGHT);
    assert_int_equal(ef_cert_verify(c, len, CHAIN, 5, &other, &vs4), EF_EINVAL);
    assert_int_equal(ef_cert_verify(c, len, "other-chain", 5, &id, &vs4), EF_EBADSIG);
    for (size_t n = 0; n < len; n++) assert_true(ef_cert_verify(c, n, CHAIN, 5, &id, &vs4) != 0);
    c[len - 1] ^= 0x10;
    assert_int_equal(ef_cert_verify(c, len, CHAIN, 5, &id, &vs4), EF_EBADSIG);
    /* the same signer twice is not canonical (indices strictly increase) */
    c[len - 1] ^= 0x10;
    ef_put_u32le(c + 46 + 66, 0); /* second index = 0 (u16 at 46+66), clobbers 2 sig bytes too */
    assert_int_equal(ef_cert_verify(c, len, CHAIN, 5, &id, &vs4), EF_ENONCANON);
    free(c);
    /* 2 of 4 is not a quorum */
    c = make_cert(two, 2, 5, 2, &id, &len);
    assert_int_equal(ef_cert_verify(c, len, CHAIN, 5, &id, &vs4), EF_ECERT);
    free(c);
    /* with unequal power, 2 signers can be a quorum */
    ef_vset w = vs4;
    w.v[1].power = 5;
    c = make_cert(two, 2, 5, 2, &id, &len);
    assert_int_equal(ef_cert_verify(c, len, CHAIN, 5, &id, &w), 0);
    free(c);
}

/* One validator alone: propose, prevote, precommit, commit, next height. */
static void test_engine_single_validator(void **state)
{
    (void)state;
    ef_vset one = {.len = 1};
    one.v[0].pub = keys[0].pub;
    one.v[0].power = 1;
    drv d = {0};
    drv_open(&d, 0, &one, 1);
    ef_engine_out *c = drv_last(&d, EF_OUT_COMMIT);
    assert_non_null(c);
    assert_int_equal(c->height, 1);
    assert_int_equal(ef_cert_verify(c->cert, c->cert_len, CHAIN, 1, &c->value_id, &one), 0);
    assert_true(drv_sent(&d, EF_MSG_PROPOSAL, 0, NULL));
    assert_true(drv_sent(&d, EF_MSG_PREVOTE, 0, NULL));
    assert_true(drv_sent(&d, EF_MSG_PRECOMMIT, 0, NULL));
    assert_true(ef_engine_decided(d.e));
    drv_clear(&d);
    assert_int_equal(ef_engine_start_height(d.e, 2, &one), 0);
    drv_drain(&d);
    c = drv_last(&d, EF_OUT_COMMIT);
    assert_non_null(c);
    assert_int_equal(c->height, 2);
    assert_int_equal(ef_engine_start_height(d.e, 2, &one), EF_EINVAL); /* not forward */
    drv_close(&d);
}

/* Validator 0 of 4 at height 1 (proposer of round 0 is 1): the happy path. */
static void test_engine_four_happy_path(void **state)
{
    (void)state;
    drv d = {0};
    drv_open(&d, 0, &vs4, 1);
    assert_false(drv_sent(&d, EF_MSG_PROPOSAL, 0, NULL));
    ef_engine_out *t = drv_last(&d, EF_OUT_TIMEOUT);
    assert_non_null(t);
    size_t vlen, len;
    uint8_t *v = make_value(1, 0, 'V', &vlen);
    ef_hash id = id_of(v, vlen);
    drv_msg(&d, proposal(1, 1, 0, v, vlen, EF_ROUND_NONE, &len), &len);
    assert_non_null(drv_last(&d, EF_OUT_VALIDATE));
    ef_msg m;
    assert_true(drv_sent(&d, EF_MSG_PREVOTE, 0, &m));
    assert_true(m.has_value && ef_hash_eq(&m.value_id, &id));
    assert_false(drv_sent(&d, EF_MSG_PRECOMMIT, 0, NULL));
    drv_msg(&d, vote(1, EF_MSG_PREVOTE, 1, 0, &id, &len, NULL), &len);
    assert_false(drv_sent(&d, EF_MSG_PRECOMMIT, 0, NULL));
    drv_msg(&d, vote(2, EF_MSG_PREVOTE, 1, 0, &id, &len, NULL), &len);
    assert_true(drv_sent(&d, EF_MSG_PRECOMMIT, 0, &m));
    assert_true(m.has_value && ef_hash_eq(&m.value_id, &id));
    drv_msg(&d, vote(3, EF_MSG_PRECOMMIT, 1, 0, &id, &len, NULL), &len);
    assert_null(drv_last(&d, EF_OUT_COMMIT));
    drv_msg(&d, vote(1, EF_MSG_PRECOMMIT, 1, 0, &id, &len, NULL), &len);
    ef_engine_out *c = drv_last(&d, EF_OUT_COMMIT);
    assert_non_null(c);
    assert_true(ef_hash_eq(&c->value_id, &id) && c->len == vlen && !memcmp(c->data, v, vlen));
    assert_int_equal(ef_cert_verify(c->cert, c->cert_len, CHAIN, 1, &id, &vs4), 0);
    ef_cert cert;
    assert_int_equal(ef_cert_decode(&cert, c->cert, c->cert_len), 0);
    assert_int_equal(cert.count, 3);
    /* a message for height 2 before start_height(2) is kept and used after it */
    size_t v2len;
    uint8_t *v2 = make_value(2, 0, 'V', &v2len);
    drv_clear(&d);
    drv_msg(&d, proposal(2, 2, 0, v2, v2len, EF_ROUND_NONE, &len), &len);
    assert_false(drv_sent(&d, EF_MSG_PREVOTE, 0, NULL));
    assert_int_equal(ef_engine_start_height(d.e, 2, &vs4), 0);
    drv_drain(&d);
    assert_true(drv_sent(&d, EF_MSG_PREVOTE, 0, &m));
    assert_true(m.height == 2 && m.has_value);
    free(v);
    free(v2);
    drv_close(&d);
}

/* A message over the session of validator `from` (its key authenticates the peer). */
static void drv_msg_from(drv *d, uint8_t *p, const size_t *len, int from)
{
    assert_int_equal(ef_engine_on_message_from(d->e, p, *len, &keys[from].pub), 0);
    free(p);
    drv_drain(d);
}

static uint8_t *bad_sig(uint8_t *p, size_t len)
{
    p[len - 3] ^= 0x40;
    return p;
}

/* Votes over their signer's session count at once; a bad signature among them
 * is found before a lock or a decision relies on it, and never enters a
 * certificate; the faulty signer's votes are then verified as they arrive. */
static void test_engine_session_votes(void **state)
{
    (void)state;
    drv d = {0};
    drv_open(&d, 0, &vs4, 1);
    const ef_engine_stats *st = ef_engine_get_stats(d.e);
    size_t vlen, len;
    uint8_t *v = make_value(1, 0, 'V', &vlen);
    ef_hash id = id_of(v, vlen);
    drv_msg_from(&d, proposal(1, 1, 0, v, vlen, EF_ROUND_NONE, &len), &len, 1);
    assert_true(drv_sent(&d, EF_MSG_PREVOTE, 0, NULL));
    /* a bad prevote of 2 over its own session: counted, not verified yet */
    uint8_t *p = vote(2, EF_MSG_PREVOTE, 1, 0, &id, &len, NULL);
    drv_msg_from(&d, bad_sig(p, len), &len, 2);
    assert_int_equal(st->deferred, 1);
    assert_int_equal(st->dropped[EF_DROP_BAD_SIG], 0);
    /* the quorum (0, 1, 2) would lock: 2's signature is checked first, and fails */
    drv_msg_from(&d, vote(1, EF_MSG_PREVOTE, 1, 0, &id, &len, NULL), &len, 1);
    assert_int_equal(st->late_bad, 1);
    assert_false(drv_sent(&d, EF_MSG_PRECOMMIT, 0, NULL));
    /* the same bad vote relayed by another peer is verified at once */
    p = vote(2, EF_MSG_PREVOTE, 1, 0, &id, &len, NULL);
    drv_msg_from(&d, bad_sig(p, len), &len, 3);
    assert_int_equal(st->dropped[EF_DROP_BAD_SIG], 2);
    drv_msg_from(&d, vote(3, EF_MSG_PREVOTE, 1, 0, &id, &len, NULL), &len, 3);
    assert_true(drv_sent(&d, EF_MSG_PRECOMMIT, 0, NULL));
    /* a bad precommit of 3 over its session, then 1's: the quorum (0, 1, 3) is
     * not decided on, 3's signature being bad */
    p = vote(3, EF_MSG_PRECOMMIT, 1, 0, &id, &len, NULL);
    drv_msg_from(&d, bad_sig(p, len), &len, 3);
    drv_msg_from(&d, vote(1, EF_MSG_PRECOMMIT, 1, 0, &id, &len, NULL), &len, 1);
    assert_int_equal(st->late_bad, 2);
    assert_null(drv_last(&d, EF_OUT_COMMIT));
    /* 2 sent a bad signature this height: its votes are verified as they arrive */
    uint64_t deferred = st->deferred;
    drv_msg_from(&d, vote(2, EF_MSG_PRECOMMIT, 1, 0, &id, &len, NULL), &len, 2);
    assert_int_equal(st->deferred, deferred);
    ef_engine_out *c = drv_last(&d, EF_OUT_COMMIT);
    assert_non_null(c);
    assert_int_equal(ef_cert_verify(c->cert, c->cert_len, CHAIN, 1, &id, &vs4), 0);
    ef_cert cert;
    assert_int_equal(ef_cert_decode(&cert, c->cert, c->cert_len), 0);
    assert_int_equal(cert.count, 3);
    for (uint32_t i = 0; i < cert.count; i++) assert_int_not_equal(cert.sigs[i].index, 3);
    free(v);
    drv_close(&d);
}

static void test_engine_drops_and_counts(void **state)
{
    (void)state;
    drv d = {0};
    drv_open(&d, 0, &vs4, 1);
    const ef_engine_stats *st = ef_engine_get_stats(d.e);
    size_t len, vlen;
    uint8_t *v = make_value(1, 0, 'V', &vlen);
    ef_hash id = id_of(v, vlen);
    drv_msg(&d, vote(9, EF_MSG_PREVOTE, 1, 0, &id, &len, NULL), &len);
    assert_int_equal(st->dropped[EF_DROP_NOT_VALIDATOR], 1);
    drv_msg(&d, vote(1, EF_MSG_PREVOTE, 1, 0, &id, &len, "other-chain"), &len);
    assert_int_equal(st->dropped[EF_DROP_CHAIN], 1);
    uint8_t *p = vote(1, EF_MSG_PREVOTE, 1, 0, &id, &len, NULL);
    p[len - 3] ^= 0x40;
    drv_msg(&d, p, &len);
    assert_int_equal(st->dropped[EF_DROP_BAD_SIG], 1);
    drv_msg(&d, proposal(2, 1, 0, v, vlen, EF_ROUND_NONE, &len), &len);
    assert_int_equal(st->dropped[EF_DROP_NOT_PROPOSER], 1);
    drv_msg(&d, vote(1, EF_MSG_PREVOTE, 7, 0, &id, &len, NULL), &len);
    assert_int_equal(st->dropped[EF_DROP_HEIGHT], 1);
    assert_int_equal(st->height_seen, 7);
    drv_msg(&d, vote(1, EF_MSG_PREVOTE, 1, EF_ENGINE_ROUNDS_MAX, &id, &len, NULL), &len);
    assert_int_equal(st->dropped[EF_DROP_ROUND], 1);
    uint8_t junk[5] = {2, 1, 2, 3, 4};
    assert_int_equal(ef_engine_on_message(d.e, junk, sizeof junk), 0);
    assert_int_equal(st->dropped[EF_DROP_DECODE], 1);
    drv_msg(&d, vote(1, EF_MSG_PREVOTE, 1, 0, &id, &len, NULL), &len);
    drv_msg(&d, vote(1, EF_MSG_PREVOTE, 1, 0, &id, &len, NULL), &len);
    assert_int_equal(st->dropped[EF_DROP_DUPLICATE], 1);
    assert_int_equal(st->accepted, 1);
    assert_null(drv_last(&d, EF_OUT_EVIDENCE));
    /* a conflicting vote from the same validator: evidence */
    drv_msg(&d, vote(1, EF_MSG_PREVOTE, 1, 0, NULL, &len, NULL), &len);
    ef_engine_out *ev = drv_last(&d, EF_OUT_EVIDENCE);
    assert_non_null(ev);
    ef_pub who;
    uint64_t h;
    assert_int_equal(ef_evidence_verify(ev->data, ev->len, CHAIN, &vs4, &who, &h), 0);
    assert_memory_equal(&who, &keys[1].pub, sizeof who);
    assert_int_equal(h, 1);
    assert_int_equal(ef_evidence_verify(ev->data, ev->len, "other-chain", &vs4, &who, &h), EF_ECHAIN);
    /* the same vote twice is no evidence */
    uint8_t *a = vote(2, EF_MSG_PREVOTE, 1, 0, &id, &len, NULL), *e2;
    size_t e2len;
    assert_int_equal(ef_evidence_encode(&e2, &e2len, a, len, a, len), 0);
    assert_int_equal(ef_evidence_verify(e2, e2len, CHAIN, &vs4, &who, &h), EF_EINVAL);
    free(a);
    free(e2);
    for (int r = 0; r < EF_DROP_COUNT_; r++) assert_non_null(ef_drop_name((ef_drop)r));
    free(v);
    drv_close(&d);
}

/* Locks survive a crash (WAL), a restarted validator never signs something
 * different for the same (height, round, step), and re-proposes its lock. */
static void run_lock_scenario(bool bug, bool *prevoted_other)
{
    drv d = {.bug = bug};
    drv_open(&d, 0, &vs4, 1);
    size_t len, vlen, wlen;
    uint8_t *v = make_value(1, 0, 'V', &vlen);
    uint8_t *w = make_value(1, 1, 'V', &wlen);
    ef_hash id = id_of(v, vlen), wid = id_of(w, wlen);
    drv_msg(&d, proposal(1, 1, 0, v, vlen, EF_ROUND_NONE, &len), &len);
    drv_msg(&d, vote(1, EF_MSG_PREVOTE, 1, 0, &id, &len, NULL), &len);
    drv_msg(&d, vote(2, EF_MSG_PREVOTE, 1, 0, &id, &len, NULL), &len);
    ef_msg pv0, pc0, m;
    assert_true(drv_sent(&d, EF_MSG_PREVOTE, 0, &pv0));
    assert_true(drv_sent(&d, EF_MSG_PRECOMMIT, 0, &pc0));
    assert_true(pc0.has_value && ef_hash_eq(&pc0.value_id, &id));
    /* crash and restart from the WAL */
    drv_crash(&d);
    drv_open(&d, 0, &vs4, 1);
    assert_int_equal(ef_engine_round(d.e), 0);
    assert_true(drv_sent(&d, EF_MSG_PREVOTE, 0, &m));
    assert_true(!memcmp(&m.sig, &pv0.sig, sizeof m.sig)); /* the same message, re-sent */
    assert_true(drv_sent(&d, EF_MSG_PRECOMMIT, 0, &m));
    assert_true(!memcmp(&m.sig, &pc0.sig, sizeof m.sig));
    /* timeouts in round 0 sign nothing new */
    drv_clear(&d);
    assert_int_equal(ef_engine_on_timeout(d.e, 1, 0, EF_STEP_PROPOSE), 0);
    assert_int_equal(ef_engine_on_timeout(d.e, 1, 0, EF_STEP_PREVOTE), 0);
    drv_drain(&d);
    assert_false(drv_sent(&d, EF_MSG_PREVOTE, 0, NULL));
    assert_false(drv_sent(&d, EF_MSG_PRECOMMIT, 0, NULL));
    /* round 1: validator 2 proposes another value; the lock says nil */
    assert_int_equal(ef_engine_on_timeout(d.e, 1, 0, EF_STEP_PRECOMMIT), 0);
    drv_drain(&d);
    assert_int_equal(ef_engine_round(d.e), 1);
    drv_msg(&d, proposal(2, 1, 1, w, wlen, EF_ROUND_NONE, &len), &len);
    assert_true(drv_sent(&d, EF_MSG_PREVOTE, 1, &m));
    *prevoted_other = m.has_value && ef_hash_eq(&m.value_id, &wid);
    if (!bug) {
        assert_false(m.has_value);
        /* round 3: our turn to propose: the locked value with its proof of lock */
        assert_int_equal(ef_engine_on_timeout(d.e, 1, 1, EF_STEP_PRECOMMIT), 0);
        drv_drain(&d);
        drv_clear(&d);
        assert_int_equal(ef_engine_on_timeout(d.e, 1, 2, EF_STEP_PRECOMMIT), 0);
        assert_int_equal(ef_engine_on_timeout(d.e, 1, 1, EF_STEP_PRECOMMIT), 0); /* stale: ignored */
        drv_drain(&d);
        assert_int_equal(ef_engine_round(d.e), 3);
        assert_true(drv_sent(&d, EF_MSG_PROPOSAL, 3, &m));
        assert_int_equal(m.valid_round, 0);
        assert_true(m.value_len == vlen && !memcmp(m.value, v, vlen));
        int pol = 0;
        for (int i = 0; i < d.nouts; i++) {
            ef_msg x;
            if (d.outs[i].kind != EF_OUT_BROADCAST) continue;
            assert_int_equal(ef_msg_decode(&x, d.outs[i].data, d.outs[i].len), 0);
            if (x.type == EF_MSG_PREVOTE && x.round == 0 && ef_hash_eq(&x.value_id, &id)) pol++;
        }
        assert_true(pol >= 3);
    }
    free(v);
    free(w);
    drv_close(&d);
}

static void test_engine_wal_lock_restart(void **state)
{
    (void)state;
    bool other;
    run_lock_scenario(false, &other);
    assert_false(other);
    /* the planted bug breaks exactly this rule */
    run_lock_scenario(true, &other);
    assert_true(other);
}

/* After a round change and a crash, the precommits that justified the change
 * are still relayed (WAL votes record), so validators left behind can follow. */
static void test_engine_wal_votes_relayed_after_restart(void **state)
{
    (void)state;
    drv d = {0};
    drv_open(&d, 0, &vs4, 1);
    size_t len;
    assert_int_equal(ef_engine_on_timeout(d.e, 1, 0, EF_STEP_PROPOSE), 0); /* prevote nil */
    drv_drain(&d);
    for (int k = 1; k <= 3; k++) drv_msg(&d, vote(k, EF_MSG_PRECOMMIT, 1, 0, NULL, &len, NULL), &len);
    assert_int_equal(ef_engine_on_timeout(d.e, 1, 0, EF_STEP_PRECOMMIT), 0);
    drv_drain(&d);
    assert_int_equal(ef_engine_round(d.e), 1);
    assert_int_equal(ef_engine_on_timeout(d.e, 1, 1, EF_STEP_PROPOSE), 0); /* prevote nil in round 1 */
    drv_drain(&d);
    drv_crash(&d);
    drv_open(&d, 0, &vs4, 1);
    assert_int_equal(ef_engine_round(d.e), 1);
    drv_clear(&d);
    assert_int_equal(ef_engine_on_timeout(d.e, 1, 1, EF_STEP_RESEND), 0);
    drv_drain(&d);
    int relayed = 0;
    for (int i = 0; i < d.nouts; i++) {
        ef_msg x;
        if (d.outs[i].kind != EF_OUT_BROADCAST) continue;
        assert_int_equal(ef_msg_decode(&x, d.outs[i].data, d.outs[i].len), 0);
        if (x.type == EF_MSG_PRECOMMIT && x.round == 0 && memcmp(&x.signer, &keys[0].pub, sizeof x.signer))
            relayed++;
    }
    assert_int_equal(relayed, 3);
    assert_non_null(drv_last(&d, EF_OUT_TIMEOUT)); /* the resend timer re-arms itself */
    drv_close(&d);
}

static void test_engine_round_skip_and_catchup(void **state)
{
    (void)state;
    drv d = {0};
    drv_open(&d, 0, &vs4, 1);
    size_t len, vlen, clen;
    /* f+1 validators in round 2: skip there */
    drv_msg(&d, vote(1, EF_MSG_PREVOTE, 1, 2, NULL, &len, NULL), &len);
    assert_int_equal(ef_engine_round(d.e), 0);
    drv_msg(&d, vote(2, EF_MSG_PRECOMMIT, 1, 2, NULL, &len, NULL), &len);
    assert_int_equal(ef_engine_round(d.e), 2);
    /* catch-up: a block with a certificate */
    uint8_t *v = make_value(1, 0, 'V', &vlen);
    ef_hash id = id_of(v, vlen);
    int two[] = {1, 2}, three[] = {1, 2, 3};
    uint8_t *c = make_cert(two, 2, 1, 0, &id, &clen);
    assert_int_equal(ef_engine_on_decided(d.e, 1, v, vlen, c, clen), EF_ECERT);
    free(c);
    c = make_cert(three, 3, 1, 0, &id, &clen);
    assert_int_equal(ef_engine_on_decided(d.e, 2, v, vlen, c, clen), EF_EHEIGHT);
    v[1] ^= 1; /* another value: its id is not the certified one */
    assert_int_equal(ef_engine_on_decided(d.e, 1, v, vlen, c, clen), EF_EINVAL);
    v[1] ^= 1;
    assert_int_equal(ef_engine_on_decided(d.e, 1, v, vlen, c, clen), 0);
    drv_drain(&d);
    ef_engine_out *o = drv_last(&d, EF_OUT_COMMIT);
    assert_non_null(o);
    assert_true(ef_hash_eq(&o->value_id, &id));
    assert_int_equal(ef_engine_on_decided(d.e, 1, v, vlen, c, clen), EF_EHEIGHT);
    free(c);
    free(v);
    drv_close(&d);
}

/* An invalid value gets a nil prevote; an observer never signs. */
static void test_engine_invalid_value_and_observer(void **state)
{
    (void)state;
    drv d = {0};
    drv_open(&d, 0, &vs4, 1);
    size_t len, vlen;
    uint8_t *x = make_value(1, 0, 'X', &vlen);
    drv_msg(&d, proposal(1, 1, 0, x, vlen, EF_ROUND_NONE, &len), &len);
    ef_msg m;
    assert_true(drv_sent(&d, EF_MSG_PREVOTE, 0, &m));
    assert_false(m.has_value);
    drv_close(&d);

    drv o = {0};
    drv_open(&o, -1, &vs4, 1);
    ef_hash id = id_of(x, vlen);
    drv_msg(&o, proposal(1, 1, 0, x, vlen, EF_ROUND_NONE, &len), &len);
    for (int k = 1; k <= 3; k++) drv_msg(&o, vote(k, EF_MSG_PRECOMMIT, 1, 0, &id, &len, NULL), &len);
    for (int i = 0; i < o.nouts; i++) assert_int_not_equal(o.outs[i].kind, EF_OUT_BROADCAST);
    /* the value was invalid: even with a quorum of precommits it is not committed */
    assert_null(drv_last(&o, EF_OUT_COMMIT));
    assert_int_equal(ef_engine_get_stats(o.e)->signed_msgs, 0);
    free(x);
    drv_close(&o);
}

/* An observer given a key while running (a node admitted to the set) signs from
 * the next height on, not in the height running now. */
static void test_engine_set_key_later(void **state)
{
    (void)state;
    drv o = {0};
    drv_open(&o, -1, &vs4, 1);
    ef_wal_ops none = {0};
    assert_int_equal(ef_engine_set_key(o.e, &keys[2], none), EF_EINVAL);
    assert_int_equal(ef_engine_set_key(o.e, &keys[2], ef_wal_mem_ops(o.wal)), 0);
    assert_int_equal(ef_engine_set_key(o.e, &keys[2], ef_wal_mem_ops(o.wal)), EF_EINVAL);
    o.self = 2;
    size_t len, vlen;
    uint8_t *v = make_value(1, 0, 'V', &vlen);
    drv_msg(&o, proposal(1, 1, 0, v, vlen, EF_ROUND_NONE, &len), &len);
    free(v);
    for (int i = 0; i < o.nouts; i++) assert_int_not_equal(o.outs[i].kind, EF_OUT_BROADCAST);
    assert_int_equal(ef_engine_get_stats(o.e)->signed_msgs, 0);
    /* height 2: keys[2] is the proposer of round 0 and proposes at once */
    assert_int_equal(ef_engine_start_height(o.e, 2, &vs4), 0);
    drv_drain(&o);
    ef_msg m;
    assert_true(drv_sent(&o, EF_MSG_PROPOSAL, 0, &m));
    assert_int_equal(m.height, 2);
    assert_true(ef_engine_get_stats(o.e)->signed_msgs > 0);
    drv_close(&o);
}

/* ---- the file WAL ---- */

typedef struct {
    int n;
    size_t lens[16];
} visit_acc;

static int count_visit(void *arg, const uint8_t *rec, size_t len)
{
    visit_acc *a = arg;
    assert_true(len >= 1 && rec[0] == (uint8_t)(a->n + 1));
    a->lens[a->n++] = len;
    return 0;
}

static void test_wal_file(void **state)
{
    (void)state;
    char path[256];
    const char *tmp = getenv("EF_TEST_TMP");
    snprintf(path, sizeof path, "%s/test_engine_wal.%d", tmp && *tmp ? tmp : "/tmp", (int)getpid());
    if (tmp && *tmp) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "mkdir -p %s", tmp);
        assert_int_equal(system(cmd), 0);
    }
    unlink(path);
    ef_wal_file *w;
    assert_int_equal(ef_wal_file_open(&w, path), 0);
    ef_wal_ops ops = ef_wal_file_ops(w);
    uint8_t rec[100];
    for (int i = 0; i < 3; i++) {
        memset(rec, i + 1, sizeof rec);
        assert_int_equal(ops.append(ops.ctx, rec, 10 + (size_t)i), 0);
    }
    ef_wal_file_close(w);
    /* a torn write at the end: half a header and some bytes */
    int fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    uint8_t torn[7] = {50, 0, 0, 0, 1, 2, 3};
    assert_int_equal(write(fd, torn, sizeof torn), (ssize_t)sizeof torn);
    close(fd);
    assert_int_equal(ef_wal_file_open(&w, path), 0);
    ops = ef_wal_file_ops(w);
    visit_acc a = {0};
    assert_int_equal(ops.read_all(ops.ctx, count_visit, &a), 0);
    assert_int_equal(a.n, 3);
    assert_int_equal(a.lens[2], 12);
    /* the next append replaces the torn tail */
    memset(rec, 4, sizeof rec);
    assert_int_equal(ops.append(ops.ctx, rec, 20), 0);
    a = (visit_acc){0};
    assert_int_equal(ops.read_all(ops.ctx, count_visit, &a), 0);
    assert_int_equal(a.n, 4);
    ef_wal_file_close(w);
    /* zeros to the end (space a crash left allocated, unwritten) are a torn
     * tail too: ignored, and cut by the next append */
    fd = open(path, O_WRONLY | O_APPEND);
    uint8_t zeros[300] = {0};
    assert_int_equal(write(fd, zeros, sizeof zeros), (ssize_t)sizeof zeros);
    close(fd);
    ef_wal_file_report rep;
    assert_int_equal(ef_wal_file_check(path, &rep), 0);
    assert_false(rep.corrupt);
    assert_int_equal(rep.records, 4);
    assert_int_equal(rep.intact_bytes, 4 * 12 + 10 + 11 + 12 + 20);
    assert_int_equal(rep.size, rep.intact_bytes + sizeof zeros);
    assert_int_equal(ef_wal_file_open(&w, path), 0);
    ops = ef_wal_file_ops(w);
    a = (visit_acc){0};
    assert_int_equal(ops.read_all(ops.ctx, count_visit, &a), 0);
    assert_int_equal(a.n, 4);
    assert_int_equal(ops.append(ops.ctx, rec, 20), 0);
    ef_wal_file_close(w);
    /* a flipped byte in the last record is a torn write: that record is dropped */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    fd = open(path, O_RDWR);
    uint8_t b;
    off_t off = st.st_size - 5;
    assert_int_equal(pread(fd, &b, 1, off), 1);
    b ^= 0xff;
    assert_int_equal(pwrite(fd, &b, 1, off), 1);
    close(fd);
    assert_int_equal(ef_wal_file_check(path, &rep), 0);
    assert_false(rep.corrupt);
    assert_int_equal(rep.records, 4);
    /* a flipped byte in record 2, with intact records after it, is damage to
     * votes already sent: reading and appending fail (sticky), nothing is cut */
    fd = open(path, O_RDWR);
    off = 12 + 10 + 12 + 3; /* inside record 2's payload */
    assert_int_equal(pread(fd, &b, 1, off), 1);
    b ^= 0xff;
    assert_int_equal(pwrite(fd, &b, 1, off), 1);
    close(fd);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(ef_wal_file_check(path, &rep), 0);
    assert_true(rep.corrupt);
    assert_int_equal(rep.records, 1);
    assert_int_equal(rep.intact_bytes, 12 + 10);
    assert_int_equal(ef_wal_file_open(&w, path), 0);
    ops = ef_wal_file_ops(w);
    a = (visit_acc){0};
    assert_int_equal(ops.read_all(ops.ctx, count_visit, &a), EF_ECORRUPT);
    assert_int_equal(ops.append(ops.ctx, rec, 20), EF_ECORRUPT);
    assert_int_equal(ops.reset(ops.ctx), EF_ECORRUPT);
    ef_wal_file_close(w);
    struct stat st2;
    assert_int_equal(stat(path, &st2), 0);
    assert_int_equal(st2.st_size, st.st_size);
    /* a fresh open of a damaged file refuses appends as well */
    assert_int_equal(ef_wal_file_open(&w, path), 0);
    ops = ef_wal_file_ops(w);
    assert_int_equal(ops.append(ops.ctx, rec, 20), EF_ECORRUPT);
    ef_wal_file_close(w);
    unlink(path);
}

/* An engine on the file WAL restarts without signing anything different. */
static void test_engine_on_file_wal(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "/tmp/test_engine_fwal.%d", (int)getpid());
    unlink(path);
    ef_msg first, again;
    size_t len, vlen;
    uint8_t *v = make_value(1, 0, 'V', &vlen);
    for (int run = 0; run < 2; run++) {
        ef_wal_file *w;
        assert_int_equal(ef_wal_file_open(&w, path), 0);
        ef_engine_cfg c;
        ef_engine_cfg_defaults(&c);
        c.chain_id = CHAIN;
        c.key = &keys[0];
        c.wal = ef_wal_file_ops(w);
        c.get_value = cb_get_value;
        c.value_id = cb_value_id;
        drv d = {0};
        assert_int_equal(ef_engine_new(&d.e, &c), 0);
        d.self = 0;
        assert_int_equal(ef_engine_start_height(d.e, 1, &vs4), 0);
        drv_drain(&d);
        if (run == 0) {
            drv_msg(&d, proposal(1, 1, 0, v, vlen, EF_ROUND_NONE, &len), &len);
            assert_true(drv_sent(&d, EF_MSG_PREVOTE, 0, &first));
        } else {
            /* no proposal this time: a timeout would prevote nil, but the WAL says v */
            assert_int_equal(ef_engine_on_timeout(d.e, 1, 0, EF_STEP_PROPOSE), 0);
            drv_drain(&d);
            assert_true(drv_sent(&d, EF_MSG_PREVOTE, 0, &again));
            assert_true(again.has_value && !memcmp(&again.sig, &first.sig, sizeof again.sig));
        }
        drv_clear(&d);
        ef_engine_free(d.e);
        ef_wal_file_close(w);
    }
    free(v);
    unlink(path);
}

/* Messages for the next height are buffered only when a current validator signed
 * them, and each validator gets a fair share: junk, forged senders and one
 * flooding validator cannot push out an honest validator's message. */
static void test_engine_future_buffer(void **state)
{
    (void)state;
    drv d = {0};
    drv_open(&d, 0, &vs4, 1);
    const ef_engine_stats *st = ef_engine_get_stats(d.e);
    size_t len, vlen;
    uint8_t *v = make_value(2, 0, 'F', &vlen);
    ef_hash id = id_of(v, vlen);
    enum { FLOOD = 300 };
    for (uint32_t r = 0; r < FLOOD; r++)
        drv_msg(&d, vote(9, EF_MSG_PREVOTE, 2, r, &id, &len, NULL), &len);
    assert_int_equal(st->dropped[EF_DROP_NOT_VALIDATOR], FLOOD);
    for (uint32_t r = 0; r < FLOOD; r++) {
        uint8_t *p = vote(1, EF_MSG_PREVOTE, 2, r, &id, &len, NULL);
        p[len - 3] ^= 0x40;
        drv_msg(&d, p, &len);
    }
    assert_int_equal(st->dropped[EF_DROP_BAD_SIG], FLOOD);
    assert_int_equal(st->dropped[EF_DROP_FULL], 0);
    /* validator 1 floods validly signed votes of height 2: its share is kept */
    for (uint32_t r = 0; r < FLOOD; r++)
        drv_msg(&d, vote(1, EF_MSG_PREVOTE, 2, r, &id, &len, NULL), &len);
    uint32_t share = EF_MAX(EF_ENGINE_FUTURE_MAX / vs4.len, EF_ENGINE_FUTURE_PER_SENDER_MIN);
    assert_int_equal(st->dropped[EF_DROP_FULL], FLOOD - share);
    /* an honest validator's message of height 2 still finds room */
    drv_msg(&d, vote(2, EF_MSG_PREVOTE, 2, 0, &id, &len, NULL), &len);
    drv_msg(&d, vote(3, EF_MSG_PREVOTE, 2, 0, &id, &len, NULL), &len);
    assert_int_equal(st->dropped[EF_DROP_FULL], FLOOD - share);
    free(v);
    drv_close(&d);
}

int main(void)
{
    assert_int_equal(ef_crypto_init(), 0);
    setup_keys();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_msg_codec),
        cmocka_unit_test(test_cert),
        cmocka_unit_test(test_engine_single_validator),
        cmocka_unit_test(test_engine_four_happy_path),
        cmocka_unit_test(test_engine_drops_and_counts),
        cmocka_unit_test(test_engine_session_votes),
        cmocka_unit_test(test_engine_future_buffer),
        cmocka_unit_test(test_engine_wal_lock_restart),
        cmocka_unit_test(test_engine_wal_votes_relayed_after_restart),
        cmocka_unit_test(test_engine_round_skip_and_catchup),
        cmocka_unit_test(test_engine_invalid_value_and_observer),
        cmocka_unit_test(test_engine_set_key_later),
        cmocka_unit_test(test_wal_file),
        cmocka_unit_test(test_engine_on_file_wal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
