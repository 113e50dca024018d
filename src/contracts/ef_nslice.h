/* ef_nslice.h: the network-slice contract of a domain ledger (seed 000, HIFL,
 * sections III.B and III.C): slice templates, content-hashed and published by
 * the domain administrator, and slice instances with the administrative and
 * operational states of 3GPP TS 28.541 and their lifecycle, recorded by the
 * domain's slice control (agents/ef_slice.h reserves, agents/ef_slicenet.h
 * enforces; the ledger records what they did, make-before-break).
 *
 * Genesis params ("params": {"nslice": {"admin": PUB}}; no section: the
 * contract is off on this chain and every method fails with EF_ESTATE). The
 * admin is the domain administrator, who runs the slice control; it must be a
 * registry account (else EF_ECONFIG).
 *
 * Template: its canonical bytes (base/ef_codec.h), and its id is
 * ef_hash_tagged(EF_TAG_NSLICE_TEMPLATE, bytes), never a hash of JSON text:
 *
 *   field           type   meaning
 *   version         u16    EF_NSLICE_TEMPLATE_VERSION
 *   name            str    1..EF_NSLICE_NAME_MAX of [A-Za-z0-9._:-]
 *   kbps_min        u64    1..kbps_max: the least rate an instance may ask
 *   kbps_max        u64    ..EF_NSLICE_KBPS_MAX: the most (re-adjustments too)
 *   max_latency_us  u64    1..EF_NSLICE_LAT_MAX: the path's latency bound
 *   max_loss_ppm    u32    0..1000000
 *   description     str    0..EF_NSLICE_DESC_MAX printable ASCII
 *
 * Instance lifecycle (field "lifecycle"), administrative state ("admin":
 * locked | unlocked | shutting_down) and operational state ("oper": enabled |
 * disabled):
 *
 *   requested        locked    disabled   request by its owner
 *   reserved         locked    disabled   the slice control reserved version 1
 *   active           unlocked  enabled    ... and enforced it
 *   modified /       unlocked  enabled    a change (modify: the owner's; readjust:
 *   readjusted                            on degradation) reserved and switched to
 *   decommissioning  shutting_down enabled
 *   decommissioned   locked    disabled   everything released
 *   failed           locked    disabled   version 1 could not be reserved or
 *                                         enforced; whatever was reserved released
 * lock/unlock set "admin" of a running instance (locked: no change accepted,
 * EF_ELOCKED; the slice keeps running).
 *
 * Make-before-break: modify and readjust open a pending change (version v+1,
 * the new rate) while version v keeps running; the slice control reserves v+1
 * (reserve, both versions held) and switches (activate: v+1 becomes current,
 * v is released, recorded in the event) or reports the failure (fail: the
 * pending change is dropped; version v runs as it was). One change at a time.
 *
 * Methods (JSON args; ID an instance NAME, HASH 64 hex digits):
 *   publish   {"template": HEX, "id": HASH}                admin (EF_EPERM)
 *       HEX the canonical bytes; EF_EARGS if they do not decode canonically,
 *       EF_ETEMPLATE if they do not hash to id (a modified template),
 *       EF_EEXIST if the id or the name is published already (templates are
 *       immutable: a new version is a new name). Event template_published.
 *   request   {"id": ID, "template": HASH, "ref": NAME, "ap": NODE,
 *              "dst": NODE, "kbps": N}                     any account: the owner
 *       EF_ENOTEMPLATE unknown template, EF_EBOUNDS kbps outside the
 *       template's [kbps_min, kbps_max], EF_EEXIST id in use. ref binds the
 *       instance to an end-to-end slice id on the federation (contracts/ef_e2e.h).
 *       NODE: 1..15 of [A-Za-z0-9_.:], ap != dst. Event nslice_requested.
 *   reserve   {"id", "version": V, "kbps": N, "path": [LINK, 1..EF_NSLICE_PATH_MAX]}
 *       admin; V = 1 for a requested instance, else the pending change's
 *       version (EF_ESTATE otherwise); N the rate asked (EF_EBOUNDS).
 *       Event nslice_reserved.
 *   activate  {"id", "version": V}                         admin
 *       V = 1: reserved -> active. V pending and reserved: the switch.
 *       Events nslice_activated, or nslice_modified / nslice_readjusted
 *       (with released_version, released_path).
 *   fail      {"id", "version": V, "reason": NAME}          admin
 *       V = 1 (requested or reserved): -> failed. V pending: dropped.
 *       Events nslice_failed, nslice_change_failed.
 *   modify    {"id", "kbps": N}    owner or admin; readjust {"id", "kbps": N} the same
 *       running and unlocked (EF_ELOCKED), no change pending (EF_ESTATE), N
 *       within the template (EF_EBOUNDS) and not the current rate (EF_EINVAL
 *       would say nothing: EF_EBOUNDS). Event nslice_change_requested.
 *   lock / unlock {"id"}                                   owner or admin
 *       running instance; lock of a locked one, unlock of an unlocked one: EF_ESTATE.
 *   decommission {"id"}                                    owner or admin
 *       running, no change pending: -> decommissioning. Event nslice_decommissioning.
 *   release   {"id"}                                       admin
 *       decommissioning -> decommissioned. Event nslice_decommissioned.
 * Parties: EF_ENOTOWNER for a sender neither the owner nor the admin;
 * EF_EPERM for the owner calling an admin-only method. Every refused call
 * changes nothing. Every lifecycle event's data carries {id, ref, version,
 * kbps, template, lifecycle, admin, oper, owner, ap, dst} (plus path where there is one): the
 * federation's e2e contract reads them from proofs.
 *
 * Queries (GET /state/nslice/...; on a chain without the contract, templates
 * and instances are [] and the others EF_ENOTFOUND):
 *   config                 {"admin"}
 *   templates              [{id, name, kbps_min, kbps_max, max_latency_us,
 *                            max_loss_ppm, description, published_at}]
 *   template/HASH          the same with "hex" (the canonical bytes)
 *   instances              [{id, ref, template, lifecycle, admin, oper, kbps, version}]
 *   instance/ID            the whole record (owner, ap, dst, path, pending,
 *                          history of the last EF_NSLICE_HISTORY_MAX steps)
 *
 * State (namespace "nslice"):
 *   "cfg"                  canonical JSON {"admin"}
 *   "t" raw[32]            the template's canonical bytes, then u64 published_at
 *   "n" NAME               raw[32] id of the template of that name
 *   "i" ID                 canonical JSON: the instance record
 */
#ifndef EF_NSLICE_H
#define EF_NSLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "ledger/ef_ctx.h"

#define EF_NSLICE_TEMPLATE_VERSION 1
#define EF_NSLICE_NAME_MAX 32
#define EF_NSLICE_NODE_MAX 15
#define EF_NSLICE_LINK_MAX 31
#define EF_NSLICE_DESC_MAX 128
#define EF_NSLICE_PATH_MAX 32
#define EF_NSLICE_KBPS_MAX 100000000ull
#define EF_NSLICE_LAT_MAX 10000000ull
#define EF_NSLICE_HISTORY_MAX 32
#define EF_NSLICE_TEMPLATE_MAX (2 + 4 + EF_NSLICE_NAME_MAX + 8 * 3 + 4 + 4 + EF_NSLICE_DESC_MAX)

extern const ef_contract ef_nslice_contract;

typedef struct ef_nslice_template {
    char name[EF_NSLICE_NAME_MAX + 1];
    uint64_t kbps_min, kbps_max, max_latency_us;
    uint32_t max_loss_ppm;
    char description[EF_NSLICE_DESC_MAX + 1];
} ef_nslice_template;

/* Appends t's canonical bytes to w. EF_EINVAL if a field breaks the rules above. */
EF_MUST_USE int ef_nslice_template_encode(ef_wr *w, const ef_nslice_template *t);
/* Decodes exactly p[0..len) into *t (zeroed on failure): 0, the codec's errors
 * (EF_ETRUNC, EF_ETRAILING, EF_ETOOBIG), EF_EINVAL (version or a field's rule). */
EF_MUST_USE int ef_nslice_template_decode(ef_nslice_template *t, const uint8_t *p, size_t len);
/* The id of canonical template bytes p[0..len). */
void ef_nslice_template_id(ef_hash *id, const uint8_t *p, size_t len);
/* A template from JSON {name, kbps_min, kbps_max, max_latency_us, max_loss_ppm,
 * description?} (unknown fields refused): 0 or EF_EARGS / EF_EINVAL. */
EF_MUST_USE int ef_nslice_template_from_json(ef_nslice_template *t, const json_t *j);

/* true if s is a NODE name of the rules above (the resource database's names). */
bool ef_nslice_node_ok(const char *s);

#endif
