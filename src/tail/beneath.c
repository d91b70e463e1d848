/* beneath.c - opening a path beneath a directory: see beneath.h. */
#define _GNU_SOURCE /* O_PATH */
#include "beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef SYS_openat2
#include <linux/openat2.h>
#endif

/* -1 not tried yet, 0 missing, 1 works */
static atomic_int g_openat2 = -1;

/* EXDEV for an absolute path or a ".." component; 0 otherwise. */
static int check_rel(const char *rel)
{
    if (rel[0] == '/')
        return EXDEV;
    for (const char *p = rel; *p;) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return EXDEV;
        p += len + (e ? 1 : 0);
    }
    return 0;
}

/* Closes fd (when not dirfd) keeping errno. */
static void close_keep(int fd, int dirfd)
{
    int e = errno;
    if (fd >= 0 && fd != dirfd)
        close(fd);
    errno = e;
}

int beneath_open_walk(int dirfd, const char *rel, int flags)
{
    int rc = check_rel(rel);
    if (rc) {
        errno = rc;
        return -1;
    }
    char comp[NAME_MAX + 1];
    int cur = dirfd;
    const char *p = rel;
    for (;;) {
        while (*p == '/')
            p++;
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        const char *q = e;
        while (q && *q == '/')
            q++;
        int last = !q || !*q;
        if (len > NAME_MAX) {
            close_keep(cur, dirfd);
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(comp, p, len);
        comp[len] = '\0';
        if (len == 0 || (len == 1 && comp[0] == '.')) {
            if (!last) {
                p = q;
                continue;
            }
            strcpy(comp, "."); /* "a/" or "": the directory itself */
        }
        if (last) {
            if (e)
                flags |= O_DIRECTORY; /* "a/": a has to be a directory */
            int fd = openat(cur, comp, flags | O_CLOEXEC | O_NOFOLLOW);
            if (fd < 0 && errno == ENOTDIR) {
                /* "link/" with O_DIRECTORY | O_PATH: a symlink, not a file */
                struct stat st;
                if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
                    errno = ELOOP;
                else
                    errno = ENOTDIR;
            }
            if (fd >= 0 && (flags & O_PATH)) {
                /* O_PATH | O_NOFOLLOW opens a final symlink itself */
                struct stat st;
                if (fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
                    close(fd);
                    fd = -1;
                    errno = ELOOP;
                }
            }
            close_keep(cur, dirfd);
            return fd;
        }
        int next = openat(cur, comp, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (next < 0 && errno == ENOTDIR) {
            /* O_PATH | O_NOFOLLOW takes a symlink for a non-directory */
            struct stat st;
            if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
                errno = ELOOP;
            else
                errno = ENOTDIR;
        }
        close_keep(cur, dirfd);
        if (next < 0)
            return -1;
        cur = next;
        p = q;
    }
}

int beneath_has_openat2(void)
{
    return atomic_load_explicit(&g_openat2, memory_order_relaxed) == 1;
}

int beneath_open(int dirfd, const char *rel, int flags)
{
    int rc = check_rel(rel);
    if (rc) {
        errno = rc;
        return -1;
    }
#ifdef SYS_openat2
    int state = atomic_load_explicit(&g_openat2, memory_order_relaxed);
    if (state != 0) {
        /* no O_NOFOLLOW: with O_PATH it would open a final symlink itself,
         * where RESOLVE_NO_SYMLINKS refuses it (ELOOP) */
        struct open_how how;
        memset(&how, 0, sizeof how);
        how.flags = (unsigned long long)(flags | O_CLOEXEC);
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
        long fd = syscall(SYS_openat2, dirfd, *rel ? rel : ".", &how, sizeof how);
        if (fd >= 0 || state == 1 || (errno != ENOSYS && errno != EPERM)) {
            if (state != 1)
                atomic_store_explicit(&g_openat2, 1, memory_order_relaxed);
            return (int)fd;
        }
        /* the first call says there is no openat2 here: walk from now on */
        atomic_store_explicit(&g_openat2, 0, memory_order_relaxed);
    }
#endif
    return beneath_open_walk(dirfd, rel, flags);
}
