/* stream.c - TCP and UDP listeners for the non-HTTP inputs: see stream.h. */
#include "stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/addr.h"
#include "../common/log.h"
#include "../common/timeutil.h"
#include "../tls/tls_log.h"

#define SWEEP_MS       1000
#define DGRAM_BUF      (64u * 1024)
#define DGRAM_FLUSH_AT 4096 /* records */

struct stream_listener {
    uv_tcp_t server;
    uv_timer_t sweep;
    uv_loop_t *loop;
    store_t *store;
    const stream_proto_t *proto;
    long max_connections;
    int64_t idle_timeout_ns;
    stream_opts_t o;  /* as started, addr and allow pointing at the copies below */
    const char *name; /* in logs: o.name, or the protocol's */
    char addr[ADDR_MAX];
    cidr_list_t allow;
    stream_conn_t head; /* list sentinel */
    long nconns;
    int paused; /* backpressure: every connection stopped reading */
    int accepting, closing, handles;
    tls_log_t tlslog; /* its TLS failures in the log, rate limited */
    char rbuf[STREAM_READ_BUF];
};

static int parse_addr(const char *addr, struct sockaddr_storage *ss)
{
    char host[ADDR_MAX];
    int port;
    if (addr_split(addr, host, sizeof host, &port))
        return UV_EINVAL;
    if (strchr(host, ':'))
        return uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss);
    return uv_ip4_addr(host, port, (struct sockaddr_in *)ss);
}

static int bound_port(const uv_handle_t *h, int udp)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    int rc = udp ? uv_udp_getsockname((const uv_udp_t *)h, (struct sockaddr *)&ss, &len)
                 : uv_tcp_getsockname((const uv_tcp_t *)h, (struct sockaddr *)&ss, &len);
    if (rc)
        return -1;
    return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                          : ((struct sockaddr_in *)&ss)->sin_port);
}

static void peer_name(const struct sockaddr_storage *ss, char *out, size_t cap)
{
    if (ss->ss_family == AF_INET6)
        uv_ip6_name((const struct sockaddr_in6 *)ss, out, cap);
    else if (ss->ss_family == AF_INET)
        uv_ip4_name((const struct sockaddr_in *)ss, out, cap);
    else
        snprintf(out, cap, "unknown");
}

const stream_opts_t *stream_opts_of(const stream_conn_t *c)
{
    return &c->l->o;
}

store_t *stream_store(const stream_conn_t *c)
{
    return c->l->store;
}

/* ---- backpressure ---------------------------------------------------------- */

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf);

/* What an append's records were, counted once they are durable. */
typedef struct counts {
    size_t count, repaired, truncated, unknown_levels;
} counts_t;

static counts_t counts_of(const batch_t *b)
{
    return (counts_t){b->count, b->repaired, b->truncated, b->unknown_levels};
}

/* An append whose records the connection keeps until they are durable. */
typedef struct inflight {
    store_waiter_t w;
    stream_conn_t *c; /* NULL once the connection is gone */
    ingest_stats_t *stats;
    size_t bytes;
    counts_t n;
    struct inflight *next;
} inflight_t;

static void count_durable(ingest_stats_t *st, const counts_t *n)
{
    st->records += n->count;
    st->repaired += n->repaired;
    st->truncated += n->truncated;
    st->unknown_levels += n->unknown_levels;
}

static size_t unconfirmed(const stream_conn_t *c)
{
    return c->unconf.frames.len - c->unconf_off;
}

static void start_reading(stream_conn_t *c)
{
    /* a lingering connection only drops what it reads: no backpressure */
    int may = c->lingering || (!c->held.count && !c->failed && !c->l->paused &&
                               unconfirmed(c) < STREAM_UNCONFIRMED);
    if (!c->reading && !c->closing && !c->half_closed && may) {
        if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
            c->reading = 1;
    }
}

static void stop_reading(stream_conn_t *c)
{
    if (c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = 0;
    }
}

static void pause_all(stream_listener_t *l)
{
    if (l->paused)
        return;
    l->paused = 1;
    for (stream_conn_t *c = l->head.next; c != &l->head; c = c->next)
        if (!c->lingering)
            stop_reading(c);
}

static void batch_append(batch_t *dst, const char *frames, size_t len, const counts_t *n)
{
    buf_append(&dst->frames, frames, len);
    dst->count += n->count;
    dst->repaired += n->repaired;
    dst->truncated += n->truncated;
    dst->unknown_levels += n->unknown_levels;
}

static void on_confirmed(store_waiter_t *w, int err, uint64_t first, uint64_t last)
{
    inflight_t *f = container_of(w, inflight_t, w);
    stream_conn_t *c = f->c;
    (void)first;
    (void)last;
    if (!c) {
        /* its connection closed meanwhile: only the counting is left */
        if (err)
            f->stats->dropped += f->n.count;
        else
            count_durable(f->stats, &f->n);
        free(f);
        return;
    }
    c->inf_head = f->next; /* the store answers appends in order */
    if (!c->inf_head)
        c->inf_tail = NULL;
    if (!err && !c->failed) {
        c->unconf_off += f->bytes;
        c->unconf_count -= f->n.count;
        count_durable(f->stats, &f->n);
        if (c->unconf_off == c->unconf.frames.len) {
            batch_reset(&c->unconf);
            c->unconf_off = 0;
        } else if (c->unconf_off >= STREAM_UNCONFIRMED / 4 &&
                   c->unconf_off >= c->unconf.frames.len / 2) {
            /* a sender that never pauses leaves no moment with all of it
             * confirmed: move what is left to the front, so the copy stays
             * within what is unconfirmed instead of growing with all that
             * was ever sent (never more bytes moved than confirmed) */
            size_t left = unconfirmed(c);
            memmove(c->unconf.frames.data, c->unconf.frames.data + c->unconf_off, left);
            c->unconf.frames.len = left;
            c->unconf_off = 0;
        }
    } else {
        c->failed = 1;
    }
    free(f);
    if (c->failed && !c->inf_head) {
        /* every append of ours is answered: put what failed back in front
         * of what is held, in order, for when the store works again */
        batch_t again = {0};
        counts_t unconf = {.count = c->unconf_count}, held = counts_of(&c->held);
        batch_append(&again, c->unconf.frames.data + c->unconf_off, unconfirmed(c), &unconf);
        batch_append(&again, c->held.frames.data, c->held.frames.len, &held);
        batch_free(&c->held);
        c->held = again;
        batch_reset(&c->unconf);
        c->unconf_off = c->unconf_count = 0;
        c->failed = 0;
        if (!c->lingering)
            stop_reading(c);
        pause_all(c->l);
        return;
    }
    start_reading(c);
}

/* Appends b for c keeping a copy until it is durable; 0, or -1 when the
 * store refused it. */
static int append_now(stream_conn_t *c, batch_t *b)
{
    uint64_t first, last;
    inflight_t *f = xcalloc(1, sizeof *f);
    f->c = c;
    f->stats = c->l->proto->stats;
    f->w.done = on_confirmed;
    f->bytes = b->frames.len;
    f->n = counts_of(b);
    if (store_append(c->l->store, b, NULL, 0, STORE_NOLIMIT, &f->w, &first, &last) < 0) {
        free(f);
        return -1;
    }
    if (c->inf_tail)
        c->inf_tail->next = f;
    else
        c->inf_head = f;
    c->inf_tail = f;
    buf_append(&c->unconf.frames, b->frames.data, b->frames.len);
    c->unconf_count += b->count;
    return 0;
}

/* Resumes reading when the store can take records again. */
static void maybe_resume(stream_listener_t *l)
{
    if (l->closing || store_error(l->store) || store_backlogged(l->store))
        return;
    for (stream_conn_t *c = l->head.next; c != &l->head; c = c->next) {
        if (c->held.count && !c->failed && !c->inf_head) {
            if (append_now(c, &c->held))
                return;
            batch_reset(&c->held);
            buf_shrink(&c->held.frames, STREAM_READ_BUF * 2);
        }
    }
    l->paused = 0;
    for (stream_conn_t *c = l->head.next; c != &l->head; c = c->next)
        start_reading(c);
}

static void on_commit(void *arg, uint64_t first, uint64_t last)
{
    (void)first;
    (void)last;
    stream_listener_t *l = arg;
    if (l->paused)
        maybe_resume(l);
}

void stream_append(stream_conn_t *c, batch_t *b)
{
    stream_listener_t *l = c->l;
    if (!b->count)
        return;
    if (c->held.count || c->failed || store_error(l->store) || append_now(c, b)) {
        /* the store cannot take them now: keep them, stop reading */
        counts_t n = counts_of(b);
        batch_append(&c->held, b->frames.data, b->frames.len, &n);
        if (!c->lingering)
            stop_reading(c);
        pause_all(l);
        return;
    }
    if (store_backlogged(l->store))
        pause_all(l);
    else if (unconfirmed(c) >= STREAM_UNCONFIRMED && !c->lingering)
        stop_reading(c);
}

/* ---- connections ----------------------------------------------------------- */

static void free_listener_if_done(stream_listener_t *l);

static void on_listener_handle_closed(uv_handle_t *h)
{
    stream_listener_t *l = h->data;
    l->handles--;
    free_listener_if_done(l);
}

static void on_conn_closed(uv_handle_t *h)
{
    stream_conn_t *c = h->data;
    stream_listener_t *l = c->l;
    batch_free(&c->held);
    batch_free(&c->unconf);
    tls_session_destroy(c->tls);
    free(c);
    l->handles--;
    free_listener_if_done(l);
}

void stream_close_conn(stream_conn_t *c)
{
    stream_listener_t *l = c->l;
    if (c->closing)
        return;
    c->closing = 1;
    if (c->tls) /* a handshake cut off (EOF, a reset, a timeout) failed */
        tls_abandon(c->tls, "the connection ended during the handshake");
    stop_reading(c);
    if (c->held.count && !c->failed && !store_error(l->store) && append_now(c, &c->held) == 0)
        batch_reset(&c->held);
    /* appends in flight are stored or not whatever happens to us now; they
     * are only counted when the store answers */
    for (inflight_t *f = c->inf_head; f; f = f->next)
        f->c = NULL;
    c->inf_head = c->inf_tail = NULL;
    if (c->held.count) {
        l->proto->stats->dropped += c->held.count;
        log_warn("%s: connection from %s closed with %zu records the store could not take",
                 l->proto->name, c->peer, c->held.count);
    }
    if (l->proto->close)
        l->proto->close(c);
    free(c->state);
    c->state = NULL;
    c->prev->next = c->next;
    c->next->prev = c->prev;
    l->nconns--;
    l->proto->stats->conns_open--;
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    stream_conn_t *c = h->data;
    (void)hint;
    char *room;
    size_t n;
    /* TLS: straight into the session's input buffer (nothing to copy);
     * a lingering connection drops what it reads, undecrypted */
    if (c->tls && !c->lingering && (n = tls_in_room(c->tls, &room)) > 0)
        *buf = uv_buf_init(room, (unsigned)n);
    else
        *buf = uv_buf_init(c->l->rbuf, sizeof c->l->rbuf);
}

typedef struct write_req {
    uv_write_t req;
    char data[];
} write_req_t;

static void on_written(uv_write_t *req, int status)
{
    (void)status;
    free(container_of(req, write_req_t, req));
}

/* Writes p[0..n) to the socket (copied). */
static void write_raw(stream_conn_t *c, const char *p, size_t n)
{
    write_req_t *w = xmalloc(sizeof *w + n);
    memcpy(w->data, p, n);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)n);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written))
        free(w);
}

/* Hands the session's ciphertext (handshake, records, alerts) to libuv. */
static void tls_send(stream_conn_t *c)
{
    const char *p;
    size_t n;
    while ((n = tls_out_peek(c->tls, &p))) {
        write_raw(c, p, n);
        tls_out_consume(c->tls, n);
    }
}

/* The peer is done sending (EOF, or TLS close_notify). */
static void at_eof(stream_conn_t *c)
{
    stream_listener_t *l = c->l;
    stop_reading(c);
    c->half_closed = 1;
    if (!c->lingering && l->proto->eof)
        l->proto->eof(c);
    /* the protocol may owe answers (it called stream_linger): then
     * stream_end()'s shutdown closes once they are out */
    if (!c->lingering || c->shut)
        stream_close_conn(c);
}

/* Tells the protocol it may write, once: at open (plain), or when the TLS
 * handshake is done. */
static void maybe_ready(stream_conn_t *c)
{
    if (c->ready || !c->l->proto->ready || (c->tls && !tls_handshake_done(c->tls)))
        return;
    c->ready = 1;
    c->l->proto->ready(c);
}

/* n bytes of ciphertext were read into base: decrypt all of it, handing
 * the plaintext to the protocol (in the listener's read buffer). */
static void tls_data(stream_conn_t *c, const char *base, size_t n)
{
    stream_listener_t *l = c->l;
    if (c->lingering)
        return; /* dropped: the protocol is done with this peer */
    if (base == l->rbuf) {
        /* the session's buffer was full (it never is: each read is
         * decrypted whole); copy, and refuse what does not fit */
        if (tls_feed(c->tls, base, n) < n) {
            log_warn("%s: %s: TLS input buffer full: connection closed", l->name, c->peer);
            stream_close_conn(c);
            return;
        }
    } else {
        tls_in_commit(c->tls, n);
    }
    for (;;) {
        long r = tls_read(c->tls, l->rbuf, sizeof l->rbuf);
        maybe_ready(c);
        if (c->closing)
            return;
        if (r > 0) {
            if (l->proto->data(c, l->rbuf, (size_t)r)) {
                tls_send(c);
                stream_close_conn(c);
                return;
            }
            if (c->closing)
                return;
            if (c->lingering)
                break;
            continue;
        }
        tls_send(c);
        if (r == TLS_CLOSED) {
            at_eof(c);
        } else if (r == TLS_FAILED) {
            tls_log_failure(&l->tlslog, c->peer, tls_why(c->tls));
            stream_end(c); /* after the alert */
        }
        return;
    }
    tls_send(c);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    stream_conn_t *c = s->data;
    stream_listener_t *l = c->l;
    if (nread > 0) {
        c->last_active = time_mono_ns();
        l->proto->stats->bytes += (uint64_t)nread;
        if (c->tls) {
            tls_data(c, buf->base, (size_t)nread);
            return;
        }
        if (c->lingering)
            return; /* dropped: the protocol is done with this peer */
        if (l->proto->data(c, buf->base, (size_t)nread))
            stream_close_conn(c);
        return;
    }
    if (nread == UV_EOF) {
        if (c->tls)
            tls_abandon(c->tls, "the client closed the connection during the handshake");
        at_eof(c);
        return;
    }
    if (nread < 0)
        stream_close_conn(c);
}

void stream_linger(stream_conn_t *c)
{
    if (c->lingering || c->closing)
        return;
    c->lingering = 1;
    start_reading(c); /* even when backpressure had stopped it */
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    stream_conn_t *c = container_of(req, stream_conn_t, shutdown);
    if (status == UV_ECANCELED)
        return; /* closing already: c goes away after this callback */
    /* our replies are out; now the peer's EOF, or the deadline */
    c->shut = 1;
    if (status < 0 || c->half_closed)
        stream_close_conn(c);
}

void stream_end(stream_conn_t *c)
{
    if (c->closing || c->ending)
        return;
    stream_linger(c);
    c->ending = 1;
    c->linger_deadline = time_mono_ns() + (int64_t)STREAM_LINGER_MS * 1000000;
    if (c->tls) {
        tls_shutdown(c->tls); /* close_notify, after the replies */
        tls_send(c);
    }
    /* the shutdown runs after the writes queued before it */
    if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown))
        stream_close_conn(c);
}

void stream_write(stream_conn_t *c, const char *p, size_t n)
{
    if (c->closing || !n)
        return;
    if (!c->tls) {
        write_raw(c, p, n);
        return;
    }
    size_t done = 0;
    while (done < n) {
        long w = tls_write(c->tls, p + done, n - done);
        if (w > 0) {
            done += (size_t)w;
        } else if (w == TLS_WANT && !tls_wants_input(c->tls)) {
            const char *o;
            if (!tls_out_peek(c->tls, &o))
                break;
            tls_send(c); /* the output buffer was full */
        } else {
            break; /* failed, or no handshake yet */
        }
    }
    tls_send(c);
    if (done < n)
        log_debug("%s: %s: %zu bytes not written over TLS (%s)", c->l->name, c->peer, n - done,
                  tls_failure(c->tls) ? tls_why(c->tls) : "no handshake yet");
}

static void on_refused_closed(uv_handle_t *h)
{
    stream_listener_t *l = h->data;
    free(h);
    l->handles--;
    free_listener_if_done(l);
}

/* 1 when the allow list takes the peer at addr (anyone when it is empty). */
static int allowed(const cidr_list_t *allow, const struct sockaddr *addr)
{
    uint8_t a[16];
    return !allow->n || (cidr_of_sockaddr(addr, a) == 0 && cidr_list_match(allow, a));
}

/* Over --max-connections: accepts and closes at once (the peer learns
 * now, not after a timeout). A peer --allow does not take is counted as
 * denied all the same. */
static void refuse_connection(stream_listener_t *l, uv_stream_t *server)
{
    uv_tcp_t *t = xmalloc(sizeof *t);
    struct sockaddr_storage ss;
    int len = sizeof ss, denied = 0;
    uv_tcp_init(l->loop, t);
    t->data = l;
    l->handles++;
    if (uv_accept(server, (uv_stream_t *)t) == 0 && l->allow.n)
        denied = uv_tcp_getpeername(t, (struct sockaddr *)&ss, &len) != 0 ||
                 !allowed(&l->allow, (struct sockaddr *)&ss);
    uv_close((uv_handle_t *)t, on_refused_closed);
    if (denied)
        l->proto->stats->denied++;
    else
        l->proto->stats->conns_refused++;
}

static void on_connection(uv_stream_t *server, int status)
{
    stream_listener_t *l = server->data;
    if (status < 0 || !l->accepting)
        return;
    const stream_proto_t *proto = l->proto;
    tls_session_t *sess = NULL;
    if (l->nconns < l->max_connections && l->o.tls &&
        !(sess = tls_session_create(l->o.tls, l->o.tls_stats)))
        log_warn("%s: no TLS session (out of memory): connection refused", l->name);
    if (sess)
        tls_session_no_tickets(sess);
    if (l->nconns >= l->max_connections || (l->o.tls && !sess)) {
        /* accept and close at once: the peer learns now, not after a timeout */
        refuse_connection(l, server);
        return;
    }
    stream_conn_t *c = xcalloc(1, sizeof *c);
    c->l = l;
    c->tls = sess;
    uv_tcp_init(l->loop, &c->tcp);
    c->tcp.data = c;
    l->handles++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp)) {
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
        return;
    }
    struct sockaddr_storage ss;
    int len = sizeof ss;
    int named = uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0;
    if (named)
        peer_name(&ss, c->peer, sizeof c->peer);
    if (l->allow.n && (!named || !allowed(&l->allow, (struct sockaddr *)&ss))) {
        /* before a byte is read, and before the protocol knows of it */
        log_debug("%s: refused a connection from %s: not in --allow", proto->name, c->peer);
        proto->stats->denied++;
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
        return;
    }
    c->state = proto->state_size ? xcalloc(1, proto->state_size) : NULL;
    c->last_active = time_mono_ns();
    c->next = &l->head;
    c->prev = l->head.prev;
    l->head.prev->next = c;
    l->head.prev = c;
    l->nconns++;
    proto->stats->conns_open++;
    proto->stats->conns_total++;
    if (proto->open)
        proto->open(c);
    maybe_ready(c);
    if (!l->paused && !c->closing)
        start_reading(c);
}

static void on_sweep(uv_timer_t *t)
{
    stream_listener_t *l = t->data;
    int64_t now = time_mono_ns();
    stream_conn_t *c = l->head.next;
    while (c != &l->head) {
        stream_conn_t *next = c->next;
        if (c->ending && now > c->linger_deadline) {
            stream_close_conn(c); /* the peer did not close its side in time */
        } else if (l->idle_timeout_ns && now - c->last_active > l->idle_timeout_ns &&
                   !c->held.count && !c->inf_head) {
            l->proto->stats->conns_idle_closed++;
            if (c->tls)
                tls_abandon(c->tls, "TLS handshake not done within --idle-timeout");
            stream_close_conn(c);
        }
        c = next;
    }
    if (l->paused)
        maybe_resume(l);
    tls_log_tick(&l->tlslog);
}

stream_listener_t *stream_listen(uv_loop_t *loop, store_t *store, const stream_proto_t *proto,
                                 const stream_opts_t *o, int *port)
{
    struct sockaddr_storage ss;
    stream_listener_t *l = xcalloc(1, sizeof *l);
    l->loop = loop;
    l->store = store;
    l->proto = proto;
    l->max_connections = o->max_connections;
    l->idle_timeout_ns = o->idle_timeout_ns;
    l->o = *o;
    l->o.addr = l->addr;
    l->name = o->name ? o->name : proto->name;
    snprintf(l->addr, sizeof l->addr, "%s", o->addr);
    if (o->allow)
        l->allow = *o->allow;
    l->o.allow = &l->allow;
    l->head.next = l->head.prev = &l->head;
    int rc = parse_addr(o->addr, &ss);
    if (!rc)
        rc = uv_tcp_init(loop, &l->server);
    if (rc) {
        log_error("%s: bad address %s: %s", l->name, o->addr, uv_strerror(rc));
        free(l);
        return NULL;
    }
    l->server.data = l;
    l->handles = 1;
    rc = uv_tcp_bind(&l->server, (struct sockaddr *)&ss, 0);
    if (!rc)
        rc = uv_listen((uv_stream_t *)&l->server, 1024, on_connection);
    if (rc) {
        log_error("%s: cannot listen on %s: %s", l->name, o->addr, uv_strerror(rc));
        l->closing = 1;
        uv_close((uv_handle_t *)&l->server, on_listener_handle_closed);
        return NULL; /* freed once the handle has closed */
    }
    uv_timer_init(loop, &l->sweep);
    l->sweep.data = l;
    l->handles++;
    l->tlslog.name = l->name;
    uv_timer_start(&l->sweep, on_sweep, SWEEP_MS, SWEEP_MS);
    store_on_commit(store, on_commit, l);
    l->accepting = 1;
    *port = bound_port((uv_handle_t *)&l->server, 0);
    char host[ADDR_MAX];
    addr_split(o->addr, host, sizeof host, &rc);
    log_info("%s listening on %s:%d", l->name, host, *port);
    return l;
}

static void free_listener_if_done(stream_listener_t *l)
{
    if (l->closing && l->handles == 0)
        free(l);
}

void stream_stop_accepting(stream_listener_t *l)
{
    if (!l || !l->accepting)
        return;
    l->accepting = 0;
    uv_close((uv_handle_t *)&l->server, on_listener_handle_closed);
}

void stream_close(stream_listener_t *l)
{
    if (!l || l->closing)
        return;
    store_off_commit(l->store, on_commit, l);
    stream_stop_accepting(l);
    l->closing = 1;
    while (l->head.next != &l->head)
        stream_close_conn(l->head.next);
    uv_timer_stop(&l->sweep);
    uv_close((uv_handle_t *)&l->sweep, on_listener_handle_closed);
}

/* ---- datagrams ----------------------------------------------------------- */

typedef struct dgram_inflight {
    store_waiter_t w;
    dgram_listener_t *l; /* NULL once the listener is gone */
    ingest_stats_t *stats;
    counts_t n;
    struct dgram_inflight *next;
} dgram_inflight_t;

struct dgram_listener {
    dgram_inflight_t *inf_head, *inf_tail;
    uv_udp_t udp;
    uv_check_t check;
    store_t *store;
    ingest_stats_t *stats;
    size_t max_len;
    dgram_fn fn;
    void *arg;
    cidr_list_t allow;
    batch_t batch;
    int handles;
    char buf[DGRAM_BUF];
};

static void on_dgram_durable(store_waiter_t *w, int err, uint64_t first, uint64_t last)
{
    dgram_inflight_t *f = container_of(w, dgram_inflight_t, w);
    dgram_listener_t *l = f->l;
    (void)first;
    (void)last;
    if (l) {
        l->inf_head = f->next;
        if (!l->inf_head)
            l->inf_tail = NULL;
    }
    if (err)
        f->stats->dropped += f->n.count; /* the write failed: they are lost */
    else
        count_durable(f->stats, &f->n);
    free(f);
}

static void dgram_flush(dgram_listener_t *l)
{
    uint64_t first, last;
    batch_t *b = &l->batch;
    if (!b->count)
        return;
    dgram_inflight_t *f = xcalloc(1, sizeof *f);
    f->l = l;
    f->stats = l->stats;
    f->w.done = on_dgram_durable;
    f->n = counts_of(b);
    if (store_error(l->store) || store_backlogged(l->store) ||
        store_append(l->store, b, NULL, 0, STORE_NOLIMIT, &f->w, &first, &last) < 0) {
        /* UDP cannot push back: count what is dropped */
        l->stats->dropped += b->count;
        free(f);
    } else if (l->inf_tail) {
        l->inf_tail->next = f;
        l->inf_tail = f;
    } else {
        l->inf_head = l->inf_tail = f;
    }
    batch_reset(b);
}

static void on_dgram_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    dgram_listener_t *l = h->data;
    (void)hint;
    *buf = uv_buf_init(l->buf, sizeof l->buf);
}

static void on_dgram(uv_udp_t *u, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
                     unsigned flags)
{
    dgram_listener_t *l = u->data;
    char peer[64] = "";
    if (nread <= 0 || !addr)
        return;
    if (!allowed(&l->allow, addr)) {
        l->stats->denied++; /* not a byte of it is parsed */
        return;
    }
    if (flags & UV_UDP_PARTIAL)
        l->stats->truncated++;
    l->stats->bytes += (uint64_t)nread;
    peer_name((const struct sockaddr_storage *)addr, peer, sizeof peer);
    size_t n = (size_t)nread, cut = n > l->max_len ? l->max_len : n;
    l->fn(l->arg, buf->base, cut, cut < n, peer, &l->batch);
    if (l->batch.count >= DGRAM_FLUSH_AT)
        dgram_flush(l);
}

/* After each round of I/O: one append for all datagrams of the round. */
static void on_check(uv_check_t *c)
{
    dgram_flush(c->data);
}

static void on_dgram_closed(uv_handle_t *h);

dgram_listener_t *dgram_listen(uv_loop_t *loop, store_t *store, const char *addr,
                               const cidr_list_t *allow, ingest_stats_t *stats, size_t max_len,
                               dgram_fn fn, void *arg, int *port)
{
    return dgram_listen_as("syslog-udp", loop, store, addr, allow, stats, max_len, fn, arg, port);
}

dgram_listener_t *dgram_listen_as(const char *name, uv_loop_t *loop, store_t *store,
                                  const char *addr, const cidr_list_t *allow, ingest_stats_t *stats,
                                  size_t max_len, dgram_fn fn, void *arg, int *port)
{
    struct sockaddr_storage ss;
    dgram_listener_t *l = xcalloc(1, sizeof *l);
    if (allow)
        l->allow = *allow;
    l->store = store;
    l->stats = stats;
    l->fn = fn;
    l->arg = arg;
    l->max_len = max_len ? max_len : DGRAM_BUF;
    int rc = parse_addr(addr, &ss);
    if (!rc)
        rc = uv_udp_init(loop, &l->udp);
    if (rc) {
        log_error("%s: bad address %s: %s", name, addr, uv_strerror(rc));
        free(l);
        return NULL;
    }
    l->udp.data = l;
    l->handles = 1;
    rc = uv_udp_bind(&l->udp, (struct sockaddr *)&ss, 0);
    if (!rc) {
        int size = 4 << 20; /* ride out bursts while the loop is busy */
        uv_recv_buffer_size((uv_handle_t *)&l->udp, &size);
        rc = uv_udp_recv_start(&l->udp, on_dgram_alloc, on_dgram);
    }
    if (rc) {
        log_error("%s: cannot listen on %s: %s", name, addr, uv_strerror(rc));
        uv_close((uv_handle_t *)&l->udp, on_dgram_closed);
        return NULL; /* freed once the handle has closed */
    }
    uv_check_init(loop, &l->check);
    l->check.data = l;
    uv_check_start(&l->check, on_check);
    uv_unref((uv_handle_t *)&l->check);
    l->handles++;
    *port = bound_port((uv_handle_t *)&l->udp, 1);
    char host[ADDR_MAX];
    addr_split(addr, host, sizeof host, &rc);
    log_info("%s listening on %s:%d", name, host, *port);
    return l;
}

static void on_dgram_closed(uv_handle_t *h)
{
    dgram_listener_t *l = h->data;
    if (--l->handles == 0) {
        batch_free(&l->batch);
        free(l);
    }
}

void dgram_close(dgram_listener_t *l)
{
    if (!l)
        return;
    dgram_flush(l);
    for (dgram_inflight_t *f = l->inf_head; f; f = f->next)
        f->l = NULL;
    l->inf_head = l->inf_tail = NULL;
    uv_udp_recv_stop(&l->udp);
    uv_check_stop(&l->check);
    uv_close((uv_handle_t *)&l->udp, on_dgram_closed);
    uv_close((uv_handle_t *)&l->check, on_dgram_closed);
}
