/* test_registry.c: members registered by validators of their domain; validator
 * admission and removal need strictly more than 2/3 of the validators, take
 * effect EF_VSET_DELAY blocks later; votes of others are rejected. Equivocation
 * evidence (two signed votes) is checked, recorded once per (offender, height,
 * round) and jails the offender EF_VSET_DELAY blocks later. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "contracts/ef_contracts.h"
#include "contracts/ef_registry.h"
#include "consensus/ef_msg.h"
#include "ledger/ef_evidence.h"
#include "ef_test_ledger.h"

typedef struct {
    char dir[512];
    ef_store *s;
    ef_keypair val[6];
    ef_keypair reg;        /* a regulator (watcher validator) */
    ef_keypair member;     /* a member of domain d0 */
    ef_keypair stranger;   /* unknown account */
    ef_keypair cand;       /* the candidate validator */
} t_env;

/* nval validators + one regulator, one member of d0 */
static void t_env_open(t_env *e, int nval)
{
    memset(e, 0, sizeof *e);
    t_tmpdir(e->dir, sizeof e->dir, "registry");
    json_t *vals = json_array();
    char hex[65], dom[16];
    for (int i = 0; i < nval; i++) {
        t_key(&e->val[i], (uint32_t)i);
        snprintf(dom, sizeof dom, "d%d", i);
        json_array_append_new(vals, json_pack("{s:s, s:s}", "pub", t_hex(&e->val[i].pub, hex), "domain", dom));
    }
    t_key(&e->reg, 50);
    json_array_append_new(vals, json_pack("{s:s, s:s, s:s}", "pub", t_hex(&e->reg.pub, hex),
                                          "domain", "regulator", "role", "regulator"));
    t_key(&e->member, 60);
    t_key(&e->stranger, 70);
    t_key(&e->cand, 80);
    json_t *doc = json_pack("{s:s, s:o, s:[{s:s, s:s, s:s}]}", "chain_id", T_CHAIN, "validators", vals,
                            "members", "pub", t_hex(&e->member.pub, hex), "domain", "d0", "name", "m");
    char *text = json_dumps(doc, 0);
    ef_genesis g;
    char err[200];
    assert_int_equal(ef_genesis_parse(&g, text, strlen(text), err, sizeof err), 0);
    assert_int_equal(ef_store_open(&e->s, e->dir, &(ef_store_opts){EF_CONTRACTS_BUILTIN, .no_sync = true}), 0);
    assert_int_equal(ef_store_init_genesis(e->s, &g), 0);
    ef_genesis_free(&g);
    free(text);
    json_decref(doc);
}

static void t_env_close(t_env *e)
{
    ef_store_close(e->s);
    t_rmdir(e->dir);
}

static int t_vote(t_env *e, const ef_keypair *kp, uint64_t proposal)
{
    char args[64];
    snprintf(args, sizeof args, "{\"proposal\":%llu}", (unsigned long long)proposal);
    return t_run(e->s, &e->val[0].pub, kp, "registry", "vote_validator", args);
}

static int t_propose(t_env *e, const ef_keypair *kp, const ef_pub *acct, const char *action)
{
    char args[256], hex[65];
    snprintf(args, sizeof args, "{\"account\":\"%s\",\"domain\":\"dx\",\"role\":\"validator\",\"action\":\"%s\"}",
             t_hex(acct, hex), action);
    return t_run(e->s, &e->val[0].pub, kp, "registry", "propose_validator", args);
}

static const char *t_status(t_env *e, uint64_t id)
{
    static char buf[32];
    char path[64];
    json_t *p;
    snprintf(path, sizeof path, "proposal/%llu", (unsigned long long)id);
    assert_int_equal(ef_store_query(e->s, "registry", path, &p), 0);
    snprintf(buf, sizeof buf, "%s", json_string_value(json_object_get(p, "status")));
    json_decref(p);
    return buf;
}

/* 3 validators (+1 regulator): 2 votes are exactly 2/3 and do not pass; the third does */
static void test_registry_admission_needs_more_than_two_thirds(void **state)
{
    (void)state;
    t_env e;
    t_env_open(&e, 3);
    ef_vset vs;
    assert_int_equal(ef_store_vset(e.s, 0, &vs), 0);
    assert_int_equal(vs.len, 4);   /* the regulator signs blocks too */

    assert_int_equal(t_propose(&e, &e.val[0], &e.cand.pub, "add"), 0);   /* vote 1 */
    assert_string_equal(t_status(&e, 1), "open");
    /* a stranger (no account: cannot send at all), a member and the regulator
     * cannot vote */
    assert_int_equal(t_try(e.s, &e.val[0].pub, &e.stranger, "registry", "vote_validator", "{\"proposal\":1}"),
                     EF_ENOACCOUNT);
    assert_int_equal(t_vote(&e, &e.member, 1), EF_ENOTVAL);
    assert_int_equal(t_vote(&e, &e.reg, 1), EF_EPERM);
    assert_int_equal(t_vote(&e, &e.val[0], 1), EF_EDUP);
    assert_int_equal(t_vote(&e, &e.val[1], 1), 0);                      /* 2 of 3 */
    assert_string_equal(t_status(&e, 1), "open");
    uint64_t h_before = ef_store_height(e.s);
    assert_int_equal(t_vote(&e, &e.val[2], 1), 0);                      /* 3 of 3 */
    assert_string_equal(t_status(&e, 1), "passed");
    uint64_t h = ef_store_height(e.s);
    assert_int_equal(h, h_before + 1);
    /* not yet at h+1, from h+EF_VSET_DELAY on */
    assert_int_equal(ef_store_vset(e.s, h + 1, &vs), 0);
    assert_int_equal(ef_vset_index(&vs, &e.cand.pub), -1);
    assert_int_equal(ef_store_vset(e.s, h + EF_VSET_DELAY, &vs), 0);
    assert_true(ef_vset_index(&vs, &e.cand.pub) >= 0);
    assert_int_equal(vs.len, 5);
    assert_int_equal(t_vote(&e, &e.val[2], 1), EF_ESTATE);

    /* the new validator can propose blocks from h + EF_VSET_DELAY */
    uint8_t *blk;
    size_t blen;
    while (ef_store_height(e.s) + 1 < h + EF_VSET_DELAY) {
        assert_int_equal(ef_ledger_propose(e.s, NULL, 0, 0, &e.cand.pub, NULL, NULL, &blk, &blen), EF_ENOTVAL);
        assert_int_equal(t_block(e.s, &e.val[1].pub, NULL, NULL, 0, 0), 0);
    }
    assert_int_equal(t_block(e.s, &e.cand.pub, NULL, NULL, 0, 0), 0);
    /* each header commits to the set of the next height: the one before the
     * rotation names the new set, its own vset_hash the old one */
    {
        ef_block_header hb, ha;
        ef_vset old_vs, new_vs;
        ef_hash ho, hn;
        assert_int_equal(ef_store_header(e.s, h + EF_VSET_DELAY - 1, &hb), 0);
        assert_int_equal(ef_store_header(e.s, h + EF_VSET_DELAY, &ha), 0);
        assert_int_equal(ef_store_vset(e.s, h + EF_VSET_DELAY - 1, &old_vs), 0);
        assert_int_equal(ef_store_vset(e.s, h + EF_VSET_DELAY, &new_vs), 0);
        ef_vset_hash(&ho, &old_vs);
        ef_vset_hash(&hn, &new_vs);
        assert_true(ef_hash_eq(&hb.vset_hash, &ho));
        assert_true(ef_hash_eq(&hb.next_vset_hash, &hn));
        assert_true(ef_hash_eq(&ha.vset_hash, &hn));
        assert_true(ef_hash_eq(&ha.next_vset_hash, &hn));
    }
    json_t *acct;
    char path[100], hex[65];
    snprintf(path, sizeof path, "account/%s", t_hex(&e.cand.pub, hex));
    assert_int_equal(ef_store_query(e.s, "registry", path, &acct), 0);
    assert_string_equal(json_string_value(json_object_get(acct, "role")), "validator");
    json_decref(acct);
    t_env_close(&e);
}

/* 6 validators: removal with 4 votes (exactly 2/3) fails, with 5 passes */
static void test_registry_removal_six(void **state)
{
    (void)state;
    t_env e;
    t_env_open(&e, 6);
    assert_int_equal(t_try(e.s, &e.val[0].pub, &e.stranger, "registry", "vote_validator", "{\"proposal\":1}"),
                     EF_ENOACCOUNT);
    assert_int_equal(t_propose(&e, &e.reg, &e.val[5].pub, "remove"), EF_EPERM);
    assert_int_equal(t_propose(&e, &e.val[0], &e.val[5].pub, "remove"), 0);
    for (int i = 1; i < 4; i++) assert_int_equal(t_vote(&e, &e.val[i], 1), 0);
    assert_string_equal(t_status(&e, 1), "open");    /* 4 of 6 */
    assert_int_equal(t_vote(&e, &e.val[4], 1), 0);   /* 5 of 6 */
    assert_string_equal(t_status(&e, 1), "passed");
    uint64_t h = ef_store_height(e.s);
    ef_vset vs;
    assert_int_equal(ef_store_vset(e.s, h + 1, &vs), 0);
    assert_true(ef_vset_index(&vs, &e.val[5].pub) >= 0);
    assert_int_equal(ef_store_vset(e.s, h + EF_VSET_DELAY, &vs), 0);
    assert_int_equal(ef_vset_index(&vs, &e.val[5].pub), -1);
    /* the removed validator can no longer vote */
    assert_int_equal(t_propose(&e, &e.val[5], &e.cand.pub, "add"), EF_ENOTVAL);
    t_env_close(&e);
}

static void test_registry_members(void **state)
{
    (void)state;
    t_env e;
    t_env_open(&e, 2);
    char args[256], hex[65];
    snprintf(args, sizeof args, "{\"account\":\"%s\",\"domain\":\"d0\",\"name\":\"ue-7\"}", t_hex(&e.cand.pub, hex));
    assert_int_equal(t_try(e.s, &e.val[0].pub, &e.stranger, "registry", "register_member", args), EF_ENOACCOUNT);
    assert_int_equal(t_run(e.s, &e.val[0].pub, &e.member, "registry", "register_member", args), EF_ENOTVAL);
    assert_int_equal(t_run(e.s, &e.val[0].pub, &e.val[1], "registry", "register_member", args), EF_EPERM);
    assert_int_equal(t_run(e.s, &e.val[0].pub, &e.val[0], "registry", "register_member", args), 0);
    assert_int_equal(t_run(e.s, &e.val[0].pub, &e.val[0], "registry", "register_member", args), EF_EEXIST);
    assert_int_equal(t_run(e.s, &e.val[0].pub, &e.val[0], "registry", "register_member", "{\"account\":1}"),
                     EF_EARGS);
    json_t *acct;
    char path[100];
    snprintf(path, sizeof path, "account/%s", hex);
    assert_int_equal(ef_store_query(e.s, "registry", path, &acct), 0);
    assert_string_equal(json_string_value(json_object_get(acct, "role")), "member");
    assert_string_equal(json_string_value(json_object_get(acct, "domain")), "d0");
    json_decref(acct);
    assert_int_equal(ef_store_query(e.s, "registry", "validators", &acct), 0);
    assert_int_equal(json_array_size(json_object_get(acct, "validators")), 3);
    json_decref(acct);
    t_env_close(&e);
}

/* A precommit (or prevote) of kp, signed by the consensus layer's encoder, as hex. */
static void t_vote_hex(char out[2 * EF_VOTE_ENC_MAX + 1], const ef_keypair *kp, ef_msg_type type,
                       const char *chain, uint64_t h, uint32_t r, int value /* -1 = nil */)
{
    ef_msg m;
    memset(&m, 0, sizeof m);
    m.type = type;
    snprintf(m.chain, sizeof m.chain, "%s", chain);
    m.height = h;
    m.round = r;
    if (value >= 0) {
        m.has_value = true;
        memset(m.value_id.b, value, sizeof m.value_id.b);
    }
    uint8_t *enc;
    size_t len;
    assert_int_equal(ef_msg_sign_encode(&m, kp, &enc, &len), 0);
    assert_true(len <= EF_VOTE_ENC_MAX);
    ef_hex(out, enc, len);
    free(enc);
}

static int t_report(t_env *e, const ef_keypair *kp, const char *a, const char *b)
{
    char *args = malloc(strlen(a) + strlen(b) + 32);
    sprintf(args, "{\"a\":\"%s\",\"b\":\"%s\"}", a, b);
    int rc = t_run(e->s, &e->val[0].pub, kp, "registry", "report_evidence", args);
    free(args);
    return rc;
}

static size_t t_evidence_len(t_env *e, const char *path)
{
    json_t *j;
    assert_int_equal(ef_store_query(e->s, "registry", path, &j), 0);
    size_t n = json_array_size(j);
    json_decref(j);
    return n;
}

/* The consensus layer's vote bytes are the ledger's: ef_vote_decode reads what
 * ef_msg_sign_encode wrote and ef_vote_verify accepts its signature. */
static void test_evidence_vote_bytes(void **state)
{
    (void)state;
    ef_keypair kp;
    t_key(&kp, 7);
    char hex[2 * EF_VOTE_ENC_MAX + 1];
    uint8_t enc[EF_VOTE_ENC_MAX];
    t_vote_hex(hex, &kp, EF_MSG_PRECOMMIT, T_CHAIN, 9, 3, 0x5a);
    size_t n = strlen(hex) / 2;
    assert_int_equal(ef_unhex(enc, n, hex), 0);
    ef_vote v;
    assert_int_equal(ef_vote_decode(&v, enc, n), 0);
    assert_int_equal(v.type, EF_VOTE_PRECOMMIT);
    assert_int_equal(v.height, 9);
    assert_int_equal(v.round, 3);
    assert_true(v.has_value && v.value_id.b[0] == 0x5a);
    assert_memory_equal(&v.signer, &kp.pub, sizeof kp.pub);
    assert_true(ef_vote_verify(&v));
    v.round = 4;
    assert_false(ef_vote_verify(&v));
    assert_int_equal(ef_vote_decode(&v, enc, n - 1), EF_ETRUNC);
    enc[0] = 1; /* a proposal's type */
    assert_int_equal(ef_vote_decode(&v, enc, n), EF_EINVAL);
}

static void test_registry_evidence(void **state)
{
    (void)state;
    t_env e;
    t_env_open(&e, 4);   /* 4 validators and the regulator: 5 in the set */
    const ef_keypair *bad = &e.val[3];
    char a[2 * EF_VOTE_ENC_MAX + 1], b[2 * EF_VOTE_ENC_MAX + 1], c[2 * EF_VOTE_ENC_MAX + 1],
         x[2 * EF_VOTE_ENC_MAX + 1];
    assert_int_equal(t_propose(&e, &e.val[0], &e.cand.pub, "add"), 0); /* a block or two first */
    uint64_t vh = ef_store_height(e.s);
    t_vote_hex(a, bad, EF_MSG_PRECOMMIT, T_CHAIN, vh, 0, 1);
    t_vote_hex(b, bad, EF_MSG_PRECOMMIT, T_CHAIN, vh, 0, 2);
    t_vote_hex(c, bad, EF_MSG_PRECOMMIT, T_CHAIN, vh, 0, -1);          /* nil */

    /* refused, and nothing recorded or jailed */
    char sargs[4 * EF_VOTE_ENC_MAX + 32];
    snprintf(sargs, sizeof sargs, "{\"a\":\"%s\",\"b\":\"%s\"}", a, b);
    assert_int_equal(t_try(e.s, &e.val[0].pub, &e.stranger, "registry", "report_evidence", sargs),
                     EF_ENOACCOUNT);   /* a stranger cannot send at all */
    assert_int_equal(t_report(&e, &e.member, a, b), EF_ENOTVAL);
    assert_int_equal(t_report(&e, &e.val[0], a, "zz"), EF_EARGS);
    assert_int_equal(t_report(&e, &e.val[0], a, "abc"), EF_EARGS);
    assert_int_equal(t_run(e.s, &e.val[0].pub, &e.val[0], "registry", "report_evidence", "{\"a\":\"00\"}"), EF_EARGS);
    assert_int_equal(t_report(&e, &e.val[0], a, "0011"), EF_EINVAL);        /* not a vote */
    snprintf(x, sizeof x, "%.*s", (int)strlen(b) - 2, b);
    assert_int_equal(t_report(&e, &e.val[0], a, x), EF_ETRUNC);
    assert_int_equal(t_report(&e, &e.val[0], a, a), EF_EINVAL);           /* one vote twice */
    t_vote_hex(x, &e.val[2], EF_MSG_PRECOMMIT, T_CHAIN, vh, 0, 2);
    assert_int_equal(t_report(&e, &e.val[0], a, x), EF_EINVAL);           /* two signers */
    t_vote_hex(x, bad, EF_MSG_PREVOTE, T_CHAIN, vh, 0, 2);
    assert_int_equal(t_report(&e, &e.val[0], a, x), EF_EINVAL);           /* two types */
    t_vote_hex(x, bad, EF_MSG_PRECOMMIT, T_CHAIN, vh, 1, 2);
    assert_int_equal(t_report(&e, &e.val[0], a, x), EF_EINVAL);           /* two rounds */
    char fa[2 * EF_VOTE_ENC_MAX + 1], fb[2 * EF_VOTE_ENC_MAX + 1];
    t_vote_hex(fa, bad, EF_MSG_PRECOMMIT, "other-chain", vh, 0, 1);
    t_vote_hex(fb, bad, EF_MSG_PRECOMMIT, "other-chain", vh, 0, 2);
    assert_int_equal(t_report(&e, &e.val[0], fa, fb), EF_ECHAIN);
    t_vote_hex(fa, &e.stranger, EF_MSG_PRECOMMIT, T_CHAIN, vh, 0, 1);
    t_vote_hex(fb, &e.stranger, EF_MSG_PRECOMMIT, T_CHAIN, vh, 0, 2);
    assert_int_equal(t_report(&e, &e.val[0], fa, fb), EF_ENOTVAL);        /* not a validator */
    t_vote_hex(fa, bad, EF_MSG_PRECOMMIT, T_CHAIN, 1000, 0, 1);
    t_vote_hex(fb, bad, EF_MSG_PRECOMMIT, T_CHAIN, 1000, 0, 2);
    assert_int_equal(t_report(&e, &e.val[0], fa, fb), EF_EHEIGHT);        /* not reached yet */
    snprintf(x, sizeof x, "%s", b);
    size_t bl = strlen(x);
    x[bl - 1] = x[bl - 1] == '0' ? '1' : '0';                             /* the signature's last digit */
    assert_int_equal(t_report(&e, &e.val[0], a, x), EF_EBADSIG);
    assert_int_equal(t_evidence_len(&e, "evidence"), 0);
    ef_vset vs;
    assert_int_equal(ef_store_vset(e.s, ef_store_height(e.s) + EF_VSET_DELAY, &vs), 0);
    assert_true(ef_vset_index(&vs, &bad->pub) >= 0);

    /* the regulator (a watcher validator) reports: recorded, jailed 2 blocks later */
    assert_int_equal(t_report(&e, &e.reg, a, b), 0);
    uint64_t h = ef_store_height(e.s);
    char hex[65], path[128];
    assert_int_equal(t_evidence_len(&e, "evidence"), 1);
    snprintf(path, sizeof path, "evidence/%s", t_hex(&bad->pub, hex));
    assert_int_equal(t_evidence_len(&e, path), 1);
    snprintf(path, sizeof path, "evidence/%s", t_hex(&e.val[0].pub, hex));
    assert_int_equal(t_evidence_len(&e, path), 0);
    json_t *rec;
    assert_int_equal(ef_store_query(e.s, "registry", "evidence", &rec), 0);
    json_t *r0 = json_array_get(rec, 0);
    assert_string_equal(json_string_value(json_object_get(r0, "offender")), t_hex(&bad->pub, hex));
    assert_string_equal(json_string_value(json_object_get(r0, "reporter")), t_hex(&e.reg.pub, hex));
    assert_int_equal(json_integer_value(json_object_get(r0, "height")), vh);
    assert_int_equal(json_integer_value(json_object_get(r0, "round")), 0);
    assert_string_equal(json_string_value(json_object_get(r0, "type")), "precommit");
    assert_true(json_is_true(json_object_get(r0, "jailed")));
    assert_int_equal(json_integer_value(json_object_get(r0, "effective_at")), h + EF_VSET_DELAY);
    assert_string_equal(json_string_value(json_object_get(r0, "a")), a);
    json_decref(rec);
    assert_int_equal(ef_store_vset(e.s, h + 1, &vs), 0);
    assert_true(ef_vset_index(&vs, &bad->pub) >= 0);
    assert_int_equal(ef_store_vset(e.s, h + EF_VSET_DELAY, &vs), 0);
    assert_int_equal(ef_vset_index(&vs, &bad->pub), -1);
    assert_int_equal(vs.len, 4);
    snprintf(path, sizeof path, "account/%s", t_hex(&bad->pub, hex));
    assert_int_equal(ef_store_query(e.s, "registry", path, &rec), 0);
    assert_string_equal(json_string_value(json_object_get(rec, "role")), "member");
    assert_int_equal(json_integer_value(json_object_get(rec, "jailed_at")), h);
    json_decref(rec);

    /* once per (offender, height, round): the same pair, or another pair of it, again */
    assert_int_equal(t_report(&e, &e.val[0], a, b), EF_ERECORDED);
    assert_int_equal(t_report(&e, &e.val[1], c, b), EF_ERECORDED);
    assert_int_equal(t_evidence_len(&e, "evidence"), 1);
    assert_int_equal(ef_store_vset(e.s, h + EF_VSET_DELAY, &vs), 0);
    assert_int_equal(vs.len, 4);
    /* another round of the same height is other evidence: recorded, not jailed again */
    t_vote_hex(fa, bad, EF_MSG_PREVOTE, T_CHAIN, vh, 2, 1);
    t_vote_hex(fb, bad, EF_MSG_PREVOTE, T_CHAIN, vh, 2, -1);
    assert_int_equal(t_report(&e, &e.val[1], fa, fb), 0);
    assert_int_equal(t_evidence_len(&e, "evidence"), 2);
    assert_int_equal(ef_store_query(e.s, "registry", "evidence", &rec), 0);
    assert_false(json_is_true(json_object_get(json_array_get(rec, 1), "jailed")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(rec, 1), "type")), "prevote");
    json_decref(rec);
    /* the jailed validator reports nothing once out of the set */
    assert_int_equal(ef_store_vset(e.s, ef_store_height(e.s) + 1, &vs), 0);
    assert_int_equal(ef_vset_index(&vs, &bad->pub), -1);
    t_vote_hex(fa, &e.val[2], EF_MSG_PRECOMMIT, T_CHAIN, vh, 0, 1);
    t_vote_hex(fb, &e.val[2], EF_MSG_PRECOMMIT, T_CHAIN, vh, 0, 2);
    assert_int_equal(t_report(&e, bad, fa, fb), EF_ENOTVAL);
    t_env_close(&e);
}

int main(void)
{
    ef_crypto_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_admission_needs_more_than_two_thirds),
        cmocka_unit_test(test_registry_removal_six),
        cmocka_unit_test(test_registry_members),
        cmocka_unit_test(test_evidence_vote_bytes),
        cmocka_unit_test(test_registry_evidence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
