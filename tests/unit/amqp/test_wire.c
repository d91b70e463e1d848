/* test_wire.c - basic.publish frames (src/amqp/wire.c), read back with
 * librabbitmq's own decoders: the method, every property the output sets,
 * the headers table, a body cut at frame_max, and the refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "amqp/wire.h"

typedef struct frame {
    uint8_t type;
    uint16_t channel;
    const uint8_t *payload;
    uint32_t size;
} frame_t;

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Splits b into frames; checks each one's end octet. */
static size_t frames(const buf_t *b, frame_t *out, size_t cap)
{
    const uint8_t *p = (const uint8_t *)b->data;
    size_t off = 0, n = 0;
    while (off < b->len) {
        assert_true(n < cap);
        assert_true(b->len - off >= 8);
        frame_t *f = &out[n++];
        f->type = p[off];
        f->channel = (uint16_t)(p[off + 1] << 8 | p[off + 2]);
        f->size = be32(p + off + 3);
        f->payload = p + off + 7;
        assert_true(off + 8 + f->size <= b->len);
        assert_int_equal(p[off + 7 + f->size], 0xCE);
        off += 8 + f->size;
    }
    return n;
}

static amqp_basic_properties_t props(amqp_table_entry_t *h, int nh)
{
    amqp_basic_properties_t p = {
        ._flags = WIRE_PROPS_SUPPORTED,
        .content_type = amqp_cstring_bytes("application/json"),
        .delivery_mode = AMQP_DELIVERY_PERSISTENT,
        .message_id = amqp_cstring_bytes("0123abcd:42"),
        .headers = {.num_entries = nh, .entries = h},
        .timestamp = 1767225600,
        .app_id = amqp_cstring_bytes("logshipd"),
    };
    return p;
}

static void test_one_message(void **state)
{
    (void)state;
    amqp_table_entry_t h[2] = {
        {.key = amqp_cstring_bytes("seq"), .value = {.kind = AMQP_FIELD_KIND_I64, .value.i64 = 42}},
        {.key = amqp_cstring_bytes("records"),
         .value = {.kind = AMQP_FIELD_KIND_I64, .value.i64 = -7}},
    };
    amqp_basic_properties_t p = props(h, 2);
    buf_t b = {0};
    const char *body = "{\"msg\":\"hello\"}";
    assert_int_equal(wire_publish(&b, 1, amqp_cstring_bytes("logship"),
                                  amqp_cstring_bytes("kern.crit"), 1, &p, amqp_cstring_bytes(body),
                                  131072),
                     0);
    frame_t f[4];
    assert_int_equal(frames(&b, f, 4), 3);

    amqp_pool_t pool;
    init_amqp_pool(&pool, 4096);
    assert_int_equal(f[0].type, AMQP_FRAME_METHOD);
    assert_int_equal(f[0].channel, 1);
    assert_int_equal(be32(f[0].payload), AMQP_BASIC_PUBLISH_METHOD);
    void *dec = NULL;
    assert_int_equal(amqp_decode_method(AMQP_BASIC_PUBLISH_METHOD, &pool,
                                        (amqp_bytes_t){f[0].size - 4, (void *)(f[0].payload + 4)},
                                        &dec),
                     AMQP_STATUS_OK);
    amqp_basic_publish_t *m = dec;
    assert_int_equal(m->exchange.len, 7);
    assert_memory_equal(m->exchange.bytes, "logship", 7);
    assert_int_equal(m->routing_key.len, 9);
    assert_memory_equal(m->routing_key.bytes, "kern.crit", 9);
    assert_int_equal(m->mandatory, 1);
    assert_int_equal(m->immediate, 0);

    assert_int_equal(f[1].type, AMQP_FRAME_HEADER);
    assert_int_equal(f[1].payload[0] << 8 | f[1].payload[1], AMQP_BASIC_CLASS);
    uint64_t size = (uint64_t)be32(f[1].payload + 4) << 32 | be32(f[1].payload + 8);
    assert_int_equal(size, strlen(body));
    /* amqp_decode_properties takes what follows class, weight and size */
    assert_int_equal(
        amqp_decode_properties(AMQP_BASIC_CLASS, &pool,
                               (amqp_bytes_t){f[1].size - 12, (void *)(f[1].payload + 12)}, &dec),
        AMQP_STATUS_OK);
    amqp_basic_properties_t *q = dec;
    assert_int_equal(q->_flags, WIRE_PROPS_SUPPORTED);
    assert_memory_equal(q->content_type.bytes, "application/json", 16);
    assert_int_equal(q->delivery_mode, 2);
    assert_int_equal(q->message_id.len, 11);
    assert_memory_equal(q->message_id.bytes, "0123abcd:42", 11);
    assert_int_equal(q->timestamp, 1767225600);
    assert_memory_equal(q->app_id.bytes, "logshipd", 8);
    assert_int_equal(q->headers.num_entries, 2);
    assert_memory_equal(q->headers.entries[0].key.bytes, "seq", 3);
    assert_int_equal(q->headers.entries[0].value.kind, AMQP_FIELD_KIND_I64);
    assert_int_equal(q->headers.entries[0].value.value.i64, 42);
    assert_int_equal(q->headers.entries[1].value.value.i64, -7);

    assert_int_equal(f[2].type, AMQP_FRAME_BODY);
    assert_int_equal(f[2].size, strlen(body));
    assert_memory_equal(f[2].payload, body, strlen(body));
    empty_amqp_pool(&pool);
    buf_free(&b);
}

/* A body longer than a frame goes in frame_max-sized frames (their
 * payload is frame_max - 8), in order; a second message follows whole. */
static void test_body_split_and_two_messages(void **state)
{
    (void)state;
    char body[10000];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (char)('a' + i % 26);
    amqp_basic_properties_t p = props(NULL, 0);
    p._flags &= ~(amqp_flags_t)AMQP_BASIC_HEADERS_FLAG;
    buf_t b = {0};
    assert_int_equal(wire_publish(&b, 3, amqp_cstring_bytes("x"), amqp_cstring_bytes("a.b"), 0, &p,
                                  (amqp_bytes_t){sizeof body, body}, 4096),
                     0);
    assert_int_equal(wire_publish(&b, 3, amqp_cstring_bytes("x"), amqp_cstring_bytes("a.b"), 0, &p,
                                  (amqp_bytes_t){0, NULL}, 4096),
                     0);
    frame_t f[16];
    size_t n = frames(&b, f, 16);
    /* 10000 bytes in 4088-byte frames: 3; then a method and a header */
    assert_int_equal(n, 2 + 3 + 2);
    size_t got = 0;
    for (size_t i = 2; i < 5; i++) {
        assert_int_equal(f[i].type, AMQP_FRAME_BODY);
        assert_int_equal(f[i].channel, 3);
        assert_true(f[i].size <= 4096 - 8);
        assert_memory_equal(f[i].payload, body + got, f[i].size);
        got += f[i].size;
    }
    assert_int_equal(got, sizeof body);
    assert_int_equal(f[5].type, AMQP_FRAME_METHOD);
    assert_int_equal(f[6].type, AMQP_FRAME_HEADER);
    assert_int_equal(be32(f[6].payload + 8), 0);
    buf_free(&b);
}

static void test_refusals(void **state)
{
    (void)state;
    char longname[300];
    memset(longname, 'n', sizeof longname);
    amqp_basic_properties_t p = props(NULL, 0);
    buf_t b = {0};
    assert_int_equal(wire_publish(&b, 1, (amqp_bytes_t){sizeof longname, longname},
                                  amqp_cstring_bytes("k"), 1, &p, amqp_cstring_bytes("x"), 4096),
                     -1);
    assert_int_equal(wire_publish(&b, 1, amqp_cstring_bytes("x"), (amqp_bytes_t){256, longname}, 1,
                                  &p, amqp_cstring_bytes("x"), 4096),
                     -1);
    p._flags |= AMQP_BASIC_PRIORITY_FLAG; /* not one the output sets */
    assert_int_equal(wire_publish(&b, 1, amqp_cstring_bytes("x"), amqp_cstring_bytes("k"), 1, &p,
                                  amqp_cstring_bytes("x"), 4096),
                     -1);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_message),
        cmocka_unit_test(test_body_split_and_two_messages),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
