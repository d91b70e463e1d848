/* http_int.h - what the files of src/http/ share: the server and connection
 * structs. Nothing outside src/http/ includes it. */
#ifndef LOGSHIP_HTTP_INT_H
#define LOGSHIP_HTTP_INT_H

#include <http_parser.h>

#include "../tls/tls.h"
#include "../tls/tls_log.h"
#include "http.h"

#define HTTP_DEFAULT_REQUEST_TIMEOUT_MS   10000
#define HTTP_DEFAULT_KEEPALIVE_TIMEOUT_MS 60000
#define HTTP_LINGER_MS                    2000 /* reading what a refused client still sends */

enum conn_state {
    CS_IDLE,   /* between requests: no byte of the next one yet */
    CS_HEAD,   /* reading a request head */
    CS_BODY,   /* head handed to the handler, body arriving */
    CS_WAIT,   /* request read whole, its reply not yet complete */
    CS_CLOSING /* nothing more is read; close once the queue is written */
};

/* How a connection reads and writes plaintext (transport.c): plain
 * sockets, or through its TLS session. read and write return what recv and
 * send do (-1 with errno; EPROTO: TLS failed, see tls_why). */
typedef struct conn_io {
    ssize_t (*read)(http_conn_t *c, char *buf, size_t cap);
    ssize_t (*write)(http_conn_t *c, const char *p, size_t n);
    /* Sends what the transport holds; 0, or -1 when the socket failed. */
    int (*flush)(http_conn_t *c);
    /* Output held that the socket has not taken yet. */
    int (*pending)(const http_conn_t *c);
    /* Input held that a read returns without waiting for the socket. */
    int (*buffered)(const http_conn_t *c);
    /* Writing waits for input (the TLS handshake): do not poll to write. */
    int (*waits_input)(const http_conn_t *c);
    /* Ends our side once what is held is sent (TLS: close_notify first). */
    void (*shutdown)(http_conn_t *c);
} conn_io_t;

extern const conn_io_t conn_io_plain, conn_io_tls;

typedef struct hdr_span {
    uint32_t no, nn, vo, vn; /* offsets into head */
} hdr_span_t;

struct http_conn {
    http_server_t *srv;
    http_conn_t *prev, *next;
    uv_poll_t poll;
    uv_timer_t deadline; /* H3 */
    uv_timer_t timer;    /* the handler's (http_set_timer) */
    int handles;         /* open libuv handles; freed at 0 */
    int fd;
    const conn_io_t *io;
    tls_session_t *tls; /* NULL: plain */
    int tls_shut;       /* 1: close_notify queued (shut the socket down once it is out), 2: done */
    int events;         /* poll interest now */
    enum conn_state cstate;
    http_parser parser;

    buf_t rbuf; /* unparsed bytes that outlived a read (H4) */
    size_t rpos;

    /* the current request's head, copied as it is parsed */
    buf_t head;
    uint32_t url_o, url_n;
    hdr_span_t hdr[HTTP_HEADERS_MAX];
    size_t nhdr;
    int in_value; /* the last callback was a header value */
    int head_too_big;
    http_req_t req;
    slice_t cors_origin; /* the request's Origin when CORS applies to it (cors.c) */

    const void *principal;   /* the authorize callback's, until request_end (H5) */
    const http_handler_t *h; /* of the current request; NULL: the layer answers */
    void *data;              /* its route's data (http_data) */
    void *state;
    const http_handler_t *state_of;
    int in_handler; /* on_request ran and on_end has not */
    int answered;   /* H2 */
    int ended;      /* the last request ended and no next head has begun */
    int counted;    /* in srv->inflight */
    int body_done;
    int streaming;     /* answered with a stream that has not ended */
    int peer_eof;      /* the client closed its side */
    uint64_t received; /* body bytes of the current request */
    uint64_t served;   /* requests completed on this connection */
    int64_t t0;        /* monotonic ns at the first byte of this request's head */
    int upgrade;       /* hand over once the head is parsed */
    int close_after;
    int want_writable;
    uint64_t discarded; /* body bytes after an early answer */

    buf_t out; /* queued, not yet written */
    size_t opos;

    int driving, redrive, dead;
    int failed;        /* a write failed inside a handler's call: closing from the loop */
    int resume;        /* parse what is buffered at the next loop pass */
    int limit_counted; /* in srv->limits' connection count of its address */
    char peer[64];
    char *handoff; /* bytes to replay to the upgrade callback */
    size_t handoff_n;
    const void *handoff_principal; /* the principal that goes with them (H5) */
};

struct http_server {
    uv_loop_t *loop;
    tls_log_t tlslog; /* TLS failures in the log, rate limited */
    http_options_t o;
    const http_route_t *routes;
    size_t nroutes;
    void *data;
    http_upgrade_fn upgrade;
    void *upgrade_arg;
    http_authorize_fn authorize;
    http_limit_key_fn limit_key; /* --rate-limit's key for a principal */
    http_release_fn release;
    void *auth_arg;

    int lfd;
    uv_poll_t lpoll;
    int listening, port;

    struct limit *limits;   /* --rate-limit, --max-client-connections (limit.h); NULL: none */
    tls_ctx_t *tls;         /* NULL: plain HTTP */
    struct bridge *bridges; /* wss connections relayed to lws (bridge.c) */
    size_t nbridges;
    http_conn_t *conns; /* every open connection */
    size_t nconns, inflight;
    int draining, destroying;
    http_stats_t stats;
    char read_scratch[HTTP_RBUF_MAX]; /* reads land here first */
    http_parser_settings settings;
};

/* conn.c */
void conn_start(http_server_t *s, int fd, const char *peer);
void http_settings_init(http_parser_settings *st);
void conn_close(http_conn_t *c);
void conn_drain(http_conn_t *c);
/* transport.c: TLS on a nonblocking socket. flush: 0, or -1 when the
 * socket failed; read and write as recv and send (EPROTO: TLS failed). */
int tls_sock_flush(int fd, tls_session_t *t);
ssize_t tls_sock_read(int fd, tls_session_t *t, char *buf, size_t cap);
ssize_t tls_sock_write(int fd, tls_session_t *t, const char *p, size_t n);

/* bridge.c: relays a wss connection between its TLS session and a
 * socketpair whose other end the upgrade callback (lws) takes with the
 * head in bytes; takes fd and t. 0, or -1 when it could not (both closed). */
int bridge_start(http_server_t *s, int fd, tls_session_t *t, const char *bytes, size_t n,
                 const char *peer, const void *principal);
/* Closes every bridge (the server goes away). */
void bridge_close_all(http_server_t *s);

/* listen.c: the server frees itself once draining is over and no
 * connection is left. */
void server_maybe_free(http_server_t *s);

/* origin.c: the cross-site policy. 1 when the request may go on. */
int origin_host_ok(const http_options_t *o, slice_t host);
int origin_ok(const http_options_t *o, const http_req_t *r);

/* cors.c: 1 when origin is one of o->cors_origins (and safe to echo). */
int cors_listed(const http_options_t *o, slice_t origin);
/* The Access-Control-* and Vary lines for the reply to c's request (none
 * unless c->cors_origin is set); returns their length. */
size_t cors_reply_headers(const http_conn_t *c, char *out, size_t cap);
/* Answers an OPTIONS on the cors route rt: a preflight or a plain OPTIONS. */
void cors_options(http_conn_t *c, const http_route_t *rt);

#endif
