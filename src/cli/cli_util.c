/* cli_util.c: option parsing and usage helpers shared by the subcommands. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

bool ef_cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return true;
    return false;
}

const char *ef_cli_opt(int argc, char **argv, const char *name, const char *def)
{
    size_t n = strlen(name);
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) || strncmp(argv[i] + 2, name, n)) continue;
        const char *rest = argv[i] + 2 + n;
        if (*rest == '=') return rest + 1;
        if (*rest == 0 && i + 1 < argc) return argv[i + 1];
    }
    return def;
}

bool ef_cli_flag(int argc, char **argv, const char *name)
{
    size_t n = strlen(name);
    for (int i = 1; i < argc; i++)
        if (!strncmp(argv[i], "--", 2) && !strncmp(argv[i] + 2, name, n) && argv[i][2 + n] == 0)
            return true;
    return false;
}

int ef_cli_required(int argc, char **argv, const char *usage, const char *name, const char **value)
{
    *value = NULL;
    if (ef_cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    *value = ef_cli_opt(argc, argv, name, NULL);
    if (!*value) {
        fputs(usage, stderr);
        return 2;
    }
    return -1;
}
