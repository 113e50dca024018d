/* ef_channel.c: uni-directional payment channels with vouchers (see ef_channel.h). */
#include "contracts/ef_channel.h"

#include <stdlib.h>
#include <string.h>

#include "base/ef_codec.h"
#include "base/ef_voucher.h"
#include "contracts/ef_bank.h"
#include "contracts/ef_market.h"

/* State (namespace "channel"):
 *   "P"                 u64 challenge_blocks
 *   "N"                 u64 next channel id (from 1)
 *   "c" id8             channel record (below)
 *   "o" id8             "" : channel not yet closed
 *   "p" payer32 id8     "" ; "q" payee32 id8  ""
 * Channel record: u64 id, raw32 payer, raw32 payee, u64 escrow, u64 deposit,
 *   u64 redeemed, u64 refunded, u64 nonce, u64 expiry, u8 state, u64 close_at,
 *   u64 opened, u64 closed */

#define EF_CH_NAME "channel"

enum { EF_CH_OPEN = 1, EF_CH_CLOSING = 2, EF_CH_CLOSED = 3 };
static const char *const ef_ch_state_names[] = {"?", "open", "closing", "closed"};

typedef struct ef_chan {
    uint64_t id;
    ef_pub payer, payee;
    uint64_t escrow, deposit, redeemed, refunded, nonce, expiry;
    uint8_t state;
    uint64_t close_at, opened, closed;
    uint64_t match;          /* the market match this channel pays for, 0 = none */
} ef_chan;

static json_t *ef_pub_json(const ef_pub *p)
{
    char hex[2 * EF_PUB_SIZE + 1];
    ef_hex(hex, p->b, EF_PUB_SIZE);
    return json_string(hex);
}

static int ef_ch_challenge(ef_ctx *ctx, uint64_t *out)
{
    const uint8_t *v;
    size_t n;
    *out = EF_CH_CHALLENGE_DEFAULT;
    int rc = ef_ctx_get(ctx, "P", 1, &v, &n);
    if (rc == EF_ENOTFOUND) return 0;
    if (rc) return rc;
    if (n != 8) return EF_EDB;
    *out = ef_get_u64le(v);
    return 0;
}

static int ef_ch_get(ef_ctx *ctx, uint64_t id, ef_chan *c)
{
    uint8_t k[9];
    const uint8_t *v;
    size_t n;
    memset(c, 0, sizeof *c);
    k[0] = 'c';
    ef_put_u64be(k + 1, id);
    int rc = ef_ctx_get(ctx, k, sizeof k, &v, &n);
    if (rc) return rc;
    ef_rd r;
    ef_rd_init(&r, v, n);
    ef_rd_u64(&r, &c->id);
    ef_rd_raw(&r, c->payer.b, EF_PUB_SIZE);
    ef_rd_raw(&r, c->payee.b, EF_PUB_SIZE);
    ef_rd_u64(&r, &c->escrow);
    ef_rd_u64(&r, &c->deposit);
    ef_rd_u64(&r, &c->redeemed);
    ef_rd_u64(&r, &c->refunded);
    ef_rd_u64(&r, &c->nonce);
    ef_rd_u64(&r, &c->expiry);
    ef_rd_u8(&r, &c->state);
    ef_rd_u64(&r, &c->close_at);
    ef_rd_u64(&r, &c->opened);
    ef_rd_u64(&r, &c->closed);
    ef_rd_u64(&r, &c->match);
    return ef_rd_finish(&r) || c->state < 1 || c->state > 3 ? EF_EDB : 0;
}

static int ef_ch_put(ef_ctx *ctx, const ef_chan *c)
{
    uint8_t k[9];
    ef_wr w;
    k[0] = 'c';
    ef_put_u64be(k + 1, c->id);
    ef_wr_init(&w);
    ef_wr_u64(&w, c->id);
    ef_wr_raw(&w, c->payer.b, EF_PUB_SIZE);
    ef_wr_raw(&w, c->payee.b, EF_PUB_SIZE);
    ef_wr_u64(&w, c->escrow);
    ef_wr_u64(&w, c->deposit);
    ef_wr_u64(&w, c->redeemed);
    ef_wr_u64(&w, c->refunded);
    ef_wr_u64(&w, c->nonce);
    ef_wr_u64(&w, c->expiry);
    ef_wr_u8(&w, c->state);
    ef_wr_u64(&w, c->close_at);
    ef_wr_u64(&w, c->opened);
    ef_wr_u64(&w, c->closed);
    ef_wr_u64(&w, c->match);
    int rc = w.err ? w.err : ef_ctx_put(ctx, k, sizeof k, w.buf, w.len);
    ef_wr_free(&w);
    if (rc) return rc;
    k[0] = 'o';
    return c->state == EF_CH_CLOSED ? ef_ctx_del(ctx, k, sizeof k) : ef_ctx_put(ctx, k, sizeof k, "", 0);
}

static json_t *ef_ch_json(const ef_chan *c)
{
    json_t *j = json_pack("{s:I, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:I}", "channel", (json_int_t)c->id,
                          "payer", ef_pub_json(&c->payer), "payee", ef_pub_json(&c->payee), "deposit",
                          (json_int_t)c->deposit, "redeemed", (json_int_t)c->redeemed, "refunded",
                          (json_int_t)c->refunded, "left", (json_int_t)(c->deposit - c->redeemed - c->refunded),
                          "nonce", (json_int_t)c->nonce, "expiry", (json_int_t)c->expiry, "state",
                          ef_ch_state_names[c->state], "opened", (json_int_t)c->opened);
    if (j) json_object_set_new(j, "escrow", json_integer((json_int_t)c->escrow));
    if (j && c->state != EF_CH_OPEN) json_object_set_new(j, "close_at", json_integer((json_int_t)c->close_at));
    if (j && c->state == EF_CH_CLOSED) json_object_set_new(j, "closed", json_integer((json_int_t)c->closed));
    if (j && c->match) json_object_set_new(j, "match", json_integer((json_int_t)c->match));
    return j;
}

static int ef_ch_emit(ef_ctx *ctx, const char *name, json_t *ev)
{
    int rc = ev ? ef_ctx_emit(ctx, name, ev) : EF_ENOMEM;
    json_decref(ev);
    return rc;
}

/* The height from which redeem stops and settle is allowed. */
static uint64_t ef_ch_end(const ef_chan *c)
{
    return c->state == EF_CH_CLOSING ? c->close_at : c->expiry;
}

static int ef_ch_load_arg(ef_ctx *ctx, const json_t *args, ef_chan *c)
{
    uint64_t id;
    if (ef_args_u64(args, "channel", &id)) return EF_EARGS;
    return ef_ch_get(ctx, id, c);
}

/* Pays the rest to the payer and closes. */
static int ef_ch_close(ef_ctx *ctx, ef_chan *c, const char *how)
{
    uint64_t rest = c->deposit - c->redeemed - c->refunded;
    int rc;
    if (rest && (rc = ef_bank_escrow_release(ctx, c->escrow, &c->payer, rest))) return rc;
    c->refunded += rest;
    c->state = EF_CH_CLOSED;
    c->closed = ef_ctx_height(ctx);
    if ((rc = ef_ch_put(ctx, c))) return rc;
    if (c->match && (rc = ef_market_session_end(ctx, c->match))) return rc;   /* the session ends with it */
    return ef_ch_emit(ctx, "channel_closed",
                      json_pack("{s:I, s:o, s:o, s:I, s:I, s:s}", "channel", (json_int_t)c->id, "payer",
                                ef_pub_json(&c->payer), "payee", ef_pub_json(&c->payee), "redeemed",
                                (json_int_t)c->redeemed, "refunded", (json_int_t)c->refunded, "how", how));
}

/* A channel for a match: its payer is the match's device, its payee the EN's
 * company, and the match is active (EF_ENOTFOUND, EF_EPERM, EF_ESTATE). */
static int ef_ch_check_match(ef_ctx *ctx, const ef_chan *c)
{
    ef_pub device, company;
    bool active;
    int rc = ef_market_session(ctx, c->match, &device, &company, &active);
    if (rc) return rc;
    if (memcmp(device.b, c->payer.b, EF_PUB_SIZE) || memcmp(company.b, c->payee.b, EF_PUB_SIZE)) return EF_EPERM;
    return active ? 0 : EF_ESTATE;
}

static int ef_ch_m_open(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"payee", "amount", "expiry", "match", NULL};
    ef_chan c;
    memset(&c, 0, sizeof c);
    if (ef_args_only(args, f) || ef_args_pub(args, "payee", &c.payee) ||
        ef_args_u64(args, "amount", &c.deposit) || c.deposit == 0 || ef_args_u64(args, "expiry", &c.expiry) ||
        (json_object_get(args, "match") && (ef_args_u64(args, "match", &c.match) || c.match == 0)))
        return EF_EARGS;
    uint64_t h = ef_ctx_height(ctx);
    c.payer = *ef_ctx_sender(ctx);
    if (!memcmp(c.payer.b, c.payee.b, EF_PUB_SIZE)) return EF_EINVAL;
    if (c.expiry <= h || c.expiry - h > EF_CH_TTL_MAX) return EF_EINVAL;
    int rc;
    if (c.match && (rc = ef_ch_check_match(ctx, &c))) return rc;
    const uint8_t *v;
    size_t n;
    uint64_t id = 1;
    rc = ef_ctx_get(ctx, "N", 1, &v, &n);
    if (rc == 0 && n == 8) id = ef_get_u64le(v);
    else if (rc != EF_ENOTFOUND) return rc ? rc : EF_EDB;
    uint8_t nb[8];
    ef_put_u64le(nb, id + 1);
    if ((rc = ef_ctx_put(ctx, "N", 1, nb, 8))) return rc;
    if ((rc = ef_bank_escrow_lock(ctx, c.deposit, &c.escrow))) return rc;
    c.id = id;
    c.state = EF_CH_OPEN;
    c.opened = h;
    if ((rc = ef_ch_put(ctx, &c))) return rc;
    uint8_t k[1 + EF_PUB_SIZE + 8];
    k[0] = 'p';
    memcpy(k + 1, c.payer.b, EF_PUB_SIZE);
    ef_put_u64be(k + 1 + EF_PUB_SIZE, id);
    if ((rc = ef_ctx_put(ctx, k, sizeof k, "", 0))) return rc;
    k[0] = 'q';
    memcpy(k + 1, c.payee.b, EF_PUB_SIZE);
    if ((rc = ef_ctx_put(ctx, k, sizeof k, "", 0))) return rc;
    return ef_ch_emit(ctx, "channel_open", ef_ch_json(&c));
}

static int ef_ch_m_top_up(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"channel", "amount", "expiry", NULL};
    ef_chan c;
    uint64_t amount, expiry = 0;
    if (ef_args_only(args, f) || ef_args_u64(args, "amount", &amount) || amount == 0 ||
        (json_object_get(args, "expiry") && ef_args_u64(args, "expiry", &expiry)))
        return EF_EARGS;
    int rc = ef_ch_load_arg(ctx, args, &c);
    if (rc) return rc;
    if (memcmp(c.payer.b, ef_ctx_sender(ctx)->b, EF_PUB_SIZE)) return EF_EPERM;
    if (c.state != EF_CH_OPEN) return EF_ESTATE;
    uint64_t h = ef_ctx_height(ctx);
    if (h >= c.expiry) return EF_ELATE;
    if (expiry && (expiry < c.expiry || expiry - h > EF_CH_TTL_MAX)) return EF_EINVAL;
    if (c.deposit > (uint64_t)INT64_MAX - amount) return EF_EOVERFLOW;
    if ((rc = ef_bank_escrow_add(ctx, c.escrow, amount))) return rc;
    c.deposit += amount;
    if (expiry) c.expiry = expiry;
    if ((rc = ef_ch_put(ctx, &c))) return rc;
    return ef_ch_emit(ctx, "channel_top_up", json_pack("{s:I, s:I, s:I, s:I}", "channel", (json_int_t)c.id,
                                                       "amount", (json_int_t)amount, "deposit",
                                                       (json_int_t)c.deposit, "expiry", (json_int_t)c.expiry));
}

static int ef_ch_m_redeem(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"channel", "voucher", "close", NULL};
    ef_chan c;
    ef_voucher v;
    const char *hex;
    json_t *close_j = json_object_get(args, "close");
    if (ef_args_only(args, f) || ef_args_str(args, "voucher", &hex, 2 * EF_VOUCHER_ENC_MAX) ||
        (close_j && !json_is_boolean(close_j)))
        return EF_EARGS;
    bool close = close_j && json_is_true(close_j);
    int rc = ef_ch_load_arg(ctx, args, &c);
    if (rc) return rc;
    if (memcmp(c.payee.b, ef_ctx_sender(ctx)->b, EF_PUB_SIZE)) return EF_EPERM;
    if (c.state == EF_CH_CLOSED) return EF_ESTATE;
    if (ef_ctx_height(ctx) >= ef_ch_end(&c)) return EF_ELATE;
    rc = ef_voucher_decode_hex(&v, hex);
    if (rc == EF_EPROTO || rc == EF_EOVERFLOW) return rc;
    if (rc) return EF_EARGS;
    if (strcmp(v.chain_id, ef_ctx_chain_id(ctx))) return EF_ECHAIN;
    if (v.channel != c.id) return EF_EINVAL;
    if ((rc = ef_voucher_verify(&v, &c.payer))) return rc;   /* EF_EPERM other key, EF_EBADSIG */
    if (v.nonce <= c.nonce || v.amount < c.redeemed) return EF_ENONCE;
    if (v.amount > c.deposit - c.refunded) return EF_EFUNDS;
    uint64_t pay = v.amount - c.redeemed;
    if (pay && (rc = ef_bank_escrow_release(ctx, c.escrow, &c.payee, pay))) return rc;
    c.redeemed = v.amount;
    c.nonce = v.nonce;
    if ((rc = ef_ch_put(ctx, &c))) return rc;
    rc = ef_ch_emit(ctx, "channel_redeem",
                    json_pack("{s:I, s:o, s:I, s:I, s:I, s:I}", "channel", (json_int_t)c.id, "payee",
                              ef_pub_json(&c.payee), "nonce", (json_int_t)v.nonce, "amount", (json_int_t)v.amount,
                              "paid", (json_int_t)pay, "left",
                              (json_int_t)(c.deposit - c.redeemed - c.refunded)));
    if (rc == 0 && close) rc = ef_ch_close(ctx, &c, "payee");
    return rc;
}

static int ef_ch_m_start_close(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"channel", NULL};
    ef_chan c;
    uint64_t window;
    if (ef_args_only(args, f)) return EF_EARGS;
    int rc = ef_ch_load_arg(ctx, args, &c);
    if (rc) return rc;
    if (memcmp(c.payer.b, ef_ctx_sender(ctx)->b, EF_PUB_SIZE)) return EF_EPERM;
    if (c.state != EF_CH_OPEN) return EF_ESTATE;
    uint64_t h = ef_ctx_height(ctx);
    if (h >= c.expiry) return EF_ELATE;   /* past expiry: settle refunds already */
    if ((rc = ef_ch_challenge(ctx, &window))) return rc;
    c.state = EF_CH_CLOSING;
    c.close_at = h + window;
    if ((rc = ef_ch_put(ctx, &c))) return rc;
    return ef_ch_emit(ctx, "channel_closing",
                      json_pack("{s:I, s:o, s:o, s:I, s:I, s:I}", "channel", (json_int_t)c.id, "payer",
                                ef_pub_json(&c.payer), "payee", ef_pub_json(&c.payee), "close_at",
                                (json_int_t)c.close_at, "redeemed", (json_int_t)c.redeemed, "nonce",
                                (json_int_t)c.nonce));
}

static int ef_ch_m_settle(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"channel", NULL};
    ef_chan c;
    if (ef_args_only(args, f)) return EF_EARGS;
    int rc = ef_ch_load_arg(ctx, args, &c);
    if (rc) return rc;
    if (c.state == EF_CH_CLOSED) return EF_ESTATE;
    if (ef_ctx_height(ctx) < ef_ch_end(&c)) return EF_EAGAIN;
    return ef_ch_close(ctx, &c, c.state == EF_CH_CLOSING ? "challenge_over" : "expired");
}

static const ef_method ef_channel_methods[] = {
    {"open", ef_ch_m_open},
    {"top_up", ef_ch_m_top_up},
    {"redeem", ef_ch_m_redeem},
    {"start_close", ef_ch_m_start_close},
    {"settle", ef_ch_m_settle},
};

static int ef_channel_genesis(ef_ctx *ctx, const json_t *params)
{
    static const char *const f[] = {"challenge_blocks", NULL};
    uint64_t w;
    if (!params) return 0;
    if (ef_args_only(params, f)) return EF_ECONFIG;
    if (!json_object_get(params, "challenge_blocks")) return 0;
    if (ef_args_u64(params, "challenge_blocks", &w) || w == 0 || w > EF_CH_TTL_MAX) return EF_ECONFIG;
    uint8_t b[8];
    ef_put_u64le(b, w);
    return ef_ctx_put(ctx, "P", 1, b, 8);
}

struct ef_ch_list {
    ef_ctx *ctx;
    uint64_t ids[EF_CH_QUERY_MAX];
    size_t n;
};

static int ef_ch_list_fn(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    struct ef_ch_list *l = arg;
    (void)val;
    (void)val_len;
    if (key_len < 9) return EF_EDB;
    if (l->n == EF_CH_QUERY_MAX) return 1;
    l->ids[l->n++] = ef_get_u64be(key + key_len - 8);
    return 0;
}

static int ef_ch_list(ef_ctx *ctx, const uint8_t *pre, size_t pre_len, json_t **out)
{
    struct ef_ch_list *l = calloc(1, sizeof *l);
    if (!l) return EF_ENOMEM;
    int rc = ef_ctx_scan(ctx, pre, pre_len, ef_ch_list_fn, l);
    json_t *arr = json_array();
    for (size_t i = 0; rc == 0 && arr && i < l->n; i++) {
        ef_chan c;
        if ((rc = ef_ch_get(ctx, l->ids[i], &c)) == 0) json_array_append_new(arr, ef_ch_json(&c));
    }
    free(l);
    if (rc || !arr) {
        json_decref(arr);
        return rc ? rc : EF_ENOMEM;
    }
    *out = arr;
    return 0;
}

static int ef_channel_query(ef_ctx *ctx, const char *path, json_t **out)
{
    *out = NULL;
    if (!strcmp(path, "params")) {
        uint64_t w;
        int rc = ef_ch_challenge(ctx, &w);
        if (rc) return rc;
        *out = json_pack("{s:I, s:I}", "challenge_blocks", (json_int_t)w, "ttl_max", (json_int_t)EF_CH_TTL_MAX);
        return *out ? 0 : EF_ENOMEM;
    }
    if (!strncmp(path, "channel/", 8)) {
        char *end;
        ef_chan c;
        if (path[8] < '0' || path[8] > '9') return EF_EINVAL;
        uint64_t id = strtoull(path + 8, &end, 10);
        if (*end) return EF_EINVAL;
        int rc = ef_ch_get(ctx, id, &c);
        if (rc) return rc;
        *out = ef_ch_json(&c);
        return *out ? 0 : EF_ENOMEM;
    }
    if (!strcmp(path, "channels")) return ef_ch_list(ctx, (const uint8_t *)"o", 1, out);
    if (!strncmp(path, "payer/", 6) || !strncmp(path, "payee/", 6)) {
        uint8_t pre[1 + EF_PUB_SIZE];
        pre[0] = path[4] == 'r' ? 'p' : 'q';
        if (ef_unhex(pre + 1, EF_PUB_SIZE, path + 6)) return EF_EINVAL;
        return ef_ch_list(ctx, pre, sizeof pre, out);
    }
    return EF_ENOTFOUND;
}

const ef_contract ef_channel_contract = {
    .name = EF_CH_NAME,
    .methods = ef_channel_methods,
    .methods_len = EF_ARRAY_LEN(ef_channel_methods),
    .query = ef_channel_query,
    .genesis = ef_channel_genesis,
};
