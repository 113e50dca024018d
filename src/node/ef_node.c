/* ef_node.c: the node's loop: open and close, the engine driven by timeouts and
 * P2P messages, gossip, the commit of decided blocks, extensions. Catch-up is in
 * ef_node_catchup.c, submission in ef_node_submit.c, status in ef_node_status.c. */
#include "node/ef_node.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "base/ef_codec.h"
#include "base/ef_log.h"
#include "ledger/ef_cert.h"
#include "consensus/ef_engine.h"
#include "consensus/ef_msg.h"
#include "consensus/ef_wal.h"
#include "ledger/ef_evidence.h"
#include "ledger/ef_genesis.h"
#include "ledger/ef_ledger.h"
#include "ledger/ef_mempool.h"
#include "net/ef_net.h"
#include "node/ef_node_int.h"

_Static_assert(EF_P2P_PAYLOAD_MAX >= 8 + 4 + EF_BLOCK_BYTES_MAX + 4 + EF_CERT_MAX,
               "a BLOCK message fits in a frame");
_Static_assert(EF_P2P_PAYLOAD_MAX >= EF_MSG_SIZE_MAX, "a proposal fits in a frame");

#define EF_NODE_GOSSIP_MAX 512          /* txs per gossip message */
#define EF_NODE_TICK_MS 1000

/* ---------------- small helpers ---------------- */

void ef_node_fatal(ef_node *n, int rc, const char *what)
{
    EF_LOGE("node", "%s: %s; stopping", what, ef_strerror(rc));
    if (!n->fatal) n->fatal = rc;
    ef_node_stop(n);
}

/* ---------------- gossip ---------------- */

static void node_gossip_flush(ef_node *n)
{
    if (n->gossip_count == 0) return;
    ef_wr w;
    ef_wr_init(&w);
    ef_wr_u32(&w, n->gossip_count);
    ef_wr_raw(&w, n->gossip.buf, n->gossip.len);
    if (!w.err) ef_net_broadcast(n->net, EF_P2P_TXS, w.buf, w.len, true, NULL);
    ef_wr_free(&w);
    ef_wr_reset(&n->gossip);
    n->gossip_count = 0;
}

static void node_gossip_timer(uv_timer_t *t)
{
    node_gossip_flush(t->data);
}

void ef_node_gossip_add(ef_node *n, const uint8_t *tx, size_t len)
{
    ef_wr_bytes(&n->gossip, tx, len);
    if (++n->gossip_count >= EF_NODE_GOSSIP_MAX || n->gossip.len > (1u << 20)) {
        node_gossip_flush(n);
        return;
    }
    /* 1 ms: with many peers, bigger batches are worth the wait (a 0 ms timer,
     * flushing every loop iteration, cost 7 validators ~10% of their throughput) */
    if (!uv_is_active((uv_handle_t *)&n->gossip_timer))
        uv_timer_start(&n->gossip_timer, node_gossip_timer, 1, 0);
}

/* ---------------- consensus driving ---------------- */

static void node_drain(ef_node *n);
static void node_maybe_start(ef_node *n);

static void node_cons_timer_cb(uv_timer_t *t);

static void node_timeout_arm(ef_node *n)
{
    if (n->touts_len == 0) {
        uv_timer_stop(&n->cons_timer);
        return;
    }
    uint64_t due = n->touts[0].due_ms;
    for (size_t i = 1; i < n->touts_len; i++) due = EF_MIN(due, n->touts[i].due_ms);
    uint64_t now = ef_node_now_ms(n);
    uv_timer_start(&n->cons_timer, node_cons_timer_cb, due > now ? due - now : 0, 0);
}

static void node_cons_timer_cb(uv_timer_t *t)
{
    ef_node *n = t->data;
    uint64_t now = ef_node_now_ms(n);
    /* collect the due ones first: on_timeout may schedule new ones */
    ef_tout due[EF_NODE_TIMEOUTS_MAX];
    size_t nd = 0;
    for (size_t i = 0; i < n->touts_len;) {
        if (n->touts[i].due_ms <= now) {
            due[nd++] = n->touts[i];
            n->touts[i] = n->touts[--n->touts_len];
        } else {
            i++;
        }
    }
    for (size_t i = 0; i < nd; i++) {
        if (due[i].height != ef_engine_height(n->eng)) continue;
        int rc = ef_engine_on_timeout(n->eng, due[i].height, due[i].round, due[i].step);
        if (rc == EF_EIO) {
            ef_node_fatal(n, rc, "WAL");
            return;
        }
        node_drain(n);
    }
    node_timeout_arm(n);
    ef_node_after(n);
}

static void node_timeout_add(ef_node *n, const ef_engine_out *o)
{
    if (n->touts_len == EF_NODE_TIMEOUTS_MAX) {
        /* drop the stalest (lowest height/round) to make room */
        size_t worst = 0;
        for (size_t i = 1; i < n->touts_len; i++)
            if (n->touts[i].height < n->touts[worst].height ||
                (n->touts[i].height == n->touts[worst].height && n->touts[i].round < n->touts[worst].round))
                worst = i;
        n->touts[worst] = n->touts[--n->touts_len];
        ef_node_count(n, "node_timeouts_full");
    }
    ef_tout *t = &n->touts[n->touts_len++];
    t->due_ms = ef_node_now_ms(n) + o->duration_ms;
    t->height = o->height;
    t->round = o->round;
    t->step = o->step;
    node_timeout_arm(n);
}

static void node_broadcast_consensus(ef_node *n, const uint8_t *msg, size_t len)
{
    ef_conn *cs[EF_NET_CONNS_MAX];
    size_t k = ef_net_conns(n->net, cs, EF_NET_CONNS_MAX);
    k = EF_MIN(k, (size_t)EF_NET_CONNS_MAX);
    for (size_t i = 0; i < k; i++) {
        ef_peer *p = ef_conn_data(cs[i]);
        if (p && p->validator) ef_net_send(n->net, cs[i], EF_P2P_CONSENSUS, msg, len, false);
    }
}

static void node_validate(ef_node *n, const ef_engine_out *o)
{
    bool valid;
    if (n->have_proposed && ef_hash_eq(&o->value_id, &n->proposed_id)) {
        valid = true;
    } else {
        ef_ledger_hooks hooks = {ef_mempool_sig_verified, n->mp};
        int rc = ef_ledger_check(n->store, o->data, o->len, &hooks);
        valid = rc == 0;
        if (!valid) {
            EF_LOGW("node", "height %llu: proposal invalid: %s", (unsigned long long)o->height,
                    ef_strerror(rc));
            ef_node_count(n, "block_invalid");
        }
    }
    (void)ef_engine_on_validity(n->eng, &o->value_id, valid);
}

/* ---------------- evidence ---------------- */

static void node_evidence_cb(void *arg, const ef_hash *h, int stage, int code, uint64_t height)
{
    ef_node *n = arg;
    (void)h;
    if (stage == EF_NODE_TX_ADMITTED && code) {
        EF_LOGW("node", "evidence report not admitted: %s", ef_strerror(code));
        ef_node_count(n, "evidence_not_admitted");
    } else if (stage == EF_NODE_TX_COMMITTED) {
        EF_LOGI("node", "evidence report committed in block %llu: %s", (unsigned long long)height,
                code ? ef_strerror(code) : "recorded");
        ef_node_count(n, code == 0 ? "evidence_recorded"
                                   : code == EF_ERECORDED ? "evidence_known" : "evidence_refused");
    }
}

/* The engine saw a double vote: a validator sends it to the contract that takes
 * evidence (ef_contract.evidence_method), through its own submission path, as a
 * transaction signed with its key. Proposals are not reported (ef_evidence.h). */
static void node_report_evidence(ef_node *n, const uint8_t *p, size_t len)
{
    const ef_contract *c = NULL;
    for (size_t i = 0; i < n->cfg.contracts_len && !c; i++)
        if (n->cfg.contracts[i]->evidence_method) c = n->cfg.contracts[i];
    if (!c || ef_vset_index(&n->vset_next, &n->kp.pub) < 0) return;
    ef_rd r;
    const uint8_t *a, *b;
    size_t a_len = 0, b_len = 0;
    ef_vote_evidence ev;
    ef_rd_init(&r, p, len);
    ef_rd_bytes(&r, &a, &a_len, EF_MSG_SIZE_MAX);
    ef_rd_bytes(&r, &b, &b_len, EF_MSG_SIZE_MAX);
    if (ef_rd_finish(&r) || ef_vote_evidence_parse(&ev, a, a_len, b, b_len)) {
        ef_node_count(n, "evidence_not_votes");
        return;
    }
    char args[2 * (2 * EF_VOTE_ENC_MAX) + 32];
    char ahex[2 * EF_VOTE_ENC_MAX + 1], bhex[2 * EF_VOTE_ENC_MAX + 1];
    ef_hex(ahex, a, a_len);
    ef_hex(bhex, b, b_len);
    snprintf(args, sizeof args, "{\"a\":\"%s\",\"b\":\"%s\"}", ahex, bhex);
    int rc = ef_node_submit_call(n, c->name, c->evidence_method, args, node_evidence_cb, n);
    char who[17];
    ef_hex(who, ev.offender.b, 8);
    EF_LOGW("node", "reporting double %s of %s.. at height %llu round %u to %s.%s: %s",
            ev.type == EF_VOTE_PREVOTE ? "prevote" : "precommit", who,
            (unsigned long long)ev.height, ev.round, c->name, c->evidence_method,
            rc ? ef_strerror(rc) : "queued");
    ef_node_count(n, rc ? "evidence_not_queued" : "evidence_reported");
}

static void node_drain(ef_node *n)
{
    ef_engine_out o;
    while (ef_engine_poll(n->eng, &o)) {
        switch (o.kind) {
        case EF_OUT_BROADCAST:
            EF_LOGD("node", "t=%llu send type %u h %llu r %u", (unsigned long long)ef_now_mono_us(),
                    o.data[0], (unsigned long long)o.height, o.round);
            /* the WAL is deferred: what the engine signed reaches the disk (one
             * flush for all records since the last send) before anything leaves */
            if (n->wal && ef_wal_file_sync(n->wal)) {
                ef_engine_out_free(&o);
                ef_node_fatal(n, EF_EIO, "WAL");
                return;
            }
            node_broadcast_consensus(n, o.data, o.len);
            break;
        case EF_OUT_TIMEOUT:
            node_timeout_add(n, &o);
            break;
        case EF_OUT_VALIDATE:
            EF_LOGD("node", "t=%llu validate h %llu", (unsigned long long)ef_now_mono_us(), (unsigned long long)o.height);
            node_validate(n, &o);
            EF_LOGD("node", "t=%llu validated", (unsigned long long)ef_now_mono_us());
            break;
        case EF_OUT_COMMIT:
            if (o.round > 0) {
                EF_LOGI("node", "height %llu decided in round %u", (unsigned long long)o.height, o.round);
                ef_node_count(n, "cons_round_changes");
            }
            EF_LOGD("node", "t=%llu commit h %llu", (unsigned long long)ef_now_mono_us(), (unsigned long long)o.height);
            if (o.height == n->height + 1) {
                int rc = ef_node_apply_committed(n, o.data, o.len, o.cert, o.cert_len);
                if (rc) ef_node_fatal(n, rc, "commit of a decided block failed");
            }
            break;
        case EF_OUT_EVIDENCE:
            EF_LOGW("node", "equivocation evidence at height %llu", (unsigned long long)o.height);
            ef_node_count(n, "cons_evidence");
            node_report_evidence(n, o.data, o.len);
            break;
        }
        ef_engine_out_free(&o);
    }
}

bool ef_node_verify(void *ctx, const ef_sig *sig, const ef_pub *pub, uint8_t tag, const void *msg,
                    size_t len)
{
    ef_node *n = ctx;
    n->cons_verified++;
    return ef_verify(sig, pub, tag, msg, len);
}

static int node_value_id(void *ctx, const uint8_t *value, size_t len, ef_hash *id)
{
    (void)ctx;
    return ef_block_hash_enc(id, value, len);
}

static int node_get_value(void *ctx, uint64_t height, uint32_t round, uint8_t **out, size_t *out_len)
{
    ef_node *n = ctx;
    (void)round;
    if (height != n->height + 1) return EF_EHEIGHT;
    size_t max = EF_MIN(n->cfg.block_txs, (size_t)EF_BLOCK_TXS_MAX);
    size_t k = ef_mempool_reap(n->mp, n->reap_buf, max, n->cfg.block_bytes - EF_BLOCK_HEADER_MAX - 64);
    ef_ledger_hooks hooks = {ef_mempool_sig_verified, n->mp};
    int rc = ef_ledger_propose(n->store, n->reap_buf, k, ef_now_wall_ms(), &n->kp.pub, &hooks,
                               n->reap_status, out, out_len);
    if (rc) {
        EF_LOGW("node", "cannot build block %llu: %s", (unsigned long long)height, ef_strerror(rc));
        return rc;
    }
    /* drop candidates the ledger refused for good (replays, undecodable) */
    for (size_t i = 0; i < k; i++) {
        int st = n->reap_status[i];
        if (st == 0 || st == EF_EFULL || st == EF_ENONCE) continue;
        ef_hash h;
        ef_tx_hash_enc(&h, n->reap_buf[i].enc, n->reap_buf[i].len);
        ef_node_count_tx(n, st);
        (void)ef_mempool_remove(n->mp, &h); /* frees only this entry's encoding */
        ef_node_tx_dropped(n, &h, st);
    }
    if (ef_block_hash_enc(&n->proposed_id, *out, *out_len) == 0) n->have_proposed = true;
    EF_LOGD("node", "proposing block %llu round %u", (unsigned long long)height, round);
    return 0;
}

/* Starts the engine at height + 1 if there is a reason to. */
static void node_start_height(ef_node *n)
{
    int rc = ef_engine_start_height(n->eng, n->height + 1, &n->vset_next);
    if (rc) {
        ef_node_fatal(n, rc, "engine start_height");
        return;
    }
    n->engine_started = true;
    n->have_proposed = false;
    EF_LOGD("node", "t=%llu start h %llu", (unsigned long long)ef_now_mono_us(), (unsigned long long)(n->height + 1));
    node_drain(n);
}

static bool node_has_reapable(ef_node *n)
{
    ef_txbuf one;
    return ef_mempool_reap(n->mp, &one, 1, EF_TX_ENC_MAX) > 0;
}

static void node_maybe_start(ef_node *n)
{
    /* (also while a catch-up request is out: a fetched block simply moves the
     * engine on to the following height) */
    if (n->engine_started || n->stopping) return;
    bool empty_due = n->cfg.empty_block_ms &&
                     ef_node_now_ms(n) - n->last_commit_ms >= n->cfg.empty_block_ms;
    if (node_has_reapable(n) || empty_due || n->start_asap) {
        n->start_asap = false;
        node_start_height(n);
    }
}

/* ---------------- committing ---------------- */

static void node_empty_timer_cb(uv_timer_t *t)
{
    ef_node_after(t->data); /* maybe_start sees the interval has passed */
}

/* With empty_block_ms set, a height starts that long after the last commit even
 * with no transaction waiting. */
static void node_empty_arm(ef_node *n)
{
    if (n->cfg.empty_block_ms && !n->stopping)
        uv_timer_start(&n->empty_timer, node_empty_timer_cb, n->cfg.empty_block_ms, 0);
}



static bool node_is_validator_key(ef_node *n, const ef_pub *pub);

/* Opens the vote WAL and gives the engine this node's key. Called before the
 * first height the node is a validator of starts (the engine signs from that
 * height on); an observer admitted by the registry signs without a restart. */
static int node_open_wal(ef_node *n)
{
    char path[EF_NODE_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/wal", n->cfg.data_dir);
    int rc = ef_wal_file_open(&n->wal, path);
    if (rc) {
        EF_LOGE("node", "cannot open WAL %s: %s", path, ef_strerror(rc));
        return rc;
    }
    ef_wal_file_set_deferred(n->wal, true); /* flushed in node_drain before a send */
    n->wal_ops = ef_wal_file_ops(n->wal);
    return 0;
}

static void node_become_signer(ef_node *n)
{
    int rc = node_open_wal(n);
    if (rc == 0 && (rc = ef_engine_set_key(n->eng, &n->kp, n->wal_ops))) {
        ef_wal_file_close(n->wal);
        n->wal = NULL;
    }
    if (rc) {
        ef_node_fatal(n, rc, "becoming a validator");
        return;
    }
    EF_LOGI("node", "this node is a validator from height %llu: it signs from then on",
            (unsigned long long)(n->height + 1));
}

/* The validator set changed (registry admission or removal): peers' roles follow. */
static void node_vset_changed(ef_node *n)
{
    ef_conn *cs[EF_NET_CONNS_MAX];
    size_t k = EF_MIN(ef_net_conns(n->net, cs, EF_NET_CONNS_MAX), (size_t)EF_NET_CONNS_MAX);
    for (size_t i = 0; i < k; i++) {
        ef_peer *p = ef_conn_data(cs[i]);
        if (p) p->validator = node_is_validator_key(n, ef_conn_pub(cs[i]));
    }
    bool member = ef_vset_index(&n->vset_next, &n->kp.pub) >= 0;
    EF_LOGI("node", "validator set changed at height %llu: %u validators%s",
            (unsigned long long)(n->height + 1), n->vset_next.len,
            member ? ", this node among them" : "");
    if (member && !n->wal) node_become_signer(n);
}

/* Pages of the LMDB map touched by reads (index and state look-ups during
 * execution, commit and API reads) count in the resident set; past this budget
 * over the resident size after the last release they are unmapped again
 * (ef_store_trim: they stay in the page cache). */
#define EF_NODE_MAP_RESIDENT_MAX (4ul << 20)

int ef_node_apply_committed(ef_node *n, const uint8_t *blk, size_t len, const uint8_t *cert,
                            size_t cert_len)
{
    ef_ledger_hooks hooks = {ef_mempool_sig_verified, n->mp};
    int rc = ef_ledger_commit_ex(n->store, blk, len, cert, cert_len, &hooks);
    if (rc) return rc;
    ef_block b;
    rc = ef_block_decode(&b, blk, len);
    EF_ASSERT(rc == 0); /* the ledger just accepted it */
    n->height = b.hdr.height;
    ef_block_header_hash(&n->last_hash, &b.hdr);
    n->last_time_ms = b.hdr.time_ms;
    n->last_commit_ms = ef_node_now_ms(n);
    node_empty_arm(n);
    n->blocks_committed++;
    n->txs_committed += b.txs_len;
    n->engine_started = n->engine_started && ef_engine_height(n->eng) > n->height;
    n->have_proposed = false;
    ef_vset before = n->vset_next;
    rc = ef_store_vset(n->store, n->height + 1, &n->vset_next);
    if (rc) return rc;
    if (before.len != n->vset_next.len ||
        memcmp(before.v, n->vset_next.v, before.len * sizeof before.v[0]))
        node_vset_changed(n);
    ef_mempool_committed(n->mp, &b);

    /* results, for the listeners and the waiters */
    bool want_all = n->listeners_len > 0;
    ef_node_tx_result *res = calloc(b.txs_len ? b.txs_len : 1, sizeof *res);
    char **evs = calloc(b.txs_len ? b.txs_len : 1, sizeof *evs);
    EF_ASSERT(res && evs);
    uint64_t now_us = ef_now_mono_us();
    for (uint32_t i = 0; i < b.txs_len; i++) {
        ef_waiter *w = ef_node_waiter_take(n, &b.txs[i].hash);
        res[i].events_json = "[]";
        if (want_all || (w && w->cb)) {
            /* the i-th tx of this block: its result directly (no tx index look-up) */
            if (ef_store_result(n->store, n->height, i, &res[i].code, &evs[i]) == 0 && evs[i])
                res[i].events_json = evs[i];
            else
                res[i].code = 0;
        }
        if (w) {
            ef_node_lat_record(n, (double)(now_us - w->admit_us) / 1000.0);
            if (w->cb) w->cb(w->arg, &w->hash, EF_NODE_TX_COMMITTED, res[i].code, n->height);
            free(w);
        }
    }
    ef_node_commit c = {n->height, n->last_hash, &b, blk, len, res, ef_now_wall_ms()};
    for (size_t i = 0; i < n->listeners_len; i++) n->listeners[i].fn(n->listeners[i].arg, &c);
    for (uint32_t i = 0; i < b.txs_len; i++) free(evs[i]);
    free(evs);
    free(res);
    EF_LOGI("node", "committed %llu (%u txs) t=%llu", (unsigned long long)n->height, b.txs_len,
            (unsigned long long)ef_now_mono_us());
    ef_block_free(&b);
    /* Observers learn of the block now; validator peers see the height from this
     * node's next consensus message (and the heartbeat), which saves n - 1 frames
     * per node per height (n^2 per height in all). */
    ef_node_send_status_observers(n);
    /* own-nonce bookkeeping for submit_call */
    uint64_t next;
    if (ef_store_nonce(n->store, &n->kp.pub, &next) == 0 && next > n->own_next) n->own_next = next;
    ef_node_snapshot(n);
    (void)ef_store_trim(n->store);
    return 0;
}


/* ---------------- P2P callbacks ---------------- */

static bool node_is_validator_key(ef_node *n, const ef_pub *pub)
{
    return ef_vset_index(&n->vset_next, pub) >= 0 || ef_vset_index(&n->vset_genesis, pub) >= 0;
}

static int node_allow(void *arg, const ef_pub *pub)
{
    ef_node *n = arg;
    if (node_is_validator_key(n, pub)) return 0;
    for (size_t i = 0; i < n->cfg.observers_len; i++)
        if (!memcmp(n->cfg.observers[i].b, pub->b, EF_PUB_SIZE)) return 0;
    for (size_t i = 0; i < n->cfg.peers_len; i++)
        if (!memcmp(n->cfg.peers[i].pub.b, pub->b, EF_PUB_SIZE)) return 0;
    return EF_EAUTH;
}

static void node_on_peer(void *arg, ef_conn *c, bool up)
{
    ef_node *n = arg;
    if (up) {
        ef_peer *p = calloc(1, sizeof *p);
        if (!p) {
            ef_net_close_conn(n->net, c, EF_NR_IO);
            return;
        }
        p->validator = node_is_validator_key(n, ef_conn_pub(c));
        ef_conn_set_data(c, p);
        ef_node_send_status(n, c);
    } else {
        free(ef_conn_data(c));
        ef_conn_set_data(c, NULL);
        if (n->sync_conn == c) n->sync_conn = NULL;
    }
    ef_node_snapshot(n);
}

void ef_node_after(ef_node *n)
{
    if (n->stopping) return;
    node_maybe_start(n);
}

static int node_on_txs(ef_node *n, ef_conn *c, const uint8_t *p, size_t len)
{
    ef_rd r;
    uint32_t count;
    ef_rd_init(&r, p, len);
    if (ef_rd_u32(&r, &count)) return EF_ETRUNC;
    if (count > EF_TXS_BATCH_MAX) return EF_ETOOBIG;
    ef_peer *peer = ef_conn_data(c);
    bool regossip = peer && !peer->validator;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *tx;
        size_t tl;
        if (ef_rd_bytes(&r, &tx, &tl, EF_TX_ENC_MAX)) return r.err;
        int rc = ef_mempool_add(n->mp, tx, tl, NULL);
        if (rc == 0 && regossip) ef_node_gossip_add(n, tx, tl);
        else if (rc && rc != EF_EDUP && rc != EF_ENONCE) ef_node_count_tx(n, rc);
    }
    return ef_rd_finish(&r);
}

static int node_on_consensus(ef_node *n, ef_conn *c, const uint8_t *p, size_t len)
{
    ef_peer *peer = ef_conn_data(c);
    if (!peer || !peer->validator) {
        ef_node_count(n, "cons_from_non_validator");
        return EF_EPERM;
    }
    ef_msg m;
    if (ef_msg_decode(&m, p, len) == 0) {
        /* A validator sends messages of the height it works on only (its own, or
         * the votes it relays for that height): it has committed m.height - 1. A
         * hint for catch-up, as a STATUS is. */
        if (m.height > 0 && m.height - 1 > peer->height) peer->height = m.height - 1;
        /* a message for the next height: the network is running it, join in */
        if (!n->engine_started && m.height == n->height + 1) node_start_height(n);
    }
    /* the session authenticates the peer by its validator key (node_allow) */
    int rc = ef_engine_on_message_from(n->eng, p, len, ef_conn_pub(c));
    if (rc == EF_EIO) {
        ef_node_fatal(n, rc, "WAL");
        return 0;
    }
    node_drain(n);
    const ef_engine_stats *es = ef_engine_get_stats(n->eng);
    if (es->height_seen > n->height + 1) ef_node_sync_request(n);
    return 0;
}

static int node_on_msg(void *arg, ef_conn *c, uint8_t type, const uint8_t *p, size_t len)
{
    ef_node *n = arg;
    int rc = 0;
    switch (type) {
    case EF_P2P_STATUS:
        rc = ef_node_on_status(n, c, p, len);
        if (rc) return rc;
        break;
    case EF_P2P_TXS:
        rc = node_on_txs(n, c, p, len);
        break;
    case EF_P2P_CONSENSUS:
        rc = node_on_consensus(n, c, p, len);
        break;
    case EF_P2P_BLOCK_REQ:
        ef_node_on_block_req(n, c, p, len);
        break;
    case EF_P2P_BLOCK:
        rc = ef_node_on_block(n, c, p, len);
        break;
    default:
        return EF_EPROTO;
    }
    ef_node_after(n);
    return rc;
}


/* ---------------- tick ---------------- */

static void node_tick(uv_timer_t *t)
{
    ef_node *n = t->data;
    ef_node_sync_tick(n);
    (void)ef_mempool_expire(n->mp);
    ef_node_after(n);
    ef_node_snapshot(n);
}

/* ---------------- lifecycle ---------------- */

/* The mempool's admission rule for senders: the ledger's (ef_store_account). */
static int node_mempool_account(void *store, const ef_pub *sender)
{
    return ef_store_account(store, sender);
}

int ef_node_open(ef_node **out, const ef_node_config *cfg)
{
    int rc;
    char err[256];
    *out = NULL;
    ef_node *n = calloc(1, sizeof *n);
    if (!n) return EF_ENOMEM;
    n->cfg = *cfg;
    if (cfg->doc) json_incref(cfg->doc);
    pthread_mutex_init(&n->mu, NULL);
    uv_loop_init(&n->loop);
    n->loop_init = true;
    ef_wr_init(&n->gossip);

    rc = ef_key_load(&n->kp, cfg->key_path);
    if (rc) {
        EF_LOGE("node", "cannot load key %s: %s", cfg->key_path, ef_strerror(rc));
        goto fail;
    }
    if (mkdir(cfg->data_dir, 0700) && errno != EEXIST) {
        EF_LOGE("node", "cannot create %s: %s", cfg->data_dir, strerror(errno));
        rc = EF_EIO;
        goto fail;
    }
    char path[EF_NODE_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/store", cfg->data_dir);
    rc = ef_store_open(&n->store, path,
                       &(ef_store_opts){.contracts = cfg->contracts, .contracts_len = cfg->contracts_len});
    if (rc) {
        EF_LOGE("node", "cannot open store %s: %s", path, ef_strerror(rc));
        goto fail;
    }
    if (ef_store_set_resident_budget(n->store, EF_NODE_MAP_RESIDENT_MAX))
        EF_LOGW("node", "cannot read /proc/self/statm: the store's mapped pages are not trimmed");
    ef_genesis g;
    rc = ef_genesis_load(&g, cfg->genesis_path, err, sizeof err);
    if (rc) {
        EF_LOGE("node", "genesis %s: %s", cfg->genesis_path, err);
        goto fail;
    }
    if (strcmp(g.chain_id, cfg->chain_id)) {
        EF_LOGE("node", "genesis chain %s differs from the config's %s", g.chain_id, cfg->chain_id);
        ef_genesis_free(&g);
        rc = EF_ECONFIG;
        goto fail;
    }
    n->vset_genesis = g.vset;
    rc = ef_store_init_genesis(n->store, &g);
    ef_genesis_free(&g);
    if (rc) {
        EF_LOGE("node", "genesis: %s", ef_strerror(rc));
        goto fail;
    }
    ef_store_info info;
    rc = ef_store_info_get(n->store, &info);
    if (rc) goto fail;
    n->height = info.height;
    n->last_hash = info.last_hash;
    n->last_time_ms = info.last_time_ms;
    rc = ef_store_vset(n->store, n->height + 1, &n->vset_next);
    if (rc) goto fail;
    (void)ef_store_nonce(n->store, &n->kp.pub, &n->own_next);
    /* txs committed so far: sum of block tx counts would need a scan; count from here */
    n->txs_committed = 0;

    ef_mempool_cfg mc = {
        .chain_id = cfg->chain_id, .count_max = cfg->mempool_txs, .bytes_max = cfg->mempool_bytes,
        .nonce = (ef_mempool_nonce_fn)ef_store_nonce, .nonce_arg = n->store,
        .on_drop = ef_node_tx_dropped, .drop_arg = n,
        .account = node_mempool_account, .account_arg = n->store,
        .sender_max = cfg->mempool_sender_txs, .gap_max = cfg->mempool_nonce_gap,
        .ttl_ms = (uint64_t)cfg->mempool_ttl_s * 1000,
    };
    rc = ef_mempool_new(&n->mp, &mc);
    if (rc) goto fail;
    n->reap_buf = calloc(EF_BLOCK_TXS_MAX, sizeof *n->reap_buf);
    n->reap_status = calloc(EF_BLOCK_TXS_MAX, sizeof *n->reap_status);
    if (!n->reap_buf || !n->reap_status) {
        rc = EF_ENOMEM;
        goto fail;
    }

    bool is_val = ef_vset_index(&n->vset_next, &n->kp.pub) >= 0 ||
                  ef_vset_index(&n->vset_genesis, &n->kp.pub) >= 0;
    ef_engine_cfg ec;
    ef_engine_cfg_defaults(&ec);
    ec.chain_id = cfg->chain_id;
    if (is_val) {
        if ((rc = node_open_wal(n))) goto fail;
        ec.key = &n->kp;
        ec.wal = n->wal_ops;
    }
    ec.get_value = node_get_value;
    ec.value_id = node_value_id;
    ec.cb_ctx = n;
    ec.verify = ef_node_verify;
    ec.verify_ctx = n;
    ec.propose_ms = cfg->propose_ms;
    ec.propose_delta_ms = cfg->propose_delta_ms;
    ec.prevote_ms = cfg->prevote_ms;
    ec.prevote_delta_ms = cfg->prevote_delta_ms;
    ec.precommit_ms = cfg->precommit_ms;
    ec.precommit_delta_ms = cfg->precommit_delta_ms;
    ec.resend_ms = cfg->resend_ms;
    rc = ef_engine_new(&n->eng, &ec);
    if (rc) goto fail;

    uv_timer_init(&n->loop, &n->cons_timer);
    n->cons_timer.data = n;
    uv_timer_init(&n->loop, &n->tick);
    n->tick.data = n;
    uv_timer_init(&n->loop, &n->gossip_timer);
    n->gossip_timer.data = n;
    uv_timer_init(&n->loop, &n->empty_timer);
    n->empty_timer.data = n;
    uv_async_init(&n->loop, &n->async, ef_node_async_cb);
    n->async.data = n;
    n->handles_init = true;

    ef_net_cfg nc = {0};
    nc.loop = &n->loop;
    nc.kp = &n->kp;
    ef_wire_netid(&nc.netid, cfg->chain_id);
    nc.listen = cfg->listen[0] ? cfg->listen : NULL;
    nc.sendq_bytes_max = cfg->sendq_bytes;
    nc.allow = node_allow;
    nc.on_peer = node_on_peer;
    nc.on_msg = node_on_msg;
    nc.arg = n;
    rc = ef_net_start(&n->net, &nc);
    if (rc) {
        EF_LOGE("node", "P2P listen on %s failed", cfg->listen);
        goto fail;
    }
    for (size_t i = 0; i < cfg->peers_len; i++) {
        if (!memcmp(cfg->peers[i].pub.b, n->kp.pub.b, EF_PUB_SIZE)) continue;
        rc = ef_net_add_peer(n->net, &cfg->peers[i].pub, cfg->peers[i].addr);
        if (rc) {
            EF_LOGE("node", "bad peer address %s", cfg->peers[i].addr);
            goto fail;
        }
    }
    rc = ef_node_snapshot_init(n);
    if (rc) goto fail;
    *out = n;
    return 0;
fail:
    ef_node_shutdown(n);
    if (n->handles_init) while (uv_run(&n->loop, UV_RUN_DEFAULT)) {}
    ef_node_close(n);
    return rc ? rc : EF_EINVAL;
}

int ef_node_add_ext(ef_node *n, const ef_node_ext *ext)
{
    if (n->exts_len >= EF_NODE_EXTS_MAX) return EF_EFULL;
    n->exts[n->exts_len++].ext = ext;
    return 0;
}

int ef_node_on_commit(ef_node *n, ef_node_commit_fn fn, void *arg)
{
    if (n->listeners_len >= EF_NODE_LISTENERS_MAX) return EF_EFULL;
    n->listeners[n->listeners_len].fn = fn;
    n->listeners[n->listeners_len++].arg = arg;
    return 0;
}

int ef_node_run(ef_node *n)
{
    for (size_t i = 0; i < n->exts_len; i++) {
        const ef_node_ext *x = n->exts[i].ext;
        int rc = x->start(n, &n->cfg, &n->exts[i].state);
        if (rc) {
            EF_LOGE("node", "extension %s failed to start: %s", x->name, ef_strerror(rc));
            n->fatal = rc;
            ef_node_shutdown(n);
            break;
        }
        n->exts[i].started = true;
    }
    if (!n->stopping) {
        uv_timer_start(&n->tick, node_tick, EF_NODE_TICK_MS, EF_NODE_TICK_MS);
        n->last_commit_ms = ef_node_now_ms(n);
        node_empty_arm(n);
        /* resume at once: after a restart the WAL may hold votes for this height */
        node_start_height(n);
        EF_LOGI("node", "%s up at height %llu (%s)", n->cfg.moniker, (unsigned long long)n->height,
                ef_vset_index(&n->vset_next, &n->kp.pub) >= 0 ? "validator" : "observer");
    }
    while (uv_run(&n->loop, UV_RUN_DEFAULT)) {}
    return n->fatal;
}

void ef_node_stop(ef_node *n)
{
    /* async-signal-safe: one atomic store and uv_async_send */
    atomic_store(&n->stop_flag, 1);
    uv_async_send(&n->async);
}

static void node_handle_closed(uv_handle_t *h) { (void)h; }

void ef_node_shutdown(ef_node *n)
{
    if (n->stopping) return;
    n->stopping = true;
    pthread_mutex_lock(&n->mu);
    n->stop_req = true;
    pthread_mutex_unlock(&n->mu);
    for (size_t i = n->exts_len; i-- > 0;)
        if (n->exts[i].started) {
            n->exts[i].ext->stop(n->exts[i].state);
            n->exts[i].started = false;
        }
    ef_node_waiters_close(n); /* tell them the node is going */
    if (n->net) {
        ef_net_stop(n->net);
        n->net = NULL;
    }
    if (n->handles_init) {
        uv_close((uv_handle_t *)&n->cons_timer, node_handle_closed);
        uv_close((uv_handle_t *)&n->tick, node_handle_closed);
        uv_close((uv_handle_t *)&n->gossip_timer, node_handle_closed);
        uv_close((uv_handle_t *)&n->empty_timer, node_handle_closed);
        uv_close((uv_handle_t *)&n->async, node_handle_closed);
    }
}

void ef_node_close(ef_node *n)
{
    if (!n) return;
    if (n->loop_init) {
        if (!n->stopping) ef_node_shutdown(n);
        while (uv_run(&n->loop, UV_RUN_DEFAULT)) {}
        uv_loop_close(&n->loop);
    }
    ef_node_subq_free(n); /* anything still queued by other threads */
    ef_engine_free(n->eng);
    ef_mempool_free(n->mp);
    ef_store_close(n->store);
    ef_wal_file_close(n->wal);
    free(n->reap_buf);
    free(n->reap_status);
    ef_wr_free(&n->gossip);
    free(n->snaps);
    pthread_mutex_destroy(&n->mu);
    ef_node_config_free(&n->cfg);
    free(n);
}

ef_store *ef_node_store(ef_node *n) { return n->store; }
const ef_node_config *ef_node_cfg(const ef_node *n) { return &n->cfg; }
const ef_keypair *ef_node_key(const ef_node *n) { return &n->kp; }
uv_loop_t *ef_node_loop(ef_node *n) { return &n->loop; }
