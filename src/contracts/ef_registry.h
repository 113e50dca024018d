/* ef_registry.h: the registry contract: accounts, roles and the validator set.
 *
 * Roles: validator (signs blocks, admits members of its domain, votes on the
 * validator set), regulator (watcher validator: signs blocks, manages nothing),
 * member (observer: sends transactions). Each account has one domain name.
 * A validator-set change (admit or remove) passes once strictly more than 2/3 of
 * the current validators voted for it, and takes effect at height h + EF_VSET_DELAY
 * where h is the height of the deciding vote.
 *
 * Methods (JSON args):
 *   register_member  {"account": PUB, "domain": STR, "name": STR}   (validator of that domain)
 *   propose_validator {"account": PUB, "domain": STR, "role": "validator"|"regulator", "action": "add"|"remove"}
 *   vote_validator   {"proposal": N}
 * Query: /registry/account/{PUB}, /registry/validators, /registry/validators/{HEIGHT},
 *        /registry/proposals
 */
#ifndef EF_REGISTRY_H
#define EF_REGISTRY_H

#include "ledger/ef_ctx.h"

/* EF_VSET_DELAY: ledger/ef_vset.h */
#define EF_DOMAIN_MAX 32

typedef enum ef_role {
    EF_ROLE_NONE = 0,
    EF_ROLE_MEMBER = 1,
    EF_ROLE_VALIDATOR = 2,
    EF_ROLE_REGULATOR = 3,
} ef_role;

extern const ef_contract ef_registry_contract;

/* The account's role (EF_ROLE_NONE if unknown) and domain (may be NULL). */
int ef_registry_role(ef_ctx *ctx, const ef_pub *pub, ef_role *role, char domain[EF_DOMAIN_MAX + 1]);
bool ef_registry_is_validator(ef_ctx *ctx, const ef_pub *pub); /* validator or regulator */

#endif
