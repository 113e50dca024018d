/* ef_node_status.c: the node's counters (rejected input, commit latency) and its
 * status snapshot, published by the loop and read from any thread. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ef_codec.h"
#include "node/ef_node_int.h"

/* ---------------- counters ---------------- */

const double ef_node_lat_bounds_ms[EF_NODE_LAT_BUCKETS - 1] = {
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000,
};

void ef_node_count(ef_node *n, const char *reason)
{
    for (size_t i = 0; i < n->rej_len; i++)
        if (!strcmp(n->rej[i].reason, reason)) {
            n->rej[i].count++;
            return;
        }
    if (n->rej_len < EF_NODE_REJECT_REASONS) {
        snprintf(n->rej[n->rej_len].reason, sizeof n->rej[0].reason, "%s", reason);
        n->rej[n->rej_len++].count = 1;
    }
}

void ef_node_count_tx(ef_node *n, int rc)
{
    char r[32];
    snprintf(r, sizeof r, "tx_%s", ef_errname(rc));
    ef_node_count(n, r);
}

void ef_node_lat_record(ef_node *n, double ms)
{
    int b = EF_NODE_LAT_BUCKETS - 1;
    for (int i = 0; i < EF_NODE_LAT_BUCKETS - 1; i++)
        if (ms <= ef_node_lat_bounds_ms[i]) {
            b = i;
            break;
        }
    n->lat_counts[b]++;
    n->lat_count++;
    n->lat_sum_ms += ms;
}

/* ---------------- status snapshot ---------------- */

static void ef_node_snap_fill(ef_node *n, ef_node_status *s)
{
    memset(s, 0, sizeof *s);    /* padding too: snapshots are compared with memcmp */
    snprintf(s->chain_id, sizeof s->chain_id, "%s", n->cfg.chain_id);
    snprintf(s->moniker, sizeof s->moniker, "%s", n->cfg.moniker);
    s->key = n->kp.pub;
    s->validator = ef_vset_index(&n->vset_next, &n->kp.pub) >= 0;
    s->height = n->height;
    s->last_hash = n->last_hash;
    s->last_time_ms = n->last_time_ms;
    s->round = n->engine_started ? ef_engine_round(n->eng) : 0;
    s->step = n->engine_started && !ef_engine_decided(n->eng) ? (int)ef_engine_step(n->eng) : 0;
    s->catching_up = n->sync_conn != NULL;
    s->vset = n->vset_next;
    if (n->net) {
        ef_conn *cs[EF_NODE_PEERS_MAX];
        size_t k = ef_net_conns(n->net, cs, EF_NODE_PEERS_MAX);
        k = EF_MIN(k, (size_t)EF_NODE_PEERS_MAX);
        for (size_t i = 0; i < k; i++) {
            s->peers[i] = *ef_conn_pub(cs[i]);
            ef_peer *p = ef_conn_data(cs[i]);
            s->peer_heights[i] = p ? p->height : 0;
        }
        s->peers_len = k;
    }
    ef_mempool_stats ms;
    ef_mempool_get_stats(n->mp, &ms);
    s->mempool_txs = ms.count;
    s->mempool_bytes = ms.bytes;
    s->txs_committed = n->txs_committed;
    s->blocks_committed = n->blocks_committed;
    s->cons_received = ef_engine_get_stats(n->eng)->received;
    s->cons_verified = n->cons_verified;
    memcpy(s->lat_counts, n->lat_counts, sizeof s->lat_counts);
    s->lat_count = n->lat_count;
    s->lat_sum_ms = n->lat_sum_ms;
    /* rejected input: node counters, the transport's and the engine's */
    size_t r = 0;
    for (size_t i = 0; i < n->rej_len && r < EF_NODE_REJECT_REASONS; i++) {
        snprintf(s->rejected[r].reason, sizeof s->rejected[r].reason, "%s", n->rej[i].reason);
        s->rejected[r++].count = n->rej[i].count;
    }
    if (n->net) {
        ef_net_stats ns;
        ef_net_get_stats(n->net, &ns);
        s->frames_in = ns.frames_in;
        s->frames_out = ns.frames_out;
        s->writes_out = ns.writes_out;
        s->bytes_in = ns.bytes_in;
        s->bytes_out = ns.bytes_out;
        for (int i = 0; i < EF_NR_COUNT_ && r < EF_NODE_REJECT_REASONS; i++) {
            if (!ns.closed[i] || i == EF_NR_IO || i == EF_NR_DUPLICATE) continue;
            snprintf(s->rejected[r].reason, sizeof s->rejected[r].reason, "net_%s",
                     ef_net_reason_name(i));
            s->rejected[r++].count = ns.closed[i];
        }
        if (ns.dropped && r < EF_NODE_REJECT_REASONS) {
            snprintf(s->rejected[r].reason, sizeof s->rejected[r].reason, "net_gossip_dropped");
            s->rejected[r++].count = ns.dropped;
        }
    }
    const ef_engine_stats *es = ef_engine_get_stats(n->eng);
    for (int i = 0; i < EF_DROP_COUNT_ && r < EF_NODE_REJECT_REASONS; i++) {
        if (!es->dropped[i] || i == EF_DROP_DUPLICATE || i == EF_DROP_HEIGHT || i == EF_DROP_LATE) continue;
        snprintf(s->rejected[r].reason, sizeof s->rejected[r].reason, "cons_%s",
                 ef_drop_name((ef_drop)i));
        s->rejected[r++].count = es->dropped[i];
    }
    s->rejected_len = r;
}

void ef_node_snapshot(ef_node *n)
{
    ef_node_status *s = &n->snap_tmp;
    ef_node_snap_fill(n, s);
    unsigned cur = atomic_load(&n->snap_cur);      /* only this thread changes it */
    s->seq = n->snaps[cur].st.seq;
    if (!memcmp(s, &n->snaps[cur].st, sizeof *s)) return;   /* nothing changed */
    s->seq++;
    for (unsigned k = 1; k < EF_NODE_SNAP_SLOTS; k++) {
        unsigned j = (cur + k) % EF_NODE_SNAP_SLOTS;
        if (atomic_load(&n->snaps[j].refs)) continue;
        /* not current and unheld: a reader that takes it from here on sees that it
         * is not current (until the store below, after the copy) and lets go */
        n->snaps[j].st = *s;
        atomic_store(&n->snap_cur, j);
        return;
    }
    n->snap_deferred++;
}

int ef_node_snapshot_init(ef_node *n)
{
    n->snaps = calloc(EF_NODE_SNAP_SLOTS, sizeof *n->snaps);
    if (!n->snaps) return EF_ENOMEM;
    for (unsigned i = 0; i < EF_NODE_SNAP_SLOTS; i++) atomic_init(&n->snaps[i].refs, 0);
    atomic_init(&n->snap_cur, 0);
    ef_node_snap_fill(n, &n->snaps[0].st);
    return 0;
}

const ef_node_status *ef_node_status_hold(ef_node *n)
{
    for (;;) {
        unsigned i = atomic_load(&n->snap_cur);
        atomic_fetch_add(&n->snaps[i].refs, 1);
        if (atomic_load(&n->snap_cur) == i) return &n->snaps[i].st;
        atomic_fetch_sub(&n->snaps[i].refs, 1);    /* replaced meanwhile: take the new one */
    }
}

void ef_node_status_release(const ef_node_status *st)
{
    if (!st) return;
    ef_node_snap *sn = (ef_node_snap *)((char *)st - offsetof(ef_node_snap, st));
    atomic_fetch_sub(&sn->refs, 1);
}

void ef_node_get_status(ef_node *n, ef_node_status *out)
{
    const ef_node_status *st = ef_node_status_hold(n);
    *out = *st;
    ef_node_status_release(st);
}

json_t *ef_node_status_json(ef_node *n)
{
    const ef_node_status *s = ef_node_status_hold(n);
    char hex[2 * EF_HASH_SIZE + 1];
    json_t *o = json_object();
    json_object_set_new(o, "chain_id", json_string(s->chain_id));
    json_object_set_new(o, "moniker", json_string(s->moniker));
    ef_hex(hex, s->key.b, EF_PUB_SIZE);
    json_object_set_new(o, "key", json_string(hex));
    json_object_set_new(o, "validator", json_boolean(s->validator));
    json_object_set_new(o, "height", json_integer((json_int_t)s->height));
    ef_hex(hex, s->last_hash.b, EF_HASH_SIZE);
    json_object_set_new(o, "last_hash", json_string(hex));
    json_object_set_new(o, "last_time", json_integer((json_int_t)s->last_time_ms));
    json_object_set_new(o, "round", json_integer((json_int_t)s->round));
    json_object_set_new(o, "step", json_integer(s->step));
    json_object_set_new(o, "catching_up", json_boolean(s->catching_up));
    json_t *vs = json_array();
    for (uint32_t i = 0; i < s->vset.len; i++) {
        ef_hex(hex, s->vset.v[i].pub.b, EF_PUB_SIZE);
        json_array_append_new(vs, json_pack("{s:s,s:I}", "key", hex, "power",
                                            (json_int_t)s->vset.v[i].power));
    }
    json_object_set_new(o, "validators", vs);
    json_t *ps = json_array();
    for (size_t i = 0; i < s->peers_len; i++) {
        ef_hex(hex, s->peers[i].b, EF_PUB_SIZE);
        json_array_append_new(ps, json_pack("{s:s,s:I}", "key", hex, "height",
                                            (json_int_t)s->peer_heights[i]));
    }
    json_object_set_new(o, "peers", ps);
    json_object_set_new(o, "mempool_txs", json_integer((json_int_t)s->mempool_txs));
    json_object_set_new(o, "mempool_bytes", json_integer((json_int_t)s->mempool_bytes));
    json_object_set_new(o, "txs_committed", json_integer((json_int_t)s->txs_committed));
    json_object_set_new(o, "blocks_committed", json_integer((json_int_t)s->blocks_committed));
    json_object_set_new(o, "work", json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "cons_received",
                                             (json_int_t)s->cons_received, "cons_verified",
                                             (json_int_t)s->cons_verified, "frames_in", (json_int_t)s->frames_in,
                                             "frames_out", (json_int_t)s->frames_out, "bytes_in",
                                             (json_int_t)s->bytes_in, "bytes_out", (json_int_t)s->bytes_out,
                                             "writes_out", (json_int_t)s->writes_out));
    json_t *rj = json_object();
    for (size_t i = 0; i < s->rejected_len; i++)
        json_object_set_new(rj, s->rejected[i].reason, json_integer((json_int_t)s->rejected[i].count));
    json_object_set_new(o, "rejected", rj);
    ef_node_status_release(s);
    return o;
}
