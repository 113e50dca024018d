/* ef_node_catchup.c: catch-up: peers exchange their height (STATUS), a node behind
 * fetches blocks (BLOCK_REQ), checks each certificate against its height's
 * validator set and commits the block; the serving side of BLOCK_REQ. */
#include <stdlib.h>
#include <string.h>

#include "base/ef_codec.h"
#include "base/ef_log.h"
#include "ledger/ef_cert.h"
#include "node/ef_node_int.h"

#define EF_NODE_SYNC_BLOCKS 16          /* blocks asked for per catch-up request */
#define EF_NODE_SYNC_WAIT_MS 3000
#define EF_NODE_SYNC_BYTES (4u << 20)   /* block bytes served per catch-up request */

/* ---------------- height exchange ---------------- */

void ef_node_send_status(ef_node *n, ef_conn *c)
{
    uint8_t p[8 + EF_HASH_SIZE];
    ef_put_u64le(p, n->height);
    memcpy(p + 8, n->last_hash.b, EF_HASH_SIZE);
    if (c) ef_net_send(n->net, c, EF_P2P_STATUS, p, sizeof p, true);
    else ef_net_broadcast(n->net, EF_P2P_STATUS, p, sizeof p, true, NULL);
}

void ef_node_send_status_observers(ef_node *n)
{
    ef_conn *cs[EF_NET_CONNS_MAX];
    size_t k = EF_MIN(ef_net_conns(n->net, cs, EF_NET_CONNS_MAX), (size_t)EF_NET_CONNS_MAX);
    for (size_t i = 0; i < k; i++) {
        ef_peer *p = ef_conn_data(cs[i]);
        if (p && !p->validator) ef_node_send_status(n, cs[i]);
    }
}

/* ---------------- catch-up ---------------- */

void ef_node_sync_request(ef_node *n)
{
    if (n->sync_conn || n->stopping) return;
    ef_conn *cs[EF_NET_CONNS_MAX];
    size_t k = EF_MIN(ef_net_conns(n->net, cs, EF_NET_CONNS_MAX), (size_t)EF_NET_CONNS_MAX);
    ef_conn *best = NULL;
    uint64_t best_h = n->height;
    for (size_t i = 0; i < k; i++) {
        ef_peer *p = ef_conn_data(cs[i]);
        if (p && p->height > best_h) {
            best = cs[i];
            best_h = p->height;
        }
    }
    if (!best) {
        n->behind_since_ms = 0;
        return;
    }
    uint64_t now = ef_node_now_ms(n);
    if (!n->behind_since_ms) n->behind_since_ms = now;
    /* A block or two behind is normal for a moment (a peer committed first, or
     * this process was descheduled): consensus messages will bring it along. */
    bool follower = ef_vset_index(&n->vset_next, &n->kp.pub) < 0; /* observers only sync */
    if (!follower && best_h < n->height + 3 && now - n->behind_since_ms < 1000) return;
    uint8_t p[12];
    uint32_t count = (uint32_t)EF_MIN(best_h - n->height, (uint64_t)EF_NODE_SYNC_BLOCKS);
    ef_put_u64le(p, n->height + 1);
    ef_put_u32le(p + 8, count);
    if (ef_net_send(n->net, best, EF_P2P_BLOCK_REQ, p, sizeof p, false)) return;
    n->sync_conn = best;
    n->sync_until = n->height + count;
    n->sync_deadline_ms = now + EF_NODE_SYNC_WAIT_MS;
    EF_LOGI("node", "catching up: asking %s for %u blocks from %llu", ef_conn_addr(best), count,
            (unsigned long long)(n->height + 1));
}

static void node_sync_done(ef_node *n)
{
    n->sync_conn = NULL;
    n->behind_since_ms = 0;
    ef_node_sync_request(n);
}

int ef_node_on_status(ef_node *n, ef_conn *c, const uint8_t *p, size_t len)
{
    if (len != 8 + EF_HASH_SIZE) return EF_EPROTO;
    ef_peer *peer = ef_conn_data(c);
    if (peer) peer->height = ef_get_u64le(p);
    if (c == n->sync_conn) node_sync_done(n); /* a batch ends with a STATUS */
    else if (peer && peer->height > n->height) ef_node_sync_request(n);
    return 0;
}

void ef_node_sync_tick(ef_node *n)
{
    if (n->sync_conn && ef_node_now_ms(n) > n->sync_deadline_ms) {
        EF_LOGI("node", "catch-up request timed out");
        n->sync_conn = NULL;
    }
    ef_node_send_status(n, NULL); /* heartbeat: height, and keeps links from idling out */
    ef_node_sync_request(n);
}

int ef_node_on_block(ef_node *n, ef_conn *c, const uint8_t *p, size_t len)
{
    ef_rd r;
    uint64_t h;
    const uint8_t *blk, *cert;
    size_t blk_len, cert_len;
    ef_rd_init(&r, p, len);
    ef_rd_u64(&r, &h);
    ef_rd_bytes(&r, &blk, &blk_len, EF_BLOCK_BYTES_MAX);
    ef_rd_bytes(&r, &cert, &cert_len, EF_CERT_MAX);
    int rc = ef_rd_finish(&r);
    if (rc) return rc;
    if (h != n->height + 1) { /* stale or out of order: ignore */
        if (c == n->sync_conn && h >= n->sync_until) node_sync_done(n);
        return 0;
    }
    ef_hash id;
    rc = ef_block_hash_enc(&id, blk, blk_len);
    if (rc) return rc;
    ef_vset vs;
    rc = ef_store_vset(n->store, h, &vs);
    if (rc) return 0;
    rc = ef_cert_verify_with(cert, cert_len, n->cfg.chain_id, h, &id, &vs, ef_node_verify, n);
    if (rc) {
        ef_node_count(n, "sync_bad_cert");
        return EF_ECERT;
    }
    rc = ef_node_apply_committed(n, blk, blk_len, cert, cert_len);
    if (rc == EF_EIO || rc == EF_EDB) {
        ef_node_fatal(n, rc, "commit of a fetched block");
        return 0;
    }
    if (rc) {
        /* a certified block the ledger refuses: our state differs from the quorum's */
        ef_node_count(n, "sync_block_refused");
        EF_LOGE("node", "certified block %llu refused: %s", (unsigned long long)h, ef_strerror(rc));
        return EF_EPROTO;
    }
    n->touts_len = 0; /* timeouts of the height we skipped are stale */
    if (c == n->sync_conn && h >= n->sync_until) node_sync_done(n);
    n->start_asap = true; /* follow the network: the next height is likely running */
    return 0;
}

/* Serves up to count blocks from `from`, at most EF_NODE_SYNC_BYTES of them (at
 * least one), then a STATUS, which tells the asker this batch is over. */
void ef_node_on_block_req(ef_node *n, ef_conn *c, const uint8_t *p, size_t len)
{
    if (len != 12) return;
    uint64_t from = ef_get_u64le(p);
    uint32_t count = EF_MIN(ef_get_u32le(p + 8), (uint32_t)EF_BLOCK_REQ_MAX);
    size_t sent = 0;
    for (uint64_t h = EF_MAX(from, 1); h < from + count && h <= n->height && sent < EF_NODE_SYNC_BYTES; h++) {
        uint8_t *blk = NULL, *cert = NULL;
        size_t bl = 0, cl = 0;
        if (ef_store_block(n->store, h, &blk, &bl) || ef_store_cert(n->store, h, &cert, &cl)) {
            free(blk);
            free(cert);
            break;
        }
        ef_wr w;
        ef_wr_init(&w);
        ef_wr_u64(&w, h);
        ef_wr_bytes(&w, blk, bl);
        ef_wr_bytes(&w, cert, cl);
        int rc = w.err ? w.err : ef_net_send(n->net, c, EF_P2P_BLOCK, w.buf, w.len, false);
        sent += w.len;
        ef_wr_free(&w);
        free(blk);
        free(cert);
        if (rc) return;
    }
    ef_node_send_status(n, c);
}
