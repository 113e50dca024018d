/* ef_node.h: a ledger node: one libuv loop driving the consensus engine, the P2P
 * transport, the mempool and the LMDB store; catch-up and crash recovery; the
 * interface the HTTP API and the agents use.
 *
 * The loop thread does everything: consensus inputs and outputs (a vote leaves
 * only after the engine made it durable in the WAL), validation and commit of
 * blocks, mempool admission, gossip, catch-up. Other threads talk to the node only
 * through the functions marked "thread-safe" below.
 *
 * Blocks. A height starts as soon as transactions are waiting (or a consensus
 * message for it arrives, or, if empty_block_ms > 0, that long after the last
 * block), so the proposer proposes at once; a block holds at most block_txs_max
 * transactions and block_bytes_max bytes.
 *
 * Catch-up. Peers exchange their height (STATUS, on connect, after each commit
 * and every second). A node behind asks a peer for blocks (BLOCK_REQ), verifies
 * each certificate against the validator set of its height (ef_cert_verify) and
 * commits the block through the ledger, which re-executes it.
 *
 * Crash recovery. A committed block (block + certificate + state) is one synced
 * LMDB transaction; the engine's own votes are in the WAL (synced before sending),
 * read back on restart; so kill -9 at any instant loses no committed block, no
 * acknowledged (committed) transaction, and never makes the node sign twice.
 *
 * Extensions (the admin socket, the HTTP API, the agents): a module that wants to
 * run inside the node exports an ef_node_ext, using only the functions of this
 * header, and whoever runs the node adds it (src/cli/cmd_node.c adds
 * ef_node_admin_ext, ef_api_node_ext and ef_agents_node_ext, declared in
 * node/ef_node_admin.h, api/ef_api_node.h and agents/ef_agents_node.h).
 */
#ifndef EF_NODE_H
#define EF_NODE_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/ef_crypto.h"
#include "ledger/ef_block.h"
#include "ledger/ef_store.h"
#include "ledger/ef_tx.h"
#include "ledger/ef_vset.h"

#define EF_NODE_PATH_MAX 512
#define EF_NODE_ADDR_MAX 64
#define EF_NODE_PEERS_MAX 128
#define EF_NODE_SUBMITQ_MAX 65536       /* submissions queued from other threads */
#define EF_NODE_WAITERS_MAX 65536       /* submitted txs awaiting their commit callback */
#define EF_NODE_LISTENERS_MAX 8
#define EF_NODE_EXTS_MAX 4
#define EF_NODE_LAT_BUCKETS 13          /* commit latency histogram, see ef_node_lat_bounds_ms */
#define EF_NODE_REJECT_REASONS 48       /* rejection counters, see ef_node_status */

/* ---- configuration: one JSON file per node (docs/config.md) ----
 *
 *   {
 *     "chain_id": "edgefed-local",
 *     "moniker": "v0",                       a name for logs and status
 *     "key": "node.key",                     node key file (relative to the config's dir)
 *     "genesis": "genesis.json",
 *     "data_dir": "data",                    store (data/store) and WAL (data/wal)
 *     "listen": "127.0.0.1:26600",           P2P
 *     "http_listen": "127.0.0.1:8600",       HTTP API (if the api module is built), "" = off
 *     "admin_socket": "admin.sock",          local submission/status socket (the admin
 *                                            extension, ef_node_admin.h), "" = off
 *     "peers": [{"pub": HEX64, "addr": "127.0.0.1:26601"}, ...],
 *     "observers": [HEX64, ...],             non-validator keys allowed to connect
 *     "timeouts": {"propose_ms": 300, "propose_delta_ms": 300, "prevote_ms": 200,
 *                  "prevote_delta_ms": 200, "precommit_ms": 200,
 *                  "precommit_delta_ms": 200, "resend_ms": 1000, "empty_block_ms": 0},
 *     "limits": {"mempool_txs": 50000, "mempool_bytes": 33554432,
 *                "mempool_sender_txs": 64, "mempool_nonce_gap": 16,
 *                "mempool_ttl_s": 120,          (ef_mempool.h: per-sender cap,
 *                                                nonce gap, time to live)
 *                "block_txs": 1024, "block_bytes": 4194304, "sendq_bytes": 16777216},
 *     "api": {...},                          reserved for the api module
 *     "agents": {...}                        reserved for the agents (federation) module
 *   }
 * Every field but chain_id, key and genesis has the default shown. */
typedef struct ef_node_peer_cfg {
    ef_pub pub;
    char addr[EF_NODE_ADDR_MAX];
} ef_node_peer_cfg;

/* Most transactions in one proposed block by default (limits.block_txs; at most
 * EF_BLOCK_TXS_MAX). The largest blocks make a node's transient memory peak (a
 * block is received, checked with LMDB holding every page it dirties in private
 * memory until the commit, stored and sent on): at 4,096 a node at saturation
 * peaked at 31-34 MB RSS, at 1,024 at 28-29 MB (docs/bench/ledger-run3.md). */
#define EF_NODE_BLOCK_TXS_DEFAULT 1024

typedef struct ef_node_config {
    char dir[EF_NODE_PATH_MAX];             /* directory of the config file */
    char chain_id[EF_CHAIN_ID_MAX + 1];
    char moniker[64];
    char key_path[EF_NODE_PATH_MAX];        /* absolute after load */
    char genesis_path[EF_NODE_PATH_MAX];
    char data_dir[EF_NODE_PATH_MAX];
    char listen[EF_NODE_ADDR_MAX];
    char http_listen[EF_NODE_ADDR_MAX];
    char admin_socket[EF_NODE_PATH_MAX];
    ef_node_peer_cfg peers[EF_NODE_PEERS_MAX];
    size_t peers_len;
    ef_pub observers[EF_NODE_PEERS_MAX];
    size_t observers_len;
    uint32_t propose_ms, propose_delta_ms, prevote_ms, prevote_delta_ms;
    uint32_t precommit_ms, precommit_delta_ms, resend_ms, empty_block_ms;
    size_t mempool_txs, mempool_bytes, block_txs, block_bytes, sendq_bytes;
    size_t mempool_sender_txs;
    uint32_t mempool_nonce_gap, mempool_ttl_s;
    json_t *doc;                            /* the whole file (owned): "api", "agents" */
    /* the contracts this node executes: not in the file; the program that runs
     * the node sets them (the node layer knows no contract) */
    const ef_contract *const *contracts;
    size_t contracts_len;
} ef_node_config;

/* Fills defaults (no chain, key or genesis). */
void ef_node_config_defaults(ef_node_config *cfg);
/* Reads and checks a config file; relative paths are resolved against its
 * directory. Returns 0, EF_EIO (unreadable) or EF_ECONFIG with a reason in err. */
int ef_node_config_load(ef_node_config *cfg, const char *path, char *err, size_t err_len);
/* The config as a JSON document (new reference), paths as stored. */
json_t *ef_node_config_to_json(const ef_node_config *cfg);
void ef_node_config_free(ef_node_config *cfg);

typedef struct ef_node ef_node;
struct uv_loop_s; /* uv_loop_t (uv.h) */

/* Opens the store (creating block 0 from the genesis on first start), the WAL,
 * the mempool, the engine and the P2P listener, on a new loop owned by the node.
 * Must be followed by ef_node_run on the same thread. cfg is copied (its doc is
 * referenced). Returns 0, EF_ECONFIG, EF_EIO, EF_EDB, EF_ENET, EF_ENOMEM. */
int ef_node_open(ef_node **out, const ef_node_config *cfg);
/* Runs the loop until ef_node_stop; starts the extensions first and stops them
 * before returning. Returns 0, or the error that stopped the node (EF_EIO when
 * the store or WAL failed: the node stops rather than go on unsafely). */
int ef_node_run(ef_node *n);
/* Asks the loop to stop. Thread-safe and async-signal-safe. */
void ef_node_stop(ef_node *n);
/* Frees a node whose loop returned (or that never ran). NULL is a no-op. */
void ef_node_close(ef_node *n);

/* ---- extensions (API, agents) ----
 * start runs on the loop thread inside ef_node_run before the first block, stop
 * when the node shuts down (also on the loop thread). state is the extension's. */
typedef struct ef_node_ext {
    const char *name;
    int (*start)(ef_node *n, const ef_node_config *cfg, void **state);
    void (*stop)(void *state);
} ef_node_ext;
/* Before ef_node_run. EF_EFULL past EF_NODE_EXTS_MAX. */
int ef_node_add_ext(ef_node *n, const ef_node_ext *ext);

/* ---- what extensions may use ---- */

/* The store: its read functions are thread-safe (ef_store.h); never write. */
ef_store *ef_node_store(ef_node *n);
const ef_node_config *ef_node_cfg(const ef_node *n);
const ef_keypair *ef_node_key(const ef_node *n);
/* The node's libuv loop, for an extension's own handles (opened in its start,
 * closed in its stop; on the loop thread only). */
struct uv_loop_s *ef_node_loop(ef_node *n);

/* Submission from any thread. The tx (an encoded signed transaction) is copied
 * and handed to the loop. cb (may be NULL) is called on the loop thread:
 *   once with stage EF_NODE_TX_ADMITTED, code 0 or the admission error (then no
 *   more calls), height 0;
 *   then, if admitted, once with EF_NODE_TX_COMMITTED, code = the transaction's
 *   execution result, height = its block; or EF_NODE_TX_DROPPED if it left the
 *   mempool without committing (a replaced nonce), the node shut down (EF_ECLOSED),
 *   or it cannot be waited for (EF_EFULL: EF_NODE_WAITERS_MAX waiting; EF_EDUP: the
 *   same tx is waited for already).
 * Returns 0 when queued, EF_EFULL (EF_NODE_SUBMITQ_MAX queued), EF_ETOOBIG,
 * EF_ECLOSED (stopping), EF_ENOMEM. Thread-safe. */
enum { EF_NODE_TX_ADMITTED = 1, EF_NODE_TX_COMMITTED = 2, EF_NODE_TX_DROPPED = 3 };
typedef void (*ef_node_tx_cb)(void *arg, const ef_hash *tx_hash, int stage, int code,
                              uint64_t height);
int ef_node_submit(ef_node *n, const uint8_t *tx, size_t len, ef_node_tx_cb cb, void *arg);
/* As ef_node_submit, but blocks the calling thread (never the loop thread) until
 * the admission result, which it returns; *hash (may be NULL) gets the tx hash.
 * Thread-safe. */
int ef_node_submit_wait(ef_node *n, const uint8_t *tx, size_t len, ef_hash *hash);
/* Builds, signs with the node's key and submits a call contract.method(args_json)
 * (args_json: a JSON object text, copied; NULL = "{}"). The nonce is assigned on
 * the loop thread: the node's next nonce after its own pending transactions, so
 * calls from several threads never collide. Callback as for ef_node_submit.
 * Returns 0 when queued, EF_EINVAL (bad names), EF_ETOOBIG, EF_EFULL, EF_ECLOSED.
 * Thread-safe. */
int ef_node_submit_call(ef_node *n, const char *contract, const char *method,
                        const char *args_json, ef_node_tx_cb cb, void *arg);
/* As ef_node_submit, but on the loop thread only (an extension's handler): admits
 * the tx at once, calling cb with EF_NODE_TX_ADMITTED before it returns, then as
 * for ef_node_submit. Returns the admission result (0 or the mempool's error);
 * *hash_out (may be NULL) gets the tx hash. The tx is not kept. */
int ef_node_submit_local(ef_node *n, const uint8_t *tx, size_t len, ef_node_tx_cb cb, void *arg,
                         ef_hash *hash_out);

/* Commit listener: called on the loop thread after each committed block (by
 * consensus or catch-up), in height order. Everything is borrowed for the call.
 * results[i] is the outcome of block->txs[i]. */
typedef struct ef_node_tx_result {
    int code;                    /* 0 or the ef_err the execution failed with */
    const char *events_json;     /* compact JSON array [{"name","data"}], "[]" if none */
} ef_node_tx_result;

typedef struct ef_node_commit {
    uint64_t height;
    ef_hash hash;
    const ef_block *block;
    const uint8_t *enc;          /* the block's encoding */
    size_t len;
    const ef_node_tx_result *results;
    uint64_t commit_time_ms;     /* wall clock when it committed here */
} ef_node_commit;

typedef void (*ef_node_commit_fn)(void *arg, const ef_node_commit *c);
/* Adds a listener (on the loop thread, e.g. from an extension's start, or before
 * ef_node_run). Returns 0 or EF_EFULL past EF_NODE_LISTENERS_MAX. */
int ef_node_on_commit(ef_node *n, ef_node_commit_fn fn, void *arg);

/* Upper bounds (ms) of the commit latency histogram buckets; the last bucket
 * counts the rest: 1 2 5 10 20 50 100 200 500 1000 2000 5000. Latency is measured
 * from admission to commit for transactions submitted to this node. */
extern const double ef_node_lat_bounds_ms[EF_NODE_LAT_BUCKETS - 1];

typedef struct ef_node_status {
    uint64_t seq;                /* publication number: changes whenever anything else does */
    char chain_id[EF_CHAIN_ID_MAX + 1];
    char moniker[64];
    ef_pub key;
    bool validator;              /* key in the current validator set */
    uint64_t height;             /* last committed */
    ef_hash last_hash;
    uint64_t last_time_ms;
    uint64_t round;              /* engine round at height + 1 */
    int step;                    /* ef_step, 0 while waiting for transactions */
    bool catching_up;
    ef_vset vset;                /* the set of height + 1 */
    size_t peers_len;
    ef_pub peers[EF_NODE_PEERS_MAX];
    uint64_t peer_heights[EF_NODE_PEERS_MAX];
    size_t mempool_txs, mempool_bytes;
    uint64_t txs_committed;      /* since this process started */
    uint64_t blocks_committed;   /* since this process started */
    /* work counters since this process started (for per-height figures) */
    uint64_t cons_received;      /* consensus messages handed to the engine */
    uint64_t cons_verified;      /* Ed25519 checks of consensus messages (engine and catch-up) */
    uint64_t frames_in, frames_out, bytes_in, bytes_out;   /* P2P transport */
    uint64_t writes_out;                                   /* socket writes (frames batched per peer) */
    uint64_t lat_counts[EF_NODE_LAT_BUCKETS];
    uint64_t lat_count;
    double lat_sum_ms;
    size_t rejected_len;         /* counters of rejected input, by reason */
    struct {
        char reason[32];         /* e.g. "net_bad_mac", "tx_EBADSIG", "cons_bad_sig" */
        uint64_t count;
    } rejected[EF_NODE_REJECT_REASONS];
} ef_node_status;

/* A consistent snapshot (published by the loop after every event that changes
 * it), copied into *out. Thread-safe. */
void ef_node_get_status(ef_node *n, ef_node_status *out);
/* The current snapshot itself, read-only, without a copy: valid until
 * ef_node_status_release, however many newer ones the loop publishes meanwhile.
 * Lock-free (a few atomics): readers on any number of threads never wait for the
 * loop nor it for them (src/node/ef_node_int.h, ef_node_snap). Hold it briefly:
 * while readers hold every older slot the loop puts off publishing. Never NULL.
 * Thread-safe. */
const ef_node_status *ef_node_status_hold(ef_node *n);
/* Lets go of a snapshot from ef_node_status_hold (NULL is ignored). */
void ef_node_status_release(const ef_node_status *st);
/* The snapshot as JSON (new reference): {"chain_id","moniker","key","validator",
 * "height","last_hash","last_time","round","step","catching_up","validators":[...],
 * "peers":[{"key","height"}],"mempool_txs","mempool_bytes","txs_committed",
 * "blocks_committed","work":{"cons_received","cons_verified","frames_in","frames_out",
 * "bytes_in","bytes_out","writes_out"},"rejected":{reason: count}}. Thread-safe. */
json_t *ef_node_status_json(ef_node *n);

#endif
