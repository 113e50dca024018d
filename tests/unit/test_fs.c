/* test_fs.c: ef_fs_remove_tree removes a tree depth first and never follows a link out of it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/ef_fs.h"

#define T_PATH_MAX 600

/* A fresh directory under $EF_TEST_TMP (or /tmp). */
static void t_tmpdir(char out[T_PATH_MAX], const char *tag)
{
    const char *base = getenv("EF_TEST_TMP");
    if (!base) base = "/tmp";
    assert_true(mkdir(base, 0700) == 0 || errno == EEXIST);
    snprintf(out, T_PATH_MAX, "%s/%s-%d-XXXXXX", base, tag, (int)getpid());
    assert_non_null(mkdtemp(out));
}

static void t_file(const char *dir, const char *name)
{
    char path[T_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("x\n", f);
    fclose(f);
}

static bool t_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static void test_remove_tree(void **state)
{
    (void)state;
    char root[T_PATH_MAX], outside[T_PATH_MAX], path[T_PATH_MAX + 32];
    t_tmpdir(root, "fs-tree");
    t_tmpdir(outside, "fs-outside");
    t_file(outside, "keep");
    /* root/a/b/c, files at each level, an empty dir, and links to outside */
    snprintf(path, sizeof path, "%s/a", root);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/a/b", root);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/a/b/c", root);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/empty", root);
    assert_int_equal(mkdir(path, 0700), 0);
    t_file(root, "f");
    t_file(root, "a/f");
    t_file(root, "a/b/c/f");
    snprintf(path, sizeof path, "%s/a/dirlink", root);
    assert_int_equal(symlink(outside, path), 0);
    snprintf(path, sizeof path, "%s/a/b/dangling", root);
    assert_int_equal(symlink("/nonexistent/edgefed", path), 0);

    assert_int_equal(ef_fs_remove_tree(root), 0);
    assert_false(t_exists(root));
    snprintf(path, sizeof path, "%s/keep", outside);
    assert_true(t_exists(path));   /* the link was removed, not followed */

    /* a plain file, then paths that are gone or empty */
    snprintf(path, sizeof path, "%s/keep", outside);
    assert_int_equal(ef_fs_remove_tree(path), 0);
    assert_false(t_exists(path));
    assert_int_equal(ef_fs_remove_tree(outside), 0);
    assert_false(t_exists(outside));
    assert_int_equal(ef_fs_remove_tree(outside), 0);
    assert_int_equal(ef_fs_remove_tree(""), EF_EINVAL);
    assert_int_equal(ef_fs_remove_tree(NULL), EF_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_remove_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
