/* es_http.c - the Elasticsearch bulk API on the protocol glue
 * (ingest/http/proto_http.h): bodies to es_parse, and Elasticsearch's
 * replies.
 *
 * Clients check the server before they send: the official ones read
 * GET / (version, and the X-Elastic-Product header on every reply), and
 * shippers look for templates, ILM policies and the license. Those are
 * answered here as a single-node cluster that has whatever is asked for,
 * so the clients go on to _bulk. A bulk is answered once its records are
 * stored, with one item per action; when the store cannot take them, 429
 * with Retry-After, which the clients retry. */
#include "es_http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../common/json_write.h"
#include "../../common/timeutil.h"
#include "es_parse.h"

#define ES_VERSION "8.17.0"

static ingest_stats_t stats = {.ack_seconds = {.kind = &hist_seconds}};

const ingest_stats_t *es_stats(void)
{
    return &stats;
}

static const http_header_t product[] = {{"X-Elastic-Product", "Elasticsearch"}};

static void *create(size_t max_msg)
{
    es_parser_t *ep = xcalloc(1, sizeof *ep);
    es_parser_init(ep, max_msg);
    return ep;
}

static void destroy(void *p)
{
    es_parser_t *ep = p;
    es_parser_free(ep);
    free(ep);
}

/* The path below the route: /es/x -> /x; /_bulk stays. */
static slice_t es_path(slice_t path)
{
    if (path.n >= 3 && memcmp(path.p, "/es", 3) == 0 && (path.n == 3 || path.p[3] == '/'))
        return slice_make(path.p + 3, path.n - 3);
    return path;
}

/* For a bulk path (/_bulk or /<index>/_bulk) 1, with the index in *index. */
static int bulk_path(slice_t p, slice_t *index)
{
    *index = SLICE_NULL;
    if (p.n && p.p[p.n - 1] == '/')
        p.n--;
    if (slice_eq(p, "/_bulk"))
        return 1;
    if (p.n > 7 && memcmp(p.p + p.n - 6, "/_bulk", 6) == 0) {
        slice_t ix = slice_make(p.p + 1, p.n - 7);
        if (ix.n && !memchr(ix.p, '/', ix.n)) {
            *index = ix;
            return 1;
        }
    }
    return 0;
}

static int starts(slice_t p, const char *prefix)
{
    size_t n = strlen(prefix);
    return p.n >= n && memcmp(p.p, prefix, n) == 0;
}

static void reply_json(http_conn_t *c, int status, const char *body)
{
    http_reply(c, status, "application/json", product, 1, body, strlen(body));
}

int es_http_is_client(const http_req_t *r)
{
    if (http_header(r, "x-elastic-client-meta").p)
        return 1;
    slice_t a = http_header(r, "accept");
    for (size_t i = 0; i + 17 <= a.n; i++)
        if (memcmp(a.p + i, "vnd.elasticsearch", 17) == 0)
            return 1;
    return 0;
}

void es_http_root(http_conn_t *c, const http_req_t *r)
{
    (void)r;
    reply_json(c, 200,
               "{\"name\":\"logshipd\",\"cluster_name\":\"logship\",\"cluster_uuid\":"
               "\"logship-0000000000000000\",\"version\":{\"number\":\"" ES_VERSION "\","
               "\"build_flavor\":\"default\",\"build_type\":\"logship\",\"build_hash\":"
               "\"logship\",\"lucene_version\":\"9.12.0\",\"minimum_wire_compatibility_version\":"
               "\"7.17.0\",\"minimum_index_compatibility_version\":\"7.0.0\"},"
               "\"tagline\":\"You Know, for Search\"}\n");
}

/* Everything but a bulk: the probes, answered at once. */
static int head(http_conn_t *c, const http_req_t *r)
{
    slice_t p = es_path(r->path), index;
    int get = r->method & (HM_GET | HM_HEAD);
    if (bulk_path(p, &index))
        return get ? (reply_json(c, 405,
                                 "{\"error\":{\"type\":\"illegal_argument_exception\",\"reason\":"
                                 "\"use POST or PUT for _bulk\"},\"status\":405}\n"),
                      1)
                   : 0;
    if (p.n == 0 || slice_eq(p, "/")) {
        if (get)
            es_http_root(c, r);
        else
            reply_json(c, 405,
                       "{\"error\":{\"type\":\"illegal_argument_exception\",\"reason\":\"use GET "
                       "or HEAD for /\"},\"status\":405}\n");
        return 1;
    }
    if (slice_eq(p, "/_license")) {
        reply_json(c, 200,
                   "{\"license\":{\"status\":\"active\",\"uid\":\"logship\",\"type\":\"basic\","
                   "\"issued_to\":\"logship\",\"issuer\":\"logship\"}}\n");
        return 1;
    }
    if (slice_eq(p, "/_xpack")) {
        reply_json(c, 200,
                   "{\"build\":{},\"features\":{},\"license\":{\"status\":\"active\",\"type\":"
                   "\"basic\"}}\n");
        return 1;
    }
    if (starts(p, "/_cluster/health")) {
        reply_json(c, 200,
                   "{\"cluster_name\":\"logship\",\"status\":\"green\",\"timed_out\":false,"
                   "\"number_of_nodes\":1,\"number_of_data_nodes\":1}\n");
        return 1;
    }
    if (starts(p, "/_nodes")) {
        reply_json(c, 200,
                   "{\"_nodes\":{\"total\":1,\"successful\":1,\"failed\":0},\"cluster_name\":"
                   "\"logship\",\"nodes\":{}}\n");
        return 1;
    }
    /* templates, policies, pipelines, indices and data streams: whatever a
     * shipper asks for exists, whatever it creates is acknowledged */
    if (starts(p, "/_template/") || starts(p, "/_index_template/") ||
        starts(p, "/_component_template/") || starts(p, "/_ilm/policy/") ||
        starts(p, "/_ingest/pipeline/") || starts(p, "/_data_stream/") ||
        (p.n > 1 && p.p[1] != '_' && !memchr(p.p + 1, '/', p.n - 1))) {
        reply_json(c, 200, get ? "{}\n" : "{\"acknowledged\":true}\n");
        return 1;
    }
    reply_json(c, 404,
               "{\"error\":{\"type\":\"illegal_argument_exception\",\"reason\":\"logshipd "
               "answers _bulk and the endpoints clients check first, not this one\"},"
               "\"status\":404}\n");
    return 1;
}

static int parse(void *parser, const proto_in_t *in, batch_t *b, ingest_report_t *rep,
                 proto_out_t *out)
{
    es_parser_t *ep = parser;
    slice_t index;
    bulk_path(es_path(in->path), &index);
    if (!in->n) {
        out->status = 400;
        out->ctype = "application/json";
        buf_reset(out->body);
        buf_puts(out->body, "{\"error\":{\"type\":\"action_request_validation_exception\","
                            "\"reason\":\"Validation Failed: 1: no requests added;\"},"
                            "\"status\":400}\n");
        return -1;
    }
    buf_t *o = out->body;
    buf_reset(o);
    static const char start[] = "{\"took\":0,\"errors\":";
    buf_puts(o, start);
    size_t errors_at = sizeof start - 1; /* where "false" is, to say true instead */
    buf_puts(o, "false,\"items\":[");
    es_bulk_t res = {.json = o};
    es_parse_bulk(ep, in->body, in->n, index, (uint64_t)time_now_ns(), b, in->d, rep, &res);
    buf_puts(o, "]}\n");
    if (res.errors) {
        /* "false" and "true " take the same room */
        memcpy(o->data + errors_at, "true ", 5);
    }
    out->status = 200;
    return 0;
}

/* 429 whether the store is behind or failing: the status every
 * Elasticsearch client and shipper retries, with backoff. */
static void store_failed(int err, proto_out_t *out)
{
    static const http_header_t retry[] = {{"Retry-After", "1"}};
    buf_reset(out->body);
    out->status = 429;
    out->ctype = "application/json";
    out->headers = retry;
    out->nheaders = 1;
    buf_printf(out->body,
               "{\"error\":{\"type\":\"es_rejected_execution_exception\",\"reason\":"
               "\"logshipd %s: retry shortly\"},\"status\":429}\n",
               err == -ENOBUFS  ? "holds too many request bodies in memory (--max-body-memory)"
               : err == -EAGAIN ? "'s store is behind"
                                : "'s store cannot write now");
}

/* As Elasticsearch refuses a request its user may not make. */
static void refused(slice_t ctype, int status, const char *msg, proto_out_t *out)
{
    (void)ctype;
    buf_reset(out->body);
    out->status = status;
    out->ctype = "application/json";
    buf_puts(out->body, "{\"error\":{\"type\":\"security_exception\",\"reason\":");
    json_str(out->body, msg, strlen(msg));
    buf_printf(out->body, "},\"status\":%d}\n", status);
}

const proto_http_t es_http = {
    .name = "elasticsearch",
    .stats = &stats,
    .headers = product,
    .nheaders = 1,
    .create = create,
    .destroy = destroy,
    .head = head,
    .parse = parse,
    .store_failed = store_failed,
    .refused = refused,
};
