/* fuzz_tcp.c - the raw TCP input protocol (src/ingest/tcp/tcp_parse.c) on
 * arbitrary bytes, fed in two pieces split at a point the input chooses,
 * with a batch byte cap the input chooses too: every record built decodes,
 * every acknowledged batch has exactly the records its header promised and
 * stays within the cap, and a session that failed takes no more. */
#include <stdint.h>

#include "fuzz_common.h"
#include "ingest/tcp/tcp_parse.h"

typedef struct seen {
    size_t batches, hellos, errors;
    size_t cap; /* max_batch_bytes */
} seen_t;

static void ev_hello(void *arg, const char *producer)
{
    seen_t *s = arg;
    (void)producer;
    s->hellos++;
}

static void ev_batch(void *arg, uint64_t n, batch_t *b)
{
    seen_t *s = arg;
    if (n == 0)
        abort(); /* batch numbers start at 1 */
    fuzz_check_batch(b);
    /* a record takes at least one byte of line (its newline, or a cut) */
    if (b->count > s->cap)
        abort();
    s->batches++;
}

static void ev_error(void *arg, const char *why)
{
    seen_t *s = arg;
    if (!why || !*why)
        abort();
    s->errors++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const tcp_events_t ev = {ev_hello, ev_batch, ev_error};
    tcp_session_t sess;
    batch_t out = {0};
    seen_t seen = {0};
    rec_defaults_t d = {.level = -1, .now = 1, .host = SLICE_LIT("127.0.0.1")};
    size_t cut = size ? data[0] % (size + 1) : 0;

    tcp_session_init(&sess, 512);
    /* the second byte picks the cap: 64 bytes to 16 KiB */
    sess.max_batch_bytes = seen.cap = 64 + (size > 1 ? (size_t)data[1] * 64 : 0);
    int rc = tcp_feed(&sess, (const char *)data, cut, &out, &d, &ev, &seen);
    if (rc == 0)
        rc = tcp_feed(&sess, (const char *)data + cut, size - cut, &out, &d, &ev, &seen);
    if (rc == 0)
        tcp_finish(&sess, &out, &d, &ev, &seen);
    else if (tcp_feed(&sess, "x\n", 2, &out, &d, &ev, &seen) != -1)
        abort(); /* a failed session refuses everything after */
    fuzz_check_batch(&out);
    /* an error is reported exactly when the session failed (also when the
     * last, unterminated line broke the protocol at finish) */
    if (seen.hellos > 1 || (sess.failed != 0) != (seen.errors > 0))
        abort();
    tcp_session_free(&sess);
    batch_free(&out);
    return 0;
}
