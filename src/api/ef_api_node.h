/* ef_api_node.h: the HTTP API as an extension of a running node (ef_node.h): the
 * backend over the node's store, submission path, status snapshot and counters.
 *
 * `edgefed node` adds ef_api_node_ext when this module is in the build. It starts
 * the server on the config's "http_listen" ("" = no API) and reads its options
 * from the config's "api" section:
 *
 *   "api": {"private": false,     true on a private domain ledger: every request
 *                                 must be signed by a member (ef_api.h)
 *           "domain": "mec-a",    with private: only accounts of this domain (default:
 *                                 any account registered on the ledger)
 *           "conn_max": 256, "idle_s": 30, "wait_ms_max": 30000}
 *
 * Unknown fields in "api" are refused (EF_ECONFIG).
 *
 * Threading: start and stop run on the node's loop thread (as the node requires);
 * the server's threads use only the node's thread-safe functions and the store's
 * read functions.
 */
#ifndef EF_API_NODE_H
#define EF_API_NODE_H

#include "api/ef_api.h"
#include "node/ef_node.h"

extern const ef_node_ext ef_api_node_ext;

#endif
