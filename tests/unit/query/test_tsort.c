/* test_tsort.c - time order (src/query/tsort.c and sort=ts in query.c): a
 * store holds 300 records whose times are out of seq order, many sharing
 * one ts; answers in time order are compared with a reference sort of the
 * same (ts, seq) keys: the newest N ascending and descending, the first N
 * from since=, a filter, paging back with ts_before= and forward with
 * ts_after= (no gap, no repeat through runs of equal ts), small chunks,
 * CSV; and the heap alone against a sort of random keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <yajl/yajl_tree.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "query/query.h"
#include "query/tsort.h"
#include "store/store.h"
#include "unit/store_wait.h"

#define SEC 1000000000LL
#define T0  (1764684000LL * SEC)
#define N   300

typedef struct fixture {
    uv_loop_t loop;
    char dir[256];
    store_t *s;
    tsort_key_t keys[N]; /* every record's, sorted by (ts, seq) */
    tsort_key_t errors[N];
    size_t nerrors;
} fixture_t;

static fixture_t fx;

static void append(batch_t *b)
{
    int err;
    assert_int_equal(test_append_wait(&fx.loop, fx.s, b, &err), STORE_PENDING);
    assert_int_equal(err, 0);
    batch_free(b);
}

static int key_cmp(const void *a, const void *b)
{
    const tsort_key_t *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* seq i+1 gets ts T0 + ((i * 37) % 100) s: out of order, three per second */
static int64_t ts_of(size_t i)
{
    return T0 + (int64_t)((i * 37) % 100) * SEC;
}

static int setup(void **state)
{
    log_threshold = LOG_ERROR;
    uv_loop_init(&fx.loop);
    snprintf(fx.dir, sizeof fx.dir, "/tmp/logship-test-tsort.XXXXXX");
    assert_non_null(mkdtemp(fx.dir));
    store_opts_t o = {
        .dir = fx.dir,
        .segment_size = 16u << 10,
        .fsync = FSYNC_NEVER,
        .memory_records = 100,
        .memory_bytes = 1u << 20,
        .max_pending = 64u << 20,
    };
    char err[256] = "";
    fx.s = store_open(&fx.loop, &o, err, sizeof err);
    if (!fx.s)
        fail_msg("store_open: %s", err);
    batch_t b = {0};
    char msg[32];
    for (size_t i = 0; i < N; i++) {
        record_t r = {0};
        r.ts = ts_of(i);
        r.level = i % 5 == 0 ? 3 : 6;
        r.topic = SLICE_LIT("t.x");
        r.app = SLICE_LIT("a");
        snprintf(msg, sizeof msg, "m,\"%zu\"", i);
        r.msg = slice_cstr(msg);
        batch_add(&b, &r);
        fx.keys[i] = (tsort_key_t){r.ts, i + 1};
        if (r.level == 3)
            fx.errors[fx.nerrors++] = fx.keys[i];
        if (i % 70 == 69)
            append(&b);
    }
    append(&b);
    qsort(fx.keys, N, sizeof fx.keys[0], key_cmp);
    qsort(fx.errors, fx.nerrors, sizeof fx.errors[0], key_cmp);
    return 0;
}

static int teardown(void **state)
{
    store_close(fx.s);
    uv_run(&fx.loop, UV_RUN_DEFAULT);
    uv_loop_close(&fx.loop);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", fx.dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

typedef struct answer {
    tsort_key_t keys[N + 1];
    size_t n;
    buf_t text;
} answer_t;

static void params(query_t *q, const char *ps)
{
    char copy[512];
    snprintf(copy, sizeof copy, "%s", ps);
    for (char *save = NULL, *kv = strtok_r(copy, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        assert_non_null(eq);
        const char *err = NULL;
        int rc = query_param(q, slice_make(kv, (size_t)(eq - kv)), slice_cstr(eq + 1), &err);
        if (rc)
            fail_msg("query_param(%s): %d %s", kv, rc, err ? err : "");
    }
    const char *err = NULL;
    if (query_check(q, &err))
        fail_msg("query_check(%s): %s", ps, err);
}

/* Runs ps (JSON array) in chunks of `chunk` bytes; the answer's keys. */
static answer_t *run_chunked(const char *ps, size_t chunk)
{
    static answer_t a;
    static const char *seq_path[] = {"seq", NULL}, *ts_path[] = {"ts", NULL};
    buf_free(&a.text);
    memset(&a, 0, sizeof a);
    query_t q;
    query_init(&q);
    params(&q, ps);
    for (int calls = 0; !q.done; calls++) {
        assert_true(calls < 100000);
        query_run(&q, fx.s, &a.text, chunk);
    }
    assert_int_equal(q.error, 0);
    query_free(&q);
    buf_putc(&a.text, '\0');
    char err[256];
    yajl_val v = yajl_tree_parse(a.text.data, err, sizeof err);
    if (!v)
        fail_msg("not JSON (%s): %s", err, a.text.data);
    assert_true(YAJL_IS_ARRAY(v));
    for (size_t i = 0; i < YAJL_GET_ARRAY(v)->len; i++) {
        yajl_val rec = YAJL_GET_ARRAY(v)->values[i];
        yajl_val s = yajl_tree_get(rec, seq_path, yajl_t_number);
        yajl_val t = yajl_tree_get(rec, ts_path, yajl_t_string);
        assert_non_null(s);
        assert_non_null(t);
        int64_t ns = 0;
        assert_int_equal(time_parse_rfc3339(YAJL_GET_STRING(t), strlen(YAJL_GET_STRING(t)), &ns),
                         0);
        assert_true(a.n < N);
        a.keys[a.n++] = (tsort_key_t){ns, (uint64_t)YAJL_GET_INTEGER(s)};
    }
    yajl_tree_free(v);
    return &a;
}

static answer_t *run(const char *ps)
{
    return run_chunked(ps, 1u << 20);
}

/* The answer is want[from..from+n), reversed when desc. */
static void expect_range(const answer_t *a, const tsort_key_t *want, size_t from, size_t n,
                         int desc, const char *ps)
{
    if (a->n != n)
        fail_msg("%s: %zu records, want %zu", ps, a->n, n);
    for (size_t i = 0; i < n; i++) {
        const tsort_key_t *w = &want[desc ? from + n - 1 - i : from + i];
        if (a->keys[i].ts != w->ts || a->keys[i].seq != w->seq)
            fail_msg("%s: record %zu is seq %llu, want seq %llu", ps, i,
                     (unsigned long long)a->keys[i].seq, (unsigned long long)w->seq);
    }
}

static void test_newest_in_time_order(void **state)
{
    expect_range(run("sort=ts&limit=50"), fx.keys, N - 50, 50, 0, "sort=ts&limit=50");
    expect_range(run("sort=ts&order=desc&limit=50"), fx.keys, N - 50, 50, 1, "desc");
    expect_range(run("sort=ts&limit=1000"), fx.keys, 0, N, 0, "all of them");
    /* the store's order is not time order: seq order differs */
    answer_t *a = run("limit=1000");
    int differs = 0;
    for (size_t i = 0; i < a->n; i++)
        differs |= a->keys[i].seq != fx.keys[i].seq;
    assert_true(differs);
}

static void test_since_reads_forward(void **state)
{
    char ps[128];
    int64_t since = T0 + 40 * SEC;
    size_t from = 0;
    while (fx.keys[from].ts < since)
        from++;
    snprintf(ps, sizeof ps, "sort=ts&since=%lld&limit=25", (long long)since);
    expect_range(run(ps), fx.keys, from, 25, 0, ps);
}

static void test_filter_applies(void **state)
{
    expect_range(run("sort=ts&level=error&limit=1000"), fx.errors, 0, fx.nerrors, 0, "level=error");
    expect_range(run("sort=ts&level=error&limit=7&order=desc"), fx.errors, fx.nerrors - 7, 7, 1,
                 "level=error desc");
}

/* Pages of 37 back from the newest with ts_before=, then forward from the
 * oldest with ts_after=: each way the pages join to the whole order. */
static void test_paging(void **state)
{
    tsort_key_t got[N];
    size_t n = 0;
    char ps[160];
    snprintf(ps, sizeof ps, "sort=ts&order=desc&limit=37");
    for (int pages = 0;; pages++) {
        assert_true(pages < 20);
        answer_t *a = run(ps);
        for (size_t i = 0; i < a->n; i++)
            got[n++] = a->keys[i];
        if (a->n < 37)
            break;
        snprintf(ps, sizeof ps, "sort=ts&order=desc&limit=37&ts_before=%lld,%llu",
                 (long long)a->keys[a->n - 1].ts, (unsigned long long)a->keys[a->n - 1].seq);
    }
    assert_int_equal(n, N);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(got[i].seq, fx.keys[N - 1 - i].seq);

    n = 0;
    snprintf(ps, sizeof ps, "sort=ts&limit=37&ts_after=%lld,0", (long long)(T0 - SEC));
    for (int pages = 0;; pages++) {
        assert_true(pages < 20);
        answer_t *a = run(ps);
        for (size_t i = 0; i < a->n; i++)
            got[n++] = a->keys[i];
        if (a->n < 37)
            break;
        snprintf(ps, sizeof ps, "sort=ts&limit=37&ts_after=%lld,%llu",
                 (long long)a->keys[a->n - 1].ts, (unsigned long long)a->keys[a->n - 1].seq);
    }
    assert_int_equal(n, N);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(got[i].seq, fx.keys[i].seq);
}

static void test_chunks_same_answer(void **state)
{
    answer_t *a = run_chunked("sort=ts&limit=120&order=desc", 64);
    expect_range(a, fx.keys, N - 120, 120, 1, "chunks of 64 bytes");
}

static void test_csv(void **state)
{
    query_t q;
    query_init(&q);
    params(&q, "sort=ts&limit=3&format=csv");
    assert_int_equal(q.format, QUERY_CSV);
    buf_t out = BUF_INIT;
    while (!q.done)
        query_run(&q, fx.s, &out, 1u << 20);
    buf_putc(&out, '\0');
    /* the header, then the three newest by time, oldest of them first */
    char want[512];
    char ts[RFC3339_MAX];
    int o = snprintf(want, sizeof want, "seq,ts,level,topic,host,app,pid,msg,fields\r\n");
    for (size_t i = N - 3; i < N; i++) {
        ts[time_format_rfc3339(fx.keys[i].ts, ts)] = '\0';
        size_t idx = fx.keys[i].seq - 1;
        o += snprintf(want + o, sizeof want - (size_t)o,
                      "%llu,%s,%s,\"t.x\",\"\",\"a\",\"\",\"m,\"\"%zu\"\"\",\"\"\r\n",
                      (unsigned long long)fx.keys[i].seq, ts, idx % 5 == 0 ? "error" : "info", idx);
    }
    assert_string_equal(out.data, want);
    buf_free(&out);
    query_free(&q);
}

static void test_refused(void **state)
{
    query_t q;
    query_init(&q);
    const char *err = NULL;
    assert_int_equal(query_param(&q, SLICE_LIT("sort"), SLICE_LIT("time"), &err), -1);
    assert_string_equal(err, "bad sort: expected ts (time order) or seq (arrival order)");
    assert_int_equal(query_param(&q, SLICE_LIT("ts_before"), SLICE_LIT("12"), &err), -1);
    assert_string_equal(err, "bad ts_before: expected TS_NS,SEQ (two numbers)");
    assert_int_equal(query_param(&q, SLICE_LIT("ts_after"), SLICE_LIT("1,x"), &err), -1);
    assert_int_equal(query_param(&q, SLICE_LIT("format"), SLICE_LIT("xml"), &err), -1);
    assert_string_equal(err, "bad format: expected json, ndjson or csv");
    /* ts_before without sort=ts, and limit=all with it */
    assert_int_equal(query_param(&q, SLICE_LIT("ts_before"), SLICE_LIT("-5,3"), &err), 0);
    assert_int_equal(query_check(&q, &err), -1);
    assert_string_equal(err, "ts_before and ts_after page a sort=ts answer: add sort=ts");
    assert_int_equal(query_param(&q, SLICE_LIT("sort"), SLICE_LIT("ts"), &err), 0);
    assert_int_equal(query_check(&q, &err), 0);
    assert_int_equal(q.ts_before_ts, -5);
    assert_int_equal(query_param(&q, SLICE_LIT("limit"), SLICE_LIT("all"), &err), 0);
    assert_int_equal(query_check(&q, &err), -1);
    assert_string_equal(
        err, "limit=all is for sort=seq: a time-ordered answer is at most 1000000 records");
    query_free(&q);
}

/* The heap alone: random keys (many equal ts), both ways, against qsort. */
static void test_heap_against_sort(void **state)
{
    enum { M = 2000 };
    static tsort_key_t all[M];
    srand(7);
    /* 700: past the first allocation (256), so the heap grows */
    for (int round = 0; round < 4; round++) {
        int keep_newest = round & 1;
        size_t K = round < 2 ? 97 : 700;
        tsort_t t;
        tsort_init(&t, K, keep_newest);
        for (size_t i = 0; i < M; i++) {
            all[i] = (tsort_key_t){(int64_t)(rand() % 50) - 25, (uint64_t)i + 1};
            tsort_offer(&t, all[i].ts, all[i].seq);
        }
        assert_int_equal(t.n, K);
        tsort_finish(&t);
        qsort(all, M, sizeof all[0], key_cmp);
        size_t from = keep_newest ? M - K : 0;
        for (size_t i = 0; i < K; i++) {
            assert_int_equal(t.items[i].k.ts, all[from + i].ts);
            assert_int_equal(t.items[i].k.seq, all[from + i].seq);
        }
        tsort_free(&t);
    }
    /* bounds: only keys strictly between lo and hi */
    tsort_t t;
    tsort_init(&t, 10, 1);
    tsort_bound(&t, 1, 5, 2);
    tsort_bound(&t, 0, 6, 1);
    assert_int_equal(tsort_offer(&t, 5, 2), 0);
    assert_int_equal(tsort_offer(&t, 5, 3), 1);
    assert_int_equal(tsort_offer(&t, 6, 0), 1);
    assert_int_equal(tsort_offer(&t, 6, 1), 0);
    assert_int_equal(tsort_offer(&t, 4, 9), 0);
    assert_int_equal(t.n, 2);
    tsort_free(&t);
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_newest_in_time_order),
        cmocka_unit_test(test_since_reads_forward),
        cmocka_unit_test(test_filter_applies),
        cmocka_unit_test(test_paging),
        cmocka_unit_test(test_chunks_same_answer),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_heap_against_sort),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
