/* cmd_wal.c: `edgefed wal check|recover`: inspect a validator's write-ahead
 * record of its own votes, and recover from damage to it (docs/node.md). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/ef_err.h"
#include "cli/cli.h"
#include "cli/cli_admin.h"
#include "consensus/ef_wal.h"
#include "node/ef_node.h"

static const char *ef_wal_usage =
    "usage: edgefed wal check --home DIR\n"
    "       edgefed wal recover --home DIR\n"
    "  check:   reads the node's WAL (DIR's data_dir/wal) and says whether it is\n"
    "           intact, ends in a torn last write (cut on the next start), or is\n"
    "           damaged (the node refuses to start); exit 0 if the node can start\n"
    "  recover: for a damaged WAL: keeps a copy (wal.damaged-UNIXTIME) and cuts\n"
    "           the WAL to its intact records. Stop the node first, and restart it\n"
    "           only once the other validators have committed past the height it was\n"
    "           at: votes recorded after the damage are lost (docs/node.md)\n";

/* Copies src to dst (new file, mode 0600) and syncs it. */
static int ef_wal_copy(const char *src, const char *dst)
{
    int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, rc = EF_EIO;
    if (in < 0) return EF_EIO;
    out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) goto cleanup;
    char buf[65536];
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) goto cleanup;
        if (n == 0) break;
        if (write(out, buf, (size_t)n) != n) goto cleanup;
    }
    rc = fsync(out) ? EF_EIO : 0;
cleanup:
    if (out >= 0 && close(out)) rc = EF_EIO;
    close(in);
    return rc;
}

int ef_cmd_wal(int argc, char **argv)
{
    if (ef_cli_wants_help(argc, argv)) {
        fputs(ef_wal_usage, stdout);
        return 0;
    }
    const char *home = NULL;
    if (argc == 4 && !strcmp(argv[2], "--home")) home = argv[3];
    else if (argc == 3 && !strncmp(argv[2], "--home=", 7)) home = argv[2] + 7;
    bool recover = argc >= 2 && !strcmp(argv[1], "recover");
    if (!home || !*home || (!recover && strcmp(argv[1], "check"))) {
        fputs(ef_wal_usage, stderr);
        return 2;
    }
    char path[EF_NODE_PATH_MAX], err[256];
    if (ef_cli_config_path(path, sizeof path, home)) {
        fprintf(stderr, "edgefed wal: path too long\n");
        return 2;
    }
    ef_node_config cfg;
    if (ef_node_config_load(&cfg, path, err, sizeof err)) {
        fprintf(stderr, "edgefed wal: %s\n", err);
        return 1;
    }
    char wal[EF_NODE_PATH_MAX + 8];
    snprintf(wal, sizeof wal, "%s/wal", cfg.data_dir);
    ef_node_config_free(&cfg);
    ef_wal_file_report rep;
    int rc = ef_wal_file_check(wal, &rep);
    if (rc) {
        fprintf(stderr, "edgefed wal: cannot read %s: %s\n", wal, ef_strerror(rc));
        return 1;
    }
    const char *state = rep.corrupt ? "damaged" : rep.intact_bytes < rep.size ? "torn last write" : "intact";
    printf("%s: %s: %llu bytes, %llu intact records (%llu bytes)\n", wal, state,
           (unsigned long long)rep.size, (unsigned long long)rep.records,
           (unsigned long long)rep.intact_bytes);
    if (!recover) return rep.corrupt ? 1 : 0;
    if (!rep.corrupt) {
        printf("nothing to recover: the node cuts a torn last write itself\n");
        return 0;
    }
    char copy[sizeof wal + 32];
    snprintf(copy, sizeof copy, "%s.damaged-%lld", wal, (long long)time(NULL));
    if ((rc = ef_wal_copy(wal, copy))) {
        fprintf(stderr, "edgefed wal: cannot copy %s to %s: %s\n", wal, copy, ef_strerror(rc));
        return 1;
    }
    int fd = open(wal, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)rep.intact_bytes) || fsync(fd)) {
        fprintf(stderr, "edgefed wal: cannot cut %s: %s (the copy %s is kept)\n", wal, strerror(errno), copy);
        if (fd >= 0) close(fd);
        return 1;
    }
    close(fd);
    printf("kept a copy in %s; cut %s to its %llu intact records\n"
           "restart the node only once the other validators have committed past the height it was at\n",
           copy, wal, (unsigned long long)rep.records);
    return 0;
}
