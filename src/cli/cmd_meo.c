/* cmd_meo.c: `edgefed meo selftest|topo`: exercise the MEO drivers and manage a netns test topology. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agents/ef_meo.h"
#include "base/ef_log.h"
#include "cli/cli.h"

#define EF_MEO_CLI_ROUNDS_MAX 1000

static const char *const ef_meo_usage_text =
            "usage: edgefed meo selftest [--driver process|netns] [--rounds N] [--netns C,P --underlay IPC,IPP]\n"
            "                            [--app PATH] [--ports MIN-MAX]\n"
            "       edgefed meo topo create --prefix P --n N [--octet 77]\n"
            "       edgefed meo topo destroy --prefix P --n N\n"
            "\n"
            "selftest: a consumer and a provider MEC system run N rounds of prepare, deploy,\n"
            "  connect (both sides), check (app-to-app traffic) and teardown with the chosen\n"
            "  driver, then check that a stopped app makes the check fail; prints each step's\n"
            "  time and the medians. netns (root): uses namespaces C and P (underlay addresses\n"
            "  IPC, IPP) if given, else makes and removes its own 2-namespace topology. The\n"
            "  provider's apps listen on ports MIN..MAX (21000-21999).\n"
            "topo create: namespaces Phub (bridge br0) and P0..P{N-1}, each joined to the bridge\n"
            "  by a veth (ul0, address 10.OCTET.0.(i+1)/24). Nothing is added to the root namespace.\n"
            "topo destroy: kills what runs in those namespaces and deletes them (idempotent).\n";

static int ef_meo_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double ef_meo_median_ms(uint64_t *v, size_t n)
{
    if (n == 0) return 0;
    qsort(v, n, sizeof *v, ef_meo_cmp_u64);
    return (n % 2 ? (double)v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0) / 1000.0;
}

/* Splits "a,b" into two copies (each < cap). */
static int ef_meo_split2(const char *s, char *a, char *b, size_t cap)
{
    const char *c = s ? strchr(s, ',') : NULL;
    if (!c || (size_t)(c - s) >= cap || strlen(c + 1) >= cap) return -1;
    memcpy(a, s, (size_t)(c - s));
    a[c - s] = 0;
    memcpy(b, c + 1, strlen(c + 1) + 1);
    return 0;
}

static int ef_meo_selftest(int argc, char **argv)
{
    static const char *const opts[] = {"driver=", "rounds=", "netns=", "underlay=", "app=", "ports=", NULL};
    int checked = ef_cli_check(argc, argv, ef_meo_usage_text, opts, 0);
    if (checked >= 0) return checked;
    const char *driver = ef_cli_opt(argc, argv, "driver", "process");
    long rounds = strtol(ef_cli_opt(argc, argv, "rounds", "5"), NULL, 10);
    const char *app = ef_cli_opt(argc, argv, "app", NULL);
    unsigned pmin = 0, pmax = 0;
    char ptail = 0;
    int pn = sscanf(ef_cli_opt(argc, argv, "ports", "21000-21999"), "%u-%u%c", &pmin, &pmax, &ptail);
    if (rounds < 1 || rounds > EF_MEO_CLI_ROUNDS_MAX || pn != 2 || pmin < 1024 || pmax > 65535 || pmin > pmax) {
        fputs(ef_meo_usage_text, stderr);
        return 2;
    }
    int netns = !strcmp(driver, "netns");
    char ns_c[EF_MEO_NAME_MAX] = "", ns_p[EF_MEO_NAME_MAX] = "", ul_c[32] = "127.0.0.1", ul_p[32] = "127.0.0.1";
    char prefix[16] = "";
    int own_topo = 0, status = 1;
    ef_meo *cons = NULL, *prov = NULL;
    uint64_t *t = calloc((size_t)rounds * 3, sizeof *t);
    if (!t) return 1;
    if (netns) {
        const char *nsopt = ef_cli_opt(argc, argv, "netns", NULL);
        const char *ulopt = ef_cli_opt(argc, argv, "underlay", NULL);
        if (nsopt || ulopt) {
            if (ef_meo_split2(nsopt, ns_c, ns_p, sizeof ns_c) || ef_meo_split2(ulopt, ul_c, ul_p, sizeof ul_c)) {
                fputs(ef_meo_usage_text, stderr);
                free(t);
                return 2;
            }
        } else {
            snprintf(prefix, sizeof prefix, "efst%u", (unsigned)getpid() % 100000u);
            int err = ef_meo_topo_create(prefix, 2, 78);
            if (err) {
                fprintf(stderr, "meo selftest: cannot create a test topology: %s\n", ef_strerror(err));
                free(t);
                return 1;
            }
            own_topo = 1;
            snprintf(ns_c, sizeof ns_c, "%s0", prefix);
            snprintf(ns_p, sizeof ns_p, "%s1", prefix);
            snprintf(ul_c, sizeof ul_c, "10.78.0.1");
            snprintf(ul_p, sizeof ul_p, "10.78.0.2");
        }
    }
    ef_meo_config cc = {.mec_name = "consumer", .netns = netns ? ns_c : NULL, .underlay_ip = ul_c, .app_path = app};
    ef_meo_config pc = {.mec_name = "provider", .netns = netns ? ns_p : NULL, .underlay_ip = ul_p, .app_path = app,
                        .port_min = (uint16_t)pmin, .port_max = (uint16_t)pmax};
    int err = ef_meo_open(&cons, driver, &cc);
    if (!err) err = ef_meo_open(&prov, driver, &pc);
    if (err) {
        fprintf(stderr, "meo selftest: cannot open the %s driver: %s\n", driver, ef_strerror(err));
        goto out;
    }
    printf("meo selftest: driver %s, %ld rounds\n", driver, rounds);
    for (long r = 0; r < rounds; r++) {
        char sid[32];
        snprintf(sid, sizeof sid, "svc-%ld", r);
        ef_meo_ep cep, pep;
        char cs[EF_MEO_EP_STR_MAX], ps[EF_MEO_EP_STR_MAX];
        const char *step = "prepare";
        if ((err = ef_meo_prepare(cons, sid, &cep))) goto fail;
        step = "deploy";
        if ((err = ef_meo_deploy(prov, sid, "echo", &cep, &pep))) goto fail;
        step = "connect provider";
        if ((err = ef_meo_connect(prov, sid, &pep, &cep))) goto fail;
        step = "connect consumer";
        if ((err = ef_meo_connect(cons, sid, &cep, &pep))) goto fail;
        step = "check";
        if ((err = ef_meo_check(cons, sid, &pep, 5000))) goto fail;
        ef_meo_times tp, tc;
        (void)ef_meo_times_get(prov, sid, &tp);
        (void)ef_meo_times_get(cons, sid, &tc);
        t[r * 3 + 0] = tp.deploy_us;
        t[r * 3 + 1] = tp.connect_us + tc.connect_us;
        t[r * 3 + 2] = tc.check_us;
        (void)ef_meo_ep_format(cs, sizeof cs, &cep);
        (void)ef_meo_ep_format(ps, sizeof ps, &pep);
        printf("round %ld: deploy %.2f ms, connect %.2f ms (provider %.2f + consumer %.2f), check %.2f ms\n"
               "  consumer %s\n  provider %s\n",
               r, tp.deploy_us / 1000.0, (tp.connect_us + tc.connect_us) / 1000.0, tp.connect_us / 1000.0,
               tc.connect_us / 1000.0, tc.check_us / 1000.0, cs, ps);
        if (r == rounds - 1) {
            /* The provider stops the app: the consumer's check must now fail. */
            step = "teardown provider";
            if ((err = ef_meo_teardown(prov, sid))) goto fail;
            int cerr = ef_meo_check(cons, sid, &pep, 500);
            printf("check after the provider stopped the app: %s\n", cerr ? ef_strerror(cerr) : "ok (WRONG)");
            if (!cerr) {
                fprintf(stderr, "meo selftest: check passed with the app down\n");
                goto out;
            }
        }
        step = "teardown";
        if ((err = ef_meo_teardown(prov, sid)) || (err = ef_meo_teardown(cons, sid))) goto fail;
        /* Idempotent. */
        if ((err = ef_meo_teardown(prov, sid)) || (err = ef_meo_teardown(cons, sid))) goto fail;
        continue;
    fail:
        fprintf(stderr, "meo selftest: round %ld: %s failed: %s\n", r, step, ef_strerror(err));
        goto out;
    }
    uint64_t *col = calloc((size_t)rounds, sizeof *col);
    if (!col) goto out;
    double med[3];
    for (int k = 0; k < 3; k++) {
        for (long r = 0; r < rounds; r++) col[r] = t[r * 3 + k];
        med[k] = ef_meo_median_ms(col, (size_t)rounds);
    }
    free(col);
    printf("median over %ld rounds (%s): deploy %.2f ms, connect %.2f ms, check %.2f ms\n", rounds, driver, med[0],
           med[1], med[2]);
    status = 0;
out:
    ef_meo_close(prov);
    ef_meo_close(cons);
    if (own_topo && ef_meo_topo_destroy(prefix, 2)) {
        fprintf(stderr, "meo selftest: topology %s not fully removed\n", prefix);
        status = 1;
    }
    free(t);
    return status;
}

static int ef_meo_topo(int argc, char **argv)
{
    static const char *const opts[] = {"prefix=", "n=", "octet=", NULL};
    int checked = ef_cli_check(argc, argv, ef_meo_usage_text, opts, 1);
    if (checked >= 0) return checked;
    const char *prefix = ef_cli_opt(argc, argv, "prefix", NULL);
    long n = strtol(ef_cli_opt(argc, argv, "n", "0"), NULL, 10);
    long octet = strtol(ef_cli_opt(argc, argv, "octet", "77"), NULL, 10);
    if (argc < 2 || !prefix || n < 1 || n > 250 || octet < 1 || octet > 255) {
        fputs(ef_meo_usage_text, stderr);
        return 2;
    }
    int err;
    if (!strcmp(argv[1], "create")) err = ef_meo_topo_create(prefix, (unsigned)n, (uint8_t)octet);
    else if (!strcmp(argv[1], "destroy")) err = ef_meo_topo_destroy(prefix, (unsigned)n);
    else {
        fputs(ef_meo_usage_text, stderr);
        return 2;
    }
    if (err) {
        fprintf(stderr, "meo topo %s: %s\n", argv[1], ef_strerror(err));
        return 1;
    }
    return 0;
}

int ef_cmd_meo(int argc, char **argv)
{
    if (argc < 2 || ef_cli_wants_help(argc, argv)) {
        fputs(ef_meo_usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "selftest")) return ef_meo_selftest(argc - 1, argv + 1);
    if (!strcmp(argv[1], "topo")) return ef_meo_topo(argc - 1, argv + 1);
    fputs(ef_meo_usage_text, stderr);
    return 2;
}
