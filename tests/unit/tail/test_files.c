/* test_files.c - path resolution under tail roots (src/tail/files.c): only
 * regular files inside a root, whatever the path or its symlinks say. */
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

#include "common/buf.h"
#include "tail/files.h"

static char base[256];
static file_roots_t roots;

static void touch(const char *rel, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    char p[512], q[512];
    snprintf(base, sizeof base, "/tmp/logship-test-files.XXXXXX");
    assert_non_null(mkdtemp(base));
    const char *dirs[] = {"a", "a/sub", "b", "out", "b2", "b2/b"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", base, dirs[i]);
        assert_int_equal(mkdir(p, 0755), 0);
    }
    touch("a/app.log", "x\n");
    touch("a/sub/deep.log", "y\n");
    touch("out/secret", "s\n");
    snprintf(p, sizeof p, "%s/out/secret", base);
    snprintf(q, sizeof q, "%s/a/escape", base);
    assert_int_equal(symlink(p, q), 0);
    snprintf(p, sizeof p, "%s/a/app.log", base);
    snprintf(q, sizeof q, "%s/a/sub/alias", base);
    assert_int_equal(symlink(p, q), 0);
    snprintf(p, sizeof p, "%s/out", base);
    snprintf(q, sizeof q, "%s/a/outdir", base);
    assert_int_equal(symlink(p, q), 0);
    touch("out/linked", "l\n");
    snprintf(p, sizeof p, "%s/out/linked", base);
    snprintf(q, sizeof q, "%s/a/hard.log", base);
    assert_int_equal(link(p, q), 0);
    char r[3][4096];
    snprintf(r[0], sizeof r[0], "%s/a", base);
    snprintf(r[1], sizeof r[1], "%s/b", base);
    snprintf(r[2], sizeof r[2], "%s/b2/b", base);
    char err[256];
    assert_int_equal(files_roots_init(&roots, (const char(*)[4096])r, 3, err, sizeof err), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    files_roots_free(&roots);
    snprintf(cmd, sizeof cmd, "rm -rf %s", base);
    return system(cmd);
}

static int ok(const char *rel, const char *want_suffix)
{
    char out[4096];
    const char *why = NULL;
    if (files_resolve(&roots, rel, out, sizeof out, &why))
        return 0;
    size_t n = strlen(out), m = strlen(want_suffix);
    return n >= m && strcmp(out + n - m, want_suffix) == 0;
}

static const char *refused(const char *rel)
{
    char out[4096];
    const char *why = NULL;
    if (files_resolve(&roots, rel, out, sizeof out, &why) == 0)
        return NULL;
    return why;
}

static void test_names_are_unique(void **state)
{
    (void)state;
    assert_int_equal(roots.n, 3);
    assert_string_equal(roots.r[0].name, "a");
    assert_string_equal(roots.r[1].name, "b");
    assert_string_equal(roots.r[2].name, "b-2");
}

static void test_files_inside_resolve(void **state)
{
    (void)state;
    assert_true(ok("a/app.log", "/a/app.log"));
    assert_true(ok("a/sub/deep.log", "/a/sub/deep.log"));
    assert_true(ok("a/./app.log", "/a/app.log"));
    /* a symlink that stays inside resolves to its target */
    assert_true(ok("a/sub/alias", "/a/app.log"));
}

static void test_escapes_are_refused(void **state)
{
    (void)state;
    assert_non_null(refused("a/escape"));
    assert_non_null(strstr(refused("a/escape"), "leaves its root"));
    assert_non_null(refused("a/outdir/secret"));
    assert_non_null(refused("a/../out/secret"));
    assert_non_null(strstr(refused("a/../out/secret"), ".."));
    assert_non_null(refused("a/sub/../../out/secret"));
    assert_non_null(refused("a/.."));
    assert_non_null(refused("/etc/passwd"));
    assert_non_null(refused("a//etc/passwd"));
    assert_non_null(refused("a/sub")); /* a directory */
    assert_non_null(refused("a/"));
    assert_non_null(refused("a"));
    assert_non_null(refused("zz/app.log"));
    assert_non_null(refused("a/missing"));
    assert_non_null(refused("b/../a/app.log"));
    /* a hard link could name any file of the filesystem */
    assert_non_null(refused("a/hard.log"));
    assert_non_null(strstr(refused("a/hard.log"), "hard link"));
}

static void test_listing(void **state)
{
    (void)state;
    buf_t b = BUF_INIT;
    files_list_json(&roots, &b);
    buf_putc(&b, '\0');
    /* files and in-root symlinks; no escapes, no hard links */
    assert_non_null(strstr(b.data, "\"path\":\"app.log\""));
    assert_non_null(strstr(b.data, "\"path\":\"sub/deep.log\""));
    assert_non_null(strstr(b.data, "\"path\":\"sub/alias\""));
    assert_null(strstr(b.data, "escape"));
    assert_null(strstr(b.data, "secret"));
    assert_null(strstr(b.data, "hard.log"));
    assert_non_null(strstr(b.data, "\"truncated\":false"));
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_are_unique),
        cmocka_unit_test(test_files_inside_resolve),
        cmocka_unit_test(test_escapes_are_refused),
        cmocka_unit_test(test_listing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
