/* ef_node_int.h: the node's internal state and the functions its files share:
 * ef_node.c (loop, consensus driving, commit, P2P, lifecycle), ef_node_catchup.c
 * (height exchange and block sync), ef_node_submit.c (submission queue, local
 * admission, waiters) and ef_node_status.c (counters, status snapshot). Everything
 * here runs on the loop thread unless said otherwise. */
#ifndef EF_NODE_INT_H
#define EF_NODE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <uv.h>

#include "consensus/ef_engine.h"
#include "consensus/ef_wal.h"
#include "ledger/ef_mempool.h"
#include "net/ef_net.h"
#include "node/ef_node.h"

#define EF_NODE_TIMEOUTS_MAX 256        /* consensus timeouts pending */
#define EF_NODE_WAITER_BUCKETS 4096     /* hash buckets of the waiter table */

/* per-connection data */
typedef struct ef_peer {
    uint64_t height;       /* from its last STATUS */
    bool validator;
} ef_peer;

/* a submitted tx awaiting its commit */
typedef struct ef_waiter {
    ef_hash hash;
    ef_node_tx_cb cb;
    void *arg;
    uint64_t admit_us;
    struct ef_waiter *next;
} ef_waiter;

typedef struct ef_subm_sync {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    int rc;
    ef_hash hash;
} ef_subm_sync;

/* a submission queued by another thread */
typedef struct ef_subm {
    uint8_t *tx;           /* the tx, or for a call the args JSON */
    size_t len;
    bool is_call;
    char contract[EF_CONTRACT_NAME_MAX + 1];
    char method[EF_METHOD_NAME_MAX + 1];
    ef_node_tx_cb cb;
    void *arg;
    ef_subm_sync *sync;
    struct ef_subm *next;
} ef_subm;

#define EF_NODE_SNAP_SLOTS 8           /* status snapshots: the current one and older ones still read */

/* One slot of the status snapshot (ef_node_status_hold). The loop writes a slot
 * only when it is not the current one and no reader holds it; a reader takes a
 * reference to the current slot and then checks that it is still current (else
 * lets go and retries), so it never reads a slot being written. Neither side
 * locks or waits for the other. */
typedef struct ef_node_snap {
    atomic_uint refs;              /* readers holding (or about to check) this slot */
    ef_node_status st;
} ef_node_snap;

typedef struct ef_tout {
    uint64_t due_ms, height;
    uint32_t round;
    ef_step step;
} ef_tout;

struct ef_node {
    ef_node_config cfg;
    uv_loop_t loop;
    bool loop_init, handles_init, stopping;
    int fatal;
    ef_keypair kp;
    ef_store *store;
    ef_wal_file *wal;
    ef_wal_ops wal_ops;
    ef_mempool *mp;
    ef_engine *eng;
    ef_net *net;

    /* chain position */
    uint64_t height;
    ef_hash last_hash;
    uint64_t last_time_ms;
    uint64_t last_commit_ms;       /* loop time of the last commit */
    ef_vset vset_next, vset_genesis;
    bool engine_started;           /* the engine runs height + 1 */
    bool start_asap;
    bool have_proposed;
    ef_hash proposed_id;
    ef_txbuf *reap_buf;
    int *reap_status;
    uint64_t own_next;             /* next nonce for ef_node_submit_call */

    /* consensus timeouts */
    uv_timer_t cons_timer;
    ef_tout touts[EF_NODE_TIMEOUTS_MAX];
    size_t touts_len;

    uv_timer_t tick, gossip_timer, empty_timer;
    uv_async_t async;
    ef_wr gossip;
    uint32_t gossip_count;

    /* catch-up */
    ef_conn *sync_conn;
    uint64_t sync_until, sync_deadline_ms, behind_since_ms;

    /* other threads */
    pthread_mutex_t mu;
    ef_subm *subq_head, *subq_tail;
    size_t subq_len;
    bool stop_req;
    atomic_int stop_flag;

    /* the status snapshot (ef_node_status_hold), lock-free on both sides */
    ef_node_snap *snaps;           /* EF_NODE_SNAP_SLOTS of them */
    atomic_uint snap_cur;          /* index of the current slot */
    ef_node_status snap_tmp;       /* loop thread: the next snapshot, built here */
    uint64_t snap_deferred;        /* publications put off: every other slot was held */

    ef_waiter *waiters[EF_NODE_WAITER_BUCKETS];
    size_t waiters_len;
    struct { ef_node_commit_fn fn; void *arg; } listeners[EF_NODE_LISTENERS_MAX];
    size_t listeners_len;
    struct { const ef_node_ext *ext; void *state; bool started; } exts[EF_NODE_EXTS_MAX];
    size_t exts_len;

    /* counters */
    uint64_t txs_committed, blocks_committed;
    uint64_t cons_verified;        /* Ed25519 checks of consensus messages (engine and catch-up) */
    uint64_t lat_counts[EF_NODE_LAT_BUCKETS], lat_count;
    double lat_sum_ms;
    struct { char reason[32]; uint64_t count; } rej[EF_NODE_REJECT_REASONS];
    size_t rej_len;
};

static inline uint64_t ef_node_now_ms(ef_node *n) { return uv_now(&n->loop); }

/* ---- ef_node.c ---- */

/* Begins shutting down on the loop thread (closes handles; the loop then ends). */
void ef_node_shutdown(ef_node *n);
/* Logs, records rc as the node's exit code (the first one wins) and stops. */
void ef_node_fatal(ef_node *n, int rc, const char *what);
/* After an event: starts the next height if there is a reason to. */
void ef_node_after(ef_node *n);
/* Queues an admitted tx for gossip (batched, flushed within 1 ms). */
void ef_node_gossip_add(ef_node *n, const uint8_t *tx, size_t len);
/* The engine's and catch-up's signature check: ef_verify, counted. */
bool ef_node_verify(void *ctx, const ef_sig *sig, const ef_pub *pub, uint8_t tag, const void *msg,
                    size_t len);
/* Commits block height+1 (decided by the engine, or fetched and verified by
 * catch-up), then tells the mempool, the waiters and the listeners. */
int ef_node_apply_committed(ef_node *n, const uint8_t *blk, size_t len, const uint8_t *cert,
                            size_t cert_len);

/* ---- ef_node_catchup.c ---- */

/* Sends this node's height and last hash to c, or to every peer if c is NULL. */
void ef_node_send_status(ef_node *n, ef_conn *c);
/* STATUS to the peers that are not validators (they get no consensus messages). */
void ef_node_send_status_observers(ef_node *n);
/* Asks the highest peer for blocks if this node is behind and no request is out. */
void ef_node_sync_request(ef_node *n);
/* Every tick: times out a stalled request, sends the heartbeat STATUS, syncs. */
void ef_node_sync_tick(ef_node *n);
/* The P2P messages of catch-up: 0, or an error that closes the connection. */
int ef_node_on_status(ef_node *n, ef_conn *c, const uint8_t *p, size_t len);
int ef_node_on_block(ef_node *n, ef_conn *c, const uint8_t *p, size_t len);
void ef_node_on_block_req(ef_node *n, ef_conn *c, const uint8_t *p, size_t len);

/* ---- ef_node_submit.c ---- */

/* The async handle's callback: runs the submissions queued by other threads and
 * a stop request (ef_node_stop). */
void ef_node_async_cb(uv_async_t *a);
/* Frees what other threads still have queued (each sync submitter gets
 * EF_ECLOSED); for ef_node_close, after the loop ended. */
void ef_node_subq_free(ef_node *n);
/* Removes and returns the waiter for h (caller frees), or NULL. */
ef_waiter *ef_node_waiter_take(ef_node *n, const ef_hash *h);
/* Tells every waiter the node is going (EF_NODE_TX_DROPPED, EF_ECLOSED). */
void ef_node_waiters_close(ef_node *n);
/* A submitted tx left the mempool without committing: tell its submitter (the
 * mempool's drop callback; arg is the node). */
void ef_node_tx_dropped(void *arg, const ef_hash *h, int reason);

/* ---- ef_node_status.c ---- */

/* Counts one rejected input under reason (EF_NODE_REJECT_REASONS at most). */
void ef_node_count(ef_node *n, const char *reason);
/* Counts a refused transaction as "tx_ERRNAME". */
void ef_node_count_tx(ef_node *n, int rc);
/* Records one admission-to-commit latency in the histogram. */
void ef_node_lat_record(ef_node *n, double ms);
/* Publishes a new status snapshot (ef_node_status_hold) if anything in it changed.
 * Never waits: if readers still hold every slot but the current one (they hold
 * one for microseconds), the publication is put off to the next call (the loop
 * calls this after every event and each EF_NODE_TICK_MS). Loop thread. */
void ef_node_snapshot(ef_node *n);
/* Allocates the slots and publishes the first snapshot (ef_node_open). */
int ef_node_snapshot_init(ef_node *n);

#endif
