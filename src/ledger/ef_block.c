/* ef_block.c: block header and block encoding, hashes, results (see ef_block.h). */
#include "ledger/ef_block.h"

#include <stdlib.h>
#include <string.h>

#include "base/ef_merkle.h"

int ef_block_header_encode(ef_wr *w, const ef_block_header *h)
{
    if (h->version != EF_BLOCK_VERSION || !ef_chain_id_valid(h->chain_id)) return EF_EINVAL;
    ef_wr_u16(w, h->version);
    ef_wr_str(w, h->chain_id);
    ef_wr_u64(w, h->height);
    ef_wr_u64(w, h->time_ms);
    ef_wr_raw(w, h->prev_hash.b, EF_HASH_SIZE);
    ef_wr_raw(w, h->txs_root.b, EF_HASH_SIZE);
    ef_wr_raw(w, h->results_root.b, EF_HASH_SIZE);
    ef_wr_raw(w, h->state_hash.b, EF_HASH_SIZE);
    ef_wr_raw(w, h->vset_hash.b, EF_HASH_SIZE);
    ef_wr_raw(w, h->next_vset_hash.b, EF_HASH_SIZE);
    ef_wr_raw(w, h->proposer.b, EF_PUB_SIZE);
    return w->err;
}

int ef_block_header_decode_rd(ef_rd *r, ef_block_header *h)
{
    memset(h, 0, sizeof *h);
    size_t at = r->off;
    if (ef_rd_u16(r, &h->version)) goto fail;
    if (h->version != EF_BLOCK_VERSION) {
        r->off = at;
        ef_rd_fail(r, EF_EINVAL);
        goto fail;
    }
    at = r->off;
    if (ef_rd_str(r, h->chain_id, sizeof h->chain_id)) goto fail;
    if (!ef_chain_id_valid(h->chain_id)) {
        r->off = at;
        ef_rd_fail(r, EF_EINVAL);
        goto fail;
    }
    ef_rd_u64(r, &h->height);
    ef_rd_u64(r, &h->time_ms);
    ef_rd_raw(r, h->prev_hash.b, EF_HASH_SIZE);
    ef_rd_raw(r, h->txs_root.b, EF_HASH_SIZE);
    ef_rd_raw(r, h->results_root.b, EF_HASH_SIZE);
    ef_rd_raw(r, h->state_hash.b, EF_HASH_SIZE);
    ef_rd_raw(r, h->vset_hash.b, EF_HASH_SIZE);
    ef_rd_raw(r, h->next_vset_hash.b, EF_HASH_SIZE);
    if (ef_rd_raw(r, h->proposer.b, EF_PUB_SIZE)) goto fail;
    return 0;
fail:
    memset(h, 0, sizeof *h);
    return r->err;
}

int ef_block_header_decode(ef_block_header *h, const uint8_t *p, size_t n)
{
    ef_rd r;
    ef_rd_init(&r, p, n);
    ef_block_header_decode_rd(&r, h);
    int rc = ef_rd_finish(&r);
    if (rc) memset(h, 0, sizeof *h);
    return rc;
}

void ef_block_header_hash(ef_hash *out, const ef_block_header *h)
{
    uint8_t buf[EF_BLOCK_HEADER_MAX];
    ef_wr w;
    ef_wr_init(&w);
    int rc = ef_block_header_encode(&w, h);
    EF_ASSERT(rc == 0 && w.len <= sizeof buf);
    memcpy(buf, w.buf, w.len);
    ef_hash_tagged(out, EF_TAG_BLOCK, buf, w.len);
    ef_wr_free(&w);
}

int ef_block_hash_enc(ef_hash *out, const uint8_t *p, size_t n)
{
    ef_rd r;
    ef_block_header h;
    ef_rd_init(&r, p, n);
    int rc = ef_block_header_decode_rd(&r, &h);
    if (rc) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    ef_hash_tagged(out, EF_TAG_BLOCK, p, r.off);
    return 0;
}

int ef_block_encode(ef_wr *w, const ef_block_header *h, const ef_txbuf *txs, size_t n)
{
    size_t start = w->len;
    if (n > EF_BLOCK_TXS_MAX) return EF_ETOOBIG;
    int rc = ef_block_header_encode(w, h);
    if (rc) return rc;
    ef_wr_u32(w, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        if (txs[i].len > EF_TX_ENC_MAX) return w->err = EF_ETOOBIG;
        ef_wr_bytes(w, txs[i].enc, txs[i].len);
    }
    if (w->err) return w->err;
    if (w->len - start > EF_BLOCK_BYTES_MAX) return w->err = EF_ETOOBIG;
    return 0;
}

void ef_block_free(ef_block *b)
{
    free(b->txs);
    memset(b, 0, sizeof *b);
}

int ef_block_decode(ef_block *b, const uint8_t *p, size_t n)
{
    ef_rd r;
    uint32_t count;
    int rc;
    memset(b, 0, sizeof *b);
    if (n > EF_BLOCK_BYTES_MAX) return EF_ETOOBIG;
    ef_rd_init(&r, p, n);
    if ((rc = ef_block_header_decode_rd(&r, &b->hdr))) goto fail;
    if ((rc = ef_rd_u32(&r, &count))) goto fail;
    if (count > EF_BLOCK_TXS_MAX) {
        r.off -= 4;
        rc = ef_rd_fail(&r, EF_ETOOBIG);
        goto fail;
    }
    /* each tx takes at least 4 bytes of length; refuse counts the input cannot hold
     * before allocating */
    if ((size_t)count * 4 > ef_rd_left(&r)) {
        rc = ef_rd_fail(&r, EF_ETRUNC);
        goto fail;
    }
    if (count) {
        b->txs = calloc(count, sizeof *b->txs);
        if (!b->txs) {
            rc = EF_ENOMEM;
            goto fail;
        }
    }
    for (uint32_t i = 0; i < count; i++) {
        ef_block_tx *t = &b->txs[i];
        if ((rc = ef_rd_bytes(&r, &t->enc, &t->len, EF_TX_ENC_MAX))) goto fail;
        if ((rc = ef_tx_decode(&t->tx, t->enc, t->len))) {
            ef_rd_fail(&r, rc);
            goto fail;
        }
        ef_tx_hash_enc(&t->hash, t->enc, t->len);
    }
    if ((rc = ef_rd_finish(&r))) goto fail;
    b->txs_len = count;
    return 0;
fail:
    ef_block_free(b);
    return rc;
}

void ef_block_txs_root(ef_hash *out, const ef_block *b)
{
    if (b->txs_len == 0) {
        ef_merkle_root(out, NULL, 0);
        return;
    }
    ef_hash *hs = malloc(b->txs_len * sizeof *hs);
    EF_ASSERT(hs);
    for (uint32_t i = 0; i < b->txs_len; i++) hs[i] = b->txs[i].hash;
    ef_merkle_root(out, hs, b->txs_len);
    free(hs);
}

void ef_result_hash(ef_hash *out, int code, const uint8_t *events, size_t events_len)
{
    uint8_t head[8 + 4];   /* i64 code, u32 length of events */
    ef_hasher h;
    ef_put_u64le(head, (uint64_t)(int64_t)code);
    ef_put_u32le(head + 8, (uint32_t)events_len);
    ef_hasher_init(&h, EF_TAG_RESULT);
    ef_hasher_update(&h, head, sizeof head);
    ef_hasher_update(&h, events, events_len);
    ef_hasher_final(&h, out);
}

json_t *ef_block_header_to_json(const ef_block_header *h)
{
    char hex[2 * EF_HASH_SIZE + 1];
    ef_hash hash;
    json_t *o = json_object();
    if (!o) return NULL;
    ef_block_header_hash(&hash, h);
    ef_hex(hex, hash.b, EF_HASH_SIZE);
    json_object_set_new(o, "hash", json_string(hex));
    json_object_set_new(o, "version", json_integer(h->version));
    json_object_set_new(o, "chain_id", json_string(h->chain_id));
    json_object_set_new(o, "height", json_integer((json_int_t)h->height));
    json_object_set_new(o, "time_ms", json_integer((json_int_t)h->time_ms));
    struct { const char *k; const uint8_t *b; } f[] = {
        {"prev_hash", h->prev_hash.b}, {"txs_root", h->txs_root.b},
        {"results_root", h->results_root.b}, {"state_hash", h->state_hash.b},
        {"vset_hash", h->vset_hash.b}, {"next_vset_hash", h->next_vset_hash.b},
        {"proposer", h->proposer.b},
    };
    for (size_t i = 0; i < EF_ARRAY_LEN(f); i++) {
        ef_hex(hex, f[i].b, EF_HASH_SIZE);
        json_object_set_new(o, f[i].k, json_string(hex));
    }
    return o;
}
