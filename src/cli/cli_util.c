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

/* The entry of spec naming option `name` (len bytes), or NULL. */
static const char *cli_spec_find(const char *const *spec, const char *name, size_t len)
{
    for (size_t i = 0; spec && spec[i]; i++) {
        size_t n = strcspn(spec[i], "=");
        if (n == len && !strncmp(spec[i], name, len)) return spec[i];
    }
    return NULL;
}

/* The command as its usage names it: "edgefed meo topo" for argv[0] "topo" in
 * "usage: edgefed meo selftest ...\n       edgefed meo topo create ...". */
static void cli_name(const char *usage, const char *cmd, char *buf, size_t cap)
{
    size_t cl = strlen(cmd);
    for (const char *p = strstr(usage, "edgefed"); p; p = strstr(p + 1, "edgefed")) {
        size_t n = strcspn(p, "\n");
        for (const char *w = p; w && w < p + n; w = memchr(w + 1, ' ', (size_t)(p + n - w - 1))) {
            const char *word = *w == ' ' ? w + 1 : w;
            if (!strncmp(word, cmd, cl) && (word[cl] == ' ' || word[cl] == '\n' || word[cl] == 0)) {
                size_t len = (size_t)(word + cl - p);
                snprintf(buf, cap, "%.*s", (int)(len < cap ? len : cap - 1), p);
                return;
            }
            if (word[0] == '[' || word[0] == '-') break;
        }
    }
    snprintf(buf, cap, "edgefed %s", cmd);
}

int ef_cli_check(int argc, char **argv, const char *usage, const char *const *spec, int max_pos)
{
    char name_buf[96];
    cli_name(usage, argv[0], name_buf, sizeof name_buf);
    const char *cmd = name_buf;
    if (ef_cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    int pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) || !a[2]) {
            if (++pos > max_pos) {
                fprintf(stderr, "%s: unexpected argument '%s'\n", cmd, a);
                fputs(usage, stderr);
                return 2;
            }
            continue;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const char *s = cli_spec_find(spec, name, len);
        if (!s) {
            fprintf(stderr, "%s: unknown option '--%.*s'\n", cmd, (int)len, name);
            fputs(usage, stderr);
            return 2;
        }
        bool valued = s[len] == '=';
        if (!valued && eq) {
            fprintf(stderr, "%s: option '--%s' takes no value\n", cmd, s);
            fputs(usage, stderr);
            return 2;
        }
        if (valued && !eq && ++i >= argc) {
            fprintf(stderr, "%s: option '--%.*s' needs a value\n", cmd, (int)len, name);
            fputs(usage, stderr);
            return 2;
        }
    }
    return -1;
}
