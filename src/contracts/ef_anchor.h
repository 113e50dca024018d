/* ef_anchor.h: the anchor contract: checkpoints of domain ledgers on the federation
 * ledger, verified on-ledger like a light client (HIFL, seed 000; IBC's Tendermint
 * client), and cross-domain proofs checked against them.
 *
 * Per registered domain the contract keeps the last anchored header (height,
 * hash, state, txs and results roots) and the committee (validator set, ef_vset.h)
 * it trusts to sign the next heights. It never trusts a relayer: a checkpoint is
 * a domain header with its commit certificate (ledger/ef_cert.h), accepted only if
 * more than 2/3 of the tracked committee's voting power signed it.
 *
 * Who may do what (decided here):
 *   - register_domain: a validator of the federation ledger at the current height
 *     (a domain's administrator node is its federation validator; regulators sign
 *     blocks and may register too). EF_ENOTVAL for anyone else.
 *   - checkpoint, report: anyone with an account: they carry their own proof.
 *   - unfreeze: federation validators approve; the domain is unfrozen once the
 *     approvers hold more than 2/3 of the federation's voting power at that height.
 *
 * Rules of a checkpoint {domain, header, cert, committee?} of height h, hash H:
 *   1. the domain is registered (EF_ENOTFOUND) and not frozen (EF_EFROZEN); the
 *      header decodes and is of the domain's chain id (EF_ECHAIN);
 *   2. h <= last anchored: a checkpoint recorded at h with hash H is a duplicate
 *      (EF_ERECORDED); one recorded at h with another hash, and this header
 *      certified by the committee that signed the recorded one, is misbehaviour:
 *      the domain is frozen with both headers and certificates kept as evidence
 *      (the transaction succeeds: its effect is the freeze); no checkpoint at h:
 *      stale (EF_ESTALE);
 *   3. h > last: the header's vset_hash must be the tracked committee's hash
 *      (else the domain rotated in between and the rotation was skipped:
 *      EF_EROTATION) and the certificate must verify against it (EF_EBADSIG,
 *      EF_ECERT under 2/3, EF_EHEIGHT, EF_EINVAL as ef_cert_verify);
 *      A header so certified whose time is not above the anchored header's is
 *      misbehaviour too (block times strictly increase): the domain is frozen,
 *      the anchored and the new header kept as evidence;
 *   4. rotation: if the header's next_vset_hash differs from the tracked
 *      committee's, the new committee must be passed and hash to it
 *      (EF_ECOMMITTEE); it becomes the tracked committee from h+1. A committee
 *      passed when the header names no change is EF_EARGS.
 *   So the committee can only change through a certified header of the height
 *   just before the rotation, and a header signed by a committee the contract has
 *   not been shown is never accepted.
 *
 * Methods (JSON args; HEX = lowercase or uppercase hex of the canonical bytes):
 *   register_domain {"name": NAME, "chain_id": STR, "genesis_hash": HASH,
 *                    "committee": HEX (ef_vset encoding), "admin": PUB}
 *       NAME [a-z0-9_-]{1,32}; chain id and name unique (EF_EEXIST); committee
 *       1..EF_ANCHOR_COMMITTEE_MAX members (EF_EINVAL). The committee is the set
 *       that signs height 1; height 0 is anchored with the genesis hash.
 *       Event domain_registered.
 *   checkpoint {"domain": NAME, "header": HEX, "cert": HEX, "committee": HEX?}
 *       as above. Event checkpoint {domain, height, hash, rotated} or
 *       domain_frozen {domain, height, evidence}.
 *   report {"domain": NAME, "header_a": HEX, "cert_a": HEX, "header_b": HEX,
 *           "cert_b": HEX}
 *       two different headers of one height, both of the domain's chain, both
 *       certified by the tracked committee (their vset_hash is its hash, the
 *       height at or above the height it took over): the domain is frozen with
 *       the evidence. EF_EINVAL if they are not such a pair; EF_EFROZEN if frozen.
 *   unfreeze {"domain": NAME}
 *       sender a federation validator (EF_ENOTVAL), the domain frozen (EF_ESTATE),
 *       once per freeze per validator (EF_EDUP). Event unfreeze_vote and, at
 *       quorum, domain_unfrozen. Tracking resumes from the last anchored header
 *       and committee (the conflicting header is never anchored).
 *
 * Limits: EF_ANCHOR_COMMITTEE_MAX members per committee (so that a checkpoint
 * with a rotation fits in a transaction's EF_TX_ARGS_MAX bytes of hex).
 *
 * Queries (GET /state/anchor/...):
 *   domains                       [{name, chain_id, height, frozen}]
 *   domain/NAME                   {name, chain_id, genesis_hash, admin, height,
 *                                  header_hash, state_hash, txs_root, results_root,
 *                                  time_ms, committee_hash, committee
 *                                  [{pub, power}], committee_since, frozen,
 *                                  freezes, checkpoints, registered_at}
 *   checkpoints/NAME              the last EF_ANCHOR_QUERY_MAX [{height, hash}]
 *   checkpoints/NAME/H            {height, hash, header (JSON), header_hex,
 *                                  cert_hex, vset_hash, anchored_at}
 *   committee/NAME/HASH           {hash, committee [{pub, power}], hex}
 *   evidence/NAME                 [{index, height, header_a, cert_a, header_b,
 *                                   cert_b, at}] (hex)
 *
 * State (namespace "anchor"), canonical codec:
 *   "d" NAME                      domain record (ef_anchor.c)
 *   "i" CHAIN                     NAME (chain ids are unique)
 *   "c" NAME 0x00 HASH            committee encoding (every committee tracked)
 *   "k" NAME 0x00 be64 H          checkpoint record
 *   "e" NAME 0x00 be64 N          evidence record
 *   "u" NAME 0x00 be64 F PUB      an unfreeze approval for freeze number F
 */
#ifndef EF_ANCHOR_H
#define EF_ANCHOR_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/ef_ctx.h"
#include "ledger/ef_proof.h"

#define EF_ANCHOR_NAME_MAX 32
#define EF_ANCHOR_COMMITTEE_MAX 64
#define EF_ANCHOR_QUERY_MAX 1000

extern const ef_contract ef_anchor_contract;

/* For other contracts: checks a transaction proof (ledger/ef_proof.h) of domain
 * `domain` against this contract's state, so an on-ledger decision can rest on a
 * proven fact of another domain. Rules: the domain is registered (EF_ENOTFOUND)
 * and not frozen (EF_EFROZEN); the proof decodes and its paths lead to the
 * header's roots (ef_proof_decode's errors, EF_EPROOF); the header is of the
 * domain's chain (EF_ECHAIN); a certificate in the proof verifies against the
 * committee the header names (which the anchor must know: EF_EUNANCHORED); and
 * the header is anchored (a checkpoint at its height with its hash), or, if not,
 * carries a certificate of the tracked committee for a height it signs
 * (EF_EUNANCHORED otherwise). On success *out holds the decoded proof (borrowing
 * from p: tx, code, events); on failure it is zeroed. Runs in the anchor's
 * namespace (ef_ctx_call_as); read-only. */
EF_MUST_USE int ef_anchor_verify_proof(ef_ctx *ctx, const char *domain, const uint8_t *p, size_t len,
                                       ef_proof *out);

#endif
