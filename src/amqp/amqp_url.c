/* amqp_url.c - AMQP URL parsing: see amqp_url.h. */
#include "amqp_url.h"

#include <stdio.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into out (cap bytes with the NUL). */
static int decode(const char *s, size_t n, char *out, size_t cap, const char **why)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                *why = "a '%' escape needs two hex digits";
                return -1;
            }
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0') {
            *why = "a NUL byte in the URL";
            return -1;
        }
        if (o + 1 >= cap) {
            *why = "a part of the URL is longer than 255 bytes";
            return -1;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

static int prefix_nocase(const char *s, size_t n, const char *p)
{
    size_t pn = strlen(p);
    if (n < pn)
        return 0;
    for (size_t i = 0; i < pn; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != p[i])
            return 0;
    }
    return 1;
}

int amqp_url_parse(const char *s, size_t n, amqp_url_t *u, const char **why)
{
    memset(u, 0, sizeof *u);
    size_t i;
    if (prefix_nocase(s, n, "amqps://")) {
        u->tls = 1;
        i = 8;
    } else if (prefix_nocase(s, n, "amqp://")) {
        i = 7;
    } else {
        *why = "expected amqp://[USER[:PASS]@]HOST[:PORT][/VHOST] or amqps://...";
        return -1;
    }
    if (memchr(s, '\0', n)) {
        *why = "a NUL byte in the URL";
        return -1;
    }
    if (memchr(s, '?', n) || memchr(s, '#', n)) {
        *why = "query parameters and fragments are not supported";
        return -1;
    }
    const char *auth = s + i, *end = s + n;
    const char *slash = memchr(auth, '/', (size_t)(end - auth));
    const char *aend = slash ? slash : end;

    /* USER[:PASS]@, up to the last '@' of the authority */
    const char *at = NULL;
    for (const char *p = auth; p < aend; p++)
        if (*p == '@')
            at = p;
    snprintf(u->user, sizeof u->user, "guest");
    snprintf(u->pass, sizeof u->pass, "guest");
    const char *hp = auth;
    if (at) {
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        const char *uend = colon ? colon : at;
        if (decode(auth, (size_t)(uend - auth), u->user, sizeof u->user, why))
            return -1;
        if (colon && decode(colon + 1, (size_t)(at - colon - 1), u->pass, sizeof u->pass, why))
            return -1;
        hp = at + 1;
    }

    /* HOST or [V6], then :PORT */
    const char *hend, *port = NULL;
    int v6 = hp < aend && *hp == '[';
    if (v6) {
        const char *rb = memchr(hp, ']', (size_t)(aend - hp));
        if (!rb) {
            *why = "an IPv6 address needs its closing ']'";
            return -1;
        }
        if (rb + 1 < aend && rb[1] != ':') {
            *why = "expected ':PORT' after the IPv6 address";
            return -1;
        }
        hend = rb;
        port = rb + 1 < aend ? rb + 2 : NULL;
        hp++;
    } else {
        const char *colon = memchr(hp, ':', (size_t)(aend - hp));
        hend = colon ? colon : aend;
        port = colon ? colon + 1 : NULL;
    }
    if (hend == hp) {
        *why = "the URL has no host";
        return -1;
    }
    /* a name or an IPv4 address, or inside [] an IPv6 one: never escaped */
    size_t hn = (size_t)(hend - hp);
    if (hn >= sizeof u->host) {
        *why = "a part of the URL is longer than 255 bytes";
        return -1;
    }
    const char *allowed = v6 ? "0123456789abcdefABCDEF:."
                             : "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._";
    for (size_t k = 0; k < hn; k++) {
        if (!strchr(allowed, hp[k]) || hp[k] == '\0') {
            *why = "the host must be a name, an IPv4 address or an [IPv6] address";
            return -1;
        }
    }
    memcpy(u->host, hp, hn);
    u->host[hn] = '\0';
    u->port = u->tls ? 5671 : 5672;
    if (port) {
        long v = 0;
        if (port == aend) {
            *why = "expected a port number after ':'";
            return -1;
        }
        for (const char *p = port; p < aend; p++) {
            if (*p < '0' || *p > '9' || v > 65535) {
                *why = "the port must be a number from 1 to 65535";
                return -1;
            }
            v = v * 10 + (*p - '0');
        }
        if (v < 1 || v > 65535) {
            *why = "the port must be a number from 1 to 65535";
            return -1;
        }
        u->port = (int)v;
    }

    /* /VHOST: percent-decoded; a '/' in it must be written %2f */
    if (slash && slash + 1 < end) {
        if (memchr(slash + 1, '/', (size_t)(end - slash - 1))) {
            *why = "a '/' in the vhost must be written %2f";
            return -1;
        }
        if (decode(slash + 1, (size_t)(end - slash - 1), u->vhost, sizeof u->vhost, why))
            return -1;
    }
    if (!u->vhost[0])
        snprintf(u->vhost, sizeof u->vhost, "/");
    return 0;
}

/* Appends s percent-encoded where a URL part needs it. */
static size_t encode(char *out, size_t cap, size_t o, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~';
        if (plain && o + 1 < cap) {
            out[o++] = (char)c;
        } else if (!plain && o + 3 < cap) {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o < cap ? o : cap - 1] = '\0';
    return o;
}

void amqp_url_redacted(const amqp_url_t *u, char *out, size_t cap)
{
    if (!cap)
        return;
    int v6 = strchr(u->host, ':') != NULL;
    int n = snprintf(out, cap, "%s://", u->tls ? "amqps" : "amqp");
    size_t o = n > 0 && (size_t)n < cap ? (size_t)n : cap - 1;
    o = encode(out, cap, o, u->user);
    n = snprintf(out + o, cap - o, "@%s%s%s:%d/", v6 ? "[" : "", u->host, v6 ? "]" : "", u->port);
    o = n > 0 && (size_t)n < cap - o ? o + (size_t)n : cap - 1;
    encode(out, cap, o, u->vhost);
}
