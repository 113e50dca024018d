/* ef_receipt.c: SLA receipts: message, encoding, signing, verdict (see ef_receipt.h). */
#include "base/ef_receipt.h"

#include <string.h>

uint32_t ef_receipt_loss_ppm(uint64_t pkts_sent, uint64_t pkts_recv)
{
    EF_ASSERT(pkts_recv <= pkts_sent && pkts_sent <= EF_RECEIPT_PKTS_MAX);
    if (pkts_sent == 0) return 0;
    /* (sent - recv) * 1e6 < 2^40 * 2^20: no overflow */
    return (uint32_t)((pkts_sent - pkts_recv) * 1000000u / pkts_sent);
}

uint8_t ef_receipt_verdict(const ef_receipt *r, const ef_sla_rules *rules)
{
    uint8_t v = 0;
    if (r->kbps < rules->min_kbps) v |= EF_VERDICT_KBPS;
    if (r->lat_p99_us > rules->max_latency_us) v |= EF_VERDICT_LATENCY;
    if (r->loss_ppm > rules->max_loss_ppm) v |= EF_VERDICT_LOSS;
    return v;
}

/* The checks the decoder makes on a message's values. */
static int ef_receipt_fields_check(const ef_receipt *r)
{
    size_t n = strnlen(r->chain_id, sizeof r->chain_id);
    if (n == 0 || n > EF_RECEIPT_CHAIN_MAX) return EF_EINVAL;
    if (r->verdict & ~EF_VERDICT_ALL) return EF_ENONCANON;
    if (r->pkts_sent > EF_RECEIPT_PKTS_MAX) return EF_ETOOBIG;
    if (r->pkts_recv > r->pkts_sent) return EF_EINVAL;
    if (r->loss_ppm != ef_receipt_loss_ppm(r->pkts_sent, r->pkts_recv)) return EF_EINVAL;
    if (r->lat_p50_us > r->lat_p99_us || r->lat_p99_us > r->lat_max_us) return EF_EINVAL;
    return 0;
}

int ef_receipt_message(ef_wr *w, const ef_receipt *r)
{
    int rc = ef_receipt_fields_check(r);
    if (rc) return rc;
    ef_wr_str(w, EF_RECEIPT_DOMAIN);
    ef_wr_str(w, r->chain_id);
    ef_wr_u64(w, r->sla);
    ef_wr_u64(w, r->epoch);
    ef_wr_u64(w, r->kbps);
    ef_wr_u64(w, r->pkts_sent);
    ef_wr_u64(w, r->pkts_recv);
    ef_wr_u32(w, r->loss_ppm);
    ef_wr_u64(w, r->lat_p50_us);
    ef_wr_u64(w, r->lat_p99_us);
    ef_wr_u64(w, r->lat_max_us);
    ef_wr_raw(w, r->samples.b, EF_HASH_SIZE);
    return ef_wr_u8(w, r->verdict);
}

int ef_receipt_make(ef_receipt *r, const ef_sla_rules *rules, const ef_keypair *kp)
{
    if (r->pkts_sent > EF_RECEIPT_PKTS_MAX) return EF_ETOOBIG;
    if (r->pkts_recv > r->pkts_sent) return EF_EINVAL;
    r->loss_ppm = ef_receipt_loss_ppm(r->pkts_sent, r->pkts_recv);
    if (rules) r->verdict = ef_receipt_verdict(r, rules);
    ef_wr w;
    ef_wr_init(&w);
    int rc = ef_receipt_message(&w, r);
    if (rc == 0) rc = w.err;
    if (rc == 0) {
        r->signer = kp->pub;
        ef_sign(&r->sig, kp, EF_TAG_RECEIPT, w.buf, w.len);
    }
    ef_wr_free(&w);
    return rc;
}

int ef_receipt_encode(ef_wr *w, const ef_receipt *r)
{
    int rc = ef_receipt_message(w, r);
    if (rc) return rc;
    ef_wr_raw(w, r->signer.b, EF_PUB_SIZE);
    return ef_wr_raw(w, r->sig.b, EF_SIG_SIZE);
}

static void ef_receipt_read_values(ef_rd *rd, ef_receipt *r)
{
    ef_rd_str(rd, r->chain_id, sizeof r->chain_id);
    ef_rd_u64(rd, &r->sla);
    ef_rd_u64(rd, &r->epoch);
    ef_rd_u64(rd, &r->kbps);
    ef_rd_u64(rd, &r->pkts_sent);
    ef_rd_u64(rd, &r->pkts_recv);
    ef_rd_u32(rd, &r->loss_ppm);
    ef_rd_u64(rd, &r->lat_p50_us);
    ef_rd_u64(rd, &r->lat_p99_us);
    ef_rd_u64(rd, &r->lat_max_us);
    ef_rd_raw(rd, r->samples.b, EF_HASH_SIZE);
    ef_rd_u8(rd, &r->verdict);
    ef_rd_raw(rd, r->signer.b, EF_PUB_SIZE);
    ef_rd_raw(rd, r->sig.b, EF_SIG_SIZE);
}

int ef_receipt_decode(ef_receipt *r, const uint8_t *p, size_t len)
{
    char domain[sizeof EF_RECEIPT_DOMAIN + 1];
    ef_rd rd;
    memset(r, 0, sizeof *r);
    ef_rd_init(&rd, p, len);
    /* the domain field may be any short string: a longer one is a codec error */
    int rc = ef_rd_str(&rd, domain, sizeof domain);
    if (rc == 0 && strcmp(domain, EF_RECEIPT_DOMAIN)) rc = EF_EPROTO;
    if (rc == 0) {
        ef_receipt_read_values(&rd, r);
        rc = ef_rd_finish(&rd);
    }
    if (rc == 0) rc = ef_receipt_fields_check(r);
    if (rc) memset(r, 0, sizeof *r);
    return rc;
}

int ef_receipt_decode_hex(ef_receipt *r, const char *hex)
{
    uint8_t buf[EF_RECEIPT_ENC_MAX];
    size_t n = strnlen(hex, EF_RECEIPT_HEX_MAX + 1);
    memset(r, 0, sizeof *r);
    if (n % 2 || n == 0 || n > EF_RECEIPT_HEX_MAX) return EF_EINVAL;
    if (ef_unhex(buf, n / 2, hex)) return EF_EINVAL;
    return ef_receipt_decode(r, buf, n / 2);
}

int ef_receipt_hex(char *out, size_t cap, const ef_receipt *r)
{
    ef_wr w;
    ef_wr_init(&w);
    int rc = ef_receipt_encode(&w, r);
    if (rc == 0) rc = w.err;
    if (rc == 0 && cap < 2 * w.len + 1) rc = EF_ETOOBIG;
    if (rc == 0) ef_hex(out, w.buf, w.len);
    ef_wr_free(&w);
    return rc;
}

int ef_receipt_verify(const ef_receipt *r, const ef_pub *signer)
{
    if (signer && memcmp(signer->b, r->signer.b, EF_PUB_SIZE)) return EF_ESIGNER;
    ef_wr w;
    ef_wr_init(&w);
    int rc = ef_receipt_message(&w, r);
    if (rc == 0) rc = w.err;
    if (rc == 0 && !ef_verify(&r->sig, &r->signer, EF_TAG_RECEIPT, w.buf, w.len)) rc = EF_EBADSIG;
    ef_wr_free(&w);
    return rc;
}

bool ef_receipt_same(const ef_receipt *a, const ef_receipt *b)
{
    return !strcmp(a->chain_id, b->chain_id) && a->sla == b->sla && a->epoch == b->epoch && a->kbps == b->kbps &&
           a->pkts_sent == b->pkts_sent && a->pkts_recv == b->pkts_recv && a->loss_ppm == b->loss_ppm &&
           a->lat_p50_us == b->lat_p50_us && a->lat_p99_us == b->lat_p99_us && a->lat_max_us == b->lat_max_us &&
           ef_hash_eq(&a->samples, &b->samples) && a->verdict == b->verdict;
}
