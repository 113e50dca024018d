/* cli_admin.h: a client of a node's admin socket (protocol in src/node/ef_node_admin.c),
 * shared by `edgefed submit`, `status`, `testnet status`, the load generator and the bench. */
#ifndef EF_CLI_ADMIN_H
#define EF_CLI_ADMIN_H

#include <stddef.h>

/* Buffered line reader over a socket. */
typedef struct ef_admin_reader {
    int fd;
    size_t len, off;
    char buf[1 << 20];
} ef_admin_reader;

/* "<home>/config.json" into out. 0 or EF_ETOOBIG. */
int ef_cli_config_path(char *out, size_t cap, const char *home);
/* Connects to the admin socket named in <home>/config.json: a socket fd, or -1. */
int ef_admin_connect(const char *home);
/* Next line (NUL-terminated, without the newline; valid until the next call).
 * 0, EF_ECLOSED (EOF or error), EF_ETOOBIG. Blocks. */
int ef_admin_readline(ef_admin_reader *r, char **line);
/* Writes all of s. 0 or EF_EIO. */
int ef_admin_write(int fd, const char *s, size_t len);

#endif
