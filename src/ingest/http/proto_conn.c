/* proto_conn.c - the HTTP glue of the other shippers' protocols: see
 * proto_http.h. Bodies are collected as http_conn.c collects /api/log's,
 * counted in the same --max-body-memory, and held to the token's topics
 * as /api/log's (ingest_http_topic_check). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "../../common/json_write.h"
#include "../../common/timeutil.h"
#include "proto_http.h"

/* Per connection, kept across its requests. */
typedef struct proto_state {
    http_conn_t *conn;
    proto_route_t *route;
    buf_t body;
    size_t held; /* body.cap, as counted in ingest->body_memory */
    int reading;
    int encoding; /* 0 identity, ENC_ZSTD, else the zlib window bits to inflate with */
    int64_t t0;
    store_waiter_t waiter;
    int status; /* of the reply once stored */
    const char *ctype;
    const http_header_t *headers; /* of the reply once stored */
    size_t nheaders;
    buf_t resp;
    char ctype_hdr[128]; /* the request's Content-Type, cut */
    char path[512];      /* the request's path, cut */
} proto_state_t;

void proto_out_error(proto_out_t *out, int status, const char *msg)
{
    out->status = status;
    out->ctype = "application/json";
    buf_reset(out->body);
    buf_puts(out->body, "{\"error\":");
    json_str(out->body, msg, strlen(msg));
    buf_puts(out->body, "}\n");
}

static void body_release(proto_state_t *st, size_t keep)
{
    ingest_http_ctx_t *ctx = st->route->ingest;
    buf_reset(&st->body);
    buf_shrink(&st->body, keep);
    ctx->body_memory -= st->held;
    st->held = st->body.cap;
    ctx->body_memory += st->held;
}

static void send_out(http_conn_t *c, const proto_route_t *r, const proto_out_t *o)
{
    http_header_t h[8 + PROTO_OUT_HEADERS];
    size_t nh = 0;
    for (size_t i = 0; i < r->proto->nheaders && nh < 8; i++)
        h[nh++] = r->proto->headers[i];
    for (size_t i = 0; i < o->nheaders && i < PROTO_OUT_HEADERS; i++)
        h[nh++] = o->headers[i];
    http_reply(c, o->status, o->ctype, h, nh, o->body->data ? o->body->data : "", o->body->len);
}

static void refuse(http_conn_t *c, proto_state_t *st, int status, const char *msg)
{
    proto_out_t o = {.body = &st->resp};
    proto_out_error(&o, status, msg);
    send_out(c, st->route, &o);
}

static void on_stored(store_waiter_t *w, int err, uint64_t first, uint64_t last)
{
    proto_state_t *st = container_of(w, proto_state_t, waiter);
    const proto_route_t *r = st->route;
    proto_out_t o = {.status = st->status,
                     .ctype = st->ctype,
                     .body = &st->resp,
                     .headers = st->headers,
                     .nheaders = st->nheaders};
    (void)first;
    (void)last;
    if (err) {
        r->proto->store_failed(err, &o);
    } else {
        hist_observe_ns(&r->proto->stats->ack_seconds, time_mono_ns() - st->t0);
    }
    send_out(st->conn, r, &o);
}

#define ENC_ZSTD 1 /* not a window-bits value */

/* Which zlib window bits decode a Content-Encoding: 0 none, ENC_ZSTD,
 * -1 unknown. gzip and deflate (zlib) are told apart by zlib itself, so a
 * list of them (graypy sends "gzip,deflate" for zlib) decodes either. */
static int encoding_of(const http_req_t *r)
{
    slice_t e = http_header(r, "content-encoding");
    int any = 0;
    size_t i = 0;
    while (i < e.n) {
        size_t j = i;
        while (j < e.n && e.p[j] != ',')
            j++;
        slice_t t = slice_trim(slice_make(e.p + i, j - i));
        if (slice_eq_nocase(t, "zstd") && e.n == t.n)
            return ENC_ZSTD; /* alone: it cannot be told from the others by its bytes */
        if (slice_eq_nocase(t, "gzip") || slice_eq_nocase(t, "x-gzip") ||
            slice_eq_nocase(t, "deflate"))
            any = 1;
        else if (t.n && !slice_eq_nocase(t, "identity"))
            return -1;
        i = j + 1;
    }
    return any ? 32 + MAX_WBITS : 0;
}

static int on_request(http_conn_t *c, const http_req_t *r)
{
    proto_state_t *st = http_state(c);
    proto_route_t *route = http_data(c);
    st->conn = c;
    st->route = route;
    st->reading = 0;
    st->t0 = time_mono_ns();
    body_release(st, 64 * 1024);
    if (route->proto->head && route->proto->head(c, r))
        return 0;
    if (r->method != HM_POST && r->method != HM_OTHER) {
        refuse(c, st, 405, "use POST");
        return 0;
    }
    if (http_header_copy(r, "content-type", st->ctype_hdr, sizeof st->ctype_hdr) < 0)
        st->ctype_hdr[0] = '\0';
    snprintf(st->path, sizeof st->path, "%.*s", (int)r->path.n, r->path.p);
    st->encoding = encoding_of(r);
    if (st->encoding < 0) {
        refuse(c, st, 415, "unsupported Content-Encoding: use gzip, deflate, zstd or none");
        return 0;
    }
    if (r->content_length > route->ingest->limits.max_body) {
        refuse(c, st, 413, "body larger than --max-body");
        return 0;
    }
    if (r->expect_100)
        http_continue(c);
    st->reading = 1;
    return 0;
}

static int on_body(http_conn_t *c, const char *p, size_t n)
{
    proto_state_t *st = http_state(c);
    if (!st->reading)
        return 0;
    ingest_http_ctx_t *ctx = st->route->ingest;
    st->route->proto->stats->bytes += n;
    if (st->body.len + n > ctx->limits.max_body) {
        st->reading = 0;
        body_release(st, 0);
        refuse(c, st, 413, "body larger than --max-body");
        return 0;
    }
    if (st->body.len + n > st->body.cap) {
        size_t want = st->body.cap ? st->body.cap : 4096;
        while (want < st->body.len + n)
            want *= 2;
        if (ctx->body_memory - st->held + want > ctx->limits.max_body_memory) {
            st->reading = 0;
            body_release(st, 0);
            ingest_http_count_rejected(HREJ_BUSY);
            static const http_header_t retry[] = {{"Retry-After", "1"}};
            proto_out_t o = {.body = &st->resp};
            st->route->proto->store_failed(-ENOBUFS, &o);
            if (!o.nheaders) {
                o.headers = retry;
                o.nheaders = 1;
            }
            send_out(c, st->route, &o);
            return 0;
        }
        buf_reserve(&st->body, want - st->body.len);
        ctx->body_memory += st->body.cap - st->held;
        st->held = st->body.cap;
    }
    buf_append(&st->body, p, n);
    return 0;
}

/* Inflates st->body into out within max. 0, or -1 with *why. */
static int inflate_body(const proto_state_t *st, buf_t *out, size_t max, const char **why)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, st->encoding) != Z_OK) {
        *why = "cannot decompress";
        return -1;
    }
    buf_reset(out);
    z.next_in = (Bytef *)st->body.data;
    z.avail_in = (uInt)st->body.len;
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        if (out->len >= max) {
            inflateEnd(&z);
            *why = "decompressed body larger than --max-body";
            return -1;
        }
        size_t room = max - out->len < 64 * 1024 ? max - out->len : 64 * 1024;
        z.next_out = (Bytef *)buf_reserve(out, room);
        z.avail_out = (uInt)room;
        rc = inflate(&z, Z_NO_FLUSH);
        out->len += room - z.avail_out;
        if (rc == Z_STREAM_END)
            break;
        if (rc != Z_OK || (z.avail_in == 0 && z.avail_out != 0)) {
            inflateEnd(&z);
            *why = rc == Z_DATA_ERROR || rc == Z_OK ? "body is not valid for its Content-Encoding "
                                                      "(truncated or corrupt)"
                                                    : "cannot decompress";
            return -1;
        }
    }
    inflateEnd(&z);
    return 0;
}

/* Decompresses a zstd body into out within max. 0, or -1 with *why. */
static int unzstd_body(const proto_state_t *st, buf_t *out, size_t max, const char **why)
{
    ZSTD_DStream *z = ZSTD_createDStream();
    if (!z) {
        *why = "cannot decompress";
        return -1;
    }
    ZSTD_inBuffer in = {st->body.data ? st->body.data : "", st->body.len, 0};
    size_t rc = 1;
    buf_reset(out);
    while (in.pos < in.size || rc != 0) {
        if (out->len >= max) {
            ZSTD_freeDStream(z);
            *why = "decompressed body larger than --max-body";
            return -1;
        }
        size_t room = max - out->len < 64 * 1024 ? max - out->len : 64 * 1024;
        ZSTD_outBuffer o = {buf_reserve(out, room), room, 0};
        size_t before = in.pos;
        rc = ZSTD_decompressStream(z, &o, &in);
        out->len += o.pos;
        if (ZSTD_isError(rc) || (in.pos == before && o.pos == 0 && rc != 0)) {
            ZSTD_freeDStream(z);
            *why = "body is not valid for its Content-Encoding (truncated or corrupt)";
            return -1;
        }
        if (rc == 0 && in.pos == in.size)
            break;
    }
    ZSTD_freeDStream(z);
    return 0;
}

static void defaults_init(rec_defaults_t *d, http_conn_t *c)
{
    memset(d, 0, sizeof *d);
    d->level = -1;
    d->now = time_now_ns();
    d->host = slice_cstr(http_peer(c));
}

static int on_body_done(http_conn_t *c)
{
    proto_state_t *st = http_state(c);
    if (!st->reading)
        return 0;
    st->reading = 0;
    proto_route_t *route = st->route;
    ingest_http_ctx_t *ctx = route->ingest;
    const proto_http_t *proto = route->proto;
    const char *why = NULL;
    proto_in_t in = {.body = st->body.data ? st->body.data : "", .n = st->body.len};
    if (st->encoding) {
        if ((st->encoding == ENC_ZSTD ? unzstd_body : inflate_body)(st, &route->decoded,
                                                                    ctx->limits.max_body, &why)) {
            body_release(st, 64 * 1024);
            refuse(c, st, strstr(why, "larger") ? 413 : 400, why);
            return 0;
        }
        in.body = route->decoded.data ? route->decoded.data : "";
        in.n = route->decoded.len;
    }
    in.ctype = slice_cstr(st->ctype_hdr);
    in.path = slice_cstr(st->path);
    rec_defaults_t d;
    defaults_init(&d, c);
    in.d = &d;
    batch_t *b = &route->batch;
    ingest_report_t *rep = &route->report;
    batch_reset(b);
    ingest_report_reset(rep);
    proto_out_t o = {.status = 200, .ctype = "application/json", .body = &st->resp};
    buf_reset(&st->resp);
    int rc = proto->parse(route->parser, &in, b, rep, &o);
    proto->stats->parse_errors += rep->rejected;
    /* one huge body must not pin its memory to an idle connection */
    body_release(st, 64 * 1024);
    if (route->decoded.cap > 1024 * 1024)
        buf_free(&route->decoded);
    if (rc < 0 || !b->count) {
        send_out(c, route, &o);
        return 0;
    }
    /* a token limited to some topics: as /api/log, the whole request is
     * refused with 403 when one record is outside them */
    char msg[160];
    if (ingest_http_topic_check(c, b, msg, sizeof msg)) {
        if (!proto->refused) {
            refuse(c, st, 403, msg);
            return 0;
        }
        proto_out_t r = {.body = &st->resp};
        proto->refused(in.ctype, 403, msg, &r);
        send_out(c, route, &r);
        return 0;
    }
    st->status = o.status;
    st->ctype = o.ctype;
    st->headers = o.headers;
    st->nheaders = o.nheaders;
    st->waiter.done = on_stored;
    uint64_t first = 0, last = 0;
    int src = store_append(ctx->store, b, NULL, 0, 0, &st->waiter, &first, &last);
    if (src < 0) {
        proto->store_failed(src, &o);
        send_out(c, route, &o);
        return 0;
    }
    proto->stats->records += b->count;
    proto->stats->repaired += b->repaired;
    proto->stats->truncated += b->truncated;
    proto->stats->unknown_levels += b->unknown_levels;
    if (src == STORE_DONE) {
        hist_observe_ns(&proto->stats->ack_seconds, time_mono_ns() - st->t0);
        send_out(c, route, &o);
    }
    return 0;
}

static void on_end(http_conn_t *c)
{
    proto_state_t *st = http_state(c);
    /* the records stay stored; only the reply is not wanted any more */
    if (st->waiter.linked)
        store_cancel(st->route->ingest->store, &st->waiter);
    st->reading = 0;
    body_release(st, 64 * 1024);
    buf_shrink(&st->resp, 4096);
}

static void on_free(void *state)
{
    proto_state_t *st = state;
    if (st->route)
        st->route->ingest->body_memory -= st->held;
    buf_free(&st->body);
    buf_free(&st->resp);
}

const http_handler_t proto_http_handler = {
    .name = "proto",
    .state_size = sizeof(proto_state_t),
    .on_request = on_request,
    .on_body = on_body,
    .on_body_done = on_body_done,
    .on_end = on_end,
    .on_free = on_free,
};

void proto_route_init(proto_route_t *r, const proto_http_t *proto, ingest_http_ctx_t *ingest)
{
    memset(r, 0, sizeof *r);
    r->proto = proto;
    r->ingest = ingest;
    r->parser = proto->create(ingest->limits.max_body);
    r->report.unit = "entry";
}

void proto_route_close(proto_route_t *r)
{
    if (r->proto && r->parser)
        r->proto->destroy(r->parser);
    batch_free(&r->batch);
    ingest_report_free(&r->report);
    buf_free(&r->decoded);
    memset(r, 0, sizeof *r);
}
