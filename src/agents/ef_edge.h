/* ef_edge.h: the edge-node (EN) agent: a small compute service over HTTP that
 * admits a task only with a payment-channel voucher covering it, checks
 * vouchers off the ledger, redeems them, and watches for payer-initiated closes.
 *
 * The agent acts for one payee key (the EN's company) and talks to one node's
 * HTTP API (reads under /state/channel, POST /txs?wait=commit). Routes:
 *
 *   POST /task?channel=ID   header X-Voucher: HEX (base/ef_voucher.h), body =
 *       the task's input (at most EF_EDGE_BODY_MAX bytes). Admitted only if the
 *       voucher decodes, is of this chain and channel, the channel is this
 *       payee's and open (read from the ledger the first time it is seen), it
 *       is signed by the channel's payer, its nonce is above the best one held,
 *       its cumulative amount covers every task served on the channel so far
 *       plus this one (price per task) and does not exceed the deposit. Then the
 *       work is done: the BLAKE2b-256 hash chain of the body, 1 + len/1024
 *       rounds (ef_edge_work), and the answer is 200 {"result": HEX, "channel",
 *       "nonce", "paid", "served"}. Otherwise 402 {"error": why, "code": ENAME}
 *       and nothing changes; 400 for a malformed request.
 *   POST /close?channel=ID  redeems the best voucher with close (the channel's
 *       rest returns to the payer): 200 {"code": "OK", "redeemed": N} or 502.
 *   GET /health             200 {"status":"ok","pub":PUB}
 *   GET /stats              200 {"tasks","rejected","vouchers","redeems","watch_redeems","channels"}
 *
 * The watch service: every watch_ms the agent reads the payee's channels; for a
 * channel that is "closing" (the payer started a close) while the agent holds a
 * better voucher than what was redeemed, it submits a redeem at once, within the
 * challenge window, so a payee that was away when the close started does not
 * lose money (Filecoin's payment-channel watcher). From then on the channel
 * takes no more tasks.
 *
 * Threading: libmicrohttpd's threads serve requests; one watch thread; the
 * voucher book is under one mutex; ledger submissions are serialised.
 */
#ifndef EF_EDGE_H
#define EF_EDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/ef_crypto.h"
#include "base/ef_err.h"
#include "base/ef_voucher.h"

#define EF_EDGE_BODY_MAX (64u * 1024u)
#define EF_EDGE_CHANNELS_MAX 256
#define EF_EDGE_CONN_MAX 64

typedef struct ef_edge ef_edge;

typedef struct ef_edge_cfg {
    ef_keypair key;                 /* the payee (the EN's company) */
    char chain_id[EF_VOUCHER_CHAIN_MAX + 1];
    uint32_t api_ip;                /* the node's HTTP API (host order) */
    uint16_t api_port;
    uint32_t ip;                    /* where to serve (host order) */
    uint16_t port;
    uint64_t price;                 /* per task, >= 1 */
    uint32_t watch_ms;              /* 0: no watch service */
} ef_edge_cfg;

typedef struct ef_edge_stats {
    uint64_t tasks, rejected, vouchers, redeems, watch_redeems, channels;
} ef_edge_stats;

/* Starts serving and (if watch_ms) watching. Errors: EF_EINVAL, EF_ENET (cannot
 * bind), EF_ENOMEM. */
EF_MUST_USE int ef_edge_start(ef_edge **out, const ef_edge_cfg *cfg);
void ef_edge_stop(ef_edge *e);   /* NULL ok */
void ef_edge_get_stats(ef_edge *e, ef_edge_stats *out);

/* The task's work: out = h_k where h_0 = BLAKE2b(body), h_i = BLAKE2b(h_{i-1}),
 * k = 1 + len / 1024. The device recomputes it to check the answer. */
void ef_edge_work(ef_hash *out, const void *body, size_t len);

/* Admission alone (what /task checks before working), for tests and the
 * benchmark: EF_EBADSIG, EF_EPERM, EF_ECHAIN, EF_EINVAL, EF_ENONCE, EF_EFUNDS
 * (does not cover / overdraft), EF_ENOTFOUND (not this payee's open channel),
 * or 0 (the voucher becomes the best one and one task is counted). */
int ef_edge_admit(ef_edge *e, uint64_t channel, const ef_voucher *v);

/* Redeems the best voucher of channel (with close if asked) through the node's
 * API. 0, EF_ENOTFOUND (no voucher held), or the transaction's error. */
int ef_edge_redeem(ef_edge *e, uint64_t channel, bool close);

#endif
