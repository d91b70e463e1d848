/* accept.c - the HTTP listening socket, ours rather than lws's.
 *
 * logshipd accepts HTTP connections itself and looks at each connection's
 * first request head with MSG_PEEK (reading nothing) before handing the
 * socket to libwebsockets, which then reads it as if it had accepted it.
 * That lets logshipd:
 *   - answer a header flood with 431 and a JSON error (lws alone just drops
 *     the connection when its header buffer overflows);
 *   - refuse connections over --max-connections with 503 and a JSON error;
 *   - stop accepting on shutdown by closing the socket;
 *   - give up on a client that never finishes its first head (slowloris).
 * Later requests on a kept-alive connection are checked by lws alone.
 *
 * While a head is incomplete its bytes stay in the socket, so readability
 * cannot say "more came"; the head is peeked again on a short timer.
 */
#define _GNU_SOURCE /* accept4, memmem */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/log.h"
#include "http.h"
#include "metrics.h"

#define HEAD_MAX        (16u * 1024) /* bytes of a first request head */
#define HEAD_TIMEOUT_MS 10000
#define REPEEK_MS       5
#define LINGER_MS       2000 /* reading what a refused client still sends */
#define ACCEPT_BURST    64

struct http_listener {
    uv_poll_t poll;
    int fd;
};

typedef struct pending {
    uv_poll_t poll;
    uv_timer_t timer;
    server_t *srv;
    int fd;
    int refusing; /* answered: drop what comes until EOF, then close */
    int handles;
    uint64_t deadline; /* uv_now() ms */
} pending_t;

static char peek_buf[HEAD_MAX];

static void pending_freed(uv_handle_t *h)
{
    pending_t *p = h->data;
    if (--p->handles)
        return;
    if (p->fd >= 0) {
        /* handed over: lws may watch the descriptor only now that our
         * poll handle is gone */
        if (!p->srv->vhost || !lws_adopt_socket_vhost(p->srv->vhost, p->fd))
            log_warn("http: cannot hand a connection to lws");
    }
    free(p);
}

static void pending_end(pending_t *p, int hand_over)
{
    p->srv->http_pending--;
    if (!hand_over) {
        close(p->fd);
        p->fd = -1;
    }
    uv_poll_stop(&p->poll);
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->poll, pending_freed);
    uv_close((uv_handle_t *)&p->timer, pending_freed);
}

static void on_linger_end(uv_timer_t *t)
{
    pending_end(t->data, 0);
}

static void on_drain(uv_poll_t *h, int status, int events);

/* Answers with a small JSON error, then lingers: reads and drops what the
 * client still sends so closing does not reset the connection before it
 * has read the answer. */
static void refuse(pending_t *p, int status, const char *reason, const char *msg)
{
    char body[256], head[512];
    int bn = snprintf(body, sizeof body, "{\"error\":\"%s\"}\n", msg);
    int hn = snprintf(head, sizeof head,
                      "HTTP/1.1 %d %s\r\nServer: logshipd\r\nContent-Type: application/json\r\n"
                      "Content-Length: %d\r\nConnection: close\r\n\r\n",
                      status, reason, bn);
    struct iovec iov[2] = {{head, (size_t)hn}, {body, (size_t)bn}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
    if (sendmsg(p->fd, &mh, MSG_NOSIGNAL) < 0)
        log_debug("http: cannot answer %d: %s", status, strerror(errno));
    metrics.http_status[status]++;
    shutdown(p->fd, SHUT_WR);
    p->refusing = 1;
    uv_poll_start(&p->poll, UV_READABLE, on_drain);
    uv_timer_start(&p->timer, on_linger_end, LINGER_MS, 0);
}

static void on_drain(uv_poll_t *h, int status, int events)
{
    pending_t *p = h->data;
    char sink[4096];
    (void)events;
    ssize_t r = status < 0 ? 0 : recv(p->fd, sink, sizeof sink, 0);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
        pending_end(p, 0);
}

static void peek_head(pending_t *p);

static void on_readable(uv_poll_t *h, int status, int events)
{
    pending_t *p = h->data;
    (void)events;
    if (status < 0) {
        pending_end(p, 0);
        return;
    }
    peek_head(p);
}

static void on_repeek(uv_timer_t *t)
{
    peek_head(t->data);
}

static void peek_head(pending_t *p)
{
    ssize_t n = recv(p->fd, peek_buf, sizeof peek_buf, MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        uv_poll_start(&p->poll, UV_READABLE, on_readable);
        return;
    }
    if (n <= 0) {
        pending_end(p, 0); /* closed before sending a request */
        return;
    }
    if (memmem(peek_buf, (size_t)n, "\r\n\r\n", 4) || memmem(peek_buf, (size_t)n, "\n\n", 2)) {
        pending_end(p, 1);
        return;
    }
    if ((size_t)n >= HEAD_MAX) {
        metrics.http_reject[HREJ_HEADERS]++;
        log_warn("http: refused a request head over %u bytes", HEAD_MAX);
        uv_poll_stop(&p->poll);
        uv_timer_stop(&p->timer);
        refuse(p, 431, "Request Header Fields Too Large",
               "request head larger than 16 KiB (too many or too long headers)");
        return;
    }
    if (uv_now(&p->srv->loop) >= p->deadline) {
        metrics.http_reject[HREJ_HEADERS]++;
        log_debug("http: no complete request head in time");
        pending_end(p, 0);
        return;
    }
    /* incomplete: the bytes stay readable, so look again a little later */
    uv_poll_stop(&p->poll);
    uv_timer_start(&p->timer, on_repeek, REPEEK_MS, 0);
}

static void on_connection(uv_poll_t *h, int status, int events)
{
    server_t *srv = h->data;
    http_listener_t *l = srv->listener;
    (void)events;
    if (status < 0 || !l)
        return;
    for (int i = 0; i < ACCEPT_BURST; i++) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                log_warn("http: accept: %s", strerror(errno));
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pending_t *p = xcalloc(1, sizeof *p);
        p->srv = srv;
        p->fd = fd;
        p->handles = 2;
        uv_poll_init(&srv->loop, &p->poll, fd);
        uv_timer_init(&srv->loop, &p->timer);
        p->poll.data = p->timer.data = p;
        p->deadline = uv_now(&srv->loop) + HEAD_TIMEOUT_MS;
        srv->http_pending++;
        if (metrics.conns_open[INPUT_HTTP] + srv->http_pending >
            (uint64_t)srv->cfg.max_connections) {
            metrics.conns_refused[INPUT_HTTP]++;
            refuse(p, 503, "Service Unavailable", "too many connections (--max-connections)");
            continue;
        }
        uv_poll_start(&p->poll, UV_READABLE, on_readable);
    }
}

int http_listen(server_t *srv, const char *host, int port)
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
        srv->http_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                        : ((struct sockaddr_in *)&ss)->sin_port);
    http_listener_t *l = xcalloc(1, sizeof *l);
    l->fd = fd;
    uv_poll_init(&srv->loop, &l->poll, fd);
    l->poll.data = srv;
    uv_poll_start(&l->poll, UV_READABLE, on_connection);
    srv->listener = l;
    return 0;
}

static void listener_closed(uv_handle_t *h)
{
    http_listener_t *l = container_of(h, http_listener_t, poll);
    close(l->fd);
    free(l);
}

void http_unlisten(server_t *srv)
{
    http_listener_t *l = srv->listener;
    if (!l)
        return;
    srv->listener = NULL;
    uv_poll_stop(&l->poll);
    uv_close((uv_handle_t *)&l->poll, listener_closed);
}
