/* test_token.c - words as word= and the block filters see them
 * (src/common/token.c): separators, ASCII folding, non-ASCII bytes inside
 * words, JSON escapes as separators, the hash of a folded word. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/token.h"

/* The words of s joined by '|'. */
static const char *words(const char *s, int json)
{
    static char out[256];
    size_t pos = 0, st, l, o = 0;
    out[0] = 0;
    while (token_next(s, strlen(s), &pos, json, &st, &l)) {
        if (o)
            out[o++] = '|';
        memcpy(out + o, s + st, l);
        o += l;
        out[o] = 0;
    }
    return out;
}

static void test_words(void **state)
{
    (void)state;
    assert_string_equal(words("Receiving block blk_-1608 src: /10.250.19.102:54106", 0),
                        "Receiving|block|blk_|1608|src|10|250|19|102|54106");
    assert_string_equal(words("  café naïve\tx_y ", 0), "café|naïve|x_y");
    assert_string_equal(words("", 0), "");
    assert_string_equal(words("--::", 0), "");
    /* JSON: escapes separate, keys are words */
    assert_string_equal(words("{\"note\":\"line one\\nline \\\"two\\\"\",\"k\":\"caf\\u00e9\"}", 1),
                        "note|line|one|line|two|k|caf");
    /* not JSON: a backslash is only a separator */
    assert_string_equal(words("a\\nb", 0), "a|nb");
    /* an escape cut at the end stops the walk */
    assert_string_equal(words("ab\\u00", 1), "ab");
}

static void test_fold_and_hash(void **state)
{
    (void)state;
    assert_true(token_eq("TimeOut", 7, "timeout", 7));
    assert_false(token_eq("timeout", 7, "timeouts", 8));
    assert_true(token_eq("CAFÉ", 5, "cafÉ", 5)); /* ASCII folds, É stays */
    assert_false(token_eq("café", 5, "cafÉ", 5));
    assert_true(token_hash("GET", 3) == token_hash("get", 3));
    assert_true(token_hash("get", 3) != token_hash("got", 3));
    assert_true(token_contains("Connection TIMEOUT to db", 24, 0, "timeout", 7));
    assert_false(token_contains("timeouts", 8, 0, "timeout", 7)); /* whole words only */
    assert_true(token_contains("{\"a\":\"x\\ny\"}", 12, 1, "y", 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_words),
        cmocka_unit_test(test_fold_and_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
