/* ef_msg.h: consensus messages (proposal, prevote, precommit) and equivocation evidence. */
#ifndef EF_MSG_H
#define EF_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "consensus/ef_cvset.h"
#include "ledger/ef_cert.h"

/* Limits. A message over any of them is rejected by the decoder (EF_ETOOBIG). */
#define EF_MSG_CHAIN_MAX 64u              /* bytes of a chain id */
#define EF_MSG_VALUE_MAX (4u << 20)       /* bytes of a proposed value (a block) */
#define EF_MSG_ROUND_MAX 100000u          /* largest round number accepted */
#define EF_ROUND_NONE 0xffffffffu         /* "no round" (valid round of a fresh proposal) */
/* Largest encoded message: a proposal with a maximal value and chain id. */
#define EF_MSG_SIZE_MAX (EF_MSG_VALUE_MAX + EF_MSG_CHAIN_MAX + 256u)

typedef enum ef_msg_type {
    EF_MSG_PROPOSAL = 1,
    EF_MSG_PREVOTE = 2,
    EF_MSG_PRECOMMIT = 3,
} ef_msg_type;

/* Wire format of every consensus message (base codec, ef_codec.h):
 *
 *   field        type        meaning
 *   type         u8          1 proposal, 2 prevote, 3 precommit
 *   chain        str         chain id, 1..EF_MSG_CHAIN_MAX bytes
 *   height       u64         >= 1
 *   round        u32         <= EF_MSG_ROUND_MAX
 *   signer       raw[32]     the validator's Ed25519 public key
 *   -- proposal only --
 *   valid_round  u32         EF_ROUND_NONE, or < round (proof-of-lock round)
 *   value        bytes       1..EF_MSG_VALUE_MAX bytes, the proposed block
 *   -- prevote / precommit only --
 *   has_value    bool        0 = a vote for nil
 *   value_id     raw[32]     id of the value voted for; all zero when nil
 *   -- all --
 *   sig          raw[64]     Ed25519 over every preceding byte, with tag
 *                            EF_TAG_PROPOSAL (proposal) or EF_TAG_VOTE (votes)
 *
 * The chain id is inside the signed bytes, so a message of another chain never
 * verifies here. A vote's signed bytes can be rebuilt from (chain, height, round,
 * signer, value id) alone; certificates (ledger/ef_cert.h) rely on that. */
typedef struct ef_msg {
    ef_msg_type type;
    char chain[EF_MSG_CHAIN_MAX + 1];
    uint64_t height;
    uint32_t round;
    ef_pub signer;
    uint32_t valid_round;       /* proposal */
    const uint8_t *value;       /* proposal: borrowed (into the decoded buffer or the caller's) */
    size_t value_len;
    bool has_value;             /* votes */
    ef_hash value_id;           /* votes: zero when !has_value */
    ef_sig sig;
} ef_msg;

/* Decodes p[0..len) into m (m->value borrows p). Checks the encoding only, not the
 * signature. Returns 0, EF_ETRUNC, EF_ETRAILING, EF_ETOOBIG, EF_ENONCANON (nil
 * vote with a non-zero id, bad bool), or EF_EINVAL (unknown type, height 0, round
 * too large, valid_round not < round, empty value or chain). On failure m is zeroed. */
EF_MUST_USE int ef_msg_decode(ef_msg *m, const uint8_t *p, size_t len);

/* Encodes m and signs it with kp (m->signer and m->sig are set from kp). On
 * success *out is a malloc'ed buffer the caller frees. Returns 0, EF_EINVAL
 * (m would not decode), or EF_ENOMEM. */
EF_MUST_USE int ef_msg_sign_encode(ef_msg *m, const ef_keypair *kp, uint8_t **out, size_t *out_len);

/* Encodes m as it is, m->sig included (re-sending or relaying a received
 * message). *out is malloc'ed. Returns 0, EF_EINVAL, or EF_ENOMEM. */
EF_MUST_USE int ef_msg_encode(const ef_msg *m, uint8_t **out, size_t *out_len);

/* true if m->sig is m->signer's signature of m. Thread-safe. */
EF_MUST_USE bool ef_msg_verify(const ef_msg *m);

/* The exact bytes a vote signature covers, rebuilt from its parts (for
 * certificates). buf must hold EF_MSG_VOTE_SIGNED_MAX bytes; returns the length. */
#define EF_MSG_VOTE_SIGNED_MAX (1 + 4 + EF_MSG_CHAIN_MAX + 8 + 4 + 32 + 1 + 32)
size_t ef_msg_vote_signed_bytes(uint8_t *buf, ef_msg_type type, const char *chain,
                                uint64_t height, uint32_t round, const ef_pub *signer,
                                const ef_hash *value_id /* NULL = nil */);

/* Signature verifier hook ef_verify_fn: ledger/ef_cert.h. */

/* As ef_msg_verify, through `verify` (NULL = ef_verify). */
EF_MUST_USE bool ef_msg_verify_with(const ef_msg *m, ef_verify_fn verify, void *ctx);

/* Evidence of equivocation: two messages of the same type, height, round and
 * signer, both correctly signed, for different values (different value ids for
 * votes; different values or valid rounds for proposals).
 *
 *   field   type     meaning
 *   a       bytes    the first message, as received (<= EF_MSG_SIZE_MAX)
 *   b       bytes    the conflicting message
 *
 * The ledger stores it; ef_evidence_verify checks it standalone. */
EF_MUST_USE int ef_evidence_encode(uint8_t **out, size_t *out_len, const uint8_t *a, size_t a_len,
                                   const uint8_t *b, size_t b_len);
/* Checks evidence against chain id and the validator set of its height: both
 * messages decode, are for `chain`, verify, come from a member of vs, and
 * conflict. On success fills *signer and *height. Returns 0, a decoding error,
 * EF_ECHAIN, EF_EBADSIG, EF_ENOTVAL, or EF_EINVAL (not a conflict). */
EF_MUST_USE int ef_evidence_verify(const uint8_t *p, size_t len, const char *chain,
                                   const ef_vset *vs, ef_pub *signer, uint64_t *height);
/* As ef_evidence_verify, verifying signatures through `verify` (NULL = ef_verify). */
EF_MUST_USE int ef_evidence_verify_with(const uint8_t *p, size_t len, const char *chain,
                                        const ef_vset *vs, ef_pub *signer, uint64_t *height,
                                        ef_verify_fn verify, void *verify_ctx);

#endif
