/* ef_relayer.c: the checkpoint relayer (see ef_relayer.h). */
#include "agents/ef_relayer.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agents/ef_httpc.h"
#include "base/ef_codec.h"
#include "base/ef_log.h"
#include "ledger/ef_tx.h"

#define RL_LOG "relayer"

typedef struct rl_peer {
    uint32_t ip;
    uint16_t port;
} rl_peer;

struct ef_relayer {
    ef_relayer_config cfg;
    rl_peer dom, fed;
    char key_hex[2 * EF_PUB_SIZE + 1];
    char fed_chain[EF_CHAIN_ID_MAX + 1];
    char dom_chain[EF_CHAIN_ID_MAX + 1];
    uint64_t scanned;          /* domain heights up to this one hold no unanchored rotation */
    uint64_t last_periodic_us; /* when the tip was last checkpointed periodically */
    atomic_bool requested;
    atomic_uint_fast64_t st_checkpoints, st_rotations, st_already, st_errors, st_anchored, st_domain, st_last_ms;
    atomic_bool st_frozen, st_registered;
    bool frozen_logged;
    int last_err;              /* of the previous step, to log a repeated failure once */
};

/* --- HTTP --- */

/* GET path from a node; signed with the read key if sign. 0 and JSON in *out,
 * EF_ENOTFOUND on 404, EF_EPERM on 403, EF_EPROTO on another status or a body
 * that is not JSON, or the transport's error. */
static int rl_get_once(ef_relayer *r, const rl_peer *p, bool sign, const char *path, json_t **out,
                       bool *replayed)
{
    char kh[2 * EF_PUB_SIZE + 32], th[64], sh[2 * EF_SIG_SIZE + 32];
    const char *headers[4] = {NULL};
    *out = NULL;
    if (sign) {
        char msg[EF_HTTPC_PATH_MAX + 64];
        uint64_t now = ef_now_wall_ms_unique();
        int n = snprintf(msg, sizeof msg, "GET\n%s\n%llu", path, (unsigned long long)now);
        if (n < 0 || (size_t)n >= sizeof msg) return EF_ETOOBIG;
        ef_sig sig;
        char sig_hex[2 * EF_SIG_SIZE + 1], pub_hex[2 * EF_PUB_SIZE + 1];
        ef_sign(&sig, &r->cfg.read_key, EF_TAG_HTTP, msg, (size_t)n);
        ef_hex(sig_hex, sig.b, EF_SIG_SIZE);
        ef_hex(pub_hex, r->cfg.read_key.pub.b, EF_PUB_SIZE);
        snprintf(kh, sizeof kh, "X-Edgefed-Key: %s", pub_hex);
        snprintf(th, sizeof th, "X-Edgefed-Time: %llu", (unsigned long long)now);
        snprintf(sh, sizeof sh, "X-Edgefed-Sig: %s", sig_hex);
        headers[0] = kh;
        headers[1] = th;
        headers[2] = sh;
    }
    ef_httpc_resp resp;
    int rc = ef_httpc_request(&resp, NULL, p->ip, p->port, "GET", path, sign ? headers : NULL, NULL, 0,
                              EF_RELAYER_TIMEOUT_MS);
    if (rc) return rc;
    if (resp.status == 404) rc = EF_ENOTFOUND;
    else if (resp.status == 403) rc = EF_EPERM;
    else if (resp.status != 200) rc = EF_EPROTO;
    else if (!(*out = json_loadb(resp.body, resp.body_len, 0, NULL))) rc = EF_EPROTO;
    if (rc == EF_EPERM || rc == EF_EPROTO)
        EF_LOGD(RL_LOG, "GET %s: HTTP %d %.200s", path, resp.status, resp.body ? resp.body : "");
    *replayed = sign && resp.status == 403 && resp.body && strstr(resp.body, "\"EDUP\"");
    ef_httpc_resp_free(&resp);
    return rc;
}

static int rl_get(ef_relayer *r, const rl_peer *p, bool sign, const char *path, json_t **out)
{
    /* Refused as a replayed signature (another process read the same path with
     * the same member key in the same millisecond): nothing was done, so the
     * read is signed a millisecond later and sent again, once. */
    int rc = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        bool replayed = false;
        rc = rl_get_once(r, p, sign, path, out, &replayed);
        if (!replayed) break;
        usleep(1000);
    }
    return rc;
}

static int rl_dom_get(ef_relayer *r, const char *path, json_t **out)
{
    return rl_get(r, &r->dom, r->cfg.has_read_key, path, out);
}

static int rl_fed_get(ef_relayer *r, const char *path, json_t **out)
{
    return rl_get(r, &r->fed, false, path, out);
}

static uint64_t rl_u64(const json_t *o, const char *k)
{
    json_int_t v = json_integer_value(json_object_get(o, k));
    return v < 0 ? 0 : (uint64_t)v;
}

/* One attempt of rl_call. */
static int rl_call_once(ef_relayer *r, const char *method, const char *text, char code[24]);

/* anchor.method(args) on the federation, signed by the key, waiting for the
 * commit. code (24 bytes) receives the result's code name ("OK", "ESTALE", ...).
 * A nonce taken by another sender of the same key (another relayer, the node
 * itself: ENONCE, EDUP) is retried with a fresh nonce for up to ~6 s. Returns 0
 * if a result came back (whatever it is), else the transport's error or
 * EF_EPROTO. */
static int rl_call(ef_relayer *r, const char *method, const json_t *args, char code[24])
{
    char *text = json_dumps(args, JSON_COMPACT);
    if (!text) return EF_ENOMEM;
    int rc = 0;
    for (int attempt = 0; attempt < 20; attempt++) {
        rc = rl_call_once(r, method, text, code);
        if (rc || (strcmp(code, "ENONCE") && strcmp(code, "EDUP"))) break;
        EF_LOGD(RL_LOG, "anchor.%s: nonce taken (%s), again", method, code);
        struct timespec ts = {0, 300 * 1000000L};
        nanosleep(&ts, NULL);
    }
    free(text);
    return rc;
}

static int rl_call_once(ef_relayer *r, const char *method, const char *text, char code[24])
{
    char path[128];
    json_t *acc = NULL, *resp_j = NULL;
    snprintf(code, 24, "%s", "EPROTO");
    snprintf(path, sizeof path, "/accounts/%s", r->key_hex);
    int rc = rl_fed_get(r, path, &acc);
    if (rc) goto out;
    if (!json_is_integer(json_object_get(acc, "nonce"))) {
        rc = EF_EPROTO;
        goto out;
    }
    ef_tx tx;
    memset(&tx, 0, sizeof tx);
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", r->fed_chain);
    tx.nonce = rl_u64(acc, "nonce");
    snprintf(tx.contract, sizeof tx.contract, "%s", "anchor");
    snprintf(tx.method, sizeof tx.method, "%s", method);
    tx.args = (const uint8_t *)text;
    tx.args_len = strlen(text);
    ef_httpc_resp resp;
    rc = ef_httpc_submit_tx(&resp, r->fed.ip, r->fed.port, &tx, &r->cfg.key, EF_RELAYER_COMMIT_MS + 5000);
    if (rc) goto out;
    resp_j = json_loadb(resp.body, resp.body_len, 0, NULL);
    const char *c = json_string_value(json_object_get(resp_j, "code"));
    if (c) snprintf(code, 24, "%s", c);
    if (resp.status != 200 && (!c || !strcmp(c, "OK"))) rc = EF_EPROTO;
    if (resp.status != 200)
        EF_LOGW(RL_LOG, "anchor.%s: HTTP %d %.200s", method, resp.status, resp.body ? resp.body : "");
    ef_httpc_resp_free(&resp);
out:
    json_decref(acc);
    json_decref(resp_j);
    return rc;
}

/* --- steps --- */

int ef_relayer_new(ef_relayer **out, const ef_relayer_config *cfg)
{
    *out = NULL;
    ef_relayer *r = calloc(1, sizeof *r);
    if (!r) return EF_ENOMEM;
    r->cfg = *cfg;
    char path[16];
    size_t nl = strlen(cfg->domain);
    bool name_ok = nl >= 1 && nl <= EF_RELAYER_NAME_MAX;
    for (size_t i = 0; i < nl; i++) {
        char ch = cfg->domain[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')) name_ok = false;
    }
    if (!name_ok || ef_httpc_parse_url(cfg->domain_url, &r->dom.ip, &r->dom.port, path, sizeof path) ||
        ef_httpc_parse_url(cfg->federation_url, &r->fed.ip, &r->fed.port, path, sizeof path)) {
        free(r);
        return EF_EINVAL;
    }
    if (!r->cfg.poll_ms) r->cfg.poll_ms = EF_RELAYER_POLL_MS;
    ef_hex(r->key_hex, cfg->key.pub.b, EF_PUB_SIZE);
    r->last_periodic_us = ef_now_mono_us();
    *out = r;
    return 0;
}

void ef_relayer_free(ef_relayer *r) { free(r); }

void ef_relayer_request(ef_relayer *r) { atomic_store(&r->requested, true); }

void ef_relayer_stats_get(ef_relayer *r, ef_relayer_stats *o)
{
    o->checkpoints = atomic_load(&r->st_checkpoints);
    o->rotations = atomic_load(&r->st_rotations);
    o->already = atomic_load(&r->st_already);
    o->errors = atomic_load(&r->st_errors);
    o->anchored = atomic_load(&r->st_anchored);
    o->domain_height = atomic_load(&r->st_domain);
    o->last_ms = atomic_load(&r->st_last_ms);
    o->frozen = atomic_load(&r->st_frozen);
    o->registered = atomic_load(&r->st_registered);
}

/* The chain ids of both ledgers (once). */
static int rl_chains(ef_relayer *r)
{
    if (r->fed_chain[0] && r->dom_chain[0]) return 0;
    json_t *f = NULL, *d = NULL;
    int rc = rl_fed_get(r, "/status", &f);
    if (!rc) rc = rl_dom_get(r, "/status", &d);
    const char *fc = json_string_value(json_object_get(f, "chain_id"));
    const char *dc = json_string_value(json_object_get(d, "chain_id"));
    if (!rc && (!fc || !dc || strlen(fc) > EF_CHAIN_ID_MAX || strlen(dc) > EF_CHAIN_ID_MAX)) rc = EF_EPROTO;
    if (!rc) {
        snprintf(r->fed_chain, sizeof r->fed_chain, "%s", fc);
        snprintf(r->dom_chain, sizeof r->dom_chain, "%s", dc);
    }
    json_decref(f);
    json_decref(d);
    return rc;
}

static int rl_register(ef_relayer *r)
{
    json_t *b0 = NULL, *ck = NULL, *args = NULL;
    char code[24], admin[2 * EF_PUB_SIZE + 1];
    int rc = rl_dom_get(r, "/blocks/0", &b0);
    if (!rc) rc = rl_dom_get(r, "/blocks/1/checkpoint", &ck);
    const char *gh = json_string_value(json_object_get(b0, "hash"));
    const char *vs = json_string_value(json_object_get(ck, "vset"));
    if (!rc && (!gh || !vs)) rc = EF_EPROTO;
    if (rc) goto out;
    ef_hex(admin, (r->cfg.has_read_key ? &r->cfg.read_key : &r->cfg.key)->pub.b, EF_PUB_SIZE);
    args = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", r->cfg.domain, "chain_id", r->dom_chain, "genesis_hash",
                     gh, "committee", vs, "admin", admin);
    if (!args) {
        rc = EF_ENOMEM;
        goto out;
    }
    if ((rc = rl_call(r, "register_domain", args, code))) goto out;
    if (strcmp(code, "OK") && strcmp(code, "EEXIST")) {
        EF_LOGE(RL_LOG, "register_domain %s refused: %s", r->cfg.domain, code);
        rc = EF_EPERM;
        goto out;
    }
    if (!strcmp(code, "OK")) {
        atomic_store(&r->st_registered, true);
        EF_LOGI(RL_LOG, "registered domain %s (chain %s, genesis %.16s..., committee of block 1)", r->cfg.domain,
                r->dom_chain, gh);
    }
out:
    json_decref(b0);
    json_decref(ck);
    json_decref(args);
    return rc;
}

/* Checkpoints domain height h. *anchored is raised on success (or if the anchor
 * already holds it). */
static int rl_checkpoint(ef_relayer *r, uint64_t h, uint64_t *anchored)
{
    char path[64], code[24];
    json_t *ck = NULL, *args = NULL;
    snprintf(path, sizeof path, "/blocks/%llu/checkpoint", (unsigned long long)h);
    int rc = rl_dom_get(r, path, &ck);
    if (rc) goto out;
    const char *hdr = json_string_value(json_object_get(ck, "header"));
    const char *cert = json_string_value(json_object_get(ck, "cert"));
    const char *cm = json_string_value(json_object_get(ck, "committee"));
    bool rotation = json_is_true(json_object_get(ck, "rotation"));
    if (!hdr || !cert || (rotation && !cm) || rl_u64(ck, "height") != h) {
        rc = EF_EPROTO;
        goto out;
    }
    args = json_pack("{s:s, s:s, s:s}", "domain", r->cfg.domain, "header", hdr, "cert", cert);
    if (args && rotation) json_object_set_new(args, "committee", json_string(cm));
    if (!args) {
        rc = EF_ENOMEM;
        goto out;
    }
    uint64_t t0 = ef_now_mono_us();
    if ((rc = rl_call(r, "checkpoint", args, code))) goto out;
    uint64_t ms = (ef_now_mono_us() - t0) / 1000;
    if (!strcmp(code, "OK")) {
        atomic_fetch_add(&r->st_checkpoints, 1);
        if (rotation) atomic_fetch_add(&r->st_rotations, 1);
        atomic_store(&r->st_last_ms, ms);
        EF_LOGI(RL_LOG, "domain %s height %llu anchored%s (%llu ms)", r->cfg.domain, (unsigned long long)h,
                rotation ? " with its next committee (rotation)" : "", (unsigned long long)ms);
    } else if (!strcmp(code, "ERECORDED") || !strcmp(code, "ESTALE")) {
        atomic_fetch_add(&r->st_already, 1);
        EF_LOGI(RL_LOG, "domain %s height %llu already anchored (%s)", r->cfg.domain, (unsigned long long)h, code);
    } else {
        EF_LOGW(RL_LOG, "domain %s height %llu refused by the anchor: %s", r->cfg.domain, (unsigned long long)h,
                code);
        rc = !strcmp(code, "EFROZEN") ? EF_EFROZEN : EF_ESTATE;
        goto out;
    }
    if (h > *anchored) *anchored = h;
    atomic_store(&r->st_anchored, *anchored);
out:
    json_decref(ck);
    json_decref(args);
    return rc;
}

int ef_relayer_step(ef_relayer *r, bool force)
{
    char path[128];
    json_t *dom = NULL, *st = NULL, *list = NULL;
    int rc = rl_chains(r);
    if (rc) goto out;
    snprintf(path, sizeof path, "/state/anchor/domain/%s", r->cfg.domain);
    rc = rl_fed_get(r, path, &dom);
    if (rc == EF_ENOTFOUND && r->cfg.register_domain) {
        if ((rc = rl_register(r))) goto out;
        rc = rl_fed_get(r, path, &dom);
    }
    if (rc) goto out;
    const char *chain = json_string_value(json_object_get(dom, "chain_id"));
    if (!chain || strcmp(chain, r->dom_chain)) {
        EF_LOGE(RL_LOG, "domain %s is anchored as chain %s, the domain node serves %s", r->cfg.domain,
                chain ? chain : "?", r->dom_chain);
        rc = EF_ECHAIN;
        goto out;
    }
    uint64_t anchored = rl_u64(dom, "height");
    atomic_store(&r->st_anchored, anchored);
    bool frozen = json_is_true(json_object_get(dom, "frozen"));
    atomic_store(&r->st_frozen, frozen);
    if (frozen) {
        if (!r->frozen_logged)
            EF_LOGW(RL_LOG, "domain %s is frozen on the federation at height %llu: no checkpoints until unfrozen",
                    r->cfg.domain, (unsigned long long)anchored);
        r->frozen_logged = true;
        rc = EF_EFROZEN;
        goto out;
    }
    r->frozen_logged = false;
    if ((rc = rl_dom_get(r, "/status", &st))) goto out;
    uint64_t tip = rl_u64(st, "height");
    atomic_store(&r->st_domain, tip);
    if (r->scanned < anchored) r->scanned = anchored;
    if (r->scanned > tip) r->scanned = anchored;   /* another domain node, behind: rescan */
    /* rotations above the anchored height, in order */
    while (r->scanned < tip) {
        uint64_t from = r->scanned + 1, to = tip;
        if (to - from >= EF_RELAYER_SCAN_BATCH) to = from + EF_RELAYER_SCAN_BATCH - 1;
        snprintf(path, sizeof path, "/blocks?from=%llu&to=%llu", (unsigned long long)from, (unsigned long long)to);
        json_decref(list);
        list = NULL;
        if ((rc = rl_dom_get(r, path, &list))) goto out;
        json_t *blocks = json_object_get(list, "blocks");
        size_t i;
        json_t *b;
        uint64_t seen = r->scanned;
        json_array_foreach(blocks, i, b) {
            uint64_t h = rl_u64(b, "height");
            const char *vh = json_string_value(json_object_get(b, "vset_hash"));
            const char *nh = json_string_value(json_object_get(b, "next_vset_hash"));
            if (h != seen + 1 || !vh || !nh) {
                rc = EF_EPROTO;
                goto out;
            }
            if (strcmp(vh, nh) && h > anchored && (rc = rl_checkpoint(r, h, &anchored))) goto out;
            seen = h;
            r->scanned = h;
        }
        if (seen < to) {   /* the node answered fewer than asked: try again next step */
            rc = EF_EPROTO;
            goto out;
        }
    }
    bool requested = atomic_exchange(&r->requested, false);
    uint64_t now = ef_now_mono_us();
    bool due = r->cfg.period_ms && now - r->last_periodic_us >= (uint64_t)r->cfg.period_ms * 1000;
    if ((force || requested || due) && tip > anchored) {
        /* a periodic checkpoint waits for the next domain block (up to
         * EF_RELAYER_FRESH_MS), so what it anchors is seconds-fresh, not as old
         * as the last poll: the domain-to-anchor latency is then the federation's
         * inclusion time plus at most one fresh-poll interval */
        if (due && !force && !requested) {
            for (uint32_t waited = 0; waited < EF_RELAYER_FRESH_MS; waited += 20) {
                struct timespec ts = {0, 20 * 1000000L};
                nanosleep(&ts, NULL);
                json_decref(st);
                st = NULL;
                if (rl_dom_get(r, "/status", &st)) break;
                if (rl_u64(st, "height") > tip) {
                    uint64_t fresh = rl_u64(st, "height");
                    /* a rotation in between is checkpointed first, at the next step */
                    snprintf(path, sizeof path, "/blocks?from=%llu&to=%llu", (unsigned long long)(tip + 1),
                             (unsigned long long)fresh);
                    json_decref(list);
                    list = NULL;
                    bool rot = true;
                    if (rl_dom_get(r, path, &list) == 0) {
                        rot = false;
                        size_t i;
                        json_t *b;
                        json_array_foreach(json_object_get(list, "blocks"), i, b) {
                            const char *vh = json_string_value(json_object_get(b, "vset_hash"));
                            const char *nh = json_string_value(json_object_get(b, "next_vset_hash"));
                            if (!vh || !nh || strcmp(vh, nh)) rot = true;
                        }
                    }
                    if (!rot) tip = fresh;
                    break;
                }
            }
        }
        if ((rc = rl_checkpoint(r, tip, &anchored))) goto out;
    }
    if (due) r->last_periodic_us = now;
out:
    if (rc && rc != EF_EFROZEN) {
        atomic_fetch_add(&r->st_errors, 1);
        if (rc != r->last_err) EF_LOGW(RL_LOG, "domain %s: step failed: %s", r->cfg.domain, ef_strerror(rc));
    }
    r->last_err = rc;
    json_decref(dom);
    json_decref(st);
    json_decref(list);
    return rc;
}

int ef_relayer_run(ef_relayer *r, const volatile bool *stop)
{
    ef_httpc_abort_on(stop);   /* a stop does not wait out a request to a node that does not answer */
    while (!*stop) {
        (void)ef_relayer_step(r, false);
        for (uint32_t slept = 0; slept < r->cfg.poll_ms && !*stop && !atomic_load(&r->requested); slept += 20) {
            struct timespec ts = {0, 20 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    ef_httpc_abort_on(NULL);
    return 0;
}
