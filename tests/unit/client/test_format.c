/* test_format.c - what liblogship's background thread writes: JSON record
 * lines and echo lines (src/client/format.c). The lines of the acknowledged
 * TCP protocol (src/client/proto.c) are test_proto.c's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "client/client.h"
#include "client/format.h"

static format_ctx_t ctx;

static int setup(void **state)
{
    static const char *const keys[] = {"env", "quote\"d"};
    static const char *const vals[] = {"prod", "a\\b"};
    setenv("TZ", "UTC", 1);
    tzset();
    return format_ctx_init(&ctx, "web", "h1", NULL, 42, keys, vals, 2, NULL);
}

static int teardown(void **state)
{
    format_ctx_free(&ctx);
    return 0;
}

static crec_t rec(const char *msg)
{
    crec_t r;
    memset(&r, 0, sizeof r);
    r.ts = 1763722056123456789LL; /* 2025-11-21T10:47:36.123456789Z */
    r.level = LOGSHIP_WARNING;
    r.msg = msg;
    r.msg_len = strlen(msg);
    return r;
}

static const char *line_of(const crec_t *r)
{
    static cbuf_t b;
    b.len = 0;
    format_json_line(&b, r, &ctx);
    cbuf_putc(&b, '\0');
    assert_false(b.failed);
    return b.data;
}

static void test_json_line(void **state)
{
    crec_t r = rec("disk \"full\"\n\ttab \x01 caf\xc3\xa9 bad\xff");
    assert_string_equal(
        line_of(&r), "{\"ts\":1763722056123456789,\"level\":\"warning\","
                     "\"msg\":\"disk \\\"full\\\"\\n\\ttab \\u0001 caf\xc3\xa9 bad\xef\xbf\xbd\","
                     "\"app\":\"web\",\"host\":\"h1\",\"pid\":42,"
                     "\"fields\":{\"env\":\"prod\",\"quote\\\"d\":\"a\\\\b\"}}\n");
}

static void test_json_fields_and_topic(void **state)
{
    char enc[64];
    uint16_t kn = 4;
    uint32_t vn = 2;
    memcpy(enc, &kn, 2);
    memcpy(enc + 2, &vn, 4);
    memcpy(enc + 6, "user42", 6);
    crec_t r = rec("m");
    r.fields = enc;
    r.fields_len = 12;
    r.nfields = 1;
    r.topic = "web.api";
    r.topic_len = 7;
    r.level = LOGSHIP_DEBUG;
    assert_string_equal(line_of(&r),
                        "{\"ts\":1763722056123456789,\"level\":\"debug\",\"msg\":\"m\","
                        "\"topic\":\"web.api\",\"app\":\"web\",\"host\":\"h1\","
                        "\"pid\":42,\"fields\":{\"env\":\"prod\",\"quote\\\"d\":"
                        "\"a\\\\b\",\"user\":\"42\"}}\n");
}

/* A record's own app (logship_record_t.app) replaces the logger's, in the
 * JSON line and in the echo's %a. */
static void test_json_record_app(void **state)
{
    crec_t r = rec("m");
    r.app = "billing.worker\"x";
    r.app_len = 14; /* without the quote */
    assert_string_equal(line_of(&r), "{\"ts\":1763722056123456789,\"level\":\"warning\","
                                     "\"msg\":\"m\",\"app\":\"billing.worker\",\"host\":\"h1\","
                                     "\"pid\":42,\"fields\":{\"env\":\"prod\",\"quote\\\"d\":"
                                     "\"a\\\\b\"}}\n");
}

/* A line never passes the server's line limit: the message is cut at a
 * character boundary and the record says so. */
static void test_json_cut(void **state)
{
    size_t n = 30000;
    char *msg = malloc(n + 1);
    for (size_t i = 0; i < n; i += 3)
        memcpy(msg + i, i % 2 ? "\x01\x02\x03" : "\xe2\x82\xac", 3); /* 18 or 3 bytes out */
    msg[n] = '\0';
    crec_t r = rec(msg);
    const char *l = line_of(&r);
    size_t len = strlen(l);
    assert_true(len <= FORMAT_LINE_MAX + 1);
    assert_true(len > FORMAT_LINE_MAX - 64);
    assert_non_null(strstr(l, "\"msg_truncated\":true"));
    assert_int_equal(l[len - 1], '\n');
    free(msg);
    /* a short message that was cut in the log call is marked too */
    r = rec("short");
    r.flags = CREC_F_CUT;
    assert_non_null(strstr(line_of(&r), "\"msg_truncated\":true}}"));
}

static const char *pattern(const char *p, const crec_t *r)
{
    static cbuf_t b;
    b.len = 0;
    ctx.pattern = p;
    format_pattern(&b, r, &ctx);
    cbuf_putc(&b, '\0');
    ctx.pattern = NULL;
    return b.data;
}

static void test_pattern(void **state)
{
    crec_t r = rec("hello");
    assert_string_equal(pattern(NULL, &r), "[2025-11-21 10:47:36] [WARNING] hello\n");
    assert_string_equal(pattern("[%Y-%m-%d %H:%M:%S] [%L] %m", &r),
                        "[2025-11-21 10:47:36] [WARNING] hello\n");
    assert_string_equal(pattern("%d/%m/%Y %H:%M:%S.%e %l %a@%h[%P] %v %% %q", &r),
                        "21/11/2025 10:47:36.123 warning web@h1[42] hello % %q\n");
    assert_string_equal(pattern("%m (%f) %t.", &r), "hello (123456) .\n");
    r.topic = "t.x";
    r.topic_len = 3;
    assert_string_equal(pattern("%t %m", &r), "t.x hello\n");
    assert_string_equal(pattern("trailing %", &r), "trailing %\n");
    r.app = "own-app";
    r.app_len = 3;
    assert_string_equal(pattern("%a: %m", &r), "own: hello\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_line),       cmocka_unit_test(test_json_fields_and_topic),
        cmocka_unit_test(test_json_record_app), cmocka_unit_test(test_json_cut),
        cmocka_unit_test(test_pattern),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
