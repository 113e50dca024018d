/* ef_cert.c: commit certificate encoding and standalone verification. */
#include "ledger/ef_cert.h"

#include <stdlib.h>
#include <string.h>

#include "ledger/ef_evidence.h"

int ef_cert_encode(const ef_cert *c, uint8_t **out, size_t *out_len)
{
    ef_wr w;
    *out = NULL;
    *out_len = 0;
    if (c->count == 0 || c->count > EF_VSET_MAX) return EF_EINVAL;
    for (uint16_t i = 1; i < c->count; i++)
        if (c->sigs[i].index <= c->sigs[i - 1].index) return EF_EINVAL;
    ef_wr_init(&w);
    ef_wr_u64(&w, c->height);
    ef_wr_u32(&w, c->round);
    ef_wr_raw(&w, &c->value_id, sizeof c->value_id);
    ef_wr_u16(&w, c->count);
    for (uint16_t i = 0; i < c->count; i++) {
        ef_wr_u16(&w, c->sigs[i].index);
        ef_wr_raw(&w, &c->sigs[i].sig, sizeof(ef_sig));
    }
    if (w.err) {
        int rc = w.err;
        ef_wr_free(&w);
        return rc;
    }
    *out = ef_wr_take(&w, out_len);
    return *out ? 0 : EF_ENOMEM;
}

int ef_cert_decode(ef_cert *c, const uint8_t *p, size_t len)
{
    ef_rd r;
    int rc;
    memset(c, 0, sizeof *c);
    ef_rd_init(&r, p, len);
    ef_rd_u64(&r, &c->height);
    ef_rd_u32(&r, &c->round);
    ef_rd_raw(&r, &c->value_id, sizeof c->value_id);
    ef_rd_u16(&r, &c->count);
    if (!r.err && (c->count == 0 || c->count > EF_VSET_MAX)) ef_rd_fail(&r, EF_ETOOBIG);
    if (!r.err && c->round > EF_VOTE_ROUND_MAX) ef_rd_fail(&r, EF_EINVAL);
    for (uint16_t i = 0; !r.err && i < c->count; i++) {
        ef_rd_u16(&r, &c->sigs[i].index);
        ef_rd_raw(&r, &c->sigs[i].sig, sizeof(ef_sig));
        if (!r.err && i > 0 && c->sigs[i].index <= c->sigs[i - 1].index)
            ef_rd_fail(&r, EF_ENONCANON);
    }
    if ((rc = ef_rd_finish(&r))) {
        memset(c, 0, sizeof *c);
        return rc;
    }
    return 0;
}

int ef_cert_verify_with(const uint8_t *p, size_t len, const char *chain, uint64_t height,
                        const ef_hash *value_id, const ef_vset *vs, ef_verify_fn verify,
                        void *verify_ctx)
{
    ef_cert *c = malloc(sizeof *c);
    uint8_t buf[EF_VOTE_SIGNED_MAX];
    uint64_t power = 0;
    int rc;
    if (!c) return EF_ENOMEM;
    size_t cl = strnlen(chain, EF_VOTE_CHAIN_MAX + 1);
    if (cl == 0 || cl > EF_VOTE_CHAIN_MAX || vs->len == 0 || vs->len > EF_VSET_MAX) {
        rc = EF_EINVAL;
        goto out;
    }
    if ((rc = ef_cert_decode(c, p, len))) goto out;
    if (c->height != height) {
        rc = EF_EHEIGHT;
        goto out;
    }
    if (!ef_hash_eq(&c->value_id, value_id)) {
        rc = EF_EINVAL;
        goto out;
    }
    for (uint16_t i = 0; i < c->count; i++) {
        if (c->sigs[i].index >= vs->len) {
            rc = EF_EINVAL;
            goto out;
        }
        const ef_validator *v = &vs->v[c->sigs[i].index];
        size_t n = ef_vote_signed_bytes(buf, EF_VOTE_PRECOMMIT, chain, height, c->round, &v->pub,
                                        value_id);
        bool ok = verify ? verify(verify_ctx, &c->sigs[i].sig, &v->pub, EF_TAG_VOTE, buf, n)
                         : ef_verify(&c->sigs[i].sig, &v->pub, EF_TAG_VOTE, buf, n);
        if (!ok) {
            rc = EF_EBADSIG;
            goto out;
        }
        power += v->power;
    }
    rc = power >= ef_vset_quorum(vs) ? 0 : EF_ECERT;
out:
    free(c);
    return rc;
}

int ef_cert_verify(const uint8_t *p, size_t len, const char *chain, uint64_t height,
                   const ef_hash *value_id, const ef_vset *vs)
{
    return ef_cert_verify_with(p, len, chain, height, value_id, vs, NULL, NULL);
}

void ef_cert_sign(ef_sig *sig, const ef_keypair *kp, const char *chain, uint64_t height,
                  uint32_t round, const ef_hash *value_id)
{
    uint8_t buf[EF_VOTE_SIGNED_MAX];
    size_t n = ef_vote_signed_bytes(buf, EF_VOTE_PRECOMMIT, chain, height, round, &kp->pub, value_id);
    ef_sign(sig, kp, EF_TAG_VOTE, buf, n);
}
