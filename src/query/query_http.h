/* query_http.h - the query route (GET /api/logs) and the context it runs
 * in. */
#ifndef LOGSHIP_QUERY_HTTP_H
#define LOGSHIP_QUERY_HTTP_H

#include <stdint.h>
#include <uv.h>

#include "../common/hist.h"
#include "../http/http.h"
#include "../store/store.h"

/* The handler's context: the route's data (http_route_t.data), set by its
 * owner (server/routes.c) before the route serves. Both are borrowed: the
 * store is read on the loop's thread pool, replies go out on loop. Each
 * query holds a reference on the store until it is freed (store_ref()). */
typedef struct query_http_ctx {
    store_t *store;
    uv_loop_t *loop;
} query_http_ctx_t;

/* The route's counters, for /metrics. */
typedef struct query_http_stats {
    hist_t seconds;                /* a request to the last byte of its reply queued */
    uint64_t rejected[HREJ_COUNT]; /* requests refused, by reason */
} query_http_stats_t;

extern const http_handler_t query_http_handler;

/* The counters of the process's query route. Loop thread. */
const query_http_stats_t *query_http_stats(void);

#endif
