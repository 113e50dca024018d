/* ef_sla_int.h: the sla contract's records and their storage, shared by its
 * methods (ef_sla.c), records (ef_sla_rec.c) and queries (ef_sla_query.c). Not a
 * public interface: see ef_sla.h.
 *
 * Records (values in the canonical codec, ef_codec.h; ids in keys big-endian):
 *   offer  "o" id8: u64 id, raw32 operator, u8 withdrawn, u64 height, u32 area_len,
 *          area_len str, u64 min_kbps, u64 max_latency_us, u32 max_loss_ppm,
 *          3 u32 penalty ppm, u64 price, epoch_ms, max_epochs, cheat_penalty,
 *          confirm_blocks, claim_window_ms, dispute_window_blocks
 *   SLA    "s" id8: u64 id, offer, raw32 operator, customer, monitor,
 *          edge_monitor, str ap, dst, slice, reason, u32 path_len, path_len str,
 *          rules and penalty as the offer, u64 price, epoch_ms, epochs,
 *          reserved (bond held for it), claim_window_ms, dispute_window_blocks,
 *          u8 state, u64 activated, deadline_height, start_ms, end_ms, escrow_id,
 *          escrow, paid, refunded, bytes status[epochs], bytes verdict[epochs]
 *   bond   "b" pub32: u64 escrow_id, bond, reserved, u8 has_controller, raw32 controller
 *   topology "t" op32: ef_cjson.h encoding of {height, nodes} (ef_sla_topo.c)
 *   dispute "e" sla8 epoch8: u8 operator_verdict, u8 customer_verdict,
 *          u64 contradict_until, 8 u32 votes (per verdict value)
 */
#ifndef EF_SLA_INT_H
#define EF_SLA_INT_H

#include "base/ef_codec.h"
#include "contracts/ef_sla.h"

enum { EF_SLA_PENDING = 1, EF_SLA_ACTIVE = 2, EF_SLA_NULLIFIED = 3, EF_SLA_CLOSED = 4 };

/* Per-epoch status byte. */
enum {
    EF_EP_OPEN = 0,       /* nothing yet */
    EF_EP_PAID = 1,       /* by the customer's monitor's receipt */
    EF_EP_PROPOSED = 2,   /* operator's receipt, contradiction window */
    EF_EP_CONTESTED = 3,  /* receipts disagree: the regulators rule */
    EF_EP_RULED = 4,      /* settled by the regulators */
    EF_EP_FORFEIT = 5,    /* the customer's monitor double-signed: paid in full */
    EF_EP_REFUNDED = 6,   /* unclaimed at close */
    EF_EP_PAID_OP = 7,    /* paid by the operator's receipt, not contradicted */
};

typedef struct ef_sla_offer_rec {
    uint64_t id;
    ef_pub op;
    uint8_t withdrawn;
    uint64_t height;
    ef_sla_offer o;
} ef_sla_offer_rec;

typedef struct ef_sla_rec {
    uint64_t id, offer;
    ef_pub op, cust, monitor, edge;
    char ap[EF_SLA_NAME_MAX + 1], dst[EF_SLA_NAME_MAX + 1], slice[EF_SLA_NAME_MAX + 1];
    char reason[EF_SLA_REASON_MAX + 1];
    char path[EF_SLA_PATH_MAX][EF_SLA_NAME_MAX + 1];
    uint32_t path_len;
    ef_sla_rules rules;
    uint32_t penalty_ppm[3];
    uint64_t price, epoch_ms, epochs, reserved, claim_window_ms, dispute_window_blocks;
    uint8_t state;
    uint64_t activated, deadline_height, start_ms, end_ms, escrow_id, escrow, paid, refunded;
    uint8_t st[EF_SLA_EPOCHS_MAX];
    uint8_t vd[EF_SLA_EPOCHS_MAX];
} ef_sla_rec;

typedef struct ef_sla_bond {
    uint64_t escrow_id, bond, reserved;
    uint8_t has_controller;
    ef_pub controller;
} ef_sla_bond;

typedef struct ef_sla_dispute {
    uint8_t op_verdict, cust_verdict;
    uint64_t contradict_until;
    uint32_t votes[8];
} ef_sla_dispute;

/* Storage: get returns 0, EF_ENOTFOUND, or EF_EDB (bad record); put the
 * ef_ctx_put errors. */
int ef_sla_offer_get(ef_ctx *ctx, uint64_t id, ef_sla_offer_rec *r);
int ef_sla_offer_put(ef_ctx *ctx, const ef_sla_offer_rec *r);
int ef_sla_get(ef_ctx *ctx, uint64_t id, ef_sla_rec *r);
/* Also keeps the "S" (live) index in step with r->state. */
int ef_sla_put(ef_ctx *ctx, const ef_sla_rec *r);
int ef_sla_bond_get(ef_ctx *ctx, const ef_pub *op, ef_sla_bond *b);
int ef_sla_bond_put(ef_ctx *ctx, const ef_pub *op, const ef_sla_bond *b);
int ef_sla_dispute_get(ef_ctx *ctx, uint64_t sla, uint64_t epoch, ef_sla_dispute *d);
int ef_sla_dispute_put(ef_ctx *ctx, uint64_t sla, uint64_t epoch, const ef_sla_dispute *d);
/* A counter ("N" offers, "M" SLAs): the next id (from 1), advanced. */
int ef_sla_next_id(ef_ctx *ctx, const char *key, uint64_t *id);
/* Key helpers: prefix byte, then the parts. */
size_t ef_sla_key_id(uint8_t *k, char pre, uint64_t id);
size_t ef_sla_key_ep(uint8_t *k, char pre, uint64_t sla, uint64_t epoch, const ef_pub *pub);
size_t ef_sla_key_pub_id(uint8_t *k, char pre, const ef_pub *pub, uint64_t id);

/* Topologies (ef_sla_topo.c). parse: the method's "nodes" (borrowed) checked
 * and rebuilt with only the known fields into *out (new reference); 0,
 * EF_EARGS, EF_ETOPO, EF_ENOMEM. put: stores {height, nodes} canonically
 * under "t" op32. query: topology/{PUB} (ef_sla.h). */
int ef_sla_topo_parse(const json_t *nodes, json_t **out);
int ef_sla_topo_put(ef_ctx *ctx, const ef_pub *op, const json_t *nodes);
int ef_sla_q_topology(ef_ctx *ctx, const char *p, json_t **out);

/* The contract's query (ef_contract.query; ef_sla_query.c). */
int ef_sla_query(ef_ctx *ctx, const char *path, json_t **out);

/* JSON views (new references, NULL on ENOMEM). */
json_t *ef_sla_pub_json(const ef_pub *p);
json_t *ef_sla_rules_json(const ef_sla_rules *r);
json_t *ef_sla_penalty_json(const uint32_t ppm[3]);
json_t *ef_sla_offer_json(const ef_sla_offer_rec *r);
json_t *ef_sla_json(const ef_sla_rec *r, bool with_epochs);
const char *ef_sla_state_name(uint8_t state);
const char *ef_sla_epoch_name(uint8_t status, uint8_t verdict);

#endif
