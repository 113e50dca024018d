/* ef_log.c: levelled logging and the real clocks. */
#include "ef_log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int ef_log_lvl = -1;

void ef_log_set_level(int level) { ef_log_lvl = level; }

int ef_log_level(void)
{
    if (ef_log_lvl < 0) {
        const char *e = getenv("EDGEFED_LOG");
        ef_log_lvl = EF_LOG_WARN;
        if (e) {
            if (!strcmp(e, "error")) ef_log_lvl = EF_LOG_ERROR;
            else if (!strcmp(e, "info")) ef_log_lvl = EF_LOG_INFO;
            else if (!strcmp(e, "debug")) ef_log_lvl = EF_LOG_DEBUG;
        }
    }
    return ef_log_lvl;
}

void ef_log(int level, const char *component, const char *fmt, ...)
{
    static const char *names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    if (level > ef_log_level()) return;
    char line[1024];
    uint64_t ms = ef_now_wall_ms();
    int n = snprintf(line, sizeof line, "%llu.%03llu %s %s: ", (unsigned long long)(ms / 1000),
                     (unsigned long long)(ms % 1000), names[level & 3], component);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof line) n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n >= sizeof line - 1) n = (int)sizeof line - 2;
    line[n++] = '\n';
    ssize_t wr = write(2, line, (size_t)n);
    (void)wr;
}

uint64_t ef_now_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t ef_now_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t ef_now_wall_ms_unique(void)
{
    static _Atomic uint64_t last;
    uint64_t now = ef_now_wall_ms(), prev = atomic_load(&last), t;
    do {
        t = now > prev ? now : prev + 1;
    } while (!atomic_compare_exchange_weak(&last, &prev, t));
    return t;
}
