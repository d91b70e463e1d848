/* index.c - sparse segment index: see index.h. */
#include "index.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "../common/buf.h"
#include "../common/record.h"

#define INDEX_MAGIC   "LSINDEX1"
#define INDEX_VERSION 1
#define INDEX_HDR     64
#define ENTRY_SIZE    32

void index_init(seg_index_t *ix, uint64_t first_seq)
{
    memset(ix, 0, sizeof *ix);
    ix->first_seq = first_seq;
    ix->min_ts = INT64_MAX;
    ix->max_ts = INT64_MIN;
}

void index_free(seg_index_t *ix)
{
    free(ix->e);
    ix->e = NULL;
    ix->n = ix->cap = 0;
}

void index_add(seg_index_t *ix, uint64_t seq, uint64_t offset, size_t size, int64_t ts)
{
    index_entry_t *last = ix->n ? &ix->e[ix->n - 1] : NULL;
    if (!last || offset - last->offset >= INDEX_BLOCK) {
        if (ix->n == ix->cap) {
            ix->cap = ix->cap ? ix->cap * 2 : 64;
            ix->e = xrealloc(ix->e, ix->cap * sizeof *ix->e);
        }
        last = &ix->e[ix->n++];
        last->seq = seq;
        last->offset = offset;
        last->min_ts = INT64_MAX;
        last->max_ts = INT64_MIN;
    }
    if (ts < last->min_ts)
        last->min_ts = ts;
    if (ts > last->max_ts)
        last->max_ts = ts;
    if (ts < ix->min_ts)
        ix->min_ts = ts;
    if (ts > ix->max_ts)
        ix->max_ts = ts;
    ix->last_seq = seq;
    ix->records++;
    ix->bytes = offset + size;
}

void index_skip(seg_index_t *ix, uint64_t offset, size_t size)
{
    ix->bytes = offset + size;
}

void index_mark(const seg_index_t *ix, index_mark_t *m)
{
    m->n = ix->n;
    m->last_seq = ix->last_seq;
    m->records = ix->records;
    m->bytes = ix->bytes;
    m->last_min = ix->n ? ix->e[ix->n - 1].min_ts : 0;
    m->last_max = ix->n ? ix->e[ix->n - 1].max_ts : 0;
}

void index_restore(seg_index_t *ix, const index_mark_t *m)
{
    /* the segment's overall time bounds may stay wider: that only makes a
     * reader look at it when it need not */
    ix->n = m->n;
    ix->last_seq = m->last_seq;
    ix->records = m->records;
    ix->bytes = m->bytes;
    if (ix->n) {
        ix->e[ix->n - 1].min_ts = m->last_min;
        ix->e[ix->n - 1].max_ts = m->last_max;
    }
}

size_t index_find(const seg_index_t *ix, uint64_t seq)
{
    size_t lo = 0, hi = ix->n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->e[mid].seq <= seq)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

int index_save(const seg_index_t *ix, const char *path)
{
    size_t size = INDEX_HDR + ix->n * ENTRY_SIZE + 8;
    char *b = xcalloc(1, size);
    memcpy(b, INDEX_MAGIC, 8);
    wr32(b + 8, INDEX_VERSION);
    wr32(b + 12, (uint32_t)ix->n);
    wr64(b + 16, ix->first_seq);
    wr64(b + 24, ix->last_seq);
    wr64(b + 32, ix->records);
    wr64(b + 40, (uint64_t)ix->min_ts);
    wr64(b + 48, (uint64_t)ix->max_ts);
    wr64(b + 56, ix->bytes);
    for (size_t i = 0; i < ix->n; i++) {
        char *p = b + INDEX_HDR + i * ENTRY_SIZE;
        wr64(p, ix->e[i].seq);
        wr64(p + 8, ix->e[i].offset);
        wr64(p + 16, (uint64_t)ix->e[i].min_ts);
        wr64(p + 24, (uint64_t)ix->e[i].max_ts);
    }
    wr64(b + size - 8, XXH3_64bits(b, size - 8));

    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = -1;
    if (fd >= 0) {
        ssize_t w = write(fd, b, size);
        if (w == (ssize_t)size && fdatasync(fd) == 0)
            rc = 0;
        else if (w >= 0 && w != (ssize_t)size)
            errno = ENOSPC;
        close(fd);
        if (rc == 0 && rename(tmp, path) != 0)
            rc = -1;
        if (rc != 0)
            unlink(tmp);
    }
    free(b);
    return rc;
}

int index_load(seg_index_t *ix, const char *path, uint64_t bytes)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    off_t size = lseek(fd, 0, SEEK_END);
    if (size < INDEX_HDR + 8 || size > (off_t)(1u << 30)) {
        close(fd);
        return -1;
    }
    char *b = xmalloc((size_t)size);
    ssize_t r = pread(fd, b, (size_t)size, 0);
    close(fd);
    int rc = -1;
    if (r != size || memcmp(b, INDEX_MAGIC, 8) != 0 || rd32(b + 8) != INDEX_VERSION)
        goto out;
    uint32_t n = rd32(b + 12);
    if ((uint64_t)size != INDEX_HDR + (uint64_t)n * ENTRY_SIZE + 8)
        goto out;
    if (rd64(b + size - 8) != XXH3_64bits(b, (size_t)size - 8))
        goto out;
    if (rd64(b + 16) != ix->first_seq || rd64(b + 56) != bytes)
        goto out;
    ix->last_seq = rd64(b + 24);
    ix->records = rd64(b + 32);
    ix->min_ts = (int64_t)rd64(b + 40);
    ix->max_ts = (int64_t)rd64(b + 48);
    ix->bytes = bytes;
    ix->n = ix->cap = n;
    ix->e = xrealloc(ix->e, (n ? n : 1) * sizeof *ix->e);
    for (uint32_t i = 0; i < n; i++) {
        const char *p = b + INDEX_HDR + (size_t)i * ENTRY_SIZE;
        ix->e[i].seq = rd64(p);
        ix->e[i].offset = rd64(p + 8);
        ix->e[i].min_ts = (int64_t)rd64(p + 16);
        ix->e[i].max_ts = (int64_t)rd64(p + 24);
    }
    rc = 0;
out:
    free(b);
    return rc;
}
