/* ef_relayer.h: the checkpoint relayer: carries a domain ledger's certified
 * headers to the anchor contract of the federation ledger (contracts/ef_anchor.h).
 *
 * It trusts nothing it reads and is trusted for nothing: the anchor verifies every
 * checkpoint against the committee it tracks. What leaves the domain is what the
 * domain node's GET /blocks/{h}/checkpoint serves: a header (hashes, height, time,
 * proposer key), its commit certificate (signer indices and signatures) and, at a
 * rotation, the next committee (keys and powers). No transaction, state or event.
 *
 * One step (ef_relayer_step):
 *   1. read the domain's record on the federation (GET /state/anchor/domain/NAME):
 *      the anchored height A and whether it is frozen. Not registered: with
 *      cfg.register_domain, register it (the key must be a federation validator;
 *      genesis hash from the domain's block 0, committee from block 1's
 *      checkpoint), else EF_ENOTFOUND. Frozen: EF_EFROZEN (nothing is sent).
 *   2. read the domain's tip T (GET /status; its chain id must be the anchored
 *      one, EF_ECHAIN) and scan the headers above A (GET /blocks?from=&to=, 100 at
 *      a time) for rotations (next_vset_hash != vset_hash): each rotation height
 *      is checkpointed at once, in order, with its new committee: the anchor
 *      accepts no header of a committee it has not been shown.
 *   3. checkpoint T if it is above the anchored height and the step is forced
 *      (on demand) or period_ms passed since the last periodic checkpoint; a
 *      periodic one first waits (polling every 20 ms, at most
 *      EF_RELAYER_FRESH_MS) for the domain's next block and anchors that one,
 *      unless it starts a rotation, so that the anchored header is fresh.
 * Idempotent: it always starts from the height the federation holds, so a
 * restarted relayer, or two relayers of one domain, resume where the anchor is
 * (a checkpoint another relayer got in first is refused as ERECORDED / ESTALE
 * and counted as already anchored). It keeps no file.
 *
 * Transport: ef_httpc (IPv4 literal URLs, http://A.B.C.D:PORT). With a read key,
 * every domain read is signed as a private domain ledger requires (the
 * X-Edgefed-Key/-Time/-Sig headers of api/ef_api.h: Ed25519 with tag
 * EF_TAG_HTTP over "METHOD\nTARGET\nTIME_MS"). Federation transactions are
 * signed by cfg.key with the account's next nonce, sent with ?wait=commit.
 *
 * Threading: a relayer is used by one thread; ef_relayer_request and
 * ef_relayer_stats_get may be called from any thread.
 */
#ifndef EF_RELAYER_H
#define EF_RELAYER_H

#include <stdbool.h>
#include <stdint.h>

#include "base/ef_crypto.h"
#include "base/ef_err.h"

#define EF_RELAYER_URL_MAX 128
#define EF_RELAYER_NAME_MAX 32        /* as EF_ANCHOR_NAME_MAX */
#define EF_RELAYER_SCAN_BATCH 100     /* headers per GET /blocks?from=&to= (EF_API_RANGE_MAX) */
#define EF_RELAYER_POLL_MS 300        /* default: how often the run loop reads the domain's tip */
#define EF_RELAYER_TIMEOUT_MS 15000   /* one read */
#define EF_RELAYER_COMMIT_MS 30000    /* one transaction until committed */
#define EF_RELAYER_FRESH_MS 1000      /* a periodic checkpoint waits this long at most for a new domain block */

typedef struct ef_relayer_config {
    char domain_url[EF_RELAYER_URL_MAX];      /* a node of the domain ledger */
    char federation_url[EF_RELAYER_URL_MAX];  /* a node of the federation ledger */
    char domain[EF_RELAYER_NAME_MAX + 1];     /* the domain's name on the anchor */
    ef_keypair key;                           /* a federation account: signs the transactions */
    bool has_read_key;
    ef_keypair read_key;                      /* a domain member: signs domain reads (private ledger) */
    uint32_t period_ms;                       /* periodic checkpoints of the tip; 0: none */
    uint32_t poll_ms;                         /* 0: EF_RELAYER_POLL_MS */
    bool register_domain;                     /* register the domain if it is not */
} ef_relayer_config;

typedef struct ef_relayer_stats {
    uint64_t checkpoints;        /* accepted by the anchor, sent by this relayer */
    uint64_t rotations;          /* of which carried a new committee */
    uint64_t already;            /* refused as already anchored (another relayer, or a retry) */
    uint64_t errors;             /* steps that failed */
    uint64_t anchored;           /* the height the anchor holds, last read */
    uint64_t domain_height;      /* the domain's tip, last read */
    uint64_t last_ms;            /* latency of the last checkpoint, sent to committed */
    bool frozen;
    bool registered;             /* this relayer registered the domain */
} ef_relayer_stats;

typedef struct ef_relayer ef_relayer;

/* Checks the config (URLs parse, names valid). 0, EF_EINVAL, EF_ENOMEM. */
EF_MUST_USE int ef_relayer_new(ef_relayer **out, const ef_relayer_config *cfg);
void ef_relayer_free(ef_relayer *r);

/* One step as above; force checkpoints the tip now. Returns 0, EF_ENOTFOUND
 * (not registered), EF_EFROZEN, EF_ECHAIN, EF_ENET / EF_ETIMEOUT / EF_EPROTO
 * (a node unreachable or answering nonsense), or the anchor's refusal code. */
int ef_relayer_step(ef_relayer *r, bool force);

/* Steps every poll_ms until *stop: errors are logged and retried at the next
 * poll, a frozen domain is polled until unfrozen. Returns 0 once stopped. */
int ef_relayer_run(ef_relayer *r, const volatile bool *stop);

/* Asks the run loop for a checkpoint of the tip at its next poll (on demand). */
void ef_relayer_request(ef_relayer *r);

void ef_relayer_stats_get(ef_relayer *r, ef_relayer_stats *out);

#endif
