/* cmd_app.c: `edgefed app serve|call`: the federated service app and its client check. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agents/ef_app.h"
#include "agents/ef_httpc.h"
#include "base/ef_log.h"
#include "cli/cli.h"

static const char *const ef_app_usage_text =
            "usage: edgefed app serve --listen ADDR:PORT [--name NAME] [--kind KIND] [--mec MEC] [--relay]\n"
            "                        [--exit-with-parent]\n"
            "       edgefed app call URL [--netns NS] [--expect NAME] [--count N] [--timeout-ms MS]\n"
            "\n"
            "serve: a small HTTP service (what a provider deploys for a consumer):\n"
            "  GET / -> {\"app\":\"edgefed-app\",\"service\":NAME,\"kind\":KIND,\"mec\":MEC,\"count\":N}\n"
            "  GET /health -> ok. With --relay (the consumer's app; listen on loopback):\n"
            "  GET /relay?to=A.B.C.D:PORT asks that app for GET / and answers its answer.\n"
            "  Runs until SIGTERM or SIGINT (or, with --exit-with-parent,\n"
            "  until the process that started it ends).\n"
            "call: sends N (default 1) GET requests to URL (http://A.B.C.D:PORT/path), from inside\n"
            "  network namespace NS if given; prints each answer; exits 0 only if every answer\n"
            "  is 200 (and, with --expect, names service NAME).\n";

static int ef_app_serve_cmd(int argc, char **argv)
{
    static const char *const opts[] = {"listen=", "name=", "kind=", "mec=", "relay", "exit-with-parent", NULL};
    int checked = ef_cli_check(argc, argv, ef_app_usage_text, opts, 0);
    if (checked >= 0) return checked;
    const char *listen = ef_cli_opt(argc, argv, "listen", NULL);
    uint32_t ip;
    uint16_t port;
    if (!listen || ef_httpc_parse_hostport(listen, &ip, &port)) {
        fputs(ef_app_usage_text, stderr);
        return 2;
    }
    /* Block the stop signals before the server thread starts, then wait for one. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    ef_app *app;
    int err = ef_app_start(&app, ip, port, ef_cli_opt(argc, argv, "name", "app"),
                           ef_cli_opt(argc, argv, "kind", "generic"), ef_cli_opt(argc, argv, "mec", ""),
                           ef_cli_flag(argc, argv, "relay"));
    if (err) {
        fprintf(stderr, "edgefed app: cannot serve on %s: %s\n", listen, ef_strerror(err));
        return 1;
    }
    printf("edgefed app: serving on %s\n", listen);
    fflush(stdout);
    /* With --exit-with-parent (what the MEO driver passes) the app also ends when
     * the process that started it is gone, so a crashed orchestrator leaves no app. */
    int watch = ef_cli_flag(argc, argv, "exit-with-parent");
    pid_t parent = getppid();
    struct timespec tick = {.tv_sec = 0, .tv_nsec = 200 * 1000000L};
    for (;;) {
        int sig = sigtimedwait(&set, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT) break;
        if (watch && getppid() != parent) break;
    }
    ef_app_stop(app);
    return 0;
}

static int ef_app_call_cmd(int argc, char **argv)
{
    static const char *const opts[] = {"netns=", "expect=", "count=", "timeout-ms=", NULL};
    int checked = ef_cli_check(argc, argv, ef_app_usage_text, opts, 1);
    if (checked >= 0) return checked;
    if (argc < 2 || argv[1][0] == '-') {
        fputs(ef_app_usage_text, stderr);
        return 2;
    }
    uint32_t ip;
    uint16_t port;
    char path[EF_HTTPC_PATH_MAX];
    if (ef_httpc_parse_url(argv[1], &ip, &port, path, sizeof path)) {
        fprintf(stderr, "edgefed app call: bad URL '%s' (want http://A.B.C.D:PORT/path)\n", argv[1]);
        return 2;
    }
    const char *netns = ef_cli_opt(argc, argv, "netns", NULL);
    const char *expect = ef_cli_opt(argc, argv, "expect", NULL);
    long count = strtol(ef_cli_opt(argc, argv, "count", "1"), NULL, 10);
    long timeout = strtol(ef_cli_opt(argc, argv, "timeout-ms", "3000"), NULL, 10);
    if (count < 1 || count > 1000000 || timeout < 1 || timeout > 600000) {
        fputs(ef_app_usage_text, stderr);
        return 2;
    }
    for (long i = 0; i < count; i++) {
        ef_httpc_resp r;
        uint64_t t0 = ef_now_mono_us();
        int err = ef_httpc_request(&r, netns, ip, port, "GET", path, NULL, NULL, 0, (uint32_t)timeout);
        if (err) {
            fprintf(stderr, "edgefed app call: %s: %s\n", argv[1], ef_strerror(err));
            return 1;
        }
        printf("%d %.3fms %s\n", r.status, (ef_now_mono_us() - t0) / 1000.0, r.body);
        int ok = r.status == 200;
        if (ok && expect) {
            char want[128];
            snprintf(want, sizeof want, "\"service\":\"%s\"", expect);
            ok = strstr(r.body, want) != NULL;
            if (!ok) fprintf(stderr, "edgefed app call: answer does not name service %s\n", expect);
        }
        ef_httpc_resp_free(&r);
        if (!ok) return 1;
    }
    return 0;
}

int ef_cmd_app(int argc, char **argv)
{
    if (argc < 2 || (ef_cli_wants_help(argc, argv))) {
        fputs(ef_app_usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "serve")) return ef_app_serve_cmd(argc - 1, argv + 1);
    if (!strcmp(argv[1], "call")) return ef_app_call_cmd(argc - 1, argv + 1);
    fputs(ef_app_usage_text, stderr);
    return 2;
}
