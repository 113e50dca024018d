/* ef_sla.h: the sla contract: accountable just-in-time SLAs (AJIT, seed 003):
 * offers, activation with escrow, slice confirmation by the operator's
 * controller, per-epoch receipts, claims, penalties, disputes ruled by the
 * regulators, and cheating proofs against a bond.
 *
 * Parties. An operator is any account that posts a bond (post_bond) and makes
 * offers. Its controller (the JIT controller agent) may act for it with its own
 * key once the operator names it (set_controller): "operator side" below means
 * the operator's key or that controller key; money always goes to the operator.
 * (A controller key must be able to send: a registered account or one holding
 * money, see ef_bank.h.) A customer is any account that activates an offer. A
 * regulator is a registry account with role "regulator" in the validator set of
 * the current height. Monitors only sign receipts (base/ef_receipt.h): the
 * customer's monitor key is given at activation, the operator's edge monitor key
 * at confirmation; both are fixed for the SLA's life.
 *
 * Lifecycle of an SLA (ids from a counter, never reused):
 *   activate ─► PENDING ─confirm (operator side, height <= deadline)─► ACTIVE
 *                  │ fail (operator side) or expire (anyone, height > deadline)
 *                  └─► NULLIFIED (whole escrow back to the customer)
 *   ACTIVE: epoch i covers block time [start_ms + i*epoch_ms, start_ms +
 *   (i+1)*epoch_ms), start_ms = time of the confirming block, end_ms = start_ms
 *   + epochs*epoch_ms. Each epoch is settled once, by the first of:
 *     claim (operator side, a receipt signed by the customer's monitor) ► paid
 *     submit_operator_receipt (operator side, edge monitor's receipt) ► proposed;
 *       then within dispute_window_blocks of that block the customer may
 *       contradict with its monitor's receipt: same verdict ► paid; other
 *       verdict ► contested ► rule (regulators, majority) ► ruled;
 *       a proposed epoch not contradicted in the window is paid by the
 *       operator's receipt at close
 *     report_double against the customer's monitor ► forfeit (paid in full)
 *   close (anyone, block time >= end_ms + claim_window_ms, no epoch contested
 *   and no dispute window open) ─► CLOSED: every unclaimed epoch refunded.
 * Receipts for epoch i are accepted once block time >= the epoch's end (else
 * EF_EAGAIN) and until end_ms + claim_window_ms (else EF_ELATE).
 *
 * Payout of a settled epoch with verdict V: penalty = price * min(1e6, sum of
 * penalty ppm of the rules breached in V) / 1e6 (rounded down) goes back to the
 * customer, price - penalty to the operator. A forfeit epoch pays price to the
 * operator. price * epochs is locked at activation (bank escrow owned by this
 * contract), so for every SLA: escrow = paid to operator + refunded + left, and
 * the bank's supply invariant holds.
 *
 * Bond: post_bond locks operator money in one bank escrow per operator. Each
 * activation reserves the offer's cheat_penalty of it for the SLA (EF_EFUNDS if
 * the unreserved bond is smaller), released at close or nullification. Proof
 * that the edge monitor signed two different receipts for one epoch pays the
 * SLA's reservation (once per SLA) to the customer. withdraw_bond takes back
 * unreserved bond only.
 *
 * Cheating proof (report_double, anyone): two receipts of one chain, SLA and
 * epoch, signed by the same monitor of that SLA, both signatures valid, saying
 * different things. Recorded once per (SLA, epoch, signer) (EF_ERECORDED after).
 * Against the customer's monitor: an unsettled epoch is forfeit (penalty 0 if
 * already settled). Against the edge monitor: the bond reservation as above.
 *
 * Rulings: each regulator has one vote per contested epoch, a verdict 0..7; it
 * may move its vote to another verdict (so a split can be resolved), the same
 * verdict again is EF_EDUP. The first verdict with votes * 2 > number of
 * regulators (in the set at the voting height) settles the epoch with it.
 *
 * Names: AREA = array of 1..EF_SLA_AREA_MAX attachment-point names; a NAME is
 * 1..EF_SLA_NAME_MAX chars of [A-Za-z0-9._:-] (ap, dst, slice, link ids).
 * PUB = 64 hex digits. RECEIPT = hex of an encoded receipt (base/ef_receipt.h).
 * All numbers are JSON integers; unknown fields are EF_EARGS.
 *
 * Methods (JSON args):
 *   post_bond      {"amount": N>=1}                      sender = operator.
 *                  Event bond {operator, amount, bond, reserved}.
 *   withdraw_bond  {"amount": N>=1}  EF_EFUNDS over unreserved; EF_ENOTFOUND no
 *                  bond. Event bond_withdrawn {operator, amount, bond, reserved}.
 *   set_controller {"controller": PUB}  operator (must have a bond, EF_ENOTFOUND);
 *                  EF_EINVAL controller = operator. Event controller_set
 *                  {operator, controller}.
 *   offer    {"area": AREA, "rules": {"min_kbps": 1.., "max_latency_us": 1..,
 *             "max_loss_ppm": 0..1000000}, "price": 1.. (per epoch),
 *             "epoch_ms": 1..EF_SLA_EPOCH_MS_MAX, "max_epochs":
 *             1..EF_SLA_EPOCHS_MAX, "penalty": {"min_kbps": PPM,
 *             "max_latency_us": PPM, "max_loss_ppm": PPM} (0..1000000 each),
 *             "cheat_penalty": 0.., "confirm_blocks": 1..EF_SLA_WINDOW_MAX,
 *             "claim_window_ms": 1..EF_SLA_CLAIM_MS_MAX,
 *             "dispute_window_blocks": 1..EF_SLA_WINDOW_MAX}
 *             every field required (parse: ef_sla_offer_parse). EF_ENOTFOUND no
 *             bond, EF_EFUNDS bond < cheat_penalty, EF_EOVERFLOW price *
 *             max_epochs > INT64_MAX. Event offered {offer, operator, area, rules,
 *             price, epoch_ms, max_epochs, penalty, cheat_penalty, confirm_blocks,
 *             claim_window_ms, dispute_window_blocks}.
 *   withdraw {"offer": ID}  operator; EF_ESTATE if withdrawn. Live SLAs of it run
 *             on. Event withdrawn {offer, operator}.
 *   activate {"offer": ID, "epochs": 1..max_epochs, "ap": NAME, "dst": NAME,
 *             "monitor": PUB}  sender = customer (not the operator: EF_EPERM);
 *             EF_ESTATE offer withdrawn, EF_EAREA ap not in the area, EF_EINVAL
 *             epochs over max_epochs, EF_EFUNDS customer short of price * epochs
 *             or operator's unreserved bond short of cheat_penalty.
 *             Event activated {sla, offer, operator, customer, ap, dst, epochs,
 *             rules, penalty, price, epoch_ms, monitor, escrow (amount),
 *             deadline_height (= height + confirm_blocks)}.
 *   confirm  {"sla": ID, "slice": NAME, "path": [NAME, 1..EF_SLA_PATH_MAX],
 *             "edge_monitor": PUB}  operator side; EF_ESTATE not pending,
 *             EF_ELATE height > deadline_height. Event confirmed {sla, operator,
 *             customer, slice, path, edge_monitor, start_ms, end_ms,
 *             epoch_ms, epochs}.
 *   fail     {"sla": ID, "reason": STR (1..EF_SLA_REASON_MAX printable ASCII)}
 *             operator side; EF_ESTATE not pending. Event nullified {sla,
 *             operator, customer, reason, refunded}.
 *   expire   {"sla": ID}  anyone; EF_ESTATE not pending, EF_EAGAIN height <=
 *             deadline_height. Event nullified (reason "expired").
 *   claim    {"sla": ID, "receipts": [RECEIPT, 1..EF_SLA_CLAIM_MAX]} operator
 *             side; all or nothing. Per receipt: EF_EARGS not a receipt,
 *             EF_EPROTO/EF_ENONCANON bad encoding, EF_ECHAIN other chain,
 *             EF_EOTHERSLA other SLA, EF_EEPOCH epoch >= epochs, EF_ESIGNER not
 *             the customer's monitor, EF_EBADSIG bad signature, EF_EVERDICT
 *             verdict byte not the rule's, EF_EAGAIN epoch not over, EF_ELATE
 *             claim window over, EF_EDUP epoch already settled or twice in the
 *             call, EF_ESTATE epoch contested. SLA not active: EF_ESTATE.
 *             Event paid {sla, by: "customer_receipt", epochs: [..], verdicts:
 *             [..], to_operator, to_customer}.
 *   submit_operator_receipt {"sla": ID, "receipts": [RECEIPT, 1..EF_SLA_CLAIM_MAX]}
 *             operator side; receipts by the edge monitor (else EF_ESIGNER);
 *             the other checks as claim; EF_EDUP an epoch not open. Event
 *             proposed {sla, epochs, verdicts, contradict_until (last height a
 *             contradiction is accepted)}.
 *   contradict {"sla": ID, "receipt": RECEIPT}  customer; receipt by its
 *             monitor; EF_ESTATE epoch not proposed (open or contested),
 *             EF_EDUP settled, EF_ELATE after contradict_until. Same verdict as
 *             the operator's: event paid (by "customer_receipt"); else event
 *             disputed {sla, epoch, operator_verdict, customer_verdict}.
 *   rule     {"sla": ID, "epoch": E, "verdict": 0..7}  regulator (else
 *             EF_EPERM); EF_ESTATE epoch not contested, EF_EDUP same vote again,
 *             EF_EEPOCH epoch out of range. Event rule_vote {sla, epoch,
 *             regulator, verdict, votes, regulators}; on majority also ruled
 *             {sla, epoch, verdict, votes, regulators, to_operator, to_customer}.
 *   report_double {"a": RECEIPT, "b": RECEIPT}  anyone; EF_ENOTDOUBLE (not of
 *             one SLA/epoch/signer, or the same message), EF_ESIGNER signer not a
 *             monitor of the SLA, EF_EBADSIG, EF_ECHAIN, EF_ENOTFOUND no SLA,
 *             EF_ESTATE SLA not active or closed, EF_ERECORDED already proven.
 *             Event cheat {sla, epoch, monitor, side: "customer"|"operator",
 *             penalty, to}; a forfeit also emits paid {by: "forfeit"}.
 *   topology {"nodes": [NODE, 1..EF_SLA_TOPO_NODES_MAX], "operator"?: PUB}
 *             the operator's tree (replaces the one before); sender = operator
 *             side of "operator" (default the sender; EF_EPERM), which must have
 *             a bond (EF_ENOTFOUND). NODE = {"name": 1..EF_SLA_TOPO_NAME_MAX of
 *             [A-Za-z0-9._:] (no '-'), "layer": "core"|"aggregation"|"edge"|
 *             "customer"|"server", "parent": NAME, "kbps": 1..EF_SLA_TOPO_KBPS_MAX,
 *             "latency_us": 0..EF_SLA_TOPO_LAT_MAX} (the uplink to the parent);
 *             the first node is the root (core, no parent, kbps or latency_us).
 *             EF_EARGS malformed or unknown field; EF_ETOPO not a tree of the
 *             rules of agents/ef_slice.h (name twice, parent not named before,
 *             a second root, a layer going up, a child under a customer or
 *             server). Stored as the canonical encoding (base/ef_cjson.h) of
 *             {height, nodes} with every node's fields as above. Event topology
 *             {operator, nodes (count), height}.
 *   close    {"sla": ID}  anyone; EF_ESTATE not active or an epoch contested,
 *             EF_EAGAIN before end_ms + claim_window_ms or while a dispute window
 *             is open. Pays proposed epochs by the operator's receipt (event
 *             paid {by: "operator_receipt"}), refunds the open ones (event paid
 *             {by: "refund"}, all to_customer), releases the bond reservation.
 *             Event closed
 *             {sla, operator, customer, paid_total, refunded_total, refunded_epochs}.
 * Errors common to all: EF_EARGS malformed args, EF_ENOTFOUND no such offer/SLA,
 * EF_EPERM wrong party.
 *
 * Queries (GET /state/sla/...):
 *   offer/{ID}, offers (open offers, first EF_SLA_QUERY_MAX by id),
 *   sla/{ID} (below), slas (SLAs not yet closed or nullified, first
 *   EF_SLA_QUERY_MAX), all (every SLA, newest EF_SLA_QUERY_MAX, without epochs),
 *   operator/{PUB}, customer/{PUB} (their SLAs), bond/{PUB} {operator, bond,
 *   reserved, controller?}, topology/{PUB} {operator, height (published at),
 *   nodes: [NODE], links: [{name "PARENT-CHILD", parent, child, kbps, latency_us,
 *   reserved_kbps, slas: [ID]}]}: per link the min_kbps of the operator's active
 *   SLAs (confirm made them active with their slice and path) whose confirmed
 *   path names the link, over the operator's newest EF_SLA_QUERY_MAX SLAs;
 *   EF_ENOTFOUND nothing published. epoch/{SLA}/{E} {sla, epoch, status, verdict,
 *   operator_verdict?, customer_verdict?, contradict_until?, votes: {V: n}}.
 *   SLA JSON: {sla, offer, operator, customer, ap, dst, epochs, epoch_ms, price,
 *   rules, penalty, bond_reserved (what is left of the cheat penalty held
 *   for it), monitor, state ("pending"|"active"|
 *   "nullified"|"closed"), activated (height), deadline_height, slice?, path?,
 *   edge_monitor?, start_ms?, end_ms?, claim_until_ms?, escrow (amount), paid
 *   (to operator), refunded, left, reason?, epoch_status: [one per epoch:
 *   "open"|"paid"|"breached"|"proposed"|"disputed"|"ruled"|"forfeit"|"refunded"]
 *   ("breached": paid with a nonzero verdict), verdicts: [..]}.
 *
 * State (namespace "sla"): "N" u64 next offer id; "M" u64 next SLA id;
 *   "o" id8 offer record; "O" id8 "" open offer; "s" id8 SLA record (with one
 *   status and one verdict byte per epoch); "S" id8 "" SLA not closed/nullified;
 *   "e" sla8 epoch8 dispute record; "v" sla8 epoch8 pub32 vote; "x" sla8 epoch8
 *   pub32 cheat proof; "b" pub32 bond; "p" op32 sla8 ""; "q" cust32 sla8 ""; "t" op32 topology
 *   (ef_cjson.h bytes of {height, nodes}).
 */
#ifndef EF_SLA_H
#define EF_SLA_H

#include "base/ef_receipt.h"
#include "ledger/ef_ctx.h"

#define EF_SLA_AREA_MAX 16
#define EF_SLA_NAME_MAX 32
#define EF_SLA_PATH_MAX 32
#define EF_SLA_REASON_MAX 128
#define EF_SLA_EPOCHS_MAX 4096
#define EF_SLA_EPOCH_MS_MAX 86400000ull        /* one day */
#define EF_SLA_CLAIM_MS_MAX 2592000000ull      /* thirty days */
#define EF_SLA_WINDOW_MAX 1000000ull           /* blocks */
#define EF_SLA_CLAIM_MAX 24                    /* receipts per call (args <= 16 KiB) */
#define EF_SLA_PPM 1000000u
#define EF_SLA_QUERY_MAX 1000
#define EF_SLA_TOPO_NODES_MAX 128              /* nodes of a topology (args <= 16 KiB) */
#define EF_SLA_TOPO_NAME_MAX 15                /* so PARENT-CHILD is a NAME (as ef_slice.h) */
#define EF_SLA_TOPO_KBPS_MAX 100000000ull      /* 100 Gbit/s per link */
#define EF_SLA_TOPO_LAT_MAX 10000000ull        /* 10 s per link */

extern const ef_contract ef_sla_contract;

/* An offer as its args give it. */
typedef struct ef_sla_offer {
    char area[EF_SLA_AREA_MAX][EF_SLA_NAME_MAX + 1];
    size_t area_len;
    ef_sla_rules rules;
    uint32_t penalty_ppm[3];   /* min_kbps, max_latency_us, max_loss_ppm */
    uint64_t price, epoch_ms, max_epochs, cheat_penalty;
    uint64_t confirm_blocks, claim_window_ms, dispute_window_blocks;
} ef_sla_offer;

/* Parses the offer method's args into *out (zeroed on failure). Returns 0 or
 * EF_EARGS (missing, unknown or mistyped field, value out of range, bad name,
 * duplicate area entry) or EF_EOVERFLOW (price * max_epochs > INT64_MAX). */
EF_MUST_USE int ef_sla_offer_parse(const json_t *args, ef_sla_offer *out);
/* true if s is a NAME (1..EF_SLA_NAME_MAX of [A-Za-z0-9._:-]). */
bool ef_sla_name_ok(const char *s);
/* The operator's share of one epoch's price under verdict bits v. */
uint64_t ef_sla_payout(uint64_t price, const uint32_t penalty_ppm[3], uint8_t v);

#endif
