/* ef_meo.h: the MEC orchestrator (MEO) driver: deploys a federated service and connects it.
 *
 * A MEF agent (ledger or REST baseline) calls this to do the real work behind a
 * federation: the provider deploys the service app, both sides connect their data
 * planes, and the consumer checks that its side reaches the provider's app
 * (federation counts as done when app-to-app traffic flows, as in seed 001).
 *
 * Two drivers, chosen by name at ef_meo_open():
 *
 *   "process"  the provider starts `edgefed app serve` as a child process on a
 *              loopback port; connect has nothing to build (same host);
 *              check = the consumer's app requests the provider's app.
 *   "netns"    (root) every MEC system is a network namespace (config.netns),
 *              reachable from the others at config.underlay_ip. Deploy starts
 *              the app inside the provider's namespace; connect creates, on the
 *              side it is called on, a VXLAN device (VNI, UDP port and overlay
 *              subnet from the consumer's endpoint) to the peer's underlay
 *              address and gives it this side's overlay address; check has
 *              the consumer's app (inside the consumer's namespace) request
 *              the provider's app at its overlay address, i.e. through the tunnel.
 *
 * The workflow, per service (service_id is a caller-chosen id, e.g. the ledger's
 * announcement id formatted as text):
 *
 *   consumer: ef_meo_prepare(c, sid, &cons_ep)             -> put cons_ep in the announcement
 *   provider: ef_meo_deploy(p, sid, kind, &cons_ep, &prov_ep) -> put prov_ep in the confirmation
 *   provider: ef_meo_connect(p, sid, &prov_ep, &cons_ep)
 *   consumer: ef_meo_connect(c, sid, &cons_ep, &prov_ep)
 *   consumer: ef_meo_check(c, sid, &prov_ep, timeout_ms)   -> 0 = the consumer's app reaches the provider's
 *   both:     ef_meo_teardown(x, sid)                       (idempotent)
 *
 * Threading: an ef_meo is safe to call from several threads at once (an internal
 * mutex guards its service table; the slow parts, starting processes and waiting
 * for answers, run outside it, so two services progress in parallel). The calls
 * block (tens of milliseconds, check up to timeout_ms): run them off an event loop.
 * Calls on the same service id must not overlap (the second gets EF_EAGAIN).
 *
 * Child processes: the driver forks and execs (never through a shell; every name
 * and address is validated first). It reaps its own children by pid. A caller
 * that installs a SIGCHLD handler reaping all children (waitpid(-1)) breaks this.
 *
 * Errors (all calls): EF_EINVAL bad argument or name; EF_ECONFIG bad driver
 * config or unknown driver; EF_EPERM netns driver without root; EF_ENOTFOUND
 * unknown service id; EF_EEXIST service id already deployed/prepared; EF_EFULL
 * EF_MEO_SERVICES_MAX services or the port range exhausted; EF_EIO a command
 * (ip, the app) failed; EF_ETIMEOUT no answer in time; EF_EPROTO the peer's app
 * answered something else than the expected service.
 */
#ifndef EF_MEO_H
#define EF_MEO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agents/ef_meo_codec.h"   /* endpoints, addresses, names */
#include "agents/ef_meo_topo.h"    /* the netns test topology */
#include "base/ef_err.h"

#define EF_MEO_PATH_MAX 512       /* app binary path incl. NUL */
#define EF_MEO_SERVICES_MAX 256   /* services one ef_meo handles at once */
#define EF_MEO_VXLAN_PORT_DEFAULT 4789

/* Driver configuration. Strings are copied by ef_meo_open. */
typedef struct ef_meo_config {
    const char *mec_name;      /* this MEC system's name (for logs and the app's answers) */
    const char *netns;         /* netns driver: this MEC system's namespace (must exist) */
    const char *underlay_ip;   /* this MEC system's underlay address; process: NULL = 127.0.0.1 */
    const char *underlay_dev;  /* netns: device VXLAN rides on inside netns; NULL = route lookup */
    const char *app_path;      /* the edgefed binary that runs `app serve`; NULL = /proc/self/exe */
    uint16_t port_min;         /* app ports handed out: [port_min, port_max]; 0,0 = 20000..29999 */
    uint16_t port_max;
    /* Overlay pool this MEC system hands out as consumer: /30 subnets from
     * overlay_pool/overlay_pool_prefix (e.g. 100.65.0.0/18); VNIs vni_base+1,
     * vni_base+2, ... NULL/0 = derived from the underlay's last octet d:
     * pool 100.(64+d/4).((d%4)*64).0/18 and vni_base = d*4096, so MEC systems with
     * distinct last octets never pick the same subnet or VNI. */
    const char *overlay_pool;
    uint8_t overlay_pool_prefix;
    uint32_t vni_base;
    uint16_t vxlan_port;       /* 0 = EF_MEO_VXLAN_PORT_DEFAULT */
} ef_meo_config;

/* Per-call timings, in microseconds, of the last deploy/connect/check of a service. */
typedef struct ef_meo_times {
    uint64_t deploy_us;    /* spawn to app answering */
    uint64_t connect_us;   /* tunnel built and addressed (0 for process) */
    uint64_t check_us;     /* first request to the expected answer */
} ef_meo_times;

typedef struct ef_meo ef_meo;

/* Opens a driver ("process" or "netns") for one MEC system. On success *out owns
 * the instance (free with ef_meo_close). Errors: EF_ECONFIG (unknown driver, bad
 * address, missing netns), EF_EPERM (netns without root), EF_ENOMEM. */
int ef_meo_open(ef_meo **out, const char *driver, const ef_meo_config *cfg) EF_MUST_USE;
/* Tears down every service still up (as ef_meo_teardown) and frees meo. NULL ok.
 * No other call on meo may be running or start (the caller joins its workers first). */
void ef_meo_close(ef_meo *meo);
/* The driver's name ("process" or "netns"). */
const char *ef_meo_driver(const ef_meo *meo);

/* Consumer: allocates the tunnel for service_id (next VNI and /30 from the pool)
 * and fills *cons_ep with this side's endpoint. The allocation is recorded under
 * service_id until teardown. EF_EEXIST if service_id is already known. */
int ef_meo_prepare(ef_meo *meo, const char *service_id, ef_meo_ep *cons_ep) EF_MUST_USE;

/* Provider: starts the service app for service_id (kind: a short name shown by
 * the app, validated like a name) and returns once the app answers locally.
 * cons_ep is the consumer's endpoint (tunnel parameters); *prov_ep receives the
 * provider endpoint to confirm. EF_EEXIST if service_id is already deployed
 * here. On failure nothing is left running. */
int ef_meo_deploy(ef_meo *meo, const char *service_id, const char *kind,
                  const ef_meo_ep *cons_ep, ef_meo_ep *prov_ep) EF_MUST_USE;

/* Both sides: builds this side's data plane for service_id from `local` (this
 * side's endpoint) to `remote` (the peer's). The service must be known here
 * (prepared or deployed); a side that only connects (e.g. a consumer that did
 * not call prepare) may call it anyway: the service is then recorded. Calling it
 * twice with the same endpoints is a no-op. netns: `ip link add efvNNN type vxlan
 * id VNI remote PEER_UL local OWN_UL dstport PORT [dev DEV]` in config.netns,
 * address overlay_ip/prefix, link up. process: records the peer only. */
int ef_meo_connect(ef_meo *meo, const char *service_id, const ef_meo_ep *local,
                   const ef_meo_ep *remote) EF_MUST_USE;

/* Consumer: app-to-app traffic. This MEC system's own app (`edgefed app serve
 * --relay` on its loopback, in config.netns for netns; started at the first
 * prepare or check and kept until close) is asked GET /relay, and it requests
 * the provider's app (process: underlay_ip:app_port; netns: overlay_ip:app_port,
 * i.e. through the tunnel). Repeats until EF_MEO_CHECK_REQUESTS consecutive
 * answers name service_id, or timeout_ms passes. 0 = app-to-app traffic flows;
 * EF_ETIMEOUT (not reachable in time); EF_EPROTO (answers from another service). */
#define EF_MEO_CHECK_REQUESTS 3
int ef_meo_check(ef_meo *meo, const char *service_id, const ef_meo_ep *remote,
                 uint32_t timeout_ms) EF_MUST_USE;

/* Either side: stops the app (SIGTERM, then SIGKILL after 1 s) and deletes the
 * VXLAN device this side made for service_id, and forgets it. Idempotent: an
 * unknown service id returns 0. Returns EF_EIO if something could not be
 * removed (it is still forgotten; the error is logged). */
int ef_meo_teardown(ef_meo *meo, const char *service_id);

/* Timings of the last deploy/connect/check of service_id on this side.
 * EF_ENOTFOUND if unknown. */
int ef_meo_times_get(ef_meo *meo, const char *service_id, ef_meo_times *out);

#endif
