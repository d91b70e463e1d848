/* dirlock.c - the data directory's lock file; see dirlock.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "dirlock.h"

/* The pid recorded in the lock file, or 0. */
static long holder_pid(int fd)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    return strtol(buf, NULL, 10);
}

int dirlock_take(const char *dir, int shared, char *err, size_t errcap)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/lock", dir);
    int fd = open(path, (shared ? O_RDONLY : O_RDWR) | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 && shared && errno == EACCES)
        fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errcap, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB)) {
        int e = errno;
        long pid = holder_pid(fd);
        if (e == EWOULDBLOCK && pid > 0)
            snprintf(err, errcap,
                     "data directory %s is in use by another logshipd (pid %ld); "
                     "one logshipd per --data",
                     dir, pid);
        else if (e == EWOULDBLOCK)
            snprintf(err, errcap, "data directory %s is in use by another logshipd", dir);
        else
            snprintf(err, errcap, "cannot lock %s: %s", path, strerror(e));
        close(fd);
        return -1;
    }
    if (!shared) {
        char pid[32];
        int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
        if (ftruncate(fd, 0) || pwrite(fd, pid, (size_t)n, 0) != n) {
            snprintf(err, errcap, "cannot write %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
    }
    return fd;
}

void dirlock_release(int fd)
{
    if (fd >= 0)
        close(fd); /* closing the last descriptor drops the flock */
}
