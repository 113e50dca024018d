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

void ef_bench_cdf_svg(const char *path, double *const series[], const size_t n[], const char *const label[], int nseries,
                      const char *xlabel)
{
    FILE *f = fopen(path, "w");
    if (!f) return;
    double xmax = 1;
    for (int s = 0; s < nseries && s < 3; s++)
        if (n[s] && series[s][n[s] - 1] > xmax) xmax = series[s][n[s] - 1];
    static const char *const colour[3] = {"#1b7837", "#2166ac", "#b2182b"};
    const double W = 640, H = 400, L = 60, B = 50, R = 20, T = 20;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" "
               "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, H);
    fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", L, H - B, W - R, H - B);
    fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", L, H - B, L, T);
    for (int k = 0; k <= 4; k++) {
        double x = L + (W - L - R) * k / 4, y = H - B - (H - B - T) * k / 4;
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%.0f</text>\n", x, H - B + 16, xmax * k / 4);
        fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.2f</text>\n", L - 6, y + 4, k / 4.0);
    }
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>\n", (W + L) / 2, H - 12, xlabel);
    fprintf(f, "<text x=\"14\" y=\"%.0f\" transform=\"rotate(-90 14 %.0f)\" text-anchor=\"middle\">CDF</text>\n",
            (H - B + T) / 2, (H - B + T) / 2);
    for (int s = 0; s < nseries && s < 3; s++) {
        if (!n[s]) continue;
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", colour[s]);
        for (size_t i = 0; i < n[s]; i++) {
            double x = L + (W - L - R) * series[s][i] / xmax;
            double y0 = H - B - (H - B - T) * (double)i / (double)n[s];
            double y1 = H - B - (H - B - T) * (double)(i + 1) / (double)n[s];
            fprintf(f, "%.1f,%.1f %.1f,%.1f ", x, y0, x, y1);
        }
        fprintf(f, "\"/>\n<text x=\"%.0f\" y=\"%.0f\" fill=\"%s\">%s</text>\n", W - R - 150, T + 16 + 16 * s,
                colour[s], label[s]);
    }
    fprintf(f, "</svg>\n");
    fclose(f);
}
