/* ef_market.h: the market contract: edge nodes (ENs) on the ledger, and the
 * matching of a device to an EN decided by the contract (seed 002).
 *
 * Roles. A company is a validator (registry role "validator"); an EN belongs to
 * the company that registered it, and only that company updates or retires it
 * (EF_EPERM for anyone else, EF_ENOTVAL for a sender that is not a validator).
 * A device is any account the registry knows (usually a member); unknown senders
 * get EF_EPERM.
 *
 * Geometry. Locations are integer coordinates 0..EF_MKT_COORD_MAX (e.g. metres);
 * distances are compared squared, in u64, so nothing on the ledger is a float.
 * The spatial index is a fixed grid of square cells of cell_m units (genesis
 * param, default EF_MKT_CELL_DEFAULT): cell (x / cell_m, y / cell_m); at most
 * cell_max ENs per cell (EF_EFULL beyond).
 *
 * Matching (method match). The caller gives its location, service type,
 * resources, maximum distance, maximum price and an expiry height; the contract,
 * never the caller, picks the EN: among active ENs offering the service, with
 * free cpu, memory and slots for the request, price <= max_price and squared
 * distance <= max_dist^2, the smallest squared distance, then the lowest price,
 * then the lowest EN id. The grid is searched in rings of cells around the
 * request's cell (ring r: the cells at Chebyshev cell distance r); a point in
 * ring r+1 is at least r*cell_m + 1 away, so the search stops after ring r as
 * soon as the best distance^2 <= (r*cell_m)^2, and never goes past ring
 * R = ceil(max_dist / cell_m), which must be <= ring_max (EF_EINVAL otherwise):
 * at most (2*ring_max+1)^2 cells of at most cell_max ENs each, whatever the
 * number of ENs. The result equals a brute-force search over all ENs
 * (tests/unit/test_market.c checks that). The capacity is reserved in the same
 * transaction. No EN fits: EF_ENOTFOUND and nothing is recorded. An optional
 * "en" in the request is the EN the caller expects (a proxy's recommendation):
 * if the rule picks another one the request fails with EF_EPERM, so a match that
 * does not follow the rule can never be recorded.
 *
 * The match record holds the request, the chosen EN (id, company, location,
 * price), the squared distance, the ENs scanned and the eligible candidates
 * among them, the rings and cells searched and the height: any company can
 * recompute it against the state at height - 1.
 *
 * Sessions. A match is active until the device or the EN's company calls end, or
 * until its expiry height: then its capacity returns to the EN. Expiries are
 * processed deterministically at the start of every market transaction, oldest
 * first, at most EF_MKT_EXPIRE_BATCH per transaction (the method expire, callable
 * by anyone, processes up to EF_MKT_EXPIRE_MAX); each emits "match_expired" on
 * the event stream.
 *
 * Methods (JSON args; SERVICES = array of 1..EF_MKT_SERVICES_MAX strings of
 * 1..EF_MKT_SERVICE_MAX chars [a-z0-9._-]; ENDPOINT = string <= EF_MKT_ENDPOINT_MAX
 * of URL characters):
 *   register {"x","y","cpu_milli","mem_mb","slots","services","price","endpoint"}
 *       company only. Event en_registered {en, company, x, y, cell}.
 *   update   {"en", and any of "x","y","cpu_milli","mem_mb","slots","services",
 *             "price","endpoint"}   owning company; capacity below what is in
 *       use: EF_ESTATE. Event en_updated.
 *   retire   {"en"}  owning company; leaves the index, live sessions run on.
 *       EF_ESTATE if already retired. Event en_retired.
 *   match    {"x","y","service","cpu_milli","mem_mb","slots" (>= 1),"max_dist",
 *             "max_price","expiry" (height, > current, <= current + ttl_max),
 *             "en"?}  Event matched (the match record's audit fields).
 *   end      {"match"}  the device or the EN's company; EF_ESTATE if not active.
 *       Event match_ended.
 *   expire   {}  anyone.
 *
 * Queries (GET /state/market/...):
 *   params, en/{ID}, ens (first EF_MKT_QUERY_MAX active ENs by id),
 *   company/{PUB} (its ENs), cell/{CX}/{CY} (active ENs of that cell),
 *   match/{ID}, matches (newest EF_MKT_QUERY_MAX), device/{PUB} (its matches,
 *   newest first), stats/{PUB} (one company), stats (every company):
 *   {company, ens, matches_won, matches_active, cpu_milli, cpu_used, mem_mb,
 *    mem_used, slots, slots_used, utilisation_permille (slots used / slots)}.
 *
 * Genesis params ("market"): {"cell_m": 1.., "ring_max": 1..EF_MKT_RING_LIMIT,
 * "cell_max": 1..EF_MKT_CELL_LIMIT, "ttl_max": 1..}, each optional.
 */
#ifndef EF_MARKET_H
#define EF_MARKET_H

#include "ledger/ef_ctx.h"

#define EF_MKT_COORD_MAX 2147483647u        /* x, y <= 2^31 - 1: dx^2 + dy^2 < 2^63 */
#define EF_MKT_CELL_DEFAULT 1000
#define EF_MKT_RING_DEFAULT 16
#define EF_MKT_RING_LIMIT 64
#define EF_MKT_CELL_MAX_DEFAULT 256
#define EF_MKT_CELL_LIMIT 4096
#define EF_MKT_TTL_DEFAULT 100000
#define EF_MKT_SERVICES_MAX 8
#define EF_MKT_SERVICE_MAX 32
#define EF_MKT_ENDPOINT_MAX 128
#define EF_MKT_EXPIRE_BATCH 16
#define EF_MKT_EXPIRE_MAX 24
#define EF_MKT_QUERY_MAX 1000
#define EF_MKT_RES_MAX 1000000000ull          /* largest cpu, memory or slot amount */

extern const ef_contract ef_market_contract;

/* For the channel contract (a channel opened for a match pays for that session):
 * ef_market_session reads match `id` (its device and EN company, and whether it is
 * still active: EF_ENOTFOUND if there is no such match); ef_market_session_end
 * ends it if it is still active (capacity back to the EN, event match_ended with
 * "by" the transaction's sender; nothing if it already ended or expired). Either
 * may be called from any contract: they switch to the market's namespace. */
int ef_market_session(ef_ctx *ctx, uint64_t id, ef_pub *device, ef_pub *company, bool *active);
int ef_market_session_end(ef_ctx *ctx, uint64_t id);

/* A match request, as the method match takes it. */
typedef struct ef_mkt_req {
    uint32_t x, y;
    char service[EF_MKT_SERVICE_MAX + 1];
    uint64_t cpu_milli, mem_mb, slots;
    uint64_t max_dist, max_price, expiry;
    uint64_t en;          /* 0: none expected */
} ef_mkt_req;

/* Parses and range-checks a match request's args (no state needed). Returns 0
 * or EF_EARGS (missing, mistyped, unknown field or a value out of range). */
int ef_mkt_req_parse(const json_t *args, ef_mkt_req *out);
/* Squared distance between two points (no overflow for coordinates in range). */
uint64_t ef_mkt_dist2(uint32_t ax, uint32_t ay, uint32_t bx, uint32_t by);
/* The last ring that can hold a point within max_dist of any point of a cell
 * of side cell_m: ceil(max_dist / cell_m). */
uint64_t ef_mkt_rings(uint64_t max_dist, uint64_t cell_m);

#endif
