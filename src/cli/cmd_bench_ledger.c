/* cmd_bench_ledger.c: `edgefed bench ledger` (placeholder until written). */
#include <stdio.h>
#include "cli/cli.h"
int ef_bench_ledger(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "edgefed bench ledger: not yet implemented\n");
    return 1;
}
