/* cli_load.h: the transaction load generator behind `edgefed load` and
 * `edgefed bench ledger`: bank transfers from the testnet's funded load accounts,
 * submitted through the nodes' admin sockets at a fixed rate or as fast as a
 * window of transactions in flight allows; commit latency measured from
 * submission to the node's "committed" notice. */
#ifndef EF_CLI_LOAD_H
#define EF_CLI_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/cli_testnet.h"

#define EF_LOAD_TARGETS_MAX 64
#define EF_LOAD_ACCOUNTS_MAX 20000

typedef struct ef_load_cfg {
    const ef_testnet *tn;
    const char *targets[EF_LOAD_TARGETS_MAX];  /* node names; none = every validator */
    size_t targets_len;
    unsigned accounts;          /* load accounts used (<= tn->accounts) */
    double rate;                /* offered tx/s; 0 = saturation (window-bound) */
    unsigned window;            /* max txs in flight per account (default 32) */
    double duration_s;          /* measured period */
    double warmup_s;            /* not measured, before it */
    double drain_s;             /* wait this long after it for commits (0 = 10 s) */
    FILE *acked;                /* if set: one line "HASH HEIGHT" per tx acknowledged committed */
    bool quiet;
    /* Optional: other transactions than bank transfers (e.g. `edgefed bench prov`):
     * contract.method with the args args_fn writes (JSON text, at most cap bytes
     * incl. the NUL) for account `acct` (its index and hex key) and its nonce;
     * returns the length, or < 0 to stop. NULL: transfers. */
    const char *contract, *method;
    int (*args_fn)(void *arg, unsigned acct, const char *acct_hex, uint64_t nonce, char *buf, size_t cap);
    void *args_arg;
} ef_load_cfg;

typedef struct ef_load_result {
    uint64_t sent, admitted, rejected, committed, resubmitted, lost_conn;
    uint64_t committed_measured;   /* acknowledged commits whose submission was in the period */
    double elapsed_s;              /* measured period, really */
    double tps;                    /* committed_measured / elapsed_s */
    double lat_p50_ms, lat_p99_ms, lat_mean_ms, lat_max_ms;
    char first_reject[32];
} ef_load_result;

/* Runs the load; returns 0, or EF_ENET if no target node is reachable. */
int ef_load_run(const ef_load_cfg *cfg, ef_load_result *res);

#endif
