/* test_params.c - request parameter limits (src/query/params.c), on
 * query strings decoded by form_parse as the HTTP routes do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "query/params.h"

static char err[PARAM_ERR_MAX];

/* Decodes the query string qs and checks it; returns params_check's. */
static int check(const char *qs, const char *const *only)
{
    form_t f = {0};
    const char *perr = NULL;
    size_t at;
    assert_int_equal(form_parse(&f, qs, strlen(qs), &perr, &at), 0);
    memset(err, 'X', sizeof err);
    int rc = params_check(&f, only, err, sizeof err);
    form_free(&f);
    return rc;
}

/* key=<n times c> */
static const char *repeat(const char *key, char c, size_t n)
{
    static char qs[8192];
    size_t k = strlen(key);
    assert_true(k + 1 + n < sizeof qs);
    memcpy(qs, key, k);
    qs[k] = '=';
    memset(qs + k + 1, c, n);
    qs[k + 1 + n] = '\0';
    return qs;
}

static void test_ordinary_queries_pass(void **state)
{
    (void)state;
    assert_int_equal(check("", NULL), 0);
    assert_int_equal(check("topic=web.%23&topic=*.crit&level=warning&q=time+out&limit=10", NULL),
                     0);
    /* UTF-8 text, NUL bytes and empty values are fine */
    assert_int_equal(check("q=caf%C3%A9+%E2%82%AC+%F0%9F%99%82&app=%00&host=", NULL), 0);
}

static void test_length_caps(void **state)
{
    (void)state;
    assert_int_equal(check(repeat("topic", 'a', PARAM_VALUE_MAX), NULL), 0);
    assert_int_equal(check(repeat("topic", 'a', PARAM_VALUE_MAX + 1), NULL), -1);
    assert_string_equal(err, "parameter 'topic' is longer than 1024 bytes");
    /* q, a substring of messages, may be longer */
    assert_int_equal(check(repeat("q", 'a', PARAM_Q_MAX), NULL), 0);
    assert_int_equal(check(repeat("q", 'a', PARAM_Q_MAX + 1), NULL), -1);
    assert_string_equal(err, "parameter 'q' is longer than 4096 bytes");
    /* the limit is on decoded bytes: %41 is one byte */
    char qs[3 * 1024 + 8] = "app=";
    for (int i = 0; i < 1024; i++)
        strcat(qs, "%41");
    assert_int_equal(check(qs, NULL), 0);
    assert_int_equal(param_max(SLICE_LIT("q")), PARAM_Q_MAX);
    assert_int_equal(param_max(SLICE_LIT("level")), PARAM_VALUE_MAX);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    static const struct {
        const char *qs, *msg;
    } bad[] = {
        {"q=%FF", "parameter 'q' is not valid UTF-8"},
        {"topic=web&level=%C3%28", "parameter 'level' is not valid UTF-8"},
        {"host=a%C3", "parameter 'host' is not valid UTF-8"},        /* cut sequence */
        {"app=%C0%AF", "parameter 'app' is not valid UTF-8"},        /* overlong '/' */
        {"topic=%ED%A0%80", "parameter 'topic' is not valid UTF-8"}, /* a surrogate */
        {"q=%F4%90%80%80", "parameter 'q' is not valid UTF-8"},      /* above U+10FFFF */
        {"zz%FF=1", "a parameter name is not valid UTF-8"},          /* never quoted */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(check(bad[i].qs, NULL), -1);
        assert_string_equal(err, bad[i].msg);
    }
    char name[PARAM_NAME_MAX + 8];
    memset(name, 'k', PARAM_NAME_MAX + 1);
    strcpy(name + PARAM_NAME_MAX + 1, "=1");
    assert_int_equal(check(name, NULL), -1);
    assert_string_equal(err, "a parameter name is longer than 320 bytes");
}

static void test_first_bad_one_is_named(void **state)
{
    (void)state;
    assert_int_equal(check("level=%FF&q=%FE", NULL), -1);
    assert_string_equal(err, "parameter 'level' is not valid UTF-8");
}

static void test_only_listed_names(void **state)
{
    (void)state;
    static const char *const defaults[] = {"app", "topic", "host", "level", NULL};
    /* a GET /api/log message is the record itself: not ours to refuse */
    assert_int_equal(check("log=%FF&msg=%FE", defaults), 0);
    assert_int_equal(check("log=%FF&app=%FE", defaults), -1);
    assert_string_equal(err, "parameter 'app' is not valid UTF-8");
}

static void test_message_fits_small_buffers(void **state)
{
    (void)state;
    form_t f = {0};
    form_add(&f, "topic", 5, "\xff", 1);
    char small[12];
    assert_int_equal(params_check(&f, NULL, small, sizeof small), -1);
    assert_string_equal(small, "parameter '");
    form_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ordinary_queries_pass),
        cmocka_unit_test(test_length_caps),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_first_bad_one_is_named),
        cmocka_unit_test(test_only_listed_names),
        cmocka_unit_test(test_message_fits_small_buffers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
