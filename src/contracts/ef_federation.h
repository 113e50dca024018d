/* ef_federation.h: the federation contract: MEC service federation by reverse auction.
 *
 * The workflow of seed 001 (a consumer MEC system needs a service extension; the
 * providers bid; the cheapest wins, deploys and connects), with every decision that
 * matters taken by the contract, so that no party has to trust another or a broker:
 *
 *   register ─ announce ─► OPEN ──bid×k──► AWARDED ──confirm_deployment──► DEPLOYED
 *                           │  └─close after deadline, ≥1 bid─┘  │            │
 *                           └─close after deadline, no bid─► EXPIRED         │
 *                                         cancel (deploy window over)─► CANCELLED
 *                                         terminate (either side) ─► TERMINATED
 *        DEPLOYED ──confirm_connectivity──► CONNECTED (payment) ──terminate──► TERMINATED
 *
 * Operators. An operator is an account the registry knows (any role) that has also
 * registered here with a name and a location (the location is what a provider's
 * tariff depends on). Only registered operators announce and bid.
 *
 * Announce. The consumer gives the service requirements, its endpoint (underlay
 * address, VXLAN VNI, UDP port, overlay subnet), the number of offers k it waits
 * for, a bidding window and a deployment window (ms of block time), the maximum
 * price per hour and a deposit (>= max price) that the bank locks in escrow.
 *
 * Bid. A registered operator other than the consumer bids once (EF_EDUP after), with
 * a price per hour <= max price (EF_EPRICE) and its endpoint, while the service is
 * OPEN (EF_ESTATE) and the block time is before the deadline (EF_ELATE).
 *
 * Award. Decided by the contract, never by the consumer: in the transaction that
 * brings the k-th bid, or by `close` (anyone may call it once block time >= deadline;
 * EF_EAGAIN before) with whatever arrived. The winner is the lowest price; a tie
 * goes to the earliest bid (the bid's position in the chain's order), so every node
 * picks the same winner. No bid by the deadline: `close` expires the service and
 * the whole deposit returns to the consumer.
 *
 * Deployment. Only the winner confirms deployment (EF_EPERM otherwise), with the
 * endpoint it deployed, before award time + deploy window (EF_ELATE after). If that
 * window passes without confirmation the consumer may `cancel`, which refunds the
 * whole deposit (EF_EAGAIN while the window is still running).
 *
 * Connectivity and payment. Only the consumer confirms connectivity (app-to-app
 * traffic flows). That releases payment from escrow: the winning price, which is
 * the price of the first hour, to the provider, and the rest of the deposit back to
 * the consumer, in the same transaction. Later hours are outside this contract (a
 * payment channel or a new announcement pays them).
 *
 * Terminate. Either side (consumer or winner) may terminate an AWARDED, DEPLOYED or
 * CONNECTED service. Before connectivity was confirmed nothing was paid, so the
 * deposit returns in full to the consumer; after it, the payment already made stays
 * paid. (A consumer could thus refuse to confirm a working deployment and terminate;
 * the provider's loss is bounded by one deployment, and the refusal is on the
 * ledger for everyone to see: reputation, not escrow, answers that case.)
 *
 * Bids are public. Every bid (price, endpoint) is readable by anyone as soon as it
 * is committed, as on the paper's public ledger. Sealing them would need either a
 * commit-reveal round (one more transaction and at least one more block per bidder,
 * roughly doubling negotiation time, plus rules for bidders that never reveal) or
 * encryption to a key the contract cannot hold (then the contract could not decide
 * the award). What public bids give away is limited: the auction is a reverse
 * first-price one with ties to the earliest bid, so seeing the others' prices lets a
 * provider only undercut them, which lowers the consumer's price; and in a
 * permissioned ledger every validator sees every argument anyway.
 *
 * Every successful step emits an event; every wrong call fails with the code given
 * below and changes nothing (the executor discards a failed call's writes).
 *
 * Methods (JSON args; PUB = 64 hex digits; ENDPOINT = {"address": STR<=64 (underlay
 * address), "port": 1..65535 (VXLAN UDP port), and optionally "vni": 1..16777215,
 * "subnet": STR<=64 (overlay subnet, CIDR), "overlay_ip": STR<=64 (this side's
 * overlay address), "app_port": 1..65535 (the deployed app's port)}; strings only
 * of [A-Za-z0-9.:/_-], since orchestrators put them on command lines):
 *   register  {"name": STR<=64, "location": STR<=32}
 *       EF_EPERM sender unknown to the registry; EF_EEXIST already registered.
 *   announce  {"requirements": {"service": STR<=64, "instance": STR<=31?, "cpu_milli": N?,
 *              "mem_mb": N?},  (instance: the name the consumer gives this service
 *              instance; the provider deploys it under that name, so the consumer's
 *              app-to-app check can tell it reached this instance and no other)
 *              "endpoint": ENDPOINT (vni and subnet required), "offers": 1..EF_FED_BIDS_MAX,
 *              "bid_window_ms": 1..EF_FED_WINDOW_MAX_MS, "deploy_window_ms": 1..EF_FED_WINDOW_MAX_MS,
 *              "max_price": 1.., "deposit": >= max_price}
 *       EF_EPERM not an operator; EF_EINVAL deposit < max_price or bad ranges;
 *       EF_EFUNDS deposit over the balance. Event "announced".
 *   bid       {"id": N, "price": 1..max_price, "endpoint": ENDPOINT}
 *       EF_ENOTFOUND; EF_EPERM not an operator or the consumer itself; EF_ESTATE not
 *       OPEN; EF_ELATE deadline passed; EF_EDUP second bid; EF_EPRICE price > max.
 *       Event "bid", and "awarded" if it is the k-th.
 *   close     {"id": N}   anyone
 *       EF_ENOTFOUND; EF_ESTATE not OPEN; EF_EAGAIN deadline not reached.
 *       Event "awarded" or "expired" (deposit refunded).
 *   confirm_deployment {"id": N, "endpoint": ENDPOINT}
 *       EF_EPERM not the winner; EF_ESTATE not AWARDED; EF_ELATE window over. Event "deployed".
 *   confirm_connectivity {"id": N}
 *       EF_EPERM not the consumer; EF_ESTATE not DEPLOYED. Event "connected" (with
 *       "paid" and "refunded").
 *   cancel    {"id": N}
 *       EF_EPERM not the consumer; EF_ESTATE not AWARDED; EF_EAGAIN window still
 *       running. Event "cancelled" (deposit refunded).
 *   terminate {"id": N, "reason": STR<=128 (optional)}
 *       EF_EPERM neither consumer nor winner; EF_ESTATE not AWARDED, DEPLOYED or
 *       CONNECTED. Event "terminated" (with "refunded").
 * Any method: EF_EARGS for a missing, mistyped or unknown field.
 *
 * Events (name: data object; every one carries "id" except operator_registered):
 *   operator_registered {"operator", "name", "location"}
 *   announced  {"id", "consumer", "requirements", "endpoint", "offers", "max_price",
 *               "deposit", "deadline_ms", "deploy_window_ms"}
 *   bid        {"id", "provider", "price", "endpoint", "bids"}      (bids = count so far)
 *   awarded    {"id", "consumer", "winner", "price", "endpoint" (the winner's bid
 *               endpoint), "consumer_endpoint", "requirements", "bids", "deploy_deadline_ms"}
 *   expired    {"id", "consumer", "refunded"}
 *   deployed   {"id", "consumer", "provider", "endpoint" (deployed endpoint)}
 *   connected  {"id", "consumer", "provider", "paid", "refunded"}
 *   cancelled  {"id", "consumer", "refunded"}
 *   terminated {"id", "by", "state_before", "refunded", "reason"}
 *
 * State (the contract's namespace; values are compact JSON with sorted keys):
 *   "op/" PUBHEX                 operator record {"operator","name","location","height"}
 *   "svc/" ID16                  service record (fields as in the query below)
 *   "st/" STATE "/" ID16         "" (index of services by state)
 *   "idx/" PUBHEX "/" ID16       "consumer" | "bidder" (an operator's services)
 *   "next_id"                    u64 little-endian: next service id (ids start at 1)
 * ID16 is the id as 16 lower-case hex digits, so key order is id order.
 *
 * Queries (GET /state/federation/...):
 *   service/{id}                 the service record: id, state, consumer,
 *       requirements, endpoint, offers, max_price, deposit, escrow, announced_ms,
 *       deadline_ms, deploy_window_ms, bids [{provider, price, endpoint, time_ms,
 *       height}], and once reached: winner, price, provider_endpoint, awarded_ms,
 *       deploy_deadline_ms, deployed_endpoint, deployed_ms, connected_ms, paid,
 *       refunded, ended_ms, ended_by, reason.
 *   services                     the newest EF_FED_QUERY_MAX records (summaries)
 *   services?state=S  or services/S   the same, only state S (open, awarded,
 *       deployed, connected, expired, cancelled, terminated)
 *   operator/{pub}               the operator record plus "services": [{id, role}]
 *   operators                    every operator record (at most EF_FED_QUERY_MAX)
 */
#ifndef EF_FEDERATION_H
#define EF_FEDERATION_H

#include "ledger/ef_ctx.h"

#define EF_FED_BIDS_MAX 64                  /* bids per service, so also max offers k */
#define EF_FED_WINDOW_MAX_MS (24ull * 3600 * 1000)
#define EF_FED_QUERY_MAX 200                /* records in one list query */
#define EF_FED_NAME_MAX 64
#define EF_FED_LOCATION_MAX 32
#define EF_FED_ADDR_MAX 64
#define EF_FED_SERVICE_MAX 64
#define EF_FED_REASON_MAX 128
#define EF_FED_INSTANCE_MAX 31
#define EF_FED_VNI_MAX 16777215u

/* Service states, as the strings in records, events and the query. */
typedef enum ef_fed_state {
    EF_FED_OPEN = 0,
    EF_FED_AWARDED,
    EF_FED_DEPLOYED,
    EF_FED_CONNECTED,
    EF_FED_EXPIRED,
    EF_FED_CANCELLED,
    EF_FED_TERMINATED,
    EF_FED_STATE_COUNT_
} ef_fed_state;

extern const ef_contract ef_federation_contract;

/* "open", "awarded", ...; never NULL ("?" for an out-of-range value). */
const char *ef_fed_state_name(ef_fed_state s);
/* The state named s, or -1. */
int ef_fed_state_parse(const char *s);

#endif
