/* ef_mef.c: the MEF agent (consumer and provider) driven by committed federation events; see ef_mef.h. */
#include "agents/ef_mef.h"

#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/ef_codec.h"
#include "base/ef_jcfg.h"
#include "base/ef_log.h"

#define MEF_LOG "mef"
#define MEF_TAG_MAX 24
#define MEF_CONTRACT "federation"
#define MEF_PROV_ID_MAX 64   /* an id on the prov contract (EF_PROV_ID_MAX) */

/* Where one federation stands, from this agent's side. */
typedef enum mef_st {
    MEF_FREE = 0,
    MEF_PREPARING,   /* consumer: MEO prepare queued */
    MEF_ANNOUNCING,  /* consumer: announce submitted, not yet committed */
    MEF_OPEN,        /* consumer: announced, collecting offers */
    MEF_AWARDED,     /* consumer: waiting for the deployment */
    MEF_DEPLOYING,   /* provider: MEO deploy queued or running */
    MEF_DEPLOYED,    /* provider: deployment confirmed (submitted or committed) */
    MEF_CONNECTING,  /* consumer: MEO connect + check queued or running */
    MEF_CONFIRMING,  /* consumer: traffic seen, confirm_connectivity submitted */
    MEF_RUNNING,     /* both: connected and paid; result given; until terminated */
} mef_st;

enum { T_ANNOUNCED, T_OFFERS, T_AWARDED, T_DEPLOYED, T_TRAFFIC, T_CONFIRMED, T_COUNT_ };
static const char *const mef_t_names[T_COUNT_] = {"announced", "offers", "awarded",
                                                  "deployed", "traffic", "confirmed"};

typedef struct mef_fed {
    mef_st st;
    uint32_t gen;                 /* bumped on reuse, so a stale job sees it */
    bool consumer;
    bool result_done;
    uint64_t close_sent_ms, cancel_sent_ms;  /* wall ms a close/cancel was last sent; 0 = never */
    uint64_t id;                  /* ledger id (0 until announced) */
    char tag[MEF_TAG_MAX];        /* MEO service id */
    char kind[65];
    ef_meo_ep cons_ep, prov_ep;
    uint64_t deadline_ms, deploy_deadline_ms;
    uint64_t start_us, start_ms;
    int64_t t[T_COUNT_];          /* us since start; -1 = not reached */
    uint64_t price, paid, bids;
    char winner[2 * EF_PUB_SIZE + 1];
    char peer[2 * EF_PUB_SIZE + 1];   /* provider: the consumer's account */
    bool placed, tunnelled;           /* a deploy / connect provenance record was sent */
} mef_fed;

typedef enum mef_job_kind { J_ANNOUNCE, J_DEPLOY, J_CONNECT, J_TEARDOWN } mef_job_kind;

typedef struct mef_job {
    mef_job_kind kind;
    int slot;
    uint32_t gen;
    char tag[MEF_TAG_MAX];
} mef_job;

struct ef_mef {
    ef_mef_config cfg;
    ef_pub self;
    char self_hex[2 * EF_PUB_SIZE + 1];
    char host_id[MEF_PROV_ID_MAX + 1];   /* this MEC system as a device on the prov contract */
    ef_mef_hooks hooks;
    ef_meo *meo;
    pthread_mutex_t mu;           /* guards everything below */
    pthread_cond_t cv;
    mef_fed feds[EF_MEF_FEDS_MAX];
    mef_job jobs[EF_MEF_JOBS_MAX];
    size_t job_head, job_len;
    bool stop;
    pthread_t workers[EF_MEF_WORKERS];
    size_t workers_len;
    uint64_t next_local;
    uint64_t runs_done;
    uint64_t ops_seen, ended_seen;   /* operator_registered; terminated/expired/cancelled */
    pthread_t timer;
    bool timer_started;
    pthread_cond_t timer_cv;         /* signalled when a deadline is added or on stop */
    unsigned n_connected, n_failed;
    pthread_mutex_t file_mu;
    int results_fd;
    int trace_fd;
};

/* ---------------------------------------------------------------- config */

static int cfg_fail(char *err, size_t cap, const char *what)
{
    return ef_jcfg_fail(err, cap, "agents.mef: %s", what);
}

void ef_mef_config_fix(ef_mef_config *cfg)
{
    cfg->meo.mec_name = cfg->name;
    cfg->meo.netns = cfg->netns[0] ? cfg->netns : NULL;
    cfg->meo.underlay_ip = cfg->underlay_ip[0] ? cfg->underlay_ip : NULL;
    cfg->meo.underlay_dev = cfg->underlay_dev[0] ? cfg->underlay_dev : NULL;
    cfg->meo.app_path = cfg->app_path[0] ? cfg->app_path : NULL;
    cfg->meo.overlay_pool = cfg->overlay_pool[0] ? cfg->overlay_pool : NULL;
}

int ef_mef_config_parse(ef_mef_config *cfg, const json_t *obj, char *err, size_t cap)
{
    static const char *const top[] = {"name", "location", "roles", "register", "results", "trace", "pricing",
                                      "consumer", "meo", "provenance", NULL};
    static const char *const pr[] = {"base_per_hour", "utc_offset_min", "tod", NULL};
    static const char *const co[] = {"service", "offers", "bid_window_ms", "deploy_window_ms", "max_price",
                                     "deposit", "check_timeout_ms", "start_after_operators", "runs",
                                     "run_size", "hold", NULL};
    static const char *const me[] = {"driver", "netns", "underlay_ip", "underlay_dev", "app_path", "port_min",
                                     "port_max", "overlay_pool", "vni_base", "vxlan_port", NULL};
    memset(cfg, 0, sizeof *cfg);
    cfg->consumer = cfg->provider = cfg->do_register = cfg->provenance = true;
    cfg->offers = 1;
    cfg->bid_window_ms = 10000;
    cfg->deploy_window_ms = 60000;
    cfg->max_price = 1000;
    cfg->check_timeout_ms = 15000;
    cfg->runs = 1;
    cfg->run_size = 1;
    snprintf(cfg->service, sizeof cfg->service, "app");
    snprintf(cfg->driver, sizeof cfg->driver, "process");
    snprintf(cfg->location, sizeof cfg->location, "ES");
    snprintf(cfg->name, sizeof cfg->name, "mec");

    if (!json_is_object(obj)) return cfg_fail(err, cap, "not an object");
    if (ef_jcfg_only(obj, top, NULL, 0)) return cfg_fail(err, cap, "unknown field");
    if (ef_jcfg_str(obj, "name", false, cfg->name, sizeof cfg->name, NULL, 0) ||
        ef_jcfg_str(obj, "location", false, cfg->location, sizeof cfg->location, NULL, 0) ||
        ef_jcfg_str(obj, "results", false, cfg->results_path, sizeof cfg->results_path, NULL, 0) ||
        ef_jcfg_str(obj, "trace", false, cfg->trace_path, sizeof cfg->trace_path, NULL, 0))
        return cfg_fail(err, cap, "name, location or results: not a string or too long");
    if (ef_jcfg_bool(obj, "register", false, &cfg->do_register, NULL, 0))
        return cfg_fail(err, cap, "register: not a boolean");
    if (ef_jcfg_bool(obj, "provenance", false, &cfg->provenance, NULL, 0))
        return cfg_fail(err, cap, "provenance: not a boolean");
    json_t *roles = json_object_get(obj, "roles");
    if (roles) {
        if (!json_is_array(roles) || json_array_size(roles) == 0) return cfg_fail(err, cap, "roles: not a list");
        cfg->consumer = cfg->provider = false;
        for (size_t i = 0; i < json_array_size(roles); i++) {
            const char *r = json_string_value(json_array_get(roles, i));
            if (r && !strcmp(r, "consumer")) cfg->consumer = true;
            else if (r && !strcmp(r, "provider")) cfg->provider = true;
            else return cfg_fail(err, cap, "roles: consumer or provider");
        }
    }
    if (ef_pricing_default(&cfg->pricing, cfg->location))
        return cfg_fail(err, cap, "location: no built-in tariff for this code (see edgefed mef --help)");
    json_t *p = json_object_get(obj, "pricing");
    if (p) {
        if (ef_jcfg_only(p, pr, NULL, 0)) return cfg_fail(err, cap, "pricing: unknown field");
        int bad = ef_jcfg_u64(p, "base_per_hour", false, 0, EF_JCFG_INT_MAX, &cfg->pricing.base_per_hour,
                              NULL, 0);
        json_t *off = json_object_get(p, "utc_offset_min");
        if (off) {
            if (!json_is_integer(off)) return cfg_fail(err, cap, "pricing.utc_offset_min: not an integer");
            cfg->pricing.utc_offset_min = (int32_t)json_integer_value(off);
        }
        json_t *tod = json_object_get(p, "tod");
        if (tod && (!json_is_string(tod) || ef_pricing_parse_tod(cfg->pricing.tod_permille, json_string_value(tod))))
            return cfg_fail(err, cap, "pricing.tod: 24 comma-separated factors");
        if (bad || ef_pricing_valid(&cfg->pricing)) return cfg_fail(err, cap, "pricing: invalid policy");
    }
    json_t *c = json_object_get(obj, "consumer");
    cfg->hold = true;
    if (c) {
        if (ef_jcfg_only(c, co, NULL, 0)) return cfg_fail(err, cap, "consumer: unknown field");
        uint64_t check_ms = cfg->check_timeout_ms;
        if (ef_jcfg_str(c, "service", false, cfg->service, sizeof cfg->service, NULL, 0) ||
            ef_jcfg_u64(c, "offers", false, 0, EF_JCFG_INT_MAX, &cfg->offers, NULL, 0) ||
            ef_jcfg_u64(c, "bid_window_ms", false, 0, EF_JCFG_INT_MAX, &cfg->bid_window_ms, NULL, 0) ||
            ef_jcfg_u64(c, "deploy_window_ms", false, 0, EF_JCFG_INT_MAX, &cfg->deploy_window_ms, NULL, 0) ||
            ef_jcfg_u64(c, "max_price", false, 0, EF_JCFG_INT_MAX, &cfg->max_price, NULL, 0) ||
            ef_jcfg_u64(c, "deposit", false, 0, EF_JCFG_INT_MAX, &cfg->deposit, NULL, 0) ||
            ef_jcfg_u64(c, "check_timeout_ms", false, 0, EF_JCFG_INT_MAX, &check_ms, NULL, 0) ||
            ef_jcfg_u64(c, "start_after_operators", false, 0, EF_JCFG_INT_MAX, &cfg->start_after_operators,
                        NULL, 0) ||
            ef_jcfg_u64(c, "runs", false, 0, EF_JCFG_INT_MAX, &cfg->runs, NULL, 0) ||
            ef_jcfg_u64(c, "run_size", false, 0, EF_JCFG_INT_MAX, &cfg->run_size, NULL, 0) ||
            ef_jcfg_bool(c, "hold", false, &cfg->hold, NULL, 0))
            return cfg_fail(err, cap, "consumer: a field has the wrong type or is too long");
        cfg->check_timeout_ms = (uint32_t)EF_MIN(check_ms, 600000u);
    }
    if (!cfg->deposit) cfg->deposit = cfg->max_price;
    if (cfg->runs < 1 || cfg->run_size < 1) return cfg_fail(err, cap, "consumer: runs and run_size >= 1");
    if (cfg->offers < 1 || cfg->max_price < 1 || cfg->deposit < cfg->max_price || !ef_meo_name_ok(cfg->service))
        return cfg_fail(err, cap, "consumer: offers >= 1, max_price >= 1, deposit >= max_price, service a name");
    json_t *m = json_object_get(obj, "meo");
    if (m) {
        if (ef_jcfg_only(m, me, NULL, 0)) return cfg_fail(err, cap, "meo: unknown field");
        /* Any non-negative integer, cut to the field's width. */
        uint64_t port_min = cfg->meo.port_min, port_max = cfg->meo.port_max, vni_base = cfg->meo.vni_base,
                 vxlan_port = cfg->meo.vxlan_port;
        if (ef_jcfg_str(m, "driver", false, cfg->driver, sizeof cfg->driver, NULL, 0) ||
            ef_jcfg_str(m, "netns", false, cfg->netns, sizeof cfg->netns, NULL, 0) ||
            ef_jcfg_str(m, "underlay_ip", false, cfg->underlay_ip, sizeof cfg->underlay_ip, NULL, 0) ||
            ef_jcfg_str(m, "underlay_dev", false, cfg->underlay_dev, sizeof cfg->underlay_dev, NULL, 0) ||
            ef_jcfg_str(m, "app_path", false, cfg->app_path, sizeof cfg->app_path, NULL, 0) ||
            ef_jcfg_str(m, "overlay_pool", false, cfg->overlay_pool, sizeof cfg->overlay_pool, NULL, 0) ||
            ef_jcfg_u64(m, "port_min", false, 0, EF_JCFG_INT_MAX, &port_min, NULL, 0) ||
            ef_jcfg_u64(m, "port_max", false, 0, EF_JCFG_INT_MAX, &port_max, NULL, 0) ||
            ef_jcfg_u64(m, "vni_base", false, 0, EF_JCFG_INT_MAX, &vni_base, NULL, 0) ||
            ef_jcfg_u64(m, "vxlan_port", false, 0, EF_JCFG_INT_MAX, &vxlan_port, NULL, 0))
            return cfg_fail(err, cap, "meo: a field has the wrong type or is too long");
        cfg->meo.port_min = (uint16_t)port_min;
        cfg->meo.port_max = (uint16_t)port_max;
        cfg->meo.vni_base = (uint32_t)vni_base;
        cfg->meo.vxlan_port = (uint16_t)vxlan_port;
    }
    if (cfg->overlay_pool[0]) {
        char *slash = strchr(cfg->overlay_pool, '/');
        if (!slash) return cfg_fail(err, cap, "meo.overlay_pool: CIDR a.b.c.d/p");
        cfg->meo.overlay_pool_prefix = (uint8_t)atoi(slash + 1);
        *slash = 0;
    }
    if (strcmp(cfg->driver, "process") && strcmp(cfg->driver, "netns"))
        return cfg_fail(err, cap, "meo.driver: process or netns");
    ef_mef_config_fix(cfg);
    return 0;
}

/* ---------------------------------------------------------------- endpoints */

static json_t *mef_ep_json(const ef_meo_ep *ep, bool tunnel)
{
    char ul[EF_MEO_IP_STR_MAX], net[EF_MEO_IP_STR_MAX], ov[EF_MEO_IP_STR_MAX], subnet[32];
    ef_meo_ip_format(ul, ep->underlay_ip);
    json_t *o = json_pack("{s:s, s:I}", "address", ul, "port", (json_int_t)ep->vxlan_port);
    if (!o || !tunnel) return o;
    ef_meo_ip_format(net, ep->overlay_net);
    ef_meo_ip_format(ov, ep->overlay_ip);
    snprintf(subnet, sizeof subnet, "%s/%u", net, ep->overlay_prefix);
    int rc = json_object_set_new(o, "vni", json_integer(ep->vni));
    rc |= json_object_set_new(o, "subnet", json_string(subnet));
    rc |= json_object_set_new(o, "overlay_ip", json_string(ov));
    if (ep->app_port) rc |= json_object_set_new(o, "app_port", json_integer(ep->app_port));
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Reads a full tunnel endpoint (as written by mef_ep_json with tunnel). */
static int mef_ep_parse(ef_meo_ep *ep, const json_t *o)
{
    const char *ul = json_string_value(json_object_get(o, "address"));
    const char *subnet = json_string_value(json_object_get(o, "subnet"));
    const char *ov = json_string_value(json_object_get(o, "overlay_ip"));
    json_int_t port = json_integer_value(json_object_get(o, "port"));
    json_int_t vni = json_integer_value(json_object_get(o, "vni"));
    json_int_t app = json_integer_value(json_object_get(o, "app_port"));
    char net[32];
    memset(ep, 0, sizeof *ep);
    if (!ul || !subnet || !ov || strlen(subnet) >= sizeof net) return EF_EINVAL;
    snprintf(net, sizeof net, "%s", subnet);
    char *slash = strchr(net, '/');
    if (!slash) return EF_EINVAL;
    *slash = 0;
    int prefix = atoi(slash + 1);
    if (ef_meo_ip_parse(&ep->underlay_ip, ul) || ef_meo_ip_parse(&ep->overlay_net, net) ||
        ef_meo_ip_parse(&ep->overlay_ip, ov) || prefix < 0 || prefix > 32 || port < 1 || port > 65535 ||
        vni < 1 || app < 0 || app > 65535)
        return EF_EINVAL;
    ep->overlay_prefix = (uint8_t)prefix;
    ep->vxlan_port = (uint16_t)port;
    ep->vni = (uint32_t)vni;
    ep->app_port = (uint16_t)app;
    return ef_meo_ep_valid(ep);
}

/* ---------------------------------------------------------------- helpers */

static int64_t mef_since(const mef_fed *f)
{
    return (int64_t)(ef_now_mono_us() - f->start_us);
}

static void mef_mark(mef_fed *f, int which)
{
    if (f->t[which] < 0) f->t[which] = mef_since(f);
}

static int mef_find_id(ef_mef *mef, uint64_t id, bool consumer)
{
    for (int i = 0; i < EF_MEF_FEDS_MAX; i++)
        if (mef->feds[i].st != MEF_FREE && mef->feds[i].id == id && mef->feds[i].consumer == consumer) return i;
    return -1;
}

static int mef_alloc(ef_mef *mef, bool consumer)
{
    for (int i = 0; i < EF_MEF_FEDS_MAX; i++) {
        mef_fed *f = &mef->feds[i];
        if (f->st != MEF_FREE) continue;
        uint32_t gen = f->gen + 1;
        memset(f, 0, sizeof *f);
        f->gen = gen;
        f->consumer = consumer;
        f->start_us = ef_now_mono_us();
        f->start_ms = ef_now_wall_ms();
        for (int t = 0; t < T_COUNT_; t++) f->t[t] = -1;
        return i;
    }
    return -1;
}

/* Under mu. false if the queue is full. */
static bool mef_queue(ef_mef *mef, mef_job_kind kind, int slot)
{
    if (mef->job_len >= EF_MEF_JOBS_MAX) return false;
    mef_job *j = &mef->jobs[(mef->job_head + mef->job_len) % EF_MEF_JOBS_MAX];
    j->kind = kind;
    j->slot = slot;
    j->gen = mef->feds[slot].gen;
    memcpy(j->tag, mef->feds[slot].tag, MEF_TAG_MAX);
    mef->job_len++;
    pthread_cond_signal(&mef->cv);
    return true;
}

static int mef_submit(ef_mef *mef, const char *method, json_t *args)
{
    int rc = args ? mef->hooks.submit(mef->hooks.arg, MEF_CONTRACT, method, args) : EF_ENOMEM;
    if (rc) EF_LOGW(MEF_LOG, "%s: submit %s failed: %s", mef->cfg.name, method, ef_strerror(rc));
    json_decref(args);
    return rc;
}

/* Provenance (seed 004): an orchestration record on the prov contract, submitted
 * like the federation's transactions (not under mu). args consumed. */
static void mef_prov(ef_mef *mef, const char *method, json_t *args)
{
    if (!mef->cfg.provenance) {
        json_decref(args);
        return;
    }
    int rc = args ? mef->hooks.submit(mef->hooks.arg, "prov", method, args) : EF_ENOMEM;
    if (rc) EF_LOGW(MEF_LOG, "%s: provenance record %s not submitted: %s", mef->cfg.name, method, ef_strerror(rc));
    json_decref(args);
}

/* The prov names of a federation: the deployed container svc-TAG, activities TAG-WHAT. */
static void mef_prov_names(char cont[MEF_PROV_ID_MAX + 1], char act[MEF_PROV_ID_MAX + 1], const char *tag,
                           const char *what)
{
    snprintf(cont, MEF_PROV_ID_MAX + 1, "svc-%.56s", tag);
    snprintf(act, MEF_PROV_ID_MAX + 1, "%.48s-%s", tag, what);
}

/* Builds the result of slot f (under mu). */
static json_t *mef_result(ef_mef *mef, const mef_fed *f, const char *outcome, const char *error)
{
    json_t *r = json_pack("{s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:s, s:s, s:I}", "mec", mef->cfg.name,
                          "role", f->consumer ? "consumer" : "provider", "id", (json_int_t)f->id,
                          "outcome", outcome, "price", (json_int_t)f->price, "paid", (json_int_t)f->paid,
                          "bids", (json_int_t)f->bids, "winner", f->winner, "driver", mef->cfg.driver,
                          "start_ms", (json_int_t)f->start_ms);
    if (!r) return NULL;
    if (error) json_object_set_new(r, "error", json_string(error));
    json_t *t = json_object();
    for (int i = 0; i < T_COUNT_; i++)
        if (f->t[i] >= 0) json_object_set_new(t, mef_t_names[i], json_integer(f->t[i]));
    json_object_set_new(r, "t_us", t);
    if (f->consumer && f->t[T_TRAFFIC] >= 0) {
        int64_t offers = f->t[T_OFFERS] >= 0 ? f->t[T_OFFERS] : f->t[T_AWARDED];
        json_t *s = json_pack("{s:I, s:I, s:I, s:I, s:I}", "announce_to_offers", (json_int_t)offers,
                              "award", (json_int_t)(f->t[T_AWARDED] - offers),
                              "deployment", (json_int_t)(f->t[T_DEPLOYED] - f->t[T_AWARDED]),
                              "connection", (json_int_t)(f->t[T_TRAFFIC] - f->t[T_DEPLOYED]),
                              "federation", (json_int_t)f->t[T_TRAFFIC]);
        if (s) json_object_set_new(r, "steps_us", s);
    }
    return r;
}

/* Appends obj as one JSON line to fd (if open). */
static void mef_write_line(ef_mef *mef, int fd, const json_t *obj)
{
    if (fd < 0 || !obj) return;
    char *line = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
    if (!line) return;
    size_t len = strlen(line);
    char *buf = malloc(len + 1);
    if (buf) {
        memcpy(buf, line, len);
        buf[len] = '\n';
        pthread_mutex_lock(&mef->file_mu);
        ssize_t w = write(fd, buf, len + 1);
        pthread_mutex_unlock(&mef->file_mu);
        if (w != (ssize_t)(len + 1)) EF_LOGW(MEF_LOG, "%s: results/trace write failed", mef->cfg.name);
        free(buf);
    }
    free(line);
}

/* One step of a federation for the trace file: {"wall_ms","mec","step","id",...};
 * extra (consumed, may be NULL) adds fields. Also an info log line. */
static void mef_trace(ef_mef *mef, const char *step, uint64_t id, json_t *extra)
{
    EF_LOGI(MEF_LOG, "%s: service %llu: %s", mef->cfg.name, (unsigned long long)id, step);
    if (mef->trace_fd >= 0) {
        json_t *o = extra ? extra : json_object();
        if (o) {
            json_object_set_new(o, "wall_ms", json_integer((json_int_t)ef_now_wall_ms()));
            json_object_set_new(o, "mec", json_string(mef->cfg.name));
            json_object_set_new(o, "step", json_string(step));
            json_object_set_new(o, "id", json_integer((json_int_t)id));
            mef_write_line(mef, mef->trace_fd, o);
            json_decref(o);
        }
        return;
    }
    json_decref(extra);
}

/* Gives a result to the host and the results file; r is consumed. Not under mu. */
static void mef_deliver(ef_mef *mef, json_t *r)
{
    if (!r) return;
    if (mef->hooks.on_result) mef->hooks.on_result(mef->hooks.arg, r);
    mef_write_line(mef, mef->results_fd, r);
    json_decref(r);
}

/* Under mu: records the outcome of slot i once; returns the result to deliver. */
static json_t *mef_outcome(ef_mef *mef, int i, const char *outcome, const char *error)
{
    mef_fed *f = &mef->feds[i];
    if (f->result_done) return NULL;
    f->result_done = true;
    if (!strcmp(outcome, "connected")) mef->n_connected++;
    else mef->n_failed++;
    return mef_result(mef, f, outcome, error);
}

/* Under mu: ends slot i: result (if not given yet), then a teardown job, which frees
 * the slot (at once if there is nothing to tear down). */
static json_t *mef_finish(ef_mef *mef, int i, const char *outcome, const char *error)
{
    json_t *r = mef_outcome(mef, i, outcome, error);
    mef_fed *f = &mef->feds[i];
    f->id = 0;   /* no further event matches it */
    if (f->tag[0] && mef_queue(mef, J_TEARDOWN, i)) f->st = MEF_RUNNING;
    else f->st = MEF_FREE;
    return r;
}

/* ---------------------------------------------------------------- workers */

static void mef_job_announce(ef_mef *mef, const mef_job *j)
{
    ef_meo_ep ep;
    int rc = ef_meo_prepare(mef->meo, j->tag, &ep);
    json_t *r = NULL, *args = NULL;
    pthread_mutex_lock(&mef->mu);
    mef_fed *f = &mef->feds[j->slot];
    if (f->gen != j->gen || f->st != MEF_PREPARING) goto unlock;
    if (rc) {
        r = mef_finish(mef, j->slot, "failed", "meo prepare failed");
        goto unlock;
    }
    f->cons_ep = ep;
    f->st = MEF_ANNOUNCING;
    args = json_pack("{s:{s:s, s:s}, s:o, s:I, s:I, s:I, s:I, s:I}", "requirements", "service", mef->cfg.service,
                     "instance", f->tag, "endpoint", mef_ep_json(&ep, true), "offers", (json_int_t)mef->cfg.offers,
                     "bid_window_ms", (json_int_t)mef->cfg.bid_window_ms,
                     "deploy_window_ms", (json_int_t)mef->cfg.deploy_window_ms,
                     "max_price", (json_int_t)mef->cfg.max_price, "deposit", (json_int_t)mef->cfg.deposit);
unlock:
    pthread_mutex_unlock(&mef->mu);
    if (args) mef_trace(mef, "announce_sent", 0, json_pack("{s:I, s:s}", "vni", (json_int_t)ep.vni, "instance", j->tag));
    if (args && mef_submit(mef, "announce", args)) {
        pthread_mutex_lock(&mef->mu);
        if (f->gen == j->gen && f->st == MEF_ANNOUNCING) r = mef_finish(mef, j->slot, "failed", "announce not submitted");
        pthread_mutex_unlock(&mef->mu);
    }
    mef_deliver(mef, r);
}

static void mef_job_deploy(ef_mef *mef, const mef_job *j)
{
    ef_meo_ep cons, prov;
    char kind[65];
    uint64_t id;
    pthread_mutex_lock(&mef->mu);
    mef_fed *f = &mef->feds[j->slot];
    bool ok = f->gen == j->gen && f->st == MEF_DEPLOYING;
    cons = f->cons_ep;
    id = f->id;
    memcpy(kind, f->kind, sizeof kind);
    pthread_mutex_unlock(&mef->mu);
    if (!ok) return;

    int rc = ef_meo_deploy(mef->meo, j->tag, kind, &cons, &prov);
    if (!rc) rc = ef_meo_connect(mef->meo, j->tag, &prov, &cons);
    if (rc) {
        EF_LOGW(MEF_LOG, "%s: deploy of service %" PRIu64 " failed: %s", mef->cfg.name, id, ef_strerror(rc));
        mef_submit(mef, "terminate", json_pack("{s:I, s:s}", "id", (json_int_t)id, "reason", "deployment failed"));
        return; /* the terminated event ends the slot and tears down */
    }
    pthread_mutex_lock(&mef->mu);
    if (f->gen == j->gen) {
        f->prov_ep = prov;
        f->st = MEF_DEPLOYED;
    }
    pthread_mutex_unlock(&mef->mu);
    ef_meo_times tm = {0};
    (void)ef_meo_times_get(mef->meo, j->tag, &tm);
    mef_trace(mef, "deployed_here", id, json_pack("{s:s, s:I, s:I}", "instance", j->tag, "deploy_us",
                                                  (json_int_t)tm.deploy_us, "connect_us", (json_int_t)tm.connect_us));
    char cont[MEF_PROV_ID_MAX + 1], act[MEF_PROV_ID_MAX + 1], ref[96];
    mef_prov_names(cont, act, j->tag, "deploy");
    snprintf(ref, sizeof ref, "federation/svc/%" PRIu64, id);
    json_t *pv = json_pack("{s:s, s:s, s:s, s:s, s:s}", "action", "deploy", "activity", act, "container", cont,
                           "host", mef->host_id, "ref", ref);
    pthread_mutex_lock(&mef->mu);
    if (pv && f->gen == j->gen) {
        if (f->peer[0]) json_object_set_new(pv, "on_behalf_of", json_string(f->peer));
        f->placed = true;
    }
    pthread_mutex_unlock(&mef->mu);
    mef_prov(mef, "orchestrate", pv);
    mef_submit(mef, "confirm_deployment", json_pack("{s:I, s:o}", "id", (json_int_t)id, "endpoint",
                                                    mef_ep_json(&prov, true)));
}

static void mef_job_connect(ef_mef *mef, const mef_job *j)
{
    ef_meo_ep cons, prov;
    uint64_t id;
    pthread_mutex_lock(&mef->mu);
    mef_fed *f = &mef->feds[j->slot];
    bool ok = f->gen == j->gen && f->st == MEF_CONNECTING;
    cons = f->cons_ep;
    prov = f->prov_ep;
    id = f->id;
    pthread_mutex_unlock(&mef->mu);
    if (!ok) return;

    int rc = ef_meo_connect(mef->meo, j->tag, &cons, &prov);
    if (!rc) rc = ef_meo_check(mef->meo, j->tag, &prov, mef->cfg.check_timeout_ms);
    if (rc) {
        EF_LOGW(MEF_LOG, "%s: no app-to-app traffic for service %" PRIu64 ": %s", mef->cfg.name, id,
                ef_strerror(rc));
        mef_submit(mef, "terminate", json_pack("{s:I, s:s}", "id", (json_int_t)id, "reason", "no traffic"));
        return;
    }
    pthread_mutex_lock(&mef->mu);
    if (f->gen == j->gen && f->st == MEF_CONNECTING) {
        mef_mark(f, T_TRAFFIC);
        f->st = MEF_CONFIRMING;
    }
    pthread_mutex_unlock(&mef->mu);
    ef_meo_times tm = {0};
    (void)ef_meo_times_get(mef->meo, j->tag, &tm);
    mef_trace(mef, "traffic_ok", id, json_pack("{s:s, s:I, s:I}", "instance", j->tag, "connect_us",
                                               (json_int_t)tm.connect_us, "check_us", (json_int_t)tm.check_us));
    char cont[MEF_PROV_ID_MAX + 1], act[MEF_PROV_ID_MAX + 1], ref[128], pa[EF_MEO_IP_STR_MAX];
    mef_prov_names(cont, act, j->tag, "tunnel");
    ef_meo_ip_format(pa, prov.underlay_ip);
    snprintf(ref, sizeof ref, "vxlan:%u/federation/svc/%" PRIu64 "/%s:%u", (unsigned)cons.vni, id, pa,
             (unsigned)prov.vxlan_port);
    pthread_mutex_lock(&mef->mu);
    if (f->gen == j->gen) f->tunnelled = true;
    pthread_mutex_unlock(&mef->mu);
    mef_prov(mef, "orchestrate", json_pack("{s:s, s:s, s:s, s:s}", "action", "connect", "activity", act,
                                           "container", cont, "ref", ref));
    mef_submit(mef, "confirm_connectivity", json_pack("{s:I}", "id", (json_int_t)id));
}

static void *mef_timer(void *arg);

static void *mef_worker(void *arg)
{
    ef_mef *mef = arg;
    for (;;) {
        pthread_mutex_lock(&mef->mu);
        while (!mef->stop && mef->job_len == 0) pthread_cond_wait(&mef->cv, &mef->mu);
        if (mef->stop) {
            pthread_mutex_unlock(&mef->mu);
            return NULL;
        }
        mef_job j = mef->jobs[mef->job_head];
        mef->job_head = (mef->job_head + 1) % EF_MEF_JOBS_MAX;
        mef->job_len--;
        pthread_mutex_unlock(&mef->mu);
        switch (j.kind) {
        case J_ANNOUNCE: mef_job_announce(mef, &j); break;
        case J_DEPLOY: mef_job_deploy(mef, &j); break;
        case J_CONNECT: mef_job_connect(mef, &j); break;
        case J_TEARDOWN: {
            ef_meo_teardown(mef->meo, j.tag);
            bool placed = false, tunnelled = false;
            pthread_mutex_lock(&mef->mu);
            if (mef->feds[j.slot].gen == j.gen) {
                placed = mef->feds[j.slot].placed;
                tunnelled = mef->feds[j.slot].tunnelled;
                mef->feds[j.slot].st = MEF_FREE;
            }
            pthread_mutex_unlock(&mef->mu);
            char cont[MEF_PROV_ID_MAX + 1], act[MEF_PROV_ID_MAX + 1];
            if (placed) {
                mef_prov_names(cont, act, j.tag, "teardown");
                mef_prov(mef, "orchestrate", json_pack("{s:s, s:s, s:s}", "action", "teardown", "activity", act,
                                                       "container", cont));
            }
            if (tunnelled) {
                mef_prov_names(cont, act, j.tag, "untunnel");
                mef_prov(mef, "orchestrate", json_pack("{s:s, s:s, s:s, s:s}", "action", "disconnect", "activity", act,
                                                       "container", cont, "ref", "vxlan:torn-down"));
            }
            break;
        }
        }
    }
}

/* ---------------------------------------------------------------- lifecycle */

int ef_mef_open(ef_mef **out, const ef_mef_config *cfg, const ef_pub *self, const ef_mef_hooks *hooks)
{
    int rc;
    *out = NULL;
    if (!hooks || !hooks->submit) return EF_EINVAL;
    ef_mef *mef = calloc(1, sizeof *mef);
    if (!mef) return EF_ENOMEM;
    mef->cfg = *cfg;
    ef_mef_config_fix(&mef->cfg);
    mef->self = *self;
    ef_hex(mef->self_hex, self->b, EF_PUB_SIZE);
    /* mec-NAME, NAME reduced to the prov contract's id characters */
    int hn = snprintf(mef->host_id, sizeof mef->host_id, "mec-%.56s", mef->cfg.name);
    for (int k = 4; k < hn && mef->host_id[k]; k++) {
        char c = mef->host_id[k];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'))
            mef->host_id[k] = '-';
    }
    mef->hooks = *hooks;
    mef->results_fd = -1;
    mef->trace_fd = -1;
    pthread_mutex_init(&mef->mu, NULL);
    pthread_mutex_init(&mef->file_mu, NULL);
    pthread_cond_init(&mef->cv, NULL);
    pthread_cond_init(&mef->timer_cv, NULL);
    if ((rc = ef_meo_open(&mef->meo, mef->cfg.driver, &mef->cfg.meo))) goto fail;
    if (mef->cfg.results_path[0]) {
        mef->results_fd = open(mef->cfg.results_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (mef->results_fd < 0) {
            rc = EF_EIO;
            goto fail;
        }
    }
    if (mef->cfg.trace_path[0]) {
        mef->trace_fd = open(mef->cfg.trace_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (mef->trace_fd < 0) {
            rc = EF_EIO;
            goto fail;
        }
    }
    for (size_t i = 0; i < EF_MEF_WORKERS; i++) {
        if (pthread_create(&mef->workers[i], NULL, mef_worker, mef)) {
            rc = EF_ENOMEM;
            goto fail;
        }
        mef->workers_len++;
    }
    if (pthread_create(&mef->timer, NULL, mef_timer, mef)) {
        rc = EF_ENOMEM;
        goto fail;
    }
    mef->timer_started = true;
    if (mef->cfg.do_register)
        mef_submit(mef, "register", json_pack("{s:s, s:s}", "name", mef->cfg.name, "location", mef->cfg.location));
    /* this MEC system identifies itself as a device (the host of what it deploys) */
    mef_prov(mef, "join", json_pack("{s:s, s:s, s:s, s:s}", "id", mef->host_id, "kind", "device", "owner",
                                    mef->self_hex, "key", mef->self_hex));
    EF_LOGI(MEF_LOG, "%s: agent up (%s%s%s, driver %s)", mef->cfg.name, mef->cfg.consumer ? "consumer" : "",
            mef->cfg.consumer && mef->cfg.provider ? "+" : "", mef->cfg.provider ? "provider" : "",
            mef->cfg.driver);
    *out = mef;
    return 0;
fail:
    ef_mef_close(mef);
    return rc;
}

void ef_mef_close(ef_mef *mef)
{
    if (!mef) return;
    pthread_mutex_lock(&mef->mu);
    mef->stop = true;
    pthread_cond_broadcast(&mef->cv);
    pthread_cond_broadcast(&mef->timer_cv);
    pthread_mutex_unlock(&mef->mu);
    for (size_t i = 0; i < mef->workers_len; i++) pthread_join(mef->workers[i], NULL);
    if (mef->timer_started) pthread_join(mef->timer, NULL);
    ef_meo_close(mef->meo);   /* tears down every service still up */
    if (mef->results_fd >= 0) close(mef->results_fd);
    if (mef->trace_fd >= 0) close(mef->trace_fd);
    pthread_cond_destroy(&mef->cv);
    pthread_cond_destroy(&mef->timer_cv);
    pthread_mutex_destroy(&mef->file_mu);
    pthread_mutex_destroy(&mef->mu);
    free(mef);
}

int ef_mef_announce(ef_mef *mef)
{
    if (!mef->cfg.consumer) return EF_EPERM;
    pthread_mutex_lock(&mef->mu);
    int i = mef_alloc(mef, true);
    int rc = 0;
    if (i < 0) {
        rc = EF_EFULL;
        goto out;
    }
    mef_fed *f = &mef->feds[i];
    f->st = MEF_PREPARING;
    /* the instance name both sides use with the MEO (and the app answers with) */
    snprintf(f->tag, sizeof f->tag, "i%.8s-%" PRIu64, mef->self_hex, ++mef->next_local);
    snprintf(f->kind, sizeof f->kind, "%s", mef->cfg.service);
    if (!mef_queue(mef, J_ANNOUNCE, i)) {
        f->st = MEF_FREE;
        rc = EF_EFULL;
    }
out:
    pthread_mutex_unlock(&mef->mu);
    return rc;
}

void ef_mef_counts(ef_mef *mef, unsigned *active, unsigned *connected, unsigned *failed)
{
    pthread_mutex_lock(&mef->mu);
    unsigned a = 0;
    for (int i = 0; i < EF_MEF_FEDS_MAX; i++)
        if (mef->feds[i].st != MEF_FREE && !mef->feds[i].result_done) a++;
    *active = a;
    *connected = mef->n_connected;
    *failed = mef->n_failed;
    pthread_mutex_unlock(&mef->mu);
}

/* ---------------------------------------------------------------- events */

static bool mef_is_self(ef_mef *mef, const json_t *data, const char *field)
{
    const char *s = json_string_value(json_object_get(data, field));
    return s && !strcmp(s, mef->self_hex);
}

static uint64_t mef_u64(const json_t *data, const char *field)
{
    json_int_t v = json_integer_value(json_object_get(data, field));
    return v > 0 ? (uint64_t)v : 0;
}

/* Provider: quote and bid on another consumer's announcement. Not under mu. */
static void mef_on_announced_other(ef_mef *mef, const json_t *data)
{
    uint64_t price, max = mef_u64(data, "max_price"), id = mef_u64(data, "id");
    if (ef_pricing_quote(&mef->cfg.pricing, ef_now_wall_ms(), &price)) return;
    if (price < 1) price = 1;
    if (price > max) {
        mef_trace(mef, "no_bid", id, json_pack("{s:I, s:I}", "price", (json_int_t)price, "max_price", (json_int_t)max));
        EF_LOGI(MEF_LOG, "%s: no bid on %" PRIu64 ": price %" PRIu64 " over max %" PRIu64, mef->cfg.name, id,
                price, max);
        return;
    }
    ef_meo_ep own = {0};
    if (ef_meo_ip_parse(&own.underlay_ip, mef->cfg.underlay_ip[0] ? mef->cfg.underlay_ip : "127.0.0.1")) return;
    own.vxlan_port = mef->cfg.meo.vxlan_port ? mef->cfg.meo.vxlan_port : EF_MEO_VXLAN_PORT_DEFAULT;
    mef_trace(mef, "bid_sent", id, json_pack("{s:I}", "price", (json_int_t)price));
    mef_submit(mef, "bid", json_pack("{s:I, s:I, s:o}", "id", (json_int_t)id, "price", (json_int_t)price,
                                     "endpoint", mef_ep_json(&own, false)));
}

void ef_mef_on_event(ef_mef *mef, uint64_t height, uint64_t block_time_ms, const char *contract,
                     const char *name, const json_t *data)
{
    (void)block_time_ms;
    if (strcmp(contract, MEF_CONTRACT) || !json_is_object(data)) return;
    uint64_t id = mef_u64(data, "id");
    json_t *r = NULL, *pv = NULL;
    bool bid_on = false;
    int i;

    pthread_mutex_lock(&mef->mu);
    if (!strcmp(name, "operator_registered")) mef->ops_seen++;
    if (!strcmp(name, "terminated") || !strcmp(name, "expired") || !strcmp(name, "cancelled")) mef->ended_seen++;
    if (!strcmp(name, "announced")) {
        if (mef_is_self(mef, data, "consumer")) {
            uint64_t vni = mef_u64(json_object_get(data, "endpoint"), "vni");
            for (i = 0; i < EF_MEF_FEDS_MAX; i++) {
                mef_fed *f = &mef->feds[i];
                if (f->st == MEF_ANNOUNCING && f->consumer && f->cons_ep.vni == vni) {
                    f->id = id;
                    f->deadline_ms = mef_u64(data, "deadline_ms");
                    f->st = MEF_OPEN;
                    mef_mark(f, T_ANNOUNCED);
                    pthread_cond_signal(&mef->timer_cv);
                    mef_trace(mef, "announced", id, json_pack("{s:I, s:I}", "deadline_ms",
                                                              (json_int_t)f->deadline_ms, "offers",
                                                              (json_int_t)mef->cfg.offers));
                    break;
                }
            }
        } else {
            bid_on = mef->cfg.provider;
        }
    } else if (!strcmp(name, "bid")) {
        if ((i = mef_find_id(mef, id, true)) >= 0) {
            mef_fed *f = &mef->feds[i];
            f->bids = mef_u64(data, "bids");
            if (f->bids >= mef->cfg.offers) mef_mark(f, T_OFFERS);
            mef_trace(mef, "offer", id, json_pack("{s:O, s:O, s:I}", "provider", json_object_get(data, "provider"),
                                                  "price", json_object_get(data, "price"), "bids", (json_int_t)f->bids));
        }
    } else if (!strcmp(name, "awarded")) {
        if (mef_is_self(mef, data, "consumer") && (i = mef_find_id(mef, id, true)) >= 0) {
            mef_fed *f = &mef->feds[i];
            mef_mark(f, T_OFFERS);
            mef_mark(f, T_AWARDED);
            f->price = mef_u64(data, "price");
            f->bids = mef_u64(data, "bids");
            f->deploy_deadline_ms = mef_u64(data, "deploy_deadline_ms");
            const char *w = json_string_value(json_object_get(data, "winner"));
            snprintf(f->winner, sizeof f->winner, "%s", w ? w : "");
            if (f->st == MEF_OPEN) f->st = MEF_AWARDED;
            pthread_cond_signal(&mef->timer_cv);
            mef_trace(mef, "awarded", id, json_pack("{s:s, s:I, s:I}", "winner", f->winner, "price",
                                                    (json_int_t)f->price, "bids", (json_int_t)f->bids));
            /* provenance: who decided (the award, at this block) and for whom */
            char cont[MEF_PROV_ID_MAX + 1], act[MEF_PROV_ID_MAX + 1], ref[EF_PUB_SIZE * 2 + 64];
            mef_prov_names(cont, act, f->tag, "award");
            snprintf(ref, sizeof ref, "federation/svc/%" PRIu64 "/block/%" PRIu64 "/winner/%.64s", id, height,
                     f->winner);
            json_decref(pv);
            pv = json_pack("{s:s, s:s, s:s, s:s, s:s}", "action", "execute", "activity", act, "contract", "federation",
                           "method", "award", "ref", ref);
            if (pv && f->winner[0]) json_object_set_new(pv, "on_behalf_of", json_string(f->winner));
        }
        if (mef_is_self(mef, data, "winner") && mef->cfg.provider && mef_find_id(mef, id, false) < 0) {
            const json_t *req = json_object_get(data, "requirements");
            const char *kind = json_string_value(json_object_get(req, "service"));
            const char *inst = json_string_value(json_object_get(req, "instance"));
            ef_meo_ep cons;
            if ((i = mef_alloc(mef, false)) < 0) {
                EF_LOGW(MEF_LOG, "%s: too many federations, cannot deploy %" PRIu64, mef->cfg.name, id);
            } else if (!kind || !ef_meo_name_ok(kind) || (inst && !ef_meo_name_ok(inst)) ||
                       mef_ep_parse(&cons, json_object_get(data, "consumer_endpoint"))) {
                EF_LOGW(MEF_LOG, "%s: award %" PRIu64 " has an unusable endpoint or service", mef->cfg.name, id);
            } else {
                mef_fed *f = &mef->feds[i];
                f->id = id;
                f->cons_ep = cons;
                f->price = mef_u64(data, "price");
                f->bids = mef_u64(data, "bids");
                snprintf(f->winner, sizeof f->winner, "%s", mef->self_hex);
                const char *cons_pub = json_string_value(json_object_get(data, "consumer"));
                if (cons_pub && strlen(cons_pub) == 2 * EF_PUB_SIZE) snprintf(f->peer, sizeof f->peer, "%s", cons_pub);
                snprintf(f->kind, sizeof f->kind, "%s", kind);
                if (inst) snprintf(f->tag, sizeof f->tag, "%s", inst);
                else snprintf(f->tag, sizeof f->tag, "p%" PRIu64, id);
                f->st = MEF_DEPLOYING;
                mef_trace(mef, "won", id, json_pack("{s:I, s:s}", "price", (json_int_t)f->price, "instance", f->tag));
                if (!mef_queue(mef, J_DEPLOY, i)) f->st = MEF_FREE;
            }
        }
    } else if (!strcmp(name, "deployed")) {
        if (mef_is_self(mef, data, "consumer") && (i = mef_find_id(mef, id, true)) >= 0) {
            mef_fed *f = &mef->feds[i];
            mef_mark(f, T_DEPLOYED);
            mef_trace(mef, "deployment_confirmed", id, json_pack("{s:O}", "endpoint", json_object_get(data, "endpoint")));
            if (f->st == MEF_AWARDED && !mef_ep_parse(&f->prov_ep, json_object_get(data, "endpoint"))) {
                f->st = MEF_CONNECTING;
                if (!mef_queue(mef, J_CONNECT, i)) r = mef_finish(mef, i, "failed", "job queue full");
            } else if (f->st == MEF_AWARDED) {
                r = mef_finish(mef, i, "failed", "deployed endpoint unusable");
            }
        }
        if (mef_is_self(mef, data, "provider") && (i = mef_find_id(mef, id, false)) >= 0)
            mef_mark(&mef->feds[i], T_DEPLOYED);
    } else if (!strcmp(name, "connected")) {
        bool cons_self = mef_is_self(mef, data, "consumer"), prov_self = mef_is_self(mef, data, "provider");
        for (int side = 0; side < 2; side++) {
            bool consumer = side == 0;
            if (!(consumer ? cons_self : prov_self) || (i = mef_find_id(mef, id, consumer)) < 0) continue;
            mef_fed *f = &mef->feds[i];
            mef_mark(f, T_CONFIRMED);
            f->paid = mef_u64(data, "paid");
            mef_trace(mef, consumer ? "paid" : "payment_received", id,
                      json_pack("{s:I, s:O}", "paid", (json_int_t)f->paid, "refunded", json_object_get(data, "refunded")));
            f->st = MEF_RUNNING;
            json_t *res = mef_outcome(mef, i, "connected", NULL);
            if (res) {
                if (r) mef_deliver(mef, res); /* never happens: one agent is not both sides */
                else r = res;
            }
        }
        if (cons_self && !mef->cfg.hold) {
            pthread_mutex_unlock(&mef->mu);
            mef_submit(mef, "terminate", json_pack("{s:I, s:s}", "id", (json_int_t)id, "reason", "done"));
            pthread_mutex_lock(&mef->mu);
        }
    } else if (!strcmp(name, "expired") || !strcmp(name, "cancelled") || !strcmp(name, "terminated")) {
        for (int side = 0; side < 2; side++) {
            if ((i = mef_find_id(mef, id, side == 0)) < 0) continue;
            mef_trace(mef, name, id, json_pack("{s:O}", "refunded", json_object_get(data, "refunded")));
            json_t *res = mef_finish(mef, i, name, NULL);
            if (res) {
                if (r) mef_deliver(mef, res);
                else r = res;
            }
        }
    }
    pthread_mutex_unlock(&mef->mu);
    mef_prov(mef, "orchestrate", pv);
    mef_deliver(mef, r);
    if (bid_on) mef_on_announced_other(mef, data);
}

#define MEF_RESEND_MS 2000
#define MEF_TIMER_MARGIN_MS 20

/* Under mu: collects the closes and cancels due at `now_ms` (block time, or wall
 * time minus a margin for the timer) into ids; returns how many. */
static size_t mef_due(ef_mef *mef, uint64_t now_ms, uint64_t close_ids[], uint64_t cancel_ids[], size_t *n_cancel)
{
    size_t n_close = 0;
    uint64_t wall = ef_now_wall_ms();
    *n_cancel = 0;
    for (int i = 0; i < EF_MEF_FEDS_MAX; i++) {
        mef_fed *f = &mef->feds[i];
        if (!f->consumer) continue;
        if (f->st == MEF_OPEN && now_ms >= f->deadline_ms &&
            (!f->close_sent_ms || wall >= f->close_sent_ms + MEF_RESEND_MS)) {
            f->close_sent_ms = wall;
            close_ids[n_close++] = f->id;
        }
        if (f->st == MEF_AWARDED && now_ms >= f->deploy_deadline_ms &&
            (!f->cancel_sent_ms || wall >= f->cancel_sent_ms + MEF_RESEND_MS)) {
            f->cancel_sent_ms = wall;
            cancel_ids[(*n_cancel)++] = f->id;
        }
    }
    return n_close;
}

static void mef_send_due(ef_mef *mef, const uint64_t *close_ids, size_t n_close, const uint64_t *cancel_ids,
                         size_t n_cancel)
{
    for (size_t k = 0; k < n_close; k++) mef_submit(mef, "close", json_pack("{s:I}", "id", (json_int_t)close_ids[k]));
    for (size_t k = 0; k < n_cancel; k++)
        mef_submit(mef, "cancel", json_pack("{s:I}", "id", (json_int_t)cancel_ids[k]));
}

/* One-shot timers for deadlines: sleeps until the earliest pending deadline (or a
 * resend time), so a close or cancel goes out even if no block comes. */
static void *mef_timer(void *arg)
{
    ef_mef *mef = arg;
    uint64_t close_ids[EF_MEF_FEDS_MAX], cancel_ids[EF_MEF_FEDS_MAX];
    pthread_mutex_lock(&mef->mu);
    while (!mef->stop) {
        uint64_t next = UINT64_MAX;
        for (int i = 0; i < EF_MEF_FEDS_MAX; i++) {
            mef_fed *f = &mef->feds[i];
            if (!f->consumer) continue;
            if (f->st == MEF_OPEN)
                next = EF_MIN(next, EF_MAX(f->deadline_ms, f->close_sent_ms ? f->close_sent_ms + MEF_RESEND_MS : 0));
            if (f->st == MEF_AWARDED)
                next = EF_MIN(next, EF_MAX(f->deploy_deadline_ms,
                                           f->cancel_sent_ms ? f->cancel_sent_ms + MEF_RESEND_MS : 0));
        }
        uint64_t wall = ef_now_wall_ms();
        if (next != UINT64_MAX && wall >= next + MEF_TIMER_MARGIN_MS) {
            size_t n_cancel, n_close = mef_due(mef, wall - MEF_TIMER_MARGIN_MS, close_ids, cancel_ids, &n_cancel);
            pthread_mutex_unlock(&mef->mu);
            mef_send_due(mef, close_ids, n_close, cancel_ids, n_cancel);
            pthread_mutex_lock(&mef->mu);
            if (n_close || n_cancel) continue;
            next = wall + 100;   /* a resend not due yet: look again soon */
        }
        if (next == UINT64_MAX) {
            pthread_cond_wait(&mef->timer_cv, &mef->mu);
        } else {
            uint64_t at = next + MEF_TIMER_MARGIN_MS;
            struct timespec ts = {.tv_sec = (time_t)(at / 1000), .tv_nsec = (long)(at % 1000) * 1000000L};
            pthread_cond_timedwait(&mef->timer_cv, &mef->mu, &ts);
        }
    }
    pthread_mutex_unlock(&mef->mu);
    return NULL;
}

void ef_mef_on_block(ef_mef *mef, uint64_t height, uint64_t block_time_ms)
{
    uint64_t close_ids[EF_MEF_FEDS_MAX], cancel_ids[EF_MEF_FEDS_MAX];
    size_t n_close, n_cancel, n_announce = 0;
    (void)height;

    pthread_mutex_lock(&mef->mu);
    n_close = mef_due(mef, block_time_ms, close_ids, cancel_ids, &n_cancel);
    if (mef->cfg.consumer && mef->cfg.start_after_operators && mef->runs_done < mef->cfg.runs) {
        if (mef->runs_done == 0 && mef->ops_seen >= mef->cfg.start_after_operators) {
            mef->runs_done = 1;
            n_announce = 1;
        } else if (mef->runs_done > 0 && mef->ended_seen >= mef->runs_done * mef->cfg.run_size) {
            mef->runs_done++;
            n_announce = 1;
        }
    }
    pthread_mutex_unlock(&mef->mu);
    mef_send_due(mef, close_ids, n_close, cancel_ids, n_cancel);
    for (size_t k = 0; k < n_announce; k++) {
        int rc = ef_mef_announce(mef);
        if (rc) EF_LOGW(MEF_LOG, "%s: scheduled announcement not started: %s", mef->cfg.name, ef_strerror(rc));
    }
}
