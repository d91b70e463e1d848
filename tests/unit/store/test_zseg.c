/* test_zseg.c - compressed sealed segments (src/store/zseg.c) through the
 * store: round trips of real and random records, a crash (the fault hook)
 * at every step of the rewrite, a torn .zlog, a damaged block, and plain
 * segments of the current format read unchanged and then compressed. */
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
#include "store/recover.h"
#include "store/segment.h"
#include "store/store.h"
#include "unit/store_wait.h"
#include "store/zseg.h"

#define MAXREC 20000

typedef struct fixture {
    uv_loop_t loop;
    char dir[256];
    store_t *s;
    /* what was appended, by seq - 1 */
    char *msgs[MAXREC];
    size_t lens[MAXREC];
    size_t n;
} fixture_t;

static store_opts_t opts(const char *dir, int level)
{
    store_opts_t o = {
        .dir = dir,
        .segment_size = 600 * 1024, /* a few blocks each (ZSEG_BLOCK_RAW) */
        .fsync = FSYNC_NEVER,
        .fsync_interval_ms = 200,
        .memory_records = 100,
        .memory_bytes = 1u << 20,
        .max_pending = 64u << 20,
        .compress_level = level,
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
    uv_run(&f->loop, UV_RUN_DEFAULT);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    uv_loop_init(&f->loop);
    snprintf(f->dir, sizeof f->dir, "/tmp/logship-test-zseg.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    log_threshold = getenv("ZSEG_LOG") ? LOG_DEBUG : LOG_ERROR;
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
    for (size_t i = 0; i < f->n; i++)
        free(f->msgs[i]);
    uv_loop_close(&f->loop);
    free(f);
    return 0;
}

/* Real lines (a log file of this machine, when there is one) and random
 * bytes, alternately. */
static size_t next_msg(FILE *real, unsigned *seed, char *out, size_t cap, int i)
{
    if (real && i % 2 == 0 && fgets(out, (int)cap, real)) {
        size_t n = strlen(out);
        if (n && out[n - 1] == '\n')
            out[--n] = 0;
        if (n)
            return n;
    }
    size_t n = 1 + (size_t)rand_r(seed) % 300;
    for (size_t k = 0; k < n; k++)
        out[k] = (char)(i % 3 ? 32 + rand_r(seed) % 95 : rand_r(seed) % 256);
    return n;
}

/* Appends n records in batches of 100. */
static void append_n(fixture_t *f, int n, unsigned seed)
{
    FILE *real = fopen("/var/log/dpkg.log", "r");
    char msg[512];
    for (int done = 0; done < n;) {
        batch_t b = {0};
        for (int k = 0; k < 100 && done < n; k++, done++) {
            record_t r = {0};
            size_t len = next_msg(real, &seed, msg, sizeof msg, done);
            assert_true(f->n < MAXREC);
            f->msgs[f->n] = malloc(len);
            memcpy(f->msgs[f->n], msg, len);
            f->lens[f->n++] = len;
            r.msg = slice_make(f->msgs[f->n - 1], len);
            r.topic = SLICE_LIT("sys.log");
            r.app = SLICE_LIT("dpkg");
            r.level = (int)((f->n - 1) % 8);
            r.ts = (int64_t)(1000000 + f->n - 1);
            batch_add(&b, &r);
        }
        int err;
        if (test_append_wait(&f->loop, f->s, &b, &err) == STORE_PENDING)
            assert_int_equal(err, 0);
        batch_free(&b);
    }
    if (real)
        fclose(real);
}

typedef struct seen {
    const fixture_t *f;
    unsigned char *count; /* by seq - 1 */
    size_t n, wrong;
} seen_t;

static int see(void *arg, const record_t *r)
{
    seen_t *s = arg;
    if (r->seq < 1 || r->seq > s->f->n) {
        s->wrong++;
        return 0;
    }
    size_t i = r->seq - 1;
    if (r->msg.n != s->f->lens[i] || memcmp(r->msg.p, s->f->msgs[i], r->msg.n) ||
        r->ts != (int64_t)(1000000 + i) || r->level != (int)(i % 8))
        s->wrong++;
    s->count[i]++;
    s->n++;
    return 0;
}

/* Scans everything; every record must come back once, equal. */
static void check_all(fixture_t *f, int backward)
{
    seen_t s = {f, calloc(f->n + 1, 1), 0, 0};
    filter_t flt;
    filter_init(&flt);
    assert_int_equal(store_scan(f->s, &flt, backward, see, &s), 0);
    assert_int_equal(s.wrong, 0);
    for (size_t i = 0; i < f->n; i++)
        if (s.count[i] != 1)
            fail_msg("seq %zu read %d times", i + 1, s.count[i]);
    free(s.count);
}

static size_t count_ext(const fixture_t *f, const char *ext)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "ls %s/segments | grep -c '[0-9]%s$'", f->dir, ext);
    FILE *p = popen(cmd, "r");
    size_t n = 0;
    if (fscanf(p, "%zu", &n) != 1)
        n = 0;
    pclose(p);
    return n;
}

/* Waits (bounded) until `want` segments have been compressed. */
static void wait_compressed(fixture_t *f, uint64_t want)
{
    store_stats_t st;
    for (int i = 0; i < 3000; i++) {
        store_get_stats(f->s, &st);
        if (st.compressed_segments >= want)
            return;
        uv_sleep(10);
    }
    fail_msg("only %llu of %llu segments compressed", (unsigned long long)st.compressed_segments,
             (unsigned long long)want);
}

static void test_round_trip(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = opts(f->dir, 3);
    open_store(f, &o);
    append_n(f, 12000, 1);
    store_stats_t st;
    store_get_stats(f->s, &st);
    assert_true(st.segments >= 4);
    wait_compressed(f, st.segments - 1); /* all but the active one */
    check_all(f, 0);
    check_all(f, 1);
    close_store(f);
    assert_int_equal(count_ext(f, ".zlog"), st.segments - 1);
    assert_int_equal(count_ext(f, ".log"), 1);
    assert_int_equal(count_ext(f, ".idx"), 0);
    open_store(f, &o);
    check_all(f, 0);
    /* and more after the restart */
    append_n(f, 2000, 2);
    check_all(f, 0);
}

/* Stops a rewrite right before step `at`. */
static int stop_at(void *arg, int step)
{
    return step == *(int *)arg;
}

static void test_crash_at_every_step(void **state)
{
    fixture_t *f = *state;
    store_opts_t plain = opts(f->dir, 0);
    open_store(f, &plain);
    append_n(f, 12000, 3);
    close_store(f);
    char cmd[800], copy[300];
    snprintf(copy, sizeof copy, "%s.orig", f->dir);
    snprintf(cmd, sizeof cmd, "cp -a %s %s", f->dir, copy);
    assert_int_equal(system(cmd), 0);
    for (int step = 0; step < ZSEG_STEPS; step++) {
        snprintf(cmd, sizeof cmd, "rm -rf %s && cp -a %s %s", f->dir, copy, f->dir);
        assert_int_equal(system(cmd), 0);
        /* the rewrite of the first sealed segment, killed before step */
        recover_result_t r;
        char err[256];
        assert_int_equal(recover_dir(f->dir, &plain, &r, err, sizeof err), 0);
        assert_true(r.segs.n >= 3);
        int rc = zseg_compact(f->dir, r.segs.v[0], 3, NULL, NULL, NULL, stop_at, &step);
        assert_int_equal(rc, ZSEG_CRASHED);
        recover_result_free(&r);
        /* every record readable exactly once, without and with --compress */
        open_store(f, &plain);
        check_all(f, 0);
        close_store(f);
        assert_int_equal(count_ext(f, ".zlog.tmp"), 0);
        store_opts_t z = opts(f->dir, 3);
        open_store(f, &z);
        store_stats_t st;
        store_get_stats(f->s, &st);
        /* once renamed, the first one is compressed already */
        wait_compressed(f, st.segments - 1 - (step > ZSEG_STEP_RENAME));
        assert_int_equal(count_ext(f, ".log"), 1);
        check_all(f, 0);
        close_store(f);
        open_store(f, &z);
        check_all(f, 1);
        close_store(f);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", copy);
    assert_int_equal(system(cmd), 0);
}

/* A compressed store with its first segment's table loaded. */
static void compressed_store(fixture_t *f, seg_index_t *ix, char *path, size_t cap)
{
    store_opts_t o = opts(f->dir, 3);
    open_store(f, &o);
    append_n(f, 12000, 4);
    store_stats_t st;
    store_get_stats(f->s, &st);
    wait_compressed(f, st.segments - 1);
    close_store(f);
    char why[200];
    segment_t *g = zseg_open(f->dir, 1, 0, NULL, why, sizeof why);
    assert_non_null(g);
    assert_true(g->ix.n >= 2);
    *ix = g->ix;
    ix->e = malloc(g->ix.n * sizeof *ix->e);
    memcpy(ix->e, g->ix.e, g->ix.n * sizeof *ix->e);
    segment_unref(g);
    segment_path(path, cap, f->dir, 1, ".zlog");
}

static void test_torn_compressed_segment(void **state)
{
    fixture_t *f = *state;
    seg_index_t ix;
    char path[400];
    compressed_store(f, &ix, path, sizeof path);
    /* cut inside the second block: the first block's records stay */
    assert_int_equal(truncate(path, (off_t)ix.e[1].offset + 20), 0);
    store_opts_t o = opts(f->dir, 3);
    open_store(f, &o);
    seen_t s = {f, calloc(f->n + 1, 1), 0, 0};
    filter_t flt;
    filter_init(&flt);
    assert_int_equal(store_scan(f->s, &flt, 0, see, &s), 0);
    assert_int_equal(s.wrong, 0);
    for (size_t i = 0; i < f->n; i++) {
        uint64_t seq = i + 1;
        int lost = seq >= ix.e[1].seq && seq <= ix.last_seq;
        if (s.count[i] != !lost)
            fail_msg("seq %llu read %d times", (unsigned long long)seq, s.count[i]);
    }
    free(s.count);
    free(ix.e);
}

static void test_damaged_block_is_skipped(void **state)
{
    fixture_t *f = *state;
    seg_index_t ix;
    char path[400];
    compressed_store(f, &ix, path, sizeof path);
    /* a byte of the second block's compressed data */
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    fseek(fp, (long)ix.e[1].offset + ZSEG_BLOCK_HDR + 40, SEEK_SET);
    int c = fgetc(fp);
    fseek(fp, (long)ix.e[1].offset + ZSEG_BLOCK_HDR + 40, SEEK_SET);
    fputc(c ^ 0x5a, fp);
    fclose(fp);
    store_opts_t o = opts(f->dir, 3);
    open_store(f, &o);
    seen_t s = {f, calloc(f->n + 1, 1), 0, 0};
    filter_t flt;
    filter_init(&flt);
    assert_int_equal(store_scan(f->s, &flt, 0, see, &s), 0);
    assert_int_equal(s.wrong, 0);
    uint64_t end2 = ix.n > 2 ? ix.e[2].seq : ix.last_seq + 1;
    for (size_t i = 0; i < f->n; i++) {
        uint64_t seq = i + 1;
        int lost = seq >= ix.e[1].seq && seq < end2;
        if (s.count[i] != !lost)
            fail_msg("seq %llu read %d times", (unsigned long long)seq, s.count[i]);
    }
    free(s.count);
    store_stats_t st;
    store_get_stats(f->s, &st);
    assert_true(st.damaged >= 1);
    free(ix.e);
}

static void test_plain_segments_read_then_compressed(void **state)
{
    fixture_t *f = *state;
    store_opts_t plain = opts(f->dir, 0);
    open_store(f, &plain);
    append_n(f, 10000, 5);
    close_store(f);
    size_t logs = count_ext(f, ".log");
    assert_true(logs >= 3);
    /* the current format, read as it is */
    open_store(f, &plain);
    check_all(f, 0);
    close_store(f);
    assert_int_equal(count_ext(f, ".log"), logs);
    assert_int_equal(count_ext(f, ".zlog"), 0);
    /* with --compress, the sealed ones are rewritten at open */
    store_opts_t z = opts(f->dir, 1);
    open_store(f, &z);
    wait_compressed(f, logs - 1);
    check_all(f, 0);
    close_store(f);
    assert_int_equal(count_ext(f, ".zlog"), logs - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_at_every_step, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_compressed_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_block_is_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_segments_read_then_compressed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
