/* stats.h - counts of matching records per time bucket and per value of
 * one key (level, topic, app or host): the answer of GET /api/stats, the
 * web UI's volume chart and facets.
 *
 * A stats request is a filter (every /api/logs filter: query.h's
 * query_param), a key `by`, an interval and a `top`. It runs as one scan
 * of the store (two when neither since nor interval is given: the first
 * finds the oldest matching record, so that the interval fits the range)
 * and counts each matching record in
 *   bucket t = floor(ts_ms / interval_ms) * interval_ms   (its ts, in ms)
 * under its value of `by` (a level's name as /api/logs gives it; an empty
 * app or host is ""). The `top` most frequent values (ties: by name) are
 * named, the others summed under "_other".
 *
 * Range: since/until as given; without since, from the oldest matching
 * record; without until, now (records stamped later are not counted).
 * Interval: as given, or the smallest of 1s 2s 5s 10s 15s 30s 1m 2m 5m 10m
 * 15m 30m 1h 2h 3h 6h 12h 1d 2d 7d 14d 30d 90d 365d that gives at most
 * STATS_AUTO_BUCKETS buckets over the range (the answer says which). A
 * range that needs more than STATS_BUCKETS_MAX buckets is refused.
 *
 * Memory: one counter per (bucket, value) that occurs, so at most one per
 * matching record, and the distinct values, at most STATS_VALUES_MAX of
 * them told apart: values first seen after that many count under
 * "_other", and the answer then says "values_capped":true.
 *
 * Pure over the store: stats_run() may be called from any thread holding a
 * store reference, one call at a time per stats_t.
 */
#ifndef LOGSHIP_QUERY_STATS_H
#define LOGSHIP_QUERY_STATS_H

#include <stdatomic.h>
#include <stdint.h>

#include "../common/buf.h"
#include "../store/store.h"
#include "query.h"

#define STATS_AUTO_BUCKETS 120
#define STATS_BUCKETS_MAX  10000
#define STATS_TOP_DEFAULT  20
#define STATS_TOP_MAX      1000
#define STATS_VALUES_MAX   65536
/* what /api/stats answers an unknown parameter with */
#define STATS_PARAMS                                                                               \
    "by, interval, top, topic, app, host, field.NAME, level, q, qi, word, re, since, until, "      \
    "after, before"

enum stats_by { STATS_BY_LEVEL, STATS_BY_TOPIC, STATS_BY_APP, STATS_BY_HOST };

typedef struct stats {
    query_t q; /* the filter and its texts; q's limit and order are not used */
    enum stats_by by;
    int64_t interval_ms; /* 0: chosen from the range */
    size_t top;
    int by_given;
} stats_t;

void stats_init(stats_t *s);
void stats_free(stats_t *s);
/* Applies one request parameter: by, interval, top, or a filter key
 * (query_param's, but not limit or order). Returns 0, 1 for an unknown
 * key, -1 with *err (a static message) for a bad value. */
int stats_param(stats_t *s, slice_t key, slice_t value, const char **err);

/* Results of stats_run() besides 0. */
#define STATS_EBAD       (-1) /* a bad request: err says why (400) */
#define STATS_ECANCELLED (-2) /* *cancel became nonzero */
#define STATS_ESTORE     (-3) /* the store failed to read (500) */

/* Counts over the store and appends the JSON answer to out. now_ns is
 * "now" (the default until). cancel may be NULL; when it becomes nonzero
 * the scan stops soon. Returns 0, or a STATS_E* with a NUL-terminated
 * message in err[0..cap) for STATS_EBAD. */
int stats_run(stats_t *s, store_t *st, int64_t now_ns, const atomic_int *cancel, buf_t *out,
              char *err, size_t cap);

#endif
