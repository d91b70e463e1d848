/* test_topic.c - AMQP topic pattern matching (src/route/topic.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "route/topic.h"

static int m(const char *pattern, const char *topic)
{
    return topic_match(pattern, strlen(pattern), topic, strlen(topic));
}

static void test_literal(void **state)
{
    (void)state;
    assert_true(m("kern.crit", "kern.crit"));
    assert_false(m("kern.crit", "kern.err"));
    assert_false(m("kern.crit", "kern.crit.x"));
    assert_false(m("kern.crit", "kern"));
    assert_false(m("kern", "kernel"));
    assert_false(m("web", "we"));
}

static void test_star_is_one_word(void **state)
{
    (void)state;
    assert_true(m("kern.*", "kern.crit"));
    assert_false(m("kern.*", "kern"));
    assert_false(m("kern.*", "kern.crit.x"));
    assert_true(m("*.crit", "auth.crit"));
    assert_false(m("*.crit", "crit"));
    assert_false(m("*.crit", "a.b.crit"));
    assert_true(m("*.*", "a.b"));
    assert_false(m("*", ""));
    assert_true(m("*", "anything"));
    assert_true(m("a.*.c", "a.b.c"));
    assert_false(m("a.*.c", "a.c"));
    /* '*' inside a word is a literal character */
    assert_false(m("web*", "webserver"));
    assert_true(m("web*", "web*"));
}

static void test_hash_is_zero_or_more(void **state)
{
    (void)state;
    assert_true(m("#", ""));
    assert_true(m("#", "a"));
    assert_true(m("#", "a.b.c"));
    assert_true(m("web.#", "web"));
    assert_true(m("web.#", "web.api"));
    assert_true(m("web.#", "web.api.error"));
    assert_false(m("web.#", "webx.api"));
    assert_false(m("web.#", "api.web"));
    assert_true(m("#.error", "error"));
    assert_true(m("#.error", "web.api.error"));
    assert_false(m("#.error", "web.error.x"));
    assert_true(m("a.#.z", "a.z"));
    assert_true(m("a.#.z", "a.b.c.z"));
    assert_false(m("a.#.z", "a.b.c"));
}

static void test_combined(void **state)
{
    (void)state;
    assert_true(m("#.*", "a"));
    assert_false(m("#.*", ""));
    assert_true(m("*.#", "a.b.c"));
    assert_false(m("*.#.*", "a"));
    assert_true(m("*.#.*", "a.b"));
    assert_true(m("#.b.#", "a.b.c"));
    assert_true(m("#.b.#", "b"));
    assert_false(m("#.b.#", "a.c"));
    assert_true(m("#.#", "x.y"));
    assert_true(m("a.#.#.b", "a.b"));
    /* backtracking: the later "#" must absorb the extra words */
    assert_true(m("#.a.#.b", "x.a.y.a.z.b"));
    assert_false(m("#.a.#.b", "x.a.y.a.z.c"));
}

static void test_empty_words(void **state)
{
    (void)state;
    /* a topic with an empty word still matches word for word */
    assert_true(m("a.*.b", "a..b"));
    assert_true(m("a.#", "a."));
    assert_false(m("a", "a."));
}

static void test_many_hashes_is_fast(void **state)
{
    (void)state;
    /* the naive recursive matcher is exponential here; this one is not */
    char pat[512] = "", top[512] = "";
    for (int i = 0; i < 40; i++)
        strcat(pat, "#.");
    strcat(pat, "z");
    for (int i = 0; i < 100; i++)
        strcat(top, "a.");
    strcat(top, "y");
    assert_false(m(pat, top));
}

static void test_pattern_check(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_int_equal(topic_pattern_check("kern.*", 6, &why), 0);
    assert_int_equal(topic_pattern_check("#", 1, &why), 0);
    assert_int_equal(topic_pattern_check("", 0, &why), -1);
    assert_non_null(why);
    assert_int_equal(topic_pattern_check("a..b", 4, &why), -1);
    assert_int_equal(topic_pattern_check("a.b*", 4, &why), -1);
    assert_int_equal(topic_pattern_check("a.#x", 4, &why), -1);
    assert_int_equal(topic_pattern_check(".a", 2, &why), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal),        cmocka_unit_test(test_star_is_one_word),
        cmocka_unit_test(test_hash_is_zero_or_more), cmocka_unit_test(test_combined),
        cmocka_unit_test(test_empty_words),    cmocka_unit_test(test_many_hashes_is_fast),
        cmocka_unit_test(test_pattern_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
