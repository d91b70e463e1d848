/* journal_http.h - POST /upload: systemd-journal-upload's stream of
 * journal entries (application/vnd.fdo.journal), parsed as it arrives
 * (the upload of a followed journal is one request that does not end),
 * appended in batches, answered once the body has ended and everything
 * is durable. */
#ifndef LOGSHIP_JOURNAL_HTTP_H
#define LOGSHIP_JOURNAL_HTTP_H

#include "../http/ingest_http.h"
#include "journal_parse.h"

/* The route's data: the /api/log context whose store and limits it uses
 * (--max-line bounds a MESSAGE, --max-body one entry). */
typedef struct journal_http_ctx {
    ingest_http_ctx_t *ingest; /* borrowed */
    size_t max_line;
    journal_seen_t seen; /* the newest entry stored of each journal */
} journal_http_ctx_t;

extern const http_handler_t journal_http_handler;
/* The route's counters (ingest.h). Loop thread. */
const ingest_stats_t *journal_stats(void);

#endif
