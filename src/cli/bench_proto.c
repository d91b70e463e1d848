/* bench_proto.c - what logship bench reads and writes on its connections:
 * see bench_proto.h. */
#include "bench_proto.h"

#include <stdio.h>
#include <string.h>

/* ---- HTTP responses --------------------------------------------------------- */

static int on_begin(http_parser *p)
{
    bench_http_reader_t *r = p->data;
    r->done = 0;
    return 0;
}

static int on_complete(http_parser *p)
{
    bench_http_reader_t *r = p->data;
    r->done = 1;
    r->status = (int)p->status_code;
    r->keep_alive = http_should_keep_alive(p);
    /* stop here: what follows belongs to no request */
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_begin,
    .on_message_complete = on_complete,
};

void bench_http_reader_init(bench_http_reader_t *r)
{
    memset(r, 0, sizeof *r);
    http_parser_init(&r->p, HTTP_RESPONSE);
    r->p.data = r;
}

long bench_http_feed(bench_http_reader_t *r, const char *p, size_t n, const char **err)
{
    if (HTTP_PARSER_ERRNO(&r->p) == HPE_PAUSED)
        http_parser_pause(&r->p, 0);
    r->done = 0;
    size_t used = http_parser_execute(&r->p, &settings, p, n);
    enum http_errno e = HTTP_PARSER_ERRNO(&r->p);
    if (e == HPE_PAUSED)
        return (long)used;
    if (e != HPE_OK) {
        *err = http_errno_description(e);
        return -1;
    }
    if (n == 0 && !r->done) {
        /* the close: fine between responses (the parser says nothing),
         * an error inside one (it said HPE_INVALID_EOF_STATE above) */
        return 0;
    }
    if (r->p.upgrade) {
        *err = "the server switched protocols";
        return -1;
    }
    return (long)used;
}

/* ---- the acknowledged raw TCP mode ------------------------------------------ */

typedef struct scan {
    const char *p, *end;
} scan_t;

static void ws(scan_t *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r'))
        s->p++;
}

static int lit(scan_t *s, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
        return -1;
    s->p += n;
    return 0;
}

/* A JSON string into out (cap bytes, cut when longer, escapes but \" and
 * \\ kept as written). */
static int str(scan_t *s, char *out, size_t cap)
{
    size_t k = 0;
    if (s->p >= s->end || *s->p != '"')
        return -1;
    s->p++;
    while (s->p < s->end && *s->p != '"') {
        char c = *s->p++;
        if ((unsigned char)c < 0x20)
            return -1;
        if (c == '\\') {
            if (s->p >= s->end)
                return -1;
            c = *s->p++;
            if (c != '"' && c != '\\' && k + 1 < cap)
                out[k++] = '\\';
        }
        if (k + 1 < cap)
            out[k++] = c;
    }
    if (s->p >= s->end)
        return -1;
    s->p++;
    if (cap)
        out[k] = '\0';
    return 0;
}

static int num(scan_t *s, uint64_t *v)
{
    const char *start = s->p;
    uint64_t x = 0;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
        unsigned d = (unsigned)(*s->p - '0');
        if (x > (UINT64_MAX - d) / 10)
            return -1;
        x = x * 10 + d;
        s->p++;
    }
    if (s->p == start)
        return -1;
    *v = x;
    return 0;
}

/* Skips a value of another member: a string, a number, true/false/null. */
static int skip(scan_t *s)
{
    char tmp[2];
    uint64_t v;
    if (s->p < s->end && *s->p == '"')
        return str(s, tmp, 0);
    if (s->p < s->end && *s->p == '-')
        s->p++;
    if (num(s, &v) == 0) {
        /* a fraction or an exponent: digits and these */
        while (s->p < s->end && strchr("0123456789.eE+-", *s->p))
            s->p++;
        return 0;
    }
    if (lit(s, "true") == 0 || lit(s, "false") == 0 || lit(s, "null") == 0)
        return 0;
    return -1;
}

int bench_ack_parse(const char *line, size_t n, bench_ack_t *a)
{
    scan_t s = {line, line + n};
    char key[32], kind[16] = "";
    memset(a, 0, sizeof *a);
    ws(&s);
    if (lit(&s, "{"))
        return -1;
    ws(&s);
    if (lit(&s, "}") != 0) {
        for (;;) {
            ws(&s);
            if (str(&s, key, sizeof key))
                return -1;
            ws(&s);
            if (lit(&s, ":"))
                return -1;
            ws(&s);
            if (strcmp(key, "logship") == 0) {
                if (str(&s, kind, sizeof kind))
                    return -1;
            } else if (strcmp(key, "batch") == 0) {
                if (num(&s, &a->batch))
                    return -1;
            } else if (strcmp(key, "duplicate") == 0) {
                if (lit(&s, "true") == 0)
                    a->duplicate = 1;
                else if (lit(&s, "false"))
                    return -1;
            } else if (strcmp(key, "error") == 0) {
                if (str(&s, a->error, sizeof a->error))
                    return -1;
            } else if (skip(&s)) {
                return -1;
            }
            ws(&s);
            if (lit(&s, ",") == 0)
                continue;
            if (lit(&s, "}"))
                return -1;
            break;
        }
    }
    ws(&s);
    if (s.p != s.end)
        return -1;
    if (strcmp(kind, "ack") == 0)
        a->kind = BENCH_REPLY_ACK;
    else if (strcmp(kind, "nack") == 0)
        a->kind = BENCH_REPLY_NACK;
    else if (strcmp(kind, "hello") == 0)
        a->kind = BENCH_REPLY_HELLO;
    else if (strcmp(kind, "error") == 0)
        a->kind = BENCH_REPLY_ERROR;
    else
        return -1;
    return 0;
}

/* ---- WebSocket client ------------------------------------------------------- */

void bench_ws_key(const unsigned char raw[16], char out[25])
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < 15; i += 3) {
        unsigned v = (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8 | raw[i + 2];
        out[o++] = b64[v >> 18 & 63];
        out[o++] = b64[v >> 12 & 63];
        out[o++] = b64[v >> 6 & 63];
        out[o++] = b64[v & 63];
    }
    unsigned v = (unsigned)raw[15] << 16;
    out[o++] = b64[v >> 18 & 63];
    out[o++] = b64[v >> 12 & 63];
    out[o++] = '=';
    out[o++] = '=';
    out[o] = '\0';
}

void bench_ws_request(buf_t *out, const char *host, const char *path, const char *key)
{
    buf_printf(out,
               "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
               path, host, key);
}

long bench_ws_handshake(const char *p, size_t n, int *status)
{
    size_t look = n < BENCH_WS_HANDSHAKE_MAX ? n : BENCH_WS_HANDSHAKE_MAX;
    const char *end = NULL;
    for (size_t i = 3; i < look; i++) {
        if (p[i] == '\n' && p[i - 1] == '\r' && p[i - 2] == '\n' && p[i - 3] == '\r') {
            end = p + i + 1;
            break;
        }
    }
    if (n >= 5 && memcmp(p, "HTTP/", 5) != 0)
        return -1;
    if (!end)
        return n >= BENCH_WS_HANDSHAKE_MAX ? -1 : 0;
    /* HTTP/1.1 SP 3DIGIT */
    const char *sp = memchr(p, ' ', (size_t)(end - p));
    if (!sp || end - sp < 4 || sp[1] < '1' || sp[1] > '5' || sp[2] < '0' || sp[2] > '9' ||
        sp[3] < '0' || sp[3] > '9')
        return -1;
    *status = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
    return (long)(end - p);
}

int bench_ws_frame_parse(const char *p, size_t n, bench_ws_frame_t *f, const char **err)
{
    if (n < 2)
        return 0;
    const unsigned char *u = (const unsigned char *)p;
    f->fin = u[0] >> 7;
    f->opcode = u[0] & 0x0f;
    if (u[0] & 0x70) {
        *err = "reserved bits set in a frame";
        return -1;
    }
    if (u[1] & 0x80) {
        *err = "the server masked a frame";
        return -1;
    }
    int op = f->opcode;
    if (op != 0 && op != BENCH_WS_TEXT && op != BENCH_WS_BINARY && op != BENCH_WS_CLOSE &&
        op != BENCH_WS_PING && op != BENCH_WS_PONG) {
        *err = "unknown frame opcode";
        return -1;
    }
    uint64_t len = u[1] & 0x7f;
    size_t head = 2;
    if (len == 126) {
        if (n < 4)
            return 0;
        len = (uint64_t)u[2] << 8 | u[3];
        head = 4;
    } else if (len == 127) {
        if (n < 10)
            return 0;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | u[2 + i];
        if (len >> 63) {
            *err = "a frame length with the top bit set";
            return -1;
        }
        head = 10;
    }
    if (op >= 0x8 && (len > 125 || !f->fin)) {
        *err = "a control frame that is long or fragmented";
        return -1;
    }
    f->len = len;
    f->head = head;
    return (int)head;
}

void bench_ws_frame_build(buf_t *out, int opcode, const char *payload, size_t n, uint32_t mask)
{
    unsigned char h[BENCH_WS_HEAD_MAX];
    size_t k = 0;
    h[k++] = (unsigned char)(0x80 | (opcode & 0x0f));
    if (n < 126) {
        h[k++] = (unsigned char)(0x80 | n);
    } else if (n <= 0xffff) {
        h[k++] = 0x80 | 126;
        h[k++] = (unsigned char)(n >> 8);
        h[k++] = (unsigned char)n;
    } else {
        h[k++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            h[k++] = (unsigned char)((uint64_t)n >> (8 * i));
    }
    unsigned char m[4] = {(unsigned char)(mask >> 24), (unsigned char)(mask >> 16),
                          (unsigned char)(mask >> 8), (unsigned char)mask};
    memcpy(h + k, m, 4);
    k += 4;
    buf_append(out, h, k);
    char *dst = buf_reserve(out, n);
    for (size_t i = 0; i < n; i++)
        dst[i] = (char)(payload[i] ^ m[i & 3]);
    out->len += n;
}
