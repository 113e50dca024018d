/* cli_testnet.h: a local testnet as `edgefed testnet init` laid it out (D/testnet.json),
 * shared by the testnet, load and bench commands. */
#ifndef EF_CLI_TESTNET_H
#define EF_CLI_TESTNET_H

#include <jansson.h>
#include <stdbool.h>

#include "base/ef_crypto.h"

#define TN_PATH_MAX 400

typedef struct ef_tn_node {
    char name[16];          /* v0.. validators, o0.. observers */
    char home[TN_PATH_MAX + 20];
    char ns[32], veth[32], ip[32];   /* --netns only */
    char http[64];
    bool validator;
} ef_tn_node;

typedef struct ef_testnet {
    char dir[TN_PATH_MAX];
    char chain_id[40];
    bool netns;
    char bridge[32], bridge_ip[32];
    unsigned accounts;       /* funded load accounts (ef_load_key 0..accounts-1) */
    size_t len;
    ef_tn_node nodes[64];
} ef_testnet;

/* Reads D/testnet.json. 0 or EF_EIO (message printed). */
int ef_testnet_load(ef_testnet *tn, const char *dir);
/* Starts one node in the background (setsid; log in HOME/node.log, pid in HOME/node.pid). */
int ef_testnet_start_node(const ef_testnet *tn, const ef_tn_node *n, const char *binary);
/* pid of the running node, or 0. */
int ef_testnet_pid(const ef_tn_node *n);
/* Signals the node and waits (up to ~5 s) until it is gone. 0 or EF_ENOTFOUND. */
int ef_testnet_kill(const ef_tn_node *n, int sig);
/* The node's status JSON over its admin socket, or NULL (new reference). */
json_t *ef_testnet_status(const ef_tn_node *n);
/* Deterministic keys of the funded load accounts. */
void ef_load_key(ef_keypair *kp, unsigned i);

#endif
