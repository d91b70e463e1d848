/* status.h - routes about logshipd itself: GET / (the web UI, or a JSON
 * index), /ui/<asset>, /healthz and /metrics. */
#ifndef LOGSHIP_STATUS_H
#define LOGSHIP_STATUS_H

#include "../http/http.h"

extern const http_handler_t status_health_handler;
extern const http_handler_t status_metrics_handler;
extern const http_handler_t status_index_handler;
extern const http_handler_t status_ui_handler;

#endif
