/* bench_sub.c - tail's subscribers in `logship bench`: a WebSocket on
 * /api/tail?n=0&topic=bench.# per subscriber, each record of the run
 * counted and timed from the send time in its tag to its arrival. The
 * frames are read as they come (bench_proto.h), their payload scanned for
 * tags in place (bench_rec.h): no message is put together in memory, so a
 * thousand subscribers cost a few hundred bytes each. Pings are answered.
 */
#include <string.h>

#include "bench_int.h"

#define RELAXED memory_order_relaxed

static inline void add(_Atomic uint64_t *c, uint64_t v)
{
    atomic_store_explicit(c, atomic_load_explicit(c, RELAXED) + v, RELAXED);
}

static void on_sub_written(uv_write_t *req, int status)
{
    bconn_t *c = req->data;
    if (!c->writing)
        return;
    c->writing = 0;
    if (status < 0) {
        bconn_error(c, BE_SEND);
        bconn_drop(c, 1);
    }
}

void bench_sub_open(bconn_t *c)
{
    bench_run_t *r = c->w->run;
    unsigned char raw[16];
    char key[25];
    if (uv_random(NULL, NULL, raw, sizeof raw, 0, NULL))
        memset(raw, (int)c->index, sizeof raw);
    bench_ws_key(raw, key);
    buf_reset(&c->out);
    buf_reset(&c->hs);
    c->nfhead = 0;
    c->fleft = 0;
    c->tags.ncarry = 0;
    bench_ws_request(&c->out, r->authority, r->tail_path, key);
    bconn_guard(c);
    bconn_write(c, on_sub_written);
}

/* A tag in a message: one of the run's records reached this subscriber. */
typedef struct got {
    bconn_t *c;
    uint64_t now;
} got_t;

static void on_tag(void *arg, uint64_t id, uint64_t t)
{
    got_t *g = arg;
    bconn_t *c = g->c;
    bench_run_t *r = c->w->run;
    (void)id;
    add(&r->delivered_all[c->index], 1);
    if (!bench_measured(r, t))
        return;
    add(&r->delivered[c->index], 1);
    bench_hist_record(&c->w->st.e2e, g->now > t ? g->now - t : 0);
}

static void send_ctl(bconn_t *c, int op)
{
    if (c->writing)
        return; /* a pong still going: the next ping is answered */
    buf_reset(&c->out);
    bench_ws_frame_build(&c->out, op, c->ctl, c->nctl, (uint32_t)(c->index * 2654435761u + 1));
    bconn_write(c, on_sub_written);
}

/* The frame just read is whole. 0, or -1 when the connection went. */
static int frame_end(bconn_t *c, int fin)
{
    switch (c->fop) {
    case BENCH_WS_PING:
        send_ctl(c, BENCH_WS_PONG);
        return 0;
    case BENCH_WS_CLOSE:
        /* the server leaves (shutting down, or it closed us): answer,
         * count it, and come back */
        bconn_error(c, BE_CLOSED);
        send_ctl(c, BENCH_WS_CLOSE);
        bconn_drop(c, 1);
        return -1;
    case BENCH_WS_PONG:
        return 0;
    default:
        if (fin)
            c->tags.ncarry = 0; /* a tag never spans two messages */
        return 0;
    }
}

static void frames(bconn_t *c, const char *p, size_t n)
{
    bench_run_t *r = c->w->run;
    got_t g = {c, bench_now()};
    while (n) {
        if (!c->fleft) {
            /* a header, maybe in pieces */
            size_t take = BENCH_WS_HEAD_MAX - c->nfhead;
            if (take > n)
                take = n;
            memcpy(c->fhead + c->nfhead, p, take);
            bench_ws_frame_t f;
            const char *err = NULL;
            int h = bench_ws_frame_parse((const char *)c->fhead, c->nfhead + take, &f, &err);
            if (h < 0) {
                bconn_error(c, BE_PROTO);
                bconn_drop(c, 1);
                return;
            }
            if (h == 0) {
                c->nfhead += take;
                return;
            }
            size_t used = (size_t)h - c->nfhead;
            c->nfhead = 0;
            p += used;
            n -= used;
            /* a continuation keeps its message's opcode */
            if (f.opcode != 0)
                c->fop = f.opcode;
            c->nctl = 0;
            c->fleft = f.len;
            c->fin = f.fin;
            if (!f.len && frame_end(c, f.fin))
                return;
            continue;
        }
        size_t take = n < c->fleft ? n : (size_t)c->fleft;
        if (c->fop >= 0x8) {
            if (c->nctl + take <= sizeof c->ctl) {
                memcpy(c->ctl + c->nctl, p, take);
                c->nctl += take;
            }
        } else {
            bench_tags_feed(&c->tags, r->run, p, take, on_tag, &g);
        }
        p += take;
        n -= take;
        c->fleft -= take;
        if (!c->fleft && frame_end(c, c->fin))
            return;
    }
}

void bench_sub_read(bconn_t *c, const char *p, size_t n)
{
    bench_run_t *r = c->w->run;
    if (n == 0) {
        bconn_error(c, c->state == BC_CONNECTING ? BE_HANDSHAKE : BE_CLOSED);
        bconn_drop(c, 1);
        return;
    }
    if (c->state == BC_CONNECTING) {
        int status = 0;
        size_t before = c->hs.len;
        buf_append(&c->hs, p, n);
        long head = bench_ws_handshake(c->hs.data, c->hs.len, &status);
        if (head == 0)
            return;
        if (head < 0 || status != 101) {
            bconn_error(c, BE_HANDSHAKE);
            bconn_drop(c, 1);
            return;
        }
        uv_timer_stop(&c->guard);
        c->state = BC_OPEN;
        atomic_fetch_add(&r->subs_open, 1);
        bconn_settled(c);
        size_t used = (size_t)head - before;
        buf_reset(&c->hs);
        p += used;
        n -= used;
        if (!n)
            return;
    }
    frames(c, p, n);
}

void bench_sub_stop(bconn_t *c)
{
    bconn_drop(c, 0);
}
