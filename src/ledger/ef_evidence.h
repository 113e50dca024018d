/* ef_evidence.h: signed consensus votes as the ledger reads them, and the check of
 * a double vote (equivocation evidence) that a contract records.
 *
 * The consensus layer owns the protocol, but the bytes of a vote are defined here,
 * one layer down, so that a contract (which may use only base and ledger) verifies
 * the very bytes a validator signed. consensus/ef_msg.c encodes and signs votes
 * with ef_vote_signed_bytes; the wire format is the vote case of ef_msg.h:
 *
 *   offset  size     field      meaning
 *   0       1        type       2 prevote, 3 precommit (EF_VOTE_PREVOTE / _PRECOMMIT)
 *   1       4+c      chain      u32 length c (1..EF_VOTE_CHAIN_MAX), then the chain id
 *   5+c     8        height     u64, >= 1
 *   13+c    4        round      u32, <= EF_VOTE_ROUND_MAX
 *   17+c    32       signer     the validator's Ed25519 public key
 *   49+c    1        has_value  0 = a vote for nil, 1 = for value_id
 *   50+c    32       value_id   id (block hash) voted for; all zero for nil
 *   82+c    64       sig        Ed25519, tag EF_TAG_VOTE, over bytes [0, 82+c)
 *
 * Evidence of equivocation is two votes of one signer for the same chain, type,
 * height and round whose (has_value, value_id) differ, both signatures valid.
 * Proposals are not evidence here (a block is too big for a transaction, and a
 * double proposal is harmless without double votes).
 *
 * Threading: pure functions; thread-safe. */
#ifndef EF_EVIDENCE_H
#define EF_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/ef_crypto.h"
#include "ledger/ef_vset.h"

#define EF_VOTE_PREVOTE 2
#define EF_VOTE_PRECOMMIT 3
#define EF_VOTE_CHAIN_MAX 64u            /* = EF_MSG_CHAIN_MAX */
#define EF_VOTE_ROUND_MAX 100000u        /* = EF_MSG_ROUND_MAX */
/* the signed part of a vote, and a whole encoded vote, at most */
#define EF_VOTE_SIGNED_MAX (1 + 4 + EF_VOTE_CHAIN_MAX + 8 + 4 + 32 + 1 + 32)
#define EF_VOTE_ENC_MAX (EF_VOTE_SIGNED_MAX + 64)
/* evidence is taken for votes at most this many heights below the block's */
#define EF_EVIDENCE_AGE_MAX 10000u

typedef struct ef_vote {
    uint8_t type;                         /* EF_VOTE_PREVOTE or EF_VOTE_PRECOMMIT */
    char chain[EF_VOTE_CHAIN_MAX + 1];
    uint64_t height;
    uint32_t round;
    ef_pub signer;
    bool has_value;
    ef_hash value_id;                     /* zero when !has_value */
    ef_sig sig;
} ef_vote;

/* The bytes a vote signature covers, rebuilt from its parts. buf holds
 * EF_VOTE_SIGNED_MAX bytes; returns the length. chain is 1..EF_VOTE_CHAIN_MAX
 * bytes and type a vote type (asserted). value_id NULL = nil. */
size_t ef_vote_signed_bytes(uint8_t *buf, uint8_t type, const char *chain, uint64_t height,
                            uint32_t round, const ef_pub *signer, const ef_hash *value_id);

/* Decodes one encoded vote p[0..len) (the whole input). Checks the encoding only.
 * Returns 0, EF_ETRUNC, EF_ETRAILING, EF_ETOOBIG (chain too long), EF_ENONCANON
 * (nil with a non-zero id, a bool not 0/1) or EF_EINVAL (not a vote type, height 0,
 * round too large, empty chain). On failure *v is zeroed. */
EF_MUST_USE int ef_vote_decode(ef_vote *v, const uint8_t *p, size_t len);

/* true if v->sig is v->signer's signature of v. */
EF_MUST_USE bool ef_vote_verify(const ef_vote *v);

/* What a valid piece of evidence says. */
typedef struct ef_vote_evidence {
    ef_pub offender;
    uint64_t height;
    uint32_t round;
    uint8_t type;
    ef_vote a, b;
} ef_vote_evidence;

/* Checks that a and b (encoded votes) are evidence of equivocation on `chain`
 * by a member of vs (the validator set of the votes' height, which the caller
 * looks up: decode first with ef_vote_evidence_parse to learn the height).
 * Returns 0 and fills *out, or a decoding error, EF_ECHAIN (another chain),
 * EF_EINVAL (not a conflict: different signer, type, height or round, or the same
 * vote twice), EF_ENOTVAL (signer not in vs), EF_EBADSIG. On failure *out is
 * zeroed. */
EF_MUST_USE int ef_vote_evidence_check(ef_vote_evidence *out, const char *chain, const ef_vset *vs,
                                       const uint8_t *a, size_t a_len, const uint8_t *b,
                                       size_t b_len);
/* The decoding and conflict part of ef_vote_evidence_check alone (no chain,
 * membership or signature check): to learn offender and height first. */
EF_MUST_USE int ef_vote_evidence_parse(ef_vote_evidence *out, const uint8_t *a, size_t a_len,
                                       const uint8_t *b, size_t b_len);

#endif
