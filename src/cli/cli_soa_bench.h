/* cli_soa_bench.h: the REST baseline's benchmark harness, shared by `edgefed soa bench` and `edgefed bench federation`.
 *
 * Threading: ef_soa_bench_run runs one thread per consumer and joins them
 * before it returns; one run at a time per work directory and port range.
 */
#ifndef EF_CLI_SOA_BENCH_H
#define EF_CLI_SOA_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "agents/ef_soa.h"
#include "base/ef_err.h"

typedef struct ef_soa_bench_cfg {
    unsigned n_mec;                 /* MEC systems, 2 .. EF_SOA_PEERS_MAX */
    unsigned runs;                  /* federation rounds (all consumers at once each) */
    const char *driver;             /* "process" or "netns" */
    const char *edgefed_path;       /* binary for providers and apps; NULL = /proc/self/exe */
    const char *work_dir;           /* existing directory for credentials files */
    uint16_t base_port;             /* providers' REST ports (process) start here; 0 = 7100 */
} ef_soa_bench_cfg;

typedef struct ef_soa_bench_sample {
    unsigned run, consumer;
    int err;                        /* 0 or the federation's error */
    ef_soa_result res;
} ef_soa_bench_sample;

typedef struct ef_soa_stat { double mean_ms, sd_ms; } ef_soa_stat;

typedef struct ef_soa_bench_result {
    unsigned n_mec, n_consumers, n_providers, runs;
    size_t n_samples, n_failed;
    ef_soa_bench_sample *samples;   /* runs * n_consumers, owned; free with ef_soa_bench_free */
    ef_soa_stat offers, award, deploy, connect, total;  /* over successful samples */
} ef_soa_bench_result;

/* Providers for n MEC systems under the 80:20 split of seed 001: max(1, n/5). */
unsigned ef_soa_bench_providers(unsigned n_mec);

/* Builds n_mec MEC systems (netns: a test topology "efsb<pid>"; process: local
 * ports), starts one `edgefed soa provider` process per provider MEC system
 * (location cycling through ef_pricing_location), and runs `runs` rounds in which
 * every consumer federates at once (one thread each), releasing everything after
 * each round. Everything it started is stopped and removed before it returns,
 * also on failure. A failed federation is a sample with err != 0, not a failure
 * of the bench. Errors: EF_EINVAL, EF_EPERM (netns without root), EF_EIO. */
int ef_soa_bench_run(const ef_soa_bench_cfg *cfg, ef_soa_bench_result *out) EF_MUST_USE;
void ef_soa_bench_free(ef_soa_bench_result *r);

#endif
