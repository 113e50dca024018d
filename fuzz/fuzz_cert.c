/* fuzz_cert.c: libFuzzer target for the commit certificate decoder and verifier:
 * anything decodes and re-encodes to the same bytes or is rejected. */
#include <stdlib.h>
#include <string.h>

#include "base/ef_crypto.h"
#include "consensus/ef_cert.h"

static ef_vset fz_vs;
static int fz_ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fz_ready) {
        EF_ASSERT(ef_crypto_init() == 0);
        fz_vs.len = 4;
        for (int i = 0; i < 4; i++) {
            uint8_t seed[EF_SEED_SIZE];
            ef_keypair kp;
            memset(seed, 0x40 + i, sizeof seed);
            ef_keypair_from_seed(&kp, seed);
            fz_vs.v[i].pub = kp.pub;
            fz_vs.v[i].power = 1;
        }
        fz_ready = 1;
    }
    ef_cert *c = malloc(sizeof *c);
    EF_ASSERT(c);
    if (ef_cert_decode(c, data, size) == 0) {
        uint8_t *out;
        size_t len;
        EF_ASSERT(ef_cert_encode(c, &out, &len) == 0);
        EF_ASSERT(len == size && memcmp(out, data, size) == 0);
        free(out);
        /* random signatures never verify */
        EF_ASSERT(ef_cert_verify(data, size, "test-chain", c->height, &c->value_id, &fz_vs) != 0);
    }
    free(c);
    return 0;
}
