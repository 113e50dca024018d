/* ef_cjson.c: the canonical binary encoding of JSON values (see ef_cjson.h). */
#include "ef_cjson.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(json_int_t) == 8, "JSON integers are 64-bit in the canonical encoding");

bool ef_utf8_valid(const void *p, size_t n)
{
    const uint8_t *s = p;
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t len;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2; cp = c & 0x1f; min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3; cp = c & 0x0f; min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4; cp = c & 0x07; min = 0x10000;
        } else {
            return false;
        }
        if (len > n - i) return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += len;
    }
    return true;
}

typedef struct ef_cj_pair {
    const char *key;
    size_t key_len;
    json_t *val;
} ef_cj_pair;

static int ef_cj_key_cmp(const void *a, const void *b)
{
    const ef_cj_pair *x = a, *y = b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    if (c) return c;
    return x->key_len < y->key_len ? -1 : x->key_len > y->key_len;
}

static int ef_cj_fail(ef_wr *w, int err)
{
    if (!w->err) w->err = err;
    return w->err;
}

static int ef_cj_enc(ef_wr *w, const json_t *v, int depth)
{
    if (w->err) return w->err;
    if (!v) return ef_cj_fail(w, EF_EINVAL);
    switch (json_typeof(v)) {
    case JSON_NULL: return ef_wr_u8(w, EF_CJ_NULL);
    case JSON_FALSE: return ef_wr_u8(w, EF_CJ_FALSE);
    case JSON_TRUE: return ef_wr_u8(w, EF_CJ_TRUE);
    case JSON_INTEGER:
        ef_wr_u8(w, EF_CJ_INT);
        return ef_wr_i64(w, (int64_t)json_integer_value(v));
    case JSON_STRING: {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (!ef_utf8_valid(s, n)) return ef_cj_fail(w, EF_EINVAL);
        ef_wr_u8(w, EF_CJ_STRING);
        return ef_wr_bytes(w, s, n);
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        if (depth >= EF_CJ_DEPTH_MAX || n > UINT32_MAX) return ef_cj_fail(w, EF_EINVAL);
        ef_wr_u8(w, EF_CJ_ARRAY);
        ef_wr_u32(w, (uint32_t)n);
        for (size_t i = 0; i < n && !w->err; i++) ef_cj_enc(w, json_array_get(v, i), depth + 1);
        return w->err;
    }
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        if (depth >= EF_CJ_DEPTH_MAX || n > UINT32_MAX) return ef_cj_fail(w, EF_EINVAL);
        ef_cj_pair *pairs = malloc((n ? n : 1) * sizeof *pairs);
        if (!pairs) return ef_cj_fail(w, EF_ENOMEM);
        /* iteration does not change the object; jansson's iterator API is not const */
        json_t *o = (json_t *)v;
        for (void *it = json_object_iter(o); it && i < n; it = json_object_iter_next(o, it), i++) {
            pairs[i].key = json_object_iter_key(it);
            pairs[i].key_len = json_object_iter_key_len(it);
            pairs[i].val = json_object_iter_value(it);
            if (memchr(pairs[i].key, 0, pairs[i].key_len) ||
                !ef_utf8_valid(pairs[i].key, pairs[i].key_len)) {
                free(pairs);
                return ef_cj_fail(w, EF_EINVAL);
            }
        }
        EF_ASSERT(i == n);
        qsort(pairs, n, sizeof *pairs, ef_cj_key_cmp);
        ef_wr_u8(w, EF_CJ_OBJECT);
        ef_wr_u32(w, (uint32_t)n);
        for (i = 0; i < n && !w->err; i++) {
            ef_wr_bytes(w, pairs[i].key, pairs[i].key_len);
            ef_cj_enc(w, pairs[i].val, depth + 1);
        }
        free(pairs);
        return w->err;
    }
    case JSON_REAL:
    default:
        return ef_cj_fail(w, EF_EINVAL);
    }
}

int ef_cj_encode(ef_wr *w, const json_t *v)
{
    return ef_cj_enc(w, v, 0);
}

static int ef_cj_dec(ef_rd *r, json_t **out, int depth)
{
    uint8_t tag;
    *out = NULL;
    size_t at = r->off;
    int rc = ef_rd_u8(r, &tag);
    if (rc) return rc;
    switch (tag) {
    case EF_CJ_NULL: *out = json_null(); return 0;
    case EF_CJ_FALSE: *out = json_false(); return 0;
    case EF_CJ_TRUE: *out = json_true(); return 0;
    case EF_CJ_INT: {
        int64_t x;
        if ((rc = ef_rd_i64(r, &x))) return rc;
        *out = json_integer((json_int_t)x);
        return *out ? 0 : ef_rd_fail(r, EF_ENOMEM);
    }
    case EF_CJ_STRING: {
        const uint8_t *p;
        size_t n;
        if ((rc = ef_rd_bytes(r, &p, &n, UINT32_MAX))) return rc;
        if (!ef_utf8_valid(p, n)) {
            r->off -= 4 + n;
            return ef_rd_fail(r, EF_EINVAL);
        }
        *out = json_stringn_nocheck((const char *)p, n);
        return *out ? 0 : ef_rd_fail(r, EF_ENOMEM);
    }
    case EF_CJ_ARRAY:
    case EF_CJ_OBJECT: {
        uint32_t n;
        if (depth >= EF_CJ_DEPTH_MAX) {
            r->off = at;
            return ef_rd_fail(r, EF_ETOOBIG);
        }
        if ((rc = ef_rd_u32(r, &n))) return rc;
        /* every element takes at least 1 byte, every pair at least 5 */
        if ((uint64_t)n * (tag == EF_CJ_ARRAY ? 1 : 5) > ef_rd_left(r)) {
            r->off -= 4;
            return ef_rd_fail(r, EF_ETOOBIG);
        }
        json_t *c = tag == EF_CJ_ARRAY ? json_array() : json_object();
        if (!c) return ef_rd_fail(r, EF_ENOMEM);
        const uint8_t *prev = NULL;
        size_t prev_len = 0;
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *k = NULL;
            size_t kn = 0;
            if (tag == EF_CJ_OBJECT) {
                size_t kat = r->off;
                if ((rc = ef_rd_bytes(r, &k, &kn, UINT32_MAX))) goto bad;
                if (memchr(k, 0, kn) || !ef_utf8_valid(k, kn)) {
                    r->off = kat;
                    rc = ef_rd_fail(r, EF_EINVAL);
                    goto bad;
                }
                ef_cj_pair a = {(const char *)prev, prev_len, NULL}, b = {(const char *)k, kn, NULL};
                if (prev && ef_cj_key_cmp(&a, &b) >= 0) {
                    r->off = kat;
                    rc = ef_rd_fail(r, EF_ENONCANON);
                    goto bad;
                }
                prev = k;
                prev_len = kn;
            }
            json_t *e;
            if ((rc = ef_cj_dec(r, &e, depth + 1))) goto bad;
            int sr = tag == EF_CJ_ARRAY ? json_array_append_new(c, e)
                                        : json_object_setn_new_nocheck(c, (const char *)k, kn, e);
            if (sr) {
                rc = ef_rd_fail(r, EF_ENOMEM);
                goto bad;
            }
        }
        *out = c;
        return 0;
    bad:
        json_decref(c);
        return rc;
    }
    default:
        r->off = at;
        return ef_rd_fail(r, EF_EINVAL);
    }
}

int ef_cj_decode_rd(ef_rd *r, json_t **out)
{
    *out = NULL;
    if (r->err) return r->err;
    return ef_cj_dec(r, out, 0);
}

int ef_cj_decode(json_t **out, const void *p, size_t n)
{
    ef_rd r;
    ef_rd_init(&r, p, n);
    int rc = ef_cj_decode_rd(&r, out);
    if (rc == 0) rc = ef_rd_finish(&r);
    if (rc) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}
