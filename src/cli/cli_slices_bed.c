/* cli_slices_bed.c: the two-domain slice testbed of demo slices and bench
 * slices --real; see cli_slices_bed.h. */
#include "cli/cli_slices_bed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agents/ef_proc.h"
#include "base/ef_codec.h"
#include "base/ef_fs.h"
#include "base/ef_log.h"
#include "cli/cli.h"
#include "cli/cli_market.h"
#include "contracts/ef_nslice.h"

static const char *const bed_topo[2] = {
    "{\"nodes\": [\n"
    "  {\"name\": \"gwa\",   \"layer\": \"core\"},\n"
    "  {\"name\": \"edge1\", \"layer\": \"edge\",     \"parent\": \"gwa\",   \"kbps\": 20000, \"latency_us\": 1000},\n"
    "  {\"name\": \"cam1\",  \"layer\": \"customer\", \"parent\": \"edge1\", \"kbps\": 20000, \"latency_us\": 2000},\n"
    "  {\"name\": \"cam2\",  \"layer\": \"customer\", \"parent\": \"edge1\", \"kbps\": 20000, \"latency_us\": 2000}\n"
    "]}\n",
    "{\"nodes\": [\n"
    "  {\"name\": \"gwb\",   \"layer\": \"core\"},\n"
    "  {\"name\": \"edge1\", \"layer\": \"edge\",     \"parent\": \"gwb\",   \"kbps\": 20000, \"latency_us\": 1000},\n"
    "  {\"name\": \"srv\",   \"layer\": \"server\",   \"parent\": \"edge1\", \"kbps\": 20000, \"latency_us\": 500}\n"
    "]}\n"};

static const char *const bed_names[2] = {"a", "b"};

static void bed_ms(unsigned ms) { usleep(ms * 1000u); }

/* genesis: params.nslice.admin = the domain's validator v0 */
static int bed_admin_genesis(const ef_demo_net *n)
{
    char path[PATH_MAX + 32], pub[2 * EF_PUB_SIZE + 1];
    snprintf(path, sizeof path, "%.*s/genesis.json", PATH_MAX - 64, n->dir);
    json_t *g = json_load_file(path, 0, NULL);
    if (!g) return EF_EIO;
    ef_hex(pub, n->nodes[0].key.pub.b, EF_PUB_SIZE);
    json_t *params = json_object_get(g, "params");
    if (!json_is_object(params)) json_object_set_new(g, "params", params = json_object());
    json_object_set_new(params, "nslice", json_pack("{s:s}", "admin", pub));
    int rc = json_dump_file(g, path, JSON_INDENT(2)) ? EF_EIO : 0;
    json_decref(g);
    return rc;
}

static int bed_publish(ef_slices_bed *b, int i)
{
    ef_nslice_template t = {.kbps_min = 1000, .kbps_max = 50000, .max_latency_us = 50000};
    snprintf(t.name, sizeof t.name, "e2e-video-%s", bed_names[i]);
    snprintf(t.description, sizeof t.description, "camera to server, domain %s's part", bed_names[i]);
    ef_wr w;
    ef_wr_init(&w);
    int rc = ef_nslice_template_encode(&w, &t);
    char *hex = rc ? NULL : malloc(2 * w.len + 1), *args = hex ? malloc(2 * w.len + 128) : NULL, code[24] = "";
    if (args) {
        ef_hash id;
        ef_nslice_template_id(&id, w.buf, w.len);
        ef_hex(b->tmpl[i], id.b, EF_HASH_SIZE);
        ef_hex(hex, w.buf, w.len);
        sprintf(args, "{\"template\":\"%s\",\"id\":\"%s\"}", hex, b->tmpl[i]);
        ef_demo_net *n = &b->net[i];
        rc = ef_cli_call_retry(n->api, &n->nodes[0].key, true, "nslice", "publish", args, code, NULL);
        if (!rc && strcmp(code, "OK")) rc = EF_ESTATE;
        if (rc) fprintf(stderr, "slices: domain %s: nslice.publish: %s (%s)\n", bed_names[i], ef_strerror(rc), code);
    } else if (!rc) {
        rc = EF_ENOMEM;
    }
    free(hex);
    free(args);
    ef_wr_free(&w);
    return rc;
}

static bool bed_file(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static int bed_ip(ef_slices_bed *b, const char *a0, const char *a1, const char *a2, const char *a3, const char *a4,
                  const char *a5, const char *a6, const char *a7)
{
    return ef_proc_cmd_log(b->log, ef_proc_ip_path(), a0, a1, a2, a3, a4, a5, a6, a7, NULL);
}

/* The border link: a veth pair between the roots of the two trees, with a
 * route each way, so a's tree reaches b's addresses and back. */
static int bed_border(ef_slices_bed *b)
{
    char ns[2][32], dev[2][16], addr[2][32], via[2][32], dst[2][32];
    for (int i = 0; i < 2; i++) {
        snprintf(ns[i], sizeof ns[i], "%s-0", b->prefix[i]);
        snprintf(dev[i], sizeof dev[i], "efx%c%u", i ? 'b' : 'a', (unsigned)getpid() % 100000u);
        snprintf(addr[i], sizeof addr[i], "10.%u.254.%d/30", b->octet[0], i + 1);
        snprintf(via[i], sizeof via[i], "10.%u.254.%d", b->octet[0], 2 - i);
        snprintf(dst[i], sizeof dst[i], "10.%u.0.0/16", b->octet[1 - i]);
    }
    int rc = ef_proc_cmd_log(b->log, ef_proc_ip_path(), "link", "add", dev[0], "type", "veth", "peer", "name", dev[1],
                             NULL);
    for (int i = 0; i < 2 && !rc; i++) {
        rc = ef_proc_cmd_log(b->log, ef_proc_ip_path(), "link", "set", dev[i], "netns", ns[i], NULL);
        if (rc) /* not moved: the pair is in this namespace, where nothing removes it */
            (void)ef_proc_cmd_log(b->log, ef_proc_ip_path(), "link", "del", dev[i], NULL);
        if (!rc) rc = bed_ip(b, "-n", ns[i], "addr", "add", addr[i], "dev", dev[i], NULL);
        if (!rc) rc = ef_proc_cmd_log(b->log, ef_proc_ip_path(), "-n", ns[i], "link", "set", dev[i], "up", NULL);
        if (!rc) rc = bed_ip(b, "-n", ns[i], "route", "add", dst[i], "via", via[i], NULL);
    }
    return rc;
}

static int bed_ctl_start(ef_slices_bed *b, int i)
{
    char topo[PATH_MAX], clog[PATH_MAX], octet[8], pb[8], key[PATH_MAX];
    snprintf(topo, sizeof topo, "%.*s/topology-%s.json", PATH_MAX - 64, b->dir, bed_names[i]);
    snprintf(clog, sizeof clog, "%.*s/controller-%s.log", PATH_MAX - 64, b->dir, bed_names[i]);
    snprintf(key, sizeof key, "%.*s/node.key", PATH_MAX - 64, b->net[i].nodes[0].home);
    snprintf(octet, sizeof octet, "%u", b->octet[i]);
    snprintf(pb, sizeof pb, "%u", b->port_base);
    FILE *f = fopen(topo, "w");
    if (!f) return EF_EIO;
    fputs(bed_topo[i], f);
    if (fclose(f)) return EF_EIO;
    remove(b->ctl_state[i]);
    char *argv[] = {b->exe, "nslice", "controller", "--key", key, "--node", b->net[i].api, "--topology", topo,
                    b->netns ? "--netns" : "--process", "--prefix", b->prefix[i], "--octet", octet, "--port-base", pb,
                    "--state", b->ctl_state[i], "--log", b->log, NULL};
    int rc = ef_demo_spawn(&b->ctl[i], clog, argv);
    for (int k = 0; !rc && k < 400 && !bed_file(b->ctl_state[i]); k++) bed_ms(25);
    if (!rc && !bed_file(b->ctl_state[i])) {
        fprintf(stderr, "slices: the slice control of domain %s did not start (see %s)\n", bed_names[i], clog);
        rc = EF_ETIMEOUT;
    }
    return rc;
}

int ef_slices_bed_orch_start(ef_slices_bed *b)
{
    char olog[PATH_MAX], key[PATH_MAX], dom[2][PATH_MAX + 256];
    snprintf(olog, sizeof olog, "%.*s/orchestrator.log", PATH_MAX - 64, b->dir);
    snprintf(key, sizeof key, "%.*s/node.key", PATH_MAX - 64, b->net[2].nodes[2].home);
    for (int i = 0; i < 2; i++)
        snprintf(dom[i], sizeof dom[i], "%s=%s,%.*s/node.key,%s", bed_names[i], b->net[i].api, PATH_MAX - 64,
                 b->net[i].nodes[1].home, b->tmpl[i]);
    remove(b->orch_state);
    char *argv[] = {b->exe, "nslice", "orchestrator", "--federation", b->net[2].api, "--key", key, "--domain", dom[0],
                    "--domain", dom[1], "--rates-dir", b->rates, "--degrade-ms", "1500", "--headroom-pct", "40",
                    "--state", b->orch_state, NULL};
    int rc = ef_demo_spawn(&b->orch, olog, argv);
    for (int k = 0; !rc && k < 400 && !bed_file(b->orch_state); k++) bed_ms(25);
    if (!rc && !bed_file(b->orch_state)) {
        fprintf(stderr, "slices: the orchestrator did not start (see %s)\n", olog);
        rc = EF_ETIMEOUT;
    }
    return rc;
}

void ef_slices_bed_orch_stop(ef_slices_bed *b)
{
    if (b->orch <= 0) return;
    long kb = ef_demo_pid_hwm_kb((int)b->orch);
    if (kb > b->orch_hwm) b->orch_hwm = kb;
    (void)ef_proc_stop(b->orch, 5000);
    b->orch = -1;
}

int ef_slices_bed_up(ef_slices_bed *b, const char *dir, const char *exe, unsigned port, bool netns)
{
    memset(b, 0, sizeof *b);
    b->ctl[0] = b->ctl[1] = b->orch = -1;
    snprintf(b->dir, sizeof b->dir, "%s", dir);
    snprintf(b->exe, sizeof b->exe, "%s", exe);
    snprintf(b->log, sizeof b->log, "%s/commands.log", b->dir);
    snprintf(b->rates, sizeof b->rates, "%s/rates", b->dir);
    snprintf(b->orch_state, sizeof b->orch_state, "%s/orchestrator-state.json", b->dir);
    b->netns = netns;
    b->port = port;
    unsigned pid = (unsigned)getpid();
    b->port_base = 42000 + (pid % 20u) * 1030u;
    b->octet[0] = 120 + pid % 60u;
    b->octet[1] = b->octet[0] + 60;
    for (int i = 0; i < 2; i++) {
        snprintf(b->prefix[i], sizeof b->prefix[i], "efs%c%u", bed_names[i][0], pid % 1000000u);
        snprintf(b->ctl_state[i], sizeof b->ctl_state[i], "%s/controller-%s.json", b->dir, bed_names[i]);
    }
    if (ef_fs_mkdirs(b->dir, 0700) || ef_fs_mkdirs(b->rates, 0700)) return 1;
    /* 1. the ledgers */
    for (int i = 0; i < 3; i++) {
        char ports[16], chain[32];
        snprintf(b->net[i].dir, sizeof b->net[i].dir, "%.*s/%s", PATH_MAX - 300, b->dir, i < 2 ? bed_names[i] : "fed");
        snprintf(ports, sizeof ports, "%u", port + 5u * (unsigned)i);   /* 2, 2 and 3 nodes: P..P+12, HTTP +100 */
        snprintf(chain, sizeof chain, i < 2 ? "slices-dom-%s" : "slices-fed", i < 2 ? bed_names[i] : "");
        int rc = ef_proc_cmd_log(b->log, b->exe, "testnet", "init", "--dir", b->net[i].dir, "--validators",
                                 i < 2 ? "1" : "2", "--observers", "1", "--chain", chain, "--base-port", ports,
                                 "--accounts", "0", "--empty-block-ms", "100", NULL);
        if (rc || ef_demo_net_load(&b->net[i], false) || (i < 2 && bed_admin_genesis(&b->net[i]))) {
            fprintf(stderr, "slices: testnet init failed (see %s)\n", b->log);
            return 1;
        }
    }
    for (int i = 0; i < 2; i++) {
        for (size_t k = 0; k < b->net[i].n; k++)
            if (ef_demo_edit_config(b->net[i].nodes[k].home, ef_demo_make_private, NULL)) return 1;
        char rk[PATH_MAX];
        snprintf(rk, sizeof rk, "%.*s/node.key", PATH_MAX - 64, b->net[i].nodes[1].home);
        ef_demo_relayer rel = {b->net[i].api, bed_names[i], rk, 1000};
        if (ef_demo_edit_config(b->net[2].nodes[i].home, ef_demo_add_relayer, &rel)) return 1;
        ef_hex(b->owner[i], b->net[i].nodes[1].key.pub.b, EF_PUB_SIZE);
    }
    b->orch_key = b->net[2].nodes[2].key;
    for (int i = 0; i < 3; i++) {
        b->up[i] = true;   /* a testnet that came up in part is taken down too */
        if (ef_proc_cmd_log(b->log, b->exe, "testnet", "up", "--dir", b->net[i].dir, NULL)) {
            fprintf(stderr, "slices: testnet up failed (see %s)\n", b->log);
            return 1;
        }
    }
    for (int i = 0; i < 3; i++) {
        json_t *st = NULL;
        const ef_keypair *k = i < 2 ? &b->net[i].nodes[1].key : NULL;
        for (int t = 0; t < 150 && ef_cli_get_as(b->net[i].api, k, "/status", &st); t++) bed_ms(100);
        if (!st) {
            fprintf(stderr, "slices: %s does not answer\n", b->net[i].api);
            return 1;
        }
        json_decref(st);
    }
    /* 2. templates, the domains on the anchor */
    for (int i = 0; i < 2; i++)
        if (bed_publish(b, i)) return 1;
    for (int i = 0; i < 2; i++) {
        int t = 0;
        while (ef_slices_bed_anchored(b, i) < 1 && t++ < 300) bed_ms(100);
        if (ef_slices_bed_anchored(b, i) < 1) {
            fprintf(stderr, "slices: domain %s was not registered on the anchor\n", bed_names[i]);
            return 1;
        }
    }
    /* 3. the slice controls, the border, the orchestrator */
    for (int i = 0; i < 2; i++)
        if (bed_ctl_start(b, i)) return 1;
    if (b->netns && bed_border(b)) {
        fprintf(stderr, "slices: the border link failed (see %s)\n", b->log);
        return 1;
    }
    return ef_slices_bed_orch_start(b) ? 1 : 0;
}

void ef_slices_bed_down(ef_slices_bed *b, bool keep)
{
    ef_slices_bed_orch_stop(b);
    for (int i = 0; i < 2; i++) {
        if (b->ctl[i] <= 0) continue;
        long kb = ef_demo_pid_hwm_kb((int)b->ctl[i]);
        if (kb > b->ctl_hwm[i]) b->ctl_hwm[i] = kb;
        (void)ef_proc_stop(b->ctl[i], 10000);   /* removes its namespaces (and the border with them) */
        b->ctl[i] = -1;
    }
    for (int i = 2; i >= 0; i--)
        if (b->up[i] && !keep) {
            (void)ef_proc_cmd_log(b->log, b->exe, "testnet", "down", "--dir", b->net[i].dir, NULL);
            b->up[i] = false;
        }
}

int ef_slices_bed_request(ef_slices_bed *b, const char *id, uint64_t kbps)
{
    char args[1024], code[24];
    snprintf(args, sizeof args,
             "{\"id\":\"%s\",\"a\":{\"domain\":\"a\",\"ap\":\"cam1\",\"dst\":\"gwa\",\"owner\":\"%s\"},"
             "\"b\":{\"domain\":\"b\",\"ap\":\"gwb\",\"dst\":\"srv\",\"owner\":\"%s\"},\"kbps\":%llu,"
             "\"max_latency_us\":50000}",
             id, b->owner[0], b->owner[1], (unsigned long long)kbps);
    int rc = ef_cli_call_retry(b->net[2].api, &b->orch_key, false, "e2e", "request", args, code, NULL);
    if (!rc && strcmp(code, "OK")) rc = EF_ESTATE;
    if (rc) fprintf(stderr, "slices: e2e.request %s: %s (%s)\n", id, ef_strerror(rc), code);
    return rc;
}

int ef_slices_bed_owner_call(ef_slices_bed *b, const char *method, const char *id, const char *args_extra)
{
    char args[512], code[24];
    snprintf(args, sizeof args, "{\"id\":\"%s\"%s}", id, args_extra);
    int rc = ef_cli_call_retry(b->net[2].api, &b->orch_key, false, "e2e", method, args, code, NULL);
    if (!rc && strcmp(code, "OK")) rc = EF_ESTATE;
    if (rc) fprintf(stderr, "slices: e2e.%s %s: %s (%s)\n", method, id, ef_strerror(rc), code);
    return rc;
}

json_t *ef_slices_bed_slice(ef_slices_bed *b, const char *id)
{
    char path[96];
    json_t *j = NULL;
    snprintf(path, sizeof path, "/state/e2e/slice/%s", id);
    return ef_cli_get_as(b->net[2].api, NULL, path, &j) ? NULL : j;
}

int ef_slices_bed_wait(ef_slices_bed *b, const char *id, bool (*fn)(const json_t *rec, void *arg), void *arg,
                       uint32_t timeout_ms, json_t **rec)
{
    uint64_t end = ef_now_mono_us() + (uint64_t)timeout_ms * 1000u;
    if (rec) *rec = NULL;
    do {
        json_t *j = ef_slices_bed_slice(b, id);
        if (j && fn(j, arg)) {
            if (rec) *rec = j;
            else json_decref(j);
            return 0;
        }
        json_decref(j);
        bed_ms(5);
    } while (ef_now_mono_us() < end);
    return EF_ETIMEOUT;
}

int64_t ef_slices_bed_anchored(ef_slices_bed *b, int i)
{
    char path[64];
    json_t *j = NULL;
    snprintf(path, sizeof path, "/state/anchor/domain/%s", bed_names[i]);
    if (ef_cli_get_as(b->net[2].api, NULL, path, &j)) return -1;
    int64_t h = (int64_t)json_integer_value(json_object_get(j, "height"));
    json_decref(j);
    return h;
}

json_t *ef_slices_bed_ctl_inst(ef_slices_bed *b, int i, const char *inst)
{
    json_t *st = json_load_file(b->ctl_state[i], 0, NULL), *found = NULL;
    size_t k;
    json_t *x;
    json_array_foreach(json_object_get(st, "instances"), k, x) if (!found &&
                                                                    !strcmp(json_string_value(json_object_get(
                                                                                x, "id")) ?: "", inst)) found =
        json_incref(x);
    json_decref(st);
    return found;
}

int ef_slices_bed_ctl_count(ef_slices_bed *b, int i)
{
    json_t *st = json_load_file(b->ctl_state[i], 0, NULL);
    int n = st ? (int)json_array_size(json_object_get(st, "instances")) : -1;
    json_decref(st);
    return n;
}

int ef_slices_bed_squeeze(ef_slices_bed *b, uint64_t kbps)
{
    if (!b->netns) return EF_ESTATE;
    char ns[32], rate[32];
    snprintf(ns, sizeof ns, "%s-1", b->prefix[0]);   /* edge1: its uplink carries edge1 -> gwa */
    snprintf(rate, sizeof rate, "%llukbit", (unsigned long long)kbps);
    static const char *const tcs[] = {"/usr/sbin/tc", "/sbin/tc", "/usr/bin/tc"};
    const char *tc = "tc";
    for (size_t i = 0; i < EF_ARRAY_LEN(tcs); i++)
        if (access(tcs[i], X_OK) == 0) {
            tc = tcs[i];
            break;
        }
    return ef_proc_cmd_log(b->log, tc, "-n", ns, "class", "change", "dev", "uplink", "parent", "1:", "classid", "1:1",
                           "htb", "rate", rate, "ceil", rate, NULL)
               ? EF_ENFORCE
               : 0;
}

int ef_slices_traffic_rates(const ef_slices_traffic *t, uint64_t e, uint32_t timeout_ms, int64_t *ka, int64_t *kb)
{
    for (uint32_t w = 0; w <= timeout_ms; w += 20) {
        json_t *a = ef_demo_epoch_line(t->out[0], e), *b = a ? ef_demo_epoch_line(t->out[1], e) : NULL;
        if (a && b) {
            *ka = (int64_t)json_integer_value(json_object_get(a, "kbps"));
            *kb = (int64_t)json_integer_value(json_object_get(b, "kbps"));
        }
        json_decref(a);
        json_decref(b);
        if (a && b) return 0;
        bed_ms(20);
    }
    return EF_ETIMEOUT;
}

uint64_t ef_slices_traffic_epoch(const ef_slices_traffic *t, uint64_t t_ms)
{
    return t_ms <= t->start_ms ? 0 : (t_ms - t->start_ms) / t->epoch_ms;
}

void ef_slices_traffic_stop(ef_slices_traffic *t)
{
    for (int i = 0; i < 3; i++) {
        if (t->pid[i] > 0) (void)ef_proc_stop(t->pid[i], 2000);
        t->pid[i] = -1;
    }
}

int ef_slices_bed_traffic(ef_slices_bed *b, ef_slices_traffic *t, const char *id, uint64_t send_kbps,
                          unsigned pkt_bytes, uint64_t start_ms, uint64_t epoch_ms, unsigned epochs, const char *fault)
{
    char inst[2][48];
    memset(t, 0, sizeof *t);
    t->pid[0] = t->pid[1] = t->pid[2] = -1;
    t->start_ms = start_ms;
    t->epoch_ms = epoch_ms;
    snprintf(inst[0], sizeof inst[0], "%.40s-a", id);
    snprintf(inst[1], sizeof inst[1], "%.40s-b", id);
    json_t *ia = ef_slices_bed_ctl_inst(b, 0, inst[0]), *ib = ef_slices_bed_ctl_inst(b, 1, inst[1]);
    int rc = ia && ib ? 0 : EF_ENOTFOUND;
    t->port = (int)json_integer_value(json_object_get(ia, "port"));
    if (!rc && t->port != (int)json_integer_value(json_object_get(ib, "port"))) rc = EF_ESTATE;
    if (rc) {
        json_decref(ia);
        json_decref(ib);
        return rc;
    }
    char sp[16], cp[16], st_ms[24], epms[16], eps[16], dst[80], cpy[80], rate[24], pkt[16], mlog[PATH_MAX];
    for (int p = 0; p < 2; p++)
        snprintf(t->out[p], sizeof t->out[p], "%.*s/%.40s-%c.jsonl", PATH_MAX - 64, b->rates, id, p ? 'b' : 'a');
    remove(t->out[0]);
    remove(t->out[1]);
    snprintf(mlog, sizeof mlog, "%.*s/traffic.log", PATH_MAX - 64, b->dir);
    snprintf(sp, sizeof sp, "%d", t->port);
    snprintf(cp, sizeof cp, "%d", b->netns ? t->port : t->port + 5000);   /* loopback: another port for a's monitor */
    snprintf(st_ms, sizeof st_ms, "%llu", (unsigned long long)start_ms);
    snprintf(epms, sizeof epms, "%llu", (unsigned long long)epoch_ms);
    snprintf(eps, sizeof eps, "%u", epochs);
    snprintf(dst, sizeof dst, "%s:%d", json_string_value(json_object_get(ib, "dst_ip")) ?: "", t->port);
    snprintf(cpy, sizeof cpy, "%s:%s", json_string_value(json_object_get(ia, "dst_ip")) ?: "", cp);
    snprintf(rate, sizeof rate, "%llu", (unsigned long long)send_kbps);
    snprintf(pkt, sizeof pkt, "%u", pkt_bytes);
    const char *ns_a = json_string_value(json_object_get(ia, "dst_ns")), *ns_b = json_string_value(json_object_get(ib, "dst_ns")),
               *ns_s = json_string_value(json_object_get(ia, "ap_ns"));
    char *m1[] = {b->exe, "slice", "monitor", "--netns", (char *)(ns_a ?: ""), "--port", cp, "--sla", "0", "--start-ms",
                  st_ms, "--epoch-ms", epms, "--epochs", eps, "--scale", "10", "--out", t->out[0], NULL};
    char *m2[] = {b->exe, "slice", "monitor", "--netns", (char *)(ns_b ?: ""), "--port", sp, "--sla", "0",
                  "--start-ms", st_ms, "--epoch-ms", epms, "--epochs", eps, "--out", t->out[1], NULL};
    char *s1[] = {b->exe, "slice", "send", "--netns", (char *)(ns_s ?: ""), "--dst", dst, "--copy", cpy,
                  "--copy-every", "10", "--rate-kbps", rate, "--pkt-bytes", pkt, "--sla", "0", "--start-ms", st_ms,
                  "--epoch-ms", epms, "--epochs", eps, fault && !b->netns ? "--fault-epochs" : NULL, (char *)fault,
                  "--fault-pct", "30", NULL};
    char **all[] = {m1, m2, s1};
    for (int i = 0; i < 3 && !rc; i++) {
        if (!b->netns)   /* no --netns NS on loopback */
            for (size_t k = 3; (all[i][k] = all[i][k + 2]) != NULL; k++) {}
        rc = ef_demo_spawn(&t->pid[i], mlog, all[i]);
    }
    json_decref(ia);
    json_decref(ib);
    if (rc) ef_slices_traffic_stop(t);
    return rc;
}
