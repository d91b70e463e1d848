/* http_post.h - HTTP/1.1 POST requests over one keep-alive connection, on
 * plain sockets and poll(), for `logship send` over http:// and https://
 * (OpenSSL on the same socket: tls_client.h).
 *
 * Why not http_client.c (libwebsockets)? send posts one batch after the
 * other for as long as its input lasts: it wants one connection kept open
 * across them rather than an lws context per request, a body sent from
 * memory, its own headers (Logship-Producer, Logship-Batch), and, when the
 * server is not there, the real reason ("Connection refused"), which lws
 * reduces to "Unable to connect". A reply is small (logshipd's
 * {"accepted":N,...}): it is read whole, by Content-Length, chunked, or to
 * the close, and kept up to HPOST_REPLY_MAX bytes.
 *
 * Every wait (connect, the TLS handshake, write, read) ends at the
 * caller's deadline. Not thread-safe per connection; SIGPIPE is never
 * raised (MSG_NOSIGNAL, also under TLS).
 */
#ifndef LOGSHIP_CLI_HTTP_POST_H
#define LOGSHIP_CLI_HTTP_POST_H

#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"
#include "../common/tls_client.h"
#include "url.h"

#define HPOST_REPLY_MAX (64 * 1024)

enum hpost_result {
    HPOST_OK = 0,         /* a whole reply arrived (any status) */
    HPOST_ECONNECT = -1,  /* no connection: nothing was sent */
    HPOST_EBROKEN = -2,   /* sent, at least in part, but no whole reply came */
    HPOST_ETIMEDOUT = -3, /* the deadline passed (connecting or waiting) */
    HPOST_EREFUSED = -4,  /* https://: the server refused the TLS session (a fatal alert:
                             it wants a client certificate, or not ours); nothing stored */
};

typedef struct hpost {
    url_t url;
    char path[2048]; /* the URL's path and query: where requests go */
    int fd;          /* the connection, -1 when none */
    SSL_CTX *tls;    /* https://: the context (borrowed) */
    SSL *ssl;        /* https://: the session on fd */
    char why[192];   /* why TLS I/O failed (a TLS reason has no errno) */
    int refused;     /* ... with an alert from the server */
    buf_t in;        /* bytes read and not used yet */
} hpost_t;

/* Parses the http:// or https:// URL (url.h) and appends suffix to its
 * path (the server's "/api/log"); tls is the context for https://
 * (tls_client_ctx_create(); borrowed, must outlive c), NULL for http://.
 * Connects later, at the first request. Returns 0, or -1 with a reason in
 * err. */
int hpost_init(hpost_t *c, const char *url, const char *suffix, SSL_CTX *tls, char *err,
               size_t errlen);

/* Connects now when not connected (for a caller that wants to know at once
 * whether the server is there), with https:// the TLS handshake included.
 * Returns HPOST_OK, HPOST_ECONNECT or HPOST_ETIMEDOUT, with "cannot
 * connect to 127.0.0.1:8080: Connection refused", "cannot resolve 'x':
 * ..." or "TLS handshake with 127.0.0.1:8443 failed: certificate verify
 * failed: hostname mismatch" in err, or HPOST_EREFUSED when the server
 * refused the TLS handshake. deadline_ns: monotonic (time_mono_ns()), or
 * -1 for none. */
int hpost_connect(hpost_t *c, int64_t deadline_ns, char *err, size_t errlen);

/* POSTs body[0..n) with the header lines headers (each ending in "\r\n",
 * may be "") and Content-Type ctype, connecting first when need be. A
 * connection the server closed while idle is noticed and replaced once.
 * On HPOST_OK *status is the status and reply holds the body (cut at
 * HPOST_REPLY_MAX); otherwise err says why, and the connection is closed.
 * HPOST_EREFUSED: the server refused the TLS session; with TLS 1.3 a
 * refused client certificate is only heard of here, at the first request,
 * since the handshake is over for the client before the server judges it. */
int hpost_request(hpost_t *c, const char *ctype, const char *headers, const char *body, size_t n,
                  int64_t deadline_ns, int *status, buf_t *reply, char *err, size_t errlen);

/* Closes the connection (the next request opens another). */
void hpost_close(hpost_t *c);
/* Closes and frees. */
void hpost_free(hpost_t *c);

#endif
