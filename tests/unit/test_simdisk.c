/* test_simdisk.c: the simulator's disk (unsynced writes lost or torn at a power loss) and the WAL's own recovery on it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "base/ef_crypto.h"
#include "consensus/ef_wal.h"
#include "sim/ef_simdisk.h"

/* Record i: 20 + (37 i mod 300) bytes, every byte i + 1 (so lengths vary and a
 * tear lands in headers and payloads alike). */
static size_t rec_make(uint8_t *buf, int i)
{
    size_t len = 20 + (size_t)(37 * i % 300);
    memset(buf, i + 1, len);
    return len;
}

typedef struct {
    int n;
    int bad; /* records that are not record n in order */
} recs;

static int rec_visit(void *arg, const uint8_t *rec, size_t len)
{
    recs *r = arg;
    uint8_t want[400];
    size_t wl = rec_make(want, r->n);
    if (len != wl || memcmp(rec, want, len)) r->bad++;
    r->n++;
    return 0;
}

static ef_wal_file *wal_open(ef_simdisk *d)
{
    ef_wal_dev dev = ef_simdisk_dev(d);
    ef_wal_file *w;
    assert_int_equal(ef_wal_file_open_dev(&w, &dev), 0);
    ef_wal_file_set_deferred(w, true); /* as the node and the simulator run it */
    return w;
}

static void wal_append(ef_wal_file *w, int i)
{
    uint8_t buf[400];
    size_t len = rec_make(buf, i);
    ef_wal_ops ops = ef_wal_file_ops(w);
    assert_int_equal(ops.append(ops.ctx, buf, len), 0);
}

static int wal_read(ef_wal_file *w, recs *r)
{
    ef_wal_ops ops = ef_wal_file_ops(w);
    *r = (recs){0};
    return ops.read_all(ops.ctx, rec_visit, r);
}

static void test_simdisk_device(void **state)
{
    (void)state;
    ef_simdisk *d;
    assert_int_equal(ef_simdisk_new(&d), 0);
    ef_wal_dev dev = ef_simdisk_dev(d);
    uint64_t size = 99;
    uint8_t buf[16];
    assert_int_equal(dev.size(dev.ctx, &size), 0);
    assert_int_equal(size, 0);
    assert_int_equal(dev.write(dev.ctx, 0, "abc", 3), 0);
    assert_int_equal(ef_simdisk_size(d), 3);
    assert_int_equal(ef_simdisk_durable_size(d), 0);
    assert_int_equal(ef_simdisk_unsynced(d), 1);
    assert_int_equal(dev.sync(dev.ctx), 0);
    assert_int_equal(ef_simdisk_durable_size(d), 3);
    assert_int_equal(ef_simdisk_unsynced(d), 0);
    /* a write past the end leaves a hole of zeros */
    assert_int_equal(dev.write(dev.ctx, 6, "xy", 2), 0);
    assert_int_equal(dev.read(dev.ctx, 0, buf, 8), 0);
    assert_memory_equal(buf, "abc\0\0\0xy", 8);
    assert_int_equal(dev.read(dev.ctx, 4, buf, 5), EF_EIO); /* past the end */
    assert_int_equal(dev.truncate(dev.ctx, 2), 0);
    assert_int_equal(ef_simdisk_size(d), 2);
    assert_int_equal(ef_simdisk_unsynced(d), 2);
    /* a power loss that loses every unsynced operation: back to "abc" */
    ef_simdisk_power_loss(d, EF_SIMDISK_LOSE_UNSYNCED, 1);
    assert_int_equal(ef_simdisk_size(d), 3);
    assert_int_equal(ef_simdisk_durable_size(d), 3);
    assert_int_equal(dev.read(dev.ctx, 0, buf, 3), 0);
    assert_memory_equal(buf, "abc", 3);
    const ef_simdisk_stats *st = ef_simdisk_get_stats(d);
    assert_int_equal(st->power_losses, 1);
    assert_int_equal(st->lost_ops, 2);
    assert_int_equal(st->lost_bytes, 2);
    assert_int_equal(st->torn, 0);
    /* a power loss with nothing unsynced loses nothing */
    ef_simdisk_power_loss(d, EF_SIMDISK_TORN_GARBAGE, 2);
    assert_int_equal(ef_simdisk_size(d), 3);
    assert_int_equal(ef_simdisk_get_stats(d)->torn, 0);
    ef_simdisk_free(d);
}

/* For every kind of power loss and many tear points: the WAL keeps every synced
 * record, recovers some prefix of the unsynced ones in order (never damage:
 * ef_wal's recovery cuts what the tear left), and appends after it survive. */
static void test_simdisk_power_loss_wal_recovers(void **state)
{
    (void)state;
    for (int kind = 0; kind < EF_SIMDISK_LOSS_KINDS; kind++) {
        uint64_t some_kept = 0, torn = 0, lost = 0, crashed_first = 0;
        for (uint64_t k = 0; k < 500; k++) {
            uint64_t rnd = k * 0x9e3779b97f4a7c15ULL + (uint64_t)kind;
            ef_simdisk *d;
            assert_int_equal(ef_simdisk_new(&d), 0);
            ef_wal_file *w = wal_open(d);
            int synced = 1 + (int)(k % 3), unsynced = 1 + (int)(k / 3 % 5);
            for (int i = 0; i < synced; i++) wal_append(w, i);
            assert_int_equal(ef_wal_file_sync(w), 0);
            for (int i = synced; i < synced + unsynced; i++) wal_append(w, i);
            if (k % 2) { /* the process died first, then the power */
                ef_wal_file_close(w);
                w = NULL;
                crashed_first++;
            }
            ef_simdisk_power_loss(d, (ef_simdisk_loss)kind, rnd);
            ef_wal_file_close(w);
            w = wal_open(d);
            recs r;
            assert_int_equal(wal_read(w, &r), 0);
            assert_int_equal(r.bad, 0);
            assert_true(r.n >= synced && r.n <= synced + unsynced);
            if (kind == EF_SIMDISK_LOSE_UNSYNCED) assert_int_equal(r.n, synced);
            if (r.n > synced) some_kept++;
            /* the torn tail is cut: the next record lands right after the intact
             * ones and survives the next power loss once synced */
            wal_append(w, r.n);
            assert_int_equal(ef_wal_file_sync(w), 0);
            ef_simdisk_power_loss(d, (ef_simdisk_loss)kind, rnd + 1);
            ef_wal_file_close(w);
            w = wal_open(d);
            int before = r.n;
            assert_int_equal(wal_read(w, &r), 0);
            assert_int_equal(r.bad, 0);
            assert_int_equal(r.n, before + 1);
            ef_wal_file_close(w);
            torn += ef_simdisk_get_stats(d)->torn;
            lost += ef_simdisk_get_stats(d)->lost_ops;
            ef_simdisk_free(d);
        }
        assert_true(lost > 0);
        assert_true(crashed_first > 0);
        if (kind == EF_SIMDISK_LOSE_UNSYNCED) {
            assert_int_equal(torn, 0);
        } else {
            assert_true(torn > 100);      /* the tears happened */
            assert_true(some_kept > 50);  /* and some unsynced records survived whole */
        }
    }
}

/* A validator that restarts after a process crash reads back records the dead
 * process wrote but never synced, and re-sends its own messages from them. The
 * new WAL handle must sync before that send even though it wrote nothing
 * itself; otherwise a power loss now loses what was already sent. */
static void test_simdisk_restart_syncs_what_it_read(void **state)
{
    (void)state;
    ef_simdisk *d;
    assert_int_equal(ef_simdisk_new(&d), 0);
    ef_wal_file *w = wal_open(d);
    wal_append(w, 0);
    wal_append(w, 1);
    assert_int_equal(ef_wal_file_sync(w), 0);
    wal_append(w, 2);       /* signed; the process dies before the sync */
    ef_wal_file_close(w);   /* process crash: the page cache keeps record 2 */
    w = wal_open(d);
    recs r;
    assert_int_equal(wal_read(w, &r), 0);
    assert_int_equal(r.n, 3);
    /* what the node (node_drain) and the simulator do before re-sending record 2 */
    assert_int_equal(ef_wal_file_sync(w), 0);
    assert_int_equal(ef_simdisk_unsynced(d), 0);
    ef_simdisk_power_loss(d, EF_SIMDISK_LOSE_UNSYNCED, 7);
    ef_wal_file_close(w);
    w = wal_open(d);
    assert_int_equal(wal_read(w, &r), 0);
    assert_int_equal(r.n, 3); /* record 2, which went out, is still there */
    assert_int_equal(r.bad, 0);
    ef_wal_file_close(w);
    ef_simdisk_free(d);
}

/* What the disk model leaves out: stale bytes over a record header (a file
 * system that extends the file before writing its data) look like damage, and
 * the WAL refuses to sign rather than guess (safe; docs/consensus.md). */
static void test_simdisk_stale_header_refuses(void **state)
{
    (void)state;
    ef_simdisk *d;
    assert_int_equal(ef_simdisk_new(&d), 0);
    ef_wal_file *w = wal_open(d);
    wal_append(w, 0);
    wal_append(w, 1);
    assert_int_equal(ef_wal_file_sync(w), 0);
    ef_wal_file_close(w);
    ef_wal_dev dev = ef_simdisk_dev(d);
    uint8_t junk[40];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)(0x5a + 13 * i);
    assert_int_equal(dev.write(dev.ctx, ef_simdisk_size(d), junk, sizeof junk), 0);
    assert_int_equal(dev.sync(dev.ctx), 0);
    w = wal_open(d);
    recs r;
    assert_int_equal(wal_read(w, &r), EF_ECORRUPT);
    uint8_t buf[400];
    size_t len = rec_make(buf, 2);
    ef_wal_ops ops = ef_wal_file_ops(w);
    assert_int_equal(ops.append(ops.ctx, buf, len), EF_ECORRUPT); /* sticky: no signing */
    ef_wal_file_close(w);
    ef_simdisk_free(d);
}

int main(void)
{
    assert_int_equal(ef_crypto_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simdisk_device),
        cmocka_unit_test(test_simdisk_power_loss_wal_recovers),
        cmocka_unit_test(test_simdisk_restart_syncs_what_it_read),
        cmocka_unit_test(test_simdisk_stale_header_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
