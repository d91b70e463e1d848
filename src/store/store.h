/* store.h - the durable, append-only record log.
 *
 * DESIGN
 *
 * Records live in segment files (segment.h) under <data>/segments, each with
 * a sparse index (index.h) once sealed. The event loop thread appends; one
 * writer thread writes and syncs; readers (queries, lagging tails) scan on
 * libuv's thread pool. Nothing on the loop waits for the disk.
 *
 * Files: store.c opens the store (recovery, recover.c, reads the directory
 * into a recover_result_t that store.c takes over), appends and runs the
 * writer; reader.c scans; reserve.c keeps seq.reserve; segment.c and
 * index.c are the on-disk formats; producer.c the producer table; ring.c
 * the memory window; io.c the writes and syncs.
 *
 * Append path (group commit):
 *   1. store_append() runs on the loop: it checks the producer table for a
 *      retried batch, assigns seqs, seals each frame (seq + checksum) and
 *      copies the batch into the open group. No system call.
 *   2. When the writer is idle, the open group becomes the flushing group and
 *      the writer wakes. Batches that arrive meanwhile fill the next group,
 *      so many batches share one write() and one fdatasync().
 *   3. The writer writes the group with one write() (first rolling to a new
 *      segment if the group would take the current one past
 *      --segment-size), fdatasyncs it when --fsync always, and signals the
 *      loop. A group is written whole or not at all: a failed write or sync
 *      is cut back off the file. With --fsync interval it syncs at most every interval, off the
 *      loop; with never, the kernel decides.
 *   4. On the loop the group completes: its records enter the memory window,
 *      become visible to readers and subscribers, and waiters are answered.
 *
 * Invariants:
 *   1. seq is strictly increasing across segments and restarts and is never
 *      reused; a failed write leaves a gap, never a reuse. Seqs are reserved
 *      ahead on disk (seq.reserve, reserve.h): after a machine crash
 *      that lost written-but-unsynced records, numbering resumes past the
 *      reservation; after a process crash the page cache kept them all.
 *   2. A waiter is answered only after its records are written, and with
 *      --fsync always only after the fdatasync that covers them.
 *   3. Readers never see a record before its waiter could be answered.
 *   4. Segment files only grow, except when recovery cuts a torn tail or a
 *      failed write is rolled back; sealed segments are never written.
 *   5. Only the writer thread writes segment files; only the loop thread
 *      calls store_append() and sees waiters.
 *   6. The store is freed only once it is closed and no reader holds a
 *      reference (store_ref()): a scan queued or running on the thread pool
 *      when store_close() runs reads a store that is still whole.
 * Each one is CHECKed (common/check.h) where it must hold, citing it.
 *
 * States: OK, or FAILED after a write or sync error (sticky, like SQLite's
 * pager): appends are refused with the error until a periodic probe write
 * succeeds, then the store is OK again. Nothing stored is touched meanwhile;
 * a group that reaches the writer in FAILED is not written and its waiters
 * get the error. The transitions are a table in store.c (transition()).
 *
 * Compression (--compress zstd): a segment sealed by the writer is queued
 * for the compressor thread, which rewrites it as a .zlog (zseg.h: its
 * steps and their crash safety), then swaps it into the segment list under
 * seg_lock (readers holding the plain one keep reading it) and removes the
 * .log. At open, sealed plain segments are queued too. Neither the loop
 * nor the writer waits for it; store_close() stops it between blocks.
 *
 * Producers: a batch may carry a producer id and batch number. A meta frame
 * (RECORD_F_META) written with the batch records them; a retried batch that
 * the store already holds is answered with its original seqs. The table is
 * snapshotted at each segment roll and rebuilt at startup from the last
 * snapshot plus the meta frames after it.
 */
#ifndef LOGSHIP_STORE_H
#define LOGSHIP_STORE_H

#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "../common/record.h"
#include "../route/filter.h"
#include "ring.h"

enum fsync_policy { FSYNC_ALWAYS, FSYNC_INTERVAL, FSYNC_NEVER };

/* The system calls the store writes and syncs with: segment files, the
 * probe of the FAILED state and seq.reserve. store_io_system is the real
 * ones; a test puts its own in store_opts_t to inject faults (EIO or ENOSPC
 * from a write or a sync, short writes). Each behaves as its POSIX namesake
 * (-1 with errno set on failure). Called on the writer thread, and on the
 * loop thread while store_open() creates the first segment. Index files,
 * the producer snapshot and recovery's repairs use the real calls: their
 * failures are logged, never refuse appends. */
typedef struct store_io {
    ssize_t (*pwrite)(int fd, const void *p, size_t n, off_t off);
    int (*fdatasync)(int fd);
} store_io_t;
extern const store_io_t store_io_system;

typedef struct store_opts {
    const char *dir;
    uint64_t segment_size;
    enum fsync_policy fsync;
    unsigned fsync_interval_ms;
    uint64_t retain_bytes; /* 0: no size limit */
    int64_t retain_age_ns; /* 0: no age limit */
    size_t memory_records; /* the memory window */
    size_t memory_bytes;
    size_t max_pending;   /* bytes queued for the writer before appends are refused */
    const store_io_t *io; /* NULL: store_io_system (io.h: a test build's quota) */
    /* --compress: sealed segments are rewritten compressed (zseg.h) at
     * this zstd level by the store's compressor thread; 0 keeps them
     * plain. A test's hook may stop a rewrite at any step (zseg.h). */
    int compress_level;
    int (*compress_fault)(void *arg, int step);
    void *compress_fault_arg;
} store_opts_t;

typedef struct store store_t;

/* Someone waiting for an append to be durable. Embedded in the caller's
 * object (no allocation per append); the store links it until done. */
typedef struct store_waiter store_waiter_t;
typedef void (*store_done_fn)(store_waiter_t *w, int err, uint64_t first, uint64_t last);
struct store_waiter {
    store_done_fn done;
    store_waiter_t *prev, *next;
    uint64_t first, last;
    int linked;
};

/* Return values of store_append(). */
#define STORE_PENDING 0 /* the waiter will be called */
#define STORE_DONE    1 /* already stored (a retried batch, or empty): *first, *last set */
/* Negative values are -errno: -EAGAIN when the writer is too far behind,
 * the sticky error (-ENOSPC, -EIO, ...) when the store has failed. */

/* Opens (creating if needed) and recovers the store at o->dir, logging what
 * recovery did. Returns NULL with err filled on failure. Loop thread. */
store_t *store_open(uv_loop_t *loop, const store_opts_t *o, char *err, size_t errcap);
/* Writes what is queued, syncs and stops the writer; the store is freed
 * once its handle has closed and the last reference is dropped (invariant
 * 6). Waiters still queued are answered first. After it, nothing may be
 * appended; readers holding a reference may still scan. Loop thread. */
void store_close(store_t *s);
/* A reference for a reader off the loop: a job that will scan the store on
 * libuv's thread pool takes one before it is queued and drops it in its
 * after-callback (or when it is freed), so that a store_close() meanwhile
 * does not free the store under the scan. Loop thread (both). */
void store_ref(store_t *s);
void store_unref(store_t *s);

#define STORE_NOLIMIT 0x01 /* append even when the writer is behind */

/* Appends b's frames (copied; b may be reused at once). producer may be NULL
 * (then batch_no is ignored). w may be NULL when nobody waits for the
 * records to be durable. Without STORE_NOLIMIT, an append that would take
 * the bytes queued for the writer past max_pending is refused (-EAGAIN);
 * inputs that cannot refuse use store_backlogged() to stop reading instead,
 * and append what they already read with STORE_NOLIMIT. Loop thread. */
int store_append(store_t *s, batch_t *b, const char *producer, uint64_t batch_no, unsigned flags,
                 store_waiter_t *w, uint64_t *first, uint64_t *last);
/* 1 from when the bytes queued for the writer pass max_pending / 2 until
 * they drop below max_pending / 4: stream inputs stop reading meanwhile. */
int store_backlogged(store_t *s);
/* Forgets a waiter whose owner is going away; its records are still stored. */
void store_cancel(store_t *s, store_waiter_t *w);

/* Called on the loop after each write completes: records [first, last]
 * became visible (first is 0 when the write held no records or failed).
 * Up to STORE_MAX_LISTENERS listeners (live tail, inputs waiting to resume). */
#define STORE_MAX_LISTENERS 8
typedef void (*store_commit_fn)(void *arg, uint64_t first, uint64_t last);
void store_on_commit(store_t *s, store_commit_fn fn, void *arg);
void store_off_commit(store_t *s, store_commit_fn fn, void *arg);
/* Highest batch number stored (or being stored) for a producer; 0 if none. */
uint64_t store_producer_last_batch(store_t *s, const char *producer);

/* Newest visible seq (0 when empty), and the oldest one still stored. */
uint64_t store_last_seq(const store_t *s);
uint64_t store_first_seq(store_t *s);
/* 0, or the sticky -errno. */
int store_error(const store_t *s);
/* The memory window: frames of the newest visible records. Loop thread. */
const ring_t *store_ring(const store_t *s);

/* Reading. Calls fn for each visible record that passes f, in seq order
 * (or newest first when backward), starting after f->after; stops when fn
 * returns nonzero. Skips segments and blocks whose times cannot match.
 * Damaged records are reported in the log and skipped. Any thread; off the
 * loop, only with a reference held (store_ref()).
 * Returns 0, or -errno on a read error. */
typedef int (*store_read_fn)(void *arg, const record_t *r);
int store_scan(store_t *s, const filter_t *f, int backward, store_read_fn fn, void *arg);
/* store_scan that also stops, before its next block, once *cancel is
 * nonzero (a query whose client went away). */
int store_scan_cancel(store_t *s, const filter_t *f, int backward, store_read_fn fn, void *arg,
                      const _Atomic int *cancel);

/* store_scan_blocks: before reading a block of a compressed segment,
 * on_block sees its filter (bfilter.h: its level and value counts) and its
 * time bounds; when it returns 1 it has taken the block's records from
 * those (a count that needs no record), and the block is not read. Forward
 * only. */
struct bfilter;
typedef int (*store_block_fn)(void *arg, const struct bfilter *bf, int64_t min_ts, int64_t max_ts);
int store_scan_blocks(store_t *s, const filter_t *f, store_read_fn fn, void *arg,
                      store_block_fn on_block, void *block_arg, const _Atomic int *cancel);

/* Counters for /metrics and /healthz. */
typedef struct store_stats {
    uint64_t segments, bytes, records_written, groups, syncs, write_errors;
    uint64_t damaged; /* corrupt records skipped by readers */
    uint64_t pending_bytes;
    uint64_t retained_segments, retained_bytes; /* removed by retention */
    uint64_t compressed_segments, compress_failures, compressed_plain_bytes;
    uint64_t first_seq, last_seq;
    int has_ts;             /* min_ts and max_ts are set: some record is stored */
    int64_t min_ts, max_ts; /* the oldest and newest record times */
    uint64_t levels[8];     /* records stored since start, by level */
    const struct hist *fsync_seconds, *group_records; /* live, for /metrics */
} store_stats_t;
/* Changes --retain-bytes and --retain-age of a running store (0: none). */
void store_set_retention(store_t *s, uint64_t bytes, int64_t age_ns);
void store_get_stats(store_t *s, store_stats_t *st);

#endif
