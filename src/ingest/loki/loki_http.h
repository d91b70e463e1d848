/* loki_http.h - the Loki push route (POST /loki/api/v1/push), a protocol
 * of ingest/http/proto_http.h. */
#ifndef LOGSHIP_LOKI_HTTP_H
#define LOGSHIP_LOKI_HTTP_H

#include "../http/proto_http.h"

extern const proto_http_t loki_http;
/* The route's counters (ingest.h). Loop thread. */
const ingest_stats_t *loki_stats(void);

#endif
