/* ef_voucher.c: payment-channel vouchers: message, encoding, signing (see ef_voucher.h). */
#include "base/ef_voucher.h"

#include <string.h>

static bool ef_voucher_fields_ok(const ef_voucher *v)
{
    size_t n = strnlen(v->chain_id, sizeof v->chain_id);
    return n >= 1 && n <= EF_VOUCHER_CHAIN_MAX && v->amount <= (uint64_t)INT64_MAX;
}

int ef_voucher_message(ef_wr *w, const ef_voucher *v)
{
    if (!ef_voucher_fields_ok(v)) return EF_EINVAL;
    ef_wr_str(w, EF_VOUCHER_DOMAIN);
    ef_wr_str(w, v->chain_id);
    ef_wr_u64(w, v->channel);
    ef_wr_u64(w, v->nonce);
    return ef_wr_u64(w, v->amount);
}

int ef_voucher_sign(ef_voucher *v, const ef_keypair *kp)
{
    ef_wr w;
    ef_wr_init(&w);
    int rc = ef_voucher_message(&w, v);
    if (rc == 0) rc = w.err;
    if (rc == 0) {
        v->payer = kp->pub;
        ef_sign(&v->sig, kp, EF_TAG_VOUCHER, w.buf, w.len);
    }
    ef_wr_free(&w);
    return rc;
}

int ef_voucher_encode(ef_wr *w, const ef_voucher *v)
{
    int rc = ef_voucher_message(w, v);
    if (rc) return rc;
    ef_wr_raw(w, v->payer.b, EF_PUB_SIZE);
    return ef_wr_raw(w, v->sig.b, EF_SIG_SIZE);
}

int ef_voucher_decode(ef_voucher *v, const uint8_t *p, size_t len)
{
    char domain[sizeof EF_VOUCHER_DOMAIN + 1];
    ef_rd r;
    memset(v, 0, sizeof *v);
    ef_rd_init(&r, p, len);
    /* the domain field may be any short string: a longer one is a codec error */
    int rc = ef_rd_str(&r, domain, sizeof domain);
    if (rc == 0 && strcmp(domain, EF_VOUCHER_DOMAIN)) rc = EF_EPROTO;
    if (rc == 0) {
        ef_rd_str(&r, v->chain_id, sizeof v->chain_id);
        ef_rd_u64(&r, &v->channel);
        ef_rd_u64(&r, &v->nonce);
        ef_rd_u64(&r, &v->amount);
        ef_rd_raw(&r, v->payer.b, EF_PUB_SIZE);
        ef_rd_raw(&r, v->sig.b, EF_SIG_SIZE);
        rc = ef_rd_finish(&r);
    }
    if (rc == 0 && !v->chain_id[0]) rc = EF_EINVAL;
    if (rc == 0 && v->amount > (uint64_t)INT64_MAX) rc = EF_EOVERFLOW;
    if (rc) memset(v, 0, sizeof *v);
    return rc;
}

int ef_voucher_decode_hex(ef_voucher *v, const char *hex)
{
    uint8_t buf[EF_VOUCHER_ENC_MAX];
    size_t n = strlen(hex);
    memset(v, 0, sizeof *v);
    if (n % 2 || n / 2 > sizeof buf || n == 0) return EF_EINVAL;
    if (ef_unhex(buf, n / 2, hex)) return EF_EINVAL;
    return ef_voucher_decode(v, buf, n / 2);
}

int ef_voucher_hex(char *out, size_t cap, const ef_voucher *v)
{
    ef_wr w;
    ef_wr_init(&w);
    int rc = ef_voucher_encode(&w, v);
    if (rc == 0) rc = w.err;
    if (rc == 0 && cap < 2 * w.len + 1) rc = EF_ETOOBIG;
    if (rc == 0) ef_hex(out, w.buf, w.len);
    ef_wr_free(&w);
    return rc;
}

int ef_voucher_verify(const ef_voucher *v, const ef_pub *payer)
{
    if (payer && memcmp(payer->b, v->payer.b, EF_PUB_SIZE)) return EF_EPERM;
    ef_wr w;
    ef_wr_init(&w);
    int rc = ef_voucher_message(&w, v);
    if (rc == 0) rc = w.err;
    if (rc == 0 && !ef_verify(&v->sig, &v->payer, EF_TAG_VOUCHER, w.buf, w.len)) rc = EF_EBADSIG;
    ef_wr_free(&w);
    return rc;
}
