/* ef_codec.h: the canonical binary codec. One value has exactly one encoding.
 *
 * Wire rules (every on-disk and on-wire structure of edgefed is built from these):
 *
 *   type      size        meaning
 *   u8        1           unsigned byte
 *   u16       2           little-endian unsigned
 *   u32       4           little-endian unsigned
 *   u64       8           little-endian unsigned
 *   i64       8           little-endian two's complement
 *   bool      1           0 or 1; any other byte is rejected (EF_ENONCANON)
 *   raw[N]    N           fixed-size bytes (hashes, keys, signatures)
 *   bytes     4 + n       u32 length n, then n bytes; n is checked against a
 *                         maximum given by the caller (EF_ETOOBIG)
 *   str       4 + n       as bytes, and must be valid for the caller's charset
 *
 * There are no optional fields, varints or alternative forms, so hashing and
 * signing an encoding is stable. JSON values that are hashed are encoded from
 * these rules too (ef_cjson.h), never hashed as JSON text. A decoder must end with ef_rd_finish(), which
 * rejects trailing bytes (EF_ETRAILING).
 *
 * Errors are sticky: after the first failure every further call is a no-op that
 * returns the same error, and the reader records the offset where it happened.
 */
#ifndef EF_CODEC_H
#define EF_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ef_err.h"

/* A growable writer. Owns buf; after ef_wr_free() buf is NULL. */
typedef struct ef_wr {
    uint8_t *buf;
    size_t len;
    size_t cap;
    size_t max;   /* 0 = unlimited; else writing past it fails with EF_ETOOBIG */
    int err;
} ef_wr;

void ef_wr_init(ef_wr *w);
void ef_wr_free(ef_wr *w);
void ef_wr_reset(ef_wr *w);                 /* len = 0, err = 0; keeps the buffer */
int ef_wr_u8(ef_wr *w, uint8_t v);
int ef_wr_u16(ef_wr *w, uint16_t v);
int ef_wr_u32(ef_wr *w, uint32_t v);
int ef_wr_u64(ef_wr *w, uint64_t v);
int ef_wr_i64(ef_wr *w, int64_t v);
int ef_wr_bool(ef_wr *w, bool v);
int ef_wr_raw(ef_wr *w, const void *p, size_t n);
int ef_wr_bytes(ef_wr *w, const void *p, size_t n);  /* u32 length + bytes */
int ef_wr_str(ef_wr *w, const char *s);              /* as bytes, strlen(s) */
/* Hands the buffer to the caller (who frees it with free()); the writer is reset
 * to empty. Returns NULL if the writer is in error. */
uint8_t *ef_wr_take(ef_wr *w, size_t *len_out);

/* A bounds-checked reader over a borrowed buffer. */
typedef struct ef_rd {
    const uint8_t *p;
    size_t len;
    size_t off;
    int err;
    size_t err_off;  /* offset at which err was first recorded */
} ef_rd;

void ef_rd_init(ef_rd *r, const void *p, size_t len);
int ef_rd_u8(ef_rd *r, uint8_t *v);
int ef_rd_u16(ef_rd *r, uint16_t *v);
int ef_rd_u32(ef_rd *r, uint32_t *v);
int ef_rd_u64(ef_rd *r, uint64_t *v);
int ef_rd_i64(ef_rd *r, int64_t *v);
int ef_rd_bool(ef_rd *r, bool *v);
int ef_rd_raw(ef_rd *r, void *out, size_t n);
/* Borrows: *p points into the reader's buffer. Length must be <= max. */
int ef_rd_bytes(ef_rd *r, const uint8_t **p, size_t *n, size_t max);
/* Copies into out (cap bytes including the NUL); rejects embedded NULs and
 * lengths >= cap. */
int ef_rd_str(ef_rd *r, char *out, size_t cap);
/* Fails with EF_ETRAILING if bytes remain; returns the sticky error otherwise. */
int ef_rd_finish(ef_rd *r);
size_t ef_rd_left(const ef_rd *r);
/* Records err at the current offset (if no error yet) and returns the error. */
int ef_rd_fail(ef_rd *r, int err);

/* Hex helpers: out must have 2n+1 bytes. ef_unhex returns 0 or EF_EINVAL and
 * requires exactly 2n hex digits. */
void ef_hex(char *out, const void *p, size_t n);
int ef_unhex(void *out, size_t n, const char *hex);

static inline void ef_put_u32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline uint32_t ef_get_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void ef_put_u64le(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint64_t ef_get_u64le(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}
/* Big-endian, for keys that must sort in numeric order (LMDB compares bytes). */
static inline void ef_put_u32be(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (24 - 8 * i));
}
static inline void ef_put_u64be(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (56 - 8 * i));
}
static inline uint64_t ef_get_u64be(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | p[i];
    return v;
}

#endif
