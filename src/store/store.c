/* store.c - the durable record log: open (recovery is recover.c), append,
 * group commit, the writer thread, segment rolls, retention, close. See
 * store.h for the design and its invariants; reading is reader.c, the seq
 * reservation reserve.c.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/check.h"
#include "../common/hist.h"
#include "../common/log.h"
#include "../common/timeutil.h"
#include "io.h"
#include "producer.h"
#include "reader.h"
#include "recover.h"
#include "reserve.h"
#include "segment.h"
#include "zseg.h"

#define PROBE_EVERY  (1 * NS_PER_SEC)
#define RETAIN_EVERY (10 * NS_PER_SEC)

/* Batches appended while the writer was busy: written as one. */
typedef struct group {
    buf_t data; /* sealed frames, meta frames first in their batch */
    uint64_t first_seq, last_seq;
    size_t records;
    uint64_t gen;
    int err;
    int written, synced;    /* by the writer: what invariant 2 asks for */
    store_waiter_t waiters; /* list head */
} group_t;

struct store {
    uv_loop_t *loop;
    store_opts_t o;
    char dir[4096];

    /* loop thread */
    uv_thread_t loop_thread; /* the one that opened the store (invariant 5) */
    uint64_t next_seq;
    group_t groups[2];
    group_t *open; /* filling; the other one may be with the writer */
    int writer_busy;
    uint64_t gen, done_gen; /* newest group generation, newest completed */
    ring_t ring;
    producer_table_t producers;
    struct {
        store_commit_fn fn;
        void *arg;
    } listeners[STORE_MAX_LISTENERS];
    size_t nlisteners;
    int backlogged;
    uv_async_t async;
    size_t refs; /* the owner's until the handle closed, and each reader's (invariant 6) */

    /* shared */
    const store_io_t *io; /* the system calls segments are written with */
    _Atomic uint64_t visible_seq;
    _Atomic int error; /* 0 or -errno, sticky until a probe succeeds */
    _Atomic uint64_t pending_bytes;
    _Atomic uint64_t st_records, st_groups, st_syncs, st_write_errors, st_damaged;
    _Atomic uint64_t st_retained_segments, st_retained_bytes; /* removed by retention */
    /* --retain-bytes and --retain-age as they are now (a reload may change
     * them; the writer thread reads them) */
    _Atomic uint64_t retain_bytes;
    hist_t fsync_seconds, group_records; /* observed by the writer thread */
    uint64_t levels[8];                  /* records stored since start, by level (loop thread) */
    _Atomic int64_t retain_age_ns;
    uv_mutex_t mu;
    uv_cond_t cond, done_cond;
    group_t *todo, *done;
    int stop;
    uint64_t written_seq_at_stop;

    /* writer thread */
    uv_thread_t thread;
    segment_t *active;
    int dirty;
    int64_t last_sync, next_probe;
    size_t probe_size; /* bytes the failed write needed */
    reserve_t reserve;
    uint64_t written_seq; /* the newest seq written (invariant 1) */
    producer_table_t wproducers;

    /* segments, oldest first: changed by the writer (and at open and
     * close) under seg_lock held for writing; readers snapshot them */
    uv_rwlock_t seg_lock;
    seglist_t segs;

    /* the compressor thread: sealed segments to rewrite (a reference
     * each), under zmu */
    uv_thread_t zthread;
    int zstarted;
    uv_mutex_t zmu;
    uv_cond_t zcond;
    segment_t **zq;
    size_t zn, zcap;
    _Atomic int zstop;
    _Atomic uint64_t st_compressed, st_compress_failed, st_compressed_plain;
};

/* The store whose writer runs on this thread, if any (invariant 5). */
static _Thread_local const store_t *this_writer;

static inline int on_loop(const store_t *s)
{
    uv_thread_t self = uv_thread_self();
    return uv_thread_equal(&s->loop_thread, &self);
}

/* ---- groups and waiters (loop thread) -------------------------------------- */

static void waiters_init(store_waiter_t *head)
{
    head->next = head->prev = head;
}

static void waiter_unlink(store_waiter_t *w)
{
    w->prev->next = w->next;
    w->next->prev = w->prev;
    w->next = w->prev = NULL;
    w->linked = 0;
}

static void waiter_link(store_waiter_t *head, store_waiter_t *w)
{
    w->prev = head->prev;
    w->next = head;
    head->prev->next = w;
    head->prev = w;
    w->linked = 1;
}

static void group_reset(group_t *g)
{
    buf_reset(&g->data);
    buf_shrink(&g->data, 64u << 20);
    g->first_seq = g->last_seq = 0;
    g->records = 0;
    g->err = 0;
    g->written = g->synced = 0;
}

/* The group (open or with the writer) that has generation gen. */
static group_t *group_of_gen(store_t *s, uint64_t gen)
{
    if (s->open->gen == gen)
        return s->open;
    return s->open == &s->groups[0] ? &s->groups[1] : &s->groups[0];
}

/* Hands the open group to the writer when it is idle. */
static void kick(store_t *s)
{
    if (s->writer_busy || s->open->data.len == 0)
        return;
    group_t *g = s->open;
    s->open = g == &s->groups[0] ? &s->groups[1] : &s->groups[0];
    s->open->gen = ++s->gen;
    s->writer_busy = 1;
    uv_mutex_lock(&s->mu);
    s->todo = g;
    uv_cond_signal(&s->cond);
    uv_mutex_unlock(&s->mu);
}

/* Walks the frames of g->data, calling fn on each. */
static void each_frame(const group_t *g, void (*fn)(store_t *, const char *, size_t, int),
                       store_t *s)
{
    const char *p = g->data.data, *end = p + g->data.len;
    while (p < end) {
        size_t n = frame_size(p);
        fn(s, p, n, frame_flags(p) & RECORD_F_META);
        p += n;
    }
}

static void push_ring(store_t *s, const char *p, size_t n, int meta)
{
    if (meta)
        return;
    ring_push(&s->ring, p, n);
    s->levels[frame_level(p)]++;
}

static void forget_meta(store_t *s, const char *p, size_t n, int meta)
{
    record_t r;
    producer_batch_t b;
    if (meta && record_decode(p, n, &r) > 0 && producer_meta_parse(&r, &b) == 0)
        producer_forget(&s->producers, r.app.p, r.app.n, b.batch);
}

/* A group came back from the writer: publish it and answer its waiters. */
static void complete(store_t *s, group_t *g)
{
    CHECK(on_loop(s), "store.h invariant 5: only the loop thread sees waiters");
    CHECK((g->err == 0) == (g->written != 0),
          "store.h invariant 2: a group is stored whole or not at all");
    CHECK(!g->written || g->synced || s->o.fsync != FSYNC_ALWAYS,
          "store.h invariant 2: with --fsync always a waiter is answered after the sync");
    if (!g->err) {
        each_frame(g, push_ring, s);
        if (g->records) {
            CHECK(g->last_seq > atomic_load(&s->visible_seq),
                  "store.h invariant 3: records become visible in seq order, once written");
            atomic_store(&s->visible_seq, g->last_seq);
        }
    } else {
        /* not stored: a retry of these batches must be stored anew */
        each_frame(g, forget_meta, s);
    }
    s->done_gen = g->gen;
    atomic_fetch_sub(&s->pending_bytes, g->data.len);
    while (g->waiters.next != &g->waiters) {
        store_waiter_t *w = g->waiters.next;
        waiter_unlink(w);
        w->done(w, g->err, w->first, w->last);
    }
    uint64_t first = !g->err && g->records ? g->first_seq : 0, last = first ? g->last_seq : 0;
    group_reset(g);
    for (size_t i = 0; i < s->nlisteners; i++)
        s->listeners[i].fn(s->listeners[i].arg, first, last);
}

int store_backlogged(store_t *s)
{
    uint64_t pending = atomic_load(&s->pending_bytes);
    if (s->backlogged && pending < s->o.max_pending / 4)
        s->backlogged = 0;
    else if (!s->backlogged && pending > s->o.max_pending / 2)
        s->backlogged = 1;
    return s->backlogged;
}

static void on_async(uv_async_t *a)
{
    store_t *s = a->data;
    uv_mutex_lock(&s->mu);
    group_t *g = s->done;
    s->done = NULL;
    uv_mutex_unlock(&s->mu);
    if (!g)
        return;
    s->writer_busy = 0;
    complete(s, g);
    kick(s);
}

int store_append(store_t *s, batch_t *b, const char *producer, uint64_t batch_no, unsigned flags,
                 store_waiter_t *w, uint64_t *first, uint64_t *last)
{
    int err = atomic_load(&s->error);
    size_t idn = producer ? strlen(producer) : 0;

    CHECK(on_loop(s), "store.h invariant 5: only the loop thread calls store_append()");
    if (err)
        return err; /* FAILED: the sticky error (see the state table) */
    if (b->count == 0) {
        *first = *last = 0;
        return STORE_DONE;
    }
    if (producer) {
        producer_batch_t seen;
        switch (producer_lookup(&s->producers, producer, idn, batch_no, &seen)) {
        case PRODUCER_DUPLICATE:
            *first = seen.first;
            *last = seen.last;
            if (seen.gen <= s->done_gen)
                return STORE_DONE;
            /* still on its way to disk: wait for the original */
            if (!w)
                return STORE_DONE;
            w->first = seen.first;
            w->last = seen.last;
            waiter_link(&group_of_gen(s, seen.gen)->waiters, w);
            return STORE_PENDING;
        case PRODUCER_SUPERSEDED:
            *first = *last = 0;
            return STORE_DONE;
        case PRODUCER_NEW:
            break;
        }
    }
    if (!(flags & STORE_NOLIMIT) &&
        (size_t)atomic_load(&s->pending_bytes) + b->frames.len > s->o.max_pending)
        return -EAGAIN;

    group_t *g = s->open;
    uint64_t f = s->next_seq, l = s->next_seq + b->count - 1;
    CHECK(f > atomic_load(&s->visible_seq), "store.h invariant 1: a seq is never reused");
    size_t before = g->data.len;
    if (producer)
        producer_meta_encode(&g->data, producer, idn, batch_no, f, l);
    size_t start = g->data.len;
    buf_append(&g->data, b->frames.data, b->frames.len);
    char *p = g->data.data + start, *end = g->data.data + g->data.len;
    while (p < end) {
        record_seal(p, s->next_seq++);
        p += frame_size(p);
    }
    atomic_fetch_add(&s->pending_bytes, g->data.len - before);
    if (!g->first_seq)
        g->first_seq = f;
    g->last_seq = l;
    g->records += b->count;
    if (producer) {
        producer_batch_t pb = {batch_no, f, l, g->gen};
        producer_record(&s->producers, producer, idn, &pb);
    }
    *first = f;
    *last = l;
    if (w) {
        w->first = f;
        w->last = l;
        waiter_link(&g->waiters, w);
    }
    kick(s);
    return STORE_PENDING;
}

void store_cancel(store_t *s, store_waiter_t *w)
{
    CHECK(on_loop(s), "store.h invariant 5: only the loop thread sees waiters");
    if (w->linked)
        waiter_unlink(w);
}

void store_on_commit(store_t *s, store_commit_fn fn, void *arg)
{
    if (s->nlisteners == STORE_MAX_LISTENERS)
        abort(); /* a fixed set of modules listens; more is a programming error */
    s->listeners[s->nlisteners].fn = fn;
    s->listeners[s->nlisteners].arg = arg;
    s->nlisteners++;
}

void store_off_commit(store_t *s, store_commit_fn fn, void *arg)
{
    for (size_t i = 0; i < s->nlisteners; i++) {
        if (s->listeners[i].fn == fn && s->listeners[i].arg == arg) {
            memmove(&s->listeners[i], &s->listeners[i + 1],
                    (s->nlisteners - i - 1) * sizeof s->listeners[0]);
            s->nlisteners--;
            return;
        }
    }
}

uint64_t store_producer_last_batch(store_t *s, const char *producer)
{
    return producer_max_batch(&s->producers, producer, strlen(producer));
}

uint64_t store_last_seq(const store_t *s)
{
    return atomic_load(&((store_t *)s)->visible_seq);
}

uint64_t store_first_seq(store_t *s)
{
    uint64_t first = 0;
    uv_rwlock_rdlock(&s->seg_lock);
    for (size_t i = 0; i < s->segs.n && !first; i++)
        if (s->segs.v[i]->ix.n)
            first = s->segs.v[i]->ix.e[0].seq;
    uv_rwlock_rdunlock(&s->seg_lock);
    return first;
}

int store_error(const store_t *s)
{
    return atomic_load(&((store_t *)s)->error);
}

const ring_t *store_ring(const store_t *s)
{
    return &s->ring;
}

void store_set_retention(store_t *s, uint64_t bytes, int64_t age_ns)
{
    atomic_store(&s->retain_bytes, bytes);
    atomic_store(&s->retain_age_ns, age_ns);
}

void store_get_stats(store_t *s, store_stats_t *st)
{
    memset(st, 0, sizeof *st);
    uv_rwlock_rdlock(&s->seg_lock);
    st->segments = s->segs.n;
    for (size_t i = 0; i < s->segs.n; i++) {
        const segment_t *g = s->segs.v[i];
        st->bytes += atomic_load(&g->size);
        if (!g->ix.records)
            continue;
        if (!st->has_ts || g->ix.min_ts < st->min_ts)
            st->min_ts = g->ix.min_ts;
        if (!st->has_ts || g->ix.max_ts > st->max_ts)
            st->max_ts = g->ix.max_ts;
        st->has_ts = 1;
    }
    uv_rwlock_rdunlock(&s->seg_lock);
    memcpy(st->levels, s->levels, sizeof st->levels);
    st->fsync_seconds = &s->fsync_seconds;
    st->group_records = &s->group_records;
    st->records_written = atomic_load(&s->st_records);
    st->groups = atomic_load(&s->st_groups);
    st->syncs = atomic_load(&s->st_syncs);
    st->write_errors = atomic_load(&s->st_write_errors);
    st->damaged = atomic_load(&s->st_damaged);
    st->pending_bytes = atomic_load(&s->pending_bytes);
    st->retained_segments = atomic_load(&s->st_retained_segments);
    st->retained_bytes = atomic_load(&s->st_retained_bytes);
    st->compressed_segments = atomic_load(&s->st_compressed);
    st->compress_failures = atomic_load(&s->st_compress_failed);
    st->compressed_plain_bytes = atomic_load(&s->st_compressed_plain);
    st->last_seq = store_last_seq(s);
    st->first_seq = store_first_seq(s);
}

/* ---- the writer thread ----------------------------------------------------- */

/* fdatasync, timed for /metrics. Returns 0 or -errno. */
static int timed_sync(store_t *s, int fd)
{
    int64_t t0 = time_mono_ns();
    int rc = s->io->fdatasync(fd) ? -errno : 0;
    hist_observe_ns(&s->fsync_seconds, time_mono_ns() - t0);
    return rc;
}

/* Creates the segment that starts at first_seq and makes it active. */
static int open_segment(store_t *s, uint64_t first_seq)
{
    char path[4200], hdr[SEGMENT_HDR];
    segment_path(path, sizeof path, s->dir, first_seq, ".log");
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    segment_header_encode(hdr, first_seq, time_now_ns());
    int rc = io_pwrite_all(s->io, fd, hdr, sizeof hdr, 0);
    if (!rc && s->io->fdatasync(fd))
        rc = -errno;
    if (!rc) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/segments", s->dir);
        rc = io_sync_dir(dir);
    }
    if (rc) {
        close(fd);
        unlink(path);
        return rc;
    }
    segment_t *g = segment_new(first_seq, fd, SEGMENT_HDR, time_now_ns());
    g->ix.bytes = SEGMENT_HDR;
    uv_rwlock_wrlock(&s->seg_lock);
    seglist_push(&s->segs, g);
    uv_rwlock_wrunlock(&s->seg_lock);
    s->active = g;
    return 0;
}

/* Queues sealed segment g for the compressor (a reference for it). */
static void compress_later(store_t *s, segment_t *g)
{
    if (!s->o.compress_level || g->compressed || !g->ix.records)
        return;
    segment_ref(g);
    uv_mutex_lock(&s->zmu);
    if (s->zn == s->zcap) {
        s->zcap = s->zcap ? s->zcap * 2 : 16;
        s->zq = xrealloc(s->zq, s->zcap * sizeof *s->zq);
    }
    s->zq[s->zn++] = g;
    uv_cond_signal(&s->zcond);
    uv_mutex_unlock(&s->zmu);
}

typedef struct swap {
    store_t *s;
    const segment_t *old;
} swap_t;

/* zseg_swap_fn: puts the compressed segment in the plain one's place. */
static int swap_in(void *arg, segment_t *fresh)
{
    swap_t *w = arg;
    store_t *s = w->s;
    segment_t *old = NULL;
    uv_rwlock_wrlock(&s->seg_lock);
    for (size_t i = 0; i < s->segs.n; i++) {
        if (s->segs.v[i] == w->old) {
            old = s->segs.v[i];
            fresh->mtime_ns = old->mtime_ns; /* its age is its records' */
            s->segs.v[i] = fresh;            /* the list's reference, now fresh's */
            break;
        }
    }
    uv_rwlock_wrunlock(&s->seg_lock);
    if (!old)
        return 1; /* retention took it meanwhile */
    segment_unref(old);
    return 0;
}

static void compressor_main(void *arg)
{
    store_t *s = arg;
    /* behind the loops and the writer when the CPUs are busy: ingest
     * first, compression with what is left (Linux: nice per thread) */
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10))
        log_debug("store: the compressor keeps the default priority: %s", strerror(errno));
    for (;;) {
        uv_mutex_lock(&s->zmu);
        while (!s->zn && !atomic_load(&s->zstop))
            uv_cond_wait(&s->zcond, &s->zmu);
        if (atomic_load(&s->zstop)) {
            uv_mutex_unlock(&s->zmu);
            return;
        }
        segment_t *g = s->zq[0];
        memmove(s->zq, s->zq + 1, (s->zn - 1) * sizeof *s->zq);
        s->zn--;
        uv_mutex_unlock(&s->zmu);

        swap_t w = {s, g};
        uint64_t plain = atomic_load(&g->size);
        int rc = zseg_compact(s->dir, g, s->o.compress_level, &s->zstop, swap_in, &w,
                              s->o.compress_fault, s->o.compress_fault_arg);
        if (rc == 0) {
            atomic_fetch_add(&s->st_compressed, 1);
            atomic_fetch_add(&s->st_compressed_plain, plain);
        } else if (rc != -ECANCELED && rc != -ENOENT && rc != ZSEG_CRASHED) {
            atomic_fetch_add(&s->st_compress_failed, 1);
            log_warn("store: cannot compress segment %" PRIu64 ": %s (it stays as it is)",
                     g->first_seq, strerror(-rc));
        }
        segment_unref(g);
    }
}

/* Seals the active segment: synced, its index saved, never written again. */
static int seal(store_t *s)
{
    segment_t *g = s->active;
    char path[4200];
    CHECK(this_writer == s, "store.h invariant 5: only the writer thread writes segment files");
    CHECK(!g->sealed, "store.h invariant 4: a sealed segment is never written");
    int rc = timed_sync(s, g->fd);
    if (rc)
        return rc;
    atomic_fetch_add(&s->st_syncs, 1);
    s->dirty = 0;
    segment_path(path, sizeof path, s->dir, g->first_seq, ".idx");
    uv_rwlock_wrlock(&s->seg_lock);
    g->sealed = 1;
    uv_rwlock_wrunlock(&s->seg_lock);
    if (index_save(&g->ix, path))
        log_warn("store: cannot save index %s: %s (it will be rebuilt)", path, strerror(errno));
    return 0;
}

/* Deletes sealed segments beyond --retain-bytes or older than --retain-age. */
static void retain(store_t *s)
{
    uint64_t max_bytes = atomic_load(&s->retain_bytes);
    int64_t max_age = atomic_load(&s->retain_age_ns);
    if (!max_bytes && !max_age)
        return;
    int64_t now = time_now_ns();
    for (;;) {
        segment_t *victim = NULL;
        uint64_t total = 0;
        uv_rwlock_wrlock(&s->seg_lock);
        for (size_t i = 0; i < s->segs.n; i++)
            total += atomic_load(&s->segs.v[i]->size);
        if (s->segs.n > 1 && s->segs.v[0]->sealed) {
            segment_t *g = s->segs.v[0];
            int too_big = max_bytes && total > max_bytes;
            int too_old = max_age && now - g->mtime_ns > max_age;
            if (too_big || too_old) {
                victim = g;
                memmove(s->segs.v, s->segs.v + 1, (s->segs.n - 1) * sizeof *s->segs.v);
                s->segs.n--;
            }
        }
        uv_rwlock_wrunlock(&s->seg_lock);
        if (!victim)
            return;
        char path[4200];
        segment_path(path, sizeof path, s->dir, victim->first_seq, ".log");
        unlink(path);
        segment_path(path, sizeof path, s->dir, victim->first_seq, ".idx");
        unlink(path);
        segment_path(path, sizeof path, s->dir, victim->first_seq, ".zlog");
        unlink(path);
        log_info("store: retention removed segment %" PRIu64 " (%" PRIu64 " records, %" PRIu64
                 " bytes)",
                 victim->first_seq, victim->ix.records, (uint64_t)atomic_load(&victim->size));
        atomic_fetch_add(&s->st_retained_segments, 1);
        atomic_fetch_add(&s->st_retained_bytes, (uint64_t)atomic_load(&victim->size));
        segment_unref(victim); /* readers holding it keep the open file */
    }
}

/* Rolls to a new segment starting at first_seq. A roll that sealed the
 * active segment but could not open the next one (a full disk) leaves it
 * sealed and still active: the next roll only opens the new one. The
 * compressor gets the old one once it is no longer active. */
static int roll(store_t *s, uint64_t first_seq)
{
    segment_t *old = s->active;
    int rc = old->sealed ? 0 : seal(s);
    if (rc)
        return rc;
    rc = open_segment(s, first_seq);
    if (rc)
        return rc;
    compress_later(s, old);
    char path[4200];
    snprintf(path, sizeof path, "%s/producers.snap", s->dir);
    if (producer_save(&s->wproducers, path, first_seq))
        log_warn("store: cannot save producer snapshot: %s", strerror(errno));
    retain(s);
    return 0;
}

/* Writes frames [p, p+n) at the end of the active segment and indexes them. */
static int write_chunk(store_t *s, const char *p, size_t n)
{
    segment_t *g = s->active;
    uint64_t off = atomic_load(&g->size);
    CHECK(this_writer == s, "store.h invariant 5: only the writer thread writes segment files");
    CHECK(!g->sealed, "store.h invariant 4: a sealed segment is never written");
    int rc = io_pwrite_all(s->io, g->fd, p, n, off);
    if (rc) {
        /* roll back a partial write so the file ends on a whole frame */
        if (ftruncate(g->fd, (off_t)off))
            log_error("store: cannot cut partial write: %s", strerror(errno));
        return rc;
    }
    s->dirty = 1;
    uv_rwlock_wrlock(&s->seg_lock);
    const char *q = p, *end = p + n;
    while (q < end) {
        size_t fs = frame_size(q);
        uint64_t at = off + (uint64_t)(q - p);
        if (frame_flags(q) & RECORD_F_META) {
            index_skip(&g->ix, at, fs);
        } else {
            CHECK(frame_seq(q) > s->written_seq, "store.h invariant 1: seqs strictly increase");
            s->written_seq = frame_seq(q);
            index_add(&g->ix, frame_seq(q), at, fs, frame_ts(q));
        }
        q += fs;
    }
    atomic_store(&g->size, off + n);
    g->mtime_ns = time_now_ns();
    uv_rwlock_wrunlock(&s->seg_lock);
    return 0;
}

static void note_meta(store_t *s, const char *p, size_t n)
{
    record_t r;
    producer_batch_t b;
    if (record_decode(p, n, &r) > 0 && producer_meta_parse(&r, &b) == 0)
        producer_record(&s->wproducers, r.app.p, r.app.n, &b);
}

/* Writes one group, all of it or none of it: a group that fails leaves no
 * frame on disk, so its records can be appended again without a duplicate.
 * The segment rolls before a group that would take a non-empty segment past
 * --segment-size, so a group never spans two segments. */
static int write_group(store_t *s, group_t *g)
{
    int rc = reserve_cover(&s->reserve, g->last_seq);
    if (rc)
        return rc;
    CHECK(g->last_seq <= s->reserve.upto,
          "store.h invariant 1: seqs are reserved on disk before they are written");
    const char *p = g->data.data, *end = p + g->data.len;
    uint64_t size = atomic_load(&s->active->size);
    int sealed = s->active->sealed; /* a roll that could not open the next one */
    if (sealed || (size > SEGMENT_HDR && size + g->data.len > s->o.segment_size)) {
        const char *first = p;
        while (first < end && (frame_flags(first) & RECORD_F_META))
            first = frame_next(first);
        if ((first < end || sealed) &&
            (rc = roll(s, first < end ? frame_seq(first) : s->written_seq + 1)))
            return rc;
    }
    segment_t *a = s->active;
    index_mark_t mark;
    index_mark(&a->ix, &mark);
    uint64_t start = atomic_load(&a->size);
    if ((rc = write_chunk(s, p, g->data.len)))
        return rc; /* write_chunk cut the file back to start */
    g->written = 1;
    if (s->o.fsync == FSYNC_ALWAYS) {
        if ((rc = timed_sync(s, a->fd))) {
            /* not known to be on disk: take it back so it can be redone */
            g->written = 0;
            CHECK(start <= atomic_load(&a->size),
                  "store.h invariant 4: a rollback only cuts what this write added");
            uv_rwlock_wrlock(&s->seg_lock);
            index_restore(&a->ix, &mark);
            atomic_store(&a->size, start);
            uv_rwlock_wrunlock(&s->seg_lock);
            if (ftruncate(a->fd, (off_t)start))
                log_error("store: cannot cut unsynced write: %s", strerror(errno));
            return rc;
        }
        atomic_fetch_add(&s->st_syncs, 1);
        s->dirty = 0;
        s->last_sync = time_mono_ns();
        g->synced = 1;
    }
    for (; p < end; p = frame_next(p))
        if (frame_flags(p) & RECORD_F_META)
            note_meta(s, p, frame_size(p));
    atomic_fetch_add(&s->st_records, g->records);
    atomic_fetch_add(&s->st_groups, 1);
    hist_observe(&s->group_records, (double)g->records);
    return 0;
}

/* ---- the error state --------------------------------------------------------
 *
 * store.h's States, as a table. `error` is the state the loop sees: 0 in OK,
 * the -errno of the latest failure in FAILED. Only the writer thread moves
 * it, through transition().
 *
 *   state    event          next     and
 *   OK       write failed   FAILED   log the error, count it, probe in PROBE_EVERY
 *   FAILED   write failed   FAILED   count it (an interval sync), keep the new error
 *   FAILED   probe failed   FAILED   probe again in PROBE_EVERY
 *   FAILED   probe passed   OK       log it: appends are taken again
 *
 * A probe only runs in FAILED, so OK has no probe events. In FAILED no group
 * is written: each one that reaches the writer is answered with the error.
 */
enum store_state { STATE_OK, STATE_FAILED };
enum store_event { EV_WRITE_FAILED, EV_PROBE_FAILED, EV_PROBE_PASSED };

static const struct transition {
    int valid;
    enum store_state next;
} transitions[2][3] = {
    [STATE_OK] = {[EV_WRITE_FAILED] = {1, STATE_FAILED}},
    [STATE_FAILED] = {[EV_WRITE_FAILED] = {1, STATE_FAILED},
                      [EV_PROBE_FAILED] = {1, STATE_FAILED},
                      [EV_PROBE_PASSED] = {1, STATE_OK}},
};

/* Moves the error state on ev; err is the failure (-errno) and what names
 * the call that failed, for EV_WRITE_FAILED. Writer thread. */
static void transition(store_t *s, enum store_event ev, int err, const char *what)
{
    enum store_state from = atomic_load(&s->error) ? STATE_FAILED : STATE_OK;
    const struct transition *t = &transitions[from][ev];
    CHECK(this_writer == s, "store.h States: only the writer moves the error state");
    CHECK(t->valid, "store.h States: a probe runs only in FAILED");
    if (ev == EV_WRITE_FAILED) {
        if (from == STATE_OK)
            log_error("store: %s failed: %s; refusing appends until the disk recovers", what,
                      strerror(-err));
        atomic_fetch_add(&s->st_write_errors, 1);
    }
    if (t->next == STATE_FAILED) {
        CHECK(err < 0 || ev == EV_PROBE_FAILED, "store.h States: FAILED holds an error");
        if (ev == EV_WRITE_FAILED)
            atomic_store(&s->error, err);
        s->next_probe = time_mono_ns() + PROBE_EVERY;
    } else {
        atomic_store(&s->error, 0);
        log_info("store: writes succeed again; accepting appends");
    }
}

/* In the failed state: tries a small synced write; clears the error when it
 * works. The active segment is cut back to its last whole frame first. */
static void probe(store_t *s)
{
    char path[4200];
    /* as much as the write that failed needed (capped), so the store does
     * not flap between failing writes and succeeding small probes */
    size_t size = s->probe_size < 4096         ? 4096
                  : s->probe_size > (8u << 20) ? 8u << 20
                                               : s->probe_size;
    char *block = xcalloc(1, size);
    snprintf(path, sizeof path, "%s/.probe", s->dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int ok = fd >= 0 && io_pwrite_all(s->io, fd, block, size, 0) == 0 && s->io->fdatasync(fd) == 0;
    free(block);
    if (fd >= 0)
        close(fd);
    unlink(path);
    if (ok && s->active) {
        uint64_t end = atomic_load(&s->active->size);
        ok = ftruncate(s->active->fd, (off_t)end) == 0 && s->io->fdatasync(s->active->fd) == 0;
    }
    transition(s, ok ? EV_PROBE_PASSED : EV_PROBE_FAILED, 0, NULL);
}

static void writer_main(void *arg)
{
    store_t *s = arg;
    int64_t next_retain = time_mono_ns() + RETAIN_EVERY;

    this_writer = s;
    uv_mutex_lock(&s->mu);
    for (;;) {
        if (!s->todo && !s->stop) {
            int64_t now = time_mono_ns(), wake = next_retain;
            if (s->dirty && s->o.fsync == FSYNC_INTERVAL)
                wake = s->last_sync + (int64_t)s->o.fsync_interval_ms * NS_PER_MS;
            if (atomic_load(&s->error) && s->next_probe < wake)
                wake = s->next_probe;
            if (wake > now)
                uv_cond_timedwait(&s->cond, &s->mu, (uint64_t)(wake - now));
        }
        group_t *g = s->todo;
        int stop = s->stop;
        s->todo = NULL;
        uv_mutex_unlock(&s->mu);

        if (g) {
            int err = atomic_load(&s->error);
            if (!err) {
                err = write_group(s, g);
                if (err) {
                    s->probe_size = g->data.len;
                    transition(s, EV_WRITE_FAILED, err,
                               s->o.fsync == FSYNC_ALWAYS ? "write or sync" : "write");
                }
            }
            g->err = err;
            /* answer before the periodic sync below: with --fsync interval
             * the group's waiters need the write, not the sync */
            uv_mutex_lock(&s->mu);
            s->done = g;
            uv_cond_signal(&s->done_cond);
            uv_async_send(&s->async);
            uv_mutex_unlock(&s->mu);
        }
        int64_t now = time_mono_ns();
        if (s->dirty && s->o.fsync == FSYNC_INTERVAL &&
            (stop || now - s->last_sync >= (int64_t)s->o.fsync_interval_ms * NS_PER_MS)) {
            int rc = timed_sync(s, s->active->fd);
            if (rc) {
                transition(s, EV_WRITE_FAILED, rc, "sync");
            } else {
                atomic_fetch_add(&s->st_syncs, 1);
                s->dirty = 0;
            }
            s->last_sync = now;
        }
        if (atomic_load(&s->error) && now >= s->next_probe)
            probe(s);
        if (now >= next_retain) {
            retain(s);
            next_retain = now + RETAIN_EVERY;
        }

        uv_mutex_lock(&s->mu);
        if (stop && !s->todo)
            break;
    }
    uv_mutex_unlock(&s->mu);
    /* clean stop: everything is written; sync and release the reservation
     * so a clean restart continues at the next seq without a gap */
    if (s->active && s->dirty && s->o.fsync != FSYNC_NEVER && s->io->fdatasync(s->active->fd) == 0)
        s->dirty = 0;
    if (s->active && !s->dirty && atomic_load(&s->error) == 0)
        reserve_release(&s->reserve, s->written_seq_at_stop);
}

/* ---- open and close -------------------------------------------------------- */

static void store_free(store_t *s)
{
    for (size_t i = 0; i < s->zn; i++)
        segment_unref(s->zq[i]);
    free(s->zq);
    uv_mutex_destroy(&s->zmu);
    uv_cond_destroy(&s->zcond);
    seglist_free(&s->segs);
    for (int i = 0; i < 2; i++)
        buf_free(&s->groups[i].data);
    ring_free(&s->ring);
    producer_table_free(&s->producers);
    producer_table_free(&s->wproducers);
    uv_rwlock_destroy(&s->seg_lock);
    uv_mutex_destroy(&s->mu);
    uv_cond_destroy(&s->cond);
    uv_cond_destroy(&s->done_cond);
    free(s);
}

void store_ref(store_t *s)
{
    CHECK(on_loop(s), "store.h invariant 6: references are counted on the loop thread");
    CHECK(s->refs > 0, "store.h invariant 6: a reference is taken from a store not yet freed");
    s->refs++;
}

void store_unref(store_t *s)
{
    CHECK(on_loop(s), "store.h invariant 6: references are counted on the loop thread");
    CHECK(s->refs > 0, "store.h invariant 6: each reference is dropped once");
    if (--s->refs == 0)
        store_free(s);
}

/* The owner's reference goes with the handle: scans still running keep
 * the store until they end (invariant 6). */
static void on_async_closed(uv_handle_t *h)
{
    store_unref(h->data);
}

store_t *store_open(uv_loop_t *loop, const store_opts_t *o, char *err, size_t errcap)
{
    store_t *s = xcalloc(1, sizeof *s);
    s->loop = loop;
    s->loop_thread = uv_thread_self();
    s->refs = 1;
    s->o = *o;
    hist_init(&s->fsync_seconds, &hist_seconds);
    hist_init(&s->group_records, &hist_sizes);
    atomic_init(&s->retain_bytes, o->retain_bytes);
    atomic_init(&s->retain_age_ns, o->retain_age_ns);
    snprintf(s->dir, sizeof s->dir, "%s", o->dir);
    s->o.dir = s->dir;
    const char *quota = NULL;
    s->io = o->io ? o->io : io_default(&quota);
    if (quota)
        log_warn("store: a test build: writes are limited by the byte count in %s "
                 "(LOGSHIP_TEST_DISK_QUOTA)",
                 quota);
    s->reserve.dir = s->dir;
    s->reserve.io = s->io;
    for (int i = 0; i < 2; i++)
        waiters_init(&s->groups[i].waiters);
    s->open = &s->groups[0];
    s->open->gen = s->gen = 1;
    uv_rwlock_init(&s->seg_lock);
    uv_mutex_init(&s->zmu);
    uv_cond_init(&s->zcond);
    uv_mutex_init(&s->mu);
    uv_cond_init(&s->cond);
    uv_cond_init(&s->done_cond);
    producer_table_init(&s->producers);
    producer_table_init(&s->wproducers);
    atomic_init(&s->error, 0);
    atomic_init(&s->visible_seq, 0);
    atomic_init(&s->pending_bytes, 0);

    char segdir[4200];
    snprintf(segdir, sizeof segdir, "%s/segments", s->dir);
    if (mkdir(s->dir, 0755) && errno != EEXIST) {
        snprintf(err, errcap, "cannot create %s: %s", s->dir, strerror(errno));
        goto fail;
    }
    if (mkdir(segdir, 0755) && errno != EEXIST) {
        snprintf(err, errcap, "cannot create %s: %s", segdir, strerror(errno));
        goto fail;
    }

    /* recovery reads the directory; the store takes all it found */
    recover_result_t r;
    if (recover_dir(s->dir, &s->o, &r, err, errcap))
        goto fail;
    s->segs = r.segs;
    s->producers = r.producers;
    producer_table_copy(&s->wproducers, &s->producers);
    s->ring = r.window;
    s->next_seq = r.next_seq;
    s->written_seq = r.last_seq;
    s->reserve.upto = r.reserved;
    atomic_store(&s->visible_seq, r.last_seq);
    atomic_store(&s->st_damaged, r.damaged);

    /* appends go to the unsealed last segment, or to a new one */
    int rc = 0;
    if (s->segs.n && !s->segs.v[s->segs.n - 1]->sealed)
        s->active = s->segs.v[s->segs.n - 1];
    else if ((rc = open_segment(s, s->next_seq))) {
        snprintf(err, errcap, "cannot create a segment in %s: %s", segdir, strerror(-rc));
        goto fail;
    }
    s->async.data = s;
    if (uv_async_init(s->loop, &s->async, on_async)) {
        snprintf(err, errcap, "cannot start the store writer");
        goto fail;
    }
    if (uv_thread_create(&s->thread, writer_main, s)) {
        snprintf(err, errcap, "cannot start the store writer");
        /* the handle is the loop's now: s goes with its close callback */
        uv_close((uv_handle_t *)&s->async, on_async_closed);
        return NULL;
    }
    if (s->o.compress_level) {
        /* sealed plain segments (an older version's, or a rewrite that a
         * stop cut short) are compressed too */
        for (size_t i = 0; i < s->segs.n; i++)
            if (s->segs.v[i]->sealed)
                compress_later(s, s->segs.v[i]);
        if (uv_thread_create(&s->zthread, compressor_main, s) == 0)
            s->zstarted = 1;
        else
            log_warn("store: cannot start the compressor: segments stay plain");
    }
    log_info("store: %zu segment(s), records %" PRIu64 "..%" PRIu64 ", next seq %" PRIu64,
             s->segs.n, store_first_seq(s), r.last_seq, s->next_seq);
    return s;
fail:
    store_free(s);
    return NULL;
}

void store_close(store_t *s)
{
    if (!s)
        return;
    /* drain: hand over what is queued and wait for each group, answering
     * its waiters here since the loop is not running this callback */
    for (;;) {
        uv_mutex_lock(&s->mu);
        while (s->writer_busy && !s->done)
            uv_cond_wait(&s->done_cond, &s->mu);
        group_t *g = s->done;
        s->done = NULL;
        uv_mutex_unlock(&s->mu);
        if (g) {
            s->writer_busy = 0;
            complete(s, g);
        }
        if (s->open->data.len == 0 && !s->writer_busy)
            break;
        kick(s);
    }
    s->written_seq_at_stop = s->next_seq - 1;
    uv_mutex_lock(&s->mu);
    s->stop = 1;
    uv_cond_signal(&s->cond);
    uv_mutex_unlock(&s->mu);
    uv_thread_join(&s->thread);
    if (s->zstarted) {
        uv_mutex_lock(&s->zmu);
        atomic_store(&s->zstop, 1);
        uv_cond_signal(&s->zcond);
        uv_mutex_unlock(&s->zmu);
        uv_thread_join(&s->zthread);
        s->zstarted = 0;
    }
    uv_close((uv_handle_t *)&s->async, on_async_closed);
}

int store_scan_cancel(store_t *s, const filter_t *f, int backward, store_read_fn fn, void *arg,
                      const _Atomic int *cancel)
{
    return reader_scan_cancel(&s->segs, &s->seg_lock, atomic_load(&s->visible_seq), &s->st_damaged,
                              f, backward, fn, arg, cancel);
}

int store_scan_blocks(store_t *s, const filter_t *f, store_read_fn fn, void *arg,
                      store_block_fn on_block, void *block_arg, const _Atomic int *cancel)
{
    return reader_scan_blocks(&s->segs, &s->seg_lock, atomic_load(&s->visible_seq), &s->st_damaged,
                              f, fn, arg, on_block, block_arg, cancel);
}

int store_scan(store_t *s, const filter_t *f, int backward, store_read_fn fn, void *arg)
{
    return reader_scan(&s->segs, &s->seg_lock, atomic_load(&s->visible_seq), &s->st_damaged, f,
                       backward, fn, arg);
}
