/* ef_anchor.c: domain checkpoints verified as a light client, freezing on
 * conflicting certified headers, and cross-domain proofs (see ef_anchor.h). */
#include "contracts/ef_anchor.h"

#include <stdlib.h>
#include <string.h>

#include "base/ef_codec.h"
#include "ledger/ef_block.h"
#include "ledger/ef_cert.h"
#include "ledger/ef_vset.h"

#define EF_AN_NAME "anchor"
#define EF_AN_HEX_MAX EF_TX_ARGS_MAX   /* no hex field can be longer than the args */

typedef struct ef_an_domain {
    char name[EF_ANCHOR_NAME_MAX + 1];
    char chain_id[EF_CHAIN_ID_MAX + 1];
    ef_hash genesis_hash;
    ef_pub admin;
    uint64_t registered_at;
    uint64_t height;              /* last anchored */
    ef_hash header_hash, state_hash, txs_root, results_root;
    uint64_t time_ms;
    ef_hash committee_hash;       /* the tracked committee: signs height+1 on */
    uint64_t committee_since;     /* first height it signs */
    uint8_t frozen;
    uint64_t freezes;             /* times frozen (numbers the unfreeze votes) */
    uint64_t checkpoints;
    uint64_t evidence_n;
} ef_an_domain;

/* --- keys --- */

static size_t ef_an_key(uint8_t *k, char tag, const char *name, const void *suffix, size_t n)
{
    size_t nl = strlen(name);
    EF_ASSERT(nl <= EF_ANCHOR_NAME_MAX && 2 + nl + n <= EF_CTX_KEY_MAX);
    k[0] = (uint8_t)tag;
    memcpy(k + 1, name, nl);
    if (tag == 'd') return 1 + nl;
    k[1 + nl] = 0;
    if (n) memcpy(k + 2 + nl, suffix, n);
    return 2 + nl + n;
}

static size_t ef_an_key_h(uint8_t *k, char tag, const char *name, uint64_t h)
{
    uint8_t hb[8];
    ef_put_u64be(hb, h);
    return ef_an_key(k, tag, name, hb, 8);
}

static bool ef_an_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > EF_ANCHOR_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
    }
    return true;
}

static json_t *ef_an_hexj(const void *p, size_t n)
{
    char *hex = malloc(2 * n + 1);
    if (!hex) return NULL;
    ef_hex(hex, p, n);
    json_t *j = json_string(hex);
    free(hex);
    return j;
}

/* --- domain record --- */

static int ef_an_domain_get(ef_ctx *ctx, const char *name, ef_an_domain *d)
{
    uint8_t k[EF_CTX_KEY_MAX];
    const uint8_t *v;
    size_t n;
    memset(d, 0, sizeof *d);
    if (!ef_an_name_valid(name)) return EF_ENOTFOUND;
    int rc = ef_ctx_get(ctx, k, ef_an_key(k, 'd', name, NULL, 0), &v, &n);
    if (rc) return rc;
    ef_rd r;
    ef_rd_init(&r, v, n);
    ef_rd_str(&r, d->name, sizeof d->name);
    ef_rd_str(&r, d->chain_id, sizeof d->chain_id);
    ef_rd_raw(&r, d->genesis_hash.b, EF_HASH_SIZE);
    ef_rd_raw(&r, d->admin.b, EF_PUB_SIZE);
    ef_rd_u64(&r, &d->registered_at);
    ef_rd_u64(&r, &d->height);
    ef_rd_raw(&r, d->header_hash.b, EF_HASH_SIZE);
    ef_rd_raw(&r, d->state_hash.b, EF_HASH_SIZE);
    ef_rd_raw(&r, d->txs_root.b, EF_HASH_SIZE);
    ef_rd_raw(&r, d->results_root.b, EF_HASH_SIZE);
    ef_rd_u64(&r, &d->time_ms);
    ef_rd_raw(&r, d->committee_hash.b, EF_HASH_SIZE);
    ef_rd_u64(&r, &d->committee_since);
    ef_rd_u8(&r, &d->frozen);
    ef_rd_u64(&r, &d->freezes);
    ef_rd_u64(&r, &d->checkpoints);
    ef_rd_u64(&r, &d->evidence_n);
    return ef_rd_finish(&r) || d->frozen > 1 ? EF_EDB : 0;
}

static int ef_an_domain_put(ef_ctx *ctx, const ef_an_domain *d)
{
    uint8_t k[EF_CTX_KEY_MAX];
    ef_wr w;
    ef_wr_init(&w);
    ef_wr_str(&w, d->name);
    ef_wr_str(&w, d->chain_id);
    ef_wr_raw(&w, d->genesis_hash.b, EF_HASH_SIZE);
    ef_wr_raw(&w, d->admin.b, EF_PUB_SIZE);
    ef_wr_u64(&w, d->registered_at);
    ef_wr_u64(&w, d->height);
    ef_wr_raw(&w, d->header_hash.b, EF_HASH_SIZE);
    ef_wr_raw(&w, d->state_hash.b, EF_HASH_SIZE);
    ef_wr_raw(&w, d->txs_root.b, EF_HASH_SIZE);
    ef_wr_raw(&w, d->results_root.b, EF_HASH_SIZE);
    ef_wr_u64(&w, d->time_ms);
    ef_wr_raw(&w, d->committee_hash.b, EF_HASH_SIZE);
    ef_wr_u64(&w, d->committee_since);
    ef_wr_u8(&w, d->frozen);
    ef_wr_u64(&w, d->freezes);
    ef_wr_u64(&w, d->checkpoints);
    ef_wr_u64(&w, d->evidence_n);
    int rc = w.err ? w.err : ef_ctx_put(ctx, k, ef_an_key(k, 'd', d->name, NULL, 0), w.buf, w.len);
    ef_wr_free(&w);
    return rc;
}

/* --- committees --- */

static int ef_an_committee_get(ef_ctx *ctx, const char *name, const ef_hash *hash, ef_vset *vs)
{
    uint8_t k[EF_CTX_KEY_MAX];
    const uint8_t *v;
    size_t n;
    ef_vset_init(vs);
    int rc = ef_ctx_get(ctx, k, ef_an_key(k, 'c', name, hash->b, EF_HASH_SIZE), &v, &n);
    if (rc) return rc;
    ef_rd r;
    ef_rd_init(&r, v, n);
    ef_vset_decode(&r, vs);
    return ef_rd_finish(&r) ? EF_EDB : 0;
}

static int ef_an_committee_put(ef_ctx *ctx, const char *name, const ef_vset *vs, ef_hash *hash)
{
    uint8_t k[EF_CTX_KEY_MAX];
    ef_wr w;
    ef_vset_hash(hash, vs);
    ef_wr_init(&w);
    int rc = ef_vset_encode(&w, vs);
    if (!rc) rc = ef_ctx_put(ctx, k, ef_an_key(k, 'c', name, hash->b, EF_HASH_SIZE), w.buf, w.len);
    ef_wr_free(&w);
    return rc;
}

static json_t *ef_an_committee_json(const ef_vset *vs)
{
    json_t *a = json_array();
    for (uint32_t i = 0; a && i < vs->len; i++)
        json_array_append_new(a, json_pack("{s:o, s:I}", "pub", ef_an_hexj(vs->v[i].pub.b, EF_PUB_SIZE), "power",
                                           (json_int_t)vs->v[i].power));
    return a;
}

/* --- checkpoint records: u64 height, raw32 hash, bytes header, bytes cert, u64 at --- */

typedef struct ef_an_ckpt {
    uint64_t height;
    ef_hash hash;
    uint8_t *hdr;    /* owned */
    size_t hdr_len;
    uint8_t *cert;   /* owned */
    size_t cert_len;
    uint64_t at;
} ef_an_ckpt;

static void ef_an_ckpt_free(ef_an_ckpt *c)
{
    free(c->hdr);
    free(c->cert);
    memset(c, 0, sizeof *c);
}

static int ef_an_ckpt_decode(ef_an_ckpt *c, const uint8_t *v, size_t n)
{
    const uint8_t *h, *ce;
    ef_rd r;
    memset(c, 0, sizeof *c);
    ef_rd_init(&r, v, n);
    ef_rd_u64(&r, &c->height);
    ef_rd_raw(&r, c->hash.b, EF_HASH_SIZE);
    ef_rd_bytes(&r, &h, &c->hdr_len, EF_BLOCK_HEADER_MAX);
    ef_rd_bytes(&r, &ce, &c->cert_len, EF_CERT_SIZE_MAX);
    ef_rd_u64(&r, &c->at);
    if (ef_rd_finish(&r)) return EF_EDB;
    c->hdr = malloc(c->hdr_len ? c->hdr_len : 1);
    c->cert = malloc(c->cert_len ? c->cert_len : 1);
    if (!c->hdr || !c->cert) {
        ef_an_ckpt_free(c);
        return EF_ENOMEM;
    }
    if (c->hdr_len) memcpy(c->hdr, h, c->hdr_len);
    if (c->cert_len) memcpy(c->cert, ce, c->cert_len);
    return 0;
}

static int ef_an_ckpt_get(ef_ctx *ctx, const char *name, uint64_t h, ef_an_ckpt *c)
{
    uint8_t k[EF_CTX_KEY_MAX];
    const uint8_t *v;
    size_t n;
    memset(c, 0, sizeof *c);
    int rc = ef_ctx_get(ctx, k, ef_an_key_h(k, 'k', name, h), &v, &n);
    if (rc) return rc;
    return ef_an_ckpt_decode(c, v, n);
}

static int ef_an_ckpt_put(ef_ctx *ctx, const char *name, uint64_t h, const ef_hash *hash, const uint8_t *hdr,
                          size_t hdr_len, const uint8_t *cert, size_t cert_len)
{
    uint8_t k[EF_CTX_KEY_MAX];
    ef_wr w;
    ef_wr_init(&w);
    ef_wr_u64(&w, h);
    ef_wr_raw(&w, hash->b, EF_HASH_SIZE);
    ef_wr_bytes(&w, hdr, hdr_len);
    ef_wr_bytes(&w, cert, cert_len);
    ef_wr_u64(&w, ef_ctx_height(ctx));
    int rc = w.err ? w.err : ef_ctx_put(ctx, k, ef_an_key_h(k, 'k', name, h), w.buf, w.len);
    ef_wr_free(&w);
    return rc;
}

/* --- arguments --- */

/* A hex field as malloc'd bytes (1..max bytes). EF_EARGS if absent, not hex, or
 * out of range. */
static int ef_an_hex(const json_t *args, const char *field, size_t max, uint8_t **out, size_t *n)
{
    const char *s;
    *out = NULL;
    *n = 0;
    if (ef_args_str(args, field, &s, EF_AN_HEX_MAX)) return EF_EARGS;
    size_t l = strlen(s);
    if (l == 0 || l % 2 || l / 2 > max) return EF_EARGS;
    uint8_t *b = malloc(l / 2);
    if (!b) return EF_ENOMEM;
    if (ef_unhex(b, l / 2, s)) {
        free(b);
        return EF_EARGS;
    }
    *out = b;
    *n = l / 2;
    return 0;
}

/* A committee: a canonical ef_vset encoding of 1..EF_ANCHOR_COMMITTEE_MAX. */
static int ef_an_committee_arg(const json_t *args, const char *field, ef_vset *vs)
{
    uint8_t *b;
    size_t n;
    ef_vset_init(vs);
    int rc = ef_an_hex(args, field, EF_VSET_ENC_MAX, &b, &n);
    if (rc) return rc;
    ef_rd r;
    ef_rd_init(&r, b, n);
    ef_vset_decode(&r, vs);
    rc = ef_rd_finish(&r);
    free(b);
    if (rc) return EF_EINVAL;
    if (!ef_vset_valid(vs) || vs->len > EF_ANCHOR_COMMITTEE_MAX) return EF_EINVAL;
    return 0;
}

static int ef_an_emit(ef_ctx *ctx, const char *name, json_t *ev)
{
    int rc = ev ? ef_ctx_emit(ctx, name, ev) : EF_ENOMEM;
    json_decref(ev);
    return rc;
}

static int ef_an_is_validator(ef_ctx *ctx, ef_vset *vs)
{
    int rc = ef_ctx_vset(ctx, ef_ctx_height(ctx), vs);
    if (rc) return rc;
    return ef_vset_index(vs, ef_ctx_sender(ctx)) >= 0 ? 0 : EF_ENOTVAL;
}

/* --- register_domain --- */

static int ef_an_m_register(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"name", "chain_id", "genesis_hash", "committee", "admin", NULL};
    const char *name, *chain;
    ef_an_domain d;
    ef_vset *vs = malloc(sizeof *vs);
    uint8_t k[EF_CTX_KEY_MAX];
    const uint8_t *v;
    size_t n;
    int rc;
    if (!vs) return EF_ENOMEM;
    memset(&d, 0, sizeof d);
    if (ef_args_only(args, f) || ef_args_str(args, "name", &name, EF_ANCHOR_NAME_MAX) ||
        ef_args_str(args, "chain_id", &chain, EF_CHAIN_ID_MAX) || !ef_an_name_valid(name) ||
        !ef_chain_id_valid(chain) || ef_args_hash(args, "genesis_hash", &d.genesis_hash) ||
        ef_args_pub(args, "admin", &d.admin)) {
        rc = EF_EARGS;
        goto out;
    }
    if ((rc = ef_an_is_validator(ctx, vs))) goto out;   /* vs: scratch here */
    if ((rc = ef_an_committee_arg(args, "committee", vs))) goto out;
    rc = ef_ctx_get(ctx, k, ef_an_key(k, 'd', name, NULL, 0), &v, &n);
    if (rc == 0) rc = EF_EEXIST;
    if (rc != EF_ENOTFOUND) goto out;
    k[0] = 'i';
    size_t cl = strlen(chain);
    memcpy(k + 1, chain, cl);
    rc = ef_ctx_get(ctx, k, 1 + cl, &v, &n);
    if (rc == 0) rc = EF_EEXIST;
    if (rc != EF_ENOTFOUND) goto out;
    if ((rc = ef_ctx_put(ctx, k, 1 + cl, name, strlen(name)))) goto out;
    snprintf(d.name, sizeof d.name, "%s", name);
    snprintf(d.chain_id, sizeof d.chain_id, "%s", chain);
    d.registered_at = ef_ctx_height(ctx);
    d.header_hash = d.genesis_hash;
    d.committee_since = 1;
    if ((rc = ef_an_committee_put(ctx, name, vs, &d.committee_hash))) goto out;
    if ((rc = ef_an_ckpt_put(ctx, name, 0, &d.genesis_hash, NULL, 0, NULL, 0))) goto out;
    if ((rc = ef_an_domain_put(ctx, &d))) goto out;
    rc = ef_an_emit(ctx, "domain_registered",
                    json_pack("{s:s, s:s, s:o, s:o, s:I}", "domain", name, "chain_id", chain, "committee_hash",
                              ef_an_hexj(d.committee_hash.b, EF_HASH_SIZE), "admin",
                              ef_an_hexj(d.admin.b, EF_PUB_SIZE), "committee_size", (json_int_t)vs->len));
out:
    free(vs);
    return rc;
}

/* --- freezing --- */

static int ef_an_freeze(ef_ctx *ctx, ef_an_domain *d, uint64_t height, const uint8_t *ha, size_t ha_len,
                        const uint8_t *ca, size_t ca_len, const uint8_t *hb, size_t hb_len, const uint8_t *cb,
                        size_t cb_len)
{
    uint8_t k[EF_CTX_KEY_MAX];
    ef_wr w;
    ef_wr_init(&w);
    ef_wr_u64(&w, height);
    ef_wr_bytes(&w, ha, ha_len);
    ef_wr_bytes(&w, ca, ca_len);
    ef_wr_bytes(&w, hb, hb_len);
    ef_wr_bytes(&w, cb, cb_len);
    ef_wr_u64(&w, ef_ctx_height(ctx));
    uint64_t idx = d->evidence_n;
    int rc = w.err ? w.err : ef_ctx_put(ctx, k, ef_an_key_h(k, 'e', d->name, idx), w.buf, w.len);
    ef_wr_free(&w);
    if (rc) return rc;
    d->evidence_n++;
    d->frozen = 1;
    d->freezes++;
    if ((rc = ef_an_domain_put(ctx, d))) return rc;
    return ef_an_emit(ctx, "domain_frozen", json_pack("{s:s, s:I, s:I}", "domain", d->name, "height",
                                                      (json_int_t)height, "evidence", (json_int_t)idx));
}

/* Decodes a header of the domain's chain and verifies its certificate against
 * committee vs (its vset_hash must be vs's hash: else EF_EROTATION). */
static int ef_an_certified(const ef_an_domain *d, const ef_vset *vs, const ef_hash *vs_hash, const uint8_t *hdr,
                           size_t hdr_len, const uint8_t *cert, size_t cert_len, ef_block_header *h, ef_hash *hash)
{
    int rc = ef_block_header_decode(h, hdr, hdr_len);
    if (rc) return rc;
    if (strcmp(h->chain_id, d->chain_id)) return EF_ECHAIN;
    ef_block_header_hash(hash, h);
    if (!ef_hash_eq(&h->vset_hash, vs_hash)) return EF_EROTATION;
    return ef_cert_verify(cert, cert_len, h->chain_id, h->height, hash, vs);
}

/* --- checkpoint --- */

static int ef_an_m_checkpoint(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"domain", "header", "cert", "committee", NULL};
    const char *name;
    ef_an_domain d;
    ef_an_ckpt old = {0};
    ef_block_header h, oh;
    ef_hash hash, nh;
    uint8_t *hdr = NULL, *cert = NULL;
    size_t hdr_len, cert_len;
    ef_vset *vs = malloc(sizeof *vs), *next = malloc(sizeof *next);
    int rc;
    if (!vs || !next) {
        rc = EF_ENOMEM;
        goto out;
    }
    ef_vset_init(next);
    if (ef_args_only(args, f) || ef_args_str(args, "domain", &name, EF_ANCHOR_NAME_MAX)) {
        rc = EF_EARGS;
        goto out;
    }
    if ((rc = ef_an_hex(args, "header", EF_BLOCK_HEADER_MAX, &hdr, &hdr_len)) ||
        (rc = ef_an_hex(args, "cert", EF_CERT_SIZE_MAX, &cert, &cert_len)))
        goto out;
    bool has_next = json_object_get(args, "committee") != NULL;
    if (has_next && (rc = ef_an_committee_arg(args, "committee", next))) goto out;
    if ((rc = ef_an_domain_get(ctx, name, &d))) goto out;
    if (d.frozen) {
        rc = EF_EFROZEN;
        goto out;
    }
    if ((rc = ef_block_header_decode(&h, hdr, hdr_len))) goto out;
    if (strcmp(h.chain_id, d.chain_id)) {
        rc = EF_ECHAIN;
        goto out;
    }
    if (h.height <= d.height) {
        /* duplicate, conflict, or stale */
        rc = ef_an_ckpt_get(ctx, name, h.height, &old);
        if (rc == EF_ENOTFOUND || (rc == 0 && old.hdr_len == 0)) {
            /* never anchored here (or height 0: the genesis, never certified) */
            ef_block_header_hash(&hash, &h);
            rc = (rc == 0 && ef_hash_eq(&hash, &old.hash)) ? EF_ERECORDED : EF_ESTALE;
            goto out;
        }
        if (rc) goto out;
        ef_block_header_hash(&hash, &h);
        if (ef_hash_eq(&hash, &old.hash)) {
            rc = EF_ERECORDED;
            goto out;
        }
        if (has_next) {
            rc = EF_EARGS;
            goto out;
        }
        /* a different header for an anchored height: misbehaviour if the
         * committee that signed the anchored one signed this one too */
        if ((rc = ef_block_header_decode(&oh, old.hdr, old.hdr_len))) {
            rc = EF_EDB;
            goto out;
        }
        if ((rc = ef_an_committee_get(ctx, name, &oh.vset_hash, vs))) {
            if (rc == EF_ENOTFOUND) rc = EF_EDB;
            goto out;
        }
        if ((rc = ef_an_certified(&d, vs, &oh.vset_hash, hdr, hdr_len, cert, cert_len, &h, &hash))) goto out;
        rc = ef_an_freeze(ctx, &d, h.height, old.hdr, old.hdr_len, old.cert, old.cert_len, hdr, hdr_len, cert,
                          cert_len);
        goto out;
    }
    /* a new height: signed by the tracked committee */
    if ((rc = ef_an_committee_get(ctx, name, &d.committee_hash, vs))) {
        if (rc == EF_ENOTFOUND) rc = EF_EDB;
        goto out;
    }
    if ((rc = ef_an_certified(&d, vs, &d.committee_hash, hdr, hdr_len, cert, cert_len, &h, &hash))) goto out;
    if (d.height > 0 && h.time_ms <= d.time_ms) {
        /* certified, yet not later than the anchored header of a lower height: no
         * chain holds both (block times strictly increase), so the committee
         * certified a fork */
        if (has_next) {
            rc = EF_EARGS;
            goto out;
        }
        if ((rc = ef_an_ckpt_get(ctx, name, d.height, &old))) {
            if (rc == EF_ENOTFOUND) rc = EF_EDB;
            goto out;
        }
        rc = ef_an_freeze(ctx, &d, h.height, old.hdr, old.hdr_len, old.cert, old.cert_len, hdr, hdr_len, cert,
                          cert_len);
        goto out;
    }
    bool rotated = !ef_hash_eq(&h.next_vset_hash, &d.committee_hash);
    if (rotated) {
        if (!has_next) {
            rc = EF_ECOMMITTEE;
            goto out;
        }
        ef_vset_hash(&nh, next);
        if (!ef_hash_eq(&nh, &h.next_vset_hash)) {
            rc = EF_ECOMMITTEE;
            goto out;
        }
        if ((rc = ef_an_committee_put(ctx, name, next, &d.committee_hash))) goto out;
        d.committee_since = h.height + 1;
    } else if (has_next) {
        rc = EF_EARGS;
        goto out;
    }
    if ((rc = ef_an_ckpt_put(ctx, name, h.height, &hash, hdr, hdr_len, cert, cert_len))) goto out;
    d.height = h.height;
    d.header_hash = hash;
    d.state_hash = h.state_hash;
    d.txs_root = h.txs_root;
    d.results_root = h.results_root;
    d.time_ms = h.time_ms;
    d.checkpoints++;
    if ((rc = ef_an_domain_put(ctx, &d))) goto out;
    json_t *ev = json_pack("{s:s, s:I, s:o, s:b}", "domain", name, "height", (json_int_t)h.height, "hash",
                           ef_an_hexj(hash.b, EF_HASH_SIZE), "rotated", rotated);
    if (ev && rotated) json_object_set_new(ev, "committee_hash", ef_an_hexj(d.committee_hash.b, EF_HASH_SIZE));
    rc = ef_an_emit(ctx, "checkpoint", ev);
out:
    ef_an_ckpt_free(&old);
    free(hdr);
    free(cert);
    free(vs);
    free(next);
    return rc;
}

/* --- report: two certified headers of one height --- */

static int ef_an_m_report(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"domain", "header_a", "cert_a", "header_b", "cert_b", NULL};
    const char *name;
    ef_an_domain d;
    ef_block_header ha, hb;
    ef_hash xa, xb;
    uint8_t *b[4] = {0};
    size_t n[4];
    ef_vset *vs = malloc(sizeof *vs);
    int rc;
    if (!vs) return EF_ENOMEM;
    if (ef_args_only(args, f) || ef_args_str(args, "domain", &name, EF_ANCHOR_NAME_MAX)) {
        rc = EF_EARGS;
        goto out;
    }
    if ((rc = ef_an_hex(args, "header_a", EF_BLOCK_HEADER_MAX, &b[0], &n[0])) ||
        (rc = ef_an_hex(args, "cert_a", EF_CERT_SIZE_MAX, &b[1], &n[1])) ||
        (rc = ef_an_hex(args, "header_b", EF_BLOCK_HEADER_MAX, &b[2], &n[2])) ||
        (rc = ef_an_hex(args, "cert_b", EF_CERT_SIZE_MAX, &b[3], &n[3])))
        goto out;
    if ((rc = ef_an_domain_get(ctx, name, &d))) goto out;
    if (d.frozen) {
        rc = EF_EFROZEN;
        goto out;
    }
    if ((rc = ef_an_committee_get(ctx, name, &d.committee_hash, vs))) {
        if (rc == EF_ENOTFOUND) rc = EF_EDB;
        goto out;
    }
    if ((rc = ef_an_certified(&d, vs, &d.committee_hash, b[0], n[0], b[1], n[1], &ha, &xa)) ||
        (rc = ef_an_certified(&d, vs, &d.committee_hash, b[2], n[2], b[3], n[3], &hb, &xb)))
        goto out;
    if (ha.height != hb.height || ef_hash_eq(&xa, &xb) || ha.height < d.committee_since) {
        rc = EF_EINVAL;
        goto out;
    }
    rc = ef_an_freeze(ctx, &d, ha.height, b[0], n[0], b[1], n[1], b[2], n[2], b[3], n[3]);
out:
    for (int i = 0; i < 4; i++) free(b[i]);
    free(vs);
    return rc;
}

/* --- unfreeze --- */

struct ef_an_votes {
    const ef_vset *vs;
    uint64_t power;
    size_t prefix_len;
};

static int ef_an_scan_vote(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    struct ef_an_votes *a = arg;
    (void)val;
    (void)val_len;
    if (key_len != a->prefix_len + EF_PUB_SIZE) return 0;
    ef_pub p;
    memcpy(p.b, key + a->prefix_len, EF_PUB_SIZE);
    int i = ef_vset_index(a->vs, &p);
    if (i >= 0) a->power += a->vs->v[i].power;   /* a voter since removed counts no more */
    return 0;
}

static int ef_an_m_unfreeze(ef_ctx *ctx, const json_t *args)
{
    static const char *const f[] = {"domain", NULL};
    const char *name;
    ef_an_domain d;
    uint8_t k[EF_CTX_KEY_MAX], suf[8 + EF_PUB_SIZE];
    const uint8_t *v;
    size_t vn;
    ef_vset *vs = malloc(sizeof *vs);
    int rc;
    if (!vs) return EF_ENOMEM;
    if (ef_args_only(args, f) || ef_args_str(args, "domain", &name, EF_ANCHOR_NAME_MAX)) {
        rc = EF_EARGS;
        goto out;
    }
    if ((rc = ef_an_domain_get(ctx, name, &d))) goto out;
    if ((rc = ef_an_is_validator(ctx, vs))) goto out;
    if (!d.frozen) {
        rc = EF_ESTATE;
        goto out;
    }
    ef_put_u64be(suf, d.freezes);
    memcpy(suf + 8, ef_ctx_sender(ctx)->b, EF_PUB_SIZE);
    size_t kn = ef_an_key(k, 'u', name, suf, sizeof suf);
    rc = ef_ctx_get(ctx, k, kn, &v, &vn);
    if (rc == 0) rc = EF_EDUP;
    if (rc != EF_ENOTFOUND) goto out;
    if ((rc = ef_ctx_put(ctx, k, kn, "", 0))) goto out;
    struct ef_an_votes a = {vs, 0, kn - EF_PUB_SIZE};
    if ((rc = ef_ctx_scan(ctx, k, kn - EF_PUB_SIZE, ef_an_scan_vote, &a))) goto out;
    uint64_t quorum = ef_vset_quorum(vs);
    if ((rc = ef_an_emit(ctx, "unfreeze_vote",
                         json_pack("{s:s, s:o, s:I, s:I}", "domain", name, "by",
                                   ef_an_hexj(ef_ctx_sender(ctx)->b, EF_PUB_SIZE), "power", (json_int_t)a.power,
                                   "quorum", (json_int_t)quorum))))
        goto out;
    if (a.power < quorum) goto out;
    d.frozen = 0;
    if ((rc = ef_an_domain_put(ctx, &d))) goto out;
    rc = ef_an_emit(ctx, "domain_unfrozen", json_pack("{s:s, s:I}", "domain", name, "height", (json_int_t)d.height));
out:
    free(vs);
    return rc;
}

/* --- proofs for other contracts --- */

struct ef_an_vp {
    const char *domain;
    const uint8_t *p;
    size_t len;
    ef_proof *out;
};

static int ef_an_verify_fn(ef_ctx *ctx, void *arg)
{
    struct ef_an_vp *a = arg;
    ef_proof *pf = a->out;
    ef_an_domain d;
    ef_an_ckpt c = {0};
    ef_vset *vs = NULL;
    int rc = ef_an_domain_get(ctx, a->domain, &d);
    if (rc) return rc;
    if (d.frozen) return EF_EFROZEN;
    if ((rc = ef_proof_decode(pf, a->p, a->len))) return rc;
    if ((rc = ef_proof_check(pf))) goto fail;
    if (strcmp(pf->hdr.chain_id, d.chain_id)) {
        rc = EF_ECHAIN;
        goto fail;
    }
    if (pf->cert_len) {
        if (!(vs = malloc(sizeof *vs))) {
            rc = EF_ENOMEM;
            goto fail;
        }
        rc = ef_an_committee_get(ctx, d.name, &pf->hdr.vset_hash, vs);
        if (rc == EF_ENOTFOUND) rc = EF_EUNANCHORED;
        if (rc) goto fail;
        if ((rc = ef_cert_verify(pf->cert, pf->cert_len, pf->hdr.chain_id, pf->hdr.height, &pf->block_hash, vs)))
            goto fail;
    }
    rc = ef_an_ckpt_get(ctx, d.name, pf->hdr.height, &c);
    if (rc == 0) {
        rc = ef_hash_eq(&c.hash, &pf->block_hash) ? 0 : EF_EUNANCHORED;
    } else if (rc == EF_ENOTFOUND) {
        /* not anchored: certified by the tracked committee, at a height it signs */
        bool ok = pf->cert_len && ef_hash_eq(&pf->hdr.vset_hash, &d.committee_hash) &&
                  pf->hdr.height >= d.committee_since;
        rc = ok ? 0 : EF_EUNANCHORED;
    }
    ef_an_ckpt_free(&c);
    if (rc == 0) {
        free(vs);
        return 0;
    }
fail:
    free(vs);
    memset(pf, 0, sizeof *pf);
    return rc;
}

int ef_anchor_verify_proof(ef_ctx *ctx, const char *domain, const uint8_t *p, size_t len, ef_proof *out)
{
    memset(out, 0, sizeof *out);
    struct ef_an_vp a = {domain, p, len, out};
    return ef_ctx_call_as(ctx, EF_AN_NAME, ef_an_verify_fn, &a);
}

/* --- queries --- */

static json_t *ef_an_domain_json(ef_ctx *ctx, const ef_an_domain *d, bool full)
{
    json_t *j = json_pack("{s:s, s:s, s:I, s:b}", "name", d->name, "chain_id", d->chain_id, "height",
                          (json_int_t)d->height, "frozen", d->frozen != 0);
    if (!j || !full) return j;
    struct { const char *k; const uint8_t *b; size_t n; } f[] = {
        {"genesis_hash", d->genesis_hash.b, EF_HASH_SIZE}, {"admin", d->admin.b, EF_PUB_SIZE},
        {"header_hash", d->header_hash.b, EF_HASH_SIZE},   {"state_hash", d->state_hash.b, EF_HASH_SIZE},
        {"txs_root", d->txs_root.b, EF_HASH_SIZE},         {"results_root", d->results_root.b, EF_HASH_SIZE},
        {"committee_hash", d->committee_hash.b, EF_HASH_SIZE},
    };
    for (size_t i = 0; i < EF_ARRAY_LEN(f); i++) json_object_set_new(j, f[i].k, ef_an_hexj(f[i].b, f[i].n));
    json_object_set_new(j, "time_ms", json_integer((json_int_t)d->time_ms));
    json_object_set_new(j, "committee_since", json_integer((json_int_t)d->committee_since));
    json_object_set_new(j, "freezes", json_integer((json_int_t)d->freezes));
    json_object_set_new(j, "checkpoints", json_integer((json_int_t)d->checkpoints));
    json_object_set_new(j, "evidence", json_integer((json_int_t)d->evidence_n));
    json_object_set_new(j, "registered_at", json_integer((json_int_t)d->registered_at));
    ef_vset *vs = malloc(sizeof *vs);
    if (vs && ef_an_committee_get(ctx, d->name, &d->committee_hash, vs) == 0)
        json_object_set_new(j, "committee", ef_an_committee_json(vs));
    free(vs);
    return j;
}

struct ef_an_list {
    ef_ctx *ctx;
    json_t *arr;
    char kind;
    size_t prefix_len;
};

static int ef_an_scan_list(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    struct ef_an_list *l = arg;
    (void)key_len;
    if (l->kind == 'd') {
        char name[EF_ANCHOR_NAME_MAX + 1];
        ef_an_domain d;
        size_t nl = key_len - 1;
        if (nl > EF_ANCHOR_NAME_MAX) return EF_EDB;
        memcpy(name, key + 1, nl);
        name[nl] = 0;
        ef_rd r;
        ef_rd_init(&r, val, val_len);
        memset(&d, 0, sizeof d);
        ef_rd_str(&r, d.name, sizeof d.name);
        ef_rd_str(&r, d.chain_id, sizeof d.chain_id);
        if (r.err) return EF_EDB;
        json_t *j = json_pack("{s:s, s:s}", "name", name, "chain_id", d.chain_id);
        if (!j) return EF_ENOMEM;
        json_array_append_new(l->arr, j);
        return json_array_size(l->arr) >= EF_ANCHOR_QUERY_MAX ? 1 : 0;
    }
    if (l->kind == 'k') {
        ef_an_ckpt c;
        int rc = ef_an_ckpt_decode(&c, val, val_len);
        if (rc) return rc;
        json_array_append_new(l->arr, json_pack("{s:I, s:o, s:I}", "height", (json_int_t)c.height, "hash",
                                                ef_an_hexj(c.hash.b, EF_HASH_SIZE), "anchored_at",
                                                (json_int_t)c.at));
        ef_an_ckpt_free(&c);
        if (json_array_size(l->arr) > EF_ANCHOR_QUERY_MAX) json_array_remove(l->arr, 0);
        return 0;
    }
    /* evidence */
    ef_rd r;
    uint64_t h, at;
    const uint8_t *p[4];
    size_t n[4];
    ef_rd_init(&r, val, val_len);
    ef_rd_u64(&r, &h);
    for (int i = 0; i < 4; i++) ef_rd_bytes(&r, &p[i], &n[i], EF_CERT_SIZE_MAX);
    ef_rd_u64(&r, &at);
    if (ef_rd_finish(&r)) return EF_EDB;
    json_t *j = json_pack("{s:I, s:I, s:o, s:o, s:o, s:o, s:I}", "index",
                          (json_int_t)ef_get_u64be(key + l->prefix_len), "height", (json_int_t)h, "header_a",
                          ef_an_hexj(p[0], n[0]), "cert_a", ef_an_hexj(p[1], n[1]), "header_b",
                          ef_an_hexj(p[2], n[2]), "cert_b", ef_an_hexj(p[3], n[3]), "at", (json_int_t)at);
    if (!j) return EF_ENOMEM;
    json_array_append_new(l->arr, j);
    return json_array_size(l->arr) >= EF_ANCHOR_QUERY_MAX ? 1 : 0;
}

static int ef_an_list(ef_ctx *ctx, char kind, const char *name, json_t **out)
{
    uint8_t k[EF_CTX_KEY_MAX];
    size_t kn = 1;
    k[0] = (uint8_t)kind;
    if (name) {
        if (!ef_an_name_valid(name)) return EF_ENOTFOUND;
        kn = ef_an_key(k, kind, name, NULL, 0);
    }
    struct ef_an_list l = {ctx, json_array(), kind, kn};
    if (!l.arr) return EF_ENOMEM;
    int rc = ef_ctx_scan(ctx, k, kn, ef_an_scan_list, &l);
    if (rc) {
        json_decref(l.arr);
        return rc;
    }
    *out = l.arr;
    return 0;
}

static int ef_an_query(ef_ctx *ctx, const char *path, json_t **out)
{
    char name[EF_ANCHOR_NAME_MAX + 1];
    ef_an_domain d;
    *out = NULL;
    if (!strcmp(path, "domains")) {
        json_t *arr;
        int rc = ef_an_list(ctx, 'd', NULL, &arr);
        if (rc) return rc;
        /* add height and frozen from each record */
        for (size_t i = 0; i < json_array_size(arr); i++) {
            json_t *e = json_array_get(arr, i);
            if (ef_an_domain_get(ctx, json_string_value(json_object_get(e, "name")), &d) == 0) {
                json_object_set_new(e, "height", json_integer((json_int_t)d.height));
                json_object_set_new(e, "frozen", json_boolean(d.frozen));
            }
        }
        *out = arr;
        return 0;
    }
    const char *rest = NULL;
    const char *kinds[] = {"domain/", "checkpoints/", "evidence/", "committee/"};
    size_t which;
    for (which = 0; which < EF_ARRAY_LEN(kinds); which++)
        if (!strncmp(path, kinds[which], strlen(kinds[which]))) {
            rest = path + strlen(kinds[which]);
            break;
        }
    if (!rest) return EF_ENOTFOUND;
    const char *slash = strchr(rest, '/');
    size_t nl = slash ? (size_t)(slash - rest) : strlen(rest);
    if (nl == 0 || nl > EF_ANCHOR_NAME_MAX) return EF_ENOTFOUND;
    memcpy(name, rest, nl);
    name[nl] = 0;
    int rc = ef_an_domain_get(ctx, name, &d);
    if (rc) return rc;
    if (which == 0) {
        if (slash) return EF_ENOTFOUND;
        *out = ef_an_domain_json(ctx, &d, true);
        return *out ? 0 : EF_ENOMEM;
    }
    if (which == 2) return slash ? EF_ENOTFOUND : ef_an_list(ctx, 'e', name, out);
    if (which == 3) {
        ef_hash h;
        if (!slash || ef_unhex(h.b, EF_HASH_SIZE, slash + 1)) return EF_EINVAL;
        ef_vset *vs = malloc(sizeof *vs);
        if (!vs) return EF_ENOMEM;
        if ((rc = ef_an_committee_get(ctx, name, &h, vs)) == 0) {
            ef_wr w;
            ef_wr_init(&w);
            rc = ef_vset_encode(&w, vs);
            if (!rc)
                *out = json_pack("{s:s, s:o, s:o}", "hash", slash + 1, "committee", ef_an_committee_json(vs), "hex",
                                 ef_an_hexj(w.buf, w.len));
            ef_wr_free(&w);
            if (!rc && !*out) rc = EF_ENOMEM;
        }
        free(vs);
        return rc;
    }
    if (!slash) return ef_an_list(ctx, 'k', name, out);
    char *end;
    uint64_t h = strtoull(slash + 1, &end, 10);
    if (*end || end == slash + 1) return EF_EINVAL;
    ef_an_ckpt c;
    if ((rc = ef_an_ckpt_get(ctx, name, h, &c))) return rc;
    json_t *j = json_pack("{s:I, s:o, s:o, s:o, s:I}", "height", (json_int_t)c.height, "hash",
                          ef_an_hexj(c.hash.b, EF_HASH_SIZE), "header_hex", ef_an_hexj(c.hdr, c.hdr_len), "cert_hex",
                          ef_an_hexj(c.cert, c.cert_len), "anchored_at", (json_int_t)c.at);
    ef_block_header bh;
    if (j && c.hdr_len && ef_block_header_decode(&bh, c.hdr, c.hdr_len) == 0) {
        json_object_set_new(j, "header", ef_block_header_to_json(&bh));
        json_object_set_new(j, "vset_hash", ef_an_hexj(bh.vset_hash.b, EF_HASH_SIZE));
    }
    ef_an_ckpt_free(&c);
    *out = j;
    return j ? 0 : EF_ENOMEM;
}

static const ef_method ef_anchor_methods[] = {
    {"register_domain", ef_an_m_register},
    {"checkpoint", ef_an_m_checkpoint},
    {"report", ef_an_m_report},
    {"unfreeze", ef_an_m_unfreeze},
};

const ef_contract ef_anchor_contract = {
    .name = EF_AN_NAME,
    .methods = ef_anchor_methods,
    .methods_len = EF_ARRAY_LEN(ef_anchor_methods),
    .query = ef_an_query,
};
