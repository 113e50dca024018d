/* ef_sim.c: the consensus simulator: simulated clock, network, crashes, Byzantine nodes, checkers. */
#include "sim/ef_sim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "consensus/ef_engine.h"
#include "ledger/ef_evidence.h"
#include "sim/ef_simdisk.h"

#define EF_SIM_CHAIN "edgefed-sim"
#define EF_SIM_VALUE_LEN 25u
#define EF_SIM_VCACHE_BITS 16u
#define EF_SIM_SIGNED_BITS 16u    /* initial size of the double-sign table */
#define EF_SIM_CATCHUP_MS 20u
#define EF_SIM_PENDING_MAX 8u     /* double votes a node keeps to propose (jail) */
#define EF_SIM_EV_PER_VALUE 4u    /* evidence items in one value */

enum { EF_BYZ_SILENT = EF_SIM_BYZ_SILENT, EF_BYZ_EQUIVOCATE = EF_SIM_BYZ_EQUIVOCATE,
       EF_BYZ_INVALID = EF_SIM_BYZ_INVALID, EF_BYZ_DOUBLE_VOTE = EF_SIM_BYZ_DOUBLE_VOTE,
       EF_BYZ_BAD_SIG = EF_SIM_BYZ_BAD_SIG, EF_BYZ_KINDS = 5 };

/* a double vote held for proposing (jail) */
typedef struct {
    uint8_t a[EF_VOTE_ENC_MAX], b[EF_VOTE_ENC_MAX];
    uint16_t a_len, b_len;
    ef_pub offender;
    uint64_t height;
    uint32_t round;
} ef_sim_pending;

/* the simulated ledger's record of one (offender, height, round) */
typedef struct {
    ef_pub offender;
    uint64_t height;
    uint32_t round;
} ef_sim_record;

/* a validator-set change: vs from height `from` on */
typedef struct {
    uint64_t from;
    ef_vset vs;
} ef_sim_vchange;

enum { EV_DELIVER = 1, EV_TIMEOUT, EV_CRASH, EV_RESTART, EV_PART_START, EV_PART_HEAL, EV_CATCHUP };

typedef struct {
    uint64_t time;
    uint64_t seq;
    uint8_t kind;
    uint32_t node;
    uint32_t from;   /* deliver: the sender, whose session the message comes over */
    uint32_t epoch;
    uint64_t height;
    uint32_t round;
    uint8_t step;
    uint8_t *data;   /* deliver: owned message */
    size_t len;
} ef_ev;

typedef struct {
    uint8_t *value;
    size_t len;
    uint8_t *cert;
    size_t cert_len;
} ef_sim_block;

typedef struct {
    ef_engine *eng;
    ef_simdisk *disk;            /* survives crashes; a power loss loses its unsynced writes */
    ef_wal_file *wal;            /* this incarnation's WAL on disk */
    ef_keypair key;
    bool byz;
    int byz_kind;
    bool up;
    uint32_t epoch;
    uint64_t committed;          /* last committed height */
    ef_sim_block *log;           /* [1..cap) */
    uint64_t log_cap;
    uint64_t last_progress_ms;
    bool catchup_pending;
    bool crash_torn;             /* crash at the next input, after its WAL writes, before its sends */
    bool crash_power;            /* that crash is a power loss */
    uint8_t side;                /* partition side */
    ef_sim_pending pending[EF_SIM_PENDING_MAX];
    uint32_t npending;
} ef_sim_node;

typedef struct {
    uint64_t key;   /* node << 56 | type << 48 | height(24b) << 24 | round(24b) ; 0 = empty */
    ef_hash digest;
} ef_signed_ent;

typedef struct {
    ef_hash key;
    bool used;
} ef_vcache_ent;

typedef struct ef_sim_cb {
    struct ef_sim *s;
    uint32_t node;
} ef_sim_cb;

typedef struct ef_sim {
    const ef_sim_cfg *cfg;
    ef_sim_cb cbs[EF_SIM_NODES_MAX];
    ef_sim_result *res;
    uint64_t rng;
    uint64_t now;
    uint64_t seq;
    ef_ev *heap;
    size_t nheap, capheap;
    ef_sim_node nodes[EF_SIM_NODES_MAX];
    uint32_t n;
    ef_vset vs;
    ef_engine_cfg ecfg;
    bool partitioned;
    uint64_t fault_end_ms;
    uint64_t heal_ms;            /* time the last fault ended (updated as they end) */
    uint32_t faults_open;
    /* agreement */
    ef_hash *decided;            /* per height, zero = none yet */
    uint64_t decided_cap;
    /* double-sign */
    ef_signed_ent *signed_tab;
    size_t signed_cap, signed_len;
    /* verify cache */
    ef_vcache_ent *vcache;
    /* values proposed per height (for Byzantine votes) */
    ef_hash byz_ids[8];
    uint64_t byz_ids_height;
    uint32_t nbyz_ids;
    struct timespec cpu0;
    /* jail: the simulated ledger (one for all: the agreement checker holds nodes to it) */
    ef_sim_vchange *vchanges;
    uint32_t nvchanges;
    ef_sim_record *records;
    size_t nrecords, caprecords;
    ef_sim_record *caught;       /* offenders caught by honest engines, first height */
    size_t ncaught, capcaught;
    uint64_t applied;            /* highest height whose value the ledger applied */
} ef_sim;

/* ---------------- PRNG (splitmix64) ---------------- */

static uint64_t ef_rand(ef_sim *s)
{
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t ef_rand_below(ef_sim *s, uint64_t n)
{
    return n ? ef_rand(s) % n : 0;
}

static bool ef_rand_chance(ef_sim *s, double p)
{
    return p > 0 && (double)(ef_rand(s) >> 11) * (1.0 / 9007199254740992.0) < p;
}

/* ---------------- violations ---------------- */

static void ef_violation(ef_sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ef_violation(ef_sim *s, const char *fmt, ...)
{
    if (s->res->violations++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        int n = snprintf(s->res->violation, sizeof s->res->violation, "t=%llums: ",
                         (unsigned long long)s->now);
        vsnprintf(s->res->violation + n, sizeof s->res->violation - (size_t)n, fmt, ap);
        va_end(ap);
    }
}

/* ---------------- event heap ---------------- */

static bool ef_ev_less(const ef_ev *a, const ef_ev *b)
{
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static int ef_ev_push(ef_sim *s, ef_ev ev)
{
    if (s->nheap >= EF_SIM_EVENTS_MAX) {
        free(ev.data);
        return EF_EFULL;
    }
    if (s->nheap == s->capheap) {
        size_t nc = s->capheap ? s->capheap * 2 : 1024;
        ef_ev *h = realloc(s->heap, nc * sizeof *h);
        if (!h) {
            free(ev.data);
            return EF_ENOMEM;
        }
        s->heap = h;
        s->capheap = nc;
    }
    ev.seq = s->seq++;
    size_t i = s->nheap++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!ef_ev_less(&ev, &s->heap[p])) break;
        s->heap[i] = s->heap[p];
        i = p;
    }
    s->heap[i] = ev;
    return 0;
}

static ef_ev ef_ev_pop(ef_sim *s)
{
    ef_ev top = s->heap[0];
    ef_ev last = s->heap[--s->nheap];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const ef_ev *best = &last;
        if (l < s->nheap && ef_ev_less(&s->heap[l], best)) { m = l; best = &s->heap[l]; }
        if (r < s->nheap && ef_ev_less(&s->heap[r], best)) { m = r; }
        if (m == i) break;
        s->heap[i] = s->heap[m];
        i = m;
    }
    if (s->nheap) s->heap[i] = last;
    return top;
}

/* ---------------- values ---------------- */

/* ---------------- the simulated ledger (jail) ---------------- */

/* The validator set of height h. */
static const ef_vset *ef_sim_vset_at(const ef_sim *s, uint64_t h)
{
    for (uint32_t i = s->nvchanges; i-- > 0;)
        if (s->vchanges[i].from <= h) return &s->vchanges[i].vs;
    return &s->vs;
}

static bool ef_sim_recorded(const ef_sim *s, const ef_pub *who, uint64_t h, uint32_t r)
{
    for (size_t i = 0; i < s->nrecords; i++)
        if (s->records[i].height == h && s->records[i].round == r &&
            !memcmp(&s->records[i].offender, who, sizeof *who))
            return true;
    return false;
}

static void ef_sim_rec_push(ef_sim_record **arr, size_t *n, size_t *cap, const ef_sim_record *r)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        ef_sim_record *a = realloc(*arr, *cap * sizeof *a);
        EF_ASSERT(a);
        *arr = a;
    }
    (*arr)[(*n)++] = *r;
}

/* The offender leaves the set from `from` on (built on the latest change). */
static void ef_sim_jail(ef_sim *s, const ef_pub *who, uint64_t from)
{
    const ef_vset *last = s->nvchanges ? &s->vchanges[s->nvchanges - 1].vs : &s->vs;
    int idx = ef_cvset_index(last, who);
    if (idx < 0 || last->len < 2) return;
    ef_sim_vchange c = {.from = from, .vs = *last};
    memmove(&c.vs.v[idx], &c.vs.v[idx + 1], (c.vs.len - (uint32_t)idx - 1) * sizeof c.vs.v[0]);
    c.vs.len--;
    if (s->nvchanges && s->vchanges[s->nvchanges - 1].from == from) {
        s->vchanges[s->nvchanges - 1] = c;   /* a second jail in one block replaces the first */
    } else {
        ef_sim_vchange *a = realloc(s->vchanges, (s->nvchanges + 1) * sizeof *a);
        EF_ASSERT(a);
        s->vchanges = a;
        s->vchanges[s->nvchanges++] = c;
    }
    s->res->jailed++;
    if (from > s->res->jailed_at_max) s->res->jailed_at_max = from;
}

/* Walks the evidence items of a value (jail): calls fn on each; stops at the
 * first error. Returns 0, or EF_EINVAL for a malformed list, or fn's error. */
typedef int (*ef_sim_item_fn)(ef_sim *s, uint64_t h, const uint8_t *a, size_t a_len,
                              const uint8_t *b, size_t b_len);
static int ef_sim_items(ef_sim *s, const uint8_t *v, size_t len, uint64_t h, ef_sim_item_fn fn)
{
    if (len < EF_SIM_VALUE_LEN + 1) return EF_EINVAL;
    ef_rd r;
    uint8_t count = 0;
    ef_rd_init(&r, v + EF_SIM_VALUE_LEN, len - EF_SIM_VALUE_LEN);
    ef_rd_u8(&r, &count);
    if (count > EF_SIM_EV_PER_VALUE) return EF_EINVAL;
    for (uint8_t i = 0; i < count && !r.err; i++) {
        const uint8_t *a, *b;
        size_t al = 0, bl = 0;
        ef_rd_bytes(&r, &a, &al, EF_VOTE_ENC_MAX);
        ef_rd_bytes(&r, &b, &bl, EF_VOTE_ENC_MAX);
        if (r.err) break;
        int rc = fn(s, h, a, al, b, bl);
        if (rc) return rc;
    }
    return ef_rd_finish(&r) ? EF_EINVAL : 0;
}

/* an item is valid: the registry's check against the set of its height, at most h */
static int ef_sim_item_check(ef_sim *s, uint64_t h, const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    ef_vote_evidence ev;
    int rc = ef_vote_evidence_parse(&ev, a, al, b, bl);
    if (rc) return rc;
    if (ev.height > h) return EF_EHEIGHT;
    return ef_vote_evidence_check(&ev, EF_SIM_CHAIN, ef_sim_vset_at(s, ev.height), a, al, b, bl);
}

/* committing: record once, jail at h + EF_VSET_DELAY */
static int ef_sim_item_apply(ef_sim *s, uint64_t h, const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    ef_vote_evidence ev;
    if (ef_vote_evidence_parse(&ev, a, al, b, bl)) return 0;  /* checked when validated */
    if (ef_sim_recorded(s, &ev.offender, ev.height, ev.round)) return 0;
    ef_sim_record rec = {ev.offender, ev.height, ev.round};
    ef_sim_rec_push(&s->records, &s->nrecords, &s->caprecords, &rec);
    s->res->evidence_recorded++;
    ef_sim_jail(s, &ev.offender, h + EF_VSET_DELAY);
    return 0;
}

/* Value: flag ('V' valid, 'X' invalid) | u64 height | u32 round | u32 proposer | u64 nonce
 * and, with jail, u8 count | count x (bytes vote a, bytes vote b) of evidence. */
static uint8_t *ef_sim_make_value_ev(ef_sim *s, uint64_t h, uint32_t r, uint32_t who, bool valid,
                                     const ef_sim_node *holder, size_t *len)
{
    ef_wr w;
    ef_wr_init(&w);
    ef_wr_u8(&w, valid ? 'V' : 'X');
    ef_wr_u64(&w, h);
    ef_wr_u32(&w, r);
    ef_wr_u32(&w, who);
    ef_wr_u64(&w, ef_rand(s));
    if (s->cfg->jail) {
        uint8_t count = 0;
        size_t at = w.len;
        ef_wr_u8(&w, 0);
        for (uint32_t i = 0; holder && i < holder->npending && count < EF_SIM_EV_PER_VALUE; i++) {
            const ef_sim_pending *p = &holder->pending[i];
            if (p->height > h || ef_sim_recorded(s, &p->offender, p->height, p->round)) continue;
            ef_wr_bytes(&w, p->a, p->a_len);
            ef_wr_bytes(&w, p->b, p->b_len);
            count++;
        }
        if (!w.err) w.buf[at] = count;
    }
    EF_ASSERT(!w.err);
    return ef_wr_take(&w, len);
}

static uint8_t *ef_sim_make_value(ef_sim *s, uint64_t h, uint32_t r, uint32_t who, bool valid, size_t *len)
{
    return ef_sim_make_value_ev(s, h, r, who, valid, NULL, len);
}

static bool ef_sim_value_valid(ef_sim *s, const uint8_t *v, size_t len, uint64_t h)
{
    if (!s->cfg->jail) return len == EF_SIM_VALUE_LEN && v[0] == 'V' && ef_get_u64le(v + 1) == h;
    return len > EF_SIM_VALUE_LEN && v[0] == 'V' && ef_get_u64le(v + 1) == h &&
           ef_sim_items(s, v, len, h, ef_sim_item_check) == 0;
}

static int ef_sim_get_value(void *ctx, uint64_t h, uint32_t r, uint8_t **out, size_t *out_len)
{
    ef_sim_cb *cb = ctx;
    ef_sim_node *nd = &cb->s->nodes[cb->node];
    bool valid = !(nd->byz && nd->byz_kind == EF_BYZ_INVALID);
    *out = ef_sim_make_value_ev(cb->s, h, r, cb->node, valid, nd->byz ? NULL : nd, out_len);
    return *out ? 0 : EF_ENOMEM;
}

static int ef_sim_value_id(void *ctx, const uint8_t *v, size_t len, ef_hash *id)
{
    (void)ctx;
    ef_hash_tagged(id, EF_TAG_BLOCK, v, len);
    return 0;
}

/* Shared cache of signatures that verified (positive results only, keyed by a
 * hash of everything verified, so a hit means ef_verify would say true). */
static bool ef_sim_verify(void *ctx, const ef_sig *sig, const ef_pub *pub, uint8_t tag,
                          const void *msg, size_t len)
{
    ef_sim *s = ctx;
    ef_hasher h;
    ef_hash k;
    ef_hasher_init(&h, tag);
    ef_hasher_update(&h, pub, sizeof *pub);
    ef_hasher_update(&h, sig, sizeof *sig);
    ef_hasher_update(&h, msg, len);
    ef_hasher_final(&h, &k);
    ef_vcache_ent *e = &s->vcache[ef_get_u32le(k.b) & ((1u << EF_SIM_VCACHE_BITS) - 1)];
    if (e->used && ef_hash_eq(&e->key, &k)) return true;
    if (!ef_verify(sig, pub, tag, msg, len)) return false;
    e->used = true;
    e->key = k;
    return true;
}

/* ---------------- CPU accounting ---------------- */

static void ef_cpu_start(ef_sim *s)
{
    if (s->cfg->measure_cpu) clock_gettime(CLOCK_THREAD_CPUTIME_ID, &s->cpu0);
}

static void ef_cpu_stop(ef_sim *s)
{
    if (!s->cfg->measure_cpu) return;
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    s->res->engine_cpu_ns += (uint64_t)(t.tv_sec - s->cpu0.tv_sec) * 1000000000ULL +
                             (uint64_t)t.tv_nsec - (uint64_t)s->cpu0.tv_nsec;
}

/* ---------------- network ---------------- */

static bool ef_sim_connected(const ef_sim *s, uint32_t a, uint32_t b)
{
    return !s->partitioned || s->nodes[a].side == s->nodes[b].side;
}

static int ef_sim_send(ef_sim *s, uint32_t from, uint32_t to, const uint8_t *p, size_t len)
{
    int rc;
    if (!ef_sim_connected(s, from, to) || ef_rand_chance(s, s->cfg->loss)) return 0;
    int copies = ef_rand_chance(s, s->cfg->dup) ? 2 : 1;
    for (int c = 0; c < copies; c++) {
        uint8_t *d = malloc(len);
        if (!d) return EF_ENOMEM;
        memcpy(d, p, len);
        ef_ev ev = {.time = s->now + 1 + ef_rand_below(s, s->cfg->delay_ms_max), .kind = EV_DELIVER,
                    .node = to, .from = from, .data = d, .len = len};
        if ((rc = ef_ev_push(s, ev))) return rc;
        s->res->messages++;
    }
    return 0;
}

/* ---------------- checkers ---------------- */

static void ef_check_double_sign(ef_sim *s, uint32_t node, const uint8_t *p, size_t len)
{
    ef_msg m;
    if (ef_msg_decode(&m, p, len)) {
        ef_violation(s, "honest node %u broadcast an undecodable message", node);
        return;
    }
    /* keyed by the signer: honest nodes also relay others' votes (proof of lock) */
    int signer = ef_cvset_index(&s->vs, &m.signer);
    if (signer < 0 || s->nodes[signer].byz) return;
    node = (uint32_t)signer;
    uint64_t key = (uint64_t)(node + 1) << 56 | (uint64_t)m.type << 48 |
                   (m.height & 0xffffff) << 24 | (m.round & 0xffffff);
    ef_hash d;
    ef_hash_tagged(&d, 0, p, len);
    if (s->signed_len * 2 >= s->signed_cap) {
        size_t nc = s->signed_cap ? s->signed_cap * 2 : (1u << EF_SIM_SIGNED_BITS);
        ef_signed_ent *t = calloc(nc, sizeof *t);
        EF_ASSERT(t);
        for (size_t i = 0; i < s->signed_cap; i++) {
            if (!s->signed_tab[i].key) continue;
            size_t j = (s->signed_tab[i].key * 0x9e3779b97f4a7c15ULL) & (nc - 1);
            while (t[j].key) j = (j + 1) & (nc - 1);
            t[j] = s->signed_tab[i];
        }
        free(s->signed_tab);
        s->signed_tab = t;
        s->signed_cap = nc;
    }
    size_t j = (key * 0x9e3779b97f4a7c15ULL) & (s->signed_cap - 1);
    while (s->signed_tab[j].key && s->signed_tab[j].key != key) j = (j + 1) & (s->signed_cap - 1);
    if (!s->signed_tab[j].key) {
        s->signed_tab[j].key = key;
        s->signed_tab[j].digest = d;
        s->signed_len++;
    } else if (!ef_hash_eq(&s->signed_tab[j].digest, &d)) {
        ef_violation(s, "honest node %u signed two different %s messages at height %llu round %u",
                     node, m.type == EF_MSG_PROPOSAL ? "proposal" : m.type == EF_MSG_PREVOTE ? "prevote" : "precommit",
                     (unsigned long long)m.height, m.round);
    }
}

static void ef_check_commit(ef_sim *s, uint32_t node, const ef_engine_out *o)
{
    ef_hash id;
    ef_sim_value_id(NULL, o->data, o->len, &id);
    if (!ef_hash_eq(&id, &o->value_id))
        ef_violation(s, "node %u commit at height %llu: value id mismatch", node,
                     (unsigned long long)o->height);
    int rc = ef_cert_verify_with(o->cert, o->cert_len, EF_SIM_CHAIN, o->height, &o->value_id,
                                 ef_sim_vset_at(s, o->height), ef_sim_verify, s);
    if (rc)
        ef_violation(s, "node %u commit at height %llu: certificate rejected (%s)", node,
                     (unsigned long long)o->height, ef_strerror(rc));
    if (s->nodes[node].byz) return;
    if (!ef_sim_value_valid(s, o->data, o->len, o->height))
        ef_violation(s, "validity: honest node %u committed an invalid value at height %llu", node,
                     (unsigned long long)o->height);
    if (o->height >= s->decided_cap) {
        uint64_t nc = s->decided_cap * 2;
        while (nc <= o->height) nc *= 2;
        ef_hash *d = realloc(s->decided, nc * sizeof *d);
        EF_ASSERT(d);
        memset(d + s->decided_cap, 0, (nc - s->decided_cap) * sizeof *d);
        s->decided = d;
        s->decided_cap = nc;
    }
    if (ef_hash_is_zero(&s->decided[o->height])) {
        s->decided[o->height] = o->value_id;
    } else if (!ef_hash_eq(&s->decided[o->height], &o->value_id)) {
        char a[17], b[17];
        ef_hex(a, s->decided[o->height].b, 8);
        ef_hex(b, o->value_id.b, 8);
        ef_violation(s, "agreement: honest node %u committed %s at height %llu (round %u), another honest node %s",
                     node, b, (unsigned long long)o->height, o->round, a);
    }
    if (o->round > s->res->rounds_max) s->res->rounds_max = o->round;
}

/* ---------------- Byzantine behaviour ---------------- */

static void ef_byz_note_value(ef_sim *s, uint64_t h, const ef_hash *id)
{
    if (s->byz_ids_height != h) {
        s->byz_ids_height = h;
        s->nbyz_ids = 0;
    }
    for (uint32_t i = 0; i < s->nbyz_ids; i++)
        if (ef_hash_eq(&s->byz_ids[i], id)) return;
    if (s->nbyz_ids < EF_ARRAY_LEN(s->byz_ids)) s->byz_ids[s->nbyz_ids++] = *id;
}

/* Bad signatures over a good session: each peer gets the message as signed, or
 * with its signature spoiled, or (a vote) a conflicting vote with a spoiled one. */
static int ef_byz_bad_sig(ef_sim *s, uint32_t from, const uint8_t *p, size_t len, ef_msg *m)
{
    ef_sim_node *nd = &s->nodes[from];
    uint8_t *bad = NULL, *conf = NULL;
    size_t bad_len = 0, conf_len = 0;
    ef_msg b = *m;
    b.sig.b[ef_rand_below(s, EF_SIG_SIZE)] ^= (uint8_t)(1u << ef_rand_below(s, 8));
    int rc = ef_msg_encode(&b, &bad, &bad_len);
    EF_ASSERT(rc == 0);
    if (m->type != EF_MSG_PROPOSAL) {
        ef_msg c = *m;
        c.has_value = !m->has_value && s->byz_ids_height == m->height && s->nbyz_ids;
        memset(&c.value_id, 0, sizeof c.value_id);
        if (c.has_value) c.value_id = s->byz_ids[0];
        if (c.has_value != m->has_value) {
            uint8_t *tmp;
            size_t tmp_len;
            rc = ef_msg_sign_encode(&c, &nd->key, &tmp, &tmp_len);
            EF_ASSERT(rc == 0);
            free(tmp);
            c.sig.b[ef_rand_below(s, EF_SIG_SIZE)] ^= (uint8_t)(1u << ef_rand_below(s, 8));
            rc = ef_msg_encode(&c, &conf, &conf_len);
            EF_ASSERT(rc == 0);
        }
    }
    for (uint32_t to = 0; to < s->n && !rc; to++) {
        if (to == from) continue;
        uint64_t pick = ef_rand_below(s, 3);
        if (pick == 0) rc = ef_sim_send(s, from, to, p, len);
        else if (pick == 2 && conf) rc = ef_sim_send(s, from, to, conf, conf_len);
        else rc = ef_sim_send(s, from, to, bad, bad_len);
    }
    free(bad);
    free(conf);
    return rc;
}

/* A Byzantine node's broadcast: sent as is, or split into conflicting versions. */
static int ef_byz_broadcast(ef_sim *s, uint32_t from, const uint8_t *p, size_t len)
{
    ef_sim_node *nd = &s->nodes[from];
    ef_msg m;
    int rc = 0;
    if (nd->byz_kind == EF_BYZ_SILENT) return 0;
    if (ef_msg_decode(&m, p, len)) return 0;
    if (nd->byz_kind == EF_BYZ_BAD_SIG) return ef_byz_bad_sig(s, from, p, len, &m);
    uint8_t *alt = NULL, *val = NULL;
    size_t alt_len = 0;
    if (m.type == EF_MSG_PROPOSAL && nd->byz_kind == EF_BYZ_EQUIVOCATE) {
        size_t val_len;
        val = ef_sim_make_value(s, m.height, m.round, from, true, &val_len);
        m.value = val;
        m.value_len = val_len;
        m.valid_round = EF_ROUND_NONE;
        ef_hash id;
        ef_sim_value_id(NULL, val, val_len, &id);
        ef_byz_note_value(s, m.height, &id);
        rc = ef_msg_sign_encode(&m, &nd->key, &alt, &alt_len);
        EF_ASSERT(rc == 0);
    } else if (m.type != EF_MSG_PROPOSAL && nd->byz_kind != EF_BYZ_INVALID) {
        /* a conflicting vote: nil, or another value proposed at this height */
        uint64_t pick = ef_rand_below(s, s->nbyz_ids + 1);
        if (s->byz_ids_height == m.height && pick < s->nbyz_ids &&
            !(m.has_value && ef_hash_eq(&m.value_id, &s->byz_ids[pick]))) {
            m.has_value = true;
            m.value_id = s->byz_ids[pick];
        } else if (m.has_value) {
            m.has_value = false;
            memset(&m.value_id, 0, sizeof m.value_id);
        } else if (s->byz_ids_height == m.height && s->nbyz_ids) {
            m.has_value = true;
            m.value_id = s->byz_ids[0];
        }
        rc = ef_msg_sign_encode(&m, &nd->key, &alt, &alt_len);
        EF_ASSERT(rc == 0);
    }
    for (uint32_t to = 0; to < s->n && !rc; to++) {
        if (to == from) continue;
        if (alt && (ef_rand(s) & 1))
            rc = ef_sim_send(s, from, to, alt, alt_len);
        else
            rc = ef_sim_send(s, from, to, p, len);
    }
    free(alt);
    free(val);
    return rc;
}

/* ---------------- driving engines ---------------- */

static int ef_sim_drain(ef_sim *s, uint32_t i);

static int ef_sim_call_rc(ef_sim *s, uint32_t i, int rc, const char *what)
{
    if (rc && rc != EF_EHEIGHT) {
        ef_violation(s, "node %u: engine %s failed: %s", i, what, ef_strerror(rc));
        return rc;
    }
    return 0;
}

static int ef_sim_start_engine(ef_sim *s, uint32_t i)
{
    ef_sim_node *nd = &s->nodes[i];
    ef_engine_cfg c = s->ecfg;
    c.key = &nd->key;
    /* a new process opens the WAL on what its disk kept */
    EF_ASSERT(!nd->wal);
    ef_wal_dev dev = ef_simdisk_dev(nd->disk);
    int rc = ef_wal_file_open_dev(&nd->wal, &dev);
    if (rc) return rc;
    ef_wal_file_set_deferred(nd->wal, true); /* synced before a send, as in the node */
    c.wal = ef_wal_file_ops(nd->wal);
    s->cbs[i] = (ef_sim_cb){s, i};
    c.cb_ctx = &s->cbs[i];
    c.bug_ignore_lock = s->cfg->bug_ignore_lock && !nd->byz;
    rc = ef_engine_new(&nd->eng, &c);
    if (rc) return rc;
    nd->up = true;
    ef_cpu_start(s);
    rc = ef_engine_start_height(nd->eng, nd->committed + 1, ef_sim_vset_at(s, nd->committed + 1));
    ef_cpu_stop(s);
    if ((rc = ef_sim_call_rc(s, i, rc, "start_height"))) return rc;
    return ef_sim_drain(s, i);
}

static void ef_sim_log_put(ef_sim_node *nd, const ef_engine_out *o)
{
    if (o->height >= nd->log_cap) {
        uint64_t nc = nd->log_cap ? nd->log_cap * 2 : 64;
        while (nc <= o->height) nc *= 2;
        ef_sim_block *l = realloc(nd->log, nc * sizeof *l);
        EF_ASSERT(l);
        memset(l + nd->log_cap, 0, (nc - nd->log_cap) * sizeof *l);
        nd->log = l;
        nd->log_cap = nc;
    }
    ef_sim_block *b = &nd->log[o->height];
    EF_ASSERT(!b->value);
    b->value = malloc(o->len);
    b->cert = malloc(o->cert_len);
    EF_ASSERT(b->value && b->cert);
    memcpy(b->value, o->data, o->len);
    memcpy(b->cert, o->cert, o->cert_len);
    b->len = o->len;
    b->cert_len = o->cert_len;
}

/* An honest engine reported a double vote: keep it to propose (proposals are not
 * evidence for the ledger), and note the offender for the end-of-run check. */
static void ef_sim_hold_evidence(ef_sim *s, ef_sim_node *nd, const uint8_t *p, size_t len)
{
    ef_rd r;
    const uint8_t *a, *b;
    size_t al = 0, bl = 0;
    ef_vote_evidence ev;
    ef_rd_init(&r, p, len);
    ef_rd_bytes(&r, &a, &al, EF_MSG_SIZE_MAX);
    ef_rd_bytes(&r, &b, &bl, EF_MSG_SIZE_MAX);
    if (ef_rd_finish(&r) || ef_vote_evidence_parse(&ev, a, al, b, bl)) return;
    bool seen = false;
    for (size_t i = 0; i < s->ncaught && !seen; i++)
        seen = !memcmp(&s->caught[i].offender, &ev.offender, sizeof ev.offender);
    if (!seen) {
        ef_sim_record c = {ev.offender, ev.height, ev.round};
        ef_sim_rec_push(&s->caught, &s->ncaught, &s->capcaught, &c);
    }
    if (nd->npending >= EF_SIM_PENDING_MAX || ef_sim_recorded(s, &ev.offender, ev.height, ev.round)) return;
    ef_sim_pending *q = &nd->pending[nd->npending++];
    memcpy(q->a, a, al);
    memcpy(q->b, b, bl);
    q->a_len = (uint16_t)al;
    q->b_len = (uint16_t)bl;
    q->offender = ev.offender;
    q->height = ev.height;
    q->round = ev.round;
}

/* A node committed o: the first commit of a height applies its evidence to the
 * simulated ledger; the node forgets what is recorded now. */
static void ef_sim_committed_jail(ef_sim *s, ef_sim_node *nd, const ef_engine_out *o)
{
    if (o->height == s->applied + 1) {
        if (ef_sim_value_valid(s, o->data, o->len, o->height))
            (void)ef_sim_items(s, o->data, o->len, o->height, ef_sim_item_apply);
        s->applied = o->height;
    }
    for (uint32_t i = 0; i < nd->npending;) {
        const ef_sim_pending *p = &nd->pending[i];
        if (ef_sim_recorded(s, &p->offender, p->height, p->round))
            nd->pending[i] = nd->pending[--nd->npending];
        else
            i++;
    }
}

static int ef_sim_drain(ef_sim *s, uint32_t i)
{
    ef_sim_node *nd = &s->nodes[i];
    ef_engine_out o;
    int rc = 0;
    while (!rc && nd->eng && ef_engine_poll(nd->eng, &o)) {
        switch (o.kind) {
        case EF_OUT_BROADCAST:
            s->res->broadcasts++;
            /* what the engine wrote to the WAL is durable before anything leaves
             * (the node's node_drain does the same); the planted bug skips it */
            if (!(s->cfg->bug_skip_wal_sync && !nd->byz) && (rc = ef_wal_file_sync(nd->wal))) {
                ef_violation(s, "node %u: WAL sync failed: %s", i, ef_strerror(rc));
                break;
            }
            if (nd->byz) {
                rc = ef_byz_broadcast(s, i, o.data, o.len);
            } else {
                ef_check_double_sign(s, i, o.data, o.len);
                for (uint32_t to = 0; to < s->n && !rc; to++)
                    if (to != i) rc = ef_sim_send(s, i, to, o.data, o.len);
            }
            break;
        case EF_OUT_TIMEOUT: {
            ef_ev ev = {.time = s->now + o.duration_ms, .kind = EV_TIMEOUT, .node = i,
                        .epoch = nd->epoch, .height = o.height, .round = o.round,
                        .step = (uint8_t)o.step};
            rc = ef_ev_push(s, ev);
            break;
        }
        case EF_OUT_VALIDATE: {
            ef_hash id;
            ef_sim_value_id(NULL, o.data, o.len, &id);
            if (!nd->byz) ef_byz_note_value(s, o.height, &id);
            ef_cpu_start(s);
            rc = ef_engine_on_validity(nd->eng, &o.value_id,
                                       ef_sim_value_valid(s, o.data, o.len, ef_engine_height(nd->eng)));
            ef_cpu_stop(s);
            rc = ef_sim_call_rc(s, i, rc, "on_validity");
            break;
        }
        case EF_OUT_COMMIT:
            ef_check_commit(s, i, &o);
            EF_ASSERT(o.height == nd->committed + 1);
            ef_sim_log_put(nd, &o);
            nd->committed = o.height;
            nd->last_progress_ms = s->now;
            if (!nd->byz) s->res->commits++;
            if (s->cfg->jail) ef_sim_committed_jail(s, nd, &o);
            ef_cpu_start(s);
            rc = ef_engine_start_height(nd->eng, o.height + 1, ef_sim_vset_at(s, o.height + 1));
            ef_cpu_stop(s);
            rc = ef_sim_call_rc(s, i, rc, "start_height");
            break;
        case EF_OUT_EVIDENCE: {
            ef_pub who;
            uint64_t h;
            s->res->evidence++;
            int erc = ef_evidence_verify_with(o.data, o.len, EF_SIM_CHAIN, ef_sim_vset_at(s, o.height),
                                              &who, &h, ef_sim_verify, s);
            if (erc) {
                ef_violation(s, "node %u produced evidence that does not verify (%s)", i, ef_strerror(erc));
            } else {
                int idx = ef_cvset_index(&s->vs, &who);
                if (idx >= 0 && !s->nodes[idx].byz)
                    ef_violation(s, "evidence of equivocation against honest node %d at height %llu", idx,
                                 (unsigned long long)h);
                else if (s->cfg->jail && !nd->byz)
                    ef_sim_hold_evidence(s, nd, o.data, o.len);
            }
            break;
        }
        default:
            EF_ASSERT(0);
        }
        ef_engine_out_free(&o);
    }
    return rc;
}

static int ef_sim_schedule_catchup(ef_sim *s, uint32_t i)
{
    ef_sim_node *nd = &s->nodes[i];
    if (nd->catchup_pending || !nd->eng) return 0;
    nd->catchup_pending = true;
    ef_ev ev = {.time = s->now + EF_SIM_CATCHUP_MS, .kind = EV_CATCHUP, .node = i, .epoch = nd->epoch};
    return ef_ev_push(s, ev);
}

/* Catch-up: fetch the next block and its certificate from a reachable honest
 * node that has it (the node software's block sync, simulated). */
static int ef_sim_catchup(ef_sim *s, uint32_t i)
{
    ef_sim_node *nd = &s->nodes[i];
    nd->catchup_pending = false;
    uint64_t h = nd->committed + 1;
    for (uint32_t k = 0; k < s->n; k++) {
        uint32_t j = (uint32_t)((i + 1 + k) % s->n);
        ef_sim_node *src = &s->nodes[j];
        if (j == i || src->byz || !src->up || src->committed < h || !ef_sim_connected(s, i, j)) continue;
        ef_sim_block *b = &src->log[h];
        ef_cpu_start(s);
        int rc = ef_engine_on_decided(nd->eng, h, b->value, b->len, b->cert, b->cert_len);
        ef_cpu_stop(s);
        if (rc == 0) s->res->catchups++;
        if ((rc = ef_sim_call_rc(s, i, rc, "on_decided"))) return rc;
        if ((rc = ef_sim_drain(s, i))) return rc;
        if (ef_engine_get_stats(nd->eng)->height_seen > nd->committed + 1)
            return ef_sim_schedule_catchup(s, i);
        return 0;
    }
    return 0;
}

/* Adds an honest engine's signature counts to the result (before it is freed). */
static void ef_sim_engine_stats(ef_sim *s, const ef_sim_node *nd)
{
    if (!nd->eng || nd->byz) return;
    const ef_engine_stats *st = ef_engine_get_stats(nd->eng);
    s->res->votes_deferred += st->deferred;
    s->res->sigs_bad_late += st->late_bad;
}

/* Stops node i. A process crash leaves its disk as it is; a power loss keeps
 * what was synced and a seeded choice of what was not (ef_simdisk.h). */
static void ef_sim_crash(ef_sim *s, uint32_t i, bool power)
{
    ef_sim_node *nd = &s->nodes[i];
    ef_sim_engine_stats(s, nd);
    ef_engine_free(nd->eng); /* outputs not yet drained are lost with it */
    nd->eng = NULL;
    ef_wal_file_close(nd->wal); /* no sync: the process is gone */
    nd->wal = NULL;
    if (power) {
        s->res->power_losses++;
        if (ef_simdisk_unsynced(nd->disk)) s->res->power_losses_unsynced++;
        ef_simdisk_loss kind = (ef_simdisk_loss)ef_rand_below(s, EF_SIMDISK_LOSS_KINDS);
        ef_simdisk_power_loss(nd->disk, kind, ef_rand(s));
    } else {
        s->res->process_crashes++;
    }
    nd->up = false;
    nd->crash_torn = false;
    nd->crash_power = false;
    nd->epoch++;
    nd->catchup_pending = false;
}

static int ef_sim_event(ef_sim *s, ef_ev *ev)
{
    ef_sim_node *nd = ev->node < s->n ? &s->nodes[ev->node] : NULL;
    int rc = 0;
    switch (ev->kind) {
    case EV_DELIVER:
        if (!nd->up) break;
        s->res->delivered++;
        ef_cpu_start(s);
        rc = ef_engine_on_message_from(nd->eng, ev->data, ev->len, &s->nodes[ev->from].key.pub);
        ef_cpu_stop(s);
        if ((rc = ef_sim_call_rc(s, ev->node, rc, "on_message"))) break;
        if (nd->crash_torn) {
            ef_sim_crash(s, ev->node, nd->crash_power);
            break;
        }
        if ((rc = ef_sim_drain(s, ev->node))) break;
        if (ef_engine_get_stats(nd->eng)->height_seen > nd->committed + 1)
            rc = ef_sim_schedule_catchup(s, ev->node);
        break;
    case EV_TIMEOUT:
        if (!nd->up || ev->epoch != nd->epoch) break;
        ef_cpu_start(s);
        rc = ef_engine_on_timeout(nd->eng, ev->height, ev->round, (ef_step)ev->step);
        ef_cpu_stop(s);
        if ((rc = ef_sim_call_rc(s, ev->node, rc, "on_timeout"))) break;
        if (nd->crash_torn) {
            ef_sim_crash(s, ev->node, nd->crash_power);
            break;
        }
        rc = ef_sim_drain(s, ev->node);
        break;
    case EV_CATCHUP:
        if (!nd->up || ev->epoch != nd->epoch) break;
        rc = ef_sim_catchup(s, ev->node);
        break;
    case EV_CRASH: {
        if (!nd->up) break;
        /* (no draw when power_loss is 0, so such runs replay as before the disk model) */
        bool power = ef_rand_chance(s, s->cfg->power_loss);
        /* Half the crashes hit in the middle of a step: the next input is
         * processed (its WAL writes are made, not synced) but nothing it sends
         * leaves. */
        if (ef_rand(s) & 1) {
            nd->crash_torn = true;
            nd->crash_power = power;
        } else {
            ef_sim_crash(s, ev->node, power);
        }
        break;
    }
    case EV_RESTART:
        if (s->faults_open) s->faults_open--;
        if (s->now > s->heal_ms) s->heal_ms = s->now;
        nd->crash_torn = false; /* a torn crash that found no input did not happen */
        nd->crash_power = false;
        if (nd->up) break;
        s->res->restarts++;
        rc = ef_sim_start_engine(s, ev->node);
        break;
    case EV_PART_START: {
        s->partitioned = true;
        uint64_t mask = 0;
        while (mask == 0 || mask == ((s->n >= 64 ? ~0ULL : (1ULL << s->n) - 1)))
            mask = ef_rand(s) & (s->n >= 64 ? ~0ULL : (1ULL << s->n) - 1);
        for (uint32_t i = 0; i < s->n; i++) s->nodes[i].side = (uint8_t)((mask >> (i % 64)) & 1);
        break;
    }
    case EV_PART_HEAL:
        s->partitioned = false;
        if (s->faults_open) s->faults_open--;
        if (s->now > s->heal_ms) s->heal_ms = s->now;
        /* nodes that fell behind during the partition fetch blocks */
        for (uint32_t i = 0; i < s->n && !rc; i++)
            if (s->nodes[i].up) rc = ef_sim_schedule_catchup(s, i);
        break;
    default:
        EF_ASSERT(0);
    }
    free(ev->data);
    ev->data = NULL;
    return rc;
}

/* ---------------- setup and main loop ---------------- */

void ef_sim_cfg_defaults(ef_sim_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->validators = 4;
    cfg->heights = 10;
    cfg->delay_ms_max = 50;
    cfg->verify_cache = true;
    cfg->power_loss = 0.5;
    cfg->byz_kind = -1;
}

static int ef_sim_schedule_faults(ef_sim *s)
{
    const ef_sim_cfg *c = s->cfg;
    int rc;
    /* Faults happen within about the time the run needs without them (a few
     * hundred ms per height here), and all end by fault_end_ms. */
    uint64_t span = 300 * c->heights < 4000 ? 4000 : 300 * c->heights;
    s->fault_end_ms = span;
    uint64_t t = 0;
    for (uint32_t k = 0; k < c->partitions; k++) {
        uint64_t start = ef_rand_below(s, span / 2);
        uint64_t dur = 500 + ef_rand_below(s, span / 2);
        if (start < t) start = t;
        if (start + dur > span) dur = span > start ? span - start : 1;
        ef_ev a = {.time = start, .kind = EV_PART_START}, b = {.time = start + dur, .kind = EV_PART_HEAL};
        if ((rc = ef_ev_push(s, a)) || (rc = ef_ev_push(s, b))) return rc;
        s->faults_open++;
        t = start + dur + 1;
    }
    uint32_t honest[EF_SIM_NODES_MAX], nh = 0;
    for (uint32_t i = 0; i < s->n; i++)
        if (!s->nodes[i].byz) honest[nh++] = i;
    for (uint32_t k = 0; k < c->crashes && nh; k++) {
        uint32_t who = honest[ef_rand_below(s, nh)];
        uint64_t start = ef_rand_below(s, span);
        uint64_t dur = 100 + ef_rand_below(s, 3000);
        ef_ev a = {.time = start, .kind = EV_CRASH, .node = who},
              b = {.time = start + dur, .kind = EV_RESTART, .node = who};
        if ((rc = ef_ev_push(s, a)) || (rc = ef_ev_push(s, b))) return rc;
        s->faults_open++;
        if (start + dur > s->fault_end_ms) s->fault_end_ms = start + dur;
    }
    return 0;
}

static uint64_t ef_sim_min_committed(const ef_sim *s)
{
    uint64_t m = UINT64_MAX;
    for (uint32_t i = 0; i < s->n; i++)
        if (!s->nodes[i].byz && s->nodes[i].committed < m) m = s->nodes[i].committed;
    return m == UINT64_MAX ? 0 : m;
}

int ef_sim_run(const ef_sim_cfg *cfg, ef_sim_result *res)
{
    memset(res, 0, sizeof *res);
    if (cfg->validators == 0 || cfg->validators > EF_SIM_NODES_MAX || cfg->byzantine >= cfg->validators ||
        cfg->heights == 0 || cfg->delay_ms_max == 0 || cfg->loss < 0 || cfg->loss >= 1 ||
        cfg->dup < 0 || cfg->dup > 1 || !(cfg->power_loss >= 0 && cfg->power_loss <= 1) ||
        cfg->byz_kind < -1 || cfg->byz_kind >= EF_BYZ_KINDS)
        return EF_EINVAL;
    ef_sim *s = calloc(1, sizeof *s);
    if (!s) return EF_ENOMEM;
    int rc = 0;
    s->cfg = cfg;
    s->res = res;
    s->rng = cfg->seed * 0x2545f4914f6cdd1dULL + 0x1234567;
    s->n = cfg->validators;
    s->decided_cap = 64;
    s->decided = calloc(s->decided_cap, sizeof *s->decided);
    /* the checkers always use the cache; engines only with verify_cache */
    s->vcache = calloc(1u << EF_SIM_VCACHE_BITS, sizeof *s->vcache);
    if (!s->decided || !s->vcache) {
        rc = EF_ENOMEM;
        goto out;
    }
    /* keys and validator set */
    s->vs.len = s->n;
    for (uint32_t i = 0; i < s->n; i++) {
        uint8_t seed[EF_SEED_SIZE];
        for (int k = 0; k < 4; k++) ef_put_u64le(seed + 8 * k, ef_rand(s));
        ef_keypair_from_seed(&s->nodes[i].key, seed);
        s->vs.v[i].pub = s->nodes[i].key.pub;
        s->vs.v[i].power = 1;
        if ((rc = ef_simdisk_new(&s->nodes[i].disk))) goto out;
    }
    /* Byzantine ones: a seeded choice of indices and behaviours */
    for (uint32_t k = 0; k < cfg->byzantine;) {
        uint32_t i = (uint32_t)ef_rand_below(s, s->n);
        if (s->nodes[i].byz) continue;
        s->nodes[i].byz = true;
        s->nodes[i].byz_kind = (int)ef_rand_below(s, EF_BYZ_KINDS);
        if (cfg->byz_kind >= 0) s->nodes[i].byz_kind = cfg->byz_kind;
        k++;
    }
    ef_engine_cfg_defaults(&s->ecfg); /* the timeouts nodes run */
    s->ecfg.chain_id = EF_SIM_CHAIN;
    s->ecfg.get_value = ef_sim_get_value;
    s->ecfg.value_id = ef_sim_value_id;
    s->ecfg.verify = cfg->verify_cache ? ef_sim_verify : NULL;
    s->ecfg.verify_ctx = s;
    if ((rc = ef_sim_schedule_faults(s))) goto out;
    for (uint32_t i = 0; i < s->n; i++)
        if ((rc = ef_sim_start_engine(s, i))) goto out;
    uint64_t limit = s->fault_end_ms + EF_SIM_LIVENESS_MS + cfg->heights * 10000ULL;
    while (s->nheap && !res->violations) {
        ef_ev ev = ef_ev_pop(s);
        if (ev.time > limit) {
            free(ev.data);
            ef_violation(s, "liveness: %llu of %llu heights by the time limit",
                         (unsigned long long)ef_sim_min_committed(s), (unsigned long long)cfg->heights);
            break;
        }
        s->now = ev.time;
        if ((rc = ef_sim_event(s, &ev))) break;
        if (ef_sim_min_committed(s) >= cfg->heights) break;
        /* liveness: after healing, every honest node commits again within the bound */
        if (!s->faults_open && s->now > s->heal_ms + EF_SIM_LIVENESS_MS) {
            for (uint32_t i = 0; i < s->n; i++) {
                ef_sim_node *nd = &s->nodes[i];
                uint64_t since = nd->last_progress_ms > s->heal_ms ? nd->last_progress_ms : s->heal_ms;
                if (!nd->byz && s->now > since + EF_SIM_LIVENESS_MS) {
                    ef_violation(s, "liveness: honest node %u stuck at height %llu for %u ms after healing",
                                 i, (unsigned long long)nd->committed + 1, EF_SIM_LIVENESS_MS);
                    break;
                }
            }
        }
    }
    if (res->violations && getenv("EF_SIM_DEBUG")) {
        for (uint32_t i = 0; i < s->n; i++) {
            ef_sim_node *nd = &s->nodes[i];
            fprintf(stderr, "node %u%s%s committed=%llu byz_kind=%d\n", i, nd->byz ? " BYZ" : "",
                    nd->up ? "" : " DOWN", (unsigned long long)nd->committed, nd->byz_kind);
            if (nd->eng) ef_engine_dump(nd->eng, stderr);
        }
    }
    if (!s->nheap && !res->violations && ef_sim_min_committed(s) < cfg->heights)
        ef_violation(s, "liveness: no events left at %llu of %llu heights",
                     (unsigned long long)ef_sim_min_committed(s), (unsigned long long)cfg->heights);
    res->heights = ef_sim_min_committed(s);
    res->sim_ms = s->now;
    /* jail: every offender caught well before the end is recorded and out of the set */
    for (size_t i = 0; cfg->jail && !res->violations && i < s->ncaught; i++) {
        const ef_sim_record *c = &s->caught[i];
        if (c->height + 2ull * s->n + 10 > res->heights) continue;
        bool rec = false;
        for (size_t k = 0; k < s->nrecords && !rec; k++)
            rec = !memcmp(&s->records[k].offender, &c->offender, sizeof c->offender);
        int idx = ef_cvset_index(&s->vs, &c->offender);
        if (!rec)
            ef_violation(s, "jail: double vote of node %d caught at height %llu never recorded (run ended at %llu)",
                         idx, (unsigned long long)c->height, (unsigned long long)res->heights);
        else if (ef_cvset_index(ef_sim_vset_at(s, res->heights + 1), &c->offender) >= 0)
            ef_violation(s, "jail: node %d recorded but still in the validator set", idx);
    }
    if (rc == EF_EHEIGHT) rc = 0;
out:
    for (size_t k = 0; k < s->nheap; k++) free(s->heap[k].data);
    free(s->heap);
    for (uint32_t i = 0; i < s->n; i++) {
        ef_sim_node *nd = &s->nodes[i];
        ef_sim_engine_stats(s, nd);
        ef_engine_free(nd->eng);
        ef_wal_file_close(nd->wal);
        if (nd->disk) {
            const ef_simdisk_stats *st = ef_simdisk_get_stats(nd->disk);
            res->torn_writes += st->torn;
            res->lost_writes += st->lost_ops;
            res->wal_syncs += st->syncs;
        }
        ef_simdisk_free(nd->disk);
        for (uint64_t h = 0; h < nd->log_cap; h++) {
            free(nd->log[h].value);
            free(nd->log[h].cert);
        }
        free(nd->log);
    }
    free(s->decided);
    free(s->vchanges);
    free(s->records);
    free(s->caught);
    free(s->signed_tab);
    free(s->vcache);
    free(s);
    /* a violation reported through an engine error is a result, not a failure */
    return res->violations ? 0 : rc;
}
