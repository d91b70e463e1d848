/* test_json_write.c - JSON string escaping and UTF-8 repair (src/common/json_write.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/json_write.h"
#include "common/utf8.h"

#define FFFD "\xEF\xBF\xBD"

/* Asserts json_str(in) is exactly want (quotes included). */
static void js(const char *in, size_t n, const char *want, size_t wn)
{
    buf_t b = BUF_INIT;
    json_str(&b, in, n);
    assert_int_equal(b.len, wn);
    assert_memory_equal(b.data, want, wn);
    buf_free(&b);
}

#define JS(in, out) js((in), sizeof(in) - 1, (out), sizeof(out) - 1)

static void test_plain(void **state)
{
    (void)state;
    JS("", "\"\"");
    JS("hello world", "\"hello world\"");
    JS("~!@#$%^&*()_+{}|:<>?/'", "\"~!@#$%^&*()_+{}|:<>?/'\"");
    /* 0x7f is not a control byte for JSON */
    JS("\x7f", "\"\x7f\"");
}

static void test_escapes(void **state)
{
    (void)state;
    JS("\"", "\"\\\"\"");
    JS("\\", "\"\\\\\"");
    JS("a\"b\\c", "\"a\\\"b\\\\c\"");
    JS("\n", "\"\\n\"");
    JS("\r", "\"\\r\"");
    JS("\t", "\"\\t\"");
    JS("\b", "\"\\b\"");
    JS("\f", "\"\\f\"");
    JS("line1\r\nline2", "\"line1\\r\\nline2\"");
    JS("\x01", "\"\\u0001\"");
    JS("\x1f", "\"\\u001f\"");
    JS("\x1b[31m", "\"\\u001b[31m\"");
    JS("\x0b", "\"\\u000b\"");
    js("\0", 1, "\"\\u0000\"", 8);
    js("a\0b", 3, "\"a\\u0000b\"", 10);
}

static void test_utf8_passes(void **state)
{
    (void)state;
    JS("caf\xC3\xA9", "\"caf\xC3\xA9\"");             /* 2-byte */
    JS("\xE2\x82\xAC 5", "\"\xE2\x82\xAC 5\"");       /* 3-byte */
    JS("\xF0\x9F\x98\x80!", "\"\xF0\x9F\x98\x80!\""); /* 4-byte */
    JS("\xF4\x8F\xBF\xBF", "\"\xF4\x8F\xBF\xBF\"");   /* U+10FFFF */
    JS("\xEF\xBB\xBF", "\"\xEF\xBB\xBF\"");           /* BOM */
    JS("\xC3\xA9\"\xC3\xA9", "\"\xC3\xA9\\\"\xC3\xA9\"");
}

static void test_invalid_becomes_fffd(void **state)
{
    (void)state;
    JS("\x80", "\"" FFFD "\""); /* lone continuation */
    JS("a\xBF"
       "b",
       "\"a" FFFD "b\"");
    JS("ab\xE2\x82", "\"ab" FFFD "\""); /* truncated at end */
    JS("\xF0\x9F\x98", "\"" FFFD "\"");
    JS("\xC3", "\"" FFFD "\"");
    JS("\xC0\x80", "\"" FFFD FFFD "\"");                   /* overlong NUL */
    JS("\xE0\x80\x80", "\"" FFFD FFFD FFFD "\"");          /* overlong */
    JS("\xED\xA0\x80", "\"" FFFD FFFD FFFD "\"");          /* surrogate */
    JS("\xF4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\""); /* > U+10FFFF */
    JS("\xC3\x28", "\"" FFFD "(\"");
    /* the byte after a bad lead is escaped if it needs to be */
    JS("\xC3\"", "\"" FFFD "\\\"\"");
    JS("\xC3\n", "\"" FFFD "\\n\"");
    for (int c = 0xF5; c <= 0xFF; c++) {
        char in[1] = {(char)c};
        js(in, 1, "\"" FFFD "\"", 5);
    }
    for (int c = 0xC0; c <= 0xC1; c++) {
        char in[2] = {(char)c, (char)0xAF};
        js(in, 2, "\"" FFFD FFFD "\"", 8);
    }
}

static void test_body_and_key(void **state)
{
    (void)state;
    buf_t b = BUF_INIT;
    json_str_body(&b, "a\"b", 3);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, "a\\\"b", 4);
    buf_reset(&b);

    json_key(&b, "level");
    assert_int_equal(b.len, 8);
    assert_memory_equal(b.data, "\"level\":", 8);
    json_key(&b, "a\"\n");
    assert_string_equal(buf_cstr(&b), "\"level\":\"a\\\"\\n\":");
    buf_reset(&b);
    json_key(&b, "");
    assert_string_equal(buf_cstr(&b), "\"\":");
    buf_reset(&b);

    json_slice(&b, SLICE_LIT("x\ty"));
    assert_string_equal(buf_cstr(&b), "\"x\\ty\"");
    buf_reset(&b);
    json_slice(&b, SLICE_NULL);
    assert_string_equal(buf_cstr(&b), "\"\"");
    buf_free(&b);
}

/* Undoes the escapes json_str writes; returns -1 on an escape it never writes. */
static int unescape(const char *s, size_t n, buf_t *out)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') {
            buf_putc(out, s[i]);
            continue;
        }
        if (++i >= n)
            return -1;
        switch (s[i]) {
        case '"':
        case '\\':
            buf_putc(out, s[i]);
            break;
        case 'n':
            buf_putc(out, '\n');
            break;
        case 'r':
            buf_putc(out, '\r');
            break;
        case 't':
            buf_putc(out, '\t');
            break;
        case 'b':
            buf_putc(out, '\b');
            break;
        case 'f':
            buf_putc(out, '\f');
            break;
        case 'u': {
            static const char hex[] = "0123456789abcdef";
            if (i + 4 >= n || s[i + 1] != '0' || s[i + 2] != '0')
                return -1;
            const char *h = strchr(hex, s[i + 3]), *l = strchr(hex, s[i + 4]);
            if (!h || !l || !*h || !*l)
                return -1;
            int c = (int)((h - hex) << 4 | (l - hex));
            if (c >= 0x20 && c != 0x7f)
                return -1; /* only control bytes get \u00XX */
            buf_putc(out, (char)c);
            i += 4;
            break;
        }
        default:
            return -1;
        }
    }
    return 0;
}

/* The output of json_str is quoted, valid UTF-8, has no raw control byte
 * and no unescaped '"', and unescapes to the input with ill-formed
 * sequences replaced exactly as utf8_repair_append replaces them. */
static void check_output(const char *in, size_t n)
{
    buf_t b = BUF_INIT, back = BUF_INIT, want = BUF_INIT;
    json_str(&b, in, n);
    assert_true(b.len >= 2);
    assert_int_equal(utf8_valid_prefix(b.data, b.len), b.len);
    assert_int_equal(b.data[0], '"');
    assert_int_equal(b.data[b.len - 1], '"');
    for (size_t i = 0; i < b.len; i++)
        assert_true((unsigned char)b.data[i] >= 0x20);
    for (size_t i = 1; i + 1 < b.len; i++) {
        if (b.data[i] == '\\')
            i++; /* skip the escaped character */
        else
            assert_true(b.data[i] != '"');
    }
    assert_int_equal(unescape(b.data + 1, b.len - 2, &back), 0);
    utf8_repair_append(&want, in, n);
    assert_int_equal(back.len, want.len);
    if (want.len)
        assert_memory_equal(back.data, want.data, want.len);
    buf_free(&b);
    buf_free(&back);
    buf_free(&want);
}

static void test_every_single_byte(void **state)
{
    (void)state;
    for (int c = 0; c < 256; c++) {
        char in[3] = {'x', (char)c, 'y'};
        check_output(in + 1, 1);
        check_output(in, 3);
        buf_t b = BUF_INIT;
        json_str(&b, in + 1, 1);
        if (c >= 0x80)
            assert_string_equal(buf_cstr(&b), "\"" FFFD "\"");
        else if (c < 0x20 || c == '"' || c == '\\')
            assert_int_equal(b.data[1], '\\');
        else
            assert_int_equal(b.len, 3);
        buf_free(&b);
    }
}

/* xorshift64*: deterministic pseudo-random bytes */
static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t next_rand(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1DULL;
}

static void test_random_strings(void **state)
{
    (void)state;
    /* bias toward the interesting bytes: controls, quotes, UTF-8 leads */
    static const unsigned char pick[] = {0x00, 0x1f, '"',  '\\', 'a',  0x7f, 0x80, 0xBF,
                                         0xC0, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4,
                                         0xF5, 0xFF, 0xA0, 0x9F, 0x90, 0x8F, '\n', ' '};
    char in[64];
    for (int iter = 0; iter < 5000; iter++) {
        size_t n = next_rand() % sizeof in;
        for (size_t i = 0; i < n; i++) {
            uint64_t r = next_rand();
            in[i] = (char)(r & 1 ? pick[(r >> 8) % sizeof pick] : (unsigned char)(r >> 16));
        }
        check_output(in, n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),          cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_utf8_passes),    cmocka_unit_test(test_invalid_becomes_fffd),
        cmocka_unit_test(test_body_and_key),   cmocka_unit_test(test_every_single_byte),
        cmocka_unit_test(test_random_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
