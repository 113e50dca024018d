/* fuzz_msg.c: libFuzzer target for consensus message and evidence decoders, and
 * the engine's message input: anything decodes and re-encodes to the same bytes
 * or is rejected; the engine never crashes on it. The ledger's vote decoder
 * (ledger/ef_evidence.h, what the registry reads) accepts exactly the votes the
 * consensus decoder accepts, with the same fields. */
#include <stdlib.h>
#include <string.h>

#include "base/ef_crypto.h"
#include "consensus/ef_engine.h"
#include "consensus/ef_msg.h"
#include "fz_vset.h"
#include "ledger/ef_evidence.h"

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
    ef_vote v;
    int vrc = ef_vote_decode(&v, data, size);
    bool is_vote = ef_msg_decode(&m, data, size) == 0 && m.type != EF_MSG_PROPOSAL;
    EF_ASSERT((vrc == 0) == is_vote);
    if (is_vote) {
        EF_ASSERT(v.type == (uint8_t)m.type && !strcmp(v.chain, m.chain) && v.height == m.height &&
                  v.round == m.round && v.has_value == m.has_value &&
                  ef_hash_eq(&v.value_id, &m.value_id) && !memcmp(&v.signer, &m.signer, sizeof v.signer));
        EF_ASSERT(ef_vote_verify(&v) == ef_msg_verify(&m));
    }
    ef_vote_evidence ev;
    (void)ef_vote_evidence_check(&ev, "test-chain", &fz_vs, data, size / 2, data + size / 2, size - size / 2);
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
