/* fuzz_proof.c: libFuzzer target for the transaction proof decoder (ledger/ef_proof.h):
 * anything decodes and re-encodes to the same bytes or is rejected; a decoded
 * proof's check and its JSON view never crash; random certificates never verify. */
#include <stdlib.h>
#include <string.h>

#include "base/ef_crypto.h"
#include "ledger/ef_proof.h"
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
    ef_proof *pf = malloc(sizeof *pf);
    EF_ASSERT(pf);
    if (ef_proof_decode(pf, data, size) == 0) {
        uint8_t *out;
        size_t len;
        EF_ASSERT(ef_proof_encode(&out, &len, pf->hdr_enc, pf->hdr_len, pf->tx, pf->tx_len, &pf->tx_path, pf->code,
                                  pf->events, pf->events_len, &pf->res_path, pf->cert, pf->cert_len) == 0);
        EF_ASSERT(len == size && memcmp(out, data, size) == 0);
        free(out);
        (void)ef_proof_check(pf);
        json_t *j = ef_proof_to_json(pf);
        EF_ASSERT(j);
        json_decref(j);
        if (pf->cert_len) EF_ASSERT(ef_proof_verify(pf, data, size, &fz_vs, true) != 0);
    }
    free(pf);
    return 0;
}
