/* api_logs.c - GET /api/logs: a query over the store, run on libuv's
 * thread pool and written back in chunks.
 *
 * The first chunk decides the shape of the reply: a query that completes
 * within it is sent whole with a Content-Length (the connection stays
 * open); a longer one is streamed without a length and the connection
 * closes at its end. JSON array by default; NDJSON with
 * `Accept: application/x-ndjson`.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../query/query.h"
#include "http.h"
#include "metrics.h"

#define CHUNK (256u * 1024)

typedef struct query_job {
    uv_work_t work;
    query_t q;
    store_t *store;
    http_conn_t *conn; /* NULL once the connection is gone */
    buf_t out;
    int running;   /* on the thread pool */
    int streaming; /* headers sent without a length */
} query_job_t;

static void job_free(query_job_t *j)
{
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
    /* the chunk is written after LWS_PRE bytes lws may use: no copy later */
    buf_reset(&j->out);
    buf_reserve(&j->out, LWS_PRE + CHUNK);
    j->out.len = LWS_PRE;
    j->running = 1;
    uv_queue_work(loop, &j->work, work_cb, after_cb);
}

static const char *ctype_of(const query_job_t *j)
{
    return j->q.format == QUERY_NDJSON ? "application/x-ndjson" : "application/json";
}

static void after_cb(uv_work_t *w, int status)
{
    query_job_t *j = container_of(w, query_job_t, work);
    j->running = 0;
    if (!j->conn || status) {
        if (j->conn)
            j->conn->job = NULL;
        job_free(j);
        return;
    }
    /* write from the writable callback: lws allows writes only there */
    lws_callback_on_writable(j->conn->wsi);
}

int logs_on_writable(struct lws *wsi, http_conn_t *c)
{
    query_job_t *j = c->job;
    if (j->running)
        return 0;
    if (!j->streaming) {
        if (j->q.error && !j->q.emitted) {
            c->job = NULL;
            job_free(j);
            return http_reply_error(wsi, c, 500, HREJ_BAD_QUERY, "store read error");
        }
        if (j->q.done) {
            /* the whole answer fits one chunk: send it with its length */
            c->job = NULL;
            int rc = http_reply(wsi, c, 200, ctype_of(j), j->out.data + LWS_PRE,
                                j->out.len - LWS_PRE);
            job_free(j);
            return rc;
        }
        unsigned char hdr[LWS_PRE + 512], *start = hdr + LWS_PRE, *p = start,
                                          *end = hdr + sizeof hdr - 1;
        if (lws_add_http_common_headers(wsi, 200, ctype_of(j), LWS_ILLEGAL_HTTP_CONTENT_LEN, &p,
                                        end) ||
            lws_finalize_write_http_header(wsi, start, &p, end))
            return -1;
        metrics.http_status[200]++;
        j->streaming = 1;
        lws_callback_on_writable(wsi);
        return 0;
    }
    int final = j->q.done;
    size_t n = j->out.len - LWS_PRE;
    int w = lws_write(wsi, (unsigned char *)j->out.data + LWS_PRE, n,
                      final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP);
    if (w < (int)n)
        return -1;
    if (!final) {
        schedule(j, &c->srv->loop);
        return 0;
    }
    c->job = NULL;
    job_free(j);
    if (c->counted) {
        c->counted = 0;
        c->srv->inflight--;
    }
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

void logs_on_close(http_conn_t *c)
{
    query_job_t *j = c->job;
    c->job = NULL;
    if (j->running)
        j->conn = NULL; /* after_cb frees it */
    else
        job_free(j);
}

int logs_on_request(struct lws *wsi, http_conn_t *c)
{
    server_t *srv = c->srv;
    const char *err = NULL;
    char accept[128];

    http_query(wsi, &c->query);
    query_job_t *j = xcalloc(1, sizeof *j);
    query_init(&j->q);
    for (size_t i = 0; i < c->query.n; i++) {
        slice_t k = form_key(&c->query, i), v = form_val(&c->query, i);
        int r = query_param(&j->q, k, v, &err);
        if (r == 0)
            continue;
        char msg[200];
        if (r > 0) {
            snprintf(msg, sizeof msg,
                     "unknown parameter '%.*s' (use topic, level, q, since, until, after, "
                     "limit, order)",
                     (int)(k.n > 32 ? 32 : k.n), k.p);
            err = msg;
        }
        job_free(j);
        return http_reply_error(wsi, c, 400, HREJ_BAD_QUERY, err);
    }
    if (lws_hdr_copy(wsi, accept, sizeof accept, WSI_TOKEN_HTTP_ACCEPT) > 0 &&
        strstr(accept, "application/x-ndjson"))
        j->q.format = QUERY_NDJSON;
    j->store = srv->store;
    j->conn = c;
    c->job = j;
    schedule(j, &srv->loop);
    return 0;
}
