/* ef_crypto.c: BLAKE2b hashing and Ed25519 signatures through libsodium. */
#include "ef_crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ef_codec.h"

_Static_assert(sizeof(ef_hasher) >= sizeof(crypto_generichash_state), "hasher too small");

int ef_crypto_init(void)
{
    return sodium_init() < 0 ? EF_EINVAL : 0;
}

void ef_hash_tagged(ef_hash *out, uint8_t tag, const void *data, size_t len)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, EF_HASH_SIZE);
    crypto_generichash_update(&st, &tag, 1);
    crypto_generichash_update(&st, data, len);
    crypto_generichash_final(&st, out->b, EF_HASH_SIZE);
}

void ef_hash_pair(ef_hash *out, uint8_t tag, const ef_hash *a, const ef_hash *b)
{
    uint8_t buf[1 + 2 * EF_HASH_SIZE];
    buf[0] = tag;
    memcpy(buf + 1, a->b, EF_HASH_SIZE);
    memcpy(buf + 1 + EF_HASH_SIZE, b->b, EF_HASH_SIZE);
    crypto_generichash(out->b, EF_HASH_SIZE, buf, sizeof buf, NULL, 0);
}

bool ef_hash_eq(const ef_hash *a, const ef_hash *b)
{
    return memcmp(a->b, b->b, EF_HASH_SIZE) == 0;
}

bool ef_hash_is_zero(const ef_hash *h)
{
    static const ef_hash zero;
    return ef_hash_eq(h, &zero);
}

void ef_hasher_init(ef_hasher *h, uint8_t tag)
{
    crypto_generichash_state *st = (crypto_generichash_state *)h->opaque;
    crypto_generichash_init(st, NULL, 0, EF_HASH_SIZE);
    crypto_generichash_update(st, &tag, 1);
}

void ef_hasher_update(ef_hasher *h, const void *data, size_t len)
{
    crypto_generichash_update((crypto_generichash_state *)h->opaque, data, len);
}

void ef_hasher_final(ef_hasher *h, ef_hash *out)
{
    crypto_generichash_final((crypto_generichash_state *)h->opaque, out->b, EF_HASH_SIZE);
}

void ef_keypair_generate(ef_keypair *kp)
{
    crypto_sign_keypair(kp->pub.b, kp->sec);
}

void ef_keypair_from_seed(ef_keypair *kp, const uint8_t seed[EF_SEED_SIZE])
{
    crypto_sign_seed_keypair(kp->pub.b, kp->sec, seed);
}

/* Messages up to this size are signed from a stack buffer holding tag || msg;
 * larger ones are pre-hashed under their tag (Ed25519 over the tagged digest). */
#define EF_SIGN_INLINE_MAX 1024

static const uint8_t *ef_sign_input(uint8_t *buf, size_t *n, uint8_t tag,
                                    const void *msg, size_t len)
{
    if (len <= EF_SIGN_INLINE_MAX) {
        buf[0] = tag;
        if (len) memcpy(buf + 1, msg, len);
        *n = len + 1;
    } else {
        ef_hash h;
        ef_hash_tagged(&h, tag, msg, len);
        buf[0] = 0xff; /* marks the pre-hashed form; no tag uses 0xff */
        memcpy(buf + 1, h.b, EF_HASH_SIZE);
        *n = 1 + EF_HASH_SIZE;
    }
    return buf;
}

void ef_sign(ef_sig *sig, const ef_keypair *kp, uint8_t tag, const void *msg, size_t len)
{
    uint8_t buf[1 + EF_SIGN_INLINE_MAX];
    size_t n;
    const uint8_t *in = ef_sign_input(buf, &n, tag, msg, len);
    crypto_sign_detached(sig->b, NULL, in, n, kp->sec);
}

bool ef_verify(const ef_sig *sig, const ef_pub *pub, uint8_t tag, const void *msg, size_t len)
{
    uint8_t buf[1 + EF_SIGN_INLINE_MAX];
    size_t n;
    const uint8_t *in = ef_sign_input(buf, &n, tag, msg, len);
    return crypto_sign_verify_detached(sig->b, in, n, pub->b) == 0;
}

int ef_key_save(const char *path, const ef_keypair *kp)
{
    char hex[2 * EF_SEED_SIZE + 2];
    ef_hex(hex, kp->sec, EF_SEED_SIZE);
    strcat(hex, "\n");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return EF_EIO;
    size_t n = strlen(hex);
    int rc = write(fd, hex, n) == (ssize_t)n && fsync(fd) == 0 ? 0 : EF_EIO;
    if (close(fd) != 0) rc = EF_EIO;
    sodium_memzero(hex, sizeof hex);
    return rc;
}

int ef_key_load(ef_keypair *kp, const char *path)
{
    char line[256];
    uint8_t seed[EF_SEED_SIZE];
    memset(kp, 0, sizeof *kp);
    FILE *f = fopen(path, "r");
    if (!f) return EF_EIO;
    char *got = fgets(line, sizeof line, f);
    fclose(f);
    if (!got) return EF_ECONFIG;
    line[strcspn(line, "\r\n")] = 0;
    int rc = ef_unhex(seed, sizeof seed, line);
    sodium_memzero(line, sizeof line);
    if (rc) return EF_ECONFIG;
    ef_keypair_from_seed(kp, seed);
    sodium_memzero(seed, sizeof seed);
    return 0;
}

void ef_random(void *out, size_t n)
{
    randombytes_buf(out, n);
}
