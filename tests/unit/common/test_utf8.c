/* test_utf8.c - UTF-8 validation, repair and truncation (src/common/utf8.c,
 * and utf8_repair_append of src/common/utf8_repair.c: one header, utf8.h,
 * and the repair is tested against the validation it is built on). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/utf8.h"

#define FFFD "\xEF\xBF\xBD"

static size_t vp(const char *s, size_t n)
{
    return utf8_valid_prefix(s, n);
}

#define VP(lit) vp((lit), sizeof(lit) - 1)

static void test_valid_prefix_valid(void **state)
{
    (void)state;
    assert_int_equal(vp("", 0), 0);
    assert_int_equal(VP("hello"), 5);
    assert_int_equal(VP("a\0b"), 3); /* NUL is a valid character */
    assert_int_equal(VP("\x7F"), 1);
    assert_int_equal(VP("\xC2\x80"), 2);         /* U+0080 */
    assert_int_equal(VP("\xDF\xBF"), 2);         /* U+07FF */
    assert_int_equal(VP("\xE0\xA0\x80"), 3);     /* U+0800 */
    assert_int_equal(VP("\xED\x9F\xBF"), 3);     /* U+D7FF */
    assert_int_equal(VP("\xEE\x80\x80"), 3);     /* U+E000 */
    assert_int_equal(VP("\xEF\xBF\xBF"), 3);     /* U+FFFF */
    assert_int_equal(VP("\xF0\x90\x80\x80"), 4); /* U+10000 */
    assert_int_equal(VP("\xF0\x9F\x98\x80"), 4); /* U+1F600 */
    assert_int_equal(VP("\xF4\x8F\xBF\xBF"), 4); /* U+10FFFF */
    assert_int_equal(VP("caf\xC3\xA9 \xE2\x82\xAC"), 9);
    /* longer than the eight-byte ASCII fast path, multi-byte at the end */
    assert_int_equal(VP("0123456789abcdef\xC3\xA9"), 18);
}

static void test_valid_prefix_invalid(void **state)
{
    (void)state;
    assert_int_equal(VP("\x80"), 0);
    assert_int_equal(VP("ab\xBF"), 2);
    assert_int_equal(VP("abc\xC0\x80"), 3);      /* overlong NUL */
    assert_int_equal(VP("\xC1\xBF"), 0);         /* overlong */
    assert_int_equal(VP("\xE0\x80\x80"), 0);     /* overlong */
    assert_int_equal(VP("\xE0\x9F\xBF"), 0);     /* overlong */
    assert_int_equal(VP("\xED\xA0\x80"), 0);     /* surrogate D800 */
    assert_int_equal(VP("\xED\xBF\xBF"), 0);     /* surrogate DFFF */
    assert_int_equal(VP("\xF0\x80\x80\x80"), 0); /* overlong */
    assert_int_equal(VP("\xF0\x8F\xBF\xBF"), 0); /* overlong */
    assert_int_equal(VP("\xF4\x90\x80\x80"), 0); /* above U+10FFFF */
    assert_int_equal(VP("\xF5\x80\x80\x80"), 0);
    assert_int_equal(VP("\xFF"), 0);
    assert_int_equal(VP("x\xC3"), 1); /* truncated */
    assert_int_equal(VP("xy\xE2\x82"), 2);
    assert_int_equal(VP("\xF0\x9F\x98"), 0);
    assert_int_equal(VP("\xC3\x28"), 0);
    /* the invalid byte after eight ASCII bytes is found */
    assert_int_equal(VP("01234567\x80"), 8);
    assert_int_equal(VP("0123456789\xC3\xA9\xFF"), 12);
}

/* Repairs s and checks the output and the replacement count. */
static void repair(const char *s, size_t n, const char *want, size_t wn, size_t count)
{
    buf_t b = BUF_INIT;
    buf_puts(&b, "<");
    assert_int_equal(utf8_repair_append(&b, s, n), count);
    assert_int_equal(b.len, wn + 1);
    assert_memory_equal(b.data, "<", 1);
    if (wn)
        assert_memory_equal(b.data + 1, want, wn);
    assert_int_equal(utf8_valid_prefix(b.data, b.len), b.len);
    buf_free(&b);
}

#define REPAIR(in, out, count) repair((in), sizeof(in) - 1, (out), sizeof(out) - 1, (count))

static void test_repair_maximal_subparts(void **state)
{
    (void)state;
    REPAIR("", "", 0);
    REPAIR("plain", "plain", 0);
    REPAIR("caf\xC3\xA9", "caf\xC3\xA9", 0);
    /* a truncated 4-byte sequence is one maximal subpart */
    REPAIR("\xF0\x9F\x98", FFFD, 1);
    REPAIR("a\xF0\x9F\x98", "a" FFFD, 1);
    REPAIR("\xF0\x9F\x98z", FFFD "z", 1);
    REPAIR("\xE2\x82", FFFD, 1);
    REPAIR("\xC3", FFFD, 1);
    /* E0 80 is not a prefix of any valid sequence: two subparts */
    REPAIR("\xE0\x80", FFFD FFFD, 2);
    REPAIR("\xE0\x80\x80", FFFD FFFD FFFD, 3);
    REPAIR("\xED\xA0\x80", FFFD FFFD FFFD, 3);
    REPAIR("\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD, 4);
    REPAIR("\xC0\x80", FFFD FFFD, 2);
    /* a bad second byte ends the subpart and is read again */
    REPAIR("\xC3\x28", FFFD "(", 1);
    REPAIR("\xE2\x28\xA1", FFFD "(" FFFD, 2);
    REPAIR("\xE2\x82\x28", FFFD "(", 1);
    REPAIR("\xF0\x9F\x98\x28", FFFD "(", 1);
    REPAIR("\xF0\x9F\xC3\xA9", FFFD "\xC3\xA9", 1);
    /* lone continuation bytes are each one subpart */
    REPAIR("\x80\x80\x80", FFFD FFFD FFFD, 3);
    REPAIR("\xF5\xFF\xFE", FFFD FFFD FFFD, 3);
    /* The example of Unicode 15 table 3-8 */
    REPAIR("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64",
           "a" FFFD FFFD FFFD "b" FFFD "c" FFFD FFFD "d", 6);
    /* NUL bytes are kept */
    REPAIR("a\0\xFF", "a\0" FFFD, 1);
}

static void test_next(void **state)
{
    (void)state;
    size_t len = 99;
    assert_int_equal(utf8_next("a", 1, &len), 1);
    assert_int_equal(len, 1);
    assert_int_equal(utf8_next("\xC3\xA9x", 3, &len), 1);
    assert_int_equal(len, 2);
    assert_int_equal(utf8_next("\xE2\x82\xAC", 3, &len), 1);
    assert_int_equal(len, 3);
    assert_int_equal(utf8_next("\xF0\x9F\x98\x80", 4, &len), 1);
    assert_int_equal(len, 4);
    /* the length given bounds the sequence */
    assert_int_equal(utf8_next("\xF0\x9F\x98\x80", 3, &len), 0);
    assert_int_equal(len, 3);
    assert_int_equal(utf8_next("\x80", 1, &len), 0);
    assert_int_equal(len, 1);
    assert_int_equal(utf8_next("\xE0\x80\x80", 3, &len), 0);
    assert_int_equal(len, 1);
    assert_int_equal(utf8_next("\xE2\x28", 2, &len), 0);
    assert_int_equal(len, 1);
    assert_int_equal(utf8_next("\xE2\x82\x28", 3, &len), 0);
    assert_int_equal(len, 2);
    assert_int_equal(utf8_next("\xF8\x88\x80\x80\x80", 5, &len), 0);
    assert_int_equal(len, 1);
}

static void test_truncate(void **state)
{
    (void)state;
    const char *s = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z"; /* a é € 😀 z */
    size_t n = strlen(s);
    assert_int_equal(n, 11);
    assert_int_equal(utf8_truncate(s, n, 100), n);
    assert_int_equal(utf8_truncate(s, n, n), n);
    assert_int_equal(utf8_truncate(s, n, 0), 0);
    assert_int_equal(utf8_truncate(s, n, 1), 1);
    assert_int_equal(utf8_truncate(s, n, 2), 1); /* inside é */
    assert_int_equal(utf8_truncate(s, n, 3), 3);
    assert_int_equal(utf8_truncate(s, n, 4), 3); /* inside € */
    assert_int_equal(utf8_truncate(s, n, 5), 3);
    assert_int_equal(utf8_truncate(s, n, 6), 6);
    assert_int_equal(utf8_truncate(s, n, 7), 6); /* inside 😀 */
    assert_int_equal(utf8_truncate(s, n, 9), 6);
    assert_int_equal(utf8_truncate(s, n, 10), 10);

    /* every cut of every prefix is valid UTF-8 and as long as it can be */
    for (size_t max = 0; max <= n; max++) {
        size_t k = utf8_truncate(s, n, max);
        assert_true(k <= max);
        assert_true(max - k < 4);
        assert_int_equal(utf8_valid_prefix(s, k), k);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_prefix_valid),
        cmocka_unit_test(test_valid_prefix_invalid),
        cmocka_unit_test(test_repair_maximal_subparts),
        cmocka_unit_test(test_next),
        cmocka_unit_test(test_truncate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
