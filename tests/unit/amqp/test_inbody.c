/* test_inbody.c - RabbitMQ messages into records (src/amqp/inbody.c):
 * another logshipd's record JSON keeps its parts and gets its origin, the
 * other bodies by content type, bad bodies kept with parse_error, and the
 * keys that let the input drop what it took before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "amqp/inbody.h"
#include "common/level.h"

#define NODE "0123456789abcdef0123456789abcdef"
#define NOW  1767225600000000000LL /* 2026-01-01T00:00:00Z */

typedef struct keys {
    char k[16][INBODY_KEY_MAX];
    size_t n;
    const char *refuse; /* a key answered "taken" */
} keys_t;

static int on_key(void *arg, const char *k, size_t n)
{
    keys_t *ks = arg;
    if (ks->refuse && strlen(ks->refuse) == n && memcmp(ks->refuse, k, n) == 0)
        return 0;
    if (ks->n < 16) {
        memcpy(ks->k[ks->n], k, n);
        ks->k[ks->n++][n] = '\0';
    }
    return 1;
}

static inbody_msg_t msg(const char *ct, const char *id, const char *app, const char *rkey,
                        const char *body)
{
    inbody_msg_t m = {
        .body = body,
        .len = strlen(body),
        .size = strlen(body),
        .content_type = slice_cstr(ct),
        .message_id = slice_cstr(id),
        .app_id = slice_cstr(app),
        .routing_key = slice_cstr(rkey),
    };
    return m;
}

/* The i-th record of b. */
static record_t nth(const batch_t *b, size_t i)
{
    record_t r;
    const char *p = b->frames.data;
    for (;;) {
        long n = record_decode(p, b->frames.data + b->frames.len - p, &r);
        assert_true(n > 0);
        if (!i--)
            return r;
        p += n;
    }
}

static int has(slice_t s, const char *text)
{
    size_t n = strlen(text);
    for (size_t i = 0; i + n <= s.n; i++)
        if (memcmp(s.p + i, text, n) == 0)
            return 1;
    return 0;
}

static void assert_slice(slice_t s, const char *want)
{
    assert_int_equal(s.n, strlen(want));
    assert_memory_equal(s.p, want, s.n);
}

static void test_origin_record_json(void **state)
{
    (void)state;
    inbody_t *p = inbody_create(0);
    batch_t b = {0};
    keys_t ks = {.n = 0};
    inbody_result_t res;
    inbody_msg_t m =
        msg("application/json", NODE ":42", "logshipd", "web.info",
            "{\"seq\":42,\"ts\":\"2026-11-21T10:45:56.123456789Z\",\"level\":\"error\","
            "\"topic\":\"web.api\",\"host\":\"h1\",\"app\":\"web\",\"pid\":\"7\","
            "\"msg\":\"hello\",\"fields\":{\"user\":\"ann\",\"n\":3},"
            "\"truncated\":true}");
    inbody_parse(p, &m, NOW, &b, on_key, &ks, &res);
    assert_true(res.origin);
    assert_int_equal(res.records, 1);
    assert_int_equal(b.count, 1);
    record_t r = nth(&b, 0);
    assert_slice(r.topic, "web.api"); /* its own, not the routing key */
    assert_slice(r.host, "h1");
    assert_slice(r.app, "web");
    assert_slice(r.pid, "7");
    assert_slice(r.msg, "hello");
    assert_int_equal(r.level, LEVEL_ERROR);
    assert_int_equal(r.ts, 1795257956123456789LL);
    assert_true(r.flags & RECORD_F_TRUNCATED);
    assert_true(has(r.fields, "\"user\":\"ann\""));
    assert_true(has(r.fields, "\"n\":3"));
    assert_true(has(r.fields, "\"origin_seq\":42"));
    assert_true(has(r.fields, "\"origin_node\":\"" NODE "\""));
    assert_false(has(r.fields, "\"seq\""));
    assert_false(has(r.fields, "truncated"));
    /* its key is NODE:SEQ, asked for and read back alike */
    assert_int_equal(ks.n, 1);
    assert_string_equal(ks.k[0], NODE ":42");
    char k[INBODY_KEY_MAX];
    assert_int_equal(inbody_record_key(&r, k), strlen(NODE ":42"));
    assert_string_equal(k, NODE ":42");
    batch_free(&b);
    inbody_destroy(p);
}

static void test_origin_batch_drops_known_records(void **state)
{
    (void)state;
    inbody_t *p = inbody_create(0);
    batch_t b = {0};
    keys_t ks = {.refuse = NODE ":11"};
    inbody_result_t res;
    inbody_msg_t m = msg("application/x-ndjson", NODE ":10-12", "logshipd", "a.x",
                         "{\"seq\":10,\"ts\":\"2026-01-01T00:00:01Z\",\"level\":\"info\","
                         "\"topic\":\"a.x\",\"app\":\"a\",\"msg\":\"ten\"}\n"
                         "{\"seq\":11,\"ts\":\"2026-01-01T00:00:02Z\",\"level\":\"info\","
                         "\"topic\":\"a.x\",\"app\":\"a\",\"msg\":\"eleven\"}\n"
                         "{\"seq\":12,\"ts\":\"2026-01-01T00:00:03Z\",\"level\":\"info\","
                         "\"topic\":\"a.x\",\"app\":\"a\",\"msg\":\"twelve\"}\n");
    inbody_parse(p, &m, NOW, &b, on_key, &ks, &res);
    assert_int_equal(res.records, 2);
    assert_int_equal(res.duplicates, 1);
    assert_int_equal(b.count, 2);
    assert_slice(nth(&b, 0).msg, "ten");
    assert_slice(nth(&b, 1).msg, "twelve");
    assert_int_equal(ks.n, 2);
    assert_string_equal(ks.k[0], NODE ":10");
    assert_string_equal(ks.k[1], NODE ":12");
    batch_free(&b);
    inbody_destroy(p);
}

static void test_foreign_message_keyed_once(void **state)
{
    (void)state;
    inbody_t *p = inbody_create(0);
    batch_t b = {0};
    keys_t ks = {.n = 0};
    inbody_result_t res;
    /* not logshipd's (no app_id): seq is just a field, the id the key */
    inbody_msg_t m = msg("application/x-ndjson", "order-\"7\"", "", "orders.created",
                         "{\"msg\":\"a\",\"seq\":1}\n{\"order\":7}\n");
    m.timestamp_ns = 1700000000LL * 1000000000;
    inbody_parse(p, &m, NOW, &b, on_key, &ks, &res);
    assert_false(res.origin);
    assert_int_equal(b.count, 2);
    assert_int_equal(ks.n, 1);
    assert_string_equal(ks.k[0], "order-\\\"7\\\""); /* as the field stores it */
    record_t r0 = nth(&b, 0), r1 = nth(&b, 1);
    assert_slice(r0.topic, "orders.created"); /* the routing key */
    assert_int_equal(r0.ts, 1700000000LL * 1000000000);
    assert_true(has(r0.fields, "\"seq\":1"));
    assert_slice(r1.msg, ""); /* an object of fields only is kept */
    assert_true(has(r1.fields, "\"order\":7"));
    char k[INBODY_KEY_MAX];
    assert_true(inbody_record_key(&r1, k) > 0);
    assert_string_equal(k, ks.k[0]);
    /* delivered again: the whole message is known */
    batch_reset(&b);
    ks.refuse = ks.k[0];
    inbody_parse(p, &m, NOW, &b, on_key, &ks, &res);
    assert_int_equal(b.count, 0);
    assert_int_equal(res.duplicates, 1);
    batch_free(&b);
    inbody_destroy(p);
}

static void test_poison_and_text(void **state)
{
    (void)state;
    inbody_t *p = inbody_create(0);
    batch_t b = {0};
    inbody_result_t res;
    inbody_msg_t m = msg("application/json", "", "", "x.y", "{\"broken");
    inbody_parse(p, &m, NOW, &b, NULL, NULL, &res);
    assert_int_equal(b.count, 1);
    assert_int_equal(res.parse_errors, 1);
    record_t r = nth(&b, 0);
    assert_slice(r.msg, "{\"broken");
    assert_true(has(r.fields, "\"parse_error\":\"invalid JSON"));
    assert_int_equal(r.ts, NOW);
    assert_slice(r.topic, "x.y");

    batch_reset(&b);
    m = msg("text/plain", "", "", "", "line one\nline two\n");
    inbody_parse(p, &m, NOW, &b, NULL, NULL, &res);
    assert_int_equal(b.count, 1); /* one message, one event */
    r = nth(&b, 0);
    assert_slice(r.msg, "line one\nline two");
    assert_slice(r.topic, "default.info");
    assert_int_equal(res.parse_errors, 0);

    batch_reset(&b);
    m = msg("", "", "", "kern.crit", "{braces} in a line");
    inbody_parse(p, &m, NOW, &b, NULL, NULL, &res);
    assert_int_equal(b.count, 1);
    assert_int_equal(res.parse_errors, 1); /* it looked like JSON */

    batch_reset(&b);
    m = msg("", "", "", "", "plain words");
    inbody_parse(p, &m, NOW, &b, NULL, NULL, &res);
    assert_int_equal(b.count, 1);
    assert_int_equal(res.parse_errors, 0);
    assert_slice(nth(&b, 0).msg, "plain words");

    batch_reset(&b);
    m = msg("application/x-ndjson", "", "", "", "{\"msg\":\"a\"}\n{bad\n\n{\"msg\":\"c\"}\n");
    inbody_parse(p, &m, NOW, &b, NULL, NULL, &res);
    assert_int_equal(b.count, 3);
    assert_int_equal(res.parse_errors, 1);
    assert_slice(nth(&b, 0).msg, "a");
    assert_slice(nth(&b, 1).msg, "{bad");
    assert_true(has(nth(&b, 1).fields, "line 2: invalid JSON"));
    assert_slice(nth(&b, 2).msg, "c");

    batch_reset(&b);
    m = msg("", "", "", "", "");
    inbody_parse(p, &m, NOW, &b, NULL, NULL, &res);
    assert_int_equal(b.count, 1);
    assert_true(has(nth(&b, 0).fields, "the body is empty"));

    batch_reset(&b);
    m = msg("application/json", "", "", "", "{\"msg\":\"cut sho");
    m.size = 100000;
    inbody_parse(p, &m, NOW, &b, NULL, NULL, &res);
    assert_int_equal(b.count, 1);
    r = nth(&b, 0);
    assert_true(r.flags & RECORD_F_TRUNCATED);
    assert_true(has(r.fields, "100000 bytes is over the limit"));
    batch_free(&b);
    inbody_destroy(p);
}

static void test_origin_needs_both(void **state)
{
    (void)state;
    char node[33];
    assert_true(inbody_origin(SLICE_LIT("logshipd"), SLICE_LIT(NODE ":1"), node));
    assert_string_equal(node, NODE);
    assert_true(inbody_origin(SLICE_LIT("logshipd"), SLICE_LIT(NODE ":1-9"), node));
    assert_false(inbody_origin(SLICE_LIT("other"), SLICE_LIT(NODE ":1"), node));
    assert_false(inbody_origin(SLICE_LIT("logshipd"), SLICE_LIT(NODE), node));
    assert_false(inbody_origin(SLICE_LIT("logshipd"), SLICE_LIT(NODE ":x"), node));
    assert_false(inbody_origin(SLICE_LIT("logshipd"), SLICE_LIT(NODE ":1-"), node));
    assert_false(inbody_origin(SLICE_LIT("logshipd"),
                               SLICE_LIT("0123456789ABCDEF0123456789abcdef:1"), node));
    /* a logshipd message_id from somebody else: seq stays a plain field */
    inbody_t *p = inbody_create(0);
    batch_t b = {0};
    inbody_result_t res;
    inbody_msg_t m = msg("application/json", "x:1", "logshipd", "", "{\"seq\":1,\"msg\":\"m\"}");
    inbody_parse(p, &m, NOW, &b, NULL, NULL, &res);
    assert_false(res.origin);
    assert_true(has(nth(&b, 0).fields, "\"seq\":1"));
    assert_true(has(nth(&b, 0).fields, "\"amqp_message_id\":\"x:1\""));
    batch_free(&b);
    inbody_destroy(p);
}

static void test_keys_cannot_be_forged(void **state)
{
    (void)state;
    inbody_t *p = inbody_create(0);
    batch_t b = {0};
    keys_t ks = {.n = 0};
    inbody_result_t res;
    char k[INBODY_KEY_MAX];
    /* a body's own fields of the key's names make no key */
    inbody_msg_t m = msg("application/json", "", "", "",
                         "{\"origin_node\":\"" NODE "\",\"origin_seq\":5,\"msg\":\"x\"}");
    inbody_parse(p, &m, NOW, &b, on_key, &ks, &res);
    assert_int_equal(b.count, 1);
    record_t r = nth(&b, 0);
    assert_false(r.flags & RECORD_F_AMQP_KEY);
    assert_int_equal(inbody_record_key(&r, k), 0);
    assert_int_equal(ks.n, 0);
    /* a relay: the record keeps the pair of the node that first published
     * it, once, first; the relay's seq stays a plain field */
    batch_reset(&b);
    m = msg("application/json", "fedcba9876543210fedcba9876543210:7", "logshipd", "",
            "{\"seq\":7,\"msg\":\"relayed\",\"fields\":{\"a\":1,\"origin_node\":\"" NODE
            "\",\"origin_seq\":5,\"amqp_message_id\":\"z\"}}");
    inbody_parse(p, &m, NOW, &b, on_key, &ks, &res);
    r = nth(&b, 0);
    assert_true(r.flags & RECORD_F_AMQP_KEY);
    assert_true(inbody_record_key(&r, k) > 0);
    assert_string_equal(k, NODE ":5");
    assert_string_equal(ks.k[0], k);
    assert_slice(r.fields, "{\"origin_node\":\"" NODE
                           "\",\"origin_seq\":5,\"a\":1,\"amqp_message_id\":\"z\",\"seq\":7}");
    /* half a pair in its fields is just a field */
    batch_reset(&b);
    m = msg("application/json", "fedcba9876543210fedcba9876543210:8", "logshipd", "",
            "{\"seq\":8,\"msg\":\"x\",\"fields\":{\"origin_seq\":5}}");
    inbody_parse(p, &m, NOW, &b, on_key, &ks, &res);
    r = nth(&b, 0);
    assert_true(inbody_record_key(&r, k) > 0);
    assert_string_equal(k, "fedcba9876543210fedcba9876543210:8");
    assert_slice(r.fields, "{\"origin_node\":\"fedcba9876543210fedcba9876543210\","
                           "\"origin_seq\":8,\"origin_seq\":5}");
    /* a message id is the key, whatever the body says */
    batch_reset(&b);
    m = msg("", "m1", "", "", "{\"fields\":{\"amqp_message_id\":\"forged\"},\"msg\":\"x\"}");
    inbody_parse(p, &m, NOW, &b, on_key, &ks, &res);
    r = nth(&b, 0);
    assert_true(inbody_record_key(&r, k) > 0);
    assert_string_equal(k, "m1");
    /* a poison body of a keyed message is keyed too */
    batch_reset(&b);
    m = msg("application/json", "m2", "", "", "{\"broken");
    inbody_parse(p, &m, NOW, &b, on_key, &ks, &res);
    assert_int_equal(res.parse_errors, 1);
    r = nth(&b, 0);
    assert_true(inbody_record_key(&r, k) > 0);
    assert_string_equal(k, "m2");
    batch_free(&b);
    inbody_destroy(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_origin_record_json),
        cmocka_unit_test(test_origin_batch_drops_known_records),
        cmocka_unit_test(test_foreign_message_keyed_once),
        cmocka_unit_test(test_poison_and_text),
        cmocka_unit_test(test_origin_needs_both),
        cmocka_unit_test(test_keys_cannot_be_forged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
