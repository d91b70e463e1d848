/* tls_log.c - TLS failures in the log, rate limited: see tls_log.h. */
#include "tls_log.h"

#include "../common/log.h"
#include "../common/timeutil.h"

int tls_log_admit(tls_log_t *l, int64_t now, uint64_t *summary, int *muting)
{
    *summary = 0;
    *muting = 0;
    if (!l->lines || now - l->start >= TLS_LOG_WINDOW_NS) {
        /* a new window: say first what the last one held back */
        *summary = l->held;
        l->held = 0;
        l->start = now;
        l->lines = 0;
    }
    if (l->lines < TLS_LOG_BURST) {
        l->lines++;
        return 1;
    }
    *muting = !l->held; /* the first one held back in this window */
    l->held++;
    return 0;
}

static void say_held(const tls_log_t *l, uint64_t n)
{
    log_info("%s: %llu more TLS failures in %lld s were not logged one by one (they are in "
             "logship_tls_handshake_failures_total and logship_tls_errors_total)",
             l->name, (unsigned long long)n, (long long)(TLS_LOG_WINDOW_NS / 1000000000LL));
}

void tls_log_failure(tls_log_t *l, const char *peer, const char *why)
{
    uint64_t summary;
    int muting;
    int one = tls_log_admit(l, time_mono_ns(), &summary, &muting);
    if (summary)
        say_held(l, summary);
    if (one) {
        log_info("%s: %s: %s", l->name, peer, why);
    } else if (muting) {
        log_info("%s: more than %d TLS failures within %lld s (the last from %s): the next "
                 "ones are counted, not logged one by one",
                 l->name, TLS_LOG_BURST, (long long)(TLS_LOG_WINDOW_NS / 1000000000LL), peer);
    }
}

void tls_log_tick(tls_log_t *l)
{
    if (!l->held || time_mono_ns() - l->start < TLS_LOG_WINDOW_NS)
        return;
    say_held(l, l->held);
    l->held = 0;
    l->lines = 0; /* the next failure starts a new window */
}
