/* test_confirm.c - the publisher's confirm window (src/amqp/confirm.c):
 * confirmed moves only over a contiguous prefix of acked messages, single
 * and multiple acks in any order, skipped records, resets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "amqp/confirm.h"

static void test_in_order(void **state)
{
    (void)state;
    confirm_t w;
    confirm_init(&w, 4, 10);
    assert_int_equal(w.confirmed, 10);
    assert_int_equal(confirm_push(&w, 11), 1);
    assert_int_equal(confirm_push(&w, 12), 2);
    confirm_scanned(&w, 12);
    assert_int_equal(w.confirmed, 10); /* nothing acked yet */
    assert_int_equal(confirm_ack(&w, 1, 0), 1);
    assert_int_equal(w.confirmed, 11);
    assert_int_equal(confirm_ack(&w, 2, 0), 1);
    assert_int_equal(w.confirmed, 12);
    assert_int_equal(confirm_inflight(&w), 0);
    confirm_free(&w);
}

static void test_out_of_order_waits_for_the_gap(void **state)
{
    (void)state;
    confirm_t w;
    confirm_init(&w, 8, 0);
    /* three messages: records 1-3, 4-6 (with 5 skipped), 7 */
    confirm_push(&w, 1);
    confirm_push(&w, 4);
    confirm_push(&w, 7);
    confirm_scanned(&w, 9); /* 8 and 9 matched no pattern */
    assert_int_equal(confirm_ack(&w, 3, 0), 1);
    assert_int_equal(w.confirmed, 0);
    assert_int_equal(confirm_ack(&w, 2, 0), 1);
    assert_int_equal(w.confirmed, 0); /* tag 1 still out */
    assert_int_equal(confirm_ack(&w, 1, 0), 1);
    /* all three acked: everything read is confirmed, the skipped ones too */
    assert_int_equal(w.confirmed, 9);
    assert_int_equal(confirm_room(&w), 8);
    confirm_free(&w);
}

static void test_multiple(void **state)
{
    (void)state;
    confirm_t w;
    confirm_init(&w, 8, 0);
    for (uint64_t s = 1; s <= 5; s++)
        confirm_push(&w, s * 10);
    confirm_scanned(&w, 55);
    assert_int_equal(confirm_ack(&w, 2, 0), 1);
    /* multiple up to 4: 1, 3 and 4 are new */
    assert_int_equal(confirm_ack(&w, 4, 1), 3);
    assert_int_equal(w.confirmed, 49); /* message 5 starts at 50 */
    assert_int_equal(confirm_ack(&w, 5, 1), 1);
    assert_int_equal(w.confirmed, 55);
    confirm_free(&w);
}

static void test_refused_acks(void **state)
{
    (void)state;
    confirm_t w;
    confirm_init(&w, 4, 0);
    confirm_push(&w, 1);
    confirm_push(&w, 2);
    confirm_scanned(&w, 2);
    assert_int_equal(confirm_ack(&w, 3, 0), -1); /* never sent */
    assert_int_equal(confirm_ack(&w, 0, 1), -1);
    assert_int_equal(confirm_ack(&w, 2, 0), 1);
    assert_int_equal(confirm_ack(&w, 2, 0), -1); /* twice */
    assert_int_equal(w.confirmed, 0);
    assert_int_equal(confirm_ack(&w, 1, 0), 1);
    assert_int_equal(confirm_ack(&w, 1, 0), -1); /* dropped already */
    assert_int_equal(w.confirmed, 2);
    confirm_free(&w);
}

static void test_skip_with_nothing_in_flight(void **state)
{
    (void)state;
    confirm_t w;
    confirm_init(&w, 2, 5);
    confirm_scanned(&w, 100);
    assert_int_equal(w.confirmed, 100);
    assert_int_equal(w.published, 100);
    confirm_free(&w);
}

static void test_reset_forgets_unconfirmed(void **state)
{
    (void)state;
    confirm_t w;
    confirm_init(&w, 3, 0);
    confirm_push(&w, 1);
    confirm_push(&w, 2);
    confirm_push(&w, 3);
    confirm_scanned(&w, 3);
    assert_int_equal(confirm_room(&w), 0);
    confirm_ack(&w, 1, 0);
    assert_int_equal(w.confirmed, 1);
    /* the connection dropped: 2 and 3 will be published again */
    confirm_reset(&w);
    assert_int_equal(w.published, 1);
    assert_int_equal(w.confirmed, 1);
    assert_int_equal(confirm_room(&w), 3);
    assert_int_equal(confirm_push(&w, 2), 1); /* tags start again at 1 */
    confirm_scanned(&w, 3);
    assert_int_equal(confirm_ack(&w, 1, 1), 1);
    assert_int_equal(w.confirmed, 3);
    confirm_free(&w);
}

/* A long run with wrap-around: acks of every window arrive in reverse. */
static void test_ring_wraps(void **state)
{
    (void)state;
    confirm_t w;
    confirm_init(&w, 5, 0);
    uint64_t seq = 0, tag = 0;
    for (int round = 0; round < 50; round++) {
        uint64_t tags[5];
        for (int i = 0; i < 5; i++) {
            tags[i] = confirm_push(&w, ++seq);
            assert_int_equal(tags[i], ++tag);
        }
        confirm_scanned(&w, seq);
        for (int i = 4; i >= 1; i--) {
            assert_int_equal(confirm_ack(&w, tags[i], 0), 1);
            assert_int_equal(w.confirmed, seq - 5);
        }
        assert_int_equal(confirm_ack(&w, tags[0], 0), 1);
        assert_int_equal(w.confirmed, seq);
    }
    confirm_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order),
        cmocka_unit_test(test_out_of_order_waits_for_the_gap),
        cmocka_unit_test(test_multiple),
        cmocka_unit_test(test_refused_acks),
        cmocka_unit_test(test_skip_with_nothing_in_flight),
        cmocka_unit_test(test_reset_forgets_unconfirmed),
        cmocka_unit_test(test_ring_wraps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
