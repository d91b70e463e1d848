/* cors.c - Cross-Origin Resource Sharing on the routes marked cors: which
 * origins get it, the answer to a preflight, and the headers every reply to
 * such a request carries. conn.c calls it; it knows no route by name.
 *
 * Policy (docs/PROTOCOL.md, "HTTP connections"):
 *   - Off unless o->cors_origins lists origins ("https://app.example", or
 *     '*' for any). An origin is compared whole, case-insensitively.
 *   - OPTIONS on a cors route is answered here, never by its handler:
 *       Origin listed      204 with Access-Control-Allow-Origin (the origin
 *                          echoed), -Allow-Methods (the route's methods),
 *                          -Allow-Headers (CORS_ALLOW_HEADERS), -Max-Age
 *                          (CORS_MAX_AGE) and Vary: Origin; plus
 *                          -Allow-Private-Network when the browser asks;
 *       Origin not listed  403 without CORS headers (counted as a
 *                          cross-origin refusal);
 *       no Origin          204 with Allow: an ordinary OPTIONS.
 *   - Every other reply to a request from a listed origin on a cors route
 *     (errors and streams included) carries Access-Control-Allow-Origin,
 *     Access-Control-Expose-Headers: Retry-After and Vary: Origin.
 *   - A listed origin passes the Origin check (origin.c) on cors routes
 *     (conn.c), so its pages can POST; other routes still need
 *     --allowed-origin.
 * Credentials are never allowed: logshipd uses no cookies, and the
 * Authorization header a page may send is just a header to it.
 */
#include <stdio.h>
#include <strings.h>

#include "../common/log.h"
#include "http_int.h"

#define CORS_ALLOW_HEADERS "Content-Type, Logship-Producer, Logship-Batch, Authorization"
#define CORS_MAX_AGE       "600" /* seconds a browser may reuse a preflight */
#define CORS_ORIGIN_MAX    256

int cors_listed(const http_options_t *o, slice_t origin)
{
    if (!o->ncors_origins || !origin.p || !origin.n || origin.n > CORS_ORIGIN_MAX)
        return 0;
    for (size_t i = 0; i < origin.n; i++) /* echoed into a reply header */
        if ((unsigned char)origin.p[i] <= ' ' || (unsigned char)origin.p[i] >= 0x7f)
            return 0;
    for (size_t i = 0; i < o->ncors_origins; i++) {
        const char *v = o->cors_origins[i];
        if (strcmp(v, "*") == 0 ||
            (strlen(v) == origin.n && strncasecmp(v, origin.p, origin.n) == 0))
            return 1;
    }
    return 0;
}

size_t cors_reply_headers(const http_conn_t *c, char *out, size_t cap)
{
    slice_t o = c->cors_origin;
    if (!o.n || !cap)
        return 0;
    int n = snprintf(
        out, cap, "Access-Control-Allow-Origin: %.*s\r\n%sVary: Origin\r\n", (int)o.n, o.p,
        c->req.method == HM_OPTIONS ? "" : "Access-Control-Expose-Headers: Retry-After\r\n");
    return n > 0 ? (size_t)n : 0;
}

/* "GET, HEAD, POST" from HM_* bits. */
static void method_list(unsigned m, char *out, size_t cap)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{HM_GET, "GET"}, {HM_HEAD, "HEAD"}, {HM_POST, "POST"}, {HM_OPTIONS, "OPTIONS"}};
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0] && n < cap; i++)
        if (m & names[i].bit)
            n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? ", " : "", names[i].name);
}

void cors_options(http_conn_t *c, const http_route_t *rt)
{
    http_server_t *s = c->srv;
    slice_t origin = http_header(&c->req, "origin");
    char methods[64], allow[64];
    method_list(rt->methods, methods, sizeof methods);
    method_list(rt->methods | HM_OPTIONS, allow, sizeof allow);
    if (!origin.p) {
        const http_header_t h[] = {{"Allow", allow}, {"Cache-Control", "no-store"}};
        http_reply(c, 204, NULL, h, 2, NULL, 0);
        return;
    }
    if (!c->cors_origin.n) {
        s->stats.cross_origin++;
        log_warn("http: refused a CORS preflight from %s (Origin %.*s)", c->peer,
                 (int)(origin.n > CORS_ORIGIN_MAX ? CORS_ORIGIN_MAX : origin.n), origin.p);
        http_reply_error(c, 403, "origin not allowed for CORS: add it with --cors-origin");
        return;
    }
    s->stats.cors_preflights++;
    slice_t pna = http_header(&c->req, "access-control-request-private-network");
    http_header_t h[] = {
        {"Access-Control-Allow-Methods", methods},
        {"Access-Control-Allow-Headers", CORS_ALLOW_HEADERS},
        {"Access-Control-Max-Age", CORS_MAX_AGE},
        {"Allow", allow},
        {"Access-Control-Allow-Private-Network", "true"},
    };
    size_t nh = sizeof h / sizeof h[0];
    if (!slice_eq_nocase(pna, "true"))
        nh--;
    http_reply(c, 204, NULL, h, nh, NULL, 0);
}
