/* test_merge.c - several servers' answers merged by time (src/cli/merge.c):
 * query answers sorted with ties kept in server and arrival order and cut
 * to the limit at the right end; live records released once every server
 * has caught up, or after the hold, never lost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cli/merge.h"

#define MS 1000000LL

static int contains(const char *p, size_t n, const char *want)
{
    size_t k = strlen(want);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(p + i, want, k) == 0)
            return 1;
    return 0;
}

static char *rec(char *buf, size_t cap, int64_t ts_s, const char *msg)
{
    snprintf(buf, cap, "{\"seq\":1,\"ts\":%lld,\"msg\":\"%s\",\"fields\":{\"ts\":1}}",
             (long long)ts_s, msg);
    return buf;
}

static void add(merge_t *m, size_t src, int64_t ts_s, const char *msg)
{
    char b[256];
    rec(b, sizeof b, ts_s, msg);
    assert_int_equal(merge_add(m, src, b, strlen(b)), 0);
}

static void push(merge_t *m, size_t src, int64_t ts_s, const char *msg, int64_t now)
{
    char b[256];
    rec(b, sizeof b, ts_s, msg);
    assert_int_equal(merge_push(m, src, b, strlen(b), now), 0);
}

/* The msg of line i (query) */
static void line_is(const merge_t *m, size_t i, const char *msg)
{
    size_t n;
    const char *l = merge_line(m, i, &n);
    char want[64];
    snprintf(want, sizeof want, "\"msg\":\"%s\"", msg);
    if (!contains(l, n, want))
        fail_msg("line %zu is %.*s, not %s", i, (int)n, l, msg);
}

/* Pops one and checks its msg; "" checks that nothing is ready. */
static void pops(merge_t *m, int64_t now, int64_t hold, int all, const char *msg)
{
    buf_t out = BUF_INIT;
    int got = merge_pop(m, now, hold, all, &out);
    if (!*msg) {
        if (got)
            fail_msg("released %.*s, want nothing", (int)out.len, out.data);
    } else {
        assert_true(got);
        char want[64];
        snprintf(want, sizeof want, "\"msg\":\"%s\"", msg);
        if (!contains(out.data, out.len, want))
            fail_msg("released %.*s, want %s", (int)out.len, out.data, msg);
    }
    buf_free(&out);
}

static void test_ts(void **state)
{
    (void)state;
    int64_t ts;
    const char *a = "{\"seq\":3,\"ts\":\"2026-01-01T00:00:01.5Z\",\"msg\":\"x\"}";
    assert_int_equal(merge_ts(a, strlen(a), &ts), 0);
    assert_int_equal(ts, 1767225601500000000LL);
    const char *b = "{\"ts\":1767225600,\"msg\":\"x\"}";
    assert_int_equal(merge_ts(b, strlen(b), &ts), 0);
    assert_int_equal(ts, 1767225600000000000LL);
    /* only the record's own ts counts, not one among its fields */
    const char *c = "{\"msg\":\"x\",\"fields\":{\"ts\":5}}";
    assert_int_equal(merge_ts(c, strlen(c), &ts), -1);
    const char *d = "not json";
    assert_int_equal(merge_ts(d, strlen(d), &ts), -1);
    merge_t m;
    merge_init(&m, 2);
    assert_int_equal(merge_add(&m, 0, d, strlen(d)), -1);
    assert_int_equal(merge_add(&m, 2, a, strlen(a)), -1); /* no such source */
    assert_int_equal(m.n, 0);
    merge_free(&m);
}

static void test_query_sorted_and_windowed(void **state)
{
    (void)state;
    merge_t m;
    merge_init(&m, 2);
    /* each server in its own seq order, which is not time order */
    add(&m, 0, 10, "a10");
    add(&m, 0, 30, "a30");
    add(&m, 0, 20, "a20");
    add(&m, 1, 20, "b20");
    add(&m, 1, 5, "b5");
    add(&m, 1, 20, "b20bis");
    add(&m, 0, 20, "a20bis");
    merge_sort(&m);
    const char *want[] = {"b5", "a10", "a20", "a20bis", "b20", "b20bis", "a30"};
    for (size_t i = 0; i < 7; i++)
        line_is(&m, i, want[i]);
    size_t first, count;
    merge_window(&m, 3, 0, &first, &count); /* the newest 3 */
    assert_int_equal(first, 4);
    assert_int_equal(count, 3);
    merge_window(&m, 3, 1, &first, &count); /* the oldest 3 */
    assert_int_equal(first, 0);
    assert_int_equal(count, 3);
    merge_window(&m, 100, 0, &first, &count);
    assert_int_equal(first, 0);
    assert_int_equal(count, 7);
    merge_window(&m, 0, 0, &first, &count);
    assert_int_equal(count, 7);
    merge_free(&m);
}

static void test_tail_waits_for_every_server(void **state)
{
    (void)state;
    merge_t m;
    merge_init(&m, 2);
    int64_t hold = 500 * MS, now = 1000 * MS;
    push(&m, 0, 10, "a10", now);
    push(&m, 0, 12, "a12", now);
    pops(&m, now, hold, 0, ""); /* server 1 has said nothing yet */
    push(&m, 1, 11, "b11", now + 1);
    pops(&m, now + 1, hold, 0, "a10"); /* b is at 11 */
    pops(&m, now + 1, hold, 0, "b11"); /* a is at 12 */
    pops(&m, now + 1, hold, 0, "");    /* a12: b is only at 11 */
    merge_free(&m);

    merge_init(&m, 2);
    push(&m, 0, 10, "a10", now);
    push(&m, 1, 11, "b11", now);
    push(&m, 0, 12, "a12", now);
    pops(&m, now, hold, 0, "a10");
    pops(&m, now, hold, 0, "b11");
    pops(&m, now, hold, 0, ""); /* a12: b is only at 11 */
    assert_int_equal(merge_due(&m, hold), now + hold);
    pops(&m, now + hold - 1, hold, 0, "");
    pops(&m, now + hold, hold, 0, "a12"); /* held long enough */
    assert_int_equal(merge_due(&m, hold), INT64_MAX);
    /* a server that ended holds nothing up */
    push(&m, 0, 20, "a20", now + hold);
    pops(&m, now + hold, hold, 0, "");
    merge_done(&m, 1);
    pops(&m, now + hold, hold, 0, "a20");
    merge_free(&m);
}

static void test_tail_late_record_and_skew(void **state)
{
    (void)state;
    merge_t m;
    merge_init(&m, 2);
    int64_t hold = 100 * MS, t = 0;
    /* server 1's clock is far behind: its records are always older, but
     * server 0's still go out within the hold, none lost */
    push(&m, 0, 1000, "a1000", t);
    for (int i = 0; i < 50; i++) {
        char msg[16];
        snprintf(msg, sizeof msg, "b%d", i);
        push(&m, 1, i, msg, t + (i + 1) * MS);
    }
    size_t got = 0;
    buf_t out = BUF_INIT;
    while (merge_pop(&m, t + 60 * MS, hold, 0, &out))
        got++;
    assert_int_equal(got, 50); /* b's are all covered by a's 1000 */
    assert_int_equal(merge_pop(&m, t + 60 * MS, hold, 0, &out), 0);
    assert_int_equal(merge_pop(&m, t + hold, hold, 0, &out), 1); /* a1000's hold is over */
    assert_int_equal(m.n, 0);
    /* everything goes at the end, oldest first */
    push(&m, 0, 7, "a7", t);
    push(&m, 0, 3, "a3", t);
    pops(&m, t, hold, 1, "a3");
    pops(&m, t, hold, 1, "a7");
    pops(&m, t, hold, 1, "");
    buf_free(&out);
    merge_free(&m);
}

static void test_tail_long_run_reclaims(void **state)
{
    (void)state;
    merge_t m;
    merge_init(&m, 2);
    buf_t out = BUF_INIT;
    char b[256];
    /* 200,000 records, always some held: memory stays bounded */
    int64_t ts = 0;
    size_t out_n = 0, max_text = 0;
    int64_t last = -1;
    for (int i = 0; i < 200000; i++) {
        rec(b, sizeof b, ts++, "m");
        assert_int_equal(merge_push(&m, (size_t)(i % 2), b, strlen(b), i), 0);
        buf_reset(&out);
        while (merge_pop(&m, i, 1000000, 0, &out)) {
            int64_t t2;
            assert_int_equal(merge_ts(out.data, out.len, &t2), 0);
            assert_true(t2 > last); /* in order */
            last = t2;
            buf_reset(&out);
            out_n++;
        }
        if (m.text.len > max_text)
            max_text = m.text.len;
    }
    assert_true(m.n <= 2);
    assert_true(out_n >= 199998);
    assert_true(max_text < 1000000);
    buf_free(&out);
    merge_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ts),
        cmocka_unit_test(test_query_sorted_and_windowed),
        cmocka_unit_test(test_tail_waits_for_every_server),
        cmocka_unit_test(test_tail_late_record_and_skew),
        cmocka_unit_test(test_tail_long_run_reclaims),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
