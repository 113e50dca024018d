/* ef_e2e.h: the end-to-end network slice contract of the federation ledger
 * (seed 000, HIFL, III.B/III.C): a slice across two domains, each part an
 * `nslice` instance on its domain's ledger (contracts/ef_nslice.h), and every
 * step of every part taken on the federation only on proof: a transaction
 * proof (ledger/ef_proof.h) of the domain's nslice transaction, checked with
 * ef_anchor_verify_proof against the domain's anchored checkpoints (or its
 * tracked committee's certificate). No domain's word is taken.
 *
 * Methods (JSON args; ID a NAME of 1..EF_E2E_NAME_MAX of [A-Za-z0-9._:-]):
 *   request {"id": ID, "a": PART, "b": PART, "kbps": N, "max_latency_us": N}
 *       PART = {"domain": NAME, "ap": NODE, "dst": NODE, "owner": PUB}: owner
 *       the domain account that must own the part's nslice instance (so that
 *       an instance someone else requested with this ref is not the part);
 *       any account (the
 *       owner). Both domains registered on the anchor (EF_ENOTFOUND) and
 *       distinct (EF_EARGS); kbps 1..EF_E2E_KBPS_MAX, latency >= 1
 *       (EF_EARGS); id unique (EF_EEXIST). Event e2e_requested {id, kbps,
 *       a, b, owner}.
 *   claim {"id": ID, "part": "a"|"b", "proof": HEX}
 *       any account: the proof carries its own authority. Checks, in order:
 *       the slice exists (EF_ENOTFOUND); the proof verifies for the part's
 *       domain (ef_anchor_verify_proof's codes: a proof of another domain is
 *       EF_ECHAIN, an unanchored header EF_EUNANCHORED, an altered byte
 *       EF_EPROOF / a decoder code); the proven transaction is an nslice one
 *       that succeeded and emitted exactly one lifecycle event (EF_EEVENT
 *       otherwise); that event's ref is this slice's id, its owner and ap/dst the
 *       part's, and its instance the one the part was first proven with
 *       (EF_EREF); the same transaction claimed twice (EF_EDUP); the event is
 *       the part's next step (EF_EEVENT):
 *         nslice_reserved   version 1, part none          -> reserved
 *         nslice_activated  version 1, part none|reserved -> active
 *         nslice_modified / nslice_readjusted, version > the part's, part
 *                           active                         -> active (readjusted)
 *         nslice_decommissioned, part reserved|active     -> decommissioned
 *         nslice_failed, part none|reserved               -> failed
 *       and a reserved/activated/readjusted rate at least the slice's kbps
 *       (EF_EBOUNDS). The slice is "active" once both parts are proven active
 *       (event e2e_active), "decommissioned" once both are (e2e_decommissioned),
 *       "failed" when a part failed; every proven readjustment is an event
 *       e2e_readjusted {id, part, version, kbps}. Each claim is kept with the
 *       proof's height, block hash and tx hash.
 *   readjust {"id", "part": "a"|"b", "reason": NAME}  owner; slice active
 *       (EF_ESTATE): a request the orchestrator acts on (event
 *       e2e_readjust_requested {id, part, reason, domain, version: the part's
 *       proven version}), kept in the part's record as readjust {version,
 *       reason, requested_at} until a re-adjustment of the part is proven (a
 *       later request replaces it); the change itself counts only once proven.
 *   decommission {"id"}  owner; slice requested or active (EF_ESTATE):
 *       state decommissioning (event e2e_decommission_requested).
 *   EF_EPERM: readjust/decommission by another than the owner.
 *   Every refused call changes nothing.
 *
 * Queries (GET /state/e2e/...):
 *   slices        [{id, state, kbps, a: {domain, step, version}, b: ...}]
 *   slice/ID      the record: {id, owner, kbps, max_latency_us, state,
 *                 readjustments, a: {domain, ap, dst, step, instance, version,
 *                 kbps, claims: [{event, version, kbps, height, block_hash,
 *                 tx_hash, claimed_at}], readjust (while one is requested and
 *                 not proven): {version, reason, requested_at}}, b: ...}
 *
 * State (namespace "e2e"): "s" ID -> canonical JSON record (ef_ctx_put_json).
 */
#ifndef EF_E2E_H
#define EF_E2E_H

#include "ledger/ef_ctx.h"

#define EF_E2E_NAME_MAX 32
#define EF_E2E_KBPS_MAX 100000000ull
#define EF_E2E_CLAIMS_MAX 16   /* claims kept per part (the latest) */

extern const ef_contract ef_e2e_contract;

#endif
