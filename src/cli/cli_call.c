/* cli_call.c: one transaction call and one JSON read through a node's HTTP API,
 * shared by the CLI's commands, demos and benchmarks (see cli_api.h). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/ef_client.h"
#include "base/ef_codec.h"
#include "cli/cli_api.h"
#include "ledger/ef_tx.h"

int ef_cli_get_as(const char *url, const ef_keypair *key, const char *path, json_t **out)
{
    ef_client *cl;
    long status = 0;
    *out = NULL;
    int rc = ef_client_new(&cl, url, key, 0);
    if (rc) return rc;
    rc = ef_client_json(cl, "GET", path, NULL, &status, out);
    if (rc == 0 && status != 200) {
        json_decref(*out);
        *out = NULL;
        rc = status == 404 ? EF_ENOTFOUND : EF_EPROTO;
    }
    ef_client_free(cl);
    return rc;
}

int ef_cli_submit_call(const char *url, const ef_keypair *key, bool sign_reads, unsigned timeout_ms,
                       const char *contract, const char *method, const char *args, char code[24],
                       json_t **tx_out)
{
    ef_client *cl;
    json_t *st = NULL, *acc = NULL, *resp = NULL;
    uint8_t *enc = NULL;
    long status = 0;
    char path[128], hex[2 * EF_PUB_SIZE + 1];
    if (code) snprintf(code, 24, "%s", "EPROTO");
    if (tx_out) *tx_out = NULL;
    int rc = ef_client_new(&cl, url, sign_reads ? key : NULL, timeout_ms);
    if (rc) return rc;
    ef_hex(hex, key->pub.b, EF_PUB_SIZE);
    snprintf(path, sizeof path, "/accounts/%s", hex);
    if ((rc = ef_client_json(cl, "GET", "/status", NULL, &status, &st)) ||
        (rc = ef_client_json(cl, "GET", path, NULL, &status, &acc)))
        goto out;
    const char *chain = json_string_value(json_object_get(st, "chain_id"));
    if (!chain || strlen(chain) > EF_CHAIN_ID_MAX || !json_is_integer(json_object_get(acc, "nonce"))) {
        rc = EF_EPROTO;
        goto out;
    }
    ef_tx tx;
    memset(&tx, 0, sizeof tx);
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", chain);
    tx.nonce = (uint64_t)json_integer_value(json_object_get(acc, "nonce"));
    snprintf(tx.contract, sizeof tx.contract, "%s", contract);
    snprintf(tx.method, sizeof tx.method, "%s", method);
    tx.args = (const uint8_t *)args;
    tx.args_len = strlen(args);
    size_t len = 0;
    if ((rc = ef_tx_seal(&tx, key, &enc, &len))) goto out;
    if ((rc = ef_client_submit(cl, enc, len, true, timeout_ms, &status, &resp))) goto out;
    const char *c = json_string_value(json_object_get(resp, "code"));
    if (code && c) snprintf(code, 24, "%s", c);
    if (status != 200 || !c) rc = EF_EPROTO;
    if (!rc && tx_out) {
        *tx_out = resp;
        resp = NULL;
    }
out:
    free(enc);
    json_decref(st);
    json_decref(acc);
    json_decref(resp);
    ef_client_free(cl);
    return rc;
}

int ef_cli_call(const char *url, const ef_keypair *key, const char *contract, const char *method,
                const char *args, char *err)
{
    char code[24];
    int rc = ef_cli_submit_call(url, key, false, 0, contract, method, args, code, NULL);
    if (err) snprintf(err, 24, "%s", code);
    if (!rc && strcmp(code, "OK")) rc = EF_ESTATE;
    return rc;
}

int ef_cli_call_retry(const char *url, const ef_keypair *key, bool sign_reads, const char *contract,
                      const char *method, const char *args, char code[24], json_t **tx_out)
{
    int rc = 0;
    for (int k = 0; k < 30; k++) {
        if (k) usleep(150000);
        rc = ef_cli_submit_call(url, key, sign_reads, 30000, contract, method, args, code, tx_out);
        if (rc == 0 || (strcmp(code, "ENONCE") && strcmp(code, "EDUP"))) break;
    }
    return rc;
}

int ef_cli_get(const char *url, const char *path, json_t **out) { return ef_cli_get_as(url, NULL, path, out); }
