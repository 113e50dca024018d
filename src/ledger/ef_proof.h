/* ef_proof.h: a proof that a transaction, its result code and its events are in a
 * block: Merkle paths to the header's txs_root and results_root, the header, and
 * optionally the header's commit certificate.
 *
 * Someone who trusts a header (anchored on the federation ledger, or certified by
 * a validator set it trusts) learns from a proof exactly what the transaction was
 * and what it did. Proofs are membership proofs only: nothing here proves that a
 * transaction is absent.
 *
 * Encoding (canonical, ef_codec.h; one encoding per proof, the decoder rejects
 * anything else):
 *
 *   field        type     meaning
 *   version      u16      EF_PROOF_VERSION
 *   header       bytes    the block header encoding (ef_block.h), <= EF_BLOCK_HEADER_MAX
 *   tx           bytes    the transaction's full encoding (ef_tx.h), <= EF_TX_ENC_MAX
 *   tx_path      merkle   path of the tx hash to header.txs_root
 *                         (ef_merkle.h: u64 index, u64 count, u32 len, len x raw[32])
 *   code         i64      the result: 0 or a negative ef_err
 *   events       bytes    canonical encoding (ef_cjson.h) of the events array,
 *                         <= EF_EVENTS_ENC_MAX ([] is 05 00 00 00 00)
 *   res_path     merkle   path of ef_result_hash(code, events) to header.results_root;
 *                         same index and count as tx_path
 *   cert         bytes    the header's commit certificate (ledger/ef_cert.h), or
 *                         empty (length 0) for none; <= EF_CERT_SIZE_MAX
 *
 * What ef_proof_check verifies (stateless): every field decodes (the tx with
 * ef_tx_decode, the events with ef_cj_decode, both canonically), both paths have
 * the same index and count, and each leads to its root in the header. It does not
 * say whether the header is to be trusted: that is the caller's (the anchor
 * contract: ef_anchor_verify_proof; the CLI: `edgefed proof verify`), which also
 * verifies the certificate against the committee it trusts. A certificate present
 * in a proof must verify wherever the proof is checked, so that no byte of a
 * valid proof can be changed and the proof still pass.
 *
 * Ownership: ef_proof_decode borrows from the buffer (hdr_enc, tx, events, cert
 * point into it). Threading: pure functions; thread-safe.
 */
#ifndef EF_PROOF_H
#define EF_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include "base/ef_crypto.h"
#include "base/ef_merkle.h"
#include "ledger/ef_block.h"
#include "ledger/ef_cert.h"
#include "ledger/ef_tx.h"

#define EF_PROOF_VERSION 1
#define EF_PROOF_MAX (2 + 4 + EF_BLOCK_HEADER_MAX + 4 + EF_TX_ENC_MAX + \
                      2 * (20 + 32 * EF_MERKLE_DEPTH_MAX) + 8 + 4 + EF_EVENTS_ENC_MAX + \
                      4 + EF_CERT_SIZE_MAX)

typedef struct ef_proof {
    ef_block_header hdr;
    ef_hash block_hash;          /* ef_block_header_hash(&hdr) */
    const uint8_t *hdr_enc;      /* borrowed */
    size_t hdr_len;
    const uint8_t *tx;           /* borrowed: the tx encoding */
    size_t tx_len;
    ef_tx tx_dec;                /* decoded (args borrowed from tx) */
    ef_hash tx_hash;
    ef_merkle_proof tx_path;
    int64_t code;
    const uint8_t *events;       /* borrowed: canonical events array */
    size_t events_len;
    ef_merkle_proof res_path;
    const uint8_t *cert;         /* borrowed; NULL when cert_len == 0 */
    size_t cert_len;
} ef_proof;

/* Encodes a proof from its parts (hdr_enc a header encoding, tx a tx encoding,
 * events a canonical events array, cert may be NULL with cert_len 0). *out is
 * malloc'ed; the caller frees it. Returns 0, EF_ETOOBIG over a field's maximum,
 * or EF_ENOMEM. Does not check the proof (ef_proof_decode + ef_proof_check do). */
EF_MUST_USE int ef_proof_encode(uint8_t **out, size_t *out_len, const uint8_t *hdr_enc, size_t hdr_len,
                                const uint8_t *tx, size_t tx_len, const ef_merkle_proof *tx_path,
                                int64_t code, const uint8_t *events, size_t events_len,
                                const ef_merkle_proof *res_path, const uint8_t *cert, size_t cert_len);

/* Decodes p[0..len) (the whole input) into *pf, borrowing from p. Returns 0, a
 * codec error (EF_ETRUNC, EF_ETRAILING, EF_ETOOBIG), EF_EINVAL (wrong version,
 * a header, tx or code that does not decode, a path index or count that differs
 * between the two paths) or EF_ENONCANON (events not canonical). On failure *pf
 * is zeroed. */
EF_MUST_USE int ef_proof_decode(ef_proof *pf, const uint8_t *p, size_t len);

/* The stateless check of a decoded proof: the tx path leads from the tx hash to
 * hdr.txs_root and the result path from ef_result_hash(code, events) to
 * hdr.results_root. Returns 0 or EF_EPROOF. */
EF_MUST_USE int ef_proof_check(const ef_proof *pf);

/* Decode, check, and (if the proof carries a certificate, or vs is given and
 * require_cert) verify the certificate against vs for the header's chain, height
 * and hash. vs may be NULL only if the proof has no certificate and require_cert
 * is false. Returns 0, the errors above, EF_ECERT (a certificate is required but
 * absent), or ef_cert_verify's. */
EF_MUST_USE int ef_proof_verify(ef_proof *pf, const uint8_t *p, size_t len, const ef_vset *vs,
                                bool require_cert);

/* Builds the proof of committed transaction tx_hash from a store (what the node's
 * GET /proofs/tx/{hash} serves): the block's header, the paths, the stored
 * result, and with with_cert the stored certificate if the store has one (a
 * block committed without one gives a proof without). *out is malloc'ed.
 * Returns 0, EF_ENOTFOUND (no such tx), EF_EDB, or EF_ENOMEM. */
struct ef_store;
EF_MUST_USE int ef_proof_build(struct ef_store *s, const ef_hash *tx_hash, bool with_cert, uint8_t **out,
                               size_t *out_len);

/* JSON summary of a decoded proof: {chain_id, height, block_hash, tx_hash, index,
 * count, code, contract, method, sender, events (JSON), certified}. New ref or NULL. */
json_t *ef_proof_to_json(const ef_proof *pf);

#endif
