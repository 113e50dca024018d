/* ef_slicemon.c: the slice traffic sender and the per-epoch SLA monitor; see ef_slicemon.h. */
#include "agents/ef_slicemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agents/ef_proc.h"
#include "base/ef_codec.h"
#include "base/ef_log.h"

static uint64_t ef_sm_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void ef_sm_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void ef_sm_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t ef_sm_get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static uint64_t ef_sm_get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static int ef_sm_socket(const char *netns)
{
    int fd = ef_proc_netns_socket(netns, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    return fd < 0 ? EF_ENET : fd;
}

/* ---- sender ---- */

static void ef_sm_sendto(int fd, const uint8_t *buf, size_t len, uint32_t ip, uint16_t port, uint64_t *errs)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(ip)};
    if (sendto(fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)&a, sizeof a) < 0) (*errs)++;
}

static void ef_sm_fin(const ef_slicemon_send_cfg *c, int fd, uint8_t *buf, uint64_t epoch, uint32_t count,
                      ef_slicemon_send_stats *st)
{
    ef_sm_put32(buf + 4, 1);
    ef_sm_put32(buf + 16, (uint32_t)epoch);
    ef_sm_put32(buf + 20, count);
    for (int k = 0; k < EF_SLICEMON_FINS; k++) {
        ef_sm_put64(buf + 24, ef_sm_wall_us());
        ef_sm_sendto(fd, buf, EF_SLICEMON_HDR, c->dst_ip, c->dst_port, &st->send_errors);
        if (c->copy_every) ef_sm_sendto(fd, buf, EF_SLICEMON_HDR, c->copy_ip, c->copy_port, &st->send_errors);
    }
    ef_sm_put32(buf + 4, 0);
}

int ef_slicemon_send(const ef_slicemon_send_cfg *c, ef_slicemon_send_stats *st)
{
    memset(st, 0, sizeof *st);
    if (!c || c->pkt_bytes < EF_SLICEMON_PKT_MIN || c->pkt_bytes > EF_SLICEMON_PKT_MAX || c->rate_kbps == 0 ||
        c->epoch_ms == 0 || c->epochs == 0 || c->epochs > EF_SLICEMON_EPOCHS_MAX || !c->dst_port ||
        (c->copy_every && !c->copy_port))
        return EF_EINVAL;
    int fd = ef_sm_socket(c->netns);
    if (fd < 0) return fd;
    int sb = 1 << 20;
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sb, sizeof sb);
    uint8_t buf[EF_SLICEMON_PKT_MAX];
    memset(buf, 0xa5, sizeof buf);
    ef_sm_put32(buf, EF_SLICEMON_MAGIC);
    ef_sm_put32(buf + 4, 0);
    ef_sm_put64(buf + 8, c->sla);
    /* interval between packets in ns */
    uint64_t gap_ns = (uint64_t)c->pkt_bytes * 8u * 1000000u / c->rate_kbps;
    uint64_t end_ms = c->start_ms + c->epochs * c->epoch_ms;
    while (ef_now_wall_ms() < c->start_ms && !(c->stop && *c->stop)) usleep(1000);
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    uint64_t cur = UINT64_MAX;
    uint32_t seq = 0;
    uint64_t rng = 0x9E3779B97F4A7C15ull ^ c->sla;
    for (;;) {
        if (c->stop && *c->stop) break;
        uint64_t now_us = ef_sm_wall_us(), now_ms = now_us / 1000u;
        if (now_ms >= end_ms) break;
        uint64_t e = (now_ms - c->start_ms) / c->epoch_ms;
        if (e != cur) {
            if (cur != UINT64_MAX) ef_sm_fin(c, fd, buf, cur, seq, st);
            cur = e;
            seq = 0;
        }
        ef_sm_put32(buf + 16, (uint32_t)e);
        ef_sm_put32(buf + 20, seq);
        ef_sm_put64(buf + 24, now_us);
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        bool faulty = e < 64 && (c->fault_epochs >> e & 1) && rng % 100 < c->fault_pct;
        if (!faulty) ef_sm_sendto(fd, buf, c->pkt_bytes, c->dst_ip, c->dst_port, &st->send_errors);
        if (c->copy_every && seq % c->copy_every == 0) {
            ef_sm_sendto(fd, buf, c->pkt_bytes, c->copy_ip, c->copy_port, &st->send_errors);
            st->copies++;
        }
        seq++;
        st->pkts++;
        st->bytes += c->pkt_bytes;
        /* pace on an absolute schedule; after a stall of over 50 ms start afresh */
        uint64_t ns = (uint64_t)next.tv_nsec + gap_ns;
        next.tv_sec += (time_t)(ns / 1000000000u);
        next.tv_nsec = (long)(ns % 1000000000u);
        struct timespec mono;
        clock_gettime(CLOCK_MONOTONIC, &mono);
        int64_t behind = ((int64_t)mono.tv_sec - (int64_t)next.tv_sec) * 1000000000 + (mono.tv_nsec - next.tv_nsec);
        if (behind > 50000000) next = mono;
        else if (behind < 0)
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR) {}
    }
    if (cur != UINT64_MAX) ef_sm_fin(c, fd, buf, cur, seq, st);
    close(fd);
    return 0;
}

/* ---- monitor ---- */

static int ef_sm_cmp32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

void ef_slicemon_close_epoch(ef_slicemon_epoch *ep, uint64_t epoch, uint32_t *delays_us, size_t n, uint64_t bytes,
                             uint64_t recv, uint64_t fin_count, uint64_t max_seq_plus1, uint32_t scale,
                             uint64_t epoch_ms)
{
    memset(ep, 0, sizeof *ep);
    if (scale == 0) scale = 1;
    ep->epoch = epoch;
    uint64_t sent = fin_count != UINT64_MAX ? (fin_count + scale - 1) / scale : max_seq_plus1;
    if (fin_count == UINT64_MAX && scale > 1) sent = (max_seq_plus1 + scale - 1) / scale;
    if (sent > EF_RECEIPT_PKTS_MAX) sent = EF_RECEIPT_PKTS_MAX;
    ep->sent = sent;
    ep->recv = recv > sent ? sent : recv;
    ep->loss_ppm = ef_receipt_loss_ppm(ep->sent, ep->recv);
    ep->kbps = epoch_ms ? bytes * 8u * scale / epoch_ms : 0;
    uint8_t *raw = NULL;
    if (n) {
        qsort(delays_us, n, sizeof delays_us[0], ef_sm_cmp32);
        ep->p50_us = delays_us[(n - 1) * 50 / 100];
        ep->p99_us = delays_us[(n - 1) * 99 / 100];
        ep->max_us = delays_us[n - 1];
        raw = malloc(4 * n);
        for (size_t i = 0; raw && i < n; i++) ef_sm_put32(raw + 4 * i, delays_us[i]);
    }
    ef_hash_tagged(&ep->samples, EF_TAG_RECEIPT, raw ? raw : (const uint8_t *)"", raw ? 4 * n : 0);
    free(raw);
}

json_t *ef_slicemon_epoch_json(uint64_t sla, const ef_slicemon_epoch *ep)
{
    json_t *j = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "sla", (json_int_t)sla, "epoch",
                          (json_int_t)ep->epoch, "kbps", (json_int_t)ep->kbps, "sent", (json_int_t)ep->sent, "recv",
                          (json_int_t)ep->recv, "loss_ppm", (json_int_t)ep->loss_ppm, "p50_us",
                          (json_int_t)ep->p50_us, "p99_us", (json_int_t)ep->p99_us, "max_us", (json_int_t)ep->max_us);
    if (j && ep->signed_) {
        char hex[EF_RECEIPT_HEX_MAX + 1], signer[2 * EF_PUB_SIZE + 1];
        if (ef_receipt_hex(hex, sizeof hex, &ep->receipt) == 0) {
            ef_hex(signer, ep->receipt.signer.b, EF_PUB_SIZE);
            json_object_set_new(j, "verdict", json_integer(ep->receipt.verdict));
            json_object_set_new(j, "receipt", json_string(hex));
            json_object_set_new(j, "signer", json_string(signer));
        }
    }
    return j;
}

typedef struct ef_sm_acc {
    uint32_t *delays;
    size_t n;
    uint64_t bytes, recv, fin, max_seq1;
    bool closed;
} ef_sm_acc;

static void ef_sm_close(const ef_slicemon_recv_cfg *c, ef_sm_acc *a, uint64_t e)
{
    ef_slicemon_epoch ep;
    ef_slicemon_close_epoch(&ep, e, a->delays, a->n, a->bytes, a->recv, a->fin, a->max_seq1, c->scale, c->epoch_ms);
    if (c->key) {
        ef_receipt *r = &ep.receipt;
        memset(r, 0, sizeof *r);
        snprintf(r->chain_id, sizeof r->chain_id, "%s", c->chain_id ? c->chain_id : "");
        r->sla = c->sla;
        r->epoch = e;
        r->kbps = ep.kbps;
        r->pkts_sent = ep.sent;
        r->pkts_recv = ep.recv;
        r->lat_p50_us = ep.p50_us;
        r->lat_p99_us = ep.p99_us;
        r->lat_max_us = ep.max_us;
        r->samples = ep.samples;
        int rc = ef_receipt_make(r, &c->rules, c->key);
        ep.signed_ = rc == 0;
        if (rc) EF_LOGW("slicemon", "epoch %llu: receipt not made: %s", (unsigned long long)e, ef_strerror(rc));
    }
    a->closed = true;
    free(a->delays);
    a->delays = NULL;
    if (c->on_epoch) c->on_epoch(c->arg, &ep);
}

int ef_slicemon_recv(const ef_slicemon_recv_cfg *c)
{
    if (!c || !c->port || c->epoch_ms == 0 || c->epochs == 0 || c->epochs > EF_SLICEMON_EPOCHS_MAX ||
        (c->key && !c->chain_id))
        return EF_EINVAL;
    int fd = ef_sm_socket(c->netns);
    if (fd < 0) return fd;
    int rb = 4 << 20;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof rb);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(c->port), .sin_addr.s_addr = htonl(INADDR_ANY)};
    if (bind(fd, (struct sockaddr *)&a, sizeof a)) {
        EF_LOGW("slicemon", "bind port %u: %s", c->port, strerror(errno));
        close(fd);
        return EF_ENET;
    }
    ef_sm_acc *acc = calloc(c->epochs, sizeof *acc);
    if (!acc) {
        close(fd);
        return EF_ENOMEM;
    }
    for (uint64_t e = 0; e < c->epochs; e++) acc[e].fin = UINT64_MAX;
    uint32_t grace = c->grace_ms ? c->grace_ms : 300;
    uint64_t next_close = 0;
    uint8_t buf[2048];
    while (next_close < c->epochs && !(c->stop && *c->stop)) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        (void)poll(&pf, 1, 20);
        for (;;) {
            ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n < 0) break;
            uint64_t now = ef_sm_wall_us();
            if (n < EF_SLICEMON_HDR || ef_sm_get32(buf) != EF_SLICEMON_MAGIC || ef_sm_get64(buf + 8) != c->sla)
                continue;
            uint32_t kind = ef_sm_get32(buf + 4), e = ef_sm_get32(buf + 16), v = ef_sm_get32(buf + 20);
            if (e >= c->epochs || acc[e].closed) continue;
            ef_sm_acc *x = &acc[e];
            if (kind == 1) {
                x->fin = v;
                continue;
            }
            if (kind != 0) continue;
            uint64_t sent_us = ef_sm_get64(buf + 24);
            uint64_t d = now > sent_us ? now - sent_us : 0;
            x->recv++;
            x->bytes += (uint64_t)n;
            if ((uint64_t)v + 1 > x->max_seq1) x->max_seq1 = (uint64_t)v + 1;
            if (x->n < EF_SLICEMON_SAMPLES_MAX) {
                if (!x->delays) x->delays = malloc(EF_SLICEMON_SAMPLES_MAX * sizeof(uint32_t));
                if (x->delays) x->delays[x->n++] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
            }
        }
        uint64_t now_ms = ef_now_wall_ms();
        while (next_close < c->epochs && now_ms >= c->start_ms + (next_close + 1) * c->epoch_ms + grace) {
            ef_sm_close(c, &acc[next_close], next_close);
            next_close++;
        }
    }
    for (uint64_t e = 0; e < c->epochs; e++) free(acc[e].delays);
    free(acc);
    close(fd);
    return 0;
}
