/* cli_prov_pipeline.c: `edgefed prov serve` (a hash-addressed blob server) and
 * `edgefed prov pipeline sense|step`, the programs of the seed's sensor ->
 * collector -> analyser scenario: each identifies itself on the ledger, takes its
 * inputs by hash from a producer's blob server after checking them against the
 * recorded hash, records the use, and releases its signed output. */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>

#include "agents/ef_blobd.h"
#include "agents/ef_httpc.h"
#include "base/ef_codec.h"
#include "base/ef_log.h"
#include "cli/cli.h"
#include "cli/cli_api.h"
#include "cli/cli_prov.h"

#define PROV_INPUTS_MAX 64

int ef_prov_cli_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) return EF_EIO;
    int rc = fwrite(data, 1, len, f) == len ? 0 : EF_EIO;
    if (fclose(f) && rc == 0) rc = EF_EIO;
    return rc;
}

static const char *serve_usage =
    "usage: edgefed prov serve --dir DIR --listen IP:PORT [--exit-with-parent]\n"
    "  Serves the blobs in DIR by hash: GET /blobs/HASH (HASH = the prov data hash of the\n"
    "  bytes, the file's name), GET /health. Runs until SIGTERM or SIGINT.\n";

int ef_prov_cli_serve(int argc, char **argv)
{
    static const char *const opts[] = {"dir=", "listen=", "exit-with-parent", NULL};
    int rc0 = ef_cli_check(argc, argv, serve_usage, opts, 0);
    if (rc0 >= 0) return rc0;
    const char *dir = ef_cli_opt(argc, argv, "dir", NULL), *listen = ef_cli_opt(argc, argv, "listen", NULL);
    uint32_t ip;
    uint16_t port;
    if (!dir || !listen || ef_httpc_parse_hostport(listen, &ip, &port)) return fputs(serve_usage, stderr), 2;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    ef_blobd *b;
    int rc = ef_blobd_start(&b, dir, ip, port);
    if (rc) {
        fprintf(stderr, "edgefed prov serve: cannot serve %s on %s: %s\n", dir, listen, ef_strerror(rc));
        return 1;
    }
    printf("edgefed prov serve: %s on %s\n", dir, listen);
    fflush(stdout);
    bool watch = ef_cli_flag(argc, argv, "exit-with-parent");
    pid_t parent = getppid();
    struct timespec tick = {.tv_sec = 0, .tv_nsec = 200 * 1000000L};
    for (;;) {
        int sig = sigtimedwait(&set, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT) break;
        if (watch && getppid() != parent) break;
    }
    ef_blobd_stop(b);
    return 0;
}

static const char *pipe_usage =
    "usage: edgefed prov pipeline sense --key K --id ID --owner PUB --host DEV --dir DIR\n"
    "                                   [--count N] [--prefix P] [--receiver ACT] [--api URL]\n"
    "       edgefed prov pipeline step --key K --id ID --owner PUB --host DEV --dir DIR\n"
    "                                  --activity A --inputs E1,E2,... --fetch URL --output E\n"
    "                                  --op collect|analyse [--receiver ACT] [--timeout-ms N] [--api URL]\n"
    "  sense: container ID joins on device DEV, writes N readings (P-1..P-N, default\n"
    "    reading) into DIR as blobs and releases each (signed hash) to activity ACT.\n"
    "  step: container ID joins; for each input waits until it is recorded, fetches\n"
    "    URL/blobs/HASH, refuses it if its bytes do not match the recorded hash (exit 1,\n"
    "    nothing recorded), records the use; then writes its output (collect: the inputs\n"
    "    joined; analyse: count and mean of the readings) into DIR and releases it.\n";

typedef struct {
    ef_client *cl;
    ef_keypair kp;
    const char *id;
    char chain[EF_CHAIN_ID_MAX + 1];
} pipe_ctx;

static void pipe_log(const pipe_ctx *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pipe_log(const pipe_ctx *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("[%s] ", p->id);
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
}

static int pipe_send(pipe_ctx *p, const char *method, json_t *args)
{
    char err[512];
    if (!args) return EF_ENOMEM;
    json_t *resp = NULL;
    int rc = ef_prov_cli_send(p->cl, &p->kp, method, args, err, sizeof err, &resp);
    if (rc) fprintf(stderr, "[%s] %s refused: %s\n", p->id, method, err);
    else
        pipe_log(p, "%s committed: block %" PRId64 " tx %.16s", method,
                 (int64_t)json_integer_value(json_object_get(resp, "height")),
                 json_string_value(json_object_get(resp, "hash")) ? json_string_value(json_object_get(resp, "hash"))
                                                                   : "?");
    json_decref(resp);
    json_decref(args);
    return rc;
}

static int pipe_open(pipe_ctx *p, int argc, char **argv)
{
    memset(p, 0, sizeof *p);
    const char *keyfile = ef_cli_opt(argc, argv, "key", NULL);
    p->id = ef_cli_opt(argc, argv, "id", NULL);
    int rc = ef_key_load(&p->kp, keyfile);
    if (rc) {
        fprintf(stderr, "edgefed prov pipeline: cannot read key %s: %s\n", keyfile, ef_strerror(rc));
        return rc;
    }
    if ((rc = ef_client_new(&p->cl, ef_cli_api_url(argc, argv), NULL, 0))) return rc;
    if ((rc = ef_prov_cli_chain(p->cl, p->chain)))
        fprintf(stderr, "[%s] cannot read the chain id: %s\n", p->id, ef_strerror(rc));
    return rc;
}

/* The thing identifies itself: a container on its host. */
static int pipe_join(pipe_ctx *p, int argc, char **argv)
{
    char kh[2 * EF_PUB_SIZE + 1];
    ef_hex(kh, p->kp.pub.b, EF_PUB_SIZE);
    return pipe_send(p, "join",
                     json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", p->id, "kind", "container", "owner",
                               ef_cli_opt(argc, argv, "owner", ""), "key", kh, "host", ef_cli_opt(argc, argv, "host", "")));
}

static int pipe_release(pipe_ctx *p, const char *dir, const char *ent, const char *act, const char *text,
                        const char *receiver)
{
    char hh[2 * EF_HASH_SIZE + 1];
    int rc = ef_blobd_put(dir, text, strlen(text), hh);
    if (rc) {
        fprintf(stderr, "[%s] cannot store %s in %s: %s\n", p->id, ent, dir, ef_strerror(rc));
        return rc;
    }
    pipe_log(p, "%s (%zu bytes) stored as %s/%.16s...", ent, strlen(text), dir, hh);
    return pipe_send(p, "release",
                     ef_prov_cli_release_args(&p->kp, p->chain, ent, act, p->id, (const uint8_t *)text, strlen(text),
                                              "application/json", receiver));
}

static int pipe_sense(int argc, char **argv)
{
    static const char *const opts[] = {"api=", "key=", "id=", "owner=", "host=", "dir=", "count=", "prefix=",
                                       "receiver=", NULL};
    int rc0 = ef_cli_check(argc, argv, pipe_usage, opts, 0);
    if (rc0 >= 0) return rc0;
    const char *dir = ef_cli_opt(argc, argv, "dir", NULL), *prefix = ef_cli_opt(argc, argv, "prefix", "reading");
    long count = strtol(ef_cli_opt(argc, argv, "count", "2"), NULL, 10);
    if (!dir || !ef_cli_opt(argc, argv, "key", NULL) || !ef_cli_opt(argc, argv, "id", NULL) ||
        !ef_cli_opt(argc, argv, "owner", NULL) || !ef_cli_opt(argc, argv, "host", NULL) || count < 1 || count > 1000)
        return fputs(pipe_usage, stderr), 2;
    pipe_ctx p;
    int rc = pipe_open(&p, argc, argv);
    if (rc == 0) rc = pipe_join(&p, argc, argv);
    for (long i = 1; rc == 0 && i <= count; i++) {
        char ent[80], act[80], text[160];
        snprintf(ent, sizeof ent, "%s-%ld", prefix, i);
        snprintf(act, sizeof act, "%s-sense-%ld", p.id, i);
        snprintf(text, sizeof text, "{\"sensor\":\"%s\",\"seq\":%ld,\"temp_mC\":%ld}", p.id, i,
                 21000 + (i * 137) % 1000);
        rc = pipe_release(&p, dir, ent, act, text, ef_cli_opt(argc, argv, "receiver", NULL));
    }
    ef_client_free(p.cl);
    return rc ? 1 : 0;
}

/* Waits until entity is recorded; returns its record or NULL after timeout. */
static json_t *pipe_wait_data(pipe_ctx *p, const char *ent, uint64_t timeout_ms)
{
    char target[128];
    snprintf(target, sizeof target, "/state/prov/data/%s", ent);
    uint64_t end = ef_now_wall_ms() + timeout_ms;
    for (;;) {
        long status = 0;
        json_t *d = NULL;
        if (ef_client_json(p->cl, "GET", target, NULL, &status, &d) == 0 && status == 200 && d) return d;
        json_decref(d);
        if (ef_now_wall_ms() > end) return NULL;
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static int pipe_step(int argc, char **argv)
{
    static const char *const opts[] = {"api=", "key=", "id=", "owner=", "host=", "dir=", "activity=", "inputs=",
                                       "fetch=", "output=", "op=", "receiver=", "timeout-ms=", NULL};
    int rc0 = ef_cli_check(argc, argv, pipe_usage, opts, 0);
    if (rc0 >= 0) return rc0;
    const char *dir = ef_cli_opt(argc, argv, "dir", NULL), *act = ef_cli_opt(argc, argv, "activity", NULL),
               *inputs = ef_cli_opt(argc, argv, "inputs", NULL), *fetch = ef_cli_opt(argc, argv, "fetch", NULL),
               *output = ef_cli_opt(argc, argv, "output", NULL), *op = ef_cli_opt(argc, argv, "op", NULL);
    uint64_t timeout_ms = strtoull(ef_cli_opt(argc, argv, "timeout-ms", "30000"), NULL, 10);
    if (!dir || !act || !inputs || !fetch || !output || !op || (strcmp(op, "collect") && strcmp(op, "analyse")) ||
        !ef_cli_opt(argc, argv, "key", NULL) || !ef_cli_opt(argc, argv, "id", NULL) ||
        !ef_cli_opt(argc, argv, "owner", NULL) || !ef_cli_opt(argc, argv, "host", NULL))
        return fputs(pipe_usage, stderr), 2;
    pipe_ctx p;
    int rc = pipe_open(&p, argc, argv);
    if (rc == 0) rc = pipe_join(&p, argc, argv);
    json_t *got = json_array();
    char *list = strdup(inputs), *save = NULL;
    for (char *ent = list ? strtok_r(list, ",", &save) : NULL; rc == 0 && ent; ent = strtok_r(NULL, ",", &save)) {
        if (json_array_size(got) >= PROV_INPUTS_MAX) {
            rc = EF_ELIMIT;
            break;
        }
        json_t *d = pipe_wait_data(&p, ent, timeout_ms);
        if (!d) {
            fprintf(stderr, "[%s] %s was not released within %" PRIu64 " ms\n", p.id, ent, timeout_ms);
            rc = EF_ETIMEOUT;
            break;
        }
        const char *hash = json_string_value(json_object_get(d, "hash"));
        uint8_t *blob = NULL;
        size_t len = 0;
        char err[512];
        rc = ef_prov_cli_fetch(fetch, hash ? hash : "", &blob, &len);
        if (rc) fprintf(stderr, "[%s] cannot fetch %s (%s/blobs/%.16s...): %s\n", p.id, ent, fetch, hash, ef_strerror(rc));
        else if ((rc = ef_prov_cli_check_blob(p.cl, ent, blob, len, err, sizeof err)))
            fprintf(stderr, "[%s] REFUSED %s\n", p.id, err);
        else {
            pipe_log(&p, "fetched %s by hash %.16s... (%zu bytes): matches the ledger", ent, hash, len);
            json_t *j = json_loadb((const char *)blob, len, 0, NULL);
            json_array_append_new(got, j ? j : json_stringn((const char *)blob, len));
            rc = pipe_send(&p, "use", json_pack("{s:s, s:s, s:s}", "entity", ent, "activity", act, "by", p.id));
        }
        free(blob);
        json_decref(d);
    }
    free(list);
    if (rc == 0) {
        json_t *out;
        if (!strcmp(op, "collect")) {
            out = json_pack("{s:s, s:O}", "collector", p.id, "joint", got);
        } else {
            /* the readings inside the joint inputs: count and mean temperature */
            json_int_t n = 0, sum = 0;
            size_t i, k;
            json_t *in, *r;
            json_array_foreach(got, i, in) json_array_foreach(json_object_get(in, "joint"), k, r) {
                json_t *t = json_object_get(r, "temp_mC");
                if (json_is_integer(t)) {
                    n++;
                    sum += json_integer_value(t);
                }
            }
            out = json_pack("{s:s, s:I, s:I}", "analyser", p.id, "readings", n, "mean_temp_mC", n ? sum / n : 0);
        }
        char *text = out ? json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(out);
        rc = text ? pipe_release(&p, dir, output, act, text, ef_cli_opt(argc, argv, "receiver", NULL)) : EF_ENOMEM;
        free(text);
    }
    json_decref(got);
    ef_client_free(p.cl);
    return rc ? 1 : 0;
}

int ef_prov_cli_pipeline(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "sense")) return pipe_sense(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "step")) return pipe_step(argc - 1, argv + 1);
    bool help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
    fputs(pipe_usage, help ? stdout : stderr);
    return help ? 0 : 2;
}
