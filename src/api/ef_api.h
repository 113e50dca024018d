/* ef_api.h: the node's HTTP API: JSON endpoints, server-sent events, Prometheus
 * metrics, signed reads for private ledgers, and the explorer page.
 *
 * The server (libmicrohttpd, one thread per connection, so a long request such as
 * POST /txs?wait=commit or GET /events never holds up another) knows nothing about
 * nodes or stores: it calls a small backend (ef_api_backend), a table of function
 * pointers plus a context, implemented over the real node (ef_api_node.h) and over
 * a bare ledger store (ef_api_store.h).
 *
 * Endpoints (docs/api.yaml is the full reference):
 *
 *   GET  /                      the explorer page (static, embedded at build time)
 *   GET  /ui/{file}             its script and style sheet
 *   GET  /status                chain id, height, last block, round, validators, peers, mempool
 *   GET  /blocks/{height}       one block: header, commit signers, transactions with results and events
 *   GET  /blocks/{height}/checkpoint  its header encoding and commit certificate (hex), and the
 *                               next committee at a rotation: what a relayer anchors
 *   GET  /blocks?from=&to=      block summaries, ascending, at most EF_API_RANGE_MAX
 *   GET  /txs/{hash}            a committed transaction: block, position, result, events
 *   POST /txs[?wait=commit]     submit a signed transaction (JSON {"tx": HEX} or raw
 *                               application/octet-stream); 202 once admitted, or with
 *                               wait=commit 200 once committed (504 after timeout_ms)
 *   GET  /state/{contract}/...  a contract's query function
 *   GET  /accounts/{key}        role, domain, balance and next nonce of an account
 *   GET  /events                server-sent events (see below)
 *   GET  /metrics               Prometheus text format
 *
 * Errors: a JSON body {"error": "text", "code": "ENAME"} where code is an
 * ef_errname() of src/base/ef_err.h, with status 400 (malformed), 403 (private
 * ledger, unsigned or outsider), 404, 405, 409 (nonce, duplicate), 413 (body over
 * EF_API_BODY_MAX), 414 (target over EF_API_PATH_MAX), 415 (content type), 422
 * (well-formed but invalid: signature, chain), 503 (full, shutting down) or 504
 * (wait timed out), 431 (request line and headers over EF_API_HEADER_MAX). An
 * HTTP/1.1 request without Host or with a header name that is not a token is 400.
 * What libmicrohttpd 0.9.75 refuses before calling the server gets its own HTML
 * page (it has no option to replace it): line and headers over EF_API_HEADER_MEM
 * (414/431), a malformed, negative or over-2^64 Content-Length (400/413), a
 * malformed request or header line (400), an HTTP version other than 1.0/1.1
 * (505/400), malformed chunked encoding (400).
 *
 * Hostile clients: at most conn_per_ip connections per client address; a request
 * must fully arrive within request_s of its connection's opening or previous
 * answer (a keeper thread shuts down connections past it: trickling bytes, which
 * restart libmicrohttpd's idle timeout, cannot stretch it); connection threads run
 * at nice EF_API_NICE; the node's loop never waits for a lock a connection thread
 * holds (ef_api_notify_commit is lock-free, /status reads ef_node_status_hold).
 *
 * Event stream (GET /events?from=H&contract=C&event=E1,E2&kind=all|block|event):
 *   Messages are grouped per committed block, in height order. For block h:
 *     event: block     data: {"height","hash","time_ms","proposer","txs"} (kind all|block)
 *     event: event     data: {"height","tx","index","contract","name","data"}
 *                      one per contract event matching contract/event (kind all|event)
 *   Every message has the id "h:pos", its position in block h (0 the block, 1.. the
 *   block's contract events in order, counted before filtering); a block where
 *   nothing matched sends one message with only "id: h". Last-Event-ID "h:pos"
 *   resumes with the next message (mid-block too), "h" or ?from=h+1 after block h
 *   (EventSource clients send the header by themselves); without either, the stream
 *   starts at the next block to commit. Old blocks are replayed
 *   from the store, then the stream follows commits live, with no gap between.
 *   A comment line (": keepalive") is sent every EF_API_SSE_KEEPALIVE_MS.
 *
 * Private ledgers (ef_api_config.private_reads): every endpoint except the explorer's
 * static files requires three headers, EF_API_HDR_KEY (the account's public key,
 * hex), EF_API_HDR_TIME (Unix time in ms, decimal) and EF_API_HDR_SIG (hex Ed25519
 * signature with tag EF_TAG_HTTP over the message from ef_api_auth_message()). The
 * time must be within EF_API_SIG_WINDOW_MS of the server's clock, the signature
 * must verify, a signature is accepted once only (a replay within the window is
 * refused), and the key must be an account registered on the ledger (backend
 * is_member), of ef_api_config.domain if that is set. Any failure is 403 (503
 * only if EF_API_REPLAY_MAX signatures are remembered at once).
 *
 * Read tokens (private ledgers, GET only): instead of signing each request, a
 * member may sign one short-lived token (ef_api_token_make; `edgefed token make`)
 * and hand it to a client that cannot sign, such as the explorer page, which
 * sends it as "Authorization: Bearer HEX". The node checks it on every request,
 * as a signed request: its chain is ef_api_config.chain_id (a node without one
 * accepts no token), now is before its expiry and its lifetime is at most
 * EF_API_TOKEN_TTL_MAX_MS, its signature verifies, and its key is a member
 * (is_member, of the domain if set) now, so a removed member's tokens stop at
 * once. An event stream opened with a token ends at the token's expiry. A token
 * is a bearer credential for reads until it expires: no replay table (the
 * browser reuses it), no writes (POST with a token is 403), and it never leaves
 * the page's origin (the explorer keeps it in sessionStorage, and drops it from
 * the URL fragment it came in).
 *   Token bytes (canonical codec, hex on the wire; signed with EF_TAG_READ_TOKEN
 *   over every byte before the signature):
 *     offset  size      meaning
 *     0       1         version, EF_API_TOKEN_VERSION
 *     1       4 + n     chain id (u32 le length, n <= EF_CHAIN_ID_MAX bytes)
 *     5+n     32        the member's public key
 *     37+n    8         issued, Unix ms (u64 le)
 *     45+n    8         expires, Unix ms (u64 le), issued < expires
 *     53+n    64        Ed25519 signature
 *
 * Threading: ef_api_start/ef_api_stop from one thread; ef_api_notify_commit from
 * any thread. Backend functions are called concurrently from the server's
 * connection threads and must be thread-safe.
 */
#ifndef EF_API_H
#define EF_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/ef_crypto.h"
#include "ledger/ef_tx.h"

/* --- limits (each enforced) --- */
#define EF_API_BODY_MAX (256 * 1024)      /* POST body bytes; more is 413 */
#define EF_API_HEADER_MAX (16 * 1024)     /* request line and headers; more is 431 */
#define EF_API_HEADER_MEM (32 * 1024)     /* libmicrohttpd's per-connection memory: a request
                                           * line and headers that do not fit get its own
                                           * (HTML) 414 or 431, see below */
#define EF_API_DROPS_KEPT 1024          /* dropped submissions remembered for their waiters */
#define EF_API_CONN_MAX 256               /* open connections (default of conn_max); more wait in the backlog */
#define EF_API_SSE_MAX 64                 /* concurrent /events streams; more is 503 */
#define EF_API_WAIT_MAX 128               /* concurrent ?wait=commit requests; more is 503 */
#define EF_API_IDLE_S 30                  /* idle connection timeout (default of idle_s) */
#define EF_API_CONN_PER_IP 32             /* open connections per client address (conn_per_ip) */
#define EF_API_REQUEST_S 10               /* a whole request, headers and body, must arrive
                                           * within this (default of request_s) */
#define EF_API_RANGE_MAX 100              /* blocks per /blocks?from=&to= */
#define EF_API_WAIT_MS_DEFAULT 30000      /* default and maximum wait for ?wait=commit */
#define EF_API_SIG_WINDOW_MS 30000        /* signed request time must be within +- this */
#define EF_API_REPLAY_MAX 8192            /* signatures remembered for replay detection */
#define EF_API_SSE_KEEPALIVE_MS 15000
#define EF_API_FILTER_MAX 8               /* event names in one /events filter */
#define EF_API_PATH_MAX 512               /* request target (path and query) bytes */
#define EF_API_NICE 19                    /* scheduling priority of connection threads (the
                                           * node's loop keeps its own, normally 0) */

#define EF_API_TOKEN_VERSION 1
#define EF_API_TOKEN_TTL_MAX_MS (12ull * 3600 * 1000) /* a read token lives at most this */
#define EF_API_TOKEN_SKEW_MS EF_API_SIG_WINDOW_MS    /* issued may be this far in the future */
#define EF_API_TOKEN_HEX_MAX (2 * (53 + EF_CHAIN_ID_MAX + 64)) /* hex digits of the longest token */

#define EF_API_HDR_KEY "X-Edgefed-Key"
#define EF_API_HDR_TIME "X-Edgefed-Time"
#define EF_API_HDR_SIG "X-Edgefed-Sig"

/* Commit latency histogram: bucket i counts commits with latency <= bound[i] ms
 * (and > bound[i-1]); the last bucket, EF_API_LAT_BUCKETS - 1, counts the rest. */
#define EF_API_LAT_BUCKETS 13
extern const double ef_api_lat_bounds_ms[EF_API_LAT_BUCKETS - 1];
/* The bucket index for a latency in ms. */
int ef_api_lat_bucket(double ms);

#define EF_API_REJECT_MAX 48
#define EF_API_REASON_MAX 32

/* Counters the backend reports for /metrics. Plain values, filled by the backend. */
typedef struct ef_api_metrics {
    uint64_t height;                /* last committed height */
    uint64_t round;                 /* consensus round at the current height */
    uint64_t txs_committed;         /* since genesis */
    uint64_t blocks_committed;      /* since this process started */
    uint64_t mempool_txs;
    uint64_t mempool_bytes;
    uint64_t peers;                 /* connected, authenticated peers */
    uint64_t lat_counts[EF_API_LAT_BUCKETS]; /* commit latency (admission to commit) */
    uint64_t lat_count;
    double lat_sum_ms;
    size_t rejected_len;            /* rejected messages / transactions by reason */
    struct {
        char reason[EF_API_REASON_MAX];
        uint64_t count;
    } rejected[EF_API_REJECT_MAX];
} ef_api_metrics;

/* What the server asks of a node. Every function returns 0 or a negative ef_err
 * code; JSON outputs are new references the server releases. All are called from
 * the server's threads, concurrently. Functions marked optional may be NULL.
 *
 * JSON shapes (fields the server and the explorer rely on; more are allowed):
 *   status:  {"chain_id","height","last_hash","last_time_ms","round","peers",
 *             "mempool_txs","validators":[{"key","role","domain",...}],...}
 *   block, full=false:  {"height","hash","time_ms","proposer","txs": COUNT,...}
 *   block, full=true:   the same plus "txs":[{"hash","sender","nonce","contract",
 *             "method","result","code","events":[{"name","data"}]}] (here "txs" is
 *             the list), "header":{...}, "signers":[KEY,...]
 *   tx:      {"hash","height","index","sender","nonce","contract","method","args",
 *             "result","code","events":[...]}
 *   account: {"key","role","domain","balance","nonce"} where nonce is the next one.
 */
typedef struct ef_api_backend {
    void *ctx;
    /* Last committed height (0 before the first block after genesis). Must be cheap. */
    uint64_t (*height)(void *ctx);
    int (*status)(void *ctx, json_t **out);
    /* EF_ENOTFOUND above the committed height. */
    int (*block)(void *ctx, uint64_t height, bool full, json_t **out);
    /* EF_ENOTFOUND unless committed. */
    int (*tx)(void *ctx, const ef_hash *hash, json_t **out);
    /* Runs contract's query function on path ("" for its root): EF_ENOCONTRACT,
     * EF_ENOTFOUND, EF_EINVAL. */
    int (*query)(void *ctx, const char *contract, const char *path, json_t **out);
    /* As query through the contract's text query (large answers written as JSON
     * text by the contract): *out malloc'd, *len bytes. EF_ENOMETHOD: ask query.
     * May be NULL. */
    int (*query_text)(void *ctx, const char *contract, const char *path, char **out, size_t *len);
    int (*account)(void *ctx, const ef_pub *pub, json_t **out);
    /* Admits one encoded, signed transaction to the mempool (checks its decoding,
     * chain, signature and nonce) and sets *hash. Errors: EF_ETRUNC..EF_ENONCANON,
     * EF_ETOOBIG, EF_EBADSIG, EF_ECHAIN, EF_ENONCE, EF_EDUP, EF_EFULL, EF_ECLOSED. */
    int (*submit)(void *ctx, const uint8_t *tx, size_t len, ef_hash *hash);
    /* Optional: why the node dropped from its pool a transaction submitted
     * through submit (EF_EEXPIRED, EF_EEVICTED, EF_ENONCE), or 0 if it did not
     * (or no longer remembers: the last EF_API_DROPS_KEPT drops are kept). A
     * POST /txs?wait=commit whose transaction was dropped answers at once. */
    int (*dropped)(void *ctx, const ef_hash *hash);
    /* Optional: counters for /metrics. The server zeroes *out and presets height
     * (from height()) and txs_committed (its own count) before the call; the
     * backend overwrites what it knows better. */
    int (*metrics)(void *ctx, ef_api_metrics *out);
    /* Optional (required for private_reads): true if pub is an account registered
     * on this ledger (any role) and, if domain is not NULL, of that domain. */
    bool (*is_member)(void *ctx, const ef_pub *pub, const char *domain);
    /* Optional: a number that changes whenever status() would answer differently.
     * While it stays the same the server answers /status from its last
     * serialization without calling status(). Must be much cheaper than status(). */
    uint64_t (*status_version)(void *ctx);
    /* Optional: transactions committed in blocks 1..*height (the backend sets
     * *height). Without it the server counts them itself, reading every block
     * summary once at start and each new block after. */
    uint64_t (*txs_total)(void *ctx, uint64_t *height);
    /* Optional: GET /proofs/tx/{hash}, the proof (ledger/ef_proof.h) that a
     * committed tx and its result are in its block (ef_api_store_proof's JSON).
     * EF_ENOTFOUND unless committed. Without it the route answers 404. */
    int (*proof)(void *ctx, const ef_hash *hash, json_t **out);
    /* Optional: GET /blocks/{height}/checkpoint, block height's header encoding and
     * commit certificate in hex, with the next committee at a rotation
     * (ef_api_store_checkpoint's JSON). EF_ENOTFOUND unless committed with a
     * certificate. Without it the route answers 404. */
    int (*checkpoint)(void *ctx, uint64_t height, json_t **out);
} ef_api_backend;

typedef struct ef_api_config {
    const char *listen;      /* "HOST:PORT" (IPv4 or a name); port 0 picks a free one */
    bool private_reads;      /* domain ledger: every request must be signed by a member */
    const char *domain;      /* with private_reads: members of this domain only (NULL: any
                              * account registered on the ledger); copied */
    const char *chain_id;    /* with private_reads: the chain read tokens must name (NULL:
                              * read tokens are refused); copied */
    unsigned conn_max;       /* 0: EF_API_CONN_MAX */
    unsigned conn_per_ip;    /* 0: EF_API_CONN_PER_IP; more from one address are closed at once */
    unsigned idle_s;         /* 0: EF_API_IDLE_S */
    unsigned request_s;      /* 0: EF_API_REQUEST_S: from a connection's opening or the end
                              * of its previous answer, its next request (headers and body)
                              * must be complete within this, however it trickles, or the
                              * connection is closed */
    unsigned wait_ms_max;    /* 0: EF_API_WAIT_MS_DEFAULT */
} ef_api_config;

typedef struct ef_api ef_api;

/* Starts the server. The backend table is copied; be->ctx must outlive the server.
 * Returns 0 and *out, or EF_EINVAL (bad listen address or backend), EF_ENET (cannot
 * bind), EF_ENOMEM. */
EF_MUST_USE int ef_api_start(ef_api **out, const ef_api_config *cfg, const ef_api_backend *be);
/* The bound TCP port. */
uint16_t ef_api_port(const ef_api *api);
/* Tells the server a block was committed: wakes event streams and commit waiters.
 * Thread-safe and lock-free (an atomic and a semaphore post: the server's own
 * thread passes it on), so the node's loop never waits for a connection thread. Streams also poll be->height every second, so a missed
 * call delays but never loses a message. */
void ef_api_notify_commit(ef_api *api, uint64_t height);
/* Ends every stream and waiter, stops the server and frees it. NULL is a no-op. */
void ef_api_stop(ef_api *api);

/* --- signed requests (private ledgers) --- */

/* Writes the signed message for a request into out (cap bytes, NUL-terminated):
 *   METHOD "\n" TARGET "\n" TIME_MS
 * where TARGET is the request target as sent (path and query, e.g.
 * "/blocks?from=1&to=5") and TIME_MS is decimal. Returns its length, or EF_ETOOBIG
 * if it does not fit. */
int ef_api_auth_message(char *out, size_t cap, const char *method, const char *target,
                        uint64_t time_ms);
/* Signs a request: key_hex (65 bytes), sig_hex (129 bytes) receive the header values.
 * Returns 0 or EF_ETOOBIG (target over EF_API_PATH_MAX). */
int ef_api_auth_sign(char key_hex[2 * EF_PUB_SIZE + 1], char sig_hex[2 * EF_SIG_SIZE + 1],
                     const ef_keypair *kp, const char *method, const char *target,
                     uint64_t time_ms);

/* --- read tokens (private ledgers; format above) --- */

typedef struct ef_api_token {
    char chain_id[EF_CHAIN_ID_MAX + 1];
    ef_pub pub;
    uint64_t issued_ms, expires_ms;
    ef_sig sig;
} ef_api_token;

/* Makes a token of kp for chain_id, valid from issued_ms for ttl_ms, into hex
 * (NUL-terminated, at most EF_API_TOKEN_HEX_MAX digits; cap >= that + 1).
 * Returns the number of digits, or EF_EINVAL (chain id empty or too long, ttl 0
 * or over EF_API_TOKEN_TTL_MAX_MS, cap too small). */
int ef_api_token_make(char *hex, size_t cap, const ef_keypair *kp, const char *chain_id,
                      uint64_t issued_ms, uint64_t ttl_ms);
/* Decodes a token's hex into *out and checks what needs no ledger: the format
 * (EF_EINVAL: not hex, truncated, trailing bytes, another version), the
 * signature (EF_EBADSIG), the chain if chain_id is not NULL (EF_ECHAIN), the
 * lifetime (EF_ELATE: expired at now_ms, issued more than EF_API_TOKEN_SKEW_MS
 * ahead of now_ms, or living longer than EF_API_TOKEN_TTL_MAX_MS). now_ms 0: no
 * time checks. Membership is the caller's. On failure *out is zeroed. */
EF_MUST_USE int ef_api_token_check(ef_api_token *out, const char *hex, const char *chain_id,
                                   uint64_t now_ms);

/* Maps an ef_err code to the API's HTTP status (e.g. EF_ENOTFOUND -> 404). */
unsigned ef_api_http_status(int err);

#endif
