/* fuzz_e2e_args.c: libFuzzer target for the e2e contract's arguments. Input:
 * byte 0 picks the method (request, claim, readjust, decommission), byte 1 the
 * sender (a federation validator, the owner of slice "s1", another member), the
 * rest is the JSON args text, in which placeholders stand for real proofs so
 * that the fuzzer gets past the proof decoder and the anchor: "$P" the proof
 * (with certificate) of domain "da"'s activation of part a of "s1", "$Q" the
 * proof of its request transaction (the wrong event). Each input runs as a
 * committed transaction on an in-process federation ledger where "da" and "db"
 * are registered; the result must be OK or one of the contract's documented
 * codes, and a refused call must leave "s1" as it was. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contracts/ef_nslice.h"
#include "../tests/unit/ef_test_slices.h"

#define FZ_RESET_EVERY 2000

static tc_chain fz_f, fz_a, fz_b;
static char *fz_p, *fz_q;
static uint64_t fz_runs;
static bool fz_up;
static const char *const fz_methods[] = {"request", "claim", "readjust", "decommission"};

static void fz_register(tc_chain *f, tc_chain *d, const char *name)
{
    ef_store_info info;
    ef_vset vs;
    EF_ASSERT(ef_store_info_get(d->s, &info) == 0 && ef_store_vset(d->s, 1, &vs) == 0);
    ef_wr w;
    ef_wr_init(&w);
    EF_ASSERT(ef_vset_encode(&w, &vs) == 0);
    EF_ASSERT(tc_tx(f, 0, "anchor", "register_domain",
                    json_pack("{s:s, s:s, s:o, s:o, s:o}", "name", name, "chain_id", info.chain_id, "genesis_hash",
                              tc_hexj(info.genesis_hash.b, EF_HASH_SIZE), "committee", tc_hexj(w.buf, w.len),
                              "admin", tc_hexj(f->kp[0].pub.b, EF_PUB_SIZE))) == 0);
    ef_wr_free(&w);
}

static char *fz_proof(tc_chain *d, const ef_hash *h)
{
    uint8_t *p;
    size_t n;
    EF_ASSERT(ef_proof_build(d->s, h, true, &p, &n) == 0);
    char *x = malloc(2 * n + 1);
    EF_ASSERT(x);
    ef_hex(x, p, n);
    free(p);
    return x;
}

static void fz_domain(tc_chain *d, const char *chain, uint8_t tag, bool proofs)
{
    ef_keypair k;
    char hex[65];
    tc_key(&k, 1, tag);
    ef_hex(hex, k.pub.b, EF_PUB_SIZE);
    tc_open(d, chain, 4, 5, tag, json_pack("{s:{s:s}}", "nslice", "admin", hex));
    if (!proofs) return;
    ef_nslice_template t = {.kbps_min = 1000, .kbps_max = 20000, .max_latency_us = 30000};
    snprintf(t.name, sizeof t.name, "fz");
    ef_wr w;
    ef_wr_init(&w);
    EF_ASSERT(ef_nslice_template_encode(&w, &t) == 0);
    ef_hash id, rq, act;
    ef_nslice_template_id(&id, w.buf, w.len);
    EF_ASSERT(tc_tx(d, 0, "nslice", "publish",
                    json_pack("{s:o, s:o}", "template", tc_hexj(w.buf, w.len), "id", tc_hexj(id.b, 32))) == 0);
    ef_wr_free(&w);
    EF_ASSERT(tc_tx(d, 4, "nslice", "request",
                    json_pack("{s:s, s:o, s:s, s:s, s:s, s:I}", "id", "pa", "template", tc_hexj(id.b, 32), "ref",
                              "s1", "ap", "cam1", "dst", "gw", "kbps", (json_int_t)4000)) == 0);
    rq = d->last_tx;
    EF_ASSERT(tc_tx(d, 0, "nslice", "reserve",
                    json_pack("{s:s, s:I, s:I, s:[s]}", "id", "pa", "version", (json_int_t)1, "kbps",
                              (json_int_t)4000, "path", "gw-cam1")) == 0);
    EF_ASSERT(tc_tx(d, 0, "nslice", "activate", json_pack("{s:s, s:I}", "id", "pa", "version", (json_int_t)1)) == 0);
    act = d->last_tx;
    fz_p = fz_proof(d, &act);
    fz_q = fz_proof(d, &rq);
}

static void fz_cleanup(void)
{
    if (!fz_up) return;
    tc_close(&fz_f);
    tc_close(&fz_a);
    tc_close(&fz_b);
    free(fz_p);
    free(fz_q);
    fz_up = false;
}

static void fz_reset(void)
{
    static bool registered;
    if (!registered) registered = atexit(fz_cleanup) == 0;
    fz_cleanup();
    setenv("EF_TEST_TMP", "/tmp", 0);
    tc_open(&fz_f, "fz-fed", 3, 5, 0x91, NULL);
    fz_domain(&fz_a, "fz-da", 0x92, true);
    fz_domain(&fz_b, "fz-db", 0x93, false);
    fz_register(&fz_f, &fz_a, "da");
    fz_register(&fz_f, &fz_b, "db");
    EF_ASSERT(tc_tx(&fz_f, 3, "e2e", "request",
                    json_pack("{s:s, s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s}, s:I, s:I}", "id", "s1", "a", "domain",
                              "da", "ap", "cam1", "dst", "gw", "owner", fz_a.hex[4], "b", "domain", "db", "ap", "gw", "dst", "srv", "owner", fz_b.hex[4], "kbps",
                              (json_int_t)4000, "max_latency_us", (json_int_t)50000)) == 0);
    fz_up = true;
}

static char *fz_slice(void)
{
    json_t *d = NULL;
    if (ef_store_query(fz_f.s, "e2e", "slice/s1", &d)) return NULL;
    char *t = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(d);
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int ok_codes[] = {0, EF_EARGS, EF_ENOTFOUND, EF_EEXIST, EF_EPERM, EF_ESTATE, EF_ECHAIN,
                                   EF_EUNANCHORED, EF_EPROOF, EF_EFROZEN, EF_ETRUNC, EF_ETRAILING, EF_ETOOBIG,
                                   EF_EINVAL, EF_ENONCANON, EF_EBADSIG, EF_ECERT, EF_EHEIGHT, EF_EEVENT, EF_EREF,
                                   EF_EDUP, EF_EBOUNDS, EF_ENOMETHOD};
    if (size < 2) return 0;
    if (!fz_up || ++fz_runs % FZ_RESET_EVERY == 0) {
        EF_ASSERT(ef_crypto_init() == 0);
        fz_reset();
    }
    const char *method = fz_methods[data[0] % EF_ARRAY_LEN(fz_methods)];
    int who = data[1] % 3 == 0 ? 0 : data[1] % 3 == 1 ? 3 : 4;
    char *args = tc_expand(data + 2, size - 2, 'P', fz_p, 'Q', fz_q);
    char *before = fz_slice();
    int rc = tc_tx_text(&fz_f, who, "e2e", method, args);
    if (rc != 1) {
        bool known = false;
        for (size_t i = 0; i < EF_ARRAY_LEN(ok_codes); i++) known |= rc == ok_codes[i];
        if (!known) {
            fprintf(stderr, "undocumented code %d (%s) for %s %s\n", rc, ef_errname(rc), method, args);
            abort();
        }
        if (rc != 0) {
            char *after = fz_slice();
            EF_ASSERT((!before && !after) || (before && after && !strcmp(before, after)));
            free(after);
        } else if (strcmp(method, "request")) {
            fz_runs = FZ_RESET_EVERY - 1;   /* s1 changed: start over next time */
        }
    }
    free(before);
    free(args);
    return 0;
}
