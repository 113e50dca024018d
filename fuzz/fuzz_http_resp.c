/* fuzz_http_resp.c: libFuzzer target for the agents' HTTP response parser (what a peer's app or
 * REST provider sends back): any input is parsed or rejected, never read out of bounds; a parsed
 * body is NUL-terminated and within the input. */
#include <string.h>

#include "agents/ef_httpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ef_httpc_resp r;
    int rc = ef_httpc_parse_response(&r, data, size);
    if (rc) {
        EF_ASSERT(rc < 0 && r.body == NULL && r.head == NULL);
        return 0;
    }
    EF_ASSERT(r.status >= 100 && r.status <= 999);
    EF_ASSERT(r.body && r.head && r.body_len <= size && r.body[r.body_len] == 0);
    char v[64];
    int hr = ef_httpc_header(&r, "X-EF-Auth", v, sizeof v);
    EF_ASSERT(hr == 0 || hr == EF_ENOTFOUND || hr == EF_ETOOBIG);
    if (hr == 0) EF_ASSERT(strlen(v) < sizeof v);
    ef_httpc_resp_free(&r);
    return 0;
}
