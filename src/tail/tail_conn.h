/* tail_conn.h - the live tail and file routes: SSE and plain HTTP
 * handlers, and the WebSocket handlers. */
#ifndef LOGSHIP_TAIL_CONN_H
#define LOGSHIP_TAIL_CONN_H

#include "../http/http.h"
#include "../http/ws.h"

extern const http_handler_t tail_sse_handler;   /* GET /api/tail (SSE) */
extern const http_handler_t files_list_handler; /* GET /api/files */
extern const http_handler_t files_file_handler; /* GET /api/files/<root>/<path> */
extern const ws_handler_t tail_ws_handlers[2];  /* /api/tail, /api/files/ */

#endif
