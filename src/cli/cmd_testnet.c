/* cmd_testnet.c: `edgefed testnet init|up|status|down|kill|start|link`: local
 * networks of node processes on loopback, or each node in its own network
 * namespace joined by a veth pair to a bridge (--netns, root). */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "cli/cli.h"
#include "cli/cli_admin.h"
#include "cli/cli_api.h"
#include "cli/cli_demo.h"
#include "cli/cli_testnet.h"
#include "agents/ef_proc.h"
#include "node/ef_node.h"

extern char **environ;

#define TN_NODES_MAX 64
#define TN_SUBNET "10.77"      /* 10.77.<tag>.<host>/24 per testnet */

void ef_load_key(ef_keypair *kp, unsigned i)
{
    char s[64];
    int n = snprintf(s, sizeof s, "edgefed-load-account-%u", i);
    ef_hash seed;
    ef_hash_tagged(&seed, EF_TAG_DATA, s, (size_t)n);
    ef_keypair_from_seed(kp, seed.b);
}

static int tn_write_json(const char *path, json_t *j)
{
    int rc = json_dump_file(j, path, JSON_INDENT(2) | JSON_SORT_KEYS);
    return rc ? EF_EIO : 0;
}

static int tn_mkdir(const char *p)
{
    if (mkdir(p, 0700) && errno != EEXIST) return EF_EIO;
    return 0;
}

/* Creates dir (its parent must exist) and puts its absolute path in d. 0, or 1
 * with the reason printed. */
static int tn_init_dir(const char *dir, char d[TN_PATH_MAX])
{
    if (tn_mkdir(dir)) {
        fprintf(stderr, "edgefed testnet init: cannot create %s\n", dir);
        return 1;
    }
    char *real = realpath(dir, NULL);
    if (!real) return 1;
    snprintf(d, TN_PATH_MAX, "%s", real);
    free(real);
    return 0;
}

int ef_testnet_load(ef_testnet *tn, const char *dir)
{
    memset(tn, 0, sizeof *tn);
    char path[TN_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/testnet.json", dir);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j) {
        fprintf(stderr, "edgefed testnet: %s: %s\n", path, je.text);
        return EF_EIO;
    }
    char *real = realpath(dir, NULL);
    snprintf(tn->dir, sizeof tn->dir, "%s", real ? real : dir);
    free(real);
    snprintf(tn->chain_id, sizeof tn->chain_id, "%s", json_string_value(json_object_get(j, "chain_id")));
    tn->netns = json_is_true(json_object_get(j, "netns"));
    snprintf(tn->bridge, sizeof tn->bridge, "%s", json_string_value(json_object_get(j, "bridge")) ?: "");
    tn->accounts = (unsigned)json_integer_value(json_object_get(j, "accounts"));
    snprintf(tn->bridge_ip, sizeof tn->bridge_ip, "%s",
             json_string_value(json_object_get(j, "bridge_ip")) ?: "");
    json_t *nodes = json_object_get(j, "nodes");
    size_t i;
    json_t *v;
    json_array_foreach(nodes, i, v) {
        if (tn->len == TN_NODES_MAX) break;
        ef_tn_node *n = &tn->nodes[tn->len++];
        snprintf(n->name, sizeof n->name, "%s", json_string_value(json_object_get(v, "name")));
        char home[sizeof n->home];
        snprintf(home, sizeof home, "%s/%.15s", tn->dir, n->name);
        memcpy(n->home, home, sizeof home);
        snprintf(n->ns, sizeof n->ns, "%s", json_string_value(json_object_get(v, "netns")) ?: "");
        snprintf(n->ip, sizeof n->ip, "%s", json_string_value(json_object_get(v, "ip")) ?: "");
        snprintf(n->veth, sizeof n->veth, "%s", json_string_value(json_object_get(v, "veth")) ?: "");
        n->validator = json_is_true(json_object_get(v, "validator"));
        snprintf(n->http, sizeof n->http, "%s", json_string_value(json_object_get(v, "http")) ?: "");
    }
    json_decref(j);
    return 0;
}

static const char *tn_usage =
    "usage: edgefed testnet init --dir D --validators N [--observers M] [--netns]\n"
    "                       [--chain ID] [--base-port P] [--accounts K] [--empty-block-ms MS]\n"
    "       edgefed testnet init --dir D --committee K --devices N [--epoch-heights L] [...]\n"
    "                       a domain ledger: N device nodes, the first K (v0..) the epoch-0\n"
    "                       committee, the rest (o0..) eligible devices; the committee contract\n"
    "                       elects K every L heights (default 40) and each node runs the\n"
    "                       committee agent; its API is private (requests signed by a member\n"
    "                       of domain-a); D/admin.key is the domain administrator's key;\n"
    "                       --empty-block-ms defaults to 200 so heights advance\n"
    "       edgefed testnet up --dir D            start every node (background processes)\n"
    "       edgefed testnet status --dir D        one line per node: pid, height, peers, mempool\n"
    "       edgefed testnet down --dir D          stop every node, remove namespaces and links\n"
    "       edgefed testnet start --dir D --node NAME     start one node\n"
    "       edgefed testnet kill --dir D --node NAME [--signal KILL|TERM]\n"
    "       edgefed testnet link --dir D --node NAME up|down   (--netns only: cut a node off)\n"
    "       edgefed testnet check --dir D         block hashes identical on every node at every height\n"
    "       edgefed testnet txcheck --dir D --acked FILE   every tx in FILE committed on every node\n"
    "  init writes D/genesis.json, D/testnet.json and one directory per node (v0.., o0..)\n"
    "  with its key and config.json (docs/config.md). Without --netns the nodes listen on\n"
    "  127.0.0.1 ports P.. (P2P) and P+100.. (HTTP); with --netns (root) node i lives in\n"
    "  network namespace ef<tag>n<i> at 10.77.<tag>.<i+2>, joined by a veth pair to bridge\n"
    "  efbr<tag> in the root namespace. K (<= 200) funded load accounts (edgefed load) are in the\n"
    "  genesis.\n"
    "       edgefed testnet init --dir D --hierarchy [--domains M] [--devices N] [--committee K]\n"
    "                       [--epoch-heights L] [--federation-validators F] [--base-port P]\n"
    "                       [--relayer-period-ms MS] [--accounts K]\n"
    "                       a whole hierarchy (seed 000): M (1..8, default 2) private domain ledgers\n"
    "                       D/a, D/b, .. (chains domain-a, ..), each of N devices (default 8, 4..10)\n"
    "                       with a committee of K (default 4) elected every L heights (default 20),\n"
    "                       and a federation ledger D/fed (chain federation) of F validators\n"
    "                       (default max(4, M)): validator v<i> is domain i's administrator's node\n"
    "                       and runs its checkpoint relayer, which registers the domain on the\n"
    "                       anchor and submits its checkpoints (every rotation, the tip every MS,\n"
    "                       default 2000). Domain i's P2P ports are P+10i.., the federation's\n"
    "                       P+10M..; HTTP at +100. D/hierarchy.json lists the ledgers; up, status,\n"
    "                       check and down with --dir D act on the whole tree (status adds each\n"
    "                       domain's anchored height); D/LEDGER is a testnet of its own. K funded\n"
    "                       load accounts on every ledger (default 0).\n";

static int tn_init(int argc, char **argv)
{
    static const char *const opts[] = {"dir=", "validators=", "observers=", "netns", "chain=", "base-port=",
                                       "accounts=", "empty-block-ms=", "committee=", "devices=",
                                       "epoch-heights=", NULL};
    int checked = ef_cli_check(argc, argv, tn_usage, opts, 0);
    if (checked >= 0) return checked;
    const char *dir = ef_cli_opt(argc, argv, "dir", NULL);
    int nv = atoi(ef_cli_opt(argc, argv, "validators", "0"));
    int no = atoi(ef_cli_opt(argc, argv, "observers", "0"));
    bool netns = ef_cli_flag(argc, argv, "netns");
    const char *chain = ef_cli_opt(argc, argv, "chain", "edgefed-testnet");
    int base = atoi(ef_cli_opt(argc, argv, "base-port", "26600"));
    unsigned accounts = (unsigned)atoi(ef_cli_opt(argc, argv, "accounts", "64"));
    /* a domain ledger with a committee: K of N devices start as validators */
    bool committee = ef_cli_opt(argc, argv, "committee", NULL) != NULL;
    int ck = atoi(ef_cli_opt(argc, argv, "committee", "0"));
    int cn = atoi(ef_cli_opt(argc, argv, "devices", "0"));
    int epoch_h = atoi(ef_cli_opt(argc, argv, "epoch-heights", "40"));
    int empty_ms = atoi(ef_cli_opt(argc, argv, "empty-block-ms", committee ? "200" : "0"));
    if (committee || ef_cli_opt(argc, argv, "devices", NULL) || ef_cli_opt(argc, argv, "epoch-heights", NULL)) {
        if (!committee || ef_cli_opt(argc, argv, "validators", NULL) || ef_cli_opt(argc, argv, "observers", NULL) ||
            ck < 1 || ck > 64 || cn < ck || epoch_h < 4 || epoch_h > 1000000) {
            fprintf(stderr, "edgefed testnet init: --committee K (1..64) needs --devices N >= K, an --epoch-heights "
                            "of at least 4, and no --validators or --observers\n");
            fputs(tn_usage, stderr);
            return 2;
        }
        nv = ck;
        no = cn - ck;
    }
    if (!dir || nv < 1 || no < 0 || nv + no > TN_NODES_MAX || base < 1024 || base > 65000 ||
        accounts > 200 || !ef_chain_id_valid(chain)) { /* genesis runs in one ctx: <= EF_CTX_WRITES_MAX writes */
        fputs(tn_usage, stderr);
        return 2;
    }
    if (netns && geteuid() != 0) {
        fprintf(stderr, "edgefed testnet init: --netns needs root\n");
        return 1;
    }
    char d[TN_PATH_MAX];
    if (tn_init_dir(dir, d)) return 1;
    /* a short tag unique to the directory, for interface and namespace names */
    ef_hash th;
    ef_hash_tagged(&th, EF_TAG_DATA, d, strlen(d));
    unsigned tag = (unsigned)(th.b[0] % 200) + 20;
    int total = nv + no;
    ef_keypair kps[TN_NODES_MAX];
    char names[TN_NODES_MAX][16], addrs[TN_NODES_MAX][64], https[TN_NODES_MAX][64], ips[TN_NODES_MAX][32];
    char hex[2 * EF_PUB_SIZE + 1];
    for (int i = 0; i < total; i++) {
        ef_keypair_generate(&kps[i]);
        if (i < nv) snprintf(names[i], sizeof names[i], "v%d", i);
        else snprintf(names[i], sizeof names[i], "o%d", i - nv);
        if (netns) {
            snprintf(ips[i], sizeof ips[i], TN_SUBNET ".%u.%d", tag, i + 2);
            snprintf(addrs[i], sizeof addrs[i], "%.31s:26600", ips[i]);
            snprintf(https[i], sizeof https[i], "%.31s:8600", ips[i]);
        } else {
            ips[i][0] = 0;
            snprintf(addrs[i], sizeof addrs[i], "127.0.0.1:%d", base + i);
            snprintf(https[i], sizeof https[i], "127.0.0.1:%d", base + 100 + i);
        }
    }
    /* genesis */
    json_t *g = json_object();
    json_object_set_new(g, "chain_id", json_string(chain));
    json_object_set_new(g, "time_ms", json_integer(0));
    json_t *vals = json_array(), *bal = json_object(), *mem = json_array();
    ef_keypair admin;
    if (committee) ef_keypair_generate(&admin);
    for (int i = 0; i < nv; i++) {
        ef_hex(hex, kps[i].pub.b, EF_PUB_SIZE);
        char dom[32];
        if (committee) snprintf(dom, sizeof dom, "domain-a");   /* one domain: its devices */
        else snprintf(dom, sizeof dom, "dom-%d", i);
        json_array_append_new(vals, json_pack("{s:s,s:s,s:i,s:s}", "pub", hex, "domain", dom,
                                              "power", 1, "role", "validator"));
        json_object_set_new(bal, hex, json_integer(1000000000));
    }
    for (int i = nv; i < total; i++) {
        ef_hex(hex, kps[i].pub.b, EF_PUB_SIZE);
        json_array_append_new(mem, json_pack("{s:s,s:s,s:s}", "pub", hex, "domain", committee ? "domain-a" : "dom-0",
                                             "name", names[i]));
        json_object_set_new(bal, hex, json_integer(1000000000));
    }
    if (committee) {
        json_t *devs = json_array();
        for (int i = 0; i < total; i++) {
            ef_hex(hex, kps[i].pub.b, EF_PUB_SIZE);
            json_array_append_new(devs, json_string(hex));
        }
        ef_hex(hex, admin.pub.b, EF_PUB_SIZE);
        json_array_append_new(mem, json_pack("{s:s,s:s,s:s}", "pub", hex, "domain", "domain-a", "name", "admin"));
        json_object_set_new(g, "params", json_pack("{s:{s:s,s:i,s:i,s:o}}", "committee", "admin", hex, "size", ck,
                                                   "epoch_heights", epoch_h, "devices", devs));
    }
    for (unsigned i = 0; i < accounts; i++) {
        ef_keypair kp;
        ef_load_key(&kp, i);
        ef_hex(hex, kp.pub.b, EF_PUB_SIZE);
        json_object_set_new(bal, hex, json_integer(1000000000000LL));
    }
    json_object_set_new(g, "validators", vals);
    json_object_set_new(g, "members", mem);
    json_object_set_new(g, "balances", bal);
    char path[TN_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/genesis.json", d);
    int rc = tn_write_json(path, g);
    json_decref(g);
    if (rc) return 1;
    /* one directory per node */
    json_t *nodes = json_array();
    for (int i = 0; i < total; i++) {
        char home[TN_PATH_MAX + 32];
        snprintf(home, sizeof home, "%s/%s", d, names[i]);
        if (tn_mkdir(home)) return 1;
        snprintf(path, sizeof path, "%s/node.key", home);
        if (ef_key_save(path, &kps[i])) return 1;
        ef_node_config c;
        ef_node_config_defaults(&c);
        snprintf(c.chain_id, sizeof c.chain_id, "%s", chain);
        snprintf(c.moniker, sizeof c.moniker, "%s", names[i]);
        snprintf(c.key_path, sizeof c.key_path, "node.key");
        snprintf(c.genesis_path, sizeof c.genesis_path, "../genesis.json");
        snprintf(c.listen, sizeof c.listen, "%s", addrs[i]);
        snprintf(c.http_listen, sizeof c.http_listen, "%s", https[i]);
        c.empty_block_ms = (uint32_t)empty_ms;
        /* everyone dials the validators; in a committee domain everyone dials
         * everyone, since any device may be elected */
        for (int k = 0; k < (committee ? total : nv); k++) {
            if (k == i) continue;
            c.peers[c.peers_len].pub = kps[k].pub;
            snprintf(c.peers[c.peers_len++].addr, sizeof c.peers[0].addr, "%.63s", addrs[k]);
        }
        if (i < nv || committee)
            for (int k = nv; k < total; k++)
                if (k != i) c.observers[c.observers_len++] = kps[k].pub;
        json_t *cj = ef_node_config_to_json(&c);
        if (committee) { /* a private domain ledger: its API serves the domain's members only */
            json_object_set_new(cj, "agents", json_pack("{s:{}}", "committee"));
            json_object_set_new(cj, "api", json_pack("{s:b,s:s}", "private", 1, "domain", "domain-a"));
        }
        snprintf(path, sizeof path, "%s/config.json", home);
        rc = tn_write_json(path, cj);
        json_decref(cj);
        if (rc) return 1;
        json_t *nj = json_pack("{s:s,s:b,s:s}", "name", names[i], "validator", i < nv, "http", https[i]);
        ef_hex(hex, kps[i].pub.b, EF_PUB_SIZE);
        json_object_set_new(nj, "pub", json_string(hex));
        json_object_set_new(nj, "p2p", json_string(addrs[i]));
        if (netns) {
            char ns[32], veth[32];
            snprintf(ns, sizeof ns, "ef%un%d", tag, i);
            snprintf(veth, sizeof veth, "ef%uv%d", tag, i);
            json_object_set_new(nj, "netns", json_string(ns));
            json_object_set_new(nj, "veth", json_string(veth));
            json_object_set_new(nj, "ip", json_string(ips[i]));
        }
        json_array_append_new(nodes, nj);
    }
    json_t *tj = json_object();
    json_object_set_new(tj, "chain_id", json_string(chain));
    json_object_set_new(tj, "netns", json_boolean(netns));
    json_object_set_new(tj, "accounts", json_integer(accounts));
    if (netns) {
        char br[32];
        snprintf(br, sizeof br, "efbr%u", tag);
        json_object_set_new(tj, "bridge", json_string(br));
        char bip[32];
        snprintf(bip, sizeof bip, TN_SUBNET ".%u.1", tag);
        json_object_set_new(tj, "bridge_ip", json_string(bip));
    }
    json_object_set_new(tj, "nodes", nodes);
    if (committee) {
        snprintf(path, sizeof path, "%s/admin.key", d);
        if (ef_key_save(path, &admin)) return 1;
        ef_hex(hex, admin.pub.b, EF_PUB_SIZE);
        json_object_set_new(tj, "committee", json_pack("{s:i,s:i,s:s,s:s}", "size", ck, "epoch_heights", epoch_h,
                                                       "admin", hex, "admin_key", "admin.key"));
    }
    snprintf(path, sizeof path, "%s/testnet.json", d);
    rc = tn_write_json(path, tj);
    json_decref(tj);
    if (rc) return 1;
    if (committee)
        printf("testnet in %s: domain ledger of %d devices, committee of %d elected every %d heights (v0..v%d "
               "start)%s\n", d, total, ck, epoch_h, nv - 1, netns ? " (netns)" : "");
    else
        printf("testnet in %s: %d validators, %d observers%s\n", d, nv, no, netns ? " (netns)" : "");
    return 0;
}

/* ---- hierarchies (seed 000): domain ledgers and a federation, one tree ---- */

#define TN_HIER_DOMAINS_MAX 8
#define TN_HIER_FILE "hierarchy.json"

/* The argv of one ledger's `testnet init`, run in this process. */
static int tn_init_v(const char *const *args)
{
    char *v[32];
    int n = 0;
    v[n++] = (char *)"init";
    while (*args && n < 31) v[n++] = (char *)*args++;
    v[n] = NULL;
    return tn_init(n, v);
}

static int tn_init_hierarchy(int argc, char **argv)
{
    static const char *const opts[] = {"dir=", "hierarchy", "domains=", "devices=", "committee=", "epoch-heights=",
                                       "federation-validators=", "base-port=", "relayer-period-ms=", "accounts=", NULL};
    int checked = ef_cli_check(argc, argv, tn_usage, opts, 0);
    if (checked >= 0) return checked;
    const char *dir = ef_cli_opt(argc, argv, "dir", NULL);
    int m = atoi(ef_cli_opt(argc, argv, "domains", "2"));
    int devices = atoi(ef_cli_opt(argc, argv, "devices", "8"));
    int k = atoi(ef_cli_opt(argc, argv, "committee", "4"));
    int epoch_h = atoi(ef_cli_opt(argc, argv, "epoch-heights", "20"));
    int f = atoi(ef_cli_opt(argc, argv, "federation-validators", m > 4 ? ef_cli_opt(argc, argv, "domains", "2") : "4"));
    int base = atoi(ef_cli_opt(argc, argv, "base-port", "26600"));
    int period = atoi(ef_cli_opt(argc, argv, "relayer-period-ms", "2000"));
    int nacc = atoi(ef_cli_opt(argc, argv, "accounts", "0"));
    if (nacc < 0 || nacc > 200) m = 0;   /* refused below */
    char accounts[16];
    snprintf(accounts, sizeof accounts, "%d", nacc);
    if (!dir || m < 1 || m > TN_HIER_DOMAINS_MAX || devices < 4 || devices > 10 || k < 1 || k > devices ||
        epoch_h < 12 || epoch_h > 1000000 || f < m || f > 10 || base < 1024 || base > 65000 - 200 ||
        period < 100 || period > 3600000) {
        fprintf(stderr, "edgefed testnet init --hierarchy: --domains 1..%d, --devices 4..10, --committee 1..devices, "
                        "--epoch-heights >= 12, --federation-validators domains..10, --relayer-period-ms "
                        "100..3600000\n", TN_HIER_DOMAINS_MAX);
        fputs(tn_usage, stderr);
        return 2;
    }
    char d[TN_PATH_MAX];
    if (tn_init_dir(dir, d)) return 1;
    char sub[TN_PATH_MAX + 16], chain[32], ports[16], ks[16], ns[16], ls[16], fs[16];
    snprintf(ks, sizeof ks, "%d", k);
    snprintf(ns, sizeof ns, "%d", devices);
    snprintf(ls, sizeof ls, "%d", epoch_h);
    snprintf(fs, sizeof fs, "%d", f);
    json_t *doms = json_array();
    int rc = 0;
    for (int i = 0; i < m && !rc; i++) {
        char name[2] = {(char)('a' + i), 0};
        snprintf(sub, sizeof sub, "%s/%s", d, name);
        snprintf(chain, sizeof chain, "domain-%s", name);
        snprintf(ports, sizeof ports, "%d", base + 10 * i);
        const char *a[] = {"--dir", sub, "--committee", ks, "--devices", ns, "--epoch-heights", ls, "--chain", chain,
                           "--base-port", ports, "--accounts", accounts, NULL};
        rc = tn_init_v(a);
        char fv[8];
        snprintf(fv, sizeof fv, "fed/v%d", i);
        json_array_append_new(doms, json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", name, "dir", name, "chain_id",
                                              chain, "admin_key", "admin.key", "relayer", fv));
    }
    snprintf(sub, sizeof sub, "%s/fed", d);
    snprintf(ports, sizeof ports, "%d", base + 10 * m);
    if (!rc) {
        const char *a[] = {"--dir", sub, "--validators", fs, "--chain", "federation", "--base-port", ports,
                           "--accounts", accounts, "--empty-block-ms", "200", NULL};
        rc = tn_init_v(a);
    }
    /* the relayers: domain i's administrator's node is federation validator v<i> */
    ef_testnet *dt = rc ? NULL : calloc(1, sizeof *dt);
    for (int i = 0; i < m && dt && !rc; i++) {
        char name[2] = {(char)('a' + i), 0}, api[80], key[TN_PATH_MAX + 32], home[TN_PATH_MAX + 32];
        snprintf(sub, sizeof sub, "%s/%s", d, name);
        if ((rc = ef_testnet_load(dt, sub))) break;
        snprintf(api, sizeof api, "http://%s", dt->nodes[0].http);
        snprintf(key, sizeof key, "%s/admin.key", sub);
        snprintf(home, sizeof home, "%s/fed/v%d", d, i);
        ef_demo_relayer rel = {api, name, key, period};
        rc = ef_demo_edit_config(home, ef_demo_add_relayer, &rel);
    }
    if (!dt) rc = rc ? rc : EF_ENOMEM;
    free(dt);
    json_t *h = json_pack("{s:o, s:{s:s, s:s, s:i}, s:i, s:i, s:i, s:i}", "domains", doms, "federation", "dir", "fed",
                          "chain_id", "federation", "validators", f, "devices", devices, "committee", k,
                          "epoch_heights", epoch_h, "relayer_period_ms", period);
    snprintf(sub, sizeof sub, "%s/" TN_HIER_FILE, d);
    if (!rc) rc = tn_write_json(sub, h) ? EF_EIO : 0;
    json_decref(h);
    if (rc) {
        fprintf(stderr, "edgefed testnet init --hierarchy: failed in %s: %s\n", d, ef_strerror(rc));
        return 1;
    }
    printf("hierarchy in %s: %d domain ledgers (D/a..) of %d devices, committees of %d every %d heights; federation "
           "D/fed of %d validators, v0..v%d each the relayer of its domain\n", d, m, devices, k, epoch_h, f, m - 1);
    printf("  start: edgefed testnet up --dir %s; see: edgefed testnet status --dir %s\n"
           "  a domain's reads are signed by a member: edgefed query /state/committee/current --api "
           "http://127.0.0.1:%d --key %s/a/admin.key\n"
           "  its explorer: edgefed token make --key %s/a/admin.key --api http://127.0.0.1:%d --explorer\n"
           "  the federation's explorer: http://127.0.0.1:%d/\n", d, d, base + 100, d, d, base + 100,
           base + 10 * m + 100);
    return 0;
}

/* The ledgers of a hierarchy in D: domains first, then the federation. *len
 * ledgers, dirs[i] each, names[i] the domain's name ("" for the federation).
 * false if D holds no hierarchy.json. */
#define TN_HIER_LEDGERS (TN_HIER_DOMAINS_MAX + 1)
typedef struct tn_hier {
    size_t len;
    char dirs[TN_HIER_LEDGERS][TN_PATH_MAX + 16];
    char names[TN_HIER_LEDGERS][8];
} tn_hier;

static bool tn_hier_load(tn_hier *h, const char *dir)
{
    char path[TN_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/" TN_HIER_FILE, dir);
    json_t *j = json_load_file(path, 0, NULL);
    memset(h, 0, sizeof *h);
    if (!j) return false;
    json_t *doms = json_object_get(j, "domains"), *v;
    size_t i;
    json_array_foreach(doms, i, v) {
        if (h->len == TN_HIER_DOMAINS_MAX) break;
        snprintf(h->dirs[h->len], sizeof h->dirs[0], "%.*s/%s", TN_PATH_MAX - 16, dir,
                 json_string_value(json_object_get(v, "dir")) ?: "?");
        snprintf(h->names[h->len++], sizeof h->names[0], "%s", json_string_value(json_object_get(v, "name")) ?: "?");
    }
    snprintf(h->dirs[h->len++], sizeof h->dirs[0], "%.*s/%s", TN_PATH_MAX - 16, dir,
             json_string_value(json_object_get(json_object_get(j, "federation"), "dir")) ?: "fed");
    json_decref(j);
    return true;
}

static int tn_up(const ef_testnet *tn, const char *only);
static int tn_down(const ef_testnet *tn);
static int tn_status(const ef_testnet *tn);
static int tn_check(const ef_testnet *tn);

/* up, down, status or check on every ledger of the hierarchy: up domains first
 * (the relayers read them), down the federation first (its relayers stop). */
static int tn_hier_run(const tn_hier *h, const char *sub)
{
    ef_testnet *tn = calloc(1, sizeof *tn), *fed = calloc(1, sizeof *fed);
    int bad = 0;
    bool down = !strcmp(sub, "down");
    if (!tn || !fed) bad = 1;
    for (size_t k = 0; k < h->len && !bad; k++) {
        size_t i = down ? h->len - 1 - k : k;
        if (ef_testnet_load(tn, h->dirs[i])) {
            bad++;
            continue;
        }
        if (!strcmp(sub, "up")) bad += tn_up(tn, NULL) != 0;
        else if (down) bad += tn_down(tn) != 0;
        else {
            printf("== %s%s%s (%s, chain %s)\n", h->names[i][0] ? "domain" : "federation", h->names[i][0] ? " " : "",
                   h->names[i], h->dirs[i], tn->chain_id);
            bad += (!strcmp(sub, "status") ? tn_status(tn) : tn_check(tn)) != 0;
        }
        if (!h->names[i][0]) *fed = *tn;
    }
    if (!bad && !strcmp(sub, "status")) {
        /* what the federation's anchor holds of each domain */
        char api[80];
        snprintf(api, sizeof api, "http://%s", fed->nodes[0].http);
        for (size_t i = 0; i + 1 < h->len; i++) {
            char path[64];
            json_t *a = NULL;
            /* the domain's committee, read as its administrator (a member) */
            char key[TN_PATH_MAX + 32], dapi[80];
            ef_keypair admin;
            snprintf(key, sizeof key, "%s/admin.key", h->dirs[i]);
            if (!ef_testnet_load(tn, h->dirs[i]) && !ef_key_load(&admin, key)) {
                snprintf(dapi, sizeof dapi, "http://%s", tn->nodes[0].http);
                if (!ef_cli_get_as(dapi, &admin, "/state/committee/current", &a))
                    printf("committee: domain %s in epoch %lld since height %lld (%s phase), %zu members\n",
                           h->names[i], (long long)json_integer_value(json_object_get(a, "epoch")),
                           (long long)json_integer_value(json_object_get(a, "start")),
                           json_string_value(json_object_get(a, "phase")) ?: "?",
                           json_array_size(json_object_get(a, "committee")));
                json_decref(a);
                a = NULL;
            }
            snprintf(path, sizeof path, "/state/anchor/domain/%s", h->names[i]);
            if (ef_cli_get_as(api, NULL, path, &a)) {
                printf("anchor: domain %s not registered yet\n", h->names[i]);
                continue;
            }
            printf("anchor: domain %s anchored at height %lld, committee since %lld, %lld checkpoints, %s\n",
                   h->names[i], (long long)json_integer_value(json_object_get(a, "height")),
                   (long long)json_integer_value(json_object_get(a, "committee_since")),
                   (long long)json_integer_value(json_object_get(a, "checkpoints")),
                   json_is_true(json_object_get(a, "frozen")) ? "FROZEN" : "tracking");
            json_decref(a);
        }
    }
    free(tn);
    free(fed);
    return bad ? 1 : 0;
}

/* ---- processes ---- */

static int tn_pidfile_read(const ef_tn_node *n)
{
    char path[TN_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/node.pid", n->home);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int pid = 0;
    if (fscanf(f, "%d", &pid) != 1) pid = 0;
    fclose(f);
    return pid;
}

int ef_testnet_pid(const ef_tn_node *n)
{
    int pid = tn_pidfile_read(n);
    if (pid > 0 && kill(pid, 0) == 0) {
        /* a zombie or another process reusing the pid? check its cmdline mentions home */
        char p[64], cmd[4096];
        snprintf(p, sizeof p, "/proc/%d/cmdline", pid);
        FILE *f = fopen(p, "r");
        if (!f) return 0;
        size_t k = fread(cmd, 1, sizeof cmd - 1, f);
        fclose(f);
        for (size_t i = 0; i < k; i++)
            if (!cmd[i]) cmd[i] = ' ';
        cmd[k] = 0;
        char st[64];
        snprintf(p, sizeof p, "/proc/%d/stat", pid);
        f = fopen(p, "r");
        if (f) {
            if (fgets(st, sizeof st, f)) {
                char *rp = strrchr(st, ')');
                if (rp && rp[1] == ' ' && rp[2] == 'Z') {
                    fclose(f);
                    return 0;
                }
            }
            fclose(f);
        }
        return strstr(cmd, n->name) ? pid : 0;
    }
    return 0;
}

/* `ip ARGS...` (a NULL-terminated list): its exit status. A failure is logged with
 * the command line unless quiet (a probe, or a removal of what may be gone). */
#define tn_ip(quiet, ...) ef_proc_cmd((quiet), ef_proc_ip_path(), __VA_ARGS__, (char *)NULL)

static int tn_netns_setup(const ef_testnet *tn, const ef_tn_node *n)
{
    /* bridge (once), namespace, veth pair: <veth> in the root ns on the bridge,
     * <veth>p inside the namespace as eth0 */
    if (tn_ip(1, "link", "show", tn->bridge)) {
        char bip[sizeof tn->bridge_ip + 3];
        snprintf(bip, sizeof bip, "%s/24", tn->bridge_ip);
        if (tn_ip(0, "link", "add", tn->bridge, "type", "bridge") ||
            tn_ip(0, "addr", "add", bip, "dev", tn->bridge) ||
            tn_ip(0, "link", "set", tn->bridge, "up"))
            return EF_EIO;
    }
    if (!ef_proc_netns_exists(n->ns)) {
        char peer[sizeof n->veth + 1], ip[sizeof n->ip + 3];
        snprintf(peer, sizeof peer, "%sp", n->veth);
        snprintf(ip, sizeof ip, "%s/24", n->ip);
        if (tn_ip(0, "netns", "add", n->ns)) return EF_EIO;
        if (tn_ip(0, "link", "add", n->veth, "type", "veth", "peer", "name", peer) ||
            tn_ip(0, "link", "set", peer, "netns", n->ns) ||
            tn_ip(0, "link", "set", n->veth, "master", tn->bridge) ||
            tn_ip(0, "link", "set", n->veth, "up") ||
            tn_ip(0, "-n", n->ns, "link", "set", peer, "name", "eth0") ||
            tn_ip(0, "-n", n->ns, "addr", "add", ip, "dev", "eth0") ||
            tn_ip(0, "-n", n->ns, "link", "set", "eth0", "up") ||
            tn_ip(0, "-n", n->ns, "link", "set", "lo", "up"))
            return EF_EIO;
    }
    return 0;
}

int ef_testnet_start_node(const ef_testnet *tn, const ef_tn_node *n, const char *binary)
{
    if (ef_testnet_pid(n)) return 0; /* already running */
    if (tn->netns && tn_netns_setup(tn, n)) {
        fprintf(stderr, "edgefed testnet: cannot set up namespace %s\n", n->ns);
        return EF_EIO;
    }
    char log[TN_PATH_MAX + 32], pidf[TN_PATH_MAX + 32];
    snprintf(log, sizeof log, "%s/node.log", n->home);
    snprintf(pidf, sizeof pidf, "%s/node.pid", n->home);
    pid_t pid = fork();
    if (pid < 0) return EF_EIO;
    if (pid == 0) {
        setsid();
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        int nul = open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (nul >= 0) dup2(nul, 0);
        const char *lvl = getenv("EDGEFED_LOG") ? getenv("EDGEFED_LOG") : "info";
        if (tn->netns) {
            execl("/usr/sbin/ip", "ip", "netns", "exec", n->ns, binary, "node", "--home", n->home,
                  "--log", lvl, (char *)NULL);
            execlp("ip", "ip", "netns", "exec", n->ns, binary, "node", "--home", n->home, "--log",
                   lvl, (char *)NULL);
        } else {
            execl(binary, binary, "node", "--home", n->home, "--log", lvl, (char *)NULL);
        }
        _exit(127);
    }
    FILE *f = fopen(pidf, "w");
    if (f) {
        fprintf(f, "%d\n", (int)pid);
        fclose(f);
    }
    return 0;
}

/* Waits until the node answers on its admin socket (or timeout). */
static bool tn_wait_up(const ef_tn_node *n, int timeout_ms)
{
    for (int t = 0; t < timeout_ms; t += 100) {
        int fd = ef_admin_connect(n->home);
        if (fd >= 0) {
            close(fd);
            return true;
        }
        if (!ef_testnet_pid(n) && t > 500) return false;
        usleep(100 * 1000);
    }
    return false;
}

static void tn_self_binary(char *out, size_t cap)
{
    ssize_t k = readlink("/proc/self/exe", out, cap - 1);
    out[k > 0 ? k : 0] = 0;
}

static int tn_up(const ef_testnet *tn, const char *only)
{
    char bin[TN_PATH_MAX];
    tn_self_binary(bin, sizeof bin);
    int bad = 0;
    for (size_t i = 0; i < tn->len; i++) {
        if (only && strcmp(only, tn->nodes[i].name)) continue;
        if (ef_testnet_start_node(tn, &tn->nodes[i], bin)) bad++;
    }
    for (size_t i = 0; i < tn->len; i++) {
        if (only && strcmp(only, tn->nodes[i].name)) continue;
        if (!tn_wait_up(&tn->nodes[i], 20000)) {
            fprintf(stderr, "edgefed testnet: %s did not come up (see %s/node.log)\n",
                    tn->nodes[i].name, tn->nodes[i].home);
            bad++;
        }
    }
    if (!bad) printf("up: %s\n", only ? only : "all nodes");
    return bad ? 1 : 0;
}

int ef_testnet_kill(const ef_tn_node *n, int sig)
{
    int pid = ef_testnet_pid(n);
    if (!pid) return EF_ENOTFOUND;
    kill(pid, sig);
    /* the node is our child only in `up`'s process; elsewhere poll until gone */
    for (int t = 0; t < 100 && ef_testnet_pid(n); t++) {
        waitpid(pid, NULL, WNOHANG);
        usleep(50 * 1000);
    }
    if (ef_testnet_pid(n) && sig != SIGKILL) {
        kill(pid, SIGKILL);
        for (int t = 0; t < 100 && ef_testnet_pid(n); t++) usleep(20 * 1000);
    }
    return 0;
}

static int tn_down(const ef_testnet *tn)
{
    for (size_t i = 0; i < tn->len; i++) {
        const ef_tn_node *n = &tn->nodes[i];
        int pid = ef_testnet_pid(n);
        if (pid) kill(pid, SIGTERM);
    }
    for (size_t i = 0; i < tn->len; i++) ef_testnet_kill(&tn->nodes[i], SIGTERM);
    if (tn->netns) {
        for (size_t i = 0; i < tn->len; i++) {
            const ef_tn_node *n = &tn->nodes[i];
            (void)tn_ip(1, "link", "del", n->veth);
            (void)tn_ip(1, "netns", "del", n->ns);
        }
        (void)tn_ip(1, "link", "del", tn->bridge);
    }
    printf("down: %s\n", tn->dir);
    return 0;
}

/* Asks a node for its status JSON; NULL if unreachable. */
json_t *ef_testnet_status(const ef_tn_node *n)
{
    int fd = ef_admin_connect(n->home);
    if (fd < 0) return NULL;
    json_t *j = NULL;
    ef_admin_reader *r = malloc(sizeof *r);
    r->fd = fd;
    r->len = r->off = 0;
    char *line;
    if (!ef_admin_write(fd, "status\n", 7) && !ef_admin_readline(r, &line) &&
        !strncmp(line, "status ", 7))
        j = json_loads(line + 7, 0, NULL);
    free(r);
    close(fd);
    return j;
}

static int tn_status(const ef_testnet *tn)
{
    printf("%-5s %-8s %-8s %-6s %-6s %-8s %s\n", "node", "pid", "height", "round", "peers", "mempool",
           "address");
    for (size_t i = 0; i < tn->len; i++) {
        const ef_tn_node *n = &tn->nodes[i];
        int pid = ef_testnet_pid(n);
        json_t *s = pid ? ef_testnet_status(n) : NULL;
        if (s)
            printf("%-5s %-8d %-8lld %-6lld %-6zu %-8lld %s\n", n->name, pid,
                   json_integer_value(json_object_get(s, "height")),
                   json_integer_value(json_object_get(s, "round")),
                   json_array_size(json_object_get(s, "peers")),
                   json_integer_value(json_object_get(s, "mempool_txs")), n->http);
        else
            printf("%-5s %-8s\n", n->name, pid ? "?" : "down");
        json_decref(s);
    }
    return 0;
}

/* Opens an admin connection to node n and runs one command, calling fn per reply
 * line until fn returns non-zero (1 = done, <0 = error). */
static int tn_admin(const ef_tn_node *n, const char *cmd, int (*fn)(void *, const char *), void *arg)
{
    int fd = ef_admin_connect(n->home);
    if (fd < 0) return EF_ENET;
    ef_admin_reader *r = malloc(sizeof *r);
    r->fd = fd;
    r->len = r->off = 0;
    int rc = ef_admin_write(fd, cmd, strlen(cmd));
    char *line;
    while (!rc) {
        if ((rc = ef_admin_readline(r, &line))) break;
        int k = fn(arg, line);
        if (k) {
            rc = k < 0 ? k : 0;
            break;
        }
    }
    free(r);
    close(fd);
    return rc;
}

typedef struct tn_hashes {
    char (*hex)[65];
    size_t len, cap;
} tn_hashes;

static int tn_hash_line(void *arg, const char *line)
{
    tn_hashes *h = arg;
    if (!strcmp(line, "end")) return 1;
    unsigned long long height;
    char hex[65];
    if (sscanf(line, "hash %llu %64s", &height, hex) != 2) return EF_EPROTO;
    if (h->len == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 1024;
        h->hex = realloc(h->hex, h->cap * sizeof *h->hex);
    }
    memcpy(h->hex[h->len++], hex, 65);
    return 0;
}

/* Every reachable node's block hashes 1..its height must agree at each height. */
static int tn_check(const ef_testnet *tn)
{
    tn_hashes hs[TN_NODES_MAX];
    memset(hs, 0, sizeof hs);
    size_t reached = 0, common = SIZE_MAX, longest = 0;
    int rc = 0;
    for (size_t i = 0; i < tn->len; i++) {
        for (unsigned long long from = 1;; from += 10000) {
            char cmd[64];
            snprintf(cmd, sizeof cmd, "hashes %llu %llu\n", from, from + 9999);
            size_t before = hs[i].len;
            if (tn_admin(&tn->nodes[i], cmd, tn_hash_line, &hs[i])) break;
            if (hs[i].len - before < 10000) break;
        }
        if (!ef_testnet_pid(&tn->nodes[i])) continue;
        reached++;
        common = EF_MIN(common, hs[i].len);
        longest = EF_MAX(longest, hs[i].len);
    }
    for (size_t h = 0; h < longest; h++) {
        const char *ref = NULL;
        for (size_t i = 0; i < tn->len; i++) {
            if (h >= hs[i].len) continue;
            if (!ref) ref = hs[i].hex[h];
            else if (strcmp(ref, hs[i].hex[h])) {
                printf("MISMATCH at height %zu: %s has %s, another node %s\n", h + 1,
                       tn->nodes[i].name, hs[i].hex[h], ref);
                rc = 1;
            }
        }
    }
    if (!rc)
        printf("agree: %zu nodes, identical block hashes at every height 1..%zu (all have 1..%zu)\n",
               reached, longest, common == SIZE_MAX ? 0 : common);
    for (size_t i = 0; i < tn->len; i++) free(hs[i].hex);
    return rc;
}

/* Every transaction listed in FILE ("HASH ..." lines) must be committed on every
 * running node. Queries are pipelined, EF_TXCHECK_CHUNK at a time per node. */
#define EF_TXCHECK_CHUNK 256
static int tn_txcheck(const ef_testnet *tn, const char *file)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        fprintf(stderr, "edgefed testnet txcheck: cannot open %s\n", file);
        return 1;
    }
    char line[256];
    char (*hexes)[65] = NULL;
    size_t n = 0, cap = 0;
    while (fgets(line, sizeof line, f)) {
        char hex[65];
        if (sscanf(line, "%64s", hex) != 1 || strlen(hex) != 64) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            hexes = realloc(hexes, cap * sizeof *hexes);
        }
        memcpy(hexes[n++], hex, 65);
    }
    fclose(f);
    size_t missing = 0, nodes = 0;
    ef_admin_reader *r = malloc(sizeof *r);
    for (size_t i = 0; i < tn->len; i++) {
        if (!ef_testnet_pid(&tn->nodes[i])) continue;
        int fd = ef_admin_connect(tn->nodes[i].home);
        if (fd < 0) {
            printf("UNREACHABLE %s\n", tn->nodes[i].name);
            missing++;
            continue;
        }
        nodes++;
        r->fd = fd;
        r->len = r->off = 0;
        for (size_t k = 0; k < n; k += EF_TXCHECK_CHUNK) {
            size_t m = EF_MIN((size_t)EF_TXCHECK_CHUNK, n - k);
            char *q = malloc(m * 68 + 1);
            size_t ql = 0;
            for (size_t j = 0; j < m; j++) ql += (size_t)sprintf(q + ql, "tx %s\n", hexes[k + j]);
            int rc = ef_admin_write(fd, q, ql);
            free(q);
            for (size_t j = 0; j < m && !rc; j++) {
                char *ans;
                if ((rc = ef_admin_readline(r, &ans))) break;
                if (strncmp(ans, "tx ", 3) || strstr(ans, " none")) {
                    printf("MISSING %s on %s\n", hexes[k + j], tn->nodes[i].name);
                    missing++;
                }
            }
            if (rc) {
                printf("admin connection to %s failed\n", tn->nodes[i].name);
                missing++;
                break;
            }
        }
        close(fd);
    }
    free(r);
    free(hexes);
    printf("txcheck: %zu acknowledged transactions checked on %zu nodes, %zu missing\n", n, nodes,
           missing);
    return missing ? 1 : 0;
}

static int tn_link(const ef_testnet *tn, const char *name, const char *state)
{
    if (!tn->netns) {
        fprintf(stderr, "edgefed testnet link: only for --netns testnets\n");
        return 2;
    }
    for (size_t i = 0; i < tn->len; i++)
        if (!strcmp(tn->nodes[i].name, name))
            return tn_ip(0, "link", "set", tn->nodes[i].veth, state) ? 1 : 0;
    fprintf(stderr, "edgefed testnet: no node %s\n", name);
    return 2;
}

int ef_cmd_testnet(int argc, char **argv)
{
    if (argc < 2 || ef_cli_wants_help(argc, argv)) {
        fputs(tn_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "init") && ef_cli_flag(argc, argv, "hierarchy")) return tn_init_hierarchy(argc - 1, argv + 1);
    if (!strcmp(sub, "init")) return tn_init(argc - 1, argv + 1);
    /* the options each other subcommand takes */
    static const struct {
        const char *sub;
        const char *const opts[4];
        int positional;
    } subs[] = {
        {"up", {"dir=", NULL}, 0},         {"status", {"dir=", NULL}, 0},
        {"down", {"dir=", NULL}, 0},       {"check", {"dir=", NULL}, 0},
        {"start", {"dir=", "node=", NULL}, 0}, {"kill", {"dir=", "node=", "signal=", NULL}, 0},
        {"link", {"dir=", "node=", NULL}, 1},  {"txcheck", {"dir=", "acked=", NULL}, 0},
    };
    size_t si = 0;
    while (si < EF_ARRAY_LEN(subs) && strcmp(subs[si].sub, sub)) si++;
    if (si == EF_ARRAY_LEN(subs)) {
        fprintf(stderr, "edgefed testnet: unknown subcommand '%s'\n", sub);
        fputs(tn_usage, stderr);
        return 2;
    }
    int checked = ef_cli_check(argc - 1, argv + 1, tn_usage, subs[si].opts, subs[si].positional);
    if (checked >= 0) return checked;
    const char *sig_s = ef_cli_opt(argc, argv, "signal", "KILL");
    if (strcmp(sig_s, "KILL") && strcmp(sig_s, "TERM")) {
        fprintf(stderr, "edgefed testnet kill: --signal must be KILL or TERM, not '%s'\n", sig_s);
        return 2;
    }
    const char *dir = ef_cli_opt(argc, argv, "dir", NULL);
    if (!dir) {
        fputs(tn_usage, stderr);
        return 2;
    }
    tn_hier hier;
    if (tn_hier_load(&hier, dir)) {
        if (!strcmp(sub, "up") || !strcmp(sub, "down") || !strcmp(sub, "status") || !strcmp(sub, "check"))
            return tn_hier_run(&hier, sub);
        fprintf(stderr, "edgefed testnet %s: %s is a hierarchy; name one of its ledgers (--dir %s/a, .., %s/fed)\n",
                sub, dir, dir, dir);
        return 2;
    }
    ef_testnet *tn = calloc(1, sizeof *tn);
    int rc = 2;
    if (ef_testnet_load(tn, dir)) {
        free(tn);
        return 1;
    }
    const char *node = ef_cli_opt(argc, argv, "node", NULL);
    if (!strcmp(sub, "up")) {
        rc = tn_up(tn, NULL);
    } else if (!strcmp(sub, "start") && node) {
        rc = tn_up(tn, node);
    } else if (!strcmp(sub, "status")) {
        rc = tn_status(tn);
    } else if (!strcmp(sub, "down")) {
        rc = tn_down(tn);
    } else if (!strcmp(sub, "kill") && node) {
        const char *s = ef_cli_opt(argc, argv, "signal", "KILL");
        int sig = !strcmp(s, "TERM") ? SIGTERM : SIGKILL;
        rc = 1;
        for (size_t i = 0; i < tn->len; i++)
            if (!strcmp(tn->nodes[i].name, node)) rc = ef_testnet_kill(&tn->nodes[i], sig) ? 1 : 0;
    } else if (!strcmp(sub, "check")) {
        rc = tn_check(tn);
    } else if (!strcmp(sub, "txcheck") && ef_cli_opt(argc, argv, "acked", NULL)) {
        rc = tn_txcheck(tn, ef_cli_opt(argc, argv, "acked", NULL));
    } else if (!strcmp(sub, "link") && node && argc >= 3) {
        const char *st = argv[argc - 1];
        rc = (!strcmp(st, "up") || !strcmp(st, "down")) ? tn_link(tn, node, st) : 2;
    } else {
        fputs(tn_usage, stderr);
    }
    free(tn);
    return rc;
}
