/* main.c - logshipd: options, the event loop, signals and shutdown.
 *
 * Signals:
 *   SIGINT, SIGTERM  stop accepting connections, let requests already
 *                    received finish, then close everything and exit 0.
 *                    Requests still running after 4 s are cut so the
 *                    process is gone within 5 s. A second one stops at once.
 *   SIGHUP           reload: the --config file and the flags are read again
 *                    and what can change live is applied (reload.c); the
 *                    log file is reopened (after logrotate).
 *   SIGUSR1          a status summary in the log.
 *   SIGUSR2, SIGPIPE ignored.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "../common/log.h"
#include "../common/timeutil.h"
#include "../ingest/fluent/fluent_conn.h"
#include "../ingest/gelf/gelf_conn.h"
#include "../ingest/syslog/syslog_conn.h"
#include "../ingest/tcp/tcp_conn.h"
#include "../tail/files.h"
#include "../tail/tail.h"
#include "../http/ws.h"
#include "../store/dirlock.h"
#include "metrics.h"
#include "routes.h"
#include "signals.h"

#define DRAIN_MAX_NS (4 * NS_PER_SEC)

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void finish(server_t *srv)
{
    log_info("shutting down (%zu requests unanswered)", routes_inflight(srv));
    routes_stop(srv);
    tail_destroy(srv->tail);
    srv->tail = NULL;
    stream_close(srv->syslog_tcp);
    stream_close(srv->tcp);
    dgram_close(srv->syslog_udp);
    stream_close(srv->gelf_tcp);
    stream_close(srv->forward);
    dgram_close(srv->gelf_udp);
    srv->syslog_tcp = srv->tcp = srv->gelf_tcp = srv->forward = NULL;
    srv->syslog_udp = srv->gelf_udp = NULL;
    /* after the inputs: answers to appends still queued have nowhere to go, but
     * what was accepted is written and synced before the store closes */
    store_close(srv->store);
    srv->store = NULL;
    uv_timer_stop(&srv->drain_timer);
    close_handle((uv_handle_t *)&srv->drain_timer);
    close_handle((uv_handle_t *)&srv->sigint);
    close_handle((uv_handle_t *)&srv->sigterm);
    close_handle((uv_handle_t *)&srv->sighup);
    close_handle((uv_handle_t *)&srv->sigusr1);
    close_handle((uv_handle_t *)&srv->sigusr2);
}

static void on_drain_tick(uv_timer_t *t)
{
    server_t *srv = t->data;
    if (routes_inflight(srv) == 0 || time_mono_ns() >= srv->drain_deadline)
        finish(srv);
}

static void on_signal(uv_signal_t *h, int signum)
{
    server_t *srv = h->data;
    if (srv->draining) {
        log_warn("second signal %d: stopping now", signum);
        finish(srv);
        return;
    }
    log_info("signal %d: no new connections, finishing %zu requests", signum, routes_inflight(srv));
    srv->draining = 1;
    srv->drain_deadline = time_mono_ns() + DRAIN_MAX_NS;
    routes_drain(srv);
    stream_stop_accepting(srv->syslog_tcp);
    stream_stop_accepting(srv->tcp);
    stream_stop_accepting(srv->gelf_tcp);
    stream_stop_accepting(srv->forward);
    uv_timer_start(&srv->drain_timer, on_drain_tick, 0, 20);
}

static void on_hup(uv_signal_t *h, int signum)
{
    server_t *srv = h->data;
    (void)signum;
    if (srv->draining)
        return;
    reload(srv);
}

static void on_usr1(uv_signal_t *h, int signum)
{
    server_t *srv = h->data;
    (void)signum;
    status_log(srv);
}

static void on_ignored(uv_signal_t *h, int signum)
{
    (void)h;
    log_info("signal %d ignored (HUP reloads, USR1 logs a status, TERM stops)", signum);
}

/* The syslog and raw TCP listeners; each may be off. */
static int start_inputs(server_t *srv)
{
    stream_opts_t o = {
        .max_connections = srv->cfg.max_connections,
        .idle_timeout_ns = (int64_t)srv->cfg.idle_timeout_s * NS_PER_SEC,
    };
    int port;
    if (strcmp(srv->cfg.syslog_udp, "off") != 0) {
        srv->syslog_udp = syslog_udp_listen(&srv->loop, srv->store, srv->cfg.syslog_udp,
                                            srv->cfg.max_line, &port);
        if (!srv->syslog_udp)
            return -1;
    }
    if (strcmp(srv->cfg.syslog_tcp, "off") != 0) {
        o.addr = srv->cfg.syslog_tcp;
        srv->syslog_tcp = syslog_tcp_listen(&srv->loop, srv->store, &o, srv->cfg.max_line, &port);
        if (!srv->syslog_tcp)
            return -1;
    }
    if (strcmp(srv->cfg.tcp, "off") != 0) {
        o.addr = srv->cfg.tcp;
        srv->tcp = tcp_listen(&srv->loop, srv->store, &o, srv->cfg.max_line,
                              srv->cfg.max_batch_bytes, &port);
        if (!srv->tcp)
            return -1;
    }
    /* the other shippers' listeners */
    if (strcmp(srv->cfg.gelf_udp, "off") != 0) {
        srv->gelf_udp =
            gelf_udp_listen(&srv->loop, srv->store, srv->cfg.gelf_udp, srv->cfg.max_line, &port);
        if (!srv->gelf_udp)
            return -1;
    }
    if (strcmp(srv->cfg.gelf_tcp, "off") != 0) {
        o.addr = srv->cfg.gelf_tcp;
        srv->gelf_tcp = gelf_tcp_listen(&srv->loop, srv->store, &o, srv->cfg.max_line, &port);
        if (!srv->gelf_tcp)
            return -1;
    }
    if (strcmp(srv->cfg.forward, "off") != 0) {
        o.addr = srv->cfg.forward;
        srv->forward = fluent_listen(&srv->loop, srv->store, &o, srv->cfg.max_line,
                                     srv->cfg.max_batch_bytes, &port);
        if (!srv->forward)
            return -1;
    }
    return 0;
}

/* Every connection is a descriptor: take all the system allows. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int mkdir_p(const char *path)
{
    char tmp[CONFIG_PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0755) && errno != EEXIST)
        return -1;
    return 0;
}

static void signal_on(server_t *srv, uv_signal_t *h, uv_signal_cb cb, int signum)
{
    uv_signal_init(&srv->loop, h);
    h->data = srv;
    uv_signal_start(h, cb, signum);
}

int main(int argc, char **argv)
{
    static server_t srv;
    int rc;

    config_defaults(&srv.cfg);
    rc = config_from_args(&srv.cfg, argc, argv, stderr);
    if (rc)
        return rc > 0 ? 0 : 2;
    log_threshold = srv.cfg.log_level;
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    srv.started_ns = time_now_ns();

    srv.argc = argc;
    srv.argv = argv;
    if (log_open(srv.cfg.log_file)) {
        fprintf(stderr, "logshipd: cannot open --log-file %s: %s\n", srv.cfg.log_file,
                strerror(errno));
        return 1;
    }
    if (config_resolve_addrs(&srv.cfg, stderr))
        return 2;
    if (mkdir_p(srv.cfg.data)) {
        log_error("cannot create data directory %s: %s", srv.cfg.data, strerror(errno));
        return 1;
    }
    char lerr[512];
    srv.lock_fd = dirlock_take(srv.cfg.data, 0, lerr, sizeof lerr);
    if (srv.lock_fd < 0) {
        log_error("%s", lerr);
        return 1;
    }
    uv_loop_init(&srv.loop);

    store_opts_t so = {
        .dir = srv.cfg.data,
        .segment_size = srv.cfg.segment_size,
        .fsync = (enum fsync_policy)srv.cfg.fsync,
        .fsync_interval_ms = (unsigned)srv.cfg.fsync_interval_ms,
        .retain_bytes = srv.cfg.retain_bytes,
        .retain_age_ns = (int64_t)srv.cfg.retain_age_s * NS_PER_SEC,
        .memory_records = (size_t)srv.cfg.memory_records,
        .memory_bytes = srv.cfg.memory_bytes,
        .max_pending = srv.cfg.max_body * 8 > (256u << 20) ? srv.cfg.max_body * 8 : (256u << 20),
    };
    char err[512];
    srv.store = store_open(&srv.loop, &so, err, sizeof err);
    if (!srv.store) {
        log_error("%s", err);
        return 1;
    }

    uv_timer_init(&srv.loop, &srv.drain_timer);
    srv.drain_timer.data = &srv;
    signal_on(&srv, &srv.sigint, on_signal, SIGINT);
    signal_on(&srv, &srv.sigterm, on_signal, SIGTERM);
    signal_on(&srv, &srv.sighup, on_hup, SIGHUP);
    signal_on(&srv, &srv.sigusr1, on_usr1, SIGUSR1);
    signal_on(&srv, &srv.sigusr2, on_ignored, SIGUSR2);

    srv.tail = tail_create(&srv.loop, srv.store, (size_t)srv.cfg.max_subscribers);
    static file_roots_t roots;
    if (srv.cfg.ntail_roots) {
        if (files_roots_init(&roots, (const char(*)[4096])srv.cfg.tail_roots, srv.cfg.ntail_roots,
                             err, sizeof err)) {
            log_error("%s", err);
            return 1;
        }
        srv.roots = &roots;
        for (int i = 0; i < roots.n; i++)
            log_info("files: tailing under %s as '%s'", roots.r[i].real, roots.r[i].name);
    }
    if (routes_start(&srv)) {
        finish(&srv);
        uv_run(&srv.loop, UV_RUN_DEFAULT);
        uv_loop_close(&srv.loop);
        return 1;
    }
    if (start_inputs(&srv)) {
        finish(&srv);
        uv_run(&srv.loop, UV_RUN_DEFAULT);
        uv_loop_close(&srv.loop);
        return 1;
    }
    log_info("logshipd ready: data in %s", srv.cfg.data);
    uv_run(&srv.loop, UV_RUN_DEFAULT);
    /* lws closes its handles asynchronously: let them finish */
    uv_run(&srv.loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&srv.loop))
        log_warn("event loop closed with handles still open");

    files_roots_free(&roots);
    syslog_conn_cleanup();
    gelf_conn_cleanup();
    routes_free(&srv);
    ws_free(srv.ws);
    dirlock_release(srv.lock_fd);
    log_info("bye");
    log_close();
    return 0;
}
