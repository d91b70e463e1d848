/* test_cbuf.c - liblogship's byte buffer (src/client/cbuf.h, and the
 * decimal appends of src/client/format.c): it grows, and when memory can
 * not be had it says so once in `failed` and ignores what follows, never
 * aborting; a size no size_t holds fails the same way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "client/cbuf.h"

/* Under AddressSanitizer an impossible allocation returns NULL, as it does
 * without it, instead of stopping the test. */
#if defined(__SANITIZE_ADDRESS__)
#define CBUF_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CBUF_TEST_ASAN 1
#endif
#endif
#ifdef CBUF_TEST_ASAN
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}
#endif

static void test_grows(void **state)
{
    cbuf_t b = CBUF_INIT;
    for (int i = 0; i < 10000; i++)
        cbuf_putc(&b, (char)('a' + i % 26));
    assert_false(b.failed);
    assert_int_equal(b.len, 10000);
    assert_true(b.cap >= b.len);
    assert_int_equal(b.cap & (b.cap - 1), 0); /* doubled from 256 */
    for (int i = 0; i < 10000; i++)
        assert_int_equal(b.data[i], 'a' + i % 26);
    cbuf_puts(&b, "xyz");
    cbuf_add(&b, "", 0);
    assert_int_equal(b.len, 10003);
    assert_memory_equal(b.data + 10000, "xyz", 3);
    cbuf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

static void test_failure_is_reported_and_sticks(void **state)
{
    cbuf_t b = CBUF_INIT;
    cbuf_puts(&b, "kept");
    /* len + n past SIZE_MAX: refused before any allocation */
    assert_int_equal(cbuf_reserve(&b, SIZE_MAX - 2), -1);
    assert_true(b.failed);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, "kept", 4); /* what was there stays */
    /* once failed, appends are ignored: the owner checks the flag once */
    cbuf_puts(&b, "more");
    cbuf_putc(&b, '!');
    cbuf_u64(&b, 42);
    assert_int_equal(b.len, 4);
    assert_int_equal(cbuf_reserve(&b, 1), -1);
    /* freeing makes it usable again */
    cbuf_free(&b);
    assert_false(b.failed);
    cbuf_puts(&b, "again");
    assert_int_equal(b.len, 5);
    /* a size that fits a size_t but no memory: realloc fails, reported */
    assert_int_equal(cbuf_reserve(&b, SIZE_MAX / 2 + 1), -1);
    assert_true(b.failed);
    assert_memory_equal(b.data, "again", 5);
    cbuf_free(&b);
    /* doubling would pass SIZE_MAX: the buffer asks for what it needs */
    cbuf_t c = CBUF_INIT;
    cbuf_putc(&c, 'x');
    assert_int_equal(cbuf_reserve(&c, SIZE_MAX - 1), -1); /* 1 + n == SIZE_MAX */
    assert_true(c.failed);
    cbuf_free(&c);
}

static void test_decimal(void **state)
{
    cbuf_t b = CBUF_INIT;
    cbuf_u64(&b, 0);
    cbuf_putc(&b, ' ');
    cbuf_u64(&b, 18446744073709551615ULL);
    cbuf_putc(&b, ' ');
    cbuf_i64(&b, -1);
    cbuf_putc(&b, ' ');
    cbuf_i64(&b, INT64_MIN);
    cbuf_putc(&b, ' ');
    cbuf_i64(&b, 1234567890123LL);
    cbuf_putc(&b, '\0');
    assert_false(b.failed);
    assert_string_equal(b.data, "0 18446744073709551615 -1 -9223372036854775808 1234567890123");
    cbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grows),
        cmocka_unit_test(test_failure_is_reported_and_sticks),
        cmocka_unit_test(test_decimal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
