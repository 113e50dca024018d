/* ef_cjson.h: the canonical binary encoding of a JSON value (a jansson tree), the
 * bytes edgefed hashes wherever a JSON value is consensus-critical (contract state,
 * transaction events, the genesis document). JSON text is never hashed: another
 * jansson version or build could print one value differently and fork the chain.
 *
 * Encoding (built from the rules of ef_codec.h; one value has exactly one form):
 *
 *   value     bytes                         meaning
 *   null      u8 0x00
 *   false     u8 0x01
 *   true      u8 0x02
 *   integer   u8 0x03, i64                  -2^63..2^63-1, little-endian
 *   string    u8 0x04, u32 n, n bytes       UTF-8 (RFC 3629: no overlong forms, no
 *                                           surrogates, <= U+10FFFF); NUL allowed
 *   array     u8 0x05, u32 n, n values      in order
 *   object    u8 0x06, u32 n, n pairs       pair = u32 k, k bytes of key (UTF-8, no
 *                                           NUL), value; keys strictly increasing
 *                                           in byte order (memcmp, a prefix first),
 *                                           so no key twice
 *
 * Refused (EF_EINVAL from the encoder, so a value that has no canonical form never
 * reaches a hash): reals (JSON numbers with a fraction or exponent; their text
 * form is not fixed and they are not needed: amounts are integers), strings or
 * keys that are not valid UTF-8, keys holding NUL, and nesting deeper than
 * EF_CJ_DEPTH_MAX (a scalar at the top is depth 0, each array or object adds 1).
 *
 * The decoder accepts exactly what the encoder writes: an unknown tag or invalid
 * UTF-8 is EF_EINVAL, keys out of order or repeated EF_ENONCANON, nesting over
 * EF_CJ_DEPTH_MAX or a count larger than the bytes left EF_ETOOBIG, a short input
 * EF_ETRUNC, bytes after the value EF_ETRAILING (ef_cj_decode only); the reader
 * records where. decode(encode(v)) equals v, and encode(decode(b)) is b.
 *
 * Threading: pure functions of their arguments. Ownership: ef_cj_decode's *out is a
 * new reference (json_decref), NULL on failure.
 */
#ifndef EF_CJSON_H
#define EF_CJSON_H

#include <jansson.h>
#include <stddef.h>

#include "ef_codec.h"

#define EF_CJ_DEPTH_MAX 32

enum {
    EF_CJ_NULL = 0x00,
    EF_CJ_FALSE = 0x01,
    EF_CJ_TRUE = 0x02,
    EF_CJ_INT = 0x03,
    EF_CJ_STRING = 0x04,
    EF_CJ_ARRAY = 0x05,
    EF_CJ_OBJECT = 0x06,
};

/* Appends the canonical encoding of v to w. Returns 0, EF_EINVAL (v has no
 * canonical form, see above; w is left in error), or the writer's error
 * (EF_ENOMEM, EF_ETOOBIG past w->max). */
int ef_cj_encode(ef_wr *w, const json_t *v) __attribute__((warn_unused_result));
/* Reads one value from r (no finish). Returns 0 and *out, or an error (*out NULL). */
int ef_cj_decode_rd(ef_rd *r, json_t **out) __attribute__((warn_unused_result));
/* Decodes a value occupying exactly p[0..n). */
int ef_cj_decode(json_t **out, const void *p, size_t n) __attribute__((warn_unused_result));
/* true if p[0..n) is valid UTF-8 (RFC 3629). */
bool ef_utf8_valid(const void *p, size_t n);

#endif
