/* cli.h: the edgefed subcommands, each in its own src/cli/cmd_*.c file. */
#ifndef EF_CLI_H
#define EF_CLI_H

#include <stdbool.h>

/* Every subcommand: argv[0] is the subcommand's name; returns the exit status.
 * Each prints its usage on --help and exits 0; on a usage error it prints the
 * usage to stderr and returns 2. */
typedef int (*ef_cli_fn)(int argc, char **argv);

typedef struct ef_cli_cmd {
    const char *name;
    const char *summary;
    ef_cli_fn fn;
} ef_cli_cmd;

/* true if argv has -h or --help. */
bool ef_cli_wants_help(int argc, char **argv);
/* Looks up "--name VALUE" or "--name=VALUE"; returns the value or def. */
const char *ef_cli_opt(int argc, char **argv, const char *name, const char *def);
/* true if "--name" is present (as a flag). */
bool ef_cli_flag(int argc, char **argv, const char *name);
/* The start of a command with one required option --name: on --help prints
 * usage to stdout and returns 0; without --name prints usage to stderr and
 * returns 2; else sets *value (borrowed from argv) and returns -1 (carry on). */
int ef_cli_required(int argc, char **argv, const char *usage, const char *name, const char **value);
/* Checks argv (argv[0] the command's name) against what a command accepts:
 * spec, NULL-terminated, lists "name=" for an option with a value ("--name V" or
 * "--name=V") and "name" for a flag; at most max_pos other arguments. On --help
 * prints usage to stdout and returns 0; on an unknown option, a flag given a
 * value, a missing value or one argument too many prints what is wrong and the
 * usage to stderr and returns 2; else returns -1 (carry on). */
int ef_cli_check(int argc, char **argv, const char *usage, const char *const *spec, int max_pos);

int ef_cmd_version(int argc, char **argv);
int ef_cmd_keygen(int argc, char **argv);
int ef_cmd_query(int argc, char **argv);    /* cmd_query.c */
int ef_cmd_token(int argc, char **argv);    /* cmd_token.c: `edgefed token make|check` */
int ef_cmd_tx_send(int argc, char **argv); /* cmd_tx_send.c: `edgefed tx send` */
int ef_cmd_genesis(int argc, char **argv);
int ef_cmd_tx(int argc, char **argv);
int ef_cmd_chain(int argc, char **argv);
int ef_cmd_bench(int argc, char **argv);
/* `edgefed bench apply` (cmd_bench_apply.c) */
int ef_bench_apply(int argc, char **argv);
/* `edgefed bench ledger` (cmd_bench_ledger.c) */
int ef_bench_ledger(int argc, char **argv);
int ef_cmd_node(int argc, char **argv);
int ef_cmd_status(int argc, char **argv);
int ef_cmd_submit(int argc, char **argv);
int ef_cmd_testnet(int argc, char **argv);
int ef_cmd_load(int argc, char **argv);
int ef_cmd_p2p_probe(int argc, char **argv);
/* `edgefed bench api` (cmd_bench_api.c) */
int ef_bench_api(int argc, char **argv);
/* `edgefed bench federation` (cmd_bench_federation.c) */
int ef_cmd_bench_federation(int argc, char **argv);
/* `edgefed bench consensus` (cmd_bench_consensus.c) */
int ef_bench_consensus(int argc, char **argv);
/* `edgefed bench prov` (cmd_bench_prov.c) */
int ef_bench_prov(int argc, char **argv);
/* `edgefed sim` (cmd_sim.c) */
int ef_cmd_sim(int argc, char **argv);
int ef_cmd_app(int argc, char **argv);
int ef_cmd_meo(int argc, char **argv);
int ef_cmd_soa(int argc, char **argv);
int ef_cmd_mef(int argc, char **argv);   /* cmd_mef.c */
int ef_cmd_demo(int argc, char **argv);  /* cmd_demo.c: dispatches to the scenarios of cli_demo.h */
int ef_cmd_wal(int argc, char **argv);   /* cmd_wal.c */
int ef_cmd_market(int argc, char **argv);  /* cmd_market.c */
int ef_cmd_channel(int argc, char **argv); /* cmd_market.c */
int ef_cmd_voucher(int argc, char **argv); /* cmd_market.c */
int ef_cmd_sla(int argc, char **argv);     /* cmd_sla.c */
int ef_cmd_sla_controller(int argc, char **argv); /* cmd_slice.c: `edgefed sla controller` */
int ef_cmd_slice(int argc, char **argv);   /* cmd_slice.c */
int ef_bench_market(int argc, char **argv); /* cmd_bench_market.c: `edgefed bench market` */
int ef_bench_sla(int argc, char **argv);    /* cmd_bench_sla.c: `edgefed bench sla` */
int ef_bench_anchor(int argc, char **argv); /* cmd_bench_anchor.c: `edgefed bench hierarchy-anchor` */
int ef_bench_slices(int argc, char **argv); /* cmd_bench_slices.c: `edgefed bench slices` */
int ef_bench_hierarchy(int argc, char **argv); /* cmd_bench_hierarchy.c: `edgefed bench hierarchy` */
int ef_cmd_en(int argc, char **argv);      /* cmd_edge.c */
int ef_cmd_device(int argc, char **argv);  /* cmd_edge.c */
int ef_cmd_proof(int argc, char **argv);   /* cmd_proof.c: `edgefed proof get|verify` */
int ef_cmd_nslice(int argc, char **argv);  /* cmd_nslice.c: `edgefed nslice template|id` */
int ef_cmd_relayer(int argc, char **argv); /* cmd_relayer.c: `edgefed relayer` */
/* cmd_nslice_ctl.c: `edgefed nslice controller|orchestrator` (argv[0] names which) */
int ef_cmd_nslice_agents(int argc, char **argv);

#endif
