/* ef_fs.c: recursive removal of a directory tree (nftw, depth first, links not
 * followed) and creation of one with its parents. */
#include "ef_fs.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

static _Thread_local int ef_fs_failed;   /* nftw's callback takes no argument */

static int ef_fs_remove_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    if (remove(path) && errno != ENOENT) ef_fs_failed = 1;
    return 0;   /* carry on: remove what can be removed */
}

int ef_fs_remove_tree(const char *path)
{
    if (!path || !*path) return EF_EINVAL;
    ef_fs_failed = 0;
    if (nftw(path, ef_fs_remove_one, EF_FS_FDS_MAX, FTW_DEPTH | FTW_PHYS))
        return errno == ENOENT ? 0 : EF_EIO;
    return ef_fs_failed ? EF_EIO : 0;
}

static int ef_fs_mkdir_one(const char *path, unsigned mode)
{
    struct stat st;
    if (mkdir(path, (mode_t)mode) == 0) return 0;
    if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return 0;
    return EF_EIO;
}

int ef_fs_mkdirs(const char *path, unsigned mode)
{
    char buf[PATH_MAX];
    size_t n = path ? strlen(path) : 0;
    if (!n || n >= sizeof buf) return EF_EINVAL;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i < n; i++) {
        if (buf[i] != '/') continue;
        buf[i] = 0;
        int rc = ef_fs_mkdir_one(buf, mode);
        buf[i] = '/';
        if (rc) return rc;
    }
    return ef_fs_mkdir_one(buf, mode);
}
