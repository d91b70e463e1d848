/* ws.h - WebSocket connections, served by libwebsockets on the server's
 * loop. The HTTP layer (conn.c) parses the upgrade request, checks its
 * route and Origin, and hands the socket over with http_server_on_upgrade
 * (ws_adopt); lws then answers the handshake and frames the messages.
 * Over TLS (wss) what lws adopts is one end of a socketpair the HTTP layer
 * relays through the connection's TLS session (src/http/bridge.c), so
 * lws itself only ever sees plaintext; ws_peer() names the client the HTTP
 * layer saw, not the socketpair.
 *
 * Handlers are a table, like HTTP routes: a path (or prefix) and callbacks.
 * Everything runs on the loop thread.
 */
#ifndef LOGSHIP_HTTP_WS_H
#define LOGSHIP_HTTP_WS_H

#include <uv.h>

#include "../common/buf.h"

/* Bytes a message buffer must keep free before the payload (LWS_PRE). */
#define WS_PRE 16

typedef struct ws_conn ws_conn_t;
typedef struct ws_server ws_server_t;
struct form;

typedef struct ws_handler {
    const char *path;
    int prefix;
    size_t state_size; /* zeroed per connection */
    /* The handshake is done. uri is the decoded path. Return -1 to close. */
    int (*on_open)(ws_conn_t *w, const char *uri);
    /* After ws_want_writable(): write one message. */
    int (*on_writable)(ws_conn_t *w);
    void (*on_close)(ws_conn_t *w);
} ws_handler_t;

typedef struct ws_options {
    long ping_s;    /* ping after this much silence */
    long timeout_s; /* close when no pong came this long after */
    /* gives back a connection's principal (the HTTP layer's authorize
     * callback's, http.h) when it closes; NULL: nothing to give back */
    void (*release)(void *arg, const void *principal);
    void *release_arg;
} ws_options_t;

/* Creates the lws context on loop. NULL on failure (logged). */
ws_server_t *ws_create(uv_loop_t *loop, const ws_options_t *o, const ws_handler_t *h, size_t n,
                       void *data);
/* An http_upgrade_fn: takes over fd and replays bytes; peer is what
 * ws_peer() says of the connection, which keeps principal (ws_principal)
 * until it closes, then releases it. */
int ws_adopt(void *ws, int fd, const char *bytes, size_t n, const char *peer,
             const void *principal);
/* Closes every WebSocket; lws finishes closing on the loop, so free the
 * server with ws_free only after the loop has run out. */
void ws_destroy(ws_server_t *ws);
void ws_free(ws_server_t *ws);
size_t ws_open_count(const ws_server_t *ws);

void *ws_state(ws_conn_t *w);
void *ws_data(ws_conn_t *w);
/* The principal the upgrade request was authorized as, or NULL. */
const void *ws_principal(const ws_conn_t *w);
/* The request's query string, decoded. */
void ws_query(ws_conn_t *w, struct form *f);
/* A text message: p must have WS_PRE writable bytes before it. Returns 0,
 * or -1 when the connection must close. Only from on_writable. */
int ws_write_text(ws_conn_t *w, char *p, size_t n);
void ws_want_writable(ws_conn_t *w);
/* Closes with a status (1000 normal, 1008 policy), after what was written:
 * the client gets a close frame with it. Call it after the last message
 * (from on_writable, then return 0); on_writable is not called again. (A
 * -1 from on_writable closes without a close frame: for a dead peer.) */
void ws_close(ws_conn_t *w, int status);
/* The client's address, as the HTTP layer named it. */
const char *ws_peer(ws_conn_t *w, char *buf, size_t cap);

#endif
