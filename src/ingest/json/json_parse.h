/* json_parse.h - JSON and NDJSON into records (pure: bytes in, batch out).
 *
 * A record object maps known keys to record fields and keeps every other key
 * in `fields`, nested objects flattened with dots ({"http":{"code":200}}
 * becomes "http.code":200) and arrays kept as JSON:
 *
 *   msg    "message" > "msg" > "log" (the others are kept in fields)
 *   level  "level", "levelname", "severity", "levelno": names or numbers
 *   ts     "ts", "time", "timestamp", "@timestamp", "created":
 *          RFC 3339 or epoch seconds/ms/us/ns
 *   app    "app" > "service" > "name" (Python's logger name)
 *   topic  "topic"; host "host", "hostname"; pid "pid", "process"
 *   fields "fields": an object whose members become fields unprefixed
 *
 * A value of the wrong kind (an unknown level name, a bad time) is kept in
 * fields rather than dropped. Strings may hold invalid UTF-8: it is repaired.
 *
 * An input that wraps records (the RabbitMQ input, amqp/inbody.h) may set
 * options for the records of the documents that follow (json_wrap_t).
 */
#ifndef LOGSHIP_JSON_PARSE_H
#define LOGSHIP_JSON_PARSE_H

#include "../../common/record.h"
#include "../ingest.h"

typedef struct json_parser json_parser_t;

/* Returns a parser reusable for any number of documents; max_msg bounds a
 * record's msg (0: the format's limit). Owned by the caller, one thread. */
json_parser_t *json_parser_create(size_t max_msg);
void json_parser_destroy(json_parser_t *jp);

/* Options for every record parsed from now on; NULL sets them all off
 * (the default). Copied: w may go away after the call.
 *   extra         JSON object members ("k":v,"k2":v2) each record's fields
 *                 begin with, before its own; n 0: none.
 *   origin_node   the records are another logshipd's /api/logs JSON, and
 *                 this (32 hex digits) its node id: each record's fields
 *                 begin with "origin_node":"NODE","origin_seq":SEQ, SEQ its
 *                 top-level numeric "seq", instead of "seq" landing in
 *                 fields; when its own "fields" hold a valid origin_node
 *                 and origin_seq (it came through a relay), those are the
 *                 pair, so a record keeps the identity of the node that
 *                 first published it, once. "truncated": true sets the
 *                 record's truncated flag. NULL: off.
 *   msg_optional  an object without message, msg or log is a record with
 *                 an empty msg, not an error. */
typedef struct json_wrap {
    const char *extra;
    size_t extra_len;
    const char *origin_node;
    int msg_optional;
} json_wrap_t;
void json_parser_set_wrap(json_parser_t *jp, const json_wrap_t *w);

/* Parses one JSON value: an object (one record) or an array of objects.
 * Array elements that are not objects are rejected in rep, numbered from 1.
 * Returns 0, or -1 when s is not valid JSON or not an object or array:
 * then nothing is added to b and *err points to a message inside jp that
 * stays valid until the next call. */
int json_parse_doc(json_parser_t *jp, const char *s, size_t n, batch_t *b, const rec_defaults_t *d,
                   ingest_report_t *rep, const char **err);

/* Parses NDJSON: one object (or array of objects) per line; blank lines are
 * skipped; a line that fails is rejected in rep with its line number and
 * adds nothing, while the other lines' records are added. */
void json_parse_lines(json_parser_t *jp, const char *s, size_t n, batch_t *b,
                      const rec_defaults_t *d, ingest_report_t *rep);

#endif
