/* ef_sla_query.c: the sla contract's read-only queries (GET /state/sla/...; see ef_sla.h). */
#include <stdlib.h>
#include <string.h>

#include "contracts/ef_sla_int.h"

struct ef_sla_ids {
    uint64_t ids[EF_SLA_QUERY_MAX];
    size_t n;
    bool newest;   /* keep the last EF_SLA_QUERY_MAX instead of the first */
};

static int ef_sla_ids_fn(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    struct ef_sla_ids *l = arg;
    (void)val;
    (void)val_len;
    if (key_len < 9) return EF_EDB;
    if (l->n == EF_SLA_QUERY_MAX) {
        if (!l->newest) return 1;
        memmove(l->ids, l->ids + 1, (EF_SLA_QUERY_MAX - 1) * sizeof l->ids[0]);
        l->n--;
    }
    l->ids[l->n++] = ef_get_u64be(key + key_len - 8);
    return 0;
}

/* The SLAs whose index keys start with pre, as JSON. */
static int ef_sla_list(ef_ctx *ctx, const uint8_t *pre, size_t pre_len, bool offers, bool newest, json_t **out)
{
    struct ef_sla_ids *l = calloc(1, sizeof *l);
    ef_sla_rec *s = malloc(sizeof *s);
    json_t *arr = json_array();
    int rc = l && s && arr ? 0 : EF_ENOMEM;
    if (rc == 0) {
        l->newest = newest;
        rc = ef_ctx_scan(ctx, pre, pre_len, ef_sla_ids_fn, l);
    }
    for (size_t i = 0; rc == 0 && i < l->n; i++) {
        ef_sla_offer_rec o;
        if (offers && (rc = ef_sla_offer_get(ctx, l->ids[i], &o)) == 0)
            json_array_append_new(arr, ef_sla_offer_json(&o));
        if (!offers && (rc = ef_sla_get(ctx, l->ids[i], s)) == 0)
            json_array_append_new(arr, ef_sla_json(s, !newest));
    }
    free(l);
    free(s);
    if (rc) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return 0;
}

static int ef_sla_parse_id(const char *s, uint64_t *id, const char **rest)
{
    char *end;
    if (*s < '0' || *s > '9') return EF_EINVAL;
    *id = strtoull(s, &end, 10);
    if (rest) *rest = end;
    else if (*end) return EF_EINVAL;
    return 0;
}

static int ef_sla_q_sla(ef_ctx *ctx, const char *p, json_t **out)
{
    uint64_t id;
    if (ef_sla_parse_id(p, &id, NULL)) return EF_EINVAL;
    ef_sla_rec *s = malloc(sizeof *s);
    if (!s) return EF_ENOMEM;
    int rc = ef_sla_get(ctx, id, s);
    if (rc == 0) *out = ef_sla_json(s, true);
    free(s);
    return rc ? rc : *out ? 0 : EF_ENOMEM;
}

static int ef_sla_q_offer(ef_ctx *ctx, const char *p, json_t **out)
{
    uint64_t id;
    ef_sla_offer_rec o;
    if (ef_sla_parse_id(p, &id, NULL)) return EF_EINVAL;
    int rc = ef_sla_offer_get(ctx, id, &o);
    if (rc) return rc;
    *out = ef_sla_offer_json(&o);
    return *out ? 0 : EF_ENOMEM;
}

static int ef_sla_q_bond(ef_ctx *ctx, const char *p, json_t **out)
{
    ef_pub op;
    ef_sla_bond b;
    if (strlen(p) != 2 * EF_PUB_SIZE || ef_unhex(op.b, EF_PUB_SIZE, p)) return EF_EINVAL;
    int rc = ef_sla_bond_get(ctx, &op, &b);
    if (rc) return rc;
    *out = json_pack("{s:o, s:I, s:I}", "operator", ef_sla_pub_json(&op), "bond", (json_int_t)b.bond, "reserved",
                     (json_int_t)b.reserved);
    if (*out && b.has_controller) json_object_set_new(*out, "controller", ef_sla_pub_json(&b.controller));
    return *out ? 0 : EF_ENOMEM;
}

struct ef_sla_votes {
    json_t *votes;
};

static int ef_sla_votes_fn(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    struct ef_sla_votes *v = arg;
    if (key_len != 17 + EF_PUB_SIZE || val_len != 1) return EF_EDB;
    ef_pub who;
    char hex[2 * EF_PUB_SIZE + 1];
    memcpy(who.b, key + 17, EF_PUB_SIZE);
    ef_hex(hex, who.b, EF_PUB_SIZE);
    json_object_set_new(v->votes, hex, json_integer(val[0]));
    return 0;
}

static int ef_sla_epoch_detail(ef_ctx *ctx, const ef_sla_rec *s, uint64_t e, json_t *j)
{
    ef_sla_dispute d;
    int rc = ef_sla_dispute_get(ctx, s->id, e, &d);
    if (rc == EF_ENOTFOUND) return 0;
    if (rc) return rc;
    json_object_set_new(j, "operator_verdict", json_integer(d.op_verdict));
    json_object_set_new(j, "contradict_until", json_integer((json_int_t)d.contradict_until));
    if (s->st[e] == EF_EP_CONTESTED || s->st[e] == EF_EP_RULED)
        json_object_set_new(j, "customer_verdict", json_integer(d.cust_verdict));
    struct ef_sla_votes v = {json_object()};
    uint8_t pre[17];
    ef_sla_key_ep(pre, 'v', s->id, e, NULL);
    rc = v.votes ? ef_ctx_scan(ctx, pre, sizeof pre, ef_sla_votes_fn, &v) : EF_ENOMEM;
    json_object_set_new(j, "votes", v.votes ? v.votes : json_null());
    return rc;
}

static int ef_sla_q_epoch(ef_ctx *ctx, const char *p, json_t **out)
{
    uint64_t id, e;
    const char *rest;
    if (ef_sla_parse_id(p, &id, &rest) || *rest != '/' || ef_sla_parse_id(rest + 1, &e, NULL)) return EF_EINVAL;
    ef_sla_rec *s = malloc(sizeof *s);
    if (!s) return EF_ENOMEM;
    int rc = ef_sla_get(ctx, id, s);
    if (rc == 0 && e >= s->epochs) rc = EF_ENOTFOUND;
    json_t *j = NULL;
    if (rc == 0) {
        j = json_pack("{s:I, s:I, s:s, s:I}", "sla", (json_int_t)id, "epoch", (json_int_t)e, "status",
                      ef_sla_epoch_name(s->st[e], s->vd[e]), "verdict", (json_int_t)s->vd[e]);
        rc = j ? ef_sla_epoch_detail(ctx, s, e, j) : EF_ENOMEM;
    }
    free(s);
    if (rc) json_decref(j);
    else *out = j;
    return rc;
}

static int ef_sla_q_party(ef_ctx *ctx, char pre_c, const char *p, json_t **out)
{
    uint8_t pre[1 + EF_PUB_SIZE];
    pre[0] = (uint8_t)pre_c;
    if (strlen(p) != 2 * EF_PUB_SIZE || ef_unhex(pre + 1, EF_PUB_SIZE, p)) return EF_EINVAL;
    return ef_sla_list(ctx, pre, sizeof pre, false, false, out);
}

int ef_sla_query(ef_ctx *ctx, const char *path, json_t **out)
{
    *out = NULL;
    if (!strncmp(path, "sla/", 4)) return ef_sla_q_sla(ctx, path + 4, out);
    if (!strncmp(path, "offer/", 6)) return ef_sla_q_offer(ctx, path + 6, out);
    if (!strncmp(path, "topology/", 9)) return ef_sla_q_topology(ctx, path + 9, out);
    if (!strncmp(path, "bond/", 5)) return ef_sla_q_bond(ctx, path + 5, out);
    if (!strncmp(path, "epoch/", 6)) return ef_sla_q_epoch(ctx, path + 6, out);
    if (!strncmp(path, "operator/", 9)) return ef_sla_q_party(ctx, 'p', path + 9, out);
    if (!strncmp(path, "customer/", 9)) return ef_sla_q_party(ctx, 'q', path + 9, out);
    if (!strcmp(path, "offers")) return ef_sla_list(ctx, (const uint8_t *)"O", 1, true, false, out);
    if (!strcmp(path, "slas")) return ef_sla_list(ctx, (const uint8_t *)"S", 1, false, false, out);
    if (!strcmp(path, "all")) return ef_sla_list(ctx, (const uint8_t *)"s", 1, false, true, out);
    return EF_ENOTFOUND;
}
