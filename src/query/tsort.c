/* tsort.c - time-ordered query answers with a bounded heap: see tsort.h. */
#include "tsort.h"

#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"

static int key_cmp(tsort_key_t a, tsort_key_t b)
{
    if (a.ts != b.ts)
        return a.ts < b.ts ? -1 : 1;
    return (a.seq > b.seq) - (a.seq < b.seq);
}

void tsort_init(tsort_t *t, size_t limit, int keep_newest)
{
    memset(t, 0, sizeof *t);
    t->limit = limit;
    t->keep_newest = keep_newest;
}

void tsort_free(tsort_t *t)
{
    free(t->items);
    buf_free(&t->text);
    t->items = NULL;
    t->n = t->cap = 0;
}

void tsort_bound(tsort_t *t, int after, int64_t ts, uint64_t seq)
{
    tsort_key_t k = {ts, seq};
    if (after) {
        t->has_lo = 1;
        t->lo = k;
    } else {
        t->has_hi = 1;
        t->hi = k;
    }
}

/* The heap's order: the root is the key to evict first. Keeping the
 * newest, that is the smallest key (a min-heap); else the largest. */
static int above(const tsort_t *t, tsort_key_t a, tsort_key_t b)
{
    int c = key_cmp(a, b);
    return t->keep_newest ? c < 0 : c > 0;
}

static void sift_up(tsort_t *t, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!above(t, t->items[i].k, t->items[p].k))
            break;
        tsort_item_t x = t->items[i];
        t->items[i] = t->items[p];
        t->items[p] = x;
        i = p;
    }
}

static void sift_down(tsort_t *t, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < t->n && above(t, t->items[l].k, t->items[m].k))
            m = l;
        if (r < t->n && above(t, t->items[r].k, t->items[m].k))
            m = r;
        if (m == i)
            return;
        tsort_item_t x = t->items[i];
        t->items[i] = t->items[m];
        t->items[m] = x;
        i = m;
    }
}

int tsort_offer(tsort_t *t, int64_t ts, uint64_t seq)
{
    tsort_key_t k = {ts, seq};
    if (t->has_lo && key_cmp(k, t->lo) <= 0)
        return 0;
    if (t->has_hi && key_cmp(k, t->hi) >= 0)
        return 0;
    if (t->n < t->limit) {
        if (t->n == t->cap) {
            /* grown as matches come: a large limit costs only what is kept */
            size_t cap = t->cap ? t->cap * 2 : 256;
            t->cap = cap < t->limit ? cap : t->limit;
            t->items = xrealloc(t->items, t->cap * sizeof *t->items);
        }
        t->items[t->n] = (tsort_item_t){.k = k}; /* off, len: set by the second scan */
        sift_up(t, t->n++);
        return 1;
    }
    /* full: k replaces the root when the root would be evicted before it */
    if (!above(t, t->items[0].k, k))
        return 0;
    t->items[0].k = k;
    sift_down(t, 0);
    return 1;
}

static int by_seq(const void *a, const void *b)
{
    const tsort_item_t *x = a, *y = b;
    return (x->k.seq > y->k.seq) - (x->k.seq < y->k.seq);
}

static int by_key(const void *a, const void *b)
{
    const tsort_item_t *x = a, *y = b;
    return key_cmp(x->k, y->k);
}

void tsort_finish(tsort_t *t)
{
    if (t->n)
        qsort(t->items, t->n, sizeof *t->items, by_key);
}

static int on_select(void *arg, const record_t *r)
{
    tsort_offer(arg, r->ts, r->seq);
    return 0;
}

typedef struct format_pass {
    tsort_t *t;
    tsort_format_fn fmt;
} format_pass_t;

static int on_format(void *arg, const record_t *r)
{
    format_pass_t *p = arg;
    tsort_t *t = p->t;
    /* the items are in seq order here: find r's */
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->items[mid].k.seq < r->seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == t->n || t->items[lo].k.seq != r->seq)
        return 0;
    t->items[lo].off = t->text.len;
    p->fmt(&t->text, r);
    t->items[lo].len = t->text.len - t->items[lo].off;
    return ++t->found == t->n;
}

int tsort_run(tsort_t *t, store_t *s, const filter_t *f, tsort_format_fn fmt)
{
    filter_t g = *f;
    /* the bounds' times narrow the scan (the store skips blocks by time) */
    if (t->has_lo && t->lo.ts > g.since)
        g.since = t->lo.ts;
    if (t->has_hi && t->hi.ts < g.until)
        g.until = t->hi.ts;
    int rc = store_scan(s, &g, 0, on_select, t);
    if (rc || !t->n)
        return rc;
    qsort(t->items, t->n, sizeof *t->items, by_seq);
    /* second pass: the selected seqs' range only */
    uint64_t first = t->items[0].k.seq, last = t->items[t->n - 1].k.seq;
    g.after = first - 1;
    g.before = last + 1;
    format_pass_t p = {t, fmt};
    rc = store_scan(s, &g, 0, on_format, &p);
    if (rc)
        return rc;
    if (t->found < t->n) {
        /* removed by retention between the scans: keep what was read */
        size_t k = 0;
        for (size_t i = 0; i < t->n; i++)
            if (t->items[i].len)
                t->items[k++] = t->items[i];
        t->n = k;
    }
    tsort_finish(t);
    return 0;
}

int tsort_parse_pos(const char *s, size_t n, int64_t *ts, uint64_t *seq)
{
    const char *comma = memchr(s, ',', n);
    if (!comma)
        return -1;
    const char *p = s;
    int neg = 0;
    if (p < comma && *p == '-') {
        neg = 1;
        p++;
    }
    if (p == comma || comma - p > 19)
        return -1;
    uint64_t v = 0;
    for (; p < comma; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v > (uint64_t)INT64_MAX)
        return -1;
    const char *q = comma + 1, *end = s + n;
    if (q == end || end - q > 19)
        return -1;
    uint64_t sq = 0;
    for (; q < end; q++) {
        if (*q < '0' || *q > '9')
            return -1;
        sq = sq * 10 + (uint64_t)(*q - '0');
    }
    *ts = neg ? -(int64_t)v : (int64_t)v;
    *seq = sq;
    return 0;
}
