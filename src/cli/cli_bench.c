/* cli_bench.c: the benchmark commands' output files (DIR/NAME.json, DIR/NAME.md). */
#include "cli/cli_bench.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/ef_err.h"

static int ef_bench_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double ef_bench_median(const double *v, int n)
{
    EF_ASSERT(n >= 1 && n <= EF_BENCH_MEDIAN_MAX);
    double t[EF_BENCH_MEDIAN_MAX];
    memcpy(t, v, (size_t)n * sizeof *t);
    qsort(t, (size_t)n, sizeof *t, ef_bench_cmp);
    return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

int ef_bench_mkdir(const char *dir)
{
    char tmp[EF_BENCH_PATH_MAX];
    if (!dir[0] || snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp) {
        fprintf(stderr, "edgefed bench: bad output directory '%s'\n", dir);
        return -1;
    }
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0755) && errno != EEXIST) goto fail;
        *p = '/';
    }
    if (mkdir(tmp, 0755) && errno != EEXIST) goto fail;
    return 0;
fail:
    fprintf(stderr, "edgefed bench: cannot create %s: %s\n", tmp, strerror(errno));
    return -1;
}

static int ef_bench_path(char *path, const char *dir, const char *name, const char *ext)
{
    int n = snprintf(path, EF_BENCH_PATH_MAX, "%s/%s.%s", dir, name, ext);
    if (n < 0 || n >= EF_BENCH_PATH_MAX) {
        fprintf(stderr, "edgefed bench: output path too long: %s/%s.%s\n", dir, name, ext);
        return -1;
    }
    return 0;
}

FILE *ef_bench_open(const char *dir, const char *name, const char *ext)
{
    char path[EF_BENCH_PATH_MAX];
    if (ef_bench_path(path, dir, name, ext)) return NULL;
    FILE *f = fopen(path, "w");
    if (!f) fprintf(stderr, "edgefed bench: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

int ef_bench_write_json(const char *dir, const char *name, const json_t *doc)
{
    char path[EF_BENCH_PATH_MAX];
    if (ef_bench_path(path, dir, name, "json")) return -1;
    if (json_dump_file(doc, path, JSON_INDENT(2))) {
        fprintf(stderr, "edgefed bench: cannot write %s\n", path);
        return -1;
    }
    return 0;
}
