/* ef_registry.c: the registry contract: accounts, roles, validator-set changes
 * voted by more than 2/3 of the validators (see ef_registry.h). */
#include "contracts/ef_registry.h"

#include <stdlib.h>
#include <string.h>

#include "base/ef_cjson.h"
#include "base/ef_codec.h"
#include "ledger/ef_evidence.h"

/* State (namespace "registry"), values compact JSON:
 *   "a" + raw[32] pub   -> {"role": "validator"|"regulator"|"member", "domain": D, "name": N}
 *   "p" + u64 BE id     -> proposal {"id","account","domain","role","action","proposer",
 *                          "votes": [PUB...], "status": "open"|"passed",
 *                          "decided_at", "effective_at"}
 *   "next_proposal"     -> u64 next proposal id (from 1)
 *   "e" + raw[32] offender + u64 BE height + u32 BE round
 *                       -> evidence {"offender","height","round","type","reporter",
 *                          "recorded_at","jailed","effective_at"?,"a","b"}
 * The validator set itself is ledger state (ef_ctx_vset / ef_ctx_vset_schedule). */

#define EF_REG_NAME "registry"
#define EF_REG_NAME_MAX 64

static const char *const ef_role_names[] = {"none", "member", "validator", "regulator"};

static int ef_role_parse(const char *s, ef_role *out)
{
    for (int i = 1; i < 4; i++)
        if (!strcmp(s, ef_role_names[i])) {
            *out = (ef_role)i;
            return 0;
        }
    return EF_EARGS;
}

static json_t *ef_pub_json(const ef_pub *p)
{
    char hex[2 * EF_PUB_SIZE + 1];
    ef_hex(hex, p->b, EF_PUB_SIZE);
    return json_string(hex);
}

static int ef_reg_get_json(ef_ctx *ctx, const void *key, size_t key_len, json_t **out)
{
    const uint8_t *v;
    size_t n;
    *out = NULL;
    int rc = ef_ctx_get_in(ctx, EF_REG_NAME, key, key_len, &v, &n);
    if (rc) return rc;
    rc = ef_cj_decode(out, v, n);
    return rc == 0 || rc == EF_ENOMEM ? rc : EF_EDB;
}

/* Registry records are JSON values in their canonical encoding (ef_ctx_put_json). */
static int ef_reg_put_json(ef_ctx *ctx, const void *key, size_t key_len, const json_t *val)
{
    ef_wr w;
    ef_wr_init(&w);
    w.max = EF_CTX_VALUE_MAX;
    int rc = ef_cj_encode(&w, val);
    if (rc == EF_ETOOBIG) rc = EF_ELIMIT;
    if (rc == 0) rc = ef_ctx_put(ctx, key, key_len, w.buf, w.len);
    ef_wr_free(&w);
    return rc;
}

static void ef_acct_key(uint8_t key[1 + EF_PUB_SIZE], const ef_pub *pub)
{
    key[0] = 'a';
    memcpy(key + 1, pub->b, EF_PUB_SIZE);
}

static void ef_prop_key(uint8_t key[9], uint64_t id)
{
    key[0] = 'p';
    for (int i = 0; i < 8; i++) key[1 + i] = (uint8_t)(id >> (56 - 8 * i));
}

int ef_registry_role(ef_ctx *ctx, const ef_pub *pub, ef_role *role, char domain[EF_DOMAIN_MAX + 1])
{
    uint8_t key[1 + EF_PUB_SIZE];
    json_t *a;
    *role = EF_ROLE_NONE;
    if (domain) domain[0] = 0;
    ef_acct_key(key, pub);
    int rc = ef_reg_get_json(ctx, key, sizeof key, &a);
    if (rc == EF_ENOTFOUND) return 0;
    if (rc) return rc;
    const char *r = json_string_value(json_object_get(a, "role"));
    const char *d = json_string_value(json_object_get(a, "domain"));
    if (!r || ef_role_parse(r, role)) rc = EF_EDB;
    else if (domain && d) snprintf(domain, EF_DOMAIN_MAX + 1, "%s", d);
    json_decref(a);
    return rc;
}

bool ef_registry_is_validator(ef_ctx *ctx, const ef_pub *pub)
{
    ef_role role;
    if (ef_registry_role(ctx, pub, &role, NULL)) return false;
    return role == EF_ROLE_VALIDATOR || role == EF_ROLE_REGULATOR;
}

/* ef_contract.account: a registered account (any role) may send. */
static int ef_registry_account(ef_ctx *ctx, const ef_pub *pub)
{
    ef_role role;
    int rc = ef_registry_role(ctx, pub, &role, NULL);
    if (rc) return rc;
    return role == EF_ROLE_NONE ? EF_ENOTFOUND : 0;
}

static int ef_acct_put(ef_ctx *ctx, const ef_pub *pub, ef_role role, const char *domain, const char *name)
{
    uint8_t key[1 + EF_PUB_SIZE];
    ef_acct_key(key, pub);
    json_t *a = json_pack("{s:s, s:s, s:s}", "role", ef_role_names[role], "domain", domain,
                          "name", name ? name : "");
    if (!a) return EF_ENOMEM;
    int rc = ef_reg_put_json(ctx, key, sizeof key, a);
    json_decref(a);
    return rc;
}

/* The sender must be a voting validator now: role validator and in the current set.
 * Returns 0 or EF_ENOTVAL. */
static int ef_reg_voter(ef_ctx *ctx, const ef_pub *pub, const ef_vset *cur)
{
    ef_role role;
    int rc = ef_registry_role(ctx, pub, &role, NULL);
    if (rc) return rc;
    if (role == EF_ROLE_REGULATOR) return EF_EPERM;   /* watchers manage nothing */
    if (role != EF_ROLE_VALIDATOR || ef_vset_index(cur, pub) < 0) return EF_ENOTVAL;
    return 0;
}

/* register_member {"account", "domain", "name"} by a validator of that domain */
static int ef_reg_m_register(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"account", "domain", "name", NULL};
    ef_pub acct;
    const char *domain, *name;
    ef_role role, srole;
    char sdomain[EF_DOMAIN_MAX + 1];
    if (ef_args_only(args, f) || ef_args_pub(args, "account", &acct) ||
        ef_args_str(args, "domain", &domain, EF_DOMAIN_MAX) || !domain[0] ||
        ef_args_str(args, "name", &name, EF_REG_NAME_MAX))
        return EF_EARGS;
    int rc = ef_registry_role(ctx, ef_ctx_sender(ctx), &srole, sdomain);
    if (rc) return rc;
    if (srole != EF_ROLE_VALIDATOR) return EF_ENOTVAL;
    if (strcmp(sdomain, domain)) return EF_EPERM;
    if ((rc = ef_registry_role(ctx, &acct, &role, NULL))) return rc;
    if (role != EF_ROLE_NONE) return EF_EEXIST;
    if ((rc = ef_acct_put(ctx, &acct, EF_ROLE_MEMBER, domain, name))) return rc;
    json_t *ev = json_pack("{s:o, s:s, s:s}", "account", ef_pub_json(&acct), "domain", domain, "name", name);
    rc = ev ? ef_ctx_emit(ctx, "member_registered", ev) : EF_ENOMEM;
    json_decref(ev);
    return rc;
}

/* Tallies proposal p (JSON, updated in place) against the current set; if it
 * passes, schedules the new set and updates the account. */
static int ef_reg_tally(ef_ctx *ctx, json_t *p, const ef_vset *cur)
{
    uint64_t total = 0, yes = 0;
    for (uint32_t i = 0; i < cur->len; i++) {
        ef_role role;
        int rc = ef_registry_role(ctx, &cur->v[i].pub, &role, NULL);
        if (rc) return rc;
        if (role == EF_ROLE_VALIDATOR) total += cur->v[i].power;
    }
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(p, "votes"), i, v) {
        ef_pub pub;
        ef_role role;
        if (ef_unhex(pub.b, EF_PUB_SIZE, json_string_value(v))) return EF_EDB;
        int idx = ef_vset_index(cur, &pub);
        if (idx < 0) continue;
        int rc = ef_registry_role(ctx, &pub, &role, NULL);
        if (rc) return rc;
        if (role == EF_ROLE_VALIDATOR) yes += cur->v[idx].power;
    }
    if (total == 0 || 3 * yes <= 2 * total) return 0;   /* not more than 2/3 yet */

    /* passed: the new set builds on the latest scheduled one */
    ef_vset next;
    ef_pub acct;
    uint64_t h = ef_ctx_height(ctx);
    int rc = ef_ctx_vset(ctx, h + EF_VSET_DELAY, &next);
    if (rc) return rc;
    if (ef_unhex(acct.b, EF_PUB_SIZE, json_string_value(json_object_get(p, "account")))) return EF_EDB;
    const char *action = json_string_value(json_object_get(p, "action"));
    const char *domain = json_string_value(json_object_get(p, "domain"));
    const char *rolename = json_string_value(json_object_get(p, "role"));
    ef_role role;
    if (!action || !domain || !rolename || ef_role_parse(rolename, &role)) return EF_EDB;
    if (!strcmp(action, "add")) {
        if ((rc = ef_vset_add(&next, &acct, 1))) return rc == EF_EDUP ? EF_EEXIST : rc;
        if ((rc = ef_acct_put(ctx, &acct, role, domain, NULL))) return rc;
    } else {
        if ((rc = ef_vset_remove(&next, &acct))) return rc;
        if (next.len == 0) return EF_ESTATE;
        if ((rc = ef_acct_put(ctx, &acct, EF_ROLE_MEMBER, domain, NULL))) return rc;
    }
    if ((rc = ef_ctx_vset_schedule(ctx, &next))) return rc;
    json_object_set_new(p, "status", json_string("passed"));
    json_object_set_new(p, "decided_at", json_integer((json_int_t)h));
    json_object_set_new(p, "effective_at", json_integer((json_int_t)(h + EF_VSET_DELAY)));
    json_t *ev = json_pack("{s:O, s:o, s:s, s:s, s:I}", "proposal", json_object_get(p, "id"),
                           "account", ef_pub_json(&acct), "action", action, "role", rolename,
                           "effective_at", (json_int_t)(h + EF_VSET_DELAY));
    rc = ev ? ef_ctx_emit(ctx, "validator_change", ev) : EF_ENOMEM;
    json_decref(ev);
    return rc;
}

/* propose_validator {"account","domain","role","action"}: counts as the proposer's vote */
static int ef_reg_m_propose(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"account", "domain", "role", "action", NULL};
    ef_pub acct;
    const char *domain, *rolename, *action;
    ef_role role, cur_role;
    ef_vset cur, next;
    if (ef_args_only(args, f) || ef_args_pub(args, "account", &acct) ||
        ef_args_str(args, "domain", &domain, EF_DOMAIN_MAX) || !domain[0] ||
        ef_args_str(args, "role", &rolename, 16) || ef_args_str(args, "action", &action, 16) ||
        ef_role_parse(rolename, &role) || role == EF_ROLE_MEMBER ||
        (strcmp(action, "add") && strcmp(action, "remove")))
        return EF_EARGS;
    uint64_t h = ef_ctx_height(ctx);
    int rc = ef_ctx_vset(ctx, h, &cur);
    if (rc) return rc;
    if ((rc = ef_reg_voter(ctx, ef_ctx_sender(ctx), &cur))) return rc;
    if ((rc = ef_ctx_vset(ctx, h + EF_VSET_DELAY, &next))) return rc;
    if ((rc = ef_registry_role(ctx, &acct, &cur_role, NULL))) return rc;
    bool add = !strcmp(action, "add");
    if (add && (ef_vset_index(&next, &acct) >= 0 || cur_role == EF_ROLE_VALIDATOR ||
                cur_role == EF_ROLE_REGULATOR))
        return EF_EEXIST;
    if (!add && ef_vset_index(&next, &acct) < 0) return EF_ENOTFOUND;
    if (add && next.len == EF_VSET_MAX) return EF_EFULL;

    uint64_t id = 1;
    const uint8_t *v;
    size_t n;
    rc = ef_ctx_get(ctx, "next_proposal", 13, &v, &n);
    if (rc == 0 && n == 8) id = ef_get_u64le(v);
    else if (rc != EF_ENOTFOUND) return rc ? rc : EF_EDB;
    uint8_t nb[8];
    ef_put_u64le(nb, id + 1);
    if ((rc = ef_ctx_put(ctx, "next_proposal", 13, nb, 8))) return rc;

    json_t *p = json_pack("{s:I, s:o, s:s, s:s, s:s, s:o, s:[o], s:s}", "id", (json_int_t)id,
                          "account", ef_pub_json(&acct), "domain", domain, "role", rolename,
                          "action", action, "proposer", ef_pub_json(ef_ctx_sender(ctx)),
                          "votes", ef_pub_json(ef_ctx_sender(ctx)), "status", "open");
    if (!p) return EF_ENOMEM;
    json_t *ev = json_pack("{s:I, s:O, s:s, s:s}", "proposal", (json_int_t)id, "account",
                           json_object_get(p, "account"), "action", action, "role", rolename);
    rc = ev ? ef_ctx_emit(ctx, "validator_proposed", ev) : EF_ENOMEM;
    json_decref(ev);
    if (rc == 0) rc = ef_reg_tally(ctx, p, &cur);
    if (rc == 0) {
        uint8_t key[9];
        ef_prop_key(key, id);
        rc = ef_reg_put_json(ctx, key, sizeof key, p);
    }
    json_decref(p);
    return rc;
}

/* vote_validator {"proposal": N} */
static int ef_reg_m_vote(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"proposal", NULL};
    uint64_t id;
    ef_vset cur;
    json_t *p = NULL;
    uint8_t key[9];
    if (ef_args_only(args, f) || ef_args_u64(args, "proposal", &id)) return EF_EARGS;
    int rc = ef_ctx_vset(ctx, ef_ctx_height(ctx), &cur);
    if (rc) return rc;
    if ((rc = ef_reg_voter(ctx, ef_ctx_sender(ctx), &cur))) return rc;
    ef_prop_key(key, id);
    if ((rc = ef_reg_get_json(ctx, key, sizeof key, &p))) return rc;
    const char *status = json_string_value(json_object_get(p, "status"));
    if (!status || strcmp(status, "open")) {
        rc = EF_ESTATE;
        goto out;
    }
    json_t *votes = json_object_get(p, "votes");
    char hex[2 * EF_PUB_SIZE + 1];
    ef_hex(hex, ef_ctx_sender(ctx)->b, EF_PUB_SIZE);
    size_t i;
    json_t *v;
    json_array_foreach(votes, i, v) {
        if (!strcmp(json_string_value(v), hex)) {
            rc = EF_EDUP;
            goto out;
        }
    }
    json_array_append_new(votes, json_string(hex));
    json_t *ev = json_pack("{s:I, s:s}", "proposal", (json_int_t)id, "voter", hex);
    rc = ev ? ef_ctx_emit(ctx, "validator_vote", ev) : EF_ENOMEM;
    json_decref(ev);
    if (rc == 0) rc = ef_reg_tally(ctx, p, &cur);
    if (rc == 0) rc = ef_reg_put_json(ctx, key, sizeof key, p);
out:
    json_decref(p);
    return rc;
}

/* Reads a hex string of an encoded vote into out (EF_VOTE_ENC_MAX bytes). */
static int ef_reg_vote_arg(const json_t *args, const char *field, uint8_t *out, size_t *out_len)
{
    const char *hex;
    if (ef_args_str(args, field, &hex, 2 * EF_VOTE_ENC_MAX)) return EF_EARGS;
    size_t n = strlen(hex);
    if (n == 0 || n % 2 || ef_unhex(out, n / 2, hex)) return EF_EARGS;
    *out_len = n / 2;
    return 0;
}

static void ef_ev_key(uint8_t key[1 + EF_PUB_SIZE + 12], const ef_pub *who, uint64_t h, uint32_t r)
{
    key[0] = 'e';
    memcpy(key + 1, who->b, EF_PUB_SIZE);
    for (int i = 0; i < 8; i++) key[1 + EF_PUB_SIZE + i] = (uint8_t)(h >> (56 - 8 * i));
    for (int i = 0; i < 4; i++) key[1 + EF_PUB_SIZE + 8 + i] = (uint8_t)(r >> (24 - 8 * i));
}

/* Jails the offender: out of the set from h + EF_VSET_DELAY (built on the latest
 * scheduled set, as a passed removal), its role back to member of its domain.
 * *jailed false (nothing changed) if it is not in that set any more, or is its
 * only member. */
static int ef_reg_jail(ef_ctx *ctx, const ef_pub *who, bool *jailed)
{
    ef_vset next;
    uint64_t h = ef_ctx_height(ctx);
    *jailed = false;
    int rc = ef_ctx_vset(ctx, h + EF_VSET_DELAY, &next);
    if (rc) return rc;
    if (ef_vset_index(&next, who) < 0 || next.len < 2) return 0;
    if ((rc = ef_vset_remove(&next, who)) || (rc = ef_ctx_vset_schedule(ctx, &next))) return rc;
    uint8_t key[1 + EF_PUB_SIZE];
    json_t *a;
    ef_acct_key(key, who);
    rc = ef_reg_get_json(ctx, key, sizeof key, &a);
    *jailed = rc == 0 || rc == EF_ENOTFOUND;   /* out of the set, with or without an account */
    if (rc) return rc == EF_ENOTFOUND ? 0 : rc;
    json_object_set_new(a, "role", json_string("member"));
    json_object_set_new(a, "jailed_at", json_integer((json_int_t)h));
    rc = ef_reg_put_json(ctx, key, sizeof key, a);
    json_decref(a);
    return rc;
}

/* report_evidence {"a": HEX, "b": HEX}: two conflicting signed votes of one validator */
static int ef_reg_m_evidence(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"a", "b", NULL};
    uint8_t a[EF_VOTE_ENC_MAX], b[EF_VOTE_ENC_MAX];
    size_t a_len = 0, b_len = 0;
    ef_vote_evidence ev;
    ef_vset cur, vs;
    ef_role role;
    if (ef_args_only(args, f) || ef_reg_vote_arg(args, "a", a, &a_len) ||
        ef_reg_vote_arg(args, "b", b, &b_len))
        return EF_EARGS;
    uint64_t h = ef_ctx_height(ctx);
    int rc = ef_ctx_vset(ctx, h, &cur);
    if (rc) return rc;
    /* any validator of the current set reports, watchers included */
    if ((rc = ef_registry_role(ctx, ef_ctx_sender(ctx), &role, NULL))) return rc;
    if ((role != EF_ROLE_VALIDATOR && role != EF_ROLE_REGULATOR) ||
        ef_vset_index(&cur, ef_ctx_sender(ctx)) < 0)
        return EF_ENOTVAL;
    if ((rc = ef_vote_evidence_parse(&ev, a, a_len, b, b_len))) return rc;
    if (ev.height > h) return EF_EHEIGHT;             /* a height not reached yet */
    if (h - ev.height > EF_EVIDENCE_AGE_MAX) return EF_ELATE;
    if ((rc = ef_ctx_vset(ctx, ev.height, &vs))) return rc;
    if ((rc = ef_vote_evidence_check(&ev, ef_ctx_chain_id(ctx), &vs, a, a_len, b, b_len))) return rc;

    uint8_t key[1 + EF_PUB_SIZE + 12];
    const uint8_t *old;
    size_t old_len;
    ef_ev_key(key, &ev.offender, ev.height, ev.round);
    rc = ef_ctx_get(ctx, key, sizeof key, &old, &old_len);
    if (rc == 0) return EF_ERECORDED;
    if (rc != EF_ENOTFOUND) return rc;

    bool jailed;
    if ((rc = ef_reg_jail(ctx, &ev.offender, &jailed))) return rc;
    char ahex[2 * EF_VOTE_ENC_MAX + 1], bhex[2 * EF_VOTE_ENC_MAX + 1];
    ef_hex(ahex, a, a_len);
    ef_hex(bhex, b, b_len);
    const char *type = ev.type == EF_VOTE_PREVOTE ? "prevote" : "precommit";
    json_t *rec = json_pack("{s:o, s:I, s:I, s:s, s:o, s:I, s:b, s:s, s:s}", "offender",
                            ef_pub_json(&ev.offender), "height", (json_int_t)ev.height, "round",
                            (json_int_t)ev.round, "type", type, "reporter",
                            ef_pub_json(ef_ctx_sender(ctx)), "recorded_at", (json_int_t)h,
                            "jailed", (int)jailed, "a", ahex, "b", bhex);
    json_t *evj = json_pack("{s:O, s:I, s:I, s:s, s:O, s:b}", "offender", json_object_get(rec, "offender"),
                            "height", (json_int_t)ev.height, "round", (json_int_t)ev.round, "type", type,
                            "reporter", json_object_get(rec, "reporter"), "jailed", (int)jailed);
    if (!rec || !evj) {
        rc = EF_ENOMEM;
        goto out;
    }
    if (jailed) {
        json_object_set_new(rec, "effective_at", json_integer((json_int_t)(h + EF_VSET_DELAY)));
        json_object_set_new(evj, "effective_at", json_integer((json_int_t)(h + EF_VSET_DELAY)));
    }
    if ((rc = ef_reg_put_json(ctx, key, sizeof key, rec))) goto out;
    rc = ef_ctx_emit(ctx, "equivocation", evj);
out:
    json_decref(rec);
    json_decref(evj);
    return rc;
}

static const ef_method ef_registry_methods[] = {
    {"register_member", ef_reg_m_register},
    {"propose_validator", ef_reg_m_propose},
    {"vote_validator", ef_reg_m_vote},
    {"report_evidence", ef_reg_m_evidence},
};

static int ef_registry_genesis(ef_ctx *ctx, const json_t *params)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(params, "validators"), i, v) {
        ef_pub pub;
        ef_role role = EF_ROLE_VALIDATOR;
        const char *d = json_string_value(json_object_get(v, "domain"));
        const char *r = json_string_value(json_object_get(v, "role"));
        if (ef_unhex(pub.b, EF_PUB_SIZE, json_string_value(json_object_get(v, "pub"))) || !d ||
            strlen(d) > EF_DOMAIN_MAX || (r && ef_role_parse(r, &role)) || role == EF_ROLE_MEMBER)
            return EF_ECONFIG;
        int rc = ef_acct_put(ctx, &pub, role, d, NULL);
        if (rc) return rc;
    }
    json_array_foreach(json_object_get(params, "members"), i, v) {
        ef_pub pub;
        ef_role role;
        const char *d = json_string_value(json_object_get(v, "domain"));
        const char *n = json_string_value(json_object_get(v, "name"));
        if (ef_unhex(pub.b, EF_PUB_SIZE, json_string_value(json_object_get(v, "pub"))) || !d ||
            !d[0] || strlen(d) > EF_DOMAIN_MAX || (n && strlen(n) > EF_REG_NAME_MAX))
            return EF_ECONFIG;
        int rc = ef_registry_role(ctx, &pub, &role, NULL);
        if (rc) return rc;
        if (role != EF_ROLE_NONE) return EF_ECONFIG;
        if ((rc = ef_acct_put(ctx, &pub, EF_ROLE_MEMBER, d, n))) return rc;
    }
    return 0;
}

static json_t *ef_reg_vset_json(ef_ctx *ctx, const ef_vset *vs, uint64_t height)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; arr && i < vs->len; i++) {
        ef_role role;
        char domain[EF_DOMAIN_MAX + 1];
        if (ef_registry_role(ctx, &vs->v[i].pub, &role, domain)) role = EF_ROLE_NONE;
        json_array_append_new(arr, json_pack("{s:o, s:I, s:s, s:s}", "pub", ef_pub_json(&vs->v[i].pub),
                                             "power", (json_int_t)vs->v[i].power,
                                             "role", ef_role_names[role], "domain", domain));
    }
    ef_hash h;
    char hex[2 * EF_HASH_SIZE + 1];
    ef_vset_hash(&h, vs);
    ef_hex(hex, h.b, EF_HASH_SIZE);
    return json_pack("{s:I, s:s, s:I, s:I, s:o}", "height", (json_int_t)height, "hash", hex,
                     "total_power", (json_int_t)ef_vset_total_power(vs),
                     "quorum", (json_int_t)ef_vset_quorum(vs), "validators", arr);
}

struct ef_reg_scan { ef_ctx *ctx; json_t *arr; };

static int ef_reg_scan_prop(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    struct ef_reg_scan *sc = arg;
    (void)key;
    (void)key_len;
    json_t *p;
    if (ef_cj_decode(&p, val, val_len)) return EF_EDB;
    if (json_array_append_new(sc->arr, p)) return EF_ENOMEM;
    return 0;
}

static int ef_registry_query(ef_ctx *ctx, const char *path, json_t **out)
{
    *out = NULL;
    if (!strncmp(path, "account/", 8)) {
        ef_pub pub;
        uint8_t key[1 + EF_PUB_SIZE];
        if (ef_unhex(pub.b, EF_PUB_SIZE, path + 8)) return EF_EINVAL;
        ef_acct_key(key, &pub);
        int rc = ef_reg_get_json(ctx, key, sizeof key, out);
        if (rc) return rc;
        json_object_set_new(*out, "account", json_string(path + 8));
        return 0;
    }
    if (!strcmp(path, "validators") || !strncmp(path, "validators/", 11)) {
        uint64_t h = ef_ctx_height(ctx);
        if (path[10] == '/') {
            char *end;
            h = strtoull(path + 11, &end, 10);
            if (*end || end == path + 11) return EF_EINVAL;
            if (h > ef_ctx_height(ctx) + EF_VSET_DELAY) return EF_ENOTFOUND;
        }
        ef_vset vs;
        int rc = ef_ctx_vset(ctx, h, &vs);
        if (rc) return rc;
        *out = ef_reg_vset_json(ctx, &vs, h);
        return *out ? 0 : EF_ENOMEM;
    }
    if (!strcmp(path, "proposals")) {
        struct ef_reg_scan sc = {ctx, json_array()};
        if (!sc.arr) return EF_ENOMEM;
        int rc = ef_ctx_scan(ctx, "p", 1, ef_reg_scan_prop, &sc);
        if (rc) {
            json_decref(sc.arr);
            return rc;
        }
        *out = sc.arr;
        return 0;
    }
    if (!strcmp(path, "evidence") || !strncmp(path, "evidence/", 9)) {
        uint8_t prefix[1 + EF_PUB_SIZE] = {'e'};
        size_t plen = 1;
        if (path[8] == '/') {
            if (ef_unhex(prefix + 1, EF_PUB_SIZE, path + 9)) return EF_EINVAL;
            plen = sizeof prefix;
        }
        struct ef_reg_scan sc = {ctx, json_array()};
        if (!sc.arr) return EF_ENOMEM;
        int rc = ef_ctx_scan(ctx, prefix, plen, ef_reg_scan_prop, &sc);
        if (rc) {
            json_decref(sc.arr);
            return rc;
        }
        *out = sc.arr;
        return 0;
    }
    if (!strncmp(path, "proposal/", 9)) {
        char *end;
        uint64_t id = strtoull(path + 9, &end, 10);
        uint8_t key[9];
        if (*end || end == path + 9) return EF_EINVAL;
        ef_prop_key(key, id);
        return ef_reg_get_json(ctx, key, sizeof key, out);
    }
    return EF_ENOTFOUND;
}

static const char *const ef_registry_genesis_fields[] = {"validators", "members", NULL};

const ef_contract ef_registry_contract = {
    .name = EF_REG_NAME,
    .methods = ef_registry_methods,
    .methods_len = EF_ARRAY_LEN(ef_registry_methods),
    .query = ef_registry_query,
    .genesis = ef_registry_genesis,
    .genesis_fields = ef_registry_genesis_fields,
    .schedules_vset = true,
    .account = ef_registry_account,
    .evidence_method = "report_evidence",
};
