/* tsort.h - a query's answer in time order (sort=ts): the matching
 * records ordered by ts, ties by seq, with memory bounded by the limit.
 *
 * The store is in seq (arrival) order; a backfilled or late record sits
 * out of time order in it. tsort selects the `limit` records a query wants
 * by their (ts, seq) key in one scan, keeping a heap of at most `limit`
 * entries (32 bytes each: the key and its place in the answer): the
 * largest keys (the newest, keep_newest) or the smallest (the first from
 * since=/after=). A second scan, bounded by the selected seqs, formats
 * exactly those records; they are then put in (ts, seq) order. Memory:
 * the heap and the formatted answer, nothing else. A position (ts, seq)
 * bounds the selection from either side, so a reader pages through time
 * order without gap or repeat however many records share one ts
 * (tsort_bound).
 * Any thread, one call at a time per tsort_t.
 */
#ifndef LOGSHIP_QUERY_TSORT_H
#define LOGSHIP_QUERY_TSORT_H

#include <stdint.h>

#include "../common/buf.h"
#include "../route/filter.h"
#include "../store/store.h"

#define TSORT_LIMIT_MAX 1000000

typedef struct tsort_key {
    int64_t ts;
    uint64_t seq;
} tsort_key_t;

typedef struct tsort_item {
    tsort_key_t k;
    size_t off, len; /* the formatted record in text */
} tsort_item_t;

typedef void (*tsort_format_fn)(buf_t *out, const record_t *r);

typedef struct tsort {
    size_t limit;
    int keep_newest;
    int has_lo, has_hi; /* bounds: keys > lo, keys < hi */
    tsort_key_t lo, hi;
    tsort_item_t *items; /* the heap, then the selection in (ts, seq) order */
    size_t n, cap;
    size_t found; /* records formatted by the second scan */
    buf_t text;
} tsort_t;

/* limit 1..TSORT_LIMIT_MAX. */
void tsort_init(tsort_t *t, size_t limit, int keep_newest);
void tsort_free(tsort_t *t);
/* Only records after (after=1) or before (after=0) the position (ts, seq)
 * in time order. */
void tsort_bound(tsort_t *t, int after, int64_t ts, uint64_t seq);
/* 1 when a record with key k would be kept now (the bounds, then the
 * heap); the pure core of the selection, for the tests. */
int tsort_offer(tsort_t *t, int64_t ts, uint64_t seq);
/* Scans s with f, selects, formats each selected record with fmt and
 * sorts: t->items[0..t->n) in ascending (ts, seq) order, each record's
 * text at t->text.data + off. Returns 0 or the store's -errno. */
int tsort_run(tsort_t *t, store_t *s, const filter_t *f, tsort_format_fn fmt);
/* Sorts the selection made by tsort_offer into ascending (ts, seq) order
 * (tsort_run does it; the tests call it directly). */
void tsort_finish(tsort_t *t);

/* Parses "TS_NS,SEQ" (two decimal numbers; TS may be negative). Returns 0,
 * or -1. */
int tsort_parse_pos(const char *s, size_t n, int64_t *ts, uint64_t *seq);

#endif
