/* ef_genesis.h: the genesis file: what a chain starts with.
 *
 * A JSON object (read with jansson; integers only):
 *
 *   {
 *     "chain_id":   "edgefed-local",          chain id (ef_tx.h charset), required
 *     "time_ms":    0,                        block 0 time, optional (default 0)
 *     "validators": [                         1..EF_VSET_MAX, required
 *       {"pub": HEX64, "domain": "mec-a", "power": 1, "role": "validator"}
 *     ],                                      power optional (1); role optional,
 *                                             "validator" or "regulator"
 *     "members":    [{"pub": HEX64, "domain": "mec-a", "name": "ue-1"}],  optional
 *     "balances":   {HEX64: AMOUNT, ...},     optional
 *     "params":     {"<contract>": {...}}     optional, per contract
 *   }
 *
 * At genesis each contract's genesis function gets params["<contract>"] (or
 * NULL), plus the top-level fields its ef_contract lists in genesis_fields (the
 * registry takes "validators" and "members", the bank "balances", so those
 * contracts own that data).
 * Unknown top-level fields are rejected (EF_ECONFIG), and so is a document that
 * has no canonical encoding (base/ef_cjson.h: a real number anywhere, invalid
 * UTF-8, nesting over EF_CJ_DEPTH_MAX), since the store identifies a genesis by
 * the hash of that encoding.
 */
#ifndef EF_GENESIS_H
#define EF_GENESIS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ef_vset.h"

typedef struct ef_genesis {
    char chain_id[32 + 1];  /* EF_CHAIN_ID_MAX */
    uint64_t time_ms;
    ef_vset vset;            /* from "validators" */
    json_t *doc;             /* the whole document (owned) */
} ef_genesis;

/* Parses and checks a genesis document. Returns 0 or EF_ECONFIG (with a reason
 * in err, if err is not NULL, up to err_len bytes). On success free with
 * ef_genesis_free. */
int ef_genesis_parse(ef_genesis *g, const char *text, size_t len, char *err, size_t err_len);
/* As ef_genesis_parse on the file at path; EF_EIO if unreadable. */
int ef_genesis_load(ef_genesis *g, const char *path, char *err, size_t err_len);
void ef_genesis_free(ef_genesis *g);
/* The params object to hand to contract `name`: params["<name>"] plus the listed
 * top-level fields (NULL-terminated, may be NULL). New reference, or NULL. */
json_t *ef_genesis_params(const ef_genesis *g, const char *name, const char *const *fields);

#endif
