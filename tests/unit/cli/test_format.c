/* test_format.c - human lines from API records (src/cli/format.c): the
 * default line, templates, escaping, error bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cli/format.h"

static buf_t out;

static const char *line(const char *json, int color)
{
    buf_reset(&out);
    assert_int_equal(format_record(&out, NULL, json, strlen(json), color), 0);
    return buf_cstr(&out);
}

/* escapes a string literal, NULs included */
#define ESC(lit) esc((lit), sizeof(lit) - 1)

static const char *esc(const char *s, size_t n)
{
    buf_reset(&out);
    format_escape(&out, s, n);
    return buf_cstr(&out);
}

static int setup(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    buf_free(&out);
    return 0;
}

static void test_human_line(void **state)
{
    (void)state;
    assert_string_equal(line("{\"seq\":42,\"ts\":\"2026-11-21T10:45:56.123456789Z\","
                             "\"level\":\"info\",\"topic\":\"web.info\",\"host\":\"h1\","
                             "\"app\":\"web\",\"msg\":\"user login\"}",
                             0),
                        "[2026-11-21 10:45:56] [INFO] web.info h1 web: user login\n");
    /* member order does not matter; nested values and unknown keys are
     * skipped, even when they use the same names */
    assert_string_equal(line("{\"fields\":{\"msg\":\"no\",\"app\":[\"no\"]},\"msg\":\"yes\","
                             "\"extra\":[1,{\"level\":\"debug\"}],\"app\":\"db\","
                             "\"level\":\"warning\",\"ts\":\"2026-01-02T03:04:05Z\"}",
                             0),
                        "[2026-01-02 03:04:05] [WARNING] - - db: yes\n");
}

static void test_local_time(void **state)
{
    (void)state;
    /* a fixed offset needs no zone data: 2 hours east of UTC */
    setenv("TZ", "XST-2", 1);
    tzset();
    const char *l = line("{\"ts\":\"2026-11-21T23:45:56.999999999Z\",\"level\":\"info\","
                         "\"app\":\"a\",\"msg\":\"m\"}",
                         0);
    setenv("TZ", "UTC", 1);
    tzset();
    assert_string_equal(l, "[2026-11-22 01:45:56] [INFO] - - a: m\n");
}

static void test_levels(void **state)
{
    (void)state;
    assert_string_equal(line("{\"ts\":\"2026-11-21T10:45:56Z\",\"level\":\"warn\",\"app\":\"a\","
                             "\"msg\":\"m\"}",
                             0),
                        "[2026-11-21 10:45:56] [WARNING] - - a: m\n");
    assert_string_equal(line("{\"ts\":\"2026-11-21T10:45:56Z\",\"level\":\"emerg\",\"app\":\"a\","
                             "\"msg\":\"m\"}",
                             0),
                        "[2026-11-21 10:45:56] [EMERG] - - a: m\n");
    /* an unknown level is shown as sent, upper-cased and escaped */
    assert_string_equal(line("{\"ts\":\"2026-11-21T10:45:56Z\",\"level\":\"loud\\u001b\","
                             "\"app\":\"a\",\"msg\":\"m\"}",
                             0),
                        "[2026-11-21 10:45:56] [LOUD\\X1B] - - a: m\n");
}

static void test_color(void **state)
{
    (void)state;
    const char *rec = "{\"ts\":\"2026-11-21T10:45:56Z\",\"level\":\"%s\",\"app\":\"a\","
                      "\"msg\":\"m\"}";
    static const struct {
        const char *level, *expect;
    } cases[] = {
        {"crit", "[2026-11-21 10:45:56] [\x1b[1;31mCRIT\x1b[0m] - - a: m\n"},
        {"error", "[2026-11-21 10:45:56] [\x1b[31mERROR\x1b[0m] - - a: m\n"},
        {"warning", "[2026-11-21 10:45:56] [\x1b[33mWARNING\x1b[0m] - - a: m\n"},
        {"notice", "[2026-11-21 10:45:56] [\x1b[36mNOTICE\x1b[0m] - - a: m\n"},
        {"info", "[2026-11-21 10:45:56] [\x1b[36mINFO\x1b[0m] - - a: m\n"},
        {"debug", "[2026-11-21 10:45:56] [\x1b[2mDEBUG\x1b[0m] - - a: m\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[256];
        snprintf(json, sizeof json, rec, cases[i].level);
        assert_string_equal(line(json, 1), cases[i].expect);
        /* without colour, not one escape sequence */
        assert_null(strchr(line(json, 0), '\x1b'));
    }
}

static void test_escapes_controls(void **state)
{
    (void)state;
    assert_string_equal(ESC("a\x1b[2Jb"), "a\\x1b[2Jb");
    assert_string_equal(ESC("l1\nl2\r\tx"), "l1\\nl2\\r\\tx");
    assert_string_equal(ESC("nul\0del\x7f"), "nul\\x00del\\x7f");
    assert_string_equal(ESC("bell\a"), "bell\\x07");
    /* C1 controls, e.g. U+009B (8-bit CSI), and bidi overrides */
    assert_string_equal(ESC("\xc2\x9b"
                            "31m"),
                        "\\u009b31m");
    assert_string_equal(ESC("x\xe2\x80\xaey"), "x\\u202ey");
    assert_string_equal(ESC("x\xe2\x81\xa6y"), "x\\u2066y");
    /* printable UTF-8 passes unchanged */
    assert_string_equal(ESC("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x99\x82"),
                        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x99\x82");
    /* invalid UTF-8 becomes \xNN */
    assert_string_equal(ESC("a\xff\xc3"), "a\\xff\\xc3");
    /* through a record: JSON escapes decode to control bytes, which are
     * escaped again on output */
    assert_string_equal(line("{\"ts\":\"2026-11-21T10:45:56Z\",\"level\":\"info\","
                             "\"app\":\"w\\u001b]0;x\\u0007\",\"msg\":\"\\u001b[31mred\\u009b\"}",
                             0),
                        "[2026-11-21 10:45:56] [INFO] - - w\\x1b]0;x\\x07: \\x1b[31mred\\u009b\n");
}

/* Every bidirectional control, each with text around it, and the marks
 * that are not controls left alone. */
static void test_escapes_every_bidi_control(void **state)
{
    (void)state;
    static const struct {
        const char *utf8, *escaped;
    } bidi[] = {
        {"\xd8\x9c", "\\u061c"},     /* ARABIC LETTER MARK */
        {"\xe2\x80\x8e", "\\u200e"}, /* LRM */
        {"\xe2\x80\x8f", "\\u200f"}, /* RLM */
        {"\xe2\x80\xaa", "\\u202a"}, /* LRE */
        {"\xe2\x80\xab", "\\u202b"}, /* RLE */
        {"\xe2\x80\xac", "\\u202c"}, /* PDF */
        {"\xe2\x80\xad", "\\u202d"}, /* LRO */
        {"\xe2\x80\xae", "\\u202e"}, /* RLO */
        {"\xe2\x81\xa6", "\\u2066"}, /* LRI */
        {"\xe2\x81\xa7", "\\u2067"}, /* RLI */
        {"\xe2\x81\xa8", "\\u2068"}, /* FSI */
        {"\xe2\x81\xa9", "\\u2069"}, /* PDI */
    };
    for (size_t i = 0; i < sizeof bidi / sizeof bidi[0]; i++) {
        char in[16], want[16];
        snprintf(in, sizeof in, "a%sb", bidi[i].utf8);
        snprintf(want, sizeof want, "a%sb", bidi[i].escaped);
        assert_string_equal(esc(in, strlen(in)), want);
        assert_true(format_is_unsafe_cp((unsigned)strtoul(bidi[i].escaped + 2, NULL, 16)));
    }
    /* neighbours that are ordinary text: Arabic letters, ZWJ, U+2070 */
    assert_string_equal(ESC("\xd8\x9b\xd8\xa7 \xe2\x80\x8d \xe2\x81\xb0"),
                        "\xd8\x9b\xd8\xa7 \xe2\x80\x8d \xe2\x81\xb0");
    assert_false(format_is_unsafe_cp(0x202f));
    assert_false(format_is_unsafe_cp(0x2065));
    assert_false(format_is_unsafe_cp(0x206a));
    assert_true(format_is_unsafe_cp(0x9f));
}

static const char *jsafe(const char *s)
{
    buf_reset(&out);
    format_json_safe(&out, s, strlen(s));
    return buf_cstr(&out);
}

/* --json on a terminal: the same JSON value, nothing that drives it. */
static void test_json_safe(void **state)
{
    (void)state;
    /* escapes already in the JSON stay as they are */
    assert_string_equal(jsafe("{\"msg\":\"\\u001b[31mred\\t\"}"),
                        "{\"msg\":\"\\u001b[31mred\\t\"}");
    assert_string_equal(jsafe("{\"msg\":\"x\xe2\x80\xaey\xc2\x9b\xe2\x80\x8f\"}"),
                        "{\"msg\":\"x\\u202ey\\u009b\\u200f\"}");
    /* printable UTF-8 and tabs are kept; raw control bytes and DEL are
     * escaped, invalid UTF-8 becomes U+FFFD */
    assert_string_equal(jsafe("{\"a\":\t\"caf\xc3\xa9 \xf0\x9f\x99\x82\"}"),
                        "{\"a\":\t\"caf\xc3\xa9 \xf0\x9f\x99\x82\"}");
    assert_string_equal(jsafe("\"\x1b\x7f\r\xff\""), "\"\\u001b\\u007f\\u000d\\ufffd\"");
}

static void test_missing_members(void **state)
{
    (void)state;
    assert_string_equal(line("{\"msg\":\"only\"}", 0), "[-] [-] - - -: only\n");
    assert_string_equal(line("{\"ts\":\"yesterday\",\"level\":\"info\",\"app\":\"\",\"msg\":7}", 0),
                        "[yesterday] [INFO] - - : 7\n");
    assert_string_equal(line("{\"ts\":null,\"level\":true,\"app\":\"a\",\"msg\":null}", 0),
                        "[-] [-] - - a: -\n");
}

static void test_not_a_record(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "[]",
        "[{\"msg\":\"x\"}]",
        "\"msg\"",
        "42",
        "null",
        "{\"msg\":",
        "{\"msg\":\"x\"} {}",
        "{\"msg\":\"x\"}garbage",
        "{msg:1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        buf_reset(&out);
        buf_puts(&out, "keep");
        assert_int_equal(format_record(&out, NULL, bad[i], strlen(bad[i]), 0), -1);
        assert_int_equal(out.len, 4);
    }
}

static void test_error_body(void **state)
{
    (void)state;
    const char *body = "{\"error\":\"unknown level (use emerg, ...)\"}\n";
    buf_reset(&out);
    assert_int_equal(format_error(&out, body, strlen(body)), 0);
    assert_string_equal(buf_cstr(&out), "unknown level (use emerg, ...)");
    body = "{\"error\":\"bad \\u001b\"}";
    buf_reset(&out);
    assert_int_equal(format_error(&out, body, strlen(body)), 0);
    assert_string_equal(buf_cstr(&out), "bad \\x1b");
    buf_reset(&out);
    assert_int_equal(format_error(&out, "{\"status\":\"ok\"}", 15), -1);
    assert_int_equal(format_error(&out, "<html>", 6), -1);
    assert_int_equal(out.len, 0);
}

/* A record through the template tpl. */
static const char *templ(const char *tpl, const char *json, int color)
{
    char err[512];
    format_tpl_t *t = format_tpl_compile(tpl, err, sizeof err);
    assert_non_null(t);
    buf_reset(&out);
    assert_int_equal(format_record(&out, t, json, strlen(json), color), 0);
    format_tpl_free(t);
    return buf_cstr(&out);
}

static const char *const REC =
    "{\"seq\":42,\"ts\":\"2026-11-21T10:45:56.5Z\",\"level\":\"error\",\"topic\":\"local3.error\","
    "\"host\":\"h1\",\"app\":\"web\",\"pid\":\"77\",\"msg\":\"disk full\","
    "\"fields\":{\"user.id\":42,\"user.name\":\"ann\",\"ok\":true,\"none\":null,"
    "\"tags\":[1,\"x\"],\"deep\":{\"a\":{\"b\":[]}},\"evil\":\"a\\u001b[2J\xe2\x80\xae"
    "b\"}}";

static void test_template(void **state)
{
    (void)state;
    assert_string_equal(templ("{seq} {ts} {level} {topic} {host} {app} {pid}: {msg}", REC, 0),
                        "42 2026-11-21 10:45:56 ERROR local3.error h1 web 77: disk full\n");
    /* the default line is the template FORMAT_DEFAULT */
    assert_string_equal(templ(FORMAT_DEFAULT, REC, 1), line(REC, 1));
    /* braces, literal text only, the empty template */
    assert_string_equal(templ("{{{msg}}} {{seq}}", REC, 0), "{disk full} {seq}\n");
    assert_string_equal(templ("plain", REC, 0), "plain\n");
    assert_string_equal(templ("", REC, 0), "\n");
    /* the level's colour: on the name only */
    assert_string_equal(templ("<{level}>", REC, 1), "<\x1b[31mERROR\x1b[0m>\n");
    /* absent members */
    assert_string_equal(templ("{seq}|{pid}|{host}|{fields}|{fields.x}", "{\"msg\":\"m\"}", 0),
                        "-|-|-|-|-\n");
}

static void test_template_fields(void **state)
{
    (void)state;
    assert_string_equal(
        templ("{fields.user.id} {fields.user.name} {fields.ok} {fields.none}", REC, 0),
        "42 ann true null\n");
    assert_string_equal(templ("{fields.tags} {fields.deep} {fields.missing}", REC, 0),
                        "[1,\"x\"] {\"a\":{\"b\":[]}} -\n");
    /* a string field is text, escaped; the fields object is JSON, with the
     * same characters as \u escapes (still valid JSON) */
    assert_string_equal(templ("{fields.evil}", REC, 0), "a\\x1b[2J\\u202eb\n");
    assert_string_equal(
        templ("{fields}", "{\"fields\":{\"e\":\"a\\u001b\xe2\x80\xae\",\"n\":1}}", 0),
        "{\"e\":\"a\\u001b\\u202e\",\"n\":1}\n");
    /* nested members of other values are not fields */
    assert_string_equal(templ("{fields.a}|{msg}", "{\"msg\":{\"a\":1},\"fields\":\"a\"}", 0),
                        "-|-\n");
}

static void test_template_errors(void **state)
{
    (void)state;
    static const struct {
        const char *tpl, *says;
    } bad[] = {
        {"{nope}", "not {nope}"},         {"{msg} {TS}", "not {TS}"},
        {"{fields.}", "not {fields.}"},   {"{}", "not {}"},
        {"{error}", "not {error}"},       {"{msg", "'{' without '}'"},
        {"a { {msg}", "'{' without '}'"}, {"msg}", "'}' without '{'"},
        {"{m\x1bsg}", "not {m\\x1bsg}"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[512] = "";
        assert_null(format_tpl_compile(bad[i].tpl, err, sizeof err));
        if (!strstr(err, bad[i].says))
            fail_msg("%s: %s", bad[i].tpl, err);
        /* every error names the accepted placeholders or the escapes */
        assert_true(strstr(err, FORMAT_PLACEHOLDERS) || strstr(err, "{{") || strstr(err, "}}"));
    }
    format_tpl_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_human_line),
        cmocka_unit_test(test_local_time),
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_color),
        cmocka_unit_test(test_escapes_controls),
        cmocka_unit_test(test_missing_members),
        cmocka_unit_test(test_not_a_record),
        cmocka_unit_test(test_error_body),
        cmocka_unit_test(test_escapes_every_bidi_control),
        cmocka_unit_test(test_json_safe),
        cmocka_unit_test(test_template),
        cmocka_unit_test(test_template_fields),
        cmocka_unit_test(test_template_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
