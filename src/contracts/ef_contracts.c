/* ef_contracts.c: the table of built-in contracts (one line each). */
#include "contracts/ef_contracts.h"

#include "contracts/ef_anchor.h"
#include "contracts/ef_bank.h"
#include "contracts/ef_channel.h"
#include "contracts/ef_committee.h"
#include "contracts/ef_e2e.h"
#include "contracts/ef_federation.h"
#include "contracts/ef_market.h"
#include "contracts/ef_nslice.h"
#include "contracts/ef_prov.h"
#include "contracts/ef_registry.h"
#include "contracts/ef_sla.h"

const ef_contract *const ef_contracts_builtin[] = {
    &ef_registry_contract,
    &ef_bank_contract,
    &ef_federation_contract,
    &ef_prov_contract,
    &ef_market_contract,
    &ef_channel_contract,
    &ef_sla_contract,
    &ef_anchor_contract,
    &ef_committee_contract,
    &ef_nslice_contract,
    &ef_e2e_contract,
};
const size_t ef_contracts_builtin_len = sizeof ef_contracts_builtin / sizeof ef_contracts_builtin[0];

