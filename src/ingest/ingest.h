/* ingest.h - what every input path shares: the report of rejected input.
 *
 * Parsers never drop input silently. A line or element that cannot become a
 * record is listed in the report with its line number and reason; the good
 * records around it still go into the batch.
 */
#ifndef LOGSHIP_INGEST_H
#define LOGSHIP_INGEST_H

#include "../common/buf.h"

#define INGEST_REPORT_MAX 100 /* rejections listed in a reply; all are counted */

typedef struct ingest_report {
    size_t rejected; /* lines or elements refused */
    size_t listed;   /* of which described in json */
    buf_t json;      /* {"line":N,"error":"..."} objects, comma separated */
    const char *unit; /* what N counts: "line" (default) or "element" */
} ingest_report_t;

void ingest_report_reset(ingest_report_t *r);
void ingest_report_free(ingest_report_t *r);
/* Records that input line or element n (1-based) was refused. */
void ingest_reject(ingest_report_t *r, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
