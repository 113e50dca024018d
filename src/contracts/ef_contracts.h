/* ef_contracts.h: the table of built-in contracts, handed to the store (and so to
 * the executor) by whoever opens it: the node's caller, the chain tool, tests.
 * To add a contract: write its .c/.h pair under src/contracts/ and add one line
 * to the table in ef_contracts.c; the ledger is not touched. */
#ifndef EF_CONTRACTS_H
#define EF_CONTRACTS_H

#include <stddef.h>

#include "ledger/ef_ctx.h"

extern const ef_contract *const ef_contracts_builtin[];
extern const size_t ef_contracts_builtin_len;

/* The table as designated initialisers of an ef_store_opts or ef_node_config:
 * &(ef_store_opts){EF_CONTRACTS_BUILTIN, .no_sync = true} */
#define EF_CONTRACTS_BUILTIN .contracts = ef_contracts_builtin, .contracts_len = ef_contracts_builtin_len

#endif
