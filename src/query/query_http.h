/* query_http.h - the query route (GET /api/logs). */
#ifndef LOGSHIP_QUERY_HTTP_H
#define LOGSHIP_QUERY_HTTP_H

#include "../http/http.h"

extern const http_handler_t query_http_handler;

#endif
