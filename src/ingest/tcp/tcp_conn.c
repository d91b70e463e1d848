/* tcp_conn.c - the raw TCP input on the stream layer: plain lines, and the
 * acknowledged mode whose batches are answered in order once durable.
 *
 * Ending an acknowledged connection: after a protocol error (a bad header,
 * a batch over its caps) or the peer's EOF, input stops (stream_linger)
 * but the batches read before still get their acks, in order; then the
 * error, if any, and a graceful close (stream_end). So a sender never
 * loses the answer for records that were stored. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/json_write.h"
#include "../../common/timeutil.h"
#include "../stream.h"
#include "tcp_conn.h"
#include "tcp_parse.h"

typedef struct tcp_state tcp_state_t;

/* The counters of every raw TCP listener of the process (ingest.h). */
static ingest_stats_t stats = {.ack_seconds = {.kind = &hist_seconds}};

const ingest_stats_t *tcp_stats(void)
{
    return &stats;
}

/* raw TCP over TLS counts its records in stats, its TLS here */
static tls_stats_t stats_tls;

const tls_stats_t *tcp_tls_stats(void)
{
    return &stats_tls;
}

/* An acknowledged batch waiting for its turn to be answered. */
typedef struct pending_ack {
    store_waiter_t w;
    tcp_state_t *st;
    uint64_t batch, first, last;
    int64_t t0; /* monotonic ns at the batch's end */
    int done, err, duplicate;
    struct pending_ack *next;
} pending_ack_t;

struct tcp_state {
    stream_conn_t *conn;
    tcp_session_t sess;
    batch_t out;
    char producer[65];
    pending_ack_t *head, *tail;
    char *error; /* the protocol error to send once the acks are out */
    int ending;  /* no more input: close once everything is answered */
};

/* Ends the connection once every batch read is answered. */
static void maybe_end(tcp_state_t *st)
{
    if (!st->ending || st->head)
        return;
    if (st->error) {
        buf_t b = BUF_INIT;
        buf_puts(&b, "{\"logship\":\"error\",\"error\":");
        json_str(&b, st->error, strlen(st->error));
        buf_puts(&b, "}\n");
        stream_write(st->conn, b.data, b.len);
        buf_free(&b);
    }
    stream_end(st->conn);
}

static void flush_acks(tcp_state_t *st)
{
    char line[256];
    while (st->head && st->head->done) {
        pending_ack_t *a = st->head;
        int n;
        if (a->err)
            n = snprintf(line, sizeof line,
                         "{\"logship\":\"nack\",\"batch\":%llu,\"error\":\"%s\"}\n",
                         (unsigned long long)a->batch,
                         a->err == -EAGAIN ? "store is behind; resend" : strerror(-a->err));
        else {
            hist_observe_ns(&stats.ack_seconds, time_mono_ns() - a->t0);
            n = snprintf(
                line, sizeof line,
                "{\"logship\":\"ack\",\"batch\":%llu,\"first_seq\":%llu,\"last_seq\":%llu%s}\n",
                (unsigned long long)a->batch, (unsigned long long)a->first,
                (unsigned long long)a->last, a->duplicate ? ",\"duplicate\":true" : "");
        }
        stream_write(st->conn, line, (size_t)n);
        st->head = a->next;
        if (!st->head)
            st->tail = NULL;
        free(a);
    }
    maybe_end(st);
}

static void on_durable(store_waiter_t *w, int err, uint64_t first, uint64_t last)
{
    pending_ack_t *a = container_of(w, pending_ack_t, w);
    a->done = 1;
    a->err = err;
    a->first = first;
    a->last = last;
    flush_acks(a->st);
}

static void ev_hello(void *arg, const char *producer)
{
    tcp_state_t *st = arg;
    store_t *store = stream_store(st->conn);
    buf_t b = BUF_INIT;
    snprintf(st->producer, sizeof st->producer, "%s", producer);
    buf_printf(&b, "{\"logship\":\"hello\",\"version\":1,\"last_seq\":%llu,\"last_batch\":%llu",
               (unsigned long long)store_last_seq(store),
               (unsigned long long)(producer[0] ? store_producer_last_batch(store, producer) : 0));
    if (producer[0]) {
        buf_puts(&b, ",\"producer\":");
        json_str(&b, producer, strlen(producer));
    }
    buf_puts(&b, "}\n");
    stream_write(st->conn, b.data, b.len);
    buf_free(&b);
}

static void ev_batch(void *arg, uint64_t n, batch_t *b)
{
    tcp_state_t *st = arg;
    pending_ack_t *a = xcalloc(1, sizeof *a);
    a->st = st;
    a->batch = n;
    a->t0 = time_mono_ns();
    a->w.done = on_durable;
    if (st->tail)
        st->tail->next = a;
    else
        st->head = a;
    st->tail = a;
    uint64_t first = 0, last = 0;
    int rc = store_append(stream_store(st->conn), b, st->producer[0] ? st->producer : NULL, n, 0,
                          &a->w, &first, &last);
    a->first = first;
    a->last = last;
    if (rc < 0) {
        a->done = 1;
        a->err = rc;
    } else if (rc == STORE_DONE) {
        a->done = 1;
        a->duplicate = st->producer[0] != 0 && b->count > 0;
    }
    if (rc >= 0 && !a->duplicate) {
        stats.records += b->count;
        stats.repaired += b->repaired;
        stats.truncated += b->truncated;
        stats.unknown_levels += b->unknown_levels;
    }
    flush_acks(st);
}

/* Sent by maybe_end(), after the acks of the batches before it. */
static void ev_error(void *arg, const char *why)
{
    tcp_state_t *st = arg;
    if (!st->error)
        st->error = xstrdup(why);
}

static const tcp_events_t events = {ev_hello, ev_batch, ev_error};

static void on_open(stream_conn_t *c)
{
    tcp_state_t *st = c->state;
    st->conn = c;
    const stream_opts_t *o = stream_opts_of(c);
    tcp_session_init(&st->sess, o->max_line);
    st->sess.max_batch_bytes = o->max_batch_bytes;
}

static void defaults(const stream_conn_t *c, rec_defaults_t *d)
{
    memset(d, 0, sizeof *d);
    d->level = -1;
    d->now = time_now_ns();
    d->host = slice_cstr(c->peer);
}

static void account(tcp_state_t *st)
{
    if (st->sess.parse_errors) {
        stats.parse_errors += st->sess.parse_errors;
        st->sess.parse_errors = 0;
    }
}

static int on_data(stream_conn_t *c, const char *p, size_t n)
{
    tcp_state_t *st = c->state;
    rec_defaults_t d;
    defaults(c, &d);
    batch_reset(&st->out);
    int rc = tcp_feed(&st->sess, p, n, &st->out, &d, &events, st);
    stream_append(c, &st->out);
    account(st);
    if (rc) {
        /* a protocol error: answer what came before it, then the error */
        st->ending = 1;
        stream_linger(c);
        maybe_end(st);
    }
    return 0;
}

static void on_eof(stream_conn_t *c)
{
    tcp_state_t *st = c->state;
    rec_defaults_t d;
    defaults(c, &d);
    batch_reset(&st->out);
    tcp_finish(&st->sess, &st->out, &d, &events, st);
    stream_append(c, &st->out);
    account(st);
    if (st->head || st->error) {
        /* acks still owed (the peer may only have shut down its side) */
        st->ending = 1;
        stream_linger(c);
        maybe_end(st);
    }
}

static void on_close(stream_conn_t *c)
{
    tcp_state_t *st = c->state;
    store_t *store = stream_store(c);
    while (st->head) {
        pending_ack_t *a = st->head;
        st->head = a->next;
        store_cancel(store, &a->w);
        free(a);
    }
    tcp_session_free(&st->sess);
    batch_free(&st->out);
    free(st->error);
}

static const stream_proto_t tcp_proto = {
    "tcp", &stats, sizeof(tcp_state_t), on_open, on_data, on_eof, on_close, NULL,
};

stream_listener_t *tcp_listen(uv_loop_t *loop, store_t *store, const stream_opts_t *o,
                              size_t max_line, size_t max_batch_bytes, int *port)
{
    stream_opts_t so = *o;
    so.max_line = max_line;
    so.max_batch_bytes = max_batch_bytes ? max_batch_bytes : TCP_BATCH_BYTES_DEFAULT;
    if (so.tls) {
        so.tls_stats = &stats_tls;
        so.name = "tcp-tls";
    }
    return stream_listen(loop, store, &tcp_proto, &so, port);
}
