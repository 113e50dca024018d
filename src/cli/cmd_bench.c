/* cmd_bench.c: `edgefed bench`: dispatches to one benchmark. Add a benchmark with
 * one line in ef_bench_cmds (its function in its own cmd_bench_<what>.c). */
#include <stdio.h>
#include <string.h>

#include "base/ef_err.h"
#include "cli/cli.h"

static const ef_cli_cmd ef_bench_cmds[] = {
    {"apply", "transactions applied per second vs bare Ed25519 verification", ef_bench_apply},
    {"ledger", "4 and 7 validator processes: tx/s, commit latency, CPU, RSS, verify limit", ef_bench_ledger},
    {"consensus", "engine CPU time and messages per committed height, n = 4..100", ef_bench_consensus},
    {"api", "HTTP API: p50/p99 of GET /status and GET /txs/{hash} under load (wrk)", ef_bench_api},
    {"federation", "MEC service federation, N = 2..30 MEC systems, vs the REST baseline", ef_cmd_bench_federation},
    {"sla", "AJIT SLAs: activation latency with stitching, slice creation at 0/1/5 % loss (CDF), receipts/s", ef_bench_sla},
    {"market", "edge market: match latency and rate at 10k/100k ENs, vouchers/s, ledger cost of a session", ef_bench_market},
    {"hierarchy", "domain ledger of a 4-device committee: query and record latency, tx/s, CPU, RSS vs the paper's Table II", ef_bench_hierarchy},
    {"prov", "provenance: records/s (4 validators), lineage latency in 1M records, PROV-JSON export rate", ef_bench_prov},
    {"hierarchy-anchor", "domain checkpoints/s the anchor verifies (100, 1000 domains), proof verification time", ef_bench_anchor},
    {"slices", "end-to-end slices over 2 domains in one process: setup, re-adjustment, decommissioning p50/p90", ef_bench_slices},
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
