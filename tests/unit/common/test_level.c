/* test_level.c - level names, aliases and numbers (src/common/level.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/level.h"

static int lp(const char *s)
{
    return level_parse(s, strlen(s));
}

static void test_canonical_names(void **state)
{
    (void)state;
    static const char *const names[8] = {"emerg",   "alert",  "crit", "error",
                                         "warning", "notice", "info", "debug"};
    for (int i = 0; i < 8; i++) {
        assert_int_equal(lp(names[i]), i);
        /* the canonical name round-trips through level_name */
        assert_string_equal(level_name(i), names[i]);
        assert_int_equal(lp(level_name(i)), i);
        assert_int_equal(lp(level_name_upper(i)), i);
    }
}

static void test_aliases_any_case(void **state)
{
    (void)state;
    assert_int_equal(lp("emergency"), 0);
    assert_int_equal(lp("EMERGENCY"), 0);
    assert_int_equal(lp("panic"), 0);
    assert_int_equal(lp("Panic"), 0);
    assert_int_equal(lp("ALERT"), 1);
    assert_int_equal(lp("critical"), 2);
    assert_int_equal(lp("Critical"), 2);
    assert_int_equal(lp("fatal"), 2);
    assert_int_equal(lp("FATAL"), 2);
    assert_int_equal(lp("CRIT"), 2);
    assert_int_equal(lp("err"), 3);
    assert_int_equal(lp("ERR"), 3);
    assert_int_equal(lp("Error"), 3);
    assert_int_equal(lp("WARN"), 4);
    assert_int_equal(lp("warn"), 4);
    assert_int_equal(lp("Warning"), 4);
    assert_int_equal(lp("wArNiNg"), 4);
    assert_int_equal(lp("NOTICE"), 5);
    assert_int_equal(lp("informational"), 6);
    assert_int_equal(lp("INFORMATIONAL"), 6);
    assert_int_equal(lp("Info"), 6);
    assert_int_equal(lp("trace"), 7);
    assert_int_equal(lp("TRACE"), 7);
    assert_int_equal(lp("Debug"), 7);
}

static void test_python_names(void **state)
{
    (void)state;
    assert_int_equal(lp("DEBUG"), LEVEL_DEBUG);
    assert_int_equal(lp("INFO"), LEVEL_INFO);
    assert_int_equal(lp("WARNING"), LEVEL_WARNING);
    assert_int_equal(lp("ERROR"), LEVEL_ERROR);
    assert_int_equal(lp("CRITICAL"), LEVEL_CRIT);
}

static void test_syslog_numbers(void **state)
{
    (void)state;
    char s[4];
    for (int i = 0; i <= 7; i++) {
        s[0] = (char)('0' + i);
        assert_int_equal(level_parse(s, 1), i);
        assert_int_equal(level_from_number(i), i);
    }
    /* leading zeros are still the same number */
    assert_int_equal(lp("03"), 3);
}

static void test_python_numbers(void **state)
{
    (void)state;
    assert_int_equal(lp("10"), LEVEL_DEBUG);
    assert_int_equal(lp("20"), LEVEL_INFO);
    assert_int_equal(lp("30"), LEVEL_WARNING);
    assert_int_equal(lp("40"), LEVEL_ERROR);
    assert_int_equal(lp("50"), LEVEL_CRIT);
    /* values between round down to the nearest Python level */
    assert_int_equal(lp("15"), LEVEL_DEBUG);
    assert_int_equal(lp("25"), LEVEL_INFO);
    assert_int_equal(lp("35"), LEVEL_WARNING);
    assert_int_equal(lp("45"), LEVEL_ERROR);
    assert_int_equal(lp("60"), LEVEL_CRIT);
    assert_int_equal(lp("19"), LEVEL_DEBUG);
    assert_int_equal(lp("29"), LEVEL_INFO);
    assert_int_equal(lp("39"), LEVEL_WARNING);
    assert_int_equal(lp("49"), LEVEL_ERROR);
    assert_int_equal(level_from_number(10), LEVEL_DEBUG);
    assert_int_equal(level_from_number(20), LEVEL_INFO);
    assert_int_equal(level_from_number(30), LEVEL_WARNING);
    assert_int_equal(level_from_number(40), LEVEL_ERROR);
    assert_int_equal(level_from_number(50), LEVEL_CRIT);
    assert_int_equal(level_from_number(1000000), LEVEL_CRIT);
    assert_int_equal(level_from_number(-1), -1);
}

static void test_invalid(void **state)
{
    (void)state;
    assert_int_equal(lp(""), -1);
    assert_int_equal(level_parse(NULL, 0), -1);
    assert_int_equal(lp("bogus"), -1);
    assert_int_equal(lp("-1"), -1);
    assert_int_equal(lp("1x"), -1);
    assert_int_equal(lp("x1"), -1);
    assert_int_equal(lp("3.0"), -1);
    assert_int_equal(lp(" info"), -1);
    assert_int_equal(lp("info "), -1);
    assert_int_equal(lp("inf"), -1);
    assert_int_equal(lp("infos"), -1);
    assert_int_equal(lp("warnings"), -1);
    assert_int_equal(lp("informationall"), -1);
    assert_int_equal(lp("999999999999999999999999999999"), -1);
    char longname[300];
    memset(longname, 'a', sizeof longname);
    assert_int_equal(level_parse(longname, sizeof longname), -1);
    /* a valid name followed by more bytes is not that name */
    assert_int_equal(level_parse("info\0junk", 9), -1);
    /* only the first n bytes count */
    assert_int_equal(level_parse("infoXYZ", 4), LEVEL_INFO);
    assert_int_equal(level_parse("30000", 2), LEVEL_WARNING);
}

static void test_names(void **state)
{
    (void)state;
    static const char *const upper[8] = {"EMERG",   "ALERT",  "CRIT", "ERROR",
                                         "WARNING", "NOTICE", "INFO", "DEBUG"};
    for (int i = 0; i < 8; i++)
        assert_string_equal(level_name_upper(i), upper[i]);
    assert_string_equal(level_name(-1), "unknown");
    assert_string_equal(level_name(8), "unknown");
    assert_string_equal(level_name(255), "unknown");
    assert_string_equal(level_name_upper(-1), "UNKNOWN");
    assert_string_equal(level_name_upper(8), "UNKNOWN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_names), cmocka_unit_test(test_aliases_any_case),
        cmocka_unit_test(test_python_names),    cmocka_unit_test(test_syslog_numbers),
        cmocka_unit_test(test_python_numbers),  cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
