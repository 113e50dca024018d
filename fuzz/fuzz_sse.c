/* fuzz_sse.c: the server-sent events parser of the API client (ef_client.h) on
 * arbitrary bytes, fed in pieces whose sizes come from the input. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "api/ef_client.h"

static int ef_fuzz_on_event(void *arg, const char *type, const char *id, const char *data)
{
    size_t *n = arg;
    *n += strlen(type) + strlen(id) + strlen(data);
    return data[0] == 'S' && data[1] == 'T' ? 1 : 0;   /* stop on "ST..." */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t seen = 0;
    ef_sse_parser *p = ef_sse_parser_new(ef_fuzz_on_event, &seen, size ? "7" : NULL);
    if (!p) return 0;
    size_t off = 0;
    while (off < size) {
        size_t chunk = 1 + data[off] % 64;
        if (chunk > size - off) chunk = size - off;
        if (ef_sse_parser_feed(p, (const char *)data + off, chunk)) break;
        off += chunk;
    }
    ef_sse_parser_free(p);
    return 0;
}
