/* cli_demo.h: the scenarios of `edgefed demo`, one per seed system, each in its
 * own src/cli/cmd_demo_NAME.c. Add a scenario: write its function (argv[0] is
 * its name; prints its steps with times; returns 0 only if it succeeded), declare
 * it here and add a line to the table in cmd_demo.c. */
#ifndef EF_CLI_DEMO_H
#define EF_CLI_DEMO_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "base/ef_crypto.h"

int ef_demo_federation(int argc, char **argv); /* seed 001: cmd_demo_federation.c */
int ef_demo_market(int argc, char **argv);     /* seed 002: cmd_demo_market.c */
int ef_demo_prov(int argc, char **argv);       /* seed 004: cmd_demo_prov.c */
int ef_demo_sla(int argc, char **argv);        /* seed 003: cmd_demo_sla.c */
int ef_demo_hierarchy(int argc, char **argv);  /* seed 000: cmd_demo_hierarchy.c */
int ef_demo_slices(int argc, char **argv);     /* seed 000: cmd_demo_slices.c */

/* cli_demo_util.c: the scenario's clock (ef_demo_clock_start), one step printed
 * as "[  1.234 s] text" with the time since then, and a bank balance read from
 * the API at api (-1 if it cannot be read). */
void ef_demo_clock_start(void);
void ef_demo_step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int64_t ef_demo_balance(const char *api, const char *pub);
/* The scenario's working directory (dir_opt, or a new /tmp/edgefed-NAME-XXXXXX)
 * and this binary's path; 0, or 1 if either cannot be had. */
int ef_demo_workdir(const char *dir_opt, const char *name, char *dir, size_t dir_cap, char *exe, size_t exe_cap);

/* A testnet made by `edgefed testnet init --dir DIR`: its nodes (name, HTTP
 * address, home directory, key), the chain id and v0's API; with domain, the
 * administrator's key of DIR/admin.key (a committee domain's). */
#define EF_DEMO_NODES_MAX 32
typedef struct ef_demo_node {
    char name[16];
    char http[64];
    char home[PATH_MAX];
    ef_keypair key;
} ef_demo_node;

typedef struct ef_demo_net {
    char dir[PATH_MAX];
    char chain[64];
    char api[96];        /* the first node's API */
    size_t n;
    ef_demo_node nodes[EF_DEMO_NODES_MAX];
    ef_keypair admin;    /* domains only */
} ef_demo_net;

/* Loads n->dir's testnet.json and keys. 0, EF_EIO or a key error. */
int ef_demo_net_load(ef_demo_net *n, bool domain);
/* Edits HOME/config.json: fn(config, arg) changes it. 0 or EF_EIO. */
int ef_demo_edit_config(const char *home, void (*fn)(json_t *cfg, void *arg), void *arg);
/* ef_demo_edit_config functions: the API private (reads signed by members);
 * an agents.relayer section (arg an ef_demo_relayer: register on, period_ms). */
void ef_demo_make_private(json_t *cfg, void *arg);
typedef struct ef_demo_relayer {
    const char *domain_node, *domain, *read_key;
    int period_ms;
} ef_demo_relayer;
void ef_demo_add_relayer(json_t *cfg, void *arg);
/* Peak RSS (VmHWM, kB) of the node process of home (its node.pid), 0 if unknown. */
long ef_demo_node_hwm_kb(const char *home);
/* Peak RSS (VmHWM, kB) of process pid, 0 if unknown. */
long ef_demo_pid_hwm_kb(int pid);
/* Starts argv (argv[0] the binary) with stdout dropped and stderr appended to
 * log; 0 and *pid, or an error. */
int ef_demo_spawn(pid_t *pid, const char *log, char *const argv[]);
/* true if network namespaces with htb and nftables can be built here (root, tc, nft). */
bool ef_demo_can_netns(void);
/* The options of a scenario on network namespaces: --dir DIR, --base-port N
 * (1024..65000; 0 if not given: the scenario picks), --process (no namespaces
 * even as root) and --keep; netns is true if namespaces are wanted and can be
 * built here. */
typedef struct ef_demo_opts {
    const char *dir;
    unsigned port;
    bool keep, netns;
} ef_demo_opts;
/* Parses them (ef_cli_check with usage: unknown options refused): -1 with *o
 * filled to go on, or the exit code (0 for --help, 2 with usage printed). */
int ef_demo_opts_parse(int argc, char **argv, const char *usage, ef_demo_opts *o);
/* The JSON line of epoch e in a slice monitor's output file (`edgefed slice
 * monitor --out`; a new reference) or NULL. */
json_t *ef_demo_epoch_line(const char *path, uint64_t e);

#endif
