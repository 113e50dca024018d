/* ef_proof.c: transaction inclusion proofs: codec, stateless check, building from a store. */
#include "ledger/ef_proof.h"

#include <stdlib.h>
#include <string.h>

#include "base/ef_cjson.h"
#include "ledger/ef_store.h"

int ef_proof_encode(uint8_t **out, size_t *out_len, const uint8_t *hdr_enc, size_t hdr_len,
                    const uint8_t *tx, size_t tx_len, const ef_merkle_proof *tx_path, int64_t code,
                    const uint8_t *events, size_t events_len, const ef_merkle_proof *res_path,
                    const uint8_t *cert, size_t cert_len)
{
    ef_wr w;
    *out = NULL;
    *out_len = 0;
    if (hdr_len > EF_BLOCK_HEADER_MAX || tx_len > EF_TX_ENC_MAX || events_len > EF_EVENTS_ENC_MAX ||
        cert_len > EF_CERT_SIZE_MAX || tx_path->len > EF_MERKLE_DEPTH_MAX ||
        res_path->len > EF_MERKLE_DEPTH_MAX)
        return EF_ETOOBIG;
    ef_wr_init(&w);
    ef_wr_u16(&w, EF_PROOF_VERSION);
    ef_wr_bytes(&w, hdr_enc, hdr_len);
    ef_wr_bytes(&w, tx, tx_len);
    ef_merkle_proof_encode(&w, tx_path);
    ef_wr_i64(&w, code);
    ef_wr_bytes(&w, events, events_len);
    ef_merkle_proof_encode(&w, res_path);
    ef_wr_bytes(&w, cert, cert_len);
    if (w.err) {
        int rc = w.err;
        ef_wr_free(&w);
        return rc;
    }
    *out = ef_wr_take(&w, out_len);
    return *out ? 0 : EF_ENOMEM;
}

/* events must be one canonical JSON array: decoding and re-encoding gives the
 * same bytes. */
static int ef_proof_events_canonical(const uint8_t *p, size_t n)
{
    json_t *v = NULL;
    ef_wr w;
    int rc = ef_cj_decode(&v, p, n);
    if (rc) return rc == EF_ENOMEM ? rc : EF_ENONCANON;
    if (!json_is_array(v)) {
        json_decref(v);
        return EF_ENONCANON;
    }
    ef_wr_init(&w);
    rc = ef_cj_encode(&w, v);
    if (rc == 0 && (w.len != n || memcmp(w.buf, p, n))) rc = EF_ENONCANON;
    ef_wr_free(&w);
    json_decref(v);
    return rc;
}

int ef_proof_decode(ef_proof *pf, const uint8_t *p, size_t len)
{
    ef_rd r;
    uint16_t version = 0;
    int rc;
    memset(pf, 0, sizeof *pf);
    if (len > EF_PROOF_MAX) return EF_ETOOBIG;
    ef_rd_init(&r, p, len);
    if (ef_rd_u16(&r, &version)) goto fail;
    if (version != EF_PROOF_VERSION) {
        ef_rd_fail(&r, EF_EINVAL);
        goto fail;
    }
    if (ef_rd_bytes(&r, &pf->hdr_enc, &pf->hdr_len, EF_BLOCK_HEADER_MAX)) goto fail;
    if (ef_rd_bytes(&r, &pf->tx, &pf->tx_len, EF_TX_ENC_MAX)) goto fail;
    if (ef_merkle_proof_decode(&r, &pf->tx_path)) goto fail;
    if (ef_rd_i64(&r, &pf->code)) goto fail;
    if (ef_rd_bytes(&r, &pf->events, &pf->events_len, EF_EVENTS_ENC_MAX)) goto fail;
    if (ef_merkle_proof_decode(&r, &pf->res_path)) goto fail;
    if (ef_rd_bytes(&r, &pf->cert, &pf->cert_len, EF_CERT_SIZE_MAX)) goto fail;
    if ((rc = ef_rd_finish(&r))) goto out;
    if (pf->cert_len == 0) pf->cert = NULL;
    /* the parts */
    if (ef_block_header_decode(&pf->hdr, pf->hdr_enc, pf->hdr_len) ||
        ef_tx_decode(&pf->tx_dec, pf->tx, pf->tx_len) || pf->code > 0 || pf->code <= -EF_ERR_COUNT_ ||
        pf->tx_path.index != pf->res_path.index || pf->tx_path.count != pf->res_path.count) {
        rc = EF_EINVAL;
        goto out;
    }
    if ((rc = ef_proof_events_canonical(pf->events, pf->events_len))) goto out;
    ef_block_header_hash(&pf->block_hash, &pf->hdr);
    ef_tx_hash_enc(&pf->tx_hash, pf->tx, pf->tx_len);
    return 0;
fail:
    rc = r.err ? r.err : EF_EINVAL;
out:
    memset(pf, 0, sizeof *pf);
    return rc;
}

int ef_proof_check(const ef_proof *pf)
{
    ef_hash res;
    if (!ef_merkle_verify(&pf->hdr.txs_root, &pf->tx_hash, &pf->tx_path)) return EF_EPROOF;
    ef_result_hash(&res, (int)pf->code, pf->events, pf->events_len);
    if (!ef_merkle_verify(&pf->hdr.results_root, &res, &pf->res_path)) return EF_EPROOF;
    return 0;
}

int ef_proof_verify(ef_proof *pf, const uint8_t *p, size_t len, const ef_vset *vs, bool require_cert)
{
    int rc = ef_proof_decode(pf, p, len);
    if (rc) return rc;
    if ((rc = ef_proof_check(pf))) goto fail;
    if (!pf->cert_len) {
        if (require_cert) rc = EF_ECERT;
        goto done;
    }
    if (!vs) {
        rc = EF_EINVAL;
        goto fail;
    }
    rc = ef_cert_verify(pf->cert, pf->cert_len, pf->hdr.chain_id, pf->hdr.height, &pf->block_hash, vs);
done:
    if (rc == 0) return 0;
fail:
    memset(pf, 0, sizeof *pf);
    return rc;
}

json_t *ef_proof_to_json(const ef_proof *pf)
{
    char bh[2 * EF_HASH_SIZE + 1], th[2 * EF_HASH_SIZE + 1], sh[2 * EF_PUB_SIZE + 1];
    json_t *ev = NULL;
    if (ef_cj_decode(&ev, pf->events, pf->events_len)) ev = json_array();
    ef_hex(bh, pf->block_hash.b, EF_HASH_SIZE);
    ef_hex(th, pf->tx_hash.b, EF_HASH_SIZE);
    ef_hex(sh, pf->tx_dec.sender.b, EF_PUB_SIZE);
    return json_pack("{s:s, s:I, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:o, s:b}", "chain_id", pf->hdr.chain_id,
                     "height", (json_int_t)pf->hdr.height, "block_hash", bh, "tx_hash", th, "index",
                     (json_int_t)pf->tx_path.index, "count", (json_int_t)pf->tx_path.count, "code",
                     (json_int_t)pf->code, "contract", pf->tx_dec.contract, "method", pf->tx_dec.method,
                     "sender", sh, "events", ev, "certified", pf->cert_len > 0);
}

/* The canonical events encoding of a stored result. */
static int ef_proof_result(ef_store *s, uint64_t height, uint32_t i, int *code, ef_wr *w)
{
    char *js = NULL;
    int rc = ef_store_result(s, height, i, code, &js);
    if (rc) return rc;
    json_t *ev = json_loads(js, 0, NULL);
    free(js);
    if (!ev) return EF_EDB;
    rc = ef_cj_encode(w, ev);
    json_decref(ev);
    return rc ? EF_EDB : 0;
}

int ef_proof_build(ef_store *s, const ef_hash *tx_hash, bool with_cert, uint8_t **out, size_t *out_len)
{
    ef_tx_loc loc = {0};
    ef_block b = {0};
    uint8_t *blk = NULL, *cert = NULL;
    size_t blen = 0, cert_len = 0;
    ef_hash *th = NULL, *rh = NULL;
    ef_merkle_proof *tp = NULL, *rp = NULL;
    ef_wr hw, ew, mine;
    int my_code = 0;
    int rc;
    *out = NULL;
    *out_len = 0;
    ef_wr_init(&hw);
    ef_wr_init(&ew);
    ef_wr_init(&mine);
    if ((rc = ef_store_tx_lookup(s, tx_hash, &loc))) goto out;
    if ((rc = ef_store_block(s, loc.height, &blk, &blen))) goto out;
    if ((rc = ef_block_decode(&b, blk, blen))) {
        rc = EF_EDB;
        goto out;
    }
    if (loc.index >= b.txs_len) {
        rc = EF_EDB;
        goto out;
    }
    th = calloc(b.txs_len, sizeof *th);
    rh = calloc(b.txs_len, sizeof *rh);
    tp = malloc(sizeof *tp);
    rp = malloc(sizeof *rp);
    if (!th || !rh || !tp || !rp) {
        rc = EF_ENOMEM;
        goto out;
    }
    for (uint32_t i = 0; i < b.txs_len; i++) {
        int code;
        th[i] = b.txs[i].hash;
        ef_wr_reset(&ew);
        if ((rc = ef_proof_result(s, loc.height, i, &code, &ew))) goto out;
        ef_result_hash(&rh[i], code, ew.buf, ew.len);
        if (i == loc.index) {
            my_code = code;
            ef_wr_raw(&mine, ew.buf, ew.len);
        }
    }
    if ((rc = ef_merkle_prove(tp, th, b.txs_len, loc.index)) ||
        (rc = ef_merkle_prove(rp, rh, b.txs_len, loc.index)))
        goto out;
    if ((rc = ef_block_header_encode(&hw, &b.hdr))) goto out;
    if (with_cert && (rc = ef_store_cert(s, loc.height, &cert, &cert_len))) {
        if (rc != EF_ENOTFOUND) goto out;
        cert = NULL;
        cert_len = 0;
    }
    if (mine.err) {
        rc = mine.err;
        goto out;
    }
    const ef_block_tx *t = &b.txs[loc.index];
    rc = ef_proof_encode(out, out_len, hw.buf, hw.len, t->enc, t->len, tp, my_code, mine.buf, mine.len, rp, cert,
                         cert_len);
out:
    free(loc.events_json);
    ef_block_free(&b);
    free(blk);
    free(cert);
    free(th);
    free(rh);
    free(tp);
    free(rp);
    ef_wr_free(&hw);
    ef_wr_free(&ew);
    ef_wr_free(&mine);
    return rc;
}
