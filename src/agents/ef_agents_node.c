/* ef_agents_node.c: the node extension that runs the MEF agent and the committee
 * device agent (see ef_agents_node.h). */
#include "agents/ef_agents_node.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/ef_committee_agent.h"
#include "agents/ef_mef.h"
#include "agents/ef_relayer.h"
#include "base/ef_jcfg.h"
#include "base/ef_log.h"

#define AG_LOG "agents"

typedef struct ag_state {
    ef_node *node;
    ef_mef *mef;          /* NULL without agents.mef */
    ef_cagent *cag;       /* NULL without agents.committee */
    ef_relayer *rel;      /* NULL without agents.relayer */
    pthread_t rel_thread;
    bool rel_running;
    volatile bool rel_stop;
} ag_state;

typedef struct ag_call {
    char what[EF_CONTRACT_NAME_MAX + EF_METHOD_NAME_MAX + 2];
} ag_call;

static void ag_tx_cb(void *arg, const ef_hash *tx_hash, int stage, int code, uint64_t height)
{
    ag_call *call = arg;
    (void)tx_hash;
    if (code) EF_LOGW(AG_LOG, "%s %s: %s (height %llu)", call->what,
                      stage == EF_NODE_TX_ADMITTED ? "not admitted" : "failed", ef_strerror(code),
                      (unsigned long long)height);
    if (stage == EF_NODE_TX_DROPPED) EF_LOGW(AG_LOG, "%s dropped", call->what);
    if (stage != EF_NODE_TX_ADMITTED || code) free(call);
}

static int ag_submit(void *arg, const char *contract, const char *method, const json_t *args)
{
    ag_state *st = arg;
    char *text = json_dumps(args, JSON_COMPACT);
    ag_call *call = calloc(1, sizeof *call);
    int rc = EF_ENOMEM;
    if (text && call) {
        snprintf(call->what, sizeof call->what, "%s.%s", contract, method);
        rc = ef_node_submit_call(st->node, contract, method, text, ag_tx_cb, call);
        if (!rc) call = NULL;   /* the callback frees it */
    }
    free(call);
    free(text);
    return rc;
}

/* A committee step's outcome: a second election call failing with EF_EWINDOW
 * is expected (another member's executed first), so it is only a debug line. */
static void ag_cm_cb(void *arg, const ef_hash *tx_hash, int stage, int code, uint64_t height)
{
    ag_call *call = arg;
    (void)tx_hash;
    bool expected = code == EF_EWINDOW && !strcmp(call->what, "committee.elect");
    if (code && !expected)
        EF_LOGW(AG_LOG, "%s %s: %s (height %llu)", call->what,
                stage == EF_NODE_TX_ADMITTED ? "not admitted" : "failed", ef_strerror(code),
                (unsigned long long)height);
    else if (stage == EF_NODE_TX_COMMITTED)
        EF_LOGD(AG_LOG, "%s at height %llu: %s", call->what, (unsigned long long)height, ef_strerror(code));
    if (stage != EF_NODE_TX_ADMITTED || code) free(call);
}

static int ag_cm_submit(void *arg, const char *method, const char *args_json)
{
    ag_state *st = arg;
    ag_call *call = calloc(1, sizeof *call);
    if (!call) return EF_ENOMEM;
    snprintf(call->what, sizeof call->what, "committee.%s", method);
    int rc = ef_node_submit_call(st->node, "committee", method, args_json, ag_cm_cb, call);
    if (rc) free(call);
    return rc;
}

static void ag_on_commit(void *arg, const ef_node_commit *c)
{
    ag_state *st = arg;
    if (st->cag) {
        /* a node catching up acts once it is at the head: a step for a block long
         * past would only fail (EF_EWINDOW) */
        const ef_node_status *ns = ef_node_status_hold(st->node);
        bool behind = ns->catching_up;
        ef_node_status_release(ns);
        if (!behind) ef_cagent_on_block(st->cag, c->height);
    }
    if (!st->mef) return;
    for (uint32_t i = 0; i < c->block->txs_len; i++) {
        if (c->results[i].code) continue;
        const char *contract = c->block->txs[i].tx.contract;
        json_t *evs = json_loads(c->results[i].events_json, 0, NULL);
        for (size_t e = 0; e < json_array_size(evs); e++) {
            json_t *ev = json_array_get(evs, e);
            const char *ec = json_string_value(json_object_get(ev, "contract"));
            const char *name = json_string_value(json_object_get(ev, "name"));
            if (name)
                ef_mef_on_event(st->mef, c->height, c->block->hdr.time_ms, ec ? ec : contract, name,
                                json_object_get(ev, "data"));
        }
        json_decref(evs);
    }
    ef_mef_on_block(st->mef, c->height, c->block->hdr.time_ms);
}

static int ag_start_mef(ag_state *st, const ef_node_config *cfg, const json_t *sec)
{
    ef_mef_config mc;
    char err[256] = "";
    int rc = ef_mef_config_parse(&mc, sec, err, sizeof err);
    if (rc) {
        EF_LOGE(AG_LOG, "%s", err);
        return rc;
    }
    /* relative results and trace paths are relative to the node's directory */
    char *paths[] = {mc.results_path, mc.trace_path};
    for (size_t i = 0; i < 2; i++) {
        if (!paths[i][0] || paths[i][0] == '/') continue;
        char tmp[EF_MEF_PATH_MAX];
        if ((size_t)snprintf(tmp, sizeof tmp, "%s/%s", cfg->dir, paths[i]) >= sizeof tmp) return EF_ECONFIG;
        memcpy(paths[i], tmp, sizeof tmp);
    }
    ef_mef_hooks hooks = {ag_submit, NULL, st};
    if ((rc = ef_mef_open(&st->mef, &mc, &ef_node_key(st->node)->pub, &hooks)))
        EF_LOGE(AG_LOG, "MEF agent did not start: %s", ef_strerror(rc));
    return rc;
}

static int ag_start_committee(ag_state *st, const json_t *sec)
{
    ef_cagent_config cc;
    char err[256] = "";
    int rc = ef_cagent_config_parse(&cc, sec, err, sizeof err);
    if (rc) {
        EF_LOGE(AG_LOG, "agents.committee: %s", err);
        return rc;
    }
    /* the node's own config copy: its chain id lives as long as the node */
    rc = ef_cagent_open(&st->cag, &cc, ef_node_key(st->node), ef_node_cfg(st->node)->chain_id,
                        ef_node_store(st->node), ag_cm_submit, st);
    if (rc) EF_LOGE(AG_LOG, "committee agent did not start: %s", ef_strerror(rc));
    else EF_LOGI(AG_LOG, "committee agent started");
    return rc;
}

/* agents.relayer: {"domain_node": URL, "domain": NAME, "read_key": PATH?,
 * "period_ms": N?, "poll_ms": N?, "register": BOOL?}: the relayer of
 * agents/ef_relayer.h on its own thread, with this node's key, submitting to this
 * node's own API (http_listen). read_key is relative to the node's directory. */
static void *ag_relayer_main(void *arg)
{
    ag_state *st = arg;
    (void)ef_relayer_run(st->rel, &st->rel_stop);
    return NULL;
}

static int ag_start_relayer(ag_state *st, const ef_node_config *cfg, const json_t *sec)
{
    static const char *const f[] = {"domain_node", "domain", "read_key", "period_ms", "poll_ms", "register", NULL};
    ef_relayer_config rc_;
    char err[EF_JCFG_REASON_MAX + 64] = "", rk[EF_NODE_PATH_MAX] = "";
    memset(&rc_, 0, sizeof rc_);
    rc_.period_ms = 5000;
    int rc = ef_jcfg_only(sec, f, err, sizeof err);
    if (!rc) rc = ef_jcfg_str(sec, "domain_node", true, rc_.domain_url, sizeof rc_.domain_url, err, sizeof err);
    if (!rc) rc = ef_jcfg_str(sec, "domain", true, rc_.domain, sizeof rc_.domain, err, sizeof err);
    if (!rc) rc = ef_jcfg_str(sec, "read_key", false, rk, sizeof rk, err, sizeof err);
    if (!rc) rc = ef_jcfg_u32(sec, "period_ms", false, 0, 86400000u, &rc_.period_ms, err, sizeof err);
    if (!rc) rc = ef_jcfg_u32(sec, "poll_ms", false, 10, 600000u, &rc_.poll_ms, err, sizeof err);
    if (!rc) rc = ef_jcfg_bool(sec, "register", false, &rc_.register_domain, err, sizeof err);
    if (!rc && !cfg->http_listen[0]) rc = ef_jcfg_fail(err, sizeof err, "needs the node's http_listen");
    if (rc) {
        EF_LOGE(AG_LOG, "agents.relayer: %s", err);
        return EF_ECONFIG;
    }
    snprintf(rc_.federation_url, sizeof rc_.federation_url, "http://%s", cfg->http_listen);
    rc_.key = *ef_node_key(st->node);
    if (rk[0]) {
        char path[2 * EF_NODE_PATH_MAX + 2];
        if (rk[0] == '/') snprintf(path, sizeof path, "%s", rk);
        else snprintf(path, sizeof path, "%s/%s", cfg->dir, rk);
        if ((rc = ef_key_load(&rc_.read_key, path))) {
            EF_LOGE(AG_LOG, "agents.relayer: cannot load read_key %s: %s", path, ef_strerror(rc));
            return EF_ECONFIG;
        }
        rc_.has_read_key = true;
    }
    if ((rc = ef_relayer_new(&st->rel, &rc_))) {
        EF_LOGE(AG_LOG, "agents.relayer: bad domain_node URL (http://A.B.C.D:PORT) or domain name: %s",
                ef_strerror(rc));
        return EF_ECONFIG;
    }
    if (pthread_create(&st->rel_thread, NULL, ag_relayer_main, st)) return EF_ENOMEM;
    st->rel_running = true;
    EF_LOGI(AG_LOG, "relayer of domain %s started (%s, period %u ms)", rc_.domain, rc_.domain_url, rc_.period_ms);
    return 0;
}

static void ag_stop(void *state);

static int ag_start(ef_node *n, const ef_node_config *cfg, void **state)
{
    *state = NULL;
    const json_t *agents = json_object_get(cfg->doc, "agents");
    const json_t *mef = json_object_get(agents, "mef"), *cm = json_object_get(agents, "committee");
    const json_t *rl = json_object_get(agents, "relayer");
    if (!mef && !cm && !rl) return 0;
    ag_state *st = calloc(1, sizeof *st);
    if (!st) return EF_ENOMEM;
    st->node = n;
    int rc = 0;
    if (mef) rc = ag_start_mef(st, cfg, mef);
    if (!rc && cm) rc = ag_start_committee(st, cm);
    if (!rc && rl) rc = ag_start_relayer(st, cfg, rl);
    if (!rc) rc = ef_node_on_commit(n, ag_on_commit, st);
    if (rc) {
        ag_stop(st);
        return rc;
    }
    *state = st;
    return 0;
}

static void ag_stop(void *state)
{
    ag_state *st = state;
    if (!st) return;
    if (st->rel_running) {
        st->rel_stop = true;
        pthread_join(st->rel_thread, NULL);
    }
    ef_relayer_free(st->rel);
    if (st->mef) ef_mef_close(st->mef);
    ef_cagent_close(st->cag);
    free(st);
}

const ef_node_ext ef_agents_node_ext = {
    .name = "agents",
    .start = ag_start,
    .stop = ag_stop,
};
