/* cmd_demo_hierarchy.c: `edgefed demo hierarchy` (seed 000, HIFL): two private
 * domain ledgers run by committees elected from their devices, a federation
 * ledger anchoring their checkpoints, a cross-domain proof, a freeze and unfreeze. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "agents/ef_proc.h"
#include "api/ef_client.h"
#include "base/ef_codec.h"
#include "base/ef_fs.h"
#include "base/ef_log.h"
#include "cli/cli.h"
#include "cli/cli_api.h"
#include "cli/cli_demo.h"
#include "cli/cli_market.h"
#include "ledger/ef_block.h"
#include "ledger/ef_cert.h"
#include "ledger/ef_tx.h"
#include "ledger/ef_vset.h"

static const char *const hi_usage =
    "usage: edgefed demo hierarchy [--dir DIR] [--base-port P] [--devices N] [--epoch-heights L] [--keep]\n"
    "\n"
    "Lays out (edgefed testnet init --hierarchy) and starts, as real node processes, two\n"
    "private domain ledgers (a and b), each of N\n"
    "devices (default 8) with a committee of 4 elected every L heights (default 20) by\n"
    "the committee contract, and a federation ledger of 4 validators. Validator v0 is\n"
    "domain a's administrator's node and v1 domain b's: each runs the checkpoint relayer\n"
    "(agents.relayer), which registers its domain on the anchor contract and submits\n"
    "its checkpoints (every rotation height with the new committee, the tip every 2 s).\n"
    "Then: a committee rotation of each domain is anchored; a transaction of domain a is\n"
    "proven to the federation (edgefed proof get, edgefed proof verify) and the same\n"
    "proof fails for domain b; keys of domain a's committee sign a second header for an\n"
    "anchored height, which freezes the domain (its proofs stop verifying) until 3 of\n"
    "the 4 federation validators unfreeze it; checkpoints resume. Each step is printed\n"
    "with its time, and the peak RSS of every node at the end.\n"
    "  --dir       working directory (default: a new /tmp/edgefed-hierarchy-XXXXXX, removed\n"
    "              after a successful run)\n"
    "  --base-port P2P ports from P (a), P+10 (b), P+20 (federation), HTTP at +100 (default\n"
    "              from the process id, below 32768)\n"
    "  --keep      leave the nodes running (stop: edgefed testnet down --dir DIR)\n"
    "Exit status 0 only if every step succeeded.\n";

#define HI_RSS_AIM_KB (32 * 1024)

static void hi_sleep_ms(unsigned ms) { usleep(ms * 1000u); }

static int64_t hi_int(const json_t *o, const char *k) { return (int64_t)json_integer_value(json_object_get(o, k)); }

/* The anchor's record of a domain (NULL if unknown). */
static json_t *hi_anchor(const ef_demo_net *fed, const char *name)
{
    char path[96];
    json_t *j = NULL;
    snprintf(path, sizeof path, "/state/anchor/domain/%s", name);
    if (ef_cli_get_as(fed->api, NULL, path, &j)) return NULL;
    return j;
}

/* The domain's committee contract "current" (signed by its admin). */
static json_t *hi_current(const ef_demo_net *d)
{
    json_t *j = NULL;
    if (ef_cli_get_as(d->api, &d->admin, "/state/committee/current", &j)) return NULL;
    return j;
}

/* Sorted, comma-joined keys of a JSON array of strings or of {pub} objects. */
static void hi_keys(const json_t *arr, char *out, size_t cap)
{
    const char *k[64];
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(arr) && n < 64; i++) {
        const json_t *v = json_array_get(arr, i);
        const char *s = json_is_string(v) ? json_string_value(v) : json_string_value(json_object_get(v, "pub"));
        if (s) k[n++] = s;
    }
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(k[j - 1], k[j]) > 0; j--) {
            const char *t = k[j];
            k[j] = k[j - 1];
            k[j - 1] = t;
        }
    out[0] = 0;
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(out + len, cap - len, "%s%s", i ? "," : "", k[i]);
        if (w < 0 || (size_t)w >= cap - len) break;
        len += (size_t)w;
    }
}

/* Waits (up to timeout_s) until domain `name`'s anchored committee is the domain's
 * current committee of an epoch >= epoch, and its anchored height reaches that
 * epoch's start. Returns 0 and the epoch's start in *start. */
static int hi_wait_rotation(const ef_demo_net *fed, const ef_demo_net *d, const char *name, int64_t epoch, int timeout_s,
                            int64_t *start, size_t *new_members)
{
    char dk[64 * 66], ak[64 * 66];
    for (int i = 0; i < timeout_s * 5; i++, hi_sleep_ms(200)) {
        json_t *cur = hi_current(d), *an = hi_anchor(fed, name);
        bool ok = false;
        if (cur && an && hi_int(cur, "epoch") >= epoch && hi_int(an, "height") >= hi_int(cur, "start") &&
            hi_int(an, "committee_since") == hi_int(cur, "start")) {
            hi_keys(json_object_get(cur, "committee"), dk, sizeof dk);
            hi_keys(json_object_get(an, "committee"), ak, sizeof ak);
            ok = !strcmp(dk, ak);
            *start = hi_int(cur, "start");
            *new_members = 0;
        }
        json_decref(cur);
        json_decref(an);
        if (ok) return 0;
    }
    return EF_ETIMEOUT;
}

static int hi_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Domain-to-anchor latency of domain `name`'s last checkpoints (at most 30): the
 * federation block time that anchored each minus the domain header's own time.
 * Prints p50 and max; 0, or an error if none could be read. */
static int hi_anchor_latency(const ef_demo_net *fed, const char *name)
{
    char path[128];
    json_t *list = NULL;
    int64_t lat[30];
    size_t n = 0;
    snprintf(path, sizeof path, "/state/anchor/checkpoints/%s", name);
    if (ef_cli_get_as(fed->api, NULL, path, &list) || !json_is_array(list)) {
        json_decref(list);
        return EF_EPROTO;
    }
    size_t len = json_array_size(list);
    for (size_t i = len > 30 ? len - 30 : 0; i < len && n < 30; i++) {
        int64_t h = hi_int(json_array_get(list, i), "height"), at = hi_int(json_array_get(list, i), "anchored_at");
        json_t *ck = NULL, *fb = NULL;
        snprintf(path, sizeof path, "/state/anchor/checkpoints/%s/%lld", name, (long long)h);
        bool ok = h > 0 && ef_cli_get_as(fed->api, NULL, path, &ck) == 0;
        snprintf(path, sizeof path, "/blocks/%lld", (long long)at);
        ok = ok && ef_cli_get_as(fed->api, NULL, path, &fb) == 0;
        if (ok) lat[n++] = hi_int(fb, "time_ms") - hi_int(json_object_get(ck, "header"), "time_ms");
        json_decref(ck);
        json_decref(fb);
    }
    json_decref(list);
    if (!n) return EF_EPROTO;
    qsort(lat, n, sizeof lat[0], hi_cmp_i64);
    ef_demo_step("domain %s: from a domain block's time to the federation block that anchored it, over its last %zu "
            "checkpoints: p50 %lld ms, max %lld ms", name, n, (long long)lat[n / 2], (long long)lat[n - 1]);
    return 0;
}

/* A second header for anchored height h of domain `name`, certified by the keys of
 * the committee that signed h (which the demo holds: they are the domain's device
 * keys), submitted as a checkpoint. Returns 0 if the anchor froze the domain. */
static int hi_equivocate(const ef_demo_net *fed, const ef_demo_net *d, const char *name, uint64_t *height_out)
{
    char path[256], hex[2 * EF_CERT_SIZE_MAX + 1], code[24];
    json_t *an = hi_anchor(fed, name), *ck = NULL, *cm = NULL;
    uint8_t *hb = NULL, *cb = NULL;
    ef_vset *vs = malloc(sizeof *vs);
    ef_cert *cert = malloc(sizeof *cert);
    int rc = an && vs && cert ? 0 : EF_ENOMEM;
    if (rc) goto out;
    uint64_t h = (uint64_t)hi_int(an, "height");
    *height_out = h;
    snprintf(path, sizeof path, "/state/anchor/checkpoints/%s/%llu", name, (unsigned long long)h);
    if ((rc = ef_cli_get_as(fed->api, NULL, path, &ck))) goto out;
    const char *hh = json_string_value(json_object_get(ck, "header_hex"));
    const char *vh = json_string_value(json_object_get(ck, "vset_hash"));
    if (!hh || !vh || strlen(hh) / 2 > EF_BLOCK_HEADER_MAX) {
        rc = EF_EPROTO;
        goto out;
    }
    snprintf(path, sizeof path, "/state/anchor/committee/%s/%s", name, vh);
    if ((rc = ef_cli_get_as(fed->api, NULL, path, &cm))) goto out;
    const char *cx = json_string_value(json_object_get(cm, "hex"));
    size_t hl = strlen(hh) / 2, cl = cx ? strlen(cx) / 2 : 0;
    hb = malloc(hl + 1);
    cb = malloc(cl + 1);
    if (!cx || !hb || !cb || ef_unhex(hb, hl, hh) || ef_unhex(cb, cl, cx)) {
        rc = EF_EPROTO;
        goto out;
    }
    ef_block_header hdr;
    ef_rd r;
    ef_rd_init(&r, cb, cl);
    ef_vset_init(vs);
    ef_vset_decode(&r, vs);
    if ((rc = ef_rd_finish(&r)) || (rc = ef_block_header_decode(&hdr, hb, hl))) goto out;
    hdr.time_ms += 1;   /* another block at the same height: the equivocation */
    hdr.state_hash.b[0] ^= 0x5a;
    ef_hash vid;
    ef_block_header_hash(&vid, &hdr);
    memset(cert, 0, sizeof *cert);
    cert->height = h;
    cert->round = 0;
    cert->value_id = vid;
    uint64_t power = 0, quorum = ef_vset_quorum(vs);
    for (uint32_t i = 0; i < vs->len && power < quorum; i++)
        for (size_t k = 0; k < d->n; k++)
            if (!memcmp(d->nodes[k].key.pub.b, vs->v[i].pub.b, EF_PUB_SIZE)) {
                cert->sigs[cert->count].index = (uint16_t)i;
                ef_cert_sign(&cert->sigs[cert->count].sig, &d->nodes[k].key, hdr.chain_id, h, 0, &vid);
                cert->count++;
                power += vs->v[i].power;
                break;
            }
    if (power < quorum) {
        rc = EF_ECERT;
        goto out;
    }
    ef_wr w;
    ef_wr_init(&w);
    if ((rc = ef_block_header_encode(&w, &hdr))) {
        ef_wr_free(&w);
        goto out;
    }
    char hdr_hex[2 * EF_BLOCK_HEADER_MAX + 1];
    ef_hex(hdr_hex, w.buf, w.len);
    ef_wr_free(&w);
    uint8_t *ce = NULL;
    size_t ce_len = 0;
    if ((rc = ef_cert_encode(cert, &ce, &ce_len))) goto out;
    ef_hex(hex, ce, ce_len);
    free(ce);
    json_t *args = json_pack("{s:s, s:s, s:s}", "domain", name, "header", hdr_hex, "cert", hex);
    char *text = args ? json_dumps(args, JSON_COMPACT) : NULL;
    json_decref(args);
    if (!text) {
        rc = EF_ENOMEM;
        goto out;
    }
    /* anyone with an account may submit it: here federation validator v3 */
    rc = ef_cli_call_retry(fed->api, &fed->nodes[3].key, false, "anchor", "checkpoint", text, code, NULL);
    free(text);
    if (!rc && strcmp(code, "OK")) {
        fprintf(stderr, "demo hierarchy: the conflicting checkpoint was refused: %s\n", code);
        rc = EF_ESTATE;
    }
    if (!rc) {
        json_decref(an);
        an = hi_anchor(fed, name);
        if (!an || !json_is_true(json_object_get(an, "frozen"))) rc = EF_ESTATE;
    }
    if (!rc) ef_demo_step("keys of %u of domain %s's %u committee members signed a second header for anchored "
                     "height %llu; submitted as a checkpoint: domain %s FROZEN, both certified headers kept as "
                     "evidence (%lld)", cert->count, name, vs->len, (unsigned long long)h, name,
                     (long long)hi_int(an, "evidence"));
out:
    json_decref(an);
    json_decref(ck);
    json_decref(cm);
    free(hb);
    free(cb);
    free(vs);
    free(cert);
    return rc;
}

/* A transaction of domain a (a transfer by an eligible device), its proof fetched
 * with `edgefed proof get` and verified with `edgefed proof verify` against the
 * federation; with other, also presented as one of domain b (must fail). */
static int hi_prove(const char *log, const char *exe, const ef_demo_net *fed, const ef_demo_net *dom, const char *proof_path,
                    int amount, bool other)
{
    char code[24], okey[PATH_MAX];
    int rc;
        const ef_demo_node *dev = &dom->nodes[dom->n - 1];   /* an eligible device of a */
        /* A proof verifies while its block is anchored or signed by the committee the
         * anchor tracks: the transaction goes in right after a rotation is anchored,
         * so that its committee is tracked for a whole epoch. */
        {
            json_t *cur = hi_current(dom);
            int64_t e = cur ? hi_int(cur, "epoch") : 0, st0 = 0;
            size_t nm = 0;
            json_decref(cur);
            if (hi_wait_rotation(fed, dom, "a", e + 1, 90, &st0, &nm)) {
                fprintf(stderr, "demo hierarchy: no rotation of a anchored\n");
                return 1;
            }
        }
        char args[256], admin_hex[2 * EF_PUB_SIZE + 1], hash[2 * EF_HASH_SIZE + 1];
        json_t *tx = NULL;
        ef_hex(admin_hex, dom->admin.pub.b, EF_PUB_SIZE);
        snprintf(args, sizeof args, "{\"to\":\"%s\",\"amount\":%d}", admin_hex, amount);
        uint64_t t = ef_now_mono_us();
        rc = ef_cli_call_retry(dom->api, &dev->key, true, "bank", "transfer", args, code, &tx);
        if (rc || strcmp(code, "OK")) {
            fprintf(stderr, "demo hierarchy: the transfer on domain a failed: %s %s\n", ef_strerror(rc), code);
            json_decref(tx);
            return 1;
        }
        snprintf(hash, sizeof hash, "%s", json_string_value(json_object_get(tx, "hash")) ?: "");
        int64_t th = hi_int(tx, "height");
        json_decref(tx);
        ef_demo_step("on domain a, device %s transferred %d to the administrator: tx %.16s... in block %lld (%.0f ms)",
                dev->name, amount, hash, (long long)th, (double)(ef_now_mono_us() - t) / 1e3);
        json_t *an = hi_anchor(fed, "a");
        int64_t ah = an ? hi_int(an, "height") : -1;
        json_decref(an);
        snprintf(okey, sizeof okey, "%.*s/node.key", PATH_MAX - 64, dev->home);
        t = ef_now_mono_us();
        if (ef_proc_cmd_log(log, exe, "proof", "get", hash, "--api", dom->api, "--key", okey, "--out", proof_path,
                            NULL)) {
            fprintf(stderr, "demo hierarchy: edgefed proof get failed (see %s)\n", log);
            return 1;
        }
        ef_demo_step("edgefed proof get %.16s... --api <domain a> --key <a member's key>: the proof (header, Merkle "
                "paths, certificate) in %s (%.0f ms)", hash, proof_path, (double)(ef_now_mono_us() - t) / 1e3);
        t = ef_now_mono_us();
        if (ef_proc_cmd_log(log, exe, "proof", "verify", "--federation", fed->api, "--domain", "a", proof_path,
                            NULL)) {
            fprintf(stderr, "demo hierarchy: edgefed proof verify failed (see %s)\n", log);
            return 1;
        }
        ef_demo_step("edgefed proof verify --federation <federation> --domain a: VALID against the anchor (block %lld, "
                "certified by the committee the anchor tracks; anchored height %lld) (%.0f ms)", (long long)th, (long long)ah,
                (double)(ef_now_mono_us() - t) / 1e3);
        if (!other) return 0;
        int lv = ef_log_level();
        ef_log_set_level(EF_LOG_ERROR);   /* the refusal below is expected */
        int vrc = ef_proc_cmd_log(log, exe, "proof", "verify", "--federation", fed->api, "--domain", "b", proof_path,
                                  NULL);
        ef_log_set_level(lv);
        if (vrc == 0) {
            fprintf(stderr, "demo hierarchy: a proof of domain a verified as one of domain b\n");
            return 1;
        }
        ef_demo_step("the same proof presented as one of domain b: refused");
    return 0;
}

int ef_demo_hierarchy(int argc, char **argv)
{
    static const char *const spec[] = {"dir=", "base-port=", "devices=", "epoch-heights=", "keep", NULL};
    int checked = ef_cli_check(argc, argv, hi_usage, spec, 0);
    if (checked >= 0) return checked;
    const char *dir_opt = ef_cli_opt(argc, argv, "dir", NULL);
    unsigned port = (unsigned)atoi(ef_cli_opt(argc, argv, "base-port", "0"));
    int devices = atoi(ef_cli_opt(argc, argv, "devices", "8"));
    int epoch_h = atoi(ef_cli_opt(argc, argv, "epoch-heights", "20"));
    bool keep = ef_cli_flag(argc, argv, "keep");
    if (devices < 8 || devices > 10 || epoch_h < 12 || epoch_h > 1000 || (port && (port < 1024 || port > 65000))) {
        fprintf(stderr, "demo hierarchy: --devices is 8..10, --epoch-heights 12..1000, --base-port 1024..65000\n");
        fputs(hi_usage, stderr);
        return 2;
    }
    if (!port) port = 20000 + (unsigned)(getpid() % 90) * 130;
    char dir[PATH_MAX - 64], exe[PATH_MAX];
    if (ef_demo_workdir(dir_opt, "hierarchy", dir, sizeof dir, exe, sizeof exe)) return 1;
    ef_demo_clock_start();
    int ret = 1, rc;
    static ef_demo_net nets[3];   /* a, b, federation */
    static const char *const names[2] = {"a", "b"};
    memset(nets, 0, sizeof nets);
    ef_demo_net *fed = &nets[2];
    bool up = false;
    char log[PATH_MAX], ports[16], dev_s[16], ep_s[16], code[24];
    snprintf(log, sizeof log, "%s/commands.log", dir);
    snprintf(dev_s, sizeof dev_s, "%d", devices);
    snprintf(ep_s, sizeof ep_s, "%d", epoch_h);
    if (ef_fs_mkdirs(dir, 0700)) goto out;

    /* 1. the ledgers, laid out as `edgefed testnet init --hierarchy` lays them out */
    snprintf(ports, sizeof ports, "%u", port);
    up = true;   /* a tree that came up in part is taken down too */
    if (ef_proc_cmd_log(log, exe, "testnet", "init", "--dir", dir, "--hierarchy", "--domains", "2", "--devices", dev_s,
                        "--committee", "4", "--epoch-heights", ep_s, "--base-port", ports, NULL)) {
        fprintf(stderr, "demo hierarchy: testnet init --hierarchy failed (see %s)\n", log);
        goto out;
    }
    for (int i = 0; i < 3; i++) {
        snprintf(nets[i].dir, sizeof nets[i].dir, "%.*s/%s", PATH_MAX - 128, dir, i < 2 ? names[i] : "fed");
        if (ef_demo_net_load(&nets[i], i < 2)) {
            fprintf(stderr, "demo hierarchy: cannot read %s/testnet.json\n", nets[i].dir);
            goto out;
        }
    }
    if (ef_proc_cmd_log(log, exe, "testnet", "up", "--dir", dir, NULL)) {
        fprintf(stderr, "demo hierarchy: testnet up failed (see %s)\n", log);
        goto out;
    }
    for (int i = 0; i < 3; i++) {
        json_t *st = NULL;
        for (int t = 0; t < 150 && ef_cli_get_as(nets[i].api, i < 2 ? &nets[i].admin : NULL, "/status", &st); t++)
            hi_sleep_ms(100);
        if (!st) {
            fprintf(stderr, "demo hierarchy: %s does not answer\n", nets[i].api);
            goto out;
        }
        json_decref(st);
    }
    {
        json_t *st = NULL;
        bool refused = ef_cli_get_as(nets[0].api, NULL, "/status", &st) != 0;
        json_decref(st);
        if (!refused) {
            fprintf(stderr, "demo hierarchy: domain a answered an unsigned read\n");
            goto out;
        }
    }
    ef_demo_step("domain ledgers a and b up: %d device nodes each, a committee of 4 (v0..v3 at epoch 0) elected "
            "every %d heights, private APIs (an unsigned read of a is refused); federation ledger up: 4 "
            "validators, v0 the administrator's node of a, v1 of b, each running the relayer", devices, epoch_h);

    /* 2. registration and checkpoints flowing */
    for (int i = 0; i < 2; i++) {
        json_t *an = NULL;
        for (int t = 0; t < 300; t++, hi_sleep_ms(100)) {
            json_decref(an);
            if ((an = hi_anchor(fed, names[i])) && hi_int(an, "height") >= 1) break;
        }
        if (!an || hi_int(an, "height") < 1) {
            fprintf(stderr, "demo hierarchy: domain %s was not registered and anchored\n", names[i]);
            json_decref(an);
            goto out;
        }
        ef_demo_step("domain %s registered on the anchor by federation validator v%d (chain %s, committee of block "
                "1) and anchored at height %lld", names[i], i, nets[i].chain, (long long)hi_int(an, "height"));
        json_decref(an);
    }
    {
        int64_t h0[2], h1[2], tip[2];
        for (int i = 0; i < 2; i++) {
            json_t *an = hi_anchor(fed, names[i]);
            h0[i] = an ? hi_int(an, "height") : -1;
            json_decref(an);
        }
        hi_sleep_ms(4500);
        for (int i = 0; i < 2; i++) {
            json_t *an = hi_anchor(fed, names[i]), *st = NULL;
            h1[i] = an ? hi_int(an, "height") : -1;
            tip[i] = ef_cli_get_as(nets[i].api, &nets[i].admin, "/status", &st) ? -1 : hi_int(st, "height");
            json_decref(an);
            json_decref(st);
            if (h1[i] <= h0[i]) {
                fprintf(stderr, "demo hierarchy: no checkpoints of %s flowed (%lld -> %lld)\n", names[i],
                        (long long)h0[i], (long long)h1[i]);
                goto out;
            }
        }
        ef_demo_step("checkpoints flowing: anchored heights a %lld -> %lld (tip %lld), b %lld -> %lld (tip %lld) in "
                "4.5 s; each checkpoint is a header and a certificate, nothing else leaves a domain",
                (long long)h0[0], (long long)h1[0], (long long)tip[0], (long long)h0[1], (long long)h1[1],
                (long long)tip[1]);
    }

    /* 3. a committee rotation of each domain, anchored */
    for (int i = 0; i < 2; i++) {
        int64_t start = 0;
        size_t nm = 0;
        uint64_t t = ef_now_mono_us();
        if (hi_wait_rotation(fed, &nets[i], names[i], 1, 90, &start, &nm)) {
            fprintf(stderr, "demo hierarchy: the rotation of domain %s was not anchored\n", names[i]);
            goto out;
        }
        char path[96];
        json_t *ck = NULL, *cur = hi_current(&nets[i]);
        snprintf(path, sizeof path, "/state/anchor/checkpoints/%s/%lld", names[i], (long long)(start - 1));
        int crc = ef_cli_get_as(fed->api, NULL, path, &ck);
        json_t *hj = json_object_get(ck, "header");
        bool carried = crc == 0 && strcmp(json_string_value(json_object_get(hj, "vset_hash")) ?: "",
                                          json_string_value(json_object_get(hj, "next_vset_hash")) ?: "");
        int64_t ep = cur ? hi_int(cur, "epoch") : -1;
        json_decref(ck);
        json_decref(cur);
        if (!carried) {
            fprintf(stderr, "demo hierarchy: no rotation checkpoint of %s at height %lld\n", names[i],
                    (long long)(start - 1));
            goto out;
        }
        ef_demo_step("domain %s rotated its committee (now epoch %lld); the checkpoint of height %lld, certified by the "
                "outgoing committee, carried the incoming one; the anchor tracks it from height %lld "
                "(waited %.1f s)", names[i], (long long)ep, (long long)(start - 1), (long long)start,
                (double)(ef_now_mono_us() - t) / 1e6);
    }

    /* 4. a cross-domain proof: a transaction of domain a, verified against the federation */
    char proof_path[PATH_MAX];
    snprintf(proof_path, sizeof proof_path, "%s/proof.json", dir);
    if (hi_prove(log, exe, fed, &nets[0], proof_path, 7, true)) goto out;
    /* 5. conflicting checkpoints freeze domain a; >2/3 of the federation unfreezes it */
    {
        uint64_t fh = 0;
        if ((rc = hi_equivocate(fed, &nets[0], "a", &fh))) {
            fprintf(stderr, "demo hierarchy: freezing domain a failed: %s\n", ef_strerror(rc));
            goto out;
        }
        int lv = ef_log_level();
        ef_log_set_level(EF_LOG_ERROR);   /* the refusal is expected */
        int vrc = ef_proc_cmd_log(log, exe, "proof", "verify", "--federation", fed->api, "--domain", "a", proof_path,
                                  NULL);
        ef_log_set_level(lv);
        if (vrc == 0) {
            fprintf(stderr, "demo hierarchy: a proof of frozen domain a verified\n");
            goto out;
        }
        hi_sleep_ms(2500);
        json_t *an = hi_anchor(fed, "a");
        int64_t still = an ? hi_int(an, "height") : -1;
        json_decref(an);
        if (still != (int64_t)fh) {
            fprintf(stderr, "demo hierarchy: frozen domain a moved from %llu to %lld\n", (unsigned long long)fh,
                    (long long)still);
            goto out;
        }
        ef_demo_step("while frozen: proofs of a are refused, and its relayer's checkpoints stop (still at height %lld "
                "2.5 s later); domain b carries on", (long long)still);
        for (int v = 0; v < 3; v++) {
            uint64_t t = ef_now_mono_us();
            rc = ef_cli_call_retry(fed->api, &fed->nodes[v].key, false, "anchor", "unfreeze", "{\"domain\":\"a\"}", code, NULL);
            an = hi_anchor(fed, "a");
            bool frozen = !an || json_is_true(json_object_get(an, "frozen"));
            json_decref(an);
            if (rc || strcmp(code, "OK") || frozen != (v < 2)) {
                fprintf(stderr, "demo hierarchy: unfreeze by v%d: %s %s, frozen %d\n", v, ef_strerror(rc), code,
                        frozen);
                goto out;
            }
            ef_demo_step("federation validator v%d votes to unfreeze a (%d of 4): %s (%.0f ms)", v, v + 1,
                    frozen ? "still frozen (needs more than 2/3)" : "UNFROZEN", (double)(ef_now_mono_us() - t) / 1e3);
        }
        for (int k = 0; k < 100; k++, hi_sleep_ms(100)) {
            an = hi_anchor(fed, "a");
            still = an ? hi_int(an, "height") : -1;
            json_decref(an);
            if (still > (int64_t)fh) break;
        }
        if (still <= (int64_t)fh) {
            fprintf(stderr, "demo hierarchy: checkpoints of a did not resume\n");
            goto out;
        }
        ef_demo_step("checkpoints of a resumed (anchored height %lld)", (long long)still);
        snprintf(proof_path, sizeof proof_path, "%s/proof2.json", dir);
        if (hi_prove(log, exe, fed, &nets[0], proof_path, 8, false)) goto out;
        ef_demo_step("proofs of a verify again");
    }

    /* 6. latency, agreement and memory */
    for (int i = 0; i < 2; i++)
        if (hi_anchor_latency(fed, names[i])) {
            fprintf(stderr, "demo hierarchy: cannot read the checkpoints of %s\n", names[i]);
            goto out;
        }
    for (int i = 0; i < 3; i++)
        if (ef_proc_cmd_log(log, exe, "testnet", "check", "--dir", nets[i].dir, NULL)) {
            fprintf(stderr, "demo hierarchy: nodes of %s disagree\n", nets[i].dir);
            goto out;
        }
    {
        long peak = 0, peak_dom = 0, peak_fed = 0;
        const char *who = "?";
        for (int i = 0; i < 3; i++)
            for (size_t k = 0; k < nets[i].n; k++) {
                long kb = ef_demo_node_hwm_kb(nets[i].nodes[k].home);
                if (i < 2 && kb > peak_dom) peak_dom = kb;
                if (i == 2 && kb > peak_fed) peak_fed = kb;
                if (kb > peak) {
                    peak = kb;
                    who = nets[i].nodes[k].home;
                }
            }
        ef_demo_step("every node of each ledger holds the same blocks; peak RSS: domain nodes %.1f MB, federation nodes "
                "%.1f MB (highest %s), aim 32 MB: %s", peak_dom / 1024.0, peak_fed / 1024.0, who,
                peak <= HI_RSS_AIM_KB ? "met" : "NOT met (a sanitizer build uses several times more)");
    }
    ret = 0;
out:
    if (up && (!keep || ret)) (void)ef_proc_cmd_log(log, exe, "testnet", "down", "--dir", dir, NULL);
    if (keep && ret == 0) printf("left running in %s (stop: edgefed testnet down --dir %s)\n", dir, dir);
    else if (ret == 0 && !dir_opt && ef_fs_remove_tree(dir)) fprintf(stderr, "demo hierarchy: cannot remove %s\n", dir);
    else if (ret) fprintf(stderr, "demo hierarchy: FAILED; files in %s\n", dir);
    printf("%s\n", ret ? "demo hierarchy: FAILED" : "demo hierarchy: OK");
    return ret;
}
