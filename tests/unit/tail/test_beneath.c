/* test_beneath.c - opening beneath a directory without following symlinks
 * (src/tail/beneath.c): openat2 and the openat walk give the same answers,
 * including after a directory on the way is swapped for a symlink. */
#define _GNU_SOURCE /* O_PATH */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tail/beneath.h"

static char base[256];
static int rootfd = -1;

static void path(char *p, size_t cap, const char *rel)
{
    snprintf(p, cap, "%s/%s", base, rel);
}

static void touch(const char *rel, const char *text)
{
    char p[512];
    path(p, sizeof p, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    char p[512], q[512];
    snprintf(base, sizeof base, "/tmp/logship-test-beneath.XXXXXX");
    assert_non_null(mkdtemp(base));
    const char *dirs[] = {"root", "root/a", "root/a/b", "out"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        path(p, sizeof p, dirs[i]);
        assert_int_equal(mkdir(p, 0755), 0);
    }
    touch("root/a/b/f.log", "inside\n");
    touch("root/top.log", "top\n");
    touch("out/f.log", "outside\n");
    path(p, sizeof p, "root/top.log");
    path(q, sizeof q, "root/a/abs");
    assert_int_equal(symlink(p, q), 0); /* absolute, to inside */
    path(q, sizeof q, "root/a/rel");
    assert_int_equal(symlink("b/f.log", q), 0); /* relative, inside */
    path(q, sizeof q, "root/up");
    assert_int_equal(symlink("..", q), 0);
    path(p, sizeof p, "root");
    rootfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(rootfd >= 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    close(rootfd);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", base);
    return system(cmd);
}

typedef int (*open_fn)(int, const char *, int);

/* The file's first line through fn, or "" with errno kept. */
static const char *read_via(open_fn fn, const char *rel, int *err)
{
    static char line[64];
    line[0] = '\0';
    int fd = fn(rootfd, rel, O_RDONLY);
    *err = fd < 0 ? errno : 0;
    if (fd >= 0) {
        ssize_t n = read(fd, line, sizeof line - 1);
        line[n > 0 ? n : 0] = '\0';
        close(fd);
    }
    return line;
}

static void both(const char *rel, const char *want, int want_err)
{
    open_fn fns[2] = {beneath_open, beneath_open_walk};
    for (int i = 0; i < 2; i++) {
        int err;
        const char *got = read_via(fns[i], rel, &err);
        if (err != want_err || strcmp(got, want) != 0)
            fail_msg("%s '%s': got '%s' errno %d (%s), want '%s' errno %d",
                     i ? "walk" : "beneath_open", rel, got, err, strerror(err), want, want_err);
    }
}

static void test_plain_paths(void **state)
{
    (void)state;
    both("a/b/f.log", "inside\n", 0);
    both("./a//b/./f.log", "inside\n", 0);
    both("top.log", "top\n", 0);
    both("a/b/missing", "", ENOENT);
    both("top.log/x", "", ENOTDIR);
    both("top.log/", "", ENOTDIR);
}

static void test_refusals(void **state)
{
    (void)state;
    both("a/abs", "", ELOOP); /* a symlink, even one that stays inside */
    both("a/rel", "", ELOOP);
    both("up/out/f.log", "", ELOOP);
    both("a/../top.log", "", EXDEV);
    both("..", "", EXDEV);
    both("/etc/passwd", "", EXDEV);
    /* O_PATH would open a final symlink itself: refused the same */
    open_fn fns[2] = {beneath_open, beneath_open_walk};
    for (int i = 0; i < 2; i++) {
        errno = 0;
        assert_int_equal(fns[i](rootfd, "a/abs", O_PATH), -1);
        assert_int_equal(errno, ELOOP);
        errno = 0;
        assert_int_equal(fns[i](rootfd, "up/", O_PATH | O_DIRECTORY), -1);
        assert_int_equal(errno, ELOOP);
        int fd = fns[i](rootfd, "a/b", O_PATH | O_DIRECTORY);
        assert_true(fd >= 0);
        close(fd);
        fd = fns[i](rootfd, "", O_PATH | O_DIRECTORY);
        assert_true(fd >= 0);
        close(fd);
    }
}

static void test_parent_swapped_for_symlink(void **state)
{
    (void)state;
    char p[512], q[512];
    path(p, sizeof p, "root/a");
    path(q, sizeof q, "root/a.old");
    assert_int_equal(rename(p, q), 0);
    path(q, sizeof q, "out");
    assert_int_equal(mkdir(strcat(q, "/b"), 0755), 0);
    touch("out/b/f.log", "secret\n");
    path(q, sizeof q, "out");
    assert_int_equal(symlink(q, p), 0); /* root/a -> out */
    /* O_NOFOLLOW alone would open it: only the last component is guarded */
    char full[512];
    path(full, sizeof full, "root/a/b/f.log");
    int fd = open(full, O_RDONLY | O_NOFOLLOW);
    assert_true(fd >= 0);
    close(fd);
    both("a/b/f.log", "", ELOOP);
    both("a.old/b/f.log", "inside\n", 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_paths),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_parent_swapped_for_symlink),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    printf("openat2: %s\n", beneath_has_openat2() ? "used" : "missing, walked");
    return rc;
}
