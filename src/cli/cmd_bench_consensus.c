/* cmd_bench_consensus.c: `edgefed bench consensus`: engine CPU time and messages per committed height. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_bench.h"
#include "sim/ef_sim.h"

#define EF_BENCH_CONS_REPS_MAX 15
_Static_assert(EF_BENCH_CONS_REPS_MAX <= EF_BENCH_MEDIAN_MAX, "medians over the seeds");
#define EF_BENCH_CONS_SIZES_MAX 8

static const char *ef_bench_consensus_usage =
    "usage: edgefed bench consensus [--sizes 4,7,31,100] [--heights H] [--reps R] [--out DIR]\n"
    "  Runs the Tendermint engine in the simulator without faults (delays up to 10 ms,\n"
    "  no loss), with every engine verifying every signature itself, for each number\n"
    "  of validators, R seeds each (default 3). Prints, per size, the median over the\n"
    "  seeds of: engine CPU time per committed height (all validators together, and per\n"
    "  validator), messages per height (one per recipient), and messages / n^2.\n"
    "  H heights per run (default 10; 3 for n > 50). Writes DIR/consensus.json and\n"
    "  DIR/consensus.md (DIR default ./bench-out).\n";

typedef struct {
    uint32_t n;
    uint64_t heights;
    double cpu_ms[EF_BENCH_CONS_REPS_MAX];      /* all engines, per height */
    double msgs[EF_BENCH_CONS_REPS_MAX];        /* per height */
    double bcasts[EF_BENCH_CONS_REPS_MAX];      /* broadcasts per height */
    double sim_ms[EF_BENCH_CONS_REPS_MAX];      /* simulated time per height */
    double cpu_med, msgs_med, bcasts_med, sim_med;
} ef_bc_row;

int ef_bench_consensus(int argc, char **argv)
{
    static const char *const opts[] = {"sizes=", "heights=", "reps=", "out=", NULL};
    int checked = ef_cli_check(argc, argv, ef_bench_consensus_usage, opts, 0);
    if (checked >= 0) return checked;
    if (ef_cli_wants_help(argc, argv)) {
        fputs(ef_bench_consensus_usage, stdout);
        return 0;
    }
    const char *out = ef_cli_opt(argc, argv, "out", "bench-out");
    const char *sizes = ef_cli_opt(argc, argv, "sizes", "4,7,31,100");
    long heights_opt = atol(ef_cli_opt(argc, argv, "heights", "0"));
    int reps = atoi(ef_cli_opt(argc, argv, "reps", "3"));
    if (reps < 1 || reps > EF_BENCH_CONS_REPS_MAX || heights_opt < 0) {
        fputs(ef_bench_consensus_usage, stderr);
        return 2;
    }
    ef_bc_row rows[EF_BENCH_CONS_SIZES_MAX];
    int nrows = 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", sizes);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        long n = atol(tok);
        if (n < 1 || n > (long)EF_SIM_NODES_MAX || nrows >= EF_BENCH_CONS_SIZES_MAX) {
            fputs(ef_bench_consensus_usage, stderr);
            return 2;
        }
        memset(&rows[nrows], 0, sizeof rows[nrows]);
        rows[nrows].n = (uint32_t)n;
        rows[nrows].heights = heights_opt ? (uint64_t)heights_opt : (n > 50 ? 3 : 10);
        nrows++;
    }
    printf("edgefed bench consensus: no faults, delay <= 10 ms, %d seeds per size, every engine verifies itself\n",
           reps);
    printf("  %5s %8s %16s %18s %14s %10s %12s\n", "n", "heights", "cpu ms/height", "cpu ms/height/val",
           "msgs/height", "msgs/n^2", "sim ms/height");
    for (int i = 0; i < nrows; i++) {
        ef_bc_row *row = &rows[i];
        for (int r = 0; r < reps; r++) {
            ef_sim_cfg cfg;
            ef_sim_result res;
            ef_sim_cfg_defaults(&cfg);
            cfg.validators = row->n;
            cfg.heights = row->heights;
            cfg.delay_ms_max = 10;
            cfg.verify_cache = false;
            cfg.measure_cpu = true;
            cfg.seed = (uint64_t)r + 1;
            int rc = ef_sim_run(&cfg, &res);
            if (rc || res.violations) {
                fprintf(stderr, "edgefed bench consensus: n=%u seed %d: %s\n", row->n, r + 1,
                        rc ? ef_strerror(rc) : res.violation);
                return 1;
            }
            /* heights committed on average per validator (some run ahead of the slowest) */
            double h = (double)res.commits / row->n;
            row->cpu_ms[r] = (double)res.engine_cpu_ns / 1e6 / h;
            row->msgs[r] = (double)res.messages / h;
            row->bcasts[r] = (double)res.broadcasts / h;
            row->sim_ms[r] = (double)res.sim_ms / (double)res.heights;
        }
        row->cpu_med = ef_bench_median(row->cpu_ms, reps);
        row->msgs_med = ef_bench_median(row->msgs, reps);
        row->bcasts_med = ef_bench_median(row->bcasts, reps);
        row->sim_med = ef_bench_median(row->sim_ms, reps);
        printf("  %5u %8llu %16.2f %18.3f %14.1f %10.2f %12.1f\n", row->n, (unsigned long long)row->heights,
               row->cpu_med, row->cpu_med / row->n, row->msgs_med,
               row->msgs_med / ((double)row->n * row->n), row->sim_med);
        fflush(stdout);
    }
    if (nrows >= 2)
        printf("  cpu per height, n=%u vs n=%u: %.1fx for %.1fx the validators\n", rows[nrows - 1].n, rows[0].n,
               rows[nrows - 1].cpu_med / rows[0].cpu_med, (double)rows[nrows - 1].n / rows[0].n);
    if (ef_bench_mkdir(out)) return 1;
    json_t *doc = json_pack("{s:s, s:i, s:i, s:b, s:[]}", "bench", "consensus", "reps", reps, "delay_ms_max", 10,
                            "verify_cache", 0, "sizes");
    for (int i = 0; i < nrows; i++) {
        ef_bc_row *row = &rows[i];
        json_t *runs = json_array();
        for (int r = 0; r < reps; r++)
            json_array_append_new(runs, json_pack("{s:i, s:f, s:f, s:f, s:f}", "seed", r + 1, "cpu_ms_per_height",
                                                  row->cpu_ms[r], "messages_per_height", row->msgs[r],
                                                  "broadcasts_per_height", row->bcasts[r], "sim_ms_per_height",
                                                  row->sim_ms[r]));
        json_t *o = json_pack("{s:i, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:o}", "validators", (int)row->n, "heights",
                              (json_int_t)row->heights, "cpu_ms_per_height_median", row->cpu_med,
                              "cpu_ms_per_height_per_validator_median", row->cpu_med / row->n,
                              "messages_per_height_median", row->msgs_med, "broadcasts_per_height_median",
                              row->bcasts_med, "messages_per_n2", row->msgs_med / ((double)row->n * row->n),
                              "sim_ms_per_height_median", row->sim_med, "runs", runs);
        json_array_append_new(json_object_get(doc, "sizes"), o);
    }
    (void)ef_bench_write_json(out, "consensus", doc);
    json_decref(doc);
    FILE *f = ef_bench_open(out, "consensus", "md");
    if (f) {
        fprintf(f, "# edgefed bench consensus\n\nTendermint engine in the simulator, no faults, delays up to 10 ms, "
                   "every engine verifying every signature itself; medians over %d seeds. CPU is the thread CPU "
                   "time spent inside engine calls (signing, verifying, state machine) of all validators.\n\n",
                reps);
        fprintf(f, "| validators | heights/run | engine CPU ms per height (all) | per validator | messages per height | "
                   "messages / n^2 | simulated ms per height |\n|---|---|---|---|---|---|---|\n");
        for (int i = 0; i < nrows; i++)
            fprintf(f, "| %u | %llu | %.2f | %.3f | %.1f | %.2f | %.1f |\n", rows[i].n,
                    (unsigned long long)rows[i].heights, rows[i].cpu_med, rows[i].cpu_med / rows[i].n,
                    rows[i].msgs_med, rows[i].msgs_med / ((double)rows[i].n * rows[i].n), rows[i].sim_med);
        fclose(f);
    }
    printf("  written: %s/consensus.json, %s/consensus.md\n", out, out);
    return 0;
}
