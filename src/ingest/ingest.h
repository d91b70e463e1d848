/* ingest.h - what every input path shares: the report of rejected input,
 * and the counters of an input.
 *
 * Parsers never drop input silently. A line or element that cannot become a
 * record is listed in the report with its line number and reason; the good
 * records around it still go into the batch.
 */
#ifndef LOGSHIP_INGEST_H
#define LOGSHIP_INGEST_H

#include <stdint.h>

#include "../common/buf.h"
#include "../common/hist.h"

/* One input's counters for /metrics. Each input's module owns its own
 * (static, for the life of the process: appends still in flight when a
 * listener closes are counted when the store answers) and exposes them
 * with a *_stats() getter; server/metrics.c renders them. Written on the
 * loop thread with plain increments, per read, batch or connection; not
 * every input moves every counter. */
typedef struct ingest_stats {
    uint64_t records;           /* accepted (the stream inputs: once durable) */
    uint64_t bytes;             /* request or stream bytes received */
    uint64_t repaired;          /* records with invalid UTF-8 replaced */
    uint64_t truncated;         /* records cut to the size limit */
    uint64_t unknown_levels;    /* stored at the default level, fields.level_raw */
    uint64_t conns_open;        /* connections open now */
    uint64_t conns_total;       /* connections accepted */
    uint64_t conns_refused;     /* over --max-connections */
    uint64_t conns_idle_closed; /* quiet for --idle-timeout */
    uint64_t parse_errors;      /* stored raw with fields.parse_error */
    uint64_t framing_fallbacks; /* TCP frames that looked octet-counted, kept as lines */
    uint64_t dropped;           /* lost: the store could not take them (UDP, a closed peer's) */
    uint64_t denied;            /* connections or datagrams from outside --allow */
    hist_t ack_seconds;         /* request or batch to its acknowledgement (acked inputs) */
} ingest_stats_t;

#define INGEST_REPORT_MAX 100 /* rejections listed in a reply; all are counted */

typedef struct ingest_report {
    size_t rejected;  /* lines or elements refused */
    size_t listed;    /* of which described in json */
    buf_t json;       /* {"line":N,"error":"..."} objects, comma separated */
    const char *unit; /* what N counts: "line" (default) or "element" */
} ingest_report_t;

void ingest_report_reset(ingest_report_t *r);
void ingest_report_free(ingest_report_t *r);
/* Records that input line or element n (1-based) was refused. */
void ingest_reject(ingest_report_t *r, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
