/* ef_blobd.c: the hash-addressed blob store and its HTTP server (see ef_blobd.h). */
#include "agents/ef_blobd.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/ef_codec.h"

#define EF_BLOBD_CONN_MAX 64
#define EF_BLOBD_THREAD_STACK (256u * 1024u)

struct ef_blobd {
    struct MHD_Daemon *mhd;
    char dir[EF_BLOBD_DIR_MAX];
    atomic_uint_fast64_t served;
};

static int ef_blobd_write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) return EF_EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int ef_blobd_put(const char *dir, const void *data, size_t len, char hash_hex[2 * EF_HASH_SIZE + 1])
{
    if (!dir || strlen(dir) >= EF_BLOBD_DIR_MAX) return EF_EINVAL;
    if (len > EF_BLOBD_BLOB_MAX) return EF_ETOOBIG;
    ef_hash h;
    ef_hash_tagged(&h, EF_TAG_DATA, data, len);
    ef_hex(hash_hex, h.b, EF_HASH_SIZE);
    char path[EF_BLOBD_DIR_MAX + 80], tmp[EF_BLOBD_DIR_MAX + 96];
    snprintf(path, sizeof path, "%s/%s", dir, hash_hex);
    snprintf(tmp, sizeof tmp, "%s/.%s.%d.tmp", dir, hash_hex, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return EF_EIO;
    int rc = ef_blobd_write_all(fd, data, len);
    if (close(fd) && rc == 0) rc = EF_EIO;
    if (rc == 0 && rename(tmp, path)) rc = EF_EIO;
    if (rc) unlink(tmp);
    return rc;
}

static enum MHD_Result ef_blobd_reply(struct MHD_Connection *c, unsigned status, const char *text)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static bool ef_blobd_hash_ok(const char *s)
{
    if (strlen(s) != 2 * EF_HASH_SIZE) return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return false;
    return true;
}

static enum MHD_Result ef_blobd_handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                       const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload;
    ef_blobd *b = cls;
    if (!*con_cls) {
        *con_cls = b;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "GET")) return ef_blobd_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "{\"error\":\"GET only\"}");
    if (!strcmp(url, "/health")) {
        char text[64];
        snprintf(text, sizeof text, "{\"status\":\"ok\",\"pid\":%d}", (int)getpid());
        return ef_blobd_reply(c, MHD_HTTP_OK, text);
    }
    if (strncmp(url, "/blobs/", 7)) return ef_blobd_reply(c, MHD_HTTP_NOT_FOUND, "{\"error\":\"not found\"}");
    if (!ef_blobd_hash_ok(url + 7)) return ef_blobd_reply(c, MHD_HTTP_BAD_REQUEST, "{\"error\":\"bad hash\"}");
    char path[EF_BLOBD_DIR_MAX + 80];
    snprintf(path, sizeof path, "%s/%s", b->dir, url + 7);
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0) return ef_blobd_reply(c, MHD_HTTP_NOT_FOUND, "{\"error\":\"no such blob\"}");
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > (off_t)EF_BLOBD_BLOB_MAX) {
        close(fd);
        return ef_blobd_reply(c, MHD_HTTP_NOT_FOUND, "{\"error\":\"no such blob\"}");
    }
    /* the response owns fd and closes it */
    struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/octet-stream");
    atomic_fetch_add(&b->served, 1);
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}

int ef_blobd_start(ef_blobd **out, const char *dir, uint32_t ip, uint16_t port)
{
    *out = NULL;
    if (!dir || strlen(dir) >= EF_BLOBD_DIR_MAX || port == 0) return EF_EINVAL;
    ef_blobd *b = calloc(1, sizeof *b);
    if (!b) return EF_ENOMEM;
    snprintf(b->dir, sizeof b->dir, "%s", dir);
    atomic_init(&b->served, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(ip)};
    b->mhd = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
                              port, NULL, NULL, ef_blobd_handle, b, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned)EF_BLOBD_CONN_MAX, MHD_OPTION_CONNECTION_TIMEOUT,
                              (unsigned)10, MHD_OPTION_THREAD_STACK_SIZE, (size_t)EF_BLOBD_THREAD_STACK, MHD_OPTION_END);
    if (!b->mhd) {
        free(b);
        return EF_ENET;
    }
    *out = b;
    return 0;
}

uint64_t ef_blobd_served(const ef_blobd *b)
{
    return atomic_load(&((ef_blobd *)b)->served);
}

void ef_blobd_stop(ef_blobd *b)
{
    if (!b) return;
    MHD_stop_daemon(b->mhd);
    free(b);
}
