/* test_dedup.c - the RabbitMQ input's window of keys (src/amqp/dedup.c):
 * what is added is found, the oldest goes first when full, a key taken
 * back is gone while its neighbours in the table stay reachable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "amqp/dedup.h"

static dedup_hash_t key(unsigned i)
{
    char k[32];
    int n = snprintf(k, sizeof k, "node:%u", i);
    return dedup_hash(k, (size_t)n);
}

static void test_add_has_duplicate(void **state)
{
    (void)state;
    dedup_t d;
    dedup_init(&d, 100);
    assert_false(dedup_has(&d, key(1)));
    assert_int_equal(dedup_add(&d, key(1)), 1);
    assert_true(dedup_has(&d, key(1)));
    assert_int_equal(dedup_add(&d, key(1)), 0); /* already there */
    assert_int_equal(d.live, 1);
    assert_false(dedup_has(&d, key(2)));
    /* the same bytes give the same hash, others another */
    dedup_hash_t a = key(7), a2 = key(7), b = key(8);
    assert_true(a.lo == a2.lo && a.hi == a2.hi);
    assert_false(a.lo == b.lo && a.hi == b.hi);
    dedup_free(&d);
}

static void test_oldest_forgotten_first(void **state)
{
    (void)state;
    dedup_t d;
    dedup_init(&d, 1000);
    for (unsigned i = 0; i < 2500; i++)
        assert_int_equal(dedup_add(&d, key(i)), 1);
    assert_int_equal(d.live, 1000);
    for (unsigned i = 0; i < 1500; i++)
        assert_false(dedup_has(&d, key(i)));
    for (unsigned i = 1500; i < 2500; i++)
        assert_true(dedup_has(&d, key(i)));
    dedup_free(&d);
}

static void test_remove_keeps_the_rest(void **state)
{
    (void)state;
    dedup_t d;
    dedup_init(&d, 4096);
    for (unsigned i = 0; i < 4096; i++)
        dedup_add(&d, key(i));
    /* take every third back: the table is half full, so runs are long
     * enough that backward shifts happen */
    for (unsigned i = 0; i < 4096; i += 3)
        assert_int_equal(dedup_remove(&d, key(i)), 1);
    assert_int_equal(dedup_remove(&d, key(0)), 0);
    for (unsigned i = 0; i < 4096; i++)
        assert_int_equal(dedup_has(&d, key(i)), i % 3 != 0);
    /* taken back, a key can be added again; the ring goes on in order */
    assert_int_equal(dedup_add(&d, key(0)), 1);
    assert_true(dedup_has(&d, key(0)));
    for (unsigned i = 5000; i < 5000 + 4096; i++)
        dedup_add(&d, key(i));
    for (unsigned i = 1; i < 4096; i++)
        assert_false(dedup_has(&d, key(i)));
    assert_false(dedup_has(&d, key(0))); /* it was among the oldest of the new round */
    for (unsigned i = 5000; i < 5000 + 4096; i++)
        assert_true(dedup_has(&d, key(i)));
    assert_int_equal(d.live, 4096);
    dedup_free(&d);
}

static void test_off(void **state)
{
    (void)state;
    dedup_t d;
    dedup_init(&d, 0);
    assert_int_equal(dedup_add(&d, key(1)), 0);
    assert_false(dedup_has(&d, key(1)));
    assert_int_equal(dedup_remove(&d, key(1)), 0);
    dedup_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_has_duplicate),
        cmocka_unit_test(test_oldest_forgotten_first),
        cmocka_unit_test(test_remove_keeps_the_rest),
        cmocka_unit_test(test_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
