/* fuzz_nslice_args.c: libFuzzer target for the nslice contract's arguments.
 * Input: byte 0 picks the method (publish, request, reserve, activate, fail,
 * modify, readjust, lock, unlock, decommission, release), byte 1 the sender (the
 * domain administrator, the owner of instance "i1", another member), the rest
 * is the JSON args text, in which "$T" stands for the id of the published
 * template and "$B" for its canonical bytes (hex). Each input runs as a
 * committed transaction on an in-process domain ledger where the template is
 * published and "i1" is active; the result must be OK or a documented code, and
 * a refused call must leave "i1" and the templates as they were. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contracts/ef_nslice.h"
#include "../tests/unit/ef_test_slices.h"

#define FZ_RESET_EVERY 2000

static tc_chain fz_d;
static char fz_t[65], *fz_b;
static uint64_t fz_runs;
static bool fz_up;
static const char *const fz_methods[] = {"publish", "request", "reserve", "activate", "fail", "modify",
                                         "readjust", "lock", "unlock", "decommission", "release"};

static void fz_cleanup(void)
{
    if (!fz_up) return;
    tc_close(&fz_d);
    free(fz_b);
    fz_up = false;
}

static void fz_reset(void)
{
    static bool registered;
    if (!registered) registered = atexit(fz_cleanup) == 0;
    fz_cleanup();
    setenv("EF_TEST_TMP", "/tmp", 0);
    ef_keypair k;
    char hex[65];
    tc_key(&k, 1, 0xa1);
    ef_hex(hex, k.pub.b, EF_PUB_SIZE);
    tc_open(&fz_d, "fz-nslice", 4, 6, 0xa1, json_pack("{s:{s:s}}", "nslice", "admin", hex));
    ef_nslice_template t = {.kbps_min = 1000, .kbps_max = 20000, .max_latency_us = 30000};
    snprintf(t.name, sizeof t.name, "fz");
    ef_wr w;
    ef_wr_init(&w);
    EF_ASSERT(ef_nslice_template_encode(&w, &t) == 0);
    ef_hash id;
    ef_nslice_template_id(&id, w.buf, w.len);
    ef_hex(fz_t, id.b, EF_HASH_SIZE);
    fz_b = malloc(2 * w.len + 1);
    EF_ASSERT(fz_b);
    ef_hex(fz_b, w.buf, w.len);
    ef_wr_free(&w);
    EF_ASSERT(tc_tx(&fz_d, 0, "nslice", "publish", json_pack("{s:s, s:s}", "template", fz_b, "id", fz_t)) == 0);
    EF_ASSERT(tc_tx(&fz_d, 4, "nslice", "request",
                    json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "id", "i1", "template", fz_t, "ref", "e2e-1", "ap",
                              "cam1", "dst", "gw", "kbps", (json_int_t)4000)) == 0);
    EF_ASSERT(tc_tx(&fz_d, 0, "nslice", "reserve",
                    json_pack("{s:s, s:I, s:I, s:[s]}", "id", "i1", "version", (json_int_t)1, "kbps",
                              (json_int_t)4000, "path", "gw-cam1")) == 0);
    EF_ASSERT(tc_tx(&fz_d, 0, "nslice", "activate", json_pack("{s:s, s:I}", "id", "i1", "version", (json_int_t)1)) ==
              0);
    fz_up = true;
}

static char *fz_snapshot(void)
{
    json_t *i = NULL, *t = NULL;
    EF_ASSERT(ef_store_query(fz_d.s, "nslice", "instance/i1", &i) == 0);
    EF_ASSERT(ef_store_query(fz_d.s, "nslice", "templates", &t) == 0);
    json_t *j = json_pack("{s:o, s:o}", "i", i, "t", t);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int ok_codes[] = {0,           EF_EARGS,      EF_ENOTFOUND, EF_EEXIST, EF_EPERM,
                                   EF_ESTATE,   EF_ETEMPLATE,  EF_ENOTEMPLATE, EF_ENOTOWNER, EF_ELOCKED,
                                   EF_EBOUNDS,  EF_ENOMETHOD, EF_ELIMIT};
    if (size < 2) return 0;
    if (!fz_up || ++fz_runs % FZ_RESET_EVERY == 0) {
        EF_ASSERT(ef_crypto_init() == 0);
        fz_reset();
    }
    const char *method = fz_methods[data[0] % EF_ARRAY_LEN(fz_methods)];
    int who = data[1] % 3 == 0 ? 0 : data[1] % 3 == 1 ? 4 : 5;
    char *args = tc_expand(data + 2, size - 2, 'T', fz_t, 'B', fz_b);
    char *before = fz_snapshot();
    int rc = tc_tx_text(&fz_d, who, "nslice", method, args);
    if (rc != 1) {
        bool known = false;
        for (size_t i = 0; i < EF_ARRAY_LEN(ok_codes); i++) known |= rc == ok_codes[i];
        if (!known) {
            fprintf(stderr, "undocumented code %d (%s) for %s %s\n", rc, ef_errname(rc), method, args);
            abort();
        }
        if (rc != 0) {
            char *after = fz_snapshot();
            EF_ASSERT(!strcmp(before, after));
            free(after);
        } else {
            fz_runs = FZ_RESET_EVERY - 1;   /* something changed: start over next time */
        }
    }
    free(before);
    free(args);
    return 0;
}
