/* ef_receipt.h: SLA receipts: the canonical signed per-epoch measurement a
 * monitor (the customer's, or the operator's edge monitor) makes of one epoch of
 * one SLA, its encoding, signing and the verdict rule (used by the sla contract,
 * the monitors and `edgefed sla receipt`).
 *
 * Signed message (canonical, ef_codec rules, little-endian; signed with tag
 * EF_TAG_RECEIPT, i.e. Ed25519 over 0x40 || message):
 *
 *   offset  size     field
 *   0       4 + 21   str  domain tag, exactly EF_RECEIPT_DOMAIN
 *   25      4 + n    str  chain id, 1..EF_RECEIPT_CHAIN_MAX bytes
 *   29+n    8        u64  SLA id (from 1)
 *   37+n    8        u64  epoch index (0 = the first epoch of the SLA)
 *   45+n    8        u64  kbps: payload bit/s delivered in the epoch / 1000
 *   53+n    8        u64  pkts_sent: packets the sending side put into the slice
 *   61+n    8        u64  pkts_recv: packets that arrived (<= pkts_sent)
 *   69+n    4        u32  loss_ppm = (pkts_sent - pkts_recv) * 1e6 / pkts_sent,
 *                         rounded down; 0 when pkts_sent = 0
 *   73+n    8        u64  lat_p50_us: median one-way delay, microseconds
 *   81+n    8        u64  lat_p99_us: 99th percentile delay (>= p50)
 *   89+n    8        u64  lat_max_us: largest delay seen (>= p99)
 *   97+n    32       raw  samples: BLAKE2b-256 (ef_hash_tagged, tag
 *                         EF_TAG_RECEIPT) of the monitor's raw sample file
 *   129+n   1        u8   verdict: bit 0 min_kbps breached, bit 1 max_latency_us
 *                         breached, bit 2 max_loss_ppm breached; bits 3..7 zero
 *   130+n            end of the message (n = chain id length)
 *
 * Receipt encoding (what travels: hex in a transaction's args, the CLI, between
 * monitors): the message, then raw[32] signer public key, then raw[64] Ed25519
 * signature of the message by that key: 226 + n bytes.
 *
 * Decoding rejects (nothing is returned, *r zeroed): a wrong domain tag
 * (EF_EPROTO), verdict bits 3..7 set (EF_ENONCANON), pkts_sent over
 * EF_RECEIPT_PKTS_MAX (EF_ETOOBIG), pkts_recv > pkts_sent, a loss_ppm other than
 * the one the packet counts give, p50 > p99 or p99 > max, an empty chain id
 * (EF_EINVAL), and every codec error (EF_ETRUNC, EF_ETRAILING, EF_ETOOBIG). So a
 * receipt has exactly one encoding. Decoding does not verify the signature: call
 * ef_receipt_verify.
 *
 * Verdict rule (ef_receipt_verdict): with the SLA's rules, min_kbps is breached
 * iff kbps < min_kbps, max_latency_us iff lat_p99_us > max_latency_us,
 * max_loss_ppm iff loss_ppm > max_loss_ppm. The contract rejects a receipt
 * whose verdict byte is not this (EF_EVERDICT): the bits are there so a reader
 * of a receipt sees the monitor's judgement without the SLA at hand.
 *
 * Threading: plain values; no shared state. ef_crypto_init() first.
 */
#ifndef EF_RECEIPT_H
#define EF_RECEIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ef_codec.h"
#include "ef_crypto.h"

#define EF_RECEIPT_DOMAIN "edgefed/sla-receipt/1"
#define EF_RECEIPT_CHAIN_MAX 64
#define EF_RECEIPT_PKTS_MAX (UINT64_C(1) << 40)
#define EF_RECEIPT_MSG_MAX (130 + EF_RECEIPT_CHAIN_MAX)
#define EF_RECEIPT_ENC_MAX (EF_RECEIPT_MSG_MAX + EF_PUB_SIZE + EF_SIG_SIZE)   /* 290 */
#define EF_RECEIPT_HEX_MAX (2 * EF_RECEIPT_ENC_MAX)

enum {
    EF_VERDICT_KBPS = 1u << 0,
    EF_VERDICT_LATENCY = 1u << 1,
    EF_VERDICT_LOSS = 1u << 2,
    EF_VERDICT_ALL = 7u,
};

/* An SLA's service level: integers only. */
typedef struct ef_sla_rules {
    uint64_t min_kbps;        /* >= 1 */
    uint64_t max_latency_us;  /* >= 1 */
    uint32_t max_loss_ppm;    /* 0..1000000 */
} ef_sla_rules;

typedef struct ef_receipt {
    char chain_id[EF_RECEIPT_CHAIN_MAX + 1];
    uint64_t sla;
    uint64_t epoch;
    uint64_t kbps;
    uint64_t pkts_sent, pkts_recv;
    uint32_t loss_ppm;
    uint64_t lat_p50_us, lat_p99_us, lat_max_us;
    ef_hash samples;
    uint8_t verdict;
    ef_pub signer;
    ef_sig sig;
} ef_receipt;

/* loss_ppm implied by the packet counts (0 if sent = 0; recv <= sent). */
uint32_t ef_receipt_loss_ppm(uint64_t pkts_sent, uint64_t pkts_recv);
/* The verdict bits of r's values under rules (see the rule above). */
uint8_t ef_receipt_verdict(const ef_receipt *r, const ef_sla_rules *rules);
/* Appends the signed message of r (not signer or sig) to w. EF_EINVAL (or the
 * decoder's code) if a field is out of range. */
int ef_receipt_message(ef_wr *w, const ef_receipt *r);
/* Sets r->loss_ppm from the counts, r->verdict from rules (if rules is not
 * NULL; else keeps r->verdict), then fills signer and sig with kp. Returns 0,
 * EF_EINVAL or EF_ETOOBIG (a field out of range), EF_ENOMEM. */
int ef_receipt_make(ef_receipt *r, const ef_sla_rules *rules, const ef_keypair *kp);
/* Appends the whole receipt (message, signer, signature). */
int ef_receipt_encode(ef_wr *w, const ef_receipt *r);
/* Decodes exactly len bytes; on failure *r is zeroed. Errors above. */
EF_MUST_USE int ef_receipt_decode(ef_receipt *r, const uint8_t *p, size_t len);
/* Decodes hex digits (EF_EINVAL if not hex, odd, empty or over EF_RECEIPT_HEX_MAX). */
EF_MUST_USE int ef_receipt_decode_hex(ef_receipt *r, const char *hex);
/* Hex of the encoding into out (cap >= EF_RECEIPT_HEX_MAX + 1, else EF_ETOOBIG). */
int ef_receipt_hex(char *out, size_t cap, const ef_receipt *r);
/* 0 if r is signed by r->signer and, when signer is not NULL, r->signer equals it
 * (EF_ESIGNER otherwise); EF_EBADSIG if the signature does not verify. */
EF_MUST_USE int ef_receipt_verify(const ef_receipt *r, const ef_pub *signer);
/* true if a and b have the same message (same signer aside), i.e. say the same. */
bool ef_receipt_same(const ef_receipt *a, const ef_receipt *b);

#endif
