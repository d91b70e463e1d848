/* test_regex.c - re= matching (src/route/regex.c): UTF-8 patterns, a
 * pattern that does not compile says where, catastrophic backtracking is
 * cut at the match limit (no match, counted), one compiled pattern used
 * many times with no allocation per match. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "route/regex.h"

static struct regex *make(const char *p)
{
    char err[160];
    struct regex *re = regex_create(p, strlen(p), err, sizeof err);
    if (!re)
        fail_msg("%s: %s", p, err);
    return re;
}

static void test_match(void **state)
{
    (void)state;
    struct regex *re = make("^Failed password for invalid user \\w+ from 10\\.1\\.");
    const char *yes = "Failed password for invalid user git from 10.1.2.3 port 22 ssh2";
    const char *no = "Failed password for invalid user git from 10.2.2.3 port 22 ssh2";
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(regex_match(re, yes, strlen(yes)), 1);
        assert_int_equal(regex_match(re, no, strlen(no)), 0);
    }
    regex_destroy(re);
    re = make("caf. noir");
    assert_int_equal(regex_match(re, "un café noir", strlen("un café noir")), 1); /* . is é */
    assert_int_equal(regex_match(re, "un cafe noir", strlen("un cafe noir")), 1);
    regex_destroy(re);
    regex_destroy(NULL);
}

static void test_bad_pattern(void **state)
{
    (void)state;
    char err[160];
    assert_null(regex_create("a(b", 3, err, sizeof err));
    assert_non_null(strstr(err, "bad re: missing closing parenthesis at 3"));
    assert_null(regex_create("\xff", 1, err, sizeof err)); /* not UTF-8 */
    assert_non_null(strstr(err, "bad re: "));
}

static void test_match_limit(void **state)
{
    (void)state;
    struct regex *re = make("^(a|aa)+$");
    char s[64];
    memset(s, 'a', sizeof s - 1);
    s[sizeof s - 2] = 'b';
    s[sizeof s - 1] = 0;
    uint64_t before = regex_limited();
    assert_int_equal(regex_match(re, s, strlen(s)), 0);
    assert_true(regex_limited() > before);
    regex_destroy(re);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_bad_pattern),
        cmocka_unit_test(test_match_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
