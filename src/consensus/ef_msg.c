/* ef_msg.c: encoding, decoding and signing of consensus messages and evidence. */
#include "consensus/ef_msg.h"

#include <stdlib.h>
#include <string.h>

#include "ledger/ef_evidence.h"

_Static_assert(EF_VOTE_CHAIN_MAX == EF_MSG_CHAIN_MAX && EF_VOTE_ROUND_MAX == EF_MSG_ROUND_MAX &&
                   EF_VOTE_SIGNED_MAX == EF_MSG_VOTE_SIGNED_MAX &&
                   EF_VOTE_PREVOTE == EF_MSG_PREVOTE && EF_VOTE_PRECOMMIT == EF_MSG_PRECOMMIT,
               "consensus votes are the ledger's votes (ledger/ef_evidence.h)");

static uint8_t ef_msg_tag(ef_msg_type t)
{
    return t == EF_MSG_PROPOSAL ? EF_TAG_PROPOSAL : EF_TAG_VOTE;
}

/* Writes every field but the signature. */
static void ef_msg_write_body(ef_wr *w, const ef_msg *m)
{
    ef_wr_u8(w, (uint8_t)m->type);
    ef_wr_str(w, m->chain);
    ef_wr_u64(w, m->height);
    ef_wr_u32(w, m->round);
    ef_wr_raw(w, &m->signer, sizeof m->signer);
    if (m->type == EF_MSG_PROPOSAL) {
        ef_wr_u32(w, m->valid_round);
        ef_wr_bytes(w, m->value, m->value_len);
    } else {
        ef_wr_bool(w, m->has_value);
        ef_wr_raw(w, &m->value_id, sizeof m->value_id);
    }
}

static bool ef_msg_fields_ok(const ef_msg *m)
{
    if (m->type != EF_MSG_PROPOSAL && m->type != EF_MSG_PREVOTE && m->type != EF_MSG_PRECOMMIT)
        return false;
    size_t cl = strnlen(m->chain, sizeof m->chain);
    if (cl == 0 || cl > EF_MSG_CHAIN_MAX) return false;
    if (m->height == 0 || m->round > EF_MSG_ROUND_MAX) return false;
    if (m->type == EF_MSG_PROPOSAL) {
        if (m->valid_round != EF_ROUND_NONE && m->valid_round >= m->round) return false;
        if (m->value_len == 0 || m->value_len > EF_MSG_VALUE_MAX || !m->value) return false;
    } else if (!m->has_value && !ef_hash_is_zero(&m->value_id)) {
        return false;
    }
    return true;
}

int ef_msg_decode(ef_msg *m, const uint8_t *p, size_t len)
{
    ef_rd r;
    uint8_t type = 0;
    int rc;
    memset(m, 0, sizeof *m);
    ef_rd_init(&r, p, len);
    ef_rd_u8(&r, &type);
    m->type = (ef_msg_type)type;
    ef_rd_str(&r, m->chain, sizeof m->chain);
    ef_rd_u64(&r, &m->height);
    ef_rd_u32(&r, &m->round);
    ef_rd_raw(&r, &m->signer, sizeof m->signer);
    if (r.err) goto fail;
    if (type == EF_MSG_PROPOSAL) {
        ef_rd_u32(&r, &m->valid_round);
        ef_rd_bytes(&r, &m->value, &m->value_len, EF_MSG_VALUE_MAX);
    } else if (type == EF_MSG_PREVOTE || type == EF_MSG_PRECOMMIT) {
        ef_rd_bool(&r, &m->has_value);
        ef_rd_raw(&r, &m->value_id, sizeof m->value_id);
    } else {
        ef_rd_fail(&r, EF_EINVAL);
    }
    ef_rd_raw(&r, &m->sig, sizeof m->sig);
    if ((rc = ef_rd_finish(&r))) goto out;
    if (type != EF_MSG_PROPOSAL && !m->has_value && !ef_hash_is_zero(&m->value_id)) {
        rc = EF_ENONCANON;
        goto out;
    }
    if (!ef_msg_fields_ok(m)) {
        rc = EF_EINVAL;
        goto out;
    }
    return 0;
fail:
    rc = r.err;
out:
    memset(m, 0, sizeof *m);
    return rc;
}

int ef_msg_sign_encode(ef_msg *m, const ef_keypair *kp, uint8_t **out, size_t *out_len)
{
    ef_wr w;
    int rc;
    *out = NULL;
    *out_len = 0;
    m->signer = kp->pub;
    if (!ef_msg_fields_ok(m)) return EF_EINVAL;
    ef_wr_init(&w);
    ef_msg_write_body(&w, m);
    if (w.err) {
        rc = w.err;
        goto fail;
    }
    ef_sign(&m->sig, kp, ef_msg_tag(m->type), w.buf, w.len);
    ef_wr_raw(&w, &m->sig, sizeof m->sig);
    *out = ef_wr_take(&w, out_len);
    if (!*out) {
        rc = EF_ENOMEM;
        goto fail;
    }
    return 0;
fail:
    ef_wr_free(&w);
    return rc;
}

int ef_msg_encode(const ef_msg *m, uint8_t **out, size_t *out_len)
{
    ef_wr w;
    *out = NULL;
    *out_len = 0;
    if (!ef_msg_fields_ok(m)) return EF_EINVAL;
    ef_wr_init(&w);
    ef_msg_write_body(&w, m);
    ef_wr_raw(&w, &m->sig, sizeof m->sig);
    if (w.err) {
        int rc = w.err;
        ef_wr_free(&w);
        return rc;
    }
    *out = ef_wr_take(&w, out_len);
    return *out ? 0 : EF_ENOMEM;
}

bool ef_msg_verify_with(const ef_msg *m, ef_verify_fn verify, void *ctx)
{
    ef_wr w;
    bool ok = false;
    ef_wr_init(&w);
    ef_msg_write_body(&w, m);
    if (!w.err) {
        uint8_t tag = ef_msg_tag(m->type);
        ok = verify ? verify(ctx, &m->sig, &m->signer, tag, w.buf, w.len)
                    : ef_verify(&m->sig, &m->signer, tag, w.buf, w.len);
    }
    ef_wr_free(&w);
    return ok;
}

bool ef_msg_verify(const ef_msg *m)
{
    return ef_msg_verify_with(m, NULL, NULL);
}

size_t ef_msg_vote_signed_bytes(uint8_t *buf, ef_msg_type type, const char *chain,
                                uint64_t height, uint32_t round, const ef_pub *signer,
                                const ef_hash *value_id)
{
    /* one definition of a vote's bytes: the ledger's, which contracts verify */
    return ef_vote_signed_bytes(buf, (uint8_t)type, chain, height, round, signer, value_id);
}

int ef_evidence_encode(uint8_t **out, size_t *out_len, const uint8_t *a, size_t a_len,
                       const uint8_t *b, size_t b_len)
{
    ef_wr w;
    *out = NULL;
    *out_len = 0;
    if (a_len > EF_MSG_SIZE_MAX || b_len > EF_MSG_SIZE_MAX) return EF_ETOOBIG;
    ef_wr_init(&w);
    ef_wr_bytes(&w, a, a_len);
    ef_wr_bytes(&w, b, b_len);
    if (w.err) {
        int rc = w.err;
        ef_wr_free(&w);
        return rc;
    }
    *out = ef_wr_take(&w, out_len);
    return *out ? 0 : EF_ENOMEM;
}

int ef_evidence_verify(const uint8_t *p, size_t len, const char *chain, const ef_vset *vs,
                       ef_pub *signer, uint64_t *height)
{
    return ef_evidence_verify_with(p, len, chain, vs, signer, height, NULL, NULL);
}

int ef_evidence_verify_with(const uint8_t *p, size_t len, const char *chain, const ef_vset *vs,
                            ef_pub *signer, uint64_t *height, ef_verify_fn verify, void *verify_ctx)
{
    ef_rd r;
    const uint8_t *a, *b;
    size_t a_len = 0, b_len = 0;
    ef_msg ma, mb;
    int rc;
    memset(signer, 0, sizeof *signer);
    *height = 0;
    ef_rd_init(&r, p, len);
    ef_rd_bytes(&r, &a, &a_len, EF_MSG_SIZE_MAX);
    ef_rd_bytes(&r, &b, &b_len, EF_MSG_SIZE_MAX);
    if ((rc = ef_rd_finish(&r))) return rc;
    if ((rc = ef_msg_decode(&ma, a, a_len))) return rc;
    if ((rc = ef_msg_decode(&mb, b, b_len))) return rc;
    if (strcmp(ma.chain, chain) || strcmp(mb.chain, chain)) return EF_ECHAIN;
    if (ma.type != mb.type || ma.height != mb.height || ma.round != mb.round ||
        memcmp(&ma.signer, &mb.signer, sizeof ma.signer))
        return EF_EINVAL;
    bool conflict;
    if (ma.type == EF_MSG_PROPOSAL)
        conflict = ma.valid_round != mb.valid_round || ma.value_len != mb.value_len ||
                   memcmp(ma.value, mb.value, ma.value_len);
    else
        conflict = ma.has_value != mb.has_value || !ef_hash_eq(&ma.value_id, &mb.value_id);
    if (!conflict) return EF_EINVAL;
    if (ef_cvset_index(vs, &ma.signer) < 0) return EF_ENOTVAL;
    if (!ef_msg_verify_with(&ma, verify, verify_ctx) || !ef_msg_verify_with(&mb, verify, verify_ctx))
        return EF_EBADSIG;
    *signer = ma.signer;
    *height = ma.height;
    return 0;
}
