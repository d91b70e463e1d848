/* sender.c - liblogship's background thread: takes records from the queue,
 * batches them, sends the batches over one connection to logshipd's
 * acknowledged TCP input, matches the acknowledgements, reconnects with
 * backoff, and spools what the server can not take yet.
 *
 * Design
 * ------
 * Batches pass through three places, always in order:
 *   building   one batch being filled from the queue; sealed when it
 *              reaches batch_bytes / batch_records or has waited linger_ms
 *   the list   sealed, unacknowledged batches in memory (at most
 *              max_inflight): sent, being sent, or waiting to be
 *   the spool  when the list is full and the queue is half full (or the
 *              server is down, or the logger closes), sealed batches go to
 *              disk; while the spool holds batches, new ones go there too,
 *              and the list refills from it
 * While the server is unreachable (and there is no spool) records stay in
 * the queue: queue_bytes is what an outage can buffer, and the overflow
 * policy applies when it is full.
 * The producers never wake this thread (that would be a system call in the
 * log call): it polls the queue every linger_ms (every 50 ms after a second
 * of silence). Flush, close and blocked producers wake it through wake_fd.
 *
 * The connection: DOWN -> CONNECTING -> (TLS ->) HELLO -> UP, and back to
 * DOWN on any error, with exponential backoff and full jitter (a random
 * delay in [d/2, d], d doubling from backoff_min_ms to backoff_max_ms).
 * After the hello every unacknowledged batch of the list is sent again, in
 * order. With tls:// the TLS state runs the handshake (tls_client.h),
 * stepped on whatever OpenSSL waits for, within connect_timeout_ms; a
 * certificate that does not verify fails the attempt like a refused
 * connection, with the reason. Every byte moves through sock_read() and
 * sock_write(), plain or TLS.
 * An attempt goes through the addresses the host name resolves to, one
 * after the other without a pause, until one connects ("localhost" may be
 * ::1 and 127.0.0.1 and the server on one of them); only when all of them
 * failed is the attempt over and the backoff taken. How each attempt ended
 * (hello answered, or why not: "cannot connect to 127.0.0.1:5170:
 * Connection refused") is published under mu for logship_connect_status().
 *
 * Invariants
 *  1. A batch gets its number when it is first written to a connection,
 *     from its producer's next_no, so numbers grow in send order; a resent
 *     batch keeps its number (the server answers "duplicate" when it has
 *     it), except after a nack or a "superseded" answer, which both mean
 *     "not stored": then it is numbered again when resent.
 *  2. Replies come in order: each one answers `await`, the oldest batch
 *     written and not answered on this connection. A reply that does not
 *     match ends the connection.
 *  3. At most max_inflight (< 16, the server's memory of recent batches per
 *     producer) batches are unanswered, so every resent batch that was
 *     stored is still recognised as a duplicate. After a nack, no new batch
 *     is started until every written one is answered; then the refused ones
 *     go again, one at a time until one is acknowledged.
 *  4. A batch of another producer (a spool file of an earlier process) is
 *     sent on a connection opened with that producer's hello, after every
 *     batch of the previous producer was answered.
 *  5. done_pos: every queue position below it is acknowledged or dropped;
 *     it is the least ring_start of the own batches still unacknowledged
 *     (building, list, spool) and the queue's tail.
 *  6. smu is held whenever this thread touches its state or allocates, and
 *     released only around poll() and writes to stderr, so fork's prepare
 *     handler can take it and the child finds the state consistent and no
 *     lock of this thread's (its own, the allocator's, the resolver's,
 *     OpenSSL's) held.
 *  7. Once a batch's first write was tried (`begun`), the connection offers
 *     its bytes again until all are written: a TLS write that has to wait
 *     has taken them already, so neither a nack's drain nor a renumbering
 *     may take the batch back before that. Only a new connection starts
 *     afresh.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "spool.h"

enum { SS_DOWN, SS_CONNECTING, SS_TLS, SS_HELLO, SS_UP };

#define STAGE_BYTES  (256 * 1024)
#define IDLE_POLL_MS 50
#define NS_PER_MS    1000000LL

static int64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int64_t wall_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void list_append(sender_t *s, cbatch_t *b)
{
    b->next = NULL;
    b->prev = s->tail;
    if (s->tail)
        s->tail->next = b;
    else
        s->head = b;
    s->tail = b;
    s->nlist++;
    if (!s->send)
        s->send = b; /* the connection has written everything before it */
    if (!s->await)
        s->await = s->send;
}

static void list_remove(sender_t *s, cbatch_t *b)
{
    if (b->prev)
        b->prev->next = b->next;
    else
        s->head = b->next;
    if (b->next)
        b->next->prev = b->prev;
    else
        s->tail = b->prev;
    s->nlist--;
}

static uint32_t rnd(sender_t *s)
{
    uint32_t x = s->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return s->rng = x ? x : 0x9e3779b9u;
}

static void set_connected(logship_t *lg, int up)
{
    atomic_store(&lg->connected, up);
}

/* Drops the connection; the next attempt comes after the backoff, or at
 * once (producer switch, invariant 4). */
static void conn_close(logship_t *lg, int backoff)
{
    sender_t *s = &lg->s;
    tls_client_close(s->ssl);
    s->ssl = NULL;
    s->want = s->rwant = 0;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    if (s->state == SS_UP)
        set_connected(lg, 0);
    s->state = SS_DOWN;
    s->in.len = 0;
    s->soff = 0;
    s->begun = 0;
    s->inflight = 0;
    s->draining = 0;
    s->await = s->send = s->head;
    int64_t now = mono_ns();
    if (!backoff) {
        s->retry_at = now;
        return;
    }
    int d = s->backoff_ms ? s->backoff_ms : lg->backoff_min_ms;
    int delay = d / 2 + (int)(rnd(s) % (uint32_t)(d - d / 2 + 1));
    s->retry_at = now + (int64_t)delay * NS_PER_MS;
    s->backoff_ms = d * 2 > lg->backoff_max_ms ? lg->backoff_max_ms : d * 2;
}

/* strerror(), thread-safe: into buf. */
static const char *errtext(int err, char *buf, size_t cap)
{
    if (strerror_r(err, buf, cap))
        snprintf(buf, cap, "error %d", err);
    return buf;
}

/* Publishes how the latest attempt ended: up, or failed for why. */
static void publish(logship_t *lg, int up, const char *why)
{
    pthread_mutex_lock(&lg->mu);
    lg->link = up ? 1 : -1;
    if (!up)
        snprintf(lg->link_why, sizeof lg->link_why, "%s", why);
    pthread_cond_broadcast(&lg->cv);
    pthread_mutex_unlock(&lg->mu);
}

/* The connection (or the attempt) failed after a connection was made, or
 * before any address could be tried: says why and backs off. */
static void conn_failed(logship_t *lg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void conn_failed(logship_t *lg, const char *fmt, ...)
{
    sender_t *s = &lg->s;
    char why[sizeof lg->link_why];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    atomic_fetch_add(&lg->n_connect_failures, 1);
    s->round_tried = 0;
    publish(lg, 0, why);
    conn_close(lg, 1);
}

/* Connecting to the current address failed with errno err: the next
 * address at once, or, when every one was tried, the attempt failed. */
static void addr_failed(logship_t *lg, int err)
{
    sender_t *s = &lg->s;
    if (++s->round_tried < s->naddrs) {
        atomic_fetch_add(&lg->n_connect_failures, 1);
        conn_close(lg, 0);
        return;
    }
    char e[128];
    conn_failed(lg, "cannot connect to %s: %s", s->peer, errtext(err, e, sizeof e));
}

/* "127.0.0.1:5170", "[::1]:5170": numeric, no lookup. */
static void name_peer(sender_t *s, const struct addrinfo *a)
{
    char host[INET6_ADDRSTRLEN + 1], serv[8];
    if (getnameinfo(a->ai_addr, a->ai_addrlen, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV)) {
        snprintf(s->peer, sizeof s->peer, "?");
        return;
    }
    snprintf(s->peer, sizeof s->peer, a->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

/* Opens a non-blocking connection to the next address. */
static void conn_start(logship_t *lg, int64_t now)
{
    sender_t *s = &lg->s;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    /* under smu (invariant 6): a fork waits for a name lookup in progress
     * rather than leave the child with the resolver's or the allocator's
     * locks held (numeric addresses resolve at once) */
    int rc = getaddrinfo(lg->host, lg->port, &hints, &res);
    if (rc != 0 || !res) {
        conn_failed(lg, "cannot resolve '%s': %s", lg->host,
                    rc == EAI_SYSTEM ? "system error" : gai_strerror(rc));
        return;
    }
    /* try the addresses in turn, a new one on each attempt */
    unsigned n = 0;
    for (struct addrinfo *a = res; a; a = a->ai_next)
        n++;
    s->naddrs = n;
    struct addrinfo *a = res;
    for (unsigned i = 0; i < s->addr_index % n; i++)
        a = a->ai_next;
    s->addr_index++;
    name_peer(s, a);
    int fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int err = errno;
        freeaddrinfo(res);
        addr_failed(lg, err);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    rc = connect(fd, a->ai_addr, a->ai_addrlen);
    int err = errno;
    freeaddrinfo(res);
    if (rc < 0 && err != EINPROGRESS) {
        close(fd);
        addr_failed(lg, err);
        return;
    }
    s->fd = fd;
    s->state = SS_CONNECTING;
    s->deadline = now + (int64_t)lg->connect_timeout_ms * NS_PER_MS;
    /* the producer of the oldest batch (invariant 4) */
    s->conn_prod = s->head ? s->head->prod : &lg->own;
}

/* Reads into p: the count (> 0), 0 at EOF, -1 on an error (why in e),
 * -2 when there is nothing yet (s->rwant set when TLS needs POLLOUT). */
static ssize_t sock_read(sender_t *s, char *p, size_t n, char *e, size_t cap)
{
    if (s->ssl) {
        ssize_t r = tls_client_read(s->ssl, p, n, e, cap);
        if (r == TLS_CLIENT_WANT_WRITE)
            s->rwant = 1;
        return r > 0                                                     ? r
               : r == TLS_CLIENT_EOF                                     ? 0
               : r == TLS_CLIENT_WANT_READ || r == TLS_CLIENT_WANT_WRITE ? -2
                                                                         : -1;
    }
    for (;;) {
        ssize_t r = read(s->fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return -2;
        if (r < 0)
            errtext(errno, e, cap);
        return r;
    }
}

/* Writes from iov (plain: all of it at once; TLS: the first piece, a
 * record's worth or more). The count written (> 0), -1 on an error (why
 * in e), -2 when the socket is full, -3 when TLS waits for a read. */
static ssize_t sock_write(sender_t *s, const struct iovec *iov, int n, char *e, size_t cap)
{
    if (s->ssl) {
        ssize_t w = tls_client_write(s->ssl, iov[0].iov_base, iov[0].iov_len, e, cap);
        return w > 0 ? w : w == TLS_CLIENT_WANT_WRITE ? -2 : w == TLS_CLIENT_WANT_READ ? -3 : -1;
    }
    for (;;) {
        ssize_t w = writev(s->fd, iov, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return -2;
        if (w < 0)
            errtext(errno, e, cap);
        return w;
    }
}

/* Connected (and the TLS session up): says hello. */
static void conn_hello(logship_t *lg, int64_t now)
{
    sender_t *s = &lg->s;
    char line[160], e[128] = "bad producer id";
    size_t n = proto_hello(line, sizeof line, s->conn_prod->id);
    struct iovec iov = {line, n};
    /* a fresh socket's buffer (and session) takes a small line whole */
    if (n == 0 || sock_write(s, &iov, 1, e, sizeof e) != (ssize_t)n) {
        conn_failed(lg, "%s: cannot send the hello: %s", s->peer, e);
        return;
    }
    s->state = SS_HELLO;
    s->deadline = now + (int64_t)lg->connect_timeout_ms * NS_PER_MS;
    s->last_rx = now;
}

/* A step of the TLS handshake; done: the hello. */
static void tls_step(logship_t *lg, int64_t now)
{
    sender_t *s = &lg->s;
    char why[160];
    int r = tls_client_handshake(s->ssl, why, sizeof why);
    if (r == TLS_CLIENT_WANT_READ || r == TLS_CLIENT_WANT_WRITE) {
        s->want = r;
        return;
    }
    s->want = 0;
    if (r != TLS_CLIENT_DONE) {
        conn_failed(lg, "%s: TLS handshake failed: %s", s->peer, why);
        return;
    }
    conn_hello(lg, now);
}

/* The TCP connection is up: starts TLS, or says hello. */
static void conn_connected(logship_t *lg, int64_t now)
{
    sender_t *s = &lg->s;
    if (!lg->tls) {
        conn_hello(lg, now);
        return;
    }
    char why[160];
    if (!(s->ssl = tls_client_new(lg->tls, s->fd, lg->host, why, sizeof why))) {
        conn_failed(lg, "%s: %s", s->peer, why);
        return;
    }
    s->state = SS_TLS;
    s->deadline = now + (int64_t)lg->connect_timeout_ms * NS_PER_MS;
    tls_step(lg, now);
}

static void ack_batch(logship_t *lg, cbatch_t *b, int duplicate)
{
    sender_t *s = &lg->s;
    atomic_fetch_add(&lg->n_acked, b->count);
    atomic_fetch_add(&lg->n_batches_acked, 1);
    if (duplicate)
        atomic_fetch_add(&lg->n_batches_dup, 1);
    if (b->sf && s->spool)
        spool_acked(s->spool, b);
    list_remove(s, b);
    cbatch_free(b);
}

/* Handles one reply line; returns -1 with why (cap bytes) when the
 * connection must go. */
static int on_reply(logship_t *lg, const char *line, size_t n, int64_t now, char *why, size_t cap)
{
    sender_t *s = &lg->s;
    reply_t r;
    if (proto_parse_reply(line, n, &r) != 0) {
        snprintf(why, cap, "%s",
                 s->state == SS_HELLO
                     ? "the answer to the hello is not logshipd's raw TCP protocol "
                       "(is this its --tcp port?)"
                     : "a reply this client does not understand");
        return -1;
    }
    if (r.kind == REPLY_ERROR) {
        snprintf(why, cap, "the server says: %s", r.error);
        return -1;
    }
    if (s->state == SS_HELLO) {
        if (r.kind != REPLY_HELLO) {
            snprintf(why, cap, "a reply before the hello was answered");
            return -1;
        }
        cproducer_t *p = s->conn_prod;
        if (r.last_batch + 1 > p->next_no)
            p->next_no = r.last_batch + 1;
        if (p == &lg->own) {
            pthread_mutex_lock(&lg->mu);
            lg->hello_seen = 1;
            lg->server_pos = r.last_batch;
            pthread_cond_broadcast(&lg->cv);
            pthread_mutex_unlock(&lg->mu);
        }
        s->state = SS_UP;
        s->backoff_ms = 0;
        s->round_tried = 0;
        publish(lg, 1, NULL);
        s->await = s->send = s->head;
        s->soff = 0;
        s->inflight = 0;
        atomic_fetch_add(&lg->n_connects, 1);
        set_connected(lg, 1);
        return 0;
    }
    cbatch_t *b = s->await;
    if ((r.kind != REPLY_ACK && r.kind != REPLY_NACK) || !b || b == s->send || b->no != r.batch) {
        snprintf(why, cap, "a reply that answers no batch in flight"); /* invariant 2 */
        return -1;
    }
    s->await = b->next;
    s->inflight--;
    /* "superseded": a number at or below the highest the server has seen and
     * older than what it remembers. Our window is smaller than its memory
     * (invariant 3), so for us that means "never stored": send it again. In
     * resumable mode numbers are positions, and it means "stored". */
    int superseded = r.kind == REPLY_ACK && r.duplicate && r.first_seq == 0 && r.last_seq == 0 &&
                     b->count > 0 && !lg->position_mode;
    if (r.kind == REPLY_ACK && !superseded) {
        s->careful = 0;
        ack_batch(lg, b, r.duplicate);
    } else {
        atomic_fetch_add(&lg->n_nacks, 1);
        if (!lg->position_mode)
            b->no = 0; /* invariant 1: numbered again */
        s->draining = 1;
        s->careful = 1;
    }
    if (s->draining && s->await == s->send && s->soff == 0 && !s->begun) {
        /* every written batch is answered: resend the refused ones after a
         * pause (the store was behind or failing) */
        s->draining = 0;
        s->await = s->send = s->head;
        s->resend_at = now + (int64_t)lg->backoff_min_ms * NS_PER_MS;
    }
    return 0;
}

static void on_readable(logship_t *lg, int64_t now)
{
    sender_t *s = &lg->s;
    char buf[16384];
    s->rwant = 0;
    for (;;) {
        char e[160];
        ssize_t r = sock_read(s, buf, sizeof buf, e, sizeof e);
        if (r == -2)
            return;
        if (r <= 0) {
            const char *what = s->state == SS_HELLO ? "before answering the hello" : "";
            if (r == 0)
                conn_failed(lg, "%s closed the connection%s%s", s->peer, *what ? " " : "", what);
            else
                conn_failed(lg, "connection to %s lost%s%s: %s", s->peer, *what ? " " : "", what,
                            e);
            return;
        }
        s->last_rx = now;
        cbuf_add(&s->in, buf, (size_t)r);
        if (s->in.failed || s->in.len > 1 << 20) {
            s->in.failed = 0;
            conn_failed(lg, "%s: a reply line longer than 1 MiB", s->peer);
            return;
        }
        size_t start = 0;
        for (;;) {
            char *nl = memchr(s->in.data + start, '\n', s->in.len - start);
            if (!nl)
                break;
            size_t n = (size_t)(nl - (s->in.data + start));
            char why[160];
            if (on_reply(lg, s->in.data + start, n, now, why, sizeof why) != 0) {
                conn_failed(lg, "%s: %s", s->peer, why);
                return;
            }
            start += n + 1;
        }
        memmove(s->in.data, s->in.data + start, s->in.len - start);
        s->in.len -= start;
    }
}

/* Gives b its number (invariant 1) and its header line. */
static void number(logship_t *lg, cbatch_t *b)
{
    sender_t *s = &lg->s;
    cproducer_t *p = b->prod;
    if (lg->position_mode) {
        b->no = b->pos_last >= p->next_no ? b->pos_last : p->next_no;
    } else if (b->no == 0) {
        b->no = p->next_no;
        if (b->sf && s->spool)
            spool_set_no(s->spool, b);
    } else {
        atomic_fetch_add(&lg->n_batches_resent, 1);
    }
    if (b->no >= p->next_no)
        p->next_no = b->no + 1;
    b->hdr_len = proto_batch_header(b->hdr, sizeof b->hdr, b->no, b->count);
}

/* Writes batches while the window allows; returns 1 when the socket is
 * full (wait for POLLOUT). */
static int send_some(logship_t *lg, int64_t now)
{
    sender_t *s = &lg->s;
    while (s->send) {
        cbatch_t *b = s->send;
        if (s->soff == 0 && !s->begun) {
            unsigned limit = lg->position_mode || s->careful ? 1 : lg->max_inflight;
            if (s->draining || now < s->resend_at || s->inflight >= limit)
                return 0;
            if (b->prod != s->conn_prod) {
                if (s->inflight == 0)
                    conn_close(lg, 0); /* invariant 4 */
                return 0;
            }
            number(lg, b);
            s->begun = 1; /* invariant 7 */
        }
        struct iovec iov[2];
        int n = 0;
        if (s->soff < b->hdr_len)
            iov[n++] = (struct iovec){b->hdr + s->soff, b->hdr_len - s->soff};
        size_t doff = s->soff > b->hdr_len ? s->soff - b->hdr_len : 0;
        if (doff < b->data.len)
            iov[n++] = (struct iovec){b->data.data + doff, b->data.len - doff};
        char e[160];
        ssize_t w = n ? sock_write(s, iov, n, e, sizeof e) : 0;
        if (w == -2)
            return 1;
        if (w == -3)
            return 0; /* TLS reads first: POLLIN is always asked for when up */
        if (w < 0) {
            conn_failed(lg, "connection to %s lost: %s", s->peer, e);
            return 0;
        }
        s->soff += (size_t)w;
        if (s->soff == b->hdr_len + b->data.len) {
            if (s->inflight == 0)
                s->last_rx = now; /* the ack clock starts with the first batch */
            s->soff = 0;
            s->begun = 0;
            s->send = b->next;
            s->inflight++;
        }
    }
    return 0;
}

/* Appends the notice of records dropped since the last one. */
static void drop_notice(logship_t *lg, cbatch_t *b)
{
    sender_t *s = &lg->s;
    uint64_t d = atomic_load(&lg->n_drop_newest) + atomic_load(&lg->n_drop_oldest) +
                 atomic_load(&lg->n_drop_timeout);
    if (d <= s->reported_drops)
        return;
    uint64_t n = d - s->reported_drops;
    s->reported_drops = d;
    char msg[128], val[24], f[64];
    int ml = snprintf(msg, sizeof msg, "logship: %llu records dropped: the queue was full",
                      (unsigned long long)n);
    int vl = snprintf(val, sizeof val, "%llu", (unsigned long long)n);
    static const char key[] = "logship_dropped";
    uint16_t kn = sizeof key - 1;
    uint32_t vn = (uint32_t)vl;
    memcpy(f, &kn, 2);
    memcpy(f + 2, &vn, 4);
    memcpy(f + CREC_FIELD_HDR, key, kn);
    memcpy(f + CREC_FIELD_HDR + kn, val, vn);
    crec_t r = {.ts = wall_ns(),
                .level = LOGSHIP_WARNING,
                .msg = msg,
                .msg_len = (size_t)ml,
                .fields = f,
                .fields_len = CREC_FIELD_HDR + kn + vn,
                .nfields = 1};
    format_json_line(&b->data, &r, &lg->fmt);
    b->count++;
}

static int batch_full(const logship_t *lg, const cbatch_t *b)
{
    return b->count >= lg->batch_records || b->data.len >= lg->batch_bytes;
}

/* Takes records from the queue into the building batch. Returns the number
 * taken. */
static size_t take(logship_t *lg, cbatch_t *b, int64_t now)
{
    sender_t *s = &lg->s;
    size_t room = lg->batch_bytes > b->data.len ? lg->batch_bytes - b->data.len : 0;
    if (room < 4096)
        room = 4096;
    if (room > s->stage_cap)
        room = s->stage_cap;
    uint64_t start, end;
    size_t slots = lg->batch_records > b->count ? lg->batch_records - b->count : 1;
    size_t n = queue_take(&lg->q, s->stage, room, slots, lg->echo ? s->echo_pos : UINT64_MAX,
                          &start, &end);
    if (end == start)
        return 0;
    if (b->count == 0) {
        b->ring_start = start;
        b->first_mono = now;
    }
    b->ring_end = end;
    size_t count = 0;
    for (size_t off = 0; off < n;) {
        crec_t r;
        off += crec_read(s->stage + off, &r);
        format_json_line(&b->data, &r, &lg->fmt);
        b->pos_last = r.pos;
        count++;
    }
    b->count += (uint32_t)count;
    atomic_fetch_add(&lg->n_queued, count);
    return count;
}

/* Writes records not yet echoed to stderr. */
static void echo(logship_t *lg)
{
    sender_t *s = &lg->s;
    uint64_t end;
    size_t n = queue_peek(&lg->q, s->echo_pos, s->stage, s->stage_cap, &end);
    s->echo_pos = end;
    s->echo.len = 0;
    for (size_t off = 0; off < n;) {
        crec_t r;
        off += crec_read(s->stage + off, &r);
        format_pattern(&s->echo, &r, &lg->fmt);
    }
    /* stderr may block: not under smu (invariant 6) */
    pthread_mutex_unlock(&lg->smu);
    for (size_t off = 0; off < s->echo.len && !s->echo.failed;) {
        ssize_t w = write(STDERR_FILENO, s->echo.data + off, s->echo.len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    pthread_mutex_lock(&lg->smu);
    s->echo.failed = 0;
}

static int flushing(logship_t *lg)
{
    return atomic_load(&lg->flush_req) || atomic_load(&lg->stop);
}

/* Where a sealed batch may go: 1 the list (sent from memory, so only while
 * connected), 2 the spool, 0 nowhere yet. */
static int destination(logship_t *lg)
{
    sender_t *s = &lg->s;
    int spooled = s->spool && spool_pending(s->spool);
    if (s->state == SS_UP && s->nlist < lg->max_inflight && !spooled)
        return 1;
    if (!s->spool)
        return 0;
    /* while the queue has room a batch waits for the list; the spool takes
     * it when the server is away or the queue is half full */
    int urgent = spooled || s->state != SS_UP || queue_used(&lg->q) * 2 >= lg->q.cap;
    return urgent ? 2 : 0;
}

/* Fills, seals and places batches, as far as there is room. Returns 1 when
 * a batch is due but has nowhere to go. */
static int batch_step(logship_t *lg, int64_t now)
{
    sender_t *s = &lg->s;
    /* the list refills from the spool first: those batches are older */
    while (s->spool && s->nlist < lg->max_inflight && spool_pending(s->spool)) {
        cbatch_t *b = spool_load(s->spool);
        if (!b)
            break;
        list_append(s, b);
    }
    for (;;) {
        if (!s->building) {
            s->building = cbatch_new();
            if (!s->building)
                return 0;
            s->building->prod = &lg->own;
            s->building->own = 1;
        }
        cbatch_t *b = s->building;
        /* while the server is away, records wait in the queue (where the
         * overflow policy sees them), unless there is a spool to take them */
        if (!batch_full(lg, b) && (s->state == SS_UP || s->spool)) {
            if (b->count == 0)
                b->ring_start = b->ring_end = atomic_load(&lg->q.tail);
            /* as much as the batch holds: one take is at most a stage
             * (256 KiB of queued records), a backlog fills the batch now,
             * not one stage per linger */
            size_t got = 0, n;
            do {
                n = take(lg, b, now);
                got += n;
            } while (n && !batch_full(lg, b));
            if (got)
                s->last_activity = now;
            if (!lg->position_mode)
                drop_notice(lg, b);
            if (b->count && !b->first_mono)
                b->first_mono = now;
        }
        if (b->data.failed) { /* out of memory: these records are lost */
            atomic_fetch_add(&lg->n_lost, b->count);
            cbatch_free(b);
            s->building = NULL;
            return 0;
        }
        if (b->count == 0)
            return 0;
        int due = batch_full(lg, b) || now - b->first_mono >= (int64_t)lg->linger_ms * NS_PER_MS ||
                  flushing(lg);
        if (!due)
            return 0;
        int where = destination(lg);
        if (where == 1) {
            list_append(s, b);
        } else if (where == 2 && spool_append(s->spool, b) == 0) {
            atomic_fetch_add(&lg->n_spooled, b->count);
            cbatch_free(b);
        } else {
            return 1; /* full everywhere: the queue fills, the policy applies */
        }
        s->building = NULL;
    }
}

/* done_pos (invariant 5), and wakes flush() when it moved. */
static void update_done(logship_t *lg)
{
    sender_t *s = &lg->s;
    uint64_t p = atomic_load(&lg->q.tail);
    if (s->building && s->building->count && s->building->ring_start < p)
        p = s->building->ring_start;
    for (cbatch_t *b = s->head; b; b = b->next)
        if (b->own && b->ring_start < p) {
            p = b->ring_start;
            break;
        }
    if (s->spool) {
        uint64_t sp = spool_own_start(s->spool);
        if (sp < p)
            p = sp;
        atomic_store(&lg->spool_used, spool_used(s->spool));
        atomic_store(&lg->spool_room, spool_room(s->spool, lg->batch_bytes));
    }
    if (p != atomic_load(&lg->done_pos)) {
        atomic_store(&lg->done_pos, p);
        pthread_mutex_lock(&lg->mu);
        pthread_cond_broadcast(&lg->cv);
        pthread_mutex_unlock(&lg->mu);
    }
}

static int ms_until(int64_t t, int64_t now)
{
    if (t <= now)
        return 0;
    int64_t ms = (t - now + NS_PER_MS - 1) / NS_PER_MS;
    return ms > 60000 ? 60000 : (int)ms;
}

/* Does what can be done now; returns the poll timeout and the socket
 * events to wait for. */
static int step(logship_t *lg, int64_t now, short *events)
{
    sender_t *s = &lg->s;
    *events = 0;
    if (lg->echo)
        echo(lg);
    int stuck = batch_step(lg, now);
    if (s->state == SS_DOWN && now >= s->retry_at)
        conn_start(lg, now);
    if (s->state == SS_CONNECTING && now >= s->deadline)
        addr_failed(lg, ETIMEDOUT);
    else if (s->state == SS_TLS && now >= s->deadline)
        conn_failed(lg, "%s: no TLS handshake in %d ms", s->peer, lg->connect_timeout_ms);
    else if (s->state == SS_HELLO && now >= s->deadline)
        conn_failed(lg, "%s: no answer to the hello in %d ms (is this logshipd's --tcp port?)",
                    s->peer, lg->connect_timeout_ms);
    int want_write = 0;
    if (s->state == SS_UP) {
        want_write = send_some(lg, now);
        if (s->state == SS_UP && s->inflight > 0 &&
            now - s->last_rx > (int64_t)lg->ack_timeout_ms * NS_PER_MS)
            conn_failed(lg, "%s: no acknowledgement in %d ms", s->peer, lg->ack_timeout_ms);
    }
    update_done(lg);

    int idle = now - s->last_activity > 1000 * NS_PER_MS;
    int t = idle && lg->linger_ms < IDLE_POLL_MS ? IDLE_POLL_MS : lg->linger_ms;
    if (s->building && s->building->count)
        t = ms_until(s->building->first_mono + (int64_t)lg->linger_ms * NS_PER_MS, now);
    switch (s->state) {
    case SS_DOWN:
        t = ms_until(s->retry_at, now) < t ? ms_until(s->retry_at, now) : t;
        break;
    case SS_CONNECTING:
        *events = POLLOUT;
        t = t < ms_until(s->deadline, now) ? t : ms_until(s->deadline, now);
        break;
    case SS_TLS:
        *events = s->want == TLS_CLIENT_WANT_WRITE ? POLLOUT : POLLIN;
        t = t < ms_until(s->deadline, now) ? t : ms_until(s->deadline, now);
        break;
    case SS_HELLO:
        *events = POLLIN | (s->rwant ? POLLOUT : 0);
        t = t < ms_until(s->deadline, now) ? t : ms_until(s->deadline, now);
        break;
    case SS_UP:
        *events = POLLIN | (want_write || s->rwant ? POLLOUT : 0);
        if (s->resend_at > now && ms_until(s->resend_at, now) < t)
            t = ms_until(s->resend_at, now);
        break;
    }
    if (stuck && t < 1)
        t = lg->linger_ms; /* a batch waits for room: do not spin */
    return t;
}

static void on_socket(logship_t *lg, short revents, int64_t now)
{
    sender_t *s = &lg->s;
    if (s->state == SS_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) || err)
            addr_failed(lg, err ? err : errno);
        else if (revents & (POLLOUT | POLLERR | POLLHUP))
            conn_connected(lg, now);
        return;
    }
    if (s->state == SS_TLS) {
        tls_step(lg, now);
        return;
    }
    if (revents & (POLLIN | POLLERR | POLLHUP) || (s->rwant && (revents & POLLOUT)))
        on_readable(lg, now);
    if (s->state == SS_UP && (revents & POLLOUT))
        send_some(lg, now);
}

/* At close: what is left goes to the spool, or is counted lost. */
static void finish(logship_t *lg)
{
    sender_t *s = &lg->s;
    uint64_t lost = 0;
    if (s->spool) {
        /* batches only in memory before the first one loaded from the spool
         * are older than everything spooled (spool.h, invariant 1): they go
         * in front; those after it are newer than it and go at the end */
        cbatch_t *front[64] = {0}; /* the list holds at most 15 */
        size_t n = 0;
        cbatch_t *b = s->head;
        for (; b && !b->sf && n < 64; b = b->next)
            front[n++] = b;
        if (spool_prepend(s->spool, front, n) == 0) {
            for (size_t i = 0; i < n; i++)
                atomic_fetch_add(&lg->n_spooled, front[i]->count);
        } else {
            for (size_t i = 0; i < n; i++)
                lost += front[i]->count;
        }
        for (; b; b = b->next) {
            if (b->sf)
                continue; /* still in its file, unacknowledged */
            if (spool_append(s->spool, b) == 0)
                atomic_fetch_add(&lg->n_spooled, b->count);
            else
                lost += b->count;
        }
    } else {
        for (cbatch_t *b = s->head; b; b = b->next)
            lost += b->count;
    }
    /* the rest of the queue */
    for (;;) {
        cbatch_t *b = s->building;
        if (!b)
            b = s->building = cbatch_new();
        if (!b)
            break;
        b->prod = &lg->own;
        b->own = 1;
        while (!batch_full(lg, b) && take(lg, b, mono_ns()))
            ;
        if (!lg->position_mode)
            drop_notice(lg, b);
        if (b->count == 0)
            break;
        if (!s->spool || b->data.failed || spool_append(s->spool, b) != 0)
            lost += b->count;
        else
            atomic_fetch_add(&lg->n_spooled, b->count);
        cbatch_free(b);
        s->building = NULL;
    }
    atomic_fetch_add(&lg->n_lost, lost);
}

static void *run(void *arg)
{
    logship_t *lg = arg;
    sender_t *s = &lg->s;
    pthread_mutex_lock(&lg->smu);
    /* from here on a fork waits for smu: tell logship_open() (the thread's
     * start-up, before this, may hold the allocator's locks) */
    pthread_mutex_lock(&lg->mu);
    lg->running = 1;
    pthread_cond_broadcast(&lg->cv);
    pthread_mutex_unlock(&lg->mu);
    while (!atomic_load(&lg->stop)) {
        int64_t now = mono_ns();
        short events;
        int timeout = step(lg, now, &events);
        if (atomic_load(&lg->stop))
            break;
        struct pollfd pf[2] = {{lg->wake_fd, POLLIN, 0}, {s->fd, events, 0}};
        int nfds = s->fd >= 0 && events ? 2 : 1;
        pthread_mutex_unlock(&lg->smu);
        int rc = poll(pf, (nfds_t)nfds, timeout);
        pthread_mutex_lock(&lg->smu);
        if (rc <= 0)
            continue;
        if (pf[0].revents & POLLIN) {
            uint64_t v;
            ssize_t r = read(lg->wake_fd, &v, sizeof v);
            (void)r;
        }
        if (nfds == 2 && pf[1].revents && s->fd == pf[1].fd)
            on_socket(lg, pf[1].revents, mono_ns());
    }
    if (lg->echo)
        echo(lg);
    finish(lg);
    conn_close(lg, 0);
    update_done(lg);
    pthread_mutex_unlock(&lg->smu);
    return NULL;
}

int sender_start(logship_t *lg, struct spool *spool)
{
    sender_t *s = &lg->s;
    memset(s, 0, sizeof *s);
    s->spool = spool;
    s->fd = -1;
    s->stage_cap = STAGE_BYTES;
    s->stage = malloc(s->stage_cap);
    if (!s->stage)
        return LOGSHIP_ENOMEM;
    s->rng = (uint32_t)mono_ns() ^ (uint32_t)getpid() * 2654435761u;
    s->last_activity = mono_ns();
    s->echo_pos = atomic_load(&lg->q.tail);
    if (lg->wake_fd < 0)
        lg->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (lg->wake_fd < 0)
        return LOGSHIP_ESYS;
    /* the thread takes no signals of the host's: it starts with all blocked */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&lg->thread, NULL, run, lg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return LOGSHIP_ESYS;
    lg->thread_started = 1;
    pthread_mutex_lock(&lg->mu);
    while (!lg->running)
        pthread_cond_wait(&lg->cv, &lg->mu);
    pthread_mutex_unlock(&lg->mu);
    return 0;
}

void sender_wake(logship_t *lg)
{
    uint64_t one = 1;
    ssize_t r = write(lg->wake_fd, &one, sizeof one);
    (void)r;
}

void sender_stop(logship_t *lg)
{
    if (!lg->thread_started)
        return;
    atomic_store(&lg->stop, 1);
    sender_wake(lg);
    pthread_join(lg->thread, NULL);
    lg->thread_started = 0;
}

void sender_free(logship_t *lg)
{
    sender_t *s = &lg->s;
    while (s->head) {
        cbatch_t *b = s->head;
        list_remove(s, b);
        cbatch_free(b);
    }
    cbatch_free(s->building);
    s->building = NULL;
    s->await = s->send = NULL;
    tls_client_free(s->ssl); /* in a fork child, the session is the parent's */
    s->ssl = NULL;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    cbuf_free(&s->in);
    cbuf_free(&s->echo);
    free(s->stage);
    s->stage = NULL;
}
