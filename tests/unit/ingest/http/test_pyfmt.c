/* test_pyfmt.c - Python %-formatting from an args repr (src/ingest/http/pyfmt.c).
 *
 * Every expected string below is what CPython 3.11 prints for tmpl % args,
 * with args the value whose repr is given. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ingest/http/pyfmt.h"

/* Asserts tmpl % args appends exactly want after what out held. */
static void fmt_n(const char *tmpl, size_t tn, const char *args, const char *want, size_t wn)
{
    buf_t out = BUF_INIT;
    buf_puts(&out, "<>");
    int rc = pyfmt_format(&out, tmpl, tn, args, strlen(args));
    if (rc != 0)
        fail_msg("pyfmt_format(\"%s\", \"%s\") failed", tmpl, args);
    assert_int_equal(out.len, 2 + wn);
    assert_memory_equal(out.data, "<>", 2);
    if (wn)
        assert_memory_equal(out.data + 2, want, wn);
    buf_free(&out);
}

static void fmt(const char *tmpl, const char *args, const char *want)
{
    fmt_n(tmpl, strlen(tmpl), args, want, strlen(want));
}

/* Asserts tmpl % args fails and leaves out as it was. */
static void fails_n(const char *tmpl, size_t tn, const char *args)
{
    buf_t out = BUF_INIT;
    buf_puts(&out, "keep");
    assert_int_equal(pyfmt_format(&out, tmpl, tn, args, strlen(args)), -1);
    assert_int_equal(out.len, 4);
    assert_memory_equal(out.data, "keep", 4);
    buf_free(&out);
}

static void fails(const char *tmpl, const char *args)
{
    fails_n(tmpl, strlen(tmpl), args);
}

static void test_strings(void **state)
{
    (void)state;
    fmt("hello %s", "('world',)", "hello world");
    fmt("%s and %s", "('a', \"b\")", "a and b");
    fmt("%s", "('',)", "");
    fmt("[%5s|%-5s|%.2s|%5.1s]", "('ab', 'ab', 'abc', 'xyz')", "[   ab|ab   |ab|    x]");
    /* '0' pads strings with spaces */
    fmt("%05s", "('ab',)", "   ab");
    /* width counts characters, not bytes */
    fmt("%4s|", "('\xC3\xA9',)", "   \xC3\xA9|");
    fmt("%-3s|", "('\xE2\x82\xAC',)", "\xE2\x82\xAC  |");
    fmt("%.1s", "('\xC3\xA9t\xC3\xA9',)", "\xC3\xA9");
    fmt("caf\xC3\xA9 %s", "('\xC3\xA9t\xC3\xA9',)", "caf\xC3\xA9 \xC3\xA9t\xC3\xA9");
    /* spacing inside the repr does not matter */
    fmt("%s %s", "( 'a' , 'b' , )", "a b");
}

static void test_string_escapes(void **state)
{
    (void)state;
    fmt("[%s]", "('a\\nb\\tc\\\\d\\'e',)", "[a\nb\tc\\d'e]");
    fmt("[%s]", "(\"it's\",)", "[it's]");
    fmt("[%s]", "('say \"hi\"',)", "[say \"hi\"]");
    fmt("[%s]", "('\\r\\x07\\x1b',)", "[\r\a\x1b]");
    fmt("[%s]", "('\\x41\\xe9',)", "[A\xC3\xA9]");
    fmt("[%s]", "('\\u20ac',)", "[\xE2\x82\xAC]");
    fmt("[%s]", "('\\U0001f600',)", "[\xF0\x9F\x98\x80]");
    fmt("[%s]", "('\\U0001F600',)", "[\xF0\x9F\x98\x80]");
    /* a lone surrogate cannot be UTF-8 */
    fmt("[%s]", "('\\ud800',)", "[\xEF\xBF\xBD]");
    fmt_n("[%s]", 4, "('a\\x00b',)", "[a\0b]", 5);
    /* bad escapes make the repr unreadable */
    fails("%s", "('\\q',)");
    fails("%s", "('\\x4',)");
    fails("%s", "('\\u12g4',)");
    fails("%s", "('abc\\"); /* ends inside an escape */
}

static void test_repr(void **state)
{
    (void)state;
    fmt("%r", "('x',)", "'x'");
    fmt("%r|%s", "(\"it's\", \"it's\")", "\"it's\"|it's");
    fmt("%r", "('\\n',)", "'\\n'");
    fmt("%r %r %r", "(None, True, 1.5)", "None True 1.5");
    fmt("%6r|", "('ab',)", "  'ab'|");
    fmt("%a", "('x',)", "'x'");
}

static void test_ints(void **state)
{
    (void)state;
    fmt("%d|%i|%u|%5d|%-5d|%05d|%+d|% d", "(42, 42, 42, 42, 42, 42, 42, 42)",
        "42|42|42|   42|42   |00042|+42| 42");
    fmt("%d|%5d|%05d|%-5d|", "(-42, -42, -42, -42)", "-42|  -42|-0042|-42  |");
    fmt("%x|%X|%o", "(255, 255, 8)", "ff|FF|10");
    fmt("%#x|%#X|%#o|%#x|%#o", "(255, 255, 8, 0, 0)", "0xff|0XFF|0o10|0x0|0o0");
    fmt("%.3d|%08.3d|%#08x|%#.4x|%#5o", "(5, 5, 255, 255, 8)",
        "005|00000005|0x0000ff|0x00ff| 0o10");
    fmt("%.0d", "(0,)", "0");
    fmt("%+05d|% 05d", "(5, -5)", "+0005|-0005");
    fmt("%-08d|", "(5,)", "5       |");
    fmt("%ld %hd %Ld", "(1, 2, 3)", "1 2 3");
    fmt("%d", "(0,)", "0");
    fmt("%d", "(-9223372036854775808,)", "-9223372036854775808");
    fmt("%x", "(9223372036854775807,)", "7fffffffffffffff");
    fmt("%s", "(123456789012345678901234567890,)", "123456789012345678901234567890");
}

static void test_negative_hex_octal(void **state)
{
    (void)state;
    fmt("%x|%X|%o", "(-255, -255, -8)", "-ff|-FF|-10");
    fmt("%05x|%08.3x|%#x|%-6x|", "(-255, -5, -255, -1)", "-00ff|-0000005|-0xff|-1    |");
    fmt("%o", "(-9223372036854775808,)", "-1000000000000000000000");
}

static void test_big_ints_exact(void **state)
{
    (void)state;
    /* 2**53 + 1 is not a double: it must not go through one */
    fmt("%d", "(9007199254740993,)", "9007199254740993");
    fmt("%x", "(9007199254740993,)", "20000000000001");
    fmt("%s", "(9007199254740993,)", "9007199254740993");
    fmt("%d", "(-9007199254740993,)", "-9007199254740993");
}

static void test_floats(void **state)
{
    (void)state;
    fmt("%f|%.2f|%.0f|%8.3f|%-8.1f|%+.1f", "(3.14159, 3.14159, 2.5, 3.14159, 3.14159, 3.14159)",
        "3.141590|3.14|2|   3.142|3.1     |+3.1");
    fmt("%f", "(-0.5,)", "-0.500000");
    fmt("%e|%E|%g|%G", "(12345.678, 12345.678, 0.0001, 1e-10)",
        "1.234568e+04|1.234568E+04|0.0001|1E-10");
    fmt("%.2f|%f", "(7, True)", "7.00|1.000000");
    fmt("%5.1f%%", "(99.44,)", " 99.4%");
    fmt("%s %s %s %s", "(1.5, -2, 1e+20, 1.5e-05)", "1.5 -2 1e+20 1.5e-05");
    fmt("%s %s %s|%f", "(inf, -inf, nan, inf)", "inf -inf nan|inf");
    /* %d of a float truncates toward zero */
    fmt("%d|%d|%i", "(3.99, -3.99, 1e+16)", "3|-3|10000000000000000");
}

static void test_char(void **state)
{
    (void)state;
    fmt("%c%c%c", "(72, 105, 128512)", "Hi\xF0\x9F\x98\x80");
    fmt("%c", "(233,)", "\xC3\xA9");
    fmt("%3c|%-3c|", "(65, 65)", "  A|A  |");
    fails("%c", "(1114112,)");
    fails("%c", "(-1,)");
    fails("%c", "(65.0,)");
}

static void test_literals(void **state)
{
    (void)state;
    fmt("%s %s %s %r", "(None, True, False, None)", "None True False None");
    fmt("%d %d %.1f %x", "(True, False, True, True)", "1 0 1.0 1");
    fmt("%5s|", "(None,)", " None|");
    /* %s of bytes shows the repr, as Python 3 does */
    fmt("%s|%r", "(b'ab\\x00', b'ab\\x00')", "b'ab\\x00'|b'ab\\x00'");
    fmt("%s", "(b\"it's\",)", "b\"it's\"");
    fmt("%s", "(b'',)", "b''");
}

static void test_percent(void **state)
{
    (void)state;
    fmt("%s%%", "(5,)", "5%");
    fmt("%%%s%%", "('x',)", "%x%");
    fmt("%%", "{'a': 1}", "%");
    /* a template without specifiers and a non-empty tuple: Python raises */
    fails("100%%", "('x',)");
    fails("plain", "('x',)");
}

static void test_empty_args(void **state)
{
    (void)state;
    /* LogRecord.getMessage() formats only when args is non-empty */
    fmt("100% done %s %d", "()", "100% done %s %d");
    fmt("trailing %", "()", "trailing %");
    fmt("%%", "()", "%%");
    fmt("", "()", "");
    fmt("x", "( )", "x");
    fmt("%(k)s", "{}", "%(k)s");
}

static void test_dict(void **state)
{
    (void)state;
    fmt("%(x)s-%(y)d", "{'x': 'a', 'y': 7}", "a-7");
    fmt("%(x)s", "{'x': 1, 'unused': 2}", "1");
    fmt("%(x)r|%(x)s", "{'x': 'q'}", "'q'|q");
    fmt("%(a b)s", "{'a b': 'sp'}", "sp");
    fmt("%(x)5s|%(x)-5s|%(n)05.1f", "{'x': 'ab', 'n': 2.25}", "   ab|ab   |002.2");
    fmt("%(k)s", "{\"k\": None}", "None");
    fmt("%(\xC3\xA9)s", "{'\xC3\xA9': 1}", "1");
    fails("%(missing)s", "{'x': 1}");
    fails("%(x)s", "('x',)");   /* a key needs a dict */
    fails("%(x", "{'x': 1}");   /* no closing parenthesis */
    fails("%(x)", "{'x': 1}");  /* no conversion */
    fails("%(x)s", "{1: 'a'}"); /* only str keys */
    fails("%(x)s", "{'x' 1}");
}

static void test_arg_count(void **state)
{
    (void)state;
    fails("%s %s", "('a',)");
    fails("%s", "('a', 'b')");
    fails("%s %s %s", "(1, 2)");
    fails("%d", "()x"); /* junk after the args */
    /* the buffer is unchanged even when the failure comes late */
    fails("long text before the failure %s %s", "('a',)");
}

static void test_unparseable(void **state)
{
    (void)state;
    fails("%s", "(<object at 0x1>,)");
    fails("%s", "(<object object at 0x7f1c2c0a4f90>,)");
    fails("%s", "([1, 2],)");
    fails("%s", "((1, 2),)");
    fails("%s", "({'a': 1},)");
    fails("%s", "[1]");
    fails("%s", "None");
    fails("%s", "");
    fails("%s", "('a',");
    fails("%s", "('a',) junk");
    fails("%s", "('a' 'b')");
    fails("%s", "(-,)");
    fails("%s", "(1j,)");
    fails("%s", "(datetime.datetime(2024, 1, 1, 0, 0),)");
    fails("%s", "('unterminated,)");
}

static void test_bad_templates(void **state)
{
    (void)state;
    fails("50%", "(1,)"); /* incomplete format */
    fails("%5", "(1,)");
    fails("%z", "(1,)");   /* unsupported character */
    fails("%d", "('a',)"); /* %d needs a number */
    fails("%f", "(None,)");
    fails("%x", "(1.5,)"); /* Python: an integer is required */
    fails("%o", "('8',)");
    fails("%lld", "(1,)");     /* one length modifier at most */
    fails_n("%\0", 2, "(1,)"); /* a NUL is not a conversion */
    fails_n("%5\0", 3, "(1,)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_string_escapes),
        cmocka_unit_test(test_repr),
        cmocka_unit_test(test_ints),
        cmocka_unit_test(test_negative_hex_octal),
        cmocka_unit_test(test_big_ints_exact),
        cmocka_unit_test(test_floats),
        cmocka_unit_test(test_char),
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_percent),
        cmocka_unit_test(test_empty_args),
        cmocka_unit_test(test_dict),
        cmocka_unit_test(test_arg_count),
        cmocka_unit_test(test_unparseable),
        cmocka_unit_test(test_bad_templates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
