/* amqp_in.c - the RabbitMQ input's thread (connection, deliveries, acks,
 * backoff) and its hand-over of batches to the loop. See amqp_in.h for the
 * design. */
#include "amqp_in.h"

#include <amqp.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/check.h"
#include "../common/log.h"
#include "../common/timeutil.h"
#include "../route/filter.h"
#include "../route/topic.h"
#include "amqp_conn.h"
#include "amqp_url.h"
#include "dedup.h"
#include "inbody.h"

#define CHANNEL         1
#define CONNECT_TIMEOUT 2 /* s */
#define RPC_TIMEOUT     5 /* s: login, declares, qos, consume */
#define BACKOFF_MIN_NS  (200 * NS_PER_MS)
#define BACKOFF_MAX_NS  (30 * NS_PER_SEC)
#define STABLE_NS       (10 * NS_PER_SEC)
#define PAUSE_MIN_NS    (100 * NS_PER_MS)
#define PAUSE_MAX_NS    (2 * NS_PER_SEC) /* well inside a heartbeat interval */
#define STOP_WAIT_NS    (1500 * NS_PER_MS)
#define READ_BURST      4096 /* messages read before the slots are looked at again */
#define PREFETCH_MAX    65535
#define NAME_MAX_BYTES  256

enum slot_state { SLOT_FREE, SLOT_FILLING, SLOT_QUEUED, SLOT_WAITING, SLOT_DONE };

typedef struct slot {
    amqp_in_t *in;
    batch_t batch;
    buf_t keys; /* the dedup_hash_t of each key it added (invariant 3) */
    uint64_t last_tag;
    size_t messages;
    uint64_t session;
    int64_t t0; /* monotonic ns of its first delivery */
    store_waiter_t w;
    int state; /* enum slot_state: changed under in->mu */
    int err;
} slot_t;

struct amqp_in {
    uv_loop_t *loop;
    store_t *store;
    amqp_url_t url;
    char redacted[1024];
    char queue[NAME_MAX_BYTES];
    char ca[4096];
    char bind_x[AMQP_IN_BINDS_MAX][NAME_MAX_BYTES];
    char bind_p[AMQP_IN_BINDS_MAX][TOPIC_PATTERN_MAX_BYTES + 1];
    size_t nbinds;
    size_t prefetch, dedup_cap, max_body;

    uv_thread_t thread;
    uv_async_t async; /* the thread handed a slot over */
    int wake_fd;      /* the loop answered a slot, or a stop or quiesce */
    atomic_int stop, quiesce, consuming;
    uv_mutex_t mu; /* guards the slots' states, sock_fd and exited */
    uv_cond_t cond;
    int sock_fd;
    int exited;
    slot_t slots[AMQP_IN_SLOTS];
    size_t loop_next; /* the loop's: the next slot it takes */

    /* the thread's (invariant 4) */
    amqp_connection_state_t conn;
    uint64_t session;
    size_t fill, answer; /* the slot being filled; the oldest not answered */
    inbody_t *parser;
    dedup_t dedup;
    slot_t *cur; /* the slot the key callback adds to */
    char ctag[NAME_MAX_BYTES];
    size_t ctag_len;
    int cancel_sent;
    int64_t last_rx, pause_until, pause_ns;
    int refusing; /* the store refused, not yet stored again: said once */
    /* the message being read */
    int reading; /* 0: none, 1: its header comes next, 2: its body */
    uint64_t tag;
    int redelivered;
    char rkey[NAME_MAX_BYTES], ctype[NAME_MAX_BYTES], msgid[NAME_MAX_BYTES], appid[NAME_MAX_BYTES];
    size_t rkey_len, ctype_len, msgid_len, appid_len;
    int64_t ts_ns;
    uint64_t body_size, body_got;
    buf_t body;

    /* stats, written by the thread, read by anyone */
    atomic_int st_state;
    _Atomic uint64_t st_connects, st_connect_failures, st_disconnects, st_messages, st_redelivered,
        st_bytes, st_records, st_duplicates, st_parse_errors, st_acked, st_requeued, st_refusals,
        st_unacked, st_keys;
    hist_t ack_seconds;
};

/* ---- options --------------------------------------------------------------- */

/* Splits "EXCHANGE:PATTERN" at its last ':' (an exchange name may hold
 * ':', a pattern may not). */
static int split_bind(const char *b, char *x, char *pat, const char **why)
{
    const char *colon = strrchr(b, ':');
    if (!colon) {
        *why = "expected EXCHANGE:PATTERN";
        return -1;
    }
    size_t xn = (size_t)(colon - b), pn = strlen(colon + 1);
    if (xn >= NAME_MAX_BYTES || pn > TOPIC_PATTERN_MAX_BYTES) {
        *why = "too long";
        return -1;
    }
    memcpy(x, b, xn);
    x[xn] = '\0';
    memcpy(pat, colon + 1, pn + 1);
    if (!amqp_conn_name_ok(x)) {
        *why = "the exchange must be 1 to 255 letters, digits, '-', '_', '.' or ':', not "
               "starting with amq.";
        return -1;
    }
    return topic_pattern_check(pat, pn, why) ? -1 : 0;
}

int amqp_in_check(const amqp_in_opts_t *o, char *err, size_t errcap)
{
    amqp_url_t u;
    const char *why;
    if (!o->url || amqp_url_parse(o->url, strlen(o->url), &u, &why)) {
        snprintf(err, errcap, "--amqp-in: %s", o->url ? why : "no URL");
        return -1;
    }
    if (!o->queue || !amqp_conn_name_ok(o->queue)) {
        snprintf(err, errcap,
                 "--amqp-queue '%s': expected 1 to 255 letters, digits, '-', '_', '.' or ':', "
                 "not starting with amq. (the broker's own)",
                 o->queue ? o->queue : "");
        return -1;
    }
    if (o->nbinds > AMQP_IN_BINDS_MAX) {
        snprintf(err, errcap, "--amqp-bind: at most %d", AMQP_IN_BINDS_MAX);
        return -1;
    }
    for (size_t i = 0; i < o->nbinds; i++) {
        char x[NAME_MAX_BYTES], p[TOPIC_PATTERN_MAX_BYTES + 1];
        if (split_bind(o->binds[i], x, p, &why)) {
            snprintf(err, errcap, "--amqp-bind '%s': %s", o->binds[i], why);
            return -1;
        }
    }
    if (o->prefetch < 1 || o->prefetch > PREFETCH_MAX) {
        snprintf(err, errcap, "--amqp-prefetch: expected 1 to %d messages", PREFETCH_MAX);
        return -1;
    }
    if (o->dedup > DEDUP_MAX) {
        snprintf(err, errcap, "--amqp-dedup: at most %u keys", DEDUP_MAX);
        return -1;
    }
    if (o->max_body < 1) {
        snprintf(err, errcap, "--max-body: must be at least 1 byte");
        return -1;
    }
    return amqp_conn_check_ca(&u, o->ca_file, "--amqp-in", err, errcap);
}

/* ---- stats, waking ------------------------------------------------------------ */

static void count(_Atomic uint64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static void uncount(_Atomic uint64_t *c, uint64_t n)
{
    atomic_fetch_sub_explicit(c, n, memory_order_relaxed);
}

static int stopping(amqp_in_t *in)
{
    return atomic_load(&in->stop);
}

static void wake(amqp_in_t *in)
{
    uint64_t one = 1;
    if (write(in->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
        log_debug("amqp: cannot wake the input: %s", strerror(errno));
}

static void drain_wake(amqp_in_t *in)
{
    uint64_t v;
    while (read(in->wake_fd, &v, sizeof v) > 0)
        ;
}

/* Sleeps until deadline (monotonic ns), a stop or a wake. */
static void sleep_until(amqp_in_t *in, int64_t deadline)
{
    int64_t now = time_mono_ns();
    if (stopping(in) || now >= deadline)
        return;
    struct pollfd p = {.fd = in->wake_fd, .events = POLLIN};
    int ms = (int)((deadline - now + NS_PER_MS - 1) / NS_PER_MS);
    if (poll(&p, 1, ms) > 0)
        drain_wake(in);
}

static int slot_state(amqp_in_t *in, slot_t *sl)
{
    uv_mutex_lock(&in->mu);
    int st = sl->state;
    uv_mutex_unlock(&in->mu);
    return st;
}

static void set_slot_state(amqp_in_t *in, slot_t *sl, int st)
{
    uv_mutex_lock(&in->mu);
    sl->state = st;
    uv_mutex_unlock(&in->mu);
}

/* ---- the loop's side -------------------------------------------------------- */

static void slot_done(slot_t *sl, int err)
{
    amqp_in_t *in = sl->in;
    uv_mutex_lock(&in->mu);
    sl->err = err;
    sl->state = SLOT_DONE;
    uv_mutex_unlock(&in->mu);
    wake(in);
}

static void on_stored(store_waiter_t *w, int err, uint64_t first, uint64_t last)
{
    (void)first;
    (void)last;
    slot_done(container_of(w, slot_t, w), err);
}

/* The thread handed slots over: one append each, in the order filled. */
static void on_async(uv_async_t *h)
{
    amqp_in_t *in = h->data;
    for (;;) {
        slot_t *sl = &in->slots[in->loop_next];
        uv_mutex_lock(&in->mu);
        int queued = sl->state == SLOT_QUEUED;
        if (queued)
            sl->state = SLOT_WAITING;
        uv_mutex_unlock(&in->mu);
        if (!queued)
            return;
        in->loop_next = (in->loop_next + 1) % AMQP_IN_SLOTS;
        uint64_t first = 0, last = 0;
        sl->w.done = on_stored;
        int rc = store_append(in->store, &sl->batch, NULL, 0, 0, &sl->w, &first, &last);
        if (rc != STORE_PENDING)
            slot_done(sl, rc < 0 ? rc : 0); /* refused, or nothing to store */
    }
}

/* ---- slots (the thread's side) ------------------------------------------------ */

/* Takes a slot's keys out of the window: its records were not stored. */
static void give_back_keys(amqp_in_t *in, slot_t *sl)
{
    const dedup_hash_t *h = (const dedup_hash_t *)(void *)sl->keys.data;
    size_t n = sl->keys.len / sizeof *h;
    for (size_t i = 0; i < n; i++)
        dedup_remove(&in->dedup, h[i]);
    atomic_store(&in->st_keys, in->dedup.live);
}

static void slot_clear(slot_t *sl)
{
    batch_reset(&sl->batch);
    buf_reset(&sl->keys);
    sl->messages = 0;
    sl->last_tag = 0;
    sl->err = 0;
}

/* Hands the slot being filled to the loop, when it has messages and the
 * next slot is free to fill meanwhile. */
static void submit(amqp_in_t *in)
{
    slot_t *sl = &in->slots[in->fill];
    if (!sl->messages)
        return;
    size_t next = (in->fill + 1) % AMQP_IN_SLOTS;
    slot_t *nx = &in->slots[next];
    uv_mutex_lock(&in->mu);
    int free_next = nx->state == SLOT_FREE;
    if (free_next) {
        sl->session = in->session;
        sl->state = SLOT_QUEUED;
        nx->state = SLOT_FILLING;
    }
    uv_mutex_unlock(&in->mu);
    if (!free_next)
        return; /* it goes on filling: prefetch bounds it */
    in->fill = next;
    uv_async_send(&in->async);
}

/* Answers the slots the store is done with, oldest first (invariant 2).
 * Returns 0, or -1 when an ack could not be sent (the session ends). */
static int answer(amqp_in_t *in)
{
    int rc = 0;
    for (;;) {
        slot_t *sl = &in->slots[in->answer];
        if (slot_state(in, sl) != SLOT_DONE)
            return rc;
        int live = in->conn && sl->session == in->session && !rc;
        int64_t now = time_mono_ns();
        if (!sl->err) {
            CHECK(sl->messages > 0 && sl->last_tag > 0,
                  "amqp_in.h invariant 2: a slot handed over holds its deliveries");
            count(&in->st_records, sl->batch.count);
            if (live) {
                if (amqp_basic_ack(in->conn, CHANNEL, sl->last_tag, 1) != AMQP_STATUS_OK) {
                    log_warn("amqp: input: cannot ack to %s; reconnecting (the messages come "
                             "again and are known)",
                             in->redacted);
                    rc = -1;
                } else {
                    count(&in->st_acked, sl->messages);
                    hist_observe_ns(&in->ack_seconds, now - sl->t0);
                }
            }
            if (in->refusing)
                log_info("amqp: input: the store takes records again");
            in->refusing = 0;
            in->pause_ns = 0;
        } else {
            give_back_keys(in, sl);
            count(&in->st_refusals, 1);
            in->pause_ns = in->pause_ns ? in->pause_ns * 2 : PAUSE_MIN_NS;
            if (in->pause_ns > PAUSE_MAX_NS)
                in->pause_ns = PAUSE_MAX_NS;
            in->pause_until = now + in->pause_ns;
            if (!in->refusing)
                log_warn("amqp: input: the store refused %zu message(s): %s; they go back to "
                         "the queue, and the input slows down until it takes them",
                         sl->messages,
                         sl->err == -EAGAIN ? "its writer is behind" : strerror(-sl->err));
            in->refusing = 1;
            if (live) {
                if (amqp_basic_nack(in->conn, CHANNEL, sl->last_tag, 1, 1) != AMQP_STATUS_OK)
                    rc = -1;
                else
                    count(&in->st_requeued, sl->messages);
            }
        }
        uncount(&in->st_unacked, sl->messages);
        slot_clear(sl);
        set_slot_state(in, sl, SLOT_FREE);
        in->answer = (in->answer + 1) % AMQP_IN_SLOTS;
    }
}

/* Every slot handed over is answered. */
static int all_answered(amqp_in_t *in)
{
    for (size_t i = 0; i < AMQP_IN_SLOTS; i++) {
        int st = slot_state(in, &in->slots[i]);
        if (st != SLOT_FREE && st != SLOT_FILLING)
            return 0;
    }
    return 1;
}

/* ---- messages ------------------------------------------------------------------ */

/* inbody's key callback: 1 (and the key is taken) when new. */
static int on_key(void *arg, const char *k, size_t n)
{
    amqp_in_t *in = arg;
    dedup_hash_t h = dedup_hash(k, n);
    if (!dedup_add(&in->dedup, h))
        return 0;
    buf_append(&in->cur->keys, &h, sizeof h);
    return 1;
}

/* A whole message came: its records into the slot being filled. */
static void on_message(amqp_in_t *in)
{
    slot_t *sl = &in->slots[in->fill];
    if (!sl->messages)
        sl->t0 = time_mono_ns();
    inbody_msg_t m = {
        .body = in->body.data ? in->body.data : "",
        .len = in->body.len,
        .size = in->body_size,
        .content_type = slice_make(in->ctype, in->ctype_len),
        .message_id = slice_make(in->msgid, in->msgid_len),
        .app_id = slice_make(in->appid, in->appid_len),
        .routing_key = slice_make(in->rkey, in->rkey_len),
        .timestamp_ns = in->ts_ns,
    };
    inbody_result_t res;
    in->cur = sl;
    inbody_parse(in->parser, &m, time_now_ns(), &sl->batch, in->dedup.cap ? on_key : NULL, in,
                 &res);
    sl->last_tag = in->tag;
    sl->messages++;
    count(&in->st_unacked, 1);
    count(&in->st_messages, 1);
    count(&in->st_bytes, in->body_size);
    if (in->redelivered)
        count(&in->st_redelivered, 1);
    if (res.duplicates)
        count(&in->st_duplicates, res.duplicates);
    if (res.parse_errors)
        count(&in->st_parse_errors, res.parse_errors);
    atomic_store(&in->st_keys, in->dedup.live);
    in->reading = 0;
}

static size_t copy_short(char *dst, amqp_bytes_t b)
{
    size_t n = b.len < NAME_MAX_BYTES - 1 ? b.len : NAME_MAX_BYTES - 1;
    if (n)
        memcpy(dst, b.bytes, n);
    dst[n] = '\0';
    return n;
}

static int protocol_error(amqp_in_t *in, const char *what)
{
    log_warn("amqp: input: %s from %s; reconnecting", what, in->redacted);
    return -1;
}

static int on_method(amqp_in_t *in, const amqp_frame_t *f)
{
    switch (f->payload.method.id) {
    case AMQP_BASIC_DELIVER_METHOD: {
        const amqp_basic_deliver_t *d = f->payload.method.decoded;
        if (in->reading)
            return protocol_error(in, "a delivery inside another");
        in->tag = d->delivery_tag;
        in->redelivered = d->redelivered != 0;
        in->rkey_len = copy_short(in->rkey, d->routing_key);
        in->reading = 1;
        return 0;
    }
    case AMQP_BASIC_CANCEL_OK_METHOD:
        atomic_store(&in->consuming, 0);
        log_info("amqp: input: consumer cancelled; answering what was delivered");
        return 0;
    case AMQP_BASIC_CANCEL_METHOD:
        log_warn("amqp: input: the broker cancelled the consumer of queue '%s' (deleted?); "
                 "reconnecting",
                 in->queue);
        return -1;
    case AMQP_CHANNEL_CLOSE_METHOD: {
        const amqp_channel_close_t *m = f->payload.method.decoded;
        log_warn("amqp: input: the broker closed the channel: %u %.*s", m->reply_code,
                 (int)m->reply_text.len, (const char *)m->reply_text.bytes);
        return -1;
    }
    case AMQP_CONNECTION_CLOSE_METHOD: {
        const amqp_connection_close_t *m = f->payload.method.decoded;
        log_warn("amqp: input: the broker closed the connection: %u %.*s", m->reply_code,
                 (int)m->reply_text.len, (const char *)m->reply_text.bytes);
        amqp_connection_close_ok_t ok = {0};
        amqp_send_method(in->conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
        return -1;
    }
    default:
        return 0;
    }
}

static int on_header(amqp_in_t *in, const amqp_frame_t *f)
{
    if (in->reading != 1)
        return protocol_error(in, "a content header out of place");
    const amqp_basic_properties_t *p = f->payload.properties.decoded;
    amqp_flags_t fl = p->_flags;
    in->ctype_len = fl & AMQP_BASIC_CONTENT_TYPE_FLAG ? copy_short(in->ctype, p->content_type) : 0;
    in->msgid_len = fl & AMQP_BASIC_MESSAGE_ID_FLAG ? copy_short(in->msgid, p->message_id) : 0;
    in->appid_len = fl & AMQP_BASIC_APP_ID_FLAG ? copy_short(in->appid, p->app_id) : 0;
    in->ts_ns = 0;
    if (fl & AMQP_BASIC_TIMESTAMP_FLAG && p->timestamp > 0 &&
        p->timestamp < (uint64_t)(INT64_MAX / NS_PER_SEC))
        in->ts_ns = (int64_t)p->timestamp * NS_PER_SEC;
    in->body_size = f->payload.properties.body_size;
    in->body_got = 0;
    buf_reset(&in->body);
    if (!in->body_size) {
        on_message(in);
        return 0;
    }
    buf_reserve(&in->body, in->body_size < in->max_body ? in->body_size : in->max_body);
    in->reading = 2;
    return 0;
}

static int on_body(amqp_in_t *in, const amqp_frame_t *f)
{
    if (in->reading != 2)
        return protocol_error(in, "a content body out of place");
    amqp_bytes_t b = f->payload.body_fragment;
    size_t room = in->max_body - in->body.len;
    buf_append(&in->body, b.bytes, b.len < room ? b.len : room);
    in->body_got += b.len;
    if (in->body_got >= in->body_size)
        on_message(in);
    return 0;
}

/* Reads what the broker sent, without waiting. Returns 0, or -1 when the
 * session must end (logged). */
static int read_frames(amqp_in_t *in)
{
    size_t messages = 0;
    int got = 0;
    for (;;) {
        amqp_frame_t f;
        struct timeval zero = {0, 0};
        int rc = amqp_simple_wait_frame_noblock(in->conn, &f, &zero);
        if (rc == AMQP_STATUS_TIMEOUT)
            break;
        if (rc != AMQP_STATUS_OK) {
            log_warn("amqp: input: connection to %s lost: %s", in->redacted,
                     amqp_error_string2(rc));
            return -1;
        }
        got = 1;
        int was_reading = in->reading;
        if (f.channel != CHANNEL && f.frame_type != AMQP_FRAME_METHOD)
            continue;
        switch (f.frame_type) {
        case AMQP_FRAME_METHOD:
            rc = on_method(in, &f);
            break;
        case AMQP_FRAME_HEADER:
            rc = on_header(in, &f);
            break;
        case AMQP_FRAME_BODY:
            rc = on_body(in, &f);
            break;
        default:
            rc = 0;
        }
        if (rc)
            return -1;
        if (was_reading && !in->reading) {
            /* a message is whole: its frames' memory may go */
            amqp_maybe_release_buffers(in->conn);
            slot_t *sl = &in->slots[in->fill];
            if (sl->batch.count >= AMQP_IN_SLOT_RECORDS ||
                sl->batch.frames.len >= AMQP_IN_SLOT_BYTES)
                submit(in);
            if (++messages >= READ_BURST)
                break;
        }
    }
    if (got)
        in->last_rx = time_mono_ns();
    if (!in->reading)
        amqp_maybe_release_buffers(in->conn);
    return 0;
}

/* ---- the connection ----------------------------------------------------------- */

static void set_sock_fd(amqp_in_t *in, int fd)
{
    uv_mutex_lock(&in->mu);
    in->sock_fd = fd;
    uv_mutex_unlock(&in->mu);
}

static void disconnect(amqp_in_t *in, int clean)
{
    if (!in->conn)
        return;
    if (clean) {
        struct timeval tv = {1, 0};
        amqp_set_rpc_timeout(in->conn, &tv);
        amqp_channel_close(in->conn, CHANNEL, AMQP_REPLY_SUCCESS);
        amqp_connection_close(in->conn, AMQP_REPLY_SUCCESS);
    }
    set_sock_fd(in, -1);
    amqp_destroy_connection(in->conn);
    in->conn = NULL;
}

static int rpc_ok(amqp_in_t *in, const char *what, char *why, size_t cap)
{
    char buf[512];
    amqp_rpc_reply_t r = amqp_get_rpc_reply(in->conn);
    if (r.reply_type == AMQP_RESPONSE_NORMAL)
        return 1;
    snprintf(why, cap, "%s: %s", what, amqp_conn_why(r, buf, sizeof buf));
    return 0;
}

/* Connects, declares and binds, and starts consuming. Returns 0, or -1
 * with why filled (the connection is gone). */
static int connect_broker(amqp_in_t *in, char *why, size_t cap)
{
    char what[1024];
    in->conn = amqp_new_connection();
    if (!in->conn) {
        snprintf(why, cap, "out of memory");
        return -1;
    }
    if (amqp_conn_open(in->conn, &in->url, in->ca, CONNECT_TIMEOUT, why, cap))
        goto fail;
    set_sock_fd(in, amqp_get_sockfd(in->conn));
    if (stopping(in)) {
        snprintf(why, cap, "stopping");
        goto fail;
    }
    char name[NAME_MAX_BYTES + 32];
    snprintf(name, sizeof name, "logshipd input %s", in->queue);
    if (amqp_conn_login(in->conn, &in->url, name, AMQP_IN_HEARTBEAT_S, RPC_TIMEOUT, why, cap))
        goto fail;
    amqp_channel_open(in->conn, CHANNEL);
    if (!rpc_ok(in, "channel.open", why, cap))
        goto fail;
    for (size_t i = 0; i < in->nbinds; i++) {
        amqp_exchange_declare(in->conn, CHANNEL, amqp_cstring_bytes(in->bind_x[i]),
                              amqp_cstring_bytes("topic"), 0, 1, 0, 0, amqp_empty_table);
        snprintf(what, sizeof what, "exchange.declare '%s' (durable, topic)", in->bind_x[i]);
        if (!rpc_ok(in, what, why, cap))
            goto fail;
    }
    amqp_queue_declare(in->conn, CHANNEL, amqp_cstring_bytes(in->queue), 0, 1, 0, 0,
                       amqp_empty_table);
    snprintf(what, sizeof what, "queue.declare '%s' (durable)", in->queue);
    if (!rpc_ok(in, what, why, cap))
        goto fail;
    for (size_t i = 0; i < in->nbinds; i++) {
        amqp_queue_bind(in->conn, CHANNEL, amqp_cstring_bytes(in->queue),
                        amqp_cstring_bytes(in->bind_x[i]), amqp_cstring_bytes(in->bind_p[i]),
                        amqp_empty_table);
        snprintf(what, sizeof what, "queue.bind '%s' to '%s' with '%s'", in->queue, in->bind_x[i],
                 in->bind_p[i]);
        if (!rpc_ok(in, what, why, cap))
            goto fail;
    }
    amqp_basic_qos(in->conn, CHANNEL, 0, (uint16_t)in->prefetch, 0);
    if (!rpc_ok(in, "basic.qos", why, cap))
        goto fail;
    if (atomic_load(&in->quiesce) || stopping(in)) {
        snprintf(why, cap, "stopping");
        goto fail;
    }
    amqp_basic_consume_ok_t *ok =
        amqp_basic_consume(in->conn, CHANNEL, amqp_cstring_bytes(in->queue), amqp_empty_bytes, 0, 0,
                           0, amqp_empty_table);
    if (!rpc_ok(in, "basic.consume", why, cap) || !ok)
        goto fail;
    in->ctag_len = copy_short(in->ctag, ok->consumer_tag);
    atomic_store(&in->consuming, 1);
    amqp_maybe_release_buffers(in->conn);
    return 0;
fail:
    disconnect(in, 0);
    return -1;
}

/* ---- a session -------------------------------------------------------------- */

static void cancel_consumer(amqp_in_t *in)
{
    amqp_basic_cancel_t req = {.consumer_tag = {in->ctag_len, in->ctag}, .nowait = 0};
    if (amqp_send_method(in->conn, CHANNEL, AMQP_BASIC_CANCEL_METHOD, &req) != AMQP_STATUS_OK)
        log_warn("amqp: input: cannot cancel the consumer");
    in->cancel_sent = 1;
}

/* Waits for the eventfd, the socket (when not paused) or the heartbeat.
 * Returns 0, or -1 when the broker has been silent too long. */
static int wait_io(amqp_in_t *in)
{
    int64_t now = time_mono_ns();
    int paused = now < in->pause_until;
    if (!paused && (amqp_frames_enqueued(in->conn) || amqp_data_in_buffer(in->conn)))
        return 0;
    /* librabbitmq sends our heartbeats as frames are read: wake often
     * enough that the broker never misses one */
    int64_t wake_at = now + AMQP_IN_HEARTBEAT_S * NS_PER_SEC / 3;
    if (paused && in->pause_until < wake_at)
        wake_at = in->pause_until;
    int ms = wake_at > now ? (int)((wake_at - now + NS_PER_MS - 1) / NS_PER_MS) : 0;
    struct pollfd p[2] = {{.fd = in->wake_fd, .events = POLLIN},
                          {.fd = amqp_get_sockfd(in->conn), .events = POLLIN}};
    int n = poll(p, paused ? 1 : 2, ms);
    if (n > 0 && p[0].revents)
        drain_wake(in);
    now = time_mono_ns();
    /* the broker's heartbeats count: librabbitmq reads them without
     * handing them to read_frames(), which sees no frame on an idle
     * connection, so a readable socket is the sign of life */
    if (n > 0 && !paused && p[1].revents)
        in->last_rx = now;
    if (!paused && now - in->last_rx > 3 * AMQP_IN_HEARTBEAT_S * NS_PER_SEC) {
        log_warn("amqp: input: nothing from %s for %d s (heartbeats missed); reconnecting",
                 in->redacted, 3 * AMQP_IN_HEARTBEAT_S);
        return -1;
    }
    return 0;
}

/* Consumes until an error or a stop. Returns 1 for a stop, 0 for an error. */
static int session(amqp_in_t *in)
{
    in->session++;
    in->reading = 0;
    in->cancel_sent = 0;
    in->pause_until = 0;
    in->last_rx = time_mono_ns();
    for (;;) {
        if (stopping(in))
            return 1;
        if (answer(in))
            return 0;
        if (atomic_load(&in->quiesce) && !in->cancel_sent)
            cancel_consumer(in);
        if (time_mono_ns() >= in->pause_until && read_frames(in))
            return 0;
        if (!in->reading)
            submit(in); /* the socket had no more: hand over what came */
        if (wait_io(in))
            return 0;
    }
}

/* After a session: the slot being filled goes back to the queue with the
 * connection, and its keys out of the window (invariant 3); then, unless
 * stopping, wait for the store to answer the slots handed over, so the
 * window is right when their messages come again. */
static void end_session(amqp_in_t *in, int clean)
{
    slot_t *sl = &in->slots[in->fill];
    give_back_keys(in, sl);
    uncount(&in->st_unacked, sl->messages);
    slot_clear(sl);
    in->reading = 0;
    atomic_store(&in->consuming, 0);
    disconnect(in, clean);
    while (!stopping(in)) {
        answer(in);
        if (all_answered(in))
            break;
        sleep_until(in, time_mono_ns() + 100 * NS_PER_MS);
    }
}

/* The window from the newest records already stored (see amqp_in.h). */
typedef struct rebuild {
    amqp_in_t *in;
    dedup_hash_t *keys;
    size_t n, cap, scanned, limit;
} rebuild_t;

static int on_stored_record(void *arg, const record_t *r)
{
    rebuild_t *rb = arg;
    char k[INBODY_KEY_MAX];
    size_t kn = inbody_record_key(r, k);
    if (kn)
        rb->keys[rb->n++] = dedup_hash(k, kn);
    return ++rb->scanned >= rb->limit || rb->n >= rb->cap || stopping(rb->in);
}

static void rebuild(amqp_in_t *in)
{
    if (!in->dedup.cap)
        return;
    int64_t t0 = time_mono_ns();
    rebuild_t rb = {.in = in, .cap = in->dedup.cap};
    rb.limit = in->dedup.cap * AMQP_IN_REBUILD_FACTOR;
    rb.keys = xmalloc(rb.cap * sizeof *rb.keys);
    filter_t f;
    filter_init(&f);
    int rc = store_scan(in->store, &f, 1, on_stored_record, &rb);
    if (rc)
        log_warn("amqp: input: reading the store back for known messages: %s; redeliveries of "
                 "older ones may be stored twice",
                 strerror(-rc));
    /* newest first from the scan: the window wants the oldest first */
    for (size_t i = rb.n; i-- > 0;)
        dedup_add(&in->dedup, rb.keys[i]);
    free(rb.keys);
    atomic_store(&in->st_keys, in->dedup.live);
    log_info("amqp: input: %zu message key(s) read back from the newest %zu stored records in "
             "%.0f ms",
             in->dedup.live, rb.scanned, (double)(time_mono_ns() - t0) / 1e6);
}

static void run(void *arg)
{
    amqp_in_t *in = arg;
    int64_t backoff = BACKOFF_MIN_NS;
    int failing = 0;
    char why[8192];
    rebuild(in);
    while (!stopping(in)) {
        if (atomic_load(&in->quiesce)) {
            sleep_until(in, time_mono_ns() + NS_PER_SEC);
            continue;
        }
        atomic_store(&in->st_state, AMQP_IN_CONNECTING);
        if (connect_broker(in, why, sizeof why)) {
            count(&in->st_connect_failures, 1);
            atomic_store(&in->st_state, AMQP_IN_DOWN);
            if (!failing)
                log_warn("amqp: input: cannot connect to %s: %s; retrying with backoff up to %d s",
                         in->redacted, why, (int)(BACKOFF_MAX_NS / NS_PER_SEC));
            else
                log_debug("amqp: input: cannot connect to %s: %s", in->redacted, why);
            failing++;
        } else {
            count(&in->st_connects, 1);
            atomic_store(&in->st_state, AMQP_IN_UP);
            log_info("amqp: input: connected to %s%s; consuming queue '%s', prefetch %zu",
                     in->redacted, failing ? " again" : "", in->queue, in->prefetch);
            failing = 0;
            int64_t began = time_mono_ns();
            uint64_t acked = atomic_load(&in->st_acked);
            int stopped = session(in);
            end_session(in, stopped);
            atomic_store(&in->st_state, AMQP_IN_DOWN);
            if (stopped)
                break;
            count(&in->st_disconnects, 1);
            if (atomic_load(&in->st_acked) > acked || time_mono_ns() - began >= STABLE_NS)
                backoff = BACKOFF_MIN_NS;
            failing = 1;
        }
        sleep_until(in, time_mono_ns() + backoff);
        backoff = backoff * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : backoff * 2;
    }
    uv_mutex_lock(&in->mu);
    in->exited = 1;
    uv_cond_signal(&in->cond);
    uv_mutex_unlock(&in->mu);
}

/* ---- start and stop ------------------------------------------------------------ */

static void in_free(amqp_in_t *in)
{
    if (in->wake_fd >= 0)
        close(in->wake_fd);
    for (size_t i = 0; i < AMQP_IN_SLOTS; i++) {
        batch_free(&in->slots[i].batch);
        buf_free(&in->slots[i].keys);
    }
    buf_free(&in->body);
    inbody_destroy(in->parser);
    dedup_free(&in->dedup);
    uv_mutex_destroy(&in->mu);
    uv_cond_destroy(&in->cond);
    free(in);
}

static void on_closed(uv_handle_t *h)
{
    in_free(h->data);
}

amqp_in_t *amqp_in_start(uv_loop_t *loop, store_t *s, const amqp_in_opts_t *o, char *err,
                         size_t errcap)
{
    if (amqp_in_check(o, err, errcap))
        return NULL;
    amqp_in_t *in = xcalloc(1, sizeof *in);
    const char *why;
    in->loop = loop;
    in->store = s;
    in->wake_fd = -1;
    in->sock_fd = -1;
    uv_mutex_init(&in->mu);
    uv_cond_init(&in->cond);
    hist_init(&in->ack_seconds, &hist_seconds);
    amqp_url_parse(o->url, strlen(o->url), &in->url, &why);
    amqp_url_redacted(&in->url, in->redacted, sizeof in->redacted);
    snprintf(in->queue, sizeof in->queue, "%s", o->queue);
    snprintf(in->ca, sizeof in->ca, "%s", o->ca_file ? o->ca_file : "");
    in->nbinds = o->nbinds;
    for (size_t i = 0; i < o->nbinds; i++)
        split_bind(o->binds[i], in->bind_x[i], in->bind_p[i], &why);
    in->prefetch = o->prefetch;
    in->max_body = o->max_body;
    in->parser = inbody_create(0);
    dedup_init(&in->dedup, o->dedup);
    for (size_t i = 0; i < AMQP_IN_SLOTS; i++)
        in->slots[i].in = in;
    in->slots[0].state = SLOT_FILLING;
    in->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (in->wake_fd < 0) {
        snprintf(err, errcap, "amqp: eventfd: %s", strerror(errno));
        in_free(in);
        return NULL;
    }
    uv_async_init(loop, &in->async, on_async);
    in->async.data = in;
    if (uv_thread_create(&in->thread, run, in)) {
        snprintf(err, errcap, "amqp: cannot start the input thread");
        uv_close((uv_handle_t *)&in->async, on_closed);
        return NULL;
    }
    char binds[AMQP_IN_BINDS_MAX * (NAME_MAX_BYTES + TOPIC_PATTERN_MAX_BYTES + 2)] = "";
    for (size_t i = 0; i < in->nbinds; i++) {
        size_t n = strlen(binds);
        snprintf(binds + n, sizeof binds - n, "%s%s:%s", i ? " " : "", in->bind_x[i],
                 in->bind_p[i]);
    }
    log_info("amqp: input from %s, queue '%s'%s%s, prefetch %zu, %zu message key(s) remembered",
             in->redacted, in->queue, in->nbinds ? " bound to " : "", binds, in->prefetch,
             in->dedup.cap);
    return in;
}

void amqp_in_quiesce(amqp_in_t *in)
{
    if (!in)
        return;
    atomic_store(&in->quiesce, 1);
    wake(in);
}

int amqp_in_busy(amqp_in_t *in)
{
    if (!in)
        return 0;
    return atomic_load(&in->consuming) || atomic_load(&in->st_unacked) > 0;
}

void amqp_in_stop(amqp_in_t *in)
{
    if (!in)
        return;
    atomic_store(&in->stop, 1);
    wake(in);
    /* as the output: a broker that hangs a handshake or a close gets its
     * socket cut */
    uv_mutex_lock(&in->mu);
    uint64_t deadline = uv_hrtime() + (uint64_t)STOP_WAIT_NS;
    int cut = 0;
    while (!in->exited) {
        uint64_t now = uv_hrtime();
        if (now >= deadline && !cut && in->sock_fd >= 0) {
            log_warn("amqp: input: the broker does not answer; closing the connection");
            shutdown(in->sock_fd, SHUT_RDWR);
            cut = 1;
        }
        uv_cond_timedwait(&in->cond, &in->mu, now >= deadline ? 50 * NS_PER_MS : deadline - now);
    }
    uv_mutex_unlock(&in->mu);
    uv_thread_join(&in->thread);
    /* the store may still answer slots it holds: it must not call back */
    for (size_t i = 0; i < AMQP_IN_SLOTS; i++)
        if (in->slots[i].state == SLOT_WAITING)
            store_cancel(in->store, &in->slots[i].w);
    amqp_in_stats_t st;
    amqp_in_get_stats(in, &st);
    log_info("amqp: input stopped: %" PRIu64 " message(s) delivered, %" PRIu64
             " record(s) stored, %" PRIu64 " duplicate(s) dropped, %" PRIu64 " left to the queue",
             st.messages, st.records, st.duplicates, st.unacked);
    uv_close((uv_handle_t *)&in->async, on_closed);
}

void amqp_in_get_stats(amqp_in_t *in, amqp_in_stats_t *st)
{
    memset(st, 0, sizeof *st);
    st->state = atomic_load(&in->st_state);
    st->connects = atomic_load(&in->st_connects);
    st->connect_failures = atomic_load(&in->st_connect_failures);
    st->disconnects = atomic_load(&in->st_disconnects);
    st->messages = atomic_load(&in->st_messages);
    st->redelivered = atomic_load(&in->st_redelivered);
    st->bytes = atomic_load(&in->st_bytes);
    st->records = atomic_load(&in->st_records);
    st->duplicates = atomic_load(&in->st_duplicates);
    st->parse_errors = atomic_load(&in->st_parse_errors);
    st->acked = atomic_load(&in->st_acked);
    st->requeued = atomic_load(&in->st_requeued);
    st->refusals = atomic_load(&in->st_refusals);
    st->unacked = atomic_load(&in->st_unacked);
    st->dedup_keys = atomic_load(&in->st_keys);
    st->ack_seconds = &in->ack_seconds;
}
