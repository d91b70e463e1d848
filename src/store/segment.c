/* segment.c - segment headers and frame scanning: see segment.h. */
#include "segment.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define SCAN_CHUNK (1u << 20)

int segment_path(char *out, size_t cap, const char *dir, uint64_t first_seq, const char *ext)
{
    return snprintf(out, cap, "%s/segments/%020" PRIu64 "%s", dir, first_seq, ext);
}

void segment_header_encode(char *out, uint64_t first_seq, int64_t created)
{
    memcpy(out, SEGMENT_MAGIC, 8);
    wr32(out + SEGMENT_OFF_VERSION, SEGMENT_VERSION);
    wr32(out + SEGMENT_OFF_HDR_LEN, SEGMENT_HDR);
    wr64(out + SEGMENT_OFF_FIRST, first_seq);
    wr64(out + SEGMENT_OFF_CREATED, (uint64_t)created);
}

int segment_header_decode(const char *hdr, size_t n, uint64_t *first_seq)
{
    if (n < SEGMENT_HDR || memcmp(hdr, SEGMENT_MAGIC, 8) != 0 ||
        rd32(hdr + SEGMENT_OFF_VERSION) != SEGMENT_VERSION ||
        rd32(hdr + SEGMENT_OFF_HDR_LEN) != SEGMENT_HDR)
        return -1;
    *first_seq = rd64(hdr + SEGMENT_OFF_FIRST);
    return 0;
}

segment_t *segment_new(uint64_t first_seq, int fd, uint64_t size, int64_t mtime_ns)
{
    segment_t *g = xcalloc(1, sizeof *g);
    g->first_seq = first_seq;
    g->fd = fd;
    index_init(&g->ix, first_seq);
    atomic_init(&g->size, size);
    atomic_init(&g->refs, 1);
    g->mtime_ns = mtime_ns;
    return g;
}

void segment_ref(segment_t *g)
{
    atomic_fetch_add(&g->refs, 1);
}

void segment_unref(segment_t *g)
{
    if (atomic_fetch_sub(&g->refs, 1) != 1)
        return;
    if (g->fd >= 0)
        close(g->fd);
    index_free(&g->ix);
    free(g->zmeta);
    free(g->bf);
    free(g);
}

void seglist_push(seglist_t *l, segment_t *g)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = g;
}

void seglist_free(seglist_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        segment_unref(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* Reads from fd at off into buf; returns bytes read or -1. */
static ssize_t read_at(int fd, char *buf, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, buf + got, n - got, (off_t)(off + got));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

int segment_scan(int fd, uint64_t from, uint64_t prev_seq, seg_index_t *idx,
                 void (*on_meta)(void *arg, const record_t *r), void *arg, seg_scan_t *out)
{
    buf_t b = BUF_INIT;
    uint64_t off = from; /* file offset of b.data[0] */
    size_t pos = 0;      /* parse position in b */
    int eof = 0;

    out->end = from;
    out->last_seq = prev_seq;
    out->records = 0;
    out->stop = SCAN_END;
    buf_reserve(&b, SCAN_CHUNK);
    for (;;) {
        size_t avail = b.len - pos;
        size_t need = RECORD_FRAME_HDR;
        if (avail >= RECORD_FRAME_HDR)
            need = frame_size(b.data + pos);
        if (avail < need || avail < RECORD_FRAME_HDR) {
            if (eof) {
                out->stop = avail ? SCAN_TORN : SCAN_END;
                break;
            }
            if (need > RECORD_HEAD + RECORD_MSG_MAX + (4u << 20)) {
                out->stop = SCAN_CORRUPT;
                break;
            }
            /* keep the partial frame, read more after it */
            memmove(b.data, b.data + pos, avail);
            off += pos;
            b.len = avail;
            pos = 0;
            size_t want = need > SCAN_CHUNK ? need : SCAN_CHUNK;
            char *dst = buf_reserve(&b, want);
            ssize_t r = read_at(fd, dst, want, off + b.len);
            if (r < 0) {
                buf_free(&b);
                return -1;
            }
            b.len += (size_t)r;
            if ((size_t)r < want)
                eof = 1;
            continue;
        }
        size_t size;
        record_t rec;
        const char *p = b.data + pos;
        if (!record_verify(p, avail, &size) || record_decode(p, avail, &rec) <= 0) {
            out->stop = SCAN_CORRUPT;
            break;
        }
        if (rec.flags & RECORD_F_META) {
            if (on_meta)
                on_meta(arg, &rec);
            if (idx)
                index_skip(idx, off + pos, size);
        } else {
            if (rec.seq <= out->last_seq) {
                out->stop = SCAN_SEQ;
                break;
            }
            if (idx)
                index_add(idx, rec.seq, off + pos, size, rec.ts);
            out->last_seq = rec.seq;
            out->records++;
        }
        pos += size;
        out->end = off + pos;
    }
    buf_free(&b);
    return 0;
}

uint64_t segment_resync(int fd, uint64_t from, uint64_t limit, uint64_t prev_seq)
{
    size_t span = (size_t)(limit - from);
    if (limit <= from)
        return limit;
    char *b = xmalloc(span);
    ssize_t r = read_at(fd, b, span, from);
    uint64_t found = limit;
    for (size_t i = 0; r > 0 && i + RECORD_HEAD <= (size_t)r; i++) {
        size_t size;
        record_t rec;
        if (record_verify(b + i, (size_t)r - i, &size) &&
            record_decode(b + i, (size_t)r - i, &rec) > 0 &&
            ((rec.flags & RECORD_F_META) || rec.seq > prev_seq)) {
            found = from + i;
            break;
        }
    }
    free(b);
    return found;
}
