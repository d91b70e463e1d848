/* amqp_out.c - the RabbitMQ output's thread: connection, publishing from
 * the store, confirms, backoff. See amqp_out.h for the design. */
#include "amqp_out.h"

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
#include "confirm.h"
#include "outstate.h"
#include "pack.h"
#include "wire.h"

#define CHANNEL         1
#define CONNECT_TIMEOUT 2 /* s: TCP (and TLS) connect; stop waits for it */
#define RPC_TIMEOUT     5 /* s: login, declare, confirm.select */
#define BACKOFF_MIN_NS  (200 * NS_PER_MS)
#define BACKOFF_MAX_NS  (30 * NS_PER_SEC)
#define STABLE_NS       (10 * NS_PER_SEC) /* a session this long resets the backoff */
#define DRAIN_NS        (1 * NS_PER_SEC)  /* at stop: wait this long for confirms */
#define STOP_WAIT_NS    (1500 * NS_PER_MS)
#define CHUNK_RECORDS   4096 /* records read per scan before acks are read again */
#define BATCH_MAX       100000
#define INFLIGHT_MAX    100000
#define WIRE_FLUSH      (256u << 10) /* bytes of frames gathered before a send() */

struct amqp_out {
    store_t *store;
    amqp_url_t url;
    char redacted[1024];
    char exchange[256];
    char ca[4096];
    char dir[4096];
    char node[NODE_ID_LEN + 1];
    char texts[AMQP_OUT_TOPICS_MAX][TOPIC_PATTERN_MAX_BYTES + 1];
    topic_pat_t pats[AMQP_OUT_TOPICS_MAX];
    slice_t pat_texts[AMQP_OUT_TOPICS_MAX];
    size_t npats;
    size_t batch, inflight;

    uv_thread_t thread;
    int wake_fd;
    atomic_int wake_pending, stop;
    uv_mutex_t mu; /* guards sock_fd and exited */
    uv_cond_t cond;
    int sock_fd; /* the connection's socket while the thread has one */
    int exited;

    /* the thread's (invariant 3) */
    amqp_connection_state_t conn;
    confirm_t win;
    pack_t pack;
    buf_t wire;         /* publishes not sent yet (plain TCP: wire.h) */
    uint64_t scan_last; /* the newest seq the running chunk took */
    size_t scan_taken;  /* records the running chunk took */
    int scan_err;       /* a publish failed inside the scan */
    int scan_full;      /* the chunk stopped: the window had no room */
    uint64_t persisted;
    int64_t persist_due; /* monotonic ns; 0: nothing to persist */
    int save_failing;
    int64_t last_rx;
    int session_acked; /* the session got a confirm */
    uint64_t warned_gap;

    /* stats, written by the thread, read by anyone */
    atomic_int st_state;
    _Atomic uint64_t st_connects, st_connect_failures, st_disconnects, st_messages, st_records,
        st_acked, st_nacked, st_returned, st_skipped, st_confirmed;
};

/* ---- options --------------------------------------------------------------- */

int amqp_out_check(const amqp_out_opts_t *o, char *err, size_t errcap)
{
    amqp_url_t u;
    const char *why;
    if (!o->url || amqp_url_parse(o->url, strlen(o->url), &u, &why)) {
        snprintf(err, errcap, "--amqp-out: %s", o->url ? why : "no URL");
        return -1;
    }
    if (!o->exchange || !amqp_conn_name_ok(o->exchange)) {
        snprintf(err, errcap,
                 "--amqp-exchange '%s': expected 1 to 255 letters, digits, '-', '_', '.' or "
                 "':', not starting with amq. (the broker's own)",
                 o->exchange ? o->exchange : "");
        return -1;
    }
    if (o->ntopics > AMQP_OUT_TOPICS_MAX) {
        snprintf(err, errcap, "--amqp-out-topic: at most %d patterns", AMQP_OUT_TOPICS_MAX);
        return -1;
    }
    for (size_t i = 0; i < o->ntopics; i++) {
        if (topic_pattern_check(o->topics[i], strlen(o->topics[i]), &why)) {
            snprintf(err, errcap, "--amqp-out-topic '%s': %s", o->topics[i], why);
            return -1;
        }
    }
    if (o->batch < 1 || o->batch > BATCH_MAX) {
        snprintf(err, errcap, "--amqp-batch: expected 1 to %d records", BATCH_MAX);
        return -1;
    }
    if (o->inflight < 1 || o->inflight > INFLIGHT_MAX) {
        snprintf(err, errcap, "--amqp-inflight: expected 1 to %d messages", INFLIGHT_MAX);
        return -1;
    }
    if (amqp_conn_check_ca(&u, o->ca_file, "--amqp-out", err, errcap))
        return -1;
    return 0;
}

/* ---- stats, waking, stopping ------------------------------------------------ */

static void count(_Atomic uint64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static void set_state(amqp_out_t *o, enum amqp_out_state s)
{
    atomic_store(&o->st_state, (int)s);
}

static int stopping(amqp_out_t *o)
{
    return atomic_load(&o->stop);
}

static void wake(amqp_out_t *o)
{
    uint64_t one = 1;
    if (write(o->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
        log_debug("amqp: cannot wake the publisher: %s", strerror(errno));
}

/* The store's commit listener (loop thread): new records are visible. */
static void on_commit(void *arg, uint64_t first, uint64_t last)
{
    amqp_out_t *o = arg;
    (void)last;
    if (first && !atomic_exchange(&o->wake_pending, 1))
        wake(o);
}

/* Takes what woke the eventfd. */
static void drain_wake(amqp_out_t *o)
{
    uint64_t v;
    atomic_store(&o->wake_pending, 0);
    while (read(o->wake_fd, &v, sizeof v) > 0)
        ;
}

/* Sleeps until deadline (monotonic ns) or a stop. */
static void sleep_until(amqp_out_t *o, int64_t deadline)
{
    for (;;) {
        int64_t now = time_mono_ns();
        if (stopping(o) || now >= deadline)
            return;
        struct pollfd p = {.fd = o->wake_fd, .events = POLLIN};
        int ms = (int)((deadline - now + NS_PER_MS - 1) / NS_PER_MS);
        if (poll(&p, 1, ms) > 0)
            drain_wake(o);
    }
}

/* ---- the confirmed seq -------------------------------------------------------- */

/* Saves the confirmed seq when it moved: now with force, else at most
 * every AMQP_OUT_PERSIST_MS. */
static void persist(amqp_out_t *o, int force)
{
    uint64_t c = o->win.confirmed;
    atomic_store(&o->st_confirmed, c);
    if (c == o->persisted) {
        o->persist_due = 0;
        return;
    }
    int64_t now = time_mono_ns();
    if (!o->persist_due)
        o->persist_due = now + AMQP_OUT_PERSIST_MS * NS_PER_MS;
    if (!force && now < o->persist_due)
        return;
    CHECK(c >= o->persisted,
          "amqp_out.h invariant 1: what is persisted is a confirmed seq, and those only grow");
    int rc = outstate_save_confirmed(o->dir, c);
    if (rc) {
        if (!o->save_failing)
            log_error("amqp: cannot save %s/amqp-out.confirmed: %s (a restart would publish "
                      "again from seq %" PRIu64 ")",
                      o->dir, strerror(-rc), o->persisted + 1);
        o->save_failing = 1;
        o->persist_due = now + AMQP_OUT_PERSIST_MS * NS_PER_MS;
        return;
    }
    if (o->save_failing)
        log_info("amqp: %s/amqp-out.confirmed is written again", o->dir);
    o->save_failing = 0;
    o->persisted = c;
    o->persist_due = 0;
}

/* ---- the connection ----------------------------------------------------------- */

static void set_sock_fd(amqp_out_t *o, int fd)
{
    uv_mutex_lock(&o->mu);
    o->sock_fd = fd;
    uv_mutex_unlock(&o->mu);
}

static void disconnect(amqp_out_t *o, int clean)
{
    if (!o->conn)
        return;
    if (clean) {
        struct timeval tv = {1, 0};
        amqp_set_rpc_timeout(o->conn, &tv);
        amqp_channel_close(o->conn, CHANNEL, AMQP_REPLY_SUCCESS);
        amqp_connection_close(o->conn, AMQP_REPLY_SUCCESS);
    }
    /* the loop thread may shutdown() sock_fd until it is -1 (invariant 3) */
    set_sock_fd(o, -1);
    amqp_destroy_connection(o->conn);
    o->conn = NULL;
}

/* Connects, logs in, opens the channel, declares the exchange and selects
 * confirms. Returns 0, or -1 with why filled (the connection is gone). */
static int connect_broker(amqp_out_t *o, char *why, size_t cap)
{
    char buf[512];
    amqp_rpc_reply_t r;
    o->conn = amqp_new_connection();
    if (!o->conn) {
        snprintf(why, cap, "out of memory");
        return -1;
    }
    if (amqp_conn_open(o->conn, &o->url, o->ca, CONNECT_TIMEOUT, why, cap))
        goto fail;
    set_sock_fd(o, amqp_get_sockfd(o->conn));
    if (stopping(o)) {
        snprintf(why, cap, "stopping");
        goto fail;
    }
    char name[128];
    snprintf(name, sizeof name, "logshipd %s", o->node);
    if (amqp_conn_login(o->conn, &o->url, name, AMQP_OUT_HEARTBEAT_S, RPC_TIMEOUT, why, cap))
        goto fail;
    amqp_channel_open(o->conn, CHANNEL);
    r = amqp_get_rpc_reply(o->conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        snprintf(why, cap, "channel.open: %s", amqp_conn_why(r, buf, sizeof buf));
        goto fail;
    }
    amqp_exchange_declare(o->conn, CHANNEL, amqp_cstring_bytes(o->exchange),
                          amqp_cstring_bytes("topic"), 0, 1, 0, 0, amqp_empty_table);
    r = amqp_get_rpc_reply(o->conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        snprintf(why, cap, "exchange.declare '%s' (durable, topic): %s", o->exchange,
                 amqp_conn_why(r, buf, sizeof buf));
        goto fail;
    }
    amqp_confirm_select(o->conn, CHANNEL);
    r = amqp_get_rpc_reply(o->conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        snprintf(why, cap, "confirm.select: %s", amqp_conn_why(r, buf, sizeof buf));
        goto fail;
    }
    amqp_maybe_release_buffers(o->conn);
    return 0;
fail:
    disconnect(o, 0);
    return -1;
}

/* ---- frames from the broker ------------------------------------------------- */

/* Handles what the broker sent, without waiting. Returns 0, or -1 when the
 * session must end (logged). */
static int read_frames(amqp_out_t *o)
{
    for (;;) {
        amqp_frame_t f;
        struct timeval zero = {0, 0};
        int rc = amqp_simple_wait_frame_noblock(o->conn, &f, &zero);
        if (rc == AMQP_STATUS_TIMEOUT)
            break;
        if (rc != AMQP_STATUS_OK) {
            log_warn("amqp: connection to %s lost: %s", o->redacted, amqp_error_string2(rc));
            return -1;
        }
        o->last_rx = time_mono_ns();
        if (f.frame_type != AMQP_FRAME_METHOD)
            continue; /* the header and body of a returned message */
        switch (f.payload.method.id) {
        case AMQP_BASIC_ACK_METHOD: {
            const amqp_basic_ack_t *a = f.payload.method.decoded;
            long n = confirm_ack(&o->win, a->delivery_tag, a->multiple);
            if (n < 0) {
                log_error("amqp: the broker acked delivery tag %" PRIu64
                          "%s, which is not in flight; reconnecting",
                          (uint64_t)a->delivery_tag, a->multiple ? " (multiple)" : "");
                return -1;
            }
            count(&o->st_acked, (uint64_t)n);
            o->session_acked = 1;
            break;
        }
        case AMQP_BASIC_NACK_METHOD: {
            const amqp_basic_nack_t *a = f.payload.method.decoded;
            count(&o->st_nacked, 1);
            log_warn("amqp: the broker refused delivery tag %" PRIu64
                     "%s (basic.nack); publishing again from seq %" PRIu64,
                     (uint64_t)a->delivery_tag, a->multiple ? " and those before" : "",
                     o->win.confirmed + 1);
            return -1;
        }
        case AMQP_BASIC_RETURN_METHOD:
            count(&o->st_returned, 1);
            break;
        case AMQP_CHANNEL_CLOSE_METHOD: {
            const amqp_channel_close_t *m = f.payload.method.decoded;
            log_warn("amqp: the broker closed the channel: %u %.*s", m->reply_code,
                     (int)m->reply_text.len, (const char *)m->reply_text.bytes);
            return -1;
        }
        case AMQP_CONNECTION_CLOSE_METHOD: {
            const amqp_connection_close_t *m = f.payload.method.decoded;
            log_warn("amqp: the broker closed the connection: %u %.*s", m->reply_code,
                     (int)m->reply_text.len, (const char *)m->reply_text.bytes);
            amqp_connection_close_ok_t ok = {0};
            amqp_send_method(o->conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
            return -1;
        }
        default:
            break;
        }
    }
    amqp_maybe_release_buffers(o->conn);
    return 0;
}

/* ---- publishing ------------------------------------------------------------- */

/* Sends the gathered publishes, all of them: the socket is librabbitmq's,
 * but whole frames from this thread never interleave with its own (a
 * heartbeat goes between two frames). Returns 0, or -1 (logged). */
static int flush_wire(amqp_out_t *o)
{
    int fd = amqp_get_sockfd(o->conn);
    size_t off = 0;
    while (off < o->wire.len) {
        ssize_t n = send(fd, o->wire.data + off, o->wire.len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            if (poll(&p, 1, RPC_TIMEOUT * 1000) > 0)
                continue;
            log_warn("amqp: %s takes no data for %d s; reconnecting", o->redacted, RPC_TIMEOUT);
            return -1;
        }
        log_warn("amqp: publishing to %s failed: %s", o->redacted,
                 n < 0 ? strerror(errno) : "connection closed");
        return -1;
    }
    buf_reset(&o->wire);
    return 0;
}

static int publish(amqp_out_t *o, const pack_msg_t *m)
{
    char id[NODE_ID_LEN + 48];
    size_t idn = pack_msg_id(m, o->node, id, sizeof id);
    amqp_table_entry_t h[3] = {
        {.key = amqp_cstring_bytes("seq"),
         .value = {.kind = AMQP_FIELD_KIND_I64, .value.i64 = (int64_t)m->first}},
        {.key = amqp_cstring_bytes("last_seq"),
         .value = {.kind = AMQP_FIELD_KIND_I64, .value.i64 = (int64_t)m->last}},
        {.key = amqp_cstring_bytes("records"),
         .value = {.kind = AMQP_FIELD_KIND_I64, .value.i64 = (int64_t)m->count}},
    };
    amqp_basic_properties_t p = {
        ._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
                  AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_TIMESTAMP_FLAG |
                  AMQP_BASIC_APP_ID_FLAG,
        .content_type =
            amqp_cstring_bytes(o->batch > 1 ? "application/x-ndjson" : "application/json"),
        .delivery_mode = AMQP_DELIVERY_PERSISTENT,
        .message_id = {idn, id},
        .headers = {.num_entries = o->batch > 1 ? 3 : 1, .entries = h},
        .timestamp = (uint64_t)(m->first_ts > 0 ? m->first_ts / NS_PER_SEC : 0),
        .app_id = amqp_cstring_bytes("logshipd"),
    };
    amqp_bytes_t x = amqp_cstring_bytes(o->exchange);
    amqp_bytes_t key = {m->topic_len, (void *)m->topic};
    amqp_bytes_t body = {m->body.len, m->body.data};
    if (!o->url.tls) {
        /* gathered, and sent by flush_wire() in one call for many */
        if (wire_publish(&o->wire, CHANNEL, x, key, 1, &p, body,
                         (size_t)amqp_get_frame_max(o->conn))) {
            log_warn("amqp: a message for %s can not be encoded (topic %.*s)", o->redacted,
                     (int)m->topic_len, m->topic);
            return -1;
        }
    } else {
        int rc = amqp_basic_publish(o->conn, CHANNEL, x, key, 1, 0, &p, body);
        if (rc != AMQP_STATUS_OK) {
            log_warn("amqp: publishing to %s failed: %s", o->redacted, amqp_error_string2(rc));
            return -1;
        }
    }
    confirm_push(&o->win, m->first);
    count(&o->st_messages, 1);
    count(&o->st_records, m->count);
    return o->wire.len >= WIRE_FLUSH ? flush_wire(o) : 0;
}

/* Publishes the messages the pack has ready, oldest first. */
static int publish_ready(amqp_out_t *o)
{
    pack_msg_t *m;
    while ((m = pack_next(&o->pack))) {
        if (publish(o, m))
            return -1;
        pack_pop(&o->pack);
    }
    return 0;
}

/* store_scan's callback (on the output's thread): one stored record. */
static int on_record(void *arg, const record_t *r)
{
    amqp_out_t *o = arg;
    if (!topic_match_any(o->pats, o->pat_texts, o->npats, r->topic.p, r->topic.n)) {
        o->scan_last = r->seq;
        count(&o->st_skipped, 1);
        return ++o->scan_taken >= CHUNK_RECORDS;
    }
    if (pack_needs_new(&o->pack, r->topic)) {
        /* every open message needs a slot in the window when it goes */
        if (confirm_room(&o->win) < pack_open(&o->pack) + 1) {
            o->scan_full = 1;
            return 1; /* not taken: the next chunk starts with it */
        }
        pack_make_room(&o->pack, r->topic);
        if (publish_ready(o)) {
            o->scan_err = 1;
            return 1;
        }
    }
    int rc = pack_add(&o->pack, r);
    CHECK(rc == 0, "pack.h: a record is added only once its message has a slot");
    (void)rc;
    o->scan_last = r->seq;
    if (publish_ready(o)) {
        o->scan_err = 1;
        return 1;
    }
    return ++o->scan_taken >= CHUNK_RECORDS || stopping(o);
}

/* Reads and publishes one chunk of records after the cursor. *more is set
 * when it stopped with records left and room in the window. Returns 0, or
 * -1 when the session must end. */
static int publish_chunk(amqp_out_t *o, int *more)
{
    uint64_t from = o->win.published;
    uint64_t first = store_first_seq(o->store);
    if (first > from + 1 && from >= o->warned_gap) {
        log_warn("amqp: records %" PRIu64 "..%" PRIu64
                 " were removed by retention before they were published",
                 from + 1, first - 1);
        o->warned_gap = first;
    }
    filter_t f;
    filter_init(&f);
    f.after = from;
    o->scan_last = from;
    o->scan_taken = 0;
    o->scan_err = o->scan_full = 0;
    int rc = store_scan(o->store, &f, 0, on_record, o);
    if (!o->scan_err) {
        /* the chunk ends: what is open goes now, so published can move */
        pack_flush(&o->pack);
        if (publish_ready(o) || flush_wire(o))
            o->scan_err = 1;
    }
    if (o->scan_err)
        return -1;
    if (rc) {
        log_error("amqp: reading the store after seq %" PRIu64 ": %s", from, strerror(-rc));
        return -1;
    }
    if (o->scan_last > o->win.published)
        confirm_scanned(&o->win, o->scan_last);
    *more = !o->scan_full && o->scan_taken >= CHUNK_RECORDS;
    return 0;
}

/* ---- a session -------------------------------------------------------------- */

/* Waits for the eventfd, the socket, the heartbeat or the persist time.
 * Returns 0, or -1 when the broker has been silent too long. */
static int wait_io(amqp_out_t *o)
{
    if (amqp_frames_enqueued(o->conn) || amqp_data_in_buffer(o->conn))
        return 0;
    int64_t now = time_mono_ns();
    /* librabbitmq sends our heartbeat from read_frames(): wake often
     * enough that the broker never misses one */
    int64_t wake_at = now + AMQP_OUT_HEARTBEAT_S * NS_PER_SEC / 3;
    if (o->persist_due && o->persist_due < wake_at)
        wake_at = o->persist_due;
    int ms = wake_at > now ? (int)((wake_at - now + NS_PER_MS - 1) / NS_PER_MS) : 0;
    struct pollfd p[2] = {{.fd = o->wake_fd, .events = POLLIN},
                          {.fd = amqp_get_sockfd(o->conn), .events = POLLIN}};
    int n = poll(p, 2, ms);
    now = time_mono_ns();
    if (n > 0 && p[0].revents)
        drain_wake(o);
    if (n > 0 && p[1].revents)
        o->last_rx = now;
    if (now - o->last_rx > 3 * AMQP_OUT_HEARTBEAT_S * NS_PER_SEC) {
        log_warn("amqp: nothing from %s for %d s (heartbeats missed); reconnecting", o->redacted,
                 3 * AMQP_OUT_HEARTBEAT_S);
        return -1;
    }
    return 0;
}

/* At stop: a last chance for the confirms of what is in flight. */
static void drain(amqp_out_t *o)
{
    int64_t deadline = time_mono_ns() + DRAIN_NS;
    while (confirm_inflight(&o->win) && time_mono_ns() < deadline) {
        if (read_frames(o))
            return;
        struct pollfd p = {.fd = amqp_get_sockfd(o->conn), .events = POLLIN};
        if (!amqp_frames_enqueued(o->conn) && !amqp_data_in_buffer(o->conn))
            poll(&p, 1, 50);
    }
}

/* Publishes until an error or a stop. Returns 1 for a stop (drained), 0
 * for an error. */
static int session(amqp_out_t *o)
{
    confirm_reset(&o->win);
    pack_reset(&o->pack);
    buf_reset(&o->wire);
    o->last_rx = time_mono_ns();
    o->session_acked = 0;
    for (;;) {
        if (stopping(o)) {
            drain(o);
            return 1;
        }
        if (read_frames(o))
            return 0;
        int more = 0;
        if (confirm_room(&o->win) && store_last_seq(o->store) > o->win.published &&
            publish_chunk(o, &more))
            return 0;
        persist(o, 0);
        if (!more && wait_io(o))
            return 0;
    }
}

static void run(void *arg)
{
    amqp_out_t *o = arg;
    int64_t backoff = BACKOFF_MIN_NS;
    int failing = 0;
    char why[8192];
    while (!stopping(o)) {
        set_state(o, AMQP_OUT_CONNECTING);
        if (connect_broker(o, why, sizeof why)) {
            count(&o->st_connect_failures, 1);
            set_state(o, AMQP_OUT_DOWN);
            if (!failing)
                log_warn("amqp: cannot connect to %s: %s; retrying with backoff up to %d s "
                         "(records wait in the store)",
                         o->redacted, why, (int)(BACKOFF_MAX_NS / NS_PER_SEC));
            else
                log_debug("amqp: cannot connect to %s: %s", o->redacted, why);
            failing++;
        } else {
            count(&o->st_connects, 1);
            set_state(o, AMQP_OUT_UP);
            log_info("amqp: connected to %s%s; publishing to exchange '%s' after seq %" PRIu64,
                     o->redacted, failing ? " again" : "", o->exchange, o->win.confirmed);
            failing = 0;
            int64_t began = time_mono_ns();
            int stopped = session(o);
            persist(o, 1);
            disconnect(o, stopped);
            set_state(o, AMQP_OUT_DOWN);
            if (stopped)
                break;
            count(&o->st_disconnects, 1);
            if (o->session_acked || time_mono_ns() - began >= STABLE_NS)
                backoff = BACKOFF_MIN_NS;
            failing = 1;
        }
        sleep_until(o, time_mono_ns() + backoff);
        backoff = backoff * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : backoff * 2;
    }
    persist(o, 1);
    uv_mutex_lock(&o->mu);
    o->exited = 1;
    uv_cond_signal(&o->cond);
    uv_mutex_unlock(&o->mu);
}

/* ---- start and stop ------------------------------------------------------------ */

static void out_free(amqp_out_t *o)
{
    if (o->wake_fd >= 0)
        close(o->wake_fd);
    confirm_free(&o->win);
    pack_free(&o->pack);
    buf_free(&o->wire);
    uv_mutex_destroy(&o->mu);
    uv_cond_destroy(&o->cond);
    free(o);
}

amqp_out_t *amqp_out_start(store_t *s, const amqp_out_opts_t *opts, char *err, size_t errcap)
{
    if (amqp_out_check(opts, err, errcap))
        return NULL;
    amqp_out_t *o = xcalloc(1, sizeof *o);
    const char *why;
    o->store = s;
    o->wake_fd = -1;
    o->sock_fd = -1;
    uv_mutex_init(&o->mu);
    uv_cond_init(&o->cond);
    amqp_url_parse(opts->url, strlen(opts->url), &o->url, &why);
    amqp_url_redacted(&o->url, o->redacted, sizeof o->redacted);
    snprintf(o->exchange, sizeof o->exchange, "%s", opts->exchange);
    snprintf(o->ca, sizeof o->ca, "%s", opts->ca_file ? opts->ca_file : "");
    snprintf(o->dir, sizeof o->dir, "%s", opts->data_dir);
    o->npats = opts->ntopics ? opts->ntopics : 1;
    for (size_t i = 0; i < o->npats; i++) {
        snprintf(o->texts[i], sizeof o->texts[i], "%s", opts->ntopics ? opts->topics[i] : "#");
        o->pat_texts[i] = slice_cstr(o->texts[i]);
        topic_compile(&o->pats[i], o->pat_texts[i].p, o->pat_texts[i].n, &why);
    }
    o->batch = opts->batch;
    o->inflight = opts->inflight;
    pack_init(&o->pack, o->batch);

    uint64_t confirmed;
    if (outstate_load(o->dir, o->node, &confirmed, err, errcap))
        goto fail;
    uint64_t last = store_last_seq(s);
    if (confirmed > last) {
        /* the store lost its newest records (a machine crash with --fsync
         * interval or never: new ones are numbered past them anyway), or
         * it was emptied: publish what it has from there */
        log_warn("amqp: %s/amqp-out.confirmed says %" PRIu64 " but the store ends at %" PRIu64
                 "; publishing after %" PRIu64,
                 o->dir, confirmed, last, last);
        confirmed = last;
    }
    confirm_init(&o->win, o->inflight, confirmed);
    o->persisted = confirmed;
    atomic_store(&o->st_confirmed, confirmed);
    o->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (o->wake_fd < 0) {
        snprintf(err, errcap, "amqp: eventfd: %s", strerror(errno));
        goto fail;
    }
    store_on_commit(s, on_commit, o);
    if (uv_thread_create(&o->thread, run, o)) {
        store_off_commit(s, on_commit, o);
        snprintf(err, errcap, "amqp: cannot start the publisher thread");
        goto fail;
    }
    char pats[AMQP_OUT_TOPICS_MAX * (TOPIC_PATTERN_MAX_BYTES + 2)] = "";
    for (size_t i = 0; i < o->npats; i++) {
        size_t n = strlen(pats);
        snprintf(pats + n, sizeof pats - n, "%s%s", i ? " " : "", o->texts[i]);
    }
    log_info("amqp: output to %s, exchange '%s', topics %s, %zu record(s) per message, "
             "%zu in flight; node id %s, confirmed up to seq %" PRIu64,
             o->redacted, o->exchange, pats, o->batch, o->inflight, o->node, confirmed);
    return o;
fail:
    out_free(o);
    return NULL;
}

void amqp_out_stop(amqp_out_t *o)
{
    if (!o)
        return;
    store_off_commit(o->store, on_commit, o);
    atomic_store(&o->stop, 1);
    wake(o);
    /* the thread drains for up to DRAIN_NS; when the broker hangs a write
     * or a handshake longer, cut its socket so that it returns at once (a
     * TCP connect in progress has no socket yet: it ends within
     * CONNECT_TIMEOUT and the thread sees the stop) */
    uv_mutex_lock(&o->mu);
    uint64_t deadline = uv_hrtime() + (uint64_t)STOP_WAIT_NS;
    int cut = 0;
    while (!o->exited) {
        uint64_t now = uv_hrtime();
        if (now >= deadline && !cut && o->sock_fd >= 0) {
            log_warn("amqp: the broker does not answer; closing the connection");
            shutdown(o->sock_fd, SHUT_RDWR);
            cut = 1;
        }
        uv_cond_timedwait(&o->cond, &o->mu, now >= deadline ? 50 * NS_PER_MS : deadline - now);
    }
    uv_mutex_unlock(&o->mu);
    uv_thread_join(&o->thread);
    amqp_out_stats_t st;
    amqp_out_get_stats(o, &st);
    log_info("amqp: stopped; confirmed up to seq %" PRIu64 " (%" PRIu64 " record(s) behind)",
             st.confirmed_seq, st.lag);
    out_free(o);
}

void amqp_out_get_stats(amqp_out_t *o, amqp_out_stats_t *st)
{
    memset(st, 0, sizeof *st);
    st->state = atomic_load(&o->st_state);
    st->connects = atomic_load(&o->st_connects);
    st->connect_failures = atomic_load(&o->st_connect_failures);
    st->disconnects = atomic_load(&o->st_disconnects);
    st->messages = atomic_load(&o->st_messages);
    st->records = atomic_load(&o->st_records);
    st->acked = atomic_load(&o->st_acked);
    st->nacked = atomic_load(&o->st_nacked);
    st->returned = atomic_load(&o->st_returned);
    st->skipped = atomic_load(&o->st_skipped);
    st->confirmed_seq = atomic_load(&o->st_confirmed);
    uint64_t last = store_last_seq(o->store);
    st->lag = last > st->confirmed_seq ? last - st->confirmed_seq : 0;
}

const char *amqp_out_node_id(const amqp_out_t *o)
{
    return o->node;
}
