/* ef_committee_agent.h: the device agent of a domain ledger's committee
 * (contracts/ef_committee.h): when this node's key is a member of the current
 * committee it commits to its secret in the commit window, reveals it in the
 * reveal window and calls the election once it is due; nothing else.
 *
 * The secret of epoch E is ef_beacon_secret(node key, chain id, E)
 * (base/ef_beacon.h): derived, never stored, so a device restarted in the middle
 * of an epoch reveals what it committed to. The agent reads the contract's
 * state after every committed block (ef_store_query "committee" "current") and
 * acts for the next height; a step it sent that is not on the ledger
 * resend_heights blocks later is sent again (it was refused or dropped).
 * The election is called by every member (the first executes, the others fail
 * with EF_EWINDOW: the agent sends them anyway so a dead member never delays a
 * rotation).
 *
 * Config, the node config's "agents": {"committee": {...}} (docs/config.md):
 *   "resend_heights": 4     1..1000
 * Unknown fields are refused (EF_ECONFIG).
 *
 * Threading: one thread (the node's loop).
 */
#ifndef EF_COMMITTEE_AGENT_H
#define EF_COMMITTEE_AGENT_H

#include <jansson.h>
#include <stdint.h>

#include "base/ef_crypto.h"
#include "ledger/ef_store.h"

typedef struct ef_cagent_config {
    uint64_t resend_heights;
} ef_cagent_config;

/* Sends committee.method(args_json); returns 0 if queued, or an error. */
typedef int (*ef_cagent_submit_fn)(void *arg, const char *method, const char *args_json);

typedef struct ef_cagent ef_cagent;

/* Defaults, then the fields of sec (may be NULL). EF_ECONFIG with a reason in err. */
int ef_cagent_config_parse(ef_cagent_config *cfg, const json_t *sec, char *err, size_t err_len);
/* kp, store and chain_id are borrowed for the agent's life. EF_ENOMEM. */
int ef_cagent_open(ef_cagent **out, const ef_cagent_config *cfg, const ef_keypair *kp, const char *chain_id,
                   ef_store *store, ef_cagent_submit_fn submit, void *arg);
/* After block `height` committed: act for height + 1. */
void ef_cagent_on_block(ef_cagent *a, uint64_t height);
/* Counters, for logs and tests. */
typedef struct ef_cagent_stats {
    uint64_t commits, reveals, elects;   /* sent */
    uint64_t epoch;                      /* last epoch seen */
    bool member;                         /* of that epoch's committee */
} ef_cagent_stats;
void ef_cagent_stats_get(const ef_cagent *a, ef_cagent_stats *out);
void ef_cagent_close(ef_cagent *a);

#endif
