/* cli_bench.h: where the `edgefed bench ...` commands write their results (DIR/NAME.json and DIR/NAME.md).
 *
 * Threading: plain file I/O, no shared state.
 */
#ifndef EF_CLI_BENCH_H
#define EF_CLI_BENCH_H

#include <jansson.h>
#include <stdio.h>

#define EF_BENCH_PATH_MAX 700   /* DIR/NAME.EXT bytes, NUL included */
#define EF_BENCH_MEDIAN_MAX 64  /* most values ef_bench_median takes (repetitions of a run) */

/* The median of v[0..n) (the mean of the middle two for even n); v is not
 * changed. 1 <= n <= EF_BENCH_MEDIAN_MAX (asserted). */
double ef_bench_median(const double *v, int n);

/* Creates dir and its missing parents (0755). 0, or -1 with the reason on stderr. */
int ef_bench_mkdir(const char *dir);

/* Opens dir/name.ext for writing (ext "json" or "md"); the caller fcloses it.
 * NULL (the reason on stderr) if the path is too long or cannot be opened. */
FILE *ef_bench_open(const char *dir, const char *name, const char *ext);

/* Writes doc (borrowed) indented to dir/name.json. 0, or -1 with the reason on stderr. */
int ef_bench_write_json(const char *dir, const char *name, const json_t *doc);

/* Writes an SVG of the CDFs of up to 3 series (each sorted ascending, n[s]
 * values; an empty one is skipped) with their labels, x in the series' unit
 * (xlabel). Nothing is written if path cannot be opened. */
void ef_bench_cdf_svg(const char *path, double *const series[], const size_t n[], const char *const label[], int nseries,
                      const char *xlabel);

#endif
