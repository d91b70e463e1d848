/* test_tail_proto.c - reading tail messages and the reconnect backoff
 * (src/cli/tail_proto.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/tail_proto.h"

static tail_proto_msg_t m;

static int parse(const char *json)
{
    return tail_proto_parse(&m, json, strlen(json));
}

static const char *item(const char *json, size_t i)
{
    static char out[4096];
    slice_t s = tail_proto_item_text(&m, json, i);
    assert_true(s.n < sizeof out);
    memcpy(out, s.p, s.n);
    out[s.n] = '\0';
    return out;
}

static int setup(void **state)
{
    (void)state;
    tail_proto_init(&m);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tail_proto_free(&m);
    return 0;
}

static void test_records_keep_their_text(void **state)
{
    (void)state;
    /* spaces, nested values with braces in strings, a seq in the fields
     * that is not the record's */
    const char *json = " [ {\"seq\":41,\"msg\":\"a } b\",\"fields\":{\"seq\":7,\"x\":[1,{}]}} ,\n"
                       "{\"msg\":\"\\u00e9\\\"}\",\"seq\":42}\t,{}]\n";
    assert_int_equal(parse(json), 0);
    assert_int_equal(m.kind, TAIL_PROTO_BATCH);
    assert_int_equal(m.nitems, 3);
    assert_string_equal(item(json, 0),
                        "{\"seq\":41,\"msg\":\"a } b\",\"fields\":{\"seq\":7,\"x\":[1,{}]}}");
    assert_int_equal(m.items[0].seq, 41);
    assert_false(m.items[0].is_line);
    assert_string_equal(item(json, 1), "{\"msg\":\"\\u00e9\\\"}\",\"seq\":42}");
    assert_int_equal(m.items[1].seq, 42);
    assert_string_equal(item(json, 2), "{}");
    assert_int_equal(m.items[2].seq, 0);

    assert_int_equal(parse("[]"), 0);
    assert_int_equal(m.kind, TAIL_PROTO_BATCH);
    assert_int_equal(m.nitems, 0);
}

static void test_seq_values(void **state)
{
    (void)state;
    assert_int_equal(parse("[{\"seq\":18446744073709551615}]"), 0);
    assert_true(m.items[0].seq == UINT64_MAX);
    /* not a plain non-negative integer: as if absent */
    assert_int_equal(parse("[{\"seq\":18446744073709551616},{\"seq\":-1},{\"seq\":1.5},"
                           "{\"seq\":\"3\"},{\"seq\":null}]"),
                     0);
    assert_int_equal(m.nitems, 5);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(m.items[i].seq, 0);
}

static void test_lines(void **state)
{
    (void)state;
    const char *json = "[\"one\",\"\",\"tab\\there \\u00e9\",\"nul\\u0000x\"]";
    assert_int_equal(parse(json), 0);
    assert_int_equal(m.kind, TAIL_PROTO_BATCH);
    assert_int_equal(m.nitems, 4);
    for (size_t i = 0; i < 4; i++)
        assert_true(m.items[i].is_line);
    assert_string_equal(item(json, 0), "one");
    assert_string_equal(item(json, 1), "");
    assert_string_equal(item(json, 2), "tab\there \xc3\xa9");
    slice_t s = tail_proto_item_text(&m, json, 3);
    assert_int_equal(s.n, 5);
    assert_memory_equal(s.p, "nul\0x", 5);

    /* an array of nothing but an empty line: no text was stored */
    assert_int_equal(parse("[\"\"]"), 0);
    assert_int_equal(m.nitems, 1);
    assert_int_equal(tail_proto_item_text(&m, "[\"\"]", 0).n, 0);
    assert_non_null(tail_proto_item_text(&m, "[\"\"]", 0).p);
}

static void test_controls(void **state)
{
    (void)state;
    assert_int_equal(parse("{\"type\":\"status\",\"lag\":1234,\"source\":\"disk\"}"), 0);
    assert_int_equal(m.kind, TAIL_PROTO_STATUS);
    assert_int_equal(m.lag, 1234);
    assert_true(slice_eq(m.source, "disk"));
    assert_null(m.error.p);

    assert_int_equal(parse("{\"source\":\"live\",\"lag\":0,\"type\":\"status\"}"), 0);
    assert_int_equal(m.kind, TAIL_PROTO_STATUS);
    assert_int_equal(m.lag, 0);
    assert_true(slice_eq(m.source, "live"));

    assert_int_equal(parse("{\"type\":\"gap\",\"from\":5,\"to\":900}"), 0);
    assert_int_equal(m.kind, TAIL_PROTO_GAP);
    assert_int_equal(m.from, 5);
    assert_int_equal(m.to, 900);

    assert_int_equal(parse("{\"type\":\"error\",\"error\":\"bad n: \\\"x\\\"\"}"), 0);
    assert_int_equal(m.kind, TAIL_PROTO_ERROR);
    assert_true(slice_eq(m.error, "bad n: \"x\""));

    assert_int_equal(parse("{\"type\":\"rotated\"}"), 0);
    assert_int_equal(m.kind, TAIL_PROTO_ROTATED);
    assert_int_equal(parse("{\"type\":\"truncated\"}"), 0);
    assert_int_equal(m.kind, TAIL_PROTO_TRUNCATED);

    assert_int_equal(parse("{\"type\":\"hint\",\"hint\":\"topic 'web' has no wildcard: did "
                           "you mean 'web.#'?\"}"),
                     0);
    assert_int_equal(m.kind, TAIL_PROTO_HINT);
    assert_true(slice_eq(m.hint, "topic 'web' has no wildcard: did you mean 'web.#'?"));
    assert_null(m.error.p);
    assert_int_equal(parse("{\"type\":\"hint\"}"), 0); /* no text: still a hint */
    assert_int_equal(m.kind, TAIL_PROTO_HINT);
    assert_null(m.hint.p);

    /* unknown or missing types, nested look-alikes: ignored, not errors */
    assert_int_equal(parse("{\"type\":\"hello\",\"lag\":3}"), 0);
    assert_int_equal(m.kind, TAIL_PROTO_OTHER);
    assert_int_equal(parse("{\"x\":{\"type\":\"error\",\"error\":\"no\"}}"), 0);
    assert_int_equal(m.kind, TAIL_PROTO_OTHER);
    assert_null(m.error.p);
    assert_int_equal(parse("{\"type\":[\"error\"]}"), 0);
    assert_int_equal(m.kind, TAIL_PROTO_OTHER);
    /* an empty error string is still there */
    assert_int_equal(parse("{\"type\":\"error\",\"error\":\"\"}"), 0);
    assert_int_equal(m.kind, TAIL_PROTO_ERROR);
    assert_non_null(m.error.p);
    assert_int_equal(m.error.n, 0);
}

static void test_not_messages(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",          "   ",         "42",         "\"text\"",   "null",      "[1]",
        "[[\"a\"]]", "[true]",      "[{}",        "{\"type\":", "[{}] [{}]", "[{}]x",
        "[\"\\x\"]", "{\"a\":1}{}", "[\"\xff\"]", "[null]",     "{} // hi",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        /* what a failed parse leaves must not look like a message */
        assert_int_equal(parse("[{\"seq\":1}]"), 0);
        assert_int_equal(parse(bad[i]), -1);
        assert_int_equal(m.kind, TAIL_PROTO_BATCH);
        assert_int_equal(m.nitems, 0);
    }
}

static void test_reuse_resets(void **state)
{
    (void)state;
    assert_int_equal(parse("{\"type\":\"gap\",\"from\":1,\"to\":2}"), 0);
    assert_int_equal(parse("{\"type\":\"status\",\"source\":\"live\"}"), 0);
    assert_int_equal(m.from, 0);
    assert_int_equal(m.to, 0);
    assert_int_equal(m.lag, 0);
    assert_int_equal(parse("[\"a\",\"b\"]"), 0);
    assert_null(m.source.p);
    assert_int_equal(m.nitems, 2);
}

static void test_large_batch(void **state)
{
    (void)state;
    /* a message of many records, as a big backlog sends */
    buf_t b = BUF_INIT;
    buf_putc(&b, '[');
    for (int i = 1; i <= 5000; i++) {
        if (i > 1)
            buf_putc(&b, ',');
        buf_printf(&b, "{\"seq\":%d,\"msg\":\"record %d %0100d\"}", i, i, 0);
    }
    buf_putc(&b, ']');
    assert_int_equal(tail_proto_parse(&m, b.data, b.len), 0);
    assert_int_equal(m.nitems, 5000);
    for (size_t i = 0; i < 5000; i++) {
        slice_t s = tail_proto_item_text(&m, b.data, i);
        assert_int_equal(m.items[i].seq, i + 1);
        assert_int_equal(s.p[0], '{');
        assert_int_equal(s.p[s.n - 1], '}');
        char head[32];
        int n = snprintf(head, sizeof head, "{\"seq\":%zu,", i + 1);
        assert_memory_equal(s.p, head, (size_t)n);
    }
    buf_free(&b);
}

static void test_backoff(void **state)
{
    (void)state;
    static const uint32_t steps[] = {100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000};
    for (unsigned a = 0; a < sizeof steps / sizeof steps[0]; a++) {
        uint32_t d = steps[a];
        assert_int_equal(tail_proto_backoff_ms(a, 0), d);
        uint32_t lo = d, hi = 0;
        for (uint32_t r = 0; r < 20000; r += 7) {
            uint32_t v = tail_proto_backoff_ms(a, r * 2654435761u);
            assert_true(v >= d / 2 && v <= d);
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        /* the jitter really spreads the waits */
        assert_true(hi - lo >= d / 4);
    }
    assert_int_equal(tail_proto_backoff_ms(1000, 0), TAIL_BACKOFF_MAX_MS);
    assert_true(tail_proto_backoff_ms(UINT32_MAX, UINT32_MAX) <= TAIL_BACKOFF_MAX_MS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records_keep_their_text),
        cmocka_unit_test(test_seq_values),
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_controls),
        cmocka_unit_test(test_not_messages),
        cmocka_unit_test(test_reuse_resets),
        cmocka_unit_test(test_large_batch),
        cmocka_unit_test(test_backoff),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
