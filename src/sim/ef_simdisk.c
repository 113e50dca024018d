/* ef_simdisk.c: the simulator's disk: page-cache and durable images, the unsynced operations, power loss. */
#include "sim/ef_simdisk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EF_SIMDISK_OP_WRITE = 1, EF_SIMDISK_OP_TRUNCATE = 2 };

typedef struct {
    uint8_t kind;
    uint64_t off;      /* write: offset; truncate: the new size */
    uint8_t *data;     /* write: owned copy */
    size_t len;
} ef_simdisk_op;

typedef struct {
    uint8_t *p;
    uint64_t len, cap;
} ef_simdisk_img;

struct ef_simdisk {
    ef_simdisk_img cur;      /* what the process reads */
    ef_simdisk_img dur;      /* durable */
    ef_simdisk_op *ops;      /* since the last sync, in order */
    size_t nops, capops;
    ef_simdisk_stats st;
};

static uint64_t ef_simdisk_mix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int ef_img_resize(ef_simdisk_img *m, uint64_t len)
{
    if (len > EF_SIMDISK_SIZE_MAX) return EF_EIO;
    if (len > m->cap) {
        uint64_t nc = m->cap ? m->cap : 4096;
        while (nc < len) nc *= 2;
        uint8_t *p = realloc(m->p, nc);
        if (!p) return EF_EIO;
        m->p = p;
        m->cap = nc;
    }
    if (len > m->len) memset(m->p + m->len, 0, len - m->len); /* a hole reads as zeros */
    m->len = len;
    return 0;
}

static int ef_img_write(ef_simdisk_img *m, uint64_t off, const uint8_t *p, size_t n)
{
    if (off + n > m->len && ef_img_resize(m, off + n)) return EF_EIO;
    memcpy(m->p + off, p, n);
    return 0;
}

static int ef_img_copy(ef_simdisk_img *dst, const ef_simdisk_img *src)
{
    dst->len = 0;
    if (ef_img_resize(dst, src->len)) return EF_EIO;
    if (src->len) memcpy(dst->p, src->p, src->len);
    return 0;
}

int ef_simdisk_new(ef_simdisk **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : EF_ENOMEM;
}

static void ef_simdisk_drop_ops(ef_simdisk *d)
{
    for (size_t i = 0; i < d->nops; i++) free(d->ops[i].data);
    d->nops = 0;
}

void ef_simdisk_free(ef_simdisk *d)
{
    if (!d) return;
    ef_simdisk_drop_ops(d);
    free(d->ops);
    free(d->cur.p);
    free(d->dur.p);
    free(d);
}

static int ef_simdisk_log(ef_simdisk *d, ef_simdisk_op op)
{
    if (d->nops >= EF_SIMDISK_OPS_MAX) return EF_EIO;
    if (d->nops == d->capops) {
        size_t nc = d->capops ? d->capops * 2 : 64;
        ef_simdisk_op *n = realloc(d->ops, nc * sizeof *n);
        if (!n) return EF_EIO;
        d->ops = n;
        d->capops = nc;
    }
    d->ops[d->nops++] = op;
    return 0;
}

/* ---- the device ---- */

static int ef_simdisk_dev_size(void *ctx, uint64_t *size)
{
    *size = ((ef_simdisk *)ctx)->cur.len;
    return 0;
}

static int ef_simdisk_dev_read(void *ctx, uint64_t off, void *buf, size_t n)
{
    ef_simdisk *d = ctx;
    if (off > d->cur.len || n > d->cur.len - off) return EF_EIO;
    if (n) memcpy(buf, d->cur.p + off, n);
    return 0;
}

static int ef_simdisk_dev_write(void *ctx, uint64_t off, const void *buf, size_t n)
{
    ef_simdisk *d = ctx;
    if (off > EF_SIMDISK_SIZE_MAX || n > EF_SIMDISK_SIZE_MAX - off) return EF_EIO;
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy) return EF_EIO;
    memcpy(copy, buf, n);
    ef_simdisk_op op = {.kind = EF_SIMDISK_OP_WRITE, .off = off, .data = copy, .len = n};
    if (ef_simdisk_log(d, op)) {
        free(copy);
        return EF_EIO;
    }
    if (ef_img_write(&d->cur, off, copy, n)) {
        d->nops--;
        free(copy);
        return EF_EIO;
    }
    d->st.writes++;
    return 0;
}

static int ef_simdisk_dev_truncate(void *ctx, uint64_t size)
{
    ef_simdisk *d = ctx;
    if (size > EF_SIMDISK_SIZE_MAX) return EF_EIO;
    ef_simdisk_op op = {.kind = EF_SIMDISK_OP_TRUNCATE, .off = size};
    if (ef_simdisk_log(d, op)) return EF_EIO;
    if (size < d->cur.len) d->cur.len = size;
    else if (ef_img_resize(&d->cur, size)) {
        d->nops--;
        return EF_EIO;
    }
    d->st.truncates++;
    return 0;
}

static int ef_simdisk_dev_sync(void *ctx)
{
    ef_simdisk *d = ctx;
    if (!d->nops) return 0;
    if (ef_img_copy(&d->dur, &d->cur)) return EF_EIO;
    ef_simdisk_drop_ops(d);
    d->st.syncs++;
    return 0;
}

ef_wal_dev ef_simdisk_dev(ef_simdisk *d)
{
    return (ef_wal_dev){.size = ef_simdisk_dev_size, .read = ef_simdisk_dev_read,
                        .write = ef_simdisk_dev_write, .truncate = ef_simdisk_dev_truncate,
                        .sync = ef_simdisk_dev_sync, .close = NULL, .ctx = d};
}

uint64_t ef_simdisk_unsynced(const ef_simdisk *d)
{
    return d->nops;
}

uint64_t ef_simdisk_size(const ef_simdisk *d)
{
    return d->cur.len;
}

uint64_t ef_simdisk_durable_size(const ef_simdisk *d)
{
    return d->dur.len;
}

const ef_simdisk_stats *ef_simdisk_get_stats(const ef_simdisk *d)
{
    return &d->st;
}

/* ---- power loss ---- */

/* Applies op to m whole. Cannot fail: every size was checked when it was issued. */
static void ef_simdisk_apply(ef_simdisk_img *m, const ef_simdisk_op *op)
{
    int rc = 0;
    if (op->kind == EF_SIMDISK_OP_WRITE) rc = ef_img_write(m, op->off, op->data, op->len);
    else if (op->off < m->len) m->len = op->off;
    else rc = ef_img_resize(m, op->off);
    EF_ASSERT(rc == 0);
    (void)rc;
}

/* Applies the first keep bytes of write op to m; the rest of the write reads as
 * fill (zeros, or garbage from x) where it lies beyond m's end, or the file ends
 * after the kept bytes (fill == TORN_SHORT). */
static void ef_simdisk_apply_torn(ef_simdisk_img *m, const ef_simdisk_op *op, size_t keep,
                                  ef_simdisk_loss fill, uint64_t *x)
{
    uint64_t old_len = m->len;
    int rc = ef_img_write(m, op->off, op->data, keep);
    EF_ASSERT(rc == 0);
    if (fill == EF_SIMDISK_TORN_SHORT) return;
    uint64_t end = op->off + op->len;
    if (end <= m->len) return;
    uint64_t from = m->len > old_len ? m->len : old_len; /* bytes the file already had stay */
    rc = ef_img_resize(m, end);                          /* zeros */
    EF_ASSERT(rc == 0);
    if (fill == EF_SIMDISK_TORN_GARBAGE)
        for (uint64_t i = from; i < end; i++) m->p[i] = (uint8_t)ef_simdisk_mix(x);
}

void ef_simdisk_power_loss(ef_simdisk *d, ef_simdisk_loss kind, uint64_t rnd)
{
    EF_ASSERT((unsigned)kind < EF_SIMDISK_LOSS_KINDS);
    uint64_t x = rnd;
    d->st.power_losses++;
    size_t keep_ops = 0;
    if (kind != EF_SIMDISK_LOSE_UNSYNCED && d->nops) keep_ops = (size_t)(ef_simdisk_mix(&x) % d->nops);
    /* the durable image plus what survives */
    ef_simdisk_img m = d->dur;
    d->dur = (ef_simdisk_img){0};
    for (size_t i = 0; i < keep_ops; i++) ef_simdisk_apply(&m, &d->ops[i]);
    for (size_t i = keep_ops; i < d->nops; i++) {
        const ef_simdisk_op *op = &d->ops[i];
        size_t kept = 0;
        if (i == keep_ops && kind != EF_SIMDISK_LOSE_UNSYNCED && op->kind == EF_SIMDISK_OP_WRITE &&
            op->len > 0) {
            ef_simdisk_loss fill = kind;
            if (fill == EF_SIMDISK_TORN_GARBAGE && op->len <= EF_SIMDISK_ATOMIC_MAX)
                fill = EF_SIMDISK_TORN_SHORT;
            kept = (size_t)(ef_simdisk_mix(&x) % op->len);
            ef_simdisk_apply_torn(&m, op, kept, fill, &x);
            d->st.torn++;
        } else {
            d->st.lost_ops++;
        }
        if (op->kind == EF_SIMDISK_OP_WRITE) d->st.lost_bytes += op->len - kept;
    }
    ef_simdisk_drop_ops(d);
    /* what survived is on the platter and what the restarted process reads */
    int rc = ef_img_copy(&d->cur, &m);
    EF_ASSERT(rc == 0);
    (void)rc;
    d->dur = m;
}
