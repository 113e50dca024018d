/* ef_api_metrics.c: GET /metrics, the node's counters in Prometheus text format. */
#include "api/ef_api_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const double ef_api_lat_bounds_ms[EF_API_LAT_BUCKETS - 1] = {
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000,
};

int ef_api_lat_bucket(double ms)
{
    for (int i = 0; i < EF_API_LAT_BUCKETS - 1; i++)
        if (ms <= ef_api_lat_bounds_ms[i]) return i;
    return EF_API_LAT_BUCKETS - 1;
}

typedef struct ef_text {
    char *p;
    size_t len, cap;
    int err;
} ef_text;

static void ef_text_printf(ef_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ef_text_printf(ef_text *t, const char *fmt, ...)
{
    if (t->err) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) { t->err = EF_EINVAL; return; }
        if ((size_t)n < t->cap - t->len) { t->len += (size_t)n; return; }
        size_t cap = t->cap * 2 + (size_t)n;
        char *np = realloc(t->p, cap);
        if (!np) { t->err = EF_ENOMEM; return; }
        t->p = np;
        t->cap = cap;
    }
}

static uint64_t ef_api_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, res = 0;
    if (!f) return 0;
    if (fscanf(f, "%llu %llu", &size, &res) != 2) res = 0;
    fclose(f);
    return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void ef_metric(ef_text *t, const char *name, const char *type, const char *help, uint64_t v)
{
    ef_text_printf(t, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name,
                   (unsigned long long)v);
}

enum MHD_Result ef_api_metrics_get(ef_api *api, struct MHD_Connection *c, const char *rest,
                                   ef_api_req *req)
{
    (void)rest;
    (void)req;
    ef_api_metrics m;
    memset(&m, 0, sizeof m);
    m.height = api->be.height(api->be.ctx);
    uint64_t counted;
    m.txs_committed = ef_api_txs(api, &counted);
    if (api->be.metrics) {
        int rc = api->be.metrics(api->be.ctx, &m);
        if (rc) return ef_api_reply_err(api, c, 0, rc, "metrics: %s", ef_strerror(rc));
    }
    ef_text t = {.p = malloc(4096), .cap = 4096};
    if (!t.p) return MHD_NO;
    ef_metric(&t, "edgefed_height", "gauge", "Last committed block height.", m.height);
    ef_metric(&t, "edgefed_round", "gauge", "Consensus round at the current height.", m.round);
    ef_metric(&t, "edgefed_txs_committed_total", "counter", "Transactions committed since genesis.",
              m.txs_committed);
    ef_metric(&t, "edgefed_blocks_committed_total", "counter",
              "Blocks committed since this process started.", m.blocks_committed);
    ef_metric(&t, "edgefed_mempool_txs", "gauge", "Transactions waiting in the mempool.", m.mempool_txs);
    ef_metric(&t, "edgefed_mempool_bytes", "gauge", "Bytes of transactions in the mempool.",
              m.mempool_bytes);
    ef_metric(&t, "edgefed_peers", "gauge", "Connected, authenticated peers.", m.peers);
    ef_text_printf(&t, "# HELP edgefed_commit_latency_seconds Time from admission to commit.\n"
                       "# TYPE edgefed_commit_latency_seconds histogram\n");
    uint64_t cum = 0;
    for (int i = 0; i < EF_API_LAT_BUCKETS; i++) {
        cum += m.lat_counts[i];
        if (i < EF_API_LAT_BUCKETS - 1)
            ef_text_printf(&t, "edgefed_commit_latency_seconds_bucket{le=\"%g\"} %llu\n",
                           ef_api_lat_bounds_ms[i] / 1000.0, (unsigned long long)cum);
        else
            ef_text_printf(&t, "edgefed_commit_latency_seconds_bucket{le=\"+Inf\"} %llu\n",
                           (unsigned long long)cum);
    }
    ef_text_printf(&t, "edgefed_commit_latency_seconds_sum %.6f\nedgefed_commit_latency_seconds_count %llu\n",
                   m.lat_sum_ms / 1000.0, (unsigned long long)m.lat_count);
    ef_text_printf(&t, "# HELP edgefed_rejected_total Messages and transactions the node rejected, by reason.\n"
                       "# TYPE edgefed_rejected_total counter\n");
    for (size_t i = 0; i < m.rejected_len && i < EF_API_REJECT_MAX; i++) {
        m.rejected[i].reason[EF_API_REASON_MAX - 1] = 0;
        ef_text_printf(&t, "edgefed_rejected_total{reason=\"%s\"} %llu\n", m.rejected[i].reason,
                       (unsigned long long)m.rejected[i].count);
    }
    ef_text_printf(&t, "# HELP edgefed_http_requests_total HTTP requests answered, by status class.\n"
                       "# TYPE edgefed_http_requests_total counter\n");
    for (int k = 1; k <= 5; k++)
        ef_text_printf(&t, "edgefed_http_requests_total{code=\"%dxx\"} %llu\n", k,
                       (unsigned long long)atomic_load(&api->http_status[k]));
    ef_text_printf(&t, "# HELP edgefed_http_deadline_closed_total Connections closed because a request "
                       "had not fully arrived within request_s.\n"
                       "# TYPE edgefed_http_deadline_closed_total counter\n"
                       "edgefed_http_deadline_closed_total %llu\n",
                   (unsigned long long)atomic_load(&api->deadline_closed));
    ef_text_printf(&t, "# HELP edgefed_http_rejected_total HTTP requests refused, by error code.\n"
                       "# TYPE edgefed_http_rejected_total counter\n");
    for (int k = 1; k < EF_ERR_COUNT_; k++) {
        uint64_t v = atomic_load(&api->rejected[k]);
        if (v) ef_text_printf(&t, "edgefed_http_rejected_total{code=\"%s\"} %llu\n", ef_errname(-k),
                              (unsigned long long)v);
    }
    pthread_mutex_lock(&api->mu);
    unsigned sse = api->sse_open, waits = api->waits_open;
    pthread_mutex_unlock(&api->mu);
    ef_metric(&t, "edgefed_http_event_streams", "gauge", "Open /events streams.", sse);
    ef_metric(&t, "edgefed_http_commit_waits", "gauge", "Requests waiting for a commit.", waits);
    ef_metric(&t, "edgefed_process_resident_memory_bytes", "gauge", "Resident set size of the node.",
              ef_api_rss_bytes());
    if (t.err) {
        free(t.p);
        return MHD_NO;
    }
    return ef_api_reply_owned(api, c, 200, "text/plain; version=0.0.4", t.p, t.len);
}
