/* fuzz_files_resolve.c - file tail path resolution (src/tail/files.c,
 * src/tail/beneath.c) on arbitrary relative paths, in process. A small tree
 * is built once in a temporary directory: two roots ("logs", "other") with
 * files, symlinks that stay inside (relative, absolute, to a directory, to
 * the directory itself), symlinks out, a ".." symlink, a hard link to a file
 * outside, a fifo; and "out" beside them with the secrets. The input is a
 * request path "<root name>/<path>". Checks:
 *   - files_resolve either refuses it with a reason, or gives a canonical
 *     path (realpath of itself) of a regular file with one link, under the
 *     root the request named, that opens beneath the root;
 *   - beneath_open and the openat walk it falls back to agree on the path
 *     inside the root (both fail with the same errno, or both open the same
 *     inode), and whatever they open is beneath the root.
 * The tree is removed at exit. */
#define _GNU_SOURCE /* O_PATH */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tail/beneath.h"
#include "tail/files.h"

static char base[64];
static file_roots_t roots;

static int rm_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(p);
}

static void cleanup(void)
{
    files_roots_free(&roots);
    if (base[0])
        nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void mk(const char *rel, int dir, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    if (dir) {
        if (mkdir(p, 0755))
            abort();
        return;
    }
    FILE *f = fopen(p, "w");
    if (!f)
        abort();
    fputs(text, f);
    fclose(f);
}

/* target: relative as given, or (abs) under base */
static void ln_s(const char *target, int abs, const char *rel)
{
    char t[512], p[512];
    if (abs)
        snprintf(t, sizeof t, "%s/%s", base, target);
    else
        snprintf(t, sizeof t, "%s", target);
    snprintf(p, sizeof p, "%s/%s", base, rel);
    if (symlink(t, p))
        abort();
}

static void setup(void)
{
    char p[512], q[512];
    snprintf(base, sizeof base, "/tmp/logship-fuzz-files.XXXXXX");
    if (!mkdtemp(base))
        abort();
    atexit(cleanup);
    mk("logs", 1, NULL);
    mk("logs/sub", 1, NULL);
    mk("other", 1, NULL);
    mk("out", 1, NULL);
    mk("logs/app.log", 0, "a\n");
    mk("logs/sub/deep.log", 0, "d\n");
    mk("other/x.log", 0, "x\n");
    mk("out/secret", 0, "s\n");
    mk("out/hard", 0, "h\n");
    ln_s("../app.log", 0, "logs/sub/alias");   /* inside, relative */
    ln_s("logs/app.log", 1, "logs/alias.log"); /* inside, absolute */
    ln_s("sub", 0, "logs/subdir");             /* a directory inside */
    ln_s(".", 0, "logs/loop");                 /* the directory itself */
    ln_s("..", 0, "logs/up");                  /* out, by ".." */
    ln_s("out/secret", 1, "logs/escape");      /* out, absolute */
    ln_s("../out", 0, "logs/outdir");          /* out, a directory */
    ln_s("../logs/app.log", 0, "other/cross"); /* into the other root */
    snprintf(p, sizeof p, "%s/out/hard", base);
    snprintf(q, sizeof q, "%s/logs/hard.log", base);
    if (link(p, q))
        abort();
    snprintf(p, sizeof p, "%s/logs/pipe", base);
    if (mkfifo(p, 0644))
        abort();
    char r[2][4096], err[256];
    snprintf(r[0], sizeof r[0], "%s/logs", base);
    snprintf(r[1], sizeof r[1], "%s/other", base);
    if (files_roots_init(&roots, (const char(*)[4096])r, 2, err, sizeof err))
        abort();
}

/* 1 when the open descriptor fd is the root's directory or beneath it (the
 * tree does not change, so the kernel's name for fd is exact). */
static int is_beneath(int fd, int root)
{
    char p[PATH_MAX], link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, p, sizeof p - 1);
    if (n <= 0)
        abort();
    p[n] = '\0';
    const char *r = roots.r[root].real;
    size_t rl = strlen(r);
    return strncmp(p, r, rl) == 0 && (p[rl] == '\0' || p[rl] == '/');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!base[0])
        setup();
    if (size >= 4000)
        return 0;
    char rel[4096];
    memcpy(rel, data, size);
    rel[size] = '\0';
    if (strlen(rel) != size)
        return 0; /* a URL path decodes to no NUL */

    char out[4096];
    const char *why = NULL;
    if (files_resolve(&roots, rel, out, sizeof out, &why) == 0) {
        const char *slash = strchr(rel, '/');
        int root = -1;
        for (int i = 0; i < roots.n; i++)
            if (slash && strlen(roots.r[i].name) == (size_t)(slash - rel) &&
                memcmp(roots.r[i].name, rel, (size_t)(slash - rel)) == 0)
                root = i;
        if (root < 0)
            abort(); /* resolved without naming a root */
        size_t rl = strlen(roots.r[root].real);
        if (strncmp(out, roots.r[root].real, rl) != 0 || out[rl] != '/' || !out[rl + 1])
            abort(); /* not under the root it named */
        char real[PATH_MAX];
        if (!realpath(out, real) || strcmp(real, out) != 0)
            abort(); /* not canonical */
        struct stat st;
        if (lstat(out, &st) || !S_ISREG(st.st_mode) || st.st_nlink != 1)
            abort(); /* a symlink, not a file, or a hard link */
        int fd = beneath_open(roots.r[root].fd, out + rl + 1, O_PATH);
        if (fd < 0 || !is_beneath(fd, root))
            abort();
        close(fd);
    } else if (!why || !*why) {
        abort(); /* refused without a reason */
    }

    /* beneath_open and the walk agree on the path inside the root */
    const char *slash = strchr(rel, '/');
    const char *inside = slash ? slash + 1 : rel;
    for (int i = 0; i < roots.n; i++) {
        int a = beneath_open(roots.r[i].fd, inside, O_PATH);
        int ea = errno;
        int b = beneath_open_walk(roots.r[i].fd, inside, O_PATH);
        int eb = errno;
        if ((a < 0) != (b < 0) || (a < 0 && ea != eb))
            abort();
        if (a >= 0) {
            struct stat sa, sb;
            if (fstat(a, &sa) || fstat(b, &sb) || sa.st_dev != sb.st_dev || sa.st_ino != sb.st_ino)
                abort();
            if (S_ISLNK(sa.st_mode) || !is_beneath(a, i))
                abort();
            close(a);
            close(b);
        }
    }
    return 0;
}
