/* otlp_http.c - POST /v1/logs on the protocol glue (ingest/http/
 * proto_http.h): the body to otlp_parse, OTLP's replies.
 *
 * OTLP/HTTP answers 200 with an ExportLogsServiceResponse once the records
 * are stored; refused log records are reported in partialSuccess (the
 * exporter logs them and does not retry). A body that is not a request
 * gets 400 with a google.rpc.Status; a store that cannot take the records
 * 503 with Retry-After, which exporters retry with backoff. */
#include "otlp_http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../common/json_write.h"
#include "otlp_parse.h"

static ingest_stats_t stats = {.ack_seconds = {.kind = &hist_seconds}};

const ingest_stats_t *otlp_stats(void)
{
    return &stats;
}

static void *create(size_t max_msg)
{
    otlp_parser_t *op = xcalloc(1, sizeof *op);
    otlp_parser_init(op, max_msg);
    return op;
}

static void destroy(void *p)
{
    otlp_parser_free(p);
    free(p);
}

/* A google.rpc.Status: code 3 is INVALID_ARGUMENT, 14 UNAVAILABLE. */
static void status(proto_out_t *out, int http, int code, const char *msg)
{
    out->status = http;
    out->ctype = "application/json";
    buf_reset(out->body);
    buf_printf(out->body, "{\"code\":%d,\"message\":", code);
    json_str(out->body, msg, strlen(msg));
    buf_puts(out->body, "}\n");
}

static int parse(void *parser, const proto_in_t *in, batch_t *b, ingest_report_t *rep,
                 proto_out_t *out)
{
    otlp_parser_t *op = parser;
    const char *err = NULL;
    slice_t ct = in->ctype;
    size_t semi = 0;
    while (semi < ct.n && ct.p[semi] != ';')
        semi++;
    ct = slice_trim(slice_make(ct.p, semi));
    if (!slice_eq_nocase(ct, "application/json")) {
        status(out, 415, 3,
               slice_eq_nocase(ct, "application/x-protobuf")
                   ? "protobuf export requests are not supported yet: use the JSON encoding "
                     "(Content-Type: application/json)"
                   : "unsupported Content-Type: use application/json");
        return -1;
    }
    if (otlp_parse_json(op, in->body, in->n, b, in->d, rep, &err)) {
        status(out, 400, 3, err);
        return -1;
    }
    buf_t *o = out->body;
    buf_reset(o);
    out->status = 200;
    out->ctype = "application/json";
    if (!rep->rejected) {
        buf_puts(o, "{\"partialSuccess\":{}}\n");
        return 0;
    }
    buf_printf(
        o, "{\"partialSuccess\":{\"rejectedLogRecords\":\"%zu\",\"errorMessage\":", rep->rejected);
    buf_t msg = BUF_INIT;
    buf_printf(&msg, "%zu of %zu log records refused: [", rep->rejected, op->records);
    buf_append(&msg, rep->json.data, rep->json.len);
    buf_putc(&msg, ']');
    json_str(o, msg.data, msg.len);
    buf_free(&msg);
    buf_puts(o, "}}\n");
    return 0;
}

static void store_failed(int err, proto_out_t *out)
{
    static const http_header_t retry[] = {{"Retry-After", "1"}};
    status(out, 503, 14,
           err == -EAGAIN ? "store is behind; retry shortly" : "store cannot write; retry later");
    out->headers = retry;
    out->nheaders = 1;
}

const proto_http_t otlp_http = {
    .name = "otlp",
    .stats = &stats,
    .create = create,
    .destroy = destroy,
    .parse = parse,
    .store_failed = store_failed,
};
