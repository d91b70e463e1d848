/* fluent_conn.c - the Fluentd forward input: see fluent_conn.h.
 *
 * Messages without a chunk option go the way of the other stream inputs
 * (stream_append: kept until durable, re-appended if a write fails).
 * A message with one is appended on its own and answered {"ack":chunk}
 * once the store says it is durable, acks in the order of the messages;
 * when the store cannot take it, no ack is sent, so the sender resends
 * after its ack timeout (the forward protocol has no negative ack). A
 * stream that is not MessagePack, or a message over --max-batch-bytes,
 * ends the connection after the acks owed.
 *
 * With --forward-auth (stream_opts_t.proto_arg: a fluent_auth_t) each
 * connection starts with the shared-key handshake (fluent_auth.h): HELO
 * as soon as it can be written to (after the TLS handshake on
 * --forward-tls), then nothing but a PING is read; a client that fails
 * it gets its PONG and the connection ends, and none of its bytes is
 * parsed as a message. */
#include "fluent_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "../../common/log.h"
#include "../../common/secret_file.h"
#include "../../common/timeutil.h"
#include "fluent_parse.h"

static ingest_stats_t stats = {.ack_seconds = {.kind = &hist_seconds}};

const ingest_stats_t *fluent_stats(void)
{
    return &stats;
}

static tls_stats_t stats_tls; /* --forward-tls */
static uint64_t auth_refused; /* clients that failed the handshake */

uint64_t fluent_auth_refused(void)
{
    return auth_refused;
}

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
    const fluent_auth_t *auth; /* NULL: no handshake */
    int handshake;             /* HELO sent, waiting for the PING */
    char nonce[FLUENT_NONCE_LEN + 1], salt[FLUENT_NONCE_LEN + 1];
    buf_t ping; /* the PING so far */
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
    st->auth = o->proto_arg;
    fluent_session_init(&st->sess, o->max_line, o->max_batch_bytes);
}

static void random_hex(char out[FLUENT_NONCE_LEN + 1])
{
    unsigned char r[FLUENT_NONCE_LEN / 2];
    static const char digits[] = "0123456789abcdef";
    if (RAND_bytes(r, sizeof r) != 1)
        abort(); /* no randomness: nothing safe to do */
    for (size_t i = 0; i < sizeof r; i++) {
        out[2 * i] = digits[r[i] >> 4];
        out[2 * i + 1] = digits[r[i] & 15];
    }
    out[FLUENT_NONCE_LEN] = '\0';
}

/* The connection can be written to: the HELO, when a shared key is set. */
static void on_ready(stream_conn_t *c)
{
    fluent_state_t *st = c->state;
    if (!st->auth)
        return;
    random_hex(st->nonce);
    random_hex(st->salt);
    fluent_helo(&st->out, st->auth, st->nonce, st->salt);
    stream_write(c, st->out.data, st->out.len);
    st->handshake = 1;
}

static void refuse(stream_conn_t *c, fluent_state_t *st, const char *why)
{
    auth_refused++;
    log_info("forward: %s: handshake refused: %s", c->peer, why);
    st->handshake = 0;
    buf_free(&st->ping);
    st->ending = 1;
    stream_linger(c);
    maybe_end(st);
}

static void defaults(const stream_conn_t *c, rec_defaults_t *d)
{
    memset(d, 0, sizeof *d);
    d->level = -1;
    d->now = time_now_ns();
    d->host = slice_cstr(c->peer);
}

static int feed(stream_conn_t *c, const char *p, size_t n);

/* Bytes before the handshake is done: only a PING. */
static int handshake_data(stream_conn_t *c, const char *p, size_t n)
{
    fluent_state_t *st = c->state;
    if (st->ping.len + n > FLUENT_PING_MAX + STREAM_READ_BUF) {
        refuse(c, st, "handshake message too long");
        return 0;
    }
    buf_append(&st->ping, p, n);
    fluent_ping_t ping;
    const char *why = NULL;
    long used = fluent_ping_read(st->ping.data, st->ping.len, &ping, &why);
    if (used == 0)
        return 0;
    if (used < 0) {
        refuse(c, st, why);
        return 0;
    }
    const char *reason;
    int ok = fluent_ping_check(st->auth, &ping, st->nonce, st->salt, &st->out, &reason);
    stream_write(c, st->out.data, st->out.len); /* the PONG, either way */
    if (!ok) {
        refuse(c, st, reason);
        return 0;
    }
    st->handshake = 0;
    log_debug("forward: %s: handshake done (%.*s)", c->peer, (int)ping.hostname.n, ping.hostname.p);
    /* what came after the PING is the first message */
    buf_t rest = st->ping;
    st->ping = (buf_t)BUF_INIT;
    int rc = rest.len > (size_t)used ? feed(c, rest.data + used, rest.len - (size_t)used) : 0;
    buf_free(&rest);
    return rc;
}

static int on_data(stream_conn_t *c, const char *p, size_t n)
{
    fluent_state_t *st = c->state;
    if (st->handshake)
        return handshake_data(c, p, n);
    if (st->auth && !c->ready)
        return 0; /* cannot happen: ready comes before any data */
    return feed(c, p, n);
}

static int feed(stream_conn_t *c, const char *p, size_t n)
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
    buf_free(&st->ping);
}

static const stream_proto_t fluent_proto = {
    "forward", &stats, sizeof(fluent_state_t), on_open, on_data, on_eof, on_close, on_ready,
};

int fluent_auth_load(fluent_auth_t *a, const char *path, char *err, size_t cap)
{
    char why[FLUENT_AUTH_ERR];
    size_t n;
    char *text = secret_file_read(path, "--forward-auth", "forward", &n, err, cap);
    if (!text)
        return -1;
    int rc = fluent_auth_parse(a, text, n, why, sizeof why);
    secret_file_free(text, n); /* the key and passwords */
    if (rc) {
        snprintf(err, cap, "--forward-auth %s: %s", path, why);
        return -1;
    }
    if (gethostname(a->hostname, sizeof a->hostname - 1) != 0)
        snprintf(a->hostname, sizeof a->hostname, "logshipd");
    log_info("forward: shared-key handshake on, %zu users, from %s", a->nusers, path);
    return 0;
}

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
