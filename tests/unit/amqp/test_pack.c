/* test_pack.c - packing records into AMQP messages (src/amqp/pack.c):
 * bodies are the API's JSON, batches hold one topic, and messages leave in
 * the order of their first record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "amqp/pack.h"

static record_t rec(uint64_t seq, const char *topic, const char *msg)
{
    record_t r;
    memset(&r, 0, sizeof r);
    r.seq = seq;
    r.ts = (int64_t)seq * 1000000000LL + 5;
    r.level = 6;
    r.topic = slice_cstr(topic);
    r.app = SLICE_LIT("app");
    r.msg = slice_cstr(msg);
    return r;
}

static void json_of(const record_t *r, buf_t *b)
{
    buf_reset(b);
    record_to_json(b, r);
}

static void test_one_record_per_message(void **state)
{
    (void)state;
    pack_t p;
    buf_t want = BUF_INIT;
    pack_init(&p, 1);
    record_t r = rec(7, "web.info", "hello \"there\"");
    assert_true(pack_needs_new(&p, r.topic));
    assert_int_equal(pack_add(&p, &r), 0);
    pack_msg_t *m = pack_next(&p);
    assert_non_null(m);
    json_of(&r, &want);
    assert_int_equal(m->body.len, want.len);
    assert_memory_equal(m->body.data, want.data, want.len); /* no newline: one JSON */
    assert_int_equal(m->first, 7);
    assert_int_equal(m->last, 7);
    assert_int_equal(m->count, 1);
    assert_int_equal(m->topic_len, 8);
    assert_memory_equal(m->topic, "web.info", 8);
    char id[80];
    size_t n = pack_msg_id(m, "0123456789abcdef0123456789abcdef", id, sizeof id);
    assert_string_equal(id, "0123456789abcdef0123456789abcdef:7");
    assert_int_equal(n, strlen(id));
    pack_pop(&p);
    assert_null(pack_next(&p));
    assert_int_equal(pack_open(&p), 0);
    pack_free(&p);
    buf_free(&want);
}

static void test_batches_by_topic_in_order(void **state)
{
    (void)state;
    pack_t p;
    buf_t want = BUF_INIT, one = BUF_INIT;
    pack_init(&p, 3);
    record_t a1 = rec(1, "a", "1"), b2 = rec(2, "b", "2"), a3 = rec(3, "a", "3"),
             b4 = rec(4, "b", "4"), b5 = rec(5, "b", "5");
    pack_add(&p, &a1);
    pack_add(&p, &b2);
    pack_add(&p, &a3);
    assert_null(pack_next(&p)); /* nothing is full */
    assert_false(pack_needs_new(&p, SLICE_LIT("a")));
    assert_true(pack_needs_new(&p, SLICE_LIT("c")));
    pack_add(&p, &b4);
    assert_null(pack_next(&p));
    /* b fills up: a, older, must go before it */
    pack_add(&p, &b5);
    pack_msg_t *m = pack_next(&p);
    assert_non_null(m);
    assert_memory_equal(m->topic, "a", 1);
    assert_int_equal(m->count, 2);
    assert_int_equal(m->first, 1);
    assert_int_equal(m->last, 3);
    json_of(&a1, &one);
    buf_reset(&want);
    buf_append(&want, one.data, one.len);
    buf_putc(&want, '\n');
    json_of(&a3, &one);
    buf_append(&want, one.data, one.len);
    buf_putc(&want, '\n');
    assert_int_equal(m->body.len, want.len);
    assert_memory_equal(m->body.data, want.data, want.len);
    char id[80];
    pack_msg_id(m, "n", id, sizeof id);
    assert_string_equal(id, "n:1-3");
    pack_pop(&p);
    m = pack_next(&p);
    assert_non_null(m);
    assert_memory_equal(m->topic, "b", 1);
    assert_int_equal(m->count, 3);
    assert_int_equal(m->first, 2);
    assert_int_equal(m->last, 5);
    pack_pop(&p);
    assert_null(pack_next(&p));
    assert_int_equal(pack_open(&p), 0);
    pack_free(&p);
    buf_free(&want);
    buf_free(&one);
}

static void test_flush_and_reuse(void **state)
{
    (void)state;
    pack_t p;
    pack_init(&p, 100);
    uint64_t seq = 0;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 10; i++) {
            char topic[8];
            snprintf(topic, sizeof topic, "t%d", i % 4);
            record_t r = rec(++seq, topic, "x");
            assert_int_equal(pack_add(&p, &r), 0);
        }
        assert_int_equal(pack_open(&p), 4);
        pack_flush(&p);
        uint64_t prev = 0;
        size_t total = 0;
        pack_msg_t *m;
        while ((m = pack_next(&p))) {
            assert_true(m->first > prev); /* in order of the first record */
            prev = m->first;
            total += m->count;
            pack_pop(&p);
        }
        assert_int_equal(total, 10);
    }
    pack_free(&p);
}

static void test_more_topics_than_open_messages(void **state)
{
    (void)state;
    pack_t p;
    pack_init(&p, 10);
    char topic[16];
    for (int i = 0; i < PACK_OPEN_MAX; i++) {
        snprintf(topic, sizeof topic, "t%d", i);
        record_t r = rec((uint64_t)i + 1, topic, "x");
        assert_int_equal(pack_add(&p, &r), 0);
    }
    record_t r = rec(100, "new", "x");
    /* no slot left until the oldest goes */
    assert_int_equal(pack_add(&p, &r), -1);
    pack_make_room(&p, r.topic);
    pack_msg_t *m = pack_next(&p);
    assert_non_null(m);
    assert_memory_equal(m->topic, "t0", 2);
    assert_int_equal(m->topic_len, 2);
    pack_pop(&p);
    assert_null(pack_next(&p)); /* only the oldest */
    assert_int_equal(pack_add(&p, &r), 0);
    assert_int_equal(pack_open(&p), PACK_OPEN_MAX);
    pack_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_record_per_message),
        cmocka_unit_test(test_batches_by_topic_in_order),
        cmocka_unit_test(test_flush_and_reuse),
        cmocka_unit_test(test_more_topics_than_open_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
