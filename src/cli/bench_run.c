/* bench_run.c - one event loop of `logship bench` and its connections:
 * connecting, reconnecting, pacing, counting, the end of the run. See
 * bench_int.h for the timeline and the bounds; the modes' own bytes are
 * bench_http.c, bench_stream.c and bench_sub.c.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "bench_int.h"
#include "cli.h"

#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 1000

const char *const bench_err_names[BE_NKINDS] = {
    [BE_CONNECT] = "connect",     [BE_TIMEOUT] = "timeout", [BE_CLOSED] = "closed",
    [BE_PROTO] = "protocol",      [BE_HTTP] = "http",       [BE_NACK] = "nack",
    [BE_HANDSHAKE] = "handshake", [BE_SEND] = "send",
};

#define RELAXED memory_order_relaxed

static inline void add(_Atomic uint64_t *c, uint64_t v)
{
    atomic_store_explicit(c, atomic_load_explicit(c, RELAXED) + v, RELAXED);
}

uint64_t bench_now(void)
{
    return uv_hrtime();
}

uint64_t bench_claim(bench_run_t *r, uint64_t n, uint64_t t, uint64_t *first)
{
    if (atomic_load_explicit(&r->stop, RELAXED))
        return 0;
    /* -n counts measured records: the warmup's come on top, whenever they
     * are sent (a run behind its schedule sends them after it) */
    if (r->o.count && bench_measured(r, t)) {
        uint64_t left = atomic_load(&r->budget);
        do {
            if (!left)
                return 0;
        } while (!atomic_compare_exchange_weak(&r->budget, &left, left > n ? left - n : 0));
        if (left < n)
            n = left;
    }
    *first = atomic_fetch_add(&r->next_id, n) + 1;
    return n;
}

/* ---- --verify's bits -------------------------------------------------------- */

void bench_bits_set(bench_bits_t *b, uint64_t id)
{
    uint64_t c = id >> BENCH_BITS_CHUNK_SHIFT,
             bit = id & ((UINT64_C(1) << BENCH_BITS_CHUNK_SHIFT) - 1);
    if (c >= BENCH_BITS_CHUNKS)
        return; /* beyond 68 billion records: not verified */
    _Atomic uint64_t *words = atomic_load(&b->chunk[c]);
    if (!words) {
        /* once per 16 Mi records: whoever comes first installs it */
        _Atomic uint64_t *fresh =
            xcalloc((UINT64_C(1) << BENCH_BITS_CHUNK_SHIFT) / 64, sizeof *fresh);
        _Atomic uint64_t *expect = NULL;
        if (atomic_compare_exchange_strong(&b->chunk[c], &expect, fresh))
            words = fresh;
        else {
            free((void *)fresh);
            words = expect;
        }
    }
    atomic_fetch_or(&words[bit / 64], UINT64_C(1) << (bit % 64));
}

int bench_bits_get(const bench_bits_t *b, uint64_t id)
{
    uint64_t c = id >> BENCH_BITS_CHUNK_SHIFT,
             bit = id & ((UINT64_C(1) << BENCH_BITS_CHUNK_SHIFT) - 1);
    if (c >= BENCH_BITS_CHUNKS)
        return 0;
    _Atomic uint64_t *words = atomic_load(&((bench_bits_t *)b)->chunk[c]);
    return words && (atomic_load(&words[bit / 64]) >> (bit % 64) & 1);
}

uint64_t bench_bits_word(const bench_bits_t *b, uint64_t i)
{
    uint64_t per = (UINT64_C(1) << BENCH_BITS_CHUNK_SHIFT) / 64, c = i / per;
    if (c >= BENCH_BITS_CHUNKS)
        return 0;
    _Atomic uint64_t *words = atomic_load(&((bench_bits_t *)b)->chunk[c]);
    return words ? atomic_load(&words[i % per]) : 0;
}

void bench_bits_free(bench_bits_t *b)
{
    for (size_t i = 0; i < BENCH_BITS_CHUNKS; i++) {
        free((void *)atomic_load(&b->chunk[i]));
        atomic_store(&b->chunk[i], NULL);
    }
}

/* ---- counting --------------------------------------------------------------- */

void bconn_error(bconn_t *c, enum bench_err e)
{
    add(&c->w->st.errors[e], 1);
}

void bconn_sent(bconn_t *c, uint64_t measured, size_t bytes)
{
    bench_stats_t *st = &c->w->st;
    if (!measured)
        return; /* the warmup's */
    add(&st->bytes, bytes);
    add(&st->sent, measured);
}

void bconn_acked(bconn_t *c, uint64_t first, uint64_t n, uint64_t t, uint64_t now)
{
    bench_run_t *r = c->w->run;
    bench_stats_t *st = &c->w->st;
    add(&st->acked_all, n);
    atomic_store_explicit(&st->last_ns, now, RELAXED);
    if (r->acked)
        for (uint64_t i = 0; i < n; i++)
            bench_bits_set(r->acked, first + i);
    if (!bench_measured(r, t))
        return;
    add(&st->acked, n);
    bench_hist_record_n(&st->lat, now > t ? now - t : 0, n);
}

/* ---- pacing ----------------------------------------------------------------- */

static void on_pace(bconn_t *c);

uint64_t bconn_due(const bconn_t *c, uint64_t k)
{
    const bench_run_t *r = c->w->run;
    double phase = (double)c->index / (double)r->o.conns;
    return atomic_load_explicit(&r->t0, RELAXED) + (uint64_t)(((double)k + phase) * r->interval_ns);
}

/* ---- the heap of deadlines -------------------------------------------------- */

static void heap_set(bench_worker_t *w, unsigned i, bconn_t *c)
{
    w->heap[i] = c;
    c->heap_i = i;
}

static void sift_up(bench_worker_t *w, unsigned i)
{
    bconn_t *c = w->heap[i];
    while (i > 0) {
        unsigned up = (i - 1) / 2;
        if (w->heap[up]->pace_due <= c->pace_due)
            break;
        heap_set(w, i, w->heap[up]);
        i = up;
    }
    heap_set(w, i, c);
}

static void sift_down(bench_worker_t *w, unsigned i)
{
    bconn_t *c = w->heap[i];
    for (;;) {
        unsigned l = 2 * i + 1, m = l;
        if (l >= w->nheap)
            break;
        if (l + 1 < w->nheap && w->heap[l + 1]->pace_due < w->heap[l]->pace_due)
            m = l + 1;
        if (w->heap[m]->pace_due >= c->pace_due)
            break;
        heap_set(w, i, w->heap[m]);
        i = m;
    }
    heap_set(w, i, c);
}

/* Sets the timerfd for the earliest deadline (or none). */
static void rearm(bench_worker_t *w)
{
    uint64_t t = w->nheap ? w->heap[0]->pace_due : 0;
    if (w->in_tick || t == w->armed || w->tfd < 0)
        return;
    struct itimerspec its = {0};
    if (t) {
        its.it_value.tv_sec = (time_t)(t / 1000000000);
        its.it_value.tv_nsec = (long)(t % 1000000000);
    }
    timerfd_settime(w->tfd, TFD_TIMER_ABSTIME, &its, NULL);
    w->armed = t;
}

void bconn_pace_stop(bconn_t *c)
{
    bench_worker_t *w = c->w;
    unsigned i = c->heap_i;
    if (i == BENCH_NO_HEAP)
        return;
    c->heap_i = BENCH_NO_HEAP;
    bconn_t *last = w->heap[--w->nheap];
    if (i < w->nheap) {
        heap_set(w, i, last);
        sift_down(w, i);
        sift_up(w, last->heap_i);
    }
    rearm(w);
}

void bconn_pace_at(bconn_t *c, uint64_t t)
{
    bench_worker_t *w = c->w;
    uint64_t now = bench_now();
    /* never at or before now: a deadline run from the heap may set the
     * next one, and the heap is run up to the time it was entered at */
    if (t <= now)
        t = now + 1;
    bconn_pace_stop(c);
    c->pace_due = t;
    heap_set(w, w->nheap++, c);
    sift_up(w, w->nheap - 1);
    rearm(w);
}

static void on_tick(uv_poll_t *p, int status, int events)
{
    bench_worker_t *w = p->data;
    uint64_t expirations;
    (void)status;
    (void)events;
    if (read(w->tfd, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
        return;
    w->armed = 0;
    w->in_tick = 1;
    uint64_t now = bench_now();
    while (w->nheap && w->heap[0]->pace_due <= now) {
        bconn_t *c = w->heap[0];
        bconn_pace_stop(c);
        on_pace(c);
    }
    w->in_tick = 0;
    rearm(w);
}

int bconn_may_send(const bconn_t *c)
{
    const bench_run_t *r = c->w->run;
    return c->w->go && !c->w->ended && !c->finished && c->state == BC_OPEN &&
           !atomic_load_explicit(&r->stop, RELAXED);
}

int bconn_owed(const bconn_t *c)
{
    return c->busy || c->writing || c->nbatch;
}

static void pace(bconn_t *c)
{
    switch (c->kind) {
    case BK_HTTP:
        bench_http_pace(c);
        break;
    case BK_STREAM:
    case BK_ACK:
    case BK_UDP:
        bench_stream_pace(c);
        break;
    case BK_SUB:
        break;
    }
}

void bconn_next(bconn_t *c)
{
    if (c->finished && !bconn_owed(c))
        bconn_drop(c, 0);
    else if (bconn_may_send(c))
        pace(c);
}

/* ---- connections ------------------------------------------------------------ */

static void maybe_end(bench_worker_t *w);
static void start_connect(bconn_t *c);

static int may_reconnect(const bconn_t *c)
{
    return !c->finished && !c->w->ended && !atomic_load(&c->w->run->stop);
}

static void mark_finished(bconn_t *c)
{
    if (c->finished)
        return;
    c->finished = 1;
}

void bconn_settled(bconn_t *c)
{
    bench_worker_t *w = c->w;
    if (c->settled)
        return;
    c->settled = 1;
    if (--w->pending == 0)
        atomic_fetch_add(&w->run->ready, 1);
}

/* The handle is closed (or there was none): reconnect later, or be done. */
static void after_close(bconn_t *c)
{
    if (c->state == BC_DOWN && may_reconnect(c)) {
        /* backoff 0: a clean close, reconnect on the next turn */
        bconn_pace_at(c, bench_now() + (uint64_t)c->backoff_ms * 1000000);
        c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
        return;
    }
    c->state = BC_DONE;
    mark_finished(c);
    if (!c->done && c->kind != BK_SUB) {
        /* not when it stopped sending: its last answers were still to
         * come, and tail's drain waits for what was acknowledged */
        c->done = 1;
        atomic_fetch_sub(&c->w->st.ingest_open, 1);
    }
    maybe_end(c->w);
}

static void on_handle_closed(uv_handle_t *h)
{
    bconn_t *c = h->data;
    c->handle_open = 0;
    c->closing = 0;
    if (c->udp_fd >= 0) {
        close(c->udp_fd);
        c->udp_fd = -1;
    }
    after_close(c);
}

void bconn_drop(bconn_t *c, int reconnect)
{
    bconn_settled(c);
    c->busy = 0;
    c->writing = 0;
    c->nbatch = 0;
    c->nfhead = 0;
    c->fleft = 0;
    c->tags.ncarry = 0;
    buf_reset(&c->out);
    buf_reset(&c->line);
    buf_reset(&c->hs);
    uv_timer_stop(&c->guard);
    if (c->state == BC_DONE && !c->handle_open)
        return;
    c->state = reconnect && may_reconnect(c) ? BC_DOWN : BC_DONE;
    if (!c->handle_open) {
        after_close(c);
        return;
    }
    if (c->closing)
        return;
    c->closing = 1;
    if (c->kind == BK_UDP) {
        uv_poll_stop(&c->poll);
        uv_close((uv_handle_t *)&c->poll, on_handle_closed);
    } else {
        uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    }
}

void bconn_finish(bconn_t *c)
{
    mark_finished(c);
    if (!bconn_owed(c) || c->state != BC_OPEN)
        bconn_drop(c, 0);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    bconn_t *c = s->data;
    (void)b;
    if (nread == 0 || c->closing)
        return;
    const char *p = nread > 0 ? c->w->rbuf : "";
    size_t n = nread > 0 ? (size_t)nread : 0;
    switch (c->kind) {
    case BK_HTTP:
        bench_http_read(c, p, n);
        break;
    case BK_STREAM:
    case BK_ACK:
    case BK_UDP:
        bench_stream_read(c, p, n);
        break;
    case BK_SUB:
        bench_sub_read(c, p, n);
        break;
    }
}

static void on_alloc(uv_handle_t *h, size_t want, uv_buf_t *b)
{
    bconn_t *c = h->data;
    (void)want;
    /* one buffer per loop: each read is used up before the next one */
    b->base = c->w->rbuf;
    b->len = sizeof c->w->rbuf;
}

static void on_connect(uv_connect_t *req, int status)
{
    bconn_t *c = req->data;
    if (c->closing || c->state != BC_CONNECTING)
        return;
    if (status < 0) {
        bconn_error(c, BE_CONNECT);
        if (c->backoff_ms < BACKOFF_MIN_MS)
            c->backoff_ms = BACKOFF_MIN_MS;
        bconn_drop(c, 1);
        return;
    }
    uv_timer_stop(&c->guard);
    c->backoff_ms = BACKOFF_MIN_MS;
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    switch (c->kind) {
    case BK_HTTP:
        c->state = BC_OPEN;
        bconn_settled(c);
        bench_http_open(c);
        break;
    case BK_STREAM:
        c->state = BC_OPEN;
        bconn_settled(c);
        bench_stream_open(c);
        break;
    case BK_ACK:
        bench_stream_open(c); /* says hello: open once it is answered */
        break;
    case BK_SUB:
        bench_sub_open(c); /* the handshake: open once it is answered */
        break;
    case BK_UDP:
        break;
    }
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    bconn_t *c = p->data;
    (void)events;
    uv_poll_stop(p);
    if (status < 0) {
        bconn_error(c, BE_SEND);
        bconn_drop(c, 1);
        return;
    }
    bconn_next(c);
}

void bconn_poll_writable(bconn_t *c)
{
    uv_poll_start(&c->poll, UV_WRITABLE, on_poll);
}

static void start_connect(bconn_t *c)
{
    bench_run_t *r = c->w->run;
    c->state = BC_CONNECTING;
    if (c->kind == BK_UDP) {
        int fd = socket(r->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&r->addr, r->addrlen)) {
            if (fd >= 0)
                close(fd);
            bconn_error(c, BE_CONNECT);
            bconn_drop(c, 1);
            return;
        }
        c->udp_fd = fd;
        uv_poll_init_socket(&c->w->loop, &c->poll, fd);
        c->poll.data = c;
        c->handle_open = 1;
        c->state = BC_OPEN;
        bconn_settled(c);
        bench_stream_open(c);
        return;
    }
    uv_tcp_init(&c->w->loop, &c->tcp);
    c->tcp.data = c;
    c->handle_open = 1;
    c->creq.data = c;
    bconn_guard(c); /* a connect that hangs (no answer to the SYN) */
    if (uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&r->addr, on_connect)) {
        bconn_error(c, BE_CONNECT);
        bconn_drop(c, 1);
    }
}

static void on_pace(bconn_t *c)
{
    if (c->state == BC_DOWN && !c->handle_open)
        start_connect(c);
    else if (c->state == BC_OPEN)
        bconn_next(c);
}

static void on_guard(uv_timer_t *t)
{
    bconn_t *c = t->data;
    int connecting = c->state == BC_CONNECTING;
    bconn_error(c, !connecting                              ? BE_TIMEOUT
                   : c->kind == BK_SUB || c->kind == BK_ACK ? BE_HANDSHAKE
                                                            : BE_CONNECT);
    bconn_drop(c, 1);
}

void bconn_guard(bconn_t *c)
{
    uv_timer_start(&c->guard, on_guard, (uint64_t)(c->w->run->o.timeout_s * 1000), 0);
}

int bconn_write(bconn_t *c, uv_write_cb cb)
{
    uv_buf_t b = uv_buf_init(c->out.data, (unsigned)c->out.len);
    c->wreq.data = c;
    if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, cb)) {
        bconn_error(c, BE_SEND);
        bconn_drop(c, 1);
        return -1;
    }
    c->writing = 1;
    return 0;
}

/* ---- the loop --------------------------------------------------------------- */

static void maybe_end(bench_worker_t *w)
{
    for (unsigned i = 0; i < w->nconns; i++)
        if (w->conns[i].state != BC_DONE || w->conns[i].handle_open)
            return;
    /* every connection is closed: its timers, the end timer and the async
     * go too, and the loop ends */
    for (unsigned i = 0; i < w->nconns; i++) {
        bconn_t *c = &w->conns[i];
        bconn_pace_stop(c);
        if (!uv_is_closing((uv_handle_t *)&c->guard))
            uv_close((uv_handle_t *)&c->guard, NULL);
    }
    if (w->tpoll_open) {
        w->tpoll_open = 0;
        uv_poll_stop(&w->tpoll);
        uv_close((uv_handle_t *)&w->tpoll, NULL);
    }
    if (!uv_is_closing((uv_handle_t *)&w->endt))
        uv_close((uv_handle_t *)&w->endt, NULL);
    uv_mutex_lock(&w->kick_mu);
    if (!w->async_closed) {
        w->async_closed = 1;
        uv_close((uv_handle_t *)&w->async, NULL);
    }
    uv_mutex_unlock(&w->kick_mu);
}

/* The end of the run for this loop: no new requests; connections close
 * once their answers are in. */
static void end_run(bench_worker_t *w)
{
    if (w->ended)
        return;
    w->ended = 1;
    uv_timer_stop(&w->endt);
    for (unsigned i = 0; i < w->nconns; i++)
        if (w->conns[i].kind != BK_SUB)
            bconn_finish(&w->conns[i]);
    maybe_end(w);
}

static void on_end(uv_timer_t *t)
{
    end_run(t->data);
}

static void on_async(uv_async_t *a)
{
    bench_worker_t *w = a->data;
    bench_run_t *r = w->run;
    if (atomic_load(&r->stop) >= 2) {
        /* Ctrl-C: close everything now, answers or not */
        w->ended = 1;
        for (unsigned i = 0; i < w->nconns; i++) {
            bconn_t *c = &w->conns[i];
            mark_finished(c);
            bconn_pace_stop(c);
            bconn_drop(c, 0);
        }
        maybe_end(w);
        return;
    }
    if (atomic_load(&r->stop) == 1) {
        /* the run stalled: end as at the end of -d */
        end_run(w);
        return;
    }
    if (!w->go && atomic_load(&r->t0)) {
        w->go = 1;
        uint64_t end = atomic_load(&r->end), now = bench_now();
        if (end)
            uv_timer_start(&w->endt, on_end, end > now ? (end - now + 999999) / 1000000 : 0, 0);
        for (unsigned i = 0; i < w->nconns; i++) {
            bconn_t *c = &w->conns[i];
            if (c->state == BC_OPEN && c->kind != BK_SUB)
                bconn_pace_at(c, now);
        }
    }
    if (atomic_load(&r->subs_stop)) {
        for (unsigned i = 0; i < w->nconns; i++) {
            bconn_t *c = &w->conns[i];
            if (c->kind == BK_SUB && !c->finished) {
                mark_finished(c);
                bench_sub_stop(c);
            }
        }
    }
}

void bench_worker_kick(bench_worker_t *w)
{
    uv_mutex_lock(&w->kick_mu);
    if (!w->async_closed)
        uv_async_send(&w->async);
    uv_mutex_unlock(&w->kick_mu);
}

/* Which loop runs ingest connection i, and subscriber i. Tail with two
 * loops or more: the posting connections on loop 0 alone, the subscribers
 * on the others. A loop that read subscribers too read a POST's answer
 * only after the fan-out it caused (tens of subscribers' messages per
 * POST, every read of them first): each round trip grew with the
 * subscribers, and with 100 the posting fell a whole warmup behind its
 * schedule ("sent":0). */
static unsigned ingest_worker(const bench_run_t *r, unsigned i)
{
    return r->o.mode == BENCH_TAIL && r->nworkers > 1 ? 0 : i % r->nworkers;
}

static unsigned sub_worker(const bench_run_t *r, unsigned i)
{
    return r->nworkers > 1 ? 1 + i % (r->nworkers - 1) : 0;
}

bench_worker_t *bench_worker_new(bench_run_t *r, unsigned index)
{
    bench_worker_t *w = xcalloc(1, sizeof *w);
    w->run = r;
    w->index = index;
    bench_hist_init(&w->st.lat);
    bench_hist_init(&w->st.e2e);
    unsigned n = 0, subs = r->o.mode == BENCH_TAIL ? r->o.subscribers : 0;
    for (unsigned i = 0; i < r->o.conns; i++)
        n += ingest_worker(r, i) == index;
    for (unsigned i = 0; i < subs; i++)
        n += sub_worker(r, i) == index;
    w->conns = xcalloc(n ? n : 1, sizeof *w->conns);
    w->heap = xcalloc(n ? n : 1, sizeof *w->heap);
    w->tfd = -1;
    enum bconn_kind kind = r->o.mode == BENCH_SYSLOG_UDP   ? BK_UDP
                           : r->o.mode == BENCH_SYSLOG_TCP ? BK_STREAM
                           : r->o.mode == BENCH_TCP        ? BK_STREAM
                           : r->o.mode == BENCH_TCP_ACK    ? BK_ACK
                                                           : BK_HTTP;
    for (unsigned i = 0; i < r->o.conns; i++) {
        if (ingest_worker(r, i) != index)
            continue;
        bconn_t *c = &w->conns[w->nconns++];
        c->kind = kind;
        c->index = i;
    }
    for (unsigned i = 0; i < subs; i++) {
        if (sub_worker(r, i) != index)
            continue;
        bconn_t *c = &w->conns[w->nconns++];
        c->kind = BK_SUB;
        c->index = i;
    }
    int ingest = 0;
    for (unsigned i = 0; i < w->nconns; i++) {
        bconn_t *c = &w->conns[i];
        c->w = w;
        c->udp_fd = -1;
        c->heap_i = BENCH_NO_HEAP;
        c->state = BC_DOWN;
        if (c->kind != BK_SUB)
            ingest++;
        if (c->kind == BK_ACK)
            c->batches = xcalloc(r->o.inflight, sizeof *c->batches);
    }
    atomic_init(&w->st.ingest_open, ingest);
    w->pending = w->nconns;
    uv_mutex_init(&w->kick_mu);
    return w;
}

void bench_worker_free(bench_worker_t *w)
{
    if (!w)
        return;
    for (unsigned i = 0; i < w->nconns; i++) {
        bconn_t *c = &w->conns[i];
        buf_free(&c->out);
        buf_free(&c->line);
        buf_free(&c->hs);
        free(c->batches);
    }
    uv_mutex_destroy(&w->kick_mu);
    free(w->heap);
    free(w->conns);
    free(w);
}

void bench_worker_main(void *arg)
{
    bench_worker_t *w = arg;
    uv_loop_init(&w->loop);
    uv_async_init(&w->loop, &w->async, on_async);
    w->async.data = w;
    uv_timer_init(&w->loop, &w->endt);
    w->endt.data = w;
    w->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (w->tfd < 0 || uv_poll_init(&w->loop, &w->tpoll, w->tfd)) {
        /* without it nothing would ever be sent */
        fprintf(stderr, "logship bench: cannot make a timer: %s\n", strerror(errno));
        exit(CLI_EXIT_FAIL);
    }
    w->tpoll.data = w;
    w->tpoll_open = 1;
    uv_poll_start(&w->tpoll, UV_READABLE, on_tick);
    for (unsigned i = 0; i < w->nconns; i++) {
        bconn_t *c = &w->conns[i];
        uv_timer_init(&w->loop, &c->guard);
        c->guard.data = c;
        c->backoff_ms = BACKOFF_MIN_MS;
    }
    if (!w->nconns)
        atomic_fetch_add(&w->run->ready, 1);
    for (unsigned i = 0; i < w->nconns; i++)
        start_connect(&w->conns[i]);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_loop_close(&w->loop);
    if (w->tfd >= 0)
        close(w->tfd);
    atomic_fetch_add(&w->run->finished, 1);
}
