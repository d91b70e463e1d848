/* fluent_parse.h - the Fluentd forward protocol into records (pure: a TCP
 * stream's bytes in, records and acknowledgement requests out), as
 * fluentd, Fluent Bit, Docker's fluentd log driver and the fluent-logger
 * libraries send it. Each message is a MessagePack array, one of:
 *
 *   Message                  [tag, time, record, option?]
 *   Forward                  [tag, [[time, record], ...], option?]
 *   PackedForward            [tag, <bin: [time, record] entries back to back>, option?]
 *   CompressedPackedForward  the same, gzip-compressed, option {"compressed":"gzip"}
 *
 * time is seconds (an integer, or a float) or an EventTime (ext type 0:
 * seconds and nanoseconds, big-endian 32 bits each). option may hold
 * "chunk": the sender wants {"ack":<chunk>} back once the message is
 * stored (fluent_conn.c answers after durability).
 *
 * Mapping (docs/PROTOCOL.md): the tag is the topic, its first word the
 * default app; time is ts; the record's keys are read as an HTTP JSON
 * record's (message/msg/log, level, host, app, ...), the rest in fields;
 * a record without a message keeps an empty msg.
 *
 * A bad entry (not [time, record], a record that is not a map) or a
 * message that is not a forward message is skipped, counted in
 * parse_errors and listed in the report, and the rest is kept; only bytes
 * that are not MessagePack at all, or a message longer than max_message,
 * end the stream (fluent_feed returns -1).
 */
#ifndef LOGSHIP_FLUENT_PARSE_H
#define LOGSHIP_FLUENT_PARSE_H

#include "../../common/record.h"
#include "../ingest.h"
#include "../json/json_parse.h"
#include "msgpack.h"

typedef struct fluent_events {
    /* Records of messages that asked for no ack, in b (the session's);
     * called before each acked message and at the end of a feed. */
    void (*records)(void *arg, batch_t *b);
    /* The records of one message that asked for an ack with chunk (its
     * bytes, valid during the call); b may be empty when every entry was
     * bad: the ack is still owed. */
    void (*acked)(void *arg, batch_t *b, const char *chunk, size_t chunk_len);
} fluent_events_t;

typedef struct fluent_session {
    size_t max_message;
    buf_t pending; /* the start of a message not yet whole */
    size_t need;   /* pending is not worth reading again before this size */
    json_parser_t *jp;
    buf_t json, inflated, entry;
    batch_t batch, one;
    ingest_report_t rep;
    uint64_t messages;     /* whole messages read */
    uint64_t parse_errors; /* entries or messages skipped */
    char err[200];
} fluent_session_t;

/* max_msg bounds a record's msg, max_message a message (and its
 * decompressed entries). */
void fluent_session_init(fluent_session_t *s, size_t max_msg, size_t max_message);
void fluent_session_free(fluent_session_t *s);

/* Feeds stream bytes; the events get the records of each whole message.
 * Returns 0, or -1 with s->err when the stream cannot go on. */
int fluent_feed(fluent_session_t *s, const char *p, size_t n, const rec_defaults_t *d,
                const fluent_events_t *ev, void *arg);

/* The ack for chunk, {"ack":chunk} as MessagePack, into out (reset). */
void fluent_ack(buf_t *out, const char *chunk, size_t n);

#endif
