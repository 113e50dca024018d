/* cli_demo.h: the scenarios of `edgefed demo`, one per seed system, each in its
 * own src/cli/cmd_demo_NAME.c. Add a scenario: write its function (argv[0] is
 * its name; prints its steps with times; returns 0 only if it succeeded), declare
 * it here and add a line to the table in cmd_demo.c. */
#ifndef EF_CLI_DEMO_H
#define EF_CLI_DEMO_H

#include <stddef.h>
#include <stdint.h>

int ef_demo_federation(int argc, char **argv); /* seed 001: cmd_demo_federation.c */
int ef_demo_market(int argc, char **argv);     /* seed 002: cmd_demo_market.c */
int ef_demo_prov(int argc, char **argv);       /* seed 004: cmd_demo_prov.c */
int ef_demo_sla(int argc, char **argv);        /* seed 003: cmd_demo_sla.c */
int ef_demo_hierarchy(int argc, char **argv);  /* seed 000: cmd_demo_hierarchy.c */

/* cli_demo_util.c: the scenario's clock (ef_demo_clock_start), one step printed
 * as "[  1.234 s] text" with the time since then, and a bank balance read from
 * the API at api (-1 if it cannot be read). */
void ef_demo_clock_start(void);
void ef_demo_step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int64_t ef_demo_balance(const char *api, const char *pub);
/* The scenario's working directory (dir_opt, or a new /tmp/edgefed-NAME-XXXXXX)
 * and this binary's path; 0, or 1 if either cannot be had. */
int ef_demo_workdir(const char *dir_opt, const char *name, char *dir, size_t dir_cap, char *exe, size_t exe_cap);

#endif
