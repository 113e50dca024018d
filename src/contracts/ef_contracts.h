/* ef_contracts.h: the list of built-in contracts the executor dispatches to by name.
 * To add a contract: declare its ef_contract in its own header and add one line to
 * the table in ef_contracts.c. */
#ifndef EF_CONTRACTS_H
#define EF_CONTRACTS_H

#include <stddef.h>

#include "ledger/ef_ctx.h"

extern const ef_contract *const ef_contracts_builtin[];
extern const size_t ef_contracts_builtin_len;

/* The built-in contract called name, or NULL. */
const ef_contract *ef_contracts_find(const char *name);

#endif
