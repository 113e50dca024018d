/* cmd_bench.c: `edgefed bench`: dispatches to one benchmark. Add a benchmark with
 * one line in ef_bench_cmds (its function in its own cmd_bench_<what>.c). */
#include <stdio.h>
#include <string.h>

#include "base/ef_err.h"
#include "cli/cli.h"

static const ef_cli_cmd ef_bench_cmds[] = {
    {"apply", "transactions applied per second vs bare Ed25519 verification", ef_bench_apply},
};

static void ef_bench_usage(FILE *f)
{
    fprintf(f, "usage: edgefed bench WHAT [options] [--out DIR]   (edgefed bench WHAT --help)\n"
               "  prints the figures and writes WHAT.json and WHAT.md to DIR (default ./bench-out)\n\n"
               "benchmarks:\n");
    for (size_t i = 0; i < EF_ARRAY_LEN(ef_bench_cmds); i++)
        fprintf(f, "  %-12s %s\n", ef_bench_cmds[i].name, ef_bench_cmds[i].summary);
}

int ef_cmd_bench(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-') {
        bool help = ef_cli_wants_help(argc, argv);
        ef_bench_usage(help ? stdout : stderr);
        return help ? 0 : 2;
    }
    for (size_t i = 0; i < EF_ARRAY_LEN(ef_bench_cmds); i++)
        if (!strcmp(argv[1], ef_bench_cmds[i].name)) return ef_bench_cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "edgefed bench: unknown benchmark '%s'\n", argv[1]);
    ef_bench_usage(stderr);
    return 2;
}
