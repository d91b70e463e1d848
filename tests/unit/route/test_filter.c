/* test_filter.c - query and tail filters (src/route/filter.c), and the
 * hints filter.c gives for a query that matched nothing. The glob and
 * field matchers it uses are test_glob.c's and test_jfield.c's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "common/level.h"
#include "route/filter.h"

#define SEC   1000000000LL
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

/* ---- app, host, fields, qi ------------------------------------------------------ */

static void test_app_host(void **state)
{
    (void)state;
    filter_t f;
    filter_init(&f);
    assert_int_equal(set(&f, "app", "web"), 0);
    record_t r = rec(1, 0, 6, "t", "m");
    r.app = SLICE_LIT("web");
    assert_true(filter_match(&f, &r));
    r.app = SLICE_LIT("webapp");
    assert_false(filter_match(&f, &r));
    /* repeatable: any may match */
    assert_int_equal(set(&f, "app", "web*"), 0);
    assert_true(filter_match(&f, &r));
    r.app = SLICE_LIT("db");
    assert_false(filter_match(&f, &r));

    filter_init(&f);
    assert_int_equal(set(&f, "host", "web-*"), 0);
    assert_int_equal(set(&f, "host", "db-?"), 0);
    r = rec(1, 0, 6, "t", "m");
    r.host = SLICE_LIT("web-12");
    assert_true(filter_match(&f, &r));
    r.host = SLICE_LIT("db-1");
    assert_true(filter_match(&f, &r));
    r.host = SLICE_LIT("db-12");
    assert_false(filter_match(&f, &r));
    r.host = SLICE_NULL; /* no host: only an empty pattern or "*" takes it */
    assert_false(filter_match(&f, &r));
    assert_int_equal(set(&f, "host", "*"), 0);
    assert_true(filter_match(&f, &r));

    /* both: each must hold */
    filter_init(&f);
    assert_int_equal(set(&f, "app", "api"), 0);
    assert_int_equal(set(&f, "host", "eu-*"), 0);
    r = rec(1, 0, 6, "t", "m");
    r.app = SLICE_LIT("api");
    r.host = SLICE_LIT("eu-1");
    assert_true(filter_match(&f, &r));
    r.host = SLICE_LIT("us-1");
    assert_false(filter_match(&f, &r));

    /* limits */
    filter_init(&f);
    for (int i = 0; i < FILTER_MAX_GLOBS; i++)
        assert_int_equal(set(&f, "app", "a"), 0);
    assert_int_equal(set(&f, "app", "b"), -1);
    char big[GLOB_MAX_BYTES + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(set(&f, "host", big), -1);
    assert_int_equal(set(&f, "host", "\xC3"), -1);
    assert_int_equal(f.nhosts, 0);
}

/* not.topic, not.app, not.host, not.level: what a facet's alt-click does */
static void test_exclusions(void **state)
{
    (void)state;
    filter_t f;
    filter_init(&f);
    assert_int_equal(set(&f, "not.app", "web*"), 0);
    record_t r = rec(1, 0, 6, "web.info", "m");
    r.app = SLICE_LIT("webapp");
    assert_false(filter_match(&f, &r));
    r.app = SLICE_LIT("db");
    assert_true(filter_match(&f, &r));
    /* repeatable: none may match */
    assert_int_equal(set(&f, "not.app", "db"), 0);
    assert_false(filter_match(&f, &r));

    filter_init(&f);
    assert_int_equal(set(&f, "not.host", ""), 0); /* records without a host */
    r = rec(1, 0, 6, "web.info", "m");
    assert_false(filter_match(&f, &r));
    r.host = SLICE_LIT("h1");
    assert_true(filter_match(&f, &r));

    filter_init(&f);
    assert_int_equal(set(&f, "not.topic", "web.#"), 0);
    assert_int_equal(set(&f, "topic", "#"), 0);
    r = rec(1, 0, 6, "web.api.info", "m");
    assert_false(filter_match(&f, &r));
    r.topic = SLICE_LIT("db.info");
    assert_true(filter_match(&f, &r));
    assert_int_equal(set(&f, "not.topic", "web..x"), -1);

    /* not.field.NAME: a record holding a matching value fails; one without
     * the field passes */
    filter_init(&f);
    assert_int_equal(set(&f, "not.field.status", "5*"), 0);
    assert_int_equal(set(&f, "not.field.user.id", "7"), 0);
    r = rec(1, 0, 6, "t", "m");
    assert_true(filter_match(&f, &r));
    r.fields = SLICE_LIT("{\"status\":200}");
    assert_true(filter_match(&f, &r));
    r.fields = SLICE_LIT("{\"status\":503}");
    assert_false(filter_match(&f, &r));
    r.fields = SLICE_LIT("{\"status\":\"500\"}");
    assert_false(filter_match(&f, &r));
    r.fields = SLICE_LIT("{\"user\":{\"id\":7}}");
    assert_false(filter_match(&f, &r));
    assert_int_equal(set(&f, "not.field.", "x"), -1);

    /* levels: exact, comma-separated or repeated, aliases allowed */
    filter_init(&f);
    assert_int_equal(set(&f, "not.level", "info,debug"), 0);
    assert_int_equal(set(&f, "not.level", "warn"), 0);
    for (int lv = 0; lv < 8; lv++) {
        r = rec(1, 0, lv, "t", "m");
        assert_int_equal(filter_match(&f, &r), lv != 6 && lv != 7 && lv != 4);
    }
    assert_int_equal(set(&f, "not.level", "info,,debug"), -1);
    assert_int_equal(set(&f, "not.level", "loud"), -1);
    assert_int_equal(set(&f, "not.level", ""), -1);
    /* with level=: at least error and not crit */
    filter_init(&f);
    assert_int_equal(set(&f, "level", "error"), 0);
    assert_int_equal(set(&f, "not.level", "crit"), 0);
    int pass[8];
    for (int lv = 0; lv < 8; lv++) {
        r = rec(1, 0, lv, "t", "m");
        pass[lv] = filter_match(&f, &r);
    }
    assert_int_equal(pass[0] + pass[1] + pass[3], 3);
    assert_int_equal(pass[2] + pass[4] + pass[6], 0);

    /* the exclusions are part of the key and are owned like the rest */
    filter_t a, b;
    filter_init(&a);
    filter_init(&b);
    buf_t k1 = BUF_INIT, k2 = BUF_INIT, strings = BUF_INIT;
    char app[] = "web";
    set(&a, "app", "web");
    set(&b, "not.app", app);
    filter_key(&a, &k1);
    filter_key(&b, &k2);
    assert_true(k1.len != k2.len || memcmp(k1.data, k2.data, k1.len) != 0);
    const char *ex[][2] = {
        {"not.topic", "x"}, {"not.host", "x"}, {"not.level", "info"}, {"not.field.k", "v"}};
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        filter_t c = a;
        set(&c, ex[i][0], ex[i][1]);
        buf_reset(&k2);
        filter_key(&c, &k2);
        assert_true(k1.len != k2.len || memcmp(k1.data, k2.data, k1.len) != 0);
    }
    filter_own(&b, &strings);
    memset(app, '!', 3);
    r = rec(1, 0, 6, "t", "m");
    r.app = SLICE_LIT("web");
    assert_false(filter_match(&b, &r));
    assert_int_equal(strings.len, filter_strings_size(&b));
    buf_free(&k1);
    buf_free(&k2);
    buf_free(&strings);
}

static void test_fields(void **state)
{
    (void)state;
    filter_t f;
    filter_init(&f);
    assert_int_equal(set(&f, "field.status", "500"), 0);
    record_t r = rec(1, 0, 6, "t", "m");
    r.fields = SLICE_LIT("{\"status\":500,\"user.id\":42,\"path\":\"/api/v1\"}");
    assert_true(filter_match(&f, &r));
    r.fields = SLICE_LIT("{\"status\":\"500\"}"); /* a string of the same text */
    assert_true(filter_match(&f, &r));
    r.fields = SLICE_LIT("{\"status\":5000}");
    assert_false(filter_match(&f, &r));
    r.fields = SLICE_NULL;
    assert_false(filter_match(&f, &r));

    /* same name again: alternatives; another name: also required */
    assert_int_equal(set(&f, "field.status", "40?"), 0);
    assert_int_equal(set(&f, "field.path", "/api/*"), 0);
    r.fields = SLICE_LIT("{\"status\":404,\"path\":\"/api/x\"}");
    assert_true(filter_match(&f, &r));
    r.fields = SLICE_LIT("{\"status\":500,\"path\":\"/api/x\"}");
    assert_true(filter_match(&f, &r));
    r.fields = SLICE_LIT("{\"status\":302,\"path\":\"/api/x\"}");
    assert_false(filter_match(&f, &r));
    r.fields = SLICE_LIT("{\"status\":404,\"path\":\"/web\"}");
    assert_false(filter_match(&f, &r));
    r.fields = SLICE_LIT("{\"status\":404}");
    assert_false(filter_match(&f, &r));

    /* dotted names, nested or flat; bools; exists; escaped values */
    filter_init(&f);
    assert_int_equal(set(&f, "field.user.id", "42"), 0);
    assert_int_equal(set(&f, "field.ok", "true"), 0);
    assert_int_equal(set(&f, "field.err", "*"), 0);
    r.fields = SLICE_LIT("{\"user.id\":42,\"ok\":true,\"err\":\"\"}");
    assert_true(filter_match(&f, &r));
    r.fields = SLICE_LIT("{\"user\":{\"id\":42},\"ok\":true,\"err\":null}");
    assert_true(filter_match(&f, &r));
    r.fields = SLICE_LIT("{\"user\":{\"id\":42},\"ok\":true}");
    assert_false(filter_match(&f, &r));
    filter_init(&f);
    assert_int_equal(set(&f, "field.stack", "*NullPointer*line 3"), 0);
    r.fields = SLICE_LIT("{\"stack\":\"at x\\n\\tNullPointer\\\" in \\\"line 3\"}");
    assert_true(filter_match(&f, &r)); /* decoded: at x, NullPointer" in "line 3 */
    r.fields = SLICE_LIT("{\"stack\":\"at x\\n\\tNullPointer\\\" in \\\"line 3\\\"\"}");
    assert_false(filter_match(&f, &r)); /* ends with a quote */
    r.fields = SLICE_LIT("{\"stack\":\"at x\\n\\tNullPointer in\\nline 3\"}");
    assert_true(filter_match(&f, &r));
    filter_init(&f);
    assert_int_equal(set(&f, "field.tags", "*\"prod\"*"), 0); /* arrays by their text */
    r.fields = SLICE_LIT("{\"tags\":[\"eu\",\"prod\"]}");
    assert_true(filter_match(&f, &r));

    /* bad names and values */
    filter_init(&f);
    assert_int_equal(set(&f, "field.", "x"), -1);
    assert_int_equal(set(&f, "field.x", "\xFF"), -1);
    assert_int_equal(set(&f, "fields.x", "1"), 1);
    assert_int_equal(set(&f, "field", "1"), 1);
    for (int i = 0; i < FILTER_MAX_FIELDS; i++)
        assert_int_equal(set(&f, "field.a", "1"), 0);
    assert_int_equal(set(&f, "field.b", "1"), -1);
}

static void test_qi(void **state)
{
    (void)state;
    filter_t f;
    filter_init(&f);
    assert_int_equal(set(&f, "qi", "TimeOut"), 0);
    record_t r = rec(1, 0, 6, "t", "connection timeout after 5s");
    assert_true(filter_match(&f, &r));
    r.msg = SLICE_LIT("CONNECTION TIMEOUT");
    assert_true(filter_match(&f, &r));
    r.msg = SLICE_LIT("Timeout");
    assert_true(filter_match(&f, &r));
    r.msg = SLICE_LIT("timeou");
    assert_false(filter_match(&f, &r));
    r.msg = SLICE_LIT("time out");
    assert_false(filter_match(&f, &r));
    r.msg = SLICE_LIT("");
    assert_false(filter_match(&f, &r));
    /* only ASCII letters fold */
    assert_int_equal(set(&f, "qi", "caf\xC3\xA9"), 0);
    r.msg = SLICE_LIT("le CAF\xC3\xA9 noir");
    assert_true(filter_match(&f, &r));
    r.msg = SLICE_LIT("le CAF\xC3\x89 noir");
    assert_false(filter_match(&f, &r));
    /* '@' and '[' sit next to the letters; they do not fold */
    assert_int_equal(set(&f, "qi", "a@["), 0);
    r.msg = SLICE_LIT("xA@[y");
    assert_true(filter_match(&f, &r));
    r.msg = SLICE_LIT("xA`{y");
    assert_false(filter_match(&f, &r));
    /* empty passes everything; q and qi together must both hold */
    assert_int_equal(set(&f, "qi", ""), 0);
    r.msg = SLICE_LIT("");
    assert_true(filter_match(&f, &r));
    assert_int_equal(set(&f, "qi", "ERROR"), 0);
    assert_int_equal(set(&f, "q", "disk"), 0);
    r.msg = SLICE_LIT("disk error");
    assert_true(filter_match(&f, &r));
    r.msg = SLICE_LIT("Disk error");
    assert_false(filter_match(&f, &r));

    /* against a plain search, over many needles and haystacks */
    const char *hay = "The quick brown FOX jumps over the lazy dog; the Fox again, fOx!";
    const char *needles[] = {
        "fox",  "FOX J",
        "x",    "the",
        "DOG;", "g, fox!",
        "aa",   "lazy dogs",
        "t",    "HE QUICK BROWN FOX JUMPS OVER THE LAZY DOG; THE FOX AGAIN, FOX!"};
    for (size_t i = 0; i < sizeof needles / sizeof needles[0]; i++) {
        assert_int_equal(set(&f, "q", ""), 0);
        assert_int_equal(set(&f, "qi", needles[i]), 0);
        for (size_t start = 0; start < strlen(hay); start += 7) {
            r.msg = slice_cstr(hay + start);
            int want = 0;
            size_t nn = strlen(needles[i]);
            for (size_t k = 0; k + nn <= r.msg.n && !want; k++)
                want = strncasecmp(r.msg.p + k, needles[i], nn) == 0;
            assert_int_equal(filter_match(&f, &r), want);
        }
    }
}

static void test_own_and_key(void **state)
{
    (void)state;
    char texts[][16] = {"web.#", "api*", "eu-?", "field.user.id", "4?", "Err", "disk"};
    filter_t f;
    filter_init(&f);
    assert_int_equal(set(&f, "topic", texts[0]), 0);
    assert_int_equal(set(&f, "app", texts[1]), 0);
    assert_int_equal(set(&f, "host", texts[2]), 0);
    assert_int_equal(set(&f, texts[3], texts[4]), 0);
    assert_int_equal(set(&f, "qi", texts[5]), 0);
    assert_int_equal(set(&f, "q", texts[6]), 0);
    buf_t strings = BUF_INIT, k1 = BUF_INIT, k2 = BUF_INIT;
    filter_key(&f, &k1);
    filter_t g = f;
    filter_own(&g, &strings);
    memset(texts, '!', sizeof texts); /* the originals are gone */
    record_t r = rec(1, 0, 6, "web.api", "disk error");
    r.app = SLICE_LIT("api-gw");
    r.host = SLICE_LIT("eu-1");
    r.fields = SLICE_LIT("{\"user\":{\"id\":42}}");
    assert_true(filter_match(&g, &r));
    filter_key(&g, &k2);
    assert_int_equal(k1.len, k2.len);
    assert_memory_equal(k1.data, k2.data, k1.len);
    assert_int_equal(strings.len, filter_strings_size(&g));

    /* topic order does not matter; anything else that differs does */
    filter_t a, b;
    filter_init(&a);
    filter_init(&b);
    set(&a, "topic", "x");
    set(&a, "topic", "y");
    set(&b, "topic", "y");
    set(&b, "topic", "x");
    buf_reset(&k1);
    buf_reset(&k2);
    filter_key(&a, &k1);
    filter_key(&b, &k2);
    assert_int_equal(k1.len, k2.len);
    assert_memory_equal(k1.data, k2.data, k1.len);
    const char *keys[][2] = {{"app", "x"}, {"host", "x"}, {"field.x", "y"},
                             {"qi", "x"},  {"q", "x"},    {"level", "error"}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        b = a;
        set(&b, keys[i][0], keys[i][1]);
        buf_reset(&k2);
        filter_key(&b, &k2);
        assert_true(k1.len != k2.len || memcmp(k1.data, k2.data, k1.len) != 0);
    }
    /* no separator inside a value can fake another filter */
    filter_init(&a);
    filter_init(&b);
    set(&a, "q", "x");
    set(&a, "qi", "");
    set(&b, "q", "");
    set(&b, "qi", "x");
    buf_reset(&k1);
    buf_reset(&k2);
    filter_key(&a, &k1);
    filter_key(&b, &k2);
    assert_true(k1.len != k2.len || memcmp(k1.data, k2.data, k1.len) != 0);
    buf_free(&strings);
    buf_free(&k1);
    buf_free(&k2);
}

static void test_hint(void **state)
{
    (void)state;
    filter_t f;
    filter_hint_t h;
    filter_init(&f);
    set(&f, "topic", "web");
    set(&f, "topic", "db.*");
    set(&f, "topic", "kern");
    set(&f, "level", "error");
    assert_int_equal(filter_hint_init(&h, &f), 2); /* web and kern */
    record_t r = rec(1, 0, LEVEL_INFO, "web.api", "m");
    assert_false(filter_hint_feed(&h, &r)); /* not severe enough: no hint from it */
    buf_t t = BUF_INIT;
    assert_int_equal(filter_hint_text(&h, &f, &t), 0);
    r.level = LEVEL_ERROR;
    assert_false(filter_hint_feed(&h, &r));
    assert_int_equal(filter_hint_text(&h, &f, &t), 1);
    assert_string_equal(buf_cstr(&t), "topic 'web' has no wildcard: did you mean 'web.#'?");
    r.topic = SLICE_LIT("kern.crit");
    assert_true(filter_hint_feed(&h, &r)); /* both found: feed no more */
    buf_reset(&t);
    assert_int_equal(filter_hint_text(&h, &f, &t), 2);
    assert_string_equal(buf_cstr(&t), "topic 'web' has no wildcard: did you mean 'web.#'?; "
                                      "topic 'kern' has no wildcard: did you mean 'kern.#'?");

    /* only wildcard patterns: nothing to suggest */
    filter_init(&f);
    set(&f, "topic", "web.#");
    set(&f, "topic", "*");
    assert_int_equal(filter_hint_init(&h, &f), 0);
    r.topic = SLICE_LIT("web.x");
    assert_true(filter_hint_feed(&h, &r)); /* nothing to look for: feed no more */

    /* a topic that is not printable ASCII is escaped */
    filter_init(&f);
    set(&f, "topic", "w\x01\\\xC3\xA9");
    assert_int_equal(filter_hint_init(&h, &f), 1);
    r.topic = SLICE_LIT("w\x01\\\xC3\xA9.x");
    filter_hint_feed(&h, &r);
    buf_reset(&t);
    assert_int_equal(filter_hint_text(&h, &f, &t), 1);
    assert_string_equal(buf_cstr(&t), "topic 'w\\x01\\\\\\xc3\\xa9' has no wildcard: did you "
                                      "mean 'w\\x01\\\\\\xc3\\xa9.#'?");
    buf_free(&t);
}

static topic_set_t set_of(const char *a, const char *b)
{
    topic_set_t s;
    const char *why = NULL;
    memset(&s, 0, sizeof s);
    if (a)
        assert_int_equal(topic_set_add(&s, a, strlen(a), &why), 0);
    if (b)
        assert_int_equal(topic_set_add(&s, b, strlen(b), &why), 0);
    return s;
}

/* A token's topics (filter_limit): a record must be in them whatever the
 * request asked; the limit is in the key, owned with the filter, and kept
 * by the hint's candidates. */
static void test_limit(void **state)
{
    (void)state;
    filter_t f, g;
    record_t web = rec(1, 0, 6, "web.api", "m"), db = rec(2, 0, 6, "db.x", "m");
    filter_init(&f);
    set(&f, "topic", "#");
    topic_set_t lim = set_of("web.#", "auth.*");
    filter_limit(&f, &lim);
    assert_true(filter_match(&f, &web));
    assert_false(filter_match(&f, &db));
    record_t auth = rec(3, 0, 6, "auth.login", "m");
    assert_true(filter_match(&f, &auth));
    /* the request's own topics still apply inside the limit */
    filter_init(&g);
    set(&g, "topic", "db.#");
    filter_limit(&g, &lim);
    assert_false(filter_match(&g, &db));
    assert_false(filter_match(&g, &web));
    /* an empty limit lets nothing through */
    topic_set_t none;
    memset(&none, 0, sizeof none);
    filter_init(&g);
    filter_limit(&g, &none);
    assert_false(filter_match(&g, &web));

    /* keys: limited or not, and by which patterns (in any order) */
    buf_t k0 = BUF_INIT, k1 = BUF_INIT, k2 = BUF_INIT, k3 = BUF_INIT;
    filter_t a, b, c, d;
    filter_init(&a);
    filter_init(&b);
    filter_init(&c);
    filter_init(&d);
    topic_set_t l1 = set_of("web.#", "auth.*"), l2 = set_of("auth.*", "web.#"),
                l3 = set_of("web.#", NULL);
    filter_limit(&b, &l1);
    filter_limit(&c, &l2);
    filter_limit(&d, &l3);
    filter_key(&a, &k0);
    filter_key(&b, &k1);
    filter_key(&c, &k2);
    filter_key(&d, &k3);
    assert_int_equal(k1.len, k2.len);
    assert_memory_equal(k1.data, k2.data, k1.len);
    assert_true(k0.len != k1.len || memcmp(k0.data, k1.data, k0.len) != 0);
    assert_true(k3.len != k1.len || memcmp(k3.data, k1.data, k3.len) != 0);
    buf_reset(&k2);
    filter_t e;
    filter_init(&e);
    filter_limit(&e, &none);
    filter_key(&e, &k2); /* empty limit: not the same as none */
    assert_true(k0.len != k2.len || memcmp(k0.data, k2.data, k0.len) != 0);

    /* owned: the limit's texts are copied with the rest */
    char text[] = "web.#";
    topic_set_t l4 = set_of(text, NULL);
    l4.texts[0] = slice_make(text, 5);
    filter_init(&g);
    filter_limit(&g, &l4);
    buf_t strings = BUF_INIT;
    assert_int_equal(filter_strings_size(&g), 5);
    filter_own(&g, &strings);
    memset(text, '!', 5);
    assert_true(filter_match(&g, &web));
    assert_false(filter_match(&g, &db));

    /* hints stay inside the limit */
    filter_hint_t h;
    filter_init(&f);
    set(&f, "topic", "db");
    set(&f, "topic", "web");
    filter_limit(&f, &l3);
    assert_int_equal(filter_hint_init(&h, &f), 2);
    filter_hint_feed(&h, &db);
    buf_t t = BUF_INIT;
    assert_int_equal(filter_hint_text(&h, &f, &t), 0); /* db.x is outside web.# */
    filter_hint_feed(&h, &web);
    assert_int_equal(filter_hint_text(&h, &f, &t), 1);
    assert_string_equal(buf_cstr(&t), "topic 'web' has no wildcard: did you mean 'web.#'?");
    buf_free(&t);
    buf_free(&strings);
    buf_free(&k0);
    buf_free(&k1);
    buf_free(&k2);
    buf_free(&k3);
}

static void test_topic_set(void **state)
{
    (void)state;
    topic_set_t s;
    const char *why = NULL;
    memset(&s, 0, sizeof s);
    assert_false(topic_set_match(&s, "a", 1)); /* empty: nothing */
    assert_false(topic_set_all(&s));
    assert_int_equal(topic_set_add(&s, "a.*", 3, &why), 0);
    assert_true(topic_set_match(&s, "a.b", 3));
    assert_false(topic_set_match(&s, "a", 1));
    assert_false(topic_set_all(&s));
    assert_int_equal(topic_set_add(&s, "a*", 2, &why), -1); /* bad pattern */
    assert_non_null(why);
    assert_int_equal(topic_set_add(&s, "#.#", 3, &why), 0);
    assert_true(topic_set_all(&s));
    for (size_t i = s.n; i < TOPIC_SET_MAX; i++)
        assert_int_equal(topic_set_add(&s, "x", 1, &why), 0);
    why = NULL;
    assert_int_equal(topic_set_add(&s, "x", 1, &why), -1); /* full */
    assert_non_null(why);
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
        cmocka_unit_test(test_app_host),
        cmocka_unit_test(test_exclusions),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_qi),
        cmocka_unit_test(test_own_and_key),
        cmocka_unit_test(test_hint),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_topic_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
