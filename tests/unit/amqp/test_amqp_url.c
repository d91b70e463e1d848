/* test_amqp_url.c - --amqp-out URLs (src/amqp/amqp_url.c): defaults,
 * escapes, IPv6, and the refusals with their reasons. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "amqp/amqp_url.h"

static int parse(const char *s, amqp_url_t *u, const char **why)
{
    return amqp_url_parse(s, strlen(s), u, why);
}

static void test_full(void **state)
{
    (void)state;
    amqp_url_t u;
    const char *why;
    assert_int_equal(parse("amqp://alice:s3cret@mq.example:5673/prod", &u, &why), 0);
    assert_int_equal(u.tls, 0);
    assert_string_equal(u.user, "alice");
    assert_string_equal(u.pass, "s3cret");
    assert_string_equal(u.host, "mq.example");
    assert_int_equal(u.port, 5673);
    assert_string_equal(u.vhost, "prod");
    char red[600];
    amqp_url_redacted(&u, red, sizeof red);
    assert_string_equal(red, "amqp://alice@mq.example:5673/prod");
}

static void test_defaults(void **state)
{
    (void)state;
    amqp_url_t u;
    const char *why;
    assert_int_equal(parse("amqp://localhost", &u, &why), 0);
    assert_string_equal(u.user, "guest");
    assert_string_equal(u.pass, "guest");
    assert_int_equal(u.port, 5672);
    assert_string_equal(u.vhost, "/");
    assert_int_equal(parse("amqps://h/", &u, &why), 0);
    assert_int_equal(u.tls, 1);
    assert_int_equal(u.port, 5671);
    assert_string_equal(u.vhost, "/");
    assert_int_equal(parse("AMQP://u@h", &u, &why), 0);
    assert_string_equal(u.user, "u");
    assert_string_equal(u.pass, "guest");
}

static void test_escapes(void **state)
{
    (void)state;
    amqp_url_t u;
    const char *why;
    /* '@', ':' and '/' in the password, the default vhost spelled out */
    assert_int_equal(parse("amqp://us%3Aer:p%40ss%2Fw:rd@h:1/%2f", &u, &why), 0);
    assert_string_equal(u.user, "us:er");
    assert_string_equal(u.pass, "p@ss/w:rd");
    assert_string_equal(u.vhost, "/");
    assert_int_equal(parse("amqp://h/a%2Fb", &u, &why), 0);
    assert_string_equal(u.vhost, "a/b");
    char red[600];
    amqp_url_redacted(&u, red, sizeof red);
    assert_string_equal(red, "amqp://guest@h:5672/a%2fb");
}

static void test_ipv6(void **state)
{
    (void)state;
    amqp_url_t u;
    const char *why;
    assert_int_equal(parse("amqp://[::1]:5680/v", &u, &why), 0);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 5680);
    char red[600];
    amqp_url_redacted(&u, red, sizeof red);
    assert_string_equal(red, "amqp://guest@[::1]:5680/v");
    assert_int_equal(parse("amqp://[::1]", &u, &why), 0);
    assert_int_equal(u.port, 5672);
}

static void test_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "http://h",
        "amqp://",
        "amqp://:5672",
        "amqp://h:",
        "amqp://h:0",
        "amqp://h:65536",
        "amqp://h:12a",
        "amqp://h/a/b",
        "amqp://h/%zz",
        "amqp://h/%2",
        "amqp://u%00@h",
        "amqp://h?heartbeat=10",
        "amqp://h#x",
        "amqp://[::1",
        "amqp://[::1]x",
        "amqp://ho st",
        "amqp://h%41",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        amqp_url_t u;
        const char *why = NULL;
        if (parse(bad[i], &u, &why) != -1)
            fail_msg("'%s' was accepted", bad[i]);
        assert_non_null(why);
    }
    /* a part of 256 bytes is too long, 255 fits */
    char url[400] = "amqp://";
    memset(url + 7, 'h', 255);
    amqp_url_t u;
    const char *why;
    assert_int_equal(parse(url, &u, &why), 0);
    url[7 + 255] = 'h';
    assert_int_equal(parse(url, &u, &why), -1);
    /* a NUL inside the bytes */
    assert_int_equal(amqp_url_parse("amqp://h\0x", 10, &u, &why), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),    cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_escapes), cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
