/* server.c - the HTTP listener and the server object: accepting
 * connections, draining and tearing down, and the request helpers that
 * need no connection (headers, query strings). */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/form_parse.h"
#include "http_int.h"
#include "limit.h"

#define ACCEPT_BURST 64

slice_t http_header(const http_req_t *r, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = r->nheaders; i-- > 0;)
        if (r->names[i].n == n && strncasecmp(r->names[i].p, name, n) == 0)
            return r->values[i];
    return SLICE_NULL;
}

int http_header_copy(const http_req_t *r, const char *name, char *out, size_t cap)
{
    slice_t v = http_header(r, name);
    if (!v.p || !cap)
        return -1;
    size_t n = v.n < cap - 1 ? v.n : cap - 1;
    memcpy(out, v.p, n);
    out[n] = '\0';
    return (int)n;
}

int http_query(const http_req_t *r, struct form *f, const char **err)
{
    size_t at;
    form_reset(f);
    return form_parse(f, r->query.p, r->query.n, err, &at);
}

static void peer_of(const struct sockaddr_storage *ss, char *out, size_t cap)
{
    out[0] = '\0';
    if (ss->ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, out, (socklen_t)cap);
    else if (ss->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, out, (socklen_t)cap);
    else
        snprintf(out, cap, "local");
}

static void on_connection(uv_poll_t *h, int status, int events)
{
    http_server_t *s = h->data;
    (void)events;
    if (status < 0 || !s->listening)
        return;
    for (int i = 0; i < ACCEPT_BURST; i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd = accept4(s->lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                log_warn("http: accept: %s", strerror(errno));
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        char peer[64];
        peer_of(&ss, peer, sizeof peer);
        conn_start(s, fd, peer);
    }
}

http_server_t *http_server_create(uv_loop_t *loop, const http_options_t *o,
                                  const http_route_t *routes, size_t nroutes)
{
    http_server_t *s = xcalloc(1, sizeof *s);
    s->loop = loop;
    s->tlslog.name = "http";
    s->o = *o;
    s->routes = routes;
    s->nroutes = nroutes;
    s->lfd = -1;
    hist_init(&s->stats.request_seconds, &hist_seconds);
    http_settings_init(&s->settings);
    s->limits =
        limit_create(&(limit_options_t){o->rate_limit, o->rate_burst, o->max_client_connections});
    if (!s->limits) {
        free(s);
        return NULL;
    }
    return s;
}

void http_server_set_options(http_server_t *s, const http_options_t *o)
{
    s->o = *o;
    limit_set_options(s->limits,
                      &(limit_options_t){o->rate_limit, o->rate_burst, o->max_client_connections});
}

int http_server_adopt(http_server_t *s, int fd, const char *peer)
{
    if (s->draining)
        return -1;
    conn_start(s, fd, peer);
    return 0;
}

int http_server_listen(http_server_t *s, const char *host, int port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof ss);
    if (strchr(host, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        if (uv_ip6_addr(host, port, a))
            return -EINVAL;
        len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        if (uv_ip4_addr(host, port, a))
            return -EINVAL;
        len = sizeof *a;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 1024)) {
        int e = -errno;
        close(fd);
        return e;
    }
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    s->lfd = fd;
    uv_poll_init(s->loop, &s->lpoll, fd);
    s->lpoll.data = s;
    uv_poll_start(&s->lpoll, UV_READABLE, on_connection);
    s->listening = 1;
    return 0;
}

int http_server_port(const http_server_t *s)
{
    return s->port;
}

static void on_listener_closed(uv_handle_t *h)
{
    http_server_t *s = h->data;
    close(s->lfd);
    s->lfd = -1;
    server_maybe_free(s);
}

static void unlisten(http_server_t *s)
{
    if (!s->listening)
        return;
    s->listening = 0;
    uv_poll_stop(&s->lpoll);
    uv_close((uv_handle_t *)&s->lpoll, on_listener_closed);
}

void http_server_drain(http_server_t *s)
{
    s->draining = 1;
    unlisten(s);
    for (http_conn_t *c = s->conns, *next; c; c = next) {
        next = c->next;
        conn_drain(c);
    }
}

size_t http_server_inflight(const http_server_t *s)
{
    return s->inflight;
}

void server_maybe_free(http_server_t *s)
{
    if (s->destroying && !s->conns && !s->bridges && s->lfd < 0) {
        limit_destroy(s->limits);
        free(s);
    }
}

void http_server_destroy(http_server_t *s)
{
    if (!s)
        return;
    s->draining = 1;
    s->destroying = 1;
    unlisten(s);
    for (http_conn_t *c = s->conns, *next; c; c = next) {
        next = c->next;
        conn_close(c);
    }
    bridge_close_all(s);
    server_maybe_free(s);
}

const http_stats_t *http_server_stats(const http_server_t *s)
{
    return &s->stats;
}

void http_server_on_authorize(http_server_t *s, http_authorize_fn fn, http_release_fn release,
                              void *arg)
{
    s->authorize = fn;
    s->release = release;
    s->auth_arg = arg;
}

void http_server_on_limit_key(http_server_t *s, http_limit_key_fn fn)
{
    s->limit_key = fn;
}

void http_server_set_tls(http_server_t *s, tls_ctx_t *tls)
{
    s->tls = tls;
}

void http_server_on_upgrade(http_server_t *s, http_upgrade_fn fn, void *arg)
{
    s->upgrade = fn;
    s->upgrade_arg = arg;
}

void http_server_set_data(http_server_t *s, void *data)
{
    s->data = data;
}

void *http_server_data(const http_server_t *s)
{
    return s->data;
}
