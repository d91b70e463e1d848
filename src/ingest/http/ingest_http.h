/* ingest_http.h - the HTTP ingest route (POST and GET /api/log). */
#ifndef LOGSHIP_INGEST_HTTP_H
#define LOGSHIP_INGEST_HTTP_H

#include "../../http/http.h"

extern const http_handler_t ingest_http_handler;

#endif
