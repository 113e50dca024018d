/* ef_mef.h: the MEC federator (MEF) agent: consumer and provider roles on the federation contract.
 *
 * The agent turns committed federation events into actions (seed 001, Fig. 4):
 *
 *   consumer  ef_mef_announce: MEO prepare (tunnel endpoint) -> tx announce
 *             "awarded" to it        -> waits for the deployment
 *             "deployed" to it       -> MEO connect + check (app-to-app traffic)
 *                                       -> tx confirm_connectivity (pays)
 *             block past the deadline while still open -> tx close
 *             block past the deploy deadline, not deployed -> tx cancel
 *   provider  "announced" by another -> quote (pricing policy) -> tx bid if <= max
 *             "awarded" to it        -> MEO deploy + connect -> tx confirm_deployment
 *             "terminated"/"cancelled" of its service -> MEO teardown
 *
 * It never polls: the host (a node, through its commit listener) calls
 * ef_mef_on_event for every event of a committed block, in block order, then
 * ef_mef_on_block once for the block. Deadlines (close after the bid window,
 * cancel after the deploy window) are acted on at the first committed block at
 * or past them, or by a one-shot timer at the deadline when no block comes (a
 * ledger that makes blocks only for transactions); a close or cancel that
 * arrives early (block time before the deadline) is sent again 2 s later. Transactions go out through the host's
 * submit hook (the node's thread-safe submission path), signed by the node's key:
 * the agent acts as the node's operator account.
 *
 * The agent must see the chain from its start (a fresh node): it counts the
 * operators and ended services it has seen for its schedule.
 *
 * Blocking work (the MEO driver: starting the app, building the tunnel, checking
 * traffic) runs on the agent's own worker threads (EF_MEF_WORKERS), never on the
 * caller's thread, so a node loop calling on_event/on_block is never stalled;
 * on_event/on_block only update the agent's table and queue jobs or submit.
 *
 * Every federation this agent takes part in ends in one result (a JSON object,
 * see ef_mef_result below) given to the host's on_result hook and, if configured,
 * appended as one line to the results file.
 *
 * Threading: on_event/on_block/announce may be called from any one thread at a
 * time each (typically the node loop); hooks are called from that thread or from
 * worker threads, never under the agent's lock.
 */
#ifndef EF_MEF_H
#define EF_MEF_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "agents/ef_meo.h"
#include "agents/ef_pricing.h"
#include "base/ef_crypto.h"

#define EF_MEF_WORKERS 16         /* worker threads for MEO calls (deployments run in parallel) */
#define EF_MEF_JOBS_MAX 256       /* queued MEO jobs */
#define EF_MEF_FEDS_MAX 256       /* federations one agent follows at once */
#define EF_MEF_PATH_MAX 512

/* Agent configuration: the `agents.mef` object of a node configuration.
 *
 *   {"name": STR,                  this MEC system's operator name (register)
 *    "location": STR,              location code, e.g. "ES" (register, pricing)
 *    "roles": ["consumer", "provider"],   one or both
 *    "register": true,             submit federation.register when started
 *    "results": PATH,              append one JSON line per finished federation
 *    "trace": PATH,                append one JSON line per step as it happens:
 *                                  {"wall_ms","mec","step","id",...} (for demos)
 *    "pricing": {"base_per_hour": N, "utc_offset_min": N, "tod": "24 factors"},
 *                                  each optional, over ef_pricing_default(location)
 *    "consumer": {"service": STR, "offers": N, "bid_window_ms": N,
 *                 "deploy_window_ms": N, "max_price": N, "deposit": N,
 *                 "check_timeout_ms": N,
 *                 "start_after_operators": N,  announce by itself once N operators
 *                                  are registered (0 = only on ef_mef_announce)
 *                 "runs": R, "run_size": K,  then R runs: run r+1 starts once r*K
 *                                  services have ended (terminated, expired or
 *                                  cancelled) on the ledger. Every consumer sees the
 *                                  same events in the same blocks, so all consumers
 *                                  with this schedule announce at once, off the
 *                                  same commit, with no coordinator.
 *                 "hold": BOOL},   keep the service after payment (default true);
 *                                  false: terminate it at once (benchmarks)
 *    "provenance": true,           record every orchestration step on the prov
 *                                  contract (seed 004): at start this MEC system
 *                                  joins as device mec-NAME; the consumer records
 *                                  the award (execute, ref federation/svc/ID/block/H/
 *                                  winner/PUB, on behalf of the winner) and the tunnel
 *                                  (connect TAG-tunnel to container svc-TAG, ref
 *                                  vxlan:VNI/...); the provider records the deployment
 *                                  (deploy TAG-deploy of svc-TAG on mec-NAME, on behalf
 *                                  of the consumer); teardowns and disconnects on
 *                                  the way out
 *    "meo": {"driver": "process"|"netns", "netns": STR, "underlay_ip": STR,
 *            "underlay_dev": STR, "app_path": PATH, "port_min": N, "port_max": N,
 *            "overlay_pool": CIDR, "vni_base": N, "vxlan_port": N}}
 * Defaults: roles both, register true, provenance true, offers 1, bid_window_ms 10000,
 * deploy_window_ms 60000, max_price 1000, deposit = max_price, service "app",
 * check_timeout_ms 15000, runs 1, run_size 1, driver "process".
 */
typedef struct ef_mef_config {
    char name[65];
    char location[EF_PRICING_LOC_MAX];
    bool consumer, provider, do_register;
    bool provenance;              /* submit prov orchestration records (default true) */
    bool hold;                    /* consumer: keep the service after payment (else terminate) */
    char results_path[EF_MEF_PATH_MAX];
    char trace_path[EF_MEF_PATH_MAX];
    ef_pricing pricing;
    char service[65];
    uint64_t offers, bid_window_ms, deploy_window_ms, max_price, deposit;
    uint32_t check_timeout_ms;
    uint64_t start_after_operators, runs, run_size;
    char driver[16];
    char netns[EF_MEO_NAME_MAX], underlay_ip[EF_MEO_IP_STR_MAX], underlay_dev[EF_MEO_NAME_MAX];
    char app_path[EF_MEO_PATH_MAX], overlay_pool[24];
    ef_meo_config meo;            /* filled by ef_mef_config_parse, pointing into the above */
} ef_mef_config;

/* Parses the `agents.mef` object (borrowed) into *cfg with defaults, and checks it.
 * Returns 0, or EF_ECONFIG with a one-line reason in err (cap bytes). */
int ef_mef_config_parse(ef_mef_config *cfg, const json_t *obj, char *err, size_t cap) EF_MUST_USE;
/* Points cfg->meo's strings at cfg's own buffers (call again after copying a config). */
void ef_mef_config_fix(ef_mef_config *cfg);

/* Host hooks.
 * submit: sends a transaction to `contract`.`method` with args (borrowed JSON
 *   object) signed by the node's key. Thread-safe, non-blocking; 0 when queued.
 * on_result: a federation ended (result borrowed for the call). May be NULL. */
typedef struct ef_mef_hooks {
    int (*submit)(void *arg, const char *contract, const char *method, const json_t *args);
    void (*on_result)(void *arg, const json_t *result);
    void *arg;
} ef_mef_hooks;

typedef struct ef_mef ef_mef;

/* Starts an agent for the operator account `self` (the node's key): opens the
 * MEO driver, starts the workers, and (if cfg->do_register) submits register.
 * *out owns the agent. Errors: EF_ECONFIG, EF_EPERM (netns without root), EF_ENOMEM. */
int ef_mef_open(ef_mef **out, const ef_mef_config *cfg, const ef_pub *self,
                const ef_mef_hooks *hooks) EF_MUST_USE;
/* Stops the workers (finishing the job in hand), tears down every deployment and
 * tunnel, frees mef. NULL ok. */
void ef_mef_close(ef_mef *mef);

/* One event of a committed block (contract and name as emitted, data borrowed).
 * Events of other contracts are ignored. */
void ef_mef_on_event(ef_mef *mef, uint64_t height, uint64_t block_time_ms, const char *contract,
                     const char *name, const json_t *data);
/* The block at `height` is committed and all its events were given. Drives the
 * deadlines (close, cancel) and the announcement schedule. */
void ef_mef_on_block(ef_mef *mef, uint64_t height, uint64_t block_time_ms);

/* Consumer: starts one federation now (prepare the tunnel, then announce) with the
 * configured requirements. Returns 0 when queued; EF_EPERM if not a consumer;
 * EF_EFULL if EF_MEF_FEDS_MAX federations are in progress. */
int ef_mef_announce(ef_mef *mef) EF_MUST_USE;

/* Counts: federations in progress, finished as connected, finished otherwise. */
void ef_mef_counts(ef_mef *mef, unsigned *active, unsigned *connected, unsigned *failed);

/* Result object (one per federation and side):
 *   {"mec": NAME, "role": "consumer"|"provider", "id": N (ledger id, 0 if never
 *    announced), "outcome": "connected"|"expired"|"cancelled"|"terminated"|"failed",
 *    "error": STR (when failed), "price": N, "paid": N, "winner": PUB, "bids": N,
 *    "driver": STR, "start_ms": wall ms of the start,
 *    "t_us": {"announced": .., "offers": .., "awarded": .., "deployed": ..,
 *             "traffic": .., "confirmed": ..}   microseconds since the start,
 *                                                 present when reached
 *    "steps_us": {"announce_to_offers": .., "award": .., "deployment": ..,
 *                 "connection": .., "federation": ..}}   (consumer only)
 * Consumer start = just before MEO prepare and the announce; offers = the commit of
 * the block holding the offer that completed k (or the close); awarded = the award
 * event's commit (the same block when k offers arrived: the contract awards in
 * that transaction, so "award" is 0 then); deployed = commit of the deployment
 * confirmation; traffic = the MEO check saw app-to-app traffic; federation =
 * start to traffic, as the paper measures. Provider start = the award. */

#endif
