/* cmd_keys.c: `edgefed version` and `edgefed keygen`. */
#include <stdio.h>
#include <string.h>

#include "base/ef_codec.h"
#include "base/ef_crypto.h"
#include "cli/cli.h"

int ef_cmd_version(int argc, char **argv)
{
    static const char *const usage = "usage: edgefed version\n  prints the edgefed version\n";
    int checked = ef_cli_check(argc, argv, usage, NULL, 0);
    if (checked >= 0) return checked;
    printf("edgefed %s\n", EF_VERSION);
    return 0;
}

int ef_cmd_keygen(int argc, char **argv)
{
    const char *usage = "usage: edgefed keygen --out FILE\n"
                        "  writes a new Ed25519 key (hex seed, mode 0600) to FILE and\n"
                        "  prints its public key in hex\n";
    static const char *const opts[] = {"out=", NULL};
    int checked = ef_cli_check(argc, argv, usage, opts, 0);
    if (checked >= 0) return checked;
    const char *out;
    int early = ef_cli_required(argc, argv, usage, "out", &out);
    if (early >= 0) return early;
    ef_keypair kp;
    ef_keypair_generate(&kp);
    int rc = ef_key_save(out, &kp);
    if (rc) {
        fprintf(stderr, "edgefed keygen: cannot write %s: %s\n", out, ef_strerror(rc));
        return 1;
    }
    char hex[2 * EF_PUB_SIZE + 1];
    ef_hex(hex, kp.pub.b, EF_PUB_SIZE);
    printf("%s\n", hex);
    return 0;
}
