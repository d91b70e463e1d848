/* fuzz_http_conn.c - the HTTP connection path (src/http/conn.c), in
 * process: the input is what a client sends on one connection, written in
 * pieces into one end of a socketpair whose other end the HTTP server has
 * adopted, with the server's libuv loop run between the pieces - the same
 * code that serves sockets, with no network.
 *
 * Input: byte 0 picks how the rest is cut into writes (bits 0-1: whole,
 * single bytes, or pseudo-random pieces seeded by byte 0) and how the client
 * leaves (bit 2: it half-closes after the last piece and reads every reply;
 * set: it vanishes, closing its socket, so that replies and streams meet a
 * dead socket inside the handlers' calls). Either way the server must then
 * finish and close the connection. Bit 3: the same over TLS (a second
 * server with http_server_set_tls; an in-process OpenSSL client does the
 * handshake, encrypts the pieces, decrypts the replies, and half-closes
 * with close_notify), so the TLS transport (transport.c) and the wss
 * bridge's refusal path run under the same checks, and no session fails.
 *
 * The test routes echo "echo:<target>" so that every reply can be matched
 * to its request:
 *   /sync    answered in on_request
 *   /body    body collected, answered in on_body_done
 *   /async   answered from the loop after on_body_done (as a store append)
 *   /early   413 in on_request, before the body (the layer drops the rest)
 *   /stream  a chunked reply written in three pieces from on_writable
 *   /double  answered twice (the second must be ignored and counted)
 *   /close   on_request returns -1 (closed unanswered)
 *   /ws      a WebSocket route: the upgrade callback closes the socket
 *   /w       /body, but a state-changing route (Origin checks)
 *   /c       /w with CORS for http://ok.example (the layer answers OPTIONS)
 *   /cs      /stream with CORS (the headers on a chunked reply)
 *   /a       needs a credential (the authorize callback below): Bearer or
 *            Basic with the password "good-token", or ?ticket=good-ticket;
 *            "Bearer no-scope" is a 403; anything else a 401. It answers
 *            "auth:<target>" once the layer let it in.
 *   /wa      /a as a WebSocket route
 *
 * What must hold, or the driver aborts:
 *   - the bytes sent back are a sequence of well-formed HTTP/1.1 responses
 *     (only a stream the server gave up at the client's close may be cut);
 *   - the i-th response that echoes, echoes the i-th request (H1: one at a
 *     time, in order; a reference http-parser over the input tells which);
 *   - each completion counted in the stats was sent, once (H2), and the
 *     second replies counted are the /double ones;
 *   - handler callbacks come in order: on_request, on_body*, on_body_done,
 *     then on_end exactly once, never two requests in a handler at once,
 *     and a Content-Length body arrives whole before on_body_done;
 *   - after the half-close the connection closes within a bounded number
 *     of loop passes (no wedge) and nothing of it is left;
 *   - /a's handler runs only with a principal; the target it sees is the
 *     one authorize saw with the first ticket= pair taken out exactly as a
 *     plain reference does it (when a ticket was the credential), with its
 *     query the part after '?'; every principal is given back once (H5):
 *     none is left when the connection is gone (ASan sees a double one).
 * The reference parser and the response checker are in http_check.h,
 * shared with fuzz_routes.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <http_parser.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <openssl/ssl.h>

#include "common/buf.h"
#include "common/log.h"
#include "http/http.h"
#include "http_check.h"
#include "tls_cert.h"

/* ---- the handlers ---------------------------------------------------------- */

typedef struct tracker {
    int active;    /* between on_request and on_end */
    int body_done; /* on_body_done seen for the current request */
    uint64_t body, cl;
    int chunked;
    int parts; /* /stream pieces written */
    char echo[HTTP_HEAD_MAX + 8];
    size_t echo_n;
    http_conn_t *pending; /* /async: reply from the loop */
    uint64_t requests, ends, doubles;
} tracker_t;

static tracker_t T;

static int t_begin(http_conn_t *c, const http_req_t *r)
{
    (void)c;
    if (T.active)
        abort(); /* H1: two requests in handlers at once */
    T.active = 1;
    T.body_done = 0;
    T.body = 0;
    T.parts = 0;
    T.cl = r->content_length;
    T.chunked = r->chunked;
    T.requests++;
    size_t n = r->target.n < HTTP_HEAD_MAX ? r->target.n : HTTP_HEAD_MAX;
    memcpy(T.echo, "echo:", 5);
    memcpy(T.echo + 5, r->target.p, n);
    T.echo_n = n + 5;
    return 0;
}

static void echo(http_conn_t *c, int status)
{
    http_reply(c, status, "text/plain", NULL, 0, T.echo, T.echo_n);
}

static int on_sync(http_conn_t *c, const http_req_t *r)
{
    t_begin(c, r);
    echo(c, 200);
    return 0;
}

static int on_later(http_conn_t *c, const http_req_t *r)
{
    return t_begin(c, r);
}

static int on_early(http_conn_t *c, const http_req_t *r)
{
    t_begin(c, r);
    echo(c, 413);
    return 0;
}

static int on_double(http_conn_t *c, const http_req_t *r)
{
    t_begin(c, r);
    echo(c, 200);
    http_reply_error(c, 500, "second");
    T.doubles++;
    return 0;
}

static int on_closer(http_conn_t *c, const http_req_t *r)
{
    t_begin(c, r);
    return -1;
}

static int on_stream(http_conn_t *c, const http_req_t *r)
{
    t_begin(c, r);
    http_stream_begin(c, 200, "text/plain", NULL, 0);
    http_want_writable(c);
    return 0;
}

static int on_body(http_conn_t *c, const char *p, size_t n)
{
    (void)c;
    (void)p;
    if (!T.active || T.body_done)
        abort(); /* body outside its request */
    T.body += n;
    return 0;
}

static int body_done(http_conn_t *c)
{
    (void)c;
    if (!T.active || T.body_done)
        abort();
    T.body_done = 1;
    if (!T.chunked && T.body != T.cl)
        abort(); /* a Content-Length body must arrive whole */
    return 0;
}

static int on_body_done_now(http_conn_t *c)
{
    body_done(c);
    echo(c, 200);
    return 0;
}

static int on_body_done_later(http_conn_t *c)
{
    body_done(c);
    T.pending = c;
    return 0;
}

static int on_writable(http_conn_t *c)
{
    if (!T.active)
        abort();
    size_t third = T.echo_n / 3;
    if (T.parts < 2) {
        http_stream_write(c, T.echo + third * (size_t)T.parts, third);
        T.parts++;
        http_want_writable(c);
    } else {
        http_stream_write(c, T.echo + third * 2, T.echo_n - third * 2);
        http_stream_end(c);
    }
    return 0;
}

static void on_end(http_conn_t *c)
{
    (void)c;
    if (!T.active)
        abort(); /* on_end without a request, or twice */
    T.active = 0;
    T.pending = NULL;
    T.ends++;
}

static const http_handler_t h_sync = {"sync", 0, on_sync, on_body, NULL, NULL, NULL, on_end, NULL};
static const http_handler_t h_body = {"body", 0,    on_later, on_body, on_body_done_now,
                                      NULL,   NULL, on_end,   NULL};
static const http_handler_t h_async = {"async", 0,    on_later, on_body, on_body_done_later,
                                       NULL,    NULL, on_end,   NULL};
static const http_handler_t h_early = {"early", 0,    on_early, on_body, NULL,
                                       NULL,    NULL, on_end,   NULL};
static const http_handler_t h_double = {"double", 0,    on_double, NULL, NULL,
                                        NULL,     NULL, on_end,    NULL};
static const http_handler_t h_close = {"close", 0, on_closer, NULL, NULL, NULL, NULL, on_end, NULL};
static const http_handler_t h_stream = {"stream",    16,   on_stream, NULL, NULL,
                                        on_writable, NULL, on_end,    NULL};

/* ---- authorization -------------------------------------------------------------- */

typedef struct principal {
    int ticket; /* the credential was ?ticket= */
    buf_t seen; /* the target when authorize was asked */
} principal_t;

static long live_principals;

static int authorize(void *arg, const http_req_t *r, const http_route_t *rt,
                     const http_cred_t *cred, const void **principal, const char **why)
{
    (void)arg;
    (void)why;
    if (!rt->scope)
        return 0; /* the routes without one: anyone */
    if (cred->kind == HTTP_CRED_BEARER && slice_eq(cred->secret, "no-scope"))
        return 403;
    int ok = (cred->kind == HTTP_CRED_BEARER || cred->kind == HTTP_CRED_BASIC)
                 ? slice_eq(cred->secret, "good-token")
                 : cred->kind == HTTP_CRED_TICKET && slice_eq(cred->secret, "good-ticket");
    if (cred->kind == HTTP_CRED_TICKET && !rt->tickets)
        abort(); /* a ticket only where the route takes them */
    if (!ok)
        return 401;
    principal_t *p = xcalloc(1, sizeof *p);
    p->ticket = cred->kind == HTTP_CRED_TICKET;
    buf_append(&p->seen, r->target.p, r->target.n);
    *principal = p;
    live_principals++;
    return 0;
}

static void release(void *arg, const void *principal)
{
    principal_t *p = (principal_t *)principal;
    (void)arg;
    buf_free(&p->seen);
    free(p);
    live_principals--;
}

/* The reference: target with its query's first ticket= pair taken out
 * (and the '?' when nothing is left of the query), written plainly: the
 * other pairs joined again with '&'. */
static void ref_strip(const char *t, size_t n, buf_t *out)
{
    const char *q = memchr(t, '?', n);
    buf_reset(out);
    if (!q) {
        buf_append(out, t, n);
        return;
    }
    size_t qo = (size_t)(q - t) + 1, kept = 0;
    int dropped = 0;
    buf_t rest = BUF_INIT;
    for (size_t i = qo; i <= n;) {
        const char *amp = memchr(t + i, '&', n - i);
        size_t end = amp ? (size_t)(amp - t) : n;
        if (!dropped && end - i >= 7 && memcmp(t + i, "ticket=", 7) == 0) {
            dropped = 1;
        } else {
            if (kept++)
                buf_putc(&rest, '&');
            buf_append(&rest, t + i, end - i);
        }
        if (!amp)
            break;
        i = end + 1;
    }
    buf_append(out, t, rest.len ? qo : qo - 1);
    buf_append(out, rest.data, rest.len);
    buf_free(&rest);
}

static int on_auth(http_conn_t *c, const http_req_t *r)
{
    const principal_t *p = http_principal(c);
    t_begin(c, r);
    if (!p)
        abort(); /* H5: the layer let it in without asking */
    buf_t want = BUF_INIT;
    if (p->ticket) {
        ref_strip(p->seen.data, p->seen.len, &want);
        if (want.len != r->target.n || memcmp(want.data, r->target.p, want.len) != 0)
            abort(); /* the ticket not taken out as it should be */
    }
    buf_free(&want);
    const char *q = memchr(r->target.p, '?', r->target.n);
    size_t qn = q ? r->target.n - (size_t)(q - r->target.p) - 1 : 0;
    if (r->query.n != qn || (qn && r->query.p != q + 1))
        abort(); /* the query is not what follows the '?' */
    memcpy(T.echo, "auth:", 5);
    http_reply(c, 200, "text/plain", NULL, 0, T.echo, T.echo_n);
    return 0;
}

static const http_handler_t h_auth = {"auth", 0, on_auth, on_body, NULL, NULL, NULL, on_end, NULL};

static const http_route_t routes[] = {
    {.methods = HM_GET | HM_HEAD | HM_POST, .path = "/sync", .handler = &h_sync},
    {.methods = HM_POST | HM_GET, .path = "/body", .handler = &h_body},
    {.methods = HM_POST | HM_GET | HM_OPTIONS, .path = "/async", .handler = &h_async},
    {.methods = HM_POST, .path = "/early", .handler = &h_early},
    {.methods = HM_GET | HM_HEAD, .path = "/stream", .handler = &h_stream},
    {.methods = HM_GET, .path = "/double", .handler = &h_double},
    {.methods = HM_GET, .path = "/close", .handler = &h_close},
    {.methods = HM_GET, .path = "/ws", .websocket = 1, .handler = &h_sync},
    {.methods = HM_GET | HM_POST, .path = "/w", .prefix = 1, .writes = 1, .handler = &h_body},
    {.methods = HM_GET | HM_POST, .path = "/c", .writes = 1, .cors = 1, .handler = &h_body},
    {.methods = HM_GET | HM_HEAD, .path = "/cs", .cors = 1, .handler = &h_stream},
    {.methods = HM_GET | HM_POST, .path = "/a", .scope = 1, .tickets = 1, .handler = &h_auth},
    {.methods = HM_GET,
     .path = "/wa",
     .websocket = 1,
     .scope = 1,
     .tickets = 1,
     .handler = &h_auth},
};

static int on_upgrade(void *arg, int fd, const char *bytes, size_t n, const char *peer,
                      const void *principal)
{
    (void)arg;
    if (n < 4 || memcmp(bytes, "GET ", 4) != 0)
        abort(); /* the head is replayed as it was parsed */
    if (n >= 7 && memcmp(bytes, "GET /wa", 7) == 0 && (bytes[7] == ' ' || bytes[7] == '?') &&
        !principal)
        abort(); /* H5: handed over unasked */
    if (principal)
        release(NULL, principal); /* ours now */
    if (!peer || strcmp(peer, "fuzz") != 0)
        abort(); /* the client as adopted, over TLS too (the socketpair is no client) */
    close(fd);
    return 0;
}

/* ---- the checks (http_check.h): the echo of each answer ------------------ */

static void on_response(size_t i, int status, const buf_t *body)
{
    (void)status;
    if (body->len >= 5 && memcmp(body->data, "echo:", 5) == 0) {
        /* H1: the i-th answer is the i-th request's */
        if (i >= HC_R.n)
            abort();
        if (body->len - 5 != HC_R.url[i].len ||
            memcmp(body->data + 5, HC_R.url[i].data, HC_R.url[i].len) != 0)
            abort();
    }
}

/* ---- the driver ------------------------------------------------------------------ */

static uv_loop_t loop;
static http_server_t *srv, *srv_tls;
static tls_ctx_t *tctx;
static SSL_CTX *cctx;

/* ---- TLS mode: the client's session ---------------------------------------------- */

static SSL *cl;
static BIO *cnet; /* the client's ciphertext, in and out */

static void cl_start(void)
{
    BIO *inner;
    cl = SSL_new(cctx);
    if (!cl || BIO_new_bio_pair(&inner, 65536, &cnet, 65536) != 1)
        abort();
    SSL_set_bio(cl, inner, inner);
    SSL_set_connect_state(cl);
}

static void cl_free(void)
{
    SSL_free(cl);
    BIO_free(cnet);
    cl = NULL;
    cnet = NULL;
}

/* Sends the client's ciphertext, reads the server's and decrypts it into
 * hc_out; returns 1 at the server's end of stream. */
static int cl_move(int fd)
{
    int eof = 0;
    for (int round = 0; round < 64; round++) {
        int moved = 0;
        char *p;
        ossl_ssize_t n;
        while ((n = BIO_nread0(cnet, &p)) > 0) {
            ssize_t w = send(fd, p, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w <= 0)
                break;
            BIO_nread(cnet, NULL, (int)w);
            moved = 1;
        }
        while (!eof && (n = BIO_nwrite0(cnet, &p)) > 0) {
            ssize_t r = recv(fd, p, (size_t)n, MSG_DONTWAIT);
            if (r > 0) {
                BIO_nwrite(cnet, NULL, (int)r);
                moved = 1;
                continue;
            }
            if (r == 0 || (errno != EAGAIN && errno != EINTR))
                eof = 1;
            break;
        }
        for (;;) {
            char *d = buf_reserve(&hc_out, 65536);
            int r = SSL_read(cl, d, 65536);
            if (r <= 0)
                break;
            hc_out.len += (size_t)r;
            moved = 1;
        }
        if (!SSL_is_init_finished(cl))
            SSL_do_handshake(cl); /* goes on as ciphertext comes */
        if (!moved)
            break;
    }
    return eof;
}

static int tls_mode;

/* What the server sent, into hc_out; 1 at its end of stream. */
static int drain(int fd)
{
    return tls_mode ? cl_move(fd) : hc_drain(fd);
}

static void setup(void)
{
    static const char *const cors[] = {"http://ok.example"};
    static const http_options_t o = {
        .cors_origins = cors,
        .ncors_origins = 1,
        .max_connections = 16,
        .request_timeout_ms = 600000, /* deadlines must not fire mid-input */
        .keepalive_timeout_ms = 600000,
    };
    if (!getenv("FUZZ_HTTP_DEBUG"))
        log_threshold = LOG_ERROR; /* refusals are expected here, by the thousand */
    uv_loop_init(&loop);
    srv = http_server_create(&loop, &o, routes, sizeof routes / sizeof routes[0]);
    if (!srv)
        abort();
    http_server_on_upgrade(srv, on_upgrade, NULL);
    http_server_on_authorize(srv, authorize, release, NULL);
    HC_S.on_response = on_response;
    tctx = tls_cert_ctx();
    srv_tls = http_server_create(&loop, &o, routes, sizeof routes / sizeof routes[0]);
    http_server_set_tls(srv_tls, tctx);
    http_server_on_upgrade(srv_tls, on_upgrade, NULL);
    cctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_mode(cctx, SSL_MODE_ENABLE_PARTIAL_WRITE);
}

/* One loop pass, then what a store completion would do. */
static void pump(int fd)
{
    uv_run(&loop, UV_RUN_NOWAIT);
    if (T.pending) {
        http_conn_t *c = T.pending;
        T.pending = NULL;
        echo(c, 200);
    }
    drain(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        setup();
        ready = 1;
    }
    if (size < 1 || size > 65536)
        return 0;
    unsigned mode = data[0] & 3;
    tls_mode = (data[0] & 8) != 0;
    http_server_t *s = tls_mode ? srv_tls : srv;
    uint32_t seed = 0x9e3779b9u ^ data[0];
    const char *in = (const char *)data + 1;
    size_t n = size - 1;

    memset(&T, 0, sizeof T);
    hc_reset();

    /* the requests the input holds, as the server's own parser sees them */
    hc_reqs_parse(in, n);

    const http_stats_t *st = http_server_stats(s);
    uint64_t before = 0, dbl_before = st->double_replies;
    uint64_t tls_bad = st->tls.handshake_failures + st->tls.errors;
    for (int i = 200; i < 600; i++)
        before += st->status[i];

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
        abort();
    if (http_server_adopt(s, sv[0], "fuzz"))
        abort();
    if (tls_mode) {
        cl_start();
        for (int pass = 0; pass < 1000 && !SSL_is_init_finished(cl); pass++) {
            SSL_do_handshake(cl);
            pump(sv[1]);
        }
        if (!SSL_is_init_finished(cl))
            abort(); /* the server never finished a handshake with a real client */
    }

    /* send in pieces, running the loop between them */
    size_t off = 0, piece = 0;
    int stuck = 0;
    while (off < n && stuck < 1000) {
        if (!piece) /* a TLS write that had to wait is repeated as it was */
            piece = hc_piece(mode, &seed, n - off);
        ssize_t w;
        if (tls_mode) {
            int r = SSL_write(cl, in + off, (int)piece);
            int want = r <= 0 && SSL_get_error(cl, r) == SSL_ERROR_WANT_WRITE;
            int dead = drain(sv[1]); /* the ciphertext goes out */
            w = r > 0 ? r : -1;
            errno = want && !dead ? EAGAIN : EPIPE;
        } else {
            w = send(sv[1], in + off, piece, MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        if (w > 0) {
            off += (size_t)w;
            piece = 0;
            stuck = 0;
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
            break; /* the server closed: it stopped reading for good */
        } else {
            stuck++;
        }
        pump(sv[1]);
    }
    if (data[0] & 4) {
        /* the client vanishes: only the handler invariants and the close */
        close(sv[1]);
        for (int pass = 0; pass < 20000 && st->conns_open; pass++) {
            uv_run(&loop, UV_RUN_NOWAIT);
            if (T.pending) {
                http_conn_t *c = T.pending;
                T.pending = NULL;
                echo(c, 200);
            }
        }
        if (st->conns_open)
            abort(); /* wedged on a dead socket */
        for (int pass = 0; pass < 4; pass++)
            uv_run(&loop, UV_RUN_NOWAIT);
        if (T.active || T.requests != T.ends || live_principals)
            abort();
        if (tls_mode)
            cl_free();
        return 0;
    }
    if (tls_mode) {
        SSL_shutdown(cl); /* close_notify: the end of what the client sends */
        drain(sv[1]);
    }
    shutdown(sv[1], SHUT_WR);

    /* the server must finish and close within a bounded number of passes */
    int closed = 0;
    for (int pass = 0; pass < 20000 && !closed; pass++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        if (T.pending) {
            http_conn_t *c = T.pending;
            T.pending = NULL;
            echo(c, 200);
        }
        closed = drain(sv[1]) && st->conns_open == 0;
    }
    if (!closed)
        abort(); /* wedged: the connection neither finished nor closed */
    for (int pass = 0; pass < 4; pass++)
        uv_run(&loop, UV_RUN_NOWAIT); /* the handles' close callbacks */
    close(sv[1]);
    if (tls_mode) {
        cl_free();
        if (st->tls.handshake_failures + st->tls.errors != tls_bad)
            abort(); /* a real client's session failed */
    }

    /* every request that reached a handler ended, once, and gave its
     * principal back (H5) */
    if (T.active || T.requests != T.ends || live_principals)
        abort();

    if (getenv("FUZZ_HTTP_DEBUG")) /* what came back, to read a crash */
        fprintf(stderr, "requests %zu, reply bytes:\n%.*s\n", HC_R.n, (int)hc_out.len,
                hc_out.data ? hc_out.data : "");

    /* the answers: well-formed, in order, each counted one sent */
    if (hc_check_http(hc_out.data, hc_out.len) != hc_out.len)
        abort(); /* no route here answers 101 */
    uint64_t after = 0;
    for (int i = 200; i < 600; i++)
        after += st->status[i];
    uint64_t counted = after - before;
    if (HC_S.n != counted && !(HC_S.in_msg && HC_S.n + 1 == counted))
        abort(); /* a completion counted and never sent, or sent uncounted */
    if (st->double_replies - dbl_before != T.doubles)
        abort();
    return 0;
}
