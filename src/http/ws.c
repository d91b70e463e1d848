/* ws.c - libwebsockets as the WebSocket engine: see ws.h.
 *
 * lws runs as a guest on our loop (LWS_SERVER_OPTION_LIBUV with a foreign
 * loop). It never listens and never serves plain HTTP: every connection it
 * sees was adopted with an upgrade head that conn.c already vetted, so the
 * only HTTP it parses is that one head.
 *
 * Closing with a status (ws_close) does not use lws's close machinery. The
 * way lws 4.1 documents, a status set with lws_close_reason and -1
 * returned from the callback, loses the close frame with Debian's lws
 * (built with _DEBUG): lws_service_fd_tsi calls lws_close_free_wsi a
 * second time at once ("uv repeat test"), and the second call, seeing the
 * connection waiting to send its close frame, kills it (client: 1006).
 * Starting lws's close from outside its service avoids that but not the
 * next trap: lws keeps the close status in the buffer a received ping's
 * payload is copied to for the pong, so a ping read before the close frame
 * goes out becomes its status. So ws.c writes the close frame itself, as
 * raw bytes (LWS_WRITE_RAW: lws sends them unframed) from the writable
 * callback that follows the last message (lws calls it only once nothing
 * is buffered), ends its side of the TCP connection (nothing of lws's may
 * follow the close frame: a pong, or lws's own close on a protocol error)
 * and sets lws's close-ack timeout (5 s); the client's close in answer
 * (LWS_CALLBACK_WS_PEER_INITIATED_CLOSE) then closes the socket without an
 * echo, and so does a client that just goes.
 *
 * The principal the HTTP layer authorized the upgrade as comes with the
 * socket (ws_adopt) and stays with the connection until LWS_CALLBACK_CLOSED
 * releases it. lws answers the replayed head inside the adopt call, so the
 * connection is established there and takes it from ws->pending; should
 * lws ever establish it later, the principal waits on the wsi (its opaque
 * user data) and is taken then, or released when the wsi is destroyed
 * without having been established.
 */
#include "ws.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/form_parse.h"
#include "../common/utf8.h"

_Static_assert(LWS_PRE <= WS_PRE, "WS_PRE covers lws's headroom");

#define URI_MAX 4200

struct ws_server {
    struct lws_context *ctx;
    struct lws_vhost *vhost;
    const ws_handler_t *h;
    size_t nh;
    void *data;
    size_t open;
    lws_retry_bo_t retry;
    void (*release)(void *arg, const void *principal);
    void *release_arg;
    int adopting;        /* inside ws_adopt: pending is the new connection's */
    int pending_fd;      /* its socket */
    const void *pending; /* its principal */
};

struct ws_conn {
    ws_server_t *ws;
    struct lws *wsi;
    const ws_handler_t *h;
    void *state;
    int close_status; /* ws_close()'s status, 0: none */
    int close_sent;   /* our close frame is written: the client's close ends it */
    const void *principal;
    char peer[64]; /* the client, as the HTTP layer named it */
};

static void release(ws_server_t *ws, const void *p)
{
    if (p && ws->release)
        ws->release(ws->release_arg, p);
}

/* The principal of a connection being established: the one ws_adopt is
 * handing over, or the one left on the wsi after it. */
static const void *take_principal(ws_server_t *ws, struct lws *wsi)
{
    if (ws->adopting && lws_get_socket_fd(wsi) == ws->pending_fd) {
        ws->adopting = 0;
        return ws->pending;
    }
    const void *p = lws_get_opaque_user_data(wsi);
    lws_set_opaque_user_data(wsi, NULL);
    return p;
}

/* The peer of the connection ws_adopt is handing to lws: lws answers the
 * replayed head inside the adoption, so ESTABLISHED comes while it is set
 * (the socket may be a socketpair's end: getpeername would not name the
 * client). Loop thread only. */
static const char *adopting_peer;

/* Writes the close frame (from the writable callback, nothing buffered).
 * 0, or -1 when the socket failed. */
static int send_close(ws_conn_t *w)
{
    unsigned char f[LWS_PRE + 4];
    unsigned char *p = f + LWS_PRE;
    p[0] = 0x88; /* FIN, close */
    p[1] = 2;
    p[2] = (unsigned char)(w->close_status >> 8);
    p[3] = (unsigned char)(w->close_status & 0xff);
    if (lws_write(w->wsi, p, 4, LWS_WRITE_RAW) < 4)
        return -1;
    w->close_sent = 1;
    /* nothing may follow the close frame, and lws does not know it went:
     * not the pong to a ping read meanwhile, nor lws's own close frame on a
     * protocol error in what the client still sends. Our side of the
     * connection ends here (a later lws write fails, and lws closes);
     * the client's close, or its end, is still read. (A frame lws had to
     * buffer part of is never cut: then its writes stay possible.) */
    if (!lws_partial_buffered(w->wsi))
        shutdown(lws_get_socket_fd(w->wsi), SHUT_WR);
    /* the client answers with its close (or goes); at most this long */
    lws_set_timeout(w->wsi, PENDING_TIMEOUT_CLOSE_ACK, 5);
    return 0;
}

static const ws_handler_t *find(ws_server_t *ws, const char *uri)
{
    for (size_t i = 0; i < ws->nh; i++) {
        size_t n = strlen(ws->h[i].path);
        if (ws->h[i].prefix ? strncmp(uri, ws->h[i].path, n) == 0 : strcmp(uri, ws->h[i].path) == 0)
            return &ws->h[i];
    }
    return NULL;
}

static int callback_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len)
{
    ws_conn_t *w = user;
    ws_server_t *ws = lws_context_user(lws_get_context(wsi));
    char uri[URI_MAX];

    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        /* an upgrade binds here whatever its URL: only ours take one */
        if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 || !find(ws, uri))
            return 1;
        return 0;
    case LWS_CALLBACK_ESTABLISHED: {
        memset(w, 0, sizeof *w);
        if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0) {
            release(ws, take_principal(ws, wsi));
            return -1;
        }
        w->ws = ws;
        w->wsi = wsi;
        if (adopting_peer)
            snprintf(w->peer, sizeof w->peer, "%s", adopting_peer);
        else
            lws_get_peer_simple(wsi, w->peer, sizeof w->peer);
        w->h = find(ws, uri);
        if (!w->h) {
            release(ws, take_principal(ws, wsi));
            return -1;
        }
        w->principal = take_principal(ws, wsi);
        w->state = w->h->state_size ? xcalloc(1, w->h->state_size) : NULL;
        ws->open++;
        return w->h->on_open(w, uri) < 0 ? -1 : 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (lws_get_close_length(wsi))
            /* lws is closing on its own (a protocol error in what the client
             * sent: lws_close_reason, which only lws calls): its close frame
             * is the last, and lws_write would still send after it */
            return 0;
        if (w && w->h && w->close_status) {
            /* the last message is out (lws calls back only once nothing is
             * buffered): the close frame, once; the handler writes no more */
            return w->close_sent ? 0 : send_close(w);
        }
        return w && w->h && w->h->on_writable ? (w->h->on_writable(w) < 0 ? -1 : 0) : 0;
    case LWS_CALLBACK_RECEIVE:
        return 0; /* subscribers have nothing to say */
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: {
        /* lws echoes the client's close payload back as it came, with the
         * reserved codes below 3000 made 1002. A payload RFC 6455 forbids
         * - one byte, or a reason that is not UTF-8 - fails the connection
         * instead (7.1.7, 8.1): closed without a close frame, rather than
         * answered with an invalid one. A code above 4999 (undefined)
         * becomes 1002 too, in place: lws sends what is here */
        unsigned char *pl = in;
        if (w && w->close_sent)
            return -1; /* the answer to our close frame: done, no echo */
        if (len == 1 || (len > 2 && utf8_valid_prefix((const char *)pl + 2, len - 2) != len - 2))
            return -1;
        if (len >= 2 && ((unsigned)pl[0] << 8 | pl[1]) > 4999) {
            pl[0] = LWS_CLOSE_STATUS_PROTOCOL_ERR >> 8;
            pl[1] = LWS_CLOSE_STATUS_PROTOCOL_ERR & 0xff;
        }
        return 0;
    }
    case LWS_CALLBACK_CLOSED:
        if (w && w->h) {
            if (w->h->on_close)
                w->h->on_close(w);
            free(w->state);
            w->state = NULL;
            w->h = NULL;
            ws->open--;
            release(ws, w->principal);
            w->principal = NULL;
        }
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        /* never established: its principal is still on the wsi */
        release(ws, lws_get_opaque_user_data(wsi));
        lws_set_opaque_user_data(wsi, NULL);
        break;
    case LWS_CALLBACK_HTTP:
        return -1; /* never plain HTTP: conn.c serves that */
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    /* tx_packet_size: lws's default sends at most 4 KiB per send() and copies
     * the rest of a write aside; live tail messages are up to ~256 KiB */
    {"logship", callback_ws, sizeof(ws_conn_t), 0, 0, NULL, 512 * 1024},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && line[n - 1] == '\n')
        n--;
    int lv = level == LLL_ERR ? LOG_ERROR : LOG_WARN;
    /* lws 4.1.6 reports every adopted socket with lwsl_err ("calling
     * service" in lws_adopt_socket_vhost_readbuf): not an error */
    if (strstr(line, "adopt_socket_readbuf: calling service"))
        lv = LOG_DEBUG;
    log_msg(lv, "lws: %.*s", (int)n, line);
}

ws_server_t *ws_create(uv_loop_t *loop, const ws_options_t *o, const ws_handler_t *h, size_t n,
                       void *data)
{
    struct lws_context_creation_info info;
    ws_server_t *ws = xcalloc(1, sizeof *ws);
    ws->h = h;
    ws->nh = n;
    ws->data = data;
    ws->release = o->release;
    ws->release_arg = o->release_arg;

    lws_set_log_level(log_threshold >= LOG_DEBUG ? LLL_ERR | LLL_WARN : LLL_ERR, lws_log);
    void *loops[1] = {loop};
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN |
                   LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
    info.foreign_loops = loops;
    info.user = ws;
    info.max_http_header_data = 16384;
    info.max_http_header_pool = 1024;
    info.fd_limit_per_thread = 65536;
    info.timeout_secs = 30;
    info.server_string = "logshipd";
    /* heartbeat: ping after ping_s of silence, hang up when no valid
     * traffic (a pong) came timeout_s later */
    ws->retry.secs_since_valid_ping = (uint16_t)o->ping_s;
    ws->retry.secs_since_valid_hangup = (uint16_t)(o->ping_s + o->timeout_s);
    info.retry_and_idle_policy = &ws->retry;
    ws->ctx = lws_create_context(&info);
    if (!ws->ctx) {
        log_error("cannot create the WebSocket context");
        free(ws);
        return NULL;
    }
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info.protocols = protocols;
    info.vhost_name = "logship";
    ws->vhost = lws_create_vhost(ws->ctx, &info);
    if (!ws->vhost) {
        log_error("cannot create the WebSocket vhost");
        lws_context_destroy(ws->ctx);
        free(ws);
        return NULL;
    }
    return ws;
}

int ws_adopt(void *arg, int fd, const char *bytes, size_t n, const char *peer,
             const void *principal)
{
    ws_server_t *ws = arg;
    if (!ws || !ws->vhost) {
        close(fd); /* ours: -1 tells the HTTP layer it is closed */
        if (ws)
            release(ws, principal);
        log_warn("http: no WebSocket engine for an upgrade");
        return -1;
    }
    /* from here lws owns fd: it closes it itself when adoption fails, and
     * returns NULL too when its first service of the head closed the
     * connection (a handshake it refused) */
    adopting_peer = peer;
    ws->adopting = 1;
    ws->pending_fd = fd;
    ws->pending = principal;
    struct lws *wsi = lws_adopt_socket_vhost_readbuf(ws->vhost, fd, bytes, n);
    adopting_peer = NULL;
    if (ws->adopting) {
        /* not established inside the call: the wsi keeps it for later */
        ws->adopting = 0;
        if (wsi && principal)
            lws_set_opaque_user_data(wsi, (void *)principal);
        else if (!wsi)
            release(ws, principal);
    }
    ws->pending = NULL;
    if (!wsi) {
        log_debug("http: lws refused or closed a WebSocket handshake");
        return -1;
    }
    return 0;
}

void ws_destroy(ws_server_t *ws)
{
    if (!ws || !ws->ctx)
        return;
    lws_context_destroy(ws->ctx);
    ws->ctx = NULL;
    ws->vhost = NULL;
}

void ws_free(ws_server_t *ws)
{
    ws_destroy(ws);
    free(ws);
}

size_t ws_open_count(const ws_server_t *ws)
{
    return ws ? ws->open : 0;
}

void *ws_state(ws_conn_t *w)
{
    return w->state;
}

void *ws_data(ws_conn_t *w)
{
    return w->ws->data;
}

const void *ws_principal(const ws_conn_t *w)
{
    return w->principal;
}

void ws_query(ws_conn_t *w, struct form *f)
{
    char frag[LWS_RECOMMENDED_MIN_HEADER_SPACE * 8];
    form_reset(f);
    for (int i = 0;; i++) {
        int n = lws_hdr_copy_fragment(w->wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0)
            break;
        const char *eq = memchr(frag, '=', (size_t)n);
        if (eq)
            form_add(f, frag, (size_t)(eq - frag), eq + 1, (size_t)n - (size_t)(eq - frag) - 1);
        else if (n && !(n == 1 && frag[0] == '/'))
            /* lws 4.1 reports an empty argument ("?" or a trailing "&") as
             * the fragment "/": it is no parameter */
            form_add(f, frag, (size_t)n, "", 0);
    }
}

int ws_write_text(ws_conn_t *w, char *p, size_t n)
{
    return lws_write(w->wsi, (unsigned char *)p, n, LWS_WRITE_TEXT) < (int)n ? -1 : 0;
}

void ws_want_writable(ws_conn_t *w)
{
    lws_callback_on_writable(w->wsi);
}

void ws_close(ws_conn_t *w, int status)
{
    if (w->close_status)
        return;
    w->close_status = status > 0 ? status : 1000;
    lws_callback_on_writable(w->wsi);
}

const char *ws_peer(ws_conn_t *w, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", w->peer);
    return buf;
}
