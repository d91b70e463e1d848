/* reserve.c - the seq reservation file, seq.reserve: see reserve.h. */
#include "reserve.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io.h"

/* The kernel's id for this boot: written records survive a crash of the
 * process, so only a reservation made in another boot may cover lost ones. */
static void boot_id(char *out, size_t cap)
{
    snprintf(out, cap, "unknown");
    int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t r = read(fd, out, cap - 1);
    close(fd);
    if (r <= 0)
        r = 0;
    out[r] = '\0';
    out[strcspn(out, "\n")] = '\0';
}

static int write_file(const char *dir, const store_io_t *io, uint64_t upto)
{
    char path[4200], tmp[4200], text[128], boot[64];
    snprintf(path, sizeof path, "%s/seq.reserve", dir);
    snprintf(tmp, sizeof tmp, "%s/seq.reserve.tmp", dir);
    boot_id(boot, sizeof boot);
    int n = snprintf(text, sizeof text, "%" PRIu64 " %s\n", upto, boot);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int rc = io_pwrite_all(io, fd, text, (size_t)n, 0);
    if (!rc && io->fdatasync(fd))
        rc = -errno;
    close(fd);
    if (!rc && rename(tmp, path))
        rc = -errno;
    if (!rc)
        rc = io_sync_dir(dir);
    if (rc)
        unlink(tmp);
    return rc;
}

int reserve_cover(reserve_t *r, uint64_t seq)
{
    if (seq <= r->upto)
        return 0;
    uint64_t upto = seq + RESERVE_STEP;
    int rc = write_file(r->dir, r->io, upto);
    if (rc == 0)
        r->upto = upto;
    return rc;
}

int reserve_release(reserve_t *r, uint64_t last)
{
    int rc = write_file(r->dir, r->io, last);
    if (rc == 0)
        r->upto = last;
    return rc;
}

uint64_t reserve_read(const char *dir)
{
    char path[4200], text[128] = {0}, boot[64];
    snprintf(path, sizeof path, "%s/seq.reserve", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t r = read(fd, text, sizeof text - 1);
    close(fd);
    if (r <= 0)
        return 0;
    char *end;
    uint64_t v = strtoull(text, &end, 10);
    boot_id(boot, sizeof boot);
    while (*end == ' ')
        end++;
    end[strcspn(end, "\n")] = '\0';
    if (strcmp(end, boot) == 0 && strcmp(boot, "unknown") != 0)
        return 0;
    return v;
}
