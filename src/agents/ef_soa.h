/* ef_soa.h: the REST federation baseline ("SOA" in seed 001): direct HTTP between pre-registered MEC systems, no ledger.
 *
 * All MEC systems know each other in advance: each consumer holds, for every
 * provider, its address and a pre-shared key; each provider holds the keys of
 * the consumers it accepts. A federation (ef_soa_federate) is:
 *   1. announce -> offers: the consumer prepares its tunnel endpoint and asks
 *      every provider, in parallel, POST /quote; each answers its price (the same
 *      policy as the MEF agent: ef_pricing).
 *   2. award: the cheapest offer wins (ties: the provider listed first).
 *   3. deployment: POST /deploy to the winner, which deploys the app and builds
 *      its side of the data plane with its MEO driver and answers its endpoint.
 *   4. connection: the consumer builds its side and checks app-to-app traffic.
 *
 * HTTP API of a provider (JSON bodies, at most EF_SOA_BODY_MAX bytes):
 *   GET  /health    200 "ok" (no authentication)
 *   POST /quote     {"service":ID,"kind":K}  -> {"provider":NAME,"location":LOC,"price":N,"time_ms":T}
 *   POST /deploy    {"service":ID,"kind":K,"consumer_ep":EP} -> {"provider_ep":EP,"deploy_ms":X}
 *                   (EP in ef_meo_ep_format text form; 409 if ID is already deployed here)
 *   POST /teardown  {"service":ID} -> {"ok":true} (only the consumer that deployed it)
 * Service ids are chosen by consumers and must be unique across them (e.g. they
 * contain the consumer's name); they follow ef_meo_name_ok.
 *
 * Authentication, on every request except /health (headers):
 *   X-EF-Client: the consumer's id (as registered at the provider)
 *   X-EF-Time:   the consumer's wall clock, unix milliseconds (decimal)
 *   X-EF-Auth:   hex of crypto_auth (HMAC-SHA-512-256, libsodium) with the pair's
 *                key over  METHOD "\n" PATH "\n" TIME "\n" BODY
 * A missing header, unknown client, a time more than EF_SOA_SKEW_MS away or a
 * replayed request (same MAC as one already accepted) -> 401; a MAC that does
 * not verify -> 403. Authenticated answers carry X-EF-Time and X-EF-Auth over
 *   STATUS "\n" TIME "\n" REQUEST_MAC_HEX "\n" BODY
 * with the same key, which the consumer verifies (mutual authentication; the
 * answer is bound to its request, so it cannot be replayed to another).
 *
 * Threading: a provider serves each connection on its own thread
 * (libmicrohttpd), calling the (thread-safe) MEO driver. ef_soa_federate is
 * reentrant: consumers may run it concurrently with distinct service ids.
 */
#ifndef EF_SOA_H
#define EF_SOA_H

#include <stddef.h>
#include <stdint.h>

#include "agents/ef_meo.h"
#include "agents/ef_pricing.h"
#include "base/ef_err.h"

#define EF_SOA_KEY_SIZE 32          /* crypto_auth_KEYBYTES */
#define EF_SOA_PEERS_MAX 64         /* providers a consumer knows, consumers a provider accepts */
#define EF_SOA_BODY_MAX 4096        /* request and answer bodies */
#define EF_SOA_SKEW_MS 30000        /* accepted clock difference */
#define EF_SOA_CONN_MAX 128         /* a provider's concurrent connections */
#define EF_SOA_TIMEOUT_MS 20000     /* default per-request timeout */

typedef struct ef_soa_cred {
    char id[EF_MEO_NAME_MAX];       /* the consumer's id at the provider */
    uint8_t key[EF_SOA_KEY_SIZE];
} ef_soa_cred;

/* ---- provider ---- */

typedef struct ef_soa_provider_cfg {
    const char *name;               /* this MEC system's name */
    uint32_t listen_ip;             /* host order; 0 = all */
    uint16_t listen_port;
    ef_pricing pricing;
    const ef_soa_cred *creds;       /* consumers accepted (copied) */
    size_t n_creds;                 /* <= EF_SOA_PEERS_MAX */
    ef_meo *meo;                    /* borrowed; must outlive the provider */
} ef_soa_provider_cfg;

typedef struct ef_soa_provider ef_soa_provider;

/* Starts serving. Errors: EF_EINVAL, EF_ETOOBIG (too many creds), EF_ENET
 * (cannot listen), EF_ENOMEM. */
int ef_soa_provider_start(ef_soa_provider **out, const ef_soa_provider_cfg *cfg) EF_MUST_USE;
/* Stops serving, tears down every service it deployed, frees. NULL ok. */
void ef_soa_provider_stop(ef_soa_provider *p);

/* ---- consumer ---- */

typedef struct ef_soa_peer {
    char name[EF_MEO_NAME_MAX];     /* the provider's name (informational, used in results) */
    uint32_t ip;                    /* its REST address, host order */
    uint16_t port;
    ef_soa_cred cred;               /* our id and key at this provider */
} ef_soa_peer;

typedef struct ef_soa_consumer_cfg {
    const char *netns;              /* requests leave from this namespace (NULL = here) */
    const ef_soa_peer *peers;       /* borrowed */
    size_t n_peers;                 /* 1 .. EF_SOA_PEERS_MAX */
    ef_meo *meo;                    /* the consumer's MEO driver, borrowed */
    uint32_t timeout_ms;            /* per request; 0 = EF_SOA_TIMEOUT_MS */
    uint32_t check_timeout_ms;      /* app-to-app check; 0 = 10000 */
} ef_soa_consumer_cfg;

/* One federation's outcome and step times (microseconds). */
typedef struct ef_soa_result {
    char provider[EF_MEO_NAME_MAX]; /* the winner */
    size_t winner;                  /* its index in peers */
    uint64_t price;                 /* its price per hour */
    size_t offers;                  /* answers received */
    uint64_t offers_us;             /* announce -> offers (endpoint prepared, all quotes back) */
    uint64_t award_us;              /* choosing the winner */
    uint64_t deploy_us;             /* POST /deploy until the provider's confirmation */
    uint64_t connect_us;            /* consumer's tunnel + app-to-app traffic */
    uint64_t total_us;              /* announce -> app-to-app traffic */
    ef_meo_ep cons_ep, prov_ep;
} ef_soa_result;

/* Runs one federation for service_id (kind: the app kind). On 0, the service is
 * up (release it with ef_soa_release). On failure whatever was set up (here and
 * at the winner) is torn down. Errors: EF_EINVAL; EF_ENOTFOUND no offer came
 * back; EF_EAUTH a provider's answer failed authentication; EF_ENET /
 * EF_ETIMEOUT; EF_EPROTO bad answer; the MEO driver's errors. */
int ef_soa_federate(const ef_soa_consumer_cfg *cfg, const char *service_id, const char *kind,
                    ef_soa_result *res) EF_MUST_USE;

/* Tears the service down at the provider (POST /teardown to peers[winner]) and
 * here. 0, or the first error (both sides are attempted). */
int ef_soa_release(const ef_soa_consumer_cfg *cfg, size_t winner, const char *service_id);

/* Sends one authenticated request (the building block; exposed for tests and
 * tools). On 0, *status and body (NUL-terminated, at most EF_SOA_BODY_MAX-1
 * bytes, into the caller's buffer of EF_SOA_BODY_MAX) hold the answer, whose
 * authentication was verified when status < 400. EF_EAUTH if a 2xx/3xx answer
 * is not authenticated by the peer's key. */
int ef_soa_call(const ef_soa_peer *peer, const char *netns, const char *method, const char *path,
                const char *body, uint32_t timeout_ms, int *status, char out[EF_SOA_BODY_MAX]) EF_MUST_USE;

/* ---- credentials files ---- */

/* Reads a provider's credentials file: lines "CLIENT_ID HEXKEY" (64 hex digits),
 * '#' comments and blank lines ignored. Fills up to cap entries. Returns the
 * count (>= 0) or EF_EIO / EF_EINVAL (with the line logged) / EF_ETOOBIG. */
int ef_soa_read_creds(const char *path, ef_soa_cred *creds, size_t cap);
/* Reads a consumer's registry: lines "PROVIDER_NAME A.B.C.D:PORT CLIENT_ID HEXKEY".
 * Same rules and returns. */
int ef_soa_read_registry(const char *path, ef_soa_peer *peers, size_t cap);

#endif
