/* ef_explorer.h: the explorer page's files (the files under src/api/explorer), embedded in the
 * binary at build time by cmake/ef_embed.cmake as C arrays. */
#ifndef EF_EXPLORER_H
#define EF_EXPLORER_H

#include <stddef.h>

#define EF_EXPLORER_ASSETS_MAX 8

typedef struct ef_explorer_asset {
    const char *name;             /* file name, e.g. "index.html" */
    const char *ctype;            /* its Content-Type */
    const unsigned char *data;
    size_t len;
} ef_explorer_asset;

/* Generated (build dir, ef_explorer_assets.c); at most EF_EXPLORER_ASSETS_MAX. */
extern const ef_explorer_asset ef_explorer_assets[];
extern const size_t ef_explorer_assets_len;

#endif
