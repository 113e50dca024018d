/* wrong_include.c: a ledger source that includes a contracts header. The ledger
 * may not use contracts, so this must not compile (tests/integration/layering.sh). */
#include "contracts/ef_contracts.h"

int ef_layering_wrong_include(void) { return (int)ef_contracts_builtin_len; }
