/* bench_proto.h - the protocol pieces `logship bench` reads and writes on
 * its connections, as pure code (bytes in, results out; no sockets), so
 * that everything a server sends it is fuzzed (tests/fuzz/fuzz_bench_proto.c):
 *
 *   - HTTP/1.1 responses, one at a time, on http_parser: status, whether
 *     the connection stays open, where the response ends (Content-Length,
 *     chunked, or the close);
 *   - the reply lines of logshipd's acknowledged raw TCP mode
 *     (docs/PROTOCOL.md): hello, ack, nack, error;
 *   - the WebSocket client side (RFC 6455) for tail: the upgrade request,
 *     the end of the server's handshake, frame headers, masked frames.
 *
 * Nothing here asserts on what the server sent: malformed input is -1 and
 * a reason.
 */
#ifndef LOGSHIP_CLI_BENCH_PROTO_H
#define LOGSHIP_CLI_BENCH_PROTO_H

#include <http_parser.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"

/* ---- HTTP responses --------------------------------------------------------- */

typedef struct bench_http_reader {
    http_parser p;
    int done;       /* a response ended in the last bench_http_feed() */
    int status;     /* its status */
    int keep_alive; /* the connection may carry the next request */
} bench_http_reader_t;

void bench_http_reader_init(bench_http_reader_t *r);
/* Reads p[0..n) (n == 0: the server closed the connection). Stops right
 * after a response ends (r->done set; the bytes after it are not
 * consumed: a server that answers more than it was asked is the caller's
 * to refuse). Returns the bytes consumed, or -1 with *err on a malformed
 * response or a close in the middle of one. Call again with done cleared
 * for the next response. */
long bench_http_feed(bench_http_reader_t *r, const char *p, size_t n, const char **err);

/* ---- the acknowledged raw TCP mode ------------------------------------------ */

enum bench_ack_kind { BENCH_REPLY_HELLO, BENCH_REPLY_ACK, BENCH_REPLY_NACK, BENCH_REPLY_ERROR };

typedef struct bench_ack {
    enum bench_ack_kind kind;
    uint64_t batch; /* ack, nack */
    int duplicate;  /* ack */
    char error[160];
} bench_ack_t;

/* Reads one reply line (without its newline): a flat JSON object whose
 * "logship" member says what it is. Returns 0, or -1 when it is none of
 * the four. */
int bench_ack_parse(const char *line, size_t n, bench_ack_t *a);

/* ---- WebSocket client ------------------------------------------------------- */

#define BENCH_WS_TEXT          0x1
#define BENCH_WS_BINARY        0x2
#define BENCH_WS_CLOSE         0x8
#define BENCH_WS_PING          0x9
#define BENCH_WS_PONG          0xA
#define BENCH_WS_HEAD_MAX      14
#define BENCH_WS_HANDSHAKE_MAX 8192

/* The upgrade request for path (its query included) on host (the Host
 * header's value), with the base64 key (24 characters). */
void bench_ws_request(buf_t *out, const char *host, const char *path, const char *key);
/* A base64 key from 16 random bytes (24 characters and a NUL). */
void bench_ws_key(const unsigned char raw[16], char out[25]);

/* The server's handshake in p[0..n): the length of its head (through the
 * blank line) with *status set, 0 when it is not whole yet, -1 when it is
 * not an HTTP response or longer than BENCH_WS_HANDSHAKE_MAX. */
long bench_ws_handshake(const char *p, size_t n, int *status);

typedef struct bench_ws_frame {
    int fin, opcode;
    uint64_t len; /* payload bytes */
    size_t head;  /* header bytes */
} bench_ws_frame_t;

/* A server frame's header at p[0..n): its length (f filled), 0 when more
 * bytes are needed, -1 with *err when it breaks RFC 6455 for a client
 * (masked, reserved bits, an unknown opcode, a control frame that is long
 * or fragmented, a 64-bit length with the top bit set). */
int bench_ws_frame_parse(const char *p, size_t n, bench_ws_frame_t *f, const char **err);
/* Appends a whole client frame (fin, masked with mask) to out. */
void bench_ws_frame_build(buf_t *out, int opcode, const char *payload, size_t n, uint32_t mask);

#endif
