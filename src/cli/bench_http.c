/* bench_http.c - the HTTP modes of `logship bench` (http, json, ndjson, and
 * tail's posting): one POST in flight per kept connection, answered
 * records counted on a 2xx. See bench_int.h.
 *
 * A request is built in c->out behind room left for its head, so the body
 * is written once and the head put in front of it: one buffer, one write.
 */
#include <stdio.h>
#include <string.h>

#include "bench_int.h"

#define HEAD_ROOM         2048 /* the request line (the path is at most 1100) and headers */
#define TAIL_CATCH_UP_MAX 5000 /* records in a tail POST that catches up */

static const char *ctype(enum bench_mode m)
{
    switch (m) {
    case BENCH_HTTP:
        return "application/x-www-form-urlencoded";
    case BENCH_JSON:
        return "application/json";
    default:
        return "application/x-ndjson";
    }
}

static uint64_t per_request(const bench_run_t *r)
{
    return r->o.mode == BENCH_NDJSON || r->o.mode == BENCH_TAIL ? r->o.batch : 1;
}

/* Tail posts behind their schedule: one answer takes longer than a batch's
 * worth of the rate (every POST is fanned out to every subscriber before
 * the next one goes, one in flight per connection). The next POST then
 * carries every record due by now, in whole batches, up to
 * TAIL_CATCH_UP_MAX records: with one batch per round trip the posting
 * fell ever further behind, at batch / round trip records/s, and with 100
 * subscribers all of a run's records were still due in the warmup (sent
 * 0). Each record keeps its own due time, so the latency still counts
 * from when it was due. */
static uint64_t catch_up(const bconn_t *c, uint64_t per, uint64_t now)
{
    const bench_run_t *r = c->w->run;
    uint64_t t0 = atomic_load_explicit(&r->t0, memory_order_relaxed),
             warm_end = atomic_load_explicit(&r->warm_end, memory_order_relaxed);
    /* a POST is measured or not as a whole (by its last record): one that
     * catches up on the warmup's records stops at its end */
    if (bconn_due(c, c->k) < warm_end && now >= warm_end)
        now = warm_end - 1;
    double phase = (double)c->index / (double)r->o.conns;
    /* the records due by now: bconn_due(c, k) <= now for k < last */
    double last = now > t0 ? (double)(now - t0) / r->interval_ns - phase + 1 : 0;
    uint64_t due = last > (double)c->k ? (uint64_t)last - c->k : 0;
    uint64_t max = per > TAIL_CATCH_UP_MAX ? per : TAIL_CATCH_UP_MAX - TAIL_CATCH_UP_MAX % per;
    uint64_t n = due - due % per;
    if (n > max)
        n = max;
    if (n < per)
        n = per;
    /* rounding: never a record ahead of its time */
    while (n > per && bconn_due(c, c->k + n - 1) > now)
        n -= per;
    return n;
}

void bench_http_open(bconn_t *c)
{
    bench_http_reader_init(&c->rd);
    bconn_next(c);
}

static void on_written(uv_write_t *req, int status)
{
    bconn_t *c = req->data;
    if (!c->writing)
        return; /* dropped meanwhile */
    c->writing = 0;
    if (status < 0) {
        bconn_error(c, BE_SEND);
        bconn_drop(c, 1);
        return;
    }
    if (!c->busy)
        bconn_next(c); /* answered before the write's callback */
}

void bench_http_pace(bconn_t *c)
{
    bench_run_t *r = c->w->run;
    if (!bconn_may_send(c) || c->busy || c->writing)
        return;
    uint64_t per = per_request(r), now = bench_now(), t = now;
    if (r->interval_ns > 0) {
        /* a batch is due when its last record is */
        t = bconn_due(c, c->k + per - 1);
        if (t > now) {
            bconn_pace_at(c, t);
            return;
        }
        if (r->o.mode == BENCH_TAIL)
            per = catch_up(c, per, now);
        t = bconn_due(c, c->k + per - 1);
    }
    uint64_t first, n = bench_claim(r, per, t, &first);
    if (!n) {
        bconn_finish(c);
        return;
    }

    buf_reset(&c->out);
    buf_reserve(&c->out, HEAD_ROOM);
    c->out.len = HEAD_ROOM;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t ti = r->interval_ns > 0 ? bconn_due(c, c->k + i) : now;
        bench_rec_append(&r->rec, &c->out, first + i, ti, NULL);
        if (r->o.mode == BENCH_NDJSON || r->o.mode == BENCH_TAIL)
            buf_putc(&c->out, '\n');
    }
    c->k += n;
    char head[HEAD_ROOM];
    int hn = snprintf(head, sizeof head,
                      "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\n"
                      "Content-Length: %zu\r\n\r\n",
                      r->log_path, r->authority, ctype(r->o.mode), c->out.len - HEAD_ROOM);
    char *start = c->out.data + HEAD_ROOM - hn;
    memcpy(start, head, (size_t)hn);
    size_t len = c->out.len - HEAD_ROOM + (size_t)hn;

    c->busy = 1;
    c->req_first = first;
    c->req_n = n;
    c->req_t = t;
    bconn_sent(c, bench_measured(r, t) ? n : 0, len);
    bconn_guard(c);
    uv_buf_t b = uv_buf_init(start, (unsigned)len);
    int wrote = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (wrote == (int)len)
        return;
    if (wrote < 0 && wrote != UV_EAGAIN) {
        bconn_error(c, BE_SEND);
        bconn_drop(c, 1);
        return;
    }
    /* the rest when the socket takes it; out is not touched until then */
    size_t done = wrote > 0 ? (size_t)wrote : 0;
    b = uv_buf_init(start + done, (unsigned)(len - done));
    c->wreq.data = c;
    if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_written)) {
        bconn_error(c, BE_SEND);
        bconn_drop(c, 1);
        return;
    }
    c->writing = 1;
}

/* A whole response to the request in flight. */
static void answered(bconn_t *c)
{
    uint64_t now = bench_now();
    int st = c->rd.status;
    uv_timer_stop(&c->guard);
    c->busy = 0;
    if (st >= 200 && st < 300) {
        bconn_acked(c, c->req_first, c->req_n, c->req_t, now);
    } else {
        bconn_error(c, BE_HTTP);
        if (st >= 0 && st < BENCH_STATUS_MAX) {
            _Atomic uint64_t *s = &c->w->st.status[st];
            atomic_store_explicit(s, atomic_load_explicit(s, memory_order_relaxed) + 1,
                                  memory_order_relaxed);
        }
    }
}

void bench_http_read(bconn_t *c, const char *p, size_t n)
{
    const char *err = NULL;
    if (n == 0) {
        /* the server closed: a response read to the close ends here */
        if (bench_http_feed(&c->rd, "", 0, &err) >= 0 && c->rd.done && c->busy)
            answered(c);
        if (c->busy) {
            bconn_error(c, err ? BE_PROTO : BE_CLOSED);
            c->busy = 0;
        }
        bconn_drop(c, 1);
        return;
    }
    while (n) {
        long used = bench_http_feed(&c->rd, p, n, &err);
        if (used < 0 || (c->rd.done && !c->busy)) {
            /* malformed, or an answer nobody asked for */
            bconn_error(c, BE_PROTO);
            c->busy = 0;
            bconn_drop(c, 1);
            return;
        }
        p += used;
        n -= (size_t)used;
        if (!c->rd.done)
            continue;
        answered(c);
        if (n) {
            bconn_error(c, BE_PROTO); /* more than the one answer */
            bconn_drop(c, 1);
            return;
        }
        if (!c->rd.keep_alive) {
            /* Connection: close (nginx does after keepalive_requests): not
             * an error, and the next connection is made at once */
            c->backoff_ms = 0;
            bconn_drop(c, 1);
            return;
        }
        if (!c->writing)
            bconn_next(c);
        return;
    }
}
