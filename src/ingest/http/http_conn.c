/* http_conn.c - POST/GET /api/log: the I/O side of HTTP ingest.
 *
 * Collects a request body (bounded by --max-body), hands it to the pure
 * parser in http_parse.c, appends the batch to the store and replies with the
 * seqs. A refused body (wrong type, too large) is still read to its end so
 * the reply reaches the client and the connection stays usable, unless the
 * client asked "Expect: 100-continue" and so has not sent it yet.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../common/json_write.h"
#include "../../common/timeutil.h"
#include "../../server/http.h"
#include "../../server/metrics.h"
#include "../../store/producer.h"

/* Beyond this many bytes of a refused body, closing beats reading. */
#define DISCARD_LIMIT(srv) ((srv)->cfg.max_body * 4 + (1u << 20))

static void defaults_init(rec_defaults_t *d)
{
    memset(d, 0, sizeof *d);
    d->level = -1;
    d->now = time_now_ns();
}

static void on_stored(store_waiter_t *w, int err, uint64_t first, uint64_t last)
{
    http_conn_t *c = container_of(w, http_conn_t, waiter);
    (void)first;
    (void)last;
    if (err) {
        char msg[160];
        snprintf(msg, sizeof msg, "records not stored: %s", strerror(-err));
        buf_reset(&c->resp);
        buf_puts(&c->resp, "{\"error\":");
        json_str(&c->resp, msg, strlen(msg));
        buf_puts(&c->resp, "}\n");
        http_reply_later(c, 503);
        return;
    }
    http_reply_later(c, 200);
}

/* Reads Logship-Producer and Logship-Batch. Returns 0 (none: *id NULL),
 * 1 with both set, or -1 with *err when they are malformed. */
static int producer_headers(struct lws *wsi, char *id, size_t cap, uint64_t *batch,
                            const char **err)
{
    char num[32];
    int n = lws_hdr_custom_copy(wsi, id, (int)cap, "logship-producer:", 17);
    int m = lws_hdr_custom_copy(wsi, num, sizeof num, "logship-batch:", 14);
    if (n <= 0 && m <= 0)
        return 0;
    if (n <= 0 || m <= 0) {
        *err = "Logship-Producer and Logship-Batch go together";
        return -1;
    }
    if (producer_id_check(id, (size_t)n)) {
        *err = "bad Logship-Producer: 1 to 64 printable ASCII characters";
        return -1;
    }
    char *end;
    errno = 0;
    unsigned long long b = strtoull(num, &end, 10);
    if (end == num || *end || errno || b == 0 || num[0] == '-') {
        *err = "bad Logship-Batch: a number from 1 up";
        return -1;
    }
    *batch = b;
    return 1;
}

/* Appends the batch; replies {"accepted":N,...} once it is stored. */
static int accept_batch(struct lws *wsi, http_conn_t *c)
{
    server_t *srv = c->srv;
    batch_t *b = &srv->batch;
    ingest_report_t *rep = &srv->report;
    uint64_t first = 0, last = 0, batch_no = 0;
    char producer[PRODUCER_ID_MAX + 1];
    const char *err = NULL;

    int hp = producer_headers(wsi, producer, sizeof producer, &batch_no, &err);
    if (hp < 0)
        return http_reply_error(wsi, c, 400, HREJ_HEADERS, err);
    c->waiter.done = on_stored;
    int rc = store_append(srv->store, b, hp ? producer : NULL, batch_no, 0, &c->waiter, &first,
                          &last);
    if (rc < 0) {
        char msg[160];
        if (rc == -EAGAIN)
            snprintf(msg, sizeof msg, "store is behind; retry shortly");
        else
            snprintf(msg, sizeof msg, "store cannot write: %s", strerror(-rc));
        return http_reply_error(wsi, c, 503, HREJ_STORE, msg);
    }
    int duplicate = hp && rc == STORE_DONE;
    if (!duplicate) {
        metrics.records[INPUT_HTTP] += b->count;
        metrics.repaired[INPUT_HTTP] += b->repaired;
        metrics.truncated[INPUT_HTTP] += b->truncated;
    }

    buf_t *body = &c->resp;
    buf_reset(body);
    buf_puts(body, "{\"accepted\":");
    buf_append_u64(body, duplicate ? (first ? last - first + 1 : 0) : b->count);
    buf_puts(body, ",\"first_seq\":");
    buf_append_u64(body, first);
    buf_puts(body, ",\"last_seq\":");
    buf_append_u64(body, last);
    if (duplicate)
        buf_puts(body, ",\"duplicate\":true");
    if (rep->rejected) {
        buf_puts(body, ",\"rejected_count\":");
        buf_append_u64(body, rep->rejected);
        buf_puts(body, ",\"rejected\":[");
        buf_append(body, rep->json.data, rep->json.len);
        buf_putc(body, ']');
    }
    if (b->repaired) {
        buf_puts(body, ",\"utf8_repaired\":");
        buf_append_u64(body, b->repaired);
    }
    if (b->truncated) {
        buf_puts(body, ",\"truncated\":");
        buf_append_u64(body, b->truncated);
    }
    buf_puts(body, "}\n");
    if (rc == STORE_DONE)
        return http_reply(wsi, c, 200, "application/json", body->data, body->len);
    return 0;
}

/* A 400 for a body that yielded no record, listing why lines failed. */
static int refuse(struct lws *wsi, http_conn_t *c, int status, enum http_reject why,
                  const char *msg)
{
    server_t *srv = c->srv;
    ingest_report_t *rep = &srv->report;
    if (!rep->rejected)
        return http_reply_error(wsi, c, status, why, msg);
    buf_t *body = &srv->hp.text;
    buf_reset(body);
    buf_puts(body, "{\"error\":");
    json_str(body, msg, strlen(msg));
    buf_puts(body, ",\"accepted\":0,\"rejected_count\":");
    buf_append_u64(body, rep->rejected);
    buf_puts(body, ",\"rejected\":[");
    buf_append(body, rep->json.data, rep->json.len);
    buf_puts(body, "]}\n");
    metrics.http_reject[why]++;
    return http_reply(wsi, c, status, "application/json", body->data, body->len);
}

static int query_defaults(struct lws *wsi, http_conn_t *c, rec_defaults_t *d, int *rc)
{
    const char *err;
    defaults_init(d);
    if (http_parse_defaults(&c->query, d, &err)) {
        *rc = http_reply_error(wsi, c, 400, HREJ_BAD_QUERY, err);
        return -1;
    }
    return 0;
}

/* GET /api/log?log=... or Python's HTTPHandler with method GET. */
static int ingest_get(struct lws *wsi, http_conn_t *c)
{
    server_t *srv = c->srv;
    rec_defaults_t d;
    const char *err = NULL;

    defaults_init(&d);
    metrics.bytes[INPUT_HTTP] += (uint64_t)lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS);
    batch_reset(&srv->batch);
    ingest_report_reset(&srv->report);
    if (http_parse_form(&srv->hp, &c->query, &srv->batch, &d, &err) != 200)
        return http_reply_error(wsi, c, 400, HREJ_BAD_FORM, err);
    return accept_batch(wsi, c);
}

static void reject(http_conn_t *c, int status, enum http_reject why, const char *msg)
{
    if (c->reject_status)
        return;
    c->reject_status = status;
    c->reject = why;
    c->reject_msg = msg;
    buf_free(&c->body);
}

int ingest_on_request(struct lws *wsi, http_conn_t *c)
{
    server_t *srv = c->srv;
    char hdr[256];
    int n;

    http_query(wsi, &c->query);
    if (c->method == METHOD_GET)
        return ingest_get(wsi, c);

    if (!c->chunked && c->content_length == 0)
        return http_reply_error(wsi, c, 400, HREJ_EMPTY, http_err_empty);

    n = lws_hdr_copy(wsi, hdr, sizeof hdr, WSI_TOKEN_HTTP_CONTENT_TYPE);
    c->kind = n > 0 ? http_body_kind(hdr, (size_t)n) : HTTP_BODY_UNKNOWN;
    if (c->kind == HTTP_BODY_UNKNOWN)
        reject(c, 415, HREJ_UNSUPPORTED_TYPE,
               n > 0 ? "unsupported Content-Type: use application/x-www-form-urlencoded, "
                       "application/json, application/x-ndjson or text/plain"
                     : "missing Content-Type: use application/x-www-form-urlencoded, "
                       "application/json, application/x-ndjson or text/plain");
    else if (c->content_length > srv->cfg.max_body)
        reject(c, 413, HREJ_TOO_LARGE, "body larger than --max-body");

    int expect = lws_hdr_copy(wsi, hdr, sizeof hdr, WSI_TOKEN_HTTP_EXPECT) > 0 &&
                 strncasecmp(hdr, "100-continue", 12) == 0;
    if (c->reject_status) {
        /* answer now when reading the body is pointless or not coming */
        if (expect || c->content_length > DISCARD_LIMIT(srv))
            return http_reply_error(wsi, c, c->reject_status, c->reject, c->reject_msg);
        return 0;
    }
    if (expect) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        unsigned char msg[LWS_PRE + sizeof cont];
        memcpy(msg + LWS_PRE, cont, sizeof cont - 1);
        if (lws_write(wsi, msg + LWS_PRE, sizeof cont - 1, LWS_WRITE_HTTP) < 0)
            return -1;
    }
    if (c->content_length)
        buf_reserve(&c->body, (size_t)c->content_length);
    return 0;
}

int ingest_on_body(struct lws *wsi, http_conn_t *c, const char *in, size_t len)
{
    server_t *srv = c->srv;
    (void)wsi;
    c->received += len;
    metrics.bytes[INPUT_HTTP] += len;
    if (c->reject_status)
        return c->received > DISCARD_LIMIT(srv) ? -1 : 0;
    if (c->body.len + len > srv->cfg.max_body) {
        reject(c, 413, HREJ_TOO_LARGE, "body larger than --max-body");
        return 0;
    }
    buf_append(&c->body, in, len);
    return 0;
}

int ingest_on_complete(struct lws *wsi, http_conn_t *c)
{
    server_t *srv = c->srv;
    rec_defaults_t d;
    const char *err = NULL;
    int rc;

    if (c->reject_status)
        return http_reply_error(wsi, c, c->reject_status, c->reject, c->reject_msg);
    if (query_defaults(wsi, c, &d, &rc))
        return rc;
    batch_reset(&srv->batch);
    ingest_report_reset(&srv->report);
    int status = http_parse_body(&srv->hp, c->kind, c->body.data ? c->body.data : "", c->body.len,
                                 &srv->batch, &d, &srv->report, &err);
    metrics.http_reject[HREJ_BAD_LINE] += srv->report.rejected;
    /* one huge body must not pin its memory to an idle connection */
    buf_reset(&c->body);
    buf_shrink(&c->body, 64 * 1024);
    if (status == 200)
        return accept_batch(wsi, c);
    enum http_reject why = err == http_err_empty || err == http_err_no_records ? HREJ_EMPTY
                           : c->kind == HTTP_BODY_FORM                            ? HREJ_BAD_FORM
                                                                 : HREJ_MALFORMED_JSON;
    return refuse(wsi, c, status, why, err);
}
