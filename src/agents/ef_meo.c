/* ef_meo.c: the MEC orchestrator (MEO) driver: deploys a federated service and connects it. */
#include "agents/ef_meo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "agents/ef_httpc.h"
#include "agents/ef_meo_int.h"
#include "agents/ef_proc.h"
#include "base/ef_log.h"

#define EF_MEO_DEPLOY_TIMEOUT_MS 15000   /* app start to first answer */
#define EF_MEO_START_ATTEMPTS 5          /* ports tried when an app fails to bind */
#define EF_MEO_STOP_GRACE_MS 1000
#define EF_MEO_BATCH_MAX 2048            /* one `ip -batch` script */

typedef enum { EF_MEO_PROCESS = 0, EF_MEO_NETNS = 1 } ef_meo_kind;

typedef struct ef_meo_svc {
    int used;
    int busy;                        /* a call on this service is running */
    char id[EF_MEO_NAME_MAX];
    pid_t pid;                       /* the app, or -1 */
    uint16_t port;                   /* app port, or 0 */
    int prepared;                    /* holds a pool slot (consumer) */
    uint32_t pool_index;
    int connected;                   /* tunnel (netns) or peer (process) recorded */
    char dev[16];                    /* VXLAN device made here, "" if none */
    ef_meo_ep local, remote;
    ef_meo_times times;
} ef_meo_svc;

struct ef_meo {
    ef_meo_kind kind;
    pthread_mutex_t mu;
    char mec[EF_MEO_NAME_MAX];
    char netns[EF_MEO_NAME_MAX];
    char underlay_dev[EF_MEO_NAME_MAX];
    char app_path[EF_MEO_PATH_MAX];
    uint32_t underlay_ip;
    uint16_t port_min, port_max, port_next;
    uint32_t pool_net;
    uint8_t pool_prefix;
    uint32_t pool_count, pool_next;
    uint32_t vni_base;
    uint16_t vxlan_port;
    ef_meo_svc svcs[EF_MEO_SERVICES_MAX];
    /* The consumer's own app (started at the first prepare or check), through
     * which the check reaches the provider's app. Guarded by app_mu. */
    pthread_mutex_t app_mu;
    pid_t local_pid;
    uint16_t local_port;       /* also read under mu by ef_meo_next_port */
};

/* ---- open / close ---- */

static int ef_meo_copy(char *dst, size_t cap, const char *src)
{
    if (!src) { dst[0] = 0; return 0; }
    size_t n = strlen(src);
    if (n >= cap) return EF_ECONFIG;
    memcpy(dst, src, n + 1);
    return 0;
}

const char *ef_meo_driver(const ef_meo *meo)
{
    return meo->kind == EF_MEO_NETNS ? "netns" : "process";
}

int ef_meo_open(ef_meo **out, const char *driver, const ef_meo_config *cfg)
{
    EF_ASSERT(out);
    *out = NULL;
    if (!driver || !cfg) return EF_EINVAL;
    ef_meo_kind kind;
    if (!strcmp(driver, "process")) kind = EF_MEO_PROCESS;
    else if (!strcmp(driver, "netns")) kind = EF_MEO_NETNS;
    else return EF_ECONFIG;
    if (kind == EF_MEO_NETNS && geteuid() != 0) return EF_EPERM;
    ef_meo *m = calloc(1, sizeof *m);
    if (!m) return EF_ENOMEM;
    int err = EF_ECONFIG;
    m->kind = kind;
    if (!cfg->mec_name || !ef_meo_name_ok(cfg->mec_name)) goto fail;
    if (ef_meo_copy(m->mec, sizeof m->mec, cfg->mec_name)) goto fail;
    if (kind == EF_MEO_NETNS) {
        if (!cfg->netns || !ef_meo_name_ok(cfg->netns) || !cfg->underlay_ip) goto fail;
        ef_meo_copy(m->netns, sizeof m->netns, cfg->netns);
        if (!ef_meo_netns_exists(cfg->netns)) {
            EF_LOGW(EF_MEO_LOG, "%s: netns %s does not exist", m->mec, cfg->netns);
            goto fail;
        }
        if (cfg->underlay_dev && (!ef_meo_name_ok(cfg->underlay_dev) || strlen(cfg->underlay_dev) > 15)) goto fail;
        ef_meo_copy(m->underlay_dev, sizeof m->underlay_dev, cfg->underlay_dev);
    }
    if (ef_meo_ip_parse(&m->underlay_ip, cfg->underlay_ip ? cfg->underlay_ip : "127.0.0.1")) goto fail;
    if (ef_meo_copy(m->app_path, sizeof m->app_path, cfg->app_path ? cfg->app_path : "/proc/self/exe")) goto fail;
    if (m->app_path[0] != '/' || access(m->app_path, X_OK)) goto fail;
    m->port_min = cfg->port_min ? cfg->port_min : 20000;
    m->port_max = cfg->port_max ? cfg->port_max : 29999;
    if (m->port_min > m->port_max || m->port_min < 1024) goto fail;
    /* Start at a random point of the range: several MEC systems of a process
     * driver share one host and often the default range. */
    m->port_next = (uint16_t)(m->port_min + randombytes_uniform((uint32_t)m->port_max - m->port_min + 1));
    uint32_t d = m->underlay_ip & 255;
    if (cfg->overlay_pool) {
        if (ef_meo_ip_parse(&m->pool_net, cfg->overlay_pool)) goto fail;
        m->pool_prefix = cfg->overlay_pool_prefix;
        if (m->pool_prefix < 8 || m->pool_prefix > 30 || (m->pool_net & ~ef_meo_mask(m->pool_prefix))) goto fail;
        m->vni_base = cfg->vni_base;
    } else {
        m->pool_net = (100u << 24) | ((64u + d / 4) << 16) | ((d % 4) * 64u << 8);
        m->pool_prefix = 18;
        m->vni_base = cfg->vni_base ? cfg->vni_base : d * 4096u;
    }
    m->pool_count = 1u << (30 - m->pool_prefix);
    if (m->pool_count > 4096) m->pool_count = 4096;  /* VNIs per MEC stay below vni_base+4096 */
    if ((uint64_t)m->vni_base + m->pool_count >= (1u << 24)) goto fail;
    m->vxlan_port = cfg->vxlan_port ? cfg->vxlan_port : EF_MEO_VXLAN_PORT_DEFAULT;
    if (pthread_mutex_init(&m->mu, NULL)) { err = EF_ENOMEM; goto fail; }
    if (pthread_mutex_init(&m->app_mu, NULL)) {
        pthread_mutex_destroy(&m->mu);
        err = EF_ENOMEM;
        goto fail;
    }
    m->local_pid = -1;
    *out = m;
    return 0;
fail:
    free(m);
    return err;
}

void ef_meo_close(ef_meo *meo)
{
    if (!meo) return;
    for (size_t i = 0; i < EF_MEO_SERVICES_MAX; i++) {
        if (!meo->svcs[i].used) continue;
        char id[EF_MEO_NAME_MAX];
        memcpy(id, meo->svcs[i].id, sizeof id);
        (void)ef_meo_teardown(meo, id);
    }
    if (meo->local_pid > 0) ef_proc_stop(meo->local_pid, EF_MEO_STOP_GRACE_MS);
    pthread_mutex_destroy(&meo->app_mu);
    pthread_mutex_destroy(&meo->mu);
    free(meo);
}

/* ---- the service table (callers hold mu) ---- */

static ef_meo_svc *ef_meo_find(ef_meo *m, const char *id)
{
    for (size_t i = 0; i < EF_MEO_SERVICES_MAX; i++)
        if (m->svcs[i].used && !strcmp(m->svcs[i].id, id)) return &m->svcs[i];
    return NULL;
}

static ef_meo_svc *ef_meo_add(ef_meo *m, const char *id)
{
    for (size_t i = 0; i < EF_MEO_SERVICES_MAX; i++) {
        ef_meo_svc *s = &m->svcs[i];
        if (s->used) continue;
        memset(s, 0, sizeof *s);
        s->used = 1;
        s->pid = -1;
        memcpy(s->id, id, strlen(id) + 1);
        return s;
    }
    return NULL;
}

/* Finds (or with create, adds) the service and marks it busy. */
static int ef_meo_acquire(ef_meo *m, const char *id, int create, ef_meo_svc **out)
{
    *out = NULL;
    if (!ef_meo_name_ok(id)) return EF_EINVAL;
    pthread_mutex_lock(&m->mu);
    ef_meo_svc *s = ef_meo_find(m, id);
    int err = 0;
    if (!s && create) {
        s = ef_meo_add(m, id);
        if (!s) err = EF_EFULL;
    } else if (!s) {
        err = EF_ENOTFOUND;
    } else if (s->busy) {
        err = EF_EAGAIN;
    }
    if (!err) {
        s->busy = 1;
        *out = s;
    }
    pthread_mutex_unlock(&m->mu);
    return err;
}

static void ef_meo_release(ef_meo *m, ef_meo_svc *s, int forget)
{
    pthread_mutex_lock(&m->mu);
    s->busy = 0;
    if (forget) memset(s, 0, sizeof *s);
    pthread_mutex_unlock(&m->mu);
}

static int ef_meo_svc_empty(const ef_meo_svc *s)
{
    return s->pid <= 0 && !s->prepared && !s->connected;
}

static int ef_meo_local_app(ef_meo *meo, uint16_t *port);

/* ---- prepare (consumer) ---- */

int ef_meo_prepare(ef_meo *meo, const char *service_id, ef_meo_ep *cons_ep)
{
    EF_ASSERT(meo && cons_ep);
    memset(cons_ep, 0, sizeof *cons_ep);
    if (!ef_meo_name_ok(service_id)) return EF_EINVAL;
    pthread_mutex_lock(&meo->mu);
    int err = 0;
    ef_meo_svc *s = NULL;
    if (ef_meo_find(meo, service_id)) { err = EF_EEXIST; goto out; }
    /* Next pool slot not held by another service. */
    uint32_t idx = 0, tried;
    for (tried = 0; tried < meo->pool_count; tried++) {
        idx = (meo->pool_next + tried) % meo->pool_count;
        int taken = 0;
        for (size_t i = 0; i < EF_MEO_SERVICES_MAX && !taken; i++)
            taken = meo->svcs[i].used && meo->svcs[i].prepared && meo->svcs[i].pool_index == idx;
        if (!taken) break;
    }
    if (tried == meo->pool_count || !(s = ef_meo_add(meo, service_id))) { err = EF_EFULL; goto out; }
    meo->pool_next = (idx + 1) % meo->pool_count;
    s->prepared = 1;
    s->pool_index = idx;
    cons_ep->underlay_ip = meo->underlay_ip;
    cons_ep->vni = meo->vni_base + idx + 1;
    cons_ep->vxlan_port = meo->vxlan_port;
    cons_ep->overlay_net = meo->pool_net + idx * 4u;
    cons_ep->overlay_prefix = 30;
    cons_ep->overlay_ip = cons_ep->overlay_net + 1;
    cons_ep->app_port = 0;
    s->local = *cons_ep;
    EF_ASSERT(ef_meo_ep_valid(cons_ep) == 0);
out:
    pthread_mutex_unlock(&meo->mu);
    if (!err) {
        /* The consumer's app should run before the provider's answers (seed 001:
         * consumers host their apps already); a failure here is retried at check. */
        uint16_t lp;
        int aerr = ef_meo_local_app(meo, &lp);
        if (aerr) EF_LOGW(EF_MEO_LOG, "%s: consumer app not started: %s", meo->mec, ef_strerror(aerr));
    }
    return err;
}

/* ---- deploy (provider) ---- */

/* true if a TCP listener could bind ip:port right now (process driver only). */
static int ef_meo_port_free(uint32_t ip, uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(ip)};
    int ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

/* Picks the next port in range not used by another service of this meo. */
static uint16_t ef_meo_next_port(ef_meo *m)
{
    pthread_mutex_lock(&m->mu);
    uint32_t span = (uint32_t)m->port_max - m->port_min + 1;
    uint16_t port = 0;
    for (uint32_t k = 0; k < span && !port; k++) {
        uint16_t p = m->port_next;
        m->port_next = p == m->port_max ? m->port_min : (uint16_t)(p + 1);
        int taken = p == m->local_port;
        for (size_t i = 0; i < EF_MEO_SERVICES_MAX && !taken; i++)
            taken = m->svcs[i].used && m->svcs[i].port == p;
        if (taken) continue;
        if (m->kind == EF_MEO_PROCESS && !ef_meo_port_free(m->underlay_ip, p)) continue;
        port = p;
    }
    pthread_mutex_unlock(&m->mu);
    return port;
}

static void ef_sleep_us(uint64_t us)
{
    struct timespec ts = {.tv_sec = (time_t)(us / 1000000u), .tv_nsec = (long)(us % 1000000u) * 1000L};
    while (nanosleep(&ts, &ts) && errno == EINTR) {}
}

/* GET path from ip:port in netns; 0 if 200, and the body into *body (caller frees) if asked. */
static int ef_meo_get(const char *netns, uint32_t ip, uint16_t port, const char *path, uint32_t timeout_ms,
                      char **body)
{
    ef_httpc_resp r;
    int err = ef_httpc_request(&r, netns, ip, port, "GET", path, NULL, NULL, 0, timeout_ms);
    if (err) return err;
    if (r.status != 200) {
        ef_httpc_resp_free(&r);
        return EF_EPROTO;
    }
    if (body) {
        *body = r.body;
        r.body = NULL;
    }
    ef_httpc_resp_free(&r);
    return 0;
}

/* true if a /health answer comes from the app with this pid (not another app
 * that holds the port on a shared host). */
static int ef_meo_health_is(const char *body, pid_t pid)
{
    json_error_t je;
    json_t *j = json_loads(body, 0, &je);
    json_t *p = j ? json_object_get(j, "pid") : NULL;
    int ok = json_is_integer(p) && json_integer_value(p) == (json_int_t)pid;
    json_decref(j);
    return ok;
}

/* Starts `edgefed app serve` for this MEC system and waits until it answers
 * /health, trying further ports when one is taken. relay: the consumer's own app
 * (loopback only, /relay on); else a deployed service (netns: all addresses of
 * the namespace, the overlay address arrives at connect; process: the underlay
 * address). *reserve (under mu) holds the port while it starts. */
static int ef_meo_start_app(ef_meo *meo, const char *name, const char *kind, int relay, uint16_t *reserve,
                            pid_t *pid_out, uint16_t *port_out)
{
    const char *ns = meo->kind == EF_MEO_NETNS ? meo->netns : NULL;
    uint32_t listen_ip = relay ? 0x7f000001u : meo->kind == EF_MEO_NETNS ? 0 : meo->underlay_ip;
    uint32_t probe_ip = listen_ip ? listen_ip : 0x7f000001u;
    uint64_t t0 = ef_now_mono_us();
    int err = EF_EIO;
    *pid_out = -1;
    *port_out = 0;
    for (int attempt = 0; attempt < EF_MEO_START_ATTEMPTS; attempt++) {
        uint16_t port = ef_meo_next_port(meo);
        if (!port) { err = EF_EFULL; break; }
        char listen[32], lip[EF_MEO_IP_STR_MAX];
        ef_meo_ip_format(lip, listen_ip);
        snprintf(listen, sizeof listen, "%s:%u", lip, port);
        char *argv[16] = {meo->app_path, "app", "serve", "--listen", listen, "--name", (char *)name,
                          "--kind", (char *)kind, "--mec", meo->mec, "--exit-with-parent",
                          relay ? "--relay" : NULL, NULL};
        pthread_mutex_lock(&meo->mu);
        *reserve = port;  /* against concurrent starts */
        pthread_mutex_unlock(&meo->mu);
        pid_t pid;
        if ((err = ef_proc_spawn(&pid, ns, argv, 0))) break;
        /* Wait until the app answers /health, or exits (port taken: try the next). */
        uint64_t deadline = t0 + (uint64_t)EF_MEO_DEPLOY_TIMEOUT_MS * 1000u, wait_us = 1000;
        err = EF_ETIMEOUT;
        while (ef_now_mono_us() < deadline) {
            if (ef_proc_exited(pid, NULL)) { pid = -1; err = EF_EIO; break; }
            char *body = NULL;
            int hr = ef_meo_get(ns, probe_ip, port, "/health", 1000, &body);
            int mine = !hr && ef_meo_health_is(body, pid);
            free(body);
            if (mine) { err = 0; break; }
            ef_sleep_us(wait_us);
            if (wait_us < 20000) wait_us *= 2;
        }
        if (!err) {
            *pid_out = pid;
            *port_out = port;
            return 0;
        }
        if (pid > 0) ef_proc_stop(pid, EF_MEO_STOP_GRACE_MS);
        if (err != EF_EIO) break;
        EF_LOGI(EF_MEO_LOG, "%s: app %s exited at start on port %u, retrying", meo->mec, name, port);
    }
    pthread_mutex_lock(&meo->mu);
    *reserve = 0;
    pthread_mutex_unlock(&meo->mu);
    return err;
}

/* The consumer's own app: started once, restarted if it died. 0 and its port, or an error. */
static int ef_meo_local_app(ef_meo *meo, uint16_t *port)
{
    pthread_mutex_lock(&meo->app_mu);
    int err = 0;
    if (meo->local_pid > 0 && ef_proc_exited(meo->local_pid, NULL)) {
        EF_LOGW(EF_MEO_LOG, "%s: the consumer app exited; restarting it", meo->mec);
        meo->local_pid = -1;
        pthread_mutex_lock(&meo->mu);
        meo->local_port = 0;
        pthread_mutex_unlock(&meo->mu);
    }
    if (meo->local_pid <= 0) {
        char name[EF_MEO_NAME_MAX + 8];
        snprintf(name, sizeof name, "%s-app", meo->mec);
        pid_t pid;
        uint16_t p;
        err = ef_meo_start_app(meo, name, "consumer", 1, &meo->local_port, &pid, &p);
        if (!err) meo->local_pid = pid;
    }
    *port = meo->local_port;
    pthread_mutex_unlock(&meo->app_mu);
    return err;
}

int ef_meo_deploy(ef_meo *meo, const char *service_id, const char *kind, const ef_meo_ep *cons_ep,
                  ef_meo_ep *prov_ep)
{
    EF_ASSERT(meo && prov_ep);
    memset(prov_ep, 0, sizeof *prov_ep);
    if (!kind || !ef_meo_name_ok(kind) || ef_meo_ep_valid(cons_ep)) return EF_EINVAL;
    ef_meo_svc *s;
    int err = ef_meo_acquire(meo, service_id, 1, &s);
    if (err) return err;
    if (s->pid > 0) {
        ef_meo_release(meo, s, 0);
        return EF_EEXIST;
    }
    uint64_t t0 = ef_now_mono_us();
    pid_t pid = -1;
    uint16_t port = 0;
    err = ef_meo_start_app(meo, service_id, kind, 0, &s->port, &pid, &port);
    s->pid = pid;
    if (err) {
        if (s->pid > 0) ef_proc_stop(s->pid, EF_MEO_STOP_GRACE_MS);
        s->pid = -1;
        pthread_mutex_lock(&meo->mu);
        s->port = 0;
        pthread_mutex_unlock(&meo->mu);
        EF_LOGW(EF_MEO_LOG, "%s: deploy %s failed: %s", meo->mec, service_id, ef_strerror(err));
        ef_meo_release(meo, s, ef_meo_svc_empty(s));
        return err;
    }
    *prov_ep = *cons_ep;
    prov_ep->underlay_ip = meo->underlay_ip;
    /* The provider takes host .1 or .2 of the consumer's subnet, whichever the
     * consumer does not use (a valid endpoint has prefix <= 30: both exist). */
    uint32_t cons_host = cons_ep->overlay_ip - cons_ep->overlay_net;
    prov_ep->overlay_ip = cons_ep->overlay_net + (cons_host == 1 ? 2 : 1);
    EF_ASSERT(ef_meo_ep_valid(prov_ep) == 0);
    prov_ep->app_port = s->port;
    s->times.deploy_us = ef_now_mono_us() - t0;
    EF_LOGI(EF_MEO_LOG, "%s: deployed %s (%s) port %u in %.1f ms", meo->mec, service_id, kind, s->port,
            s->times.deploy_us / 1000.0);
    ef_meo_release(meo, s, 0);
    return 0;
}

/* ---- connect (both sides) ---- */

static int ef_meo_same_tunnel(const ef_meo_ep *a, const ef_meo_ep *b)
{
    return a->vni == b->vni && a->vxlan_port == b->vxlan_port && a->overlay_net == b->overlay_net &&
           a->overlay_prefix == b->overlay_prefix;
}

int ef_meo_connect(ef_meo *meo, const char *service_id, const ef_meo_ep *local, const ef_meo_ep *remote)
{
    EF_ASSERT(meo);
    if (ef_meo_ep_valid(local) || ef_meo_ep_valid(remote)) return EF_EINVAL;
    if (!ef_meo_same_tunnel(local, remote) || local->overlay_ip == remote->overlay_ip) return EF_EINVAL;
    if (local->underlay_ip != meo->underlay_ip) return EF_EINVAL;
    ef_meo_svc *s;
    int err = ef_meo_acquire(meo, service_id, 1, &s);
    if (err) return err;
    if (s->connected) {
        int same = !memcmp(&s->local, local, sizeof *local) && !memcmp(&s->remote, remote, sizeof *remote);
        ef_meo_release(meo, s, 0);
        return same ? 0 : EF_EEXIST;
    }
    /* No two tunnels of this MEC system on the same VNI and port (netns only:
     * the process driver builds no tunnel). */
    pthread_mutex_lock(&meo->mu);
    for (size_t i = 0; i < EF_MEO_SERVICES_MAX && !err && meo->kind == EF_MEO_NETNS; i++) {
        const ef_meo_svc *o = &meo->svcs[i];
        if (o != s && o->used && o->connected && o->local.vni == local->vni &&
            o->local.vxlan_port == local->vxlan_port)
            err = EF_EEXIST;
    }
    pthread_mutex_unlock(&meo->mu);
    uint64_t t0 = ef_now_mono_us();
    if (!err && meo->kind == EF_MEO_NETNS) {
        char dev[16], peer[EF_MEO_IP_STR_MAX], own[EF_MEO_IP_STR_MAX], ovl[EF_MEO_IP_STR_MAX];
        snprintf(dev, sizeof dev, "efv%u", local->vni);
        ef_meo_ip_format(peer, remote->underlay_ip);
        ef_meo_ip_format(own, local->underlay_ip);
        ef_meo_ip_format(ovl, local->overlay_ip);
        char script[EF_MEO_BATCH_MAX], via[40] = "";
        if (meo->underlay_dev[0]) snprintf(via, sizeof via, " dev %s", meo->underlay_dev);
        int n = snprintf(script, sizeof script,
                         "link add %s type vxlan id %u remote %s local %s dstport %u%s\n"
                         "addr add %s/%u dev %s\n"
                         "link set %s up\n",
                         dev, local->vni, peer, own, local->vxlan_port, via, ovl, local->overlay_prefix, dev, dev);
        EF_ASSERT(n > 0 && (size_t)n < sizeof script);
        err = ef_meo_ip_batch(meo->netns, script);
        if (err) {
            /* Partly made (e.g. address failed): remove the device; ignore a missing one. */
            char del[64];
            snprintf(del, sizeof del, "link del %s\n", dev);
            (void)ef_meo_ip_batch(meo->netns, del);
            err = EF_EIO;
        } else {
            memcpy(s->dev, dev, sizeof dev);
        }
    }
    if (!err) {
        s->connected = 1;
        s->local = *local;
        s->remote = *remote;
        s->times.connect_us = ef_now_mono_us() - t0;
        EF_LOGI(EF_MEO_LOG, "%s: connected %s (vni %u) in %.1f ms", meo->mec, service_id, local->vni,
                s->times.connect_us / 1000.0);
    }
    ef_meo_release(meo, s, ef_meo_svc_empty(s));
    return err;
}

/* ---- check (consumer) ---- */

/* GET path from the consumer's app at 127.0.0.1:port (in netns): 0 and the body
 * on 200; EF_ENET when it answers 502 (the peer's app is not reachable). */
static int ef_meo_relay(const char *netns, uint16_t port, const char *path, uint32_t timeout_ms, char **body)
{
    ef_httpc_resp r;
    int err = ef_httpc_request(&r, netns, 0x7f000001u, port, "GET", path, NULL, NULL, 0, timeout_ms);
    if (err) return err;
    if (r.status == 200) {
        *body = r.body;
        r.body = NULL;
    } else {
        err = r.status == 502 ? EF_ENET : EF_EPROTO;
    }
    ef_httpc_resp_free(&r);
    return err;
}

/* 0 if body is the app's answer for service_id. */
static int ef_meo_answer_ok(const char *body, const char *service_id)
{
    json_error_t je;
    json_t *j = json_loads(body, 0, &je);
    if (!j) return EF_EPROTO;
    const char *svc = json_string_value(json_object_get(j, "service"));
    const char *app = json_string_value(json_object_get(j, "app"));
    int ok = svc && app && !strcmp(svc, service_id) && !strcmp(app, "edgefed-app") &&
             json_is_integer(json_object_get(j, "count"));
    json_decref(j);
    return ok ? 0 : EF_EPROTO;
}

int ef_meo_check(ef_meo *meo, const char *service_id, const ef_meo_ep *remote, uint32_t timeout_ms)
{
    EF_ASSERT(meo);
    if (ef_meo_ep_valid(remote) || remote->app_port == 0) return EF_EINVAL;
    ef_meo_svc *s;
    int err = ef_meo_acquire(meo, service_id, 1, &s);
    if (err) return err;
    const char *ns = meo->kind == EF_MEO_NETNS ? meo->netns : NULL;
    uint32_t ip = meo->kind == EF_MEO_NETNS ? remote->overlay_ip : remote->underlay_ip;
    uint64_t t0 = ef_now_mono_us(), deadline = t0 + (uint64_t)timeout_ms * 1000u, wait_us = 1000;
    int good = 0, last = EF_ETIMEOUT;
    char ip_s[EF_MEO_IP_STR_MAX], relay[64];
    ef_meo_ip_format(ip_s, ip);
    snprintf(relay, sizeof relay, "/relay?to=%s:%u", ip_s, remote->app_port);
    while (good < EF_MEO_CHECK_REQUESTS) {
        uint64_t now = ef_now_mono_us();
        if (now >= deadline) break;
        uint32_t left_ms = (uint32_t)((deadline - now + 999) / 1000);
        char *body = NULL;
        /* App to app: the consumer's app (loopback of this MEC system) asks the
         * provider's app; 502 means it could not reach it (yet). */
        uint16_t lport;
        int rc = ef_meo_local_app(meo, &lport);
        if (!rc) rc = ef_meo_relay(ns, lport, relay, left_ms, &body);
        if (!rc) rc = ef_meo_answer_ok(body, service_id);
        free(body);
        if (!rc) {
            good++;
            continue;
        }
        good = 0;
        last = rc;
        ef_sleep_us(wait_us);
        if (wait_us < 50000) wait_us *= 2;
    }
    if (good >= EF_MEO_CHECK_REQUESTS) {
        s->times.check_us = ef_now_mono_us() - t0;
        EF_LOGI(EF_MEO_LOG, "%s: app-to-app traffic for %s flows (%.1f ms)", meo->mec, service_id,
                s->times.check_us / 1000.0);
        err = 0;
    } else {
        err = last == EF_EPROTO ? EF_EPROTO : EF_ETIMEOUT;
        EF_LOGW(EF_MEO_LOG, "%s: check %s (%s:%u%s%s) failed: %s", meo->mec, service_id, ip_s, remote->app_port,
                ns ? " from netns " : "", ns ? ns : "", ef_strerror(last));
    }
    ef_meo_release(meo, s, ef_meo_svc_empty(s));
    return err;
}

/* ---- teardown ---- */

int ef_meo_teardown(ef_meo *meo, const char *service_id)
{
    EF_ASSERT(meo);
    ef_meo_svc *s;
    int err = ef_meo_acquire(meo, service_id, 0, &s);
    if (err == EF_ENOTFOUND) return 0;
    if (err) return err;
    int rc = 0;
    if (s->pid > 0) ef_proc_stop(s->pid, EF_MEO_STOP_GRACE_MS);
    s->pid = -1;
    if (s->dev[0]) {
        char del[64];
        snprintf(del, sizeof del, "link del %s\n", s->dev);
        if (ef_meo_ip_batch(meo->netns, del)) {
            /* Already gone (someone else deleted it, or its netns vanished) is fine. */
            char show[64];
            snprintf(show, sizeof show, "link show %s\n", s->dev);
            if (ef_meo_netns_exists(meo->netns) && ef_meo_ip_batch(meo->netns, show) == 0) rc = EF_EIO;
        }
    }
    EF_LOGI(EF_MEO_LOG, "%s: tore down %s", meo->mec, service_id);
    ef_meo_release(meo, s, 1);
    return rc;
}

int ef_meo_times_get(ef_meo *meo, const char *service_id, ef_meo_times *out)
{
    EF_ASSERT(meo && out);
    memset(out, 0, sizeof *out);
    if (!ef_meo_name_ok(service_id)) return EF_EINVAL;
    pthread_mutex_lock(&meo->mu);
    ef_meo_svc *s = ef_meo_find(meo, service_id);
    if (s) *out = s->times;
    pthread_mutex_unlock(&meo->mu);
    return s ? 0 : EF_ENOTFOUND;
}
