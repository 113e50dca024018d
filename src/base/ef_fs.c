/* ef_fs.c: recursive removal of a directory tree (nftw, depth first, links not followed). */
#include "ef_fs.h"

#include <errno.h>
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
