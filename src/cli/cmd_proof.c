/* cmd_proof.c: `edgefed proof get|verify`: fetch a transaction's inclusion proof
 * from a domain node, and check one offline against the anchor state a
 * federation ledger's API serves (the same rules as ef_anchor_verify_proof). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/ef_client.h"
#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "cli/cli.h"
#include "cli/cli_api.h"
#include "contracts/ef_anchor.h"
#include "ledger/ef_cert.h"
#include "ledger/ef_proof.h"
#include "ledger/ef_vset.h"

static const char *const ef_proof_usage =
    "usage: edgefed proof get HASH [--api URL] [--key KEYFILE] [--out FILE]\n"
    "       edgefed proof verify --federation URL --domain NAME FILE|- [--key KEYFILE]\n"
    "  get     fetches the proof that committed transaction HASH and its result are\n"
    "          in its block (GET /proofs/tx/HASH of a domain node; --key signs the\n"
    "          read, as a private domain ledger requires) and writes its JSON\n"
    "          (the proof in hex under \"proof\") to FILE or stdout.\n"
    "  verify  checks a proof (that JSON, the proof's hex, or its raw bytes; - reads\n"
    "          stdin) against the anchor contract's state on the federation ledger\n"
    "          at URL, for registered domain NAME: the Merkle paths lead to the\n"
    "          header's roots; the header is of the domain's chain; a certificate in\n"
    "          the proof verifies against the committee the header names; and the\n"
    "          header is anchored, or certified by the committee the anchor tracks.\n"
    "          Prints what the proof proves. Exit 0 valid, 1 invalid or unreachable.\n";

/* Reads all of path ("-" = stdin) into a malloc'd buffer. */
static int ef_proof_read(const char *path, uint8_t **out, size_t *n)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    size_t cap = 4096, len = 0;
    uint8_t *b = malloc(cap);
    *out = NULL;
    *n = 0;
    if (!f || !b) {
        free(b);
        if (f && f != stdin) fclose(f);
        return f ? EF_ENOMEM : EF_EIO;
    }
    for (;;) {
        if (len == cap) {
            if (cap >= 4 * EF_PROOF_MAX) {
                free(b);
                if (f != stdin) fclose(f);
                return EF_ETOOBIG;
            }
            uint8_t *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                if (f != stdin) fclose(f);
                return EF_ENOMEM;
            }
            b = nb;
            cap *= 2;
        }
        size_t r = fread(b + len, 1, cap - len, f);
        len += r;
        if (r == 0) break;
    }
    bool err = ferror(f);
    if (f != stdin) fclose(f);
    if (err) {
        free(b);
        return EF_EIO;
    }
    *out = b;
    *n = len;
    return 0;
}

static bool ef_proof_is_hex(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
    }
    return n > 0 && n % 2 == 0;
}

/* The proof's bytes from what a file holds: GET /proofs/tx's JSON, hex, or raw. */
static int ef_proof_bytes(const uint8_t *in, size_t n, uint8_t **out, size_t *out_len)
{
    const char *hex = NULL;
    size_t hl = 0;
    json_t *j = json_loadb((const char *)in, n, 0, NULL);
    while (n && (in[n - 1] == '\n' || in[n - 1] == '\r' || in[n - 1] == ' ')) n--;
    if (j && json_is_string(json_object_get(j, "proof"))) {
        hex = json_string_value(json_object_get(j, "proof"));
        hl = strlen(hex);
    } else if (ef_proof_is_hex(in, n)) {
        hex = (const char *)in;
        hl = n;
    }
    if (!hex) {   /* raw bytes */
        json_decref(j);
        *out = malloc(n ? n : 1);
        if (!*out) return EF_ENOMEM;
        memcpy(*out, in, n);
        *out_len = n;
        return 0;
    }
    if (hl % 2) {
        json_decref(j);
        return EF_EINVAL;
    }
    *out = malloc(hl / 2 + 1);
    char *h = malloc(hl + 1);
    if (!*out || !h) {
        free(*out);
        free(h);
        json_decref(j);
        return EF_ENOMEM;
    }
    memcpy(h, hex, hl);
    h[hl] = 0;
    int rc = ef_unhex(*out, hl / 2, h);
    free(h);
    json_decref(j);
    if (rc) {
        free(*out);
        *out = NULL;
        return EF_EINVAL;
    }
    *out_len = hl / 2;
    return 0;
}

/* GET target as JSON: 0 with *out, EF_ENOTFOUND on 404, EF_ENET/EF_EPROTO otherwise. */
static int ef_proof_fetch(ef_client *cl, const char *target, json_t **out)
{
    long status = 0;
    *out = NULL;
    int rc = ef_client_json(cl, "GET", target, NULL, &status, out);
    if (rc) return rc;
    if (status == 404) rc = EF_ENOTFOUND;
    else if (status != 200 || !*out) rc = EF_EPROTO;
    if (rc) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

static int ef_proof_hex_field(const json_t *o, const char *k, void *out, size_t n)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s && !ef_unhex(out, n, s) ? 0 : EF_EPROTO;
}

/* The rules of ef_anchor_verify_proof, read through the federation's API.
 * *anchored tells which way the header is trusted; *why names the failed step. */
static int ef_proof_check_remote(ef_client *fed, const char *domain, ef_proof *pf, const uint8_t *p, size_t n,
                                 bool *anchored, const char **why)
{
    char target[512], hx[2 * EF_HASH_SIZE + 1];
    json_t *d = NULL, *k = NULL, *cm = NULL;
    ef_vset *vs = NULL;
    int rc;
    *anchored = false;
    *why = "decoding";
    if ((rc = ef_proof_decode(pf, p, n))) return rc;
    *why = "Merkle paths";
    if ((rc = ef_proof_check(pf))) return rc;
    *why = "domain";
    snprintf(target, sizeof target, "/state/anchor/domain/%s", domain);
    if ((rc = ef_proof_fetch(fed, target, &d))) goto out;
    if (json_is_true(json_object_get(d, "frozen"))) {
        rc = EF_EFROZEN;
        goto out;
    }
    *why = "chain id";
    const char *chain = json_string_value(json_object_get(d, "chain_id"));
    if (!chain || strcmp(chain, pf->hdr.chain_id)) {
        rc = EF_ECHAIN;
        goto out;
    }
    if (pf->cert_len) {
        *why = "certificate";
        ef_hex(hx, pf->hdr.vset_hash.b, EF_HASH_SIZE);
        snprintf(target, sizeof target, "/state/anchor/committee/%s/%s", domain, hx);
        rc = ef_proof_fetch(fed, target, &cm);
        if (rc == EF_ENOTFOUND) rc = EF_EUNANCHORED;
        if (rc) goto out;
        const char *ch = json_string_value(json_object_get(cm, "hex"));
        size_t cl = ch ? strlen(ch) / 2 : 0;
        uint8_t *cb = cl ? malloc(cl) : NULL;
        vs = malloc(sizeof *vs);
        if (!vs || !cb || ef_unhex(cb, cl, ch)) {
            free(cb);
            rc = vs && cb ? EF_EPROTO : EF_ENOMEM;
            goto out;
        }
        ef_rd r;
        ef_rd_init(&r, cb, cl);
        ef_vset_decode(&r, vs);
        rc = ef_rd_finish(&r);
        free(cb);
        ef_hash got;
        if (rc || !ef_vset_valid(vs) || (ef_vset_hash(&got, vs), !ef_hash_eq(&got, &pf->hdr.vset_hash))) {
            rc = EF_EPROTO;   /* the API served a committee that is not the one named */
            goto out;
        }
        if ((rc = ef_cert_verify(pf->cert, pf->cert_len, pf->hdr.chain_id, pf->hdr.height, &pf->block_hash, vs)))
            goto out;
    }
    *why = "anchoring";
    snprintf(target, sizeof target, "/state/anchor/checkpoints/%s/%llu", domain, (unsigned long long)pf->hdr.height);
    rc = ef_proof_fetch(fed, target, &k);
    if (rc == 0) {
        ef_hash h;
        if ((rc = ef_proof_hex_field(k, "hash", h.b, EF_HASH_SIZE))) goto out;
        rc = ef_hash_eq(&h, &pf->block_hash) ? 0 : EF_EUNANCHORED;
        *anchored = rc == 0;
    } else if (rc == EF_ENOTFOUND) {
        ef_hash ch;
        json_int_t since = json_integer_value(json_object_get(d, "committee_since"));
        if ((rc = ef_proof_hex_field(d, "committee_hash", ch.b, EF_HASH_SIZE))) goto out;
        bool ok = pf->cert_len && ef_hash_eq(&ch, &pf->hdr.vset_hash) && since >= 1 &&
                  pf->hdr.height >= (uint64_t)since;
        rc = ok ? 0 : EF_EUNANCHORED;
    }
out:
    json_decref(d);
    json_decref(k);
    json_decref(cm);
    free(vs);
    return rc;
}

static int ef_proof_verify_cmd(int argc, char **argv)
{
    static const char *const opts[] = {"federation=", "domain=", "key=", NULL};
    int checked = ef_cli_check(argc, argv, ef_proof_usage, opts, 1);
    if (checked >= 0) return checked;
    const char *url = ef_cli_opt(argc, argv, "federation", NULL);
    const char *domain = ef_cli_opt(argc, argv, "domain", NULL);
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-")) {
            file = argv[i];
            continue;
        }
        if (!strncmp(argv[i], "--", 2)) {
            if (!strchr(argv[i], '=')) i++;   /* every option here takes a value */
            continue;
        }
        file = argv[i];
    }
    if (!url || !domain || !file) {
        fputs(ef_proof_usage, stderr);
        return 2;
    }
    uint8_t *in = NULL, *p = NULL;
    size_t in_len = 0, n = 0;
    int rc = ef_proof_read(file, &in, &in_len);
    if (rc) {
        fprintf(stderr, "edgefed proof verify: cannot read %s: %s\n", file, ef_strerror(rc));
        return 1;
    }
    rc = ef_proof_bytes(in, in_len, &p, &n);
    free(in);
    if (rc) {
        fprintf(stderr, "edgefed proof verify: %s: not a proof (bad hex): %s\n", file, ef_strerror(rc));
        return 1;
    }
    ef_keypair kp, *kpp = NULL;
    const char *keyfile = ef_cli_opt(argc, argv, "key", NULL);
    if (keyfile) {
        if ((rc = ef_key_load(&kp, keyfile))) {
            fprintf(stderr, "edgefed proof verify: cannot read key %s: %s\n", keyfile, ef_strerror(rc));
            free(p);
            return 1;
        }
        kpp = &kp;
    }
    ef_client *fed = NULL;
    if ((rc = ef_client_new(&fed, url, kpp, 0))) {
        fprintf(stderr, "edgefed proof verify: bad federation URL %s: %s\n", url, ef_strerror(rc));
        free(p);
        return 1;
    }
    ef_proof *pf = malloc(sizeof *pf);
    bool anchored = false;
    const char *why = "";
    rc = pf ? ef_proof_check_remote(fed, domain, pf, p, n, &anchored, &why) : EF_ENOMEM;
    ef_client_free(fed);
    if (rc) {
        fprintf(stderr, "edgefed proof verify: INVALID (%s): %s (%s)\n", why, ef_strerror(rc), ef_errname(rc));
        free(pf);
        free(p);
        return 1;
    }
    json_t *j = ef_proof_to_json(pf);
    json_object_set_new(j, "valid", json_true());
    json_object_set_new(j, "domain", json_string(domain));
    json_object_set_new(j, "trusted_by", json_string(anchored ? "checkpoint" : "certificate of the tracked committee"));
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (text) printf("%s\n", text);
    free(text);
    json_decref(j);
    free(pf);
    free(p);
    return 0;
}

static int ef_proof_get_cmd(int argc, char **argv)
{
    static const char *const opts[] = {"api=", "key=", "out=", NULL};
    int checked = ef_cli_check(argc, argv, ef_proof_usage, opts, 1);
    if (checked >= 0) return checked;
    const char *hash = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "--", 2)) {
            if (!strchr(argv[i], '=')) i++;
            continue;
        }
        hash = argv[i];
    }
    ef_hash h;
    if (!hash || strlen(hash) != 2 * EF_HASH_SIZE || ef_unhex(h.b, EF_HASH_SIZE, hash)) {
        fputs(ef_proof_usage, stderr);
        return 2;
    }
    ef_client *cl = NULL;
    if (ef_cli_api_client(&cl, argc, argv, "proof get")) return 1;
    char target[128];
    snprintf(target, sizeof target, "/proofs/tx/%s", hash);
    long status = 0;
    char *body = NULL;
    size_t len = 0;
    int rc = ef_client_request(cl, "GET", target, NULL, NULL, 0, &status, &body, &len);
    ef_client_free(cl);
    if (rc) {
        fprintf(stderr, "edgefed proof get: %s: %s\n", target, ef_strerror(rc));
        return 1;
    }
    if (status != 200) {
        ef_cli_print_body(stderr, body, len);
        fprintf(stderr, "edgefed proof get: HTTP %ld\n", status);
        free(body);
        return 1;
    }
    const char *out = ef_cli_opt(argc, argv, "out", NULL);
    FILE *f = out ? fopen(out, "wb") : stdout;
    if (!f) {
        fprintf(stderr, "edgefed proof get: cannot write %s: %s\n", out, strerror(errno));
        free(body);
        return 1;
    }
    bool ok = fwrite(body, 1, len, f) == len && fputc('\n', f) != EOF;
    if (out) ok = fclose(f) == 0 && ok;
    free(body);
    if (!ok) {
        fprintf(stderr, "edgefed proof get: write failed\n");
        return 1;
    }
    return 0;
}

int ef_cmd_proof(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "get")) return ef_proof_get_cmd(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "verify")) return ef_proof_verify_cmd(argc - 1, argv + 1);
    if (ef_cli_wants_help(argc, argv)) {
        fputs(ef_proof_usage, stdout);
        return 0;
    }
    if (argc >= 2) fprintf(stderr, "edgefed proof: unknown subcommand '%s'\n", argv[1]);
    fputs(ef_proof_usage, stderr);
    return 2;
}
