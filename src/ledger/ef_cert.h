/* ef_cert.h: commit certificates: a quorum of precommit signatures for one value.
 *
 * The consensus engine makes them (its precommits, ef_msg.h) and checks them on
 * catch-up; the certificate lives here, in the ledger layer, so that a contract
 * (which may use only base and ledger) verifies a block of another chain against
 * a validator set it keeps: the anchor contract (contracts/ef_anchor.h) does, and
 * so do cross-domain proofs (ef_proof.h). The signed bytes are the ledger's
 * definition of a vote (ef_vote_signed_bytes, ef_evidence.h), which
 * consensus/ef_msg.c signs. */
#ifndef EF_CERT_H
#define EF_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/ef_crypto.h"
#include "ledger/ef_vset.h"

/* Signature verifier hook: the engine and the certificate check call it instead
 * of ef_verify when set (the simulator uses it for a shared cache of verified
 * signatures). Must return exactly what ef_verify would. */
typedef bool (*ef_verify_fn)(void *ctx, const ef_sig *sig, const ef_pub *pub, uint8_t tag,
                             const void *msg, size_t len);

/* Wire format (base codec):
 *
 *   field        type       meaning
 *   height       u64        height of the committed value
 *   round        u32        round whose precommits these are (<= EF_VOTE_ROUND_MAX)
 *   value_id     raw[32]    id of the committed value (the block header hash)
 *   count        u16        number of signatures, 1..EF_VSET_MAX
 *   count times:
 *     index      u16        the signer's index in the height's validator set;
 *                           strictly increasing (so signers are distinct)
 *     sig        raw[64]    precommit signature: ef_vote_signed_bytes of
 *                           (PRECOMMIT, chain, height, round, vs.v[index].pub, value_id),
 *                           tag EF_TAG_VOTE
 *
 * Size: 46 + 66 * count bytes. */
#define EF_CERT_SIZE_MAX (46u + 66u * EF_VSET_MAX)

typedef struct ef_cert_sig {
    uint16_t index;
    ef_sig sig;
} ef_cert_sig;

typedef struct ef_cert {
    uint64_t height;
    uint32_t round;
    ef_hash value_id;
    uint16_t count;
    ef_cert_sig sigs[EF_VSET_MAX];
} ef_cert;

/* Encodes c (count >= 1, indices strictly increasing). *out is malloc'ed; the
 * caller frees it. Returns 0, EF_EINVAL, or EF_ENOMEM. */
EF_MUST_USE int ef_cert_encode(const ef_cert *c, uint8_t **out, size_t *out_len);
/* Decodes (encoding rules only). Returns 0 or a codec error; EF_ENONCANON for
 * indices not strictly increasing. On failure c is zeroed. */
EF_MUST_USE int ef_cert_decode(ef_cert *c, const uint8_t *p, size_t len);

/* Verifies certificate bytes standalone: they decode, are for `height` and
 * `value_id`, every index is in vs, every signature verifies, and the signers'
 * power is a quorum of vs (> 2/3 of its total power). chain is 1..EF_VOTE_CHAIN_MAX
 * bytes and vs has 1..EF_VSET_MAX entries (else EF_EINVAL).
 * Returns 0, a codec error, EF_EHEIGHT, EF_EINVAL (other value id or index out of
 * range), EF_EBADSIG, or EF_ECERT (not a quorum). Thread-safe. */
EF_MUST_USE int ef_cert_verify(const uint8_t *p, size_t len, const char *chain, uint64_t height,
                               const ef_hash *value_id, const ef_vset *vs);
/* As ef_cert_verify, verifying signatures through `verify` (may be NULL). */
EF_MUST_USE int ef_cert_verify_with(const uint8_t *p, size_t len, const char *chain,
                                    uint64_t height, const ef_hash *value_id,
                                    const ef_vset *vs, ef_verify_fn verify, void *verify_ctx);

/* One precommit signature as a validator makes it (for tools and tests that
 * build certificates of simulated chains with real keys): sig over
 * ef_vote_signed_bytes(PRECOMMIT, chain, height, round, kp->pub, value_id). */
void ef_cert_sign(ef_sig *sig, const ef_keypair *kp, const char *chain, uint64_t height,
                  uint32_t round, const ef_hash *value_id);

#endif
