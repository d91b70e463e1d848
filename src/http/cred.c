/* cred.c - the credential a request carries: an Authorization header
 * (Bearer, or Basic with the token as the password) or a ticket in the
 * query string. Pure: bytes in, a http_cred_t out (see http.h). */
#include <strings.h>

#include "http.h"

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decodes standard base64 (padding optional) into out[0..cap); the
 * length, or -1 when it is not base64 or does not fit. */
static long b64_decode(const char *p, size_t n, char *out, size_t cap)
{
    while (n && p[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64val((unsigned char)p[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == cap)
                return -1;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    return (long)o;
}

static int scheme_is(slice_t v, const char *scheme, slice_t *rest)
{
    size_t n = strlen(scheme);
    if (v.n <= n || strncasecmp(v.p, scheme, n) != 0 || (v.p[n] != ' ' && v.p[n] != '\t'))
        return 0;
    size_t i = n;
    while (i < v.n && (v.p[i] == ' ' || v.p[i] == '\t'))
        i++;
    size_t e = v.n;
    while (e > i && (v.p[e - 1] == ' ' || v.p[e - 1] == '\t'))
        e--;
    *rest = slice_make(v.p + i, e - i);
    return 1;
}

/* The value of the first "ticket=" pair of a query string, as sent. */
static slice_t ticket_of(slice_t q)
{
    size_t i = 0;
    while (i < q.n) {
        const char *amp = memchr(q.p + i, '&', q.n - i);
        size_t end = amp ? (size_t)(amp - q.p) : q.n;
        if (end - i >= 7 && memcmp(q.p + i, "ticket=", 7) == 0)
            return slice_make(q.p + i + 7, end - i - 7);
        i = end + 1;
    }
    return SLICE_NULL;
}

void http_cred_parse(slice_t authorization, slice_t query, int tickets, http_cred_t *c)
{
    slice_t rest;
    c->kind = HTTP_CRED_NONE;
    c->secret = c->user = SLICE_NULL;
    if (authorization.p) {
        c->kind = HTTP_CRED_BAD;
        if (scheme_is(authorization, "Bearer", &rest)) {
            if (rest.n && !memchr(rest.p, ' ', rest.n) && !memchr(rest.p, '\t', rest.n)) {
                c->kind = HTTP_CRED_BEARER;
                c->secret = rest;
            }
        } else if (scheme_is(authorization, "Basic", &rest)) {
            long n = b64_decode(rest.p, rest.n, c->decoded, sizeof c->decoded);
            const char *colon = n > 0 ? memchr(c->decoded, ':', (size_t)n) : NULL;
            if (colon && colon + 1 < c->decoded + n) {
                c->kind = HTTP_CRED_BASIC;
                c->user = slice_make(c->decoded, (size_t)(colon - c->decoded));
                c->secret = slice_make(colon + 1, (size_t)(c->decoded + n - colon - 1));
            }
        }
        return;
    }
    if (tickets) {
        slice_t t = ticket_of(query);
        if (t.p) {
            c->kind = t.n ? HTTP_CRED_TICKET : HTTP_CRED_BAD;
            c->secret = t;
        }
    }
}
