/* ef_meo_topo.c: `ip` batches and network namespaces for the MEO netns driver, and its test topology; see ef_meo_topo.h. */
#include "agents/ef_meo_topo.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agents/ef_meo_codec.h"
#include "agents/ef_meo_int.h"
#include "agents/ef_proc.h"
#include "base/ef_log.h"

#define EF_MEO_CMD_TIMEOUT_MS 10000      /* one `ip` batch */

/* ---- ip and namespaces (shared with ef_meo.c) ---- */

int ef_meo_ip_batch(const char *netns, const char *script)
{
    char *argv[8];
    int k = 0;
    argv[k++] = (char *)ef_proc_ip_path();
    if (netns) {
        argv[k++] = "-n";
        argv[k++] = (char *)netns;
    }
    argv[k++] = "-batch";
    argv[k++] = "-";
    argv[k] = NULL;
    char err[EF_PROC_ERR_MAX];
    int rc = ef_proc_run(argv, script, EF_MEO_CMD_TIMEOUT_MS, err);
    if (rc) EF_LOGW(EF_MEO_LOG, "ip%s%s -batch failed (%s): %s", netns ? " -n " : "", netns ? netns : "",
                    ef_strerror(rc), err);
    return rc;
}

int ef_meo_netns_exists(const char *name)
{
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/run/netns/%s", name);
    return stat(path, &st) == 0;
}

/* ---- the topology ---- */

static int ef_meo_topo_name(char *out, size_t cap, const char *prefix, const char *suffix)
{
    int n = snprintf(out, cap, "%s%s", prefix, suffix);
    return n > 0 && (size_t)n < cap && ef_meo_name_ok(out) ? 0 : EF_EINVAL;
}

/* Kills (SIGKILL) every process whose network namespace is the one at nspath,
 * except this process: what a test topology's namespaces still run. */
static void ef_meo_kill_in_ns(const char *nspath)
{
    struct stat nst;
    if (stat(nspath, &nst)) return;
    DIR *d = opendir("/proc");
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 1 || pid == (long)getpid()) continue;
        char p[64];
        struct stat st;
        snprintf(p, sizeof p, "/proc/%ld/ns/net", pid);
        if (stat(p, &st) == 0 && st.st_ino == nst.st_ino && st.st_dev == nst.st_dev) {
            EF_LOGI(EF_MEO_LOG, "topology: killing pid %ld left in %s", pid, nspath);
            kill((pid_t)pid, SIGKILL);
        }
    }
    closedir(d);
}

static int ef_meo_netns_del(const char *name)
{
    if (!ef_meo_netns_exists(name)) return 0;
    char nspath[64], script[64];
    snprintf(nspath, sizeof nspath, "/run/netns/%s", name);
    ef_meo_kill_in_ns(nspath);
    snprintf(script, sizeof script, "netns del %s\n", name);
    int rc = ef_meo_ip_batch(NULL, script);
    return ef_meo_netns_exists(name) ? (rc ? rc : EF_EIO) : 0;
}

int ef_meo_topo_destroy(const char *prefix, unsigned n)
{
    char name[EF_MEO_NAME_MAX];
    int rc = 0;
    if (!prefix || strlen(prefix) > 10 || ef_meo_topo_name(name, sizeof name, prefix, "hub")) return EF_EINVAL;
    for (unsigned i = 0; i < n; i++) {
        char idx[12];
        snprintf(idx, sizeof idx, "%u", i);
        if (ef_meo_topo_name(name, sizeof name, prefix, idx)) return EF_EINVAL;
        if (ef_meo_netns_del(name)) rc = EF_EIO;
    }
    ef_meo_topo_name(name, sizeof name, prefix, "hub");
    if (ef_meo_netns_del(name)) rc = EF_EIO;
    return rc;
}

int ef_meo_topo_create(const char *prefix, unsigned n, uint8_t underlay_octet)
{
    if (geteuid() != 0) return EF_EPERM;
    char hub[EF_MEO_NAME_MAX], name[EF_MEO_NAME_MAX];
    if (!prefix || strlen(prefix) > 10 || n == 0 || n > 250 || underlay_octet == 0) return EF_EINVAL;
    if (ef_meo_topo_name(hub, sizeof hub, prefix, "hub")) return EF_EINVAL;
    /* Someone else's namespaces with these names are left alone. */
    if (ef_meo_netns_exists(hub)) return EF_EEXIST;
    for (unsigned i = 0; i < n; i++) {
        snprintf(name, sizeof name, "%s%u", prefix, i);
        if (ef_meo_netns_exists(name)) return EF_EEXIST;
    }
    size_t cap = 128 + (size_t)n * 160;
    char *script = malloc(cap);
    if (!script) return EF_ENOMEM;
    int err = 0;
    size_t len = 0;
    /* 1. namespaces (the MEC systems and the hub), in one batch. */
    len += (size_t)snprintf(script + len, cap - len, "netns add %s\n", hub);
    for (unsigned i = 0; i < n; i++)
        len += (size_t)snprintf(script + len, cap - len, "netns add %s%u\n", prefix, i);
    if ((err = ef_meo_ip_batch(NULL, script))) goto fail;
    /* 2. in the hub: a bridge and one veth pair per MEC system, the peer end moved
     *    into the MEC namespace as ul0. */
    len = 0;
    len += (size_t)snprintf(script + len, cap - len, "link add br0 type bridge\nlink set br0 up\n");
    for (unsigned i = 0; i < n; i++)
        len += (size_t)snprintf(script + len, cap - len,
                                "link add h%u type veth peer name ul0 netns %s%u\n"
                                "link set h%u master br0\nlink set h%u up\n",
                                i, prefix, i, i, i);
    EF_ASSERT(len < cap);
    if ((err = ef_meo_ip_batch(hub, script))) goto fail;
    /* 3. in each MEC namespace: loopback, underlay address, link up. */
    for (unsigned i = 0; i < n; i++) {
        snprintf(name, sizeof name, "%s%u", prefix, i);
        snprintf(script, cap, "link set lo up\naddr add 10.%u.0.%u/24 dev ul0\nlink set ul0 up\n",
                 underlay_octet, i + 1);
        if ((err = ef_meo_ip_batch(name, script))) goto fail;
    }
    free(script);
    return 0;
fail:
    free(script);
    (void)ef_meo_topo_destroy(prefix, n);
    (void)err;  /* which `ip` step failed was logged; to the caller it is an I/O error */
    return EF_EIO;
}
