/* ws_client.h - a small synchronous WebSocket client on libwebsockets, for
 * the logship command-line tool (`logship tail`).
 *
 * One call opens one connection on its own lws context with the default
 * poll loop, hands every whole message to the caller and returns when the
 * connection is over: fine for a CLI, not for a server. Reconnecting is the
 * caller's business (it knows where to resume). Messages split into
 * fragments or frames of any size are put back together first, up to
 * max_message bytes. ws:// (or http://), and wss:// (or https://) over
 * TLS, verified as tls_client.h says. Not thread-safe: one connection at
 * a time per process (lws's log settings are global; a TLS context
 * watches one connection).
 */
#ifndef LOGSHIP_CLI_WS_CLIENT_H
#define LOGSHIP_CLI_WS_CLIENT_H

#include <signal.h>
#include <stddef.h>

#include "../common/tls_client.h"

/* The default largest message: logshipd's are about 256 KiB, a backlog
 * of big records can be more. */
#define WS_MESSAGE_MAX (64u * 1024 * 1024)

/* The longest path + query string a request may have: lws 4.1 cuts the
 * request line at 2 KiB. */
#define WS_PATH_MAX 2000

enum ws_result {
    WS_CLOSED = 0,      /* the connection was open, then ended (either side) */
    WS_EURL = -1,       /* the URL is not ws[s]:// or http[s]://HOST[:PORT][/PATH], or too long */
    WS_ECONNECT = -2,   /* no connection: refused, unreachable, no such host, TLS failed */
    WS_EHANDSHAKE = -3, /* connected, but the server did not take the WebSocket */
    WS_ETOOBIG = -4,    /* a message was longer than max_message */
    WS_ABORTED = -5,    /* on_message asked to stop */
    WS_STOPPED = -6,    /* *stop became nonzero */
};

typedef struct ws_request {
    const char *url; /* ws[s]:// or http[s]://HOST[:PORT][/PATH][?QUERY], URL-encoded */
    /* For wss:// and https://: the TLS context (tls_client_ctx_create();
     * borrowed); NULL: one trusting the system's store is made for the
     * connection. */
    SSL_CTX *tls;
    const char *authorization; /* Authorization header value for the handshake, or NULL */
    size_t max_message;        /* 0 for WS_MESSAGE_MAX */
    /* Runs once when the WebSocket is open. May be NULL. */
    void (*on_open)(void *arg);
    /* Runs for each whole message (text or binary) as it completes; the
     * bytes are valid during the call only. Nonzero closes the connection
     * (WS_ABORTED). */
    int (*on_message)(void *arg, const char *p, size_t n);
    void *arg;
    /* When not NULL: checked at least every 100 ms and after every signal;
     * once nonzero the connection is closed (WebSocket close 1000) and the
     * call returns WS_STOPPED. For a SIGINT handler's flag. */
    volatile sig_atomic_t *stop;
} ws_request_t;

/* Connects to req->url and runs the connection to its end. Returns a
 * ws_result; err (errlen bytes, NUL-terminated) gets a one-line reason for
 * everything but WS_STOPPED and WS_ABORTED: why it failed or how it ended
 * ("closed by the server (1001)"). *http_status is the status of a refused
 * handshake (WS_EHANDSHAKE), else 0. Callbacks run on the calling thread,
 * inside this call. */
int ws_client_run(const ws_request_t *req, int *http_status, char *err, size_t errlen);

#endif
