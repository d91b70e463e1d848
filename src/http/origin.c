/* origin.c - which browsers' requests logshipd serves: the Host it answers
 * to (against DNS rebinding) and the Origin of requests that change state
 * or open a WebSocket (against cross-site requests). Pure: no sockets.
 *
 * Host: an IP address, localhost (or a name under .localhost), this
 * machine's hostname, or one of --allowed-host ('*': any). Absent (HTTP/1.0)
 * is allowed.
 * Origin: the same origin as the Host the request was sent to, or one of
 * --allowed-origin ('*': any). A request with no Origin is no browser's
 * cross-site request unless Sec-Fetch-Site says it is. A Host without a
 * port matches an Origin of that host on any port: a reverse proxy that
 * passes nginx's $host (proxy_set_header Host $host) drops the port the
 * browser used, and a browser itself sends a port whenever it is not the
 * scheme's default, so only a page on the same host (same-site) gains.
 * (CORS origins, cors.c, are let through by conn.c on the cors routes.)
 */
#include <netinet/in.h>
#include <arpa/inet.h>
#include <strings.h>
#include <unistd.h>

#include "http_int.h"

/* The host of an authority ("h:80", "[::1]:80", "h"), without the port. */
static slice_t host_part(slice_t a)
{
    if (a.n && a.p[0] == '[') {
        const char *e = memchr(a.p, ']', a.n);
        return e ? slice_make(a.p + 1, (size_t)(e - a.p - 1)) : SLICE_NULL;
    }
    const char *colon = memchr(a.p, ':', a.n);
    return colon ? slice_make(a.p, (size_t)(colon - a.p)) : a;
}

static int is_ip(slice_t h)
{
    char tmp[64];
    unsigned char addr[16];
    if (!h.n || h.n >= sizeof tmp)
        return 0;
    memcpy(tmp, h.p, h.n);
    tmp[h.n] = '\0';
    return inet_pton(AF_INET, tmp, addr) == 1 || inet_pton(AF_INET6, tmp, addr) == 1;
}

static int ends_with_nocase(slice_t s, const char *suffix)
{
    size_t n = strlen(suffix);
    return s.n >= n && strncasecmp(s.p + s.n - n, suffix, n) == 0;
}

static int listed(const char *const *list, size_t n, slice_t v)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], "*") == 0 ||
            (strlen(list[i]) == v.n && strncasecmp(list[i], v.p, v.n) == 0))
            return 1;
    return 0;
}

int origin_host_ok(const http_options_t *o, slice_t host)
{
    if (!host.p)
        return 1;
    slice_t h = host_part(host);
    if (!h.n)
        return 0;
    if (h.p[h.n - 1] == '.') /* "localhost." is localhost */
        h.n--;
    if (is_ip(h) || slice_eq_nocase(h, "localhost") || ends_with_nocase(h, ".localhost"))
        return 1;
    char me[256];
    if (gethostname(me, sizeof me) == 0) {
        me[sizeof me - 1] = '\0';
        if (slice_eq_nocase(h, me))
            return 1;
    }
    return listed(o->hosts, o->nhosts, h) || listed(o->hosts, o->nhosts, host);
}

/* "http://h:p" -> "h:p" with the scheme's default port dropped. */
static int origin_authority(slice_t origin, slice_t *auth, int *https)
{
    size_t skip;
    if (origin.n > 7 && strncasecmp(origin.p, "http://", 7) == 0)
        skip = 7, *https = 0;
    else if (origin.n > 8 && strncasecmp(origin.p, "https://", 8) == 0)
        skip = 8, *https = 1;
    else
        return -1;
    *auth = slice_make(origin.p + skip, origin.n - skip);
    if (memchr(auth->p, '/', auth->n))
        return -1;
    return 0;
}

static int same_authority(slice_t a, slice_t b, int https)
{
    const char *dflt = https ? ":443" : ":80";
    size_t dn = strlen(dflt);
    if (a.n > dn && strncmp(a.p + a.n - dn, dflt, dn) == 0)
        a.n -= dn;
    if (b.n > dn && strncmp(b.p + b.n - dn, dflt, dn) == 0)
        b.n -= dn;
    return a.n == b.n && strncasecmp(a.p, b.p, a.n) == 0;
}

/* 1 when the Host authority names no port ("h", "[::1]"). */
static int no_port(slice_t a)
{
    if (a.n && a.p[0] == '[') {
        const char *e = memchr(a.p, ']', a.n);
        return e && (size_t)(e - a.p) + 1 == a.n;
    }
    return !memchr(a.p, ':', a.n);
}

int origin_ok(const http_options_t *o, const http_req_t *r)
{
    slice_t origin = http_header(r, "origin");
    if (!origin.p) {
        slice_t site = http_header(r, "sec-fetch-site");
        /* no Origin: a browser says what it is doing, other clients don't */
        return !site.p || slice_eq_nocase(site, "same-origin") || slice_eq_nocase(site, "none");
    }
    if (listed(o->origins, o->norigins, origin))
        return 1;
    slice_t auth;
    int https;
    if (origin_authority(origin, &auth, &https))
        return 0; /* "null", or not a web origin */
    slice_t host = http_header(r, "host");
    if (!host.p)
        return 0;
    if (same_authority(auth, host, https))
        return 1;
    /* a proxy's Host without the browser's port: the hosts alone */
    slice_t oh = host_part(auth), hh = host_part(host);
    return no_port(host) && oh.n && oh.n == hh.n && strncasecmp(oh.p, hh.p, oh.n) == 0;
}
