/* ef_committee.c: the committee contract: device admission, commit-reveal beacon,
 * committee election and rotation of the validator set (see ef_committee.h). */
#include "contracts/ef_committee.h"

#include <stdlib.h>
#include <string.h>

#include "base/ef_beacon.h"
#include "base/ef_cjson.h"
#include "base/ef_codec.h"
#include "contracts/ef_registry.h"

#define CM_NAME "committee"
#define CM_HEX_MAX (2 * EF_HASH_SIZE)

typedef struct cm_cfg {
    ef_pub admin;
    uint64_t size, epoch_heights, commit_heights, penalty_epochs;
} cm_cfg;

/* ---- small helpers ---- */

static json_t *cm_hex_json(const void *b, size_t n)
{
    char hex[2 * 64 + 1];
    EF_ASSERT(n <= 64);
    ef_hex(hex, b, n);
    return json_string(hex);
}

static void cm_dev_key(uint8_t key[1 + EF_PUB_SIZE], const ef_pub *pub)
{
    key[0] = 'd';
    memcpy(key + 1, pub->b, EF_PUB_SIZE);
}

static void cm_hist_key(uint8_t key[9], uint64_t epoch)
{
    key[0] = 'h';
    ef_put_u64be(key + 1, epoch);
}

static int cm_get_json(ef_ctx *ctx, const void *key, size_t key_len, json_t **out)
{
    const uint8_t *v;
    size_t n;
    *out = NULL;
    int rc = ef_ctx_get(ctx, key, key_len, &v, &n);
    if (rc) return rc;
    rc = ef_cj_decode(out, v, n);
    return rc == 0 || rc == EF_ENOMEM ? rc : EF_EDB;
}

static int cm_put_json(ef_ctx *ctx, const void *key, size_t key_len, const json_t *val)
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

static uint64_t cm_int(const json_t *o, const char *field)
{
    json_int_t v = json_integer_value(json_object_get(o, field));
    return v < 0 ? 0 : (uint64_t)v;
}

/* EF_ESTATE when the chain has no committee. */
static int cm_cfg_load(ef_ctx *ctx, cm_cfg *c)
{
    json_t *j;
    memset(c, 0, sizeof *c);
    int rc = ef_ctx_get_json(ctx, "cfg", &j);
    if (rc == EF_ENOTFOUND) return EF_ESTATE;
    if (rc) return rc;
    if (ef_unhex(c->admin.b, EF_PUB_SIZE, json_string_value(json_object_get(j, "admin")))) rc = EF_EDB;
    c->size = cm_int(j, "size");
    c->epoch_heights = cm_int(j, "epoch_heights");
    c->commit_heights = cm_int(j, "commit_heights");
    c->penalty_epochs = cm_int(j, "penalty_epochs");
    json_decref(j);
    return rc;
}

static uint64_t cm_commit_end(const cm_cfg *c, uint64_t start) { return start + c->commit_heights; }
static uint64_t cm_elect_from(const cm_cfg *c, uint64_t start) { return start + c->epoch_heights - EF_VSET_DELAY; }

static int cm_cur_load(ef_ctx *ctx, json_t **cur)
{
    int rc = ef_ctx_get_json(ctx, "cur", cur);
    return rc == EF_ENOTFOUND ? EF_EDB : rc; /* written at genesis with the config */
}

static bool cm_in_array(const json_t *arr, const char *hex)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) if (!strcmp(json_string_value(v), hex)) return true;
    return false;
}

/* A registry account other than a regulator may be a device. */
static int cm_eligible(ef_ctx *ctx, const ef_pub *pub)
{
    ef_role role;
    int rc = ef_registry_role(ctx, pub, &role, NULL);
    if (rc) return rc;
    return role == EF_ROLE_MEMBER || role == EF_ROLE_VALIDATOR ? 0 : EF_EINELIGIBLE;
}

static int cm_dev_put(ef_ctx *ctx, const ef_pub *pub, uint64_t admitted_at, uint64_t missed, uint64_t excluded_until)
{
    uint8_t key[1 + EF_PUB_SIZE];
    cm_dev_key(key, pub);
    json_t *d = json_pack("{s:I, s:I, s:I}", "admitted_at", (json_int_t)admitted_at, "missed", (json_int_t)missed,
                          "excluded_until", (json_int_t)excluded_until);
    if (!d) return EF_ENOMEM;
    int rc = cm_put_json(ctx, key, sizeof key, d);
    json_decref(d);
    return rc;
}

static int cm_ndev(ef_ctx *ctx, uint64_t *n)
{
    const uint8_t *v;
    size_t len;
    *n = 0;
    int rc = ef_ctx_get(ctx, "ndev", 4, &v, &len);
    if (rc == EF_ENOTFOUND) return 0;
    if (rc) return rc;
    if (len != 8) return EF_EDB;
    *n = ef_get_u64le(v);
    return 0;
}

static int cm_ndev_set(ef_ctx *ctx, uint64_t n)
{
    uint8_t v[8];
    ef_put_u64le(v, n);
    return ef_ctx_put(ctx, "ndev", 4, v, 8);
}

/* Admits pub (0, EF_EEXIST, EF_EFULL, errors). */
static int cm_admit(ef_ctx *ctx, const ef_pub *pub)
{
    uint8_t key[1 + EF_PUB_SIZE];
    const uint8_t *v;
    size_t n;
    uint64_t count;
    cm_dev_key(key, pub);
    int rc = ef_ctx_get(ctx, key, sizeof key, &v, &n);
    if (rc == 0) return EF_EEXIST;
    if (rc != EF_ENOTFOUND) return rc;
    if ((rc = cm_ndev(ctx, &count))) return rc;
    if (count >= EF_COMMITTEE_DEVICES_MAX) return EF_EFULL;
    if ((rc = cm_dev_put(ctx, pub, ef_ctx_height(ctx), 0, 0))) return rc;
    return cm_ndev_set(ctx, count + 1);
}

static int cm_emit_pub(ef_ctx *ctx, const char *name, const char *field, const ef_pub *pub, int64_t epoch)
{
    json_t *ev = json_pack("{s:o}", field, cm_hex_json(pub->b, EF_PUB_SIZE));
    if (ev && epoch >= 0) json_object_set_new(ev, "epoch", json_integer(epoch));
    int rc = ev ? ef_ctx_emit(ctx, name, ev) : EF_ENOMEM;
    json_decref(ev);
    return rc;
}

/* ---- genesis ---- */

static int ef_committee_genesis(ef_ctx *ctx, const json_t *params)
{
    static const char *const f[] = {"admin", "size", "epoch_heights", "commit_heights", "penalty_epochs",
                                    "devices", NULL};
    if (!params) return 0;   /* no committee on this chain */
    cm_cfg c = {.penalty_epochs = 1};
    if (ef_args_only(params, f) || ef_args_pub(params, "admin", &c.admin) ||
        ef_args_u64(params, "size", &c.size) || ef_args_u64(params, "epoch_heights", &c.epoch_heights))
        return EF_ECONFIG;
    if (c.size < 1 || c.size > EF_COMMITTEE_SIZE_MAX || c.epoch_heights < EF_COMMITTEE_EPOCH_MIN ||
        c.epoch_heights > EF_COMMITTEE_EPOCH_MAX)
        return EF_ECONFIG;
    c.commit_heights = (c.epoch_heights - EF_VSET_DELAY) / 2;
    if (json_object_get(params, "commit_heights") &&
        (ef_args_u64(params, "commit_heights", &c.commit_heights) || c.commit_heights < 1 ||
         c.commit_heights > c.epoch_heights - EF_VSET_DELAY - 1))
        return EF_ECONFIG;
    if (json_object_get(params, "penalty_epochs") &&
        (ef_args_u64(params, "penalty_epochs", &c.penalty_epochs) || c.penalty_epochs < 1 ||
         c.penalty_epochs > EF_COMMITTEE_PENALTY_MAX))
        return EF_ECONFIG;
    ef_role role;
    int rc = ef_registry_role(ctx, &c.admin, &role, NULL);
    if (rc) return rc;
    if (role == EF_ROLE_NONE) return EF_ECONFIG;   /* the admin must be able to send */
    json_t *cfg = json_pack("{s:o, s:I, s:I, s:I, s:I}", "admin", cm_hex_json(c.admin.b, EF_PUB_SIZE), "size",
                            (json_int_t)c.size, "epoch_heights", (json_int_t)c.epoch_heights, "commit_heights",
                            (json_int_t)c.commit_heights, "penalty_epochs", (json_int_t)c.penalty_epochs);
    if (!cfg) return EF_ENOMEM;
    rc = ef_ctx_put_json(ctx, "cfg", cfg);
    json_decref(cfg);
    if (rc) return rc;

    /* epoch 0: the genesis validators, each an eligible device */
    ef_vset vs;
    if ((rc = ef_ctx_vset(ctx, 0, &vs))) return rc;
    json_t *committee = json_array();
    if (!committee) return EF_ENOMEM;
    for (uint32_t i = 0; i < vs.len && !rc; i++) {
        json_array_append_new(committee, cm_hex_json(vs.v[i].pub.b, EF_PUB_SIZE));
        rc = cm_eligible(ctx, &vs.v[i].pub);   /* a watcher sits in epoch 0 but is no device */
        if (rc == 0) rc = cm_admit(ctx, &vs.v[i].pub);
        if (rc == EF_EEXIST || rc == EF_EINELIGIBLE) rc = 0;
    }
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(params, "devices"), i, v) {
        ef_pub pub;
        if (rc) break;
        if (ef_unhex(pub.b, EF_PUB_SIZE, json_string_value(v))) rc = EF_ECONFIG;
        else if ((rc = cm_eligible(ctx, &pub)) == 0) rc = cm_admit(ctx, &pub);
        if (rc == EF_EEXIST) rc = 0;
    }
    if (json_object_get(params, "devices") && !json_is_array(json_object_get(params, "devices"))) rc = EF_ECONFIG;
    if (rc) {
        json_decref(committee);
        return rc == EF_EINELIGIBLE || rc == EF_EFULL ? EF_ECONFIG : rc;
    }
    json_t *cur = json_pack("{s:I, s:I, s:o, s:{}, s:{}}", "epoch", (json_int_t)0, "start", (json_int_t)1,
                            "committee", committee, "commits", "reveals");
    if (!cur) return EF_ENOMEM;
    rc = ef_ctx_put_json(ctx, "cur", cur);
    json_decref(cur);
    return rc;
}

/* ---- admission ---- */

/* Shared checks of admit/remove: config, admin, args, candidate set not frozen. */
static int cm_admin_call(ef_ctx *ctx, const json_t *args, ef_pub *dev)
{
    static const char *const f[] = {"device", NULL};
    cm_cfg c;
    json_t *cur;
    if (ef_args_only(args, f) || ef_args_pub(args, "device", dev)) return EF_EARGS;
    int rc = cm_cfg_load(ctx, &c);
    if (rc) return rc;
    if (memcmp(ef_ctx_sender(ctx)->b, c.admin.b, EF_PUB_SIZE)) return EF_EPERM;
    if ((rc = cm_cur_load(ctx, &cur))) return rc;
    uint64_t start = cm_int(cur, "start");
    json_decref(cur);
    /* from the reveal window to the election the candidates are frozen */
    if (ef_ctx_height(ctx) >= cm_commit_end(&c, start)) return EF_EWINDOW;
    return 0;
}

static int cm_m_admit(ef_ctx *ctx, const json_t *args)
{
    ef_pub dev;
    int rc = cm_admin_call(ctx, args, &dev);
    if (rc) return rc;
    if ((rc = cm_eligible(ctx, &dev))) return rc;
    if ((rc = cm_admit(ctx, &dev))) return rc;
    return cm_emit_pub(ctx, "device_admitted", "device", &dev, -1);
}

static int cm_m_remove(ef_ctx *ctx, const json_t *args)
{
    ef_pub dev;
    uint8_t key[1 + EF_PUB_SIZE];
    const uint8_t *v;
    size_t n;
    uint64_t count;
    int rc = cm_admin_call(ctx, args, &dev);
    if (rc) return rc;
    cm_dev_key(key, &dev);
    if ((rc = ef_ctx_get(ctx, key, sizeof key, &v, &n))) return rc;
    if ((rc = cm_ndev(ctx, &count))) return rc;
    if (count == 0) return EF_EDB;
    if ((rc = ef_ctx_del(ctx, key, sizeof key)) || (rc = cm_ndev_set(ctx, count - 1))) return rc;
    return cm_emit_pub(ctx, "device_removed", "device", &dev, -1);
}

/* ---- commit and reveal ---- */

/* Loads config and current epoch, checks args' epoch and that the sender is a
 * member; *sender_hex gets its key. */
static int cm_member_call(ef_ctx *ctx, const json_t *args, cm_cfg *c, json_t **cur, char sender_hex[65])
{
    uint64_t epoch;
    *cur = NULL;
    if (ef_args_u64(args, "epoch", &epoch)) return EF_EARGS;
    int rc = cm_cfg_load(ctx, c);
    if (rc) return rc;
    if ((rc = cm_cur_load(ctx, cur))) return rc;
    rc = EF_EWINDOW;   /* a transaction meant for another epoch */
    if (epoch == cm_int(*cur, "epoch")) {
        ef_hex(sender_hex, ef_ctx_sender(ctx)->b, EF_PUB_SIZE);
        rc = cm_in_array(json_object_get(*cur, "committee"), sender_hex) ? 0 : EF_ENOTCOMMITTEE;
    }
    if (rc) {
        json_decref(*cur);
        *cur = NULL;
    }
    return rc;
}

static int cm_m_commit(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"epoch", "commitment", NULL};
    cm_cfg c;
    json_t *cur;
    ef_hash cm;
    char me[65];
    if (ef_args_only(args, f) || ef_args_hash(args, "commitment", &cm)) return EF_EARGS;
    int rc = cm_member_call(ctx, args, &c, &cur, me);
    if (rc) return rc;
    uint64_t h = ef_ctx_height(ctx), start = cm_int(cur, "start");
    json_t *commits = json_object_get(cur, "commits");
    if (h < start || h >= cm_commit_end(&c, start)) rc = EF_EWINDOW;
    else if (json_object_get(commits, me)) rc = EF_EDUP;
    else if (!json_is_object(commits)) rc = EF_EDB;
    if (rc) goto out;
    /* the anchor: the block before this one, fixed before any secret is revealed */
    json_object_set_new(commits, me, cm_hex_json(cm.b, EF_HASH_SIZE));
    json_object_set_new(cur, "anchor_height", json_integer((json_int_t)(h - 1)));
    json_object_set_new(cur, "anchor_hash", cm_hex_json(ef_ctx_prev_hash(ctx)->b, EF_HASH_SIZE));
    if ((rc = ef_ctx_put_json(ctx, "cur", cur))) goto out;
    rc = cm_emit_pub(ctx, "committed", "member", ef_ctx_sender(ctx), (int64_t)cm_int(cur, "epoch"));
out:
    json_decref(cur);
    return rc;
}

static int cm_m_reveal(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"epoch", "secret", NULL};
    cm_cfg c;
    json_t *cur;
    ef_hash secret, want, got;
    char me[65];
    if (ef_args_only(args, f) || ef_args_hash(args, "secret", &secret)) return EF_EARGS;
    int rc = cm_member_call(ctx, args, &c, &cur, me);
    if (rc) return rc;
    uint64_t h = ef_ctx_height(ctx), start = cm_int(cur, "start"), epoch = cm_int(cur, "epoch");
    const char *committed = json_string_value(json_object_get(json_object_get(cur, "commits"), me));
    json_t *reveals = json_object_get(cur, "reveals");
    if (h < cm_commit_end(&c, start) || h >= cm_elect_from(&c, start)) rc = EF_EWINDOW;
    else if (!committed) rc = EF_ENOCOMMIT;
    else if (json_object_get(reveals, me)) rc = EF_EDUP;
    else if (!json_is_object(reveals) || ef_unhex(want.b, EF_HASH_SIZE, committed)) rc = EF_EDB;
    if (rc) goto out;
    ef_beacon_commitment(&got, epoch, ef_ctx_sender(ctx), secret.b);
    if (!ef_hash_eq(&got, &want)) {
        rc = EF_EREVEAL;
        goto out;
    }
    json_object_set_new(reveals, me, cm_hex_json(secret.b, EF_HASH_SIZE));
    if ((rc = ef_ctx_put_json(ctx, "cur", cur))) goto out;
    rc = cm_emit_pub(ctx, "revealed", "member", ef_ctx_sender(ctx), (int64_t)epoch);
out:
    json_decref(cur);
    return rc;
}

/* ---- election ---- */

typedef struct cm_cand {
    ef_pub pub;
    ef_hash rank;
    uint64_t excluded_until;
} cm_cand;

typedef struct cm_scan {
    cm_cand *v;
    size_t len, cap;
} cm_scan;

static int cm_scan_dev(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    cm_scan *sc = arg;
    json_t *d;
    if (key_len != 1 + EF_PUB_SIZE) return EF_EDB;
    if (ef_cj_decode(&d, val, val_len)) return EF_EDB;
    if (sc->len == sc->cap) {
        size_t cap = sc->cap ? 2 * sc->cap : 64;
        cm_cand *v = realloc(sc->v, cap * sizeof *v);
        if (!v) {
            json_decref(d);
            return EF_ENOMEM;
        }
        sc->v = v;
        sc->cap = cap;
    }
    cm_cand *c = &sc->v[sc->len++];
    memcpy(c->pub.b, key + 1, EF_PUB_SIZE);
    c->excluded_until = cm_int(d, "excluded_until");
    json_decref(d);
    return 0;
}

static int cm_cand_cmp(const void *a, const void *b)
{
    const cm_cand *x = a, *y = b;
    int k = memcmp(x->rank.b, y->rank.b, EF_HASH_SIZE);
    return k ? k : memcmp(x->pub.b, y->pub.b, EF_PUB_SIZE);
}


/* Records a miss of member pub in epoch (if it is still a device). */
static int cm_miss(ef_ctx *ctx, const cm_cfg *c, const ef_pub *pub, uint64_t epoch)
{
    uint8_t key[1 + EF_PUB_SIZE];
    json_t *d;
    cm_dev_key(key, pub);
    int rc = cm_get_json(ctx, key, sizeof key, &d);
    if (rc) return rc == EF_ENOTFOUND ? 0 : rc;
    uint64_t admitted = cm_int(d, "admitted_at"), missed = cm_int(d, "missed");
    json_decref(d);
    return cm_dev_put(ctx, pub, admitted, missed + 1, epoch + c->penalty_epochs);
}

static int cm_m_elect(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"epoch", NULL};
    cm_cfg c;
    json_t *cur = NULL, *revealed = NULL, *missed = NULL, *committed = NULL, *next = NULL, *hist = NULL;
    uint64_t epoch;
    cm_scan sc = {0};
    ef_pub *rpubs = NULL;
    uint8_t (*rsec)[EF_BEACON_SECRET_SIZE] = NULL;
    if (ef_args_only(args, f) || ef_args_u64(args, "epoch", &epoch)) return EF_EARGS;
    int rc = cm_cfg_load(ctx, &c);
    if (rc) return rc;
    if ((rc = cm_cur_load(ctx, &cur))) return rc;
    uint64_t h = ef_ctx_height(ctx), start = cm_int(cur, "start");
    if (epoch != cm_int(cur, "epoch") || h < cm_elect_from(&c, start)) {
        rc = EF_EWINDOW;
        goto out;
    }
    /* the anchor: the last commit's, else (nobody committed) this block's previous */
    ef_hash anchor, seed;
    uint64_t anchor_height = h - 1;
    if (json_object_get(cur, "anchor_hash")) {
        anchor_height = cm_int(cur, "anchor_height");
        if (ef_unhex(anchor.b, EF_HASH_SIZE, json_string_value(json_object_get(cur, "anchor_hash")))) {
            rc = EF_EDB;
            goto out;
        }
    } else {
        anchor = *ef_ctx_prev_hash(ctx);
    }

    /* the revealed secrets in key order */
    json_t *reveals = json_object_get(cur, "reveals"), *committee = json_object_get(cur, "committee");
    size_t nrev = json_object_size(reveals), nr = 0;
    rpubs = calloc(nrev ? nrev : 1, sizeof *rpubs);
    rsec = calloc(nrev ? nrev : 1, sizeof *rsec);
    revealed = json_array();
    missed = json_array();
    committed = json_array();
    next = json_array();
    if (!rpubs || !rsec || !revealed || !missed || !committed || !next) {
        rc = EF_ENOMEM;
        goto out;
    }
    const char *k;
    json_t *v;
    json_object_foreach(reveals, k, v) {
        if (ef_unhex(rpubs[nr].b, EF_PUB_SIZE, k) || ef_unhex(rsec[nr], EF_BEACON_SECRET_SIZE, json_string_value(v))) {
            rc = EF_EDB;
            goto out;
        }
        nr++;
    }
    /* sort pubs and secrets together: sort indices by pub */
    for (size_t i = 1; i < nr; i++)
        for (size_t j = i; j > 0 && memcmp(rpubs[j - 1].b, rpubs[j].b, EF_PUB_SIZE) > 0; j--) {
            ef_pub tp = rpubs[j];
            rpubs[j] = rpubs[j - 1];
            rpubs[j - 1] = tp;
            uint8_t ts[EF_BEACON_SECRET_SIZE];
            memcpy(ts, rsec[j], sizeof ts);
            memcpy(rsec[j], rsec[j - 1], sizeof ts);
            memcpy(rsec[j - 1], ts, sizeof ts);
        }
    ef_beacon_seed(&seed, epoch, &anchor, rpubs, (const uint8_t (*)[EF_BEACON_SECRET_SIZE])rsec, nr);
    for (size_t i = 0; i < nr; i++) json_array_append_new(revealed, cm_hex_json(rpubs[i].b, EF_PUB_SIZE));
    /* liveness: members that did not reveal (in committee order, i.e. by key) */
    size_t i;
    json_array_foreach(committee, i, v) {
        ef_pub pub;
        if (ef_unhex(pub.b, EF_PUB_SIZE, json_string_value(v))) {
            rc = EF_EDB;
            goto out;
        }
        if (json_object_get(json_object_get(cur, "commits"), json_string_value(v)))
            json_array_append_new(committed, json_string(json_string_value(v)));
        if (json_object_get(reveals, json_string_value(v))) continue;
        json_array_append_new(missed, json_string(json_string_value(v)));
        if ((rc = cm_miss(ctx, &c, &pub, epoch))) goto out;
    }

    /* the candidates, ranked */
    if ((rc = ef_ctx_scan(ctx, "d", 1, cm_scan_dev, &sc))) goto out;
    size_t nc = 0;
    for (size_t j = 0; j < sc.len; j++) {
        if (sc.v[j].excluded_until >= epoch + 1) continue;
        sc.v[nc] = sc.v[j];
        ef_beacon_rank(&sc.v[nc].rank, &seed, &sc.v[nc].pub);
        nc++;
    }
    qsort(sc.v, nc, sizeof *sc.v, cm_cand_cmp);
    ef_vset vs;
    ef_vset_init(&vs);
    for (size_t j = 0; j < nc && vs.len < c.size; j++)
        if ((rc = ef_vset_add(&vs, &sc.v[j].pub, 1))) goto out;
    if (vs.len == 0) {   /* nobody to elect: the committee stays */
        json_array_foreach(committee, i, v) {
            ef_pub pub;
            if (ef_unhex(pub.b, EF_PUB_SIZE, json_string_value(v)) || (rc = ef_vset_add(&vs, &pub, 1))) {
                rc = rc ? rc : EF_EDB;
                goto out;
            }
        }
    }
    for (uint32_t j = 0; j < vs.len; j++) json_array_append_new(next, cm_hex_json(vs.v[j].pub.b, EF_PUB_SIZE));
    if ((rc = ef_ctx_vset_schedule(ctx, &vs))) goto out;

    /* the finished epoch's record and the new epoch */
    uint64_t new_start = h + EF_VSET_DELAY;
    hist = json_pack("{s:I, s:I, s:O, s:O, s:O, s:O, s:I, s:o, s:o, s:I, s:O}", "epoch", (json_int_t)epoch,
                     "start", (json_int_t)start, "committee", committee, "committed", committed, "revealed",
                     revealed, "missed", missed, "anchor_height", (json_int_t)anchor_height, "anchor_hash",
                     cm_hex_json(anchor.b, EF_HASH_SIZE), "seed", cm_hex_json(seed.b, EF_HASH_SIZE),
                     "elected_at", (json_int_t)h, "next_committee", next);
    if (!hist) {
        rc = EF_ENOMEM;
        goto out;
    }
    uint8_t hk[9];
    cm_hist_key(hk, epoch);
    if ((rc = cm_put_json(ctx, hk, sizeof hk, hist))) goto out;
    json_t *ncur = json_pack("{s:I, s:I, s:O, s:{}, s:{}}", "epoch", (json_int_t)(epoch + 1), "start",
                             (json_int_t)new_start, "committee", next, "commits", "reveals");
    if (!ncur) {
        rc = EF_ENOMEM;
        goto out;
    }
    rc = ef_ctx_put_json(ctx, "cur", ncur);
    json_decref(ncur);
    if (rc) goto out;
    json_t *ev = json_pack("{s:I, s:I, s:O, s:O, s:O, s:O, s:I}", "epoch", (json_int_t)(epoch + 1), "start",
                           (json_int_t)new_start, "committee", next, "seed", json_object_get(hist, "seed"),
                           "revealed", revealed, "missed", missed, "elected_at", (json_int_t)h);
    rc = ev ? ef_ctx_emit(ctx, "committee_elected", ev) : EF_ENOMEM;
    json_decref(ev);
out:
    free(sc.v);
    free(rpubs);
    free(rsec);
    json_decref(cur);
    json_decref(revealed);
    json_decref(missed);
    json_decref(committed);
    json_decref(next);
    json_decref(hist);
    return rc;
}

/* ---- queries ---- */

typedef struct cm_qscan {
    ef_ctx *ctx;
    json_t *arr;
    uint64_t next_epoch;
} cm_qscan;

static int cm_q_dev(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    cm_qscan *q = arg;
    json_t *d;
    if (key_len != 1 + EF_PUB_SIZE || ef_cj_decode(&d, val, val_len)) return EF_EDB;
    json_object_set_new(d, "device", cm_hex_json(key + 1, EF_PUB_SIZE));
    json_object_set_new(d, "eligible", json_boolean(cm_int(d, "excluded_until") < q->next_epoch));
    return json_array_append_new(q->arr, d) ? EF_ENOMEM : 0;
}

static int cm_q_hist(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    cm_qscan *q = arg;
    json_t *d;
    (void)key;
    if (key_len != 9 || ef_cj_decode(&d, val, val_len)) return EF_EDB;
    return json_array_append_new(q->arr, d) ? EF_ENOMEM : 0;
}

static const char *cm_phase(const cm_cfg *c, uint64_t start, uint64_t h)
{
    if (h < start) return "starting";
    if (h < cm_commit_end(c, start)) return "commit";
    if (h < cm_elect_from(c, start)) return "reveal";
    return "election";
}

static int ef_committee_query(ef_ctx *ctx, const char *path, json_t **out)
{
    cm_cfg c;
    json_t *cur = NULL;
    *out = NULL;
    int rc = cm_cfg_load(ctx, &c);
    if (rc) return rc == EF_ESTATE ? EF_ENOTFOUND : rc;
    if ((rc = cm_cur_load(ctx, &cur))) return rc;
    uint64_t epoch = cm_int(cur, "epoch"), start = cm_int(cur, "start"), h = ef_ctx_height(ctx);
    if (!strcmp(path, "config")) {
        rc = ef_ctx_get_json(ctx, "cfg", out);
    } else if (!strcmp(path, "current")) {
        json_t *cm = json_array(), *rv = json_array();
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(cur, "commits"), k, v) json_array_append_new(cm, json_string(k));
        json_object_foreach(json_object_get(cur, "reveals"), k, v) json_array_append_new(rv, json_string(k));
        *out = json_pack("{s:I, s:I, s:O, s:I, s:I, s:I, s:I, s:s, s:o, s:o}", "epoch", (json_int_t)epoch,
                         "start", (json_int_t)start, "committee", json_object_get(cur, "committee"),
                         "commit_end", (json_int_t)cm_commit_end(&c, start), "reveal_end",
                         (json_int_t)cm_elect_from(&c, start), "elect_from", (json_int_t)cm_elect_from(&c, start),
                         "height", (json_int_t)h, "phase", cm_phase(&c, start, h + 1), "committed", cm,
                         "revealed", rv);
        if (*out && json_object_get(cur, "anchor_height"))
            json_object_set(*out, "anchor_height", json_object_get(cur, "anchor_height"));
        rc = *out ? 0 : EF_ENOMEM;
    } else if (!strcmp(path, "devices")) {
        cm_qscan q = {ctx, json_array(), epoch + 1};
        rc = q.arr ? ef_ctx_scan(ctx, "d", 1, cm_q_dev, &q) : EF_ENOMEM;
        if (rc) json_decref(q.arr);
        else *out = q.arr;
    } else if (!strcmp(path, "epochs")) {
        cm_qscan q = {ctx, json_array(), 0};
        rc = q.arr ? ef_ctx_scan(ctx, "h", 1, cm_q_hist, &q) : EF_ENOMEM;
        if (rc) json_decref(q.arr);
        else *out = q.arr;
    } else if (!strncmp(path, "epoch/", 6)) {
        char *end;
        uint64_t e = strtoull(path + 6, &end, 10);
        uint8_t hk[9];
        if (*end || end == path + 6 || path[6] == '-' || path[6] == '+') rc = EF_EINVAL;
        else {
            cm_hist_key(hk, e);
            rc = cm_get_json(ctx, hk, sizeof hk, out);
        }
    } else {
        rc = EF_ENOTFOUND;
    }
    json_decref(cur);
    return rc;
}

static const ef_method ef_committee_methods[] = {
    {"admit", cm_m_admit},   {"remove", cm_m_remove}, {"commit", cm_m_commit},
    {"reveal", cm_m_reveal}, {"elect", cm_m_elect},
};

const ef_contract ef_committee_contract = {
    .name = CM_NAME,
    .methods = ef_committee_methods,
    .methods_len = EF_ARRAY_LEN(ef_committee_methods),
    .query = ef_committee_query,
    .genesis = ef_committee_genesis,
    .schedules_vset = true,
};
