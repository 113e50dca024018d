/* ef_fs.h: file-system helpers the commands and tests share (libc calls, no shell).
 *
 * Threading: thread-safe (the walk keeps its state per thread and never changes
 * the working directory).
 */
#ifndef EF_FS_H
#define EF_FS_H

#include "ef_err.h"

#define EF_FS_FDS_MAX 32   /* directory descriptors the walk keeps open at once */

/* Removes path and, if it is a directory, everything under it, as `rm -rf path`
 * does: depth first, symbolic links removed but never followed. A path that does
 * not exist is not an error. Returns 0, EF_EINVAL (NULL or empty path) or EF_EIO
 * (something could not be removed; the rest is still removed). */
int ef_fs_remove_tree(const char *path) EF_MUST_USE;

/* Creates directory path and its missing parents with mode (before umask), as
 * `mkdir -p` does; an existing directory is fine. Returns 0, EF_EINVAL (NULL,
 * empty or longer than PATH_MAX) or EF_EIO (a part could not be made, or exists
 * and is not a directory). */
int ef_fs_mkdirs(const char *path, unsigned mode) EF_MUST_USE;

#endif
