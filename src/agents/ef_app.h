/* ef_app.h: the federated service app: a small HTTP service (libmicrohttpd) that answers requests.
 *
 * This is what a provider deploys for a consumer (in seed 001: an Alpine
 * container; here `edgefed app serve`). Routes:
 *   GET /        200 {"app":"edgefed-app","service":NAME,"kind":KIND,"mec":MEC,"count":N}
 *                (N counts the requests to / since start, from 1)
 *   GET /health  200 {"status":"ok","service":NAME,"pid":PID} (the starter checks the
 *                pid: on a shared host another app may hold the port)
 *   GET /relay?to=A.B.C.D:PORT   (only when started with relay on: the consumer's
 *                app) asks the app at A.B.C.D:PORT for GET / and answers 200 with
 *                that app's answer, or 502 {"error":...}: app-to-app traffic
 *   anything else 404 {"error":"not found"}
 * Threading: the server runs on libmicrohttpd's internal thread; the functions
 * below are called from one controlling thread.
 */
#ifndef EF_APP_H
#define EF_APP_H

#include <stdint.h>

#include "base/ef_err.h"

#define EF_APP_CONN_MAX 256        /* concurrent connections */
#define EF_APP_FIELD_MAX 64        /* name, kind, mec incl. NUL */

typedef struct ef_app ef_app;

#define EF_APP_RELAY_TIMEOUT_MS 2000  /* one relayed request */

/* Starts serving on ip:port (host order; 0 = all addresses). name, kind and mec
 * (NULL = "") are copied, at most EF_APP_FIELD_MAX-1 chars each. relay enables
 * GET /relay (serve it on a loopback address only). Each connection has its own
 * thread, so a relayed request does not hold up the others. Errors: EF_EINVAL,
 * EF_ENET (cannot bind), EF_ENOMEM. */
int ef_app_start(ef_app **out, uint32_t ip, uint16_t port, const char *name, const char *kind,
                 const char *mec, int relay) EF_MUST_USE;
/* Stops the server and frees app. NULL ok. */
void ef_app_stop(ef_app *app);
/* Requests to / answered so far. */
uint64_t ef_app_count(const ef_app *app);

#endif
