/* ef_slicenet.c: slices enforced with namespaces, veth pairs, htb and nftables; see ef_slicenet.h. */
#include "agents/ef_slicenet.h"

#include <fcntl.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agents/ef_proc.h"
#include "base/ef_log.h"

#define EF_SN_LOG "slicenet"
#define EF_SN_CMD_TIMEOUT_MS 20000
#define EF_SN_SCRIPT_MAX 65536
#define EF_SN_BE_CLASS 0xffffu
#define EF_SN_SLOT_BASE 0x10u
#define EF_SN_PRIO_BASE 100u

typedef struct ef_sn_slot {
    bool used;
    char id[EF_SLICE_ID_MAX + 1];
    uint64_t kbps;
    uint16_t port;
    ef_slice_path path;
} ef_sn_slot;

struct ef_slicenet {
    pthread_mutex_t mu;
    bool netns;
    ef_slice_db *db;
    size_t n;
    char prefix[EF_SLICENET_PREFIX_MAX + 1];
    uint8_t octet;
    char log[EF_SLICENET_PATHNAME_MAX];
    char ns[EF_SLICE_NODES_MAX][EF_SLICENET_NS_MAX];
    char ip[EF_SLICE_NODES_MAX][EF_SLICENET_IP_MAX];
    bool ns_made[EF_SLICE_NODES_MAX];
    ef_sn_slot slot[EF_SLICENET_SLOTS_MAX];
    size_t nslots;
};

/* ---- running commands ---- */

static void ef_sn_logline(const ef_slicenet *net, char *const argv[], const char *input)
{
    if (!net->log[0]) return;
    int fd = open(net->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return;
    dprintf(fd, "$");
    for (size_t i = 0; argv[i]; i++) dprintf(fd, " %s", argv[i]);
    dprintf(fd, "\n");
    if (input) dprintf(fd, "%s", input);
    close(fd);
}

/* Runs argv (NULL-terminated) to completion; EF_ENFORCE with its stderr logged on failure. */
static int ef_sn_run(const ef_slicenet *net, char *const argv[], const char *input)
{
    char err[EF_PROC_ERR_MAX];
    ef_sn_logline(net, argv, input);
    int rc = ef_proc_run(argv, input, EF_SN_CMD_TIMEOUT_MS, err);
    if (rc) {
        EF_LOGW(EF_SN_LOG, "%s %s %s failed: %s", argv[0], argv[1] ? argv[1] : "", argv[2] ? argv[2] : "", err);
        if (net->log[0]) {
            int fd = open(net->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
            if (fd >= 0) {
                dprintf(fd, "  failed: %s\n", err);
                close(fd);
            }
        }
        return EF_ENFORCE;
    }
    return 0;
}

static const char *ef_sn_tc_path(void)
{
    static const char *const c[] = {"/usr/sbin/tc", "/sbin/tc", "/usr/bin/tc", "/bin/tc"};
    for (size_t i = 0; i < EF_ARRAY_LEN(c); i++)
        if (access(c[i], X_OK) == 0) return c[i];
    return "tc";
}

static const char *ef_sn_nft_path(void)
{
    static const char *const c[] = {"/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"};
    for (size_t i = 0; i < EF_ARRAY_LEN(c); i++)
        if (access(c[i], X_OK) == 0) return c[i];
    return "nft";
}

/* `ip -n NS -batch -` or `tc -n NS -batch -` with script on stdin. */
static int ef_sn_batch(const ef_slicenet *net, bool tc, const char *ns, const char *script, bool force)
{
    char *argv[8];
    int k = 0;
    argv[k++] = (char *)(tc ? ef_sn_tc_path() : ef_proc_ip_path());
    if (force) argv[k++] = "-force";
    argv[k++] = "-n";
    argv[k++] = (char *)ns;
    argv[k++] = "-batch";
    argv[k++] = "-";
    argv[k] = NULL;
    return ef_sn_run(net, argv, script);
}

/* htb's default burst (one MTU at these rates) starves a class between timer
 * ticks: give every class 5 ms of its rate, at least 3000 bytes. */
static unsigned long long ef_sn_burst(uint64_t kbps)
{
    uint64_t b = kbps * 5u / 8u;
    return b < 3000 ? 3000 : (unsigned long long)b;
}

/* A growing script buffer. */
typedef struct ef_sn_buf {
    char p[EF_SN_SCRIPT_MAX];
    size_t n;
    bool over;
} ef_sn_buf;

static void ef_sn_add(ef_sn_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ef_sn_add(ef_sn_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->n, sizeof b->p - b->n, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof b->p - b->n) b->over = true;
    else b->n += (size_t)n;
}

/* ---- building the tree ---- */

static bool ef_sn_prefix_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > EF_SLICENET_PREFIX_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9'))) return false;
    return true;
}

static bool ef_sn_is_desc(const ef_slice_db *db, int d, int a)
{
    for (int x = d; x >= 0; x = ef_slice_node_parent(db, x))
        if (x == a) return true;
    return false;
}

/* The device of node `at` that carries link `link` (the uplink of node link). */
static void ef_sn_dev(const ef_slicenet *net, int link, int at, char *dev, size_t cap)
{
    (void)net;
    if (at == link) snprintf(dev, cap, "uplink");
    else snprintf(dev, cap, "d%d", link);
}

static int ef_sn_build(ef_slicenet *net)
{
    ef_slice_db *db = net->db;
    int rc = 0;
    char *argv[12];
    for (size_t i = 0; i < net->n && rc == 0; i++) {
        if (ef_proc_netns_exists(net->ns[i])) {
            EF_LOGW(EF_SN_LOG, "namespace %s exists already", net->ns[i]);
            return EF_EEXIST;
        }
        char *a[] = {(char *)ef_proc_ip_path(), "netns", "add", net->ns[i], NULL};
        rc = ef_sn_run(net, a, NULL);
        if (rc == 0) net->ns_made[i] = true;
    }
    /* links: created from the parent's side with the peer moved into the child's namespace */
    for (size_t i = 1; i < net->n && rc == 0; i++) {
        int p = ef_slice_node_parent(db, (int)i);
        char dev[24];
        ef_sn_dev(net, (int)i, p, dev, sizeof dev);
        int k = 0;
        argv[k++] = (char *)ef_proc_ip_path();
        argv[k++] = "-n";
        argv[k++] = net->ns[p];
        argv[k++] = "link";
        argv[k++] = "add";
        argv[k++] = dev;
        argv[k++] = "type";
        argv[k++] = "veth";
        argv[k++] = "peer";
        argv[k++] = "name";
        argv[k++] = "uplink";
        argv[k] = NULL;
        char *b[16];
        memcpy(b, argv, sizeof(char *) * (size_t)k);
        b[k++] = "netns";
        b[k++] = net->ns[i];
        b[k] = NULL;
        rc = ef_sn_run(net, b, NULL);
    }
    /* per namespace: addresses, routes, links up, htb on every device */
    ef_sn_buf *bufs = malloc(2 * sizeof *bufs);   /* large: not on the stack */
    if (!bufs) return EF_ENOMEM;
    ef_sn_buf *ipb = &bufs[0], *tcb = &bufs[1];
    for (size_t i = 0; i < net->n && rc == 0; i++) {
        ipb->n = 0;
        ipb->over = false;
        tcb->n = 0;
        tcb->over = false;
        ef_sn_add(ipb, "link set lo up\n");
        if (i == 0) ef_sn_add(ipb, "address add 10.%u.0.1/32 dev lo\n", net->octet);
        else {
            ef_sn_add(ipb, "address add 10.%u.%zu.2/30 dev uplink\nlink set dev uplink up\n", net->octet, i);
            ef_sn_add(ipb, "route add default via 10.%u.%zu.1 dev uplink\n", net->octet, i);
        }
        for (size_t c = 1; c < net->n; c++) {
            if (ef_slice_node_parent(db, (int)c) != (int)i) continue;
            ef_sn_add(ipb, "address add 10.%u.%zu.1/30 dev d%zu\nlink set dev d%zu up\n", net->octet, c, c, c);
            for (size_t d = 1; d < net->n; d++)
                if (d != c && ef_sn_is_desc(db, (int)d, (int)c))
                    ef_sn_add(ipb, "route add 10.%u.%zu.0/30 via 10.%u.%zu.2 dev d%zu\n", net->octet, d, net->octet,
                              c, c);
        }
        /* htb on each device of this node */
        for (size_t l = 1; l < net->n; l++) {
            int p = ef_slice_node_parent(db, (int)l);
            if ((int)l != (int)i && p != (int)i) continue;
            ef_slice_link lk;
            if (ef_slice_link_get(db, (int)l, &lk)) rc = EF_EINVAL;
            char dev[24];
            ef_sn_dev(net, (int)l, (int)i, dev, sizeof dev);
            unsigned long long cap = (unsigned long long)lk.kbps;
            ef_sn_add(tcb, "qdisc add dev %s root handle 1: htb default %x\n", dev, EF_SN_BE_CLASS);
            unsigned long long bu = ef_sn_burst(lk.kbps);
            ef_sn_add(tcb, "class add dev %s parent 1: classid 1:1 htb rate %llukbit ceil %llukbit burst %llu "
                           "cburst %llu quantum 1514\n",
                      dev, cap, cap, bu, bu);
            ef_sn_add(tcb, "class add dev %s parent 1:1 classid 1:%x htb rate 8kbit ceil %llukbit burst 3000 "
                           "cburst %llu prio 7 quantum 1514\n",
                      dev, EF_SN_BE_CLASS, cap, bu);
            /* a short best-effort queue (about 100 packets), as a switch port has */
            ef_sn_add(tcb, "qdisc add dev %s parent 1:%x handle %x: pfifo limit 100\n", dev, EF_SN_BE_CLASS,
                      EF_SN_BE_CLASS);
        }
        if (rc == 0 && (ipb->over || tcb->over)) rc = EF_ETOOBIG;
        if (rc == 0) rc = ef_sn_batch(net, false, net->ns[i], ipb->p, false);
        if (rc == 0 && tcb->n) rc = ef_sn_batch(net, true, net->ns[i], tcb->p, false);
        if (rc == 0) {
            char *s[] = {(char *)ef_proc_ip_path(), "netns", "exec", net->ns[i], "sysctl", "-qw",
                         "net.ipv4.ip_forward=1", NULL};
            rc = ef_sn_run(net, s, NULL);
        }
    }
    free(bufs);
    return rc;
}

static void ef_sn_destroy(ef_slicenet *net)
{
    for (size_t i = 0; i < net->n; i++) {
        if (!net->ns_made[i]) continue;
        char *a[] = {(char *)ef_proc_ip_path(), "netns", "del", net->ns[i], NULL};
        if (ef_sn_run(net, a, NULL) == 0) net->ns_made[i] = false;
    }
}

int ef_slicenet_open(ef_slicenet **out, ef_slice_db *db, const ef_slicenet_cfg *cfg)
{
    *out = NULL;
    if (!db || !cfg || !cfg->mode) return EF_EINVAL;
    bool netns = !strcmp(cfg->mode, "netns");
    if (!netns && strcmp(cfg->mode, "process")) return EF_EINVAL;
    if (netns && (!ef_sn_prefix_ok(cfg->prefix) || cfg->octet == 0 || cfg->octet == 255)) return EF_EINVAL;
    if (netns && geteuid() != 0) return EF_EPERM;
    if (cfg->log && strlen(cfg->log) >= EF_SLICENET_PATHNAME_MAX) return EF_EINVAL;
    ef_slicenet *net = calloc(1, sizeof *net);
    if (!net) return EF_ENOMEM;
    pthread_mutex_init(&net->mu, NULL);
    net->netns = netns;
    net->db = db;
    net->n = ef_slice_nodes(db);
    net->octet = cfg->octet;
    if (cfg->log) snprintf(net->log, sizeof net->log, "%s", cfg->log);
    if (netns) snprintf(net->prefix, sizeof net->prefix, "%s", cfg->prefix);
    for (size_t i = 0; i < net->n; i++) {
        if (netns) {
            snprintf(net->ns[i], sizeof net->ns[i], "%s-%zu", net->prefix, i);
            if (i == 0) snprintf(net->ip[i], sizeof net->ip[i], "10.%u.0.1", net->octet);
            else snprintf(net->ip[i], sizeof net->ip[i], "10.%u.%zu.2", net->octet, i);
        } else snprintf(net->ip[i], sizeof net->ip[i], "127.0.0.1");
    }
    if (netns) {
        pthread_mutex_lock(&net->mu);
        int rc = ef_sn_build(net);
        pthread_mutex_unlock(&net->mu);
        if (rc) {
            ef_sn_destroy(net);
            pthread_mutex_destroy(&net->mu);
            free(net);
            return rc == EF_EEXIST ? EF_EEXIST : rc == EF_ETOOBIG ? EF_EINVAL : EF_ENFORCE;
        }
    }
    *out = net;
    return 0;
}

void ef_slicenet_close(ef_slicenet *net)
{
    if (!net) return;
    /* namespaces take their devices, qdiscs and rules with them */
    pthread_mutex_lock(&net->mu);
    ef_sn_destroy(net);
    memset(net->slot, 0, sizeof net->slot);
    net->nslots = 0;
    pthread_mutex_unlock(&net->mu);
    pthread_mutex_destroy(&net->mu);
    free(net);
}

bool ef_slicenet_enforcing(const ef_slicenet *net) { return net->netns; }

const char *ef_slicenet_ns(const ef_slicenet *net, int node)
{
    if (!net->netns || node < 0 || (size_t)node >= net->n) return NULL;
    return net->ns[node];
}

const char *ef_slicenet_ip(const ef_slicenet *net, int node)
{
    if (node < 0 || (size_t)node >= net->n) return "127.0.0.1";
    return net->ip[node];
}

/* ---- slices ---- */

typedef struct ef_sn_job {
    const ef_slicenet *net;
    const char *ns;
    bool force, inline_;
    char script[1024];   /* two devices of one slice: four short lines */
    int rc;
    pthread_t th;
} ef_sn_job;

static void *ef_sn_job_run(void *arg)
{
    ef_sn_job *jb = arg;
    jb->rc = ef_sn_batch(jb->net, true, jb->ns, jb->script, jb->force);
    return NULL;
}

/* One tc script per namespace touched by the path: add (or delete) the slice's
 * class and filter on both devices of every link. Under mu. */
static int ef_sn_apply(ef_slicenet *net, size_t s, bool add)
{
    const ef_sn_slot *sl = &net->slot[s];
    int nodes[2 * EF_SLICE_PATH_MAX + 2];
    size_t nn = 0;
    for (size_t i = 0; i < sl->path.len; i++) {
        int l = sl->path.link[i], ends[2] = {l, ef_slice_node_parent(net->db, l)};
        for (int e = 0; e < 2; e++) {
            bool seen = false;
            for (size_t k = 0; k < nn; k++) seen |= nodes[k] == ends[e];
            if (!seen) nodes[nn++] = ends[e];
        }
    }
    ef_sn_job *jobs = calloc(nn, sizeof *jobs);
    if (!jobs) return EF_ENOMEM;
    int first_rc = 0;
    unsigned minor = EF_SN_SLOT_BASE + (unsigned)s, prio = EF_SN_PRIO_BASE + (unsigned)s;
    for (size_t k = 0; k < nn && !first_rc; k++) {
        ef_sn_job *jb = &jobs[k];
        jb->net = net;
        jb->ns = net->ns[nodes[k]];
        jb->force = !add;
        size_t used = 0;
        for (size_t i = 0; i < sl->path.len; i++) {
            int l = sl->path.link[i];
            if (nodes[k] != l && nodes[k] != ef_slice_node_parent(net->db, l)) continue;
            ef_slice_link lk;
            char dev[24];
            int n;
            if (ef_slice_link_get(net->db, l, &lk)) {
                first_rc = EF_EINVAL;
                break;
            }
            ef_sn_dev(net, l, nodes[k], dev, sizeof dev);
            if (add)
                n = snprintf(jb->script + used, sizeof jb->script - used,
                             "class add dev %s parent 1:1 classid 1:%x htb rate %llukbit ceil %llukbit burst %llu "
                             "cburst %llu prio 0 quantum 1514\n"
                             "filter add dev %s parent 1: protocol ip prio %u u32 match ip protocol 17 0xff "
                             "match ip dport %u 0xffff flowid 1:%x\n",
                             dev, minor, (unsigned long long)sl->kbps, (unsigned long long)lk.kbps,
                             ef_sn_burst(sl->kbps), ef_sn_burst(lk.kbps), dev, prio, (unsigned)sl->port, minor);
            else
                n = snprintf(jb->script + used, sizeof jb->script - used,
                             "filter del dev %s parent 1: protocol ip prio %u\nclass del dev %s classid 1:%x\n", dev,
                             prio, dev, minor);
            if (n < 0 || (size_t)n >= sizeof jb->script - used) {
                first_rc = EF_EINVAL;
                break;
            }
            used += (size_t)n;
        }
    }
    /* one tc batch per namespace, all at once (they touch different namespaces) */
    size_t started = 0;
    for (size_t k = 0; k < nn && !first_rc; k++) {
        if (pthread_create(&jobs[k].th, NULL, ef_sn_job_run, &jobs[k])) {
            ef_sn_job_run(&jobs[k]);
            jobs[k].inline_ = true;
        }
        started = k + 1;
    }
    for (size_t k = 0; k < started; k++) {
        if (!jobs[k].inline_) pthread_join(jobs[k].th, NULL);
        if (jobs[k].rc && !first_rc) first_rc = jobs[k].rc;
    }
    free(jobs);
    return first_rc;
}

static ef_sn_slot *ef_sn_find(ef_slicenet *net, const char *id, size_t *idx)
{
    for (size_t s = 0; s < EF_SLICENET_SLOTS_MAX; s++)
        if (net->slot[s].used && !strcmp(net->slot[s].id, id)) {
            if (idx) *idx = s;
            return &net->slot[s];
        }
    return NULL;
}

int ef_slicenet_stitch(ef_slicenet *net, const char *id, uint64_t kbps, const ef_slice_path *path, uint16_t port,
                       uint64_t *took_us)
{
    uint64_t t0 = ef_now_mono_us();
    if (!net || !id || strlen(id) > EF_SLICE_ID_MAX || !path || path->len == 0 || kbps == 0 || port == 0)
        return EF_EINVAL;
    int rc = 0;
    pthread_mutex_lock(&net->mu);
    size_t s = EF_SLICENET_SLOTS_MAX;
    if (ef_sn_find(net, id, NULL)) rc = EF_EEXIST;
    for (size_t i = 0; rc == 0 && i < EF_SLICENET_SLOTS_MAX && s == EF_SLICENET_SLOTS_MAX; i++)
        if (!net->slot[i].used) s = i;
    if (rc == 0 && s == EF_SLICENET_SLOTS_MAX) rc = EF_EFULL;
    if (rc == 0) {
        ef_sn_slot *sl = &net->slot[s];
        memset(sl, 0, sizeof *sl);
        snprintf(sl->id, sizeof sl->id, "%s", id);
        sl->kbps = kbps;
        sl->port = port;
        sl->path = *path;
        if (net->netns && (rc = ef_sn_apply(net, s, true))) {
            (void)ef_sn_apply(net, s, false);   /* take back what went in */
            memset(sl, 0, sizeof *sl);
        } else {
            sl->used = true;
            net->nslots++;
        }
    }
    pthread_mutex_unlock(&net->mu);
    if (took_us) *took_us = ef_now_mono_us() - t0;
    return rc;
}

int ef_slicenet_unstitch(ef_slicenet *net, const char *id)
{
    if (!net || !id) return EF_EINVAL;
    pthread_mutex_lock(&net->mu);
    size_t s;
    int rc = 0;
    ef_sn_slot *sl = ef_sn_find(net, id, &s);
    if (!sl) rc = EF_ENOTFOUND;
    else {
        if (net->netns) rc = ef_sn_apply(net, s, false);
        memset(sl, 0, sizeof *sl);
        net->nslots--;
    }
    pthread_mutex_unlock(&net->mu);
    return rc;
}

/* The loss rule in namespace ns (table and chain are made idempotently). */
static int ef_sn_loss(const ef_slicenet *net, const char *ns, uint16_t port, unsigned pct)
{
    const char *nft = ef_sn_nft_path(), *ip = ef_proc_ip_path();
    char *t[] = {(char *)ip, "netns", "exec", (char *)ns, (char *)nft, "add", "table", "inet", "efslice", NULL};
    char *c[] = {(char *)ip, "netns", "exec", (char *)ns, (char *)nft, "add", "chain", "inet", "efslice", "slicefwd",
                 "{ type filter hook forward priority 0 ; }", NULL};
    char *f[] = {(char *)ip, "netns", "exec", (char *)ns, (char *)nft, "flush", "chain", "inet", "efslice", "slicefwd",
                 NULL};
    int rc = ef_sn_run(net, t, NULL);
    if (rc == 0) rc = ef_sn_run(net, c, NULL);
    if (rc == 0) rc = ef_sn_run(net, f, NULL);
    if (rc == 0 && pct > 0) {
        char ps[16], pcs[16];
        snprintf(ps, sizeof ps, "%u", (unsigned)port);
        snprintf(pcs, sizeof pcs, "%u", pct);
        char *r[] = {(char *)ip, "netns", "exec", (char *)ns, (char *)nft, "add", "rule", "inet", "efslice", "slicefwd",
                     "udp", "dport", ps, "numgen", "random", "mod", "100", "<", pcs, "drop", NULL};
        rc = ef_sn_run(net, r, NULL);
    }
    return rc;
}

int ef_slicenet_loss(ef_slicenet *net, int node, uint16_t port, unsigned pct)
{
    if (!net || node < 0 || (size_t)node >= net->n || pct > 100 || port == 0) return EF_EINVAL;
    if (!net->netns) return EF_ESTATE;
    pthread_mutex_lock(&net->mu);
    int rc = ef_sn_loss(net, net->ns[node], port, pct);
    pthread_mutex_unlock(&net->mu);
    return rc;
}

int ef_slicenet_loss_ns(const char *ns, uint16_t port, unsigned pct, const char *log)
{
    if (!ns || !ef_proc_netns_exists(ns) || pct > 100 || port == 0 || (log && strlen(log) >= EF_SLICENET_PATHNAME_MAX))
        return EF_EINVAL;
    if (geteuid() != 0) return EF_EPERM;
    ef_slicenet *tmp = calloc(1, sizeof *tmp);   /* only for its log path */
    if (!tmp) return EF_ENOMEM;
    if (log) snprintf(tmp->log, sizeof tmp->log, "%s", log);
    int rc = ef_sn_loss(tmp, ns, port, pct);
    free(tmp);
    return rc;
}

void ef_slicenet_forget_all(ef_slicenet *net)
{
    pthread_mutex_lock(&net->mu);
    memset(net->slot, 0, sizeof net->slot);
    net->nslots = 0;
    pthread_mutex_unlock(&net->mu);
}

size_t ef_slicenet_count(ef_slicenet *net)
{
    pthread_mutex_lock(&net->mu);
    size_t n = net->nslots;
    pthread_mutex_unlock(&net->mu);
    return n;
}
