/* tls_log.h - TLS failures in the log, rate limited: a scanner or a
 * misconfigured client making hundreds of failed handshakes a second must
 * not make as many log lines. Each listener kind keeps a tls_log_t; the
 * first TLS_LOG_BURST failures of a window of TLS_LOG_WINDOW_NS are logged
 * one by one (info), then one line says the rest are only counted; once
 * the window has passed, one line says how many were not logged (at the
 * next failure, or at tls_log_tick from a timer). Every failure is counted
 * in the listener's tls_stats_t whatever the log says. Loop thread. */
#ifndef LOGSHIP_TLS_LOG_H
#define LOGSHIP_TLS_LOG_H

#include <stdint.h>

#define TLS_LOG_BURST     5
#define TLS_LOG_WINDOW_NS (10 * 1000000000LL)

typedef struct tls_log {
    int64_t start;    /* monotonic ns: the window's first failure */
    unsigned lines;   /* failures logged one by one in it */
    uint64_t held;    /* failures not logged since the last summary */
    const char *name; /* the listener, in the lines: "http", "tcp-tls" */
} tls_log_t;

/* What to log for a failure at now (pure, for tests): 1 to log it one by
 * one, 0 not to. *summary is set to the count of failures not logged that
 * a line should report first (0: none), *muting to 1 when this is the
 * first failure held back in its window (a line says so). */
int tls_log_admit(tls_log_t *l, int64_t now, uint64_t *summary, int *muting);
/* Logs a failure of peer's (why: tls_why()) through tls_log_admit. */
void tls_log_failure(tls_log_t *l, const char *peer, const char *why);
/* From a timer: the summary of a window that has passed, if one is due. */
void tls_log_tick(tls_log_t *l);

#endif
