/* stats_http.h - the stats route (GET /api/stats: stats.h's counts). It
 * runs in the query route's context (query_http.h): the store, read on
 * the loop's thread pool, and the loop its reply goes out on. */
#ifndef LOGSHIP_STATS_HTTP_H
#define LOGSHIP_STATS_HTTP_H

#include "../http/http.h"

extern const http_handler_t stats_http_handler;

#endif
