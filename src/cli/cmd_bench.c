/* cmd_bench.c: `edgefed bench WHAT`: the benchmarks (not tests). Each prints its
 * figures and writes WHAT.json and WHAT.md to --out DIR (default ./bench-out).
 * To add one: write ef_bench_<what>(argc, argv) and add a line to the table. */
#include <stdio.h>
#include <string.h>

#include "base/ef_err.h"
#include "cli/cli.h"

int ef_bench_ledger(int argc, char **argv);
int ef_bench_api(int argc, char **argv);      /* cmd_bench_api.c */

static const ef_cli_cmd ef_benches[] = {
    {"ledger", "4 and 7 validators: committed tx/s, commit latency, RSS, CPU, verify rate", ef_bench_ledger},
    {"api", "HTTP API: p50/p99 of GET /status and GET /txs/{hash} under load (wrk)", ef_bench_api},
};

int ef_cmd_bench(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "-h") && strcmp(argv[1], "--help"))
        for (size_t i = 0; i < EF_ARRAY_LEN(ef_benches); i++)
            if (!strcmp(argv[1], ef_benches[i].name)) return ef_benches[i].fn(argc - 1, argv + 1);
    FILE *f = argc >= 2 && ef_cli_wants_help(argc, argv) ? stdout : stderr;
    fprintf(f, "usage: edgefed bench WHAT [options]   (edgefed bench WHAT --help)\n");
    for (size_t i = 0; i < EF_ARRAY_LEN(ef_benches); i++)
        fprintf(f, "  %-10s %s\n", ef_benches[i].name, ef_benches[i].summary);
    return f == stdout ? 0 : 2;
}
