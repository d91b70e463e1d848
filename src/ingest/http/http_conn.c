/* http_conn.c - POST/GET /api/log: the I/O side of HTTP ingest, an
 * http_handler_t (src/http/http.h).
 *
 * Collects a request body as it arrives (bounded by --max-body), hands it to
 * the pure parser in http_parse.c, appends the batch to the store and
 * replies with the seqs once it is stored. A refused body (wrong type, too
 * large) is answered at once; the HTTP layer reads and drops the rest, or
 * closes when that would be too much.
 *
 * A token limited to some topics (auth.h) writes only those: a request
 * with any record whose topic is outside them is refused whole with 403
 * before the append, so nothing of it is stored. The check runs over the
 * parsed batch, once per request, and allocates nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/json_write.h"
#include "../../common/timeutil.h"
#include "../../auth/auth.h"
#include "../../http/http.h"
#include "../../query/params.h"
#include "../../store/producer.h"
#include "ingest_http.h"

/* The route's counters: the HTTP input's, and its refusals. */
static ingest_http_stats_t stats = {.in = {.ack_seconds = {.kind = &hist_seconds}}};

void ingest_http_count_rejected(int reason)
{
    if (reason >= 0 && reason < HREJ_COUNT)
        stats.rejected[reason]++;
}

const ingest_http_stats_t *ingest_http_stats(void)
{
    return &stats;
}

/* Per connection, kept across its requests. */
typedef struct ingest_state {
    http_conn_t *conn;
    ingest_http_ctx_t *ctx;
    enum http_body_kind kind;
    buf_t body;
    size_t held;  /* body.cap, as counted in ctx->body_memory */
    form_t query; /* the decoded query string, kept until the body is in */
    char producer[PRODUCER_ID_MAX + 1];
    int has_producer;
    int reading; /* a POST whose body is wanted */
    int64_t t0;  /* monotonic ns at the request head */
    uint64_t batch_no;
    store_waiter_t waiter;
    buf_t resp;
} ingest_state_t;

/* Records that name no host get the client's address, as syslog's do. */
static void defaults_init(rec_defaults_t *d, http_conn_t *c)
{
    memset(d, 0, sizeof *d);
    d->level = -1;
    d->now = time_now_ns();
    d->host = slice_cstr(http_peer(c));
}

static void reply_error(http_conn_t *c, int status, enum http_reject why, const char *msg)
{
    stats.rejected[why]++;
    http_reply_error(c, status, msg);
}

/* The body's memory, counted against --max-body-memory. */
static void body_release(ingest_state_t *st, size_t keep)
{
    buf_reset(&st->body);
    buf_shrink(&st->body, keep);
    st->ctx->body_memory -= st->held;
    st->held = st->body.cap;
    st->ctx->body_memory += st->held;
}

static void on_stored(store_waiter_t *w, int err, uint64_t first, uint64_t last)
{
    ingest_state_t *st = container_of(w, ingest_state_t, waiter);
    (void)first;
    (void)last;
    if (err) {
        char msg[160];
        snprintf(msg, sizeof msg, "records not stored: %s", strerror(-err));
        buf_reset(&st->resp);
        buf_puts(&st->resp, "{\"error\":");
        json_str(&st->resp, msg, strlen(msg));
        buf_puts(&st->resp, "}\n");
        http_reply(st->conn, 503, "application/json", NULL, 0, st->resp.data, st->resp.len);
        return;
    }
    hist_observe_ns(&stats.in.ack_seconds, time_mono_ns() - st->t0);
    http_reply(st->conn, 200, "application/json", NULL, 0, st->resp.data, st->resp.len);
}

/* Reads Logship-Producer and Logship-Batch. Returns 0 (none), 1 with both
 * set, or -1 with *err when they are malformed. */
static int producer_headers(const http_req_t *r, ingest_state_t *st, const char **err)
{
    char num[32];
    int n = http_header_copy(r, "logship-producer", st->producer, sizeof st->producer);
    int m = http_header_copy(r, "logship-batch", num, sizeof num);
    if (n <= 0 && m <= 0)
        return 0;
    if (n <= 0 || m <= 0) {
        *err = "Logship-Producer and Logship-Batch go together";
        return -1;
    }
    if (producer_id_check(st->producer, (size_t)n) ||
        http_header(r, "logship-producer").n > PRODUCER_ID_MAX) {
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
    st->batch_no = b;
    return 1;
}

/* 0 when every record of b is one of lim's topics (NULL: any topic), else
 * the number (from 1) of the first that is not. */
static size_t outside(const batch_t *b, const topic_set_t *lim)
{
    const char *f = b->frames.data, *end = f + b->frames.len;
    if (!lim)
        return 0;
    for (size_t i = 1; f && f < end; i++) {
        record_t r;
        long sz = record_decode(f, (size_t)(end - f), &r);
        if (sz <= 0 || !topic_set_match(lim, r.topic.p, r.topic.n))
            return i;
        f += sz;
    }
    return 0;
}

size_t ingest_http_topic_check(http_conn_t *c, const batch_t *b, char *msg, size_t cap)
{
    size_t bad = outside(b, auth_topics(http_principal(c)));
    if (!bad)
        return 0;
    /* the number only: the topic is one this token may not see */
    snprintf(msg, cap,
             "record %zu of the request has a topic outside this token's topics: nothing was "
             "stored",
             bad);
    stats.topic_refused++;
    return bad;
}

/* Appends the batch; replies {"accepted":N,...} once it is stored. */
static int accept_batch(http_conn_t *c, ingest_state_t *st)
{
    ingest_http_ctx_t *ctx = st->ctx;
    batch_t *b = &ctx->batch;
    ingest_report_t *rep = &ctx->report;
    uint64_t first = 0, last = 0;

    char msg[160];
    if (ingest_http_topic_check(c, b, msg, sizeof msg)) {
        http_reply_error(c, 403, msg);
        return 0;
    }

    st->waiter.done = on_stored;
    int rc = store_append(ctx->store, b, st->has_producer ? st->producer : NULL, st->batch_no, 0,
                          &st->waiter, &first, &last);
    if (rc < 0) {
        if (rc == -EAGAIN)
            snprintf(msg, sizeof msg, "store is behind; retry shortly");
        else
            snprintf(msg, sizeof msg, "store cannot write: %s", strerror(-rc));
        reply_error(c, 503, HREJ_STORE, msg);
        return 0;
    }
    int duplicate = st->has_producer && rc == STORE_DONE;
    if (!duplicate) {
        stats.in.records += b->count;
        stats.in.repaired += b->repaired;
        stats.in.truncated += b->truncated;
        stats.in.unknown_levels += b->unknown_levels;
    }

    buf_t *body = &st->resp;
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
    if (rc == STORE_DONE) {
        hist_observe_ns(&stats.in.ack_seconds, time_mono_ns() - st->t0);
        http_reply(c, 200, "application/json", NULL, 0, body->data, body->len);
    }
    return 0;
}

/* A 400 for a body that yielded no record, listing why lines failed. */
static void refuse(http_conn_t *c, ingest_state_t *st, int status, enum http_reject why,
                   const char *msg)
{
    ingest_report_t *rep = &st->ctx->report;
    if (!rep->rejected) {
        reply_error(c, status, why, msg);
        return;
    }
    buf_t *body = &st->resp;
    buf_reset(body);
    buf_puts(body, "{\"error\":");
    json_str(body, msg, strlen(msg));
    buf_puts(body, ",\"accepted\":0,\"rejected_count\":");
    buf_append_u64(body, rep->rejected);
    buf_puts(body, ",\"rejected\":[");
    buf_append(body, rep->json.data, rep->json.len);
    buf_puts(body, "]}\n");
    stats.rejected[why]++;
    http_reply(c, status, "application/json", NULL, 0, body->data, body->len);
}

/* GET /api/log?log=... or Python's HTTPHandler with method GET. */
static int ingest_get(http_conn_t *c, ingest_state_t *st, const http_req_t *r)
{
    ingest_http_ctx_t *ctx = st->ctx;
    rec_defaults_t d;
    const char *err = NULL;

    defaults_init(&d, c);
    stats.in.bytes += r->query.n;
    batch_reset(&ctx->batch);
    ingest_report_reset(&ctx->report);
    if (http_parse_form(&ctx->hp, &st->query, &ctx->batch, &d, &err) != 200) {
        reply_error(c, 400, HREJ_BAD_FORM, err);
        return 0;
    }
    return accept_batch(c, st);
}

static int on_request(http_conn_t *c, const http_req_t *r)
{
    ingest_state_t *st = http_state(c);
    ingest_http_ctx_t *ctx = http_data(c);
    const char *err = NULL;
    char hdr[256];

    st->conn = c;
    st->ctx = ctx;
    st->reading = 0;
    st->t0 = time_mono_ns();
    body_release(st, 64 * 1024);
    if (http_query(r, &st->query, &err)) {
        reply_error(c, 400, HREJ_BAD_QUERY, "bad query string: use percent-escapes");
        return 0;
    }
    int hp = producer_headers(r, st, &err);
    if (hp < 0) {
        reply_error(c, 400, HREJ_HEADERS, err);
        return 0;
    }
    st->has_producer = hp;
    if (r->method != HM_POST)
        return ingest_get(c, st, r);
    /* on a POST the query string holds defaults for the body's records */
    static const char *const default_keys[] = {"app", "topic", "host", "level", NULL};
    char perr[PARAM_ERR_MAX];
    if (params_check(&st->query, default_keys, perr, sizeof perr)) {
        reply_error(c, 400, HREJ_BAD_QUERY, perr);
        return 0;
    }

    if (!r->has_body) {
        reply_error(c, 400, HREJ_EMPTY, http_err_empty);
        return 0;
    }
    int n = http_header_copy(r, "content-type", hdr, sizeof hdr);
    st->kind = n > 0 ? http_body_kind(hdr, (size_t)n) : HTTP_BODY_UNKNOWN;
    if (st->kind == HTTP_BODY_UNKNOWN) {
        reply_error(c, 415, HREJ_UNSUPPORTED_TYPE,
                    n > 0 ? "unsupported Content-Type: use application/x-www-form-urlencoded, "
                            "application/json, application/x-ndjson or text/plain"
                          : "missing Content-Type: use application/x-www-form-urlencoded, "
                            "application/json, application/x-ndjson or text/plain");
        return 0;
    }
    if (r->content_length > ctx->limits.max_body) {
        reply_error(c, 413, HREJ_TOO_LARGE, "body larger than --max-body");
        return 0;
    }
    if (r->expect_100)
        http_continue(c);
    st->reading = 1;
    return 0;
}

static int on_body(http_conn_t *c, const char *p, size_t n)
{
    ingest_state_t *st = http_state(c);
    stats.in.bytes += n;
    ingest_http_ctx_t *ctx = st->ctx;
    if (!st->reading)
        return 0;
    if (st->body.len + n > ctx->limits.max_body) {
        st->reading = 0;
        body_release(st, 0);
        reply_error(c, 413, HREJ_TOO_LARGE, "body larger than --max-body");
        return 0;
    }
    /* grown as it arrives (doubling): a slow client holds only what it sent */
    if (st->body.len + n > st->body.cap) {
        size_t want = st->body.cap ? st->body.cap : 4096;
        while (want < st->body.len + n)
            want *= 2;
        if (ctx->body_memory - st->held + want > ctx->limits.max_body_memory) {
            st->reading = 0;
            body_release(st, 0);
            stats.rejected[HREJ_BUSY]++;
            static const http_header_t retry[] = {{"Retry-After", "1"},
                                                  {"Cache-Control", "no-store"}};
            static const char msg[] =
                "{\"error\":\"too many request bodies in memory (--max-body-memory): "
                "retry shortly\"}\n";
            http_reply(c, 503, "application/json", retry, 2, msg, sizeof msg - 1);
            return 0;
        }
        buf_reserve(&st->body, want - st->body.len);
        ctx->body_memory += st->body.cap - st->held;
        st->held = st->body.cap;
    }
    buf_append(&st->body, p, n);
    return 0;
}

static int on_body_done(http_conn_t *c)
{
    ingest_state_t *st = http_state(c);
    ingest_http_ctx_t *ctx = st->ctx;
    rec_defaults_t d;
    const char *err = NULL;

    if (!st->reading)
        return 0; /* a GET, answered or waiting for the store */
    st->reading = 0;
    defaults_init(&d, c);
    if (http_parse_defaults(&st->query, &d, &err)) {
        reply_error(c, 400, HREJ_BAD_QUERY, err);
        return 0;
    }
    batch_reset(&ctx->batch);
    ingest_report_reset(&ctx->report);
    int status = http_parse_body(&ctx->hp, st->kind, st->body.data ? st->body.data : "",
                                 st->body.len, &ctx->batch, &d, &ctx->report, &err);
    stats.rejected[HREJ_BAD_LINE] += ctx->report.rejected;
    /* one huge body must not pin its memory to an idle connection */
    body_release(st, 64 * 1024);
    if (status == 200)
        return accept_batch(c, st);
    enum http_reject why = err == http_err_empty || err == http_err_no_records ? HREJ_EMPTY
                           : st->kind == HTTP_BODY_FORM                        ? HREJ_BAD_FORM
                                                        : HREJ_MALFORMED_JSON;
    refuse(c, st, status, why, err);
    return 0;
}

static void on_end(http_conn_t *c)
{
    ingest_state_t *st = http_state(c);
    /* the records stay stored; only the reply is not wanted any more */
    if (st->waiter.linked)
        store_cancel(st->ctx->store, &st->waiter);
    st->reading = 0;
    body_release(st, 64 * 1024);
    buf_shrink(&st->resp, 4096);
}

static void on_free(void *state)
{
    ingest_state_t *st = state;
    if (st->ctx)
        st->ctx->body_memory -= st->held;
    buf_free(&st->body);
    buf_free(&st->resp);
    form_free(&st->query);
}

const http_handler_t ingest_http_handler = {
    .name = "ingest",
    .state_size = sizeof(ingest_state_t),
    .on_request = on_request,
    .on_body = on_body,
    .on_body_done = on_body_done,
    .on_end = on_end,
    .on_free = on_free,
};

void ingest_http_init(ingest_http_ctx_t *ctx, store_t *store, const ingest_http_limits_t *lim)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->store = store;
    ctx->limits = *lim;
    http_parse_init(&ctx->hp, lim->max_body);
}

void ingest_http_set_limits(ingest_http_ctx_t *ctx, const ingest_http_limits_t *lim)
{
    if (lim->max_body != ctx->limits.max_body) {
        /* the parser's message limit follows --max-body */
        http_parse_free(&ctx->hp);
        http_parse_init(&ctx->hp, lim->max_body);
    }
    ctx->limits = *lim;
}

void ingest_http_close(ingest_http_ctx_t *ctx)
{
    http_parse_free(&ctx->hp);
    batch_free(&ctx->batch);
    ingest_report_free(&ctx->report);
}
