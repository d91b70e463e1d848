/* syslog_conn.c - syslog over UDP and TCP: the socket side. Framing is in
 * syslog_frame.c, parsing in syslog_parse.c; both are pure. All listeners run
 * on the loop thread, so they share one record builder. */
#include "syslog_conn.h"

#include <stdlib.h>

#include "../../common/timeutil.h"
#include "syslog_frame.h"
#include "syslog_parse.h"

typedef struct syslog_state {
    stream_conn_t *conn;
    syslog_framer_t fr;
    batch_t out;
    rec_defaults_t d;
} syslog_state_t;

/* Counters of each listener kind (ingest.h): the process's, like the
 * builder below. */
static ingest_stats_t stats_udp, stats_tcp;
/* syslog over TLS (RFC 5425) counts its records in stats_tcp, its TLS here */
static tls_stats_t stats_tls;

const tls_stats_t *syslog_tls_stats(void)
{
    return &stats_tls;
}

const ingest_stats_t *syslog_udp_stats(void)
{
    return &stats_udp;
}

const ingest_stats_t *syslog_tcp_stats(void)
{
    return &stats_tcp;
}

static recbuild_t g_rb;
static int g_rb_ready;
/* The record builder every syslog listener shares (the loop parses one
 * message at a time), set to the calling listener's --max-line. */
static recbuild_t *builder(size_t max_line)
{
    if (!g_rb_ready) {
        recbuild_init(&g_rb, max_line);
        g_rb_ready = 1;
    }
    g_rb.max_msg = max_line;
    return &g_rb;
}

void syslog_conn_cleanup(void)
{
    if (g_rb_ready)
        recbuild_free(&g_rb);
    g_rb_ready = 0;
}

/* Marks the record just added to b (from mark on) as cut by the framer. */
static void mark_cut(batch_t *b, size_t mark)
{
    if (b->frames.len > mark) {
        char *f = b->frames.data + mark;
        if (!(frame_flags(f) & RECORD_F_TRUNCATED)) {
            frame_add_flags(f, RECORD_F_TRUNCATED);
            b->truncated++;
        }
    }
}

/* Parses one message into b; a frame the framer cut is marked truncated. */
static void parse_one(const char *p, size_t n, int cut, batch_t *b, const rec_defaults_t *d,
                      ingest_stats_t *stats, size_t max_line)
{
    size_t mark = b->frames.len;
    if (syslog_parse(p, n, builder(max_line), b, d) == SYSLOG_RAW)
        stats->parse_errors++;
    if (cut)
        mark_cut(b, mark);
}

static void on_frame(void *arg, const char *frame, size_t n, int truncated, const char *unframed)
{
    syslog_state_t *st = arg;
    if (!unframed) {
        parse_one(frame, n, truncated, &st->out, &st->d, &stats_tcp,
                  stream_opts_of(st->conn)->max_line);
        return;
    }
    /* digits first but not octet counting: kept whole as a line, with why */
    size_t mark = st->out.frames.len;
    syslog_raw(frame, n, unframed, builder(stream_opts_of(st->conn)->max_line), &st->out, &st->d);
    stats_tcp.parse_errors++;
    stats_tcp.framing_fallbacks++;
    if (truncated)
        mark_cut(&st->out, mark);
}

static void on_open(stream_conn_t *c)
{
    syslog_state_t *st = c->state;
    st->conn = c;
    syslog_framer_init(&st->fr, stream_opts_of(c)->max_line);
    st->d.level = -1;
    st->d.host = slice_cstr(c->peer);
}

static int on_data(stream_conn_t *c, const char *p, size_t n)
{
    syslog_state_t *st = c->state;
    st->d.now = time_now_ns();
    batch_reset(&st->out);
    syslog_framer_feed(&st->fr, p, n, on_frame, st);
    stream_append(c, &st->out);
    return 0;
}

static void on_eof(stream_conn_t *c)
{
    syslog_state_t *st = c->state;
    st->d.now = time_now_ns();
    batch_reset(&st->out);
    syslog_framer_finish(&st->fr, on_frame, st);
    stream_append(c, &st->out);
}

static void on_close(stream_conn_t *c)
{
    syslog_state_t *st = c->state;
    syslog_framer_free(&st->fr);
    batch_free(&st->out);
}

static const stream_proto_t syslog_tcp_proto = {
    "syslog-tcp", &stats_tcp, sizeof(syslog_state_t), on_open, on_data, on_eof, on_close, NULL,
};

stream_listener_t *syslog_tcp_listen(uv_loop_t *loop, store_t *store, const stream_opts_t *o,
                                     size_t max_line, int *port)
{
    stream_opts_t so = *o;
    so.max_line = max_line;
    if (so.tls) {
        /* RFC 5425 frames by octet counting, which the framer reads (and
         * LF-ended lines too, as on plain TCP) */
        so.tls_stats = &stats_tls;
        so.name = "syslog-tls";
    }
    return stream_listen(loop, store, &syslog_tcp_proto, &so, port);
}

static void on_datagram(void *arg, const char *p, size_t n, int cut, const char *peer, batch_t *out)
{
    size_t max_line = (size_t)(uintptr_t)arg;
    rec_defaults_t d = {.level = -1, .now = time_now_ns(), .host = slice_cstr(peer)};
    parse_one(p, n, cut, out, &d, &stats_udp, max_line);
}

dgram_listener_t *syslog_udp_listen(uv_loop_t *loop, store_t *store, const char *addr,
                                    const cidr_list_t *allow, size_t max_line, int *port)
{
    /* the limit rides in the callback's argument: nothing to free */
    return dgram_listen(loop, store, addr, allow, &stats_udp, max_line, on_datagram,
                        (void *)(uintptr_t)max_line, port);
}
