/* cli_api.h: helpers shared by the subcommands that talk to a node's HTTP API. */
#ifndef EF_CLI_API_H
#define EF_CLI_API_H

#include <stdbool.h>
#include <stdio.h>

#include "api/ef_client.h"

/* The API URL: --api, else $EDGEFED_API, else http://127.0.0.1:8080. */
const char *ef_cli_api_url(int argc, char **argv);
/* A client for that URL, signing with --key KEYFILE if given. Returns 0, or 1
 * after printing why (who names the command in the message). */
int ef_cli_api_client(ef_client **out, int argc, char **argv, const char *who);
/* Prints an answer body: JSON indented, anything else as it is. */
void ef_cli_print_body(FILE *f, const char *body, size_t len);
/* Streams path (an /events URL) and prints n messages as JSON lines. Returns 0 or
 * an ef_err (status set as by ef_client_events). */
int ef_cli_print_events(ef_client *cl, const char *path, long n, long *status);

/* cli_call.c: builds, signs and submits contract.method(args) as key through
 * the API at url and waits for the commit (timeout_ms for the client and the
 * wait; 0: their defaults). With sign_reads the chain id and nonce are read with
 * requests signed by key (a private ledger). code (24 bytes, may be NULL)
 * receives the result's code name ("EPROTO" if there is none); *tx_out (may be
 * NULL) the committed answer (new reference). Returns 0 if the node answered
 * 200 with a result code, whatever the code; else the error. */
int ef_cli_submit_call(const char *url, const ef_keypair *key, bool sign_reads, unsigned timeout_ms,
                       const char *contract, const char *method, const char *args, char code[24],
                       json_t **tx_out);
/* ef_cli_submit_call without signed reads and default timeouts, as a call that
 * must succeed: 0 if committed with result OK; else the error (EF_ESTATE for
 * another result; its code name in err if given, 24 bytes). */
int ef_cli_call(const char *url, const ef_keypair *key, const char *contract, const char *method,
                const char *args, char *err);
/* ef_cli_submit_call (timeout 30 s), again with a fresh nonce (up to 30 times,
 * 150 ms apart) while another sender of the same key took it (ENONCE, EDUP). */
int ef_cli_call_retry(const char *url, const ef_keypair *key, bool sign_reads, const char *contract,
                      const char *method, const char *args, char code[24], json_t **tx_out);
/* ef_cli_get_as unsigned. */
int ef_cli_get(const char *url, const char *path, json_t **out);
/* GET path from the API at url, signed by key if not NULL (a private ledger):
 * 0 and a new JSON value in *out, EF_ENOTFOUND on 404, EF_EPROTO on another
 * status, or the client's error. */
int ef_cli_get_as(const char *url, const ef_keypair *key, const char *path, json_t **out);

#endif
