/* conn.c - one HTTP/1.1 connection: reading, parsing with http-parser,
 * handing requests to their handlers one at a time, writing replies, and
 * the deadlines. See http.h for the invariants (H1-H4) this file keeps.
 *
 * Reads land in the server's scratch buffer and are parsed from there;
 * only bytes that outlive a read (a partial head, a request pipelined
 * behind one still being answered) are copied into the connection's own
 * buffer. Replies are written at once when the socket takes them, and
 * queued otherwise.
 *
 * Bytes go through c->io (transport.c): plain, or a TLS session, which
 * sits between the socket and this file. The queue (c->out) is plaintext
 * either way; "everything written" (all_sent) also means the session holds
 * no ciphertext, so H3's unread-reply deadline and the write backpressure
 * cover TLS too. The handshake runs inside the first reads, under the
 * deadline the connection starts with (--request-timeout). Plaintext sent
 * to a TLS listener gets a plain 400 that says so, then the close.
 */
#define _GNU_SOURCE /* MSG_NOSIGNAL with sendmsg */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../common/json_write.h"
#include "../common/log.h"
#include "../common/timeutil.h"
#include "http_int.h"
#include "limit.h"

#define DISCARD_MAX (1u << 20) /* body bytes read after an early answer */
#define OUT_KEEP    (64u * 1024)

static void drive(http_conn_t *c);
static void after_eof(http_conn_t *c);
static void update_interest(http_conn_t *c);
static void request_end(http_conn_t *c);
static void rearm(http_conn_t *c);
static void on_deadline(uv_timer_t *t);

/* The queue is written and the transport holds nothing more. */
static int all_sent(const http_conn_t *c)
{
    return c->out.len == c->opos && !c->io->pending(c);
}

static const char *reason_of(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    default:
        return status < 400 ? "OK" : status < 500 ? "Bad Request" : "Server Error";
    }
}

/* http-parser asserts when paused or resumed in an error state: an errored
 * parser stays as it is (the connection is closing anyway). */
static void set_paused(http_conn_t *c, int on)
{
    enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
    if (e == HPE_OK || e == HPE_PAUSED)
        http_parser_pause(&c->parser, on);
}

static long ms_or(long v, long def)
{
    return v > 0 ? v : def;
}

/* ---- closing --------------------------------------------------------------- */

/* Gives the request's principal back (H5). */
static void release_principal(http_conn_t *c)
{
    const void *p = c->principal;
    c->principal = NULL;
    if (p && c->srv->release)
        c->srv->release(c->srv->auth_arg, p);
}

static void on_handle_closed(uv_handle_t *hd)
{
    http_conn_t *c = hd->data;
    if (--c->handles)
        return;
    http_server_t *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    if (c->handoff) {
        /* the poll handle is gone: the upgrade's owner may watch fd now,
         * and has the principal (H5) */
        const void *p = c->handoff_principal;
        c->handoff_principal = NULL;
        if (!s->upgrade) {
            close(c->fd);
            if (p && s->release)
                s->release(s->auth_arg, p);
        } else if (c->tls) {
            /* wss: the connection keeps its TLS session and relays
             * plaintext to lws over a socketpair (bridge.c) */
            tls_session_t *t = c->tls;
            c->tls = NULL;
            if (bridge_start(s, c->fd, t, c->handoff, c->handoff_n, c->peer, p))
                log_debug("http: wss upgrade refused");
        } else if (s->upgrade(s->upgrade_arg, c->fd, c->handoff, c->handoff_n, c->peer, p)) {
            log_debug("http: upgrade refused");
        }
        free(c->handoff);
    } else if (c->fd >= 0) {
        close(c->fd);
    }
    tls_session_destroy(c->tls); /* NULL when plain, or handed to a bridge */
    if (c->state && c->state_of && c->state_of->on_free)
        c->state_of->on_free(c->state);
    free(c->state);
    buf_free(&c->rbuf);
    buf_free(&c->head);
    buf_free(&c->out);
    free(c);
    server_maybe_free(s);
}

void conn_close(http_conn_t *c)
{
    if (c->dead)
        return;
    c->dead = 1;
    if (c->tls) /* a handshake cut off (EOF, a reset, a deadline) failed */
        tls_abandon(c->tls, "the connection ended during the handshake");
    if (c->in_handler) {
        c->in_handler = 0;
        if (c->h && c->h->on_end)
            c->h->on_end(c);
    }
    release_principal(c);
    if (c->counted) {
        c->counted = 0;
        c->srv->inflight--;
    }
    if (c->limit_counted) {
        c->limit_counted = 0;
        limit_conn_close(c->srv->limits, slice_cstr(c->peer));
    }
    c->srv->stats.conns_open--;
    uv_poll_stop(&c->poll);
    uv_timer_stop(&c->deadline);
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->poll, on_handle_closed);
    uv_close((uv_handle_t *)&c->deadline, on_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

/* Ends the connection once the queue is written: stops sending, then reads
 * and drops what the client still sends for a moment, so the close does not
 * reset the reply away before the client has read it. */
static void close_gracefully(http_conn_t *c)
{
    if (c->dead)
        return;
    c->cstate = CS_CLOSING;
    c->close_after = 1;
    set_paused(c, 1);
    if (all_sent(c)) {
        c->io->shutdown(c);
        if (c->peer_eof) {
            conn_close(c);
            return;
        }
    }
    rearm(c);
    update_interest(c);
}

/* ---- deadlines (H3) ---------------------------------------------------------- */

static void on_deadline(uv_timer_t *t)
{
    http_conn_t *c = t->data;
    if (c->failed) {
        conn_close(c);
        return;
    }
    if (c->cstate != CS_CLOSING)
        c->srv->stats.timeouts++;
    if (c->tls && !tls_handshake_done(c->tls)) {
        tls_abandon(c->tls, "TLS handshake not done within --request-timeout");
        if (tls_failure(c->tls))
            tls_log_failure(&c->srv->tlslog, c->peer, tls_why(c->tls));
    }
    if ((c->cstate == CS_HEAD || c->cstate == CS_BODY) && !c->answered) {
        log_debug("http: %s: request not complete in time", c->peer);
        c->close_after = 1;
        if (c->cstate == CS_HEAD) {
            c->counted = 1;
            c->srv->inflight++;
        }
        http_reply_error(c, 408,
                         c->cstate == CS_HEAD
                             ? "request head not received in time (--header-timeout)"
                             : "request body stopped arriving (--body-timeout)");
        if (!c->dead && c->cstate != CS_CLOSING)
            close_gracefully(c);
        return;
    }
    conn_close(c);
}

static void arm(http_conn_t *c, long ms)
{
    if (c->failed)
        return; /* fail_later's deadline (now) stands */
    uv_timer_start(&c->deadline, on_deadline, (uint64_t)ms, 0);
}

/* The deadlines of H3: each its own option, else --request-timeout. */
static long request_ms(const http_conn_t *c, long specific)
{
    return ms_or(specific, ms_or(c->srv->o.request_timeout_ms, HTTP_DEFAULT_REQUEST_TIMEOUT_MS));
}

static long header_ms(const http_conn_t *c)
{
    return request_ms(c, c->srv->o.header_timeout_ms);
}

/* Sets the deadline for the state the connection is in now. */
static void rearm(http_conn_t *c)
{
    if (c->dead || c->failed)
        return;
    if (!all_sent(c)) { /* a reply the client must read */
        arm(c, request_ms(c, c->srv->o.send_timeout_ms));
        return;
    }
    switch (c->cstate) {
    case CS_IDLE:
        arm(c, c->served ? ms_or(c->srv->o.keepalive_timeout_ms, HTTP_DEFAULT_KEEPALIVE_TIMEOUT_MS)
                         : header_ms(c));
        break;
    case CS_HEAD: /* set once at the first byte: the whole head has this long */
        break;
    case CS_BODY:
        if (!c->body_done)
            arm(c, request_ms(c, c->srv->o.body_timeout_ms));
        else
            uv_timer_stop(&c->deadline);
        break;
    case CS_WAIT: /* the server is working on it */
        uv_timer_stop(&c->deadline);
        break;
    case CS_CLOSING: /* the reply is out: linger a moment */
        arm(c, HTTP_LINGER_MS);
        break;
    }
}

/* ---- writing ------------------------------------------------------------------ */

/* Writes what is queued as far as the socket takes it and drops what was
 * written; 0, or -1 when the socket failed. */
static int write_out(http_conn_t *c)
{
    if (c->io->flush(c))
        return -1;
    while (c->out.len > c->opos) {
        ssize_t w = c->io->write(c, c->out.data + c->opos, c->out.len - c->opos);
        if (w < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            return -1;
        }
        c->opos += (size_t)w;
    }
    if (c->out.len == c->opos) {
        buf_reset(&c->out);
        buf_shrink(&c->out, OUT_KEEP);
        c->opos = 0;
    }
    return 0;
}

/* write_out from the loop; returns 0, or -1 when the connection closed. */
static int flush(http_conn_t *c)
{
    if (write_out(c)) {
        conn_close(c);
        return -1;
    }
    return 0;
}

/* The socket failed under a write a handler made: close from the loop, not
 * from inside the handler's call (its on_end would free what the handler
 * is still using). Nothing more is read, written or called back. */
static void fail_later(http_conn_t *c)
{
    c->failed = 1;
    buf_reset(&c->out);
    c->opos = 0;
    uv_poll_stop(&c->poll);
    c->events = 0;
    uv_timer_start(&c->deadline, on_deadline, 0, 0);
}

/* Writes iov now as far as the socket takes it and queues the rest. */
static void queue(http_conn_t *c, struct iovec *iov, int n)
{
    if (c->dead || c->failed)
        return;
    size_t skip = 0;
    if (c->out.len == c->opos && !c->tls) {
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            fail_later(c);
            return;
        }
        skip = w > 0 ? (size_t)w : 0;
    }
    for (int i = 0; i < n; i++) {
        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        buf_append(&c->out, (const char *)iov[i].iov_base + skip, iov[i].iov_len - skip);
        skip = 0;
    }
    /* TLS: the pieces go into the queue first, so one record carries them */
    if (c->tls && write_out(c)) {
        fail_later(c);
        return;
    }
    if (!all_sent(c))
        rearm(c);
}

/* ---- replies ------------------------------------------------------------------ */

/* Whether the connection ends after this reply. */
static int closing_after_reply(http_conn_t *c)
{
    if (c->close_after || !c->req.keep_alive || c->srv->draining)
        return 1;
    if (!c->body_done && c->req.has_body) {
        /* an early answer: the rest of the body must be read or the
         * connection closed; a client waiting for 100 Continue sends none */
        if (c->req.expect_100)
            return 1;
        if (!c->req.chunked && c->req.content_length - c->received > DISCARD_MAX)
            return 1;
    }
    return 0;
}

static size_t head_of(http_conn_t *c, char *out, size_t cap, int status, const char *ctype,
                      const http_header_t *h, size_t nh, int64_t length, int closing)
{
    size_t n = (size_t)snprintf(out, cap, "HTTP/1.1 %d %s\r\nServer: logshipd\r\n", status,
                                reason_of(status));
    if (ctype && n < cap)
        n += (size_t)snprintf(out + n, cap - n, "Content-Type: %s\r\n", ctype);
    if (length >= 0 && (status == 204 || status == 304 || status < 200))
        ; /* no body, and no Content-Length either (RFC 9110 8.6) */
    else if (length >= 0 && n < cap)
        n += (size_t)snprintf(out + n, cap - n, "Content-Length: %" PRId64 "\r\n", length);
    else if (length == -1 && n < cap)
        n += (size_t)snprintf(out + n, cap - n, "Transfer-Encoding: chunked\r\n");
    if (!h && n < cap)
        n += (size_t)snprintf(out + n, cap - n, "Cache-Control: no-store\r\n");
    for (size_t i = 0; h && i < nh && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s: %s\r\n", h[i].name, h[i].value);
    if (n < cap)
        n += cors_reply_headers(c, out + n, cap - n);
    if (n < cap) {
        if (closing)
            n += (size_t)snprintf(out + n, cap - n, "Connection: close\r\n\r\n");
        else if (c->parser.http_major == 1 && c->parser.http_minor == 0)
            n += (size_t)snprintf(out + n, cap - n, "Connection: keep-alive\r\n\r\n");
        else
            n += (size_t)snprintf(out + n, cap - n, "\r\n");
    }
    return n < cap ? n : 0;
}

/* The reply is the request's completion (H2); 0 when it may be sent. */
static int complete(http_conn_t *c, int status)
{
    if (c->dead)
        return -1;
    if (c->answered || c->ended) {
        c->srv->stats.double_replies++;
        log_debug("http: %s: a second reply (%d) to one request ignored", c->peer, status);
        return -1;
    }
    c->answered = 1;
    if (c->counted) {
        c->counted = 0;
        c->srv->inflight--;
    }
    if (status >= 100 && status < 600)
        c->srv->stats.status[status]++;
    if (c->t0)
        hist_observe_ns(&c->srv->stats.request_seconds, time_mono_ns() - c->t0);
    c->t0 = 0;
    return 0;
}

/* After a complete reply: the request ends when its body is in. */
static void after_reply(http_conn_t *c, int closing)
{
    if (closing) {
        c->close_after = 1;
        if (c->cstate != CS_CLOSING && !c->body_done) {
            /* read no further: what follows is not ours to parse */
            c->cstate = CS_CLOSING;
            set_paused(c, 1);
        }
    }
    if (c->body_done || c->cstate == CS_CLOSING)
        request_end(c);
}

void http_reply(http_conn_t *c, int status, const char *ctype, const http_header_t *h, size_t nh,
                const char *body, size_t n)
{
    char head[2048];
    if (complete(c, status))
        return;
    int closing = closing_after_reply(c);
    size_t hn = head_of(c, head, sizeof head, status, ctype, h, nh, (int64_t)n, closing);
    if (!hn) {
        fail_later(c);
        return;
    }
    struct iovec iov[2] = {{head, hn}, {(void *)body, n}};
    queue(c, iov, c->req.method == HM_HEAD || !n ? 1 : 2);
    after_reply(c, closing);
}

void http_reply_error(http_conn_t *c, int status, const char *msg)
{
    buf_t b = BUF_INIT;
    buf_puts(&b, "{\"error\":");
    json_str(&b, msg, strlen(msg));
    buf_puts(&b, "}\n");
    http_reply(c, status, "application/json", NULL, 0, b.data, b.len);
    buf_free(&b);
}

void http_continue(http_conn_t *c)
{
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    struct iovec iov = {(void *)cont, sizeof cont - 1};
    if (!c->answered)
        queue(c, &iov, 1);
}

void http_stream_begin(http_conn_t *c, int status, const char *ctype, const http_header_t *h,
                       size_t nh)
{
    char head[2048];
    if (complete(c, status))
        return;
    int closing = closing_after_reply(c);
    size_t hn = head_of(c, head, sizeof head, status, ctype, h, nh, -1, closing);
    if (!hn) {
        fail_later(c);
        return;
    }
    struct iovec iov = {head, hn};
    queue(c, &iov, 1);
    c->streaming = 1;
    if (closing)
        c->close_after = 1;
    if (c->req.method == HM_HEAD)
        http_stream_end(c);
}

void http_stream_write(http_conn_t *c, const char *p, size_t n)
{
    char size[24];
    if (!c->streaming || c->dead || !n || c->req.method == HM_HEAD)
        return;
    int sn = snprintf(size, sizeof size, "%zx\r\n", n);
    struct iovec iov[3] = {{size, (size_t)sn}, {(void *)p, n}, {(void *)"\r\n", 2}};
    queue(c, iov, 3);
}

void http_stream_end(http_conn_t *c)
{
    if (!c->streaming || c->dead)
        return;
    c->streaming = 0;
    if (c->req.method != HM_HEAD) {
        struct iovec iov = {(void *)"0\r\n\r\n", 5};
        queue(c, &iov, 1);
    }
    after_reply(c, c->close_after);
}

void http_want_writable(http_conn_t *c)
{
    if (c->dead || c->want_writable)
        return;
    c->want_writable = 1;
    update_interest(c);
}

static void on_htimer(uv_timer_t *t)
{
    http_conn_t *c = t->data;
    if (c->in_handler && c->h && c->h->on_timer && c->h->on_timer(c) < 0)
        http_close(c);
}

void http_set_timer(http_conn_t *c, long ms)
{
    if (c->dead)
        return;
    if (ms <= 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, on_htimer, (uint64_t)ms, 0);
}

void http_close(http_conn_t *c)
{
    if (c->dead)
        return;
    c->close_after = 1;
    c->streaming = 0;
    c->cstate = CS_CLOSING;
    if (c->in_handler) {
        c->in_handler = 0;
        if (c->h && c->h->on_end)
            c->h->on_end(c);
    }
    if (all_sent(c))
        conn_close(c);
    else
        update_interest(c);
}

int http_answered(const http_conn_t *c)
{
    return c->answered;
}

void *http_state(http_conn_t *c)
{
    return c->state;
}

void *http_data(http_conn_t *c)
{
    return c->data ? c->data : c->srv->data;
}

const char *http_peer(const http_conn_t *c)
{
    return c->peer;
}

const void *http_principal(const http_conn_t *c)
{
    return c->principal;
}

/* ---- requests ------------------------------------------------------------------ */

/* The request is answered and read whole: on to the next one. */
static void request_end(http_conn_t *c)
{
    if (c->dead)
        return;
    if (c->in_handler) {
        c->in_handler = 0;
        if (c->h && c->h->on_end)
            c->h->on_end(c);
    }
    release_principal(c);
    c->h = NULL;
    c->cors_origin = SLICE_NULL;
    c->ended = 1; /* until the next head begins: a late reply is a second one */
    /* an error before the next head is answered as to a GET (with a body),
     * not as to this request's method */
    c->req.method = HM_GET;
    c->answered = 0;
    c->streaming = 0;
    c->body_done = 0;
    c->received = 0;
    c->discarded = 0;
    c->served++;
    buf_reset(&c->head);
    buf_shrink(&c->head, 4096);
    if (c->close_after || c->cstate == CS_CLOSING) {
        close_gracefully(c);
        return;
    }
    c->cstate = CS_IDLE;
    set_paused(c, 0);
    rearm(c);
    if (c->rpos < c->rbuf.len && !c->driving) {
        /* a pipelined request is waiting: parse it from the loop, not from
         * inside whatever completed this one (a store callback, say) */
        c->resume = 1;
        update_interest(c);
    }
}

/* Copies a piece of the head; -1 past HTTP_HEAD_MAX. */
static int head_add(http_conn_t *c, const char *at, size_t n)
{
    if (c->head.len + n > HTTP_HEAD_MAX) {
        c->head_too_big = 1;
        return -1;
    }
    buf_append(&c->head, at, n);
    return 0;
}

static int on_message_begin(http_parser *p)
{
    http_conn_t *c = p->data;
    if (c->failed)
        return -1; /* closing from the loop: nothing more is called back */
    c->cstate = CS_HEAD;
    c->ended = 0;
    c->t0 = time_mono_ns();
    buf_reset(&c->head);
    c->url_o = c->url_n = 0;
    c->nhdr = 0;
    c->in_value = 0;
    c->head_too_big = 0;
    c->req.method = HM_GET;
    c->req.has_body = c->req.chunked = c->req.expect_100 = c->req.upgrade = 0;
    c->req.keep_alive = 0;
    c->req.content_length = 0;
    c->req.nheaders = 0;
    c->cors_origin = SLICE_NULL;
    arm(c, header_ms(c));
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
    http_conn_t *c = p->data;
    if (!c->url_n)
        c->url_o = (uint32_t)c->head.len;
    c->url_n += (uint32_t)n;
    return head_add(c, at, n);
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
    http_conn_t *c = p->data;
    if (c->cstate != CS_HEAD)
        return 0; /* a chunked body's trailer: ignored (the head must not move) */
    if (c->in_value || c->nhdr == 0) {
        if (c->nhdr == HTTP_HEADERS_MAX) {
            c->head_too_big = 1;
            return -1;
        }
        hdr_span_t *h = &c->hdr[c->nhdr++];
        h->no = (uint32_t)c->head.len;
        h->nn = h->vo = h->vn = 0;
        c->in_value = 0;
    }
    c->hdr[c->nhdr - 1].nn += (uint32_t)n;
    return head_add(c, at, n);
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
    http_conn_t *c = p->data;
    if (!c->nhdr || c->cstate != CS_HEAD)
        return 0;
    hdr_span_t *h = &c->hdr[c->nhdr - 1];
    if (!c->in_value) {
        h->vo = (uint32_t)c->head.len;
        c->in_value = 1;
    }
    h->vn += (uint32_t)n;
    return head_add(c, at, n);
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch |= 0x20;
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Percent-decodes the path into the head buffer. 0, or -1 with *err. */
static int decode_path(http_conn_t *c, slice_t raw, const char **err)
{
    size_t o = c->head.len;
    char *d = buf_reserve(&c->head, raw.n);
    size_t n = 0;
    for (size_t i = 0; i < raw.n; i++) {
        int ch = (unsigned char)raw.p[i];
        if (ch == '%') {
            int hi = i + 2 < raw.n ? hexval(raw.p[i + 1]) : -1;
            int lo = i + 2 < raw.n ? hexval(raw.p[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                *err = "bad percent-escape in the path";
                return -1;
            }
            ch = hi * 16 + lo;
            i += 2;
        }
        if (ch == 0) {
            *err = "NUL in the path";
            return -1;
        }
        d[n++] = (char)ch;
    }
    c->head.len += n;
    c->req.path = slice_make(c->head.data + o, n);
    return 0;
}

static int has_token(slice_t v, const char *tok)
{
    size_t tn = strlen(tok);
    for (size_t i = 0; i + tn <= v.n; i++)
        if (strncasecmp(v.p + i, tok, tn) == 0)
            return 1;
    return 0;
}

/* Request smuggling: a body's length must have one reading. A request
 * with Content-Length twice (even equal), Transfer-Encoding twice, or both
 * is refused (400) and its connection closed, whatever http-parser would
 * make of it (RFC 9112 6.3); a coding other than chunked is 501 (on_body).
 * 0, or -1 with *err. */
static int framing_check(const http_req_t *r, const char **err)
{
    size_t ncl = 0, nte = 0;
    for (size_t i = 0; i < r->nheaders; i++) {
        if (slice_eq_nocase(r->names[i], "content-length"))
            ncl++;
        else if (slice_eq_nocase(r->names[i], "transfer-encoding"))
            nte++;
    }
    if (ncl > 1)
        *err = "more than one Content-Length";
    else if (nte > 1)
        *err = "more than one Transfer-Encoding";
    else if (ncl && nte)
        *err = "both Content-Length and Transfer-Encoding";
    else
        return 0;
    return -1;
}

/* Fills c->req from the parsed head; -1 with *err when it cannot be served. */
static int build_req(http_conn_t *c, http_parser *p, const char **err)
{
    http_req_t *r = &c->req;
    const char *base = c->head.data ? c->head.data : "";
    switch (p->method) {
    case 1:
        r->method = HM_GET;
        break; /* http-parser's HTTP_GET... */
    case 2:
        r->method = HM_HEAD;
        break;
    case 3:
        r->method = HM_POST;
        break;
    case 6:
        r->method = HM_OPTIONS;
        break;
    default:
        r->method = HM_OTHER;
        break;
    }
    r->target = slice_make(base + c->url_o, c->url_n);
    const char *q = memchr(r->target.p, '?', r->target.n);
    slice_t raw = q ? slice_make(r->target.p, (size_t)(q - r->target.p)) : r->target;
    r->query = q ? slice_make(q + 1, r->target.n - raw.n - 1) : slice_make("", 0);
    r->nheaders = c->nhdr;
    for (size_t i = 0; i < c->nhdr; i++) {
        r->names[i] = slice_make(base + c->hdr[i].no, c->hdr[i].nn);
        r->values[i] = slice_trim(slice_make(base + c->hdr[i].vo, c->hdr[i].vn));
    }
    if (framing_check(r, err))
        return -1;
    r->chunked = (p->flags & F_CHUNKED) != 0;
    r->content_length = r->chunked || !(p->flags & F_CONTENTLENGTH) ? 0 : p->content_length;
    r->has_body = r->chunked || r->content_length > 0;
    r->keep_alive = http_should_keep_alive(p) != 0;
    slice_t up = http_header(r, "upgrade");
    r->upgrade = p->upgrade && up.n && has_token(up, "websocket");
    slice_t ex = http_header(r, "expect");
    r->expect_100 = ex.n && has_token(ex, "100-continue");
    r->peer = c->peer;
    if (raw.n == 0 || raw.p[0] != '/') {
        *err = "the request target must be a path";
        return -1;
    }
    /* decoding appends to head: the slices above stay valid only if it does
     * not move, so make room first */
    buf_reserve(&c->head, raw.n);
    base = c->head.data;
    r->target = slice_make(base + c->url_o, c->url_n);
    raw = slice_make(r->target.p, raw.n);
    if (q)
        r->query = slice_make(r->target.p + raw.n + 1, r->target.n - raw.n - 1);
    for (size_t i = 0; i < c->nhdr; i++) {
        r->names[i] = slice_make(base + c->hdr[i].no, c->hdr[i].nn);
        r->values[i] = slice_trim(slice_make(base + c->hdr[i].vo, c->hdr[i].vn));
    }
    return decode_path(c, raw, err);
}

static int route_path_matches(const http_route_t *rt, slice_t path)
{
    size_t n = strlen(rt->path);
    return rt->prefix ? path.n >= n && memcmp(path.p, rt->path, n) == 0
                      : path.n == n && memcmp(path.p, rt->path, n) == 0;
}

/* The route for r, or NULL; *by_path is the first route whose path
 * matches whatever the method (NULL: none does). */
static const http_route_t *route_find(http_server_t *s, const http_req_t *r,
                                      const http_route_t **by_path)
{
    *by_path = NULL;
    for (size_t i = 0; i < s->nroutes; i++) {
        const http_route_t *rt = &s->routes[i];
        if (!route_path_matches(rt, r->path))
            continue;
        if (!*by_path)
            *by_path = rt;
        if (rt->methods & r->method)
            return rt;
    }
    return NULL;
}

/* 405 with Allow (RFC 9110 15.5.6): the methods of every route whose path
 * matches c's request. */
static void reply_405(http_conn_t *c)
{
    http_server_t *s = c->srv;
    unsigned methods = 0;
    for (size_t i = 0; i < s->nroutes; i++)
        if (route_path_matches(&s->routes[i], c->req.path))
            methods |= s->routes[i].methods;
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{HM_GET, "GET"}, {HM_HEAD, "HEAD"}, {HM_POST, "POST"}, {HM_OPTIONS, "OPTIONS"}};
    char allow[64] = "";
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (methods & names[i].bit)
            snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s",
                     allow[0] ? ", " : "", names[i].name);
    const http_header_t h[] = {{"Allow", allow}};
    static const char body[] = "{\"error\":\"method not allowed here\"}\n";
    http_reply(c, 405, "application/json", h, 1, body, sizeof body - 1);
}

/* --rate-limit: 429 with Retry-After when c's client (its token with
 * --auth-file, else its address) has nothing left in its bucket.
 * The whole request is refused before its handler sees any of it. */
static int over_rate(http_conn_t *c)
{
    http_server_t *s = c->srv;
    /* a token's requests count together wherever they come from; a token
     * name and an address never share a bucket (the prefix) */
    char key[LIMIT_KEY_MAX + 16]; /* a prefix and an address, or a name: limit.c cuts it */
    if (c->principal && s->limit_key)
        snprintf(key, sizeof key, "t:%s", s->limit_key(c->principal));
    else
        snprintf(key, sizeof key, "a:%s", c->peer);
    uint64_t wait_ms = limit_take(s->limits, slice_cstr(key), uv_hrtime());
    if (!wait_ms)
        return 0;
    s->stats.rate_limited++;
    char secs[24];
    snprintf(secs, sizeof secs, "%llu", (unsigned long long)((wait_ms + 999) / 1000));
    const http_header_t h[] = {{"Retry-After", secs}};
    char body[96];
    int n = snprintf(body, sizeof body,
                     "{\"error\":\"too many requests (--rate-limit): retry after %s s\"}\n", secs);
    http_reply(c, 429, "application/json", h, 1, body, (size_t)n);
    return 1;
}

/* Takes the first ticket= pair out of the request's target and query, in
 * the head buffer: an accepted ticket reaches no handler (nor lws, which
 * is replayed the target). */
static void strip_ticket(http_conn_t *c)
{
    http_req_t *r = &c->req;
    char *t = c->head.data + c->url_o; /* r->target, writable */
    size_t qo = (size_t)(r->query.p - r->target.p), tn = r->target.n;
    if (r->query.n == 0 || qo == 0 || qo > tn)
        return;
    for (size_t i = qo; i < tn;) {
        char *amp = memchr(t + i, '&', tn - i);
        size_t end = amp ? (size_t)(amp - t) : tn;
        if (end - i >= 7 && memcmp(t + i, "ticket=", 7) == 0) {
            /* the pair with the separator after it, or else the one before */
            size_t from = i, to = amp ? end + 1 : end;
            if (!amp && from > qo)
                from--;
            memmove(t + from, t + to, tn - to);
            tn -= to - from;
            break;
        }
        i = end + 1;
    }
    if (tn == qo)
        tn--; /* nothing is left of the query: no '?' either */
    r->target.n = tn;
    r->query = tn > qo ? slice_make(t + qo, tn - qo) : slice_make("", 0);
}

/* A refusal with headers: {"error":msg}. */
static void reply_refused(http_conn_t *c, int status, const http_header_t *h, size_t nh,
                          const char *msg)
{
    buf_t b = BUF_INIT;
    buf_puts(&b, "{\"error\":");
    json_str(&b, msg, strlen(msg));
    buf_puts(&b, "}\n");
    http_reply(c, status, "application/json", h, nh, b.data, b.len);
    buf_free(&b);
}

/* Asks the authorize callback whether c's request may reach rt's handler
 * (H5). 0: it may, with its principal kept; -1: refused and answered. */
static int authorize(http_conn_t *c, const http_route_t *rt)
{
    http_server_t *s = c->srv;
    http_cred_t cred;
    const void *p = NULL;
    const char *why = NULL;
    http_cred_parse(http_header(&c->req, "authorization"), c->req.query, rt->tickets, &cred);
    int rc = s->authorize(s->auth_arg, &c->req, rt, &cred, &p, &why);
    if (rc == 0) {
        c->principal = p;
        if (cred.kind == HTTP_CRED_TICKET)
            strip_ticket(c);
        return 0;
    }
    if (p && s->release)
        s->release(s->auth_arg, p); /* a refusal keeps nothing */
    /* a refused credential costs its address a request of --rate-limit:
     * tokens cannot be guessed faster than the rate */
    if (rc == 401 && s->o.rate_limit > 0 && over_rate(c))
        return -1;
    if (rc == 403) {
        s->stats.forbidden++;
        http_reply_error(c, 403, why ? why : "not allowed here");
        return -1;
    }
    /* a page's fetch (Sec-Fetch-Mode other than navigate) gets no Basic
     * challenge: the browser would answer it with its own login box */
    slice_t mode = http_header(&c->req, "sec-fetch-mode");
    int page = mode.p && !slice_eq_nocase(mode, "navigate");
    static const http_header_t challenge[] = {
        {"Cache-Control", "no-store"},
        {"WWW-Authenticate", "Bearer realm=\"logship\""},
        {"WWW-Authenticate", "Basic realm=\"logship\", charset=\"UTF-8\""},
    };
    s->stats.unauthorized++;
    reply_refused(c, 401, challenge, page ? 2 : 3,
                  why                           ? why
                  : cred.kind == HTTP_CRED_NONE ? "a token is needed: Authorization: Bearer TOKEN"
                  : cred.kind == HTTP_CRED_BAD  ? "bad Authorization header: use Bearer TOKEN "
                                                  "or Basic with the token as the password"
                                                : "token not accepted");
    return -1;
}

static int on_headers_complete(http_parser *p)
{
    http_conn_t *c = p->data;
    if (c->failed)
        return -1; /* closing from the loop: nothing more is called back */
    http_server_t *s = c->srv;
    const char *err = NULL;
    c->cstate = CS_BODY;
    c->counted = 1;
    s->inflight++;
    rearm(c);
    if (build_req(c, p, &err) == 0 && p->upgrade)
        /* not served as an upgrade: what follows the head is not HTTP */
        c->close_after = 1;
    if (err) {
        s->stats.bad_requests++;
        c->close_after = 1;
        http_reply_error(c, 400, err);
        return 0;
    }
    if (!origin_host_ok(&s->o, http_header(&c->req, "host"))) {
        s->stats.cross_origin++;
        http_reply_error(c, 403, "Host not allowed: add it with --allowed-host");
        return 0;
    }
    const http_route_t *by_path;
    const http_route_t *rt = route_find(s, &c->req, &by_path);
    const http_route_t *cr = rt ? rt : by_path;
    if (cr && cr->cors) {
        slice_t origin = http_header(&c->req, "origin");
        if (cors_listed(&s->o, origin))
            c->cors_origin = origin;
        if (!rt && c->req.method == HM_OPTIONS) {
            cors_options(c, cr); /* the layer answers OPTIONS on a cors route */
            return 0;
        }
    }
    if (!rt) {
        if (by_path) {
            s->stats.bad_method++;
            reply_405(c);
        } else {
            s->stats.not_found++;
            http_reply_error(c, 404, "no such endpoint");
        }
        return 0;
    }
    int writes = rt->writes || (c->req.method & (HM_GET | HM_HEAD | HM_OPTIONS)) == 0 ||
                 (c->req.upgrade && rt->websocket);
    /* a CORS origin is trusted on the CORS routes (cors.c) */
    if (writes && !c->cors_origin.n && !origin_ok(&s->o, &c->req)) {
        s->stats.cross_origin++;
        log_warn("http: refused a cross-site request from %s (Origin %.*s)", c->peer,
                 (int)http_header(&c->req, "origin").n, http_header(&c->req, "origin").p);
        http_reply_error(c, 403,
                         "cross-origin request refused: add the origin with "
                         "--allowed-origin");
        return 0;
    }
    if (s->authorize && authorize(c, rt))
        return 0; /* refused, and answered (H5) */
    if (s->o.rate_limit > 0 && over_rate(c))
        return 0;
    if (c->req.upgrade && rt->websocket && s->upgrade) {
        c->upgrade = 1;
        c->close_after = 0;
        return 0;
    }
    c->h = rt->handler;
    c->data = rt->data;
    if (c->state_of != c->h) {
        if (c->state && c->state_of && c->state_of->on_free)
            c->state_of->on_free(c->state);
        free(c->state);
        c->state = c->h->state_size ? xcalloc(1, c->h->state_size) : NULL;
        c->state_of = c->h;
    }
    c->in_handler = 1;
    if (c->h->on_request(c, &c->req) < 0)
        http_close(c);
    return c->dead || c->cstate == CS_CLOSING ? -1 : 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    http_conn_t *c = p->data;
    if (c->failed)
        return -1; /* closing from the loop: nothing more is called back */
    c->received += n;
    if (c->answered || !c->h || !c->h->on_body) {
        c->discarded += n;
        if (c->discarded > DISCARD_MAX) {
            http_close(c);
            return -1;
        }
        return 0;
    }
    if (c->h->on_body(c, at, n) < 0) {
        http_close(c);
        return -1;
    }
    return c->dead || c->cstate == CS_CLOSING ? -1 : 0;
}

static int on_message_complete(http_parser *p)
{
    http_conn_t *c = p->data;
    if (c->failed)
        return -1; /* closing from the loop: nothing more is called back */
    c->body_done = 1;
    if (c->upgrade) {
        set_paused(c, 1);
        return 0;
    }
    uint64_t served = c->served;
    if (!c->answered && c->h && c->h->on_body_done && c->h->on_body_done(c) < 0) {
        http_close(c);
        return -1;
    }
    if (c->dead || c->cstate == CS_CLOSING)
        return -1;
    if (c->served != served)
        return 0; /* answered from on_body_done: the request has ended, on to the next */
    if (!c->answered && c->h && !c->h->on_body_done && !c->in_handler)
        http_reply_error(c, 500, "no reply");
    if (c->answered && !c->streaming) {
        /* answered: the parser goes on with what follows in this read */
        set_paused(c, 1);
        request_end(c);
        return 0;
    }
    c->cstate = CS_WAIT;
    rearm(c);
    set_paused(c, 1); /* H1: nothing more until this one is answered */
    return 0;
}

void http_settings_init(http_parser_settings *st)
{
    memset(st, 0, sizeof *st);
    st->on_message_begin = on_message_begin;
    st->on_url = on_url;
    st->on_header_field = on_header_field;
    st->on_header_value = on_header_value;
    st->on_headers_complete = on_headers_complete;
    st->on_body = on_body;
    st->on_message_complete = on_message_complete;
}

/* ---- reading ------------------------------------------------------------------ */

static void bad_request(http_conn_t *c, enum http_errno e)
{
    http_server_t *s = c->srv;
    s->stats.bad_requests++;
    c->close_after = 1;
    c->ended = 0; /* bytes that are no request get one answer too */
    if (c->head_too_big) {
        log_warn("http: %s: request head over %u bytes or %u headers", c->peer, HTTP_HEAD_MAX,
                 HTTP_HEADERS_MAX);
        http_reply_error(c, 431, "request head larger than 16 KiB or over 64 headers");
    } else if (c->answered) {
        http_close(c);
        return;
    } else {
        char msg[160];
        const char *why = http_errno_description(e);
        if (e == HPE_INVALID_CONTENT_LENGTH)
            why = "bad Content-Length";
        else if (e == HPE_UNEXPECTED_CONTENT_LENGTH)
            why = "Content-Length together with Transfer-Encoding";
        else if (e == HPE_INVALID_TRANSFER_ENCODING)
            why = "unsupported Transfer-Encoding (only chunked)";
        snprintf(msg, sizeof msg, "bad request: %s", why);
        log_debug("http: %s: %s", c->peer, msg);
        if (c->cstate == CS_HEAD || c->cstate == CS_IDLE) {
            c->counted = 1;
            s->inflight++;
        }
        http_reply_error(c, e == HPE_INVALID_TRANSFER_ENCODING ? 501 : 400, msg);
    }
    if (!c->dead)
        close_gracefully(c);
}

/* Parses p[0..n); returns how much the parser took. */
static size_t parse(http_conn_t *c, const char *p, size_t n)
{
    if (HTTP_PARSER_ERRNO(&c->parser) == HPE_PAUSED || c->cstate == CS_CLOSING || c->dead ||
        c->failed)
        return 0;
    size_t used = http_parser_execute(&c->parser, &c->srv->settings, p, n);
    for (;;) {
        if (c->dead || c->failed || c->cstate == CS_CLOSING)
            return n; /* failed: nothing more is parsed (fail_later) */
        enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
        if (e == HPE_PAUSED || (e == HPE_OK && used == n) || (e == HPE_OK && c->upgrade))
            return used;
        if (e != HPE_OK) {
            bad_request(c, e);
            return n;
        }
        /* http-parser stops after a head that asks for an upgrade we did not
         * take; such a request was answered with close, so this is rare */
        size_t more = http_parser_execute(&c->parser, &c->srv->settings, p + used, n - used);
        if (!more) {
            bad_request(c, HPE_UNKNOWN);
            return n;
        }
        used += more;
    }
}

/* Parses what the connection buffered, as far as the parser goes. */
static void drive(http_conn_t *c)
{
    if (c->driving) {
        c->redrive = 1;
        return;
    }
    c->driving = 1;
    do {
        c->redrive = 0;
        if (c->rpos < c->rbuf.len) {
            size_t used = parse(c, c->rbuf.data + c->rpos, c->rbuf.len - c->rpos);
            if (c->dead)
                break;
            c->rpos += used;
            if (c->rpos == c->rbuf.len) {
                buf_reset(&c->rbuf);
                buf_shrink(&c->rbuf, 0);
                c->rpos = 0;
            }
        }
    } while (c->redrive && !c->dead);
    c->driving = 0;
    if (c->dead)
        return;
    if (c->upgrade && !c->handoff) {
        /* hand the socket over with the head, rebuilt, and what followed */
        http_req_t *r = &c->req;
        buf_t b = BUF_INIT;
        buf_puts(&b, "GET ");
        buf_append(&b, r->target.p, r->target.n);
        buf_puts(&b, " HTTP/1.1\r\n");
        for (size_t i = 0; i < r->nheaders; i++) {
            buf_append(&b, r->names[i].p, r->names[i].n);
            buf_puts(&b, ": ");
            buf_append(&b, r->values[i].p, r->values[i].n);
            buf_puts(&b, "\r\n");
        }
        buf_puts(&b, "\r\n");
        if (c->rpos < c->rbuf.len)
            buf_append(&b, c->rbuf.data + c->rpos, c->rbuf.len - c->rpos);
        c->handoff = b.data;
        c->handoff_n = b.len;
        c->handoff_principal = c->principal; /* the upgrade's now (H5) */
        c->principal = NULL;
        if (c->counted) {
            c->counted = 0;
            c->srv->inflight--;
        }
        conn_close(c);
        return;
    }
    if (c->peer_eof && c->rpos == c->rbuf.len && c->cstate != CS_CLOSING) {
        /* the requests buffered when the client half-closed are parsed */
        after_eof(c);
        if (c->dead)
            return;
    }
    update_interest(c);
}

/* The client half-closed and everything it sent has been parsed: the
 * request being answered is answered, then the connection ends. */
static void after_eof(http_conn_t *c)
{
    if (c->cstate == CS_WAIT && !c->answered) {
        /* a half-close after a whole request: answer, then close */
        c->close_after = 1;
        return;
    }
    if (c->cstate == CS_HEAD || (c->cstate == CS_BODY && !c->body_done)) {
        /* cut off mid-request */
        http_parser_execute(&c->parser, &c->srv->settings, NULL, 0);
    }
    if (c->dead)
        return;
    if (c->streaming || all_sent(c)) {
        conn_close(c);
        return;
    }
    /* replies to what came before the half-close are still owed */
    close_gracefully(c);
}

/* Takes n bytes just read into buf (the scratch or rbuf's free room). */
static void take(http_conn_t *c, const char *buf, size_t n, int in_rbuf)
{
    if (in_rbuf) {
        c->rbuf.len += n;
        drive(c);
        return;
    }
    size_t used = 0;
    if (!c->driving) {
        c->driving = 1;
        used = parse(c, buf, n);
        c->driving = 0;
    }
    if (c->dead)
        return;
    if (used < n && c->cstate != CS_CLOSING)
        buf_append(&c->rbuf, buf + used, n - used);
    drive(c);
}

/* The TLS session failed. Plaintext first gets a plain 400 that says why
 * (as nginx answers http:// on an https port); anything else the close,
 * after the alert the session made. */
static void tls_refused(http_conn_t *c)
{
    http_server_t *s = c->srv;
    if (tls_failure(c->tls) != TLS_PLAINTEXT || c->served || c->cstate != CS_IDLE) {
        tls_log_failure(&s->tlslog, c->peer, tls_why(c->tls));
        conn_close(c);
        return;
    }
    log_debug("http: %s: %s", c->peer, tls_why(c->tls));
    s->stats.tls_plaintext++;
    tls_session_destroy(c->tls);
    c->tls = NULL;
    c->io = &conn_io_plain;
    c->close_after = 1;
    c->counted = 1;
    s->inflight++;
    c->req.keep_alive = 0;
    http_reply_error(c, 400, "this port speaks TLS: use https:// (wss:// for WebSocket)");
    if (!c->dead)
        close_gracefully(c);
}

/* Whether the connection reads now (H4: not while its buffer is full). */
static int reading(const http_conn_t *c)
{
    return !c->peer_eof && c->rbuf.len - c->rpos < HTTP_RBUF_MAX;
}

static void on_readable(http_conn_t *c)
{
    http_server_t *s = c->srv;
    for (int round = 0; round < 4 && !c->dead; round++) {
        size_t pending = c->rbuf.len - c->rpos;
        if (c->cstate == CS_CLOSING) {
            /* lingering: read and drop until the client stops */
            ssize_t r = c->io->read(c, s->read_scratch, sizeof s->read_scratch);
            if (r == 0) {
                c->peer_eof = 1;
                if (all_sent(c))
                    conn_close(c);
                else
                    update_interest(c);
            } else if (r < 0 && errno != EAGAIN && errno != EINTR) {
                conn_close(c);
            }
            return;
        }
        if (pending >= HTTP_RBUF_MAX)
            break; /* H4: the next request waits in the socket */
        char *dst;
        size_t room;
        int in_rbuf = pending > 0;
        if (in_rbuf) {
            room = HTTP_RBUF_MAX - pending;
            dst = buf_reserve(&c->rbuf, room);
        } else {
            dst = s->read_scratch;
            room = sizeof s->read_scratch;
        }
        ssize_t r = c->io->read(c, dst, room);
        if (r < 0) {
            if (errno == EPROTO && c->tls)
                tls_refused(c);
            else if (errno != EAGAIN && errno != EINTR)
                conn_close(c);
            break;
        }
        if (r == 0) {
            c->peer_eof = 1;
            if (c->rpos < c->rbuf.len && !c->streaming)
                /* requests pipelined behind the one being answered are
                 * buffered: they are served first, and drive() ends the
                 * connection once they are parsed (peer_eof) */
                break;
            after_eof(c);
            return;
        }
        s->stats.bytes_in += (uint64_t)r;
        take(c, dst, (size_t)r, in_rbuf);
        if (c->dead)
            return;
        if (c->cstate == CS_BODY)
            rearm(c); /* the body made progress */
        if ((size_t)r < room)
            break;
    }
    /* TLS: a reply queued during the handshake (a 503) can go now */
    if (!c->dead && c->tls && !all_sent(c) && flush(c))
        return;
    if (!c->dead)
        update_interest(c);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    http_conn_t *c = h->data;
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (c->resume) {
        c->resume = 0;
        drive(c);
        if (c->dead)
            return;
    }
    if (events & UV_WRITABLE) {
        int had = !all_sent(c);
        if (flush(c))
            return;
        if (had && all_sent(c)) {
            if (c->cstate == CS_CLOSING) {
                /* written: stop sending, read what the client still sends
                 * so the close does not reset the reply away */
                c->io->shutdown(c);
                if (c->peer_eof) {
                    conn_close(c);
                    return;
                }
            }
            rearm(c);
        }
        if (c->want_writable && all_sent(c) && !c->dead) {
            c->want_writable = 0;
            if (c->in_handler && c->h && c->h->on_writable && c->h->on_writable(c) < 0)
                http_close(c);
            if (c->dead)
                return;
        }
    }
    /* TLS input already in the session is read without the socket */
    if ((events & (UV_READABLE | UV_DISCONNECT)) || (reading(c) && c->io->buffered(c)))
        on_readable(c);
    if (!c->dead)
        update_interest(c);
}

static void update_interest(http_conn_t *c)
{
    if (c->dead || c->failed)
        return;
    int ev = 0;
    if (reading(c))
        ev |= UV_READABLE;
    /* writable: to send, unless the TLS handshake waits for the client;
     * or to come back at once (a handler's on_writable, a pipelined
     * request, TLS input the session holds) */
    int sending = c->io->pending(c) || (c->out.len > c->opos && !c->io->waits_input(c));
    if (sending || c->want_writable || c->resume || (reading(c) && c->io->buffered(c)))
        ev |= UV_WRITABLE;
    if (c->cstate == CS_CLOSING && all_sent(c) && c->peer_eof) {
        conn_close(c);
        return;
    }
    if (ev == c->events)
        return;
    c->events = ev;
    if (ev)
        uv_poll_start(&c->poll, ev, on_poll);
    else
        uv_poll_stop(&c->poll);
}

void conn_drain(http_conn_t *c)
{
    if (c->dead)
        return;
    if (c->cstate == CS_IDLE || c->cstate == CS_HEAD || c->streaming) {
        /* nothing accepted that must be answered: go now */
        c->streaming = 0;
        if (c->in_handler) {
            c->in_handler = 0;
            if (c->h && c->h->on_end)
                c->h->on_end(c);
        }
        conn_close(c);
        return;
    }
    c->close_after = 1;
}

void conn_start(http_server_t *s, int fd, const char *peer)
{
    tls_session_t *t = NULL;
    if (s->tls && !(t = tls_session_create(s->tls, &s->stats.tls))) {
        log_warn("http: %s: no TLS session (out of memory): connection closed", peer);
        close(fd);
        return;
    }
    http_conn_t *c = xcalloc(1, sizeof *c);
    c->srv = s;
    c->fd = fd;
    c->tls = t;
    c->io = t ? &conn_io_tls : &conn_io_plain;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    uv_poll_init(s->loop, &c->poll, fd);
    uv_timer_init(s->loop, &c->deadline);
    uv_timer_init(s->loop, &c->timer);
    c->poll.data = c->deadline.data = c->timer.data = c;
    c->handles = 3;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    s->stats.conns_open++;
    s->stats.conns_total++;
    c->cstate = CS_IDLE;
    if (s->limits && s->o.max_client_connections) {
        if (limit_conn_open(s->limits, slice_cstr(c->peer), uv_hrtime()) == 0) {
            c->limit_counted = 1;
        } else {
            s->stats.client_conns_refused++;
            c->counted = 1;
            s->inflight++;
            c->req.keep_alive = 0;
            c->close_after = 1;
            http_reply_error(c, 503,
                             "too many connections from this address "
                             "(--max-client-connections)");
            return;
        }
    }
    if (s->nconns > (s->o.max_connections ? s->o.max_connections : 10000)) {
        s->stats.conns_refused++;
        c->counted = 1;
        s->inflight++;
        c->req.keep_alive = 0;
        c->close_after = 1;
        http_reply_error(c, 503, "too many connections (--max-connections)");
        return;
    }
    rearm(c);
    update_interest(c);
}
