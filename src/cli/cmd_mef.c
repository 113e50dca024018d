/* cmd_mef.c: `edgefed mef`: documents and checks the MEF agent configuration, prints price quotes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agents/ef_mef.h"
#include "agents/ef_pricing.h"
#include "base/ef_log.h"
#include "cli/cli.h"

static const char *const mef_usage =
    "usage: edgefed mef check CONFIG.json   check an agents.mef section (or a node config holding one)\n"
    "       edgefed mef quote [--location CODE] [--base N] [--utc-offset MIN] [--tod F,F,...x24]\n"
    "                                        print the provider's price for each hour of today\n"
    "\n"
    "The MEF agent (MEC federator, seed 001) runs inside a node: give the node config an\n"
    "\"agents\": {\"mef\": {...}} section and the node starts it, feeds it every committed\n"
    "event and block through its commit listener (the agent never polls), and sends its\n"
    "transactions, signed with the node's key, through the node's submission path.\n"
    "\n"
    "Roles:\n"
    "  consumer  announces a service (tunnel endpoint from the MEO driver, offers wanted,\n"
    "            bid window, deploy window, max price, deposit locked in escrow); when the\n"
    "            winner's deployment is committed it builds its side of the tunnel, checks\n"
    "            app-to-app traffic and confirms connectivity, which pays the provider.\n"
    "            It closes its announcement once block time passes the deadline, and\n"
    "            cancels (deposit back) if the deployment is not confirmed in time.\n"
    "  provider  on every other operator's announcement quotes its price (pricing policy\n"
    "            below) and bids if it is <= the max price; when awarded it deploys the\n"
    "            service app and its tunnel end through the MEO driver and confirms.\n"
    "\n"
    "agents.mef fields (all optional):\n"
    "  name STR                 operator name registered on the ledger (\"mec\")\n"
    "  location CODE            provider location: selects the base tariff (\"ES\")\n"
    "  roles [\"consumer\",\"provider\"]   one or both (both)\n"
    "  register BOOL            submit federation.register at start (true)\n"
    "  provenance BOOL          record the orchestration on the prov contract (true): the\n"
    "                           MEC system joins as device mec-NAME; award, deployment,\n"
    "                           tunnel, teardown and disconnect records (docs/prov.md)\n"
    "  results PATH             append one JSON line per finished federation\n"
    "  pricing {base_per_hour N, utc_offset_min N, tod \"24 comma-separated factors\"}\n"
    "                           price/hour = base_per_hour x tod[local hour]; defaults\n"
    "                           from the location's built-in tariff\n"
    "  consumer {service NAME (\"app\"), offers N (1), bid_window_ms N (10000),\n"
    "            deploy_window_ms N (60000), max_price N (1000), deposit N (max_price),\n"
    "            check_timeout_ms N (15000), start_after_operators N (0: never by\n"
    "            itself), runs R (1), run_size K (1), hold BOOL (true)}\n"
    "                           with start_after_operators the consumer announces once N\n"
    "                           operators are registered, then again each time another\n"
    "                           K services have ended on the ledger, R runs in all: all\n"
    "                           consumers see the same blocks, so they announce at once;\n"
    "                           hold false terminates a service as soon as it is paid\n"
    "  meo {driver \"process\"|\"netns\" (process), netns NAME, underlay_ip IP,\n"
    "       underlay_dev DEV, app_path PATH, port_min N, port_max N,\n"
    "       overlay_pool CIDR, vni_base N, vxlan_port N}\n"
    "                           the deployment driver (see docs/federation.md)\n"
    "\n"
    "Example:\n"
    "  {\"agents\": {\"mef\": {\"name\": \"mec-madrid\", \"location\": \"ES\",\n"
    "     \"roles\": [\"provider\"], \"meo\": {\"driver\": \"netns\", \"netns\": \"ef0\",\n"
    "     \"underlay_ip\": \"10.77.0.1\"}}}}\n";

static int mef_check(const char *path)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    if (!doc) {
        fprintf(stderr, "edgefed mef: %s:%d: %s\n", path, jerr.line, jerr.text);
        return 1;
    }
    const json_t *sec = doc;
    json_t *agents = json_object_get(doc, "agents");
    if (agents) sec = json_object_get(agents, "mef");
    else if (json_object_get(doc, "mef")) sec = json_object_get(doc, "mef");
    ef_mef_config cfg;
    char err[256] = "";
    int rc = ef_mef_config_parse(&cfg, sec, err, sizeof err);
    json_decref(doc);
    if (rc) {
        fprintf(stderr, "edgefed mef: %s: %s\n", path, err);
        return 1;
    }
    uint64_t price = 0;
    if (ef_pricing_quote(&cfg.pricing, ef_now_wall_ms(), &price)) price = 0;
    printf("ok: %s (%s), roles%s%s, driver %s, price now %llu/h\n", cfg.name, cfg.location,
           cfg.consumer ? " consumer" : "", cfg.provider ? " provider" : "", cfg.driver,
           (unsigned long long)price);
    return 0;
}

static int mef_quote(int argc, char **argv)
{
    static const char *const opts[] = {"location=", "base=", "utc-offset=", "tod=", NULL};
    int checked = ef_cli_check(argc, argv, mef_usage, opts, 0);
    if (checked >= 0) return checked;
    ef_pricing p;
    const char *loc = ef_cli_opt(argc, argv, "location", "ES");
    if (ef_pricing_default(&p, loc)) {
        fprintf(stderr, "edgefed mef: no built-in tariff for %s; known:", loc);
        for (size_t i = 0; i < ef_pricing_location_count(); i++) fprintf(stderr, " %s", ef_pricing_location(i));
        fprintf(stderr, "\n");
        return 2;
    }
    const char *base = ef_cli_opt(argc, argv, "base", NULL);
    const char *off = ef_cli_opt(argc, argv, "utc-offset", NULL);
    const char *tod = ef_cli_opt(argc, argv, "tod", NULL);
    if (base) p.base_per_hour = strtoull(base, NULL, 10);
    if (off) p.utc_offset_min = (int32_t)strtol(off, NULL, 10);
    if ((tod && ef_pricing_parse_tod(p.tod_permille, tod)) || ef_pricing_valid(&p)) {
        fprintf(stderr, "edgefed mef: invalid pricing policy\n");
        return 2;
    }
    uint64_t now = ef_now_wall_ms(), day = now - now % 86400000ull;
    printf("location %s, base %llu/h, UTC%+d min\nUTC hour  local hour  price/h\n", loc,
           (unsigned long long)p.base_per_hour, (int)p.utc_offset_min);
    for (unsigned h = 0; h < 24; h++) {
        uint64_t t = day + h * 3600000ull, price;
        if (ef_pricing_quote(&p, t, &price)) return 1;
        printf("%8u  %10u  %7llu\n", h, ef_pricing_local_hour(&p, t), (unsigned long long)price);
    }
    return 0;
}

int ef_cmd_mef(int argc, char **argv)
{
    if (ef_cli_wants_help(argc, argv)) {
        fputs(mef_usage, stdout);
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "check")) return mef_check(argv[2]);
    if (argc >= 2 && !strcmp(argv[1], "quote")) return mef_quote(argc - 1, argv + 1);
    fputs(mef_usage, stderr);
    return 2;
}
