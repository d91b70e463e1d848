/* test_stream.c - backpressure of the stream inputs (src/ingest/stream.c):
 * a real listener on 127.0.0.1, real sockets, a real store whose writer a
 * store_io_t hook can hold or fail, and a small line protocol of the
 * test's own so the connection's state (reading, held, unconfirmed) can be
 * looked at.
 *
 * What must hold (stream.h): while the store is behind, every connection
 * stops reading (the peer's writes block in the kernel) and reading resumes
 * once the store catches up; a connection alone stops at
 * STREAM_UNCONFIRMED bytes not yet durable; when the store's writes fail the
 * records are held and appended again once it works; nothing read is lost
 * or stored twice, and one connection's records keep their order. The last
 * cases run the raw TCP protocol (src/ingest/tcp/tcp_conn.c) on the same
 * layer: its --max-batch-bytes reaches the session through stream_opts_t,
 * and an acknowledged batch the store is too far behind for is nacked, in
 * order after the acks before it. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "ingest/stream.h"
#include "ingest/tcp/tcp_conn.h"
#include "store/store.h"

#define WAIT_NS (30LL * 1000000000) /* a wait that takes longer has failed */

/* ---- the store's writes: held or failed on demand (writer thread) ----------- */

static struct {
    _Atomic int hold;      /* segment writes wait while set */
    _Atomic int write_err; /* errno for segment writes (0: none) */
    _Atomic unsigned long held_writes;
} F;

/* Segment files and the FAILED state's probe: a fault hits both, so the
 * store stays FAILED until the test clears it. */
static int is_segment(int fd)
{
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 0)
        return 0;
    path[n] = '\0';
    return strstr(path, "/segments/") != NULL || strstr(path, "/.probe") != NULL;
}

static ssize_t f_pwrite(int fd, const void *p, size_t n, off_t off)
{
    if (is_segment(fd)) {
        if (atomic_load(&F.hold))
            atomic_fetch_add(&F.held_writes, 1);
        while (atomic_load(&F.hold))
            nanosleep(&(struct timespec){0, 1000 * 1000}, NULL);
        int err = atomic_load(&F.write_err);
        if (err) {
            errno = err;
            return -1;
        }
    }
    return pwrite(fd, p, n, off);
}

static const store_io_t io = {f_pwrite, fdatasync};

/* ---- the test's line protocol ----------------------------------------------- */

#define MAX_CONNS 4

typedef struct line_state {
    buf_t partial; /* a line cut across reads */
    batch_t out;
} line_state_t;

static ingest_stats_t stats;
static stream_conn_t *conns[MAX_CONNS];
static size_t nconns, lines_in[MAX_CONNS], data_calls;
static size_t max_batch_seen;

static int conn_index(const stream_conn_t *c)
{
    for (size_t i = 0; i < nconns; i++)
        if (conns[i] == c)
            return (int)i;
    fail_msg("unknown connection");
    return -1;
}

static void p_open(stream_conn_t *c)
{
    assert_true(nconns < MAX_CONNS);
    conns[nconns++] = c;
    max_batch_seen = stream_opts_of(c)->max_batch_bytes;
}

static void add_line(stream_conn_t *c, batch_t *b, const char *p, size_t n)
{
    record_t r = {0};
    r.ts = time_now_ns();
    r.level = 6;
    r.topic = SLICE_LIT("stream.info");
    r.app = SLICE_LIT("test");
    r.msg = slice_make(p, n);
    batch_add(b, &r);
    lines_in[conn_index(c)]++;
}

static int p_data(stream_conn_t *c, const char *p, size_t n)
{
    line_state_t *st = c->state;
    data_calls++;
    batch_reset(&st->out);
    while (n) {
        const char *nl = memchr(p, '\n', n);
        if (!nl) {
            buf_append(&st->partial, p, n);
            break;
        }
        size_t len = (size_t)(nl - p);
        if (st->partial.len) {
            buf_append(&st->partial, p, len);
            add_line(c, &st->out, st->partial.data, st->partial.len);
            buf_reset(&st->partial);
        } else {
            add_line(c, &st->out, p, len);
        }
        p += len + 1;
        n -= len + 1;
    }
    stream_append(c, &st->out); /* one append per read, as the real inputs do */
    return 0;
}

static void p_eof(stream_conn_t *c)
{
    line_state_t *st = c->state;
    batch_reset(&st->out);
    if (st->partial.len)
        add_line(c, &st->out, st->partial.data, st->partial.len);
    buf_reset(&st->partial);
    stream_append(c, &st->out);
}

static void p_close(stream_conn_t *c)
{
    line_state_t *st = c->state;
    buf_free(&st->partial);
    batch_free(&st->out);
    conns[conn_index(c)] = NULL;
}

static const stream_proto_t line_proto = {
    "test-lines", &stats, sizeof(line_state_t), p_open, p_data, p_eof, p_close, NULL,
};

/* ---- the fixture: a loop, a store, a listener --------------------------------- */

static struct {
    uv_loop_t loop;
    uv_timer_t tick; /* wakes the loop every millisecond: bounded waits */
    char dir[256];
    store_t *s;
    stream_listener_t *l;
    int port;
} fx;

static void on_tick(uv_timer_t *t)
{
    (void)t;
}

static void open_all(size_t max_pending, int acked_tcp, size_t max_batch_bytes)
{
    memset(&stats, 0, sizeof stats);
    memset(conns, 0, sizeof conns);
    memset(lines_in, 0, sizeof lines_in);
    nconns = data_calls = max_batch_seen = 0;
    atomic_store(&F.hold, 0);
    atomic_store(&F.write_err, 0);
    atomic_store(&F.held_writes, 0);
    log_threshold = LOG_ERROR - 1; /* failed writes are expected: keep them quiet */
    uv_loop_init(&fx.loop);
    uv_timer_init(&fx.loop, &fx.tick);
    uv_timer_start(&fx.tick, on_tick, 1, 1);
    snprintf(fx.dir, sizeof fx.dir, "/tmp/logship-test-stream.XXXXXX");
    assert_non_null(mkdtemp(fx.dir));
    store_opts_t o = {
        .dir = fx.dir,
        .segment_size = 64u << 20,
        .fsync = FSYNC_NEVER,
        .memory_records = 1000,
        .memory_bytes = 1u << 20,
        .max_pending = max_pending,
        .io = &io,
    };
    char err[256] = "";
    fx.s = store_open(&fx.loop, &o, err, sizeof err);
    if (!fx.s)
        fail_msg("store_open: %s", err);
    stream_opts_t so = {.addr = "127.0.0.1:0", .max_connections = 16};
    if (acked_tcp) {
        fx.l = tcp_listen(&fx.loop, fx.s, &so, 4096, max_batch_bytes, &fx.port);
    } else {
        so.max_batch_bytes = max_batch_bytes;
        fx.l = stream_listen(&fx.loop, fx.s, &line_proto, &so, &fx.port);
    }
    assert_non_null(fx.l);
    assert_true(fx.port > 0);
}

static void close_all(void)
{
    atomic_store(&F.hold, 0);
    atomic_store(&F.write_err, 0);
    stream_close(fx.l);
    store_close(fx.s);
    uv_close((uv_handle_t *)&fx.tick, NULL);
    uv_run(&fx.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&fx.loop), 0);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", fx.dir);
    assert_int_equal(system(cmd), 0);
}

static int teardown(void **state)
{
    close_all();
    return 0;
}

static void turn(void)
{
    uv_run(&fx.loop, UV_RUN_ONCE);
}

/* Runs the loop until cond(arg) holds; fails after WAIT_NS. */
static void wait_for(int (*cond)(void *), void *arg, const char *what)
{
    int64_t end = time_mono_ns() + WAIT_NS;
    while (!cond(arg)) {
        if (time_mono_ns() > end)
            fail_msg("timed out waiting for %s", what);
        turn();
    }
}

/* A client socket, non-blocking, with a small send buffer so that a peer
 * that stops reading blocks it soon. */
static int client(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    int small = 16 * 1024;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)fx.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    size_t before = nconns;
    int64_t end = time_mono_ns() + WAIT_NS;
    while (nconns == before) { /* accepted */
        if (time_mono_ns() > end)
            fail_msg("connection not accepted");
        turn();
    }
    return fd;
}

/* A sender of numbered lines "<tag> <i>" that keeps its place when the
 * socket would block. */
typedef struct sender {
    int fd;
    char tag;
    size_t next, total; /* lines */
    char pending[64];
    size_t off, len; /* what of pending is still to send */
} sender_t;

/* Sends until the socket would block or every line is out. Returns the
 * bytes sent. */
static size_t pump(sender_t *s)
{
    size_t sent = 0;
    for (;;) {
        if (s->off == s->len) {
            if (s->next == s->total)
                return sent;
            s->len = (size_t)snprintf(s->pending, sizeof s->pending, "%c %06zu\n", s->tag, s->next);
            s->off = 0;
            s->next++;
        }
        ssize_t n = send(s->fd, s->pending + s->off, s->len - s->off, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return sent;
        assert_true(n > 0);
        s->off += (size_t)n;
        sent += (size_t)n;
    }
}

static int all_out(const sender_t *s)
{
    return s->next == s->total && s->off == s->len;
}

static size_t unconf_bytes(const stream_conn_t *c)
{
    return c->unconf.frames.len - c->unconf_off;
}

/* ---- what the store holds ----------------------------------------------------- */

typedef struct seen {
    size_t n[MAX_CONNS];
    size_t total;
    int out_of_order;
    char first_bad[64];
} seen_t;

/* Every line of the sender with tag 'A' + i must come once, in order. */
static int check_one(void *arg, const record_t *r)
{
    seen_t *s = arg;
    char tag;
    size_t i;
    char msg[64];
    snprintf(msg, sizeof msg, "%.*s", (int)r->msg.n, r->msg.p);
    if (sscanf(msg, "%c %zu", &tag, &i) != 2 || tag < 'A' || tag >= 'A' + MAX_CONNS) {
        snprintf(s->first_bad, sizeof s->first_bad, "%s", msg);
        s->out_of_order = 1;
        return 1;
    }
    size_t k = (size_t)(tag - 'A');
    if (i != s->n[k] && !s->out_of_order) {
        snprintf(s->first_bad, sizeof s->first_bad, "%s (expected %c %zu)", msg, tag, s->n[k]);
        s->out_of_order = 1;
    }
    s->n[k]++;
    s->total++;
    return 0;
}

static seen_t stored(void)
{
    seen_t s;
    filter_t f;
    memset(&s, 0, sizeof s);
    filter_init(&f);
    assert_int_equal(store_scan(fx.s, &f, 0, check_one, &s), 0);
    if (s.out_of_order)
        fail_msg("a record lost, repeated or out of order: %s", s.first_bad);
    return s;
}

static int durable_at_least(void *arg)
{
    return stats.records >= *(size_t *)arg;
}

/* Sends every line of the senders and half-closes them; waits until the
 * listener counted them durable. */
static void finish(sender_t *ss, size_t n)
{
    size_t want = 0;
    for (size_t i = 0; i < n; i++)
        want += ss[i].total;
    int64_t end = time_mono_ns() + WAIT_NS;
    for (;;) {
        int out = 1;
        for (size_t i = 0; i < n; i++) {
            pump(&ss[i]);
            out &= all_out(&ss[i]);
        }
        if (out)
            break;
        if (time_mono_ns() > end)
            fail_msg("could not send everything");
        turn();
    }
    for (size_t i = 0; i < n; i++)
        shutdown(ss[i].fd, SHUT_WR);
    wait_for(durable_at_least, &want, "every record durable");
    assert_int_equal(stats.records, want);
    assert_int_equal(stats.dropped, 0);
}

/* ---- the store behind: everyone pauses, then resumes -------------------------- */

static void test_behind_pauses_and_resumes(void **state)
{
    open_all(256u << 10, 0, 12345); /* backlogged past 128 KiB queued */
    sender_t a = {.fd = client(), .tag = 'A', .total = 400000};
    assert_int_equal(max_batch_seen, 12345); /* the protocol sees its limit */
    sender_t b = {.fd = client(), .tag = 'B', .total = 5000};
    stream_conn_t *ca = conns[0], *cb = conns[1];
    assert_true(ca->reading && cb->reading);

    /* the writer is stuck: A's records pile up until the store is behind */
    atomic_store(&F.hold, 1);
    int64_t end = time_mono_ns() + WAIT_NS;
    while (ca->reading) {
        if (time_mono_ns() > end)
            fail_msg("the store never fell behind (%zu lines in)", lines_in[0]);
        pump(&a);
        assert_false(all_out(&a)); /* paused long before 400,000 lines */
        turn();
    }
    /* nobody reads A now: its socket buffers fill and its sends block */
    while (pump(&a) > 0) {
        if (time_mono_ns() > end)
            fail_msg("A's sends never blocked");
        assert_false(all_out(&a));
        turn();
    }
    assert_true(store_backlogged(fx.s));
    /* every connection stopped, also B, which sent nothing yet */
    assert_false(cb->reading);
    assert_int_equal(ca->held.count, 0); /* appended, only not durable */
    assert_true(unconf_bytes(ca) < STREAM_UNCONFIRMED);

    /* nothing more is read while paused, whatever the peers send */
    size_t calls = data_calls, in_a = lines_in[0];
    for (int i = 0; i < 50; i++) {
        pump(&a);
        pump(&b);
        turn();
    }
    assert_int_equal(data_calls, calls);
    assert_int_equal(lines_in[0], in_a);
    assert_int_equal(lines_in[1], 0);
    assert_false(all_out(&a));
    assert_true(atomic_load(&F.held_writes) >= 1);

    /* the writer catches up: both read again, everything arrives once */
    atomic_store(&F.hold, 0);
    finish((sender_t[]){a, b}, 2);
    assert_false(store_backlogged(fx.s));
    seen_t s = stored();
    assert_int_equal(s.n[0], 400000);
    assert_int_equal(s.n[1], 5000);
    assert_int_equal(store_last_seq(fx.s), 405000);
    close(a.fd);
    close(b.fd);
}

/* A connection alone stops at STREAM_UNCONFIRMED bytes not yet durable,
 * while the store is not behind as a whole. */
static void test_unconfirmed_cap(void **state)
{
    open_all(64u << 20, 0, 0);
    sender_t a = {.fd = client(), .tag = 'A', .total = 300000};
    sender_t b = {.fd = client(), .tag = 'B', .total = 10};
    stream_conn_t *ca = conns[0], *cb = conns[1];
    atomic_store(&F.hold, 1);
    int64_t end = time_mono_ns() + WAIT_NS;
    while (ca->reading) {
        if (time_mono_ns() > end)
            fail_msg("A never stopped (%zu bytes unconfirmed)", unconf_bytes(ca));
        pump(&a);
        assert_false(all_out(&a));
        turn();
    }
    assert_false(store_backlogged(fx.s));
    assert_true(unconf_bytes(ca) >= STREAM_UNCONFIRMED);
    /* it stops at the first read past the cap: at most one read's records
     * more ("A 000123\n" is 9 bytes on the wire) */
    record_t r = {0};
    r.topic = SLICE_LIT("stream.info");
    r.app = SLICE_LIT("test");
    r.msg = SLICE_LIT("A 000123");
    size_t per_read = (STREAM_READ_BUF / 9 + 1) * record_frame_size(&r);
    assert_true(unconf_bytes(ca) < STREAM_UNCONFIRMED + per_read);
    /* B goes on: its lines are read and appended */
    assert_true(cb->reading);
    while (!all_out(&b) || lines_in[1] < b.total) {
        if (time_mono_ns() > end)
            fail_msg("B's lines were not read");
        pump(&b);
        turn();
    }
    assert_false(ca->reading);
    atomic_store(&F.hold, 0);
    finish((sender_t[]){a, b}, 2);
    seen_t s = stored();
    assert_int_equal(s.n[0], 300000);
    assert_int_equal(s.n[1], 10);
    close(a.fd);
    close(b.fd);
}

/* ---- the store refusing: held, appended again once it works -------------------- */

static int store_failed(void *arg)
{
    (void)arg;
    return store_error(fx.s) != 0;
}

static int all_answered_and_held(void *arg)
{
    stream_conn_t *c = arg;
    return !c->inf_head && c->held.count > 0;
}

static int store_ok(void *arg)
{
    (void)arg;
    return store_error(fx.s) == 0;
}

static void test_failed_writes_are_held_and_retried(void **state)
{
    open_all(64u << 20, 0, 0);
    sender_t a = {.fd = client(), .tag = 'A', .total = 1000};
    stream_conn_t *ca = conns[0];
    /* some records stored before the fault */
    int64_t end = time_mono_ns() + WAIT_NS;
    while (!all_out(&a)) {
        if (time_mono_ns() > end)
            fail_msg("could not send");
        pump(&a);
        turn();
    }
    size_t want = 1000;
    wait_for(durable_at_least, &want, "the first 1000 records");
    a.total = 20000;

    atomic_store(&F.write_err, EIO);
    pump(&a);
    wait_for(store_failed, NULL, "the store to fail");
    wait_for(all_answered_and_held, ca, "the failed appends to be held");
    assert_false(ca->reading);
    assert_int_equal(unconf_bytes(ca), 0); /* moved in front of what is held */
    size_t held = ca->held.count;
    assert_int_equal(stats.records, 1000); /* only the durable ones count */

    /* while the store refuses, nothing more is read */
    for (int i = 0; i < 50; i++) {
        pump(&a);
        turn();
    }
    assert_false(ca->reading);
    assert_int_equal(ca->held.count, held);
    assert_true(store_error(fx.s) < 0);

    /* the disk works again: the probe passes, the held records go first */
    atomic_store(&F.write_err, 0);
    wait_for(store_ok, NULL, "the store to recover");
    finish(&a, 1);
    seen_t s = stored();
    assert_int_equal(s.n[0], 20000); /* in order, once each: none lost */
    /* the failed writes left a gap in the seqs, never a reuse */
    assert_true(store_last_seq(fx.s) > 20000);
    close(a.fd);
}

/* ---- the raw TCP protocol on this layer ------------------------------------------ */

static int fd_reply;
static char replies[4096];
static size_t nreplies;
static int reply_eof;

static int read_replies(void *arg)
{
    (void)arg;
    for (;;) {
        ssize_t n = recv(fd_reply, replies + nreplies, sizeof replies - 1 - nreplies, 0);
        if (n > 0) {
            nreplies += (size_t)n;
            replies[nreplies] = '\0';
            continue;
        }
        if (n == 0)
            reply_eof = 1;
        return reply_eof;
    }
}

static void send_all(int fd, const char *p)
{
    size_t n = strlen(p);
    int64_t end = time_mono_ns() + WAIT_NS;
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EAGAIN) {
            if (time_mono_ns() > end)
                fail_msg("could not send");
            turn();
            continue;
        }
        assert_true(w > 0);
        p += w;
        n -= (size_t)w;
    }
}

static int tcp_client(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)fx.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    nreplies = 0;
    reply_eof = 0;
    replies[0] = '\0';
    fd_reply = fd;
    return fd;
}

static int count_msgs(void *arg, const record_t *r)
{
    buf_t *b = arg;
    buf_append(b, r->msg.p, r->msg.n);
    buf_putc(b, '|');
    return 0;
}

static const char *stored_msgs(buf_t *b)
{
    filter_t f;
    filter_init(&f);
    buf_reset(b);
    assert_int_equal(store_scan(fx.s, &f, 0, count_msgs, b), 0);
    buf_putc(b, '\0');
    return b->data;
}

/* --max-batch-bytes (stream_opts_t.max_batch_bytes) caps one acknowledged
 * batch: one of exactly that many bytes is stored, one byte more is refused
 * with the error after the acks before it, and nothing of it is stored. */
static void test_tcp_max_batch_bytes(void **state)
{
    open_all(64u << 20, 1, 40);
    int fd = tcp_client();
    char req[512];
    /* batch 2's lines: 19 + 1 and 19 + 1 bytes = 40 */
    snprintf(req, sizeof req,
             "{\"logship\":\"hello\",\"version\":1,\"producer\":\"p1\"}\n"
             "{\"logship\":\"batch\",\"batch\":1,\"count\":2}\none\ntwo\n"
             "{\"logship\":\"batch\",\"batch\":2,\"count\":2}\n%s\n%s\n"
             "{\"logship\":\"batch\",\"batch\":3,\"count\":2}\n%s\n%s\n"
             "{\"logship\":\"batch\",\"batch\":4,\"count\":1}\nfour\n",
             "exactly-nineteen-19", "exactly-nineteen-19", "exactly-nineteen-19",
             "exactly-twenty-bytes");
    send_all(fd, req);
    wait_for(read_replies, NULL, "the connection to end");
    assert_string_equal(replies,
                        "{\"logship\":\"hello\",\"version\":1,\"last_seq\":0,"
                        "\"last_batch\":0,\"producer\":\"p1\"}\n"
                        "{\"logship\":\"ack\",\"batch\":1,\"first_seq\":1,\"last_seq\":2}\n"
                        "{\"logship\":\"ack\",\"batch\":2,\"first_seq\":3,\"last_seq\":4}\n"
                        "{\"logship\":\"error\",\"error\":\"batch 3 is larger than 40 "
                        "bytes (--max-batch-bytes): send smaller batches\"}\n");
    buf_t b = BUF_INIT;
    assert_string_equal(stored_msgs(&b),
                        "one|two|exactly-nineteen-19|exactly-nineteen-19|"); /* not batch 3 or 4 */
    buf_free(&b);
    close(fd);
}

/* An acknowledged batch is appended within the store's limit: when the
 * writer is too far behind it is nacked ("resend"), after the acks of the
 * batches before it; those and the resent one are stored once. */
static void test_tcp_nack_when_behind(void **state)
{
    open_all(4096, 1, 0); /* a writer 4 KiB behind refuses */
    int fd = tcp_client();
    uint64_t bytes0 = tcp_stats()->bytes;
    atomic_store(&F.hold, 1);
    static char big[3000];
    memset(big, 'x', sizeof big - 1);
    buf_t req = BUF_INIT;
    buf_puts(&req, "{\"logship\":\"hello\",\"version\":1,\"producer\":\"p2\"}\n");
    buf_puts(&req, "{\"logship\":\"batch\",\"batch\":1,\"count\":1}\n");
    buf_puts(&req, big);
    buf_puts(&req, "\n{\"logship\":\"batch\",\"batch\":2,\"count\":1}\n");
    buf_puts(&req, big);
    buf_puts(&req, "\n");
    buf_putc(&req, '\0');
    send_all(fd, req.data);
    /* batch 1 is queued behind the held write; batch 2 does not fit */
    int64_t end = time_mono_ns() + WAIT_NS;
    while (atomic_load(&F.held_writes) == 0 || tcp_stats()->bytes - bytes0 < req.len - 1) {
        if (time_mono_ns() > end)
            fail_msg("the batches were not read");
        turn();
    }
    for (int i = 0; i < 20; i++)
        turn();
    read_replies(NULL);
    /* nothing but the hello: batch 2's nack waits for batch 1's ack */
    assert_string_equal(replies, "{\"logship\":\"hello\",\"version\":1,\"last_seq\":0,"
                                 "\"last_batch\":0,\"producer\":\"p2\"}\n");
    atomic_store(&F.hold, 0);
    const char *want = "{\"logship\":\"hello\",\"version\":1,\"last_seq\":0,"
                       "\"last_batch\":0,\"producer\":\"p2\"}\n"
                       "{\"logship\":\"ack\",\"batch\":1,\"first_seq\":1,\"last_seq\":1}\n"
                       "{\"logship\":\"nack\",\"batch\":2,\"error\":\"store is behind; resend\"}\n";
    end = time_mono_ns() + WAIT_NS;
    while (nreplies < strlen(want)) {
        if (time_mono_ns() > end)
            fail_msg("replies: %s", replies);
        turn();
        read_replies(NULL);
    }
    assert_string_equal(replies, want);
    /* the sender resends batch 2: stored once, after batch 1 */
    buf_reset(&req);
    buf_puts(&req, "{\"logship\":\"batch\",\"batch\":2,\"count\":1}\nsmall\n");
    buf_putc(&req, '\0');
    send_all(fd, req.data);
    shutdown(fd, SHUT_WR);
    wait_for(read_replies, NULL, "the connection to end");
    assert_non_null(strstr(replies, "{\"logship\":\"ack\",\"batch\":2,\"first_seq\":2,"
                                    "\"last_seq\":2}\n"));
    assert_int_equal(store_last_seq(fx.s), 2);
    buf_free(&req);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_behind_pauses_and_resumes, teardown),
        cmocka_unit_test_teardown(test_unconfirmed_cap, teardown),
        cmocka_unit_test_teardown(test_failed_writes_are_held_and_retried, teardown),
        cmocka_unit_test_teardown(test_tcp_max_batch_bytes, teardown),
        cmocka_unit_test_teardown(test_tcp_nack_when_behind, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
