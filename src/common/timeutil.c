/* timeutil.c - time formatting and parsing: see timeutil.h. */
#include "timeutil.h"

#include <string.h>

#include <stdio.h>
#include <time.h>

int64_t time_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

int64_t time_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* The civil calendar <-> day count conversions use the era arithmetic of the
 * proleptic Gregorian calendar: 400-year eras of 146097 days, years counted
 * from March so the leap day is last. */
int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void put2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

size_t time_format_rfc3339(int64_t ns, char *out)
{
    int64_t secs = ns / NS_PER_SEC, frac = ns % NS_PER_SEC;
    if (frac < 0) {
        frac += NS_PER_SEC;
        secs--;
    }
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) {
        /* out of the 4-digit range: clamp to the epoch, never overflow */
        y = 1970;
        m = d = 1;
        rem = frac = 0;
    }
    char *p = out;
    put2(p, (unsigned)(y / 100));
    put2(p + 2, (unsigned)(y % 100));
    p[4] = '-';
    put2(p + 5, m);
    p[7] = '-';
    put2(p + 8, d);
    p[10] = 'T';
    put2(p + 11, (unsigned)(rem / 3600));
    p[13] = ':';
    put2(p + 14, (unsigned)(rem / 60 % 60));
    p[16] = ':';
    put2(p + 17, (unsigned)(rem % 60));
    p[19] = '.';
    for (int i = 28; i >= 20; i--) {
        p[i] = (char)('0' + frac % 10);
        frac /= 10;
    }
    p[29] = 'Z';
    p[30] = '\0';
    return 30;
}

size_t time_format_local(int64_t ns, char *out, size_t cap)
{
    time_t t = (time_t)(ns / NS_PER_SEC);
    struct tm tm;
    localtime_r(&t, &tm);
    return strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm);
}

/* Stores secs + frac ns (0 <= frac < NS_PER_SEC) in *ns; returns -1 when
 * that is outside int64_t (before 1677 or after 2262), which would overflow.
 * A negative secs borrows one second so that INT64_MIN itself is reachable. */
static int ns_from_secs(int64_t secs, int64_t frac, int64_t *ns)
{
    int64_t v;
    if (secs < 0 && frac > 0) {
        secs++;
        frac -= NS_PER_SEC;
    }
    if (__builtin_mul_overflow(secs, NS_PER_SEC, &v) || __builtin_add_overflow(v, frac, &v))
        return -1;
    *ns = v;
    return 0;
}

static int digits(const char *s, size_t n, size_t at, size_t count, unsigned *v)
{
    if (at + count > n)
        return -1;
    unsigned x = 0;
    for (size_t i = at; i < at + count; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        x = x * 10 + (unsigned)(s[i] - '0');
    }
    *v = x;
    return 0;
}

int time_parse_rfc3339(const char *s, size_t n, int64_t *ns)
{
    unsigned Y, M, D, h, mi, sec;
    static const unsigned char mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (digits(s, n, 0, 4, &Y) || n < 19 || s[4] != '-' || digits(s, n, 5, 2, &M) || s[7] != '-' ||
        digits(s, n, 8, 2, &D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        digits(s, n, 11, 2, &h) || s[13] != ':' || digits(s, n, 14, 2, &mi) || s[16] != ':' ||
        digits(s, n, 17, 2, &sec))
        return -1;
    if (M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || h > 23 || mi > 59 || sec > 60)
        return -1;
    if (M == 2 && D == 29 && !((Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0))
        return -1;
    if (sec == 60)
        sec = 59; /* leap second: hold the last second */
    size_t i = 19;
    int64_t frac = 0;
    if (i < n && s[i] == '.') {
        i++;
        size_t start = i;
        int64_t scale = 100000000;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            frac += (s[i] - '0') * scale;
            scale /= 10;
            i++;
        }
        if (i == start)
            return -1;
    }
    int64_t off = 0;
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        unsigned oh, om;
        if (digits(s, n, i + 1, 2, &oh) || i + 3 >= n || s[i + 3] != ':' ||
            digits(s, n, i + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        off = ((int64_t)oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
        i += 6;
    } else {
        return -1;
    }
    if (i != n)
        return -1;
    int64_t days = time_days_from_civil(Y, M, D);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - off;
    return ns_from_secs(secs, frac, ns);
}

int time_parse_epoch(const char *s, size_t n, int64_t *ns)
{
    size_t i = 0;
    int64_t whole = 0;
    size_t nd = 0;

    if (n == 0)
        return -1;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        if (++nd > 19 || __builtin_mul_overflow(whole, 10, &whole) ||
            __builtin_add_overflow(whole, s[i] - '0', &whole))
            return -1;
        i++;
    }
    if (nd == 0)
        return -1;
    /* the unit follows from the size of the integer part */
    int64_t unit;
    if (whole >= 100000000000000000LL)
        unit = 1; /* ns */
    else if (whole >= 100000000000000LL)
        unit = 1000; /* us */
    else if (whole >= 100000000000LL)
        unit = 1000000; /* ms */
    else
        unit = NS_PER_SEC;
    int64_t frac = 0;
    if (i < n && s[i] == '.') {
        i++;
        int64_t scale = unit / 10;
        size_t start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            frac += (s[i] - '0') * scale;
            scale /= 10;
            i++;
        }
        if (i == start)
            return -1;
    }
    if (i != n || __builtin_mul_overflow(whole, unit, &whole) ||
        __builtin_add_overflow(whole, frac, &whole))
        return -1;
    *ns = whole;
    return 0;
}

int time_parse_any(const char *s, size_t n, int64_t *ns)
{
    if (time_parse_epoch(s, n, ns) == 0)
        return 0;
    return time_parse_rfc3339(s, n, ns);
}

int time_parse_age(const char *s, size_t n, int64_t *ns)
{
    static const struct {
        const char *unit;
        int64_t ns;
    } units[] = {{"ms", NS_PER_MS},         {"s", NS_PER_SEC},
                 {"m", 60 * NS_PER_SEC},    {"h", 3600 * NS_PER_SEC},
                 {"d", 86400 * NS_PER_SEC}, {"w", 7 * 86400 * NS_PER_SEC}};
    size_t i = 0;
    int64_t whole = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        if (i >= 12)
            return -1;
        whole = whole * 10 + (s[i] - '0');
        i++;
    }
    if (i == 0)
        return -1;
    int64_t frac = 0, scale = 1; /* frac / scale of a unit */
    if (i < n && s[i] == '.') {
        size_t start = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 9) {
            frac = frac * 10 + (s[i] - '0');
            scale *= 10;
            i++;
        }
        if (i == start)
            return -1;
    }
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        size_t ul = strlen(units[u].unit);
        if (n - i != ul || memcmp(s + i, units[u].unit, ul) != 0)
            continue;
        int64_t v;
        if (__builtin_mul_overflow(whole, units[u].ns, &v) ||
            __builtin_add_overflow(v, frac * (units[u].ns / scale), &v) ||
            v > 200LL * 366 * 86400 * NS_PER_SEC)
            return -1;
        *ns = v;
        return 0;
    }
    return -1;
}

int time_parse_when(const char *s, size_t n, int64_t now, int64_t *ns)
{
    int64_t age;
    if (time_parse_any(s, n, ns) == 0)
        return 0;
    if (n == 3 && memcmp(s, "now", 3) == 0) {
        *ns = now;
        return 0;
    }
    if (time_parse_age(s, n, &age) == 0) {
        *ns = now - age;
        return 0;
    }
    return -1;
}
