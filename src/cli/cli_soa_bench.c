/* cli_soa_bench.c: the REST baseline's benchmark harness (`edgefed soa bench`, `edgefed bench federation`); see cli_soa_bench.h. */
#include "cli/cli_soa_bench.h"

#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agents/ef_httpc.h"
#include "agents/ef_proc.h"
#include "base/ef_codec.h"
#include "base/ef_log.h"

#define EF_SOA_BENCH_LOG "soa"

unsigned ef_soa_bench_providers(unsigned n_mec)
{
    unsigned p = n_mec / 5;
    return p ? p : 1;
}

typedef struct ef_soa_bench_consumer {
    ef_soa_consumer_cfg cfg;
    ef_soa_peer peers[EF_SOA_PEERS_MAX];
    char name[EF_MEO_NAME_MAX];
    char netns[EF_MEO_NAME_MAX];
    ef_meo *meo;
    unsigned index, run;
    pthread_barrier_t *start;
    ef_soa_bench_sample *sample;
} ef_soa_bench_consumer;

static void *ef_soa_bench_thread(void *arg)
{
    ef_soa_bench_consumer *c = arg;
    char sid[64];  /* well under EF_MEO_NAME_MAX for the bench's names; else federate refuses it */
    snprintf(sid, sizeof sid, "%s-r%u", c->name, c->run);
    pthread_barrier_wait(c->start);
    c->sample->run = c->run;
    c->sample->consumer = c->index;
    c->sample->err = ef_soa_federate(&c->cfg, sid, "vr-game", &c->sample->res);
    return NULL;
}

static ef_soa_stat ef_soa_stat_of(const ef_soa_bench_result *r, size_t field_off)
{
    ef_soa_stat s = {0, 0};
    size_t n = 0;
    double sum = 0, sq = 0;
    for (size_t i = 0; i < r->n_samples; i++) {
        if (r->samples[i].err) continue;
        double v = *(const uint64_t *)((const char *)&r->samples[i].res + field_off) / 1000.0;
        sum += v;
        n++;
    }
    if (!n) return s;
    s.mean_ms = sum / (double)n;
    for (size_t i = 0; i < r->n_samples; i++) {
        if (r->samples[i].err) continue;
        double v = *(const uint64_t *)((const char *)&r->samples[i].res + field_off) / 1000.0 - s.mean_ms;
        sq += v * v;
    }
    s.sd_ms = n > 1 ? sqrt(sq / (double)(n - 1)) : 0;
    return s;
}

void ef_soa_bench_free(ef_soa_bench_result *r)
{
    if (!r) return;
    free(r->samples);
    memset(r, 0, sizeof *r);
}

int ef_soa_bench_run(const ef_soa_bench_cfg *cfg, ef_soa_bench_result *out)
{
    EF_ASSERT(out);
    memset(out, 0, sizeof *out);
    if (!cfg || cfg->n_mec < 2 || cfg->n_mec > EF_SOA_PEERS_MAX || cfg->runs == 0 || !cfg->work_dir || !cfg->driver)
        return EF_EINVAL;
    int netns = !strcmp(cfg->driver, "netns");
    if (!netns && strcmp(cfg->driver, "process")) return EF_EINVAL;
    if (netns && geteuid() != 0) return EF_EPERM;
    const char *exe = cfg->edgefed_path ? cfg->edgefed_path : "/proc/self/exe";
    unsigned np = ef_soa_bench_providers(cfg->n_mec), nc = cfg->n_mec - np;
    uint16_t base_port = cfg->base_port ? cfg->base_port : 7100;
    const uint8_t octet = 79;
    char prefix[16] = "";
    int topo = 0, err = 0;
    pid_t prov_pid[EF_SOA_PEERS_MAX];
    for (unsigned i = 0; i < EF_SOA_PEERS_MAX; i++) prov_pid[i] = -1;
    ef_soa_bench_consumer *cons = calloc(nc, sizeof *cons);
    uint8_t (*keys)[EF_SOA_PEERS_MAX][EF_SOA_KEY_SIZE] = calloc(np, sizeof *keys);  /* keys[p][c] */
    out->samples = calloc((size_t)cfg->runs * nc, sizeof *out->samples);
    if (!cons || !keys || !out->samples) { err = EF_ENOMEM; goto out; }
    out->n_mec = cfg->n_mec;
    out->n_consumers = nc;
    out->n_providers = np;
    out->runs = cfg->runs;
    if (netns) {
        snprintf(prefix, sizeof prefix, "efsb%u", (unsigned)getpid() % 100000u);
        if ((err = ef_meo_topo_create(prefix, cfg->n_mec, octet))) goto out;
        topo = 1;
    }
    /* Provider MEC systems are 0..np-1, consumers np..n-1. */
    for (unsigned p = 0; p < np; p++) {
        char path[512], line[256], hex[2 * EF_SOA_KEY_SIZE + 1];
        snprintf(path, sizeof path, "%s/soa-prov%u.creds", cfg->work_dir, p);
        FILE *fp = fopen(path, "w");
        if (!fp) { err = EF_EIO; goto out; }
        for (unsigned c = 0; c < nc; c++) {
            randombytes_buf(keys[p][c], EF_SOA_KEY_SIZE);
            ef_hex(hex, keys[p][c], EF_SOA_KEY_SIZE);
            snprintf(line, sizeof line, "mec%u %s\n", np + c, hex);
            fputs(line, fp);
        }
        if (fclose(fp)) { err = EF_EIO; goto out; }
        char listen[48], name[16], ns[EF_MEO_NAME_MAX], ul[32], ports[32];
        const char *loc = ef_pricing_location(p % ef_pricing_location_count());
        snprintf(name, sizeof name, "mec%u", p);
        if (netns) {
            snprintf(ns, sizeof ns, "%s%u", prefix, p);
            snprintf(ul, sizeof ul, "10.%u.0.%u", octet, p + 1);
            snprintf(listen, sizeof listen, "%s:%u", ul, base_port);
            snprintf(ports, sizeof ports, "%u-%u", 20000, 20999);
        } else {
            snprintf(ul, sizeof ul, "127.0.0.1");
            snprintf(listen, sizeof listen, "127.0.0.1:%u", base_port + p);
            snprintf(ports, sizeof ports, "%u-%u", 22000 + p * 200, 22000 + p * 200 + 199);
        }
        char *argv[32];
        int k = 0;
        argv[k++] = (char *)exe;
        argv[k++] = "soa";
        argv[k++] = "provider";
        argv[k++] = "--listen"; argv[k++] = listen;
        argv[k++] = "--name"; argv[k++] = name;
        argv[k++] = "--location"; argv[k++] = (char *)loc;
        argv[k++] = "--credentials"; argv[k++] = path;
        argv[k++] = "--driver"; argv[k++] = (char *)cfg->driver;
        argv[k++] = "--underlay"; argv[k++] = ul;
        argv[k++] = "--app-ports"; argv[k++] = ports;
        argv[k++] = "--app"; argv[k++] = (char *)exe;
        argv[k++] = "--exit-with-parent";
        if (netns) { argv[k++] = "--netns"; argv[k++] = ns; }
        argv[k] = NULL;
        if ((err = ef_proc_spawn(&prov_pid[p], netns ? ns : NULL, argv, 0))) goto out;
    }
    /* Consumers: a MEO each, every provider registered with its key. */
    for (unsigned c = 0; c < nc; c++) {
        ef_soa_bench_consumer *cs = &cons[c];
        unsigned mec = np + c;
        snprintf(cs->name, sizeof cs->name, "mec%u", mec);
        char ul[32], pool[32];
        uint32_t d = mec + 1;
        if (netns) {
            snprintf(cs->netns, sizeof cs->netns, "%s%u", prefix, mec);
            snprintf(ul, sizeof ul, "10.%u.0.%u", octet, mec + 1);
        } else {
            snprintf(ul, sizeof ul, "127.0.0.1");
        }
        snprintf(pool, sizeof pool, "100.%u.%u.0", 64 + d / 4, (d % 4) * 64);
        ef_meo_config mc = {.mec_name = cs->name, .netns = netns ? cs->netns : NULL, .underlay_ip = ul,
                            .app_path = exe, .overlay_pool = pool, .overlay_pool_prefix = 18, .vni_base = d * 4096,
                            .port_min = (uint16_t)(30000 + c * 20), .port_max = (uint16_t)(30000 + c * 20 + 19)};
        if ((err = ef_meo_open(&cs->meo, cfg->driver, &mc))) goto out;
        for (unsigned p = 0; p < np; p++) {
            ef_soa_peer *pe = &cs->peers[p];
            snprintf(pe->name, sizeof pe->name, "mec%u", p);
            pe->ip = netns ? (10u << 24 | (uint32_t)octet << 16 | (p + 1)) : 0x7f000001u;
            pe->port = netns ? base_port : (uint16_t)(base_port + p);
            snprintf(pe->cred.id, sizeof pe->cred.id, "%s", cs->name);
            memcpy(pe->cred.key, keys[p][c], EF_SOA_KEY_SIZE);
        }
        cs->cfg = (ef_soa_consumer_cfg){.netns = netns ? cs->netns : NULL, .peers = cs->peers, .n_peers = np,
                                        .meo = cs->meo};
        cs->index = c;
    }
    /* Wait until every provider answers /health (from the first consumer's side). */
    for (unsigned p = 0; p < np; p++) {
        uint64_t deadline = ef_now_mono_us() + 20000000u;
        for (;;) {
            if (ef_proc_exited(prov_pid[p], NULL)) {
                prov_pid[p] = -1;
                EF_LOGE(EF_SOA_BENCH_LOG, "bench: provider mec%u exited at start", p);
                err = EF_EIO;
                goto out;
            }
            ef_httpc_resp r;
            if (!ef_httpc_request(&r, cons[0].cfg.netns, cons[0].peers[p].ip, cons[0].peers[p].port, "GET",
                                  "/health", NULL, NULL, 0, 1000)) {
                int ok = r.status == 200;
                ef_httpc_resp_free(&r);
                if (ok) break;
            }
            if (ef_now_mono_us() > deadline) { err = EF_ETIMEOUT; goto out; }
            struct timespec ts = {0, 10 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    /* Rounds: all consumers at once. */
    for (unsigned run = 0; run < cfg->runs; run++) {
        pthread_barrier_t bar;
        pthread_barrier_init(&bar, NULL, nc);
        pthread_t *th = calloc(nc, sizeof *th);
        if (!th) { pthread_barrier_destroy(&bar); err = EF_ENOMEM; goto out; }
        for (unsigned c = 0; c < nc; c++) {
            cons[c].run = run;
            cons[c].start = &bar;
            cons[c].sample = &out->samples[out->n_samples + c];
            if (pthread_create(&th[c], NULL, ef_soa_bench_thread, &cons[c])) EF_ASSERT(!"thread");
        }
        for (unsigned c = 0; c < nc; c++) pthread_join(th[c], NULL);
        free(th);
        pthread_barrier_destroy(&bar);
        for (unsigned c = 0; c < nc; c++) {
            ef_soa_bench_sample *s = &out->samples[out->n_samples + c];
            if (s->err) { out->n_failed++; continue; }
            char sid[64];
            snprintf(sid, sizeof sid, "%s-r%u", cons[c].name, run);
            int rerr = ef_soa_release(&cons[c].cfg, s->res.winner, sid);
            if (rerr) EF_LOGW(EF_SOA_BENCH_LOG, "bench: release %s: %s", sid, ef_strerror(rerr));
        }
        out->n_samples += nc;
    }
    out->offers = ef_soa_stat_of(out, offsetof(ef_soa_result, offers_us));
    out->award = ef_soa_stat_of(out, offsetof(ef_soa_result, award_us));
    out->deploy = ef_soa_stat_of(out, offsetof(ef_soa_result, deploy_us));
    out->connect = ef_soa_stat_of(out, offsetof(ef_soa_result, connect_us));
    out->total = ef_soa_stat_of(out, offsetof(ef_soa_result, total_us));
out:
    for (unsigned c = 0; cons && c < nc; c++) ef_meo_close(cons[c].meo);
    for (unsigned p = 0; p < np; p++) (void)ef_proc_stop(prov_pid[p], 3000);
    if (topo && ef_meo_topo_destroy(prefix, cfg->n_mec) && !err) err = EF_EIO;
    if (keys) sodium_memzero(keys, np * sizeof *keys);
    free(keys);
    free(cons);
    if (err) ef_soa_bench_free(out);
    return err;
}
