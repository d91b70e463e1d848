/* tail_conn.c - GET /api/tail over WebSocket or Server-Sent Events: the
 * lws side of the tail hub (tail.c). One message per writable callback;
 * when more is ready the connection asks to be writable again, so a busy
 * subscriber gets one message per loop pass and a slow one none until its
 * socket drains. */
#include <stdio.h>
#include <stdlib.h>

#include "../common/json_write.h"
#include "../server/http.h"
#include "../server/metrics.h"
#include "../common/log.h"
#include "files.h"
#include "tail.h"

_Static_assert(LWS_PRE <= TAIL_HEADROOM, "tail messages reserve room for lws");

#define SSE_KEEPALIVE_US (15LL * 1000 * 1000)

static void wake(void *conn)
{
    http_conn_t *c = conn;
    lws_callback_on_writable(c->wsi);
}

/* Parses the request's tail parameters; -1 with *err on a bad one. */
static int params(struct lws *wsi, http_conn_t *c, tail_params_t *p, const char **err)
{
    char last_id[32];
    http_query(wsi, &c->query);
    tail_params_init(p);
    for (size_t i = 0; i < c->query.n; i++)
        if (tail_param(p, form_key(&c->query, i), form_val(&c->query, i), err))
            return -1;
    /* an EventSource reconnecting says where it was */
    int n = lws_hdr_custom_copy(wsi, last_id, sizeof last_id, "last-event-id:", 14);
    if (n > 0 && !p->has_after) {
        slice_t v = slice_make(last_id, (size_t)n);
        if (tail_param(p, SLICE_LIT("after"), v, err))
            return -1;
    }
    return 0;
}

int tail_http_request(struct lws *wsi, http_conn_t *c)
{
    server_t *srv = c->srv;
    char accept[128];
    const char *err = NULL;
    tail_params_t p;

    if (lws_hdr_copy(wsi, accept, sizeof accept, WSI_TOKEN_HTTP_ACCEPT) <= 0 ||
        !strstr(accept, "text/event-stream"))
        return http_reply_error(wsi, c, 400, HREJ_BAD_QUERY,
                                "use a WebSocket, or Accept: text/event-stream for SSE");
    if (params(wsi, c, &p, &err))
        return http_reply_error(wsi, c, 400, HREJ_BAD_QUERY, err);
    c->sub = tail_subscribe(srv->tail, &p, TAIL_SSE, c, wake, &err);
    if (!c->sub)
        return http_reply_error(wsi, c, 503, HREJ_STORE, err);
    unsigned char hdr[LWS_PRE + 512], *start = hdr + LWS_PRE, *q = start,
                                      *end = hdr + sizeof hdr - 1;
    if (lws_add_http_common_headers(wsi, 200, "text/event-stream", LWS_ILLEGAL_HTTP_CONTENT_LEN,
                                    &q, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-cache", 8, &q, end) ||
        lws_finalize_write_http_header(wsi, start, &q, end))
        return -1;
    metrics.http_status[200]++;
    lws_http_mark_sse(wsi);
    /* a stream, not a request in flight: shutdown need not wait for it */
    if (c->counted) {
        c->counted = 0;
        srv->inflight--;
    }
    c->is_sse = 1;
    lws_set_timer_usecs(wsi, SSE_KEEPALIVE_US);
    return 0;
}

static int start_file(struct lws *wsi, http_conn_t *c, const char *rel, enum tail_framing fr,
                      int may_follow, const char **err);

int tail_ws_established(struct lws *wsi, http_conn_t *c)
{
    const char *err = NULL;
    tail_params_t p;
    char uri[4200];
    c->wsi = wsi;
    c->is_ws = 1;
    if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) > 11 &&
        strncmp(uri, "/api/files/", 11) == 0) {
        start_file(wsi, c, uri + 11, TAIL_WS, 1, &err);
    } else if (params(wsi, c, &p, &err) == 0) {
        c->sub = tail_subscribe(c->srv->tail, &p, TAIL_WS, c, wake, &err);
    }
    if (!c->sub && !c->ff) {
        /* tell the client why, then close */
        buf_reset(&c->resp);
        buf_reserve(&c->resp, LWS_PRE + 256);
        c->resp.len = LWS_PRE;
        buf_puts(&c->resp, "{\"type\":\"error\",\"error\":");
        json_str(&c->resp, err, strlen(err));
        buf_putc(&c->resp, '}');
        c->close_after = 1;
        lws_callback_on_writable(wsi);
    }
    return 0;
}

int tail_writable(struct lws *wsi, http_conn_t *c)
{
    char *data;
    size_t len;
    if (c->close_after) {
        size_t n = c->resp.len - LWS_PRE;
        lws_write(wsi, (unsigned char *)c->resp.data + LWS_PRE, n, LWS_WRITE_TEXT);
        lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, NULL, 0);
        return -1;
    }
    if (c->ff) {
        if (files_next(c->ff, &data, &len)) {
            int w = lws_write(wsi, (unsigned char *)data, len,
                              c->is_ws ? LWS_WRITE_TEXT : LWS_WRITE_HTTP);
            if (w < (int)len)
                return -1;
        }
        if (files_done(c->ff)) {
            /* a one-shot read (follow=0) is complete */
            if (c->is_ws)
                lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            return -1;
        }
        lws_callback_on_writable(wsi);
        return 0;
    }
    if (!c->sub)
        return 0;
    if (tail_next(c->sub, &data, &len)) {
        int w = lws_write(wsi, (unsigned char *)data, len, c->is_ws ? LWS_WRITE_TEXT : LWS_WRITE_HTTP);
        if (w < (int)len)
            return -1;
        if (!c->is_ws)
            lws_set_timer_usecs(wsi, SSE_KEEPALIVE_US);
    } else if (c->keepalive_due) {
        static const char ka[] = ": keepalive\n\n";
        unsigned char b[LWS_PRE + sizeof ka];
        memcpy(b + LWS_PRE, ka, sizeof ka - 1);
        if (lws_write(wsi, b + LWS_PRE, sizeof ka - 1, LWS_WRITE_HTTP) < (int)sizeof ka - 1)
            return -1;
        lws_set_timer_usecs(wsi, SSE_KEEPALIVE_US);
    }
    c->keepalive_due = 0;
    if (tail_more(c->sub))
        lws_callback_on_writable(wsi);
    return 0;
}

void tail_sse_timer(struct lws *wsi, http_conn_t *c)
{
    c->keepalive_due = 1;
    lws_callback_on_writable(wsi);
}

void tail_conn_closed(http_conn_t *c)
{
    if (c->sub) {
        tail_unsubscribe(c->sub);
        c->sub = NULL;
    }
    if (c->ff) {
        files_unfollow(c->ff);
        c->ff = NULL;
    }
}

/* ---- files ------------------------------------------------------------------ */

static void file_wake(void *conn)
{
    http_conn_t *c = conn;
    lws_callback_on_writable(c->wsi);
}

/* Resolves rel and starts following it; 0, or -1 with *err (refused). */
static int start_file(struct lws *wsi, http_conn_t *c, const char *rel, enum tail_framing fr,
                      int may_follow, const char **err)
{
    server_t *srv = c->srv;
    char path[4200];
    size_t n = 100;
    int follow = 1;
    if (!srv->roots) {
        *err = "file tail is off (no --tail-root)";
        return -1;
    }
    if (files_resolve(srv->roots, rel, path, sizeof path, err)) {
        char peer[64] = "";
        lws_get_peer_simple(wsi, peer, sizeof peer);
        log_warn("files: refused '%s' from %s: %s", rel, peer, *err);
        metrics.http_reject[HREJ_FORBIDDEN]++;
        return -1;
    }
    http_query(wsi, &c->query);
    for (size_t i = 0; i < c->query.n; i++) {
        slice_t k = form_key(&c->query, i), v = form_val(&c->query, i);
        char tmp[16];
        if (v.n >= sizeof tmp)
            continue;
        memcpy(tmp, v.p, v.n);
        tmp[v.n] = '\0';
        if (slice_eq(k, "n"))
            n = (size_t)strtoul(tmp, NULL, 10);
        else if (slice_eq(k, "follow"))
            follow = strcmp(tmp, "0") != 0;
    }
    if (n > 100000)
        n = 100000;
    follow &= may_follow;
    c->wsi = wsi;
    c->ff = files_follow(&srv->loop, path, n, follow, fr, c, file_wake, err);
    return c->ff ? 0 : -1;
}

int files_list_request(struct lws *wsi, http_conn_t *c)
{
    buf_t b = BUF_INIT;
    if (c->srv->roots)
        files_list_json(c->srv->roots, &b);
    else
        buf_puts(&b, "{\"roots\":[]}\n");
    int rc = http_reply(wsi, c, 200, "application/json", b.data, b.len);
    buf_free(&b);
    return rc;
}

int files_http_request(struct lws *wsi, http_conn_t *c, const char *rel)
{
    char accept[128];
    const char *err = NULL;
    int sse = lws_hdr_copy(wsi, accept, sizeof accept, WSI_TOKEN_HTTP_ACCEPT) > 0 &&
              strstr(accept, "text/event-stream");
    if (start_file(wsi, c, rel, sse ? TAIL_SSE : TAIL_WS, sse, &err))
        return http_reply_error(wsi, c, c->srv->roots ? 403 : 404,
                                c->srv->roots ? HREJ_FORBIDDEN : HREJ_NOT_FOUND, err);
    if (!sse) {
        /* a plain GET: the last n lines as one JSON array, no following */
        buf_t b = BUF_INIT;
        char *data;
        size_t len;
        int first = 1;
        buf_putc(&b, '[');
        for (int guard = 0; guard < 1000 && !files_done(c->ff); guard++) {
            if (!files_next(c->ff, &data, &len))
                break;
            if (len > 2 && data[0] == '[') {
                if (!first)
                    buf_putc(&b, ',');
                buf_append(&b, data + 1, len - 2);
                first = 0;
            }
        }
        buf_puts(&b, "]\n");
        files_unfollow(c->ff);
        c->ff = NULL;
        int rc = http_reply(wsi, c, 200, "application/json", b.data, b.len);
        buf_free(&b);
        return rc;
    }
    unsigned char hdr[LWS_PRE + 512], *start = hdr + LWS_PRE, *q = start,
                                      *end = hdr + sizeof hdr - 1;
    if (lws_add_http_common_headers(wsi, 200, "text/event-stream", LWS_ILLEGAL_HTTP_CONTENT_LEN,
                                    &q, end) ||
        lws_finalize_write_http_header(wsi, start, &q, end))
        return -1;
    metrics.http_status[200]++;
    lws_http_mark_sse(wsi);
    if (c->counted) {
        c->counted = 0;
        c->srv->inflight--;
    }
    c->is_sse = 1;
    return 0;
}
