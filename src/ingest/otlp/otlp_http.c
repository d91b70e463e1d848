/* otlp_http.c - POST /v1/logs on the protocol glue (ingest/http/
 * proto_http.h): the body to otlp_parse, OTLP's replies.
 *
 * Both encodings: protobuf (application/x-protobuf, the exporters'
 * default) is turned into the JSON one (otlp_pb.c) and answered in
 * protobuf. OTLP/HTTP answers 200 with an ExportLogsServiceResponse once
 * the records are stored; refused log records are reported in partialSuccess (the
 * exporter logs them and does not retry). A body that is not a request
 * gets 400 with a google.rpc.Status; a store that cannot take the records
 * 503 with Retry-After, which exporters retry with backoff. */
#include "otlp_http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../common/json_write.h"
#include "otlp_parse.h"
#include "otlp_pb.h"

static ingest_stats_t stats = {.ack_seconds = {.kind = &hist_seconds}};

const ingest_stats_t *otlp_stats(void)
{
    return &stats;
}

typedef struct otlp_route {
    otlp_parser_t op;
    buf_t json; /* a protobuf request as JSON */
} otlp_route_t;

static void *create(size_t max_msg)
{
    otlp_route_t *r = xcalloc(1, sizeof *r);
    otlp_parser_init(&r->op, max_msg);
    return r;
}

static void destroy(void *p)
{
    otlp_route_t *r = p;
    otlp_parser_free(&r->op);
    buf_free(&r->json);
    free(r);
}

/* Protobuf replies: a varint, and a length-delimited field. */
static void pb_varint(buf_t *b, uint64_t v)
{
    while (v >= 0x80) {
        buf_putc(b, (char)(v | 0x80));
        v >>= 7;
    }
    buf_putc(b, (char)v);
}

static void pb_bytes(buf_t *b, unsigned field, const char *p, size_t n)
{
    pb_varint(b, (uint64_t)field << 3 | 2);
    pb_varint(b, n);
    buf_append(b, p, n);
}

/* A google.rpc.Status (code 3 is INVALID_ARGUMENT, 14 UNAVAILABLE), in
 * the request's encoding. */
static void status_as(proto_out_t *out, int pb, int http, int code, const char *msg)
{
    out->status = http;
    buf_reset(out->body);
    if (pb) {
        out->ctype = "application/x-protobuf";
        pb_varint(out->body, 1 << 3 | 0);
        pb_varint(out->body, (uint64_t)code);
        pb_bytes(out->body, 2, msg, strlen(msg));
        return;
    }
    out->ctype = "application/json";
    buf_printf(out->body, "{\"code\":%d,\"message\":", code);
    json_str(out->body, msg, strlen(msg));
    buf_puts(out->body, "}\n");
}

static void status(proto_out_t *out, int http, int code, const char *msg)
{
    status_as(out, 0, http, code, msg);
}

static int parse(void *parser, const proto_in_t *in, batch_t *b, ingest_report_t *rep,
                 proto_out_t *out)
{
    otlp_route_t *r = parser;
    otlp_parser_t *op = &r->op;
    const char *err = NULL;
    slice_t ct = in->ctype;
    size_t semi = 0;
    while (semi < ct.n && ct.p[semi] != ';')
        semi++;
    ct = slice_trim(slice_make(ct.p, semi));
    int pb = slice_eq_nocase(ct, "application/x-protobuf");
    if (!pb && !slice_eq_nocase(ct, "application/json")) {
        status(out, 415, 3,
               "unsupported Content-Type: use application/x-protobuf or application/json");
        return -1;
    }
    const char *body = in->body;
    size_t n = in->n;
    if (pb) {
        buf_reset(&r->json);
        if (otlp_pb_to_json(in->body, in->n, &r->json, &err)) {
            status_as(out, 1, 400, 3, err);
            return -1;
        }
        body = r->json.data;
        n = r->json.len;
    }
    if (otlp_parse_json(op, body, n, b, in->d, rep, &err)) {
        status_as(out, pb, 400, 3, err);
        return -1;
    }
    if (r->json.cap > 1024 * 1024)
        buf_free(&r->json);
    buf_t *o = out->body;
    buf_reset(o);
    out->status = 200;
    out->ctype = pb ? "application/x-protobuf" : "application/json";
    buf_t msg = BUF_INIT;
    if (rep->rejected) {
        buf_printf(&msg, "%zu of %zu log records refused: [", rep->rejected, op->records);
        buf_append(&msg, rep->json.data, rep->json.len);
        buf_putc(&msg, ']');
    }
    if (pb) {
        /* ExportLogsServiceResponse{partial_success{rejected_log_records,
         * error_message}}; empty when all is well */
        if (rep->rejected) {
            buf_t ps = BUF_INIT;
            pb_varint(&ps, 1 << 3 | 0);
            pb_varint(&ps, rep->rejected);
            pb_bytes(&ps, 2, msg.data, msg.len);
            pb_bytes(o, 1, ps.data, ps.len);
            buf_free(&ps);
        }
    } else if (!rep->rejected) {
        buf_puts(o, "{\"partialSuccess\":{}}\n");
    } else {
        buf_printf(o, "{\"partialSuccess\":{\"rejectedLogRecords\":\"%zu\",\"errorMessage\":",
                   rep->rejected);
        json_str(o, msg.data, msg.len);
        buf_puts(o, "}}\n");
    }
    buf_free(&msg);
    return 0;
}

static void store_failed(int err, proto_out_t *out)
{
    static const http_header_t retry[] = {{"Retry-After", "1"}};
    status(out, 503, 14,
           err == -ENOBUFS  ? "too many request bodies in memory (--max-body-memory); retry shortly"
           : err == -EAGAIN ? "store is behind; retry shortly"
                            : "store cannot write; retry later");
    out->headers = retry;
    out->nheaders = 1;
}

/* PERMISSION_DENIED (7), in the request's encoding. */
static void refused(slice_t ctype, int http, const char *msg, proto_out_t *out)
{
    size_t semi = 0;
    while (semi < ctype.n && ctype.p[semi] != ';')
        semi++;
    ctype = slice_trim(slice_make(ctype.p, semi));
    status_as(out, slice_eq_nocase(ctype, "application/x-protobuf"), http, 7, msg);
}

const proto_http_t otlp_http = {
    .name = "otlp",
    .stats = &stats,
    .create = create,
    .destroy = destroy,
    .parse = parse,
    .store_failed = store_failed,
    .refused = refused,
};
