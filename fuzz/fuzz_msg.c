/* fuzz_msg.c: libFuzzer target for consensus message and evidence decoders, and
 * the engine's message input: anything decodes and re-encodes to the same bytes
 * or is rejected; the engine never crashes on it. */
#include <stdlib.h>
#include <string.h>

#include "base/ef_crypto.h"
#include "consensus/ef_engine.h"
#include "consensus/ef_msg.h"
#include "fz_vset.h"

static ef_engine *fz_engine;
static ef_vset fz_vs;

static int fz_value_id(void *ctx, const uint8_t *v, size_t len, ef_hash *id)
{
    (void)ctx;
    ef_hash_tagged(id, EF_TAG_BLOCK, v, len);
    return 0;
}

static void fz_setup(void)
{
    EF_ASSERT(ef_crypto_init() == 0);
    fz_vset4(&fz_vs);
    ef_engine_cfg c;
    ef_engine_cfg_defaults(&c);
    c.chain_id = "test-chain";
    c.value_id = fz_value_id;  /* an observer: no key, no WAL */
    EF_ASSERT(ef_engine_new(&fz_engine, &c) == 0);
    EF_ASSERT(ef_engine_start_height(fz_engine, 1, &fz_vs) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fz_engine) fz_setup();
    ef_msg m;
    if (ef_msg_decode(&m, data, size) == 0) {
        uint8_t *out;
        size_t len;
        EF_ASSERT(ef_msg_encode(&m, &out, &len) == 0);
        EF_ASSERT(len == size && memcmp(out, data, size) == 0);
        free(out);
        (void)ef_msg_verify(&m);
    }
    ef_pub who;
    uint64_t h;
    (void)ef_evidence_verify(data, size, "test-chain", &fz_vs, &who, &h);
    (void)ef_engine_on_message(fz_engine, data, size);
    ef_engine_out o;
    while (ef_engine_poll(fz_engine, &o)) {
        if (o.kind == EF_OUT_VALIDATE) (void)ef_engine_on_validity(fz_engine, &o.value_id, true);
        ef_engine_out_free(&o);
    }
    return 0;
}
