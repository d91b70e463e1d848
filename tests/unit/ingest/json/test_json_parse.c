/* test_json_parse.c - JSON and NDJSON into records (src/ingest/json/json_parse.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/level.h"
#include "common/record.h"
#include "common/utf8.h"
#include "ingest/json/json_parse.h"

#define SEC   1000000000LL
#define T2024 (1732186000LL * SEC)
#define NOW   ((int64_t)1700000000 * SEC)

/* One parser, batch and report for the whole file, as a server thread has. */
static json_parser_t *jp;
static batch_t b;
static ingest_report_t rep;
static rec_defaults_t defs;

static int setup(void **state)
{
    (void)state;
    jp = json_parser_create(0);
    memset(&defs, 0, sizeof defs);
    defs.level = -1;
    defs.now = NOW;
    return jp ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    json_parser_destroy(jp);
    batch_free(&b);
    ingest_report_free(&rep);
    return 0;
}

static void fresh(void)
{
    batch_reset(&b);
    ingest_report_reset(&rep);
    rep.unit = NULL;
}

static void slice_is(slice_t s, const char *want)
{
    if (s.n != strlen(want) || (s.n && memcmp(s.p, want, s.n) != 0))
        fail_msg("got \"%.*s\", want \"%s\"", (int)s.n, s.p ? s.p : "", want);
}

/* Decodes the frames of b into recs (at most max); returns how many. */
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

static int doc(const char *json, const char **err)
{
    fresh();
    return json_parse_doc(jp, json, strlen(json), &b, &defs, &rep, err);
}

/* Parses a document that must give exactly one record. */
static record_t one(const char *json)
{
    const char *err = NULL;
    if (doc(json, &err))
        fail_msg("%s: %s", json, err);
    assert_int_equal(rep.rejected, 0);
    record_t r;
    assert_int_equal(frames(&r, 1), 1);
    return r;
}

static void test_plain_record(void **state)
{
    (void)state;
    record_t r = one("{\"msg\":\"hello\",\"level\":\"warn\",\"app\":\"web\",\"host\":\"h1\","
                     "\"pid\":42,\"topic\":\"web.x\",\"ts\":\"2024-11-21T10:46:40.5Z\"}");
    slice_is(r.msg, "hello");
    assert_int_equal(r.level, LEVEL_WARNING);
    slice_is(r.app, "web");
    slice_is(r.host, "h1");
    slice_is(r.pid, "42");
    slice_is(r.topic, "web.x");
    assert_int_equal(r.ts, T2024 + SEC / 2);
    slice_is(r.fields, "");
    assert_int_equal(r.flags, 0);
    assert_int_equal(r.seq, 0);
}

static void test_defaults(void **state)
{
    (void)state;
    record_t r = one("{\"msg\":\"x\"}");
    slice_is(r.app, "default");
    slice_is(r.topic, "default.info");
    slice_is(r.host, "");
    slice_is(r.pid, "");
    assert_int_equal(r.level, LEVEL_INFO);
    assert_int_equal(r.ts, NOW);

    r = one("{\"msg\":\"x\",\"app\":\"api\",\"level\":\"error\"}");
    slice_is(r.topic, "api.error");

    /* the caller's defaults */
    defs.app = SLICE_LIT("svc");
    defs.host = SLICE_LIT("box");
    defs.level = LEVEL_DEBUG;
    r = one("{\"msg\":\"x\"}");
    slice_is(r.app, "svc");
    slice_is(r.host, "box");
    slice_is(r.topic, "svc.debug");
    assert_int_equal(r.level, LEVEL_DEBUG);
    memset(&defs, 0, sizeof defs);
    defs.level = -1;
    defs.now = NOW;

    /* a record must say something, as a form must: {} is refused */
    const char *err = NULL;
    assert_int_equal(doc("{}", &err), -1);
    assert_string_equal(err, "record has no message: use message, msg or log");
    assert_int_equal(b.count, 0);
    /* an empty message is a message */
    r = one("{\"msg\":\"\"}");
    slice_is(r.msg, "");
    slice_is(r.topic, "default.info");
}

static void test_msg_ranks(void **state)
{
    (void)state;
    record_t r = one("{\"message\":\"hi\",\"msg\":\"lo\"}");
    slice_is(r.msg, "hi");
    slice_is(r.fields, "{\"msg\":\"lo\"}");
    /* the displaced msg is kept whichever comes first */
    r = one("{\"msg\":\"lo\",\"message\":\"hi\"}");
    slice_is(r.msg, "hi");
    slice_is(r.fields, "{\"msg\":\"lo\"}");
    r = one("{\"log\":\"a\",\"msg\":\"b\",\"message\":\"c\"}");
    slice_is(r.msg, "c");
    slice_is(r.fields, "{\"log\":\"a\",\"msg\":\"b\"}");
    r = one("{\"msg\":\"b\",\"log\":\"a\"}");
    slice_is(r.msg, "b");
    slice_is(r.fields, "{\"log\":\"a\"}");
    /* a number is a message; a literal is not */
    r = one("{\"msg\":42}");
    slice_is(r.msg, "42");
    r = one("{\"msg\":null,\"log\":\"x\"}");
    slice_is(r.msg, "x");
    slice_is(r.fields, "{\"msg\":null}");
    /* an empty message displaced by a later one */
    r = one("{\"msg\":\"\",\"message\":\"full\"}");
    slice_is(r.msg, "full");
    slice_is(r.fields, "{\"msg\":\"\"}");
    /* escapes are decoded */
    r = one("{\"msg\":\"a\\nb\\u00e9\\\"\\\\\\/\"}");
    slice_is(r.msg, "a\nb\xC3\xA9\"\\/");
}

static void test_levels(void **state)
{
    (void)state;
    assert_int_equal(one("{\"msg\":\"m\",\"level\":\"WARN\"}").level, LEVEL_WARNING);
    assert_int_equal(one("{\"msg\":\"m\",\"level\":\"critical\"}").level, LEVEL_CRIT);
    assert_int_equal(one("{\"msg\":\"m\",\"level\":3}").level, LEVEL_ERROR);
    assert_int_equal(one("{\"msg\":\"m\",\"level\":\"3\"}").level, LEVEL_ERROR);
    assert_int_equal(one("{\"msg\":\"m\",\"level\":30}").level, LEVEL_WARNING);
    assert_int_equal(one("{\"msg\":\"m\",\"levelname\":\"ERROR\"}").level, LEVEL_ERROR);
    assert_int_equal(one("{\"msg\":\"m\",\"severity\":\"notice\"}").level, LEVEL_NOTICE);
    assert_int_equal(one("{\"msg\":\"m\",\"levelno\":10}").level, LEVEL_DEBUG);
    assert_int_equal(one("{\"msg\":\"m\",\"levelno\":50}").level, LEVEL_CRIT);

    /* the higher-ranked key wins in either order */
    record_t r = one("{\"msg\":\"m\",\"level\":\"error\",\"levelname\":\"INFO\"}");
    assert_int_equal(r.level, LEVEL_ERROR);
    slice_is(r.fields, "{\"levelname\":\"INFO\"}");
    r = one("{\"msg\":\"m\",\"levelno\":20,\"level\":\"debug\"}");
    assert_int_equal(r.level, LEVEL_DEBUG);

    /* values that are no level stay in fields */
    r = one("{\"msg\":\"m\",\"level\":\"loud\"}");
    assert_int_equal(r.level, LEVEL_INFO);
    slice_is(r.topic, "default.info");
    slice_is(r.fields, "{\"level_raw\":\"loud\"}");
    r = one("{\"msg\":\"m\",\"level\":true}");
    assert_int_equal(r.level, LEVEL_INFO);
    slice_is(r.fields, "{\"level\":true}");
    r = one("{\"msg\":\"m\",\"level\":-1}");
    slice_is(r.fields, "{\"level_raw\":-1}");
    r = one("{\"msg\":\"m\",\"level\":2.5}");
    slice_is(r.fields, "{\"level_raw\":2.5}");
    /* a bad high-ranked level does not hide a good lower one */
    r = one("{\"msg\":\"m\",\"level\":\"loud\",\"levelname\":\"ERROR\"}");
    assert_int_equal(r.level, LEVEL_ERROR);
    slice_is(r.fields, "{\"level_raw\":\"loud\"}");
}

static void test_timestamps(void **state)
{
    (void)state;
    assert_int_equal(one("{\"msg\":\"m\",\"ts\":\"2024-11-21T10:46:40Z\"}").ts, T2024);
    assert_int_equal(one("{\"msg\":\"m\",\"ts\":\"2024-11-21T11:46:40.25+01:00\"}").ts,
                     T2024 + SEC / 4);
    assert_int_equal(one("{\"msg\":\"m\",\"ts\":1732186000.5}").ts, T2024 + SEC / 2);
    assert_int_equal(one("{\"msg\":\"m\",\"ts\":1732186000123}").ts, T2024 + 123000000);
    assert_int_equal(one("{\"msg\":\"m\",\"ts\":1732186000123456789}").ts, T2024 + 123456789);
    assert_int_equal(one("{\"msg\":\"m\",\"ts\":\"1732186000\"}").ts, T2024);
    assert_int_equal(one("{\"msg\":\"m\",\"time\":\"2024-11-21T10:46:40Z\"}").ts, T2024);
    assert_int_equal(one("{\"msg\":\"m\",\"timestamp\":1732186000}").ts, T2024);
    assert_int_equal(one("{\"msg\":\"m\",\"@timestamp\":\"2024-11-21T10:46:40Z\"}").ts, T2024);
    assert_int_equal(one("{\"msg\":\"m\",\"created\":1732186000.25}").ts, T2024 + SEC / 4);

    /* ts outranks created */
    record_t r = one("{\"msg\":\"m\",\"created\":1,\"ts\":1732186000}");
    assert_int_equal(r.ts, T2024);
    r = one("{\"msg\":\"m\",\"ts\":1732186000,\"created\":1}");
    assert_int_equal(r.ts, T2024);
    slice_is(r.fields, "{\"created\":1}");

    /* bad times stay in fields and the record gets the default */
    r = one("{\"msg\":\"m\",\"ts\":\"yesterday\"}");
    assert_int_equal(r.ts, NOW);
    slice_is(r.fields, "{\"ts\":\"yesterday\"}");
    r = one("{\"msg\":\"m\",\"ts\":true}");
    assert_int_equal(r.ts, NOW);
    slice_is(r.fields, "{\"ts\":true}");
    r = one("{\"msg\":\"m\",\"ts\":-5}");
    slice_is(r.fields, "{\"ts\":-5}");
    r = one("{\"msg\":\"m\",\"ts\":1.7e9}");
    slice_is(r.fields, "{\"ts\":1.7e9}");
    r = one("{\"msg\":\"m\",\"ts\":\"9999-12-31T23:59:59Z\"}"); /* beyond int64 ns */
    assert_int_equal(r.ts, NOW);
    slice_is(r.fields, "{\"ts\":\"9999-12-31T23:59:59Z\"}");
}

static void test_names(void **state)
{
    (void)state;
    slice_is(one("{\"msg\":\"m\",\"service\":\"s\"}").app, "s");
    slice_is(one("{\"msg\":\"m\",\"name\":\"py.logger\"}").app, "py.logger");
    record_t r = one("{\"msg\":\"m\",\"name\":\"n\",\"app\":\"a\",\"service\":\"s\"}");
    slice_is(r.app, "a");
    slice_is(r.topic, "a.info");
    slice_is(r.fields, "{\"name\":\"n\",\"service\":\"s\"}");
    /* a number is no app name */
    r = one("{\"msg\":\"m\",\"app\":5}");
    slice_is(r.app, "default");
    slice_is(r.fields, "{\"app\":5}");

    slice_is(one("{\"msg\":\"m\",\"hostname\":\"h2\"}").host, "h2");
    r = one("{\"msg\":\"m\",\"hostname\":\"h2\",\"host\":\"h1\"}");
    slice_is(r.host, "h1");
    slice_is(r.fields, "{\"hostname\":\"h2\"}");

    slice_is(one("{\"msg\":\"m\",\"pid\":\"abc\"}").pid, "abc");
    slice_is(one("{\"msg\":\"m\",\"process\":77}").pid, "77");
    r = one("{\"msg\":\"m\",\"process\":77,\"pid\":78}");
    slice_is(r.pid, "78");
    slice_is(r.fields, "{\"process\":\"77\"}"); /* displaced text */
    r = one("{\"msg\":\"m\",\"pid\":null}");
    slice_is(r.pid, "");
    slice_is(r.fields, "{\"pid\":null}");

    r = one("{\"msg\":\"m\",\"topic\":\"a.b.c\"}");
    slice_is(r.topic, "a.b.c");
    r = one("{\"msg\":\"m\",\"topic\":1}");
    slice_is(r.topic, "default.info");
    slice_is(r.fields, "{\"topic\":1}");
}

static void test_nested_and_fields(void **state)
{
    (void)state;
    record_t r = one("{\"msg\":\"m\",\"http\":{\"code\":200,\"req\":{\"path\":\"/x\",\"ok\":true}},"
                     "\"after\":null}");
    slice_is(r.msg, "m");
    slice_is(r.fields, "{\"http.code\":200,\"http.req.path\":\"/x\",\"http.req.ok\":true,"
                       "\"after\":null}");

    /* members of "fields" are unprefixed; nested ones are still dotted */
    r = one("{\"fields\":{\"user\":\"bob\",\"n\":1.5,\"inner\":{\"a\":false}},\"msg\":\"m\"}");
    slice_is(r.fields, "{\"user\":\"bob\",\"n\":1.5,\"inner.a\":false}");
    /* known keys inside nested objects are plain fields */
    r = one("{\"ctx\":{\"msg\":\"inner\",\"level\":\"error\"},\"msg\":\"outer\"}");
    slice_is(r.msg, "outer");
    assert_int_equal(r.level, LEVEL_INFO);
    slice_is(r.fields, "{\"ctx.msg\":\"inner\",\"ctx.level\":\"error\"}");
    /* "fields" that is not an object is a field named fields */
    r = one("{\"msg\":\"m\",\"fields\":\"x\"}");
    slice_is(r.fields, "{\"fields\":\"x\"}");
    /* keys are escaped */
    r = one("{\"msg\":\"m\",\"a\\\"b\":{\"c\\nd\":1}}");
    slice_is(r.fields, "{\"a\\\"b.c\\nd\":1}");
    /* empty nested objects add nothing */
    r = one("{\"e\":{},\"msg\":\"m\"}");
    slice_is(r.fields, "");
}

static void test_arrays_kept_as_json(void **state)
{
    (void)state;
    record_t r = one("{\"tags\":[\"a\",1,{\"k\":\"v\",\"n\":[]},[null,true]],\"msg\":\"m\"}");
    slice_is(r.msg, "m");
    slice_is(r.fields, "{\"tags\":[\"a\",1,{\"k\":\"v\",\"n\":[]},[null,true]]}");
    r = one("{\"msg\":\"m\",\"e\":[],\"x\":{\"l\":[1, 2]}}");
    slice_is(r.fields, "{\"e\":[],\"x.l\":[1,2]}");
    /* an array under a record key is no value for that key */
    r = one("{\"log\":\"l\",\"msg\":[\"a\"]}");
    slice_is(r.msg, "l");
    slice_is(r.fields, "{\"msg\":[\"a\"]}");
    const char *err = NULL;
    assert_int_equal(doc("{\"msg\":[\"a\"]}", &err), -1); /* and no message at all */
    assert_string_equal(err, "record has no message: use message, msg or log");
    /* strings in arrays are escaped and repaired */
    r = one("{\"msg\":\"m\",\"a\":[\"q\\\"\",\"\xFF\"]}");
    slice_is(r.fields, "{\"a\":[\"q\\\"\",\"\xEF\xBF\xBD\"]}");
    assert_int_equal(r.flags, RECORD_F_REPAIRED);
}

static void test_array_of_records(void **state)
{
    (void)state;
    const char *err = NULL;
    assert_int_equal(doc("[{\"msg\":\"a\"},1,{\"msg\":\"b\",\"t\":[1]},\"x\",[{\"msg\":\"no\"}],"
                         "null,{\"msg\":\"c\"}]",
                         &err),
                     0);
    record_t r[8];
    assert_int_equal(frames(r, 8), 3);
    slice_is(r[0].msg, "a");
    slice_is(r[1].msg, "b");
    slice_is(r[1].fields, "{\"t\":[1]}");
    slice_is(r[2].msg, "c");
    slice_is(r[2].fields, "");
    assert_int_equal(rep.rejected, 4);
    assert_int_equal(rep.listed, 4);
    assert_string_equal(buf_cstr(&rep.json),
                        "{\"element\":2,\"error\":\"element 2 is not an object\"},"
                        "{\"element\":4,\"error\":\"element 4 is not an object\"},"
                        "{\"element\":5,\"error\":\"element 5 is not an object\"},"
                        "{\"element\":6,\"error\":\"element 6 is not an object\"}");
    /* the report's unit is the caller's again afterwards */
    assert_null(rep.unit);

    /* an empty array is a valid document with no records */
    assert_int_equal(doc("[]", &err), 0);
    assert_int_equal(b.count, 0);
    assert_int_equal(rep.rejected, 0);
    /* elements without a message are refused one by one */
    assert_int_equal(doc(" [ {} , {\"msg\":\"ok\"}, {\"level\":\"info\"} ] ", &err), 0);
    assert_int_equal(b.count, 1);
    assert_int_equal(rep.rejected, 2);
    assert_string_equal(buf_cstr(&rep.json),
                        "{\"element\":1,\"error\":\"element 1 has no message: use message, msg "
                        "or log\"},{\"element\":3,\"error\":\"element 3 has no message: use "
                        "message, msg or log\"}");
}

static void doc_fails(const char *json, const char *want_err)
{
    /* records of an earlier call stay; the failing one adds nothing */
    fresh();
    const char *err = NULL;
    assert_int_equal(json_parse_doc(jp, "{\"msg\":\"keep\"}", 14, &b, &defs, &rep, &err), 0);
    ingest_reject(&rep, 9, "earlier");
    size_t len = b.frames.len, replen = rep.json.len;
    assert_int_equal(json_parse_doc(jp, json, strlen(json), &b, &defs, &rep, &err), -1);
    assert_non_null(err);
    if (!strstr(err, want_err))
        fail_msg("%s: error \"%s\" lacks \"%s\"", json, err, want_err);
    assert_int_equal(b.count, 1);
    assert_int_equal(b.frames.len, len);
    assert_int_equal(rep.rejected, 1);
    assert_int_equal(rep.json.len, replen);
    assert_null(rep.unit);
    /* the parser works again after the error */
    record_t r = one("{\"msg\":\"again\"}");
    slice_is(r.msg, "again");
}

static void test_doc_errors(void **state)
{
    (void)state;
    doc_fails("{\"msg\":\"a\"", "invalid JSON");
    doc_fails("{\"msg\":\"a\",}", "invalid JSON");
    doc_fails("{msg:1}", "invalid JSON");
    doc_fails("", "no JSON value");
    doc_fails("   ", "no JSON value");
    doc_fails("42", "expected a JSON object or an array of objects");
    doc_fails("\"str\"", "expected a JSON object or an array of objects");
    doc_fails("null", "expected a JSON object or an array of objects");
    doc_fails("{\"msg\":\"a\"} {\"msg\":\"b\"}", "more than one JSON value");
    doc_fails("[{\"msg\":\"a\"}] [{\"msg\":\"b\"}]", "more than one JSON value");
    doc_fails("{\"msg\":\"a\"} 5", "JSON");
    doc_fails("{\"msg\":\"a\"} x", "invalid JSON");
    /* an unfinished token after the value: yajl waits for the rest of it,
     * so it is an error, and it must not stick to the next document */
    doc_fails("{\"msg\":\"a\"} \"", "after the JSON value");
    doc_fails("{\"msg\":\"a\"}\"{", "after the JSON value");
    doc_fails("[{\"msg\":\"a\"}] tr", "invalid JSON");
    doc_fails("{\"msg\":\"a\"} \"x\\", "invalid JSON");
    doc_fails("{\"msg\":\"a\"}\n\"abc", "after the JSON value");
    /* an array whose elements were rejected, then a syntax error: the
     * rejections are withdrawn with the records */
    doc_fails("[1, {\"msg\":\"a\"}, 2", "invalid JSON");
}

static void test_depth_limit(void **state)
{
    (void)state;
    /* 32 levels of objects, the record being the first */
    char ok[512] = "", deep[512] = "";
    strcat(ok, "{\"msg\":\"m\",\"a\":");
    for (int i = 0; i < 30; i++)
        strcat(ok, "{\"a\":");
    strcat(ok, "{\"a\":1}");
    for (int i = 0; i < 31; i++)
        strcat(ok, "}");
    record_t r = one(ok);
    char key[128] = "{\"a";
    for (int i = 0; i < 31; i++)
        strcat(key, ".a");
    strcat(key, "\":1}");
    slice_is(r.fields, key);

    strcpy(deep, "{\"a\":");
    strcat(deep, ok);
    strcat(deep, "}");
    doc_fails(deep, "deeper than 32");

    /* arrays count too */
    char arr[512] = "{\"a\":";
    for (int i = 0; i < 32; i++)
        strcat(arr, "[");
    for (int i = 0; i < 32; i++)
        strcat(arr, "]");
    strcat(arr, "}");
    doc_fails(arr, "deeper than 32");
}

static void test_fresh_parser_empty_text(void **state)
{
    (void)state;
    /* a new parser whose first texts are empty: nothing allocated yet */
    static const char *const docs[] = {"{\"msg\":\"\"}", "{\"msg\":\"\",\"message\":\"x\"}",
                                       "{\"msg\":\"\",\"app\":\"\",\"host\":\"\"}"};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        json_parser_t *p = json_parser_create(0);
        batch_t pb = {0};
        ingest_report_t prep = {0};
        const char *err = NULL;
        assert_int_equal(json_parse_doc(p, docs[i], strlen(docs[i]), &pb, &defs, &prep, &err), 0);
        record_t r;
        assert_int_equal(record_decode(pb.frames.data, pb.frames.len, &r), (long)pb.frames.len);
        slice_is(r.msg, i == 1 ? "x" : "");
        slice_is(r.fields, i == 1 ? "{\"msg\":\"\"}" : "");
        slice_is(r.app, "default");
        json_parser_destroy(p);
        batch_free(&pb);
    }
}

static void test_invalid_utf8_repaired(void **state)
{
    (void)state;
    record_t r = one("{\"msg\":\"bad \xFF here \xC3\x28\",\"app\":\"\xE2\x82\"}");
    slice_is(r.msg, "bad \xEF\xBF\xBD here \xEF\xBF\xBD(");
    slice_is(r.app, "\xEF\xBF\xBD");
    assert_int_equal(r.flags, RECORD_F_REPAIRED);
    assert_int_equal(b.repaired, 1);
    assert_int_equal(utf8_valid_prefix(r.msg.p, r.msg.n), r.msg.n);

    r = one("{\"msg\":\"ok\",\"k\":\"\xF0\x9F\x98\"}");
    slice_is(r.msg, "ok");
    slice_is(r.fields, "{\"k\":\"\xEF\xBF\xBD\"}");
    assert_int_equal(r.flags, RECORD_F_REPAIRED);

    r = one("{\"msg\":\"caf\xC3\xA9 \xF0\x9F\x98\x80\"}");
    assert_int_equal(r.flags, 0);
    slice_is(r.msg, "caf\xC3\xA9 \xF0\x9F\x98\x80");
}

static void test_max_msg(void **state)
{
    (void)state;
    json_parser_t *small = json_parser_create(4);
    batch_t sb = {0};
    ingest_report_t srep = {0};
    const char *err = NULL;
    const char *json = "{\"msg\":\"abc\xC3\xA9xyz\"}";
    assert_int_equal(json_parse_doc(small, json, strlen(json), &sb, &defs, &srep, &err), 0);
    record_t r;
    assert_true(record_decode(sb.frames.data, sb.frames.len, &r) > 0);
    slice_is(r.msg, "abc");
    assert_int_equal(r.flags, RECORD_F_TRUNCATED);
    assert_int_equal(sb.truncated, 1);
    json_parser_destroy(small);
    json_parser_destroy(NULL);
    batch_free(&sb);
}

static void lines(const char *s)
{
    fresh();
    json_parse_lines(jp, s, strlen(s), &b, &defs, &rep);
}

static void test_ndjson(void **state)
{
    (void)state;
    lines("{\"msg\":\"1\"}\n"
          "{bad\n"
          "\n"
          "{\"msg\":\"3\",\"level\":\"error\"}\r\n"
          "  \t\n"
          "[1]\n"
          "{\"msg\":\"a\"} {\"msg\":\"b\"}\n"
          "[{\"msg\":\"x\"},{\"msg\":\"y\"}]\n"
          "42\n"
          "{\"msg\":\"last\"}");
    record_t r[8];
    assert_int_equal(frames(r, 8), 5);
    slice_is(r[0].msg, "1");
    slice_is(r[1].msg, "3");
    assert_int_equal(r[1].level, LEVEL_ERROR);
    slice_is(r[2].msg, "x");
    slice_is(r[3].msg, "y");
    slice_is(r[4].msg, "last");
    assert_int_equal(rep.rejected, 4);
    const char *js = buf_cstr(&rep.json);
    /* the syntax error names its line; the others are exact */
    assert_true(strncmp(js, "{\"line\":2,\"error\":\"invalid JSON", 31) == 0);
    const char *rest = strstr(js, "},{\"line\":6,");
    assert_non_null(rest);
    assert_string_equal(rest, "},{\"line\":6,\"error\":\"element 1 is not an object\"},"
                              "{\"line\":7,\"error\":\"more than one JSON value\"},"
                              "{\"line\":9,\"error\":\"expected a JSON object or an array of "
                              "objects\"}");
}

static void test_ndjson_line_endings(void **state)
{
    (void)state;
    lines("{\"msg\":\"a\"}\r\n{\"msg\":\"b\"}\r\n\r\n{\"msg\":\"c\"}\n");
    record_t r[4];
    assert_int_equal(frames(r, 4), 3);
    slice_is(r[0].msg, "a");
    slice_is(r[1].msg, "b");
    slice_is(r[2].msg, "c");
    assert_int_equal(rep.rejected, 0);

    lines("");
    assert_int_equal(b.count, 0);
    lines("\n\n\r\n   \n");
    assert_int_equal(b.count, 0);
    assert_int_equal(rep.rejected, 0);

    /* a bad line in the middle: the line numbers after it are right */
    lines("\n\n{\"msg\":\"3\"}\n{\"msg\":\n{\"msg\":\"5\"}\n");
    assert_int_equal(frames(r, 4), 2);
    slice_is(r[0].msg, "3");
    slice_is(r[1].msg, "5");
    assert_int_equal(rep.rejected, 1);
    assert_true(strncmp(buf_cstr(&rep.json), "{\"line\":4,", 10) == 0);

    /* a record may not continue on the next line */
    lines("{\"msg\":\n\"x\"}\n");
    assert_int_equal(b.count, 0);
    assert_int_equal(rep.rejected, 2);
}

static void test_ndjson_many_lines(void **state)
{
    (void)state;
    buf_t in = BUF_INIT;
    for (int i = 1; i <= 10000; i++)
        buf_printf(&in, "{\"msg\":\"line %d\",\"n\":%d,\"level\":%d}\n", i, i, i % 8);
    fresh();
    json_parse_lines(jp, in.data, in.len, &b, &defs, &rep);
    assert_int_equal(b.count, 10000);
    assert_int_equal(rep.rejected, 0);
    size_t off = 0;
    char want[64];
    for (int i = 1; i <= 10000; i++) {
        record_t r;
        long k = record_decode(b.frames.data + off, b.frames.len - off, &r);
        assert_true(k > 0);
        off += (size_t)k;
        snprintf(want, sizeof want, "line %d", i);
        slice_is(r.msg, want);
        assert_int_equal(r.level, i % 8);
        snprintf(want, sizeof want, "{\"n\":%d}", i);
        slice_is(r.fields, want);
    }
    assert_int_equal(off, b.frames.len);
    buf_free(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_record),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_msg_ranks),
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_nested_and_fields),
        cmocka_unit_test(test_arrays_kept_as_json),
        cmocka_unit_test(test_array_of_records),
        cmocka_unit_test(test_doc_errors),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_fresh_parser_empty_text),
        cmocka_unit_test(test_invalid_utf8_repaired),
        cmocka_unit_test(test_max_msg),
        cmocka_unit_test(test_ndjson),
        cmocka_unit_test(test_ndjson_line_endings),
        cmocka_unit_test(test_ndjson_many_lines),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
