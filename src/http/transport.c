/* transport.c - how a connection's bytes reach its socket: plain (recv and
 * send), or through a TLS session (src/tls/) whose ciphertext this file
 * moves between the session's buffers and the socket. conn.c reads and
 * writes plaintext through c->io whichever it is; the WebSocket bridge
 * (bridge.c) uses the TLS functions on its own.
 *
 * TLS on a nonblocking socket: a read may need to send (handshake
 * messages, tickets, an alert), a write may need input (the handshake not
 * done yet); so every read and write also sends what the session holds,
 * and conn.c asks io->pending and io->waits_input before it polls for
 * writable (polling while the session waits for input would spin).
 */
#define _GNU_SOURCE /* MSG_NOSIGNAL */
#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "http_int.h"

/* ---- TLS on a socket, shared with bridge.c -------------------------------- */

int tls_sock_flush(int fd, tls_session_t *t)
{
    const char *p;
    size_t n;
    while ((n = tls_out_peek(t, &p))) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return 0;
            return -1;
        }
        tls_out_consume(t, (size_t)w);
    }
    return 0;
}

ssize_t tls_sock_read(int fd, tls_session_t *t, char *buf, size_t cap)
{
    /* after the handshake, with nothing buffered, a read could only say
     * TLS_WANT: go to the socket first */
    int skip = tls_handshake_done(t) && !tls_has_input(t) && !tls_failure(t);
    for (;;) {
        long r = skip ? TLS_WANT : tls_read(t, buf, cap);
        skip = 0;
        if (r > 0 || r == TLS_CLOSED || r == TLS_FAILED) {
            /* what the read made (a ticket, an alert) goes out now */
            if (tls_sock_flush(fd, t) < 0 && r > 0)
                return r; /* the next read or write fails on the socket */
            if (r == TLS_FAILED)
                errno = EPROTO;
            return r > 0 ? (ssize_t)r : r == TLS_CLOSED ? 0 : -1;
        }
        /* TLS_WANT: send what the handshake made, then read the socket */
        if (tls_sock_flush(fd, t) < 0)
            return -1;
        char *room;
        size_t n = tls_in_room(t, &room);
        if (!n) {
            errno = EAGAIN; /* held up by output the socket does not take */
            return -1;
        }
        ssize_t got = recv(fd, room, n, 0);
        if (got < 0)
            return -1;
        if (got == 0) {
            tls_abandon(t, "the client closed the connection during the handshake");
            return 0;
        }
        tls_in_commit(t, (size_t)got);
        if (tls_failure(t)) {
            errno = EPROTO; /* not TLS at all */
            return -1;
        }
    }
}

ssize_t tls_sock_write(int fd, tls_session_t *t, const char *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        long w = tls_write(t, p + done, n - done);
        if (w > 0) {
            done += (size_t)w;
            continue;
        }
        if (w == TLS_FAILED) {
            tls_sock_flush(fd, t);
            errno = EPROTO;
            return done ? (ssize_t)done : -1;
        }
        /* TLS_WANT: the output buffer is full, or the handshake needs input */
        const char *o;
        if (tls_sock_flush(fd, t) < 0)
            return done ? (ssize_t)done : -1;
        if (tls_wants_input(t) || tls_out_peek(t, &o))
            break;
    }
    if (tls_sock_flush(fd, t) < 0 && !done)
        return -1;
    if (!done) {
        errno = EAGAIN;
        return -1;
    }
    return (ssize_t)done;
}

/* ---- plain ------------------------------------------------------------------- */

static ssize_t plain_read(http_conn_t *c, char *buf, size_t cap)
{
    return recv(c->fd, buf, cap, 0);
}

static ssize_t plain_write(http_conn_t *c, const char *p, size_t n)
{
    return send(c->fd, p, n, MSG_NOSIGNAL);
}

static int plain_flush(http_conn_t *c)
{
    (void)c;
    return 0;
}

static int plain_none(const http_conn_t *c)
{
    (void)c;
    return 0;
}

static void plain_shutdown(http_conn_t *c)
{
    shutdown(c->fd, SHUT_WR);
}

const conn_io_t conn_io_plain = {
    plain_read, plain_write, plain_flush, plain_none, plain_none, plain_none, plain_shutdown,
};

/* ---- TLS ---------------------------------------------------------------------- */

static int tls_flush(http_conn_t *c)
{
    if (tls_sock_flush(c->fd, c->tls) < 0)
        return -1;
    const char *o;
    if (c->tls_shut == 1 && !tls_out_peek(c->tls, &o)) {
        /* close_notify is out: now the TCP side */
        c->tls_shut = 2;
        shutdown(c->fd, SHUT_WR);
    }
    return 0;
}

static ssize_t tls_conn_read(http_conn_t *c, char *buf, size_t cap)
{
    ssize_t r = tls_sock_read(c->fd, c->tls, buf, cap);
    if (c->tls_shut == 1)
        tls_flush(c);
    return r;
}

static ssize_t tls_conn_write(http_conn_t *c, const char *p, size_t n)
{
    ssize_t w = tls_sock_write(c->fd, c->tls, p, n);
    if (c->tls_shut == 1)
        tls_flush(c);
    return w;
}

static int tls_pending(const http_conn_t *c)
{
    const char *o;
    return tls_out_peek(c->tls, &o) > 0 || c->tls_shut == 1;
}

static int tls_buffered(const http_conn_t *c)
{
    return tls_has_input(c->tls);
}

static int tls_waits(const http_conn_t *c)
{
    /* after the handshake a write never waits for input (no renegotiation) */
    return !tls_handshake_done(c->tls) && tls_wants_input(c->tls);
}

static void tls_conn_shutdown(http_conn_t *c)
{
    if (c->tls_shut)
        return;
    tls_shutdown(c->tls);
    c->tls_shut = 1;
    tls_flush(c);
}

const conn_io_t conn_io_tls = {
    tls_conn_read, tls_conn_write, tls_flush,         tls_pending,
    tls_buffered,  tls_waits,      tls_conn_shutdown,
};
