/* cli_fedrun.c: a local federation of MEC systems for demo and bench (see cli_fedrun.h). */
#include "cli/cli_fedrun.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agents/ef_pricing.h"
#include "base/ef_codec.h"
#include "base/ef_err.h"
#include "contracts/ef_contracts.h"
#include "ledger/ef_store.h"

/* Runs the edgefed binary with args (NULL-terminated), output appended to
 * DIR/commands.log. Returns its exit status (or -1). */
static int fr_run(ef_fedrun *fr, const char *const *args)
{
    char log[EF_FEDRUN_PATH_MAX + 32];
    snprintf(log, sizeof log, "%s/commands.log", fr->dir);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        char *argv[32];
        size_t k = 0;
        argv[k++] = fr->binary;
        for (size_t i = 0; args[i] && k < 31; i++) argv[k++] = (char *)args[i];
        argv[k] = NULL;
        execv(fr->binary, argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *fr_str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

int ef_fedrun_init(ef_fedrun *fr, const ef_fedrun_cfg *cfg)
{
    memset(fr, 0, sizeof *fr);
    fr->cfg = *cfg;
    if (cfg->n < 2 || cfg->n > EF_FEDRUN_NODES_MAX || cfg->consumers < 1 || cfg->consumers >= cfg->n) {
        fprintf(stderr, "fedrun: need 2..%d MEC systems and 1..n-1 consumers\n", EF_FEDRUN_NODES_MAX);
        return EF_ECONFIG;
    }
    if (mkdir(cfg->dir, 0700) && errno != EEXIST) {
        fprintf(stderr, "fedrun: cannot create %s: %s\n", cfg->dir, strerror(errno));
        return EF_EIO;
    }
    char *real = realpath(cfg->dir, NULL);
    if (!real) return EF_EIO;
    snprintf(fr->dir, sizeof fr->dir, "%s", real);
    free(real);
    if (cfg->binary) {
        snprintf(fr->binary, sizeof fr->binary, "%s", cfg->binary);
    } else {
        ssize_t len = readlink("/proc/self/exe", fr->binary, sizeof fr->binary - 1);
        if (len <= 0) return EF_EIO;
        fr->binary[len] = 0;
    }

    char nbuf[16], pbuf[16];
    snprintf(nbuf, sizeof nbuf, "%u", cfg->n);
    snprintf(pbuf, sizeof pbuf, "%u", cfg->base_port);
    const char *init[] = {"testnet", "init", "--dir", fr->dir, "--validators", nbuf, "--chain", "edgefed-fed",
                          "--base-port", pbuf, cfg->netns ? "--netns" : NULL, NULL};
    if (fr_run(fr, init)) {
        fprintf(stderr, "fedrun: testnet init failed (see %s/commands.log)\n", fr->dir);
        return EF_EIO;
    }

    char path[EF_FEDRUN_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/testnet.json", fr->dir);
    json_t *tn = json_load_file(path, 0, NULL);
    if (!tn) {
        fprintf(stderr, "fedrun: %s unreadable\n", path);
        return EF_EIO;
    }
    json_t *nodes = json_object_get(tn, "nodes");
    char base[EF_FEDRUN_PATH_MAX];   /* a copy: gcc cannot tell fr->dir from fr->nodes */
    memcpy(base, fr->dir, sizeof base);
    int rc = 0;
    for (size_t i = 0; i < json_array_size(nodes) && fr->n < EF_FEDRUN_NODES_MAX; i++) {
        json_t *v = json_array_get(nodes, i);
        if (!json_is_true(json_object_get(v, "validator"))) continue;
        ef_fedrun_node *nd = &fr->nodes[fr->n];
        size_t idx = fr->n++;
        const char *name = fr_str(v, "name");
        snprintf(nd->name, sizeof nd->name, "%s", name);
        snprintf(nd->home, sizeof nd->home, "%s/%s", base, name);
        snprintf(nd->http, sizeof nd->http, "%s", fr_str(v, "http"));
        snprintf(nd->ip, sizeof nd->ip, "%s", fr_str(v, "ip"));
        snprintf(nd->ns, sizeof nd->ns, "%s", fr_str(v, "netns"));
        snprintf(nd->pub, sizeof nd->pub, "%s", fr_str(v, "pub"));
        nd->consumer = idx < cfg->consumers;
        const char *loc = ef_pricing_location((idx + ef_pricing_location_count() - cfg->consumers) %
                                              ef_pricing_location_count());
        if (!loc) loc = "ES";
        snprintf(nd->location, sizeof nd->location, "%s", loc);
        snprintf(nd->mec, sizeof nd->mec, "mec-%zu-%s", idx, loc);
        for (char *p = nd->mec; *p; p++)
            if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');

        /* the agents section of this node's config */
        snprintf(path, sizeof path, "%s/config.json", nd->home);
        json_t *conf = json_load_file(path, 0, NULL);
        if (!conf) {
            rc = EF_EIO;
            break;
        }
        json_t *meo = json_pack("{s:s}", "driver", cfg->netns ? "netns" : "process");
        if (cfg->netns) {
            json_object_set_new(meo, "netns", json_string(nd->ns));
            json_object_set_new(meo, "underlay_ip", json_string(nd->ip));
        } else {
            /* every MEC system on this host: disjoint app ports and overlay pools */
            json_object_set_new(meo, "port_min", json_integer(21000 + (json_int_t)idx * 100));
            json_object_set_new(meo, "port_max", json_integer(21000 + (json_int_t)idx * 100 + 99));
        }
        json_object_set_new(meo, "app_path", json_string(fr->binary));
        json_t *mef = json_pack("{s:s, s:s, s:[s], s:s, s:s, s:o}", "name", nd->mec, "location", nd->location,
                                "roles", nd->consumer ? "consumer" : "provider", "results", "results.jsonl",
                                "trace", "trace.jsonl", "meo", meo);
        if (nd->consumer) {
            json_object_set_new(mef, "consumer",
                                json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b}", "service", "video",
                                          "offers", (json_int_t)cfg->offers, "bid_window_ms",
                                          (json_int_t)cfg->bid_window_ms, "deploy_window_ms",
                                          (json_int_t)cfg->deploy_window_ms, "max_price", (json_int_t)cfg->max_price,
                                          "deposit", (json_int_t)(2 * cfg->max_price), "start_after_operators",
                                          (json_int_t)cfg->n, "runs", (json_int_t)cfg->runs, "run_size",
                                          (json_int_t)cfg->consumers, "hold", cfg->hold));
        }
        json_object_set_new(conf, "agents", json_pack("{s:o}", "mef", mef));
        if (json_dump_file(conf, path, JSON_INDENT(2) | JSON_SORT_KEYS)) rc = EF_EIO;
        json_decref(conf);
        if (rc) break;
    }
    json_decref(tn);
    if (!rc && fr->n != cfg->n) rc = EF_ECONFIG;
    if (rc) fprintf(stderr, "fedrun: cannot configure the nodes' agents (%s)\n", ef_strerror(rc));
    return rc;
}

int ef_fedrun_up(ef_fedrun *fr)
{
    const char *up[] = {"testnet", "up", "--dir", fr->dir, NULL};
    fr->up = true;
    if (fr_run(fr, up)) {
        fprintf(stderr, "fedrun: testnet up failed (see %s/commands.log)\n", fr->dir);
        return EF_EIO;
    }
    return 0;
}

int ef_fedrun_down(ef_fedrun *fr)
{
    if (!fr->up) return 0;
    const char *down[] = {"testnet", "down", "--dir", fr->dir, NULL};
    fr->up = false;
    return fr_run(fr, down) ? EF_EIO : 0;
}

static int fr_cmp_wall(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "wall_ms"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "wall_ms"));
    return (x > y) - (x < y);
}

size_t ef_fedrun_trace_poll(ef_fedrun *fr, json_t *out)
{
    json_t *batch = json_array();
    char path[EF_FEDRUN_PATH_MAX + 64], line[8192];
    for (size_t i = 0; i < fr->n; i++) {
        ef_fedrun_node *nd = &fr->nodes[i];
        snprintf(path, sizeof path, "%s/trace.jsonl", nd->home);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        if (fseek(f, nd->trace_off, SEEK_SET) == 0) {
            while (fgets(line, sizeof line, f)) {
                size_t len = strlen(line);
                if (len == 0 || line[len - 1] != '\n') break;   /* a line still being written */
                nd->trace_off += (long)len;
                json_t *o = json_loads(line, 0, NULL);
                if (!o) continue;
                json_object_set_new(o, "node", json_integer((json_int_t)i));
                json_array_append_new(batch, o);
            }
        }
        fclose(f);
    }
    size_t n = json_array_size(batch);
    json_t **items = calloc(n ? n : 1, sizeof *items);
    for (size_t i = 0; i < n; i++) items[i] = json_array_get(batch, i);
    qsort(items, n, sizeof *items, fr_cmp_wall);
    for (size_t i = 0; i < n; i++) json_array_append(out, items[i]);
    free(items);
    json_decref(batch);
    return n;
}

json_t *ef_fedrun_results(ef_fedrun *fr)
{
    json_t *out = json_array();
    char path[EF_FEDRUN_PATH_MAX + 64], line[8192];
    for (size_t i = 0; i < fr->n; i++) {
        snprintf(path, sizeof path, "%s/results.jsonl", fr->nodes[i].home);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        while (fgets(line, sizeof line, f)) {
            json_t *o = json_loads(line, 0, NULL);
            if (!o) continue;
            json_object_set_new(o, "node", json_integer((json_int_t)i));
            json_array_append_new(out, o);
        }
        fclose(f);
    }
    return out;
}

int ef_fedrun_node_by_pub(const ef_fedrun *fr, const char *pub)
{
    for (size_t i = 0; pub && i < fr->n; i++)
        if (!strcmp(fr->nodes[i].pub, pub)) return (int)i;
    return -1;
}

static uint64_t fr_balance(ef_store *s, const char *hex)
{
    char path[100];
    json_t *v = NULL;
    snprintf(path, sizeof path, "balance/%s", hex);
    if (ef_store_query(s, "bank", path, &v)) return 0;
    json_t *b = json_is_object(v) ? json_object_get(v, "balance") : v;
    uint64_t out = json_is_integer(b) ? (uint64_t)json_integer_value(b) : 0;
    json_decref(v);
    return out;
}

int ef_fedrun_check(ef_fedrun *fr, json_t **report)
{
    char path[EF_FEDRUN_PATH_MAX + 64];
    ef_store *stores[EF_FEDRUN_NODES_MAX] = {0};
    json_t *gen = NULL, *rep = json_object();
    int rc = 0;
    *report = rep;
    snprintf(path, sizeof path, "%s/genesis.json", fr->dir);
    if (!(gen = json_load_file(path, 0, NULL))) return EF_EIO;
    uint64_t min_h = UINT64_MAX;
    for (size_t i = 0; i < fr->n; i++) {
        snprintf(path, sizeof path, "%s/data/store", fr->nodes[i].home);
        if ((rc = ef_store_open(&stores[i], path, &(ef_store_opts){EF_CONTRACTS_BUILTIN}))) goto out;
        min_h = EF_MIN(min_h, ef_store_height(stores[i]));
    }
    bool same = true;
    ef_hash first = {0};
    for (size_t i = 0; i < fr->n; i++) {
        ef_block_header h;
        if ((rc = ef_store_header(stores[i], min_h, &h))) goto out;
        ef_hash bh;
        ef_block_header_hash(&bh, &h);
        if (i == 0) first = bh;
        else if (!ef_hash_eq(&first, &bh)) same = false;
    }
    /* totals on node 0 (all nodes agree on the block hash, which commits to the state) */
    uint64_t before = 0, after = 0;
    const char *hex;
    json_t *amount;
    json_object_foreach(json_object_get(gen, "balances"), hex, amount) {
        before += (uint64_t)json_integer_value(amount);
        after += fr_balance(stores[0], hex);
    }
    json_t *svcs = NULL;
    if (ef_store_query(stores[0], "federation", "services", &svcs)) svcs = json_array();
    json_object_set_new(rep, "height", json_integer((json_int_t)min_h));
    json_object_set_new(rep, "same_hash", json_boolean(same));
    json_object_set_new(rep, "total_before", json_integer((json_int_t)before));
    json_object_set_new(rep, "total_after", json_integer((json_int_t)after));
    json_object_set_new(rep, "services", svcs);
    rc = same && before == after ? 0 : EF_EPROOF;
out:
    for (size_t i = 0; i < fr->n; i++) ef_store_close(stores[i]);
    json_decref(gen);
    return rc;
}

int ef_fedrun_proc(const ef_fedrun *fr, size_t i, uint64_t *rss_kb, uint64_t *cpu_ticks)
{
    char path[EF_FEDRUN_PATH_MAX + 64], buf[4096];
    snprintf(path, sizeof path, "%s/node.pid", fr->nodes[i].home);
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (!f) return EF_ENOTFOUND;
    if (fscanf(f, "%ld", &pid) != 1) pid = 0;
    fclose(f);
    if (pid <= 0) return EF_ENOTFOUND;
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    if (!(f = fopen(path, "r"))) return EF_ENOTFOUND;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');   /* the command name may hold spaces */
    unsigned long utime = 0, stime = 0;
    long rss_pages = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d %*d %*u %*u %ld",
                     &utime, &stime, &rss_pages) != 3)
        return EF_ENOTFOUND;
    *cpu_ticks = utime + stime;
    *rss_kb = (uint64_t)rss_pages * (uint64_t)(sysconf(_SC_PAGESIZE) / 1024);
    return 0;
}
