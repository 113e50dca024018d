/* ef_proc.h: child processes for the agents: spawn (optionally in a netns), run to completion, stop.
 *
 * No shell anywhere: argv arrays only, executed with execv/execvp. Network
 * namespaces are entered in the child with setns() on /run/netns/NAME before
 * exec, the same as `ip netns exec` (without its /sys remount, which the
 * agents' children do not need).
 *
 * Children get only stdin, stdout and stderr: every other descriptor of the
 * caller (listening sockets, databases) is closed before exec.
 *
 * Threading: every function is thread-safe; each reaps only the pid it made.
 * Errors: EF_EINVAL (bad argument), EF_EIO (fork, exec or a non-zero exit),
 * EF_ETIMEOUT, EF_ENOMEM.
 */
#ifndef EF_PROC_H
#define EF_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/ef_err.h"

#define EF_PROC_ARGV_MAX 64        /* arguments per command */
#define EF_PROC_ERR_MAX 512        /* captured stderr of ef_proc_run, incl. NUL */
#define EF_PROC_LINE_MAX 512       /* command line in ef_proc_cmd's failure log, incl. NUL */

/* Starts argv[0] (a path; execvp when it has no '/') with argv, in network
 * namespace netns (NULL = the caller's). stdin is /dev/null; stdout goes to
 * /dev/null unless keep_stdout; stderr is inherited. On success *pid is the
 * child, which the caller must stop with ef_proc_stop (or reap). A failure to
 * enter the namespace or exec shows as the child exiting with status 127. */
int ef_proc_spawn(pid_t *pid, const char *netns, char *const argv[], int keep_stdout) EF_MUST_USE;

/* Runs argv to completion with `input` (may be NULL) on its stdin; waits at most
 * timeout_ms, then kills it (EF_ETIMEOUT). Returns 0 on exit status 0, else
 * EF_EIO with the first EF_PROC_ERR_MAX-1 bytes of its stderr in err (if not
 * NULL; always NUL-terminated). */
int ef_proc_run(char *const argv[], const char *input, uint32_t timeout_ms,
                char err[EF_PROC_ERR_MAX]) EF_MUST_USE;

/* Runs the command arg0, ... (a NULL-terminated list of arguments; arg0 as in
 * ef_proc_spawn) to completion, without a time limit, in the caller's network
 * namespace. stdin is /dev/null; stdout and stderr are inherited, or /dev/null
 * when quiet. Returns its exit status: 0, the command's non-zero status (127 if
 * it could not be executed, 128 + N if signal N ended it; logged at warn with the
 * command line unless quiet), or EF_EINVAL (no arguments, or more than
 * EF_PROC_ARGV_MAX - 1) / EF_EIO (fork or wait failed). */
int ef_proc_cmd(int quiet, const char *arg0, ...) __attribute__((sentinel));
/* As ef_proc_cmd, with the command line and then the command's stdout and stderr
 * appended to the file `log` (created 0600 if missing): a scenario's record of
 * what it ran. EF_EIO if log cannot be opened. */
int ef_proc_cmd_log(const char *log, const char *arg0, ...) __attribute__((sentinel));

/* true if pid (our child) has exited; reaps it then. *status gets waitpid's status. */
int ef_proc_exited(pid_t pid, int *status);

/* SIGTERM, wait up to grace_ms, then SIGKILL, and reap. 0 if the process is gone
 * (also when it had already exited and been reaped: ECHILD counts as gone). */
int ef_proc_stop(pid_t pid, uint32_t grace_ms);

/* The iproute2 `ip` binary's path (first of /usr/sbin/ip, /sbin/ip, /usr/bin/ip,
 * /bin/ip that exists), or "ip" for a PATH lookup. */
const char *ef_proc_ip_path(void);

/* true if network namespace netns exists: /run/netns/NAME is there (the names
 * `ip netns list` prints). false also for a name that is not a plain file name. */
bool ef_proc_netns_exists(const char *netns);

/* Opens a socket (socket(2) arguments) inside network namespace netns (NULL =
 * the caller's) by doing the setns in a short-lived thread; the socket stays in
 * that namespace. Returns the fd, or EF_EIO / EF_EINVAL. */
int ef_proc_netns_socket(const char *netns, int domain, int type, int protocol);

#endif
