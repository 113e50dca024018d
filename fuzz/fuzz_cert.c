/* fuzz_cert.c: libFuzzer target for the commit certificate decoder and verifier:
 * anything decodes and re-encodes to the same bytes or is rejected. */
#include <stdlib.h>
#include <string.h>

#include "base/ef_crypto.h"
#include "ledger/ef_cert.h"
#include "fz_vset.h"

static ef_vset fz_vs;
static int fz_ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fz_ready) {
        EF_ASSERT(ef_crypto_init() == 0);
        fz_vset4(&fz_vs);
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
