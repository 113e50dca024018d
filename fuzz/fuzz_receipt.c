/* fuzz_receipt.c: libFuzzer target for the SLA receipt decoder: any input either
 * decodes, re-encodes to exactly the same bytes, has values in range and
 * verifies (or fails to) without crashing, or is rejected with an error and a
 * zeroed receipt. */
#include <stdlib.h>
#include <string.h>

#include "base/ef_receipt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) init = ef_crypto_init() == 0;
    ef_receipt r;
    int rc = ef_receipt_decode(&r, data, size);
    if (rc) {
        static const ef_receipt zero;
        EF_ASSERT(rc < 0 && memcmp(&r, &zero, sizeof r) == 0);
        return 0;
    }
    EF_ASSERT(size <= EF_RECEIPT_ENC_MAX && r.chain_id[0] && (r.verdict & ~EF_VERDICT_ALL) == 0);
    EF_ASSERT(r.pkts_recv <= r.pkts_sent && r.pkts_sent <= EF_RECEIPT_PKTS_MAX && r.loss_ppm <= 1000000);
    EF_ASSERT(r.lat_p50_us <= r.lat_p99_us && r.lat_p99_us <= r.lat_max_us);
    ef_wr w;
    ef_wr_init(&w);
    EF_ASSERT(ef_receipt_encode(&w, &r) == 0 && w.err == 0);
    EF_ASSERT(w.len == size && memcmp(w.buf, data, size) == 0);
    ef_wr_free(&w);
    rc = ef_receipt_verify(&r, NULL);
    EF_ASSERT(rc == 0 || rc == EF_EBADSIG);
    char hex[EF_RECEIPT_HEX_MAX + 1];
    EF_ASSERT(ef_receipt_hex(hex, sizeof hex, &r) == 0);
    ef_receipt again;
    EF_ASSERT(ef_receipt_decode_hex(&again, hex) == 0 && ef_receipt_same(&r, &again));
    return 0;
}
