/* fuzz_frame.c: libFuzzer target for the P2P session decoder: hello, auth and
 * sealed frames, fed in arbitrary chunks, in both the handshake and open states. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "net/ef_wire.h"

static int fz_allow(void *arg, const ef_pub *pub) { (void)arg; return pub->b[0] & 1 ? EF_EAUTH : 0; }
static int fz_msg(void *arg, uint8_t type, const uint8_t *p, size_t len)
{
    (void)arg; (void)p;
    return (type == EF_P2P_TXS && len == 3) ? EF_ETRUNC : 0;
}
static const ef_sess_ops fz_ops = {fz_allow, fz_msg};

static ef_keypair ka, kb;
static ef_hash net;

/* Feeds data in chunks whose sizes come from the first byte. */
static void feed_chunks(ef_sess *s, const uint8_t *data, size_t size)
{
    size_t chunk = size ? (size_t)data[0] % 37 + 1 : 1;
    ef_wr out;
    ef_wr_init(&out);
    for (size_t off = 0; off < size && s->state != EF_SESS_DEAD; off += chunk) {
        size_t n = EF_MIN(chunk, size - off);
        (void)ef_sess_feed(s, data + off, n, &fz_ops, NULL, &out);
        ef_wr_reset(&out);
        /* before auth: nothing on the heap, nothing beyond the handshake held */
        if ((s->state == EF_SESS_HELLO || s->state == EF_SESS_AUTH) &&
            (ef_sess_heap(s) != 0 || ef_sess_buffered(s) > EF_PREAUTH_BUF))
            __builtin_trap();
    }
    ef_wr_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        ef_crypto_init();
        uint8_t seed[32] = {1};
        ef_keypair_from_seed(&ka, seed);
        seed[0] = 2;
        ef_keypair_from_seed(&kb, seed);
        ef_wire_netid(&net, "fuzz");
        init = 1;
    }
    /* 1: a fresh acceptor reading the fuzz input as the peer's whole stream. */
    ef_sess s;
    ef_wr out;
    ef_wr_init(&out);
    ef_sess_init(&s, &kb, &net, false, &out);
    feed_chunks(&s, data, size);
    ef_sess_free(&s);

    /* 2: an open session (real handshake in memory), then the fuzz input as frames,
     * after one valid frame so the counter state is exercised. */
    ef_sess a, b;
    ef_wr wa, wb, t;
    ef_wr_init(&wa); ef_wr_init(&wb); ef_wr_init(&t);
    ef_sess_init(&a, &ka, &net, true, &wa);
    ef_sess_init(&b, &kb, &net, false, &wb);
    ef_wr ta, tb;
    ef_wr_init(&ta); ef_wr_init(&tb);
    (void)ef_sess_feed(&b, wa.buf, wa.len, &fz_ops, NULL, &tb);
    (void)ef_sess_feed(&a, wb.buf, wb.len, &fz_ops, NULL, &ta);
    (void)ef_sess_feed(&b, ta.buf, ta.len, &fz_ops, NULL, &t);
    if (ef_sess_is_open(&b)) {
        ef_wr_reset(&t);
        ef_sess_seal(&a, EF_P2P_STATUS, data, EF_MIN(size, (size_t)40), &t);
        (void)ef_sess_feed(&b, t.buf, t.len, &fz_ops, NULL, &out);
        feed_chunks(&b, data, size);
    }
    ef_sess_free(&a); ef_sess_free(&b);
    ef_wr_free(&wa); ef_wr_free(&wb); ef_wr_free(&ta); ef_wr_free(&tb); ef_wr_free(&t); ef_wr_free(&out);
    return 0;
}
