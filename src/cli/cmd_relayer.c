/* cmd_relayer.c: `edgefed relayer`: carries a domain ledger's checkpoints to the
 * federation ledger's anchor contract (agents/ef_relayer.h). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/ef_relayer.h"
#include "base/ef_log.h"
#include "cli/cli.h"

static const char *const ef_relayer_usage =
    "usage: edgefed relayer --domain-node URL --federation URL --key FILE --domain NAME\n"
    "                       [--read-key FILE] [--period-ms N] [--poll-ms N] [--register] [--once]\n"
    "  Submits checkpoints of the domain ledger served at --domain-node to the anchor\n"
    "  contract of the federation ledger at --federation: the height of every committee\n"
    "  rotation as soon as it is committed (with the new committee), and the domain's tip\n"
    "  every --period-ms (default 5000; 0: rotations only), or at once on SIGUSR1 (on\n"
    "  demand). It starts from the height the anchor holds, so it is idempotent and\n"
    "  resumes after a restart; only headers, certificates and committees leave the\n"
    "  domain (GET /blocks/{h}/checkpoint).\n"
    "  --key       a federation account's key file: signs the anchor transactions\n"
    "  --read-key  a domain member's key file: signs the domain reads (a private domain\n"
    "              ledger answers members only); default: unsigned reads\n"
    "  --poll-ms   how often the domain's tip is read for rotations (default 300)\n"
    "  --register  register the domain first if the anchor does not know it (--key must\n"
    "              be a federation validator; the committee of block 1 is trusted)\n"
    "  --once      one step, checkpointing the tip, then exit: 0 if it succeeded\n"
    "  URLs are http://A.B.C.D:PORT. SIGTERM or SIGINT stops it.\n";

static volatile bool ef_relayer_stop;
static ef_relayer *ef_relayer_sig_target;

static void ef_relayer_on_term(int sig)
{
    (void)sig;
    ef_relayer_stop = true;
}

static void ef_relayer_on_usr1(int sig)
{
    (void)sig;
    if (ef_relayer_sig_target) ef_relayer_request(ef_relayer_sig_target);
}

static bool ef_relayer_u32(const char *s, uint32_t max, uint32_t *out)
{
    char *end;
    if (!s || !*s) return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || v > max || s[0] == '-') return false;
    *out = (uint32_t)v;
    return true;
}

int ef_cmd_relayer(int argc, char **argv)
{
    static const char *const spec[] = {"domain-node=", "federation=", "key=", "domain=", "read-key=", "period-ms=",
                                       "poll-ms=", "register", "once", NULL};
    int checked = ef_cli_check(argc, argv, ef_relayer_usage, spec, 0);
    if (checked >= 0) return checked;
    const char *dn = ef_cli_opt(argc, argv, "domain-node", NULL), *fed = ef_cli_opt(argc, argv, "federation", NULL);
    const char *key = ef_cli_opt(argc, argv, "key", NULL), *dom = ef_cli_opt(argc, argv, "domain", NULL);
    const char *rk = ef_cli_opt(argc, argv, "read-key", NULL);
    ef_relayer_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (!dn || !fed || !key || !dom) {
        fprintf(stderr, "edgefed relayer: --domain-node, --federation, --key and --domain are required\n");
        fputs(ef_relayer_usage, stderr);
        return 2;
    }
    if (!ef_relayer_u32(ef_cli_opt(argc, argv, "period-ms", "5000"), 86400000u, &cfg.period_ms) ||
        !ef_relayer_u32(ef_cli_opt(argc, argv, "poll-ms", "300"), 600000u, &cfg.poll_ms) || cfg.poll_ms < 10) {
        fprintf(stderr, "edgefed relayer: --period-ms must be 0..86400000 and --poll-ms 10..600000\n");
        fputs(ef_relayer_usage, stderr);
        return 2;
    }
    if (strlen(dn) >= sizeof cfg.domain_url || strlen(fed) >= sizeof cfg.federation_url ||
        strlen(dom) >= sizeof cfg.domain) {
        fprintf(stderr, "edgefed relayer: a URL or the domain name is too long\n");
        fputs(ef_relayer_usage, stderr);
        return 2;
    }
    snprintf(cfg.domain_url, sizeof cfg.domain_url, "%s", dn);
    snprintf(cfg.federation_url, sizeof cfg.federation_url, "%s", fed);
    snprintf(cfg.domain, sizeof cfg.domain, "%s", dom);
    int rc = ef_key_load(&cfg.key, key);
    if (rc) {
        fprintf(stderr, "edgefed relayer: cannot load key %s: %s\n", key, ef_strerror(rc));
        return 1;
    }
    if (rk) {
        if ((rc = ef_key_load(&cfg.read_key, rk))) {
            fprintf(stderr, "edgefed relayer: cannot load read key %s: %s\n", rk, ef_strerror(rc));
            return 1;
        }
        cfg.has_read_key = true;
    }
    cfg.register_domain = ef_cli_flag(argc, argv, "register");
    ef_relayer *r;
    if ((rc = ef_relayer_new(&r, &cfg))) {
        fprintf(stderr, "edgefed relayer: bad configuration (URLs are http://A.B.C.D:PORT, the domain name "
                        "[a-z0-9_-]{1,32}): %s\n", ef_strerror(rc));
        fputs(ef_relayer_usage, stderr);
        return 2;
    }
    ef_relayer_stats st;
    if (ef_cli_flag(argc, argv, "once")) {
        rc = ef_relayer_step(r, true);
        ef_relayer_stats_get(r, &st);
        printf("{\"domain\":\"%s\",\"anchored\":%llu,\"domain_height\":%llu,\"checkpoints\":%llu,\"rotations\":%llu,"
               "\"already\":%llu,\"frozen\":%s,\"result\":\"%s\"}\n",
               cfg.domain, (unsigned long long)st.anchored, (unsigned long long)st.domain_height,
               (unsigned long long)st.checkpoints, (unsigned long long)st.rotations, (unsigned long long)st.already,
               st.frozen ? "true" : "false", ef_errname(rc));
        ef_relayer_free(r);
        return rc ? 1 : 0;
    }
    ef_relayer_sig_target = r;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = ef_relayer_on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = ef_relayer_on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    ef_log(EF_LOG_INFO, "relayer", "domain %s: %s -> federation %s, period %u ms", cfg.domain, cfg.domain_url,
           cfg.federation_url, cfg.period_ms);
    (void)ef_relayer_run(r, &ef_relayer_stop);
    ef_relayer_stats_get(r, &st);
    ef_log(EF_LOG_INFO, "relayer", "stopped: %llu checkpoints (%llu rotations), %llu already anchored, anchored "
           "height %llu", (unsigned long long)st.checkpoints, (unsigned long long)st.rotations,
           (unsigned long long)st.already, (unsigned long long)st.anchored);
    ef_relayer_sig_target = NULL;
    ef_relayer_free(r);
    return 0;
}
