/* loki_http.c - POST /loki/api/v1/push on the protocol glue
 * (ingest/http/proto_http.h): the body to loki_parse, Loki's replies.
 *
 * JSON (application/json) or protobuf (application/x-protobuf, snappy).
 * Loki answers a push with 204 and no body. A request with refused
 * entries gets 400 (which the shippers do not retry) after the good
 * entries are stored, with the list of what was refused; a store that
 * cannot take the records gets 503 with Retry-After (retried). */
#include "loki_http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../common/json_write.h"
#include "loki_parse.h"

static ingest_stats_t stats = {.ack_seconds = {.kind = &hist_seconds}};

const ingest_stats_t *loki_stats(void)
{
    return &stats;
}

static void *create(size_t max_msg)
{
    loki_parser_t *lp = xcalloc(1, sizeof *lp);
    loki_parser_init(lp, max_msg);
    lp->max_push = max_msg; /* proto_route_init passes --max-body */
    return lp;
}

static void destroy(void *p)
{
    loki_parser_t *lp = p;
    loki_parser_free(lp);
    free(lp);
}

static int parse(void *parser, const proto_in_t *in, batch_t *b, ingest_report_t *rep,
                 proto_out_t *out)
{
    loki_parser_t *lp = parser;
    const char *err = NULL;
    slice_t ct = in->ctype;
    size_t semi = 0;
    while (semi < ct.n && ct.p[semi] != ';')
        semi++;
    ct = slice_trim(slice_make(ct.p, semi));
    int pb = slice_eq_nocase(ct, "application/x-protobuf");
    if (ct.n && !pb && !slice_eq_nocase(ct, "application/json")) {
        proto_out_error(out, 415,
                        "unsupported Content-Type: use application/x-protobuf (snappy) or "
                        "application/json");
        return -1;
    }
    if (pb ? loki_parse_pb(lp, in->body, in->n, lp->max_push, b, in->d, rep, &err)
           : loki_parse_json(lp, in->body, in->n, b, in->d, rep, &err)) {
        proto_out_error(out, 400, err);
        return -1;
    }
    if (!rep->rejected) {
        out->status = 204;
        out->ctype = NULL;
        return 0;
    }
    /* the good entries are stored; the sender learns which were not */
    buf_t *o = out->body;
    out->status = 400;
    buf_printf(o, "{\"error\":\"%zu of %zu entries refused\",\"accepted\":%zu,", rep->rejected,
               lp->entries, b->count);
    buf_puts(o, "\"rejected_count\":");
    buf_append_u64(o, rep->rejected);
    buf_puts(o, ",\"rejected\":[");
    buf_append(o, rep->json.data, rep->json.len);
    buf_puts(o, "]}\n");
    return 0;
}

static void store_failed(int err, proto_out_t *out)
{
    static const http_header_t retry[] = {{"Retry-After", "1"}};
    char msg[160];
    snprintf(msg, sizeof msg, "%s",
             err == -ENOBUFS
                 ? "too many request bodies in memory (--max-body-memory); retry shortly"
             : err == -EAGAIN ? "store is behind; retry shortly"
                              : "store cannot write; retry later");
    proto_out_error(out, 503, msg);
    out->headers = retry;
    out->nheaders = 1;
}

const proto_http_t loki_http = {
    .name = "loki",
    .stats = &stats,
    .create = create,
    .destroy = destroy,
    .parse = parse,
    .store_failed = store_failed,
};
