/* ef_jit.h: the JIT controller (seed 003): turns committed `sla` events into
 * slices. On an activation of one of its operator's SLAs it reserves a path in
 * the resource database (agents/ef_slice.h) that meets the SLA's rules, stitches
 * it (agents/ef_slicenet.h) and confirms it on the ledger with the slice id and
 * the path, or reports the failure (the contract nullifies and refunds). It
 * releases exactly what it reserved when the SLA closes or is nullified.
 *
 *   "activated" {sla, operator = ours, ap, dst, rules}  -> reserve + stitch ->
 *        tx sla.confirm {sla, slice, path, edge_monitor}, or, when no path
 *        fits or the network refuses, tx sla.fail {sla, reason} (reason names
 *        the error: ENOCAP with the link, ELATENCY with the path's latency,
 *        ENOTFOUND for a node the topology does not have, ENFORCE). A confirm
 *        the ledger refuses (e.g. ELATE: past the controller deadline) releases.
 *        A confirm refused with ESTATE for an SLA the ledger shows active with
 *        the same slice id and path (a replay from --from after a restart:
 *        slots, hence ports, are assigned in event order) adopts it instead.
 *   "confirmed" of ours                                 -> records start_ms, end_ms
 *   "nullified" / "closed" of ours                      -> unstitch + release
 *
 * The slice id carries the UDP port the slice's traffic must use, so the
 * customer reads it from the ledger: "sla<ID>-udp<PORT>", PORT = port_base +
 * the lowest free slot.
 *
 * The host feeds events (ef_jit_on_event, in block order, any one thread at a
 * time) and does the submissions through its hook, which blocks until the
 * transaction commits (`edgefed sla controller` follows GET /events of a node
 * and submits through its API). Stitching runs on the caller's thread.
 *
 * Threading: one mutex; ef_jit_json and ef_jit_stats may be called from any
 * thread.
 */
#ifndef EF_JIT_H
#define EF_JIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "agents/ef_slice.h"
#include "agents/ef_slicenet.h"
#include "base/ef_crypto.h"
#include "base/ef_receipt.h"

#define EF_JIT_SLAS_MAX 4096

typedef struct ef_jit_hooks {
    /* sla.METHOD(args) as the operator side; 0 once committed with result OK,
     * else an error (its code name in err, 24 bytes). */
    int (*submit)(void *arg, const char *method, const json_t *args, char err[24]);
    void (*on_change)(void *arg);   /* state changed (may be NULL) */
    /* The ledger's record of SLA sla (GET /state/sla/sla/ID; a new reference,
     * NULL if unknown). May be NULL: then a replayed, already active SLA is
     * released instead of adopted. */
    json_t *(*query)(void *arg, uint64_t sla);
    void *arg;
} ef_jit_hooks;

typedef struct ef_jit_cfg {
    ef_pub op;                 /* the operator whose SLAs this controller serves */
    ef_pub edge_monitor;       /* the edge monitor's key, given at confirm */
    uint16_t port_base;        /* slice ports from here (0: 40000) */
    /* Receipt hand-over (seed 003): with require_handover, the customer's
     * monitor must hand its signed receipt of epoch e over (ef_jit_receipt)
     * within handover_grace_ms (0: 1000) after the epoch's end; otherwise
     * ef_jit_tick stops the service (unstitches and releases the slice,
     * EF_EWITHHELD in the log, state "stopped"). The last epoch's receipt is
     * not awaited (no service is left to stop). chain_id ("" = any) is checked. */
    bool require_handover;
    uint32_t handover_grace_ms;
    char chain_id[EF_RECEIPT_CHAIN_MAX + 1];
} ef_jit_cfg;

typedef struct ef_jit_stats {
    uint64_t activations, confirmed, failed, released, withheld, adopted;
    uint64_t last_stitch_us;   /* reserve + stitch of the last confirmed SLA */
} ef_jit_stats;

typedef struct ef_jit ef_jit;

/* db and net are borrowed (and must outlive the controller). */
EF_MUST_USE int ef_jit_open(ef_jit **out, ef_slice_db *db, ef_slicenet *net, const ef_jit_cfg *cfg,
                            const ef_jit_hooks *hooks);
/* Unstitches and releases every slice it holds, frees jit. NULL ok. */
void ef_jit_close(ef_jit *jit);

/* After a restart, without replaying the chain: takes over an SLA of ours the
 * ledger shows active (rec: its record, GET /state/sla/sla/ID or an element of
 * /state/sla/operator/OP; borrowed). Reserves the path the record names, on
 * the port its slice id carries, and stitches it, as the confirm did. 0, or
 * EF_EEXIST (held already), EF_ESTATE (not active, not ours, no slice), EF_EINVAL
 * (a slice id or port this controller does not assign), EF_ETOPO (the recorded
 * path is not the topology's path between its ends), the reservation's or the
 * network's error. Feed the events after the height of rec from then on. */
int ef_jit_resume(ef_jit *jit, const json_t *rec);

/* One committed event of the sla contract (name, data borrowed). */
void ef_jit_on_event(ef_jit *jit, uint64_t height, const char *name, const json_t *data);

/* {"slas": [{sla, slice, port, path, kbps, ap, dst, state: "stitched"|
 * "confirmed"|"stopped" (withheld_epoch), stitch_us (reserve + stitch), start_ms?, end_ms?, ap_ns?, dst_ns?, ap_ip, dst_ip, edge_ns?,
 * edge_ip}], "db": ef_slice_db_json, "enforcing": BOOL}. */
json_t *ef_jit_json(ef_jit *jit);
void ef_jit_stats_get(ef_jit *jit, ef_jit_stats *out);
/* Publishes the resource database's tree on the ledger: tx sla.topology
 * {nodes, operator} through the submit hook (as confirm), so the explorer can
 * draw it with what the operator's SLAs reserve. 0 once committed, else the
 * hook's error (its code name in err: e.g. ENOTFOUND, the operator has no bond;
 * EPERM, the key is not its controller) or EF_ENOMEM. */
int ef_jit_publish_topology(ef_jit *jit, char err[24]);

/* Make-before-break re-adjustment of SLA sla (seed 000 re-adjusts slices on
 * degradation through this): reserves and stitches the new request (ap, dst
 * may be NULL: unchanged; rules: the new rate and latency bound) while the old
 * slice still holds, then removes the old. On any error the old slice is as it
 * was. EF_ENOTFOUND (not ours, or stopped), EF_ENOCAP, EF_ELATENCY, EF_ENFORCE.
 * The ledger's record of the path is not changed (no contract method does). */
int ef_jit_modify(ef_jit *jit, uint64_t sla, const char *ap, const char *dst, const ef_sla_rules *rules);

/* A receipt handed over by a customer's monitor: 0 if it is of a confirmed SLA
 * of ours (EF_ENOTFOUND), of chain_id (EF_ECHAIN), of an epoch of it
 * (EF_EEPOCH), signed by the SLA's monitor (EF_ESIGNER, EF_EBADSIG); the epoch
 * then counts as handed over. */
int ef_jit_receipt(ef_jit *jit, const ef_receipt *r);
/* With require_handover: stops the service of every SLA whose receipt is
 * overdue at wall time now_ms. Returns how many were stopped now. */
size_t ef_jit_tick(ef_jit *jit, uint64_t now_ms);

#endif
