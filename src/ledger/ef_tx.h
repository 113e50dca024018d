/* ef_tx.h: signed transactions: encoding, hash, signature, stateless checks.
 *
 * A transaction calls one method of one contract as its sender. Encoding
 * (canonical, see ef_codec.h; "body" is everything but the signature):
 *
 *   offset   size      meaning
 *   0        4+c       str chain_id, 1..EF_CHAIN_ID_MAX bytes of [A-Za-z0-9._-]
 *   4+c      32        raw sender public key (Ed25519)
 *   36+c     8         u64 nonce
 *   44+c     4+k       str contract, 1..EF_CONTRACT_NAME_MAX bytes of [a-z0-9_]
 *   ..       4+m       str method, 1..EF_METHOD_NAME_MAX bytes of [a-z0-9_]
 *   ..       4+a       bytes args, 0..EF_TX_ARGS_MAX bytes (a JSON object; checked
 *                      when the method runs, a malformed one fails it with EF_EARGS)
 *   end-64   64        raw signature = Ed25519(sender, EF_TAG_TX || body) for a body of
 *                      at most 1,024 bytes, else Ed25519(sender, 0xff || BLAKE2b(EF_TAG_TX || body))
 *                      (ef_sign; docs/signing.md has the exact bytes and test vectors)
 *
 * tx hash = BLAKE2b(EF_TAG_TX || full encoding, signature included). The whole
 * encoding is at most EF_TX_ENC_MAX bytes.
 *
 * Nonce rule: a sender's first transaction has nonce 0; each transaction included
 * in a block consumes the next nonce, even one whose execution fails. So a
 * transaction can be included once (no replay) and in order (no gap).
 *
 * Error codes: wrong chain EF_ECHAIN, oversize EF_ETOOBIG, bad signature
 * EF_EBADSIG, wrong nonce EF_ENONCE (checked against state by the ledger),
 * malformed or non-canonical encoding EF_ETRUNC / EF_ETRAILING / EF_ENONCANON /
 * EF_EINVAL (bad charset or empty name).
 *
 * Ownership: ef_tx.args is borrowed: after ef_tx_decode it points into the
 * decoded buffer, which must outlive the ef_tx. Threading: plain values.
 */
#ifndef EF_TX_H
#define EF_TX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "ledger/ef_ctx.h"

#define EF_CHAIN_ID_MAX 32
#define EF_TX_ARGS_MAX 16384
/* chain 4+32, sender 32, nonce 8, contract 4+16, method 4+32, args 4+16384, sig 64 */
#define EF_TX_ENC_MAX (4 + EF_CHAIN_ID_MAX + EF_PUB_SIZE + 8 + 4 + EF_CONTRACT_NAME_MAX + 4 + \
                       EF_METHOD_NAME_MAX + 4 + EF_TX_ARGS_MAX + EF_SIG_SIZE)

typedef struct ef_tx {
    char chain_id[EF_CHAIN_ID_MAX + 1];
    ef_pub sender;
    uint64_t nonce;
    char contract[EF_CONTRACT_NAME_MAX + 1];
    char method[EF_METHOD_NAME_MAX + 1];
    const uint8_t *args;   /* borrowed; args_len bytes, not NUL-terminated */
    size_t args_len;
    ef_sig sig;
} ef_tx;

/* A borrowed encoded transaction (what the mempool and blocks hold). */
typedef struct ef_txbuf {
    const uint8_t *enc;
    size_t len;
} ef_txbuf;

/* true if s is a valid chain id / contract or method name (charset, 1..max bytes). */
bool ef_chain_id_valid(const char *s);
bool ef_name_valid(const char *s, size_t max);

/* Appends the full encoding (body then signature). Returns 0, EF_EINVAL for an
 * invalid name or chain id, EF_ETOOBIG for oversize args, or the writer's error. */
int ef_tx_encode(ef_wr *w, const ef_tx *tx);
/* Appends the body only (what is signed). Same errors. */
int ef_tx_encode_body(ef_wr *w, const ef_tx *tx);
/* Decodes exactly one transaction occupying all of p[0..n). On success tx->args
 * borrows from p. On failure *tx is zeroed and the error returned. */
int ef_tx_decode(ef_tx *tx, const uint8_t *p, size_t n);
/* Reads one transaction from r (for embedding; no finish). Same rules. */
int ef_tx_decode_rd(ef_rd *r, ef_tx *tx);

/* out = BLAKE2b(EF_TAG_TX || enc), enc being a full encoding. */
void ef_tx_hash_enc(ef_hash *out, const uint8_t *enc, size_t len);
/* Encodes and hashes; returns 0 or an encoding error (out zeroed). */
int ef_tx_hash(ef_hash *out, const ef_tx *tx);

/* Fills tx->sig with kp's signature over the body; tx->sender must be kp->pub
 * (else EF_EINVAL). Returns 0 or an encoding error. */
int ef_tx_sign(ef_tx *tx, const ef_keypair *kp);
/* Sets tx->sender to kp->pub, signs and encodes: *enc (malloc'd, caller frees)
 * holds the full encoding, *len its size. Returns 0 or an encoding error or
 * EF_ENOMEM (*enc then NULL). */
EF_MUST_USE int ef_tx_seal(ef_tx *tx, const ef_keypair *kp, uint8_t **enc, size_t *len);
/* true only if tx->sig is tx->sender's signature of the body. */
EF_MUST_USE bool ef_tx_verify(const ef_tx *tx);
/* As ef_tx_verify over a full encoding (body = enc[0..len-64), sig = the rest),
 * with no re-encoding. The caller must already have decoded enc successfully. */
EF_MUST_USE bool ef_tx_verify_enc(const ef_tx *tx, const uint8_t *enc, size_t len);

/* The arguments as every contract method receives them: the JSON text parsed by
 * jansson (duplicate keys refused, no NUL in strings, no trailing bytes), an
 * object. What this accepts and how it reads numbers and strings is consensus:
 * tests/unit/test_args_pin.c pins it against the jansson build. 0 and a new
 * reference in *out, or EF_EARGS (*out NULL). */
EF_MUST_USE int ef_tx_args_parse(const ef_tx *tx, json_t **out);

/* Everything that can be checked without state: chain id equals chain_id
 * (EF_ECHAIN), names valid (EF_EINVAL), sizes (EF_ETOOBIG), signature
 * (EF_EBADSIG). enc/len may be the transaction's encoding (faster) or NULL. */
EF_MUST_USE int ef_tx_check_stateless(const ef_tx *tx, const char *chain_id,
                                      const uint8_t *enc, size_t len);

/* JSON view {"hash","chain_id","sender","nonce","contract","method","args","sig"}
 * (args parsed if it is JSON, else a hex string "args_hex"). New reference or NULL. */
json_t *ef_tx_to_json(const ef_tx *tx);

#endif
