/* http.h - libwebsockets glue: one HTTP listener on the server's loop,
 * routing requests to the API handlers and writing their replies.
 *
 * Each handler runs on the loop thread inside an lws callback and returns
 * what that callback must return: 0 to go on, -1 to close the connection.
 */
#ifndef LOGSHIP_HTTP_H
#define LOGSHIP_HTTP_H

#include <libwebsockets.h>

#include "../ingest/http/http_parse.h"
#include "metrics.h"
#include "server.h"

enum http_route {
    ROUTE_NONE,
    ROUTE_INGEST,
    ROUTE_LOGS,
    ROUTE_TAIL,
    ROUTE_FILES, /* GET /api/files: the list */
    ROUTE_FILE,  /* GET /api/files/<root>/<path> */
    ROUTE_HEALTH,
    ROUTE_METRICS,
    ROUTE_INDEX,
    ROUTE_UI, /* /ui/<file>: the web UI's embedded assets */
};
enum http_method { METHOD_OTHER, METHOD_GET, METHOD_POST, METHOD_HEAD };

/* Per-connection state: lws allocates it with the connection. Fields are
 * reset at the start of every request on a keep-alive connection. */
typedef struct http_conn {
    server_t *srv;
    enum http_route route;
    enum http_method method;
    int counted;  /* included in srv->inflight */
    int answered; /* reply written for the current request */

    /* request body (POST /api/log) */
    enum http_body_kind kind;
    enum http_reject reject; /* set with reject_status when refusing */
    int reject_status;
    const char *reject_msg;
    uint64_t content_length; /* 0 when absent */
    int chunked;             /* Transfer-Encoding: body length unknown */
    int close_requested;     /* Connection: close */
    int close_now;           /* answered outside a callback; close when writable */
    int body_done;           /* lws reported the end of the body */
    buf_t body;
    uint64_t received;
    form_t query; /* the decoded query string, kept until the body is in */

    /* a reply that waits for the store (or a query running off the loop) */
    struct lws *wsi;
    store_waiter_t waiter;
    buf_t resp;
    struct query_job *job; /* GET /api/logs in progress */

    /* live tail, of records or of a file */
    struct tail_sub *sub;
    struct file_follow *ff;
    int is_ws, is_sse;
    int keepalive_due; /* SSE: send a comment to keep the stream alive */
    int close_after;   /* WebSocket: send resp, then close */
} http_conn_t;

int http_start(server_t *srv);
/* accept.c: the listening socket; a connection goes to lws once its first
 * request head is in. Returns 0 or -errno. */
int http_listen(server_t *srv, const char *host, int port);
void http_unlisten(server_t *srv);
/* Stops accepting new connections; open ones are served to completion. */
void http_drain(server_t *srv);
/* Closes every connection and releases lws. */
void http_stop(server_t *srv);

/* Writes a complete response (headers and body in one write) and finishes
 * the transaction. */
int http_reply(struct lws *wsi, http_conn_t *c, int status, const char *ctype, const char *body,
               size_t n);
/* One extra response header: name with its colon ("etag:"), value. */
typedef struct http_header {
    const char *name, *value;
} http_header_t;
/* http_reply with the given headers instead of "Cache-Control: no-store". */
int http_reply_with(struct lws *wsi, http_conn_t *c, int status, const char *ctype,
                    const http_header_t *hdrs, size_t nhdrs, const char *body, size_t n);
/* Queues resp (already filled) to be written when the socket is writable:
 * for replies produced outside the lws callback that received the request. */
void http_reply_later(http_conn_t *c, int status);
/* {"error":"msg"} with status, counted under reason. */
int http_reply_error(struct lws *wsi, http_conn_t *c, int status, enum http_reject reason,
                     const char *msg);
/* Decodes the request's query string into f (lws has already undone the
 * percent-escapes and '+'). */
void http_query(struct lws *wsi, form_t *f);

/* Handlers, one per route. */
int ingest_on_request(struct lws *wsi, http_conn_t *c);
int ingest_on_body(struct lws *wsi, http_conn_t *c, const char *in, size_t len);
int ingest_on_complete(struct lws *wsi, http_conn_t *c);
int logs_on_request(struct lws *wsi, http_conn_t *c);
/* The connection is writable again while a query streams its answer. */
int logs_on_writable(struct lws *wsi, http_conn_t *c);
/* The connection goes away while a query runs: detach from it. */
void logs_on_close(http_conn_t *c);
int tail_http_request(struct lws *wsi, http_conn_t *c);
int tail_ws_established(struct lws *wsi, http_conn_t *c);
int tail_writable(struct lws *wsi, http_conn_t *c);
void tail_sse_timer(struct lws *wsi, http_conn_t *c);
void tail_conn_closed(http_conn_t *c);
int files_list_request(struct lws *wsi, http_conn_t *c);
int files_http_request(struct lws *wsi, http_conn_t *c, const char *path);
int status_health(struct lws *wsi, http_conn_t *c);
int status_metrics(struct lws *wsi, http_conn_t *c);
int status_index(struct lws *wsi, http_conn_t *c);
/* 1 when GET / should answer with the web UI (Accept prefers text/html). */
int status_wants_page(struct lws *wsi);
/* The embedded UI file name (n bytes), with its caching and CSP headers. */
int status_ui(struct lws *wsi, http_conn_t *c, const char *name, size_t n);

#endif
