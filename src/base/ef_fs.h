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

#endif
