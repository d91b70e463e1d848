/* http_client.c - one HTTP/1.1 GET on libwebsockets' client API: see
 * http_client.h.
 *
 * Each request gets its own lws context on lws's default poll loop, with
 * room for one connection; lws_service() runs until the connection is gone.
 * lws reports the request's life through the protocol callback:
 *   CLIENT_CONNECTION_ERROR      no connection, or it failed before headers
 *   ESTABLISHED_CLIENT_HTTP      status line and headers are in
 *   RECEIVE_CLIENT_HTTP          body bytes are waiting: lws_http_client_read()
 *   RECEIVE_CLIENT_HTTP_READ     ... hands them over, de-chunked
 *   COMPLETED_CLIENT_HTTP        the whole body arrived
 *   CLOSED_CLIENT_HTTP           the connection is gone
 * A body without Content-Length or chunking ends when the server closes the
 * connection (logshipd streams large answers that way), so for it a close
 * is the normal end; with a length, a close before COMPLETED is a cut.
 *
 * https:// runs on the caller's OpenSSL context (lws's
 * provided_client_ssl_ctx), which checks the host name itself
 * (tls_client_ctx_watch(): lws's own check cuts "[::1]:8443" at its first
 * colon), and collects what lws would lose of a failure: the verification
 * error, from OPENSSL_PERFORM_SERVER_CERT_VERIFICATION, and a fatal alert
 * from the server (with TLS 1.3 a refused client certificate is only
 * heard of after the handshake, on the first read).
 */
#include "http_client.h"
#include "url.h"

#include <libwebsockets.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "../common/version.h"

#define RX_BUF          (64 * 1024)
#define CONNECT_TIMEOUT 10 /* seconds for the TCP connection */
/* seconds for lws's other waits, the response headers among them: logshipd
 * sends them after its first chunk, and a query may scan a lot first */
#define REPLY_TIMEOUT 60

typedef struct conn {
    const http_request_t *req;
    int status;
    int connected;    /* the request is being sent */
    int established;  /* headers are in */
    int length_known; /* Content-Length or chunked */
    int completed;    /* COMPLETED_CLIENT_HTTP seen */
    int aborted;      /* a callback said stop */
    int finished;     /* nothing more will happen: leave the loop */
    tls_client_watch_t watch;
    char *err;
    size_t errlen;
    char rx[LWS_PRE + RX_BUF];
} conn_t;

static void set_err(conn_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_err(conn_t *c, const char *fmt, ...)
{
    if (c->err[0])
        return; /* the first reason is the real one */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
}

void http_url_encode(buf_t *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            buf_putc(out, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            buf_append(out, e, 3);
        }
    }
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    conn_t *c = lws_context_user(lws_get_context(wsi));
    const http_request_t *req = c ? c->req : NULL;

    switch (reason) {
    case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
        tls_client_note_verify(SSL_get_SSL_CTX(in), user);
        return 0; /* OpenSSL's verdict stands */

    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        char t[256];
        if (!c->aborted && tls_client_watch_reason(&c->watch, in, t, sizeof t))
            set_err(c, "%s", t);
        if (!c->aborted)
            set_err(c, "%s", in && len ? (const char *)in : "connection failed");
        c->finished = 1;
        lws_cancel_service(lws_get_context(wsi));
        return 0;
    }

    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
        unsigned char **p = in, *end = *p + len;
        c->connected = 1;
        static const char agent[] = "logship/" LOGSHIP_VERSION;
        if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_USER_AGENT,
                                         (const unsigned char *)agent, (int)sizeof agent - 1, p,
                                         end))
            return -1;
        if (req->accept && lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_ACCEPT,
                                                        (const unsigned char *)req->accept,
                                                        (int)strlen(req->accept), p, end))
            return -1;
        if (req->authorization &&
            lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
                                         (const unsigned char *)req->authorization,
                                         (int)strlen(req->authorization), p, end))
            return -1;
        return 0;
    }

    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
        c->established = 1;
        c->status = (int)lws_http_client_http_response(wsi);
        c->length_known = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 ||
                          lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;
        if (req->header && req->header_cap) {
            req->header_value[0] = '\0';
            if (lws_hdr_custom_copy(wsi, req->header_value, (int)req->header_cap, req->header,
                                    (int)strlen(req->header)) < 0)
                req->header_value[0] = '\0';
        }
        if (req->on_status && req->on_status(req->arg, c->status)) {
            c->aborted = 1;
            return -1;
        }
        return 0;

    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
        if (len && req->on_body && req->on_body(req->arg, in, len)) {
            c->aborted = 1;
            return -1;
        }
        return 0;

    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
        char *px = c->rx + LWS_PRE;
        int n = RX_BUF;
        /* delivers the bytes through RECEIVE_CLIENT_HTTP_READ above */
        return lws_http_client_read(wsi, &px, &n) < 0 ? -1 : 0;
    }

    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
        c->completed = 1;
        return 0;

    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
        c->finished = 1;
        lws_cancel_service(lws_get_context(wsi));
        return 0;

    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"logship-http", callback, 0, RX_BUF, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

int http_get(const http_request_t *req, int *status, char *err, size_t errlen)
{
    url_t u;
    err[0] = '\0';
    *status = 0;
    if (url_parse(req->url, &u, err, errlen))
        return HTTP_EURL;
    const char *path = u.path[0] ? u.path : "/";
    char *fixed = NULL;
    if (path[0] == '?') {
        /* "http://h:1?x" means "/?x" */
        fixed = xmalloc(strlen(path) + 2);
        fixed[0] = '/';
        strcpy(fixed + 1, path);
        path = fixed;
    }
    if (strlen(path) > HTTP_PATH_MAX) {
        snprintf(err, errlen, "request URL too long (%zu bytes, at most %d)", strlen(path),
                 HTTP_PATH_MAX);
        free(fixed);
        return HTTP_EURL;
    }

    conn_t *c = xcalloc(1, sizeof *c);
    c->req = req;
    c->err = err;
    c->errlen = errlen;
    SSL_CTX *tls = NULL, *own_tls = NULL;
    if (u.tls) {
        if (!(tls = req->tls) && !(tls = own_tls = tls_client_ctx_create(NULL, err, errlen))) {
            free(c);
            free(fixed);
            return HTTP_ECONNECT;
        }
        if (tls_client_ctx_watch(tls, u.host, &c->watch)) {
            snprintf(err, errlen, "cannot verify the name '%s'", u.host);
            SSL_CTX_free(own_tls);
            free(c);
            free(fixed);
            return HTTP_EURL;
        }
    }

    /* our own messages say what went wrong; lws's notices would only add
     * noise to a command's stderr */
    lws_set_log_level(0, NULL);

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.user = c;
    info.options = LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
    info.fd_limit_per_thread = 1 + 1 + 1; /* lws's own pipe, our socket, a spare */
    info.connect_timeout_secs = CONNECT_TIMEOUT;
    info.timeout_secs = REPLY_TIMEOUT;
    if (tls) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.provided_client_ssl_ctx = tls;
    }
    struct lws_context *ctx = lws_create_context(&info);
    if (!ctx) {
        snprintf(err, errlen, "cannot create the HTTP client context");
        if (tls)
            tls_client_ctx_unwatch(tls);
        SSL_CTX_free(own_tls);
        free(c);
        free(fixed);
        return HTTP_ECONNECT;
    }

    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = ctx;
    ci.address = u.host;
    ci.port = u.port;
    ci.path = path;
    ci.host = u.authority;
    ci.method = "GET";
    ci.protocol = protocols[0].name;
    ci.ssl_connection = LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
    if (tls)
        ci.ssl_connection |= LCCSCF_USE_SSL | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
    ci.alpn = "http/1.1";

    int rc = HTTP_OK;
    if (!lws_client_connect_via_info(&ci)) {
        /* the error callback may already have run with a reason; a name
         * that does not resolve fails here without one */
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
        int gai = getaddrinfo(u.host, NULL, &hints, &ai);
        if (gai)
            set_err(c, "cannot resolve '%s': %s", u.host, gai_strerror(gai));
        else
            freeaddrinfo(ai);
        set_err(c, "cannot start a connection");
        c->finished = 1;
    }
    while (!c->finished)
        if (lws_service(ctx, 0) < 0)
            break;
    lws_context_destroy(ctx);
    if (tls)
        tls_client_ctx_unwatch(tls);
    SSL_CTX_free(own_tls);

    if (c->aborted)
        rc = HTTP_ABORTED;
    else if (!c->established)
        rc = c->connected ? HTTP_EPROTO : HTTP_ECONNECT;
    else if (!c->completed && c->length_known)
        rc = HTTP_EBROKEN;
    char t[256];
    if (rc != HTTP_OK && rc != HTTP_ABORTED &&
        tls_client_watch_reason(&c->watch, NULL, t, sizeof t)) {
        /* TLS failed (with TLS 1.3 a refused client certificate is heard of
         * after the handshake): that, whatever lws made of it */
        c->err[0] = '\0';
        set_err(c, "%s", t);
        rc = HTTP_ECONNECT;
    }
    if (rc == HTTP_EPROTO) {
        /* lws's reason alone ("read failed") would hide that the
         * connection itself worked */
        char why[128];
        snprintf(why, sizeof why, "%s", c->err[0] ? c->err : "connection closed");
        c->err[0] = '\0';
        set_err(c, "no valid HTTP response (%s)", why);
    } else if (rc == HTTP_ECONNECT) {
        set_err(c, "connection failed");
    } else if (rc == HTTP_EBROKEN) {
        set_err(c, "connection closed before the response was complete");
    } else if (rc == HTTP_OK) {
        err[0] = '\0';
    }
    *status = c->status;
    free(c);
    free(fixed);
    return rc;
}
