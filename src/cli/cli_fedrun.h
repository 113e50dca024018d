/* cli_fedrun.h: a local federation of MEC systems (a testnet whose nodes run MEF agents), shared by demo and bench.
 *
 * ef_fedrun_init lays out a testnet with `edgefed testnet init` (one validator per
 * MEC system; --netns when the netns driver is used, so each MEC system is its own
 * network namespace with its own underlay address), then adds an agents.mef
 * section to every node's config: the first `consumers` nodes are consumers, the
 * rest providers (locations cycling through the built-in tariffs); consumers
 * announce once every operator is registered, `runs` times (ef_mef.h), and write
 * trace.jsonl and results.jsonl in their node's directory.
 * ef_fedrun_up/down run `edgefed testnet up/down`. ef_fedrun_check, once the
 * nodes are down, opens every node's store: the same block hash at the common
 * height everywhere, and the total of the genesis balances unchanged.
 *
 * Threading: one thread. The commands' output goes to DIR/commands.log.
 */
#ifndef EF_CLI_FEDRUN_H
#define EF_CLI_FEDRUN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EF_FEDRUN_NODES_MAX 64
#define EF_FEDRUN_PATH_MAX 400

typedef struct ef_fedrun_cfg {
    unsigned n;                  /* MEC systems (validators), 2..EF_FEDRUN_NODES_MAX */
    unsigned consumers;          /* 1..n-1 */
    bool netns;                  /* netns driver (root) or process driver */
    const char *dir;             /* work directory (created; must not hold a testnet) */
    unsigned runs;               /* federations per consumer */
    unsigned offers;             /* offers each consumer waits for */
    uint64_t bid_window_ms, deploy_window_ms;
    uint64_t max_price;
    bool hold;                   /* keep services after payment */
    unsigned base_port;          /* P2P ports from here, HTTP from +100 */
    const char *binary;          /* the edgefed binary (NULL = /proc/self/exe resolved) */
} ef_fedrun_cfg;

typedef struct ef_fedrun_node {
    char name[16];               /* v0.. */
    char mec[32];                /* MEC system name, e.g. mec-1-de */
    char location[8];
    bool consumer;
    char home[EF_FEDRUN_PATH_MAX + 20];
    char http[64];
    char ip[32], ns[32];         /* netns only */
    char pub[65];
    long trace_off;              /* bytes of trace.jsonl already read */
} ef_fedrun_node;

typedef struct ef_fedrun {
    ef_fedrun_cfg cfg;
    char dir[EF_FEDRUN_PATH_MAX];
    char binary[EF_FEDRUN_PATH_MAX];
    size_t n;
    ef_fedrun_node nodes[EF_FEDRUN_NODES_MAX];
    bool up;
} ef_fedrun;

/* Lays out the federation (see above). 0, or EF_EIO/EF_ECONFIG with a message on stderr. */
int ef_fedrun_init(ef_fedrun *fr, const ef_fedrun_cfg *cfg);
/* Starts every node. 0 or EF_EIO. */
int ef_fedrun_up(ef_fedrun *fr);
/* Stops every node and removes the namespaces (idempotent). 0 or EF_EIO. */
int ef_fedrun_down(ef_fedrun *fr);
/* Appends the trace lines written since the last call (JSON objects, with
 * "node" added) to out, sorted by wall_ms. Returns how many. */
size_t ef_fedrun_trace_poll(ef_fedrun *fr, json_t *out);
/* All result lines of every node so far (new array). */
json_t *ef_fedrun_results(ef_fedrun *fr);
/* Index of the node whose public key is pub (hex), or -1. */
int ef_fedrun_node_by_pub(const ef_fedrun *fr, const char *pub);
/* After down: checks the stores (see above). *report (new object): {"height",
 * "same_hash": bool, "total_before", "total_after", "services": [...]}. 0 if
 * everything holds, EF_EPROOF if a check failed, or the store's error. */
int ef_fedrun_check(ef_fedrun *fr, json_t **report);
/* Resident set (kB) and CPU time (user+system, clock ticks) of node i's process;
 * 0 or EF_ENOTFOUND. */
int ef_fedrun_proc(const ef_fedrun *fr, size_t i, uint64_t *rss_kb, uint64_t *cpu_ticks);

#endif
