/* cmd_demo_slices.c: `edgefed demo slices` (seed 000, HIFL III.B/III.C): an
 * end-to-end network slice across two domains, each part reserved, enforced
 * and recorded by its domain's slice control, the slice active on the
 * federation only on the parts' proofs, real traffic through both domains'
 * networks, a degradation measured, a make-before-break re-adjustment proven,
 * the rate restored, decommissioning proven. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "agents/ef_proc.h"
#include "base/ef_fs.h"
#include "base/ef_log.h"
#include "cli/cli.h"
#include "cli/cli_demo.h"
#include "cli/cli_slices_bed.h"

static const char *const sd_usage =
    "usage: edgefed demo slices [--dir DIR] [--base-port P] [--process] [--keep]\n"
    "\n"
    "Starts, as real node processes, two private domain ledgers (a and b: a validator,\n"
    "the domain's administrator, and an observer, the slices' owner) and a federation\n"
    "ledger (two validators, each relaying one domain's checkpoints to the anchor, and\n"
    "an observer, the orchestrator's account). Each domain publishes a slice template;\n"
    "its slice control (edgefed nslice controller) holds its tree of switches; the\n"
    "orchestrator (edgefed nslice orchestrator) follows all three ledgers. An end-to-end\n"
    "slice of 5000 kbit/s from a's camera to b's server is requested on the federation:\n"
    "each domain reserves, enforces and records its part, the orchestrator claims each\n"
    "step with its proof, and the slice is active on the federation on both proofs.\n"
    "Traffic then flows from a's camera through a's network and the border link into\n"
    "b's network; monitors measure what each part delivers. A degradation is injected\n"
    "(a's link lends the slice no spare capacity any more: it runs on its guarantee,\n"
    "which its flow with headers exceeds), the rate is measured below target, the\n"
    "orchestrator requests a re-adjustment, domain a switches make-before-break to 40 %\n"
    "more, proven on the federation, and the rate is restored. The orchestrator is\n"
    "restarted and takes the slice up from the ledgers without redoing a step. Then both\n"
    "parts are decommissioned, proven. Each step is printed with its time and proofs\n"
    "(domain tx hash, its height, the height the anchor holds), and the peak RSS of\n"
    "every node and agent at the end.\n"
    "  As root with ip, tc and nft each domain's tree is network namespaces with htb on\n"
    "  every link and the two trees are joined by a veth pair; otherwise (or with\n"
    "  --process) everything runs on loopback, bandwidth is NOT enforced and the\n"
    "  degradation is emulated by the sender.\n"
    "  --dir       working directory (default: a new /tmp/edgefed-slices-XXXXXX, removed\n"
    "              after a successful run)\n"
    "  --base-port P2P ports from P (a), P+5 (b), P+10 (federation), HTTP at +100\n"
    "  --keep      leave the nodes running (stop: edgefed testnet down --dir DIR/a, b, fed)\n"
    "Exit status 0 only if every step succeeded and the checks hold.\n";

#define SD_ID "e2e-1"
#define SD_KBPS 5000
#define SD_SEND_KBPS 5250      /* the camera's stream: 5 % over the slice's rate */
#define SD_PKT 400             /* small packets: headers are 10 % of the wire rate */
#define SD_SQUEEZE_KBPS 2000   /* the link class a's slice may no longer borrow beyond */
#define SD_EPOCH_MS 500
#define SD_EPOCHS 90
#define SD_FAULT_FROM 6        /* process mode: the emulated fault's epochs */
#define SD_FAULT_TO 12
#define SD_RSS_AIM_KB (32 * 1024)

static bool sd_state_is(const json_t *rec, void *arg)
{
    return !strcmp(json_string_value(json_object_get(rec, "state")) ?: "", (const char *)arg);
}

static bool sd_readjusted(const json_t *rec, void *arg)
{
    return json_integer_value(json_object_get(rec, "readjustments")) >= *(const json_int_t *)arg;
}

/* The last claim of part p of rec (borrowed) or NULL. */
static const json_t *sd_last_claim(const json_t *rec, int p)
{
    const json_t *c = json_object_get(json_object_get(rec, p ? "b" : "a"), "claims");
    size_t n = json_array_size(c);
    return n ? json_array_get(c, n - 1) : NULL;
}

static size_t sd_claims(const json_t *rec)
{
    return json_array_size(json_object_get(json_object_get(rec, "a"), "claims")) +
           json_array_size(json_object_get(json_object_get(rec, "b"), "claims"));
}

/* "event: tx 1a2b3c4d.. at height H (anchored: H')" for part p's last claim,
 * after waiting (at most 3 s) for the anchor to reach the proven height. */
static void sd_proof_text(ef_slices_bed *b, const json_t *rec, int p, char *out, size_t cap)
{
    const json_t *c = sd_last_claim(rec, p);
    int64_t h = (int64_t)json_integer_value(json_object_get(c, "height")), an = -1;
    for (int i = 0; i < 60 && (an = ef_slices_bed_anchored(b, p)) < h; i++) usleep(50000);
    snprintf(out, cap, "%s: tx %.16s.. at domain %s height %lld (certified; anchored at %lld)",
             json_string_value(json_object_get(c, "event")) ?: "?", json_string_value(json_object_get(c, "tx_hash")) ?: "?",
             p ? "b" : "a", (long long)h, (long long)an);
}

int ef_demo_slices(int argc, char **argv)
{
    ef_demo_opts opts;
    int checked = ef_demo_opts_parse(argc, argv, sd_usage, &opts);
    if (checked >= 0) return checked;
    unsigned port = opts.port;
    bool netns = opts.netns;
    if (!port) port = 20000 + (unsigned)(getpid() % 90) * 130 + 40;
    char dir[PATH_MAX - 256], exe[PATH_MAX];
    if (ef_demo_workdir(opts.dir, "slices", dir, sizeof dir, exe, sizeof exe)) return 1;
    ef_demo_clock_start();
    static ef_slices_bed bed;
    ef_slices_bed *b = &bed;
    int ret = 1;
    ef_slices_traffic tr = {.pid = {-1, -1, -1}};
    json_t *rec = NULL, *ia = NULL, *ib = NULL;
    char proof[2][256];

    /* 1. ledgers, templates, slice controls, orchestrator */
    if (ef_slices_bed_up(b, dir, exe, port, netns)) goto out;
    ef_demo_step("domain ledgers a and b up (private: reads signed by members), the federation ledger up; domains "
                 "registered on the anchor, checkpoints relayed every second; a template published on each domain "
                 "(ids %.12s.., %.12s..)", b->tmpl[0], b->tmpl[1]);
    ef_demo_step("slice controls of a and b up (edgefed nslice controller): %s; the orchestrator up (edgefed nslice "
                 "orchestrator)",
                 netns ? "each tree a network namespace per switch and host, a veth pair per link with htb at its "
                         "capacity; a border veth pair joins gwa and gwb"
                       : "PROCESS MODE: loopback only, bandwidth NOT enforced (no root/ip/tc/nft, or --process)");

    /* 2. the end-to-end slice */
    uint64_t t = ef_now_mono_us();
    if (ef_slices_bed_request(b, SD_ID, SD_KBPS)) goto out;
    if (ef_slices_bed_wait(b, SD_ID, sd_state_is, "active", 30000, &rec)) {
        fprintf(stderr, "demo slices: %s did not become active on the federation\n", SD_ID);
        goto out;
    }
    double setup_ms = (double)(ef_now_mono_us() - t) / 1e3;
    for (int p = 0; p < 2; p++) sd_proof_text(b, rec, p, proof[p], sizeof proof[p]);
    ef_demo_step("%s requested on the federation (%d kbit/s, cam1 in a -> srv in b) and ACTIVE there %.0f ms later, "
                 "on the proofs of both parts: part a %s; part b %s",
                 SD_ID, SD_KBPS, setup_ms, proof[0], proof[1]);
    ia = ef_slices_bed_ctl_inst(b, 0, SD_ID "-a");
    ib = ef_slices_bed_ctl_inst(b, 1, SD_ID "-b");
    if (!ia || !ib) {
        fprintf(stderr, "demo slices: the slice controls do not hold both parts\n");
        goto out;
    }
    int sport = (int)json_integer_value(json_object_get(ia, "port"));
    if (sport != (int)json_integer_value(json_object_get(ib, "port"))) {
        fprintf(stderr, "demo slices: the parts are on different ports\n");
        goto out;
    }
    char path_a[256] = "", path_b[256] = "";
    for (int p = 0; p < 2; p++) {
        char *o = p ? path_b : path_a;
        size_t k;
        json_t *l;
        json_array_foreach(json_object_get(p ? ib : ia, "path"), k, l) {
            size_t n = strlen(o);
            snprintf(o + n, 256 - n, "%s%s", k ? "," : "", json_string_value(l));
        }
    }
    ef_demo_step("part a: %d kbit/s reserved and %s on %s (udp %d); part b: on %s (udp %d): one flow, "
                 "classified in both domains", SD_KBPS, netns ? "enforced" : "recorded (NOT enforced)", path_a, sport,
                 path_b, sport);

    /* 3. traffic through both domains */
    char fe[160] = "";
    for (int e = SD_FAULT_FROM; e <= SD_FAULT_TO; e++) {
        size_t n = strlen(fe);
        snprintf(fe + n, sizeof fe - n, "%s%d", e > SD_FAULT_FROM ? "," : "", e);
    }
    uint64_t start = ef_now_wall_ms() + 1000;
    if (ef_slices_bed_traffic(b, &tr, SD_ID, SD_SEND_KBPS, SD_PKT, start, SD_EPOCH_MS, SD_EPOCHS, fe)) {
        fprintf(stderr, "demo slices: the traffic did not start\n");
        goto out;
    }
    int64_t ka = 0, kb = 0;
    if (ef_slices_traffic_rates(&tr, 2, 5000 + 3 * SD_EPOCH_MS, &ka, &kb)) {
        fprintf(stderr, "demo slices: no rate from the monitors (see %s/traffic.log)\n", dir);
        goto out;
    }
    ef_demo_step("traffic: cam1 sends %d kbit/s (%d-byte packets) to srv in b, 1 in 10 copied to gwa; measured over "
                 "%d ms epochs: delivered through part a %lld kbit/s, end to end (through a and b) %lld kbit/s: "
                 "target %d %s",
                 SD_SEND_KBPS, SD_PKT, SD_EPOCH_MS, (long long)ka, (long long)kb, SD_KBPS,
                 ka >= SD_KBPS && kb >= SD_KBPS ? "met" : "NOT met");
    if (ka < SD_KBPS || kb < SD_KBPS) goto out;

    /* 4. degradation, re-adjustment, restored */
    uint64_t t_deg_wall, t_deg;
    if (netns) {
        while (ef_now_wall_ms() < start + 4 * SD_EPOCH_MS) usleep(5000);
        t_deg = ef_now_mono_us();
        t_deg_wall = ef_now_wall_ms();
        if (ef_slices_bed_squeeze(b, SD_SQUEEZE_KBPS)) {
            fprintf(stderr, "demo slices: the degradation could not be injected (see %s)\n", b->log);
            goto out;
        }
        ef_demo_step("degradation injected in domain a: link edge1 -> gwa lends no spare capacity any more (its htb "
                     "link class set to %d kbit/s): the slice runs on its guarantee of %d kbit/s alone, which its "
                     "flow with packet headers and the monitor's copies exceeds",
                     SD_SQUEEZE_KBPS, SD_KBPS);
    } else {
        while (ef_now_wall_ms() < start + SD_FAULT_FROM * SD_EPOCH_MS) usleep(5000);
        t_deg = ef_now_mono_us();
        t_deg_wall = ef_now_wall_ms();
        ef_demo_step("degradation EMULATED (process mode): the sender drops 30 %% of the packets to srv in epochs %d.."
                     "%d (the copies to part a's monitor still go): it shows at b's end", SD_FAULT_FROM, SD_FAULT_TO);
    }
    uint64_t e0 = ef_slices_traffic_epoch(&tr, t_deg_wall) + 1, e_low = 0;
    for (uint64_t e = e0; e < e0 + 8 && !e_low; e++) {
        if (ef_slices_traffic_rates(&tr, e, 3000 + 2 * SD_EPOCH_MS, &ka, &kb)) break;
        if (ka < SD_KBPS || kb < SD_KBPS) e_low = e;
    }
    if (!e_low) {
        fprintf(stderr, "demo slices: the degradation did not show in the measured rate\n");
        goto out;
    }
    ef_demo_step("measured below target from epoch %llu: part a %lld kbit/s, end to end %lld kbit/s (target %d); "
                 "the orchestrator requests a re-adjustment of part %s after 1500 ms below",
                 (unsigned long long)e_low, (long long)ka, (long long)kb, SD_KBPS, netns ? "a" : "b");
    json_int_t one = 1;
    json_decref(rec);
    if (ef_slices_bed_wait(b, SD_ID, sd_readjusted, &one, 20000, &rec)) {
        fprintf(stderr, "demo slices: no re-adjustment was proven\n");
        goto out;
    }
    double t_adj = (double)(ef_now_mono_us() - t_deg) / 1e3;
    uint64_t t_adj_wall = ef_now_wall_ms();
    int rp = netns ? 0 : 1;
    sd_proof_text(b, rec, rp, proof[0], sizeof proof[0]);
    const json_t *part = json_object_get(rec, rp ? "b" : "a");
    ef_demo_step("part %s re-adjusted make-before-break (version %lld at %lld kbit/s reserved and switched while "
                 "version %lld ran, then the old one released) and proven on the federation %.0f ms after the "
                 "degradation: %s",
                 rp ? "b" : "a", (long long)json_integer_value(json_object_get(part, "version")),
                 (long long)json_integer_value(json_object_get(part, "kbps")),
                 (long long)json_integer_value(json_object_get(part, "version")) - 1, t_adj, proof[0]);
    uint64_t e_ok = 0;
    uint64_t from = ef_slices_traffic_epoch(&tr, netns ? t_adj_wall : start + (SD_FAULT_TO + 1) * SD_EPOCH_MS) + 1;
    for (uint64_t e = from; e < from + 30 && !e_ok; e++) {
        if (ef_slices_traffic_rates(&tr, e, (uint32_t)(from + 31 - e) * SD_EPOCH_MS + 3000, &ka, &kb)) break;
        if (ka >= SD_KBPS && kb >= SD_KBPS) e_ok = e;
    }
    if (!e_ok) {
        fprintf(stderr, "demo slices: the rate was not restored\n");
        goto out;
    }
    double restored_s = (double)(start + (e_ok + 1) * SD_EPOCH_MS - t_deg_wall) / 1e3;
    ef_demo_step("rate restored in epoch %llu: part a %lld kbit/s, end to end %lld kbit/s (target %d); from the "
                 "degradation to the end of the first restored epoch: %.1f s%s",
                 (unsigned long long)e_ok, (long long)ka, (long long)kb, SD_KBPS, restored_s,
                 netns ? "" : " (EMULATED: the fault ended; nothing is enforced)");
    ef_slices_traffic_stop(&tr);

    /* 5. the orchestrator restarted: it takes the slice up from the ledgers */
    ef_slices_bed_orch_stop(b);
    json_decref(rec);
    if (!(rec = ef_slices_bed_slice(b, SD_ID))) goto out;
    size_t claims = sd_claims(rec);
    if (ef_slices_bed_orch_start(b)) goto out;
    usleep(1500000);
    json_t *os = json_load_file(b->orch_state, 0, NULL), *after = ef_slices_bed_slice(b, SD_ID);
    json_int_t adopted = json_integer_value(json_object_get(json_object_get(os, "stats"), "adopted"));
    json_int_t reclaimed = json_integer_value(json_object_get(json_object_get(os, "stats"), "claimed"));
    json_t *fromj = json_object_get(os, "from");
    json_int_t ff = json_integer_value(json_object_get(fromj, "federation")),
               fa = json_integer_value(json_object_get(fromj, "a")), fb = json_integer_value(json_object_get(fromj, "b"));
    size_t claims2 = after ? sd_claims(after) : 0;
    json_decref(os);
    json_decref(after);
    if (adopted != 1 || reclaimed != 0 || claims2 != claims || ff <= 1 || fa <= 1 || fb <= 1) {
        fprintf(stderr, "demo slices: after its restart the orchestrator took up %lld slices, claimed %lld "
                        "steps (%zu claims, were %zu), follows from blocks %lld/%lld/%lld\n", (long long)adopted,
                (long long)reclaimed, claims2, claims, (long long)ff, (long long)fa, (long long)fb);
        goto out;
    }
    ef_demo_step("orchestrator restarted: it took %s up from the federation's record and the domains' instances "
                 "and follows the federation from block %lld, a from %lld, b from %lld (not block 1): no step "
                 "redone (%zu claims, as before)", SD_ID, (long long)ff, (long long)fa, (long long)fb, claims);

    /* 6. decommissioning */
    t = ef_now_mono_us();
    if (ef_slices_bed_owner_call(b, "decommission", SD_ID, "")) goto out;
    json_decref(rec);
    if (ef_slices_bed_wait(b, SD_ID, sd_state_is, "decommissioned", 30000, &rec)) {
        fprintf(stderr, "demo slices: %s was not decommissioned\n", SD_ID);
        goto out;
    }
    double dec_ms = (double)(ef_now_mono_us() - t) / 1e3;
    for (int p = 0; p < 2; p++) sd_proof_text(b, rec, p, proof[p], sizeof proof[p]);
    int held_a = -1, held_b = -1;
    for (int i = 0; i < 100 && (held_a || held_b); i++, usleep(20000)) {
        held_a = ef_slices_bed_ctl_count(b, 0);
        held_b = ef_slices_bed_ctl_count(b, 1);
    }
    if (held_a || held_b) {
        fprintf(stderr, "demo slices: the slice controls still hold %d and %d instances\n", held_a, held_b);
        goto out;
    }
    ef_demo_step("%s decommissioned %.0f ms after the request, both parts released%s and proven: part a %s; "
                 "part b %s", SD_ID, dec_ms, netns ? " (htb classes and filters removed)" : "", proof[0], proof[1]);

    /* 7. agreement and memory */
    for (int i = 0; i < 3; i++)
        if (ef_proc_cmd_log(b->log, exe, "testnet", "check", "--dir", b->net[i].dir, NULL)) {
            fprintf(stderr, "demo slices: the nodes of %s disagree\n", b->net[i].dir);
            goto out;
        }
    {
        long peak = 0, node_kb[3] = {0, 0, 0};
        for (int i = 0; i < 3; i++)
            for (size_t k = 0; k < b->net[i].n; k++) {
                long kb_ = ef_demo_node_hwm_kb(b->net[i].nodes[k].home);
                if (kb_ > node_kb[i]) node_kb[i] = kb_;
                if (kb_ > peak) peak = kb_;
            }
        long ca = ef_demo_pid_hwm_kb((int)b->ctl[0]), cb = ef_demo_pid_hwm_kb((int)b->ctl[1]),
             oo = ef_demo_pid_hwm_kb((int)b->orch);
        ef_demo_step("every node of each ledger holds the same blocks; peak RSS: domain a nodes %.1f MB, domain b "
                     "%.1f MB, federation %.1f MB (aim 32 MB: %s); slice controls %.1f / %.1f MB, orchestrator "
                     "%.1f MB",
                     node_kb[0] / 1024.0, node_kb[1] / 1024.0, node_kb[2] / 1024.0,
                     peak <= SD_RSS_AIM_KB ? "met" : "NOT met (a sanitizer build uses several times more)",
                     ca / 1024.0, cb / 1024.0, oo / 1024.0);
    }
    ret = 0;
out:
    ef_slices_traffic_stop(&tr);
    json_decref(rec);
    json_decref(ia);
    json_decref(ib);
    ef_slices_bed_down(b, opts.keep && ret == 0);
    if (opts.keep && ret == 0) printf("left running in %s (stop: edgefed testnet down --dir %s/{a,b,fed})\n", dir, dir);
    else if (ret == 0 && !opts.dir && ef_fs_remove_tree(dir)) fprintf(stderr, "demo slices: cannot remove %s\n", dir);
    else if (ret) fprintf(stderr, "demo slices: FAILED; files in %s\n", dir);
    printf("%s\n", ret ? "demo slices: FAILED" : "demo slices: OK");
    return ret;
}
