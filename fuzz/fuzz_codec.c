/* fuzz_codec.c: libFuzzer target for the base codec and Merkle proof decoder:
 * any input either decodes and re-encodes to the same bytes, or is rejected. */
#include <stdlib.h>
#include <string.h>

#include "base/ef_codec.h"
#include "base/ef_merkle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ef_rd r;
    ef_merkle_proof p;
    ef_rd_init(&r, data, size);
    if (ef_merkle_proof_decode(&r, &p) == 0 && ef_rd_finish(&r) == 0) {
        ef_wr w;
        ef_wr_init(&w);
        EF_ASSERT(ef_merkle_proof_encode(&w, &p) == 0);
        EF_ASSERT(w.len == size && memcmp(w.buf, data, size) == 0);
        ef_wr_free(&w);
    }
    /* a generic record: u8 bool u32 bytes(<=64) str(<=32) */
    uint8_t a; bool b; uint32_t c; const uint8_t *d; size_t dn; char s[33];
    ef_rd_init(&r, data, size);
    ef_rd_u8(&r, &a); ef_rd_bool(&r, &b); ef_rd_u32(&r, &c);
    ef_rd_bytes(&r, &d, &dn, 64); ef_rd_str(&r, s, sizeof s);
    if (ef_rd_finish(&r) == 0) {
        ef_wr w;
        ef_wr_init(&w);
        ef_wr_u8(&w, a); ef_wr_bool(&w, b); ef_wr_u32(&w, c); ef_wr_bytes(&w, d, dn); ef_wr_str(&w, s);
        EF_ASSERT(w.err == 0 && w.len == size && memcmp(w.buf, data, size) == 0);
        ef_wr_free(&w);
    } else {
        EF_ASSERT(r.err < 0 && r.err_off <= size);
    }
    return 0;
}
