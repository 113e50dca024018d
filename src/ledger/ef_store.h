/* ef_store.h: the ledger's durable store on LMDB: blocks, certificates, the
 * transaction index, contract state, nonces, validator sets and metadata.
 *
 * Layout: one LMDB environment in `dir` (data.mdb, lock.mdb) with named databases
 *
 *   db       key                          value
 *   blocks   u64 height, big-endian       block encoding (ef_block.h)
 *   certs    u64 height, big-endian       commit certificate, opaque (<= EF_CERT_MAX)
 *   txs      raw[32] tx hash              u64 height, u32 index
 *   results  u64 height, u32 index (BE)   i64 code, bytes events (the tx's result:
 *                                         the canonical encoding of its events
 *                                         array, base/ef_cjson.h; ef_block.h)
 *   state    name '\0' key                value (contract state, see below)
 *   meta     "height"                     u64 last committed height
 *            "hash"                       raw[32] last block hash
 *            "time"                       u64 last block time_ms
 *            "state"                      raw[32] state hash accumulator
 *            "chain"                      str chain id
 *            "genesis"                    raw[32] hash of block 0
 *            "gdoc"                       raw[32] BLAKE2b(EF_TAG_STATE || canonical
 *                                         encoding of the genesis document)
 *            "format"                     u32 EF_STORE_FORMAT the store was written
 *                                         with (absent: 1, JSON text state)
 *
 * (all integers little-endian as in ef_codec.h, except the big-endian height keys,
 * which make LMDB's byte order the height order).
 *
 * State namespaces: a contract's keys live under "<contract>\0"; the ledger's own
 * state lives under names no contract can have (contract names are [a-z0-9_]):
 *   "$n\0" + raw[32] pub        -> u64 next nonce of that sender (absent = 0)
 *   "$v\0" + u64 BE height      -> vset encoding effective from that height on
 * Both are state, so they enter the state hash. Values are bytes; a JSON value
 * (ef_ctx_put_json) is stored in its canonical encoding (base/ef_cjson.h), never
 * as JSON text, so the state hash is over bytes the project defines
 * (docs/consensus-bytes.md).
 *
 * State hash: sum modulo 2^256 (little-endian 32-byte integers) of
 * BLAKE2b(EF_TAG_STATE || u32 key_len || key || value) over every state entry.
 * Chosen because it is a deterministic function of the set of entries alone (not
 * of the order of writes), and is maintained incrementally: a put subtracts the
 * old entry's term and adds the new one, a delete subtracts, so a block costs
 * O(writes) hashes, never a scan of the whole state. Its weakness is that it is a
 * multiset hash (a sum): an adversary who can choose many entries freely could in
 * principle search for collisions (Wagner's generalized birthday), which costs far
 * more than 2^64 work at 256 bits and only matters if an attacker can write
 * arbitrary keys; validators also re-execute every block, so a state hash is a
 * cross-check, not the only guard. A Merkle tree over the state (for state proofs)
 * would cost O(log n) hashes per write and is future work.
 *
 * Durability: every commit is one LMDB write transaction, synced (unless
 * opts.no_sync): a crash leaves the store at a block boundary. A failed commit
 * makes the store sticky-failed (EF_EIO on every later write).
 *
 * Ownership: every function returning bytes or strings returns a malloc'd copy the
 * caller frees with free(); json_t results are new references (json_decref).
 *
 * Threading: the read functions (ef_store_info .. ef_store_query) are safe from
 * any thread at any time (each uses its own LMDB read transaction; the environment
 * is opened MDB_NOTLS). The write functions (ef_store_init_genesis and
 * ef_ledger_propose/check/commit in ef_ledger.h) must all be called from one and
 * the same thread. ef_store_close only when no other call is running.
 */
#ifndef EF_STORE_H
#define EF_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/ef_crypto.h"
#include "ledger/ef_block.h"
#include "ledger/ef_ctx.h"
#include "ledger/ef_genesis.h"
#include "ledger/ef_vset.h"

#define EF_STORE_MAP_SIZE_DEFAULT (UINT64_C(1) << 32)   /* 4 GiB of address space */
/* LMDB reader slots: one per read running at the same moment (every API
 * connection thread may be in one; LMDB's default of 126 is below the API's
 * 256 connections). A slot is 64 bytes of the lock file. */
#define EF_STORE_READERS_MAX 1024
/* Slots kept for the node's own threads (loop, agents, relayer): the API's
 * connection limit may be at most EF_STORE_READERS_MAX - this. */
#define EF_STORE_READERS_NODE 64
#define EF_STORE_CONTRACTS_MAX 32
/* the consensus bytes the store holds: 2 = JSON values and events in their
 * canonical encoding (base/ef_cjson.h); 3 = block headers of version 2 (with
 * next_vset_hash, ef_block.h). A store of another format is refused. */
#define EF_STORE_FORMAT 3

typedef struct ef_store ef_store;

typedef struct ef_store_opts {
    /* the contracts the executor dispatches to by name (required: the ledger
     * knows no contract; the node's caller owns the table) */
    const ef_contract *const *contracts;
    size_t contracts_len;
    uint64_t map_size;   /* 0 = EF_STORE_MAP_SIZE_DEFAULT */
    bool no_sync;        /* tests and benches only: skip fsync on commit */
} ef_store_opts;

/* Opens (creating if needed) the store in directory dir (created mode 0700 if
 * missing). opts and its contracts are required. Returns 0 and *out, or
 * EF_EINVAL / EF_EIO / EF_EDB, or EF_ECONFIG for a store written with another
 * EF_STORE_FORMAT (logged; *out NULL). */
int ef_store_open(ef_store **out, const char *dir, const ef_store_opts *opts);
/* Aborts any pending (checked, uncommitted) block and closes. NULL is a no-op. */
void ef_store_close(ef_store *s);

/* Creates block 0 from a genesis (ef_genesis.h): runs each contract's genesis
 * function with its params, records the validator set, stores block 0 (no txs, no
 * cert) and commits. Returns 0, EF_EEXIST if the store was initialised from another
 * genesis document (from the same one it is not an error: 0), EF_ECONFIG if a contract rejects
 * its params, or EF_EDB / EF_EIO. */
int ef_store_init_genesis(ef_store *s, const ef_genesis *g);

typedef struct ef_store_info {
    bool initialised;          /* false until ef_store_init_genesis */
    uint64_t height;           /* last committed height (0 = genesis only) */
    ef_hash last_hash;         /* its block hash */
    uint64_t last_time_ms;     /* its header time */
    ef_hash state_hash;        /* state after it */
    ef_hash genesis_hash;
    char chain_id[EF_CHAIN_ID_MAX + 1];
} ef_store_info;

/* Snapshot of the metadata. Returns 0 or EF_EDB. */
int ef_store_info_get(ef_store *s, ef_store_info *out);
/* Last committed height (0 if none or on error). */
uint64_t ef_store_height(ef_store *s);

/* Copy of the block at height: 0, EF_ENOTFOUND, EF_ENOMEM or EF_EDB. */
int ef_store_block(ef_store *s, uint64_t height, uint8_t **out, size_t *len);
/* The block's header only. */
int ef_store_header(ef_store *s, uint64_t height, ef_block_header *out);
/* Copy of the commit certificate stored with block height (EF_ENOTFOUND for
 * block 0 and unknown heights). */
int ef_store_cert(ef_store *s, uint64_t height, uint8_t **out, size_t *len);

typedef struct ef_tx_loc {
    uint64_t height;           /* block holding the tx */
    uint32_t index;            /* its position in the block */
    int code;                  /* 0 or the ef_err the execution failed with */
    char *events_json;         /* malloc'd, NUL-terminated JSON array; caller frees
                                  (shown as compact JSON with sorted keys: a view
                                  of the stored canonical bytes, never hashed) */
} ef_tx_loc;

/* Where a committed transaction is and what it did: 0, EF_ENOTFOUND, EF_EDB. */
int ef_store_tx_lookup(ef_store *s, const ef_hash *tx_hash, ef_tx_loc *out);

/* The result of the index-th tx of block height: its code and (if events_json is
 * not NULL) a malloc'd copy of its events JSON array. 0, EF_ENOTFOUND, EF_EDB. */
int ef_store_result(ef_store *s, uint64_t height, uint32_t index, int *code, char **events_json);

/* Unmaps the pages of the store's read-only memory map from this process
 * (madvise MADV_DONTNEED on the used part of the map), so that pages touched by
 * reads stop counting in its resident set; they stay in the kernel's page cache and
 * a later read maps them again (a minor fault). Sound because LMDB maps the file
 * read-only and shared (no MDB_WRITEMAP): the mapping holds no private data, and a
 * reader in another thread (or a cursor of an open transaction) that touches such a
 * page again faults the same, unchanged content back in. Any thread. 0, EF_EIO, or
 * EF_ENOTFOUND (the map is not among /proc/self/maps). */
int ef_store_release_pages(ef_store *s);

/* Bounds the part of the map that counts in this process's resident set:
 * ef_store_trim releases the map's pages (ef_store_release_pages) when the
 * process's file-backed resident bytes (/proc/self/statm "shared") exceed what
 * they were right after the last release by more than `bytes` (0, the default:
 * never). The ledger calls it after every transaction it executes (propose, check,
 * commit); the caller may call it after commits and reads. Needed because the
 * kernel maps whole cached folios (up to megabytes) around each read fault, so a
 * few random index and state reads can map tens of MB of the file; one check is a
 * pread of /proc/self/statm. 0 or EF_EIO (statm cannot be opened). */
int ef_store_set_resident_budget(ef_store *s, size_t bytes);
/* As above; any thread. Returns whether it released. */
bool ef_store_trim(ef_store *s);

/* The nonce the sender's next transaction must carry (0 if it never sent one). */
int ef_store_nonce(ef_store *s, const ef_pub *sender, uint64_t *next);
/* Whether sender may send on the committed state (ef_ctx.h, "who may send"):
 * 0 (yes), EF_ENOACCOUNT, or EF_ESTATE (no genesis) / EF_EDB. The mempool's
 * admission check; execution applies the same rule to the block's state. */
int ef_store_account(ef_store *s, const ef_pub *sender);

/* The validator set that signs block `height`: the last set recorded effective at
 * or before height. Known for every height up to last committed + EF_VSET_DELAY
 * (a change decided in block h takes effect at h + EF_VSET_DELAY); beyond that
 * EF_EAGAIN. Returns 0, EF_EAGAIN, EF_ENOTFOUND (no genesis) or EF_EDB. */
int ef_store_vset(ef_store *s, uint64_t height, ef_vset *out);

/* Read-only query through the contract's query function (ef_ctx.h), on the last
 * committed state: e.g. ("bank", "balance/<hex pub>"). Returns 0 with *out a new
 * reference, EF_ENOCONTRACT, EF_ENOTFOUND, EF_EINVAL, or EF_EDB. */
int ef_store_query(ef_store *s, const char *contract, const char *path, json_t **out);
/* As ef_store_query through the contract's text query (ef_query_text_fn): *out a
 * malloc'd JSON text of *len bytes. EF_ENOMETHOD if the contract has none or it
 * does not answer path (ask ef_store_query then). */
int ef_store_query_text(ef_store *s, const char *contract, const char *path, char **out, size_t *len);
/* Raw read of one state entry of a contract (or the ledger's "$n"/"$v"). */
int ef_store_state_get(ef_store *s, const char *ns, const void *key, size_t key_len,
                       uint8_t **val, size_t *val_len);

/* Recomputes the state hash from scratch (a full scan of the state) into *out
 * and compares it with the incrementally maintained one: 0 if equal, EF_EROOT if
 * not (the store is corrupt), EF_EDB. For tests and `edgefed` checks; O(state). */
int ef_store_verify_state(ef_store *s, ef_hash *out);

/* Called after every successful commit (from the committing thread), e.g. to push
 * events to the API. One callback; NULL removes it. */
typedef void (*ef_store_commit_fn)(void *arg, uint64_t height, const ef_hash *block_hash);
void ef_store_on_commit(ef_store *s, ef_store_commit_fn fn, void *arg);

#endif
