/* fuzz_voucher.c: libFuzzer target for the payment-channel voucher decoder: any
 * input either decodes, re-encodes to exactly the same bytes and verifies (or
 * fails to) without crashing, or is rejected with an error and a zeroed voucher. */
#include <stdlib.h>
#include <string.h>

#include "base/ef_voucher.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) init = ef_crypto_init() == 0;
    ef_voucher v;
    int rc = ef_voucher_decode(&v, data, size);
    if (rc) {
        static const ef_voucher zero;
        EF_ASSERT(rc < 0 && memcmp(&v, &zero, sizeof v) == 0);
        return 0;
    }
    EF_ASSERT(size <= EF_VOUCHER_ENC_MAX && v.amount <= (uint64_t)INT64_MAX && v.chain_id[0]);
    ef_wr w;
    ef_wr_init(&w);
    EF_ASSERT(ef_voucher_encode(&w, &v) == 0 && w.err == 0);
    EF_ASSERT(w.len == size && memcmp(w.buf, data, size) == 0);
    ef_wr_free(&w);
    rc = ef_voucher_verify(&v, NULL);
    EF_ASSERT(rc == 0 || rc == EF_EBADSIG);
    char hex[2 * EF_VOUCHER_ENC_MAX + 1];
    EF_ASSERT(ef_voucher_hex(hex, sizeof hex, &v) == 0);
    ef_voucher again;
    EF_ASSERT(ef_voucher_decode_hex(&again, hex) == 0 && again.amount == v.amount && again.nonce == v.nonce);
    return 0;
}
