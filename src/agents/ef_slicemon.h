/* ef_slicemon.h: slice traffic and the SLA monitors: a UDP sender whose
 * packets carry the SLA, the epoch, a sequence number and a send timestamp,
 * and a monitor (receiver) that counts per epoch what really arrived (packets,
 * bytes, one-way delay) and signs one SLA receipt per epoch (base/ef_receipt.h).
 *
 * Packet (UDP payload, little-endian):
 *   offset size field
 *   0      4    magic EF_SLICEMON_MAGIC
 *   4      4    kind: 0 data, 1 fin (end of an epoch; repeated 3 times)
 *   8      8    SLA id
 *   16     4    epoch index
 *   20     4    data: sequence number in the epoch (from 0);
 *               fin: how many data packets the sender put into that epoch
 *   24     8    send time, µs since the Unix epoch (CLOCK_REALTIME: sender and
 *               monitors run on one host, so the one-way delay is exact)
 *   32     ..   padding up to the packet size (EF_SLICEMON_PKT_MIN..MAX)
 *
 * Epochs follow the ledger: epoch e is wall time [start_ms + e*epoch_ms,
 * start_ms + (e+1)*epoch_ms), start_ms = the confirming block's time. The
 * sender stamps each packet with the epoch it leaves in; the monitor files it
 * by that stamp and closes epoch e grace_ms after its end.
 *
 * Two monitors watch one slice: the customer's (the receiver at the customer's
 * end: every packet) and the operator's edge monitor (at the edge switch: the
 * sender copies every copy_every-th packet, seq % copy_every == 0, to it; it
 * scales bytes by copy_every, and its "sent" is the number of copies the fin
 * count implies). Operators sample QoS with such probe copies; the edge
 * monitor sees the slice up to the edge switch, not the last link.
 *
 * Per closed epoch: sent = the fin's count (or the highest sequence + 1 when
 * every fin was lost), received = data packets filed in the epoch (at most
 * sent), kbps = bytes * 8 * scale / epoch_ms, delays: p50, p99, max of the
 * first EF_SLICEMON_SAMPLES_MAX samples, the samples hash = BLAKE2b-256 (tag
 * EF_TAG_RECEIPT) of those delays as u32 LE µs. With a key, the receipt is
 * made and signed (ef_receipt_make with the SLA's rules).
 *
 * Threading: each call runs on the caller's thread until done or *stop.
 */
#ifndef EF_SLICEMON_H
#define EF_SLICEMON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/ef_crypto.h"
#include "base/ef_err.h"
#include "base/ef_receipt.h"

#define EF_SLICEMON_MAGIC 0x4d534645u      /* "EFSM" */
#define EF_SLICEMON_HDR 32
#define EF_SLICEMON_PKT_MIN 64
#define EF_SLICEMON_PKT_MAX 1472
#define EF_SLICEMON_SAMPLES_MAX 65536      /* delay samples kept per epoch */
#define EF_SLICEMON_EPOCHS_MAX 4096
#define EF_SLICEMON_FINS 3

typedef struct ef_slicemon_send_cfg {
    const char *netns;          /* NULL: the caller's namespace */
    uint32_t dst_ip;            /* host order */
    uint16_t dst_port;
    uint32_t copy_ip;           /* the edge monitor; copy_every 0: none */
    uint16_t copy_port;
    uint32_t copy_every;
    uint64_t rate_kbps;         /* payload rate (UDP payload bits / 1000 per second) */
    uint32_t pkt_bytes;         /* UDP payload per packet */
    uint64_t sla;
    uint64_t start_ms, epoch_ms, epochs;
    /* Emulated fault (process mode, where nftables cannot be used): in the
     * epochs of fault_epochs (bit e, e < 64) fault_pct % of the packets to
     * dst are counted as sent but not sent; copies to the edge monitor go. */
    uint64_t fault_epochs;
    uint32_t fault_pct;
    const volatile bool *stop;  /* may be NULL */
} ef_slicemon_send_cfg;

typedef struct ef_slicemon_send_stats {
    uint64_t pkts, bytes, send_errors, copies;
} ef_slicemon_send_stats;

/* Sends from start_ms (waiting for it) to the end of the last epoch at the
 * rate given, paced, then the last fin. EF_EINVAL bad config, EF_ENET socket. */
EF_MUST_USE int ef_slicemon_send(const ef_slicemon_send_cfg *cfg, ef_slicemon_send_stats *st);

/* One closed epoch as a monitor saw it. */
typedef struct ef_slicemon_epoch {
    uint64_t epoch;
    uint64_t kbps, sent, recv;
    uint32_t loss_ppm;
    uint64_t p50_us, p99_us, max_us;
    ef_hash samples;
    bool signed_;               /* receipt valid */
    ef_receipt receipt;
} ef_slicemon_epoch;

typedef struct ef_slicemon_recv_cfg {
    const char *netns;
    uint16_t port;              /* bound on 0.0.0.0 */
    uint64_t sla;
    uint64_t start_ms, epoch_ms, epochs;
    uint32_t scale;             /* 1 (customer) or the sender's copy_every (edge) */
    uint32_t grace_ms;          /* 0: 300 */
    const ef_keypair *key;      /* NULL: measure only (best effort, no receipts) */
    const char *chain_id;       /* with key */
    ef_sla_rules rules;         /* with key */
    /* called once per closed epoch (may be NULL) */
    void (*on_epoch)(void *arg, const ef_slicemon_epoch *ep);
    void *arg;
    const volatile bool *stop;
} ef_slicemon_recv_cfg;

/* Receives until the last epoch is closed (or *stop). EF_EINVAL, EF_ENET. */
EF_MUST_USE int ef_slicemon_recv(const ef_slicemon_recv_cfg *cfg);

/* The epoch figures from raw counts (what the monitor computes; pure):
 * delays_us (n samples, reordered), bytes, recv, fin count (UINT64_MAX: no fin
 * seen, then max_seq + 1 is used), scale. */
void ef_slicemon_close_epoch(ef_slicemon_epoch *ep, uint64_t epoch, uint32_t *delays_us, size_t n,
                             uint64_t bytes, uint64_t recv, uint64_t fin_count, uint64_t max_seq_plus1,
                             uint32_t scale, uint64_t epoch_ms);

/* An epoch as JSON: {sla, epoch, kbps, sent, recv, loss_ppm, p50_us, p99_us,
 * max_us, verdict?, receipt? (hex), signer?}. */
json_t *ef_slicemon_epoch_json(uint64_t sla, const ef_slicemon_epoch *ep);

#endif
