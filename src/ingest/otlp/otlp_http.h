/* otlp_http.h - the OTLP/HTTP logs route (POST /v1/logs), a protocol of
 * ingest/http/proto_http.h. */
#ifndef LOGSHIP_OTLP_HTTP_H
#define LOGSHIP_OTLP_HTTP_H

#include "../http/proto_http.h"

extern const proto_http_t otlp_http;
/* The route's counters (ingest.h). Loop thread. */
const ingest_stats_t *otlp_stats(void);

#endif
