/* ef_httpc.c: the agents' blocking HTTP client on libcurl (IPv4 literal, one request per connection). */
#include "agents/ef_httpc.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "agents/ef_proc.h"
#include "base/ef_codec.h"
#include "base/ef_log.h"
#include "ledger/ef_tx.h"

static pthread_once_t ef_httpc_once = PTHREAD_ONCE_INIT;
static void ef_httpc_global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static _Thread_local const volatile bool *ef_httpc_abort;

void ef_httpc_abort_on(const volatile bool *flag) { ef_httpc_abort = flag; }

/* libcurl calls it about every second and on every transfer event; returning
 * nonzero ends the transfer (CURLE_ABORTED_BY_CALLBACK) */
static int ef_httpc_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    return *(const volatile bool *)arg ? 1 : 0;
}

void ef_httpc_resp_free(ef_httpc_resp *resp)
{
    if (!resp) return;
    free(resp->body);
    if (resp->handle) curl_easy_cleanup(resp->handle);
    memset(resp, 0, sizeof *resp);
}

static bool ef_httpc_safe_token(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return false;
    return true;
}

/* What the callbacks share during one transfer. */
typedef struct ef_httpc_xfer {
    const char *netns;
    int sock_err;        /* ef_proc_netns_socket's error, if opening the socket failed */
    size_t total;        /* header + body bytes received */
    bool too_big;
    ef_wr body;          /* the body so far */
} ef_httpc_xfer;

static curl_socket_t ef_httpc_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    ef_httpc_xfer *x = arg;
    if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
    int fd = ef_proc_netns_socket(x->netns, a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    if (fd < 0) {
        x->sock_err = fd;
        return CURL_SOCKET_BAD;
    }
    return fd;
}

static bool ef_httpc_count(ef_httpc_xfer *x, size_t n)
{
    if (n > EF_HTTPC_RESP_MAX - x->total) {
        x->too_big = true;
        return false;
    }
    x->total += n;
    return true;
}

static size_t ef_httpc_on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    (void)data;
    return ef_httpc_count(arg, size * nmemb) ? size * nmemb : 0;
}

static size_t ef_httpc_on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    ef_httpc_xfer *x = arg;
    size_t n = size * nmemb;
    if (!ef_httpc_count(x, n) || ef_wr_raw(&x->body, data, n)) return 0;   /* aborts the transfer */
    return n;
}

static int ef_httpc_curl_err(CURLcode cc, const ef_httpc_xfer *x)
{
    if (x->too_big) return EF_ETOOBIG;
    if (x->sock_err == EF_EINVAL) return EF_EINVAL;
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT: return EF_ETIMEOUT;
    case CURLE_ABORTED_BY_CALLBACK: return EF_ECLOSED;                  /* ef_httpc_abort_on */
    case CURLE_FILESIZE_EXCEEDED: return EF_ETOOBIG;    /* Content-Length over EF_HTTPC_RESP_MAX */
    case CURLE_OUT_OF_MEMORY: return EF_ENOMEM;
    case CURLE_WRITE_ERROR: return x->body.err ? x->body.err : EF_ENOMEM;  /* the body callback refused */
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE: return EF_EPROTO;    /* not HTTP, or Content-Length beyond the data */
    default: return EF_ENET;
    }
}

int ef_httpc_request(ef_httpc_resp *resp, const char *netns, uint32_t ip, uint16_t port,
                     const char *method, const char *path, const char *const *headers,
                     const void *body, size_t body_len, uint32_t timeout_ms)
{
    EF_ASSERT(resp);
    memset(resp, 0, sizeof *resp);
    if (!method || !path || path[0] != '/' || strlen(path) >= EF_HTTPC_PATH_MAX || port == 0 || !method[0])
        return EF_EINVAL;
    if (!ef_httpc_safe_token(method) || strchr(method, ' ') || !ef_httpc_safe_token(path) || strchr(path, ' '))
        return EF_EINVAL;
    size_t head_len = strlen(method) + strlen(path);
    bool has_ctype = false;
    for (size_t i = 0; headers && headers[i]; i++) {
        if (!ef_httpc_safe_token(headers[i]) || !strchr(headers[i], ':')) return EF_EINVAL;
        head_len += strlen(headers[i]) + 2;
        if (!strncasecmp(headers[i], "content-type:", 13)) has_ctype = true;
    }
    if (head_len >= EF_HTTPC_REQ_HEAD_MAX) return EF_EINVAL;

    char url[EF_HTTPC_PATH_MAX + 32], ipstr[INET_ADDRSTRLEN];
    struct in_addr ia = {.s_addr = htonl(ip)};
    inet_ntop(AF_INET, &ia, ipstr, sizeof ipstr);
    snprintf(url, sizeof url, "http://%s:%u%s", ipstr, port, path);

    pthread_once(&ef_httpc_once, ef_httpc_global_init);
    ef_httpc_xfer x = {.netns = netns};
    ef_wr_init(&x.body);
    struct curl_slist *hl = NULL;
    int rc = EF_ENOMEM;
    CURL *c = curl_easy_init();
    if (!c) goto out;
    for (size_t i = 0; headers && headers[i]; i++)
        if (!(hl = curl_slist_append(hl, headers[i]))) goto out;
    /* Only what the caller asked for: no "Expect: 100-continue", no form content type. */
    if (!(hl = curl_slist_append(hl, "Expect:"))) goto out;
    if (!has_ctype && !(hl = curl_slist_append(hl, "Content-Type:"))) goto out;

    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");                 /* never a proxy from the environment */
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_0);
    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout_ms ? timeout_ms : 1));
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)EF_HTTPC_RESP_MAX);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, ef_httpc_open_socket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &x);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, ef_httpc_on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ef_httpc_on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
    if (body || strcmp(method, "GET")) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? body_len : 0));
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        if (strcmp(method, "POST")) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    if (ef_httpc_abort) {
        if (*ef_httpc_abort) {
            rc = EF_ECLOSED;
            goto out;
        }
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, ef_httpc_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)ef_httpc_abort);
    }
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        rc = ef_httpc_curl_err(cc, &x);
        goto out;
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status < 100 || status > 999) {
        rc = EF_EPROTO;
        goto out;
    }
    size_t len;
    if (ef_wr_raw(&x.body, "", 1)) goto out;              /* NUL-terminated */
    resp->body = (char *)ef_wr_take(&x.body, &len);
    resp->body_len = len - 1;
    resp->status = (int)status;
    resp->handle = c;                                       /* kept for ef_httpc_header */
    c = NULL;
    rc = 0;
out:
    curl_slist_free_all(hl);
    if (c) curl_easy_cleanup(c);
    ef_wr_free(&x.body);
    return rc;
}

int ef_httpc_header(const ef_httpc_resp *resp, const char *name, char *out, size_t cap)
{
    EF_ASSERT(resp && name && out && cap);
    out[0] = 0;
    struct curl_header *h;
    if (!resp->handle || curl_easy_header(resp->handle, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
        return EF_ENOTFOUND;
    size_t n = strlen(h->value);
    if (n >= cap) return EF_ETOOBIG;
    memcpy(out, h->value, n + 1);
    return 0;
}

int ef_httpc_parse_hostport(const char *s, uint32_t *ip, uint16_t *port)
{
    EF_ASSERT(ip && port);
    char host[INET_ADDRSTRLEN];
    const char *colon = s ? strchr(s, ':') : NULL;
    if (!colon || (size_t)(colon - s) >= sizeof host) return EF_EINVAL;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    struct in_addr ia;
    if (inet_pton(AF_INET, host, &ia) != 1) return EF_EINVAL;
    const char *p = colon + 1;
    unsigned long v = 0;
    size_t digits = 0;
    for (; *p >= '0' && *p <= '9' && digits < 6; p++, digits++) v = v * 10 + (unsigned long)(*p - '0');
    if (*p || digits == 0 || v == 0 || v > 65535) return EF_EINVAL;
    *ip = ntohl(ia.s_addr);
    *port = (uint16_t)v;
    return 0;
}

int ef_httpc_parse_url(const char *url, uint32_t *ip, uint16_t *port, char *path_out, size_t cap)
{
    EF_ASSERT(ip && port && path_out && cap > 1);
    if (!url || strncmp(url, "http://", 7)) return EF_EINVAL;
    const char *hp = url + 7;
    const char *slash = strchr(hp, '/');
    size_t hlen = slash ? (size_t)(slash - hp) : strlen(hp);
    char tmp[32];
    if (hlen == 0 || hlen >= sizeof tmp) return EF_EINVAL;
    memcpy(tmp, hp, hlen);
    tmp[hlen] = 0;
    if (ef_httpc_parse_hostport(tmp, ip, port)) return EF_EINVAL;
    const char *path = slash ? slash : "/";
    if (strlen(path) >= cap) return EF_EINVAL;
    memcpy(path_out, path, strlen(path) + 1);
    return 0;
}

int ef_httpc_submit_tx(ef_httpc_resp *resp, uint32_t ip, uint16_t port, struct ef_tx *tx, const ef_keypair *kp,
                       uint32_t timeout_ms)
{
    memset(resp, 0, sizeof *resp);
    uint8_t *enc;
    size_t len;
    int rc = ef_tx_seal(tx, kp, &enc, &len);
    if (rc) return rc;
    static const char pre[] = "{\"tx\":\"", post[] = "\"}";
    char *body = malloc(sizeof pre - 1 + 2 * len + sizeof post);
    if (!body) {
        free(enc);
        return EF_ENOMEM;
    }
    memcpy(body, pre, sizeof pre - 1);
    ef_hex(body + sizeof pre - 1, enc, len);
    memcpy(body + sizeof pre - 1 + 2 * len, post, sizeof post);
    free(enc);
    static const char *const headers[] = {"Content-Type: application/json", NULL};
    rc = ef_httpc_request(resp, NULL, ip, port, "POST", "/txs?wait=commit", headers, body, strlen(body),
                          timeout_ms);
    free(body);
    return rc;
}
