/* ef_log.h: levelled logging to stderr with a component name. */
#ifndef EF_LOG_H
#define EF_LOG_H

enum { EF_LOG_ERROR = 0, EF_LOG_WARN = 1, EF_LOG_INFO = 2, EF_LOG_DEBUG = 3 };

/* Default EF_LOG_WARN; the EDGEFED_LOG environment variable (error, warn, info,
 * debug) sets it at first use. Thread-safe: each line is one write. */
void ef_log_set_level(int level);
int ef_log_level(void);
void ef_log(int level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define EF_LOGE(c, ...) ef_log(EF_LOG_ERROR, c, __VA_ARGS__)
#define EF_LOGW(c, ...) ef_log(EF_LOG_WARN, c, __VA_ARGS__)
#define EF_LOGI(c, ...) ef_log(EF_LOG_INFO, c, __VA_ARGS__)
#define EF_LOGD(c, ...) ef_log(EF_LOG_DEBUG, c, __VA_ARGS__)

/* Monotonic and wall clocks, for the real (non-simulated) world. */
#include <stdint.h>
uint64_t ef_now_mono_us(void);
uint64_t ef_now_wall_ms(void);
/* The wall clock in ms, but never a value this process was given already (the
 * last one + 1 when the clock has not moved on): the time of a signed request,
 * whose signature must not repeat (two requests of one key with the same method
 * and target in one millisecond would be one signature: a replay). Thread-safe. */
uint64_t ef_now_wall_ms_unique(void);

#endif
