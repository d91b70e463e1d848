/* test_store_faults.c - the store (src/store) under I/O faults injected
 * through store_opts_t.io, so no root and no small filesystem: EIO and
 * ENOSPC from writes and from syncs, short writes, a disk that fills in the
 * middle of a write.
 *
 * What must hold: a failed write or sync is reported to its waiters and
 * never acknowledged; the store goes FAILED and refuses appends with the
 * error (store.h, States); a short write is completed, or rolled back when
 * it can not be; when the fault clears the store is OK again, and a
 * reopened store holds every acknowledged record, in order, and nothing
 * that was refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "store/segment.h"
#include "store/store.h"

/* ---- the fault injector (the writer thread calls it) ---------------------- */

enum { T_SEGMENTS = 1, T_RESERVE = 2, T_PROBE = 4, T_ALL = 7 };

static struct {
    _Atomic int target;       /* which files the faults hit: T_* bits */
    _Atomic int write_err;    /* errno for every write (0: none) */
    _Atomic int sync_err;     /* errno for every fdatasync (0: none) */
    _Atomic long room;        /* bytes writes may still put, then ENOSPC (-1: no limit) */
    _Atomic size_t short_max; /* a write puts at most this many bytes (0: all) */
    _Atomic int hold;         /* segment writes wait while it is set */
    _Atomic unsigned long seg_writes, short_writes;
} F;

static void faults_clear(void)
{
    atomic_store(&F.write_err, 0);
    atomic_store(&F.sync_err, 0);
    atomic_store(&F.room, -1);
    atomic_store(&F.short_max, 0);
    atomic_store(&F.hold, 0);
}

static int kind(int fd)
{
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 0)
        return 0;
    path[n] = '\0';
    if (strstr(path, "/segments/"))
        return T_SEGMENTS;
    if (strstr(path, "/seq.reserve"))
        return T_RESERVE;
    if (strstr(path, "/.probe"))
        return T_PROBE;
    return 0;
}

static ssize_t f_pwrite(int fd, const void *p, size_t n, off_t off)
{
    int k = kind(fd);
    if (k == T_SEGMENTS) {
        while (atomic_load(&F.hold))
            nanosleep(&(struct timespec){0, 1000 * 1000}, NULL);
        atomic_fetch_add(&F.seg_writes, 1);
    }
    if (k & atomic_load(&F.target)) {
        int err = atomic_load(&F.write_err);
        if (err) {
            errno = err;
            return -1;
        }
        size_t max = atomic_load(&F.short_max);
        if (max && n > max) {
            n = max;
            atomic_fetch_add(&F.short_writes, 1);
        }
        long room = atomic_load(&F.room);
        if (room >= 0) {
            if (room == 0 && n) {
                errno = ENOSPC;
                return -1;
            }
            if ((long)n > room) {
                n = (size_t)room;
                atomic_fetch_add(&F.short_writes, 1);
            }
            atomic_fetch_sub(&F.room, (long)n);
        }
    }
    return pwrite(fd, p, n, off);
}

static int f_fdatasync(int fd)
{
    int err = atomic_load(&F.sync_err);
    if (err && (kind(fd) & atomic_load(&F.target))) {
        errno = err;
        return -1;
    }
    return fdatasync(fd);
}

static const store_io_t faulty = {f_pwrite, f_fdatasync};

/* ---- a store and what it acknowledged ------------------------------------ */

#define MAX_ACKED 4096

typedef struct wait {
    store_waiter_t w;
    int done, err;
    uint64_t first, last;
} wait_t;

typedef struct fixture {
    uv_loop_t loop;
    char dir[256];
    store_t *s;
    store_opts_t o;
    uint64_t seqs[MAX_ACKED]; /* every acknowledged record, in order */
    char msgs[MAX_ACKED][32];
    size_t nacked;
    wait_t w[4]; /* here, not on a test's stack: a failed test leaves them linked */
} fixture_t;

static void on_done(store_waiter_t *w, int err, uint64_t first, uint64_t last)
{
    wait_t *x = container_of(w, wait_t, w);
    x->done = 1;
    x->err = err;
    x->first = first;
    x->last = last;
}

static void open_store(fixture_t *f)
{
    char err[256] = "";
    f->s = store_open(&f->loop, &f->o, err, sizeof err);
    if (!f->s)
        fail_msg("store_open: %s", err);
}

static void close_store(fixture_t *f)
{
    store_close(f->s);
    f->s = NULL;
    uv_run(&f->loop, UV_RUN_DEFAULT); /* lets the store's handle close */
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    uv_loop_init(&f->loop);
    snprintf(f->dir, sizeof f->dir, "/tmp/logship-test-faults.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->o = (store_opts_t){
        .dir = f->dir,
        .segment_size = 64u << 20,
        .fsync = FSYNC_ALWAYS,
        .fsync_interval_ms = 20,
        .memory_records = 1000,
        .memory_bytes = 1u << 20,
        .max_pending = 64u << 20,
        .io = &faulty,
    };
    log_threshold = LOG_ERROR - 1; /* the failures are expected: keep them quiet */
    atomic_store(&F.target, T_ALL);
    atomic_store(&F.seg_writes, 0);
    atomic_store(&F.short_writes, 0);
    faults_clear();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    faults_clear();
    if (f->s)
        close_store(f);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    uv_loop_close(&f->loop);
    free(f);
    return 0;
}

/* Appends n records "<prefix> i" without running the loop. Returns what
 * store_append() returned; w (may be NULL) is the waiter. */
static int append_start(fixture_t *f, const char *prefix, int n, const char *producer,
                        uint64_t batch_no, wait_t *w)
{
    batch_t b = {0};
    char msg[32];
    for (int i = 0; i < n; i++) {
        record_t r = {0};
        snprintf(msg, sizeof msg, "%s %d", prefix, i);
        r.msg = slice_cstr(msg);
        r.topic = SLICE_LIT("test.info");
        r.app = SLICE_LIT("test");
        r.level = 6;
        r.ts = 1000 + i;
        batch_add(&b, &r);
    }
    uint64_t first = 0, last = 0;
    if (w) {
        memset(w, 0, sizeof *w);
        w->w.done = on_done;
    }
    int rc = store_append(f->s, &b, producer, batch_no, 0, w ? &w->w : NULL, &first, &last);
    if (w && rc == STORE_PENDING) {
        w->first = first;
        w->last = last;
    }
    batch_free(&b);
    return rc;
}

static void wait_for(fixture_t *f, wait_t *w)
{
    while (!w->done)
        uv_run(&f->loop, UV_RUN_ONCE);
}

/* Appends and waits; the records must be acknowledged (they are noted). */
static uint64_t append_acked(fixture_t *f, const char *prefix, int n, const char *producer,
                             uint64_t batch_no)
{
    wait_t *w = &f->w[0];
    int rc = append_start(f, prefix, n, producer, batch_no, w);
    assert_int_equal(rc, STORE_PENDING);
    wait_for(f, w);
    if (w->err)
        fail_msg("append of %s: %s", prefix, strerror(-w->err));
    assert_int_equal(w->last - w->first + 1, (uint64_t)n);
    for (int i = 0; i < n; i++) {
        assert_true(f->nacked < MAX_ACKED);
        f->seqs[f->nacked] = w->first + (uint64_t)i;
        snprintf(f->msgs[f->nacked], sizeof f->msgs[0], "%s %d", prefix, i);
        f->nacked++;
    }
    return w->first;
}

/* Runs the loop until the store is OK again (the writer's probe passed). */
static void wait_ok(fixture_t *f)
{
    for (int i = 0; i < 1000 && store_error(f->s); i++) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    assert_int_equal(store_error(f->s), 0);
}

/* Runs the loop until the store has failed (an interval sync failed). */
static void wait_failed(fixture_t *f)
{
    for (int i = 0; i < 1000 && !store_error(f->s); i++) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    assert_int_not_equal(store_error(f->s), 0);
}

typedef struct collected {
    uint64_t seqs[MAX_ACKED];
    char msgs[MAX_ACKED][32];
    size_t n;
} collected_t;

static int collect(void *arg, const record_t *r)
{
    collected_t *c = arg;
    if (c->n < MAX_ACKED) {
        c->seqs[c->n] = r->seq;
        snprintf(c->msgs[c->n], sizeof c->msgs[0], "%.*s", (int)r->msg.n, r->msg.p);
        c->n++;
    }
    return 0;
}

/* The store holds exactly the acknowledged records, in order, and no
 * damaged ones. */
static void assert_holds_acked(fixture_t *f)
{
    static collected_t c;
    filter_t flt;
    memset(&c, 0, sizeof c);
    filter_init(&flt);
    assert_int_equal(store_scan(f->s, &flt, 0, collect, &c), 0);
    if (c.n != f->nacked)
        fail_msg("%zu records stored, %zu acknowledged", c.n, f->nacked);
    for (size_t i = 0; i < c.n; i++) {
        assert_int_equal(c.seqs[i], f->seqs[i]);
        assert_string_equal(c.msgs[i], f->msgs[i]);
    }
    store_stats_t st;
    store_get_stats(f->s, &st);
    assert_int_equal(st.damaged, 0);
    assert_int_equal(st.last_seq, f->nacked ? f->seqs[f->nacked - 1] : 0);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static long segment_size(fixture_t *f)
{
    char path[400];
    segment_path(path, sizeof path, f->dir, 1, ".log");
    return file_size(path);
}

/* ---- the tests ------------------------------------------------------------ */

/* One fault from a write or a sync, end to end (see the file's comment). */
static void fault_cycle(fixture_t *f, int write_err, int sync_err)
{
    open_store(f);
    append_acked(f, "before", 5, NULL, 0);
    append_acked(f, "producer", 3, "prod-1", 1);
    long size = segment_size(f);
    uint64_t last = store_last_seq(f->s);

    atomic_store(&F.write_err, write_err);
    atomic_store(&F.sync_err, sync_err);
    int err = -(write_err ? write_err : sync_err);
    wait_t *lost = &f->w[1];
    assert_int_equal(append_start(f, "lost", 4, "prod-1", 2, lost), STORE_PENDING);
    wait_for(f, lost);
    assert_int_equal(lost->err, err); /* reported, not acknowledged */

    /* FAILED: appends are refused with the error, nobody waits */
    assert_int_equal(store_error(f->s), err);
    wait_t *refused = &f->w[2];
    assert_int_equal(append_start(f, "refused", 1, NULL, 0, refused), err);
    assert_false(refused->done);
    assert_false(refused->w.linked);
    store_stats_t st;
    store_get_stats(f->s, &st);
    assert_true(st.write_errors >= 1);
    /* nothing of the failed group is on disk, visible or in the window */
    assert_int_equal(segment_size(f), size);
    assert_int_equal(store_last_seq(f->s), last);
    assert_int_equal(ring_count(store_ring(f->s)), f->nacked);
    assert_holds_acked(f);

    /* the fault clears: the probe finds the disk working, appends resume */
    faults_clear();
    wait_ok(f);
    /* batch 2 of prod-1 was never stored: resent, it is stored anew, with
     * seqs after the ones the failed write used (a gap, never a reuse) */
    uint64_t first = append_acked(f, "retry", 4, "prod-1", 2);
    assert_true(first > lost->last);
    append_acked(f, "after", 2, NULL, 0);
    assert_holds_acked(f);

    /* nothing acknowledged is lost across a restart */
    close_store(f);
    open_store(f);
    assert_holds_acked(f);
    assert_int_equal(append_start(f, "retry", 4, "prod-1", 2, &f->w[1]), STORE_DONE);
    append_acked(f, "reopened", 1, NULL, 0);
    assert_holds_acked(f);
}

static void test_write_eio(void **state)
{
    fault_cycle(*state, EIO, 0);
}

static void test_write_enospc(void **state)
{
    fault_cycle(*state, ENOSPC, 0);
}

static void test_fsync_eio(void **state)
{
    fault_cycle(*state, 0, EIO);
}

static void test_fsync_enospc(void **state)
{
    fault_cycle(*state, 0, ENOSPC);
}

/* Writes that each put a few bytes are carried on to the end. */
static void test_short_writes_are_completed(void **state)
{
    fixture_t *f = *state;
    atomic_store(&F.short_max, 7);
    open_store(f);
    for (int i = 0; i < 20; i++) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "short%d", i);
        append_acked(f, prefix, 1 + i % 5, i % 2 ? "prod-s" : NULL, (uint64_t)i + 1);
    }
    assert_true(atomic_load(&F.short_writes) > 100);
    assert_int_equal(store_error(f->s), 0);
    store_stats_t st;
    store_get_stats(f->s, &st);
    assert_int_equal(st.write_errors, 0);
    assert_holds_acked(f);
    close_store(f);
    faults_clear();
    open_store(f);
    assert_holds_acked(f);
}

/* The disk fills in the middle of a group: the part written is cut off
 * again, so the file ends on a whole frame and recovery has nothing to cut. */
static void test_disk_full_mid_write_is_rolled_back(void **state)
{
    fixture_t *f = *state;
    open_store(f);
    append_acked(f, "before", 3, NULL, 0);
    long size = segment_size(f);

    atomic_store(&F.room, 100); /* the group below takes several hundred bytes */
    wait_t *w = &f->w[1];
    assert_int_equal(append_start(f, "half", 5, "prod-h", 1, w), STORE_PENDING);
    wait_for(f, w);
    assert_int_equal(w->err, -ENOSPC);
    assert_true(atomic_load(&F.short_writes) >= 1); /* it was cut short, then failed */
    assert_int_equal(store_error(f->s), -ENOSPC);
    assert_int_equal(segment_size(f), size); /* rolled back */

    atomic_store(&F.room, -1); /* space freed */
    wait_ok(f);
    append_acked(f, "half", 5, "prod-h", 1); /* never stored: stored now */
    assert_holds_acked(f);
    close_store(f);
    long closed = segment_size(f);
    open_store(f);
    assert_int_equal(segment_size(f), closed); /* no torn tail to cut */
    assert_holds_acked(f);
}

/* Groups that reach the writer after a failure are not written: their
 * waiters, and those of a retried batch waiting for its original, get the
 * error too. */
static void test_queued_groups_get_the_error(void **state)
{
    fixture_t *f = *state;
    open_store(f);
    append_acked(f, "before", 2, NULL, 0);
    unsigned long writes = atomic_load(&F.seg_writes);

    /* the writer takes a's group and waits in its write: the store is still
     * OK while a retry of a and then b are appended behind it */
    atomic_store(&F.hold, 1);
    atomic_store(&F.write_err, EIO);
    wait_t *a = &f->w[1], *a_again = &f->w[2], *b = &f->w[3];
    assert_int_equal(append_start(f, "a", 2, "prod-q", 1, a), STORE_PENDING);
    assert_int_equal(append_start(f, "a", 2, "prod-q", 1, a_again), STORE_PENDING);
    assert_int_equal(append_start(f, "b", 3, NULL, 0, b), STORE_PENDING);
    assert_int_equal(a_again->first, a->first); /* waits for the original */
    atomic_store(&F.hold, 0);
    wait_for(f, a);
    wait_for(f, a_again);
    wait_for(f, b);
    assert_int_equal(a->err, -EIO);
    assert_int_equal(a_again->err, -EIO);
    assert_int_equal(b->err, -EIO);
    assert_int_equal(atomic_load(&F.seg_writes), writes + 1); /* b's group was never tried */

    faults_clear();
    wait_ok(f);
    uint64_t first = append_acked(f, "a", 2, "prod-q", 1);
    assert_true(first > b->last);
    assert_holds_acked(f);
    close_store(f);
    open_store(f);
    assert_holds_acked(f);
}

/* The seq reservation is written before the records that use its seqs: when
 * it can not be, the group fails like a failed segment write. */
static void test_reservation_write_fails(void **state)
{
    fixture_t *f = *state;
    atomic_store(&F.target, T_RESERVE | T_PROBE);
    atomic_store(&F.write_err, EIO);
    open_store(f);
    wait_t *w = &f->w[1];
    assert_int_equal(append_start(f, "first", 3, NULL, 0, w), STORE_PENDING);
    wait_for(f, w);
    assert_int_equal(w->err, -EIO);
    assert_int_equal(store_error(f->s), -EIO);
    assert_int_equal(store_last_seq(f->s), 0);

    faults_clear();
    wait_ok(f);
    uint64_t first = append_acked(f, "second", 3, NULL, 0);
    assert_true(first > w->last);
    close_store(f);
    open_store(f);
    assert_holds_acked(f);
}

/* With --fsync interval a waiter needs the write only (store.h); a sync
 * that fails afterwards still makes the store FAILED until it recovers. */
static void test_interval_sync_failure(void **state)
{
    fixture_t *f = *state;
    f->o.fsync = FSYNC_INTERVAL;
    open_store(f);
    append_acked(f, "before", 2, NULL, 0);
    atomic_store(&F.sync_err, EIO);
    append_acked(f, "written", 2, NULL, 0); /* acknowledged once written */
    wait_failed(f);
    assert_int_equal(store_error(f->s), -EIO);
    assert_int_equal(append_start(f, "refused", 1, NULL, 0, &f->w[1]), -EIO);

    faults_clear();
    wait_ok(f);
    append_acked(f, "after", 2, NULL, 0);
    assert_holds_acked(f);
    close_store(f);
    open_store(f);
    assert_holds_acked(f);
}

/* A roll whose new segment cannot be created (the disk full right after
 * the old one was sealed) fails like a write; once the disk has room the
 * next append opens the new segment instead of sealing the sealed one
 * again (which aborted: store.h invariant 4), and nothing is lost. */
static void test_roll_fails_after_the_seal(void **state)
{
    fixture_t *f = *state;
    f->o.segment_size = 4096;
    open_store(f);
    atomic_store(&F.target, T_SEGMENTS);
    append_acked(f, "first", 3, NULL, 0);
    atomic_store(&F.room, 0); /* the seal syncs; the new segment's header fails */
    wait_t *w = &f->w[1];
    assert_int_equal(append_start(f, "rolled", 200, NULL, 0, w), STORE_PENDING);
    wait_for(f, w);
    assert_int_equal(w->err, -ENOSPC);
    wait_failed(f);

    faults_clear();
    wait_ok(f);
    append_acked(f, "after", 200, NULL, 0);
    append_acked(f, "more", 200, NULL, 0);
    assert_holds_acked(f);
    close_store(f);
    open_store(f);
    assert_holds_acked(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_eio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_enospc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsync_eio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsync_enospc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_writes_are_completed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_full_mid_write_is_rolled_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queued_groups_get_the_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reservation_write_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interval_sync_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roll_fails_after_the_seal, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
