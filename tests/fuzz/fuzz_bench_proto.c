/* fuzz_bench_proto.c - what logship bench reads from a server
 * (src/cli/bench_proto.c) on arbitrary bytes: HTTP responses fed in pieces
 * whose sizes come from the input, each line as an acknowledged-mode
 * reply, and the input as a WebSocket handshake and a run of frames. No
 * crash, no read outside the input, progress on every call. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/bench_proto.h"

static void http(const uint8_t *data, size_t size)
{
    bench_http_reader_t r;
    const char *err = NULL, *p = (const char *)data + 1;
    size_t n = size - 1, at = 0, piece = (size_t)(data[0] % 17) + 1;
    bench_http_reader_init(&r);
    while (at < n) {
        size_t len = n - at < piece ? n - at : piece;
        long used = bench_http_feed(&r, p + at, len, &err);
        if (used < 0)
            return;
        if ((size_t)used > len)
            abort();
        if (!r.done && (size_t)used < len)
            abort(); /* stops early only at the end of a response */
        if (r.done && (r.status < 0 || r.status > 999))
            abort();
        at += (size_t)used;
    }
    (void)bench_http_feed(&r, "", 0, &err);
}

static void acks(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        bench_ack_t a;
        if (bench_ack_parse(p, n, &a) == 0 && strlen(a.error) >= sizeof a.error)
            abort();
        p += n + 1;
    }
}

static void ws(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *err = NULL;
    int status = 0;
    long head = bench_ws_handshake(p, size, &status);
    if (head > (long)size)
        abort();
    size_t at = head > 0 ? (size_t)head : 0;
    while (at < size) {
        bench_ws_frame_t f;
        int h = bench_ws_frame_parse(p + at, size - at, &f, &err);
        if (h <= 0)
            return;
        if ((size_t)h > size - at || (size_t)h != f.head || h > BENCH_WS_HEAD_MAX)
            abort();
        if (f.opcode >= 8 && (f.len > 125 || !f.fin))
            abort();
        if (f.len > size - at - (size_t)h)
            return;
        at += (size_t)h + (size_t)f.len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    http(data, size);
    acks(data, size);
    ws(data, size);
    return 0;
}
