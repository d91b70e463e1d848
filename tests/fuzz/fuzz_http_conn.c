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
 * finish and close the connection.
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
 *     of loop passes (no wedge) and nothing of it is left.
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

#include "common/buf.h"
#include "common/log.h"
#include "http/http.h"

#define MAX_REQS 512

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
static const http_handler_t h_body = {"body", 0, on_later, on_body, on_body_done_now,
                                      NULL, NULL, on_end, NULL};
static const http_handler_t h_async = {"async", 0, on_later, on_body, on_body_done_later,
                                       NULL, NULL, on_end, NULL};
static const http_handler_t h_early = {"early", 0, on_early, on_body, NULL, NULL, NULL, on_end, NULL};
static const http_handler_t h_double = {"double", 0, on_double, NULL, NULL, NULL, NULL, on_end, NULL};
static const http_handler_t h_close = {"close", 0, on_closer, NULL, NULL, NULL, NULL, on_end, NULL};
static const http_handler_t h_stream = {"stream", 16, on_stream, NULL, NULL, on_writable,
                                        NULL, on_end, NULL};

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
    {.methods = HM_GET | HM_POST, .path = "/c", .writes = 1, .cors = 1,
     .handler = &h_body},
    {.methods = HM_GET | HM_HEAD, .path = "/cs", .cors = 1, .handler = &h_stream},
};

static int on_upgrade(void *arg, int fd, const char *bytes, size_t n)
{
    (void)arg;
    if (n < 4 || memcmp(bytes, "GET ", 4) != 0)
        abort(); /* the head is replayed as it was parsed */
    close(fd);
    return 0;
}

/* ---- the reference request parser: which requests the input holds -------- */

typedef struct reqs {
    size_t n;
    buf_t url[MAX_REQS];
    int stop; /* an upgrade or an error: nothing after it is HTTP */
} reqs_t;

static reqs_t R;

static int rq_begin(http_parser *p)
{
    (void)p;
    if (R.n < MAX_REQS)
        buf_reset(&R.url[R.n]);
    return 0;
}

static int rq_url(http_parser *p, const char *at, size_t n)
{
    (void)p;
    if (R.n < MAX_REQS && R.url[R.n].len + n <= HTTP_HEAD_MAX)
        buf_append(&R.url[R.n], at, n);
    return 0;
}

static int rq_headers(http_parser *p)
{
    (void)p;
    R.n++;
    return 0;
}

/* ---- the response checker ------------------------------------------------------ */

typedef struct resps {
    http_parser p;
    size_t n;         /* final responses */
    size_t echoes_at; /* index of the next final response */
    buf_t body;
    int status, chunked, in_msg;
    uint64_t counted; /* final statuses */
} resps_t;

static resps_t S;

static int rs_begin(http_parser *p)
{
    (void)p;
    buf_reset(&S.body);
    S.in_msg = 1;
    return 0;
}

static int rs_headers(http_parser *p)
{
    S.status = (int)p->status_code;
    S.chunked = (p->flags & F_CHUNKED) != 0;
    return 0;
}

static int rs_body(http_parser *p, const char *at, size_t n)
{
    (void)p;
    buf_append(&S.body, at, n);
    return 0;
}

static int rs_complete(http_parser *p)
{
    (void)p;
    S.in_msg = 0;
    if (S.status < 200)
        return 0; /* 100 Continue */
    size_t i = S.n++;
    if (S.body.len >= 5 && memcmp(S.body.data, "echo:", 5) == 0) {
        /* H1: the i-th answer is the i-th request's */
        if (i >= R.n)
            abort();
        if (S.body.len - 5 != R.url[i].len ||
            memcmp(S.body.data + 5, R.url[i].data, R.url[i].len) != 0)
            abort();
    }
    return 0;
}

static http_parser_settings rq_settings = {
    .on_message_begin = rq_begin, .on_url = rq_url, .on_headers_complete = rq_headers};
static http_parser_settings rs_settings = {.on_message_begin = rs_begin,
                                           .on_headers_complete = rs_headers,
                                           .on_body = rs_body,
                                           .on_message_complete = rs_complete};

/* HEAD answers carry no body: the response parser must be told. */
static size_t heads_seen;
static unsigned char head_req[MAX_REQS];

static int rs_headers_head(http_parser *p)
{
    rs_headers(p);
    size_t i = S.n;
    if (S.status >= 200 && i < R.n && i < MAX_REQS && head_req[i])
        return 1; /* no body follows */
    return 0;
}

static int rq_headers_method(http_parser *p)
{
    if (R.n < MAX_REQS)
        head_req[R.n] = p->method == HTTP_HEAD;
    heads_seen += p->method == HTTP_HEAD;
    return rq_headers(p);
}

/* ---- the driver ------------------------------------------------------------------ */

static uv_loop_t loop;
static http_server_t *srv;
static buf_t out;

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
    rq_settings.on_headers_complete = rq_headers_method;
    rs_settings.on_headers_complete = rs_headers_head;
}

/* Reads what the server sent; returns 1 at its end of stream. */
static int drain(int fd)
{
    for (;;) {
        char *p = buf_reserve(&out, 65536);
        ssize_t r = recv(fd, p, 65536, MSG_DONTWAIT);
        if (r > 0) {
            out.len += (size_t)r;
            continue;
        }
        if (r == 0)
            return 1;
        if (errno == EAGAIN || errno == EINTR)
            return 0;
        return 1; /* reset */
    }
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

static uint32_t next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
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
    uint32_t seed = 0x9e3779b9u ^ data[0];
    const char *in = (const char *)data + 1;
    size_t n = size - 1;

    memset(&T, 0, sizeof T);
    R.n = 0;
    heads_seen = 0;
    buf_reset(&out);
    memset(&S.p, 0, sizeof S.p);
    S.n = 0;
    S.in_msg = 0;
    buf_reset(&S.body);

    /* the requests the input holds, as the server's own parser sees them */
    http_parser rp;
    http_parser_init(&rp, HTTP_REQUEST);
    http_parser_execute(&rp, &rq_settings, in, n);

    const http_stats_t *st = http_server_stats(srv);
    uint64_t before = 0, dbl_before = st->double_replies;
    for (int i = 200; i < 600; i++)
        before += st->status[i];

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
        abort();
    if (http_server_adopt(srv, sv[0], "fuzz"))
        abort();

    /* send in pieces, running the loop between them */
    size_t off = 0;
    int stuck = 0;
    while (off < n && stuck < 1000) {
        size_t piece = n - off;
        if (mode == 1)
            piece = 1;
        else if (mode == 2)
            piece = 1 + next_rand(&seed) % 16;
        else if (mode == 3)
            piece = 1 + next_rand(&seed) % 512;
        if (piece > n - off)
            piece = n - off;
        ssize_t w = send(sv[1], in + off, piece, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            off += (size_t)w;
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
        if (T.active || T.requests != T.ends)
            abort();
        return 0;
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

    /* every request that reached a handler ended, once */
    if (T.active || T.requests != T.ends)
        abort();

    if (getenv("FUZZ_HTTP_DEBUG")) /* what came back, to read a crash */
        fprintf(stderr, "requests %zu, reply bytes:\n%.*s\n", R.n, (int)out.len,
                out.data ? out.data : "");

    /* the answers: well-formed, in order, each counted one sent */
    http_parser_init(&S.p, HTTP_RESPONSE);
    size_t used = http_parser_execute(&S.p, &rs_settings, out.data ? out.data : "", out.len);
    if (HTTP_PARSER_ERRNO(&S.p) != HPE_OK || used != out.len)
        abort(); /* the server sent something that is not HTTP */
    if (S.in_msg && !S.chunked)
        abort(); /* a reply cut short (only a stream may be, at the close) */
    uint64_t after = 0;
    for (int i = 200; i < 600; i++)
        after += st->status[i];
    uint64_t counted = after - before;
    if (S.n != counted && !(S.in_msg && S.n + 1 == counted))
        abort(); /* a completion counted and never sent, or sent uncounted */
    if (st->double_replies - dbl_before != T.doubles)
        abort();
    return 0;
}
