/* signals.c - what an operator's SIGHUP and SIGUSR1 do to a running
 * logshipd.
 *
 * SIGHUP reads the configuration again the way start-up did (defaults, the
 * --config file, then the flags) and applies what can change without
 * dropping anything: the log level and log file, HTTP limits, timeouts and
 * the Origin/Host/CORS lists, body limits and retention, the tokens (the
 * --auth-file is read again whether its name changed or not; a bad one
 * keeps the tokens loaded before: access.h), and the TLS certificate, key
 * and client CA: their files are read again on every SIGHUP (a renewed
 * certificate at the same path included) into a new context for new
 * connections, open ones keeping theirs; files that do not load leave the
 * old context, and the log says why. Every other change is
 * named in the log as needing a restart and left as it is. A file that does
 * not parse changes nothing. The log file is reopened either way, so
 * logrotate's postrotate can send HUP.
 *
 * SIGUSR1 writes one status line: uptime, records, seqs, store size,
 * connections and subscribers.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../common/log.h"
#include "../common/timeutil.h"
#include "../http/http.h"
#include "../tail/tail.h"
#include "../tls/tls.h"
#include "metrics.h"
#include "routes.h"
#include "signals.h"

/* Options a reload applies live; the rest need a restart. */
static const char *const live_options[] = {
    "log-level",      "log-file",         "max-body",        "max-body-memory",
    "retain-bytes",   "retain-age",       "request-timeout", "keepalive-timeout",
    "allowed-origin", "allowed-host",     "max-connections", "config",
    "cors-origin",    "header-timeout",   "body-timeout",    "send-timeout",
    "rate-limit",     "max-client-tails", "rate-burst",      "max-client-connections",
    "auth-file",      "ticket-lifetime",  "tls-cert",        "tls-key",
    "tls-client-ca",
};

static int is_live(const char *name)
{
    for (size_t i = 0; i < sizeof live_options / sizeof live_options[0]; i++)
        if (strcmp(live_options[i], name) == 0)
            return 1;
    return 0;
}

typedef struct changes {
    char live[512], restart[512];
} changes_t;

static void note_change(void *arg, const char *name)
{
    changes_t *ch = arg;
    char *list = is_live(name) ? ch->live : ch->restart;
    size_t n = strlen(list);
    snprintf(list + n, 512 - n, "%s--%s", n ? ", " : "", name);
}

/* The TLS files, read again whether or not their names changed. */
static void reload_tls(server_t *srv, const config_t *nc)
{
    config_t *c = &srv->cfg;
    char err[512];
    if (!srv->tls) {
        if (nc->tls_cert[0])
            log_warn("SIGHUP: TLS was off at start: --tls-cert needs a restart");
        return;
    }
    tls_files_t f = {nc->tls_cert, nc->tls_key, nc->tls_client_ca};
    if (!nc->tls_cert[0]) {
        log_error("SIGHUP: TLS not reloaded: turning it off needs a restart");
        return;
    }
    if (tls_ctx_reload(srv->tls, &f, err, sizeof err)) {
        log_error("SIGHUP: TLS not reloaded, connections still get the certificate loaded "
                  "before: %s",
                  err);
        return;
    }
    snprintf(c->tls_cert, sizeof c->tls_cert, "%s", nc->tls_cert);
    snprintf(c->tls_key, sizeof c->tls_key, "%s", nc->tls_key);
    snprintf(c->tls_client_ca, sizeof c->tls_client_ca, "%s", nc->tls_client_ca);
    log_info("SIGHUP: TLS reloaded from %s (new connections get it)", c->tls_cert);
}

void reload(server_t *srv)
{
    config_t *nc = xmalloc(sizeof *nc);
    char *errs = NULL;
    size_t errn = 0;
    FILE *err = open_memstream(&errs, &errn);
    config_defaults(nc);
    int rc = err ? config_from_args(nc, srv->argc, srv->argv, err) : -1;
    if (rc == 0 && config_resolve_addrs(nc, err) != 0)
        rc = -1;
    if (err)
        fclose(err);
    if (rc != 0) {
        /* one line: the messages without their newlines */
        for (char *p = errs; p && *p; p++)
            if (*p == '\n')
                *p = *(p + 1) ? ' ' : '\0';
        log_error("SIGHUP: configuration not reloaded: %s", errs && *errs ? errs : "error");
        free(errs);
        free(nc);
        if (log_reopen())
            log_error("SIGHUP: cannot reopen the log file: %s", strerror(errno));
        return;
    }
    free(errs);

    changes_t ch = {{0}, {0}};
    config_diff(&srv->cfg, nc, note_change, &ch);

    /* the live ones */
    config_t *c = &srv->cfg;
    log_threshold = nc->log_level;
    c->log_level = nc->log_level;
    if (strcmp(c->log_file, nc->log_file) != 0) {
        if (log_open(nc->log_file))
            log_error("SIGHUP: cannot open --log-file %s: %s", nc->log_file, strerror(errno));
        else
            snprintf(c->log_file, sizeof c->log_file, "%s", nc->log_file);
    } else if (log_reopen()) {
        log_error("SIGHUP: cannot reopen the log file: %s", strerror(errno));
    }
    c->max_body = nc->max_body;
    c->max_body_memory = nc->max_body_memory;
    c->retain_bytes = nc->retain_bytes;
    c->retain_age_s = nc->retain_age_s;
    store_set_retention(srv->store, c->retain_bytes, (int64_t)c->retain_age_s * NS_PER_SEC);
    c->request_timeout_s = nc->request_timeout_s;
    c->header_timeout_s = nc->header_timeout_s;
    c->body_timeout_s = nc->body_timeout_s;
    c->send_timeout_s = nc->send_timeout_s;
    c->rate_limit = nc->rate_limit;
    c->max_client_tails = nc->max_client_tails;
    c->rate_burst = nc->rate_burst;
    c->max_client_connections = nc->max_client_connections;
    c->keepalive_timeout_s = nc->keepalive_timeout_s;
    c->max_connections = nc->max_connections;
    c->allowed_origins = nc->allowed_origins;
    c->allowed_hosts = nc->allowed_hosts;
    c->cors_origins = nc->cors_origins;
    if (access_reload(&srv->access, c, nc)) {
        snprintf(c->auth_file, sizeof c->auth_file, "%s", nc->auth_file);
        routes_tokens_reloaded(srv); /* tails of removed or changed tokens end */
    }
    c->ticket_lifetime_s = nc->ticket_lifetime_s;
    routes_reconfigure(srv); /* re-points the name lists at srv->cfg, new body limits */
    reload_tls(srv, nc);
    free(nc);

    log_info("SIGHUP: configuration reloaded; changed: %s", ch.live[0] ? ch.live : "nothing");
    if (ch.restart[0])
        log_warn("SIGHUP: these changes need a restart and were not applied: %s", ch.restart);
    srv->stats.reloads++;
}

void status_log(server_t *srv)
{
    store_stats_t ss;
    store_get_stats(srv->store, &ss);
    size_t subs = srv->tail ? tail_count(srv->tail) : 0;
    const http_stats_t *hs = srv->http ? http_server_stats(srv->http) : NULL;
    uint64_t open = hs ? hs->conns_open : 0;
    for (int i = 0; i < INPUT_COUNT; i++)
        if (i != INPUT_HTTP) /* the HTTP layer counts its own */
            open += metrics_input((enum input)i)->conns_open;
    log_info("status: up %llds, records %llu..%llu (%llu written since start), %llu segments, "
             "%llu bytes, %llu connections open, %zu live tail subscribers, %zu HTTP requests "
             "in flight",
             (long long)((time_now_ns() - srv->started_ns) / NS_PER_SEC),
             (unsigned long long)ss.first_seq, (unsigned long long)ss.last_seq,
             (unsigned long long)ss.records_written, (unsigned long long)ss.segments,
             (unsigned long long)ss.bytes, (unsigned long long)open, subs, routes_inflight(srv));
}
