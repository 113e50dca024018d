/* wrong_call.c: a ledger source that reaches into contracts without a header (a
 * hand-written declaration). It compiles; linking it with the ledger's allowed
 * layers alone must fail (tests/integration/layering.sh). */
#include <stddef.h>

extern const size_t ef_contracts_builtin_len;

int ef_layering_wrong_call(void) { return (int)ef_contracts_builtin_len; }
