/* client.h - liblogship's internals shared by its files: the logger, the
 * background thread's state, and the module interfaces (the batches it sends
 * are in cbatch.h).
 *
 *   logship.c  public API: options, the log calls (producers), flush,
 *              close, stats, fork handling
 *   queue.c    the bounded MPSC ring the log calls write into
 *   sender.c   the background thread: batching, connection, acks, backoff
 *   cbatch.c   the batches it sends (cbatch.h)
 *   spool.c    overflow files that outlive the process
 *   proto.c    the lines of the acknowledged TCP protocol (pure)
 *   format.c   JSON lines and echo lines (pure)
 */
#ifndef LOGSHIP_CLIENT_H
#define LOGSHIP_CLIENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "../../include/logship.h"
#include "../common/tls_client.h"
#include "cbatch.h"
#include "cbuf.h"
#include "format.h"
#include "queue.h"

struct spool;

/* What the background thread owns (touched by other threads only under
 * smu, and in the fork handlers). */
typedef struct sender {
    /* the unacknowledged batches, oldest first; `await` is the next one to
     * be answered on this connection, `send` the next to write (soff bytes
     * of it written) */
    cbatch_t *head, *tail, *await, *send;
    size_t nlist;
    size_t soff;
    int begun;            /* `send`'s header is made and its first write was tried: the
                             bytes offered must be offered again (TLS wants that) */
    unsigned inflight;    /* written and not answered on this connection */
    int64_t resend_at;    /* after a nack: when to send again (mono ns) */
    unsigned addr_index;  /* which resolved address to try next */
    unsigned naddrs;      /* how many the name resolved to, last time */
    unsigned round_tried; /* addresses that failed in this attempt (sender.c) */
    char peer[64];        /* the address being tried or used: "127.0.0.1:5170" */
    cbatch_t *building;
    int careful;  /* after a nack: one batch in flight until an ack */
    int draining; /* after a nack: wait for every answer, then resend */

    int fd;    /* the connection, -1 when none */
    SSL *ssl;  /* tls://: the session on fd */
    int want;  /* tls://: TLS_CLIENT_WANT_* the handshake waits for */
    int rwant; /* tls://: a read waits for POLLOUT */
    int state; /* SS_* in sender.c */
    cproducer_t *conn_prod;
    int64_t deadline; /* connect / hello deadline (mono ns) */
    int64_t retry_at; /* next connect attempt (mono ns) */
    int backoff_ms;
    int64_t last_rx; /* last byte received (mono ns) */
    cbuf_t in;       /* a partial reply line */
    uint32_t rng;

    char *stage; /* raw slots copied from the queue */
    size_t stage_cap;
    cbuf_t echo;
    uint64_t echo_pos;
    uint64_t reported_drops;
    int64_t last_activity;

    struct spool *spool;
} sender_t;

struct logship {
    queue_t q;
    int level_max;
    logship_overflow_t overflow;
    int block_timeout_ms;
    size_t max_msg;
    size_t max_body; /* largest record in the queue */
    int position_mode;
    _Atomic unsigned fork_gen; /* g_fork_gen when this logger's thread was started */

    /* options, owned copies */
    char *host, *port, *app, *hostname, *topic, *pattern, *spool_dir;
    SSL_CTX *tls; /* tls://: made by logship_open(), NULL for tcp:// */
    char **fkeys, **fvals;
    size_t nfields;
    int echo;
    int linger_ms, backoff_min_ms, backoff_max_ms, connect_timeout_ms, ack_timeout_ms;
    int close_timeout_ms;
    size_t batch_bytes, spool_bytes;
    unsigned batch_records, max_inflight;

    format_ctx_t fmt;
    cproducer_t own;

    pthread_t thread;
    int thread_started;
    int wake_fd; /* eventfd: flush, close and blocked producers wake the sender */
    pthread_mutex_t smu;
    sender_t s;

    /* sender -> callers */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    _Atomic uint64_t done_pos; /* queue positions below it are resolved */
    _Atomic int flush_req;
    _Atomic int stop;
    int running;         /* under mu: the thread is in its loop */
    int hello_seen;      /* under mu */
    uint64_t server_pos; /* under mu: last_batch of the last hello */
    int link;            /* under mu: the latest attempt: 0 none ended yet, 1 up, -1 failed */
    char link_why[192];  /* under mu: why it failed */

    /* counters (logship_stats) */
    _Atomic uint64_t n_queued, n_acked, n_drop_newest, n_drop_oldest, n_drop_timeout;
    _Atomic uint64_t n_batches_acked, n_batches_dup, n_batches_resent, n_nacks;
    _Atomic uint64_t n_connects, n_connect_failures, n_spooled, n_lost;
    _Atomic size_t spool_used;
    _Atomic int spool_room; /* the spool takes more: a full queue waits for it */
    _Atomic int connected;

    struct logship *list_next; /* all loggers, for the fork handlers */
};

/* sender.c */
/* Starts the thread; it owns spool (may be NULL) from now on. */
int sender_start(logship_t *lg, struct spool *spool);
/* Asks the thread to finish (spooling what is left) and joins it. */
void sender_stop(logship_t *lg);
/* Frees what the thread owned (after sender_stop, or in a fork child). */
void sender_free(logship_t *lg);
/* Wakes the thread (any thread; a system call). */
void sender_wake(logship_t *lg);

/* proto.c: the acknowledged raw TCP protocol (docs/PROTOCOL.md). */
typedef struct reply {
    enum { REPLY_HELLO, REPLY_ACK, REPLY_NACK, REPLY_ERROR } kind;
    uint64_t batch, first_seq, last_seq, last_batch;
    int duplicate;
    char error[128];
} reply_t;
/* Parses one reply line (without its newline). Returns 0, or -1 when it is
 * not a reply this client understands. Pure: fuzzed by fuzz_client_reply. */
int proto_parse_reply(const char *line, size_t n, reply_t *r);
/* The hello line for producer id, newline included, into out (>= 128 bytes);
 * returns its length. */
size_t proto_hello(char *out, size_t cap, const char *id);
/* The header line of batch no with count records; returns its length. */
size_t proto_batch_header(char *out, size_t cap, uint64_t no, uint32_t count);
/* 0 when id is a valid producer id: 1..64 printable ASCII bytes, no spaces. */
int proto_id_check(const char *id);

#endif
