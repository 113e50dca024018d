/* ef_evidence.c: consensus vote bytes at ledger level and the double-vote check. */
#include "ledger/ef_evidence.h"

#include <string.h>

#include "base/ef_codec.h"

size_t ef_vote_signed_bytes(uint8_t *buf, uint8_t type, const char *chain, uint64_t height,
                            uint32_t round, const ef_pub *signer, const ef_hash *value_id)
{
    size_t cl = strnlen(chain, EF_VOTE_CHAIN_MAX + 1);
    EF_ASSERT(cl >= 1 && cl <= EF_VOTE_CHAIN_MAX);
    EF_ASSERT(type == EF_VOTE_PREVOTE || type == EF_VOTE_PRECOMMIT);
    size_t o = 0;
    buf[o++] = type;
    ef_put_u32le(buf + o, (uint32_t)cl);
    o += 4;
    memcpy(buf + o, chain, cl);
    o += cl;
    ef_put_u64le(buf + o, height);
    o += 8;
    ef_put_u32le(buf + o, round);
    o += 4;
    memcpy(buf + o, signer, sizeof *signer);
    o += sizeof *signer;
    buf[o++] = value_id ? 1 : 0;
    if (value_id)
        memcpy(buf + o, value_id, sizeof *value_id);
    else
        memset(buf + o, 0, sizeof(ef_hash));
    o += sizeof(ef_hash);
    EF_ASSERT(o <= EF_VOTE_SIGNED_MAX);
    return o;
}

int ef_vote_decode(ef_vote *v, const uint8_t *p, size_t len)
{
    ef_rd r;
    int rc;
    memset(v, 0, sizeof *v);
    ef_rd_init(&r, p, len);
    ef_rd_u8(&r, &v->type);
    if (!r.err && v->type != EF_VOTE_PREVOTE && v->type != EF_VOTE_PRECOMMIT)
        ef_rd_fail(&r, EF_EINVAL);
    ef_rd_str(&r, v->chain, sizeof v->chain);
    ef_rd_u64(&r, &v->height);
    ef_rd_u32(&r, &v->round);
    ef_rd_raw(&r, &v->signer, sizeof v->signer);
    ef_rd_bool(&r, &v->has_value);
    ef_rd_raw(&r, &v->value_id, sizeof v->value_id);
    ef_rd_raw(&r, &v->sig, sizeof v->sig);
    if ((rc = ef_rd_finish(&r))) goto fail;
    if (!v->has_value && !ef_hash_is_zero(&v->value_id)) {
        rc = EF_ENONCANON;
        goto fail;
    }
    if (!v->chain[0] || v->height == 0 || v->round > EF_VOTE_ROUND_MAX) {
        rc = EF_EINVAL;
        goto fail;
    }
    return 0;
fail:
    memset(v, 0, sizeof *v);
    return rc;
}

bool ef_vote_verify(const ef_vote *v)
{
    uint8_t buf[EF_VOTE_SIGNED_MAX];
    size_t n = ef_vote_signed_bytes(buf, v->type, v->chain, v->height, v->round, &v->signer,
                                    v->has_value ? &v->value_id : NULL);
    return ef_verify(&v->sig, &v->signer, EF_TAG_VOTE, buf, n);
}

int ef_vote_evidence_parse(ef_vote_evidence *out, const uint8_t *a, size_t a_len, const uint8_t *b,
                           size_t b_len)
{
    int rc;
    memset(out, 0, sizeof *out);
    if ((rc = ef_vote_decode(&out->a, a, a_len)) || (rc = ef_vote_decode(&out->b, b, b_len)))
        goto fail;
    const ef_vote *va = &out->a, *vb = &out->b;
    if (va->type != vb->type || va->height != vb->height || va->round != vb->round ||
        strcmp(va->chain, vb->chain) || memcmp(&va->signer, &vb->signer, sizeof va->signer) ||
        (va->has_value == vb->has_value && ef_hash_eq(&va->value_id, &vb->value_id))) {
        rc = EF_EINVAL;
        goto fail;
    }
    out->offender = va->signer;
    out->height = va->height;
    out->round = va->round;
    out->type = va->type;
    return 0;
fail:
    memset(out, 0, sizeof *out);
    return rc;
}

int ef_vote_evidence_check(ef_vote_evidence *out, const char *chain, const ef_vset *vs,
                           const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    int rc = ef_vote_evidence_parse(out, a, a_len, b, b_len);
    if (rc) return rc;
    bool member = false;
    for (uint32_t i = 0; i < vs->len && i < EF_VSET_MAX; i++)
        if (!memcmp(&vs->v[i].pub, &out->offender, sizeof out->offender)) member = true;
    if (strcmp(out->a.chain, chain)) rc = EF_ECHAIN;
    else if (!member) rc = EF_ENOTVAL;
    else if (!ef_vote_verify(&out->a) || !ef_vote_verify(&out->b)) rc = EF_EBADSIG;
    if (rc) memset(out, 0, sizeof *out);
    return rc;
}
