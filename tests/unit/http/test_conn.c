/* test_conn.c - the route table of the HTTP layer (route_find() and the
 * dispatch after it in src/http/conn.c), driven through a real
 * http_server_t (src/http/server.c) on a libuv loop: the server adopts one
 * end of a socketpair, the test writes requests into the other and reads
 * the replies. The routes are a table of fake handlers whose reply names
 * the route that ran.
 *
 * What must hold (http.h): routes are tried in order and the first whose
 * path and method match wins; a path matches a route exactly or, for a
 * prefix route, by its bytes; a path some route has but not with this
 * method is 405, a path none has is 404, and the layer answers both without
 * a handler; HEAD is a method of its own (a GET-only route refuses it) and
 * its reply has the headers of the GET, no body; an Upgrade: websocket on a
 * websocket route is handed to the upgrade callback (the head replayed,
 * and what followed it), anywhere else it is an ordinary request whose
 * connection closes after the reply.
 *
 * A 405 carries Allow: the methods of every route with the path (RFC 9110
 * 15.5.6). */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "http/http.h"

/* ---- the fake handlers ------------------------------------------------------ */

static size_t nran;       /* handlers run */
static char last_ran[32]; /* the route of the last one */
static size_t never_ran;  /* runs of the routes that must never match */

static int h_label(http_conn_t *c, const http_req_t *r)
{
    const char *label = http_data(c);
    assert_non_null(label);
    nran++;
    snprintf(last_ran, sizeof last_ran, "%s", label);
    if (strcmp(label, "shadowed") == 0 || strcmp(label, "second-root") == 0)
        never_ran++;
    char body[128];
    int n = snprintf(body, sizeof body, "%s %.*s", label, (int)r->path.n, r->path.p);
    const http_header_t h[] = {{"X-Route", label}};
    http_reply(c, 200, "text/plain", h, 1, body, (size_t)n);
    return 0;
}

static const http_handler_t label_handler = {.name = "label", .on_request = h_label};

static const http_route_t routes[] = {
    {.methods = HM_GET | HM_HEAD, .path = "/exact", .handler = &label_handler, .data = "exact"},
    {.methods = HM_GET, .path = "/api/", .prefix = 1, .handler = &label_handler, .data = "api"},
    /* shadowed for GET by the prefix route above: first match wins */
    {.methods = HM_GET, .path = "/api/special", .handler = &label_handler, .data = "shadowed"},
    /* the path matches /api/ first, whose methods do not: the search goes on */
    {.methods = HM_POST, .path = "/api/special", .handler = &label_handler, .data = "special"},
    {.methods = HM_POST, .path = "/post-only", .handler = &label_handler, .data = "post"},
    {.methods = HM_GET, .path = "/ws", .websocket = 1, .handler = &label_handler, .data = "ws"},
    {.methods = HM_GET, .path = "/plain", .handler = &label_handler, .data = "plain"},
    {.methods = HM_GET, .path = "/files", .prefix = 1, .handler = &label_handler, .data = "files"},
    {.methods = HM_OPTIONS | HM_GET, .path = "/opt", .handler = &label_handler, .data = "opt"},
    {.methods = HM_GET, .path = "/nodata", .handler = &label_handler}, /* http_server_data */
    {.methods = HM_GET | HM_POST, .path = "/", .handler = &label_handler, .data = "root"},
    /* never reached: the same path and method as the one above */
    {.methods = HM_GET, .path = "/", .handler = &label_handler, .data = "second-root"},
};

/* ---- the upgrade callback ------------------------------------------------------- */

static buf_t upgraded; /* the bytes handed over */
static size_t nupgrades;

static int on_upgrade(void *arg, int fd, const char *bytes, size_t n, const char *peer,
                      const void *principal)
{
    assert_null(principal); /* no authorize callback: nobody */
    assert_non_null(peer);
    assert_string_equal(arg, "upgrade-arg");
    nupgrades++;
    buf_reset(&upgraded);
    buf_append(&upgraded, bytes, n);
    /* the socket is ours now: say so on it, then close it */
    assert_int_equal(write(fd, "UPGRADED", 8), 8);
    close(fd);
    return 0;
}

/* ---- the server and one connection ------------------------------------------------ */

static uv_loop_t loop;
static http_server_t *srv;

static int setup(void **state)
{
    static const http_options_t o = {
        .max_connections = 16,
        .request_timeout_ms = 600000, /* no deadline may fire in a test */
        .keepalive_timeout_ms = 600000,
    };
    log_threshold = LOG_ERROR - 1; /* refusals are expected */
    uv_loop_init(&loop);
    srv = http_server_create(&loop, &o, routes, sizeof routes / sizeof routes[0]);
    assert_non_null(srv);
    http_server_set_data(srv, "server-data");
    http_server_on_upgrade(srv, on_upgrade, "upgrade-arg");
    return 0;
}

static int teardown(void **state)
{
    http_server_destroy(srv);
    for (int i = 0; i < 8; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&loop), 0);
    buf_free(&upgraded);
    return 0;
}

/* One reply as read back. */
typedef struct reply {
    int status;
    char headers[1024]; /* the header lines, "\r\n"-separated */
    char body[256];
    long content_length;
} reply_t;

typedef struct exchange {
    reply_t r[8];
    size_t n;
    int closed;    /* the server closed the connection */
    buf_t raw;     /* everything read */
    char rest[64]; /* bytes after the last reply (an upgraded socket's) */
} exchange_t;

static const char *header(const reply_t *r, const char *name)
{
    static char v[256];
    size_t n = strlen(name);
    for (const char *p = r->headers; *p;) {
        const char *e = strstr(p, "\r\n");
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len > n + 1 && strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *s = p + n + 1;
            while (*s == ' ')
                s++;
            snprintf(v, sizeof v, "%.*s", (int)(len - (size_t)(s - p)), s);
            return v;
        }
        p = e ? e + 2 : p + len;
    }
    return NULL;
}

/* Splits raw into replies; heads[i] says the i-th answers a HEAD. */
static void split(exchange_t *x, const char *heads)
{
    const char *p = x->raw.data ? x->raw.data : "", *end = p + x->raw.len;
    while (p < end && x->n < 8 && strncmp(p, "HTTP/1.1 ", 9) == 0) {
        const char *hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
        assert_non_null(hend);
        reply_t *r = &x->r[x->n];
        memset(r, 0, sizeof *r);
        r->status = atoi(p + 9);
        const char *eol = strstr(p, "\r\n");
        snprintf(r->headers, sizeof r->headers, "%.*s", (int)(hend - eol - 2), eol + 2);
        const char *cl = header(r, "Content-Length");
        assert_non_null(cl);
        r->content_length = atol(cl);
        p = hend + 4;
        size_t body = heads && heads[x->n] == 'H' ? 0 : (size_t)r->content_length;
        assert_true((size_t)(end - p) >= body);
        snprintf(r->body, sizeof r->body, "%.*s", (int)body, p);
        p += body;
        x->n++;
    }
    snprintf(x->rest, sizeof x->rest, "%.*s", (int)(end - p), p);
}

/* Sends req on a new connection, half-closes, and reads until the server
 * closes. heads: one letter per reply expected, 'H' for a HEAD's. */
static exchange_t *talk(const char *req, const char *heads)
{
    static exchange_t x;
    buf_free(&x.raw);
    memset(&x, 0, sizeof x);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(http_server_adopt(srv, sv[0], "test"), 0);
    size_t n = strlen(req);
    assert_int_equal(send(sv[1], req, n, MSG_NOSIGNAL), (ssize_t)n);
    shutdown(sv[1], SHUT_WR);
    char b[4096];
    for (int pass = 0; pass < 20000 && !x.closed; pass++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        for (;;) {
            ssize_t got = recv(sv[1], b, sizeof b, 0);
            if (got > 0) {
                buf_append(&x.raw, b, (size_t)got);
                continue;
            }
            if (got == 0)
                x.closed = 1;
            else
                assert_true(errno == EAGAIN);
            break;
        }
    }
    close(sv[1]);
    assert_true(x.closed); /* no wedge: the half-close ends the connection */
    for (int i = 0; i < 4; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    split(&x, heads);
    return &x;
}

static const char *GET(const char *path)
{
    static char req[256];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path);
    return req;
}

/* One request; its reply's status and body, and which handler ran. */
static const reply_t *one(const char *req, int status, const char *body)
{
    size_t before = nran;
    exchange_t *x = talk(req, "");
    if (x->n != 1)
        fail_msg("%zu replies to %s: %.*s", x->n, req, (int)x->raw.len, x->raw.data);
    assert_int_equal(x->r[0].status, status);
    if (body)
        assert_string_equal(x->r[0].body, body);
    assert_int_equal(nran, before + (status == 200));
    return &x->r[0];
}

/* ---- matching ----------------------------------------------------------------- */

static void test_exact_and_prefix(void **state)
{
    one(GET("/exact"), 200, "exact /exact");
    one(GET("/exact?x=1&y"), 200, "exact /exact"); /* the query is not the path */
    one(GET("/%65xact"), 200, "exact /exact");     /* routes match the decoded path */
    one(GET("/exact/"), 404, "{\"error\":\"no such endpoint\"}\n");
    one(GET("/exactly"), 404, NULL);
    one(GET("/EXACT"), 404, NULL); /* paths are case-sensitive */
    one(GET("/api/"), 200, "api /api/");
    one(GET("/api/x/y"), 200, "api /api/x/y");
    one(GET("/api"), 404, NULL); /* the prefix is "/api/" */
    /* a prefix is bytes, not path segments */
    one(GET("/files"), 200, "files /files");
    one(GET("/files/a/b"), 200, "files /files/a/b");
    one(GET("/filesystem"), 200, "files /filesystem");
    one(GET("/"), 200, "root /");
    one(GET("/nowhere"), 404, NULL);
}

static void test_first_match_wins(void **state)
{
    one(GET("/api/special"), 200, "api /api/special"); /* not "shadowed" */
    one("POST /api/special HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n", 200,
        "special /api/special");
    const reply_t *r = one(GET("/"), 200, "root /");
    assert_string_equal(header(r, "X-Route"), "root"); /* never second-root */
    assert_string_equal(last_ran, "root");
    assert_int_equal(never_ran, 0);
}

static void test_404_and_405(void **state)
{
    const http_stats_t *st = http_server_stats(srv);
    uint64_t nf = st->not_found, bm = st->bad_method;
    /* the path exists, not with this method */
    const reply_t *r = one(GET("/post-only"), 405, "{\"error\":\"method not allowed here\"}\n");
    assert_string_equal(header(r, "Content-Type"), "application/json");
    assert_string_equal(header(r, "Allow"), "POST");
    r = one("PUT /exact HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n", 405, NULL);
    assert_string_equal(header(r, "Allow"), "GET, HEAD");
    r = one("DELETE /api/x HTTP/1.1\r\nHost: localhost\r\n\r\n", 405, NULL);
    assert_string_equal(header(r, "Allow"), "GET");
    r = one("POST /ws HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n", 405, NULL);
    assert_string_equal(header(r, "Allow"), "GET");
    /* /api/special: its own routes and the /api/ prefix's */
    r = one("DELETE /api/special HTTP/1.1\r\nHost: localhost\r\n\r\n", 405, NULL);
    assert_string_equal(header(r, "Allow"), "GET, POST");
    /* no route has the path, whatever the method */
    one("DELETE /nowhere HTTP/1.1\r\nHost: localhost\r\n\r\n", 404, NULL);
    one("POST /nowhere HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n", 404, NULL);
    assert_int_equal(st->bad_method, bm + 5);
    assert_int_equal(st->not_found, nf + 2);
    /* OPTIONS is a method like the others: served where a route has it */
    one("OPTIONS /opt HTTP/1.1\r\nHost: localhost\r\n\r\n", 200, "opt /opt");
    one("OPTIONS /exact HTTP/1.1\r\nHost: localhost\r\n\r\n", 405, NULL);
}

static void test_head(void **state)
{
    /* HEAD where the route has it: the GET's headers, no body; the next
     * request on the connection is read right after the head */
    size_t before = nran;
    exchange_t *x = talk("HEAD /exact HTTP/1.1\r\nHost: localhost\r\n\r\n"
                         "GET /exact HTTP/1.1\r\nHost: localhost\r\n\r\n",
                         "HG");
    assert_int_equal(x->n, 2);
    assert_int_equal(x->r[0].status, 200);
    assert_int_equal(x->r[0].content_length, (long)strlen("exact /exact"));
    assert_string_equal(x->r[0].body, "");
    assert_string_equal(header(&x->r[0], "X-Route"), "exact");
    assert_int_equal(x->r[1].status, 200);
    assert_string_equal(x->r[1].body, "exact /exact");
    assert_string_equal(x->rest, "");
    assert_int_equal(nran, before + 2);
    /* HEAD on a GET-only route is refused, and its refusal has no body */
    x = talk("HEAD /api/x HTTP/1.1\r\nHost: localhost\r\n\r\n"
             "HEAD /nowhere HTTP/1.1\r\nHost: localhost\r\n\r\n",
             "HH");
    assert_int_equal(x->n, 2);
    assert_int_equal(x->r[0].status, 405);
    assert_int_equal(x->r[1].status, 404);
    assert_true(x->r[1].content_length > 0);
    assert_string_equal(x->rest, "");
    assert_int_equal(nran, before + 2);
}

static void test_route_data(void **state)
{
    assert_int_equal(never_ran, 0);                  /* after every test before */
    one(GET("/nodata"), 200, "server-data /nodata"); /* no data: the server's */
}

/* Requests on one connection are answered in order by their own routes. */
static void test_keep_alive_mix(void **state)
{
    exchange_t *x = talk("GET /api/1 HTTP/1.1\r\nHost: localhost\r\n\r\n"
                         "GET /nowhere HTTP/1.1\r\nHost: localhost\r\n\r\n"
                         "GET /post-only HTTP/1.1\r\nHost: localhost\r\n\r\n"
                         "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc"
                         "GET /files/z HTTP/1.1\r\nHost: localhost\r\n\r\n",
                         "GGGGG");
    if (x->n != 5)
        fail_msg("%zu replies: %.*s", x->n, (int)x->raw.len, x->raw.data);
    assert_string_equal(x->r[0].body, "api /api/1");
    assert_int_equal(x->r[1].status, 404);
    assert_int_equal(x->r[2].status, 405);
    assert_string_equal(x->r[3].body, "root /");
    assert_string_equal(x->r[4].body, "files /files/z");
    /* 404 and 405 keep the connection (HTTP/1.1: no Connection: close) */
    for (size_t i = 0; i < 4; i++) {
        const char *conn = header(&x->r[i], "Connection");
        if (conn)
            fail_msg("reply %zu: Connection: %s", i, conn);
    }
}

/* ---- WebSocket routes -------------------------------------------------------------- */

#define WS_HEAD(path, extra)                                                                       \
    "GET " path " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"                           \
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"                       \
    "Sec-WebSocket-Version: 13\r\n" extra "\r\n"

static void test_websocket_routes(void **state)
{
    /* an upgrade on a websocket route: handed over, with what followed */
    size_t before = nran, ups = nupgrades;
    exchange_t *x = talk(WS_HEAD("/ws?topic=a", "") "\x81\x05hello", "");
    assert_int_equal(nupgrades, ups + 1);
    assert_int_equal(nran, before); /* no handler ran */
    assert_int_equal(x->n, 0);
    assert_string_equal(x->rest, "UPGRADED"); /* what the callback wrote on the socket */
    buf_putc(&upgraded, '\0');
    assert_true(strncmp(upgraded.data, "GET /ws?topic=a HTTP/1.1\r\n", 26) == 0);
    assert_non_null(strstr(upgraded.data, "\r\nUpgrade: websocket\r\n"));
    assert_non_null(strstr(upgraded.data, "\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"));
    const char *end = strstr(upgraded.data, "\r\n\r\n");
    assert_non_null(end);
    assert_string_equal(end + 4, "\x81\x05hello");

    /* the same route without Upgrade: an ordinary GET for its handler */
    one(GET("/ws"), 200, "ws /ws");
    assert_int_equal(nupgrades, ups + 1);

    /* an upgrade to a route that is not a websocket one: its handler
     * answers, and the connection closes after (what follows is not HTTP) */
    x = talk(WS_HEAD("/plain", "") "GET /exact HTTP/1.1\r\nHost: localhost\r\n\r\n", "");
    assert_int_equal(x->n, 1);
    assert_string_equal(x->r[0].body, "plain /plain");
    assert_string_equal(header(&x->r[0], "Connection"), "close");
    assert_int_equal(nupgrades, ups + 1);

    /* an upgrade from another site is refused before the callback */
    x = talk(WS_HEAD("/ws", "Origin: http://evil.example\r\n"), "");
    assert_int_equal(x->n, 1);
    assert_int_equal(x->r[0].status, 403);
    assert_int_equal(nupgrades, ups + 1);
    /* ...and from its own origin it is not */
    x = talk(WS_HEAD("/ws", "Origin: http://localhost\r\n"), "");
    assert_int_equal(nupgrades, ups + 2);

    /* an upgrade on a path no route has: 404 */
    x = talk(WS_HEAD("/nowhere", ""), "");
    assert_int_equal(x->n, 1);
    assert_int_equal(x->r[0].status, 404);
    assert_int_equal(nupgrades, ups + 2);

    /* with no upgrade callback the websocket route's handler answers */
    http_server_on_upgrade(srv, NULL, NULL);
    x = talk(WS_HEAD("/ws", ""), "");
    assert_int_equal(x->n, 1);
    assert_string_equal(x->r[0].body, "ws /ws");
    http_server_on_upgrade(srv, on_upgrade, "upgrade-arg");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_and_prefix), cmocka_unit_test(test_first_match_wins),
        cmocka_unit_test(test_404_and_405),      cmocka_unit_test(test_head),
        cmocka_unit_test(test_route_data),       cmocka_unit_test(test_keep_alive_mix),
        cmocka_unit_test(test_websocket_routes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
