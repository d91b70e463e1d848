/* stats_http.c - GET /api/stats: stats.h's counts, run on libuv's thread
 * pool and sent as one JSON reply; an http_handler_t whose route data is a
 * query_http_ctx_t.
 *
 * A token limited to some topics counts records of those only, as
 * /api/logs finds them (query_limit). A client that goes away while the
 * count runs cancels it: the scan stops at its next record.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../auth/auth.h"
#include "../common/timeutil.h"
#include "params.h"
#include "query_http.h"
#include "stats.h"
#include "stats_http.h"

typedef struct stats_job {
    uv_work_t work;
    stats_t s;
    store_t *store;
    http_conn_t *conn; /* NULL once the request is gone */
    atomic_int cancel; /* set on the loop when the request ends early */
    buf_t out;
    int rc;
    char err[PARAM_ERR_MAX];
} stats_job_t;

typedef struct stats_state {
    stats_job_t *job;
    form_t query;
} stats_state_t;

static void job_free(stats_job_t *j)
{
    if (j->store)
        store_unref(j->store);
    stats_free(&j->s);
    buf_free(&j->out);
    free(j);
}

static void work_cb(uv_work_t *w)
{
    stats_job_t *j = container_of(w, stats_job_t, work);
    j->rc = stats_run(&j->s, j->store, time_now_ns(), &j->cancel, &j->out, j->err, sizeof j->err);
}

static void after_cb(uv_work_t *w, int status)
{
    stats_job_t *j = container_of(w, stats_job_t, work);
    http_conn_t *c = j->conn;
    if (!c) {
        job_free(j);
        return;
    }
    ((stats_state_t *)http_state(c))->job = NULL;
    if (status || j->rc == STATS_ESTORE)
        http_reply_error(c, 500, "store read error");
    else if (j->rc == STATS_EBAD)
        http_reply_error(c, 400, j->err);
    else if (j->rc == 0)
        http_reply(c, 200, "application/json", NULL, 0, j->out.data, j->out.len);
    job_free(j);
}

static void on_end(http_conn_t *c)
{
    stats_state_t *st = http_state(c);
    stats_job_t *j = st->job;
    st->job = NULL;
    if (!j)
        return;
    /* on the thread pool: after_cb frees it */
    j->conn = NULL;
    atomic_store(&j->cancel, 1);
}

static int on_request(http_conn_t *c, const http_req_t *r)
{
    stats_state_t *st = http_state(c);
    query_http_ctx_t *ctx = http_data(c);
    const char *err = NULL;

    if (http_query(r, &st->query, &err)) {
        http_reply_error(c, 400, "bad query string: use percent-escapes");
        return 0;
    }
    char perr[PARAM_ERR_MAX];
    if (params_check(&st->query, NULL, perr, sizeof perr)) {
        http_reply_error(c, 400, perr);
        return 0;
    }
    stats_job_t *j = xcalloc(1, sizeof *j);
    stats_init(&j->s);
    for (size_t i = 0; i < st->query.n; i++) {
        slice_t k = form_key(&st->query, i), v = form_val(&st->query, i);
        int rc = stats_param(&j->s, k, v, &err);
        if (rc == 0)
            continue;
        char msg[200];
        if (rc > 0) {
            snprintf(msg, sizeof msg, "unknown parameter '%.*s' (use " STATS_PARAMS ")",
                     (int)(k.n > 32 ? 32 : k.n), k.p);
            err = msg;
        }
        job_free(j);
        http_reply_error(c, 400, err);
        return 0;
    }
    if (!j->s.by_given) {
        job_free(j);
        http_reply_error(c, 400, "missing by: expected level, topic, app or host");
        return 0;
    }
    const topic_set_t *lim = auth_topics(http_principal(c));
    if (lim && query_limit(&j->s.q, lim)) {
        job_free(j);
        http_reply_error(c, 400, "query parameters too long");
        return 0;
    }
    /* held until the job is freed (store.h invariant 6) */
    j->store = ctx->store;
    store_ref(j->store);
    j->conn = c;
    st->job = j;
    uv_queue_work(ctx->loop, &j->work, work_cb, after_cb);
    return 0;
}

static void on_free(void *state)
{
    stats_state_t *st = state;
    form_free(&st->query);
}

const http_handler_t stats_http_handler = {
    .name = "stats",
    .state_size = sizeof(stats_state_t),
    .on_request = on_request,
    .on_end = on_end,
    .on_free = on_free,
};
