/* ef_wal.c: the write-ahead record's file side (write + fdatasync, checksummed) and memory side. */
#include "consensus/ef_wal.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "base/ef_log.h"

#define EF_WAL_HDR 12u

static void ef_wal_sum(uint8_t out[8], const uint8_t *rec, size_t len)
{
    ef_hasher h;
    ef_hash d;
    uint8_t n[4];
    ef_put_u32le(n, (uint32_t)len);
    ef_hasher_init(&h, EF_TAG_VOTE);
    ef_hasher_update(&h, n, 4);
    ef_hasher_update(&h, rec, len);
    ef_hasher_final(&h, &d);
    memcpy(out, d.b, 8);
}

/* ---------------- file side ---------------- */

static int ef_wal_count_visit(void *arg, const uint8_t *rec, size_t len)
{
    (void)rec;
    (void)len;
    ((ef_wal_file_report *)arg)->records++;
    return 0;
}

struct ef_wal_file {
    ef_wal_dev dev;
    int fd;           /* the file descriptor of ef_wal_file_open's device; -1 otherwise */
    int err;          /* sticky */
    uint64_t good_end;/* end of the last intact record (valid once scanned) */
    bool scanned;     /* good_end is known */
    bool cut_tail;    /* good_end comes from a scan: cut what follows before appending */
    bool deferred;    /* append writes; ef_wal_file_sync makes it durable */
    bool pending;     /* maybe not durable: written since the last sync, or never synced
                         by this handle (what a crashed process wrote may still be cached) */
};

/* ---- the file descriptor device ---- */

static int ef_wal_fd_size(void *ctx, uint64_t *size)
{
    struct stat st;
    if (fstat(*(int *)ctx, &st) || st.st_size < 0) return EF_EIO;
    *size = (uint64_t)st.st_size;
    return 0;
}

static int ef_wal_fd_read(void *ctx, uint64_t off, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(*(int *)ctx, (uint8_t *)buf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return EF_EIO;
        got += (size_t)r;
    }
    return 0;
}

static int ef_wal_fd_write(void *ctx, uint64_t off, const void *buf, size_t n)
{
    size_t put = 0;
    while (put < n) {
        ssize_t r = pwrite(*(int *)ctx, (const uint8_t *)buf + put, n - put, (off_t)(off + put));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return EF_EIO;
        put += (size_t)r;
    }
    return 0;
}

static int ef_wal_fd_truncate(void *ctx, uint64_t size)
{
    return ftruncate(*(int *)ctx, (off_t)size) ? EF_EIO : 0;
}

static int ef_wal_fd_sync(void *ctx)
{
    return fdatasync(*(int *)ctx) ? EF_EIO : 0;
}

static ef_wal_file *ef_wal_file_alloc(const ef_wal_dev *dev)
{
    ef_wal_file *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->fd = -1;
    if (dev) w->dev = *dev;
    w->pending = true; /* what is in the file may be a crashed process's unsynced writes */
    return w;
}

/* Points w's device at w->fd. */
static void ef_wal_file_use_fd(ef_wal_file *w)
{
    w->dev = (ef_wal_dev){.size = ef_wal_fd_size, .read = ef_wal_fd_read, .write = ef_wal_fd_write,
                          .truncate = ef_wal_fd_truncate, .sync = ef_wal_fd_sync, .ctx = &w->fd};
}

int ef_wal_file_open(ef_wal_file **out, const char *path)
{
    *out = NULL;
    ef_wal_file *w = ef_wal_file_alloc(NULL);
    if (!w) return EF_ENOMEM;
    w->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (w->fd < 0) {
        free(w);
        return EF_EIO;
    }
    ef_wal_file_use_fd(w);
    *out = w;
    return 0;
}

int ef_wal_file_open_dev(ef_wal_file **out, const ef_wal_dev *dev)
{
    EF_ASSERT(dev && dev->size && dev->read && dev->write && dev->truncate && dev->sync);
    *out = ef_wal_file_alloc(dev);
    return *out ? 0 : EF_ENOMEM;
}

void ef_wal_file_close(ef_wal_file *w)
{
    if (!w) return;
    if (w->fd >= 0) close(w->fd);
    if (w->dev.close) w->dev.close(w->dev.ctx);
    free(w);
}

/* 1 if every byte of the device from off to size is zero (space a crash left
 * allocated but unwritten), 0 if not, EF_EIO. */
static int ef_wal_zero_to_end(ef_wal_file *w, uint64_t off, uint64_t size)
{
    uint8_t buf[4096];
    while (off < size) {
        size_t n = (size_t)EF_MIN((uint64_t)sizeof buf, size - off);
        if (w->dev.read(w->dev.ctx, off, buf, n)) return EF_EIO;
        for (size_t i = 0; i < n; i++)
            if (buf[i]) return 0;
        off += n;
    }
    return 1;
}

/* Visits intact records and sets w->good_end to the end of the last one. What
 * follows may be cut only if it is what a crash during the last append leaves: a
 * record that runs past the end of the file, a last record whose checksum fails,
 * or zeros to the end. Anything else (a bad record with intact-looking data
 * after it) is damage to records the validator relied on: EF_ECORRUPT, sticky,
 * and nothing is cut (edgefed wal recover keeps a copy; docs/node.md). */
static int ef_wal_file_scan(ef_wal_file *w, ef_wal_visit_fn visit, void *arg)
{
    uint64_t off = 0, size;
    uint8_t hdr[EF_WAL_HDR], sum[8];
    uint8_t *rec = NULL;
    int rc = 0;
    if (w->dev.size(w->dev.ctx, &size)) return EF_EIO;
    for (;;) {
        if (off == size) break;
        if (off + EF_WAL_HDR > size) break;                     /* torn header */
        if (w->dev.read(w->dev.ctx, off, hdr, EF_WAL_HDR)) { rc = EF_EIO; goto out; }
        uint32_t n = ef_get_u32le(hdr);
        bool bad = n == 0 || n > EF_WAL_RECORD_MAX;
        if (!bad && off + EF_WAL_HDR + n > size) break;          /* torn payload */
        if (!bad) {
            uint8_t *nrec = realloc(rec, n);
            if (!nrec) { rc = EF_ENOMEM; goto out; }
            rec = nrec;
            if (w->dev.read(w->dev.ctx, off + EF_WAL_HDR, rec, n)) { rc = EF_EIO; goto out; }
            ef_wal_sum(sum, rec, n);
            if (memcmp(sum, hdr + 4, 8)) {
                if (off + EF_WAL_HDR + n == size) break;         /* torn last record */
                bad = true;
            }
        }
        if (bad) {
            int z = ef_wal_zero_to_end(w, off, size);
            if (z < 0) { rc = EF_EIO; goto out; }
            if (z) break;                                        /* unwritten tail */
            EF_LOGE("wal", "record at offset %llu of %llu bytes is damaged and is not the last: "
                    "refusing to sign (see docs/node.md, 'edgefed wal recover')",
                    (unsigned long long)off, (unsigned long long)size);
            w->good_end = off;
            w->scanned = true;
            w->err = rc = EF_ECORRUPT;
            goto out;
        }
        if (visit && (rc = visit(arg, rec, n))) goto out;
        off += EF_WAL_HDR + n;
    }
    w->good_end = off;
    w->scanned = true;
    w->cut_tail = true;
out:
    free(rec);
    return rc;
}

int ef_wal_file_check(const char *path, ef_wal_file_report *rep)
{
    memset(rep, 0, sizeof *rep);
    ef_wal_file *w = ef_wal_file_alloc(NULL);
    if (!w) return EF_ENOMEM;
    int rc = 0;
    w->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (w->fd < 0) {
        rc = EF_EIO;
        goto out;
    }
    ef_wal_file_use_fd(w);
    if ((rc = w->dev.size(w->dev.ctx, &rep->size))) goto out;
    rc = ef_wal_file_scan(w, ef_wal_count_visit, rep);
    rep->intact_bytes = w->good_end;
    rep->corrupt = rc == EF_ECORRUPT;
    if (rep->corrupt) rc = 0;
out:
    ef_wal_file_close(w);
    return rc;
}

static int ef_wal_file_read_all(void *ctx, ef_wal_visit_fn visit, void *arg)
{
    ef_wal_file *w = ctx;
    if (w->err) return w->err;
    return ef_wal_file_scan(w, visit, arg);
}

static int ef_wal_file_append(void *ctx, const uint8_t *rec, size_t len)
{
    ef_wal_file *w = ctx;
    uint8_t hdr[EF_WAL_HDR];
    int rc;
    if (w->err) return w->err;
    if (len == 0 || len > EF_WAL_RECORD_MAX) return EF_ETOOBIG;
    if (!w->scanned && (rc = ef_wal_file_scan(w, NULL, NULL))) return rc;
    /* Cut a torn tail (found by the last scan) before writing after it. */
    if (w->cut_tail) {
        uint64_t size;
        if (w->dev.size(w->dev.ctx, &size) ||
            (size > w->good_end && w->dev.truncate(w->dev.ctx, w->good_end)))
            goto fail;
        w->cut_tail = false;
    }
    ef_put_u32le(hdr, (uint32_t)len);
    ef_wal_sum(hdr + 4, rec, len);
    if (w->dev.write(w->dev.ctx, w->good_end, hdr, EF_WAL_HDR) ||
        w->dev.write(w->dev.ctx, w->good_end + EF_WAL_HDR, rec, len))
        goto fail;
    w->good_end += EF_WAL_HDR + len;
    w->pending = true;
    if (!w->deferred) return ef_wal_file_sync(w);
    return 0;
fail:
    w->err = EF_EIO;
    return w->err;
}

/* The truncation is not flushed here: it becomes durable with the next synced
 * append, and until then the records it drops are all of lower heights than any
 * the engine will write next (it resets only then), which the engine skips on
 * read-back. */
static int ef_wal_file_reset(void *ctx)
{
    ef_wal_file *w = ctx;
    if (w->err) return w->err;
    if (w->dev.truncate(w->dev.ctx, 0)) {
        w->err = EF_EIO;
        return w->err;
    }
    w->good_end = 0;
    w->scanned = true;
    w->cut_tail = false;
    w->pending = true;
    return 0;
}

void ef_wal_file_set_deferred(ef_wal_file *w, bool deferred)
{
    w->deferred = deferred;
}

int ef_wal_file_sync(ef_wal_file *w)
{
    if (w->err) return w->err;
    if (!w->pending) return 0;
    if (w->dev.sync(w->dev.ctx)) {
        w->err = EF_EIO;
        return w->err;
    }
    w->pending = false;
    return 0;
}

ef_wal_ops ef_wal_file_ops(ef_wal_file *w)
{
    return (ef_wal_ops){.append = ef_wal_file_append, .read_all = ef_wal_file_read_all,
                        .reset = ef_wal_file_reset, .ctx = w};
}

/* ---------------- memory side ---------------- */

#define EF_WAL_MEM_RECORDS_MAX 1000000u

typedef struct {
    uint8_t *p;
    size_t len;
} ef_wal_mem_rec;

struct ef_wal_mem {
    ef_wal_mem_rec *recs;
    size_t len, cap;
};

int ef_wal_mem_new(ef_wal_mem **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : EF_ENOMEM;
}

static void ef_wal_mem_clear(ef_wal_mem *w)
{
    for (size_t i = 0; i < w->len; i++) free(w->recs[i].p);
    w->len = 0;
}

void ef_wal_mem_free(ef_wal_mem *w)
{
    if (!w) return;
    ef_wal_mem_clear(w);
    free(w->recs);
    free(w);
}

size_t ef_wal_mem_count(const ef_wal_mem *w)
{
    return w->len;
}

static int ef_wal_mem_append(void *ctx, const uint8_t *rec, size_t len)
{
    ef_wal_mem *w = ctx;
    if (len == 0 || len > EF_WAL_RECORD_MAX) return EF_ETOOBIG;
    if (w->len >= EF_WAL_MEM_RECORDS_MAX) return EF_EFULL;
    if (w->len == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 16;
        ef_wal_mem_rec *n = realloc(w->recs, ncap * sizeof *n);
        if (!n) return EF_ENOMEM;
        w->recs = n;
        w->cap = ncap;
    }
    uint8_t *p = malloc(len);
    if (!p) return EF_ENOMEM;
    memcpy(p, rec, len);
    w->recs[w->len++] = (ef_wal_mem_rec){p, len};
    return 0;
}

static int ef_wal_mem_read_all(void *ctx, ef_wal_visit_fn visit, void *arg)
{
    ef_wal_mem *w = ctx;
    for (size_t i = 0; i < w->len; i++) {
        int rc = visit(arg, w->recs[i].p, w->recs[i].len);
        if (rc) return rc;
    }
    return 0;
}

static int ef_wal_mem_reset(void *ctx)
{
    ef_wal_mem_clear(ctx);
    return 0;
}

ef_wal_ops ef_wal_mem_ops(ef_wal_mem *w)
{
    return (ef_wal_ops){.append = ef_wal_mem_append, .read_all = ef_wal_mem_read_all,
                        .reset = ef_wal_mem_reset, .ctx = w};
}
