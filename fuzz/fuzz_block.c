/* fuzz_block.c: libFuzzer target for the block and header decoders: any input
 * either decodes and re-encodes to exactly the same bytes, with consistent hashes,
 * or is rejected with an error. */
#include <stdlib.h>
#include <string.h>

#include "ledger/ef_block.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) init = ef_crypto_init() == 0;
    ef_block b;
    int rc = ef_block_decode(&b, data, size);
    if (rc == 0) {
        ef_txbuf *txs = calloc(b.txs_len ? b.txs_len : 1, sizeof *txs);
        EF_ASSERT(txs);
        for (uint32_t i = 0; i < b.txs_len; i++) {
            txs[i].enc = b.txs[i].enc;
            txs[i].len = b.txs[i].len;
        }
        ef_wr w;
        ef_wr_init(&w);
        EF_ASSERT(ef_block_encode(&w, &b.hdr, txs, b.txs_len) == 0);
        EF_ASSERT(w.len == size && memcmp(w.buf, data, size) == 0);
        ef_wr_free(&w);
        ef_hash h1, h2, root;
        ef_block_header_hash(&h1, &b.hdr);
        EF_ASSERT(ef_block_hash_enc(&h2, data, size) == 0 && ef_hash_eq(&h1, &h2));
        ef_block_txs_root(&root, &b);
        free(txs);
        ef_block_free(&b);
    } else {
        EF_ASSERT(rc < 0 && b.txs == NULL && b.txs_len == 0);
    }
    ef_block_header h;
    rc = ef_block_header_decode(&h, data, size);
    if (rc == 0) {
        ef_wr w;
        ef_wr_init(&w);
        EF_ASSERT(ef_block_header_encode(&w, &h) == 0);
        EF_ASSERT(w.len == size && memcmp(w.buf, data, size) == 0);
        ef_wr_free(&w);
    }
    return 0;
}
