/* io.c - the store's writes and syncs: see io.h. */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

const store_io_t store_io_system = {pwrite, fdatasync};

int io_pwrite_all(const store_io_t *io, int fd, const void *p, size_t n, uint64_t off)
{
    const char *c = p;
    while (n) {
        ssize_t w = io->pwrite(fd, c, n, (off_t)off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (w == 0)
            return -ENOSPC;
        c += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

int io_sync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) ? -errno : 0;
    close(fd);
    return rc;
}

#ifdef LOGSHIP_CHECKS
static const char *quota_path;
static _Atomic uint64_t quota_used;

/* How many of n bytes may be written now (0: the disk is full). */
static size_t quota_room(size_t n)
{
    char text[32] = {0};
    int fd = open(quota_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return n;
    ssize_t r = read(fd, text, sizeof text - 1);
    close(fd);
    if (r <= 0)
        return n;
    uint64_t limit = strtoull(text, NULL, 10), used = atomic_load(&quota_used);
    if (used >= limit)
        return 0;
    return limit - used < n ? (size_t)(limit - used) : n;
}

static ssize_t quota_pwrite(int fd, const void *p, size_t n, off_t off)
{
    size_t room = quota_room(n);
    if (n && !room) {
        errno = ENOSPC;
        return -1;
    }
    ssize_t w = pwrite(fd, p, room, off);
    if (w > 0)
        atomic_fetch_add(&quota_used, (uint64_t)w);
    return w;
}

static const store_io_t quota_io = {quota_pwrite, fdatasync};
#endif

const store_io_t *io_default(const char **quota)
{
    *quota = NULL;
#ifdef LOGSHIP_CHECKS
    const char *q = getenv("LOGSHIP_TEST_DISK_QUOTA");
    if (q && *q) {
        quota_path = q;
        *quota = q;
        return &quota_io;
    }
#endif
    return &store_io_system;
}
