/* stream.h - TCP listeners for the line-based inputs (syslog over TCP, raw
 * TCP): accepting, connection limits, idle timeouts, reading and
 * backpressure, shared so each protocol only turns bytes into records.
 *
 * Backpressure: when the store falls behind (store_backlogged) or fails,
 * every connection of every stream listener stops reading, so the kernel's
 * buffers fill and senders slow down; memory stays bounded.
 *
 * Who may connect: a listener started with an allow list (--allow) takes
 * connections and datagrams only from addresses in it; the others are
 * closed at once (TCP) or dropped (UDP) before a byte is read, and counted
 * (ingest_stats_t.denied). An empty list takes anyone.
 *
 * Nothing read is dropped: a connection keeps a copy of the records it
 * appended until the store reports them durable (at most STREAM_UNCONFIRMED
 * bytes; it stops reading beyond that). If their write fails, the copy is
 * appended again, in order, once the store works again; they get new seqs.
 * Only datagrams, which cannot be pushed back, are dropped and counted.
 *
 * Ending on our side (a protocol error, or an answer still owed after the
 * peer's EOF): stream_linger() stops handing input to the protocol (what
 * the peer still sends is read and dropped, whatever the backpressure, so
 * the peer is never stuck writing while we wait to answer), and
 * stream_end() closes once the replies written so far are sent: it shuts
 * our side down and waits for the peer's EOF, at most STREAM_LINGER_MS.
 * Closing at once instead would reset the connection and the peer could
 * lose the last replies (an error, acknowledgements) before reading them.
 *
 * TLS (stream_opts_t.tls: syslog over TLS, raw TCP over TLS): the
 * connection has a session (src/tls/) between libuv's reads and the
 * protocol, and between stream_write() and libuv's writes. Reads land in
 * the session's input buffer (no copy); the plaintext of each read goes
 * to the protocol in the listener's read buffer, as plain reads do, so the
 * protocol cannot tell the difference. Backpressure stops the socket
 * reads the same way; what one read brought (at most TLS_IN_BUF) is still
 * decrypted and handed over. The peer's close_notify is its EOF. A TLS
 * failure ends the connection (the alert is sent) and is counted in the
 * listener's tls_stats_t; the records before it are kept.
 */
#ifndef LOGSHIP_STREAM_H
#define LOGSHIP_STREAM_H

#include <uv.h>

#include "../common/cidr.h"
#include "../common/record.h"
#include "../store/store.h"
#include "../tls/tls.h"
#include "ingest.h"

#define STREAM_READ_BUF    (64u * 1024)
#define STREAM_UNCONFIRMED (1u << 20)
#define STREAM_LINGER_MS   2000

typedef struct stream_listener stream_listener_t;
typedef struct stream_conn stream_conn_t;

typedef struct stream_proto {
    const char *name;      /* "syslog-tcp", "tcp" */
    ingest_stats_t *stats; /* the input's counters, owned by its module */
    size_t state_size;
    /* A connection opened: initialise c->state. */
    void (*open)(stream_conn_t *c);
    /* Bytes arrived: turn them into records with stream_append() (or reply,
     * for acknowledged protocols). Return 0, or -1 to close the connection. */
    int (*data)(stream_conn_t *c, const char *p, size_t n);
    /* The peer closed its side: flush a partial last record. */
    void (*eof)(stream_conn_t *c);
    /* The connection is going away: free c->state. */
    void (*close)(stream_conn_t *c);
    /* Optional: the connection can be written to, before any data: right
     * after open on a plain one, once the handshake is done on TLS (for
     * protocols where the server speaks first). */
    void (*ready)(stream_conn_t *c);
} stream_proto_t;

struct stream_conn {
    uv_tcp_t tcp;
    stream_listener_t *l;
    stream_conn_t *prev, *next;
    int64_t last_active; /* monotonic ns */
    int reading, closing, half_closed;
    int lingering;           /* stream_linger(): input is read and dropped */
    int ending;              /* stream_end(): shutting down, then closing */
    int shut;                /* that shutdown is done: close at the peer's EOF */
    int64_t linger_deadline; /* monotonic ns: close by then */
    uv_shutdown_t shutdown;
    batch_t held;   /* to append when the store can take it, oldest first */
    batch_t unconf; /* appended, not yet durable; valid from unconf_off */
    size_t unconf_off, unconf_count;
    struct inflight *inf_head, *inf_tail;
    int failed;         /* a write of ours failed: re-append once all are answered */
    tls_session_t *tls; /* NULL: plain */
    int ready;          /* proto->ready ran */
    char peer[64];
    void *state;
};

typedef struct stream_opts {
    const char *addr; /* "HOST:PORT" */
    long max_connections;
    int64_t idle_timeout_ns; /* 0: none */
    /* limits of the protocol on the listener, read through stream_opts_of() */
    size_t max_line;
    size_t max_batch_bytes;
    const cidr_list_t *allow; /* copied; NULL or empty: anyone */
    /* TLS: every connection gets a session of tls (NULL: plain), counted in
     * tls_stats; name replaces the protocol's in logs ("syslog-tls") */
    tls_ctx_t *tls;
    tls_stats_t *tls_stats;
    const char *name;
    const void *proto_arg; /* the protocol's own settings (borrowed), or NULL */
} stream_opts_t;

/* Starts listening; returns NULL after logging why not. The bound port (for
 * ADDR:0) is in *port. Loop thread. */
stream_listener_t *stream_listen(uv_loop_t *loop, store_t *store, const stream_proto_t *proto,
                                 const stream_opts_t *o, int *port);
/* Stops accepting (open connections go on). */
void stream_stop_accepting(stream_listener_t *l);
/* Closes everything; the listener frees itself once libuv is done. */
void stream_close(stream_listener_t *l);

store_t *stream_store(const stream_conn_t *c);
/* The options its listener was started with (addr excepted). */
const stream_opts_t *stream_opts_of(const stream_conn_t *c);
/* Appends records of connection c (fire and forget). When the store cannot
 * take them now, c holds them and stops reading until it can. */
void stream_append(stream_conn_t *c, batch_t *b);
/* Writes bytes back to the peer (copied; encrypted on a TLS connection,
 * which writes nothing before its handshake is done). */
void stream_write(stream_conn_t *c, const char *p, size_t n);
/* Closes the connection now (writes not yet sent may be lost). */
void stream_close_conn(stream_conn_t *c);
/* From now on the protocol gets no more data or EOF; what arrives is
 * dropped. The connection stays open for stream_write(). */
void stream_linger(stream_conn_t *c);
/* Closes the connection gracefully: once what was written is sent, shuts
 * down our side and closes at the peer's EOF or after STREAM_LINGER_MS.
 * Implies stream_linger(). */
void stream_end(stream_conn_t *c);

/* Datagram listener (syslog over UDP): each datagram is one message. */
typedef struct dgram_listener dgram_listener_t;
/* A datagram cut to the listener's max_len (cut set when it was longer). */
typedef void (*dgram_fn)(void *arg, const char *p, size_t n, int cut, const char *peer,
                         batch_t *out);
/* Counts into stats, which its owner keeps for the life of the process.
 * allow (copied; NULL or empty: anyone) as for streams. */
dgram_listener_t *dgram_listen(uv_loop_t *loop, store_t *store, const char *addr,
                               const cidr_list_t *allow, ingest_stats_t *stats, size_t max_len,
                               dgram_fn fn, void *arg, int *port);
/* The same for an input named name in the logs ("gelf-udp"; dgram_listen
 * is "syslog-udp"), which must outlive the listener. */
dgram_listener_t *dgram_listen_as(const char *name, uv_loop_t *loop, store_t *store,
                                  const char *addr, const cidr_list_t *allow, ingest_stats_t *stats,
                                  size_t max_len, dgram_fn fn, void *arg, int *port);
void dgram_close(dgram_listener_t *l);

#endif
