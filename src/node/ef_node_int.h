/* ef_node_int.h: the node's internal state, shared by ef_node.c and ef_node_admin.c. */
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

typedef struct ef_tout {
    uint64_t due_ms, height;
    uint32_t round;
    ef_step step;
} ef_tout;

typedef struct ef_admin ef_admin;

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
    ef_admin *admin;

    /* chain position */
    uint64_t height;
    ef_hash last_hash;
    uint64_t last_time_ms;
    uint64_t last_commit_ms;       /* loop time of the last commit */
    unsigned long file_resident_floor; /* file-backed RSS right after the last map trim */
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
    ef_tout touts[256];
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
    ef_node_status snap, snap_tmp;

    ef_waiter *waiters[4096];
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

/* Begins shutting down on the loop thread (closes handles; the loop then ends). */
void ef_node_shutdown(ef_node *n);
/* Admits a tx on the loop thread (the admin socket's path); cb as ef_node_submit. */
int ef_node_submit_local(ef_node *n, const uint8_t *tx, size_t len, ef_node_tx_cb cb, void *arg,
                         ef_hash *hash_out);
uv_loop_t *ef_node_loop(ef_node *n);

/* The admin socket (ef_node_admin.c). */
int ef_node_admin_start(ef_node *n);
void ef_node_admin_stop(ef_node *n);

#endif
