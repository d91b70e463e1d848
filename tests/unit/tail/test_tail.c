/* test_tail.c - the live tail hub (src/tail/tail.c) on a real store and a
 * real libuv loop, without sockets: the transport is a fake whose wake
 * callback counts calls, and the test calls tail_next() itself, as
 * tail_conn.c does when a socket is writable.
 *
 * Each test walks one path of tail.h's state table, asserting the state
 * after each step (tail_state()) and what the subscriber is sent: records
 * parsed as JSON (seq, msg, topic), status, gap and hint messages as exact
 * strings. Failed scans are made by putting a directory under the segment
 * files' descriptors (Linux's /proc/self/fd finds them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <yajl/yajl_tree.h>

#include "common/log.h"
#include "store/store.h"
#include "tail/tail.h"

#define MSG_CAP   (2u << 20) /* the largest message a test takes */
#define RECS_MAX  4096
#define WAIT_MAX  20000 /* loop passes (1 ms apart) before a wait fails */
#define MAX_SUBS  16
#define TEXT_SIZE 64

/* The fake transport: one per subscriber. */
typedef struct conn {
    tail_sub_t *s;
    int wakes; /* calls of the wake callback */
} conn_t;

typedef struct fixture {
    uv_loop_t loop;
    char dir[64];
    store_t *store;
    tail_t *t;
    char *msg; /* the last message taken by next(), NUL-terminated */
    size_t len;
} fixture_t;

/* Records of one message, in the order sent. */
typedef struct recs {
    size_t n;
    uint64_t seq[RECS_MAX];
    char msg[RECS_MAX][TEXT_SIZE];
    char topic[RECS_MAX][TEXT_SIZE];
} recs_t;

static recs_t recs; /* parse_records() fills it */

static void on_wake(void *arg)
{
    conn_t *c = arg;
    c->wakes++;
}

static store_opts_t opts(const char *dir)
{
    store_opts_t o = {
        .dir = dir,
        .segment_size = 64u << 20,
        .fsync = FSYNC_NEVER,
        .fsync_interval_ms = 200,
        .memory_records = 1000,
        .memory_bytes = 1u << 20,
        .max_pending = 64u << 20,
    };
    return o;
}

static void open_hub(fixture_t *f, const store_opts_t *o)
{
    char err[256] = "";
    f->store = store_open(&f->loop, o, err, sizeof err);
    if (!f->store)
        fail_msg("store_open: %s", err);
    f->t = tail_create(&f->loop, f->store, MAX_SUBS);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    snprintf(f->dir, sizeof f->dir, "/tmp/logship-test-tail.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->msg = malloc(MSG_CAP + 1);
    assert_non_null(f->msg);
    log_threshold = LOG_ERROR;
    *state = f;
    return 0;
}

/* ---- the loop -------------------------------------------------------------- */

typedef struct sentinel {
    uv_work_t w;
    int done;
} sentinel_t;

static void sentinel_work(uv_work_t *w)
{
    (void)w;
}

static void sentinel_done(uv_work_t *w, int status)
{
    (void)status;
    container_of(w, sentinel_t, w)->done = 1;
}

/* Runs the loop until *flag becomes nonzero; fails after WAIT_MAX passes. */
static void run_until(fixture_t *f, const int *flag, const char *what)
{
    for (int i = 0; i < WAIT_MAX && !*flag; i++) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        if (!*flag)
            usleep(1000);
    }
    if (!*flag)
        fail_msg("still waiting for %s", what);
}

/* Returns once every scan queued on the thread pool before it has ended and
 * its completion ran: the pool has one thread (main() sets
 * UV_THREADPOOL_SIZE=1), so work runs and completes in the order queued. */
static void drain_pool(fixture_t *f)
{
    sentinel_t s = {.done = 0};
    assert_int_equal(uv_queue_work(&f->loop, &s.w, sentinel_work, sentinel_done), 0);
    run_until(f, &s.done, "the thread pool to drain");
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    if (f->t)
        tail_destroy(f->t);
    /* a scan still running reads the store: let it end before the store does */
    drain_pool(f);
    if (f->store) {
        store_close(f->store);
        uv_run(&f->loop, UV_RUN_DEFAULT); /* lets the store's handle close */
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f->msg);
    free(f);
    return 0;
}

/* ---- records in, messages out ------------------------------------------------ */

typedef struct wait {
    store_waiter_t w;
    int done, err;
} wait_t;

static void on_stored(store_waiter_t *w, int err, uint64_t first, uint64_t last)
{
    wait_t *x = container_of(w, wait_t, w);
    (void)first;
    (void)last;
    x->done = 1;
    x->err = err;
}

/* Appends n records "<prefix> i" (padded with '.' to pad bytes) with topic
 * and level, and waits until they are visible. Returns the first seq. */
static uint64_t append_n(fixture_t *f, const char *topic, int level, const char *prefix, int n,
                         size_t pad)
{
    static char text[8192];
    batch_t b = {0};
    assert_true(pad < sizeof text);
    for (int i = 0; i < n; i++) {
        record_t r = {0};
        size_t len = (size_t)snprintf(text, sizeof text, "%s %d", prefix, i);
        while (len < pad)
            text[len++] = '.';
        r.msg = slice_make(text, len);
        r.topic = slice_cstr(topic);
        r.app = SLICE_LIT("test");
        r.level = level;
        r.ts = 1000 + i;
        batch_add(&b, &r);
    }
    wait_t w = {.w = {.done = on_stored}};
    uint64_t first = 0, last = 0;
    int rc = store_append(f->store, &b, NULL, 0, 0, &w.w, &first, &last);
    assert_int_equal(rc, STORE_PENDING);
    run_until(f, &w.done, "an append");
    assert_int_equal(w.err, 0);
    assert_int_equal(store_last_seq(f->store), last);
    batch_free(&b);
    return first;
}

static uint64_t append(fixture_t *f, const char *topic, const char *prefix, int n)
{
    return append_n(f, topic, 6, prefix, n, 0);
}

/* Subscribes c with a query string ("topic=web.#&n=3"). */
static void subscribe(fixture_t *f, conn_t *c, enum tail_framing fr, const char *query)
{
    static char q[512];
    tail_params_t p;
    const char *err = NULL;
    tail_params_init(&p);
    snprintf(q, sizeof q, "%s", query);
    /* the params borrow the strings until tail_subscribe copies them */
    for (char *pair = strtok(q, "&"); pair; pair = strtok(NULL, "&")) {
        char *eq = strchr(pair, '=');
        assert_non_null(eq);
        *eq = '\0';
        if (tail_param(&p, slice_cstr(pair), slice_cstr(eq + 1), &err))
            fail_msg("tail_param %s: %s", pair, err);
    }
    memset(c, 0, sizeof *c);
    c->s = tail_subscribe(f->t, &p, fr, c, on_wake, &err);
    if (!c->s)
        fail_msg("tail_subscribe: %s", err);
}

static void unsubscribe(conn_t *c)
{
    tail_unsubscribe(c->s);
    c->s = NULL;
}

/* Takes c's next message into f->msg. Returns 0 when none is ready. The
 * headroom before it is the transport's: writing it must be allowed. */
static int next(fixture_t *f, conn_t *c)
{
    char *data = NULL;
    size_t len = 0;
    if (!tail_next(c->s, &data, &len))
        return 0;
    assert_non_null(data);
    assert_true(len > 0 && len <= MSG_CAP);
    memcpy(f->msg, data, len);
    f->msg[len] = '\0';
    f->len = len;
    memset(data - TAIL_HEADROOM, 'h', TAIL_HEADROOM);
    return 1;
}

/* c's next message, which must be exactly want. */
static void expect(fixture_t *f, conn_t *c, const char *want)
{
    if (!next(f, c))
        fail_msg("no message, expected %s", want);
    assert_string_equal(f->msg, want);
}

static void expect_none(fixture_t *f, conn_t *c)
{
    if (next(f, c))
        fail_msg("expected no message, got %.300s", f->msg);
}

/* Waits until c was woken more than `wakes` times. */
static void wait_woken(fixture_t *f, conn_t *c, int wakes)
{
    for (int i = 0; i < WAIT_MAX && c->wakes <= wakes; i++) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        if (c->wakes <= wakes)
            usleep(1000);
    }
    if (c->wakes <= wakes)
        fail_msg("not woken (%d wakes)", c->wakes);
}

/* Parses json, an array of records, into recs. */
static void parse_records(const char *json)
{
    static const char *seq_path[] = {"seq", NULL}, *msg_path[] = {"msg", NULL},
                      *topic_path[] = {"topic", NULL};
    char err[256];
    yajl_val v = yajl_tree_parse(json, err, sizeof err);
    if (!v)
        fail_msg("not JSON (%s): %.300s", err, json);
    if (!YAJL_IS_ARRAY(v))
        fail_msg("not an array of records: %.300s", json);
    assert_true(v->u.array.len <= RECS_MAX);
    recs.n = 0;
    for (size_t i = 0; i < v->u.array.len; i++) {
        yajl_val o = v->u.array.values[i];
        yajl_val seq = yajl_tree_get(o, seq_path, yajl_t_number);
        yajl_val msg = yajl_tree_get(o, msg_path, yajl_t_string);
        yajl_val topic = yajl_tree_get(o, topic_path, yajl_t_string);
        assert_non_null(seq);
        assert_true(YAJL_IS_INTEGER(seq));
        assert_non_null(msg);
        assert_non_null(topic);
        recs.seq[recs.n] = (uint64_t)YAJL_GET_INTEGER(seq);
        snprintf(recs.msg[recs.n], TEXT_SIZE, "%s", YAJL_GET_STRING(msg));
        snprintf(recs.topic[recs.n], TEXT_SIZE, "%s", YAJL_GET_STRING(topic));
        recs.n++;
    }
    yajl_tree_free(v);
}

/* c's next message must be records from..to (every seq), messages
 * "<prefix> <first_i + k>" for the k-th. */
static void expect_records(fixture_t *f, conn_t *c, uint64_t from, uint64_t to, const char *prefix,
                           int first_i)
{
    if (!next(f, c))
        fail_msg("no message, expected records %llu..%llu", (unsigned long long)from,
                 (unsigned long long)to);
    parse_records(f->msg);
    assert_int_equal(recs.n, to - from + 1);
    for (size_t k = 0; k < recs.n; k++) {
        char want[TEXT_SIZE];
        snprintf(want, sizeof want, "%s %d", prefix, first_i + (int)k);
        assert_int_equal(recs.seq[k], from + k);
        assert_string_equal(recs.msg[k], want);
    }
}

#define assert_state(c, st) assert_int_equal(tail_state((c)->s), (st))

static tail_stats_t stats(const fixture_t *f)
{
    tail_stats_t st;
    tail_get_stats(f->t, &st);
    return st;
}

static void status_text(char *out, size_t cap, uint64_t lag, const char *source)
{
    snprintf(out, cap, "{\"type\":\"status\",\"lag\":%llu,\"source\":\"%s\"}",
             (unsigned long long)lag, source);
}

static void expect_status(fixture_t *f, conn_t *c, uint64_t lag, const char *source)
{
    char want[128];
    status_text(want, sizeof want, lag, source);
    expect(f, c, want);
}

static store_opts_t small_window(const char *dir, size_t records)
{
    store_opts_t o = opts(dir);
    o.memory_records = records;
    return o;
}

/* ---- BACKLOG ------------------------------------------------------------------ */

/* The window holds the whole backlog: the n newest records, then live ones. */
static void test_backlog_from_window(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = opts(f->dir);
    open_hub(f, &o);
    append(f, "web.info", "old", 5);
    conn_t c;
    subscribe(f, &c, TAIL_WS, "n=3");
    assert_state(&c, TS_BACKLOG);
    assert_int_equal(c.wakes, 1); /* something is ready at once */
    assert_int_equal(tail_more(c.s), 1);
    expect_records(f, &c, 3, 5, "old", 2);
    assert_state(&c, TS_LIVE);
    expect_none(f, &c);
    assert_int_equal(tail_more(c.s), 0);
    append(f, "web.info", "new", 2);
    assert_int_equal(c.wakes, 2);
    expect_records(f, &c, 6, 7, "new", 0);
    expect_none(f, &c);
    tail_stats_t st = stats(f);
    assert_int_equal(st.records, 5);
    assert_int_equal(st.messages, 2);
    assert_int_equal(st.disk_scans, 0);
    assert_int_equal(st.subscribers, 1);
}

/* A backlog larger than the store: everything there is. n=0: no backlog. */
static void test_backlog_short_or_none(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = opts(f->dir);
    open_hub(f, &o);
    append(f, "web.info", "old", 4);
    conn_t all, none;
    subscribe(f, &all, TAIL_WS, "n=100");
    subscribe(f, &none, TAIL_WS, "n=0");
    assert_state(&all, TS_BACKLOG);
    assert_state(&none, TS_LIVE);
    expect_records(f, &all, 1, 4, "old", 0);
    expect_none(f, &none);
    append(f, "web.info", "new", 1);
    expect_records(f, &all, 5, 5, "new", 0);
    expect_records(f, &none, 5, 5, "new", 0);
}

/* The window holds only the newest 4 records: a backward scan on the
 * thread pool finds where the 6 newest start; they come from the disk,
 * between a "disk" and a "live" status. */
static void test_backlog_from_disk(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = small_window(f->dir, 4);
    open_hub(f, &o);
    append(f, "web.info", "old", 10);
    conn_t c;
    subscribe(f, &c, TAIL_WS, "n=6");
    expect_none(f, &c); /* the backlog scan runs */
    assert_state(&c, TS_BACKLOG_SCAN);
    assert_int_equal(tail_more(c.s), 0);
    wait_woken(f, &c, 1);
    assert_state(&c, TS_LIVE);
    expect_status(f, &c, 6, "disk"); /* records 5..10 are behind */
    assert_state(&c, TS_DISK);
    expect_none(f, &c); /* the disk scan runs */
    assert_state(&c, TS_DISK_SCAN);
    wait_woken(f, &c, 2);
    assert_state(&c, TS_DISK_READY);
    expect_records(f, &c, 5, 10, "old", 4);
    assert_state(&c, TS_DISK);
    expect_none(f, &c);
    assert_state(&c, TS_DISK);
    int wakes = c.wakes;
    append(f, "web.info", "new", 1);
    assert_int_equal(c.wakes, wakes + 1);
    expect_status(f, &c, 1, "live");
    assert_state(&c, TS_LIVE);
    expect_records(f, &c, 11, 11, "new", 0);
    expect_none(f, &c);
    assert_int_equal(stats(f).disk_scans, 2); /* the backlog's and the records' */
}

/* Nothing matches a pattern without a wildcard, but "P.#" would have: the
 * first message is a hint, found in the window. */
static void test_empty_backlog_hint_from_window(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = opts(f->dir);
    open_hub(f, &o);
    append(f, "web.info", "old", 3);
    conn_t c, plain;
    subscribe(f, &c, TAIL_WS, "topic=web&n=10");
    assert_state(&c, TS_BACKLOG);
    expect(f, &c,
           "{\"type\":\"hint\",\"hint\":\"topic 'web' has no wildcard: did you mean "
           "'web.#'?\"}");
    assert_state(&c, TS_LIVE); /* through HINT in the same call */
    expect_none(f, &c);
    /* nothing to suggest: no message at all */
    subscribe(f, &plain, TAIL_WS, "topic=db&n=10");
    expect_none(f, &plain);
    /* then the tail follows: only what matches the pattern itself */
    append(f, "web.info", "more", 1);
    append(f, "web", "exact", 1);
    expect_records(f, &c, 5, 5, "exact", 0);
    expect_none(f, &plain);
    assert_int_equal(stats(f).disk_scans, 0);
}

/* The same, when the window can not tell: the backlog scan finds nothing
 * and the hint comes from the segments. */
static void test_empty_backlog_hint_from_disk(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = small_window(f->dir, 2);
    open_hub(f, &o);
    append(f, "web.info", "old", 6);
    conn_t c;
    subscribe(f, &c, TAIL_SSE, "topic=web&n=10");
    expect_none(f, &c);
    assert_state(&c, TS_BACKLOG_SCAN);
    wait_woken(f, &c, 1);
    assert_state(&c, TS_HINT);
    expect(f, &c,
           "event: hint\ndata: {\"type\":\"hint\",\"hint\":\"topic 'web' has no wildcard: did you "
           "mean 'web.#'?\"}\n\n");
    assert_state(&c, TS_LIVE);
    expect_none(f, &c);
    assert_int_equal(tail_more(c.s), 0);
    append(f, "web", "exact", 1);
    assert_int_equal(tail_more(c.s), 1);
    assert_true(next(f, &c));
    assert_string_equal(strstr(f->msg, "\nid: "), "\nid: 7\n\n");
    assert_int_equal(stats(f).disk_scans, 1);
}

/* ---- LIVE --------------------------------------------------------------------- */

/* Records arrive in seq order, each once; what committed while the
 * subscriber was not asking comes in one message; one wake per wait. */
static void test_live_in_seq_order(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = opts(f->dir);
    open_hub(f, &o);
    conn_t c;
    subscribe(f, &c, TAIL_WS, "n=0");
    expect_none(f, &c);
    assert_int_equal(tail_more(c.s), 0);
    int wakes = c.wakes;
    append(f, "web.info", "a", 2);
    append(f, "web.info", "b", 3);
    assert_int_equal(c.wakes, wakes + 1); /* one wake until tail_next is called */
    assert_int_equal(tail_more(c.s), 1);
    assert_true(next(f, &c));
    parse_records(f->msg);
    assert_int_equal(recs.n, 5);
    const char *want[] = {"a 0", "a 1", "b 0", "b 1", "b 2"};
    for (size_t k = 0; k < 5; k++) {
        assert_int_equal(recs.seq[k], k + 1);
        assert_string_equal(recs.msg[k], want[k]);
        assert_string_equal(recs.topic[k], "web.info");
    }
    expect_none(f, &c);
    for (int round = 0; round < 3; round++) {
        uint64_t first = append(f, "web.info", "r", 2);
        expect_records(f, &c, first, first + 1, "r", 0);
        expect_none(f, &c);
    }
    assert_int_equal(stats(f).records, 11);
}

/* SSE framing: an event name, the JSON as data, and the last seq as id. */
static void test_sse_framing(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = opts(f->dir);
    open_hub(f, &o);
    conn_t c;
    subscribe(f, &c, TAIL_SSE, "n=0");
    append(f, "web.info", "x", 2);
    assert_true(next(f, &c));
    assert_memory_equal(f->msg, "event: records\ndata: [{\"seq\":1,", 31);
    assert_string_equal(strstr(f->msg, "}]\n"), "}]\nid: 2\n\n");
    char *data = strstr(f->msg, "data: ") + 6;
    *strchr(data, '\n') = '\0';
    parse_records(data);
    assert_int_equal(recs.n, 2);
    assert_string_equal(recs.msg[1], "x 1");
}

/* Filters: records that do not pass are skipped, and the cursor still
 * moves past them (no duplicate later). */
static void test_filter_skips_records(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = opts(f->dir);
    open_hub(f, &o);
    append_n(f, "web.info", 6, "w-info", 2, 0); /* 1, 2 */
    append_n(f, "db.error", 3, "d-err", 2, 0);  /* 3, 4 */
    append_n(f, "web.error", 3, "w-err", 2, 0); /* 5, 6 */
    append_n(f, "web.debug", 7, "w-dbg", 1, 0); /* 7 */
    conn_t c, q;
    subscribe(f, &c, TAIL_WS, "topic=web.#&level=error&n=10");
    assert_true(next(f, &c));
    parse_records(f->msg);
    assert_int_equal(recs.n, 2);
    assert_int_equal(recs.seq[0], 5);
    assert_int_equal(recs.seq[1], 6);
    assert_string_equal(recs.msg[0], "w-err 0");
    assert_string_equal(recs.topic[1], "web.error");
    expect_none(f, &c);
    /* a commit of nothing that passes: no message, the cursor moves on */
    append_n(f, "web.info", 6, "w-info", 3, 0); /* 8..10 */
    assert_int_equal(tail_more(c.s), 1);
    expect_none(f, &c);
    assert_int_equal(tail_more(c.s), 0);
    append_n(f, "db.error", 3, "d-err", 1, 0);  /* 11 */
    append_n(f, "web.crit", 2, "w-crit", 1, 0); /* 12 */
    expect_records(f, &c, 12, 12, "w-crit", 0);
    expect_none(f, &c);
    /* a backlog counts matches only: the 2 newest with "err" in them */
    subscribe(f, &q, TAIL_WS, "q=err&n=2");
    assert_true(next(f, &q));
    parse_records(f->msg);
    assert_int_equal(recs.n, 2);
    assert_int_equal(recs.seq[0], 6);
    assert_int_equal(recs.seq[1], 11);
    assert_string_equal(recs.msg[1], "d-err 0");
}

/* Subscribers with the same filter (patterns in any order) and framing at
 * the same cursor share one rendered message; others get their own. */
static void test_shared_message_cache(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = opts(f->dir);
    open_hub(f, &o);
    conn_t a, b, sse, other;
    subscribe(f, &a, TAIL_WS, "topic=web.#&topic=db.#&n=0");
    subscribe(f, &b, TAIL_WS, "topic=db.#&topic=web.#&n=0");
    subscribe(f, &sse, TAIL_SSE, "topic=web.#&topic=db.#&n=0");
    subscribe(f, &other, TAIL_WS, "topic=web.#&n=0");
    append(f, "web.info", "w", 2);
    append(f, "db.info", "d", 1);
    tail_stats_t before = stats(f);
    char *da, *db, *ds, *dother;
    size_t la, lb, ls, lother;
    assert_true(tail_next(a.s, &da, &la));
    assert_true(tail_next(b.s, &db, &lb));
    assert_ptr_equal(da, db); /* one rendering */
    assert_int_equal(la, lb);
    assert_int_equal(stats(f).shared_hits, before.shared_hits + 1);
    assert_true(tail_next(sse.s, &ds, &ls));
    assert_true(tail_next(other.s, &dother, &lother));
    assert_true(ds != da && dother != da);
    assert_int_equal(stats(f).shared_hits, before.shared_hits + 1);
    expect_none(f, &a);
    expect_none(f, &b);
    /* the content is what each one asked for */
    append(f, "db.info", "again", 1);
    expect_records(f, &a, 4, 4, "again", 0);
    expect_records(f, &b, 4, 4, "again", 0);
    assert_int_equal(stats(f).shared_hits, before.shared_hits + 2);
    expect_none(f, &other);
    assert_true(next(f, &sse));
    assert_memory_equal(f->msg, "event: records\n", 15);
    /* a is behind b now: b's message is not a's */
    append(f, "web.info", "a-only", 1);
    expect_records(f, &b, 5, 5, "a-only", 0);
    append(f, "web.info", "both", 1);
    assert_true(next(f, &a));
    parse_records(f->msg);
    assert_int_equal(recs.n, 2);
    assert_int_equal(recs.seq[0], 5);
    assert_int_equal(recs.seq[1], 6);
    assert_string_equal(recs.msg[0], "a-only 0");
    assert_string_equal(recs.msg[1], "both 0");
    expect_records(f, &b, 6, 6, "both", 0);
    tail_stats_t st = stats(f);
    assert_int_equal(st.shared_hits, before.shared_hits + 2);
    assert_int_equal(st.subscribers, 4);
}

/* ---- after=S ------------------------------------------------------------------- */

static void test_resume_after(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = opts(f->dir);
    open_hub(f, &o);
    append(f, "web.info", "m", 10);
    conn_t c7, c10, c0;
    subscribe(f, &c7, TAIL_WS, "after=7&n=2"); /* after wins: no backlog */
    subscribe(f, &c10, TAIL_WS, "after=10");
    subscribe(f, &c0, TAIL_WS, "after=0");
    assert_state(&c7, TS_LIVE);
    assert_state(&c0, TS_LIVE);
    expect_records(f, &c7, 8, 10, "m", 7);
    expect_none(f, &c7);
    expect_none(f, &c10);
    expect_records(f, &c0, 1, 10, "m", 0);
    append(f, "web.info", "n", 1);
    expect_records(f, &c7, 11, 11, "n", 0);
    expect_records(f, &c10, 11, 11, "n", 0);
    expect_records(f, &c0, 11, 11, "n", 0);
    /* after a seq not yet written: records from S+1 on, none before */
    conn_t ahead;
    subscribe(f, &ahead, TAIL_WS, "after=12");
    expect_none(f, &ahead);
    append(f, "web.info", "p", 2); /* 12, 13 */
    expect_records(f, &ahead, 13, 13, "p", 1);
}

/* ---- DISK ---------------------------------------------------------------------- */

/* A subscriber that did not ask while the window moved on reads the disk:
 * a "disk" status with the lag, the records from a scan, and a "live"
 * status once the cursor is back in the window. */
static void test_behind_window_goes_to_disk(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = small_window(f->dir, 4);
    open_hub(f, &o);
    conn_t c;
    subscribe(f, &c, TAIL_WS, "n=0");
    expect_none(f, &c);
    append(f, "web.info", "m", 10);
    assert_int_equal(tail_more(c.s), 1);
    expect_status(f, &c, 10, "disk");
    assert_int_equal(tail_more(c.s), 1);
    expect_none(f, &c); /* the scan runs */
    assert_int_equal(tail_more(c.s), 0);
    int wakes = c.wakes;
    wait_woken(f, &c, wakes);
    assert_int_equal(tail_more(c.s), 1);
    expect_records(f, &c, 1, 10, "m", 0);
    expect_none(f, &c);
    append(f, "web.info", "n", 1);
    expect_status(f, &c, 1, "live");
    expect_records(f, &c, 11, 11, "n", 0);
    expect_none(f, &c);
    tail_stats_t st = stats(f);
    assert_int_equal(st.disk_scans, 1);
    assert_int_equal(st.records, 11);
    assert_int_equal(st.messages, 4);
}

/* Caught up from the disk with nothing newer: tail_next() has nothing, so
 * tail_more() must not ask the transport to call again (it would call in
 * a loop until the next commit); the commit wakes it. */
static void test_caught_up_on_disk_waits(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = small_window(f->dir, 4);
    open_hub(f, &o);
    conn_t c;
    subscribe(f, &c, TAIL_WS, "after=0");
    append(f, "web.info", "m", 10);
    expect_status(f, &c, 10, "disk");
    expect_none(f, &c);
    int wakes = c.wakes;
    wait_woken(f, &c, wakes);
    expect_records(f, &c, 1, 10, "m", 0);
    assert_state(&c, TS_DISK);
    assert_int_equal(tail_more(c.s), 0);
    expect_none(f, &c);
    assert_int_equal(tail_more(c.s), 0);
    wakes = c.wakes;
    append(f, "web.info", "n", 1);
    assert_int_equal(c.wakes, wakes + 1);
    assert_int_equal(tail_more(c.s), 1);
    expect_status(f, &c, 1, "live");
    assert_int_equal(tail_more(c.s), 1);
    expect_records(f, &c, 11, 11, "n", 0);
    assert_int_equal(tail_more(c.s), 0);
}

/* The window moves on while the scan runs: the next scan takes what the
 * first did not see, then the subscriber is live. */
static void test_disk_then_more_disk(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = small_window(f->dir, 4);
    open_hub(f, &o);
    conn_t c;
    subscribe(f, &c, TAIL_WS, "after=0");
    append(f, "web.info", "a", 6);
    expect_status(f, &c, 6, "disk");
    expect_none(f, &c);
    int wakes = c.wakes;
    wait_woken(f, &c, wakes);
    append(f, "web.info", "b", 6); /* 7..12, the window 9..12 */
    expect_records(f, &c, 1, 6, "a", 0);
    expect_none(f, &c); /* still behind the window: another scan */
    wakes = c.wakes;
    wait_woken(f, &c, wakes);
    expect_records(f, &c, 7, 12, "b", 0);
    append(f, "web.info", "c", 1);
    expect_status(f, &c, 1, "live");
    expect_records(f, &c, 13, 13, "c", 0);
}

/* A catch-up larger than TAIL_MSG_MAX comes in several messages, each about
 * TAIL_MSG_MAX, seqs continuing from one to the next. */
static void test_disk_catch_up_in_bounded_messages(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = small_window(f->dir, 4);
    open_hub(f, &o);
    conn_t c;
    subscribe(f, &c, TAIL_WS, "after=0");
    for (int i = 0; i < 10; i++)
        append_n(f, "web.info", 6, "big", 40, 2000); /* 800 KB of messages */
    expect_status(f, &c, 400, "disk");
    uint64_t want = 1;
    int messages = 0;
    while (want <= 400 && messages < 10) {
        expect_none(f, &c);
        int wakes = c.wakes;
        wait_woken(f, &c, wakes);
        assert_true(next(f, &c));
        assert_true(f->len < TAIL_MSG_MAX + 4096);
        parse_records(f->msg);
        assert_true(recs.n > 0);
        for (size_t k = 0; k < recs.n; k++)
            assert_int_equal(recs.seq[k], want + k);
        want += recs.n;
        messages++;
    }
    assert_int_equal(want, 401);
    assert_true(messages >= 3);
    expect_none(f, &c);
    append(f, "web.info", "live", 1);
    expect_status(f, &c, 1, "live");
    expect_records(f, &c, 401, 401, "live", 0);
}

/* Filters on the disk: a scan sends only what passes, and a scan that
 * finds nothing that passes still moves the cursor past what it read. */
static void test_filter_on_disk(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = small_window(f->dir, 4);
    open_hub(f, &o);
    conn_t db, cache;
    subscribe(f, &db, TAIL_WS, "topic=db.#&after=0");
    subscribe(f, &cache, TAIL_WS, "topic=cache.#&after=0");
    append(f, "web.info", "w", 4);
    append(f, "db.info", "d", 1);  /* 5 */
    append(f, "web.info", "w", 5); /* 6..10, the window 7..10 */
    expect_status(f, &db, 10, "disk");
    expect_status(f, &cache, 10, "disk");
    expect_none(f, &db);
    expect_none(f, &cache);
    int wd = db.wakes, wc = cache.wakes;
    expect_none(f, &db); /* asked again while the scan runs: still nothing */
    assert_state(&db, TS_DISK_SCAN);
    wait_woken(f, &db, wd);
    wait_woken(f, &cache, wc);
    assert_state(&db, TS_DISK_READY);
    assert_state(&cache, TS_DISK); /* nothing passed */
    expect_records(f, &db, 5, 5, "d", 0);
    expect_none(f, &db);
    expect_none(f, &cache);
    assert_int_equal(tail_more(cache.s), 0);
    append(f, "cache.info", "c", 1); /* 11 */
    expect_status(f, &db, 1, "live");
    expect_none(f, &db); /* 11 does not pass */
    expect_status(f, &cache, 1, "live");
    expect_records(f, &cache, 11, 11, "c", 0);
    assert_int_equal(stats(f).disk_scans, 2); /* different filters: a scan each */
}

/* Subscribers behind at the same place with the same filter share one
 * scan; each gets the records. */
static void test_shared_disk_scan(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = small_window(f->dir, 4);
    open_hub(f, &o);
    conn_t a, b;
    subscribe(f, &a, TAIL_WS, "topic=web.#&after=0");
    subscribe(f, &b, TAIL_WS, "topic=web.#&after=0");
    append(f, "web.info", "m", 8);
    expect_status(f, &a, 8, "disk");
    expect_status(f, &b, 8, "disk");
    uint64_t hits = stats(f).shared_hits;
    expect_none(f, &a);
    expect_none(f, &b);
    assert_int_equal(stats(f).shared_hits, hits + 1); /* b joined a's scan */
    int wa = a.wakes, wb = b.wakes;
    wait_woken(f, &a, wa);
    wait_woken(f, &b, wb);
    expect_records(f, &a, 1, 8, "m", 0);
    expect_records(f, &b, 1, 8, "m", 0);
    assert_int_equal(stats(f).disk_scans, 1);
}

/* ---- GAP ----------------------------------------------------------------------- */

/* Retention removed records the subscriber had not read: a gap message
 * from its cursor to just before the oldest stored record, then the
 * rest from the disk. */
static void test_gap_after_retention(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = small_window(f->dir, 4);
    o.segment_size = 4096;
    o.retain_bytes = 12 * 1024;
    open_hub(f, &o);
    conn_t c;
    subscribe(f, &c, TAIL_WS, "after=0");
    for (int i = 0; i < 20; i++)
        append(f, "web.info", "m", 20);
    assert_int_equal(c.wakes, 1); /* never asked: never woken again */
    uint64_t first = store_first_seq(f->store), last = store_last_seq(f->store);
    assert_true(first > 1);
    assert_int_equal(last, 400);
    char want[128];
    snprintf(want, sizeof want, "{\"type\":\"gap\",\"from\":1,\"to\":%llu}",
             (unsigned long long)first - 1);
    assert_state(&c, TS_LIVE);
    expect(f, &c, want);
    assert_state(&c, TS_LIVE);
    expect_status(f, &c, last - first + 1, "disk");
    assert_state(&c, TS_DISK);
    expect_none(f, &c);
    int wakes = c.wakes;
    wait_woken(f, &c, wakes);
    assert_true(next(f, &c));
    parse_records(f->msg);
    assert_int_equal(recs.n, last - first + 1);
    for (size_t k = 0; k < recs.n; k++)
        assert_int_equal(recs.seq[k], first + k);
    expect_none(f, &c);
    assert_int_equal(stats(f).gaps, 1);
}

/* Retention strikes after the "disk" status, before the scan: the gap
 * message comes first, and the SSE id moves past it. */
static void test_gap_while_on_disk(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = small_window(f->dir, 4);
    o.segment_size = 4096;
    o.retain_bytes = 12 * 1024;
    open_hub(f, &o);
    conn_t c;
    subscribe(f, &c, TAIL_SSE, "after=0");
    append(f, "web.info", "m", 10);
    expect(f, &c, "event: status\ndata: {\"type\":\"status\",\"lag\":10,\"source\":\"disk\"}\n\n");
    for (int i = 0; i < 20; i++)
        append(f, "web.info", "m", 20);
    uint64_t first = store_first_seq(f->store), last = store_last_seq(f->store);
    assert_true(first > 11);
    char want[160];
    snprintf(want, sizeof want,
             "event: gap\ndata: {\"type\":\"gap\",\"from\":1,\"to\":%llu}\nid: %llu\n\n",
             (unsigned long long)first - 1, (unsigned long long)first - 1);
    assert_state(&c, TS_DISK);
    expect(f, &c, want);
    assert_state(&c, TS_DISK);
    expect_none(f, &c); /* no second "disk" status: the scan runs */
    assert_state(&c, TS_DISK_SCAN);
    int wakes = c.wakes;
    wait_woken(f, &c, wakes);
    assert_true(next(f, &c));
    char *data = strstr(f->msg, "data: ") + 6;
    *strchr(data, '\n') = '\0';
    parse_records(data);
    assert_int_equal(recs.n, last - first + 1);
    assert_int_equal(recs.seq[0], first);
    assert_int_equal(stats(f).gaps, 1);
}

/* ---- failing reads ------------------------------------------------------------- */

/* The store's open segment files, each replaced by a directory under the
 * same descriptor, so that every read of them fails (EISDIR) until
 * mend_segments() puts the files back. Writes would fail too: the tests
 * append nothing meanwhile. */
typedef struct broken {
    int fd[64], saved[64];
    size_t n;
} broken_t;

static void break_segments(fixture_t *f, broken_t *b)
{
    char dir[PATH_MAX], link[PATH_MAX], path[PATH_MAX + 32];
    assert_non_null(realpath(f->dir, dir));
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int fds[256];
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < 256;) {
        if (e->d_name[0] != '.')
            fds[n++] = atoi(e->d_name);
    }
    closedir(d);
    b->n = 0;
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "/proc/self/fd/%d", fds[i]);
        ssize_t len = readlink(path, link, sizeof link - 1);
        if (len <= 4)
            continue;
        link[len] = '\0';
        if (strncmp(link, dir, strlen(dir)) || strcmp(link + len - 4, ".log"))
            continue;
        assert_true(b->n < 64);
        int hole = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(hole >= 0);
        b->fd[b->n] = fds[i];
        b->saved[b->n] = dup(fds[i]);
        assert_true(b->saved[b->n] >= 0);
        assert_true(dup2(hole, fds[i]) == fds[i]);
        close(hole);
        b->n++;
    }
    assert_true(b->n > 0);
    log_threshold = LOG_ERROR - 1; /* the store logs each failed read */
}

static void mend_segments(broken_t *b)
{
    for (size_t i = 0; i < b->n; i++) {
        assert_true(dup2(b->saved[i], b->fd[i]) == b->fd[i]);
        close(b->saved[i]);
    }
    b->n = 0;
    log_threshold = LOG_ERROR;
}

/* A disk scan that fails is tried again from the same cursor: nothing is
 * lost or sent twice once reads work again. */
static void test_disk_scan_failure_retries(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = small_window(f->dir, 4);
    open_hub(f, &o);
    conn_t c;
    subscribe(f, &c, TAIL_WS, "after=0");
    append(f, "web.info", "m", 10);
    expect_status(f, &c, 10, "disk");
    broken_t b;
    break_segments(f, &b);
    for (int round = 0; round < 2; round++) {
        expect_none(f, &c);
        assert_state(&c, TS_DISK_SCAN);
        int wakes = c.wakes;
        wait_woken(f, &c, wakes);
        assert_state(&c, TS_DISK); /* failed: woken to try again */
        assert_int_equal(tail_more(c.s), 1);
    }
    mend_segments(&b);
    expect_none(f, &c);
    int wakes = c.wakes;
    wait_woken(f, &c, wakes);
    assert_state(&c, TS_DISK_READY);
    expect_records(f, &c, 1, 10, "m", 0);
    expect_none(f, &c);
    assert_int_equal(stats(f).disk_scans, 3);
}

/* The same for the backward scan that locates a backlog. */
static void test_backlog_scan_failure_retries(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = small_window(f->dir, 4);
    open_hub(f, &o);
    append(f, "web.info", "m", 10);
    broken_t b;
    break_segments(f, &b);
    conn_t c;
    subscribe(f, &c, TAIL_WS, "n=6");
    expect_none(f, &c);
    assert_state(&c, TS_BACKLOG_SCAN);
    wait_woken(f, &c, 1);
    assert_state(&c, TS_BACKLOG);
    assert_int_equal(tail_more(c.s), 1);
    mend_segments(&b);
    expect_none(f, &c);
    assert_state(&c, TS_BACKLOG_SCAN);
    int wakes = c.wakes;
    wait_woken(f, &c, wakes);
    assert_state(&c, TS_LIVE);
    expect_status(f, &c, 6, "disk");
    expect_none(f, &c);
    wakes = c.wakes;
    wait_woken(f, &c, wakes);
    expect_records(f, &c, 5, 10, "m", 4);
}

/* ---- detaching ------------------------------------------------------------------ */

/* Unsubscribed while its scan runs: freed when the scan ends, never woken
 * again; a subscriber that joined the scan still gets the records. */
static void test_detach_while_disk_scan_runs(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = small_window(f->dir, 4);
    open_hub(f, &o);
    conn_t a, b, alone;
    subscribe(f, &a, TAIL_WS, "after=0");
    subscribe(f, &b, TAIL_WS, "after=0");
    append(f, "web.info", "m", 8);
    expect_status(f, &a, 8, "disk");
    expect_status(f, &b, 8, "disk");
    expect_none(f, &a); /* a's scan */
    expect_none(f, &b); /* b joins it */
    int wa = a.wakes, wb = b.wakes;
    unsubscribe(&a); /* the scan's owner leaves */
    assert_int_equal(tail_count(f->t), 1);
    wait_woken(f, &b, wb);
    assert_int_equal(a.wakes, wa);
    expect_records(f, &b, 1, 8, "m", 0);
    /* the only one waiting for a scan leaves */
    subscribe(f, &alone, TAIL_WS, "after=2");
    expect_status(f, &alone, 6, "disk");
    expect_none(f, &alone);
    int walone = alone.wakes;
    uint64_t scans = stats(f).disk_scans;
    unsubscribe(&alone);
    assert_int_equal(tail_count(f->t), 1);
    drain_pool(f);
    assert_int_equal(stats(f).disk_scans, scans + 1);
    assert_int_equal(alone.wakes, walone);
    /* b carries on */
    append(f, "web.info", "n", 1);
    expect_status(f, &b, 1, "live");
    expect_records(f, &b, 9, 9, "n", 0);
}

/* Unsubscribing in every other state: freed at once, or, with a scan
 * running (ended well or not), when it ends; never woken after. ASan
 * tells if any is leaked or used after it was freed. */
static void test_unsubscribe_in_every_state(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = small_window(f->dir, 4);
    open_hub(f, &o);
    append(f, "web.info", "m", 10);
    conn_t backlog, backlog_scan, hint, live, disk, ready, failing;
    subscribe(f, &backlog, TAIL_WS, "n=5");
    assert_state(&backlog, TS_BACKLOG);
    unsubscribe(&backlog);

    subscribe(f, &backlog_scan, TAIL_WS, "n=8");
    expect_none(f, &backlog_scan);
    expect_none(f, &backlog_scan); /* asked again while the scan runs */
    assert_state(&backlog_scan, TS_BACKLOG_SCAN);
    int w_backlog_scan = backlog_scan.wakes;
    unsubscribe(&backlog_scan); /* DEAD until its scan ends */
    drain_pool(f);
    assert_int_equal(backlog_scan.wakes, w_backlog_scan);

    subscribe(f, &hint, TAIL_WS, "topic=web&n=5");
    expect_none(f, &hint);
    wait_woken(f, &hint, hint.wakes);
    assert_state(&hint, TS_HINT);
    unsubscribe(&hint);

    subscribe(f, &live, TAIL_WS, "n=0");
    assert_state(&live, TS_LIVE);
    unsubscribe(&live);

    subscribe(f, &disk, TAIL_WS, "after=0");
    expect_status(f, &disk, 10, "disk");
    assert_state(&disk, TS_DISK);
    unsubscribe(&disk);

    subscribe(f, &ready, TAIL_WS, "after=1");
    expect_status(f, &ready, 9, "disk");
    expect_none(f, &ready);
    wait_woken(f, &ready, ready.wakes);
    assert_state(&ready, TS_DISK_READY);
    unsubscribe(&ready);

    subscribe(f, &failing, TAIL_WS, "after=2");
    expect_status(f, &failing, 8, "disk");
    broken_t b;
    break_segments(f, &b);
    expect_none(f, &failing);
    int w_failing = failing.wakes;
    unsubscribe(&failing);
    uint64_t scans = stats(f).disk_scans;
    drain_pool(f); /* the scan fails: DEAD is freed all the same */
    mend_segments(&b);
    assert_int_equal(stats(f).disk_scans, scans + 1);
    assert_int_equal(failing.wakes, w_failing);
    assert_int_equal(tail_count(f->t), 0);
    append(f, "web.info", "after", 1); /* wakes nobody */
}

/* The hub goes away while a scan runs: it is freed when the scan ends. */
static void test_destroy_while_scan_runs(void **state)
{
    fixture_t *f = *state;
    store_opts_t o = small_window(f->dir, 4);
    open_hub(f, &o);
    conn_t c, idle;
    subscribe(f, &c, TAIL_WS, "after=0");
    subscribe(f, &idle, TAIL_WS, "n=0");
    append(f, "web.info", "m", 8);
    expect_status(f, &c, 8, "disk");
    expect_none(f, &c);
    int wakes = c.wakes;
    tail_destroy(f->t);
    f->t = NULL;
    drain_pool(f); /* the scan ends; ASan tells if anything leaked */
    assert_int_equal(c.wakes, wakes);
    append(f, "web.info", "after", 1); /* nobody listens any more */
}

int main(void)
{
    /* one pool thread: scans end in the order queued (drain_pool) */
    setenv("UV_THREADPOOL_SIZE", "1", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_backlog_from_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backlog_short_or_none, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backlog_from_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_backlog_hint_from_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_backlog_hint_from_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_live_in_seq_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sse_framing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filter_skips_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_message_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_behind_window_goes_to_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caught_up_on_disk_waits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_then_more_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_catch_up_in_bounded_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filter_on_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_disk_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gap_after_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gap_while_on_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_scan_failure_retries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backlog_scan_failure_retries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detach_while_disk_scan_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsubscribe_in_every_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroy_while_scan_runs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
