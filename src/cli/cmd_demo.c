/* cmd_demo.c: `edgefed demo [NAME]`: runs one scenario of a seed system, or all of
 * them in sequence. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/ef_err.h"
#include "base/ef_log.h"
#include "cli/cli.h"
#include "cli/cli_demo.h"

typedef struct demo_scenario {
    const char *name;
    const char *summary;
    ef_cli_fn run;
} demo_scenario;

/* In the order `edgefed demo` runs them. */
static const demo_scenario demo_scenarios[] = {
    {"federation", "seed 001: MEC systems federate a service: announce, bids, award, deploy, connect, pay",
     ef_demo_federation},
    {"market", "seed 002: edge nodes of 3 companies, devices matched by the ledger, tasks paid by vouchers",
     ef_demo_market},
    {"sla", "seed 003: a car's just-in-time SLA: slice stitched under a flood, receipts, penalty, regulators",
     ef_demo_sla},
    {"prov", "seed 004: sensor -> collector -> analyser with provenance on the ledger; lineage as PROV-JSON and SVG",
     ef_demo_prov},
    {"hierarchy", "seed 000: two committee-run domain ledgers anchored on a federation ledger; proof, freeze, unfreeze",
     ef_demo_hierarchy},
    {"slices", "seed 000: an end-to-end slice over two domains, active on proofs; traffic, degradation, re-adjustment",
     ef_demo_slices},
};

static void demo_usage(FILE *f)
{
    fputs("usage: edgefed demo [NAME [options]]\n"
          "\n"
          "Runs the scenario NAME of one seed system (edgefed demo NAME --help for its\n"
          "options), or, without NAME, every scenario in sequence with its defaults,\n"
          "each printing its steps with their times. Exit status 0 only if every\n"
          "scenario run succeeded.\n"
          "\n"
          "scenarios:\n",
          f);
    for (size_t i = 0; i < EF_ARRAY_LEN(demo_scenarios); i++)
        fprintf(f, "  %-11s %s\n", demo_scenarios[i].name, demo_scenarios[i].summary);
}

int ef_cmd_demo(int argc, char **argv)
{
    if (argc >= 2 && argv[1][0] != '-') {
        for (size_t i = 0; i < EF_ARRAY_LEN(demo_scenarios); i++)
            if (!strcmp(argv[1], demo_scenarios[i].name)) return demo_scenarios[i].run(argc - 1, argv + 1);
        fprintf(stderr, "edgefed demo: unknown scenario '%s'\n", argv[1]);
        demo_usage(stderr);
        return 2;
    }
    if (argc >= 2) {
        bool help = !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help");
        if (!help) fprintf(stderr, "edgefed demo: options go after a scenario's name ('%s')\n", argv[1]);
        demo_usage(help ? stdout : stderr);
        return help ? 0 : 2;
    }
    size_t n = EF_ARRAY_LEN(demo_scenarios);
    int status[EF_ARRAY_LEN(demo_scenarios)];
    uint64_t took[EF_ARRAY_LEN(demo_scenarios)];
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        printf("== demo %s (%zu of %zu): %s\n", demo_scenarios[i].name, i + 1, n, demo_scenarios[i].summary);
        fflush(stdout);
        char *args[] = {(char *)demo_scenarios[i].name, NULL};
        uint64_t t0 = ef_now_mono_us();
        status[i] = demo_scenarios[i].run(1, args);
        took[i] = ef_now_mono_us() - t0;
        failed += status[i] != 0;
        printf("\n");
    }
    printf("edgefed demo: %zu scenarios\n", n);
    for (size_t i = 0; i < n; i++)
        printf("  %-11s %-6s %8.3f s\n", demo_scenarios[i].name, status[i] ? "FAILED" : "OK", (double)took[i] / 1e6);
    printf("%s\n", failed ? "edgefed demo: FAILED" : "edgefed demo: all scenarios OK");
    return failed ? 1 : 0;
}
