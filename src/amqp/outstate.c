/* outstate.c - the AMQP output's files in the data directory: see
 * outstate.h. */
#include "outstate.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define MAX_FILE 128 /* either file is far shorter */

int outstate_parse_confirmed(const char *p, size_t n, uint64_t *seq, const char **why)
{
    static const char key[] = "confirmed ";
    if (n && p[n - 1] == '\n')
        n--;
    if (n < sizeof key - 1 || memcmp(p, key, sizeof key - 1) != 0) {
        *why = "expected 'confirmed SEQ'";
        return -1;
    }
    p += sizeof key - 1;
    n -= sizeof key - 1;
    if (n == 0 || n > 20) {
        *why = "expected a seq of 1 to 20 digits";
        return -1;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            *why = "expected a seq of 1 to 20 digits";
            return -1;
        }
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            *why = "the seq does not fit 64 bits";
            return -1;
        }
        v = v * 10 + d;
    }
    *seq = v;
    return 0;
}

int outstate_parse_node_id(const char *p, size_t n, char *out, const char **why)
{
    if (n && p[n - 1] == '\n')
        n--;
    if (n != NODE_ID_LEN) {
        *why = "expected 32 hex digits";
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) {
            *why = "expected 32 lowercase hex digits";
            return -1;
        }
    }
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

/* Reads DIR/name whole (at most cap bytes). Returns the length, -1 when
 * there is no such file, or -2 on another error (errno set). */
static long read_small(const char *dir, const char *name, char *buf, size_t cap)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? -1 : -2;
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fd, buf + got, cap - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -2;
        }
        if (r == 0 || (got += (size_t)r) == cap)
            break;
    }
    close(fd);
    return (long)got;
}

/* Writes text to DIR/name through a synced temporary file and a rename. */
static int replace_file(const char *dir, const char *name, const char *text, size_t n)
{
    char path[4200], tmp[4300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int rc = 0;
    size_t done = 0;
    while (done < n && !rc) {
        ssize_t w = write(fd, text + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            rc = -errno;
        else
            done += (size_t)w;
    }
    if (!rc && fdatasync(fd))
        rc = -errno;
    close(fd);
    if (!rc && rename(tmp, path))
        rc = -errno;
    if (!rc) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd))
            rc = -errno;
        if (dfd >= 0)
            close(dfd);
    }
    if (rc)
        unlink(tmp);
    return rc;
}

static int make_node_id(const char *dir, char *out)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[NODE_ID_LEN / 2];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t r = getrandom(raw + got, sizeof raw - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        got += (size_t)r;
    }
    for (size_t i = 0; i < sizeof raw; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[NODE_ID_LEN] = '\n';
    int rc = replace_file(dir, "node-id", out, NODE_ID_LEN + 1);
    out[NODE_ID_LEN] = '\0';
    return rc;
}

int outstate_load(const char *dir, char *node_id, uint64_t *confirmed, char *err, size_t errcap)
{
    char buf[MAX_FILE];
    const char *why;
    long n = read_small(dir, "node-id", buf, sizeof buf);
    if (n == -1) {
        int rc = make_node_id(dir, node_id);
        if (rc) {
            snprintf(err, errcap, "cannot write %s/node-id: %s", dir, strerror(-rc));
            return -1;
        }
    } else if (n < 0) {
        snprintf(err, errcap, "cannot read %s/node-id: %s", dir, strerror(errno));
        return -1;
    } else if (outstate_parse_node_id(buf, (size_t)n, node_id, &why)) {
        snprintf(err, errcap, "%s/node-id: %s", dir, why);
        return -1;
    }

    *confirmed = 0;
    n = read_small(dir, "amqp-out.confirmed", buf, sizeof buf);
    if (n == -2) {
        snprintf(err, errcap, "cannot read %s/amqp-out.confirmed: %s", dir, strerror(errno));
        return -1;
    }
    if (n >= 0 && outstate_parse_confirmed(buf, (size_t)n, confirmed, &why)) {
        snprintf(err, errcap,
                 "%s/amqp-out.confirmed: %s (remove the file to publish every stored record "
                 "again)",
                 dir, why);
        return -1;
    }
    return 0;
}

int outstate_save_confirmed(const char *dir, uint64_t seq)
{
    char text[64];
    int n = snprintf(text, sizeof text, "confirmed %" PRIu64 "\n", seq);
    return replace_file(dir, "amqp-out.confirmed", text, (size_t)n);
}
