/* http.h - logshipd's HTTP/1.1 server: connections, requests, replies and
 * the route table. It knows no handler and no server: whoever owns the
 * routes (server/main.c) registers them.
 *
 * A connection is a socket on the server's libuv loop, read into a buffer
 * and parsed with http-parser (Debian's libhttp-parser). Requests on a
 * keep-alive connection are handled strictly one at a time, in order: the
 * parser is paused at the end of each request until its reply has been
 * queued, whatever the client sent behind it. Request bodies are decoded
 * (Content-Length or chunked) and handed to the handler as they arrive;
 * nothing is reserved up front.
 *
 * Limits (limit.c): with o->rate_limit, each client (the principal's
 * http_limit_key_fn name, else its address) has a token bucket; a request
 * that finds it empty is answered 429 with Retry-After before any handler
 * sees it, after authorization (a refused credential charges the address).
 * With o->max_client_connections, a connection over that many from one
 * address is answered 503 and closed.
 *
 * Invariants:
 *   H1. At most one request per connection is in a handler at a time; the
 *       next one is not parsed before the current one is complete.
 *   H2. A request has one completion: the first http_reply (or the end of
 *       a stream) answers it; later ones are ignored and counted.
 *   H3. Every connection has a deadline: a request head must arrive whole
 *       within --header-timeout of its first byte (of the connection, for
 *       the first request), each body read must make progress within
 *       --body-timeout, an idle keep-alive connection lasts
 *       --keepalive-timeout, and a reply the client does not read is given
 *       up after --send-timeout. (--request-timeout is the default of the
 *       three.)
 *   H4. Memory per connection is bounded: the read buffer holds at most
 *       HTTP_RBUF_MAX bytes, the request head HTTP_HEAD_MAX, the write queue
 *       one reply or one stream message (streams write only when writable).
 *   H5. With an authorize callback, no handler and no upgrade sees a
 *       request it refused, and every principal it returned is given back
 *       exactly once: released when the request ends or the connection
 *       goes, or handed to the upgrade callback.
 *
 * WebSocket upgrades are handed to libwebsockets (ws.c): the socket, the
 * request head and whatever followed it. All of it runs on the loop thread.
 *
 * Authorization: every route declares the scope it needs (http_route_t's
 * scope, a number whose meaning is its owner's; the layer only passes it
 * on). Once a request's route is known and its Origin has passed, and
 * before any handler runs (or the socket is handed to the WebSocket
 * engine), the layer asks the authorize callback its owner registered
 * (http_server_on_authorize) with the credential the request carries
 * (http_cred_parse: Authorization: Bearer TOKEN; Basic with the token as
 * the password; or, on a route that takes tickets, ?ticket=). The answer is
 * 0 with a principal, kept on the request for its handlers
 * (http_principal) and given back through the release callback when the
 * request ends (or handed on with the upgrade), or a refusal the layer
 * sends: 401 with WWW-Authenticate: Bearer realm="logship" (and Basic,
 * except to a page's fetch, which a browser would answer with its own
 * login box), or 403. A ticket that was accepted is taken out of the
 * request's target and query before the handler sees them (and so out of
 * what is replayed at an upgrade). Without a callback every request goes
 * through with a NULL principal.
 *
 * TLS (http_server_set_tls): every connection then has a TLS session
 * (src/tls/) between its socket and the parser and write queue
 * (transport.c); H1-H4 hold as they are, the queue stays plaintext, and
 * the handshake counts against the first request's deadline (H3). A
 * plaintext request gets a plain 400 saying the port speaks TLS. A wss
 * upgrade cannot hand lws the socket (the session is ours): bridge.c
 * relays plaintext between the session and a socketpair lws adopts.
 *
 * CORS (cors.c): on a route marked cors, the layer answers OPTIONS itself
 * (a preflight from an origin in o->cors_origins: 204 with the
 * Access-Control-* headers; from another origin: 403; without Origin: 204
 * with Allow), and every reply to a request from a listed origin carries
 * Access-Control-Allow-Origin (the origin echoed) and Vary: Origin. A listed
 * CORS origin also passes the Origin check (origin.c) on cors routes, and
 * only there: elsewhere it needs to be in o->origins.
 */
#ifndef LOGSHIP_HTTP_HTTP_H
#define LOGSHIP_HTTP_HTTP_H

#include <stdint.h>
#include <uv.h>

#include "../common/buf.h"
#include "../common/hist.h"
#include "../tls/tls.h"

#define HTTP_HEAD_MAX    (16u * 1024) /* request line and headers */
#define HTTP_HEADERS_MAX 64
#define HTTP_RBUF_MAX    (64u * 1024)

/* Methods as bits, for route tables. */
enum {
    HM_GET = 1,
    HM_HEAD = 2,
    HM_POST = 4,
    HM_OPTIONS = 8,
    HM_OTHER = 16,
};

typedef struct http_conn http_conn_t;
typedef struct http_server http_server_t;

/* One request head; valid until the request is complete. */
typedef struct http_req {
    unsigned method; /* one HM_* bit */
    slice_t target;  /* as sent: path and query */
    slice_t path;    /* the target up to '?', not decoded */
    slice_t query;   /* after '?', not decoded; empty when none */
    uint64_t content_length;
    int has_body;     /* Content-Length > 0 or chunked */
    int chunked;      /* Transfer-Encoding: chunked (decoded for the handler) */
    int expect_100;   /* Expect: 100-continue */
    int keep_alive;   /* the client will send another request */
    int upgrade;      /* Upgrade: websocket */
    const char *peer; /* the client's address, without the port */
    size_t nheaders;
    slice_t names[HTTP_HEADERS_MAX], values[HTTP_HEADERS_MAX];
} http_req_t;

/* The value of header name (case-insensitive; the last one of several),
 * or SLICE_NULL. */
slice_t http_header(const http_req_t *r, const char *name);
/* Copies a header value NUL-terminated into out (cut to cap - 1); returns
 * its length, or -1 when absent. */
int http_header_copy(const http_req_t *r, const char *name, char *out, size_t cap);

/* What a route does with a request. Callbacks return 0 to go on or -1 to
 * close the connection (after what was queued has been written). All but
 * on_request may be NULL. */
typedef struct http_handler {
    const char *name;
    /* Handler state per connection, allocated zeroed the first time the
     * connection serves this handler and kept across its requests. */
    size_t state_size;
    /* The head is in. Reply now, or later (the body, a store append, a
     * query on the thread pool). */
    int (*on_request)(http_conn_t *c, const http_req_t *r);
    /* Decoded body bytes, as they arrive; valid during the call only. */
    int (*on_body)(http_conn_t *c, const char *p, size_t n);
    /* The body is in (also for a request without one), unless the request
     * has been answered already. */
    int (*on_body_done)(http_conn_t *c);
    /* After http_want_writable(): everything queued has been written. */
    int (*on_writable)(http_conn_t *c);
    /* After http_set_timer(). */
    int (*on_timer)(http_conn_t *c);
    /* The request ends (answered and done, or the connection goes away):
     * drop what refers to the connection. Called once per request that
     * reached on_request. */
    void (*on_end)(http_conn_t *c);
    /* The connection goes away: free what the state holds. */
    void (*on_free)(void *state);
} http_handler_t;

/* A route: a method set and a path, exact or (prefix) a prefix. */
typedef struct http_route {
    unsigned methods;
    const char *path;
    int prefix;
    int websocket;  /* an Upgrade: websocket here goes to the upgrade callback */
    int writes;     /* changes state even as GET: cross-site requests are refused */
    int cors;       /* pages of o->cors_origins may call it (preflight, headers) */
    unsigned scope; /* what it needs, for the authorize callback (0: undeclared) */
    int tickets;    /* a ?ticket= is a credential here */
    const http_handler_t *handler;
    void *data; /* the handler's context, http_data(); NULL: http_server_data() */
} http_route_t;

/* Limits and timeouts; zero fields take the defaults. */
typedef struct http_options {
    size_t max_connections;
    long request_timeout_ms;       /* the default of the three below */
    long header_timeout_ms;        /* a whole request head, from its first byte */
    long body_timeout_ms;          /* each read of a body must make progress */
    long send_timeout_ms;          /* each write of a reply the client is slow to read */
    long keepalive_timeout_ms;     /* between requests */
    double rate_limit;             /* requests per second per client; 0: none */
    double rate_burst;             /* its bucket; 0: the rate (at least 1) */
    size_t max_client_connections; /* open connections per client address; 0: none */
    const char *const *origins;    /* allowed Origin values besides same-origin */
    size_t norigins;
    const char *const *hosts; /* allowed Host names besides addresses and localhost */
    size_t nhosts;
    const char *const *cors_origins; /* origins served with CORS on cors routes ('*': any) */
    size_t ncors_origins;
} http_options_t;

/* Why a handler refused a request: the reason label of
 * logship_http_rejected_total, named in server/metrics.c. Each handler
 * counts its own refusals (a uint64_t[HREJ_COUNT] in its stats); the
 * layer's own 400/431, 404 and 405 are in http_stats_t and added there. */
enum http_reject {
    HREJ_MALFORMED_JSON,
    HREJ_BAD_LINE, /* one NDJSON or JSON element refused inside a batch */
    HREJ_BAD_FORM,
    HREJ_UNSUPPORTED_TYPE,
    HREJ_TOO_LARGE,
    HREJ_EMPTY,
    HREJ_HEADERS,
    HREJ_BAD_QUERY,
    HREJ_SHUTTING_DOWN,
    HREJ_NOT_FOUND,
    HREJ_METHOD,
    HREJ_STORE,        /* the store refused: behind, or failed */
    HREJ_FORBIDDEN,    /* a file path outside the tail roots; a ticket scope its token lacks */
    HREJ_BUSY,         /* --max-body-memory reached */
    HREJ_RATE,         /* --rate-limit: 429 (the layer's) */
    HREJ_CLIENT_CONNS, /* --max-client-connections: 503 (the layer's) */
    HREJ_COUNT
};

/* Counters of the HTTP layer, for /metrics. */
typedef struct http_stats {
    uint64_t status[600]; /* replies sent, by status */
    uint64_t conns_open, conns_total, conns_refused;
    uint64_t timeouts;       /* connections closed at a deadline */
    uint64_t bad_requests;   /* unparsable heads or bodies */
    uint64_t double_replies; /* second completions, ignored (H2) */
    uint64_t bytes_in;
    uint64_t cross_origin;            /* refused for their Origin or Host (CORS preflights too) */
    uint64_t cors_preflights;         /* OPTIONS preflights answered 204 with CORS headers */
    uint64_t not_found, bad_method;   /* answered by the layer: 404, 405 */
    uint64_t unauthorized, forbidden; /* refused by the authorize callback: 401, 403 */
    uint64_t rate_limited;            /* 429: over --rate-limit */
    uint64_t client_conns_refused;    /* 503: over --max-client-connections */
    hist_t request_seconds;           /* first byte of the head to the reply (or stream start) */
    uint64_t tls_plaintext;           /* plain HTTP to the TLS port: answered 400 */
    uint64_t wss_bridged;             /* WebSocket upgrades over TLS relayed to lws */
    tls_stats_t tls;                  /* with http_server_set_tls */
} http_stats_t;

/* Creates the server on loop: routes are tried in order, the first match
 * wins. The table must outlive the server. Returns NULL on bad options. */
http_server_t *http_server_create(uv_loop_t *loop, const http_options_t *o,
                                  const http_route_t *routes, size_t nroutes);
/* Replaces the options of a running server (the lists must outlive it). */
void http_server_set_options(http_server_t *s, const http_options_t *o);
/* Serves an accepted socket (nonblocking) as a connection; peer names the
 * client in logs. Returns 0, or -1 when draining (fd is not taken). */
int http_server_adopt(http_server_t *s, int fd, const char *peer);
/* Listens on host:port (port 0: any free one). Returns 0 or -errno. */
int http_server_listen(http_server_t *s, const char *host, int port);
int http_server_port(const http_server_t *s);
/* Stops accepting and closes idle connections; requests in progress go on. */
void http_server_drain(http_server_t *s);
/* Requests received and not yet answered (streams do not count). */
size_t http_server_inflight(const http_server_t *s);
/* Closes every connection and frees s once their handles are closed. */
void http_server_destroy(http_server_t *s);
const http_stats_t *http_server_stats(const http_server_t *s);
/* Serves TLS on every connection accepted from now on (tls must outlive
 * the server; NULL: plain). A plain request to it is answered 400. */
void http_server_set_tls(http_server_t *s, tls_ctx_t *tls);
/* Who receives WebSocket upgrades: called with the connection's socket
 * (ours no more: the callee owns it; over TLS, a socketpair's end), the
 * bytes to replay (the request head and what followed it), the client's
 * address (valid during the call) and the request's principal (the
 * callee's now, to give back to the authorize callback's release).
 * Returns 0, or -1 when it closed fd (it has released the principal either
 * way when it is done with it). */
typedef int (*http_upgrade_fn)(void *arg, int fd, const char *bytes, size_t n, const char *peer,
                               const void *principal);
void http_server_on_upgrade(http_server_t *s, http_upgrade_fn fn, void *arg);

/* The credential of a request, as http_cred_parse found it. */
enum http_cred_kind {
    HTTP_CRED_NONE,   /* none given */
    HTTP_CRED_BEARER, /* Authorization: Bearer TOKEN */
    HTTP_CRED_BASIC,  /* Authorization: Basic, the token as the password */
    HTTP_CRED_TICKET, /* ?ticket=, on a route that takes tickets */
    HTTP_CRED_BAD,    /* an Authorization header that is neither */
};
#define HTTP_CRED_MAX 512 /* a Basic credential, decoded */
typedef struct http_cred {
    enum http_cred_kind kind;
    slice_t secret; /* the token or the ticket; borrowed from the request or decoded */
    slice_t user;   /* Basic's user name (any: the token alone decides) */
    char decoded[HTTP_CRED_MAX];
} http_cred_t;
/* Finds the credential in an Authorization header's value (SLICE_NULL:
 * none) or, when there is none and tickets is set, in the query string's
 * first ticket= pair. Pure; slices of c point into the arguments or into
 * c itself. */
void http_cred_parse(slice_t authorization, slice_t query, int tickets, http_cred_t *c);

/* Decides whether request r (its head, as parsed) may go on to route rt's
 * handler, given its credential: 0 with *principal set (NULL: nobody in
 * particular), or 401 (no credential, or one not accepted) or 403 (not
 * allowed there), with *why set to what the refusal says (static, or the
 * callee's until the next call; NULL: the layer's own words). Loop
 * thread. */
typedef int (*http_authorize_fn)(void *arg, const http_req_t *r, const http_route_t *rt,
                                 const http_cred_t *cred, const void **principal, const char **why);
/* Gives back a principal authorize returned, once its request has ended. */
typedef void (*http_release_fn)(void *arg, const void *principal);
void http_server_on_authorize(http_server_t *s, http_authorize_fn fn, http_release_fn release,
                              void *arg);
/* The name --rate-limit counts a principal's requests under (a token's
 * name), NUL-terminated; without it, or for a request without a
 * principal, the client's address is the key. */
typedef const char *(*http_limit_key_fn)(const void *principal);
void http_server_on_limit_key(http_server_t *s, http_limit_key_fn fn);

/* The context of handlers whose route has no data of its own (the
 * server's owner). */
void http_server_set_data(http_server_t *s, void *data);
void *http_server_data(const http_server_t *s);

/* ---- inside a handler ---------------------------------------------------- */

void *http_state(http_conn_t *c);
/* The current request's route data, or http_server_data() of the
 * connection's server when the route has none. */
void *http_data(http_conn_t *c);
/* The client's address, without the port. */
const char *http_peer(const http_conn_t *c);
/* The current request's principal (the authorize callback's), or NULL. */
const void *http_principal(const http_conn_t *c);

typedef struct http_header {
    const char *name, *value; /* name without the colon */
} http_header_t;

/* A complete reply with a Content-Length: the request's completion (H2).
 * ctype NULL sends no Content-Type. Headers and body go in one write. */
void http_reply(http_conn_t *c, int status, const char *ctype, const http_header_t *h, size_t nh,
                const char *body, size_t n);
/* {"error":msg} with status. */
void http_reply_error(http_conn_t *c, int status, const char *msg);
/* 100 Continue, for a request that asked (Expect: 100-continue). */
void http_continue(http_conn_t *c);
/* Starts a reply of unknown length (chunked); the request is complete, and
 * the connection keeps serving it until http_stream_end. Streams do not
 * count as in flight. */
void http_stream_begin(http_conn_t *c, int status, const char *ctype, const http_header_t *h,
                       size_t nh);
/* Queues one chunk. Write again only from on_writable. */
void http_stream_write(http_conn_t *c, const char *p, size_t n);
/* The last chunk: the connection goes on with the next request. */
void http_stream_end(http_conn_t *c);
/* Calls on_writable once the write queue is empty (at once if it is). */
void http_want_writable(http_conn_t *c);
/* Calls on_timer after ms (replacing an earlier one); 0 cancels. */
void http_set_timer(http_conn_t *c, long ms);
/* Closes the connection once what is queued has been written. */
void http_close(http_conn_t *c);
/* 1 while the current request has been answered. */
int http_answered(const http_conn_t *c);

/* Decodes the query string into pairs (form_parse rules). 0, or -1 with
 * *err set. */
struct form;
int http_query(const http_req_t *r, struct form *f, const char **err);

#endif
