/* fuzz_bench_tags.c - the run tags of logship bench (src/cli/bench_rec.c)
 * on arbitrary text: the tags found in a stream cut where the input says
 * are the tags found in the whole; and the input as a corpus line, in
 * every encoding, gives records whose tag is found again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/bench_rec.h"

#define RUN "0123456789abcdef"

typedef struct seen {
    uint64_t sum, n;
} seen_t;

static void on_tag(void *arg, uint64_t id, uint64_t t)
{
    seen_t *s = arg;
    s->sum = s->sum * 31 + id * 7 + t;
    s->n++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const char *p = (const char *)data + 1;
    size_t n = size - 1, step = (size_t)data[0] % 61 + 1;
    seen_t whole = {0}, cut = {0};
    size_t nw = bench_tags_scan(RUN, p, n, on_tag, &whole);
    bench_tag_stream_t st = {0};
    size_t nc = 0;
    for (size_t at = 0; at < n; at += step)
        nc += bench_tags_feed(&st, RUN, p + at, n - at < step ? n - at : step, on_tag, &cut);
    if (nw != nc || whole.n != cut.n || whole.sum != cut.sum)
        abort();

    for (int enc = BENCH_ENC_FORM; enc <= BENCH_ENC_SYSLOG; enc++) {
        bench_rec_t r;
        char err[128];
        if (bench_rec_init(&r, (enum bench_enc)enc, RUN, 0, p, n, err, sizeof err))
            continue;
        r.octet_count = data[0] & 1;
        r.lf = !r.octet_count;
        bench_stamp_t stamp = {0};
        bench_stamp_set(&r, &stamp, 1764763200);
        buf_t out = BUF_INIT;
        seen_t got = {0};
        for (uint64_t id = 1; id <= 3; id++) {
            buf_reset(&out);
            bench_rec_append(&r, &out, id, id * 1000, &stamp);
            if (out.len > bench_rec_max(&r))
                abort();
            got.n = 0;
            /* a form record is found in its URL-encoded form too */
            if (bench_tags_scan(RUN, out.data, out.len, on_tag, &got) < 1)
                abort();
        }
        buf_free(&out);
        bench_rec_free(&r);
    }
    return 0;
}
