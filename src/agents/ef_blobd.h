/* ef_blobd.h: a hash-addressed blob store and its HTTP server (libmicrohttpd), by
 * which the programs of a provenance pipeline pass data: only the hash goes on the
 * ledger, the bytes are fetched here by hash and checked by the consumer.
 *
 * A blob is a file DIR/HASH, HASH the 64 hex digits of BLAKE2b-256(EF_TAG_DATA ||
 * bytes) (the prov contract's data hash). Routes:
 *   GET /blobs/HASH   200 application/octet-stream, the file's bytes as they are
 *                     now (the server does not check them: the consumer does), 404
 *                     if absent, 400 if HASH is not 64 lower-case hex digits
 *   GET /health       200 {"status":"ok","pid":PID}
 * Threading: the server runs on libmicrohttpd's threads; start and stop from one
 * controlling thread.
 */
#ifndef EF_BLOBD_H
#define EF_BLOBD_H

#include <stddef.h>
#include <stdint.h>

#include "base/ef_crypto.h"

#define EF_BLOBD_BLOB_MAX (16u * 1024u * 1024u)   /* largest blob stored or served */
#define EF_BLOBD_DIR_MAX 400                      /* directory path bytes */

typedef struct ef_blobd ef_blobd;

/* Writes data into dir as a blob (dir/HASH, through a temporary file and rename);
 * fills hash_hex (65 bytes). Returns 0, EF_ETOOBIG, EF_EINVAL or EF_EIO. */
int ef_blobd_put(const char *dir, const void *data, size_t len, char hash_hex[2 * EF_HASH_SIZE + 1]);

/* Serves dir on ip:port (host order). Errors: EF_EINVAL, EF_ENET, EF_ENOMEM. */
int ef_blobd_start(ef_blobd **out, const char *dir, uint32_t ip, uint16_t port) EF_MUST_USE;
/* Blobs served so far. */
uint64_t ef_blobd_served(const ef_blobd *b);
void ef_blobd_stop(ef_blobd *b);

#endif
