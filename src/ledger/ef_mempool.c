/* ef_mempool.c: the transaction pool: admission, per-sender nonce order, ready
 * and gapped transactions, eviction by age and when full, reaping, removal after
 * commit. */
#include "ledger/ef_mempool.h"

#include "base/ef_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a small open-addressing map from 32-byte keys to pointers ---- */

typedef struct ef_map {
    void **vals;          /* NULL = empty slot */
    const uint8_t *(*key)(const void *val);
    size_t cap, len;      /* cap is a power of two */
} ef_map;

static size_t ef_map_slot(const ef_map *m, const uint8_t *k)
{
    return (size_t)ef_get_u64le(k) & (m->cap - 1);
}

static int ef_map_init(ef_map *m, size_t cap, const uint8_t *(*key)(const void *))
{
    m->vals = calloc(cap, sizeof *m->vals);
    if (!m->vals) return EF_ENOMEM;
    m->cap = cap;
    m->len = 0;
    m->key = key;
    return 0;
}

static void *ef_map_get(const ef_map *m, const uint8_t *k)
{
    for (size_t i = ef_map_slot(m, k);; i = (i + 1) & (m->cap - 1)) {
        void *v = m->vals[i];
        if (!v) return NULL;
        if (!memcmp(m->key(v), k, 32)) return v;
    }
}

static int ef_map_put(ef_map *m, void *v);

static int ef_map_grow(ef_map *m)
{
    ef_map n;
    if (ef_map_init(&n, m->cap * 2, m->key)) return EF_ENOMEM;
    for (size_t i = 0; i < m->cap; i++)
        if (m->vals[i]) ef_map_put(&n, m->vals[i]);
    free(m->vals);
    *m = n;
    return 0;
}

/* Inserts v (its key must not be present). */
static int ef_map_put(ef_map *m, void *v)
{
    if ((m->len + 1) * 4 > m->cap * 3 && ef_map_grow(m)) return EF_ENOMEM;
    size_t i = ef_map_slot(m, m->key(v));
    while (m->vals[i]) i = (i + 1) & (m->cap - 1);
    m->vals[i] = v;
    m->len++;
    return 0;
}

/* Removes the entry with key k (backward-shift deletion keeps probes intact). */
static void ef_map_del(ef_map *m, const uint8_t *k)
{
    size_t i = ef_map_slot(m, k);
    for (;; i = (i + 1) & (m->cap - 1)) {
        if (!m->vals[i]) return;
        if (!memcmp(m->key(m->vals[i]), k, 32)) break;
    }
    m->vals[i] = NULL;
    m->len--;
    for (size_t j = (i + 1) & (m->cap - 1); m->vals[j]; j = (j + 1) & (m->cap - 1)) {
        size_t home = ef_map_slot(m, m->key(m->vals[j]));
        /* move vals[j] into the hole at i if its home is not in (i, j] cyclically */
        bool in_range = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (!in_range) {
            m->vals[i] = m->vals[j];
            m->vals[j] = NULL;
            i = j;
        }
    }
}

/* ---- the pool ---- */

typedef struct ef_mp_sender ef_mp_sender;

typedef struct ef_mp_tx {
    ef_hash hash;
    uint64_t nonce;
    uint8_t *enc;
    size_t len;
    ef_mp_sender *sender;
    uint64_t added_ms;
    bool ready;                   /* continues the sender's run from s->next */
    struct ef_mp_tx *age_prev, *age_next;  /* all txs, by admission time */
    struct ef_mp_tx *gap_prev, *gap_next;  /* gapped txs, oldest gapped first */
} ef_mp_tx;

struct ef_mp_sender {
    ef_pub pub;
    uint64_t next;            /* next nonce per committed state */
    ef_mp_tx **txs;           /* sorted by nonce */
    uint32_t n, cap;
    uint32_t ready;           /* txs[0..ready) are ready */
    ef_mp_sender *prev, *nxt; /* list of senders in order of first waiting tx */
};

struct ef_mempool {
    ef_mempool_cfg cfg;
    char chain_id[EF_CHAIN_ID_MAX + 1];
    ef_map by_hash;           /* ef_mp_tx */
    ef_map senders;           /* ef_mp_sender */
    ef_mp_sender *head, *tail;
    ef_mp_tx *age_head, *age_tail;
    ef_mp_tx *gap_head, *gap_tail;
    size_t bytes;
    size_t gapped, gapped_bytes;
    ef_mempool_stats st;
};

static const uint8_t *ef_mp_tx_key(const void *v) { return ((const ef_mp_tx *)v)->hash.b; }
static const uint8_t *ef_mp_sender_key(const void *v) { return ((const ef_mp_sender *)v)->pub.b; }

static uint64_t ef_mp_now(const ef_mempool *mp)
{
    return mp->cfg.now_ms ? mp->cfg.now_ms(mp->cfg.clock_arg) : ef_now_mono_us() / 1000;
}

int ef_mempool_new(ef_mempool **out, const ef_mempool_cfg *cfg)
{
    EF_ASSERT(out && cfg && cfg->nonce);
    *out = NULL;
    if (!cfg->chain_id || !ef_chain_id_valid(cfg->chain_id)) return EF_EINVAL;
    ef_mempool *mp = calloc(1, sizeof *mp);
    if (!mp) return EF_ENOMEM;
    mp->cfg = *cfg;
    snprintf(mp->chain_id, sizeof mp->chain_id, "%s", cfg->chain_id);
    mp->cfg.chain_id = mp->chain_id;
    if (!mp->cfg.count_max) mp->cfg.count_max = EF_MEMPOOL_COUNT_DEFAULT;
    if (!mp->cfg.bytes_max) mp->cfg.bytes_max = EF_MEMPOOL_BYTES_DEFAULT;
    if (!mp->cfg.sender_max) mp->cfg.sender_max = EF_MEMPOOL_SENDER_DEFAULT;
    if (!mp->cfg.gap_max) mp->cfg.gap_max = EF_MEMPOOL_GAP_DEFAULT;
    if (!mp->cfg.ttl_ms) mp->cfg.ttl_ms = EF_MEMPOOL_TTL_MS_DEFAULT;
    if (ef_map_init(&mp->by_hash, 1024, ef_mp_tx_key) ||
        ef_map_init(&mp->senders, 256, ef_mp_sender_key)) {
        ef_mempool_free(mp);
        return EF_ENOMEM;
    }
    *out = mp;
    return 0;
}

void ef_mempool_free(ef_mempool *mp)
{
    if (!mp) return;
    for (ef_mp_sender *s = mp->head, *nx; s; s = nx) {
        nx = s->nxt;
        for (uint32_t i = 0; i < s->n; i++) {
            free(s->txs[i]->enc);
            free(s->txs[i]);
        }
        free(s->txs);
        free(s);
    }
    free(mp->by_hash.vals);
    free(mp->senders.vals);
    free(mp);
}

/* ---- the two lists of transactions ---- */

static void ef_mp_gap_link(ef_mempool *mp, ef_mp_tx *t)
{
    t->gap_next = NULL;
    t->gap_prev = mp->gap_tail;
    if (mp->gap_tail) mp->gap_tail->gap_next = t;
    else mp->gap_head = t;
    mp->gap_tail = t;
    mp->gapped++;
    mp->gapped_bytes += t->len;
}

static void ef_mp_gap_unlink(ef_mempool *mp, ef_mp_tx *t)
{
    if (t->gap_prev) t->gap_prev->gap_next = t->gap_next;
    else mp->gap_head = t->gap_next;
    if (t->gap_next) t->gap_next->gap_prev = t->gap_prev;
    else mp->gap_tail = t->gap_prev;
    t->gap_prev = t->gap_next = NULL;
    mp->gapped--;
    mp->gapped_bytes -= t->len;
}

static void ef_mp_age_unlink(ef_mempool *mp, ef_mp_tx *t)
{
    if (t->age_prev) t->age_prev->age_next = t->age_next;
    else mp->age_head = t->age_next;
    if (t->age_next) t->age_next->age_prev = t->age_prev;
    else mp->age_tail = t->age_prev;
}

/* Recomputes which of s's transactions are ready (the run of consecutive nonces
 * from s->next) and moves the others onto the gapped list. O(s->n). */
static void ef_mp_reclass(ef_mempool *mp, ef_mp_sender *s)
{
    uint32_t r = 0;
    while (r < s->n && s->txs[r]->nonce == s->next + r) r++;
    s->ready = r;
    for (uint32_t i = 0; i < s->n; i++) {
        ef_mp_tx *t = s->txs[i];
        bool ready = i < r;
        if (ready == t->ready) continue;
        if (ready) ef_mp_gap_unlink(mp, t);
        else ef_mp_gap_link(mp, t);
        t->ready = ready;
    }
}

static void ef_mp_sender_unlink_free(ef_mempool *mp, ef_mp_sender *s)
{
    EF_ASSERT(s->n == 0);
    if (s->prev) s->prev->nxt = s->nxt;
    else mp->head = s->nxt;
    if (s->nxt) s->nxt->prev = s->prev;
    else mp->tail = s->prev;
    ef_map_del(&mp->senders, s->pub.b);
    free(s->txs);
    free(s);
}

/* Removes txs[i] of s (frees it); frees s when it empties (returns true then).
 * The caller re-classifies s if the removal can end its ready run. */
static bool ef_mp_drop(ef_mempool *mp, ef_mp_sender *s, uint32_t i)
{
    ef_mp_tx *t = s->txs[i];
    ef_map_del(&mp->by_hash, t->hash.b);
    ef_mp_age_unlink(mp, t);
    if (!t->ready) ef_mp_gap_unlink(mp, t);
    else s->ready--;
    mp->bytes -= t->len;
    memmove(&s->txs[i], &s->txs[i + 1], (s->n - i - 1) * sizeof *s->txs);
    s->n--;
    free(t->enc);
    free(t);
    if (s->n > 0) return false;
    ef_mp_sender_unlink_free(mp, s);
    return true;
}

static uint32_t ef_mp_index(const ef_mp_sender *s, const ef_mp_tx *t)
{
    for (uint32_t i = 0; i < s->n; i++)
        if (s->txs[i] == t) return i;
    EF_ASSERT(0);
    return 0;
}

/* Drops t, tells on_drop, re-classifies what is left of its sender. */
static void ef_mp_drop_tell(ef_mempool *mp, ef_mp_tx *t, int reason)
{
    ef_mp_sender *s = t->sender;
    ef_hash h = t->hash;
    if (!ef_mp_drop(mp, s, ef_mp_index(s, t))) ef_mp_reclass(mp, s);
    if (mp->cfg.on_drop) mp->cfg.on_drop(mp->cfg.drop_arg, &h, reason);
}

size_t ef_mempool_expire(ef_mempool *mp)
{
    uint64_t now = ef_mp_now(mp);
    size_t k = 0;
    while (mp->age_head && now - mp->age_head->added_ms >= mp->cfg.ttl_ms) {
        ef_mp_drop_tell(mp, mp->age_head, EF_EEXPIRED);
        mp->st.expired++;
        k++;
    }
    return k;
}

static bool ef_mp_fits(const ef_mempool *mp, size_t count, size_t bytes, size_t len)
{
    return count < mp->cfg.count_max && bytes + len <= mp->cfg.bytes_max;
}

int ef_mempool_add(ef_mempool *mp, const uint8_t *enc, size_t len, ef_hash *hash_out)
{
    int rc;
    ef_tx tx;
    ef_hash h;
    if (hash_out) memset(hash_out, 0, sizeof *hash_out);
    ef_mempool_expire(mp);
    if (len > EF_TX_ENC_MAX) { rc = EF_ETOOBIG; goto out; }
    rc = ef_tx_decode(&tx, enc, len);
    if (rc) goto out;
    ef_tx_hash_enc(&h, enc, len);
    if (hash_out) *hash_out = h;
    if (ef_map_get(&mp->by_hash, h.b)) { rc = EF_EDUP; goto out; }
    ef_mp_sender *s = ef_map_get(&mp->senders, tx.sender.b);
    uint64_t next, missing;
    if (s) {
        next = s->next;
        missing = s->next + s->ready;
    } else {
        rc = mp->cfg.nonce(mp->cfg.nonce_arg, &tx.sender, &next);
        if (rc) goto out;
        missing = next;
    }
    if (tx.nonce < next) { rc = EF_ENONCE; goto out; }
    if (s) {
        /* same nonce pooled = duplicate */
        for (uint32_t i = 0; i < s->n; i++)
            if (s->txs[i]->nonce == tx.nonce) { rc = EF_EDUP; goto out; }
    }
    if (tx.nonce > missing && tx.nonce - missing > mp->cfg.gap_max) { rc = EF_EGAP; goto out; }
    if (s && s->n >= mp->cfg.sender_max) { rc = EF_EQUOTA; goto out; }
    if (!s && mp->cfg.account) {
        rc = mp->cfg.account(mp->cfg.account_arg, &tx.sender);
        if (rc) goto out;
    }
    /* full: only a ready transaction may make room, and only by evicting gapped ones */
    bool ready = tx.nonce == missing;
    bool evict = !ef_mp_fits(mp, mp->by_hash.len, mp->bytes, len);
    if (evict && (!ready || !ef_mp_fits(mp, mp->by_hash.len - mp->gapped,
                                        mp->bytes - mp->gapped_bytes, len))) {
        rc = EF_EFULL;
        goto out;
    }
    /* the signature, last: the expensive check, done once */
    rc = ef_tx_check_stateless(&tx, mp->chain_id, enc, len);
    if (rc) goto out;
    mp->st.verified++;
    while (evict && !ef_mp_fits(mp, mp->by_hash.len, mp->bytes, len)) {
        EF_ASSERT(mp->gap_head);
        ef_mp_drop_tell(mp, mp->gap_head, EF_EEVICTED);  /* never one of s's ready ones */
        mp->st.evicted++;
    }
    s = ef_map_get(&mp->senders, tx.sender.b);       /* an eviction may have freed it */
    ef_mp_tx *t = calloc(1, sizeof *t);
    uint8_t *copy = malloc(len);
    if (!t || !copy) { free(t); free(copy); rc = EF_ENOMEM; goto out; }
    memcpy(copy, enc, len);
    t->hash = h;
    t->nonce = tx.nonce;
    t->enc = copy;
    t->len = len;
    t->ready = true;   /* as if ready until ef_mp_reclass below says otherwise */
    if (!s) {
        s = calloc(1, sizeof *s);
        if (s) s->pub = tx.sender;
        if (!s || ef_map_put(&mp->senders, s)) {
            free(s); free(copy); free(t);
            rc = EF_ENOMEM;
            goto out;
        }
        s->next = next;
        s->prev = mp->tail;
        if (mp->tail) mp->tail->nxt = s;
        else mp->head = s;
        mp->tail = s;
    }
    if (s->n == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 4;
        ef_mp_tx **p = realloc(s->txs, cap * sizeof *p);
        if (!p) {
            free(copy); free(t);
            if (s->n == 0) ef_mp_sender_unlink_free(mp, s);
            rc = EF_ENOMEM;
            goto out;
        }
        s->txs = p;
        s->cap = cap;
    }
    if (ef_map_put(&mp->by_hash, t)) {
        free(copy); free(t);
        if (s->n == 0) ef_mp_sender_unlink_free(mp, s);
        rc = EF_ENOMEM;
        goto out;
    }
    t->sender = s;
    t->added_ms = ef_mp_now(mp);
    t->age_prev = mp->age_tail;
    if (mp->age_tail) mp->age_tail->age_next = t;
    else mp->age_head = t;
    mp->age_tail = t;
    uint32_t pos = s->n;
    while (pos > 0 && s->txs[pos - 1]->nonce > tx.nonce) pos--;
    memmove(&s->txs[pos + 1], &s->txs[pos], (s->n - pos) * sizeof *s->txs);
    s->txs[pos] = t;
    s->n++;
    s->ready++;        /* counted as ready (t->ready) until re-classified */
    mp->bytes += len;
    ef_mp_reclass(mp, s);
    EF_ASSERT(t->ready == ready);
    mp->st.added++;
    return 0;
out:
    mp->st.rejected++;
    return rc;
}

bool ef_mempool_has(const ef_mempool *mp, const ef_hash *tx_hash)
{
    return ef_map_get(&mp->by_hash, tx_hash->b) != NULL;
}

bool ef_mempool_sig_verified(void *mp, const ef_hash *tx_hash)
{
    return ef_mempool_has(mp, tx_hash);
}

size_t ef_mempool_reap(ef_mempool *mp, ef_txbuf *out, size_t max_count, size_t max_bytes)
{
    size_t k = 0, bytes = 0;
    for (ef_mp_sender *s = mp->head; s && k < max_count; s = s->nxt) {
        for (uint32_t i = 0; i < s->ready && k < max_count; i++) {
            ef_mp_tx *t = s->txs[i];
            if (bytes + t->len > max_bytes) return k;
            out[k].enc = t->enc;
            out[k].len = t->len;
            k++;
            bytes += t->len;
        }
    }
    return k;
}

/* Drops s's transactions below its next nonce; false if s was freed. */
static bool ef_mp_recheck(ef_mempool *mp, ef_mp_sender *s)
{
    while (s->n > 0 && s->txs[0]->nonce < s->next) {
        ef_hash h = s->txs[0]->hash;
        mp->st.removed_stale++;
        bool freed = ef_mp_drop(mp, s, 0);
        if (mp->cfg.on_drop) mp->cfg.on_drop(mp->cfg.drop_arg, &h, EF_ENONCE);
        if (freed) return false;
    }
    return true;
}

void ef_mempool_committed(ef_mempool *mp, const ef_block *b)
{
    for (uint32_t i = 0; i < b->txs_len; i++) {
        const ef_block_tx *bt = &b->txs[i];
        ef_mp_tx *t = ef_map_get(&mp->by_hash, bt->hash.b);
        if (t) {
            mp->st.removed_committed++;
            ef_mp_sender *ts = t->sender;
            if (ef_mp_drop(mp, ts, ef_mp_index(ts, t))) continue;
        }
        ef_mp_sender *s = ef_map_get(&mp->senders, bt->tx.sender.b);
        if (!s) continue;
        if (bt->tx.nonce + 1 > s->next) s->next = bt->tx.nonce + 1;
        /* a different tx with a committed nonce: a replay */
        if (ef_mp_recheck(mp, s)) ef_mp_reclass(mp, s);
    }
    ef_mempool_expire(mp);
}

int ef_mempool_remove(ef_mempool *mp, const ef_hash *tx_hash)
{
    ef_mp_tx *t = ef_map_get(&mp->by_hash, tx_hash->b);
    if (!t) return EF_ENOTFOUND;
    ef_mp_sender *s = t->sender;
    if (!ef_mp_drop(mp, s, ef_mp_index(s, t))) ef_mp_reclass(mp, s);
    return 0;
}

void ef_mempool_get_stats(const ef_mempool *mp, ef_mempool_stats *out)
{
    *out = mp->st;
    out->count = mp->by_hash.len;
    out->bytes = mp->bytes;
    out->senders = mp->senders.len;
    out->gapped = mp->gapped;
}

size_t ef_mempool_count(const ef_mempool *mp) { return mp->by_hash.len; }
