/* test_tls_log.c - the rate limit of TLS failure lines (src/tls/tls_log.c):
 * a burst is logged TLS_LOG_BURST lines at most, the rest counted and
 * reported once the window has passed, whatever the burst's size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tls/tls_log.h"

#define S 1000000000LL

/* Feeds n failures 1 ms apart from t; returns how many were logged one by
 * one, adding the summaries reported to *summed and the mute lines to
 * *mutes. */
static int burst(tls_log_t *l, int64_t t, int n, uint64_t *summed, int *mutes)
{
    int logged = 0;
    for (int i = 0; i < n; i++) {
        uint64_t summary;
        int muting;
        logged += tls_log_admit(l, t + i * 1000000LL, &summary, &muting);
        *summed += summary;
        *mutes += muting;
    }
    return logged;
}

static void test_a_burst_is_bounded_and_counted(void **state)
{
    (void)state;
    tls_log_t l = {.name = "tcp-tls"};
    uint64_t summed = 0;
    int mutes = 0;
    assert_int_equal(burst(&l, 100 * S, 1000, &summed, &mutes), TLS_LOG_BURST);
    assert_int_equal(mutes, 1);
    assert_int_equal(summed, 0); /* not yet: the window is still open */
    assert_int_equal(l.held, 1000 - TLS_LOG_BURST);
    /* the next failure after the window says how many were held back */
    uint64_t summary;
    int muting;
    assert_int_equal(tls_log_admit(&l, 100 * S + TLS_LOG_WINDOW_NS + 1, &summary, &muting), 1);
    assert_int_equal(summary, 1000 - TLS_LOG_BURST);
    assert_int_equal(muting, 0);
    assert_int_equal(l.held, 0);
}

static void test_failures_spread_out_are_all_logged(void **state)
{
    (void)state;
    tls_log_t l = {.name = "http"};
    for (int i = 0; i < 50; i++) {
        uint64_t summary;
        int muting;
        /* one a window: never held */
        assert_int_equal(tls_log_admit(&l, (int64_t)i * TLS_LOG_WINDOW_NS, &summary, &muting), 1);
        assert_int_equal(summary, 0);
        assert_int_equal(muting, 0);
    }
}

static void test_each_window_logs_its_burst(void **state)
{
    (void)state;
    tls_log_t l = {.name = "gelf-tls"};
    uint64_t summed = 0;
    int mutes = 0, logged = 0;
    for (int w = 0; w < 3; w++)
        logged += burst(&l, 10 * S + w * (TLS_LOG_WINDOW_NS + S), 20, &summed, &mutes);
    assert_int_equal(logged, 3 * TLS_LOG_BURST);
    assert_int_equal(mutes, 3);
    /* the first two windows' held failures were reported, the third's waits */
    assert_int_equal(summed, 2 * (20 - TLS_LOG_BURST));
    assert_int_equal(l.held, 20 - TLS_LOG_BURST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_burst_is_bounded_and_counted),
        cmocka_unit_test(test_failures_spread_out_are_all_logged),
        cmocka_unit_test(test_each_window_logs_its_burst),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
