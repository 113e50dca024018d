/* test_httpc.c: the agents' HTTP client (ef_httpc on libcurl) against canned answers: body, headers, size and time limits, non-HTTP answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agents/ef_httpc.h"

/* A one-connection server: reads the request head (and saves it), sends `answer`
 * (answer_len bytes, then `extra` 'x' bytes), or nothing for `hold_ms`, then closes. */
typedef struct canned {
    int lfd;
    uint16_t port;
    const char *answer;
    size_t answer_len;
    size_t extra;
    unsigned hold_ms;
    char request[4096];
    pthread_t th;
} canned;

static void *canned_thread(void *arg)
{
    canned *c = arg;
    int fd = accept(c->lfd, NULL, NULL);
    if (fd < 0) return NULL;
    size_t got = 0;
    while (got < sizeof c->request - 1 && !strstr(c->request, "\r\n\r\n")) {
        ssize_t r = recv(fd, c->request + got, sizeof c->request - 1 - got, 0);
        if (r <= 0) break;
        got += (size_t)r;
        c->request[got] = 0;
    }
    if (c->hold_ms) usleep(c->hold_ms * 1000u);
    if (c->answer_len) (void)!send(fd, c->answer, c->answer_len, MSG_NOSIGNAL);
    char chunk[4096];
    memset(chunk, 'x', sizeof chunk);
    for (size_t left = c->extra; left > 0;) {
        size_t n = left < sizeof chunk ? left : sizeof chunk;
        if (send(fd, chunk, n, MSG_NOSIGNAL) <= 0) break;
        left -= n;
    }
    close(fd);
    return NULL;
}

static void canned_start(canned *c, const char *answer, size_t extra, unsigned hold_ms)
{
    c->answer = answer;
    c->answer_len = answer ? strlen(answer) : 0;
    c->extra = extra;
    c->hold_ms = hold_ms;
    c->request[0] = 0;
    c->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(c->lfd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(c->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(c->lfd, 4), 0);
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(c->lfd, (struct sockaddr *)&sa, &sl), 0);
    c->port = ntohs(sa.sin_port);
    assert_int_equal(pthread_create(&c->th, NULL, canned_thread, c), 0);
}

static void canned_stop(canned *c)
{
    pthread_join(c->th, NULL);
    close(c->lfd);
}

/* One request against a canned answer; returns ef_httpc_request's code. */
static int ask(canned *c, const char *answer, size_t extra, unsigned hold_ms, uint32_t timeout_ms, ef_httpc_resp *r)
{
    canned_start(c, answer, extra, hold_ms);
    const char *hdrs[] = {"X-Test: 1", NULL};
    int rc = ef_httpc_request(r, NULL, 0x7f000001u, c->port, "POST", "/p?q=1", hdrs, "body", 4, timeout_ms);
    canned_stop(c);
    return rc;
}

static void test_httpc_answer_and_headers(void **state)
{
    (void)state;
    canned c;
    ef_httpc_resp r;
    assert_int_equal(ask(&c, "HTTP/1.0 201 Created\r\nContent-Length: 5\r\nX-EF-Time:  12 \r\n\r\nhello", 0, 0, 3000, &r), 0);
    assert_int_equal(r.status, 201);
    assert_int_equal(r.body_len, 5);
    assert_string_equal(r.body, "hello");
    char v[8];
    assert_int_equal(ef_httpc_header(&r, "x-ef-time", v, sizeof v), 0);
    assert_string_equal(v, "12");
    assert_int_equal(ef_httpc_header(&r, "X-EF-Auth", v, sizeof v), EF_ENOTFOUND);
    assert_int_equal(ef_httpc_header(&r, "Content-Length", v, 1), EF_ETOOBIG);
    ef_httpc_resp_free(&r);
    /* what was sent: the method, the path as given, the caller's header, the body */
    assert_non_null(strstr(c.request, "POST /p?q=1 HTTP/1.0\r\n"));
    assert_non_null(strstr(c.request, "\r\nX-Test: 1\r\n"));
    assert_non_null(strstr(c.request, "\r\nContent-Length: 4\r\n"));
    assert_null(strstr(c.request, "Content-Type"));
    /* an empty body, read to EOF */
    assert_int_equal(ask(&c, "HTTP/1.0 204 No Content\r\n\r\n", 0, 0, 3000, &r), 0);
    assert_int_equal(r.status, 204);
    assert_int_equal(r.body_len, 0);
    assert_string_equal(r.body, "");
    ef_httpc_resp_free(&r);
}

static void test_httpc_limits(void **state)
{
    (void)state;
    canned c;
    ef_httpc_resp r;
    /* over EF_HTTPC_RESP_MAX: by Content-Length, and read to EOF */
    assert_int_equal(ask(&c, "HTTP/1.0 200 OK\r\nContent-Length: 2000000\r\n\r\n", 2000000, 0, 5000, &r), EF_ETOOBIG);
    assert_null(r.body);
    assert_int_equal(ask(&c, "HTTP/1.0 200 OK\r\n\r\n", EF_HTTPC_RESP_MAX + 1, 0, 5000, &r), EF_ETOOBIG);
    /* just under the limit is fine */
    assert_int_equal(ask(&c, "HTTP/1.0 200 OK\r\n\r\n", EF_HTTPC_RESP_MAX / 2, 0, 5000, &r), 0);
    assert_int_equal(r.body_len, EF_HTTPC_RESP_MAX / 2);
    ef_httpc_resp_free(&r);
    /* no answer within the time */
    assert_int_equal(ask(&c, NULL, 0, 600, 200, &r), EF_ETIMEOUT);
    /* not HTTP, nothing, or a body shorter than its Content-Length */
    assert_int_equal(ask(&c, "SSH-2.0-OpenSSH\r\n\r\n", 0, 0, 3000, &r), EF_EPROTO);
    assert_int_equal(ask(&c, NULL, 0, 0, 3000, &r), EF_EPROTO);
    assert_int_equal(ask(&c, "HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0, 0, 3000, &r), EF_EPROTO);
    assert_null(r.body);
}

static void test_httpc_refuses_bad_requests(void **state)
{
    (void)state;
    ef_httpc_resp r;
    const char *crlf[] = {"X-A: 1\r\nX-B: 2", NULL};
    const char *nocolon[] = {"X-A 1", NULL};
    assert_int_equal(ef_httpc_request(&r, NULL, 0x7f000001u, 9, "GET", "/", crlf, NULL, 0, 100), EF_EINVAL);
    assert_int_equal(ef_httpc_request(&r, NULL, 0x7f000001u, 9, "GET", "/", nocolon, NULL, 0, 100), EF_EINVAL);
    assert_int_equal(ef_httpc_request(&r, NULL, 0x7f000001u, 9, "GET", "/a b", NULL, NULL, 0, 100), EF_EINVAL);
    assert_int_equal(ef_httpc_request(&r, NULL, 0x7f000001u, 9, "GET", "nopath", NULL, NULL, 0, 100), EF_EINVAL);
    assert_int_equal(ef_httpc_request(&r, NULL, 0x7f000001u, 0, "GET", "/", NULL, NULL, 0, 100), EF_EINVAL);
    assert_int_equal(ef_httpc_request(&r, NULL, 0x7f000001u, 9, "GE T", "/", NULL, NULL, 0, 100), EF_EINVAL);
    /* nothing listens on port 9 of loopback: refused */
    assert_int_equal(ef_httpc_request(&r, NULL, 0x7f000001u, 9, "GET", "/", NULL, NULL, 0, 1000), EF_ENET);
    assert_null(r.body);
}

static volatile bool abort_flag;

static void *abort_later(void *arg)
{
    (void)arg;
    usleep(300 * 1000);
    abort_flag = true;
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ef_httpc_abort_on: a request to a server that holds its answer for 4 s, with a
 * 30 s timeout, ends with EF_ECLOSED soon after the flag is set; a set flag ends
 * the next request at once; without a flag the held answer arrives. */
static void test_httpc_abort(void **state)
{
    (void)state;
    canned c;
    ef_httpc_resp r;
    abort_flag = false;
    ef_httpc_abort_on(&abort_flag);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, abort_later, NULL), 0);
    canned_start(&c, "HTTP/1.0 200 OK\r\n\r\nlate", 0, 4000);
    double t0 = now_s();
    assert_int_equal(ef_httpc_request(&r, NULL, 0x7f000001u, c.port, "GET", "/", NULL, NULL, 0, 30000), EF_ECLOSED);
    double took = now_s() - t0;
    canned_stop(&c);
    pthread_join(th, NULL);
    assert_true(took >= 0.25 && took < 2.0);
    assert_int_equal(ef_httpc_request(&r, NULL, 0x7f000001u, 1, "GET", "/", NULL, NULL, 0, 1000), EF_ECLOSED);
    ef_httpc_abort_on(NULL);
    assert_int_equal(ask(&c, "HTTP/1.0 200 OK\r\n\r\nlate", 0, 1200, 30000, &r), 0);
    assert_string_equal(r.body, "late");
    ef_httpc_resp_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_httpc_answer_and_headers),
        cmocka_unit_test(test_httpc_limits),
        cmocka_unit_test(test_httpc_refuses_bad_requests),
        cmocka_unit_test(test_httpc_abort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
