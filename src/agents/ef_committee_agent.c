/* ef_committee_agent.c: a device's part in its committee's commit-reveal
 * election (see ef_committee_agent.h). */
#include "agents/ef_committee_agent.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ef_beacon.h"
#include "base/ef_codec.h"
#include "base/ef_jcfg.h"
#include "base/ef_log.h"

#define CA_LOG "committee"

enum { CA_COMMIT, CA_REVEAL, CA_ELECT, CA_STEPS };
static const char *const ca_step_names[CA_STEPS] = {"commit", "reveal", "elect"};

struct ef_cagent {
    ef_cagent_config cfg;
    const ef_keypair *kp;
    const char *chain_id;
    ef_store *store;
    ef_cagent_submit_fn submit;
    void *arg;
    char me[2 * EF_PUB_SIZE + 1];
    bool off;                    /* the chain has no committee */
    bool seen_any;
    ef_cagent_stats st;
    struct { uint64_t epoch, height; bool sent; } sent[CA_STEPS];
};

int ef_cagent_config_parse(ef_cagent_config *cfg, const json_t *sec, char *err, size_t err_len)
{
    static const char *const f[] = {"resend_heights", NULL};
    cfg->resend_heights = 4;
    if (!sec) return 0;
    if (ef_jcfg_only(sec, f, err, err_len)) return EF_ECONFIG;
    return ef_jcfg_u64(sec, "resend_heights", false, 1, 1000, &cfg->resend_heights, err, err_len);
}

int ef_cagent_open(ef_cagent **out, const ef_cagent_config *cfg, const ef_keypair *kp, const char *chain_id,
                   ef_store *store, ef_cagent_submit_fn submit, void *arg)
{
    ef_cagent *a = calloc(1, sizeof *a);
    *out = NULL;
    if (!a) return EF_ENOMEM;
    a->cfg = *cfg;
    a->kp = kp;
    a->chain_id = chain_id;
    a->store = store;
    a->submit = submit;
    a->arg = arg;
    ef_hex(a->me, kp->pub.b, EF_PUB_SIZE);
    *out = a;
    return 0;
}

void ef_cagent_close(ef_cagent *a) { free(a); }

void ef_cagent_stats_get(const ef_cagent *a, ef_cagent_stats *out) { *out = a->st; }

static bool ca_has(const json_t *arr, const char *hex)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) if (json_string_value(v) && !strcmp(json_string_value(v), hex)) return true;
    return false;
}

static uint64_t ca_int(const json_t *o, const char *f)
{
    json_int_t v = json_integer_value(json_object_get(o, f));
    return v < 0 ? 0 : (uint64_t)v;
}

/* Sends step for epoch unless it was sent for this epoch fewer than
 * resend_heights blocks ago. */
static void ca_send(ef_cagent *a, int step, uint64_t epoch, uint64_t height, const char *args)
{
    if (a->sent[step].sent && a->sent[step].epoch == epoch && height < a->sent[step].height + a->cfg.resend_heights)
        return;
    int rc = a->submit(a->arg, ca_step_names[step], args);
    if (rc) {
        EF_LOGW(CA_LOG, "epoch %llu: %s not sent: %s", (unsigned long long)epoch, ca_step_names[step], ef_strerror(rc));
        return;
    }
    bool again = a->sent[step].sent && a->sent[step].epoch == epoch;
    a->sent[step].sent = true;
    a->sent[step].epoch = epoch;
    a->sent[step].height = height;
    if (step == CA_COMMIT) a->st.commits++;
    else if (step == CA_REVEAL) a->st.reveals++;
    else a->st.elects++;
    if (step != CA_ELECT || !again)
        EF_LOGI(CA_LOG, "epoch %llu: %s%s sent after height %llu", (unsigned long long)epoch, ca_step_names[step],
                again ? " again" : "", (unsigned long long)height);
}

void ef_cagent_on_block(ef_cagent *a, uint64_t height)
{
    if (a->off) return;
    json_t *cur = NULL;
    int rc = ef_store_query(a->store, "committee", "current", &cur);
    if (rc == EF_ENOTFOUND || rc == EF_ENOCONTRACT) {
        EF_LOGI(CA_LOG, "this chain has no committee: the agent does nothing");
        a->off = true;
        return;
    }
    if (rc) {
        EF_LOGW(CA_LOG, "cannot read the committee: %s", ef_strerror(rc));
        return;
    }
    uint64_t epoch = ca_int(cur, "epoch"), start = ca_int(cur, "start");
    uint64_t commit_end = ca_int(cur, "commit_end"), elect_from = ca_int(cur, "elect_from");
    bool member = ca_has(json_object_get(cur, "committee"), a->me);
    if (!a->seen_any || epoch != a->st.epoch) {
        EF_LOGI(CA_LOG, "epoch %llu from height %llu: %zu members, this device %s", (unsigned long long)epoch,
                (unsigned long long)start, json_array_size(json_object_get(cur, "committee")),
                member ? "among them" : "not among them");
        a->seen_any = true;
    }
    a->st.epoch = epoch;
    a->st.member = member;
    uint64_t next = height + 1;
    char args[256];
    if (member && next >= start && next < commit_end && !ca_has(json_object_get(cur, "committed"), a->me)) {
        uint8_t secret[EF_BEACON_SECRET_SIZE];
        ef_hash cm;
        char hex[2 * EF_HASH_SIZE + 1];
        ef_beacon_secret(secret, a->kp, a->chain_id, epoch);
        ef_beacon_commitment(&cm, epoch, &a->kp->pub, secret);
        sodium_memzero(secret, sizeof secret);
        ef_hex(hex, cm.b, EF_HASH_SIZE);
        snprintf(args, sizeof args, "{\"epoch\":%llu,\"commitment\":\"%s\"}", (unsigned long long)epoch, hex);
        ca_send(a, CA_COMMIT, epoch, height, args);
    } else if (member && next >= commit_end && next < elect_from && ca_has(json_object_get(cur, "committed"), a->me) &&
               !ca_has(json_object_get(cur, "revealed"), a->me)) {
        uint8_t secret[EF_BEACON_SECRET_SIZE];
        char hex[2 * EF_BEACON_SECRET_SIZE + 1];
        ef_beacon_secret(secret, a->kp, a->chain_id, epoch);
        ef_hex(hex, secret, sizeof secret);
        sodium_memzero(secret, sizeof secret);
        snprintf(args, sizeof args, "{\"epoch\":%llu,\"secret\":\"%s\"}", (unsigned long long)epoch, hex);
        ca_send(a, CA_REVEAL, epoch, height, args);
    } else if (member && next >= elect_from) {
        snprintf(args, sizeof args, "{\"epoch\":%llu}", (unsigned long long)epoch);
        ca_send(a, CA_ELECT, epoch, height, args);
    }
    json_decref(cur);
}
