/* ef_sim.h: deterministic simulator of N consensus engines with faults and safety/liveness checkers. */
#ifndef EF_SIM_H
#define EF_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "base/ef_err.h"

/* One seed is one run. Everything random (keys, values, delays, losses, fault
 * times, Byzantine choices) comes from the seed through one PRNG, and events are
 * ordered by (simulated time, sequence number), so a seed replays exactly.
 *
 * Network: each message to each recipient is lost with probability loss,
 * duplicated with probability dup, delayed uniformly in [1, delay_ms_max] ms
 * (so reordered). Partitions: `partitions` episodes, each splitting the nodes in
 * two random sides for a while, then healing. Crashes: `crashes` episodes, each
 * stopping an honest validator (its engine is freed; its committed blocks
 * survive, and its WAL as the disk model below says) and restarting it 100 ms to
 * 3.1 s later; half of them strike in the middle of a step, after the WAL writes
 * of an input and before anything it sends leaves (so before they are synced).
 *
 * Disk: each validator's WAL is the node's file-side code (ef_wal_file, deferred
 * as in the node) on a simulated disk (ef_simdisk.h), synced by the simulator
 * before it sends anything an engine output, as the node does. A crash is a
 * power loss with probability power_loss, else a process crash. A process crash
 * keeps everything written (SIGKILL keeps the page cache); a power loss keeps
 * what was synced and, by a seeded choice among ef_simdisk's kinds, loses every
 * unsynced write or keeps a prefix of them with the last one torn (cut short,
 * zero-filled or garbage-filled). The restarted validator recovers from what
 * survived through ef_wal's own recovery.
 *
 * Partitions start and crashes strike at seeded times within
 * a span of max(4 s, 300 ms x heights) of simulated time; partitions also heal
 * within it, and the last restart may come after it. Loss and duplication last
 * the whole run.
 *
 * Engines run the default timeouts of ef_engine.h (EF_ENGINE_TIMEOUTS_DEFAULT),
 * the ones a node runs unless its config says otherwise.
 *
 * Byzantine validators (`byzantine` distinct indices drawn from the seed) each
 * behave in one seeded way: silent; equivocating proposer and double voter;
 * proposer of invalid values (and voting for them); double voter; sender of bad
 * signatures over its good session (each peer gets a message as signed, or with
 * its signature spoiled, or a conflicting vote with a spoiled signature: the
 * engines count a vote on its session's word and verify it only when relied on,
 * ef_engine_on_message_from; every certificate and evidence must still verify).
 * They sign with their real keys. Every message is delivered with the session
 * it came over (its sender), as the node's transport does.
 *
 * With `jail`, the values are blocks of a small simulated ledger that does what
 * the registry does with equivocation evidence: an honest validator keeps the
 * double votes its engine reports (EF_OUT_EVIDENCE) and puts them in the values
 * it proposes; a value whose evidence does not pass ef_vote_evidence_check
 * (ledger/ef_evidence.h, the registry's own check) against the set of its
 * height is invalid; when a value commits, each (offender, height, round) not yet
 * recorded is recorded once and the offender leaves the validator set at
 * height + EF_VSET_DELAY (unless it is its last member). Engines run each height
 * with the set of that height. Checkers: certificates verify against the set of
 * their height (so none carries a jailed validator's signature), and every
 * validator an honest engine caught double-voting at least 2n + 10 heights before
 * the end is recorded and out of the set by the end of the run.
 *
 * Checkers, after every event: agreement (honest validators commit the same
 * value at each height), validity (only valid values are committed), no honest
 * double-sign (no two different messages from one honest validator for one
 * height, round and step, across restarts; no evidence against an honest one),
 * certificates (every commit's certificate verifies: quorum power of distinct
 * valid precommit signatures, ef_cert_verify), and liveness (once the last
 * fault has healed, every honest validator commits again within
 * EF_SIM_LIVENESS_MS of simulated time, and the run reaches `heights`). */

#define EF_SIM_NODES_MAX 128u
#define EF_SIM_EVENTS_MAX (1u << 22)       /* pending events */
#define EF_SIM_LIVENESS_MS 120000u         /* bound after healing, simulated ms */

typedef struct ef_sim_cfg {
    uint32_t validators;          /* 1..EF_SIM_NODES_MAX */
    uint32_t byzantine;           /* Byzantine validators, < validators (safety and liveness need 3f < n) */
    uint64_t seed;
    uint64_t heights;             /* run until every honest validator committed this many */
    double loss;                  /* 0..1 */
    double dup;                   /* 0..1 */
    uint32_t delay_ms_max;        /* >= 1 */
    uint32_t partitions;
    uint32_t crashes;
    double power_loss;            /* 0..1: probability a crash is a power loss */
    bool bug_ignore_lock;         /* plant the bug in honest engines */
    bool bug_skip_wal_sync;       /* plant a bug: honest validators send without syncing their WAL */
    bool verify_cache;            /* engines share verified signatures (speed; off = each engine
                                     verifies every signature itself, as real nodes do) */
    bool measure_cpu;             /* time engine calls (thread CPU time) */
    bool jail;                    /* record double-vote evidence on the simulated ledger and
                                     jail the offender (see above) */
    int byz_kind;                 /* -1: each Byzantine validator's behaviour from the seed;
                                     else all behave as EF_SIM_BYZ_* */
} ef_sim_cfg;

enum { EF_SIM_BYZ_SILENT = 0, EF_SIM_BYZ_EQUIVOCATE = 1, EF_SIM_BYZ_INVALID = 2,
       EF_SIM_BYZ_DOUBLE_VOTE = 3, EF_SIM_BYZ_BAD_SIG = 4 };

typedef struct ef_sim_result {
    uint64_t heights;             /* lowest height committed by every honest validator */
    uint64_t commits;             /* commit outputs of honest validators */
    uint64_t messages;            /* messages put on the network (per recipient) */
    uint64_t broadcasts;          /* BROADCAST outputs of all engines */
    uint64_t delivered;
    uint64_t rounds_max;          /* largest round any height was decided in */
    uint64_t catchups;
    uint64_t evidence;            /* evidence outputs (all against Byzantine nodes) */
    uint64_t evidence_recorded;   /* with jail: distinct (offender, height, round) committed */
    uint64_t jailed;              /* with jail: validators removed from the set */
    uint64_t jailed_at_max;       /* with jail: the highest height a removal took effect at */
    uint64_t restarts;
    uint64_t process_crashes;     /* crashes that kept the page cache */
    uint64_t power_losses;        /* crashes that lost it */
    uint64_t power_losses_unsynced; /* power losses that found unsynced writes to lose or tear */
    uint64_t torn_writes;         /* power losses that left a write torn */
    uint64_t lost_writes;         /* unsynced WAL writes and truncations lost whole */
    uint64_t wal_syncs;           /* WAL syncs that made something durable */
    uint64_t votes_deferred;      /* honest engines: votes counted on their sender's session */
    uint64_t sigs_bad_late;       /* honest engines: of those, found bad when relied on (dropped) */
    uint64_t sim_ms;
    uint64_t engine_cpu_ns;       /* with measure_cpu */
    uint64_t violations;
    char violation[256];          /* the first one */
} ef_sim_result;

/* Fills cfg with defaults: 4 validators, 0 Byzantine, 10 heights, no faults,
 * delay up to 50 ms, verify cache on; power_loss 0.5 (half the crashes, when
 * crashes > 0, are power losses). */
void ef_sim_cfg_defaults(ef_sim_cfg *cfg);

/* Runs one seed. Returns 0 when the run completed (violations are reported in
 * res, not as an error), EF_EINVAL for a bad cfg, EF_ENOMEM, EF_EFULL (event
 * queue). */
EF_MUST_USE int ef_sim_run(const ef_sim_cfg *cfg, ef_sim_result *res);

#endif
