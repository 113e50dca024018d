/* ef_api_store.c: JSON views of blocks, transactions, accounts and status read
 * from the ledger store, and the read-only store backend. */
#include "api/ef_api_store.h"

#include <stdlib.h>
#include <string.h>

#include "base/ef_codec.h"
#include "ledger/ef_cert.h"
#include "ledger/ef_proof.h"
#include "ledger/ef_block.h"
#include "ledger/ef_vset.h"

static void ef_api_hex_set(json_t *o, const char *k, const void *p, size_t n)
{
    char hex[2 * 64 + 1];
    EF_ASSERT(n <= 64);
    ef_hex(hex, p, n);
    json_object_set_new(o, k, json_string(hex));
}

/* result, code and events of a committed tx into o. */
static int ef_api_result_set(json_t *o, const ef_tx_loc *loc)
{
    json_object_set_new(o, "height", json_integer((json_int_t)loc->height));
    json_object_set_new(o, "index", json_integer((json_int_t)loc->index));
    json_object_set_new(o, "result", json_integer(loc->code));
    json_object_set_new(o, "code", json_string(ef_errname(loc->code)));
    json_t *ev = loc->events_json ? json_loads(loc->events_json, 0, NULL) : NULL;
    json_object_set_new(o, "events", ev ? ev : json_array());
    return 0;
}

/* The signers of block height's certificate, as a JSON array of keys (and its round). */
static json_t *ef_api_signers(ef_store *s, uint64_t height, int64_t *round)
{
    json_t *arr = json_array();
    uint8_t *cert = NULL;
    size_t len = 0;
    *round = -1;
    if (!arr || height == 0 || ef_store_cert(s, height, &cert, &len)) return arr;
    ef_cert *c = malloc(sizeof *c);
    ef_vset *vs = malloc(sizeof *vs);
    if (c && vs && len && ef_cert_decode(c, cert, len) == 0 && ef_store_vset(s, height, vs) == 0) {
        *round = c->round;
        for (uint16_t i = 0; i < c->count; i++) {
            if (c->sigs[i].index >= vs->len) continue;
            char hex[2 * EF_PUB_SIZE + 1];
            ef_hex(hex, vs->v[c->sigs[i].index].pub.b, EF_PUB_SIZE);
            json_array_append_new(arr, json_string(hex));
        }
    }
    free(c);
    free(vs);
    free(cert);
    return arr;
}

int ef_api_store_block(ef_store *s, uint64_t height, bool full, json_t **out)
{
    *out = NULL;
    uint8_t *enc = NULL;
    size_t len = 0;
    ef_block b = {0};
    int rc = ef_store_block(s, height, &enc, &len);
    if (rc) return rc;
    uint32_t count = 0;
    if (full) {
        rc = ef_block_decode(&b, enc, len);
        count = b.txs_len;
    } else {                   /* a summary needs the header and the count only */
        ef_rd r;
        ef_rd_init(&r, enc, len);
        rc = ef_block_header_decode_rd(&r, &b.hdr);
        if (rc == 0) rc = ef_rd_u32(&r, &count);
    }
    if (rc) goto out;
    json_t *o = ef_block_header_to_json(&b.hdr);
    if (!o) { rc = EF_ENOMEM; goto out; }
    int64_t round;
    json_object_set_new(o, "signers", ef_api_signers(s, height, &round));
    json_object_set_new(o, "round", round >= 0 ? json_integer(round) : json_null());
    if (!full) {
        json_object_set_new(o, "txs", json_integer(count));
    } else {
        json_t *txs = json_array();
        for (uint32_t i = 0; i < b.txs_len && txs; i++) {
            json_t *t = ef_tx_to_json(&b.txs[i].tx);
            if (!t) { rc = EF_ENOMEM; break; }
            ef_api_hex_set(t, "hash", b.txs[i].hash.b, EF_HASH_SIZE);
            json_object_del(t, "chain_id");
            ef_tx_loc loc = {.height = height, .index = i};
            if (ef_store_result(s, height, i, &loc.code, &loc.events_json) == 0) {
                ef_api_result_set(t, &loc);
                json_object_del(t, "height");
            }
            free(loc.events_json);
            json_array_append_new(txs, t);
        }
        if (!txs) rc = EF_ENOMEM;
        json_object_set_new(o, "txs", txs ? txs : json_array());
    }
    if (rc) json_decref(o);
    else *out = o;
out:
    ef_block_free(&b);
    free(enc);
    return rc;
}

/* Finds the index-th transaction of an encoded block without decoding the others
 * (a lookup should not cost a whole block's decoding and hashing): reads the
 * header, skips index length-prefixed encodings, decodes the one. *tx borrows
 * from p. Returns 0 or a decoding error. */
static int ef_api_block_tx_at(const uint8_t *p, size_t n, uint32_t index, ef_block_header *hdr,
                              ef_tx *tx, const uint8_t **enc, size_t *enc_len)
{
    ef_rd r;
    uint32_t count;
    ef_rd_init(&r, p, n);
    int rc = ef_block_header_decode_rd(&r, hdr);
    if (rc == 0) rc = ef_rd_u32(&r, &count);
    if (rc) return rc;
    if (index >= count) return EF_EDB;
    for (uint32_t i = 0; i <= index; i++) {
        rc = ef_rd_bytes(&r, enc, enc_len, EF_TX_ENC_MAX);
        if (rc) return rc;
    }
    return ef_tx_decode(tx, *enc, *enc_len);
}

int ef_api_store_tx(ef_store *s, const ef_hash *hash, json_t **out)
{
    *out = NULL;
    ef_tx_loc loc = {0};
    uint8_t *blk = NULL;
    size_t len = 0;
    int rc = ef_store_tx_lookup(s, hash, &loc);
    if (rc) return rc;
    rc = ef_store_block(s, loc.height, &blk, &len);
    if (rc) goto out;
    ef_block_header hdr;
    ef_tx tx;
    const uint8_t *enc;
    size_t enc_len;
    rc = ef_api_block_tx_at(blk, len, loc.index, &hdr, &tx, &enc, &enc_len);
    if (rc) goto out;
    ef_hash th;
    ef_tx_hash_enc(&th, enc, enc_len);
    if (!ef_hash_eq(&th, hash)) {
        rc = EF_EDB;          /* the index disagrees with the block */
        goto out;
    }
    json_t *t = ef_tx_to_json(&tx);
    if (!t) { rc = EF_ENOMEM; goto out; }
    ef_api_hex_set(t, "hash", hash->b, EF_HASH_SIZE);
    ef_api_result_set(t, &loc);
    ef_hash bh;
    ef_block_header_hash(&bh, &hdr);
    ef_api_hex_set(t, "block_hash", bh.b, EF_HASH_SIZE);
    json_object_set_new(t, "time_ms", json_integer((json_int_t)hdr.time_ms));
    *out = t;
out:
    free(blk);
    free(loc.events_json);
    return rc;
}

/* Copies role, domain and name of the registry's account record into o. */
static void ef_api_registry_set(ef_store *s, const char *hex, json_t *o)
{
    char path[16 + 2 * EF_PUB_SIZE];
    json_t *acc = NULL;
    snprintf(path, sizeof path, "account/%s", hex);
    if (ef_store_query(s, "registry", path, &acc) || !json_is_object(acc)) {
        json_decref(acc);
        json_object_set_new(o, "role", json_string("none"));
        return;
    }
    static const char *const fields[] = {"role", "domain", "name"};
    for (size_t i = 0; i < EF_ARRAY_LEN(fields); i++) {
        json_t *v = json_object_get(acc, fields[i]);
        if (v) json_object_set(o, fields[i], v);
    }
    if (!json_object_get(o, "role")) json_object_set_new(o, "role", json_string("member"));
    json_decref(acc);
}

int ef_api_store_account(ef_store *s, const ef_pub *pub, json_t **out)
{
    *out = NULL;
    char hex[2 * EF_PUB_SIZE + 1], path[16 + 2 * EF_PUB_SIZE];
    ef_hex(hex, pub->b, EF_PUB_SIZE);
    uint64_t nonce = 0;
    int rc = ef_store_nonce(s, pub, &nonce);
    if (rc) return rc;
    json_t *o = json_pack("{s:s, s:I}", "key", hex, "nonce", (json_int_t)nonce);
    if (!o) return EF_ENOMEM;
    json_t *bal = NULL;
    snprintf(path, sizeof path, "balance/%s", hex);
    uint64_t balance = 0;
    if (ef_store_query(s, "bank", path, &bal) == 0) {
        json_t *v = json_is_object(bal) ? json_object_get(bal, "balance") : bal;
        if (json_is_integer(v)) balance = (uint64_t)json_integer_value(v);
    }
    json_decref(bal);
    json_object_set_new(o, "balance", json_integer((json_int_t)balance));
    ef_api_registry_set(s, hex, o);
    *out = o;
    return 0;
}

bool ef_api_store_is_member(ef_store *s, const ef_pub *pub, const char *domain)
{
    char hex[2 * EF_PUB_SIZE + 1], path[16 + 2 * EF_PUB_SIZE];
    ef_hex(hex, pub->b, EF_PUB_SIZE);
    snprintf(path, sizeof path, "account/%s", hex);
    json_t *acc = NULL;
    int rc = ef_store_query(s, "registry", path, &acc);
    bool member = rc == 0 && acc && !json_is_null(acc);
    if (member && json_is_object(acc)) {
        const char *role = json_string_value(json_object_get(acc, "role"));
        if (role && !strcmp(role, "none")) member = false;
        const char *dom = json_string_value(json_object_get(acc, "domain"));
        if (domain && (!dom || strcmp(dom, domain))) member = false;
    } else if (domain) {
        member = false;
    }
    json_decref(acc);
    return member;
}

int ef_api_store_status(ef_store *s, json_t **out)
{
    *out = NULL;
    ef_store_info info;
    int rc = ef_store_info_get(s, &info);
    if (rc) return rc;
    if (!info.initialised) return EF_ENOTFOUND;
    char lh[2 * EF_HASH_SIZE + 1], gh[2 * EF_HASH_SIZE + 1], sh[2 * EF_HASH_SIZE + 1];
    ef_hex(lh, info.last_hash.b, EF_HASH_SIZE);
    ef_hex(gh, info.genesis_hash.b, EF_HASH_SIZE);
    ef_hex(sh, info.state_hash.b, EF_HASH_SIZE);
    json_t *o = json_pack("{s:s, s:I, s:s, s:I, s:s, s:s}", "chain_id", info.chain_id,
                          "height", (json_int_t)info.height, "last_hash", lh,
                          "last_time_ms", (json_int_t)info.last_time_ms, "genesis_hash", gh,
                          "state_hash", sh);
    if (!o) return EF_ENOMEM;
    json_t *vals = json_array();
    ef_vset *vs = malloc(sizeof *vs);
    int64_t round;
    json_t *signers = ef_api_signers(s, info.height, &round);
    bool have_cert = round >= 0;   /* else signed_last is unknown and left out */
    if (vs && ef_store_vset(s, info.height + 1, vs) == 0) {
        for (uint32_t i = 0; i < vs->len; i++) {
            char hex[2 * EF_PUB_SIZE + 1];
            ef_hex(hex, vs->v[i].pub.b, EF_PUB_SIZE);
            json_t *v = json_pack("{s:s, s:I}", "key", hex, "power", (json_int_t)vs->v[i].power);
            if (!v) continue;
            ef_api_registry_set(s, hex, v);
            bool signed_last = false;
            size_t k;
            json_t *sg;
            json_array_foreach(signers, k, sg)
                if (!strcmp(json_string_value(sg), hex)) signed_last = true;
            if (have_cert) json_object_set_new(v, "signed_last", json_boolean(signed_last));
            json_array_append_new(vals, v);
        }
    }
    json_decref(signers);
    free(vs);
    json_object_set_new(o, "validators", vals ? vals : json_array());
    *out = o;
    return 0;
}

/* --- the read-only backend --- */

static uint64_t ef_sb_height(void *ctx) { return ef_store_height(ctx); }
static int ef_sb_status(void *ctx, json_t **out) { return ef_api_store_status(ctx, out); }
static int ef_sb_block(void *ctx, uint64_t h, bool full, json_t **out)
{
    return ef_api_store_block(ctx, h, full, out);
}
static int ef_sb_tx(void *ctx, const ef_hash *h, json_t **out) { return ef_api_store_tx(ctx, h, out); }
static int ef_sb_query_text(void *ctx, const char *c, const char *p, char **out, size_t *len)
{
    return ef_store_query_text(ctx, c, p, out, len);
}

static int ef_sb_query(void *ctx, const char *c, const char *p, json_t **out)
{
    return ef_store_query(ctx, c, p, out);
}
static int ef_sb_account(void *ctx, const ef_pub *p, json_t **out)
{
    return ef_api_store_account(ctx, p, out);
}
static int ef_sb_submit(void *ctx, const uint8_t *tx, size_t len, ef_hash *h)
{
    (void)ctx; (void)tx; (void)len; (void)h;
    return EF_EPERM;
}
static bool ef_sb_is_member(void *ctx, const ef_pub *p, const char *d)
{
    return ef_api_store_is_member(ctx, p, d);
}

int ef_api_store_proof(ef_store *s, const ef_hash *hash, json_t **out)
{
    uint8_t *p = NULL;
    size_t n = 0;
    ef_proof *pf = NULL;
    char *hex = NULL;
    *out = NULL;
    int rc = ef_proof_build(s, hash, true, &p, &n);
    if (rc) return rc;
    pf = malloc(sizeof *pf);
    hex = malloc(2 * n + 1);
    if (!pf || !hex) {
        rc = EF_ENOMEM;
        goto out;
    }
    if ((rc = ef_proof_decode(pf, p, n))) {
        rc = EF_EDB;
        goto out;
    }
    ef_hex(hex, p, n);
    *out = ef_proof_to_json(pf);
    if (!*out || json_object_set_new(*out, "proof", json_string(hex))) rc = EF_ENOMEM;
out:
    free(p);
    free(pf);
    free(hex);
    return rc;
}

static int ef_sb_proof(void *ctx, const ef_hash *h, json_t **out) { return ef_api_store_proof(ctx, h, out); }

/* A validator set's canonical encoding (ef_vset.h) as hex into o[k]. */
static int ef_api_vset_hex_set(json_t *o, const char *k, const ef_vset *vs)
{
    ef_wr w;
    ef_wr_init(&w);
    int rc = ef_vset_encode(&w, vs);
    char *hex = rc ? NULL : malloc(2 * w.len + 1);
    if (!rc && !hex) rc = EF_ENOMEM;
    if (!rc) {
        ef_hex(hex, w.buf, w.len);
        if (json_object_set_new(o, k, json_string(hex))) rc = EF_ENOMEM;
    }
    free(hex);
    ef_wr_free(&w);
    return rc;
}

int ef_api_store_checkpoint(ef_store *s, uint64_t height, json_t **out)
{
    uint8_t *enc = NULL, *cert = NULL;
    size_t len = 0, cert_len = 0;
    char *hex = NULL;
    ef_vset *vs = NULL, *next = NULL;
    json_t *o = NULL;
    ef_block_header hdr;
    *out = NULL;
    if (height == 0) return EF_ENOTFOUND;     /* the genesis has no certificate */
    int rc = ef_store_block(s, height, &enc, &len);
    if (rc) return rc;
    ef_rd r;
    ef_rd_init(&r, enc, len);
    if ((rc = ef_block_header_decode_rd(&r, &hdr))) {
        rc = EF_EDB;
        goto out;
    }
    size_t hdr_len = r.off;
    if ((rc = ef_store_cert(s, height, &cert, &cert_len))) goto out;
    vs = malloc(sizeof *vs);
    next = malloc(sizeof *next);
    hex = malloc(2 * (hdr_len > cert_len ? hdr_len : cert_len) + 1);
    o = ef_block_header_to_json(&hdr);
    if (!vs || !next || !hex || !o) {
        rc = EF_ENOMEM;
        goto out;
    }
    if ((rc = ef_store_vset(s, height, vs)) || (rc = ef_store_vset(s, height + 1, next))) goto out;
    bool rotation = !ef_hash_eq(&hdr.next_vset_hash, &hdr.vset_hash);
    json_t *j = json_object();
    if (!j || json_object_set_new(j, "header_json", o)) {
        json_decref(j);
        rc = EF_ENOMEM;
        goto out;
    }
    o = NULL;
    ef_hash bh;
    ef_block_header_hash(&bh, &hdr);
    json_object_set_new(j, "height", json_integer((json_int_t)height));
    ef_api_hex_set(j, "hash", bh.b, EF_HASH_SIZE);
    ef_hex(hex, enc, hdr_len);
    json_object_set_new(j, "header", json_string(hex));
    ef_hex(hex, cert, cert_len);
    json_object_set_new(j, "cert", json_string(hex));
    ef_api_hex_set(j, "vset_hash", hdr.vset_hash.b, EF_HASH_SIZE);
    ef_api_hex_set(j, "next_vset_hash", hdr.next_vset_hash.b, EF_HASH_SIZE);
    json_object_set_new(j, "rotation", json_boolean(rotation));
    rc = ef_api_vset_hex_set(j, "vset", vs);
    if (!rc && rotation) rc = ef_api_vset_hex_set(j, "committee", next);
    if (rc) json_decref(j);
    else *out = j;
out:
    json_decref(o);
    free(enc);
    free(cert);
    free(hex);
    free(vs);
    free(next);
    return rc;
}

static int ef_sb_checkpoint(void *ctx, uint64_t h, json_t **out) { return ef_api_store_checkpoint(ctx, h, out); }

void ef_api_store_backend(ef_api_backend *be, ef_store *s)
{
    memset(be, 0, sizeof *be);
    be->ctx = s;
    be->height = ef_sb_height;
    be->status = ef_sb_status;
    be->block = ef_sb_block;
    be->tx = ef_sb_tx;
    be->query = ef_sb_query;
    be->query_text = ef_sb_query_text;
    be->account = ef_sb_account;
    be->submit = ef_sb_submit;
    be->is_member = ef_sb_is_member;
    be->proof = ef_sb_proof;
    be->checkpoint = ef_sb_checkpoint;
}
