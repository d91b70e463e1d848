/* secret_file.c - see secret_file.h. */
#include "secret_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "log.h"

char *secret_file_read(const char *path, const char *flag, const char *who, size_t *n, char *err,
                       size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, cap, "cannot read %s %s: %s", flag, path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > (off_t)SECRET_FILE_MAX) {
        snprintf(err, cap, "%s %s: not a regular file of at most 1 MiB", flag, path);
        close(fd);
        return NULL;
    }
    if (st.st_mode & (S_IRGRP | S_IROTH))
        log_warn("%s: %s can be read by others than its owner: chmod 600 it", who, path);
    char *text = xmalloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, text + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    text[got] = 0;
    *n = got;
    return text;
}

void secret_file_free(char *text, size_t n)
{
    if (!text)
        return;
    OPENSSL_cleanse(text, n);
    free(text);
}
