/* url.c - server URL parsing for the logship command: see url.h. */
#include "url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int url_parse(const char *s, url_t *u, char *err, size_t errlen)
{
    const char *a;
    for (const char *p = s; *p; p++) {
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
            snprintf(err, errlen, "bad character in URL (encode it as %%XX)");
            return -1;
        }
    }
    u->tls = 0;
    if (strncasecmp(s, "http://", 7) == 0) {
        a = s + 7;
    } else if (strncasecmp(s, "ws://", 5) == 0) {
        a = s + 5;
    } else if (strncasecmp(s, "https://", 8) == 0) {
        a = s + 8;
        u->tls = 1;
    } else if (strncasecmp(s, "wss://", 6) == 0) {
        a = s + 6;
        u->tls = 1;
    } else {
        if (strncasecmp(s, "tcp://", 6) == 0 || strncasecmp(s, "tls://", 6) == 0)
            snprintf(err, errlen,
                     "%.6s is for 'logship send' only: expected http://HOST[:PORT] or "
                     "https://HOST[:PORT]",
                     s);
        else
            snprintf(err, errlen,
                     "expected http://HOST[:PORT] or https://HOST[:PORT], not '%.200s'", s);
        return -1;
    }
    size_t alen = strcspn(a, "/?");
    if (!alen || alen >= sizeof u->authority) {
        snprintf(err, errlen, "missing or too long host in URL");
        return -1;
    }
    if (memchr(a, '@', alen)) {
        snprintf(err, errlen, "user names in URLs are not supported");
        return -1;
    }
    memcpy(u->authority, a, alen);
    u->authority[alen] = '\0';
    u->path = a + alen;

    const char *host = u->authority, *colon;
    size_t hlen;
    if (host[0] == '[') {
        const char *close = strchr(host, ']');
        if (!close || (close[1] && close[1] != ':')) {
            snprintf(err, errlen, "bad IPv6 address in URL");
            return -1;
        }
        host++;
        hlen = (size_t)(close - host);
        colon = close[1] ? close + 1 : NULL;
    } else {
        colon = strrchr(host, ':');
        hlen = colon ? (size_t)(colon - host) : alen;
    }
    if (!hlen) {
        snprintf(err, errlen, "missing host in URL");
        return -1;
    }
    memcpy(u->host, host, hlen);
    u->host[hlen] = '\0';
    u->port = u->tls ? 443 : 80;
    if (colon) {
        char *end;
        long port = strtol(colon + 1, &end, 10);
        if (end == colon + 1 || *end || port < 1 || port > 65535) {
            snprintf(err, errlen, "bad port in URL");
            return -1;
        }
        u->port = (int)port;
    }
    return 0;
}
