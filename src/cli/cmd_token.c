/* cmd_token.c: `edgefed token make|check`: read tokens of private ledgers. A
 * member signs one with its key (short-lived, bound to the chain) and gives it
 * to a client that cannot sign each request, such as the explorer page; the
 * node checks it on every read (api/ef_api.h says how). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/ef_api.h"
#include "api/ef_client.h"
#include "base/ef_log.h"
#include "cli/cli.h"
#include "cli/cli_api.h"

#define EF_TOKEN_TTL_DEFAULT_S 3600

static const char *const ef_token_usage =
    "usage: edgefed token make --key KEYFILE (--api URL | --chain ID) [--ttl SECONDS] [--explorer]\n"
    "       edgefed token check TOKEN [--chain ID]\n"
    "  make   signs a read token for a private (domain) ledger with a member's key:\n"
    "         bound to the ledger's chain (--chain, or read from the node at --api\n"
    "         with a request signed by the key, which also shows it is a member)\n"
    "         and valid for --ttl seconds (default 3600, at most 43200). Prints the\n"
    "         token; with --explorer, the explorer's address that logs in with it\n"
    "         (URL/#token=TOKEN; needs --api). The node refuses it once expired,\n"
    "         on another chain, or when the key is no longer a member; it\n"
    "         authorises GET requests only.\n"
    "  check  decodes a token offline: chain, key, issued and expiry times; checks\n"
    "         its signature (and its chain with --chain). Exit 0 valid now, 1 not.\n";

/* The chain id from the node's /status, read with a request signed by the key. */
static int ef_token_chain(char chain[EF_CHAIN_ID_MAX + 1], int argc, char **argv)
{
    ef_client *cl = NULL;
    if (ef_cli_api_client(&cl, argc, argv, "token make")) return 1;
    long status = 0;
    json_t *j = NULL;
    int rc = ef_client_json(cl, "GET", "/status", NULL, &status, &j);
    ef_client_free(cl);
    const char *c = json_string_value(json_object_get(j, "chain_id"));
    if (rc || status != 200 || !c || !*c || strlen(c) > EF_CHAIN_ID_MAX) {
        const char *e = json_string_value(json_object_get(j, "error"));
        fprintf(stderr, "edgefed token make: cannot read the chain id from %s/status: %s\n",
                ef_cli_api_url(argc, argv), rc ? ef_strerror(rc) : e ? e : "no chain_id");
        json_decref(j);
        return 1;
    }
    snprintf(chain, EF_CHAIN_ID_MAX + 1, "%s", c);
    json_decref(j);
    return 0;
}

static int ef_token_make_cmd(int argc, char **argv)
{
    static const char *const opts[] = {"key=", "api=", "chain=", "ttl=", "explorer", NULL};
    int checked = ef_cli_check(argc, argv, ef_token_usage, opts, 0);
    if (checked >= 0) return checked;
    const char *keyfile = ef_cli_opt(argc, argv, "key", NULL);
    const char *chain_opt = ef_cli_opt(argc, argv, "chain", NULL);
    const char *api = ef_cli_opt(argc, argv, "api", NULL);
    const char *ttl_s = ef_cli_opt(argc, argv, "ttl", NULL);
    bool explorer = ef_cli_flag(argc, argv, "explorer");
    char *end = NULL;
    unsigned long long ttl = ttl_s ? strtoull(ttl_s, &end, 10) : EF_TOKEN_TTL_DEFAULT_S;
    if (!keyfile || (!chain_opt && !api) || (explorer && !api) ||
        (ttl_s && (!*ttl_s || *end || ttl == 0 || ttl > EF_API_TOKEN_TTL_MAX_MS / 1000))) {
        if (ttl_s && (ttl == 0 || ttl > EF_API_TOKEN_TTL_MAX_MS / 1000))
            fprintf(stderr, "edgefed token make: --ttl must be 1..%llu seconds\n",
                    (unsigned long long)(EF_API_TOKEN_TTL_MAX_MS / 1000));
        fputs(ef_token_usage, stderr);
        return 2;
    }
    ef_keypair kp;
    int rc = ef_key_load(&kp, keyfile);
    if (rc) {
        fprintf(stderr, "edgefed token make: cannot read key %s: %s\n", keyfile, ef_strerror(rc));
        return 1;
    }
    char chain[EF_CHAIN_ID_MAX + 1];
    if (chain_opt) snprintf(chain, sizeof chain, "%s", chain_opt);
    else if (ef_token_chain(chain, argc, argv)) return 1;
    char hex[EF_API_TOKEN_HEX_MAX + 1];
    rc = ef_api_token_make(hex, sizeof hex, &kp, chain, ef_now_wall_ms(), ttl * 1000);
    if (rc < 0) {
        fprintf(stderr, "edgefed token make: bad chain id '%s'\n", chain);
        return 2;
    }
    if (explorer) {
        size_t n = strlen(api);
        printf("%.*s/#token=%s\n", (int)(n && api[n - 1] == '/' ? n - 1 : n), api, hex);
    } else {
        printf("%s\n", hex);
    }
    return 0;
}

static int ef_token_check_cmd(int argc, char **argv)
{
    static const char *const opts[] = {"chain=", NULL};
    int checked = ef_cli_check(argc, argv, ef_token_usage, opts, 1);
    if (checked >= 0) return checked;
    const char *tok = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--chain")) { i++; continue; }
        if (strncmp(argv[i], "--", 2)) { tok = argv[i]; break; }
    }
    if (!tok) {
        fputs(ef_token_usage, stderr);
        return 2;
    }
    ef_api_token t;
    uint64_t now = ef_now_wall_ms();
    int rc = ef_api_token_check(&t, tok, ef_cli_opt(argc, argv, "chain", NULL), 0);
    if (!rc && (now >= t.expires_ms || t.expires_ms - t.issued_ms > EF_API_TOKEN_TTL_MAX_MS)) rc = EF_ELATE;
    if (rc != 0 && rc != EF_ELATE) {
        fprintf(stderr, "edgefed token check: %s\n", rc == EF_EBADSIG ? "the signature does not verify"
                                                   : rc == EF_ECHAIN ? "made for another chain" : "malformed token");
        return 1;
    }
    if (rc == EF_ELATE && ef_api_token_check(&t, tok, NULL, 0)) return 1;   /* decoded, to show it */
    char key[2 * EF_PUB_SIZE + 1];
    ef_hex(key, t.pub.b, EF_PUB_SIZE);
    printf("{\"chain_id\":\"%s\",\"key\":\"%s\",\"issued_ms\":%llu,\"expires_ms\":%llu,\"valid_now\":%s}\n",
           t.chain_id, key, (unsigned long long)t.issued_ms, (unsigned long long)t.expires_ms,
           rc ? "false" : "true");
    return rc ? 1 : 0;
}

int ef_cmd_token(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "make")) return ef_token_make_cmd(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "check")) return ef_token_check_cmd(argc - 1, argv + 1);
    if (ef_cli_wants_help(argc, argv)) {
        fputs(ef_token_usage, stdout);
        return 0;
    }
    if (argc >= 2) fprintf(stderr, "edgefed token: unknown subcommand '%s'\n", argv[1]);
    fputs(ef_token_usage, stderr);
    return 2;
}
