/* test_timeutil.c - RFC 3339 and epoch times (src/common/timeutil.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/timeutil.h"

/* `date -u -d @1732186000` is Thu Nov 21 10:46:40 UTC 2024 */
#define T2024 1732186000LL

static void fmt_is(int64_t ns, const char *want)
{
    char out[RFC3339_MAX];
    memset(out, 'x', sizeof out);
    size_t n = time_format_rfc3339(ns, out);
    assert_int_equal(n, 30);
    assert_int_equal(strlen(out), 30);
    assert_string_equal(out, want);
}

static void test_format(void **state)
{
    (void)state;
    fmt_is(0, "1970-01-01T00:00:00.000000000Z");
    fmt_is(1, "1970-01-01T00:00:00.000000001Z");
    fmt_is(T2024 * NS_PER_SEC + 123456789, "2024-11-21T10:46:40.123456789Z");
    fmt_is(951782400LL * NS_PER_SEC, "2000-02-29T00:00:00.000000000Z");
    fmt_is(951868799LL * NS_PER_SEC + 999999999, "2000-02-29T23:59:59.999999999Z");
    fmt_is(1709164800LL * NS_PER_SEC, "2024-02-29T00:00:00.000000000Z");
    fmt_is(4102444800LL * NS_PER_SEC, "2100-01-01T00:00:00.000000000Z");
}

static void test_format_negative(void **state)
{
    (void)state;
    fmt_is(-1, "1969-12-31T23:59:59.999999999Z");
    fmt_is(-NS_PER_SEC, "1969-12-31T23:59:59.000000000Z");
    fmt_is(-NS_PER_SEC / 2, "1969-12-31T23:59:59.500000000Z");
    fmt_is(-86400LL * NS_PER_SEC, "1969-12-31T00:00:00.000000000Z");
    /* Apollo 11 landing */
    fmt_is(-14182940LL * NS_PER_SEC, "1969-07-20T20:17:40.000000000Z");
    /* the ends of the int64 ns range */
    fmt_is(INT64_MAX, "2262-04-11T23:47:16.854775807Z");
    fmt_is(INT64_MIN, "1677-09-21T00:12:43.145224192Z");
}

static int prs(const char *s, int64_t *ns)
{
    return time_parse_rfc3339(s, strlen(s), ns);
}

static void parse_is(const char *s, int64_t want)
{
    int64_t ns = 42;
    assert_int_equal(prs(s, &ns), 0);
    assert_int_equal(ns, want);
}

static void parse_bad(const char *s)
{
    int64_t ns = 42;
    assert_int_equal(prs(s, &ns), -1);
    assert_int_equal(ns, 42); /* untouched on failure */
}

static void test_parse_forms(void **state)
{
    (void)state;
    const int64_t t = T2024 * NS_PER_SEC;
    parse_is("2024-11-21T10:46:40Z", t);
    parse_is("2024-11-21 10:46:40Z", t);
    parse_is("2024-11-21t10:46:40z", t);
    parse_is("2024-11-21T10:46:40+00:00", t);
    parse_is("2024-11-21T10:46:40-00:00", t);
    parse_is("2024-11-21T11:46:40+01:00", t);
    parse_is("2024-11-21T05:16:40-05:30", t);
    parse_is("2024-11-22T00:16:40+13:30", t);
    parse_is("2024-11-20T22:46:40-12:00", t);
    parse_is("1970-01-01T00:00:00Z", 0);
    parse_is("1970-01-01T01:00:00+01:00", 0);
    parse_is("1969-12-31T23:59:59.5Z", -NS_PER_SEC / 2);
    parse_is("1969-07-20T20:17:40Z", -14182940LL * NS_PER_SEC);
    /* a leap second holds the last second of the minute */
    parse_is("2016-12-31T23:59:60Z", 1483228799LL * NS_PER_SEC);
}

static void test_parse_fraction(void **state)
{
    (void)state;
    const int64_t t = T2024 * NS_PER_SEC;
    parse_is("2024-11-21T10:46:40.1Z", t + 100000000);
    parse_is("2024-11-21T10:46:40.12Z", t + 120000000);
    parse_is("2024-11-21T10:46:40.123Z", t + 123000000);
    parse_is("2024-11-21T10:46:40.1234Z", t + 123400000);
    parse_is("2024-11-21T10:46:40.12345Z", t + 123450000);
    parse_is("2024-11-21T10:46:40.123456Z", t + 123456000);
    parse_is("2024-11-21T10:46:40.1234567Z", t + 123456700);
    parse_is("2024-11-21T10:46:40.12345678Z", t + 123456780);
    parse_is("2024-11-21T10:46:40.123456789Z", t + 123456789);
    parse_is("2024-11-21T10:46:40.000000001Z", t + 1);
    parse_is("2024-11-21T10:46:40.0Z", t);
    /* digits past nanoseconds are accepted and dropped */
    parse_is("2024-11-21T10:46:40.1234567899999Z", t + 123456789);
    parse_is("2024-11-21T11:46:40.5+01:00", t + 500000000);
    parse_is("2024-11-21 10:46:40.999999999z", t + 999999999);
}

static void test_parse_calendar(void **state)
{
    (void)state;
    parse_is("2024-02-29T00:00:00Z", 1709164800LL * NS_PER_SEC);
    parse_is("2000-02-29T00:00:00Z", 951782400LL * NS_PER_SEC);
    parse_bad("2023-02-29T00:00:00Z");
    parse_bad("1900-02-29T00:00:00Z");
    parse_bad("2100-02-29T00:00:00Z");
    parse_bad("2024-02-30T00:00:00Z");
    parse_bad("2024-04-31T00:00:00Z");
    parse_bad("2024-06-31T00:00:00Z");
    parse_bad("2024-09-31T00:00:00Z");
    parse_bad("2024-11-31T00:00:00Z");
    parse_is("2024-12-31T23:59:59Z", 1735689599LL * NS_PER_SEC);
    parse_bad("2024-12-32T00:00:00Z");
    parse_bad("2024-13-01T00:00:00Z");
    parse_bad("2024-00-01T00:00:00Z");
    parse_bad("2024-01-00T00:00:00Z");
    parse_bad("2024-01-01T24:00:00Z");
    parse_bad("2024-01-01T00:60:00Z");
    parse_bad("2024-01-01T00:00:61Z");
}

static void test_parse_bad(void **state)
{
    (void)state;
    parse_bad("");
    parse_bad("2024");
    parse_bad("2024-11-21");
    parse_bad("2024-11-21T10:46:40"); /* no zone */
    parse_bad("2024-11-21T10:46Z");
    parse_bad("2024-11-21X10:46:40Z");
    parse_bad("2024/11/21T10:46:40Z");
    parse_bad("2024-11-21T10-46-40Z");
    parse_bad("24-11-21T10:46:40Z");
    parse_bad("2024-1-21T10:46:40Z");
    parse_bad("2024-11-21T1:46:40Z");
    parse_bad("2O24-11-21T10:46:40Z");
    parse_bad("2024-11-21T10:46:40.Z"); /* a dot needs digits */
    parse_bad("2024-11-21T10:46:40,5Z");
    parse_bad("2024-11-21T10:46:40+01");
    parse_bad("2024-11-21T10:46:40+0100");
    parse_bad("2024-11-21T10:46:40+01:0");
    parse_bad("2024-11-21T10:46:40+24:00");
    parse_bad("2024-11-21T10:46:40+01:60");
    parse_bad("2024-11-21T10:46:40ZZ");
    parse_bad("2024-11-21T10:46:40Z ");
    parse_bad(" 2024-11-21T10:46:40Z");
    parse_bad("2024-11-21T10:46:40+01:00x");
    parse_bad("-024-11-21T10:46:40Z");
    /* only the n bytes given are read */
    int64_t ns = 42;
    assert_int_equal(time_parse_rfc3339("2024-11-21T10:46:40Z", 19, &ns), -1);
    assert_int_equal(time_parse_rfc3339("2024-11-21T10:46:40Zjunk", 20, &ns), 0);
    assert_int_equal(ns, T2024 * NS_PER_SEC);
}

static void test_parse_out_of_range(void **state)
{
    (void)state;
    /* the ends of what int64 nanoseconds can hold */
    parse_is("2262-04-11T23:47:16.854775807Z", INT64_MAX);
    parse_is("1677-09-21T00:12:43.145224192Z", INT64_MIN);
    /* well-formed times outside it are refused, not wrapped */
    parse_bad("2262-04-11T23:47:16.854775808Z");
    parse_bad("1677-09-21T00:12:43.145224191Z");
    parse_bad("9999-12-31T23:59:59Z");
    parse_bad("0001-01-01T00:00:00Z");
    parse_bad("0000-01-01T00:00:00Z");
    parse_bad("1000-01-01T00:00:00+01:00");
}

static void test_round_trip(void **state)
{
    (void)state;
    static const int64_t fixed[] = {0,
                                    1,
                                    -1,
                                    999999999,
                                    NS_PER_SEC,
                                    T2024 * NS_PER_SEC + 123456789,
                                    951868799LL * NS_PER_SEC + 999999999,
                                    -14182940LL * NS_PER_SEC + 7,
                                    INT64_MAX,
                                    INT64_MIN};
    char out[RFC3339_MAX];
    int64_t back;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        size_t n = time_format_rfc3339(fixed[i], out);
        assert_int_equal(time_parse_rfc3339(out, n, &back), 0);
        assert_int_equal(back, fixed[i]);
    }
    /* deterministic spread over the whole int64 range */
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t ns = (int64_t)x;
        if (i % 2)
            ns /= 1000; /* also times near the epoch */
        size_t n = time_format_rfc3339(ns, out);
        assert_int_equal(n, 30);
        assert_int_equal(time_parse_rfc3339(out, n, &back), 0);
        assert_int_equal(back, ns);
        assert_int_equal(time_parse_any(out, n, &back), 0);
        assert_int_equal(back, ns);
    }
}

static int ep(const char *s, int64_t *ns)
{
    return time_parse_epoch(s, strlen(s), ns);
}

static void epoch_is(const char *s, int64_t want)
{
    int64_t ns = 42;
    assert_int_equal(ep(s, &ns), 0);
    assert_int_equal(ns, want);
    ns = 42;
    assert_int_equal(time_parse_any(s, strlen(s), &ns), 0);
    assert_int_equal(ns, want);
}

static void epoch_bad(const char *s)
{
    int64_t ns = 42;
    assert_int_equal(ep(s, &ns), -1);
    assert_int_equal(ns, 42);
}

static void test_epoch_units(void **state)
{
    (void)state;
    const int64_t t = T2024 * NS_PER_SEC;
    epoch_is("1732186000", t);
    epoch_is("1732186000.5", t + 500000000);
    epoch_is("1732186000.123456789", t + 123456789);
    epoch_is("1732186000.123456", t + 123456000);
    epoch_is("1732186000123", t + 123000000);
    epoch_is("1732186000123.5", t + 123500000);
    epoch_is("1732186000123456", t + 123456000);
    epoch_is("1732186000123456.7", t + 123456700);
    epoch_is("1732186000123456789", t + 123456789);
    epoch_is("0", 0);
    epoch_is("0.25", NS_PER_SEC / 4);
    epoch_is("86400", 86400LL * NS_PER_SEC);
    /* the unit changes at 1e11 (ms), 1e14 (us) and 1e17 (ns) */
    epoch_is("9223372036", 9223372036LL * NS_PER_SEC);
    epoch_is("100000000000", 100000000000LL * NS_PER_MS);
    epoch_is("100000000000000", 100000000000000LL * 1000);
    epoch_is("100000000000000000", 100000000000000000LL);
    /* nanoseconds have no fraction to add */
    epoch_is("1732186000123456789.9", t + 123456789);
}

static void test_epoch_bad(void **state)
{
    (void)state;
    epoch_bad("");
    epoch_bad("abc");
    epoch_bad("-1732186000");
    epoch_bad("+1732186000");
    epoch_bad(" 1732186000");
    epoch_bad("1732186000 ");
    epoch_bad("1732186000.");
    epoch_bad(".5");
    epoch_bad("1732186000.5.5");
    epoch_bad("1.7e9");
    epoch_bad("0x10");
    epoch_bad("1732186000s");
    epoch_bad("12345678901234567890"); /* 20 digits */
    epoch_bad("99999999999999999999999999");
    /* 19 digits can still overflow int64 */
    epoch_bad("9999999999999999999");
    epoch_bad("9223372036854775808");
    epoch_is("9223372036854775807", INT64_MAX);
    /* seconds, ms and us too large for int64 ns */
    epoch_bad("9300000000");
    epoch_bad("9300000000.5");
    epoch_bad("9300000000000");
    epoch_bad("9300000000000000");
    epoch_is("9223372036.854775807", INT64_MAX);
    epoch_bad("9223372036.854775808");
}

static void test_parse_any(void **state)
{
    (void)state;
    int64_t ns = 42;
    assert_int_equal(time_parse_any("2024-11-21T10:46:40Z", 20, &ns), 0);
    assert_int_equal(ns, T2024 * NS_PER_SEC);
    assert_int_equal(time_parse_any("1732186000", 10, &ns), 0);
    assert_int_equal(ns, T2024 * NS_PER_SEC);
    ns = 42;
    assert_int_equal(time_parse_any("yesterday", 9, &ns), -1);
    assert_int_equal(time_parse_any("", 0, &ns), -1);
    assert_int_equal(ns, 42);
}

static void test_days_from_civil(void **state)
{
    (void)state;
    assert_int_equal(time_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(time_days_from_civil(1970, 1, 2), 1);
    assert_int_equal(time_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(time_days_from_civil(2000, 1, 1), 10957);
    assert_int_equal(time_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(time_days_from_civil(2024, 2, 29), 19782);
    assert_int_equal(time_days_from_civil(2024, 3, 1), 19783);
    assert_int_equal(time_days_from_civil(2024, 11, 21), T2024 / 86400);
    assert_int_equal(time_days_from_civil(1900, 3, 1), -25508);
    assert_int_equal(time_days_from_civil(1600, 2, 29), -135081);
    assert_int_equal(time_days_from_civil(1, 1, 1), -719162);
    assert_int_equal(time_days_from_civil(9999, 12, 31), 2932896);
    assert_int_equal(time_days_from_civil(2262, 4, 11), 106751);
    /* consecutive days are consecutive numbers across years */
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t expect = time_days_from_civil(1896, 1, 1);
    for (int64_t y = 1896; y < 2104; y++) {
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        for (unsigned m = 1; m <= 12; m++) {
            unsigned dm = mdays[m - 1] + (m == 2 && leap);
            for (unsigned d = 1; d <= dm; d++)
                assert_int_equal(time_days_from_civil(y, m, d), expect++);
        }
    }
    assert_int_equal(expect, time_days_from_civil(2104, 1, 1));
}

/* The one grammar of since/until: every form, and what it is not. */
static void test_parse_when_table(void **state)
{
    (void)state;
    const int64_t now = 1764684000LL * NS_PER_SEC; /* 2025-12-02T14:00:00Z */
    static const struct {
        const char *in;
        int ok;
        int64_t ns; /* expected, as an offset from now when rel */
        int rel;
    } t[] = {
        {"2026-11-21T10:45:56Z", 1, 1795257956LL * NS_PER_SEC, 0},
        {"2026-11-21 10:45:56+01:00", 1, 1795254356LL * NS_PER_SEC, 0},
        {"1764684000", 1, 1764684000LL * NS_PER_SEC, 0},       /* epoch s */
        {"1764684000123", 1, 1764684000123LL * NS_PER_MS, 0},  /* ms */
        {"1764684000123456", 1, 1764684000123456LL * 1000, 0}, /* us */
        {"1764684000123456789", 1, 1764684000123456789LL, 0},  /* ns */
        {"1764684000.5", 1, 1764684000LL * NS_PER_SEC + NS_PER_SEC / 2, 0},
        {"now", 1, 0, 1},
        {"90s", 1, -90 * NS_PER_SEC, 1},
        {"15m", 1, -15 * 60 * NS_PER_SEC, 1},
        {"2h", 1, -2 * 3600 * NS_PER_SEC, 1},
        {"1.5h", 1, -5400 * NS_PER_SEC, 1},
        {"7d", 1, -7 * 86400 * NS_PER_SEC, 1},
        {"1w", 1, -7 * 86400 * NS_PER_SEC, 1},
        {"250ms", 1, -250 * NS_PER_MS, 1},
        {"", 0, 0, 0},
        {"h", 0, 0, 0},
        {"2x", 0, 0, 0},
        {"-2h", 0, 0, 0},
        {"2h ago", 0, 0, 0},
        {"1.h", 0, 0, 0},
        {"yesterday", 0, 0, 0},
        {"99999999999999999999", 0, 0, 0},
        {"999999999999999w", 0, 0, 0},
        {"2026-13-01T00:00:00Z", 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int64_t ns = 0;
        int rc = time_parse_when(t[i].in, strlen(t[i].in), now, &ns);
        if (rc != (t[i].ok ? 0 : -1))
            fail_msg("'%s': rc %d", t[i].in, rc);
        if (t[i].ok && ns != (t[i].rel ? now + t[i].ns : t[i].ns))
            fail_msg("'%s': %lld", t[i].in, (long long)ns);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_format_negative),
        cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_parse_fraction),
        cmocka_unit_test(test_parse_calendar),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_parse_out_of_range),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_epoch_units),
        cmocka_unit_test(test_epoch_bad),
        cmocka_unit_test(test_parse_any),
        cmocka_unit_test(test_days_from_civil),
        cmocka_unit_test(test_parse_when_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
