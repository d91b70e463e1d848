/* gelf_conn.c - the GELF inputs' glue: see gelf_conn.h. Parsing is in
 * gelf_parse.c and reassembly in gelf_chunk.c, both pure. All listeners
 * run on the loop thread, so they share one parser. */
#include "gelf_conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../common/log.h"
#include "../../common/timeutil.h"
#include "gelf_parse.h"

static ingest_stats_t stats_udp, stats_tcp;
static ingest_stats_t stats_http = {.ack_seconds = {.kind = &hist_seconds}};

const ingest_stats_t *gelf_udp_stats(void)
{
    return &stats_udp;
}

const ingest_stats_t *gelf_tcp_stats(void)
{
    return &stats_tcp;
}

static tls_stats_t stats_tls; /* --gelf-tls */

const tls_stats_t *gelf_tls_stats(void)
{
    return &stats_tls;
}

const ingest_stats_t *gelf_http_stats(void)
{
    return &stats_http;
}

/* The stream inputs' shared state: one parse at a time on the loop. */
static gelf_parser_t g_parser;
static int g_ready;
static gelf_chunks_t g_chunks;
static buf_t g_whole; /* a reassembled message */

static gelf_parser_t *parser(size_t max_msg)
{
    if (!g_ready) {
        gelf_parser_init(&g_parser, max_msg, max_msg);
        gelf_chunks_init(&g_chunks);
        g_ready = 1;
    }
    g_parser.rb.max_msg = max_msg;
    g_parser.max_inflated = max_msg;
    return &g_parser;
}

const gelf_chunks_t *gelf_udp_chunks(void)
{
    return &g_chunks;
}

void gelf_conn_cleanup(void)
{
    if (!g_ready)
        return;
    gelf_parser_free(&g_parser);
    gelf_chunks_free(&g_chunks);
    buf_free(&g_whole);
    g_ready = 0;
}

/* One message into b, or kept raw with why. */
static void one(gelf_parser_t *gp, const char *p, size_t n, batch_t *b, const rec_defaults_t *d,
                ingest_stats_t *st)
{
    const char *err;
    if (gelf_parse(gp, p, n, b, d, &err)) {
        st->parse_errors++;
        gelf_raw(gp, p, n, err, b, d);
    }
}

/* ---- UDP ------------------------------------------------------------------ */

static void on_datagram(void *arg, const char *p, size_t n, int cut, const char *peer, batch_t *out)
{
    size_t max_msg = (size_t)(uintptr_t)arg;
    gelf_parser_t *gp = parser(max_msg);
    rec_defaults_t d = {.level = -1, .now = time_now_ns(), .host = slice_cstr(peer)};
    if (cut) {
        stats_udp.parse_errors++;
        gelf_raw(gp, p, n, "datagram larger than the GELF limit: cut", out, &d);
        return;
    }
    if (!gelf_is_chunk(p, n)) {
        one(gp, p, n, out, &d, &stats_udp);
        return;
    }
    switch (gelf_chunks_add(&g_chunks, p, n, time_mono_ns(), &g_whole)) {
    case GELF_CHUNK_COMPLETE:
        one(gp, g_whole.data ? g_whole.data : "", g_whole.len, out, &d, &stats_udp);
        break;
    case GELF_CHUNK_WAIT:
        break;
    default:
        stats_udp.dropped++;
        break;
    }
}

dgram_listener_t *gelf_udp_listen(uv_loop_t *loop, store_t *store, const char *addr,
                                  const cidr_list_t *allow, size_t max_msg, int *port)
{
    parser(max_msg);
    return dgram_listen_as("gelf-udp", loop, store, addr, allow, &stats_udp, 0, on_datagram,
                           (void *)(uintptr_t)max_msg, port);
}

/* ---- TCP ------------------------------------------------------------------ */

typedef struct gelf_tcp {
    buf_t part;   /* a message not yet ended by its NUL */
    int skipping; /* the current message passed the limit: dropped to its NUL */
    batch_t out;
    size_t max_msg;
} gelf_tcp_t;

static void tcp_open(stream_conn_t *c)
{
    gelf_tcp_t *st = c->state;
    st->max_msg = stream_opts_of(c)->max_line;
}

static void tcp_defaults(const stream_conn_t *c, rec_defaults_t *d)
{
    memset(d, 0, sizeof *d);
    d->level = -1;
    d->now = time_now_ns();
    d->host = slice_cstr(c->peer);
}

static void too_long(stream_conn_t *c, gelf_tcp_t *st)
{
    stats_tcp.parse_errors++;
    stats_tcp.dropped++;
    log_warn("gelf-tcp: a message from %s is longer than %zu bytes: dropped", c->peer, st->max_msg);
}

static int tcp_data(stream_conn_t *c, const char *p, size_t n)
{
    gelf_tcp_t *st = c->state;
    gelf_parser_t *gp = parser(st->max_msg);
    rec_defaults_t d;
    tcp_defaults(c, &d);
    batch_reset(&st->out);
    while (n) {
        const char *nul = memchr(p, '\0', n);
        size_t len = nul ? (size_t)(nul - p) : n;
        if (!st->skipping && st->part.len + len > st->max_msg) {
            st->skipping = 1;
            buf_reset(&st->part);
            too_long(c, st);
        }
        if (nul) {
            if (!st->skipping) {
                if (st->part.len) {
                    buf_append(&st->part, p, len);
                    one(gp, st->part.data, st->part.len, &st->out, &d, &stats_tcp);
                } else {
                    /* whole in this read: parsed in place */
                    slice_t m = slice_trim(slice_make(p, len));
                    if (m.n)
                        one(gp, p, len, &st->out, &d, &stats_tcp);
                }
            }
            st->skipping = 0;
            buf_reset(&st->part);
            buf_shrink(&st->part, 64 * 1024);
            p += len + 1;
            n -= len + 1;
        } else {
            if (!st->skipping)
                buf_append(&st->part, p, len);
            n = 0;
        }
    }
    stream_append(c, &st->out);
    return 0;
}

static void tcp_eof(stream_conn_t *c)
{
    gelf_tcp_t *st = c->state;
    slice_t m = slice_trim(slice_make(st->part.data ? st->part.data : "", st->part.len));
    if (st->skipping || !m.n)
        return;
    /* the last message may come without its NUL */
    rec_defaults_t d;
    tcp_defaults(c, &d);
    batch_reset(&st->out);
    one(parser(st->max_msg), st->part.data, st->part.len, &st->out, &d, &stats_tcp);
    stream_append(c, &st->out);
}

static void tcp_close(stream_conn_t *c)
{
    gelf_tcp_t *st = c->state;
    buf_free(&st->part);
    batch_free(&st->out);
}

static const stream_proto_t gelf_tcp_proto = {
    "gelf-tcp", &stats_tcp, sizeof(gelf_tcp_t), tcp_open, tcp_data, tcp_eof, tcp_close, NULL,
};

stream_listener_t *gelf_tcp_listen(uv_loop_t *loop, store_t *store, const stream_opts_t *o,
                                   size_t max_msg, int *port)
{
    stream_opts_t so = *o;
    so.max_line = max_msg;
    if (so.tls) {
        /* the same NUL-ended messages inside the session */
        so.tls_stats = &stats_tls;
        so.name = "gelf-tls";
    }
    return stream_listen(loop, store, &gelf_tcp_proto, &so, port);
}

/* ---- HTTP: POST /gelf ------------------------------------------------------ */

static void *http_create(size_t max_msg)
{
    gelf_parser_t *gp = xcalloc(1, sizeof *gp);
    gelf_parser_init(gp, max_msg, max_msg);
    return gp;
}

static void http_destroy(void *p)
{
    gelf_parser_free(p);
    free(p);
}

/* Graylog answers 202 Accepted with no body; a message that is not GELF
 * gets 400 and is not stored (the sender can see why). */
static int http_parse(void *parser_, const proto_in_t *in, batch_t *b, ingest_report_t *rep,
                      proto_out_t *out)
{
    const char *err;
    (void)rep;
    if (gelf_parse(parser_, in->body, in->n, b, in->d, &err)) {
        proto_out_error(out, 400, err);
        return -1;
    }
    out->status = 202;
    out->ctype = NULL;
    return 0;
}

static void http_store_failed(int err, proto_out_t *out)
{
    static const http_header_t retry[] = {{"Retry-After", "1"}};
    proto_out_error(out, 503,
                    err == -ENOBUFS
                        ? "too many request bodies in memory (--max-body-memory); retry shortly"
                    : err == -EAGAIN ? "store is behind; retry shortly"
                                     : "store cannot write; retry later");
    out->headers = retry;
    out->nheaders = 1;
}

const proto_http_t gelf_http = {
    .name = "gelf",
    .stats = &stats_http,
    .create = http_create,
    .destroy = http_destroy,
    .parse = http_parse,
    .store_failed = http_store_failed,
};
