/* cmd_prov.c: `edgefed prov ...`: record identities, data and orchestration steps
 * on the prov contract, check fetched data against its recorded hash before use,
 * export PROV-JSON, query a lineage and draw it (DOT, SVG). */
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

static const char *prov_usage =
    "usage: edgefed prov COMMAND [options]     (--api URL, default $EDGEFED_API or http://127.0.0.1:8080)\n"
    "  Records on the prov contract (seed 004); every recording command needs --key KEYFILE,\n"
    "  waits for the commit and prints the result; --sign-request signs the HTTP requests\n"
    "  (private ledgers).\n"
    "  join --id ID --kind device|container --owner PUB [--host ID]\n"
    "                         the key's own identity joins (PROV-ID-create)\n"
    "  leave --id ID          it leaves (PROV-ID-delete); by the thing or its owner\n"
    "  release --entity E --activity A --producer ID --file BLOB [--media-type T] [--receiver ACT]\n"
    "                         data leaves its producer: hash and size of BLOB, signed by the key\n"
    "  use --entity E --activity A --by ID [--contract NAME] [--file BLOB | --fetch URL [--out FILE]]\n"
    "                         data joins an activity (PROV-ORCH); with --file or --fetch\n"
    "                         (GET URL/blobs/HASH) the bytes are checked against the recorded\n"
    "                         hash first and a mismatch is refused (exit 1, nothing recorded)\n"
    "  orchestrate --action deploy|teardown|execute --activity A [--container ID] [--host ID]\n"
    "              [--contract NAME --method NAME] [--on-behalf-of PUB] [--ref REF]\n"
    "  export [--lineage QNAME | --from H --to H] [--out FILE]\n"
    "                         W3C PROV-JSON of the whole record, one lineage or blocks H..H,\n"
    "                         exactly the bytes the API serves\n"
    "  lineage QNAME [--format text|json|dot|svg] [--out FILE]\n"
    "                         everything QNAME (data:E, act:A, thing:ID, acct:PUB) derives\n"
    "                         from, with the transaction and block of each step\n"
    "  serve --dir DIR --listen IP:PORT   a hash-addressed blob server (GET /blobs/HASH)\n"
    "  pipeline sense|step ...            the sensor, collector and analyser programs\n"
    "                                     (edgefed prov pipeline --help)\n"
    "  exit status: 0 on success, 1 if refused or failed, 2 on a usage error\n";

/* ------------------------------------------------------------ helpers */

static int prov_client(ef_client **cl, int argc, char **argv, const ef_keypair *kp)
{
    bool sign = ef_cli_flag(argc, argv, "sign-request");
    int rc = ef_client_new(cl, ef_cli_api_url(argc, argv), sign ? kp : NULL, 0);
    if (rc) fprintf(stderr, "edgefed prov: bad API URL %s: %s\n", ef_cli_api_url(argc, argv), ef_strerror(rc));
    return rc ? 1 : 0;
}

static int prov_load_key(int argc, char **argv, ef_keypair *kp)
{
    const char *keyfile = ef_cli_opt(argc, argv, "key", NULL);
    if (!keyfile) return 2;
    int rc = ef_key_load(kp, keyfile);
    if (rc) {
        fprintf(stderr, "edgefed prov: cannot read key %s: %s\n", keyfile, ef_strerror(rc));
        return 1;
    }
    return 0;
}

/* Sends method with args (stolen) as --key; prints the answer; returns the exit status. */
static int prov_record(int argc, char **argv, const ef_keypair *kp, const char *method, json_t *args)
{
    ef_client *cl = NULL;
    if (!args || prov_client(&cl, argc, argv, kp)) {
        json_decref(args);
        return 1;
    }
    char err[512];
    json_t *resp = NULL;
    int rc = ef_prov_cli_send(cl, kp, method, args, err, sizeof err, &resp);
    if (rc == 0) {
        printf("prov %s: committed at height %" PRId64 " tx %s\n", method,
               (int64_t)json_integer_value(json_object_get(resp, "height")),
               json_string_value(json_object_get(resp, "hash")) ? json_string_value(json_object_get(resp, "hash"))
                                                                 : "?");
    } else {
        fprintf(stderr, "edgefed prov %s: %s\n", method, err);
    }
    json_decref(resp);
    json_decref(args);
    ef_client_free(cl);
    return rc ? 1 : 0;
}

static int prov_set_opt(json_t *args, int argc, char **argv, const char *opt, const char *field)
{
    const char *v = ef_cli_opt(argc, argv, opt, NULL);
    if (v) json_object_set_new(args, field, json_string(v));
    return 0;
}

int ef_prov_cli_read_file(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return EF_EIO;
    size_t cap = 4096, n = 0;
    uint8_t *p = malloc(cap);
    int rc = 0;
    while (p) {
        if (n == cap) {
            if (cap >= EF_PROV_CLI_BLOB_MAX) {
                rc = EF_ETOOBIG;
                break;
            }
            uint8_t *np = realloc(p, cap * 2);
            if (!np) break;
            p = np;
            cap *= 2;
        }
        size_t r = fread(p + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    if (!p) rc = EF_ENOMEM;
    if (ferror(f)) rc = EF_EIO;
    fclose(f);
    if (rc) {
        free(p);
        return rc;
    }
    *out = p;
    *len = n;
    return 0;
}

/* ------------------------------------------------------------ commands */

static int prov_join(int argc, char **argv)
{
    static const char *const opts[] = {"api=", "key=", "sign-request", "id=", "kind=", "owner=", "host=", NULL};
    int rc0 = ef_cli_check(argc, argv, prov_usage, opts, 0);
    if (rc0 >= 0) return rc0;
    ef_keypair kp;
    const char *id = ef_cli_opt(argc, argv, "id", NULL), *kind = ef_cli_opt(argc, argv, "kind", NULL),
               *owner = ef_cli_opt(argc, argv, "owner", NULL);
    if (!id || !kind || !owner) {
        fputs(prov_usage, stderr);
        return 2;
    }
    int rc = prov_load_key(argc, argv, &kp);
    if (rc) return rc == 2 ? (fputs(prov_usage, stderr), 2) : 1;
    char kh[2 * EF_PUB_SIZE + 1];
    ef_hex(kh, kp.pub.b, EF_PUB_SIZE);
    json_t *a = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "kind", kind, "owner", owner, "key", kh);
    if (a) prov_set_opt(a, argc, argv, "host", "host");
    return prov_record(argc, argv, &kp, "join", a);
}

static int prov_leave(int argc, char **argv)
{
    static const char *const opts[] = {"api=", "key=", "sign-request", "id=", NULL};
    int rc0 = ef_cli_check(argc, argv, prov_usage, opts, 0);
    if (rc0 >= 0) return rc0;
    ef_keypair kp;
    const char *id = ef_cli_opt(argc, argv, "id", NULL);
    if (!id) return fputs(prov_usage, stderr), 2;
    int rc = prov_load_key(argc, argv, &kp);
    if (rc) return rc == 2 ? (fputs(prov_usage, stderr), 2) : 1;
    return prov_record(argc, argv, &kp, "leave", json_pack("{s:s}", "id", id));
}

static int prov_release(int argc, char **argv)
{
    static const char *const opts[] = {"api=", "key=", "sign-request", "entity=", "activity=", "producer=",
                                       "file=", "media-type=", "receiver=", NULL};
    int rc0 = ef_cli_check(argc, argv, prov_usage, opts, 0);
    if (rc0 >= 0) return rc0;
    const char *ent = ef_cli_opt(argc, argv, "entity", NULL), *act = ef_cli_opt(argc, argv, "activity", NULL),
               *prod = ef_cli_opt(argc, argv, "producer", NULL), *file = ef_cli_opt(argc, argv, "file", NULL),
               *media = ef_cli_opt(argc, argv, "media-type", "application/octet-stream");
    if (!ent || !act || !prod || !file) return fputs(prov_usage, stderr), 2;
    ef_keypair kp;
    int rc = prov_load_key(argc, argv, &kp);
    if (rc) return rc == 2 ? (fputs(prov_usage, stderr), 2) : 1;
    uint8_t *blob;
    size_t len;
    if ((rc = ef_prov_cli_read_file(file, &blob, &len))) {
        fprintf(stderr, "edgefed prov release: cannot read %s: %s\n", file, ef_strerror(rc));
        return 1;
    }
    ef_client *cl = NULL;
    char chain[EF_CHAIN_ID_MAX + 1];
    if (prov_client(&cl, argc, argv, &kp)) {
        free(blob);
        return 1;
    }
    rc = ef_prov_cli_chain(cl, chain);
    ef_client_free(cl);
    if (rc) {
        fprintf(stderr, "edgefed prov release: cannot read the chain id: %s\n", ef_strerror(rc));
        free(blob);
        return 1;
    }
    json_t *a = ef_prov_cli_release_args(&kp, chain, ent, act, prod, blob, len, media,
                                         ef_cli_opt(argc, argv, "receiver", NULL));
    free(blob);
    return prov_record(argc, argv, &kp, "release", a);
}

static int prov_use(int argc, char **argv)
{
    static const char *const opts[] = {"api=", "key=", "sign-request", "entity=", "activity=", "by=", "contract=",
                                       "file=", "fetch=", "out=", NULL};
    int rc0 = ef_cli_check(argc, argv, prov_usage, opts, 0);
    if (rc0 >= 0) return rc0;
    const char *ent = ef_cli_opt(argc, argv, "entity", NULL), *act = ef_cli_opt(argc, argv, "activity", NULL),
               *by = ef_cli_opt(argc, argv, "by", NULL), *file = ef_cli_opt(argc, argv, "file", NULL),
               *fetch = ef_cli_opt(argc, argv, "fetch", NULL), *outf = ef_cli_opt(argc, argv, "out", NULL);
    if (!ent || !act || !by || (file && fetch) || (outf && !fetch)) return fputs(prov_usage, stderr), 2;
    ef_keypair kp;
    int rc = prov_load_key(argc, argv, &kp);
    if (rc) return rc == 2 ? (fputs(prov_usage, stderr), 2) : 1;
    if (file || fetch) {
        ef_client *cl = NULL;
        uint8_t *blob = NULL;
        size_t len = 0;
        char err[512];
        if (prov_client(&cl, argc, argv, &kp)) return 1;
        if (file) {
            rc = ef_prov_cli_read_file(file, &blob, &len);
            if (rc) snprintf(err, sizeof err, "cannot read %s: %s", file, ef_strerror(rc));
        } else {
            char target[128];
            long status = 0;
            json_t *d = NULL;
            snprintf(target, sizeof target, "/state/prov/data/%s", ent);
            rc = ef_client_json(cl, "GET", target, NULL, &status, &d);
            const char *hash = json_string_value(json_object_get(d, "hash"));
            if (rc || status != 200 || !hash) {
                snprintf(err, sizeof err, "data %s is not recorded (HTTP %ld): it has not left its producer", ent,
                         status);
                rc = EF_ENOTRELEASED;
            } else if ((rc = ef_prov_cli_fetch(fetch, hash, &blob, &len))) {
                snprintf(err, sizeof err, "cannot fetch %s/blobs/%s: %s", fetch, hash, ef_strerror(rc));
            }
            json_decref(d);
        }
        if (rc == 0) rc = ef_prov_cli_check_blob(cl, ent, blob, len, err, sizeof err);
        if (rc == 0 && outf && (rc = ef_prov_cli_write_file(outf, blob, len)))
            snprintf(err, sizeof err, "cannot write %s: %s", outf, ef_strerror(rc));
        free(blob);
        ef_client_free(cl);
        if (rc) {
            fprintf(stderr, "edgefed prov use: %s\n", err);
            return 1;
        }
    }
    json_t *a = json_pack("{s:s, s:s, s:s}", "entity", ent, "activity", act, "by", by);
    if (a) prov_set_opt(a, argc, argv, "contract", "contract");
    return prov_record(argc, argv, &kp, "use", a);
}

static int prov_orchestrate(int argc, char **argv)
{
    static const char *const opts[] = {"api=", "key=", "sign-request", "action=", "activity=", "container=",
                                       "host=", "contract=", "method=", "on-behalf-of=", "ref=", NULL};
    int rc0 = ef_cli_check(argc, argv, prov_usage, opts, 0);
    if (rc0 >= 0) return rc0;
    const char *action = ef_cli_opt(argc, argv, "action", NULL), *act = ef_cli_opt(argc, argv, "activity", NULL);
    if (!action || !act) return fputs(prov_usage, stderr), 2;
    ef_keypair kp;
    int rc = prov_load_key(argc, argv, &kp);
    if (rc) return rc == 2 ? (fputs(prov_usage, stderr), 2) : 1;
    json_t *a = json_pack("{s:s, s:s}", "action", action, "activity", act);
    if (a) {
        prov_set_opt(a, argc, argv, "container", "container");
        prov_set_opt(a, argc, argv, "host", "host");
        prov_set_opt(a, argc, argv, "contract", "contract");
        prov_set_opt(a, argc, argv, "method", "method");
        prov_set_opt(a, argc, argv, "on-behalf-of", "on_behalf_of");
        prov_set_opt(a, argc, argv, "ref", "ref");
    }
    return prov_record(argc, argv, &kp, "orchestrate", a);
}

/* GET target and write the body (as served) to out or stdout. */
static int prov_get_raw(int argc, char **argv, const char *target, const char *out, const char *who)
{
    ef_client *cl = NULL;
    if (ef_cli_api_client(&cl, argc, argv, who)) return 1;
    char *body = NULL;
    size_t len = 0;
    long status = 0;
    int rc = ef_client_request(cl, "GET", target, NULL, NULL, 0, &status, &body, &len);
    ef_client_free(cl);
    if (rc || status != 200) {
        fprintf(stderr, "edgefed %s: GET %s: %s (HTTP %ld) %.*s\n", who, target, ef_strerror(rc), status,
                (int)(body ? len : 0), body ? body : "");
        free(body);
        return 1;
    }
    if (out) rc = ef_prov_cli_write_file(out, body, len);
    else if (fwrite(body, 1, len, stdout) != len || fputc('\n', stdout) == EOF) rc = EF_EIO;
    if (rc) fprintf(stderr, "edgefed %s: cannot write %s: %s\n", who, out ? out : "stdout", ef_strerror(rc));
    free(body);
    return rc ? 1 : 0;
}

static int prov_export(int argc, char **argv)
{
    static const char *const opts[] = {"api=", "key=", "lineage=", "from=", "to=", "out=", NULL};
    int rc0 = ef_cli_check(argc, argv, prov_usage, opts, 0);
    if (rc0 >= 0) return rc0;
    const char *lin = ef_cli_opt(argc, argv, "lineage", NULL), *from = ef_cli_opt(argc, argv, "from", NULL),
               *to = ef_cli_opt(argc, argv, "to", NULL);
    char target[256];
    if (lin && (from || to)) return fputs(prov_usage, stderr), 2;
    if (!!from != !!to) return fputs(prov_usage, stderr), 2;
    if (lin) snprintf(target, sizeof target, "/state/prov/export/lineage/%s", lin);
    else if (from) snprintf(target, sizeof target, "/state/prov/export/range/%s/%s", from, to);
    else snprintf(target, sizeof target, "/state/prov/export");
    return prov_get_raw(argc, argv, target, ef_cli_opt(argc, argv, "out", NULL), "prov export");
}

void ef_prov_cli_print_lineage(FILE *f, const json_t *lin)
{
    size_t i;
    json_t *s;
    fprintf(f, "lineage of %s: %zu nodes, %zu steps\n", json_string_value(json_object_get(lin, "root")),
            json_array_size(json_object_get(lin, "nodes")), json_array_size(json_object_get(lin, "steps")));
    json_array_foreach(json_object_get(lin, "steps"), i, s) {
        const char *from = json_string_value(json_object_get(s, "from")),
                   *to = json_string_value(json_object_get(s, "to"));
        fprintf(f, "  %-22.22s %-18s %-22.22s%s block %5" PRId64 " tx %.16s\n", from,
                json_string_value(json_object_get(s, "kind")), to, strlen(to) > 22 ? "..." : "   ",
                (int64_t)json_integer_value(json_object_get(s, "height")),
                json_string_value(json_object_get(s, "tx")));
    }
}

static int prov_lineage(int argc, char **argv)
{
    static const char *const opts[] = {"api=", "key=", "format=", "out=", NULL};
    int rc0 = ef_cli_check(argc, argv, prov_usage, opts, 1);
    if (rc0 >= 0) return rc0;
    const char *root = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "--", 2)) {
            if (!strchr(argv[i], '=')) i++;
            continue;
        }
        root = argv[i];
    }
    const char *format = ef_cli_opt(argc, argv, "format", "text"), *out = ef_cli_opt(argc, argv, "out", NULL);
    if (!root || (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "dot") && strcmp(format, "svg")))
        return fputs(prov_usage, stderr), 2;
    char target[256];
    snprintf(target, sizeof target, "/state/prov/lineage/%s", root);
    if (!strcmp(format, "json")) return prov_get_raw(argc, argv, target, out, "prov lineage");
    ef_client *cl = NULL;
    if (ef_cli_api_client(&cl, argc, argv, "prov lineage")) return 1;
    long status = 0;
    json_t *lin = NULL;
    int rc = ef_client_json(cl, "GET", target, NULL, &status, &lin);
    ef_client_free(cl);
    if (rc || status != 200 || !lin) {
        fprintf(stderr, "edgefed prov lineage: %s: %s (HTTP %ld)\n", root,
                lin && json_string_value(json_object_get(lin, "error")) ? json_string_value(json_object_get(lin, "error"))
                                                                        : ef_strerror(rc),
                status);
        json_decref(lin);
        return 1;
    }
    int ret = 0;
    if (!strcmp(format, "text")) {
        FILE *f = out ? fopen(out, "w") : stdout;
        if (!f) ret = 1;
        else {
            ef_prov_cli_print_lineage(f, lin);
            if (f != stdout && fclose(f)) ret = 1;
        }
    } else {
        char *text = !strcmp(format, "dot") ? ef_prov_lineage_dot(lin) : ef_prov_lineage_svg(lin);
        if (!text) ret = 1;
        else if (out) ret = ef_prov_cli_write_file(out, text, strlen(text)) ? 1 : 0;
        else fputs(text, stdout);
        free(text);
    }
    if (ret) fprintf(stderr, "edgefed prov lineage: cannot write %s\n", out ? out : "stdout");
    json_decref(lin);
    return ret;
}

int ef_cmd_prov(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } sub[] = {
        {"join", prov_join},       {"leave", prov_leave},     {"release", prov_release},
        {"use", prov_use},         {"orchestrate", prov_orchestrate}, {"export", prov_export},
        {"lineage", prov_lineage}, {"serve", ef_prov_cli_serve},      {"pipeline", ef_prov_cli_pipeline},
    };
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(prov_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < EF_ARRAY_LEN(sub); i++)
        if (!strcmp(argv[1], sub[i].name)) return sub[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "edgefed prov: unknown subcommand '%s'\n", argv[1]);
    fputs(prov_usage, stderr);
    return 2;
}
