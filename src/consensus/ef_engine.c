/* ef_engine.c: the Tendermint state machine (Algorithm 1 of "The latest gossip on BFT consensus"). */
#include "consensus/ef_engine.h"

#include <stdlib.h>
#include <string.h>

#include "base/ef_codec.h"
#include "base/ef_log.h"

enum { EF_K_PREVOTE = 0, EF_K_PRECOMMIT = 1 };
enum { EF_OWN_PROPOSAL = 0, EF_OWN_PREVOTE = 1, EF_OWN_PRECOMMIT = 2 };

typedef struct {
    ef_hash id;
    uint64_t power;
} ef_tally;

/* One vote as kept: its value and signature (the rest is implied by the slot). */
typedef struct {
    bool has_value;
    bool checked;  /* signature verified (or own); else vouched for by the signer's session */
    ef_hash id;
    ef_sig sig;
} ef_vent;

/* The votes of one validator, one round, one kind. An honest validator has at
 * most one; a Byzantine one may send conflicting ones. Each counts once toward
 * its own value (as in the paper, where quorums count senders per value, which
 * is safe since two quorums share an honest validator), and any_power counts the
 * validator once. v[0] is the first, used for evidence. */
typedef struct {
    uint8_t count;
    bool equivocated;
    ef_vent v[EF_ENGINE_VOTES_PER_SLOT];
} ef_slot;

typedef struct {
    ef_hash id;
    uint8_t *bytes;
    size_t len;
    int validity; /* 0 unknown, 1 valid, -1 invalid */
} ef_value;

typedef struct ef_round {
    uint32_t n;
    ef_slot *slot[2];
    ef_tally *tally[2];
    uint32_t ntally[2];
    uint64_t any_power[2];
    uint64_t nil_power[2];
    bool *seen;
    uint64_t seen_power;
    bool has_prop;
    bool prop_equivocated;
    int prop_value;
    uint32_t prop_vr;
    ef_sig prop_sig;
    uint8_t *own[3];
    size_t own_len[3];
    bool fired_prevote_timeout;
    bool fired_precommit_timeout;
    bool fired_l36;
} ef_round;

/* How a received message is authenticated. A message whose signer is the peer
 * of the authenticated, encrypted session it came over is that validator's word
 * whatever its signature: a vote of it is counted at once and its signature
 * verified only when a third party is to rely on it (a certificate, evidence, a
 * relay); see ef_engine_on_message_from. */
typedef enum {
    EF_AUTH_NONE = 0,    /* relayed or of unknown origin: verified on arrival */
    EF_AUTH_SESSION = 1, /* came from its signer over the signer's session */
    EF_AUTH_CHECKED = 2, /* signature verified already (a buffered message) */
} ef_auth;

typedef struct {
    uint8_t *p;
    size_t len;
    ef_auth auth; /* how the buffered message was authenticated */
} ef_buf;

struct ef_engine {
    ef_engine_cfg cfg;
    char chain[EF_MSG_CHAIN_MAX + 1];
    ef_keypair key;
    bool has_key;
    int err; /* sticky (WAL failure) */

    bool started;
    bool decided;
    uint64_t height;
    ef_vset vs;
    int self;  /* index in vs or -1 */
    bool *sig_bad; /* per validator of vs: sent a bad signature this height (its
                      votes are then verified as they arrive) */
    uint32_t round;
    ef_step step;
    int32_t locked_round;
    ef_hash locked_id;
    int32_t valid_round;
    int valid_value;

    ef_value *values;            /* grows up to EF_ENGINE_VALUES_MAX */
    uint32_t nvalues, capvalues;
    uint64_t value_bytes;        /* at most EF_ENGINE_VALUE_BYTES_MAX */
    ef_round *rounds[EF_ENGINE_ROUNDS_MAX];

    ef_buf future[EF_ENGINE_FUTURE_MAX];
    int future_from[EF_ENGINE_FUTURE_MAX];   /* signer's index in vs */
    uint32_t nfuture;

    ef_engine_out *outq;
    uint32_t out_head, out_count;

    ef_engine_stats stats;
};

static const char *const ef_drop_names[EF_DROP_COUNT_] = {
    "decode", "chain", "height", "round", "not_validator", "bad_sig",
    "not_proposer", "duplicate", "equivocation", "bad_value", "full", "late",
};

const char *ef_drop_name(ef_drop d)
{
    return (unsigned)d < EF_DROP_COUNT_ ? ef_drop_names[d] : "?";
}

void ef_engine_cfg_defaults(ef_engine_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
#define EF_ENGINE_SET(field, ms) cfg->field = ms;
    EF_ENGINE_TIMEOUTS_DEFAULT(EF_ENGINE_SET)
#undef EF_ENGINE_SET
}

/* ---------------- outputs ---------------- */

static void ef_out_push(ef_engine *e, const ef_engine_out *o)
{
    if (e->out_count >= EF_ENGINE_OUT_MAX) {
        /* Only reachable if a driver ignores EF_EFULL; a commit must never be lost. */
        EF_ASSERT(o->kind != EF_OUT_COMMIT);
        e->stats.dropped[EF_DROP_FULL]++;
        free(o->data);
        free(o->cert);
        return;
    }
    e->outq[(e->out_head + e->out_count) % EF_ENGINE_OUT_MAX] = *o;
    e->out_count++;
}

int ef_engine_poll(ef_engine *e, ef_engine_out *out)
{
    if (e->out_count == 0) {
        memset(out, 0, sizeof *out);
        return 0;
    }
    *out = e->outq[e->out_head];
    e->out_head = (e->out_head + 1) % EF_ENGINE_OUT_MAX;
    e->out_count--;
    return 1;
}

void ef_engine_out_free(ef_engine_out *out)
{
    free(out->data);
    free(out->cert);
    out->data = out->cert = NULL;
}

static uint8_t *ef_dup(const void *p, size_t n)
{
    uint8_t *q = malloc(n ? n : 1);
    EF_ASSERT(q);
    if (n) memcpy(q, p, n);
    return q;
}

static uint32_t ef_timeout_ms(uint32_t base, uint32_t delta, uint32_t round)
{
    uint64_t t = (uint64_t)base + (uint64_t)delta * round;
    return t > 3600000u ? 3600000u : (uint32_t)t;
}

static void ef_out_timeout(ef_engine *e, ef_step step)
{
    uint32_t ms;
    switch (step) {
    case EF_STEP_PROPOSE:
        ms = ef_timeout_ms(e->cfg.propose_ms, e->cfg.propose_delta_ms, e->round);
        break;
    case EF_STEP_PREVOTE:
        ms = ef_timeout_ms(e->cfg.prevote_ms, e->cfg.prevote_delta_ms, e->round);
        break;
    case EF_STEP_PRECOMMIT:
        ms = ef_timeout_ms(e->cfg.precommit_ms, e->cfg.precommit_delta_ms, e->round);
        break;
    default:
        ms = e->cfg.resend_ms;
        break;
    }
    ef_engine_out o = {.kind = EF_OUT_TIMEOUT, .height = e->height, .round = e->round,
                       .step = step, .duration_ms = ms};
    ef_out_push(e, &o);
}

static void ef_out_broadcast(ef_engine *e, const uint8_t *p, size_t len)
{
    ef_engine_out o = {.kind = EF_OUT_BROADCAST, .height = e->height, .round = e->round,
                       .data = ef_dup(p, len), .len = len};
    ef_out_push(e, &o);
}

/* ---------------- state ---------------- */

static ef_round *ef_round_get(ef_engine *e, uint32_t r)
{
    if (r >= EF_ENGINE_ROUNDS_MAX) return NULL;
    if (e->rounds[r]) return e->rounds[r];
    uint32_t n = e->vs.len;
    ef_round *rd = calloc(1, sizeof *rd);
    EF_ASSERT(rd);
    rd->n = n;
    for (int k = 0; k < 2; k++) {
        rd->slot[k] = calloc(n, sizeof(ef_slot));
        rd->tally[k] = calloc((size_t)n * EF_ENGINE_VOTES_PER_SLOT, sizeof(ef_tally));
        EF_ASSERT(rd->slot[k] && rd->tally[k]);
    }
    rd->seen = calloc(n, sizeof(bool));
    EF_ASSERT(rd->seen);
    rd->prop_value = -1;
    e->rounds[r] = rd;
    return rd;
}

static void ef_round_free(ef_round *rd)
{
    if (!rd) return;
    for (int k = 0; k < 2; k++) {
        free(rd->slot[k]);
        free(rd->tally[k]);
    }
    for (int i = 0; i < 3; i++) free(rd->own[i]);
    free(rd->seen);
    free(rd);
}

static void ef_height_clear(ef_engine *e)
{
    for (uint32_t r = 0; r < EF_ENGINE_ROUNDS_MAX; r++) {
        ef_round_free(e->rounds[r]);
        e->rounds[r] = NULL;
    }
    for (uint32_t i = 0; i < e->nvalues; i++) free(e->values[i].bytes);
    e->nvalues = 0;
    e->value_bytes = 0;
    e->decided = false;
    e->round = 0;
    e->step = EF_STEP_PROPOSE;
    e->locked_round = -1;
    memset(&e->locked_id, 0, sizeof e->locked_id);
    e->valid_round = -1;
    e->valid_value = -1;
    free(e->sig_bad);
    e->sig_bad = NULL;
}

static int ef_value_find(const ef_engine *e, const ef_hash *id)
{
    for (uint32_t i = 0; i < e->nvalues; i++)
        if (ef_hash_eq(&e->values[i].id, id)) return (int)i;
    return -1;
}

/* Adds value bytes (copied); returns its index or -1 (bad value / table full).
 * A new value from someone else gets a VALIDATE output. */
static int ef_value_add(ef_engine *e, const uint8_t *p, size_t len, bool own)
{
    ef_hash id;
    if (e->cfg.value_id(e->cfg.cb_ctx, p, len, &id)) return -1;
    int i = ef_value_find(e, &id);
    if (i >= 0) {
        if (own) e->values[i].validity = 1;
        return i;
    }
    if (e->nvalues >= EF_ENGINE_VALUES_MAX || e->value_bytes + len > EF_ENGINE_VALUE_BYTES_MAX)
        return -1;
    if (e->nvalues == e->capvalues) {
        uint32_t nc = e->capvalues ? e->capvalues * 2 : 8;
        ef_value *nv = realloc(e->values, nc * sizeof *nv);
        EF_ASSERT(nv);
        e->values = nv;
        e->capvalues = nc;
    }
    e->value_bytes += len;
    i = (int)e->nvalues++;
    e->values[i] = (ef_value){.id = id, .bytes = ef_dup(p, len), .len = len,
                              .validity = own ? 1 : 0};
    if (!own) {
        ef_engine_out o = {.kind = EF_OUT_VALIDATE, .height = e->height, .round = e->round,
                           .value_id = id, .data = ef_dup(p, len), .len = len};
        ef_out_push(e, &o);
    }
    return i;
}

static void ef_tally_add(ef_round *rd, int k, bool has_value, const ef_hash *id, uint64_t power)
{
    if (!has_value) {
        rd->nil_power[k] += power;
        return;
    }
    for (uint32_t i = 0; i < rd->ntally[k]; i++) {
        if (ef_hash_eq(&rd->tally[k][i].id, id)) {
            rd->tally[k][i].power += power;
            return;
        }
    }
    EF_ASSERT(rd->ntally[k] < rd->n * EF_ENGINE_VOTES_PER_SLOT);
    rd->tally[k][rd->ntally[k]++] = (ef_tally){*id, power};
}

/* The id with a quorum of votes of kind k in round r, if any. */
static bool ef_round_quorum_id(const ef_engine *e, uint32_t r, int k, ef_hash *id)
{
    const ef_round *rd = r < EF_ENGINE_ROUNDS_MAX ? e->rounds[r] : NULL;
    if (!rd) return false;
    for (uint32_t i = 0; i < rd->ntally[k]; i++) {
        if (ef_cvset_is_quorum(&e->vs, rd->tally[k][i].power)) {
            *id = rd->tally[k][i].id;
            return true;
        }
    }
    return false;
}

static bool ef_round_has_quorum_for(const ef_engine *e, uint32_t r, int k, const ef_hash *id)
{
    ef_hash q;
    return ef_round_quorum_id(e, r, k, &q) && ef_hash_eq(&q, id);
}

static void ef_mark_seen(ef_engine *e, ef_round *rd, int idx)
{
    if (!rd->seen[idx]) {
        rd->seen[idx] = true;
        rd->seen_power += e->vs.v[idx].power;
    }
}

/* Encodes a vote from stored parts (for evidence and resending). */
static uint8_t *ef_vote_encode(const ef_engine *e, int k, uint32_t r, int idx, const ef_vent *s,
                               size_t *len)
{
    uint8_t buf[EF_MSG_VOTE_SIGNED_MAX + EF_SIG_SIZE];
    size_t n = ef_msg_vote_signed_bytes(buf, k == EF_K_PREVOTE ? EF_MSG_PREVOTE : EF_MSG_PRECOMMIT,
                                        e->chain, e->height, r, &e->vs.v[idx].pub,
                                        s->has_value ? &s->id : NULL);
    memcpy(buf + n, &s->sig, EF_SIG_SIZE);
    *len = n + EF_SIG_SIZE;
    return ef_dup(buf, *len);
}

static void ef_out_evidence(ef_engine *e, uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    uint8_t *ev;
    size_t ev_len;
    if (ef_evidence_encode(&ev, &ev_len, a, a_len, b, b_len) == 0) {
        ef_engine_out o = {.kind = EF_OUT_EVIDENCE, .height = e->height, .round = e->round,
                           .data = ev, .len = ev_len};
        ef_out_push(e, &o);
        e->stats.evidence++;
    }
    free(a);
}

/* ---------------- signing own messages ---------------- */

/* Makes msg durable, keeps it as own message of (round, which), broadcasts it.
 * Takes ownership of p. */
static int ef_own_emit(ef_engine *e, uint32_t r, int which, uint8_t *p, size_t len)
{
    int rc = e->cfg.wal.append(e->cfg.wal.ctx, p, len);
    if (rc) {
        e->err = rc;
        free(p);
        EF_LOGE("consensus", "WAL append failed: %s; engine stops signing", ef_strerror(rc));
        return rc;
    }
    ef_round *rd = ef_round_get(e, r);
    EF_ASSERT(rd && !rd->own[which]);
    rd->own[which] = p;
    rd->own_len[which] = len;
    e->stats.signed_msgs++;
    ef_out_broadcast(e, p, len);
    return 0;
}

static bool ef_insert_vote(ef_engine *e, const ef_msg *m, int idx, bool checked);
static void ef_insert_proposal(ef_engine *e, const ef_msg *m, int idx, int value);
static bool ef_vent_check(ef_engine *e, int k, uint32_t r, uint32_t idx, uint8_t j);

/* Casts own vote of kind k in the current round (nil if id is NULL), unless one
 * was already signed for this (height, round, step): then that one is re-sent. */
static int ef_vote(ef_engine *e, int k, const ef_hash *id)
{
    e->step = k == EF_K_PREVOTE ? EF_STEP_PREVOTE : EF_STEP_PRECOMMIT;
    if (!e->has_key || e->self < 0 || e->err) return e->err;
    ef_round *rd = ef_round_get(e, e->round);
    EF_ASSERT(rd);
    int which = k == EF_K_PREVOTE ? EF_OWN_PREVOTE : EF_OWN_PRECOMMIT;
    if (rd->own[which]) {
        ef_out_broadcast(e, rd->own[which], rd->own_len[which]);
        return 0;
    }
    ef_msg m = {.type = k == EF_K_PREVOTE ? EF_MSG_PREVOTE : EF_MSG_PRECOMMIT,
                .height = e->height, .round = e->round, .has_value = id != NULL};
    memcpy(m.chain, e->chain, sizeof m.chain);
    if (id) m.value_id = *id;
    uint8_t *p;
    size_t len;
    int rc = ef_msg_sign_encode(&m, &e->key, &p, &len);
    EF_ASSERT(rc == 0);
    if ((rc = ef_own_emit(e, e->round, which, p, len))) return rc;
    ef_insert_vote(e, &m, e->self, true);
    return 0;
}

/* Sends the prevotes of round vr for id (the proof of lock of a re-proposed
 * value), so that validators which missed some of them, for instance because a
 * Byzantine validator sent them a conflicting vote, can check the proposal. */
static void ef_send_pol(ef_engine *e, uint32_t vr, const ef_hash *id)
{
    ef_round *rd = vr < EF_ENGINE_ROUNDS_MAX ? e->rounds[vr] : NULL;
    if (!rd) return;
    for (uint32_t i = 0; i < rd->n; i++) {
        ef_slot *s = &rd->slot[EF_K_PREVOTE][i];
        for (uint8_t j = 0; j < s->count; j++) {
            if (s->v[j].has_value && ef_hash_eq(&s->v[j].id, id)) {
                if (!ef_vent_check(e, EF_K_PREVOTE, vr, i, j)) break; /* relayed: verified */
                size_t len;
                uint8_t *p = ef_vote_encode(e, EF_K_PREVOTE, vr, (int)i, &s->v[j], &len);
                ef_out_broadcast(e, p, len);
                free(p);
                break;
            }
        }
    }
}

static int ef_propose(ef_engine *e)
{
    ef_round *rd = ef_round_get(e, e->round);
    EF_ASSERT(rd);
    if (rd->own[EF_OWN_PROPOSAL]) {
        ef_out_broadcast(e, rd->own[EF_OWN_PROPOSAL], rd->own_len[EF_OWN_PROPOSAL]);
        return 0;
    }
    uint8_t *value = NULL;
    size_t value_len = 0;
    bool fresh = e->valid_value < 0;
    if (!fresh) {
        value = e->values[e->valid_value].bytes;
        value_len = e->values[e->valid_value].len;
    } else if (e->cfg.get_value(e->cfg.cb_ctx, e->height, e->round, &value, &value_len) ||
               !value || value_len == 0 || value_len > EF_MSG_VALUE_MAX) {
        free(value);
        return 0;
    }
    ef_msg m = {.type = EF_MSG_PROPOSAL, .height = e->height, .round = e->round,
                .valid_round = fresh ? EF_ROUND_NONE : (uint32_t)e->valid_round,
                .value = value, .value_len = value_len};
    memcpy(m.chain, e->chain, sizeof m.chain);
    uint8_t *p;
    size_t len;
    int vi = ef_value_add(e, value, value_len, true);
    int rc = 0;
    if (vi < 0) goto out;
    rc = ef_msg_sign_encode(&m, &e->key, &p, &len);
    EF_ASSERT(rc == 0);
    if ((rc = ef_own_emit(e, e->round, EF_OWN_PROPOSAL, p, len))) goto out;
    ef_insert_proposal(e, &m, e->self, vi);
    if (!fresh) ef_send_pol(e, (uint32_t)e->valid_round, &e->values[vi].id);
out:
    if (fresh) free(value);
    return rc;
}

/* StartRound(r) */
static int ef_start_round(ef_engine *e, uint32_t r)
{
    EF_ASSERT(r < EF_ENGINE_ROUNDS_MAX);
    e->round = r;
    e->step = EF_STEP_PROPOSE;
    ef_round *rd = ef_round_get(e, r);
    int rc = 0;
    if (e->has_key && e->self >= 0 && !e->err &&
        ef_cvset_proposer(&e->vs, e->height, r) == (uint32_t)e->self) {
        if ((rc = ef_propose(e))) return rc;
    }
    /* Every node, the proposer too, bounds the propose step (the proposer may
     * have had no value). */
    ef_out_timeout(e, EF_STEP_PROPOSE);
    ef_out_timeout(e, EF_STEP_RESEND);
    /* After a restart: what was already signed in this round stands. */
    if (rd->own[EF_OWN_PREVOTE]) {
        e->step = EF_STEP_PREVOTE;
        ef_out_broadcast(e, rd->own[EF_OWN_PREVOTE], rd->own_len[EF_OWN_PREVOTE]);
    }
    if (rd->own[EF_OWN_PRECOMMIT]) {
        e->step = EF_STEP_PRECOMMIT;
        ef_out_broadcast(e, rd->own[EF_OWN_PRECOMMIT], rd->own_len[EF_OWN_PRECOMMIT]);
    }
    return 0;
}

/* ---------------- inserting received messages ---------------- */

static bool ef_slot_has(const ef_slot *s, bool has_value, const ef_hash *id)
{
    for (uint8_t i = 0; i < s->count; i++)
        if (s->v[i].has_value == has_value && ef_hash_eq(&s->v[i].id, id)) return true;
    return false;
}

static uint64_t ef_tally_power(const ef_round *rd, int k, bool has_value, const ef_hash *id)
{
    if (!has_value) return rd->nil_power[k];
    for (uint32_t i = 0; i < rd->ntally[k]; i++)
        if (ef_hash_eq(&rd->tally[k][i].id, id)) return rd->tally[k][i].power;
    return 0;
}

/* A full slot (a Byzantine validator sent many conflicting votes): the new vote
 * replaces the kept one (never the first) whose value has the least support, if
 * the new vote's value has at least as much. So junk votes cannot crowd out the
 * one that completes a quorum. Counting fewer votes is always safe. */
static bool ef_slot_evict(ef_engine *e, ef_round *rd, int k, ef_slot *s, const ef_msg *m,
                          uint64_t power)
{
    (void)e;
    uint8_t worst = 0;
    uint64_t worst_power = UINT64_MAX;
    for (uint8_t j = 1; j < s->count; j++) {
        uint64_t p = ef_tally_power(rd, k, s->v[j].has_value, &s->v[j].id);
        if (p < worst_power) {
            worst_power = p;
            worst = j;
        }
    }
    if (worst == 0 || ef_tally_power(rd, k, m->has_value, &m->value_id) < worst_power) return false;
    const ef_vent *w = &s->v[worst];
    bool nil_elsewhere = false;
    for (uint8_t j = 0; j < s->count; j++)
        if (j != worst && !s->v[j].has_value) nil_elsewhere = true;
    if (w->has_value) {
        for (uint32_t i = 0; i < rd->ntally[k]; i++)
            if (ef_hash_eq(&rd->tally[k][i].id, &w->id)) rd->tally[k][i].power -= power;
    } else if (!nil_elsewhere) {
        rd->nil_power[k] -= power;
    }
    s->v[worst] = s->v[--s->count];
    return true;
}

/* Returns false if the vote was not kept (a copy, or a full slot). checked: its
 * signature was verified (or it is our own). */
static bool ef_insert_vote(ef_engine *e, const ef_msg *m, int idx, bool checked)
{
    ef_round *rd = ef_round_get(e, m->round);
    EF_ASSERT(rd);
    int k = m->type == EF_MSG_PREVOTE ? EF_K_PREVOTE : EF_K_PRECOMMIT;
    ef_slot *s = &rd->slot[k][idx];
    /* a copy of one we have (only own messages can get here twice) or no room */
    if (ef_slot_has(s, m->has_value, &m->value_id)) return false;
    uint64_t power = e->vs.v[idx].power;
    if (s->count >= EF_ENGINE_VOTES_PER_SLOT && !ef_slot_evict(e, rd, k, s, m, power)) return false;
    bool had_nil = ef_slot_has(s, false, &(ef_hash){0});
    if (s->count == 0) rd->any_power[k] += power;
    s->v[s->count++] = (ef_vent){.has_value = m->has_value, .checked = checked, .id = m->value_id,
                                 .sig = m->sig};
    if (m->has_value || !had_nil) ef_tally_add(rd, k, m->has_value, &m->value_id, power);
    ef_mark_seen(e, rd, idx);
    return true;
}

static void ef_insert_proposal(ef_engine *e, const ef_msg *m, int idx, int value)
{
    ef_round *rd = ef_round_get(e, m->round);
    EF_ASSERT(rd);
    if (rd->has_prop) return;
    rd->has_prop = true;
    rd->prop_value = value;
    rd->prop_vr = m->valid_round;
    rd->prop_sig = m->sig;
    ef_mark_seen(e, rd, idx);
}

/* Removes vote j of validator idx's slot of kind k in round r, undoing its count
 * (and its being seen in the round if nothing else of it is there). */
static void ef_slot_drop(ef_engine *e, uint32_t r, int k, uint32_t idx, uint8_t j)
{
    ef_round *rd = e->rounds[r];
    ef_slot *s = &rd->slot[k][idx];
    EF_ASSERT(j < s->count);
    uint64_t power = e->vs.v[idx].power;
    const ef_vent *w = &s->v[j];
    if (w->has_value) {
        for (uint32_t i = 0; i < rd->ntally[k]; i++)
            if (ef_hash_eq(&rd->tally[k][i].id, &w->id)) rd->tally[k][i].power -= power;
    } else {
        rd->nil_power[k] -= power; /* a slot holds at most one nil vote */
    }
    memmove(&s->v[j], &s->v[j + 1], (size_t)(s->count - j - 1) * sizeof s->v[0]); /* v[0] stays first */
    if (--s->count == 0) rd->any_power[k] -= power;
    bool proposed = rd->has_prop && ef_cvset_proposer(&e->vs, e->height, r) == idx;
    if (rd->seen[idx] && !proposed && rd->slot[EF_K_PREVOTE][idx].count == 0 &&
        rd->slot[EF_K_PRECOMMIT][idx].count == 0) {
        rd->seen[idx] = false;
        rd->seen_power -= power;
    }
}

/* Makes sure vote j of validator idx (kind k, round r) has a verified signature
 * before a third party relies on it. A vote only its signer's session vouched
 * for is verified now; if the signature is bad the vote is dropped, the signer
 * is faulty and its votes are verified on arrival for the rest of the height. */
static bool ef_vent_check(ef_engine *e, int k, uint32_t r, uint32_t idx, uint8_t j)
{
    ef_round *rd = e->rounds[r];
    ef_vent *v = &rd->slot[k][idx].v[j];
    if (v->checked) return true;
    ef_msg m = {.type = k == EF_K_PREVOTE ? EF_MSG_PREVOTE : EF_MSG_PRECOMMIT, .height = e->height,
                .round = r, .signer = e->vs.v[idx].pub, .has_value = v->has_value,
                .value_id = v->id, .sig = v->sig};
    memcpy(m.chain, e->chain, sizeof m.chain);
    e->stats.late_verified++;
    if (ef_msg_verify_with(&m, e->cfg.verify, e->cfg.verify_ctx)) {
        v->checked = true;
        return true;
    }
    e->stats.dropped[EF_DROP_BAD_SIG]++;
    e->stats.late_bad++;
    e->sig_bad[idx] = true;
    ef_slot_drop(e, r, k, idx, j);
    return false;
}

/* True if validator idx has a vote of kind k in round r with a verified
 * signature, verifying its session-vouched ones (and dropping bad ones) until
 * one is. */
static bool ef_slot_check_any(ef_engine *e, int k, uint32_t r, uint32_t idx)
{
    const ef_slot *sl = &e->rounds[r]->slot[k][idx];
    for (uint8_t j = 0; j < sl->count; j++)
        if (sl->v[j].checked) return true;
    while (sl->count > 0)
        if (ef_vent_check(e, k, r, idx, 0)) return true;
    return false;
}

/* Before leaving round r on a quorum of precommits of any kind (lines 47-48): the
 * quorum must be one we can relay (the re-sends relay the precommits that made
 * us leave a round, so that validators still in it follow). As ef_certify. */
static bool ef_certify_any(ef_engine *e, uint32_t r)
{
    ef_round *rd = e->rounds[r];
    uint64_t power = 0;
    for (uint32_t i = 0; i < rd->n && !ef_cvset_is_quorum(&e->vs, power); i++)
        if (rd->slot[EF_K_PRECOMMIT][i].count && ef_slot_check_any(e, EF_K_PRECOMMIT, r, i))
            power += e->vs.v[i].power;
    return ef_cvset_is_quorum(&e->vs, power);
}

/* Before skipping to round r on f+1 of its messages (lines 55-56): the same, for
 * the messages we relay there so that validators in lower rounds skip too. */
static bool ef_certify_seen(ef_engine *e, uint32_t r)
{
    ef_round *rd = e->rounds[r];
    uint64_t power = 0;
    for (uint32_t i = 0; i < rd->n && !ef_cvset_is_third(&e->vs, power); i++) {
        if (!rd->seen[i]) continue;
        bool proposed = rd->has_prop && ef_cvset_proposer(&e->vs, e->height, r) == i;
        if (proposed || ef_slot_check_any(e, EF_K_PREVOTE, r, i) || ef_slot_check_any(e, EF_K_PRECOMMIT, r, i))
            power += e->vs.v[i].power;
    }
    return ef_cvset_is_third(&e->vs, power);
}

/* Before acting on a quorum of votes of kind k for id in round r that others
 * must be able to check: verifies the session-vouched votes for id, as many as a
 * quorum needs. Precommits: before deciding (the certificate holds verified
 * signatures only). Prevotes: before locking (lines 36-43), because a lock must
 * be provable to others: a validator locked on a quorum that holds a bad
 * signature could not relay its proof of lock, and the validators not locked
 * might never prevote its value again (the simulator's bad-signature Byzantine
 * validator stalls n = 4 so). True if a quorum of verified votes for id is there;
 * false if bad ones were dropped and the quorum went with them. */
static bool ef_certify(ef_engine *e, int k, uint32_t r, const ef_hash *id)
{
    ef_round *rd = e->rounds[r];
    uint64_t power = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < rd->n && !ef_cvset_is_quorum(&e->vs, power); i++) {
            const ef_slot *sl = &rd->slot[k][i];
            for (uint8_t j = 0; j < sl->count; j++) {
                if (!sl->v[j].has_value || !ef_hash_eq(&sl->v[j].id, id)) continue;
                /* pass 0 counts the verified ones, pass 1 verifies what is missing */
                if (sl->v[j].checked ? pass == 0 : pass == 1 && ef_vent_check(e, k, r, i, j))
                    power += e->vs.v[i].power;
                break;
            }
        }
    }
    return ef_cvset_is_quorum(&e->vs, power);
}

/* ---------------- the rules ---------------- */

static void ef_decide(ef_engine *e, uint32_t r, int vi)
{
    ef_round *rd = e->rounds[r];
    ef_cert *c = calloc(1, sizeof *c);
    EF_ASSERT(c);
    c->height = e->height;
    c->round = r;
    c->value_id = e->values[vi].id;
    for (uint32_t i = 0; i < rd->n; i++) {
        const ef_slot *s = &rd->slot[EF_K_PRECOMMIT][i];
        for (uint8_t j = 0; j < s->count; j++) {
            if (s->v[j].has_value && s->v[j].checked && ef_hash_eq(&s->v[j].id, &c->value_id)) {
                c->sigs[c->count].index = (uint16_t)i;
                c->sigs[c->count].sig = s->v[j].sig;
                c->count++;
                break;
            }
        }
    }
    uint8_t *cert;
    size_t cert_len;
    int rc = ef_cert_encode(c, &cert, &cert_len);
    EF_ASSERT(rc == 0);
    free(c);
    ef_engine_out o = {.kind = EF_OUT_COMMIT, .height = e->height, .round = r,
                       .value_id = e->values[vi].id,
                       .data = ef_dup(e->values[vi].bytes, e->values[vi].len),
                       .len = e->values[vi].len, .cert = cert, .cert_len = cert_len};
    ef_out_push(e, &o);
    e->decided = true;
    e->stats.commits++;
}

/* WAL votes record (see ef_wal.h): the received votes of round r (precommits
 * only, or both kinds) that made us change round. After a crash they are read
 * back and relayed, so validators still in the old round can follow: without
 * them a Byzantine validator that sent its vote to us alone could strand them. */
static int ef_wal_put_votes(ef_engine *e, uint32_t r, bool prevotes_too)
{
    const ef_round *rd = r < EF_ENGINE_ROUNDS_MAX ? e->rounds[r] : NULL;
    if (!e->has_key || e->self < 0 || e->err || !rd) return e->err;
    ef_wr w;
    ef_wr_init(&w);
    ef_wr_u8(&w, EF_WAL_REC_VOTES);
    ef_wr_u64(&w, e->height);
    uint16_t count = 0;
    for (int k = prevotes_too ? EF_K_PREVOTE : EF_K_PRECOMMIT; k <= EF_K_PRECOMMIT; k++)
        for (uint32_t i = 0; i < rd->n; i++)
            if ((int)i != e->self && rd->slot[k][i].count) count++;
    if (count == 0) {
        ef_wr_free(&w);
        return 0;
    }
    ef_wr_u16(&w, count);
    for (int k = prevotes_too ? EF_K_PREVOTE : EF_K_PRECOMMIT; k <= EF_K_PRECOMMIT; k++) {
        for (uint32_t i = 0; i < rd->n; i++) {
            if ((int)i == e->self || !rd->slot[k][i].count) continue;
            size_t len;
            uint8_t *p = ef_vote_encode(e, k, r, (int)i, &rd->slot[k][i].v[0], &len);
            ef_wr_bytes(&w, p, len);
            free(p);
        }
    }
    int rc = w.err;
    if (!rc && (rc = e->cfg.wal.append(e->cfg.wal.ctx, w.buf, w.len))) {
        e->err = rc;
        EF_LOGE("consensus", "WAL append failed: %s; engine stops signing", ef_strerror(rc));
    }
    ef_wr_free(&w);
    return rc;
}

/* WAL lock record: the value we lock on and the prevotes for it (see ef_wal.h). */
static int ef_wal_put_lock(ef_engine *e, int vi)
{
    if (!e->has_key || e->self < 0 || e->err) return e->err;
    const ef_round *rd = e->rounds[e->round];
    const ef_hash *id = &e->values[vi].id;
    ef_wr w;
    ef_wr_init(&w);
    ef_wr_u8(&w, EF_WAL_REC_LOCK);
    ef_wr_u64(&w, e->height);
    ef_wr_u32(&w, e->round);
    ef_wr_bytes(&w, e->values[vi].bytes, e->values[vi].len);
    uint16_t count = 0;
    for (uint32_t i = 0; i < rd->n; i++)
        if (ef_slot_has(&rd->slot[EF_K_PREVOTE][i], true, id)) count++;
    ef_wr_u16(&w, count);
    for (uint32_t i = 0; i < rd->n; i++) {
        const ef_slot *sl = &rd->slot[EF_K_PREVOTE][i];
        for (uint8_t j = 0; j < sl->count; j++) {
            if (!sl->v[j].has_value || !ef_hash_eq(&sl->v[j].id, id)) continue;
            size_t len;
            uint8_t *p = ef_vote_encode(e, EF_K_PREVOTE, e->round, (int)i, &sl->v[j], &len);
            ef_wr_bytes(&w, p, len);
            free(p);
            break;
        }
    }
    int rc = w.err;
    if (!rc && (rc = e->cfg.wal.append(e->cfg.wal.ctx, w.buf, w.len))) {
        e->err = rc;
        EF_LOGE("consensus", "WAL append failed: %s; engine stops signing", ef_strerror(rc));
    }
    ef_wr_free(&w);
    return rc;
}

/* Prevote decision of lines 22-33 for proposal value vi with proof-of-lock round vr. */
static bool ef_prevote_ok(const ef_engine *e, int vi, uint32_t vr)
{
    if (e->values[vi].validity != 1) return false;
    if (e->cfg.bug_ignore_lock) return true; /* planted bug: the lock is ignored */
    if (e->locked_round < 0 || ef_hash_eq(&e->locked_id, &e->values[vi].id)) return true;
    return vr != EF_ROUND_NONE && e->locked_round <= (int32_t)vr;
}

/* One pass over the upon-rules; returns true if something changed. */
static bool ef_rules_once(ef_engine *e, int *rc)
{
    ef_hash id;
    /* Lines 49-54: a quorum of precommits for a known valid value in any round. */
    for (uint32_t r = 0; r < EF_ENGINE_ROUNDS_MAX; r++) {
        if (!e->rounds[r] || !ef_round_quorum_id(e, r, EF_K_PRECOMMIT, &id)) continue;
        int vi = ef_value_find(e, &id);
        if (vi >= 0 && e->values[vi].validity == 1) {
            /* (if not, bad signatures were dropped: the rules run again) */
            if (ef_certify(e, EF_K_PRECOMMIT, r, &id)) ef_decide(e, r, vi);
            return true;
        }
    }
    /* Lines 55-56: f+1 of a higher round: skip to it. */
    for (uint32_t r = EF_ENGINE_ROUNDS_MAX; r-- > e->round + 1;) {
        if (e->rounds[r] && ef_cvset_is_third(&e->vs, e->rounds[r]->seen_power)) {
            if (!ef_certify_seen(e, r)) return true; /* bad ones dropped: the rules run again */
            if ((*rc = ef_wal_put_votes(e, r, true))) return true;
            *rc = ef_start_round(e, r);
            return true;
        }
    }
    ef_round *rd = ef_round_get(e, e->round);
    EF_ASSERT(rd);
    /* Lines 22-33: the proposal of this round, while in propose. */
    if (e->step == EF_STEP_PROPOSE && rd->has_prop && rd->prop_value >= 0) {
        int vi = rd->prop_value;
        uint32_t vr = rd->prop_vr;
        if (e->values[vi].validity != 0) {
            if (vr == EF_ROUND_NONE) {
                *rc = ef_vote(e, EF_K_PREVOTE, ef_prevote_ok(e, vi, vr) ? &e->values[vi].id : NULL);
                return true;
            }
            if (vr < e->round && ef_round_has_quorum_for(e, vr, EF_K_PREVOTE, &e->values[vi].id)) {
                *rc = ef_vote(e, EF_K_PREVOTE, ef_prevote_ok(e, vi, vr) ? &e->values[vi].id : NULL);
                return true;
            }
        }
    }
    /* Lines 34-35: any quorum of prevotes: start the prevote timeout. */
    if (e->step == EF_STEP_PREVOTE && !rd->fired_prevote_timeout &&
        ef_cvset_is_quorum(&e->vs, rd->any_power[EF_K_PREVOTE])) {
        rd->fired_prevote_timeout = true;
        ef_out_timeout(e, EF_STEP_PREVOTE);
        return true;
    }
    /* Lines 36-43: a quorum of prevotes for a known valid value. */
    if (e->step >= EF_STEP_PREVOTE && !rd->fired_l36 &&
        ef_round_quorum_id(e, e->round, EF_K_PREVOTE, &id)) {
        int vi = ef_value_find(e, &id);
        if (vi >= 0 && e->values[vi].validity == 1) {
            if (!ef_certify(e, EF_K_PREVOTE, e->round, &id)) return true; /* bad ones dropped */
            rd->fired_l36 = true;
            if (e->step == EF_STEP_PREVOTE) {
                e->locked_round = (int32_t)e->round;
                e->locked_id = id;
                /* The locked value and its proof of lock go to the WAL before the
                 * precommit, so that after a restart we can still propose it and
                 * others can check it (liveness). */
                if ((*rc = ef_wal_put_lock(e, vi))) return true;
                *rc = ef_vote(e, EF_K_PRECOMMIT, &id);
            }
            e->valid_round = (int32_t)e->round;
            e->valid_value = vi;
            return true;
        }
    }
    /* Lines 44-46: a quorum of nil prevotes. */
    if (e->step == EF_STEP_PREVOTE && ef_cvset_is_quorum(&e->vs, rd->nil_power[EF_K_PREVOTE])) {
        *rc = ef_vote(e, EF_K_PRECOMMIT, NULL);
        return true;
    }
    /* Lines 47-48: any quorum of precommits: start the precommit timeout. */
    if (!rd->fired_precommit_timeout && ef_cvset_is_quorum(&e->vs, rd->any_power[EF_K_PRECOMMIT])) {
        if (!ef_certify_any(e, e->round)) return true; /* bad ones dropped */
        rd->fired_precommit_timeout = true;
        ef_out_timeout(e, EF_STEP_PRECOMMIT);
        return true;
    }
    return false;
}

static int ef_rules(ef_engine *e)
{
    int rc = 0;
    while (e->started && !e->decided && !rc && ef_rules_once(e, &rc)) {
    }
    return rc;
}

/* ---------------- inputs ---------------- */

static int ef_input_check(const ef_engine *e)
{
    if (e->out_count > EF_ENGINE_OUT_MAX / 2) return EF_EFULL;
    return 0;
}

/* Keeps a message of a next height for when that height starts. Only a signed
 * message of a current validator is kept (a peer must not fill the buffer with
 * junk or forged senders), and at most a fair share of the buffer per validator
 * (one validator, Byzantine or replaying, must not push out the others'). A
 * validator joining at that height is not buffered for: its messages are re-sent
 * and counted when its height starts. */
static void ef_buffer_future(ef_engine *e, const ef_msg *m, const uint8_t *p, size_t len, ef_auth auth)
{
    int idx = ef_cvset_index(&e->vs, &m->signer);
    if (idx < 0) {
        e->stats.dropped[EF_DROP_NOT_VALIDATOR]++;
        return;
    }
    uint32_t share = EF_MAX(EF_ENGINE_FUTURE_MAX / (uint32_t)e->vs.len, EF_ENGINE_FUTURE_PER_SENDER_MIN);
    uint32_t mine = 0;
    for (uint32_t i = 0; i < e->nfuture; i++) mine += e->future_from[i] == idx;
    if (e->nfuture >= EF_ENGINE_FUTURE_MAX || mine >= share) {
        e->stats.dropped[EF_DROP_FULL]++;
        return;
    }
    /* its signer's session vouches for who sent it; otherwise the signature does */
    if (auth == EF_AUTH_NONE) {
        if (!ef_msg_verify_with(m, e->cfg.verify, e->cfg.verify_ctx)) {
            e->stats.dropped[EF_DROP_BAD_SIG]++;
            return;
        }
        auth = EF_AUTH_CHECKED;
    }
    e->future_from[e->nfuture] = idx;
    e->future[e->nfuture++] = (ef_buf){ef_dup(p, len), len, auth};
}

/* Processes one received message (own messages enter through ef_vote / ef_propose
 * and the WAL replay, never here). from: the session peer it came from, or NULL;
 * auth: EF_AUTH_CHECKED for a buffered message already verified, else NONE. */
static void ef_receive(ef_engine *e, const uint8_t *p, size_t len, const ef_pub *from, ef_auth auth)
{
    ef_msg m;
    e->stats.received++;
    if (ef_msg_decode(&m, p, len)) {
        e->stats.dropped[EF_DROP_DECODE]++;
        return;
    }
    if (auth == EF_AUTH_NONE && from && !memcmp(from->b, m.signer.b, EF_PUB_SIZE)) auth = EF_AUTH_SESSION;
    if (strcmp(m.chain, e->chain)) {
        e->stats.dropped[EF_DROP_CHAIN]++;
        return;
    }
    /* A hint only (not signature-checked): from a member of the current set. */
    if (m.height > e->stats.height_seen && e->started && ef_cvset_index(&e->vs, &m.signer) >= 0)
        e->stats.height_seen = m.height;
    if (e->started && m.height > e->height && m.height <= e->height + EF_ENGINE_FUTURE_HEIGHTS) {
        ef_buffer_future(e, &m, p, len, auth);
        return;
    }
    if (!e->started || m.height != e->height || e->decided) {
        e->stats.dropped[EF_DROP_HEIGHT]++;
        return;
    }
    /* Any round that can be tracked: a validator left far behind in rounds must
     * still see f+1 of a higher round to skip there (lines 55-56). */
    if (m.round >= EF_ENGINE_ROUNDS_MAX) {
        e->stats.dropped[EF_DROP_ROUND]++;
        return;
    }
    int idx = ef_cvset_index(&e->vs, &m.signer);
    if (idx < 0) {
        e->stats.dropped[EF_DROP_NOT_VALIDATOR]++;
        return;
    }
    ef_round *rd = ef_round_get(e, m.round);
    EF_ASSERT(rd);
    if (m.type == EF_MSG_PROPOSAL) {
        if (ef_cvset_proposer(&e->vs, m.height, m.round) != (uint32_t)idx) {
            e->stats.dropped[EF_DROP_NOT_PROPOSER]++;
            return;
        }
        if (rd->has_prop && rd->prop_vr == m.valid_round && rd->prop_value >= 0 &&
            e->values[rd->prop_value].len == m.value_len &&
            !memcmp(e->values[rd->prop_value].bytes, m.value, m.value_len)) {
            e->stats.dropped[EF_DROP_DUPLICATE]++;
            return;
        }
        /* (a proposal is verified even from its signer's session: one per round) */
        if (auth != EF_AUTH_CHECKED && !ef_msg_verify_with(&m, e->cfg.verify, e->cfg.verify_ctx)) {
            e->stats.dropped[EF_DROP_BAD_SIG]++;
            if (auth == EF_AUTH_SESSION) e->sig_bad[idx] = true;
            return;
        }
        /* Of a second, conflicting proposal the value is kept once per round. */
        int vi = rd->has_prop && rd->prop_equivocated ? -1
                                                       : ef_value_add(e, m.value, m.value_len, false);
        if (rd->has_prop) {
            /* A second, different proposal: equivocation. Keep its value (a quorum
             * may form on it) and the evidence. */
            if (!rd->prop_equivocated && rd->prop_value >= 0) {
                rd->prop_equivocated = true;
                ef_msg first = {.type = EF_MSG_PROPOSAL, .height = m.height, .round = m.round,
                                .signer = m.signer, .valid_round = rd->prop_vr,
                                .value = e->values[rd->prop_value].bytes,
                                .value_len = e->values[rd->prop_value].len, .sig = rd->prop_sig};
                memcpy(first.chain, e->chain, sizeof first.chain);
                size_t a_len;
                uint8_t *a;
                if (ef_msg_encode(&first, &a, &a_len) == 0) ef_out_evidence(e, a, a_len, p, len);
            }
            e->stats.dropped[EF_DROP_EQUIVOCATION]++;
            ef_mark_seen(e, rd, idx);
            return;
        }
        if (vi < 0) {
            e->stats.dropped[EF_DROP_BAD_VALUE]++;
            return;
        }
        ef_insert_proposal(e, &m, idx, vi);
    } else {
        int k = m.type == EF_MSG_PREVOTE ? EF_K_PREVOTE : EF_K_PRECOMMIT;
        ef_slot *s = &rd->slot[k][idx];
        if (ef_slot_has(s, m.has_value, &m.value_id)) {
            e->stats.dropped[EF_DROP_DUPLICATE]++;
            return;
        }
        /* Once a quorum of prevotes for a valid value of this round has been acted
         * on (lock, valid value: lines 36-43), a further prevote of the round can
         * change nothing: lines 34 and 44 need step prevote, which is over; a proof
         * of lock for round r can only be for that value (two prevote quorums of one
         * round share an honest validator); and honest validators re-send their own
         * votes, so none is lost to others. Not verifying it saves n - quorum
         * signature checks per height (a fifth of them at n = 30). Only a second,
         * conflicting prevote of the same validator goes unnoticed as evidence. */
        if (k == EF_K_PREVOTE && rd->fired_l36) {
            e->stats.dropped[EF_DROP_LATE]++;
            return;
        }
        /* A vote from its signer's session counts at once; its signature is
         * verified when a third party is to rely on it (ef_vent_check). A second,
         * conflicting vote of one validator is evidence: verified now, as is the
         * first one it conflicts with. */
        bool checked = auth == EF_AUTH_CHECKED;
        bool deferred = auth == EF_AUTH_SESSION && !e->sig_bad[idx] && s->count == 0;
        if (!checked && !deferred) {
            if (!ef_msg_verify_with(&m, e->cfg.verify, e->cfg.verify_ctx)) {
                e->stats.dropped[EF_DROP_BAD_SIG]++;
                if (auth == EF_AUTH_SESSION) e->sig_bad[idx] = true;
                return;
            }
            checked = true;
        }
        if (deferred) e->stats.deferred++;
        if (s->count > 0 && !s->equivocated && ef_vent_check(e, k, m.round, (uint32_t)idx, 0)) {
            s->equivocated = true;
            size_t a_len;
            uint8_t *a = ef_vote_encode(e, k, m.round, idx, &s->v[0], &a_len);
            ef_out_evidence(e, a, a_len, p, len);
        }
        if (!ef_insert_vote(e, &m, idx, checked)) {
            e->stats.dropped[EF_DROP_EQUIVOCATION]++;
            return;
        }
    }
    e->stats.accepted++;
}

int ef_engine_on_message(ef_engine *e, const uint8_t *msg, size_t len)
{
    return ef_engine_on_message_from(e, msg, len, NULL);
}

int ef_engine_on_message_from(ef_engine *e, const uint8_t *msg, size_t len, const ef_pub *from)
{
    int rc;
    if ((rc = ef_input_check(e))) return rc;
    ef_receive(e, msg, len, from, EF_AUTH_NONE);
    return ef_rules(e);
}

int ef_engine_on_timeout(ef_engine *e, uint64_t height, uint32_t round, ef_step step)
{
    int rc;
    if ((rc = ef_input_check(e))) return rc;
    if (!e->started || height != e->height || e->decided || round != e->round) return 0;
    switch (step) {
    case EF_STEP_PROPOSE: /* lines 57-60 */
        if (e->step == EF_STEP_PROPOSE) rc = ef_vote(e, EF_K_PREVOTE, NULL);
        break;
    case EF_STEP_PREVOTE: /* lines 61-64 */
        if (e->step == EF_STEP_PREVOTE) rc = ef_vote(e, EF_K_PRECOMMIT, NULL);
        break;
    case EF_STEP_PRECOMMIT: /* lines 65-67 */
        if (round + 1 < EF_ENGINE_ROUNDS_MAX && !(rc = ef_wal_put_votes(e, round, false)))
            rc = ef_start_round(e, round + 1);
        break;
    case EF_STEP_RESEND: {
        /* Not in the paper, whose gossip layer delivers eventually: re-send own
         * latest messages so that lost ones are made good. */
        /* The previous round's too: validators still in it may lack our votes
         * and, without them, never reach their own timeouts. */
        for (uint32_t r = e->round > 0 ? e->round - 1 : 0; r <= e->round; r++) {
            ef_round *pr = e->rounds[r];
            for (int i = 0; pr && i < 3; i++) {
                if (pr->own[i]) {
                    ef_out_broadcast(e, pr->own[i], pr->own_len[i]);
                    e->stats.resent++;
                }
            }
        }
        /* And the precommits that made us leave the previous round: the paper
         * assumes a gossip layer that relays what a correct validator received;
         * without them, validators still in that round may wait forever (a
         * Byzantine validator can send its precommit to some of us only). */
        ef_round *prev = e->round > 0 ? e->rounds[e->round - 1] : NULL;
        for (uint32_t i = 0; prev && i < prev->n; i++) {
            const ef_slot *sl = &prev->slot[EF_K_PRECOMMIT][i];
            if ((int)i == e->self || sl->count == 0) continue;
            if (!ef_vent_check(e, EF_K_PRECOMMIT, e->round - 1, i, 0)) continue; /* relayed */
            size_t len;
            uint8_t *p = ef_vote_encode(e, EF_K_PRECOMMIT, e->round - 1, (int)i, &sl->v[0], &len);
            ef_out_broadcast(e, p, len);
            free(p);
        }
        /* And the votes of the current round we received (they may be what lets
         * validators in lower rounds skip here, lines 55-56). */
        ef_round *rd = e->rounds[e->round];
        for (int k = EF_K_PREVOTE; rd && e->round > 0 && k <= EF_K_PRECOMMIT; k++) {
            for (uint32_t i = 0; i < rd->n; i++) {
                const ef_slot *sl = &rd->slot[k][i];
                if ((int)i == e->self || sl->count == 0) continue;
                if (!ef_vent_check(e, k, e->round, i, 0)) continue; /* relayed */
                size_t len;
                uint8_t *p = ef_vote_encode(e, k, e->round, (int)i, &sl->v[0], &len);
                ef_out_broadcast(e, p, len);
                free(p);
            }
        }
        if (rd && rd->own[EF_OWN_PROPOSAL] && rd->has_prop && rd->prop_value >= 0 &&
            rd->prop_vr != EF_ROUND_NONE)
            ef_send_pol(e, rd->prop_vr, &e->values[rd->prop_value].id);
        ef_out_timeout(e, EF_STEP_RESEND);
        break;
    }
    default:
        return EF_EINVAL;
    }
    if (rc) return rc;
    return ef_rules(e);
}

int ef_engine_on_validity(ef_engine *e, const ef_hash *value_id, bool valid)
{
    int rc;
    if ((rc = ef_input_check(e))) return rc;
    int vi = ef_value_find(e, value_id);
    if (vi < 0 || e->values[vi].validity != 0) return 0;
    e->values[vi].validity = valid ? 1 : -1;
    return ef_rules(e);
}

int ef_engine_on_decided(ef_engine *e, uint64_t h, const uint8_t *value, size_t len,
                         const uint8_t *cert, size_t cert_len)
{
    int rc;
    ef_hash id;
    if ((rc = ef_input_check(e))) return rc;
    if (!e->started || h != e->height || e->decided) return EF_EHEIGHT;
    if (!value || len == 0 || len > EF_MSG_VALUE_MAX) return EF_EINVAL;
    if ((rc = e->cfg.value_id(e->cfg.cb_ctx, value, len, &id))) return rc;
    if ((rc = ef_cert_verify_with(cert, cert_len, e->chain, h, &id, &e->vs, e->cfg.verify,
                                  e->cfg.verify_ctx)))
        return rc;
    ef_cert c;
    rc = ef_cert_decode(&c, cert, cert_len);
    EF_ASSERT(rc == 0);
    ef_engine_out o = {.kind = EF_OUT_COMMIT, .height = h, .round = c.round, .value_id = id,
                       .data = ef_dup(value, len), .len = len,
                       .cert = ef_dup(cert, cert_len), .cert_len = cert_len};
    ef_out_push(e, &o);
    e->decided = true;
    e->stats.commits++;
    return 0;
}

/* ---------------- heights and the WAL ---------------- */

typedef struct {
    ef_engine *e;
    uint64_t h;
    bool later;       /* a record for height >= h exists */
    int rc;
} ef_wal_scan;

static int ef_wal_visit(void *arg, const uint8_t *rec, size_t len)
{
    ef_wal_scan *s = arg;
    ef_engine *e = s->e;
    ef_msg m;
    if (len > 13 && rec[0] == EF_WAL_REC_LOCK) {
        ef_rd r;
        uint8_t tag;
        uint64_t h;
        uint32_t round;
        uint16_t count = 0;
        const uint8_t *v;
        size_t vlen;
        ef_rd_init(&r, rec, len);
        ef_rd_u8(&r, &tag);
        ef_rd_u64(&r, &h);
        ef_rd_u32(&r, &round);
        ef_rd_bytes(&r, &v, &vlen, EF_MSG_VALUE_MAX);
        ef_rd_u16(&r, &count);
        if (r.err || h < s->h) return 0;
        s->later = true;
        if (h != s->h || vlen == 0) return 0;
        (void)ef_value_add(e, v, vlen, true); /* it was validated before we locked */
        for (uint16_t i = 0; i < count && !r.err; i++) {
            const uint8_t *vote;
            size_t vote_len;
            ef_msg vm;
            if (ef_rd_bytes(&r, &vote, &vote_len, EF_MSG_SIZE_MAX)) break;
            if (ef_msg_decode(&vm, vote, vote_len) || vm.type != EF_MSG_PREVOTE || vm.height != h ||
                vm.round >= EF_ENGINE_ROUNDS_MAX || strcmp(vm.chain, e->chain))
                continue;
            int idx = ef_cvset_index(&e->vs, &vm.signer);
            if (idx >= 0) (void)ef_insert_vote(e, &vm, idx, false); /* verified when relied on */
        }
        return 0;
    }
    if (len > 11 && rec[0] == EF_WAL_REC_VOTES) {
        ef_rd r;
        uint8_t tag;
        uint64_t h;
        uint16_t count = 0;
        ef_rd_init(&r, rec, len);
        ef_rd_u8(&r, &tag);
        ef_rd_u64(&r, &h);
        ef_rd_u16(&r, &count);
        if (r.err || h < s->h) return 0;
        s->later = true;
        if (h != s->h) return 0;
        for (uint16_t i = 0; i < count && !r.err; i++) {
            const uint8_t *vote;
            size_t vote_len;
            ef_msg vm;
            if (ef_rd_bytes(&r, &vote, &vote_len, EF_MSG_SIZE_MAX)) break;
            if (ef_msg_decode(&vm, vote, vote_len) || vm.type == EF_MSG_PROPOSAL || vm.height != h ||
                vm.round >= EF_ENGINE_ROUNDS_MAX || strcmp(vm.chain, e->chain))
                continue;
            int idx = ef_cvset_index(&e->vs, &vm.signer);
            if (idx >= 0 && idx != e->self) (void)ef_insert_vote(e, &vm, idx, false);
        }
        return 0;
    }
    if (ef_msg_decode(&m, rec, len)) return 0; /* intact but foreign: skip */
    if (m.height < s->h) return 0;
    s->later = true;
    if (m.height != s->h || strcmp(m.chain, e->chain) || !e->has_key ||
        memcmp(&m.signer, &e->key.pub, sizeof m.signer) || e->self < 0)
        return 0;
    if (m.round >= EF_ENGINE_ROUNDS_MAX) return 0;
    ef_round *rd = ef_round_get(e, m.round);
    int which = m.type == EF_MSG_PROPOSAL ? EF_OWN_PROPOSAL
                : m.type == EF_MSG_PREVOTE ? EF_OWN_PREVOTE : EF_OWN_PRECOMMIT;
    if (rd->own[which]) return 0; /* cannot happen: we never sign twice */
    rd->own[which] = ef_dup(rec, len);
    rd->own_len[which] = len;
    if (m.type == EF_MSG_PROPOSAL) {
        int vi = ef_value_add(e, m.value, m.value_len, true);
        if (vi >= 0 && ef_cvset_proposer(&e->vs, m.height, m.round) == (uint32_t)e->self)
            ef_insert_proposal(e, &m, e->self, vi);
    } else {
        ef_insert_vote(e, &m, e->self, true);
        /* Our precommit for a value is our lock (line 38). */
        if (m.type == EF_MSG_PRECOMMIT && m.has_value && (int32_t)m.round > e->locked_round) {
            e->locked_round = (int32_t)m.round;
            e->locked_id = m.value_id;
        }
    }
    return 0;
}

int ef_engine_start_height(ef_engine *e, uint64_t h, const ef_vset *vs)
{
    int rc;
    if ((rc = ef_input_check(e))) return rc;
    if (h == 0 || (e->started && h <= e->height)) return EF_EINVAL;
    if ((rc = ef_cvset_check(vs))) return rc;
    ef_height_clear(e);
    e->vs = *vs;
    e->height = h;
    e->self = e->has_key ? ef_cvset_index(vs, &e->key.pub) : -1;
    e->sig_bad = calloc(vs->len ? vs->len : 1, sizeof *e->sig_bad);
    if (!e->sig_bad) return EF_ENOMEM;
    e->started = true;
    uint32_t start = 0;
    if (e->cfg.wal.read_all) {
        ef_wal_scan s = {.e = e, .h = h};
        if ((rc = e->cfg.wal.read_all(e->cfg.wal.ctx, ef_wal_visit, &s))) {
            e->err = rc;
            return rc;
        }
        if (!s.later && e->cfg.wal.reset && (rc = e->cfg.wal.reset(e->cfg.wal.ctx))) {
            e->err = rc;
            return rc;
        }
        for (uint32_t r = 0; r < EF_ENGINE_ROUNDS_MAX; r++) {
            ef_round *rd = e->rounds[r];
            if (rd && (rd->own[0] || rd->own[1] || rd->own[2])) start = r;
        }
        /* The locked value is also our valid value: we can propose it again. */
        int vi = e->locked_round >= 0 ? ef_value_find(e, &e->locked_id) : -1;
        if (vi >= 0) {
            e->valid_round = e->locked_round;
            e->valid_value = vi;
        }
    }
    if ((rc = ef_start_round(e, start))) return rc;
    /* Messages that arrived for this height while the last one was finishing. */
    uint32_t n = e->nfuture;
    ef_buf *fut = malloc((n ? n : 1) * sizeof *fut);
    EF_ASSERT(fut);
    memcpy(fut, e->future, n * sizeof *fut);
    e->nfuture = 0;
    for (uint32_t i = 0; i < n; i++) {
        e->stats.received--; /* counted when buffered */
        /* (the session is the one it came over; the set may have changed) */
        ef_receive(e, fut[i].p, fut[i].len, NULL, fut[i].auth);
        free(fut[i].p);
    }
    free(fut);
    return ef_rules(e);
}

/* ---------------- lifecycle ---------------- */

int ef_engine_new(ef_engine **out, const ef_engine_cfg *cfg)
{
    *out = NULL;
    if (!cfg->chain_id || !cfg->value_id) return EF_EINVAL;
    size_t cl = strnlen(cfg->chain_id, EF_MSG_CHAIN_MAX + 1);
    if (cl == 0 || cl > EF_MSG_CHAIN_MAX) return EF_EINVAL;
    if (cfg->key && (!cfg->wal.append || !cfg->wal.read_all || !cfg->get_value)) return EF_EINVAL;
    ef_engine *e = calloc(1, sizeof *e);
    if (!e) return EF_ENOMEM;
    e->outq = calloc(EF_ENGINE_OUT_MAX, sizeof *e->outq);
    if (!e->outq) {
        free(e);
        return EF_ENOMEM;
    }
    e->cfg = *cfg;
    memcpy(e->chain, cfg->chain_id, cl);
    e->cfg.chain_id = e->chain;
    if (cfg->key) {
        e->key = *cfg->key;
        e->has_key = true;
    }
    e->cfg.key = NULL;
    if (!e->cfg.resend_ms) e->cfg.resend_ms = e->cfg.precommit_ms ? e->cfg.precommit_ms : 1000;
    e->self = -1;
    e->locked_round = -1;
    e->valid_round = -1;
    e->valid_value = -1;
    *out = e;
    return 0;
}

int ef_engine_set_key(ef_engine *e, const ef_keypair *key, ef_wal_ops wal)
{
    if (e->has_key || !key || !wal.append || !wal.read_all || !e->cfg.get_value) return EF_EINVAL;
    e->key = *key;
    e->cfg.wal = wal;
    e->has_key = true; /* e->self stays -1 until the next start_height */
    return 0;
}

void ef_engine_free(ef_engine *e)
{
    if (!e) return;
    ef_height_clear(e);
    free(e->values);
    for (uint32_t i = 0; i < e->nfuture; i++) free(e->future[i].p);
    ef_engine_out o;
    while (ef_engine_poll(e, &o)) ef_engine_out_free(&o);
    free(e->outq);
    memset(&e->key, 0, sizeof e->key);
    free(e);
}

uint64_t ef_engine_height(const ef_engine *e) { return e->height; }
uint32_t ef_engine_round(const ef_engine *e) { return e->round; }
ef_step ef_engine_step(const ef_engine *e) { return e->step; }
bool ef_engine_decided(const ef_engine *e) { return e->decided; }
const ef_engine_stats *ef_engine_get_stats(const ef_engine *e) { return &e->stats; }

void ef_engine_dump(const ef_engine *e, FILE *f)
{
    char hex[17];
    ef_hex(hex, e->locked_id.b, 8);
    fprintf(f, "  h=%llu r=%u step=%d decided=%d locked=%d/%s valid=%d/%d values=%u future=%u err=%d\n",
            (unsigned long long)e->height, e->round, e->step, e->decided, e->locked_round,
            e->locked_round >= 0 ? hex : "-", e->valid_round, e->valid_value, e->nvalues, e->nfuture,
            e->err);
    for (uint32_t i = 0; i < e->nvalues; i++) {
        ef_hex(hex, e->values[i].id.b, 8);
        fprintf(f, "    value %u %s validity=%d\n", i, hex, e->values[i].validity);
    }
    for (uint32_t r = 0; r < EF_ENGINE_ROUNDS_MAX; r++) {
        const ef_round *rd = e->rounds[r];
        if (!rd) continue;
        fprintf(f, "    round %u: prop=%d(vr=%d) seen=%llu pv any=%llu nil=%llu pc any=%llu nil=%llu own=%d%d%d\n",
                r, rd->has_prop ? rd->prop_value : -1, rd->prop_vr == EF_ROUND_NONE ? -1 : (int)rd->prop_vr,
                (unsigned long long)rd->seen_power, (unsigned long long)rd->any_power[0],
                (unsigned long long)rd->nil_power[0], (unsigned long long)rd->any_power[1],
                (unsigned long long)rd->nil_power[1], rd->own[0] != NULL, rd->own[1] != NULL,
                rd->own[2] != NULL);
        for (int k = 0; k < 2; k++)
            for (uint32_t t = 0; t < rd->ntally[k]; t++) {
                ef_hex(hex, rd->tally[k][t].id.b, 8);
                fprintf(f, "      %s %s: %llu\n", k ? "pc" : "pv", hex,
                        (unsigned long long)rd->tally[k][t].power);
            }
    }
}
