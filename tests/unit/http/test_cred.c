/* test_cred.c - the credential of a request (src/http/cred.c): Bearer,
 * Basic with the token as the password, and ?ticket= where a route takes
 * tickets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/http.h"

static http_cred_t parse(const char *auth, const char *query, int tickets)
{
    http_cred_t c;
    http_cred_parse(auth ? slice_cstr(auth) : SLICE_NULL, slice_cstr(query), tickets, &c);
    return c;
}

static void assert_secret(const http_cred_t *c, const char *want)
{
    assert_int_equal(c->secret.n, strlen(want));
    assert_memory_equal(c->secret.p, want, c->secret.n);
}

static void test_bearer(void **state)
{
    (void)state;
    http_cred_t c = parse("Bearer abc-123", "", 0);
    assert_int_equal(c.kind, HTTP_CRED_BEARER);
    assert_secret(&c, "abc-123");
    c = parse("bearer \t abc-123 ", "", 0); /* the scheme in any case, blanks around */
    assert_int_equal(c.kind, HTTP_CRED_BEARER);
    assert_secret(&c, "abc-123");
    static const char *const bad[] = {"Bearer",    "Bearer ", "Bearer a b",
                                      "Bearerabc", "Token x", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c = parse(bad[i], "", 0);
        if (c.kind != HTTP_CRED_BAD)
            fail_msg("'%s' is not a bad header", bad[i]);
    }
}

static void test_basic(void **state)
{
    (void)state;
    /* "alice:s3cret-token" and ":tok:with:colons" */
    http_cred_t c = parse("Basic YWxpY2U6czNjcmV0LXRva2Vu", "", 0);
    assert_int_equal(c.kind, HTTP_CRED_BASIC);
    assert_secret(&c, "s3cret-token");
    assert_int_equal(c.user.n, 5);
    assert_memory_equal(c.user.p, "alice", 5);
    c = parse("BASIC OnRvazp3aXRoOmNvbG9ucw==", "", 0);
    assert_int_equal(c.kind, HTTP_CRED_BASIC);
    assert_int_equal(c.user.n, 0);
    assert_secret(&c, "tok:with:colons");
    c = parse("Basic OnRvazp3aXRoOmNvbG9ucw", "", 0); /* padding is optional */
    assert_int_equal(c.kind, HTTP_CRED_BASIC);
    /* not base64, no colon, an empty password */
    static const char *const bad[] = {"Basic !!!!", "Basic YWxpY2U=", "Basic YWxpY2U6", "Basic",
                                      "Basic Y"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c = parse(bad[i], "", 0);
        if (c.kind != HTTP_CRED_BAD)
            fail_msg("'%s' is not a bad header", bad[i]);
    }
    /* longer than the decoding buffer */
    char big[1200] = "Basic ";
    memset(big + 6, 'Q', 1100);
    big[1106] = '\0';
    c = parse(big, "", 0);
    assert_int_equal(c.kind, HTTP_CRED_BAD);
}

static void test_ticket(void **state)
{
    (void)state;
    http_cred_t c = parse(NULL, "n=5&ticket=abcd&ticket=second", 1);
    assert_int_equal(c.kind, HTTP_CRED_TICKET);
    assert_secret(&c, "abcd");
    c = parse(NULL, "ticket=abcd", 0); /* a route without tickets */
    assert_int_equal(c.kind, HTTP_CRED_NONE);
    c = parse(NULL, "xticket=abcd&tickets=1", 1); /* no such pair */
    assert_int_equal(c.kind, HTTP_CRED_NONE);
    c = parse(NULL, "ticket=", 1);
    assert_int_equal(c.kind, HTTP_CRED_BAD);
    /* a header wins over the query */
    c = parse("Bearer tok", "ticket=abcd", 1);
    assert_int_equal(c.kind, HTTP_CRED_BEARER);
    assert_secret(&c, "tok");
    c = parse(NULL, "", 1);
    assert_int_equal(c.kind, HTTP_CRED_NONE);
    assert_null(c.secret.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bearer),
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_ticket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
