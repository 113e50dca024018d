/* ef_net.h: the peer-to-peer transport: authenticated, encrypted TCP connections
 * over libuv (session protocol in ef_wire.h), a peer manager with reconnection and
 * bounded send queues.
 *
 * Peers. The node gives the set of keys it accepts (allow callback: validators
 * and configured observers) and the peers to dial (key + "ip:port"). Every
 * configured peer is dialled and redialled with exponential back-off
 * (EF_NET_BACKOFF_MIN_MS doubling to EF_NET_BACKOFF_MAX_MS, reset once a
 * connection authenticates). Incoming connections are accepted from any address
 * but must authenticate with an accepted key within EF_NET_HANDSHAKE_MS
 * (EF_NR_HS_TIMEOUT). If two
 * connections to the same key authenticate (both sides dialled), both ends keep
 * the one dialled by the smaller key and close the other.
 *
 * Unauthenticated connections. Until a peer has proven its key, its session holds
 * at most EF_PREAUTH_BUF received bytes in a fixed array and nothing on the heap
 * (ef_wire.h: a frame announced longer than the auth frame closes it,
 * EF_NR_PREAUTH_OVERSIZE), and we send it only our hello and auth frame. At most
 * EF_NET_PREAUTH_PER_ADDR incoming ones per source IPv4 address are open at once
 * (more: refused, EF_NR_PREAUTH_LIMIT) and at most EF_NET_PREAUTH_MAX in all (one
 * more evicts the oldest, EF_NR_PREAUTH_LIMIT, so a flood from many addresses
 * delays an honest peer's handshake but cannot lock it out; one address alone
 * cannot evict anyone). The per-address cap leaves room for a loopback testnet's
 * peers, which all come from 127.0.0.1. Memory for all of
 * them is bounded by EF_NET_PREAUTH_MAX x (sizeof ef_conn + 186 bytes in flight).
 * Refusals are logged at most EF_NET_REFUSALS_LOGGED_PER_S lines a second.
 *
 * Send queues. Each connection has at most sendq_bytes_max bytes waiting in the
 * kernel-bound queue. A droppable message (transaction gossip) that would pass
 * half of that is dropped and counted; any other message that would pass the
 * limit closes the connection (EF_NR_SENDQ_FULL): the peer is too slow and will
 * catch up after reconnecting.
 *
 * Threading: everything runs on the loop's thread; no function here may be called
 * from another thread.
 */
#ifndef EF_NET_H
#define EF_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/ef_crypto.h"
#include "net/ef_wire.h"

#define EF_NET_PEERS_MAX 128            /* configured peers */
#define EF_NET_CONNS_MAX 256            /* open connections, incoming + outgoing */
/* Frames of at most this size sealed for a peer in one loop iteration are written
 * together (one socket write); larger ones go out on their own at once. */
#define EF_NET_BATCH_FRAME_MAX 4096u
#define EF_NET_BATCH_BYTES_MAX 65536u   /* a peer's batch is written once this big */
#define EF_NET_HANDSHAKE_MS 5000       /* deadline for an unauthenticated connection */
#define EF_NET_PREAUTH_MAX 128          /* incoming unauthenticated connections at once */
#define EF_NET_PREAUTH_PER_ADDR 32      /* ... of them from one IPv4 address */
/* refusals of unauthenticated connections logged per second; the rest are
 * counted (ef_net_stats.closed) and summed up in one line */
#define EF_NET_REFUSALS_LOGGED_PER_S 5
#define EF_NET_BACKOFF_MIN_MS 100
#define EF_NET_BACKOFF_MAX_MS 5000
#define EF_NET_SENDQ_BYTES_DEFAULT (16u << 20)
#define EF_NET_ADDR_MAX 64

typedef struct ef_net ef_net;
typedef struct ef_conn ef_conn;   /* one authenticated connection to a peer */

typedef struct ef_net_stats {
    uint64_t closed[EF_NR_COUNT_];  /* connections refused or closed, by reason */
    uint64_t frames_in, frames_out, bytes_in, bytes_out;
    uint64_t writes_out;            /* writes to sockets: the frames sealed for a peer in one
                                       loop iteration go out in one */
    uint64_t dropped;               /* droppable messages dropped on a full queue */
    uint64_t dials, accepts;
    uint32_t peers;                 /* authenticated connections now */
    uint32_t preauth_conns;         /* incoming unauthenticated connections now */
    uint64_t preauth_bytes;         /* received bytes held for unauthenticated connections now */
    uint64_t preauth_bytes_peak;    /* the most preauth_bytes ever was */
    uint64_t preauth_heap_peak;     /* the most heap bytes their sessions ever held (0) */
} ef_net_stats;

typedef struct ef_net_cfg {
    uv_loop_t *loop;
    const ef_keypair *kp;           /* node key, borrowed for the net's life */
    ef_hash netid;                  /* ef_wire_netid(chain id) */
    const char *listen;             /* "ip:port" to listen on, or NULL */
    size_t sendq_bytes_max;         /* 0 = EF_NET_SENDQ_BYTES_DEFAULT */
    uint32_t handshake_ms;          /* 0 = EF_NET_HANDSHAKE_MS */
    /* Accept this node key? Return 0 to accept, EF_EAUTH to refuse. */
    int (*allow)(void *arg, const ef_pub *pub);
    /* A peer authenticated (up = true) or its connection closed (up = false). */
    void (*on_peer)(void *arg, ef_conn *c, bool up);
    /* A message from an authenticated peer; payload borrowed for the call.
     * Return 0, or a negative code to close the connection (counted). */
    int (*on_msg)(void *arg, ef_conn *c, uint8_t type, const uint8_t *payload, size_t len);
    void *arg;
} ef_net_cfg;

/* Starts listening (if cfg->listen). Returns 0, EF_EINVAL for a bad address,
 * EF_ENET if it cannot listen, EF_ENOMEM. */
int ef_net_start(ef_net **out, const ef_net_cfg *cfg);
/* Closes every connection and handle; the loop must run for them to finish
 * (uv_run after this returns once all are closed). Frees n when done. */
void ef_net_stop(ef_net *n);
/* Port actually bound (useful with port 0), or 0. */
int ef_net_port(const ef_net *n);

/* Adds a peer to keep connected to. addr "a.b.c.d:port". EF_EINVAL, EF_EFULL. */
int ef_net_add_peer(ef_net *n, const ef_pub *pub, const char *addr);

/* Queues one message to c. EF_EFULL (dropped, counted) if droppable and the
 * queue is over half full; EF_ECLOSED if the connection is closing or was closed
 * because its queue is full; EF_ETOOBIG over EF_P2P_PAYLOAD_MAX. */
int ef_net_send(ef_net *n, ef_conn *c, uint8_t type, const void *payload, size_t len,
                bool droppable);
/* Sends to every authenticated peer (except `except`, may be NULL). Returns the
 * number of peers it was queued to. */
int ef_net_broadcast(ef_net *n, uint8_t type, const void *payload, size_t len, bool droppable,
                     const ef_conn *except);

/* Closes c, counting reason. */
void ef_net_close_conn(ef_net *n, ef_conn *c, int reason);

const ef_pub *ef_conn_pub(const ef_conn *c);
/* A slot for the node's per-peer data. */
void *ef_conn_data(const ef_conn *c);
void ef_conn_set_data(ef_conn *c, void *data);
/* "ip:port" of the remote end. */
const char *ef_conn_addr(const ef_conn *c);

/* Authenticated connections: fills up to max pointers, returns how many there are. */
size_t ef_net_conns(ef_net *n, ef_conn **out, size_t max);
void ef_net_get_stats(const ef_net *n, ef_net_stats *out);

#endif
