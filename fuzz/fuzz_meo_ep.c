/* fuzz_meo_ep.c: libFuzzer target for the MEO endpoint decoders (21-byte binary and one-line text):
 * any input either decodes to a valid endpoint that re-encodes to exactly the same bytes/text,
 * or is rejected with an error. */
#include <stdlib.h>
#include <string.h>

#include "agents/ef_meo_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ef_meo_ep ep;
    ef_rd r;
    ef_rd_init(&r, data, size);
    int rc = ef_meo_ep_decode(&r, &ep);
    if (!rc) rc = ef_rd_finish(&r);
    if (rc) {
        EF_ASSERT(rc < 0);
    } else {
        EF_ASSERT(ef_meo_ep_valid(&ep) == 0);
        ef_wr w;
        ef_wr_init(&w);
        EF_ASSERT(ef_meo_ep_encode(&w, &ep) == 0);
        EF_ASSERT(w.len == size && memcmp(w.buf, data, size) == 0);
        ef_wr_free(&w);
    }
    /* The text form, as a NUL-terminated string. */
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = 0;
    rc = ef_meo_ep_parse(&ep, s);
    if (rc) {
        EF_ASSERT(rc == EF_EINVAL);
    } else {
        char out[EF_MEO_EP_STR_MAX];
        EF_ASSERT(ef_meo_ep_format(out, sizeof out, &ep) == 0);
        EF_ASSERT(strcmp(out, s) == 0);
    }
    free(s);
    return 0;
}
