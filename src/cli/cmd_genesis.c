/* cmd_genesis.c: `edgefed genesis`: writes a genesis file (ledger/ef_genesis.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "cli/cli.h"
#include "ledger/ef_genesis.h"
#include "ledger/ef_tx.h"

static const char *ef_genesis_usage =
    "usage: edgefed genesis --chain-id ID --validator KEY:DOMAIN[:POWER] ... --out FILE\n"
    "                       [--regulator KEY:DOMAIN] [--member KEY:DOMAIN[:NAME]]\n"
    "                       [--balance KEY=AMOUNT] [--time-ms N] [--params JSON]\n"
    "  writes a genesis file (JSON) for a new chain.\n"
    "  KEY is a public key in hex (64 digits) or the path of a key file.\n"
    "  --validator, --regulator, --member and --balance may be repeated.\n"
    "  --params is a JSON object of per-contract parameters, e.g. '{\"federation\":{}}'.\n";

/* KEY: 64 hex digits, or a key file */
static int ef_cli_key(const char *s, size_t n, char hex[2 * EF_PUB_SIZE + 1])
{
    char buf[1024];
    ef_pub pub;
    if (n >= sizeof buf) return EF_EINVAL;
    memcpy(buf, s, n);
    buf[n] = 0;
    if (ef_unhex(pub.b, EF_PUB_SIZE, buf) == 0) {
        ef_hex(hex, pub.b, EF_PUB_SIZE);
        return 0;
    }
    ef_keypair kp;
    int rc = ef_key_load(&kp, buf);
    if (rc) return rc;
    ef_hex(hex, kp.pub.b, EF_PUB_SIZE);
    return 0;
}

int ef_cmd_genesis(int argc, char **argv)
{
    static const char *const opts[] = {"chain-id=", "validator=", "regulator=", "member=", "balance=", "time-ms=", "params=", "out=", NULL};
    int checked = ef_cli_check(argc, argv, ef_genesis_usage, opts, 0);
    if (checked >= 0) return checked;
    if (ef_cli_wants_help(argc, argv)) {
        fputs(ef_genesis_usage, stdout);
        return 0;
    }
    const char *chain = ef_cli_opt(argc, argv, "chain-id", NULL);
    const char *out = ef_cli_opt(argc, argv, "out", NULL);
    const char *time_s = ef_cli_opt(argc, argv, "time-ms", "0");
    const char *params_s = ef_cli_opt(argc, argv, "params", NULL);
    if (!chain || !out) goto usage;
    if (!ef_chain_id_valid(chain)) {
        fprintf(stderr, "edgefed genesis: bad chain id '%s' (1..%d of [A-Za-z0-9._-])\n", chain, EF_CHAIN_ID_MAX);
        return 2;
    }
    json_t *doc = json_pack("{s:s, s:I, s:[], s:[], s:{}}", "chain_id", chain, "time_ms",
                            (json_int_t)strtoll(time_s, NULL, 10), "validators", "members", "balances");
    int status = 1;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        bool val = !strcmp(o, "--validator"), reg = !strcmp(o, "--regulator"),
             mem = !strcmp(o, "--member"), bal = !strcmp(o, "--balance");
        if (!val && !reg && !mem && !bal) continue;
        if (i + 1 >= argc) goto usage_free;
        const char *v = argv[++i];
        char hex[2 * EF_PUB_SIZE + 1];
        if (bal) {
            const char *eq = strrchr(v, '=');
            char *end;
            if (!eq || ef_cli_key(v, (size_t)(eq - v), hex)) goto bad_value;
            long long amount = strtoll(eq + 1, &end, 10);
            if (*end || amount < 0 || end == eq + 1) goto bad_value;
            json_object_set_new(json_object_get(doc, "balances"), hex, json_integer(amount));
            continue;
        }
        const char *c1 = strchr(v, ':');
        if (!c1 || ef_cli_key(v, (size_t)(c1 - v), hex)) goto bad_value;
        char domain[64];
        const char *c2 = strchr(c1 + 1, ':');
        size_t dl = c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1);
        if (dl == 0 || dl >= sizeof domain) goto bad_value;
        memcpy(domain, c1 + 1, dl);
        domain[dl] = 0;
        if (mem) {
            json_array_append_new(json_object_get(doc, "members"),
                                  json_pack("{s:s, s:s, s:s}", "pub", hex, "domain", domain, "name", c2 ? c2 + 1 : ""));
        } else {
            json_t *e = json_pack("{s:s, s:s, s:s}", "pub", hex, "domain", domain, "role",
                                  reg ? "regulator" : "validator");
            if (c2) {
                char *end;
                long long p = strtoll(c2 + 1, &end, 10);
                if (*end || p < 1) {
                    json_decref(e);
                    goto bad_value;
                }
                json_object_set_new(e, "power", json_integer(p));
            }
            json_array_append_new(json_object_get(doc, "validators"), e);
        }
        continue;
    bad_value:
        fprintf(stderr, "edgefed genesis: bad value for %s: '%s'\n", o, v);
        json_decref(doc);
        return 2;
    }
    if (json_array_size(json_object_get(doc, "members")) == 0) json_object_del(doc, "members");
    if (params_s) {
        json_error_t je;
        json_t *p = json_loads(params_s, JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(p)) {
            fprintf(stderr, "edgefed genesis: --params must be a JSON object: %s\n", je.text);
            json_decref(p);
            json_decref(doc);
            return 2;
        }
        json_object_set_new(doc, "params", p);
    }
    /* check it the way a node will read it */
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    ef_genesis g;
    char err[256];
    int rc = ef_genesis_parse(&g, text, strlen(text), err, sizeof err);
    if (rc) {
        fprintf(stderr, "edgefed genesis: %s\n", err);
        status = 2;
        goto out;
    }
    ef_genesis_free(&g);
    FILE *f = fopen(out, "w");
    if (!f || fputs(text, f) < 0 || fputc('\n', f) < 0 || fclose(f)) {
        fprintf(stderr, "edgefed genesis: cannot write %s\n", out);
        goto out;
    }
    printf("%s\n", out);
    status = 0;
out:
    free(text);
    json_decref(doc);
    return status;
usage_free:
    json_decref(doc);
usage:
    fputs(ef_genesis_usage, stderr);
    return 2;
}
