/* ef_e2eorch.h: the service orchestrator of end-to-end slices (seed 000, III.B):
 * splits an end-to-end request of the federation's e2e contract into one
 * nslice request per domain, claims every step the domains record with its
 * proof, and requests a re-adjustment when a part's delivered rate stays below
 * the slice's for a configured time. Each domain's own slice control
 * (agents/ef_nsctl.h) does the reserving and enforcing; this module never
 * touches a network.
 *
 *   federation e2e_requested {id, kbps, a, b}   -> per part, on its domain:
 *        nslice.request {id: ID-a | ID-b, template: the domain's, ref: ID, ap,
 *        dst, kbps}
 *   domain nslice_activated / _readjusted / _modified / _decommissioned /
 *        _failed with ref = an orchestrated ID      -> the tx's proof (hook) ->
 *        e2e.claim {id, part, proof}
 *   federation e2e_readjust_requested {id, part} -> nslice.readjust {id: the
 *        part's instance, kbps: its rate + headroom_pct %}
 *   federation e2e_decommission_requested {id}  -> nslice.decommission of both parts
 *   ef_e2eorch_rate (a monitor's measure): below the slice's kbps for
 *        degrade_ms -> e2e.readjust {id, part, reason: "degraded"} (once until
 *        the re-adjustment is proven)
 *
 * Hooks return 0 once the transaction committed, else an error (code name in
 * err). Events are fed in order per ledger, one thread at a time.
 */
#ifndef EF_E2EORCH_H
#define EF_E2EORCH_H

#include <jansson.h>
#include <stdint.h>

#include "base/ef_err.h"

#define EF_E2EORCH_DOMAINS_MAX 8
#define EF_E2EORCH_SLICES_MAX 256

typedef struct ef_e2eorch_hooks {
    int (*fed_submit)(void *arg, const char *method, const json_t *args, char err[24]);
    int (*dom_submit)(void *arg, const char *domain, const char *method, const json_t *args, char err[24]);
    /* the proof of domain's tx (64 hex digits) as hex, malloc'd in *hex */
    int (*proof)(void *arg, const char *domain, const char *tx_hash, char **hex);
    /* Optional: the ledger's JSON at path (GET /state/..., and on a domain
     * GET /blocks/HEIGHT) on domain, or on the federation for domain NULL; a
     * new reference, NULL if none. With it the
     * orchestrator is idempotent over a replay of the ledgers' events (after a
     * restart): a part is requested only if its domain has no instance of it,
     * a step is claimed only if the federation does not hold its tx already,
     * a re-adjustment is sent only if the instance still runs the version the
     * request saw with no change under way, a decommission only to a part
     * still running. */
    json_t *(*query)(void *arg, const char *domain, const char *path);
    void *arg;
} ef_e2eorch_hooks;

typedef struct ef_e2eorch_cfg {
    struct { const char *name, *template_id; } domains[EF_E2EORCH_DOMAINS_MAX];
    size_t ndomains;
    unsigned headroom_pct;   /* re-adjustment: the part's rate + this % (0: 25) */
    uint64_t degrade_ms;     /* below target this long: re-adjust (0: 1000) */
} ef_e2eorch_cfg;

typedef struct ef_e2eorch_stats {
    uint64_t requested, claimed, claim_refused, readjust_requested, adopted;
    uint64_t caught_up;   /* domain steps taken from an instance's history at adopt (missed events) */
} ef_e2eorch_stats;

typedef struct ef_e2eorch ef_e2eorch;

EF_MUST_USE int ef_e2eorch_open(ef_e2eorch **out, const ef_e2eorch_cfg *cfg, const ef_e2eorch_hooks *hooks);
void ef_e2eorch_close(ef_e2eorch *o);
void ef_e2eorch_on_fed_event(ef_e2eorch *o, const char *name, const json_t *data);
void ef_e2eorch_on_domain_event(ef_e2eorch *o, const char *domain, const char *name, const json_t *data,
                                const char *tx_hash);
/* part 0 (a) or 1 (b) of slice id delivered kbps at now_ms. */
void ef_e2eorch_rate(ef_e2eorch *o, const char *id, int part, uint64_t kbps, uint64_t now_ms);
void ef_e2eorch_stats_get(ef_e2eorch *o, ef_e2eorch_stats *out);
/* After a restart: takes up an end-to-end slice from the federation's record
 * (GET /state/e2e/slice/ID, borrowed) if it is requested, active or
 * decommissioning and both its domains are configured. With the query hook it
 * then does what it would have done on the events it missed, from the ledgers'
 * state alone: requests a part its domain lacks; learns each part's rate from
 * its instance record (GET /state/nslice/instance/ID-a) and claims, in order,
 * each step of the instance's history the federation does not hold (the
 * step's transaction found in its block, GET /blocks/HEIGHT on the domain);
 * decommissions the parts of a slice being decommissioned; sends a
 * re-adjustment the federation's record holds as requested (part.readjust)
 * unless the instance has moved past the version it saw. The host reads each
 * ledger's height before, and follows its events from the next block: an
 * event already reflected in the state changes nothing (the checks above). */
void ef_e2eorch_adopt(ef_e2eorch *o, const json_t *rec);
/* {"slices": [{id, kbps, a: {domain, instance, kbps, readjusting}, b}]} */
json_t *ef_e2eorch_json(ef_e2eorch *o);

#endif
