/* ef_simdisk.h: the simulator's disk: one file whose written-but-unsynced bytes a simulated power loss loses or tears. */
#ifndef EF_SIMDISK_H
#define EF_SIMDISK_H

#include <stdint.h>

#include "base/ef_err.h"
#include "consensus/ef_wal.h"

/* A simulated disk holds one file as two images: what the process reads (its
 * writes and truncations land there at once, as in the page cache) and what is
 * durable (the image at the last sync), plus the list of operations since that
 * sync, in order. It is a WAL device (ef_wal_dev), so a validator's WAL in the
 * simulator is the node's file-side code (ef_wal_file_open_dev) on it.
 *
 * A process crash loses nothing the process wrote (SIGKILL keeps the page cache):
 * the simulator just closes the WAL without syncing and opens a new one on the
 * same disk. A power loss (ef_simdisk_power_loss) keeps the durable image and
 * applies to it what of the unsynced operations survives, by kind:
 *
 *   kind                    what survives of the unsynced operations
 *   LOSE_UNSYNCED           nothing
 *   TORN_SHORT              the first k in order (k random in [0, ops)), then a
 *                           random prefix of operation k if it is a write (a
 *                           truncation is all or nothing); the file ends there
 *   TORN_ZEROS              as TORN_SHORT, but the file reaches the end of the
 *                           torn write and its missing bytes read as zeros
 *                           (space allocated, data not written)
 *   TORN_GARBAGE            as TORN_ZEROS, but the missing bytes are random (stale
 *                           blocks); a write of at most EF_SIMDISK_ATOMIC_MAX bytes
 *                           tears as TORN_SHORT (see below)
 *
 * Operations are persisted in the order they were issued (a journaling file
 * system's ordered mode); a later write surviving an earlier lost one is not
 * modelled. Nor is stale data over a WAL record's 12-byte header (written alone,
 * at most EF_SIMDISK_ATOMIC_MAX bytes): ef_wal cannot tell that from damage and
 * refuses to sign (EF_ECORRUPT, safe; tests/unit/test_sim.c shows it).
 *
 * Limits: at most EF_SIMDISK_SIZE_MAX bytes and EF_SIMDISK_OPS_MAX operations
 * between syncs; beyond them an operation fails with EF_EIO (which the WAL makes
 * sticky). Never fails otherwise except EF_ENOMEM (reported as EF_EIO through the
 * device). Not thread-safe. Deterministic: a power loss takes its choices from
 * the rnd its caller passes. */
#define EF_SIMDISK_SIZE_MAX (64u << 20)
#define EF_SIMDISK_OPS_MAX (1u << 20)
#define EF_SIMDISK_ATOMIC_MAX 16u

typedef enum ef_simdisk_loss {
    EF_SIMDISK_LOSE_UNSYNCED = 0,
    EF_SIMDISK_TORN_SHORT = 1,
    EF_SIMDISK_TORN_ZEROS = 2,
    EF_SIMDISK_TORN_GARBAGE = 3,
    EF_SIMDISK_LOSS_KINDS = 4
} ef_simdisk_loss;

typedef struct ef_simdisk_stats {
    uint64_t writes;        /* write operations */
    uint64_t truncates;
    uint64_t syncs;         /* sync calls that had something to make durable */
    uint64_t power_losses;
    uint64_t lost_ops;      /* unsynced operations that did not survive a power loss, whole */
    uint64_t lost_bytes;    /* bytes of unsynced writes that did not survive */
    uint64_t torn;          /* power losses that left a write torn */
} ef_simdisk_stats;

typedef struct ef_simdisk ef_simdisk;

/* An empty disk. 0 or EF_ENOMEM. */
EF_MUST_USE int ef_simdisk_new(ef_simdisk **out);
void ef_simdisk_free(ef_simdisk *d);
/* The device for ef_wal_file_open_dev (close is NULL: the caller owns d). */
ef_wal_dev ef_simdisk_dev(ef_simdisk *d);
/* Operations since the last sync. */
uint64_t ef_simdisk_unsynced(const ef_simdisk *d);
/* Bytes in the file as the process sees it, and durably. */
uint64_t ef_simdisk_size(const ef_simdisk *d);
uint64_t ef_simdisk_durable_size(const ef_simdisk *d);
/* Simulated power loss of the given kind (< EF_SIMDISK_LOSS_KINDS); rnd seeds
 * its choices (k, the tear point, the garbage). Afterwards the surviving image is
 * both what the process reads and durable. */
void ef_simdisk_power_loss(ef_simdisk *d, ef_simdisk_loss kind, uint64_t rnd);
const ef_simdisk_stats *ef_simdisk_get_stats(const ef_simdisk *d);

#endif
