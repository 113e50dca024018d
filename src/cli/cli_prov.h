/* cli_prov.h: what `edgefed prov` (cmd_prov.c), its pipeline roles
 * (cli_prov_pipeline.c) and `edgefed demo prov` share. */
#ifndef EF_CLI_PROV_H
#define EF_CLI_PROV_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "api/ef_client.h"
#include "base/ef_crypto.h"
#include "ledger/ef_tx.h"

#define EF_PROV_CLI_BLOB_MAX (16u * 1024u * 1024u)

int ef_cmd_prov(int argc, char **argv);
/* `edgefed prov serve`: a hash-addressed blob server (agents/ef_blobd.h). */
int ef_prov_cli_serve(int argc, char **argv);
/* `edgefed prov pipeline sense|step`: the programs of the sensor -> collector ->
 * analyser pipeline. */
int ef_prov_cli_pipeline(int argc, char **argv);

/* The chain id from GET /status. */
int ef_prov_cli_chain(ef_client *cl, char chain[EF_CHAIN_ID_MAX + 1]);
/* Builds, signs (nonce from GET /accounts) and submits prov.method(args), waiting
 * for the commit. Returns 0 if committed with result OK; else the result code (or
 * a transport error) with a message in err. *resp (optional) gets the answer. */
int ef_prov_cli_send(ef_client *cl, const ef_keypair *kp, const char *method, const json_t *args, char *err,
                     size_t err_cap, json_t **resp);
/* As ef_prov_cli_send, for any contract. */
int ef_prov_cli_tx(ef_client *cl, const ef_keypair *kp, const char *contract, const char *method, const json_t *args,
                   char *err, size_t err_cap, json_t **resp);
/* The args of a release of blob (hash, size, the producer's signature). */
json_t *ef_prov_cli_release_args(const ef_keypair *kp, const char *chain, const char *entity, const char *activity,
                                 const char *producer, const uint8_t *blob, size_t len, const char *media,
                                 const char *receiver);
/* Checks blob against the hash and size recorded for entity: 0, EF_ENOTRELEASED
 * (nothing recorded) or EF_EPROOF (mismatch), with a message in err. */
int ef_prov_cli_check_blob(ef_client *cl, const char *entity, const uint8_t *blob, size_t len, char *err,
                           size_t err_cap);
/* GET base/blobs/HASH into a malloc'd *out. */
int ef_prov_cli_fetch(const char *base, const char *hash_hex, uint8_t **out, size_t *len);
int ef_prov_cli_read_file(const char *path, uint8_t **out, size_t *len);
int ef_prov_cli_write_file(const char *path, const void *data, size_t len);
void ef_prov_cli_print_lineage(FILE *f, const json_t *lin);

#endif
