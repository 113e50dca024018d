/* ef_agents_node.h: runs the MEF agent, the committee device agent and the
 * checkpoint relayer inside a node, from the node config's "agents" section.
 *
 * The node command adds this extension when it is in the build. On start it reads
 * cfg->doc["agents"]["mef"] (no section: the extension does nothing), opens an
 * ef_mef agent acting as the node's key, registers a commit listener that hands it
 * every event of every committed block (then the block itself), and routes the
 * agent's transactions through ef_node_submit_call. A transaction that fails at
 * admission or execution is logged with its method and error (warn level).
 * cfg->doc["agents"]["committee"] (agents/ef_committee_agent.h) starts the device
 * agent of a domain ledger's committee: after each committed block it reads the
 * committee contract and sends its commit, reveal and election calls through
 * ef_node_submit_call, signed by the node's key (not while the node is catching
 * up: it acts from the first block it commits at the head). cfg->doc["agents"]["relayer"]
 * runs the checkpoint relayer (agents/ef_relayer.h) on its own thread: the
 * domain administrator's node, a federation validator, anchors its domain
 * through its own API. Any of the sections, or none.
 * Everything runs on the node's loop thread except the agent's own workers.
 */
#ifndef EF_AGENTS_NODE_H
#define EF_AGENTS_NODE_H

#include "node/ef_node.h"

extern const ef_node_ext ef_agents_node_ext;

#endif
