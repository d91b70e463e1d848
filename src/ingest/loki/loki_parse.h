/* loki_parse.h - Grafana Loki push requests into records (pure: bytes in,
 * records out), the body of POST /loki/api/v1/push.
 *
 * JSON (application/json):
 *   {"streams":[{"stream":{"app":"web","level":"warn",...},
 *                "values":[["<ns since epoch>","<line>"],
 *                          ["<ns>","<line>",{"trace_id":"..."}]]}]}
 *
 * Each entry is one record: the line is msg, the timestamp (a string of
 * nanoseconds, as Loki takes it; an RFC 3339 time is accepted too) is ts.
 * The stream's labels and the entry's structured metadata map onto the
 * record (docs/PROTOCOL.md):
 *   app    "app" > "service_name" > "job"
 *   host   "host" > "hostname"
 *   level  "level" > "detected_level"
 *   topic  "topic"
 * and every other label or metadata key goes into fields, as do the
 * labels that lost to a higher-ranked one.
 *
 * A bad entry (not an array, a bad time, a line that is not a string) is
 * refused in the report, numbered by its place among all entries of the
 * request (1-based), and the others are still added; a body that is not
 * a push request at all adds nothing and says why.
 */
#ifndef LOGSHIP_LOKI_PARSE_H
#define LOGSHIP_LOKI_PARSE_H

#include "../../common/record.h"
#include "../ingest.h"
#include "../json/jdom.h"
#include "../json/jmap.h"

typedef struct loki_parser {
    buf_t snappy, json; /* a protobuf push, decompressed, then as JSON */
    jdom_t dom;
    recbuild_t rb;
    jmap_scratch_t sc;
    size_t entries;  /* entries seen by the last parse, good or bad */
    size_t max_push; /* a protobuf push's decompressed size at most */
} loki_parser_t;

void loki_parser_init(loki_parser_t *lp, size_t max_msg);
void loki_parser_free(loki_parser_t *lp);

/* Parses a protobuf push (snappy-compressed, loki_pb.h) as its JSON, at
 * most max bytes decompressed; as loki_parse_json. */
int loki_parse_pb(loki_parser_t *lp, const char *s, size_t n, size_t max, batch_t *b,
                  const rec_defaults_t *d, ingest_report_t *rep, const char **err);

/* Parses a JSON push request. Returns 0 (records added to b, refused
 * entries in rep), or -1 with *err (valid until the next call) when s is
 * not a push request; then nothing is added. */
int loki_parse_json(loki_parser_t *lp, const char *s, size_t n, batch_t *b, const rec_defaults_t *d,
                    ingest_report_t *rep, const char **err);

#endif
