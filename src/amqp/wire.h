/* wire.h - basic.publish as the bytes AMQP 0-9-1 puts on the wire (a
 * method frame, a content header frame, body frames), appended to a
 * buffer, so that the output hands many messages to the socket in one
 * send() where librabbitmq's amqp_basic_publish() makes three per message
 * (one per frame): at one record per message those calls were 84% of the
 * output's system time (strace -c, BENCHMARKS.md).
 *
 * Only the properties the output sets are encoded: content_type, headers,
 * delivery_mode, message_id, timestamp and app_id (any other flag is
 * refused). The headers table is encoded by librabbitmq's
 * amqp_encode_table(), so its wire form is the library's own.
 *
 * Pure: bytes out, no I/O, no allocation but the buffer's growth.
 */
#ifndef LOGSHIP_AMQP_WIRE_H
#define LOGSHIP_AMQP_WIRE_H

#include <amqp.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"

#define WIRE_PROPS_SUPPORTED                                                                       \
    (AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |      \
     AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_APP_ID_FLAG)

/* Appends the frames of one basic.publish on channel: exchange and
 * routing key (each at most 255 bytes), mandatory, props, the body cut
 * into frames of at most frame_max bytes (the connection's negotiated
 * size, at least 4096). Returns 0, or -1 (out unchanged) for a name too
 * long, a property not supported or a headers table over 64 KiB. */
int wire_publish(buf_t *out, uint16_t channel, amqp_bytes_t exchange, amqp_bytes_t routing_key,
                 int mandatory, const amqp_basic_properties_t *props, amqp_bytes_t body,
                 size_t frame_max);

#endif
