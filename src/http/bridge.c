/* bridge.c - WebSocket over TLS (wss): the TLS session stays here, lws
 * gets plaintext through a socketpair.
 *
 * Why a bridge: lws adopts a socket and speaks on it itself; it cannot
 * take over a TLS session that is already running (the handshake, the
 * keys and the record state are in our session, and lws would need its
 * own TLS build and certificates on top), and plain WebSocket must keep
 * working exactly as it does (ws.c adopts the client's own socket). So for
 * wss the connection makes a socketpair, hands one end to the upgrade
 * callback with the request head (ws_adopt: lws sees an ordinary plain
 * connection), and relays between the other end and the client through the
 * session: decrypting what the client sends into the pair, encrypting what
 * lws writes. Plain WebSocket does not come here.
 *
 * Buffers (one of each per bridge, BRIDGE_BUF): up holds plaintext from
 * the client not yet taken by the pair; down holds plaintext from lws not
 * yet taken by the session. Backpressure: the client is not read while up
 * holds anything, lws's end is not read while down holds anything or the
 * session holds ciphertext the client has not taken. So memory stays at
 * those buffers and the kernel's, and a slow side slows the other.
 *
 * Closing: the client's end (close_notify, or EOF) shuts down the pair's
 * write side once up is written, so lws reads EOF and closes. lws's end
 * (its close frame done: EOF on the pair) sends close_notify and shuts
 * down the client's write side once down is out, still relaying what the
 * client sends (its answering close frame) until lws closes the pair
 * altogether (seen as a hang-up), the client goes, or BRIDGE_LINGER_MS
 * pass. An error on either side closes both.
 */
#define _GNU_SOURCE /* MSG_NOSIGNAL */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/log.h"
#include "http_int.h"

#define BRIDGE_BUF       (64u * 1024)
#define BRIDGE_LINGER_MS 5000 /* after lws's end: its close-ack timeout */

typedef struct bridge {
    http_server_t *srv;
    struct bridge *prev, *next;
    uv_poll_t net, pair; /* the client's TCP socket, our end of the pair */
    uv_timer_t linger;
    int handles;
    int fd, pfd;
    int net_ev, pair_ev; /* poll interest now */
    tls_session_t *tls;
    char *up, *down;
    size_t up_len, up_pos, down_len, down_pos;
    int net_eof;   /* the client is done sending */
    int pair_eof;  /* lws is done sending */
    int up_shut;   /* the pair's write side is shut */
    int down_shut; /* 1: close_notify queued, 2: the client's write side shut too */
    int pair_gone; /* lws closed its end */
    int dead;
} bridge_t;

static void pump(bridge_t *b);

static void on_closed(uv_handle_t *h)
{
    bridge_t *b = h->data;
    if (--b->handles)
        return;
    /* on the server's list until here, so that it outlives every bridge */
    http_server_t *s = b->srv;
    if (b->prev)
        b->prev->next = b->next;
    else
        s->bridges = b->next;
    if (b->next)
        b->next->prev = b->prev;
    s->nbridges--;
    close(b->fd);
    close(b->pfd);
    tls_session_destroy(b->tls);
    free(b->up);
    free(b->down);
    free(b);
    server_maybe_free(s);
}

static void bridge_close(bridge_t *b)
{
    if (b->dead)
        return;
    b->dead = 1;
    uv_close((uv_handle_t *)&b->net, on_closed);
    uv_close((uv_handle_t *)&b->pair, on_closed);
    uv_close((uv_handle_t *)&b->linger, on_closed);
}

static void on_linger(uv_timer_t *t)
{
    bridge_close(t->data);
}

static int tls_out_held(bridge_t *b)
{
    const char *o;
    return tls_out_peek(b->tls, &o) > 0;
}

static void on_net(uv_poll_t *h, int status, int events)
{
    bridge_t *b = h->data;
    (void)events;
    if (status < 0) {
        bridge_close(b);
        return;
    }
    pump(b);
}

static void on_pair(uv_poll_t *h, int status, int events)
{
    bridge_t *b = h->data;
    if (status < 0) {
        bridge_close(b);
        return;
    }
    if (events & UV_PRIORITIZED)
        b->pair_gone = 1; /* only a hang-up reports it on a socketpair */
    pump(b);
}

/* Client to lws. 0, or -1 when the bridge must close. */
static int relay_up(bridge_t *b)
{
    for (int round = 0; round < 16; round++) {
        if (b->up_pos < b->up_len) {
            ssize_t w = send(b->pfd, b->up + b->up_pos, b->up_len - b->up_pos, MSG_NOSIGNAL);
            if (w < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -1;
            b->up_pos += (size_t)w;
            if (b->up_pos < b->up_len)
                return 0; /* the pair is full: the client waits */
            b->up_pos = b->up_len = 0;
        }
        if (b->net_eof)
            return 0;
        ssize_t r = tls_sock_read(b->fd, b->tls, b->up, BRIDGE_BUF);
        if (r < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return 0;
            if (errno == EPROTO)
                log_debug("http: wss: %s", tls_why(b->tls));
            return -1;
        }
        if (r == 0) {
            b->net_eof = 1;
            return 0;
        }
        b->up_len = (size_t)r;
    }
    return 0;
}

/* lws to the client. 0, or -1 when the bridge must close. */
static int relay_down(bridge_t *b)
{
    for (int round = 0; round < 16; round++) {
        if (tls_sock_flush(b->fd, b->tls) < 0)
            return -1;
        if (b->down_pos < b->down_len) {
            ssize_t w =
                tls_sock_write(b->fd, b->tls, b->down + b->down_pos, b->down_len - b->down_pos);
            if (w < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -1;
            b->down_pos += (size_t)w;
            if (b->down_pos < b->down_len)
                return 0; /* the client is slow: lws waits */
            b->down_pos = b->down_len = 0;
        }
        if (tls_out_held(b))
            return 0;
        if (b->pair_eof)
            return 0;
        ssize_t r = recv(b->pfd, b->down, BRIDGE_BUF, 0);
        if (r < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -1;
        if (r == 0) {
            b->pair_eof = 1;
            return 0;
        }
        b->down_len = (size_t)r;
    }
    return 0;
}

static void set_interest(uv_poll_t *h, int *now, int ev, uv_poll_cb cb)
{
    if (ev == *now)
        return;
    *now = ev;
    if (ev)
        uv_poll_start(h, ev, cb);
    else
        uv_poll_stop(h);
}

static void pump(bridge_t *b)
{
    if (b->dead)
        return;
    if (relay_up(b) || relay_down(b)) {
        bridge_close(b);
        return;
    }
    if (b->net_eof && b->up_pos == b->up_len && !b->up_shut) {
        b->up_shut = 1;
        shutdown(b->pfd, SHUT_WR); /* lws reads the client's end */
    }
    if (b->pair_eof && b->down_pos == b->down_len && !b->down_shut) {
        b->down_shut = 1;
        tls_shutdown(b->tls);
        if (tls_sock_flush(b->fd, b->tls) < 0) {
            bridge_close(b);
            return;
        }
        uv_timer_start(&b->linger, on_linger, BRIDGE_LINGER_MS, 0);
    }
    int held = tls_out_held(b);
    if (b->down_shut == 1 && !held) {
        b->down_shut = 2;
        shutdown(b->fd, SHUT_WR); /* close_notify is out */
    }
    if ((b->pair_gone || (b->net_eof && b->up_shut)) && b->pair_eof && !held) {
        bridge_close(b); /* both sides are done */
        return;
    }
    int net = 0, pair = 0;
    if (!b->net_eof && b->up_pos == b->up_len)
        net |= UV_READABLE;
    if (held)
        net |= UV_WRITABLE;
    if (b->up_pos < b->up_len)
        pair |= UV_WRITABLE;
    if (!b->pair_eof && b->down_pos == b->down_len && !held)
        pair |= UV_READABLE;
    if (b->pair_eof && !b->pair_gone)
        pair |= UV_PRIORITIZED; /* never set on a socketpair: the hang-up wakes it */
    /* input the session holds is read without the socket */
    if ((net & UV_READABLE) && tls_has_input(b->tls))
        net |= UV_WRITABLE;
    set_interest(&b->net, &b->net_ev, net, on_net);
    set_interest(&b->pair, &b->pair_ev, pair, on_pair);
}

int bridge_start(http_server_t *s, int fd, tls_session_t *t, const char *bytes, size_t n,
                 const char *peer, const void *principal)
{
    int sv[2];
    if (s->destroying || !s->upgrade ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv)) {
        close(fd);
        tls_session_destroy(t);
        if (principal && s->release)
            s->release(s->auth_arg, principal); /* the upgrade callback never got it */
        return -1;
    }
    bridge_t *b = xcalloc(1, sizeof *b);
    b->srv = s;
    b->fd = fd;
    b->pfd = sv[0];
    b->tls = t;
    b->up = xmalloc(BRIDGE_BUF);
    b->down = xmalloc(BRIDGE_BUF);
    uv_poll_init(s->loop, &b->net, fd);
    uv_poll_init(s->loop, &b->pair, sv[0]);
    uv_timer_init(s->loop, &b->linger);
    b->net.data = b->pair.data = b->linger.data = b;
    b->handles = 3;
    b->next = s->bridges;
    if (s->bridges)
        s->bridges->prev = b;
    s->bridges = b;
    s->nbridges++;
    s->stats.wss_bridged++;
    /* lws owns sv[1] from here, and closes it when it refuses; the
     * principal is the upgrade callback's (it releases it either way) */
    if (s->upgrade(s->upgrade_arg, sv[1], bytes, n, peer, principal)) {
        b->pair_eof = b->pair_gone = 1;
        bridge_close(b);
        return -1;
    }
    pump(b);
    return 0;
}

void bridge_close_all(http_server_t *s)
{
    for (bridge_t *b = s->bridges, *next; b; b = next) {
        next = b->next;
        bridge_close(b);
    }
}
