/* http_client.h - a small synchronous HTTP/1.1 GET client on libwebsockets,
 * for the logship command-line tool.
 *
 * One call makes one request on its own lws context with the default poll
 * loop and returns when the response is complete: fine for a CLI that makes
 * one request per run, not for a server. The body is handed to the caller
 * piece by piece as it arrives, so an answer of any size streams through in
 * constant memory. http:// or https:// (TLS through lws, verified as
 * tls_client.h says). Not thread-safe: one request at a time per process
 * (lws's log settings are global; a TLS context watches one connection).
 */
#ifndef LOGSHIP_CLI_HTTP_CLIENT_H
#define LOGSHIP_CLI_HTTP_CLIENT_H

#include <stddef.h>

#include "../common/buf.h"
#include "../common/tls_client.h"

/* The longest path + query string a request may have: lws 4.1 cuts the
 * request line at 2 KiB. */
#define HTTP_PATH_MAX 2000

enum http_result {
    HTTP_OK = 0,        /* a whole response arrived (any status) */
    HTTP_EURL = -1,     /* the URL is not http[s]://HOST[:PORT][/PATH] */
    HTTP_ECONNECT = -2, /* no connection (or no TLS session: refused, not verified) */
    HTTP_EPROTO = -3,   /* connected, but no valid response head came */
    HTTP_EBROKEN = -4,  /* the response body was cut short */
    HTTP_ABORTED = -5,  /* a callback asked to stop */
};

typedef struct http_request {
    const char *url; /* http[s]://HOST[:PORT][/PATH][?QUERY], already URL-encoded */
    /* For https://: the TLS context (tls_client_ctx_create(); borrowed);
     * NULL: one trusting the system's store is made for the request. */
    SSL_CTX *tls;
    const char *accept;        /* Accept header value, or NULL */
    const char *authorization; /* Authorization header value, or NULL */
    /* Runs once when the status line and headers are in, before any body.
     * Nonzero stops the transfer (HTTP_ABORTED). May be NULL. */
    int (*on_status)(void *arg, int status);
    /* Runs for each piece of the body as it arrives; the bytes are valid
     * during the call only and pieces split lines anywhere. Nonzero stops
     * the transfer (HTTP_ABORTED). */
    int (*on_body)(void *arg, const char *p, size_t n);
    void *arg;
    /* A response header to keep (lowercase, with its colon: "logship-hint:"),
     * copied NUL-terminated to header_value (header_cap bytes) before
     * on_status runs; "" when absent or longer. May be NULL. */
    const char *header;
    char *header_value;
    size_t header_cap;
} http_request_t;

/* Performs GET req->url. Returns HTTP_OK with *status set to the HTTP status,
 * or a negative http_result with a one-line reason in err (errlen bytes,
 * NUL-terminated). Callbacks run on the calling thread, inside this call. */
int http_get(const http_request_t *req, int *status, char *err, size_t errlen);

/* Appends s[0..n) percent-encoded for a query-string component: everything
 * but A-Z a-z 0-9 - . _ ~ becomes %XX (so '+', '&', '#', '=' and spaces are
 * safe in values). */
void http_url_encode(buf_t *out, const char *s, size_t n);

#endif
