/* cmd_query.c: `edgefed query PATH`: a GET on a node's HTTP API, signed with
 * --key for private ledgers, printing the answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/ef_api.h"
#include "api/ef_client.h"
#include "base/ef_log.h"
#include "base/ef_crypto.h"
#include "cli/cli.h"
#include "cli/cli_api.h"

#define EF_CLI_API_DEFAULT "http://127.0.0.1:8080"

const char *ef_cli_api_url(int argc, char **argv)
{
    const char *env = getenv("EDGEFED_API");
    return ef_cli_opt(argc, argv, "api", env && *env ? env : EF_CLI_API_DEFAULT);
}

int ef_cli_api_client(ef_client **out, int argc, char **argv, const char *who)
{
    ef_keypair kp, *kpp = NULL;
    const char *keyfile = ef_cli_opt(argc, argv, "key", NULL);
    if (keyfile) {
        int rc = ef_key_load(&kp, keyfile);
        if (rc) {
            fprintf(stderr, "edgefed %s: cannot read key %s: %s\n", who, keyfile, ef_strerror(rc));
            return 1;
        }
        kpp = &kp;
    }
    const char *url = ef_cli_api_url(argc, argv);
    int rc = ef_client_new(out, url, kpp, 0);
    if (rc) {
        fprintf(stderr, "edgefed %s: bad API URL %s: %s\n", who, url, ef_strerror(rc));
        return 1;
    }
    return 0;
}

/* Prints an answer body: JSON indented, anything else as it is. */
void ef_cli_print_body(FILE *f, const char *body, size_t len)
{
    json_t *j = json_loadb(body, len, 0, NULL);
    if (j) {
        char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text) fprintf(f, "%s\n", text);
        free(text);
        json_decref(j);
        return;
    }
    fwrite(body, 1, len, f);
    if (len && body[len - 1] != '\n') fputc('\n', f);
}

int ef_cmd_query(int argc, char **argv)
{
    const char *usage =
        "usage: edgefed query PATH [--api URL] [--key KEYFILE] [--events N]\n"
        "  GETs PATH (e.g. /status, /blocks/3, /txs/HASH, /state/bank/balance/KEY,\n"
        "  /accounts/KEY, /metrics) from a node's HTTP API and prints the answer.\n"
        "  --api URL      the node's API (default $EDGEFED_API or " EF_CLI_API_DEFAULT ")\n"
        "  --key KEYFILE  sign the request with this account's key (private ledgers)\n"
        "  --headers      with --key: print the three signature headers for GET PATH\n"
        "                 (one 'Name: value' line each, for curl -H) and send nothing\n"
        "  --method M     the method the --headers are for (default GET)\n"
        "  --events N     PATH is an event stream (/events?...): print N messages, one\n"
        "                 JSON line each {\"type\",\"id\",\"data\"}, then stop\n"
        "  exit status: 0 for a 2xx answer, 1 otherwise (the error is printed)\n";
    static const char *const opts[] = {"api=", "key=", "headers", "method=", "events=", NULL};
    int checked = ef_cli_check(argc, argv, usage, opts, 1);
    if (checked >= 0) return checked;
    if (ef_cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    const char *path = NULL;
    static const char *const valued[] = {"--api", "--key", "--events", "--method"};
    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "--", 2)) {
            for (size_t k = 0; k < EF_ARRAY_LEN(valued); k++)
                if (!strcmp(argv[i], valued[k])) i++;     /* skip the option's value */
            continue;
        }
        path = argv[i];
        break;
    }
    if (!path || path[0] != '/') {
        fputs(usage, stderr);
        return 2;
    }
    if (ef_cli_flag(argc, argv, "headers")) {
        const char *keyfile = ef_cli_opt(argc, argv, "key", NULL);
        ef_keypair kp;
        char key[2 * EF_PUB_SIZE + 1], sig[2 * EF_SIG_SIZE + 1];
        if (!keyfile) {
            fputs(usage, stderr);
            return 2;
        }
        if (ef_key_load(&kp, keyfile)) {
            fprintf(stderr, "edgefed query: cannot read key %s\n", keyfile);
            return 1;
        }
        uint64_t t = ef_now_wall_ms_unique();
        if (ef_api_auth_sign(key, sig, &kp, ef_cli_opt(argc, argv, "method", "GET"), path, t)) {
            fprintf(stderr, "edgefed query: path too long to sign\n");
            return 1;
        }
        printf("%s: %s\n%s: %llu\n%s: %s\n", EF_API_HDR_KEY, key, EF_API_HDR_TIME, (unsigned long long)t,
               EF_API_HDR_SIG, sig);
        return 0;
    }
    ef_client *cl = NULL;
    if (ef_cli_api_client(&cl, argc, argv, "query")) return 1;
    long status = 0;
    int rc;
    const char *events = ef_cli_opt(argc, argv, "events", NULL);
    if (events) {
        long n = strtol(events, NULL, 10);
        if (n <= 0) {
            fputs(usage, stderr);
            ef_client_free(cl);
            return 2;
        }
        rc = ef_cli_print_events(cl, path, n, &status);
        ef_client_free(cl);
        if (rc < 0) {
            fprintf(stderr, "edgefed query: %s: %s (HTTP %ld)\n", path, ef_strerror(rc), status);
            return 1;
        }
        return 0;
    }
    char *body = NULL;
    size_t len = 0;
    rc = ef_client_request(cl, "GET", path, NULL, NULL, 0, &status, &body, &len);
    ef_client_free(cl);
    if (rc) {
        fprintf(stderr, "edgefed query: %s: %s\n", path, ef_strerror(rc));
        return 1;
    }
    ef_cli_print_body(status / 100 == 2 ? stdout : stderr, body, len);
    free(body);
    if (status / 100 != 2) {
        fprintf(stderr, "edgefed query: HTTP %ld\n", status);
        return 1;
    }
    return 0;
}

typedef struct ef_cli_events {
    long left;
} ef_cli_events;

static int ef_cli_event_print(void *arg, const char *type, const char *id, const char *data)
{
    ef_cli_events *e = arg;
    if (!*type) return 0;                 /* id-only message: nothing to show */
    json_t *d = json_loads(data, 0, NULL);
    json_t *line = json_pack("{s:s, s:s, s:o}", "type", type, "id", id, "data",
                             d ? d : json_string(data));
    char *text = line ? json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (text) printf("%s\n", text);
    fflush(stdout);
    free(text);
    json_decref(line);
    return --e->left <= 0 ? 1 : 0;
}

int ef_cli_print_events(ef_client *cl, const char *path, long n, long *status)
{
    ef_cli_events e = {.left = n};
    int rc = ef_client_events(cl, path, NULL, ef_cli_event_print, &e, status);
    return rc == 1 ? 0 : rc;
}
