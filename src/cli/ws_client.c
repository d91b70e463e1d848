/* ws_client.c - one WebSocket connection on libwebsockets' client API: see
 * ws_client.h.
 *
 * Each connection gets its own lws context on lws's default poll loop, with
 * room for one socket; lws_service() runs until the connection is gone.
 * lws reports the connection's life through the protocol callback:
 *   CLIENT_CONNECTION_ERROR   no connection, or the upgrade was refused
 *   CLIENT_ESTABLISHED        the WebSocket is open
 *   CLIENT_RECEIVE            a piece of a message (at most RX_BUF bytes);
 *                             lws_is_final_fragment() marks the last one
 *   WS_PEER_INITIATED_CLOSE   the server's close frame: code and reason
 *   CLIENT_WRITEABLE          we asked to write: only to close (on stop)
 *   CLIENT_CLOSED             the connection is gone
 * lws's poll waits until its next timer, so a 100 ms timer of ours makes
 * sure a stop request is seen even if its signal came just before poll().
 * While the connection is idle, lws pings the server after PING_SECS and
 * hangs up when nothing valid came back for HANGUP_SECS: a server that
 * vanished without closing (a pulled cable) is noticed.
 *
 * wss:// runs on the caller's OpenSSL context as http_client.c's https://
 * does (the host check and the reasons of a failure through
 * tls_client_ctx_watch()), and asks for HTTP/1.1 by ALPN: the upgrade is
 * an HTTP/1.1 one.
 */
#include "url.h"
#include "ws_client.h"

#include <libwebsockets.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "../common/buf.h"
#include "../common/version.h"

#define RX_BUF          (64 * 1024)
#define CONNECT_TIMEOUT 10 /* seconds for the TCP connection */
#define REPLY_TIMEOUT   30 /* seconds for the upgrade's answer */
#define PING_SECS       30
#define HANGUP_SECS     60
#define TICK_US         (100 * LWS_US_PER_MS)
#define STOP_GRACE_US   (1000 * LWS_US_PER_MS) /* for our close frame to go out */

typedef struct conn {
    const ws_request_t *req;
    struct lws_context *ctx;
    struct lws *wsi;
    lws_sorted_usec_list_t tick;
    size_t max_message;
    buf_t msg;       /* the message being put together */
    int status;      /* HTTP status of a refused upgrade */
    int connected;   /* the upgrade request is being sent */
    int established; /* the WebSocket is open */
    int too_big;
    int aborted;
    int stopping; /* *stop seen: closing */
    lws_usec_t stop_at;
    int finished; /* nothing more will happen: leave the loop */
    tls_client_watch_t watch;
    char *err;
    size_t errlen;
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

static void finish(conn_t *c)
{
    c->finished = 1;
    lws_cancel_service(c->ctx);
}

/* Every TICK_US: notices a stop request, and gives up on a polite close
 * that takes too long. */
static void on_tick(lws_sorted_usec_list_t *sul)
{
    conn_t *c = lws_container_of(sul, conn_t, tick);
    if (c->req->stop && *c->req->stop && !c->stopping) {
        c->stopping = 1;
        c->stop_at = lws_now_usecs();
        if (c->wsi && c->established)
            lws_callback_on_writable(c->wsi); /* sends the close frame */
        else
            finish(c); /* still connecting: just drop it */
    }
    if (c->stopping && lws_now_usecs() - c->stop_at > STOP_GRACE_US)
        finish(c);
    if (!c->finished)
        lws_sul_schedule(c->ctx, 0, &c->tick, on_tick, TICK_US);
}

static int on_receive(conn_t *c, struct lws *wsi, const char *in, size_t len)
{
    if (c->stopping)
        return 0;
    if (len > c->max_message - c->msg.len) {
        c->too_big = 1;
        set_err(c, "a message from the server is larger than %zu bytes", c->max_message);
        static const char why[] = "message too big";
        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)why,
                         sizeof why - 1);
        return -1;
    }
    buf_append(&c->msg, in, len);
    if (!lws_is_final_fragment(wsi))
        return 0;
    /* on_message may see an empty message: give it a valid pointer */
    const char *p = c->msg.data ? c->msg.data : "";
    int rc = c->req->on_message(c->req->arg, p, c->msg.len);
    buf_reset(&c->msg);
    /* one huge message should not pin its memory for the rest of the run */
    buf_shrink(&c->msg, 4 * RX_BUF);
    if (rc) {
        c->aborted = 1;
        lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
        return -1;
    }
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    conn_t *c = lws_context_user(lws_get_context(wsi));

    switch (reason) {
    case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
        tls_client_note_verify(SSL_get_SSL_CTX(in), user);
        return 0; /* OpenSSL's verdict stands */

    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        /* a refused upgrade still has its response head */
        c->status = (int)lws_http_client_http_response(wsi);
        char t[256];
        if (tls_client_watch_reason(&c->watch, in, t, sizeof t))
            set_err(c, "%s", t);
        else if (c->status == 401)
            set_err(c, "the server wants a token (HTTP 401): %s",
                    c->req->authorization ? "LOGSHIP_TOKEN is not accepted" : "set LOGSHIP_TOKEN");
        else if (c->status && c->status != 101)
            set_err(c, "the server refused the WebSocket (HTTP %d)", c->status);
        else
            set_err(c, "%s", in && len ? (const char *)in : "connection failed");
        c->wsi = NULL;
        finish(c);
        return 0;

    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
        unsigned char **p = in, *end = *p + len;
        c->connected = 1;
        static const char agent[] = "logship/" LOGSHIP_VERSION;
        if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_USER_AGENT,
                                         (const unsigned char *)agent, (int)sizeof agent - 1, p,
                                         end))
            return -1;
        if (c->req->authorization &&
            lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
                                         (const unsigned char *)c->req->authorization,
                                         (int)strlen(c->req->authorization), p, end))
            return -1;
        return 0;
    }

    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->established = 1;
        if (c->req->on_open && !c->stopping)
            c->req->on_open(c->req->arg);
        return 0;

    case LWS_CALLBACK_CLIENT_RECEIVE:
        return on_receive(c, wsi, in, len);

    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: {
        const unsigned char *b = in;
        if (len >= 2) {
            unsigned code = (unsigned)b[0] << 8 | b[1];
            buf_t why = BUF_INIT;
            for (size_t i = 2; i < len && i < 2 + 120; i++)
                buf_putc(&why, b[i] >= 0x20 && b[i] < 0x7f ? (char)b[i] : '?');
            set_err(c, "closed by the server (%u%s%s)", code, why.len ? ": " : "",
                    why.len ? buf_cstr(&why) : "");
            buf_free(&why);
        } else {
            set_err(c, "closed by the server");
        }
        return 0;
    }

    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (c->stopping) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            return -1;
        }
        return 0;

    case LWS_CALLBACK_CLIENT_CLOSED:
        set_err(c, "connection closed");
        c->wsi = NULL;
        finish(c);
        return 0;

    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"logship-ws", callback, 0, RX_BUF, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

int ws_client_run(const ws_request_t *req, int *http_status, char *err, size_t errlen)
{
    url_t u;
    err[0] = '\0';
    *http_status = 0;
    if (url_parse(req->url, &u, err, errlen))
        return WS_EURL;
    /* lws sends the path as given: "ws://h:1?x" must become "/?x" */
    buf_t path = BUF_INIT;
    if (u.path[0] != '/')
        buf_putc(&path, '/');
    buf_puts(&path, u.path);
    if (path.len > WS_PATH_MAX) {
        snprintf(err, errlen, "request URL too long (%zu bytes, at most %d)", path.len,
                 WS_PATH_MAX);
        buf_free(&path);
        return WS_EURL;
    }

    conn_t *c = xcalloc(1, sizeof *c);
    c->req = req;
    c->err = err;
    c->errlen = errlen;
    c->max_message = req->max_message ? req->max_message : WS_MESSAGE_MAX;
    SSL_CTX *tls = NULL, *own_tls = NULL;
    if (u.tls) {
        if (!(tls = req->tls) && !(tls = own_tls = tls_client_ctx_create(NULL, err, errlen))) {
            buf_free(&path);
            free(c);
            return WS_ECONNECT;
        }
        if (tls_client_ctx_watch(tls, u.host, &c->watch)) {
            snprintf(err, errlen, "cannot verify the name '%s'", u.host);
            SSL_CTX_free(own_tls);
            buf_free(&path);
            free(c);
            return WS_EURL;
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
    c->ctx = lws_create_context(&info);
    if (!c->ctx) {
        snprintf(err, errlen, "cannot create the WebSocket client context");
        if (tls)
            tls_client_ctx_unwatch(tls);
        SSL_CTX_free(own_tls);
        buf_free(&path);
        free(c);
        return WS_ECONNECT;
    }

    static const lws_retry_bo_t idle = {
        .secs_since_valid_ping = PING_SECS,
        .secs_since_valid_hangup = HANGUP_SECS,
    };
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = c->ctx;
    ci.address = u.host;
    ci.port = u.port;
    ci.path = buf_cstr(&path);
    ci.host = u.authority;
    ci.origin = u.authority;
    ci.protocol = NULL; /* logshipd's tail speaks no named subprotocol */
    ci.local_protocol_name = protocols[0].name;
    ci.pwsi = &c->wsi;
    ci.retry_and_idle_policy = &idle;
    if (tls) {
        ci.ssl_connection = LCCSCF_USE_SSL | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
        ci.alpn = "http/1.1";
    }

    lws_sul_schedule(c->ctx, 0, &c->tick, on_tick, TICK_US);
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
    while (!c->finished) {
        if (req->stop && *req->stop && !c->stopping)
            on_tick(&c->tick); /* a signal woke poll: act on it now */
        if (c->finished || lws_service(c->ctx, 0) < 0)
            break;
    }
    lws_sul_cancel(&c->tick);
    lws_context_destroy(c->ctx);
    if (tls)
        tls_client_ctx_unwatch(tls);
    SSL_CTX_free(own_tls);

    int rc;
    char tls_why[256];
    if (c->stopping) {
        rc = WS_STOPPED;
    } else if (c->aborted) {
        rc = WS_ABORTED;
    } else if (c->too_big) {
        rc = WS_ETOOBIG;
    } else if (c->established) {
        rc = WS_CLOSED;
    } else if (c->status && c->status != 101) {
        rc = WS_EHANDSHAKE;
        *http_status = c->status;
    } else if (tls_client_watch_reason(&c->watch, NULL, tls_why, sizeof tls_why)) {
        /* TLS failed (with TLS 1.3 a refused client certificate is heard of
         * after the handshake): that, whatever lws made of it */
        c->err[0] = '\0';
        set_err(c, "%s", tls_why);
        rc = WS_ECONNECT;
    } else if (c->connected) {
        /* the TCP connection worked; the upgrade did not */
        char why[128];
        snprintf(why, sizeof why, "%s", c->err[0] ? c->err : "connection closed");
        c->err[0] = '\0';
        set_err(c, "no valid WebSocket handshake (%s)", why);
        rc = WS_EHANDSHAKE;
    } else {
        set_err(c, "connection failed");
        rc = WS_ECONNECT;
    }
    if (rc == WS_STOPPED || rc == WS_ABORTED)
        err[0] = '\0';
    buf_free(&c->msg);
    buf_free(&path);
    free(c);
    return rc;
}
