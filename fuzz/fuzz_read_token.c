/* fuzz_read_token.c: libFuzzer target for the private ledgers' read-token
 * decoder (api/ef_api.h): the input's bytes as hex, and the input as text, are
 * either a token whose fields hold the format's rules or refused with one of
 * the documented codes and a zeroed token. */
#include <stdlib.h>
#include <string.h>

#include "api/ef_api.h"
#include "base/ef_codec.h"

static void fz_check(const char *hex)
{
    static const ef_api_token zero;
    ef_api_token t;
    int rc = ef_api_token_check(&t, hex, NULL, 0);
    if (rc) {
        EF_ASSERT(rc == EF_EINVAL || rc == EF_EBADSIG);
        EF_ASSERT(memcmp(&t, &zero, sizeof t) == 0);
        return;
    }
    EF_ASSERT(t.chain_id[0] && strlen(t.chain_id) <= EF_CHAIN_ID_MAX && t.expires_ms > t.issued_ms);
    /* the same token against a chain and a clock: only these outcomes */
    rc = ef_api_token_check(&t, hex, "fuzz-chain", t.issued_ms);
    EF_ASSERT(rc == 0 || rc == EF_ECHAIN || rc == EF_ELATE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) init = ef_crypto_init() == 0;
    if (size > EF_API_TOKEN_HEX_MAX) return 0;
    char hex[2 * EF_API_TOKEN_HEX_MAX + 1], text[EF_API_TOKEN_HEX_MAX + 1];
    ef_hex(hex, data, size);
    fz_check(hex);
    memcpy(text, data, size);
    text[size] = 0;
    fz_check(text);
    return 0;
}
