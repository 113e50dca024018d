/* cli_prov_client.c: the prov CLI's client side that `edgefed prov` (cmd_prov.c),
 * its pipeline roles (cli_prov_pipeline.c) and the demo share: the chain id,
 * signed submissions, release arguments, and fetching and checking blobs. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api/ef_client.h"
#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "cli/cli.h"
#include "cli/cli_api.h"
#include "cli/cli_prov.h"
#include "contracts/ef_prov.h"
#include "ledger/ef_tx.h"

int ef_prov_cli_chain(ef_client *cl, char chain[EF_CHAIN_ID_MAX + 1])
{
    long status = 0;
    json_t *j = NULL;
    int rc = ef_client_json(cl, "GET", "/status", NULL, &status, &j);
    const char *id = json_string_value(json_object_get(j, "chain_id"));
    if (rc == 0 && (status != 200 || !id || strlen(id) > EF_CHAIN_ID_MAX)) rc = EF_EPROTO;
    if (rc == 0) snprintf(chain, EF_CHAIN_ID_MAX + 1, "%s", id);
    json_decref(j);
    return rc;
}

int ef_prov_cli_send(ef_client *cl, const ef_keypair *kp, const char *method, const json_t *args, char *err,
                     size_t err_cap, json_t **resp_out)
{
    return ef_prov_cli_tx(cl, kp, "prov", method, args, err, err_cap, resp_out);
}

int ef_prov_cli_tx(ef_client *cl, const ef_keypair *kp, const char *contract, const char *method, const json_t *args,
                   char *err, size_t err_cap, json_t **resp_out)
{
    char chain[EF_CHAIN_ID_MAX + 1], hex[2 * EF_PUB_SIZE + 1], target[32 + 2 * EF_PUB_SIZE];
    long status = 0;
    json_t *j = NULL;
    if (resp_out) *resp_out = NULL;
    int rc = ef_prov_cli_chain(cl, chain);
    if (rc) {
        snprintf(err, err_cap, "cannot read the chain id: %s", ef_strerror(rc));
        return rc;
    }
    ef_hex(hex, kp->pub.b, EF_PUB_SIZE);
    snprintf(target, sizeof target, "/accounts/%s", hex);
    rc = ef_client_json(cl, "GET", target, NULL, &status, &j);
    json_t *n = json_object_get(j, "nonce");
    if (rc || status != 200 || !json_is_integer(n)) {
        snprintf(err, err_cap, "cannot read the next nonce (%s, HTTP %ld)", ef_strerror(rc), status);
        json_decref(j);
        return rc ? rc : EF_EPROTO;
    }
    ef_tx tx;
    memset(&tx, 0, sizeof tx);
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", chain);
    tx.nonce = (uint64_t)json_integer_value(n);
    json_decref(j);
    snprintf(tx.contract, sizeof tx.contract, "%s", contract);
    snprintf(tx.method, sizeof tx.method, "%s", method);
    char *text = json_dumps(args, JSON_COMPACT);
    if (!text) return EF_ENOMEM;
    tx.args = (const uint8_t *)text;
    tx.args_len = strlen(text);
    uint8_t *enc;
    size_t enc_len;
    rc = ef_tx_seal(&tx, kp, &enc, &enc_len);
    free(text);
    if (rc) {
        snprintf(err, err_cap, "cannot build the transaction: %s", ef_strerror(rc));
        return rc;
    }
    j = NULL;
    rc = ef_client_submit(cl, enc, enc_len, true, 0, &status, &j);
    free(enc);
    if (rc) {
        snprintf(err, err_cap, "submit: %s", ef_strerror(rc));
        return rc;
    }
    const char *code = json_string_value(json_object_get(j, "code"));
    if (status == 200 && code && !strcmp(code, "OK")) rc = 0;
    else {
        const char *e = json_string_value(json_object_get(j, "error"));
        snprintf(err, err_cap, "%s%s%s (HTTP %ld)", code ? code : "refused", e ? ": " : "", e ? e : "", status);
        /* the result code of a committed transaction, or a generic refusal */
        rc = EF_EPERM;
        for (int k = 1; k < EF_ERR_COUNT_ && code; k++)   /* the table has gaps: skip EUNKNOWN */
            if (strcmp(ef_errname(-k), "EUNKNOWN") && !strcmp(ef_errname(-k), code)) rc = -k;
    }
    if (resp_out) *resp_out = j;
    else json_decref(j);
    return rc;
}

int ef_prov_cli_check_blob(ef_client *cl, const char *entity, const uint8_t *blob, size_t len, char *err,
                           size_t err_cap)
{
    char target[128];
    long status = 0;
    json_t *d = NULL;
    snprintf(target, sizeof target, "/state/prov/data/%s", entity);
    int rc = ef_client_json(cl, "GET", target, NULL, &status, &d);
    if (rc || status != 200) {
        snprintf(err, err_cap, "data %s is not recorded (HTTP %ld): it has not left its producer", entity, status);
        json_decref(d);
        return rc ? rc : EF_ENOTRELEASED;
    }
    ef_hash h;
    char hh[2 * EF_HASH_SIZE + 1];
    ef_prov_blob_hash(&h, blob, len);
    ef_hex(hh, h.b, EF_HASH_SIZE);
    const char *want = json_string_value(json_object_get(d, "hash"));
    json_int_t size = json_integer_value(json_object_get(d, "size"));
    if (!want || strcmp(want, hh) || size != (json_int_t)len) {
        snprintf(err, err_cap, "data %s: the fetched bytes (%zu, hash %.16s...) do not match the recorded hash "
                 "(%lld, %.16s...): refused", entity, len, hh, (long long)size, want ? want : "?");
        rc = EF_EPROOF;
    }
    json_decref(d);
    return rc;
}

int ef_prov_cli_fetch(const char *base, const char *hash_hex, uint8_t **out, size_t *len)
{
    ef_client *cl = NULL;
    int rc = ef_client_new(&cl, base, NULL, 10000);
    if (rc) return rc;
    char target[128], *body = NULL;
    long status = 0;
    snprintf(target, sizeof target, "/blobs/%s", hash_hex);
    rc = ef_client_request(cl, "GET", target, NULL, NULL, 0, &status, &body, len);
    ef_client_free(cl);
    if (rc == 0 && status != 200) rc = EF_ENOTFOUND;
    if (rc) {
        free(body);
        return rc;
    }
    *out = (uint8_t *)body;
    return 0;
}

json_t *ef_prov_cli_release_args(const ef_keypair *kp, const char *chain, const char *entity, const char *activity,
                                 const char *producer, const uint8_t *blob, size_t len, const char *media,
                                 const char *receiver)
{
    ef_hash h;
    char hh[2 * EF_HASH_SIZE + 1], sig[2 * EF_SIG_SIZE + 1];
    ef_prov_blob_hash(&h, blob, len);
    ef_hex(hh, h.b, EF_HASH_SIZE);
    if (ef_prov_data_sign(sig, kp, chain, entity, activity, producer, &h, len, media)) return NULL;
    json_t *a = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s}", "entity", entity, "activity", activity, "producer",
                          producer, "hash", hh, "size", (json_int_t)len, "media_type", media, "sig", sig);
    if (a && receiver) json_object_set_new(a, "receiver", json_string(receiver));
    return a;
}
