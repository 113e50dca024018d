/* ef_contracts.c: the table of built-in contracts (one line each). */
#include "contracts/ef_contracts.h"

#include <string.h>

#include "contracts/ef_bank.h"
#include "contracts/ef_registry.h"

const ef_contract *const ef_contracts_builtin[] = {
    &ef_registry_contract,
    &ef_bank_contract,
};
const size_t ef_contracts_builtin_len = sizeof ef_contracts_builtin / sizeof ef_contracts_builtin[0];

const ef_contract *ef_contracts_find(const char *name)
{
    for (size_t i = 0; i < ef_contracts_builtin_len; i++)
        if (!strcmp(ef_contracts_builtin[i]->name, name)) return ef_contracts_builtin[i];
    return NULL;
}
