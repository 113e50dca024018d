/* ef_jcfg.h: the fields of a JSON configuration object (jansson): strings, ranged integers, booleans, known names.
 *
 * Every reader looks up field `name` of o (borrowed; NULL or a non-object has
 * no fields) and returns:
 *   0           the field was read into *out, or it is missing and optional
 *               (then *out is untouched: the caller's default stays);
 *   EF_ECONFIG  it is missing and required, of the wrong type, or out of
 *               range; *out is untouched, and the reason, e.g.
 *               `port: not an integer in 1..65535`, goes to err (err_cap bytes,
 *               NUL-terminated, truncated if need be) unless err is NULL.
 * Integers are JSON integers (a JSON real such as 1.0 is the wrong type);
 * ranges are inclusive. Strings are copied as C strings (up to a NUL they may
 * hold); one of cap bytes or more (NUL included) is too long.
 *
 * Threading: pure functions of their arguments.
 */
#ifndef EF_JCFG_H
#define EF_JCFG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/ef_err.h"

#define EF_JCFG_INT_MAX ((uint64_t)INT64_MAX)  /* the largest integer a JSON document gives */
#define EF_JCFG_REASON_MAX 128                 /* an err buffer that holds every reason */

int ef_jcfg_str(const json_t *o, const char *name, bool required, char *out, size_t cap, char *err,
                size_t err_cap) EF_MUST_USE;
int ef_jcfg_u64(const json_t *o, const char *name, bool required, uint64_t lo, uint64_t hi, uint64_t *out,
                char *err, size_t err_cap) EF_MUST_USE;
int ef_jcfg_u32(const json_t *o, const char *name, bool required, uint32_t lo, uint32_t hi, uint32_t *out,
                char *err, size_t err_cap) EF_MUST_USE;
int ef_jcfg_size(const json_t *o, const char *name, bool required, size_t lo, size_t hi, size_t *out,
                 char *err, size_t err_cap) EF_MUST_USE;
int ef_jcfg_bool(const json_t *o, const char *name, bool required, bool *out, char *err,
                 size_t err_cap) EF_MUST_USE;

/* For a caller's own checks: the reason (printf-style) into err as above, and
 * EF_ECONFIG. */
int ef_jcfg_fail(char *err, size_t err_cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* 0 if o is an object whose every field is one of names (NULL-terminated);
 * else EF_ECONFIG with the reason (`not an object`, `unknown field "K"`). */
int ef_jcfg_only(const json_t *o, const char *const *names, char *err, size_t err_cap) EF_MUST_USE;

#endif
