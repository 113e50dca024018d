/* ef_api_int.h: the API server's internal state and helpers, shared by ef_api.c
 * (routing, limits, errors, signed reads, JSON endpoints), ef_api_events.c (GET
 * /events) and ef_api_metrics.c (GET /metrics). */
#ifndef EF_API_INT_H
#define EF_API_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>

#include "api/ef_api.h"
#include "api/ef_explorer.h"
#include "base/ef_err.h"

#define EF_API_LOG "api"
#define EF_API_POLL_MS 250          /* streams and waiters re-check the height this often */

typedef struct ef_api_replay ef_api_replay;   /* a remembered request signature (ef_api.c) */
typedef struct ef_api_req ef_api_req;         /* one request being received (ef_api.c) */
typedef struct ef_api_conn ef_api_conn;       /* one open connection (ef_api.c) */

struct ef_api {
    struct MHD_Daemon *mhd;
    ef_api_backend be;
    bool private_reads;
    char domain[64];              /* "" = any registered account */
    char chain_id[EF_CHAIN_ID_MAX + 1]; /* read tokens must name it; "" = no tokens */
    unsigned wait_ms_max;
    uint16_t port;
    struct MHD_Response *assets[EF_EXPLORER_ASSETS_MAX];

    pthread_mutex_t mu;           /* guards the fields from here to status_txs */
    pthread_cond_t cond;          /* broadcast on commit and on stop */
    uint64_t height;              /* highest committed height seen */
    bool stopping;
    unsigned sse_open;
    unsigned waits_open;
    unsigned waits_unsent;        /* wait requests whose answer is not yet sent */
    ef_api_replay *replay;        /* EF_API_REPLAY_MAX entries */
    size_t replay_len;
    char *status_text;            /* last /status answer ... */
    size_t status_len;
    uint64_t status_version;      /* ... for this backend version ... */
    uint64_t status_txs;          /* ... and this txs_total */

    /* open connections, for the request deadline (the keeper thread sweeps them) */
    pthread_mutex_t conns_mu;     /* guards conns and every ef_api_conn's fields */
    ef_api_conn *conns;           /* doubly linked */
    unsigned request_ms;          /* ef_api_config.request_s */
    pthread_t keeper;             /* passes commits on and closes connections past the deadline */
    bool keeper_started;
    sem_t keeper_wake;            /* posted by ef_api_notify_commit and ef_api_stop */
    atomic_uint_fast64_t commit_height;   /* from ef_api_notify_commit */
    atomic_bool keeper_stop;
    atomic_uint_fast64_t deadline_closed; /* connections closed at the request deadline */

    /* the counter thread's own fields, and atomics */
    pthread_t counter;            /* counts committed transactions (txs_total) */
    bool counter_started;
    atomic_uint_fast64_t txs_total;       /* transactions in blocks 1..txs_counted */
    atomic_uint_fast64_t txs_counted;

    atomic_uint_fast64_t http_status[6];        /* requests by status class: [1]=1xx ... [5]=5xx */
    atomic_uint_fast64_t rejected[EF_ERR_COUNT_]; /* requests refused, by error code */
};

/* Milliseconds on the monotonic clock. */
uint64_t ef_api_now_ms(void);

/* Strict decimal u64: digits only, no sign, no overflow, at most 20 digits. */
bool ef_api_parse_u64(const char *s, uint64_t *out);

/* Transactions committed in blocks 1..*counted: the backend's count, or ours. */
uint64_t ef_api_txs(ef_api *api, uint64_t *counted);

/* Queues r with status, counts the status class, and releases r (the connection
 * keeps its own reference). MHD_NO if r is NULL. */
/* When the read token a request came with expires (Unix ms), or 0 if it came
 * without one. */
uint64_t ef_api_req_token_expiry(const ef_api_req *req);

enum MHD_Result ef_api_queue(ef_api *api, struct MHD_Connection *c, unsigned status,
                             struct MHD_Response *r);

/* Replies with text that the response takes ownership of (freed with free()). */
enum MHD_Result ef_api_reply_owned(ef_api *api, struct MHD_Connection *c, unsigned status,
                                   const char *ctype, char *body, size_t len);

/* Replies {"error": text, "code": ef_errname(err)} with the status for err (or the
 * given status if not 0), and counts err among the refused requests. */
enum MHD_Result ef_api_reply_err(ef_api *api, struct MHD_Connection *c, unsigned status,
                                 int err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* An endpoint, as listed in ef_api.c's route table: rest is the URL after the
 * route's path ("" unless the route is a prefix), req the request with its body. */
typedef enum MHD_Result (*ef_api_route_fn)(ef_api *api, struct MHD_Connection *c,
                                           const char *rest, ef_api_req *req);

/* GET /events: the server-sent event stream (ef_api_events.c). */
enum MHD_Result ef_api_events(ef_api *api, struct MHD_Connection *c, const char *rest,
                              ef_api_req *req);

/* GET /metrics: Prometheus text format (ef_api_metrics.c). */
enum MHD_Result ef_api_metrics_get(ef_api *api, struct MHD_Connection *c, const char *rest,
                                   ef_api_req *req);

#endif
