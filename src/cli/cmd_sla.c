/* cmd_sla.c: `edgefed sla ...`: one subcommand per method of the sla contract
 * (options become the method's JSON args; the transaction is signed and sent as
 * `edgefed tx send` does), show/list (queries), and `edgefed sla receipt
 * make|verify` (offline, base/ef_receipt.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "base/ef_receipt.h"
#include "cli/cli.h"
#include "cli/cli_api.h"
#include "contracts/ef_sla.h"

/* One option: --opt VALUE becomes args[field] ("a.b" nests into object a) of
 * type 'u' (integer), 's' (string), 'l' (comma-separated strings), 'r'
 * (receipts: comma-separated hex, or --receipts-file with one per line) or 't'
 * (a topology file {"nodes": [...]}: its nodes array). */
typedef struct ef_cs_field {
    const char *opt, *field;
    char type;
    bool required;
} ef_cs_field;

#define EF_CS_FIELDS_MAX 16

typedef struct ef_cs_method {
    const char *sub, *method, *help;
    ef_cs_field f[EF_CS_FIELDS_MAX];
} ef_cs_method;

static const ef_cs_method ef_sla_cli_methods[] = {
    {"post-bond", "post_bond", "lock operator money as the bond behind its offers", {{"amount", "amount", 'u', true}}},
    {"withdraw-bond", "withdraw_bond", "take back unreserved bond", {{"amount", "amount", 'u', true}}},
    {"set-controller", "set_controller", "let a controller key act for the operator",
     {{"controller", "controller", 's', true}}},
    {"offer", "offer", "advertise an SLA (operator)",
     {{"area", "area", 'l', true},
      {"min-kbps", "rules.min_kbps", 'u', true},
      {"max-latency-us", "rules.max_latency_us", 'u', true},
      {"max-loss-ppm", "rules.max_loss_ppm", 'u', true},
      {"price", "price", 'u', true},
      {"epoch-ms", "epoch_ms", 'u', true},
      {"max-epochs", "max_epochs", 'u', true},
      {"penalty-kbps-ppm", "penalty.min_kbps", 'u', true},
      {"penalty-latency-ppm", "penalty.max_latency_us", 'u', true},
      {"penalty-loss-ppm", "penalty.max_loss_ppm", 'u', true},
      {"cheat-penalty", "cheat_penalty", 'u', true},
      {"confirm-blocks", "confirm_blocks", 'u', true},
      {"claim-window-ms", "claim_window_ms", 'u', true},
      {"dispute-window-blocks", "dispute_window_blocks", 'u', true}}},
    {"withdraw", "withdraw", "withdraw an offer (operator)", {{"offer", "offer", 'u', true}}},
    {"activate", "activate", "activate an offer: the whole price goes to escrow (customer)",
     {{"offer", "offer", 'u', true},
      {"epochs", "epochs", 'u', true},
      {"ap", "ap", 's', true},
      {"dst", "dst", 's', true},
      {"monitor", "monitor", 's', true}}},
    {"confirm", "confirm", "the slice is stitched (operator or its controller)",
     {{"sla", "sla", 'u', true},
      {"slice", "slice", 's', true},
      {"path", "path", 'l', true},
      {"edge-monitor", "edge_monitor", 's', true}}},
    {"fail", "fail", "no slice: nullify and refund (operator or its controller)",
     {{"sla", "sla", 'u', true}, {"reason", "reason", 's', true}}},
    {"expire", "expire", "nullify an SLA whose controller missed its deadline (anyone)", {{"sla", "sla", 'u', true}}},
    {"claim", "claim", "be paid with customer-signed receipts (operator or its controller)",
     {{"sla", "sla", 'u', true}, {"receipts", "receipts", 'r', true}}},
    {"submit", "submit_operator_receipt", "the operator's own receipts when the customer withholds its own",
     {{"sla", "sla", 'u', true}, {"receipts", "receipts", 'r', true}}},
    {"dispute", "submit_operator_receipt", "the same as submit (the dispute path's first step)",
     {{"sla", "sla", 'u', true}, {"receipts", "receipts", 'r', true}}},
    {"contradict", "contradict", "contradict an operator's receipt with the customer monitor's (customer)",
     {{"sla", "sla", 'u', true}, {"receipt", "receipt", 's', true}}},
    {"rule", "rule", "a regulator's verdict on a disputed epoch",
     {{"sla", "sla", 'u', true}, {"epoch", "epoch", 'u', true}, {"verdict", "verdict", 'u', true}}},
    {"report-double", "report_double", "prove a monitor signed two receipts for one epoch (anyone)",
     {{"a", "a", 's', true}, {"b", "b", 's', true}}},
    {"close", "close", "after the claim window: refund what is unclaimed (anyone)", {{"sla", "sla", 'u', true}}},
    {"topology", "topology", "publish the operator's tree (a topology file, as `edgefed slice check` reads)",
     {{"file", "nodes", 't', true}, {"operator", "operator", 's', false}}},
};

static const ef_cs_method *ef_cs_find(const char *sub)
{
    for (size_t i = 0; i < EF_ARRAY_LEN(ef_sla_cli_methods); i++)
        if (!strcmp(ef_sla_cli_methods[i].sub, sub)) return &ef_sla_cli_methods[i];
    return NULL;
}

static void ef_cs_usage_all(FILE *f)
{
    fprintf(f, "usage: edgefed sla SUBCOMMAND [options]   (edgefed sla SUBCOMMAND --help)\n\n");
    for (size_t i = 0; i < EF_ARRAY_LEN(ef_sla_cli_methods); i++)
        fprintf(f, "  %-15s %s\n", ef_sla_cli_methods[i].sub, ef_sla_cli_methods[i].help);
    fprintf(f, "  %-15s %s\n", "controller", "the JIT controller agent: stitches the operator's slices (--help)");
    fprintf(f, "  %-15s %s\n  %-15s %s\n  %-15s %s\n  %-15s %s\n", "show", "an SLA with its epochs (--sla N)", "list",
            "the SLAs not closed or nullified (--offers: the open offers)", "receipt make",
            "sign a receipt offline, print its hex", "receipt verify", "decode and verify a receipt offline");
}

static void ef_cs_usage(FILE *f, const ef_cs_method *m)
{
    fprintf(f, "usage: edgefed sla %s --key KEYFILE", m->sub);
    for (int i = 0; i < EF_CS_FIELDS_MAX && m->f[i].opt; i++) {
        const ef_cs_field *x = &m->f[i];
        const char *val = x->type == 'u'   ? " N"
                          : x->type == 'l' ? " A,B,..."
                          : x->type == 'r' ? " HEX,HEX,..."
                          : x->type == 't' ? " FILE"
                                           : " STR";
        fprintf(f, x->required ? " --%s%s" : " [--%s%s]", x->opt, val);
    }
    fprintf(f, "\n       [--api URL] [--wait] [--timeout-ms N] [--nonce N] [--chain ID] [--dry-run]\n"
               "  %s (contract sla, method %s).\n",
            m->help, m->method);
    for (int i = 0; i < EF_CS_FIELDS_MAX && m->f[i].opt; i++)
        if (m->f[i].type == 't')
            fprintf(f, "  --%s FILE: a topology {\"nodes\": [...]} (agents/ef_slice.h, e.g.\n"
                       "  docs/examples/slice-tree.json); its nodes become the args (at most %d).\n"
                       "  --operator PUB: publish for that operator (as its controller).\n",
                    m->f[i].opt, EF_SLA_TOPO_NODES_MAX);
    for (int i = 0; i < EF_CS_FIELDS_MAX && m->f[i].opt; i++)
        if (m->f[i].type == 'r')
            fprintf(f, "  --receipts-file FILE instead of --receipts: one receipt hex per line (at most %d)\n",
                    EF_SLA_CLAIM_MAX);
    fprintf(f, "  Signs and sends the transaction as `edgefed tx send` does (same exit status).\n");
}

static int ef_cs_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!s || !*s || *s < '0' || *s > '9') return EF_EINVAL;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return *end || errno || *out > (uint64_t)INT64_MAX ? EF_EINVAL : 0;
}

static json_t *ef_cs_list(const char *v, const char *seps)
{
    json_t *arr = json_array();
    char *copy = strdup(v), *save = NULL;
    if (!arr || !copy) {
        free(copy);
        json_decref(arr);
        return NULL;
    }
    for (char *t = strtok_r(copy, seps, &save); t; t = strtok_r(NULL, seps, &save))
        json_array_append_new(arr, json_string(t));
    free(copy);
    return arr;
}

/* The whole of a file up to max bytes into a malloc'd *out. */
static int ef_cs_read_file(const char *path, uint8_t **out, size_t *len, size_t max)
{
    FILE *f = fopen(path, "rb");
    *out = NULL;
    *len = 0;
    if (!f) return EF_EIO;
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    int rc = buf ? 0 : EF_ENOMEM;
    while (rc == 0) {
        if (n == cap) {
            uint8_t *nb = cap < max ? realloc(buf, cap * 2) : NULL;
            if (!nb) { rc = cap < max ? EF_ENOMEM : EF_ETOOBIG; break; }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) rc = ferror(f) ? EF_EIO : 1;
    }
    fclose(f);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* Receipts from --receipts-file (one hex per line). */
static json_t *ef_cs_receipts_file(const char *path)
{
    uint8_t *buf;
    size_t n;
    if (ef_cs_read_file(path, &buf, &n, 1u << 20)) return NULL;
    char *text = malloc(n + 1);
    json_t *arr = NULL;
    if (text) {
        memcpy(text, buf, n);
        text[n] = 0;
        arr = ef_cs_list(text, "\r\n \t");
    }
    free(text);
    free(buf);
    return arr;
}

/* The nodes array of a topology file (new reference), NULL after printing why. */
static json_t *ef_cs_topology_file(const char *path)
{
    json_error_t je;
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    json_t *nodes = json_incref(json_object_get(j, "nodes"));
    if (!j) fprintf(stderr, "edgefed sla: %s: line %d: %s\n", path, je.line, je.text);
    else if (!json_is_array(nodes)) fprintf(stderr, "edgefed sla: %s: no \"nodes\" array\n", path);
    json_decref(j);
    if (json_is_array(nodes)) return nodes;
    json_decref(nodes);
    return NULL;
}

/* Sets obj[path] (path "a.b" nests one level). */
static void ef_cs_set(json_t *obj, const char *path, json_t *v)
{
    const char *dot = strchr(path, '.');
    if (!dot) {
        json_object_set_new(obj, path, v);
        return;
    }
    char head[32];
    snprintf(head, sizeof head, "%.*s", (int)(dot - path), path);
    json_t *sub = json_object_get(obj, head);
    if (!sub) {
        sub = json_object();
        json_object_set_new(obj, head, sub);
    }
    json_object_set_new(sub, dot + 1, v);
}

/* One option's value as JSON into args; 0, or 2 after printing why. */
static int ef_cs_field_value(int argc, char **argv, const ef_cs_field *x, json_t *args)
{
    const char *v = ef_cli_opt(argc, argv, x->opt, NULL);
    const char *file = x->type == 'r' ? ef_cli_opt(argc, argv, "receipts-file", NULL) : NULL;
    if (file && v) {
        fprintf(stderr, "edgefed sla: give --%s or --receipts-file, not both\n", x->opt);
        return 2;
    }
    if (file) {
        json_t *arr = ef_cs_receipts_file(file);
        if (!arr) {
            fprintf(stderr, "edgefed sla: cannot read receipts from %s\n", file);
            return 2;
        }
        ef_cs_set(args, x->field, arr);
        return 0;
    }
    if (!v) {
        if (!x->required) return 0;
        fprintf(stderr, "edgefed sla: --%s is required\n", x->opt);
        return 2;
    }
    if (x->type == 't') {
        json_t *nodes = ef_cs_topology_file(v);
        if (!nodes) return 2;
        ef_cs_set(args, x->field, nodes);
        return 0;
    }
    uint64_t u;
    if (x->type == 'u' && ef_cs_parse_u64(v, &u)) {
        fprintf(stderr, "edgefed sla: --%s needs a non-negative integer, not '%s'\n", x->opt, v);
        return 2;
    }
    json_t *j = x->type == 'u' ? json_integer((json_int_t)u) : x->type == 's' ? json_string(v) : ef_cs_list(v, ",");
    if (!j) {
        fprintf(stderr, "edgefed sla: --%s: bad value\n", x->opt);
        return 2;
    }
    ef_cs_set(args, x->field, j);
    return 0;
}

/* Hands the call over to `edgefed tx send`. */
static int ef_cs_send(int argc, char **argv, const char *method, const char *args_text)
{
    char *targv[32];
    int tc = 0;
    static char names[5][24];
    static const char *const pass[] = {"key", "api", "timeout-ms", "nonce", "chain"};
    static const char *const flags[] = {"--wait", "--dry-run"};
    targv[tc++] = "send";
    targv[tc++] = "--contract";
    targv[tc++] = "sla";
    targv[tc++] = "--method";
    targv[tc++] = (char *)method;
    targv[tc++] = "--args";
    targv[tc++] = (char *)args_text;
    for (size_t i = 0; i < EF_ARRAY_LEN(pass); i++) {
        const char *v = ef_cli_opt(argc, argv, pass[i], NULL);
        if (!v) continue;
        snprintf(names[i], sizeof names[i], "--%s", pass[i]);
        targv[tc++] = names[i];
        targv[tc++] = (char *)v;
    }
    for (size_t i = 0; i < EF_ARRAY_LEN(flags); i++)
        if (ef_cli_flag(argc, argv, flags[i] + 2)) targv[tc++] = (char *)flags[i];
    targv[tc] = NULL;
    return ef_cmd_tx_send(tc, targv);
}

static char *ef_cs_usage_text(const ef_cs_method *m)
{
    char *usage = NULL;
    size_t len = 0;
    FILE *uf = open_memstream(&usage, &len);
    if (!uf) return NULL;
    ef_cs_usage(uf, m);
    fclose(uf);
    return usage;
}

static int ef_cs_method_run(const ef_cs_method *m, int argc, char **argv)
{
    static const char *const common[] = {"key=", "api=", "wait", "timeout-ms=", "nonce=", "chain=", "dry-run"};
    const char *spec[EF_CS_FIELDS_MAX + 12];
    char specbuf[EF_CS_FIELDS_MAX][40];
    size_t ns = 0;
    for (size_t i = 0; i < EF_ARRAY_LEN(common); i++) spec[ns++] = common[i];
    for (int i = 0; i < EF_CS_FIELDS_MAX && m->f[i].opt; i++) {
        snprintf(specbuf[i], sizeof specbuf[i], "%s=", m->f[i].opt);
        spec[ns++] = specbuf[i];
        if (m->f[i].type == 'r') spec[ns++] = "receipts-file=";
    }
    spec[ns] = NULL;
    char *usage = ef_cs_usage_text(m);
    if (!usage) return 1;
    int ret = ef_cli_check(argc, argv, usage, spec, 0);
    json_t *args = json_object();
    if (ret >= 0) goto out;
    ret = 2;
    if (!ef_cli_opt(argc, argv, "key", NULL)) {
        fprintf(stderr, "edgefed sla %s: --key is required\n", m->sub);
        goto usage;
    }
    for (int i = 0; i < EF_CS_FIELDS_MAX && m->f[i].opt; i++)
        if (ef_cs_field_value(argc, argv, &m->f[i], args)) goto usage;
    char *text = json_dumps(args, JSON_COMPACT);
    ret = text ? ef_cs_send(argc, argv, m->method, text) : 1;
    free(text);
    goto out;
usage:
    fputs(usage, stderr);
out:
    json_decref(args);
    free(usage);
    return ret;
}

/* --- show, list: queries through `edgefed query` --- */

static const char *ef_cs_show_usage =
    "usage: edgefed sla show --sla N [--api URL] [--key KEYFILE]\n"
    "       edgefed sla show --epoch E --sla N [--api URL]   (one epoch: votes, verdicts)\n"
    "       edgefed sla list [--offers | --all | --operator PUB | --customer PUB] [--api URL] [--key KEYFILE]\n"
    "  Prints the sla contract's state as JSON (GET /state/sla/...).\n";

static int ef_cs_query(int argc, char **argv, const char *path)
{
    char *qargv[8];
    int qc = 0;
    qargv[qc++] = "query";
    qargv[qc++] = (char *)path;
    const char *api = ef_cli_opt(argc, argv, "api", NULL), *key = ef_cli_opt(argc, argv, "key", NULL);
    if (api) qargv[qc++] = "--api", qargv[qc++] = (char *)api;
    if (key) qargv[qc++] = "--key", qargv[qc++] = (char *)key;
    qargv[qc] = NULL;
    return ef_cmd_query(qc, qargv);
}

static int ef_cs_show(int argc, char **argv)
{
    static const char *const spec[] = {"sla=", "epoch=", "api=", "key=", NULL};
    int checked = ef_cli_check(argc, argv, ef_cs_show_usage, spec, 0);
    if (checked >= 0) return checked;
    uint64_t id, e;
    const char *es = ef_cli_opt(argc, argv, "epoch", NULL);
    if (ef_cs_parse_u64(ef_cli_opt(argc, argv, "sla", NULL), &id) || (es && ef_cs_parse_u64(es, &e))) {
        fputs(ef_cs_show_usage, stderr);
        return 2;
    }
    char path[96];
    if (es) snprintf(path, sizeof path, "/state/sla/epoch/%llu/%llu", (unsigned long long)id, (unsigned long long)e);
    else snprintf(path, sizeof path, "/state/sla/sla/%llu", (unsigned long long)id);
    return ef_cs_query(argc, argv, path);
}

static int ef_cs_list_cmd(int argc, char **argv)
{
    static const char *const spec[] = {"offers", "all", "operator=", "customer=", "api=", "key=", NULL};
    int checked = ef_cli_check(argc, argv, ef_cs_show_usage, spec, 0);
    if (checked >= 0) return checked;
    const char *op = ef_cli_opt(argc, argv, "operator", NULL), *cu = ef_cli_opt(argc, argv, "customer", NULL);
    char path[200];
    if (op) snprintf(path, sizeof path, "/state/sla/operator/%.64s", op);
    else if (cu) snprintf(path, sizeof path, "/state/sla/customer/%.64s", cu);
    else if (ef_cli_flag(argc, argv, "offers")) snprintf(path, sizeof path, "/state/sla/offers");
    else if (ef_cli_flag(argc, argv, "all")) snprintf(path, sizeof path, "/state/sla/all");
    else snprintf(path, sizeof path, "/state/sla/slas");
    return ef_cs_query(argc, argv, path);
}

/* --- receipts, offline --- */

static const char *ef_cs_receipt_usage =
    "usage: edgefed sla receipt make --key KEYFILE --chain ID --sla N --epoch E --kbps N --sent N --recv N\n"
    "           --p50-us N --p99-us N --max-us N [--samples-file FILE | --samples HASH]\n"
    "           (--min-kbps N --max-latency-us N --max-loss-ppm N | --verdict V)\n"
    "       edgefed sla receipt verify HEX [--signer PUB] [--chain ID] [--sla N] [--epoch E]\n"
    "  make: signs the receipt of one epoch with a monitor's key and prints its hex.\n"
    "        The verdict comes from the SLA's rules (--min-kbps ...) or is given as bits\n"
    "        (1 bandwidth, 2 latency, 4 loss). --samples-file: BLAKE2b of the raw samples.\n"
    "  verify: decodes and verifies a receipt, prints it as JSON; exit 0 if valid and\n"
    "        matching every constraint given, 1 (with the reason) if not. No node is asked.\n";

static int ef_cs_u64_opt(int argc, char **argv, const char *name, uint64_t *out)
{
    return ef_cs_parse_u64(ef_cli_opt(argc, argv, name, NULL), out);
}

static int ef_cs_receipt_values(int argc, char **argv, ef_receipt *r)
{
    const char *chain = ef_cli_opt(argc, argv, "chain", NULL);
    if (!chain || !chain[0] || strlen(chain) > EF_RECEIPT_CHAIN_MAX) return EF_EINVAL;
    snprintf(r->chain_id, sizeof r->chain_id, "%s", chain);
    if (ef_cs_u64_opt(argc, argv, "sla", &r->sla) || ef_cs_u64_opt(argc, argv, "epoch", &r->epoch) ||
        ef_cs_u64_opt(argc, argv, "kbps", &r->kbps) || ef_cs_u64_opt(argc, argv, "sent", &r->pkts_sent) ||
        ef_cs_u64_opt(argc, argv, "recv", &r->pkts_recv) || ef_cs_u64_opt(argc, argv, "p50-us", &r->lat_p50_us) ||
        ef_cs_u64_opt(argc, argv, "p99-us", &r->lat_p99_us) || ef_cs_u64_opt(argc, argv, "max-us", &r->lat_max_us))
        return EF_EINVAL;
    const char *sf = ef_cli_opt(argc, argv, "samples-file", NULL), *sh = ef_cli_opt(argc, argv, "samples", NULL);
    if (sf && sh) return EF_EINVAL;
    if (sh && ef_unhex(r->samples.b, EF_HASH_SIZE, sh)) return EF_EINVAL;
    if (sf) {
        uint8_t *buf;
        size_t n;
        int rc = ef_cs_read_file(sf, &buf, &n, (size_t)1 << 30);
        if (rc) return rc;
        ef_hash_tagged(&r->samples, EF_TAG_RECEIPT, buf, n);
        free(buf);
    }
    return 0;
}

/* The verdict source: rules (*use_rules) or --verdict. */
static int ef_cs_verdict(int argc, char **argv, ef_sla_rules *rules, bool *use_rules, uint8_t *verdict)
{
    const char *vs = ef_cli_opt(argc, argv, "verdict", NULL);
    bool any_rule = ef_cli_opt(argc, argv, "min-kbps", NULL) || ef_cli_opt(argc, argv, "max-latency-us", NULL) ||
                    ef_cli_opt(argc, argv, "max-loss-ppm", NULL);
    uint64_t v, loss;
    if ((vs != NULL) == any_rule) return EF_EINVAL;
    *use_rules = any_rule;
    if (vs) {
        if (ef_cs_parse_u64(vs, &v) || v > EF_VERDICT_ALL) return EF_EINVAL;
        *verdict = (uint8_t)v;
        return 0;
    }
    if (ef_cs_u64_opt(argc, argv, "min-kbps", &rules->min_kbps) ||
        ef_cs_u64_opt(argc, argv, "max-latency-us", &rules->max_latency_us) ||
        ef_cs_u64_opt(argc, argv, "max-loss-ppm", &loss) || loss > EF_SLA_PPM)
        return EF_EINVAL;
    rules->max_loss_ppm = (uint32_t)loss;
    return 0;
}

static int ef_cs_receipt_make(int argc, char **argv)
{
    static const char *const spec[] = {"key=",    "chain=",  "sla=",    "epoch=",        "kbps=",     "sent=",
                                       "recv=",   "p50-us=", "p99-us=", "max-us=",       "samples=",  "samples-file=",
                                       "min-kbps=", "max-latency-us=", "max-loss-ppm=", "verdict=", NULL};
    int checked = ef_cli_check(argc, argv, ef_cs_receipt_usage, spec, 0);
    if (checked >= 0) return checked;
    ef_receipt r;
    ef_sla_rules rules;
    bool use_rules;
    memset(&r, 0, sizeof r);
    const char *key = ef_cli_opt(argc, argv, "key", NULL);
    if (!key || ef_cs_receipt_values(argc, argv, &r) || ef_cs_verdict(argc, argv, &rules, &use_rules, &r.verdict)) {
        fputs(ef_cs_receipt_usage, stderr);
        return 2;
    }
    ef_keypair kp;
    int rc = ef_key_load(&kp, key);
    if (rc) {
        fprintf(stderr, "edgefed sla receipt make: cannot read key %s: %s\n", key, ef_strerror(rc));
        return 1;
    }
    char hex[EF_RECEIPT_HEX_MAX + 1];
    if ((rc = ef_receipt_make(&r, use_rules ? &rules : NULL, &kp)) || (rc = ef_receipt_hex(hex, sizeof hex, &r))) {
        fprintf(stderr, "edgefed sla receipt make: %s\n", ef_strerror(rc));
        return 1;
    }
    printf("%s\n", hex);
    return 0;
}

static json_t *ef_cs_receipt_json(const ef_receipt *r, int rc)
{
    char signer[2 * EF_PUB_SIZE + 1], samples[2 * EF_HASH_SIZE + 1];
    ef_hex(signer, r->signer.b, EF_PUB_SIZE);
    ef_hex(samples, r->samples.b, EF_HASH_SIZE);
    json_t *j = json_pack("{s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:I, s:s}", "valid", rc == 0,
                          "chain_id", r->chain_id, "sla", (json_int_t)r->sla, "epoch", (json_int_t)r->epoch, "kbps",
                          (json_int_t)r->kbps, "pkts_sent", (json_int_t)r->pkts_sent, "pkts_recv",
                          (json_int_t)r->pkts_recv, "loss_ppm", (json_int_t)r->loss_ppm, "lat_p50_us",
                          (json_int_t)r->lat_p50_us, "lat_p99_us", (json_int_t)r->lat_p99_us, "lat_max_us",
                          (json_int_t)r->lat_max_us, "samples", samples, "verdict", (json_int_t)r->verdict, "signer",
                          signer);
    if (j && rc) json_object_set_new(j, "error", json_string(ef_errname(rc)));
    return j;
}

static const char *ef_cs_positional(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-') {
            if (!strchr(argv[i], '=')) i++;
            continue;
        }
        return argv[i];
    }
    return NULL;
}

/* The constraint checks of verify, after the signature. */
static int ef_cs_receipt_match(int argc, char **argv, const ef_receipt *r, const char **why)
{
    const char *chain = ef_cli_opt(argc, argv, "chain", NULL);
    const char *ss = ef_cli_opt(argc, argv, "sla", NULL), *es = ef_cli_opt(argc, argv, "epoch", NULL);
    uint64_t sla = 0, epoch = 0;
    if ((ss && ef_cs_parse_u64(ss, &sla)) || (es && ef_cs_parse_u64(es, &epoch))) return EF_EARGS;
    if (chain && strcmp(chain, r->chain_id)) return *why = "receipt of another chain", EF_ECHAIN;
    if (ss && sla != r->sla) return *why = "receipt of another SLA", EF_EOTHERSLA;
    if (es && epoch != r->epoch) return *why = "receipt of another epoch", EF_EEPOCH;
    return 0;
}

static int ef_cs_receipt_verify(int argc, char **argv)
{
    static const char *const spec[] = {"signer=", "chain=", "sla=", "epoch=", NULL};
    int checked = ef_cli_check(argc, argv, ef_cs_receipt_usage, spec, 1);
    if (checked >= 0) return checked;
    const char *hex = ef_cs_positional(argc, argv), *signer_s = ef_cli_opt(argc, argv, "signer", NULL);
    ef_pub signer;
    if (!hex || (signer_s && ef_unhex(signer.b, EF_PUB_SIZE, signer_s))) {
        fputs(ef_cs_receipt_usage, stderr);
        return 2;
    }
    ef_receipt r;
    const char *why = NULL;
    int rc = ef_receipt_decode_hex(&r, hex);
    if (rc) {
        fprintf(stderr, "edgefed sla receipt verify: invalid: %s\n", ef_strerror(rc));
        return 1;
    }
    if ((rc = ef_receipt_verify(&r, signer_s ? &signer : NULL)))
        why = rc == EF_ESIGNER ? "signed by another key than --signer" : ef_strerror(rc);
    else if ((rc = ef_cs_receipt_match(argc, argv, &r, &why)) == EF_EARGS) {
        fputs(ef_cs_receipt_usage, stderr);
        return 2;
    }
    json_t *j = ef_cs_receipt_json(&r, rc);
    char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    if (text) printf("%s\n", text);
    free(text);
    json_decref(j);
    if (rc) fprintf(stderr, "edgefed sla receipt verify: invalid: %s\n", why);
    return rc ? 1 : 0;
}

static int ef_cs_receipt(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "make")) return ef_cs_receipt_make(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "verify")) return ef_cs_receipt_verify(argc - 1, argv + 1);
    if (argc >= 2 && ef_cli_wants_help(argc, argv)) {
        fputs(ef_cs_receipt_usage, stdout);
        return 0;
    }
    fputs(ef_cs_receipt_usage, stderr);
    return 2;
}

int ef_cmd_sla(int argc, char **argv)
{
    if (argc < 2 || (argv[1][0] == '-' && ef_cli_wants_help(argc, argv))) {
        ef_cs_usage_all(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "receipt")) return ef_cs_receipt(argc - 1, argv + 1);
    if (!strcmp(argv[1], "show")) return ef_cs_show(argc - 1, argv + 1);
    if (!strcmp(argv[1], "list")) return ef_cs_list_cmd(argc - 1, argv + 1);
    if (!strcmp(argv[1], "controller")) return ef_cmd_sla_controller(argc - 1, argv + 1);
    const ef_cs_method *m = ef_cs_find(argv[1]);
    if (!m) {
        fprintf(stderr, "edgefed sla: unknown subcommand '%s'\n", argv[1]);
        ef_cs_usage_all(stderr);
        return 2;
    }
    return ef_cs_method_run(m, argc - 1, argv + 1);
}
