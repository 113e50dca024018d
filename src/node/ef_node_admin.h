/* ef_node_admin.h: the node's local admin socket as a node extension (ef_node.h):
 * submission, status, block hashes, tx locations and nonces over a Unix socket,
 * for `edgefed submit`, `edgefed status`, the load generator and the tests.
 *
 * Whoever runs the node adds it (ef_node_add_ext before ef_node_run, like the
 * API); it listens on the config's "admin_socket" ("" = off), mode 0600, and
 * removes the socket file when the node stops. A socket that cannot be bound
 * fails the start (EF_EIO), which stops the node. The line protocol is described
 * in ef_node_admin.c. It uses only the node's public interface. */
#ifndef EF_NODE_ADMIN_H
#define EF_NODE_ADMIN_H

#include "node/ef_node.h"

extern const ef_node_ext ef_node_admin_ext;

#endif
