/* ef_httpc.c: a minimal blocking HTTP/1.0 client for the agents (IPv4 literal, one request per connection). */
#include "agents/ef_httpc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agents/ef_proc.h"
#include "base/ef_log.h"

void ef_httpc_resp_free(ef_httpc_resp *resp)
{
    if (!resp) return;
    free(resp->body);
    free(resp->head);
    memset(resp, 0, sizeof *resp);
}

static int ef_httpc_wait(int fd, short events, uint64_t deadline_us)
{
    for (;;) {
        uint64_t now = ef_now_mono_us();
        if (now >= deadline_us) return EF_ETIMEOUT;
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, (int)((deadline_us - now + 999) / 1000));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return EF_ENET;
        if (r > 0) return 0;
    }
}

static int ef_httpc_safe_token(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return 0;
    return 1;
}

/* Parses the response in buf (len bytes, NUL-terminated) into resp. */
static int ef_httpc_parse(ef_httpc_resp *resp, char *buf, size_t len)
{
    int major, minor, status;
    if (sscanf(buf, "HTTP/%d.%d %d", &major, &minor, &status) != 3 || status < 100 || status > 999)
        return EF_EPROTO;
    char *end = strstr(buf, "\r\n\r\n");
    if (!end) return EF_EPROTO;
    *end = 0;
    char *body = end + 4;
    size_t body_len = len - (size_t)(body - buf);
    /* Content-Length, when present, bounds the body. */
    for (char *line = strstr(buf, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
        if (!strncasecmp(line + 2, "content-length:", 15)) {
            char *e;
            unsigned long long cl = strtoull(line + 17, &e, 10);
            if (cl > body_len) return EF_EPROTO;
            body_len = (size_t)cl;
            break;
        }
    }
    char *first = strstr(buf, "\r\n");
    resp->head = strdup(first ? first + 2 : "");
    resp->body = malloc(body_len + 1);
    if (!resp->body || !resp->head) return EF_ENOMEM;
    memcpy(resp->body, body, body_len);
    resp->body[body_len] = 0;
    resp->body_len = body_len;
    resp->status = status;
    return 0;
}

int ef_httpc_request(ef_httpc_resp *resp, const char *netns, uint32_t ip, uint16_t port,
                     const char *method, const char *path, const char *const *headers,
                     const void *body, size_t body_len, uint32_t timeout_ms)
{
    EF_ASSERT(resp);
    memset(resp, 0, sizeof *resp);
    if (!method || !path || path[0] != '/' || strlen(path) >= EF_HTTPC_PATH_MAX || port == 0)
        return EF_EINVAL;
    if (!ef_httpc_safe_token(method) || !ef_httpc_safe_token(path) || strchr(path, ' ')) return EF_EINVAL;
    uint64_t deadline = ef_now_mono_us() + (uint64_t)timeout_ms * 1000u;
    char head[EF_HTTPC_REQ_HEAD_MAX];
    char ipstr[INET_ADDRSTRLEN];
    struct in_addr ia = {.s_addr = htonl(ip)};
    inet_ntop(AF_INET, &ia, ipstr, sizeof ipstr);
    int n = snprintf(head, sizeof head,
                     "%s %s HTTP/1.0\r\nHost: %s:%u\r\nConnection: close\r\nContent-Length: %zu\r\n",
                     method, path, ipstr, port, body ? body_len : 0);
    if (n < 0 || (size_t)n >= sizeof head) return EF_EINVAL;
    size_t hlen = (size_t)n;
    for (size_t i = 0; headers && headers[i]; i++) {
        if (!ef_httpc_safe_token(headers[i]) || !strchr(headers[i], ':')) return EF_EINVAL;
        n = snprintf(head + hlen, sizeof head - hlen, "%s\r\n", headers[i]);
        if (n < 0 || (size_t)n >= sizeof head - hlen) return EF_EINVAL;
        hlen += (size_t)n;
    }
    if (hlen + 2 >= sizeof head) return EF_EINVAL;
    memcpy(head + hlen, "\r\n", 3);
    hlen += 2;

    int rc = EF_ENET;
    char *buf = NULL;
    int fd = ef_proc_netns_socket(netns, AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return fd == EF_EINVAL ? EF_EINVAL : EF_ENET;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = ia};
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (errno != EINPROGRESS) goto out;
        if ((rc = ef_httpc_wait(fd, POLLOUT, deadline))) goto out;
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) || soerr) {
            rc = EF_ENET;
            goto out;
        }
    }
    /* Send head, then body. */
    const char *parts[2] = {head, body};
    size_t lens[2] = {hlen, body ? body_len : 0};
    for (int k = 0; k < 2; k++) {
        size_t off = 0;
        while (off < lens[k]) {
            ssize_t w = send(fd, parts[k] + off, lens[k] - off, MSG_NOSIGNAL);
            if (w > 0) { off += (size_t)w; continue; }
            if (w < 0 && errno == EINTR) continue;
            if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                if ((rc = ef_httpc_wait(fd, POLLOUT, deadline))) goto out;
                continue;
            }
            rc = EF_ENET;
            goto out;
        }
    }
    size_t cap = 4096, len = 0;
    buf = malloc(cap);
    if (!buf) { rc = EF_ENOMEM; goto out; }
    for (;;) {
        if (len + 1 >= cap) {
            if (cap >= EF_HTTPC_RESP_MAX) { rc = EF_ETOOBIG; goto out; }
            size_t ncap = EF_MIN(cap * 2, (size_t)EF_HTTPC_RESP_MAX);
            char *nb = realloc(buf, ncap);
            if (!nb) { rc = EF_ENOMEM; goto out; }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = recv(fd, buf + len, cap - 1 - len, 0);
        if (r > 0) { len += (size_t)r; continue; }
        if (r == 0) break;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if ((rc = ef_httpc_wait(fd, POLLIN, deadline))) goto out;
            continue;
        }
        rc = EF_ENET;
        goto out;
    }
    buf[len] = 0;
    rc = ef_httpc_parse(resp, buf, len);
out:
    free(buf);
    close(fd);
    if (rc) ef_httpc_resp_free(resp);
    return rc;
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

int ef_httpc_parse_response(ef_httpc_resp *resp, const void *buf, size_t len)
{
    EF_ASSERT(resp);
    memset(resp, 0, sizeof *resp);
    if (len > EF_HTTPC_RESP_MAX) return EF_ETOOBIG;
    char *copy = malloc(len + 1);
    if (!copy) return EF_ENOMEM;
    if (len) memcpy(copy, buf, len);
    copy[len] = 0;
    int rc = ef_httpc_parse(resp, copy, len);
    free(copy);
    if (rc) ef_httpc_resp_free(resp);
    return rc;
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

int ef_httpc_header(const ef_httpc_resp *resp, const char *name, char *out, size_t cap)
{
    EF_ASSERT(resp && name && out && cap);
    out[0] = 0;
    size_t n = strlen(name);
    for (const char *line = resp->head; line && *line;) {
        const char *eol = strstr(line, "\r\n");
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len > n && !strncasecmp(line, name, n) && line[n] == ':') {
            const char *v = line + n + 1, *e = line + len;
            while (v < e && (*v == ' ' || *v == '\t')) v++;
            while (e > v && (e[-1] == ' ' || e[-1] == '\t')) e--;
            if ((size_t)(e - v) >= cap) return EF_ETOOBIG;
            memcpy(out, v, (size_t)(e - v));
            out[e - v] = 0;
            return 0;
        }
        line = eol ? eol + 2 : NULL;
    }
    return EF_ENOTFOUND;
}
