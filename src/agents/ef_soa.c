/* ef_soa.c: the REST federation baseline ("SOA" in seed 001): direct HTTP between pre-registered MEC systems, no ledger. */
#include "agents/ef_soa.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agents/ef_httpc.h"
#include "agents/ef_proc.h"
#include "base/ef_codec.h"
#include "base/ef_log.h"

#define EF_SOA_LOG "soa"
#define EF_SOA_MAC_HEX (2 * crypto_auth_BYTES + 1)
#define EF_SOA_OWNED_MAX EF_MEO_SERVICES_MAX
#define EF_SOA_THREAD_STACK (512u * 1024u)  /* a quote thread's stack */
#define EF_SOA_REPLAY_MAX 4096   /* request MACs remembered against replays */

_Static_assert(EF_SOA_KEY_SIZE == crypto_auth_KEYBYTES, "pre-shared key size");

/* ---- the MAC shared by both sides ---- */

/* MAC over  a "\n" b "\n" c "\n" body  into hex (EF_SOA_MAC_HEX bytes). */
static int ef_soa_mac(char hex[EF_SOA_MAC_HEX], const uint8_t key[EF_SOA_KEY_SIZE], const char *a, const char *b,
                      const char *c, const char *body, size_t body_len)
{
    crypto_auth_hmacsha512256_state st;
    uint8_t mac[crypto_auth_BYTES];
    crypto_auth_hmacsha512256_init(&st, key, EF_SOA_KEY_SIZE);
    const char *parts[3] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        crypto_auth_hmacsha512256_update(&st, (const uint8_t *)parts[i], strlen(parts[i]));
        crypto_auth_hmacsha512256_update(&st, (const uint8_t *)"\n", 1);
    }
    crypto_auth_hmacsha512256_update(&st, (const uint8_t *)body, body_len);
    crypto_auth_hmacsha512256_final(&st, mac);
    ef_hex(hex, mac, sizeof mac);
    sodium_memzero(&st, sizeof st);
    return 0;
}

/* Constant-time comparison of a received hex MAC with the expected one. */
static int ef_soa_mac_ok(const char *got, const char *want)
{
    if (strlen(got) != EF_SOA_MAC_HEX - 1) return 0;
    return sodium_memcmp(got, want, EF_SOA_MAC_HEX - 1) == 0;
}

static int ef_soa_parse_ms(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    size_t n = 0;
    if (!s || !*s) return EF_EINVAL;
    for (; *s; s++, n++) {
        if (*s < '0' || *s > '9' || n >= 19) return EF_EINVAL;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

static int ef_soa_skew_ok(uint64_t t_ms)
{
    uint64_t now = ef_now_wall_ms();
    uint64_t d = now > t_ms ? now - t_ms : t_ms - now;
    return d <= EF_SOA_SKEW_MS;
}

/* ---- provider ---- */

typedef struct ef_soa_owned {
    int used;
    int ready;                        /* deployed and connected */
    char sid[EF_MEO_NAME_MAX];
    char client[EF_MEO_NAME_MAX];
} ef_soa_owned;

struct ef_soa_provider {
    struct MHD_Daemon *mhd;
    char name[EF_MEO_NAME_MAX];
    ef_pricing pricing;
    ef_soa_cred creds[EF_SOA_PEERS_MAX];
    size_t n_creds;
    ef_meo *meo;
    pthread_mutex_t mu;
    ef_soa_owned owned[EF_SOA_OWNED_MAX];
    char seen[EF_SOA_REPLAY_MAX][EF_SOA_MAC_HEX - 1];  /* MACs of accepted requests, a ring */
    size_t seen_next;
};

typedef struct ef_soa_req {
    size_t len;
    int too_big;
    const ef_soa_cred *cred;          /* set once authenticated */
    char mac[EF_SOA_MAC_HEX];         /* the request's MAC, bound into the answer's */
    char body[EF_SOA_BODY_MAX];
} ef_soa_req;

/* Queues the answer; authenticated (bound to the request's MAC) when req->cred is set. */
static enum MHD_Result ef_soa_send(struct MHD_Connection *c, unsigned status, const char *body,
                                   const ef_soa_req *req)
{
    const ef_soa_cred *cred = req ? req->cred : NULL;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (cred) {
        char st[8], tm[24], mac[EF_SOA_MAC_HEX];
        snprintf(st, sizeof st, "%u", status);
        snprintf(tm, sizeof tm, "%" PRIu64, ef_now_wall_ms());
        ef_soa_mac(mac, cred->key, st, tm, req->mac, body, strlen(body));
        MHD_add_response_header(r, "X-EF-Time", tm);
        MHD_add_response_header(r, "X-EF-Auth", mac);
    }
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result ef_soa_send_err(struct MHD_Connection *c, unsigned status, const char *msg,
                                       const ef_soa_req *req)
{
    char body[256];
    json_t *j = json_pack("{s:s}", "error", msg);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    snprintf(body, sizeof body, "%s", s ? s : "{\"error\":\"internal\"}");
    free(s);
    json_decref(j);
    return ef_soa_send(c, status, body, req);
}

/* Authenticates the request; returns the credential (also in req->cred, with the
 * request's MAC in req->mac) or NULL with *status set. A MAC seen before (within
 * the last EF_SOA_REPLAY_MAX requests; older ones are outside the time window
 * unless the provider is that busy) is a replay: 401. */
static const ef_soa_cred *ef_soa_auth(ef_soa_provider *p, struct MHD_Connection *c, const char *method,
                                      const char *url, ef_soa_req *req, unsigned *status)
{
    const char *client = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-EF-Client");
    const char *tm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-EF-Time");
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-EF-Auth");
    *status = MHD_HTTP_UNAUTHORIZED;
    uint64_t t_ms;
    if (!client || !tm || !auth || ef_soa_parse_ms(tm, &t_ms) || !ef_soa_skew_ok(t_ms)) return NULL;
    const ef_soa_cred *cred = NULL;
    for (size_t i = 0; i < p->n_creds && !cred; i++)
        if (!strcmp(p->creds[i].id, client)) cred = &p->creds[i];
    if (!cred) return NULL;
    char want[EF_SOA_MAC_HEX];
    ef_soa_mac(want, cred->key, method, url, tm, req->body, req->len);
    if (!ef_soa_mac_ok(auth, want)) {
        *status = MHD_HTTP_FORBIDDEN;
        return NULL;
    }
    pthread_mutex_lock(&p->mu);
    int replay = 0;
    for (size_t i = 0; i < EF_SOA_REPLAY_MAX && !replay; i++)
        replay = !memcmp(p->seen[i], want, EF_SOA_MAC_HEX - 1);
    if (!replay) {
        memcpy(p->seen[p->seen_next], want, EF_SOA_MAC_HEX - 1);
        p->seen_next = (p->seen_next + 1) % EF_SOA_REPLAY_MAX;
    }
    pthread_mutex_unlock(&p->mu);
    if (replay) {
        EF_LOGW(EF_SOA_LOG, "%s: replayed request from %s refused", p->name, cred->id);
        return NULL;
    }
    req->cred = cred;
    memcpy(req->mac, want, sizeof req->mac);
    return cred;
}

/* Body fields: "service" (a valid name) and optional "kind". */
static json_t *ef_soa_body(const ef_soa_req *req, const char **sid, const char **kind)
{
    json_error_t je;
    json_t *j = json_loadb(req->body, req->len, 0, &je);
    if (!j) return NULL;
    *sid = json_string_value(json_object_get(j, "service"));
    *kind = json_string_value(json_object_get(j, "kind"));
    if (!*sid || !ef_meo_name_ok(*sid) || (*kind && !ef_meo_name_ok(*kind))) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static enum MHD_Result ef_soa_quote(ef_soa_provider *p, struct MHD_Connection *c, const ef_soa_req *req)
{
    const char *sid, *kind;
    json_t *j = ef_soa_body(req, &sid, &kind);
    if (!j) return ef_soa_send_err(c, MHD_HTTP_BAD_REQUEST, "bad request body", req);
    json_decref(j);
    uint64_t now = ef_now_wall_ms(), price;
    if (ef_pricing_quote(&p->pricing, now, &price))
        return ef_soa_send_err(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "pricing", req);
    char body[256];
    snprintf(body, sizeof body, "{\"provider\":\"%s\",\"location\":\"%s\",\"price\":%" PRIu64 ",\"time_ms\":%" PRIu64 "}",
             p->name, p->pricing.location, price, now);
    return ef_soa_send(c, MHD_HTTP_OK, body, req);
}

static ef_soa_owned *ef_soa_owned_find(ef_soa_provider *p, const char *sid)
{
    for (size_t i = 0; i < EF_SOA_OWNED_MAX; i++)
        if (p->owned[i].used && !strcmp(p->owned[i].sid, sid)) return &p->owned[i];
    return NULL;
}

static enum MHD_Result ef_soa_deploy(ef_soa_provider *p, struct MHD_Connection *c, const ef_soa_req *req,
                                     const ef_soa_cred *cred)
{
    const char *sid, *kind;
    json_t *j = ef_soa_body(req, &sid, &kind);
    if (!j) return ef_soa_send_err(c, MHD_HTTP_BAD_REQUEST, "bad request body", req);
    ef_meo_ep cons, prov;
    const char *eps = json_string_value(json_object_get(j, "consumer_ep"));
    if (!eps || ef_meo_ep_parse(&cons, eps)) {
        json_decref(j);
        return ef_soa_send_err(c, MHD_HTTP_BAD_REQUEST, "bad consumer_ep", req);
    }
    char sid_c[EF_MEO_NAME_MAX], kind_c[EF_MEO_NAME_MAX];
    snprintf(sid_c, sizeof sid_c, "%s", sid);
    snprintf(kind_c, sizeof kind_c, "%s", kind ? kind : "generic");
    json_decref(j);
    /* Reserve the service id for this client. */
    pthread_mutex_lock(&p->mu);
    ef_soa_owned *o = ef_soa_owned_find(p, sid_c);
    int busy = o != NULL;
    if (!o)
        for (size_t i = 0; i < EF_SOA_OWNED_MAX && !o; i++)
            if (!p->owned[i].used) o = &p->owned[i];
    if (o && !busy) {
        memset(o, 0, sizeof *o);
        o->used = 1;
        memcpy(o->sid, sid_c, sizeof sid_c);
        memcpy(o->client, cred->id, sizeof o->client);
    }
    pthread_mutex_unlock(&p->mu);
    if (busy) return ef_soa_send_err(c, MHD_HTTP_CONFLICT, "service already deployed", req);
    if (!o) return ef_soa_send_err(c, MHD_HTTP_SERVICE_UNAVAILABLE, "too many services", req);
    uint64_t t0 = ef_now_mono_us();
    int err = ef_meo_deploy(p->meo, sid_c, kind_c, &cons, &prov);
    if (!err) {
        err = ef_meo_connect(p->meo, sid_c, &prov, &cons);
        if (err) (void)ef_meo_teardown(p->meo, sid_c);
    }
    pthread_mutex_lock(&p->mu);
    if (err) memset(o, 0, sizeof *o);
    else o->ready = 1;
    pthread_mutex_unlock(&p->mu);
    if (err) {
        EF_LOGW(EF_SOA_LOG, "%s: deploy %s for %s failed: %s", p->name, sid_c, cred->id, ef_strerror(err));
        return ef_soa_send_err(c, err == EF_EEXIST ? MHD_HTTP_CONFLICT : MHD_HTTP_INTERNAL_SERVER_ERROR,
                               ef_strerror(err), req);
    }
    char eps_out[EF_MEO_EP_STR_MAX], body[512];
    (void)ef_meo_ep_format(eps_out, sizeof eps_out, &prov);
    snprintf(body, sizeof body, "{\"provider_ep\":\"%s\",\"deploy_ms\":%.3f}", eps_out,
             (ef_now_mono_us() - t0) / 1000.0);
    return ef_soa_send(c, MHD_HTTP_OK, body, req);
}

static enum MHD_Result ef_soa_teardown(ef_soa_provider *p, struct MHD_Connection *c, const ef_soa_req *req,
                                       const ef_soa_cred *cred)
{
    const char *sid, *kind;
    json_t *j = ef_soa_body(req, &sid, &kind);
    if (!j) return ef_soa_send_err(c, MHD_HTTP_BAD_REQUEST, "bad request body", req);
    char sid_c[EF_MEO_NAME_MAX];
    snprintf(sid_c, sizeof sid_c, "%s", sid);
    json_decref(j);
    pthread_mutex_lock(&p->mu);
    ef_soa_owned *o = ef_soa_owned_find(p, sid_c);
    int status = 0;
    if (o && strcmp(o->client, cred->id)) status = MHD_HTTP_FORBIDDEN;
    else if (o && !o->ready) status = MHD_HTTP_CONFLICT;  /* deploy still running */
    else if (o) o->ready = 0;
    pthread_mutex_unlock(&p->mu);
    if (status) return ef_soa_send_err(c, (unsigned)status, "not yours or busy", req);
    int err = 0;
    if (o) {
        err = ef_meo_teardown(p->meo, sid_c);
        pthread_mutex_lock(&p->mu);
        memset(o, 0, sizeof *o);
        pthread_mutex_unlock(&p->mu);
    }
    if (err) return ef_soa_send_err(c, MHD_HTTP_INTERNAL_SERVER_ERROR, ef_strerror(err), req);
    return ef_soa_send(c, MHD_HTTP_OK, "{\"ok\":true}", req);
}

static enum MHD_Result ef_soa_handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                     const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    ef_soa_provider *p = cls;
    ef_soa_req *req = *con_cls;
    if (!req) {
        req = calloc(1, sizeof *req);
        if (!req) return MHD_NO;
        *con_cls = req;
        return MHD_YES;
    }
    if (*upload_size) {
        if (req->len + *upload_size >= EF_SOA_BODY_MAX) req->too_big = 1;
        else {
            memcpy(req->body + req->len, upload, *upload_size);
            req->len += *upload_size;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    req->body[req->len] = 0;
    if (!strcmp(method, "GET") && !strcmp(url, "/health"))
        return ef_soa_send(c, MHD_HTTP_OK, "ok", NULL);
    if (req->too_big) return ef_soa_send_err(c, MHD_HTTP_CONTENT_TOO_LARGE, "body too large", NULL);
    unsigned status;
    const ef_soa_cred *cred = ef_soa_auth(p, c, method, url, req, &status);
    if (!cred) {
        EF_LOGI(EF_SOA_LOG, "%s: %s %s rejected: %u", p->name, method, url, status);
        return ef_soa_send_err(c, status, status == MHD_HTTP_FORBIDDEN ? "bad signature" : "unauthenticated", NULL);
    }
    if (!strcmp(method, "POST") && !strcmp(url, "/quote")) return ef_soa_quote(p, c, req);
    if (!strcmp(method, "POST") && !strcmp(url, "/deploy")) return ef_soa_deploy(p, c, req, cred);
    if (!strcmp(method, "POST") && !strcmp(url, "/teardown")) return ef_soa_teardown(p, c, req, cred);
    return ef_soa_send_err(c, MHD_HTTP_NOT_FOUND, "not found", req);
}

static void ef_soa_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
    (void)cls;
    (void)c;
    (void)t;
    free(*con_cls);
    *con_cls = NULL;
}

int ef_soa_provider_start(ef_soa_provider **out, const ef_soa_provider_cfg *cfg)
{
    EF_ASSERT(out);
    *out = NULL;
    if (!cfg || !cfg->name || !ef_meo_name_ok(cfg->name) || !cfg->meo || cfg->listen_port == 0) return EF_EINVAL;
    if (ef_pricing_valid(&cfg->pricing)) return EF_EINVAL;
    if (cfg->n_creds > EF_SOA_PEERS_MAX) return EF_ETOOBIG;
    ef_soa_provider *p = calloc(1, sizeof *p);
    if (!p) return EF_ENOMEM;
    snprintf(p->name, sizeof p->name, "%s", cfg->name);
    p->pricing = cfg->pricing;
    if (cfg->n_creds) memcpy(p->creds, cfg->creds, cfg->n_creds * sizeof *cfg->creds);
    p->n_creds = cfg->n_creds;
    p->meo = cfg->meo;
    pthread_mutex_init(&p->mu, NULL);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(cfg->listen_port),
                             .sin_addr.s_addr = htonl(cfg->listen_ip)};
    p->mhd = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
                              cfg->listen_port, NULL, NULL, ef_soa_handle, p, MHD_OPTION_SOCK_ADDR,
                              (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT, (unsigned)EF_SOA_CONN_MAX,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                              MHD_OPTION_THREAD_STACK_SIZE, (size_t)EF_SOA_THREAD_STACK, MHD_OPTION_NOTIFY_COMPLETED,
                              ef_soa_completed, NULL, MHD_OPTION_END);
    if (!p->mhd) {
        pthread_mutex_destroy(&p->mu);
        sodium_memzero(p->creds, sizeof p->creds);
        free(p);
        return EF_ENET;
    }
    *out = p;
    return 0;
}

void ef_soa_provider_stop(ef_soa_provider *p)
{
    if (!p) return;
    MHD_stop_daemon(p->mhd);
    for (size_t i = 0; i < EF_SOA_OWNED_MAX; i++)
        if (p->owned[i].used) (void)ef_meo_teardown(p->meo, p->owned[i].sid);
    pthread_mutex_destroy(&p->mu);
    sodium_memzero(p->creds, sizeof p->creds);
    free(p);
}

/* ---- consumer ---- */

int ef_soa_call(const ef_soa_peer *peer, const char *netns, const char *method, const char *path,
                const char *body, uint32_t timeout_ms, int *status, char out[EF_SOA_BODY_MAX])
{
    EF_ASSERT(peer && method && path && status && out);
    *status = 0;
    out[0] = 0;
    if (!body) body = "";
    size_t blen = strlen(body);
    if (blen >= EF_SOA_BODY_MAX) return EF_ETOOBIG;
    char tm[24], mac[EF_SOA_MAC_HEX];
    snprintf(tm, sizeof tm, "%" PRIu64, ef_now_wall_ms());
    ef_soa_mac(mac, peer->cred.key, method, path, tm, body, blen);
    char h_client[64], h_time[48], h_auth[128];
    snprintf(h_client, sizeof h_client, "X-EF-Client: %s", peer->cred.id);
    snprintf(h_time, sizeof h_time, "X-EF-Time: %s", tm);
    snprintf(h_auth, sizeof h_auth, "X-EF-Auth: %s", mac);
    const char *headers[] = {h_client, h_time, h_auth, "Content-Type: application/json", NULL};
    ef_httpc_resp r;
    int err = ef_httpc_request(&r, netns, peer->ip, peer->port, method, path, headers, body, blen, timeout_ms);
    if (err) return err;
    if (r.body_len >= EF_SOA_BODY_MAX) {
        ef_httpc_resp_free(&r);
        return EF_ETOOBIG;
    }
    memcpy(out, r.body, r.body_len + 1);
    *status = r.status;
    if (r.status < 400) {
        /* The answer must come from the holder of the key, recently. */
        char rt[24], ra[EF_SOA_MAC_HEX + 8], st[8], want[EF_SOA_MAC_HEX];
        uint64_t rt_ms;
        err = EF_EAUTH;
        if (!ef_httpc_header(&r, "X-EF-Time", rt, sizeof rt) && !ef_httpc_header(&r, "X-EF-Auth", ra, sizeof ra) &&
            !ef_soa_parse_ms(rt, &rt_ms) && ef_soa_skew_ok(rt_ms)) {
            snprintf(st, sizeof st, "%d", r.status);
            ef_soa_mac(want, peer->cred.key, st, rt, mac, r.body, r.body_len);
            if (ef_soa_mac_ok(ra, want)) err = 0;
        }
        if (err) EF_LOGW(EF_SOA_LOG, "answer from %s not authenticated", peer->name);
    }
    ef_httpc_resp_free(&r);
    return err;
}

typedef struct ef_soa_quote_job {
    const ef_soa_peer *peer;
    const char *netns;
    const char *body;
    uint32_t timeout_ms;
    int ok;
    uint64_t price;
} ef_soa_quote_job;

static void *ef_soa_quote_thread(void *arg)
{
    ef_soa_quote_job *q = arg;
    char out[EF_SOA_BODY_MAX];
    int status;
    q->ok = 0;
    int err = ef_soa_call(q->peer, q->netns, "POST", "/quote", q->body, q->timeout_ms, &status, out);
    if (err || status != 200) {
        EF_LOGW(EF_SOA_LOG, "quote from %s: %s (HTTP %d) %s", q->peer->name, err ? ef_strerror(err) : "refused",
                status, err ? "" : out);
        return NULL;
    }
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    json_t *pr = j ? json_object_get(j, "price") : NULL;
    if (json_is_integer(pr) && json_integer_value(pr) > 0) {
        q->price = (uint64_t)json_integer_value(pr);
        q->ok = 1;
    }
    json_decref(j);
    return NULL;
}

int ef_soa_release(const ef_soa_consumer_cfg *cfg, size_t winner, const char *service_id)
{
    EF_ASSERT(cfg);
    if (winner >= cfg->n_peers || !ef_meo_name_ok(service_id)) return EF_EINVAL;
    uint32_t to = cfg->timeout_ms ? cfg->timeout_ms : EF_SOA_TIMEOUT_MS;
    char body[128], out[EF_SOA_BODY_MAX];
    snprintf(body, sizeof body, "{\"service\":\"%s\"}", service_id);
    int status, err = ef_soa_call(&cfg->peers[winner], cfg->netns, "POST", "/teardown", body, to, &status, out);
    if (!err && status != 200) err = EF_EPROTO;
    int err2 = ef_meo_teardown(cfg->meo, service_id);
    return err ? err : err2;
}

int ef_soa_federate(const ef_soa_consumer_cfg *cfg, const char *service_id, const char *kind, ef_soa_result *res)
{
    EF_ASSERT(res);
    memset(res, 0, sizeof *res);
    if (!cfg || !cfg->meo || !cfg->peers || cfg->n_peers == 0 || cfg->n_peers > EF_SOA_PEERS_MAX) return EF_EINVAL;
    if (!ef_meo_name_ok(service_id) || !kind || !ef_meo_name_ok(kind)) return EF_EINVAL;
    uint32_t to = cfg->timeout_ms ? cfg->timeout_ms : EF_SOA_TIMEOUT_MS;
    uint32_t check_to = cfg->check_timeout_ms ? cfg->check_timeout_ms : 10000;
    int err, deployed = 0;
    ef_soa_quote_job jobs[EF_SOA_PEERS_MAX];
    pthread_t th[EF_SOA_PEERS_MAX];
    int started[EF_SOA_PEERS_MAX] = {0};
    char body[512], out[EF_SOA_BODY_MAX];

    /* 1. announce -> offers */
    uint64_t t0 = ef_now_mono_us();
    if ((err = ef_meo_prepare(cfg->meo, service_id, &res->cons_ep))) return err;
    snprintf(body, sizeof body, "{\"service\":\"%s\",\"kind\":\"%s\"}", service_id, kind);
    pthread_attr_t attr;
    int attr_ok = pthread_attr_init(&attr) == 0;
    if (attr_ok) pthread_attr_setstacksize(&attr, EF_SOA_THREAD_STACK);
    for (size_t i = 0; i < cfg->n_peers; i++) {
        jobs[i] = (ef_soa_quote_job){.peer = &cfg->peers[i], .netns = cfg->netns, .body = body, .timeout_ms = to};
        started[i] = pthread_create(&th[i], attr_ok ? &attr : NULL, ef_soa_quote_thread, &jobs[i]) == 0;
        if (!started[i]) ef_soa_quote_thread(&jobs[i]);  /* no thread to spare: ask in line */
    }
    if (attr_ok) pthread_attr_destroy(&attr);
    for (size_t i = 0; i < cfg->n_peers; i++)
        if (started[i]) pthread_join(th[i], NULL);
    uint64_t t1 = ef_now_mono_us();
    res->offers_us = t1 - t0;

    /* 2. award: the cheapest; ties go to the provider listed first. */
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < cfg->n_peers; i++) {
        if (!jobs[i].ok) continue;
        res->offers++;
        if (best == SIZE_MAX || jobs[i].price < jobs[best].price) best = i;
    }
    uint64_t t2 = ef_now_mono_us();
    res->award_us = t2 - t1;
    if (best == SIZE_MAX) {
        err = EF_ENOTFOUND;
        goto fail;
    }
    res->winner = best;
    res->price = jobs[best].price;
    snprintf(res->provider, sizeof res->provider, "%s", cfg->peers[best].name);

    /* 3. deployment */
    char eps[EF_MEO_EP_STR_MAX];
    (void)ef_meo_ep_format(eps, sizeof eps, &res->cons_ep);
    snprintf(body, sizeof body, "{\"service\":\"%s\",\"kind\":\"%s\",\"consumer_ep\":\"%s\"}", service_id, kind, eps);
    int status;
    err = ef_soa_call(&cfg->peers[best], cfg->netns, "POST", "/deploy", body, to, &status, out);
    if (err) goto fail;
    if (status != 200) {
        EF_LOGW(EF_SOA_LOG, "deploy %s at %s: HTTP %d %s", service_id, res->provider, status, out);
        err = status == 409 ? EF_EEXIST : EF_EPROTO;
        goto fail;
    }
    deployed = 1;
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    const char *peps = j ? json_string_value(json_object_get(j, "provider_ep")) : NULL;
    err = peps ? ef_meo_ep_parse(&res->prov_ep, peps) : EF_EPROTO;
    json_decref(j);
    if (err) {
        err = EF_EPROTO;
        goto fail;
    }
    uint64_t t3 = ef_now_mono_us();
    res->deploy_us = t3 - t2;

    /* 4. connection: this side of the data plane, then app-to-app traffic. */
    if ((err = ef_meo_connect(cfg->meo, service_id, &res->cons_ep, &res->prov_ep))) goto fail;
    if ((err = ef_meo_check(cfg->meo, service_id, &res->prov_ep, check_to))) goto fail;
    uint64_t t4 = ef_now_mono_us();
    res->connect_us = t4 - t3;
    res->total_us = t4 - t0;
    return 0;
fail:
    EF_LOGW(EF_SOA_LOG, "federation %s failed: %s", service_id, ef_strerror(err));
    if (deployed) (void)ef_soa_release(cfg, best, service_id);
    else (void)ef_meo_teardown(cfg->meo, service_id);
    ef_meo_ep keep_c = res->cons_ep;
    memset(res, 0, sizeof *res);
    res->cons_ep = keep_c;
    return err;
}

/* ---- credentials files ---- */

/* Splits a line into up to max whitespace-separated fields (in place). */
static int ef_soa_fields(char *line, char **f, int max)
{
    int n = 0;
    for (char *s = strtok(line, " \t\r\n"); s; s = strtok(NULL, " \t\r\n")) {
        if (n == max) return -1;
        f[n++] = s;
    }
    return n;
}

static int ef_soa_read_file(const char *path, int kind, void *arr, size_t cap)
{
    FILE *fp = fopen(path, "r");
    if (!fp) return EF_EIO;
    char line[512];
    int count = 0, err = 0, lineno = 0;
    while (fgets(line, sizeof line, fp)) {
        lineno++;
        char *h = strchr(line, '#');
        if (h) *h = 0;
        char *f[4];
        int n = ef_soa_fields(line, f, 4);
        if (n == 0) continue;
        int want = kind == 0 ? 2 : 4;
        if ((size_t)count >= cap) { err = EF_ETOOBIG; break; }
        ef_soa_cred *cred;
        if (kind == 0) {
            cred = &((ef_soa_cred *)arr)[count];
        } else {
            ef_soa_peer *peer = &((ef_soa_peer *)arr)[count];
            memset(peer, 0, sizeof *peer);
            cred = &peer->cred;
            if (n == want && (!ef_meo_name_ok(f[0]) || ef_httpc_parse_hostport(f[1], &peer->ip, &peer->port))) n = -1;
            else if (n == want) snprintf(peer->name, sizeof peer->name, "%s", f[0]);
        }
        const char *id = f[want - 2], *hex = f[want - 1];
        if (n != want || !ef_meo_name_ok(id) || ef_unhex(cred->key, EF_SOA_KEY_SIZE, hex)) {
            EF_LOGE(EF_SOA_LOG, "%s:%d: bad line", path, lineno);
            err = EF_EINVAL;
            break;
        }
        snprintf(cred->id, sizeof cred->id, "%s", id);
        count++;
    }
    sodium_memzero(line, sizeof line);
    fclose(fp);
    return err ? err : count;
}

int ef_soa_read_creds(const char *path, ef_soa_cred *creds, size_t cap)
{
    return ef_soa_read_file(path, 0, creds, cap);
}

int ef_soa_read_registry(const char *path, ef_soa_peer *peers, size_t cap)
{
    return ef_soa_read_file(path, 1, peers, cap);
}
