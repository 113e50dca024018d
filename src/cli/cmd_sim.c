/* cmd_sim.c: `edgefed sim`: run the consensus simulator over a range of seeds. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "sim/ef_sim.h"

#define EF_SIM_USAGE \
    "usage: edgefed sim [--validators N] [--byzantine F] [--seeds A-B] [--heights H]\n" \
    "                   [--loss P] [--dup P] [--delay-ms MAX] [--partition K] [--crash K]\n" \
    "                   [--power-loss P] [--planted-bug ignore-lock|skip-wal-sync]\n" \
    "                   [--no-verify-cache] [--max-failures K] [--jail] [--byzantine-kind KIND]\n" \
    "                   [--quiet]\n" \
    "Runs the Tendermint engine of N validators (F of them Byzantine) in the\n" \
    "deterministic simulator, one run per seed, and checks agreement, validity, no\n" \
    "honest double-sign, certificates and liveness after every step.\n" \
    "  --validators N     validators (default 4, at most %u)\n" \
    "  --byzantine F      Byzantine validators (default 0)\n" \
    "  --seeds A-B        seed range, inclusive (default 1-100); a single seed: A\n" \
    "  --heights H        heights every honest validator must commit (default 10)\n" \
    "  --loss P           probability a message to a peer is lost (default 0)\n" \
    "  --dup P            probability it is duplicated (default 0)\n" \
    "  --delay-ms MAX     delay uniform in [1, MAX] ms, so messages reorder (default 50)\n" \
    "  --partition K      K network partitions per run, each healing (default 0)\n" \
    "  --crash K          K crash/restart episodes of honest validators (default 0)\n" \
    "  --power-loss P     probability a crash is a power loss, which loses the WAL's\n" \
    "                     unsynced writes and may tear the last one, rather than a\n" \
    "                     process crash, which keeps them (default 0.5; 0..1)\n" \
    "  --planted-bug ignore-lock   honest engines prevote ignoring their lock\n" \
    "  --planted-bug skip-wal-sync honest validators send without syncing their WAL\n" \
    "                     (with --crash and --power-loss: they double-sign)\n" \
    "                     either way the checkers must report a violation (self-test)\n" \
    "  --no-verify-cache  every engine verifies every signature itself (slower)\n" \
    "  --max-failures K   stop after K failing seeds (default 10; 0 = never stop)\n" \
    "  --jail             values carry the double votes honest engines report; a\n" \
    "                     committed one is recorded once per (offender, height, round)\n" \
    "                     and the offender leaves the set 2 heights later; checked:\n" \
    "                     certificates against each height's set, and every offender\n" \
    "                     caught in time recorded and out of the set by the end\n" \
    "  --byzantine-kind K all Byzantine validators behave as K: silent, equivocate\n" \
    "                     (double proposals and votes), invalid, double-vote, bad-sig\n" \
    "                     (bad signatures over its good session)\n" \
    "                     (default: each from the seed)\n" \
    "  --quiet            no progress line every 1,000 seeds\n" \
    "Exit status: 0 no violation, 1 a violation, 2 usage error.\n"

static const char *const ef_sim_opts[] = {"validators=", "byzantine=", "seeds=", "heights=", "loss=",
                                          "dup=", "delay-ms=", "partition=", "crash=", "power-loss=",
                                          "planted-bug=", "no-verify-cache", "max-failures=", "quiet", "jail",
                                          "byzantine-kind=",
                                          NULL};

static void ef_sim_usage(FILE *f)
{
    fprintf(f, EF_SIM_USAGE, EF_SIM_NODES_MAX);
}

static int ef_parse_u64(const char *s, uint64_t *v)
{
    char *end;
    if (!s || !*s) return -1;
    unsigned long long x = strtoull(s, &end, 10);
    if (*end) return -1;
    *v = x;
    return 0;
}

static int ef_parse_prob(const char *s, double *p)
{
    char *end;
    *p = strtod(s, &end);
    return (!*s || *end || !(*p >= 0 && *p < 1)) ? -1 : 0;
}

/* A probability in [0, 1]. */
static int ef_parse_prob1(const char *s, double *p)
{
    char *end;
    *p = strtod(s, &end);
    return (!*s || *end || !(*p >= 0 && *p <= 1)) ? -1 : 0;
}

int ef_cmd_sim(int argc, char **argv)
{
    char usage[4096];
    snprintf(usage, sizeof usage, EF_SIM_USAGE, EF_SIM_NODES_MAX);
    int rc0 = ef_cli_check(argc, argv, usage, ef_sim_opts, 0); /* unknown options, missing values */
    if (rc0 >= 0) return rc0;
    ef_sim_cfg cfg;
    ef_sim_cfg_defaults(&cfg);
    uint64_t v, a = 1, b = 100, maxfail = 10;
    const char *o;
    if ((o = ef_cli_opt(argc, argv, "validators", NULL))) {
        if (ef_parse_u64(o, &v) || v == 0 || v > EF_SIM_NODES_MAX) goto usage;
        cfg.validators = (uint32_t)v;
    }
    if ((o = ef_cli_opt(argc, argv, "byzantine", NULL))) {
        if (ef_parse_u64(o, &v) || v >= cfg.validators) goto usage;
        cfg.byzantine = (uint32_t)v;
    }
    if ((o = ef_cli_opt(argc, argv, "seeds", NULL))) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", o);
        char *dash = strchr(buf, '-');
        if (dash) *dash = 0;
        if (ef_parse_u64(buf, &a)) goto usage;
        b = a;
        if (dash && ef_parse_u64(dash + 1, &b)) goto usage;
        if (b < a) goto usage;
    }
    if ((o = ef_cli_opt(argc, argv, "heights", NULL))) {
        if (ef_parse_u64(o, &v) || v == 0) goto usage;
        cfg.heights = v;
    }
    if ((o = ef_cli_opt(argc, argv, "loss", NULL)) && ef_parse_prob(o, &cfg.loss)) goto usage;
    if ((o = ef_cli_opt(argc, argv, "dup", NULL)) && ef_parse_prob(o, &cfg.dup)) goto usage;
    if ((o = ef_cli_opt(argc, argv, "delay-ms", NULL))) {
        if (ef_parse_u64(o, &v) || v == 0 || v > 60000) goto usage;
        cfg.delay_ms_max = (uint32_t)v;
    }
    if ((o = ef_cli_opt(argc, argv, "partition", NULL))) {
        if (ef_parse_u64(o, &v) || v > 100) goto usage;
        cfg.partitions = (uint32_t)v;
    }
    if ((o = ef_cli_opt(argc, argv, "crash", NULL))) {
        if (ef_parse_u64(o, &v) || v > 100) goto usage;
        cfg.crashes = (uint32_t)v;
    }
    if ((o = ef_cli_opt(argc, argv, "power-loss", NULL)) && ef_parse_prob1(o, &cfg.power_loss)) goto usage;
    if ((o = ef_cli_opt(argc, argv, "planted-bug", NULL))) {
        if (!strcmp(o, "ignore-lock")) cfg.bug_ignore_lock = true;
        else if (!strcmp(o, "skip-wal-sync")) cfg.bug_skip_wal_sync = true;
        else goto usage;
    }
    if ((o = ef_cli_opt(argc, argv, "max-failures", NULL)) && ef_parse_u64(o, &maxfail)) goto usage;
    cfg.verify_cache = !ef_cli_flag(argc, argv, "no-verify-cache");
    cfg.jail = ef_cli_flag(argc, argv, "jail");
    static const char *const kinds[] = {"silent", "equivocate", "invalid", "double-vote", "bad-sig"};
    if ((o = ef_cli_opt(argc, argv, "byzantine-kind", NULL))) {
        for (int k = 0; k < (int)(sizeof kinds / sizeof kinds[0]); k++)
            if (!strcmp(o, kinds[k])) cfg.byz_kind = k;
        if (cfg.byz_kind < 0) goto usage;
    }
    bool quiet = ef_cli_flag(argc, argv, "quiet");
    if (3 * cfg.byzantine >= cfg.validators)
        fprintf(stderr, "sim: warning: %u Byzantine of %u is not < n/3; safety is not promised\n",
                cfg.byzantine, cfg.validators);

    uint64_t runs = 0, failed = 0, heights = 0, commits = 0, messages = 0, rounds_max = 0;
    uint64_t evidence = 0, restarts = 0, catchups = 0, pcrashes = 0, plosses = 0, plosses_unsynced = 0;
    uint64_t torn = 0, lost = 0, recorded = 0, jailed = 0, deferred = 0, bad_late = 0;
    const char *bug = cfg.bug_ignore_lock     ? " --planted-bug ignore-lock"
                      : cfg.bug_skip_wal_sync ? " --planted-bug skip-wal-sync"
                                              : "";
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (uint64_t seed = a; seed <= b; seed++) {
        ef_sim_result r;
        cfg.seed = seed;
        int rc = ef_sim_run(&cfg, &r);
        if (rc) {
            fprintf(stderr, "sim: seed %" PRIu64 ": %s\n", seed, ef_strerror(rc));
            return 1;
        }
        runs++;
        heights += r.heights;
        commits += r.commits;
        messages += r.messages;
        evidence += r.evidence;
        recorded += r.evidence_recorded;
        jailed += r.jailed;
        restarts += r.restarts;
        catchups += r.catchups;
        pcrashes += r.process_crashes;
        plosses += r.power_losses;
        plosses_unsynced += r.power_losses_unsynced;
        torn += r.torn_writes;
        lost += r.lost_writes;
        deferred += r.votes_deferred;
        bad_late += r.sigs_bad_late;
        if (r.rounds_max > rounds_max) rounds_max = r.rounds_max;
        if (r.violations) {
            failed++;
            printf("VIOLATION seed %" PRIu64 ": %s\n  replay: edgefed sim --validators %u --byzantine %u"
                   " --seeds %" PRIu64 " --heights %" PRIu64 " --loss %g --dup %g --delay-ms %u"
                   " --partition %u --crash %u --power-loss %g%s%s%s%s%s\n",
                   seed, r.violation, cfg.validators, cfg.byzantine, seed, cfg.heights, cfg.loss,
                   cfg.dup, cfg.delay_ms_max, cfg.partitions, cfg.crashes, cfg.power_loss, bug,
                   cfg.verify_cache ? "" : " --no-verify-cache", cfg.jail ? " --jail" : "",
                   cfg.byz_kind < 0 ? "" : " --byzantine-kind ", cfg.byz_kind < 0 ? "" : kinds[cfg.byz_kind]);
            fflush(stdout);
            if (maxfail && failed >= maxfail) break;
        } else if (!quiet && (seed - a + 1) % 1000 == 0) {
            printf("  ... %" PRIu64 " seeds, %" PRIu64 " failed\n", seed - a + 1, failed);
            fflush(stdout);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("sim: n=%u byzantine=%u heights=%" PRIu64 " loss=%g dup=%g delay<=%ums partitions=%u crashes=%u"
           " power-loss=%g%s%s\n",
           cfg.validators, cfg.byzantine, cfg.heights, cfg.loss, cfg.dup, cfg.delay_ms_max,
           cfg.partitions, cfg.crashes, cfg.power_loss, *bug ? " planted-bug=" : "", *bug ? bug + 15 : "");
    printf("sim: runs=%" PRIu64 " failed=%" PRIu64 " heights_committed=%" PRIu64 " honest_commits=%" PRIu64
           " messages=%" PRIu64 " max_round=%" PRIu64 " evidence=%" PRIu64 " restarts=%" PRIu64
           " catchups=%" PRIu64 " wall=%.1fs\n",
           runs, failed, heights, commits, messages, rounds_max, evidence, restarts, catchups, secs);
    printf("sim: disk: process_crashes=%" PRIu64 " power_losses=%" PRIu64 " (with unsynced writes %" PRIu64
           ") torn_writes=%" PRIu64 " lost_writes=%" PRIu64 "\n",
           pcrashes, plosses, plosses_unsynced, torn, lost);
    printf("sim: signatures: votes counted on their session %" PRIu64 ", of them bad when relied on %" PRIu64 "\n",
           deferred, bad_late);
    if (cfg.jail)
        printf("sim: jail: evidence_recorded=%" PRIu64 " jailed=%" PRIu64 "\n", recorded, jailed);
    printf("sim: %s\n", failed ? "VIOLATIONS FOUND" : "no violations");
    return failed ? 1 : 0;
usage:
    ef_sim_usage(stderr);
    return 2;
}
