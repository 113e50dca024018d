/* ef_jcfg.c: reading the fields of a JSON configuration object; see ef_jcfg.h. */
#include "base/ef_jcfg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

_Static_assert(sizeof(json_int_t) == sizeof(int64_t), "EF_JCFG_INT_MAX is json_int_t's maximum");

int ef_jcfg_fail(char *err, size_t err_cap, const char *fmt, ...)
{
    if (err && err_cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_cap, fmt, ap);
        va_end(ap);
    }
    return EF_ECONFIG;
}

/* The field, or NULL if missing: then 0 (optional) or EF_ECONFIG in *rc. */
static const json_t *ef_jcfg_get(const json_t *o, const char *name, bool required, char *err, size_t err_cap,
                                 int *rc)
{
    const json_t *v = json_object_get(o, name);
    *rc = v || !required ? 0 : ef_jcfg_fail(err, err_cap, "%s: missing", name);
    return v;
}

int ef_jcfg_str(const json_t *o, const char *name, bool required, char *out, size_t cap, char *err,
                size_t err_cap)
{
    EF_ASSERT(out && cap > 0);
    int rc;
    const json_t *v = ef_jcfg_get(o, name, required, err, err_cap, &rc);
    if (!v) return rc;
    if (!json_is_string(v) || strlen(json_string_value(v)) >= cap)
        return ef_jcfg_fail(err, err_cap, "%s: not a string of at most %zu bytes", name, cap - 1);
    snprintf(out, cap, "%s", json_string_value(v));
    return 0;
}

/* An integer in lo..hi into *out (*found: it was there), else as ef_jcfg_u64. */
static int ef_jcfg_int(const json_t *o, const char *name, bool required, uint64_t lo, uint64_t hi,
                       uint64_t *out, bool *found, char *err, size_t err_cap)
{
    EF_ASSERT(lo <= hi);
    *found = false;
    int rc;
    const json_t *v = ef_jcfg_get(o, name, required, err, err_cap, &rc);
    if (!v) return rc;
    json_int_t i = json_integer_value(v);
    if (!json_is_integer(v) || i < 0 || (uint64_t)i < lo || (uint64_t)i > hi)
        return ef_jcfg_fail(err, err_cap, "%s: not an integer in %llu..%llu", name, (unsigned long long)lo,
                            (unsigned long long)hi);
    *out = (uint64_t)i;
    *found = true;
    return 0;
}

int ef_jcfg_u64(const json_t *o, const char *name, bool required, uint64_t lo, uint64_t hi, uint64_t *out,
                char *err, size_t err_cap)
{
    EF_ASSERT(out);
    bool found;
    return ef_jcfg_int(o, name, required, lo, hi, out, &found, err, err_cap);
}

int ef_jcfg_u32(const json_t *o, const char *name, bool required, uint32_t lo, uint32_t hi, uint32_t *out,
                char *err, size_t err_cap)
{
    EF_ASSERT(out);
    uint64_t v;
    bool found;
    int rc = ef_jcfg_int(o, name, required, lo, hi, &v, &found, err, err_cap);
    if (found) *out = (uint32_t)v;
    return rc;
}

int ef_jcfg_size(const json_t *o, const char *name, bool required, size_t lo, size_t hi, size_t *out,
                 char *err, size_t err_cap)
{
    EF_ASSERT(out);
    uint64_t v;
    bool found;
    int rc = ef_jcfg_int(o, name, required, lo, hi, &v, &found, err, err_cap);
    if (found) *out = (size_t)v;
    return rc;
}

int ef_jcfg_bool(const json_t *o, const char *name, bool required, bool *out, char *err, size_t err_cap)
{
    EF_ASSERT(out);
    int rc;
    const json_t *v = ef_jcfg_get(o, name, required, err, err_cap, &rc);
    if (!v) return rc;
    if (!json_is_boolean(v)) return ef_jcfg_fail(err, err_cap, "%s: not a boolean", name);
    *out = json_is_true(v);
    return 0;
}

int ef_jcfg_only(const json_t *o, const char *const *names, char *err, size_t err_cap)
{
    if (!json_is_object(o)) return ef_jcfg_fail(err, err_cap, "not an object");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v) {
        size_t i = 0;
        while (names[i] && strcmp(key, names[i])) i++;
        if (!names[i]) return ef_jcfg_fail(err, err_cap, "unknown field \"%s\"", key);
    }
    return 0;
}
