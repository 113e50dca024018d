/* cmd_market.c: `edgefed market ...` and `edgefed channel ...` (one subcommand
 * per contract method: options become the method's JSON args, then the
 * transaction is signed and sent as `edgefed tx send` does), and `edgefed
 * voucher make|check` (offline). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/ef_client.h"
#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "base/ef_voucher.h"
#include "cli/cli.h"
#include "cli/cli_api.h"

/* One option of a method: --opt VALUE becomes args[field] of type 'u' (integer),
 * 's' (string), 'l' (comma-separated list of strings) or 'b' (flag: true). */
typedef struct ef_cm_field {
    const char *opt;
    const char *field;
    char type;
    bool required;
} ef_cm_field;

#define EF_CM_FIELDS_MAX 12

typedef struct ef_cm_method {
    const char *sub;
    const char *method;
    const char *help;
    ef_cm_field f[EF_CM_FIELDS_MAX];
} ef_cm_method;

static const ef_cm_method ef_market_methods[] = {
    {"register", "register", "register an edge node of the sender's company",
     {{"x", "x", 'u', true}, {"y", "y", 'u', true}, {"cpu-milli", "cpu_milli", 'u', true},
      {"mem-mb", "mem_mb", 'u', true}, {"slots", "slots", 'u', true}, {"services", "services", 'l', true},
      {"price", "price", 'u', true}, {"endpoint", "endpoint", 's', true}}},
    {"update", "update", "change an edge node of the sender's company",
     {{"en", "en", 'u', true}, {"x", "x", 'u', false}, {"y", "y", 'u', false},
      {"cpu-milli", "cpu_milli", 'u', false}, {"mem-mb", "mem_mb", 'u', false}, {"slots", "slots", 'u', false},
      {"services", "services", 'l', false}, {"price", "price", 'u', false}, {"endpoint", "endpoint", 's', false}}},
    {"retire", "retire", "take an edge node of the sender's company off the market", {{"en", "en", 'u', true}}},
    {"match", "match", "ask the contract for the nearest suitable edge node (reserves it)",
     {{"x", "x", 'u', true}, {"y", "y", 'u', true}, {"service", "service", 's', true},
      {"cpu-milli", "cpu_milli", 'u', true}, {"mem-mb", "mem_mb", 'u', true}, {"slots", "slots", 'u', true},
      {"max-dist", "max_dist", 'u', true}, {"max-price", "max_price", 'u', true},
      {"expiry", "expiry", 'u', false}, {"en", "en", 'u', false}}},
    {"end", "end", "end a session (device or the edge node's company)", {{"match", "match", 'u', true}}},
    {"expire", "expire", "release the capacity of expired matches (anyone)", {{0}}},
};

static const ef_cm_method ef_channel_methods[] = {
    {"open", "open", "lock a deposit for a payee until an expiry height (--match: for that session)",
     {{"payee", "payee", 's', true}, {"amount", "amount", 'u', true}, {"expiry", "expiry", 'u', false},
      {"match", "match", 'u', false}}},
    {"top-up", "top_up", "add to an open channel's deposit (payer)",
     {{"channel", "channel", 'u', true}, {"amount", "amount", 'u', true}, {"expiry", "expiry", 'u', false}}},
    {"redeem", "redeem", "take a voucher's amount (payee); --close ends the channel",
     {{"channel", "channel", 'u', true}, {"voucher", "voucher", 's', true}, {"close", "close", 'b', false}}},
    {"start-close", "start_close", "start closing (payer): the payee has the challenge window",
     {{"channel", "channel", 'u', true}}},
    {"settle", "settle", "after the end (expiry or challenge window) pay the rest back to the payer",
     {{"channel", "channel", 'u', true}}},
};

static void ef_cm_usage(FILE *f, const char *cmd, const ef_cm_method *m, size_t n, const ef_cm_method *one)
{
    if (!one) {
        fprintf(f, "usage: edgefed %s SUBCOMMAND --key KEYFILE [options]   (edgefed %s SUBCOMMAND --help)\n\n",
                cmd, cmd);
        for (size_t i = 0; i < n; i++) fprintf(f, "  %-12s %s\n", m[i].sub, m[i].help);
        return;
    }
    fprintf(f, "usage: edgefed %s %s --key KEYFILE", cmd, one->sub);
    for (int i = 0; i < EF_CM_FIELDS_MAX && one->f[i].opt; i++) {
        const ef_cm_field *x = &one->f[i];
        const char *val = x->type == 'u' ? " N" : x->type == 'l' ? " A,B,..." : x->type == 'b' ? "" : " STR";
        fprintf(f, " %s--%s%s%s", x->required ? "" : "[", x->opt, val, x->required ? "" : "]");
    }
    if (!strcmp(one->method, "match") || !strcmp(one->method, "open")) fprintf(f, " [--ttl BLOCKS]");
    fprintf(f, "\n       [--api URL] [--wait] [--timeout-ms N] [--sign-request] [--nonce N] [--chain ID] [--dry-run]\n"
               "  %s (contract %s, method %s).\n", one->help, cmd, one->method);
    if (!strcmp(one->method, "match") || !strcmp(one->method, "open"))
        fprintf(f, "  --ttl BLOCKS: expiry = the node's height + BLOCKS (instead of --expiry)\n");
    fprintf(f, "  Signs and sends the transaction as `edgefed tx send` does (same exit status).\n");
}

static int ef_cm_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!s || !*s || *s < '0' || *s > '9') return EF_EINVAL;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return *end || errno || *out > (uint64_t)INT64_MAX ? EF_EINVAL : 0;
}

/* The node's height from GET /status. */
static int ef_cm_height(int argc, char **argv, uint64_t *h)
{
    ef_client *cl;
    long status;
    json_t *j = NULL;
    if (ef_client_new(&cl, ef_cli_api_url(argc, argv), NULL, 0)) return EF_EINVAL;
    int rc = ef_client_json(cl, "GET", "/status", NULL, &status, &j);
    json_t *hv = json_object_get(j, "height");
    if (rc == 0 && (status != 200 || !json_is_integer(hv))) rc = EF_EPROTO;
    if (rc == 0) *h = (uint64_t)json_integer_value(hv);
    json_decref(j);
    ef_client_free(cl);
    return rc;
}

static int ef_cm_run(const char *cmd, const ef_cm_method *table, size_t n, int argc, char **argv)
{
    if (argc < 2 || (argv[1][0] == '-' && ef_cli_wants_help(argc, argv))) {
        ef_cm_usage(argc < 2 ? stderr : stdout, cmd, table, n, NULL);
        return argc < 2 ? 2 : 0;
    }
    const ef_cm_method *m = NULL;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(argv[1], table[i].sub)) m = &table[i];
    if (!m) {
        fprintf(stderr, "edgefed %s: unknown subcommand '%s'\n", cmd, argv[1]);
        ef_cm_usage(stderr, cmd, table, n, NULL);
        return 2;
    }
    bool ttl_ok = !strcmp(m->method, "match") || !strcmp(m->method, "open");
    const char *spec[EF_CM_FIELDS_MAX + 16];
    char specbuf[EF_CM_FIELDS_MAX][40];
    size_t ns = 0;
    static const char *const common[] = {"key=", "api=", "wait", "timeout-ms=", "sign-request", "nonce=", "chain=",
                                         "dry-run"};
    for (size_t i = 0; i < EF_ARRAY_LEN(common); i++) spec[ns++] = common[i];
    if (ttl_ok) spec[ns++] = "ttl=";
    for (int i = 0; i < EF_CM_FIELDS_MAX && m->f[i].opt; i++) {
        snprintf(specbuf[i], sizeof specbuf[i], "%s%s", m->f[i].opt, m->f[i].type == 'b' ? "" : "=");
        spec[ns++] = specbuf[i];
    }
    spec[ns] = NULL;
    /* usage text for ef_cli_check */
    char *usage = NULL;
    size_t usage_len = 0;
    FILE *uf = open_memstream(&usage, &usage_len);
    if (!uf) return 1;
    ef_cm_usage(uf, cmd, table, n, m);
    fclose(uf);
    int ret = ef_cli_check(argc - 1, argv + 1, usage, spec, 0);
    if (ret >= 0) goto out;
    ret = 2;
    int sub_argc = argc - 1;
    char **sub_argv = argv + 1;
    if (!ef_cli_opt(sub_argc, sub_argv, "key", NULL)) {
        fprintf(stderr, "edgefed %s %s: --key is required\n", cmd, m->sub);
        fputs(usage, stderr);
        goto out;
    }
    json_t *args = json_object();
    for (int i = 0; i < EF_CM_FIELDS_MAX && m->f[i].opt; i++) {
        const ef_cm_field *x = &m->f[i];
        const char *v = x->type == 'b' ? NULL : ef_cli_opt(sub_argc, sub_argv, x->opt, NULL);
        if (x->type == 'b') {
            if (ef_cli_flag(sub_argc, sub_argv, x->opt)) json_object_set_new(args, x->field, json_true());
            continue;
        }
        if (!v) {
            if (x->required) {
                fprintf(stderr, "edgefed %s %s: --%s is required\n", cmd, m->sub, x->opt);
                fputs(usage, stderr);
                json_decref(args);
                goto out;
            }
            continue;
        }
        if (x->type == 'u') {
            uint64_t u;
            if (ef_cm_parse_u64(v, &u)) {
                fprintf(stderr, "edgefed %s %s: --%s needs a non-negative integer, not '%s'\n", cmd, m->sub, x->opt, v);
                json_decref(args);
                goto out;
            }
            json_object_set_new(args, x->field, json_integer((json_int_t)u));
        } else if (x->type == 's') {
            json_object_set_new(args, x->field, json_string(v));
        } else {
            json_t *arr = json_array();
            char *copy = strdup(v), *save = NULL;
            for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
                json_array_append_new(arr, json_string(t));
            free(copy);
            json_object_set_new(args, x->field, arr);
        }
    }
    if (ttl_ok) {
        const char *ttl = ef_cli_opt(sub_argc, sub_argv, "ttl", NULL);
        bool has_exp = json_object_get(args, "expiry") != NULL;
        uint64_t t, h;
        if ((ttl != NULL) == has_exp) {
            fprintf(stderr, "edgefed %s %s: give exactly one of --expiry and --ttl\n", cmd, m->sub);
            json_decref(args);
            goto out;
        }
        if (ttl) {
            if (ef_cm_parse_u64(ttl, &t) || t == 0) {
                fprintf(stderr, "edgefed %s %s: --ttl needs a positive integer\n", cmd, m->sub);
                json_decref(args);
                goto out;
            }
            int rc = ef_cm_height(sub_argc, sub_argv, &h);
            if (rc) {
                fprintf(stderr, "edgefed %s %s: cannot read the height from %s/status: %s\n", cmd, m->sub,
                        ef_cli_api_url(sub_argc, sub_argv), ef_strerror(rc));
                json_decref(args);
                ret = 1;
                goto out;
            }
            json_object_set_new(args, "expiry", json_integer((json_int_t)(h + t)));
        }
    }
    char *args_text = json_dumps(args, JSON_COMPACT);
    json_decref(args);
    /* hand over to `edgefed tx send` */
    char *targv[32];
    int tc = 0;
    targv[tc++] = "send";
    targv[tc++] = "--contract";
    targv[tc++] = (char *)cmd;
    targv[tc++] = "--method";
    targv[tc++] = (char *)m->method;
    targv[tc++] = "--args";
    targv[tc++] = args_text;
    static const char *const pass[] = {"key", "api", "timeout-ms", "nonce", "chain"};
    for (size_t i = 0; i < EF_ARRAY_LEN(pass); i++) {
        const char *v = ef_cli_opt(sub_argc, sub_argv, pass[i], NULL);
        static char names[EF_ARRAY_LEN(pass)][24];
        if (!v) continue;
        snprintf(names[i], sizeof names[i], "--%s", pass[i]);
        targv[tc++] = names[i];
        targv[tc++] = (char *)v;
    }
    static const char *const flags[] = {"--wait", "--sign-request", "--dry-run"};
    for (size_t i = 0; i < EF_ARRAY_LEN(flags); i++)
        if (ef_cli_flag(sub_argc, sub_argv, flags[i] + 2)) targv[tc++] = (char *)flags[i];
    targv[tc] = NULL;
    ret = ef_cmd_tx_send(tc, targv);
    free(args_text);
out:
    free(usage);
    return ret;
}

int ef_cmd_market(int argc, char **argv)
{
    return ef_cm_run("market", ef_market_methods, EF_ARRAY_LEN(ef_market_methods), argc, argv);
}

int ef_cmd_channel(int argc, char **argv)
{
    return ef_cm_run("channel", ef_channel_methods, EF_ARRAY_LEN(ef_channel_methods), argc, argv);
}

/* --- vouchers, offline --- */

static const char *ef_voucher_usage =
    "usage: edgefed voucher make --key KEYFILE --chain ID --channel N --nonce N --amount N\n"
    "       edgefed voucher check VOUCHER_HEX [--payer PUB] [--chain ID] [--channel N] [--min-amount N]\n"
    "  make: signs a voucher (cumulative AMOUNT of channel N on chain ID) with the payer's key and\n"
    "        prints it in hex.\n"
    "  check: decodes and verifies a voucher, prints it as JSON; exit 0 if it is valid and matches\n"
    "        every constraint given, 1 (with the reason) if not. No node is asked.\n";

static int ef_voucher_make(int argc, char **argv)
{
    static const char *const spec[] = {"key=", "chain=", "channel=", "nonce=", "amount=", NULL};
    int checked = ef_cli_check(argc, argv, ef_voucher_usage, spec, 0);
    if (checked >= 0) return checked;
    const char *key = ef_cli_opt(argc, argv, "key", NULL), *chain = ef_cli_opt(argc, argv, "chain", NULL);
    ef_voucher v;
    memset(&v, 0, sizeof v);
    if (!key || !chain || strlen(chain) > EF_VOUCHER_CHAIN_MAX ||
        ef_cm_parse_u64(ef_cli_opt(argc, argv, "channel", NULL), &v.channel) ||
        ef_cm_parse_u64(ef_cli_opt(argc, argv, "nonce", NULL), &v.nonce) ||
        ef_cm_parse_u64(ef_cli_opt(argc, argv, "amount", NULL), &v.amount) || !chain[0]) {
        fputs(ef_voucher_usage, stderr);
        return 2;
    }
    snprintf(v.chain_id, sizeof v.chain_id, "%s", chain);
    ef_keypair kp;
    int rc = ef_key_load(&kp, key);
    if (rc) {
        fprintf(stderr, "edgefed voucher make: cannot read key %s: %s\n", key, ef_strerror(rc));
        return 1;
    }
    char hex[2 * EF_VOUCHER_ENC_MAX + 1];
    if ((rc = ef_voucher_sign(&v, &kp)) || (rc = ef_voucher_hex(hex, sizeof hex, &v))) {
        fprintf(stderr, "edgefed voucher make: %s\n", ef_strerror(rc));
        return 1;
    }
    printf("%s\n", hex);
    return 0;
}

static int ef_voucher_check(int argc, char **argv)
{
    static const char *const spec[] = {"payer=", "chain=", "channel=", "min-amount=", NULL};
    int checked = ef_cli_check(argc, argv, ef_voucher_usage, spec, 1);
    if (checked >= 0) return checked;
    const char *hex = NULL;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-') {
            if (!strchr(argv[i], '=')) i++;
            continue;
        }
        hex = argv[i];
    }
    if (!hex) {
        fputs(ef_voucher_usage, stderr);
        return 2;
    }
    const char *payer_s = ef_cli_opt(argc, argv, "payer", NULL), *chain = ef_cli_opt(argc, argv, "chain", NULL);
    const char *channel_s = ef_cli_opt(argc, argv, "channel", NULL), *min_s = ef_cli_opt(argc, argv, "min-amount", NULL);
    ef_pub payer;
    uint64_t channel = 0, min = 0;
    if ((payer_s && ef_unhex(payer.b, EF_PUB_SIZE, payer_s)) || (channel_s && ef_cm_parse_u64(channel_s, &channel)) ||
        (min_s && ef_cm_parse_u64(min_s, &min))) {
        fputs(ef_voucher_usage, stderr);
        return 2;
    }
    ef_voucher v;
    int rc = ef_voucher_decode_hex(&v, hex);
    const char *why = NULL;
    if (rc) why = ef_strerror(rc);
    else if ((rc = ef_voucher_verify(&v, payer_s ? &payer : NULL)))
        why = rc == EF_EPERM ? "signed by another key than --payer" : ef_strerror(rc);
    else if (chain && strcmp(chain, v.chain_id)) why = "voucher of another chain", rc = EF_ECHAIN;
    else if (channel_s && channel != v.channel) why = "voucher of another channel", rc = EF_EINVAL;
    else if (min_s && v.amount < min) why = "amount below --min-amount", rc = EF_EFUNDS;
    if (rc && !v.chain_id[0]) {
        fprintf(stderr, "edgefed voucher check: invalid: %s\n", why);
        return 1;
    }
    char ph[2 * EF_PUB_SIZE + 1];
    ef_hex(ph, v.payer.b, EF_PUB_SIZE);
    json_t *j = json_pack("{s:b, s:s, s:I, s:I, s:I, s:s}", "valid", rc == 0, "chain_id", v.chain_id, "channel",
                          (json_int_t)v.channel, "nonce", (json_int_t)v.nonce, "amount", (json_int_t)v.amount,
                          "payer", ph);
    if (rc) json_object_set_new(j, "error", json_string(ef_errname(rc)));
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    printf("%s\n", text);
    free(text);
    json_decref(j);
    if (rc) fprintf(stderr, "edgefed voucher check: invalid: %s\n", why);
    return rc ? 1 : 0;
}

int ef_cmd_voucher(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "make")) return ef_voucher_make(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "check")) return ef_voucher_check(argc - 1, argv + 1);
    if (argc >= 2 && ef_cli_wants_help(argc, argv)) {
        fputs(ef_voucher_usage, stdout);
        return 0;
    }
    fputs(ef_voucher_usage, stderr);
    return 2;
}
