/* ef_node_config.c: the node configuration file (JSON via jansson): defaults,
 * loading with checks, and writing. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ef_codec.h"
#include "base/ef_jcfg.h"
#include "consensus/ef_engine.h"
#include "ledger/ef_mempool.h"
#include "node/ef_node.h"

#define CFG_MS_MAX 600000   /* any one timeout, ms */

void ef_node_config_defaults(ef_node_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->moniker, sizeof cfg->moniker, "node");
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "data");
    snprintf(cfg->listen, sizeof cfg->listen, "127.0.0.1:26600");
    snprintf(cfg->admin_socket, sizeof cfg->admin_socket, "admin.sock");
#define CFG_SET(field, ms) cfg->field = ms; /* the engine's default timeouts, same field names */
    EF_ENGINE_TIMEOUTS_DEFAULT(CFG_SET)
#undef CFG_SET
    cfg->empty_block_ms = 0;
    cfg->mempool_txs = EF_MEMPOOL_COUNT_DEFAULT;
    cfg->mempool_bytes = EF_MEMPOOL_BYTES_DEFAULT;
    cfg->mempool_sender_txs = EF_MEMPOOL_SENDER_DEFAULT;
    cfg->mempool_nonce_gap = EF_MEMPOOL_GAP_DEFAULT;
    cfg->mempool_ttl_s = EF_MEMPOOL_TTL_MS_DEFAULT / 1000;
    cfg->block_txs = EF_NODE_BLOCK_TXS_DEFAULT;
    cfg->block_bytes = EF_BLOCK_BYTES_MAX;
    cfg->sendq_bytes = 16u << 20;
}

void ef_node_config_free(ef_node_config *cfg)
{
    if (cfg && cfg->doc) json_decref(cfg->doc);
    if (cfg) cfg->doc = NULL;
}

#define CFG_FAIL(...)                                     \
    do {                                                  \
        rc = ef_jcfg_fail(err, err_len, __VA_ARGS__);     \
        goto fail;                                        \
    } while (0)

/* Makes p absolute against dir (in place). */
static int cfg_abs(char *p, size_t cap, const char *dir)
{
    if (!p[0] || p[0] == '/') return 0;
    char tmp[EF_NODE_PATH_MAX];
    int n = snprintf(tmp, sizeof tmp, "%s/%s", dir, p);
    if (n < 0 || (size_t)n >= cap || (size_t)n >= sizeof tmp) return EF_ECONFIG;
    memcpy(p, tmp, (size_t)n + 1);
    return 0;
}

int ef_node_config_load(ef_node_config *cfg, const char *path, char *err, size_t err_len)
{
    int rc = 0;
    ef_node_config_defaults(cfg);
    json_error_t je;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        if (err) snprintf(err, err_len, "%s: %s (line %d)", path, je.text, je.line);
        return je.line <= 0 ? EF_EIO : EF_ECONFIG;
    }
    cfg->doc = doc;
    if (!json_is_object(doc)) CFG_FAIL("%s: not a JSON object", path);
    static const char *const known[] = {"chain_id", "moniker", "key", "genesis", "data_dir",
        "listen", "http_listen", "admin_socket", "peers", "observers", "timeouts", "limits",
        "api", "agents", NULL};
    char why[EF_JCFG_REASON_MAX];
    if (ef_jcfg_only(doc, known, why, sizeof why)) CFG_FAIL("%s: %s", path, why);
    json_t *v;
    {
        char tmp[EF_NODE_PATH_MAX];
        snprintf(tmp, sizeof tmp, "%s", path);
        char *d = realpath(dirname(tmp), NULL);
        if (!d) CFG_FAIL("%s: cannot resolve its directory", path);
        snprintf(cfg->dir, sizeof cfg->dir, "%s", d);
        free(d);
    }
    if (ef_jcfg_str(doc, "chain_id", true, cfg->chain_id, sizeof cfg->chain_id, NULL, 0) ||
        !ef_chain_id_valid(cfg->chain_id))
        CFG_FAIL("chain_id missing or invalid");
    if (ef_jcfg_str(doc, "moniker", false, cfg->moniker, sizeof cfg->moniker, NULL, 0))
        CFG_FAIL("bad moniker");
    if (ef_jcfg_str(doc, "key", true, cfg->key_path, sizeof cfg->key_path, NULL, 0)) CFG_FAIL("key missing");
    if (ef_jcfg_str(doc, "genesis", true, cfg->genesis_path, sizeof cfg->genesis_path, NULL, 0))
        CFG_FAIL("genesis missing");
    if (ef_jcfg_str(doc, "data_dir", false, cfg->data_dir, sizeof cfg->data_dir, NULL, 0))
        CFG_FAIL("bad data_dir");
    if (ef_jcfg_str(doc, "listen", false, cfg->listen, sizeof cfg->listen, NULL, 0)) CFG_FAIL("bad listen");
    if (ef_jcfg_str(doc, "http_listen", false, cfg->http_listen, sizeof cfg->http_listen, NULL, 0))
        CFG_FAIL("bad http_listen");
    if (ef_jcfg_str(doc, "admin_socket", false, cfg->admin_socket, sizeof cfg->admin_socket, NULL, 0))
        CFG_FAIL("bad admin_socket");
    if (cfg_abs(cfg->key_path, sizeof cfg->key_path, cfg->dir) ||
        cfg_abs(cfg->genesis_path, sizeof cfg->genesis_path, cfg->dir) ||
        cfg_abs(cfg->data_dir, sizeof cfg->data_dir, cfg->dir) ||
        cfg_abs(cfg->admin_socket, sizeof cfg->admin_socket, cfg->dir))
        CFG_FAIL("a path is too long");
    json_t *peers = json_object_get(doc, "peers");
    if (peers) {
        if (!json_is_array(peers) || json_array_size(peers) > EF_NODE_PEERS_MAX)
            CFG_FAIL("peers: not an array of at most %d", EF_NODE_PEERS_MAX);
        size_t i;
        json_array_foreach(peers, i, v) {
            ef_node_peer_cfg *p = &cfg->peers[cfg->peers_len];
            const char *pub = json_string_value(json_object_get(v, "pub"));
            if (!pub || ef_unhex(p->pub.b, EF_PUB_SIZE, pub)) CFG_FAIL("peers[%zu].pub", i);
            if (ef_jcfg_str(v, "addr", true, p->addr, sizeof p->addr, NULL, 0))
                CFG_FAIL("peers[%zu].addr", i);
            cfg->peers_len++;
        }
    }
    json_t *obs = json_object_get(doc, "observers");
    if (obs) {
        if (!json_is_array(obs) || json_array_size(obs) > EF_NODE_PEERS_MAX)
            CFG_FAIL("observers: not an array of at most %d", EF_NODE_PEERS_MAX);
        size_t i;
        json_array_foreach(obs, i, v) {
            const char *pub = json_string_value(v);
            if (!pub || ef_unhex(cfg->observers[i].b, EF_PUB_SIZE, pub)) CFG_FAIL("observers[%zu]", i);
            cfg->observers_len++;
        }
    }
    json_t *t = json_object_get(doc, "timeouts");
    if (t && (!json_is_object(t) ||
              ef_jcfg_u32(t, "propose_ms", false, 0, CFG_MS_MAX, &cfg->propose_ms, NULL, 0) ||
              ef_jcfg_u32(t, "propose_delta_ms", false, 0, CFG_MS_MAX, &cfg->propose_delta_ms, NULL, 0) ||
              ef_jcfg_u32(t, "prevote_ms", false, 0, CFG_MS_MAX, &cfg->prevote_ms, NULL, 0) ||
              ef_jcfg_u32(t, "prevote_delta_ms", false, 0, CFG_MS_MAX, &cfg->prevote_delta_ms, NULL, 0) ||
              ef_jcfg_u32(t, "precommit_ms", false, 0, CFG_MS_MAX, &cfg->precommit_ms, NULL, 0) ||
              ef_jcfg_u32(t, "precommit_delta_ms", false, 0, CFG_MS_MAX, &cfg->precommit_delta_ms, NULL, 0) ||
              ef_jcfg_u32(t, "resend_ms", false, 0, CFG_MS_MAX, &cfg->resend_ms, NULL, 0) ||
              ef_jcfg_u32(t, "empty_block_ms", false, 0, CFG_MS_MAX, &cfg->empty_block_ms, NULL, 0)))
        CFG_FAIL("timeouts: integers 0..%u ms expected", CFG_MS_MAX);
    if (cfg->propose_ms == 0 || cfg->prevote_ms == 0 || cfg->precommit_ms == 0)
        CFG_FAIL("timeouts must be positive");
    json_t *l = json_object_get(doc, "limits");
    static const char *const limits_known[] = {"mempool_txs", "mempool_bytes", "mempool_sender_txs",
        "mempool_nonce_gap", "mempool_ttl_s", "block_txs", "block_bytes", "sendq_bytes", NULL};
    if (l && ef_jcfg_only(l, limits_known, why, sizeof why)) CFG_FAIL("%s: limits: %s", path, why);
    if (l && (!json_is_object(l) ||
              ef_jcfg_size(l, "mempool_txs", false, 1, 10000000, &cfg->mempool_txs, NULL, 0) ||
              ef_jcfg_size(l, "mempool_bytes", false, 65536, (size_t)1 << 34, &cfg->mempool_bytes, NULL, 0) ||
              ef_jcfg_size(l, "mempool_sender_txs", false, 1, 100000, &cfg->mempool_sender_txs, NULL, 0) ||
              ef_jcfg_u32(l, "mempool_nonce_gap", false, 1, 100000, &cfg->mempool_nonce_gap, NULL, 0) ||
              ef_jcfg_u32(l, "mempool_ttl_s", false, 1, 86400, &cfg->mempool_ttl_s, NULL, 0) ||
              ef_jcfg_size(l, "block_txs", false, 1, EF_BLOCK_TXS_MAX, &cfg->block_txs, NULL, 0) ||
              ef_jcfg_size(l, "block_bytes", false, 4096, EF_BLOCK_BYTES_MAX, &cfg->block_bytes, NULL, 0) ||
              ef_jcfg_size(l, "sendq_bytes", false, 1u << 20, (size_t)1 << 31, &cfg->sendq_bytes, NULL, 0)))
        CFG_FAIL("limits: an integer out of range");
    return 0;
fail:
    ef_node_config_free(cfg);
    return rc;
}

json_t *ef_node_config_to_json(const ef_node_config *cfg)
{
    char hex[2 * EF_PUB_SIZE + 1];
    json_t *o = json_object();
    json_object_set_new(o, "chain_id", json_string(cfg->chain_id));
    json_object_set_new(o, "moniker", json_string(cfg->moniker));
    json_object_set_new(o, "key", json_string(cfg->key_path));
    json_object_set_new(o, "genesis", json_string(cfg->genesis_path));
    json_object_set_new(o, "data_dir", json_string(cfg->data_dir));
    json_object_set_new(o, "listen", json_string(cfg->listen));
    json_object_set_new(o, "http_listen", json_string(cfg->http_listen));
    json_object_set_new(o, "admin_socket", json_string(cfg->admin_socket));
    json_t *peers = json_array();
    for (size_t i = 0; i < cfg->peers_len; i++) {
        ef_hex(hex, cfg->peers[i].pub.b, EF_PUB_SIZE);
        json_array_append_new(peers, json_pack("{s:s,s:s}", "pub", hex, "addr", cfg->peers[i].addr));
    }
    json_object_set_new(o, "peers", peers);
    json_t *obs = json_array();
    for (size_t i = 0; i < cfg->observers_len; i++) {
        ef_hex(hex, cfg->observers[i].b, EF_PUB_SIZE);
        json_array_append_new(obs, json_string(hex));
    }
    json_object_set_new(o, "observers", obs);
    json_object_set_new(o, "timeouts", json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
        "propose_ms", (json_int_t)cfg->propose_ms, "propose_delta_ms", (json_int_t)cfg->propose_delta_ms,
        "prevote_ms", (json_int_t)cfg->prevote_ms, "prevote_delta_ms", (json_int_t)cfg->prevote_delta_ms,
        "precommit_ms", (json_int_t)cfg->precommit_ms,
        "precommit_delta_ms", (json_int_t)cfg->precommit_delta_ms,
        "resend_ms", (json_int_t)cfg->resend_ms, "empty_block_ms", (json_int_t)cfg->empty_block_ms));
    json_object_set_new(o, "limits", json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
        "mempool_txs", (json_int_t)cfg->mempool_txs, "mempool_bytes", (json_int_t)cfg->mempool_bytes,
        "mempool_sender_txs", (json_int_t)cfg->mempool_sender_txs,
        "mempool_nonce_gap", (json_int_t)cfg->mempool_nonce_gap,
        "mempool_ttl_s", (json_int_t)cfg->mempool_ttl_s,
        "block_txs", (json_int_t)cfg->block_txs, "block_bytes", (json_int_t)cfg->block_bytes,
        "sendq_bytes", (json_int_t)cfg->sendq_bytes));
    if (cfg->doc) {
        json_t *a = json_object_get(cfg->doc, "api");
        if (a) json_object_set(o, "api", a);
        a = json_object_get(cfg->doc, "agents");
        if (a) json_object_set(o, "agents", a);
    }
    return o;
}
