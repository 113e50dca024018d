/* ef_tx.c: transaction encoding, hashing, signing and stateless checks (see ef_tx.h). */
#include "ledger/ef_tx.h"

#include <string.h>

bool ef_chain_id_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > EF_CHAIN_ID_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

bool ef_name_valid(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    return true;
}

int ef_tx_encode_body(ef_wr *w, const ef_tx *tx)
{
    if (!ef_chain_id_valid(tx->chain_id) || !ef_name_valid(tx->contract, EF_CONTRACT_NAME_MAX) ||
        !ef_name_valid(tx->method, EF_METHOD_NAME_MAX))
        return EF_EINVAL;
    if (tx->args_len > EF_TX_ARGS_MAX) return EF_ETOOBIG;
    ef_wr_str(w, tx->chain_id);
    ef_wr_raw(w, tx->sender.b, EF_PUB_SIZE);
    ef_wr_u64(w, tx->nonce);
    ef_wr_str(w, tx->contract);
    ef_wr_str(w, tx->method);
    ef_wr_bytes(w, tx->args, tx->args_len);
    return w->err;
}

int ef_tx_encode(ef_wr *w, const ef_tx *tx)
{
    int rc = ef_tx_encode_body(w, tx);
    if (rc) return rc;
    return ef_wr_raw(w, tx->sig.b, EF_SIG_SIZE);
}

int ef_tx_decode_rd(ef_rd *r, ef_tx *tx)
{
    memset(tx, 0, sizeof *tx);
    size_t at = r->off;
    if (ef_rd_str(r, tx->chain_id, sizeof tx->chain_id)) goto fail;
    if (!ef_chain_id_valid(tx->chain_id)) {
        r->off = at;
        ef_rd_fail(r, EF_EINVAL);
        goto fail;
    }
    ef_rd_raw(r, tx->sender.b, EF_PUB_SIZE);
    ef_rd_u64(r, &tx->nonce);
    at = r->off;
    if (ef_rd_str(r, tx->contract, sizeof tx->contract)) goto fail;
    if (!ef_name_valid(tx->contract, EF_CONTRACT_NAME_MAX)) {
        r->off = at;
        ef_rd_fail(r, EF_EINVAL);
        goto fail;
    }
    at = r->off;
    if (ef_rd_str(r, tx->method, sizeof tx->method)) goto fail;
    if (!ef_name_valid(tx->method, EF_METHOD_NAME_MAX)) {
        r->off = at;
        ef_rd_fail(r, EF_EINVAL);
        goto fail;
    }
    if (ef_rd_bytes(r, &tx->args, &tx->args_len, EF_TX_ARGS_MAX)) goto fail;
    if (ef_rd_raw(r, tx->sig.b, EF_SIG_SIZE)) goto fail;
    return 0;
fail:
    memset(tx, 0, sizeof *tx);
    return r->err;
}

int ef_tx_decode(ef_tx *tx, const uint8_t *p, size_t n)
{
    ef_rd r;
    if (n > EF_TX_ENC_MAX) {
        memset(tx, 0, sizeof *tx);
        return EF_ETOOBIG;
    }
    ef_rd_init(&r, p, n);
    ef_tx_decode_rd(&r, tx);
    int rc = ef_rd_finish(&r);
    if (rc) memset(tx, 0, sizeof *tx);
    return rc;
}

void ef_tx_hash_enc(ef_hash *out, const uint8_t *enc, size_t len)
{
    ef_hash_tagged(out, EF_TAG_TX, enc, len);
}

int ef_tx_hash(ef_hash *out, const ef_tx *tx)
{
    ef_wr w;
    ef_wr_init(&w);
    int rc = ef_tx_encode(&w, tx);
    if (rc) memset(out, 0, sizeof *out);
    else ef_tx_hash_enc(out, w.buf, w.len);
    ef_wr_free(&w);
    return rc;
}

int ef_tx_sign(ef_tx *tx, const ef_keypair *kp)
{
    if (memcmp(tx->sender.b, kp->pub.b, EF_PUB_SIZE)) return EF_EINVAL;
    ef_wr w;
    ef_wr_init(&w);
    int rc = ef_tx_encode_body(&w, tx);
    if (rc == 0) ef_sign(&tx->sig, kp, EF_TAG_TX, w.buf, w.len);
    ef_wr_free(&w);
    return rc;
}

int ef_tx_args_parse(const ef_tx *tx, json_t **out)
{
    *out = json_loadb((const char *)tx->args, tx->args_len, JSON_REJECT_DUPLICATES, NULL);
    if (json_is_object(*out)) return 0;
    json_decref(*out);
    *out = NULL;
    return EF_EARGS;
}

int ef_tx_seal(ef_tx *tx, const ef_keypair *kp, uint8_t **enc, size_t *len)
{
    *enc = NULL;
    *len = 0;
    tx->sender = kp->pub;
    int rc = ef_tx_sign(tx, kp);
    if (rc) return rc;
    ef_wr w;
    ef_wr_init(&w);
    rc = ef_tx_encode(&w, tx);
    if (rc == 0 && !(*enc = ef_wr_take(&w, len))) rc = EF_ENOMEM;
    ef_wr_free(&w);
    return rc;
}

bool ef_tx_verify(const ef_tx *tx)
{
    ef_wr w;
    ef_wr_init(&w);
    bool ok = ef_tx_encode_body(&w, tx) == 0 &&
              ef_verify(&tx->sig, &tx->sender, EF_TAG_TX, w.buf, w.len);
    ef_wr_free(&w);
    return ok;
}

bool ef_tx_verify_enc(const ef_tx *tx, const uint8_t *enc, size_t len)
{
    if (len < EF_SIG_SIZE) return false;
    return ef_verify(&tx->sig, &tx->sender, EF_TAG_TX, enc, len - EF_SIG_SIZE);
}

int ef_tx_check_stateless(const ef_tx *tx, const char *chain_id, const uint8_t *enc, size_t len)
{
    if (strcmp(tx->chain_id, chain_id)) return EF_ECHAIN;
    if (!ef_chain_id_valid(tx->chain_id) || !ef_name_valid(tx->contract, EF_CONTRACT_NAME_MAX) ||
        !ef_name_valid(tx->method, EF_METHOD_NAME_MAX))
        return EF_EINVAL;
    if (tx->args_len > EF_TX_ARGS_MAX || (enc && len > EF_TX_ENC_MAX)) return EF_ETOOBIG;
    bool ok = enc ? ef_tx_verify_enc(tx, enc, len) : ef_tx_verify(tx);
    return ok ? 0 : EF_EBADSIG;
}

json_t *ef_tx_to_json(const ef_tx *tx)
{
    char hex[2 * EF_SIG_SIZE + 1];
    ef_hash h;
    json_t *o = json_object();
    if (!o) return NULL;
    if (ef_tx_hash(&h, tx) == 0) {
        ef_hex(hex, h.b, EF_HASH_SIZE);
        json_object_set_new(o, "hash", json_string(hex));
    }
    json_object_set_new(o, "chain_id", json_string(tx->chain_id));
    ef_hex(hex, tx->sender.b, EF_PUB_SIZE);
    json_object_set_new(o, "sender", json_string(hex));
    json_object_set_new(o, "nonce", json_integer((json_int_t)tx->nonce));
    json_object_set_new(o, "contract", json_string(tx->contract));
    json_object_set_new(o, "method", json_string(tx->method));
    json_t *args = json_loadb((const char *)tx->args, tx->args_len, 0, NULL);
    if (args) {
        json_object_set_new(o, "args", args);
    } else {
        char *ah = malloc(2 * tx->args_len + 1);
        if (ah) {
            ef_hex(ah, tx->args, tx->args_len);
            json_object_set_new(o, "args_hex", json_string(ah));
            free(ah);
        }
    }
    ef_hex(hex, tx->sig.b, EF_SIG_SIZE);
    json_object_set_new(o, "sig", json_string(hex));
    return o;
}
