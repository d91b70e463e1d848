/* test_jmap.c - a record from a JSON object by a path table
 * (src/ingest/json/jmap.c, on jdom.c): nested and dotted paths alike,
 * ranks, what loses kept in fields, the strip prefix, bad values kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/level.h"
#include "common/record.h"
#include "ingest/json/jdom.h"
#include "ingest/json/jmap.h"

static const jmap_key_t keys[] = {
    {"message", JM_MSG, 2},      {"log", JM_MSG, 1},       {"log.level", JM_LEVEL, 2},
    {"level", JM_LEVEL, 1},      {"@timestamp", JM_TS, 1}, {"host.name", JM_HOST, 1},
    {"service.name", JM_APP, 1}, {"version", JM_DROP, 1},  {"_pid", JM_PID, 1},
};
static const jmap_t map = {keys, sizeof keys / sizeof keys[0], "_"};

static jdom_t dom;
static recbuild_t rb;
static jmap_scratch_t sc;
static batch_t b;
static record_t r;
static jmap_result_t res;

static int setup(void **state)
{
    (void)state;
    jdom_init(&dom);
    recbuild_init(&rb, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    jdom_free(&dom);
    recbuild_free(&rb);
    batch_free(&b);
    buf_free(&sc.path);
    buf_free(&sc.value);
    buf_free(&sc.keys);
    return 0;
}

/* Maps doc into r (the only record of b). */
static void map_doc(const char *doc)
{
    rec_defaults_t d = {.level = -1, .now = 5};
    assert_int_equal(jdom_parse(&dom, doc, strlen(doc)), 0);
    recbuild_reset(&rb);
    jmap_object(&dom, 0, &map, &rb, &sc, &res);
    if (!res.has[JM_MSG])
        recbuild_set(&rb, RF_MSG, "", 0);
    batch_reset(&b);
    recbuild_finish(&rb, &b, &d);
    assert_int_equal(b.count, 1);
    assert_true(record_decode(b.frames.data, b.frames.len, &r) > 0);
}

static void assert_slice(slice_t s, const char *want)
{
    assert_int_equal(s.n, strlen(want));
    assert_memory_equal(s.p, want, s.n);
}

static void test_nested_and_dotted_alike(void **state)
{
    (void)state;
    map_doc("{\"message\":\"m\",\"log\":{\"level\":\"warn\"},\"host\":{\"name\":\"h1\"},"
            "\"service.name\":\"web\",\"@timestamp\":\"2026-12-03T10:00:00Z\"}");
    assert_slice(r.msg, "m");
    assert_int_equal(r.level, LEVEL_WARNING);
    assert_slice(r.host, "h1");
    assert_slice(r.app, "web");
    assert_int_equal(r.ts, 1796292000LL * 1000000000);
    assert_int_equal(r.fields.n, 0);
    assert_true(res.has[JM_MSG] && res.has[JM_LEVEL] && res.has[JM_TS]);
}

static void test_ranks_and_losers_kept(void **state)
{
    (void)state;
    /* the lower-ranked value comes first and is kept in fields */
    map_doc("{\"log\":\"low\",\"level\":\"info\",\"message\":\"high\",\"log.level\":\"error\"}");
    assert_slice(r.msg, "high");
    assert_int_equal(r.level, LEVEL_ERROR);
    assert_slice(r.fields, "{\"log\":\"low\",\"level\":\"info\"}");
}

static void test_strip_drop_and_others(void **state)
{
    (void)state;
    map_doc("{\"version\":\"1.1\",\"_pid\":42,\"_user\":\"bob\",\"tags\":[1,\"a\"],"
            "\"n\":{\"a\":{\"b\":true}},\"x\":{\"_y\":1}}");
    assert_slice(r.pid, "42");
    /* version dropped; _user stripped at the top, _y below it not; arrays as JSON */
    assert_slice(r.fields, "{\"user\":\"bob\",\"tags\":[1,\"a\"],\"n.a.b\":true,\"x._y\":1}");
    assert_false(res.has[JM_MSG]);
}

static void test_bad_values_kept(void **state)
{
    (void)state;
    map_doc("{\"message\":\"m\",\"level\":\"bogus\",\"@timestamp\":\"yesterday\","
            "\"host.name\":7}");
    assert_int_equal(r.level, LEVEL_INFO); /* the default */
    assert_int_equal(r.ts, 5);             /* the receive time */
    assert_int_equal(b.unknown_levels, 1);
    assert_slice(r.fields, "{\"level_raw\":\"bogus\",\"@timestamp\":\"yesterday\","
                           "\"host.name\":7}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested_and_dotted_alike),
        cmocka_unit_test(test_ranks_and_losers_kept),
        cmocka_unit_test(test_strip_drop_and_others),
        cmocka_unit_test(test_bad_values_kept),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
