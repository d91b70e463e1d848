/* query.h - running a log query over the store, in bounded chunks.
 *
 * A query is a filter, a limit and an order. It runs as one scan of the
 * store, forward or backward, producing JSON in chunks so a large answer
 * never sits in memory whole:
 *   - order=desc: newest first, scanning backward (down to `after` if set);
 *   - with after= or since= (ascending): the first `limit` matches from there;
 *   - otherwise (ascending): the newest `limit` matches, oldest first. A
 *     first backward pass finds where they start, without formatting.
 * before= (seq < before) bounds every case from above: order=desc with
 * before= pages backward from the oldest record a reader already has.
 * An answer with nothing in it may come with a hint (hint.h): a topic
 * pattern without a wildcard that, as "P.#", would have found records.
 * A query limited to a token's topics (query_limit) finds, counts and
 * hints at records in them only.
 * sort=ts answers in time order instead (tsort.h): the same records a
 * query in seq order would pick, but by their (ts, seq) key, with
 * ts_before=/ts_after= (a position "TS_NS,SEQ") to page through time order.
 * format=json|ndjson|csv chooses the answer's form and makes it a download
 * (query_http.c sends a Content-Disposition); limit=all (seq order only)
 * streams every matching record.
 * query_run() may be called from any thread, one call at a time per query.
 */
#ifndef LOGSHIP_QUERY_H
#define LOGSHIP_QUERY_H

#include <stdatomic.h>

#include "../common/buf.h"
#include "../route/filter.h"
#include "../store/store.h"
#include "tsort.h"

#define QUERY_LIMIT_DEFAULT 1000
#define QUERY_LIMIT_MAX     1000000
/* the filter's texts of one query: the request's parameters at most
 * QUERY_PARAM_STRINGS_MAX (a request head is at most 16 KiB), and room
 * besides for a token's topic limit (at most 16 patterns), which the
 * parameters can never take */
#define QUERY_PARAM_STRINGS_MAX 16384
#define QUERY_STRINGS_MAX       (QUERY_PARAM_STRINGS_MAX + TOPIC_SET_MAX * TOPIC_PATTERN_MAX_BYTES)
/* what /api/logs answers an unknown parameter with */
#define QUERY_PARAMS                                                                               \
    "topic, app, host, field.NAME, level, q, qi, word, re, since, until, after, before, "          \
    "not.topic, not.app, not.host, not.field.NAME, not.level, limit, order, sort, ts_before, "     \
    "ts_after, format"

enum query_format { QUERY_JSON_ARRAY, QUERY_NDJSON, QUERY_CSV };

typedef struct query {
    filter_t f; /* strings point into `strings` */
    buf_t strings;
    struct regex *re; /* re=, compiled (route/regex.h); f borrows it */
    size_t limit;
    int desc;
    int anchored; /* after= or since= given: read forward from there */
    enum query_format format;
    int download; /* format= given: the answer is a file to save */
    int sort_ts;  /* sort=ts: time order (tsort.h) */
    int has_ts_before, has_ts_after;
    int64_t ts_before_ts, ts_after_ts;
    uint64_t ts_before_seq, ts_after_seq;
    tsort_t ts;     /* sort=ts's selection, once run */
    size_t ts_next; /* the next of ts.items to write */

    /* progress */
    int backward;   /* scan direction */
    int located;    /* the start of "newest N, oldest first" is known */
    size_t emitted; /* records written so far */
    int started;    /* opening '[' written */
    int done;
    int error;                 /* -errno from the store */
    const _Atomic int *cancel; /* may be NULL: nonzero stops the scan soon (the client left) */
    buf_t hint;                /* once done with nothing found: hint.h's text, or empty */
} query_t;

void query_init(query_t *q);
void query_free(query_t *q);
/* Applies one request parameter: the filter keys, limit, order. Returns 0,
 * 1 for an unknown key, -1 with *err for a bad value (a static message, or
 * re='s, valid on this thread until its next call). The value is copied. */
int query_param(query_t *q, slice_t key, slice_t value, const char **err);
/* Checks the parameters together, once all are applied. Returns 0, or -1
 * with *err (limit=all with sort=ts; ts_before/ts_after without it). */
int query_check(const query_t *q, const char **err);

/* Limits the query to the topics of s (a token's: filter_limit), whatever
 * its parameters ask; the texts are copied. Returns 0, or -1 when they do
 * not fit (never, with the room QUERY_STRINGS_MAX keeps for them). */
int query_limit(query_t *q, const topic_set_t *s);

/* Appends output to out until it holds about `chunk` bytes or the query is
 * complete (q->done). */
void query_run(query_t *q, store_t *s, buf_t *out, size_t chunk);

#endif
