/* ef_proc.c: child processes for the agents: spawn (optionally in a netns), run to completion, stop. */
#include "agents/ef_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/ef_log.h"

#define EF_PROC_NETNS_DIR "/run/netns/"
#define EF_PROC_THREAD_STACK (256u * 1024u)   /* the setns thread only opens a socket */

static int ef_proc_netns_path(char *out, size_t cap, const char *netns)
{
    if (!netns || !*netns || strchr(netns, '/') || !strcmp(netns, ".") || !strcmp(netns, ".."))
        return EF_EINVAL;
    int n = snprintf(out, cap, "%s%s", EF_PROC_NETNS_DIR, netns);
    return n < 0 || (size_t)n >= cap ? EF_EINVAL : 0;
}

static void ef_sleep_ms(uint32_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR) {}
}

/* Forks and execs argv (execvp when argv[0] has no '/') in the namespace nsfd
 * (-1 = the caller's): stdin /dev/null, stdout and stderr /dev/null unless kept. */
/* out: where the child's stdout and stderr go: EF_PROC_NULL (/dev/null),
 * EF_PROC_INHERIT, or a descriptor; keep_stderr keeps stderr inherited whatever out is. */
#define EF_PROC_NULL (-1)
#define EF_PROC_INHERIT (-2)
static int ef_proc_start(pid_t *pid, int nsfd, char *const argv[], int out, int keep_stderr)
{
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) return EF_EIO;
    int use_path = strchr(argv[0], '/') == NULL;
    pid_t child = fork();
    if (child < 0) {
        close(devnull);
        return EF_EIO;
    }
    if (child == 0) {
        /* Only async-signal-safe calls from here to exec. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET) != 0) _exit(127);
        dup2(devnull, 0);
        if (out != EF_PROC_INHERIT) dup2(out == EF_PROC_NULL ? devnull : out, 1);
        if (!keep_stderr) dup2(out == EF_PROC_NULL ? devnull : out, 2);
        close_range(3, ~0u, 0);  /* the caller's sockets and files stay with the caller */
        if (use_path) execvp(argv[0], argv); else execv(argv[0], argv);
        _exit(127);
    }
    close(devnull);
    *pid = child;
    return 0;
}

int ef_proc_spawn(pid_t *pid, const char *netns, char *const argv[], int keep_stdout)
{
    EF_ASSERT(pid);
    *pid = -1;
    if (!argv || !argv[0]) return EF_EINVAL;
    char nspath[256];
    int nsfd = -1;
    if (netns) {
        if (ef_proc_netns_path(nspath, sizeof nspath, netns)) return EF_EINVAL;
        nsfd = open(nspath, O_RDONLY | O_CLOEXEC);
        if (nsfd < 0) {
            EF_LOGW("proc", "netns %s: %s", netns, strerror(errno));
            return EF_EIO;
        }
    }
    int rc = ef_proc_start(pid, nsfd, argv, keep_stdout ? EF_PROC_INHERIT : EF_PROC_NULL, 1);
    if (nsfd >= 0) close(nsfd);
    return rc;
}

/* Runs argv (argc entries) to completion with stdout and stderr on out (as in
 * ef_proc_start); the exit status, logged at warn unless quiet. */
static int ef_proc_wait_cmd(char *argv[], size_t argc, int out, int quiet)
{
    pid_t pid;
    int rc = ef_proc_start(&pid, -1, argv, out, out == EF_PROC_INHERIT);
    if (rc) return rc;
    int st = 0;
    pid_t r;
    do r = waitpid(pid, &st, 0); while (r < 0 && errno == EINTR);
    if (r != pid) return EF_EIO;
    int status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (status && !quiet) {
        char line[EF_PROC_LINE_MAX];
        size_t len = 0;
        for (size_t i = 0; i < argc && len < sizeof line; i++)
            len += (size_t)snprintf(line + len, sizeof line - len, "%s%s", i ? " " : "", argv[i]);
        EF_LOGW("proc", "%s: exit status %d", line, status);
    }
    return status;
}

/* Collects the NULL-terminated arguments after arg0 into argv (argc entries). */
#define EF_PROC_COLLECT(argv, argc, arg0)                                       \
    do {                                                                        \
        va_list ap_;                                                            \
        va_start(ap_, arg0);                                                    \
        for (const char *a_ = arg0; a_; a_ = va_arg(ap_, const char *)) {       \
            if (argc == EF_PROC_ARGV_MAX - 1) {                                 \
                va_end(ap_);                                                    \
                return EF_EINVAL;                                               \
            }                                                                   \
            argv[argc++] = (char *)a_;                                          \
        }                                                                       \
        va_end(ap_);                                                            \
        if (!argc) return EF_EINVAL;                                            \
        argv[argc] = NULL;                                                      \
    } while (0)

int ef_proc_cmd(int quiet, const char *arg0, ...)
{
    char *argv[EF_PROC_ARGV_MAX];
    size_t argc = 0;
    EF_PROC_COLLECT(argv, argc, arg0);
    return ef_proc_wait_cmd(argv, argc, quiet ? EF_PROC_NULL : EF_PROC_INHERIT, quiet);
}

int ef_proc_cmd_log(const char *log, const char *arg0, ...)
{
    char *argv[EF_PROC_ARGV_MAX];
    size_t argc = 0;
    if (!log) return EF_EINVAL;
    EF_PROC_COLLECT(argv, argc, arg0);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return EF_EIO;
    dprintf(fd, "$");
    for (size_t i = 0; i < argc; i++) dprintf(fd, " %s", argv[i]);
    dprintf(fd, "\n");
    int rc = ef_proc_wait_cmd(argv, argc, fd, 0);
    close(fd);
    return rc;
}

int ef_proc_exited(pid_t pid, int *status)
{
    int st = 0;
    pid_t r;
    do r = waitpid(pid, &st, WNOHANG); while (r < 0 && errno == EINTR);
    if (r == pid || (r < 0 && errno == ECHILD)) {
        if (status) *status = st;
        return 1;
    }
    return 0;
}

int ef_proc_stop(pid_t pid, uint32_t grace_ms)
{
    if (pid <= 0) return 0;
    if (ef_proc_exited(pid, NULL)) return 0;
    kill(pid, SIGTERM);
    for (uint32_t waited = 0; waited < grace_ms; waited += 2) {
        if (ef_proc_exited(pid, NULL)) return 0;
        ef_sleep_ms(2);
    }
    kill(pid, SIGKILL);
    int st;
    pid_t r;
    do r = waitpid(pid, &st, 0); while (r < 0 && errno == EINTR);
    return 0;
}

int ef_proc_run(char *const argv[], const char *input, uint32_t timeout_ms, char err[EF_PROC_ERR_MAX])
{
    if (err) err[0] = 0;
    if (!argv || !argv[0]) return EF_EINVAL;
    int in_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
    int rc = EF_EIO;
    if (pipe2(in_pipe, O_CLOEXEC) || pipe2(err_pipe, O_CLOEXEC)) goto out;
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) goto out;
    int use_path = strchr(argv[0], '/') == NULL;
    pid_t child = fork();
    if (child < 0) {
        close(devnull);
        goto out;
    }
    if (child == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        dup2(in_pipe[0], 0);
        dup2(devnull, 1);
        dup2(err_pipe[1], 2);
        close_range(3, ~0u, 0);
        if (use_path) execvp(argv[0], argv); else execv(argv[0], argv);
        _exit(127);
    }
    close(devnull);
    close(in_pipe[0]); in_pipe[0] = -1;
    close(err_pipe[1]); err_pipe[1] = -1;
    if (input) {
        /* Batch input is small (well under the pipe buffer); a short write is an error. */
        size_t n = strlen(input), off = 0;
        while (off < n) {
            ssize_t w = write(in_pipe[1], input + off, n - off);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) break;
            off += (size_t)w;
        }
    }
    close(in_pipe[1]); in_pipe[1] = -1;
    size_t elen = 0;
    char sink[256];
    uint64_t deadline = ef_now_mono_us() + (uint64_t)timeout_ms * 1000u;
    int timed_out = 0;
    for (;;) {
        uint64_t now = ef_now_mono_us();
        if (now >= deadline) { timed_out = 1; break; }
        struct pollfd pfd = {.fd = err_pipe[0], .events = POLLIN};
        int pr = poll(&pfd, 1, (int)((deadline - now) / 1000u) + 1);
        if (pr < 0 && errno == EINTR) continue;
        if (pr <= 0) continue;
        char *dst = err && elen < EF_PROC_ERR_MAX - 1 ? err + elen : sink;
        size_t cap = err && elen < EF_PROC_ERR_MAX - 1 ? EF_PROC_ERR_MAX - 1 - elen : sizeof sink;
        ssize_t r = read(err_pipe[0], dst, cap);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;  /* EOF: the child closed stderr (exited) */
        if (dst != sink) elen += (size_t)r;
    }
    if (err) err[elen] = 0;
    int st = 0;
    if (timed_out) {
        kill(child, SIGKILL);
        while (waitpid(child, &st, 0) < 0 && errno == EINTR) {}
        rc = EF_ETIMEOUT;
        goto out;
    }
    pid_t r;
    do r = waitpid(child, &st, 0); while (r < 0 && errno == EINTR);
    rc = (r == child && WIFEXITED(st) && WEXITSTATUS(st) == 0) ? 0 : EF_EIO;
out:
    if (in_pipe[0] >= 0) close(in_pipe[0]);
    if (in_pipe[1] >= 0) close(in_pipe[1]);
    if (err_pipe[0] >= 0) close(err_pipe[0]);
    if (err_pipe[1] >= 0) close(err_pipe[1]);
    if (err) {
        size_t n = strlen(err);
        while (n && (err[n - 1] == '\n' || err[n - 1] == '\r')) err[--n] = 0;
    }
    return rc;
}

const char *ef_proc_ip_path(void)
{
    static const char *const paths[] = {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"};
    for (size_t i = 0; i < EF_ARRAY_LEN(paths); i++)
        if (access(paths[i], X_OK) == 0) return paths[i];
    return "ip";
}

bool ef_proc_netns_exists(const char *netns)
{
    char path[256];
    struct stat st;
    return !ef_proc_netns_path(path, sizeof path, netns) && stat(path, &st) == 0;
}

typedef struct ef_proc_ns_sock {
    const char *path;
    int domain, type, protocol;
    int fd;
} ef_proc_ns_sock;

static void *ef_proc_ns_sock_thread(void *arg)
{
    ef_proc_ns_sock *a = arg;
    a->fd = EF_EIO;
    int nsfd = open(a->path, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) return NULL;
    if (setns(nsfd, CLONE_NEWNET) == 0) {
        int fd = socket(a->domain, a->type, a->protocol);
        a->fd = fd >= 0 ? fd : EF_EIO;
    }
    close(nsfd);
    return NULL;
}

int ef_proc_netns_socket(const char *netns, int domain, int type, int protocol)
{
    if (!netns) {
        int fd = socket(domain, type, protocol);
        return fd >= 0 ? fd : EF_EIO;
    }
    char path[256];
    if (ef_proc_netns_path(path, sizeof path, netns)) return EF_EINVAL;
    ef_proc_ns_sock a = {.path = path, .domain = domain, .type = type, .protocol = protocol, .fd = EF_EIO};
    /* A small stack: many of these may run at once (a consumer asking every provider). */
    pthread_attr_t attr;
    pthread_t t;
    if (pthread_attr_init(&attr)) return EF_EIO;
    pthread_attr_setstacksize(&attr, EF_PROC_THREAD_STACK);
    int rc = pthread_create(&t, &attr, ef_proc_ns_sock_thread, &a);
    pthread_attr_destroy(&attr);
    if (rc) {
        EF_LOGW("proc", "netns %s: cannot start a thread: %s", netns, strerror(rc));
        return EF_EIO;
    }
    pthread_join(t, NULL);
    return a.fd;
}
