/* cmd_load.c: `edgefed load`: the transaction load generator (cli_load.h). */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "base/ef_log.h"
#include "cli/cli.h"
#include "cli/cli_admin.h"
#include "cli/cli_load.h"
#include "ledger/ef_tx.h"

#define LD_STALE_US 10000000     /* an entry unanswered this long is re-checked */
#define LD_SWEEP_US 1000000

typedef struct ld_entry {
    ef_hash hash;
    uint32_t acct;
    uint64_t nonce;
    uint64_t send_us;
    char *line;                  /* "submit HEX\n" */
    size_t line_len;
    bool measured;
    bool retry;                  /* queued for resubmission */
    bool check;                  /* ask the nonce before resubmitting (stale) */
} ld_entry;

typedef struct ld_acct {
    ef_keypair kp;
    char hex[2 * EF_PUB_SIZE + 1];
    uint64_t next;               /* next nonce to assign */
    uint32_t inflight;
} ld_acct;

typedef struct ld_conn {
    int fd;
    bool alive;
    pthread_t th;
    struct ld_state *st;
    const ef_tn_node *node;
} ld_conn;

typedef struct ld_state {
    const ef_load_cfg *cfg;
    pthread_mutex_t mu;
    ld_acct *accts;
    unsigned naccts;
    ld_entry **map;              /* open addressing by hash */
    size_t cap, len;
    ld_conn conns[EF_LOAD_TARGETS_MAX];
    size_t nconns;
    uint64_t t_start_us, t_end_us;  /* measured period */
    double *lat;
    size_t lat_len, lat_cap;
    size_t nretry;               /* entries marked retry (hint: scan when > 0) */
    ef_load_result res;
} ld_state;

static size_t ld_slot(const ld_state *s, const ef_hash *h)
{
    return (size_t)ef_get_u64le(h->b) & (s->cap - 1);
}

static ld_entry *ld_get(ld_state *s, const ef_hash *h)
{
    for (size_t i = ld_slot(s, h);; i = (i + 1) & (s->cap - 1)) {
        if (!s->map[i]) return NULL;
        if (ef_hash_eq(&s->map[i]->hash, h)) return s->map[i];
    }
}

static void ld_put(ld_state *s, ld_entry *e)
{
    size_t i = ld_slot(s, &e->hash);
    while (s->map[i]) i = (i + 1) & (s->cap - 1);
    s->map[i] = e;
    s->len++;
}

static void ld_del(ld_state *s, const ef_hash *h)
{
    size_t i = ld_slot(s, h);
    for (;; i = (i + 1) & (s->cap - 1)) {
        if (!s->map[i]) return;
        if (ef_hash_eq(&s->map[i]->hash, h)) break;
    }
    s->map[i] = NULL;
    s->len--;
    for (size_t j = (i + 1) & (s->cap - 1); s->map[j]; j = (j + 1) & (s->cap - 1)) {
        size_t home = ld_slot(s, &s->map[j]->hash);
        bool in = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (!in) {
            s->map[i] = s->map[j];
            s->map[j] = NULL;
            i = j;
        }
    }
}

static void ld_finish(ld_state *s, ld_entry *e)
{
    ld_del(s, &e->hash);
    if (s->accts[e->acct].inflight) s->accts[e->acct].inflight--;
    free(e->line);
    free(e);
}

static void *ld_reader(void *arg)
{
    ld_conn *c = arg;
    ld_state *s = c->st;
    ef_admin_reader *r = calloc(1, sizeof *r);
    r->fd = c->fd;
    char *line;
    while (ef_admin_readline(r, &line) == 0) {
        char kind[16], hex[80], a3[40] = "";
        unsigned long long height = 0;
        int code = 0;
        if (sscanf(line, "%15s %79s %39s %d", kind, hex, a3, &code) < 2) continue;
        ef_hash h;
        if (ef_unhex(h.b, EF_HASH_SIZE, hex)) continue;
        uint64_t now = ef_now_mono_us();
        pthread_mutex_lock(&s->mu);
        ld_entry *e = ld_get(s, &h);
        if (!strcmp(kind, "admitted")) {
            s->res.admitted++;
        } else if (!strcmp(kind, "rejected")) {
            s->res.rejected++;
            if (!s->res.first_reject[0]) snprintf(s->res.first_reject, sizeof s->res.first_reject, "%.31s", a3);
            if (e && !strcmp(a3, "ENONCE")) ld_finish(s, e);      /* committed already */
            else if (e && strcmp(a3, "EDUP")) { e->retry = true; s->nretry++; } /* full: again */
        } else if (!strcmp(kind, "committed")) {
            height = strtoull(a3, NULL, 10);
            s->res.committed++;
            if (s->cfg->acked) fprintf(s->cfg->acked, "%s %llu\n", hex, height);
            if (e) {
                if (e->measured) {
                    s->res.committed_measured++;
                    if (s->lat_len == s->lat_cap) {
                        s->lat_cap = s->lat_cap ? s->lat_cap * 2 : 65536;
                        s->lat = realloc(s->lat, s->lat_cap * sizeof *s->lat);
                    }
                    s->lat[s->lat_len++] = (double)(now - e->send_us) / 1000.0;
                    if (getenv("EF_LOAD_DEBUG") && now - e->send_us > 300000)
                        fprintf(stderr, "slow: acct %u nonce %llu sent %.3f lat %.1f ms via %s h %llu\n", e->acct,
                                (unsigned long long)e->nonce, (double)e->send_us / 1e6,
                                (double)(now - e->send_us) / 1000.0, c->node->name, height);
                }
                ld_finish(s, e);
            }
        } else if (!strcmp(kind, "dropped")) {
            if (e) { e->retry = true; s->nretry++; }
        }
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_lock(&s->mu);
    c->alive = false;
    s->res.lost_conn++;
    pthread_mutex_unlock(&s->mu);
    free(r);
    return NULL;
}

/* One request/response on a fresh admin connection to any live target. */
static int ld_query_nonce(ld_state *s, const char *pubhex, uint64_t *next)
{
    for (size_t i = 0; i < s->nconns; i++) {
        int fd = ef_admin_connect(s->conns[i].node->home);
        if (fd < 0) continue;
        char q[128];
        int n = snprintf(q, sizeof q, "nonce %s\n", pubhex);
        ef_admin_reader *r = calloc(1, sizeof *r);
        r->fd = fd;
        char *line;
        int rc = EF_ENET;
        unsigned long long v;
        if (!ef_admin_write(fd, q, (size_t)n) && !ef_admin_readline(r, &line) &&
            sscanf(line, "nonce %*s %llu", &v) == 1) {
            *next = v;
            rc = 0;
        }
        free(r);
        close(fd);
        if (!rc) return 0;
    }
    return EF_ENET;
}

static ld_conn *ld_pick(ld_state *s, size_t *rr)
{
    for (size_t k = 0; k < s->nconns; k++) {
        ld_conn *c = &s->conns[(*rr)++ % s->nconns];
        if (c->alive) return c;
    }
    return NULL;
}

/* Builds the next transfer of account a (nonce assigned here). */
static ld_entry *ld_build(ld_state *s, unsigned a)
{
    ld_acct *ac = &s->accts[a];
    ef_tx tx;
    memset(&tx, 0, sizeof tx);
    snprintf(tx.chain_id, sizeof tx.chain_id, "%.32s", s->cfg->tn->chain_id);
    tx.sender = ac->kp.pub;
    tx.nonce = ac->next;
    const ef_load_cfg *cfg = s->cfg;
    snprintf(tx.contract, sizeof tx.contract, "%s", cfg->args_fn ? cfg->contract : "bank");
    snprintf(tx.method, sizeof tx.method, "%s", cfg->args_fn ? cfg->method : "transfer");
    char args[512];
    int al = cfg->args_fn ? cfg->args_fn(cfg->args_arg, a, ac->hex, tx.nonce, args, sizeof args)
                          : snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":1}", s->accts[(a + 1) % s->naccts].hex);
    if (al < 0 || (size_t)al >= sizeof args) return NULL;
    tx.args = (const uint8_t *)args;
    tx.args_len = (size_t)al;
    if (ef_tx_sign(&tx, &ac->kp)) return NULL;
    ef_wr w;
    ef_wr_init(&w);
    if (ef_tx_encode(&w, &tx)) {
        ef_wr_free(&w);
        return NULL;
    }
    ld_entry *e = calloc(1, sizeof *e);
    e->acct = a;
    e->nonce = tx.nonce;
    ef_tx_hash_enc(&e->hash, w.buf, w.len);
    e->line_len = 7 + 2 * w.len + 1;
    e->line = malloc(e->line_len + 1);
    memcpy(e->line, "submit ", 7);
    ef_hex(e->line + 7, w.buf, w.len);
    e->line[e->line_len - 1] = '\n';
    ef_wr_free(&w);
    ac->next++;
    return e;
}

static int ld_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int ef_load_run(const ef_load_cfg *cfg, ef_load_result *res)
{
    ld_state *s = calloc(1, sizeof *s);
    s->cfg = cfg;
    pthread_mutex_init(&s->mu, NULL);
    unsigned window = cfg->window ? cfg->window : 32;
    s->naccts = EF_MIN(cfg->accounts ? cfg->accounts : cfg->tn->accounts, cfg->tn->accounts);
    s->naccts = EF_MIN(s->naccts, (unsigned)EF_LOAD_ACCOUNTS_MAX);
    if (s->naccts < 2) {
        fprintf(stderr, "edgefed load: the testnet needs at least 2 load accounts\n");
        free(s);
        return EF_EINVAL;
    }
    s->accts = calloc(s->naccts, sizeof *s->accts);
    s->cap = 1;
    while (s->cap < 2 * (size_t)s->naccts * window + 16) s->cap <<= 1;
    s->map = calloc(s->cap, sizeof *s->map);
    /* targets */
    for (size_t i = 0; i < cfg->tn->len && s->nconns < EF_LOAD_TARGETS_MAX; i++) {
        const ef_tn_node *n = &cfg->tn->nodes[i];
        bool want = cfg->targets_len == 0 ? n->validator : false;
        for (size_t k = 0; k < cfg->targets_len; k++) want |= !strcmp(cfg->targets[k], n->name);
        if (!want) continue;
        ld_conn *c = &s->conns[s->nconns];
        c->node = n;
        c->st = s;
        c->fd = ef_admin_connect(n->home);
        if (c->fd < 0) continue;
        c->alive = true;
        s->nconns++;
    }
    int rc = 0;
    if (s->nconns == 0) {
        fprintf(stderr, "edgefed load: no target node reachable\n");
        rc = EF_ENET;
        goto out;
    }
    for (unsigned a = 0; a < s->naccts; a++) {
        ef_load_key(&s->accts[a].kp, a);
        ef_hex(s->accts[a].hex, s->accts[a].kp.pub.b, EF_PUB_SIZE);
        if (ld_query_nonce(s, s->accts[a].hex, &s->accts[a].next)) {
            rc = EF_ENET;
            goto out;
        }
    }
    for (size_t i = 0; i < s->nconns; i++) pthread_create(&s->conns[i].th, NULL, ld_reader, &s->conns[i]);

    uint64_t t0 = ef_now_mono_us();
    s->t_start_us = t0 + (uint64_t)(cfg->warmup_s * 1e6);
    s->t_end_us = s->t_start_us + (uint64_t)(cfg->duration_s * 1e6);
    double credit = 0;
    uint64_t last = t0, last_sweep = t0;
    size_t rr = 0;
    unsigned next_acct = 0;
    while (ef_now_mono_us() < s->t_end_us) {
        uint64_t now = ef_now_mono_us();
        if (cfg->rate > 0) {
            credit += (double)(now - last) * cfg->rate / 1e6;
            if (credit > cfg->rate) credit = cfg->rate; /* no bursts past a second's worth */
        } else {
            credit = 1e9;
        }
        last = now;
        pthread_mutex_lock(&s->mu);
        /* resubmissions first */
        if (now - last_sweep > LD_SWEEP_US) {
            last_sweep = now;
            for (size_t i = 0; i < s->cap; i++) {
                ld_entry *e = s->map[i];
                if (e && !e->retry && now - e->send_us > LD_STALE_US) {
                    e->retry = e->check = true;
                    s->nretry++;
                }
            }
        }
        size_t nretry = 0;
        ef_hash retry[256];
        if (s->nretry) {
            for (size_t i = 0; i < s->cap && nretry < 256; i++)
                if (s->map[i] && s->map[i]->retry) retry[nretry++] = s->map[i]->hash;
            s->nretry = nretry == 256 ? 1 : 0;
        }
        for (size_t i = 0; i < nretry; i++) {
            ld_entry *e = ld_get(s, &retry[i]);
            if (!e || !e->retry) continue;
            e->retry = false;
            if (e->check) { /* already committed? */
                e->check = false;
                uint64_t next;
                unsigned acct = e->acct;
                pthread_mutex_unlock(&s->mu);
                int qrc = ld_query_nonce(s, s->accts[acct].hex, &next);
                pthread_mutex_lock(&s->mu);
                e = ld_get(s, &retry[i]);
                if (!e) continue; /* answered meanwhile */
                if (!qrc && next > e->nonce) {
                    ld_finish(s, e);
                    continue;
                }
            }
            ld_conn *c = ld_pick(s, &rr);
            if (!c) break;
            e->send_us = ef_now_mono_us();
            e->measured = false;
            s->res.resubmitted++;
            if (ef_admin_write(c->fd, e->line, e->line_len)) c->alive = false;
        }
        /* new transactions */
        char *batch = NULL;
        size_t blen = 0, bcap = 0;
        ld_conn *c = ld_pick(s, &rr);
        unsigned tried = 0;
        while (c && credit >= 1 && tried < s->naccts && blen < (1u << 20)) {
            unsigned a = next_acct++ % s->naccts;
            tried++;
            if (s->accts[a].inflight >= window) continue;
            tried = 0;
            ld_entry *e = ld_build(s, a);
            if (!e) break;
            e->send_us = ef_now_mono_us();
            e->measured = e->send_us >= s->t_start_us && e->send_us < s->t_end_us;
            s->accts[a].inflight++;
            ld_put(s, e);
            if (blen + e->line_len > bcap) {
                bcap = EF_MAX(bcap * 2, blen + e->line_len + 65536);
                batch = realloc(batch, bcap);
            }
            memcpy(batch + blen, e->line, e->line_len);
            blen += e->line_len;
            s->res.sent++;
            credit -= 1;
            if (blen > 64 * 1024) break;
        }
        pthread_mutex_unlock(&s->mu);
        if (blen && c && ef_admin_write(c->fd, batch, blen)) c->alive = false;
        free(batch);
        if (credit < 1 || tried >= s->naccts || !c) usleep(500);
    }
    /* let what was sent in the period commit (bounded) */
    uint64_t drain_until = ef_now_mono_us() + (uint64_t)((cfg->drain_s > 0 ? cfg->drain_s : 10) * 1e6);
    for (;;) {
        pthread_mutex_lock(&s->mu);
        size_t left = 0;
        for (size_t i = 0; i < s->cap; i++)
            if (s->map[i] && s->map[i]->measured) left++;
        pthread_mutex_unlock(&s->mu);
        if (!left || ef_now_mono_us() > drain_until) break;
        usleep(20000);
    }
    for (size_t i = 0; i < s->nconns; i++) shutdown(s->conns[i].fd, SHUT_RDWR);
    for (size_t i = 0; i < s->nconns; i++) pthread_join(s->conns[i].th, NULL);
    s->res.lost_conn = 0;
    s->res.elapsed_s = (double)(s->t_end_us - s->t_start_us) / 1e6;
    s->res.tps = s->res.elapsed_s > 0 ? (double)s->res.committed_measured / s->res.elapsed_s : 0;
    if (s->lat_len) {
        qsort(s->lat, s->lat_len, sizeof *s->lat, ld_cmp);
        double sum = 0;
        for (size_t i = 0; i < s->lat_len; i++) sum += s->lat[i];
        s->res.lat_mean_ms = sum / (double)s->lat_len;
        s->res.lat_p50_ms = s->lat[(size_t)(0.50 * (double)(s->lat_len - 1))];
        s->res.lat_p99_ms = s->lat[(size_t)(0.99 * (double)(s->lat_len - 1))];
        s->res.lat_max_ms = s->lat[s->lat_len - 1];
    }
out:
    *res = s->res;
    for (size_t i = 0; i < s->nconns; i++) close(s->conns[i].fd);
    for (size_t i = 0; i < s->cap; i++)
        if (s->map[i]) {
            free(s->map[i]->line);
            free(s->map[i]);
        }
    free(s->map);
    free(s->accts);
    free(s->lat);
    pthread_mutex_destroy(&s->mu);
    free(s);
    return rc;
}

int ef_cmd_load(int argc, char **argv)
{
    const char *usage =
        "usage: edgefed load --dir D [--rate TPS] [--duration S] [--warmup S] [--accounts K]\n"
        "                    [--window W] [--nodes v0,v1,..] [--acked FILE] [--drain S] [--json]\n"
        "  submits bank transfers from the testnet's funded load accounts to its nodes\n"
        "  (admin sockets; default: every validator, round robin) at TPS per second\n"
        "  (0 = as fast as W in-flight transactions per account allow), for S seconds,\n"
        "  and prints committed tx/s and commit latency (submission to commit notice).\n"
        "  --acked FILE appends \"HASH HEIGHT\" for every transaction acknowledged as\n"
        "  committed. After the period it waits up to S seconds (default 10) for the\n"
        "  transactions sent in it to commit. Defaults: rate 1000, duration 10, warmup 0,\n"
        "  accounts 64, window 32.\n";
    const char *dir;
    int early = ef_cli_required(argc, argv, usage, "dir", &dir);
    if (early >= 0) return early;
    ef_testnet *tn = calloc(1, sizeof *tn);
    if (ef_testnet_load(tn, dir)) {
        free(tn);
        return 1;
    }
    ef_load_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.tn = tn;
    cfg.rate = atof(ef_cli_opt(argc, argv, "rate", "1000"));
    cfg.duration_s = atof(ef_cli_opt(argc, argv, "duration", "10"));
    cfg.warmup_s = atof(ef_cli_opt(argc, argv, "warmup", "0"));
    cfg.accounts = (unsigned)atoi(ef_cli_opt(argc, argv, "accounts", "64"));
    cfg.window = (unsigned)atoi(ef_cli_opt(argc, argv, "window", "32"));
    cfg.drain_s = atof(ef_cli_opt(argc, argv, "drain", "10"));
    char nodes[1024];
    snprintf(nodes, sizeof nodes, "%s", ef_cli_opt(argc, argv, "nodes", ""));
    char *save = NULL;
    for (char *t = strtok_r(nodes, ",", &save); t && cfg.targets_len < EF_LOAD_TARGETS_MAX;
         t = strtok_r(NULL, ",", &save))
        cfg.targets[cfg.targets_len++] = t;
    const char *acked = ef_cli_opt(argc, argv, "acked", NULL);
    if (acked) {
        cfg.acked = fopen(acked, "a");
        if (!cfg.acked) {
            fprintf(stderr, "edgefed load: cannot open %s\n", acked);
            free(tn);
            return 1;
        }
        setvbuf(cfg.acked, NULL, _IOLBF, 0);
    }
    ef_load_result r;
    int rc = ef_load_run(&cfg, &r);
    if (cfg.acked) fclose(cfg.acked);
    free(tn);
    if (rc) return 1;
    if (ef_cli_flag(argc, argv, "json"))
        printf("{\"sent\":%llu,\"admitted\":%llu,\"rejected\":%llu,\"committed\":%llu,"
               "\"tps\":%.1f,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"mean_ms\":%.2f,\"max_ms\":%.2f,"
               "\"resubmitted\":%llu}\n",
               (unsigned long long)r.sent, (unsigned long long)r.admitted,
               (unsigned long long)r.rejected, (unsigned long long)r.committed, r.tps, r.lat_p50_ms,
               r.lat_p99_ms, r.lat_mean_ms, r.lat_max_ms, (unsigned long long)r.resubmitted);
    else
        printf("sent %llu admitted %llu rejected %llu (first: %s) committed %llu; %.1f tx/s committed; "
               "latency p50 %.2f ms p99 %.2f ms mean %.2f ms max %.2f ms; resubmitted %llu\n",
               (unsigned long long)r.sent, (unsigned long long)r.admitted,
               (unsigned long long)r.rejected, r.first_reject[0] ? r.first_reject : "-",
               (unsigned long long)r.committed, r.tps, r.lat_p50_ms, r.lat_p99_ms, r.lat_mean_ms,
               r.lat_max_ms, (unsigned long long)r.resubmitted);
    return 0;
}
