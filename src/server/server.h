/* server.h - logshipd's process-wide state, owned by the event loop thread.
 *
 * One libuv loop runs everything here: libwebsockets (HTTP, WebSocket) as a
 * guest on the loop, the store's completions, timers and signals. Nothing in
 * this struct is touched from another thread.
 */
#ifndef LOGSHIP_SERVER_H
#define LOGSHIP_SERVER_H

#include <uv.h>

#include "../common/record.h"
#include "../ingest/http/http_parse.h"
#include "../ingest/ingest.h"
#include "../store/store.h"
#include "config.h"

struct lws_context;
struct lws_vhost;
typedef struct http_listener http_listener_t;

typedef struct server {
    config_t cfg;
    uv_loop_t loop;
    struct lws_context *lws; /* NULL once lws has torn itself down */
    struct lws_vhost *vhost;
    int http_port; /* the bound port (useful with --http ...:0) */
    http_listener_t *listener; /* ours (accept.c); NULL once closed */
    size_t http_pending;       /* accepted, first request head not seen yet */

    store_t *store;
    struct tail *tail;
    struct file_roots *roots; /* NULL: file tail is off */
    struct stream_listener *syslog_tcp, *tcp;
    struct dgram_listener *syslog_udp;

    /* scratch reused by every request: the loop handles one at a time */
    http_parse_t hp;
    batch_t batch;
    ingest_report_t report;
    buf_t out; /* response being written */

    uv_signal_t sigint, sigterm;
    uv_timer_t drain_timer;
    int draining;
    int64_t drain_deadline; /* monotonic ns */
    size_t inflight;        /* HTTP requests received and not yet answered */
    int64_t started_ns;
} server_t;

#endif
