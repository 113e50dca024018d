/* cli_demo_util.c: what the scenarios of `edgefed demo` share: a step printed
 * with the time since the scenario started, and an account's balance. */
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "base/ef_log.h"
#include "cli/cli.h"
#include "cli/cli_demo.h"
#include "cli/cli_market.h"

static uint64_t ef_demo_t0;

void ef_demo_clock_start(void) { ef_demo_t0 = ef_now_mono_us(); }

void ef_demo_step(const char *fmt, ...)
{
    va_list ap;
    printf("[%7.3f s] ", (double)(ef_now_mono_us() - ef_demo_t0) / 1e6);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

int64_t ef_demo_balance(const char *api, const char *pub)
{
    char path[128];
    json_t *j;
    snprintf(path, sizeof path, "/state/bank/balance/%s", pub);
    if (ef_cli_get(api, path, &j)) return -1;
    int64_t b = (int64_t)json_integer_value(json_object_get(j, "balance"));
    json_decref(j);
    return b;
}

int ef_demo_workdir(const char *dir_opt, const char *name, char *dir, size_t dir_cap, char *exe, size_t exe_cap)
{
    if (dir_opt) {
        if ((size_t)snprintf(dir, dir_cap, "%s", dir_opt) >= dir_cap) return 1;
    } else {
        if ((size_t)snprintf(dir, dir_cap, "/tmp/edgefed-%s-XXXXXX", name) >= dir_cap || !mkdtemp(dir)) return 1;
    }
    ssize_t n = readlink("/proc/self/exe", exe, exe_cap - 1);
    if (n <= 0) return 1;
    exe[n] = 0;
    return 0;
}
