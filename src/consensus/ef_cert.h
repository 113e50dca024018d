/* ef_cert.h: commit certificates: a quorum of precommit signatures for one value. */
#ifndef EF_CERT_H
#define EF_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "base/ef_crypto.h"
#include "consensus/ef_cvset.h"
#include "consensus/ef_msg.h"

/* Wire format (base codec):
 *
 *   field        type       meaning
 *   height       u64        height of the committed value
 *   round        u32        round whose precommits these are (<= EF_MSG_ROUND_MAX)
 *   value_id     raw[32]    id of the committed value (the block header hash)
 *   count        u16        number of signatures, 1..EF_VSET_MAX
 *   count times:
 *     index      u16        the signer's index in the height's validator set;
 *                           strictly increasing (so signers are distinct)
 *     sig        raw[64]    precommit signature: ef_msg_vote_signed_bytes of
 *                           (PRECOMMIT, chain, height, round, vs.v[index].pub, value_id)
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
 * power is a quorum of vs (> 2/3). Returns 0, a codec error, EF_EHEIGHT,
 * EF_EINVAL (other value id or index out of range), EF_EBADSIG, or EF_ECERT (not
 * a quorum). Thread-safe. */
EF_MUST_USE int ef_cert_verify(const uint8_t *p, size_t len, const char *chain, uint64_t height,
                               const ef_hash *value_id, const ef_vset *vs);
/* As ef_cert_verify, verifying signatures through `verify` (may be NULL). */
EF_MUST_USE int ef_cert_verify_with(const uint8_t *p, size_t len, const char *chain,
                                    uint64_t height, const ef_hash *value_id,
                                    const ef_vset *vs, ef_verify_fn verify, void *verify_ctx);

#endif
