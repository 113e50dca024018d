/* ef_beacon.h: the hashes of the committee's commit-reveal randomness beacon
 * (contracts/ef_committee.h), shared by the contract, the device agent that
 * takes part in it (agents/ef_committee_agent.h) and tests. All BLAKE2b-256
 * through libsodium; every input is laid out with the canonical codec
 * (ef_codec.h), so every node hashes the same bytes.
 *
 *   commitment = BLAKE2b-256(EF_TAG_BEACON_COMMIT || u64 epoch || raw[32] member
 *                            || raw[32] secret)
 *       binds the secret to its member and epoch: a member cannot copy another's
 *       commitment and reveal its secret as its own, nor replay an old one.
 *   seed       = BLAKE2b-256(EF_TAG_BEACON_SEED || u64 epoch || raw[32] anchor
 *                            || u32 n || n x (raw[32] member || raw[32] secret))
 *       the n revealed secrets in ascending order of member key (memcmp), the
 *       anchor the hash of a block fixed before the reveal window opened.
 *   rank(d)    = BLAKE2b-256(EF_TAG_BEACON_RANK || raw[32] seed || raw[32] d)
 *       the committee is the `size` eligible devices of smallest rank (memcmp
 *       of the 32 bytes; a tie, which needs a BLAKE2b collision, by key).
 *   secret     = BLAKE2b-256 keyed with the member's 32-byte Ed25519 seed, of
 *                str "edgefed/committee/secret" || str chain_id || u64 epoch
 *       what a device commits to: deterministic (a restarted device reveals
 *       the secret it committed to), unpredictable to anyone without the key,
 *       different per chain and epoch. BLAKE2b keyed is a PRF; the key never
 *       leaves the node and the secret is not the key's material in any other
 *       use (signing hashes the seed with SHA-512, a different function).
 *
 * Tags 0x60..0x62 are this module's (ef_crypto.h lists the others).
 * Threading: pure functions.
 */
#ifndef EF_BEACON_H
#define EF_BEACON_H

#include <stddef.h>
#include <stdint.h>

#include "base/ef_crypto.h"

#define EF_TAG_BEACON_COMMIT 0x60
#define EF_TAG_BEACON_SEED 0x61
#define EF_TAG_BEACON_RANK 0x62
#define EF_BEACON_SECRET_SIZE 32

void ef_beacon_commitment(ef_hash *out, uint64_t epoch, const ef_pub *member,
                          const uint8_t secret[EF_BEACON_SECRET_SIZE]);
/* members[i] and secrets[i] for i < n, members in strictly ascending key order
 * (the caller sorts; asserted). */
void ef_beacon_seed(ef_hash *out, uint64_t epoch, const ef_hash *anchor, const ef_pub *members,
                    const uint8_t (*secrets)[EF_BEACON_SECRET_SIZE], size_t n);
void ef_beacon_rank(ef_hash *out, const ef_hash *seed, const ef_pub *device);
void ef_beacon_secret(uint8_t out[EF_BEACON_SECRET_SIZE], const ef_keypair *kp, const char *chain_id,
                      uint64_t epoch);

#endif
