/* cmd_soa.c: `edgefed soa`: the REST federation baseline (placeholder until ef_soa lands). */
#include <stdio.h>
#include "cli/cli.h"
int ef_cmd_soa(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "soa: not yet\n"); return 1; }
