/* merge.h - the answers of several logshipd merged by time, for `logship
 * query` and `logship tail` given --server more than once.
 *
 * A record comes as its JSON line, as logshipd sends it; its "ts" (RFC
 * 3339, or epoch numbers) orders it. Lines are copied into one buffer, so
 * the caller's may go at once. Ties are broken by the server's place on
 * the command line, then by arrival: one server's records keep its order.
 *
 * Query: every server's answer is whole before anything is printed.
 * merge_add() collects, merge_sort() orders everything, merge_window()
 * says which run of --limit records the merged answer keeps: the newest,
 * or the oldest when the query starts from a time (--since).
 *
 * Tail: records stream in, each server's in its own order (seq, which is
 * time order for records that arrive in time). A record is released, the
 * oldest first, once every other server has sent a record at least as new
 * (or has ended: merge_done()), or once it has waited hold_ns: a quiet
 * server delays the others by hold_ns at most, and a record that comes
 * later than that from a slow server is printed late, out of order, never
 * dropped. Released lines' bytes are reclaimed when half the buffer is
 * free, so a tail of any length runs in the memory of what it holds.
 *
 * Pure: no I/O. One thread.
 */
#ifndef LOGSHIP_CLI_MERGE_H
#define LOGSHIP_CLI_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"

#define MERGE_SOURCES_MAX 16

typedef struct merge_item {
    int64_t ts;
    uint64_t order; /* arrival, across sources */
    int64_t at;     /* tail: when it came (the caller's clock, ns) */
    size_t off, len;
    uint32_t src;
} merge_item_t;

/* Tail: when each held line came, by arrival, so the oldest is at hand. */
typedef struct merge_arrival {
    int64_t at;
    int released;
} merge_arrival_t;

typedef struct merge {
    buf_t text;
    size_t live_bytes; /* text still referenced by items */
    merge_item_t *items;
    size_t n, cap; /* query: in arrival, then sorted; tail: a min-heap */
    size_t nsrc;
    int64_t latest[MERGE_SOURCES_MAX]; /* tail: the newest ts from each */
    int seen[MERGE_SOURCES_MAX];
    int done[MERGE_SOURCES_MAX];
    uint64_t next_order;
    merge_arrival_t *arr; /* arr[i] is arrival base + i; [head, len) span the held */
    size_t head, len, acap;
    uint64_t base;
} merge_t;

/* nsrc sources (1..MERGE_SOURCES_MAX). */
void merge_init(merge_t *m, size_t nsrc);
void merge_free(merge_t *m);

/* The time of a record line: 0 with *ts set, or -1 when it has none that
 * parses. */
int merge_ts(const char *line, size_t n, int64_t *ts);

/* Query: adds a line of src. Returns 0, or -1 when it has no time (not
 * added). */
int merge_add(merge_t *m, size_t src, const char *line, size_t n);
/* Orders what was added by (ts, src, arrival). */
void merge_sort(merge_t *m);
/* After merge_sort(): the run [*first, *first + *count) of at most limit
 * items to print: the newest when oldest is 0, else the oldest. limit 0:
 * all. */
void merge_window(const merge_t *m, size_t limit, int oldest, size_t *first, size_t *count);
/* Item i's line (valid until the next call that adds). */
const char *merge_line(const merge_t *m, size_t i, size_t *n);

/* Tail: adds a line of src that came at now. Returns 0, or -1 as
 * merge_add(). */
int merge_push(merge_t *m, size_t src, const char *line, size_t n, int64_t now);
/* src sends no more: nothing waits for it. */
void merge_done(merge_t *m, size_t src);
/* The oldest line ready at now (see above), copied to out: 1, or 0 when
 * none is ready. all: release everything held (the end). */
int merge_pop(merge_t *m, int64_t now, int64_t hold_ns, int all, buf_t *out);
/* When the oldest held line is released at the latest (for a poll()
 * timeout), or INT64_MAX when nothing is held. */
int64_t merge_due(const merge_t *m, int64_t hold_ns);

#endif
