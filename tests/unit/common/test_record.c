/* test_record.c - record frames, batches and the builder (src/common/record.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/level.h"
#include "common/record.h"
#include "common/utf8.h"

#define T2024 (1732186000LL * 1000000000LL + 123456789)

static void slice_is(slice_t s, const char *want)
{
    assert_int_equal(s.n, strlen(want));
    if (s.n)
        assert_memory_equal(s.p, want, s.n);
}

static record_t sample(void)
{
    record_t r;
    memset(&r, 0, sizeof r);
    r.seq = 42;
    r.ts = T2024;
    r.level = LEVEL_WARNING;
    r.flags = RECORD_F_TRUNCATED;
    r.topic = SLICE_LIT("web.api");
    r.app = SLICE_LIT("web");
    r.host = SLICE_LIT("h1");
    r.pid = SLICE_LIT("123");
    r.fields = SLICE_LIT("{\"a\":1}");
    r.msg = SLICE_LIT("hi \"x\"\n");
    return r;
}

static void test_round_trip(void **state)
{
    (void)state;
    record_t r = sample(), d;
    size_t size = record_frame_size(&r);
    assert_int_equal(size, RECORD_HEAD + 7 + 3 + 2 + 3 + 7 + 7);
    char frame[128];
    memset(frame, 0xAA, sizeof frame);
    record_encode(frame, &r);
    /* the fixed header, byte for byte */
    assert_int_equal(rd32(frame), size - RECORD_FRAME_HDR);
    assert_int_equal(rd32(frame + 4), 0); /* checksum: filled by the store */
    assert_int_equal(rd64(frame + 8), 42);
    assert_int_equal((int64_t)rd64(frame + 16), T2024);
    assert_int_equal(frame[24], LEVEL_WARNING);
    assert_int_equal(frame[25], RECORD_F_TRUNCATED);
    assert_int_equal((unsigned char)frame[size], 0xAA); /* nothing past the frame */
    assert_memory_equal(frame + RECORD_HEAD, "web.apiweb", 10);

    /* more bytes available than the frame: only the frame is taken */
    assert_int_equal(record_decode(frame, sizeof frame, &d), (long)size);
    assert_int_equal(d.seq, 42);
    assert_int_equal(d.ts, T2024);
    assert_int_equal(d.level, LEVEL_WARNING);
    assert_int_equal(d.flags, RECORD_F_TRUNCATED);
    slice_is(d.topic, "web.api");
    slice_is(d.app, "web");
    slice_is(d.host, "h1");
    slice_is(d.pid, "123");
    slice_is(d.fields, "{\"a\":1}");
    slice_is(d.msg, "hi \"x\"\n");
    /* the view borrows the frame */
    assert_ptr_equal(d.topic.p, frame + RECORD_HEAD);
}

static void test_round_trip_extremes(void **state)
{
    (void)state;
    record_t r, d;
    memset(&r, 0, sizeof r);
    r.seq = UINT64_MAX;
    r.ts = INT64_MIN;
    r.level = LEVEL_DEBUG;
    r.flags = RECORD_F_TRUNCATED | RECORD_F_REPAIRED;
    char frame[RECORD_HEAD];
    record_encode(frame, &r);
    assert_int_equal(record_decode(frame, sizeof frame, &d), RECORD_HEAD);
    assert_int_equal(d.seq, UINT64_MAX);
    assert_int_equal(d.ts, INT64_MIN);
    assert_int_equal(d.level, LEVEL_DEBUG);
    assert_int_equal(d.flags, RECORD_F_TRUNCATED | RECORD_F_REPAIRED);
    assert_int_equal(d.topic.n + d.app.n + d.host.n + d.pid.n + d.fields.n + d.msg.n, 0);

    /* names at their limit and a message with NUL bytes */
    char name[RECORD_NAME_MAX];
    memset(name, 'n', sizeof name);
    r.topic = slice_make(name, sizeof name);
    r.app = slice_make(name, sizeof name);
    r.host = slice_make(name, sizeof name);
    r.pid = slice_make(name, sizeof name);
    r.msg = slice_make("a\0b", 3);
    r.ts = -1;
    buf_t b = BUF_INIT;
    size_t size = record_frame_size(&r);
    record_encode(buf_reserve(&b, size), &r);
    assert_int_equal(record_decode(b.data, size, &d), (long)size);
    assert_int_equal(d.topic.n, RECORD_NAME_MAX);
    assert_int_equal(d.pid.n, RECORD_NAME_MAX);
    assert_memory_equal(d.pid.p, name, RECORD_NAME_MAX);
    assert_int_equal(d.msg.n, 3);
    assert_memory_equal(d.msg.p, "a\0b", 3);
    assert_int_equal(d.ts, -1);
    buf_free(&b);
}

static void test_decode_short(void **state)
{
    (void)state;
    record_t r = sample(), d;
    char frame[128];
    size_t size = record_frame_size(&r);
    record_encode(frame, &r);
    /* every prefix shorter than the frame asks for more bytes */
    for (size_t n = 0; n < size; n++)
        assert_int_equal(record_decode(frame, n, &d), 0);
    assert_int_equal(record_decode(frame, size, &d), (long)size);
}

static void test_decode_malformed(void **state)
{
    (void)state;
    record_t r = sample(), d;
    char good[128], frame[128];
    size_t size = record_frame_size(&r);
    record_encode(good, &r);

    /* body shorter than the fixed fields */
    memcpy(frame, good, size);
    wr32(frame, RECORD_HEAD - RECORD_FRAME_HDR - 1);
    assert_int_equal(record_decode(frame, size, &d), -1);
    /* absurdly large body */
    wr32(frame, 0xFFFFFFF0u);
    assert_int_equal(record_decode(frame, size, &d), -1);
    /* body length one more than the parts */
    memcpy(frame, good, size);
    wr32(frame, (uint32_t)(size - RECORD_FRAME_HDR + 1));
    frame[size] = 'x';
    assert_int_equal(record_decode(frame, size + 1, &d), -1);
    /* a part longer than the frame */
    memcpy(frame, good, size);
    wr32(frame + 38, 1000);
    assert_int_equal(record_decode(frame, size, &d), -1);
    /* parts that add up to less than the body */
    memcpy(frame, good, size);
    wr32(frame + 34, 0);
    assert_int_equal(record_decode(frame, size, &d), -1);
    /* a huge fields length that would wrap a 32-bit sum */
    memcpy(frame, good, size);
    wr32(frame + 34, 0xFFFFFFFFu);
    assert_int_equal(record_decode(frame, size, &d), -1);
    /* a level outside 0..7 */
    memcpy(frame, good, size);
    frame[24] = 8;
    assert_int_equal(record_decode(frame, size, &d), -1);
    frame[24] = (char)0xFF;
    assert_int_equal(record_decode(frame, size, &d), -1);
    /* moving a byte between two parts still decodes: lengths add up */
    memcpy(frame, good, size);
    frame[26] = 6; /* topic_len 7 -> 6 */
    frame[28] = 4; /* app_len 3 -> 4 */
    assert_int_equal(record_decode(frame, size, &d), (long)size);
    slice_is(d.topic, "web.ap");
    slice_is(d.app, "iweb");
}

static void test_to_json(void **state)
{
    (void)state;
    record_t r = sample();
    buf_t b = BUF_INIT;
    record_to_json(&b, &r);
    assert_string_equal(buf_cstr(&b), "{\"seq\":42,\"ts\":\"2024-11-21T10:46:40.123456789Z\","
                                      "\"level\":\"warning\",\"topic\":\"web.api\",\"host\":\"h1\","
                                      "\"app\":\"web\",\"pid\":\"123\",\"msg\":\"hi \\\"x\\\"\\n\","
                                      "\"fields\":{\"a\":1},\"truncated\":true}");

    /* host, pid, fields and truncated appear only when set */
    record_t m;
    memset(&m, 0, sizeof m);
    m.seq = 7;
    m.level = LEVEL_INFO;
    m.topic = SLICE_LIT("default.info");
    m.app = SLICE_LIT("default");
    m.msg = SLICE_LIT("caf\xC3\xA9\t");
    m.flags = RECORD_F_REPAIRED;
    buf_reset(&b);
    record_to_json(&b, &m);
    assert_string_equal(buf_cstr(&b), "{\"seq\":7,\"ts\":\"1970-01-01T00:00:00.000000000Z\","
                                      "\"level\":\"info\",\"topic\":\"default.info\","
                                      "\"app\":\"default\",\"msg\":\"caf\xC3\xA9\\t\"}");

    /* appends to what is there */
    buf_reset(&b);
    buf_puts(&b, "[");
    m.msg = SLICE_NULL;
    record_to_json(&b, &m);
    assert_int_equal(b.data[0], '[');
    assert_non_null(strstr(buf_cstr(&b), ",\"msg\":\"\"}"));
    buf_free(&b);
}

static rec_defaults_t no_defaults(void)
{
    rec_defaults_t d;
    memset(&d, 0, sizeof d);
    d.level = -1;
    d.now = 1000;
    return d;
}

/* Decodes the single frame of b into r. */
static void only_frame(const batch_t *b, record_t *r)
{
    assert_int_equal(b->count, 1);
    assert_int_equal(record_decode(b->frames.data, b->frames.len, r), (long)b->frames.len);
}

static void test_recbuild_defaults(void **state)
{
    (void)state;
    recbuild_t rb;
    batch_t b = {0};
    record_t r;
    rec_defaults_t d = no_defaults();

    recbuild_init(&rb, 0);
    recbuild_set(&rb, RF_MSG, "hello", 5);
    recbuild_finish(&rb, &b, &d);
    only_frame(&b, &r);
    slice_is(r.msg, "hello");
    slice_is(r.app, "default");
    slice_is(r.topic, "default.info");
    slice_is(r.host, "");
    slice_is(r.pid, "");
    slice_is(r.fields, "");
    assert_int_equal(r.level, LEVEL_INFO);
    assert_int_equal(r.ts, 1000);
    assert_int_equal(r.seq, 0);
    assert_int_equal(r.flags, 0);

    /* defaults fill what the input left out */
    batch_reset(&b);
    d.app = SLICE_LIT("svc");
    d.host = SLICE_LIT("box");
    d.level = LEVEL_ERROR;
    recbuild_reset(&rb);
    recbuild_set(&rb, RF_MSG, "x", 1);
    recbuild_finish(&rb, &b, &d);
    only_frame(&b, &r);
    slice_is(r.app, "svc");
    slice_is(r.host, "box");
    slice_is(r.topic, "svc.error");
    assert_int_equal(r.level, LEVEL_ERROR);

    /* ... and the input wins over them */
    batch_reset(&b);
    d.topic = SLICE_LIT("fixed.topic");
    recbuild_reset(&rb);
    recbuild_set(&rb, RF_MSG, "x", 1);
    recbuild_set(&rb, RF_APP, "mine", 4);
    recbuild_set(&rb, RF_HOST, "here", 4);
    recbuild_set(&rb, RF_PID, "99", 2);
    rb.level = LEVEL_DEBUG;
    rb.ts = -5;
    rb.has_ts = 1;
    recbuild_finish(&rb, &b, &d);
    only_frame(&b, &r);
    slice_is(r.app, "mine");
    slice_is(r.host, "here");
    slice_is(r.pid, "99");
    slice_is(r.topic, "fixed.topic"); /* a default topic beats <app>.<level> */
    assert_int_equal(r.level, LEVEL_DEBUG);
    assert_int_equal(r.ts, -5);

    batch_reset(&b);
    recbuild_reset(&rb);
    recbuild_set(&rb, RF_TOPIC, "own.topic", 9);
    recbuild_finish(&rb, &b, &d);
    only_frame(&b, &r);
    slice_is(r.topic, "own.topic");
    slice_is(r.msg, "");
    assert_int_equal(r.ts, 1000); /* reset cleared has_ts */
    assert_int_equal(r.level, LEVEL_ERROR);

    recbuild_free(&rb);
    batch_free(&b);
}

static void test_recbuild_empty_first_field(void **state)
{
    (void)state;
    /* a fresh builder whose only text is empty */
    recbuild_t rb;
    batch_t b = {0};
    record_t r;
    rec_defaults_t d = no_defaults();
    recbuild_init(&rb, 0);
    recbuild_set(&rb, RF_MSG, "", 0);
    recbuild_set(&rb, RF_APP, "", 0);
    recbuild_finish(&rb, &b, &d);
    only_frame(&b, &r);
    slice_is(r.msg, "");
    slice_is(r.app, "default");
    slice_is(r.topic, "default.info");
    recbuild_free(&rb);
    batch_free(&b);
}

static void test_recbuild_truncation(void **state)
{
    (void)state;
    recbuild_t rb;
    batch_t b = {0};
    record_t r;
    rec_defaults_t d = no_defaults();

    /* "aé€" is 1 + 2 + 3 bytes; a limit of 5 cuts inside the euro sign */
    recbuild_init(&rb, 5);
    assert_int_equal(rb.max_msg, 5);
    recbuild_set(&rb, RF_MSG, "a\xC3\xA9\xE2\x82\xAC", 6);
    recbuild_finish(&rb, &b, &d);
    only_frame(&b, &r);
    slice_is(r.msg, "a\xC3\xA9");
    assert_int_equal(r.flags, RECORD_F_TRUNCATED);
    assert_int_equal(b.truncated, 1);
    assert_int_equal(b.repaired, 0);

    /* exactly at the limit is not truncated */
    batch_reset(&b);
    recbuild_reset(&rb);
    recbuild_set(&rb, RF_MSG, "12345", 5);
    recbuild_finish(&rb, &b, &d);
    only_frame(&b, &r);
    slice_is(r.msg, "12345");
    assert_int_equal(r.flags, 0);
    assert_int_equal(b.truncated, 0);

    /* the limit applies after repair: one bad byte becomes three */
    batch_reset(&b);
    recbuild_reset(&rb);
    recbuild_set(&rb, RF_MSG, "abc\xFF", 4);
    recbuild_finish(&rb, &b, &d);
    only_frame(&b, &r);
    slice_is(r.msg, "abc");
    assert_int_equal(r.flags, RECORD_F_TRUNCATED | RECORD_F_REPAIRED);
    recbuild_free(&rb);

    /* 0 and anything above the format's limit mean the format's limit */
    recbuild_init(&rb, 0);
    assert_int_equal(rb.max_msg, RECORD_MSG_MAX);
    recbuild_free(&rb);
    recbuild_init(&rb, (size_t)RECORD_MSG_MAX * 4);
    assert_int_equal(rb.max_msg, RECORD_MSG_MAX);
    recbuild_free(&rb);
    batch_free(&b);
}

static void test_recbuild_name_limits(void **state)
{
    (void)state;
    recbuild_t rb;
    batch_t b = {0};
    record_t r;
    rec_defaults_t d = no_defaults();
    char longname[400];
    memset(longname, 'h', sizeof longname);
    /* a two-byte character straddling byte 255 */
    char accented[300];
    memset(accented, 'a', sizeof accented);
    accented[254] = (char)0xC3;
    accented[255] = (char)0xA9;

    recbuild_init(&rb, 0);
    recbuild_set(&rb, RF_MSG, "m", 1);
    recbuild_set(&rb, RF_HOST, longname, sizeof longname);
    recbuild_set(&rb, RF_PID, longname, 256);
    recbuild_set(&rb, RF_TOPIC, accented, sizeof accented);
    recbuild_set(&rb, RF_APP, longname, RECORD_NAME_MAX);
    recbuild_finish(&rb, &b, &d);
    only_frame(&b, &r);
    assert_int_equal(r.host.n, RECORD_NAME_MAX);
    assert_int_equal(r.pid.n, RECORD_NAME_MAX);
    assert_int_equal(r.app.n, RECORD_NAME_MAX);
    assert_int_equal(r.topic.n, 254); /* cut before the é, not inside it */
    assert_memory_equal(r.topic.p, accented, 254);
    /* cutting a name is not a truncated message */
    assert_int_equal(r.flags, 0);

    /* a long app makes a topic <app>.<level> within the limit */
    batch_reset(&b);
    recbuild_reset(&rb);
    recbuild_set(&rb, RF_APP, longname, sizeof longname);
    rb.level = LEVEL_WARNING;
    recbuild_finish(&rb, &b, &d);
    only_frame(&b, &r);
    assert_int_equal(r.topic.n, RECORD_NAME_MAX);
    assert_memory_equal(r.topic.p + RECORD_NAME_MAX - 8, ".warning", 8);
    assert_memory_equal(r.topic.p, longname, RECORD_NAME_MAX - 8);

    /* ... cut on a character boundary */
    batch_reset(&b);
    recbuild_reset(&rb);
    char app[255];
    memset(app, 'b', sizeof app);
    app[246] = (char)0xC3;
    app[247] = (char)0xA9;
    recbuild_set(&rb, RF_APP, app, sizeof app);
    recbuild_finish(&rb, &b, &d);
    only_frame(&b, &r);
    assert_int_equal(r.topic.n, 246 + 5);
    assert_memory_equal(r.topic.p + 246, ".info", 5);
    assert_int_equal(utf8_valid_prefix(r.topic.p, r.topic.n), r.topic.n);

    recbuild_free(&rb);
    batch_free(&b);
}

static void test_recbuild_repair_and_fields(void **state)
{
    (void)state;
    recbuild_t rb;
    batch_t b = {0};
    record_t r;
    rec_defaults_t d = no_defaults();

    recbuild_init(&rb, 0);
    recbuild_set(&rb, RF_MSG, "bad \xC3\x28", 6);
    recbuild_field_key(&rb, "n", 1);
    recbuild_field_raw(&rb, "12", 2);
    recbuild_field_key(&rb, "s\"", 2);
    recbuild_field_str(&rb, "v\n", 2);
    recbuild_field_key(&rb, "arr", 3);
    recbuild_field_raw(&rb, "[1,true]", 8);
    recbuild_finish(&rb, &b, &d);
    only_frame(&b, &r);
    slice_is(r.msg, "bad \xEF\xBF\xBD(");
    assert_int_equal(r.flags, RECORD_F_REPAIRED);
    assert_int_equal(b.repaired, 1);
    slice_is(r.fields, "{\"n\":12,\"s\\\"\":\"v\\n\",\"arr\":[1,true]}");

    /* invalid UTF-8 in a field value is repaired and flagged too */
    recbuild_reset(&rb);
    recbuild_set(&rb, RF_MSG, "ok", 2);
    recbuild_field_key(&rb, "k", 1);
    recbuild_field_str(&rb, "\xFF", 1);
    recbuild_finish(&rb, &b, &d);
    assert_int_equal(b.count, 2);
    assert_int_equal(b.repaired, 2);
    long n1 = record_decode(b.frames.data, b.frames.len, &r);
    assert_true(n1 > 0);
    assert_int_equal(record_decode(b.frames.data + n1, b.frames.len - (size_t)n1, &r),
                     (long)b.frames.len - n1);
    slice_is(r.fields, "{\"k\":\"\xEF\xBF\xBD\"}");
    assert_int_equal(r.flags, RECORD_F_REPAIRED);

    /* reset forgets the fields */
    recbuild_reset(&rb);
    recbuild_set(&rb, RF_MSG, "x", 1);
    recbuild_finish(&rb, &b, &d);
    assert_int_equal(b.count, 3);
    recbuild_free(&rb);
    batch_free(&b);
}

static void test_batch(void **state)
{
    (void)state;
    batch_t b = {0};
    record_t r = sample(), d;
    size_t one = record_frame_size(&r);
    batch_add(&b, &r);
    size_t mark = b.frames.len;
    r.seq = 43;
    r.flags = RECORD_F_REPAIRED;
    batch_add(&b, &r);
    batch_add(&b, &r);
    assert_int_equal(b.count, 3);
    assert_int_equal(b.frames.len, 3 * one);
    assert_int_equal(b.truncated, 1);
    assert_int_equal(b.repaired, 2);
    assert_int_equal(record_decode(b.frames.data + one, one, &d), (long)one);
    assert_int_equal(d.seq, 43);

    batch_truncate(&b, mark, 1);
    assert_int_equal(b.count, 1);
    assert_int_equal(b.frames.len, one);
    batch_reset(&b);
    assert_int_equal(b.count, 0);
    assert_int_equal(b.frames.len, 0);
    assert_int_equal(b.repaired + b.truncated, 0);
    batch_free(&b);
    assert_null(b.frames.data);
}

static void test_frame_roundtrip_and_checksum(void **state)
{
    (void)state;
    batch_t b = {0};
    record_t r = {0}, d;
    r.msg = SLICE_LIT("hello \xe2\x82\xac");
    r.topic = SLICE_LIT("a.b");
    r.app = SLICE_LIT("app");
    r.host = SLICE_LIT("h");
    r.pid = SLICE_LIT("42");
    r.fields = SLICE_LIT("{\"k\":1}");
    r.level = 3;
    r.ts = -5;
    batch_add(&b, &r);
    char *p = b.frames.data;
    record_seal(p, 77);
    size_t size;
    assert_true(record_verify(p, b.frames.len, &size));
    assert_int_equal(size, b.frames.len);
    assert_int_equal(record_decode(p, size, &d), (long)size);
    assert_int_equal(d.seq, 77);
    assert_int_equal(d.ts, -5);
    assert_int_equal(d.level, 3);
    assert_memory_equal(d.msg.p, r.msg.p, r.msg.n);
    assert_memory_equal(d.fields.p, "{\"k\":1}", 7);
    /* any flipped bit in the body fails the checksum */
    for (size_t i = RECORD_FRAME_HDR; i < size; i++) {
        p[i] ^= 0x10;
        assert_false(record_verify(p, size, &size));
        p[i] ^= 0x10;
    }
    assert_true(record_verify(p, size, &size));
    /* a short buffer is not a frame */
    assert_false(record_verify(p, size - 1, &size));
    batch_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_roundtrip_and_checksum),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_round_trip_extremes),
        cmocka_unit_test(test_decode_short),
        cmocka_unit_test(test_decode_malformed),
        cmocka_unit_test(test_to_json),
        cmocka_unit_test(test_recbuild_defaults),
        cmocka_unit_test(test_recbuild_empty_first_field),
        cmocka_unit_test(test_recbuild_truncation),
        cmocka_unit_test(test_recbuild_name_limits),
        cmocka_unit_test(test_recbuild_repair_and_fields),
        cmocka_unit_test(test_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
