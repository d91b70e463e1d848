/* test_form_parse.c - urlencoded form decoding (src/common/form_parse.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/form_parse.h"

static int parse(form_t *f, const char *s)
{
    const char *err = NULL;
    size_t at = 12345;
    int rc = form_parse(f, s, strlen(s), &err, &at);
    if (rc == 0) {
        /* success leaves the error outputs alone */
        assert_null(err);
        assert_int_equal(at, 12345);
    }
    return rc;
}

/* Asserts pair i is exactly (k, v), with vn bytes of value. */
static void pair_is(const form_t *f, size_t i, const char *k, const char *v, size_t vn)
{
    assert_true(i < f->n);
    slice_t key = form_key(f, i), val = form_val(f, i);
    assert_int_equal(key.n, strlen(k));
    assert_memory_equal(key.p, k, key.n);
    assert_int_equal(val.n, vn);
    if (vn)
        assert_memory_equal(val.p, v, vn);
}

static void test_simple_pairs(void **state)
{
    (void)state;
    form_t f = {0};
    assert_int_equal(parse(&f, "a=1&b=two&c="), 0);
    assert_int_equal(f.n, 3);
    pair_is(&f, 0, "a", "1", 1);
    pair_is(&f, 1, "b", "two", 3);
    pair_is(&f, 2, "c", "", 0);
    form_free(&f);
}

static void test_plus_and_percent(void **state)
{
    (void)state;
    form_t f = {0};
    assert_int_equal(parse(&f, "msg=x+y%21&k%2Bey=a%2bb&sp=%20+"), 0);
    assert_int_equal(f.n, 3);
    pair_is(&f, 0, "msg", "x y!", 4);
    pair_is(&f, 1, "k+ey", "a+b", 3);
    pair_is(&f, 2, "sp", "  ", 2);
    form_free(&f);

    /* upper and lower case hex, and every byte value */
    assert_int_equal(parse(&f, "u=%C3%A9&l=%c3%a9&m=%fF%Ff"), 0);
    pair_is(&f, 0, "u", "\xC3\xA9", 2);
    pair_is(&f, 1, "l", "\xC3\xA9", 2);
    pair_is(&f, 2, "m", "\xFF\xFF", 2);
    form_free(&f);

    /* encoded '&' and '=' are data, not separators */
    assert_int_equal(parse(&f, "q=a%26b%3Dc"), 0);
    assert_int_equal(f.n, 1);
    pair_is(&f, 0, "q", "a&b=c", 5);
    form_free(&f);
}

static void test_nul_bytes(void **state)
{
    (void)state;
    form_t f = {0};
    assert_int_equal(parse(&f, "a=x%00y&%00=z"), 0);
    assert_int_equal(f.n, 2);
    pair_is(&f, 0, "a", "x\0y", 3);
    slice_t k = form_key(&f, 1), v = form_val(&f, 1);
    assert_int_equal(k.n, 1);
    assert_int_equal(k.p[0], '\0');
    assert_int_equal(v.n, 1);
    assert_int_equal(v.p[0], 'z');
    form_free(&f);
}

static void bad(const char *s, size_t want_at)
{
    form_t f = {0};
    const char *err = NULL;
    size_t at = 999;
    assert_int_equal(form_parse(&f, s, strlen(s), &err, &at), -1);
    assert_non_null(err);
    assert_true(strlen(err) > 0);
    assert_int_equal(at, want_at);
    assert_int_equal(s[at], '%');
    form_free(&f);
}

static void test_bad_escapes(void **state)
{
    (void)state;
    bad("%zz", 0);
    bad("a=%zz", 2);
    bad("a=%4", 2);
    bad("a=%", 2);
    bad("a=1&b=x%", 7);
    bad("a=%4g", 2);
    bad("a=%g4", 2);
    bad("k%=v", 1);
    bad("ok=1&bad%2=v", 8);
    bad("a=%%41", 2);
    /* the error is in the second of two escapes */
    bad("a=%41%4", 5);
}

static void test_bad_escape_keeps_earlier_pairs(void **state)
{
    (void)state;
    form_t f = {0};
    const char *err = NULL;
    size_t at = 0;
    const char *s = "a=1&b=%zz&c=3";
    assert_int_equal(form_parse(&f, s, strlen(s), &err, &at), -1);
    assert_int_equal(at, 6);
    /* the failing pair is not half-added */
    assert_int_equal(f.n, 1);
    pair_is(&f, 0, "a", "1", 1);
    form_free(&f);
}

static void test_keys_without_value(void **state)
{
    (void)state;
    form_t f = {0};
    assert_int_equal(parse(&f, "flag&x=1&other"), 0);
    assert_int_equal(f.n, 3);
    pair_is(&f, 0, "flag", "", 0);
    pair_is(&f, 1, "x", "1", 1);
    pair_is(&f, 2, "other", "", 0);
    slice_t v = {"sentinel", 8};
    assert_int_equal(form_get(&f, "flag", &v), 1);
    assert_int_equal(v.n, 0);
    form_free(&f);

    /* "=v" is a pair with an empty key */
    assert_int_equal(parse(&f, "=v"), 0);
    assert_int_equal(f.n, 1);
    pair_is(&f, 0, "", "v", 1);
    form_free(&f);
}

static void test_empty_pairs_skipped(void **state)
{
    (void)state;
    form_t f = {0};
    assert_int_equal(parse(&f, "a=1&&b=2"), 0);
    assert_int_equal(f.n, 2);
    pair_is(&f, 0, "a", "1", 1);
    pair_is(&f, 1, "b", "2", 1);
    form_free(&f);

    assert_int_equal(parse(&f, "&&&a=1&&&"), 0);
    assert_int_equal(f.n, 1);
    pair_is(&f, 0, "a", "1", 1);
    form_free(&f);

    assert_int_equal(parse(&f, ""), 0);
    assert_int_equal(f.n, 0);
    assert_int_equal(parse(&f, "&"), 0);
    assert_int_equal(f.n, 0);
    form_free(&f);
}

static void test_equals_in_value(void **state)
{
    (void)state;
    form_t f = {0};
    assert_int_equal(parse(&f, "expr=a=b=c&x==&y=%3D"), 0);
    assert_int_equal(f.n, 3);
    pair_is(&f, 0, "expr", "a=b=c", 5);
    pair_is(&f, 1, "x", "=", 1);
    pair_is(&f, 2, "y", "=", 1);
    form_free(&f);
}

static void test_get_returns_last(void **state)
{
    (void)state;
    form_t f = {0};
    slice_t v;
    assert_int_equal(parse(&f, "k=first&other=o&k=second&k=third&kk=no"), 0);
    assert_int_equal(f.n, 5);
    assert_int_equal(form_get(&f, "k", &v), 1);
    assert_int_equal(v.n, 5);
    assert_memory_equal(v.p, "third", 5);
    assert_int_equal(form_get(&f, "other", &v), 1);
    assert_memory_equal(v.p, "o", 1);
    /* prefixes and extensions of a key are other keys */
    assert_int_equal(form_get(&f, "o", &v), 0);
    assert_int_equal(form_get(&f, "kkk", &v), 0);
    assert_int_equal(form_get(&f, "K", &v), 0);
    assert_int_equal(form_get(&f, "", &v), 0);
    form_free(&f);

    /* an empty form has nothing */
    form_t e = {0};
    assert_int_equal(form_get(&e, "k", &v), 0);
}

static void test_add(void **state)
{
    (void)state;
    form_t f = {0};
    assert_int_equal(parse(&f, "a=1"), 0);
    form_add(&f, "a", 1, "x+%20", 5); /* already decoded: kept as is */
    assert_int_equal(f.n, 2);
    slice_t v;
    assert_int_equal(form_get(&f, "a", &v), 1);
    assert_int_equal(v.n, 5);
    assert_memory_equal(v.p, "x+%20", 5);
    form_free(&f);
}

static void test_reset_reuse(void **state)
{
    (void)state;
    form_t f = {0};
    slice_t v;
    assert_int_equal(parse(&f, "a=1&b=2"), 0);
    assert_int_equal(f.n, 2);
    form_reset(&f);
    assert_int_equal(f.n, 0);
    assert_int_equal(f.bytes.len, 0);
    assert_int_equal(form_get(&f, "a", &v), 0);
    assert_int_equal(parse(&f, "c=3"), 0);
    assert_int_equal(f.n, 1);
    pair_is(&f, 0, "c", "3", 1);
    assert_int_equal(form_get(&f, "b", &v), 0);

    /* parsing without a reset appends */
    assert_int_equal(parse(&f, "c=4&d=5"), 0);
    assert_int_equal(f.n, 3);
    assert_int_equal(form_get(&f, "c", &v), 1);
    assert_memory_equal(v.p, "4", 1);

    /* many pairs: the pair array grows past its first allocation */
    form_reset(&f);
    char big[4000] = "";
    for (int i = 0; i < 200; i++) {
        char one[16];
        snprintf(one, sizeof one, "k%d=v%d&", i, i);
        strcat(big, one);
    }
    assert_int_equal(parse(&f, big), 0);
    assert_int_equal(f.n, 200);
    pair_is(&f, 0, "k0", "v0", 2);
    pair_is(&f, 199, "k199", "v199", 4);
    assert_int_equal(form_get(&f, "k123", &v), 1);
    assert_int_equal(v.n, 4);
    assert_memory_equal(v.p, "v123", 4);
    form_free(&f);
    assert_int_equal(f.n, 0);
    assert_null(f.pairs);
    form_free(&f); /* twice is fine */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_pairs),
        cmocka_unit_test(test_plus_and_percent),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_bad_escapes),
        cmocka_unit_test(test_bad_escape_keeps_earlier_pairs),
        cmocka_unit_test(test_keys_without_value),
        cmocka_unit_test(test_empty_pairs_skipped),
        cmocka_unit_test(test_equals_in_value),
        cmocka_unit_test(test_get_returns_last),
        cmocka_unit_test(test_add),
        cmocka_unit_test(test_reset_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
