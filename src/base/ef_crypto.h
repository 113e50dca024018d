/* ef_crypto.h: hashing and Ed25519 signatures, all through libsodium.
 *
 * Hash: BLAKE2b with a 32-byte output (crypto_generichash). Chosen over SHA-256
 * because on this project's machines it runs about 3x faster (870 vs 290 MB/s),
 * it is libsodium's default generic hash, and it has no length-extension weakness,
 * so H(tag || data) is a sound domain-separated hash. Every hash in edgefed is
 * domain-separated by a one-byte tag (EF_TAG_*), so a leaf can never be read as an
 * inner node, a transaction as a vote, and so on.
 *
 * Signatures: Ed25519 (crypto_sign_detached), deterministic, 64-byte signatures
 * over tag || message.
 */
#ifndef EF_CRYPTO_H
#define EF_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ef_err.h"

#define EF_HASH_SIZE 32
#define EF_PUB_SIZE 32
#define EF_SEC_SIZE 64   /* libsodium's seed || public key */
#define EF_SEED_SIZE 32
#define EF_SIG_SIZE 64

typedef struct { uint8_t b[EF_HASH_SIZE]; } ef_hash;
typedef struct { uint8_t b[EF_PUB_SIZE]; } ef_pub;
typedef struct { uint8_t b[EF_SIG_SIZE]; } ef_sig;
typedef struct { ef_pub pub; uint8_t sec[EF_SEC_SIZE]; } ef_keypair;

/* Domain tags for hashing and signing. Append only. */
enum {
    EF_TAG_MERKLE_LEAF = 0x01,
    EF_TAG_MERKLE_NODE = 0x02,
    EF_TAG_TX = 0x10,          /* transaction id and signature */
    EF_TAG_BLOCK = 0x11,       /* block header hash */
    EF_TAG_RESULT = 0x12,      /* a transaction outcome */
    EF_TAG_STATE = 0x13,       /* state hash */
    EF_TAG_VSET = 0x14,        /* validator-set hash */
    EF_TAG_VOTE = 0x20,        /* consensus vote */
    EF_TAG_PROPOSAL = 0x21,    /* consensus proposal */
    EF_TAG_HANDSHAKE = 0x30,   /* p2p handshake */
    EF_TAG_HTTP = 0x31,        /* signed HTTP read request */
    EF_TAG_READ_TOKEN = 0x32,  /* member-signed read token (api/ef_api.h) */
    EF_TAG_RECEIPT = 0x40,     /* SLA receipt */
    EF_TAG_VOUCHER = 0x41,     /* payment channel voucher */
    EF_TAG_DATA = 0x42,        /* provenance data hash */
    EF_TAG_NSLICE_TEMPLATE = 0x43, /* network slice template id (contracts/ef_nslice.h) */
};

/* Must be called once before any other function here; safe to call again.
 * Returns 0 or EF_EINVAL if libsodium cannot initialise. */
int ef_crypto_init(void);

/* out = BLAKE2b-256(tag || data). */
void ef_hash_tagged(ef_hash *out, uint8_t tag, const void *data, size_t len);
/* out = BLAKE2b-256(tag || a || b), used for Merkle inner nodes. */
void ef_hash_pair(ef_hash *out, uint8_t tag, const ef_hash *a, const ef_hash *b);
bool ef_hash_eq(const ef_hash *a, const ef_hash *b);
bool ef_hash_is_zero(const ef_hash *h);

/* Incremental hashing, for hashing a large state in pieces. */
typedef struct { uint8_t opaque[384] __attribute__((aligned(64))); } ef_hasher;
void ef_hasher_init(ef_hasher *h, uint8_t tag);
void ef_hasher_update(ef_hasher *h, const void *data, size_t len);
void ef_hasher_final(ef_hasher *h, ef_hash *out);

void ef_keypair_generate(ef_keypair *kp);
void ef_keypair_from_seed(ef_keypair *kp, const uint8_t seed[EF_SEED_SIZE]);

/* sig = Ed25519(sec, tag || msg). */
void ef_sign(ef_sig *sig, const ef_keypair *kp, uint8_t tag, const void *msg, size_t len);
/* true only if sig is pub's signature of tag || msg. */
EF_MUST_USE bool ef_verify(const ef_sig *sig, const ef_pub *pub, uint8_t tag,
                           const void *msg, size_t len);

/* Key file: one line, the 64 hex digits of the 32-byte seed; written mode 0600.
 * Returns 0, EF_EIO, or EF_ECONFIG for a malformed file. */
int ef_key_save(const char *path, const ef_keypair *kp);
int ef_key_load(ef_keypair *kp, const char *path);

/* Random bytes from libsodium (for key generation and nonces, never in contracts
 * or the consensus engine). */
void ef_random(void *out, size_t n);

#endif
