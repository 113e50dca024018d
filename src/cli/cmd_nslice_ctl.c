/* cmd_nslice_ctl.c: the hosts of the network-slice agents on real nodes:
 * `edgefed nslice controller` (a domain's slice control, agents/ef_nsctl.h,
 * against its domain node) and `edgefed nslice orchestrator` (the end-to-end
 * orchestrator, agents/ef_e2eorch.h, against the federation node and the
 * domain nodes). Both follow GET /events, submit through the nodes' APIs and
 * rebuild their state from the ledgers after a restart. */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "agents/ef_e2eorch.h"
#include "agents/ef_nsctl.h"
#include "agents/ef_slice.h"
#include "agents/ef_slicenet.h"
#include "api/ef_client.h"
#include "base/ef_log.h"
#include "cli/cli.h"
#include "cli/cli_market.h"

static bool nx_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    if (!s) return true;
    if (!*s || *s == '-' || *s == '+') return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

/* Blocks SIGTERM and SIGINT (the main thread waits for them). */
static void nx_block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    pthread_sigmask(SIG_BLOCK, set, NULL);
}

static void nx_write_json(const char *path, json_t *j)
{
    if (!path || !j) return;
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (json_dump_file(j, tmp, JSON_INDENT(2)) || rename(tmp, path)) EF_LOGW("nslice", "cannot write %s", path);
}

/* An agent's submit hook: contract.method(args) on url as key, waiting for its
 * result (ef_cli_call_retry; reads signed if sign); the result's code in err.
 * 0, EF_ESTATE for a refused transaction, or the call's error. */
static int nx_call(const char *url, const ef_keypair *key, bool sign, const char *contract, const char *method,
                   const json_t *args, char err[24])
{
    char *text = json_dumps(args, JSON_COMPACT);
    char code[24] = "";
    if (!text) return EF_ENOMEM;
    int rc = ef_cli_call_retry(url, key, sign, contract, method, text, code, NULL);
    free(text);
    snprintf(err, 24, "%s", code);
    return rc ? rc : strcmp(code, "OK") ? EF_ESTATE : 0;
}

/* A message of GET /events: the event (a new reference) with its contract and
 * name if it is one, else NULL. */
static json_t *nx_event(const char *type, const char *data, const char **contract, const char **name)
{
    if (strcmp(type, "event") || !*data) return NULL;
    json_t *m = json_loads(data, 0, NULL);
    *contract = json_string_value(json_object_get(m, "contract"));
    *name = json_string_value(json_object_get(m, "name"));
    if (m && *contract && *name) return m;
    json_decref(m);
    return NULL;
}

/* One event stream followed on its own thread. */
typedef struct nx_follow {
    const char *url;
    const ef_keypair *key;   /* signs the stream's request (private domain), or NULL */
    char target[200];
    ef_client_event_fn fn;
    void *arg;
    const volatile bool *stop;
    volatile bool done;
    int rc;
    long status;
    pthread_t th;
} nx_follow;

static void *nx_follow_main(void *arg)
{
    nx_follow *f = arg;
    ef_client *cl;
    if (ef_client_new(&cl, f->url, f->key, 0)) {
        f->rc = EF_ENOMEM;
        f->done = true;
        return NULL;
    }
    char last[EF_CLIENT_ID_MAX] = "";
    f->rc = ef_client_follow(cl, f->target, last, f->fn, f->arg, f->stop, &f->status);
    ef_client_free(cl);
    f->done = true;
    return NULL;
}

/* ---- the domain's slice control ---- */

static const char *const nc_usage =
    "usage: edgefed nslice controller --key KEYFILE --node URL --topology FILE (--netns | --process)\n"
    "                                 [--prefix P] [--octet N] [--port-base N] [--state FILE] [--log FILE]\n"
    "  A domain's slice control (agents/ef_nsctl.h): follows the domain node's nslice\n"
    "  events (GET /events, reads signed by KEYFILE, a member: a private domain ledger\n"
    "  answers members only) and, as the domain administrator (KEYFILE, the genesis'\n"
    "  params.nslice.admin), reserves each instance in the resource database of\n"
    "  --topology, records nslice.reserve, stitches it, records nslice.activate (or\n"
    "  nslice.fail); re-adjusts make-before-break; releases on decommissioning. It is\n"
    "  the SLA controller's resource database and enforcement (agents/ef_slice.h,\n"
    "  agents/ef_slicenet.h), following the other contract.\n"
    "  --netns: (root) every node a network namespace P-I (P default efns + pid),\n"
    "           every link a veth pair in 10.N.x.y (N default 178), htb per slice;\n"
    "  --process: nothing is built and bandwidth is NOT enforced (logic only).\n"
    "  --port-base: slice ports from here (default 41000; a slot from the end-to-end\n"
    "  slice's id, so both domains of one slice use one port).\n"
    "  On start it reads the ledger's instances and takes each up where the ledger\n"
    "  has it (a running one stitched again, the step it owes taken, none redone),\n"
    "  then follows from the next block. --state: what it holds as JSON (instances\n"
    "  with ports, namespaces, addresses), rewritten at every change. --log: every\n"
    "  command run. Runs until SIGTERM/SIGINT, then releases every slice and removes\n"
    "  the namespaces (the ledger keeps the instances: a restart takes them up).\n";

typedef struct nc_host {
    pthread_mutex_t mu;
    ef_nsctl *ctl;
    const char *url, *state;
    ef_keypair key;
    volatile bool stop;
} nc_host;

static void nc_host_state(nc_host *h)
{
    json_t *j = ef_nsctl_json(h->ctl);
    nx_write_json(h->state, j);
    json_decref(j);
}

static int nc_host_submit(void *arg, const char *method, const json_t *args, char err[24])
{
    nc_host *h = arg;
    return nx_call(h->url, &h->key, true, "nslice", method, args, err);
}

static int nc_host_event(void *arg, const char *type, const char *id, const char *data)
{
    nc_host *h = arg;
    (void)id;
    if (h->stop) return 1;
    const char *contract, *name;
    json_t *m = nx_event(type, data, &contract, &name);
    if (m && !strcmp(contract, "nslice")) {
        pthread_mutex_lock(&h->mu);
        if (!h->stop) {
            ef_nsctl_on_event(h->ctl, name, json_object_get(m, "data"));
            nc_host_state(h);
        }
        pthread_mutex_unlock(&h->mu);
    }
    json_decref(m);
    return h->stop ? 1 : 0;
}

static int ef_nslice_controller(int argc, char **argv)
{
    static const char *const spec[] = {"key=", "node=", "topology=", "netns", "process", "prefix=", "octet=",
                                       "port-base=", "state=", "log=", NULL};
    int chk = ef_cli_check(argc, argv, nc_usage, spec, 0);
    if (chk >= 0) return chk;
    const char *keyf = ef_cli_opt(argc, argv, "key", NULL), *topo = ef_cli_opt(argc, argv, "topology", NULL);
    bool netns = ef_cli_flag(argc, argv, "netns"), process = ef_cli_flag(argc, argv, "process");
    uint64_t octet = 178, port_base = 41000;
    if (!keyf || !topo || !ef_cli_opt(argc, argv, "node", NULL) || netns == process ||
        !nx_u64(ef_cli_opt(argc, argv, "octet", NULL), 1, 254, &octet) ||
        !nx_u64(ef_cli_opt(argc, argv, "port-base", NULL), 1024, 65535 - EF_NSCTL_MAX, &port_base)) {
        if (netns == process) fprintf(stderr, "edgefed nslice controller: give one of --netns and --process\n");
        else fprintf(stderr, "edgefed nslice controller: --key, --node and --topology are required; --octet is "
                             "1..254, --port-base 1024..%d\n", 65535 - EF_NSCTL_MAX);
        fputs(nc_usage, stderr);
        return 2;
    }
    nc_host *h = calloc(1, sizeof *h);
    if (!h) return 1;
    pthread_mutex_init(&h->mu, NULL);
    h->url = ef_cli_opt(argc, argv, "node", NULL);
    h->state = ef_cli_opt(argc, argv, "state", NULL);
    int ret = 1, rc;
    ef_slice_db *db = NULL;
    ef_slicenet *net = NULL;
    json_t *st = NULL, *insts = NULL;
    char err[256], prefix[64];
    if (ef_key_load(&h->key, keyf)) {
        fprintf(stderr, "edgefed nslice controller: cannot read key %s\n", keyf);
        goto out;
    }
    if ((rc = ef_slice_db_load(&db, topo, err, sizeof err))) {
        fprintf(stderr, "edgefed nslice controller: %s\n", err);
        goto out;
    }
    if ((rc = ef_cli_get_as(h->url, &h->key, "/status", &st)) ||
        (rc = ef_cli_get_as(h->url, &h->key, "/state/nslice/instances", &insts)) || !json_is_array(insts)) {
        fprintf(stderr, "edgefed nslice controller: cannot read %s (status, nslice instances): %s\n", h->url,
                ef_strerror(rc ? rc : EF_EPROTO));
        goto out;
    }
    snprintf(prefix, sizeof prefix, "%s", ef_cli_opt(argc, argv, "prefix", ""));
    if (!prefix[0]) snprintf(prefix, sizeof prefix, "efns%u", (unsigned)getpid() % 10000000u);
    ef_slicenet_cfg nc = {.mode = netns ? "netns" : "process", .prefix = prefix, .octet = (uint8_t)octet,
                          .log = ef_cli_opt(argc, argv, "log", NULL)};
    if ((rc = ef_slicenet_open(&net, db, &nc))) {
        fprintf(stderr, "edgefed nslice controller: cannot build the network: %s%s\n", ef_strerror(rc),
                rc == EF_EPERM ? " (--netns needs root; --process runs without)" : "");
        goto out;
    }
    ef_nsctl_cfg cc = {.port_base = (uint16_t)port_base};
    ef_nsctl_hooks hooks = {.submit = nc_host_submit, .arg = h};
    if ((rc = ef_nsctl_open(&h->ctl, db, net, &cc, &hooks))) {
        fprintf(stderr, "edgefed nslice controller: %s\n", ef_strerror(rc));
        goto out;
    }
    sigset_t set;
    nx_block_signals(&set);
    uint64_t height = (uint64_t)json_integer_value(json_object_get(st, "height"));
    /* the list is a summary: the whole record of each instance still alive */
    json_t *full = json_array();
    size_t k;
    json_t *x;
    json_array_foreach(insts, k, x) {
        const char *l = json_string_value(json_object_get(x, "lifecycle")) ?: "";
        const char *iid = json_string_value(json_object_get(x, "id"));
        char path[96];
        json_t *rec = NULL;
        if (!iid || !strcmp(l, "decommissioned") || !strcmp(l, "failed")) continue;
        snprintf(path, sizeof path, "/state/nslice/instance/%.40s", iid);
        if ((rc = ef_cli_get_as(h->url, &h->key, path, &rec))) {
            fprintf(stderr, "edgefed nslice controller: cannot read %s: %s\n", path, ef_strerror(rc));
            json_decref(full);
            goto out;
        }
        json_array_append_new(full, rec);
    }
    ef_nsctl_resume(h->ctl, full);
    json_decref(full);
    ef_nsctl_stats cs;
    ef_nsctl_stats_get(h->ctl, &cs);
    nc_host_state(h);
    nx_follow f = {.url = h->url, .key = &h->key, .fn = nc_host_event, .arg = h, .stop = &h->stop};
    snprintf(f.target, sizeof f.target, "/events?contract=nslice&kind=event&from=%llu",
             (unsigned long long)height + 1);
    if (pthread_create(&f.th, NULL, nx_follow_main, &f)) goto out;
    fprintf(stderr, "edgefed nslice controller: %s mode%s, %zu nodes, %llu instances taken up from height %llu, "
                    "following %s%s\n", nc.mode, netns ? "" : " (bandwidth NOT enforced)", ef_slice_nodes(db),
            (unsigned long long)(cs.adopted + cs.activated + cs.released), (unsigned long long)height, h->url,
            f.target);
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 200000000};
    while (!f.done) {
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT) break;
    }
    h->stop = true;
    if (f.done && f.rc != EF_ECLOSED)
        fprintf(stderr, "edgefed nslice controller: the event stream ended: %s (HTTP %ld)\n", ef_strerror(f.rc),
                f.status);
    else ret = 0;
    pthread_mutex_lock(&h->mu);   /* no event is being handled from here */
    ef_nsctl_stats_get(h->ctl, &cs);
    fprintf(stderr, "edgefed nslice controller: %llu activated, %llu switched, %llu failed, %llu changes failed, "
                    "%llu released, %llu adopted\n", (unsigned long long)cs.activated,
            (unsigned long long)cs.switched, (unsigned long long)cs.failed, (unsigned long long)cs.change_failed,
            (unsigned long long)cs.released, (unsigned long long)cs.adopted);
    ef_slicenet_forget_all(net);   /* removing the namespaces removes every class and filter */
    ef_nsctl_close(h->ctl);
    ef_slicenet_close(net);
    if (h->state) remove(h->state);
    ef_slice_db_free(db);
    fflush(stderr);
    _exit(ret);   /* the follower may still hold its connection: do not unwind under it */
out:
    json_decref(st);
    json_decref(insts);
    ef_nsctl_close(h->ctl);
    ef_slicenet_close(net);
    ef_slice_db_free(db);
    free(h);
    return ret;
}

/* ---- the end-to-end orchestrator ---- */

static const char *const eo_usage =
    "usage: edgefed nslice orchestrator --federation URL --key KEYFILE\n"
    "                                   --domain NAME=URL,KEYFILE,TEMPLATE [--domain ...]\n"
    "                                   [--headroom-pct N] [--degrade-ms N] [--rates-dir DIR] [--state FILE]\n"
    "                                   [--replay]\n"
    "  The end-to-end slice orchestrator (agents/ef_e2eorch.h): follows the federation's\n"
    "  e2e events and every domain's nslice events. For an end-to-end slice requested by\n"
    "  KEYFILE (its owner on the federation) it requests one nslice instance per domain\n"
    "  (ID-a, ID-b, the domain's TEMPLATE id, as the domain's KEYFILE, a member and the\n"
    "  part's owner), fetches each step the domain records as a proof (GET /proofs/tx,\n"
    "  signed by the domain key, waiting for its certificate) and claims it on the\n"
    "  federation (e2e.claim); re-adjusts on e2e.readjust; decommissions both parts.\n"
    "  --rates-dir DIR: the delivered rate of each part, as `edgefed slice monitor\n"
    "  --out` writes it: DIR/ID-a.jsonl (what arrives at part a's end) and\n"
    "  DIR/ID-b.jsonl (at part b's end: the end-to-end rate; not counted against b\n"
    "  while a's own is below target); below the slice's kbps for --degrade-ms\n"
    "  (default 1000) it requests e2e.readjust, which goes to the domain with\n"
    "  --headroom-pct (default 25) more than the part's rate.\n"
    "  On start it resumes from the ledgers' state: it reads each ledger's height,\n"
    "  takes up the federation's slices it owns, learns each part from its domain's\n"
    "  instance record, takes each step it owes (a part its domain lacks, a domain\n"
    "  step the federation lacks, a decommissioning or a re-adjustment requested\n"
    "  meanwhile), then follows each ledger's events from the block after the\n"
    "  height it read. --replay: follows every ledger from block 1 instead (slow on\n"
    "  long chains; nothing is redone either way). --state: what it holds as JSON.\n"
    "  Runs until SIGTERM/SIGINT.\n";

#define EO_DOMAINS_MAX 4
#define EO_FILES_MAX 64

typedef struct eo_dom {
    char name[33], url[160], tmpl[65];
    ef_keypair key;
    nx_follow f;
} eo_dom;

typedef struct eo_file {
    char id[40];
    int part;
    long off;
    uint64_t last_kbps;
} eo_file;

typedef struct eo_host {
    pthread_mutex_t mu;
    ef_e2eorch *orch;
    const char *fed, *state, *rates;
    ef_keypair key;
    char owner[2 * EF_PUB_SIZE + 1];
    eo_dom dom[EO_DOMAINS_MAX];
    size_t ndom;
    eo_file files[EO_FILES_MAX];
    size_t nfiles;
    nx_follow ff;
    uint64_t from[EO_DOMAINS_MAX + 1];   /* the block each stream follows from: the federation's, each domain's */
    volatile bool stop;
} eo_host;

typedef struct eo_ev {
    eo_host *h;
    eo_dom *d;   /* NULL: the federation */
} eo_ev;

static eo_dom *eo_host_dom(eo_host *h, const char *name)
{
    for (size_t i = 0; name && i < h->ndom; i++)
        if (!strcmp(h->dom[i].name, name)) return &h->dom[i];
    return NULL;
}

static void eo_host_state(eo_host *h)
{
    json_t *j = ef_e2eorch_json(h->orch);
    ef_e2eorch_stats s;
    ef_e2eorch_stats_get(h->orch, &s);
    if (j)
        json_object_set_new(j, "stats", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "requested",
                                                  (json_int_t)s.requested, "claimed", (json_int_t)s.claimed,
                                                  "claim_refused", (json_int_t)s.claim_refused, "readjust_requested",
                                                  (json_int_t)s.readjust_requested, "adopted", (json_int_t)s.adopted,
                                                  "caught_up", (json_int_t)s.caught_up));
    json_t *from = j ? json_pack("{s:I}", "federation", (json_int_t)h->from[0]) : NULL;
    for (size_t d = 0; from && d < h->ndom; d++)
        json_object_set_new(from, h->dom[d].name, json_integer((json_int_t)h->from[d + 1]));
    if (from) json_object_set_new(j, "from", from);
    nx_write_json(h->state, j);
    json_decref(j);
}

static int eo_host_fed_submit(void *arg, const char *method, const json_t *args, char err[24])
{
    eo_host *h = arg;
    return nx_call(h->fed, &h->key, false, "e2e", method, args, err);
}

static int eo_host_dom_submit(void *arg, const char *domain, const char *method, const json_t *args, char err[24])
{
    eo_host *h = arg;
    eo_dom *d = eo_host_dom(h, domain);
    if (!d) return EF_ENOTFOUND;
    return nx_call(d->url, &d->key, true, "nslice", method, args, err);
}

/* The certified proof of the domain's tx: the certificate of its block comes
 * with the next block, so it waits (20 ms polls, at most 10 s). */
static int eo_host_proof(void *arg, const char *domain, const char *tx_hash, char **hex)
{
    eo_host *h = arg;
    eo_dom *d = eo_host_dom(h, domain);
    char path[128];
    *hex = NULL;
    if (!d || strlen(tx_hash) != 64) return EF_EINVAL;
    snprintf(path, sizeof path, "/proofs/tx/%s", tx_hash);
    int rc = EF_ETIMEOUT;
    for (int i = 0; i < 500 && !h->stop; i++) {
        json_t *j = NULL;
        rc = ef_cli_get_as(d->url, &d->key, path, &j);
        const char *p = json_string_value(json_object_get(j, "proof"));
        if (rc == 0 && p && json_is_true(json_object_get(j, "certified"))) {
            *hex = strdup(p);
            json_decref(j);
            return *hex ? 0 : EF_ENOMEM;
        }
        json_decref(j);
        if (rc == 0) rc = EF_ETIMEOUT;
        usleep(20000);
    }
    return rc;
}

static json_t *eo_host_query(void *arg, const char *domain, const char *path)
{
    eo_host *h = arg;
    json_t *j = NULL;
    if (!domain) return ef_cli_get_as(h->fed, NULL, path, &j) ? NULL : j;
    eo_dom *d = eo_host_dom(h, domain);
    return d && ef_cli_get_as(d->url, &d->key, path, &j) == 0 ? j : NULL;
}

static int eo_host_event(void *arg, const char *type, const char *id, const char *data)
{
    eo_ev *ev = arg;
    eo_host *h = ev->h;
    (void)id;
    if (h->stop) return 1;
    const char *contract, *name;
    json_t *m = nx_event(type, data, &contract, &name);
    const char *tx = json_string_value(json_object_get(m, "tx"));
    if (m) {
        pthread_mutex_lock(&h->mu);
        if (h->stop) {
        } else if (!ev->d && !strcmp(contract, "e2e")) {
            /* only the slices this orchestrator owns */
            const char *owner = json_string_value(json_object_get(json_object_get(m, "data"), "owner"));
            if (strcmp(name, "e2e_requested") || !owner || !strcmp(owner, h->owner))
                ef_e2eorch_on_fed_event(h->orch, name, json_object_get(m, "data"));
        } else if (ev->d && !strcmp(contract, "nslice") && tx) {
            ef_e2eorch_on_domain_event(h->orch, ev->d->name, name, json_object_get(m, "data"), tx);
        }
        eo_host_state(h);
        pthread_mutex_unlock(&h->mu);
    }
    json_decref(m);
    return h->stop ? 1 : 0;
}

/* Reads the lines of DIR/ID-P.jsonl added since the last call; the latest kbps
 * of a closed epoch in *kbps. true if there was one. */
static bool eo_rates_read(eo_host *h, eo_file *f, uint64_t *kbps)
{
    char path[1200], line[4096];
    snprintf(path, sizeof path, "%s/%s-%c.jsonl", h->rates, f->id, f->part ? 'b' : 'a');
    FILE *fp = fopen(path, "r");
    if (!fp) return false;
    bool got = false;
    if (fseek(fp, f->off, SEEK_SET) == 0)
        while (fgets(line, sizeof line, fp)) {
            size_t n = strlen(line);
            if (!n || line[n - 1] != '\n') break;   /* a line still being written */
            f->off += (long)n;
            json_t *j = json_loads(line, 0, NULL);
            if (json_is_integer(json_object_get(j, "kbps"))) {
                *kbps = (uint64_t)json_integer_value(json_object_get(j, "kbps"));
                got = true;
            }
            json_decref(j);
        }
    fclose(fp);
    return got;
}

static eo_file *eo_rates_file(eo_host *h, const char *id, int part)
{
    for (size_t i = 0; i < h->nfiles; i++)
        if (h->files[i].part == part && !strcmp(h->files[i].id, id)) return &h->files[i];
    if (h->nfiles == EO_FILES_MAX || strlen(id) >= sizeof h->files[0].id) return NULL;
    eo_file *f = &h->files[h->nfiles++];
    memset(f, 0, sizeof *f);
    snprintf(f->id, sizeof f->id, "%s", id);
    f->part = part;
    return f;
}

/* One pass over the rate files of the slices held. */
static void eo_rates_poll(eo_host *h)
{
    pthread_mutex_lock(&h->mu);
    json_t *j = ef_e2eorch_json(h->orch);
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(j, "slices"), i, s) {
        const char *id = json_string_value(json_object_get(s, "id"));
        uint64_t target = (uint64_t)json_integer_value(json_object_get(s, "kbps"));
        eo_file *fa = id ? eo_rates_file(h, id, 0) : NULL, *fb = id ? eo_rates_file(h, id, 1) : NULL;
        uint64_t k;
        uint64_t now = ef_now_wall_ms();
        if (fa && eo_rates_read(h, fa, &k)) {
            fa->last_kbps = k;
            ef_e2eorch_rate(h->orch, id, 0, k, now);
        }
        /* b's end sees what a delivered: a shortfall of a's is not b's */
        if (fb && eo_rates_read(h, fb, &k) && (!fa || !fa->last_kbps || fa->last_kbps >= target))
            ef_e2eorch_rate(h->orch, id, 1, k, now);
    }
    /* forget the files of slices no longer held */
    size_t keep = 0;
    for (size_t f = 0; f < h->nfiles; f++) {
        bool held = false;
        json_array_foreach(json_object_get(j, "slices"), i, s) held |=
            !strcmp(json_string_value(json_object_get(s, "id")) ?: "", h->files[f].id);
        if (held) h->files[keep++] = h->files[f];
    }
    h->nfiles = keep;
    json_decref(j);
    eo_host_state(h);
    pthread_mutex_unlock(&h->mu);
}

/* --domain NAME=URL,KEYFILE,TEMPLATE */
static int eo_parse_domain(eo_dom *d, const char *v)
{
    char buf[600], *eq, *c1, *c2;
    if (strlen(v) >= sizeof buf) return EF_EINVAL;
    snprintf(buf, sizeof buf, "%s", v);
    if (!(eq = strchr(buf, '=')) || !(c1 = strchr(eq + 1, ',')) || !(c2 = strchr(c1 + 1, ','))) return EF_EINVAL;
    *eq = *c1 = *c2 = 0;
    if (!buf[0] || strlen(buf) >= sizeof d->name || strlen(eq + 1) >= sizeof d->url || strlen(c2 + 1) != 64)
        return EF_EINVAL;
    snprintf(d->name, sizeof d->name, "%s", buf);
    snprintf(d->url, sizeof d->url, "%s", eq + 1);
    snprintf(d->tmpl, sizeof d->tmpl, "%s", c2 + 1);
    return ef_key_load(&d->key, c1 + 1) ? EF_EIO : 0;
}

static int ef_nslice_orchestrator(int argc, char **argv)
{
    static const char *const spec[] = {"federation=", "key=", "domain=", "headroom-pct=", "degrade-ms=",
                                       "rates-dir=", "state=", "replay", NULL};
    int chk = ef_cli_check(argc, argv, eo_usage, spec, 0);
    if (chk >= 0) return chk;
    eo_host *h = calloc(1, sizeof *h);
    if (!h) return 1;
    pthread_mutex_init(&h->mu, NULL);
    h->fed = ef_cli_opt(argc, argv, "federation", NULL);
    h->state = ef_cli_opt(argc, argv, "state", NULL);
    h->rates = ef_cli_opt(argc, argv, "rates-dir", NULL);
    const char *keyf = ef_cli_opt(argc, argv, "key", NULL);
    uint64_t headroom = 25, degrade = 1000;
    int ret = 2;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (!strcmp(argv[i], "--domain") && i + 1 < argc) v = argv[++i];
        else if (!strncmp(argv[i], "--domain=", 9)) v = argv[i] + 9;
        if (!v) continue;
        if (h->ndom == EO_DOMAINS_MAX || eo_parse_domain(&h->dom[h->ndom], v)) {
            fprintf(stderr, "edgefed nslice orchestrator: bad --domain '%s' (NAME=URL,KEYFILE,TEMPLATE: a readable "
                            "key file, a 64-hex template id; at most %d)\n", v, EO_DOMAINS_MAX);
            goto usage;
        }
        h->ndom++;
    }
    if (!h->fed || !keyf || h->ndom < 2 || !nx_u64(ef_cli_opt(argc, argv, "headroom-pct", NULL), 1, 1000, &headroom) ||
        !nx_u64(ef_cli_opt(argc, argv, "degrade-ms", NULL), 1, 3600000, &degrade)) {
        fprintf(stderr, "edgefed nslice orchestrator: --federation, --key and two --domain are required; "
                        "--headroom-pct 1..1000, --degrade-ms 1..3600000\n");
        goto usage;
    }
    ret = 1;
    if (ef_key_load(&h->key, keyf)) {
        fprintf(stderr, "edgefed nslice orchestrator: cannot read key %s\n", keyf);
        goto out;
    }
    ef_hex(h->owner, h->key.pub.b, EF_PUB_SIZE);
    ef_e2eorch_cfg cfg = {.ndomains = h->ndom, .headroom_pct = (unsigned)headroom, .degrade_ms = degrade};
    for (size_t i = 0; i < h->ndom; i++) {
        cfg.domains[i].name = h->dom[i].name;
        cfg.domains[i].template_id = h->dom[i].tmpl;
    }
    ef_e2eorch_hooks hooks = {.fed_submit = eo_host_fed_submit, .dom_submit = eo_host_dom_submit,
                              .proof = eo_host_proof, .query = eo_host_query, .arg = h};
    if (ef_e2eorch_open(&h->orch, &cfg, &hooks)) goto out;
    /* each ledger's height first, then its state: an event after the height
     * read is followed, one before it is in the state read after */
    uint64_t *from = h->from;
    bool replay = ef_cli_flag(argc, argv, "replay");
    for (size_t d = 0; d <= h->ndom; d++) {
        json_t *st = NULL;
        const char *url = d ? h->dom[d - 1].url : h->fed;
        int src = ef_cli_get_as(url, d ? &h->dom[d - 1].key : NULL, "/status", &st);
        json_int_t ht = json_integer_value(json_object_get(st, "height"));
        json_decref(st);
        if (src || ht < 0) {
            fprintf(stderr, "edgefed nslice orchestrator: cannot read %s/status: %s\n", url,
                    ef_strerror(src ? src : EF_EPROTO));
            goto out;
        }
        from[d] = replay ? 1 : (uint64_t)ht + 1;
    }
    /* take up what the federation holds of ours */
    json_t *list = NULL;
    int rc = ef_cli_get_as(h->fed, NULL, "/state/e2e/slices", &list);
    if (rc || !json_is_array(list)) {
        fprintf(stderr, "edgefed nslice orchestrator: cannot read %s/state/e2e/slices: %s\n", h->fed,
                ef_strerror(rc ? rc : EF_EPROTO));
        json_decref(list);
        goto out;
    }
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x) {
        char path[96];
        json_t *rec = NULL;
        snprintf(path, sizeof path, "/state/e2e/slice/%.40s", json_string_value(json_object_get(x, "id")) ?: "");
        if (ef_cli_get_as(h->fed, NULL, path, &rec) == 0 &&
            !strcmp(json_string_value(json_object_get(rec, "owner")) ?: "", h->owner))
            ef_e2eorch_adopt(h->orch, rec);
        json_decref(rec);
    }
    json_decref(list);
    eo_host_state(h);
    sigset_t set;
    nx_block_signals(&set);
    static eo_ev evs[EO_DOMAINS_MAX + 1];
    evs[0] = (eo_ev){h, NULL};
    h->ff = (nx_follow){.url = h->fed, .fn = eo_host_event, .arg = &evs[0], .stop = &h->stop};
    snprintf(h->ff.target, sizeof h->ff.target, "/events?contract=e2e&kind=event&from=%llu",
             (unsigned long long)from[0]);
    bool started = pthread_create(&h->ff.th, NULL, nx_follow_main, &h->ff) == 0;
    for (size_t d = 0; started && d < h->ndom; d++) {
        evs[d + 1] = (eo_ev){h, &h->dom[d]};
        nx_follow *f = &h->dom[d].f;
        *f = (nx_follow){.url = h->dom[d].url, .key = &h->dom[d].key, .fn = eo_host_event, .arg = &evs[d + 1],
                         .stop = &h->stop};
        snprintf(f->target, sizeof f->target, "/events?contract=nslice&kind=event&from=%llu",
                 (unsigned long long)from[d + 1]);
        started = pthread_create(&f->th, NULL, nx_follow_main, f) == 0;
    }
    if (!started) _exit(1);
    ef_e2eorch_stats es;
    ef_e2eorch_stats_get(h->orch, &es);
    char froms[200];
    int fl = snprintf(froms, sizeof froms, "federation from block %llu", (unsigned long long)from[0]);
    for (size_t d = 0; d < h->ndom && fl > 0 && (size_t)fl < sizeof froms; d++)
        fl += snprintf(froms + fl, sizeof froms - (size_t)fl, ", %s from %llu", h->dom[d].name,
                       (unsigned long long)from[d + 1]);
    fprintf(stderr, "edgefed nslice orchestrator: %zu domains, %llu slices taken up, %llu domain steps caught up, "
                    "%llu claimed; following %s (%s)%s%s\n", h->ndom, (unsigned long long)es.adopted,
            (unsigned long long)es.caught_up, (unsigned long long)es.claimed, h->fed, froms,
            h->rates ? "; rates in " : "", h->rates ? h->rates : "");
    ret = 0;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 100000000};
    for (;;) {
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT) break;
        bool dead = h->ff.done;
        for (size_t d = 0; d < h->ndom; d++) dead |= h->dom[d].f.done;
        if (dead) {
            fprintf(stderr, "edgefed nslice orchestrator: an event stream ended: %s (HTTP %ld)\n",
                    ef_strerror(h->ff.done ? h->ff.rc : EF_ENET), h->ff.status);
            ret = 1;
            break;
        }
        if (h->rates) eo_rates_poll(h);
    }
    h->stop = true;
    pthread_mutex_lock(&h->mu);
    ef_e2eorch_stats_get(h->orch, &es);
    fprintf(stderr, "edgefed nslice orchestrator: %llu requested, %llu claimed, %llu claims refused, %llu "
                    "re-adjustments requested, %llu taken up\n", (unsigned long long)es.requested,
            (unsigned long long)es.claimed, (unsigned long long)es.claim_refused,
            (unsigned long long)es.readjust_requested, (unsigned long long)es.adopted);
    if (h->state) remove(h->state);
    fflush(stderr);
    _exit(ret);   /* the followers may still hold their connections */
usage:
    fputs(eo_usage, stderr);
out:
    ef_e2eorch_close(h->orch);
    free(h);
    return ret;
}

int ef_cmd_nslice_agents(int argc, char **argv)
{
    if (!strcmp(argv[0], "controller")) return ef_nslice_controller(argc, argv);
    return ef_nslice_orchestrator(argc, argv);
}
