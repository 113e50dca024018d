/* cli_slices_bed.h: the two-domain slice testbed that `edgefed demo slices`
 * and `edgefed bench slices --real` share: two private domain ledgers (a, b:
 * a validator, the domain administrator, and an observer, the slices' owner),
 * a federation ledger (two validators, each running the checkpoint relayer of
 * one domain, and an observer, the orchestrator's account), all real node
 * processes; each domain's slice control (`edgefed nslice controller`) on its
 * tree of switches, the two trees joined by a border link (netns: a veth pair
 * between the two roots, with routes, so a flow from a's camera to b's server
 * crosses a's htb classes and then b's), a template published per domain, and
 * the orchestrator (`edgefed nslice orchestrator`) with its rates directory.
 *
 * Domain a: gwa (core, the border) - edge1 - cam1, cam2; domain b: gwb (core,
 * the border) - edge1 - srv. Links 20000 kbit/s. An end-to-end slice's part a
 * is cam1 -> gwa, part b gwb -> srv.
 */
#ifndef EF_CLI_SLICES_BED_H
#define EF_CLI_SLICES_BED_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "cli/cli_demo.h"

#define EF_BED_LINK_KBPS 20000

typedef struct ef_slices_bed {
    char dir[PATH_MAX - 256], exe[PATH_MAX], log[PATH_MAX];
    bool netns;
    unsigned port, port_base, octet[2];
    char prefix[2][16];
    ef_demo_net net[3];          /* a, b, federation */
    bool up[3];
    char tmpl[2][65];            /* template ids */
    char owner[2][65];           /* the domains' o0: the parts' owner */
    ef_keypair orch_key;         /* the federation's o0: the e2e slices' owner */
    char ctl_state[2][PATH_MAX], orch_state[PATH_MAX], rates[PATH_MAX];
    pid_t ctl[2], orch;
    long ctl_hwm[2], orch_hwm;   /* peak RSS of the agents, kB, read before they stop */
} ef_slices_bed;

/* Builds and starts everything (see above) in dir; port: P2P ports from it
 * (a), +5 (b), +10 (federation), HTTP at +100. netns needs root. Prints
 * nothing; 0, or 1 after printing why (the parts up are left for
 * ef_slices_bed_down). */
int ef_slices_bed_up(ef_slices_bed *b, const char *dir, const char *exe, unsigned port, bool netns);
/* Stops the agents (their peak RSS recorded) and, unless keep, the testnets. */
void ef_slices_bed_down(ef_slices_bed *b, bool keep);

/* Starts / stops the orchestrator (0, or an error). */
int ef_slices_bed_orch_start(ef_slices_bed *b);
void ef_slices_bed_orch_stop(ef_slices_bed *b);

/* e2e.request of slice id (kbps, max latency 50 ms) as the orchestrator's
 * account: 0 once committed OK. */
int ef_slices_bed_request(ef_slices_bed *b, const char *id, uint64_t kbps);
/* e2e.<method> {"id": id, more...} as the owner; args_extra "" or ",\"part\":..." */
int ef_slices_bed_owner_call(ef_slices_bed *b, const char *method, const char *id, const char *args_extra);
/* The federation's record of slice id (new reference) or NULL. */
json_t *ef_slices_bed_slice(ef_slices_bed *b, const char *id);
/* Polls (every 5 ms) until fn(record, arg) holds; 0 and *rec (new reference,
 * may be NULL), or EF_ETIMEOUT. */
int ef_slices_bed_wait(ef_slices_bed *b, const char *id, bool (*fn)(const json_t *rec, void *arg), void *arg,
                       uint32_t timeout_ms, json_t **rec);
/* The height domain i (0 a, 1 b) is anchored at on the federation, -1 if unknown. */
int64_t ef_slices_bed_anchored(ef_slices_bed *b, int i);
/* Instance inst in domain i's controller state (new reference) or NULL. */
json_t *ef_slices_bed_ctl_inst(ef_slices_bed *b, int i, const char *inst);
/* Number of instances domain i's controller holds (-1: no state). */
int ef_slices_bed_ctl_count(ef_slices_bed *b, int i);
/* The injected degradation (netns only): domain a's link edge1 -> gwa can lend
 * no spare capacity any more (its htb link class 1:1 set to kbps), so a slice
 * on it runs on its own guarantee alone. 0, EF_ESTATE in process mode, or the
 * tc command's failure. */
int ef_slices_bed_squeeze(ef_slices_bed *b, uint64_t kbps);

/* Traffic through slice id's two parts (read from the controllers' states):
 * cam1 sends send_kbps of pkt_bytes packets to srv in b on the slice's port,
 * every 10th copied to gwa; a monitor at gwa (part a's end, scale 10) writes
 * RATES/ID-a.jsonl, one at srv (the end-to-end rate) RATES/ID-b.jsonl; epochs
 * of epoch_ms from start_ms. fault (process mode only: "E,E,..." or NULL):
 * the sender drops 30 % of what goes to srv in those epochs (EMULATED).
 * 0, or an error (nothing left running). */
typedef struct ef_slices_traffic {
    pid_t pid[3];
    char out[2][PATH_MAX];
    int port;
    uint64_t start_ms, epoch_ms;
} ef_slices_traffic;
int ef_slices_bed_traffic(ef_slices_bed *b, ef_slices_traffic *t, const char *id, uint64_t send_kbps,
                          unsigned pkt_bytes, uint64_t start_ms, uint64_t epoch_ms, unsigned epochs, const char *fault);
void ef_slices_traffic_stop(ef_slices_traffic *t);
/* Waits (at most timeout_ms) until both monitors closed epoch e: 0 and the
 * kbps delivered through part a and end to end, or EF_ETIMEOUT. */
int ef_slices_traffic_rates(const ef_slices_traffic *t, uint64_t e, uint32_t timeout_ms, int64_t *ka, int64_t *kb);
/* The epoch wall time t_ms falls in. */
uint64_t ef_slices_traffic_epoch(const ef_slices_traffic *t, uint64_t t_ms);

#endif
