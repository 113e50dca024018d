/* ef_api_token.c: read tokens of private ledgers: a member signs, once, a
 * short-lived token bound to the chain; a client that cannot sign requests (the
 * explorer page) sends it with each read. Format and rules: api/ef_api.h. */
#include "api/ef_api.h"

#include <string.h>

#include "base/ef_codec.h"

/* The signed part of a token: version, chain id, key, issued, expires. */
static int ef_token_body(ef_wr *w, const char *chain_id, const ef_pub *pub, uint64_t issued_ms,
                         uint64_t expires_ms)
{
    ef_wr_u8(w, EF_API_TOKEN_VERSION);
    ef_wr_str(w, chain_id);
    ef_wr_raw(w, pub->b, EF_PUB_SIZE);
    ef_wr_u64(w, issued_ms);
    return ef_wr_u64(w, expires_ms);
}

int ef_api_token_make(char *hex, size_t cap, const ef_keypair *kp, const char *chain_id,
                      uint64_t issued_ms, uint64_t ttl_ms)
{
    EF_ASSERT(hex && kp && chain_id);
    size_t cl = strlen(chain_id);
    if (!cl || cl > EF_CHAIN_ID_MAX || !ttl_ms || ttl_ms > EF_API_TOKEN_TTL_MAX_MS ||
        cap < EF_API_TOKEN_HEX_MAX + 1 || issued_ms > UINT64_MAX - ttl_ms)
        return EF_EINVAL;
    ef_wr w;
    ef_wr_init(&w);
    int rc = ef_token_body(&w, chain_id, &kp->pub, issued_ms, issued_ms + ttl_ms);
    if (!rc) {
        ef_sig sig;
        ef_sign(&sig, kp, EF_TAG_READ_TOKEN, w.buf, w.len);
        rc = ef_wr_raw(&w, sig.b, EF_SIG_SIZE);
    }
    if (!rc) ef_hex(hex, w.buf, w.len);
    int n = rc ? rc : (int)(2 * w.len);
    ef_wr_free(&w);
    return n;
}

int ef_api_token_check(ef_api_token *out, const char *hex, const char *chain_id, uint64_t now_ms)
{
    EF_ASSERT(out && hex);
    memset(out, 0, sizeof *out);
    uint8_t raw[EF_API_TOKEN_HEX_MAX / 2];
    size_t hl = strlen(hex);
    if (hl % 2 || hl > EF_API_TOKEN_HEX_MAX || ef_unhex(raw, hl / 2, hex)) return EF_EINVAL;
    size_t len = hl / 2;
    if (len < EF_SIG_SIZE) return EF_EINVAL;
    ef_rd r;
    ef_rd_init(&r, raw, len - EF_SIG_SIZE);
    uint8_t ver = 0;
    ef_api_token t;
    memset(&t, 0, sizeof t);
    ef_rd_u8(&r, &ver);
    ef_rd_str(&r, t.chain_id, sizeof t.chain_id);
    ef_rd_raw(&r, t.pub.b, EF_PUB_SIZE);
    ef_rd_u64(&r, &t.issued_ms);
    ef_rd_u64(&r, &t.expires_ms);
    if (ef_rd_finish(&r) || ver != EF_API_TOKEN_VERSION || !t.chain_id[0] ||
        t.expires_ms <= t.issued_ms)
        return EF_EINVAL;
    memcpy(t.sig.b, raw + len - EF_SIG_SIZE, EF_SIG_SIZE);
    if (!ef_verify(&t.sig, &t.pub, EF_TAG_READ_TOKEN, raw, len - EF_SIG_SIZE)) return EF_EBADSIG;
    if (chain_id && strcmp(chain_id, t.chain_id)) return EF_ECHAIN;
    if (now_ms && (now_ms >= t.expires_ms || t.issued_ms > now_ms + EF_API_TOKEN_SKEW_MS ||
                   t.expires_ms - t.issued_ms > EF_API_TOKEN_TTL_MAX_MS))
        return EF_ELATE;
    *out = t;
    return 0;
}
