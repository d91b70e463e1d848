/* bench_stream.c - the stream modes of `logship bench`: syslog-tcp and tcp
 * (records back to back, nothing answered), syslog-udp (a datagram each,
 * sendmmsg), tcp-ack (batches answered in order). See bench_int.h.
 *
 * Without answers a record counts as acknowledged when the kernel took its
 * bytes: the write's callback (TCP) or sendmmsg's return (UDP). A server
 * that stops reading fills the socket buffers, writes stop completing, and
 * the records due meanwhile are late by that much.
 */
#define _GNU_SOURCE /* sendmmsg */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "bench_int.h"

#define UDP_BATCH      64
#define REPLY_LINE_MAX (64 * 1024)

/* How many records c may write now, at most `cap`: those due (open loop),
 * else cap. 0 with the pace timer set for the next one. */
static uint64_t due_now(bconn_t *c, uint64_t cap, uint64_t now)
{
    const bench_run_t *r = c->w->run;
    if (r->interval_ns <= 0)
        return cap;
    uint64_t n = 0;
    while (n < cap && bconn_due(c, c->k + n) <= now)
        n++;
    if (!n)
        bconn_pace_at(c, bconn_due(c, c->k));
    return n;
}

/* The records of one write: how many fit in BENCH_WRITE_MAX. */
static uint64_t per_write(const bench_run_t *r)
{
    size_t max = bench_rec_max(&r->rec);
    uint64_t n = BENCH_WRITE_MAX / (max ? max : 1);
    return n ? n : 1;
}

static uint64_t rec_time(const bconn_t *c, uint64_t k, uint64_t now)
{
    return c->w->run->interval_ns > 0 ? bconn_due(c, k) : now;
}

/* Appends records first..first+n-1 (the connection's k on) to c->out;
 * returns how many are measured. */
static uint64_t render(bconn_t *c, uint64_t first, uint64_t n, uint64_t now)
{
    bench_run_t *r = c->w->run;
    uint64_t measured = 0;
    bench_stamp_set(&r->rec, &c->stamp, (int64_t)time(NULL));
    for (uint64_t i = 0; i < n; i++) {
        uint64_t t = rec_time(c, c->k + i, now);
        bench_rec_append(&r->rec, &c->out, first + i, t, &c->stamp);
        if (r->rec.enc == BENCH_ENC_JSON)
            buf_putc(&c->out, '\n');
        measured += bench_measured(r, t);
    }
    return measured;
}

/* Records of the last write (wr_*) are in: count them. */
static void write_done(bconn_t *c, uint64_t now)
{
    if (c->w->run->interval_ns > 0) {
        for (uint64_t i = 0; i < c->wr_n; i++)
            bconn_acked(c, c->wr_first_id + i, 1, bconn_due(c, c->wr_k + i), now);
    } else {
        bconn_acked(c, c->wr_first_id, c->wr_n, c->wr_t, now);
    }
    c->wr_n = 0;
}

/* ---- syslog-tcp, tcp -------------------------------------------------------- */

static void on_stream_written(uv_write_t *req, int status)
{
    bconn_t *c = req->data;
    if (!c->writing)
        return;
    c->writing = 0;
    uv_timer_stop(&c->guard);
    if (status < 0) {
        bconn_error(c, BE_SEND);
        bconn_drop(c, 1);
        return;
    }
    write_done(c, bench_now());
    bconn_next(c);
}

static void stream_pace(bconn_t *c)
{
    bench_run_t *r = c->w->run;
    if (!bconn_may_send(c) || c->writing)
        return;
    uint64_t now = bench_now(), want = due_now(c, per_write(r), now);
    if (!want)
        return;
    uint64_t first, n = bench_claim(r, want, now, &first);
    if (!n) {
        bconn_finish(c);
        return;
    }
    buf_reset(&c->out);
    uint64_t measured = render(c, first, n, now);
    c->wr_k = c->k;
    c->wr_n = n;
    c->wr_t = now;
    c->wr_first_id = first;
    c->k += n;
    bconn_sent(c, measured, c->out.len);
    /* a write that does not complete within --timeout: the server stopped
     * reading for that long */
    bconn_guard(c);
    bconn_write(c, on_stream_written);
}

/* ---- syslog-udp ------------------------------------------------------------- */

static void udp_pace(bconn_t *c)
{
    bench_run_t *r = c->w->run;
    if (!bconn_may_send(c))
        return;
    uint64_t now = bench_now();
    if (!c->wr_n) {
        /* new datagrams; a batch sendmmsg did not take in full is sent
         * first (its records keep their ids and times) */
        uint64_t want = due_now(c, UDP_BATCH, now);
        if (!want)
            return;
        uint64_t first, n = bench_claim(r, want, now, &first);
        if (!n) {
            bconn_finish(c);
            return;
        }
        c->wr_k = c->k;
        c->wr_n = n;
        c->wr_t = now;
        c->wr_first_id = first;
        c->k += n;
    }
    size_t ends[UDP_BATCH];
    struct mmsghdr msgs[UDP_BATCH];
    struct iovec iov[UDP_BATCH];
    uint64_t n = c->wr_n;
    buf_reset(&c->out);
    bench_stamp_set(&r->rec, &c->stamp, (int64_t)time(NULL));
    for (uint64_t i = 0; i < n; i++) {
        bench_rec_append(&r->rec, &c->out, c->wr_first_id + i, rec_time(c, c->wr_k + i, now),
                         &c->stamp);
        ends[i] = c->out.len;
    }
    memset(msgs, 0, sizeof msgs[0] * n);
    for (uint64_t i = 0; i < n; i++) {
        size_t start = i ? ends[i - 1] : 0;
        iov[i].iov_base = c->out.data + start;
        iov[i].iov_len = ends[i] - start;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int sent = sendmmsg(c->udp_fd, msgs, (unsigned)n, MSG_DONTWAIT);
    if (sent < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
            bconn_poll_writable(c);
            return;
        }
        /* ECONNREFUSED: an ICMP from an earlier datagram, nobody listens */
        bconn_error(c, errno == ECONNREFUSED ? BE_CONNECT : BE_SEND);
        bconn_pace_at(c, now + 100 * 1000000);
        return;
    }
    uint64_t done = (uint64_t)sent, measured = 0;
    now = bench_now();
    for (uint64_t i = 0; i < done; i++)
        measured += bench_measured(r, rec_time(c, c->wr_k + i, c->wr_t));
    bconn_sent(c, measured, done ? ends[done - 1] : 0);
    uint64_t left = n - done;
    c->wr_n = done;
    write_done(c, now);
    if (left) {
        c->wr_first_id += done;
        c->wr_k += done;
        c->wr_n = left;
        bconn_poll_writable(c);
        return;
    }
    /* the next batch on the next turn of the loop, not by recursion (nor
     * by a 0 ms timer: libuv 1.44 runs a timer re-armed for now again in
     * the same turn, and the loop would never look at anything else) */
    bconn_poll_writable(c);
}

/* ---- tcp-ack ---------------------------------------------------------------- */

static void on_ack_written(uv_write_t *req, int status)
{
    bconn_t *c = req->data;
    if (!c->writing)
        return;
    c->writing = 0;
    if (status < 0) {
        bconn_error(c, BE_SEND);
        bconn_drop(c, 1);
        return;
    }
    bconn_next(c);
}

static void ack_hello(bconn_t *c)
{
    bench_run_t *r = c->w->run;
    buf_reset(&c->out);
    /* one producer per connection; its batch numbers go on across
     * reconnects, so each id stays one numbering sequence */
    buf_printf(&c->out, "{\"logship\":\"hello\",\"version\":1,\"producer\":\"lsb-%s-%u\"}\n",
               r->run, c->index);
    bconn_guard(c);
    bconn_write(c, on_ack_written);
}

static void ack_pace(bconn_t *c)
{
    bench_run_t *r = c->w->run;
    if (!bconn_may_send(c) || c->writing || c->nbatch >= r->o.inflight)
        return;
    uint64_t per = r->o.batch, now = bench_now(), t = now;
    if (r->interval_ns > 0) {
        t = bconn_due(c, c->k + per - 1);
        if (t > now) {
            bconn_pace_at(c, t);
            return;
        }
    }
    uint64_t first, n = bench_claim(r, per, t, &first);
    if (!n) {
        bconn_finish(c);
        return;
    }
    buf_reset(&c->out);
    buf_printf(&c->out, "{\"logship\":\"batch\",\"batch\":%llu,\"count\":%llu}\n",
               (unsigned long long)++c->batch_no, (unsigned long long)n);
    for (uint64_t i = 0; i < n; i++) {
        bench_rec_append(&r->rec, &c->out, first + i, rec_time(c, c->k + i, now), NULL);
        buf_putc(&c->out, '\n');
    }
    c->k += n;
    bench_batch_t *b = &c->batches[(c->head + c->nbatch) % r->o.inflight];
    b->no = c->batch_no;
    b->first_id = first;
    b->n = n;
    b->t = t;
    if (!c->nbatch++)
        bconn_guard(c);
    bconn_sent(c, bench_measured(r, t) ? n : 0, c->out.len);
    bconn_write(c, on_ack_written);
}

/* One reply line. Returns 0, or -1 after dropping the connection. */
static int ack_line(bconn_t *c, const char *p, size_t n)
{
    bench_run_t *r = c->w->run;
    bench_ack_t a;
    if (bench_ack_parse(p, n, &a)) {
        bconn_error(c, BE_PROTO);
        bconn_drop(c, 1);
        return -1;
    }
    if (c->state == BC_CONNECTING) {
        if (a.kind != BENCH_REPLY_HELLO) {
            bconn_error(c, BE_HANDSHAKE);
            bconn_drop(c, 1);
            return -1;
        }
        uv_timer_stop(&c->guard);
        c->state = BC_OPEN;
        bconn_settled(c);
        return 0;
    }
    if (a.kind == BENCH_REPLY_ERROR || a.kind == BENCH_REPLY_HELLO || !c->nbatch ||
        a.batch != c->batches[c->head].no) {
        /* refused, or not the answer to the oldest batch */
        bconn_error(c, a.kind == BENCH_REPLY_ERROR ? BE_NACK : BE_PROTO);
        bconn_drop(c, 1);
        return -1;
    }
    bench_batch_t *b = &c->batches[c->head];
    c->head = (c->head + 1) % r->o.inflight;
    c->nbatch--;
    if (a.kind == BENCH_REPLY_ACK)
        bconn_acked(c, b->first_id, b->n, b->t, bench_now());
    else
        bconn_error(c, BE_NACK);
    if (c->nbatch)
        bconn_guard(c);
    else
        uv_timer_stop(&c->guard);
    return 0;
}

static void ack_read(bconn_t *c, const char *p, size_t n)
{
    if (n == 0) {
        if (c->nbatch || c->state == BC_CONNECTING)
            bconn_error(c, BE_CLOSED);
        bconn_drop(c, 1);
        return;
    }
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t k = nl ? (size_t)(nl - p) : n;
        if (c->line.len + k > REPLY_LINE_MAX) {
            bconn_error(c, BE_PROTO);
            bconn_drop(c, 1);
            return;
        }
        if (!nl) {
            buf_append(&c->line, p, k);
            return;
        }
        int rc;
        if (c->line.len) {
            buf_append(&c->line, p, k);
            rc = ack_line(c, c->line.data, c->line.len);
            buf_reset(&c->line);
        } else {
            rc = ack_line(c, p, k);
        }
        if (rc)
            return;
        p += k + 1;
        n -= k + 1;
    }
    if (!c->writing)
        bconn_next(c);
}

/* ---- the mode's entry points ------------------------------------------------ */

void bench_stream_open(bconn_t *c)
{
    if (c->kind == BK_ACK) {
        ack_hello(c);
        return;
    }
    bconn_next(c);
}

void bench_stream_pace(bconn_t *c)
{
    switch (c->kind) {
    case BK_UDP:
        udp_pace(c);
        break;
    case BK_ACK:
        ack_pace(c);
        break;
    default:
        stream_pace(c);
        break;
    }
}

void bench_stream_read(bconn_t *c, const char *p, size_t n)
{
    if (c->kind == BK_ACK) {
        ack_read(c, p, n);
        return;
    }
    /* nothing is answered in these modes: what comes is ignored, but the
     * server closing the connection is counted */
    if (n == 0) {
        bconn_error(c, BE_CLOSED);
        bconn_drop(c, 1);
    }
}
