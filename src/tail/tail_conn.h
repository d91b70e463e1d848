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
    struct tail_state *open; /* the tails and followed files open now (tail_conn.c's) */
} tail_conn_ctx_t;

/* What a tail needs of its principal to stay open (tail_conn_recheck). */
enum tail_need { TAIL_NEED_TAIL, TAIL_NEED_FILES };
/* 0 when principal may keep an open tail that needs need; else the status
 * of the refusal (401: the token is gone, 403: it may not any more) with
 * *why, which is sent to the client. */
typedef int (*tail_conn_check_fn)(void *arg, const void *principal, enum tail_need need,
                                  const char **why);

/* Asks check about the principal of every open live tail and followed
 * file (SSE and WebSocket; those with one); those it refuses end now: a
 * WebSocket gets {"type":"error","status":S,"error":why} and a close with
 * 1008, an SSE stream an "event: error" with the same data and its end (an
 * EventSource reconnects and is refused). For a reload of the tokens.
 * Returns how many ended. Loop thread. */
size_t tail_conn_recheck(tail_conn_ctx_t *ctx, tail_conn_check_fn check, void *arg);

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
