/* test_syslog_parse.c - syslog messages into records
 * (src/ingest/syslog/syslog_parse.c): RFC 5424, RFC 3164, Python's bare
 * <PRI>text, and the raw fallback. Local time is US Eastern (set in main). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/level.h"
#include "common/record.h"
#include "common/timeutil.h"
#include "ingest/syslog/syslog_parse.h"

#define SEC  NS_PER_SEC
#define HOUR (3600 * SEC)

/* ns of a UTC civil time */
static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
    return ((time_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400) + h * 3600 + mi * 60 + s) *
           SEC;
}

/* Receive time: 2026-11-21 11:10:00 EST = 16:10:00Z */
#define NOW utc(2026, 11, 21, 16, 10, 0)

static recbuild_t rb;
static batch_t b;
static rec_defaults_t defs;

static int setup(void **state)
{
    (void)state;
    recbuild_init(&rb, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    recbuild_free(&rb);
    batch_free(&b);
    return 0;
}

static void reset_defs(void)
{
    memset(&defs, 0, sizeof defs);
    defs.host = SLICE_LIT("192.0.2.7");
    defs.level = -1;
    defs.now = NOW;
}

static void slice_is(slice_t s, const char *want)
{
    if (s.n != strlen(want) || (s.n && memcmp(s.p, want, s.n) != 0))
        fail_msg("got \"%.*s\", want \"%s\"", (int)s.n, s.p ? s.p : "", want);
}

/* Parses n bytes of s into a fresh batch, which must hold one record. */
static record_t parse_n(const char *s, size_t n, enum syslog_result want)
{
    batch_reset(&b);
    enum syslog_result res = syslog_parse(s, n, &rb, &b, &defs);
    if (res != want)
        fail_msg("%.*s: result %d, want %d", (int)n, s, res, want);
    assert_int_equal(b.count, 1);
    record_t r;
    assert_int_equal(record_decode(b.frames.data, b.frames.len, &r), (long)b.frames.len);
    assert_int_equal(r.seq, 0);
    return r;
}

static record_t ok(const char *s)
{
    return parse_n(s, strlen(s), SYSLOG_OK);
}

/* A message that must be kept raw, with reason why. */
static void raw_is(const char *s, size_t n, const char *kept, const char *why)
{
    record_t r = parse_n(s, n, SYSLOG_RAW);
    slice_is(r.msg, kept);
    assert_int_equal(r.level, LEVEL_NOTICE);
    slice_is(r.topic, "user.notice");
    slice_is(r.host, "192.0.2.7");
    slice_is(r.app, "default");
    slice_is(r.pid, "");
    assert_int_equal(r.ts, NOW);
    char want[256];
    snprintf(want, sizeof want, "{\"parse_error\":\"%s\"}", why);
    slice_is(r.fields, want);
}

static void raw(const char *s, const char *why)
{
    raw_is(s, strlen(s), s, why);
}

static void test_facility_names(void **state)
{
    (void)state;
    static const char *const want[24] = {
        "kern",   "user",   "mail",     "daemon", "auth",   "syslog",   "lpr",     "news",
        "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "security", "console", "solaris-cron",
        "local0", "local1", "local2",   "local3", "local4", "local5",   "local6",  "local7"};
    for (int f = 0; f < 24; f++)
        assert_string_equal(syslog_facility_name(f), want[f]);
    assert_null(syslog_facility_name(-1));
    assert_null(syslog_facility_name(24));
}

static void test_pri_and_topics(void **state)
{
    (void)state;
    record_t r = ok("<0>boom");
    assert_int_equal(r.level, LEVEL_EMERG);
    slice_is(r.topic, "kern.emerg");
    slice_is(r.msg, "boom");
    r = ok("<2>x");
    slice_is(r.topic, "kern.crit");
    assert_int_equal(r.level, LEVEL_CRIT);
    r = ok("<36>x");
    slice_is(r.topic, "auth.warning");
    assert_int_equal(r.level, LEVEL_WARNING);
    r = ok("<11>x");
    slice_is(r.topic, "user.error");
    r = ok("<158>x");
    slice_is(r.topic, "local3.info");
    assert_int_equal(r.level, LEVEL_INFO);
    r = ok("<191>x");
    slice_is(r.topic, "local7.debug");
    assert_int_equal(r.level, LEVEL_DEBUG);
    r = ok("<125>x");
    slice_is(r.topic, "solaris-cron.notice");
    r = ok("<80>x");
    slice_is(r.topic, "authpriv.emerg");
}

static void test_bad_pri(void **state)
{
    (void)state;
    reset_defs();
    raw("<192>x", "PRI above 191");
    raw("<999>x", "PRI above 191");
    raw("<1a>x", "bad PRI");
    raw("<>x", "bad PRI");
    raw("<1234>x", "bad PRI");
    raw("<13", "bad PRI");
    raw("<13 x", "bad PRI");
    raw("<-1>x", "bad PRI");
    raw("<", "bad PRI");
    raw("<007>x", "PRI with a leading zero");
    raw("<00>x", "PRI with a leading zero");
    raw("<013>x", "PRI with a leading zero");
    raw("hello", "missing PRI");
    raw(" <13>x", "missing PRI");
    raw("", "missing PRI");
    /* trailing NUL, LF and CR go before the text is kept */
    raw_is("hello\r\n\0", 8, "hello", "missing PRI");
    raw_is("\n\0\r", 3, "", "missing PRI");
    /* the receive time and the sender's address fill in */
    defs.host = SLICE_LIT("10.1.1.1");
    record_t r = parse_n("nope", 4, SYSLOG_RAW);
    slice_is(r.host, "10.1.1.1");
    reset_defs();
}

static void test_rfc5424_logger(void **state)
{
    (void)state;
    reset_defs();
    /* util-linux logger's network default */
    record_t r = ok("<13>1 2026-11-21T11:03:30.123456+00:00 vm myapp - - [timeQuality "
                    "tzKnown=\"1\" isSynced=\"0\"] hello");
    assert_int_equal(r.level, LEVEL_NOTICE);
    slice_is(r.topic, "user.notice");
    slice_is(r.host, "vm");
    slice_is(r.app, "myapp");
    slice_is(r.pid, "");
    slice_is(r.msg, "hello");
    assert_int_equal(r.ts, utc(2026, 11, 21, 11, 3, 30) + 123456000);
    slice_is(r.fields, "{\"timeQuality.tzKnown\":\"1\",\"timeQuality.isSynced\":\"0\"}");
    assert_int_equal(r.flags, 0);

    /* the same with a trailing LF (logger --tcp) */
    r = ok("<13>1 2026-11-21T11:03:30.123456+00:00 vm myapp - - [timeQuality tzKnown=\"1\" "
           "isSynced=\"0\"] hello\n");
    slice_is(r.msg, "hello");
}

static void test_rfc5424_rfc_examples(void **state)
{
    (void)state;
    reset_defs();
    /* RFC 5424 6.5, example 1: BOM before MSG */
    record_t r = ok("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - "
                    "\xEF\xBB\xBF'su root' failed for lonvick on /dev/pts/8");
    slice_is(r.topic, "auth.crit");
    assert_int_equal(r.level, LEVEL_CRIT);
    slice_is(r.host, "mymachine.example.com");
    slice_is(r.app, "su");
    slice_is(r.pid, "");
    slice_is(r.fields, "{\"msgid\":\"ID47\"}");
    slice_is(r.msg, "'su root' failed for lonvick on /dev/pts/8");
    assert_int_equal(r.ts, utc(2003, 10, 11, 22, 14, 15) + 3000000);

    /* example 2: offset, PROCID, no SD */
    r = ok("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to "
           "make the do-nuts.");
    slice_is(r.topic, "local4.notice");
    slice_is(r.host, "192.0.2.1");
    slice_is(r.app, "myproc");
    slice_is(r.pid, "8710");
    slice_is(r.fields, "");
    slice_is(r.msg, "%% It's time to make the do-nuts.");
    assert_int_equal(r.ts, utc(2003, 8, 24, 12, 14, 15) + 3000);

    /* example 3: SD and a BOM'd MSG */
    r = ok("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
           "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] "
           "\xEF\xBB\xBF"
           "An application event log entry...");
    slice_is(r.app, "evntslog");
    slice_is(r.fields, "{\"msgid\":\"ID47\",\"exampleSDID@32473.iut\":\"3\","
                       "\"exampleSDID@32473.eventSource\":\"Application\","
                       "\"exampleSDID@32473.eventID\":\"1011\"}");
    slice_is(r.msg, "An application event log entry...");

    /* example 4: several elements, no MSG */
    r = ok("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
           "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"
           "[examplePriority@32473 class=\"high\"]");
    slice_is(r.fields, "{\"msgid\":\"ID47\",\"exampleSDID@32473.iut\":\"3\","
                       "\"exampleSDID@32473.eventSource\":\"Application\","
                       "\"exampleSDID@32473.eventID\":\"1011\","
                       "\"examplePriority@32473.class\":\"high\"}");
    slice_is(r.msg, "");
    /* a BOM only counts at the start of MSG */
    r = ok("<14>1 - - - - - - a\xEF\xBB\xBF");
    slice_is(r.msg, "a\xEF\xBB\xBF");
}

static void test_rfc5424_nil(void **state)
{
    (void)state;
    reset_defs();
    record_t r = ok("<14>1 - - - - - -");
    assert_int_equal(r.ts, NOW);
    slice_is(r.host, "192.0.2.7");
    slice_is(r.app, "default");
    slice_is(r.pid, "");
    slice_is(r.fields, "");
    slice_is(r.msg, "");
    slice_is(r.topic, "user.info");

    r = ok("<14>1 - - - - - - the message");
    slice_is(r.msg, "the message");
    assert_int_equal(r.ts, NOW);

    r = ok("<14>1 - host - 77 - - m");
    slice_is(r.host, "host");
    slice_is(r.app, "default");
    slice_is(r.pid, "77");

    /* the caller's app default */
    defs.app = SLICE_LIT("syslog");
    r = ok("<14>1 - - - - - - m");
    slice_is(r.app, "syslog");
    slice_is(r.topic, "user.info");
    reset_defs();

    /* lenient: the header ends after MSGID, or SD is missing */
    r = ok("<14>1 - h a p m");
    slice_is(r.host, "h");
    slice_is(r.pid, "p");
    slice_is(r.fields, "{\"msgid\":\"m\"}");
    slice_is(r.msg, "");
    r = ok("<14>1 - h a - - hello world");
    slice_is(r.msg, "hello world");
    r = ok("<14>1 - h a - - -dash");
    slice_is(r.msg, "-dash");
    /* MSG keeps its spaces */
    r = ok("<14>1 - h a - - -   spaced  ");
    slice_is(r.msg, "  spaced  ");
}

static void test_rfc5424_sd(void **state)
{
    (void)state;
    reset_defs();
    record_t r = ok("<14>1 - - - - - [x a=\"q\\\"uote\" b=\"back\\\\slash\" c=\"br\\]acket\" "
                    "d=\"keep\\n\" e=\"\" f=\"a]b\" g=\"\\\\\\\"\"] m");
    slice_is(r.fields, "{\"x.a\":\"q\\\"uote\",\"x.b\":\"back\\\\slash\",\"x.c\":\"br]acket\","
                       "\"x.d\":\"keep\\\\n\",\"x.e\":\"\",\"x.f\":\"a]b\",\"x.g\":\"\\\\\\\"\"}");
    slice_is(r.msg, "m");

    /* elements with no params, several, UTF-8 values */
    r = ok("<14>1 - - - - - [a][b k=\"caf\xC3\xA9\"][c] m");
    slice_is(r.fields, "{\"b.k\":\"caf\xC3\xA9\"}");
    assert_int_equal(r.flags, 0);
    /* an SD-ID and PARAM-NAME of 32 bytes */
    r = ok("<14>1 - - - - - [aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
           "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb=\"v\"]");
    slice_is(r.fields,
             "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\":\"v\"}");
    /* invalid UTF-8 in a value is repaired, also next to escapes */
    r = ok("<14>1 - - - - - [x a=\"\xFF\\\"\xC3\"] m");
    slice_is(r.fields, "{\"x.a\":\"\xEF\xBF\xBD\\\"\xEF\xBF\xBD\"}");
    assert_int_equal(r.flags, RECORD_F_REPAIRED);
    /* a control byte in a value is escaped in the JSON */
    r = ok("<14>1 - - - - - [x a=\"t\tn\"] m");
    slice_is(r.fields, "{\"x.a\":\"t\\tn\"}");
}

static void test_rfc5424_errors(void **state)
{
    (void)state;
    reset_defs();
    char msg[600], host[300];

    memset(host, 'h', 255);
    host[255] = '\0';
    snprintf(msg, sizeof msg, "<14>1 - %s app - - - m", host);
    record_t r = ok(msg);
    assert_int_equal(r.host.n, 255);
    host[255] = 'h';
    host[256] = '\0';
    snprintf(msg, sizeof msg, "<14>1 - %s app - - - m", host);
    raw(msg, "RFC 5424 HOSTNAME longer than 255 bytes");

    raw("<14>1 - h aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa - - - m",
        "RFC 5424 APP-NAME longer than 48 bytes");
    r = ok("<14>1 - h aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa - - - m");
    assert_int_equal(r.app.n, 48);
    char pid[200];
    memset(pid, '9', 129);
    pid[129] = '\0';
    snprintf(msg, sizeof msg, "<14>1 - h a %s - - m", pid);
    raw(msg, "RFC 5424 PROCID longer than 128 bytes");
    pid[128] = '\0';
    snprintf(msg, sizeof msg, "<14>1 - h a %s - - m", pid);
    r = ok(msg);
    assert_int_equal(r.pid.n, 128);
    raw("<14>1 - h a - ID3456789012345678901234567890123 - m",
        "RFC 5424 MSGID longer than 32 bytes");
    r = ok("<14>1 - h a - ID345678901234567890123456789012 - m");
    slice_is(r.fields, "{\"msgid\":\"ID345678901234567890123456789012\"}");

    /* timestamps: RFC 5424's is strict */
    raw("<14>1 2026-13-01T00:00:00Z h a - - - m", "bad RFC 5424 timestamp");
    raw("<14>1 2026-11-21T11:03:30 h a - - - m", "bad RFC 5424 timestamp");
    raw("<14>1 2026-11-21 h a - - - m", "bad RFC 5424 timestamp");
    raw("<14>1 2026-02-29T00:00:00Z h a - - - m", "bad RFC 5424 timestamp");
    raw("<14>1 9999-12-31T23:59:59Z h a - - - m", "bad RFC 5424 timestamp");
    raw("<14>1 2026-11-21T11:03:30.Z h a - - - m", "bad RFC 5424 timestamp");
    r = ok("<14>1 2024-02-29T23:59:60Z h a - - - m"); /* leap day, leap second */
    assert_int_equal(r.ts, utc(2024, 2, 29, 23, 59, 59));

    /* the header */
    raw("<14>1 - host app", "RFC 5424 header ends early");
    raw("<14>1 -", "RFC 5424 header ends early");
    raw("<14>1 - h a p", "RFC 5424 header ends early");
    raw("<14>1 -  host app - - - m", "RFC 5424 header field is empty");
    /* a space where SD should be: lenient, the rest is MSG */
    r = ok("<14>1 - h a - -  m");
    slice_is(r.msg, " m");

    /* structured data */
    raw("<14>1 - h a - - [x a=\"1\"", "bad RFC 5424 structured data");
    raw("<14>1 - h a - - [x a=\"1", "bad RFC 5424 structured data");
    raw("<14>1 - h a - - [x a=\"1\\\"]", "bad RFC 5424 structured data");
    raw("<14>1 - h a - - [x a=1] m", "bad RFC 5424 structured data");
    raw("<14>1 - h a - - [x a] m", "bad RFC 5424 structured data");
    raw("<14>1 - h a - - [x =\"1\"] m", "bad RFC 5424 structured data");
    raw("<14>1 - h a - - [ a=\"1\"] m", "bad RFC 5424 structured data");
    raw("<14>1 - h a - - [] m", "bad RFC 5424 structured data");
    raw("<14>1 - h a - - [x a=\"1\"]m", "bad RFC 5424 structured data");
    raw("<14>1 - h a - - [x a=\"1\"]-", "bad RFC 5424 structured data");
    raw("<14>1 - h a - - [x a=\"1\"b=\"2\"] m", "bad RFC 5424 structured data");
    raw("<14>1 - h a - - [aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa] m", "bad RFC 5424 structured data");
    raw("<14>1 - h a - - [x bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb=\"v\"] m",
        "bad RFC 5424 structured data");

    /* a raw record carries nothing of a half-parsed one */
    raw("<14>1 - host app 12 ID [x a=\"1\"][y", "bad RFC 5424 structured data");

    /* "1 " without a time after it is no RFC 5424 header: bare text */
    r = ok("<14>1 apple a day");
    slice_is(r.msg, "1 apple a day");
    r = ok("<14>1 -x");
    slice_is(r.msg, "1 -x");
}

/* RFC 3164 times are local: US Eastern, EST -5 and EDT -4 */
static void test_rfc3164_logger(void **state)
{
    (void)state;
    reset_defs();
    record_t r = ok("<13>Nov 21 11:03:30 vm myapp: hello");
    slice_is(r.topic, "user.notice");
    slice_is(r.host, "vm");
    slice_is(r.app, "myapp");
    slice_is(r.pid, "");
    slice_is(r.msg, "hello");
    slice_is(r.fields, "");
    assert_int_equal(r.ts, utc(2026, 11, 21, 16, 3, 30));

    /* logger -t myapp --rfc3164 over TCP: LF-terminated */
    r = ok("<13>Nov 21 11:03:30 vm myapp: hello\n");
    slice_is(r.msg, "hello");
}

static void test_rfc3164_variants(void **state)
{
    (void)state;
    reset_defs();
    /* no HOSTNAME: the token after the time ends in ':' */
    record_t r = ok("<13>Nov 21 11:03:30 myapp: hello");
    slice_is(r.host, "192.0.2.7");
    slice_is(r.app, "myapp");
    slice_is(r.msg, "hello");

    r = ok("<38>Nov 21 11:03:30 host sshd[123]: Accepted publickey for bob");
    slice_is(r.topic, "auth.info");
    slice_is(r.host, "host");
    slice_is(r.app, "sshd");
    slice_is(r.pid, "123");
    slice_is(r.msg, "Accepted publickey for bob");

    /* no HOSTNAME: the token after the time holds '[' */
    r = ok("<86>Nov 21 11:03:30 sshd[123]: session opened");
    slice_is(r.topic, "authpriv.info");
    slice_is(r.host, "192.0.2.7");
    slice_is(r.app, "sshd");
    slice_is(r.pid, "123");
    slice_is(r.msg, "session opened");

    /* the RFC 3164 example (October: EDT) */
    r = ok("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8");
    slice_is(r.topic, "auth.crit");
    slice_is(r.host, "mymachine");
    slice_is(r.app, "su");
    slice_is(r.msg, "'su root' failed for lonvick on /dev/pts/8");
    assert_int_equal(r.ts, utc(2026, 10, 12, 2, 14, 15));

    /* a day padded with a space; the morning after the end of DST */
    r = ok("<13>Nov  1 09:00:00 vm app: x");
    assert_int_equal(r.ts, utc(2026, 11, 1, 14, 0, 0));
    slice_is(r.host, "vm");
    r = ok("<13>Nov 01 09:00:00 vm app: x");
    assert_int_equal(r.ts, utc(2026, 11, 1, 14, 0, 0));
    r = ok("<13>Nov 1 09:00:00 vm app: x");
    assert_int_equal(r.ts, utc(2026, 11, 1, 14, 0, 0));
    /* in summer */
    r = ok("<13>Jul  4 12:00:00 vm app: x");
    assert_int_equal(r.ts, utc(2026, 7, 4, 16, 0, 0));
    /* a fraction */
    r = ok("<13>Nov 21 11:03:30.250 vm app: x");
    assert_int_equal(r.ts, utc(2026, 11, 21, 16, 3, 30) + SEC / 4);

    /* HOSTNAME, no TAG */
    r = ok("<13>Nov 21 11:03:30 vm hello world");
    slice_is(r.host, "vm");
    slice_is(r.app, "default");
    slice_is(r.msg, "hello world");
    /* one token: content, not a hostname */
    r = ok("<13>Nov 21 11:03:30 hello");
    slice_is(r.host, "192.0.2.7");
    slice_is(r.msg, "hello");
    /* nothing after the time */
    r = ok("<13>Nov 21 11:03:30");
    slice_is(r.msg, "");
    assert_int_equal(r.ts, utc(2026, 11, 21, 16, 3, 30));
    r = ok("<13>Nov 21 11:03:30 ");
    slice_is(r.msg, "");
    /* a tag with no content */
    r = ok("<13>Nov 21 11:03:30 vm app:");
    slice_is(r.app, "app");
    slice_is(r.msg, "");
    /* [pid] without the colon */
    r = ok("<13>Nov 21 11:03:30 vm app[7] started");
    slice_is(r.app, "app");
    slice_is(r.pid, "7");
    slice_is(r.msg, "started");
    /* tags as daemons write them */
    r = ok("<22>Nov 21 11:03:30 mx postfix/smtpd[1234]: connect from x");
    slice_is(r.topic, "mail.info");
    slice_is(r.app, "postfix/smtpd");
    slice_is(r.pid, "1234");
    r = ok("<30>Nov 21 11:03:30 box systemd-logind[1]: New session");
    slice_is(r.app, "systemd-logind");
    r = ok("<0>Nov 21 11:03:30 box kernel: Oops");
    slice_is(r.app, "kernel");
    slice_is(r.topic, "kern.emerg");
    /* IPv6 and dotted hosts */
    r = ok("<13>Nov 21 11:03:30 2001:db8::1 app: x");
    slice_is(r.host, "2001:db8::1");
    slice_is(r.app, "app");
    r = ok("<13>Nov 21 11:03:30 10.0.0.5 app: x");
    slice_is(r.host, "10.0.0.5");
    /* content only: no host-like token, no tag */
    r = ok("<13>Nov 21 11:03:30 Hello, world: hi");
    slice_is(r.host, "192.0.2.7");
    slice_is(r.app, "default");
    slice_is(r.msg, "Hello, world: hi");
    r = ok("<13>Nov 21 11:03:30 vm app:nospace");
    slice_is(r.host, "vm");
    slice_is(r.app, "default");
    slice_is(r.msg, "app:nospace");
    r = ok("<13>Nov 21 11:03:30 [x]: y");
    slice_is(r.app, "default");
    slice_is(r.msg, "[x]: y");
    r = ok("<13>Nov 21 11:03:30  vm app: two spaces");
    slice_is(r.host, "192.0.2.7");
    slice_is(r.msg, " vm app: two spaces");
    /* only one space after "tag:" is removed */
    r = ok("<13>Nov 21 11:03:30 vm app:   indented");
    slice_is(r.msg, "  indented");
    /* a tag of 49 bytes is no tag */
    r = ok("<13>Nov 21 11:03:30 vm aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: x");
    slice_is(r.app, "default");
    slice_is(r.msg, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: x");
}

static void test_rfc3164_year(void **state)
{
    (void)state;
    reset_defs();
    /* within a day ahead of now (2026-11-21 11:10 EST): this year */
    record_t r = ok("<13>Nov 22 11:09:00 vm app: x");
    assert_int_equal(r.ts, utc(2026, 11, 22, 16, 9, 0));
    /* more than a day ahead: last year */
    r = ok("<13>Nov 22 11:11:00 vm app: x");
    assert_int_equal(r.ts, utc(2025, 11, 22, 16, 11, 0));
    r = ok("<13>Dec 25 08:00:00 vm app: x");
    assert_int_equal(r.ts, utc(2025, 12, 25, 13, 0, 0));
    /* New Year: now is 2027-01-01 00:30 EST */
    defs.now = utc(2027, 1, 1, 5, 30, 0);
    r = ok("<13>Dec 31 23:59:00 vm app: x");
    assert_int_equal(r.ts, utc(2027, 1, 1, 4, 59, 0));
    r = ok("<13>Jan  1 00:20:00 vm app: x");
    assert_int_equal(r.ts, utc(2027, 1, 1, 5, 20, 0));
    /* a leap day in a leap year's now */
    defs.now = utc(2028, 3, 1, 12, 0, 0);
    r = ok("<13>Feb 29 12:00:00 vm app: x");
    assert_int_equal(r.ts, utc(2028, 2, 29, 17, 0, 0));
    /* in a time in the middle of the ambiguous hour both answers are fine;
     * 01:30 on the day DST ends is 05:30Z or 06:30Z */
    defs.now = NOW;
    r = ok("<13>Nov  1 01:30:00 vm app: x");
    assert_true(r.ts == utc(2026, 11, 1, 5, 30, 0) || r.ts == utc(2026, 11, 1, 6, 30, 0));
    /* a leap second holds the last second */
    r = ok("<13>Nov 21 11:03:60 vm app: x");
    assert_int_equal(r.ts, utc(2026, 11, 21, 16, 3, 59));
    reset_defs();
}

static void test_rfc3164_rfc3339(void **state)
{
    (void)state;
    reset_defs();
    /* rsyslog's RSYSLOG_ForwardFormat */
    record_t r = ok("<13>2026-11-21T10:45:56.123+00:00 host tag: msg");
    assert_int_equal(r.ts, utc(2026, 11, 21, 10, 45, 56) + 123 * NS_PER_MS);
    slice_is(r.host, "host");
    slice_is(r.app, "tag");
    slice_is(r.msg, "msg");
    r = ok("<30>2026-11-21T10:45:56Z tag[9]: m");
    slice_is(r.topic, "daemon.info");
    slice_is(r.host, "192.0.2.7");
    slice_is(r.app, "tag");
    slice_is(r.pid, "9");
    slice_is(r.msg, "m");
    r = ok("<13>2026-11-21T05:45:56-05:00");
    assert_int_equal(r.ts, utc(2026, 11, 21, 10, 45, 56));
    slice_is(r.msg, "");
}

/* syslog-ng's loggen: an RFC 3339 time without a zone, in local time (US
 * Eastern here), then HOST and TAG[pid] */
static void test_rfc3164_rfc3339_local(void **state)
{
    (void)state;
    reset_defs();
    record_t r = ok("<38>2026-01-01T00:00:00 localhost prg00000[1234]: seq: 0000000000, thread: "
                    "0000, runid: 1796315256, stamp: 2026-01-01T00:00:00 ");
    assert_int_equal(r.ts, utc(2026, 1, 1, 5, 0, 0)); /* EST: UTC-5 */
    slice_is(r.topic, "auth.info");
    assert_int_equal(r.level, LEVEL_INFO);
    slice_is(r.host, "localhost");
    slice_is(r.app, "prg00000");
    slice_is(r.pid, "1234");
    slice_is(r.msg,
             "seq: 0000000000, thread: 0000, runid: 1796315256, stamp: 2026-01-01T00:00:00 ");
    slice_is(r.fields, "");
    /* summer time: EDT, UTC-4; a fraction; its own year, not now's */
    r = ok("<13>2024-07-04T12:30:15.25 vm app: x");
    assert_int_equal(r.ts, utc(2024, 7, 4, 16, 30, 15) + 250 * NS_PER_MS);
    slice_is(r.host, "vm");
    slice_is(r.app, "app");
    slice_is(r.msg, "x");
    /* lower-case t, no host, and the time alone */
    r = ok("<13>2026-11-21t10:45:56 tag[9]: m");
    assert_int_equal(r.ts, utc(2026, 11, 21, 15, 45, 56));
    slice_is(r.host, "192.0.2.7");
    slice_is(r.app, "tag");
    slice_is(r.pid, "9");
    r = ok("<13>2028-02-29T23:59:60");
    assert_int_equal(r.ts, utc(2028, 3, 1, 4, 59, 59)); /* a leap second holds the last */
    slice_is(r.msg, "");
    /* not a time: bare text with the receive time, nothing lost */
    static const char *const bad[] = {
        "2026-01-01T00:00 localhost prg[1]: x",     "2026-13-01T00:00:00 localhost prg[1]: x",
        "2026-02-29T00:00:00 localhost prg[1]: x",  "2026-01-01T24:00:00 localhost prg[1]: x",
        "2026-01-01T00:00:00. localhost prg[1]: x", "2026-01-01T00:00:00+05 localhost prg[1]: x",
        "2026-01-01X00:00:00 localhost prg[1]: x",  "0000-01-01T00:00:00 localhost prg[1]: x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char msg[128];
        snprintf(msg, sizeof msg, "<38>%s", bad[i]);
        r = ok(msg);
        slice_is(r.msg, bad[i]);
        assert_int_equal(r.ts, NOW);
        slice_is(r.host, "192.0.2.7");
        slice_is(r.app, "default");
        slice_is(r.topic, "auth.info");
    }
}

static void test_rfc3164_bad_timestamp(void **state)
{
    (void)state;
    reset_defs();
    /* no valid time: bare text, everything after <PRI> kept, receive time */
    static const char *const bad[] = {
        "Nov 32 11:03:30 vm app: x",          "Nov 21 25:03:30 vm app: x",
        "Nov 21 11:60:30 vm app: x",          "Nov 21 11:03:61 vm app: x",
        "Nov 00 11:03:30 vm app: x",          "Feb 30 11:03:30 vm app: x",
        "Foo 21 11:03:30 vm app: x",          "nov 21 11:03:30 vm app: x",
        "Nov 21 11:03:30x vm app: x",         "Nov 21 11:3:30 vm app: x",
        "Nov 21 11:03:30. vm app: x",         "Nov21 11:03:30 vm app: x",
        "2026-99-21T10:45:56Z host tag: msg", "2026-11-21 10:45:56Z host tag: msg",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char msg[128];
        snprintf(msg, sizeof msg, "<13>%s", bad[i]);
        record_t r = ok(msg);
        slice_is(r.msg, bad[i]);
        assert_int_equal(r.ts, NOW);
        slice_is(r.host, "192.0.2.7");
        slice_is(r.app, "default");
        slice_is(r.topic, "user.notice");
    }
}

static void test_bare_python(void **state)
{
    (void)state;
    reset_defs();
    /* SysLogHandler over UDP: <PRI>text NUL */
    record_t r = parse_n("<14>hello udp\0", 14, SYSLOG_OK);
    slice_is(r.topic, "user.info");
    assert_int_equal(r.level, LEVEL_INFO);
    slice_is(r.msg, "hello udp");
    slice_is(r.host, "192.0.2.7");
    slice_is(r.app, "default");
    slice_is(r.pid, "");
    slice_is(r.fields, "");
    assert_int_equal(r.ts, NOW);
    /* over TCP, frames of "<132>one\0<132>two\0" */
    r = ok("<132>one");
    slice_is(r.topic, "local0.warning");
    slice_is(r.msg, "one");

    r = ok("<14>myapp: hello");
    slice_is(r.app, "myapp");
    slice_is(r.msg, "hello");
    r = ok("<14>myapp[42]: hello");
    slice_is(r.app, "myapp");
    slice_is(r.pid, "42");
    slice_is(r.msg, "hello");
    r = ok("<14>my.app/x_y-z: hello: world");
    slice_is(r.app, "my.app/x_y-z");
    slice_is(r.msg, "hello: world");
    /* the rule's consequence for "Word: text" */
    r = ok("<11>Error: disk full");
    slice_is(r.app, "Error");
    slice_is(r.msg, "disk full");

    /* not tags: the whole text is msg */
    static const char *const whole[] = {
        "no tag here",
        "a b: c",
        "myapp:hello",
        "myapp:",
        "myapp[42] hello",
        "my app: x",
        "caf\xC3\xA9: x",
        "[42]: x",
        "x[]: y",
        "x[1: y",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: x",
        ": x",
        "",
        "  indented",
        "1 apple",
    };
    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++) {
        char msg[128];
        snprintf(msg, sizeof msg, "<14>%s", whole[i]);
        r = ok(msg);
        slice_is(r.msg, whole[i]);
        slice_is(r.app, "default");
        slice_is(r.pid, "");
    }
    /* 48 bytes is a tag */
    r = ok("<14>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: x");
    assert_int_equal(r.app.n, 48);
    slice_is(r.msg, "x");
}

static void test_trailing_bytes(void **state)
{
    (void)state;
    reset_defs();
    record_t r = ok("<13>Nov 21 11:03:30 vm app: hi\r\n");
    slice_is(r.msg, "hi");
    r = parse_n("<14>x\n\0\r\n\0", 10, SYSLOG_OK);
    slice_is(r.msg, "x");
    /* NUL and CR inside are kept (JSON escapes them) */
    r = parse_n("<14>a\0b\rc", 9, SYSLOG_OK);
    assert_int_equal(r.msg.n, 5);
    assert_memory_equal(r.msg.p, "a\0b\rc", 5);
    /* only the length given counts */
    r = parse_n("<14>abcdef", 6, SYSLOG_OK);
    slice_is(r.msg, "ab");
    r = parse_n("<14>", 4, SYSLOG_OK);
    slice_is(r.msg, "");
    slice_is(r.topic, "user.info");
}

static void test_utf8_and_limits(void **state)
{
    (void)state;
    reset_defs();
    record_t r = ok("<14>bad \xFF byte");
    slice_is(r.msg, "bad \xEF\xBF\xBD byte");
    assert_int_equal(r.flags, RECORD_F_REPAIRED);
    r = ok("<14>1 - h\xC3 a - - - m");
    slice_is(r.host, "h\xEF\xBF\xBD");
    assert_int_equal(r.flags, RECORD_F_REPAIRED);

    /* max_msg cuts on a UTF-8 boundary and flags the record */
    recbuild_t small;
    recbuild_init(&small, 5);
    batch_t sb = {0};
    assert_int_equal(syslog_parse("<14>app: abcd\xC3\xA9xyz", 18, &small, &sb, &defs), SYSLOG_OK);
    record_t sr;
    assert_int_equal(record_decode(sb.frames.data, sb.frames.len, &sr), (long)sb.frames.len);
    slice_is(sr.msg, "abcd");
    slice_is(sr.app, "app");
    assert_int_equal(sr.flags, RECORD_F_TRUNCATED);
    assert_int_equal(sb.truncated, 1);
    /* a raw record is cut the same way */
    batch_reset(&sb);
    assert_int_equal(syslog_parse("no pri at all", 13, &small, &sb, &defs), SYSLOG_RAW);
    assert_int_equal(record_decode(sb.frames.data, sb.frames.len, &sr), (long)sb.frames.len);
    slice_is(sr.msg, "no pr");
    assert_int_equal(sr.flags, RECORD_F_TRUNCATED);
    slice_is(sr.fields, "{\"parse_error\":\"missing PRI\"}");
    recbuild_free(&small);
    batch_free(&sb);
}

static void test_batch_of_many(void **state)
{
    (void)state;
    reset_defs();
    static const char *const msgs[] = {
        "<13>1 - h1 a1 1 - - one",
        "bad",
        "<13>Nov 21 11:03:30 h2 a2[2]: two",
        "<14>a3: three",
    };
    batch_reset(&b);
    for (int round = 0; round < 100; round++)
        for (size_t i = 0; i < 4; i++)
            syslog_parse(msgs[i], strlen(msgs[i]), &rb, &b, &defs);
    assert_int_equal(b.count, 400);
    size_t off = 0;
    for (int k = 0; k < 400; k++) {
        record_t r;
        long n = record_decode(b.frames.data + off, b.frames.len - off, &r);
        assert_true(n > 0);
        off += (size_t)n;
        static const char *const want[] = {"one", "bad", "two", "three"};
        slice_is(r.msg, want[k % 4]);
        /* nothing leaks from the record before */
        slice_is(r.fields, k % 4 == 1 ? "{\"parse_error\":\"missing PRI\"}" : "");
        slice_is(r.pid, k % 4 == 0 ? "1" : k % 4 == 2 ? "2" : "");
    }
    assert_int_equal(off, b.frames.len);
}

int main(void)
{
    /* a POSIX TZ rule needs no tzdata: US Eastern since 2007 */
    setenv("TZ", "EST5EDT,M3.2.0,M11.1.0", 1);
    tzset();
    reset_defs();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_facility_names),
        cmocka_unit_test(test_pri_and_topics),
        cmocka_unit_test(test_bad_pri),
        cmocka_unit_test(test_rfc5424_logger),
        cmocka_unit_test(test_rfc5424_rfc_examples),
        cmocka_unit_test(test_rfc5424_nil),
        cmocka_unit_test(test_rfc5424_sd),
        cmocka_unit_test(test_rfc5424_errors),
        cmocka_unit_test(test_rfc3164_logger),
        cmocka_unit_test(test_rfc3164_variants),
        cmocka_unit_test(test_rfc3164_year),
        cmocka_unit_test(test_rfc3164_rfc3339),
        cmocka_unit_test(test_rfc3164_rfc3339_local),
        cmocka_unit_test(test_rfc3164_bad_timestamp),
        cmocka_unit_test(test_bare_python),
        cmocka_unit_test(test_trailing_bytes),
        cmocka_unit_test(test_utf8_and_limits),
        cmocka_unit_test(test_batch_of_many),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
