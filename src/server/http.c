/* http.c - libwebsockets on the server's libuv loop: see http.h.
 *
 * lws runs as a guest on our loop (LWS_SERVER_OPTION_LIBUV with a foreign
 * loop), so HTTP, the store's completions and our timers share one thread
 * and need no locks. Replies are built in one buffer, headers then body, and
 * sent with a single lws_write(): one send() per response.
 */
#include "http.h"

#include <stdlib.h>

#include "../common/json_write.h"
#include "../common/log.h"
#include "metrics.h"

static const char *path_of(const char *in)
{
    return in ? in : "";
}

static enum http_method method_of(struct lws *wsi)
{
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI))
        return METHOD_GET;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI))
        return METHOD_POST;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI))
        return METHOD_HEAD;
    return METHOD_OTHER;
}

static enum http_route route_of(const char *path)
{
    static const struct {
        const char *path;
        enum http_route route;
    } routes[] = {
        {"/api/log", ROUTE_INGEST}, {"/api/logs", ROUTE_LOGS}, {"/api/tail", ROUTE_TAIL},
        {"/healthz", ROUTE_HEALTH},
        {"/metrics", ROUTE_METRICS}, {"/", ROUTE_INDEX},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (strcmp(path, routes[i].path) == 0)
            return routes[i].route;
    if (strcmp(path, "/api/files") == 0)
        return ROUTE_FILES;
    if (strncmp(path, "/api/files/", 11) == 0)
        return ROUTE_FILE;
    if (strncmp(path, "/ui/", 4) == 0)
        return ROUTE_UI;
    return ROUTE_NONE;
}

void http_query(struct lws *wsi, form_t *f)
{
    char frag[LWS_RECOMMENDED_MIN_HEADER_SPACE * 8];
    form_reset(f);
    for (int i = 0;; i++) {
        int n = lws_hdr_copy_fragment(wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0)
            break;
        const char *eq = memchr(frag, '=', (size_t)n);
        if (eq)
            form_add(f, frag, (size_t)(eq - frag), eq + 1, (size_t)n - (size_t)(eq - frag) - 1);
        else if (n && !(n == 1 && frag[0] == '/'))
            /* lws 4.1 reports an empty argument ("?" or a trailing "&")
             * as the fragment "/": skip it, it is no parameter */
            form_add(f, frag, (size_t)n, "", 0);
    }
}

static void done(http_conn_t *c)
{
    if (c->counted) {
        c->counted = 0;
        c->srv->inflight--;
    }
    c->answered = 1;
}

int http_reply(struct lws *wsi, http_conn_t *c, int status, const char *ctype, const char *body,
               size_t n)
{
    static const http_header_t no_store[] = {{"cache-control:", "no-store"}};
    return http_reply_with(wsi, c, status, ctype, no_store, 1, body, n);
}

int http_reply_with(struct lws *wsi, http_conn_t *c, int status, const char *ctype,
                    const http_header_t *hdrs, size_t nhdrs, const char *body, size_t n)
{
    server_t *srv = c->srv;
    buf_t *out = &srv->out;
    size_t hdr_room = 512;
    for (size_t i = 0; i < nhdrs; i++)
        hdr_room += strlen(hdrs[i].name) + strlen(hdrs[i].value) + 4;

    buf_reset(out);
    unsigned char *start = (unsigned char *)buf_reserve(out, LWS_PRE + hdr_room + n) + LWS_PRE;
    unsigned char *p = start, *end = start + hdr_room;
    int fail = lws_add_http_common_headers(wsi, (unsigned int)status, ctype, (lws_filepos_t)n,
                                           &p, end);
    for (size_t i = 0; i < nhdrs && !fail; i++)
        fail = lws_add_http_header_by_name(wsi, (const unsigned char *)hdrs[i].name,
                                           (const unsigned char *)hdrs[i].value,
                                           (int)strlen(hdrs[i].value), &p, end);
    if (!fail && c->close_requested)
        fail = lws_add_http_header_by_name(wsi, (const unsigned char *)"connection:",
                                           (const unsigned char *)"close", 5, &p, end);
    if (fail || lws_finalize_http_header(wsi, &p, end)) {
        done(c);
        return -1;
    }
    if (n)
        memcpy(p, body, n);
    size_t total = (size_t)(p - start) + n;
    if (status >= 100 && status < 600)
        metrics.http_status[status]++;
    done(c);
    if (lws_write(wsi, start, total, LWS_WRITE_HTTP_FINAL) != (int)total)
        return -1;
    /* a body left unread would be taken for the next request: close; and
     * lws 4.1 keeps the connection even when the client asked to close */
    if (c->received < c->content_length || (c->chunked && !c->body_done) || c->close_requested)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int http_reply_error(struct lws *wsi, http_conn_t *c, int status, enum http_reject reason,
                     const char *msg)
{
    buf_t body = BUF_INIT;
    buf_puts(&body, "{\"error\":");
    json_str(&body, msg, strlen(msg));
    buf_puts(&body, "}\n");
    metrics.http_reject[reason]++;
    int rc = http_reply(wsi, c, status, "application/json", body.data, body.len);
    buf_free(&body);
    return rc;
}

void http_reply_later(http_conn_t *c, int status)
{
    /* Written at once rather than from a writable callback: for HTTP/1 an
     * lws_write() on the service thread is a plain send (lws keeps what
     * the socket does not take), and asking for POLLOUT first would cost
     * a loop pass and several epoll_ctl calls per request. */
    if (http_reply(c->wsi, c, status, "application/json", c->resp.data, c->resp.len)) {
        /* the connection must close: lws closes it when a callback says
         * so, and the writable one comes next */
        c->close_now = 1;
        lws_callback_on_writable(c->wsi);
    }
}

static void conn_reset(http_conn_t *c, server_t *srv)
{
    c->srv = srv;
    c->route = ROUTE_NONE;
    c->method = METHOD_OTHER;
    c->answered = 0;
    c->kind = HTTP_BODY_UNKNOWN;
    c->reject_status = 0;
    c->reject_msg = NULL;
    c->content_length = 0;
    c->chunked = 0;
    c->close_requested = 0;
    c->close_now = 0;
    c->body_done = 0;
    c->received = 0;
    buf_reset(&c->body);
    buf_reset(&c->resp);
}

static void conn_free(http_conn_t *c)
{
    tail_conn_closed(c);
    if (c->waiter.linked)
        store_cancel(c->srv->store, &c->waiter);
    if (c->job)
        logs_on_close(c);
    if (c->counted) {
        c->counted = 0;
        c->srv->inflight--;
    }
    buf_free(&c->body);
    buf_free(&c->resp);
    form_free(&c->query);
}

static int on_http(struct lws *wsi, http_conn_t *c, server_t *srv, const char *path)
{
    conn_reset(c, srv);
    c->wsi = wsi;
    c->counted = 1;
    srv->inflight++;
    c->method = method_of(wsi);
    c->route = route_of(path);
    char conn[64];
    int cn = lws_hdr_copy(wsi, conn, sizeof conn, WSI_TOKEN_CONNECTION);
    for (int i = 0; i < cn; i++)
        conn[i] = (char)(conn[i] >= 'A' && conn[i] <= 'Z' ? conn[i] + 32 : conn[i]);
    c->close_requested = cn > 0 && strstr(conn, "close") != NULL;

    char cl[32];
    if (lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) {
        char *end;
        c->content_length = strtoull(cl, &end, 10);
        if (end == cl || *end) {
            c->content_length = 0;
            c->chunked = 1; /* unknown extent: never reuse the connection */
            return http_reply_error(wsi, c, 400, HREJ_HEADERS, "bad Content-Length");
        }
    }
    c->chunked = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;

    switch (c->route) {
    case ROUTE_INGEST:
        if (c->method != METHOD_GET && c->method != METHOD_POST)
            return http_reply_error(wsi, c, 405, HREJ_METHOD, "use GET or POST on /api/log");
        return ingest_on_request(wsi, c);
    case ROUTE_NONE:
        return http_reply_error(wsi, c, 404, HREJ_NOT_FOUND, "no such endpoint");
    default:
        break;
    }
    if (c->method != METHOD_GET && c->method != METHOD_HEAD)
        return http_reply_error(wsi, c, 405, HREJ_METHOD, "use GET");
    switch (c->route) {
    case ROUTE_LOGS:
        return logs_on_request(wsi, c);
    case ROUTE_TAIL:
        return tail_http_request(wsi, c);
    case ROUTE_FILES:
        return files_list_request(wsi, c);
    case ROUTE_FILE:
        return files_http_request(wsi, c, path + 11);
    case ROUTE_HEALTH:
        return status_health(wsi, c);
    case ROUTE_METRICS:
        return status_metrics(wsi, c);
    case ROUTE_INDEX:
        return status_wants_page(wsi) ? status_ui(wsi, c, "index.html", 10)
                                      : status_index(wsi, c);
    case ROUTE_UI:
        return status_ui(wsi, c, path + 4, strlen(path + 4));
    default:
        return http_reply_error(wsi, c, 404, HREJ_NOT_FOUND, "no such endpoint");
    }
}

static int callback_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    http_conn_t *c = user;
    server_t *srv = lws_context_user(lws_get_context(wsi));

    switch (reason) {
    case LWS_CALLBACK_HTTP_BIND_PROTOCOL:
        if (c) {
            memset(c, 0, sizeof *c);
            c->srv = srv;
            metrics.conns_open[INPUT_HTTP]++;
            metrics.conns_total[INPUT_HTTP]++;
        }
        return 0;
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (c && c->srv) {
            conn_free(c);
            c->srv = NULL;
            metrics.conns_open[INPUT_HTTP]--;
        }
        return 0;
    case LWS_CALLBACK_HTTP:
        return on_http(wsi, c, srv, path_of(in));
    case LWS_CALLBACK_HTTP_BODY:
        if (c->route == ROUTE_INGEST)
            return ingest_on_body(wsi, c, in, len);
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        c->body_done = 1;
        if (c->route == ROUTE_INGEST && !c->answered)
            return ingest_on_complete(wsi, c);
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        /* a WebSocket upgrade binds here whatever its URL: only the tail
         * endpoints take one */
        char uri[64];
        if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 ||
            (strcmp(uri, "/api/tail") != 0 && strncmp(uri, "/api/files/", 11) != 0))
            return 1;
        return 0;
    }
    case LWS_CALLBACK_ESTABLISHED:
        memset(c, 0, sizeof *c);
        c->srv = srv;
        metrics.conns_open[INPUT_HTTP]++;
        metrics.conns_total[INPUT_HTTP]++;
        return tail_ws_established(wsi, c);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return c && c->srv ? tail_writable(wsi, c) : 0;
    case LWS_CALLBACK_RECEIVE:
        return 0; /* subscribers have nothing to say yet */
    case LWS_CALLBACK_CLOSED:
        if (c && c->srv) {
            conn_free(c);
            c->srv = NULL;
            metrics.conns_open[INPUT_HTTP]--;
        }
        return 0;
    case LWS_CALLBACK_TIMER:
        if (c && c->srv && c->is_sse)
            tail_sse_timer(wsi, c);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!c || !c->srv)
            return 0;
        if (c->close_now)
            return -1;
        if (c->is_sse || c->ff)
            return tail_writable(wsi, c);
        if (c->job)
            return logs_on_writable(wsi, c);
        return 0;
    case LWS_CALLBACK_CLOSED_HTTP:
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    /* tx_packet_size: lws's default sends at most 4 KiB per send() and copies
     * the rest of a write aside; live tail messages are up to ~256 KiB */
    {"http", callback_http, sizeof(http_conn_t), 0, 0, NULL, 512 * 1024},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && line[n - 1] == '\n')
        n--;
    log_msg(level == LLL_ERR ? LOG_ERROR : LOG_WARN, "lws: %.*s", (int)n, line);
}

int http_start(server_t *srv)
{
    struct lws_context_creation_info info;
    char host[CONFIG_ADDR_MAX];
    int port;

    lws_set_log_level(log_threshold >= LOG_DEBUG ? LLL_ERR | LLL_WARN : LLL_ERR, lws_log);
    if (strcmp(srv->cfg.http, "off") == 0)
        return 0;
    if (config_split_addr(srv->cfg.http, host, sizeof host, &port)) {
        log_error("bad --http address %s", srv->cfg.http);
        return -1;
    }

    void *loops[1] = {&srv->loop};
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN |
                   LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
    info.foreign_loops = loops;
    info.pcontext = &srv->lws;
    info.user = srv;
    /* headers of one request: Python's HTTPHandler GET puts whole records
     * in the query string, so allow more than lws's 1 KiB default */
    info.max_http_header_data = 16384;
    info.max_http_header_pool = 1024;
    info.fd_limit_per_thread = (unsigned int)srv->cfg.max_connections + 64;
    info.timeout_secs = 30;
    info.keepalive_timeout = 60;
    info.server_string = "logshipd";
    /* WebSocket heartbeat: ping after --ws-ping of silence, hang up when no
     * valid traffic (a pong) came --ws-timeout later */
    static lws_retry_bo_t retry;
    retry.secs_since_valid_ping = (uint16_t)srv->cfg.ws_ping_s;
    retry.secs_since_valid_hangup = (uint16_t)(srv->cfg.ws_ping_s + srv->cfg.ws_timeout_s);
    info.retry_and_idle_policy = &retry;
    srv->lws = lws_create_context(&info);
    if (!srv->lws) {
        log_error("cannot create the HTTP context");
        return -1;
    }

    /* lws does not listen: accept.c does, and hands connections over */
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info.protocols = protocols;
    info.vhost_name = "logship";
    srv->vhost = lws_create_vhost(srv->lws, &info);
    if (!srv->vhost) {
        log_error("cannot create the HTTP vhost");
        return -1;
    }
    int rc = http_listen(srv, host, port);
    if (rc) {
        log_error("cannot listen for HTTP on %s: %s", srv->cfg.http, strerror(-rc));
        return -1;
    }
    log_info("http listening on %s:%d", host, srv->http_port);
    return 0;
}

void http_drain(server_t *srv)
{
    http_unlisten(srv);
}

void http_stop(server_t *srv)
{
    http_unlisten(srv);
    if (srv->lws)
        lws_context_destroy(srv->lws);
    srv->lws = NULL;
}
