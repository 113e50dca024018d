/* cmd_tx.c: `edgefed tx`: build, sign and decode transactions offline. A small
 * dispatcher: add a subcommand with one line in ef_tx_cmds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "cli/cli.h"
#include "ledger/ef_tx.h"

static int ef_tx_sign_cmd(int argc, char **argv);
static int ef_tx_decode_cmd(int argc, char **argv);

static const ef_cli_cmd ef_tx_cmds[] = {
    {"sign", "build and sign a transaction", ef_tx_sign_cmd},
    {"decode", "print an encoded transaction as JSON", ef_tx_decode_cmd},
    {"send", "submit a signed transaction to a node's API", ef_cmd_tx_send},
};

static void ef_tx_usage(FILE *f)
{
    fprintf(f, "usage: edgefed tx SUBCOMMAND [options]   (edgefed tx SUBCOMMAND --help)\n\nsubcommands:\n");
    for (size_t i = 0; i < EF_ARRAY_LEN(ef_tx_cmds); i++)
        fprintf(f, "  %-10s %s\n", ef_tx_cmds[i].name, ef_tx_cmds[i].summary);
}

int ef_cmd_tx(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-') {
        bool help = ef_cli_wants_help(argc, argv);
        ef_tx_usage(help ? stdout : stderr);
        return help ? 0 : 2;
    }
    for (size_t i = 0; i < EF_ARRAY_LEN(ef_tx_cmds); i++)
        if (!strcmp(argv[1], ef_tx_cmds[i].name)) return ef_tx_cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "edgefed tx: unknown subcommand '%s'\n", argv[1]);
    ef_tx_usage(stderr);
    return 2;
}

static const char *ef_tx_sign_usage =
    "usage: edgefed tx sign --key KEYFILE --chain-id ID --nonce N --contract C --method M\n"
    "                       [--args JSON] [--out FILE]\n"
    "  builds the transaction, signs it with the key, and prints two lines: the\n"
    "  encoded transaction in hex and its hash in hex. --args is a JSON object\n"
    "  (default {}), signed byte for byte as given. --out also writes the hex line to FILE.\n";

static int ef_tx_sign_cmd(int argc, char **argv)
{
    static const char *const opts[] = {"key=", "chain-id=", "nonce=", "contract=", "method=", "args=", "out=", NULL};
    int checked = ef_cli_check(argc, argv, ef_tx_sign_usage, opts, 0);
    if (checked >= 0) return checked;
    if (ef_cli_wants_help(argc, argv)) {
        fputs(ef_tx_sign_usage, stdout);
        return 0;
    }
    const char *key = ef_cli_opt(argc, argv, "key", NULL), *chain = ef_cli_opt(argc, argv, "chain-id", NULL),
               *nonce_s = ef_cli_opt(argc, argv, "nonce", NULL), *contract = ef_cli_opt(argc, argv, "contract", NULL),
               *method = ef_cli_opt(argc, argv, "method", NULL), *args = ef_cli_opt(argc, argv, "args", "{}"),
               *out = ef_cli_opt(argc, argv, "out", NULL);
    if (!key || !chain || !nonce_s || !contract || !method) {
        fputs(ef_tx_sign_usage, stderr);
        return 2;
    }
    ef_keypair kp;
    int rc = ef_key_load(&kp, key);
    if (rc) {
        fprintf(stderr, "edgefed tx sign: cannot load key %s: %s\n", key, ef_strerror(rc));
        return 1;
    }
    char *end;
    unsigned long long nonce = strtoull(nonce_s, &end, 10);
    if (*end || end == nonce_s || nonce_s[0] == '-') {
        fprintf(stderr, "edgefed tx sign: bad nonce '%s'\n", nonce_s);
        return 2;
    }
    json_error_t je;
    json_t *parsed = json_loads(args, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(parsed)) {
        fprintf(stderr, "edgefed tx sign: --args must be a JSON object (%s)\n", parsed ? "not an object" : je.text);
        json_decref(parsed);
        return 2;
    }
    json_decref(parsed);
    ef_tx tx;
    memset(&tx, 0, sizeof tx);
    if (strlen(chain) > EF_CHAIN_ID_MAX || strlen(contract) > EF_CONTRACT_NAME_MAX ||
        strlen(method) > EF_METHOD_NAME_MAX) {
        fprintf(stderr, "edgefed tx sign: chain id, contract or method too long\n");
        return 2;
    }
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", chain);
    snprintf(tx.contract, sizeof tx.contract, "%s", contract);
    snprintf(tx.method, sizeof tx.method, "%s", method);
    tx.sender = kp.pub;
    tx.nonce = nonce;
    tx.args = (const uint8_t *)args;
    tx.args_len = strlen(args);
    if ((rc = ef_tx_sign(&tx, &kp))) {
        fprintf(stderr, "edgefed tx sign: %s (names are [a-z0-9_], chain ids [A-Za-z0-9._-])\n", ef_strerror(rc));
        return 2;
    }
    ef_wr w;
    ef_wr_init(&w);
    if ((rc = ef_tx_encode(&w, &tx))) {
        fprintf(stderr, "edgefed tx sign: %s\n", ef_strerror(rc));
        ef_wr_free(&w);
        return 2;
    }
    char *hex = malloc(2 * w.len + 1);
    if (!hex) return 1;
    ef_hex(hex, w.buf, w.len);
    ef_hash h;
    char hh[2 * EF_HASH_SIZE + 1];
    ef_tx_hash_enc(&h, w.buf, w.len);
    ef_hex(hh, h.b, EF_HASH_SIZE);
    int status = 0;
    if (out) {
        FILE *f = fopen(out, "w");
        if (!f || fprintf(f, "%s\n", hex) < 0 || fclose(f)) {
            fprintf(stderr, "edgefed tx sign: cannot write %s\n", out);
            status = 1;
        }
    }
    printf("%s\n%s\n", hex, hh);
    free(hex);
    ef_wr_free(&w);
    return status;
}

static const char *ef_tx_decode_usage =
    "usage: edgefed tx decode HEX|-|@FILE [--chain-id ID]\n"
    "  prints the transaction (hex, from stdin with -, or the first line of FILE) as\n"
    "  JSON with its hash and whether its signature verifies (and, with --chain-id,\n"
    "  the result of the full stateless check). Exit 1 if it does not decode.\n";

static int ef_tx_decode_cmd(int argc, char **argv)
{
    static const char *const opts[] = {"chain-id=", NULL};
    int checked = ef_cli_check(argc, argv, ef_tx_decode_usage, opts, 1);
    if (checked >= 0) return checked;
    if (ef_cli_wants_help(argc, argv) || argc < 2) {
        fputs(ef_tx_decode_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *src = argv[1], *chain = ef_cli_opt(argc, argv, "chain-id", NULL);
    char *text = NULL;
    size_t cap = 0;
    if (!strcmp(src, "-") || src[0] == '@') {
        FILE *f = !strcmp(src, "-") ? stdin : fopen(src + 1, "r");
        if (!f) {
            fprintf(stderr, "edgefed tx decode: cannot open %s\n", src + 1);
            return 1;
        }
        ssize_t n = getline(&text, &cap, f);
        if (f != stdin) fclose(f);
        if (n <= 0) {
            free(text);
            fprintf(stderr, "edgefed tx decode: no input\n");
            return 1;
        }
    } else {
        text = strdup(src);
    }
    if (!text) return 1;
    text[strcspn(text, " \r\n\t")] = 0;
    size_t hl = strlen(text), n = hl / 2;
    uint8_t *bin = malloc(n ? n : 1);
    int status = 1;
    if (!bin) goto out;
    if (hl % 2 || ef_unhex(bin, n, text)) {
        fprintf(stderr, "edgefed tx decode: not hex\n");
        goto out;
    }
    ef_tx tx;
    int rc = ef_tx_decode(&tx, bin, n);
    if (rc) {
        fprintf(stderr, "edgefed tx decode: %s (%s)\n", ef_strerror(rc), ef_errname(rc));
        goto out;
    }
    json_t *j = ef_tx_to_json(&tx);
    json_object_set_new(j, "signature_valid", json_boolean(ef_tx_verify_enc(&tx, bin, n)));
    if (chain) {
        rc = ef_tx_check_stateless(&tx, chain, bin, n);
        json_object_set_new(j, "check", json_string(rc ? ef_errname(rc) : "ok"));
    }
    char *s = json_dumps(j, JSON_INDENT(2));
    printf("%s\n", s);
    free(s);
    json_decref(j);
    status = 0;
out:
    free(bin);
    free(text);
    return status;
}
