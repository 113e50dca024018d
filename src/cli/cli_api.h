/* cli_api.h: helpers shared by the subcommands that talk to a node's HTTP API. */
#ifndef EF_CLI_API_H
#define EF_CLI_API_H

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

#endif
