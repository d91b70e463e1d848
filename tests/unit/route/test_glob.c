/* test_glob.c - the glob patterns of app=, host= and field filters
 * (src/route/glob.c): the shapes they compile to, matching by hand and
 * against the reference model (tests/fuzz/glob_ref.h), and matching the
 * JSON-escaped text stored in a record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/json_write.h"
#include "fuzz/glob_ref.h"
#include "route/glob.h"

static int gm(const char *pat, const char *text)
{
    glob_t g;
    const char *why = NULL;
    assert_int_equal(glob_compile(&g, pat, strlen(pat), &why), 0);
    int r = glob_match(&g, pat, text, strlen(text));
    /* the reference agrees, and so does the JSON reading of the same text */
    assert_int_equal(r, glob_ref_match(pat, strlen(pat), text, strlen(text)));
    buf_t body = BUF_INIT;
    json_str_body(&body, text, strlen(text));
    assert_int_equal(glob_match_json(&g, pat, body.data ? body.data : "", body.len), r);
    buf_free(&body);
    return r;
}

static int kind(const char *pat)
{
    glob_t g;
    const char *why;
    assert_int_equal(glob_compile(&g, pat, strlen(pat), &why), 0);
    return g.kind;
}

static void test_glob_shapes(void **state)
{
    (void)state;
    assert_int_equal(kind("web-1"), GLOB_EXACT);
    assert_int_equal(kind(""), GLOB_EXACT);
    assert_int_equal(kind("web-*"), GLOB_PREFIX);
    assert_int_equal(kind("web-**"), GLOB_PREFIX);
    assert_int_equal(kind("*.lan"), GLOB_SUFFIX);
    assert_int_equal(kind("*err*"), GLOB_SUBSTR);
    assert_int_equal(kind("*"), GLOB_ANY);
    assert_int_equal(kind("***"), GLOB_ANY);
    assert_int_equal(kind("web-?"), GLOB_GENERAL);
    assert_int_equal(kind("a*b"), GLOB_GENERAL);
    assert_int_equal(kind("a\\*"), GLOB_GENERAL);   /* an escaped star is a literal */
    assert_int_equal(kind("C:\\temp"), GLOB_EXACT); /* a backslash before t is itself */

    glob_t g;
    const char *why = NULL;
    char big[300];
    memset(big, 'a', sizeof big);
    assert_int_equal(glob_compile(&g, big, GLOB_MAX_BYTES, &why), 0);
    assert_int_equal(glob_compile(&g, big, GLOB_MAX_BYTES + 1, &why), -1);
    assert_non_null(why);
    assert_int_equal(glob_compile(&g, "\xff", 1, &why), -1);
}

static void test_glob_match(void **state)
{
    (void)state;
    assert_true(gm("web-1", "web-1"));
    assert_false(gm("web-1", "web-10"));
    assert_false(gm("web-1", "Web-1")); /* case matters */
    assert_true(gm("", ""));
    assert_false(gm("", "x"));
    assert_true(gm("web-*", "web-"));
    assert_true(gm("web-*", "web-1.lan"));
    assert_false(gm("web-*", "db-web-1"));
    assert_true(gm("*.lan", "web.lan"));
    assert_false(gm("*.lan", "web.lan2"));
    assert_true(gm("*err*", "an error"));
    assert_false(gm("*err*", "an ERROR"));
    assert_true(gm("*", ""));
    assert_true(gm("*", "anything"));
    assert_true(gm("web-?", "web-1"));
    assert_false(gm("web-?", "web-"));
    assert_false(gm("web-?", "web-12"));
    assert_true(gm("w*b-*-?", "web-eu-1"));
    assert_true(gm("a*b*c", "abc"));
    assert_true(gm("a*b*c", "aXbYbZc"));
    assert_false(gm("a*b*c", "aXbYbZ"));
    assert_true(gm("*a*a*b", "aaaaaaaab"));
    assert_false(gm("*a*a*b", "aaaaaaaa"));
    assert_true(gm("a?c", "abc"));
    assert_false(gm("a??c", "abc"));
    /* '?' is one character, not one byte */
    assert_true(gm("caf?", "caf\xC3\xA9"));
    assert_false(gm("caf??", "caf\xC3\xA9"));
    assert_true(gm("?", "\xE2\x82\xAC"));
    assert_false(gm("*??", "\xE2\x82\xAC"));
    assert_true(gm("?", "\xF0\x9F\x98\x80"));
    /* escapes */
    assert_true(gm("a\\*b", "a*b"));
    assert_false(gm("a\\*b", "axb"));
    assert_true(gm("a\\?", "a?"));
    assert_false(gm("a\\?", "ab"));
    assert_true(gm("a\\\\b", "a\\b"));
    assert_true(gm("C:\\temp", "C:\\temp"));
    assert_true(gm("*\\*", "x*"));
    assert_false(gm("*\\*", "x"));
    /* texts that JSON escapes */
    assert_true(gm("line*two", "line\none\ttwo"));
    assert_true(gm("say \"?\"", "say \"x\""));
    assert_true(gm("*\\\\*", "C:\\dir"));
    assert_true(gm("?", "\n"));
    assert_true(gm("a?b", "a\x01"
                          "b"));
}

static void test_glob_json(void **state)
{
    (void)state;
    glob_t g;
    const char *why;
    /* escapes another writer might use decode the same */
    assert_int_equal(glob_compile(&g, "caf\xC3\xA9", 5, &why), 0);
    assert_true(glob_match_json(&g, "caf\xC3\xA9", "caf\\u00e9", 9));
    assert_true(glob_match_json(&g, "caf\xC3\xA9", "caf\\u00E9", 9));
    assert_false(glob_match_json(&g, "caf\xC3\xA9", "caf\\u00e8", 9));
    assert_int_equal(glob_compile(&g, "?", 1, &why), 0);
    assert_true(glob_match_json(&g, "?", "\\ud83d\\ude00", 12)); /* one character */
    assert_true(glob_match_json(&g, "?", "\\u20ac", 6));
    assert_int_equal(glob_compile(&g, "a/b", 3, &why), 0);
    assert_true(glob_match_json(&g, "a/b", "a\\/b", 4));
    /* malformed escapes are read as bytes, in bounds */
    assert_int_equal(glob_compile(&g, "*", 1, &why), 0);
    assert_true(glob_match_json(&g, "*", "\\u12", 4));
    assert_int_equal(glob_compile(&g, "\\\\u12", 5, &why), 0);
    assert_true(glob_match_json(&g, "\\\\u12", "\\u12", 4));
    assert_int_equal(glob_compile(&g, "x\\\\", 3, &why), 0);
    assert_true(glob_match_json(&g, "x\\\\", "x\\", 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_glob_shapes),
        cmocka_unit_test(test_glob_match),
        cmocka_unit_test(test_glob_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
