/* main.c: the edgefed command: dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "base/ef_crypto.h"
#include "cli/cli.h"
#include "cli/cli_prov.h"

/* Add a subcommand here and declare its function in cli.h. */
static const ef_cli_cmd ef_cli_cmds[] = {
    {"version", "print the version", ef_cmd_version},
    {"keygen", "create an Ed25519 key file", ef_cmd_keygen},
    {"demo", "a local federation of MEC systems federates a service end to end", ef_cmd_demo},
    {"genesis", "write a genesis file for a new chain", ef_cmd_genesis},
    {"tx", "transactions: sign and decode offline, send to a node's API", ef_cmd_tx},
    {"chain", "local single-process ledger demo (no consensus)", ef_cmd_chain},
    {"bench", "benchmarks (edgefed bench --help)", ef_cmd_bench},
    {"query", "GET a path of a node's HTTP API", ef_cmd_query},
    {"node", "run a ledger node", ef_cmd_node},
    {"status", "status of a running node (admin socket)", ef_cmd_status},
    {"submit", "submit signed transactions to a node (admin socket)", ef_cmd_submit},
    {"prov", "provenance records (seed 004): join, leave, release, use, orchestrate, export, lineage", ef_cmd_prov},
    {"wal", "a validator's record of its own votes: check, recover from damage", ef_cmd_wal},
    {"testnet", "local test networks: init, up, status, down", ef_cmd_testnet},
    {"load", "generate transaction load against a testnet", ef_cmd_load},
    {"p2p-probe", "send hostile P2P input to a node (tests)", ef_cmd_p2p_probe},
    {"sim", "run the consensus simulator over seeds (faults, Byzantine nodes, checkers)", ef_cmd_sim},
    {"app", "the federated service app (serve) and its client check (call)", ef_cmd_app},
    {"meo", "MEC orchestrator driver: self-test, test topology", ef_cmd_meo},
    {"soa", "REST federation baseline without a ledger (provider, consumer, bench)", ef_cmd_soa},
    {"mef", "MEF agent: configuration help, check, price quotes", ef_cmd_mef},
    {"market", "edge-node market: register, update, retire, match, end, expire", ef_cmd_market},
    {"channel", "payment channels: open, top-up, redeem, start-close, settle", ef_cmd_channel},
    {"voucher", "payment-channel vouchers offline: make, check", ef_cmd_voucher},
    {"sla", "accountable just-in-time SLAs: offer, activate, confirm, receipts, claim, disputes, controller", ef_cmd_sla},
    {"slice", "network slices: topology and path check, slice traffic, the SLA monitor, loss injection", ef_cmd_slice},
    {"en", "edge-node agent: voucher-gated compute service and watch service (serve)", ef_cmd_en},
    {"device", "a device's market session: match, channel, paid tasks, close (run)", ef_cmd_device},
    {"proof", "cross-domain proofs: get one from a domain node, verify it against a federation's anchor", ef_cmd_proof},
    {"nslice", "network-slice templates of the nslice contract: encode one, check one's id", ef_cmd_nslice},
    {"token", "read tokens of private ledgers: a member signs one for the explorer (make), decode one (check)",
     ef_cmd_token},
    {"relayer", "carries a domain ledger's checkpoints (every rotation, the tip on a period) to the federation's anchor",
     ef_cmd_relayer},
};

static void ef_cli_usage(FILE *f)
{
    fprintf(f, "usage: edgefed COMMAND [options]   (edgefed COMMAND --help for more)\n\ncommands:\n");
    for (size_t i = 0; i < EF_ARRAY_LEN(ef_cli_cmds); i++)
        fprintf(f, "  %-10s %s\n", ef_cli_cmds[i].name, ef_cli_cmds[i].summary);
}

int main(int argc, char **argv)
{
    if (ef_crypto_init()) {
        fprintf(stderr, "edgefed: libsodium failed to initialise\n");
        return 1;
    }
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        ef_cli_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < EF_ARRAY_LEN(ef_cli_cmds); i++)
        if (!strcmp(argv[1], ef_cli_cmds[i].name)) return ef_cli_cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "edgefed: unknown command '%s'\n", argv[1]);
    ef_cli_usage(stderr);
    return 2;
}
