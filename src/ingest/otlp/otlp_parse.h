/* otlp_parse.h - OpenTelemetry OTLP/HTTP logs into records (pure: bytes
 * in, records out): the JSON encoding of ExportLogsServiceRequest, the
 * body of POST /v1/logs with Content-Type application/json.
 *
 *   {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name",
 *      "value":{"stringValue":"shop"}}]},
 *    "scopeLogs":[{"scope":{"name":"app"},"logRecords":[{"timeUnixNano":
 *      "1764684000000000000","severityNumber":13,"severityText":"WARN",
 *      "body":{"stringValue":"low disk"},"attributes":[...],
 *      "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"}]}]}]}
 *
 * Mapping (docs/PROTOCOL.md):
 *   msg    body: a string as it is, any other value as JSON
 *   ts     timeUnixNano, else observedTimeUnixNano, else receive time
 *   level  severityNumber (1-8 debug, 9-12 info, 13-16 warning, 17-20
 *          error, 21-24 crit), else severityText
 *   app    resource attribute service.name; host: host.name; pid:
 *          process.pid
 *   fields the log record's attributes by key, the other resource
 *          attributes as resource.<key>, scope.name, trace_id, span_id
 *          (hex, as sent) and severity_text when it says more than the
 *          level
 *
 * A log record that is not an object is refused (counted for
 * partialSuccess.rejectedLogRecords) and the others are added; a body that
 * is not such a request at all adds nothing and says why.
 */
#ifndef LOGSHIP_OTLP_PARSE_H
#define LOGSHIP_OTLP_PARSE_H

#include "../../common/record.h"
#include "../ingest.h"
#include "../json/jdom.h"

typedef struct otlp_parser {
    jdom_t dom;
    recbuild_t rb;
    buf_t key, value; /* scratch */
    size_t records;   /* log records seen by the last parse, good or bad */
} otlp_parser_t;

void otlp_parser_init(otlp_parser_t *op, size_t max_msg);
void otlp_parser_free(otlp_parser_t *op);

/* Parses a JSON export request. Returns 0 (records added to b, refused
 * log records in rep, numbered from 1 across the request), or -1 with
 * *err (valid until the next call): then nothing is added. */
int otlp_parse_json(otlp_parser_t *op, const char *s, size_t n, batch_t *b, const rec_defaults_t *d,
                    ingest_report_t *rep, const char **err);

/* syslog severity of an OTLP severityNumber (1..24), or -1. */
int otlp_level(long severity_number);

#endif
