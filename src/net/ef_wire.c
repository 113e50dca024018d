/* ef_wire.c: the P2P session protocol (handshake, auth, sealed frames), no I/O. */
#include "net/ef_wire.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(crypto_kx_PUBLICKEYBYTES == 32, "kx key size");
_Static_assert(crypto_kx_SESSIONKEYBYTES == 32, "kx session key size");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == 16, "aead tag size");
_Static_assert(EF_HELLO_SIZE == 4 + 1 + 32 + 32 + 32, "hello layout");

#define EF_AUTH_PLAIN_SIZE (1 + EF_SIG_SIZE)
_Static_assert(EF_AUTH_FRAME_N == EF_AUTH_PLAIN_SIZE + crypto_aead_xchacha20poly1305_ietf_ABYTES,
               "auth frame size");

static const char *const ef_net_reason_names[EF_NR_COUNT_] = {
    "malformed", "oversize", "bad_mac", "unknown_key", "bad_auth", "wrong_net",
    "timeout", "sendq_full", "rejected", "io", "duplicate", "too_many_conns",
    "preauth_oversize", "handshake_timeout", "preauth_limit",
};

const char *ef_net_reason_name(int reason)
{
    if (reason < 0 || reason >= EF_NR_COUNT_) return "unknown";
    return ef_net_reason_names[reason];
}

void ef_wire_netid(ef_hash *out, const char *chain_id)
{
    ef_hash_tagged(out, EF_TAG_HANDSHAKE, chain_id, strlen(chain_id));
}

int ef_sess_init(ef_sess *s, const ef_keypair *kp, const ef_hash *netid, bool dialer, ef_wr *out)
{
    EF_ASSERT(s && kp && netid && out);
    memset(s, 0, sizeof *s);
    s->kp = kp;
    s->dialer = dialer;
    s->netid = *netid;
    s->state = EF_SESS_HELLO;
    s->fail_reason = -1;
    crypto_kx_keypair(s->eph_pk, s->eph_sk);
    uint8_t *h = s->my_hello;
    memcpy(h, "EFN1", 4);
    h[4] = EF_WIRE_VERSION;
    memcpy(h + 5, netid->b, 32);
    memcpy(h + 37, s->eph_pk, 32);
    memcpy(h + 69, kp->pub.b, 32);
    return ef_wr_raw(out, h, EF_HELLO_SIZE);
}

void ef_sess_free(ef_sess *s)
{
    if (!s) return;
    free(s->buf);
    free(s->plain);
    sodium_memzero(s->eph_sk, sizeof s->eph_sk);
    sodium_memzero(s->rx_key, sizeof s->rx_key);
    sodium_memzero(s->tx_key, sizeof s->tx_key);
    s->buf = s->plain = NULL;
    s->state = EF_SESS_DEAD;
}

bool ef_sess_is_open(const ef_sess *s) { return s->state == EF_SESS_OPEN; }

size_t ef_sess_buffered(const ef_sess *s) { return s->pre_len + s->len; }

size_t ef_sess_heap(const ef_sess *s) { return s->cap + s->plain_cap; }

static int ef_sess_fail(ef_sess *s, int reason, int err)
{
    if (s->state != EF_SESS_DEAD) {
        s->state = EF_SESS_DEAD;
        s->fail_reason = reason;
    }
    return err;
}

static void ef_sess_nonce(uint8_t nonce[24], uint64_t ctr)
{
    memset(nonce, 0, 24);
    ef_put_u64le(nonce, ctr);
}

/* The transcript hash: dialer hello first. */
static void ef_sess_transcript(const ef_sess *s, uint8_t th[32])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    const uint8_t *d = s->dialer ? s->my_hello : s->peer_hello;
    const uint8_t *a = s->dialer ? s->peer_hello : s->my_hello;
    crypto_generichash_update(&st, d, EF_HELLO_SIZE);
    crypto_generichash_update(&st, a, EF_HELLO_SIZE);
    crypto_generichash_final(&st, th, 32);
}

static void ef_sess_auth_msg(const ef_sess *s, bool mine, uint8_t msg[33])
{
    ef_sess_transcript(s, msg);
    bool signer_is_dialer = mine ? s->dialer : !s->dialer;
    msg[32] = signer_is_dialer ? 'D' : 'A';
}

int ef_sess_seal(ef_sess *s, uint8_t type, const void *payload, size_t len, ef_wr *out)
{
    EF_ASSERT(s->state == EF_SESS_AUTH || s->state == EF_SESS_OPEN);
    if (len > EF_P2P_PAYLOAD_MAX) return EF_ETOOBIG;
    size_t n = 1 + len + crypto_aead_xchacha20poly1305_ietf_ABYTES;
    size_t start = out->len;
    uint8_t hdr[4];
    ef_put_u32le(hdr, (uint32_t)n);
    int rc = ef_wr_raw(out, hdr, 4);
    if (rc) return rc;
    /* Reserve room, then encrypt in place: type byte + payload, then the tag. */
    rc = ef_wr_u8(out, type);
    if (!rc && len) rc = ef_wr_raw(out, payload, len);
    if (!rc) rc = ef_wr_raw(out, (const uint8_t[16]){0}, 16);
    if (rc) return rc;
    uint8_t *m = out->buf + start + 4;
    uint8_t nonce[24];
    ef_sess_nonce(nonce, s->tx_ctr++);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(m, &clen, m, 1 + len, out->buf + start, 4, NULL,
                                               nonce, s->tx_key);
    EF_ASSERT(clen == n);
    return 0;
}

static int ef_sess_on_hello(ef_sess *s, const ef_sess_ops *ops, void *arg, ef_wr *out)
{
    const uint8_t *h = s->peer_hello;
    if (memcmp(h, "EFN1", 4)) return ef_sess_fail(s, EF_NR_MALFORMED, EF_EPROTO);
    if (h[4] != EF_WIRE_VERSION || memcmp(h + 5, s->netid.b, 32))
        return ef_sess_fail(s, EF_NR_WRONG_NET, EF_EPROTO);
    memcpy(s->peer.b, h + 69, 32);
    if (!memcmp(s->peer.b, s->kp->pub.b, 32)) return ef_sess_fail(s, EF_NR_UNKNOWN_KEY, EF_EAUTH);
    if (ops->allow(arg, &s->peer)) return ef_sess_fail(s, EF_NR_UNKNOWN_KEY, EF_EAUTH);
    int rc = s->dialer
                 ? crypto_kx_client_session_keys(s->rx_key, s->tx_key, s->eph_pk, s->eph_sk, h + 37)
                 : crypto_kx_server_session_keys(s->rx_key, s->tx_key, s->eph_pk, s->eph_sk, h + 37);
    if (rc) return ef_sess_fail(s, EF_NR_BAD_AUTH, EF_EAUTH);
    s->state = EF_SESS_AUTH;
    uint8_t msg[33];
    ef_sess_auth_msg(s, true, msg);
    ef_sig sig;
    ef_sign(&sig, s->kp, EF_TAG_HANDSHAKE, msg, sizeof msg);
    return ef_sess_seal(s, EF_P2P_AUTH, sig.b, sizeof sig.b, out);
}

/* The peer's auth frame (frame = length prefix + EF_AUTH_FRAME_N bytes), opened
 * on the stack: nothing is allocated before the peer has proven its key. */
static int ef_sess_on_auth(ef_sess *s, const uint8_t *frame)
{
    EF_ASSERT(s->state == EF_SESS_AUTH && ef_get_u32le(frame) == EF_AUTH_FRAME_N);
    uint8_t plain[EF_AUTH_PLAIN_SIZE];
    uint8_t nonce[24];
    ef_sess_nonce(nonce, s->rx_ctr);
    unsigned long long mlen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &mlen, NULL, frame + 4, EF_AUTH_FRAME_N,
                                                   frame, 4, nonce, s->rx_key))
        return ef_sess_fail(s, EF_NR_BAD_AUTH, EF_EAUTH);
    s->rx_ctr++;
    EF_ASSERT(mlen == EF_AUTH_PLAIN_SIZE);
    if (plain[0] != EF_P2P_AUTH) return ef_sess_fail(s, EF_NR_BAD_AUTH, EF_EAUTH);
    uint8_t msg[33];
    ef_sess_auth_msg(s, false, msg);
    ef_sig sig;
    memcpy(sig.b, plain + 1, EF_SIG_SIZE);
    if (!ef_verify(&sig, &s->peer, EF_TAG_HANDSHAKE, msg, sizeof msg))
        return ef_sess_fail(s, EF_NR_BAD_AUTH, EF_EAUTH);
    s->state = EF_SESS_OPEN;
    return 0;
}

/* One frame of an open session. */
static int ef_sess_on_frame(ef_sess *s, const uint8_t *frame, size_t n, const ef_sess_ops *ops,
                            void *arg)
{
    EF_ASSERT(s->state == EF_SESS_OPEN);
    size_t plen = n - crypto_aead_xchacha20poly1305_ietf_ABYTES;
    if (s->plain_cap < plen) {
        size_t cap = EF_MAX(plen, s->plain_cap * 2);
        cap = EF_MIN(cap, (size_t)EF_FRAME_MAX);
        uint8_t *p = realloc(s->plain, cap);
        if (!p) return ef_sess_fail(s, EF_NR_IO, EF_ENOMEM);
        s->plain = p;
        s->plain_cap = cap;
    }
    uint8_t nonce[24];
    ef_sess_nonce(nonce, s->rx_ctr);
    unsigned long long mlen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(s->plain, &mlen, NULL, frame + 4, n, frame, 4,
                                                   nonce, s->rx_key))
        return ef_sess_fail(s, EF_NR_BAD_MAC, EF_EAUTH);
    s->rx_ctr++;
    EF_ASSERT(mlen == plen && plen >= 1);
    uint8_t type = s->plain[0];
    if (type == EF_P2P_AUTH || type == 0 || type > EF_P2P_TYPE_MAX_)
        return ef_sess_fail(s, EF_NR_MALFORMED, EF_EPROTO);
    int rc = ops->on_msg(arg, type, s->plain + 1, plen - 1);
    if (rc) {
        bool decode = rc == EF_ETRUNC || rc == EF_ETRAILING || rc == EF_ETOOBIG ||
                      rc == EF_ENONCANON || rc == EF_EPROTO;
        return ef_sess_fail(s, decode ? EF_NR_MALFORMED : EF_NR_REJECTED, rc);
    }
    return 0;
}

static int ef_sess_append(ef_sess *s, const uint8_t *data, size_t len)
{
    if (s->len + len > s->cap) {
        size_t cap = EF_MAX(s->len + len, s->cap ? s->cap * 2 : 4096);
        uint8_t *p = realloc(s->buf, cap);
        if (!p) return EF_ENOMEM;
        s->buf = p;
        s->cap = cap;
    }
    if (len) memcpy(s->buf + s->len, data, len);
    s->len += len;
    return 0;
}

/* Before auth: takes from data only what the hello or the auth frame still
 * needs, into the fixed s->pre. Returns 0 with *used set (the session may now be
 * open, and data + *used holds the first post-auth bytes), or a negative code
 * (session DEAD). */
static int ef_sess_feed_preauth(ef_sess *s, const uint8_t *data, size_t len, size_t *used,
                                const ef_sess_ops *ops, void *arg, ef_wr *out)
{
    size_t off = 0;
    while (s->state == EF_SESS_HELLO || s->state == EF_SESS_AUTH) {
        size_t want = s->state == EF_SESS_HELLO ? EF_HELLO_SIZE
                      : s->pre_len < 4          ? 4
                                                : 4 + (size_t)EF_AUTH_FRAME_N;
        EF_ASSERT(want <= sizeof s->pre && s->pre_len < want);
        size_t k = EF_MIN(want - s->pre_len, len - off);
        if (k) memcpy(s->pre + s->pre_len, data + off, k);
        s->pre_len += k;
        off += k;
        *used = off;
        if (s->pre_len < want) return 0;
        if (s->state == EF_SESS_HELLO) {
            memcpy(s->peer_hello, s->pre, EF_HELLO_SIZE);
            s->pre_len = 0;
            int rc = ef_sess_on_hello(s, ops, arg, out);
            if (rc) return rc;
        } else if (s->pre_len == 4) {
            uint32_t n = ef_get_u32le(s->pre);
            if (n > EF_AUTH_FRAME_N) return ef_sess_fail(s, EF_NR_PREAUTH_OVERSIZE, EF_ETOOBIG);
            if (n < 1 + crypto_aead_xchacha20poly1305_ietf_ABYTES)
                return ef_sess_fail(s, EF_NR_MALFORMED, EF_EPROTO);
            if (n < EF_AUTH_FRAME_N) return ef_sess_fail(s, EF_NR_BAD_AUTH, EF_EAUTH);
        } else {
            int rc = ef_sess_on_auth(s, s->pre);
            s->pre_len = 0;
            if (rc) return rc;
        }
    }
    return 0;
}

int ef_sess_feed(ef_sess *s, const uint8_t *data, size_t len, const ef_sess_ops *ops, void *arg,
                 ef_wr *out)
{
    if (s->state == EF_SESS_DEAD) return EF_ECLOSED;
    if (s->state != EF_SESS_OPEN) {
        size_t used = 0;
        int rc = ef_sess_feed_preauth(s, data, len, &used, ops, arg, out);
        if (rc) return rc;
        if (s->state != EF_SESS_OPEN) return 0;
        data += used;
        len -= used;
        if (len == 0) return 0;
    }
    if (ef_sess_append(s, data, len)) return ef_sess_fail(s, EF_NR_IO, EF_ENOMEM);
    size_t off = 0;
    int rc = 0;
    while (s->state != EF_SESS_DEAD) {
        size_t left = s->len - off;
        if (left < 4) break;
        uint32_t n = ef_get_u32le(s->buf + off);
        if (n > EF_FRAME_MAX) { rc = ef_sess_fail(s, EF_NR_OVERSIZE, EF_ETOOBIG); break; }
        if (n < 1 + crypto_aead_xchacha20poly1305_ietf_ABYTES) {
            rc = ef_sess_fail(s, EF_NR_MALFORMED, EF_EPROTO);
            break;
        }
        if (left < 4 + (size_t)n) break;
        rc = ef_sess_on_frame(s, s->buf + off, n, ops, arg);
        off += 4 + (size_t)n;
        if (rc) break;
    }
    if (s->state == EF_SESS_DEAD) return rc ? rc : EF_ECLOSED;
    if (off) memmove(s->buf, s->buf + off, s->len - off);
    s->len -= off;
    if (s->len == 0 && s->cap > (256u << 10)) { /* give back a large frame's buffers */
        free(s->buf);
        s->buf = NULL;
        s->cap = 0;
    }
    if (s->plain_cap > (256u << 10)) {
        free(s->plain);
        s->plain = NULL;
        s->plain_cap = 0;
    }
    return 0;
}
