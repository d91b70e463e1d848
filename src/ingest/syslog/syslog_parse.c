/* syslog_parse.c - syslog messages into records: see syslog_parse.h.
 *
 * One pass over the message with a cursor; header tokens are found with
 * memchr and everything is copied once, by recbuild. RFC 3164 times need the
 * local time zone (mktime), which costs far more than the rest of the parse,
 * so the conversion is cached per thread and per minute.
 */
#include "syslog_parse.h"

#include <time.h>

#include "../../common/level.h"
#include "../../common/timeutil.h"
#include "../../common/utf8.h"
#include "../../common/json_write.h"

#define TAG_MAX 48 /* an RFC 3164 TAG or bare tag; RFC 5424's APP-NAME limit */

static const char *const facilities[24] = {
    "kern",   "user",   "mail",     "daemon", "auth",   "syslog",   "lpr",     "news",
    "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "security", "console", "solaris-cron",
    "local0", "local1", "local2",   "local3", "local4", "local5",   "local6",  "local7",
};

const char *syslog_facility_name(int facility)
{
    return facility >= 0 && facility < 24 ? facilities[facility] : NULL;
}

static inline int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* <PRI>: 1..3 digits, no leading zero but "<0>", at most 191. Returns NULL
 * and sets *pri and *used, or the reason it is not one. */
static const char *parse_pri(const char *s, size_t n, int *pri, size_t *used)
{
    if (n == 0 || s[0] != '<')
        return "missing PRI";
    size_t i = 1;
    int v = 0;
    while (i < n && i <= 4 && is_digit(s[i])) {
        v = v * 10 + (s[i] - '0');
        i++;
    }
    size_t nd = i - 1;
    if (nd == 0 || nd > 3 || i >= n || s[i] != '>')
        return "bad PRI";
    if (nd > 1 && s[1] == '0')
        return "PRI with a leading zero";
    if (v > SYSLOG_PRI_MAX)
        return "PRI above 191";
    *pri = v;
    *used = i + 1;
    return NULL;
}

/* ---- RFC 5424 ---- */

/* "1 " then a nil or RFC 3339 TIMESTAMP: the message claims to be RFC 5424. */
static int looks_5424(const char *p, const char *end)
{
    size_t n = (size_t)(end - p);
    if (n < 3 || p[0] != '1' || p[1] != ' ')
        return 0;
    if (p[2] == '-')
        return n == 3 || p[3] == ' ';
    return n >= 7 && is_digit(p[2]) && is_digit(p[3]) && is_digit(p[4]) && is_digit(p[5]) &&
           p[6] == '-';
}

/* SD-NAME: PRINTUSASCII except '=', SP, ']' and '"'. */
static inline int sd_name_char(char c)
{
    return c > ' ' && c < 127 && c != '=' && c != ']' && c != '"';
}

/* Appends a piece of an SD-PARAM value to the open JSON string. */
static void value_piece(recbuild_t *rb, const char *s, size_t n)
{
    if (utf8_valid_prefix(s, n) != n)
        rb->flags |= RECORD_F_REPAIRED;
    json_str_body(&rb->fields, s, n);
}

/* PARAM-VALUE from p (after the opening quote) as the value of the field key
 * already written. Returns the byte after the closing quote, or NULL when
 * the value does not end. */
static const char *sd_value(recbuild_t *rb, const char *p, const char *end)
{
    const char *q = p;
    int escaped = 0;
    while (q < end && *q != '"') {
        if (*q == '\\' && q + 1 < end) {
            escaped = 1;
            q += 2;
        } else {
            q++;
        }
    }
    if (q >= end)
        return NULL;
    if (!escaped) {
        recbuild_field_str(rb, p, (size_t)(q - p));
        return q + 1;
    }
    /* the pairing is the scan's above, so a backslash always has its byte
     * before q; only \" \\ \] are escapes (RFC 5424 6.3.3) */
    buf_putc(&rb->fields, '"');
    const char *s = p, *piece = p;
    while (s < q) {
        if (*s != '\\') {
            s++;
            continue;
        }
        if (s[1] == '"' || s[1] == '\\' || s[1] == ']') {
            value_piece(rb, piece, (size_t)(s - piece));
            value_piece(rb, s + 1, 1);
            piece = s + 2;
        }
        s += 2;
    }
    value_piece(rb, piece, (size_t)(q - piece));
    buf_putc(&rb->fields, '"');
    return q + 1;
}

/* STRUCTURED-DATA elements from p (at '['). Returns the byte after the last
 * element, or NULL when they are malformed. */
static const char *sd_elements(recbuild_t *rb, const char *p, const char *end)
{
    char key[2 * SYSLOG_SDNAME_MAX + 1];
    while (p < end && *p == '[') {
        const char *id = ++p;
        while (p < end && sd_name_char(*p))
            p++;
        size_t idn = (size_t)(p - id);
        if (idn == 0 || idn > SYSLOG_SDNAME_MAX)
            return NULL;
        memcpy(key, id, idn);
        key[idn] = '.';
        for (;;) {
            if (p >= end)
                return NULL;
            if (*p == ']') {
                p++;
                break;
            }
            if (*p != ' ')
                return NULL;
            while (p < end && *p == ' ')
                p++;
            if (p < end && *p == ']')
                continue;
            const char *name = p;
            while (p < end && sd_name_char(*p))
                p++;
            size_t nn = (size_t)(p - name);
            if (nn == 0 || nn > SYSLOG_SDNAME_MAX || end - p < 2 || p[0] != '=' || p[1] != '"')
                return NULL;
            memcpy(key + idn + 1, name, nn);
            recbuild_field_key(rb, key, idn + 1 + nn);
            p = sd_value(rb, p + 2, end);
            if (!p)
                return NULL;
        }
    }
    return p;
}

/* The header after "1 ". Returns NULL or the reason for SYSLOG_RAW. */
static const char *parse_5424(const char *p, const char *end, recbuild_t *rb)
{
    static const struct {
        size_t max;
        const char *too_long;
    } hdr[5] = {
        {0, NULL},
        {SYSLOG_HOSTNAME_MAX, "RFC 5424 HOSTNAME longer than 255 bytes"},
        {SYSLOG_APPNAME_MAX, "RFC 5424 APP-NAME longer than 48 bytes"},
        {SYSLOG_PROCID_MAX, "RFC 5424 PROCID longer than 128 bytes"},
        {SYSLOG_MSGID_MAX, "RFC 5424 MSGID longer than 32 bytes"},
    };
    static const enum rec_field dst[5] = {RF_COUNT, RF_HOST, RF_APP, RF_PID, RF_COUNT};

    for (int k = 0; k < 5; k++) {
        const char *sp = memchr(p, ' ', (size_t)(end - p));
        if (!sp) {
            if (k < 4)
                return "RFC 5424 header ends early";
            sp = end; /* MSGID, then no SD: taken as nil SD */
        }
        size_t n = (size_t)(sp - p);
        if (n == 0)
            return "RFC 5424 header field is empty";
        int nil = n == 1 && p[0] == '-';
        if (k == 0) {
            if (!nil) {
                int64_t ns;
                if (time_parse_rfc3339(p, n, &ns))
                    return "bad RFC 5424 timestamp";
                rb->ts = ns;
                rb->has_ts = 1;
            }
        } else {
            if (n > hdr[k].max)
                return hdr[k].too_long;
            if (!nil) {
                if (dst[k] != RF_COUNT) {
                    recbuild_set(rb, dst[k], p, n);
                } else {
                    recbuild_field_key(rb, "msgid", 5);
                    recbuild_field_str(rb, p, n);
                }
            }
        }
        p = sp < end ? sp + 1 : end;
    }
    if (p == end)
        return NULL;
    if (*p == '-' && (end - p == 1 || p[1] == ' ')) {
        p++;
    } else if (*p == '[') {
        p = sd_elements(rb, p, end);
        if (!p)
            return "bad RFC 5424 structured data";
    } else {
        /* no SD at all: keep the rest as MSG rather than lose the header */
        recbuild_set(rb, RF_MSG, p, (size_t)(end - p));
        return NULL;
    }
    if (p == end)
        return NULL;
    if (*p != ' ')
        return "bad RFC 5424 structured data";
    p++;
    if (end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    recbuild_set(rb, RF_MSG, p, (size_t)(end - p));
    return NULL;
}

/* ---- RFC 3164 ---- */

/* Month of "Jan".."Dec" (0..11), or -1. */
static int month(const char *p)
{
    static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int m = 0; m < 12; m++)
        if (p[0] == names[3 * m] && p[1] == names[3 * m + 1] && p[2] == names[3 * m + 2])
            return m;
    return -1;
}

static int two(const char *p, unsigned *v)
{
    if (!is_digit(p[0]) || !is_digit(p[1]))
        return -1;
    *v = (unsigned)(p[0] - '0') * 10 + (unsigned)(p[1] - '0');
    return 0;
}

typedef struct bsd_time {
    int mon; /* 0..11 */
    unsigned day, hour, min, sec;
    int64_t frac; /* ns */
} bsd_time_t;

/* "Mmm dd hh:mm:ss[.frac]" at p, followed by a space or the end. Returns the
 * byte after it, or NULL when p holds no such (valid) time. */
static const char *bsd_timestamp(const char *p, const char *end, bsd_time_t *t)
{
    static const unsigned char mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    /* shortest form: "Mmm d hh:mm:ss" */
    if (end - p < 14 || p[3] != ' ' || (t->mon = month(p)) < 0)
        return NULL;
    const char *q = p + 4;
    if (*q == ' ')
        q++; /* "Nov  1" */
    if (!is_digit(*q))
        return NULL;
    t->day = (unsigned)(*q++ - '0');
    if (q < end && is_digit(*q))
        t->day = t->day * 10 + (unsigned)(*q++ - '0');
    if (end - q < 9 || q[0] != ' ' || two(q + 1, &t->hour) || q[3] != ':' || two(q + 4, &t->min) ||
        q[6] != ':' || two(q + 7, &t->sec))
        return NULL;
    q += 9;
    t->frac = 0;
    if (q < end && *q == '.') {
        const char *f = ++q;
        int64_t scale = 100000000;
        while (q < end && is_digit(*q)) {
            t->frac += (*q - '0') * scale;
            scale /= 10;
            q++;
        }
        if (q == f)
            return NULL;
    }
    if (q < end && *q != ' ')
        return NULL;
    if (t->day < 1 || t->day > mdays[t->mon] || t->hour > 23 || t->min > 59 || t->sec > 60)
        return NULL;
    return q;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Per-thread caches of the local time zone's answers: mktime and localtime
 * each take longer than the whole rest of a parse. Keys are minutes, and
 * zone offsets and DST changes fall on whole minutes. 0 is the empty key. */
#define ZONE_CACHE 8
static _Thread_local struct {
    int64_t key;  /* local year/month/day/hour/minute, +1 */
    int64_t secs; /* epoch seconds of that minute's :00, or INT64_MIN */
} zone_cache[ZONE_CACHE];
static _Thread_local int64_t year_key; /* epoch minute of d->now, +1 */
static _Thread_local int year_val;

/* Local year at epoch second secs. */
static int local_year(int64_t secs)
{
    int64_t key = floor_div(secs, 60) + 1;
    if (key != year_key) {
        time_t t = (time_t)secs;
        struct tm tm;
        if (!localtime_r(&t, &tm))
            return 1970;
        year_val = tm.tm_year + 1900;
        year_key = key;
    }
    return year_val;
}

/* Epoch seconds of local y-mon-day hour:min:00, or INT64_MIN. */
static int64_t local_minute(int y, const bsd_time_t *t)
{
    if (y < 1)
        return INT64_MIN;
    int64_t key =
        (((((int64_t)y * 12 + t->mon) * 31 + t->day - 1) * 24 + t->hour) * 60 + t->min) + 1;
    unsigned slot = (unsigned)(key % ZONE_CACHE);
    if (zone_cache[slot].key == key)
        return zone_cache[slot].secs;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = t->mon;
    tm.tm_mday = (int)t->day;
    tm.tm_hour = (int)t->hour;
    tm.tm_min = (int)t->min;
    tm.tm_isdst = -1;
    time_t r = mktime(&tm);
    int64_t secs = r == (time_t)-1 ? INT64_MIN : (int64_t)r;
    zone_cache[slot].key = key;
    zone_cache[slot].secs = secs;
    return secs;
}

/* The year-less BSD time in ns: d->now's local year, or the year before when
 * that puts it more than a day after now. Returns -1 when out of range. */
static int bsd_to_ns(const bsd_time_t *t, int64_t now, int64_t *ns)
{
    int64_t now_s = floor_div(now, NS_PER_SEC);
    int64_t sec = t->sec > 59 ? 59 : t->sec; /* a leap second holds the last one */
    int y = local_year(now_s);
    int64_t base = local_minute(y, t);
    if (base != INT64_MIN && base + sec > now_s + 86400)
        base = local_minute(y - 1, t);
    if (base == INT64_MIN)
        return -1;
    int64_t v;
    if (__builtin_mul_overflow(base + sec, NS_PER_SEC, &v) ||
        __builtin_add_overflow(v, t->frac, &v))
        return -1;
    *ns = v;
    return 0;
}

/* A tag name byte: strict is the bare form's [A-Za-z0-9_./-]; otherwise (in
 * RFC 3164's TAG position) any printable ASCII but '[', ']' and ':'. */
static inline int tag_char(char c, int strict)
{
    if (strict)
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' ||
               c == '.' || c == '/' || c == '-';
    return c > ' ' && c < 127 && c != '[' && c != ']' && c != ':';
}

/* "tag: ", "tag[pid]: " at p; in RFC 3164 (!strict) also "tag:" at the end
 * and "tag[pid]" before a space or the end. Sets app and pid and returns the
 * start of the content, or NULL when p holds no tag. */
static const char *parse_tag(const char *p, const char *end, recbuild_t *rb, int strict)
{
    const char *q = p;
    while (q < end && q - p <= TAG_MAX && tag_char(*q, strict))
        q++;
    size_t nn = (size_t)(q - p);
    if (nn == 0 || nn > TAG_MAX)
        return NULL;
    const char *pid = NULL;
    size_t pn = 0;
    if (q < end && *q == '[') {
        pid = ++q;
        while (q < end && q - pid <= SYSLOG_PROCID_MAX && *q > ' ' && *q < 127 && *q != '[' &&
               *q != ']')
            q++;
        pn = (size_t)(q - pid);
        if (pn == 0 || pn > SYSLOG_PROCID_MAX || q >= end || *q != ']')
            return NULL;
        q++;
    }
    if (q < end && *q == ':') {
        q++;
        if (q < end ? *q != ' ' : strict)
            return NULL;
    } else if (strict || !pid || (q < end && *q != ' ')) {
        return NULL;
    }
    if (q < end)
        q++; /* the one space before the content */
    recbuild_set(rb, RF_APP, p, nn);
    if (pid)
        recbuild_set(rb, RF_PID, pid, pn);
    return q;
}

/* A HOSTNAME in RFC 3164: letters, digits, '.', '-', '_', or an IPv6
 * address (two or more ':'; one ':' is more likely "tag:text"). */
static int is_host(const char *p, size_t n)
{
    size_t colons = 0;
    if (n == 0 || n > SYSLOG_HOSTNAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == ':')
            colons++;
        else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '.' ||
                   c == '-' || c == '_'))
            return 0;
    }
    return colons == 0 || colons >= 2;
}

/* After an RFC 3164 timestamp and its space: [HOST SP] [TAG] content. */
static void parse_3164_rest(const char *p, const char *end, recbuild_t *rb)
{
    const char *sp = p < end ? memchr(p, ' ', (size_t)(end - p)) : NULL;
    const char *tok_end = sp ? sp : end;
    size_t tn = (size_t)(tok_end - p);
    if (tn && (tok_end[-1] == ':' || memchr(p, '[', tn))) {
        /* the token right after the time is the TAG: no HOSTNAME */
        const char *c = parse_tag(p, end, rb, 0);
        if (c)
            p = c;
    } else if (sp && is_host(p, tn)) {
        recbuild_set(rb, RF_HOST, p, tn);
        p = sp + 1;
        const char *c = parse_tag(p, end, rb, 0);
        if (c)
            p = c;
    }
    recbuild_set(rb, RF_MSG, p, (size_t)(end - p));
}

/* "YYYY-MM-DDThh:mm:ss[.frac]" in p[0..n), the whole of it: an RFC 3339
 * time without a zone (syslog-ng's loggen, and senders configured so),
 * taken in local time as rsyslog takes it. Returns 0 and sets *ns, or -1. */
static int local_rfc3339(const char *p, size_t n, int64_t *ns)
{
    static const unsigned char mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned y1, y2, mon;
    bsd_time_t t;
    if (n < 19 || two(p, &y1) || two(p + 2, &y2) || p[4] != '-' || two(p + 5, &mon) ||
        p[7] != '-' || two(p + 8, &t.day) || (p[10] != 'T' && p[10] != 't') ||
        two(p + 11, &t.hour) || p[13] != ':' || two(p + 14, &t.min) || p[16] != ':' ||
        two(p + 17, &t.sec))
        return -1;
    int y = (int)(y1 * 100 + y2);
    if (mon < 1 || mon > 12 || t.day < 1 || t.day > mdays[mon - 1] || t.hour > 23 || t.min > 59 ||
        t.sec > 60)
        return -1;
    if (mon == 2 && t.day == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return -1;
    t.mon = (int)mon - 1;
    t.frac = 0;
    size_t i = 19;
    if (i < n && p[i] == '.') {
        size_t f = ++i;
        int64_t scale = 100000000;
        while (i < n && is_digit(p[i])) {
            t.frac += (p[i] - '0') * scale;
            scale /= 10;
            i++;
        }
        if (i == f)
            return -1;
    }
    if (i != n)
        return -1;
    int64_t base = local_minute(y, &t);
    int64_t v;
    if (base == INT64_MIN ||
        __builtin_mul_overflow(base + (t.sec > 59 ? 59 : t.sec), NS_PER_SEC, &v) ||
        __builtin_add_overflow(v, t.frac, &v))
        return -1;
    *ns = v;
    return 0;
}

/* RFC 3164 from p (after <PRI>). Returns 0, or -1 when p starts with no
 * timestamp (then nothing was set). */
static int parse_3164(const char *p, const char *end, recbuild_t *rb, const rec_defaults_t *d)
{
    bsd_time_t t;
    const char *q = bsd_timestamp(p, end, &t);
    int64_t ns;
    if (q) {
        if (bsd_to_ns(&t, d->now, &ns) == 0) {
            rb->ts = ns;
            rb->has_ts = 1;
        }
    } else if (end - p >= 5 && is_digit(p[0]) && is_digit(p[1]) && is_digit(p[2]) &&
               is_digit(p[3]) && p[4] == '-') {
        q = memchr(p, ' ', (size_t)(end - p));
        if (!q)
            q = end;
        if (time_parse_rfc3339(p, (size_t)(q - p), &ns) && local_rfc3339(p, (size_t)(q - p), &ns))
            return -1;
        rb->ts = ns;
        rb->has_ts = 1;
    } else {
        return -1;
    }
    parse_3164_rest(q < end ? q + 1 : end, end, rb);
    return 0;
}

/* Python's SysLogHandler: <PRI> then the formatted text, maybe "tag: ". */
static void parse_bare(const char *p, const char *end, recbuild_t *rb)
{
    const char *c = parse_tag(p, end, rb, 1);
    if (c)
        p = c;
    recbuild_set(rb, RF_MSG, p, (size_t)(end - p));
}

static void set_topic(recbuild_t *rb, int pri)
{
    char topic[32];
    int fac = pri >> 3, sev = pri & 7;
    const char *ln = level_name(sev);
    size_t fn = strlen(facilities[fac]), lnn = strlen(ln);
    memcpy(topic, facilities[fac], fn);
    topic[fn] = '.';
    memcpy(topic + fn + 1, ln, lnn);
    recbuild_set(rb, RF_TOPIC, topic, fn + 1 + lnn);
    rb->level = sev;
}

void syslog_raw(const char *msg, size_t n, const char *why, recbuild_t *rb, batch_t *b,
                const rec_defaults_t *d)
{
    while (n && (msg[n - 1] == '\0' || msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        n--;
    /* keep the whole text: a bad message is never dropped */
    recbuild_reset(rb);
    rb->level = LEVEL_NOTICE;
    recbuild_set(rb, RF_TOPIC, "user.notice", 11);
    recbuild_set(rb, RF_MSG, msg, n);
    recbuild_field_key(rb, "parse_error", 11);
    recbuild_field_str(rb, why, strlen(why));
    recbuild_finish(rb, b, d);
}

enum syslog_result syslog_parse(const char *msg, size_t n, recbuild_t *rb, batch_t *b,
                                const rec_defaults_t *d)
{
    while (n && (msg[n - 1] == '\0' || msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        n--;
    recbuild_reset(rb);

    int pri = 0;
    size_t used = 0;
    const char *why = parse_pri(msg, n, &pri, &used);
    if (!why) {
        const char *p = msg + used, *end = msg + n;
        if (looks_5424(p, end))
            why = parse_5424(p + 2, end, rb);
        else if (parse_3164(p, end, rb, d))
            parse_bare(p, end, rb);
    }
    if (why) {
        syslog_raw(msg, n, why, rb, b, d);
        return SYSLOG_RAW;
    }
    set_topic(rb, pri);
    recbuild_finish(rb, b, d);
    return SYSLOG_OK;
}
