/* test_filter.c - query and tail filters (src/route/filter.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/level.h"
#include "route/filter.h"

#define SEC 1000000000LL
#define T2024 (1732186000LL * SEC)

static int set(filter_t *f, const char *k, const char *v)
{
    const char *err = NULL;
    int rc = filter_set(f, slice_cstr(k), slice_cstr(v), &err);
    if (rc < 0) {
        assert_non_null(err);
        assert_true(strlen(err) > 0);
    } else {
        assert_null(err);
    }
    return rc;
}

static record_t rec(uint64_t seq, int64_t ts, int level, const char *topic, const char *msg)
{
    record_t r;
    memset(&r, 0, sizeof r);
    r.seq = seq;
    r.ts = ts;
    r.level = level;
    r.topic = slice_cstr(topic);
    r.app = SLICE_LIT("app");
    r.msg = slice_cstr(msg);
    return r;
}

static void test_init_passes_everything(void **state)
{
    (void)state;
    filter_t f;
    filter_init(&f);
    assert_int_equal(f.ntopics, 0);
    assert_int_equal(f.min_level, 7);
    assert_int_equal(f.since, INT64_MIN);
    assert_int_equal(f.until, INT64_MAX);
    assert_int_equal(f.after, 0);
    for (int lv = 0; lv <= 7; lv++) {
        record_t r = rec(1, 0, lv, "a.b", "m");
        assert_true(filter_match(&f, &r));
    }
    record_t r = rec(UINT64_MAX, INT64_MIN, 0, "", "");
    assert_true(filter_match(&f, &r));
    r.ts = INT64_MAX;
    assert_true(filter_match(&f, &r));
}

static void test_topics(void **state)
{
    (void)state;
    filter_t f;
    filter_init(&f);
    assert_int_equal(set(&f, "topic", "web.*"), 0);
    record_t r = rec(1, 0, 6, "web.error", "m");
    assert_true(filter_match(&f, &r));
    r.topic = SLICE_LIT("db.error");
    assert_false(filter_match(&f, &r));
    r.topic = SLICE_LIT("web");
    assert_false(filter_match(&f, &r));

    /* repeatable: any pattern may match */
    assert_int_equal(set(&f, "topic", "db.#"), 0);
    assert_int_equal(f.ntopics, 2);
    r.topic = SLICE_LIT("db.error");
    assert_true(filter_match(&f, &r));
    r.topic = SLICE_LIT("web.info");
    assert_true(filter_match(&f, &r));
    r.topic = SLICE_LIT("kern.crit");
    assert_false(filter_match(&f, &r));

    /* bad patterns are refused and not added */
    assert_int_equal(set(&f, "topic", ""), -1);
    assert_int_equal(set(&f, "topic", "a..b"), -1);
    assert_int_equal(set(&f, "topic", "web*.x"), -1);
    assert_int_equal(f.ntopics, 2);

    /* at most FILTER_MAX_TOPICS */
    filter_init(&f);
    for (int i = 0; i < FILTER_MAX_TOPICS; i++)
        assert_int_equal(set(&f, "topic", "x"), 0);
    assert_int_equal(set(&f, "topic", "y"), -1);
    assert_int_equal(f.ntopics, FILTER_MAX_TOPICS);
}

static void test_level(void **state)
{
    (void)state;
    filter_t f;
    filter_init(&f);
    assert_int_equal(set(&f, "level", "warning"), 0);
    assert_int_equal(f.min_level, LEVEL_WARNING);
    for (int lv = 0; lv <= 7; lv++) {
        record_t r = rec(1, 0, lv, "t", "m");
        assert_int_equal(filter_match(&f, &r), lv <= LEVEL_WARNING);
    }
    /* aliases and numbers as level_parse takes them */
    assert_int_equal(set(&f, "level", "ERR"), 0);
    assert_int_equal(f.min_level, LEVEL_ERROR);
    assert_int_equal(set(&f, "level", "0"), 0);
    assert_int_equal(f.min_level, LEVEL_EMERG);
    record_t r = rec(1, 0, 1, "t", "m");
    assert_false(filter_match(&f, &r));
    r.level = 0;
    assert_true(filter_match(&f, &r));
    assert_int_equal(set(&f, "level", "40"), 0);
    assert_int_equal(f.min_level, LEVEL_ERROR);

    /* a bad level leaves the filter as it was */
    assert_int_equal(set(&f, "level", "loud"), -1);
    assert_int_equal(set(&f, "level", ""), -1);
    assert_int_equal(set(&f, "level", "-3"), -1);
    assert_int_equal(f.min_level, LEVEL_ERROR);
}

static void test_q(void **state)
{
    (void)state;
    filter_t f;
    filter_init(&f);
    assert_int_equal(set(&f, "q", "timeout"), 0);
    record_t r = rec(1, 0, 6, "t", "connection timeout after 5s");
    assert_true(filter_match(&f, &r));
    r.msg = SLICE_LIT("timeout");
    assert_true(filter_match(&f, &r));
    r.msg = SLICE_LIT("Timeout"); /* case matters */
    assert_false(filter_match(&f, &r));
    r.msg = SLICE_LIT("timeou");
    assert_false(filter_match(&f, &r));
    r.msg = SLICE_LIT("");
    assert_false(filter_match(&f, &r));
    /* an empty q passes everything */
    assert_int_equal(set(&f, "q", ""), 0);
    assert_true(filter_match(&f, &r));
    /* UTF-8 substrings */
    assert_int_equal(set(&f, "q", "caf\xC3\xA9"), 0);
    r.msg = SLICE_LIT("le caf\xC3\xA9 noir");
    assert_true(filter_match(&f, &r));
}

static void test_time_bounds(void **state)
{
    (void)state;
    filter_t f;
    filter_init(&f);
    assert_int_equal(set(&f, "since", "2024-11-21T10:46:40Z"), 0);
    assert_int_equal(f.since, T2024);
    assert_int_equal(set(&f, "until", "1732186060"), 0); /* epoch seconds */
    assert_int_equal(f.until, T2024 + 60 * SEC);
    record_t r = rec(1, T2024, 6, "t", "m");
    assert_true(filter_match(&f, &r)); /* bounds are inclusive */
    r.ts = T2024 - 1;
    assert_false(filter_match(&f, &r));
    r.ts = T2024 + 60 * SEC;
    assert_true(filter_match(&f, &r));
    r.ts = T2024 + 60 * SEC + 1;
    assert_false(filter_match(&f, &r));
    r.ts = T2024 + 30 * SEC;
    assert_true(filter_match(&f, &r));

    /* epoch ns and an offset form */
    assert_int_equal(set(&f, "since", "1732186000000000001"), 0);
    assert_int_equal(f.since, T2024 + 1);
    assert_int_equal(set(&f, "until", "2024-11-21T11:47:40+01:00"), 0);
    assert_int_equal(f.until, T2024 + 60 * SEC);

    /* bad times are refused and change nothing */
    assert_int_equal(set(&f, "since", "yesterday"), -1);
    assert_int_equal(set(&f, "since", ""), -1);
    assert_int_equal(set(&f, "until", "2024-11-21"), -1);
    assert_int_equal(set(&f, "until", "-5"), -1);
    assert_int_equal(f.since, T2024 + 1);
    assert_int_equal(f.until, T2024 + 60 * SEC);

    /* since after until matches nothing */
    assert_int_equal(set(&f, "since", "1732186061"), 0);
    r.ts = T2024 + 60 * SEC;
    assert_false(filter_match(&f, &r));
}

static void test_after(void **state)
{
    (void)state;
    filter_t f;
    filter_init(&f);
    assert_int_equal(set(&f, "after", "100"), 0);
    assert_int_equal(f.after, 100);
    record_t r = rec(100, 0, 6, "t", "m");
    assert_false(filter_match(&f, &r));
    r.seq = 99;
    assert_false(filter_match(&f, &r));
    r.seq = 101;
    assert_true(filter_match(&f, &r));
    assert_int_equal(set(&f, "after", "18446744073709551615"), -1); /* 20 digits */
    assert_int_equal(set(&f, "after", "9999999999999999999"), 0);
    assert_int_equal(f.after, 9999999999999999999ULL);
    r.seq = 9999999999999999999ULL;
    assert_false(filter_match(&f, &r));
    r.seq = UINT64_MAX;
    assert_true(filter_match(&f, &r));

    /* before is an internal bound (query paging): seq < before */
    filter_init(&f);
    assert_int_equal(f.before, 0);
    f.before = 50;
    r.seq = 49;
    assert_true(filter_match(&f, &r));
    r.seq = 50;
    assert_false(filter_match(&f, &r));
    assert_int_equal(set(&f, "after", "47"), 0);
    r.seq = 47;
    assert_false(filter_match(&f, &r));
    r.seq = 48;
    assert_true(filter_match(&f, &r));
    f.before = 0; /* no bound */
    r.seq = UINT64_MAX;
    assert_true(filter_match(&f, &r));

    filter_init(&f);
    assert_int_equal(set(&f, "after", ""), -1);
    assert_int_equal(set(&f, "after", "12a"), -1);
    assert_int_equal(set(&f, "after", "-1"), -1);
    assert_int_equal(set(&f, "after", " 1"), -1);
    assert_int_equal(f.after, 0);
}

static void test_before(void **state)
{
    (void)state;
    filter_t f;
    filter_init(&f);
    assert_int_equal(set(&f, "before", "100"), 0);
    assert_int_equal(f.before, 100);
    record_t r = rec(99, 0, 6, "t", "m");
    assert_true(filter_match(&f, &r));
    r.seq = 100;
    assert_false(filter_match(&f, &r));
    assert_int_equal(set(&f, "before", "1"), 0);
    r.seq = 1;
    assert_false(filter_match(&f, &r)); /* nothing is below seq 1 */
    assert_int_equal(set(&f, "before", "9999999999999999999"), 0);
    assert_int_equal(f.before, 9999999999999999999ULL);
    assert_int_equal(set(&f, "after", "5"), 0);
    assert_int_equal(set(&f, "before", "8"), 0);
    r.seq = 5;
    assert_false(filter_match(&f, &r));
    r.seq = 7;
    assert_true(filter_match(&f, &r));
    r.seq = 8;
    assert_false(filter_match(&f, &r));

    /* 0 would read as "no bound": refused; a bad value leaves it as it was */
    assert_int_equal(set(&f, "before", "0"), -1);
    assert_int_equal(set(&f, "before", ""), -1);
    assert_int_equal(set(&f, "before", "x1"), -1);
    assert_int_equal(set(&f, "before", "18446744073709551615"), -1);
    assert_int_equal(f.before, 8);
}

static void test_unknown_key(void **state)
{
    (void)state;
    filter_t f;
    filter_init(&f);
    assert_int_equal(set(&f, "limit", "10"), 1);
    assert_int_equal(set(&f, "Topic", "a"), 1);
    assert_int_equal(set(&f, "topics", "a"), 1);
    assert_int_equal(set(&f, "", "a"), 1);
    assert_int_equal(set(&f, "sinc", "1"), 1);
    assert_int_equal(f.ntopics, 0);
}

static void test_combined(void **state)
{
    (void)state;
    filter_t f;
    filter_init(&f);
    assert_int_equal(set(&f, "topic", "web.#"), 0);
    assert_int_equal(set(&f, "topic", "auth.*"), 0);
    assert_int_equal(set(&f, "level", "error"), 0);
    assert_int_equal(set(&f, "q", "denied"), 0);
    assert_int_equal(set(&f, "since", "1732186000"), 0);
    assert_int_equal(set(&f, "after", "5"), 0);

    record_t good = rec(6, T2024, LEVEL_ERROR, "auth.login", "access denied for bob");
    assert_true(filter_match(&f, &good));
    record_t r = good;
    r.topic = SLICE_LIT("web.api.v1");
    assert_true(filter_match(&f, &r));
    r.level = LEVEL_CRIT;
    assert_true(filter_match(&f, &r));

    /* each condition alone can fail the record */
    r = good;
    r.topic = SLICE_LIT("db.error");
    assert_false(filter_match(&f, &r));
    r = good;
    r.level = LEVEL_WARNING;
    assert_false(filter_match(&f, &r));
    r = good;
    r.msg = SLICE_LIT("access granted");
    assert_false(filter_match(&f, &r));
    r = good;
    r.ts = T2024 - 1;
    assert_false(filter_match(&f, &r));
    r = good;
    r.seq = 5;
    assert_false(filter_match(&f, &r));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_passes_everything),
        cmocka_unit_test(test_topics),
        cmocka_unit_test(test_level),
        cmocka_unit_test(test_q),
        cmocka_unit_test(test_time_bounds),
        cmocka_unit_test(test_after),
        cmocka_unit_test(test_before),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_combined),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
