/* fuzz_fluent.c - the forward protocol as a stream: records decode, and
 * cutting the same bytes into two reads anywhere gives the same records
 * and acks as one read. */
#include <stdint.h>

#include "fuzz_common.h"
#include "ingest/fluent/fluent_parse.h"

typedef struct sink {
    batch_t all;
    buf_t acks;
} sink_t;

static void on_records(void *arg, batch_t *b)
{
    sink_t *s = arg;
    buf_append(&s->all.frames, b->frames.data, b->frames.len);
    s->all.count += b->count;
}

static void on_acked(void *arg, batch_t *b, const char *chunk, size_t n)
{
    sink_t *s = arg;
    on_records(arg, b);
    buf_append(&s->acks, chunk, n);
    buf_putc(&s->acks, '\n');
}

static const fluent_events_t ev = {on_records, on_acked};

static void run(const char *p, size_t n, size_t cut, sink_t *out)
{
    fluent_session_t s;
    rec_defaults_t d = {.level = -1, .now = 1};
    fluent_session_init(&s, 4096, 1 << 16);
    if (fluent_feed(&s, p, cut, &d, &ev, out) == 0)
        fluent_feed(&s, p + cut, n - cut, &d, &ev, out);
    fluent_session_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    sink_t one = {0}, two = {0};
    run(p, size, size, &one);
    run(p, size, size / 2, &two);
    fuzz_check_batch(&one.all);
    fuzz_check_batch(&two.all);
    /* receive times differ by nothing here (now is fixed): same bytes */
    if (one.all.count != two.all.count || one.acks.len != two.acks.len ||
        (one.acks.len && memcmp(one.acks.data, two.acks.data, one.acks.len)))
        abort();
    batch_free(&one.all);
    batch_free(&two.all);
    buf_free(&one.acks);
    buf_free(&two.acks);
    return 0;
}
