/* cmd_nslice.c: `edgefed nslice template|id`: network-slice templates of the
 * nslice contract (contracts/ef_nslice.h) built offline: the canonical bytes
 * and their id, as the args of nslice.publish. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "cli/cli.h"
#include "contracts/ef_nslice.h"

static const char *const ns_usage_all =
    "usage: edgefed nslice SUBCOMMAND [options]   (edgefed nslice SUBCOMMAND --help)\n\n"
    "  template  encode a slice template: prints {\"template\": HEX, \"id\": HASH}, the args of nslice.publish\n"
    "  id        the id of a template's canonical bytes (HEX), after checking they decode\n"
    "  controller    a domain's slice control on its domain node (reserve, stitch, record)\n"
    "  orchestrator  the end-to-end orchestrator: splits, claims with proofs, re-adjusts\n";

static const char *const ns_usage_template =
    "usage: edgefed nslice template --name NAME --kbps-min N --kbps-max N --max-latency-us N\n"
    "                               [--max-loss-ppm N] [--description TEXT]\n"
    "  Prints the template's canonical bytes and id as JSON, e.g. to publish it as the\n"
    "  domain administrator:\n"
    "    edgefed tx send --key ADMIN.key --contract nslice --method publish \\\n"
    "                    --args \"$(edgefed nslice template --name video --kbps-min 1000 ...)\"\n"
    "  NAME 1..32 of [A-Za-z0-9._:-]; 1 <= kbps-min <= kbps-max <= 100000000;\n"
    "  max-latency-us 1..10000000; max-loss-ppm 0..1000000 (default 0); TEXT up to\n"
    "  128 printable ASCII characters.\n";

static const char *const ns_usage_id =
    "usage: edgefed nslice id HEX\n"
    "  Decodes HEX as a template's canonical bytes (refused if they do not decode\n"
    "  canonically) and prints the template as JSON with its id.\n";

static int ns_u64(const char *s, uint64_t *v)
{
    char *end;
    if (!s || !*s || *s == '-' || *s == '+') return -1;
    *v = strtoull(s, &end, 10);
    return *end ? -1 : 0;
}

static int ns_template(int argc, char **argv)
{
    static const char *const opts[] = {"name=", "kbps-min=", "kbps-max=", "max-latency-us=", "max-loss-ppm=",
                                       "description=", NULL};
    int checked = ef_cli_check(argc, argv, ns_usage_template, opts, 0);
    if (checked >= 0) return checked;
    const char *name = ef_cli_opt(argc, argv, "name", NULL), *desc = ef_cli_opt(argc, argv, "description", "");
    uint64_t lo, hi, lat, loss = 0;
    if (!name || ns_u64(ef_cli_opt(argc, argv, "kbps-min", NULL), &lo) ||
        ns_u64(ef_cli_opt(argc, argv, "kbps-max", NULL), &hi) ||
        ns_u64(ef_cli_opt(argc, argv, "max-latency-us", NULL), &lat) ||
        (ef_cli_opt(argc, argv, "max-loss-ppm", NULL) && ns_u64(ef_cli_opt(argc, argv, "max-loss-ppm", NULL), &loss))) {
        fprintf(stderr, "edgefed nslice template: --name, --kbps-min, --kbps-max and --max-latency-us are required "
                        "(unsigned integers)\n");
        fputs(ns_usage_template, stderr);
        return 2;
    }
    ef_nslice_template t = {.kbps_min = lo, .kbps_max = hi, .max_latency_us = lat, .max_loss_ppm = (uint32_t)loss};
    ef_wr w;
    ef_wr_init(&w);
    if (loss > 1000000 || strlen(name) > EF_NSLICE_NAME_MAX || strlen(desc) > EF_NSLICE_DESC_MAX ||
        (snprintf(t.name, sizeof t.name, "%s", name), snprintf(t.description, sizeof t.description, "%s", desc),
         ef_nslice_template_encode(&w, &t))) {
        fprintf(stderr, "edgefed nslice template: not a valid template (see the rules below)\n");
        fputs(ns_usage_template, stderr);
        ef_wr_free(&w);
        return 2;
    }
    ef_hash id;
    ef_nslice_template_id(&id, w.buf, w.len);
    char *hex = malloc(2 * w.len + 1), idh[65];
    if (!hex) {
        ef_wr_free(&w);
        return 1;
    }
    ef_hex(hex, w.buf, w.len);
    ef_hex(idh, id.b, EF_HASH_SIZE);
    printf("{\"template\":\"%s\",\"id\":\"%s\"}\n", hex, idh);
    free(hex);
    ef_wr_free(&w);
    return 0;
}

static int ns_id(int argc, char **argv)
{
    int checked = ef_cli_check(argc, argv, ns_usage_id, (const char *const[]){NULL}, 1);
    if (checked >= 0) return checked;
    if (argc != 2) {
        fputs(ns_usage_id, stderr);
        return 2;
    }
    const char *hex = argv[1];
    size_t n = strlen(hex) / 2;
    uint8_t buf[EF_NSLICE_TEMPLATE_MAX];
    ef_nslice_template t;
    if (strlen(hex) % 2 || n > sizeof buf || ef_unhex(buf, n, hex) || ef_nslice_template_decode(&t, buf, n)) {
        fprintf(stderr, "edgefed nslice id: not a template's canonical bytes\n");
        return 1;
    }
    ef_hash id;
    char idh[65];
    ef_nslice_template_id(&id, buf, n);
    ef_hex(idh, id.b, EF_HASH_SIZE);
    json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:s}", "id", idh, "name", t.name, "kbps_min",
                          (json_int_t)t.kbps_min, "kbps_max", (json_int_t)t.kbps_max, "max_latency_us",
                          (json_int_t)t.max_latency_us, "max_loss_ppm", (json_int_t)t.max_loss_ppm, "description",
                          t.description);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (s) puts(s);
    free(s);
    json_decref(j);
    return s ? 0 : 1;
}

int ef_cmd_nslice(int argc, char **argv)
{
    if (argc < 2 || (argv[1][0] == '-' && ef_cli_wants_help(argc, argv))) {
        fputs(ns_usage_all, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "template")) return ns_template(argc - 1, argv + 1);
    if (!strcmp(argv[1], "id")) return ns_id(argc - 1, argv + 1);
    if (!strcmp(argv[1], "controller") || !strcmp(argv[1], "orchestrator"))
        return ef_cmd_nslice_agents(argc - 1, argv + 1);
    fprintf(stderr, "edgefed nslice: unknown subcommand '%s'\n", argv[1]);
    fputs(ns_usage_all, stderr);
    return 2;
}
