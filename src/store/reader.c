/* reader.c - scanning segments for queries, lagging subscribers and the
 * memory window's fill at open: see reader.h.
 *
 * A scan takes a snapshot of the segment list (a reference on each segment
 * and a copy of its index entries, but for segments wholly at or before
 * the filter's `after`, which are never read) and reads whole index blocks with
 * pread(), so it never blocks the writer for longer than the copy and a
 * segment removed by retention stays readable until the scan lets go.
 * Segments and blocks whose time bounds cannot meet the filter's are never
 * read. Every frame's checksum is verified; a damaged one is reported and
 * the scan resumes at the next good frame in the block.
 */
#include "reader.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/log.h"
#include "zseg.h"

typedef struct seg_snap {
    segment_t *g;
    uint64_t size;
    index_entry_t *e;
    size_t n;
    uint64_t last_seq, records;
    int64_t min_ts, max_ts;
    const bfilter_t *bf; /* per entry, or NULL: the segment's own, held by g */
} seg_snap_t;

typedef struct scan {
    _Atomic uint64_t *damaged;
    const filter_t *f;
    uint64_t visible;
    store_read_fn fn;
    void *arg;
    buf_t block;
    buf_t comp;                /* a compressed block as read */
    const _Atomic int *cancel; /* the reader went away: stop between blocks */
    store_block_fn on_block;   /* may take a compressed block from its filter */
    void *block_arg;
    record_t *recs; /* a block's matches, for newest-first delivery */
    size_t nrecs, caprecs;
    int stopped;
} scan_t;

static int overlaps(int64_t lo, int64_t hi, const filter_t *f)
{
    return hi >= f->since && lo <= f->until;
}

/* Reads [from, to) of g into b. */
static int read_block(buf_t *b, segment_t *g, uint64_t from, uint64_t to)
{
    size_t n = (size_t)(to - from), got = 0;
    buf_reset(b);
    char *p = buf_reserve(b, n);
    while (got < n) {
        ssize_t r = pread(g->fd, p + got, n - got, (off_t)(from + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    b->len = got;
    return 0;
}

/* Finds the next frame in the block at or after `from` that verifies and
 * has a seq above prev; returns its position or len. */
static size_t resync(const char *b, size_t from, size_t len, uint64_t prev)
{
    for (size_t i = from; i + RECORD_HEAD <= len; i++) {
        size_t size;
        record_t r;
        if (record_verify(b + i, len - i, &size) && record_decode(b + i, len - i, &r) > 0 &&
            ((r.flags & RECORD_F_META) || r.seq > prev))
            return i;
    }
    return len;
}

static void damaged(scan_t *sc, const seg_snap_t *ss, uint64_t at)
{
    uint64_t n = sc->damaged ? atomic_fetch_add(sc->damaged, 1) : 0;
    if (n < 100) /* the first ones tell where; the count tells the rest */
        log_warn("store: damaged record in segment %" PRIu64 " at byte %" PRIu64 " skipped",
                 ss->g->first_seq, at);
}

/* Delivers a block's matching records: in order, or collected and then
 * handed over newest first. */
static void scan_block(scan_t *sc, const seg_snap_t *ss, uint64_t from, uint64_t to, int backward)
{
    if (sc->cancel && atomic_load_explicit(sc->cancel, memory_order_relaxed)) {
        sc->stopped = 1;
        return;
    }
    if (read_block(ss->g->compressed ? &sc->comp : &sc->block, ss->g, from, to)) {
        log_error("store: reading segment %" PRIu64 ": %s", ss->g->first_seq, strerror(errno));
        sc->stopped = -EIO;
        return;
    }
    if (ss->g->compressed && zseg_decode_block(sc->comp.data, sc->comp.len, &sc->block)) {
        /* the whole block is lost; its neighbours are read */
        damaged(sc, ss, from);
        return;
    }
    const char *b = sc->block.data;
    size_t len = sc->block.len, pos = 0;
    uint64_t prev = 0;
    sc->nrecs = 0;
    while (pos < len && !sc->stopped) {
        size_t size;
        record_t r;
        if (!record_verify(b + pos, len - pos, &size) ||
            record_decode(b + pos, len - pos, &r) <= 0) {
            damaged(sc, ss, from + pos);
            pos = resync(b, pos + 1, len, prev);
            continue;
        }
        pos += size;
        if (r.flags & RECORD_F_META)
            continue;
        prev = r.seq;
        if (r.seq > sc->visible) {
            if (!backward)
                sc->stopped = 1;
            break;
        }
        if (!filter_match(sc->f, &r))
            continue;
        if (!backward) {
            if (sc->fn(sc->arg, &r))
                sc->stopped = 1;
            continue;
        }
        if (sc->nrecs == sc->caprecs) {
            sc->caprecs = sc->caprecs ? sc->caprecs * 2 : 256;
            sc->recs = xrealloc(sc->recs, sc->caprecs * sizeof *sc->recs);
        }
        sc->recs[sc->nrecs++] = r;
    }
    for (size_t i = sc->nrecs; backward && i-- > 0 && !sc->stopped;)
        if (sc->fn(sc->arg, &sc->recs[i]))
            sc->stopped = 1;
}

static void scan_segment(scan_t *sc, const seg_snap_t *ss, int backward)
{
    const filter_t *f = sc->f;
    if (!ss->records || !ss->n || !overlaps(ss->min_ts, ss->max_ts, f))
        return;
    if (f->after && ss->last_seq <= f->after)
        return;
    if (f->before && ss->e[0].seq >= f->before)
        return;
    /* the first block that can hold seq after+1 */
    size_t first = f->after ? index_find(&(seg_index_t){.e = ss->e, .n = ss->n}, f->after + 1) : 0;
    if (!backward) {
        for (size_t i = first; i < ss->n && !sc->stopped; i++) {
            uint64_t to = i + 1 < ss->n ? ss->e[i + 1].offset : ss->size;
            if (ss->e[i].seq > sc->visible)
                break;
            if (!overlaps(ss->e[i].min_ts, ss->e[i].max_ts, f) ||
                (ss->bf && !bfilter_may_match(&ss->bf[i], f)))
                continue;
            if (ss->bf && sc->on_block && ss->e[i].seq > f->after &&
                sc->on_block(sc->block_arg, &ss->bf[i], ss->e[i].min_ts, ss->e[i].max_ts))
                continue;
            scan_block(sc, ss, ss->e[i].offset, to, 0);
        }
    } else {
        for (size_t i = ss->n; i-- > first && !sc->stopped;) {
            uint64_t to = i + 1 < ss->n ? ss->e[i + 1].offset : ss->size;
            if (ss->e[i].seq > sc->visible || (f->before && ss->e[i].seq >= f->before))
                continue;
            if (overlaps(ss->e[i].min_ts, ss->e[i].max_ts, f) &&
                (!ss->bf || bfilter_may_match(&ss->bf[i], f)))
                scan_block(sc, ss, ss->e[i].offset, to, 1);
        }
    }
}

int reader_scan(const seglist_t *l, uv_rwlock_t *lock, uint64_t visible, _Atomic uint64_t *damaged,
                const filter_t *f, int backward, store_read_fn fn, void *arg)
{
    return reader_scan_cancel(l, lock, visible, damaged, f, backward, fn, arg, NULL);
}

static int scan_with(scan_t *scp, const seglist_t *l, uv_rwlock_t *lock, int backward);

int reader_scan_cancel(const seglist_t *l, uv_rwlock_t *lock, uint64_t visible,
                       _Atomic uint64_t *damaged, const filter_t *f, int backward, store_read_fn fn,
                       void *arg, const _Atomic int *cancel)
{
    scan_t sc = {
        .damaged = damaged, .f = f, .visible = visible, .fn = fn, .arg = arg, .cancel = cancel};
    return scan_with(&sc, l, lock, backward);
}

int reader_scan_blocks(const seglist_t *l, uv_rwlock_t *lock, uint64_t visible,
                       _Atomic uint64_t *damaged, const filter_t *f, store_read_fn fn, void *arg,
                       store_block_fn on_block, void *block_arg, const _Atomic int *cancel)
{
    scan_t sc = {.damaged = damaged,
                 .f = f,
                 .visible = visible,
                 .fn = fn,
                 .arg = arg,
                 .cancel = cancel,
                 .on_block = on_block,
                 .block_arg = block_arg};
    return scan_with(&sc, l, lock, 0);
}

static int scan_with(scan_t *scp, const seglist_t *l, uv_rwlock_t *lock, int backward)
{
    scan_t sc = *scp;
    const filter_t *f = sc.f;

    if (lock)
        uv_rwlock_rdlock(lock);
    size_t n = l->n;
    seg_snap_t *snaps = xcalloc(n ? n : 1, sizeof *snaps);
    for (size_t i = 0; i < n; i++) {
        segment_t *g = l->v[i];
        seg_snap_t *ss = &snaps[i];
        segment_ref(g);
        ss->g = g;
        ss->size = atomic_load(&g->size);
        /* a segment wholly at or before `after` is never read: its bounds
         * are enough (cursors that read on in chunks scan often) */
        int skipped = f->after && g->ix.records && g->ix.last_seq <= f->after;
        ss->n = skipped ? 0 : g->ix.n;
        ss->e = xmalloc((ss->n ? ss->n : 1) * sizeof *ss->e);
        if (ss->n)
            memcpy(ss->e, g->ix.e, ss->n * sizeof *ss->e);
        ss->last_seq = g->ix.last_seq;
        ss->records = g->ix.records;
        ss->min_ts = g->ix.min_ts;
        ss->max_ts = g->ix.max_ts;
        ss->bf = g->compressed ? g->bf : NULL;
    }
    if (lock)
        uv_rwlock_rdunlock(lock);

    if (!backward) {
        for (size_t i = 0; i < n && !sc.stopped; i++)
            scan_segment(&sc, &snaps[i], 0);
    } else {
        for (size_t i = n; i-- > 0 && !sc.stopped;) {
            if (f->after && snaps[i].records && snaps[i].last_seq <= f->after)
                break;
            scan_segment(&sc, &snaps[i], 1);
        }
    }
    for (size_t i = 0; i < n; i++) {
        free(snaps[i].e);
        segment_unref(snaps[i].g);
    }
    free(snaps);
    buf_free(&sc.block);
    buf_free(&sc.comp);
    free(sc.recs);
    return sc.stopped < 0 ? sc.stopped : 0;
}
