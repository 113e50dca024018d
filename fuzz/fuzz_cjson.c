/* fuzz_cjson.c: libFuzzer target for the canonical JSON decoder (base/ef_cjson.h):
 * any input either decodes, and then encodes back to exactly the same bytes and
 * prints as JSON text that parses to the same value, or is rejected with an error
 * recorded inside the input. */
#include <stdlib.h>
#include <string.h>

#include "base/ef_cjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ef_rd r;
    json_t *v;
    ef_rd_init(&r, data, size);
    int rc = ef_cj_decode_rd(&r, &v);
    if (rc == 0) rc = ef_rd_finish(&r);
    if (rc) {
        EF_ASSERT(r.err < 0 && r.err_off <= size);
        json_decref(v);
        return 0;
    }
    ef_wr w;
    ef_wr_init(&w);
    EF_ASSERT(ef_cj_encode(&w, v) == 0);
    EF_ASSERT(w.len == size && memcmp(w.buf, data, size) == 0);
    ef_wr_free(&w);
    char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    if (text) {   /* NULL only when out of memory */
        json_t *back = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        EF_ASSERT(back && json_equal(back, v));
        json_decref(back);
        free(text);
    }
    json_decref(v);
    return 0;
}
