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
 *   report_evidence  {"a": HEX, "b": HEX}   two encoded votes (ledger/ef_evidence.h)
 * Voting: only a validator (role validator, in the set of the current height) may
 * propose or vote: others get EF_ENOTVAL, regulators EF_EPERM. Proposing counts
 * as the proposer's vote; a second vote by the same validator is EF_EDUP; voting
 * on a decided proposal EF_ESTATE. The tally counts the power of the voters still
 * in the current set with role validator against the total power of those.
 * A passed change updates the account's role at once (a removed validator becomes a
 * member of its domain) and the validator set at h + EF_VSET_DELAY
 * (ef_ctx_vset_schedule; read it with ef_store_vset).
 * register_member: EF_ENOTVAL if the sender is not a validator, EF_EPERM if it is
 * of another domain, EF_EEXIST if the account exists.
 * report_evidence: equivocation evidence, sent by any validator or regulator of the
 * current set (others EF_ENOTVAL; a validator node sends what its engine sees, see
 * ef_contract.evidence_method). The two votes must be of one signer, chain,
 * type, height and round, for different values, both correctly signed, and the
 * signer in the validator set of that height (ef_vote_evidence_check: EF_EINVAL,
 * EF_ECHAIN, EF_ENOTVAL, EF_EBADSIG, decoding errors; EF_EARGS for bad hex);
 * the height at most the block's (EF_EHEIGHT) and at most EF_EVIDENCE_AGE_MAX
 * below it (EF_ELATE). Evidence is recorded once per (offender, height, round): a
 * second report of that triple, with any pair of votes, is EF_ERECORDED and
 * changes nothing. Recording it jails the offender: it leaves the validator set
 * at h + EF_VSET_DELAY (as a passed removal, built on the latest scheduled set)
 * and its role becomes member at once (its account gets "jailed_at": h); the
 * validators may admit it again by vote. Nothing is jailed if the offender is no
 * longer in the scheduled set or is its only member ("jailed": false).
 * Accounts (ef_contract.account): every registered account, whatever its role,
 * may send transactions.
 * Events: member_registered, validator_proposed, validator_vote, validator_change,
 * equivocation {"offender","height","round","type","reporter","jailed","effective_at"?}.
 * Query: /registry/account/{PUB}, /registry/validators, /registry/validators/{HEIGHT},
 *        /registry/proposals, /registry/proposal/{ID},
 *        /registry/evidence (every record, by offender, height, round),
 *        /registry/evidence/{PUB} (the records against one validator)
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
