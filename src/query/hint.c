/* hint.c - hints for empty answers: see hint.h. */
#include "hint.h"

#include <stdlib.h>
#include <string.h>

static int feed(void *arg, const record_t *r)
{
    return filter_hint_feed(arg, r);
}

/* A pattern without a wildcard, before allocating anything. */
static int possible(const filter_t *f)
{
    for (size_t i = 0; i < f->ntopics; i++)
        if (!memchr(f->topics[i].p, '*', f->topics[i].n) &&
            !memchr(f->topics[i].p, '#', f->topics[i].n))
            return 1;
    return 0;
}

size_t hint_from_store(store_t *s, const filter_t *f, buf_t *out)
{
    if (!possible(f))
        return 0;
    filter_hint_t *h = xmalloc(sizeof *h); /* once per empty answer: off the stack */
    size_t n = 0;
    if (filter_hint_init(h, f)) {
        uint64_t top = store_last_seq(s);
        if (f->before && f->before - 1 < top)
            top = f->before - 1;
        uint64_t floor = top > HINT_SCAN ? top - HINT_SCAN : 0;
        if (h->alt.after < floor)
            h->alt.after = floor;
        if (top > h->alt.after && store_scan(s, &h->alt, 1, feed, h) == 0)
            n = filter_hint_text(h, f, out);
    }
    free(h);
    return n;
}

size_t hint_from_window(const ring_t *r, const filter_t *f, buf_t *out)
{
    if (!possible(f))
        return 0;
    filter_hint_t *h = xmalloc(sizeof *h);
    size_t n = 0;
    if (filter_hint_init(h, f)) {
        size_t i = ring_count(r), looked = 0;
        record_t rec;
        while (i > 0 && looked++ < HINT_SCAN) {
            i--;
            if (record_decode(ring_at(r, i), SIZE_MAX >> 1, &rec) > 0 && filter_hint_feed(h, &rec))
                break;
        }
        n = filter_hint_text(h, f, out);
    }
    free(h);
    return n;
}
