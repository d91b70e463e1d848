/* bench_int.h - the inside of `logship bench`, shared by its files:
 *
 *   bench.c         the command: options, the threads, the progress line,
 *                   Ctrl-C, the summary (text or --json), --verify's verdict
 *   bench_run.c     one event loop per thread: its connections, connecting
 *                   and reconnecting, pacing, the end of the run
 *   bench_http.c    the HTTP modes (http, json, ndjson; tail's posting)
 *   bench_stream.c  syslog-udp, syslog-tcp, tcp, tcp-ack
 *   bench_sub.c     tail's WebSocket subscribers
 *   bench_verify.c  --verify: the records a query finds against the acked ones
 *
 * Timeline of a run (monotonic ns): t0 when every loop has its connections
 * up (or tried), warm_end = t0 + --warmup, end = warm_end + --duration (0
 * with -n alone). Requests are started until end or until -n is used up;
 * then each loop waits for the answers still owed (at most --timeout each)
 * and closes. A record is measured (sent, acked, latency) when its time,
 * intended (open loop) or actual (closed loop), is at or after warm_end.
 *
 * Open loop (--rate): connection i sends record k at
 *   t0 + (k + i / conns) * conns / rate
 * whatever happened before, and latency counts from that intended time: a
 * server that stalls makes every record due meanwhile late, and the
 * percentiles show it (no coordinated omission). A batch (ndjson, tcp-ack,
 * tail's posts) is due when its last record is. The deadlines are kept in
 * a heap per loop on one timerfd (ns; libuv's timers are ms, which an open
 * loop against a fast server would mostly measure): a send leaves within
 * the kernel's timer slack (~50 us) of its time, and any delay beyond is
 * in the latency, not hidden.
 *
 * Threads: the main thread only reads what the loops write (relaxed
 * atomics, one writer each) and tells them to stop through uv_async; a
 * loop touches nothing of another. Tail with two loops or more: the
 * posting connections on loop 0, the subscribers on the others (so a
 * POST's answer is not read after its fan-out), and a tail POST behind
 * its schedule carries every record due by then, in whole batches, up to
 * 5,000 records (bench_http.c). Ids come from one atomic counter, taken
 * per request or batch (not per record), as does -n's budget.
 *
 * Bounds: one request in flight per HTTP connection; one write in flight
 * per stream connection, of at most BENCH_WRITE_MAX bytes of records (or
 * one batch); tcp-ack: --inflight batches. Memory does not grow with -n or
 * the duration, but for --verify's bit per record.
 */
#ifndef LOGSHIP_CLI_BENCH_INT_H
#define LOGSHIP_CLI_BENCH_INT_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "../common/buf.h"
#include "bench_hist.h"
#include "bench_opts.h"
#include "bench_proto.h"
#include "bench_rec.h"

#define BENCH_WRITE_MAX (64 * 1024) /* bytes of stream records per write */
#define BENCH_READ_MAX  (64 * 1024) /* one read, per loop */

/* What went wrong, counted by kind. */
enum bench_err {
    BE_CONNECT,   /* a connection could not be made */
    BE_TIMEOUT,   /* no answer within --timeout */
    BE_CLOSED,    /* the server closed or reset a connection that owed answers */
    BE_PROTO,     /* an answer that does not parse */
    BE_HTTP,      /* an HTTP status other than 2xx (by status in status[]) */
    BE_NACK,      /* tcp-ack: a batch refused */
    BE_HANDSHAKE, /* tail: the WebSocket was refused */
    BE_SEND,      /* a write or send failed */
    BE_NKINDS
};
extern const char *const bench_err_names[BE_NKINDS];

#define BENCH_STATUS_MAX 1000

/* One loop's counts: written by its thread only, read by main. */
typedef struct bench_stats {
    _Atomic uint64_t sent, acked, bytes; /* measured records, and bytes written */
    _Atomic uint64_t acked_all;          /* warmup included: tail's drain, -n */
    _Atomic uint64_t errors[BE_NKINDS];
    _Atomic uint64_t status[BENCH_STATUS_MAX]; /* BE_HTTP by status */
    _Atomic uint64_t last_ns;                  /* the latest answer or write completed */
    _Atomic int ingest_open;                   /* ingest connections not yet done */
    bench_hist_t lat;                          /* request (or write) latency */
    bench_hist_t e2e;                          /* tail: send time -> receipt */
} bench_stats_t;

/* --verify's record of what was acknowledged: a bit per id, in chunks made
 * when first needed. Bits are set from any thread. */
#define BENCH_BITS_CHUNK_SHIFT 24 /* 16 Mi ids (2 MiB) per chunk */
#define BENCH_BITS_CHUNKS      4096
typedef struct bench_bits {
    _Atomic(_Atomic uint64_t *) chunk[BENCH_BITS_CHUNKS];
} bench_bits_t;
void bench_bits_set(bench_bits_t *b, uint64_t id);
int bench_bits_get(const bench_bits_t *b, uint64_t id);
/* The 64 bits of ids 64*i .. 64*i+63. */
uint64_t bench_bits_word(const bench_bits_t *b, uint64_t i);
void bench_bits_free(bench_bits_t *b);

typedef struct bench_run bench_run_t;
typedef struct bench_worker bench_worker_t;

struct bench_run {
    bench_opts_t o;
    char run[BENCH_RUN_LEN + 1];
    bench_rec_t rec; /* the ingest's encoding */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char authority[300];  /* HTTP Host: */
    char log_path[1100];  /* [prefix]/api/log */
    char tail_path[1200]; /* [prefix]/api/tail?n=0&q=lsb_<run> */
    double interval_ns;   /* open loop: between records on one connection; 0 closed */

    _Atomic uint64_t t0, warm_end, end; /* set by main before "go" */
    _Atomic uint64_t next_id;           /* the last id given out */
    _Atomic uint64_t budget;            /* -n: records left to give out */
    _Atomic int stop;                   /* 1: no new requests; 2: close now (Ctrl-C) */
    _Atomic int subs_stop;              /* tail: ingest is over and drained */
    bench_bits_t *acked;                /* --verify */
    _Atomic uint64_t *delivered;        /* tail: per subscriber, measured records */
    _Atomic uint64_t *delivered_all;    /* ... and all of this run's */
    _Atomic unsigned subs_open;         /* subscribers whose handshake is done */

    bench_worker_t **workers;
    unsigned nworkers;
    _Atomic unsigned ready;    /* loops whose connections are up or tried */
    _Atomic unsigned finished; /* loops that ended */
};

/* The time now (uv_hrtime: monotonic ns). */
uint64_t bench_now(void);
/* Takes ids for n records (fewer near the end of -n's budget; 0 when it
 * is used up or the run stops). t is the time they count by
 * (bench_measured): only measured records take from the budget, so a run
 * behind its schedule still measures -n records. Returns how many; *first
 * is the first id. */
uint64_t bench_claim(bench_run_t *r, uint64_t n, uint64_t t, uint64_t *first);
/* 1 when record time t counts (at or after the warmup). */
static inline int bench_measured(const bench_run_t *r, uint64_t t)
{
    return t >= atomic_load_explicit(&r->warm_end, memory_order_relaxed);
}

/* ---- a loop and its connections (bench_run.c) ------------------------------- */

enum bconn_kind { BK_HTTP, BK_STREAM, BK_UDP, BK_ACK, BK_SUB };

enum bconn_state {
    BC_DOWN,       /* not connected: a reconnect is due on the timer */
    BC_CONNECTING, /* connect (and for tcp-ack the hello, for a subscriber the handshake) */
    BC_OPEN,
    BC_DONE, /* nothing more to send: closed, or closing */
};

/* An outstanding tcp-ack batch. */
typedef struct bench_batch {
    uint64_t no, first_id, n, t; /* t: its intended or send time */
} bench_batch_t;

typedef struct bconn {
    bench_worker_t *w;
    enum bconn_kind kind;
    enum bconn_state state;
    unsigned index; /* among the run's connections of its kind */
    uv_tcp_t tcp;
    int udp_fd; /* BK_UDP */
    uv_poll_t poll;
    int handle_open; /* tcp (or poll) handle initialised and not closed */
    int closing;     /* uv_close called, callback pending */
    uv_connect_t creq;
    uv_write_t wreq;
    int writing; /* a write is in flight */
    uv_timer_t guard;
    uint64_t pace_due; /* when the pace is due (the loop's heap of deadlines) */
    unsigned heap_i;   /* its place in that heap, or BENCH_NO_HEAP */
    buf_t out;         /* bytes being written */
    uint64_t k;        /* open loop: records scheduled so far */
    unsigned backoff_ms;
    int settled;  /* its first attempt is over (connected and greeted, or failed) */
    int finished; /* the run is over for it: close once nothing is owed */
    int done;     /* closed for good, every answer it was owed in */

    /* BK_HTTP: the request in flight */
    bench_http_reader_t rd;
    int busy;
    uint64_t req_first, req_n, req_t;

    /* BK_STREAM, BK_UDP: the write in flight */
    uint64_t wr_k, wr_n, wr_t; /* its first record's k, records, start (closed loop) */
    uint64_t wr_first_id;
    bench_stamp_t stamp;

    /* BK_ACK */
    bench_batch_t *batches; /* ring of --inflight */
    unsigned nbatch, head;
    uint64_t batch_no;
    buf_t line; /* a reply line being read */

    /* BK_SUB */
    buf_t hs; /* handshake bytes so far */
    unsigned char fhead[BENCH_WS_HEAD_MAX];
    size_t nfhead;
    uint64_t fleft; /* payload bytes left in the frame */
    int fop;        /* opcode of the frame (or message) being read */
    int fin;        /* ... and whether it ends its message */
    char ctl[128];  /* a control frame's payload */
    size_t nctl;
    bench_tag_stream_t tags;
} bconn_t;

#define BENCH_NO_HEAP UINT32_MAX

struct bench_worker {
    bench_run_t *run;
    unsigned index;
    uv_loop_t loop;
    uv_thread_t thread;
    uv_async_t async;
    uv_mutex_t kick_mu; /* main's uv_async_send() against the async's close */
    int async_closed;
    uv_timer_t endt;
    /* pacing: a heap of each connection's next deadline on one timerfd, in
     * ns (libuv's timers are in ms, and an open loop would measure them) */
    int tfd;
    uv_poll_t tpoll;
    int tpoll_open;
    bconn_t **heap;
    unsigned nheap;
    uint64_t armed; /* the deadline the timerfd is set for, 0 none */
    int in_tick;    /* deadlines being run: set the timerfd once after */
    int ended;      /* the end timer fired or stop was asked */
    bconn_t *conns;
    unsigned nconns;
    unsigned pending; /* connections still to connect before "ready" */
    int go;           /* t0 is set: send */
    char rbuf[BENCH_READ_MAX];
    bench_stats_t st;
};

/* Runs worker w's loop to the end of the run (its thread's body). */
void bench_worker_main(void *arg);
/* Makes w with its share of the run's connections (not started). */
bench_worker_t *bench_worker_new(bench_run_t *r, unsigned index);
void bench_worker_free(bench_worker_t *w);
/* Wakes w's loop to look at the run's flags (go, stop, subs_stop). Any
 * thread. */
void bench_worker_kick(bench_worker_t *w);

/* For the mode files: */
void bconn_error(bconn_t *c, enum bench_err e);
/* Closes c's connection; with reconnect it is made again after a backoff
 * (unless the run is over for it), with what was owed on it lost. */
void bconn_drop(bconn_t *c, int reconnect);
/* c's first attempt is over: connected (and greeted, for tcp-ack and
 * subscribers) or failed. The loop is ready when all its connections are. */
void bconn_settled(bconn_t *c);
/* What a mode does when an answer (or write) completed: close c when it is
 * finished and nothing is owed, else send what is due. */
void bconn_next(bconn_t *c);
/* Starts writing c->out (one write in flight); 0, or -1 after a failure
 * was counted and the connection dropped. */
int bconn_write(bconn_t *c, uv_write_cb cb);
/* Arms c's guard timer: --timeout from now, then the connection is
 * dropped as timed out. uv_timer_stop(&c->guard) disarms it. */
void bconn_guard(bconn_t *c);
/* UDP: calls the mode's pace again once the socket is writable. */
void bconn_poll_writable(bconn_t *c);
/* c's pace (the mode's, or a reconnect) at time t (ns, monotonic); replaces
 * the one set before. */
void bconn_pace_at(bconn_t *c, uint64_t t);
/* Forgets c's pace. */
void bconn_pace_stop(bconn_t *c);
/* The intended time of c's record k (open loop). */
uint64_t bconn_due(const bconn_t *c, uint64_t k);
/* Notes that c will send no more: closes it when nothing is owed. */
void bconn_finish(bconn_t *c);
/* 1 when something is owed on c (an answer, a write). */
int bconn_owed(const bconn_t *c);
/* 1 when c may start sending (the run said go, and did not say stop). */
int bconn_may_send(const bconn_t *c);
/* Counts records acknowledged by an answer at time now, meant for time t
 * (open loop) or sent at t (closed), with ids first..first+n-1. */
void bconn_acked(bconn_t *c, uint64_t first, uint64_t n, uint64_t t, uint64_t now);
/* Counts records written: measured of them count as sent, bytes all. */
void bconn_sent(bconn_t *c, uint64_t measured, size_t bytes);

/* The mode files: each reacts to its connection's events. */
void bench_http_open(bconn_t *c);                          /* connected */
void bench_http_pace(bconn_t *c);                          /* pace timer, or may send now */
void bench_http_read(bconn_t *c, const char *p, size_t n); /* n == 0: closed */
void bench_stream_open(bconn_t *c);
void bench_stream_pace(bconn_t *c);
void bench_stream_read(bconn_t *c, const char *p, size_t n);
void bench_sub_open(bconn_t *c);
void bench_sub_read(bconn_t *c, const char *p, size_t n);
void bench_sub_stop(bconn_t *c);

/* ---- --verify (bench_verify.c) ---------------------------------------------- */

typedef struct bench_verdict {
    uint64_t acked, found, missing, doubled, unacked_found;
    uint64_t missing_ids[10], doubled_ids[10]; /* the first ones */
    char error[512];                           /* the query failed: why */
} bench_verdict_t;

/* Queries r->o.server for this run's records and compares them with the
 * acked ones (ids 1..last_id). Modes without answers get up to wait_s for
 * the server to store what it read. Returns 0 with v filled, or -1 with
 * v->error. */
int bench_verify(const bench_run_t *r, uint64_t last_id, double wait_s, bench_verdict_t *v);

#endif
