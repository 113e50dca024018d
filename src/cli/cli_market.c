/* cli_market.c: the device side of a market session (see cli_market.h). */
#include "cli/cli_market.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agents/ef_edge.h"
#include "agents/ef_httpc.h"
#include "api/ef_client.h"
#include "base/ef_codec.h"
#include "base/ef_voucher.h"
#include "ledger/ef_tx.h"

static double ef_dev_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint64_t ef_jint(const json_t *j, const char *f)
{
    return (uint64_t)json_integer_value(json_object_get(j, f));
}

#define EF_DEV_LOG(...)                       \
    do {                                      \
        if (log) {                            \
            fprintf(log, __VA_ARGS__);        \
            fflush(log);                      \
        }                                     \
    } while (0)

static int ef_dev_fail(FILE *log, const char *what, int rc, const char *err)
{
    EF_DEV_LOG("device: %s failed: %s%s%s\n", what, ef_strerror(rc), err ? " " : "", err ? err : "");
    return rc ? rc : EF_ESTATE;
}

int ef_dev_session(const ef_dev_opts *o, ef_dev_result *r, FILE *log)
{
    char me[2 * EF_PUB_SIZE + 1], args[512], path[256], err[24];
    json_t *j = NULL;
    uint8_t *body = NULL;
    memset(r, 0, sizeof *r);
    ef_hex(me, o->key.pub.b, EF_PUB_SIZE);
    double t0 = ef_dev_now_ms();
    int rc = ef_cli_get(o->api, "/status", &j);
    if (rc) return ef_dev_fail(log, "GET /status", rc, NULL);
    uint64_t h = ef_jint(j, "height");
    char chain[EF_VOUCHER_CHAIN_MAX + 1];
    snprintf(chain, sizeof chain, "%s", json_string_value(json_object_get(j, "chain_id")));
    json_decref(j);

    /* 1. the ledger picks the EN */
    snprintf(args, sizeof args,
             "{\"x\":%u,\"y\":%u,\"service\":\"%s\",\"cpu_milli\":%llu,\"mem_mb\":%llu,\"slots\":1,"
             "\"max_dist\":%llu,\"max_price\":%llu,\"expiry\":%llu}",
             o->x, o->y, o->service, (unsigned long long)o->cpu_milli, (unsigned long long)o->mem_mb,
             (unsigned long long)o->max_dist, (unsigned long long)o->max_price, (unsigned long long)(h + o->ttl));
    if ((rc = ef_cli_call(o->api, &o->key, "market", "match", args, err))) return ef_dev_fail(log, "match", rc, err);
    r->txs++;
    snprintf(path, sizeof path, "/state/market/device/%s", me);
    if ((rc = ef_cli_get(o->api, path, &j))) return ef_dev_fail(log, "reading the match", rc, NULL);
    json_t *m = json_array_get(j, 0);
    r->match = ef_jint(m, "match");
    r->en = ef_jint(m, "en");
    r->price = ef_jint(m, "price");
    r->dist2 = ef_jint(m, "dist2");
    r->eligible = ef_jint(m, "eligible");
    snprintf(r->company, sizeof r->company, "%s", json_string_value(json_object_get(m, "company")));
    json_decref(j);
    snprintf(path, sizeof path, "/state/market/en/%llu", (unsigned long long)r->en);
    if ((rc = ef_cli_get(o->api, path, &j))) return ef_dev_fail(log, "reading the EN", rc, NULL);
    snprintf(r->endpoint, sizeof r->endpoint, "%s", json_string_value(json_object_get(j, "endpoint")));
    json_decref(j);
    r->match_ms = ef_dev_now_ms() - t0;
    EF_DEV_LOG("device %.8s at (%u,%u): match %llu -> EN %llu of company %.8s at %s, distance^2 %llu, price %llu, "
               "%llu eligible (%.0f ms)\n",
               me, o->x, o->y, (unsigned long long)r->match, (unsigned long long)r->en, r->company, r->endpoint,
               (unsigned long long)r->dist2, (unsigned long long)r->price, (unsigned long long)r->eligible,
               r->match_ms);
    uint32_t ip;
    uint16_t port;
    char epath[64];
    if (ef_httpc_parse_url(r->endpoint, &ip, &port, epath, sizeof epath))
        return ef_dev_fail(log, "the EN's endpoint", EF_EINVAL, r->endpoint);

    /* 2. a channel with the EN's company, deposit for every task */
    t0 = ef_dev_now_ms();
    uint64_t deposit = o->tasks * r->price;
    /* opened for the match, so closing it ends the session too (ef_channel.h) */
    snprintf(args, sizeof args, "{\"payee\":\"%s\",\"amount\":%llu,\"expiry\":%llu,\"match\":%llu}", r->company,
             (unsigned long long)deposit, (unsigned long long)(h + o->ttl), (unsigned long long)r->match);
    if ((rc = ef_cli_call(o->api, &o->key, "channel", "open", args, err))) return ef_dev_fail(log, "open", rc, err);
    r->txs++;
    snprintf(path, sizeof path, "/state/channel/payer/%s", me);
    if ((rc = ef_cli_get(o->api, path, &j))) return ef_dev_fail(log, "reading the channel", rc, NULL);
    r->channel = ef_jint(json_array_get(j, json_array_size(j) - 1), "channel");
    json_decref(j);
    r->open_ms = ef_dev_now_ms() - t0;
    EF_DEV_LOG("device %.8s: channel %llu open, deposit %llu (%.0f ms)\n", me, (unsigned long long)r->channel,
               (unsigned long long)deposit, r->open_ms);

    /* 3. tasks, one voucher each, answers checked */
    t0 = ef_dev_now_ms();
    body = malloc(o->task_bytes ? o->task_bytes : 1);
    if (!body) return EF_ENOMEM;
    for (uint64_t i = 1; i <= o->tasks; i++) {
        ef_voucher v;
        memset(&v, 0, sizeof v);
        snprintf(v.chain_id, sizeof v.chain_id, "%s", chain);
        v.channel = r->channel;
        v.nonce = i;
        v.amount = i * r->price;
        char vhex[2 * EF_VOUCHER_ENC_MAX + 1], hdr[2 * EF_VOUCHER_ENC_MAX + 16], tpath[64];
        if ((rc = ef_voucher_sign(&v, &o->key)) || (rc = ef_voucher_hex(vhex, sizeof vhex, &v))) break;
        snprintf(hdr, sizeof hdr, "X-Voucher: %s", vhex);
        const char *headers[] = {hdr, "Content-Type: application/octet-stream", NULL};
        snprintf(tpath, sizeof tpath, "/task?channel=%llu", (unsigned long long)r->channel);
        ef_random(body, o->task_bytes);
        ef_httpc_resp resp;
        rc = ef_httpc_request(&resp, NULL, ip, port, "POST", tpath, headers, body, o->task_bytes, 10000);
        if (rc) {
            ef_dev_fail(log, "task", rc, NULL);
            break;
        }
        json_t *a = json_loadb(resp.body, resp.body_len, 0, NULL);
        ef_hash want;
        char whex[2 * EF_HASH_SIZE + 1];
        ef_edge_work(&want, body, o->task_bytes);
        ef_hex(whex, want.b, EF_HASH_SIZE);
        const char *got = json_string_value(json_object_get(a, "result"));
        bool ok = resp.status == 200 && got && !strcmp(got, whex);
        if (!ok) EF_DEV_LOG("device %.8s: task %llu: HTTP %d %.200s\n", me, (unsigned long long)i, resp.status, resp.body);
        json_decref(a);
        ef_httpc_resp_free(&resp);
        if (!ok) {
            rc = EF_EPROTO;
            break;
        }
        r->verified++;
    }
    free(body);
    r->tasks_ms = ef_dev_now_ms() - t0;
    EF_DEV_LOG("device %.8s: %llu/%llu tasks answered and checked, %llu vouchers (%.0f ms)\n", me,
               (unsigned long long)r->verified, (unsigned long long)o->tasks, (unsigned long long)r->verified,
               r->tasks_ms);
    if (rc) return rc;

    /* 4. close */
    t0 = ef_dev_now_ms();
    char cpath[96];
    snprintf(cpath, sizeof cpath, "/state/channel/channel/%llu", (unsigned long long)r->channel);
    if (!o->payer_close) {
        char tpath[64];
        snprintf(tpath, sizeof tpath, "/close?channel=%llu", (unsigned long long)r->channel);
        ef_httpc_resp resp;
        rc = ef_httpc_request(&resp, NULL, ip, port, "POST", tpath, NULL, NULL, 0, 30000);
        if (rc == 0 && resp.status != 200) {
            EF_DEV_LOG("device %.8s: close: HTTP %d %.200s\n", me, resp.status, resp.body);
            rc = EF_EPROTO;
        }
        if (rc == 0 || resp.body) ef_httpc_resp_free(&resp);
        if (rc) return ef_dev_fail(log, "close by the EN", rc, NULL);
        r->txs++;   /* the EN's redeem with close */
    } else {
        snprintf(args, sizeof args, "{\"channel\":%llu}", (unsigned long long)r->channel);
        if ((rc = ef_cli_call(o->api, &o->key, "channel", "start_close", args, err)))
            return ef_dev_fail(log, "start_close", rc, err);
        r->txs++;
        EF_DEV_LOG("device %.8s: started closing channel %llu itself (the EN's watch service must redeem)\n", me,
                   (unsigned long long)r->channel);
        /* the EN's watch service redeems within the window; then anyone settles */
        double deadline = ef_dev_now_ms() + (double)o->challenge_wait_ms;
        bool settled = false, redeemed = false;
        while (ef_dev_now_ms() < deadline) {
            if ((rc = ef_cli_get(o->api, cpath, &j))) return ef_dev_fail(log, "reading the channel", rc, NULL);
            uint64_t red = ef_jint(j, "redeemed"), close_at = ef_jint(j, "close_at");
            json_decref(j);
            if (red == deposit && !redeemed) {
                redeemed = true;
                r->txs++;   /* the watch service's redeem */
            }
            json_t *s;
            if ((rc = ef_cli_get(o->api, "/status", &s))) return rc;
            uint64_t now = ef_jint(s, "height");
            json_decref(s);
            if (now + 1 >= close_at) {
                if (ef_cli_call(o->api, &o->key, "channel", "settle", args, err) == 0) {
                    r->txs++;
                    settled = true;
                    break;
                }
            }
            usleep(100000);
        }
        if (!settled) return ef_dev_fail(log, "settle after the challenge window", EF_ETIMEOUT, NULL);
    }
    if ((rc = ef_cli_get(o->api, cpath, &j))) return ef_dev_fail(log, "reading the channel", rc, NULL);
    r->paid = ef_jint(j, "redeemed");
    r->refunded = ef_jint(j, "refunded");
    const char *state = json_string_value(json_object_get(j, "state"));
    bool closed = state && !strcmp(state, "closed");
    json_decref(j);
    r->close_ms = ef_dev_now_ms() - t0;
    EF_DEV_LOG("device %.8s: channel %llu %s: %llu paid to the EN's company, %llu back (%.0f ms)\n", me,
               (unsigned long long)r->channel, closed ? "closed" : "NOT closed", (unsigned long long)r->paid,
               (unsigned long long)r->refunded, r->close_ms);
    if (!closed || r->paid != o->tasks * r->price) return EF_ESTATE;

    /* 5. the channel's close ended the session: capacity is back with the EN */
    snprintf(path, sizeof path, "/state/market/match/%llu", (unsigned long long)r->match);
    if ((rc = ef_cli_get(o->api, path, &j))) return ef_dev_fail(log, "reading the match", rc, NULL);
    const char *mstate = json_string_value(json_object_get(j, "state"));
    bool ended = mstate && !strcmp(mstate, "ended");
    if (!ended) EF_DEV_LOG("device %.8s: match %llu is %s after the channel closed, not ended\n", me,
                           (unsigned long long)r->match, mstate ? mstate : "?");
    json_decref(j);
    if (!ended) return EF_ESTATE;
    return 0;
}
