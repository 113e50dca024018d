/* ef_wal.h: the write-ahead record of a validator's own signed messages (file and in-memory sides). */
#ifndef EF_WAL_H
#define EF_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/ef_err.h"
#include "consensus/ef_msg.h"

/* The engine writes each proposal and vote it signs to the WAL, and the write is
 * durable, before the message is handed out for sending. After a restart it reads
 * the records back so it never signs a different value for the same height,
 * round and step, and it recovers its lock.
 *
 * A record is at most EF_WAL_RECORD_MAX bytes and is either one signed consensus
 * message (ef_msg.h; its first byte is the message type, 1..3) or a lock record,
 * written before the precommit that locks, so that after a restart the validator
 * can propose its locked value again with its proof of lock:
 *
 *   field    type    meaning
 *   kind     u8      EF_WAL_REC_LOCK (0xf0)
 *   height   u64     the height
 *   round    u32     the round of the lock
 *   value    bytes   the locked value (<= EF_MSG_VALUE_MAX)
 *   count    u16     number of prevotes that follow
 *   count x  bytes   a prevote message for the value in that round (signed by its validator)
 *
 * or a votes record, written before the validator changes round, holding the
 * votes of others that justify the change, so that after a restart it can still
 * relay them to validators left in the old round:
 *
 *   field    type    meaning
 *   kind     u8      EF_WAL_REC_VOTES (0xf1)
 *   height   u64     the height
 *   count    u16     number of votes that follow (>= 1)
 *   count x  bytes   a prevote or precommit message (signed by its validator)
 *
 * The storage is a table of function pointers with two sides: a file
 * (ef_wal_file_*), which the node runs on a file descriptor and the simulator on
 * its simulated disk (ef_wal_dev; src/sim/ef_simdisk.h), so the recovery code the
 * simulator exercises after a simulated power loss is the node's; and a memory
 * one (ef_wal_mem_*) for unit tests, where every append is durable at once. */
#define EF_WAL_RECORD_MAX (EF_MSG_SIZE_MAX + 64u + EF_VSET_MAX * (EF_MSG_VOTE_SIGNED_MAX + EF_SIG_SIZE + 4u))
#define EF_WAL_REC_LOCK 0xf0u
#define EF_WAL_REC_VOTES 0xf1u

typedef int (*ef_wal_visit_fn)(void *arg, const uint8_t *rec, size_t len);

typedef struct ef_wal_ops {
    /* Appends one record and makes it durable before returning, or (a deferred
     * file, see ef_wal_file_set_deferred) before anything the caller received from
     * the engine since is sent. 0 or EF_EIO (sticky: after a failure every later
     * append fails too). */
    int (*append)(void *ctx, const uint8_t *rec, size_t len);
    /* Calls visit for every intact record in order. A torn last record (a crash
     * during append) ends the scan and is ignored; damage anywhere else is
     * EF_ECORRUPT, sticky (the validator must not sign). visit returns 0 to go
     * on or an error to stop (returned). 0, EF_EIO or EF_ECORRUPT. */
    int (*read_all)(void *ctx, ef_wal_visit_fn visit, void *arg);
    /* Drops every record (the engine calls it when a new height starts and no
     * record is for that height or later). Need not be durable by itself: the
     * dropped records are of lower heights, which read-back skips, and the drop
     * becomes durable with the next append. 0 or EF_EIO. */
    int (*reset)(void *ctx);
    void *ctx;
} ef_wal_ops;

/* File side. Record layout, one after another:
 *
 *   offset  size  meaning
 *   0       4     u32 n: payload length (1..EF_WAL_RECORD_MAX)
 *   4       8     first 8 bytes of BLAKE2b-256(n as u32 || payload)
 *   12      n     payload (a signed consensus message)
 *
 * Append is write() then fdatasync() (or, deferred, write() now and one
 * fdatasync() in ef_wal_file_sync for every record written since); a failed write
 * or flush is sticky. What a crash during the last append leaves (a record that
 * runs past the end of the file, a last record whose checksum fails, zeros to
 * the end) is a torn write: ignored by read_all, cut by the next append. A bad
 * record anywhere else is EF_ECORRUPT: sticky, logged, nothing cut; the node
 * does not start until an operator runs `edgefed wal recover` (docs/node.md).
 * Reset is ftruncate(0), flushed with the next record. */
typedef struct ef_wal_file ef_wal_file;

/* The device under the file side: one byte array that can be read, written,
 * cut and made durable. ef_wal_file_open uses a file descriptor (pread, pwrite,
 * ftruncate, fdatasync); the simulator passes its simulated disk, which keeps
 * written-but-unsynced bytes apart from synced ones and loses the former at a
 * simulated power loss. Each function returns 0 or EF_EIO.
 *   size      *size = bytes in the device
 *   read      exactly n bytes at off (off + n <= size; anything else is EF_EIO)
 *   write     n bytes at off (the device grows to off + n if shorter)
 *   truncate  the device becomes size bytes long
 *   sync      everything written and truncated so far is durable
 *   close     releases ctx (may be NULL: the owner keeps it) */
typedef struct ef_wal_dev {
    int (*size)(void *ctx, uint64_t *size);
    int (*read)(void *ctx, uint64_t off, void *buf, size_t n);
    int (*write)(void *ctx, uint64_t off, const void *buf, size_t n);
    int (*truncate)(void *ctx, uint64_t size);
    int (*sync)(void *ctx);
    void (*close)(void *ctx);
    void *ctx;
} ef_wal_dev;

/* Opens or creates path (mode 0600). Returns 0, EF_EIO, or EF_ENOMEM. */
EF_MUST_USE int ef_wal_file_open(ef_wal_file **out, const char *path);
/* The same WAL on dev (copied; dev->ctx must outlive the WAL unless dev->close
 * releases it). Returns 0 or EF_ENOMEM. */
EF_MUST_USE int ef_wal_file_open_dev(ef_wal_file **out, const ef_wal_dev *dev);
/* Closes the WAL (and its device) without syncing: what was appended since the
 * last sync is as durable as the device makes it, as after a crash. */
void ef_wal_file_close(ef_wal_file *w);
/* The ops table for w (ctx = w). Valid until ef_wal_file_close. */
ef_wal_ops ef_wal_file_ops(ef_wal_file *w);
/* Deferred mode (off by default): append writes the record but does not flush it;
 * the owner must call ef_wal_file_sync before it sends anything the engine output
 * after that append (the node does so before every consensus broadcast), so that
 * several records signed in one step (a lock record and its precommit, a proposal
 * and its prevote) cost one flush and still reach the disk before they leave. */
void ef_wal_file_set_deferred(ef_wal_file *w, bool deferred);
/* Makes every record appended so far (and the last reset) durable: fdatasync if
 * anything was written since the last one, or if this handle has not synced yet
 * (the records a restarted validator reads back and re-sends may have been
 * written by the process that crashed and never synced). 0 or EF_EIO (sticky,
 * as for append). */
EF_MUST_USE int ef_wal_file_sync(ef_wal_file *w);

/* What ef_wal_file_check found in a WAL file. */
typedef struct ef_wal_file_report {
    uint64_t size;          /* bytes in the file */
    uint64_t records;       /* intact records before the end or the damage */
    uint64_t intact_bytes;  /* their length: what recovery keeps */
    bool corrupt;           /* damage that is not a torn last write */
} ef_wal_file_report;
/* Reads path without changing it. Returns 0 (see rep->corrupt), EF_EIO or
 * EF_ENOMEM. */
EF_MUST_USE int ef_wal_file_check(const char *path, ef_wal_file_report *rep);

/* Memory side (unit tests): every append is durable at once. Never fails except
 * EF_ENOMEM. Not thread-safe. */
typedef struct ef_wal_mem ef_wal_mem;
EF_MUST_USE int ef_wal_mem_new(ef_wal_mem **out);
void ef_wal_mem_free(ef_wal_mem *w);
ef_wal_ops ef_wal_mem_ops(ef_wal_mem *w);
size_t ef_wal_mem_count(const ef_wal_mem *w);

#endif
