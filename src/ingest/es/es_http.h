/* es_http.h - the Elasticsearch routes: POST /_bulk and everything under
 * /es/ (/es/_bulk, /es/<index>/_bulk and the endpoints clients probe
 * first), a protocol of ingest/http/proto_http.h. */
#ifndef LOGSHIP_ES_HTTP_H
#define LOGSHIP_ES_HTTP_H

#include "../http/proto_http.h"

extern const proto_http_t es_http;
/* The route's counters (ingest.h). Loop thread. */
const ingest_stats_t *es_stats(void);

/* Whether a request to / comes from an Elasticsearch client (it sends
 * X-Elastic-Client-Meta, or asks for Elasticsearch's media types), so
 * that / can answer it as Elasticsearch does rather than with the UI. */
int es_http_is_client(const http_req_t *r);
/* Answers GET or HEAD / as Elasticsearch: the cluster's name and version
 * with the product header. */
void es_http_root(http_conn_t *c, const http_req_t *r);

#endif
