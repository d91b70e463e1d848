/* test_query.c - query execution over a real store (src/query/query.c): a
 * store in a temporary directory holds twelve records that differ in every
 * field and 240 more on one topic; queries filter them by topic, level,
 * app, host, field, q and qi, bound them by time and seq, limit and order
 * them, page with before= and after=, come back empty (with a hint when a
 * topic lacks ".#"), run in small chunks with the same answer, and refuse
 * bad parameters with their message. Every answer is parsed as JSON. */
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
#include "store/store.h"
#include "unit/store_wait.h"

#define SEC   1000000000LL
#define MS    1000000LL
#define T0    (1764684000LL * SEC) /* 2025-12-02T14:00:00Z */
#define NBULK 240                  /* seqs 13..252 on bulk.info */
#define LAST  (12 + NBULK)

typedef struct fixture {
    uv_loop_t loop;
    char dir[256];
    store_t *s;
} fixture_t;

static fixture_t fx;

/* The twelve varied records, seq = index + 1, ts = T0 + seq seconds. */
static const struct {
    const char *topic;
    int level;
    const char *app, *host, *fields, *msg;
} varied[] = {
    {"web.info", 6, "web", "h1", "{\"status\":200}", "GET / ok"},
    {"web.error", 3, "web", "h2", "{\"status\":500,\"user\":{\"id\":7}}", "GET /x failed"},
    {"db.warning", 4, "db", "h1", NULL, "slow query"},
    {"auth.notice", 5, "auth", "h3", NULL, "access denied for bob"},
    {"kern.crit", 2, "kernel", "h2", NULL, "Access DENIED twice"},
    {"web.api.error", 3, "web-api", "h1", "{\"status\":503}", "upstream timeout"},
    {"web.debug", 7, "web", "h2", NULL, "trace"},
    {"auth.info", 6, "auth", "h1", "{\"user\":{\"id\":7}}", "login bob"},
    {"db.error", 3, "db", "h3", "{\"status\":\"500\"}", "deadlock"},
    {"kern.info", 6, "kernel", "h2", NULL, "boot"},
    {"web.info", 6, "web", "h1", "{\"status\":404}", "GET /missing"},
    {"mail.emerg", 0, "mail", "h3", NULL, "disk full"},
};

static void append(batch_t *b)
{
    int err;
    assert_int_equal(test_append_wait(&fx.loop, fx.s, b, &err), STORE_PENDING);
    assert_int_equal(err, 0);
    batch_free(b);
}

static int setup(void **state)
{
    log_threshold = LOG_ERROR;
    uv_loop_init(&fx.loop);
    snprintf(fx.dir, sizeof fx.dir, "/tmp/logship-test-query.XXXXXX");
    assert_non_null(mkdtemp(fx.dir));
    store_opts_t o = {
        .dir = fx.dir,
        .segment_size = 16u << 10, /* small: the answers cross segments */
        .fsync = FSYNC_NEVER,
        .memory_records = 1000,
        .memory_bytes = 1u << 20,
        .max_pending = 64u << 20,
    };
    char err[256] = "";
    fx.s = store_open(&fx.loop, &o, err, sizeof err);
    if (!fx.s)
        fail_msg("store_open: %s", err);

    batch_t b = {0};
    for (size_t i = 0; i < sizeof varied / sizeof varied[0]; i++) {
        record_t r = {0};
        r.ts = T0 + (int64_t)(i + 1) * SEC;
        r.level = varied[i].level;
        r.topic = slice_cstr(varied[i].topic);
        r.app = slice_cstr(varied[i].app);
        r.host = slice_cstr(varied[i].host);
        if (varied[i].fields)
            r.fields = slice_cstr(varied[i].fields);
        r.msg = slice_cstr(varied[i].msg);
        batch_add(&b, &r);
    }
    append(&b);
    /* the bulk in several appends, so several groups and segments */
    char msg[32];
    for (int i = 0; i < NBULK; i++) {
        record_t r = {0};
        r.ts = T0 + 1000 * SEC + i * MS;
        r.level = 6;
        r.topic = SLICE_LIT("bulk.info");
        r.app = SLICE_LIT("bulk");
        r.host = SLICE_LIT("hb");
        snprintf(msg, sizeof msg, "bulk %d", i);
        r.msg = slice_cstr(msg);
        batch_add(&b, &r);
        if (i % 60 == 59)
            append(&b);
    }
    assert_int_equal(store_last_seq(fx.s), LAST);
    store_stats_t st;
    store_get_stats(fx.s, &st);
    assert_true(st.segments > 1);
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

/* ---- running a query and reading its answer ------------------------------- */

typedef struct answer {
    uint64_t seqs[LAST + 8];
    size_t n;
    char hint[256];
    size_t calls; /* query_run() calls it took */
    buf_t text;   /* the whole output */
} answer_t;

/* Applies "k=v&k=v" (no escapes), each of which must be accepted. */
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
}

/* The seq of one record object, checked to be a whole record. */
static uint64_t seq_of(yajl_val rec)
{
    static const char *seq_path[] = {"seq", NULL};
    static const char *topic_path[] = {"topic", NULL};
    static const char *msg_path[] = {"msg", NULL};
    assert_true(YAJL_IS_OBJECT(rec));
    yajl_val s = yajl_tree_get(rec, seq_path, yajl_t_number);
    assert_non_null(s);
    assert_true(YAJL_IS_INTEGER(s));
    assert_non_null(yajl_tree_get(rec, topic_path, yajl_t_string));
    assert_non_null(yajl_tree_get(rec, msg_path, yajl_t_string));
    return (uint64_t)YAJL_GET_INTEGER(s);
}

static void keep_seq(answer_t *a, uint64_t seq)
{
    if (a->n == sizeof a->seqs / sizeof a->seqs[0])
        fail_msg("more records than the store holds: %zu", a->n);
    a->seqs[a->n++] = seq;
}

static void parse_answer(answer_t *a, enum query_format fmt)
{
    char err[256];
    buf_putc(&a->text, '\0');
    a->text.len--;
    if (fmt == QUERY_JSON_ARRAY) {
        yajl_val v = yajl_tree_parse(a->text.data, err, sizeof err);
        if (!v)
            fail_msg("not JSON (%s): %s", err, a->text.data);
        assert_true(YAJL_IS_ARRAY(v));
        for (size_t i = 0; i < YAJL_GET_ARRAY(v)->len; i++)
            keep_seq(a, seq_of(YAJL_GET_ARRAY(v)->values[i]));
        yajl_tree_free(v);
        assert_int_equal(a->text.data[a->text.len - 1], '\n');
        return;
    }
    /* NDJSON: one whole object per line, every line ended */
    char *p = a->text.data, *end = p + a->text.len;
    assert_true(a->text.len == 0 || end[-1] == '\n');
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        *nl = '\0';
        yajl_val v = yajl_tree_parse(p, err, sizeof err);
        if (!v)
            fail_msg("not a JSON line (%s): %s", err, p);
        keep_seq(a, seq_of(v));
        yajl_tree_free(v);
        *nl = '\n';
        p = nl + 1;
    }
}

static answer_t *run_fmt(const char *ps, enum query_format fmt, size_t chunk)
{
    static answer_t a;
    buf_free(&a.text);
    memset(&a, 0, sizeof a);
    query_t q;
    query_init(&q);
    q.format = fmt;
    params(&q, ps);
    while (!q.done) {
        assert_true(a.calls < 100000); /* bounded: each call makes progress */
        query_run(&q, fx.s, &a.text, chunk);
        a.calls++;
    }
    assert_int_equal(q.error, 0);
    snprintf(a.hint, sizeof a.hint, "%.*s", (int)q.hint.len, q.hint.data ? q.hint.data : "");
    size_t emitted = q.emitted;
    query_free(&q);
    parse_answer(&a, fmt);
    assert_int_equal(a.n, emitted);
    return &a;
}

static answer_t *run(const char *ps)
{
    return run_fmt(ps, QUERY_JSON_ARRAY, 1u << 20);
}

/* Asserts the answer's seqs are exactly the n given. */
static void expect(const answer_t *a, size_t n, const uint64_t *want, const char *ps)
{
    int same = a->n == n;
    for (size_t i = 0; same && i < n; i++)
        same = a->seqs[i] == want[i];
    if (!same) {
        char got[512] = "";
        for (size_t i = 0, o = 0; i < a->n && o < sizeof got - 24; i++)
            o += (size_t)snprintf(got + o, sizeof got - o, "%llu ", (unsigned long long)a->seqs[i]);
        fail_msg("%s: got %zu records: %s", ps, a->n, got);
    }
}

#define EXPECT(ps, ...)                                                                            \
    do {                                                                                           \
        static const uint64_t want_[] = {__VA_ARGS__};                                             \
        expect(run(ps), sizeof want_ / sizeof want_[0], want_, ps);                                \
    } while (0)
#define EXPECT_NONE(ps) expect(run(ps), 0, NULL, ps)

/* ---- filters ---------------------------------------------------------------- */

static void test_topic(void **state)
{
    EXPECT("topic=web.#", 1, 2, 6, 7, 11);
    EXPECT("topic=web.*", 1, 2, 7, 11); /* web.api.error has three words */
    EXPECT("topic=*.error", 2, 9);
    EXPECT("topic=web.#&topic=kern.*", 1, 2, 5, 6, 7, 10, 11); /* repeated: either */
    EXPECT("topic=mail.emerg", 12);
}

static void test_level(void **state)
{
    EXPECT("level=error", 2, 5, 6, 9, 12); /* error and more severe */
    EXPECT("level=warning", 2, 3, 5, 6, 9, 12);
    EXPECT("level=emerg", 12);
    EXPECT("level=crit&topic=kern.#", 5);
    /* every level admits the bulk (info) from info down */
    assert_int_equal(run("level=info&topic=bulk.#")->n, NBULK);
    EXPECT_NONE("level=notice&topic=bulk.#");
}

static void test_app_host_field(void **state)
{
    EXPECT("app=web", 1, 2, 7, 11);
    EXPECT("app=web*", 1, 2, 6, 7, 11);
    EXPECT("app=web&app=db", 1, 2, 3, 7, 9, 11);
    EXPECT("host=h3", 4, 9, 12);
    EXPECT("host=h?&app=kernel", 5, 10);
    EXPECT("field.status=500", 2, 9); /* a number and a string of the same text */
    EXPECT("field.status=50?", 2, 6, 9);
    EXPECT("field.user.id=7", 2, 8); /* nested */
    EXPECT("field.status=500&field.user.id=7", 2);
    EXPECT("field.status=*&host=h1", 1, 6, 11);
}

static void test_exclusions_and_all(void **state)
{
    EXPECT("not.app=web&not.app=bulk&level=info", 3, 4, 5, 6, 8, 9, 10, 12);
    EXPECT("not.topic=bulk.#&not.level=info,debug&not.host=h3", 2, 3, 5, 6);
    /* limit=all: every match, past the default 1000 */
    assert_int_equal(run("limit=all")->n, LAST);
    assert_int_equal(run("limit=all&order=desc&topic=bulk.#")->n, NBULK);
}

static void test_q_qi(void **state)
{
    EXPECT("q=denied", 4); /* case matters */
    EXPECT("qi=denied", 4, 5);
    EXPECT("q=GET /", 1, 2, 11);
    EXPECT("q=bulk 23", 36, 243, 244, 245, 246, 247, 248, 249, 250, 251, 252);
    EXPECT_NONE("q=no such text");
}

static void test_combined(void **state)
{
    EXPECT("topic=web.#&level=error&host=h1", 6);
    EXPECT("topic=web.#&level=error&host=h1&q=timeout&app=web-*", 6);
    EXPECT_NONE("topic=web.#&level=error&host=h1&q=nothing");
}

static void test_time_range(void **state)
{
    char ps[128];
    /* since and until are both inclusive */
    snprintf(ps, sizeof ps, "since=%lld&until=%lld", (long long)((T0 + 4 * SEC) / MS),
             (long long)((T0 + 6 * SEC) / MS));
    EXPECT(ps, 4, 5, 6);
    snprintf(ps, sizeof ps, "until=%lld", (long long)((T0 + 2 * SEC) / SEC));
    EXPECT(ps, 1, 2);
    /* since= anchors: the first matches from there, not the newest */
    snprintf(ps, sizeof ps, "since=%lld&limit=2", (long long)((T0 + 1000 * SEC) / MS + 100));
    EXPECT(ps, 113, 114);
    snprintf(ps, sizeof ps, "since=2025-12-02T14:00:10Z&until=2025-12-02T14:00:11.5Z");
    EXPECT(ps, 10, 11);
    snprintf(ps, sizeof ps, "since=2025-12-02T14:00:13Z&until=2025-12-02T14:16:39Z");
    EXPECT_NONE(ps); /* between the two groups */
}

/* ---- limits, order, paging -------------------------------------------------- */

static void test_limit_and_order(void **state)
{
    /* no anchor: the newest `limit`, oldest first */
    EXPECT("topic=bulk.#&limit=5", 248, 249, 250, 251, 252);
    EXPECT("limit=1", LAST);
    EXPECT("order=desc&limit=3", 252, 251, 250);
    EXPECT("order=desc&limit=3&topic=web.#", 11, 7, 6);
    EXPECT("order=asc&limit=2&topic=web.#", 7, 11);
    /* anchored by after=: the first `limit` after it */
    EXPECT("after=100&limit=3", 101, 102, 103);
    EXPECT("after=3&limit=2&topic=web.#", 6, 7);
    /* desc with after: newest first, down to after */
    EXPECT("order=desc&after=245", 252, 251, 250, 249, 248, 247, 246);
    /* the default limit, and one that lets everything through */
    assert_int_equal(run("")->n, LAST);
    assert_int_equal(run("limit=1000000")->n, LAST);
    answer_t *a = run("order=desc");
    for (size_t i = 0; i < a->n; i++)
        assert_int_equal(a->seqs[i], LAST - i);
}

static void test_before_after(void **state)
{
    EXPECT("before=50&order=desc&limit=3", 49, 48, 47);
    EXPECT("before=50&limit=3", 47, 48, 49); /* the newest below 50, oldest first */
    EXPECT("after=10&before=15", 11, 12, 13, 14);
    EXPECT("topic=bulk.#&before=16", 13, 14, 15); /* fewer than the limit below before */
    EXPECT("topic=web.#&before=7&order=desc", 6, 2, 1);
    EXPECT("before=2", 1);
    EXPECT_NONE("before=1");
    EXPECT_NONE("after=252");
    EXPECT_NONE("after=1000000");
    EXPECT_NONE("after=20&before=21");
}

/* A reader pages backward with before= the oldest seq it has, and forward
 * with after= the newest: every record once, none twice, in order. */
static void test_paging(void **state)
{
    static uint64_t seen[LAST + 1];
    char ps[96];
    uint64_t before = 0, prev = UINT64_MAX;
    size_t total = 0, pages = 0;
    memset(seen, 0, sizeof seen);
    for (;;) {
        assert_true(pages < 100);
        if (before)
            snprintf(ps, sizeof ps, "topic=bulk.#&order=desc&limit=50&before=%llu",
                     (unsigned long long)before);
        else
            snprintf(ps, sizeof ps, "topic=bulk.#&order=desc&limit=50");
        answer_t *a = run(ps);
        if (!a->n)
            break;
        pages++;
        assert_true(a->n <= 50);
        for (size_t i = 0; i < a->n; i++) {
            assert_true(a->seqs[i] < prev); /* newest first, across pages */
            prev = a->seqs[i];
            assert_int_equal(seen[a->seqs[i]]++, 0);
            total++;
        }
        before = a->seqs[a->n - 1];
    }
    assert_int_equal(total, NBULK);
    assert_int_equal(pages, (NBULK + 49) / 50);
    assert_int_equal(prev, 13);

    uint64_t after = 0;
    total = pages = 0;
    prev = 0;
    for (;;) {
        assert_true(pages < 100);
        snprintf(ps, sizeof ps, "topic=bulk.#&limit=70&after=%llu", (unsigned long long)after);
        answer_t *a = run(ps);
        if (!a->n)
            break;
        pages++;
        for (size_t i = 0; i < a->n; i++) {
            assert_true(a->seqs[i] > prev);
            prev = a->seqs[i];
            assert_int_equal(seen[a->seqs[i]]++, 1); /* each seen once going back too */
            total++;
        }
        after = a->seqs[a->n - 1];
    }
    assert_int_equal(total, NBULK);
    assert_int_equal(pages, (NBULK + 69) / 70);
    assert_int_equal(prev, LAST);
}

/* ---- empty answers, formats, chunks ----------------------------------------- */

static void test_empty(void **state)
{
    answer_t *a = run("topic=nothing.#");
    assert_int_equal(a->n, 0);
    assert_string_equal(a->text.data, "[]\n");
    assert_string_equal(a->hint, ""); /* it has a wildcard: no hint */
    a = run_fmt("topic=nothing.#", QUERY_NDJSON, 1u << 20);
    assert_int_equal(a->text.len, 0);

    /* a topic without a wildcard that would have matched as "P.#" */
    a = run("topic=web&level=error");
    assert_int_equal(a->n, 0);
    assert_string_equal(a->hint, "topic 'web' has no wildcard: did you mean 'web.#'?");
    /* ...but not when nothing under it passes the other conditions */
    a = run("topic=web&level=emerg");
    assert_int_equal(a->n, 0);
    assert_string_equal(a->hint, "");
    /* a full topic matches itself: an answer, no hint */
    a = run("topic=web.info");
    assert_int_equal(a->n, 2);
    assert_string_equal(a->hint, "");
}

static void test_formats_agree(void **state)
{
    static uint64_t arr[LAST];
    static const char *const qs[] = {"", "topic=web.#&order=desc", "after=5&limit=9",
                                     "topic=bulk.#&limit=7"};
    for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
        answer_t *a = run(qs[k]);
        size_t n = a->n;
        memcpy(arr, a->seqs, n * sizeof *arr);
        a = run_fmt(qs[k], QUERY_NDJSON, 1u << 20);
        assert_int_equal(a->n, n);
        assert_memory_equal(a->seqs, arr, n * sizeof *arr);
    }
}

/* Small chunks: many calls, the same bytes. */
static void test_chunks(void **state)
{
    static const char *const qs[] = {"", "order=desc", "topic=bulk.#&limit=100",
                                     "after=3&limit=200", "topic=web.#&before=11&order=desc"};
    static char whole[1u << 17];
    for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
        for (int fmt = QUERY_JSON_ARRAY; fmt <= QUERY_NDJSON; fmt++) {
            answer_t *a = run_fmt(qs[k], (enum query_format)fmt, 1u << 20);
            assert_true(a->text.len < sizeof whole);
            size_t len = a->text.len, n = a->n;
            memcpy(whole, a->text.data, len);
            assert_int_equal(a->calls, 1);
            a = run_fmt(qs[k], (enum query_format)fmt, 100);
            assert_int_equal(a->n, n);
            assert_int_equal(a->text.len, len);
            assert_memory_equal(a->text.data, whole, len);
            if (n > 10)
                assert_true(a->calls > n / 4); /* a record or two per call */
        }
    }
}

/* ---- parameters ------------------------------------------------------------- */

static void bad(const char *key, const char *value, const char *want)
{
    query_t q;
    query_init(&q);
    const char *err = NULL;
    int rc = query_param(&q, slice_cstr(key), slice_cstr(value), &err);
    if (rc != -1)
        fail_msg("%s=%s: %d", key, value, rc);
    assert_non_null(err);
    assert_string_equal(err, want);
    query_free(&q);
}

static void test_bad_params(void **state)
{
    bad("limit", "0", "bad limit: expected 1..1000000 or all");
    bad("limit", "1000001", "bad limit: expected 1..1000000 or all");
    bad("limit", "", "bad limit: expected 1..1000000 or all");
    bad("limit", "1e3", "bad limit: expected 1..1000000 or all");
    bad("limit", "-5", "bad limit: expected 1..1000000 or all");
    bad("limit", "0000000001", "bad limit: expected 1..1000000 or all"); /* ten digits */
    bad("order", "up", "bad order: expected asc or desc");
    bad("order", "", "bad order: expected asc or desc");
    bad("level", "loud",
        "unknown level (use emerg, alert, crit, error, warning, notice, info, debug)");
    bad("since", "yesterday", "bad since: use " TIME_FORMS);
    bad("until", "", "bad until: use " TIME_FORMS);
    bad("after", "x", "bad after: expected a seq number");
    bad("after", "", "bad after: expected a seq number");
    bad("before", "-1", "bad before: expected a seq number");
    bad("before", "0", "bad before: seqs start at 1, so before must be at least 1");
    bad("field.", "1", "bad field: use field.NAME=VALUE with a NAME (user.id, status)");

    /* an unknown key is reported as such (1), with no message */
    query_t q;
    query_init(&q);
    const char *err = NULL;
    assert_int_equal(query_param(&q, SLICE_LIT("bogus"), SLICE_LIT("1"), &err), 1);
    assert_null(err);
    /* leading zeros within nine digits are a number */
    assert_int_equal(query_param(&q, SLICE_LIT("limit"), SLICE_LIT("000000007"), &err), 0);
    assert_int_equal(q.limit, 7);
    query_free(&q);

    /* the texts a query keeps share one budget: the one past it is refused */
    static char big[QUERY_PARAM_STRINGS_MAX / 3 + 1];
    memset(big, 'x', sizeof big - 1);
    query_init(&q);
    assert_int_equal(query_param(&q, SLICE_LIT("q"), slice_cstr(big), &err), 0);
    assert_int_equal(query_param(&q, SLICE_LIT("qi"), slice_cstr(big), &err), 0);
    assert_int_equal(query_param(&q, SLICE_LIT("app"), SLICE_LIT("web"), &err), 0);
    assert_int_equal(query_param(&q, SLICE_LIT("q"), slice_cstr(big), &err), -1);
    assert_string_equal(err, "query parameters too long");
    /* what was kept still reads right */
    assert_int_equal(q.f.q.n, sizeof big - 1);
    assert_memory_equal(q.f.apps[0].p, "web", 3);
    query_free(&q);
}

/* Texts the query keeps are its own copies: the caller's buffer may change. */
static void test_params_copied(void **state)
{
    char topic[] = "web.#", app[] = "web", key[] = "field.status", val[] = "500";
    query_t q;
    query_init(&q);
    const char *err = NULL;
    assert_int_equal(query_param(&q, slice_cstr("topic"), slice_cstr(topic), &err), 0);
    assert_int_equal(query_param(&q, slice_cstr("app"), slice_cstr(app), &err), 0);
    assert_int_equal(query_param(&q, slice_cstr(key), slice_cstr(val), &err), 0);
    memset(topic, '?', sizeof topic - 1);
    memset(app, '?', sizeof app - 1);
    memset(key, '?', sizeof key - 1);
    memset(val, '?', sizeof val - 1);
    buf_t out = BUF_INIT;
    while (!q.done)
        query_run(&q, fx.s, &out, 1u << 20);
    buf_putc(&out, '\0');
    assert_int_equal(q.emitted, 1); /* seq 2: web, web.error, status 500 */
    assert_non_null(strstr(out.data, "\"seq\":2,"));
    buf_free(&out);
    query_free(&q);
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topic),
        cmocka_unit_test(test_level),
        cmocka_unit_test(test_app_host_field),
        cmocka_unit_test(test_q_qi),
        cmocka_unit_test(test_combined),
        cmocka_unit_test(test_time_range),
        cmocka_unit_test(test_limit_and_order),
        cmocka_unit_test(test_before_after),
        cmocka_unit_test(test_paging),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_formats_agree),
        cmocka_unit_test(test_chunks),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_params_copied),
        cmocka_unit_test(test_exclusions_and_all),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
