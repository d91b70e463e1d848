/* test_limit.c - per-client token buckets and connection counts
 * (src/http/limit.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/limit.h"

#define MS 1000000ull
#define S  1000000000ull

static slice_t key(const char *s)
{
    return slice_cstr(s);
}

static void test_bucket_allows_a_burst_then_the_rate(void **state)
{
    (void)state;
    limit_t *l = limit_create(&(limit_options_t){.rate = 10, .burst = 5});
    uint64_t t = 5 * S;
    for (int i = 0; i < 5; i++)
        assert_int_equal(limit_take(l, key("10.0.0.1"), t), 0);
    /* empty: a token is 100 ms away */
    assert_int_equal(limit_take(l, key("10.0.0.1"), t), 100);
    assert_int_equal(limit_take(l, key("10.0.0.1"), t + 60 * MS), 40);
    assert_int_equal(limit_take(l, key("10.0.0.1"), t + 100 * MS), 0);
    assert_int_not_equal(limit_take(l, key("10.0.0.1"), t + 100 * MS), 0);
    /* a long pause refills to the burst, not beyond */
    t += 100 * S;
    for (int i = 0; i < 5; i++)
        assert_int_equal(limit_take(l, key("10.0.0.1"), t), 0);
    assert_int_not_equal(limit_take(l, key("10.0.0.1"), t), 0);
    limit_destroy(l);
}

static void test_clients_have_their_own_buckets(void **state)
{
    (void)state;
    limit_t *l = limit_create(&(limit_options_t){.rate = 1});
    assert_int_equal(limit_take(l, key("a"), S), 0);
    assert_int_equal(limit_take(l, key("a"), S), 1000);
    assert_int_equal(limit_take(l, key("b"), S), 0);
    assert_int_equal(limit_take(l, key("::1"), S), 0);
    assert_int_equal(limit_keys(l), 3);
    limit_destroy(l);
}

static void test_no_rate_never_refuses_and_keeps_no_key(void **state)
{
    (void)state;
    limit_t *l = limit_create(&(limit_options_t){0});
    for (int i = 0; i < 1000; i++)
        assert_int_equal(limit_take(l, key("a"), S), 0);
    assert_int_equal(limit_keys(l), 0);
    limit_destroy(l);
}

static void test_connections_per_key(void **state)
{
    (void)state;
    limit_t *l = limit_create(&(limit_options_t){.max_conns = 2});
    assert_int_equal(limit_conn_open(l, key("a"), S), 0);
    assert_int_equal(limit_conn_open(l, key("a"), S), 0);
    assert_int_equal(limit_conn_open(l, key("a"), S), -1);
    assert_int_equal(limit_conn_open(l, key("b"), S), 0);
    limit_conn_close(l, key("a"));
    assert_int_equal(limit_conn_open(l, key("a"), S), 0);
    assert_int_equal(limit_conn_open(l, key("a"), S), -1);
    limit_destroy(l);
}

/* Many clients: idle ones are forgotten, the table stays bounded, and the
 * keys that are not idle keep their state through the sweeps (deletion
 * must not lose an entry of a probe run). */
static void test_many_keys_bounded_and_busy_ones_kept(void **state)
{
    (void)state;
    limit_t *l = limit_create(&(limit_options_t){.rate = 1, .burst = 1, .max_conns = 1});
    char k[32];
    /* 500 clients hold a connection and an empty bucket */
    for (int i = 0; i < 500; i++) {
        snprintf(k, sizeof k, "busy-%d", i);
        assert_int_equal(limit_conn_open(l, key(k), S), 0);
        assert_int_equal(limit_take(l, key(k), S), 0);
    }
    /* 200,000 clients pass once each, a second apart in groups: the
     * earlier ones are full again when the table wants room */
    for (int i = 0; i < 200000; i++) {
        snprintf(k, sizeof k, "once-%d", i);
        assert_int_equal(limit_take(l, key(k), S + (uint64_t)(i / 1000) * S), 0);
    }
    assert_true(limit_keys(l) <= LIMIT_MAX_KEYS);
    assert_true(limit_keys(l) < 10000); /* the idle ones were forgotten */
    uint64_t now = S + 200 * S;
    for (int i = 0; i < 500; i++) {
        snprintf(k, sizeof k, "busy-%d", i);
        /* still counted: the second connection is refused */
        assert_int_equal(limit_conn_open(l, key(k), now), -1);
    }
    for (int i = 0; i < 500; i++) {
        snprintf(k, sizeof k, "busy-%d", i);
        limit_conn_close(l, key(k));
        assert_int_equal(limit_conn_open(l, key(k), now), 0);
    }
    limit_destroy(l);
}

/* With every slot held, new clients share one entry: the limit holds for
 * them together. */
static void test_a_full_table_shares_an_overflow_bucket(void **state)
{
    (void)state;
    limit_t *l = limit_create(&(limit_options_t){.rate = 1, .burst = 1, .max_conns = 1});
    char k[32];
    for (int i = 0; i < LIMIT_MAX_KEYS; i++) {
        snprintf(k, sizeof k, "held-%d", i);
        assert_int_equal(limit_conn_open(l, key(k), S), 0);
    }
    assert_int_equal(limit_keys(l), LIMIT_MAX_KEYS);
    assert_int_equal(limit_take(l, key("new-1"), S), 0);
    assert_int_not_equal(limit_take(l, key("new-2"), S), 0); /* the same bucket */
    assert_int_equal(limit_keys(l), LIMIT_MAX_KEYS);
    limit_destroy(l);
}

static void test_a_smaller_burst_cuts_buckets(void **state)
{
    (void)state;
    limit_t *l = limit_create(&(limit_options_t){.rate = 1, .burst = 100});
    assert_int_equal(limit_take(l, key("a"), S), 0);
    limit_set_options(l, &(limit_options_t){.rate = 1, .burst = 2});
    assert_int_equal(limit_take(l, key("a"), S), 0);
    assert_int_equal(limit_take(l, key("a"), S), 0);
    assert_int_not_equal(limit_take(l, key("a"), S), 0);
    limit_destroy(l);
}

static void test_long_keys_are_cut_consistently(void **state)
{
    (void)state;
    limit_t *l = limit_create(&(limit_options_t){.max_conns = 1});
    char a[200], b[200];
    memset(a, 'x', sizeof a - 1);
    a[sizeof a - 1] = 0;
    memcpy(b, a, sizeof b);
    b[150] = 'y'; /* differs after LIMIT_KEY_MAX: the same client */
    assert_int_equal(limit_conn_open(l, key(a), S), 0);
    assert_int_equal(limit_conn_open(l, key(b), S), -1);
    limit_conn_close(l, key(b));
    assert_int_equal(limit_conn_open(l, key(a), S), 0);
    limit_destroy(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_allows_a_burst_then_the_rate),
        cmocka_unit_test(test_clients_have_their_own_buckets),
        cmocka_unit_test(test_no_rate_never_refuses_and_keeps_no_key),
        cmocka_unit_test(test_connections_per_key),
        cmocka_unit_test(test_many_keys_bounded_and_busy_ones_kept),
        cmocka_unit_test(test_a_full_table_shares_an_overflow_bucket),
        cmocka_unit_test(test_a_smaller_burst_cuts_buckets),
        cmocka_unit_test(test_long_keys_are_cut_consistently),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
