/* wire.c - basic.publish frames: see wire.h. */
#include "wire.h"

#include <string.h>

#define FRAME_END 0xCE
#define HEAD      7 /* type, channel, size */
#define TABLE_MAX 65536

static void put8(buf_t *b, uint8_t v)
{
    buf_putc(b, (char)v);
}

static void put16(buf_t *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    buf_append(b, x, 2);
}

static void put32(buf_t *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    buf_append(b, x, 4);
}

static void put64(buf_t *b, uint64_t v)
{
    put32(b, (uint32_t)(v >> 32));
    put32(b, (uint32_t)v);
}

static void put_short_str(buf_t *b, amqp_bytes_t s)
{
    put8(b, (uint8_t)s.len);
    if (s.len)
        buf_append(b, s.bytes, s.len);
}

/* Starts a frame; its size is filled by end_frame(). Returns its offset. */
static size_t begin_frame(buf_t *b, uint8_t type, uint16_t channel)
{
    size_t at = b->len;
    put8(b, type);
    put16(b, channel);
    put32(b, 0);
    return at;
}

static void end_frame(buf_t *b, size_t at)
{
    uint32_t n = (uint32_t)(b->len - at - HEAD);
    uint8_t *p = (uint8_t *)b->data + at + 3;
    p[0] = (uint8_t)(n >> 24);
    p[1] = (uint8_t)(n >> 16);
    p[2] = (uint8_t)(n >> 8);
    p[3] = (uint8_t)n;
    put8(b, FRAME_END);
}

int wire_publish(buf_t *out, uint16_t channel, amqp_bytes_t exchange, amqp_bytes_t routing_key,
                 int mandatory, const amqp_basic_properties_t *props, amqp_bytes_t body,
                 size_t frame_max)
{
    amqp_flags_t fl = props->_flags;
    if (exchange.len > 255 || routing_key.len > 255 || (fl & ~(amqp_flags_t)WIRE_PROPS_SUPPORTED))
        return -1;
    if (((fl & AMQP_BASIC_CONTENT_TYPE_FLAG) && props->content_type.len > 255) ||
        ((fl & AMQP_BASIC_MESSAGE_ID_FLAG) && props->message_id.len > 255) ||
        ((fl & AMQP_BASIC_APP_ID_FLAG) && props->app_id.len > 255))
        return -1;
    char table[TABLE_MAX];
    size_t tlen = 0;
    if (fl & AMQP_BASIC_HEADERS_FLAG) {
        amqp_table_t t = props->headers;
        if (amqp_encode_table((amqp_bytes_t){sizeof table, table}, &t, &tlen) != AMQP_STATUS_OK)
            return -1;
    }
    if (frame_max < 4096)
        frame_max = 4096;
    size_t chunk = frame_max - HEAD - 1;
    buf_reserve(out, 3 * (HEAD + 1) + 32 + exchange.len + routing_key.len + 64 + tlen + 3 * 256 +
                         body.len + (body.len / chunk + 1) * (HEAD + 1));

    /* basic.publish: class 60, method 40, reserved, exchange, routing key,
     * the bits (mandatory, immediate) */
    size_t at = begin_frame(out, AMQP_FRAME_METHOD, channel);
    put32(out, AMQP_BASIC_PUBLISH_METHOD);
    put16(out, 0);
    put_short_str(out, exchange);
    put_short_str(out, routing_key);
    put8(out, mandatory ? 1 : 0);
    end_frame(out, at);

    /* the content header: class, weight, body size, flags, then the
     * properties in the order of their flags (highest bit first) */
    at = begin_frame(out, AMQP_FRAME_HEADER, channel);
    put16(out, AMQP_BASIC_CLASS);
    put16(out, 0);
    put64(out, body.len);
    put16(out, (uint16_t)fl);
    if (fl & AMQP_BASIC_CONTENT_TYPE_FLAG)
        put_short_str(out, props->content_type);
    if (fl & AMQP_BASIC_HEADERS_FLAG)
        buf_append(out, table, tlen);
    if (fl & AMQP_BASIC_DELIVERY_MODE_FLAG)
        put8(out, props->delivery_mode);
    if (fl & AMQP_BASIC_MESSAGE_ID_FLAG)
        put_short_str(out, props->message_id);
    if (fl & AMQP_BASIC_TIMESTAMP_FLAG)
        put64(out, props->timestamp);
    if (fl & AMQP_BASIC_APP_ID_FLAG)
        put_short_str(out, props->app_id);
    end_frame(out, at);

    for (size_t off = 0; off < body.len; off += chunk) {
        size_t n = body.len - off < chunk ? body.len - off : chunk;
        at = begin_frame(out, AMQP_FRAME_BODY, channel);
        buf_append(out, (const char *)body.bytes + off, n);
        end_frame(out, at);
    }
    return 0;
}
