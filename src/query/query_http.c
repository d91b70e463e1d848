/* query_http.c - GET /api/logs: a query over the store, run on libuv's
 * thread pool and written back in chunks; an http_handler_t.
 *
 * The first chunk decides the shape of the reply: a query that completes
 * within it is sent whole with a Content-Length; a longer one is streamed
 * with chunked encoding. Either way the connection stays open. JSON array
 * by default; NDJSON with `Accept: application/x-ndjson`; format=json,
 * ndjson or csv (query.h) says so in the URL and makes it a download: a
 * Content-Disposition names a file, so a link saves the answer however
 * large, streamed as it is read. A token limited
 * to some topics (auth.h) gets records of those only: its patterns become
 * the query's topic limit (query_limit), copied before the job leaves the
 * loop thread.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../auth/auth.h"
#include "../common/timeutil.h"
#include "../http/http.h"
#include "params.h"
#include "query.h"
#include "query_http.h"

#define CHUNK (256u * 1024)

static query_http_stats_t stats = {.seconds = {.kind = &hist_seconds}};

const query_http_stats_t *query_http_stats(void)
{
    return &stats;
}

typedef struct query_job {
    uv_work_t work;
    int64_t t0; /* monotonic ns at the request */
    query_t q;
    store_t *store;
    http_conn_t *conn; /* NULL once the request is gone */
    atomic_int cancel; /* set on the loop when it goes: the scan stops between blocks */
    buf_t out;
    int running;    /* on the thread pool */
    int delivering; /* in deliver(): a reply or write may end the request */
    int streaming;  /* headers sent without a length */
} query_job_t;

typedef struct query_state {
    query_job_t *job;
    form_t query;
} query_state_t;

static void job_free(query_job_t *j)
{
    if (j->store)
        store_unref(j->store);
    query_free(&j->q);
    buf_free(&j->out);
    free(j);
}

static void work_cb(uv_work_t *w)
{
    query_job_t *j = container_of(w, query_job_t, work);
    query_run(&j->q, j->store, &j->out, CHUNK);
}

static void after_cb(uv_work_t *w, int status);

static void schedule(query_job_t *j, uv_loop_t *loop)
{
    buf_reset(&j->out);
    buf_reserve(&j->out, CHUNK);
    j->running = 1;
    uv_queue_work(loop, &j->work, work_cb, after_cb);
}

static const char *ctype_of(const query_job_t *j)
{
    switch (j->q.format) {
    case QUERY_NDJSON:
        return "application/x-ndjson";
    case QUERY_CSV:
        return "text/csv; charset=utf-8";
    default:
        return "application/json";
    }
}

/* The download's header (format=), or none. */
static size_t disposition(const query_job_t *j, http_header_t *h)
{
    if (!j->q.download)
        return 0;
    h->name = "Content-Disposition";
    h->value = j->q.format == QUERY_CSV      ? "attachment; filename=\"logship.csv\""
               : j->q.format == QUERY_NDJSON ? "attachment; filename=\"logship.ndjson\""
                                             : "attachment; filename=\"logship.json\"";
    return 1;
}

/* A chunk is ready: send it (the first decides the reply's shape). */
static void deliver(query_job_t *j)
{
    http_conn_t *c = j->conn;
    if (!j->streaming) {
        if (j->q.error && !j->q.emitted) {
            stats.rejected[HREJ_BAD_QUERY]++;
            http_reply_error(c, 500, "store read error");
            return;
        }
        if (j->q.done) {
            /* an empty answer may carry a hint (query.h) */
            http_header_t hs[2];
            size_t nh = disposition(j, &hs[0]);
            if (j->q.hint.len)
                hs[nh++] = (http_header_t){"Logship-Hint", buf_cstr(&j->q.hint)};
            hist_observe_ns(&stats.seconds, time_mono_ns() - j->t0);
            http_reply(c, 200, ctype_of(j), hs, nh, j->out.data, j->out.len);
            return;
        }
        http_header_t hd;
        size_t nd = disposition(j, &hd);
        http_stream_begin(c, 200, ctype_of(j), &hd, nd);
        j->streaming = 1;
        if (!j->conn)
            return; /* the write failed: the connection is gone */
    }
    http_stream_write(c, j->out.data, j->out.len);
    if (!j->conn)
        return;
    if (j->q.done) {
        hist_observe_ns(&stats.seconds, time_mono_ns() - j->t0);
        http_stream_end(c);
        return;
    }
    /* the next chunk once this one is on its way: a slow reader holds one */
    http_want_writable(c);
}

static void after_cb(uv_work_t *w, int status)
{
    query_job_t *j = container_of(w, query_job_t, work);
    j->running = 0;
    if (!j->conn || status) {
        if (j->conn)
            ((query_state_t *)http_state(j->conn))->job = NULL;
        job_free(j);
        return;
    }
    /* any write may end the connection, and with it the request (on_end):
     * j stays until deliver() is done with it */
    j->delivering = 1;
    deliver(j);
    j->delivering = 0;
    if (!j->conn && !j->running)
        job_free(j);
}

static int on_writable(http_conn_t *c)
{
    query_state_t *st = http_state(c);
    query_job_t *j = st->job;
    if (j && !j->running)
        schedule(j, ((query_http_ctx_t *)http_data(c))->loop);
    return 0;
}

static void on_end(http_conn_t *c)
{
    query_state_t *st = http_state(c);
    query_job_t *j = st->job;
    st->job = NULL;
    if (!j)
        return;
    if (j->running || j->delivering) {
        j->conn = NULL; /* after_cb frees it */
        atomic_store(&j->cancel, 1);
    } else
        job_free(j);
}

static int on_request(http_conn_t *c, const http_req_t *r)
{
    query_state_t *st = http_state(c);
    query_http_ctx_t *ctx = http_data(c);
    const char *err = NULL;
    char accept[128];

    if (http_query(r, &st->query, &err)) {
        stats.rejected[HREJ_BAD_QUERY]++;
        http_reply_error(c, 400, "bad query string: use percent-escapes");
        return 0;
    }
    char perr[PARAM_ERR_MAX];
    if (params_check(&st->query, NULL, perr, sizeof perr)) {
        stats.rejected[HREJ_BAD_QUERY]++;
        http_reply_error(c, 400, perr);
        return 0;
    }
    query_job_t *j = xcalloc(1, sizeof *j);
    j->t0 = time_mono_ns();
    query_init(&j->q);
    j->q.cancel = &j->cancel;
    for (size_t i = 0; i < st->query.n; i++) {
        slice_t k = form_key(&st->query, i), v = form_val(&st->query, i);
        int rc = query_param(&j->q, k, v, &err);
        if (rc == 0)
            continue;
        char msg[320];
        if (rc > 0) {
            snprintf(msg, sizeof msg, "unknown parameter '%.*s' (use " QUERY_PARAMS ")",
                     (int)(k.n > 32 ? 32 : k.n), k.p);
            err = msg;
        }
        job_free(j);
        stats.rejected[HREJ_BAD_QUERY]++;
        http_reply_error(c, 400, err);
        return 0;
    }
    if (query_check(&j->q, &err)) {
        job_free(j);
        stats.rejected[HREJ_BAD_QUERY]++;
        http_reply_error(c, 400, err);
        return 0;
    }
    const topic_set_t *lim = auth_topics(http_principal(c));
    if (lim && query_limit(&j->q, lim)) {
        job_free(j);
        stats.rejected[HREJ_BAD_QUERY]++;
        http_reply_error(c, 400, "query parameters too long");
        return 0;
    }
    if (!j->q.download && http_header_copy(r, "accept", accept, sizeof accept) > 0 &&
        strstr(accept, "application/x-ndjson"))
        j->q.format = QUERY_NDJSON;
    /* held until the job is freed: a shutdown may close the store while a
     * chunk is being read (store.h invariant 6) */
    j->store = ctx->store;
    store_ref(j->store);
    j->conn = c;
    st->job = j;
    schedule(j, ctx->loop);
    return 0;
}

static void on_free(void *state)
{
    query_state_t *st = state;
    form_free(&st->query);
}

const http_handler_t query_http_handler = {
    .name = "query",
    .state_size = sizeof(query_state_t),
    .on_request = on_request,
    .on_writable = on_writable,
    .on_end = on_end,
    .on_free = on_free,
};
