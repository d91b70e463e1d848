/* tail_conn.c - the routes of the tail hub (tail.c) and the file follower
 * (files.c): GET /api/tail over Server-Sent Events (an http_handler_t) or a
 * WebSocket (a ws_handler_t), and /api/files.
 *
 * A token limited to some topics (auth.h) tails those only: its patterns
 * become the subscriber's topic limit (filter_limit), so backlog, live
 * records and hints all stay inside them; the hub shares messages only
 * between subscribers with the same limit (it is in the filter's key).
 *
 * Every open tail is on its context's list with its principal, so a reload
 * of the tokens can end those whose token was removed or changed
 * (tail_conn_recheck).
 *
 * One message per writable callback; when more is ready the connection
 * asks to be writable again, so a busy subscriber gets one message per
 * loop pass and a slow one none until its socket drains.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../auth/auth.h"
#include "../common/json_write.h"
#include "../common/log.h"
#include "../http/http.h"
#include "../http/ws.h"
#include "../query/params.h"
#include "files.h"
#include "tail.h"
#include "tail_conn.h"

_Static_assert(WS_PRE <= TAIL_HEADROOM, "tail messages reserve room for lws");

#define SSE_KEEPALIVE_MS 15000

static tail_conn_stats_t stats;

const tail_conn_stats_t *tail_conn_stats(void)
{
    return &stats;
}

static const http_header_t sse_headers[] = {{"Cache-Control", "no-cache"},
                                            {"X-Accel-Buffering", "no"}};

/* Per connection: a subscription or a followed file, over SSE or WS. */
typedef struct tail_state {
    http_conn_t *conn; /* SSE */
    ws_conn_t *ws;     /* WebSocket */
    tail_sub_t *sub;
    file_follow_t *ff;
    form_t query;
    int keepalive_due;
    buf_t err;                    /* WebSocket: the error to send before closing */
    char perr[PARAM_ERR_MAX];     /* a refused parameter's message */
    struct limit *counted;        /* the live tail is counted there under key */
    char key[LIMIT_KEY_MAX + 16]; /* a prefix and an address, or a name: limit.c cuts it */
    /* on ctx->open while a tail or file is open (and it has a principal) */
    tail_conn_ctx_t *ctx;
    struct tail_state *prev, *next;
    const void *principal; /* borrowed: the connection holds it */
    enum tail_need need;
    int revoked; /* SSE: send st->err as an error event and end */
} tail_state_t;

/* Puts st on ctx's list of open tails, for tail_conn_recheck. */
static void track(tail_conn_ctx_t *ctx, tail_state_t *st, const void *principal,
                  enum tail_need need)
{
    if (!principal || st->ctx)
        return; /* no tokens: nothing to check again */
    st->ctx = ctx;
    st->principal = principal;
    st->need = need;
    st->prev = NULL;
    st->next = ctx->open;
    if (ctx->open)
        ctx->open->prev = st;
    ctx->open = st;
}

static void untrack(tail_state_t *st)
{
    if (!st->ctx)
        return;
    if (st->prev)
        st->prev->next = st->next;
    else
        st->ctx->open = st->next;
    if (st->next)
        st->next->prev = st->prev;
    st->ctx = NULL;
    st->prev = st->next = NULL;
}

static void wake_http(void *arg)
{
    http_want_writable(arg);
}

static void wake_ws(void *arg)
{
    ws_want_writable(arg);
}

/* --max-client-tails: counts st's live tail for its client. 0, or -1 when
 * the client has as many open as it may. */
static int count_tail(tail_state_t *st, const tail_conn_ctx_t *ctx, const void *principal,
                      const char *peer)
{
    if (!ctx->tails)
        return 0;
    if (principal && ctx->principal_name)
        snprintf(st->key, sizeof st->key, "t:%s", ctx->principal_name(principal));
    else
        snprintf(st->key, sizeof st->key, "a:%s", peer);
    if (limit_conn_open(ctx->tails, slice_cstr(st->key), uv_hrtime()))
        return -1;
    st->counted = ctx->tails;
    return 0;
}

static const char TOO_MANY_TAILS[] =
    "too many live tails open for this client (--max-client-tails)";

static void state_end(tail_state_t *st)
{
    untrack(st);
    if (st->counted) {
        limit_conn_close(st->counted, slice_cstr(st->key));
        st->counted = NULL;
    }
    if (st->sub) {
        tail_unsubscribe(st->sub);
        st->sub = NULL;
    }
    if (st->ff) {
        files_unfollow(st->ff);
        st->ff = NULL;
    }
}

/* Parses the tail parameters, limited to principal's topics; -1 with *err
 * on a bad one. */
static int params(tail_state_t *st, tail_params_t *p, slice_t last_id, const void *principal,
                  const char **err)
{
    tail_params_init(p);
    if (params_check(&st->query, NULL, st->perr, sizeof st->perr)) {
        *err = st->perr;
        return -1;
    }
    for (size_t i = 0; i < st->query.n; i++)
        if (tail_param(p, form_key(&st->query, i), form_val(&st->query, i), err))
            return -1;
    /* an EventSource reconnecting says where it was */
    if (last_id.n && !p->has_after && tail_param(p, SLICE_LIT("after"), last_id, err))
        return -1;
    const topic_set_t *lim = auth_topics(principal);
    if (lim)
        filter_limit(&p->f, lim); /* tail_subscribe copies its texts */
    return 0;
}

/* Resolves rel and starts following it; 0, or -1 with *err (refused). */
static int start_file(const tail_conn_ctx_t *ctx, tail_state_t *st, const char *rel,
                      const char *peer, enum tail_framing fr, int may_follow, void *conn,
                      void (*wake)(void *), const char **err)
{
    char path[4200];
    size_t n = 100;
    int follow = 1;
    if (!ctx->roots) {
        *err = "file tail is off (no --tail-root)";
        return -1;
    }
    if (files_resolve(ctx->roots, rel, path, sizeof path, err)) {
        log_warn("files: refused '%s' from %s: %s", rel, peer, *err);
        stats.rejected[HREJ_FORBIDDEN]++;
        return -1;
    }
    for (size_t i = 0; i < st->query.n; i++) {
        slice_t k = form_key(&st->query, i), v = form_val(&st->query, i);
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
    st->ff = files_follow(ctx->loop, ctx->roots, path, n, follow, fr, conn, wake, err);
    if (!st->ff) {
        log_warn("files: refused '%s' from %s: %s", rel, peer, *err);
        stats.rejected[HREJ_FORBIDDEN]++;
    }
    return st->ff ? 0 : -1;
}

static int wants_sse(const http_req_t *r)
{
    char accept[256];
    return http_header_copy(r, "accept", accept, sizeof accept) > 0 &&
           strstr(accept, "text/event-stream") != NULL;
}

static void reply_error(http_conn_t *c, int status, enum http_reject why, const char *msg)
{
    stats.rejected[why]++;
    http_reply_error(c, status, msg);
}

/* ---- SSE ------------------------------------------------------------------ */

static int tail_request(http_conn_t *c, const http_req_t *r)
{
    tail_state_t *st = http_state(c);
    tail_conn_ctx_t *ctx = http_data(c);
    const char *err = NULL;
    tail_params_t p;

    st->conn = c;
    if (!wants_sse(r)) {
        reply_error(c, 400, HREJ_BAD_QUERY,
                    "use a WebSocket, or Accept: text/event-stream for SSE");
        return 0;
    }
    tail_params_init(&p);
    if (http_query(r, &st->query, &err) ||
        params(st, &p, http_header(r, "last-event-id"), http_principal(c), &err)) {
        tail_params_close(&p);
        reply_error(c, 400, HREJ_BAD_QUERY, err ? err : "bad query string");
        return 0;
    }
    if (count_tail(st, ctx, http_principal(c), http_peer(c))) {
        tail_params_close(&p);
        reply_error(c, 429, HREJ_RATE, TOO_MANY_TAILS);
        return 0;
    }
    st->sub = tail_subscribe(ctx->tail, &p, TAIL_SSE, c, wake_http, &err);
    tail_params_close(&p); /* what the subscriber did not take */
    if (!st->sub) {
        state_end(st);
        reply_error(c, 503, HREJ_STORE, err);
        return 0;
    }
    track(ctx, st, http_principal(c), TAIL_NEED_TAIL);
    http_stream_begin(c, 200, "text/event-stream", sse_headers, 2);
    http_set_timer(c, SSE_KEEPALIVE_MS);
    return 0;
}

static int sse_writable(http_conn_t *c)
{
    tail_state_t *st = http_state(c);
    char *data;
    size_t len;
    if (st->revoked) {
        /* tail_conn_recheck: the error as an event, then the end */
        st->revoked = 0;
        http_stream_write(c, st->err.data, st->err.len);
        buf_reset(&st->err);
        http_set_timer(c, 0);
        http_stream_end(c);
        return 0;
    }
    /* a failed write closes the connection at once, and http_end() lets
     * go of st->sub and st->ff: look again after each write */
    if (st->ff) {
        if (files_next(st->ff, &data, &len))
            http_stream_write(c, data, len);
        if (!st->ff)
            return 0;
        if (files_done(st->ff)) {
            http_stream_end(c); /* a one-shot read (follow=0) is complete */
            return 0;
        }
        http_want_writable(c);
        return 0;
    }
    if (!st->sub)
        return 0;
    if (tail_next(st->sub, &data, &len)) {
        http_stream_write(c, data, len);
        http_set_timer(c, SSE_KEEPALIVE_MS);
    } else if (st->keepalive_due) {
        static const char ka[] = ": keepalive\n\n";
        http_stream_write(c, ka, sizeof ka - 1);
        http_set_timer(c, SSE_KEEPALIVE_MS);
    }
    st->keepalive_due = 0;
    if (st->sub && tail_more(st->sub))
        http_want_writable(c);
    return 0;
}

static int sse_timer(http_conn_t *c)
{
    tail_state_t *st = http_state(c);
    st->keepalive_due = 1;
    http_want_writable(c);
    return 0;
}

static void http_end(http_conn_t *c)
{
    tail_state_t *st = http_state(c);
    state_end(st);
    http_set_timer(c, 0);
}

static void state_free(void *state)
{
    tail_state_t *st = state;
    state_end(st);
    form_free(&st->query);
    buf_free(&st->err);
}

const http_handler_t tail_sse_handler = {
    .name = "tail",
    .state_size = sizeof(tail_state_t),
    .on_request = tail_request,
    .on_writable = sse_writable,
    .on_timer = sse_timer,
    .on_end = http_end,
    .on_free = state_free,
};

/* ---- files over HTTP ----------------------------------------------------------- */

/* GET /api/files: the listing walks directories, so it runs on the thread
 * pool (files_list_json is bounded and touches only the filesystem); the
 * loop answers once it is done, if the request is still there. */
typedef struct list_job {
    uv_work_t work;
    const file_roots_t *roots;
    http_conn_t *conn; /* NULL once the request is gone */
    buf_t out;
} list_job_t;

typedef struct list_state {
    list_job_t *job; /* running */
} list_state_t;

static void list_work(uv_work_t *w)
{
    list_job_t *j = container_of(w, list_job_t, work);
    files_list_json(j->roots, &j->out);
}

static void list_after(uv_work_t *w, int status)
{
    list_job_t *j = container_of(w, list_job_t, work);
    if (j->conn) {
        ((list_state_t *)http_state(j->conn))->job = NULL;
        if (status)
            http_reply_error(j->conn, 503, "listing cancelled");
        else
            http_reply(j->conn, 200, "application/json", NULL, 0, j->out.data, j->out.len);
    }
    buf_free(&j->out);
    free(j);
}

static int files_list(http_conn_t *c, const http_req_t *r)
{
    const tail_conn_ctx_t *ctx = http_data(c);
    list_state_t *st = http_state(c);
    (void)r;
    if (!ctx->roots) {
        static const char none[] = "{\"roots\":[]}\n";
        http_reply(c, 200, "application/json", NULL, 0, none, sizeof none - 1);
        return 0;
    }
    list_job_t *j = xcalloc(1, sizeof *j);
    j->roots = ctx->roots;
    j->conn = c;
    st->job = j;
    uv_queue_work(ctx->loop, &j->work, list_work, list_after);
    return 0;
}

static void files_list_end(http_conn_t *c)
{
    list_state_t *st = http_state(c);
    if (st->job)
        st->job->conn = NULL; /* list_after frees it */
    st->job = NULL;
}

const http_handler_t files_list_handler = {
    .name = "files",
    .state_size = sizeof(list_state_t),
    .on_request = files_list,
    .on_end = files_list_end,
};

static int file_request(http_conn_t *c, const http_req_t *r)
{
    tail_state_t *st = http_state(c);
    tail_conn_ctx_t *ctx = http_data(c);
    const char *err = NULL;
    char rel[4200];
    int sse = wants_sse(r);

    st->conn = c;
    size_t n = r->path.n - 11; /* after "/api/files/" */
    if (n >= sizeof rel) {
        reply_error(c, 400, HREJ_BAD_QUERY, "path too long");
        return 0;
    }
    memcpy(rel, r->path.p + 11, n);
    rel[n] = '\0';
    if (http_query(r, &st->query, &err)) {
        reply_error(c, 400, HREJ_BAD_QUERY, err);
        return 0;
    }
    if (params_check(&st->query, NULL, st->perr, sizeof st->perr)) {
        reply_error(c, 400, HREJ_BAD_QUERY, st->perr);
        return 0;
    }
    if (start_file(ctx, st, rel, r->peer, sse ? TAIL_SSE : TAIL_WS, sse, c, wake_http, &err)) {
        reply_error(c, ctx->roots ? 403 : 404, ctx->roots ? HREJ_FORBIDDEN : HREJ_NOT_FOUND, err);
        return 0;
    }
    if (!sse) {
        /* a plain GET: the last n lines as one JSON array, no following */
        buf_t b = BUF_INIT;
        char *data;
        size_t len;
        int first = 1;
        buf_putc(&b, '[');
        /* bounded: each pass reads on (up to 1 MiB) or sends what it has */
        for (int guard = 0; guard < 1000 && !files_done(st->ff); guard++) {
            if (!files_next(st->ff, &data, &len))
                continue; /* inside a line longer than one read */
            if (len > 2 && data[0] == '[') {
                if (!first)
                    buf_putc(&b, ',');
                buf_append(&b, data + 1, len - 2);
                first = 0;
            }
        }
        buf_puts(&b, "]\n");
        state_end(st);
        http_reply(c, 200, "application/json", NULL, 0, b.data, b.len);
        buf_free(&b);
        return 0;
    }
    track(ctx, st, http_principal(c), TAIL_NEED_FILES);
    http_stream_begin(c, 200, "text/event-stream", sse_headers, 2);
    http_want_writable(c);
    return 0;
}

const http_handler_t files_file_handler = {
    .name = "file",
    .state_size = sizeof(tail_state_t),
    .on_request = file_request,
    .on_writable = sse_writable,
    .on_end = http_end,
    .on_free = state_free,
};

/* ---- WebSocket ------------------------------------------------------------------ */

/* Queues an error message, {"type":"error","status":S,"error":"..."} with
 * the HTTP status the same refusal gets over SSE; the connection closes
 * once it is sent. (A refused handshake would tell a browser nothing.) */
static void ws_fail(ws_conn_t *w, tail_state_t *st, int status, const char *err)
{
    buf_reset(&st->err);
    buf_reserve(&st->err, WS_PRE + 256);
    st->err.len = WS_PRE;
    buf_printf(&st->err, "{\"type\":\"error\",\"status\":%d,\"error\":", status);
    json_str(&st->err, err, strlen(err));
    buf_putc(&st->err, '}');
    ws_want_writable(w);
}

static int ws_open(ws_conn_t *w, const char *uri)
{
    tail_state_t *st = ws_state(w);
    tail_conn_ctx_t *ctx = ws_data(w);
    const char *err = NULL;
    tail_params_t p;
    char peer[64] = "";

    tail_params_init(&p);
    st->ws = w;
    ws_query(w, &st->query);
    if (strncmp(uri, "/api/files/", 11) == 0) {
        if (params_check(&st->query, NULL, st->perr, sizeof st->perr))
            ws_fail(w, st, 400, st->perr);
        else if (start_file(ctx, st, uri + 11, ws_peer(w, peer, sizeof peer), TAIL_WS, 1, w,
                            wake_ws, &err))
            ws_fail(w, st, ctx->roots ? 403 : 404, err ? err : "refused");
        else
            track(ctx, st, ws_principal(w), TAIL_NEED_FILES);
    } else if (params(st, &p, SLICE_NULL, ws_principal(w), &err)) {
        ws_fail(w, st, 400, err ? err : "bad query string");
    } else if (count_tail(st, ctx, ws_principal(w), ws_peer(w, peer, sizeof peer))) {
        ws_fail(w, st, 429, TOO_MANY_TAILS);
    } else if (!(st->sub = tail_subscribe(ctx->tail, &p, TAIL_WS, w, wake_ws, &err))) {
        state_end(st);
        ws_fail(w, st, 503, err ? err : "refused");
    } else {
        track(ctx, st, ws_principal(w), TAIL_NEED_TAIL);
    }
    tail_params_close(&p); /* what no subscriber took */
    return 0;
}

static int ws_writable(ws_conn_t *w)
{
    tail_state_t *st = ws_state(w);
    char *data;
    size_t len;
    if (st->err.len) {
        if (ws_write_text(w, st->err.data + WS_PRE, st->err.len - WS_PRE))
            return -1;
        buf_reset(&st->err);
        state_end(st);
        ws_close(w, 1008); /* after the message, a close frame with 1008 */
        return 0;
    }
    if (st->ff) {
        if (files_next(st->ff, &data, &len) && ws_write_text(w, data, len))
            return -1;
        if (files_done(st->ff)) {
            /* a one-shot read (follow=0) is complete, or the path became unsafe */
            int status = files_failed(st->ff) ? 1008 : 1000;
            state_end(st);
            ws_close(w, status);
            return 0;
        }
        ws_want_writable(w);
        return 0;
    }
    if (!st->sub)
        return 0;
    if (tail_next(st->sub, &data, &len) && ws_write_text(w, data, len))
        return -1;
    if (tail_more(st->sub))
        ws_want_writable(w);
    return 0;
}

static void ws_closed(ws_conn_t *w)
{
    tail_state_t *st = ws_state(w);
    state_free(st);
}

const ws_handler_t tail_ws_handlers[2] = {
    {"/api/tail", 0, sizeof(tail_state_t), ws_open, ws_writable, ws_closed},
    {"/api/files/", 1, sizeof(tail_state_t), ws_open, ws_writable, ws_closed},
};

/* ---- a reload of the tokens ------------------------------------------------------ */

size_t tail_conn_recheck(tail_conn_ctx_t *ctx, tail_conn_check_fn check, void *arg)
{
    size_t ended = 0;
    tail_state_t *next;
    for (tail_state_t *st = ctx->open; st; st = next) {
        next = st->next;
        const char *why = "refused";
        int status = check(arg, st->principal, st->need, &why);
        if (!status)
            continue;
        ended++;
        state_end(st); /* no more records: off the list, the subscription gone */
        if (st->ws) {
            ws_fail(st->ws, st, status, why);
            continue;
        }
        buf_reset(&st->err);
        buf_printf(&st->err,
                   "event: error\ndata: {\"type\":\"error\",\"status\":%d,\"error\":", status);
        json_str(&st->err, why, strlen(why));
        buf_puts(&st->err, "}\n\n");
        st->revoked = 1;
        http_want_writable(st->conn);
    }
    return ended;
}
