/* fluent_conn.c - the Fluentd forward input: see fluent_conn.h.
 *
 * Messages without a chunk option go the way of the other stream inputs
 * (stream_append: kept until durable, re-appended if a write fails).
 * A message with one is appended on its own and answered {"ack":chunk}
 * once the store says it is durable, acks in the order of the messages;
 * when the store cannot take it, no ack is sent, so the sender resends
 * after its ack timeout (the forward protocol has no negative ack). A
 * stream that is not MessagePack, or a message over --max-batch-bytes,
 * ends the connection after the acks owed. */
#include "fluent_conn.h"

#include <stdlib.h>

#include "../../common/log.h"
#include "../../common/timeutil.h"
#include "fluent_parse.h"

static ingest_stats_t stats = {.ack_seconds = {.kind = &hist_seconds}};

const ingest_stats_t *fluent_stats(void)
{
    return &stats;
}

static tls_stats_t stats_tls; /* --forward-tls */

const tls_stats_t *fluent_tls_stats(void)
{
    return &stats_tls;
}

typedef struct fluent_state fluent_state_t;

typedef struct pending_ack {
    store_waiter_t w;
    fluent_state_t *st;
    int64_t t0;
    int done, err;
    size_t count, repaired, truncated;
    struct pending_ack *next;
    size_t chunk_len;
    char chunk[]; /* the chunk id to answer */
} pending_ack_t;

struct fluent_state {
    stream_conn_t *conn;
    fluent_session_t sess;
    pending_ack_t *head, *tail;
    int ending; /* no more input: close once every ack is out */
    buf_t out;
};

static void maybe_end(fluent_state_t *st)
{
    if (st->ending && !st->head)
        stream_end(st->conn);
}

static void flush_acks(fluent_state_t *st)
{
    while (st->head && st->head->done) {
        pending_ack_t *a = st->head;
        if (!a->err) {
            fluent_ack(&st->out, a->chunk, a->chunk_len);
            stream_write(st->conn, st->out.data, st->out.len);
            hist_observe_ns(&stats.ack_seconds, time_mono_ns() - a->t0);
            stats.records += a->count;
            stats.repaired += a->repaired;
            stats.truncated += a->truncated;
        } else {
            /* no ack: the sender resends the chunk */
            stats.dropped += a->count;
        }
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
    (void)first;
    (void)last;
    a->done = 1;
    a->err = err;
    flush_acks(a->st);
}

static void ev_records(void *arg, batch_t *b)
{
    fluent_state_t *st = arg;
    stream_append(st->conn, b);
}

static void ev_acked(void *arg, batch_t *b, const char *chunk, size_t n)
{
    fluent_state_t *st = arg;
    pending_ack_t *a = xcalloc(1, sizeof *a + n);
    a->st = st;
    a->t0 = time_mono_ns();
    a->w.done = on_durable;
    a->chunk_len = n;
    memcpy(a->chunk, chunk, n);
    a->count = b->count;
    a->repaired = b->repaired;
    a->truncated = b->truncated;
    if (st->tail)
        st->tail->next = a;
    else
        st->head = a;
    st->tail = a;
    uint64_t first = 0, last = 0;
    int rc = store_append(stream_store(st->conn), b, NULL, 0, 0, &a->w, &first, &last);
    if (rc < 0) {
        a->done = 1;
        a->err = rc;
    } else if (rc == STORE_DONE) {
        a->done = 1; /* nothing to store (every entry was bad): acked at once */
    }
    flush_acks(st);
}

static const fluent_events_t events = {ev_records, ev_acked};

static void on_open(stream_conn_t *c)
{
    fluent_state_t *st = c->state;
    const stream_opts_t *o = stream_opts_of(c);
    st->conn = c;
    fluent_session_init(&st->sess, o->max_line, o->max_batch_bytes);
}

static void defaults(const stream_conn_t *c, rec_defaults_t *d)
{
    memset(d, 0, sizeof *d);
    d->level = -1;
    d->now = time_now_ns();
    d->host = slice_cstr(c->peer);
}

static int on_data(stream_conn_t *c, const char *p, size_t n)
{
    fluent_state_t *st = c->state;
    rec_defaults_t d;
    defaults(c, &d);
    uint64_t errors = st->sess.parse_errors;
    int rc = fluent_feed(&st->sess, p, n, &d, &events, st);
    stats.parse_errors += st->sess.parse_errors - errors;
    if (rc) {
        log_warn("forward: %s from %s: closing", st->sess.err, c->peer);
        st->ending = 1;
        stream_linger(c);
        maybe_end(st);
    }
    return 0;
}

static void on_eof(stream_conn_t *c)
{
    fluent_state_t *st = c->state;
    if (st->sess.pending.len) {
        stats.parse_errors++;
        log_warn("forward: %s closed in the middle of a message (%zu bytes dropped)", c->peer,
                 st->sess.pending.len);
    }
    if (st->head) {
        /* acks still owed (the peer may only have shut down its side) */
        st->ending = 1;
        stream_linger(c);
        maybe_end(st);
    }
}

static void on_close(stream_conn_t *c)
{
    fluent_state_t *st = c->state;
    store_t *store = stream_store(c);
    while (st->head) {
        pending_ack_t *a = st->head;
        st->head = a->next;
        store_cancel(store, &a->w);
        free(a);
    }
    fluent_session_free(&st->sess);
    buf_free(&st->out);
}

static const stream_proto_t fluent_proto = {
    "forward", &stats, sizeof(fluent_state_t), on_open, on_data, on_eof, on_close,
};

stream_listener_t *fluent_listen(uv_loop_t *loop, store_t *store, const stream_opts_t *o,
                                 size_t max_msg, size_t max_message, int *port)
{
    stream_opts_t so = *o;
    so.max_line = max_msg;
    so.max_batch_bytes = max_message;
    if (so.tls) {
        so.tls_stats = &stats_tls;
        so.name = "forward-tls";
    }
    return stream_listen(loop, store, &fluent_proto, &so, port);
}
