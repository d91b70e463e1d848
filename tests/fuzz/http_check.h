/* http_check.h - what the in-process HTTP fuzz drivers (fuzz_http_conn.c
 * over test routes, fuzz_routes.c over logshipd's own) share: the client's
 * side of the socketpair and the checks on what came back.
 *
 *   hc_reqs_parse     a reference parse of the requests an input holds, as
 *                     the server's own parser (http-parser) sees them: their
 *                     targets, and which are HEAD (answered without a body);
 *   hc_drain          reads what the server sent, into hc_out;
 *   hc_check_http     the bytes are a sequence of well-formed HTTP/1.1
 *                     responses, the i-th final one answering the i-th
 *                     request (each is handed to an optional hook); a reply
 *                     may be cut at the end only when it is a chunked
 *                     stream (the server gives those up at the close);
 *   hc_next_rand      the xorshift that cuts inputs into pieces;
 *   hc_piece          the size of the next piece.
 *
 * Everything is static, once per driver (one translation unit each), and
 * reset per input by hc_reset.
 */
#ifndef LOGSHIP_FUZZ_HTTP_CHECK_H
#define LOGSHIP_FUZZ_HTTP_CHECK_H

#include <errno.h>
#include <http_parser.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/buf.h"
#include "http/http.h"

#define HC_MAX_REQS 512

/* ---- the reference request parser ---------------------------------------- */

typedef struct hc_reqs {
    size_t n;
    buf_t url[HC_MAX_REQS];
    unsigned char head[HC_MAX_REQS]; /* a HEAD request: its answer has no body */
    size_t heads;
} hc_reqs_t;

static hc_reqs_t HC_R;

static int hc_rq_begin(http_parser *p)
{
    (void)p;
    if (HC_R.n < HC_MAX_REQS)
        buf_reset(&HC_R.url[HC_R.n]);
    return 0;
}

static int hc_rq_url(http_parser *p, const char *at, size_t n)
{
    (void)p;
    if (HC_R.n < HC_MAX_REQS && HC_R.url[HC_R.n].len + n <= HTTP_HEAD_MAX)
        buf_append(&HC_R.url[HC_R.n], at, n);
    return 0;
}

static int hc_rq_headers(http_parser *p)
{
    if (HC_R.n < HC_MAX_REQS)
        HC_R.head[HC_R.n] = p->method == HTTP_HEAD;
    HC_R.heads += p->method == HTTP_HEAD;
    HC_R.n++;
    return 0;
}

static http_parser_settings hc_rq_settings = {
    .on_message_begin = hc_rq_begin, .on_url = hc_rq_url, .on_headers_complete = hc_rq_headers};

/* The requests in in[0..n): HC_R. */
static void hc_reqs_parse(const char *in, size_t n)
{
    http_parser rp;
    HC_R.n = 0;
    HC_R.heads = 0;
    http_parser_init(&rp, HTTP_REQUEST);
    http_parser_execute(&rp, &hc_rq_settings, in, n);
}

/* ---- the client's side ------------------------------------------------------ */

static buf_t hc_out; /* everything the server sent on this connection */

/* Reads what the server sent; returns 1 at its end of stream. */
static int hc_drain(int fd)
{
    for (;;) {
        char *p = buf_reserve(&hc_out, 65536);
        ssize_t r = recv(fd, p, 65536, MSG_DONTWAIT);
        if (r > 0) {
            hc_out.len += (size_t)r;
            continue;
        }
        if (r == 0)
            return 1;
        if (errno == EAGAIN || errno == EINTR)
            return 0;
        return 1; /* reset */
    }
}

static uint32_t hc_next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* The next write's size for input mode 0..3 (whole, single bytes, pieces
 * of 1..16 or 1..512 bytes), at most left. */
static size_t hc_piece(unsigned mode, uint32_t *seed, size_t left)
{
    size_t piece = left;
    if (mode == 1)
        piece = 1;
    else if (mode == 2)
        piece = 1 + hc_next_rand(seed) % 16;
    else if (mode == 3)
        piece = 1 + hc_next_rand(seed) % 512;
    return piece < left ? piece : left;
}

/* ---- the response checker ----------------------------------------------------- */

typedef struct hc_resps {
    http_parser p;
    size_t n; /* final responses */
    buf_t body;
    int status, chunked, in_msg;
    /* called with each final response: i is its index (the i-th request's) */
    void (*on_response)(size_t i, int status, const buf_t *body);
} hc_resps_t;

static hc_resps_t HC_S;

static int hc_rs_begin(http_parser *p)
{
    (void)p;
    buf_reset(&HC_S.body);
    HC_S.in_msg = 1;
    return 0;
}

static int hc_rs_headers(http_parser *p)
{
    HC_S.status = (int)p->status_code;
    HC_S.chunked = (p->flags & F_CHUNKED) != 0;
    size_t i = HC_S.n;
    if (HC_S.status >= 200 && i < HC_R.n && i < HC_MAX_REQS && HC_R.head[i])
        return 1; /* the answer to a HEAD: no body follows */
    return 0;
}

static int hc_rs_body(http_parser *p, const char *at, size_t n)
{
    (void)p;
    buf_append(&HC_S.body, at, n);
    return 0;
}

static int hc_rs_complete(http_parser *p)
{
    (void)p;
    HC_S.in_msg = 0;
    if (HC_S.status < 200)
        return 0; /* 100 Continue, 101 Switching Protocols */
    size_t i = HC_S.n++;
    if (HC_S.on_response)
        HC_S.on_response(i, HC_S.status, &HC_S.body);
    return 0;
}

static http_parser_settings hc_rs_settings = {.on_message_begin = hc_rs_begin,
                                              .on_headers_complete = hc_rs_headers,
                                              .on_body = hc_rs_body,
                                              .on_message_complete = hc_rs_complete};

static void hc_reset(void)
{
    buf_reset(&hc_out);
    memset(&HC_S.p, 0, sizeof HC_S.p);
    HC_S.n = 0;
    HC_S.in_msg = 0;
    buf_reset(&HC_S.body);
}

/* Checks out[0..len) as the server's HTTP answers, in order. Returns how
 * much of it is HTTP: len, or less after a 101 (the rest is the upgraded
 * protocol's). Aborts on anything that is not a well-formed response, and
 * on a reply cut short that is not a chunked stream. */
static size_t hc_check_http(const char *out, size_t len)
{
    http_parser_init(&HC_S.p, HTTP_RESPONSE);
    size_t used = http_parser_execute(&HC_S.p, &hc_rs_settings, out ? out : "", len);
    if (HTTP_PARSER_ERRNO(&HC_S.p) != HPE_OK)
        abort(); /* the server sent something that is not HTTP */
    if (used != len && !HC_S.p.upgrade)
        abort();
    if (HC_S.in_msg && !HC_S.chunked && !HC_S.p.upgrade)
        abort(); /* a reply cut short (only a stream may be, at the close) */
    return used;
}

#endif
