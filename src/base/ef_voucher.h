/* ef_voucher.h: payment-channel vouchers: the canonical signed message a payer
 * hands its payee off-ledger, and its encoding (used by the channel contract, the
 * edge-node agent and `edgefed voucher`).
 *
 * A voucher says "of channel C on chain X, the payee may take AMOUNT in total":
 * amounts are cumulative, so a later voucher (higher nonce) supersedes every
 * earlier one and the payee keeps only the latest.
 *
 * Signed message (canonical, ef_codec rules; signed with tag EF_TAG_VOUCHER):
 *
 *   offset  size       field
 *   0       4 + 17     str  domain tag, exactly EF_VOUCHER_DOMAIN
 *   21      4 + n      str  chain id, 1..EF_VOUCHER_CHAIN_MAX bytes
 *   25+n    8          u64  channel id (channels are numbered from 1)
 *   33+n    8          u64  nonce (strictly increasing per channel, from 1)
 *   41+n    8          u64  cumulative amount (<= INT64_MAX)
 *
 * Voucher encoding (what travels, e.g. hex in a transaction's args or an HTTP
 * header): the message, then raw[32] payer public key, then raw[64] Ed25519
 * signature of the message by that key. Decoding rejects a wrong domain tag
 * (EF_EPROTO), an amount over INT64_MAX (EF_EOVERFLOW), a bad chain id (EF_EINVAL), and every codec error (EF_ETRUNC,
 * EF_ETRAILING, EF_ETOOBIG, ...). It does not verify the signature: call
 * ef_voucher_verify (which also checks the key is the expected payer).
 */
#ifndef EF_VOUCHER_H
#define EF_VOUCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ef_codec.h"
#include "ef_crypto.h"

#define EF_VOUCHER_DOMAIN "edgefed/voucher/1"
#define EF_VOUCHER_CHAIN_MAX 64
/* largest encoding: 4+17 + 4+64 + 3*8 + 32 + 64 */
#define EF_VOUCHER_ENC_MAX 213

typedef struct ef_voucher {
    char chain_id[EF_VOUCHER_CHAIN_MAX + 1];
    uint64_t channel;
    uint64_t nonce;
    uint64_t amount;   /* cumulative */
    ef_pub payer;
    ef_sig sig;
} ef_voucher;

/* Appends the signed message of v (not payer or sig) to w. */
int ef_voucher_message(ef_wr *w, const ef_voucher *v);
/* Fills v->payer and v->sig: signs the message with kp. Returns 0, EF_EINVAL
 * (a field out of range) or EF_ENOMEM. */
int ef_voucher_sign(ef_voucher *v, const ef_keypair *kp);
/* Appends the whole voucher (message, payer, signature). */
int ef_voucher_encode(ef_wr *w, const ef_voucher *v);
/* Decodes exactly len bytes; on failure *v is zeroed. Errors above. */
EF_MUST_USE int ef_voucher_decode(ef_voucher *v, const uint8_t *p, size_t len);
/* Decodes a voucher given as hex digits (EF_EINVAL if not hex or too long). */
EF_MUST_USE int ef_voucher_decode_hex(ef_voucher *v, const char *hex);
/* Hex of the encoding into out (at least 2 * EF_VOUCHER_ENC_MAX + 1 bytes). */
int ef_voucher_hex(char *out, size_t cap, const ef_voucher *v);
/* 0 if v is signed by v->payer and, when payer is not NULL, v->payer equals it
 * (EF_EPERM otherwise); EF_EBADSIG if the signature does not verify. */
EF_MUST_USE int ef_voucher_verify(const ef_voucher *v, const ef_pub *payer);

#endif
