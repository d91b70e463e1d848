/* routes.c - logshipd's HTTP routes and WebSocket handlers: the one place
 * that knows every handler, declares the scope each route needs (access.h
 * has the table and why), owns the context each one runs in (its route's
 * data), and starts and stops the HTTP side. The handlers below src/server/
 * see only their own context and the request's principal; the status and
 * session routes get the server. */
#include <stdio.h>

#include "../common/addr.h"
#include "../common/log.h"
#include "../http/http.h"
#include "../http/ws.h"
#include "../ingest/http/ingest_http.h"
#include "../ingest/http/proto_http.h"
#include "../ingest/es/es_http.h"
#include "../ingest/gelf/gelf_conn.h"
#include "../ingest/journal/journal_http.h"
#include "../ingest/loki/loki_http.h"
#include "../ingest/otlp/otlp_http.h"
#include "../query/query_http.h"
#include "../query/stats_http.h"
#include "../tail/tail_conn.h"
#include "access.h"
#include "routes.h"
#include "status.h"

#define GET_HEAD (HM_GET | HM_HEAD)

/* Set up by routes_start, for the life of the HTTP server. */
static ingest_http_ctx_t ingest; /* /api/log */
static query_http_ctx_t query;   /* /api/logs, /api/stats */
static tail_conn_ctx_t tailc;    /* /api/tail, /api/files (HTTP and WebSocket) */

/* The other shippers' protocols (ingest/http/proto_http.h): one route
 * each, sharing /api/log's store, limits and body memory. */
static proto_route_t loki;         /* /loki/api/v1/push */
static proto_route_t es;           /* /_bulk, /es/... */
static proto_route_t gelf;         /* /gelf */
static proto_route_t otlp;         /* /v1/logs */
static journal_http_ctx_t journal; /* /upload: streamed, not through proto_http */
static const struct {
    proto_route_t *route;
    const proto_http_t *proto;
} protos[] = {
    {&loki, &loki_http},
    {&es, &es_http},
    {&gelf, &gelf_http},
    {&otlp, &otlp_http},
};

/* GET / : the web UI, or Elasticsearch's root for its clients (they
 * check it before anything else). */
static int root_request(http_conn_t *c, const http_req_t *r)
{
    if (es_http_is_client(r)) {
        es_http_root(c, r);
        return 0;
    }
    return status_index_handler.on_request(c, r);
}
static const http_handler_t root_handler = {.name = "index", .on_request = root_request};
#define NPROTOS (sizeof protos / sizeof protos[0])

/* cors: pages of a --cors-origin may ingest, query, tail (SSE, and the
 * WebSocket through the Origin check), get a ticket and check health;
 * files, metrics and the UI stay same-origin. scope: what a token needs
 * there (access.h); tickets: the tail routes take ?ticket= too. */
static const http_route_t routes[] = {
    /* GET /api/log stores a record: a cross-site page must not make one */
    {.methods = HM_GET | HM_POST,
     .path = "/api/log",
     .writes = 1,
     .cors = 1,
     .scope = AUTH_WRITE,
     .handler = &ingest_http_handler,
     .data = &ingest},
    {.methods = GET_HEAD,
     .path = "/api/logs",
     .cors = 1,
     .scope = AUTH_READ,
     .handler = &query_http_handler,
     .data = &query},
    {.methods = GET_HEAD,
     .path = "/api/stats",
     .cors = 1,
     .scope = AUTH_READ,
     .handler = &stats_http_handler,
     .data = &query},
    {.methods = HM_GET,
     .path = "/api/tail",
     .websocket = 1,
     .cors = 1,
     .scope = AUTH_TAIL,
     .tickets = 1,
     .handler = &tail_sse_handler,
     .data = &tailc},
    {.methods = GET_HEAD,
     .path = "/api/files",
     .scope = AUTH_FILES,
     .handler = &files_list_handler,
     .data = &tailc},
    {.methods = HM_GET,
     .path = "/api/files/",
     .prefix = 1,
     .websocket = 1,
     .scope = AUTH_FILES,
     .tickets = 1,
     .handler = &files_file_handler,
     .data = &tailc},
    /* the other shippers' protocols */
    {.methods = HM_POST,
     .path = "/loki/api/v1/push",
     .writes = 1,
     .scope = AUTH_WRITE,
     .handler = &proto_http_handler,
     .data = &loki},
    {.methods = HM_POST | HM_OTHER,
     .path = "/_bulk",
     .writes = 1,
     .scope = AUTH_WRITE,
     .handler = &proto_http_handler,
     .data = &es},
    {.methods = HM_POST,
     .path = "/v1/logs",
     .writes = 1,
     .scope = AUTH_WRITE,
     .handler = &proto_http_handler,
     .data = &otlp},
    {.methods = HM_POST,
     .path = "/upload",
     .writes = 1,
     .scope = AUTH_WRITE,
     .handler = &journal_http_handler,
     .data = &journal},
    {.methods = HM_POST,
     .path = "/gelf",
     .writes = 1,
     .scope = AUTH_WRITE,
     .handler = &proto_http_handler,
     .data = &gelf},
    {.methods = GET_HEAD | HM_POST | HM_OTHER,
     .path = "/es/",
     .prefix = 1,
     .scope = AUTH_WRITE,
     .handler = &proto_http_handler,
     .data = &es},
    {.methods = HM_POST,
     .path = "/api/session",
     .cors = 1,
     .scope = AUTH_ANY,
     .handler = &access_session_handler},
    {.methods = GET_HEAD,
     .path = "/healthz",
     .cors = 1,
     .scope = AUTH_PUBLIC,
     .handler = &status_health_handler},
    {.methods = GET_HEAD,
     .path = "/metrics",
     .scope = AUTH_ADMIN,
     .handler = &status_metrics_handler},
    {.methods = GET_HEAD, .path = "/", .scope = AUTH_PUBLIC, .handler = &root_handler},
    {.methods = GET_HEAD,
     .path = "/ui/",
     .prefix = 1,
     .scope = AUTH_PUBLIC,
     .handler = &status_ui_handler},
};

#define NROUTES (sizeof routes / sizeof routes[0])

const http_route_t *routes_table(size_t *n)
{
    *n = NROUTES;
    return routes;
}

/* The HTTP layer's options from srv->cfg. */
static void http_options_of(server_t *srv, http_options_t *ho)
{
    /* the option structs may have been copied: point at this copy */
    for (int i = 0; i < srv->cfg.allowed_origins.n; i++)
        srv->cfg.allowed_origins.ptr[i] = srv->cfg.allowed_origins.v[i];
    for (int i = 0; i < srv->cfg.allowed_hosts.n; i++)
        srv->cfg.allowed_hosts.ptr[i] = srv->cfg.allowed_hosts.v[i];
    for (int i = 0; i < srv->cfg.cors_origins.n; i++)
        srv->cfg.cors_origins.ptr[i] = srv->cfg.cors_origins.v[i];
    *ho = (http_options_t){
        .max_connections = (size_t)srv->cfg.max_connections,
        .request_timeout_ms = srv->cfg.request_timeout_s * 1000,
        .header_timeout_ms = srv->cfg.header_timeout_s * 1000,
        .body_timeout_ms = srv->cfg.body_timeout_s * 1000,
        .send_timeout_ms = srv->cfg.send_timeout_s * 1000,
        .rate_limit = srv->cfg.rate_limit,
        .rate_burst = (double)srv->cfg.rate_burst,
        .max_client_connections = (size_t)srv->cfg.max_client_connections,
        .keepalive_timeout_ms = srv->cfg.keepalive_timeout_s * 1000,
        .origins = srv->cfg.allowed_origins.ptr,
        .norigins = (size_t)srv->cfg.allowed_origins.n,
        .hosts = srv->cfg.allowed_hosts.ptr,
        .nhosts = (size_t)srv->cfg.allowed_hosts.n,
        .cors_origins = srv->cfg.cors_origins.ptr,
        .ncors_origins = (size_t)srv->cfg.cors_origins.n,
    };
}

/* The ingest route's limits from srv->cfg. */
static ingest_http_limits_t ingest_limits_of(const server_t *srv)
{
    return (ingest_http_limits_t){
        .max_body = srv->cfg.max_body,
        .max_body_memory = srv->cfg.max_body_memory,
    };
}

static int tail_check(void *arg, const void *principal, enum tail_need need, const char **why)
{
    return access_tail_check(arg, principal, need == TAIL_NEED_FILES, why);
}

void routes_tokens_reloaded(server_t *srv)
{
    if (!srv->http)
        return;
    size_t n = tail_conn_recheck(&tailc, tail_check, &srv->access);
    if (n)
        log_info("SIGHUP: %zu live tails closed: their token was removed or changed", n);
}

void routes_reconfigure(server_t *srv)
{
    if (!srv->http)
        return;
    http_options_t ho;
    http_options_of(srv, &ho);
    http_server_set_options(srv->http, &ho);
    ingest_http_limits_t lim = ingest_limits_of(srv);
    ingest_http_set_limits(&ingest, &lim);
    limit_set_options(tailc.tails,
                      &(limit_options_t){.max_conns = (size_t)srv->cfg.max_client_tails});
}

int routes_create(server_t *srv)
{
    ingest_http_limits_t lim = ingest_limits_of(srv);
    ingest_http_init(&ingest, srv->store, &lim);
    for (size_t i = 0; i < NPROTOS; i++)
        proto_route_init(protos[i].route, protos[i].proto, &ingest);
    journal = (journal_http_ctx_t){.ingest = &ingest, .max_line = srv->cfg.max_line};
    query = (query_http_ctx_t){.store = srv->store, .loop = &srv->loop};
    tailc = (tail_conn_ctx_t){
        .loop = &srv->loop,
        .tail = srv->tail,
        .roots = srv->roots,
        .tails = limit_create(&(limit_options_t){.max_conns = (size_t)srv->cfg.max_client_tails}),
        .principal_name = access_limit_key};
    if (!tailc.tails)
        return -1;
    for (size_t i = 0; i < NROUTES; i++) {
        if (!routes[i].scope) { /* every route says what it needs */
            log_error("internal: route %s declares no scope", routes[i].path);
            return -1;
        }
    }
    ws_options_t wo = {.ping_s = srv->cfg.ws_ping_s,
                       .timeout_s = srv->cfg.ws_timeout_s,
                       .release = access_release,
                       .release_arg = &srv->access};
    srv->ws = ws_create(&srv->loop, &wo, tail_ws_handlers, 2, &tailc);
    if (!srv->ws)
        return -1;
    http_options_t ho;
    http_options_of(srv, &ho);
    srv->http = http_server_create(&srv->loop, &ho, routes, NROUTES);
    http_server_set_data(srv->http, srv); /* for the status and session routes */
    http_server_set_tls(srv->http, srv->tls);
    http_server_on_upgrade(srv->http, ws_adopt, srv->ws);
    /* with no --auth-file access_authorize lets everything through */
    http_server_on_authorize(srv->http, access_authorize, access_release, &srv->access);
    http_server_on_limit_key(srv->http, access_limit_key);
    return 0;
}

int routes_start(server_t *srv)
{
    char host[CONFIG_ADDR_MAX];
    int port;
    if (strcmp(srv->cfg.http, "off") == 0)
        return 0;
    if (addr_split(srv->cfg.http, host, sizeof host, &port)) {
        log_error("bad --http address %s", srv->cfg.http);
        return -1;
    }
    if (routes_create(srv))
        return -1;
    int rc = http_server_listen(srv->http, host, port);
    if (rc) {
        log_error("cannot listen for HTTP on %s: %s", srv->cfg.http, strerror(-rc));
        return -1;
    }
    srv->http_port = http_server_port(srv->http);
    log_info("http listening on %s:%d%s", host, srv->http_port, srv->tls ? " (TLS)" : "");
    return 0;
}

void routes_drain(server_t *srv)
{
    if (srv->http)
        http_server_drain(srv->http);
}

size_t routes_inflight(const server_t *srv)
{
    return srv->http ? http_server_inflight(srv->http) : 0;
}

void routes_stop(server_t *srv)
{
    http_server_destroy(srv->http);
    srv->http = NULL;
    ws_destroy(srv->ws); /* freed by ws_free once the loop has ended */
}

void routes_free(server_t *srv)
{
    (void)srv;
    for (size_t i = 0; i < NPROTOS; i++)
        proto_route_close(protos[i].route);
    ingest_http_close(&ingest);
    limit_destroy(tailc.tails); /* every tail has ended: nothing counts in it now */
    tailc.tails = NULL;
}
