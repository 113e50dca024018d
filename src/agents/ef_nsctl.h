/* ef_nsctl.h: a domain's slice control for the nslice contract (seed 000,
 * contracts/ef_nslice.h): turns committed nslice events into reservations in
 * the domain's resource database (agents/ef_slice.h) and enforcement
 * (agents/ef_slicenet.h), and records each step on the domain ledger as the
 * domain administrator. It is the same resource database and enforcement as
 * the JIT controller (agents/ef_jit.h); this module only follows the other
 * contract.
 *
 *   nslice_requested {id, ap, dst, kbps}       -> reserve "ID-v1" -> tx reserve
 *                                                 -> stitch -> tx activate
 *                                                 (no path: tx fail ENOCAP /
 *                                                 ELATENCY / ENOTFOUND; the
 *                                                 network refused: release,
 *                                                 tx fail ENFORCE)
 *   nslice_change_requested {id, new_version V, new_kbps}
 *                                              -> make before break: reserve
 *                                                 "ID-vV" with the running
 *                                                 version held -> tx reserve ->
 *                                                 stitch (same port) -> tx
 *                                                 activate -> only then unstitch
 *                                                 and release the old version;
 *                                                 any failure: the new one
 *                                                 undone, tx fail, the running
 *                                                 version untouched
 *   nslice_decommissioning {id}                -> unstitch + release -> tx release
 *
 * Every instance keeps its UDP port across versions, so its traffic does not
 * move: port_base + a slot chosen from the instance's ref (the end-to-end
 * slice's id: FNV-1a mod EF_NSCTL_MAX, the next free slot on a collision), so
 * the domains of one end-to-end slice classify its one flow on the same port,
 * and a restarted control finds the port it had.
 *
 * After a restart the host hands the ledger's instance records to
 * ef_nsctl_resume before following new events: running instances are adopted
 * (reserved and stitched again, nothing recorded), and the step each one owes
 * is taken without redoing one the ledger holds: requested -> reserve and
 * activate; reserved -> activate; a pending change -> its reserve (unless
 * recorded) and switch; decommissioning -> release. Events the host then
 * replays for what was resumed are ignored (an instance already held, a
 * change to a version already running). Paths meet max_latency_us of the config (the
 * template's bound is the contract's to keep; 0: 10 s).
 *
 * The host feeds events in block order (one thread at a time) and submits
 * through the hook, which returns once the transaction committed (0) or an
 * error (code name in err). A refused activate undoes what was done for it.
 * Threading: one mutex; ef_nsctl_json from any thread.
 */
#ifndef EF_NSCTL_H
#define EF_NSCTL_H

#include <jansson.h>
#include <stdint.h>

#include "agents/ef_slice.h"
#include "agents/ef_slicenet.h"

#define EF_NSCTL_MAX 1024

typedef struct ef_nsctl_hooks {
    /* nslice.METHOD(args) as the domain administrator */
    int (*submit)(void *arg, const char *method, const json_t *args, char err[24]);
    void *arg;
} ef_nsctl_hooks;

typedef struct ef_nsctl_cfg {
    uint16_t port_base;        /* 0: 41000 */
    uint64_t max_latency_us;   /* 0: 10 s */
} ef_nsctl_cfg;

typedef struct ef_nsctl_stats {
    uint64_t activated, switched, failed, change_failed, released, adopted;
} ef_nsctl_stats;

typedef struct ef_nsctl ef_nsctl;

/* db and net borrowed (outlive the controller). EF_EINVAL, EF_ENOMEM. */
EF_MUST_USE int ef_nsctl_open(ef_nsctl **out, ef_slice_db *db, ef_slicenet *net, const ef_nsctl_cfg *cfg,
                              const ef_nsctl_hooks *hooks);
/* Unstitches and releases everything held. NULL ok. */
void ef_nsctl_close(ef_nsctl *c);
/* One committed event of the nslice contract (name, data borrowed). */
void ef_nsctl_on_event(ef_nsctl *c, const char *name, const json_t *data);
/* The ledger's instance records (GET /state/nslice/instances, borrowed):
 * rebuilds what the control holds and takes the steps owed (see above). */
void ef_nsctl_resume(ef_nsctl *c, const json_t *instances);
/* {"instances": [{id, version, kbps, port, db_id, path, ap, dst, ap_ip, dst_ip,
 * ap_ns?, dst_ns?}], "enforcing": BOOL} (namespaces in netns mode) */
json_t *ef_nsctl_json(ef_nsctl *c);
void ef_nsctl_stats_get(ef_nsctl *c, ef_nsctl_stats *out);

#endif
