/* ef_genesis.c: reading and checking the genesis file (see ef_genesis.h). */
#include "ledger/ef_genesis.h"

#include <stdio.h>
#include <string.h>

#include "base/ef_cjson.h"
#include "base/ef_codec.h"
#include "base/ef_jcfg.h"
#include "ledger/ef_tx.h"

int ef_genesis_parse(ef_genesis *g, const char *text, size_t len, char *err, size_t err_len)
{
    json_error_t je;
    memset(g, 0, sizeof *g);
    if (err && err_len) err[0] = 0;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!doc) return ef_jcfg_fail(err, err_len, "genesis: line %d: %s", je.line, je.text);
    int rc = EF_ECONFIG;
    if (!json_is_object(doc)) {
        rc = ef_jcfg_fail(err, err_len, "genesis: not a JSON object");
        goto fail;
    }
    const char *key;
    json_t *v;
    static const char *const fields[] = {"chain_id", "time_ms", "validators", "members", "balances", "params", NULL};
    if (ef_args_only(doc, fields)) {
        json_object_foreach(doc, key, v) {
            bool ok = false;
            for (size_t i = 0; fields[i]; i++) ok |= !strcmp(key, fields[i]);
            if (!ok) break;
        }
        rc = ef_jcfg_fail(err, err_len, "genesis: unknown field \"%s\"", key);
        goto fail;
    }
    v = json_object_get(doc, "chain_id");
    if (!json_is_string(v) || !ef_chain_id_valid(json_string_value(v))) {
        rc = ef_jcfg_fail(err, err_len, "genesis: chain_id must be 1..%d of [A-Za-z0-9._-]", EF_CHAIN_ID_MAX);
        goto fail;
    }
    snprintf(g->chain_id, sizeof g->chain_id, "%s", json_string_value(v));
    v = json_object_get(doc, "time_ms");
    if (v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0) {
            rc = ef_jcfg_fail(err, err_len, "genesis: time_ms must be a non-negative integer");
            goto fail;
        }
        g->time_ms = (uint64_t)json_integer_value(v);
    }
    json_t *vals = json_object_get(doc, "validators");
    if (!json_is_array(vals) || json_array_size(vals) == 0 || json_array_size(vals) > EF_VSET_MAX) {
        rc = ef_jcfg_fail(err, err_len, "genesis: validators must be an array of 1..%d", EF_VSET_MAX);
        goto fail;
    }
    size_t i;
    json_array_foreach(vals, i, v) {
        ef_pub pub;
        json_t *p = json_object_get(v, "pub"), *pw = json_object_get(v, "power"),
               *d = json_object_get(v, "domain"), *r = json_object_get(v, "role");
        static const char *const vf[] = {"pub", "power", "domain", "role", NULL};
        if (!json_is_object(v) || ef_args_only(v, vf) || !json_is_string(p) ||
            ef_unhex(pub.b, EF_PUB_SIZE, json_string_value(p))) {
            rc = ef_jcfg_fail(err, err_len, "genesis: validators[%zu]: needs \"pub\" (64 hex digits)", i);
            goto fail;
        }
        if (!json_is_string(d) || json_string_length(d) == 0 || json_string_length(d) > 32) {
            rc = ef_jcfg_fail(err, err_len, "genesis: validators[%zu]: needs \"domain\" (1..32 chars)", i);
            goto fail;
        }
        if (r && (!json_is_string(r) || (strcmp(json_string_value(r), "validator") &&
                                         strcmp(json_string_value(r), "regulator")))) {
            rc = ef_jcfg_fail(err, err_len, "genesis: validators[%zu]: role is validator or regulator", i);
            goto fail;
        }
        uint64_t power = 1;
        if (pw) {
            if (!json_is_integer(pw) || json_integer_value(pw) < 1) {
                rc = ef_jcfg_fail(err, err_len, "genesis: validators[%zu]: power must be >= 1", i);
                goto fail;
            }
            power = (uint64_t)json_integer_value(pw);
        }
        int arc = ef_vset_add(&g->vset, &pub, power);
        if (arc) {
            rc = ef_jcfg_fail(err, err_len, "genesis: validators[%zu]: %s", i, ef_strerror(arc));
            goto fail;
        }
    }
    json_t *bal = json_object_get(doc, "balances");
    if (bal) {
        if (!json_is_object(bal)) {
            rc = ef_jcfg_fail(err, err_len, "genesis: balances must be an object");
            goto fail;
        }
        json_object_foreach(bal, key, v) {
            ef_pub pub;
            if (ef_unhex(pub.b, EF_PUB_SIZE, key) || !json_is_integer(v) || json_integer_value(v) < 0) {
                rc = ef_jcfg_fail(err, err_len, "genesis: balances: \"%s\" must be a key (64 hex) with an amount >= 0", key);
                goto fail;
            }
        }
    }
    json_t *mem = json_object_get(doc, "members");
    if (mem && !json_is_array(mem)) {
        rc = ef_jcfg_fail(err, err_len, "genesis: members must be an array");
        goto fail;
    }
    json_array_foreach(mem, i, v) {
        ef_pub pub;
        json_t *p = json_object_get(v, "pub"), *d = json_object_get(v, "domain"), *n = json_object_get(v, "name");
        static const char *const mf[] = {"pub", "domain", "name", NULL};
        if (!json_is_object(v) || ef_args_only(v, mf) || !json_is_string(p) ||
            ef_unhex(pub.b, EF_PUB_SIZE, json_string_value(p)) || !json_is_string(d) ||
            json_string_length(d) == 0 || json_string_length(d) > 32 || (n && !json_is_string(n))) {
            rc = ef_jcfg_fail(err, err_len, "genesis: members[%zu]: needs \"pub\" and \"domain\" (1..32), "
                                 "optional \"name\"", i);
            goto fail;
        }
        bool dup = ef_vset_index(&g->vset, &pub) >= 0;
        for (size_t j = 0; j < i && !dup; j++)
            dup = !strcmp(json_string_value(json_object_get(json_array_get(mem, j), "pub")), json_string_value(p));
        if (dup) {
            rc = ef_jcfg_fail(err, err_len, "genesis: members[%zu]: account listed twice", i);
            goto fail;
        }
    }
    json_t *params = json_object_get(doc, "params");
    if (params && !json_is_object(params)) {
        rc = ef_jcfg_fail(err, err_len, "genesis: params must be an object");
        goto fail;
    }
    /* the document is identified by its canonical encoding (ef_store.h "gdoc") */
    ef_wr w;
    ef_wr_init(&w);
    int crc = ef_cj_encode(&w, doc);
    ef_wr_free(&w);
    if (crc) {
        rc = crc == EF_ENOMEM ? crc
                              : ef_jcfg_fail(err, err_len, "genesis: real numbers, invalid UTF-8 or nesting "
                                                           "deeper than %d are not allowed", EF_CJ_DEPTH_MAX);
        goto fail;
    }
    g->doc = doc;
    return 0;
fail:
    json_decref(doc);
    memset(g, 0, sizeof *g);
    return rc;
}

int ef_genesis_load(ef_genesis *g, const char *path, char *err, size_t err_len)
{
    memset(g, 0, sizeof *g);
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (err && err_len) snprintf(err, err_len, "genesis: cannot open %s", path);
        return EF_EIO;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 > cap) {
            cap = cap ? cap * 2 : 65536;
            if (cap > (64u << 20)) {
                free(buf);
                fclose(f);
                return ef_jcfg_fail(err, err_len, "genesis: file too large");
            }
            char *b = realloc(buf, cap);
            if (!b) {
                free(buf);
                fclose(f);
                return EF_ENOMEM;
            }
            buf = b;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return EF_EIO;
    }
    int rc = ef_genesis_parse(g, buf, len, err, err_len);
    free(buf);
    return rc;
}

void ef_genesis_free(ef_genesis *g)
{
    json_decref(g->doc);
    memset(g, 0, sizeof *g);
}

json_t *ef_genesis_params(const ef_genesis *g, const char *name, const char *const *fields)
{
    json_t *params = json_object_get(json_object_get(g->doc, "params"), name);
    json_t *out = params ? json_deep_copy(params) : NULL;
    for (size_t i = 0; fields && fields[i]; i++) {
        json_t *v = json_object_get(g->doc, fields[i]);
        if (!v) continue;
        if (!out) out = json_object();
        if (json_is_object(out)) json_object_set_new(out, fields[i], json_deep_copy(v));
    }
    return out;
}
