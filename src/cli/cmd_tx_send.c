/* cmd_tx_send.c: `edgefed tx send`: submits a signed transaction to a node's HTTP
 * API (POST /txs), either one already encoded or one built and signed here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/ef_client.h"
#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "cli/cli.h"
#include "cli/cli_api.h"
#include "ledger/ef_tx.h"

#define EF_CLI_HEX_MAX (2 * EF_TX_ENC_MAX + 2)

static const char *ef_tx_send_usage =
    "usage: edgefed tx send [--api URL] [--wait] [--timeout-ms N] [--sign-request]\n"
    "                       (--hex HEX | --file FILE |\n"
    "                        --key KEYFILE --contract C --method M [--args JSON]\n"
    "                        [--nonce N] [--chain ID])\n"
    "  Submits a signed transaction to a node's API (POST /txs) and prints the answer.\n"
    "  --hex HEX        the transaction's encoding in hex (\"-\": read it from stdin)\n"
    "  --file FILE      a file holding the encoding, raw or in hex\n"
    "  --key KEYFILE    build and sign the transaction here as this account: the chain\n"
    "                   id comes from GET /status and the nonce from GET /accounts/KEY\n"
    "                   unless --chain / --nonce are given; --args defaults to {}\n"
    "  --wait           answer only once the transaction is committed, with its result\n"
    "  --timeout-ms N   how long to wait (default 30000)\n"
    "  --sign-request   also sign the HTTP request with --key (private ledgers); reads\n"
    "                   made here (status, nonce) are then signed too\n"
    "  --dry-run        with --key: print the signed transaction in hex, send nothing\n"
    "  --api URL        the node's API (default $EDGEFED_API or http://127.0.0.1:8080)\n"
    "  exit status: 0 if accepted (and, with --wait, committed with result OK), 1 if\n"
    "  refused or failed, 2 on a usage error\n";

/* Reads a file or stdin into a malloc'ed buffer of at most max bytes. */
static int ef_read_all(FILE *f, uint8_t **out, size_t *len, size_t max)
{
    size_t cap = 4096, n = 0;
    uint8_t *p = malloc(cap);
    if (!p) return EF_ENOMEM;
    for (;;) {
        if (n == cap) {
            if (cap >= max) { free(p); return EF_ETOOBIG; }
            cap *= 2;
            uint8_t *np = realloc(p, cap);
            if (!np) { free(p); return EF_ENOMEM; }
            p = np;
        }
        size_t r = fread(p + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    if (n > max) { free(p); return EF_ETOOBIG; }
    *out = p;
    *len = n;
    return 0;
}

/* Turns text that is all hex digits (surrounding whitespace allowed) into bytes in
 * place; returns false if it is not hex. */
static bool ef_maybe_unhex(uint8_t *p, size_t *len)
{
    size_t a = 0, b = *len;
    while (a < b && strchr(" \t\r\n", p[a])) a++;
    while (b > a && strchr(" \t\r\n", p[b - 1])) b--;
    if (b == a || (b - a) % 2) return false;
    for (size_t i = a; i < b; i++)
        if (!strchr("0123456789abcdefABCDEF", p[i])) return false;
    size_t n = (b - a) / 2;
    char *hex = malloc(b - a + 1);
    if (!hex) return false;
    memcpy(hex, p + a, b - a);
    hex[b - a] = 0;
    bool ok = ef_unhex(p, n, hex) == 0;
    free(hex);
    if (ok) *len = n;
    return ok;
}

/* Builds and signs a transaction from the options. */
static int ef_tx_build(int argc, char **argv, ef_client *reads, uint8_t **enc, size_t *enc_len)
{
    const char *keyfile = ef_cli_opt(argc, argv, "key", NULL);
    const char *contract = ef_cli_opt(argc, argv, "contract", NULL);
    const char *method = ef_cli_opt(argc, argv, "method", NULL);
    const char *args = ef_cli_opt(argc, argv, "args", "{}");
    const char *nonce_s = ef_cli_opt(argc, argv, "nonce", NULL);
    const char *chain = ef_cli_opt(argc, argv, "chain", NULL);
    ef_keypair kp;
    ef_tx tx;
    memset(&tx, 0, sizeof tx);
    int rc = ef_key_load(&kp, keyfile);
    if (rc) {
        fprintf(stderr, "edgefed tx send: cannot read key %s: %s\n", keyfile, ef_strerror(rc));
        return 1;
    }
    tx.sender = kp.pub;
    if (strlen(contract) > EF_CONTRACT_NAME_MAX || strlen(method) > EF_METHOD_NAME_MAX) {
        fprintf(stderr, "edgefed tx send: contract or method name too long\n");
        return 2;
    }
    strcpy(tx.contract, contract);
    strcpy(tx.method, method);
    tx.args = (const uint8_t *)args;
    tx.args_len = strlen(args);
    long status;
    json_t *j = NULL;
    if (chain) {
        if (strlen(chain) > EF_CHAIN_ID_MAX) return 2;
        strcpy(tx.chain_id, chain);
    } else {
        rc = ef_client_json(reads, "GET", "/status", NULL, &status, &j);
        const char *id = json_string_value(json_object_get(j, "chain_id"));
        if (rc || status != 200 || !id || strlen(id) > EF_CHAIN_ID_MAX) {
            fprintf(stderr, "edgefed tx send: cannot read the chain id from /status (%s, HTTP %ld)\n",
                    ef_strerror(rc), status);
            json_decref(j);
            return 1;
        }
        strcpy(tx.chain_id, id);
        json_decref(j);
    }
    if (nonce_s) {
        char *end;
        tx.nonce = strtoull(nonce_s, &end, 10);
        if (*end || !*nonce_s) return 2;
    } else {
        char hex[2 * EF_PUB_SIZE + 1], target[32 + 2 * EF_PUB_SIZE];
        ef_hex(hex, kp.pub.b, EF_PUB_SIZE);
        snprintf(target, sizeof target, "/accounts/%s", hex);
        j = NULL;
        rc = ef_client_json(reads, "GET", target, NULL, &status, &j);
        json_t *n = json_object_get(j, "nonce");
        if (rc || status != 200 || !json_is_integer(n)) {
            fprintf(stderr, "edgefed tx send: cannot read the next nonce from %s (%s, HTTP %ld)\n",
                    target, ef_strerror(rc), status);
            json_decref(j);
            return 1;
        }
        tx.nonce = (uint64_t)json_integer_value(n);
        json_decref(j);
    }
    if ((rc = ef_tx_seal(&tx, &kp, enc, enc_len))) {
        fprintf(stderr, "edgefed tx send: cannot build the transaction: %s\n", ef_strerror(rc));
        return 1;
    }
    return 0;
}

int ef_cmd_tx_send(int argc, char **argv)
{
    static const char *const opts[] = {"api=", "wait", "timeout-ms=", "sign-request", "hex=", "file=", "key=", "contract=", "method=", "args=", "nonce=", "chain=", "dry-run", NULL};
    int checked = ef_cli_check(argc, argv, ef_tx_send_usage, opts, 0);
    if (checked >= 0) return checked;
    if (ef_cli_wants_help(argc, argv)) {
        fputs(ef_tx_send_usage, stdout);
        return 0;
    }
    const char *hex = ef_cli_opt(argc, argv, "hex", NULL);
    const char *file = ef_cli_opt(argc, argv, "file", NULL);
    const char *keyfile = ef_cli_opt(argc, argv, "key", NULL);
    bool build = ef_cli_opt(argc, argv, "contract", NULL) || ef_cli_opt(argc, argv, "method", NULL);
    bool wait = ef_cli_flag(argc, argv, "wait");
    bool sign_request = ef_cli_flag(argc, argv, "sign-request");
    const char *tms = ef_cli_opt(argc, argv, "timeout-ms", NULL);
    uint32_t timeout_ms = tms ? (uint32_t)strtoul(tms, NULL, 10) : 0;
    if ((!!hex + !!file + !!build) != 1 || (build && (!keyfile || !ef_cli_opt(argc, argv, "contract", NULL) ||
                                                        !ef_cli_opt(argc, argv, "method", NULL))) ||
        (sign_request && !keyfile)) {
        fputs(ef_tx_send_usage, stderr);
        return 2;
    }
    ef_client *cl = NULL;
    if (sign_request) {
        if (ef_cli_api_client(&cl, argc, argv, "tx send")) return 1;
    } else {
        int rc = ef_client_new(&cl, ef_cli_api_url(argc, argv), NULL, 0);
        if (rc) {
            fprintf(stderr, "edgefed tx send: bad API URL: %s\n", ef_strerror(rc));
            return 1;
        }
    }
    uint8_t *enc = NULL;
    size_t len = 0;
    int ret = 1, rc;
    if (build) {
        ret = ef_tx_build(argc, argv, cl, &enc, &len);
        if (ret) goto out;
        ret = 1;
        if (ef_cli_flag(argc, argv, "dry-run")) {
            char *hx = malloc(2 * len + 1);
            if (!hx) goto out;
            ef_hex(hx, enc, len);
            printf("%s\n", hx);
            free(hx);
            ret = 0;
            goto out;
        }
    } else {
        FILE *f = NULL;
        if (hex && strcmp(hex, "-")) {
            len = strlen(hex);
            enc = malloc(len + 1);
            if (!enc) goto out;
            memcpy(enc, hex, len);
        } else {
            f = hex ? stdin : fopen(file, "rb");
            if (!f) {
                fprintf(stderr, "edgefed tx send: cannot open %s\n", file);
                goto out;
            }
            rc = ef_read_all(f, &enc, &len, EF_CLI_HEX_MAX);
            if (f != stdin) fclose(f);
            if (rc) {
                fprintf(stderr, "edgefed tx send: cannot read the transaction: %s\n", ef_strerror(rc));
                goto out;
            }
        }
        if (!ef_maybe_unhex(enc, &len) && hex) {
            fprintf(stderr, "edgefed tx send: --hex needs an even number of hex digits\n");
            ret = 2;
            goto out;
        }
    }
    long status = 0;
    json_t *resp = NULL;
    rc = ef_client_submit(cl, enc, len, wait, timeout_ms, &status, &resp);
    if (rc) {
        fprintf(stderr, "edgefed tx send: %s: %s\n", ef_cli_api_url(argc, argv), ef_strerror(rc));
        goto out;
    }
    char *text = resp ? json_dumps(resp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    fprintf(status / 100 == 2 ? stdout : stderr, "%s\n", text ? text : "(no JSON answer)");
    free(text);
    const char *code = json_string_value(json_object_get(resp, "code"));
    if (status == 202 || (status == 200 && code && !strcmp(code, "OK"))) ret = 0;
    else fprintf(stderr, "edgefed tx send: HTTP %ld\n", status);
    json_decref(resp);
out:
    free(enc);
    ef_client_free(cl);
    return ret;
}

