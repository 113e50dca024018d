/* ef_client.c: the API client on libcurl: plain and signed requests, transaction
 * submission and the server-sent event stream parser. */
#include "api/ef_client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/ef_api.h"
#include "base/ef_codec.h"
#include "base/ef_log.h"

struct ef_client {
    CURL *curl;
    char base[EF_CLIENT_URL_MAX + 1];
    bool sign;
    ef_keypair key;
    long timeout_ms;
};

static pthread_once_t ef_client_once = PTHREAD_ONCE_INIT;
static void ef_client_global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

int ef_client_new(ef_client **out, const char *base_url, const ef_keypair *key, uint32_t timeout_ms)
{
    EF_ASSERT(out && base_url);
    *out = NULL;
    size_t n = strlen(base_url);
    while (n && base_url[n - 1] == '/') n--;
    if (n == 0 || n > EF_CLIENT_URL_MAX) return EF_EINVAL;
    pthread_once(&ef_client_once, ef_client_global_init);
    ef_client *cl = calloc(1, sizeof *cl);
    if (!cl) return EF_ENOMEM;
    cl->curl = curl_easy_init();
    if (!cl->curl) {
        free(cl);
        return EF_ENOMEM;
    }
    memcpy(cl->base, base_url, n);
    cl->base[n] = 0;
    if (key) {
        cl->sign = true;
        cl->key = *key;
    }
    cl->timeout_ms = timeout_ms ? (long)timeout_ms : 60000L;
    *out = cl;
    return 0;
}

void ef_client_free(ef_client *cl)
{
    if (!cl) return;
    curl_easy_cleanup(cl->curl);
    memset(&cl->key, 0, sizeof cl->key);
    free(cl);
}

typedef struct ef_client_buf {
    char *p;
    size_t len, cap, max;
    bool too_big;
} ef_client_buf;

static size_t ef_client_write(char *data, size_t size, size_t nmemb, void *arg)
{
    ef_client_buf *b = arg;
    size_t n = size * nmemb;
    if (b->len + n > b->max) {
        b->too_big = true;
        return 0;                         /* aborts the transfer */
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) return 0;
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = 0;
    return n;
}

/* Prepares the handle for method + target; adds the signature headers to *hdrs. */
static int ef_client_setup(ef_client *cl, const char *method, const char *target,
                           struct curl_slist **hdrs)
{
    char url[EF_CLIENT_URL_MAX + EF_API_PATH_MAX + 2];
    if (strlen(target) > EF_API_PATH_MAX || target[0] != '/') return EF_ETOOBIG;
    snprintf(url, sizeof url, "%s%s", cl->base, target);
    curl_easy_reset(cl->curl);
    curl_easy_setopt(cl->curl, CURLOPT_URL, url);
    curl_easy_setopt(cl->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(cl->curl, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(cl->curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(cl->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(cl->curl, CURLOPT_PATH_AS_IS, 1L);    /* send the target as signed */
    if (!strcmp(method, "POST")) curl_easy_setopt(cl->curl, CURLOPT_POST, 1L);
    else if (strcmp(method, "GET")) curl_easy_setopt(cl->curl, CURLOPT_CUSTOMREQUEST, method);
    if (cl->sign) {
        char key[2 * EF_PUB_SIZE + 1], sig[2 * EF_SIG_SIZE + 1], line[256];
        uint64_t t = ef_now_wall_ms_unique();
        int rc = ef_api_auth_sign(key, sig, &cl->key, method, target, t);
        if (rc) return rc;
        snprintf(line, sizeof line, "%s: %s", EF_API_HDR_KEY, key);
        *hdrs = curl_slist_append(*hdrs, line);
        snprintf(line, sizeof line, "%s: %llu", EF_API_HDR_TIME, (unsigned long long)t);
        *hdrs = curl_slist_append(*hdrs, line);
        snprintf(line, sizeof line, "%s: %s", EF_API_HDR_SIG, sig);
        *hdrs = curl_slist_append(*hdrs, line);
        if (!*hdrs) return EF_ENOMEM;
    }
    return 0;
}

static int ef_client_curl_err(CURLcode cc)
{
    if (cc == CURLE_OPERATION_TIMEDOUT) return EF_ETIMEOUT;
    if (cc == CURLE_OUT_OF_MEMORY) return EF_ENOMEM;
    return EF_ENET;
}

static int ef_client_request_once(ef_client *cl, const char *method, const char *target, const char *ctype,
                                  const void *body, size_t body_len, long *status, char **resp,
                                  size_t *resp_len)
{
    EF_ASSERT(cl && method && target && status && resp && resp_len);
    *status = 0;
    *resp = NULL;
    *resp_len = 0;
    struct curl_slist *hdrs = NULL;
    ef_client_buf b = {.max = EF_CLIENT_RESP_MAX};
    int rc = ef_client_setup(cl, method, target, &hdrs);
    if (rc) goto out;
    if (!body && !strcmp(method, "POST")) {           /* an empty body, not stdin */
        curl_easy_setopt(cl->curl, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(cl->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    }
    if (body) {
        char line[128];
        snprintf(line, sizeof line, "Content-Type: %s", ctype ? ctype : "application/json");
        hdrs = curl_slist_append(hdrs, line);
        hdrs = curl_slist_append(hdrs, "Expect:");
        curl_easy_setopt(cl->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(cl->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    curl_easy_setopt(cl->curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(cl->curl, CURLOPT_TIMEOUT_MS, cl->timeout_ms);
    curl_easy_setopt(cl->curl, CURLOPT_WRITEFUNCTION, ef_client_write);
    curl_easy_setopt(cl->curl, CURLOPT_WRITEDATA, &b);
    CURLcode cc = curl_easy_perform(cl->curl);
    if (b.too_big) {
        rc = EF_ETOOBIG;
        goto out;
    }
    if (cc != CURLE_OK) {
        EF_LOGD("client", "%s %s%s: %s", method, cl->base, target, curl_easy_strerror(cc));
        rc = ef_client_curl_err(cc);
        goto out;
    }
    curl_easy_getinfo(cl->curl, CURLINFO_RESPONSE_CODE, status);
    if (!b.p) {
        b.p = calloc(1, 1);
        if (!b.p) { rc = EF_ENOMEM; goto out; }
    }
    *resp = b.p;
    *resp_len = b.len;
    b.p = NULL;
out:
    curl_slist_free_all(hdrs);
    free(b.p);
    return rc;
}


int ef_client_request(ef_client *cl, const char *method, const char *target, const char *ctype,
                      const void *body, size_t body_len, long *status, char **resp,
                      size_t *resp_len)
{
    int rc = ef_client_request_once(cl, method, target, ctype, body, body_len, status, resp, resp_len);
    /* Refused as a replayed signature: another process signed the same request
     * with the same key in the same millisecond (two tools sharing a member
     * key). The node refused it before doing anything, so it is sent again,
     * once, signed a millisecond later. */
    if (!rc && cl->sign && *status == 403 && *resp && strstr(*resp, "\"EDUP\"")) {
        free(*resp);
        *resp = NULL;
        usleep(1000);
        rc = ef_client_request_once(cl, method, target, ctype, body, body_len, status, resp, resp_len);
    }
    return rc;
}

int ef_client_json(ef_client *cl, const char *method, const char *target, const json_t *body,
                   long *status, json_t **out)
{
    EF_ASSERT(out);
    *out = NULL;
    char *text = NULL, *resp = NULL;
    size_t resp_len;
    if (body) {
        text = json_dumps(body, JSON_COMPACT);
        if (!text) return EF_ENOMEM;
    }
    int rc = ef_client_request(cl, method, target, "application/json", text, text ? strlen(text) : 0,
                               status, &resp, &resp_len);
    free(text);
    if (rc) return rc;
    *out = json_loadb(resp, resp_len, 0, NULL);
    free(resp);
    return 0;
}

int ef_client_submit(ef_client *cl, const uint8_t *tx, size_t tx_len, bool wait,
                     uint32_t timeout_ms, long *status, json_t **out)
{
    char target[64] = "/txs";
    if (wait && timeout_ms) snprintf(target, sizeof target, "/txs?wait=commit&timeout_ms=%u", timeout_ms);
    else if (wait) snprintf(target, sizeof target, "/txs?wait=commit");
    char *hex = malloc(2 * tx_len + 1);
    if (!hex) return EF_ENOMEM;
    ef_hex(hex, tx, tx_len);
    json_t *body = json_pack("{s:s}", "tx", hex);
    free(hex);
    if (!body) return EF_ENOMEM;
    long saved = cl->timeout_ms;
    if (wait) cl->timeout_ms = (long)(timeout_ms ? timeout_ms : EF_API_WAIT_MS_DEFAULT) + 10000L;
    int rc = ef_client_json(cl, "POST", target, body, status, out);
    cl->timeout_ms = saved;
    json_decref(body);
    return rc;
}

/* --- event stream --- */

struct ef_sse_parser {
    ef_client_event_fn fn;
    void *arg;
    int stop;               /* fn's non-zero answer */
    bool overflow;
    char line[EF_CLIENT_EVENT_MAX];
    size_t line_len;
    char data[EF_CLIENT_EVENT_MAX];
    size_t data_len;
    bool has_data;
    char type[64];
    char id[64];
};

ef_sse_parser *ef_sse_parser_new(ef_client_event_fn fn, void *arg, const char *last_id)
{
    ef_sse_parser *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->fn = fn;
    s->arg = arg;
    if (last_id) snprintf(s->id, sizeof s->id, "%s", last_id);
    return s;
}

void ef_sse_parser_free(ef_sse_parser *s)
{
    free(s);
}

static void ef_sse_line(ef_sse_parser *s)
{
    char *l = s->line;
    s->line[s->line_len] = 0;
    if (s->line_len && l[s->line_len - 1] == '\r') l[--s->line_len] = 0;
    if (s->line_len == 0) {                        /* dispatch */
        s->data[s->data_len] = 0;
        if (s->has_data || s->id[0])
            s->stop = s->fn(s->arg, s->has_data ? (s->type[0] ? s->type : "message") : "", s->id,
                            s->data);
        s->data_len = 0;
        s->has_data = false;
        s->type[0] = 0;
        return;
    }
    if (l[0] == ':') return;                       /* comment */
    char *colon = strchr(l, ':');
    const char *value = "";
    if (colon) {
        *colon = 0;
        value = colon + 1;
        if (*value == ' ') value++;
    }
    size_t vl = strlen(value);
    if (!strcmp(l, "data")) {
        if (s->data_len + vl + 2 > sizeof s->data) {
            s->overflow = true;
            return;
        }
        if (s->has_data) s->data[s->data_len++] = '\n';
        memcpy(s->data + s->data_len, value, vl);
        s->data_len += vl;
        s->has_data = true;
    } else if (!strcmp(l, "event")) {
        snprintf(s->type, sizeof s->type, "%s", value);
    } else if (!strcmp(l, "id")) {
        snprintf(s->id, sizeof s->id, "%s", value);
    }
}

int ef_sse_parser_feed(ef_sse_parser *s, const char *data, size_t n)
{
    if (s->stop) return s->stop;
    if (s->overflow) return EF_ETOOBIG;
    for (size_t i = 0; i < n; i++) {
        if (data[i] == '\n') {
            ef_sse_line(s);
            s->line_len = 0;
            if (s->stop) return s->stop;
            if (s->overflow) return EF_ETOOBIG;
        } else if (data[i] == 0) {
            continue;                              /* a NUL byte is dropped */
        } else if (s->line_len + 1 < sizeof s->line) {
            s->line[s->line_len++] = data[i];
        } else {
            s->overflow = true;
            return EF_ETOOBIG;
        }
    }
    return 0;
}

static size_t ef_client_sse_write(char *data, size_t size, size_t nmemb, void *arg)
{
    size_t n = size * nmemb;
    return ef_sse_parser_feed(arg, data, n) ? 0 : n;
}

typedef struct ef_client_follower {
    ef_client_event_fn fn;
    void *arg;
    char *last_id;
    const volatile bool *stop;
    bool got_data;
    int fn_rc;                     /* fn's non-zero answer */
} ef_client_follower;

static int ef_client_follow_cb(void *arg, const char *type, const char *id, const char *data)
{
    ef_client_follower *f = arg;
    f->got_data = true;
    if (f->stop && *f->stop) return EF_ECLOSED;
    int rc = f->fn(f->arg, type, id, data);
    /* the id counts as seen only once the message was handed over */
    snprintf(f->last_id, EF_CLIENT_ID_MAX, "%s", id);
    if (rc) f->fn_rc = rc;
    return rc;
}

int ef_client_follow(ef_client *cl, const char *target, char last_id[EF_CLIENT_ID_MAX],
                     ef_client_event_fn fn, void *arg, const volatile bool *stop, long *status)
{
    EF_ASSERT(cl && target && last_id && fn && status);
    ef_client_follower f = {.fn = fn, .arg = arg, .last_id = last_id, .stop = stop};
    unsigned backoff_ms = 200;
    for (;;) {
        if (stop && *stop) return EF_ECLOSED;
        f.got_data = false;
        int rc = ef_client_events(cl, target, last_id[0] ? last_id : NULL, ef_client_follow_cb, &f, status);
        if (f.fn_rc) return f.fn_rc;                          /* fn ended it */
        if (rc == EF_ECLOSED) return rc;                      /* stop */
        if (rc == EF_EPROTO && *status != 503) return rc;
        if (rc == EF_ETOOBIG) return rc;
        if (f.got_data) backoff_ms = 200;
        for (unsigned waited = 0; waited < backoff_ms; waited += 50) {
            if (stop && *stop) return EF_ECLOSED;
            usleep(50000);
        }
        if (backoff_ms < 5000) backoff_ms *= 2;
    }
}

int ef_client_events(ef_client *cl, const char *target, const char *last_id, ef_client_event_fn fn,
                     void *arg, long *status)
{
    EF_ASSERT(cl && target && fn && status);
    *status = 0;
    struct curl_slist *hdrs = NULL;
    ef_sse_parser *s = ef_sse_parser_new(fn, arg, last_id);
    if (!s) return EF_ENOMEM;
    int rc = ef_client_setup(cl, "GET", target, &hdrs);
    if (rc) goto out;
    hdrs = curl_slist_append(hdrs, "Accept: text/event-stream");
    if (last_id && *last_id) {
        char line[128];
        snprintf(line, sizeof line, "Last-Event-ID: %s", last_id);
        hdrs = curl_slist_append(hdrs, line);
    }
    curl_easy_setopt(cl->curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(cl->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(cl->curl, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(cl->curl, CURLOPT_WRITEFUNCTION, ef_client_sse_write);
    curl_easy_setopt(cl->curl, CURLOPT_WRITEDATA, s);
    CURLcode cc = curl_easy_perform(cl->curl);
    curl_easy_getinfo(cl->curl, CURLINFO_RESPONSE_CODE, status);
    if (s->stop) rc = s->stop;
    else if (s->overflow) rc = EF_ETOOBIG;
    else if (*status != 200 && *status != 0) rc = EF_EPROTO;
    else if (cc == CURLE_OK) rc = 0;
    else rc = ef_client_curl_err(cc);
out:
    curl_slist_free_all(hdrs);
    ef_sse_parser_free(s);
    return rc;
}
