/* cmd_bench.c: `edgefed bench WHAT`: dispatches to the benchmarks (one line each). */
#include <stdio.h>
#include <string.h>

#include "base/ef_err.h"
#include "cli/cli.h"

static const ef_cli_cmd ef_bench_cmds[] = {
    {"federation", "MEC service federation over N = 2..30 MEC systems vs the REST baseline",
     ef_cmd_bench_federation},
};

int ef_cmd_bench(int argc, char **argv)
{
    if (argc >= 2) {
        for (size_t i = 0; i < EF_ARRAY_LEN(ef_bench_cmds); i++)
            if (!strcmp(argv[1], ef_bench_cmds[i].name)) return ef_bench_cmds[i].fn(argc - 1, argv + 1);
    }
    FILE *f = ef_cli_wants_help(argc, argv) ? stdout : stderr;
    fprintf(f, "usage: edgefed bench WHAT [options]   (edgefed bench WHAT --help for more)\n\nbenchmarks:\n");
    for (size_t i = 0; i < EF_ARRAY_LEN(ef_bench_cmds); i++)
        fprintf(f, "  %-11s %s\n", ef_bench_cmds[i].name, ef_bench_cmds[i].summary);
    return f == stdout ? 0 : 2;
}
