/* ef_app.c: the federated service app: a small HTTP service (libmicrohttpd) that answers requests. */
#include "agents/ef_app.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agents/ef_httpc.h"

#define EF_APP_THREAD_STACK (256u * 1024u)  /* per connection thread */

struct ef_app {
    struct MHD_Daemon *mhd;
    char name[EF_APP_FIELD_MAX];
    char kind[EF_APP_FIELD_MAX];
    char mec[EF_APP_FIELD_MAX];
    atomic_uint_fast64_t count;
    int relay;
};

static enum MHD_Result ef_app_reply(struct MHD_Connection *c, unsigned status, const char *type, char *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result ef_app_handle(void *cls, struct MHD_Connection *c, const char *url,
                                     const char *method, const char *version, const char *upload,
                                     size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload;
    ef_app *app = cls;
    /* First call per request: only headers are in; answer on the second. */
    if (!*con_cls) {
        *con_cls = app;
        return MHD_YES;
    }
    if (*upload_size) {  /* ignore any body */
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "GET") == 0 && strcmp(url, "/health") == 0) {
        json_t *j = json_pack("{s:s,s:s,s:I}", "status", "ok", "service", app->name, "pid", (json_int_t)getpid());
        char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        return body ? ef_app_reply(c, MHD_HTTP_OK, "application/json", body) : MHD_NO;
    }
    if (strcmp(method, "GET") == 0 && strcmp(url, "/") == 0) {
        uint64_t n = atomic_fetch_add(&app->count, 1) + 1;
        json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:I}", "app", "edgefed-app", "service", app->name,
                              "kind", app->kind, "mec", app->mec, "count", (json_int_t)n);
        char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (!body) return MHD_NO;
        return ef_app_reply(c, MHD_HTTP_OK, "application/json", body);
    }
    if (app->relay && strcmp(method, "GET") == 0 && strcmp(url, "/relay") == 0) {
        const char *to = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "to");
        uint32_t ip;
        uint16_t port;
        if (!to || ef_httpc_parse_hostport(to, &ip, &port))
            return ef_app_reply(c, MHD_HTTP_BAD_REQUEST, "application/json", strdup("{\"error\":\"bad to\"}"));
        ef_httpc_resp r;
        int err = ef_httpc_request(&r, NULL, ip, port, "GET", "/", NULL, NULL, 0, EF_APP_RELAY_TIMEOUT_MS);
        if (err || r.status != 200) {
            char *body = NULL;
            json_t *j = json_pack("{s:s,s:i}", "error", err ? ef_strerror(err) : "peer answered an error",
                                  "status", err ? 0 : r.status);
            body = j ? json_dumps(j, JSON_COMPACT) : NULL;
            json_decref(j);
            if (!err) ef_httpc_resp_free(&r);
            return body ? ef_app_reply(c, MHD_HTTP_BAD_GATEWAY, "application/json", body) : MHD_NO;
        }
        char *body = r.body;
        r.body = NULL;
        ef_httpc_resp_free(&r);
        return ef_app_reply(c, MHD_HTTP_OK, "application/json", body);
    }
    return ef_app_reply(c, MHD_HTTP_NOT_FOUND, "application/json", strdup("{\"error\":\"not found\"}"));
}

static int ef_app_copy(char *dst, const char *src)
{
    if (!src) src = "";
    size_t n = strlen(src);
    if (n >= EF_APP_FIELD_MAX) return EF_EINVAL;
    memcpy(dst, src, n + 1);
    return 0;
}

int ef_app_start(ef_app **out, uint32_t ip, uint16_t port, const char *name, const char *kind, const char *mec,
                 int relay)
{
    EF_ASSERT(out);
    *out = NULL;
    if (port == 0) return EF_EINVAL;
    ef_app *app = calloc(1, sizeof *app);
    if (!app) return EF_ENOMEM;
    if (ef_app_copy(app->name, name) || ef_app_copy(app->kind, kind) || ef_app_copy(app->mec, mec)) {
        free(app);
        return EF_EINVAL;
    }
    atomic_init(&app->count, 0);
    app->relay = relay;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(ip)};
    app->mhd = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, port, NULL, NULL,
                                ef_app_handle, app, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                                MHD_OPTION_CONNECTION_LIMIT, (unsigned)EF_APP_CONN_MAX,
                                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
                                MHD_OPTION_THREAD_STACK_SIZE, (size_t)EF_APP_THREAD_STACK, MHD_OPTION_END);
    if (!app->mhd) {
        free(app);
        return EF_ENET;
    }
    *out = app;
    return 0;
}

void ef_app_stop(ef_app *app)
{
    if (!app) return;
    MHD_stop_daemon(app->mhd);
    free(app);
}

uint64_t ef_app_count(const ef_app *app)
{
    return atomic_load(&((ef_app *)app)->count);
}
