/* ef_engine.h: the Tendermint BFT consensus engine, a pure state machine with no I/O, clock or randomness. */
#ifndef EF_ENGINE_H
#define EF_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/ef_crypto.h"
#include "ledger/ef_cert.h"
#include "consensus/ef_cvset.h"
#include "consensus/ef_msg.h"
#include "consensus/ef_wal.h"

/* The algorithm is Algorithm 1 of Buchman, Kwon, Milosevic, "The latest gossip on
 * BFT consensus" (2018): per height, rounds of propose / prevote / precommit with
 * a round-robin proposer (ef_cvset_proposer), locking (lockedValue/lockedRound),
 * valid value carried into later proposals (validValue/validRound, the proposal's
 * proof-of-lock round), round skipping on f+1 messages of a higher round, and
 * timeouts that grow by a fixed increment per round. A value is decided with a
 * quorum (> 2/3 of the power) of precommits for it; those signatures are its
 * commit certificate (ef_cert.h). Quorums are by voting power.
 *
 * How a driver (the node, or the simulator) uses it:
 *   1. ef_engine_new(cfg), then ef_engine_start_height(h, vset) for the first
 *      height not yet committed (after a restart too: the WAL is read then).
 *   2. Feed inputs: ef_engine_on_message (every consensus message received),
 *      ef_engine_on_timeout (when a scheduled timeout expires), ef_engine_on_validity
 *      (the answer to a VALIDATE output), ef_engine_on_decided (a block with its
 *      certificate obtained by catch-up).
 *   3. After EVERY input, drain the outputs with ef_engine_poll until it returns 0,
 *      acting on each in order: BROADCAST (send to all validators; the engine has
 *      already processed its own message and made it durable in the WAL), TIMEOUT
 *      (call on_timeout(height, round, step) after duration_ms; earlier timeouts
 *      are not cancelled, stale ones are ignored), VALIDATE (check the value and
 *      answer with on_validity; may be answered at once, from inside the loop),
 *      COMMIT (store the value and certificate, then call start_height(h+1, vset)),
 *      EVIDENCE (keep for the ledger).
 *   The engine waits in the decided state between COMMIT and the next
 *   start_height; messages for the next EF_ENGINE_FUTURE_HEIGHTS heights are
 *   buffered meanwhile, once their signer is found in the current set and their
 *   signature verifies, a fair share per validator (EF_ENGINE_FUTURE_MAX in all,
 *   EF_ENGINE_FUTURE_PER_SENDER_MIN; those of a later buffered height
 *   stay buffered when a height starts), later heights are dropped (counted) and
 *   reported through ef_engine_stats.height_seen so the driver knows to catch up.
 *
 * Threading: an engine is not thread-safe; one thread drives it. Callbacks are
 * called from inside the input functions. Different engines are independent. */

#define EF_ENGINE_OUT_MAX 1024u       /* pending outputs; inputs fail with EF_EFULL past half */
#define EF_ENGINE_FUTURE_MAX 256u     /* buffered messages for the next heights */
/* each validator may fill at most max(EF_ENGINE_FUTURE_MAX / n, this) of them */
#define EF_ENGINE_FUTURE_PER_SENDER_MIN 8u
/* Heights ahead whose messages are buffered: two, so that a validator that falls
 * a height behind (descheduled on a loaded machine: at n = 30 on two cores this
 * is common) still has the messages of the height after the one it is finishing,
 * instead of dropping them and waiting for a catch-up or a re-send. */
#define EF_ENGINE_FUTURE_HEIGHTS 2u
#define EF_ENGINE_ROUNDS_MAX 256u     /* rounds tracked per height (memory per round: about
                                         2 * n * EF_ENGINE_VOTES_PER_SLOT * 140 bytes) */
#define EF_ENGINE_VALUES_MAX 512u     /* distinct proposed values kept per height */
#define EF_ENGINE_VALUE_BYTES_MAX (256u << 20) /* their total size */
#define EF_ENGINE_VOTES_PER_SLOT 8u   /* conflicting votes counted per validator, round and kind */

typedef enum ef_step {
    EF_STEP_PROPOSE = 1,
    EF_STEP_PREVOTE = 2,
    EF_STEP_PRECOMMIT = 3,
    EF_STEP_RESEND = 4,   /* timeout kind only: re-broadcast own latest messages (liveness under loss) */
} ef_step;

typedef enum ef_out_kind {
    EF_OUT_BROADCAST = 1, /* data = a signed message (already in the WAL) */
    EF_OUT_TIMEOUT = 2,   /* height, round, step, duration_ms */
    EF_OUT_VALIDATE = 3,  /* value_id, data = the value: answer with on_validity */
    EF_OUT_COMMIT = 4,    /* height, round, value_id, data = value, cert = certificate */
    EF_OUT_EVIDENCE = 5,  /* height, data = evidence (ef_evidence_encode) */
} ef_out_kind;

/* One output. The caller owns data and cert after ef_engine_poll and frees them
 * with ef_engine_out_free. */
typedef struct ef_engine_out {
    ef_out_kind kind;
    uint64_t height;
    uint32_t round;
    ef_step step;
    uint32_t duration_ms;
    ef_hash value_id;
    uint8_t *data;
    size_t len;
    uint8_t *cert;
    size_t cert_len;
} ef_engine_out;

/* Built by the node: the block to propose at (height, round). Returns 0 with
 * *out malloc'ed (1..EF_MSG_VALUE_MAX bytes, the engine takes ownership), or an
 * error (the engine then proposes nothing this round; others time out). */
typedef int (*ef_get_value_fn)(void *ctx, uint64_t height, uint32_t round, uint8_t **out,
                               size_t *out_len);
/* The id of a value: the block header hash for the node; any collision-resistant
 * hash for the simulator. Must be deterministic. 0 or an error (the value is
 * then treated as invalid; EF_OUT_VALIDATE is not emitted for it). */
typedef int (*ef_value_id_fn)(void *ctx, const uint8_t *value, size_t len, ef_hash *id);

typedef struct ef_engine_cfg {
    const char *chain_id;          /* 1..EF_MSG_CHAIN_MAX bytes; copied */
    const ef_keypair *key;         /* NULL: observer (never signs or votes); copied */
    ef_wal_ops wal;                /* required for a validator; may be all NULL for an observer */
    ef_get_value_fn get_value;
    ef_value_id_fn value_id;
    void *cb_ctx;                  /* passed to get_value and value_id */
    ef_verify_fn verify;           /* NULL = ef_verify */
    void *verify_ctx;
    /* Timeout of round r = base + r * delta, in milliseconds. */
    uint32_t propose_ms, propose_delta_ms;
    uint32_t prevote_ms, prevote_delta_ms;
    uint32_t precommit_ms, precommit_delta_ms;
    uint32_t resend_ms;            /* period of EF_STEP_RESEND (0 = precommit_ms) */
    /* Planted bug for the simulator's self-test: prevote for any valid proposal,
     * ignoring the lock. Never set outside `edgefed sim --planted-bug ignore-lock`. */
    bool bug_ignore_lock;
} ef_engine_cfg;

/* The default timeouts, in milliseconds, as X(field, ms) over the fields of
 * that name in ef_engine_cfg: propose 300+300r, prevote 200+200r, precommit
 * 200+200r, resend 1000. The one list of them: a node runs these unless its
 * config says otherwise (ef_node_config_defaults), and the simulator runs them. */
#define EF_ENGINE_TIMEOUTS_DEFAULT(X)                      \
    X(propose_ms, 300) X(propose_delta_ms, 300)            \
    X(prevote_ms, 200) X(prevote_delta_ms, 200)            \
    X(precommit_ms, 200) X(precommit_delta_ms, 200)        \
    X(resend_ms, 1000)

/* Fills cfg with EF_ENGINE_TIMEOUTS_DEFAULT; the caller sets the rest. */
void ef_engine_cfg_defaults(ef_engine_cfg *cfg);

/* Why messages were dropped (ef_engine_stats.dropped[reason]). */
typedef enum ef_drop {
    EF_DROP_DECODE = 0,     /* malformed */
    EF_DROP_CHAIN,          /* another chain id */
    EF_DROP_HEIGHT,         /* an old height, or more than one ahead */
    EF_DROP_ROUND,          /* round >= EF_ENGINE_ROUNDS_MAX */
    EF_DROP_NOT_VALIDATOR,  /* signer not in the validator set */
    EF_DROP_BAD_SIG,        /* signature does not verify */
    EF_DROP_NOT_PROPOSER,   /* proposal from someone not the round's proposer */
    EF_DROP_DUPLICATE,      /* already have it */
    EF_DROP_EQUIVOCATION,   /* a conflicting second message (kept as evidence) */
    EF_DROP_BAD_VALUE,      /* value id could not be computed, or too many values */
    EF_DROP_FULL,           /* a bounded buffer was full */
    EF_DROP_LATE,           /* a prevote of a round whose prevote quorum for a valid value was
                               already acted on (lines 36-43): it can change nothing, so its
                               signature is not checked */
    EF_DROP_COUNT_
} ef_drop;

typedef struct ef_engine_stats {
    uint64_t received;           /* on_message calls */
    uint64_t accepted;           /* messages that entered the state */
    uint64_t dropped[EF_DROP_COUNT_];
    uint64_t signed_msgs;        /* messages this engine signed */
    uint64_t resent;             /* messages re-broadcast on EF_STEP_RESEND */
    uint64_t commits;
    uint64_t evidence;
    uint64_t deferred;           /* votes counted on their signer's session, not verified on arrival */
    uint64_t late_verified;      /* of those, verified when relied on (certificate, evidence, relay) */
    uint64_t late_bad;           /* of those, found with a bad signature then (and dropped) */
    uint64_t height_seen;        /* highest height in a message of this chain signed, by its
                                    key field, by a current validator; not signature-checked:
                                    a catch-up hint only */
} ef_engine_stats;

const char *ef_drop_name(ef_drop d);

typedef struct ef_engine ef_engine;

/* Creates an engine. Returns 0, EF_EINVAL (bad cfg), or EF_ENOMEM. */
EF_MUST_USE int ef_engine_new(ef_engine **out, const ef_engine_cfg *cfg);
/* Frees e and its pending outputs. NULL is allowed. */
void ef_engine_free(ef_engine *e);

/* Gives an engine created as an observer (cfg.key NULL) a key and its vote WAL,
 * for a node admitted to the validator set while running: from the next
 * ef_engine_start_height on, the engine signs at every height whose set holds
 * key (the height running now stays unsigned). wal must have append and read_all,
 * and the engine a get_value callback. Returns 0, or EF_EINVAL (already has a key,
 * incomplete wal, no get_value). key is copied. */
EF_MUST_USE int ef_engine_set_key(ef_engine *e, const ef_keypair *key, ef_wal_ops wal);

/* Starts height h (>= 1) with its validator set (copied). h must be greater than
 * the current height. Reads the WAL, restores own messages and the lock for h,
 * replays buffered messages for h, and starts round 0. Returns 0, EF_EINVAL,
 * EF_ECONFIG (bad vset), EF_EIO (WAL), or EF_EFULL (outputs not drained). */
EF_MUST_USE int ef_engine_start_height(ef_engine *e, uint64_t h, const ef_vset *vs);

/* A received message (borrowed). Returns 0 also when the message is dropped (see
 * the stats); EF_EFULL if outputs were not drained; EF_EIO if the WAL failed
 * (sticky: the engine then stops signing). */
int ef_engine_on_message(ef_engine *e, const uint8_t *msg, size_t len);

/* The same, for a message that came over the authenticated, encrypted session of
 * peer `from` (NULL: unknown, as on_message). A vote whose signer is `from` is
 * that validator's own word whatever its signature says (PBFT's normal case runs
 * on the session's MACs for this reason): it is counted at once, and its
 * signature is verified only when a third party is to rely on it: before it
 * enters a commit certificate (a certificate holds verified signatures only, as
 * many as a quorum needs), before it is relayed (re-sends, proof of lock), and
 * when it conflicts with another vote of its signer (evidence). A vote found
 * with a bad signature then is dropped (quorums are counted again without it)
 * and its signer's votes are verified on arrival for the rest of the height.
 * Proposals and relayed votes are verified on arrival. Safety is unchanged: a
 * vote counted on the session's word is one its sender could have signed. */
int ef_engine_on_message_from(ef_engine *e, const uint8_t *msg, size_t len, const ef_pub *from);
/* A timeout scheduled by an EF_OUT_TIMEOUT output fired. Stale ones are ignored. */
int ef_engine_on_timeout(ef_engine *e, uint64_t height, uint32_t round, ef_step step);
/* The answer to EF_OUT_VALIDATE for value_id at the current height. Unknown ids
 * are ignored. */
int ef_engine_on_validity(ef_engine *e, const ef_hash *value_id, bool valid);
/* A value and certificate for the current height obtained by catch-up. Verified
 * with ef_cert_verify against the height's set and value_id(value); on success
 * the engine emits EF_OUT_COMMIT as if it had decided. Returns 0, EF_EHEIGHT (not
 * the current height, or already decided), or a certificate error. */
EF_MUST_USE int ef_engine_on_decided(ef_engine *e, uint64_t h, const uint8_t *value, size_t len,
                                     const uint8_t *cert, size_t cert_len);

/* Takes the next output into *out: returns 1, or 0 when there is none. */
int ef_engine_poll(ef_engine *e, ef_engine_out *out);
void ef_engine_out_free(ef_engine_out *out);

/* Current position, for status pages and tests. */
uint64_t ef_engine_height(const ef_engine *e);
uint32_t ef_engine_round(const ef_engine *e);
ef_step ef_engine_step(const ef_engine *e);
bool ef_engine_decided(const ef_engine *e);
const ef_engine_stats *ef_engine_get_stats(const ef_engine *e);
/* Writes a human-readable dump of the current height's state (rounds, tallies,
 * lock) to f, for debugging and the simulator's failure reports. */
void ef_engine_dump(const ef_engine *e, FILE *f);

#endif
