/* ef_codec.c: the canonical binary codec (see ef_codec.h for the wire rules). */
#include "ef_codec.h"

#include <stdlib.h>
#include <string.h>

void ef_wr_init(ef_wr *w)
{
    memset(w, 0, sizeof *w);
}

void ef_wr_free(ef_wr *w)
{
    free(w->buf);
    memset(w, 0, sizeof *w);
}

void ef_wr_reset(ef_wr *w)
{
    w->len = 0;
    w->err = 0;
}

static int ef_wr_reserve(ef_wr *w, size_t n)
{
    if (w->err) return w->err;
    if (n > SIZE_MAX - w->len || (w->max && w->len + n > w->max)) return w->err = EF_ETOOBIG;
    if (w->len + n <= w->cap) return 0;
    size_t cap = w->cap ? w->cap : 64;
    while (cap < w->len + n) cap *= 2;
    uint8_t *b = realloc(w->buf, cap);
    if (!b) return w->err = EF_ENOMEM;
    w->buf = b;
    w->cap = cap;
    return 0;
}

int ef_wr_raw(ef_wr *w, const void *p, size_t n)
{
    int rc = ef_wr_reserve(w, n);
    if (rc) return rc;
    if (n) memcpy(w->buf + w->len, p, n);
    w->len += n;
    return 0;
}

static int ef_wr_le(ef_wr *w, uint64_t v, int n)
{
    uint8_t b[8];
    for (int i = 0; i < n; i++) b[i] = (uint8_t)(v >> (8 * i));
    return ef_wr_raw(w, b, (size_t)n);
}

int ef_wr_u8(ef_wr *w, uint8_t v) { return ef_wr_le(w, v, 1); }
int ef_wr_u16(ef_wr *w, uint16_t v) { return ef_wr_le(w, v, 2); }
int ef_wr_u32(ef_wr *w, uint32_t v) { return ef_wr_le(w, v, 4); }
int ef_wr_u64(ef_wr *w, uint64_t v) { return ef_wr_le(w, v, 8); }
int ef_wr_i64(ef_wr *w, int64_t v) { return ef_wr_le(w, (uint64_t)v, 8); }
int ef_wr_bool(ef_wr *w, bool v) { return ef_wr_le(w, v ? 1 : 0, 1); }

int ef_wr_bytes(ef_wr *w, const void *p, size_t n)
{
    if (n > UINT32_MAX) return w->err ? w->err : (w->err = EF_ETOOBIG);
    int rc = ef_wr_u32(w, (uint32_t)n);
    return rc ? rc : ef_wr_raw(w, p, n);
}

int ef_wr_str(ef_wr *w, const char *s)
{
    return ef_wr_bytes(w, s, s ? strlen(s) : 0);
}

uint8_t *ef_wr_take(ef_wr *w, size_t *len_out)
{
    if (w->err) {
        *len_out = 0;
        return NULL;
    }
    uint8_t *b = w->buf;
    *len_out = w->len;
    if (!b) b = malloc(1);  /* an empty value is still a buffer to free */
    memset(w, 0, sizeof *w);
    return b;
}

void ef_rd_init(ef_rd *r, const void *p, size_t len)
{
    memset(r, 0, sizeof *r);
    r->p = p;
    r->len = len;
}

int ef_rd_fail(ef_rd *r, int err)
{
    if (!r->err) {
        r->err = err;
        r->err_off = r->off;
    }
    return r->err;
}

size_t ef_rd_left(const ef_rd *r)
{
    return r->len - r->off;
}

int ef_rd_raw(ef_rd *r, void *out, size_t n)
{
    if (r->err) return r->err;
    if (n > r->len - r->off) {
        if (out && n) memset(out, 0, n);
        return ef_rd_fail(r, EF_ETRUNC);
    }
    if (n) memcpy(out, r->p + r->off, n);
    r->off += n;
    return 0;
}

static int ef_rd_le(ef_rd *r, uint64_t *v, int n)
{
    uint8_t b[8];
    *v = 0;
    int rc = ef_rd_raw(r, b, (size_t)n);
    if (rc) return rc;
    for (int i = 0; i < n; i++) *v |= (uint64_t)b[i] << (8 * i);
    return 0;
}

int ef_rd_u8(ef_rd *r, uint8_t *v) { uint64_t x; int rc = ef_rd_le(r, &x, 1); *v = (uint8_t)x; return rc; }
int ef_rd_u16(ef_rd *r, uint16_t *v) { uint64_t x; int rc = ef_rd_le(r, &x, 2); *v = (uint16_t)x; return rc; }
int ef_rd_u32(ef_rd *r, uint32_t *v) { uint64_t x; int rc = ef_rd_le(r, &x, 4); *v = (uint32_t)x; return rc; }
int ef_rd_u64(ef_rd *r, uint64_t *v) { return ef_rd_le(r, v, 8); }
int ef_rd_i64(ef_rd *r, int64_t *v) { uint64_t x; int rc = ef_rd_le(r, &x, 8); *v = (int64_t)x; return rc; }

int ef_rd_bool(ef_rd *r, bool *v)
{
    uint64_t x;
    *v = false;
    int rc = ef_rd_le(r, &x, 1);
    if (rc) return rc;
    if (x > 1) {
        r->off--;
        return ef_rd_fail(r, EF_ENONCANON);
    }
    *v = x == 1;
    return 0;
}

int ef_rd_bytes(ef_rd *r, const uint8_t **p, size_t *n, size_t max)
{
    uint32_t len;
    *p = NULL;
    *n = 0;
    int rc = ef_rd_u32(r, &len);
    if (rc) return rc;
    if (len > max) {
        r->off -= 4;
        return ef_rd_fail(r, EF_ETOOBIG);
    }
    if (len > r->len - r->off) return ef_rd_fail(r, EF_ETRUNC);
    *p = r->p + r->off;
    *n = len;
    r->off += len;
    return 0;
}

int ef_rd_str(ef_rd *r, char *out, size_t cap)
{
    const uint8_t *p;
    size_t n;
    EF_ASSERT(cap > 0);
    out[0] = 0;
    int rc = ef_rd_bytes(r, &p, &n, cap - 1);
    if (rc) return rc;
    if (memchr(p, 0, n)) return ef_rd_fail(r, EF_ENONCANON);
    memcpy(out, p, n);
    out[n] = 0;
    return 0;
}

int ef_rd_finish(ef_rd *r)
{
    if (r->err) return r->err;
    if (r->off != r->len) return ef_rd_fail(r, EF_ETRAILING);
    return 0;
}

void ef_hex(char *out, const void *p, size_t n)
{
    static const char d[] = "0123456789abcdef";
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[b[i] >> 4];
        out[2 * i + 1] = d[b[i] & 15];
    }
    out[2 * n] = 0;
}

static int ef_hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int ef_unhex(void *out, size_t n, const char *hex)
{
    uint8_t *b = out;
    if (!hex || strlen(hex) != 2 * n) return EF_EINVAL;
    for (size_t i = 0; i < n; i++) {
        int hi = ef_hexval(hex[2 * i]), lo = ef_hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            memset(out, 0, n);
            return EF_EINVAL;
        }
        b[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}
