/* ef_node_submit.c: submission: the queue other threads hand transactions and
 * calls to (ef_node_submit, _wait, _call), admission on the loop thread
 * (ef_node_submit_local), and the waiter table of admitted transactions awaiting
 * their commit or drop callback. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ef_codec.h"
#include "base/ef_log.h"
#include "node/ef_node_int.h"

/* ---------------- waiters (submitted txs awaiting commit) ---------------- */

static size_t waiter_bucket(const ef_hash *h) { return ef_get_u32le(h->b) % EF_NODE_WAITER_BUCKETS; }

static ef_waiter *waiter_find(ef_node *n, const ef_hash *h, ef_waiter ***link)
{
    ef_waiter **pp = &n->waiters[waiter_bucket(h)];
    for (; *pp; pp = &(*pp)->next)
        if (ef_hash_eq(&(*pp)->hash, h)) {
            if (link) *link = pp;
            return *pp;
        }
    return NULL;
}

static void waiter_add(ef_node *n, const ef_hash *h, ef_node_tx_cb cb, void *arg)
{
    int refused = n->waiters_len >= EF_NODE_WAITERS_MAX ? EF_EFULL
                : waiter_find(n, h, NULL)             ? EF_EDUP
                                                      : 0;
    if (refused) {
        if (cb) cb(arg, h, EF_NODE_TX_DROPPED, refused, 0);
        return;
    }
    ef_waiter *w = calloc(1, sizeof *w);
    if (!w) {
        if (cb) cb(arg, h, EF_NODE_TX_DROPPED, EF_ENOMEM, 0);
        return;
    }
    w->hash = *h;
    w->cb = cb;
    w->arg = arg;
    w->admit_us = ef_now_mono_us();
    size_t b = waiter_bucket(h);
    w->next = n->waiters[b];
    n->waiters[b] = w;
    n->waiters_len++;
}

ef_waiter *ef_node_waiter_take(ef_node *n, const ef_hash *h)
{
    ef_waiter **link;
    ef_waiter *w = waiter_find(n, h, &link);
    if (!w) return NULL;
    *link = w->next;
    n->waiters_len--;
    return w;
}

void ef_node_tx_dropped(void *arg, const ef_hash *h, int reason)
{
    ef_node *n = arg;
    if (reason == EF_EEXPIRED || reason == EF_EEVICTED) ef_node_count_tx(n, reason);
    ef_waiter *w = ef_node_waiter_take(n, h);
    if (!w) return;
    if (w->cb) w->cb(w->arg, h, EF_NODE_TX_DROPPED, reason, 0);
    free(w);
}

void ef_node_waiters_close(ef_node *n)
{
    for (size_t b = 0; b < EF_NODE_WAITER_BUCKETS; b++) {
        while (n->waiters[b]) {
            ef_waiter *w = n->waiters[b];
            n->waiters[b] = w->next;
            if (w->cb) w->cb(w->arg, &w->hash, EF_NODE_TX_DROPPED, EF_ECLOSED, 0);
            free(w);
        }
    }
    n->waiters_len = 0;
}

/* ---------------- admission (loop thread) ---------------- */

/* Admits a tx submitted locally; calls cb for admission, registers the waiter. */
static int node_admit_local(ef_node *n, const uint8_t *tx, size_t len, ef_node_tx_cb cb, void *arg,
                            ef_hash *hash_out)
{
    ef_hash h;
    int rc = ef_mempool_add(n->mp, tx, len, &h);
    if (hash_out) *hash_out = h;
    if (rc) {
        ef_node_count_tx(n, rc);
        if (cb) cb(arg, &h, EF_NODE_TX_ADMITTED, rc, 0);
        return rc;
    }
    ef_node_gossip_add(n, tx, len);
    if (cb) cb(arg, &h, EF_NODE_TX_ADMITTED, 0, 0);
    waiter_add(n, &h, cb, arg);
    return 0;
}

int ef_node_submit_local(ef_node *n, const uint8_t *tx, size_t len, ef_node_tx_cb cb, void *arg,
                         ef_hash *hash_out)
{
    int rc = node_admit_local(n, tx, len, cb, arg, hash_out);
    ef_node_after(n);
    return rc;
}

/* Builds and signs own tx for a queued call. */
static int node_build_call(ef_node *n, ef_subm *s, uint8_t **out, size_t *out_len)
{
    ef_tx tx;
    memset(&tx, 0, sizeof tx);
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", n->cfg.chain_id);
    tx.sender = n->kp.pub;
    uint64_t next = 0;
    (void)ef_store_nonce(n->store, &n->kp.pub, &next);
    if (next > n->own_next) n->own_next = next;
    tx.nonce = n->own_next;
    snprintf(tx.contract, sizeof tx.contract, "%s", s->contract);
    snprintf(tx.method, sizeof tx.method, "%s", s->method);
    tx.args = s->tx;
    tx.args_len = s->len;
    int rc = ef_tx_sign(&tx, &n->kp);
    if (rc) return rc;
    ef_wr w;
    ef_wr_init(&w);
    rc = ef_tx_encode(&w, &tx);
    if (rc) {
        ef_wr_free(&w);
        return rc;
    }
    *out = ef_wr_take(&w, out_len);
    return *out ? 0 : EF_ENOMEM;
}

static void node_sync_cb(void *arg, const ef_hash *h, int stage, int code, uint64_t height)
{
    (void)height;
    ef_subm_sync *s = arg;
    if (stage != EF_NODE_TX_ADMITTED) return;
    pthread_mutex_lock(&s->mu);
    s->hash = *h;
    s->rc = code;
    s->done = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void node_process_subm(ef_node *n, ef_subm *s)
{
    if (s->is_call) {
        uint8_t *tx = NULL;
        size_t len = 0;
        int rc = node_build_call(n, s, &tx, &len);
        if (rc) {
            ef_hash z = {0};
            if (s->cb) s->cb(s->arg, &z, EF_NODE_TX_ADMITTED, rc, 0);
            return;
        }
        rc = node_admit_local(n, tx, len, s->cb, s->arg, NULL);
        if (rc == 0) n->own_next++;
        free(tx);
        return;
    }
    if (s->sync) {
        node_admit_local(n, s->tx, s->len, node_sync_cb, s->sync, NULL);
        /* no commit callback for a synchronous submit: forget the waiter's cb */
        ef_hash h;
        ef_tx_hash_enc(&h, s->tx, s->len);
        ef_waiter *w = waiter_find(n, &h, NULL);
        if (w && w->cb == node_sync_cb) w->cb = NULL;
        return;
    }
    node_admit_local(n, s->tx, s->len, s->cb, s->arg, NULL);
}

void ef_node_async_cb(uv_async_t *a)
{
    ef_node *n = a->data;
    pthread_mutex_lock(&n->mu);
    ef_subm *q = n->subq_head;
    n->subq_head = n->subq_tail = NULL;
    n->subq_len = 0;
    pthread_mutex_unlock(&n->mu);
    bool stop = atomic_load(&n->stop_flag);
    while (q) {
        ef_subm *next = q->next;
        if (!n->stopping) {
            node_process_subm(n, q);
        } else if (q->sync) {
            ef_hash z = {0};
            node_sync_cb(q->sync, &z, EF_NODE_TX_ADMITTED, EF_ECLOSED, 0);
        } else if (q->cb) {
            ef_hash z = {0};
            q->cb(q->arg, &z, EF_NODE_TX_ADMITTED, EF_ECLOSED, 0);
        }
        free(q->tx);
        free(q);
        q = next;
    }
    if (stop && !n->stopping) ef_node_shutdown(n);
    else ef_node_after(n);
}

void ef_node_subq_free(ef_node *n)
{
    for (ef_subm *q = n->subq_head, *next; q; q = next) {
        next = q->next;
        if (q->sync) {
            ef_hash z = {0};
            node_sync_cb(q->sync, &z, EF_NODE_TX_ADMITTED, EF_ECLOSED, 0);
        }
        free(q->tx);
        free(q);
    }
}

/* ---------------- submission (any thread) ---------------- */

static int node_enqueue(ef_node *n, ef_subm *s)
{
    pthread_mutex_lock(&n->mu);
    if (n->stop_req) {
        pthread_mutex_unlock(&n->mu);
        return EF_ECLOSED;
    }
    if (n->subq_len >= EF_NODE_SUBMITQ_MAX) {
        pthread_mutex_unlock(&n->mu);
        return EF_EFULL;
    }
    if (n->subq_tail) n->subq_tail->next = s;
    else n->subq_head = s;
    n->subq_tail = s;
    n->subq_len++;
    pthread_mutex_unlock(&n->mu);
    uv_async_send(&n->async);
    return 0;
}

/* Copies bytes into a new submission and queues it for the loop thread; the rest
 * of *proto (callback, sync, call target) is copied as it is. On failure nothing
 * stays queued or allocated. */
static int node_submit_copy(ef_node *n, const void *bytes, size_t len, const ef_subm *proto)
{
    ef_subm *s = malloc(sizeof *s);
    uint8_t *copy = malloc(len ? len : 1);
    if (!s || !copy) {
        free(s);
        free(copy);
        return EF_ENOMEM;
    }
    memcpy(copy, bytes, len);
    *s = *proto;
    s->tx = copy;
    s->len = len;
    s->next = NULL;
    int rc = node_enqueue(n, s);
    if (rc) {
        free(copy);
        free(s);
    }
    return rc;
}

int ef_node_submit(ef_node *n, const uint8_t *tx, size_t len, ef_node_tx_cb cb, void *arg)
{
    if (len > EF_TX_ENC_MAX) return EF_ETOOBIG;
    return node_submit_copy(n, tx, len, &(ef_subm){.cb = cb, .arg = arg});
}

int ef_node_submit_wait(ef_node *n, const uint8_t *tx, size_t len, ef_hash *hash)
{
    if (len > EF_TX_ENC_MAX) return EF_ETOOBIG;
    ef_subm_sync sync;
    memset(&sync, 0, sizeof sync);
    pthread_mutex_init(&sync.mu, NULL);
    pthread_cond_init(&sync.cv, NULL);
    int rc = node_submit_copy(n, tx, len, &(ef_subm){.sync = &sync});
    if (rc) goto out;
    pthread_mutex_lock(&sync.mu);
    while (!sync.done) pthread_cond_wait(&sync.cv, &sync.mu);
    pthread_mutex_unlock(&sync.mu);
    rc = sync.rc;
    if (hash) *hash = sync.hash;
out:
    pthread_cond_destroy(&sync.cv);
    pthread_mutex_destroy(&sync.mu);
    return rc;
}

int ef_node_submit_call(ef_node *n, const char *contract, const char *method, const char *args_json,
                        ef_node_tx_cb cb, void *arg)
{
    if (!contract || !method || !ef_name_valid(contract, EF_CONTRACT_NAME_MAX) ||
        !ef_name_valid(method, EF_METHOD_NAME_MAX))
        return EF_EINVAL;
    if (!args_json) args_json = "{}";
    size_t len = strlen(args_json);
    if (len > EF_TX_ARGS_MAX) return EF_ETOOBIG;
    ef_subm proto = {.is_call = true, .cb = cb, .arg = arg};
    snprintf(proto.contract, sizeof proto.contract, "%s", contract);
    snprintf(proto.method, sizeof proto.method, "%s", method);
    return node_submit_copy(n, args_json, len, &proto);
}
