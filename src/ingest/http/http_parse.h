/* http_parse.h - HTTP ingest bodies into records (pure: no sockets).
 *
 * The five shapes of docs/API.md, chosen by Content-Type:
 *   application/x-www-form-urlencoded  log=<line> (the classic custom
 *       handler) or the fields of Python's logging.handlers.HTTPHandler
 *   application/json                   one object or an array of objects
 *   application/x-ndjson               one object per line (the batch path)
 *   text/plain                         one record per line
 * and GET /api/log?... whose query is a form.
 */
#ifndef LOGSHIP_HTTP_PARSE_H
#define LOGSHIP_HTTP_PARSE_H

#include "../../common/record.h"
#include "../ingest.h"
#include "../json/json_parse.h"
#include "../../common/form_parse.h"

enum http_body_kind {
    HTTP_BODY_UNKNOWN,
    HTTP_BODY_FORM,
    HTTP_BODY_JSON,
    HTTP_BODY_NDJSON,
    HTTP_BODY_TEXT,
};

/* Maps a Content-Type header value (parameters and case ignored). */
enum http_body_kind http_body_kind(const char *ctype, size_t n);

/* The messages of the two "nothing to store" outcomes, for callers that
 * count them apart from malformed input (compare pointers). */
extern const char http_err_empty[];      /* zero-byte body */
extern const char http_err_no_records[]; /* only blank lines, or [] */

/* Reusable parsing state for one thread. */
typedef struct http_parse {
    json_parser_t *jp;
    form_t form;
    recbuild_t rb;
    buf_t text;
    char err[320];
} http_parse_t;

void http_parse_init(http_parse_t *hp, size_t max_msg);
void http_parse_free(http_parse_t *hp);

/* Parses a body of the given kind, adding records to b and refusals to rep.
 * Returns the HTTP status: 200 when at least one record was added, 400
 * with *err for a body that holds none (empty, malformed, every line bad). */
int http_parse_body(http_parse_t *hp, enum http_body_kind kind, const char *body, size_t n,
                    batch_t *b, const rec_defaults_t *d, ingest_report_t *rep, const char **err);

/* Turns a decoded form (a POST body or a GET query) into one record.
 * Returns 200, or 400 with *err when it holds no log, msg or message. */
int http_parse_form(http_parse_t *hp, const form_t *f, batch_t *b, const rec_defaults_t *d,
                    const char **err);

/* Fills d's app, level, topic and host from query pairs (app=, level=,
 * topic=, host=); strings borrow from q. Returns 0, or -1 with *err for an
 * unknown level name. */
int http_parse_defaults(const form_t *q, rec_defaults_t *d, const char **err);

#endif
