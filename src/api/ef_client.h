/* ef_client.h: a client of the node's HTTP API (libcurl): requests, signed reads
 * for private ledgers, transaction submission and the event stream. Used by the
 * CLI (`edgefed tx send`, `edgefed query`) and by agents.
 *
 * Threading: a client is used by one thread at a time (it keeps one connection
 * alive between requests); make one per thread.
 */
#ifndef EF_CLIENT_H
#define EF_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/ef_crypto.h"

#define EF_CLIENT_RESP_MAX (16 * 1024 * 1024)  /* largest response body accepted */
#define EF_CLIENT_URL_MAX 256                    /* base URL bytes */
#define EF_CLIENT_EVENT_MAX (1024 * 1024)        /* largest event-stream message */

typedef struct ef_client ef_client;

/* A client of the API at base_url (e.g. "http://127.0.0.1:8080"; no trailing
 * slash needed). If key is not NULL every request is signed with it (the headers
 * of ef_api.h), as a private ledger requires; the key is copied.
 * timeout_ms bounds each request (0: 60 s). Returns 0, EF_EINVAL or EF_ENOMEM. */
EF_MUST_USE int ef_client_new(ef_client **out, const char *base_url, const ef_keypair *key,
                              uint32_t timeout_ms);
void ef_client_free(ef_client *cl);

/* One request. target is the path and query ("/status"). body may be NULL (then
 * ctype is ignored). On return 0 an HTTP response was received: *status is its
 * code, *resp (malloc'ed, NUL-terminated, caller frees) and *resp_len its body.
 * Errors: EF_ENET (connect or transfer failed), EF_ETIMEOUT, EF_ETOOBIG (response
 * over EF_CLIENT_RESP_MAX or target too long), EF_ENOMEM. */
int ef_client_request(ef_client *cl, const char *method, const char *target, const char *ctype,
                      const void *body, size_t body_len, long *status, char **resp,
                      size_t *resp_len);

/* As ef_client_request, parsing the response as JSON into *out (a new reference;
 * NULL if the body is not JSON). */
int ef_client_json(ef_client *cl, const char *method, const char *target, const json_t *body,
                   long *status, json_t **out);

/* POST /txs with {"tx": hex(tx)}; with wait, ?wait=commit (and timeout_ms if not 0).
 * Returns as ef_client_json. */
int ef_client_submit(ef_client *cl, const uint8_t *tx, size_t tx_len, bool wait,
                     uint32_t timeout_ms, long *status, json_t **out);

/* Called once per event-stream message with its type ("message" if none), its id
 * (the last id seen, "" if none) and its data (NUL-terminated). A message carrying
 * only an id (the API sends one per block in which nothing matched the filters)
 * comes with type "" and data "", so the caller can record how far it got.
 * Return 0 to go on, anything else to stop the stream (ef_client_events then
 * returns that value). */
typedef int (*ef_client_event_fn)(void *arg, const char *type, const char *id, const char *data);

/* GET target (e.g. "/events?from=5&contract=fed") as a server-sent event stream and
 * calls fn per message until fn returns non-zero, the server ends the stream, or
 * the connection fails. last_id (may be NULL) is sent as Last-Event-ID. The
 * request timeout does not apply; a stream silent for 60 s is treated as dead
 * (the server sends keepalives every 15 s). Returns fn's non-zero value, 0 if the
 * server ended the stream, EF_EPROTO for a non-200 answer (*status tells which),
 * or EF_ENET / EF_ETIMEOUT. The caller resumes with the last id it saw. */
int ef_client_events(ef_client *cl, const char *target, const char *last_id, ef_client_event_fn fn,
                     void *arg, long *status);

/* Follows an event stream across disconnects and node restarts: runs
 * ef_client_events on target and, when the connection fails or the server ends
 * the stream (or answers 503), waits (200 ms doubling to 5 s, reset after data)
 * and reconnects with Last-Event-ID = the last id seen, so no block is missed or
 * repeated (the one exception: messages of a block cut short by a disconnect come
 * again, whole, since the block's id had not arrived). *last_id (EF_CLIENT_ID_MAX bytes; "" to start from the target's own
 * ?from=) is updated as ids arrive: an agent that stores it can resume after its
 * own restart too. Returns fn's non-zero value, EF_ECLOSED once *stop is set
 * (checked between attempts and at every message), or EF_EPROTO for an answer
 * other than 200 and 503 (*status tells which, e.g. 403). */
#define EF_CLIENT_ID_MAX 64
int ef_client_follow(ef_client *cl, const char *target, char last_id[EF_CLIENT_ID_MAX],
                     ef_client_event_fn fn, void *arg, const volatile bool *stop, long *status);

/* An incremental server-sent events parser (the one ef_client_events uses), for
 * callers with their own transport. Lines end in LF or CRLF; "data" lines are
 * joined with LF; a blank line dispatches the message to fn as above (messages
 * with neither data nor an id are dropped). last_id (may be NULL) is the initial
 * id. A line or message over EF_CLIENT_EVENT_MAX bytes fails with EF_ETOOBIG. */
typedef struct ef_sse_parser ef_sse_parser;
ef_sse_parser *ef_sse_parser_new(ef_client_event_fn fn, void *arg, const char *last_id);
/* Feeds n bytes. Returns 0, fn's non-zero answer (sticky), or EF_ETOOBIG (sticky). */
int ef_sse_parser_feed(ef_sse_parser *p, const char *data, size_t n);
void ef_sse_parser_free(ef_sse_parser *p);

#endif
