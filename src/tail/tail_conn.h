/* tail_conn.h - the live tail and file routes: SSE and plain HTTP
 * handlers, the WebSocket handlers, and the context they share. */
#ifndef LOGSHIP_TAIL_CONN_H
#define LOGSHIP_TAIL_CONN_H

#include <stdint.h>
#include <uv.h>

#include "../http/http.h"
#include "../http/limit.h"
#include "../http/ws.h"
#include "files.h"
#include "tail.h"

/* The handlers' context: the data of their HTTP routes (http_route_t.data)
 * and of their WebSocket server (ws_create), set by its owner
 * (server/routes.c) before they serve. Everything is borrowed. */
typedef struct tail_conn_ctx {
    uv_loop_t *loop;
    tail_t *tail;
    const file_roots_t *roots; /* NULL: file tail is off (no --tail-root) */
    /* --max-client-tails: live tails open per client (its token's name,
     * principal_name of the request's principal, else its address); NULL
     * or a limit of 0: none */
    struct limit *tails;
    const char *(*principal_name)(const void *principal);
} tail_conn_ctx_t;

/* The routes' counters, for /metrics (the hub's own are tail_get_stats). */
typedef struct tail_conn_stats {
    uint64_t rejected[HREJ_COUNT]; /* requests refused, by reason */
} tail_conn_stats_t;

extern const http_handler_t tail_sse_handler;   /* GET /api/tail (SSE) */
extern const http_handler_t files_list_handler; /* GET /api/files */
extern const http_handler_t files_file_handler; /* GET /api/files/<root>/<path> */
extern const ws_handler_t tail_ws_handlers[2];  /* /api/tail, /api/files/ */

/* The counters of the process's tail and file routes. Loop thread. */
const tail_conn_stats_t *tail_conn_stats(void);

#endif
