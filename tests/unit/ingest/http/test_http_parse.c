/* test_http_parse.c - HTTP ingest bodies into records (src/ingest/http/http_parse.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/level.h"
#include "ingest/http/http_parse.h"

#define SEC   1000000000LL
#define T2024 (1732186000LL * SEC)
#define NOW   ((int64_t)1700000000 * SEC)

/* What urllib.parse.urlencode(record.__dict__) gives for
 * logging.LogRecord('myapp', WARNING, '/srv/app/main.py', 42, 'user %s from %s',
 * ('bob', '10.0.0.1'), None, func='handle') on CPython 3.11 (HTTPHandler's
 * POST body), with created, thread and process set to fixed values. */
#define PY_RECORD                                                                                  \
    "name=myapp&msg=user+%25s+from+%25s&args=%28%27bob%27%2C+%2710.0.0.1%27%29"                    \
    "&levelname=WARNING&levelno=30&pathname=%2Fsrv%2Fapp%2Fmain.py&filename=main.py"               \
    "&module=main&exc_info=None&exc_text=None&stack_info=None&lineno=42&funcName=handle"           \
    "&created=1732186000.123456&msecs=123.0&relativeCreated=5.5&thread=140234"                     \
    "&threadName=MainThread&processName=MainProcess&process=4321"

#define PY_FIELDS                                                                                  \
    "{\"pathname\":\"/srv/app/main.py\",\"filename\":\"main.py\",\"module\":\"main\","             \
    "\"lineno\":42,\"funcName\":\"handle\",\"thread\":140234,\"threadName\":\"MainThread\","       \
    "\"processName\":\"MainProcess\"}"

static http_parse_t hp;
static batch_t b;
static ingest_report_t rep;
static rec_defaults_t defs;

static int setup(void **state)
{
    (void)state;
    http_parse_init(&hp, 0);
    memset(&defs, 0, sizeof defs);
    defs.level = -1;
    defs.now = NOW;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    http_parse_free(&hp);
    batch_free(&b);
    ingest_report_free(&rep);
    return 0;
}

static void slice_is(slice_t s, const char *want)
{
    if (s.n != strlen(want) || (s.n && memcmp(s.p, want, s.n) != 0))
        fail_msg("got \"%.*s\", want \"%s\"", (int)s.n, s.p ? s.p : "", want);
}

/* Parses a body; returns the status. */
static int body(enum http_body_kind kind, const char *s, const char **err)
{
    batch_reset(&b);
    ingest_report_reset(&rep);
    *err = NULL;
    return http_parse_body(&hp, kind, s, strlen(s), &b, &defs, &rep, err);
}

static size_t frames(record_t *recs, size_t max)
{
    size_t n = 0, off = 0;
    while (off < b.frames.len) {
        assert_true(n < max);
        long k = record_decode(b.frames.data + off, b.frames.len - off, &recs[n]);
        assert_true(k > 0);
        off += (size_t)k;
        n++;
    }
    assert_int_equal(n, b.count);
    return n;
}

/* A form body that must give one record. */
static record_t form(const char *s)
{
    const char *err;
    int st = body(HTTP_BODY_FORM, s, &err);
    if (st != 200)
        fail_msg("%s: %d %s", s, st, err ? err : "");
    record_t r;
    assert_int_equal(frames(&r, 1), 1);
    return r;
}

static void test_body_kind(void **state)
{
    (void)state;
    static const struct {
        const char *ctype;
        enum http_body_kind kind;
    } cases[] = {
        {"application/x-www-form-urlencoded", HTTP_BODY_FORM},
        {"application/x-www-form-urlencoded; charset=UTF-8", HTTP_BODY_FORM},
        {"application/json", HTTP_BODY_JSON},
        {"Application/JSON; charset=utf-8", HTTP_BODY_JSON},
        {"  application/json ;x=y", HTTP_BODY_JSON},
        {"application/json\t", HTTP_BODY_JSON},
        {"application/x-ndjson", HTTP_BODY_NDJSON},
        {"application/ndjson", HTTP_BODY_NDJSON},
        {"application/jsonl", HTTP_BODY_NDJSON},
        {"application/x-jsonlines; charset=utf-8", HTTP_BODY_NDJSON},
        {"text/plain", HTTP_BODY_TEXT},
        {"TEXT/PLAIN; charset=us-ascii", HTTP_BODY_TEXT},
        {"", HTTP_BODY_UNKNOWN},
        {";", HTTP_BODY_UNKNOWN},
        {"application/xml", HTTP_BODY_UNKNOWN},
        {"application/jsonx", HTTP_BODY_UNKNOWN},
        {"application/json-seq", HTTP_BODY_UNKNOWN},
        {"text/plainx", HTTP_BODY_UNKNOWN},
        {"text/html", HTTP_BODY_UNKNOWN},
        {"multipart/form-data; boundary=x", HTTP_BODY_UNKNOWN},
        {"application / json", HTTP_BODY_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum http_body_kind k = http_body_kind(cases[i].ctype, strlen(cases[i].ctype));
        if (k != cases[i].kind)
            fail_msg("\"%s\": got %d, want %d", cases[i].ctype, k, cases[i].kind);
    }
    /* only the n bytes given count */
    assert_int_equal(http_body_kind("text/plainjunk", 10), HTTP_BODY_TEXT);
    assert_int_equal(http_body_kind("application/json", 11), HTTP_BODY_UNKNOWN);
}

static void test_form_classic(void **state)
{
    (void)state;
    record_t r = form("log=hello+world%21&level=error&app=web&topic=web.custom&host=h1&pid=99");
    slice_is(r.msg, "hello world!");
    assert_int_equal(r.level, LEVEL_ERROR);
    slice_is(r.app, "web");
    slice_is(r.topic, "web.custom");
    slice_is(r.host, "h1");
    slice_is(r.pid, "99");
    slice_is(r.fields, "");
    assert_int_equal(r.ts, NOW);

    r = form("log=only");
    slice_is(r.msg, "only");
    slice_is(r.app, "default");
    slice_is(r.topic, "default.info");
    assert_int_equal(r.level, LEVEL_INFO);

    /* extra pairs are fields: short digit strings as numbers */
    r = form("log=x&user=bob&count=12&neg=-5&big=1234567890123456789&f=1.5&empty=");
    slice_is(r.fields, "{\"user\":\"bob\",\"count\":12,\"neg\":\"-5\","
                       "\"big\":\"1234567890123456789\",\"f\":\"1.5\",\"empty\":\"\"}");
    /* a repeated key: the last one, once; empty keys and None are skipped */
    r = form("k=1&log=x&k=2&=v&n=None&log=y");
    slice_is(r.msg, "y");
    slice_is(r.fields, "{\"k\":2}");

    /* log beats message beats msg */
    r = form("msg=c&message=b&log=a");
    slice_is(r.msg, "a");
    r = form("msg=c&message=b");
    slice_is(r.msg, "b");

    /* level: level, then levelname, then levelno; bad ones skipped */
    assert_int_equal(form("log=x&level=bogus&levelname=ERROR").level, LEVEL_ERROR);
    assert_int_equal(form("log=x&levelno=10").level, LEVEL_DEBUG);
    assert_int_equal(form("log=x&level=2&levelname=DEBUG").level, LEVEL_CRIT);
    assert_int_equal(form("log=x&level=bogus").level, LEVEL_INFO);
    /* ts: ts, time or created, RFC 3339 or epoch */
    assert_int_equal(form("log=x&ts=2024-11-21T10%3A46%3A40Z").ts, T2024);
    assert_int_equal(form("log=x&time=1732186000").ts, T2024);
    assert_int_equal(form("log=x&ts=junk&created=1732186000.5").ts, T2024 + SEC / 2);
    assert_int_equal(form("log=x&ts=junk").ts, NOW);
    /* invalid UTF-8 is repaired */
    r = form("log=caf%C3%A9+%FF");
    slice_is(r.msg, "caf\xC3\xA9 \xEF\xBF\xBD");
    assert_int_equal(r.flags, RECORD_F_REPAIRED);
}

static void test_form_python(void **state)
{
    (void)state;
    record_t r = form(PY_RECORD);
    slice_is(r.msg, "user bob from 10.0.0.1");
    slice_is(r.app, "myapp");
    assert_int_equal(r.level, LEVEL_WARNING);
    slice_is(r.topic, "myapp.warning");
    assert_int_equal(r.ts, T2024 + 123456000);
    slice_is(r.pid, "4321");
    slice_is(r.host, "");
    slice_is(r.fields, PY_FIELDS);
    assert_int_equal(r.flags, 0);

    /* with another handler's formatting: message is the final text */
    r = form(PY_RECORD "&message=user+bob+from+10.0.0.1+%28formatted%29");
    slice_is(r.msg, "user bob from 10.0.0.1 (formatted)");
    slice_is(r.app, "myapp");
    slice_is(r.pid, "4321");
    slice_is(r.fields, PY_FIELDS);
}

static void test_form_python_args(void **state)
{
    (void)state;
    /* no args: the template is the message, '%' and all */
    record_t r = form("name=a&msg=100%25+done+%25s&args=%28%29&levelname=INFO");
    slice_is(r.msg, "100% done %s");
    slice_is(r.fields, "");
    r = form("name=a&msg=plain&args=None");
    slice_is(r.msg, "plain");
    slice_is(r.fields, "");
    /* args Python could format, of several kinds */
    r = form("msg=%25d+items%2C+%25.1f%25%25+%25r&args=%283%2C+99.44%2C+%27x%27%29");
    slice_is(r.msg, "3 items, 99.4% 'x'");
    r = form("msg=%25%28user%29s+in&args=%7B%27user%27%3A+%27bob%27%7D");
    slice_is(r.msg, "bob in");
    /* args it could not: the raw template, and the args kept */
    r = form("msg=obj+%25s&args=%28%3Cobject+at+0x1%3E%2C%29");
    slice_is(r.msg, "obj %s");
    slice_is(r.fields, "{\"args\":\"(<object at 0x1>,)\"}");
    r = form("msg=%25s+%25s&args=%28%27one%27%2C%29");
    slice_is(r.msg, "%s %s");
    slice_is(r.fields, "{\"args\":\"('one',)\"}");
    /* msg without args at all */
    r = form("msg=bare+%25s");
    slice_is(r.msg, "bare %s");
    slice_is(r.fields, "");
    /* None values are skipped, for the pid too */
    r = form("msg=m&process=None&exc_text=None&taskName=None");
    slice_is(r.pid, "");
    slice_is(r.fields, "");
}

static void test_form_errors(void **state)
{
    (void)state;
    const char *err;
    assert_int_equal(body(HTTP_BODY_FORM, "level=error&app=x", &err), 400);
    assert_string_equal(err, "form has no log, message or msg field");
    assert_int_equal(b.count, 0);
    assert_int_equal(body(HTTP_BODY_FORM, "&&&", &err), 400);
    assert_int_equal(body(HTTP_BODY_FORM, "log=a%zzb", &err), 400);
    assert_non_null(strstr(err, "at byte 5"));
    assert_int_equal(b.count, 0);
    assert_int_equal(body(HTTP_BODY_FORM, "log=ok&x=%4", &err), 400);
    assert_non_null(strstr(err, "at byte 9"));

    /* a GET query, already decoded */
    form_t q = {0};
    const char *why;
    size_t at;
    assert_int_equal(form_parse(&q, "log=from+query&app=q", 20, &why, &at), 0);
    batch_reset(&b);
    assert_int_equal(http_parse_form(&hp, &q, &b, &defs, &err), 200);
    record_t r;
    assert_int_equal(frames(&r, 1), 1);
    slice_is(r.msg, "from query");
    slice_is(r.app, "q");
    form_reset(&q);
    assert_int_equal(form_parse(&q, "app=q", 5, &why, &at), 0);
    assert_int_equal(http_parse_form(&hp, &q, &b, &defs, &err), 400);
    assert_int_equal(b.count, 1);
    form_free(&q);
}

static void test_text(void **state)
{
    (void)state;
    const char *err;
    assert_int_equal(body(HTTP_BODY_TEXT, "one\r\ntwo\n\n\r\nthree \n  \nlast", &err), 200);
    record_t r[8];
    assert_int_equal(frames(r, 8), 5);
    slice_is(r[0].msg, "one");
    slice_is(r[1].msg, "two");
    slice_is(r[2].msg, "three "); /* only CR LF is stripped */
    slice_is(r[3].msg, "  ");
    slice_is(r[4].msg, "last");
    slice_is(r[0].app, "default");
    assert_int_equal(r[0].level, LEVEL_INFO);
    assert_int_equal(r[0].ts, NOW);

    /* the query's defaults apply to every line */
    defs.app = SLICE_LIT("txt");
    defs.level = LEVEL_NOTICE;
    assert_int_equal(body(HTTP_BODY_TEXT, "a\nb\xFF\n", &err), 200);
    assert_int_equal(frames(r, 8), 2);
    slice_is(r[1].msg, "b\xEF\xBF\xBD");
    slice_is(r[1].topic, "txt.notice");
    assert_int_equal(r[1].flags, RECORD_F_REPAIRED);
    defs.app = SLICE_NULL;
    defs.level = -1;

    assert_int_equal(body(HTTP_BODY_TEXT, "\n\r\n\n", &err), 400);
    assert_ptr_equal(err, http_err_no_records);
}

static void test_json_bodies(void **state)
{
    (void)state;
    const char *err;
    assert_int_equal(body(HTTP_BODY_JSON, "{\"msg\":\"j\",\"level\":\"debug\"}", &err), 200);
    record_t r[4];
    assert_int_equal(frames(r, 4), 1);
    slice_is(r[0].msg, "j");

    assert_int_equal(body(HTTP_BODY_JSON, "[{\"msg\":\"a\"},2]", &err), 200);
    assert_int_equal(b.count, 1);
    assert_int_equal(rep.rejected, 1);

    assert_int_equal(body(HTTP_BODY_JSON, "{\"msg\":", &err), 400);
    assert_non_null(strstr(err, "invalid JSON"));
    assert_int_equal(body(HTTP_BODY_JSON, "[]", &err), 400);
    assert_ptr_equal(err, http_err_no_records);
    assert_int_equal(body(HTTP_BODY_JSON, "[1,2]", &err), 400);
    assert_string_equal(err, "no valid records in body");
    assert_int_equal(rep.rejected, 2);

    assert_int_equal(body(HTTP_BODY_NDJSON, "{\"msg\":\"1\"}\nbad\n{\"msg\":\"3\"}\n", &err), 200);
    assert_int_equal(b.count, 2);
    assert_int_equal(rep.rejected, 1);
    assert_int_equal(body(HTTP_BODY_NDJSON, "bad\nworse\n", &err), 400);
    assert_string_equal(err, "no valid records in body");
    assert_int_equal(body(HTTP_BODY_NDJSON, "\n\n", &err), 400);
    assert_ptr_equal(err, http_err_no_records);
}

static void test_empty_and_unknown(void **state)
{
    (void)state;
    const char *err;
    const enum http_body_kind kinds[] = {HTTP_BODY_FORM, HTTP_BODY_JSON, HTTP_BODY_NDJSON,
                                         HTTP_BODY_TEXT, HTTP_BODY_UNKNOWN};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        assert_int_equal(body(kinds[i], "", &err), 400);
        assert_ptr_equal(err, http_err_empty);
        assert_int_equal(b.count, 0);
    }
    assert_int_equal(body(HTTP_BODY_UNKNOWN, "log=x", &err), 415);
    assert_string_equal(err, "unsupported content type");
    assert_int_equal(b.count, 0);
}

static void test_defaults_from_query(void **state)
{
    (void)state;
    form_t q = {0};
    const char *why, *err = NULL;
    size_t at;
    const char *s = "app=svc&topic=t.x&host=h9&level=WARN&other=1";
    assert_int_equal(form_parse(&q, s, strlen(s), &why, &at), 0);
    rec_defaults_t d = {0};
    d.level = -1;
    assert_int_equal(http_parse_defaults(&q, &d, &err), 0);
    assert_null(err);
    slice_is(d.app, "svc");
    slice_is(d.topic, "t.x");
    slice_is(d.host, "h9");
    assert_int_equal(d.level, LEVEL_WARNING);
    /* the strings borrow from the form */
    assert_true(d.app.p >= q.bytes.data && d.app.p < q.bytes.data + q.bytes.len);

    /* keys not given leave the defaults alone */
    rec_defaults_t d2 = {0};
    d2.level = LEVEL_ERROR;
    d2.app = SLICE_LIT("keep");
    form_reset(&q);
    assert_int_equal(form_parse(&q, "x=1", 3, &why, &at), 0);
    assert_int_equal(http_parse_defaults(&q, &d2, &err), 0);
    slice_is(d2.app, "keep");
    assert_int_equal(d2.level, LEVEL_ERROR);
    assert_int_equal(d2.host.n, 0);

    form_reset(&q);
    assert_int_equal(form_parse(&q, "app=a&level=loud", 16, &why, &at), 0);
    assert_int_equal(http_parse_defaults(&q, &d2, &err), -1);
    assert_non_null(err);
    assert_non_null(strstr(err, "level"));
    form_reset(&q);
    assert_int_equal(form_parse(&q, "level=", 6, &why, &at), 0);
    err = NULL;
    assert_int_equal(http_parse_defaults(&q, &d2, &err), -1);
    assert_non_null(err);
    form_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_kind),           cmocka_unit_test(test_form_classic),
        cmocka_unit_test(test_form_python),         cmocka_unit_test(test_form_python_args),
        cmocka_unit_test(test_form_errors),         cmocka_unit_test(test_text),
        cmocka_unit_test(test_json_bodies),         cmocka_unit_test(test_empty_and_unknown),
        cmocka_unit_test(test_defaults_from_query),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
