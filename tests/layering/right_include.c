/* right_include.c: the control for the layering test: a ledger source using
 * only base and ledger headers, built exactly as the wrong ones, must build. */
#include "base/ef_codec.h"
#include "ledger/ef_store.h"

int ef_layering_right(void) { return EF_STORE_CONTRACTS_MAX; }
