/* test_cidr.c - --allow's networks and peer matching (src/common/cidr.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "common/cidr.h"

static cidr_list_t list_of(const char *const *nets, size_t n)
{
    cidr_list_t l = {.n = 0};
    for (size_t i = 0; i < n; i++) {
        cidr_t c;
        const char *why = NULL;
        if (cidr_parse(nets[i], strlen(nets[i]), &c, &why))
            fail_msg("%s: %s", nets[i], why);
        assert_int_equal(cidr_list_add(&l, &c), 0);
    }
    return l;
}

static int allowed(const cidr_list_t *l, const char *host)
{
    uint8_t a[16];
    assert_int_equal(cidr_of_host(host, a), 0);
    return cidr_list_match(l, a);
}

static void test_match(void **state)
{
    (void)state;
    static const char *const nets[] = {"10.0.0.0/8", "192.0.2.7", "2001:db8::/32", "fe80::/10",
                                       "172.16.0.0/12"};
    cidr_list_t l = list_of(nets, 5);
    assert_true(allowed(&l, "10.0.0.1"));
    assert_true(allowed(&l, "10.255.255.255"));
    assert_false(allowed(&l, "11.0.0.0"));
    assert_true(allowed(&l, "192.0.2.7"));
    assert_false(allowed(&l, "192.0.2.8"));
    assert_true(allowed(&l, "::ffff:10.1.2.3")); /* IPv4 seen through IPv6 */
    assert_true(allowed(&l, "2001:db8:ffff::1"));
    assert_false(allowed(&l, "2001:db9::1"));
    assert_true(allowed(&l, "febf::1")); /* /10 ends inside a byte */
    assert_false(allowed(&l, "fec0::1"));
    assert_true(allowed(&l, "172.31.255.1"));
    assert_false(allowed(&l, "172.32.0.1"));
    assert_false(allowed(&l, "127.0.0.1"));
    cidr_list_t empty = {.n = 0};
    assert_false(allowed(&empty, "10.0.0.1")); /* an empty list: nobody */
    static const char *const any[] = {"0.0.0.0/0", "::/0"};
    cidr_list_t all = list_of(any, 2);
    assert_true(allowed(&all, "203.0.113.5"));
    assert_true(allowed(&all, "2001:db8::5"));
}

static void test_parse_errors(void **state)
{
    (void)state;
    static const char *const bad[] = {"",           "10.0.0.0/",     "10.0.0.0/33",  "::/129",
                                      "10.1.2.3/8", "10.0.0",        "host.example", "10.0.0.0/8x",
                                      "1.2.3.4/-1", "2001:db8::1/32"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cidr_t c;
        const char *why = NULL;
        if (cidr_parse(bad[i], strlen(bad[i]), &c, &why) == 0)
            fail_msg("'%s' accepted", bad[i]);
        assert_non_null(why);
    }
}

static void test_sockaddr_and_loopback(void **state)
{
    (void)state;
    struct sockaddr_in s4 = {.sin_family = AF_INET};
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
    uint8_t a[16];
    inet_pton(AF_INET, "127.0.0.53", &s4.sin_addr);
    assert_int_equal(cidr_of_sockaddr((struct sockaddr *)&s4, a), 0);
    assert_true(cidr_is_loopback(a));
    inet_pton(AF_INET6, "::1", &s6.sin6_addr);
    assert_int_equal(cidr_of_sockaddr((struct sockaddr *)&s6, a), 0);
    assert_true(cidr_is_loopback(a));
    inet_pton(AF_INET6, "::", &s6.sin6_addr);
    cidr_of_sockaddr((struct sockaddr *)&s6, a);
    assert_false(cidr_is_loopback(a));
    assert_int_equal(cidr_of_host("0.0.0.0", a), 0);
    assert_false(cidr_is_loopback(a));
    assert_int_equal(cidr_of_host("::ffff:127.0.0.1", a), 0);
    assert_true(cidr_is_loopback(a));
    assert_int_equal(cidr_of_host("localhost", a), -1); /* numeric only */
    struct sockaddr un = {.sa_family = AF_UNIX};
    assert_int_equal(cidr_of_sockaddr(&un, a), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_sockaddr_and_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
