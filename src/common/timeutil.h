/* timeutil.h - clocks, RFC 3339 formatting and parsing, epoch numbers. */
#ifndef LOGSHIP_TIMEUTIL_H
#define LOGSHIP_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#define NS_PER_SEC  1000000000LL
#define NS_PER_MS   1000000LL
#define RFC3339_MAX 40

/* Wall clock, ns since the Unix epoch. */
int64_t time_now_ns(void);
/* Monotonic clock in ns, for intervals. */
int64_t time_mono_ns(void);

/* Writes "2026-11-21T10:45:56.123456789Z" (UTC, always 9 fraction digits)
 * to out (RFC3339_MAX bytes) and returns its length. */
size_t time_format_rfc3339(int64_t ns, char *out);
/* Writes "2026-11-21 10:45:56" in local time (for human output). */
size_t time_format_local(int64_t ns, char *out, size_t cap);

/* Parses RFC 3339 ("2026-11-21T10:45:56.5Z", "... +01:00", space or 'T').
 * Returns 0 and sets *ns, or -1 when s is not such a time. */
int time_parse_rfc3339(const char *s, size_t n, int64_t *ns);
/* Parses a decimal epoch time "1732186000.123" whose unit is guessed from its
 * magnitude: seconds, milliseconds, microseconds or nanoseconds. */
int time_parse_epoch(const char *s, size_t n, int64_t *ns);
/* Either of the two forms above. */
int time_parse_any(const char *s, size_t n, int64_t *ns);

/* Parses an age: a number (a fraction allowed) and a unit, ms, s, m, h, d
 * or w ("15m", "1.5h", "7d"). Returns 0 and sets *ns to its length. */
int time_parse_age(const char *s, size_t n, int64_t *ns);
/* The one time grammar of query and tail parameters and CLI flags: RFC
 * 3339, epoch s/ms/us/ns by magnitude, "now", or an age before now. */
int time_parse_when(const char *s, size_t n, int64_t now, int64_t *ns);
#define TIME_FORMS                                                                                 \
    "RFC 3339 (2026-11-21T10:45:56Z), epoch seconds, ms, us or ns (1764684000), now, or an "       \
    "age before now (90s, 15m, 2h, 7d, 1w)"

/* Days since 1970-01-01 for a proleptic Gregorian date. */
int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
