/* test_registry.c: members registered by validators of their domain; validator
 * admission and removal need strictly more than 2/3 of the validators, take
 * effect EF_VSET_DELAY blocks later; votes of others are rejected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "contracts/ef_contracts.h"
#include "contracts/ef_registry.h"
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

int main(void)
{
    ef_crypto_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_admission_needs_more_than_two_thirds),
        cmocka_unit_test(test_registry_removal_six),
        cmocka_unit_test(test_registry_members),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
