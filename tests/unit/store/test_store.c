/* test_store.c - the durable store through its API (src/store/store.c):
 * appends, scans and restarts, recovery of every truncation point of the
 * last segment and damaged records (recover.c), producers' retries
 * (producer.c), rolling and retention, a reader's reference across close.
 * These run a whole store, so they stay in one file named after store.c;
 * the index alone is test_index.c's, record frames are
 * common/test_record.c's, I/O faults test_store_faults.c's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "store/segment.h"
#include "store/store.h"

typedef struct fixture {
    uv_loop_t loop;
    char dir[256];
    store_t *s;
} fixture_t;

typedef struct wait {
    store_waiter_t w;
    int done, err;
} wait_t;

static void on_done(store_waiter_t *w, int err, uint64_t first, uint64_t last)
{
    wait_t *x = container_of(w, wait_t, w);
    (void)first;
    (void)last;
    x->done = 1;
    x->err = err;
}

static store_opts_t opts(const char *dir)
{
    store_opts_t o = {
        .dir = dir,
        .segment_size = 64u << 20,
        .fsync = FSYNC_ALWAYS,
        .fsync_interval_ms = 200,
        .memory_records = 1000,
        .memory_bytes = 1u << 20,
        .max_pending = 64u << 20,
    };
    return o;
}

static void open_store(fixture_t *f, const store_opts_t *o)
{
    char err[256] = "";
    f->s = store_open(&f->loop, o, err, sizeof err);
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
    snprintf(f->dir, sizeof f->dir, "/tmp/logship-test-store.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    log_threshold = LOG_ERROR;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    if (f->s)
        close_store(f);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    uv_loop_close(&f->loop);
    free(f);
    return 0;
}

/* Builds a batch of n records "<prefix> i" and appends it, waiting until it
 * is stored. Returns the first seq. */
static uint64_t append(fixture_t *f, const char *prefix, int n, const char *producer,
                       uint64_t batch_no, int *rc_out)
{
    batch_t b = {0};
    char msg[128];
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
    wait_t w = {0};
    w.w.done = on_done;
    uint64_t first = 0, last = 0;
    int rc = store_append(f->s, &b, producer, batch_no, 0, &w.w, &first, &last);
    if (rc_out)
        *rc_out = rc;
    if (rc == STORE_PENDING) {
        while (!w.done)
            uv_run(&f->loop, UV_RUN_ONCE);
        assert_int_equal(w.err, 0);
    }
    batch_free(&b);
    return first;
}

typedef struct collected {
    uint64_t seqs[4096];
    char msgs[4096][32];
    size_t n;
} collected_t;

static int collect(void *arg, const record_t *r)
{
    collected_t *c = arg;
    if (c->n < 4096) {
        c->seqs[c->n] = r->seq;
        snprintf(c->msgs[c->n], sizeof c->msgs[0], "%.*s", (int)r->msg.n, r->msg.p);
        c->n++;
    }
    return 0;
}

static collected_t *scan_all(store_t *s, int backward, uint64_t after)
{
    static collected_t c;
    filter_t flt;
    memset(&c, 0, sizeof c);
    filter_init(&flt);
    flt.after = after;
    assert_int_equal(store_scan(s, &flt, backward, collect, &c), 0);
    return &c;
}

static void test_append_scan_restart(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = opts(f->dir);
    open_store(f, &o);
    assert_int_equal(append(f, "a", 3, NULL, 0, NULL), 1);
    assert_int_equal(append(f, "b", 2, NULL, 0, NULL), 4);
    assert_int_equal(store_last_seq(f->s), 5);
    collected_t *c = scan_all(f->s, 0, 0);
    assert_int_equal(c->n, 5);
    assert_string_equal(c->msgs[0], "a 0");
    assert_string_equal(c->msgs[4], "b 1");
    c = scan_all(f->s, 1, 0);
    assert_int_equal(c->seqs[0], 5);
    assert_int_equal(c->seqs[4], 1);
    c = scan_all(f->s, 0, 3);
    assert_int_equal(c->n, 2);
    assert_int_equal(c->seqs[0], 4);
    assert_int_equal(ring_count(store_ring(f->s)), 5);
    close_store(f);

    open_store(f, &o);
    assert_int_equal(store_last_seq(f->s), 5);
    assert_int_equal(ring_count(store_ring(f->s)), 5);     /* the window is refilled */
    assert_int_equal(append(f, "c", 1, NULL, 0, NULL), 6); /* no gap after a clean stop */
    c = scan_all(f->s, 0, 0);
    assert_int_equal(c->n, 6);
}

/* A reader's reference keeps a closed store whole (store.h invariant 6):
 * it still scans after store_close() and its handle's close callback, and
 * is freed when the reference goes (LeakSanitizer would report it if not;
 * AddressSanitizer the scan, if the close had freed it). */
static void test_reference_outlives_close(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = opts(f->dir);
    open_store(f, &o);
    assert_int_equal(append(f, "r", 3, NULL, 0, NULL), 1);
    store_t *s = f->s;
    store_ref(s);
    close_store(f);
    collected_t *c = scan_all(s, 0, 0);
    assert_int_equal(c->n, 3);
    assert_string_equal(c->msgs[2], "r 2");
    assert_int_equal(store_last_seq(s), 3);
    store_unref(s);

    /* closed cleanly with the reference out: a restart goes on at 4 */
    open_store(f, &o);
    assert_int_equal(append(f, "s", 1, NULL, 0, NULL), 4);
}

static void copy_file(const char *from, const char *to, size_t len)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char *b = malloc(len ? len : 1);
    assert_int_equal(fread(b, 1, len, in), len);
    assert_int_equal(fwrite(b, 1, len, out), len);
    free(b);
    fclose(in);
    fclose(out);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Cuts the last segment at every byte of its last records: recovery keeps
 * exactly the records that are whole and cuts the rest. */
static void test_recover_every_truncation_point(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = opts(f->dir);
    open_store(f, &o);
    append(f, "keep", 10, NULL, 0, NULL);
    append(f, "tail", 4, "prod-1", 1, NULL); /* a meta frame goes with it */
    close_store(f);

    char seg[400], work[300], wseg[400], cmd[700];
    segment_path(seg, sizeof seg, f->dir, 1, ".log");
    long full = file_size(seg);
    assert_true(full > SEGMENT_HDR);
    /* frame end offsets, from a scan of the intact file */
    uint64_t ends[32];
    size_t nends = 0;
    {
        FILE *fp = fopen(seg, "rb");
        size_t fsz = full > 0 && full < (1L << 30) ? (size_t)full : 1;
        char *b = malloc(fsz);
        assert_non_null(b);
        assert_int_equal(fread(b, 1, fsz, fp), (size_t)full);
        fclose(fp);
        for (long off = SEGMENT_HDR; off < full;) {
            off += (long)frame_size(b + off);
            ends[nends++] = (uint64_t)off;
        }
        free(b);
    }
    assert_int_equal(nends, 15); /* 14 records and one meta frame */
    assert_int_equal(ends[nends - 1], (uint64_t)full);

    snprintf(work, sizeof work, "%s/cut", f->dir);
    long from = (long)ends[8]; /* the last few records, meta frame included */
    for (long cut = from; cut <= full; cut++) {
        snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s/segments", work, work);
        assert_int_equal(system(cmd), 0);
        segment_path(wseg, sizeof wseg, work, 1, ".log");
        copy_file(seg, wseg, (size_t)cut);

        /* whole frames before the cut */
        size_t whole = 0;
        while (whole < nends && ends[whole] <= (uint64_t)cut)
            whole++;
        uint64_t keep_end = whole ? ends[whole - 1] : SEGMENT_HDR;
        size_t records = whole >= 11 ? whole - 1 : whole; /* frame 10 is the meta */

        store_opts_t wo = opts(work);
        fixture_t g = {0};
        uv_loop_init(&g.loop);
        open_store(&g, &wo);
        collected_t *c = scan_all(g.s, 0, 0);
        if (c->n != records)
            fail_msg("cut at %ld: %zu records recovered, expected %zu", cut, c->n, records);
        for (size_t i = 0; i < c->n; i++)
            assert_int_equal(c->seqs[i], i + 1);
        assert_int_equal(file_size(wseg), (long)keep_end);
        /* the store goes on appending after the recovered tail */
        uint64_t next = append(&g, "new", 1, NULL, 0, NULL);
        assert_int_equal(next, records + 1);
        close_store(&g);
        uv_loop_close(&g.loop);
    }
}

static void test_corrupt_record_in_sealed_segment_is_skipped(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = opts(f->dir);
    o.segment_size = 4096; /* many small segments */
    open_store(f, &o);
    for (int i = 0; i < 20; i++)
        append(f, "rec", 10, NULL, 0, NULL);
    close_store(f);

    /* damage one record in the first (sealed) segment, keep its length */
    char seg[400];
    segment_path(seg, sizeof seg, f->dir, 1, ".log");
    FILE *fp = fopen(seg, "r+b");
    assert_non_null(fp);
    char hdr[8];
    fseek(fp, SEGMENT_HDR, SEEK_SET);
    assert_int_equal(fread(hdr, 1, 8, fp), 8);
    long second = SEGMENT_HDR + (long)frame_size(hdr);
    fseek(fp, second + RECORD_HEAD + 1, SEEK_SET); /* inside record 2's text */
    fputc('#', fp);
    fclose(fp);

    open_store(f, &o);
    collected_t *c = scan_all(f->s, 0, 0);
    assert_int_equal(c->n, 199);
    assert_int_equal(c->seqs[0], 1);
    assert_int_equal(c->seqs[1], 3); /* seq 2 is reported and skipped */
    store_stats_t st;
    store_get_stats(f->s, &st);
    assert_true(st.damaged >= 1);
    assert_true(st.segments >= 3);
    /* a damaged length: the reader resyncs at the next good frame */
    close_store(f);
    fp = fopen(seg, "r+b");
    fseek(fp, second, SEEK_SET);
    fputc(0x7f, fp); /* record 2's length byte */
    fclose(fp);
    open_store(f, &o);
    c = scan_all(f->s, 0, 0);
    assert_int_equal(c->n, 199);
    assert_int_equal(c->seqs[1], 3);
}

static void test_roll_index_and_seek(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = opts(f->dir);
    o.segment_size = 32 * 1024;
    open_store(f, &o);
    for (int i = 0; i < 40; i++)
        append(f, "roll", 50, NULL, 0, NULL);
    store_stats_t st;
    store_get_stats(f->s, &st);
    assert_true(st.segments >= 4);
    assert_int_equal(st.last_seq, 2000);
    collected_t *c = scan_all(f->s, 0, 1234);
    assert_int_equal(c->seqs[0], 1235);
    assert_int_equal(c->n, 766);
    c = scan_all(f->s, 1, 0);
    assert_int_equal(c->seqs[0], 2000);
    assert_int_equal(c->n, 2000);
    close_store(f);
    /* sealed segments have index files that are used as they are */
    char idx[400];
    segment_path(idx, sizeof idx, f->dir, 1, ".idx");
    assert_true(file_size(idx) > 0);
    unlink(idx); /* a missing index is rebuilt */
    open_store(f, &o);
    assert_true(file_size(idx) > 0);
    c = scan_all(f->s, 0, 0);
    assert_int_equal(c->n, 2000);
    for (size_t i = 0; i < 2000; i++)
        assert_int_equal(c->seqs[i], i + 1);
}

static void test_retention_by_bytes(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = opts(f->dir);
    o.segment_size = 16 * 1024;
    o.retain_bytes = 64 * 1024;
    open_store(f, &o);
    for (int i = 0; i < 100; i++)
        append(f, "old", 20, NULL, 0, NULL);
    store_stats_t st;
    store_get_stats(f->s, &st);
    assert_true(st.bytes <= 64 * 1024 + 16 * 1024);
    assert_true(st.first_seq > 1);
    assert_int_equal(st.last_seq, 2000);
    collected_t *c = scan_all(f->s, 0, 0);
    assert_int_equal(c->seqs[0], st.first_seq);
    assert_int_equal(c->seqs[c->n - 1], 2000);
}

static void test_producer_retry_is_stored_once(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = opts(f->dir);
    open_store(f, &o);
    int rc;
    uint64_t a = append(f, "p", 3, "client-a", 1, &rc);
    assert_int_equal(rc, STORE_PENDING);
    uint64_t again = append(f, "p", 3, "client-a", 1, &rc);
    assert_int_equal(rc, STORE_DONE);
    assert_int_equal(again, a);
    uint64_t b = append(f, "p", 3, "client-a", 2, &rc);
    assert_int_equal(b, a + 3);
    /* another producer's batch 1 is its own */
    uint64_t other = append(f, "p", 2, "client-b", 1, &rc);
    assert_int_equal(rc, STORE_PENDING);
    assert_int_equal(other, b + 3);
    close_store(f);
    /* after a restart the store still knows batch 1 and 2 of client-a */
    open_store(f, &o);
    assert_int_equal(append(f, "p", 3, "client-a", 1, &rc), a);
    assert_int_equal(rc, STORE_DONE);
    assert_int_equal(append(f, "p", 3, "client-a", 2, &rc), b);
    assert_int_equal(rc, STORE_DONE);
    assert_int_equal(append(f, "p", 1, "client-a", 3, &rc), other + 2);
    assert_int_equal(rc, STORE_PENDING);
    collected_t *c = scan_all(f->s, 0, 0);
    assert_int_equal(c->n, 9);
}

static void test_producer_table_survives_roll(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = opts(f->dir);
    o.segment_size = 4096;
    open_store(f, &o);
    int rc;
    uint64_t firsts[30];
    for (int i = 0; i < 30; i++)
        firsts[i] = append(f, "q", 5, "roller", (uint64_t)i + 1, &rc);
    close_store(f);
    open_store(f, &o);
    /* the window holds the last 16 batches */
    for (int i = 14; i < 30; i++) {
        assert_int_equal(append(f, "q", 5, "roller", (uint64_t)i + 1, &rc), firsts[i]);
        assert_int_equal(rc, STORE_DONE);
    }
    /* older ones are known to be stored: acknowledged without seqs */
    assert_int_equal(append(f, "q", 5, "roller", 2, &rc), 0);
    assert_int_equal(rc, STORE_DONE);
    collected_t *c = scan_all(f->s, 0, 0);
    assert_int_equal(c->n, 150);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_scan_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reference_outlives_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recover_every_truncation_point, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_record_in_sealed_segment_is_skipped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_roll_index_and_seek, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_by_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_producer_retry_is_stored_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_producer_table_survives_roll, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
