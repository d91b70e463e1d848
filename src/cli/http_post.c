/* http_post.c - POST requests on a keep-alive connection: see http_post.h.
 *
 * Connecting tries every address the host resolves to, in order, each with
 * a non-blocking connect() and poll(), and reports the last one's errno.
 * The reply is parsed just enough: the status line, Content-Length,
 * Transfer-Encoding: chunked and Connection: close; a body without length
 * ends at the close.
 *
 * With https:// the connected socket gets a TLS session (tls_client.h)
 * before the first request, its handshake stepped with poll() on whatever
 * OpenSSL wants (POLLIN or POLLOUT), like every read and write after it:
 * send_all() and fill() below are the only places bytes move, and each
 * has its plain and its TLS way.
 */
#include "http_post.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/timeutil.h"
#include "../common/version.h"

#define HEAD_MAX (16 * 1024)

int hpost_init(hpost_t *c, const char *url, const char *suffix, SSL_CTX *tls, char *err,
               size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    if (url_parse(url, &c->url, err, errlen))
        return -1;
    if (c->url.tls && !tls) {
        snprintf(err, errlen, "https:// needs TLS settings");
        return -1;
    }
    c->tls = c->url.tls ? tls : NULL;
    const char *p = c->url.path;
    const char *q = strchr(p, '?');
    size_t pl = q ? (size_t)(q - p) : strlen(p);
    while (pl && p[pl - 1] == '/')
        pl--;
    int n = snprintf(c->path, sizeof c->path, "%s%.*s%s%s", pl && p[0] != '/' ? "/" : "", (int)pl,
                     p, suffix, q ? q : "");
    if (n < 0 || (size_t)n >= sizeof c->path) {
        snprintf(err, errlen, "URL too long");
        return -1;
    }
    return 0;
}

/* Milliseconds left until deadline (-1: none), for poll(); 0 when past. */
static int left_ms(int64_t deadline)
{
    if (deadline < 0)
        return -1;
    int64_t ns = deadline - time_mono_ns();
    if (ns <= 0)
        return 0;
    int64_t ms = (ns + NS_PER_MS - 1) / NS_PER_MS;
    return ms > 60000 ? 60000 : (int)ms;
}

/* Waits for events on fd until deadline; 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        struct pollfd pf = {fd, events, 0};
        int ms = left_ms(deadline);
        if (ms == 0)
            return 0;
        int r = poll(&pf, 1, ms);
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return -1;
        if (r == 0 && deadline >= 0 && time_mono_ns() >= deadline)
            return 0;
    }
}

static void name_addr(const struct addrinfo *a, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN + 1], serv[8];
    if (getnameinfo(a->ai_addr, a->ai_addrlen, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV)) {
        snprintf(out, cap, "?");
        return;
    }
    snprintf(out, cap, a->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

/* One address: 0 with the socket in *out, else an errno. */
static int connect_one(const struct addrinfo *a, int64_t deadline, int *out)
{
    int fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    int err = 0;
    if (connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
        if (errno != EINPROGRESS) {
            err = errno;
        } else {
            int r = wait_fd(fd, POLLOUT, deadline);
            socklen_t len = sizeof err;
            if (r == 0)
                err = ETIMEDOUT;
            else if (r < 0)
                err = errno;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
                err = errno;
        }
    }
    if (err) {
        close(fd);
        return err;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *out = fd;
    return 0;
}

/* Waits for what a TLS call asked for (TLS_CLIENT_WANT_*); 1 ready, 0
 * timed out, -1 error. */
static int wait_tls(int fd, int want, int64_t deadline)
{
    return wait_fd(fd, want == TLS_CLIENT_WANT_WRITE ? POLLOUT : POLLIN, deadline);
}

/* The TLS session on the fresh connection to where. */
static int handshake(hpost_t *c, const char *where, int64_t deadline, char *err, size_t errlen)
{
    char why[192];
    int rc = HPOST_ECONNECT;
    if (!(c->ssl = tls_client_new(c->tls, c->fd, c->url.host, why, sizeof why)))
        goto fail;
    for (;;) {
        int r = tls_client_handshake(c->ssl, why, sizeof why);
        if (r == TLS_CLIENT_DONE)
            return HPOST_OK;
        if (r != TLS_CLIENT_WANT_READ && r != TLS_CLIENT_WANT_WRITE) {
            rc = r == TLS_CLIENT_REFUSED ? HPOST_EREFUSED : HPOST_ECONNECT;
            goto fail;
        }
        int w = wait_tls(c->fd, r, deadline);
        if (w <= 0) {
            snprintf(why, sizeof why, "%s", w == 0 ? "timed out" : strerror(errno));
            rc = w == 0 ? HPOST_ETIMEDOUT : HPOST_ECONNECT;
            goto fail;
        }
    }
fail:
    snprintf(err, errlen, "TLS handshake with %s failed: %s", where, why);
    hpost_close(c);
    return rc;
}

int hpost_connect(hpost_t *c, int64_t deadline, char *err, size_t errlen)
{
    if (c->fd >= 0)
        return HPOST_OK;
    char port[8];
    snprintf(port, sizeof port, "%d", c->url.port);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(c->url.host, port, &hints, &res);
    if (rc || !res) {
        snprintf(err, errlen, "cannot resolve '%s': %s", c->url.host,
                 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        return HPOST_ECONNECT;
    }
    int e = 0;
    char where[INET6_ADDRSTRLEN + 16] = "?";
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        name_addr(a, where, sizeof where);
        if ((e = connect_one(a, deadline, &c->fd)) == 0)
            break;
        if (e == ETIMEDOUT && deadline >= 0 && time_mono_ns() >= deadline)
            break; /* no time left for the others */
    }
    freeaddrinfo(res);
    if (e) {
        snprintf(err, errlen, "cannot connect to %s: %s", where, strerror(e));
        return e == ETIMEDOUT ? HPOST_ETIMEDOUT : HPOST_ECONNECT;
    }
    buf_reset(&c->in);
    c->why[0] = '\0';
    return c->tls ? handshake(c, where, deadline, err, errlen) : HPOST_OK;
}

void hpost_close(hpost_t *c)
{
    tls_client_close(c->ssl);
    c->ssl = NULL;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    buf_reset(&c->in);
}

void hpost_free(hpost_t *c)
{
    hpost_close(c);
    buf_free(&c->in);
}

/* A kept connection the server has closed (idle timeout) reads as EOF.
 * Under TLS what is readable may be a session ticket (no bytes for us):
 * OpenSSL takes it; bytes no request asked for mean the connection is
 * not in step any more, and it goes too. */
static int went_away(hpost_t *c)
{
    struct pollfd pf = {c->fd, POLLIN, 0};
    if (poll(&pf, 1, 0) <= 0)
        return 0;
    if (c->ssl) {
        char b[256], why[192];
        ssize_t r = tls_client_read(c->ssl, b, sizeof b, why, sizeof why);
        if (r == TLS_CLIENT_REFUSED) {
            c->refused = 1;
            snprintf(c->why, sizeof c->why, "%s", why);
        }
        return r != TLS_CLIENT_WANT_READ && r != TLS_CLIENT_WANT_WRITE;
    }
    char b;
    ssize_t r = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* One TLS write or read that failed for good: the reason in c->why,
 * errno EPIPE (EOF) or EIO. */
static int tls_failed(hpost_t *c, ssize_t r, const char *why)
{
    snprintf(c->why, sizeof c->why, "%s", why);
    c->refused = r == TLS_CLIENT_REFUSED;
    errno = r == TLS_CLIENT_EOF ? EPIPE : EIO;
    return -1;
}

static int send_tls(hpost_t *c, const char *p, size_t n, int64_t deadline)
{
    char why[192];
    while (n) {
        ssize_t w = tls_client_write(c->ssl, p, n, why, sizeof why);
        if (w == TLS_CLIENT_WANT_READ || w == TLS_CLIENT_WANT_WRITE) {
            int r = wait_tls(c->fd, (int)w, deadline);
            if (r <= 0) {
                if (r == 0)
                    errno = ETIMEDOUT;
                return -1;
            }
            continue;
        }
        if (w == TLS_CLIENT_ERROR) {
            /* a server that refused us may have said so before it went:
             * its alert is worth more than "Broken pipe" */
            char b[256], why2[192];
            if (tls_client_read(c->ssl, b, sizeof b, why2, sizeof why2) == TLS_CLIENT_REFUSED)
                return tls_failed(c, TLS_CLIENT_REFUSED, why2);
        }
        if (w < 0)
            return tls_failed(c, w, why);
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int send_all(hpost_t *c, const char *p, size_t n, int64_t deadline)
{
    if (c->ssl)
        return send_tls(c, p, n, deadline);
    int fd = c->fd;
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int r = wait_fd(fd, POLLOUT, deadline);
            if (r <= 0) {
                if (r == 0)
                    errno = ETIMEDOUT;
                return -1;
            }
            continue;
        }
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads more into c->in; 1 read, 0 EOF, -1 error (errno; ETIMEDOUT). */
static int fill(hpost_t *c, int64_t deadline)
{
    while (c->ssl) {
        char *p = buf_reserve(&c->in, 16384), why[192];
        ssize_t r = tls_client_read(c->ssl, p, 16384, why, sizeof why);
        if (r > 0) {
            c->in.len += (size_t)r;
            return 1;
        }
        if (r == TLS_CLIENT_EOF)
            return 0;
        if (r != TLS_CLIENT_WANT_READ && r != TLS_CLIENT_WANT_WRITE)
            return tls_failed(c, r, why);
        int w = wait_tls(c->fd, (int)r, deadline);
        if (w <= 0) {
            if (w == 0)
                errno = ETIMEDOUT;
            return -1;
        }
    }
    for (;;) {
        char *p = buf_reserve(&c->in, 16384);
        ssize_t r = recv(c->fd, p, 16384, 0);
        if (r > 0) {
            c->in.len += (size_t)r;
            return 1;
        }
        if (r == 0)
            return 0;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        int w = wait_fd(c->fd, POLLIN, deadline);
        if (w <= 0) {
            if (w == 0)
                errno = ETIMEDOUT;
            return -1;
        }
    }
}

/* The value of header name in the head [p, end), or NULL. */
static const char *header(const char *p, const char *end, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1, *ve = eol;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            *len = (size_t)(ve - v);
            return v;
        }
        p = eol + 1;
    }
    return NULL;
}

static void keep_reply(buf_t *reply, const char *p, size_t n)
{
    size_t room = HPOST_REPLY_MAX > reply->len ? HPOST_REPLY_MAX - reply->len : 0;
    buf_append(reply, p, n < room ? n : room);
}

/* Drops the first n bytes of c->in. */
static void consume(hpost_t *c, size_t n)
{
    memmove(c->in.data, c->in.data + n, c->in.len - n);
    c->in.len -= n;
}

/* The newline ending the line at the start of c->in, reading more as
 * needed (lines of at most max bytes). NULL with errno set on failure
 * (EPROTO for a line too long or an early EOF). */
static char *need_line(hpost_t *c, int64_t deadline, size_t max)
{
    char *nl;
    while (!(nl = c->in.len ? memchr(c->in.data, '\n', c->in.len) : NULL)) {
        errno = 0;
        if (c->in.len > max || fill(c, deadline) <= 0) {
            if (!errno || c->in.len > max)
                errno = EPROTO;
            return NULL;
        }
    }
    return nl;
}

/* Reads a chunked body into reply. 0, or -1 (errno, or EPROTO). */
static int read_chunked(hpost_t *c, buf_t *reply, int64_t deadline)
{
    for (;;) {
        char *nl = need_line(c, deadline, 1024);
        if (!nl)
            return -1;
        char *end;
        unsigned long long size = strtoull(c->in.data, &end, 16);
        if (end == c->in.data || size > (1ULL << 40)) {
            errno = EPROTO;
            return -1;
        }
        consume(c, (size_t)(nl - c->in.data) + 1);
        if (size == 0) {
            for (;;) { /* trailers, up to the empty line */
                if (!(nl = need_line(c, deadline, HEAD_MAX)))
                    return -1;
                size_t ll = (size_t)(nl - c->in.data);
                int empty = ll == 0 || (ll == 1 && c->in.data[0] == '\r');
                consume(c, ll + 1);
                if (empty)
                    return 0;
            }
        }
        while (c->in.len < size + 2) {
            size_t take = c->in.len < size ? c->in.len : (size_t)size;
            keep_reply(reply, c->in.data, take);
            consume(c, take);
            size -= take;
            errno = 0;
            if (c->in.len < size + 2 && fill(c, deadline) <= 0) {
                if (!errno)
                    errno = EPROTO;
                return -1;
            }
        }
        keep_reply(reply, c->in.data, (size_t)size);
        consume(c, (size_t)size + 2);
    }
}

/* The end of the head ("\r\n\r\n") in c->in, or NULL. */
static char *head_end(const hpost_t *c)
{
    for (size_t i = 0; i + 4 <= c->in.len; i++)
        if (memcmp(c->in.data + i, "\r\n\r\n", 4) == 0)
            return c->in.data + i;
    return NULL;
}

static int read_reply(hpost_t *c, int *status, buf_t *reply, int64_t deadline, int *keep_alive)
{
    char *hend;
    errno = 0;
    while (!(hend = head_end(c))) {
        if (c->in.len > HEAD_MAX) {
            errno = EPROTO;
            return -1;
        }
        int r = fill(c, deadline);
        if (r <= 0) {
            if (r == 0)
                errno = c->in.len ? EPROTO : ECONNRESET;
            return -1;
        }
    }
    size_t head_len = (size_t)(hend - c->in.data) + 4;
    const char *h = c->in.data, *he = hend + 2;
    int minor, code;
    if (sscanf(h, "HTTP/1.%d %3d", &minor, &code) != 2 || code < 100 || code > 999) {
        errno = EPROTO;
        return -1;
    }
    size_t vl;
    const char *v = header(h, he, "connection", &vl);
    *keep_alive = minor >= 1 && !(v && vl == 5 && strncasecmp(v, "close", 5) == 0);
    const char *te = header(h, he, "transfer-encoding", &vl);
    int chunked = te && vl >= 7 && strncasecmp(te + vl - 7, "chunked", 7) == 0;
    const char *cl = header(h, he, "content-length", &vl);
    long long length = -1;
    if (cl && !chunked) {
        char num[24];
        snprintf(num, sizeof num, "%.*s", (int)(vl < 23 ? vl : 23), cl);
        char *end;
        length = strtoll(num, &end, 10);
        if (end == num || *end || length < 0) {
            errno = EPROTO;
            return -1;
        }
    }
    consume(c, head_len);
    *status = code;
    buf_reset(reply);
    if (code == 204 || code == 304 || code < 200) {
        if (code < 200)
            return read_reply(c, status, reply, deadline, keep_alive); /* 100 Continue */
        return 0;
    }
    if (chunked)
        return read_chunked(c, reply, deadline);
    if (length >= 0) {
        while ((long long)c->in.len < length) {
            errno = 0;
            int r = fill(c, deadline);
            if (r <= 0) {
                if (r == 0)
                    errno = ECONNRESET;
                return -1;
            }
            if (c->in.len > (size_t)HPOST_REPLY_MAX) {
                size_t take = c->in.len < (size_t)length ? c->in.len : (size_t)length;
                keep_reply(reply, c->in.data, take);
                consume(c, take);
                length -= (long long)take;
            }
        }
        keep_reply(reply, c->in.data, (size_t)length);
        consume(c, (size_t)length);
        return 0;
    }
    /* to the close */
    *keep_alive = 0;
    for (;;) {
        keep_reply(reply, c->in.data, c->in.len);
        buf_reset(&c->in);
        errno = 0;
        int r = fill(c, deadline);
        if (r == 0)
            return 0;
        if (r < 0)
            return -1;
    }
}

int hpost_request(hpost_t *c, const char *ctype, const char *headers, const char *body, size_t n,
                  int64_t deadline, int *status, buf_t *reply, char *err, size_t errlen)
{
    *status = 0;
    c->refused = 0;
    if (c->fd >= 0 && went_away(c)) {
        hpost_close(c);
        if (c->refused) {
            snprintf(err, errlen, "%s: %s", c->url.authority, c->why);
            return HPOST_EREFUSED;
        }
    }
    int rc = hpost_connect(c, deadline, err, errlen);
    if (rc)
        return rc;
    buf_t req = BUF_INIT;
    buf_printf(&req,
               "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: logship/" LOGSHIP_VERSION
               "\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n",
               c->path, c->url.authority, ctype, n, headers);
    int keep_alive = 0;
    errno = 0;
    c->why[0] = '\0';
    if (send_all(c, req.data, req.len, deadline) || send_all(c, body, n, deadline) ||
        read_reply(c, status, reply, deadline, &keep_alive)) {
        int e = errno ? errno : EPROTO;
        buf_free(&req);
        hpost_close(c);
        if (c->refused) {
            snprintf(err, errlen, "%s: %s", c->url.authority, c->why);
            return HPOST_EREFUSED;
        }
        if (c->why[0] && e != ETIMEDOUT) {
            snprintf(err, errlen, "connection to %s lost: %s", c->url.authority, c->why);
            return HPOST_EBROKEN;
        }
        if (e == ETIMEDOUT) {
            snprintf(err, errlen, "no answer from %s in time", c->url.authority);
            return HPOST_ETIMEDOUT;
        }
        if (e == EPROTO)
            snprintf(err, errlen, "no valid HTTP reply from %s", c->url.authority);
        else
            snprintf(err, errlen, "connection to %s lost: %s", c->url.authority, strerror(e));
        return HPOST_EBROKEN;
    }
    buf_free(&req);
    if (!keep_alive)
        hpost_close(c);
    return HPOST_OK;
}
