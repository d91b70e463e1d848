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
 *
 * A service manager is told (notify.h) READY=1 once every listener is up,
 * RELOADING=1 and READY=1 around a reload, STOPPING=1 at the first stop
 * signal. --check-config and --version are answered here, before anything
 * is opened.
 */
#include <signal.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "../amqp/amqp_in.h"
#include "../amqp/amqp_out.h"
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
#include "../tls/tls.h"
#include "about.h"
#include "metrics.h"
#include "notify.h"
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
    stream_close(srv->syslog_tls);
    stream_close(srv->tcp_tls);
    stream_close(srv->gelf_tls);
    stream_close(srv->forward_tls);
    dgram_close(srv->syslog_udp);
    stream_close(srv->gelf_tcp);
    stream_close(srv->forward);
    dgram_close(srv->gelf_udp);
    srv->syslog_tcp = srv->tcp = srv->syslog_tls = srv->tcp_tls = NULL;
    srv->gelf_tcp = srv->forward = srv->gelf_tls = srv->forward_tls = NULL;
    srv->syslog_udp = srv->gelf_udp = NULL;
    /* what it has not acked goes back to the queue; the store must not
     * answer it after this */
    amqp_in_stop(srv->amqp_in);
    srv->amqp_in = NULL;
    /* it reads the store: it goes first (its last confirms, then the
     * confirmed seq is saved) */
    amqp_out_stop(srv->amqp_out);
    srv->amqp_out = NULL;
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
    /* the RabbitMQ input stored and acks what it was delivered */
    if ((routes_inflight(srv) == 0 && !amqp_in_busy(srv->amqp_in)) ||
        time_mono_ns() >= srv->drain_deadline)
        finish(srv);
}

/* A failed notification is logged, never fatal: logshipd runs on. */
static void tell_manager(const char *state)
{
    if (notify_send(state) < 0)
        log_warn("cannot notify the service manager ($NOTIFY_SOCKET): %s", strerror(errno));
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
    tell_manager("STOPPING=1");
    srv->draining = 1;
    srv->drain_deadline = time_mono_ns() + DRAIN_MAX_NS;
    routes_drain(srv);
    amqp_in_quiesce(srv->amqp_in);
    stream_stop_accepting(srv->syslog_tcp);
    stream_stop_accepting(srv->tcp);
    stream_stop_accepting(srv->syslog_tls);
    stream_stop_accepting(srv->tcp_tls);
    stream_stop_accepting(srv->gelf_tls);
    stream_stop_accepting(srv->forward_tls);
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
    if (notify_reloading() < 0)
        log_warn("cannot notify the service manager ($NOTIFY_SOCKET): %s", strerror(errno));
    reload(srv);
    tell_manager("READY=1");
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

/* The stream and datagram listeners; each may be off. */
static int start_inputs(server_t *srv)
{
    /* copied by the listeners */
    static cidr_list_t syslog_allow, tcp_allow, gelf_allow, forward_allow;
    static fluent_auth_t forward_auth; /* borrowed by them: lives to the end */
    const fluent_auth_t *fauth = NULL;
    if (srv->cfg.forward_auth[0]) {
        char err[FLUENT_AUTH_ERR + CONFIG_PATH_MAX + 64];
        if (fluent_auth_load(&forward_auth, srv->cfg.forward_auth, err, sizeof err)) {
            log_error("%s", err);
            return -1;
        }
        fauth = &forward_auth;
    }
    access_allow_list(&srv->cfg, &srv->cfg.syslog_allow, &syslog_allow);
    access_allow_list(&srv->cfg, &srv->cfg.tcp_allow, &tcp_allow);
    access_allow_list(&srv->cfg, &srv->cfg.gelf_allow, &gelf_allow);
    access_allow_list(&srv->cfg, &srv->cfg.forward_allow, &forward_allow);
    stream_opts_t o = {
        .max_connections = srv->cfg.max_connections,
        .idle_timeout_ns = (int64_t)srv->cfg.idle_timeout_s * NS_PER_SEC,
        .allow = &syslog_allow,
    };
    int port;
    if (strcmp(srv->cfg.syslog_udp, "off") != 0) {
        srv->syslog_udp = syslog_udp_listen(&srv->loop, srv->store, srv->cfg.syslog_udp,
                                            &syslog_allow, srv->cfg.max_line, &port);
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
        o.allow = &tcp_allow;
        srv->tcp = tcp_listen(&srv->loop, srv->store, &o, srv->cfg.max_line,
                              srv->cfg.max_batch_bytes, &port);
        if (!srv->tcp)
            return -1;
    }
    /* the other shippers' listeners */
    o.allow = &gelf_allow;
    if (strcmp(srv->cfg.gelf_udp, "off") != 0) {
        srv->gelf_udp = gelf_udp_listen(&srv->loop, srv->store, srv->cfg.gelf_udp, &gelf_allow,
                                        srv->cfg.max_line, &port);
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
        o.allow = &forward_allow;
        o.proto_arg = fauth;
        srv->forward = fluent_listen(&srv->loop, srv->store, &o, srv->cfg.max_line,
                                     srv->cfg.max_batch_bytes, &port);
        if (!srv->forward)
            return -1;
    }
    o.proto_arg = NULL;
    /* the same inputs over TLS, on their own ports */
    o.tls = srv->tls;
    if (strcmp(srv->cfg.syslog_tls, "off") != 0) {
        o.addr = srv->cfg.syslog_tls;
        o.allow = &syslog_allow;
        srv->syslog_tls = syslog_tcp_listen(&srv->loop, srv->store, &o, srv->cfg.max_line, &port);
        if (!srv->syslog_tls)
            return -1;
    }
    if (strcmp(srv->cfg.tcp_tls, "off") != 0) {
        o.addr = srv->cfg.tcp_tls;
        o.allow = &tcp_allow;
        srv->tcp_tls = tcp_listen(&srv->loop, srv->store, &o, srv->cfg.max_line,
                                  srv->cfg.max_batch_bytes, &port);
        if (!srv->tcp_tls)
            return -1;
    }
    if (strcmp(srv->cfg.gelf_tls, "off") != 0) {
        o.addr = srv->cfg.gelf_tls;
        o.allow = &gelf_allow;
        srv->gelf_tls = gelf_tcp_listen(&srv->loop, srv->store, &o, srv->cfg.max_line, &port);
        if (!srv->gelf_tls)
            return -1;
    }
    if (strcmp(srv->cfg.forward_tls, "off") != 0) {
        o.addr = srv->cfg.forward_tls;
        o.allow = &forward_allow;
        o.proto_arg = fauth;
        srv->forward_tls = fluent_listen(&srv->loop, srv->store, &o, srv->cfg.max_line,
                                         srv->cfg.max_batch_bytes, &port);
        if (!srv->forward_tls)
            return -1;
    }
    o.proto_arg = NULL;
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

static int amqps(const char *url)
{
    return strncasecmp(url, "amqps://", 8) == 0;
}

/* --amqp-ca serves whichever of --amqp-out and --amqp-in is amqps://: a
 * URL gets it unless it is amqp:// and the other one is amqps:// (with
 * neither, both get it, and their checks say it is of no use). */
static const char *amqp_ca(const config_t *c, const char *url, const char *other)
{
    if (!c->amqp_ca[0] || (!amqps(url) && amqps(other)))
        return NULL;
    return c->amqp_ca;
}

/* The RabbitMQ input's options from the configuration. */
static void amqp_in_opts(const config_t *c, amqp_in_opts_t *o)
{
    *o = (amqp_in_opts_t){
        .url = c->amqp_in,
        .queue = c->amqp_queue,
        .ca_file = amqp_ca(c, c->amqp_in, c->amqp_out),
        .binds = c->amqp_binds.ptr,
        .nbinds = (size_t)c->amqp_binds.n,
        .prefetch = (size_t)c->amqp_prefetch,
        .dedup = (size_t)c->amqp_dedup,
        .max_body = c->max_body,
    };
}

/* The RabbitMQ output's options from the configuration. */
static void amqp_opts(const config_t *c, amqp_out_opts_t *o)
{
    *o = (amqp_out_opts_t){
        .url = c->amqp_out,
        .exchange = c->amqp_exchange,
        .ca_file = amqp_ca(c, c->amqp_out, c->amqp_in),
        .topics = c->amqp_out_topics.ptr,
        .ntopics = (size_t)c->amqp_out_topics.n,
        .batch = (size_t)c->amqp_batch,
        .inflight = (size_t)c->amqp_inflight,
        .data_dir = c->data,
    };
}

static void signal_on(server_t *srv, uv_signal_t *h, uv_signal_cb cb, int signum)
{
    uv_signal_init(&srv->loop, h);
    h->data = srv;
    uv_signal_start(h, cb, signum);
}

/* logshipd --check-config ...: the flags and the config file as a start
 * would read them, the listen addresses resolved and the --tail-root
 * directories opened; nothing is created. 0 when all is well, else 2. */
static int check_config(int argc, char **argv)
{
    static config_t cfg;
    config_defaults(&cfg);
    int rc = config_from_args(&cfg, argc, argv, stderr);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (config_resolve_addrs(&cfg, stderr))
        return 2;
    if (cfg.ntail_roots) {
        static file_roots_t roots;
        char err[512];
        if (files_roots_init(&roots, (const char(*)[4096])cfg.tail_roots, cfg.ntail_roots, err,
                             sizeof err)) {
            fprintf(stderr, "logshipd: %s\n", err);
            return 2;
        }
        files_roots_free(&roots);
    }
    if (cfg.config_file[0])
        printf("logshipd: configuration OK (%s and the flags)\n", cfg.config_file);
    else
        printf("logshipd: configuration OK (the flags; no --config file)\n");
    return 0;
}

int main(int argc, char **argv)
{
    static server_t srv;
    int rc;

    /* --check-config and --version, wherever they are among the flags
     * (as config_from_args finds --help) */
    int check = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--version") == 0) {
            about_print_version(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--check-config") == 0) {
            check = 1;
            memmove(argv + i, argv + i + 1, (size_t)(argc - i) * sizeof *argv); /* with NULL */
            argc--;
            i--;
        }
    }
    if (check)
        return check_config(argc, argv);

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
    amqp_out_opts_t ao;
    amqp_opts(&srv.cfg, &ao);
    char aerr[AUTH_ERR_MAX + CONFIG_PATH_MAX];
    if (srv.cfg.amqp_out[0] && amqp_out_check(&ao, aerr, sizeof aerr)) {
        fprintf(stderr, "logshipd: %s\n", aerr);
        return 2;
    }
    amqp_in_opts_t ai;
    amqp_in_opts(&srv.cfg, &ai);
    if (srv.cfg.amqp_in[0] && amqp_in_check(&ai, aerr, sizeof aerr)) {
        fprintf(stderr, "logshipd: %s\n", aerr);
        return 2;
    }
    if (access_check_listeners(&srv.cfg, srv.cfg.auth_file[0] != 0, aerr, sizeof aerr)) {
        if (!srv.cfg.insecure) {
            log_error("not starting: %s", aerr);
            return 2;
        }
        log_warn("--insecure: starting all the same, though %s", aerr);
    }
    if (access_init(&srv.access, &srv.cfg, aerr, sizeof aerr)) {
        log_error("not starting: %s", aerr);
        access_free(&srv.access);
        return 2;
    }
    if (mkdir_p(srv.cfg.data)) {
        log_error("cannot create data directory %s: %s", srv.cfg.data, strerror(errno));
        return 1;
    }
    if (srv.cfg.tls_cert[0]) {
        char terr[512];
        srv.tls =
            tls_ctx_create(&(tls_files_t){srv.cfg.tls_cert, srv.cfg.tls_key, srv.cfg.tls_client_ca},
                           terr, sizeof terr);
        if (!srv.tls) {
            log_error("TLS: %s", terr);
            return 1;
        }
        log_info("TLS: certificate %s%s%s", srv.cfg.tls_cert,
                 srv.cfg.tls_client_ca[0] ? ", client certificates signed by " : "",
                 srv.cfg.tls_client_ca);
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
        .compress_level =
            srv.cfg.compress ? (int)(srv.cfg.compress_level > 19 ? 19 : srv.cfg.compress_level) : 0,
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
    if (srv.cfg.amqp_out[0] && !(srv.amqp_out = amqp_out_start(srv.store, &ao, err, sizeof err))) {
        log_error("%s", err);
        finish(&srv);
        uv_run(&srv.loop, UV_RUN_DEFAULT);
        uv_loop_close(&srv.loop);
        return 1;
    }
    if (srv.cfg.amqp_in[0] &&
        !(srv.amqp_in = amqp_in_start(&srv.loop, srv.store, &ai, err, sizeof err))) {
        log_error("%s", err);
        finish(&srv);
        uv_run(&srv.loop, UV_RUN_DEFAULT);
        uv_loop_close(&srv.loop);
        return 1;
    }
    log_info("logshipd ready: data in %s", srv.cfg.data);
    tell_manager("READY=1\nSTATUS=ready");
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
    access_free(&srv.access);
    tls_ctx_destroy(srv.tls); /* after every connection: none holds it now */
    dirlock_release(srv.lock_fd);
    log_info("bye");
    log_close();
    return 0;
}
