/* test_sim.c: the consensus simulator over a few hundred seeds with faults; the planted bug is caught. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "base/ef_crypto.h"
#include "sim/ef_sim.h"

/* Runs seeds [a, b] and fails on the first violation, printing its replay. */
static void run_seeds(uint32_t n, uint32_t f, uint64_t a, uint64_t b, uint64_t heights, double loss,
                      double dup, uint32_t partitions, uint32_t crashes)
{
    ef_sim_cfg cfg;
    ef_sim_cfg_defaults(&cfg);
    cfg.validators = n;
    cfg.byzantine = f;
    cfg.heights = heights;
    cfg.loss = loss;
    cfg.dup = dup;
    cfg.partitions = partitions;
    cfg.crashes = crashes;
    uint64_t total_heights = 0, restarts = 0;
    for (uint64_t seed = a; seed <= b; seed++) {
        ef_sim_result r;
        cfg.seed = seed;
        assert_int_equal(ef_sim_run(&cfg, &r), 0);
        if (r.violations)
            fprintf(stderr, "violation: %s\nreplay: edgefed sim --validators %u --byzantine %u --seeds %llu "
                    "--heights %llu --loss %g --dup %g --partition %u --crash %u\n",
                    r.violation, n, f, (unsigned long long)seed, (unsigned long long)heights, loss, dup,
                    partitions, crashes);
        assert_int_equal(r.violations, 0);
        assert_true(r.heights >= heights);
        total_heights += r.heights;
        restarts += r.restarts;
    }
    assert_true(total_heights >= (b - a + 1) * heights);
    if (crashes) assert_true(restarts > 0); /* the crash path was exercised */
}

static void test_sim_n4_f1(void **state)
{
    (void)state;
    run_seeds(4, 1, 1, 150, 4, 0.15, 0.05, 1, 1);
}

static void test_sim_n7_f2(void **state)
{
    (void)state;
    run_seeds(7, 2, 1, 70, 3, 0.15, 0.05, 1, 2);
}

static void test_sim_n10_f3(void **state)
{
    (void)state;
    run_seeds(10, 3, 1, 30, 3, 0.1, 0.0, 1, 2);
}

/* Byzantine validators that send bad signatures over their good sessions: the
 * engines count their votes on the session's word, find the bad ones when they
 * rely on them, and every certificate and evidence still verifies (the
 * simulator checks each one) with liveness intact. */
static void test_sim_bad_sig_over_session(void **state)
{
    (void)state;
    ef_sim_cfg cfg;
    ef_sim_cfg_defaults(&cfg);
    cfg.byz_kind = EF_SIM_BYZ_BAD_SIG;
    cfg.loss = 0.15;
    cfg.dup = 0.05;
    cfg.partitions = 1;
    cfg.crashes = 1;
    uint64_t bad = 0, deferred = 0;
    for (uint32_t n = 4; n <= 7; n += 3) {
        cfg.validators = n;
        cfg.byzantine = (n - 1) / 3;
        cfg.heights = 4;
        for (uint64_t seed = 1; seed <= 60; seed++) {
            ef_sim_result r;
            cfg.seed = seed;
            assert_int_equal(ef_sim_run(&cfg, &r), 0);
            if (r.violations) fprintf(stderr, "n=%u seed %llu: %s\n", n, (unsigned long long)seed, r.violation);
            assert_int_equal(r.violations, 0);
            assert_true(r.heights >= cfg.heights);
            bad += r.sigs_bad_late;
            deferred += r.votes_deferred;
        }
    }
    assert_true(bad > 0);          /* the late checks found bad signatures */
    assert_true(deferred > 10 * bad);
}

static void test_sim_replays_exactly(void **state)
{
    (void)state;
    ef_sim_cfg cfg;
    ef_sim_cfg_defaults(&cfg);
    cfg.byzantine = 1;
    cfg.loss = 0.2;
    cfg.dup = 0.1;
    cfg.crashes = 1;
    cfg.partitions = 1;
    cfg.seed = 42;
    ef_sim_result a, b, c;
    assert_int_equal(ef_sim_run(&cfg, &a), 0);
    assert_int_equal(ef_sim_run(&cfg, &b), 0);
    assert_true(a.messages == b.messages && a.sim_ms == b.sim_ms && a.delivered == b.delivered &&
                a.commits == b.commits && a.evidence == b.evidence && a.catchups == b.catchups);
    cfg.seed = 43;
    assert_int_equal(ef_sim_run(&cfg, &c), 0);
    assert_true(c.messages != a.messages || c.sim_ms != a.sim_ms);
}

/* With honest engines that ignore their lock when prevoting, the checkers must
 * report a safety violation within 1,000 seeds; the same seeds without the bug
 * are clean. */
static void test_sim_planted_bug_caught(void **state)
{
    (void)state;
    ef_sim_cfg cfg;
    ef_sim_cfg_defaults(&cfg);
    cfg.byzantine = 1;
    cfg.loss = 0.3;
    cfg.partitions = 2;
    cfg.heights = 10;
    cfg.bug_ignore_lock = true;
    uint64_t found = 0;
    ef_sim_result r;
    for (uint64_t seed = 1; seed <= 1000 && !found; seed++) {
        cfg.seed = seed;
        assert_int_equal(ef_sim_run(&cfg, &r), 0);
        if (r.violations && strstr(r.violation, "agreement")) found = seed;
    }
    assert_true(found > 0);
    fprintf(stderr, "planted bug caught at seed %llu: %s\n", (unsigned long long)found, r.violation);
    cfg.bug_ignore_lock = false;
    cfg.seed = found;
    assert_int_equal(ef_sim_run(&cfg, &r), 0);
    assert_int_equal(r.violations, 0);
}

/* The disk model: half the crashes are power losses that lose or tear the WAL's
 * unsynced writes; the restarted validators recover through ef_wal and no
 * checker fires. */
static void test_sim_power_loss_clean(void **state)
{
    (void)state;
    ef_sim_cfg cfg;
    ef_sim_cfg_defaults(&cfg);
    assert_true(cfg.power_loss == 0.5); /* part of the default fault mix */
    cfg.byzantine = 1;
    cfg.heights = 5;
    cfg.loss = 0.1;
    cfg.crashes = 6;
    uint64_t power = 0, unsynced = 0, torn = 0, process = 0, syncs = 0;
    for (uint64_t seed = 1; seed <= 60; seed++) {
        ef_sim_result r;
        cfg.seed = seed;
        assert_int_equal(ef_sim_run(&cfg, &r), 0);
        if (r.violations) fprintf(stderr, "seed %llu: %s\n", (unsigned long long)seed, r.violation);
        assert_int_equal(r.violations, 0);
        assert_true(r.heights >= cfg.heights);
        power += r.power_losses;
        unsynced += r.power_losses_unsynced;
        torn += r.torn_writes;
        process += r.process_crashes;
        syncs += r.wal_syncs;
    }
    fprintf(stderr, "power losses %llu (%llu with unsynced writes, %llu torn), process crashes %llu\n",
            (unsigned long long)power, (unsigned long long)unsynced, (unsigned long long)torn,
            (unsigned long long)process);
    assert_true(power > 50 && process > 50 && unsynced > 5 && torn > 0 && syncs > 0);
}

/* Seeds on which, before a new WAL handle synced before its first send, a
 * validator restarted after a process crash re-sent records the dead process
 * had written but not synced, lost them to a power loss, and signed again
 * differently (ef_wal.h, ef_wal_file_sync). */
static void test_sim_power_loss_after_restart(void **state)
{
    (void)state;
    static const uint64_t seeds[] = {169, 274, 477, 734, 799};
    ef_sim_cfg cfg;
    ef_sim_cfg_defaults(&cfg);
    cfg.byzantine = 1;
    cfg.heights = 10;
    cfg.loss = 0.1;
    cfg.crashes = 8;
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        ef_sim_result r;
        cfg.seed = seeds[i];
        assert_int_equal(ef_sim_run(&cfg, &r), 0);
        if (r.violations) fprintf(stderr, "seed %llu: %s\n", (unsigned long long)seeds[i], r.violation);
        assert_int_equal(r.violations, 0);
        assert_true(r.power_losses > 0 && r.process_crashes > 0);
    }
}

/* The double-sign checker can fail: honest validators that send before their
 * WAL is synced double-sign after a power loss, and the simulator says so. The
 * same seed is clean without the bug, and with the bug but only process crashes
 * (which keep the page cache). */
static void test_sim_skip_wal_sync_caught(void **state)
{
    (void)state;
    ef_sim_cfg cfg;
    ef_sim_cfg_defaults(&cfg);
    cfg.byzantine = 1;
    cfg.heights = 10;
    cfg.crashes = 2;
    cfg.power_loss = 1;
    cfg.bug_skip_wal_sync = true;
    uint64_t found = 0;
    ef_sim_result r;
    for (uint64_t seed = 1; seed <= 200 && !found; seed++) {
        cfg.seed = seed;
        assert_int_equal(ef_sim_run(&cfg, &r), 0);
        if (r.violations && strstr(r.violation, "signed two different")) found = seed;
    }
    assert_true(found > 0);
    fprintf(stderr, "skipped WAL sync caught at seed %llu: %s\n", (unsigned long long)found, r.violation);
    cfg.seed = found;
    cfg.bug_skip_wal_sync = false;
    assert_int_equal(ef_sim_run(&cfg, &r), 0);
    assert_int_equal(r.violations, 0);
    cfg.bug_skip_wal_sync = true;
    cfg.power_loss = 0;
    assert_int_equal(ef_sim_run(&cfg, &r), 0);
    assert_int_equal(r.violations, 0);
    assert_int_equal(r.power_losses, 0);
}

static void test_sim_rejects_bad_config(void **state)
{
    (void)state;
    ef_sim_cfg cfg;
    ef_sim_result r;
    ef_sim_cfg_defaults(&cfg);
    cfg.validators = 0;
    assert_int_equal(ef_sim_run(&cfg, &r), EF_EINVAL);
    ef_sim_cfg_defaults(&cfg);
    cfg.byzantine = 4;
    assert_int_equal(ef_sim_run(&cfg, &r), EF_EINVAL);
    ef_sim_cfg_defaults(&cfg);
    cfg.loss = 1.0;
    assert_int_equal(ef_sim_run(&cfg, &r), EF_EINVAL);
    ef_sim_cfg_defaults(&cfg);
    cfg.power_loss = 1.5;
    assert_int_equal(ef_sim_run(&cfg, &r), EF_EINVAL);
    cfg.power_loss = -0.1;
    assert_int_equal(ef_sim_run(&cfg, &r), EF_EINVAL);
}

/* Jail: equivocating validators (double proposals and double votes) are caught by
 * honest engines, the evidence rides in proposed values, is recorded once per
 * (offender, height, round) and each offender leaves the set; with them gone the
 * engines see fewer double votes than in the same runs without jail. With
 * loss, a partition and a crash too. */
static void test_sim_jail_equivocators(void **state)
{
    (void)state;
    ef_sim_cfg cfg;
    ef_sim_cfg_defaults(&cfg);
    cfg.validators = 7;
    cfg.byzantine = 2;
    cfg.byz_kind = EF_SIM_BYZ_EQUIVOCATE;
    cfg.heights = 60;
    cfg.loss = 0.05;
    cfg.partitions = 1;
    cfg.crashes = 1;
    uint64_t ev_jail = 0, ev_free = 0;
    for (uint64_t seed = 1; seed <= 12; seed++) {
        ef_sim_result r;
        cfg.seed = seed;
        cfg.jail = true;
        assert_int_equal(ef_sim_run(&cfg, &r), 0);
        if (r.violations) fprintf(stderr, "seed %llu: %s\n", (unsigned long long)seed, r.violation);
        assert_int_equal(r.violations, 0);
        assert_int_equal(r.jailed, 2);
        assert_true(r.evidence_recorded >= 2);
        assert_true(r.jailed_at_max > 0 && r.jailed_at_max < r.heights);
        ev_jail += r.evidence;
        cfg.jail = false;
        assert_int_equal(ef_sim_run(&cfg, &r), 0);
        assert_int_equal(r.violations, 0);
        assert_int_equal(r.jailed, 0);
        assert_int_equal(r.evidence_recorded, 0);
        ev_free += r.evidence;
    }
    assert_true(ev_jail < ev_free);
    cfg.byz_kind = EF_SIM_BYZ_BAD_SIG + 1;
    ef_sim_result r;
    assert_int_equal(ef_sim_run(&cfg, &r), EF_EINVAL);
}

int main(void)
{
    assert_int_equal(ef_crypto_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_rejects_bad_config),
        cmocka_unit_test(test_sim_replays_exactly),
        cmocka_unit_test(test_sim_planted_bug_caught),
        cmocka_unit_test(test_sim_power_loss_clean),
        cmocka_unit_test(test_sim_power_loss_after_restart),
        cmocka_unit_test(test_sim_skip_wal_sync_caught),
        cmocka_unit_test(test_sim_n4_f1),
        cmocka_unit_test(test_sim_n7_f2),
        cmocka_unit_test(test_sim_n10_f3),
        cmocka_unit_test(test_sim_bad_sig_over_session),
        cmocka_unit_test(test_sim_jail_equivocators),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
