/* store_int.h - the store's internals, shared by store.c, recover.c and
 * reader.c. Nothing outside src/store includes this. */
#ifndef LOGSHIP_STORE_INT_H
#define LOGSHIP_STORE_INT_H

#include <stdatomic.h>

#include "index.h"
#include "producer.h"
#include "reserve.h"
#include "../common/hist.h"
#include "store.h"

/* A segment file. Sealed segments are immutable; the active one grows.
 * `ix` and `sealed` change under seg_lock (write); `size` is atomic. */
typedef struct segment {
    uint64_t first_seq;
    int fd; /* read-write for the active segment, read-only otherwise */
    seg_index_t ix;
    _Atomic uint64_t size; /* bytes written and indexed */
    int sealed;
    _Atomic int refs;
    int64_t mtime_ns; /* last write, for --retain-age */
} segment_t;

/* Batches appended while the writer was busy: written as one. */
typedef struct group {
    buf_t data; /* sealed frames, meta frames first in their batch */
    uint64_t first_seq, last_seq;
    size_t records;
    uint64_t gen;
    int err;
    store_waiter_t waiters; /* list head */
} group_t;

struct store {
    uv_loop_t *loop;
    store_opts_t o;
    char dir[4096];

    /* loop thread */
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

    /* shared */
    _Atomic uint64_t visible_seq;
    _Atomic int error; /* 0 or -errno, sticky until a probe succeeds */
    _Atomic uint64_t pending_bytes;
    _Atomic uint64_t st_records, st_groups, st_syncs, st_write_errors, st_damaged;
    _Atomic uint64_t st_retained_segments, st_retained_bytes; /* removed by retention */
    /* --retain-bytes and --retain-age as they are now (a reload may change
     * them; the writer thread reads them) */
    _Atomic uint64_t retain_bytes;
    hist_t fsync_seconds, group_records; /* observed by the writer thread */
    uint64_t levels[8]; /* records stored since start, by level (loop thread) */
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
    producer_table_t wproducers;

    /* segments, oldest first */
    uv_rwlock_t seg_lock;
    segment_t **segs;
    size_t nsegs, capsegs;
};

void seg_ref(segment_t *g);
void seg_unref(segment_t *g);
void segs_push(store_t *s, segment_t *g);
store_t *store_alloc(uv_loop_t *loop, const store_opts_t *o);
void store_free(store_t *s);
int store_init_active(store_t *s);
int store_init_async(store_t *s);
int store_start_writer(store_t *s);

#endif
