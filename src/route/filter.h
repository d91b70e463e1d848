/* filter.h - which records a query or a live tail wants.
 *
 * A record passes when it matches any of the topic patterns (or there are
 * none), is at least as severe as min_level (syslog order: lower is more
 * severe), contains q in its message, and lies inside the time and seq
 * bounds. Strings are borrowed from the request that built the filter.
 *
 * Topic patterns are compiled when set (topic.h) and the compiled form only
 * refers to its text by offset: copying a filter and pointing topics[i] at
 * a copy of the same text keeps it valid.
 */
#ifndef LOGSHIP_FILTER_H
#define LOGSHIP_FILTER_H

#include <stdint.h>

#include "../common/record.h"
#include "topic.h"

/* Topic patterns per filter, so per subscriber and per query: matching
 * costs every subscriber's patterns for every record. */
#define FILTER_MAX_TOPICS 16

typedef struct filter {
    slice_t topics[FILTER_MAX_TOPICS];
    topic_pat_t pats[FILTER_MAX_TOPICS]; /* topics[i] compiled; travels with it */
    size_t ntopics;
    int min_level; /* 7 (debug) passes everything */
    slice_t q;     /* substring of msg; empty passes everything */
    int64_t since, until; /* ts bounds, inclusive; INT64_MIN/MAX when open */
    uint64_t after;       /* seq > after */
    uint64_t before;      /* seq < before; 0: no bound */
} filter_t;

void filter_init(filter_t *f);
/* Applies one query parameter: topic (repeatable), level, q, since, until,
 * after, before (seq < before; at least 1). Returns 0, 1 when key is not a
 * filter key, or -1 with *err set to a static message for a bad value. v
 * must outlive f. */
int filter_set(filter_t *f, slice_t key, slice_t v, const char **err);
/* 1 when r passes f. */
int filter_match(const filter_t *f, const record_t *r);

#endif
