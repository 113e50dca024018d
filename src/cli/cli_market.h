/* cli_market.h: the device side of the edge market, shared by `edgefed device
 * run` and `edgefed demo market`: one session = match on the ledger, open a
 * channel with the matched EN's company, send tasks to the EN agent each with a
 * voucher, check every answer, close (by the EN, or by the payer so that the EN's
 * watch service must redeem), end the match. */
#ifndef EF_CLI_MARKET_H
#define EF_CLI_MARKET_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/ef_crypto.h"
#include "cli/cli_api.h"   /* ef_cli_call, ef_cli_get */

typedef struct ef_dev_opts {
    const char *api;            /* the node's API URL */
    ef_keypair key;             /* the device */
    uint32_t x, y;
    const char *service;
    uint64_t cpu_milli, mem_mb;
    uint64_t max_dist, max_price;
    uint64_t ttl;               /* blocks, for the match and the channel */
    uint64_t tasks;
    uint64_t task_bytes;
    bool payer_close;           /* start_close by the device, the EN's watch service redeems */
    uint64_t challenge_wait_ms; /* with payer_close: how long to wait for the redeem */
} ef_dev_opts;

typedef struct ef_dev_result {
    uint64_t match, en, channel, price, dist2, eligible;
    char company[2 * EF_PUB_SIZE + 1];
    char endpoint[160];
    uint64_t verified;          /* tasks whose answer checked out */
    uint64_t paid;              /* redeemed by the payee */
    uint64_t refunded;
    uint64_t txs;               /* ledger transactions the session cost */
    double match_ms, open_ms, tasks_ms, close_ms;
} ef_dev_result;

/* Runs one session, printing each step to log (NULL: quiet). Returns 0 if every
 * task was admitted and checked and the channel closed with the payee paid
 * tasks * price; else an ef_err (the reason printed). */
int ef_dev_session(const ef_dev_opts *o, ef_dev_result *r, FILE *log);

#endif
