/* proto_http.h - HTTP routes for the protocols other shippers speak (Loki
 * push, Elasticsearch _bulk, GELF, OTLP): the I/O glue they share, an
 * http_handler_t run by a table entry per protocol.
 *
 * The glue collects the body (--max-body, and --max-body-memory shared
 * with /api/log), undoes Content-Encoding gzip, deflate or zstd (the
 * decoded body is held to --max-body too: 413 above), hands it to the protocol's
 * pure parser, appends the records and sends the reply the parser wrote
 * once they are stored. When the store cannot take them the protocol
 * answers in its own terms (a 503 or 429 with Retry-After, which the
 * shippers retry).
 *
 * A protocol module below src/server/ provides a proto_http_t; routes.c
 * puts one proto_route_t per route into its table as the route's data.
 * Loop thread only: one parse at a time, so a route's parser is shared by
 * its connections.
 */
#ifndef LOGSHIP_PROTO_HTTP_H
#define LOGSHIP_PROTO_HTTP_H

#include "../../common/record.h"
#include "../../http/http.h"
#include "../ingest.h"
#include "ingest_http.h"

/* A request as the protocol's parser sees it. */
typedef struct proto_in {
    const char *body; /* decoded (Content-Encoding undone) */
    size_t n;
    slice_t ctype; /* Content-Type, or empty */
    slice_t path;  /* the request's path, not decoded */
    const rec_defaults_t *d;
} proto_in_t;

/* What the parser asks to send. The body is the route's buffer; the
 * headers are static, sent after the protocol's own. */
#define PROTO_OUT_HEADERS 4
typedef struct proto_out {
    int status;
    const char *ctype; /* NULL: none (a 204) */
    buf_t *body;
    const http_header_t *headers;
    size_t nheaders; /* at most PROTO_OUT_HEADERS */
} proto_out_t;

typedef struct proto_http {
    const char *name;             /* in logs and errors: "loki" */
    ingest_stats_t *stats;        /* the protocol's counters, owned by its module */
    const http_header_t *headers; /* sent with every reply (ES's product header) */
    size_t nheaders;
    /* The parser's scratch, made once per route. */
    void *(*create)(size_t max_msg);
    void (*destroy)(void *parser);
    /* Optional: a request the protocol answers at its head (a probe, a
     * method it does not take). Returns 1 when it replied, 0 to read the
     * body. */
    int (*head)(http_conn_t *c, const http_req_t *r);
    /* Parses in into b (refusals into rep) and writes the reply to send
     * once b is stored into out (status 200 by default). Returns 0 to
     * store b (when b is empty the reply goes at once), or -1 to send out
     * now and store nothing. */
    int (*parse)(void *parser, const proto_in_t *in, batch_t *b, ingest_report_t *rep,
                 proto_out_t *out);
    /* Writes the reply for records that could not be taken into out (err
     * < 0: -EAGAIN when the store is behind, -ENOBUFS when the request
     * bodies held in memory reached --max-body-memory, another -errno when
     * the store cannot write); the client is to retry. */
    void (*store_failed)(int err, proto_out_t *out);
    /* Optional: the request's refusal after its parse (status 403: a
     * record outside the token's topics) in the protocol's terms, for a
     * request of Content-Type ctype; msg says why. NULL: {"error":msg}. */
    void (*refused)(slice_t ctype, int status, const char *msg, proto_out_t *out);
} proto_http_t;

/* A route's data: its protocol and the /api/log context whose store,
 * limits and body memory it shares. */
typedef struct proto_route {
    const proto_http_t *proto;
    ingest_http_ctx_t *ingest; /* borrowed */
    void *parser;
    batch_t batch;
    ingest_report_t report;
    buf_t decoded; /* the body with its Content-Encoding undone */
} proto_route_t;

extern const http_handler_t proto_http_handler;

/* Sets up r (caller-allocated) for proto on ingest's store and limits. */
void proto_route_init(proto_route_t *r, const proto_http_t *proto, ingest_http_ctx_t *ingest);
/* Frees what r holds; r may be zeroed (never set up). */
void proto_route_close(proto_route_t *r);

/* {"error":msg} into out with status, for the parsers' refusals. */
void proto_out_error(proto_out_t *out, int status, const char *msg);

#endif
