/* fuzz_nslice_template.c: libFuzzer target for the nslice template decoder
 * (contracts/ef_nslice.h). Whatever the bytes, decoding never crashes; bytes
 * that decode re-encode to exactly themselves (one encoding per template, so
 * the id, a hash of the bytes, names one template), and JSON built from the
 * decoded template parses back to it. */
#include <stdlib.h>
#include <string.h>

#include "contracts/ef_nslice.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ef_nslice_template t, u;
    if (ef_nslice_template_decode(&t, data, size)) {
        /* a failed decode leaves a zeroed template */
        static const ef_nslice_template zero;
        EF_ASSERT(!memcmp(&t, &zero, sizeof t));
        return 0;
    }
    ef_wr w;
    ef_wr_init(&w);
    EF_ASSERT(ef_nslice_template_encode(&w, &t) == 0);
    EF_ASSERT(w.len == size && !memcmp(w.buf, data, size));
    ef_hash a, b;
    ef_nslice_template_id(&a, data, size);
    ef_nslice_template_id(&b, w.buf, w.len);
    EF_ASSERT(ef_hash_eq(&a, &b));
    ef_wr_free(&w);
    json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:s}", "name", t.name, "kbps_min", (json_int_t)t.kbps_min,
                          "kbps_max", (json_int_t)t.kbps_max, "max_latency_us", (json_int_t)t.max_latency_us,
                          "max_loss_ppm", (json_int_t)t.max_loss_ppm, "description", t.description);
    EF_ASSERT(j && ef_nslice_template_from_json(&u, j) == 0);
    EF_ASSERT(!memcmp(&t, &u, sizeof t));
    json_decref(j);
    return 0;
}
