/* server.h - logshipd's process-wide state, owned by the event loop thread.
 *
 * One libuv loop runs everything here: HTTP (src/http/), WebSocket (lws as
 * a guest on the loop), the store's completions, timers and signals. Nothing in
 * this struct is touched from another thread.
 */
#ifndef LOGSHIP_SERVER_H
#define LOGSHIP_SERVER_H

#include <uv.h>

#include "../store/store.h"
#include "access.h"
#include "config.h"
#include "metrics.h"

struct http_server;
struct ws_server;
struct tls_ctx;

typedef struct server {
    config_t cfg;
    uv_loop_t loop;
    struct http_server *http; /* NULL with --http off, and once stopped */
    struct ws_server *ws;     /* WebSocket connections (lws) */
    int http_port;            /* the bound port (useful with --http ...:0) */

    store_t *store;
    struct tail *tail;
    struct file_roots *roots; /* NULL: file tail is off */
    struct stream_listener *syslog_tcp, *tcp;
    struct stream_listener *syslog_tls, *tcp_tls;   /* NULL: off */
    struct stream_listener *gelf_tls, *forward_tls; /* NULL: off */
    struct tls_ctx *tls; /* with --tls-cert: every TLS listener's, reloaded on SIGHUP */
    struct dgram_listener *syslog_udp;
    struct amqp_out *amqp_out;                  /* NULL: no --amqp-out */
    struct amqp_in *amqp_in;                    /* NULL: no --amqp-in */
    struct stream_listener *gelf_tcp, *forward; /* other shippers' inputs, NULL when off */
    struct dgram_listener *gelf_udp;
    server_stats_t stats; /* the server's own counters (the modules keep theirs) */
    access_t access;      /* tokens and tickets (--auth-file) */

    uv_signal_t sigint, sigterm, sighup, sigusr1, sigusr2;
    int lock_fd; /* the data directory's lock (store/dirlock.h) */
    int argc;    /* for reloads: the flags are applied again over the file */
    char **argv;
    uv_timer_t drain_timer;
    int draining;
    int64_t drain_deadline; /* monotonic ns */
    int64_t started_ns;
} server_t;

#endif
