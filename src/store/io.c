/* io.c - the store's writes and syncs: see io.h. */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int io_pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
    const char *c = p;
    while (n) {
        ssize_t w = pwrite(fd, c, n, (off_t)off);
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
