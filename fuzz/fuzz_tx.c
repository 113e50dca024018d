/* fuzz_tx.c: libFuzzer target for the transaction decoder: any input either
 * decodes and re-encodes to exactly the same bytes (and its JSON view and
 * stateless check do not crash), or is rejected with an error. */
#include <stdlib.h>
#include <string.h>

#include "ledger/ef_tx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) init = ef_crypto_init() == 0;
    ef_tx tx;
    int rc = ef_tx_decode(&tx, data, size);
    if (rc) {
        EF_ASSERT(rc < 0);
        return 0;
    }
    ef_wr w;
    ef_wr_init(&w);
    EF_ASSERT(ef_tx_encode(&w, &tx) == 0);
    EF_ASSERT(w.len == size && memcmp(w.buf, data, size) == 0);
    ef_wr_free(&w);
    int st = ef_tx_check_stateless(&tx, "edgefed", data, size);
    EF_ASSERT(st == 0 || st == EF_ECHAIN || st == EF_EBADSIG);
    json_t *j = ef_tx_to_json(&tx);
    json_decref(j);
    return 0;
}
