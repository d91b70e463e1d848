/* test_topic.c - AMQP topic pattern matching (src/route/topic.c), checked
 * by hand and against a plain dynamic-programming reference
 * (tests/fuzz/topic_ref.h) on random and worst-case patterns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "route/topic.h"

#include "fuzz/topic_ref.h"

static int ref_match(const char *pattern, const char *topic)
{
    return topic_ref_match(pattern, strlen(pattern), topic, strlen(topic));
}

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

static void test_pattern_limits(void **state)
{
    (void)state;
    const char *why = NULL;
    char p[600] = "";
    /* 32 words pass, 33 do not, whatever they are */
    for (int i = 0; i < 32; i++)
        strcat(p, i ? ".#" : "#");
    assert_int_equal(topic_pattern_check(p, strlen(p), &why), 0);
    strcat(p, ".a");
    assert_int_equal(topic_pattern_check(p, strlen(p), &why), -1);
    assert_non_null(strstr(why, "32 words"));
    /* 255 bytes pass, 256 do not */
    memset(p, 'x', 256);
    p[256] = '\0';
    assert_int_equal(topic_pattern_check(p, 255, &why), 0);
    assert_int_equal(topic_pattern_check(p, 256, &why), -1);
    assert_non_null(strstr(why, "255 bytes"));
    /* a checked pattern always compiles */
    topic_pat_t tp;
    assert_int_equal(topic_compile(&tp, p, 255, &why), 0);
    assert_int_equal(topic_compile(&tp, p, 256, &why), -1);
    /* compiling merges runs of "#": 41 words of them and more are 2 */
    strcpy(p, "");
    for (int i = 0; i < 100; i++)
        strcat(p, "#.");
    strcat(p, "z");
    assert_int_equal(topic_compile(&tp, p, strlen(p), &why), 0);
    assert_int_equal(tp.words, 2);
    /* 33 words that do not merge are refused, and such a pattern matches nothing */
    strcpy(p, "a");
    for (int i = 0; i < 32; i++)
        strcat(p, ".a");
    assert_int_equal(topic_compile(&tp, p, strlen(p), &why), -1);
    assert_false(m(p, p));
}

/* A tiny deterministic generator: the same cases on every run. */
static uint32_t rng = 12345;
static uint32_t next_rand(void)
{
    rng = rng * 1103515245u + 12345u;
    return rng >> 8;
}

static void random_words(char *out, const char *const *alphabet, size_t nalpha, size_t maxw)
{
    size_t n = next_rand() % (maxw + 1);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(out, ".");
        strcat(out, alphabet[next_rand() % nalpha]);
    }
}

static void test_random_against_reference(void **state)
{
    (void)state;
    static const char *const pw[] = {"#", "*", "a", "b", "ab", "#", "*", "a"};
    static const char *const tw[] = {"a", "b", "ab", "", "*", "#", "a", "b"};
    char pat[256], top[256];
    for (int k = 0; k < 100000; k++) {
        random_words(pat, pw, 8, 9);
        random_words(top, tw, 8, 12);
        int want = ref_match(pat, top), got = m(pat, top);
        if (want != got)
            fail_msg("pattern \"%s\" topic \"%s\": %d, reference %d", pat, top, got, want);
    }
}

/* 16 patterns at once answer as their OR would. */
static void test_match_any_is_or(void **state)
{
    (void)state;
    static const char *const pw[] = {"#", "*", "a", "b", "c"};
    static const char *const tw[] = {"a", "b", "c"};
    char texts[16][256], top[256];
    topic_pat_t pats[16];
    slice_t sl[16];
    const char *why;
    for (int k = 0; k < 5000; k++) {
        size_t n = next_rand() % 17;
        int want = 0;
        random_words(top, tw, 3, 8);
        for (size_t i = 0; i < n; i++) {
            do
                random_words(texts[i], pw, 5, 6);
            while (!texts[i][0]);
            assert_int_equal(topic_compile(&pats[i], texts[i], strlen(texts[i]), &why), 0);
            sl[i] = slice_make(texts[i], strlen(texts[i]));
            want |= ref_match(texts[i], top);
        }
        assert_int_equal(topic_match_any(pats, sl, n, top, strlen(top)), want);
    }
}

/* Legal worst cases: 32 words of "#", "*" and one literal against topics of
 * 128 words, the longest a record keeps (255 bytes). */
static void test_worst_cases_against_reference(void **state)
{
    (void)state;
    char top[300], alt[300], pat[300];
    strcpy(top, "a");
    for (int i = 1; i < 128; i++)
        strcat(top, ".a");
    strcpy(alt, top);
    alt[254] = 'b'; /* ends in "b" */
    const char *shapes[][2] = {
        {"#", "a"}, /* #.a.a.a...: one "#" then literals */
        {"#", "#"}, {"a", "#"}, {"*", "#"}, {"#", "*"}, {"*", "a"},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (int last = 0; last < 3; last++) {
            /* 31 words alternating the shape's two, then the last */
            strcpy(pat, shapes[s][0]);
            for (int i = 1; i < 31; i++) {
                strcat(pat, ".");
                strcat(pat, shapes[s][i % 2]);
            }
            strcat(pat, last == 0 ? ".b" : last == 1 ? ".a" : ".#");
            const char *why;
            assert_int_equal(topic_pattern_check(pat, strlen(pat), &why), 0);
            const char *topics[] = {top, alt, top + 128, "a.b", ""};
            for (size_t t = 0; t < 5; t++) {
                int want = ref_match(pat, topics[t]);
                if (m(pat, topics[t]) != want)
                    fail_msg("pattern \"%s\" topic #%zu: reference %d", pat, t, want);
            }
        }
    }
    /* "#.a.#.a....b" with every literal distinct: many live states at once */
    strcpy(pat, "#");
    for (int i = 0; i < 15; i++) {
        char w[8];
        snprintf(w, sizeof w, ".w%d.#", i);
        strcat(pat, w);
    }
    strcat(pat, ".z");
    char t2[400] = "";
    for (int i = 0; i < 15; i++) {
        char w[16];
        snprintf(w, sizeof w, "%sw%d.x", i ? "." : "", i);
        strcat(t2, w);
    }
    strcat(t2, ".z");
    assert_true(ref_match(pat, t2));
    assert_true(m(pat, t2));
    t2[strlen(t2) - 1] = 'y';
    assert_false(m(pat, t2));
}

/* Topics longer than one pass of the matcher (128 words): the states carry
 * over from pass to pass. */
static void test_topics_longer_than_a_pass(void **state)
{
    (void)state;
    static char top[2000];
    const char *pats[] = {"#.b.#",     "#.b",       "b.#",   "*.#.b.*",
                          "#.a.b.a.#", "#.b.a.a.a", "a.#.c", "#.c"};
    for (int len = 120; len <= 400; len += 70) {
        for (int at = 0; at < len; at += len / 5) {
            top[0] = '\0';
            for (int i = 0; i < len; i++)
                strcat(top, i == at ? (i ? ".b" : "b") : (i ? ".a" : "a"));
            for (size_t k = 0; k < sizeof pats / sizeof pats[0]; k++)
                if (m(pats[k], top) != ref_match(pats[k], top))
                    fail_msg("pattern \"%s\", %d words, b at %d", pats[k], len, at);
        }
    }
}

/* A compiled pattern copied next to a copy of its text still works: it keeps
 * offsets, not pointers (filters are copied by value). */
static void test_compiled_copy_follows_text(void **state)
{
    (void)state;
    char a[32] = "web.*.error.#", b[32];
    topic_pat_t p, q;
    const char *why;
    assert_int_equal(topic_compile(&p, a, strlen(a), &why), 0);
    memcpy(&q, &p, sizeof p);
    strcpy(b, a);
    memset(a, 'x', strlen(a)); /* the original text is gone */
    slice_t sb = slice_make(b, strlen(b));
    assert_true(topic_match_any(&q, &sb, 1, "web.api.error", 13));
    assert_true(topic_match_any(&q, &sb, 1, "web.api.error.db.slow", 21));
    assert_false(topic_match_any(&q, &sb, 1, "web.api.warn", 12));
}

/* 32 distinct literals, some sharing hash slots: each found at its place. */
static void test_many_literals(void **state)
{
    (void)state;
    char pat[300] = "", top[300] = "";
    for (int i = 0; i < 32; i++) {
        char w[8];
        snprintf(w, sizeof w, "%s%c%d", i ? "." : "", 'a' + i % 26, i / 26);
        strcat(pat, w);
    }
    strcpy(top, pat);
    assert_true(m(pat, top));
    for (size_t i = 0; top[i]; i++) {
        if (top[i] == '.')
            continue;
        char c = top[i];
        top[i] = c == 'z' ? 'y' : 'z';
        assert_int_equal(m(pat, top), ref_match(pat, top));
        assert_false(m(pat, top));
        top[i] = c;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal),
        cmocka_unit_test(test_star_is_one_word),
        cmocka_unit_test(test_hash_is_zero_or_more),
        cmocka_unit_test(test_combined),
        cmocka_unit_test(test_empty_words),
        cmocka_unit_test(test_many_hashes_is_fast),
        cmocka_unit_test(test_pattern_check),
        cmocka_unit_test(test_pattern_limits),
        cmocka_unit_test(test_random_against_reference),
        cmocka_unit_test(test_match_any_is_or),
        cmocka_unit_test(test_worst_cases_against_reference),
        cmocka_unit_test(test_topics_longer_than_a_pass),
        cmocka_unit_test(test_compiled_copy_follows_text),
        cmocka_unit_test(test_many_literals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
