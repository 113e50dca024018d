/* ef_beacon.c: the commit-reveal beacon's hashes (see ef_beacon.h). */
#include "base/ef_beacon.h"

#include <sodium.h>
#include <string.h>

#include "base/ef_codec.h"

void ef_beacon_commitment(ef_hash *out, uint64_t epoch, const ef_pub *member,
                          const uint8_t secret[EF_BEACON_SECRET_SIZE])
{
    uint8_t buf[8 + EF_PUB_SIZE + EF_BEACON_SECRET_SIZE];
    ef_put_u64le(buf, epoch);
    memcpy(buf + 8, member->b, EF_PUB_SIZE);
    memcpy(buf + 8 + EF_PUB_SIZE, secret, EF_BEACON_SECRET_SIZE);
    ef_hash_tagged(out, EF_TAG_BEACON_COMMIT, buf, sizeof buf);
}

void ef_beacon_seed(ef_hash *out, uint64_t epoch, const ef_hash *anchor, const ef_pub *members,
                    const uint8_t (*secrets)[EF_BEACON_SECRET_SIZE], size_t n)
{
    EF_ASSERT(n <= UINT32_MAX);
    uint8_t head[8 + EF_HASH_SIZE + 4];
    ef_put_u64le(head, epoch);
    memcpy(head + 8, anchor->b, EF_HASH_SIZE);
    ef_put_u32le(head + 8 + EF_HASH_SIZE, (uint32_t)n);
    ef_hasher h;
    ef_hasher_init(&h, EF_TAG_BEACON_SEED);
    ef_hasher_update(&h, head, sizeof head);
    for (size_t i = 0; i < n; i++) {
        EF_ASSERT(i == 0 || memcmp(members[i - 1].b, members[i].b, EF_PUB_SIZE) < 0);
        ef_hasher_update(&h, members[i].b, EF_PUB_SIZE);
        ef_hasher_update(&h, secrets[i], EF_BEACON_SECRET_SIZE);
    }
    ef_hasher_final(&h, out);
}

void ef_beacon_rank(ef_hash *out, const ef_hash *seed, const ef_pub *device)
{
    uint8_t buf[EF_HASH_SIZE + EF_PUB_SIZE];
    memcpy(buf, seed->b, EF_HASH_SIZE);
    memcpy(buf + EF_HASH_SIZE, device->b, EF_PUB_SIZE);
    ef_hash_tagged(out, EF_TAG_BEACON_RANK, buf, sizeof buf);
}

void ef_beacon_secret(uint8_t out[EF_BEACON_SECRET_SIZE], const ef_keypair *kp, const char *chain_id,
                      uint64_t epoch)
{
    ef_wr w;
    ef_wr_init(&w);
    ef_wr_str(&w, "edgefed/committee/secret");
    ef_wr_str(&w, chain_id);
    ef_wr_u64(&w, epoch);
    EF_ASSERT(w.err == 0);
    /* the key: the Ed25519 seed (the first half of libsodium's secret key) */
    crypto_generichash(out, EF_BEACON_SECRET_SIZE, w.buf, w.len, kp->sec, EF_SEED_SIZE);
    ef_wr_free(&w);
}
