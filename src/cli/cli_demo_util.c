/* cli_demo_util.c: what the scenarios of `edgefed demo` share: a step printed
 * with the time since the scenario started, and an account's balance. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "agents/ef_proc.h"
#include "base/ef_log.h"
#include "cli/cli.h"
#include "cli/cli_demo.h"
#include "cli/cli_market.h"

static uint64_t ef_demo_t0;

void ef_demo_clock_start(void) { ef_demo_t0 = ef_now_mono_us(); }

void ef_demo_step(const char *fmt, ...)
{
    va_list ap;
    printf("[%7.3f s] ", (double)(ef_now_mono_us() - ef_demo_t0) / 1e6);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

int64_t ef_demo_balance(const char *api, const char *pub)
{
    char path[128];
    json_t *j;
    snprintf(path, sizeof path, "/state/bank/balance/%s", pub);
    if (ef_cli_get(api, path, &j)) return -1;
    int64_t b = (int64_t)json_integer_value(json_object_get(j, "balance"));
    json_decref(j);
    return b;
}

int ef_demo_workdir(const char *dir_opt, const char *name, char *dir, size_t dir_cap, char *exe, size_t exe_cap)
{
    if (dir_opt) {
        if ((size_t)snprintf(dir, dir_cap, "%s", dir_opt) >= dir_cap) return 1;
    } else {
        if ((size_t)snprintf(dir, dir_cap, "/tmp/edgefed-%s-XXXXXX", name) >= dir_cap || !mkdtemp(dir)) return 1;
    }
    ssize_t n = readlink("/proc/self/exe", exe, exe_cap - 1);
    if (n <= 0) return 1;
    exe[n] = 0;
    return 0;
}

int ef_demo_net_load(ef_demo_net *n, bool domain)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%.*s/testnet.json", PATH_MAX - 64, n->dir);
    json_t *tn = json_load_file(path, 0, NULL);
    if (!tn) return EF_EIO;
    json_t *nodes = json_object_get(tn, "nodes");
    snprintf(n->chain, sizeof n->chain, "%s", json_string_value(json_object_get(tn, "chain_id")) ?: "");
    n->n = 0;
    int rc = 0;
    for (size_t i = 0; i < json_array_size(nodes) && i < EF_DEMO_NODES_MAX && !rc; i++) {
        json_t *v = json_array_get(nodes, i);
        ef_demo_node *d = &n->nodes[n->n++];
        snprintf(d->name, sizeof d->name, "%s", json_string_value(json_object_get(v, "name")) ?: "?");
        snprintf(d->http, sizeof d->http, "%s", json_string_value(json_object_get(v, "http")) ?: "");
        char nm[sizeof d->name];
        memcpy(nm, d->name, sizeof nm);
        char base[PATH_MAX];
        memcpy(base, n->dir, sizeof base);
        snprintf(d->home, sizeof d->home, "%.*s/%s", PATH_MAX - 64, base, nm);
        snprintf(path, sizeof path, "%.*s/node.key", PATH_MAX - 64, d->home);
        rc = ef_key_load(&d->key, path);
    }
    json_decref(tn);
    if (rc || n->n == 0) return rc ? rc : EF_EIO;
    snprintf(n->api, sizeof n->api, "http://%s", n->nodes[0].http);
    if (domain) {
        snprintf(path, sizeof path, "%.*s/admin.key", PATH_MAX - 64, n->dir);
        rc = ef_key_load(&n->admin, path);
    }
    return rc;
}

int ef_demo_edit_config(const char *home, void (*fn)(json_t *cfg, void *arg), void *arg)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%.*s/config.json", PATH_MAX - 64, home);
    json_t *c = json_load_file(path, 0, NULL);
    if (!c) return EF_EIO;
    fn(c, arg);
    int rc = json_dump_file(c, path, JSON_INDENT(2)) ? EF_EIO : 0;
    json_decref(c);
    return rc;
}

void ef_demo_make_private(json_t *c, void *arg)
{
    (void)arg;
    json_t *api = json_object_get(c, "api");
    if (!api) json_object_set_new(c, "api", api = json_object());
    json_object_set_new(api, "private", json_true());
}

void ef_demo_add_relayer(json_t *c, void *arg)
{
    const ef_demo_relayer *r = arg;
    json_t *ag = json_object_get(c, "agents");
    if (!ag) json_object_set_new(c, "agents", ag = json_object());
    json_object_set_new(ag, "relayer", json_pack("{s:s, s:s, s:s, s:i, s:b}", "domain_node", r->domain_node,
                                                 "domain", r->domain, "read_key", r->read_key, "period_ms",
                                                 r->period_ms, "register", 1));
}

long ef_demo_pid_hwm_kb(int pid)
{
    char path[64], line[256];
    if (pid <= 0) return 0;
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    long kb = 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

long ef_demo_node_hwm_kb(const char *home)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%.*s/node.pid", PATH_MAX - 64, home);
    FILE *f = fopen(path, "r");
    int pid = 0;
    if (!f) return 0;
    if (fscanf(f, "%d", &pid) != 1) pid = 0;
    fclose(f);
    return ef_demo_pid_hwm_kb(pid);
}

int ef_demo_spawn(pid_t *pid, const char *log, char *const argv[])
{
    fflush(stderr);
    int saved = dup(2), fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (saved < 0 || fd < 0) {
        if (saved >= 0) close(saved);
        if (fd >= 0) close(fd);
        return EF_EIO;
    }
    dup2(fd, 2);
    int rc = ef_proc_spawn(pid, NULL, argv, 0);
    dup2(saved, 2);
    close(saved);
    close(fd);
    return rc;
}

bool ef_demo_can_netns(void)
{
    if (geteuid() != 0) return false;
    static const char *const tc[] = {"/usr/sbin/tc", "/sbin/tc"}, *const nft[] = {"/usr/sbin/nft", "/sbin/nft"};
    bool t = false, n = false;
    for (size_t i = 0; i < 2; i++) {
        t |= access(tc[i], X_OK) == 0;
        n |= access(nft[i], X_OK) == 0;
    }
    return t && n;
}

int ef_demo_opts_parse(int argc, char **argv, const char *usage, ef_demo_opts *o)
{
    static const char *const spec[] = {"dir=", "base-port=", "process", "keep", NULL};
    int checked = ef_cli_check(argc, argv, usage, spec, 0);
    if (checked >= 0) return checked;
    const char *ps = ef_cli_opt(argc, argv, "base-port", NULL);
    char *end = NULL;
    unsigned long port = ps ? strtoul(ps, &end, 10) : 0;
    if (ps && (!*ps || *end || port < 1024 || port > 65000)) {
        fprintf(stderr, "--base-port is 1024..65000\n");
        fputs(usage, stderr);
        return 2;
    }
    *o = (ef_demo_opts){.dir = ef_cli_opt(argc, argv, "dir", NULL), .port = (unsigned)port,
                        .keep = ef_cli_flag(argc, argv, "keep"),
                        .netns = !ef_cli_flag(argc, argv, "process") && ef_demo_can_netns()};
    return -1;
}

json_t *ef_demo_epoch_line(const char *path, uint64_t e)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char line[4096];
    json_t *found = NULL;
    while (!found && fgets(line, sizeof line, f)) {
        json_t *j = json_loads(line, 0, NULL);
        if (j && (uint64_t)json_integer_value(json_object_get(j, "epoch")) == e) found = j;
        else json_decref(j);
    }
    fclose(f);
    return found;
}
