/* ef_httpc.h: a minimal blocking HTTP/1.0 client for the agents (IPv4 literal, one request per connection).
 *
 * Enough for the agents' small requests (the service app, the REST baseline):
 * it sends one request with "Connection: close" and reads the answer to EOF. It
 * can open its socket inside a network namespace, so the consumer's requests
 * leave from the consumer's MEC system. No redirects, no chunked bodies (the
 * servers it talks to, libmicrohttpd answering HTTP/1.0, send Content-Length).
 *
 * Threading: no shared state; thread-safe.
 */
#ifndef EF_HTTPC_H
#define EF_HTTPC_H

#include <stddef.h>
#include <stdint.h>

#include "base/ef_err.h"

#define EF_HTTPC_RESP_MAX (1u << 20)   /* largest response accepted, headers included */
#define EF_HTTPC_REQ_HEAD_MAX 4096     /* request line + headers */
#define EF_HTTPC_PATH_MAX 1024

typedef struct ef_httpc_resp {
    int status;        /* HTTP status code */
    char *body;        /* NUL-terminated (body_len bytes before the NUL); free with ef_httpc_resp_free */
    size_t body_len;
    char *head;        /* the header lines after the status line, NUL-terminated, CRLF-separated */
} ef_httpc_resp;

/* Sends METHOD path to ip:port (host-order IPv4) with extra header lines
 * (`headers`: NULL or NULL-terminated array of "Name: value", no CR/LF) and the
 * body (may be NULL/0), from inside netns (NULL = the caller's namespace).
 * Waits at most timeout_ms in all. On 0, *resp holds the answer (any status);
 * the caller frees it. Errors: EF_EINVAL, EF_ENET (refused, unreachable,
 * reset), EF_ETIMEOUT, EF_EPROTO (not HTTP), EF_ETOOBIG, EF_ENOMEM; *resp is
 * then empty. */
int ef_httpc_request(ef_httpc_resp *resp, const char *netns, uint32_t ip, uint16_t port,
                     const char *method, const char *path, const char *const *headers,
                     const void *body, size_t body_len, uint32_t timeout_ms) EF_MUST_USE;

void ef_httpc_resp_free(ef_httpc_resp *resp);

/* Copies the value of response header `name` (case-insensitive, surrounding
 * blanks trimmed) into out (cap bytes). 0, EF_ENOTFOUND, or EF_ETOOBIG. */
int ef_httpc_header(const ef_httpc_resp *resp, const char *name, char *out, size_t cap);

/* Parses a complete HTTP response (status line, headers, body read to EOF) of
 * len bytes into *resp (the caller frees it). Exposed for the fuzz target.
 * Errors: EF_EPROTO (not a response, Content-Length beyond the data),
 * EF_ETOOBIG (over EF_HTTPC_RESP_MAX), EF_ENOMEM; *resp is then empty. */
int ef_httpc_parse_response(ef_httpc_resp *resp, const void *buf, size_t len) EF_MUST_USE;

/* Splits "http://A.B.C.D:PORT/path" (port required; path defaults to "/") into
 * ip, port and path (copied into path_out, cap bytes). 0 or EF_EINVAL. */
int ef_httpc_parse_url(const char *url, uint32_t *ip, uint16_t *port, char *path_out, size_t cap) EF_MUST_USE;

/* Splits "A.B.C.D:PORT" into ip and port. 0 or EF_EINVAL. */
int ef_httpc_parse_hostport(const char *s, uint32_t *ip, uint16_t *port) EF_MUST_USE;

#endif
