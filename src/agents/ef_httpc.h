/* ef_httpc.h: the agents' blocking HTTP/1.0 client on libcurl (IPv4 literal, one request per connection).
 *
 * Enough for the agents' small requests (the service app, the REST baseline):
 * one libcurl transfer per request, no connection reuse, no redirects, no proxy.
 * Its socket can be opened inside a network namespace (libcurl's open-socket
 * callback calls ef_proc_netns_socket), so the consumer's requests leave from the
 * consumer's MEC system. libcurl parses the response; the header lookup uses
 * curl_easy_header.
 *
 * Threading: no shared state (libcurl is initialised once, thread-safely); a
 * response is used by one thread at a time.
 */
#ifndef EF_HTTPC_H
#define EF_HTTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/ef_crypto.h"
#include "base/ef_err.h"

struct ef_tx;

#define EF_HTTPC_RESP_MAX (1u << 20)   /* largest response accepted, headers included */
#define EF_HTTPC_REQ_HEAD_MAX 4096     /* method + path + caller's header lines */
#define EF_HTTPC_PATH_MAX 1024

typedef struct ef_httpc_resp {
    int status;        /* HTTP status code */
    char *body;        /* NUL-terminated (body_len bytes before the NUL); free with ef_httpc_resp_free */
    size_t body_len;
    void *handle;      /* the libcurl handle of the transfer, kept for ef_httpc_header; opaque */
} ef_httpc_resp;

/* Sends METHOD path to ip:port (host-order IPv4) with extra header lines
 * (`headers`: NULL or NULL-terminated array of "Name: value", no CR/LF) and the
 * body (may be NULL/0), from inside netns (NULL = the caller's namespace).
 * Waits at most timeout_ms in all. On 0, *resp holds the answer (any status);
 * the caller frees it. Errors: EF_EINVAL (bad arguments, CR/LF in a header,
 * bad netns), EF_ENET (refused, unreachable, reset), EF_ETIMEOUT, EF_EPROTO
 * (not HTTP, or a body shorter than its Content-Length), EF_ETOOBIG (answer
 * over EF_HTTPC_RESP_MAX), EF_ENOMEM; *resp is then empty. */
int ef_httpc_request(ef_httpc_resp *resp, const char *netns, uint32_t ip, uint16_t port,
                     const char *method, const char *path, const char *const *headers,
                     const void *body, size_t body_len, uint32_t timeout_ms) EF_MUST_USE;

void ef_httpc_resp_free(ef_httpc_resp *resp);

/* From now on, requests of the calling thread end within about a second once
 * *flag is true, with EF_ECLOSED (flag NULL: no longer). For an agent's thread
 * whose stop must not wait out a long request. */
void ef_httpc_abort_on(const volatile bool *flag);

/* Copies the value of response header `name` (case-insensitive, surrounding
 * blanks trimmed; the first one if repeated) into out (cap bytes). 0,
 * EF_ENOTFOUND, or EF_ETOOBIG. */
int ef_httpc_header(const ef_httpc_resp *resp, const char *name, char *out, size_t cap);

/* Signs *tx with kp (tx->sender and the signature are set), encodes it with the
 * ledger's codec and POSTs {"tx": hex} to /txs?wait=commit at ip:port, waiting
 * at most timeout_ms. On 0 an answer came: *status is its HTTP status and
 * *resp its body (the caller frees it). Errors: as ef_httpc_request, and
 * those of ef_tx_sign / ef_tx_encode. */
int ef_httpc_submit_tx(ef_httpc_resp *resp, uint32_t ip, uint16_t port, struct ef_tx *tx, const ef_keypair *kp,
                       uint32_t timeout_ms) EF_MUST_USE;

/* Splits "http://A.B.C.D:PORT/path" (port required; path defaults to "/") into
 * ip, port and path (copied into path_out, cap bytes). 0 or EF_EINVAL. */
int ef_httpc_parse_url(const char *url, uint32_t *ip, uint16_t *port, char *path_out, size_t cap) EF_MUST_USE;

/* Splits "A.B.C.D:PORT" into ip and port. 0 or EF_EINVAL. */
int ef_httpc_parse_hostport(const char *s, uint32_t *ip, uint16_t *port) EF_MUST_USE;

#endif
