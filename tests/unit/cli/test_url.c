/* test_url.c - the server URLs of the logship command (src/cli/url.c):
 * schemes, TLS and its default port, hosts, ports, what is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/url.h"

static void test_schemes(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        int tls, port;
    } cases[] = {
        {"http://h", 0, 80},     {"ws://h", 0, 80},          {"https://h", 1, 443},
        {"wss://h", 1, 443},     {"HTTPS://h", 1, 443},      {"https://h:8443", 1, 8443},
        {"wss://h:1/x?y", 1, 1}, {"http://h:8080", 0, 8080},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        url_t u;
        char err[128];
        assert_int_equal(url_parse(cases[i].url, &u, err, sizeof err), 0);
        assert_string_equal(u.host, "h");
        assert_int_equal(u.tls, cases[i].tls);
        assert_int_equal(u.port, cases[i].port);
    }
}

static void test_hosts_and_paths(void **state)
{
    (void)state;
    url_t u;
    char err[128];
    assert_int_equal(url_parse("https://[::1]:8443/pre/fix?a=b", &u, err, sizeof err), 0);
    assert_string_equal(u.host, "::1"); /* what a certificate's IP SAN is checked against */
    assert_string_equal(u.authority, "[::1]:8443");
    assert_string_equal(u.path, "/pre/fix?a=b");
    assert_int_equal(u.port, 8443);
    assert_int_equal(u.tls, 1);
    assert_int_equal(url_parse("wss://logs.example", &u, err, sizeof err), 0);
    assert_string_equal(u.host, "logs.example");
    assert_string_equal(u.authority, "logs.example");
    assert_string_equal(u.path, "");
}

static void test_refused(void **state)
{
    (void)state;
    static const struct {
        const char *url, *why;
    } cases[] = {
        {"tls://h:1", "tls:// is for 'logship send' only"},
        {"tcp://h:1", "tcp:// is for 'logship send' only"},
        {"ftp://h", "expected http://HOST[:PORT] or https://HOST[:PORT], not 'ftp://h'"},
        {"https://", "missing or too long host"},
        {"https://u@h", "user names in URLs are not supported"},
        {"https://h:0", "bad port"},
        {"https://h:65536", "bad port"},
        {"https://[::1", "bad IPv6 address"},
        {"https://h/a b", "bad character in URL"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        url_t u;
        char err[160] = "";
        assert_int_equal(url_parse(cases[i].url, &u, err, sizeof err), -1);
        assert_non_null(strstr(err, cases[i].why));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schemes),
        cmocka_unit_test(test_hosts_and_paths),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
