/* test_jfield.c - finding a field's values in a record's fields JSON
 * (src/route/jfield.c): flat and nested names, arrays and objects as text,
 * repeated and escaped keys, malformed text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "route/jfield.h"

typedef struct vals {
    char got[8][64];
    size_t n;
} vals_t;

static int keep_val(void *arg, const jfield_val_t *v)
{
    vals_t *vs = arg;
    assert_true(vs->n < 8 && v->n + 3 < 64);
    snprintf(vs->got[vs->n++], 64, "%s%.*s", v->is_str ? "s:" : "", (int)v->n, v->p);
    return 0;
}

static vals_t lookup(const char *json, const char *name)
{
    vals_t vs;
    memset(&vs, 0, sizeof vs);
    jfield_each(json, strlen(json), name, strlen(name), keep_val, &vs);
    return vs;
}

static void test_jfield(void **state)
{
    (void)state;
    vals_t v =
        lookup("{\"status\":500,\"user.id\":42,\"ok\":true,\"n\":null,\"m\":\"x\"}", "status");
    assert_int_equal(v.n, 1);
    assert_string_equal(v.got[0], "500");
    v = lookup("{\"status\":500,\"user.id\":42,\"ok\":true}", "user.id");
    assert_int_equal(v.n, 1);
    assert_string_equal(v.got[0], "42");
    v = lookup("{\"status\":500,\"ok\":true}", "ok");
    assert_string_equal(v.got[0], "true");
    v = lookup("{\"a\":\"x\\\"y\"}", "a");
    assert_string_equal(v.got[0], "s:x\\\"y"); /* the body as stored, escapes and all */
    /* nested objects are stepped into; the flat spelling is found too */
    v = lookup("{\"user\":{\"id\":7,\"name\":\"bob\"},\"user.id\":8}", "user.id");
    assert_int_equal(v.n, 2);
    assert_string_equal(v.got[0], "7");
    assert_string_equal(v.got[1], "8");
    v = lookup("{\"a\":{\"b\":{\"c\":1}},\"a.b\":{\"c\":2},\"a.b.c\":3}", "a.b.c");
    assert_int_equal(v.n, 3);
    /* a whole array or object, as its text */
    v = lookup("{\"tags\":[\"a\",{\"x\":\"]}\"}],\"z\":1}", "tags");
    assert_int_equal(v.n, 1);
    assert_string_equal(v.got[0], "[\"a\",{\"x\":\"]}\"}]");
    /* names inside values and nested keys are not keys */
    v = lookup("{\"k\":\"status\",\"o\":{\"status\":1},\"l\":[\"status\",2]}", "status");
    assert_int_equal(v.n, 0);
    /* repeated keys: every one, in order */
    v = lookup("{\"k\":1,\"k\":\"two\"}", "k");
    assert_int_equal(v.n, 2);
    assert_string_equal(v.got[1], "s:two");
    /* escaped keys compare decoded */
    v = lookup("{\"k\\u00e9y\":1,\"a\\\"b\":2}", "k\xC3\xA9y");
    assert_int_equal(v.n, 1);
    v = lookup("{\"a\\\"b\":2}", "a\"b");
    assert_int_equal(v.n, 1);
    /* whitespace is allowed */
    v = lookup(" { \"a\" : \"b\" , \"c\" : 1 } ", "c");
    assert_int_equal(v.n, 1);
    assert_string_equal(v.got[0], "1");
    /* malformed text ends the walk, keeping what came before */
    v = lookup("{\"a\":1,\"a\":", "a");
    assert_int_equal(v.n, 1);
    v = lookup("{\"a\":1 \"a\":2}", "a");
    assert_int_equal(v.n, 1);
    v = lookup("[\"a\",1]", "a");
    assert_int_equal(v.n, 0);
    v = lookup("", "a");
    assert_int_equal(v.n, 0);
    v = lookup("{\"a\":\"open", "a");
    assert_int_equal(v.n, 0);
    v = lookup("{}", "a");
    assert_int_equal(v.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jfield),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
