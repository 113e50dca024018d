/* cmd_node.c: `edgefed node` (run a node), `edgefed submit` and `edgefed status`
 * (talk to a running node through its admin socket). */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agents/ef_agents_node.h"
#include "api/ef_api_node.h"
#include "base/ef_codec.h"
#include "base/ef_log.h"
#include "cli/cli.h"
#include "cli/cli_admin.h"
#include "contracts/ef_contracts.h"
#include "node/ef_node.h"
#include "node/ef_node_admin.h"

static ef_node *ef_running_node;

static void ef_node_on_signal(int sig)
{
    (void)sig;
    if (ef_running_node) ef_node_stop(ef_running_node);
}

int ef_cli_config_path(char *out, size_t cap, const char *home)
{
    int n = snprintf(out, cap, "%s/config.json", home);
    return (n < 0 || (size_t)n >= cap) ? EF_ETOOBIG : 0;
}

int ef_cmd_node(int argc, char **argv)
{
    const char *usage =
        "usage: edgefed node --home DIR [--log LEVEL]\n"
        "  runs a ledger node configured by DIR/config.json (docs/config.md) until\n"
        "  SIGINT or SIGTERM. LEVEL: error, warn (default), info, debug.\n";
    static const char *const opts[] = {"home=", "log=", NULL};
    int checked = ef_cli_check(argc, argv, usage, opts, 0);
    if (checked >= 0) return checked;
    const char *home;
    int early = ef_cli_required(argc, argv, usage, "home", &home);
    if (early >= 0) return early;
    const char *lvl = ef_cli_opt(argc, argv, "log", NULL);
    if (lvl) {
        int l = !strcmp(lvl, "error") ? EF_LOG_ERROR : !strcmp(lvl, "info") ? EF_LOG_INFO
              : !strcmp(lvl, "debug") ? EF_LOG_DEBUG : !strcmp(lvl, "warn") ? EF_LOG_WARN : -1;
        if (l < 0) {
            fprintf(stderr, "edgefed node: --log must be error, warn, info or debug, not '%s'\n", lvl);
            fputs(usage, stderr);
            return 2;
        }
        ef_log_set_level(l);
    }
    char path[EF_NODE_PATH_MAX], err[256];
    if (ef_cli_config_path(path, sizeof path, home)) {
        fprintf(stderr, "edgefed node: path too long\n");
        return 2;
    }
    ef_node_config cfg;
    int rc = ef_node_config_load(&cfg, path, err, sizeof err);
    if (rc) {
        fprintf(stderr, "edgefed node: %s\n", err);
        return 1;
    }
    cfg.contracts = ef_contracts_builtin;
    cfg.contracts_len = ef_contracts_builtin_len;
    /* Blocks and proposals are large, short-lived buffers: keep glibc from raising
     * its mmap threshold after the first one is freed (it would then serve them
     * from the heap and never give the memory back). Set here, for this process,
     * rather than in the node library: it changes the allocator of the whole
     * process, which a library must not decide for its host program. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    mallopt(M_TRIM_THRESHOLD, 1 << 20);
    ef_node *n;
    rc = ef_node_open(&n, &cfg);
    ef_node_config_free(&cfg);
    if (rc) {
        fprintf(stderr, "edgefed node: cannot start: %s\n", ef_strerror(rc));
        return 1;
    }
    ef_node_add_ext(n, &ef_node_admin_ext); /* first: started first, stopped last */
    ef_node_add_ext(n, &ef_api_node_ext);
    ef_node_add_ext(n, &ef_agents_node_ext);
    ef_running_node = n;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = ef_node_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    rc = ef_node_run(n);
    ef_running_node = NULL;
    ef_node_close(n);
    if (rc) {
        fprintf(stderr, "edgefed node: stopped: %s\n", ef_strerror(rc));
        return 1;
    }
    return 0;
}

/* ---- admin socket client ---- */

int ef_admin_connect(const char *home)
{
    char path[EF_NODE_PATH_MAX], err[256];
    if (ef_cli_config_path(path, sizeof path, home)) return -1;
    ef_node_config cfg;
    if (ef_node_config_load(&cfg, path, err, sizeof err)) {
        fprintf(stderr, "edgefed: %s\n", err);
        return -1;
    }
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(cfg.admin_socket) >= sizeof sa.sun_path || !cfg.admin_socket[0]) {
        fprintf(stderr, "edgefed: admin socket path unusable: '%s'\n", cfg.admin_socket);
        ef_node_config_free(&cfg);
        return -1;
    }
    memcpy(sa.sun_path, cfg.admin_socket, strlen(cfg.admin_socket) + 1);   /* length checked above */
    ef_node_config_free(&cfg);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
        close(fd);
        return -1;
    }
    return fd;
}

int ef_admin_readline(ef_admin_reader *r, char **line)
{
    for (;;) {
        char *nl = memchr(r->buf + r->off, '\n', r->len - r->off);
        if (nl) {
            *nl = 0;
            *line = r->buf + r->off;
            r->off = (size_t)(nl - r->buf) + 1;
            return 0;
        }
        if (r->off) {
            memmove(r->buf, r->buf + r->off, r->len - r->off);
            r->len -= r->off;
            r->off = 0;
        }
        if (r->len == sizeof r->buf) return EF_ETOOBIG;
        ssize_t k = read(r->fd, r->buf + r->len, sizeof r->buf - r->len);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return EF_ECLOSED;
        r->len += (size_t)k;
    }
}

int ef_admin_write(int fd, const char *s, size_t len)
{
    while (len) {
        ssize_t k = send(fd, s, len, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return EF_EIO;
        s += k;
        len -= (size_t)k;
    }
    return 0;
}

int ef_cmd_status(int argc, char **argv)
{
    const char *usage = "usage: edgefed status --home DIR\n"
                        "  prints the running node's status (JSON) from its admin socket\n";
    static const char *const opts[] = {"home=", NULL};
    int checked = ef_cli_check(argc, argv, usage, opts, 0);
    if (checked >= 0) return checked;
    const char *home;
    int early = ef_cli_required(argc, argv, usage, "home", &home);
    if (early >= 0) return early;
    int fd = ef_admin_connect(home);
    if (fd < 0) {
        fprintf(stderr, "edgefed status: node at %s not reachable\n", home);
        return 1;
    }
    ef_admin_reader *r = calloc(1, sizeof *r);
    r->fd = fd;
    char *line;
    int rc = ef_admin_write(fd, "status\n", 7);
    if (!rc) rc = ef_admin_readline(r, &line);
    if (!rc && !strncmp(line, "status ", 7)) printf("%s\n", line + 7);
    else rc = rc ? rc : EF_EPROTO;
    free(r);
    close(fd);
    return rc ? 1 : 0;
}

/* Reads a tx file: lines of hex (one tx each), or one binary tx. */
static int read_txs(const char *path, uint8_t ***txs, size_t **lens, size_t *count)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) return EF_EIO;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (len == cap) buf = realloc(buf, cap *= 2);
        size_t k = fread(buf + len, 1, cap - len, f);
        if (k == 0) break;
        len += k;
    }
    if (f != stdin) fclose(f);
    bool hex = len > 0;
    for (size_t i = 0; i < len && hex; i++)
        hex = strchr("0123456789abcdefABCDEF \r\n\t", buf[i]) != NULL && buf[i] != 0;
    *count = 0;
    *txs = NULL;
    *lens = NULL;
    if (!hex) {
        *txs = malloc(sizeof **txs);
        *lens = malloc(sizeof **lens);
        (*txs)[0] = (uint8_t *)buf;
        (*lens)[0] = len;
        *count = 1;
        return 0;
    }
    buf = realloc(buf, len + 1);
    buf[len] = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, " \r\n\t", &save); tok; tok = strtok_r(NULL, " \r\n\t", &save)) {
        size_t hl = strlen(tok);
        if (hl % 2) continue;
        *txs = realloc(*txs, (*count + 1) * sizeof **txs);
        *lens = realloc(*lens, (*count + 1) * sizeof **lens);
        uint8_t *tx = malloc(hl / 2 + 1);
        if (ef_unhex(tx, hl / 2, tok)) {
            free(tx);
            continue;
        }
        (*txs)[*count] = tx;
        (*lens)[*count] = hl / 2;
        (*count)++;
    }
    free(buf);
    return 0;
}

int ef_cmd_submit(int argc, char **argv)
{
    const char *usage =
        "usage: edgefed submit --home DIR [--wait] FILE\n"
        "  submits the signed transactions in FILE (one hex encoding per line, or one\n"
        "  binary encoding; - for stdin) to the node at DIR through its admin socket and\n"
        "  prints \"admitted HASH\" or \"rejected HASH CODE\" for each; with --wait, also\n"
        "  waits for each admitted one to commit (\"committed HASH HEIGHT RESULT\").\n"
        "  Exit status 0 only if every transaction was admitted (and committed).\n";
    static const char *const opts[] = {"home=", "wait", NULL};
    int checked = ef_cli_check(argc, argv, usage, opts, 1);
    if (checked >= 0) return checked;
    if (ef_cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    const char *home = ef_cli_opt(argc, argv, "home", NULL);
    bool wait = ef_cli_flag(argc, argv, "wait");
    const char *file = argc > 1 ? argv[argc - 1] : NULL;
    if (!home || !file || (file[0] == '-' && strcmp(file, "-"))) {
        fputs(usage, stderr);
        return 2;
    }
    uint8_t **txs;
    size_t *lens, count;
    if (read_txs(file, &txs, &lens, &count)) {
        fprintf(stderr, "edgefed submit: cannot read %s\n", file);
        return 1;
    }
    int fd = ef_admin_connect(home);
    if (fd < 0) {
        fprintf(stderr, "edgefed submit: node at %s not reachable\n", home);
        return 1;
    }
    int bad = 0;
    size_t pending = 0;
    for (size_t i = 0; i < count; i++) {
        char *line = malloc(2 * lens[i] + 16);
        memcpy(line, "submit ", 7);
        ef_hex(line + 7, txs[i], lens[i]);
        size_t ll = 7 + 2 * lens[i];
        line[ll++] = '\n';
        if (ef_admin_write(fd, line, ll)) bad++;
        free(line);
        free(txs[i]);
    }
    free(txs);
    free(lens);
    ef_admin_reader *r = calloc(1, sizeof *r);
    r->fd = fd;
    size_t answered = 0;
    char *line;
    while (answered < count || (wait && pending > 0)) {
        if (ef_admin_readline(r, &line)) {
            bad++;
            break;
        }
        printf("%s\n", line);
        if (!strncmp(line, "admitted ", 9)) {
            answered++;
            pending++;
        } else if (!strncmp(line, "rejected ", 9)) {
            answered++;
            bad++;
        } else if (!strncmp(line, "committed ", 10)) {
            pending--;
        } else if (!strncmp(line, "dropped ", 8)) {
            pending--;
            bad++;
        }
    }
    fflush(stdout);
    free(r);
    close(fd);
    return bad ? 1 : 0;
}
