/* inbody.h - RabbitMQ messages into records for the input (--amqp-in):
 * a message's properties and body in, records out. Pure: no I/O, one
 * thread (the input's), fuzzed by tests/fuzz/fuzz_amqp_body.c.
 *
 * What a body becomes, by its content_type (parameters after ';' and case
 * are ignored):
 *   application/json      one JSON object, or an array of objects, with
 *                         json_parse.h's mapping; a record needs no msg
 *                         (an object of fields only is kept, msg "").
 *   application/x-ndjson  (or application/jsonl, application/x-jsonlines)
 *                         one JSON object per line, blank lines skipped.
 *   text/...              one record: the body is its msg (a final newline
 *                         dropped; a message is one event, whatever lines
 *                         it has).
 *   anything else, none   by its first byte that is not blank: '{' or '['
 *                         is JSON (NDJSON when more than one line has
 *                         something), else text.
 * A body that JSON was expected of and that does not parse is kept as a
 * text record with fields.parse_error (for NDJSON: the line that did not,
 * with its line number); so is an empty body, and one cut to the size
 * limit (marked truncated). Nothing is dropped: the input acks what it
 * stored, so a message is never refused back to the queue for its content.
 *
 * Defaults for what a record does not say: topic = the routing key (the
 * output's topic, or the publisher's), ts = the message's timestamp
 * property (seconds), else the time it came; level info, app default.
 *
 * Another logshipd's messages (app_id "logshipd" and message_id
 * NODE:SEQ or NODE:FIRST-LAST, NODE 32 hex digits, as amqp_out.h
 * publishes them) carry records as /api/logs returns them: each keeps its
 * topic, ts, level, host, app, pid, msg and fields; the node and its seq
 * go into fields.origin_node and fields.origin_seq, first among its
 * fields (a record that came through a relay keeps the pair of the node
 * that first published it: json_wrap_t.origin_node). Other messages with a
 * message_id get fields.amqp_message_id, first too.
 *
 * Keys for dedup.h: a record of another logshipd is "NODE:SEQ" (its
 * origin_node and origin_seq), so a record published again in a message
 * packed differently is still known; any other record of a message with a
 * message_id is that id (the message is asked for once). A record stored
 * with a key has RECORD_F_AMQP_KEY and its fields begin with the key's
 * fields: inbody_record_key() reads it back from there, which is how the
 * window is rebuilt at start. Fields of the same names that a body
 * brought come after, and no other input sets the flag, so nothing else
 * can pass for a key. The key callback decides,
 * before a record is kept, whether it was taken before.
 */
#ifndef LOGSHIP_AMQP_INBODY_H
#define LOGSHIP_AMQP_INBODY_H

#include <stddef.h>
#include <stdint.h>

#include "../common/record.h"

#define INBODY_KEY_MAX 300 /* a key with its NUL: a message_id is at most 255 bytes */

typedef struct inbody_msg {
    const char *body;
    size_t len;    /* bytes of body kept */
    uint64_t size; /* the body's size as sent: more than len when it was cut */
    slice_t content_type, message_id, app_id, routing_key;
    int64_t timestamp_ns; /* the timestamp property; 0: none */
} inbody_msg_t;

/* Asked before each record (or, for a message whose records have no keys
 * of their own, once for the message) is kept: 1 keeps it, 0 drops it as
 * taken before. The callback records the key as taken when it says 1. */
typedef int (*inbody_key_fn)(void *arg, const char *key, size_t n);

typedef struct inbody_result {
    size_t records;      /* added to the batch */
    size_t duplicates;   /* records dropped by the key callback */
    size_t parse_errors; /* records kept as text with parse_error */
    int origin;          /* another logshipd's message */
} inbody_result_t;

typedef struct inbody inbody_t;

/* max_msg bounds a record's msg (0: the format's limit). */
inbody_t *inbody_create(size_t max_msg);
void inbody_destroy(inbody_t *p);

/* Adds the records of m to b. key may be NULL (nothing is a duplicate).
 * now is the receive time (ns), the default ts without a timestamp. */
void inbody_parse(inbody_t *p, const inbody_msg_t *m, int64_t now, batch_t *b, inbody_key_fn key,
                  void *arg, inbody_result_t *res);

/* 1 when app_id and message_id are another logshipd's; then node gets
 * its NODE (33 bytes with the NUL). */
int inbody_origin(slice_t app_id, slice_t message_id, char *node);

/* The key of a stored record (see above) into out (INBODY_KEY_MAX bytes,
 * NUL-terminated). Returns its length, 0 when the record has none (it is
 * not flagged RECORD_F_AMQP_KEY, or its fields do not begin with one). */
size_t inbody_record_key(const record_t *r, char *out);

#endif
