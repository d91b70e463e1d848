/* test_bench_hist.c - the latency histogram of logship bench
 * (src/cli/bench_hist.c): buckets tile the range, quantiles are within
 * 1% from 1 us to 60 s, merging, and the edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cli/bench_hist.h"

static bench_hist_t h, h2;

static void test_buckets_tile_the_range(void **state)
{
    (void)state;
    uint64_t next = 0;
    for (unsigned b = 0; b < BENCH_HIST_BUCKETS; b++) {
        uint64_t lo, hi;
        bench_hist_range(b, &lo, &hi);
        assert_int_equal(lo, next); /* no hole, no overlap */
        assert_true(hi >= lo);
        assert_int_equal(bench_hist_bucket(lo), b);
        assert_int_equal(bench_hist_bucket(hi), b);
        if (lo >= BENCH_HIST_LINEAR)
            assert_true((double)(hi - lo + 1) / (double)lo <= 1.0 / 128 + 1e-12);
        next = hi + 1;
    }
    assert_int_equal(next, BENCH_HIST_MAX_NS + 1);
    assert_int_equal(bench_hist_bucket(UINT64_MAX), BENCH_HIST_BUCKETS - 1);
}

/* Any single value from 1 us to 60 s comes back within 1% (0.4% by the
 * design) as every quantile. */
static void test_one_percent_from_1us_to_60s(void **state)
{
    (void)state;
    double worst = 0;
    for (uint64_t v = 1000; v <= UINT64_C(60000000000); v = v + v / 997 + 1) {
        bench_hist_init(&h);
        bench_hist_record(&h, v);
        uint64_t q = bench_hist_quantile(&h, 0.5);
        double err = (double)(q > v ? q - v : v - q) / (double)v;
        if (err > worst)
            worst = err;
        assert_int_equal(bench_hist_quantile(&h, 1.0), q);
        assert_int_equal(bench_hist_max(&h), v);
    }
    assert_true(worst < 0.01);
    assert_true(worst <= 1.0 / 256 + 1e-9);
}

/* 1..100000 us once each: each percentile is the value at its rank. */
static void test_percentiles_of_a_uniform_spread(void **state)
{
    (void)state;
    bench_hist_init(&h);
    for (uint64_t us = 1; us <= 100000; us++)
        bench_hist_record(&h, us * 1000);
    assert_int_equal(bench_hist_count(&h), 100000);
    const double qs[] = {0.5, 0.9, 0.99, 0.999};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        double want = qs[i] * 100000 * 1000;
        double got = (double)bench_hist_quantile(&h, qs[i]);
        assert_true(got > want * 0.99 && got < want * 1.01);
    }
    assert_int_equal(bench_hist_max(&h), 100000000);
    assert_true(bench_hist_mean(&h) > 50000000 && bench_hist_mean(&h) < 50002000);
}

/* A stall: 1% of the values at 1 s shows in p99.9 but not in p50, and p99
 * is the boundary (rank 9,900 of 10,000 is the last fast one). */
static void test_a_tail_shows_where_it_is(void **state)
{
    (void)state;
    bench_hist_init(&h);
    bench_hist_record_n(&h, 2000000, 9899); /* 2 ms */
    bench_hist_record_n(&h, 1000000000, 101);
    assert_int_equal(bench_hist_count(&h), 10000);
    assert_true(bench_hist_quantile(&h, 0.5) < 2100000);
    assert_true(bench_hist_quantile(&h, 0.99) > 990000000);
    assert_true(bench_hist_quantile(&h, 0.999) > 990000000);
    assert_int_equal(bench_hist_max(&h), 1000000000);
}

static void test_merge_adds_counts_and_keeps_the_max(void **state)
{
    (void)state;
    bench_hist_init(&h);
    bench_hist_init(&h2);
    bench_hist_record_n(&h, 5000, 10);
    bench_hist_record_n(&h2, 7000000, 30);
    bench_hist_record(&h2, 0);
    bench_hist_merge(&h, &h2);
    assert_int_equal(bench_hist_count(&h), 41);
    assert_int_equal(bench_hist_max(&h), 7000000);
    uint64_t p10 = bench_hist_quantile(&h, 0.1);
    assert_true(p10 >= 4980 && p10 <= 5020);
    assert_int_equal(bench_hist_quantile(&h, 0.0001), 0); /* rank 1: the 0 */
}

static void test_empty_and_huge(void **state)
{
    (void)state;
    bench_hist_init(&h);
    assert_int_equal(bench_hist_quantile(&h, 0.99), 0);
    assert_int_equal(bench_hist_max(&h), 0);
    assert_true(bench_hist_mean(&h) == 0.0);
    bench_hist_record_n(&h, 9, 0); /* nothing */
    assert_int_equal(bench_hist_count(&h), 0);
    bench_hist_record(&h, UINT64_MAX);
    /* counted in the last bucket; reported as the true max */
    assert_int_equal(bench_hist_max(&h), UINT64_MAX);
    assert_true(bench_hist_quantile(&h, 0.5) >= BENCH_HIST_MAX_NS / 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets_tile_the_range),
        cmocka_unit_test(test_one_percent_from_1us_to_60s),
        cmocka_unit_test(test_percentiles_of_a_uniform_spread),
        cmocka_unit_test(test_a_tail_shows_where_it_is),
        cmocka_unit_test(test_merge_adds_counts_and_keeps_the_max),
        cmocka_unit_test(test_empty_and_huge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
