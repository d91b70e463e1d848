/* es_parse.h - Elasticsearch _bulk bodies into records (pure: bytes in,
 * records and the per-item results out).
 *
 * A bulk body is NDJSON: an action line, then (for index and create) the
 * document's line:
 *   {"index":{"_index":"logs-web","_id":"1"}}
 *   {"@timestamp":"2026-12-03T10:00:00Z","message":"GET /","log":{"level":"info"}}
 *   {"create":{}}
 *   {...}
 * Each index or create becomes one record (docs/PROTOCOL.md has the
 * mapping): ECS names first (message, @timestamp, log.level, host.name,
 * service.name, process.pid), then the common ones of other shippers
 * (rsyslog's default template, Logstash, Fluent Bit's "log"); every other
 * key goes into fields, nested objects as dotted keys. The item's index
 * (its _index, or the one of the path) is kept as fields._index and names
 * the app when the document does not: without a trailing date
 * (logs-web-2026.12.03 gives logs-web).
 *
 * Items that cannot be stored get an error item, as Elasticsearch answers
 * them, and the others are still stored: a document that is not a JSON
 * object (400 mapper_parsing_exception), delete and update (400
 * illegal_argument_exception: logshipd only appends), an action line that
 * is not an action (400; if the next line is not an action either it is
 * taken as that action's document and skipped). Each is in the report
 * too, numbered by its line.
 */
#ifndef LOGSHIP_ES_PARSE_H
#define LOGSHIP_ES_PARSE_H

#include "../../common/record.h"
#include "../ingest.h"
#include "../json/jdom.h"
#include "../json/jmap.h"

typedef struct es_parser {
    jdom_t dom;
    recbuild_t rb;
    jmap_scratch_t sc;
    buf_t index; /* the current item's index */
    buf_t id;
    /* the last action line and what it said: shippers repeat the same one
     * for every document, so it is parsed once per request */
    buf_t last_line, last_index, last_id;
    int last_op; /* 0: none cached */
    /* the start of the last item written, {"<op>":{"_index":"<index>","_id":,
     * for the op and index it was made for: the next item of the same
     * (every one of a request, as shippers send them) copies it */
    buf_t head, head_index;
    int head_op; /* its op + 1; 0: none */
    /* "ls<id_base in hex>- of the generated ids, for head_base */
    buf_t id_prefix;
    uint64_t id_base;
    /* the _index field's JSON string, for the index in index_json_of */
    buf_t index_json, index_json_of;
    int index_repaired; /* it had invalid UTF-8 */
} es_parser_t;

/* What one bulk request came to. */
typedef struct es_bulk {
    size_t items;  /* actions answered */
    size_t errors; /* of which failed */
    buf_t *json;   /* the items' JSON objects, comma separated (the
                      caller's, appended to) */
} es_bulk_t;

void es_parser_init(es_parser_t *ep, size_t max_msg);
void es_parser_free(es_parser_t *ep);

/* Parses a bulk body; index is the path's (empty: none). Adds records to
 * b, refusals to rep, and one result per action to out. id_base makes the
 * ids of items sent without one unique (the caller's clock). */
void es_parse_bulk(es_parser_t *ep, const char *s, size_t n, slice_t index, uint64_t id_base,
                   batch_t *b, const rec_defaults_t *d, ingest_report_t *rep, es_bulk_t *out);

#endif
